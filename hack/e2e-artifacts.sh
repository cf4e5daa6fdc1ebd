#!/usr/bin/env bash
# e2e-artifacts.sh DIR: what a failed kind e2e run leaves to read, into
# DIR: kind's own logs (kubelet, containerd, control plane), every object
# and event, and for the test namespaces (ugc-e2e-*), ECK's
# (elastic-system) and the operator's (ugcstack-system) the description of
# every object and the logs of every pod, previous containers included.
# Best effort: a step that fails is noted and the rest still runs.
set -uo pipefail
out=${1:?usage: e2e-artifacts.sh DIR}
cluster=${KIND_CLUSTER:-ugcstack}
kind=${KIND:-bin/kind}
mkdir -p "$out"
"$kind" export logs "$out/kind" --name "$cluster" >"$out/kind-export.txt" 2>&1 || echo "kind export logs failed" >>"$out/errors.txt"
kubectl get ugcstacks,all,pvc,networkpolicies -A -o wide >"$out/objects.txt" 2>&1
kubectl get events -A --sort-by=.lastTimestamp >"$out/events.txt" 2>&1
for ns in $(kubectl get ns -o jsonpath='{.items[*].metadata.name}'); do
	case "$ns" in
	ugc-e2e-* | elastic-system | ugcstack-system) ;;
	*) continue ;;
	esac
	kubectl -n "$ns" describe all,ugcstacks,pvc,networkpolicies >"$out/describe-$ns.txt" 2>&1
	kubectl -n "$ns" describe elasticsearches,kibanas,logstashes,beats >>"$out/describe-$ns.txt" 2>&1
	for pod in $(kubectl -n "$ns" get pods -o jsonpath='{.items[*].metadata.name}'); do
		kubectl -n "$ns" logs "$pod" --all-containers --prefix --tail=5000 >"$out/logs-$ns-$pod.txt" 2>&1
		kubectl -n "$ns" logs "$pod" --all-containers --prefix --previous --tail=5000 >"$out/logs-$ns-$pod-previous.txt" 2>/dev/null || rm -f "$out/logs-$ns-$pod-previous.txt"
	done
done
echo "e2e artifacts in $out"
