#!/bin/bash
# shellcheck disable=SC2317,SC2016,SC2001  # checks are called by name; SETUP code is eval'd
# Hostile images: real container starts under runc on this hybrid host with
# the hook at createRuntime, each on a Debian bookworm rootfs (an overlay of
# the cached image) changed in one hostile way: symlinks out of the rootfs
# (absolute, relative `../../..`, magic /proc links, loops, a 52-link
# chain) at /run, /tmp, /var/log/journal, /var/log, /var, /var/lib,
# /var/lib/systemd, /etc, /etc/machine-id, /run/host, /sys/fs/cgroup and
# /sbin/init; /etc missing; /etc/machine-id a directory, FIFO, device or
# hard link (with a writable and a read-only rootfs); /tmp and
# /var/log/journal regular files; a journal dir with a hostile owner and
# planted links; a symlinked rootfs; what the copy-up copies into the new
# tmpfs (links, FIFOs, devices, sockets, setuid files, too many bytes,
# entries or levels, the hook's own "done" marker); and two races: /run
# swapped between a directory and a symlink, and files under /run swapped
# with links to the canary's shadow, while containers are created.
#
# Every case checks
#   (a) the host: a canary tree (/var/tmp/osh-canary-XXXXXX, where the
#       symlinks point), /etc/shadow, /etc/machine-id, /etc/hostname,
#       /etc/passwd, /dev/null, whatever the hook could create in /, /etc,
#       /run, /tmp, /var, /var/log, /var/log/journal, and the host mount
#       table are unchanged (hostile-lib.sh); and, when the hook exited 0,
#       that the container's mount namespace got no mount outside the
#       rootfs (hostile-probe.sh runs right after the hook);
#   (b) the outcome this case must have, one of
#       run      the container runs and systemd boots (running/degraded);
#       hookok   the hook exits 0 with its mounts inside the rootfs; the
#                runtime may fail later for its own reason (named);
#       refuse   runc fails to create it with the hook's one line
#                `oci-systemd-hook: <id12>: ...` naming the cause;
#       rtrefuse runc itself refuses before any hook runs.
#
# Notes, findings and the mutation check: hostile-NOTES.md,
# hostile-mutants.sh.
#
#   tests/e2e/test-hostile.sh                 # as root, about 1.5 min
#   HOOK=/abs/oci-systemd-hook tests/e2e/...  # another build
#   OSH_HOSTILE_ONLY='mid-|race' ...          # only cases matching an ERE
#   OSH_HOSTILE_RACE_STARTS=30 OSH_HOSTILE_RACE_SECONDS=60 ...
#   OSH_E2E_KEEP=1 ...                        # keep bundles and logs
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=hostile-lib.sh disable=SC1091
. "$(dirname "$0")/hostile-lib.sh"

RACE_STARTS=${OSH_HOSTILE_RACE_STARTS:-40}
RACE_SECONDS=${OSH_HOSTILE_RACE_SECONDS:-45}

e2e_init
hx_init
IMAGE=$(e2e_image "$SUITE")   # build before any snapshot
C=$HX_CANARY
UP=../../../../../../../../../../../..   # more `..` than any path is deep

# hx_case NAME EXPECT CAUSE [OPTION...] -- SETUP
#   EXPECT   run | hookok | refuse | rtrefuse (see the top)
#   CAUSE    ERE: the hook's line (refuse) or runc's error (hookok, rtrefuse)
#   OPTION   walk          OSH_FORCE_WALK=1 in the hook's env (the userspace
#                          walk instead of openat2)
#            ro            root.readonly (machine-id bound from /run)
#            journal=PATH  where the journal tmpfs must land (rootfs path)
#            in=FUNC       more checks while the container runs
#            post=FUNC     more checks after it stopped (rootfs still there)
#            ls=D1,D2      the probe lists these rootfs dirs (2 levels) as the
#                          container's namespace has them after the hook, in
#                          $B/probe.ls (systemd cleans /tmp when it boots)
#   SETUP    shell code run in the rootfs (cwd) with B (bundle), R (rootfs),
#            C (canary), UP (many `..`) set
# Functions see: id, id12, B, R, MID (the expected machine-id), secs.
hx_case() {
    local name=$1 expect=$2 cause=$3 walk=0 ro=false journal=/var/log/journal
    local infn='' postfn='' lsdirs='' setup rc st err secs t0 probe=0 out d
    shift 3
    while [[ $# -gt 0 && $1 != -- ]]; do
        case $1 in
        walk) walk=1 ;;
        ro) ro=true ;;
        journal=*) journal=${1#journal=} ;;
        in=*) infn=${1#in=} ;;
        post=*) postfn=${1#post=} ;;
        ls=*) lsdirs=${1#ls=} ;;
        *) e2e_log "hx_case: bad option $1"; return 1 ;;
        esac
        shift
    done
    setup=$2
    hx_next hx "$name" || return 0
    e2e_bundle "$B" "$SUITE" stage=createRuntime readonly=$ro
    MID=$(jq -r '.process.env[] | select(startswith("container_uuid="))' "$B/config.json")
    MID=${MID#container_uuid=}
    MID=${MID//-/}
    local pargs=("$B/probe")
    for d in ${lsdirs//,/ }; do pargs+=("$R/$d"); done
    jq --arg probe "$HX_DIR/hostile-probe.sh" --argjson walk "$walk" '
        .hooks.createRuntime[0] += (if $walk == 1 then {env: ["OSH_FORCE_WALK=1"]} else {} end)
        | .hooks.createRuntime += [{path: $probe, args: (["hostile-probe"] + $ARGS.positional)}]' \
        "$B/config.json" --args "${pargs[@]}" >"$B/config.json.new"
    mv "$B/config.json.new" "$B/config.json"
    if ! (cd "$R" && B=$B R=$R C=$C UP=$UP eval "$setup"); then
        fail "$id: setup"
        e2e_bundle_cleanup "$B"
        return 0
    fi
    hx_snapshot "$B/snap.before"

    t0=$(_e2e_now)
    rc=0
    _e2e_containers+=("runc|$id|$B")
    timeout 60 runc --root "$E2E_STATE/runc" --log "$B/runtime.log" run -d --bundle "$B" "$id" \
        </dev/null >"$B/console.log" 2>&1 || rc=$?
    secs=$(_e2e_since "$t0")
    [[ -s $B/probe.cmi ]] && probe=1
    err=$(hx_runc_hook_stderr "$B/console.log")
    out=$(tr '\n' ' ' <"$B/console.log" | cut -c1-300)

    case $expect in
    run)
        if ((rc != 0)); then
            fail "$id: runs (runc run failed after ${secs}s: $out)"
        else
            st=$(e2e_wait_running runc "$id" 30) || true
            if [[ $st == running || $st == degraded ]]; then
                ok "$id: runs, systemd $st (created in ${secs}s)"
            else
                fail "$id: runs (systemd: $st)"
                e2e_dump "$B"
            fi
            [[ -n $infn ]] && "$infn"
        fi
        e2e_check "$id: the hook exited 0 (probe ran after it)" test "$probe" = 1
        ;;
    hookok)
        if ((probe == 1)) && [[ -z $err ]] && { ((rc == 0)) || grep -Eq -e "$cause" "$B/console.log"; }; then
            ok "$id: the hook exited 0; runc: ${out:-started}"
        else
            fail "$id: the hook exits 0, runc fails only for /$cause/ (rc=$rc probe=$probe: $out)"
        fi
        ;;
    refuse)
        if ((rc != 0 && rc != 124 && probe == 0)) && hx_line_ok "$err" "$id12" "$cause"; then
            ok "$id: refused in ${secs}s: $err"
        else
            fail "$id: refused with one line /$cause/ (rc=$rc probe=$probe: $out)"
        fi
        ;;
    rtrefuse)
        if ((rc != 0 && probe == 0)) && ! grep -q 'oci-systemd-hook:' "$B/console.log" &&
            grep -Eq -e "$cause" "$B/console.log"; then
            ok "$id: runc refuses before the hook: $out"
        else
            fail "$id: runc refuses with /$cause/ (rc=$rc probe=$probe: $out)"
        fi
        ;;
    esac

    e2e_stop runc "$id" 20 >/dev/null || true
    hx_snapshot "$B/snap.after"
    e2e_check "$id: host unchanged" e2e_host_compare "$B/snap.before" "$B/snap.after"
    if ((probe == 1)); then
        e2e_check "$id: no mount outside the rootfs in the container's namespace" \
            hx_no_outside "$B" "$R"
        e2e_check "$id: tmpfs on /run, /run/lock, /tmp, $journal inside the rootfs" \
            hx_hook_tmpfs "$B" "$R" "$journal"
    fi
    [[ -n $postfn ]] && "$postfn"
    [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$B"
    return 0
}

hx_no_outside() { # BUNDLE ROOTFS
    local bad
    bad=$(hx_outside "$1/probe.cmi" "$1/probe.hmi" "$2")
    [[ -z $bad ]] && return 0
    e2e_log "mounts outside the rootfs:"
    sed 's/^/#   /' <<<"$bad" >&2
    return 1
}

hx_hook_tmpfs() { # BUNDLE ROOTFS JOURNAL: the hook's tmpfs, where they belong
    local b=$1 r=$2 d miss=0 new
    new=$(comm -23 <(hx_mounts "$b/probe.cmi") <(hx_mounts "$b/probe.hmi"))
    for d in /run /run/lock /tmp "$3"; do
        if ! awk -v m="$r$d" '$1 == m && $2 == "tmpfs" && $4 ~ /nosuid/ && $4 ~ /nodev/ { f = 1 }
                             END { exit !f }' <<<"$new"; then
            e2e_log "no nosuid,nodev tmpfs at $r$d"
            miss=1
        fi
    done
    return "$miss"
}

# ------------------------------------------------------------ case checks

in_mid() { # the container sees a regular /etc/machine-id with the uuid
    local got
    got=$(e2e_exec runc "$id" sh -c 'test -f /etc/machine-id && test ! -L /etc/machine-id && cat /etc/machine-id') || true
    e2e_check "$id: /etc/machine-id in the container is a regular file = $MID (got ${got:-nothing})" \
        test "$got" = "$MID"
}

post_mid() { # rw rootfs: the entry was replaced by a regular file
    e2e_check "$id: rootfs /etc/machine-id is now a regular file = $MID" \
        eval '[[ -f $R/etc/machine-id && ! -L $R/etc/machine-id && $(cat "$R/etc/machine-id") == "$MID" ]]'
}

in_runhost() {
    local got
    got=$(e2e_exec runc "$id" sh -c 'test -d /run/host && test ! -L /run/host && cat /run/host/container-manager') || true
    e2e_check "$id: /run/host in the container is the hook's (container-manager=${got:-?})" \
        test "$got" = oci-systemd-hook
}

post_runhost() { # the image's link is untouched (the tmpfs hid it)
    e2e_check "$id: the image's /run/host link is still there" test -L "$R/run/host"
}

# probe_ls REL: the probe's line for the rootfs path REL, without the path
probe_ls() { awk -v p="$R$1" '$1 == p { $1 = ""; sub(/^ /, ""); print; f = 1 } END { if (!f) print "absent" }' "$B/probe.ls"; }

post_culinks() { # copied as links with the same targets, nothing followed
    local f got='' want
    want="l $C/etc/shadow|l $C/run|l $UP$C/etc/shadow|l /etc/shadow|l $C/var/log|l $C/etc"
    for f in /run/x /run/d /tmp/rel /tmp/y /var/log/journal/z /run/sub/e; do
        got+=$(probe_ls "$f" | awk '{ print $1, $4 }')"|"
    done
    got=${got%|}
    e2e_check "$id: image links copied as links (got $got)" test "$got" = "$want"
}

post_cuspecial() { # FIFOs made anew, devices and sockets skipped, modes kept
    local f got=''
    for f in /run/fifo /tmp/fifo /run/null /tmp/sda /run/sock /tmp/suid /tmp/own; do
        got+="$(probe_ls "$f" | awk '{ print $1 ($2 ? " " $2 " " $3 : "") }')|"
    done
    e2e_check "$id: FIFOs made, devices and sockets skipped, modes and owners kept (got $got)" \
        test "$got" = "p 644 0:0|p 644 0:0|absent|absent|absent|f 4755 0:0|f 600 12345:12345|"
}

post_varlog() { # the journal mount point was made inside the rootfs
    e2e_check "$id: $C/var/log/journal created inside the rootfs only" \
        test -d "$B/upper$C/var/log/journal"
}

in_marker() {
    in_mid
    in_runhost
    local cg
    cg=$(e2e_exec runc "$id" stat -fc %T /sys/fs/cgroup) || true
    e2e_check "$id: the hook bound the container's cgroup2 at /sys/fs/cgroup (got ${cg:-?})" test "$cg" = cgroup2fs
}

post_varlib() { # /var/lib/systemd made and mounted inside the rootfs
    e2e_check "$id: $C/var/lib/systemd created inside the rootfs only" test -d "$B/upper$C/var/lib/systemd"
    e2e_check "$id: tmpfs at rootfs$C/var/lib/systemd" \
        eval 'hx_mounts "$B/probe.cmi" | grep -q "^$R$C/var/lib/systemd tmpfs "'
}

post_varroot() {
    e2e_check "$id: /log/journal created inside the rootfs" test -d "$B/upper/log/journal"
}

post_hardlink() { # the other name of the hard link keeps its content
    e2e_check "$id: the hard-linked /etc/osh-other is unchanged" \
        eval '[[ $(cat "$R/etc/osh-other") == precious ]]'
}

post_hardlink_rw() {
    post_hardlink
    post_mid
    e2e_check "$id: /etc/osh-other now has 1 link" eval '[[ $(stat -c %h "$R/etc/osh-other") == 1 ]]'
}

post_journal() { # nothing chowned or followed
    e2e_check "$id: the journal dir keeps owner and mode ($(cat "$B/journal.stat"))" \
        eval '[[ $(stat -c "%u:%g %a" "$R/var/log/journal") == "$(cat "$B/journal.stat")" ]]'
    e2e_check "$id: the planted links are unchanged" \
        eval '[[ $(readlink "$R/var/log/journal/x") == /etc/shadow && $(readlink "$R/var/log/journal/y") == "$C/etc/shadow" ]]'
}

post_shadow() { # the image's own /etc/shadow is untouched too
    e2e_check "$id: the image's /etc/shadow is unchanged" cmp -s "$R/etc/shadow" "$IMAGE/etc/shadow"
    post_mid
}

post_explain() { # detection did not follow the link out of the rootfs
    local reason
    reason=$("$HOOK" explain "$B" 2>&1 | sed -n 's/^reason: //p')
    e2e_check "$id: detection stays in the rootfs (reason: $reason)" \
        grep -q 'is an init path (resolving `/sbin/init` in the rootfs: .*No such file' <<<"$reason"
}

# hx_case_walk NAME EXPECT CAUSE WALK_CAUSE [OPTION...] -- SETUP: hx_case
# NAME, then hx_case NAME-walk (option walk) with the same setup, where
# WALK_CAUSE is the cause expected.
hx_case_walk() {
    local name=$1 expect=$2 cause=$3 wcause=$4
    shift 4
    hx_case "$name" "$expect" "$cause" "$@"
    hx_case "$name-walk" "$expect" "$wcause" walk "$@"
}

chain() { # N TARGET: /var/log -> /osh-chain/l1 -> ... -> lN -> TARGET
    local n=$1 i
    rm -rf var/log
    mkdir -p osh-chain "${2#/}/journal"
    for ((i = 1; i < n; i++)); do ln -s "/osh-chain/l$((i + 1))" "osh-chain/l$i"; done
    ln -s "$2" "osh-chain/l$n"
    ln -s /osh-chain/l1 var/log
}

# ------------------------------------------------------------ cases

# symlinks to the canary: absolute and relative
hx_case run-abs refuse 'tmpfs on `/run`: `/run` is a symlink' -- 'rm -rf run && ln -s $C/run run'
hx_case run-rel refuse 'tmpfs on `/run`: `/run` is a symlink' -- 'rm -rf run && ln -s $UP$C/run run'
# a link to a directory that is there in the image: refused all the same
# (the worker that fills /run opens it as the hook's own apply would)
hx_case run-inside refuse 'tmpfs on `/run`: `/run` is a symlink' -- 'rm -rf run && mkdir -p srv/run && ln -s /srv/run run'
hx_case tmp-abs refuse 'tmpfs on `/tmp`: `/tmp` is a symlink' -- 'rm -rf tmp && ln -s $C/tmp tmp'
hx_case tmp-rel refuse 'tmpfs on `/tmp`: `/tmp` is a symlink' -- 'rm -rf tmp && ln -s $UP$C/tmp tmp'
hx_case journal-abs refuse '`/var/log/journal` is a symlink' -- \
    'rm -rf var/log/journal && ln -s $C/var/log/journal var/log/journal'
hx_case journal-rel refuse '`/var/log/journal` is a symlink' -- \
    'rm -rf var/log/journal && ln -s $UP$C/var/log/journal var/log/journal'
# an intermediate link is followed, but inside the rootfs: the journal
# mount point is made (mkdir) at rootfs/$C/var/log/journal
hx_case varlog-abs run '' journal="$C/var/log/journal" post=post_varlog -- \
    'rm -rf var/log && ln -s $C/var/log var/log'
hx_case_walk varlog-rel run '' '' journal="$C/var/log/journal" post=post_varlog -- \
    'rm -rf var/log && ln -s $UP$C/var/log var/log'
hx_case etc-abs refuse 'machine-id: `/etc` is a symlink' -- 'rm -rf etc && ln -s $C/etc etc'
hx_case etc-rel refuse 'machine-id: `/etc` is a symlink' -- 'rm -rf etc && ln -s $UP$C/etc etc'
# /etc/machine-id is replaced by rename, never written through
hx_case mid-abs run '' in=in_mid post=post_mid -- \
    'rm -f etc/machine-id && ln -s $C/etc/machine-id etc/machine-id'
hx_case mid-rel run '' in=in_mid post=post_mid -- \
    'rm -f etc/machine-id && ln -s $UP$C/etc/machine-id etc/machine-id'
hx_case mid-shadow-abs run '' in=in_mid post=post_shadow -- \
    'rm -f etc/machine-id && ln -s /etc/shadow etc/machine-id'
hx_case mid-shadow-rel run '' in=in_mid post=post_shadow -- \
    'rm -f etc/machine-id && ln -s $UP/etc/shadow etc/machine-id'
# /run/host a link in the image: the image's /run is copied into the new
# tmpfs (copy-up, links as links), so the link is there again; the hook
# must not write through it (it refuses)
hx_case runhost-abs refuse '/run/host: open /run/host: Not a directory' post=post_runhost -- \
    'ln -s $C/run/host run/host'
hx_case runhost-rel refuse '/run/host: open /run/host: Not a directory' post=post_runhost -- \
    'ln -s $UP$C/run/host run/host'

# wrong file types, missing /etc
hx_case tmp-file refuse 'tmpfs on `/tmp`: `/tmp` in the rootfs is not a directory' -- \
    'rm -rf tmp && echo x >tmp'
hx_case journal-file refuse '`/var/log/journal` in the rootfs is not a directory' -- \
    'rm -rf var/log/journal && echo x >var/log/journal'
hx_case etc-missing run '' post=post_mid -- 'rm -rf etc'
hx_case mid-dir refuse 'machine-id: /etc/machine-id in the rootfs is a directory' -- \
    'rm -f etc/machine-id && mkdir etc/machine-id && echo x >etc/machine-id/f'
hx_case mid-fifo run '' in=in_mid post=post_mid -- 'rm -f etc/machine-id && mkfifo etc/machine-id'
hx_case mid-dev run '' in=in_mid post=post_mid -- 'rm -f etc/machine-id && mknod etc/machine-id c 1 3'
hx_case mid-hardlink run '' in=in_mid post=post_hardlink_rw -- \
    'rm -f etc/machine-id && echo precious >etc/osh-other && ln etc/osh-other etc/machine-id'
# read-only rootfs: /run/machine-id is bound over /etc/machine-id, which
# must then be a regular file
hx_case ro-mid-abs refuse 'machine-id: /etc/machine-id in the rootfs is not a regular file' ro -- \
    'rm -f etc/machine-id && ln -s $C/etc/machine-id etc/machine-id'
hx_case ro-mid-fifo refuse 'machine-id: /etc/machine-id in the rootfs is not a regular file' ro -- \
    'rm -f etc/machine-id && mkfifo etc/machine-id'
hx_case ro-mid-hardlink run '' ro in=in_mid post=post_hardlink -- \
    'rm -f etc/machine-id && echo precious >etc/osh-other && ln etc/osh-other etc/machine-id'

# loops and chains
hx_case loop-run refuse 'tmpfs on `/run`: `/run` is a symlink' -- 'rm -rf run && ln -s /run run'
hx_case_walk loop-varlog refuse '`/var/log/journal`.*Too many levels of symbolic links' \
    'too many levels of symlinks in `/var/log/journal`' -- 'rm -rf var/log && ln -s /var/log var/log'
hx_case_walk chain52-varlog refuse '`/var/log/journal`.*Too many levels of symbolic links' \
    'too many levels of symlinks in `/var/log/journal`' -- 'chain 50 /var/log.real'
hx_case chain30-varlog run '' journal=/var/log.real/journal -- 'chain 30 /var/log.real'

# magic links
hx_case_walk tmp-magic refuse 'tmpfs on `/tmp`: `/tmp` is a symlink' \
    'tmpfs on `/tmp`: `/tmp` is a symlink' -- 'rm -rf tmp && ln -s /proc/1/root/tmp tmp'
hx_case_walk varlog-magic refuse '`/var/log/journal`.*Too many levels of symbolic links' \
    'link on procfs \(refusing magic links\)' -- 'rm -rf var/log && ln -s /proc/1/root/var/log var/log'
hx_case etc-procself refuse 'machine-id: `/etc` is a symlink' -- 'rm -rf etc && ln -s /proc/self/root/etc etc'

# /sbin/init out of the rootfs: detection resolves it inside the rootfs
# only (so it is "an init path", and systemd by name). Through the
# container's own /proc/1/root it boots; a host-only path makes runc's exec
# fail after the hook did its work.
hx_case init-proc run '' post=post_explain -- \
    'rm -f usr/sbin/init && ln -s /proc/1/root/usr/lib/systemd/systemd usr/sbin/init'
hx_case init-hostonly hookok 'exec: "/sbin/init": stat /sbin/init: no such file or directory' post=post_explain -- \
    'rm -f usr/sbin/init && ln -s $C/bin/systemd usr/sbin/init'

# persistent journal dir with a hostile owner and planted links
hx_case journal-hostile run '' post=post_journal -- \
    'chown 12345:12345 var/log/journal && chmod 0750 var/log/journal &&
     ln -s /etc/shadow var/log/journal/x && ln -s $C/etc/shadow var/log/journal/y &&
     stat -c "%u:%g %a" var/log/journal >"$B/journal.stat"'

# more from SECURITY-NOTES: /var -> /, /sys/fs/cgroup a link (runc's sysfs
# hides it)
hx_case_walk var-root run '' '' journal=/log/journal post=post_varroot -- 'rm -rf var && ln -s / var'
hx_case sys-cgroup-link run '' -- 'mkdir -p sys/fs && ln -s $C/sys/fs/cgroup sys/fs/cgroup'

# the bundle's rootfs path a symlink to the real rootfs: runc 1.1.5 refuses
# that itself; a createRuntime hook before ours then swaps in a config.json
# with that root.path (as an engine that accepts it would pass), and the
# hook must resolve it to the very directory it finds in the container.
hx_case rootfs-link-runc rtrefuse 'invalid rootfs: not an absolute path, or a symlink' -- \
    'ln -s rootfs "$B/rootfs-link" &&
     jq ".root.path = \"rootfs-link\"" "$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"'
hx_case rootfs-link run '' -- \
    'ln -s rootfs "$B/rootfs-link" &&
     jq ".root.path = \"rootfs-link\"" "$B/config.json" >"$B/config.hook.json" &&
     jq --arg s "$HX_DIR/hostile-setconfig.sh" --arg src "$B/config.hook.json" --arg dst "$B/config.json" \
        ".hooks.createRuntime = [{path: \$s, args: [\"hostile-setconfig\", \$src, \$dst]}] + .hooks.createRuntime" \
        "$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"'

# copy-up: what the image has under /run, /tmp, /var/log/journal is copied
# into the new tmpfs; links stay links (never followed), FIFOs are made
# anew (never opened), devices and sockets are skipped, and the amount is
# capped
hx_case cu-links run '' ls=run,tmp,var/log/journal post=post_culinks -- \
    'ln -s $C/etc/shadow run/x && ln -s $C/run run/d && ln -s $UP$C/etc/shadow tmp/rel &&
     ln -s /etc/shadow tmp/y && ln -s $C/var/log var/log/journal/z && mkdir run/sub && ln -s $C/etc run/sub/e'
hx_case cu-special run '' ls=run,tmp post=post_cuspecial -- \
    'mkfifo run/fifo tmp/fifo && mknod run/null c 1 3 && mknod tmp/sda b 8 0 &&
     python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" run/sock &&
     cp /bin/true tmp/suid && chmod 4755 tmp/suid &&
     echo secret >tmp/own && chown 12345:12345 tmp/own && chmod 0600 tmp/own'
hx_case cu-bytes refuse "tmpfs on \`/tmp\`: copying the image's content: .*more than 16777216 bytes to copy" -- \
    'head -c 17M /dev/urandom >tmp/big'
# holes cost nothing: a sparse file far above the cap is copied sparsely
hx_case cu-sparse run '' -- \
    'truncate -s 120M tmp/sparse'
hx_case cu-entries refuse "tmpfs on \`/tmp\`: copying the image's content: .*more than 20000 entries to copy" -- \
    'mkdir tmp/many && (cd tmp/many && seq 1 20001 | xargs touch)'
hx_case cu-depth refuse "tmpfs on \`/run\`: copying the image's content: .*deeper than 32 levels" -- \
    'mkdir -p run/$(printf "d/%.0s" $(seq 1 40))'
# the same with 200-character names: the line must still name the cause
hx_case cu-depth-long refuse "tmpfs on \`/run\`: copying the image's content: .*deeper than 32 levels" -- \
    'n=$(printf "%0200d" 0); (cd run && for i in $(seq 1 40); do mkdir $n && cd $n || exit 1; done)'

# the image ships the hook's "already done" marker in /run: copied up with
# the rest, it must not make the hook skip its work (machine-id, /run/host,
# the cgroup)
hx_case cu-marker run '' in=in_marker post=post_mid -- 'echo >run/.oci-systemd-hook'
# read-only rootfs: /var/lib/systemd gets a tmpfs too
hx_case ro-varlibsystemd-abs refuse 'tmpfs on `/var/lib/systemd`: `/var/lib/systemd` is a symlink' ro -- \
    'rm -rf var/lib/systemd && ln -s $C/var var/lib/systemd'
hx_case ro-varlib-rel run '' ro journal=/var/log/journal post=post_varlib -- \
    'rm -rf var/lib && ln -s $UP$C/var/lib var/lib'

# ------------------------------------------------------------ races

# race NAME "A1 B1 [A2 B2...]" CAUSE SETUP [CHECK]: a second process swaps
# each pair of rootfs entries with renameat2(RENAME_EXCHANGE) in a tight
# loop while
# containers are created over and over (`runc create` runs the
# createRuntime hooks), alternately with openat2 and the walk. Each create
# either succeeds with every mount inside the rootfs (and CHECK, run with
# PID set, passes), or is refused with the hook's one line matching CAUSE;
# the host never changes.
race() {
    local name=$1 pairs=$2 cause=$3 setup=$4 check=${5:-} b r id cc=0 refused=0 bad=0 n=0 t0 i rc p
    local err outside swaps spid tally='' types a
    local -a paths=()
    idx=$((idx + 1))
    hx_selected "$name" || return 0
    b=$E2E_TMP/$(printf 'hx%02d-%s' "$idx" "$name")
    r=$b/rootfs
    if [[ ! -x $E2E_TMP/hostile-swap ]] &&
        ! gcc -O2 -Wall -o "$E2E_TMP/hostile-swap" "$HX_DIR/hostile-swap.c"; then
        fail "$name: compile hostile-swap.c"
        return 0
    fi
    e2e_bundle "$b" "$SUITE" stage=createRuntime
    if ! (cd "$r" && C=$C eval "$setup"); then
        fail "$name: setup"
        return 0
    fi
    for i in 0 1; do
        jq --arg probe "$HX_DIR/hostile-probe.sh" --arg out "$b/probe" --argjson walk "$i" '
            .hooks.createRuntime[0] += (if $walk == 1 then {env: ["OSH_FORCE_WALK=1"]} else {} end)
            | .hooks.createRuntime += [{path: $probe, args: ["hostile-probe", $out]}]' \
            "$b/config.json" >"$b/config.$i.json"
    done
    for p in $pairs; do paths+=("$r/$p"); done
    a=${pairs%% *}
    types=$(stat -c %F "${paths[@]}")
    hx_snapshot "$b/snap.before"
    "$E2E_TMP/hostile-swap" $((RACE_SECONDS + 30)) "${paths[@]}" >"$b/swaps" 2>"$b/swap.err" &
    spid=$!
    t0=$(date +%s)
    for ((i = 1; i <= RACE_STARTS; i++)); do
        (($(date +%s) - t0 < RACE_SECONDS)) || break
        n=$i
        id=$(printf 'hx%02d-%s-%02d' "$idx" "$name" "$i")
        cp "$b/config.$((i % 2)).json" "$b/config.json"
        rm -f "$b/probe.cmi" "$b/probe.hmi"
        _e2e_containers+=("runc|$id|$b")
        rc=0
        timeout 30 runc --root "$E2E_STATE/runc" --log "$b/runtime.log" create --bundle "$b" "$id" \
            </dev/null >"$b/console.log" 2>&1 || rc=$?
        if ((rc == 0)) && [[ -s $b/probe.cmi ]]; then
            cc=$((cc + 1))
            outside=$(hx_outside "$b/probe.cmi" "$b/probe.hmi" "$r")
            if [[ -n $outside ]]; then
                bad=$((bad + 1))
                e2e_log "$id: mounts outside the rootfs: $outside"
            fi
            if [[ -n $check ]]; then
                PID=$(e2e_pid runc "$id") R=$r "$check" || { bad=$((bad + 1)); e2e_log "$id: $check failed"; }
            fi
        else
            err=$(hx_runc_hook_stderr "$b/console.log")
            if ((rc != 0)) && hx_line_ok "$err" "${id:0:12}" "$cause" 2>/dev/null; then
                refused=$((refused + 1))
                tally+=$'\n'"${err#oci-systemd-hook: * }"
            else
                bad=$((bad + 1))
                e2e_log "$id: rc=$rc, unexpected: $(tr '\n' ' ' <"$b/console.log")"
            fi
        fi
        _e2e_forget runc "$id"
    done
    kill -TERM "$spid" 2>/dev/null || true
    wait "$spid" || true
    swaps=$(cat "$b/swaps" 2>/dev/null || true)
    [[ -s $b/swap.err ]] && e2e_log "swap: $(cat "$b/swap.err")"
    [[ -n $tally ]] && sort <<<"${tally#$'\n'}" | uniq -c | sed 's/^/#   refused: /' >&2
    e2e_check "$name: $n creates while $a was swapped ${swaps:-?} times in $(($(date +%s) - t0))s: $cc created, all inside the rootfs${check:+ and $check}, $refused refused by the hook, $bad otherwise" \
        test "$bad" = 0 -a "$n" -gt 0 -a "${swaps:-0}" -gt 0
    RACE_CC=$cc RACE_REFUSED=$refused
    e2e_check "$name: $pairs: as before after an even number of swaps" \
        test "$(stat -c %F "${paths[@]}")" = "$types"
    hx_snapshot "$b/snap.after"
    e2e_check "$name: host unchanged" e2e_host_compare "$b/snap.before" "$b/snap.after"
    [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$b"
}

# /run (a directory of the upper layer: overlayfs renames only those) and
# a symlink to the canary's run dir
race race-run 'run run.swap' \
    'tmpfs on `/run`: `/run` is a symlink$|tmpfs on `/run/lock`: |/run/host: ' \
    'rm -rf run && mkdir run && ln -s $C/run run.swap'
if hx_selected race-run; then
    e2e_check "race-run: both outcomes seen (the race was exercised: $RACE_CC created, $RACE_REFUSED refused)" \
        test "${RACE_CC:-0}" -gt 0 -a "${RACE_REFUSED:-0}" -gt 0
fi

# copy-up: 8 image files in /run, each swapped with a link to the canary's
# shadow; the container's /run/fN is then a copy of the file or the link
# itself, never the content behind the link
copied_not_canary() {
    local got
    # created: pivot_root is done, the container's root is its rootfs
    got=$(nsenter -t "$PID" -m -r -- sh -c 'for f in /run/f?; do if [ -L $f ]; then echo "link $(readlink $f)";
        elif [ -e $f ]; then cat $f; else echo absent; fi; done' | sort | uniq -c | awk '{ $1 = ""; print }')
    if ! grep -qvx -e ' image' -e " link $C/etc/shadow" <<<"$got"; then
        return 0
    fi
    e2e_log "copied /run/fN: $(paste -sd'|' <<<"$got")"
    return 1
}
race race-copyup "$(for i in 1 2 3 4 5 6 7 8; do printf 'run/f%s run/f%s.swap ' $i $i; done)" \
    "tmpfs on \`/run\`: copying the image's content: [a-z]+ \`f[0-9](\\.swap)?\`: " \
    'for i in 1 2 3 4 5 6 7 8; do echo image >run/f$i && ln -s $C/etc/shadow run/f$i.swap || exit 1; done' \
    copied_not_canary

e2e_log "test-hostile.sh: $idx cases in $(_e2e_since "$T_START")s"
e2e_done
