#!/bin/bash
# Self-test of the host snapshot (lib.sh: e2e_own_host, e2e_host_snapshot,
# e2e_host_check), no runtime, no hook, about 10 s.
#
# A noise loop in the host's mount namespace, started before the test
# splits off its own, keeps mounting a tmpfs on a new /tmp/noise-XXXXXX,
# creating files in /tmp and /run, and removing all of it again, as other
# tests and engines on a busy machine do. Then:
#   1. e2e_own_host: the test runs in a mount namespace of its own, /tmp
#      and /run are its own tmpfs, its temp dir is on the real /tmp.
#   2. control: a snapshot taken in the host's namespace changes under the
#      noise (so the noise is real: this is what made the suite red).
#   3. the snapshot of the own namespace does not change under the same
#      noise (a mount that existed at the split and was removed since
#      included).
#   4. a leak, made in the own namespace as a hook that mounts in the
#      runtime's namespace would (a tmpfs on /run/osh-leak, a file
#      /tmp/osh-leak), turns the comparison red, and the failure line names
#      both lines.
#
#   tests/e2e/test-snapshot.sh                  # as root
#   OSH_NOISE_SECONDS=10 tests/e2e/test-snapshot.sh
# Checks pass code as strings to eval (single quotes on purpose).
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$(dirname "$0")/lib.sh"

NOISE_SECONDS=${OSH_NOISE_SECONDS:-4}

# noise STATEFILE: the loop (host namespace). Writes the number of rounds
# and its current mount point to STATEFILE after each one; on TERM removes
# what it made, STATEFILE included. Its names carry its pid.
noise() {
    local state=$1 i=0 d f p=$BASHPID
    # shellcheck disable=SC2317  # the trap
    _noise_clean() {
        for d in /tmp/noise-"$p"-*/; do
            [[ -d $d ]] || continue
            umount "$d" 2>/dev/null
            rmdir "$d"
        done
        rm -f /tmp/noise-file-"$p"-* /run/noise-file-"$p"-* "$state" "$state.new"
        exit 0
    }
    trap _noise_clean TERM
    while :; do
        i=$((i + 1))
        d=/tmp/noise-$p-$i
        mkdir "$d"
        mount -t tmpfs -o size=1m osh-noise "$d"
        f=noise-file-$p-$i
        : >"/tmp/$f"
        : >"/run/$f"
        echo "$i $d" >"$state.new"
        mv -f "$state.new" "$state"
        # the first mount stays until the test has split off
        ((i > 1)) || sleep 1
        sleep 0.05
        umount "$d"
        rmdir "$d"
        rm -f "/tmp/$f" "/run/$f"
    done
}

if [[ -z ${OSH_E2E_OWN_HOST:-} && $(id -u) == 0 ]]; then
    # in the host's namespace, before the split; the loop is also how the
    # test reaches the host's namespace later (nsenter -t)
    NOISE_STATE=$(mktemp /tmp/osh-noise-state.XXXXXX)
    noise "$NOISE_STATE" &
    NOISE_PID=$!
    export NOISE_STATE NOISE_PID
    for _ in $(seq 100); do
        [[ -s $NOISE_STATE ]] && break
        sleep 0.02
    done
fi
e2e_own_host "$@"
e2e_init

in_host() { nsenter -t "$NOISE_PID" -m -- "$@"; }
stop_noise() {
    kill "$NOISE_PID" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$NOISE_PID" 2>/dev/null || return 0
        sleep 0.02
    done
}
e2e_at_exit stop_noise
rounds() { in_host cat "$NOISE_STATE" | cut -d' ' -f1; }

# host_snapshot FILE: e2e_host_snapshot as taken in the host's namespace
host_snapshot() {
    in_host "$BASH" -c '. "$1"; E2E_TMPROOT=$2 e2e_host_snapshot "$3"' sh \
        "$_E2E_DIR/lib.sh" "$E2E_TMPROOT" "$1"
}

# 1. own namespace
e2e_check "own mount namespace (not the host's)" \
    test "$(readlink /proc/self/ns/mnt)" != "$(in_host readlink /proc/self/ns/mnt)"
e2e_check "own /tmp and /run: tmpfs osh-own-tmp, osh-own-run" \
    test "$(findmnt -no SOURCE /tmp)/$(findmnt -no SOURCE /run)" = osh-own-tmp/osh-own-run
e2e_check "the temp dir $E2E_TMP is on the real /tmp (seen from the host)" in_host test -d "$E2E_TMP"
split_dir=$(in_host cat "$NOISE_STATE" | cut -d' ' -f2)
e2e_check "the noise mount made before the split ($split_dir) is not in this namespace" \
    test -z "$(awk -v d="$split_dir" '$5 == d' /proc/self/mountinfo)"

# 2. and 3. the same noise, seen from the host and from here
host_snapshot "$E2E_TMP/hostns.before"
e2e_host_snapshot "$E2E_TMP/own.before"
r0=$(rounds)
sleep "$NOISE_SECONDS"
r1=$(rounds)
host_snapshot "$E2E_TMP/hostns.after"
e2e_host_snapshot "$E2E_TMP/own.after"
e2e_check "the noise ran: $((r1 - r0)) rounds of mount, files, umount, rm in ${NOISE_SECONDS} s" test $((r1 - r0)) -ge 5
e2e_check "control: a snapshot in the host's namespace changes under the noise" \
    eval '! cmp -s "$E2E_TMP/hostns.before" "$E2E_TMP/hostns.after"'
e2e_host_check "own namespace: snapshot unchanged under the noise" "$E2E_TMP/own.before" "$E2E_TMP/own.after" || true
stop_noise
e2e_host_check "own namespace: still unchanged once the noise stopped and removed all it made" \
    "$E2E_TMP/own.before" <(e2e_host_snapshot /dev/stdout) || true

# 4. a leak in the own namespace
mkdir /run/osh-leak
mount -t tmpfs -o size=1m osh-leak /run/osh-leak
: >/tmp/osh-leak
e2e_host_snapshot "$E2E_TMP/own.leak"
out=$(e2e_host_check "leak" "$E2E_TMP/own.before" "$E2E_TMP/own.leak") || true
umount /run/osh-leak
rmdir /run/osh-leak
rm -f /tmp/osh-leak
first=$(head -n 1 <<<"$out")
e2e_check "a leaked mount and file turn the check red, naming both lines (got: $first)" \
    eval '[[ $first == "not ok "*"+/run/osh-leak "*tmpfs\ osh-leak* && $first == *"+/tmp/osh-leak f "* ]]'
e2e_check "the failure shows the diff as TAP comments" \
    eval 'grep -q "^#   +/run/osh-leak " <<<"$out"'
e2e_done
