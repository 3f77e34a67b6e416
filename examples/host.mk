# Shared by the C host examples (core-host, component-host, plugin-host): where weld, the
# runtime archive and weld.h are, and how a host program is compiled and linked.
#   make run WELD=/path/to/weld   (the top-level `make demo` does this)
# libweld_runtime.a is taken from $(WELD_RUNTIME_LIB), else from beside the weld executable,
# where `cargo build --workspace` puts both.

WELD ?= ../../target/debug/weld
CC ?= cc
BUILD ?= build
WELD_RUNTIME_LIB ?= $(dir $(WELD))libweld_runtime.a
INCLUDE := ../../runtime-support/include
CFLAGS_HOST := -std=c11 -Wall -Wextra -Werror -I$(BUILD) -I$(INCLUDE)
LIBS_HOST := $(WELD_RUNTIME_LIB) -lpthread -ldl -lm

.PHONY: run clean
.DEFAULT_GOAL := run

clean:
	rm -rf $(BUILD)
