# regedge: `make` builds bin/regedge and regenerates out/ from the embedded
# default policy; `make test` installs what the tests need and runs them all.

GO ?= go
export PATH := $(PATH):/usr/sbin:/sbin

# Runtimes the tests run for real, by command and the Debian package that
# provides it.
DEBIAN_RUNTIMES := nginx:nginx

.PHONY: all build test verify deps bench
all: build
	bin/regedge build -out out

build:
	$(GO) build -o bin/regedge ./compiler/cmd/regedge

# verify regenerates out/ into a temporary folder and fails if it differs.
verify: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	bin/regedge build -out "$$tmp/out" 2>/dev/null && \
	if ! diff -r out "$$tmp/out" >"$$tmp/diff"; then \
		head -n 40 "$$tmp/diff"; \
		echo "out/ is stale: run 'make' to regenerate it, then commit out/"; exit 1; \
	fi

# deps installs missing runtimes as root; without root it only says what is
# missing, and under CI=true that is an error.
deps:
	@missing=""; \
	for pair in $(DEBIAN_RUNTIMES); do \
		command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
		else \
			echo "missing:$$missing (run make test as root to install them)"; \
			[ "$$CI" != true ] || exit 1; \
		fi; \
	fi

test: deps verify
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# bench measures the bars in BENCHMARKS.md in one run and prints medians.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench: deps build
	$(GO) test -run '^$$' -bench . -count 8 ./compiler/cli/ | tee bin/bench.txt
	$(GO) run $(BENCHSTAT) bin/bench.txt
