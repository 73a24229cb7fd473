# cairn — build, test and run. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO       ?= go
GOPATH   := $(shell $(GO) env GOPATH)
BIN      := bin/cairn
DATA     ?= /var/lib/cairn
MNT      ?= /mnt/cairn
VOLUME   ?= default
NFS      ?= 127.0.0.1:2049
# EXPORTS is what `make run` exports over NFS: every volume, read-write, to
# this host only, root not squashed but only from ports below 1024 (which
# only root binds), so local root over NFS is root as on the FUSE mount and
# no other local user can pose as root. Open it up with e.g.
# `make run NFS=:2049 EXPORTS='*,rw,allow=10.0.0.0/8'` (root squashed).
EXPORTS  ?= *,rw,no_root_squash,secure,allow=127.0.0.1/32
METRICS  ?= 127.0.0.1:9090
IMAGE    ?= cairn:dev
FUZZTIME ?= 30s
BENCHFLAGS ?=
TESTFLAGS  ?=
# RUNS is how many times `make test-stress` runs `make test`; CUTS how many
# seeded power cuts `make test-crash` makes; DURATION how long `make soak`
# and `make fsx` run; CLUSTER_RUNS how often `make test-cluster` runs.
RUNS       ?= 5
CUTS       ?= 500
DURATION   ?= 1h
CLUSTER_RUNS ?= 1
# CROSS are the GOOS/GOARCH pairs `make cross` builds and vets.
CROSS      ?= darwin/arm64 darwin/amd64 linux/arm64

STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell command -v staticcheck 2>/dev/null || echo $(GOPATH)/bin/staticcheck)

CAIRN := $(BIN) --data $(DATA)

.PHONY: proto proto-check help build test test-cluster test-stress test-crash soak fsx lint cross bench run image fuzz clean staticcheck-install

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/cairn (static, no cgo)
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/cairn

lint: staticcheck-install ## gofmt, go vet and staticcheck
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l); \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# cross checks that Linux-only code (mount(2), MNT_DETACH, /proc, Linux FUSE
# capabilities) stays behind build constraints: macOS must build too.
cross: ## cross-compile darwin/arm64, darwin/amd64, linux/arm64 and go vet them
	@for p in $(CROSS); do \
		echo "== $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/cairn; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet ./...; \
	done

staticcheck-install:
	@[[ -x "$(STATICCHECK)" ]] || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

test: lint cross proto-check ## lint, cross-compile, then every test with the race detector (fs core also on etcd)
	CGO_ENABLED=1 $(GO) test -race -timeout 25m $(TESTFLAGS) ./...
	CAIRN_TEST_META=etcd CGO_ENABLED=1 $(GO) test -race -short -timeout 10m $(TESTFLAGS) ./fs/

test-cluster: ## Docker cluster fault suite (test/cluster): kill, partitions, rolling restart, histories checked; CLUSTER_RUNS times
	$(GO) test -tags dockercluster -count=$(CLUSTER_RUNS) -v -timeout $$((20 * $(CLUSTER_RUNS)))m $(TESTFLAGS) ./test/cluster/

test-stress: ## make test RUNS (5) times in a row while stress-ng --cpu 2 --io 1 loads the machine; stops at the first failure
	bash test/stress.sh $(RUNS)

test-crash: ## power-cut simulation (test/powercut): CUTS (500) seeded power cuts under the data directory, each checked
	CGO_ENABLED=1 $(GO) test -count=1 -v -timeout 90m -run '^TestPowerCut' $(TESTFLAGS) ./test/powercut/ -args -cuts=$(CUTS)

soak: ## the node daemon under a mixed workload for DURATION (1h): RSS, goroutines, open files, store sizes reported
	$(GO) run ./test/soak -duration $(DURATION)

fsx: ## fsx-style random I/O against a model on a FUSE mount and through NFS, for DURATION (1h)
	CGO_ENABLED=1 $(GO) test -count=1 -v -timeout 0 -run '^TestFSX' $(TESTFLAGS) ./test/fsx/ -args -fsx.long=$(DURATION)

bench: ## the end-to-end benchmark (if bench/ has a main) and the chunk benchmarks
	@if [[ -n "$$($(GO) list -f '{{if eq .Name "main"}}main{{end}}' ./bench 2>/dev/null)" ]]; then \
		echo "$(GO) run ./bench $(BENCHFLAGS)"; $(GO) run ./bench $(BENCHFLAGS); \
	else echo "bench/ has no main package yet; skipping go run ./bench"; fi
	$(GO) test -run '^$$' -bench . ./chunks/...

run: build ## build; serve DATA: volume VOLUME (created if missing) on MNT via FUSE, NFS (EXPORTS) on NFS
	mkdir -p $(DATA) $(MNT)
	$(CAIRN) server --volume $(VOLUME) --mount $(MNT) --nfs-listen $(NFS) --export '$(EXPORTS)' --metrics $(METRICS)

image: build ## docker image IMAGE from deploy/Dockerfile (FROM scratch + bin/cairn)
	docker build -f deploy/Dockerfile -t $(IMAGE) .

fuzz: ## run every Fuzz* target for FUZZTIME (30s) each
	@$(GO) test -list '^Fuzz' ./... | \
	awk '/^Fuzz/ { names[n++] = $$1; next } \
	     /^ok/   { for (i = 0; i < n; i++) print $$2, names[i]; n = 0 }' > .fuzz-targets
	@if [[ ! -s .fuzz-targets ]]; then echo "no fuzz targets"; fi
	@while read -r pkg name; do \
		echo "== $$pkg $$name"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" || { rm -f .fuzz-targets; exit 1; }; \
	done < .fuzz-targets; rm -f .fuzz-targets

clean: ## remove build outputs and profiles
	rm -rf bin/ .fuzz-targets *.test *.pprof *.prof cpu.out mem.out

PROTO_OUT ?= .
# The plugins are Go tool dependencies (go.mod's tool block), so their
# versions are pinned with the module; protoc is Debian's protobuf-compiler.
proto: ## regenerate the control API's Go code from api/cairn/v1/*.proto (needs protoc)
	cd api/cairn/v1 && PATH="$$(dirname $$($(GO) tool -n protoc-gen-go)):$$(dirname $$($(GO) tool -n protoc-gen-go-grpc)):$$PATH" \
		protoc -I . --go_out=paths=source_relative:$(PROTO_OUT) \
		--go-grpc_out=paths=source_relative,require_unimplemented_servers=false:$(PROTO_OUT) *.proto

proto-check: ## fail if the committed generated code differs from what the .proto files give
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) -s proto PROTO_OUT="$$tmp"; \
	for f in "$$tmp"/*.go; do cmp -s "$$f" "api/cairn/v1/$$(basename "$$f")" || { echo "api/cairn/v1/$$(basename "$$f") is stale: run make proto"; exit 1; }; done
