#!/bin/bash
# bench/runtime.sh: the per-call overhead of oci-systemd-runtime against the
# real runc it executes, measured side by side in one run (osh-timer,
# interleaved ABBA rounds). dockerd calls the runtime for create, start,
# state (often), kill and delete; all but create and kill pass straight
# through (parse argv, read runtime.conf, look runc up, exec).
#
#   sudo bench/runtime.sh            # N=300 runs per program
#   OSH_BENCH_RT_RUNS=1000 bench/runtime.sh
#
# Rows: `--version` (pure pass-through), `state ID` of a container that
# does not exist (pass-through; runc reads its root and fails the same way
# for both), and `kill ID 15` of one that does not exist (the wrapper
# first asks `runc state ID`, as for a real kill with SIGTERM: the cost of
# the SIGRTMIN+3 decision). Prints a markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${OSH_BENCH_RT_RUNS:-300}
RT=$ROOT/oci-systemd-runtime
RUNC=$(command -v runc)
[[ -x $RT ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }
W=$(mktemp -d /tmp/osh-bench-rt.XXXXXX)
trap 'rm -rf "$W"' EXIT
gcc -O2 -static -o "$W/osh-timer" "$ROOT/bench/osh-timer.c" 2>/dev/null ||
    gcc -O2 -o "$W/osh-timer" "$ROOT/bench/osh-timer.c"
mkdir -p "$W/root"
printf 'runtime = %s\n' "$RUNC" >"$W/runtime.conf"
export OCI_SYSTEMD_RUNTIME_CONFIG=$W/runtime.conf
"$W/osh-timer" run -n "$N" -w 10 -r "$W/raw" \
    label=runc-version "$RUNC" --version :: label=wrapper-version "$RT" --version \
    :: label=runc-state "$RUNC" --root "$W/root" state none \
    :: label=wrapper-state "$RT" --root "$W/root" state none \
    :: label=runc-kill "$RUNC" --root "$W/root" kill none 15 \
    :: label=wrapper-kill "$RT" --root "$W/root" kill none 15 >"$W/tsv"
med() { awk -v l="$1" '$1 == l { print $3 }' "$W/tsv"; }
echo "| call ($N runs each, interleaved) | runc | oci-systemd-runtime | overhead |"
echo "|---|---|---|---|"
for c in version state kill; do
    a=$(med "runc-$c")
    b=$(med "wrapper-$c")
    echo "| \`$c\` | $(awk -v a="$a" 'BEGIN { printf "%.0f µs", a }') | $(awk -v b="$b" 'BEGIN { printf "%.0f µs", b }') | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "+%.0f µs (%.2fx)", b - a, b / a }') |"
done
echo
echo "runc: $("$RUNC" --version | head -1); $(uname -r); $(nproc) CPUs; $(date -u +%F)"
