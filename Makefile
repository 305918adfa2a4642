# BAC Platform infrastructure. The two commands a fresh clone needs:
#   make plan   offline plan + checks of every stack (no cloud credentials)
#   make test   vet and the whole test suite
GO ?= go
# pulumi-keycloak's checksum-database lookup fails; go.sum pins its hashes.
export GONOSUMDB := github.com/pulumi/pulumi-keycloak

.PHONY: plan plan-json test lint fmt deps

deps: ## download the pinned modules
	$(GO) mod download

plan: deps ## plan every stack offline with the real program and stack files
	$(GO) run ./cmd/bacplan plan

plan-json: deps ## the same, as pulumi preview --json
	$(GO) run ./cmd/bacplan plan --json

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps lint ## vet and every test
	$(GO) test -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
