#!/bin/sh
# hostile-probe.sh OUT [DIR...]: a createRuntime hook the hostile tests
# register right after oci-systemd-hook. runc runs the hooks of a stage in
# order and stops at the first failure, so OUT.cmi existing means the hook
# exited 0. It records the mount table of the container's mount namespace
# (its paths are host paths: pivot_root has not happened yet) in OUT.cmi,
# the host's at the same moment in OUT.hmi, and what each DIR (a host path,
# usually below the rootfs) holds in the container's namespace, one entry a
# line "path type mode owner link-target", in OUT.ls. It changes nothing.
set -eu
out=$1
shift
pid=$(grep -o '"pid":[0-9]*' | head -n 1 | cut -d: -f2)
[ -n "$pid" ]
cat "/proc/$pid/mountinfo" >"$out.cmi.tmp"
cat /proc/self/mountinfo >"$out.hmi"
if [ $# -gt 0 ]; then
    nsenter -t "$pid" -m -- find "$@" -mindepth 1 -maxdepth 2 \
        -printf '%p %y %m %U:%G %l\n' >"$out.ls" 2>&1 || true
fi
mv "$out.cmi.tmp" "$out.cmi"
