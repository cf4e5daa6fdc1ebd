#!/usr/bin/env bash
# Builds the ECK test tools from hack/eck (ECK v3.5.0, pinned by its go.mod
# and go.sum) into $1, relative to the repository (e.g. bin/eck-v3.5.0):
#   elastic-operator  ECK's operator, github.com/elastic/cloud-on-k8s/v3/cmd
#   eck-webhook       ECK's validating webhooks served on 127.0.0.1
#   crds.yaml         ECK's CRDs, config/crds/v1/all-crds.yaml of the module
#   webhooks.yaml     ECK's ValidatingWebhookConfiguration, config/webhook/manifests.yaml
# Each is made only when missing.
set -euo pipefail
GO=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/$1
mkdir -p "$out"
cd "$root/hack/eck"
eck=$($GO list -m -f '{{.Path}}@{{.Version}}' github.com/elastic/cloud-on-k8s/v3)
dir=$($GO mod download -json "$eck" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -s "$out/crds.yaml" ] || cp "$dir/config/crds/v1/all-crds.yaml" "$out/crds.yaml"
[ -s "$out/webhooks.yaml" ] || cp "$dir/config/webhook/manifests.yaml" "$out/webhooks.yaml"
chmod 0644 "$out/crds.yaml" "$out/webhooks.yaml"
if [ ! -x "$out/elastic-operator" ]; then
	CGO_ENABLED=0 $GO build -trimpath -ldflags "-s -w" -o "$out/elastic-operator" github.com/elastic/cloud-on-k8s/v3/cmd
fi
if [ ! -x "$out/eck-webhook" ]; then
	CGO_ENABLED=0 $GO build -trimpath -ldflags "-s -w" -o "$out/eck-webhook" ./webhook
fi
echo "ECK test tools ($eck) in $out"
