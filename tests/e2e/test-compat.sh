#!/bin/bash
# Compatibility and feature test of oci-systemd-hook: real runtimes, real
# systemd images, the hook at createRuntime.
#
#  1. matrix: systemd 252 (bookworm), 257 (trixie), 262 (sid) x runc/hybrid,
#     runc/v2, crun/v2; plus sid with `oci-systemd-hook.cgroup=v1` on the
#     hybrid host, which must fail (systemd >= 258 has no cgroup v1: the
#     unified bind is what boots it there);
#  2. read-only rootfs (runc/hybrid, crun/v2): machine-id bound read-only
#     from /run, /var/lib/systemd a tmpfs with the image's content, logind;
#  3. copy-up of the image's /run, /tmp, /var/log/journal content (owners,
#     modes, symlinks kept as symlinks, nothing outside the rootfs touched);
#  4. user namespaces (shifted rootfs): tmpfs uid=/gid=, machine-id owner,
#     cgroup delegation (dir + cgroup.procs/threads/subtree_control only),
#     and the v1 (name=systemd) variant;
#  5. SELinux (disabled here): explain's warning, a --without-selinux build
#     that boots a container;
#  6. machine-id variants in the image (absent, empty, "uninitialized") and
#     without container_uuid (hex container id, other id, stable);
#  7. checkpoint/restore: the hook re-run as `runc restore` runs it (also
#     after criu-style root-owned cgroups under userns); a real
#     checkpoint/restore when criu >= 4.1 works here;
#  8. the compatibility table: written to tests/e2e/compat-table.md
#     ($E2E_TMP/compat-table.md when $CI is set) and compared with the one
#     between the compat-table markers in README.md; OSH_UPDATE_README=1
#     rewrites that README section instead (and only then).
# Every boot: running with 0 failed units, stop on signal 37.
#
#   tests/e2e/test-compat.sh                    # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_UPDATE_README=1 tests/e2e/...           # refresh README's table
#   OSH_COMPAT_README=FILE, OSH_COMPAT_TABLE=FILE  # other README / output
#   OSH_E2E_CONSOLE=1, OSH_E2E_KEEP=1           # as in lib.sh
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=${HOOK:-$TOP/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091  # followed with -x
. "$(dirname "$0")/lib.sh"

UB=$E2E_USERNS_BASE
UOWN=$UB:$UB

# ------------------------------------------------------------ helpers

# cgroup mode of this run, for labels
mode() { if e2e_is_v2; then echo v2; else echo hybrid; fi; }

# the unified hierarchy as this run sees it
unified_root() { if e2e_is_v2; then echo /sys/fs/cgroup; else echo /sys/fs/cgroup/unified; fi; }

upper_uuid() { tr a-f A-F </proc/sys/kernel/random/uuid; }
norm_uuid() { tr -d - <<<"$1" | tr A-F a-f; }
rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# show FILE [TITLE]: FILE as TAP comments.
show() {
    [[ -n ${2:-} ]] && e2e_log "$2"
    sed 's/^/#   /' "$1" >&2
}

# mi_top MOUNTINFO MOUNTPOINT: "fstype opts root superopts" of the topmost
# mount at MOUNTPOINT (the last line wins), empty if none.
mi_top() {
    awk -v mp="$2" '$5 == mp { for (i = 7; $i != "-"; i++) ;
        top = $(i + 1) " " $6 " " $4 " " $(i + 3) } END { if (top != "") print top }' "$1"
}

# jq_edit FILE FILTER [jq args...]: edit a JSON file in place.
jq_edit() {
    local f=$1 filter=$2
    shift 2
    jq "$@" "$filter" "$f" >"$f.new"
    mv "$f.new" "$f"
}

# hook_state ID STATUS PID BUNDLE: the state as `runc restore` sends it.
hook_state() {
    jq -cn --arg id "$1" --arg st "$2" --argjson pid "$3" --arg b "$4" \
        '{ociVersion: "1.0.2", id: $id, status: $st, pid: $pid, bundle: $b}'
}

# run_hook ERR STATE [ARGS...]: the hook by hand; prints its exit status.
run_hook() {
    local err=$1 state=$2 rc=0
    shift 2
    "$HOOK" "$@" <<<"$state" >/dev/null 2>"$err" || rc=$?
    echo "$rc"
}

# start LABEL RT BUNDLE NAME: e2e_start_checked (lib.sh), retried once
# when a concurrent test's e2e_rm_cgroup removed the shared /osh-e2e parent
# between the runtime's mkdir of it and of our child; a container that
# failed to start is forgotten.
start() {
    local rt=$2 b=$3 name=$4
    BOOT_T0=$(_e2e_now)
    if e2e_start "$rt" "$b" "$name" 2>/dev/null; then
        return 0
    fi
    if grep -qi 'cgroup.*osh-e2e.*no such file or directory' "$b/console.log"; then
        e2e_log "$name: cgroup parent removed under us (concurrent test), retrying"
        _e2e_forget "$rt" "$name"
        e2e_start_checked "$@" && return 0
    else
        e2e_start_failed "$1" "$rt" "$b"
    fi
    _e2e_forget "$rt" "$name"
    return 1
}

# boot_ok LABEL RT NAME BUNDLE: e2e_boot_ok (lib.sh); BOOT_STATE keeps what it saw.
boot_ok() { e2e_boot_ok "$@"; }

# stop_ok LABEL RT NAME: signal 37, stopped in < 10 s (TAP).
stop_ok() {
    local label=$1 rt=$2 name=$3 t rc=0
    if t=$(e2e_stop "$rt" "$name" 10); then
        if awk -v s="$t" 'BEGIN { exit !(s < 10) }'; then
            ok "$label: stops on signal 37 (${t}s)"
        else
            fail "$label: stops on signal 37 in < 10 s (took ${t}s)"
            rc=1
        fi
    else
        fail "$label: stops on signal 37 (killed after ${t}s)"
        rc=1
    fi
    _e2e_forget "$rt" "$name"
    return "$rc"
}

# cx RT NAME CMD...: run CMD in the container, stdout only.
cx() { e2e_exec "$@" 2>/dev/null; }

# ------------------------------------------------------------ results

# One line per configuration: KEY<TAB>running|failed, KEY =
# runtime|cgroups|suite|rootfs|userns. Shared with the v2 sub-run.
RESULTS=${OSH_COMPAT_RESULTS:-}

record() { # RT CGROUPS SUITE ro|rw yes|no RESULT
    printf '%s|%s|%s|%s|%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$RESULTS"
}

# The table's rows, in order: KEY|note.
ROWS=(
    "runc|hybrid|bookworm|rw|no|"
    "runc|hybrid|bookworm|ro|no|"
    "runc|hybrid|bookworm|rw|yes|"
    "runc|hybrid|trixie|rw|no|"
    "runc|hybrid|sid|rw|no|the hook binds the unified cgroup: systemd 262 has no cgroup v1"
    "runc|hybrid, cgroup=v1|bookworm|rw|yes|annotation \`oci-systemd-hook.cgroup=v1\`: name=systemd"
    "runc|hybrid, cgroup=v1|sid|rw|no|expected: systemd >= 258 refuses cgroup v1"
    "runc|v2|bookworm|rw|no|"
    "runc|v2|bookworm|rw|yes|"
    "runc|v2|trixie|rw|no|"
    "runc|v2|sid|rw|no|"
    "crun|v2|bookworm|rw|no|"
    "crun|v2|bookworm|ro|no|"
    "crun|v2|bookworm|rw|yes|"
    "crun|v2|trixie|rw|no|"
    "crun|v2|sid|rw|no|"
)

rt_version() { "$1" --version | awk 'NR == 1 { sub(/\+.*/, "", $3); print $3 }'; }

# make_table OUT: the markdown table from $RESULTS; returns 1 when a row
# did not run.
make_table() {
    local out=$1 row key note rt cg suite ro us res missing=0
    declare -A ver=([runc]=$(rt_version runc) [crun]=$(rt_version crun))
    {
        echo "| runtime | host cgroups | systemd (image) | rootfs | user namespace | result | note |"
        echo "|---|---|---|---|---|---|---|"
        for row in "${ROWS[@]}"; do
            key=${row%|*}
            note=${row##*|}
            IFS='|' read -r rt cg suite ro us <<<"$key"
            res=$(awk -F'\t' -v k="$key" '$1 == k { r = $2 } END { print r }' "$RESULTS")
            if [[ -z $res ]]; then
                res='not run'
                missing=1
            fi
            printf '| %s %s | %s | %s | %s | %s | %s | %s |\n' "$rt" "${ver[$rt]}" "$cg" \
                "$(e2e_systemd_label "$suite")" "$ro" "$us" "$res" "$note"
        done
        echo
        echo "The hook at createRuntime. running: \`systemctl is-system-running\` says running,"
        echo "0 failed units, and systemd stops on SIGRTMIN+3. hybrid: cgroup v1 controllers"
        echo "plus cgroup2 at /sys/fs/cgroup/unified; v2: a pure cgroup2 /sys/fs/cgroup. User"
        echo "namespace: ids 0-65535 mapped to 100000-165535, the rootfs chowned to match."
    } >"$out"
    return "$missing"
}

# ------------------------------------------------------------ 1. matrix

# matrix_case RT SUITE
matrix_case() {
    local rt=$1 suite=$2 label b name res=failed uuid pid
    label=$rt/$(mode)/$suite
    b=$E2E_TMP/m-$rt-$suite
    name=m-$rt-$suite
    uuid=$(upper_uuid)
    e2e_bundle "$b" "$suite" stage=createRuntime uuid="$uuid"
    if start "$label" "$rt" "$b" "$name"; then
        if boot_ok "$label" "$rt" "$name" "$b"; then
            res=running
            # 7. a restore-style re-run on the first boot of each runtime
            if [[ $suite == bookworm ]] && case_on restore; then
                pid=$(e2e_pid "$rt" "$name")
                restore_rerun "$label" "$rt" "$name" "$b" "$pid" "$(norm_uuid "$uuid")"
            fi
        fi
        stop_ok "$label" "$rt" "$name" || res=failed
    fi
    record "$rt" "$(mode)" "$suite" rw no "$res"
    e2e_bundle_cleanup "$b"
}

# sid_v1_case: sid with the hook told to use cgroup v1 on the hybrid host
# must not boot (the point of the unified bind).
sid_v1_case() {
    local label="runc/hybrid/sid, annotation cgroup=v1" b=$E2E_TMP/sidv1 name=sidv1 st
    e2e_bundle "$b" sid stage=createRuntime
    jq_edit "$b/config.json" '.annotations["oci-systemd-hook.cgroup"] = "v1"'
    if start "$label" runc "$b" "$name"; then
        st=$(e2e_wait_running runc "$name" 15) || true
        e2e_check "$label: PID 1 refuses to run, as systemd >= 258 does on cgroup v1 (got $st)" \
            test "${st%%:*}" = gone
        record runc "hybrid, cgroup=v1" sid rw no "$([[ $st == running ]] && echo running || echo failed)"
        e2e_stop runc "$name" 5 >/dev/null || true
        _e2e_forget runc "$name"
    fi
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 2. read-only

# ro_case RT
ro_case() {
    local rt=$1 label b name uuid want res=failed mi x top img list_img list_in missing
    label=$rt/$(mode)/bookworm/read-only
    b=$E2E_TMP/ro-$rt
    name=ro-$rt
    uuid=$(upper_uuid)
    want=$(norm_uuid "$uuid")
    e2e_bundle "$b" bookworm stage=createRuntime uuid="$uuid" readonly=true
    img=$(e2e_image bookworm)
    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" && res=running
        mi=$b/mountinfo.in
        cx "$rt" "$name" cat /proc/1/mountinfo >"$mi" || : >"$mi"

        # machine-id: a read-only bind of /run/machine-id (tmpfs)
        top=$(mi_top "$mi" /etc/machine-id)
        x=$(cx "$rt" "$name" cat /etc/machine-id) || x='(no answer)'
        # shellcheck disable=SC2086  # fields
        set -- $top
        if [[ ${1:-} == tmpfs && ,${2:-}, == *,ro,* && ${3:-} == /machine-id && $x == "$want" ]]; then
            ok "$label: /etc/machine-id is a read-only bind of /run/machine-id holding $want"
        else
            fail "$label: /etc/machine-id is a read-only bind of /run/machine-id holding $want (mount: ${top:-none}; content: ${x:0:40})"
        fi
        x=$(cx "$rt" "$name" sh -c 'echo x >/etc/machine-id && echo WRITABLE || echo refused') || true
        e2e_check "$label: /etc/machine-id cannot be written inside ($x)" test "$x" = refused

        # /var/lib/systemd: a tmpfs holding the image's content
        top=$(mi_top "$mi" /var/lib/systemd)
        list_img=$(cd "$img/var/lib/systemd" && find . -printf '%p %y %m %U:%G\n' | sort)
        list_in=$(cx "$rt" "$name" sh -c 'cd /var/lib/systemd && find . -printf "%p %y %m %U:%G\n"' | sort) || true
        missing=$(comm -23 <(printf '%s\n' "$list_img") <(printf '%s\n' "$list_in"))
        if [[ $top == "tmpfs rw,"* && -z $missing && $(wc -l <<<"$list_img") -gt 5 ]]; then
            ok "$label: /var/lib/systemd is a rw tmpfs holding the image's $(wc -l <<<"$list_img") entries (same type, mode, owner)"
        else
            fail "$label: /var/lib/systemd is a rw tmpfs holding the image's entries (mount: ${top:-none}; missing: ${missing//$'\n'/, })"
        fi
        x=$(cx "$rt" "$name" systemctl is-active systemd-logind.service) || true
        e2e_check "$label: systemd-logind.service is active (got ${x:-no answer})" test "$x" = active
        x=$(cx "$rt" "$name" sh -c 'touch /etc/osh-probe 2>/dev/null && echo WRITABLE || echo refused') || true
        e2e_check "$label: the rootfs is read-only inside ($x)" test "$x" = refused
        stop_ok "$label" "$rt" "$name" || res=failed
    fi
    record "$rt" "$(mode)" bookworm ro no "$res"
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 3. copy-up

# The image overlay's extra content, host view (paths under the rootfs).
COPYUP_PATHS=(/run/foo /run/foo/bar /run/link /run/evil /run/evil2 /tmp/keep /var/log/journal/README)

# copyup_attrs ROOT: type, mode, owner, link target or sha256 of each path.
copyup_attrs() {
    local r=$1 p
    for p in "${COPYUP_PATHS[@]}"; do
        if [[ -L $r$p ]]; then
            printf '%s %s -> %s\n' "$p" "$(stat -c '%F %u:%g' "$r$p")" "$(readlink "$r$p")"
        elif [[ -f $r$p ]]; then
            printf '%s %s %s\n' "$p" "$(stat -c '%F %a %u:%g' "$r$p")" "$(sha256sum <"$r$p" | cut -c1-16)"
        elif [[ -e $r$p ]]; then
            printf '%s %s\n' "$p" "$(stat -c '%F %a %u:%g' "$r$p")"
        else
            printf '%s missing\n' "$p"
        fi
    done
}

# host_canaries: what the copy-up must not touch on the host.
host_canaries() {
    local f
    for f in /etc/hostname /etc/shadow /etc/machine-id /etc/passwd; do
        printf '%s %s %s\n' "$f" "$(stat -c '%Y %a %u:%g %i' "$f" 2>&1)" "$(sha256sum <"$f" | cut -c1-16)"
    done
    for f in /foo /bar /keep /README /link /evil /evil2 /run/foo /run/link /run/evil /run/evil2 \
        /tmp/keep /tmp/foo /var/log/journal/README /etc/foo; do
        [[ -e $f || -L $f ]] && echo "appeared: $f"
    done
    return 0
}

# trixie: bookworm's tmp.conf (`D /tmp`) empties /tmp at boot, by design.
copyup_case() {
    local rt=runc label b name r src_before src_after want got x bad='' d
    label=$rt/$(mode)/trixie/copy-up
    b=$E2E_TMP/copyup
    name=copyup
    e2e_bundle "$b" trixie stage=createRuntime
    r=$b/rootfs
    mkdir "$r/run/foo"
    chown 1234:1234 "$r/run/foo"
    chmod 0750 "$r/run/foo"
    echo "copy me $RANDOM" >"$r/run/foo/bar"
    chown 1234:1234 "$r/run/foo/bar"
    chmod 0640 "$r/run/foo/bar"
    ln -s /etc/hostname "$r/run/link"
    ln -s / "$r/run/evil"
    ln -s ../../../.. "$r/run/evil2"
    echo "keep me $RANDOM" >"$r/tmp/keep"
    chmod 0600 "$r/tmp/keep"
    echo "journal readme $RANDOM" >"$r/var/log/journal/README"
    want=$(copyup_attrs "$r")
    host_canaries >"$b/canaries.before"
    src_before=$(cd "$b/upper" && find run tmp var/log/journal -printf '%p %y %m %U:%G %s %T@\n' | sort)
    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" || true
        # the container's view, through its root as the host sees it
        got=$(copyup_attrs "/proc/$(e2e_pid "$rt" "$name")/root")
        if [[ $got == "$want" ]]; then
            ok "$label: /run/foo/bar, /run/link, /run/evil, /run/evil2, /tmp/keep, /var/log/journal/README copied with owner, mode, content; symlinks as symlinks"
        else
            fail "$label: image content copied with owner, mode, content; symlinks as symlinks"
            diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/#   /' >&2 || true
        fi
        x=$(cx "$rt" "$name" cat /run/evil2/etc/hostname) || x='(no answer)'
        e2e_check "$label: /run/evil2/etc/hostname inside is the rootfs's /etc/hostname ($x)" \
            test "$x" = "$(cat "$r/etc/hostname")"
        for d in /run /run/lock /tmp /var/log/journal; do
            x=$(cx "$rt" "$name" stat -fc %T "$d") || x='?'
            [[ $x == tmpfs ]] || bad+=" $d=$x"
        done
        e2e_check "$label: /run, /run/lock, /tmp, /var/log/journal are tmpfs (statfs)${bad:+ (bad:$bad)}" \
            test -z "$bad"
        stop_ok "$label" "$rt" "$name" || true
    fi
    host_canaries >"$b/canaries.after"
    if diff -u "$b/canaries.before" "$b/canaries.after" >"$b/canaries.diff"; then
        ok "$label: host files (/etc/hostname, /etc/shadow, ...) unchanged, nothing new at /, /run, /tmp"
    else
        fail "$label: host files unchanged, nothing new at /, /run, /tmp"
        show "$b/canaries.diff"
    fi
    src_after=$(cd "$b/upper" && find run tmp var/log/journal -printf '%p %y %m %U:%G %s %T@\n' | sort)
    e2e_check "$label: the image's own /run, /tmp, /var/log/journal (overlay upper) unchanged" \
        test "$src_before" = "$src_after"
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 4. userns

# cg_owners LABEL DIR FILES...: DIR and FILES owned by the mapped root,
# every other file in DIR by 0:0 (TAP, two lines).
cg_owners() {
    local label=$1 dir=$2 f bad='' others n
    shift 2
    [[ $(stat -c %u:%g "$dir" 2>&1) == "$UOWN" ]] || bad+=" dir=$(stat -c %u:%g "$dir" 2>&1)"
    for f in "$@"; do
        [[ $(stat -c %u:%g "$dir/$f" 2>&1) == "$UOWN" ]] || bad+=" $f=$(stat -c %u:%g "$dir/$f" 2>&1)"
    done
    e2e_check "$label: host $dir and its $* owned by $UOWN${bad:+ (bad:$bad)}" test -z "$bad"
    others=$(cd "$dir" && for f in *; do
        [[ -f $f ]] || continue
        [[ " $* " == *" $f "* ]] && continue
        stat -c '%u:%g %n' "$f"
    done)
    n=$(wc -l <<<"$others")
    bad=$(awk '$1 != "0:0"' <<<"$others" | tr '\n' ' ')
    e2e_check "$label: the other $n files of the container's cgroup (limits) still owned by 0:0${bad:+ (bad: $bad)}" \
        test -z "$bad" -a "$n" -gt 1
}

# userns_case RT [v1]: a user namespace, uid/gid 0 -> 100000.
userns_case() {
    local rt=$1 v1=${2:-} label b name uuid want res=failed pid hmi d top bad='' x cgdir files cgkey
    label=$rt/$(mode)/bookworm/userns${v1:+/cgroup=v1}
    b=$E2E_TMP/u-$rt$v1
    name=u-$rt$v1
    uuid=$(upper_uuid)
    want=$(norm_uuid "$uuid")
    e2e_bundle_userns "$b" bookworm stage=createRuntime uuid="$uuid"
    cgkey=$(mode)
    if [[ -n $v1 ]]; then
        jq_edit "$b/config.json" '.annotations["oci-systemd-hook.cgroup"] = "v1"'
        cgdir=/sys/fs/cgroup/systemd$(e2e_cgroup_path "$b")
        files=(cgroup.procs tasks)
        cgkey="hybrid, cgroup=v1"
    else
        # the container runs in the payload child of the runtime's cgroup:
        # that is what the mapped root gets; the runtime's stays 0:0
        cgdir=$(unified_root)$(e2e_cgroup_path "$b")/payload
        files=(cgroup.procs cgroup.threads cgroup.subtree_control)
    fi
    if start "$label" "$rt" "$b" "$name"; then
        boot_ok "$label" "$rt" "$name" "$b" && res=running
        pid=$(e2e_pid "$rt" "$name")
        hmi=$b/mountinfo.host
        cat "/proc/$pid/mountinfo" >"$hmi"
        for d in /run /run/lock /tmp /var/log/journal; do
            top=$(mi_top "$hmi" "$(readlink -f "$b/rootfs")$d")
            [[ -n $top ]] || top=$(mi_top "$hmi" "$d")
            [[ ,${top##* }, == *,uid=$UB,* && ,${top##* }, == *,gid=$UB,* ]] || bad+=" $d=[${top:-none}]"
        done
        # inside, each tmpfs root has the owner of the image's directory
        # (copy-up), in the container's ids: /var/log/journal is
        # root:systemd-journal
        x=$(cx "$rt" "$name" stat -c %u:%g /run /run/lock /tmp /var/log/journal | tr '\n' ' ') || true
        [[ $x == "$(cd "$(e2e_image bookworm)" && stat -c %u:%g run run/lock tmp var/log/journal | tr '\n' ' ')" ]] ||
            bad+=" owners inside: $x"
        e2e_check "$label: tmpfs /run /run/lock /tmp /var/log/journal have uid=$UB,gid=$UB (host mountinfo), inside the image's owners ($x)${bad:+ (bad:$bad)}" \
            test -z "$bad"
        x=$(cx "$rt" "$name" stat -c '%u:%g' /etc/machine-id) || true
        x+=" $(cx "$rt" "$name" cat /etc/machine-id)" || true
        e2e_check "$label: /etc/machine-id owned by the container's root, = $want (got $x)" \
            test "$x" = "0:0 $want"
        x=$(cx "$rt" "$name" stat -c '%u:%g' /run/systemd/netif) || true
        e2e_check "$label: copy-up keeps the image's (shifted) owners: /run/systemd/netif is systemd-network's ($x)" \
            test "$x" = "$(stat -c '%u:%g' "$(e2e_image bookworm)/run/systemd/netif")"
        cg_owners "$label" "$cgdir" "${files[@]}"
        stop_ok "$label" "$rt" "$name" || res=failed
    fi
    record "$rt" "$cgkey" bookworm rw yes "$res"
    # 7. a restore re-run after criu-style root-owned cgroups, on a second
    # boot of the same bundle (a failure there must not spoil the row)
    name=ur-$rt$v1
    label+=/restore
    if case_on restore && start "$label" "$rt" "$b" "$name"; then
        if boot_ok "$label" "$rt" "$name" "$b"; then
            pid=$(e2e_pid "$rt" "$name")
            restore_rerun "$label" "$rt" "$name" "$b" "$pid" "$want" "$cgdir" "${files[@]}"
        fi
        stop_ok "$label" "$rt" "$name" || true
    fi
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 7. restore

# restore_rerun LABEL RT NAME BUNDLE PID MACHINE-ID [CGDIR FILES...]: the
# hook by hand as `runc restore` runs it (status "stopped", the restored
# pid), without and with the stage argument: exit 0, no new mount, same
# machine-id. With CGDIR (user namespace): first give the cgroup back to
# 0:0 as criu leaves it; the re-run must hand it to the mapped root again.
restore_rerun() {
    local label=$1 rt=$2 name=$3 b=$4 pid=$5 want=$6 cgdir=${7:-} state rc arg x st
    if (($# > 7)); then shift 7; else set --; fi
    state=$(hook_state "$name" stopped "$pid" "$b")
    cat "/proc/$pid/mountinfo" >"$b/rr.before"
    if [[ -n $cgdir ]]; then
        chown 0:0 "$cgdir" "${@/#/$cgdir/}"
        if [[ $cgdir != /sys/fs/cgroup/systemd/* ]]; then
            # (on v1, moving a process needs write access to the target only)
            # a transient unit, collected even when it fails: journald
            # itself would loop into its start limit (Restart=always)
            if x=$(e2e_exec "$rt" "$name" systemd-run --wait --collect --quiet /bin/true 2>&1); then
                x=ok
            else
                x="exit $?${x:+: ${x//$'\n'/ }}"
            fi
            e2e_check "$label: with the cgroup chowned back to 0:0 (as criu leaves it), a new unit fails (${x:0:70})" \
                test "$x" != ok
        fi
    fi
    for arg in '' createRuntime; do
        rc=$(run_hook "$b/rr.err" "$state" ${arg:+"$arg"})
        if [[ $rc == 0 ]]; then
            ok "$label: restore re-run (status stopped${arg:+, arg $arg}) exits 0"
        else
            fail "$label: restore re-run (status stopped${arg:+, arg $arg}) exits 0 (got $rc: $(head -c 300 "$b/rr.err"))"
        fi
    done
    if [[ -n $cgdir ]]; then
        x=$(stat -c '%u:%g' "$cgdir" "${@/#/$cgdir/}" | sort -u | tr '\n' ' ')
        e2e_check "$label: the re-run gave the cgroup and its $* back to $UOWN (got $x)" \
            test "$x" = "$UOWN "
    fi
    cat "/proc/$pid/mountinfo" >"$b/rr.after"
    if diff -u "$b/rr.before" "$b/rr.after" >"$b/rr.diff"; then
        ok "$label: the re-runs add no mount in the container"
    else
        fail "$label: the re-runs add no mount in the container"
        show "$b/rr.diff"
    fi
    if [[ -n $cgdir ]]; then
        if x=$(e2e_exec "$rt" "$name" systemctl restart systemd-journald 2>&1); then
            x=ok
        else
            x="exit $?: ${x//$'\n'/ }"
        fi
        e2e_check "$label: after the re-run systemctl restart systemd-journald succeeds (${x:0:80})" \
            test "$x" = ok
    fi
    x=$(cx "$rt" "$name" cat /etc/machine-id) || true
    st=$(e2e_wait_running "$rt" "$name" 10) || true
    e2e_check "$label: after the re-runs still running, machine-id unchanged (got $st, ${x:0:40})" \
        test "$x" = "$want" -a "$st" = running
}

# restore_specrun_case: the same re-run when config.json mounts /run and
# /run/lock itself (the hook's marker lives on a /run of its own).
restore_specrun_case() {
    local label b=$E2E_TMP/specrun name=specrun uuid
    label="runc/$(mode)/bookworm/spec mounts /run"
    uuid=$(upper_uuid)
    e2e_bundle "$b" bookworm stage=createRuntime uuid="$uuid"
    jq_edit "$b/config.json" '.mounts += [
        {destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=755"]},
        {destination: "/run/lock", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"]}]'
    if start "$label" runc "$b" "$name"; then
        if boot_ok "$label" runc "$name" "$b"; then
            restore_rerun "$label" runc "$name" "$b" "$(e2e_pid runc "$name")" "$(norm_uuid "$uuid")"
        fi
        stop_ok "$label" runc "$name" || true
    fi
    e2e_bundle_cleanup "$b"
}

# criu_case: a real `runc checkpoint` / `runc restore` when criu can.
criu_case() {
    local v label=runc/hybrid/bookworm/criu b name=criu st
    if ! command -v criu >/dev/null; then
        "$TOP/scripts/deps.sh" criu >&2 || true
    fi
    v=$(criu --version 2>/dev/null | awk '/^Version:/ { print $2 }') || v=''
    if [[ -z $v || $(printf '%s\n' 4.1 "$v" | sort -V | head -n1) != 4.1 ]]; then
        echo "ok $((_e2e_n + 1)) - $label: runc checkpoint/restore # SKIP criu ${v:-missing} (< 4.1): Debian's criu 3.17.1 cannot checkpoint on this kernel (\"vdso: Unexpected rt vDSO area bounds\"; fixed in criu 4.1)"
        _e2e_n=$((_e2e_n + 1))
        return 0
    fi
    if ! criu check >"$E2E_TMP/criu-check.log" 2>&1; then
        echo "ok $((_e2e_n + 1)) - $label: runc checkpoint/restore # SKIP criu $v: \`criu check' fails: $(tail -n1 "$E2E_TMP/criu-check.log")"
        _e2e_n=$((_e2e_n + 1))
        return 0
    fi
    b=$E2E_TMP/criu
    e2e_bundle "$b" bookworm stage=createRuntime
    if start "$label" runc "$b" "$name" && boot_ok "$label" runc "$name" "$b"; then
        if e2e_rt runc checkpoint --image-path "$b/ckpt" --work-path "$b/ckpt-work" "$name" \
            >"$b/ckpt.log" 2>&1; then
            ok "$label: runc checkpoint (criu $v)"
        else
            fail "$label: runc checkpoint (criu $v): $(tail -n1 "$b/ckpt.log")"
        fi
        if [[ $(e2e_status runc "$name") == running ]]; then
            : # the checkpoint failed and left it running
        elif e2e_rt runc restore -d --image-path "$b/ckpt" --work-path "$b/ckpt-work" \
            --bundle "$b" "$name" </dev/null >"$b/restore.log" 2>&1; then
            st=$(e2e_wait_running runc "$name" 30) || true
            e2e_check "$label: runc restore with the hook: running again (got $st)" test "$st" = running
        else
            fail "$label: runc restore with the hook: $(tail -n1 "$b/restore.log")"
        fi
        stop_ok "$label" runc "$name" || true
    fi
    _e2e_forget runc "$name"
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 5. SELinux

LABEL_CTX=system_u:object_r:container_file_t:s0:c12,c34

selinux_enabled() {
    if command -v selinuxenabled >/dev/null; then
        selinuxenabled
    else
        [[ -e /sys/fs/selinux/enforce ]]
    fi
}

# explain_label HOOK BUNDLE-WITH-ROOTFS TAG: explain on a copy of the
# bundle's config with a mountLabel.
explain_label() {
    local hook=$1 src=$2 tag=$3 d=$E2E_TMP/sel-$3 out
    mkdir -p "$d"
    jq --arg ctx "$LABEL_CTX" --arg root "$src/rootfs" \
        '.linux.mountLabel = $ctx | .root.path = $root' "$src/config.json" >"$d/config.json"
    out=$("$hook" explain "$d" 2>&1) || true
    if grep -q '^warning: SELinux is disabled on this host' <<<"$out" &&
        ! grep -q 'context=' <<<"$out" && grep -q '^  tmpfs /run mode=' <<<"$out"; then
        ok "selinux ($tag): explain with linux.mountLabel warns \"SELinux is disabled on this host\", plans the tmpfs without context="
    else
        fail "selinux ($tag): explain with linux.mountLabel warns \"SELinux is disabled on this host\", no context="
        printf '%s\n' "$out" | sed 's/^/#   /' >&2
    fi
}

selinux_cases() {
    local b=$E2E_TMP/sel-bundle nosel=$E2E_TMP/nosel t0 x label name=nosel
    if selinux_enabled; then
        echo "# SELinux is enabled on this host: the disabled-host checks below are skipped"
        echo "ok $((_e2e_n + 1)) - selinux: explain on a disabled host # SKIP SELinux is enabled here"
        _e2e_n=$((_e2e_n + 1))
    else
        echo "# SELinux is disabled on this host (no /sys/fs/selinux): linux.mountLabel cannot be applied; checking the warning and a --without-selinux build"
    fi
    e2e_bundle "$b" bookworm stage=createRuntime
    selinux_enabled || explain_label "$HOOK" "$b" default

    # a --without-selinux build, out of tree: the source tree is configured
    # in place (configure refuses a VPATH build then), so build a clean copy
    t0=$(_e2e_now)
    mkdir -p "$nosel/src"
    # (without the in-tree configure results and objects, which VPATH
    # would pick up; tar exits 1 when a file changes while it reads it,
    # e.g. a concurrent build: that is fine here)
    tar -C "$TOP" --warning=no-file-changed --exclude=./.git --exclude=./build --exclude=./bench \
        --exclude=./config.status --exclude=./config.log --exclude=./config.h --exclude=./stamp-h1 \
        --exclude=Makefile --exclude='*.o' --exclude='*.a' --exclude=.deps --exclude=./oci-systemd-hook \
        --exclude='./oci-systemd-hook-*' --exclude='*.log' --exclude='*.trs' --exclude=./tests/e2e \
        --exclude=./fuzz/corpus --exclude=./fuzz/regress -cf "$nosel/src.tar" . || (($? == 1))
    tar -C "$nosel/src" -xf "$nosel/src.tar"
    mkdir -p "$nosel/src/build"
    if (cd "$nosel/src/build" && ../configure -q --without-selinux &&
        make -j"$(nproc)" oci-systemd-hook) >"$nosel/build.log" 2>&1; then
        ok "selinux: a --without-selinux out-of-tree build compiles ($(_e2e_since "$t0")s)"
    else
        fail "selinux: a --without-selinux out-of-tree build compiles"
        tail -n 20 "$nosel/build.log" | sed 's/^/#   /' >&2
        e2e_bundle_cleanup "$b"
        return 0
    fi
    x=$nosel/src/build/oci-systemd-hook
    e2e_check "selinux: ldd of the --without-selinux build shows no libselinux" \
        sh -c "ldd '$x' | grep -q . && ! ldd '$x' | grep -q libselinux"
    # the hook validates labels through selinuxfs itself (it links
    # statically): the default build names the node, the other does not
    if grep -q HAVE_SELINUX "$TOP/config.h" 2>/dev/null; then
        e2e_check "selinux: the default build validates labels through /sys/fs/selinux/context, the --without-selinux build has no label code" \
            sh -c "grep -q /sys/fs/selinux/context '$HOOK' && ! grep -q /sys/fs/selinux/context '$x'"
    else
        e2e_check "selinux: the --without-selinux build has no label code" sh -c "! grep -q /sys/fs/selinux/context '$x'"
    fi
    e2e_check "selinux: config.h of the --without-selinux build has no HAVE_SELINUX" \
        sh -c "! grep -q 'define HAVE_SELINUX' '$nosel/src/build/config.h'"
    selinux_enabled || explain_label "$x" "$b" without-selinux

    # boot with that build (no mountLabel: runc itself passes context= to
    # its own /dev tmpfs and fails with EINVAL on a host without SELinux)
    label="runc/$(mode)/bookworm/without-selinux build"
    # shellcheck disable=SC2016  # jq variables
    jq_edit "$b/config.json" '.hooks.createRuntime[0].path = $h' --arg h "$x"
    if start "$label" runc "$b" "$name"; then
        boot_ok "$label" runc "$name" "$b" || true
        stop_ok "$label" runc "$name" || true
    fi
    e2e_bundle_cleanup "$b"
}

# ------------------------------------------------------------ 6. machine-id

# mid_boot LABEL BUNDLE NAME WANT: boot, check machine-id = WANT, stop.
mid_boot() {
    local label=$1 b=$2 name=$3 want=$4 x
    if start "$label" runc "$b" "$name"; then
        boot_ok "$label" runc "$name" "$b" || true
        x=$(cx runc "$name" cat /etc/machine-id) || x='(no answer)'
        e2e_check "$label: /etc/machine-id = $want (got ${x:0:40})" test "$x" = "$want"
        stop_ok "$label" runc "$name" || true
    fi
    e2e_bundle_cleanup "$b"
}

mid_cases() {
    local v b uuid label id base
    for v in absent empty uninitialized; do
        b=$E2E_TMP/mid-$v
        uuid=$(upper_uuid)
        label="runc/$(mode)/bookworm/machine-id $v"
        e2e_bundle "$b" bookworm stage=createRuntime uuid="$uuid"
        case $v in
        absent) rm "$b/rootfs/etc/machine-id" ;;
        empty) : >"$b/rootfs/etc/machine-id" ;;
        uninitialized) printf 'uninitialized\n' >"$b/rootfs/etc/machine-id" ;;
        esac
        mid_boot "$label" "$b" "mid-$v" "$(norm_uuid "$uuid")"
    done
    # no container_uuid: from the container id
    id=$(rand_hex 32 | tr a-f A-F)
    b=$E2E_TMP/mid-hexid
    e2e_bundle "$b" bookworm stage=createRuntime
    jq_edit "$b/config.json" '.process.env |= map(select(startswith("container_uuid=") | not))'
    mid_boot "runc/$(mode)/bookworm/no container_uuid, hex id ${id:0:12}..." "$b" "$id" \
        "$(tr A-F a-f <<<"${id:0:32}")"
    # a hex prefix shorter than 32 digits does not count: SHA-256 of the id
    id=deadbeef-compat-$(basename "$E2E_TMP")
    base=$(printf '%s' "$id" | sha256sum | cut -c1-32)
    for v in 1 2; do
        b=$E2E_TMP/mid-id$v
        e2e_bundle "$b" bookworm stage=createRuntime
        jq_edit "$b/config.json" '.process.env |= map(select(startswith("container_uuid=") | not))'
        mid_boot "runc/$(mode)/bookworm/no container_uuid, id $id, run $v" "$b" "$id" "$base"
    done
}

# ------------------------------------------------------------ runs

# case_on CASE: whether to run CASE (all, or those in $OSH_COMPAT_CASES:
# matrix ro copyup userns selinux mid restore; restore adds to matrix and
# userns; a partial run skips the README comparison).
case_on() { [[ -z ${OSH_COMPAT_CASES:-} || " $OSH_COMPAT_CASES " == *" $1 "* ]]; }

v2_run() {
    local rt s
    if case_on matrix; then
        for rt in runc crun; do
            for s in bookworm trixie sid; do matrix_case "$rt" "$s"; done
        done
    fi
    if case_on ro; then ro_case crun; fi
    if case_on userns; then
        userns_case runc
        userns_case crun
    fi
}

hybrid_run() {
    local s
    if case_on matrix; then
        for s in bookworm trixie sid; do matrix_case runc "$s"; done
        sid_v1_case
    fi
    if case_on ro; then ro_case runc; fi
    if case_on copyup; then copyup_case; fi
    if case_on userns; then
        userns_case runc
        userns_case runc v1
    fi
    if case_on selinux; then selinux_cases; fi
    if case_on mid; then mid_cases; fi
    if case_on restore; then
        restore_specrun_case
        criu_case
    fi
}

# with --v2: the sub-run, started below through e2e_v2
e2e_begin v2_run "$@"

T0=$(_e2e_now)
# keep /osh-e2e from being removed (by any test's cleanup) under runtimes
# creating their cgroups in it, for the whole run
e2e_cgroup_hold
RESULTS=$E2E_TMP/results.tsv
: >"$RESULTS"
export OSH_COMPAT_RESULTS=$RESULTS
for s in bookworm trixie sid; do e2e_image "$s" >/dev/null; done
e2e_userns_image bookworm >/dev/null
e2e_log "hook: $HOOK ($("$HOOK" --version)); kernel $(uname -r); runc $(rt_version runc), crun $(rt_version crun)"
if e2e_is_v2; then
    e2e_log "note: /sys/fs/cgroup is already cgroup2; no hybrid cases"
    v2_run
elif [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
    hybrid_run
    e2e_sub e2e_v2 "$BASH" "$0" --v2
else
    e2e_log "note: not a hybrid host; only the v2 cases run"
    e2e_sub e2e_v2 "$BASH" "$0" --v2
fi

# ------------------------------------------------------------ 8. the table
if [[ -n ${OSH_COMPAT_TABLE:-} ]]; then
    TABLE=$OSH_COMPAT_TABLE
elif [[ -n ${CI:-} ]]; then
    TABLE=$E2E_TMP/compat-table.md
else
    TABLE=$TOP/tests/e2e/compat-table.md
fi
README=${OSH_COMPAT_README:-$TOP/README.md}
complete=1
make_table "$TABLE" || complete=0
e2e_log "compatibility table ($TABLE):"
sed 's/^/#   /' "$TABLE"
if [[ ${OSH_UPDATE_README:-} == 1 ]]; then
    if ((!complete)); then
        fail "README: not updated, some configurations did not run"
    elif e2e_readme_section "$README" compat-table >/dev/null; then
        e2e_readme_update "$README" compat-table "$TABLE"
        e2e_check "README: compatibility table rewritten in $README (OSH_UPDATE_README=1)" \
            test "$(e2e_readme_section "$README" compat-table)" = "$(cat "$TABLE")"
    else
        fail "README: $README has no <!-- compat-table:begin/end --> markers"
    fi
elif ! e2e_readme_section "$README" compat-table >"$E2E_TMP/readme-table.md"; then
    fail "README: $README has no <!-- compat-table:begin/end --> markers"
elif ((!complete)); then
    echo "ok $((_e2e_n + 1)) - README: compatibility table # SKIP some configurations did not run on this host"
    _e2e_n=$((_e2e_n + 1))
elif diff -u "$E2E_TMP/readme-table.md" "$TABLE" >"$E2E_TMP/table.diff"; then
    ok "README: the compatibility table matches the results"
else
    fail "README: the compatibility table matches the results (OSH_UPDATE_README=1 rewrites it)"
    show "$E2E_TMP/table.diff"
fi

e2e_check "no runtime state or cgroups left behind" e2e_no_leftovers
e2e_log "total $(_e2e_since "$T0")s"
e2e_done
