#!/bin/sh
# Writes the base runtime spec of containerd's "systemd" runtime handler
# (containerd-config.toml): containerd's default spec, plus a cgroup
# namespace, plus oci-systemd-hook at createRuntime.
#
#   containerd-base-spec.sh [OUT [HOOK]]
#     OUT   default /etc/containerd/oci-systemd-hook-spec.json
#     HOOK  default /usr/libexec/oci/hooks.d/oci-systemd-hook
#
# The cgroup namespace: the CRI plugin of containerd 1.6 adds one only on
# cgroup v2 hosts. Without it systemd sees its full host cgroup path and
# builds its tree below a copy of that path. Needs ctr and jq. containerd
# reads base_runtime_spec only when it starts: restart it afterwards.
set -eu
out=${1:-/etc/containerd/oci-systemd-hook-spec.json}
hook=${2:-/usr/libexec/oci/hooks.d/oci-systemd-hook}
tmp=$out.new
ctr oci spec |
    jq '.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])' >"$tmp"
"$hook" inject --path "$hook" "$tmp"
mv "$tmp" "$out"
