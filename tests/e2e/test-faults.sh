#!/bin/bash
# Faults around the hook, under runc on this host (hybrid, v1 mode),
# Debian 12, hook at createRuntime.  After each: host mounts, canary files
# and top-level entries unchanged, no runtime state or cgroups left, and a
# normal container start then boots to `running`.
#   sigkill   the hook SIGKILLed after a random delay (20 times, 0-5 ms
#             and 5-15 ms after its start: the hook takes 5-20 ms), all on
#             one bundle, which then boots normally;
#   pid-dies  the container's init SIGKILLed right before the hook runs,
#             and at a random point while it runs: the hook exits 0, or 1
#             with one line on stderr;
#   enospc    the rootfs overlay's upper dir on a full 1 MiB tmpfs;
#   erofs     the rootfs a read-only overlay (no upper dir), root.readonly
#             false: the hook fails with one line, or succeeds;
#   timeout   `timeout: 1` on the hook, which sleeps 3 s first: runc fails
#             the create and cleans up.
#
#   tests/e2e/test-faults.sh                    # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_E2E_SNAPSHOT_IGNORE='^/tmp/' ...        # busy dev machine
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
REAL_HOOK=$HOOK
export HOOK
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$(dirname "$0")/lib.sh"

KILLS=${OSH_FAULT_KILLS:-20}

show() { # FILE [TITLE]
    [[ -n ${2:-} ]] && e2e_log "$2"
    head -n 40 "$1" | sed 's/^/#   /' >&2
}

# set_hook BUNDLE PATH [TIMEOUT]: PATH is the only hook, at createRuntime.
set_hook() {
    jq --arg p "$2" --arg t "${3:-}" '
        .hooks = {createRuntime: [{path: $p, args: ["oci-systemd-hook", "createRuntime"]}
                                  + (if $t == "" then {} else {timeout: ($t | tonumber)} end)]}' \
        "$1/config.json" >"$1/config.json.new"
    mv "$1/config.json.new" "$1/config.json"
}

# zap NAME: SIGKILL, wait until stopped, delete, remove the cgroup.
zap() {
    local i st
    e2e_rt runc kill "$1" KILL >/dev/null 2>&1 || true
    for i in $(seq 100); do
        st=$(e2e_status runc "$1")
        [[ $st == stopped || $st == gone ]] && break
        sleep 0.05
    done
    _e2e_forget runc "$1"
}

# one_line_or_ok LABEL RCFILE ERRFILE: every run recorded in RCFILE exited
# 0 with nothing on stderr, or 1 with exactly one `oci-systemd-hook: ` line.
one_line_or_ok() {
    local label=$1 rc=$2 errf=$3 codes lines
    codes=$(sort -u "$rc" | tr '\n' ' ')
    lines=$(grep -c '' "$errf" || true)
    if grep -qvE '^(0|1)$' "$rc"; then
        fail "$label: the hook exits 0 or 1 (got $codes)"
    elif grep -qx 1 "$rc"; then
        e2e_check "$label: the hook failed with one clear line (exit $codes)" \
            test "$lines" = "$(grep -cx 1 "$rc")" -a "$(grep -vc '^oci-systemd-hook: ' "$errf")" = 0
        head -n 3 "$errf" | sed 's/^/#   hook: /' >&2
    else
        e2e_check "$label: the hook succeeded, stderr empty" test "$lines" = 0
    fi
    if [[ $lines != "$(grep -cx 1 "$rc")" ]] || grep -qv '^oci-systemd-hook: ' "$errf"; then
        show "$errf" "hook stderr:"
    fi
}

# host_same LABEL: the host snapshot equals the one taken by host_mark,
# and nothing is left behind.
host_mark() { e2e_host_snapshot "$E2E_TMP/host.mark"; }
host_same() {
    local left
    e2e_host_snapshot "$E2E_TMP/host.now"
    e2e_check "$1: host mounts, canaries and entries unchanged" \
        e2e_host_compare "$E2E_TMP/host.mark" "$E2E_TMP/host.now"
    left=$(e2e_leftovers) || true
    e2e_check "$1: no runtime state or cgroups left behind${left:+: $left}" test -z "$left"
}

# normal_boot LABEL [BUNDLE]: the real hook; systemd reaches running and
# stops on signal 37.  Uses (and keeps) BUNDLE if given.
normal_boot() {
    local label=$1 b=${2:-} name st own=0
    name=$label-normal
    if [[ -z $b ]]; then
        b=$E2E_TMP/$name
        e2e_bundle "$b" bookworm stage=createRuntime
        own=1
    fi
    set_hook "$b" "$REAL_HOOK"
    if e2e_start runc "$b" "$name"; then
        st=$(e2e_wait_running runc "$name" 60) || true
        e2e_check "$label: then a normal start boots to running (got $st)" test "$st" = running
        [[ $st == running ]] || e2e_dump "$b"
        e2e_stop runc "$name" 20 >/dev/null || fail "$label: the normal container stops on signal 37"
    else
        fail "$label: then a normal start boots to running (runc run failed)"
    fi
    _e2e_forget runc "$name"
    ((own == 0)) || e2e_bundle_cleanup "$b"
}

# Delays in the wrappers: bash's `read -t` on a FIFO nobody writes to (no
# fork, so sub-millisecond delays are real).  HOOK_US: how long the hook
# takes here, as the wrapper sees it (measured by sigkill_case first).
HOOK_US=3000

# start_in BUNDLE NAME: `runc run -d`; true if the container started.
start_in() {
    _e2e_containers+=("runc|$2|$1")
    e2e_rt runc --log "$1/runtime.log" run -d --bundle "$1" "$2" </dev/null >"$1/console.log" 2>&1
}

# ---------------------------------------------------------------- sigkill

# hook_wrapper W: writes the script W from stdin (a script that runs the
# hook and sets rc), with an ending that appends rc to W.rc and exits with
# it; makes it executable, W.rc and W.stderr empty.
hook_wrapper() {
    local w=$1
    {
        cat
        printf '%s\n' "echo \"\$rc\" >>'$w.rc'" "exit \"\$rc\""
    } >"$w"
    chmod +x "$w"
    : >"$w.rc"
    : >"$w.stderr"
}

# The wrapper reads what to do from FILE.mode:
#   time             run the hook, append its duration (us) to FILE.us
#   trace            run it under strace, the syscalls into FILE.trace
#   delay US         SIGKILL it US microseconds after starting it
#   inject NAME K    SIGKILL it at its K-th NAME syscall (strace inject):
#                    a kill at any chosen point of the hook's run
sigkill_wrapper() {
    local w=$1
    hook_wrapper "$w" <<EOF
#!/bin/bash
# generated by test-faults.sh (see sigkill_wrapper)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
read -r mode a1 a2 <'$w.mode'
rc=0
exec 3<&0
case \$mode in
time)
    t0=\${EPOCHREALTIME/./}
    '$REAL_HOOK' "\$@" <&3 2>>'$w.stderr' || rc=\$?
    echo \$((\${EPOCHREALTIME/./} - t0)) >>'$w.us'
    ;;
trace)
    strace -f -qq -o '$w.trace' '$REAL_HOOK' "\$@" <&3 2>>'$w.stderr' || rc=\$?
    ;;
delay)
    '$REAL_HOOK' "\$@" <&3 3<&- 2>>'$w.stderr' &
    pid=\$!
    ((a1 == 0)) || read -r -t "\$(printf '0.%06d' "\$a1")" _ <>'$E2E_TMP/never' || true
    kill -KILL "\$pid" 2>/dev/null
    wait "\$pid" || rc=\$?
    ;;
inject)
    strace -f -qq -o /dev/null -e trace="\$a1" -e inject="\$a1":signal=SIGKILL:when="\$a2" \\
        '$REAL_HOOK' "\$@" <&3 2>>'$w.stderr' || rc=\$?
    ;;
esac
EOF
}

# kill_points TRACE N: N random syscall events of the hook's main process
# as "NAME K" (its K-th call of NAME), from an strace -f log; N=0: how
# many events there are.
kill_points() {
    awk -v n="$2" -v seed="$RANDOM" '
        NR == 1 { main = $1 }
        $1 == main && $2 ~ /^[a-z_0-9]+\(/ {
            name = substr($2, 1, index($2, "(") - 1)
            ev[++m] = name " " ++count[name]
        }
        END { if (n == 0) { print m; exit }
              srand(seed); for (i = 0; i < n && m > 0; i++) print ev[int(rand() * m) + 1] }' "$1"
}

sigkill_case() {
    local b=$E2E_TMP/sigkill w=$E2E_TMP/hook-sigkill.sh i landed=0 started=0 litter points=()
    local timed=$KILLS traced=0 p nsys=0
    e2e_bundle "$b" bookworm stage=none
    mkfifo "$E2E_TMP/never"
    sigkill_wrapper "$w"
    : >"$w.stderr"
    set_hook "$b" "$w"
    # calibration: three plain runs, one under strace
    echo time >"$w.mode"
    for i in 1 2 3; do
        start_in "$b" "calib-$i" || true
        zap "calib-$i"
    done
    [[ -s $w.us ]] && HOOK_US=$(sort -n "$w.us" | sed -n 2p)
    if command -v strace >/dev/null; then
        echo trace >"$w.mode"
        start_in "$b" calib-trace || true
        zap calib-trace
        if [[ -s $w.trace ]]; then
            nsys=$(kill_points "$w.trace" 0)
            mapfile -t points < <(kill_points "$w.trace" $((KILLS / 2)))
            traced=${#points[@]}
            timed=$((KILLS - traced))
        fi
    else
        e2e_log "sigkill: no strace (apt-get install strace): timed kills only"
    fi
    e2e_log "sigkill: the hook takes $(sort -n "$w.us" | tr '\n' ' ')us and $nsys syscalls here;" \
        "$timed kills at 0-${HOOK_US}us, $traced at random syscalls (${points[*]})"
    : >"$w.rc"
    : >"$w.stderr"
    host_mark
    for i in $(seq "$KILLS"); do
        if ((i <= timed)); then
            echo "delay $((RANDOM * HOOK_US / 32768))" >"$w.mode"
        else
            p=${points[$((i - timed - 1))]}
            echo "inject $p" >"$w.mode"
        fi
        if start_in "$b" "kill-$i"; then
            started=$((started + 1))
        fi
        zap "kill-$i"
    done
    landed=$(grep -cx 137 "$w.rc" || true)
    e2e_log "sigkill: $KILLS runs, the kill landed in $landed (exit 137), $started containers started" \
        "(the hook had finished); exit codes: $(sort "$w.rc" | uniq -c | tr -s ' \n' ' ')"
    e2e_check "sigkill: the hook ran $KILLS times and was killed in $landed (>= $traced)" \
        test "$(grep -c '' "$w.rc")" = "$KILLS" -a "$landed" -gt 0 -a "$landed" -ge "$traced"
    e2e_check "sigkill: a killed hook never started a container (started $started, kills missed $((KILLS - landed)))" \
        test "$started" -le $((KILLS - landed))
    if [[ -s $w.stderr ]]; then
        show "$w.stderr" "sigkill: hook stderr (from runs that finished):"
    fi
    host_same sigkill
    # the rootfs may hold what a killed hook left (e.g. a temp file next
    # to /etc/machine-id): noted, and the normal start must cope with it
    litter=$(cd "$b/upper" && find . -name '.#*' -o -name '*.osh-tmp*' | sed -n 1,5p | tr '\n' ' ')
    [[ -z $litter ]] || e2e_log "sigkill: left in the container's rootfs: $litter"
    normal_boot sigkill "$b"
    e2e_bundle_cleanup "$b"
}

# ---------------------------------------------------------------- pid dies

# pid_case MODE: MODE=before (init killed, then the hook runs) or during
# (init killed 0..2/3 HOOK_US us after the hook started), 5 and 8 runs.
pid_case() {
    local mode=$1 b=$E2E_TMP/pid-$1 w=$E2E_TMP/hook-pid-$1.sh i name started=0 runs=5
    [[ $mode == before ]] || runs=8
    e2e_bundle "$b" bookworm stage=none
    hook_wrapper "$w" <<EOF
#!/bin/bash
# generated by test-faults.sh: SIGKILL the container's init $mode the hook
PATH=/usr/sbin:/usr/bin:/sbin:/bin
state=\$(cat)
pid=\$(jq -r .pid <<<"\$state")
rc=0
if [[ $mode == before ]]; then
    kill -KILL "\$pid"
    '$REAL_HOOK' "\$@" <<<"\$state" 2>>'$w.stderr' || rc=\$?
else
    '$REAL_HOOK' "\$@" <<<"\$state" 2>>'$w.stderr' &
    hook=\$!
    d=\$((RANDOM * $((HOOK_US * 2 / 3)) / 32768))
    ((d == 0)) || read -r -t "\$(printf '0.%06d' "\$d")" _ <>'$E2E_TMP/never' || true
    kill -KILL "\$pid"
    wait "\$hook" || rc=\$?
fi
EOF
    [[ -p $E2E_TMP/never ]] || mkfifo "$E2E_TMP/never"
    set_hook "$b" "$w"
    host_mark
    for i in $(seq "$runs"); do
        name=pid-$mode-$i
        if start_in "$b" "$name"; then
            started=$((started + 1))
        fi
        zap "$name"
    done
    e2e_check "pid-$mode: runc never starts a container whose init died ($started of $runs started)" \
        test "$started" = 0
    e2e_log "pid-$mode: hook exit codes: $(sort "$w.rc" | uniq -c | tr -s ' \n' ' ')"
    one_line_or_ok "pid-$mode" "$w.rc" "$w.stderr"
    host_same "pid-$mode"
    e2e_bundle_cleanup "$b"
}

# ---------------------------------------------------------------- ENOSPC, EROFS

# remount_rootfs BUNDLE KIND: KIND=full (upper dir on a full 1 MiB tmpfs)
# or ro (overlay of the image alone: read-only).
remount_rootfs() {
    local b=$1 kind=$2 image
    image=$(e2e_image bookworm)
    umount "$b/rootfs"
    case $kind in
    full)
        mkdir -p "$b/small"
        mount -t tmpfs -o size=1m,nr_inodes=1k osh-full "$b/small"
        mkdir "$b/small/upper" "$b/small/work"
        dd if=/dev/zero of="$b/small/fill" bs=4k 2>/dev/null || true
        mount -t overlay overlay \
            -o "lowerdir=$image,upperdir=$b/small/upper,workdir=$b/small/work" "$b/rootfs"
        # whatever inode or byte was left, take it
        while touch "$b/small/f$RANDOM$RANDOM" 2>/dev/null; do :; done
        ;;
    ro)
        mkdir -p "$b/empty"
        mount -t overlay overlay -o "lowerdir=$b/empty:$image" "$b/rootfs"
        ;;
    esac
}

fs_case() {
    local kind=$1 label b w name st rc
    label=$([[ $kind == full ]] && echo enospc || echo erofs)
    b=$E2E_TMP/$label
    w=$E2E_TMP/hook-$label.sh
    e2e_bundle "$b" bookworm stage=none
    remount_rootfs "$b" "$kind"
    hook_wrapper "$w" <<EOF
#!/bin/sh
# generated by test-faults.sh: the hook, stderr and exit status recorded
rc=0
'$REAL_HOOK' "\$@" 2>>'$w.stderr' || rc=\$?
EOF
    set_hook "$b" "$w"
    host_mark
    name=$label
    _e2e_containers+=("runc|$name|$b")
    rc=0
    e2e_rt runc --log "$b/runtime.log" run -d --bundle "$b" "$name" \
        </dev/null >"$b/console.log" 2>&1 || rc=$?
    if [[ ! -s $w.rc ]]; then
        # runc failed before the hook (e.g. a mountpoint it could not create)
        ok "$label: runc refused before the hook: $(grep -m1 -o 'error.*' "$b/console.log" | cut -c1-160)"
    else
        one_line_or_ok "$label" "$w.rc" "$w.stderr"
        if [[ $(cat "$w.rc") == 0 && $rc == 0 ]]; then
            st=$(e2e_wait_running runc "$name" 30) || true
            e2e_log "$label: the hook succeeded; systemd: $st"
        fi
        e2e_check "$label: runc's verdict follows the hook's (hook $(cat "$w.rc"), runc $rc)" \
            test "$(cat "$w.rc")" = 0 -o "$rc" != 0
    fi
    zap "$name"
    host_same "$label"
    e2e_bundle_cleanup "$b"
    normal_boot "$label"
}

# ---------------------------------------------------------------- timeout

timeout_case() {
    local b=$E2E_TMP/timeout w=$E2E_TMP/hook-timeout.sh rc=0 t0 took
    e2e_bundle "$b" bookworm stage=none
    cat >"$w" <<EOF
#!/bin/sh
# generated by test-faults.sh: 3 s late, then the hook (timeout: 1)
echo started >>'$w.log'
sleep 3
echo hook >>'$w.log'
exec '$REAL_HOOK' "\$@"
EOF
    chmod +x "$w"
    set_hook "$b" "$w" 1
    host_mark
    _e2e_containers+=("runc|timeout|$b")
    t0=$(_e2e_now)
    e2e_rt runc --log "$b/runtime.log" run -d --bundle "$b" timeout \
        </dev/null >"$b/console.log" 2>&1 || rc=$?
    took=$(_e2e_since "$t0")
    e2e_check "timeout: runc fails the create (exit $rc after ${took}s): $(grep -m1 -o 'timed out.*\|error running hook.*' "$b/console.log" | cut -c1-120)" \
        test "$rc" != 0
    e2e_check "timeout: the hook itself never ran" test "$(grep -c hook "$w.log" 2>/dev/null || true)" = 0
    e2e_check "timeout: the container is gone ($(e2e_status runc timeout))" \
        test "$(e2e_status runc timeout)" = gone -o "$(e2e_status runc timeout)" = stopped
    zap timeout
    sleep 2.5 # the orphaned `sleep 3` must not run the hook later either
    e2e_check "timeout: the hook never ran, also later" \
        test "$(grep -c hook "$w.log" 2>/dev/null || true)" = 0
    host_same timeout
    e2e_bundle_cleanup "$b"
    normal_boot timeout
}

e2e_own_host "$@"
e2e_init
[[ -x $REAL_HOOK ]] || { fail "the hook $REAL_HOOK is built"; e2e_done; }
e2e_image bookworm >/dev/null
e2e_host_snapshot "$E2E_TMP/host.before"
sigkill_case
pid_case before
pid_case during
fs_case full
fs_case ro
timeout_case
e2e_host_snapshot "$E2E_TMP/host.after"
e2e_check "whole run: host state unchanged" e2e_host_compare "$E2E_TMP/host.before" "$E2E_TMP/host.after"
e2e_done
