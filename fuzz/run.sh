#!/bin/bash
# fuzz/run.sh [SECONDS] [NAME...]: build the libFuzzer harnesses in
# build-fuzz/ (out of tree: --enable-fuzzing CC=clang) and run each for
# SECONDS (default 60; CI: `fuzz/run.sh 60`), one after the other, one
# process at a time.  NAMEs: state config detect plan (default: all).
# Exit 1 if any harness found a crash, leak, timeout or oracle failure;
# the inputs are then in build-fuzz/fuzz/artifacts/NAME/ (copy one into
# fuzz/regress/NAME/ to make it a regression test).
#   OSH_FUZZ_BUILD  build dir (default: build-fuzz in the tree)
#   CC              default clang
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
names=${*:-state config detect plan}
build=${OSH_FUZZ_BUILD:-$top/build-fuzz}
cc=${CC:-clang}

if ! command -v "$cc" >/dev/null; then
    echo "fuzz/run.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; return (int)n * 0; }' |
    "$cc" -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then
    echo "fuzz/run.sh: $cc cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)" >&2
    exit 1
fi

t0=$(date +%s)
# -O1 -g: what libFuzzer's docs use; no -Werror here (clang warns
# differently from the gcc the CI build uses).  --disable-static-hook:
# ASan cannot run a -static-pie binary (the hook in this build).
CFLAGS=${FUZZ_CFLAGS:--O1 -g} "$top/fuzz/oot-build.sh" "$build" --enable-fuzzing --disable-static-hook CC="$cc" >/dev/null
progs=()
for n in $names; do progs+=("fuzz/fuzz_$n"); done
make -C "$build" -j"${OSH_JOBS:-2}" "${progs[@]}" >"$build/build.log" 2>&1 ||
    { tail -40 "$build/build.log"; exit 1; }
echo "fuzz: built in $(($(date +%s) - t0)) s in $build"
make -C "$build" --no-print-directory fuzz FUZZ_SECONDS="$secs" FUZZ_NAMES="$names"
