# regedge: `make` builds bin/regedge and regenerates out/ from the embedded
# default policy; `make test` installs what the tests need and runs them all.

GO ?= go
# workerd comes from the npm registry, installed under bin/npm; falco, the
# Fastly VCL linter, from the Go module proxy, built into bin/.
NPM_PREFIX := $(CURDIR)/bin/npm
WORKERD_VERSION := 1.20261117.1
FALCO_VERSION := v1.11.0
export PATH := $(PATH):/usr/sbin:/sbin:$(NPM_PREFIX)/node_modules/.bin:$(CURDIR)/bin

# Runtimes the tests run for real, by command and the Debian package that
# provides it. make bench also needs BENCH_RUNTIMES: deps installs RUNTIMES,
# which bench extends.
DEBIAN_RUNTIMES := nginx:nginx varnishd:varnish haproxy:haproxy skopeo:skopeo
BENCH_RUNTIMES := wrk:wrk
RUNTIMES := $(DEBIAN_RUNTIMES)

.PHONY: all build test verify deps bench fuzz
all: build
	bin/regedge build -out out

build:
	$(GO) build -o bin/regedge ./compiler/cmd/regedge

# verify regenerates out/ into a temporary folder and fails if it differs.
# The build's diagnostics are shown only when it fails, and then fail make.
verify: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	if ! bin/regedge build -out "$$tmp/out" >"$$tmp/build" 2>&1; then \
		cat "$$tmp/build"; \
		echo "make verify: regedge build failed (above), so out/ cannot be checked"; exit 1; \
	fi && \
	if ! diff -r out "$$tmp/out" >"$$tmp/diff"; then \
		head -n 40 "$$tmp/diff"; \
		echo "out/ is stale: run 'make' to regenerate it, then commit out/"; exit 1; \
	fi

# deps installs missing runtimes as root; without root it only says what is
# missing, and under CI=true that is an error.
deps:
	@missing=""; \
	for pair in $(RUNTIMES); do \
		command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
		else \
			echo "missing:$$missing (run make $(or $(MAKECMDGOALS),deps) as root to install them)"; \
			[ "$$CI" != true ] || exit 1; \
		fi; \
	fi
	@command -v workerd >/dev/null || { \
		echo "installing: workerd@$(WORKERD_VERSION) from npm"; \
		npm install --prefix "$(NPM_PREFIX)" --no-audit --no-fund --silent workerd@$(WORKERD_VERSION) >/dev/null && \
		workerd --version >/dev/null; \
	} || { echo "workerd could not be installed"; [ "$$CI" != true ] || exit 1; }
	@command -v falco >/dev/null || { \
		echo "installing: falco $(FALCO_VERSION) from the Go module proxy"; \
		tmp=$$(mktemp -d) && cd "$$tmp" && \
		$(GO) mod init falco >/dev/null 2>&1 && \
		$(GO) get github.com/ysugimoto/falco/cmd/falco@$(FALCO_VERSION) >/dev/null 2>&1 && \
		$(GO) build -o "$(CURDIR)/bin/falco" github.com/ysugimoto/falco/cmd/falco; \
		status=$$?; rm -rf "$$tmp"; exit $$status; \
	} || { echo "falco could not be installed"; [ "$$CI" != true ] || exit 1; }

test: deps verify
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# bench measures the bars in BENCHMARKS.md in one run and prints medians.
# BenchmarkLoad's iterations are long (wrk against three servers), so it runs
# once per count, fewer times. A failed benchmark fails make after benchstat.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench: RUNTIMES += $(BENCH_RUNTIMES)
bench: deps build
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkLoad$$' -count 8 ./compiler/internal/cli/ ./compiler/internal/lookup/ ./compiler/proxy/ | tee bin/bench.txt
	$(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 1x -count 5 -timeout 30m ./compiler/internal/cli/ | tee -a bin/bench.txt
	$(GO) run $(BENCHSTAT) bin/bench.txt
	@! grep -q -e '^FAIL' -e '^--- FAIL' bin/bench.txt || { echo "make bench: a benchmark failed (see bin/bench.txt)"; exit 1; }

# fuzz runs every fuzz target (go test -list finds them) for FUZZTIME. Each
# input that finds new coverage is minimized for at most FUZZMINIMIZETIME:
# go's default, 60s, left FuzzLoad about ten executions in 45s. Each
# target's output is in bin/fuzz-PACKAGE-TARGET.txt; the summary gives its
# executions. make fails if a target finds a crash (go writes the input
# under the package's testdata/fuzz) or fails to run.
FUZZTIME ?= 30s
FUZZMINIMIZETIME ?= 1s
fuzz:
	@list=$$($(GO) test -list '^Fuzz' ./compiler/...) || { echo "$$list"; exit 1; }; \
	targets=$$(echo "$$list" | awk '/^Fuzz/ { names = names " " $$1 } \
		/^ok/ { n = split(names, a, " "); for (i = 1; i <= n; i++) print $$2 ":" a[i]; names = "" }'); \
	mkdir -p bin; summary=bin/fuzz-summary.txt; : >$$summary; failed=0; \
	for t in $$targets; do \
		pkg=$${t%:*}; name=$${t##*:}; out=bin/fuzz-$${pkg##*/}-$$name.txt; \
		echo "fuzz: $${pkg##*/} $$name for $(FUZZTIME)"; \
		if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg >$$out 2>&1; \
		then result=ok; else result=FAIL; failed=1; cat $$out; fi; \
		last=$$(grep '^fuzz: elapsed:' $$out | tail -n 1 | sed 's| ([0-9]*/sec)||'); \
		printf '%-4s %-34s %s\n' $$result "$${pkg##*/} $$name" "$${last#fuzz: }" >>$$summary; \
	done; \
	cat $$summary; \
	[ $$failed = 0 ] || { echo "make fuzz: a fuzz target failed (see above)"; exit 1; }
