#!/usr/bin/env bash
# Regenerate compiler/src/link/startup-order.txt: the runtime functions a WASI command executable
# runs before and while a hello world prints (`make startup-order`).
#
# How: compile examples/wasi-c/hello.wasm into a musl executable (the runtime `make runtime-musl`
# builds), run it under callgrind, and keep the symbol of every Rust function (`_R...`) and
# every `weld_*` entry point it executed, as linker symbols (`--demangle=no`). `weld compile`
# lays those functions out together when it links an executable with gold (see
# compiler/src/link/startup_order.rs), so that start-up maps a few 64 KiB windows of code
# instead of nearly all of them. Crate hashes in the names do not matter: the linker side
# compares names without them. Regenerate after large changes to the start-up path; the test
# `startup_order_list_still_names_the_runtime` says when too little of the list still matches.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind callgrind_annotate; do
  command -v "$tool" >/dev/null 2>&1 || { echo "startup-order: $tool is missing (apt-get install valgrind)" >&2; exit 1; }
done
weld=${WELD:-target/debug/weld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
WELD_LIBC=musl "$weld" compile examples/wasi-c/hello.wasm -o "$tmp/hello"
valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$tmp/profile" "$tmp/hello" >/dev/null
out=compiler/src/link/startup-order.txt
{
  echo "# Runtime functions a WASI hello world runs at start-up (tests/startup-order.sh wrote this)."
  # Callgrind names a function in full the first time it appears as `fn=(id) name` or
  # `cfn=(id) name`; recursion levels carry a `'N` suffix.
  sed -nE "s/^c?fn=\([0-9]+\) ([^ ']+)('[0-9]+)?$/\1/p" "$tmp/profile" | grep -E '^(_R|weld_)' | sort -u
} > "$out"
echo "startup-order: $(grep -vc '^#' "$out") functions -> $out"
