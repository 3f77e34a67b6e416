#!/usr/bin/env bash
# Runtime hygiene (issue 6): runtime-support's unit tests, compiled WASI programs and the C
# component host example under valgrind's memcheck; any invalid access, invalid free or use of
# uninitialised memory fails the run.
#
# - `--max-stackframe=16384`: a trap unwinds from the signal handler's alternate stack straight
#   back to the thread's stack. On threads whose alternate stack lies close to their stack,
#   memcheck's default (2 MB) takes that jump for a huge stack allocation and marks the live
#   frames above it undefined; with a small limit it is seen as the stack switch it is.
# - Programs are compiled with explicit bounds checks (in guard-region mode an out-of-bounds
#   access deliberately faults in the guard region, which memcheck reports as an invalid read)
#   and linked with `--dynamic`: memcheck cannot follow a statically linked glibc.
#   For the same reason the unit test that faults in a guard region on purpose is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null 2>&1; then
  echo "SKIPPED: valgrind is not installed (apt-get install valgrind)"
  exit 0
fi
vg=(valgrind -q --error-exitcode=99 --max-stackframe=16384)
weld=${WELD:-target/debug/weld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="${vg[*]}" \
  cargo test -q -p weld-runtime --lib -- --test-threads=1 \
  --skip tests::accesses_past_a_guarded_memory_trap_as_out_of_bounds

programs=0
expect() { # expect STATUS PROGRAM ARGS...
  local want=$1; shift
  local status=0
  "${vg[@]}" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
  if [ "$status" != "$want" ]; then
    cat "$tmp/err"
    echo "valgrind: $* exited $status, expected $want"
    exit 1
  fi
  programs=$((programs + 1))
}
for ex in hello args bigout trap files; do
  "$weld" compile --bounds-checks explicit --dynamic "examples/wasi-c/$ex.wasm" -o "$tmp/$ex"
done
mkdir -p "$tmp/data"
echo "from the host" >"$tmp/data/input.txt"
expect 0 "$tmp/hello"
expect 0 "$tmp/args" one two
expect 0 "$tmp/bigout"
expect 134 "$tmp/trap" oob
expect 134 "$tmp/trap" abort
expect 0 "$tmp/files" --dir "$tmp/data::/data" /data
# The C component host: compiled host entries and host calls write and read C values in the
# host's own memory, and free the host's results.
make -s -C examples/component-host BUILD="$tmp/component-host" WELD="$(realpath "$weld")" \
  "$tmp/component-host/host" >/dev/null
expect 0 "$tmp/component-host/host"
echo "valgrind: runtime unit tests and $programs program runs clean"
