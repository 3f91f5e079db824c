#!/bin/bash
# The whole test suite, as CI runs it (as root, on a fresh Debian 12):
#   sudo ./test.sh
# Installs what is missing (apt-get), builds with -Werror, runs the unit
# tests, make distcheck, and every end-to-end test in tests/e2e against
# real runc, crun, podman and containerd, and the libFuzzer harnesses for
# 60 s each.  OSH_TESTS="unit e2e" picks sections (default: all).
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
sections=${OSH_TESTS:-"unit distcheck e2e fuzz"}
failed=()
declare -A took

run() {
    local name=$1 start rc=0
    shift
    start=$(date +%s)
    echo "=== $name"
    "$@" || rc=$?
    took[$name]=$(($(date +%s) - start))
    if ((rc != 0)); then
        echo "=== $name: FAILED (exit $rc)"
        failed+=("$name")
    else
        echo "=== $name: ok (${took[$name]} s)"
    fi
}

unit() {
    # /dev/shm: the copy-up limit tests make ~60k directories (slow on ext4)
    local tmp=${TMPDIR:-/tmp}
    [[ -w /dev/shm ]] && tmp=/dev/shm
    TMPDIR=$tmp make -j"$(nproc)" check || { cat tests/unit/*.log 2>/dev/null | tail -50; return 1; }
}

fuzz_all() {
    # each libFuzzer harness for OSH_FUZZ_SECONDS (CI: 60 s each)
    fuzz/run.sh "${OSH_FUZZ_SECONDS:-60}"
}

distcheck() {
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="CFLAGS='-O2 -Wall -Wextra -Werror'" >distcheck.log 2>&1 ||
        { tail -40 distcheck.log; return 1; }
    grep -E '^(=+|.*archives ready for distribution)' distcheck.log | tail -3
}

e2e_all() {
    local t rc=0
    [[ $(id -u) == 0 ]] || { echo "e2e tests need root" >&2; return 1; }
    for t in tests/e2e/test-*.sh; do
        run "e2e $(basename "$t" .sh)" env HOOK="$top/oci-systemd-hook" bash "$t" || rc=1
    done
    return $rc
}

scripts/deps.sh
scripts/build.sh
for s in $sections; do
    case $s in
    unit) run unit unit ;;
    distcheck) run distcheck distcheck ;;
    e2e) e2e_all ;;
    fuzz) run fuzz fuzz_all ;;
    *) echo "unknown section $s" >&2; exit 2 ;;
    esac
done
echo
for k in "${!took[@]}"; do printf '%6s s  %s\n' "${took[$k]}" "$k"; done | sort -k3
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "ALL TESTS PASSED"
