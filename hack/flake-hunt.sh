#!/usr/bin/env bash
# Runs the suites most exposed to timing (envtest, the simulated cluster,
# functional HTTP with the analytics fault tests, the ClickHouse sink and
# relay, the chart) RUNS times while a bounded CPU hog keeps every core busy,
# then lists each test that failed at least once with how often. Exits
# non-zero when any failed.
#
# The hog is one busy loop per core, each under `timeout`, and is killed on
# exit: it cannot outlive the hunt.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
GO=${GO:-go}
runs=${FLAKE_RUNS:-5}
hog_seconds=${FLAKE_HOG_SECONDS:-5400}
out=$(mktemp -d)

hogs=()
for _ in $(seq "$(nproc)"); do
	timeout "$hog_seconds" sh -c 'while :; do :; done' &
	hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null; wait 2>/dev/null' EXIT

# names lists the failed tests of one log: Go tests print
# "--- FAIL: TestName/sub (1.2s)"; Ginkgo specs print
# "[FAIL] Container [It] spec" in their summary.
names() {
	sed -nE -e 's/^[[:space:]]*--- FAIL: ([^ ]+).*/\1/p' -e 's/^[[:space:]]*\[FAIL\] (.*)$/\1/p' "$@"
}

declare -A suites=(
	[envtest]="./controllers/ugcstack/ -ginkgo.no-color"
	[functional]="./test/functional/"
	[analytics]="./ugc-service/clickhouse/... ./ugc-service/relay/..."
	[chart]="./test/chart/"
	[cluster]="./test/cluster/ -ginkgo.no-color"
)
echo "flake hunt: ${runs} run(s) of ${!suites[*]} beside $(nproc) busy loop(s); logs in $out"
for i in $(seq "$runs"); do
	for s in "${!suites[@]}"; do
		start=$SECONDS
		log="$out/$s.$i.log"
		# shellcheck disable=SC2086 # the package list is meant to split
		if $GO test -count=1 -v ${suites[$s]} >"$log" 2>&1; then
			verdict=ok
		else
			verdict=FAIL
			# A failure that names no test (a build error, a panic in
			# setup) still counts, under the suite's name.
			names "$log" | grep -q . || echo "--- FAIL: $s(no-test-named:$log)" >>"$log"
		fi
		printf '  run %d %-10s %-4s %3ds\n' "$i" "$s" "$verdict" $((SECONDS - start))
	done
done

failures=$(names "$out"/*.log | sort | uniq -c | sort -rn)
if [ -z "$failures" ]; then
	echo "flake hunt: no test failed in ${runs} loaded run(s) of each suite"
	exit 0
fi
echo "flake hunt: tests that failed (count out of ${runs} runs):"
echo "$failures"
exit 1
