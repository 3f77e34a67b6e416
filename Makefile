# weld — build, demo and test entry points. Everything a fresh machine needs is installed here.

CARGO ?= cargo
WELD  := target/debug/weld

.PHONY: all setup build demo test lint unit spec clean fuzz wasm-toolchain wasi-examples python-example

all: build

# System packages: a C compiler and linker (cc) for linking compiled objects.
setup:
	@command -v cc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq build-essential; }

# The wasm toolchain (Debian clang-19, lld, wasi-libc, libc++ for wasm32-wasi): only needed to
# rebuild the checked-in .wasm of examples/wasi-c and examples/wasi-cpp (see
# examples/wasi-c/Makefile). Idempotent: installs nothing when everything is present.
WASM_PACKAGES := clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 libc++-19-dev-wasm32 \
                 libc++abi-19-dev-wasm32
wasm-toolchain:
	@missing=$$(for p in $(WASM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Rebuild the WASI example programs' .wasm (they are checked in; this needs wasm-toolchain).
wasi-examples: wasm-toolchain
	$(MAKE) -C examples/wasi-c wasm
	$(MAKE) -C examples/wasi-cpp wasm

# The Python command component of examples/python (componentize-py; ~18 MB, not checked in).
python-example:
	$(MAKE) -C examples/python app.wasm

build: setup
	$(CARGO) build --workspace

# The main job: compile the example and run it (see examples/README.md).
demo: build
	$(MAKE) -C examples/core-host run WELD=$(CURDIR)/$(WELD)
	$(MAKE) -C examples/component-host run WELD=$(CURDIR)/$(WELD)

# All tests: formatting, lints (warnings are errors), unit tests, spec suites, examples.
test: setup lint
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Differential fuzzing against Wasmtime (see fuzz/src/main.rs): FUZZ_CASES core cases
# (default 10000) from seed FUZZ_SEED (default 0), FUZZ_COMPONENT_CASES component cases (default
# a tenth); divergences are written to fuzz/divergences/. Ends with `N cases, N divergences, N crashes`.
FUZZ_CASES ?= 10000
FUZZ_SEED ?= 0
fuzz: setup
	$(CARGO) build -p weld-fuzz
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_SEED=$(FUZZ_SEED) target/debug/weld-fuzz run
