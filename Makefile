# BAC Platform infrastructure. The two commands a fresh clone needs:
#   make plan   offline plan + compliance gate of every stack (no cloud credentials)
#   make test   lint and the whole test suite
GO ?= go
# pulumi-keycloak's checksum-database lookup fails; go.sum pins its hashes.
export GONOSUMDB := github.com/pulumi/pulumi-keycloak
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
PULUMI_VERSION := v3.274.1
PULUMI := bin/pulumi
# The real Kubernetes control plane of test/kubecluster, built from modules
# (tools/k8s/go.mod pins k8s.io/kubernetes and its staging modules) at the
# stacks' default minor version. With KUBEBUILDER_ASSETS pointing at prebuilt
# envtest binaries (kube-apiserver, etcd), those are used and only the
# scheduler, which envtest does not ship, is built.
K8S_VERSION := v1.35.4
K8S_BIN := bin/k8s
K8S_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35 \
	-X k8s.io/component-base/version.gitTreeState=clean
K8S_PKG_kube-apiserver := k8s.io/kubernetes/cmd/kube-apiserver
K8S_PKG_kube-scheduler := k8s.io/kubernetes/cmd/kube-scheduler
K8S_PKG_kube-controller-manager := k8s.io/kubernetes/cmd/kube-controller-manager
K8S_PKG_etcd := go.etcd.io/etcd/server/v3
# envtest's prebuilt assets carry no scheduler, controller manager or KWOK.
K8S_TOOLS := $(K8S_BIN)/kube-scheduler $(K8S_BIN)/kube-controller-manager $(K8S_BIN)/kwok $(K8S_BIN)/kwok-stages.yaml \
	$(if $(KUBEBUILDER_ASSETS),,$(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd)
# The real pulumi-kubernetes provider (tools/k8sprovider/go.mod pins it). Its
# module ships schema.json but not the generated files its command embeds:
# they are generated into a build directory under bin/ and the command is
# built there. The version stamped is the module's own pseudo-version.
# `go mod download -json` both fetches the module (a fresh machine has none)
# and names its directory; `go list -m` would print an empty one before it.
# The binary stays in the build directory: in bin/, next to the pulumi CLI,
# the CLI would find it and use it in place of the engine suite's simulator.
K8S_PROVIDER_BUILD := bin/build/k8sprovider
K8S_PROVIDER := $(K8S_PROVIDER_BUILD)/pulumi-resource-kubernetes
K8S_PROVIDER_MOD := github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_VERSION := 4.0.0-20260115033456-f47bc2d6f199

# What the long tool builds take from empty caches on a 2-core machine,
# measured with `make bench-cold` (tools/bench-cold.sh); printed when they run.
PULUMI_COLD := about 6 min
ETCD_COLD := about 2 min
ETCD_NOTE := (the version k8s.io/kubernetes $(K8S_VERSION) requires)
K8S_CMDS_COLD := about 7.5 min
KWOK_COLD := about 1-4.5 min (1 when make lint built its client libraries)
K8S_PROVIDER_COLD := about 11 min

.PHONY: deps tools k8s-tools plan plan-json report lint test test-unit test-engine test-race test-integration bench-engine bench-test bench-cold fmt

# Every suite here is hermetic and uses the Go test cache: a package whose
# code, inputs and environment did not change is neither re-linked nor
# re-run. The engine suite's inputs outside Go are the stack files it reads
# and bin/pulumi, which it stats: the cache sees both, so a rebuilt CLI or an
# edited stack file re-runs it. TESTFLAGS=-count=1 forces every test to run.
ENGINE_PKGS := ./test/engine/...
# The race detector runs where the project has concurrency of its own (the
# packages that start goroutines or share state between them: the mock
# engine, the engine simulator, the real-cluster harness and the provider
# forwarder), in make test-race, which CI runs nightly. A -race build
# recompiles every provider SDK instrumented (about 20 minutes cold on two
# cores), which make test does not pay.
RACE_PKGS := ./stacks/mockengine/... ./test/engine/... ./test/kubecluster/... ./test/realkube/...
TESTFLAGS ?=
# Test binaries without symbol tables link about a quarter faster (every
# test binary that runs the stack program links all provider SDKs).
TESTLINK := -ldflags='-s -w'

deps: ## download the pinned modules
	$(GO) mod download

tools: $(PULUMI) k8s-tools $(K8S_PROVIDER) ## build the pulumi CLI and the test control plane (skipped when built)

k8s-tools: $(K8S_TOOLS) ## kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok for test/kubecluster

# KWOK has a module of its own (tools/kwok/go.mod): newer client libraries
# than the control plane's, at the main module's versions (client-go and
# its dependencies), and built without -trimpath like the tests, so the
# packages KWOK and the real-cluster tests share compile once.
$(K8S_BIN)/kwok: tools/kwok/go.mod tools/kwok/go.sum
	@echo "make tools: building KWOK from sigs.k8s.io/kwok, once per version ($(KWOK_COLD) cold on 2 cores)"
	cd tools/kwok && $(GO) build -ldflags '-s -w' -o ../../$@ sigs.k8s.io/kwok/cmd/kwok

# KWOK's default stages (nodes Ready, pods Running), from its module.
$(K8S_BIN)/kwok-stages.yaml: tools/kwok/go.mod tools/kwok/go.sum tools/kwok/stages/main.go
	@mkdir -p $(K8S_BIN)
	cd tools/kwok && $(GO) run ./stages > ../../$@.tmp && mv ../../$@.tmp ../../$@

# One rule per binary; -trimpath keeps the build cache shared between clones.
# The control plane's commands are one go build: the packages they share
# compile once and their links overlap.
K8S_CMDS := kube-scheduler kube-controller-manager $(if $(KUBEBUILDER_ASSETS),,kube-apiserver)
$(addprefix $(K8S_BIN)/,$(K8S_CMDS)) &: tools/k8s/go.mod tools/k8s/go.sum
	@echo "make tools: building $(K8S_CMDS) from k8s.io/kubernetes $(K8S_VERSION), once per version ($(K8S_CMDS_COLD) cold on 2 cores)"
	@mkdir -p $(K8S_BIN)
	cd tools/k8s && $(GO) build -trimpath -ldflags '$(K8S_LDFLAGS)' -o ../../$(K8S_BIN)/ $(foreach c,$(K8S_CMDS),$(K8S_PKG_$(c)))

$(K8S_BIN)/etcd: tools/k8s/go.mod tools/k8s/go.sum
	@echo "make tools: building etcd $(ETCD_NOTE), once per version ($(ETCD_COLD) cold on 2 cores)"
	cd tools/k8s && $(GO) build -trimpath -ldflags '-s -w' -o ../../$@ $(K8S_PKG_etcd)

$(K8S_PROVIDER): tools/k8sprovider/go.mod tools/k8sprovider/go.sum tools/k8sprovider/main.go tools/k8sprovider/embed/main.go
	@echo "make tools: building the kubernetes provider $(K8S_PROVIDER_VERSION) from its module, once per version ($(K8S_PROVIDER_COLD) cold on 2 cores)"
	rm -rf $(K8S_PROVIDER_BUILD) && mkdir -p $(K8S_PROVIDER_BUILD)
	cp tools/k8sprovider/go.mod tools/k8sprovider/go.sum tools/k8sprovider/main.go $(K8S_PROVIDER_BUILD)/
	cd tools/k8sprovider && dir=$$($(GO) mod download -json $(K8S_PROVIDER_MOD) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
		test -n "$$dir" && $(GO) run ./embed -version $(K8S_PROVIDER_VERSION) -out ../../$(K8S_PROVIDER_BUILD) \
		-from "$$dir/cmd/pulumi-resource-kubernetes"
	cd $(K8S_PROVIDER_BUILD) && $(GO) build -trimpath -ldflags '-s -w -X $(K8S_PROVIDER_MOD)/pkg/version.Version=$(K8S_PROVIDER_VERSION)' -o pulumi-resource-kubernetes .

# The CLI at the pinned SDK version, from its Go module, with its version
# stamped so the Automation API's version check passes.
# A pulumi CLI already on PATH at exactly the pinned version is copied
# instead (checked by `pulumi version`; any other version is never used).
$(PULUMI): tools/go.mod tools/go.sum
	@mkdir -p bin
	@if found=$$(command -v pulumi) && [ "$$("$$found" version 2>/dev/null)" = "$(PULUMI_VERSION)" ]; then \
		echo "make tools: using $$found ($(PULUMI_VERSION))"; cp "$$found" $(PULUMI); \
	else \
		echo "make tools: building the pulumi CLI $(PULUMI_VERSION) from its module, once per version ($(PULUMI_COLD) cold on 2 cores)"; \
		cd tools && $(GO) build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$(PULUMI_VERSION)" \
			-o ../$(PULUMI) github.com/pulumi/pulumi/pkg/v3/cmd/pulumi; \
	fi
	@./$(PULUMI) version

plan: deps ## plan every stack offline with the real program and stack files, then run the compliance gate, also over each stack's first preview
	$(GO) run ./cmd/bacplan plan
	$(GO) run ./cmd/bacplan plan --first-preview

plan-json: deps ## the same, as pulumi preview --json
	$(GO) run ./cmd/bacplan plan --json

report: deps ## compliance reports (Markdown, JSON, Prometheus) for every AWS stack into ./compliance
	for stack in prod-us-east-1 prod-eu-west-1 staging-us-east-1 staging-eu-west-1; do \
		$(GO) run ./cmd/bacplan report --stack $$stack --out compliance || exit 1; done

lint: deps ## gofmt, go vet (including the integration suite) and actionlint on the workflows
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/integration/...
	$(GO) run $(ACTIONLINT)

test: lint tools test-unit test-engine ## lint and every test, including the real-engine suite

test-unit: deps tools ## the hermetic tests (cached when nothing they depend on changed)
	$(GO) test $(TESTLINK) $(TESTFLAGS) -timeout 30m $$($(GO) list ./... | grep -v '/test/engine')

test-engine: tools ## the real-engine suite; stacks run in parallel (they wait on the CLI)
	$(GO) test $(TESTLINK) $(TESTFLAGS) -parallel 5 -timeout 30m $(ENGINE_PKGS)

test-race: tools ## the packages with concurrency of their own, with the race detector (nightly in CI)
	$(GO) test $(TESTLINK) $(TESTFLAGS) -race -parallel 5 -timeout 60m $(RACE_PKGS)

bench-test: tools ## time make test warm (nothing changed), after a shared package changed, and cold test cache
	@tools/bench-test.sh

bench-cold: ## both README commands from a fresh clone with empty Go caches, step by step (tools/bench-cold.sh)
	@tools/bench-cold.sh

bench-engine: tools ## engine up/preview wall time per stack beside the offline plan's
	BENCH_ENGINE_OUT=$(CURDIR)/bench-engine.txt $(GO) test -count=1 -run TestEveryStackThroughTheEngine ./test/engine/ > /dev/null
	@cat bench-engine.txt

test-integration: deps ## deploy, verify and destroy an ephemeral stack (needs AWS credentials; skips without)
	$(GO) test -count=1 -tags integration -timeout 170m -v ./test/integration/...

fmt:
	gofmt -w $$(git ls-files '*.go')
