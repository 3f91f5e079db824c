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
CRI_DIR=$SRC/tests/e2e/cri
EX=$SRC/examples
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=current-lib.sh disable=SC1091
. "$(dirname "$0")/current-lib.sh"

PAUSE_IMAGE=localhost/osh-pause:1
PLAIN_HANDLER=runc
WRITABLE_HANDLER=writable
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
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
handler=$(awk '$1 == "handler:" { print $2 }' "$EX/k8s/runtimeclass.yaml")

# ---------------------------------------------------------------- configure (v3)

echo 'version = 3' >"$D/configured.toml"
configure_ctrd() {
    "$HOOK" configure --config "$D/configured.toml" --base-spec "$D/cfg-spec.json" \
        --runtime-path "$RUNTIME" --hook-path "$HOOK" containerd
}
if configure_ctrd >"$D/configure.out" 2>&1; then
    ok "configure containerd: handler $handler written into a \`version = 3' config"
else
    fail "configure containerd: handler $handler written into a \`version = 3' config"
    sed 's/^/#   /' "$D/configure.out" >&2
fi
e2e_check "configure containerd: the handler is under plugins.'io.containerd.cri.v1.runtime'" \
    grep -qF "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.$handler]" "$D/configured.toml"
sums=$(sha256sum "$D/configured.toml" "$D/cfg-spec.json")
configure_ctrd >/dev/null 2>&1 || true
e2e_check "configure containerd: a second run changes no byte" \
    eval '[[ $(sha256sum "$D/configured.toml" "$D/cfg-spec.json") == "$sums" ]]'
dump=$(containerd --config "$D/configured.toml" config dump 2>&1) || true
# (2.x indents its dump and quotes with ')
section=$(awk -v h="runtimes.$handler" '/^[[:space:]]*\[/ { on = index($0, h "]") || index($0, h ".options]") } on' <<<"$dump" | tr \' '"')
e2e_check "containerd $v \`config dump' of the configured file: handler $handler with BinaryName = the wrapper and the base spec" \
    eval 'grep -qF "BinaryName = \"$RUNTIME\"" <<<"$section" && grep -qF "base_runtime_spec = \"$D/cfg-spec.json\"" <<<"$section"'

if ! "$E2E_PY" "$CRI_DIR/mkconfig.py" config3 "$D/configured.toml" "$D" "$D/cfg-spec.json" \
    "$PAUSE_IMAGE" "$PLAIN_HANDLER" >"$D/config.toml"; then
    fail "containerd config (version 3) from the configured file"
    e2e_done
fi
t0=$(_e2e_now)
if ! e2e_containerd_start "$D"; then
    fail "private containerd $v (config version 3, NRI off) starts"
    e2e_done
fi
ok "private containerd $v (config version 3, NRI off) starts ($(_e2e_since "$t0") s)"
ctrk() { e2e_ctr "$D" -n k8s.io "$@"; }
x=$(e2e_ctr "$D" plugins ls 2>/dev/null | awk '$1 == "io.containerd.cri.v1" || $1 == "io.containerd.grpc.v1" && $2 == "cri" { print $1 "/" $2 ":" $NF }' | tr '\n' ' ')
e2e_check "the CRI plugins are up ($x)" \
    eval '[[ $x == *"io.containerd.cri.v1/runtime:ok"* && $x == *"io.containerd.grpc.v1/cri:ok"* ]]'
e2e_check "no NRI socket claimed (io.containerd.nri.v1.nri disabled)" \
    eval '! grep -qi "nri.sock" "$D/containerd.log"'

e2e_check "CRI stubs compiled from tests/e2e/cri/runtime_v1_min.proto" \
    "$E2E_PY" -m grpc_tools.protoc -I "$CRI_DIR" --python_out="$D/gen" --grpc_python_out="$D/gen" \
    runtime_v1_min.proto
image=$("$E2E_PY" "$CRI_DIR/cri_client.py" describe "$EX/k8s/pod-systemd.yaml" "$EX/k8s/runtimeclass.yaml" | jq -r .image)
t0=$(_e2e_now)
mkdir -p "$D/pause-root"
if gcc -static -O2 -Wall -Wextra -Werror -o "$D/pause-root/pause" "$CRI_DIR/pause.c" &&
    e2e_oci_archive "$D/pause-root" "$D/pause.tar" "$PAUSE_IMAGE" '{"Entrypoint": ["/pause"]}' &&
    ctrk images import "$D/pause.tar" >/dev/null &&
    e2e_oci_archive "$(e2e_image bookworm)" "$D/image.tar" "$image" \
        '{"Cmd": ["/sbin/init"], "StopSignal": "SIGRTMIN+3", "Env": ["'"$PATH_ENV"'"]}' &&
    ctrk images import "$D/image.tar" >/dev/null; then
    ok "images imported with ctr $v: $PAUSE_IMAGE, $image ($(_e2e_since "$t0") s)"
else
    fail "images imported: $PAUSE_IMAGE, $image"
    e2e_done
fi
rm -f "$D/pause.tar" "$D/image.tar"

# ---------------------------------------------------------------- the pod

# cri_run EXPECT [HANDLER [CLIENT-ARGS...]]: as in test-cri.sh.
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
        "ok"$'\t'*) ok "cri $v: ${line#*$'\t'}" ;;
        "not ok"$'\t'*) fail "cri $v: ${line#*$'\t'}" ;;
        "__rc "*) rc=${line#__rc } ;;
        *) printf '%s\n' "$line" >&2 ;;
        esac
    done < <(
        set +e
        timeout 300 "$E2E_PY" "$CRI_DIR/cri_client.py" "${args[@]}" 2>"$D/client-$expect.err"
        echo "__rc $?"
    )
    if [[ $rc != 0 ]]; then
        fail "cri $v: the client ($expect) exited ${rc:-?}"
        tail -n 20 "$D/client-$expect.err" | sed 's/^/#   /' >&2
    fi
}

t0=$(_e2e_now)
cri_run boot
e2e_log "pod with the configured handler $handler: $(_e2e_since "$t0") s"
t0=$(_e2e_now)
cri_run noboot "$PLAIN_HANDLER"
e2e_log "pod with handler $PLAIN_HANDLER: $(_e2e_since "$t0") s"
t0=$(_e2e_now)
cri_run boot "" --emptydir-run
e2e_log "pod with an emptyDir at /run: $(_e2e_since "$t0") s"
left=$(ctrk containers ls -q 2>/dev/null; ctrk tasks ls -q 2>/dev/null) || true
e2e_check "no containers or tasks left in containerd (${left:-none})" test -z "$left"
e2e_containerd_stop "$D"

# ---------------------------------------------------------------- cgroup_writable

if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
    "$E2E_PY" "$CRI_DIR/mkconfig.py" config3 "$D/configured.toml" "$D" "$D/cfg-spec.json" \
        "$PAUSE_IMAGE" "$PLAIN_HANDLER" "$WRITABLE_HANDLER" >"$D/config.toml"
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
