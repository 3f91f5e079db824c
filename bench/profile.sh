#!/bin/bash
# bench/profile.sh: where the hook's systemd path spends its time, phase by
# phase, on this machine: a diagnostic, not a bench figure (those come from
# bench/run.sh, next to a baseline).
#
#   sudo bench/profile.sh [N]          # N fresh containers (default 30)
#
# Copies the built tree (scripts/build.sh first) to a temp dir, instruments
# it (bench/profile.py: a clock at each phase of hook.c and mounts.c, the
# worker's jobs stamped), builds the hook there and registers it at
# createRuntime of N Debian 12 containers, each `runc create`d and deleted.
# Prints, per phase, the median and mean in µs and the cumulative mean;
# the worker's rows give when its jobs start (µs after main() began) and
# how long they take.  OSH_E2E_KEEP=1 keeps the temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-30}
if [[ $(id -u) != 0 ]]; then
    echo "bench/profile.sh: run as root" >&2
    exit 1
fi
[[ -f $ROOT/Makefile ]] || { echo "bench/profile.sh: build the tree first (scripts/build.sh)" >&2; exit 1; }
# shellcheck source=tests/e2e/lib.sh disable=SC1091
. "$ROOT/tests/e2e/lib.sh"
e2e_init
SRC=$E2E_TMP/src
LOG=$E2E_TMP/prof.log
mkdir -p "$SRC"
(cd "$ROOT" && tar cf - --exclude=.git --exclude='*.o' --exclude=autom4te.cache .) | tar xf - -C "$SRC"
python3 "$ROOT/bench/profile.py" "$SRC"
make -s -C "$SRC" oci-systemd-hook >"$E2E_TMP/build.log" 2>&1 || { cat "$E2E_TMP/build.log" >&2; exit 1; }
for ((i = 0; i < N; i++)); do
    b=$E2E_TMP/c$i
    e2e_bundle "$b" bookworm
    jq --arg hook "$SRC/oci-systemd-hook" --arg log "$LOG" \
        '.hooks.createRuntime = [{path: $hook, args: ["oci-systemd-hook", "createRuntime"], env: ["OSH_PROF_LOG=" + $log]}]' \
        "$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
    name=$(basename "$E2E_TMP")-c$i
    _e2e_containers+=("runc|$name|$b")
    runc --root "$E2E_STATE/runc" create --bundle "$b" "$name" </dev/null >/dev/null 2>&1 ||
        echo "bench/profile.sh: runc create $name failed" >&2
    runc --root "$E2E_STATE/runc" delete -f "$name" >/dev/null 2>&1 || true
    _e2e_forget runc "$name"
    e2e_bundle_cleanup "$b"
done
python3 - "$LOG" <<'PY'
import statistics, sys
rows, order = {}, []
runs = 0
for line in open(sys.argv[1]):
    runs += 1
    seen = {}
    for kv in line.strip().split(";"):
        if not kv:
            continue
        k, v = kv.rsplit("=", 1)
        seen[k] = seen.get(k, 0) + 1
        key = k if seen[k] == 1 else f"{k} #{seen[k]}"
        if key not in rows:
            rows[key] = []
            order.append(key)
        rows[key].append(float(v) * 1000)
print(f"# {runs} runs; µs")
print(f"{'phase':58s} {'median':>7s} {'mean':>7s} {'cum':>7s}")
cum = 0.0
for k in order:
    v = rows[k]
    if k.startswith("worker:"):
        continue
    cum += statistics.mean(v)
    print(f"{k:58s} {statistics.median(v):7.0f} {statistics.mean(v):7.0f} {cum:7.0f}")
for k in order:
    if k.startswith("worker:"):
        v = [x for x in rows[k] if x > 0]
        if v:
            print(f"{k:58s} {statistics.median(v):7.0f} {statistics.mean(v):7.0f}")
PY
e2e_done >/dev/null
