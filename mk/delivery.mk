##@ Delivery

VERSION ?= dev
IMAGE_REPO ?= ghcr.io/ugcstack

$(BIN)/golangci-lint: tools/golangci-lint/go.mod
	cd tools/golangci-lint && $(GO) build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

$(BIN)/deadcode: tools/deadcode/go.mod
	cd tools/deadcode && $(GO) build -o $@ golang.org/x/tools/cmd/deadcode

$(BIN)/actionlint: tools/actionlint/go.mod
	cd tools/actionlint && $(GO) build -o $@ github.com/rhysd/actionlint/cmd/actionlint

.PHONY: lint
lint: lint-go lint-actions lint-shell deadcode ## golangci-lint (with gofumpt and goimports), actionlint, shellcheck, deadcode, and helm lint when the chart exists.

.PHONY: deadcode
deadcode: $(BIN)/deadcode ## Fail on functions nothing reaches, tests included, in every Go module (golang.org/x/tools deadcode -test, pinned in tools/deadcode).
	@# A module that does not load fails too, instead of reporting nothing.
	@out=$$($(BIN)/deadcode -test ./... && \
	  cd research && $(BIN)/deadcode -test ./... && \
	  cd ../test/ferretdb && GOFLAGS=-mod=mod $(BIN)/deadcode -test -tags ferretdb_no_postgresql ./...) || exit 1; \
	  if [ -n "$$out" ]; then echo "$$out"; echo "dead code: remove it, or use it"; exit 1; fi

.PHONY: lint-go
lint-go: $(BIN)/golangci-lint ## golangci-lint over every Go module: the product, the storage research, the FerretDB wire tests.
	$(BIN)/golangci-lint run ./...
	cd research && $(BIN)/golangci-lint run ./...
	cd test/ferretdb && GOFLAGS=-mod=mod $(BIN)/golangci-lint run --build-tags ferretdb_no_postgresql ./...

.PHONY: lint-shell
lint-shell: ## shellcheck over the repository's shell scripts (hack/, .ci/run).
	@command -v shellcheck >/dev/null || ./hack/apt-install.sh shellcheck
	shellcheck hack/*.sh .ci/run

# actionlint runs shellcheck on every run: step when shellcheck is on PATH,
# as it is on GitHub's runners; without it those checks are silently off.
.PHONY: lint-actions
lint-actions: $(BIN)/actionlint ## actionlint over .github/workflows, with shellcheck (Debian's, installed when missing) on the run: steps.
	@command -v shellcheck >/dev/null || ./hack/apt-install.sh shellcheck
	$(BIN)/actionlint -shellcheck "$$(command -v shellcheck)"

EXTRA_TEST_TARGETS += lint-actions

.PHONY: docker-build
docker-build: ## Build the ugc and operator images (needs a Docker engine).
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || \
		{ echo "docker-build: no Docker engine is reachable here; the Dockerfile's build commands are tested by test/delivery instead"; exit 1; }
	docker build --target ugc --build-arg VERSION=$(VERSION) -t $(IMAGE_REPO)/ugc:$(VERSION) .
	docker build --target operator --build-arg VERSION=$(VERSION) -t $(IMAGE_REPO)/ugcstack-operator:$(VERSION) .
