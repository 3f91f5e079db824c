#!/bin/bash
# Load: 20 systemd containers (Debian 12, runc on this hybrid host, hook
# at createRuntime) started at once.  All reach `running` (180 s allowed
# for the lot), all stop on signal 37 sent at once and are deleted; host
# mounts and canaries unchanged, no runtime state and no cgroups left.
#
# Deterministic on a busy host:
# - every systemd needs inotify instances, and fs.inotify.max_user_instances
#   counts them per user for the whole machine: all root containers share
#   it (at the default 128, 16 of 50 concurrent containers reach running;
#   the others fail systemd-ask-password-*.path). For its own duration the
#   test raises it (and max_user_watches when that is below what N
#   containers need) and restores the old values at exit, saying so. A value
#   someone else changed meanwhile is left alone.
# - it runs in a mount namespace of its own (lib.sh: e2e_own_host), so other
#   processes' mounts and files under /tmp and /run are not in its host
#   snapshot, and a mount the hook leaked would be.
#
#   tests/e2e/test-load.sh                      # as root
#   OSH_LOAD_N=40 tests/e2e/test-load.sh        # more containers
#   HOOK=/abs/oci-systemd-hook ...              # another build
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$(dirname "$0")/lib.sh"

N=${OSH_LOAD_N:-20}
BOOT_TIMEOUT=${OSH_LOAD_TIMEOUT:-180}
STOP_TIMEOUT=60

# inotify per container, generously (systemd 252 uses about 10 instances
# and 100 watches at `running`: see the peak printed below)
INOTIFY_PER_CT_INSTANCES=64
INOTIFY_PER_CT_WATCHES=2048

# raise_sysctl KEY MIN: sets KEY to MIN when it is lower; at exit puts the
# old value back if KEY still has ours.
raise_sysctl() {
    local key=$1 min=$2 f old
    f=/proc/sys/${key//.//}
    old=$(cat "$f")
    if ((old >= min)); then
        echo "# $key = $old (>= $min needed for $N containers): unchanged"
        return 0
    fi
    echo "$min" >"$f"
    echo "# $key raised from $old to $min for this test (restored at exit)"
    e2e_at_exit "restore_sysctl $key $old $min"
}
# shellcheck disable=SC2317  # called from the EXIT trap
restore_sysctl() { # KEY OLD OURS
    local f=/proc/sys/${1//.//}
    if [[ $(cat "$f") == "$3" ]]; then
        echo "$2" >"$f"
        echo "# $1 restored to $2"
    else
        echo "# $1 changed by someone else meanwhile ($(cat "$f")): not restored to $2"
    fi
}

# inotify_use: "INSTANCES WATCHES" that processes hold right now
inotify_use() {
    local fd f i=0 w=0
    for fd in /proc/[0-9]*/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == anon_inode:inotify ]] || continue
        i=$((i + 1))
        f=${fd/\/fd\//\/fdinfo\/}
        w=$((w + $(grep -c '^inotify wd:' "$f" 2>/dev/null || true)))
    done
    echo "$i $w"
}

e2e_own_host "$@"
e2e_init
[[ -x $HOOK ]] || { fail "the hook $HOOK is built"; e2e_done; }
read -r inotify_i0 inotify_w0 < <(inotify_use)
raise_sysctl fs.inotify.max_user_instances $((inotify_i0 + N * INOTIFY_PER_CT_INSTANCES))
raise_sysctl fs.inotify.max_user_watches $((inotify_w0 + N * INOTIFY_PER_CT_WATCHES))
e2e_image bookworm >/dev/null
e2e_host_snapshot "$E2E_TMP/host.before"

names=()
for i in $(seq "$N"); do
    e2e_bundle "$E2E_TMP/c$i" bookworm stage=createRuntime
    names+=("c$i")
done

# all at once
t0=$(_e2e_now)
e2e_run_all "$E2E_TMP" "${names[@]}"
started=$((N - E2E_RUN_FAILED))
e2e_check "$started of $N containers created and started at once ($(_e2e_since "$t0") s)" \
    test "$started" = "$N"

# one poller at a time: the others boot meanwhile
running=0
for i in $(seq "$N"); do
    left=$((BOOT_TIMEOUT - $(date +%s) + ${t0%.*}))
    ((left > 5)) || left=5
    st=$(e2e_wait_running runc "c$i" "$left") || true
    if [[ $st == running ]]; then
        running=$((running + 1))
    else
        e2e_log "c$i: $st"
        e2e_failed_units runc "c$i" >/dev/null || true
    fi
done
e2e_check "$running of $N reach running ($(_e2e_since "$t0") s after the start, limit ${BOOT_TIMEOUT} s)" \
    test "$running" = "$N"
read -r inotify_i inotify_w < <(inotify_use)
echo "# inotify in use with $N containers running: $inotify_i instances, $inotify_w watches (before: $inotify_i0, $inotify_w0)"

# each container has its own machine-id, from its container_uuid
ids_ok=0
for i in $(seq "$N"); do
    want=$(jq -r '.process.env[] | select(startswith("container_uuid=")) | ltrimstr("container_uuid=")' \
        "$E2E_TMP/c$i/config.json" | tr -d - | tr A-F a-f)
    got=$(e2e_exec runc "c$i" cat /etc/machine-id 2>/dev/null) || got=
    if [[ $got == "$want" ]]; then
        ids_ok=$((ids_ok + 1))
    else
        e2e_log "c$i: machine-id \`$got', expected \`$want'"
    fi
done
e2e_check "$ids_ok of $N have /etc/machine-id = their own container_uuid" test "$ids_ok" = "$N"

# signal 37 to all, then wait for all
e2e_stop_all "$STOP_TIMEOUT" "${names[@]}"
# runc delete, then look (_e2e_forget would remove what is left)
e2e_delete_all "$E2E_TMP" "${names[@]}"
for n in "${names[@]}"; do
    _e2e_forget runc "$n"
done

left=$(e2e_leftovers) || true
e2e_check "no runtime state left behind${left:+: $left}" test -z "$left"
for i in $(seq "$N"); do
    e2e_bundle_cleanup "$E2E_TMP/c$i"
done
e2e_host_snapshot "$E2E_TMP/host.after"
e2e_host_check "host mounts, canaries and entries unchanged" "$E2E_TMP/host.before" "$E2E_TMP/host.after" || true
e2e_done
