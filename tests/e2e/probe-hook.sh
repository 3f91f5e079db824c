#!/bin/sh
# A diagnostic OCI hook: records what a hook sees at its stage, into
# <bundle>/probe-<stage>.txt. Register it as
#   {"path": "/abs/tests/e2e/probe-hook.sh", "args": ["probe-hook", "STAGE"]}
# (e2e_bundle ... probe=STAGE does that). It changes nothing.
set -eu
stage=${1:-unknown}
state=$(cat)
pid=$(printf '%s' "$state" | jq -r .pid)
bundle=$(printf '%s' "$state" | jq -r .bundle)
{
    echo "## state"
    printf '%s\n' "$state"
    echo "## hook: id, cgroup, mount namespace"
    id
    cat /proc/self/cgroup
    readlink /proc/self/ns/mnt /proc/self/ns/cgroup
    echo "## container pid $pid: cgroup, namespaces"
    cat "/proc/$pid/cgroup"
    readlink "/proc/$pid/ns/mnt" "/proc/$pid/ns/cgroup"
    echo "## container mount namespace: /proc/self/mountinfo"
    nsenter -t "$pid" -m cat /proc/self/mountinfo
} >"$bundle/probe-$stage.txt" 2>&1
