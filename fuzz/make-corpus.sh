#!/bin/bash
# Regenerates the seed corpora in fuzz/corpus/ (as root, runtimes installed):
#   config/  `runc spec`, `crun spec` (also --rootless), `ctr oci spec`, and
#            podman's own config.json (podman create + init with a private
#            store and no hooks; init may fail after writing it: fine);
#   state/   what runc and crun write on a hook's stdin at createRuntime,
#            prestart, poststart and poststop (runc on this host, runc and
#            crun in a cgroup2 mount namespace);
#   detect/, plan/  built from those by fuzz/make-seeds.py (no root).
# Temp paths in the documents are rewritten to /var/lib/osh.
#
#   sudo fuzz/make-corpus.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus

# ---- sub-run: capture states (sourced harness, maybe in a v2 namespace)
if [[ ${1:-} == --states ]]; then
    out=$2 mode=$3
    # shellcheck source=../tests/e2e/lib.sh
    . "$here/../tests/e2e/lib.sh"
    e2e_init
    capture() { # RUNTIME LABEL
        local rt=$1 label=$2 b=$E2E_TMP/$2 st
        e2e_bundle "$b" bookworm 'args=["/bin/true"]'
        jq --arg o "$out" --arg l "$label" '
            reduce ("createRuntime", "prestart", "poststart", "poststop") as $s
              (.; .hooks[$s] = [{path: "/bin/sh",
                                 args: ["sh", "-c", "cat > \($o)/\($l)-\($s).json"]}])
            | .annotations = {"oci-systemd-hook": "enabled",
                              "org.example.note": "caf\u00e9 \u2603"}' \
            "$b/config.json" >"$b/config.json.new"
        mv "$b/config.json.new" "$b/config.json"
        e2e_start "$rt" "$b" "$label" || true
        for _ in $(seq 50); do
            st=$(e2e_status "$rt" "$label")
            [[ $st == stopped || $st == gone ]] && break
            sleep 0.1
        done
        _e2e_forget "$rt" "$label"
        e2e_bundle_cleanup "$b"
    }
    if [[ $mode == v2 ]]; then
        capture runc runc-v2
        capture crun crun-v2
    else
        capture runc runc-hybrid
    fi
    exit 0
fi

[[ $(id -u) == 0 ]] || { echo "make-corpus.sh: needs root" >&2; exit 1; }
tmp=$(mktemp -d /tmp/osh-fuzz-corpus.XXXXXX)
P=
cleanup() {
    local d
    [[ -n $P ]] && $P rm -af >/dev/null 2>&1
    # podman init leaves its cgroupfs parent behind
    for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
        [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
mkdir -p "$corpus"/{state,config,detect,plan} "$tmp/states"
norm() { sed -e "s|$tmp|/var/lib/osh|g" "$@"; }

spec() { # OUT CMD...
    local out=$1
    shift
    (cd "$tmp" && rm -f config.json && "$@" >/dev/null && norm config.json >"$corpus/config/$out")
}
spec runc-spec.json runc spec
spec runc-spec-rootless.json runc spec --rootless
spec crun-spec.json crun spec
spec crun-spec-rootless.json crun spec --rootless
if command -v ctr >/dev/null; then
    ctr oci spec | norm >"$corpus/config/ctr-oci-spec.json"
fi

if command -v podman >/dev/null; then
    mkdir -p "$tmp/root/sbin" "$tmp/root/lib/systemd" "$tmp/nohooks"
    ln -s /lib/systemd/systemd "$tmp/root/sbin/init"
    P="podman --root $tmp/pstore --runroot $tmp/prun --tmpdir $tmp/ptmp --events-backend=none"
    P+=" --cgroup-manager=cgroupfs --hooks-dir $tmp/nohooks"
    podman_cfg() { # OUT CREATE-ARGS...
        local out=$1 id
        shift
        id=$($P create --network=none "$@")
        $P init "$id" >/dev/null 2>&1 || true
        norm "$tmp/pstore/overlay-containers/$id/userdata/config.json" >"$corpus/config/$out"
        $P rm -f "$id" >/dev/null
    }
    podman_cfg podman-systemd.json --systemd=always --rootfs "$tmp/root" /sbin/init
    podman_cfg podman-sh-exec-init.json --rootfs "$tmp/root" /bin/sh -c 'exec /sbin/init'
    podman_cfg podman-userns-ro.json --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
        --annotation oci-systemd-hook=enabled --annotation oci-systemd-hook.cgroup=v1 \
        -e container_uuid=0123456789abcdef0123456789abcdef --read-only \
        --rootfs "$tmp/root" /usr/sbin/init
    podman_cfg podman-user-mounts.json --tmpfs /run --tmpfs /tmp \
        -v "$tmp/nohooks:/var/log/journal:ro" --systemd=true --rootfs "$tmp/root" \
        /sbin/init --log-level=debug
fi

OSH_E2E_TMPROOT=$tmp/e2e bash "$0" --states "$tmp/states" hybrid
OSH_E2E_TMPROOT=$tmp/e2e unshare -m --propagation private sh -c \
    'umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' \
    sh bash "$0" --states "$tmp/states" v2
for f in "$tmp"/states/*.json; do
    norm "$f" >"$corpus/state/$(basename "$f")"
done
python3 "$here/make-seeds.py" "$corpus"
ls -l "$corpus"/*
