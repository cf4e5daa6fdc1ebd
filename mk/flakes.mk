##@ Flakes

FLAKE_RUNS ?= 5

.PHONY: flake-hunt
flake-hunt: deps analytics-deps cluster-bins $(BIN)/helm ## Run the envtest, simulated-cluster, functional, analytics and chart suites FLAKE_RUNS times (default 5) beside a bounded CPU hog; list each test that failed with its count.
	FLAKE_RUNS=$(FLAKE_RUNS) GO=$(GO) KUBEBUILDER_ASSETS=$(ENVTEST_BINS) UGC_HELM=$(BIN)/helm ./hack/flake-hunt.sh
