#!/usr/bin/env bash
# Builds what turns envtest's API server into a simulated cluster, into $1
# (default bin/k8s): kube-controller-manager and kube-scheduler v1.37.2 from
# the same module as kube-apiserver (hack/envtest-bins.sh), and kwok v0.8.0
# with its stage configs (simulated nodes and pods). Skips what is there.
set -euo pipefail
K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
KWOK_VERSION=v0.8.0
GO=${GO:-go}
out=$(cd "$(dirname "$0")/.." && pwd)/${1:-bin/k8s}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

missing=()
for b in kube-controller-manager kube-scheduler; do
	[ -x "$out/$b" ] || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
	mkdir -p "$work/k8s" && cd "$work/k8s"
	$GO mod init envtest/cluster >/dev/null 2>&1
	gomod=$($GO mod download -json k8s.io/kubernetes@$K8S_VERSION | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		echo "require k8s.io/kubernetes $K8S_VERSION"
		awk -v v="$STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\/src\/k8s.io\// {print "replace " $1 " => " $1 " " v}' "$gomod"
		for b in "${missing[@]}"; do echo "tool k8s.io/kubernetes/cmd/$b"; done
	} >>go.mod
	$GO mod tidy >/dev/null
	for b in "${missing[@]}"; do
		CGO_ENABLED=0 $GO build -trimpath -o "$out/$b" -ldflags "-s -w \
			-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
			-X k8s.io/component-base/version.gitMajor=1 \
			-X k8s.io/component-base/version.gitMinor=37" "k8s.io/kubernetes/cmd/$b"
	done
fi

if [ ! -x "$out/kwok" ]; then
	GOBIN="$work/bin" CGO_ENABLED=0 $GO install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
	mv "$work/bin/kwok" "$out/kwok"
fi
# The fast node and pod stages kwok's module ships: nodes turn Ready, pods
# are scheduled, Running and Ready (Jobs' pods Succeeded) at once.
if [ ! -s "$out/kwok-stages.yaml" ]; then
	stages=$($GO mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
	for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		cat "$stages/$f"
		echo "---"
	done >"$out/kwok-stages.yaml"
fi
echo "cluster binaries in $out"
