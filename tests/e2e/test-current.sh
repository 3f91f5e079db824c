#!/bin/bash
# The hook under the current runtimes of Debian sid: runc 1.3 (hybrid host
# and v2) and crun 1.28 (v2), run from a cached sid root (current-lib.sh)
# x systemd 252 (bookworm), 257 (trixie), 262 (sid) x createRuntime /
# prestart x rw / ro rootfs x with / without a user namespace.
#
# Each cell: `running` with 0 failed units, the hook's four tmpfs and the
# machine-id from container_uuid, the runtime's limits out of reach (v2:
# hugetlb.2MB.max set by the runtime, cgroup.max.depth/descendants; hybrid:
# pids.max of the v1 pids controller, cgroup.max.depth/descendants of the
# unified cgroup), a stop on signal 37 in < 10 s, and neither the host's
# mount table and files nor the sid namespace's mount table changed. Plus:
# crun 1.28 still refuses the hybrid host.
#
# The results of the full matrix (72 cells) are kept in
# tests/e2e/current-results.tsv, and README's "current runtimes" table is
# made from that file. By default (CI) a representative subset runs (every
# runtime x cgroup mode, every systemd, stage, rootfs and userns value at
# least twice) and must give what the file says; OSH_CURRENT=full runs all
# of it. With OSH_UPDATE_README=1 (full matrix only) the file and the
# README table are rewritten from the run. A runtime version that differs
# from the file's (sid moved on) is reported, not failed.
#
#   tests/e2e/test-current.sh                   # as root, the CI subset
#   OSH_CURRENT=full tests/e2e/test-current.sh  # all 72 cells (~8 min)
#   OSH_CURRENT_CELLS='runc|v2|sid|prestart|ro|yes ...'  # chosen cells
#   OSH_UPDATE_README=1 OSH_CURRENT=full ...    # rewrite tsv + README table
#   OSH_UPDATE_README=1 OSH_CURRENT_CELLS=...   # re-run those cells, replace their lines
#   OSH_E2E_CONSOLE=1, OSH_E2E_KEEP=1           # as in lib.sh
# jq and sh programs in single quotes; limits_ok is called through e2e_check
# shellcheck disable=SC2016,SC2317
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=${HOOK:-$TOP/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091  # followed with -x
. "$(dirname "$0")/lib.sh"
# shellcheck source=current-lib.sh disable=SC1091
. "$(dirname "$0")/current-lib.sh"

TSV=$TOP/tests/e2e/current-results.tsv
SELF=$(readlink -f "$0")
README=${OSH_COMPAT_README:-$TOP/README.md}
LIMIT=2097152
PIDS_LIMIT=1000
SUITES=(bookworm trixie sid)
STAGES=(createRuntime prestart)

# ------------------------------------------------------------ cells

# A cell: RUNTIME|CGROUPS|SUITE|STAGE|rw/ro|userns yes/no.
all_cells() {
    local rc s st ro us
    for rc in runc/hybrid runc/v2 crun/v2; do
        for s in "${SUITES[@]}"; do
            for st in "${STAGES[@]}"; do
                for ro in rw ro; do
                    for us in no yes; do
                        printf '%s|%s|%s|%s|%s|%s\n' "${rc%/*}" "${rc#*/}" "$s" "$st" "$ro" "$us"
                    done
                done
            done
        done
    done
}

# the CI subset: 13 cells, each value of each dimension at least twice
CI_CELLS=(
    "runc|hybrid|bookworm|createRuntime|rw|no"
    "runc|hybrid|trixie|prestart|ro|no"
    "runc|hybrid|sid|createRuntime|rw|yes"
    "runc|hybrid|bookworm|prestart|ro|yes"
    "runc|v2|bookworm|prestart|rw|yes"
    "runc|v2|trixie|createRuntime|ro|no"
    "runc|v2|sid|prestart|rw|no"
    "runc|v2|sid|createRuntime|ro|yes"
    "crun|v2|bookworm|createRuntime|rw|no"
    "crun|v2|bookworm|prestart|ro|yes"
    "crun|v2|trixie|createRuntime|rw|yes"
    "crun|v2|sid|createRuntime|ro|no"
    "crun|v2|sid|prestart|rw|no"
)

selected_cells() {
    if [[ -n ${OSH_CURRENT_CELLS:-} ]]; then
        tr ' ' '\n' <<<"$OSH_CURRENT_CELLS" | grep .
    elif [[ ${OSH_CURRENT:-} == full ]]; then
        all_cells
    else
        printf '%s\n' "${CI_CELLS[@]}"
    fi
}

# ------------------------------------------------------------ helpers

upper_uuid() { tr a-f A-F </proc/sys/kernel/random/uuid; }
norm_uuid() { tr -d - <<<"$1" | tr A-F a-f; }

jq_edit() {
    local f=$1 filter=$2
    shift 2
    jq "$@" "$filter" "$f" >"$f.new"
    mv "$f.new" "$f"
}

show() {
    [[ -n ${2:-} ]] && e2e_log "$2"
    sed 's/^/#   /' "$1" >&2
}

rt_version() { "$1" --version | awk 'NR == 1 { sub(/\+.*/, "", $3); print $3 }'; }

# mounts_of MOUNTINFO: "mountpoint opts fstype source superopts" lines,
# sorted, without the test's temp dirs and $OSH_E2E_SNAPSHOT_IGNORE.
mounts_of() {
    awk -v skip="$E2E_TMPROOT" '
        $5 == skip || index($5, skip "/") == 1 { next }
        { for (i = 7; $i != "-"; i++) ;
          print $5, $6, $(i + 1), $(i + 2), $(i + 3) }' "$1" | sort | e2e_snapshot_filter
}

# snap FILE: the host's mount table (through the driver's pid, which
# stays in the host's mount namespace) and files, and the sid
# namespace's mount table.
snap() {
    local h=/proc/$OSH_CUR_HOSTPID f
    {
        echo "## host mounts"
        mounts_of "$h/mountinfo"
        echo "## host files"
        for f in /etc/shadow /etc/machine-id /etc/hostname; do
            printf '%s %s\n' "$f" "$(sha256sum <"$h/root$f" | cut -c1-16)"
        done
        find "$h/root/" "$h/root/run" "$h/root/tmp" -maxdepth 1 -mindepth 1 \
            ! -path "$h/root$E2E_TMPROOT" -printf '%p %y %m %u:%g\n' 2>/dev/null |
            sed "s|^$h/root/*|/|" | sort | e2e_snapshot_filter
        echo "## sid namespace mounts"
        mounts_of /proc/self/mountinfo
    } >"$1"
}

# start LABEL RT BUNDLE NAME: e2e_start_checked (lib.sh); a container that
# failed to start is forgotten.
start() { e2e_start_checked "$@" || { _e2e_forget "$2" "$4"; return 1; }; }

cx() { e2e_exec "$@" 2>/dev/null; }

# limits_ok LABEL RT NAME CGPATH: the runtime's limits cannot be raised
# (nor lowered) from inside; the host's values stay. Returns 1 otherwise.
limits_ok() {
    local label=$1 rt=$2 name=$3 cg=$4 ur f w v0 v1 bad='' out
    if [[ $MODE == v2 ]]; then
        ur=/sys/fs/cgroup
        set -- hugetlb.2MB.max cgroup.max.depth cgroup.max.descendants
    else
        ur=/sys/fs/cgroup/unified
        set -- cgroup.max.depth cgroup.max.descendants
    fi
    for f in "$@"; do
        v0=$(cat "$ur$cg/$f" 2>&1) || true
        w=7
        [[ $f != hugetlb.* ]] || w=max
        if cx "$rt" "$name" sh -c "echo $w >/sys/fs/cgroup/$f"; then
            bad+=" write of $w to /sys/fs/cgroup/$f succeeded;"
        fi
        # the payload's own copy may be written: it only lowers the limit above
        cx "$rt" "$name" sh -c "echo $w >/sys/fs/cgroup/payload/$f" || true
        # (and put back: a payload with cgroup.max.descendants 7 cannot
        # start systemd-halt.service at the stop)
        cx "$rt" "$name" sh -c "echo max >/sys/fs/cgroup/payload/$f" || true
        v1=$(cat "$ur$cg/$f" 2>&1) || true
        [[ $v0 == "$v1" ]] || bad+=" host $f $v0 -> $v1;"
        [[ $f != hugetlb.2MB.max || $v1 == "$LIMIT" ]] || bad+=" host $f = $v1, not $LIMIT;"
    done
    if [[ $MODE == hybrid ]]; then
        # every pids.max the container can find, set to max
        out=$(cx "$rt" "$name" sh -c 'n=0; for f in $(find /sys/fs/cgroup -name pids.max 2>/dev/null); do
                echo max 2>/dev/null >"$f" && echo "WROTE $f"; n=$((n + 1)); done; echo "seen $n"') || true
        [[ $out != *WROTE* ]] || bad+=" ${out//$'\n'/ };"
        v1=$(cat "/sys/fs/cgroup/pids$cg/pids.max" 2>&1) || true
        [[ $v1 == "$PIDS_LIMIT" ]] || bad+=" host pids.max = $v1, not $PIDS_LIMIT;"
        out=$(cx "$rt" "$name" sh -c 'ls -d /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup/unified 2>/dev/null') || true
        [[ -z $out ]] || bad+=" v1/unified visible: ${out//$'\n'/ };"
    fi
    # nothing above the container's own cgroup is visible
    out=$(cx "$rt" "$name" ls /sys/fs/cgroup) || true
    [[ $' '${out//$'\n'/ }' ' != *" osh-e2e "* ]] || bad+=" host hierarchy visible;"
    if [[ -z $bad ]]; then
        return 0
    fi
    e2e_log "$label: limits:$bad"
    return 1
}

# ------------------------------------------------------------ one cell

record() { printf '%s\t%s\n' "$1" "$2" >>"$OSH_CUR_DIR/results.tsv"; }

CELL_N=0
cell() {
    local key=$1 rt cg suite stage ro us label b name uuid want res=failed snap0 snap1 x cg_path
    local top bad=''
    IFS='|' read -r rt cg suite stage ro us <<<"$key"
    CELL_N=$((CELL_N + 1))
    label="$rt/$cg/$suite/$stage/$ro"
    [[ $us == no ]] || label+=/userns
    b=$E2E_TMP/c$CELL_N
    name=c$CELL_N
    uuid=$(upper_uuid)
    want=$(norm_uuid "$uuid")
    set -- "$b" "$suite" stage="$stage" uuid="$uuid" readonly="$([[ $ro == ro ]] && echo true || echo false)"
    if ! if [[ $us == yes ]]; then e2e_bundle_userns "$@"; else e2e_bundle "$@"; fi; then
        fail "$label: bundle made"
        record "$key" failed
        return 0
    fi
    if [[ $MODE == v2 ]]; then
        jq_edit "$b/config.json" '.linux.resources = {hugepageLimits: [{pageSize: "2MB", limit: $l}]}' \
            --argjson l "$LIMIT"
    else
        jq_edit "$b/config.json" '.linux.resources = {pids: {limit: $l}}' --argjson l "$PIDS_LIMIT"
    fi
    cg_path=$(e2e_cgroup_path "$b")
    snap0=$E2E_TMP/snap.before
    snap "$snap0"
    if start "$label" "$rt" "$b" "$name"; then
        if e2e_boot_ok "$label" "$rt" "$name" "$b"; then
            res=running
            x=$(cx "$rt" "$name" cat /proc/1/mountinfo | e2e_hook_tmpfs) || true
            [[ $x == "/run /run/lock /tmp /var/log/journal" ]] || bad+=" tmpfs: $x;"
            x=$(cx "$rt" "$name" cat /etc/machine-id) || true
            [[ $x == "$want" ]] || bad+=" machine-id ${x:0:40};"
            top=$(cx "$rt" "$name" sh -c 'touch /etc/osh-probe 2>/dev/null && echo rw || echo ro') || true
            [[ $top == "$ro" ]] || bad+=" rootfs is $top;"
            e2e_check "$label: tmpfs on /run /run/lock /tmp /var/log/journal, machine-id $want, rootfs $ro${bad:+ (bad:$bad)}" \
                test -z "$bad" || res=failed
            e2e_check "$label: limits cannot be raised, the host hierarchy is not visible" \
                limits_ok "$label" "$rt" "$name" "$cg_path" || res=failed
        fi
        if x=$(e2e_stop "$rt" "$name" 10) && awk -v s="$x" 'BEGIN { exit !(s < 10) }'; then
            ok "$label: stops on signal 37 (${x}s)"
        else
            fail "$label: stops on signal 37 in < 10 s (${x}s)"
            res=failed
        fi
        _e2e_forget "$rt" "$name"
    fi
    if [[ ${OSH_E2E_KEEP:-} == 1 ]]; then
        _e2e_console_stop "$b"
        _e2e_umount_under "$b"
    else
        e2e_bundle_cleanup "$b"
    fi
    snap1=$E2E_TMP/snap.after
    snap "$snap1"
    if diff -u "$snap0" "$snap1" >"$E2E_TMP/snap.diff" 2>&1; then
        ok "$label: host and sid namespace unchanged (mounts, files)"
    else
        fail "$label: host and sid namespace unchanged (mounts, files)"
        show "$E2E_TMP/snap.diff"
        res=failed
    fi
    rm -f "$snap1"
    record "$key" "$res"
}

# crun on the hybrid host: still refused.
crun_hybrid() {
    local b=$E2E_TMP/crun-hybrid name=crunhy out res=failed
    e2e_bundle "$b" bookworm stage=createRuntime
    if e2e_start crun "$b" "$name" 2>/dev/null; then
        fail "crun/hybrid: crun $(rt_version crun) refuses the hybrid host (it started the container)"
        e2e_stop crun "$name" 10 >/dev/null || true
    else
        out=$(grep -m1 -i 'hybrid' "$b/console.log") || out=$(head -c 200 "$b/console.log")
        e2e_check "crun/hybrid: crun $(rt_version crun) refuses the hybrid host (${out:0:120})" \
            grep -qi 'hybrid' "$b/console.log" && res=refused
    fi
    _e2e_forget crun "$name"
    e2e_bundle_cleanup "$b"
    record "crun|hybrid|bookworm|createRuntime|rw|no" "$res"
}

# ------------------------------------------------------------ the sub-run (in the sid root)

in_sid() {
    local key
    MODE=$1
    e2e_init
    e2e_require_hook
    e2e_cgroup_hold
    {
        printf 'runc\t%s\n' "$(rt_version runc)"
        printf 'crun\t%s\n' "$(rt_version crun)"
        printf 'criu\t%s\n' "$(criu --version | awk '/^Version:/ { print $2 }')"
    } >"$OSH_CUR_DIR/versions"
    e2e_log "$MODE: runc $(rt_version runc), crun $(rt_version crun) from the sid root; /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup)"
    while IFS= read -r key; do
        [[ $key == *"|$MODE|"* ]] || continue
        cell "$key"
    done < <(selected_cells)
    [[ $MODE != hybrid || -n ${OSH_CURRENT_CELLS:-} ]] || crun_hybrid
    e2e_check "$MODE: no runtime state or cgroups left behind" e2e_no_leftovers
    e2e_done
}

if [[ ${1:-} == --in ]]; then
    in_sid "$2"
fi

# ------------------------------------------------------------ the table

# render TSV: the README table from a results file.
render() {
    local tsv=$1 rc s st ro us row res ci ver
    declare -A r=() v=()
    while IFS=$'\t' read -r k x; do
        [[ $k == '#'* || -z $k ]] && continue
        if [[ $k == version:* ]]; then v[${k#version:}]=$x; else r[$k]=$x; fi
    done <"$tsv"
    row='| runtime | host cgroups | systemd (image) |'
    for st in "${STAGES[@]}"; do
        for ro in rw ro; do
            row+=" $st $ro | $st $ro, userns |"
        done
    done
    echo "$row"
    printf '|---|---|---|%s\n' "$(printf '%.0s---|' {1..8})"
    for rc in runc/hybrid runc/v2 crun/v2; do
        ver=${v[${rc%/*}]:-?}
        for s in "${SUITES[@]}"; do
            row="| ${rc%/*} $ver | ${rc#*/} | ${v[systemd-$s]:-$(e2e_systemd_label "$s")} |"
            for st in "${STAGES[@]}"; do
                for ro in rw ro; do
                    for us in no yes; do
                        k="${rc%/*}|${rc#*/}|$s|$st|$ro|$us"
                        res=${r[$k]:-not run}
                        ci=''
                        [[ " ${CI_CELLS[*]} " == *" $k "* ]] && ci='*'
                        row+=" $res$ci |"
                    done
                done
            done
            echo "$row"
        done
    done
    echo "| crun ${v[crun]:-?} | hybrid | any | ${r[crun|hybrid|bookworm|createRuntime|rw|no]:-not run}: \"cgroups in hybrid mode not supported\" (test v2 with a private cgroup2 namespace) |||||||"
    echo
    echo "runc ${v[runc]:-?}, crun ${v[crun]:-?} (criu ${v[criu]:-?}) from Debian sid, run from a sid root"
    echo "(\`tests/e2e/test-current.sh\`, \`tests/e2e/current-lib.sh\`); ${v[date]:-}. Each cell: running, 0"
    echo "failed units, the four tmpfs and the machine-id, the runtime's limits cannot be raised"
    echo "from inside, stop on SIGRTMIN+3 in < 10 s, host and runtime namespace unchanged."
    echo "\`*\`: also run by CI (a subset); \`OSH_CURRENT=full\` runs every cell. User namespace:"
    echo "ids 0-65535 mapped to 100000-165535, the rootfs chowned to match."
}

# ------------------------------------------------------------ the driver (host)

e2e_init
e2e_require_hook
T0=$(_e2e_now)
e2e_cgroup_hold
t=$(_e2e_now)
root=$(e2e_sid_root) || {
    fail "the sid root builds (debootstrap sid with $E2E_SID_PKGS)"
    e2e_done
}
ok "sid root: $root ($(_e2e_since "$t")s; cached after the first build)"
# the images, and the uid-shifted copies (python3: on the host) the
# selected userns cells need
t=$(_e2e_now)
cells=$(selected_cells)
for s in "${SUITES[@]}"; do
    e2e_image "$s" >/dev/null
    if grep -q "|$s|.*|yes\$" <<<"$cells"; then e2e_userns_image "$s" >/dev/null; fi
done
e2e_log "images ready ($(_e2e_since "$t")s)"

OSH_CUR_DIR=$E2E_TMP/current
mkdir -p "$OSH_CUR_DIR"
: >"$OSH_CUR_DIR/results.tsv"
export OSH_CUR_DIR OSH_CUR_HOSTPID=$$
e2e_host_snapshot "$E2E_TMP/host.before"
for mode in hybrid v2; do
    t=$(_e2e_now)
    if [[ $mode == v2 ]]; then
        e2e_sub e2e_sid --v2 "$BASH" "$SELF" --in v2
    else
        e2e_sub e2e_sid "$BASH" "$SELF" --in hybrid
    fi
    e2e_log "$mode cells: $(_e2e_since "$t")s"
done
e2e_host_snapshot "$E2E_TMP/host.after"
e2e_check "the host is unchanged after the run (mounts, canaries, entries)" \
    e2e_host_compare "$E2E_TMP/host.before" "$E2E_TMP/host.after"

# the results against the kept ones
RES=$OSH_CUR_DIR/results.tsv
{
    echo "# results of tests/e2e/test-current.sh (OSH_CURRENT=full); README's table is made from this"
    while IFS=$'\t' read -r k x; do printf 'version:%s\t%s\n' "$k" "$x"; done < <(cat "$OSH_CUR_DIR/versions" 2>/dev/null)
    for s in "${SUITES[@]}"; do printf 'version:systemd-%s\t%s\n' "$s" "$(e2e_systemd_label "$s")"; done
    printf 'version:date\tmeasured %s on Linux %s\n' "$(date -u +%Y-%m-%d)" "$(uname -r | cut -d- -f1)"
    sort "$RES"
} >"$OSH_CUR_DIR/new.tsv"
while IFS=$'\t' read -r k x; do
    old=$(awk -F'\t' -v k="version:$k" '$1 == k { print $2 }' "$TSV" 2>/dev/null) || old=''
    [[ $old == "$x" ]] || e2e_log "note: $k $x here, $TSV has ${old:-none} (sid moved on?)"
done < <(cat "$OSH_CUR_DIR/versions" 2>/dev/null)
for s in "${SUITES[@]}"; do
    x=$(e2e_systemd_label "$s")
    old=$(awk -F'\t' -v k="version:systemd-$s" '$1 == k { print $2 }' "$TSV" 2>/dev/null) || old=''
    [[ $old == "$x" ]] || e2e_log "note: the $s image has systemd $x, $TSV has ${old:-none}"
done
bad=''
while IFS=$'\t' read -r k x; do
    old=$(awk -F'\t' -v k="$k" '$1 == k { print $2 }' "$TSV" 2>/dev/null) || old=''
    [[ $old == "$x" ]] || bad+=" $k: $x (kept: ${old:-none});"
done <"$RES"
n=$(wc -l <"$RES")
if [[ ${OSH_UPDATE_README:-} == 1 ]]; then
    if [[ -n ${OSH_CURRENT_CELLS:-} && -f $TSV ]]; then
        # a re-run of chosen cells: their lines replaced, the rest kept
        awk -F'\t' 'NR == FNR { if ($1 !~ /^(#|version:)/) new[$1] = $0; next }
                     $1 in new { print new[$1]; next } { print }' "$OSH_CUR_DIR/new.tsv" "$TSV" >"$TSV.new"
        mv "$TSV.new" "$TSV"
    elif [[ ${OSH_CURRENT:-} != full ]]; then
        fail "README: OSH_UPDATE_README=1 needs OSH_CURRENT=full (or OSH_CURRENT_CELLS, to re-run kept cells)"
    else
        cp "$OSH_CUR_DIR/new.tsv" "$TSV"
    fi
    if [[ -f $TSV ]]; then
        render "$TSV" >"$E2E_TMP/table.md"
        e2e_readme_update "$README" compat-current "$E2E_TMP/table.md"
        e2e_check "README: current-runtimes table and $TSV rewritten ($n cells)" \
            test "$(e2e_readme_section "$README" compat-current)" = "$(cat "$E2E_TMP/table.md")"
    fi
else
    e2e_check "the $n cells give the results kept in tests/e2e/current-results.tsv${bad:+ (differ:$bad)}" \
        test -z "$bad"
fi
render "$TSV" >"$E2E_TMP/table.md"
if ! e2e_readme_section "$README" compat-current >"$E2E_TMP/readme-table.md"; then
    fail "README: $README has no <!-- compat-current:begin/end --> markers"
elif diff -u "$E2E_TMP/readme-table.md" "$E2E_TMP/table.md" >"$E2E_TMP/table.diff"; then
    ok "README: the current-runtimes table is the one made from current-results.tsv"
else
    fail "README: the current-runtimes table is the one made from current-results.tsv"
    show "$E2E_TMP/table.diff"
fi
e2e_check "no runtime state or cgroups left behind" e2e_no_leftovers
e2e_log "total $(_e2e_since "$T0")s"
e2e_done
