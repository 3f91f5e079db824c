# shellcheck shell=bash
# End-to-end test library for oci-systemd-hook.  Source it from a test script
# that runs with `set -euo pipefail`, then call e2e_init.
#
# Everything a test creates lives under one temp dir below $E2E_TMPROOT
# (host snapshots ignore that prefix), runtimes keep their state under it
# (`--root`), and an EXIT trap deletes containers, cgroups and overlays.
#
# Environment:
#   OSH_CACHE        image cache (default /var/cache/oci-systemd-hook-tests)
#   OSH_MIRROR       Debian mirror (default http://deb.debian.org/debian)
#   OSH_E2E_TMPROOT  prefix of all test temp dirs (default /tmp/osh-e2e)
#   OSH_E2E_KEEP=1   keep the test temp dir (logs, config.json) after the run
#   OSH_E2E_SNAPSHOT_IGNORE  ERE; host snapshot lines matching it are dropped
#                    (not needed by the tests that call e2e_own_host; CI
#                    leaves it unset)
#   OSH_E2E_CONSOLE=1  console=1 for every bundle (PID 1's messages in pid1.log)
#   HOOK             absolute path of the hook binary (for stage=...)

OSH_CACHE=${OSH_CACHE:-/var/cache/oci-systemd-hook-tests}
E2E_MIRROR=${OSH_MIRROR:-http://deb.debian.org/debian}
E2E_TMPROOT=${OSH_E2E_TMPROOT:-/tmp/osh-e2e}
E2E_TMP=
_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_STATE=

# podman's default capability set
E2E_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL",
"CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID",
"CAP_SYS_CHROOT","CAP_AUDIT_WRITE"]'

# What e2e_v2 runs inside the new mount namespace.
# shellcheck disable=SC2016  # expanded by sh, not here
_E2E_V2_SH='umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"'

_e2e_n=0
_e2e_failed=0
_e2e_failed_base=0  # failures counted before an e2e_sub run started
_e2e_containers=()  # "runtime|name|bundle"
_e2e_bundles=()

# ---------------------------------------------------------------- output

e2e_log() { printf '# %s\n' "$*" >&2; }

ok() {
    _e2e_n=$((_e2e_n + 1))
    printf 'ok %d - %s\n' "$_e2e_n" "$*"
}

fail() {
    _e2e_n=$((_e2e_n + 1))
    _e2e_failed=$((_e2e_failed + 1))
    printf 'not ok %d - %s\n' "$_e2e_n" "$*"
}

# e2e_check MSG CMD...: ok if CMD succeeds, fail otherwise.
e2e_check() {
    local msg=$1
    shift
    if "$@"; then ok "$msg"; else fail "$msg"; fi
}

# e2e_summary: print the plan and the count; returns 1 if any check failed.
e2e_summary() {
    printf '1..%d\n' "$_e2e_n"
    if ((_e2e_failed > 0)); then
        printf '# FAILED %d of %d checks\n' "$_e2e_failed" "$_e2e_n"
        return 1
    fi
    printf '# all %d checks passed\n' "$_e2e_n"
}

# e2e_done: summary, then exit 0/1 (the EXIT trap cleans up). In a run
# started by e2e_sub it hands the counts back instead of printing the plan.
e2e_done() {
    if [[ -n ${OSH_E2E_TAP_STATE:-} ]]; then
        exit $((_e2e_failed > _e2e_failed_base))
    fi
    local rc=0
    e2e_summary || rc=1
    exit "$rc"
}

# e2e_sub CMD...: run CMD, a test script (typically `e2e_v2 "$BASH" "$0"
# ARGS`), continuing this script's TAP numbering and failure count.
e2e_sub() {
    local st=$E2E_TMP/tap.state rc=0 failed_before=$_e2e_failed
    echo "$_e2e_n $_e2e_failed" >"$st"
    OSH_E2E_TAP_STATE=$st "$@" || rc=$?
    read -r _e2e_n _e2e_failed <"$st"
    if ((rc != 0 && _e2e_failed == failed_before)); then
        fail "sub-run \`$*' exited $rc"
    fi
    return 0
}

_e2e_now() { date +%s.%N; }
_e2e_since() { awk -v a="$1" -v b="$(_e2e_now)" 'BEGIN { printf "%.2f\n", b - a }'; }

# ---------------------------------------------------------------- setup

# e2e_init: needs root (exit 77 = skip otherwise); creates $E2E_TMP and
# installs the cleanup trap.
e2e_init() {
    if [[ $(id -u) != 0 ]]; then
        echo "1..0 # SKIP needs root"
        exit 77
    fi
    mkdir -p "$E2E_TMPROOT"
    E2E_TMP=$(mktemp -d "$E2E_TMPROOT/XXXXXXXX")
    E2E_STATE=$E2E_TMP/state
    mkdir -p "$E2E_STATE"
    if [[ -n ${OSH_E2E_TAP_STATE:-} ]]; then
        read -r _e2e_n _e2e_failed <"$OSH_E2E_TAP_STATE"
        _e2e_failed_base=$_e2e_failed
    fi
    # signals go through `exit` so that the EXIT trap runs (a closed stdout,
    # e.g. `| head`, would otherwise kill the test without cleanup)
    trap _e2e_cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 141' PIPE
    trap 'exit 143' TERM
}

# e2e_require_hook [MSG]: a failed check MSG, and the end of the run, when
# $HOOK is not an executable file.
e2e_require_hook() {
    if [[ ! -x $HOOK ]]; then
        fail "${1:-hook binary $HOOK exists (build it: scripts/build.sh)}"
        e2e_done
    fi
}

# e2e_begin V2_RUN "$@": e2e_init and e2e_require_hook. In the sub-run a
# script starts as `e2e_sub e2e_v2 "$BASH" "$0" --v2`, runs V2_RUN (a
# command), checks that no runtime state or cgroups are left and ends the
# run.
e2e_begin() {
    local v2_run=$1 left
    e2e_init
    e2e_require_hook "the hook $HOOK exists (build it, or set HOOK)"
    if [[ ${2:-} == --v2 ]]; then
        e2e_is_v2 || { fail "e2e_v2 gives a cgroup2 /sys/fs/cgroup"; e2e_done; }
        "$v2_run"
        left=$(e2e_leftovers) || true
        e2e_check "v2: no runtime state or cgroups left behind${left:+: $left}" test -z "$left"
        e2e_done
    fi
}

# e2e_each_runtime CASES "$@": the whole test for a script whose CASES RT
# runs every case under runtime RT: CASES runc on this (hybrid) host, then
# CASES runc and CASES crun in a cgroup2 sub-run (e2e_v2); on a v2 host all
# at once.  Ends the run.
e2e_each_runtime() {
    local cases=$1
    shift
    _e2e_each_v2() { "$cases" runc; "$cases" crun; }
    e2e_begin _e2e_each_v2 "$@"
    e2e_image bookworm >/dev/null
    if e2e_is_v2; then
        _e2e_each_v2
    else
        "$cases" runc
        e2e_sub e2e_v2 "$BASH" "$0" --v2
    fi
    e2e_done
}

# e2e_rt RUNTIME ARGS...: the runtime with this test's private state root.
e2e_rt() {
    local rt=$1
    shift
    "$rt" --root "$E2E_STATE/$rt" "$@"
}

# e2e_is_v2: true when /sys/fs/cgroup is a pure cgroup2 mount.
e2e_is_v2() { [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; }

# e2e_v2 CMD...: run CMD in a private mount namespace whose /sys/fs/cgroup is
# a pure cgroup2 mount.
e2e_v2() {
    unshare -m --propagation private sh -c "$_E2E_V2_SH" sh "$@"
}

# e2e_reexec_v2 "$@": at the top of a test that needs cgroup v2, re-executes
# the script through e2e_v2 (once), so that all of its runtime commands
# happen in the same namespace.
e2e_reexec_v2() {
    if [[ ${OSH_E2E_IN_V2:-} == 1 ]] && e2e_is_v2; then
        return 0
    fi
    OSH_E2E_IN_V2=1 exec unshare -m --propagation private \
        sh -c "$_E2E_V2_SH" sh "$BASH" "$0" "$@"
}

# e2e_own_host "$@": at the top of a test that compares host snapshots,
# before e2e_init: re-executes the script (once) in a mount namespace of its
# own, so that "the host" its snapshots look at is the namespace its
# runtimes and the hook run in, and nothing else on the machine shows up in
# it. The checks keep their strength: a mount the hook makes in the
# runtime's namespace, or one that propagates out of a container, lands in
# this namespace's table; a file it creates in /tmp or /run lands in this
# namespace's /tmp or /run; the snapshot sees both. In the new namespace:
#  - no mount event of the host arrives (propagation private); when the
#    host's / is shared (systemd hosts) everything is then made rshared
#    again, in new peer groups of this namespace only, so containers meet
#    the propagation they meet on this host;
#  - the copies of mounts below /tmp, /run, /var/tmp, /var/lib/containers
#    and $OSH_CACHE (other tests' overlays, image builds, engines) are
#    detached: such a copy disappears when its owner removes the directory,
#    which would show as a change;
#  - /tmp (1777) and /run (0755) are fresh tmpfs, so files other processes
#    create there are not in the snapshot; what the test needs from the
#    real ones is bound back at its path: $E2E_TMPROOT (logs,
#    OSH_E2E_KEEP=1), the source tree (a clone in /tmp), the directory of
#    $HOOK (the file itself when that is /tmp or /run), and the paths in
#    $OSH_E2E_OWN_HOST_KEEP (colon-separated).
# Nested runs (e2e_sub, e2e_v2) inherit the namespace (OSH_E2E_OWN_HOST=1).
e2e_own_host() {
    local prop
    [[ ${OSH_E2E_OWN_HOST:-} == 1 ]] && return 0
    if [[ ${OSH_E2E_OWN_HOST:-} != setup ]]; then
        [[ $(id -u) == 0 ]] || return 0 # e2e_init skips the test
        prop=$(findmnt -no PROPAGATION / 2>/dev/null) || prop=
        OSH_E2E_OWN_HOST=setup OSH_E2E_HOST_PROPAGATION=$prop \
            exec unshare -m --propagation private -- "$BASH" "$0" "$@"
    fi
    export OSH_E2E_OWN_HOST=1
    if ! _e2e_own_host_setup; then
        echo "Bail out! cannot set up the test's own mount namespace"
        exit 1
    fi
    e2e_log "own mount namespace: host mount events and other processes' /tmp, /run do not reach this test"
}

_e2e_own_host_setup() {
    local d p keep=() fds=() i extra
    [[ $(readlink /proc/self/ns/mnt) != "$(readlink /proc/1/ns/mnt)" ]] || return 1
    for d in /tmp /run /var/tmp /var/lib/containers "$OSH_CACHE"; do
        _e2e_detach_below "$d"
    done
    mkdir -p "$E2E_TMPROOT" || return 1
    IFS=: read -ra extra <<<"${OSH_E2E_OWN_HOST_KEEP:-}"
    # the real directories to keep, outermost first, each once
    while read -r p; do
        [[ -n $p && -e $p ]] || continue
        for d in "${keep[@]}"; do
            [[ $p == "$d" || $p == "$d"/* ]] && continue 2
        done
        keep+=("$p")
    done < <(for p in "$E2E_TMPROOT" "$_E2E_DIR/../.." ${HOOK:+"$HOOK"} "${extra[@]}"; do
        p=$(realpath -m "$p")
        # $HOOK's directory, or $HOOK itself when that is /tmp or /run
        if [[ -n ${HOOK:-} && $p == "$(realpath -m "$HOOK")" && -f $p ]]; then
            case $(dirname "$p") in /tmp | /run) ;; *) p=$(dirname "$p") ;; esac
        fi
        [[ $p == /tmp/* || $p == /run/* ]] && printf '%s\n' "$p"
    done | sort -u)
    for i in "${!keep[@]}"; do
        exec {d}<"${keep[i]}" || return 1
        fds[i]=$d
    done
    mount -t tmpfs -o mode=1777,nosuid,nodev osh-own-tmp /tmp &&
        mount -t tmpfs -o mode=0755,nosuid,nodev osh-own-run /run || return 1
    for i in "${!keep[@]}"; do
        if [[ -d /proc/self/fd/${fds[i]} ]]; then
            mkdir -p "${keep[i]}"
        else
            mkdir -p "$(dirname "${keep[i]}")" && : >"${keep[i]}"
        fi &&
            mount --no-canonicalize --bind "/proc/self/fd/${fds[i]}" "${keep[i]}" || return 1
        d=${fds[i]}
        exec {d}<&-
    done
    if [[ ${OSH_E2E_HOST_PROPAGATION:-} == shared* ]]; then
        mount --make-rshared / || return 1
    fi
}

# _e2e_detach_below DIR: lazily unmounts, in this namespace, every mount
# strictly below DIR (deepest first; mountinfo's octal escapes decoded).
_e2e_detach_below() {
    local dir=$1 mp
    awk -v d="$dir" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r mp; do
        umount -l "$(printf '%b' "$mp")" 2>/dev/null || true
    done
}

# ---------------------------------------------------------------- images

_e2e_umount_under() {
    local dir=$1 mp
    # deepest first; mountinfo escapes blanks as \040, our paths have none
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' \
        /proc/self/mountinfo | sort -r | while read -r mp; do
        umount -l "$mp" || true
    done
}

# _e2e_cached DIR BUILDER ARGS...: prints DIR/rootfs, building it once with
# `BUILDER TMP_ROOTFS ARGS...` into a temp dir renamed when complete, under
# a lock so parallel callers build once; an interrupted build is never used.
_e2e_cached() {
    local dir=$1 builder=$2 rootfs=$1/rootfs tmp stale
    shift 2
    if [[ -d $rootfs ]]; then
        printf '%s\n' "$rootfs"
        return 0
    fi
    mkdir -p "$dir"
    (
        flock 9
        # another caller may have built it while we waited
        [[ -d $rootfs ]] && exit 0
        # builds interrupted before the rename: debootstrap may leave /proc
        # and /sys mounted in them
        for stale in "$dir"/build.*; do
            [[ -e $stale ]] || continue
            _e2e_umount_under "$stale"
            rm -rf --one-file-system "$stale"
        done
        tmp=$(mktemp -d "$dir/build.XXXXXX")
        if ! "$builder" "$tmp/rootfs" "$@"; then
            _e2e_umount_under "$tmp"
            rm -rf --one-file-system "$tmp"
            exit 1
        fi
        mv -T "$tmp/rootfs" "$rootfs"
        rmdir "$tmp"
    ) 9>"$dir.lock" || return 1
    printf '%s\n' "$rootfs"
}

_e2e_debootstrap() {
    local to=$1 suite=$2 log=$3
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq >&2 && apt-get install -y -qq debootstrap >&2
    fi
    e2e_log "building $suite image in $to (log: $log)"
    if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
        "$suite" "$to" "$E2E_MIRROR" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        return 1
    fi
}

# e2e_image SUITE: prints the path of the cached rootfs of SUITE (bookworm,
# trixie, sid), building it once. Use it read-only (e2e_bundle overlays it).
e2e_image() {
    local suite=$1
    case $suite in
    bookworm | trixie | sid) ;;
    *)
        e2e_log "e2e_image: unknown suite \`$suite'"
        return 1
        ;;
    esac
    _e2e_cached "$OSH_CACHE/images/$suite" _e2e_debootstrap "$suite" "$OSH_CACHE/images/$suite/build.log"
}

# ---------------------------------------------------------------- bundles

_e2e_ideal_jq='
  .mounts += [
    {destination: "/run", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "nodev", "mode=755"]},
    {destination: "/run/lock", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "nodev", "mode=1777"]},
    {destination: "/tmp", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "nodev", "mode=1777"]},
    {destination: "/var/log/journal", type: "tmpfs", source: "tmpfs",
     options: ["nosuid", "nodev", "mode=755"]}
  ]
  | .mounts |= map(if .destination == "/sys/fs/cgroup"
                   then .options |= map(if . == "ro" then "rw" else . end)
                   else . end)'

# e2e_bundle DIR SUITE [key=value...]: overlay rootfs on the cached image and
# a config.json booting /sbin/init.
#   args=JSON-array  process.args (default ["/sbin/init"])
#   stage=createRuntime|prestart|none  register $HOOK at that stage
#   uuid=...         container_uuid (default: a random uuid)
#   readonly=true    root.readonly
#   ideal=1          no hook; put the hook's mounts into the spec instead
#   probe=STAGE      also register probe-hook.sh at STAGE (createRuntime,
#                    prestart, poststart: it runs jq on the host); it writes
#                    DIR/probe-STAGE.txt
#   console=1        bind a host pty on /dev/console and copy what PID 1
#                    writes there into DIR/pid1.log (default $OSH_E2E_CONSOLE).
#                    systemd as PID 1 points its stdio at /dev/null and logs
#                    only to /dev/console, so without this an early failure
#                    leaves no message. Side effect: console-getty.service
#                    runs (the getty generator adds it in containers).
# The cgroup is /osh-e2e/<temp dir id>-<basename DIR>, also the hostname.
e2e_bundle() {
    local dir=$1 suite=$2 kv image name uuid
    local args='["/sbin/init"]' stage=none readonly=false ideal=0 probe=''
    local console=${OSH_E2E_CONSOLE:-0} pts=''
    shift 2
    uuid=$(cat /proc/sys/kernel/random/uuid)
    for kv in "$@"; do
        case $kv in
        args=*) args=${kv#args=} ;;
        stage=*) stage=${kv#stage=} ;;
        uuid=*) uuid=${kv#uuid=} ;;
        readonly=*) readonly=${kv#readonly=} ;;
        ideal=*) ideal=${kv#ideal=} ;;
        probe=*) probe=${kv#probe=} ;;
        console=*) console=${kv#console=} ;;
        *)
            e2e_log "e2e_bundle: unknown option \`$kv'"
            return 1
            ;;
        esac
    done
    case $stage in
    none) ;;
    createRuntime | prestart)
        if [[ ${HOOK:-} != /* || ! -x ${HOOK:-} ]]; then
            e2e_log "e2e_bundle: stage=$stage needs \$HOOK, an absolute path to the hook"
            return 1
        fi
        ;;
    *)
        e2e_log "e2e_bundle: bad stage \`$stage'"
        return 1
        ;;
    esac
    [[ $readonly == true ]] || readonly=false
    image=$(e2e_image "$suite") || return 1
    name=$(basename "$E2E_TMP")-$(basename "$dir")
    name=${name//[^A-Za-z0-9_.-]/_}
    name=${name:0:63}

    mkdir -p "$dir/rootfs" "$dir/upper" "$dir/work"
    _e2e_bundles+=("$dir")
    mount -t overlay overlay \
        -o "lowerdir=$image,upperdir=$dir/upper,workdir=$dir/work" "$dir/rootfs"
    if [[ $console == 1 ]]; then
        pts=$(_e2e_console "$dir/pid1.log") || return 1
    fi
    rm -f "$dir/config.json"
    runc spec --bundle "$dir"
    jq --argjson args "$args" --arg uuid "$uuid" --argjson caps "$E2E_CAPS" \
        --arg cg "/osh-e2e/$name" --arg host "$name" --argjson ro "$readonly" \
        --arg stage "$stage" --arg hook "${HOOK:-}" --argjson ideal "$ideal" \
        --arg probe "$probe" --arg probehook "$_E2E_DIR/probe-hook.sh" \
        --arg pts "$pts" '
        .process.terminal = false
        | .process.args = $args
        | .process.env = ([.process.env[] | select(startswith("container_uuid=") | not)]
                          + ["container_uuid=" + $uuid])
        | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
        | del(.process.rlimits)
        | .root.readonly = $ro
        | del(.linux.resources)
        | .linux.namespaces = ([.linux.namespaces[] | select(.type != "cgroup")]
                               + [{type: "cgroup"}])
        | .linux.cgroupsPath = $cg
        | .hostname = $host
        | if $stage != "none"
          then .hooks[$stage] = [{path: $hook, args: ["oci-systemd-hook", $stage]}]
          else . end
        | if $probe != ""
          then .hooks[$probe] += [{path: $probehook, args: ["probe-hook", $probe]}]
          else . end
        | if $ideal == 1 then '"$_e2e_ideal_jq"' else . end
        | if $pts != ""
          then .mounts += [{destination: "/dev/console", type: "bind", source: $pts,
                            options: ["bind", "nosuid", "noexec"]}]
          else . end
        ' "$dir/config.json" >"$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
}

# _e2e_console LOG: allocates a raw pty, copies its output to LOG in the
# background (pid in LOG.pid), prints the slave path.
_e2e_console() {
    local log=$1 pts='' i
    # shellcheck disable=SC2016
    python3 -c '
import os, pty, sys, tty
m, s = pty.openpty()
tty.setraw(s)
os.write(1, (os.ttyname(s) + "\n").encode())
os.close(1)
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        try:
            d = os.read(m, 65536)
        except OSError:
            break
        if not d:
            break
        f.write(d)
' "$log" >"$log.pts" 2>/dev/null </dev/null &
    echo "$!" >"$log.pid"
    for i in $(seq 50); do
        pts=$(cat "$log.pts")
        [[ -n $pts ]] && break
        sleep 0.02
    done
    if [[ $pts != /dev/pts/* ]]; then
        e2e_log "no pty for the console (python3 missing?)"
        return 1
    fi
    printf '%s\n' "$pts"
}

# e2e_cgroup_path BUNDLE: the cgroupsPath of the bundle.
e2e_cgroup_path() { jq -r '.linux.cgroupsPath' "$1/config.json"; }

_e2e_list_remove() { # NAME-OF-ARRAY VALUE
    local -n _arr=$1
    local i
    for i in "${!_arr[@]}"; do
        [[ ${_arr[$i]} == "$2" ]] && unset '_arr[i]'
    done
    _arr=("${_arr[@]}")
}

_e2e_console_stop() {
    if [[ -f $1/pid1.log.pid ]]; then
        kill "$(cat "$1/pid1.log.pid")" 2>/dev/null || true
        rm -f "$1/pid1.log.pid" "$1/pid1.log.pts"
    fi
}

# e2e_bundle_cleanup DIR: unmount the overlay and remove DIR.
e2e_bundle_cleanup() {
    local dir=$1
    _e2e_console_stop "$dir"
    _e2e_umount_under "$dir"
    rm -rf --one-file-system "$dir"
    _e2e_list_remove _e2e_bundles "$dir"
}

# e2e_rm_cgroup CGPATH: remove CGPATH (and its children) in every mounted
# hierarchy, and /osh-e2e when it is empty. Runtimes leave systemd's
# subtree and the /osh-e2e parent behind.
e2e_rm_cgroup() {
    local cg=$1 mp rc=0
    [[ $cg == /osh-e2e/?* && $cg != *..* ]] || return 1
    while read -r mp; do
        if [[ -d $mp$cg ]]; then
            find "$mp$cg" -depth -type d -exec rmdir {} + || rc=1
        fi
        rmdir "$mp/osh-e2e" 2>/dev/null || true
    done < <(findmnt -rn -t cgroup,cgroup2 -o TARGET)
    return "$rc"
}

# ---------------------------------------------------------------- containers

# e2e_dump BUNDLE: the bundle's logs to stderr.
e2e_dump() {
    local f
    for f in "$1/runtime.log" "$1/console.log" "$1/pid1.log"; do
        [[ -s $f ]] || continue
        e2e_log "---- $f (last 30 lines)"
        tail -n 30 "$f" | sed 's/^/#   /' >&2
    done
}

# e2e_start RUNTIME BUNDLE NAME: `run -d`, stdio in BUNDLE/console.log.
e2e_start() {
    local rt=$1 bundle=$2 name=$3
    _e2e_containers+=("$rt|$name|$bundle")
    # stdin is an empty file, not /dev/null: crun 1.8 chowns its stdin to
    # the container's root under a user namespace, host /dev/null included.
    : >"$bundle/stdin"
    if ! e2e_rt "$rt" --log "$bundle/runtime.log" run -d --bundle "$bundle" "$name" \
        <"$bundle/stdin" >"$bundle/console.log" 2>&1; then
        e2e_log "$rt run $name failed"
        e2e_dump "$bundle"
        return 1
    fi
}

# e2e_start_failed LABEL RT BUNDLE: the failed check "LABEL: RT run: <the
# first error line of the runtime's output>", and that output
# (BUNDLE/console.log: it carries the hook's stderr); returns 1.
e2e_start_failed() {
    local label=$1 rt=$2 b=$3
    fail "$label: $rt run: $(grep -m1 -ai 'error\|oci-systemd-hook' "$b/console.log" || true)"
    e2e_log "---- $rt output"
    sed 's/^/#   /' "$b/console.log" >&2
    return 1
}

# e2e_start_checked LABEL RT BUNDLE NAME: e2e_start (its own notes
# dropped), BOOT_T0 set to when it began (for e2e_boot_ok); a failure is
# e2e_start_failed (returns 1).
e2e_start_checked() {
    local label=$1 rt=$2 b=$3 name=$4
    BOOT_T0=$(_e2e_now)
    if e2e_start "$rt" "$b" "$name" 2>/dev/null; then
        return 0
    fi
    e2e_start_failed "$label" "$rt" "$b"
}

# e2e_run_all DIR NAME...: `runc run -d` of every container NAME (bundle
# DIR/NAME, its output in DIR/NAME/console.log) at once, each put on the
# cleanup list; sets E2E_RUN_FAILED to how many failed (each noted, with
# e2e_dump). Waits for all background jobs of the shell.
e2e_run_all() {
    local dir=$1 n
    shift
    for n in "$@"; do
        _e2e_containers+=("runc|$n|$dir/$n")
        (
            rc=0
            e2e_rt runc --log "$dir/$n/runtime.log" run -d --bundle "$dir/$n" "$n" \
                </dev/null >"$dir/$n/console.log" 2>&1 || rc=$?
            echo "$rc" >"$dir/$n/run.rc"
        ) &
    done
    wait
    E2E_RUN_FAILED=0
    for n in "$@"; do
        if [[ $(cat "$dir/$n/run.rc") != 0 ]]; then
            E2E_RUN_FAILED=$((E2E_RUN_FAILED + 1))
            e2e_log "$n: runc run failed"
            e2e_dump "$dir/$n"
        fi
    done
}

# e2e_stop_all TIMEOUT NAME...: signal 37 (SIGRTMIN+3) to every runc
# container NAME at once, then waits up to TIMEOUT s for all of them to be
# stopped: the check "K of N stopped on signal 37 (T s)".
e2e_stop_all() {
    local timeout=$1 t1 n st stopped=0 deadline
    shift
    t1=$(_e2e_now)
    for n in "$@"; do
        e2e_rt runc kill "$n" 37 >/dev/null 2>&1 || e2e_log "$n: runc kill 37 failed"
    done
    deadline=$(($(date +%s) + timeout))
    while :; do
        stopped=0
        for n in "$@"; do
            st=$(e2e_status runc "$n")
            [[ $st == stopped || $st == gone ]] && stopped=$((stopped + 1))
        done
        ((stopped == $# || $(date +%s) >= deadline)) && break
        sleep 0.5
    done
    e2e_check "$stopped of $# stopped on signal 37 ($(_e2e_since "$t1") s)" test "$stopped" = "$#"
}

# e2e_delete_all DIR NAME...: `runc delete` of every container NAME (its
# bundle DIR/NAME), then the check that none of their cgroups is left in
# any hierarchy. The containers stay on the cleanup list (_e2e_forget
# would remove what is left before it can be seen).
e2e_delete_all() {
    local dir=$1 n cg mp cgleft=()
    shift
    for n in "$@"; do
        e2e_rt runc delete "$n" >/dev/null 2>&1 || e2e_log "$n: runc delete failed"
        cg=$(e2e_cgroup_path "$dir/$n")
        while read -r mp; do
            [[ -d $mp$cg ]] && cgleft+=("$mp$cg")
        done < <(findmnt -rn -t cgroup,cgroup2 -o TARGET)
    done
    e2e_check "runc delete leaves no cgroup of the $# behind${cgleft[*]:+: ${cgleft[*]:0:3}...}" \
        test "${#cgleft[@]}" = 0
}

# e2e_status RUNTIME NAME: created/running/stopped/..., or "gone".
e2e_status() {
    local out
    out=$(e2e_rt "$1" state "$2" 2>/dev/null) || { echo gone; return 0; }
    jq -r .status <<<"$out"
}

# e2e_pid RUNTIME NAME: host pid of the container's init.
e2e_pid() { e2e_rt "$1" state "$2" | jq -r .pid; }

# e2e_exec RUNTIME NAME CMD...: run CMD in the container (10 s limit).
e2e_exec() {
    local rt=$1 name=$2
    shift 2
    timeout 10 "$rt" --root "$E2E_STATE/$rt" exec "$name" "$@" </dev/null
}

# e2e_wait_running RUNTIME NAME [TIMEOUT=60]: polls is-system-running and
# prints the final state: running/degraded/maintenance/stopping (return 0),
# or "gone:<status>" / "timeout:<last answer>" (return 1).
e2e_wait_running() {
    local q
    printf -v q '%q %q' "$1" "$2"
    _e2e_poll_systemd "${3:-60}" 0.1 "_e2e_alive_running $q" "e2e_exec $q"
}

# _e2e_alive_running RUNTIME NAME: true while the container is running;
# prints ":<status>" otherwise.
_e2e_alive_running() {
    local st
    st=$(e2e_status "$1" "$2")
    [[ $st == running ]] && return 0
    printf ':%s' "$st"
    return 1
}

# e2e_boot_ok LABEL RT NAME BUNDLE: waits for the boot started at $BOOT_T0,
# one TAP line for running + 0 failed units; returns 1 otherwise (with the
# jobs systemd still waits for, and the bundle's logs). BOOT_STATE keeps
# what it saw (gone:STATUS when the container died).
BOOT_STATE=
e2e_boot_ok() {
    local label=$1 rt=$2 name=$3 b=$4 n t
    BOOT_STATE=$(e2e_wait_running "$rt" "$name" 30) || true
    t=$(_e2e_since "$BOOT_T0")
    n=$(e2e_failed_units "$rt" "$name" 2>&1) || n="(no answer)"
    if [[ $BOOT_STATE == running && $n == 0 ]]; then
        ok "$label: running, 0 failed units (in ${t}s)"
        return 0
    fi
    fail "$label: running, 0 failed units (got $BOOT_STATE after ${t}s, failed: ${n//$'\n'/ })"
    if [[ $BOOT_STATE != gone:* ]]; then
        # what systemd still waits for
        e2e_exec "$rt" "$name" systemctl list-jobs --no-pager 2>&1 | head -n 15 | sed 's/^/#   jobs: /' >&2 || true
    fi
    e2e_dump "$b"
    [[ -s $b/pid1.log ]] || e2e_log "rerun with OSH_E2E_CONSOLE=1 for PID 1's messages"
    return 1
}

# e2e_failed_units RUNTIME NAME: prints the number of failed units, their
# names on stderr.
e2e_failed_units() {
    local q
    printf -v q '%q %q' "$1" "$2"
    e2e_failed_units_in "e2e_exec $q"
}

# _e2e_forget RUNTIME NAME: delete the container, remove its cgroup.
_e2e_forget() {
    local rt=$1 name=$2 e bundle=''
    for e in "${_e2e_containers[@]}"; do
        [[ $e == "$rt|$name|"* ]] && bundle=${e#"$rt|$name|"}
    done
    e2e_rt "$rt" delete -f "$name" >/dev/null 2>&1 || true
    _e2e_list_remove _e2e_containers "$rt|$name|$bundle"
    if [[ -n $bundle && -f $bundle/config.json ]]; then
        e2e_rm_cgroup "$(e2e_cgroup_path "$bundle")" ||
            e2e_log "cgroup of $name not removed"
    fi
}

# e2e_stop RUNTIME NAME [TIMEOUT=30]: SIGRTMIN+3 (37), wait for "stopped",
# print the seconds taken, delete. Returns 1 (after SIGKILL) on timeout.
e2e_stop() {
    local rt=$1 name=$2 timeout=${3:-30} t0 st rc=0
    t0=$(_e2e_now)
    st=$(e2e_status "$rt" "$name")
    if [[ $st == running || $st == created ]]; then
        e2e_rt "$rt" kill "$name" 37 || true
    fi
    while :; do
        st=$(e2e_status "$rt" "$name")
        [[ $st == stopped || $st == gone ]] && break
        if (($(date +%s) - ${t0%.*} >= timeout)); then
            e2e_log "$name did not stop in ${timeout}s, killing"
            e2e_rt "$rt" kill "$name" KILL || true
            rc=1
            break
        fi
        sleep 0.05
    done
    _e2e_since "$t0"
    _e2e_forget "$rt" "$name"
    return "$rc"
}

# e2e_leftovers: lists runtime state and cgroups this test left behind;
# returns 1 if there are any.
e2e_leftovers() {
    local mp found=0 e
    for e in "$E2E_STATE"/*/*; do
        [[ -e $e ]] || continue
        echo "runtime state: $e"
        found=1
    done
    while read -r mp; do
        for e in "$mp/osh-e2e/$(basename "$E2E_TMP")"-*; do
            [[ -e $e ]] || continue
            echo "cgroup: $e"
            found=1
        done
    done < <(findmnt -rn -t cgroup,cgroup2 -o TARGET)
    return "$found"
}

# ---------------------------------------------------------------- host state

# e2e_host_snapshot FILE: mounts (without ids), canary files, top-level
# entries of /, /etc, /run, /tmp and /var/log/journal. Ignores $E2E_TMPROOT
# and lines matching $OSH_E2E_SNAPSHOT_IGNORE.
e2e_host_snapshot() {
    local f
    {
        echo "## mounts: mountpoint options fstype source superoptions"
        awk -v skip="$E2E_TMPROOT" '
            $5 == skip || index($5, skip "/") == 1 { next }
            { for (i = 7; $i != "-"; i++) ;
              print $5, $6, $(i + 1), $(i + 2), $(i + 3) }' /proc/self/mountinfo |
            sort
        echo "## canaries: sha256 mtime size mode owner type"
        for f in /etc/shadow /etc/machine-id /etc/hostname; do
            if [[ -e $f || -L $f ]]; then
                printf '%s %s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)" \
                    "$(stat -c '%y %s %a %u:%g %F' "$f")"
            else
                echo "$f missing"
            fi
        done
        echo "## entries"
        find / /etc /run /tmp /var/log/journal -maxdepth 1 -mindepth 1 \
            ! -path "$E2E_TMPROOT" -printf '%p %y %m %u:%g\n' 2>/dev/null | sort
    } | e2e_snapshot_filter >"$1"
}

# e2e_snapshot_filter: copies stdin to stdout, but for the lines matching
# $OSH_E2E_SNAPSHOT_IGNORE.
e2e_snapshot_filter() {
    if [[ -n ${OSH_E2E_SNAPSHOT_IGNORE:-} ]]; then
        grep -Ev -e "$OSH_E2E_SNAPSHOT_IGNORE" || true
    else
        cat
    fi
}

# e2e_host_check LABEL A B: one TAP line: ok when the snapshots A and B are
# equal; otherwise not ok, naming the differing lines (the first few, -
# before / + after), and the whole diff as comments.
e2e_host_check() {
    local label=$1 d lines n
    if d=$(diff -U0 "$2" "$3"); then
        ok "$label"
        return 0
    fi
    lines=$(grep -E '^[-+]' <<<"$d" | grep -Ev '^(---|\+\+\+) ')
    n=$(grep -c '' <<<"$lines")
    fail "$label: $n line(s) differ: $(head -n 4 <<<"$lines" | tr '\n' ';' | sed 's/;$//; s/;/; /g')$( ((n > 4)) && echo '; ...')"
    echo "# HOST STATE CHANGED (- before, + after):"
    # shellcheck disable=SC2001
    sed 's/^/#   /' <<<"$d"
    return 1
}

# e2e_host_compare A B: returns 1, showing the diff, if the snapshots differ.
e2e_host_compare() {
    local d
    if ! d=$(diff -u "$1" "$2"); then
        e2e_log "HOST STATE CHANGED:"
        # shellcheck disable=SC2001
        sed 's/^/#   /' <<<"$d" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- cleanup

_e2e_cleanup() {
    local rc=$? e rt name rest
    set +e
    for e in "${_e2e_containers[@]}"; do
        rt=${e%%|*}
        rest=${e#*|}
        name=${rest%%|*}
        # e2e_stop in $(...) forgot it only in its subshell
        if [[ $(e2e_status "$rt" "$name") != gone ]]; then
            e2e_log "cleanup: deleting $rt container $name"
            e2e_rt "$rt" kill "$name" KILL >/dev/null 2>&1
        fi
        _e2e_forget "$rt" "$name"
    done
    for e in "${_e2e_bundles[@]}"; do
        if [[ ${OSH_E2E_KEEP:-} == 1 ]]; then
            _e2e_console_stop "$e"
            _e2e_umount_under "$e"
        else
            e2e_bundle_cleanup "$e"
        fi
    done
    if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
        for e in "$E2E_STATE"/*/*; do
            [[ -e $e ]] && e2e_log "cleanup: runtime state left behind: $e"
        done
        if [[ ${OSH_E2E_KEEP:-} == 1 ]]; then
            e2e_log "kept $E2E_TMP"
        else
            rm -rf --one-file-system "$E2E_TMP"
        fi
    fi
    if [[ -n ${OSH_E2E_TAP_STATE:-} ]]; then
        echo "$_e2e_n $_e2e_failed" >"$OSH_E2E_TAP_STATE"
    fi
    exit "$rc"
}

# ---------------------------------------------------------------- user namespaces
# (added for test-compat.sh)
#
# runc 1.1 has no idmapped mounts: a container in a user namespace needs a
# rootfs whose owners are already shifted into the mapped range.

E2E_USERNS_BASE=100000
E2E_USERNS_SIZE=65536

# Walks a tree and adds OFFSET to every uid and gid (lchown, each inode
# once: hard links), then puts back the setuid/setgid bits chown cleared.
# File capabilities (security.capability) and ACL entries are not shifted.
# shellcheck disable=SC2016  # python, not shell
_E2E_SHIFT_PY='
import os, stat, sys
root, off = sys.argv[1], int(sys.argv[2])
seen = set()
def shift(p):
    st = os.lstat(p)
    if (st.st_dev, st.st_ino) in seen:
        return
    seen.add((st.st_dev, st.st_ino))
    if st.st_uid >= off or st.st_gid >= off:
        sys.exit("%s: already shifted (%d:%d)" % (p, st.st_uid, st.st_gid))
    os.lchown(p, st.st_uid + off, st.st_gid + off)
    if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o6000:
        os.chmod(p, stat.S_IMODE(st.st_mode))
shift(root)
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        shift(os.path.join(d, n))
'

# e2e_userns_image SUITE: prints the path of a copy of SUITE's cached image
# with every uid/gid shifted by $E2E_USERNS_BASE, built once (cp -a and a
# python lchown walk, some 10 s) under
# $OSH_CACHE/images/SUITE-userns$E2E_USERNS_BASE/rootfs. Read-only use.
e2e_userns_image() {
    local suite=$1 src
    src=$(e2e_image "$suite") || return 1
    _e2e_cached "$OSH_CACHE/images/$suite-userns$E2E_USERNS_BASE" _e2e_shift_copy "$src" "$suite"
}

_e2e_shift_copy() {
    local to=$1 src=$2 suite=$3
    e2e_log "building the uid-shifted ($E2E_USERNS_BASE) copy of $suite in $to"
    cp -a "$src" "$to" && python3 -c "$_E2E_SHIFT_PY" "$to" "$E2E_USERNS_BASE"
}

# e2e_bundle_userns DIR SUITE [key=value...]: e2e_bundle (same options),
# then the overlay rootfs on the shifted image (e2e_userns_image) and a user
# namespace mapping container ids 0-65535 to $E2E_USERNS_BASE... (uid and
# gid). DIR and the test's temp dir become traversable (0711) for the
# container's root.
e2e_bundle_userns() {
    local dir=$1 suite=$2 image
    image=$(e2e_userns_image "$suite") || return 1
    e2e_bundle "$@" || return 1
    umount "$dir/rootfs"
    rm -rf --one-file-system "$dir/upper" "$dir/work"
    mkdir -p "$dir/upper" "$dir/work"
    mount -t overlay overlay \
        -o "lowerdir=$image,upperdir=$dir/upper,workdir=$dir/work" "$dir/rootfs"
    chmod 0711 "$E2E_TMP" "$dir"
    jq --argjson base "$E2E_USERNS_BASE" --argjson size "$E2E_USERNS_SIZE" '
        .linux.namespaces = ([.linux.namespaces[] | select(.type != "user")]
                             + [{type: "user"}])
        | .linux.uidMappings = [{containerID: 0, hostID: $base, size: $size}]
        | .linux.gidMappings = [{containerID: 0, hostID: $base, size: $size}]
        ' "$dir/config.json" >"$dir/config.json.new"
    mv "$dir/config.json.new" "$dir/config.json"
}

# ---------------------------------------------------------------- README tables
# (test-compat.sh, test-current.sh: tables kept between markers in README.md)

# e2e_readme_section FILE NAME: the lines of FILE between its
# <!-- NAME:begin --> and <!-- NAME:end --> markers, blank lines at either
# end dropped. Returns 1 without both markers.
e2e_readme_section() {
    awk -v b="<!-- $2:begin -->" -v e="<!-- $2:end -->" '
         index($0, e) { f = 1; exit }
         s { print }
         index($0, b) { s = 1 }
         END { exit !(s && f) }' "$1" | sed -e '/./,$!d' | tac | sed -e '/./,$!d' | tac
    return "${PIPESTATUS[0]}"
}

# e2e_systemd_label SUITE: "252 (Debian 12)" from the cached image.
e2e_systemd_label() {
    local v name
    v=$(dpkg-query --admindir="$(e2e_image "$1")/var/lib/dpkg" -W -f='${Version}' systemd 2>/dev/null) || v='?'
    case $1 in
    bookworm) name='Debian 12' ;;
    trixie) name='Debian 13' ;;
    *) name="Debian $1" ;;
    esac
    printf '%s (%s)\n' "${v%%.*}" "$name"
}

# e2e_readme_update FILE NAME TABLE: what is between FILE's NAME markers
# becomes a blank line, the file TABLE, a blank line.
e2e_readme_update() {
    awk -v t="$3" -v b="<!-- $2:begin -->" -v e="<!-- $2:end -->" '
        index($0, b) { print; print ""
                       while ((getline l < t) > 0) print l; print ""; skip = 1; next }
        index($0, e) { skip = 0 }
        !skip { print }' "$1" >"$1.new"
    cat "$1.new" >"$1"
    rm -f "$1.new"
}

# ================================================================ engines
# Helpers of the engine tests (test-podman.sh, test-containerd.sh,
# test-cri.sh, test-install.sh). Nothing above uses them; keep them last.

# Debian's python3: the modules the tests need (grpc, grpc_tools, yaml) come
# from Debian packages, which a `python3` earlier in PATH (pyenv) lacks.
# shellcheck disable=SC2034  # used by the test scripts
E2E_PY=/usr/bin/python3

_e2e_at_exit=()

# e2e_at_exit CMD: eval CMD when the test exits, last registered first, and
# before the library's own cleanup (containers, bundles, $E2E_TMP).
e2e_at_exit() {
    _e2e_at_exit=("$1" "${_e2e_at_exit[@]}")
    trap _e2e_engines_exit EXIT
}

_e2e_engines_exit() {
    local rc=$? c
    set +e
    for c in "${_e2e_at_exit[@]}"; do
        eval "$c"
    done
    _e2e_at_exit=()
    (exit "$rc")
    _e2e_cleanup
}

# e2e_uid: a short id unique to this test run (lowercase, for image and
# container names): the temp dir's name.
e2e_uid() { basename "$E2E_TMP" | tr '[:upper:]' '[:lower:]'; }

# e2e_wait_systemd TIMEOUT ALIVE EXEC: polls `EXEC systemctl
# is-system-running` (ALIVE and EXEC are command strings, eval'd; EXEC must
# limit its own time) while ALIVE succeeds; prints running/degraded/maintenance/stopping (return 0), or
# "gone" / "timeout:<last answer>" (return 1).
e2e_wait_systemd() {
    _e2e_poll_systemd "$1" 0.2 "{ $2; } >/dev/null" "$3"
}

# _e2e_poll_systemd TIMEOUT PAUSE ALIVE EXEC: the loop of e2e_wait_running
# and e2e_wait_systemd, polling every PAUSE seconds. ALIVE and EXEC are
# eval'd; when ALIVE fails it prints "gone" and what ALIVE wrote.
_e2e_poll_systemd() {
    local timeout=$1 pause=$2 alive=$3 exec=$4 out end
    end=$(($(date +%s) + timeout))
    while :; do
        if ! out=$(eval "$alive" 2>/dev/null </dev/null); then
            echo "gone$out"
            return 1
        fi
        out=$(eval "$exec systemctl is-system-running" 2>/dev/null </dev/null) || true
        out=${out%%$'\n'*}
        case $out in
        running | degraded | maintenance | stopping)
            echo "$out"
            return 0
            ;;
        esac
        if (($(date +%s) >= end)); then
            echo "timeout:${out:-no answer}"
            return 1
        fi
        sleep "$pause"
    done
}

# e2e_failed_units_in EXEC: the number of failed units (EXEC as in
# e2e_wait_systemd), their names on stderr.
e2e_failed_units_in() {
    local out
    out=$(eval "$1 systemctl list-units --state=failed --plain --no-legend --no-pager" \
        </dev/null) || return 1
    if [[ -z $out ]]; then
        echo 0
        return 0
    fi
    awk '{ print "# failed unit: " $1 }' <<<"$out" >&2
    wc -l <<<"$out"
}

# e2e_hook_tmpfs: reads a mountinfo on stdin, prints which of the hook's four
# tmpfs targets are tmpfs mounts there, in a fixed order, space separated
# ("/run /run/lock /tmp /var/log/journal" when all are).
e2e_hook_tmpfs() {
    awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "tmpfs") t[$5] = 1 }
         END { s = ""
               n = split("/run /run/lock /tmp /var/log/journal", want, " ")
               for (j = 1; j <= n; j++) if (want[j] in t) s = s (s == "" ? "" : " ") want[j]
               print s }'
}

# e2e_oci_archive ROOTFS OUT NAME CONFIG: writes OUT, an OCI image archive
# (tar of an image layout) with one uncompressed layer holding ROOTFS, the
# image config's "config" object CONFIG (JSON: Cmd, StopSignal, ...), and
# NAME (e.g. docker.io/library/x:tag) as io.containerd.image.name, for
# `ctr images import`.
e2e_oci_archive() {
    local rootfs=$1 out=$2 name=$3 cfg=$4 d arch dig size cdig csize mdig msize
    d=$(mktemp -d "$E2E_TMP/oci.XXXXXX")
    mkdir -p "$d/blobs/sha256"
    arch=$(dpkg --print-architecture)
    tar --numeric-owner --xattrs --xattrs-include='security.capability' \
        -C "$rootfs" -cf "$d/layer" . || return 1
    dig=$(sha256sum <"$d/layer" | cut -d' ' -f1)
    size=$(stat -c %s "$d/layer")
    mv "$d/layer" "$d/blobs/sha256/$dig"
    jq -cn --argjson c "$cfg" --arg diff "sha256:$dig" --arg arch "$arch" '
        {architecture: $arch, os: "linux", config: $c,
         rootfs: {type: "layers", diff_ids: [$diff]}}' >"$d/cfg"
    cdig=$(sha256sum <"$d/cfg" | cut -d' ' -f1)
    csize=$(stat -c %s "$d/cfg")
    mv "$d/cfg" "$d/blobs/sha256/$cdig"
    jq -cn --arg c "sha256:$cdig" --argjson cs "$csize" --arg l "sha256:$dig" --argjson ls "$size" '
        {schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
         config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
         layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
        >"$d/man"
    mdig=$(sha256sum <"$d/man" | cut -d' ' -f1)
    msize=$(stat -c %s "$d/man")
    mv "$d/man" "$d/blobs/sha256/$mdig"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
    jq -cn --arg m "sha256:$mdig" --argjson ms "$msize" --arg name "$name" --arg arch "$arch" '
        {schemaVersion: 2,
         manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
                      digest: $m, size: $ms,
                      platform: {architecture: $arch, os: "linux"},
                      annotations: {"io.containerd.image.name": $name,
                                    "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]}' \
        >"$d/index.json"
    tar -C "$d" -cf "$out" oci-layout index.json blobs || return 1
    rm -rf "$d"
}

# ---------------------------------------------------------------- containerd

# e2e_containerd_config DIR [TOP]: prints the private part of a containerd
# config (version 2): root, state, sockets and the opt plugin's path under
# DIR; TOP (lines of top-level keys) goes before the first table. Add the
# test's own tables after it.
e2e_containerd_config() {
    cat <<EOT
version = 2
root = "$1/root"
state = "$1/state"
${2:-}
[grpc]
  address = "$1/containerd.sock"
[ttrpc]
  address = "$1/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$1/opt"
EOT
}

_e2e_ctrd_run_created=()

# e2e_containerd_start DIR: starts containerd with DIR/config.toml (see
# e2e_containerd_config; socket DIR/containerd.sock, log DIR/containerd.log),
# waits until it answers; at exit e2e_containerd_stop DIR runs.
e2e_containerd_start() {
    local dir=$1 i
    # the shims put their sockets in /run/containerd/s whatever the config
    # says; note what exists so that cleanup removes only what we made
    [[ -e /run/containerd ]] || _e2e_ctrd_run_created+=(/run/containerd)
    [[ -e /run/containerd/s ]] || _e2e_ctrd_run_created+=(/run/containerd/s)
    containerd --config "$dir/config.toml" --log-level "${OSH_E2E_CONTAINERD_LOG:-warn}" \
        >"$dir/containerd.log" 2>&1 </dev/null &
    echo "$!" >"$dir/containerd.pid"
    e2e_at_exit "e2e_containerd_stop '$dir'"
    for i in $(seq 100); do
        if ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    e2e_log "containerd did not start:"
    tail -n 20 "$dir/containerd.log" | sed 's/^/#   /' >&2
    return 1
}

# e2e_ctr DIR ARGS...: ctr talking to the containerd of DIR.
e2e_ctr() {
    local dir=$1
    shift
    ctr --address "$dir/containerd.sock" "$@"
}

# e2e_containerd_stop DIR: kills and deletes every task and container in
# every namespace, stops containerd, ends shims left behind, unmounts what is
# mounted under DIR, and removes the shim sockets (and /run/containerd, if it
# made it) that are no longer in use. Never fails (a subshell without
# errexit: it also runs from the EXIT trap).
e2e_containerd_stop() (
    set +e
    local dir=$1 ns id pid p i s
    [[ -f $dir/containerd.pid ]] || return 0
    pid=$(cat "$dir/containerd.pid")
    if kill -0 "$pid" 2>/dev/null; then
        for ns in $(e2e_ctr "$dir" namespaces ls -q 2>/dev/null); do
            for id in $(e2e_ctr "$dir" -n "$ns" tasks ls -q 2>/dev/null); do
                e2e_ctr "$dir" -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
                for i in $(seq 50); do
                    e2e_ctr "$dir" -n "$ns" tasks delete "$id" >/dev/null 2>&1 && break
                    sleep 0.1
                done
            done
            for id in $(e2e_ctr "$dir" -n "$ns" containers ls -q 2>/dev/null); do
                e2e_ctr "$dir" -n "$ns" containers delete "$id" >/dev/null 2>&1
            done
        done
        kill "$pid" 2>/dev/null
        for i in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$dir/containerd.pid"
    # shims of this containerd (their -address is our socket) that outlived it
    for p in /proc/[0-9]*; do
        if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "-address $dir/containerd.sock "; then
            e2e_log "cleanup: killing shim ${p#/proc/}"
            kill -KILL "${p#/proc/}" 2>/dev/null
        fi
    done
    _e2e_umount_under "$dir"
    # shim sockets nobody listens on any more
    if [[ -d /run/containerd/s ]]; then
        for s in /run/containerd/s/*; do
            [[ -S $s ]] || continue
            grep -qF " $s" /proc/net/unix || rm -f "$s"
        done
    fi
    for ((i = ${#_e2e_ctrd_run_created[@]} - 1; i >= 0; i--)); do
        rmdir "${_e2e_ctrd_run_created[i]}" 2>/dev/null
    done
    return 0
)

# e2e_cgroup_hold: creates /osh-e2e/<this test's id>-hold in every mounted
# hierarchy, removed at exit (e2e_no_leftovers ignores it).
# e2e_rm_cgroup removes /osh-e2e once it is empty; a concurrent test's
# runtime creating /osh-e2e/NAME at that moment fails with "mkdir
# .../osh-e2e/NAME: no such file or directory". Holding a child keeps
# /osh-e2e from being empty while this test runs.
e2e_cgroup_hold() {
    local mp i hold
    hold=/osh-e2e/$(basename "$E2E_TMP")-hold
    while read -r mp; do
        for i in 1 2 3 4 5; do
            mkdir -p "$mp$hold" 2>/dev/null && break
            sleep 0.05
        done
    done < <(findmnt -rn -t cgroup,cgroup2 -o TARGET)
    e2e_at_exit "e2e_rm_cgroup '$hold'"
}

# e2e_no_leftovers: e2e_leftovers, but for the e2e_cgroup_hold directory;
# prints what is left on stderr.
e2e_no_leftovers() {
    local out e
    out=$(e2e_leftovers | grep -v -- '-hold$') || true
    [[ -z $out ]] && return 0
    while IFS= read -r e; do printf '# left behind: %s\n' "$e"; done <<<"$out" >&2
    return 1
}

# ---------------------------------------------------------------- CRI
# Helpers of test-cri.sh and test-cri-current.sh. They use those scripts'
# globals HOOK, D (the private containerd's dir, see e2e_containerd_start;
# the client's stubs in D/gen, its work dir D/work) and CG (the pods'
# cgroup parent).

# shellcheck disable=SC2034  # used by the test scripts
{
    E2E_CRI_DIR=$_E2E_DIR/cri                     # the CRI client, its proto, pause.c
    E2E_EX=$(cd "$_E2E_DIR/../.." && pwd)/examples  # the examples they configure with
    E2E_CRI_PAUSE=localhost/osh-pause:1            # the sandbox image
    E2E_CRI_PLAIN=runc                             # a handler without the hook
}

# _e2e_cri_configure RUNTIME: `oci-systemd-hook configure containerd` into
# $D/configured.toml, its base spec $D/cfg-spec.json, RUNTIME as the
# wrapper.
_e2e_cri_configure() {
    "$HOOK" configure --config "$D/configured.toml" --base-spec "$D/cfg-spec.json" \
        --runtime-path "$1" --hook-path "$HOOK" containerd
}

# e2e_cri_configure RUNTIME MSG: _e2e_cri_configure, the check MSG (what it
# printed on failure).
e2e_cri_configure() {
    if _e2e_cri_configure "$1" >"$D/configure.out" 2>&1; then
        ok "$2"
    else
        fail "$2"
        sed 's/^/#   /' "$D/configure.out" >&2
    fi
}

# e2e_cri_configure_again RUNTIME: the check that a second
# _e2e_cri_configure changes no byte of the config or the base spec.
e2e_cri_configure_again() {
    local sums
    # shellcheck disable=SC2034  # read by the eval'd check
    sums=$(sha256sum "$D/configured.toml" "$D/cfg-spec.json")
    _e2e_cri_configure "$1" >/dev/null 2>&1 || true
    # shellcheck disable=SC2016  # eval'd
    e2e_check "configure containerd: a second run changes no byte" \
        eval '[[ $(sha256sum "$D/configured.toml" "$D/cfg-spec.json") == "$sums" ]]'
}

# e2e_cri_images PAUSE IMAGE MSG: the check that the client's stubs compile
# from tests/e2e/cri/runtime_v1_min.proto; then a static pause(2) program
# (tests/e2e/cri/pause.c) as the image PAUSE and the cached bookworm rootfs
# as IMAGE (booting /sbin/init, StopSignal SIGRTMIN+3) imported into
# containerd's k8s.io namespace: the check MSG (with the time it took), or
# a failed check and the end of the run.
e2e_cri_images() {
    local pause=$1 image=$2 msg=$3 t0
    local path_env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    e2e_check "CRI stubs compiled from tests/e2e/cri/runtime_v1_min.proto" \
        "$E2E_PY" -m grpc_tools.protoc -I "$E2E_CRI_DIR" --python_out="$D/gen" --grpc_python_out="$D/gen" \
        runtime_v1_min.proto
    t0=$(_e2e_now)
    mkdir -p "$D/pause-root"
    if gcc -static -O2 -Wall -Wextra -Werror -o "$D/pause-root/pause" "$E2E_CRI_DIR/pause.c" &&
        e2e_oci_archive "$D/pause-root" "$D/pause.tar" "$pause" '{"Entrypoint": ["/pause"]}' &&
        e2e_ctr "$D" -n k8s.io images import "$D/pause.tar" >/dev/null &&
        e2e_oci_archive "$(e2e_image bookworm)" "$D/image.tar" "$image" \
            '{"Cmd": ["/sbin/init"], "StopSignal": "SIGRTMIN+3", "Env": ["'"$path_env"'"]}' &&
        e2e_ctr "$D" -n k8s.io images import "$D/image.tar" >/dev/null; then
        ok "$msg ($(_e2e_since "$t0") s)"
    else
        fail "images imported: $pause, $image"
        e2e_done
    fi
    rm -f "$D/pause.tar" "$D/image.tar"
}

# e2e_cri_run TAG EXPECT [HANDLER [CLIENT-ARGS...]]: runs
# tests/e2e/cri/cri_client.py on examples/k8s/pod-systemd.yaml (EXPECT:
# boot or noboot; HANDLER instead of the RuntimeClass's); its "ok"/"not
# ok" lines become checks of this script ("TAG: ..."), its "#" lines
# notes; a client that breaks is a failed check.
e2e_cri_run() {
    local tag=$1 expect=$2 h=${3:-} line rc=''
    shift $(($# > 2 ? 3 : 2))
    local args=(run --socket "$D/containerd.sock" --gen "$D/gen" --pod "$E2E_EX/k8s/pod-systemd.yaml"
        --runtimeclass "$E2E_EX/k8s/runtimeclass.yaml" --expect "$expect" --hook "$HOOK"
        --cgroup-parent "$CG" --workdir "$D/work")
    [[ -n $h ]] && args+=(--handler "$h")
    args+=("$@")
    while IFS= read -r line; do
        case $line in
        "ok"$'\t'*) ok "$tag: ${line#*$'\t'}" ;;
        "not ok"$'\t'*) fail "$tag: ${line#*$'\t'}" ;;
        "__rc "*) rc=${line#__rc } ;;
        *) printf '%s\n' "$line" >&2 ;;
        esac
    done < <(
        set +e # errexit is inherited here: the status line must come anyway
        timeout 300 "$E2E_PY" "$E2E_CRI_DIR/cri_client.py" "${args[@]}" 2>"$D/client-$expect.err"
        echo "__rc $?"
    )
    if [[ $rc != 0 ]]; then
        fail "$tag: the client ($expect) exited ${rc:-?}"
        tail -n 20 "$D/client-$expect.err" | sed 's/^/#   /' >&2
    fi
}

# e2e_cri_pod TAG WHAT EXPECT [HANDLER [CLIENT-ARGS...]]: e2e_cri_run, then
# a note "WHAT: <seconds> s".
e2e_cri_pod() {
    local tag=$1 what=$2 t0
    shift 2
    t0=$(_e2e_now)
    e2e_cri_run "$tag" "$@"
    e2e_log "$what: $(_e2e_since "$t0") s"
}

# e2e_cri_pods TAG WHAT PLAIN: the pod under its RuntimeClass's handler
# boots (note "WHAT: ..."), under the handler PLAIN (no hook) it does not;
# with an emptyDir (medium: Memory) at /run, as kubelet mounts it, it is
# prepared inside and boots.
e2e_cri_pods() {
    e2e_cri_pod "$1" "$2" boot
    e2e_cri_pod "$1" "pod with handler $3" noboot "$3"
    e2e_cri_pod "$1" "pod with an emptyDir at /run" boot "" --emptydir-run
}

# e2e_cri_stop: the check that no container or task is left in containerd's
# k8s.io namespace, then containerd stops (e2e_containerd_stop).
e2e_cri_stop() {
    local left
    left=$(e2e_ctr "$D" -n k8s.io containers ls -q 2>/dev/null; e2e_ctr "$D" -n k8s.io tasks ls -q 2>/dev/null) || true
    e2e_check "no containers or tasks left in containerd (${left:-none})" test -z "$left"
    e2e_containerd_stop "$D"
}
