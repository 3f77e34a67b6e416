# weld — build, demo and test entry points. Everything a fresh machine needs is installed here.

CARGO ?= cargo
WELD  := target/debug/weld

.PHONY: all setup build demo test lint unit spec clean

all: build

# System packages: a C compiler and linker (cc) for linking compiled objects.
setup:
	@command -v cc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq build-essential; }

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
