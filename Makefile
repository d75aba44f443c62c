# regedge: `make` builds bin/regedge and regenerates out/ from the embedded
# default policy; `make test` installs what the tests need and runs them all.

GO ?= go
# workerd comes from the npm registry, installed under bin/npm; falco, the
# Fastly VCL linter and unit-test runner, from the Go module proxy, built
# into bin/ at the version go.mod requires, as the tests also run falco's
# interpreter as a library.
NPM_PREFIX := $(CURDIR)/bin/npm
WORKERD_VERSION := 1.20261117.1
FALCO_VERSION := $(shell awk '$$1 == "github.com/ysugimoto/falco" { print $$2 }' go.mod)
export PATH := $(PATH):/usr/sbin:/sbin:$(NPM_PREFIX)/node_modules/.bin:$(CURDIR)/bin

# Runtimes the tests run for real, by command and the Debian package that
# provides it. make bench also needs BENCH_RUNTIMES: deps installs RUNTIMES,
# which bench extends.
DEBIAN_RUNTIMES := nginx:nginx varnishd:varnish haproxy:haproxy skopeo:skopeo systemd-analyze:systemd
BENCH_RUNTIMES := wrk:wrk
RUNTIMES := $(DEBIAN_RUNTIMES)
# Debian packages that install no command: the vmods the Varnish VCL imports,
# and the Lua module that keeps nginx's existence answers and site health in
# memory (it pulls in the NDK module and lua-resty-core), with the worker's
# cache of answers that the generated config requires (which lua-resty-core
# pulls in).
DEBIAN_LIBRARIES := varnish-modules libnginx-mod-http-lua lua-resty-lrucache

.PHONY: all build test verify deps bench fuzz release image
all: build
	bin/regedge build -out out

# build makes a development binary: its version is "devel" whatever the
# commit, so that out/, whose files name the version that made them, stays
# what make verify expects at every commit and tag. make release builds the
# versioned binaries.
build:
	$(GO) build -buildvcs=false -o bin/regedge ./compiler/cmd/regedge

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
	for pkg in $(DEBIAN_LIBRARIES); do \
		dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$pkg"; \
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
	@have=$$(command -v falco >/dev/null && $(GO) version -m "$$(command -v falco)" 2>/dev/null | \
		awk '$$1 == "mod" && $$2 == "github.com/ysugimoto/falco" { print $$3 }'); \
	[ "$$have" = "$(FALCO_VERSION)" ] || { \
		echo "installing: falco $(FALCO_VERSION) from the Go module proxy$${have:+, over $$have}"; \
		tmp=$$(mktemp -d) && cd "$$tmp" && \
		$(GO) mod init falco >/dev/null 2>&1 && \
		$(GO) get github.com/ysugimoto/falco/cmd/falco@$(FALCO_VERSION) >/dev/null 2>&1 && \
		$(GO) build -o "$(CURDIR)/bin/falco" github.com/ysugimoto/falco/cmd/falco; \
		status=$$?; rm -rf "$$tmp"; exit $$status; \
	} || { echo "falco could not be installed"; [ "$$CI" != true ] || exit 1; }

test: deps verify
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

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

# release builds the commit HEAD names, not the working tree: from a clean
# clone (where go records the revision, its time and, at a tag, the
# version; in a git worktree it records none) into static binaries, the
# same bytes from the same commit and Go, with SHA256SUMS for sha256sum -c.
# Only the files it writes in RELEASE_DIR are replaced.
RELEASE_DIR ?= bin/release
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64
release:
	@rev=$$(git rev-parse --verify HEAD) || exit 1; \
	[ -z "$$(git status --porcelain)" ] || echo "make release: building $$rev; uncommitted changes are left out"; \
	src=$$(mktemp -d) && trap 'rm -rf "$$src"' EXIT && trap 'exit 130' INT TERM && \
	git init -q "$$src" && git -C "$$src" fetch -q --tags "$(CURDIR)" HEAD && \
	git -C "$$src" -c advice.detachedHead=false checkout -q "$$rev" && \
	mkdir -p "$(RELEASE_DIR)" && out=$$(cd "$(RELEASE_DIR)" && pwd) && \
	rm -f "$$out"/regedge-* "$$out"/SHA256SUMS && \
	for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		(cd "$$src" && CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=true -ldflags="-s -w -buildid=" \
			-o "$$out/regedge-$$os-$$arch" ./compiler/cmd/regedge) || exit 1; \
	done && \
	cd "$$out" && sha256sum regedge-* >SHA256SUMS && cat SHA256SUMS

# image builds the container image of regedge serve from the release's
# linux binaries into IMAGE_DIR, an OCI layout, and pushes it to PUSH when
# given: make image PUSH=registry.example.com/regedge:v1.2.0
IMAGE_DIR ?= bin/image
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64
image: release
	$(GO) run ./compiler/internal/cmd/mkimage -out "$(IMAGE_DIR)" $(if $(PUSH),-push "$(PUSH)") \
		$(foreach p,$(IMAGE_PLATFORMS),"$(RELEASE_DIR)/regedge-$(subst /,-,$(p))")
