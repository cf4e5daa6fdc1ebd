#!/usr/bin/env bash
# Builds Kubernetes test binaries from the Go module proxy into $1 (relative
# to the repository, e.g. bin/k8s), each named after it is missing:
#   kube-apiserver, kube-controller-manager, kube-scheduler  k8s.io/kubernetes v1.37.2,
#     from one throwaway module with kubernetes' staging replaces
#   etcd                                                     go.etcd.io/etcd/server/v3 v3.6.16
#   kwok                                                     sigs.k8s.io/kwok v0.8.0, with
#     kwok-stages.yaml: the fast node and pod stages its module ships
set -euo pipefail
K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
GO=${GO:-go}
out=$(cd "$(dirname "$0")/.." && pwd)/$1
shift
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kube=()
for b in "$@"; do
	case "$b" in
	kube-*) [ -x "$out/$b" ] || kube+=("$b") ;;
	etcd | kwok) ;;
	*) echo "k8s-bins.sh: unknown binary $b" >&2; exit 2 ;;
	esac
done

if [ ${#kube[@]} -gt 0 ]; then
	mkdir -p "$work/kubernetes" && cd "$work/kubernetes"
	$GO mod init test/kubernetes >/dev/null 2>&1
	gomod=$($GO mod download -json k8s.io/kubernetes@$K8S_VERSION | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		echo "require k8s.io/kubernetes $K8S_VERSION"
		awk -v v="$STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\/src\/k8s.io\// {print "replace " $1 " => " $1 " " v}' "$gomod"
		for b in "${kube[@]}"; do echo "tool k8s.io/kubernetes/cmd/$b"; done
	} >>go.mod
	$GO mod tidy >/dev/null
	for b in "${kube[@]}"; do
		CGO_ENABLED=0 $GO build -trimpath -o "$out/$b" -ldflags "-s -w \
			-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
			-X k8s.io/component-base/version.gitMajor=1 \
			-X k8s.io/component-base/version.gitMinor=37" "k8s.io/kubernetes/cmd/$b"
	done
fi

for b in "$@"; do
	case "$b" in
	etcd)
		[ -x "$out/etcd" ] && continue
		# Its root package is main and carries replaces: go install refuses it.
		mkdir -p "$work/etcd" && cd "$work/etcd"
		$GO mod init test/etcd >/dev/null 2>&1
		printf 'require go.etcd.io/etcd/server/v3 %s\ntool go.etcd.io/etcd/server/v3\n' "$ETCD_VERSION" >>go.mod
		$GO mod tidy >/dev/null
		CGO_ENABLED=0 $GO build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
		;;
	kwok)
		if [ ! -x "$out/kwok" ]; then
			GOBIN="$work/bin" CGO_ENABLED=0 $GO install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
			mv "$work/bin/kwok" "$out/kwok"
		fi
		if [ ! -s "$out/kwok-stages.yaml" ]; then
			stages=$($GO mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
			for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
				cat "$stages/$f"
				echo "---"
			done >"$out/kwok-stages.yaml"
		fi
		;;
	esac
done
echo "$* in $out"
