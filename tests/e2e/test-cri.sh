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
CRI_DIR=$SRC/tests/e2e/cri
EX=$SRC/examples
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

PAUSE_IMAGE=localhost/osh-pause:1
PLAIN_HANDLER=runc
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

e2e_init
"$SRC/scripts/deps.sh" containerd runc gcc libc6-dev jq python3-grpcio python3-grpc-tools python3-yaml
e2e_require_hook
e2e_cgroup_hold
D=$E2E_TMP/cri
mkdir -p "$D/gen" "$D/cni" "$D/work"
CG=/osh-e2e/$(basename "$E2E_TMP")-pod

# ---------------------------------------------------------------- examples

plan=$("$E2E_PY" "$CRI_DIR/cri_client.py" describe "$EX/k8s/pod-systemd.yaml" "$EX/k8s/runtimeclass.yaml") || {
    fail "examples/k8s: pod-systemd.yaml and runtimeclass.yaml parse"
    e2e_done
}
ok "examples/k8s: pod-systemd.yaml and runtimeclass.yaml parse"
for y in "$EX"/k8s/*.yaml; do
    # no API server here: kubectl decodes the objects (kind, apiVersion,
    # metadata) but cannot check them against the schema
    e2e_check "examples/k8s/$(basename "$y") decodes with kubectl (--local)" \
        eval 'kubectl label --local -f "$y" osh-check=1 -o name >/dev/null 2>&1'
done
handler=$(jq -r .handler <<<"$plan")
image=$(jq -r .image <<<"$plan")
handlers=$("$E2E_PY" "$CRI_DIR/mkconfig.py" handlers "$EX/containerd-config.toml") || handlers=
spec_path=$(awk -v h="$handler" '$1 == h { print $2 }' <<<"$handlers")
e2e_check "examples: the RuntimeClass handler \`$handler' is a runtime of containerd-config.toml with a base_runtime_spec ($spec_path)" \
    eval '[[ -n $spec_path && $spec_path != - ]]'
e2e_check "examples: containerd-base-spec.sh writes $spec_path by default" \
    grep -qF "out=\${1:-$spec_path}" "$EX/containerd-base-spec.sh"
installed=$(jq -r .hook.path "$SRC/hooks.d/systemd.json")
e2e_check "examples: containerd-base-spec.sh injects the installed hook $installed by default" \
    grep -qF "hook=\${2:-$installed}" "$EX/containerd-base-spec.sh"
e2e_check "examples: the pod sets lifecycle.stopSignal SIGRTMIN+3" \
    test "$(jq -r .stopSignal <<<"$plan")" = SIGRTMIN+3

if "$EX/containerd-base-spec.sh" "$D/base-spec.json" "$HOOK" 2>"$D/base-spec.log" &&
    [[ $(jq -r --arg h "$HOOK" '[.hooks.createRuntime[]? | select(.path == $h)] | length' "$D/base-spec.json") == 1 &&
        $(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' "$D/base-spec.json") == 1 ]]; then
    ok "examples/containerd-base-spec.sh: base spec with the hook at createRuntime and a cgroup namespace"
else
    fail "examples/containerd-base-spec.sh: base spec with the hook at createRuntime and a cgroup namespace"
    sed 's/^/#   /' "$D/base-spec.log" >&2
fi

# ---------------------------------------------------------------- containerd

if "$E2E_PY" "$CRI_DIR/mkconfig.py" config "$EX/containerd-config.toml" "$D" "$D/base-spec.json" \
    "$PAUSE_IMAGE" "$PLAIN_HANDLER" >"$D/config.toml"; then
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
ctrk() { e2e_ctr "$D" -n k8s.io "$@"; }

e2e_check "CRI stubs compiled from tests/e2e/cri/runtime_v1_min.proto" \
    "$E2E_PY" -m grpc_tools.protoc -I "$CRI_DIR" --python_out="$D/gen" --grpc_python_out="$D/gen" \
    runtime_v1_min.proto

t0=$(_e2e_now)
mkdir -p "$D/pause-root"
if gcc -static -O2 -Wall -Wextra -Werror -o "$D/pause-root/pause" "$CRI_DIR/pause.c" &&
    e2e_oci_archive "$D/pause-root" "$D/pause.tar" "$PAUSE_IMAGE" '{"Entrypoint": ["/pause"]}' &&
    ctrk images import "$D/pause.tar" >/dev/null &&
    e2e_oci_archive "$(e2e_image bookworm)" "$D/image.tar" "$image" \
        '{"Cmd": ["/sbin/init"], "StopSignal": "SIGRTMIN+3", "Env": ["'"$PATH_ENV"'"]}' &&
    ctrk images import "$D/image.tar" >/dev/null; then
    ok "images imported: $PAUSE_IMAGE (static pause, gcc -static), $image ($(_e2e_since "$t0") s)"
else
    fail "images imported: $PAUSE_IMAGE, $image"
    e2e_done
fi
rm -f "$D/pause.tar" "$D/image.tar"

# ---------------------------------------------------------------- the pod

# cri_run EXPECT [HANDLER [CLIENT-ARGS...]]: runs the client; its "ok"/"not ok" lines become
# checks of this script, its "#" lines notes; a client that breaks is a
# failed check.
cri_run() {
    local expect=$1 h=${2:-} line rc=''
    shift $(($# > 1 ? 2 : 1))
    local args=(run --socket "$D/containerd.sock" --gen "$D/gen" --pod "$EX/k8s/pod-systemd.yaml"
        --runtimeclass "$EX/k8s/runtimeclass.yaml" --expect "$expect" --hook "$HOOK"
        --cgroup-parent "$CG" --workdir "$D/work")
    [[ -n $h ]] && args+=(--handler "$h")
    args+=("$@")
    while IFS= read -r line; do
        case $line in
        "ok"$'\t'*) ok "cri: ${line#*$'\t'}" ;;
        "not ok"$'\t'*) fail "cri: ${line#*$'\t'}" ;;
        "__rc "*) rc=${line#__rc } ;;
        *) printf '%s\n' "$line" >&2 ;;
        esac
    done < <(
        set +e # errexit is inherited here: the status line must come anyway
        timeout 300 "$E2E_PY" "$CRI_DIR/cri_client.py" "${args[@]}" 2>"$D/client-$expect.err"
        echo "__rc $?"
    )
    if [[ $rc != 0 ]]; then
        fail "cri: the client ($expect) exited ${rc:-?}"
        tail -n 20 "$D/client-$expect.err" | sed 's/^/#   /' >&2
    fi
}

t0=$(_e2e_now)
cri_run boot
e2e_log "pod with handler $handler: $(_e2e_since "$t0") s"
t0=$(_e2e_now)
cri_run noboot "$PLAIN_HANDLER"
e2e_log "pod with handler $PLAIN_HANDLER: $(_e2e_since "$t0") s"
# an emptyDir (medium: Memory) at /run, as kubelet mounts it: prepared
# inside, boots
t0=$(_e2e_now)
cri_run boot "" --emptydir-run
e2e_log "pod with an emptyDir at /run: $(_e2e_since "$t0") s"

# ---------------------------------------------------------------- configure containerd + the wrapper

# The same pod through the handler `oci-systemd-hook configure containerd`
# writes into an empty config: base_runtime_spec (ctr oci spec + cgroup
# namespace + the hook) and oci-systemd-runtime as the runc BinaryName.
RUNTIME=$(dirname "$HOOK")/oci-systemd-runtime
: >"$D/configured.toml"
configure_ctrd() {
    "$HOOK" configure --config "$D/configured.toml" --base-spec "$D/cfg-spec.json" \
        --runtime-path "$RUNTIME" --hook-path "$HOOK" containerd
}
if configure_ctrd >"$D/configure.out" 2>&1; then
    ok "configure containerd: handler $handler written into an empty config"
else
    fail "configure containerd: handler $handler written into an empty config"
    sed 's/^/#   /' "$D/configure.out" >&2
fi
sums=$(sha256sum "$D/configured.toml" "$D/cfg-spec.json")
configure_ctrd >/dev/null 2>&1 || true
e2e_check "configure containerd: a second run changes no byte" \
    eval '[[ $(sha256sum "$D/configured.toml" "$D/cfg-spec.json") == "$sums" ]]'
dump=$(containerd --config "$D/configured.toml" config dump 2>&1) || true
e2e_check "containerd 1.6 \`config dump' of the configured file shows handler $handler with BinaryName = the wrapper" \
    eval 'grep -A 30 -F "runtimes.$handler]" <<<"$dump" | grep -qF "BinaryName = \"$RUNTIME\""'
e2e_containerd_stop "$D"
if "$E2E_PY" "$CRI_DIR/mkconfig.py" config "$D/configured.toml" "$D" "$D/cfg-spec.json" \
    "$PAUSE_IMAGE" "$PLAIN_HANDLER" >"$D/config.toml" && e2e_containerd_start "$D"; then
    t0=$(_e2e_now)
    cri_run boot
    e2e_log "pod with the configured handler (wrapper as BinaryName): $(_e2e_since "$t0") s"
else
    fail "containerd restarts with the configured handler"
fi

# ---------------------------------------------------------------- cleanup

left=$(ctrk containers ls -q 2>/dev/null; ctrk tasks ls -q 2>/dev/null) || true
e2e_check "no containers or tasks left in containerd (${left:-none})" test -z "$left"
e2e_containerd_stop "$D"
e2e_rm_cgroup "$CG" 2>/dev/null || true
e2e_check "no cgroups or runtime state left" e2e_no_leftovers
e2e_done
