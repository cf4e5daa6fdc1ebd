##@ Analytics

.PHONY: analytics-deps
analytics-deps: ## Install Debian's clickhouse-server and zookeeper (for the cluster test), which the tests start on 127.0.0.1; idempotent.
	@[ -x /usr/sbin/clickhouse-server ] && [ -x /usr/share/zookeeper/bin/zkServer.sh ] || \
		./hack/apt-install.sh clickhouse-server zookeeper

# The API's functional tests include the analytics fault tests, so the
# unit target needs the server too.
test-unit test-race: analytics-deps

.PHONY: test-analytics
test-analytics: analytics-deps ## The ClickHouse sink, the relay and the outage/crash tests against a real clickhouse-server.
	$(GO) test -count=1 ./ugc-service/clickhouse/... ./ugc-service/relay/...
	$(GO) test -count=1 -run 'Analytics' ./test/functional/

.PHONY: bench-relay
bench-relay: analytics-deps ## Relay throughput into a real ClickHouse, and event lag under a steady 1,000 writes/s (about 1 min).
	$(GO) run ./test/load/relay
