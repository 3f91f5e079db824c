#!/bin/bash
# shellcheck disable=SC2317  # cases are called by name
# Volumes over systemd's tmpfs destinations (issue 17), under runc on this
# hybrid host and runc and crun in a cgroup2 namespace (e2e_v2), the hook at
# createRuntime, Debian 12:
#   run-tmpfs       a fresh `type: tmpfs` at /run (podman/docker --tmpfs):
#                   running, /run/lock a tmpfs, /run/host written;
#   run-emptydir    a whole tmpfs bind-mounted at /run from
#                   .../volumes/kubernetes.io~empty-dir/run, as kubelet does
#                   for emptyDir medium: Memory: running, prepared inside;
#   run-prepare     the same from elsewhere, with the annotation
#                   oci-systemd-hook.run-volume=prepare: running;
#   run-dir         a host directory at /run: refused, one line that says
#                   what to change; nothing created in the directory;
#   run-subdir      the annotation on a directory of a tmpfs (not a whole
#                   one): refused, nothing created;
#   run-shared      the emptyDir tmpfs with shared propagation (rshared):
#                   refused, the host's mount table unchanged;
#   journal-dir, journal-shared, lock-dir, lock-shared: a host directory
#                   (plain and rshared) at /var/log/journal and /run/lock:
#                   running, the volume left alone (no tmpfs on it, on the
#                   host or in the container).
# Every case: the mounts below the test's own directory (where every volume
# source lives) are the same before, while the container runs, and after;
# this ignores what other jobs mount elsewhere.
#
#   tests/e2e/test-run-volume.sh                  # as root, about 1 min
#   OSH_RV_ONLY='run-' tests/e2e/...              # cases matching an ERE
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

ONLY=${OSH_RV_ONLY:-}
WRAP=$(cd "$(dirname "$0")" && pwd)/hostile-hookwrap.sh

# own_mounts: mount points below $E2E_TMP but the bundles' rootfs trees
own_mounts() {
    awk -v t="$E2E_TMP/" 'index($5, t) == 1 && $5 !~ /\/rootfs(\/|$)/ {
        for (i = 7; $i != "-"; i++) ; print $5, $(i + 1), $4 }' /proc/self/mountinfo | sort
}

# vol_tmpfs DIR [shared]: a whole tmpfs at DIR (an emptyDir medium: Memory)
vol_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o size=16m,mode=0755 tmpfs "$1"
    [[ ${2:-} != shared ]] || mount --make-shared "$1"
}

# vol_dir DIR [shared]: a host directory (bound onto itself when shared)
vol_dir() {
    mkdir -p "$1"
    echo keep >"$1/keep"
    if [[ ${2:-} == shared ]]; then
        mount --bind "$1" "$1"
        mount --make-shared "$1"
    fi
}

# rv_case RT NAME EXPECT DEST SRC_KIND [shared] [annotation]
#   EXPECT   run | refuse:ERE
#   SRC_KIND tmpfs-emptydir | tmpfs-other | tmpfs-sub | dir | spec-tmpfs
rv_case() {
    local rt=$1 name=$2 expect=$3 dest=$4 kind=$5 share=${6:-} ann=${7:-}
    local label="$rt/$name" b=$E2E_TMP/$rt-$name src id st err before during after listing want
    if [[ -n $ONLY ]] && ! grep -Eq -e "$ONLY" <<<"$name"; then
        return 0
    fi
    id=${rt}-$name
    case $kind in
    tmpfs-emptydir) src=$E2E_TMP/pods/$id/volumes/kubernetes.io~empty-dir/vol && vol_tmpfs "$src" "$share" ;;
    tmpfs-other) src=$E2E_TMP/vols/$id && vol_tmpfs "$src" "$share" ;;
    tmpfs-sub) vol_tmpfs "$E2E_TMP/vols/$id" && src=$E2E_TMP/vols/$id/sub && mkdir "$src" ;;
    dir) src=$E2E_TMP/vols/$id && vol_dir "$src" "$share" ;;
    spec-tmpfs) src= ;;
    esac
    e2e_bundle "$b" bookworm stage=createRuntime
    if [[ -n $src ]]; then
        jq --arg d "$dest" --arg s "$src" --arg p "${share:+rshared}" '
            .mounts += [{destination: $d, type: "bind", source: $s,
                         options: (["rbind"] + (if $p == "" then [] else [$p] end))}]' \
            "$b/config.json" >"$b/c.json"
    else
        jq --arg d "$dest" '.mounts += [{destination: $d, type: "tmpfs", source: "tmpfs",
                                         options: ["nosuid", "nodev", "mode=755"]}]' \
            "$b/config.json" >"$b/c.json"
    fi
    # the hook's stderr kept in $b/hook.err: crun does not show it, runc
    # only when the hook fails (and warnings matter here)
    jq --arg a "$ann" --arg w "$WRAP" --arg l "$b/hook.err" --arg h "$HOOK" '
        (if $a == "" then . else .annotations["oci-systemd-hook.run-volume"] = $a end)
        | .hooks.createRuntime |= map(if .path == $h then {path: $w, args: ([$w, $l, .path] + (.args[1:] // []))}
                                     else . end)' "$b/c.json" >"$b/config.json"
    # explain shows the decision for the destination the volume covers
    case $expect:$dest:$kind in
    run:/run:spec-tmpfs) want="^  /run: the spec's own tmpfs, prepared inside" ;;
    run:/run:*) want="^  /run: the volume \`$src\` \(checked at start" ;;
    refuse:*:/run:dir) want="^refuse: a volume is mounted at /run" ;;
    refuse:*) want="^  /run: the volume" ;;
    *) want="^  skip tmpfs $dest: the spec mounts it" ;;
    esac
    e2e_check "$label: explain shows /$want/" grep -Eq -e "$want" <("$HOOK" explain "$b" 2>&1)
    listing=
    if [[ -n $src ]]; then listing=$(find "$src" -printf '%P %y %m %u:%g\n' | sort); fi
    before=$(own_mounts)
    # shellcheck disable=SC2034  # read by e2e_boot_ok
    BOOT_T0=$(_e2e_now)
    if [[ $expect == run ]]; then
        if e2e_start "$rt" "$b" "$id" && e2e_boot_ok "$label" "$rt" "$id" "$b"; then
            during=$(own_mounts)
            e2e_check "$label: no mount the hook made appears below the test's directory while it runs" \
                e2e_same "$before" "$during"
            case $dest in
            /run)
                st=$(e2e_exec "$rt" "$id" sh -c 'stat -fc %T /run/lock; cat /run/host/container-manager' 2>&1 | tr '\n' ' ') || true
                e2e_check "$label: /run/lock is a tmpfs, /run/host written (got $st)" \
                    test "$st" = "tmpfs oci-systemd-hook "
                ;;
            *)
                st=$(e2e_exec "$rt" "$id" cat "$dest/keep" 2>&1) || true
                e2e_check "$label: the volume at $dest is left alone, visible inside (got $st)" test "$st" = keep
                ;;
            esac
        fi
    else
        if e2e_rt "$rt" --log "$b/runtime.log" run -d --bundle "$b" "$id" </dev/null >"$b/console.log" 2>&1; then
            fail "$label: refused (the container started)"
            _e2e_containers+=("$rt|$id|$b")
        else
            err=$(cat "$b/hook.err" 2>/dev/null || true)
            e2e_check "$label: refused with one line /${expect#refuse:}/ (got: $err)" \
                hx_one_line "$err" "${id:0:12}" "${expect#refuse:}"
        fi
    fi
    e2e_stop "$rt" "$id" 20 >/dev/null 2>&1 || true
    e2e_rt "$rt" delete -f "$id" >/dev/null 2>&1 || true
    after=$(own_mounts)
    e2e_check "$label: mounts below the test's directory unchanged after delete" e2e_same "$before" "$after"
    if [[ -n $src && $kind == dir ]]; then
        # systemd may write into a journal or lock volume; never the hook
        if [[ $dest == /run ]]; then
            e2e_check "$label: nothing created in the volume" \
                e2e_same "$listing" "$(find "$src" -printf '%P %y %m %u:%g\n' | sort)"
        fi
    fi
    e2e_bundle_cleanup "$b"
    # the volume goes (its mounts first: a shared bind may carry copies)
    if [[ -n $src ]]; then
        while grep -q " ${src%/sub} " /proc/self/mountinfo; do umount -l "${src%/sub}" || break; done
        rm -rf --one-file-system "${src%/sub}"
    fi
}

e2e_same() { # A B: equal, or show the difference
    [[ $1 == "$2" ]] && return 0
    diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed 's/^/#   /' >&2
    return 1
}

hx_one_line() { # TEXT ID12 ERE
    [[ $1 == "oci-systemd-hook: $2: "* ]] && grep -Eq -e "$3" <<<"$1"
}

cases() {
    local rt=$1
    rv_case "$rt" run-tmpfs run /run spec-tmpfs
    rv_case "$rt" run-emptydir run /run tmpfs-emptydir
    rv_case "$rt" run-prepare run /run tmpfs-other '' prepare
    rv_case "$rt" run-dir 'refuse:a volume is mounted at /run .*mount a tmpfs there' /run dir
    rv_case "$rt" run-subdir 'refuse:not a whole, writable tmpfs' /run tmpfs-sub '' prepare
    rv_case "$rt" run-shared 'refuse:shared propagation' /run tmpfs-emptydir shared
    rv_case "$rt" journal-dir run /var/log/journal dir
    rv_case "$rt" journal-shared run /var/log/journal dir shared
    rv_case "$rt" lock-dir run /run/lock dir
    rv_case "$rt" lock-shared run /run/lock dir shared
}

e2e_each_runtime cases "$@"
