# shellcheck shell=bash
# Current runtimes from Debian sid (runc 1.3, crun 1.28, criu 4.2,
# containerd 2.1) for the e2e tests. Source it after lib.sh.
#
# runc, crun and criu from sid need sid's libc (>= 2.38; Debian 12 has
# 2.36). They run inside a sid root that is the root of a private mount
# namespace (pivot_root, not chroot: in a chroot runc fails "MS_SLAVE:
# invalid argument", and the hook, which joins the container's mount
# namespace, would then see the host's tree). containerd 2.1's binaries
# need only libc >= 2.34 and run on the host from the same root.
#
#   e2e_sid_root          the cached sid root (built once, ~1-2 min)
#   e2e_sid CMD...        CMD in a mount namespace whose root is a
#                         throwaway overlay of that root
#   e2e_sid_bin           a directory of symlinks to the sid containerd
#                         binaries, for the host's PATH
#
# Environment:
#   OSH_SID_MIRROR   mirror for the sid root (default $OSH_MIRROR or
#                    deb.debian.org)

# what the sid root carries: the runtimes, the tools lib.sh calls inside
# it (jq, procps for pgrep/ps, iproute2 and nftables for criu's
# network-lock), and containerd for the host
E2E_SID_PKGS=runc,crun,criu,jq,containerd,nftables,procps,iproute2,kmod,python3

_e2e_sid_build() {
    local to=$1 log=$2 debs=$OSH_CACHE/sid-debs
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq >&2 && apt-get install -y -qq debootstrap >&2
    fi
    # downloads kept apart: an interrupted build fetches nothing twice
    mkdir -p "$debs"
    e2e_log "building the sid runtime root in $to (log: $log)"
    if ! debootstrap --variant=minbase --cache-dir="$debs" --include="$E2E_SID_PKGS" \
        sid "$to" "${OSH_SID_MIRROR:-$E2E_MIRROR}" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        return 1
    fi
    # the debs live in $debs; the root's own apt cache stays empty
    rm -f "$to"/var/cache/apt/archives/*.deb
}

# e2e_sid_root: prints the path of the cached sid root, building it once.
# Read-only use (e2e_sid overlays it).
e2e_sid_root() {
    _e2e_cached "$OSH_CACHE/runtimes-sid" _e2e_sid_build "$OSH_CACHE/runtimes-sid/build.log"
}

# What e2e_sid runs (host sh, then the sid root's): $1 the sid root, $2
# a scratch dir (upper/work/root), $3 v2|hybrid, then the paths to bind
# at the same place, a "--", the command.
# shellcheck disable=SC2016  # expanded by sh, not here
_E2E_SID_SH='
set -e
R=$1 S=$2 V=$3
shift 3
mkdir -p "$S/upper" "$S/work" "$S/root"
mount -t overlay osh-sid -o "lowerdir=$R,upperdir=$S/upper,workdir=$S/work" "$S/root"
N=$S/root
for d in proc sys dev; do mount --rbind "/$d" "$N/$d"; done
mount -t tmpfs -o mode=755,nosuid,nodev osh-sid-run "$N/run"
while [ "$1" != -- ]; do
    mkdir -p "$N$1"
    mount --rbind "$1" "$N$1"
    shift
done
shift
if [ "$V" = v2 ]; then
    umount -R "$N/sys/fs/cgroup"
    mount -t cgroup2 none "$N/sys/fs/cgroup"
fi
cd "$N"
pivot_root . .
umount -l .
cd /
exec env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
'

# e2e_sid [--v2] CMD...: CMD in a private mount namespace whose root is an
# overlay of the sid root (its upper layer in a scratch dir under
# $E2E_TMP, gone afterwards) with the host's /proc, /sys and /dev, a
# private /run, and bound at the same paths: $E2E_TMPROOT, $OSH_CACHE, the
# source tree (where the hook is) and any directory in $OSH_SID_BIND
# (space-separated). With --v2, /sys/fs/cgroup is a pure cgroup2 mount.
e2e_sid() {
    local v=hybrid root scratch d binds=()
    if [[ ${1:-} == --v2 ]]; then
        v=v2
        shift
    fi
    root=$(e2e_sid_root) || return 1
    scratch=$(mktemp -d "$E2E_TMP/sid.XXXXXX")
    for d in "$E2E_TMPROOT" "$OSH_CACHE" "$(cd "$_E2E_DIR/../.." && pwd)" ${OSH_SID_BIND:-}; do
        binds+=("$(readlink -f "$d")")
    done
    local rc=0
    unshare -m --propagation private sh -c "$_E2E_SID_SH" sh "$root" "$scratch" "$v" \
        "${binds[@]}" -- "$@" || rc=$?
    rm -rf --one-file-system "$scratch"
    return "$rc"
}

# e2e_sid_bin: prints a directory (under the cache) holding symlinks to
# the sid root's containerd, containerd-shim-runc-v2 and ctr, for the
# front of the host's PATH (nothing else of sid's is on it).
e2e_sid_bin() {
    local root dir b
    root=$(e2e_sid_root) || return 1
    dir=$OSH_CACHE/runtimes-sid/host-bin
    mkdir -p "$dir"
    for b in containerd containerd-shim-runc-v2 ctr; do
        ln -sfn "$root/usr/bin/$b" "$dir/$b"
    done
    printf '%s\n' "$dir"
}
