##@ Operator

CONTROLLER_GEN_VERSION := v0.23.0
GOCYCLO_VERSION        := v0.6.0
CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
ENVTEST_BINS   := $(BIN)/k8s
# ECK's version is pinned once, by hack/eck/go.mod.
ECK_VERSION    := $(shell awk '$$1 == "github.com/elastic/cloud-on-k8s/v3" {print $$2}' hack/eck/go.mod)
ECK_BINS       := $(BIN)/eck-$(ECK_VERSION)

EXTRA_TEST_TARGETS += test-operator test-cluster

$(CONTROLLER_GEN):
	GOBIN=$(BIN)/.cg $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN)/.cg/controller-gen $@ && rmdir $(BIN)/.cg

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the UGCStack CRD and the operator's RBAC role into config/.
	$(CONTROLLER_GEN) rbac:roleName=ugcstack-manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods for the API types.
	$(CONTROLLER_GEN) object paths="./api/..."

.PHONY: envtest-bins
envtest-bins: ## Build kube-apiserver v1.37.2 and etcd v3.6.16 for envtest into bin/k8s (once; 936 s measured cold on 2 shared cores).
	@[ -x $(ENVTEST_BINS)/kube-apiserver ] && [ -x $(ENVTEST_BINS)/etcd ] || GO=$(GO) ./hack/k8s-bins.sh bin/k8s kube-apiserver etcd

.PHONY: cluster-bins
cluster-bins: envtest-bins ## Build kube-controller-manager, kube-scheduler (v1.37.2) and kwok (v0.8.0) with its stages into bin/k8s (once; 2 min 50 s measured with a warm module cache).
	@[ -x $(ENVTEST_BINS)/kube-controller-manager ] && [ -x $(ENVTEST_BINS)/kube-scheduler ] && [ -x $(ENVTEST_BINS)/kwok ] && [ -s $(ENVTEST_BINS)/kwok-stages.yaml ] || GO=$(GO) ./hack/k8s-bins.sh bin/k8s kube-controller-manager kube-scheduler kwok

.PHONY: eck-bins
eck-bins: ## Build ECK's operator and a loopback server for its webhooks, and copy its CRDs, from hack/eck's pinned module into bin/ (test tools, never shipped; once).
	@[ -x $(ECK_BINS)/elastic-operator ] && [ -x $(ECK_BINS)/eck-webhook ] && [ -s $(ECK_BINS)/crds.yaml ] && [ -s $(ECK_BINS)/webhooks.yaml ] || \
		GO=$(GO) ./hack/eck-bins.sh bin/eck-$(ECK_VERSION)

.PHONY: test-cluster
test-cluster: cluster-bins eck-bins $(BIN)/helm ## The operator, as the chart's ServiceAccount, beside the real ECK operator on a simulated cluster: envtest + controller manager + scheduler + kwok.
	KUBEBUILDER_ASSETS=$(ENVTEST_BINS) UGC_ECK_ASSETS=$(ECK_BINS) UGC_HELM=$(BIN)/helm $(GO) test -count=1 -timeout 20m ./test/cluster/

.PHONY: cyclo
cyclo: ## Fail when a function in controllers/ (tests included) has cyclomatic complexity over 15.
	$(GO) run github.com/fzipp/gocyclo/cmd/gocyclo@$(GOCYCLO_VERSION) -over 15 ./controllers

.PHONY: test-operator
test-operator: envtest-bins eck-bins $(CONTROLLER_GEN) cyclo ## Fail when generated code or manifests differ from a fresh generation, then run the operator unit + envtest suites (ECK's real CRDs).
	@# The working tree before and after generating: uncommitted edits that
	@# are already generated pass; stale output fails (and is now updated).
	@before=$$(mktemp -d) && cp -r api config "$$before"/ && \
	  $(MAKE) -s manifests generate >/dev/null && \
	  if diff -r "$$before"/api api >/dev/null && diff -r "$$before"/config config >/dev/null; then rm -rf "$$before"; else \
	    diff -ru "$$before"/api api; diff -ru "$$before"/config config; rm -rf "$$before"; \
	    echo "generated code or manifests were stale: 'make manifests generate' has updated them; review and commit"; exit 1; fi
	KUBEBUILDER_ASSETS=$(ENVTEST_BINS) UGC_ECK_ASSETS=$(ECK_BINS) $(GO) test -count=1 $(call cover,operator) ./api/... ./controllers/...

.PHONY: run-operator
run-operator: manifests ## Run the operator against the current kubeconfig's cluster.
	$(GO) run . --leader-elect=false
