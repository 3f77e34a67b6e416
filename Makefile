# weld — build, demo and test entry points. Everything a fresh machine needs is installed here.

CARGO ?= cargo
WELD  := target/debug/weld

.PHONY: all setup build demo demo-build test lint unit spec clean fuzz valgrind wasm-toolchain wasi-examples python-example \
        cross-toolchain runtime-cross runtime-musl cross-test install install-target

all: build

# System packages: a C compiler and linker (cc) for linking compiled objects; musl-gcc and
# musl's libc.a for executables (see runtime-musl); valgrind for the runtime hygiene run;
# Graphviz, whose `dot` lays out `weld inspect -o x.svg` pictures (weld draws them without it).
setup:
	@command -v cc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq build-essential; }
	@command -v musl-gcc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq musl-tools; }
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq valgrind; }
	@command -v dot >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq graphviz; }

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

build: setup runtime-musl
	$(CARGO) build --workspace

demo-build:
	@command -v cc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq build-essential; }
	$(CARGO) build -p weld -p weld-runtime

# Install weld with cargo into PREFIX (cargo's install root: $$CARGO_INSTALL_ROOT, else
# ~/.cargo): one executable with the host's runtime archives built in (compiler/build.rs), musl's
# too since it is built first. `cargo install --path compiler` alone gives the glibc one.
PREFIX ?= $(or $(CARGO_INSTALL_ROOT),$(HOME)/.cargo)
install: setup runtime-musl
	WELD_EMBED_MUSL_RUNTIME=$(CURDIR)/target/x86_64-unknown-linux-musl/release/libweld_runtime.a \
	  $(CARGO) install --locked --path compiler --root $(PREFIX)

# Prepare a cross target for an installed weld: TARGET=aarch64-unknown-linux-gnu (or
# riscv64gc-unknown-linux-gnu, aarch64-unknown-none, riscv64gc-unknown-none-elf) puts its runtime
# archive in $(PREFIX)/lib/weld/$(TARGET)/, where weld looks beside its bin/ (`weld targets`).
install-target: runtime-cross
	@test -n "$(TARGET)" || { echo "install-target: set TARGET=<triple> (see weld targets)" >&2; exit 1; }
	@test -f target/$(TARGET)/release/libweld_runtime.a || { echo "install-target: no runtime is built for $(TARGET)" >&2; exit 1; }
	mkdir -p $(PREFIX)/lib/weld/$(TARGET)
	cp target/$(TARGET)/release/libweld_runtime.a $(PREFIX)/lib/weld/$(TARGET)/

# The main job: compile the example and run it (see examples/README.md). Builds only what the
# demo runs: weld and the host runtime archive (not the fuzzer, benchmarks or their Wasmtime,
# nor the musl runtime: the demo's executables link against glibc when it is missing).
demo: demo-build
	$(MAKE) -C examples/wasi-c run WELD=$(CURDIR)/$(WELD)
	$(MAKE) -C examples/core-host run WELD=$(CURDIR)/$(WELD)
	$(MAKE) -C examples/component-host run WELD=$(CURDIR)/$(WELD)
	$(MAKE) -C examples/plugin-host run WELD=$(CURDIR)/$(WELD)

# All tests: formatting, lints (warnings are errors), unit tests, spec suites, examples, cross
# targets under qemu-user, valgrind.
# `cargo build` first: the tests link executables against target/debug/libweld_runtime.a,
# which `cargo test` alone does not put there.
# runtime-cross first: the cross tests (compiler/tests/cross.rs: the WASI examples, trapping and
# SIMD modules; spec_cross.rs: the core spec suite; aarch64 and riscv64 under qemu-user) need the
# cross toolchain, runtimes and spec runners.
test: setup lint runtime-cross runtime-musl
	$(CARGO) build --workspace
	$(CARGO) test --workspace
	tests/valgrind.sh

# runtime-support's unit tests, compiled WASI programs and the C component host under valgrind
# memcheck (see the script for the two settings it needs and why).
valgrind: build
	tests/valgrind.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Differential fuzzing against Wasmtime (see fuzz/src/main.rs): FUZZ_CASES core cases
# (default 10000) from seed FUZZ_SEED (default 0), FUZZ_COMPONENT_CASES component cases (default
# a tenth); divergences are written to fuzz/divergences/. Ends with `N cases, N divergences, N crashes`.
# Then FUZZ_CROSS of the core cases (default a tenth) again, compiled for aarch64 and for
# riscv64 and run under qemu-user, asserting what they did on x86_64 (0 skips them). Then
# FUZZ_HOSTILE hostile-input cases (default 1000; 0 skips them): damaged inputs for every entry
# point of the `weld` command, ending with a table of cases and findings per entry point.
FUZZ_CASES ?= 10000
FUZZ_SEED ?= 0
FUZZ_CROSS ?= $(shell echo $$(( $(FUZZ_CASES) / 10 )))
FUZZ_HOSTILE ?= 1000
fuzz: setup runtime-cross
	$(CARGO) build -p weld-fuzz -p weld
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_SEED=$(FUZZ_SEED) target/debug/weld-fuzz run
	if [ "$(FUZZ_CROSS)" != 0 ]; then \
	  FUZZ_CROSS=$(FUZZ_CROSS) FUZZ_SEED=$(FUZZ_SEED) target/debug/weld-fuzz cross aarch64 && \
	  FUZZ_CROSS=$(FUZZ_CROSS) FUZZ_SEED=$(FUZZ_SEED) target/debug/weld-fuzz cross riscv64; fi
	if [ "$(FUZZ_HOSTILE)" != 0 ]; then \
	  FUZZ_HOSTILE=$(FUZZ_HOSTILE) FUZZ_SEED=$(FUZZ_SEED) target/debug/weld-fuzz hostile; fi

# Cross targets (aarch64, riscv64 Linux, run under qemu-user). Debian's rustc with its library
# sources builds the runtime's std for other targets (rustup here has only the x86_64 std);
# the cross gcc links static executables. Idempotent: installs nothing when everything is present.
CROSS_TARGETS  := aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu
# Bare metal: the runtime without std (see runtime-support/include/weld_platform.h).
NONE_TARGETS   := aarch64-unknown-none riscv64gc-unknown-none-elf
CROSS_PACKAGES := rustc-web rust-web-src gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu \
                  libc6-dev-arm64-cross libc6-dev-riscv64-cross qemu-user
cross-toolchain:
	@missing=$$(for p in $(CROSS_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# libweld_runtime.a and the spec-script runner weld-wast-run (compiler/tests/spec_cross.rs) per
# cross target (and the no-std runtime per bare-metal target), in
# target/<triple>/release/ where `weld compile --target <triple>` looks for it. Built in its own target directory (another rustc, build-std, panic=abort)
# so that it neither waits for nor invalidates the workspace's normal builds. The bare-metal
# runtime is built for size (opt-level s, one codegen unit, fat LTO, no unwind tables: with
# panic=abort nothing reads them): 249 → 185 KiB on aarch64 (examples/bare-metal/README.md).
runtime-cross: cross-toolchain
	@set -e; for t in $(CROSS_TARGETS); do \
	  cc=$$(echo $$t | sed -e 's/^riscv64gc/riscv64/' -e 's/-unknown-/-/')-gcc; \
	  var=CARGO_TARGET_$$(echo $$t | tr 'a-z-' 'A-Z_')_LINKER; \
	  env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross $$var=$$cc \
	    $(CARGO) build --release -q -p weld-runtime -p weld-wast-runner --target $$t \
	      -Zbuild-std=std,panic_abort --config 'profile.release.panic="abort"'; \
	  mkdir -p target/$$t/release; \
	  cp target/cross/$$t/release/libweld_runtime.a target/$$t/release/libweld_runtime.a; \
	  cp target/cross/$$t/release/weld-wast-run target/$$t/release/weld-wast-run; \
	done
	@set -e; for t in $(NONE_TARGETS); do \
	  env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross \
	    RUSTFLAGS='-C force-unwind-tables=no' \
	    $(CARGO) build --release -q -p weld-runtime --no-default-features --target $$t \
	      -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem \
	      --config 'profile.release.panic="abort"' --config 'profile.release.opt-level="s"' \
	      --config 'profile.release.codegen-units=1' --config 'profile.release.lto="fat"'; \
	  mkdir -p target/$$t/release; \
	  cp target/cross/$$t/release/libweld_runtime.a target/$$t/release/libweld_runtime.a; \
	done

# The runtime for static x86-64 executables linked against musl instead of glibc, in
# target/x86_64-unknown-linux-musl/release/, where `weld compile` looks for it (see
# compiler/src/link/mod.rs: executables use it when it and musl-gcc are there; WELD_LIBC=glibc
# opts out). Why: a static glibc program spends ~300 µs of its start-up in glibc's own
# initialisation on the benchmark VM, musl's none. Built like the cross runtimes (Debian's rustc
# and library sources: rustup has no musl std here). Rebuild it after changing the runtime
# (`make build` and `make test` do). With frame pointers: a trap raised inside the runtime walks
# from the runtime's frames to the wasm frames for its backtrace.
# std without its default features: no backtrace symbolizer (gimli, addr2line, miniz: 190 KB of
# code in every executable, which is linked without debug information anyway). A Rust panic in
# the runtime still prints its message.
runtime-musl: setup cross-toolchain
	env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/cross \
	  CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc \
	  CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C force-frame-pointers=yes" \
	  $(CARGO) build --release -q -p weld-runtime --target x86_64-unknown-linux-musl \
	    -Zbuild-std=std,panic_abort -Zbuild-std-features= \
	    --config 'profile.release.panic="abort"'
	mkdir -p target/x86_64-unknown-linux-musl/release
	cp target/cross/x86_64-unknown-linux-musl/release/libweld_runtime.a \
	  target/x86_64-unknown-linux-musl/release/libweld_runtime.a

# Profile a WASI hello world's start-up and rewrite compiler/src/link/startup-order.txt, the
# runtime functions `weld compile` lays out together in executables (tests/startup-order.sh).
.PHONY: startup-order
startup-order: build
	tests/startup-order.sh

# The cross tests: examples and trap/SIMD modules compiled for each cross target and run under
# qemu-user (compiler/tests/cross.rs), and the core spec suite there (spec_cross.rs).
cross-test: runtime-cross
	$(CARGO) test -p weld --test cross --test spec_cross -- --nocapture

# Performance against Wasmtime 48.0.8 and native C (issue 5; bench/src/main.rs): writes
# bench/results/latest.{json,md,svg}. BENCH=name runs one Sightglass benchmark (or a directory
# such as shootout, or a section: startup, calls, compile-python) into target/bench/partial.*.
# Installs the Wasmtime CLI (~8 min) and wasm-tools (~3 min) once if missing. Not part of `test`.
# The bare-metal runtime's weight per target, one line each (`runtime <triple>: N KiB`): text
# and read-only data of examples/bare-metal's image, less its start code and the component's
# own code (release runtime, explicit bounds checks).
.PHONY: size
size: runtime-cross
	$(CARGO) build -q -p weld
	@for a in aarch64 riscv64; do \
	  $(MAKE) -s --no-print-directory -C examples/bare-metal ARCH=$$a size-runtime || exit 1; \
	done

.PHONY: bench
WASMTIME_VERSION := 48.0.8
bench: setup runtime-musl
	$(CARGO) build --release -p weld -p weld-runtime -p weld-bench
	@export PATH="$$HOME/.cargo/bin:$$PATH"; \
	if ! wasmtime --version 2>/dev/null | grep -q ' $(WASMTIME_VERSION)'; then \
	  echo "bench: installing wasmtime-cli $(WASMTIME_VERSION) (cargo install, ~8 minutes, once)" >&2; \
	  $(CARGO) install wasmtime-cli --version $(WASMTIME_VERSION) --locked; \
	fi; \
	if ! command -v wasm-tools >/dev/null 2>&1; then \
	  echo "bench: installing wasm-tools (cargo install, ~3 minutes, once; composes cm-online-stats for Wasmtime)" >&2; \
	  $(CARGO) install wasm-tools --locked || echo "bench: wasm-tools not installed; cm-online-stats is skipped for Wasmtime" >&2; \
	fi; \
	BENCH="$(BENCH)" target/release/weld-bench
