#!/usr/bin/env bash
# Builds kube-apiserver and etcd for envtest from the Go module proxy into
# $1 (default bin/k8s). Skips a binary that is already there.
set -euo pipefail
K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.6.16
GO=${GO:-go}
out=$(cd "$(dirname "$0")/.." && pwd)/${1:-bin/k8s}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$out/kube-apiserver" ]; then
	mkdir -p "$work/apiserver" && cd "$work/apiserver"
	$GO mod init envtest/kube-apiserver >/dev/null 2>&1
	modjson=$($GO mod download -json k8s.io/kubernetes@$K8S_VERSION)
	gomod=$(printf '%s' "$modjson" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		echo "require k8s.io/kubernetes $K8S_VERSION"
		awk -v v="$STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\/src\/k8s.io\// {print "replace " $1 " => " $1 " " v}' "$gomod"
		echo "tool k8s.io/kubernetes/cmd/kube-apiserver"
	} >>go.mod
	$GO mod tidy >/dev/null
	CGO_ENABLED=0 $GO build -trimpath -o "$out/kube-apiserver" -ldflags "-s -w \
		-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
		-X k8s.io/component-base/version.gitMajor=1 \
		-X k8s.io/component-base/version.gitMinor=37" k8s.io/kubernetes/cmd/kube-apiserver
fi

if [ ! -x "$out/etcd" ]; then
	mkdir -p "$work/etcd" && cd "$work/etcd"
	$GO mod init envtest/etcd >/dev/null 2>&1
	{
		echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
		echo "tool go.etcd.io/etcd/server/v3"
	} >>go.mod
	$GO mod tidy >/dev/null
	CGO_ENABLED=0 $GO build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
fi
echo "envtest binaries in $out"
