#!/bin/bash
# podman 4.3 runs the hook from hooks.d files (containers-oci-hooks(5)).
#
# The cached Debian 12 rootfs is imported as a podman image by the import
# block of examples/podman.md (`podman import --change 'CMD ["/sbin/init"]'
# --change 'STOPSIGNAL SIGRTMIN+3'`), in a private storage/run root; podman
# runs runc with a private --root, cgroups below /osh-e2e, no network, and
# lower ulimits (root here lacks CAP_SYS_RESOURCE). Unless said otherwise,
# containers run with --systemd=false, so podman prepares nothing for systemd.
#   a) --hooks-dir DIR (the repo's hooks.d files, path rewritten to $HOOK):
#      running, 0 failed units, the hook's four tmpfs and
#      /run/host/container-manager, machine-id = container_uuid (normalised),
#      `podman stop` < 5 s with the image's StopSignal; without
#      container_uuid the machine-id is the container id's first 32 hex
#      digits and `--stop-signal=SIGRTMIN+3` stops an image whose StopSignal
#      is SIGTERM in < 5 s (without it, `podman stop -t 2` needs the 2 s:
#      systemd ignores SIGTERM); a volume mounted under /run stays the
#      volume (writes reach the host).
#   b) the hook in podman's default hooks directory
#      (/usr/share/containers/oci/hooks.d), no --hooks-dir, the run block of
#      examples/podman.md (--cgroupns=private): the same boot checks,
#      systemd's init.scope at the root of the container's cgroup, podman
#      stop < 5 s. The system-wide directory is never written: the test
#      runs in a mount namespace of its own (lib.sh: e2e_own_host), where
#      an overlay on the directory (or its nearest existing parent) holds
#      the hooks.d file, so podman finds it where `make install` puts it
#      and other podman users on the host never see it.
#   c) systemd-annotation.json alone: `--annotation oci-systemd-hook=enabled
#      IMAGE /bin/sh -c 'exec /sbin/init'` boots; without the annotation it
#      does not.
#   d) /bin/true with both files registered exits 0; a `cat` container gets
#      no tmpfs on /run, neither when the `when` conditions skip the hook nor
#      when an always-run hooks.d file makes the hook run (and decide no).
#   e) podman's defaults on this hybrid host: no cgroup namespace, with
#      --systemd=false and with --systemd=true (podman's own systemd mode
#      and the hook together): running, 0 failed units.  Without a cgroup
#      namespace systemd sees its host path and builds its tree below a
#      copy of it, inside the container's own cgroup (documented in the
#      man page: use --cgroupns=private, as b) does, for a tree at the
#      root); the check is that the tree stays inside the container's own
#      cgroup, which is all the container can see.
#
#   tests/e2e/test-podman.sh                    # as root
#   HOOK=/abs/oci-systemd-hook tests/e2e/...    # another build
#   OSH_E2E_KEEP=1 ...                          # keep storage and logs

# Checks pass code as strings to eval (single quotes on purpose), and some
# functions are only called from such strings.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

IMAGE=localhost/debian-systemd:bookworm # as in examples/podman.md
IMAGE_TERM=localhost/debian-systemd:sigterm
DOC=$SRC/examples/podman.md
DEFAULT_HOOKS_DIR=/usr/share/containers/oci/hooks.d

e2e_own_host "$@"
e2e_init
"$SRC/scripts/deps.sh" podman runc conmon
e2e_require_hook
UID8=$(e2e_uid)
e2e_cgroup_hold
PD=$E2E_TMP/podman
mkdir -p "$PD"
CG=/osh-e2e/$(basename "$E2E_TMP")-podman

pm() {
    podman --root "$PD/root" --runroot "$PD/run" --tmpdir "$PD/tmp" \
        --storage-driver overlay --runtime runc --runtime-flag "root=$PD/runc" \
        --cgroup-manager cgroupfs --events-backend file "$@"
}
# podman's default nofile/nproc limits (1048576) are above what this machine
# lets a container set: runc fails with "error setting rlimit type 7"
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
RUN=(run -d --systemd=false --network none --cgroup-parent "$CG" "${LIMITS[@]}")

# a subshell without errexit: it runs from the EXIT trap and in the body
podman_cleanup() (
    set +e
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    _e2e_umount_under "$PD"
    e2e_rm_cgroup "$CG" 2>/dev/null
    return 0
)
e2e_at_exit podman_cleanup

# hooks.d files of the repo with the path rewritten to $HOOK
hooks_json() { jq --arg p "$HOOK" '.hook.path = $p' "$SRC/hooks.d/$1"; }
mkdir -p "$E2E_TMP/hooks" "$E2E_TMP/hooks-ann" "$E2E_TMP/hooks-always"
hooks_json systemd.json >"$E2E_TMP/hooks/systemd.json"
hooks_json systemd-annotation.json >"$E2E_TMP/hooks/systemd-annotation.json"
hooks_json systemd-annotation.json >"$E2E_TMP/hooks-ann/systemd-annotation.json"
# an always-run hook, through a wrapper that records each call
cat >"$E2E_TMP/hook-wrapper" <<EOF
#!/bin/sh
echo "\$*" >>"$E2E_TMP/hook-calls"
exec "$HOOK" "\$@"
EOF
chmod +x "$E2E_TMP/hook-wrapper"
jq --arg p "$E2E_TMP/hook-wrapper" '.hook.path = $p | .when = {always: true}' \
    "$SRC/hooks.d/systemd.json" >"$E2E_TMP/hooks-always/always.json"

# ---------------------------------------------------------------- image

# doc_block MARKER: the code block after `<!-- test-podman.sh: MARKER -->`
# in examples/podman.md, its `podman` commands turned into `pm`.
doc_block() {
    awk -v m="<!-- test-podman.sh: $1 -->" '
        $0 == m { found = 1; next }
        found && /^```/ { if (inblock) exit; inblock = 1; next }
        inblock { print }' "$DOC" | sed -E 's/(^|[|] *)podman /\1pm /'
}

t0=$(_e2e_now)
rootfs=$(e2e_image bookworm)
import_cmd=$(doc_block import | sed "s|ROOTFS|$rootfs|")
if [[ $import_cmd == *"pm import"*"$IMAGE"* ]] && eval "$import_cmd" >"$E2E_TMP/import.log" 2>&1; then
    ok "podman import of the bookworm rootfs, as in examples/podman.md ($(_e2e_since "$t0") s)"
else
    fail "podman import of the bookworm rootfs, as in examples/podman.md: $import_cmd"
    sed 's/^/#   /' "$E2E_TMP/import.log" >&2
    e2e_done
fi
got=$(pm image inspect --format '{{json .Config.Cmd}} {{.Config.StopSignal}}' "$IMAGE")
# podman stores the signal as a number: SIGRTMIN+3 = 37
e2e_check "image config: CMD /sbin/init, StopSignal SIGRTMIN+3 (got $got)" \
    test "$got" = '["/sbin/init"] 37'
mkdir -p "$E2E_TMP/build"
printf 'FROM %s\nSTOPSIGNAL SIGTERM\n' "$IMAGE" >"$E2E_TMP/build/Containerfile"
e2e_check "derived image with StopSignal SIGTERM (podman build)" \
    eval 'pm build -q --pull=never -t "$IMAGE_TERM" "$E2E_TMP/build" >/dev/null'

# ---------------------------------------------------------------- helpers

alive() { [[ $(pm inspect --format '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }
pexec() {
    local name=$1
    shift
    timeout 10 podman --root "$PD/root" --runroot "$PD/run" --tmpdir "$PD/tmp" \
        --storage-driver overlay --runtime runc --runtime-flag "root=$PD/runc" \
        --cgroup-manager cgroupfs --events-backend file exec "$name" "$@" </dev/null
}

# boot LABEL NAME [MACHINE-ID]: wait for running, 0 failed units, the
# hook's mounts; MACHINE-ID defaults to the container id's first 32 digits.
# Sets $st.
boot() {
    local label=$1 name=$2 want=${3:-} t0 n got
    t0=$(_e2e_now)
    st=$(e2e_wait_systemd 60 "alive $name" "pexec $name") || true
    e2e_check "$label: reaches running in $(_e2e_since "$t0") s (got $st)" test "$st" = running
    [[ $st == gone ]] && return 0
    n=$(e2e_failed_units_in "pexec $name") || n='?'
    e2e_check "$label: 0 failed units (got $n)" test "$n" = 0
    got=$(pexec "$name" cat /proc/1/mountinfo | e2e_hook_tmpfs) || got=
    e2e_check "$label: tmpfs on the hook's four targets (got: $got)" \
        test "$got" = "/run /run/lock /tmp /var/log/journal"
    got=$(pexec "$name" cat /run/host/container-manager) || got=
    e2e_check "$label: /run/host/container-manager says oci-systemd-hook (got $got)" \
        test "$got" = oci-systemd-hook
    [[ -n $want ]] || want=$(pm inspect --format '{{.Id}}' "$name" | cut -c1-32)
    got=$(pexec "$name" cat /etc/machine-id) || got=
    e2e_check "$label: /etc/machine-id is $want (got $got)" test "$got" = "$want"
}

# scope_check LABEL NAME: systemd's init.scope is at the root of the
# container's cgroup (unified: in the payload child, /sys/fs/cgroup/payload;
# v1: /sys/fs/cgroup/systemd).
scope_check() {
    local got
    got=$(pexec "$2" find /sys/fs/cgroup -maxdepth 9 -type d -name init.scope | tr '\n' ' ') || got=error
    e2e_check "$1: systemd's init.scope at the root of the container's cgroup (got: $got)" \
        eval '[[ $got == "/sys/fs/cgroup/payload/init.scope " || $got == "/sys/fs/cgroup/systemd/init.scope " ]]'
}

# scope_inside_check LABEL NAME: without a cgroup namespace, systemd's
# init.scope is somewhere below the bound /sys/fs/cgroup (the container's
# own cgroup), and exactly once.
scope_inside_check() {
    local got
    got=$(pexec "$2" find /sys/fs/cgroup -maxdepth 12 -type d -name init.scope | tr '\n' ' ') || got=error
    e2e_check "$1: systemd's init.scope inside the container's own cgroup (got: $got)" \
        eval '[[ $got == /sys/fs/cgroup/*/init.scope" " && $got != *" "*" "* ]]'
}

# stop_check LABEL NAME [ARGS...]: `podman stop ARGS NAME` in < 5 s, exit 0
# (or $STOP_WANT).
stop_check() {
    local label=$1 name=$2 t0 secs code
    shift 2
    t0=$(_e2e_now)
    pm stop "$@" "$name" >/dev/null || true
    secs=$(_e2e_since "$t0")
    e2e_check "$label: podman stop takes < 5 s (${secs}s)" awk -v s="$secs" 'BEGIN { exit !(s < 5) }'
    code=$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name")
    e2e_check "$label: ${STOP_WANT:-exited 0} (got $code)" test "$code" = "${STOP_WANT:-exited 0}"
    pm rm "$name" >/dev/null
}

# ---------------------------------------------------------------- a) --hooks-dir

uuid=$(tr a-f A-F </proc/sys/kernel/random/uuid)
name=$UID8-a1
mkdir -p "$E2E_TMP/vol"
echo from-host >"$E2E_TMP/vol/host-file"
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]}" --name "$name" -e "container_uuid=$uuid" \
    -v "$E2E_TMP/vol:/run/osh-vol" "$IMAGE" >/dev/null; then
    boot "a) --hooks-dir, image StopSignal" "$name" "$(tr -d - <<<"$uuid" | tr A-F a-f)"
    # a volume under /run must stay the volume, not a copy in the hook's tmpfs
    pexec "$name" sh -c 'echo from-container >/run/osh-vol/container-file' || true
    e2e_check "a) a volume under /run (-v DIR:/run/osh-vol) stays live: the container's write reaches the host" \
        test -f "$E2E_TMP/vol/container-file"
    stop_check "a) image StopSignal" "$name"
else
    fail "a) podman run --hooks-dir"
fi

name=$UID8-a2
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]}" --name "$name" --stop-signal=SIGRTMIN+3 \
    "$IMAGE_TERM" >/dev/null; then
    boot "a) --hooks-dir, --stop-signal, no container_uuid" "$name"
    stop_check "a) --stop-signal=SIGRTMIN+3 on a SIGTERM image" "$name"
else
    fail "a) podman run --stop-signal=SIGRTMIN+3"
fi

# the control: SIGTERM is ignored by systemd, podman waits for the timeout
name=$UID8-a3
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]}" --name "$name" "$IMAGE_TERM" >/dev/null; then
    st=$(e2e_wait_systemd 60 "alive $name" "pexec $name") || true
    t0=$(_e2e_now)
    pm stop -t 2 "$name" >/dev/null 2>&1 || true
    secs=$(_e2e_since "$t0")
    e2e_check "a) control: with StopSignal SIGTERM podman stop -t 2 needs the 2 s (${secs}s, $st)" \
        awk -v s="$secs" 'BEGIN { exit !(s >= 2) }'
    pm rm -f -t 0 "$name" >/dev/null
else
    fail "a) podman run (SIGTERM image)"
fi

# ---------------------------------------------------------------- b) default dir

default_file=$DEFAULT_HOOKS_DIR/osh-e2e-$UID8.json
# an overlay, in this test's own mount namespace only, on the nearest
# existing directory of the path: the host's stays as it is
hooks_base=$DEFAULT_HOOKS_DIR
while [[ ! -d $hooks_base ]]; do hooks_base=$(dirname "$hooks_base"); done
hooks_before=$(find "$hooks_base" -maxdepth 3 -printf '%p %y %s\n' 2>/dev/null | sort)
mkdir -p "$E2E_TMP/default-hooks/upper" "$E2E_TMP/default-hooks/work"
mount -t overlay osh-default-hooks \
    -o "lowerdir=$hooks_base,upperdir=$E2E_TMP/default-hooks/upper,workdir=$E2E_TMP/default-hooks/work" \
    "$hooks_base"
e2e_at_exit "umount '$hooks_base' 2>/dev/null"
mkdir -p "$DEFAULT_HOOKS_DIR"
hooks_json systemd.json >"$default_file.tmp"
mv "$default_file.tmp" "$default_file"
# the run block of examples/podman.md, with this test's private flags
run_cmd=$(doc_block run | grep '^pm run ')
# shellcheck disable=SC2034 # used in the eval below
exec_cmd=$(doc_block run | grep '^pm exec ')
# shellcheck disable=SC2034
stop_cmd=$(doc_block run | grep '^pm stop ')
name=$(sed -E 's/.* --name ([^ ]+) .*/\1/' <<<"$run_cmd")
e2e_check "b) examples/podman.md: run, exec is-system-running and stop the same container \`$name'" \
    eval '[[ $run_cmd == *" $IMAGE"* && $exec_cmd == "pm exec $name systemctl is-system-running"* &&
        $stop_cmd == "pm stop $name"* ]]'
run_cmd=${run_cmd/pm run /pm run --network none --cgroup-parent $CG ${LIMITS[*]} }
if eval "${run_cmd%%#*}" >/dev/null; then
    boot "b) default hooks dir, examples/podman.md" "$name"
    scope_check "b) --cgroupns=private" "$name"
    stop_check "b) default hooks dir, examples/podman.md" "$name"
else
    fail "b) podman run without --hooks-dir: $run_cmd"
fi
umount "$hooks_base"
hooks_after=$(find "$hooks_base" -maxdepth 3 -printf '%p %y %s\n' 2>/dev/null | sort)
e2e_check "b) $hooks_base as before: the hooks.d file was only in this test's namespace" \
    test "$hooks_before" = "$hooks_after"

# ---------------------------------------------------------------- c) annotation

name=$UID8-c1
if pm --hooks-dir "$E2E_TMP/hooks-ann" "${RUN[@]}" --name "$name" \
    --annotation oci-systemd-hook=enabled "$IMAGE" /bin/sh -c 'exec /sbin/init' >/dev/null; then
    boot "c) annotation oci-systemd-hook=enabled, sh -c 'exec /sbin/init'" "$name"
    stop_check "c) annotation" "$name"
else
    fail "c) podman run --annotation oci-systemd-hook=enabled"
fi
name=$UID8-c2
if pm --hooks-dir "$E2E_TMP/hooks-ann" "${RUN[@]}" --name "$name" \
    "$IMAGE" /bin/sh -c 'exec /sbin/init' >/dev/null; then
    st=$(e2e_wait_systemd 10 "alive $name" "pexec $name") || true
    e2e_check "c) without the annotation the same container does not boot in 10 s (got $st)" \
        eval '[[ $st == gone || $st == timeout:* ]]'
    pm rm -f -t 0 "$name" >/dev/null
else
    fail "c) podman run without the annotation"
fi

# ---------------------------------------------------------------- d) not systemd

NR=(run --rm --systemd=false --network none --cgroup-parent "$CG" "${LIMITS[@]}")
e2e_check "d) /bin/true with the hooks.d files registered exits 0" \
    pm --hooks-dir "$E2E_TMP/hooks" "${NR[@]}" "$IMAGE" /bin/true
got=$(pm --hooks-dir "$E2E_TMP/hooks" "${NR[@]}" "$IMAGE" cat /proc/self/mountinfo | e2e_hook_tmpfs) || got=error
e2e_check "d) cat: no tmpfs from the hook (got: ${got:-none})" test -z "$got"
rm -f "$E2E_TMP/hook-calls"
got=$(pm --hooks-dir "$E2E_TMP/hooks-always" "${NR[@]}" "$IMAGE" cat /proc/self/mountinfo | e2e_hook_tmpfs) || got=error
e2e_check "d) cat with an always-run hooks.d file: the hook ran ($(tr '\n' ' ' <"$E2E_TMP/hook-calls" 2>/dev/null))" \
    test -s "$E2E_TMP/hook-calls"
e2e_check "d) cat with an always-run hooks.d file: no tmpfs (got: ${got:-none})" test -z "$got"

# ---------------------------------------------------------------- e) defaults

name=$UID8-e1
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]}" --name "$name" "$IMAGE" >/dev/null; then
    st=$(e2e_wait_systemd 60 "alive $name" "pexec $name") || true
    e2e_check "e) --systemd=false, podman's default cgroupns: reaches running (got $st)" test "$st" = running
    scope_inside_check "e) --systemd=false, podman's default cgroupns (host here)" "$name"
    pm rm -f -t 0 "$name" >/dev/null
else
    fail "e) podman run --systemd=false"
fi
name=$UID8-e2
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]/--systemd=false/--systemd=true}" --name "$name" "$IMAGE" >/dev/null; then
    st=$(e2e_wait_systemd 60 "alive $name" "pexec $name") || true
    e2e_check "e) --systemd=true (podman's systemd mode and the hook): reaches running (got $st)" \
        test "$st" = running
    n=$(e2e_failed_units_in "pexec $name") || n='?'
    e2e_check "e) --systemd=true: 0 failed units (got $n)" test "$n" = 0
    scope_inside_check "e) --systemd=true" "$name"
    stop_check "e) --systemd=true" "$name"
else
    fail "e) podman run --systemd=true"
fi

# ---------------------------------------------------------------- f) --privileged

# podman --privileged (every capability but the one this machine lacks,
# every host device, /sys writable): the hook makes /sys read-only but for
# the container's cgroup and keeps the host's VTs out of /dev; it boots.
name=$UID8-f1
if pm --hooks-dir "$E2E_TMP/hooks" "${RUN[@]}" --privileged --cap-drop SYS_RESOURCE --cgroupns private \
    --name "$name" "$IMAGE" >/dev/null; then
    boot "f) --privileged" "$name"
    got=$(pexec "$name" awk '$5 == "/sys" { o = $6 } END { print o }' /proc/self/mountinfo) || got=error
    e2e_check "f) --privileged: /sys read-only inside (got $got)" eval '[[ $got == ro,* ]]'
    got=$(pexec "$name" sh -c 'ls -d /dev/tty[0-9]* /dev/vcs* 2>/dev/null | wc -l; test -c /dev/fuse && echo fuse') ||
        got=error
    e2e_check "f) --privileged: no host VT or vcs node in /dev, the other host devices there (got ${got//$'\n'/ })" \
        test "$got" = $'0\nfuse'
    got=$(pexec "$name" systemctl is-active systemd-udevd.service 2>&1) || true
    e2e_check "f) --privileged: udevd does not run (got $got)" test "$got" = inactive
    e2e_check "f) --privileged: the host's /dev/tty0 and writable /sys are as they were" \
        eval 'test -c /dev/tty0 && [[ $(awk '\''$5 == "/sys" { print $6 }'\'' /proc/self/mountinfo) == rw,* ]]'
    # with CAP_SYS_BOOT systemd's reboot(2) ends a PID namespace as if
    # SIGINT killed its init (pid_namespaces(7)): 128 + 2
    STOP_WANT="exited 130" stop_check "f) --privileged (CAP_SYS_BOOT: poweroff is SIGINT)" "$name"
else
    fail "f) podman run --privileged"
fi

podman_cleanup
e2e_check "no containers, cgroups or runtime state left" \
    eval '[[ -z $(pm ps -aq) ]] && e2e_no_leftovers && [[ ! -e $default_file ]]'
e2e_done
