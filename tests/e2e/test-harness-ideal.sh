#!/bin/bash
# Harness self-test, no hook involved.
#
# The "ideal spec" (the mounts the hook would add, written into config.json)
# boots the image to `running` with 0 failed units and stops on SIGRTMIN+3
# within 5 s: under runc on this hybrid host (cgroup v1 mode), and under runc
# and crun in a private namespace with a pure cgroup2 /sys/fs/cgroup. A plain
# bundle (neither hook nor ideal mounts) must NOT reach running. This is the
# baseline the hook is compared with.
#
#   tests/e2e/test-harness-ideal.sh          # as root
#   OSH_E2E_SUITES="bookworm trixie" ...     # other images (default bookworm)
#   OSH_E2E_VERBOSE=1 ...                    # print cgroup/mount layouts
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITES=${OSH_E2E_SUITES:-bookworm}
RESULTS=${OSH_E2E_RESULTS:-}

# cgroup mode of this run, for labels
mode() { if e2e_is_v2; then echo v2; else echo v1; fi; }

# record LABEL STATE BOOT STOP FAILED EXEC
record() {
    printf '%-26s %-12s %6s %6s %6s %s\n' "$@" >>"$RESULTS"
}

verbose() {
    [[ ${OSH_E2E_VERBOSE:-} == 1 ]] || return 0
    e2e_log "$1"
    sed 's/^/#   /' >&2
}

# case_done LABEL RUNTIME NAME BUNDLE STATE BOOT STOP FAILED EXEC: records
# the case, deletes its container and bundle.
case_done() {
    local label=$1 rt=$2 name=$3 b=$4
    shift 4
    record "$label" "$@"
    _e2e_forget "$rt" "$name"
    e2e_bundle_cleanup "$b"
}

# expect_gone LABEL WHAT RUNTIME NAME BUNDLE STATE: checks that the
# container is gone (STATE gone:...), for a case that must not boot (PID 1's
# first error in the message); then case_done.
expect_gone() {
    local label=$1 what=$2 rt=$3 name=$4 b=$5 st=$6 why
    why=$(pid1_error "$b")
    e2e_check "$label: $what (got $st${why:+: $why})" test "${st%%:*}" = gone
    case_done "$label" "$rt" "$name" "$b" "$st" - - - -
}

# expect_boot SUITE: may the ideal spec boot SUITE in this cgroup mode?
# systemd >= 258 (sid: 262) refuses cgroup v1: "Detected unsupported legacy
# cgroup hierarchy, refusing execution".
expect_boot() { [[ $1 != sid ]] || e2e_is_v2; }

# ideal_case RUNTIME SUITE: the ideal spec boots, execs, stops.
ideal_case() {
    local rt=$1 suite=$2 label b name t0 st boot n=- stop=- ex=no pid
    label=$rt-$(mode)-$suite-ideal
    b=$E2E_TMP/$label
    name=$label
    # the baseline stays free of the console bind unless a failure is
    # expected (then PID 1's message is the point) or OSH_E2E_CONSOLE=1
    if expect_boot "$suite"; then
        e2e_bundle "$b" "$suite" ideal=1
    else
        e2e_bundle "$b" "$suite" ideal=1 console=1
    fi
    t0=$(_e2e_now)
    if ! e2e_start "$rt" "$b" "$name"; then
        fail "$label: $rt run"
        case_done "$label" "$rt" "$name" "$b" start-failed - - - -
        return 0
    fi
    st=$(e2e_wait_running "$rt" "$name" 30) || true
    boot=$(_e2e_since "$t0")
    if ! expect_boot "$suite"; then
        expect_gone "$label" "does not boot, expected for $suite in $(mode) mode" "$rt" "$name" "$b" "$st"
        return 0
    fi
    if [[ $st == running ]]; then
        ok "$label: reaches running in ${boot}s"
    else
        fail "$label: reaches running (got $st after ${boot}s)"
        e2e_dump "$b"
        [[ -s $b/pid1.log ]] || e2e_log "rerun with OSH_E2E_CONSOLE=1 for PID 1's messages"
    fi
    if [[ $st != gone:* ]]; then
        if n=$(e2e_failed_units "$rt" "$name"); then
            e2e_check "$label: 0 failed units (got $n)" test "$n" = 0
        else
            fail "$label: list failed units"
        fi
        if e2e_exec "$rt" "$name" true; then ex=yes; fi
        e2e_check "$label: $rt exec into the booted container" test "$ex" = yes
        pid=$(e2e_pid "$rt" "$name")
        verbose "$label: host /proc/$pid/cgroup" <"/proc/$pid/cgroup"
        e2e_exec "$rt" "$name" cat /proc/1/mountinfo |
            grep -E ' /sys/fs/cgroup| /run| /tmp| /var/log/journal| /dev/console' |
            verbose "$label: container /proc/1/mountinfo (cgroup, tmpfs)" || true
        if stop=$(e2e_stop "$rt" "$name" 15); then
            e2e_check "$label: stops on signal 37 in ${stop}s (< 5 s)" \
                awk -v s="$stop" 'BEGIN { exit !(s < 5) }'
        else
            fail "$label: stops on signal 37 (killed after ${stop}s)"
        fi
    fi
    case_done "$label" "$rt" "$name" "$b" "$st" "$boot" "$stop" "$n" "$ex"
}

# pid1_error BUNDLE: the first error PID 1 wrote to the console.
pid1_error() {
    sleep 0.1 # let the relay copy PID 1's last words
    grep -a -m1 -E 'Failed to|Operation not permitted|Read-only|refusing' "$1/pid1.log" |
        sed -E 's/\x1b\[[0-9;]*m//g; s/\r//g' || true
}

# plain_case RUNTIME SUITE: without hook or ideal mounts systemd must exit.
# The console capture shows why.
plain_case() {
    local rt=$1 suite=$2 label b name st
    label=$rt-$(mode)-$suite-plain
    b=$E2E_TMP/$label
    name=$label
    e2e_bundle "$b" "$suite" console=1
    if e2e_start "$rt" "$b" "$name"; then
        st=$(e2e_wait_running "$rt" "$name" 15) || true
    else
        st=start-failed
    fi
    expect_gone "$label" "does not reach running without the hook" "$rt" "$name" "$b" "$st"
}

# crun refuses the hybrid host; not a check, only recorded.
crun_hybrid_info() {
    local b=$E2E_TMP/crun-v1 err
    e2e_bundle "$b" "$1" ideal=1
    if e2e_start crun "$b" crun-v1 2>/dev/null; then
        err=$(e2e_wait_running crun crun-v1 30) || true
    else
        err="refused: $(grep -m1 -v '^$' "$b/console.log" || true)"
    fi
    record "crun-v1-$1-ideal" "info" - - - "$err"
    _e2e_forget crun crun-v1
    e2e_bundle_cleanup "$b"
}

run_cases() {
    local suite rt
    for suite in $SUITES; do
        e2e_image "$suite" >/dev/null
    done
    e2e_host_snapshot "$E2E_TMP/host.before"
    for suite in $SUITES; do
        if e2e_is_v2; then
            for rt in runc crun; do
                ideal_case "$rt" "$suite"
            done
            plain_case runc "$suite"
            plain_case crun "$suite"
        else
            ideal_case runc "$suite"
            plain_case runc "$suite"
            crun_hybrid_info "$suite"
        fi
    done
    e2e_host_snapshot "$E2E_TMP/host.after"
    e2e_check "$(mode): host state unchanged" \
        e2e_host_compare "$E2E_TMP/host.before" "$E2E_TMP/host.after"
    local left
    left=$(e2e_leftovers) || true
    e2e_check "$(mode): no runtime state or cgroups left behind${left:+: $left}" \
        test -z "$left"
}

e2e_own_host "$@"
e2e_init
if [[ ${1:-} == --v2 ]]; then
    # sub-run, started below through e2e_v2
    e2e_is_v2 || { fail "e2e_v2 gives a cgroup2 /sys/fs/cgroup"; e2e_done; }
    run_cases
    e2e_done
fi

if [[ -z $RESULTS ]]; then
    RESULTS=$E2E_TMP/results
    export OSH_E2E_RESULTS=$RESULTS
fi
record combo state boot_s stop_s failed exec
if e2e_is_v2; then
    e2e_log "note: /sys/fs/cgroup is already cgroup2; the v1 cases are skipped"
    run_cases
else
    run_cases
    e2e_sub e2e_v2 "$BASH" "$0" --v2
fi
sed 's/^/# /' "$RESULTS"
e2e_done
