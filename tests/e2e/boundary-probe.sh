#!/bin/sh
# boundary-probe.sh OUT: a createRuntime hook test-boundary.sh registers
# right after oci-systemd-hook. Runtimes run the hooks of a stage in order
# and stop at the first failure, so OUT.cmi existing means the hook exited
# 0. It records the mount table of the container's mount namespace (host
# paths: pivot_root has not happened yet) in OUT.cmi and the host's at the
# same moment in OUT.hmi, then runs OUT.sh (if the case wrote one) with sh,
# PID set to the container's pid, output in OUT.out. It runs before the
# container's own processes do anything, so what OUT.sh sees is what the
# hook left.
set -eu
out=$1
pid=$(jq -r .pid)
[ -n "$pid" ] && [ "$pid" != null ]
cat "/proc/$pid/mountinfo" >"$out.cmi.tmp"
cat /proc/self/mountinfo >"$out.hmi"
if [ -f "$out.sh" ]; then
    PID=$pid OUT=$out sh "$out.sh" >"$out.out" 2>&1 || echo "probe script failed: $?" >>"$out.out"
fi
mv "$out.cmi.tmp" "$out.cmi"
