# Storage research (research/, its own Go module): see research/README.md.
RESEARCH_GO      ?= $(GO)
RESEARCH_SCALE   ?= 0.02
RESEARCH_DUR     ?= 3s
RESEARCH_WARMUP  ?= 1s
RESEARCH_CONC    ?= 4

EXTRA_TEST_TARGETS += test-research

##@ Storage research

.PHONY: research-deps
research-deps: ## Install PostgreSQL 15, Redis and ClickHouse with apt-get when missing (idempotent; root).
	@missing=""; \
	  [ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$$missing postgresql-15"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  [ -x /usr/sbin/clickhouse-server ] || missing="$$missing clickhouse-server"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	    for s in postgresql redis-server clickhouse-server; do service $$s stop >/dev/null 2>&1 || true; done; \
	  else echo "research deps present"; fi

.PHONY: test-research
test-research: research-deps ## Storage research: unit tests and every backend's correctness suite against real local servers.
	cd research && $(RESEARCH_GO) vet ./... && $(RESEARCH_GO) test -count=1 ./...

.PHONY: research
research: research-deps ## Run generate + read on every backend installed locally and write research/RESULTS.md.
	cd research && $(RESEARCH_GO) build -o $(BIN)/ugc-research ./cmd/ugc-research
	cd research && $(BIN)/ugc-research local --scale $(RESEARCH_SCALE) --duration $(RESEARCH_DUR) \
	  --warmup $(RESEARCH_WARMUP) --concurrency $(RESEARCH_CONC) --write-rate 1000 --out RESULTS.md
