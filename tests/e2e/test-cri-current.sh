#!/bin/bash
# containerd 2.1 (Debian sid's binaries, run on the host: they need only
# libc >= 2.34) with a version 3 config, driven over the real CRI gRPC API
# as kubelet drives it (tests/e2e/cri/cri_client.py, as test-cri.sh):
#   1. `oci-systemd-hook configure containerd` on an empty `version = 3`
#      file: the handler `systemd` under
#      plugins.'io.containerd.cri.v1.runtime' with the hook in its
#      base_runtime_spec and oci-systemd-runtime as BinaryName; containerd
#      2.1's `config dump` of it shows both; that file, with a private root,
#      state, sockets and NRI disabled (mkconfig.py config3), is what the
#      real daemon loads;
#   2. the pod of examples/k8s/pod-systemd.yaml under that handler:
#      running, PID 1 systemd, 0 failed, the hook's tmpfs, machine-id = pod
#      UID, stop with SIGRTMIN+3; the same pod under a plain handler does
#      not boot; a memory emptyDir at /run is prepared and boots;
#   3. containerd's own `cgroup_writable = true` (a runtime option since
#      2.1): on this hybrid host a handler with it disables the whole CRI
#      plugin (checked: the CRI service is not there, the log says
#      "only supported on cgroup v2").
# The shim runs the host's runc (Debian 12's): runc 1.3 from sid needs sid's
# libc (test-current.sh runs it from a sid root instead).
#
#   tests/e2e/test-cri-current.sh               # as root
#   OSH_E2E_KEEP=1, OSH_E2E_CONTAINERD_LOG=debug  # as in test-cri.sh
# shellcheck disable=SC2016,SC2317,SC2034
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=current-lib.sh disable=SC1091
. "$(dirname "$0")/current-lib.sh"

WRITABLE_HANDLER=writable
RUNTIME=$(dirname "$HOOK")/oci-systemd-runtime

e2e_init
"$SRC/scripts/deps.sh" runc gcc libc6-dev jq python3-grpcio python3-grpc-tools python3-yaml
e2e_require_hook
e2e_cgroup_hold
t0=$(_e2e_now)
if ! bin=$(e2e_sid_bin); then
    fail "the sid root with containerd 2.1 builds"
    e2e_done
fi
PATH=$bin:$PATH
export PATH
v=$(containerd --version | awk '{ print $3 }')
e2e_check "containerd $v from the sid root runs on the host ($(_e2e_since "$t0") s)" \
    eval '[[ $v == 2.* ]]'
D=$E2E_TMP/cri
mkdir -p "$D/gen" "$D/cni" "$D/work"
CG=/osh-e2e/$(basename "$E2E_TMP")-pod
handler=$(awk '$1 == "handler:" { print $2 }' "$E2E_EX/k8s/runtimeclass.yaml")

# ---------------------------------------------------------------- configure (v3)

echo 'version = 3' >"$D/configured.toml"
e2e_cri_configure "$RUNTIME" "configure containerd: handler $handler written into a \`version = 3' config"
e2e_check "configure containerd: the handler is under plugins.'io.containerd.cri.v1.runtime'" \
    grep -qF "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$handler]" "$D/configured.toml"
e2e_cri_configure_again "$RUNTIME"
dump=$(containerd --config "$D/configured.toml" config dump 2>&1) || true
# (2.x indents its dump and quotes with ')
section=$(awk -v h="runtimes.$handler" '/^[[:space:]]*\[/ { on = index($0, h "]") || index($0, h ".options]") } on' <<<"$dump" | tr \' '"')
e2e_check "containerd $v \`config dump' of the configured file: handler $handler with BinaryName = the wrapper and the base spec" \
    eval 'grep -qF "BinaryName = \"$RUNTIME\"" <<<"$section" && grep -qF "base_runtime_spec = \"$D/cfg-spec.json\"" <<<"$section"'

if ! "$E2E_PY" "$E2E_CRI_DIR/mkconfig.py" config3 "$D/configured.toml" "$D" "$D/cfg-spec.json" \
    "$E2E_CRI_PAUSE" "$E2E_CRI_PLAIN" >"$D/config.toml"; then
    fail "containerd config (version 3) from the configured file"
    e2e_done
fi
t0=$(_e2e_now)
if ! e2e_containerd_start "$D"; then
    fail "private containerd $v (config version 3, NRI off) starts"
    e2e_done
fi
ok "private containerd $v (config version 3, NRI off) starts ($(_e2e_since "$t0") s)"
x=$(e2e_ctr "$D" plugins ls 2>/dev/null | awk '$1 == "io.containerd.cri.v1" || $1 == "io.containerd.grpc.v1" && $2 == "cri" { print $1 "/" $2 ":" $NF }' | tr '\n' ' ')
e2e_check "the CRI plugins are up ($x)" \
    eval '[[ $x == *"io.containerd.cri.v1/runtime:ok"* && $x == *"io.containerd.grpc.v1/cri:ok"* ]]'
e2e_check "no NRI socket claimed (io.containerd.nri.v1.nri disabled)" \
    eval '! grep -qi "nri.sock" "$D/containerd.log"'

image=$("$E2E_PY" "$E2E_CRI_DIR/cri_client.py" describe "$E2E_EX/k8s/pod-systemd.yaml" "$E2E_EX/k8s/runtimeclass.yaml" | jq -r .image)
e2e_cri_images "$E2E_CRI_PAUSE" "$image" "images imported with ctr $v: $E2E_CRI_PAUSE, $image"

# ---------------------------------------------------------------- the pod

e2e_cri_pods "cri $v" "pod with the configured handler $handler" "$E2E_CRI_PLAIN"
e2e_cri_stop

# ---------------------------------------------------------------- cgroup_writable

if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
    "$E2E_PY" "$E2E_CRI_DIR/mkconfig.py" config3 "$D/configured.toml" "$D" "$D/cfg-spec.json" \
        "$E2E_CRI_PAUSE" "$E2E_CRI_PLAIN" "$WRITABLE_HANDLER" >"$D/config.toml"
    if e2e_containerd_start "$D"; then
        x=$(e2e_ctr "$D" plugins ls 2>/dev/null | awk '$1 == "io.containerd.cri.v1" || $1 == "io.containerd.grpc.v1" && $2 == "cri" { print $1 "/" $2 ":" $NF }' | tr '\n' ' ')
        e2e_check "hybrid host: a handler with cgroup_writable = true takes the CRI plugins down ($x)" \
            eval '[[ $x != *"io.containerd.grpc.v1/cri:ok"* ]]'
        e2e_check "hybrid host: containerd says \`cgroup_writable' is only supported on cgroup v2" \
            grep -q 'cgroup_writable.*only supported on cgroup v2' "$D/containerd.log"
        e2e_containerd_stop "$D"
    else
        fail "containerd $v starts with a cgroup_writable handler on the hybrid host"
    fi
else
    e2e_log "cgroup v2 host: the hybrid-host check of cgroup_writable does not apply"
fi

e2e_rm_cgroup "$CG" 2>/dev/null || true
e2e_check "no cgroups or runtime state left" e2e_no_leftovers
e2e_done
