# etlc build, test and demo. Needs Go (go.mod's version) and, for `make test`,
# the module proxy to install the test tools once.

GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION) -X main.revision=$(REVISION)

# S3-compatible server the tests run on loopback (real S3 API, no cloud).
VERSITYGW_VERSION := v1.8.0

# Longer fuzzing with `make fuzz`, per fuzz target.
FUZZTIME ?= 2m

.PHONY: build test tools demo bench bench-cpu bench-go bench-wire bench-stream fuzz lint image

## build: compile bin/etlc with the version from git describe
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/etlc ./cmd/etlc

# APT_INSTALL installs Debian packages, through sudo when not root.
APT_INSTALL = sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

# Where `make image` puts the static binaries and the image.
IMAGE_BIN    ?= bin
IMAGE_OCI    ?= bin/image
IMAGE_TAR    ?= bin/etlc-image.tar
IMAGE_SOURCE ?= https://github.com/etlc/etlc

## image: static CGO_ENABLED=0 etlc for linux/amd64 and linux/arm64, and the
## multi-arch OCI image of both (layout in bin/image, oci-archive in
## bin/etlc-image.tar), assembled by deploy/imagebuild: no daemon, no network
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o $(IMAGE_BIN)/linux-amd64/etlc ./cmd/etlc
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o $(IMAGE_BIN)/linux-arm64/etlc ./cmd/etlc
	$(GO) run ./deploy/imagebuild -amd64 $(IMAGE_BIN)/linux-amd64/etlc -arm64 $(IMAGE_BIN)/linux-arm64/etlc \
		-version $(VERSION) -revision $(REVISION) -source $(IMAGE_SOURCE) -oci $(IMAGE_OCI) -tar $(IMAGE_TAR)

## tools: install what the tests need, when missing or at another version
tools:
	@if ! $(GO) version -m $(GOBIN)/versitygw 2>/dev/null | grep -q 'mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$(VERSITYGW_VERSION)[[:space:]]'; then \
		echo 'installing versitygw $(VERSITYGW_VERSION)'; \
		$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); \
	fi
	@# psql and Debian's psycopg2 for the gateway's client tests (pgwire).
	@if ! command -v psql >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1; then \
		echo 'installing postgresql-client and python3-psycopg2'; \
		$(APT_INSTALL) postgresql-client python3-psycopg2; \
	fi
	@# pgJDBC with a JDK, and node with npm, for the gateway's client tests (pgwire).
	@if [ ! -f /usr/share/java/postgresql.jar ] || ! command -v javac >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo 'installing libpostgresql-jdbc-java, default-jdk-headless, nodejs and npm'; \
		pkgs='libpostgresql-jdbc-java'; \
		command -v javac >/dev/null 2>&1 || pkgs="$$pkgs default-jdk-headless"; \
		command -v node >/dev/null 2>&1 || pkgs="$$pkgs nodejs"; \
		command -v npm >/dev/null 2>&1 || pkgs="$$pkgs npm"; \
		$(APT_INSTALL) $$pkgs; \
	fi
	@# node-postgres (pg, pg-cursor) at the versions of the lock file, in the test's own directory.
	@if [ ! -f pgwire/testdata/node/node_modules/pg/package.json ] || [ ! -f pgwire/testdata/node/node_modules/pg-cursor/package.json ] || \
		[ pgwire/testdata/node/package-lock.json -nt pgwire/testdata/node/node_modules/.package-lock.json ]; then \
		echo 'installing node-postgres into pgwire/testdata/node'; \
		cd pgwire/testdata/node && npm ci --no-audit --no-fund --silent; \
	fi
	@# PostgreSQL 15 server binaries for the differential tests (initdb, pg_ctl).
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo 'installing postgresql-15'; \
		$(APT_INSTALL) postgresql-15; \
	fi

## test: install test tools, build the image (make image; the image test checks
## those binaries), vet, run every test, check the example data, fuzz briefly;
## prints the sqllogictest pass rates (passed / counted apart / failed)
# The sqllogictest runs (exec/slt) append their pass rates to the file named
# by ETLC_SLT_SUMMARY, printed after go test (which hides the output of a
# passing package). A new file each time: the changed value also keeps go
# test from reusing a cached exec/slt result, so the figures are this run's.
test: tools image
	$(GO) vet ./...
	$(GO) run ./testdata/examples/gen -check
	@summary=$$(mktemp); \
		echo "ETLC_SLT_SUMMARY=$$summary ETLC_IMAGE_BINARIES=$(abspath $(IMAGE_BIN)) $(GO) test -timeout 30m ./..."; \
		ETLC_SLT_SUMMARY=$$summary ETLC_IMAGE_BINARIES=$(abspath $(IMAGE_BIN)) $(GO) test -timeout 30m ./...; status=$$?; \
		echo; if [ -s $$summary ]; then cat $$summary; else echo 'no sqllogictest summary was written'; fi; \
		rm -f $$summary; exit $$status
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=10s ./parser/
	$(GO) test -run='^$$' -fuzz=FuzzMessageLoop -fuzztime=10s ./pgwire/

# Where `make demo` keeps its data directory and output (removed first).
DEMO_DIR ?= .etlc-demo

## demo: build etlc, compile the examples, run the SCD2 example (initial load,
## then delta and merge) in a fresh data directory and print the history
demo: build
	bin/etlc compile examples/*.sql examples/*/*.sql
	rm -rf $(DEMO_DIR)
	bin/etlc run --data-dir $(DEMO_DIR)/data -p output_dir=$(DEMO_DIR)/out \
		examples/scd2/initial_load.sql
	bin/etlc run --data-dir $(DEMO_DIR)/data -p output_dir=$(DEMO_DIR)/out -p staging_dir=$(DEMO_DIR)/out/staging \
		examples/scd2/delta_load.sql examples/scd2/merge.sql
	bin/etlc run --data-dir $(DEMO_DIR)/data --no-progress examples/scd2/history.sql

# `make bench` settings: scale factor, threads per engine (default: every
# CPU when empty), timed runs per query after the warm-up, time limit of one run.
BENCH_SF      ?= 1
BENCH_THREADS ?=
BENCH_RUNS    ?= 3
BENCH_TIMEOUT ?= 5m
BENCH_FLAGS   ?=

## bench: TPC-H at BENCH_SF on etlc, DuckDB and PostgreSQL 15 (data generated
## once into ${ETLC_CACHE:-~/.cache/etlc}/tpch); prints the table and writes
## bench/results/tpch-sf<N>.csv and .png
bench: tools
	$(GO) run ./cmd/tpchgen -sf $(BENCH_SF) -format both
	cd bench && $(GO) run ./cmd/tpchbench -sf $(BENCH_SF) -runs $(BENCH_RUNS) \
		-timeout $(BENCH_TIMEOUT) -out results $(if $(BENCH_THREADS),-threads $(BENCH_THREADS)) $(BENCH_FLAGS)

# Queries bench-cpu runs.
BENCH_QUERIES ?= 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22

## bench-cpu: etlc alone on TPC-H at BENCH_SF, in process: CPU time (user +
## system) of each run, wall time and peak RSS per query (for a busy machine)
bench-cpu:
	$(GO) run ./cmd/tpchgen -sf $(BENCH_SF) -format parquet
	cd bench && $(GO) run ./cmd/tpchcpu -q $(BENCH_QUERIES) -runs $(BENCH_RUNS) \
		-data $${ETLC_CACHE:-$$HOME/.cache/etlc}/tpch/sf$(BENCH_SF) $(if $(BENCH_THREADS),-threads $(BENCH_THREADS))

## bench-go: run every Go benchmark (compile speed, readers, kernels, operators) and print the figures
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Rows of the table bench-wire streams.
BENCH_WIRE_ROWS ?= 10000000

## bench-wire: etlc serve against a throwaway local PostgreSQL 15 on the same
## table: rows/s streamed to pgx in binary and text, 64-client queries/s and p99
bench-wire: build tools
	cd bench && $(GO) run ./wire -rows $(BENCH_WIRE_ROWS) -etlc ../bin/etlc

# `make bench-stream` settings: events generated, auctions of the window
# aggregations, distinct live keys of the state-size run, extra flags.
BENCH_STREAM_EVENTS ?= 4000000
BENCH_STREAM_KEYS   ?= 1000000
BENCH_STREAM_LIVE   ?= 10000000
BENCH_STREAM_FLAGS  ?=

## bench-stream: Nexmark-style streaming pipelines (filter+project over files
## and kfake, tumbling and hopping windows, 10M live keys): events/s per core
## (CPU time) and wall, peak RSS; writes bench/results/stream.csv
bench-stream:
	cd bench && $(GO) run ./stream -events $(BENCH_STREAM_EVENTS) -keys $(BENCH_STREAM_KEYS) \
		-live $(BENCH_STREAM_LIVE) -out results $(BENCH_STREAM_FLAGS)

## fuzz: run every fuzz target of every package for FUZZTIME each
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzzing $$f in $$pkg for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

## lint: gofmt must have nothing to say; go vet must pass
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
