#!/bin/bash
# containerd's CRI plugin, driven over the real CRI gRPC API as kubelet
# drives it, with the examples as configuration:
#   examples/containerd-config.toml   the runtime handler "systemd" (merged
#                                     into a private containerd config)
#   examples/containerd-base-spec.sh  its base_runtime_spec (ctr oci spec +
#                                     cgroup namespace + inject)
#   examples/k8s/runtimeclass.yaml    runtimeClassName -> handler
#   examples/k8s/pod-systemd.yaml     the pod and its container
# tests/e2e/cri/cri_client.py (python3-grpcio, stubs compiled at test time
# from the hand-written subset tests/e2e/cri/runtime_v1_min.proto) runs
# RunPodSandbox (host network, pid namespace per container, cgroup parent
# below /osh-e2e), CreateContainer, StartContainer, then checks: running,
# PID 1 systemd, 0 failed units, the hook's tmpfs and
# /run/host/container-manager, machine-id = pod UID, a token-like mount
# under /var/run stays live; StopContainer with the image's StopSignal
# (SIGRTMIN+3, = the pod's lifecycle.stopSignal) in < 5 s, exit 0; then
# RemoveContainer, StopPodSandbox, RemovePodSandbox. The same pod under a
# handler without the hook does not boot. Then the same pod through the
# handler of \`oci-systemd-hook configure containerd' (oci-systemd-runtime
# as BinaryName), after \`containerd config dump' showed it.
# Images: a one-layer OCI archive of the cached bookworm rootfs, named as
# in the pod YAML; the sandbox image is a static pause(2) program built
# here (tests/e2e/cri/pause.c).
#
#   tests/e2e/test-cri.sh                       # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_E2E_KEEP=1 ...                          # keep config, specs, logs
#   OSH_E2E_CONTAINERD_LOG=debug ...            # containerd's log level

# Checks pass code as strings to eval (single quotes on purpose), and some
# functions are only called from such strings.
# shellcheck disable=SC2016,SC2317,SC2034
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

e2e_init
"$SRC/scripts/deps.sh" containerd runc gcc libc6-dev jq python3-grpcio python3-grpc-tools python3-yaml
e2e_require_hook
e2e_cgroup_hold
D=$E2E_TMP/cri
mkdir -p "$D/gen" "$D/cni" "$D/work"
CG=/osh-e2e/$(basename "$E2E_TMP")-pod

# ---------------------------------------------------------------- examples

plan=$("$E2E_PY" "$E2E_CRI_DIR/cri_client.py" describe "$E2E_EX/k8s/pod-systemd.yaml" "$E2E_EX/k8s/runtimeclass.yaml") || {
    fail "examples/k8s: pod-systemd.yaml and runtimeclass.yaml parse"
    e2e_done
}
ok "examples/k8s: pod-systemd.yaml and runtimeclass.yaml parse"
for y in "$E2E_EX"/k8s/*.yaml; do
    # no API server here: kubectl decodes the objects (kind, apiVersion,
    # metadata) but cannot check them against the schema
    e2e_check "examples/k8s/$(basename "$y") decodes with kubectl (--local)" \
        eval 'kubectl label --local -f "$y" osh-check=1 -o name >/dev/null 2>&1'
done
handler=$(jq -r .handler <<<"$plan")
image=$(jq -r .image <<<"$plan")
handlers=$("$E2E_PY" "$E2E_CRI_DIR/mkconfig.py" handlers "$E2E_EX/containerd-config.toml") || handlers=
spec_path=$(awk -v h="$handler" '$1 == h { print $2 }' <<<"$handlers")
e2e_check "examples: the RuntimeClass handler \`$handler' is a runtime of containerd-config.toml with a base_runtime_spec ($spec_path)" \
    eval '[[ -n $spec_path && $spec_path != - ]]'
e2e_check "examples: containerd-base-spec.sh writes $spec_path by default" \
    grep -qF "out=\${1:-$spec_path}" "$E2E_EX/containerd-base-spec.sh"
installed=$(jq -r .hook.path "$SRC/hooks.d/systemd.json")
e2e_check "examples: containerd-base-spec.sh injects the installed hook $installed by default" \
    grep -qF "hook=\${2:-$installed}" "$E2E_EX/containerd-base-spec.sh"
e2e_check "examples: the pod sets lifecycle.stopSignal SIGRTMIN+3" \
    test "$(jq -r .stopSignal <<<"$plan")" = SIGRTMIN+3

if "$E2E_EX/containerd-base-spec.sh" "$D/base-spec.json" "$HOOK" 2>"$D/base-spec.log" &&
    [[ $(jq -r --arg h "$HOOK" '[.hooks.createRuntime[]? | select(.path == $h)] | length' "$D/base-spec.json") == 1 &&
        $(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' "$D/base-spec.json") == 1 ]]; then
    ok "examples/containerd-base-spec.sh: base spec with the hook at createRuntime and a cgroup namespace"
else
    fail "examples/containerd-base-spec.sh: base spec with the hook at createRuntime and a cgroup namespace"
    sed 's/^/#   /' "$D/base-spec.log" >&2
fi

# ---------------------------------------------------------------- containerd

if "$E2E_PY" "$E2E_CRI_DIR/mkconfig.py" config "$E2E_EX/containerd-config.toml" "$D" "$D/base-spec.json" \
    "$E2E_CRI_PAUSE" "$E2E_CRI_PLAIN" >"$D/config.toml"; then
    ok "containerd config: examples/containerd-config.toml + private root, state, sockets, runc root"
else
    fail "containerd config from examples/containerd-config.toml"
    e2e_done
fi
t0=$(_e2e_now)
if ! e2e_containerd_start "$D"; then
    fail "private containerd with the CRI plugin starts"
    e2e_done
fi
ok "private containerd with the CRI plugin starts ($(_e2e_since "$t0") s)"

e2e_cri_images "$E2E_CRI_PAUSE" "$image" "images imported: $E2E_CRI_PAUSE (static pause, gcc -static), $image"

# ---------------------------------------------------------------- the pod

# the pod boots, not under the plain handler; an emptyDir (medium: Memory)
# at /run, as kubelet mounts it: prepared inside, boots
e2e_cri_pods cri "pod with handler $handler" "$E2E_CRI_PLAIN"

# ---------------------------------------------------------------- configure containerd + the wrapper

# The same pod through the handler `oci-systemd-hook configure containerd`
# writes into an empty config: base_runtime_spec (ctr oci spec + cgroup
# namespace + the hook) and oci-systemd-runtime as the runc BinaryName.
RUNTIME=$(dirname "$HOOK")/oci-systemd-runtime
: >"$D/configured.toml"
e2e_cri_configure "$RUNTIME" "configure containerd: handler $handler written into an empty config"
e2e_cri_configure_again "$RUNTIME"
dump=$(containerd --config "$D/configured.toml" config dump 2>&1) || true
e2e_check "containerd 1.6 \`config dump' of the configured file shows handler $handler with BinaryName = the wrapper" \
    eval 'grep -A 30 -F "runtimes.$handler]" <<<"$dump" | grep -qF "BinaryName = \"$RUNTIME\""'
e2e_containerd_stop "$D"
if "$E2E_PY" "$E2E_CRI_DIR/mkconfig.py" config "$D/configured.toml" "$D" "$D/cfg-spec.json" \
    "$E2E_CRI_PAUSE" "$E2E_CRI_PLAIN" >"$D/config.toml" && e2e_containerd_start "$D"; then
    e2e_cri_pod cri "pod with the configured handler (wrapper as BinaryName)" boot
else
    fail "containerd restarts with the configured handler"
fi

# ---------------------------------------------------------------- cleanup

e2e_cri_stop
e2e_rm_cgroup "$CG" 2>/dev/null || true
e2e_check "no cgroups or runtime state left" e2e_no_leftovers
e2e_done
