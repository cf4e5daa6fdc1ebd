# Storage research (research/, its own Go module): see research/README.md.
RESEARCH_GO      ?= $(GO)
RESEARCH_SCALE   ?= 0.02
RESEARCH_DUR     ?= 3s
RESEARCH_WARMUP  ?= 1s
RESEARCH_CONC    ?= 4
# The default-scale run (make research-scale1): seconds per path and warm-up.
RESEARCH_SCALE1_DUR    ?= 10s
RESEARCH_SCALE1_WARMUP ?= 2s
RESEARCH_SCALE1_DIR    := bin/research-scale1
# chDB: ClickHouse's current engine as a library, from npm (the package ships
# libchdb.so, ~566 MB unpacked, ~178 MB to download); chdb-go loads it from
# CHDB_LIB_PATH. The version is pinned; the directory is git-ignored.
CHDB_VERSION     ?= 26.7.3-stable.1
CHDB_LIB         := $(BIN)/chdb-$(CHDB_VERSION)/libchdb.so
RESEARCH_ENV     := CHDB_LIB_PATH=$(CHDB_LIB)

EXTRA_TEST_TARGETS += test-research

##@ Storage research

.PHONY: research-deps
research-deps: ## Install the distribution's PostgreSQL, Redis and ClickHouse when missing (through sudo when not root; idempotent).
	@missing=""; \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	  [ -x /usr/sbin/clickhouse-server ] || missing="$$missing clickhouse-server"; \
	  if [ -n "$$missing" ]; then ./hack/apt-install.sh $$missing; else echo "research deps present"; fi

# npm pack checks the tarball against the registry's integrity hash; the
# library is unpacked beside and renamed into place, so an interrupted
# download never leaves a partial libchdb.so behind.
$(CHDB_LIB):
	rm -rf $(@D).tmp && mkdir -p $(@D).tmp
	cd $(@D).tmp && npm pack --silent @chdb/lib-linux-x64-gnu@$(CHDB_VERSION) >/dev/null \
	  && tar xzf chdb-lib-linux-x64-gnu-$(CHDB_VERSION).tgz package/libchdb.so && mv package/libchdb.so . \
	  && rm -rf package chdb-lib-linux-x64-gnu-$(CHDB_VERSION).tgz
	rm -rf $(@D) && mv $(@D).tmp $(@D)

.PHONY: research-chdb
research-chdb: $(CHDB_LIB) ## Fetch libchdb.so (ClickHouse 26.x in-process) from npm into bin/ (seconds on a fast link).

.PHONY: test-research
test-research: research-deps research-chdb ## Storage research: unit tests and every backend's correctness suite (uniform and hot-film data) against real local servers and chDB.
	cd research && $(RESEARCH_GO) vet ./... && $(RESEARCH_ENV) $(RESEARCH_GO) test -count=1 ./...

.PHONY: research-build
research-build:
	cd research && $(RESEARCH_GO) build -o $(BIN)/ugc-research ./cmd/ugc-research

.PHONY: research
research: research-deps research-chdb research-build ## Quick run (scale 0.02, minutes) of generate + read on every local store; writes research/RESULTS.md.
	cd research && $(RESEARCH_ENV) $(BIN)/ugc-research local --scale $(RESEARCH_SCALE) --duration $(RESEARCH_DUR) \
	  --warmup $(RESEARCH_WARMUP) --concurrency $(RESEARCH_CONC) --write-rate 1000 --out RESULTS.md

# The default dataset (18M rows per store and workload) takes tens of
# minutes, so it runs in the background, logs to bin/research-scale1/log and
# saves each store's result to bin/research-scale1/state.json as it
# finishes: rerunning the target resumes, skipping what is saved. Remove
# that directory to measure everything again.
.PHONY: research-scale1
research-scale1: research-deps research-chdb research-build ## Start the default-scale run (uniform and hot film, every local store) in the background; writes research/RESULTS-scale1.md.
	@mkdir -p $(RESEARCH_SCALE1_DIR)
	@if [ -f $(RESEARCH_SCALE1_DIR)/pid ] && kill -0 $$(cat $(RESEARCH_SCALE1_DIR)/pid) 2>/dev/null; then \
	  echo "already running (pid $$(cat $(RESEARCH_SCALE1_DIR)/pid)): tail -f $(RESEARCH_SCALE1_DIR)/log"; exit 1; fi
	@cd research || exit 1; \
	  $(RESEARCH_ENV) nohup $(BIN)/ugc-research local --scale 1 --duration $(RESEARCH_SCALE1_DUR) \
	  --warmup $(RESEARCH_SCALE1_WARMUP) --concurrency $(RESEARCH_CONC) --write-rate 1000 --workloads uniform,zipf:1.1 \
	  --state ../$(RESEARCH_SCALE1_DIR)/state.json --out RESULTS-scale1.md >>../$(RESEARCH_SCALE1_DIR)/log 2>&1 </dev/null & \
	  echo $$! >../$(RESEARCH_SCALE1_DIR)/pid; \
	  echo "started (pid $$!); follow it with: tail -f $(RESEARCH_SCALE1_DIR)/log"
