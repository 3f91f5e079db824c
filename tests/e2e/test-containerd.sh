#!/bin/bash
# containerd 1.6 without Kubernetes: `ctr run --config SPEC`, where SPEC is
# `ctr oci spec` with the hook added by `oci-systemd-hook inject`.
#
# A private containerd (own root, state, sockets, runc root; CRI plugin
# off) imports the Debian 12 image as a one-layer OCI archive; `ctr images
# mount --rw` gives each container a snapshot of it as rootfs. Then:
#   spec-hook:   ctr oci spec, minus its /run tmpfs (as CRI does), + inject:
#                running, 0 failed, the hook's four tmpfs, its
#                /run/host/container-manager, machine-id from
#                container_uuid, stop on SIGRTMIN+3 (37) in < 5 s, exit 0,
#                cgroup gone;
#   spec-plain:  `ctr oci spec` as it is (its own /run tmpfs wins) + the
#                hooks of examples/runc-config.json (path rewritten to $HOOK):
#                running, 0 failed, /run is the spec's (size=65536k);
#   no-hook:     the first spec without inject: systemd does not reach
#                running (it freezes: "Failed to mount API filesystems").
# inject is checked on the way: idempotent, and the hook entry points at
# $HOOK.
#
#   tests/e2e/test-containerd.sh                # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_E2E_KEEP=1 ...                          # keep specs and logs
#   OSH_E2E_CONSOLE=1 ...                       # PID 1's console in NAME/pid1.log
#   OSH_E2E_CONTAINERD_LOG=debug ...            # containerd's log level

# Checks pass code as strings to eval (single quotes on purpose), and some
# functions are only called from such strings.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

NS=osh-e2e
IMAGE=docker.io/library/osh-test:bookworm
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

e2e_init
"$SRC/scripts/deps.sh" containerd runc
e2e_require_hook
UID8=$(e2e_uid)
e2e_cgroup_hold
D=$E2E_TMP/containerd
mkdir -p "$D" "$D/fifo"

# ---------------------------------------------------------------- setup

ctrn() { e2e_ctr "$D" -n "$NS" "$@"; }

e2e_containerd_config "$D" 'disabled_plugins = ["io.containerd.grpc.v1.cri"]' >"$D/config.toml"
t0=$(_e2e_now)
e2e_check "private containerd starts ($(containerd --version | awk '{ print $3 }'))" \
    e2e_containerd_start "$D"

rootfs=$(e2e_image bookworm)
e2e_oci_archive "$rootfs" "$E2E_TMP/image.tar" "$IMAGE" \
    '{"Cmd": ["/sbin/init"], "StopSignal": "SIGRTMIN+3", "Env": ["'"$PATH_ENV"'"]}'
if ctrn images import "$E2E_TMP/image.tar" >"$E2E_TMP/import.log" 2>&1 &&
    ctrn images ls -q | grep -qxF "$IMAGE"; then
    ok "image imported from a one-layer OCI archive ($(_e2e_since "$t0") s with the start)"
else
    fail "image imported from a one-layer OCI archive"
    sed 's/^/#   /' "$E2E_TMP/import.log" >&2
    e2e_done
fi
rm -f "$E2E_TMP/image.tar"

# the base: `ctr oci spec`
ctr oci spec >"$E2E_TMP/oci-spec.json"

# mkspec NAME [keep-run]: $E2E_TMP/NAME.json from `ctr oci spec`: the
# snapshot rootfs, /sbin/init, container_uuid, a cgroup namespace and an
# own cgroup (no hook yet). Without keep-run the spec's /run tmpfs is
# dropped, as the CRI plugin does.
mkspec() {
    local name=$1 keep=${2:-} dir=$E2E_TMP/$1
    mkdir -p "$dir/rootfs"
    ctrn images mount --rw "$IMAGE" "$dir/rootfs" >/dev/null
    e2e_at_exit "ctrn images unmount --rm '$dir/rootfs' >/dev/null 2>&1; _e2e_console_stop '$dir'"
    if [[ ${OSH_E2E_CONSOLE:-} == 1 ]]; then
        pts=$(_e2e_console "$dir/pid1.log")
    fi
    jq --arg root "$dir/rootfs" --arg uuid "$(cat /proc/sys/kernel/random/uuid)" --arg pts "${pts:-}" \
        --arg cg "/osh-e2e/$UID8-$name" --arg host "$name" --arg path "$PATH_ENV" \
        --argjson keep "$([[ $keep == keep-run ]] && echo true || echo false)" '
        .root.path = $root
        | .process.args = ["/sbin/init"]
        | .process.env = [$path, "container_uuid=" + $uuid]
        | .process.terminal = false
        | .hostname = $host
        | .linux.cgroupsPath = $cg
        | .linux.namespaces += [{type: "cgroup"}]
        | if $keep then . else .mounts |= map(select(.destination != "/run")) end
        | if $pts != ""
          then .mounts += [{destination: "/dev/console", type: "bind", source: $pts,
                            options: ["bind", "nosuid", "noexec"]}]
          else . end
        ' "$E2E_TMP/oci-spec.json" >"$E2E_TMP/$name.json"
}

# inject_check FILE: inject the hook, check the entry and idempotence.
inject_check() {
    local f=$1 before
    "$HOOK" inject "$f"
    before=$(sha256sum <"$f")
    "$HOOK" inject "$f"
    [[ $(jq -r --arg h "$HOOK" '[.hooks.createRuntime[] | select(.path == $h)] | length' "$f") == 1 &&
        $(jq -c '.hooks.createRuntime[0].args' "$f") == '["oci-systemd-hook","createRuntime"]' &&
        $(sha256sum <"$f") == "$before" ]]
}

alive() { ctrn tasks ls 2>/dev/null | awk -v id="$1" '$1 == id && $3 == "RUNNING" { f = 1 } END { exit !f }'; }
status() { ctrn tasks ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
cexec() {
    local id=$1
    shift
    timeout 10 ctr --address "$D/containerd.sock" -n "$NS" tasks exec --fifo-dir "$D/fifo" --exec-id "x$RANDOM$RANDOM" "$id" "$@" </dev/null
}

# start NAME: ctr run --config; the container is deleted at exit.
start() {
    local name=$1
    e2e_at_exit "ctrn tasks kill -s SIGKILL '$name' >/dev/null 2>&1; sleep 0.2;
        ctrn tasks delete -f '$name' >/dev/null 2>&1; ctrn containers delete '$name' >/dev/null 2>&1;
        e2e_rm_cgroup '/osh-e2e/$UID8-$name' 2>/dev/null"
    ctrn run -d --null-io --runc-root "$D/runc" --config "$E2E_TMP/$name.json" "$name" \
        >"$E2E_TMP/$name.run.log" 2>&1
}

# stop NAME: SIGRTMIN+3, wait for STOPPED (30 s), print the seconds, then
# delete the task (its exit status in $E2E_TMP/NAME.exit) and container.
stop() {
    local name=$1 t0 st
    t0=$(_e2e_now)
    ctrn tasks kill -s SIGRTMIN+3 "$name" >/dev/null 2>&1 || true
    while st=$(status "$name"); [[ $st == RUNNING ]]; do
        if (($(date +%s) - ${t0%.*} >= 30)); then
            ctrn tasks kill -s SIGKILL "$name" >/dev/null 2>&1 || true
            break
        fi
        sleep 0.05
    done
    _e2e_since "$t0"
    ctrn tasks delete "$name" >"$E2E_TMP/$name.exit" 2>&1 || true
    ctrn containers delete "$name" >/dev/null 2>&1 || true
}

# boot NAME: start, wait for running, 0 failed units; sets $st.
boot() {
    local name=$1 t0 n
    t0=$(_e2e_now)
    if ! start "$name"; then
        fail "$name: ctr run"
        sed 's/^/#   /' "$E2E_TMP/$name.run.log" >&2
        st=start-failed
        return 0
    fi
    st=$(e2e_wait_systemd 60 "alive $name" "cexec $name") || true
    e2e_check "$name: reaches running in $(_e2e_since "$t0") s (got $st)" test "$st" = running
    if [[ $st != running ]]; then
        if [[ -s $E2E_TMP/$name/pid1.log ]]; then
            tail -n 5 "$E2E_TMP/$name/pid1.log" | sed 's/^/#   PID 1: /' >&2
        else
            e2e_log "rerun with OSH_E2E_CONSOLE=1 for PID 1's messages"
        fi
    fi
    if [[ $st != gone ]]; then
        n=$(e2e_failed_units_in "cexec $name") || n='?'
        e2e_check "$name: 0 failed units (got $n)" test "$n" = 0
    fi
}

# ---------------------------------------------------------------- spec-hook

name=spec-hook
mkspec "$name"
e2e_check "inject: createRuntime entry for $HOOK, a second inject changes nothing" \
    inject_check "$E2E_TMP/$name.json"
boot "$name"
if [[ $st != gone && $st != start-failed ]]; then
    mi=$(cexec "$name" cat /proc/1/mountinfo) || mi=
    got=$(e2e_hook_tmpfs <<<"$mi")
    e2e_check "$name: tmpfs on the hook's four targets (got: $got)" \
        test "$got" = "/run /run/lock /tmp /var/log/journal"
    got=$(cexec "$name" cat /run/host/container-manager 2>/dev/null) || got=
    e2e_check "$name: /run/host/container-manager says oci-systemd-hook (got $got)" \
        test "$got" = oci-systemd-hook
    want=$(jq -r '.process.env[] | select(startswith("container_uuid=")) | ltrimstr("container_uuid=")' \
        "$E2E_TMP/$name.json" | tr -d -)
    got=$(cexec "$name" cat /etc/machine-id 2>/dev/null) || got=
    e2e_check "$name: /etc/machine-id is container_uuid ($want, got $got)" test "$got" = "$want"
    secs=$(stop "$name")
    e2e_check "$name: stops on SIGRTMIN+3 in < 5 s (${secs}s)" \
        awk -v s="$secs" 'BEGIN { exit !(s < 5) }'
    # `ctr tasks delete` prints "... exit status N" only when N != 0
    e2e_check "$name: exits 0 ($(tr '\n' ' ' <"$E2E_TMP/$name.exit"))" \
        test ! -s "$E2E_TMP/$name.exit"
    e2e_check "$name: its cgroup is gone after the delete" \
        test ! -e "/sys/fs/cgroup/systemd/osh-e2e/$UID8-$name"
fi

# ---------------------------------------------------------------- spec-plain

name=spec-plain
mkspec "$name" keep-run
jq --arg h "$HOOK" '.hooks.createRuntime[0].path = $h' "$SRC/examples/runc-config.json" >"$E2E_TMP/hooks.json"
jq -s '.[0] * .[1]' "$E2E_TMP/$name.json" "$E2E_TMP/hooks.json" >"$E2E_TMP/$name.json.new"
mv "$E2E_TMP/$name.json.new" "$E2E_TMP/$name.json"
boot "$name"
if [[ $st != gone && $st != start-failed ]]; then
    mi=$(cexec "$name" cat /proc/1/mountinfo) || mi=
    got=$(awk '$5 == "/run" { for (i = 7; $i != "-"; i++) ; print $(i + 1), $(i + 3) }' <<<"$mi" | tail -n 1)
    e2e_check "$name: /run is the spec's own tmpfs, size=65536k (got: $got)" \
        grep -q '^tmpfs .*size=65536k' <<<"$got"
    secs=$(stop "$name")
    e2e_check "$name: stops on SIGRTMIN+3 in < 5 s (${secs}s)" \
        awk -v s="$secs" 'BEGIN { exit !(s < 5) }'
fi

# ---------------------------------------------------------------- no-hook

name=no-hook
mkspec "$name"
if start "$name"; then
    # systemd either exits or, here, freezes ("Failed to mount API
    # filesystems. Freezing execution."): is-system-running stays offline
    st=$(e2e_wait_systemd 10 "alive $name" "cexec $name") || true
    e2e_check "$name: without the hook systemd does not boot in 10 s (got $st)" \
        eval '[[ $st == gone || $st == timeout:* ]]'
    # a frozen systemd ignores SIGRTMIN+3
    ctrn tasks kill -s SIGKILL "$name" >/dev/null 2>&1 || true
    stop "$name" >/dev/null
else
    fail "$name: ctr run"
fi

for name in spec-hook spec-plain no-hook; do
    e2e_rm_cgroup "/osh-e2e/$UID8-$name" || true
done
e2e_check "no cgroups or runtime state left" e2e_no_leftovers
e2e_done
