#!/bin/bash
# bench/peers.sh: only the boot rounds of bench/run.sh: boot to `running` of
# the same Debian 12 rootfs under the hook and its peers, interleaved, and
# the multi-service image; the same functions (bench/lib.sh), the same
# tables, printed (and to OSH_PEERS_OUT).  bench/run.sh runs these rounds
# too, as part of its one results file; this is the quick look.
#
#   sudo bench/peers.sh
#
# Environment: OSH_PEERS_ROUNDS (10), OSH_PEERS_SVC_ROUNDS (5),
# OSH_PEERS_VARIANTS (hook and all available peers), OSH_PEERS_SVC_VARIANTS
# (hook nspawn podman:3; V:N boots in the first N rounds only),
# OSH_PEERS_SVC_TIMEOUT (30), OSH_PEERS_OUT (results file; default stdout
# only).  Uses the hook of the build tree ($HOOK to override).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
[[ $(id -u) == 0 ]] || { echo "bench/peers.sh: run as root" >&2; exit 1; }
export OSH_E2E_TMPROOT=/tmp/osh-bench
HOOK=${HOOK:-$ROOT/oci-systemd-hook}
export HOOK
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
e2e_init
e2e_require_hook
e2e_cgroup_hold
W=$E2E_TMP
TIMER=$W/osh-timer
bench_timer "$TIMER"
T_BEGIN=$EPOCHREALTIME
LOAD_FACTS_BEGIN=$(bench_load_facts)
bench_sampler_start "$W/load.samples"

read -ra VARIANTS <<<"${OSH_PEERS_VARIANTS:-hook $(bench_peers_avail)}"
svc=()
for v in ${OSH_PEERS_SVC_VARIANTS:-hook nspawn podman:3}; do svc+=("svc-$v"); done
bench_engines_setup "${VARIANTS[@]}" "${svc[@]}"
run_set boot "${OSH_PEERS_ROUNDS:-10}" "${VARIANTS[@]}"
bench_dockerd_stop
BOOT_TIMEOUT=${OSH_PEERS_SVC_TIMEOUT:-30} run_set svc "${OSH_PEERS_SVC_ROUNDS:-5}" "${svc[@]}"
bench_sampler_stop

out=$W/report.md
{
    echo "# bench/peers.sh, $(date -u '+%Y-%m-%d %H:%M') UTC, $(hostname -s), $(nproc) CPUs, $(uname -r)"
    echo
    echo "$(bench_versions); image systemd $(dpkg-query --admindir="$IMAGE/var/lib/dpkg" -W -f '${Version}' systemd)"
    echo
    boot_table boot "Debian 12 minimal" "${VARIANTS[@]}"
    echo
    boot_table svc "multi-service (ssh nginx postgresql cron rsyslog)" "${svc[@]}"
    echo
    echo "Machine before: $LOAD_FACTS_BEGIN. After: $(bench_load_facts). During: $(bench_load_summary 1)." \
        "$(calc "$EPOCHREALTIME - $T_BEGIN" %.0f) s."
} >"$out"
cat "$out"
[[ -n ${OSH_PEERS_OUT:-} ]] && cp "$out" "$OSH_PEERS_OUT"
exit 0
