# ugcstack — run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
# A development secret for `make run` and `make token` only; production
# deployments get theirs from a Kubernetes Secret.
DEV_JWT_SECRET ?= ugcstack-development-secret-change-me-0001
FUZZTIME  ?= 10s

export UGC_JWT_SECRET ?= $(DEV_JWT_SECRET)

# COVERAGE=1 makes the unit and envtest targets write a coverage profile
# each into coverage/ as they run (CI uploads them): the tests run once.
cover = $(if $(COVERAGE),-coverprofile=$(CURDIR)/coverage/$(1).out)
ifneq ($(COVERAGE),)
$(shell mkdir -p coverage)
endif

# Each area of the repository keeps its targets in mk/<area>.mk and adds its
# test targets to EXTRA_TEST_TARGETS, which `make test` runs after the API's.
EXTRA_TEST_TARGETS :=
-include $(sort $(wildcard mk/*.mk))

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^##@ / {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Run

.PHONY: run
run: ## Start the API on 127.0.0.1:8080 with the embedded store in ./data.
	$(GO) run ./ugc-service/cmd/ugc serve

.PHONY: token
token: ## Mint a 1h development token (SUB=<uuid>, default a random user).
	@$(GO) run ./ugc-service/cmd/ugc token --sub $${SUB:-$$(cat /proc/sys/kernel/random/uuid)}

.PHONY: build
build: ## Build the ugc binary into bin/.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ugc ./ugc-service/cmd/ugc

##@ Test

.PHONY: test
test: fmt-check vet test-unit test-ferretdb fuzz $(EXTRA_TEST_TARGETS) ## Everything CI runs: format, vet, unit, store, functional, FerretDB wire and fuzz tests, then each area's.

.PHONY: check
check: fmt-check vet ## The fast loop, about a minute warm: format, vet, and every test needing no server, root or cluster (go test -short: unit, store contract and functional suites on the embedded store).
	$(GO) test -short -count=1 ./...

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a file.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: ## go vet every package.
	$(GO) vet ./...

.PHONY: deps
deps: ## Install the Debian packages the tests run for real (nginx; node, which runs mongod's readiness script), through sudo when not root; idempotent.
	@missing=""; \
	  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	  command -v node >/dev/null || missing="$$missing nodejs"; \
	  ./hack/apt-install.sh $$missing

.PHONY: test-unit
test-unit: deps ## Unit, store-suite (SQLite) and functional HTTP tests, the gateway ones through a real nginx.
	$(GO) test -count=1 $(call cover,unit) ./...

.PHONY: test-race
test-race: ## The same tests under the race detector.
	$(GO) test -race -count=1 ./...

# -mod=mod: the FerretDB module follows the root go.mod through its replace,
# so a change there may need requirement bumps that a tidy would make.
.PHONY: test-ferretdb
test-ferretdb: ## The MongoDB store's suite over the wire against embedded FerretDB.
	cd test/ferretdb && $(GO) test -mod=mod -tags ferretdb_no_postgresql -count=1 ./...

.PHONY: fuzz
fuzz: ## Short fuzz runs of cursor parsing and request decoding (FUZZTIME=10s each).
	$(GO) test -run '^$$' -fuzz '^FuzzParseCursor$$' -fuzztime $(FUZZTIME) ./ugc-service/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./ugc-service/http/

##@ Benchmarks

.PHONY: bench
bench: bench-relay ## Preload 1M ratings into the embedded store, then load each endpoint over loopback (about 2 min load + preload); then bench-relay's throughput and lag.
	$(GO) run ./test/load

.PHONY: bench-store
bench-store: ## Go micro-benchmarks of the SQLite store.
	$(GO) test -run '^$$' -bench . -benchmem ./ugc-service/sqlite/
