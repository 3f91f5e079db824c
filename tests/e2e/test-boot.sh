#!/bin/bash
# End-to-end boot test of the hook: real runtimes, real systemd images.
#
# Debian 12 (systemd 252), podman's default capabilities, no
# linux.resources (but see the v2 limit check), a cgroup namespace; for
# runc on this hybrid host (v1 mode), runc and crun with a pure cgroup2
# /sys/fs/cgroup (e2e_v2), each with the hook at createRuntime and at
# prestart:
#   boot: running + 0 failed units; machine-id = normalised container_uuid;
#   tmpfs /run /run/lock /tmp /var/log/journal (nosuid,nodev; 1777 where
#   due); init.scope in the container's own cgroup; no way up the host
#   hierarchy and no write to the runtime's limits; stop on signal 37 in
#   < 5 s; host mounts unchanged.
# Then: a /bin/sh container gets exactly the mounts it gets without the
# hook; a dead or host pid in the state is refused with one stderr line and
# no change; a double registration (prestart + createRuntime) mounts once;
# a `runc restore`-style re-run of the hook on a running container is a
# no-op; trixie (257) and sid (262) boot under runc on the hybrid host, sid
# under crun in v2.
#
#   tests/e2e/test-boot.sh                      # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_E2E_CONSOLE=1 ...                       # PID 1's console in pid1.log
#   OSH_E2E_KEEP=1 ...                          # keep bundles and logs
# It runs in a mount namespace of its own (lib.sh: e2e_own_host): "host"
# below is that namespace, where the runtimes and the hook run, so other
# processes' mounts and files in /tmp and /run do not show, and a mount the
# hook leaked would.
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091  # followed with -x
. "$(dirname "$0")/lib.sh"

# cgroup mode of this run, for labels
mode() { if e2e_is_v2; then echo v2; else echo hybrid; fi; }

# the unified hierarchy as the host (this run) sees it
unified_root() { if e2e_is_v2; then echo /sys/fs/cgroup; else echo /sys/fs/cgroup/unified; fi; }

# an UPPERCASE dashed uuid, so the hook's normalisation shows
upper_uuid() { tr a-f A-F </proc/sys/kernel/random/uuid; }
norm_uuid() { tr -d - <<<"$1" | tr A-F a-f; }

# mi_top MOUNTINFO MOUNTPOINT: "fstype opts root" of the topmost mount at
# MOUNTPOINT (the last line wins), empty if none.
mi_top() {
    awk -v mp="$2" '$5 == mp { for (i = 7; $i != "-"; i++) ;
        top = $(i + 1) " " $6 " " $4 } END { if (top != "") print top }' "$1"
}

# mi_count MOUNTINFO MOUNTPOINT FSTYPE [ROOT]: mounts at MOUNTPOINT of FSTYPE.
mi_count() {
    awk -v mp="$2" -v t="$3" -v root="${4-}" '$5 == mp {
        for (i = 7; $i != "-"; i++) ;
        if ($(i + 1) == t && (root == "" || $4 == root)) n++ } END { print n + 0 }' "$1"
}

# mi_norm MOUNTINFO BUNDLE: the mount list without ids, bundle path
# replaced: root mountpoint opts fstype source superopts, sorted.
mi_norm() {
    awk '{ for (i = 7; $i != "-"; i++) ;
           print $4, $5, $6, $(i + 1), $(i + 2), $(i + 3) }' "$1" |
        sed "s|$2|BUNDLE|g" | sort
}

# host_mounts FILE: the mount section of e2e_host_snapshot (per-boot checks
# compare mounts; the whole run compares the full snapshot once).
host_mounts() {
    e2e_host_snapshot "$1.full"
    sed -n '/^## mounts/,/^## canaries/p' "$1.full" >"$1"
    rm -f "$1.full"
}

# hook_state ID STATUS PID BUNDLE: a state JSON as runtimes send it.
hook_state() {
    jq -cn --arg id "$1" --arg st "$2" --argjson pid "$3" --arg b "$4" \
        '{ociVersion: "1.0.2", id: $id, status: $st, pid: $pid, bundle: $b,
          annotations: {}}'
}

# run_hook OUT ERR STATE [ARGS...]: the hook by hand; prints its exit status.
run_hook() {
    local out=$1 err=$2 state=$3 rc=0
    shift 3
    "$HOOK" "$@" <<<"$state" >"$out" 2>"$err" || rc=$?
    echo "$rc"
}

# show FILE [TITLE]: FILE as TAP comments.
show() {
    [[ -n ${2:-} ]] && e2e_log "$2"
    sed 's/^/#   /' "$1" >&2
}

# set_hooks BUNDLE STAGES...: register the hook at exactly these stages.
set_hooks() {
    local b=$1
    shift
    jq --arg hook "$HOOK" --args '.hooks = ([$ARGS.positional[] |
            {key: ., value: [{path: $hook, args: ["oci-systemd-hook", .]}]}]
          | from_entries)' "$@" <"$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
}

# v2_limit BUNDLE: the runtime sets hugetlb.2MB.max = 2 MiB (the only v2
# controller on this machine; runc and crun accept it without a devices
# section, so crun needs no eBPF).
LIMIT=2097152
v2_limit() {
    jq --argjson l "$LIMIT" \
        '.linux.resources = {hugepageLimits: [{pageSize: "2MB", limit: $l}]}' \
        "$1/config.json" >"$1/config.json.new"
    mv "$1/config.json.new" "$1/config.json"
}

# boot_ok LABEL RT NAME BUNDLE: e2e_boot_ok (lib.sh). Returns 1 only if the
# container is gone (the remaining checks still say what is wrong).
boot_ok() { e2e_boot_ok "$@" || [[ $BOOT_STATE != gone:* ]]; }

# start LABEL RT BUNDLE NAME: e2e_start_checked (lib.sh): a failure is a TAP
# line with the runtime's error output (it carries the hook's stderr).
start() { e2e_start_checked "$@"; }

# stop_ok LABEL RT NAME
stop_ok() {
    local label=$1 rt=$2 name=$3 t
    if t=$(e2e_stop "$rt" "$name" 15); then
        e2e_check "$label: stops on signal 37 in ${t}s (< 5 s)" \
            awk -v s="$t" 'BEGIN { exit !(s < 5) }'
    else
        fail "$label: stops on signal 37 (killed after ${t}s)"
    fi
    _e2e_forget "$rt" "$name"
}

# ------------------------------------------------------------ main boots

# A single-registration run's container mountinfo (inside view,
# normalised) and its count of cgroup2 mounts of the container's own cgroup
# at /sys/fs/cgroup, per runtime, for the double-registration comparison.
declare -A SINGLE_MI=() SINGLE_CG=()

# boot_case RT STAGE: the six main boots (check groups 1-7, and 11 at
# createRuntime).
boot_case() {
    local rt=$1 stage=$2 label b name uuid want pid cg mi hmi x before after
    label=$rt/$(mode)/$stage
    b=$E2E_TMP/boot-$rt-$stage
    name=boot-$rt-$stage
    uuid=$(upper_uuid)
    want=$(norm_uuid "$uuid")
    e2e_bundle "$b" bookworm stage="$stage" uuid="$uuid"
    if e2e_is_v2; then v2_limit "$b"; fi
    cg=$(e2e_cgroup_path "$b")
    mi=$b/mountinfo.in
    hmi=$b/mountinfo.host
    host_mounts "$b.host.before"

    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" || true
        pid=$(e2e_pid "$rt" "$name" 2>/dev/null) || pid=0
        e2e_exec "$rt" "$name" cat /proc/1/mountinfo >"$mi" 2>/dev/null || : >"$mi"
        cat "/proc/$pid/mountinfo" >"$hmi" 2>/dev/null || : >"$hmi"

        # 2. machine-id
        x=$(e2e_exec "$rt" "$name" cat /etc/machine-id 2>&1) || true
        e2e_check "$label: /etc/machine-id = normalised container_uuid $uuid ($want; got ${x:0:60})" \
            test "$x" = "$want"

        # 3. tmpfs
        check_tmpfs "$label" "$rt" "$name" "$mi"

        # 4. own cgroup writable: systemd made init.scope in the payload
        # child the hook moved it to (the runtime's cgroup holds the limits)
        x=$(e2e_exec "$rt" "$name" cat /proc/1/cgroup 2>&1) || true
        if grep -qx '0::/payload/init.scope' <<<"$x" && [[ -d $(unified_root)$cg/payload/init.scope ]]; then
            ok "$label: systemd created init.scope (inside 0::/payload/init.scope, host $(unified_root)$cg/payload/init.scope)"
        else
            fail "$label: systemd created init.scope (inside: $(grep '^0::' <<<"$x" || echo "$x"); host: $(find "$(unified_root)$cg" -maxdepth 2 -mindepth 1 -type d 2>&1 | tr '\n' ' '))"
        fi

        # 5. nothing of the host hierarchy writable
        check_confined "$label" "$rt" "$name" "$cg" "$mi" "$hmi"

        # 11. a runc-restore-style re-run (status stopped, live pid)
        if [[ $stage == createRuntime ]]; then
            restore_rerun "$label" "$rt" "$name" "$b" "$pid" "$want"
            SINGLE_MI[$rt]=$(mi_norm "$mi" "$b")
            SINGLE_CG[$rt]=$(mi_count "$hmi" /sys/fs/cgroup cgroup2 "$cg")
        fi

        # 6. stop
        stop_ok "$label" "$rt" "$name"
    else
        _e2e_forget "$rt" "$name"
    fi
    e2e_bundle_cleanup "$b"

    # 7. host unchanged
    host_mounts "$b.host.after"
    before=$b.host.before after=$b.host.after
    e2e_host_check "$label: host mountinfo unchanged by the boot" "$before" "$after" || true
    rm -f "$before" "$after"
}

# check_tmpfs LABEL RT NAME MOUNTINFO
check_tmpfs() {
    local label=$1 rt=$2 name=$3 mi=$4 d top bad='' modes
    for d in /run /run/lock /tmp /var/log/journal; do
        top=$(mi_top "$mi" "$d")
        # shellcheck disable=SC2086  # fields
        set -- $top
        if [[ ${1:-} != tmpfs || ,${2:-}, != *,nosuid,* || ,${2:-}, != *,nodev,* ]]; then
            bad+=" $d=[${top:-no mount}]"
        fi
    done
    modes=$(e2e_exec "$rt" "$name" stat -c '%n=%a' /tmp /run/lock 2>&1 | tr '\n' ' ') || true
    [[ $modes == "/tmp=1777 /run/lock=1777 " ]] || bad+=" modes: $modes"
    e2e_check "$label: tmpfs nosuid,nodev on /run /run/lock /tmp /var/log/journal, 1777 on /tmp /run/lock${bad:+ (bad:$bad)}" \
        test -z "$bad"
}

# check_confined LABEL RT NAME CGPATH MOUNTINFO-INSIDE MOUNTINFO-HOSTVIEW
check_confined() {
    local label=$1 rt=$2 name=$3 cg=$4 mi=$5 hmi=$6 top bad='' f v0 v1 w out c
    local ur
    ur=$(unified_root)
    # the cgroup2 mount on top of /sys/fs/cgroup is the container's own
    # directory (host view: its root field is the cgroupsPath), read-only,
    # with its payload child read-write on top of /sys/fs/cgroup/payload,
    # and no cgroup2 mount anywhere in the container has another root
    top=$(mi_top "$hmi" /sys/fs/cgroup)
    # shellcheck disable=SC2086
    set -- $top
    [[ ${1:-} == cgroup2 && ${3:-} == "$cg" && ,${2:-}, == *,ro,* ]] ||
        bad+=" top of /sys/fs/cgroup=[${top:-none}]"
    top=$(mi_top "$hmi" /sys/fs/cgroup/payload)
    # shellcheck disable=SC2086
    set -- $top
    [[ ${1:-} == cgroup2 && ${3:-} == "$cg/payload" && ,${2:-}, == *,rw,* ]] ||
        bad+=" top of /sys/fs/cgroup/payload=[${top:-none}]"
    out=$(awk -v cg="$cg" '{ for (i = 7; $i != "-"; i++) ;
        if ($(i + 1) == "cgroup2" && $4 != cg && index($4, cg "/") != 1) print $5 "@" $4 }' "$hmi")
    [[ -z $out ]] || bad+=" foreign cgroup2 roots: ${out//$'\n'/ }"
    # inside: only the own subtree is listed
    out=$(e2e_exec "$rt" "$name" ls /sys/fs/cgroup /sys/fs/cgroup/payload 2>&1 | tr '\n' ' ') || true
    [[ " $out" == *" init.scope "* && " $out" != *" osh-e2e "* ]] ||
        bad+=" ls /sys/fs/cgroup: $out"
    e2e_check "$label: /sys/fs/cgroup inside is the own subtree $cg only${bad:+ (bad:$bad)}" \
        test -z "$bad"

    # the runtime's limits stay out of reach
    bad=''
    if e2e_is_v2; then
        set -- hugetlb.2MB.max cgroup.max.depth cgroup.max.descendants
    else
        set -- cgroup.max.depth cgroup.max.descendants
    fi
    for f in "$@"; do
        v0=$(cat "$ur$cg/$f" 2>&1) || true
        # lift the limit (hugetlb), or lower one that is "max" by default
        w=7
        [[ $f != hugetlb.* ]] || w=max
        if e2e_exec "$rt" "$name" sh -c "echo $w >/sys/fs/cgroup/$f" 2>/dev/null; then
            bad+=" write of $w to $f succeeded;"
        fi
        # the payload's own copy may be written: it can only lower the
        # runtime's limit above it, which must stay as it was
        e2e_exec "$rt" "$name" sh -c "echo $w >/sys/fs/cgroup/payload/$f" 2>/dev/null || true
        v1=$(cat "$ur$cg/$f" 2>&1) || true
        [[ $v0 == "$v1" ]] || bad+=" host $f changed $v0 -> $v1;"
        if [[ $f == hugetlb.2MB.max && $v1 != "$LIMIT" ]]; then
            bad+=" host $f = $v1, not $LIMIT;"
        fi
    done
    e2e_check "$label: writing $* inside fails, host values unchanged${bad:+ (bad:$bad)}" \
        test -z "$bad"

    if ! e2e_is_v2; then
        # the v1 controllers: every v1 mount ro, none reachable for writing
        bad=$(awk '{ for (i = 7; $i != "-"; i++) ;
            if ($(i + 1) == "cgroup" && ("," $6 ",") !~ /,ro,/) print $5 }' "$mi" | tr '\n' ' ')
        for c in memory pids cpu devices systemd; do
            # shellcheck disable=SC2016
            out=$(e2e_exec "$rt" "$name" sh -c \
                'd=/sys/fs/cgroup/$1; [ ! -e "$d" ] && echo absent && exit 0
                 if mkdir "$d/osh-probe" 2>/dev/null; then rmdir "$d/osh-probe"; echo WRITABLE
                 else echo present-ro; fi' sh "$c" 2>&1) || true
            [[ $out == absent || $out == present-ro ]] || bad+=" $c:$out"
        done
        e2e_check "$label: v1 controllers neither writable nor visible at /sys/fs/cgroup/<ctrl>${bad:+ (bad: $bad)}" \
            test -z "$bad"
    fi
}

# restore_rerun LABEL RT NAME BUNDLE PID MACHINE-ID: the hook again by
# hand, as `runc restore` runs it: status "stopped", the live pid; once
# without and once with the stage argument. Must be a no-op.
restore_rerun() {
    local label=$1 rt=$2 name=$3 b=$4 pid=$5 want=$6 state rc arg x st
    state=$(hook_state "$name" stopped "$pid" "$b")
    e2e_exec "$rt" "$name" cat /proc/1/mountinfo >"$b/rr.before" 2>&1 || true
    for arg in '' createRuntime; do
        rc=$(run_hook "$b/rr.out" "$b/rr.err" "$state" ${arg:+"$arg"})
        if [[ $rc == 0 ]]; then
            ok "$label: restore re-run (status stopped${arg:+, arg $arg}) exits 0"
        else
            fail "$label: restore re-run (status stopped${arg:+, arg $arg}) exits 0 (got $rc: $(head -c 300 "$b/rr.err"))"
        fi
    done
    e2e_exec "$rt" "$name" cat /proc/1/mountinfo >"$b/rr.after" 2>&1 || true
    if diff -u "$b/rr.before" "$b/rr.after" >"$b/rr.diff"; then
        ok "$label: restore re-runs add no mount in the container"
    else
        fail "$label: restore re-runs add no mount in the container"
        show "$b/rr.diff"
    fi
    x=$(e2e_exec "$rt" "$name" cat /etc/machine-id 2>&1) || true
    st=$(e2e_exec "$rt" "$name" systemctl is-system-running 2>&1) || true
    e2e_check "$label: after the re-runs machine-id unchanged and still running (got ${x:0:40}, $st)" \
        test "$x" = "$want" -a "$st" = running
}

# ------------------------------------------------------------ /bin/sh

# run_fg RT BUNDLE NAME OUT: a foreground run, stdout to OUT.
run_fg() {
    local rt=$1 b=$2 name=$3 out=$4 rc=0
    _e2e_containers+=("$rt|$name|$b")
    timeout 20 "$rt" --root "$E2E_STATE/$rt" run --bundle "$b" "$name" \
        </dev/null >"$out" 2>"$b/console.log" || rc=$?
    _e2e_forget "$rt" "$name"
    return "$rc"
}

# sh_case RT: a /bin/sh container with the hook has the mounts it has
# without it.
sh_case() {
    local rt=$1 label s x b
    label=$rt/$(mode)/sh
    for s in none createRuntime; do
        b=$E2E_TMP/sh-$rt-$s
        e2e_bundle "$b" bookworm stage="$s" args='["/bin/sh","-c","cat /proc/self/mountinfo"]'
        if ! run_fg "$rt" "$b" "sh-$rt-$s" "$b/mi"; then
            show "$b/console.log" "---- $rt run (hook: $s) failed"
        fi
        mi_norm "$b/mi" "$b" >"$E2E_TMP/sh-$rt-$s.norm"
    done
    x=$(wc -l <"$E2E_TMP/sh-$rt-none.norm")
    if ((x > 10)) && diff -u "$E2E_TMP/sh-$rt-none.norm" \
        "$E2E_TMP/sh-$rt-createRuntime.norm" >"$E2E_TMP/sh.diff"; then
        ok "$label: a /bin/sh container has the same $x mounts with the hook as without"
    else
        fail "$label: a /bin/sh container has the same mounts with the hook as without ($x without)"
        show "$E2E_TMP/sh.diff"
    fi
    for s in none createRuntime; do e2e_bundle_cleanup "$E2E_TMP/sh-$rt-$s"; done
}

# ------------------------------------------------------------ double

# double_case RT: the hook at prestart and createRuntime.
double_case() {
    local rt=$1 label b name mi hmi d n bad='' cg
    label=$rt/$(mode)/double
    b=$E2E_TMP/double-$rt
    name=double-$rt
    e2e_bundle "$b" bookworm stage=createRuntime uuid="$(upper_uuid)"
    set_hooks "$b" prestart createRuntime
    if e2e_is_v2; then v2_limit "$b"; fi
    cg=$(e2e_cgroup_path "$b")
    mi=$b/mountinfo.in
    hmi=$b/mountinfo.host
    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" || true
        e2e_exec "$rt" "$name" cat /proc/1/mountinfo >"$mi" 2>/dev/null || : >"$mi"
        cat "/proc/$(e2e_pid "$rt" "$name")/mountinfo" >"$hmi" 2>/dev/null || : >"$hmi"
        for d in /run /run/lock /tmp /var/log/journal; do
            n=$(mi_count "$mi" "$d" tmpfs)
            [[ $n == 1 ]] || bad+=" $d:$n"
        done
        e2e_check "$label: each tmpfs mounted once${bad:+ (mount counts:$bad)}" test -z "$bad"
        n=$(mi_count "$hmi" /sys/fs/cgroup cgroup2 "$cg")
        e2e_check "$label: cgroup2 mounts of $cg at /sys/fs/cgroup: $n, as with one registration (${SINGLE_CG[$rt]:-?})" \
            test "$n" = "${SINGLE_CG[$rt]:-?}"
        if [[ -n ${SINGLE_MI[$rt]:-} ]] &&
            diff -u <(printf '%s\n' "${SINGLE_MI[$rt]}") <(mi_norm "$mi" "$b") >"$b/diff"; then
            ok "$label: the container's mount list equals the single-registration one"
        else
            fail "$label: the container's mount list equals the single-registration one"
            show "$b/diff"
        fi
        stop_ok "$label" "$rt" "$name"
    else
        _e2e_forget "$rt" "$name"
    fi
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ suites

# suite_case RT SUITE: another image boots.
suite_case() {
    local rt=$1 suite=$2 label b name
    label=$rt/$(mode)/$suite
    b=$E2E_TMP/suite-$rt-$suite
    name=suite-$rt-$suite
    e2e_bundle "$b" "$suite" stage=createRuntime uuid="$(upper_uuid)"
    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" || true
        stop_ok "$label" "$rt" "$name"
    else
        _e2e_forget "$rt" "$name"
    fi
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ bad pids

# refuse_case LABEL BUNDLE PID PATTERN: the hook with PID must exit 1 with
# one stderr line "oci-systemd-hook: <id12>: ...PATTERN..." and change
# nothing on the host or in the rootfs.
refuse_case() {
    local label=$1 b=$2 pid=$3 pat=$4 id rc lines snap_b snap_a
    id=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    host_mounts "$E2E_TMP/refuse.before"
    snap_b=$( (find "$b/upper" "$b/rootfs/run" "$b/rootfs/tmp" "$b/rootfs/sys/fs/cgroup"; grep -F " $b" /proc/self/mountinfo) 2>&1)
    rc=$(run_hook "$E2E_TMP/refuse.out" "$E2E_TMP/refuse.err" \
        "$(hook_state "$id" creating "$pid" "$b")" createRuntime)
    lines=$(wc -l <"$E2E_TMP/refuse.err")
    e2e_check "$label: hook exits 1 (got $rc)" test "$rc" = 1
    if [[ $lines == 1 ]] && grep -qE "^oci-systemd-hook: ${id:0:12}: .*($pat)" "$E2E_TMP/refuse.err"; then
        ok "$label: one stderr line naming the cause: $(cat "$E2E_TMP/refuse.err")"
    else
        fail "$label: one stderr line \"oci-systemd-hook: ${id:0:12}: ...\" matching /$pat/ (got $lines lines)"
        show "$E2E_TMP/refuse.err"
    fi
    host_mounts "$E2E_TMP/refuse.after"
    snap_a=$( (find "$b/upper" "$b/rootfs/run" "$b/rootfs/tmp" "$b/rootfs/sys/fs/cgroup"; grep -F " $b" /proc/self/mountinfo) 2>&1)
    if e2e_host_compare "$E2E_TMP/refuse.before" "$E2E_TMP/refuse.after" &&
        [[ $snap_b == "$snap_a" ]]; then
        ok "$label: host mountinfo and the bundle's rootfs unchanged"
    else
        fail "$label: host mountinfo and the bundle's rootfs unchanged"
        diff <(printf '%s\n' "$snap_b") <(printf '%s\n' "$snap_a") | sed 's/^/#   /' >&2 || true
    fi
}

bad_pid_cases() {
    local b=$E2E_TMP/badpid dead sp cgname mp
    e2e_bundle "$b" bookworm uuid="$(upper_uuid)"
    sleep 0 &
    dead=$!
    wait "$dead"
    refuse_case "dead pid $dead" "$b" "$dead" 'no such process|exited'
    refuse_case "host pid \$\$ ($$)" "$b" "$$" 'mount namespace'
    # a host process in a cgroup of its own (as a process on a systemd host
    # would be), so the hook gets past the cgroup lookup
    sleep 30 &
    sp=$!
    cgname=/osh-e2e/$(basename "$E2E_TMP")-hostpid
    for mp in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
        mkdir -p "$mp$cgname"
        echo "$sp" >"$mp$cgname/cgroup.procs"
    done
    refuse_case "host pid of a sleep in $cgname" "$b" "$sp" 'mount namespace'
    kill "$sp"
    wait "$sp" 2>/dev/null || true
    e2e_rm_cgroup "$cgname" || e2e_log "cgroup $cgname not removed"
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ main

v2_run() {
    local rt
    for rt in runc crun; do
        boot_case "$rt" createRuntime
        boot_case "$rt" prestart
        double_case "$rt"
        sh_case "$rt"
    done
    suite_case crun sid
}

# with --v2: the sub-run, started below through e2e_v2
e2e_own_host "$@"
e2e_begin v2_run "$@"

T0=$(_e2e_now)
for s in bookworm trixie sid; do e2e_image "$s" >/dev/null; done
e2e_log "hook: $HOOK ($("$HOOK" --version))"
e2e_host_snapshot "$E2E_TMP/host.before"
if e2e_is_v2; then
    e2e_log "note: /sys/fs/cgroup is already cgroup2; no hybrid cases"
    v2_run
else
    boot_case runc createRuntime
    boot_case runc prestart
    double_case runc
    sh_case runc
    bad_pid_cases
    suite_case runc trixie
    suite_case runc sid
    e2e_sub e2e_v2 "$BASH" "$0" --v2
fi
e2e_host_snapshot "$E2E_TMP/host.after"
e2e_host_check "whole run: host state (mounts, canaries, entries) unchanged" \
    "$E2E_TMP/host.before" "$E2E_TMP/host.after" || true
left=$(e2e_leftovers) || true
e2e_check "no runtime state or cgroups left behind${left:+: $left}" test -z "$left"
e2e_log "total $(_e2e_since "$T0")s"
e2e_done
