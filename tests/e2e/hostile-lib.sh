# shellcheck shell=bash
# Helpers shared by test-hostile.sh, test-hostile-input.sh and
# test-boundary.sh. Source after lib.sh, call hx_init after e2e_init.
#
# Host state is judged by hx_snapshot: a canary tree the hostile images
# point their symlinks at (/var/tmp/osh-canary-XXXX, nobody else touches
# it), the real /etc/shadow, /etc/machine-id, /etc/hostname, /etc/passwd
# and /dev/null, every entry the hook could create (by name) directly in
# /, /etc, /run, /run/lock, /tmp, /var, /var/log, /var/tmp, all of
# /var/log/journal, and the host mount table. Other agents run tests on
# this machine at the same time, so mounts below /tmp/X/ (their overlays
# and ours), image builds, and container engines' own dirs are ignored;
# OSH_E2E_SNAPSHOT_IGNORE (an ERE on snapshot lines) drops more.

HX_CANARY=
# shellcheck disable=SC2034  # used by the scripts that source this
HX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The settings the scripts' cases share (hostile-mutants.sh sets ONLY's
# variable by script name as well):
#   SUITE    the image each case's rootfs overlays
#   ONLY     an ERE: only the cases whose names match it run (hx_selected,
#            hx_next); OSH_BOUNDARY_ONLY for test-boundary.sh, else
#            OSH_HOSTILE_ONLY
#   idx      the number of the last case hx_next began
#   T_START  when the script started
# shellcheck disable=SC2034  # used by the scripts that source this
SUITE=bookworm
case ${0##*/} in
test-boundary.sh) ONLY=${OSH_BOUNDARY_ONLY:-} ;;
*) ONLY=${OSH_HOSTILE_ONLY:-} ;;
esac
idx=0
# shellcheck disable=SC2034
T_START=$(_e2e_now)
# mount points that change under our feet on a shared machine
# (and automounts: tracefs, debugfs, binfmt_misc)
HX_MNT_IGNORE='^/tmp/[^/]+(/|$)|^/var/cache/oci-systemd-hook-tests/|^/var/lib/containers/|^/run/(containers|netns|user|libpod|crun|runc)/|^/sys/kernel/(tracing|debug)(/|$)|^/proc/sys/fs/binfmt_misc$'
# every name the hook creates or could create (mkdir of a mount point,
# machine-id and its temporary file, /run/host files, the done marker),
# and the canary's names
HX_NAMES='\.oci-systemd-hook.*|\.#.*|machine-id|host|lock|journal|container-manager|container-uuid|run|tmp|etc|var|log|sys|fs|cgroup|systemd|shadow|hostname|init|pwned|osh-canary.*'

# Other canaries (/var/tmp/osh-canary-*: tests running at the same time)
# are not listed among the host's entries; ours is checked in full.
# hx_init: creates the canary tree and chains its removal into the EXIT trap.
hx_init() {
    HX_CANARY=$(mktemp -d /var/tmp/osh-canary-XXXXXX)
    local c=$HX_CANARY
    mkdir -p "$c"/etc "$c"/run/host "$c"/tmp "$c"/var/log/journal "$c"/bin "$c"/sys/fs/cgroup
    echo 'root:canary-shadow:19000:0:99999:7:::' >"$c/etc/shadow"
    chmod 0640 "$c/etc/shadow"
    echo 0123456789abcdef0123456789abcdef >"$c/etc/machine-id"
    echo canary-host >"$c/etc/hostname"
    echo keep >"$c/run/keep"
    echo keep >"$c/tmp/keep"
    echo keep >"$c/var/log/keep"
    # a "systemd" that exists only on the host; if anything ran it, the
    # snapshot would show $c/pwned
    printf '#!/bin/sh\necho pwned >%s/pwned\n' "$c" >"$c/bin/systemd"
    chmod 0755 "$c/bin/systemd"
    # canary times in the past, so a rewrite with the same content shows
    touch -d '2001-01-01 00:00:00' "$c"/etc/* "$c"/run/keep "$c"/tmp/keep "$c"/var/log/keep "$c"/bin/systemd
    trap _hx_exit EXIT
}

# hx_selected NAME...: true unless ONLY (the script's OSH_*_ONLY, an ERE)
# is set and none of the NAMEs matches it.
hx_selected() { [[ -z $ONLY ]] || printf '%s\n' "$@" | grep -Eq -e "$ONLY"; }

# hx_next PREFIX NAME: the next case: idx + 1, then false when it is not
# hx_selected; else sets id (PREFIX, idx and NAME: hx07-NAME), id12 (the
# container id's first 12 characters, as the hook names it), B (its bundle
# in $E2E_TMP) and R (B's rootfs).
hx_next() {
    idx=$((idx + 1))
    hx_selected "$2" || return 1
    id=$(printf '%s%02d-%s' "$1" "$idx" "$2")
    id12=${id:0:12}
    B=$E2E_TMP/$id
    # shellcheck disable=SC2034  # used by the scripts that source this
    R=$B/rootfs
}

_hx_exit() {
    local rc=$?
    # errexit is still on in the trap: `(exit 1)` would end it here and skip
    # _e2e_cleanup (containers, bundles, the state of an e2e_sub run)
    set +e
    hx_cleanup
    (exit "$rc")
    _e2e_cleanup
}

hx_cleanup() {
    # a hook that mounted in the test's own namespace (a mutant, or a bug)
    # left mounts below the direct-invocation bundles: never a container's
    if [[ -n ${E2E_TMP:-} && -d $E2E_TMP/direct ]]; then
        _e2e_umount_under "$E2E_TMP/direct"
    fi
    if [[ -n $HX_CANARY && -d $HX_CANARY ]]; then
        # the canary must not be a mount point now; lazily unmount anything
        # a broken hook left there before removing it
        _e2e_umount_under "$HX_CANARY"
        rm -rf --one-file-system "$HX_CANARY"
    fi
}

# hx_mounts MOUNTINFO: "mountpoint fstype source options superoptions" per
# line, sorted, without the mounts HX_MNT_IGNORE names (the canary and this
# test's own temp dir always stay in).
hx_mounts() {
    awk -v ign="$HX_MNT_IGNORE" -v can="$HX_CANARY" -v own="$E2E_TMP" '
        { for (i = 7; $i != "-"; i++) ;
          keep = (can != "" && index($5, can) == 1) || (own != "" && index($5, own) == 1)
          if (!keep && $5 ~ ign) next
          print $5, $(i + 1), $(i + 2), $6, $(i + 3) }' "$1" | sort
}

_hx_file() { # PATH: one line of content hash and metadata
    local f=$1
    if [[ -e $f || -L $f ]]; then
        printf '%s %s %s\n' "$f" "$( [[ -f $f && ! -L $f ]] && sha256sum <"$f" | cut -c1-16)" \
            "$(stat -c '%F %a %u:%g %h %s %t:%T %Y' "$f")"
    else
        echo "$f missing"
    fi
}

# hx_snapshot FILE
hx_snapshot() {
    local f
    {
        echo "## host mounts (mountpoint fstype source options superoptions)"
        hx_mounts /proc/self/mountinfo
        echo "## host files"
        for f in /etc/shadow /etc/machine-id /etc/hostname /etc/passwd; do
            _hx_file "$f"
        done
        # not its owner: crun 1.8.1 chowns the host's /dev/null to the mapped
        # root when it is the stdin of a user-namespace container (other
        # tests on this machine do that)
        stat -c '%n %F %t:%T %a' /dev/null
        echo "## canary tree"
        find "$HX_CANARY" -printf '%p %y %m %u:%g %s %T@ %l\n' | sort
        while IFS= read -r -d '' f; do
            printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-16)"
        done < <(find "$HX_CANARY" -type f -print0 | sort -z)
        echo "## host entries the hook could create"
        find / /etc /run /run/lock /tmp /var /var/log /var/tmp -mindepth 1 -maxdepth 1 \
            -regextype posix-extended -regex ".*/($HX_NAMES)" ! -path "$HX_CANARY" \
            ! -path '/var/tmp/osh-canary-*' \
            -printf '%p %y %m %u:%g\n' 2>/dev/null | sort
        echo "## host /var/log/journal"
        find /var/log/journal -printf '%p %y %m %u:%g %s\n' 2>/dev/null | sort
    } | e2e_snapshot_filter >"$1"
}

# hx_outside CMI HMI ROOTFS: mounts of the container's namespace (CMI) that
# are neither below ROOTFS nor in the host's table (HMI) taken at the same
# moment: what a hook made outside the rootfs. Prints them.
hx_outside() {
    local cmi=$1 hmi=$2 root=$3
    comm -23 <(hx_mounts "$cmi") <(hx_mounts "$hmi") |
        awk -v r="$root" '$1 != r && index($1, r "/") != 1'
}

# hx_line_ok TEXT ID12 CAUSE_ERE: TEXT (the hook's stderr) is exactly one
# line, `oci-systemd-hook: ID12: ...` (without ID12 when it is empty: the id
# was not parsed), matching CAUSE_ERE. Explains a mismatch on stderr.
hx_line_ok() {
    local text=$1 id12=$2 cause=$3 n prefix='oci-systemd-hook: '
    [[ -n $id12 ]] && prefix+="$id12: "
    n=$(printf '%s' "$text" | grep -c '' || true)
    if [[ $n != 1 ]]; then
        e2e_log "expected one stderr line, got $n:"
        printf '%s\n' "$text" | head -n 5 | sed 's/^/#   /' >&2
        return 1
    fi
    if [[ $text != "$prefix"* ]]; then
        e2e_log "line does not start with \`$prefix': $text"
        return 1
    fi
    if ! grep -Eq -e "$cause" <<<"$text"; then
        e2e_log "line does not match /$cause/: $text"
        return 1
    fi
}

# hx_runc_hook_stderr CONSOLE: the hook's stderr as runc reports it when a
# hook fails ("... error running hook #N: ... stderr: TEXT"), trailing
# blank lines removed; nothing when no hook failed.
hx_runc_hook_stderr() {
    awk 'f { l[++n] = $0; if ($0 ~ /[^[:space:]]/) last = n; next }
         /error running hook/ && /stderr: / {
             f = 1; sub(/.*stderr: /, ""); l[++n] = $0; if ($0 ~ /[^[:space:]]/) last = n }
         END { for (i = 1; i <= last; i++) print l[i] }' "$1"
}
