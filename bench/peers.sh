#!/bin/bash
# bench/peers.sh: boot to `running` of the same Debian 12 rootfs under the
# hook and under its peers, side by side in one run, interleaved.
#
#   sudo bench/peers.sh
#
# Variants (each round runs all of them back to back, the order rotating):
#   hook       runc run -d, the hook at createRuntime (e2e_bundle)
#   nspawn     systemd-nspawn -b --register=no on an overlay of the rootfs
#   lxc        lxc-start -F on an overlay of the rootfs (when lxc is installed)
#   podman     podman run -d --systemd=always (runc, --cgroupns=private)
#   docker     a private dockerd (as tests/e2e/test-docker.sh starts it):
#              docker run -d --runtime systemd (oci-systemd-runtime + hook)
#   docker-wa  the same dockerd, Docker's usual workaround: --tmpfs /run
#              --tmpfs /run/lock --tmpfs /tmp and the cgroups writable. With
#              --privileged --cap-drop SYS_RESOURCE Docker 20.10 still asks
#              runc for every capability (--privileged wins over --cap-drop)
#              and runc fails "unable to apply caps" on this machine, which
#              lacks CAP_SYS_RESOURCE; so what --privileged grants, spelled
#              out: --cap-add ALL --cap-drop SYS_RESOURCE, seccomp, AppArmor
#              and system paths unconfined, and the host's /sys/fs/cgroup
#              bound rw with --cgroupns host (as the workaround's guides do)
# Clock: from just before the start command to the end of the first
# `nsenter -t PID -m systemctl is-system-running` printing `running`,
# polled every 20 ms (osh-timer poll), as bench/run.sh row 3. A variant
# that reaches degraded/maintenance, or nothing in 60 s (services: 30 s), counts as not
# running and its answer is reported.
#
# Then a multi-service image (a copy of the image with openssh-server,
# nginx, postgresql, cron, rsyslog installed by chroot apt-get, cached in
# $OSH_CACHE/images/bookworm-services): hook vs nspawn vs podman, what each
# reaches and how fast.
#
# Environment: OSH_PEERS_ROUNDS (10), OSH_PEERS_SVC_ROUNDS (5),
# OSH_PEERS_VARIANTS (all available), OSH_PEERS_SVC_VARIANTS (hook nspawn
# podman), OSH_PEERS_OUT (results file; default stdout only).
# shellcheck disable=SC2317  # cleanup and builder functions are called indirectly
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "bench/peers.sh: run as root" >&2; exit 1; }
N_ROUNDS=${OSH_PEERS_ROUNDS:-10}
N_SVC=${OSH_PEERS_SVC_ROUNDS:-5}
POLL_MS=20
BOOT_TIMEOUT=60
DOCKER=/usr/bin/docker # docker.io's client (a /usr/local/bin/docker may be another)
say() { printf '# %s\n' "$*" >&2; }
T_BEGIN=$EPOCHREALTIME
LOAD_BEGIN=$(cut -d' ' -f1-3 /proc/loadavg)

export OSH_E2E_TMPROOT=/tmp/osh-bench
HOOK=${HOOK:-$ROOT/oci-systemd-hook}
RUNTIME=$(dirname "$HOOK")/oci-systemd-runtime
export HOOK
# shellcheck source=../tests/e2e/lib.sh source-path=SCRIPTDIR
. "$ROOT/tests/e2e/lib.sh"
e2e_init
e2e_require_hook
W=$E2E_TMP
TIMER=$W/osh-timer
gcc -O2 -static -o "$TIMER" "$ROOT/bench/osh-timer.c" 2>/dev/null || gcc -O2 -o "$TIMER" "$ROOT/bench/osh-timer.c"
IMAGE=$(e2e_image bookworm)
e2e_cgroup_hold
UID_=$(e2e_uid)

# ---------------------------------------------------------------- images

# the multi-service copy: cp -a of the image, apt-get in a chroot (no
# service starts: policy-rc.d), apt lists and caches removed
_svc_build() {
    local to=$1 src=$2 rc=0
    say "building the multi-service image in $to (cp -a + chroot apt-get)"
    cp -a "$src" "$to"
    printf '#!/bin/sh\nexit 101\n' >"$to/usr/sbin/policy-rc.d"
    chmod 755 "$to/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$to/etc/resolv.conf"
    mount -t proc proc "$to/proc"
    chroot "$to" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends openssh-server nginx postgresql cron rsyslog' >"$OSH_CACHE/images/bookworm-services.log" 2>&1 || rc=$?
    umount "$to/proc"
    rm -f "$to/usr/sbin/policy-rc.d" "$to/etc/resolv.conf"
    rm -rf "$to"/var/lib/apt/lists/* "$to"/var/cache/apt/*.bin "$to"/var/cache/apt/archives/*.deb
    ((rc == 0)) || tail -n 20 "$OSH_CACHE/images/bookworm-services.log" >&2
    return "$rc"
}
SVC_IMAGE=$(_e2e_cached "$OSH_CACHE/images/bookworm-services" _svc_build "$IMAGE")

# ---------------------------------------------------------------- engines

have() { command -v "$1" >/dev/null 2>&1; }
avail=(hook)
have systemd-nspawn && avail+=(nspawn)
have lxc-start && avail+=(lxc)
have podman && avail+=(podman)
[[ -x $DOCKER ]] && have dockerd && [[ -x $RUNTIME ]] && avail+=(docker docker-wa)
read -ra VARIANTS <<<"${OSH_PEERS_VARIANTS:-${avail[*]}}"
read -ra SVC_VARIANTS <<<"${OSH_PEERS_SVC_VARIANTS:-hook nspawn podman}"
want() { [[ " ${VARIANTS[*]} ${SVC_VARIANTS[*]} " == *" $1 "* ]]; }

_podman_names=()
podman_cleanup() {
    local n
    for n in "${_podman_names[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done
    podman rmi -f "osh-peers-$UID_:base" "osh-peers-$UID_:svc" >/dev/null 2>&1
    return 0
}
if want podman; then
    e2e_at_exit podman_cleanup
    tar -C "$IMAGE" -c . | podman import - "osh-peers-$UID_:base" >/dev/null
    [[ " ${SVC_VARIANTS[*]} " == *" podman "* ]] &&
        tar -C "$SVC_IMAGE" -c . | podman import - "osh-peers-$UID_:svc" >/dev/null
fi

D=$W/docker
dk() { "$DOCKER" -H "unix://$D/docker.sock" "$@"; }
docker_cleanup() {
    local id p pid
    if [[ -S $D/docker.sock ]]; then
        for id in $(dk ps -aq 2>/dev/null); do dk rm -f "$id" >/dev/null 2>&1; done
    fi
    pid=$(cat "$D/dockerd.spid" 2>/dev/null) && kill "$pid" 2>/dev/null &&
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    for p in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$D/exec/" && kill -KILL "${p#/proc/}" 2>/dev/null
    done
    sleep 0.2
    _e2e_umount_under "$D"
    e2e_rm_cgroup "/osh-e2e/$(basename "$W")-docker" 2>/dev/null
    if [[ -d /run/containerd/s ]]; then
        for p in /run/containerd/s/*; do
            [[ -S $p ]] || continue
            grep -qF " $p" /proc/net/unix || rm -f "$p"
        done
    fi
    [[ $run_ctrd_created == 1 ]] && rmdir /run/containerd/s /run/containerd 2>/dev/null
    return 0
}
run_ctrd_created=0
if want docker || want docker-wa; then
    [[ -e /run/containerd ]] || run_ctrd_created=1
    mkdir -p "$D/data" "$D/exec"
    printf '{ "log-level": "warn" }\n' >"$D/daemon.json"
    "$HOOK" configure --config "$D/daemon.json" --runtime-path "$RUNTIME" docker >/dev/null 2>&1
    printf 'runtime = %s\n' "$(command -v runc)" >"$D/runtime.conf"
    e2e_at_exit docker_cleanup
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        OCI_SYSTEMD_RUNTIME_CONFIG="$D/runtime.conf" \
        setsid dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
        --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --ip-forward=false \
        --cgroup-parent "/osh-e2e/$(basename "$W")-docker" >>"$D/dockerd.log" 2>&1 </dev/null &
    echo "$!" >"$D/dockerd.spid"
    for _ in $(seq 150); do dk version >/dev/null 2>&1 && break; sleep 0.2; done
    # STOPSIGNAL through a one-line Dockerfile (20.10's import refuses it)
    tar -C "$IMAGE" -c . | dk import --change 'CMD ["/sbin/init"]' - "osh-peers/base0" >/dev/null
    printf 'FROM osh-peers/base0\nSTOPSIGNAL SIGRTMIN+3\n' | dk build -q -t osh-peers/base - >/dev/null
fi

# systemd-nspawn makes /run/systemd/nspawn/{locks,propagate} on the host
if [[ ! -e /run/systemd/nspawn ]]; then
    e2e_at_exit 'rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null'
fi

# nspawn and lxc boot an overlay of the image; nothing else of the bundle
# is used (e2e_bundle mounts it and cleans it up)
lxc_conf() {
    cat <<EOF
lxc.uts.name = $2
lxc.rootfs.path = dir:$1/rootfs
lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 16
lxc.init.cmd = /sbin/init
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.log.file = $1/lxc.log
EOF
}

# leader_pid PARENT: the container's init, the first descendant of PARENT
# in another pid namespace
leader_pid() {
    local p c ns0
    ns0=$(readlink "/proc/$1/ns/pid" 2>/dev/null) || return 1
    for _ in $(seq 250); do
        for p in $1 $(pgrep -P "$1"); do
            for c in $p $(pgrep -P "$p"); do
                [[ $(readlink "/proc/$c/ns/pid" 2>/dev/null) != "$ns0" && -n $(readlink "/proc/$c/ns/pid" 2>/dev/null) ]] &&
                    { echo "$c"; return 0; }
            done
        done
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# boot_one VARIANT IMAGE ROUND RAW: one boot, one record in RAW (and "R
# record" in RAW.rounds); the container is removed afterwards
boot_one() {
    local v=$1 img=$2 r=$3 raw=$4 b name t0 pid=0 rec out cid bg=0
    b=$W/$v-$img-$r
    name=$(basename "$W" | tr '[:upper:]' '[:lower:]')-$v-$r
    local suite_dir=$IMAGE
    [[ $img == svc ]] && suite_dir=$SVC_IMAGE
    case $v in
    hook | nspawn | lxc)
        e2e_bundle "$b" bookworm stage=createRuntime
        # e2e_bundle overlays the bookworm image; the service image instead
        if [[ $img == svc ]]; then
            umount "$b/rootfs"
            rm -rf --one-file-system "$b/upper" "$b/work"
            mkdir -p "$b/upper" "$b/work"
            mount -t overlay overlay -o "lowerdir=$suite_dir,upperdir=$b/upper,workdir=$b/work" "$b/rootfs"
        fi
        ;;
    *) mkdir -p "$b" ;;
    esac
    [[ $v == lxc ]] && { mkdir -p "$b/lxc"; lxc_conf "$b" "$name" >"$b/lxc.conf"; }
    t0=$EPOCHREALTIME
    case $v in
    hook)
        _e2e_containers+=("runc|$name|$b")
        e2e_rt runc run -d --bundle "$b" "$name" </dev/null >"$b/console.log" 2>&1 || say "runc run $name failed"
        pid=$(e2e_pid runc "$name" 2>/dev/null) || pid=0
        ;;
    nspawn)
        systemd-nspawn -q -b -D "$b/rootfs" -M "$name" --register=no --keep-unit --console=read-only \
            </dev/null >"$b/console.log" 2>&1 &
        bg=$!
        pid=$(leader_pid "$bg") || pid=0
        ;;
    lxc)
        lxc-start -F -n "$name" -P "$b/lxc" -f "$b/lxc.conf" </dev/null >"$b/console.log" 2>&1 &
        bg=$!
        pid=$(leader_pid "$bg") || pid=0
        ;;
    podman)
        _podman_names+=("$name")
        podman run -d --name "$name" --runtime runc --systemd=always --cgroupns=private --network=none \
            --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "osh-peers-$UID_:$img" /sbin/init \
            >"$b/console.log" 2>&1 || say "podman run $name failed"
        pid=$(podman inspect -f '{{.State.Pid}}' "$name" 2>/dev/null) || pid=0
        ;;
    docker)
        cid=$(dk run -d --runtime systemd --cgroupns private --network none osh-peers/base 2>"$b/console.log") ||
            say "docker run failed: $(tail -n 2 "$b/console.log")"
        pid=$(dk inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null) || pid=0
        ;;
    docker-wa)
        cid=$(dk run -d --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
            --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
            --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --network none osh-peers/base 2>"$b/console.log") ||
            say "docker run (workaround) failed: $(tail -n 2 "$b/console.log")"
        pid=$(dk inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null) || pid=0
        ;;
    esac
    rec="$v 0 0 1 0 0"
    if ((pid > 0)); then
        rec=$("$TIMER" poll -i "$POLL_MS" -t "$BOOT_TIMEOUT" -s "$t0" "$v" \
            nsenter -t "$pid" -m systemctl is-system-running 2>"$b/poll.err") || true
        out=$(tail -n 1 "$b/poll.err" 2>/dev/null)
        [[ -n $out ]] && echo "$v $out" >>"$raw.answers"
    else
        echo "$v no container pid" >>"$raw.answers"
    fi
    echo "$rec" >>"$raw"
    echo "$r $rec" >>"$raw.rounds"
    # teardown (outside the clock)
    case $v in
    hook)
        e2e_rt runc kill "$name" KILL >/dev/null 2>&1 || true
        _e2e_forget runc "$name"
        ;;
    nspawn | lxc)
        ((pid > 0)) && kill -KILL "$pid" 2>/dev/null
        kill -TERM "$bg" 2>/dev/null || true
        wait "$bg" 2>/dev/null || true
        ;;
    podman)
        podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
        _e2e_list_remove _podman_names "$name"
        ;;
    docker | docker-wa) [[ -n ${cid:-} ]] && dk rm -f "$cid" >/dev/null 2>&1 ;;
    esac
    # The workaround binds the host's /sys/fs/cgroup (a tmpfs on hybrid
    # hosts) and systemd inside remounts it read-only: that changes the
    # host's superblock, for every process of the node.  Seen here; put back.
    if [[ $v == docker-wa ]] && findmnt -no FS-OPTIONS /sys/fs/cgroup | grep -q '^ro'; then
        say "the workaround's container made the host's /sys/fs/cgroup read-only; remounting it rw"
        echo "docker-wa made the host's /sys/fs/cgroup read-only (round $r)" >>"$raw.answers"
        mount -o remount,rw /sys/fs/cgroup
    fi
    [[ -d $b/rootfs ]] && e2e_bundle_cleanup "$b"
    rm -rf --one-file-system "$b"
}

# paired RAW OTHER: median over rounds of hook/OTHER, rounds where both ran
# to running, wins of the hook, ~95 % CI of the median (sign test)
paired() {
    awk -v o="$2" '$5 == 0 { t[$1 " " $2] = $3 }
        END { for (k in t) { split(k, a, " "); if (a[2] == "hook" && ((a[1] " " o) in t)) {
                  r[n++] = t[k] / t[a[1] " " o]; w += t[k] < t[a[1] " " o] } }
              if (!n) { print "nan 0 0 nan nan"; exit }
              for (i = 1; i < n; i++) for (j = i; j > 0 && r[j - 1] > r[j]; j--) { x = r[j]; r[j] = r[j - 1]; r[j - 1] = x }
              m = n % 2 ? r[(n - 1) / 2] : (r[n / 2 - 1] + r[n / 2]) / 2
              k = int((n - 1.96 * sqrt(n)) / 2); if (k < 0) k = 0
              printf "%.2f %d %d %.2f %.2f\n", m, w, n, r[k], r[n - 1 - k] }' "$1.rounds"
}
tsv() {
    awk -F'\t' -v l="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == l { print $(col[c]); f = 1; exit } END { if (!f) print "nan" }' "$1"
}
ms() { awk -v v="$1" 'BEGIN { if (v == "nan") print "–"; else printf "%.0f ms", v / 1000 }'; }

# run_set LABEL IMG ROUNDS VARIANT...: the interleaved rounds, then a table
run_set() {
    local label=$1 img=$2 rounds=$3 raw r j v nv n ok
    shift 3
    local vs=("$@")
    raw=$W/$label.raw
    : >"$raw"
    : >"$raw.rounds"
    : >"$raw.answers"
    nv=${#vs[@]}
    say "$label: ${vs[*]}, $rounds rounds, interleaved"
    for ((r = 0; r < rounds; r++)); do
        for ((j = 0; j < nv; j++)); do boot_one "${vs[(j + r) % nv]}" "$img" "$r" "$raw"; done
    done
    awk '$4 == 0' "$raw" | "$TIMER" stats >"$raw.tsv" || true
    echo
    echo "| $label | boots | reached \`running\` | median | p10 | p90 | hook / this, paired (95% CI), hook faster | other answers |"
    echo "|---|---|---|---|---|---|---|---|"
    for v in "${vs[@]}"; do
        n=$(awk -v v="$v" '$1 == v' "$raw" | wc -l)
        ok=$(awk -v v="$v" '$1 == v && $4 == 0' "$raw" | wc -l)
        local pr=''
        if [[ $v != hook ]]; then
            read -r m w pn lo hi < <(paired "$raw" "$v")
            [[ $m != nan ]] && pr="${m}x (${lo}–${hi}), $w/$pn"
        fi
        local ans
        ans=$(awk -v v="$v" '$1 == v { $1 = ""; sub(/^ /, ""); print }' "$raw.answers" | sort | uniq -c |
            awk '{ c = $1; $1 = ""; printf "%s%d×%s", (NR > 1 ? "; " : ""), c, $0 }')
        echo "| $v | $n | $ok | $(ms "$(tsv "$raw.tsv" "$v" median_us)") | $(ms "$(tsv "$raw.tsv" "$v" p10_us)") | $(ms "$(tsv "$raw.tsv" "$v" p90_us)") | ${pr:-–} | ${ans:-–} |"
    done
}

out=$W/report.md
{
    echo "# bench/peers.sh, $(date -u '+%Y-%m-%d %H:%M') UTC, $(hostname -s), $(nproc) CPUs, $(uname -r)"
    echo
    echo "runc $(runc --version | sed -n 's/^runc version //p'), $(systemd-nspawn --version | head -n1)," \
        "$(if have lxc-start; then echo "lxc $(lxc-start --version),"; fi) $(podman --version 2>/dev/null)," \
        "$("$DOCKER" --version 2>/dev/null | cut -d, -f1); image systemd" \
        "$(dpkg-query --admindir="$IMAGE/var/lib/dpkg" -W -f '${Version}' systemd)"
    run_set "Debian 12 minimal" base "$N_ROUNDS" "${VARIANTS[@]}"
    BOOT_TIMEOUT=${OSH_PEERS_SVC_TIMEOUT:-30}
    run_set "multi-service (ssh nginx postgresql cron rsyslog)" svc "$N_SVC" "${SVC_VARIANTS[@]}"
    echo
    echo "Load average $LOAD_BEGIN at start, $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
        "$(awk -v a="$T_BEGIN" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s."
} >"$out"
cat "$out"
[[ -n ${OSH_PEERS_OUT:-} ]] && cp "$out" "$OSH_PEERS_OUT"
exit 0
