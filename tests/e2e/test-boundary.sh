#!/bin/bash
# shellcheck disable=SC2317,SC2016,SC2001,SC2153  # cases are called by name; probe snippets are sh code
# The trust boundary (issue 11): the hook runs as host root, and what it
# creates, chowns, copies or mounts must stay on the rootfs's own mount and
# in the container's own mount namespace, cgroup and process. Each case is a
# real container (runc on this hybrid host; runc and crun in a private
# cgroup2 namespace for the v2 classes) or a direct invocation, built so
# that the hook before the fix (main e98c4ec) crosses the boundary, and
# checks the contract of the fix:
#   - a tmpfs destination that resolves (image symlinks) onto another mount
#     (a volume, cgroupfs, ...) is skipped with a warning for /tmp,
#     /run/lock, /var/log/journal, /var/lib/systemd (the container still
#     boots), refused for /run; nothing is ever created in a volume;
#   - a mount the hook makes never shows in another mount namespace: a
#     shared rootfs (rootfsPropagation shared/rshared) is refused;
#   - copy-up keeps modes and owners (the tmpfs root included), never
#     discloses what the container could not read, never opens a device,
#     never turns holes into memory;
#   - the hook acts only for the container's own init, in a cgroup of the
#     container's own, with limits it cannot lift;
#   - it copes with big mount tables, non-canonical root.path, blanks in
#     mount points, an open stdin, and prints image-chosen names safely.
# Every case records the host (hostile-lib.sh's hx_snapshot: canary tree,
# host files, mount table) before, while the container lives, and after.
# Notes, what the old hook does in each case, timings: boundary-NOTES.md.
#
#   tests/e2e/test-boundary.sh                   # as root, about 3-4 min
#   HOOK=/work/old/oci-systemd-hook tests/e2e/test-boundary.sh
#   OSH_BOUNDARY_ONLY='vol-|sparse' ...          # only cases matching an ERE
#   OSH_E2E_KEEP=1 ...                           # keep bundles and logs
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=hostile-lib.sh disable=SC1091
. "$(dirname "$0")/hostile-lib.sh"

LIMIT=2097152
# set by bx_begin / bx_run, read by the checks
id='' id12='' B='' R='' BX_RT=runc BX_RC=0 BX_SECS=0 BX_ERR='' BX_PROBE=0
BX_PREFIX=() BX_GLOBAL=()

# Causes, loose: the fixed hook's wording is not known here.
CAUSE_MOUNT='another mount|other mount|not the rootfs|rootfs.s own mount|volume|cross|mount point|outside'
CAUSE_PROP='rootfsPropagation|propagation|shared'
CAUSE_PROC='not the container|init'
CAUSE_CGSHARED='cgroup.*(shared|other process|foreign)|(shared|other process|foreign).*cgroup'

# ------------------------------------------------------------ framework

# bx_begin NAME: the next case; false when OSH_BOUNDARY_ONLY does not
# select it. Sets id, id12, B (bundle), R (rootfs).
bx_begin() {
    hx_next bx "$1" || return 1
    BX_RT=runc BX_RC=0 BX_ERR='' BX_PROBE=0 BX_PREFIX=() BX_GLOBAL=()
    return 0
}

# bx_jq FILTER [jq args...]: edit the bundle's config.json in place.
bx_jq() {
    local f=$1
    shift
    jq "$@" "$f" "$B/config.json" >"$B/config.json.new"
    mv "$B/config.json.new" "$B/config.json"
}

# bx_bundle [userns] [e2e_bundle options...]: the bundle, the hook at
# createRuntime through boundary-hookwrap.sh (its stderr in $B/hook.err,
# also when it succeeds), boundary-probe.sh after it ($B/probe.*).
bx_bundle() {
    if [[ ${1:-} == userns ]]; then
        shift
        e2e_bundle_userns "$B" "$SUITE" stage=createRuntime "$@"
    else
        e2e_bundle "$B" "$SUITE" stage=createRuntime "$@"
    fi
    bx_jq '.hooks.createRuntime = [
            {path: $wrap, args: ["hookwrap", $log, $hook, "createRuntime"]},
            {path: $probe, args: ["boundary-probe", $out]}]' \
        --arg wrap "$HX_DIR/boundary-hookwrap.sh" --arg log "$B/hook.err" --arg hook "$HOOK" \
        --arg probe "$HX_DIR/boundary-probe.sh" --arg out "$B/probe"
}

# bx_vol DEST SRC OPTIONS-JSON: a bind volume.
bx_vol() {
    bx_jq '.mounts += [{destination: $d, type: "bind", source: $s, options: $o}]' \
        --arg d "$1" --arg s "$2" --argjson o "$3"
}

# bx_run [run|create] [RUNTIME]: start the container; BX_RC, BX_SECS,
# BX_ERR (the hook's stderr), BX_PROBE (1: the hook exited 0).
bx_run() {
    local mode=${1:-run} t0
    BX_RT=${2:-runc}
    : >"$B/stdin"
    rm -f "$B/hook.err" "$B/probe.cmi"
    _e2e_containers+=("$BX_RT|$id|$B")
    t0=$(_e2e_now)
    BX_RC=0
    if [[ $mode == run ]]; then set -- run -d; else set -- create; fi
    timeout 60 "${BX_PREFIX[@]}" "$BX_RT" --root "$E2E_STATE/$BX_RT" "${BX_GLOBAL[@]}" --log "$B/runtime.log" \
        "$@" --bundle "$B" "$id" <"$B/stdin" >"$B/console.log" 2>&1 || BX_RC=$?
    BX_SECS=$(_e2e_since "$t0")
    BX_ERR=$(cat "$B/hook.err" 2>/dev/null || true)
    BX_PROBE=0
    [[ -s $B/probe.cmi ]] && BX_PROBE=1
    return 0
}

# bx_show TEXT: printable, one line, at most 300 characters (for TAP lines)
bx_show() { printf '%s' "$1" | tr -c '[:print:]' '?' | cut -c1-300; }

bx_console() { bx_show "$(tr '\n' ' ' <"$B/console.log")"; }

# bx_boots: the container runs and systemd reaches running or degraded.
bx_boots() {
    local st
    if ((BX_RC != 0)); then
        fail "$id: the container boots (runtime rc=$BX_RC after ${BX_SECS}s: $(bx_console))"
        return 1
    fi
    st=$(e2e_wait_running "$BX_RT" "$id" 40) || true
    if [[ $st == running || $st == degraded ]]; then
        ok "$id: the container boots (systemd $st, created in ${BX_SECS}s)"
        return 0
    fi
    fail "$id: the container boots (systemd: $st)"
    e2e_dump "$B"
    return 1
}

# bx_created: `create` succeeded and the probe ran (the hook exited 0).
bx_created() {
    e2e_check "$id: created, the hook exited 0 (rc=$BX_RC probe=$BX_PROBE: $(bx_show "$BX_ERR"))" \
        test "$BX_RC" = 0 -a "$BX_PROBE" = 1
}

# bx_warns WHAT CAUSE: the hook printed a warning line matching CAUSE.
bx_warns() {
    e2e_check "$id: the hook warns that $1 is skipped (/$2/; stderr: $(bx_show "$BX_ERR"))" \
        grep -Eq -e "^oci-systemd-hook: $id12: warning: .*($2)" <<<"$BX_ERR"
}

# bx_refused CAUSE: the runtime failed because the hook refused with one
# line matching CAUSE.
bx_refused() {
    if ((BX_RC != 0 && BX_RC != 124 && BX_PROBE == 0)) && hx_line_ok "$BX_ERR" "$id12" "$1"; then
        ok "$id: refused in ${BX_SECS}s: $(bx_show "$BX_ERR")"
    else
        fail "$id: refused with one line /$1/ (rc=$BX_RC probe=$BX_PROBE: $(bx_show "$BX_ERR"))"
    fi
}

# bx_snap TAG: host snapshot $B/snap.TAG
bx_snap() { hx_snapshot "$B/snap.$1"; }

# bx_same TAG LABEL: snapshot TAG now, the host as before the case.
bx_same() {
    bx_snap "$1"
    e2e_check "$id: host unchanged ($2)" e2e_host_compare "$B/snap.before" "$B/snap.$1"
}

# bx_tree DIR: every entry below DIR (and DIR itself) with type, mode,
# owner, size and mtime, for before/after comparisons of volume sources.
bx_tree() { find "$1" -printf '%P|%y|%m|%u:%g|%s|%T@\n' 2>&1 | sort; }

# bx_tree_same LABEL DIR FILE: DIR's tree is the one recorded in FILE.
bx_tree_same() {
    local now d
    now=$(bx_tree "$2")
    if d=$(diff <(cat "$3") <(printf '%s\n' "$now")); then
        ok "$id: $1: nothing created, changed or chowned in $2"
    else
        fail "$id: $1: nothing created, changed or chowned in $2"
        sed 's/^/#   /' <<<"$d" >&2
    fi
}

# bx_stop: stop and delete the container, compare the host.
bx_stop() {
    # a created container's init is runc's, waiting for start: no systemd
    # to take signal 37
    if [[ $(e2e_status "$BX_RT" "$id") == created ]]; then
        e2e_rt "$BX_RT" kill "$id" KILL 2>/dev/null || true
    fi
    e2e_stop "$BX_RT" "$id" 20 >/dev/null || true
    bx_same after "after delete"
}

# bx_cleanup: remove the bundle (unless OSH_E2E_KEEP=1).
bx_cleanup() { [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$B"; }

# bx_end: bx_stop, bx_cleanup
bx_end() {
    bx_stop
    bx_cleanup
}

# bx_probe_sh CODE: the probe runs CODE (sh, PID and OUT set) right after
# the hook; its output ends up in $B/probe.out.
bx_probe_sh() { printf '%s\n' "$1" >"$B/probe.sh"; }

bx_probe_out() { cat "$B/probe.out" 2>/dev/null || true; }

# bx_after_sh CODE: boundary-hookwrap.sh runs CODE right after the hook,
# also when it failed; its output ends up in $B/hook.err.after.out.
bx_after_sh() { printf '%s\n' "$1" >"$B/hook.err.after.sh"; }

bx_after_out() { cat "$B/hook.err.after.out" 2>/dev/null || true; }

# bx_host_mounts_below DIR: host mounts at or below DIR but DIR itself
bx_host_mounts_below() {
    awk -v d="$1" '$5 != d && index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# ------------------------------------------------------------ 1 mount lands on the host

# vol_case NAME LINK PROPAGATION EXPECT: a volume at /vol whose host source
# $B/vol is a shared mount point on the host (as on any systemd host, where
# / is shared), bound with "rshared"; LINK=1: the image's /var/log is a
# link to /vol; LINK=0: the volume is at /var/log itself. PROPAGATION: the
# spec's rootfsPropagation (or none). EXPECT boot (journal skipped with a
# warning), refuse, or either (see below).
vol_case() {
    local name=$1 link=$2 prop=$3 expect=$4 src dest=/vol
    bx_begin "$name" || return 0
    bx_bundle
    src=$B/vol
    mkdir -p "$src"
    echo keep >"$src/keep"
    mount --bind "$src" "$src"
    mount --make-shared "$src"
    # and the rootfs shared as well, as every mount is on a systemd host
    # (this host's / is private): with rootfsPropagation shared or
    # rshared the container's rootfs is then a peer of the host's
    mount --make-shared "$R"
    if [[ $link == 1 ]]; then
        rm -rf "$R/var/log"
        ln -s /vol "$R/var/log"
    else
        dest=/var/log
    fi
    bx_vol "$dest" "$src" '["rbind", "rshared"]'
    [[ $prop == none ]] || bx_jq '.linux.rootfsPropagation = $p' --arg p "$prop"
    bx_probe_sh "find '$src' -printf '%P|%y|%m|%u:%g|%s|%T@\n' | sort"
    bx_tree "$src" >"$B/vol.before"
    bx_snap before
    bx_run run
    # either: the runtime may make the rootfs a peer of the host's before
    # the hooks (then the hook must refuse) or only after pivot_root (runc
    # 1.1: the rootfs is private at hook time, nothing can propagate, and
    # the container boots); the host must be unchanged both ways
    if [[ $expect == either ]]; then
        if ((BX_RC == 0)); then expect=boot; else expect=refuse; fi
        e2e_log "$id: the runtime's rootfs was $([[ $expect == boot ]] && echo "private at hook time: boots" || echo "shared at hook time: refused")"
    fi
    bx_same hook "right after the hook"
    e2e_check "$id: no mount below the volume's source on the host while it runs ($(bx_host_mounts_below "$src" | tr '\n' ' '))" \
        test -z "$(bx_host_mounts_below "$src")"
    if [[ $expect == boot ]]; then
        bx_boots || true
        bx_warns /var/log/journal "$CAUSE_MOUNT"
        e2e_check "$id: at hook time the volume's source is as before (probe: $(bx_probe_out | grep -c journal) journal entries)" \
            cmp -s "$B/vol.before" "$B/probe.out"
        bx_same running "while it runs"
        # the container's own services may write to the volume; the hook's
        # journal directory must not be there
        e2e_check "$id: no journal directory in the volume while it runs" test ! -e "$src/journal"
    else
        bx_refused "$CAUSE_PROP"
        bx_tree_same "after the hook" "$src" "$B/vol.before"
    fi
    bx_stop
    e2e_check "$id: no journal directory in the volume after delete" test ! -e "$src/journal"
    e2e_check "$id: no mount below the volume's source on the host after delete" \
        test -z "$(bx_host_mounts_below "$src")"
    bx_cleanup
}

# A runtime that leaves the rootfs shared at hook time (runc 1.1.5 and crun
# 1.8.1 make it private before the hooks, so none here does): a "fake
# runtime" process (unshare -m, propagation unchanged) whose namespace has
# the bundle's rootfs bound onto itself as a peer of the host's (shared)
# rootfs mount, and procfs at ROOTFS/proc, which is what the hook takes as
# the proof of a container's init. The hook, called directly as the
# runtime would, must refuse with one line naming rootfsPropagation; no
# mount may appear on the host, nor in that namespace.
shared_rootfs_case() {
    local sp rc=0 err i mi0 host0 d cg mp
    bx_begin rootfs-shared-hooktime || return 0
    bx_bundle
    # a cgroup of its own, as a runtime gives its init (the hook before
    # the fix refuses a cgroup root before it mounts anything)
    cg=/osh-e2e/$(basename "$E2E_TMP")-fakert
    for mp in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do mkdir -p "$mp$cg"; done
    # the mount points a runtime makes for the cgroup mount (a hook that
    # did not refuse gets as far as the cgroup bind instead of failing there)
    mkdir -p "$R/sys/fs/cgroup/systemd"
    # the host's rootfs mount (the overlay) shared: the peer group
    mount --make-shared "$R"
    mkdir -p "$B/peer"
    # in the fake runtime's namespace: a peer of it kept aside (on the
    # private /: no propagation), the namespace's copy of the rootfs made
    # private so that procfs stays there, then the peer bound on top of
    # the rootfs path: the mount there is shared with the host's
    (
        for mp in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do echo "$BASHPID" >"$mp$cg/cgroup.procs"; done
        exec unshare -m --propagation unchanged sh -c '
        set -e
        mount --bind "$1" "$2/peer"
        mount --make-private "$1"
        mount -t proc proc "$1/proc"
        mount --bind "$2/peer" "$1"
        umount "$2/peer"
        : >"$2/fake-ready"
        exec sleep 600' fake-runtime "$R" "$B"
    ) 2>"$B/fake.err" &
    sp=$!
    for i in $(seq 100); do
        [[ -e $B/fake-ready ]] && break
        sleep 0.05
    done
    if [[ ! -e $B/fake-ready ]]; then
        fail "$id: set up the fake runtime's namespace ($(bx_show "$(cat "$B/fake.err")"))"
        kill "$sp" 2>/dev/null || true
        wait "$sp" 2>/dev/null || true
        bx_cleanup
        e2e_rm_cgroup "$cg" || e2e_log "cgroup $cg not removed"
        return 0
    fi
    e2e_check "$id: in the fake runtime's namespace the rootfs mount is shared ($(findmnt -N "$sp" -rno PROPAGATION "$R" | tr '\n' ' '))" \
        eval '[[ $(findmnt -N "$sp" -rno PROPAGATION "$R" | tail -n 1) == shared ]]'
    mi0=$(hx_mounts "/proc/$sp/mountinfo")
    host0=$(hx_mounts /proc/self/mountinfo | awk -v d="$E2E_TMP/" 'index($1, d) == 1')
    bx_snap before
    jq -n --arg id "$id" --argjson pid "$sp" --arg b "$B" \
        '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: $b}' >"$B/state.json"
    timeout 20 "$HOOK" createRuntime <"$B/state.json" >/dev/null 2>"$B/hook.err" || rc=$?
    err=$(cat "$B/hook.err")
    if ((rc != 0 && rc != 124)) && hx_line_ok "$err" "$id12" 'shared propagation' && [[ $err == *rootfsPropagation* ]]; then
        ok "$id: refused: $(bx_show "$err")"
    else
        fail "$id: refused with one line /shared propagation/ naming rootfsPropagation (rc=$rc: $(bx_show "$err"))"
    fi
    if d=$(diff <(printf '%s\n' "$host0") <(hx_mounts /proc/self/mountinfo | awk -v d="$E2E_TMP/" 'index($1, d) == 1')); then
        ok "$id: the host's mount table below the test's directory is unchanged"
    else
        fail "$id: the host's mount table below the test's directory is unchanged (a mount propagated to the host)"
        sed 's/^/#   /' <<<"$d" >&2
    fi
    if d=$(diff <(printf '%s\n' "$mi0") <(hx_mounts "/proc/$sp/mountinfo")); then
        ok "$id: the fake runtime's mount table is unchanged"
    else
        fail "$id: the fake runtime's mount table is unchanged"
        sed 's/^/#   /' <<<"$d" >&2
    fi
    bx_same hook "right after the hook"
    kill "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    # the mounts first: a cgroup bound onto a directory there (by a hook
    # that did not refuse, propagated to the host) keeps it busy; and a
    # payload cgroup a hook made, mounted on in the dead namespace, stays
    # busy until the kernel has released that namespace (seconds, on a
    # loaded machine)
    bx_cleanup
    for i in $(seq 100); do
        e2e_rm_cgroup "$cg" 2>/dev/null && break
        sleep 0.1
    done
    [[ ! -d /sys/fs/cgroup/unified$cg ]] || e2e_log "cgroup $cg not removed"
}

# ------------------------------------------------------------ 2 writable foothold

# A user-namespace container and a host-root-owned 0755 volume it cannot
# write; the image's /var/log links to the volume's mount point.
foothold_case() {
    local src
    bx_begin userns-foothold || return 0
    bx_bundle userns
    src=$B/vol
    mkdir -p "$src/sub"
    chmod 0711 "$B"
    chmod 0755 "$src"
    echo keep >"$src/keep"
    rm -rf "$R/var/log"
    ln -s /vol "$R/var/log"
    # the container's root cannot create it in the overlay's root (owned
    # by host root: the upper layer's)
    mkdir "$R/vol"
    chown -h "$E2E_USERNS_BASE:$E2E_USERNS_BASE" "$R/var/log" "$R/vol"
    bx_vol /vol "$src" '["rbind"]'
    bx_tree "$src" >"$B/vol.before"
    bx_snap before
    bx_run run
    bx_boots || true
    bx_warns /var/log/journal "$CAUSE_MOUNT"
    bx_tree_same "while it runs" "$src" "$B/vol.before"
    bx_same during "while it runs"
    bx_stop
    bx_tree_same "after delete" "$src" "$B/vol.before"
    bx_cleanup
}

# ------------------------------------------------------------ 3 late read-only

# ro_case RUNTIME: a volume mounted "ro" at /vol and the image's /var/log a
# link to /vol/a/b/c (missing): the hook must create nothing in the
# volume; the container boots with the journal skipped. crun applies "ro"
# after the createRuntime hooks, runc before.
ro_case() {
    local rt=$1 src
    bx_begin "ro-volume-$rt" || return 0
    bx_bundle
    src=$B/vol
    mkdir -p "$src/a"
    echo keep >"$src/a/keep"
    rm -rf "$R/var/log"
    ln -s /vol/a/b/c "$R/var/log"
    bx_vol /vol "$src" '["rbind", "ro"]'
    bx_tree "$src" >"$B/vol.before"
    bx_snap before
    bx_run run "$rt"
    bx_tree_same "right after the hook" "$src" "$B/vol.before"
    bx_boots || true
    bx_warns /var/log/journal "$CAUSE_MOUNT|read-only"
    bx_same during "while it runs"
    bx_stop
    bx_tree_same "after delete" "$src" "$B/vol.before"
    bx_cleanup
}

# ------------------------------------------------------------ 3b /etc a volume

# etc_volume_case: a host directory bound at /etc (a copy of the image's).
# /etc/machine-id is the image's to write, not the volume's: the hook (its
# worker stages the file, with a boundary of its own) warns and writes
# nothing into the volume; the container boots.
etc_volume_case() {
    local src
    bx_begin etc-volume || return 0
    bx_bundle
    src=$B/vol
    cp -a "$R/etc" "$src"
    bx_vol /etc "$src" '["rbind"]'
    bx_tree "$src" >"$B/vol.before"
    bx_snap before
    bx_run run
    bx_tree_same "right after the hook" "$src" "$B/vol.before"
    bx_boots || true
    bx_warns /etc/machine-id "not setting /etc/machine-id: .*another mount"
    bx_end
}

# ------------------------------------------------------------ 3c /run as the host sees it

# host_run_case: a createRuntime hook before ours binds a host directory
# (with a secret) onto the rootfs's /run, on the host's side.  The worker
# copies the image's /run from the host's view while the checks run; the
# copy must not be taken for a /run the container does not see (another
# inode).  The container's /run holds no secret: the bind did not reach
# its namespace, so the hook copies the image's /run there.
host_run_case() {
    local src got
    bx_begin host-run-bind || return 0
    bx_bundle
    src=$B/hostrun
    mkdir -p "$src"
    echo secret >"$src/osh-host-secret"
    bx_jq '.hooks.createRuntime = [{path: "/bin/mount", args: ["mount", "--bind", $s, $d]}] + .hooks.createRuntime' \
        --arg s "$src" --arg d "$R/run"
    bx_probe_sh "nsenter -t \$PID -m -- sh -c 'if test -e $R/run/osh-host-secret; then echo visible; elif test -d $R/run/systemd; then echo image; else echo other; fi'"
    bx_snap before
    bx_run create
    umount "$R/run" 2>/dev/null || true
    bx_created
    got=$(bx_probe_out)
    e2e_check "$id: the container's /run is a copy of the image's, not of the host's bind (probe: ${got:-none})" \
        test "$got" = image
    bx_end
}

# ------------------------------------------------------------ 3d an idmapped rootfs

# idmap_case: the rootfs (a tmpfs: overlayfs cannot be idmapped here) is
# idmapped in the container's namespace by a hook before ours
# (idmap-rootfs.c: disk uid 0.. shown as 100000..).  The worker's copy of
# /run, made from the host's view (disk owners), must not be taken: the
# container's /run shows the owners its namespace shows (998 -> 100998).
idmap_case() {
    local got
    bx_begin idmap-rootfs || return 0
    if [[ ! -x $E2E_TMP/idmap-rootfs ]] &&
        ! gcc -O2 -Wall -o "$E2E_TMP/idmap-rootfs" "$HX_DIR/idmap-rootfs.c"; then
        fail "$id: compile idmap-rootfs.c"
        return 0
    fi
    bx_bundle
    mkdir -p "$B/idroot"
    mount -t tmpfs -o mode=0755 tmpfs "$B/idroot"
    (cd "$B/idroot" && mkdir -p usr/lib/systemd usr/sbin etc proc sys dev tmp var/log/journal run/systemd/netif &&
        : >usr/lib/systemd/systemd && chmod 0755 usr/lib/systemd/systemd && ln -s usr/sbin sbin &&
        ln -s ../lib/systemd/systemd usr/sbin/init && : >etc/machine-id && chown 998:998 run/systemd/netif)
    # host root is no owner the idmapped rootfs can show (EOVERFLOW on a
    # create): the machine-id is the spec's
    : >"$B/machine-id"
    bx_vol /etc/machine-id "$B/machine-id" '["bind"]'
    # the helper before ours, given the state's pid
    bx_jq '.root.path = $r |
           .hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "exec " + $h + " " + $r + " $(jq -r .pid)"]}]
                                  + .hooks.createRuntime' \
        --arg r "$B/idroot" --arg h "$E2E_TMP/idmap-rootfs"
    bx_probe_sh "nsenter -t \$PID -m -- stat -c %u '$B/idroot/run/systemd/netif'"
    bx_snap before
    bx_run create
    bx_created
    got=$(bx_probe_out)
    e2e_check "$id: /run's copy has the owners the container's namespace shows (netif: ${got:-none}, want 100998)" \
        test "$got" = 100998
    bx_stop
    umount "$B/idroot" 2>/dev/null || true
    bx_cleanup
}

# ------------------------------------------------------------ 4 copy-up disclosure

# (a) modes and owners of the tmpfs roots as in the image: checked by the
# probe right after the hook (systemd-tmpfiles adjusts them later).
modes_case() {
    local want got
    bx_begin copyup-modes || return 0
    bx_bundle
    chown 0:1234 "$R/tmp"
    chmod 0770 "$R/tmp"
    chown 0:4 "$R/var/log/journal"
    chmod 2750 "$R/var/log/journal"
    chmod 0711 "$R/run"
    want=$(cd "$R" && stat -c '%n %a %u:%g' tmp run var/log/journal)
    # absolute paths: setns() puts nsenter's cwd at the namespace's root
    bx_probe_sh "nsenter -t \$PID -m -- stat -c '%n %a %u:%g' '$R/tmp' '$R/run' '$R/var/log/journal' | sed 's|^$R/||'"
    bx_snap before
    bx_run create
    bx_created
    got=$(bx_probe_out)
    e2e_check "$id: the new tmpfs roots keep the image's mode and owner (image: ${want//$'\n'/, }; got: ${got//$'\n'/, })" \
        test "$got" = "$want"
    bx_end
}

# (b) user namespace, uid-shifted image: the image's /tmp is owned by host
# root (unmapped in the container) and 0700, a world-readable secret inside;
# /run/osh-priv the same (a directory below a tmpfs root). The container's
# root cannot read either in the image; after the copy-up it must not either.
# The probe reads them as root of the container's user namespace.
secret_case() {
    local got
    bx_begin copyup-userns-secret || return 0
    bx_bundle userns
    echo s3cret-tmp >"$R/tmp/secret"
    mkdir -p "$R/run/osh-priv"
    echo s3cret-run >"$R/run/osh-priv/secret"
    chown 0:0 "$R/tmp" "$R/tmp/secret" "$R/run/osh-priv" "$R/run/osh-priv/secret"
    chmod 0700 "$R/tmp" "$R/run/osh-priv"
    chmod 0644 "$R/tmp/secret" "$R/run/osh-priv/secret"
    # and as host root (no user namespace): the new tmpfs holds no copy
    # of them either (with the modes kept, a copy would still be
    # unreadable; not copying is the contract, and the defence when a
    # mode or owner is not kept)
    bx_probe_sh "for f in '$R/tmp/secret' '$R/run/osh-priv/secret'; do
        nsenter -t \$PID -U -m -- cat \"\$f\" 2>/dev/null && echo \"READ \$f\" || echo \"denied \$f\"; done
        for f in '$R/tmp/secret' '$R/run/osh-priv/secret'; do
        nsenter -t \$PID -m -- test -e \"\$f\" && echo \"copied \$f\" >>\"\$OUT.host\" || echo \"absent \$f\" >>\"\$OUT.host\"; done"
    bx_snap before
    bx_run create
    got=$(bx_probe_out)
    e2e_check "$id: the container's root cannot read the image's unreadable secrets after copy-up ($(bx_show "${got//$'\n'/; }"))" \
        eval '[[ -n $got && $got != *s3cret* && $got != *READ* ]]'
    got=$(cat "$B/probe.host" 2>/dev/null || true)
    e2e_check "$id: the new tmpfs holds no copy of them (host root's view: $(bx_show "${got//$'\n'/; }"))" \
        eval '[[ -n $got && $got != *copied* ]]'
    bx_end
}

# (c) the image's /var/log links to a volume whose journal directory is
# 0700 host root with a world-readable file: the link is not followed, the
# container cannot read the file through a copy.
volsecret_case() {
    local src got
    bx_begin link-0700-volume || return 0
    bx_bundle userns
    src=$B/vol
    mkdir -p "$src/journal"
    echo s3cret-vol >"$src/journal/secret"
    chmod 0755 "$src"
    chmod 0700 "$src/journal"
    chmod 0644 "$src/journal/secret"
    rm -rf "$R/var/log"
    ln -s /vol "$R/var/log"
    # the container's root cannot create it in the overlay's root (owned
    # by host root: the upper layer's)
    mkdir "$R/vol"
    chown -h "$E2E_USERNS_BASE:$E2E_USERNS_BASE" "$R/var/log" "$R/vol"
    bx_vol /vol "$src" '["rbind"]'
    bx_probe_sh "nsenter -t \$PID -U -m -- cat '$R/vol/journal/secret' 2>/dev/null && echo READ || echo denied"
    bx_tree "$src" >"$B/vol.before"
    bx_snap before
    bx_run create
    got=$(bx_probe_out)
    e2e_check "$id: the container's root cannot read the volume's 0700 journal dir ($(bx_show "${got//$'\n'/; }"))" \
        eval '[[ -n $got && $got != *s3cret* && $got != *READ* ]]'
    bx_tree_same "after the hook" "$src" "$B/vol.before"
    bx_end
}

# ------------------------------------------------------------ 5 copy-up memory

# sparse_case DIR SIZE: a sparse file of SIZE in the image's DIR. After the
# hook the tmpfs at DIR uses < 16 MiB, or the hook refused with one line
# naming the file and a cap of at most 16 MiB.
sparse_case() {
    local dir=$1 size=$2 used nums n capok=0
    bx_begin "sparse-${dir//\//_}-$size" || return 0
    bx_bundle
    truncate -s "$size" "$R$dir/osh-sparse"
    bx_probe_sh "nsenter -t \$PID -m -- stat -f -c '%b %f %S' '$R$dir'"
    bx_snap before
    bx_run create
    if ((BX_PROBE == 1)); then
        # shellcheck disable=SC2046
        used=$(set -- $(bx_probe_out); echo $((($1 - $2) * $3 / 1048576)))
        e2e_check "$id: the tmpfs at $dir uses ${used} MiB after copying a $size sparse file (< 16)" \
            test "$used" -lt 16
    else
        # the cap the line names: bytes (4096..16 MiB) or N MiB (N <= 16)
        nums=$(grep -oE '[0-9]+' <<<"${BX_ERR#*: }" || true)
        for n in $nums; do
            ((${#n} < 10 && n >= 4096 && n <= 16777216)) && capok=1
        done
        grep -Eq '(^|[^0-9])([1-9]|1[0-6]) ?Mi?B' <<<"$BX_ERR" && capok=1
        if ((BX_RC != 0)) && hx_line_ok "$BX_ERR" "$id12" 'osh-sparse' && ((capok)); then
            ok "$id: refused, naming the file and a cap <= 16 MiB: $(bx_show "$BX_ERR")"
        else
            fail "$id: refused with one line naming osh-sparse and a cap <= 16 MiB (rc=$BX_RC: $(bx_show "$BX_ERR"))"
        fi
    fi
    bx_end
}

# ------------------------------------------------------------ 6 wrong process

# wrong_check LABEL PID CGDIR STATE-BUNDLE: the hook called directly with
# PID (not the container's init); non-zero, one line, PID's mount table, the
# cgroup's owner, the bundle's upper layer and the host unchanged.
wrong_check() {
    local label=$1 pid=$2 cgdir=$3 bundle=$4 cause=$5 rc=0 err mi0 own0 up0 d
    # other jobs' mounts below /tmp/X/ come and go (rmdir of a mount point
    # detaches it in every namespace): hx_mounts leaves them out
    mi0=$(hx_mounts "/proc/$pid/mountinfo")
    own0=$(stat -c '%n %u:%g' "$cgdir" "$cgdir"/cgroup.procs "$cgdir"/cgroup.subtree_control)
    up0=$(bx_tree "$bundle/upper")
    bx_snap before
    jq -n --arg id "$id" --argjson pid "$pid" --arg b "$bundle" \
        '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: $b}' >"$B/state.json"
    timeout 20 "$HOOK" createRuntime <"$B/state.json" >/dev/null 2>"$B/hook.err" || rc=$?
    err=$(cat "$B/hook.err")
    if ((rc != 0 && rc != 124)) && hx_line_ok "$err" "$id12" "$cause"; then
        ok "$id: $label: refused: $(bx_show "$err")"
    else
        fail "$id: $label: refused with one line /$cause/ (rc=$rc: $(bx_show "$err"))"
    fi
    if d=$(diff <(printf '%s\n' "$mi0") <(hx_mounts "/proc/$pid/mountinfo")); then
        ok "$id: $label: its mount table is unchanged"
    else
        fail "$id: $label: its mount table is unchanged"
        sed 's/^/#   /' <<<"$d" >&2
    fi
    e2e_check "$id: $label: its cgroup's owner is unchanged" \
        test "$(stat -c '%n %u:%g' "$cgdir" "$cgdir"/cgroup.procs "$cgdir"/cgroup.subtree_control)" = "$own0"
    e2e_check "$id: $label: nothing written into the bundle's rootfs" test "$(bx_tree "$bundle/upper")" = "$up0"
    bx_same "after.$RANDOM" "$label"
}

wrong_process_case() {
    local cg sp i self mp
    bx_begin wrong-process || return 0
    # a valid systemd bundle with a user namespace (the hook would chown)
    e2e_bundle_userns "$B" "$SUITE"
    # with the mount point a runtime makes for the cgroup mount: a hook
    # that took this process for the container's would get as far as the
    # cgroup (bind and chown) instead of failing there
    mkdir -p "$B/rootfs/sys/fs/cgroup"
    cg=/osh-e2e/$(basename "$E2E_TMP")-wrongpid
    for mp in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do mkdir -p "$mp$cg"; done
    # like a PrivateTmp= service: its own mount namespace and cgroup
    (
        for mp in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do echo "$BASHPID" >"$mp$cg/cgroup.procs"; done
        exec unshare -m --propagation private sleep 600
    ) &
    sp=$!
    self=$(readlink /proc/self/ns/mnt)
    for i in $(seq 100); do
        [[ $(readlink "/proc/$sp/ns/mnt" 2>/dev/null) != "$self" ]] && break
        sleep 0.02
    done
    wrong_check "a host process with its own mount namespace and cgroup" "$sp" \
        "/sys/fs/cgroup/unified$cg" "$B" "$CAUSE_PROC"
    kill "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    e2e_rm_cgroup "$cg" || e2e_log "cgroup $cg not removed"
    e2e_bundle_cleanup "$B"
}

# The pid of another runc container (the old hook refuses this one too).
other_container_case() {
    local b2 name2 pid2 cg2
    bx_begin other-container || return 0
    e2e_bundle_userns "$B" "$SUITE"
    b2=$B-other
    name2=$id-other
    e2e_bundle "$b2" "$SUITE" args='["sleep", "600"]'
    if ! e2e_start runc "$b2" "$name2"; then
        fail "$id: start the other container"
        return 0
    fi
    pid2=$(e2e_pid runc "$name2")
    cg2=/sys/fs/cgroup/unified$(e2e_cgroup_path "$b2")
    wrong_check "the init of another container" "$pid2" "$cg2" "$B" "$CAUSE_PROC|rootfs"
    # a sleep as PID 1 ignores signal 37
    e2e_rt runc kill "$name2" KILL 2>/dev/null || true
    e2e_stop runc "$name2" 10 >/dev/null || true
    e2e_bundle_cleanup "$b2"
    e2e_bundle_cleanup "$B"
}

# ------------------------------------------------------------ 9 device node swapped in

# Regular files under the image's /run swapped (RENAME_EXCHANGE) with
# character devices (1,3: a null device of the rootfs's own) while
# containers are created; inotify watches the device inodes for opens.
device_race_case() {
    local pairs=32 seconds=${OSH_BOUNDARY_RACE_SECONDS:-25} i n=0 cc=0 refused=0 t0 spid spid2 wpid rc opens swaps half f d
    local -a paths=() devs=() dirs=(run run/lock tmp var/log/journal)
    bx_begin race-device || return 0
    if [[ ! -x $E2E_TMP/hostile-swap ]] &&
        ! gcc -O2 -Wall -o "$E2E_TMP/hostile-swap" "$HX_DIR/hostile-swap.c"; then
        fail "$id: compile hostile-swap.c"
        return 0
    fi
    if ! command -v inotifywait >/dev/null; then
        fail "$id: inotifywait (inotify-tools, scripts/deps.sh) is installed"
        return 0
    fi
    bx_bundle
    bx_jq '.hooks.createRuntime |= [.[0]]'
    # /run/lock's content is copied twice (with /run's and into its own
    # tmpfs): 5 copy-up passes per create over the pairs
    for ((i = 1; i <= pairs; i++)); do
        d=${dirs[i % 4]}
        echo image >"$R/$d/f$i"
        mknod "$R/$d/f$i.dev" c 1 3
        paths+=("$R/$d/f$i" "$R/$d/f$i.dev")
        devs+=("$R/$d/f$i.dev")
    done
    bx_snap before
    inotifywait -m -q -e open --format '%w%f %e' "${devs[@]}" >"$B/opens" 2>"$B/inotify.err" &
    wpid=$!
    sleep 0.5
    # two swappers (2 cores), each on half of the pairs
    half=$((pairs / 2 * 2))
    "$E2E_TMP/hostile-swap" $((seconds + 30)) "${paths[@]:0:half}" >"$B/swaps" 2>"$B/swap.err" &
    spid=$!
    "$E2E_TMP/hostile-swap" $((seconds + 30)) "${paths[@]:half}" >"$B/swaps2" 2>"$B/swap2.err" &
    spid2=$!
    t0=$(date +%s)
    while (($(date +%s) - t0 < seconds)); do
        n=$((n + 1))
        rc=0
        _e2e_containers+=("runc|$id-$n|$B")
        timeout 30 runc --root "$E2E_STATE/runc" create --bundle "$B" "$id-$n" \
            </dev/null >"$B/console.log" 2>&1 || rc=$?
        if ((rc == 0)); then cc=$((cc + 1)); else refused=$((refused + 1)); fi
        _e2e_forget runc "$id-$n"
    done
    kill -TERM "$spid" "$spid2" 2>/dev/null || true
    wait "$spid" || true
    wait "$spid2" || true
    sleep 0.2
    kill "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
    swaps=$(($(cat "$B/swaps" 2>/dev/null || echo 0) + $(cat "$B/swaps2" 2>/dev/null || echo 0)))
    for f in "$B/swap.err" "$B/swap2.err"; do
        [[ -s $f ]] && e2e_log "swap: $(cat "$f")"
    done
    opens=$(grep -c OPEN "$B/opens" || true)
    e2e_check "$id: $n creates ($cc created, $refused refused) while $pairs files were swapped with devices ${swaps:-?} times: the devices were opened $opens times (want 0)" \
        test "$opens" = 0 -a "$n" -gt 0 -a "${swaps:-0}" -gt 0
    e2e_check "$id: the inotify watch worked (no errors: $(bx_show "$(cat "$B/inotify.err")"))" test ! -s "$B/inotify.err"
    bx_same after "after the race"
    [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$B"
}

# The same swap at the one moment that matters, deterministically
# (boundary-fanswap.py: fanotify permission events hold the hook after it
# has stat'ed a regular file of the image's /run and before it opens it;
# the file is exchanged meanwhile with KIND: `device`, a `c 1 3` node, or
# `link`, a symlink to the canary's shadow). The hook must not open what
# was swapped in (inotify watches it), must copy nothing of it, and must
# notice the change.
swap_timed_case() {
    local kind=$1 d=run/osh-swap watch opens swap wpid fpid i got
    bx_begin "$kind-swap-timed" || return 0
    bx_bundle
    mkdir -p "$R/$d"
    # as long as the canary's shadow: a hook that follows the link swapped
    # in copies all of it (st_size is the image file's), not a prefix
    head -c "$(stat -c %s "$HX_CANARY/etc/shadow")" /dev/zero | tr '\0' x >"$R/$d/f"
    if [[ $kind == device ]]; then
        mknod "$R/$d/f.new" c 1 3
        watch=$R/$d/f.new
    else
        ln -s "$HX_CANARY/etc/shadow" "$R/$d/f.new"
        watch=$HX_CANARY/etc/shadow
    fi
    # the regular files only: cat would follow a link that was copied as
    # a link, on the host (the probe is not chrooted), and open the canary
    bx_probe_sh "nsenter -t \$PID -m -- find '$R/$d' -type f -exec cat {} + 2>&1"
    bx_snap before
    inotifywait -m -q -e open --format '%w%f %e' "$watch" >"$B/opens" 2>"$B/inotify.err" &
    wpid=$!
    "$HX_DIR/boundary-fanswap.py" "$R/$d" f f.new "$B/fan.ready" >"$B/fan.out" 2>&1 &
    fpid=$!
    for i in $(seq 100); do
        [[ -e $B/fan.ready ]] && break
        sleep 0.05
    done
    sleep 0.3   # inotifywait's watch
    bx_run create
    wait "$fpid" || true
    sleep 0.2
    kill "$wpid" 2>/dev/null || true
    wait "$wpid" 2>/dev/null || true
    swap=$(cat "$B/fan.out")
    opens=$(grep -c OPEN "$B/opens" || true)
    got=$(bx_probe_out)
    e2e_check "$id: the $kind was exchanged in between the hook's stat and its open (${swap:-nothing})" \
        eval '[[ $swap == swapped* ]]'
    e2e_check "$id: the hook did not open $watch (opened $opens times)" test "$opens" = 0
    e2e_check "$id: the inotify watch worked (no errors: $(bx_show "$(cat "$B/inotify.err")"))" test ! -s "$B/inotify.err"
    e2e_check "$id: nothing of the canary copied (probe: $(bx_show "${got//$'\n'/; }"))" \
        eval '[[ $got != *canary* ]]'
    bx_refused 'changed while copying'
    bx_end
}

# ------------------------------------------------------------ 11 big hosts

# A private mount namespace whose mount table is > 10 MiB (bind mounts
# with 3000-character mount points), a runc container started inside it.
bighost_case() {
    local nsp size
    bx_begin big-host || return 0
    bx_bundle
    mkdir -p "$B/big"
    unshare -m --propagation private sleep 600 &
    nsp=$!
    sleep 0.2
    size=$(nsenter -t "$nsp" -m -- python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
base = sys.argv[1]
src = os.path.join(base, "src")
os.mkdir(src)
p = base
for i in range(14):
    p = os.path.join(p, "%03d" % i + "m" * 210)
os.makedirs(p)
size = len(open("/proc/self/mountinfo", "rb").read())
i = 0
while size < 11 * 1024 * 1024:
    for _ in range(200):
        d = os.path.join(p, "%05d" % i)
        i += 1
        os.mkdir(d)
        if libc.mount(src.encode(), d.encode(), None, 4096, None) != 0:
            sys.exit("mount %s: %s" % (d, os.strerror(ctypes.get_errno())))
    size = len(open("/proc/self/mountinfo", "rb").read())
print(size)
' "$B/big")
    bx_snap before
    BX_PREFIX=(nsenter -t "$nsp" -m --)
    bx_run run
    kill "$nsp" 2>/dev/null || true
    wait "$nsp" 2>/dev/null || true
    e2e_log "$id: mount table of the runtime's namespace: $size bytes"
    e2e_check "$id: the mount table was > 10 MiB ($size bytes)" test "${size:-0}" -gt $((10 * 1024 * 1024))
    bx_boots || true
    bx_same during "while it runs"
    bx_end
}

# ------------------------------------------------------------ 12 paths

# paths_case NAME ROOTPATH DEST...: root.path ROOTPATH, a read-only bind
# volume at each DEST (holding a file "marker"); each must be visible in
# the container right after the hook and in the running container.
paths_case() {
    local name=$1 root=$2 d n=0 want='' got
    shift 2
    bx_begin "$name" || return 0
    bx_bundle
    bx_jq '.root.path = $p' --arg p "$root"
    : >"$B/probe.sh"
    for d in "$@"; do
        n=$((n + 1))
        mkdir -p "$B/v$n"
        echo "vol$n" >"$B/v$n/marker"
        bx_vol "$d" "$B/v$n" '["rbind", "ro"]'
        want+="vol$n "
        printf 'nsenter -t "$PID" -m -- cat %q\n' "$R$d/marker" >>"$B/probe.sh"
    done
    bx_snap before
    bx_run run
    got=$(bx_probe_out | tr '\n' ' ')
    e2e_check "$id: root.path \`$root': the volumes at $* are visible right after the hook (want: $want got: $got)" \
        test "$got" = "$want"
    if bx_boots; then
        got=''
        for d in "$@"; do got+="$({ e2e_exec runc "$id" cat "$d/marker" 2>&1 || true; } | tr '\n' ' ')"; done
        e2e_check "$id: the volumes are visible in the running container (want: $want got: $got)" \
            test "$got" = "$want"
    fi
    bx_end
}

# ------------------------------------------------------------ 13 terminal-unsafe names

# The image names a file with C0 (ESC [2J, BEL), DEL, a raw C1 byte
# (0x9b), UTF-8 C1 (U+009B) and bidi controls (U+202E, U+2066) and makes
# it too big to copy (70 MiB of data in /run: above the cap of the old
# hook and the new one). The hook's line must name the cause and contain
# none of those.
_BX_UNSAFE_PY='
import sys
d = open(sys.argv[1], "rb").read()
if d.endswith(b"\n"):
    d = d[:-1]
bad = []
for i, b in enumerate(d):
    if b < 0x20 or b == 0x7f:
        bad.append("byte 0x%02x" % b)
for ch in d.decode("utf-8", "surrogateescape"):
    o = ord(ch)
    if 0xdc80 <= o <= 0xdc9f:
        bad.append("raw C1 byte 0x%02x" % (o - 0xdc00))
    elif 0x80 <= o <= 0x9f:
        bad.append("UTF-8 C1 U+%04X" % o)
    elif 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069:
        bad.append("bidi U+%04X" % o)
print(", ".join(sorted(set(bad))))
'
unsafe_case() {
    local name bad
    bx_begin unsafe-name || return 0
    bx_bundle
    name=$'osh-esc\e[2J-bel\a-del\x7f-c1\x9b-u9b\xc2\x9b-rlo\xe2\x80\xae-lri\xe2\x81\xa6-end'
    head -c 70M /dev/zero | tr '\0' x >"$R/run/$name"
    bx_snap before
    bx_run run
    printf '%s\n' "$BX_ERR" >"$B/hook.err.copy"
    bad=$(python3 -c "$_BX_UNSAFE_PY" "$B/hook.err")
    bx_refused 'more than|bytes|cap|too (big|large)|osh-esc'
    e2e_check "$id: the hook's stderr has no control or bidi characters (found: ${bad:-none})" test -z "$bad"
    bx_end
}

# ------------------------------------------------------------ 14 open stdin

# stdin_case LABEL ARGS-JSON: the hook gets a complete state from a writer
# that keeps the pipe open; it must exit within 5 s.
stdin_case() {
    local label=$1 args=$2 dead wp rc=0 t0 secs
    bx_begin "stdin-$label" || return 0
    e2e_bundle "$B" "$SUITE" args="$args"
    sleep 0 &
    dead=$!
    wait "$dead"
    jq -n --arg id "$id" --argjson pid "$dead" --arg b "$B" \
        '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: $b}' >"$B/state.json"
    mkfifo "$B/fifo"
    (
        cat "$B/state.json"
        exec sleep 30
    ) >"$B/fifo" &
    wp=$!
    t0=$(_e2e_now)
    timeout 8 "$HOOK" createRuntime <"$B/fifo" >/dev/null 2>"$B/hook.err" || rc=$?
    secs=$(_e2e_since "$t0")
    kill "$wp" 2>/dev/null || true
    wait "$wp" 2>/dev/null || true
    e2e_check "$id: exits within 5 s with stdin left open (${secs}s, rc=$rc: $(bx_show "$(cat "$B/hook.err")"))" \
        awk -v s="$secs" -v rc="$rc" 'BEGIN { exit !(s < 5 && rc != 124) }'
    e2e_bundle_cleanup "$B"
}

# ------------------------------------------------------------ 15 inject's descriptors

inject_case() {
    local d leaks
    bx_begin inject-fds || return 0
    d=$B
    mkdir -p "$d"
    (cd "$d" && runc spec)
    valgrind --track-fds=yes --log-file="$d/vg.log" "$HOOK" inject --path /usr/libexec/oci/hooks.d/oci-systemd-hook \
        "$d/config.json" </dev/null >/dev/null 2>"$d/err" || true
    e2e_check "$id: inject added the hook ($(bx_show "$(cat "$d/err")"))" \
        test "$(jq -r '.hooks.createRuntime[0].path' "$d/config.json")" = /usr/libexec/oci/hooks.d/oci-systemd-hook
    # every descriptor open at exit but 0-2 and those valgrind inherited
    leaks=$(awk '/Open (file|AF_UNIX socket|AF_INET socket) descriptor [0-9]+:/ { l = $0; sub(/^==[0-9]+== */, "", l)
                   fd = l; sub(/^Open [^0-9]*/, "", fd); sub(/:.*/, "", fd)
                   if ((getline nx) > 0 && nx !~ /inherited from parent/ && fd > 2) print l }' "$d/vg.log")
    e2e_check "$id: every descriptor inject opened is closed at exit (open: $(bx_show "${leaks:-none}"))" \
        test -z "$leaks"
    e2e_check "$id: valgrind ran (FILE DESCRIPTORS summary)" grep -q 'FILE DESCRIPTORS' "$d/vg.log"
    rm -rf "$d"
}

# ------------------------------------------------------------ v2 classes (3, 7, 8, 10)

# 7: limits after a controller toggle. The container's cgroup is
# $parent/c; after boot the host disables and re-enables hugetlb in
# $parent's cgroup.subtree_control (which resets the limit; the host
# writes it back, as `runc update` would), then root in the container
# writes "max" to every hugetlb.*.max it finds.
hugetlb_case() {
    local rt=$1 parent cg f v wrote='' bad='' try
    bx_begin "hugetlb-toggle-$rt" || return 0
    bx_bundle
    parent=/osh-e2e/$(basename "$E2E_TMP")-hl$rt
    cg=$parent/c
    mkdir -p "/sys/fs/cgroup$parent"
    bx_jq '.linux.cgroupsPath = $cg | .linux.resources = {hugepageLimits: [{pageSize: "2MB", limit: $l}]}' \
        --arg cg "$cg" --argjson l "$LIMIT"
    echo +hugetlb >/sys/fs/cgroup/cgroup.subtree_control
    echo +hugetlb >/sys/fs/cgroup/osh-e2e/cgroup.subtree_control
    echo +hugetlb >"/sys/fs/cgroup$parent/cgroup.subtree_control"
    bx_snap before
    bx_run run "$rt"
    try='for f in $(find /sys/fs/cgroup -name "hugetlb.*.max" 2>/dev/null); do
            echo max 2>/dev/null >"$f" && echo "$f"; done; true'
    if bx_boots; then
        v=$(cat "/sys/fs/cgroup$cg/hugetlb.2MB.max")
        e2e_check "$id: the runtime set hugetlb.2MB.max = $LIMIT ($v)" test "$v" = "$LIMIT"
        for f in /sys/fs/cgroup/osh-e2e "/sys/fs/cgroup$parent"; do
            cat "$f/hugetlb.2MB.max" >"$B/anc.$(basename "$f")"
        done
        wrote=$(e2e_exec "$rt" "$id" sh -c "$try" 2>&1 | tr '\n' ' ')
        v=$(cat "/sys/fs/cgroup$cg/hugetlb.2MB.max")
        e2e_check "$id: before the toggle the limit stays $LIMIT (host reads $v; written inside: ${wrote:-none})" \
            test "$v" = "$LIMIT"
        if echo -hugetlb 2>"$B/toggle.err" >"/sys/fs/cgroup$parent/cgroup.subtree_control" &&
            echo +hugetlb 2>>"$B/toggle.err" >"/sys/fs/cgroup$parent/cgroup.subtree_control"; then
            ok "$id: hugetlb disabled and re-enabled in $parent"
        else
            fail "$id: hugetlb disabled and re-enabled in $parent ($(bx_show "$(cat "$B/toggle.err")"))"
        fi
        # the toggle made new files with no limit: put it back as the runtime would
        echo "$LIMIT" >"/sys/fs/cgroup$cg/hugetlb.2MB.max"
        wrote=$(e2e_exec "$rt" "$id" sh -c "$try" 2>&1 | tr '\n' ' ')
        v=$(cat "/sys/fs/cgroup$cg/hugetlb.2MB.max")
        e2e_check "$id: after the toggle the limit at cgroupsPath stays $LIMIT (host reads $v; written inside: ${wrote:-none})" \
            test "$v" = "$LIMIT"
        for f in /sys/fs/cgroup/osh-e2e "/sys/fs/cgroup$parent"; do
            [[ $(cat "$f/hugetlb.2MB.max") == "$(cat "$B/anc.$(basename "$f")")" ]] || bad+=" $f"
        done
        e2e_check "$id: the ancestors' limits are unchanged${bad:+ (changed:$bad)}" test -z "$bad"
    fi
    bx_same during "while it runs"
    bx_end
    e2e_rm_cgroup "$parent" || e2e_log "cgroup $parent not removed"
}

# 8: crun --cgroup-manager=disabled keeps the container in the caller's
# cgroup (here a fresh one the runtime is started in).
cgdisabled_case() {
    local caller left
    bx_begin crun-cgroup-disabled || return 0
    bx_bundle
    caller=/osh-e2e/$(basename "$E2E_TMP")-caller
    mkdir -p "/sys/fs/cgroup$caller"
    bx_snap before
    BX_GLOBAL=(--cgroup-manager=disabled)
    BX_PREFIX=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "/sys/fs/cgroup$caller")
    bx_run run crun
    bx_refused "$CAUSE_CGSHARED"
    e2e_stop crun "$id" 20 >/dev/null || true
    left=$(find "/sys/fs/cgroup$caller" -mindepth 1 -type d -printf '%P ' 2>/dev/null)
    e2e_check "$id: no cgroup directory left in the caller's cgroup after delete (${left:-none})" test -z "$left"
    bx_same after "after delete"
    e2e_rm_cgroup "$caller" || e2e_log "cgroup $caller not removed"
    [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$B"
}

# 10: the image's /var/log links to /sys/fs/cgroup (crun's cgroup2 mount,
# still rw while the hooks run): no directory appears in the cgroup tree.
cgroupfs_link_case() {
    local cg found
    bx_begin cgroupfs-link-crun || return 0
    bx_bundle
    cg=$(e2e_cgroup_path "$B")
    rm -rf "$R/var/log"
    ln -s /sys/fs/cgroup "$R/var/log"
    bx_after_sh "find /sys/fs/cgroup/osh-e2e -name journal; echo end"
    bx_snap before
    bx_run run crun
    e2e_check "$id: no journal directory in the cgroup tree right after the hook ($(bx_after_out | tr '\n' ' '))" \
        test "$(bx_after_out)" = end
    bx_boots || true
    bx_warns /var/log/journal "$CAUSE_MOUNT|cgroup"
    found=$(find /sys/fs/cgroup/osh-e2e -name journal 2>/dev/null | tr '\n' ' ')
    e2e_check "$id: no journal directory in the cgroup tree while it runs (${found:-none}, container cgroup $cg)" \
        test -z "$found"
    bx_same during "while it runs"
    bx_end
}

v2_run() {
    local sc
    # case numbers after the hybrid ones (bx31-...), so that ids stay unique
    idx=30
    hx_init
    e2e_image "$SUITE" >/dev/null
    sc=$(cat /sys/fs/cgroup/cgroup.subtree_control)
    ro_case crun
    cgroupfs_link_case
    cgdisabled_case
    hugetlb_case runc
    hugetlb_case crun
    # runtimes turn hugetlb on at the root themselves; leave it as found
    if [[ " $sc " != *" hugetlb "* ]]; then
        echo -hugetlb 2>/dev/null >/sys/fs/cgroup/cgroup.subtree_control || true
    fi
}

# ------------------------------------------------------------ main

e2e_begin v2_run "$@"
hx_init
e2e_image "$SUITE" >/dev/null
e2e_userns_image "$SUITE" >/dev/null
e2e_log "hook: $HOOK"

vol_case vol-link-rshared 1 none boot
vol_case vol-link-rootfs-rshared 1 rshared either
vol_case vol-link-rootfs-shared 1 shared either
vol_case vol-varlog-rshared 0 none boot
foothold_case
ro_case runc
etc_volume_case
host_run_case
idmap_case
modes_case
secret_case
volsecret_case
sparse_case /tmp 120M
sparse_case /run 60M
sparse_case /var/log/journal 120M
wrong_process_case
other_container_case
device_race_case
bighost_case
paths_case root-slash rootfs/ /run/vol /tmp/vol
paths_case root-dot ./rootfs /run/vol /tmp/vol
paths_case blank-dest rootfs '/run/my vol'
unsafe_case
stdin_case plain '["/bin/sh"]'
stdin_case systemd-dead '["/sbin/init"]'
inject_case
shared_rootfs_case
swap_timed_case device
swap_timed_case link
if hx_selected ro-volume-crun cgroupfs-link-crun crun-cgroup-disabled \
    hugetlb-toggle-runc hugetlb-toggle-crun; then
    e2e_sub e2e_v2 "$BASH" "$0" --v2
fi

left=$(e2e_leftovers) || true
e2e_check "no runtime state or cgroups left behind${left:+: $left}" test -z "$left"
e2e_log "test-boundary.sh: $idx cases in $(_e2e_since "$T_START")s"
e2e_done
