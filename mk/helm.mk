##@ Helm chart and e2e

CHART := charts/ugcstack

EXTRA_TEST_TARGETS += test-chart

# helm's own Makefile stamps its version and the Kubernetes version that
# `helm lint` and `helm template` assume when no cluster is asked (one above
# its client-go's 0.x minor); unstamped they assume 1.20 and refuse the
# chart's kubeVersion.
$(BIN)/helm: tools/helm/go.mod
	@v=$$(awk '$$1 == "helm.sh/helm/v3" {print $$2}' tools/helm/go.mod); \
	  k=$$(awk '$$1 == "k8s.io/client-go" {split($$2, p, "."); print p[2]}' tools/helm/go.mod); \
	  echo "building helm $$v (Kubernetes 1.$$k) into bin/"; \
	  cd tools/helm && $(GO) build -trimpath -o $@ -ldflags "-s -w \
	    -X helm.sh/helm/v3/internal/version.version=$$v \
	    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$$k \
	    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$$k" \
	    helm.sh/helm/v3/cmd/helm

.PHONY: helm
helm: $(BIN)/helm ## Build the pinned helm (tools/helm/go.mod) into bin/ (about 2 min cold).

.PHONY: helm-lint
helm-lint: $(BIN)/helm ## helm lint --strict the chart, with default values and with the demo stack on.
	$(BIN)/helm lint --strict $(CHART)
	$(BIN)/helm lint --strict $(CHART) --set stack.enabled=true,stack.logging.enabled=true,stack.gateway.enabled=true

lint: helm-lint

.PHONY: chart-crds
chart-crds: chart-rbac ## Copy config/crd/bases into the chart's crds/ with their schema digest, and the manager's RBAC rules (after `make manifests`).
	rm -f $(CHART)/crds/*.yaml
	for f in config/crd/bases/*.yaml; do \
	  d=$$(sha256sum "$$f" | cut -c1-16); \
	  sed "/^    controller-gen.kubebuilder.io\/version:/a\    ugc.ugcstack.io/schema-digest: \"$$d\"" "$$f" > $(CHART)/crds/$$(basename "$$f"); \
	done

.PHONY: chart-rbac
chart-rbac: ## Copy the rules of config/rbac/role.yaml into the chart's ClusterRole (files/manager-rules.yaml).
	@mkdir -p $(CHART)/files
	{ echo "# Copied from config/rbac/role.yaml by \`make chart-rbac\`; edit the +kubebuilder:rbac markers instead."; \
	  sed -n '/^rules:$$/,$$p' config/rbac/role.yaml | tail -n +2; } > $(CHART)/files/manager-rules.yaml

.PHONY: test-chart
test-chart: $(BIN)/helm ## Chart tests: lint, rendering, values schema, CRD and RBAC drift against config/.
	UGC_HELM=$(BIN)/helm $(GO) test -count=1 ./test/chart/

E2E_TIMEOUT ?= 45m
# The upgrade specs run only in their own phases (E2E_LABELS=upgrade-before
# or upgrade-after, with UGC_E2E_UPGRADE set: .github/workflows/e2e.yml).
E2E_LABELS ?= !upgrade

.PHONY: e2e
e2e: ## The e2e suite against the current kubeconfig's cluster (kind, chart installed); fails when none is reachable.
	UGC_E2E=1 $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/e2e/ -args -ginkgo.v -ginkgo.label-filter='$(E2E_LABELS)'

.PHONY: e2e-artifacts
e2e-artifacts: ## After a failed e2e run: kind's logs, events, and every pod's logs and description in the test, ECK and operator namespaces, into e2e-artifacts/.
	./hack/e2e-artifacts.sh e2e-artifacts
