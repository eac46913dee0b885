# Bulkhead: multi-tenancy for Kubernetes. `make help` lists the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

K8S_VERSION    := $(shell awk '$$1=="k8s.io/kubernetes"{print $$2}' hack/k8s/go.mod)
K8S_BIN        := $(CURDIR)/bin/k8s/$(K8S_VERSION)
TOOLS_BIN      := $(CURDIR)/bin/tools
CONTROLLER_TOOLS_VERSION := v0.21.0
CONTROLLER_GEN := $(TOOLS_BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GO_TEST_FLAGS ?=

export BULKHEAD_K8S_BIN := $(K8S_BIN)

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: generate ## Build bulkhead-manager into bin/.
	go build -o bin/bulkhead-manager ./cmd/bulkhead-manager

.PHONY: k8s
k8s: ## Build the pinned control plane (etcd, kube-*, kwok) into bin/k8s/<version>/ once.
	./hack/k8s/build.sh

$(CONTROLLER_GEN):
	GOBIN=$(TOOLS_BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(TOOLS_BIN)/controller-gen $@

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for api/.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and the manager's RBAC under config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=bulkhead-manager paths=./internal/... output:rbac:artifacts:config=config/rbac

##@ Test

.PHONY: test
test: k8s generate manifests ## Run unit, integration and end-to-end tests on a real control plane.
	go test -p 1 -count=1 $(GO_TEST_FLAGS) ./...

.PHONY: lint
lint: ## Vet and check formatting.
	go vet ./...
	@out=$$(gofmt -l api cmd internal test bench); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: verify
verify: generate manifests lint ## Fail if generated files differ from git.
	git diff --exit-code -- api config

##@ Run

.PHONY: demo
demo: k8s build ## Start a dev cluster, run Bulkhead on it, and show tenants being isolated.
	go run ./hack/demo up

.PHONY: demo-down
demo-down: ## Stop the dev cluster started by make demo.
	go run ./hack/demo down

.PHONY: bench
bench: bench-admission bench-convergence ## Print every benchmark's figures.

.PHONY: bench-admission
bench-admission: k8s ## Print pod-create latency at 1, 16 and 64 clients: Hard tenant vs plain namespace, policies vs webhook fallback.
	go run ./bench/admission -pods $${BENCH_PODS:-256} -tenants $${BENCH_TENANTS:-200} -runs $${BENCH_RUNS:-3}

.PHONY: bench-convergence
bench-convergence: k8s build ## Print convergence figures: N=100 and 500 Hard tenants, Bulkhead vs a plain client.
	go run ./bench/convergence -n $${BENCH_N:-100,500} -runs $${BENCH_RUNS:-3}
