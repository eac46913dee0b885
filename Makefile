# Bulkhead: multi-tenancy for Kubernetes. `make help` lists the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

K8S_VERSION    := $(shell awk '$$1=="k8s.io/kubernetes"{print $$2}' hack/k8s/go.mod)
K8S_BIN        := $(CURDIR)/bin/k8s/$(K8S_VERSION)
TOOLS_BIN      := $(CURDIR)/bin/tools
CONTROLLER_TOOLS_VERSION := v0.21.0
CONTROLLER_GEN := $(TOOLS_BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT  := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# kube-api-linter has no releases; this pseudo-version is the pinned commit.
KAL_VERSION    := v0.0.0-20260716143926-092fe0c72997
KAL            := $(TOOLS_BIN)/golangci-kal-$(KAL_VERSION)
HELM_VERSION   := v4.3.2
HELM           := $(TOOLS_BIN)/helm-$(HELM_VERSION)
GO_TEST_FLAGS ?=
# The suites that start a control plane. devcluster's own tests of starting
# one skip without BULKHEAD_K8S_BIN, which test-unit leaves empty.
INTEGRATION_PKG := ./test/integration/...
E2E_PKG         := ./test/e2e/... ./test/crash/... ./internal/devcluster/...

export BULKHEAD_K8S_BIN := $(K8S_BIN)
export BULKHEAD_HELM    := $(HELM)

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: generate ## Build bulkhead-manager, bulkhead-proxy, bulkhead-dns and the kubectl plugin kubectl-bulkhead into bin/.
	go build -o bin/bulkhead-manager ./cmd/bulkhead-manager
	go build -o bin/bulkhead-proxy ./cmd/bulkhead-proxy
	go build -o bin/bulkhead-dns ./cmd/bulkhead-dns
	go build -o bin/kubectl-bulkhead ./cmd/kubectl-bulkhead

.PHONY: k8s
k8s: ## Build the pinned control plane (etcd, kube-*, kwok) into bin/k8s/<version>/ once.
	./hack/k8s/build.sh

# go-install installs module $(1) at version $(2) as $(3), through a
# directory of its own so that two checkouts sharing bin/tools cannot
# overwrite each other's half-written binary.
define go-install
	@mkdir -p $(TOOLS_BIN)
	tmp=$$(mktemp -d $(TOOLS_BIN)/.install-XXXXXX); \
	trap 'rm -rf "$$tmp"' EXIT; \
	GOBIN=$$tmp go install $(1)@$(2); \
	mv "$$tmp/$$(basename $(1))" $(3)
endef

$(CONTROLLER_GEN):
	$(call go-install,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION),$@)

$(GOLANGCI_LINT):
	$(call go-install,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION),$@)

$(KAL):
	$(call go-install,sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter,$(KAL_VERSION),$@)

# Helm renders charts/bulkhead in the tests; built from the module proxy.
$(HELM):
	$(call go-install,helm.sh/helm/v4/cmd/helm,$(HELM_VERSION),$@)

.PHONY: tools
tools: $(CONTROLLER_GEN) $(GOLANGCI_LINT) $(KAL) $(HELM) ## Install the pinned code generator, linters and Helm into bin/tools/.

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for api/.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and the manager's RBAC under config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=bulkhead-manager paths=./internal/... output:rbac:artifacts:config=config/rbac
	@# The Helm chart carries the same CRDs and role (a test compares the rest).
	rm -f charts/bulkhead/crds/*.yaml
	cp config/crd/bases/*.yaml charts/bulkhead/crds/
	cp config/rbac/role.yaml charts/bulkhead/files/role.yaml

##@ Test

.PHONY: test
test: test-unit test-integration test-e2e bench-smoke ## Run every tier: unit, integration, end-to-end, and each benchmark at a tiny size.

.PHONY: test-unit
test-unit: ## Run the unit tests: no control plane, no binaries.
	BULKHEAD_K8S_BIN= go test -count=1 $(GO_TEST_FLAGS) $$(go list ./... | grep -v -e /test/integration -e /test/e2e -e /test/crash)

.PHONY: test-integration
test-integration: k8s generate manifests $(HELM) ## Run the integration suites on a kube-apiserver and etcd.
	go test -count=1 -timeout 30m $(GO_TEST_FLAGS) $(INTEGRATION_PKG)

.PHONY: test-e2e
test-e2e: k8s generate manifests ## Run the end-to-end suites on a dev cluster: adds controller-manager, scheduler, kwok nodes.
	go test -p 1 -count=1 -timeout 30m $(GO_TEST_FLAGS) $(E2E_PKG)

# Every benchmark, at a size that takes seconds; smokecheck then checks
# that each completed and wrote its figures (it never judges them).
BENCHMARKS := admission convergence fairness proxy dns usage

.PHONY: bench-smoke
bench-smoke: k8s build ## Run every benchmark once at a tiny size and check each wrote its figures, so that none rots (figures meaningless).
	@since=$$(date +%s); \
	go run ./bench/admission -clients 1,4 -pods 8 -namespaces 8 -namespace-pace 50ms -tenants 3 -runs 1 && \
	go run ./bench/convergence -n 3 -runs 1 -idle 6s -apiserver-profile 2s && \
	go run ./bench/fairness -configmaps 40 -flooders 2 -gets 10 -runs 1 -flowschemas 10 -warmup 200ms && \
	go run ./bench/proxy -tenants 10 -namespaces 40 -groups 10 -requests 10 -runs 1 && \
	go run ./bench/dns -tenants 5 -namespaces 10 -services 10 -pods 20 -runs 1 -measure 1s -flood-qps 2000 -flood 2s && \
	go run ./bench/usage -series 50 -samples 20 -runs 1 && \
	go run ./bench/smokecheck -since $$since $(BENCHMARKS)

# Each fuzz target runs alone for FUZZTIME (go test -fuzz takes one target
# at a time); the lines it prints say how many inputs it ran and how many
# widened coverage. Inputs that fail are saved under the package's
# testdata/fuzz/<target>/ and then run with every make test.
FUZZTIME ?= 20s
FUZZ_TARGETS := \
	./internal/render:FuzzRenderTenant \
	./internal/tenantquota:FuzzChargesNeverOvershoot \
	./internal/webhook/defaults:FuzzHandle \
	./internal/webhook/ingress:FuzzHandle \
	./internal/webhook/namespace:FuzzHandle \
	./internal/webhook/tenantquota:FuzzHandle \
	./internal/webhook/tenants:FuzzHandle \
	./internal/webhook/volumes:FuzzHandle

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 20s) and print its executions and new coverage.
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		if ! BULKHEAD_K8S_BIN= go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg >"$$log" 2>&1; then \
			cat "$$log"; exit 1; \
		fi; \
		grep '^fuzz: elapsed' "$$log" | tail -n 1; \
	done

.PHONY: lint
lint: $(GOLANGCI_LINT) $(KAL) ## Vet, check formatting, run golangci-lint and kube-api-linter.
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...
	$(KAL) run -c .golangci-kal.yml ./api/...

.PHONY: verify
verify: generate manifests ## Fail if generated files, go.mod or formatting differ from git, lint fails, or a build output is tracked.
	git diff --exit-code -- api config charts
	@untracked=$$(git ls-files --others --exclude-standard -- api config charts); if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi
	go mod tidy
	git diff --exit-code -- go.mod go.sum
	./hack/verify-tracked.sh
	$(MAKE) --no-print-directory lint

##@ Run

.PHONY: demo
demo: k8s build ## Start a dev cluster, run Bulkhead on it, and show tenants being isolated.
	go run ./hack/demo up

.PHONY: demo-down
demo-down: ## Stop the dev cluster started by make demo.
	go run ./hack/demo down

.PHONY: bench
bench: bench-admission bench-convergence bench-fairness bench-proxy bench-dns bench-usage ## Print every benchmark's figures.

.PHONY: bench-admission
bench-admission: k8s ## Print pod-create latency and CPU per create at 1, 16 and 64 clients: plain, native (Kubernetes alone), Hard tenant, webhook fallback.
	go run ./bench/admission -pods $${BENCH_PODS:-256} -tenants $${BENCH_TENANTS:-200} -runs $${BENCH_RUNS:-3}

.PHONY: bench-convergence
bench-convergence: k8s build ## Print convergence figures: N=100 and 500 Hard tenants, Bulkhead vs a plain client.
	go run ./bench/convergence -n $${BENCH_N:-100,500} -runs $${BENCH_RUNS:-3} -idle $${BENCH_IDLE:-0}

.PHONY: bench-fairness
bench-fairness: k8s ## Print a quiet tenant's GET latency while another floods with LISTs, fairness on and off, and what 1,000 tenant FlowSchemas cost others.
	go run ./bench/fairness -runs $${BENCH_RUNS:-3}

.PHONY: bench-proxy
bench-proxy: k8s build ## Print kubectl get ns through bulkhead-proxy against a direct list by selector (1,000 tenants, 5,000 namespaces, 300 groups), and the proxy's memory.
	go run ./bench/proxy -runs $${BENCH_RUNS:-3}

.PHONY: bench-dns
bench-dns: k8s build ## Print bulkhead-dns queries per second against the same server without the tenant plugin, a quiet tenant's latency while another floods, and memory at 1,000 tenants, 30,000 pods.
	go run ./bench/dns -runs $${BENCH_RUNS:-4}

.PHONY: bench-usage
bench-usage: ## Print what the rightsizing sampler's usage histograms cost per sample and per series (10,000 series, a day of samples), against keeping every sample, and their p95 error.
	go run ./bench/usage

# Capsule, the peer bench/peers runs beside Bulkhead, at the version
# bench/peers/capsule/go.mod pins: a module of its own, so that Capsule's
# dependencies never enter Bulkhead's go.mod. Its manager and the command
# that renders its Helm chart are built once per version into bin/peers/.
CAPSULE_VERSION := $(shell awk '$$1=="github.com/projectcapsule/capsule"{print $$2}' bench/peers/capsule/go.mod)
CAPSULE_BIN     := $(CURDIR)/bin/peers/capsule-$(CAPSULE_VERSION)
CAPSULE_CHART   := $(CURDIR)/bin/peers/capsule-chart-$(CAPSULE_VERSION)

$(CAPSULE_BIN):
	@mkdir -p $(@D)
	cd bench/peers/capsule && go build -trimpath -ldflags "-X github.com/projectcapsule/capsule/internal/version.GitTag=$(CAPSULE_VERSION)" -o $@.tmp github.com/projectcapsule/capsule/cmd/controller
	mv $@.tmp $@

$(CAPSULE_CHART):
	@mkdir -p $(@D)
	cd bench/peers/capsule && go build -trimpath -o $@.tmp ./chart
	mv $@.tmp $@

.PHONY: bench-peers
bench-peers: k8s build $(CAPSULE_BIN) $(CAPSULE_CHART) ## Print Bulkhead beside Capsule v0.14.0: convergence time, peak RSS, CPU, namespace-create latency (N=100 and 300, 3 runs: hours; not part of bench or test).
	go run ./bench/peers -n $${BENCH_N:-100,300} -runs $${BENCH_RUNS:-3}
