# bench/lib.sh: what bench/run.sh and bench/peers.sh share: statistics and
# formatting, the boot-to-`running` measurement of the hook and of its peers
# (runc with the ideal spec, systemd-nspawn, lxc, podman, Docker with the
# wrapper and with its usual workaround), their tables, the engines' setup
# and cleanup, and the record of the machine's load.  Sourced after
# tests/e2e/lib.sh's e2e_init; needs $W (the run's temp dir), $HOOK (the
# hook the bench measures) and $TIMER (bench_timer).
# shellcheck shell=bash disable=SC2317  # cleanups are called indirectly

say() { printf '# %s\n' "$*" >&2; }

# ---------------------------------------------------------------- statistics

# tsv SUMMARY LABEL COLUMN: one value of an osh-timer summary.
tsv() {
    awk -F'\t' -v l="$2" -v c="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == l { print $(col[c]); found = 1; exit }
        END { if (!found) print "nan" }' "$1"
}
# calc EXPR [FMT]: awk arithmetic, printf-formatted by FMT (default %.2f).
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }
us2ms() { calc "$1 / 1000" "${2:-%.2f}"; }
# ms US: whole milliseconds, "–" for nan (nothing measured)
ms() { awk -v v="$1" 'BEGIN { if (v == "nan") print "–"; else printf "%.0f ms", v / 1000 }'; }
yesno() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo "**no**"; fi; }

# paired ROUNDS A B: from ROUNDS lines "ROUND LABEL NS MAXRSS STATUS ...",
# the rounds where both A and B reached `running` (status 0): median of A/B,
# rounds where A was faster, their number, and the ~95% confidence interval
# of that median (sign test: order statistics k+1 and n-k, k = floor((n -
# 1.96 sqrt(n)) / 2)).  "nan 0 0 nan nan" when no round has both.
paired() {
    awk -v a="$2" -v b="$3" '$5 == 0 { t[$1 " " $2] = $3; rd[$1] = 1 }
        END { for (x in rd) if (((x " " a) in t) && ((x " " b) in t)) {
                  r[n++] = t[x " " a] / t[x " " b]; w += t[x " " a] < t[x " " b] }
              if (!n) { print "nan 0 0 nan nan"; exit }
              for (i = 1; i < n; i++) for (j = i; j > 0 && r[j - 1] > r[j]; j--) { y = r[j]; r[j] = r[j - 1]; r[j - 1] = y }
              m = n % 2 ? r[(n - 1) / 2] : (r[n / 2 - 1] + r[n / 2]) / 2
              k = int((n - 1.96 * sqrt(n)) / 2); if (k < 0) k = 0
              printf "%.2f %d %d %.2f %.2f\n", m, w, n, r[k], r[n - 1 - k] }' "$1"
}
# verdict TARGET LO HI: met when the whole confidence interval is within
# TARGET, missed when the whole interval is beyond it
verdict() {
    if [[ $2 == nan ]]; then echo "not measured"
    elif awk "BEGIN { exit !($3 <= $1) }"; then echo yes
    elif awk "BEGIN { exit !($2 > $1) }"; then echo "**no**"
    else echo "not resolved (95% CI $2–$3x)"; fi
}
# reading LO HI A B: for a ratio A/B without a target, what the interval says
reading() {
    if [[ $1 == nan ]]; then echo "not measured"
    elif awk "BEGIN { exit !($2 < 1) }"; then echo "$3 faster"
    elif awk "BEGIN { exit !($1 > 1) }"; then echo "$3 slower"
    else echo "no difference resolved"; fi
}

# bench_timer OUT: compiles the driver (statically: its own RSS is the floor
# of every peak RSS it reports)
bench_timer() {
    gcc -O2 -static -o "$1" "${BENCH:?}/osh-timer.c" 2>/dev/null || gcc -O2 -o "$1" "$BENCH/osh-timer.c"
}

# ---------------------------------------------------------------- load

# bench_ours PID: the pid namespace of PID is one of the bench's containers
# (the load sampler counts its processes as the bench's)
bench_ours() { readlink "/proc/$1/ns/pid" >>"$W/ns.ours" 2>/dev/null || true; }

# bench_load_facts: one line: load average, processes, containers of any
# engine (pid namespaces besides the host's, less the bench's own), and what
# the usual engines list in their default places
bench_load_facts() {
    local host_ns nproc_ nns rl pl dl
    host_ns=$(readlink /proc/self/ns/pid)
    nproc_=$(find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l)
    nns=$({ find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/pid' -printf '%l\n' 2>/dev/null || true; } |
        { grep -vxF -e '' -f <(cat "$W/ns.ours" 2>/dev/null; echo "$host_ns") || true; } | sort -u | wc -l)
    rl=$({ timeout 10 runc list -q 2>/dev/null || true; } | wc -l)
    pl=$(if have podman; then { timeout 20 podman ps -q 2>/dev/null || true; } | wc -l; else echo -; fi)
    dl=$(if [[ -S /var/run/docker.sock ]]; then { timeout 10 "$DOCKER" ps -q 2>/dev/null || true; } | wc -l; else echo 'no dockerd'; fi)
    printf '%s; %s processes; %s other containers (pid namespaces); runc list: %s, podman ps: %s, docker ps: %s\n' \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$nproc_" "$nns" "$rl" "$pl" "$dl"
}

# _bench_sample PREV: one sample of every process's CPU time since the last
# one (PREV keeps the totals): "L TIME LOAD1" and per process that ran
# "P TIME KIND PIDNS TICKS COMM", KIND d (the bench's process tree), k (a
# kernel thread), c (a command line naming the bench's temp dir: conmon,
# containerd-shim), o (other).  The bench's tree: $BENCH_PID's descendants
# and the sampler's (run in the sampler, which is not one of them).
_bench_sample() {
    local prev=$1 t k ns ticks comm pid
    t=$EPOCHREALTIME
    printf 'L %s %s\n' "$t" "$(cut -d' ' -f1 /proc/loadavg)"
    find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/pid' -printf '%h %l\n' >"$prev.ns" 2>/dev/null || true
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v t="$t" -v me="$BENCH_PID" -v me2="$BASHPID" -v prevf="$prev" -v nsf="$prev.ns" '
        BEGIN { while ((getline l < prevf) > 0) { split(l, a, " "); old[a[1]] = a[2] }
                close(prevf)
                while ((getline l < nsf) > 0) { split(l, a, " "); sub("^/proc/", "", a[1]); sub("/ns$", "", a[1]); ns[a[1]] = a[2] } }
        { s = $0; p = 0; while ((i = index(s, ")")) > 0) { p += i; s = substr(s, i + 1) }
          comm = substr($0, index($0, "(") + 1, p - index($0, "(") - 1); gsub(/[ \t]/, "_", comm)
          n = split(substr($0, p + 2), f, " ")
          pid = $1; pp[pid] = f[2]; key = pid "/" f[20]; tot = f[12] + f[13]
          cur[key] = tot; cm[key] = comm; pidof[key] = pid }
        END { for (key in cur) {
                  print key, cur[key] > prevf
                  if (!(key in old)) continue
                  d = cur[key] - old[key]; if (d <= 0) continue
                  pid = pidof[key]; kind = "o"
                  if (pid == 2 || pp[pid] == 2) kind = "k"
                  else for (q = pid; q > 1 && c++ < 100; q = pp[q]) if (q == me || q == me2) { kind = "d"; break }
                  c = 0
                  print "P", t, kind, (pid in ns ? ns[pid] : "?"), d, cm[key], pid } }' >"$prev.out"
    # conmon, containerd-shim: outside the bench's tree, but its own
    while read -r _ _ k ns ticks comm pid; do
        if [[ $k == o ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qiF -- "$BENCH_UID"; then k=c; fi
        printf 'P %s %s %s %s %s\n' "$t" "$k" "$ns" "$ticks" "$comm"
    done <"$prev.out"
}

# bench_sampler_start FILE: samples every BENCH_SAMPLE_S (5) seconds into
# FILE until bench_sampler_stop
BENCH_SAMPLER=''
bench_sampler_start() {
    BENCH_PID=$$ BENCH_UID=$(basename "$W")
    BENCH_SAMPLES=$1
    BENCH_LOAD_T0=$EPOCHREALTIME
    : >"$W/sampler.prev"
    # not a job of this shell (a bare `wait` would wait for it): started by
    # a subshell that exits at once; stopped by its pid
    (
        (
            set +e
            s=''
            trap '[[ -n $s ]] && kill "$s" 2>/dev/null; exit 0' TERM
            while :; do
                _bench_sample "$W/sampler.prev" >>"$BENCH_SAMPLES"
                sleep "${BENCH_SAMPLE_S:-5}" &
                s=$!
                wait "$s"
                s=''
            done
        ) </dev/null &
        echo "$!" >"$W/sampler.pid"
    )
    BENCH_SAMPLER=$(cat "$W/sampler.pid")
    e2e_at_exit bench_sampler_stop
}
bench_sampler_stop() {
    local -
    set +e
    [[ -n $BENCH_SAMPLER ]] || return 0
    kill "$BENCH_SAMPLER" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$BENCH_SAMPLER" 2>/dev/null || break; sleep 0.1; done
    BENCH_SAMPLER=''
    BENCH_LOAD_T1=$EPOCHREALTIME
    return 0
}

# bench_load_summary: after bench_sampler_stop, one line: CPU time used
# outside the bench during the sampled interval (other host processes, other
# containers, kernel threads) against the bench's own, the busiest others,
# the sampled 1-min load range, and "quiet: yes|no" (others used < 5 % of the
# machine's CPU and no other container ran at the start or the end)
bench_load_summary() {
    local hz host_ns wall
    hz=$(getconf CLK_TCK)
    host_ns=$(readlink /proc/self/ns/pid)
    wall=$(calc "${BENCH_LOAD_T1:-$EPOCHREALTIME} - $BENCH_LOAD_T0" %.0f)
    awk -v hz="$hz" -v hns="$host_ns" -v wall="$wall" -v cpus="$(nproc)" -v oursf="$W/ns.ours" \
        -v others_idle="${1:-1}" -v every="${BENCH_SAMPLE_S:-5}" '
        BEGIN { while ((getline l < oursf) > 0) ours[l] = 1 }
        $1 == "L" { ld[nl++] = $3; next }
        $1 == "P" { s = $5 / hz
            if ($3 == "d" || $3 == "c" || ($4 in ours)) bench += s
            else if ($3 == "k") kern += s
            else { other += s; name = $6 ($4 != hns && $4 != "?" ? " (container)" : ""); by[name] += s } }
        END { for (i = 1; i < nl; i++) for (j = i; j > 0 && ld[j - 1] > ld[j]; j--) { y = ld[j]; ld[j] = ld[j - 1]; ld[j - 1] = y }
              top = ""; for (k = 0; k < 5; k++) { b = ""; for (x in by) if (b == "" || by[x] > by[b]) b = x
                  if (b == "" || by[b] < 0.5) break
                  top = top (top == "" ? "" : ", ") sprintf("%s %.0f s", b, by[b]); delete by[b] }
              cap = wall * cpus; pct = cap > 0 ? 100 * other / cap : 0
              printf "%.0f CPU-s outside the bench (%.1f%% of %d CPUs x %d s)%s; kernel threads %.0f CPU-s; the bench %.0f CPU-s; 1-min load sampled every %s s: %s-%s (median %s); quiet: %s\n",
                  other, pct, cpus, wall, (top == "" ? "" : "; busiest: " top), kern, bench, every,
                  (nl ? ld[0] : "?"), (nl ? ld[nl - 1] : "?"), (nl ? ld[int(nl / 2)] : "?"),
                  (pct < 5 && others_idle ? "yes" : "**no**") }' "$BENCH_SAMPLES"
}

# ---------------------------------------------------------------- engines

have() { command -v "$1" >/dev/null 2>&1; }
DOCKER=/usr/bin/docker # docker.io's client (a /usr/local/bin/docker may be another)

# the multi-service copy of the image: cp -a, apt-get in a chroot (no
# service starts: policy-rc.d), apt lists and caches removed
_bench_svc_build() {
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

# bench_peers_avail: the variants this machine can run besides hook and ideal
bench_peers_avail() {
    local a=()
    have systemd-nspawn && a+=(nspawn)
    have lxc-start && a+=(lxc)
    have podman && a+=(podman)
    [[ -x $DOCKER ]] && have dockerd && a+=(docker docker-wa)
    echo "${a[*]}"
}

# bench_engines_setup VARIANT...: images and daemons for the variants named
# (the :N suffix of run_set ignored); sets IMAGE and SVC_IMAGE
_podman_names=()
bench_podman_cleanup() {
    local n
    for n in "${_podman_names[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done
    _podman_names=()
    return 0
}
# bench_podman_image ROOTFS TAG: imports ROOTFS into podman once (again when
# it changes); kept in podman's store between runs, like the image cache
bench_podman_image() {
    local stamp want
    stamp=$OSH_CACHE/images/$(basename "$(dirname "$1")").podman-stamp
    want="$(stat -c %Y "$1" 2>/dev/null || echo 0) $(du -s --apparent-size "$1/usr" | cut -f1)"
    if ! podman image exists "$2" || [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
        say "importing $1 into podman as $2"
        tar -C "$1" -c . | podman import - "$2" >/dev/null
        echo "$want" >"$stamp"
    fi
}
bench_engines_setup() {
    local v all=" "
    for v in "$@"; do all+="${v%%:*} "; done
    IMAGE=$(e2e_image bookworm)
    if [[ $all == *" svc-"* ]]; then
        SVC_IMAGE=$(_e2e_cached "$OSH_CACHE/images/bookworm-services" _bench_svc_build "$IMAGE")
    fi
    if [[ $all == *" podman "* || $all == *" svc-podman "* ]]; then
        e2e_at_exit bench_podman_cleanup
        bench_podman_image "$IMAGE" osh-bench:bookworm
        [[ $all == *" svc-podman "* ]] && bench_podman_image "$SVC_IMAGE" osh-bench:bookworm-services
    fi
    if [[ $all == *" docker"* ]]; then
        bench_dockerd_start
    fi
    # systemd-nspawn makes /run/systemd/nspawn/{locks,propagate} on the host
    if [[ $all == *"nspawn "* && ! -e /run/systemd/nspawn ]]; then
        e2e_at_exit 'rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null'
    fi
}

# a private dockerd (as tests/e2e/test-docker.sh starts it), the hook's
# wrapper (oci-systemd-runtime beside $HOOK) as its runtime `systemd`
D=''
dk() { "$DOCKER" -H "unix://$D/docker.sock" "$@"; }
_run_ctrd_created=0
bench_dockerd_start() {
    D=$W/docker
    [[ -e /run/containerd ]] || _run_ctrd_created=1
    mkdir -p "$D/data" "$D/exec"
    # what `oci-systemd-hook configure docker` writes (tests/e2e/test-docker.sh)
    jq -n --arg rt "$(dirname "$HOOK")/oci-systemd-runtime" \
        '{"log-level": "warn", runtimes: {systemd: {path: $rt}}}' >"$D/daemon.json"
    printf 'runtime = %s\n' "$(command -v runc)" >"$D/runtime.conf"
    e2e_at_exit bench_dockerd_stop
    say "starting a private dockerd"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        OCI_SYSTEMD_RUNTIME_CONFIG="$D/runtime.conf" \
        setsid dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
        --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --ip-forward=false \
        --cgroup-parent "/osh-e2e/$(basename "$W")-docker" >>"$D/dockerd.log" 2>&1 </dev/null &
    echo "$!" >"$D/dockerd.spid"
    for _ in $(seq 150); do dk version >/dev/null 2>&1 && break; sleep 0.2; done
    # STOPSIGNAL through a one-line Dockerfile (20.10's import refuses it)
    tar -C "$IMAGE" -c . | dk import --change 'CMD ["/sbin/init"]' - "osh-bench/base0" >/dev/null
    printf 'FROM osh-bench/base0\nSTOPSIGNAL SIGRTMIN+3\n' | dk build -q -t osh-bench/base - >/dev/null
}
# bench_dockerd_stop: containers, dockerd, its containerd and shims, their
# mounts and cgroup; idempotent (called after the boot rounds and at exit)
bench_dockerd_stop() {
    local id p pid -
    set +e
    [[ -n $D && -d $D ]] || return 0
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
    # the shims' sockets that nobody listens on any more
    find /run/containerd/s -maxdepth 1 -type s 2>/dev/null |
        grep -vxF -f <(awk 'NR > 1 { print $NF }' /proc/net/unix) | xargs -r rm -f
    ((_run_ctrd_created)) && rmdir /run/containerd/s /run/containerd 2>/dev/null
    rm -rf --one-file-system "$D"
    D=''
    return 0
}

# nspawn and lxc boot an overlay of the image; nothing else of the bundle
# is used (e2e_bundle mounts it and cleans it up)
_bench_lxc_conf() {
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
lxc.cgroup.relative = 1
EOF
}

# _bench_leader PARENT: the container's init, the first descendant of
# PARENT in another pid namespace
_bench_leader() {
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

# ---------------------------------------------------------------- cgroups

# systemd-nspawn and lxc-start stay in the cgroup of the shell that starts
# them, here the host's root (no systemd as PID 1), and the systemd they
# boot writes there: nspawn --keep-unit makes /payload (the container) and
# /supervisor (itself) in the unified and name=systemd hierarchies, the
# container's systemd its init.scope, system.slice, ... below /payload;
# lxc (privileged) escapes to PID 1's cgroup and makes /lxc.monitor.NAME,
# /lxc.payload.NAME and /lxc.pivot.  So both start from a subshell moved
# into /osh-e2e/<run>-peer-VARIANT-ROUND (cgroup2, name=systemd), lxc with
# lxc.cgroup.relative = 1, the cgroup removed after the teardown.  Podman
# (4.3) in systemd mode on cgroup v1 binds the host's whole name=systemd
# hierarchy on /sys/fs/cgroup/systemd: with --cgroupns=private systemd sees
# itself at "/" and puts its units at the host's root, so on v1 and hybrid
# hosts the bench uses podman's own default there, --cgroupns=host (its
# systemd then writes below its libpod-ID cgroup).  Every boot checks that
# the roots did not change (_bench_cg_check).
_bench_podman_cgns=private
[[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]] || _bench_podman_cgns=host

# _bench_cg_mounts: the mount points of the cgroup2 hierarchy and of the
# name=systemd one, those mounted at their root
_bench_cg_mounts() {
    findmnt -rn -t cgroup2,cgroup -o TARGET,FSROOT,FSTYPE,OPTIONS |
        awk '$2 == "/" && ($3 == "cgroup2" || $4 ~ /(^|,)name=systemd(,|$)/) { print $1 }'
}
# _bench_cg_make CG: makes CG there (outside the clock); _bench_cg_join CG:
# moves this (sub)shell into it (builtins only: inside the clock)
_bench_cg_mps=()
_bench_cg_make() {
    local mp
    mapfile -t _bench_cg_mps < <(_bench_cg_mounts)
    for mp in "${_bench_cg_mps[@]}"; do mkdir -p "$mp$1"; done
}
_bench_cg_join() {
    local mp
    for mp in "${_bench_cg_mps[@]}"; do
        echo "$BASHPID" >"$mp$1/cgroup.procs" || { echo "bench: cannot move into $mp$1" >&2; return 1; }
    done
}
# _bench_cg_leave CG VARIANT ROUND: removes CG (and what the peer made in
# it) once its processes are gone; fails loudly when they are not
_bench_cg_leave() {
    local mp left
    for _ in $(seq 50); do
        e2e_rm_cgroup "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    left=$(for mp in $(_bench_cg_mounts); do [[ -d $mp$1 ]] && find "$mp$1" -name cgroup.procs -exec cat {} +; done | sort -un | tr '\n' ' ')
    say "FAIL: $2 (round $3) left $1 behind, processes: ${left:-none}"
    exit 1
}
# _bench_cg_roots: the host's cgroup roots (cgroup2, name=systemd): every
# directory at depth 1 and 2 with its mtime (a child made or removed there
# changes it), but /osh-e2e and /libpod_parent (the tests' and podman's own
# parents: other runs on the node make and remove children there)
_bench_cg_roots() {
    local mp
    for mp in $(_bench_cg_mounts); do
        find "$mp" -mindepth 1 -maxdepth 2 \( -path "$mp/osh-e2e" -o -path "$mp/libpod_parent" \) -prune \
            -o -type d -printf '%p %T@\n' 2>/dev/null
    done | sort
}
# _bench_cg_check BEFORE VARIANT ROUND: fails loudly when a directory at the
# host's cgroup roots appeared or changed since _bench_cg_roots >BEFORE
_bench_cg_check() {
    local new
    new=$(comm -13 "$1" <(_bench_cg_roots))
    [[ -z $new ]] && return 0
    say "FAIL: during the boot of $2 (round $3) something wrote into the host's cgroup roots" \
        "(the peer's systemd outside its own cgroup, or another process on this node); new or changed:"
    echo "#   ${new//$'\n'/$'\n'#   }" >&2
    exit 1
}

# ---------------------------------------------------------------- boot

BOOT_POLL_MS=20
BOOT_TIMEOUT=60

# boot_one VARIANT ROUND SET: one boot into $W/SET.raw (one osh-timer
# record), SET.raw.rounds ("ROUND record"), SET.raw.answers (what a boot
# that did not reach `running` answered last), SET.raw.start (when the
# start command returned, for those that return); the container is removed afterwards.
# VARIANT: hook, ideal, nspawn, lxc, podman, docker, docker-wa; svc-X: X on
# the multi-service image.  Clock: from just before the start command to
# the end of the first `nsenter -t PID -m systemctl is-system-running`
# printing `running`, polled every BOOT_POLL_MS.
boot_one() {
    local v=${1#svc-} img=base r=$2 raw=$W/$3.raw b name t0 t1='' pid=0 rec out cid='' bg=0 lower cg
    [[ $1 == svc-* ]] && img=svc
    b=$W/boot-$1-$r
    name=$(basename "$W" | tr '[:upper:]' '[:lower:]')-$1-$r
    case $v in
    hook | nspawn | lxc) e2e_bundle "$b" bookworm stage=createRuntime ;;
    ideal) e2e_bundle "$b" bookworm ideal=1 ;;
    *) mkdir -p "$b" ;;
    esac
    # e2e_bundle overlays the bookworm image; the service image instead
    if [[ $img == svc && -d $b/rootfs ]]; then
        lower=$SVC_IMAGE
        umount "$b/rootfs"
        rm -rf --one-file-system "$b/upper" "$b/work"
        mkdir -p "$b/upper" "$b/work"
        mount -t overlay overlay -o "lowerdir=$lower,upperdir=$b/upper,workdir=$b/work" "$b/rootfs"
    fi
    [[ $v == lxc ]] && { mkdir -p "$b/lxc"; _bench_lxc_conf "$b" "$name" >"$b/lxc.conf"; }
    cg=/osh-e2e/$(basename "$W")-peer-$1-$r
    _bench_cg_roots >"$b.cgroots"
    [[ $v == nspawn || $v == lxc ]] && _bench_cg_make "$cg"
    t0=$EPOCHREALTIME
    case $v in
    hook | ideal)
        _e2e_containers+=("runc|$name|$b")
        e2e_rt runc run -d --bundle "$b" "$name" </dev/null >"$b/console.log" 2>&1 ||
            { say "runc run $name failed:"; sed 's/^/#   /' "$b/console.log" >&2; }
        t1=$EPOCHREALTIME
        pid=$(e2e_pid runc "$name" 2>/dev/null) || pid=0
        ;;
    nspawn)
        (_bench_cg_join "$cg" && exec systemd-nspawn -q -b -D "$b/rootfs" -M "$name" --register=no --keep-unit \
            --console=read-only) </dev/null >"$b/console.log" 2>&1 &
        bg=$!
        pid=$(_bench_leader "$bg") || pid=0
        ;;
    lxc)
        (_bench_cg_join "$cg" && exec lxc-start -F -n "$name" -P "$b/lxc" -f "$b/lxc.conf") \
            </dev/null >"$b/console.log" 2>&1 &
        bg=$!
        pid=$(_bench_leader "$bg") || pid=0
        ;;
    podman)
        _podman_names+=("$name")
        podman run -d --name "$name" --runtime runc --systemd=always --cgroupns="$_bench_podman_cgns" --network=none \
            --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --pidfile "$b/pid" \
            "osh-bench:bookworm$([[ $img == svc ]] && echo -services)" /sbin/init >"$b/console.log" 2>&1 ||
            { say "podman run $name failed:"; sed 's/^/#   /' "$b/console.log" >&2; }
        t1=$EPOCHREALTIME
        pid=$(cat "$b/pid" 2>/dev/null || echo 0)
        ;;
    docker)
        cid=$(dk run -d --runtime systemd --cgroupns private --network none osh-bench/base 2>"$b/console.log") ||
            say "docker run failed: $(tail -n 2 "$b/console.log")"
        t1=$EPOCHREALTIME
        pid=$(dk inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null) || pid=0
        ;;
    docker-wa)
        cid=$(dk run -d --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
            --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
            --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --network none osh-bench/base 2>"$b/console.log") ||
            say "docker run (workaround) failed: $(tail -n 2 "$b/console.log")"
        t1=$EPOCHREALTIME
        pid=$(dk inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null) || pid=0
        ;;
    esac
    [[ -n $t1 ]] && printf 'start-%s %s 0 0 0 0\n' "$1" "$(calc "($t1 - $t0) * 1e9" %.0f)" >>"$raw.start"
    rec="$1 0 0 1 0 0"
    if ((pid > 0)); then
        bench_ours "$pid"
        rec=$("$TIMER" poll -i "$BOOT_POLL_MS" -t "$BOOT_TIMEOUT" -s "$t0" "$1" \
            nsenter -t "$pid" -m systemctl is-system-running 2>"$b/poll.err") || true
        out=$(tail -n 1 "$b/poll.err" 2>/dev/null)
        [[ -n $out ]] && echo "$1 $out" >>"$raw.answers"
    else
        echo "$1 no container pid" >>"$raw.answers"
    fi
    echo "$rec" >>"$raw"
    echo "$r $rec" >>"$raw.rounds"
    # teardown (outside the clock)
    case $v in
    hook | ideal)
        e2e_rt runc kill "$name" KILL >/dev/null 2>&1 || true
        _e2e_forget runc "$name"
        ;;
    nspawn | lxc)
        ((pid > 0)) && { kill -KILL "$pid" 2>/dev/null || true; }
        kill -TERM "$bg" 2>/dev/null || true
        wait "$bg" 2>/dev/null || true
        ;;
    podman)
        podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
        _e2e_list_remove _podman_names "$name"
        ;;
    docker | docker-wa) [[ -n $cid ]] && { dk rm -f "$cid" >/dev/null 2>&1 || true; } ;;
    esac
    # The workaround binds the host's /sys/fs/cgroup (a tmpfs on hybrid
    # hosts) and systemd inside remounts it read-only: that changes the
    # host's superblock, for every process of the node.  Seen here; put back.
    if [[ $v == docker-wa ]] && findmnt -no FS-OPTIONS /sys/fs/cgroup | grep -q '^ro'; then
        say "the workaround's container made the host's /sys/fs/cgroup read-only; remounting it rw"
        echo "$1 made the host's /sys/fs/cgroup read-only (round $r)" >>"$raw.answers"
        mount -o remount,rw /sys/fs/cgroup
    fi
    [[ -d $b/rootfs ]] && e2e_bundle_cleanup "$b"
    rm -rf --one-file-system "$b"
    [[ $v == nspawn || $v == lxc ]] && _bench_cg_leave "$cg" "$1" "$r"
    _bench_cg_check "$b.cgroots" "$1" "$r"
    rm -f "$b.cgroots"
}

# run_set SET ROUNDS VARIANT[:N]...: ROUNDS rounds, each booting every
# variant once, back to back, the order rotating from round to round; a
# variant given as V:N takes part in the first N rounds only.  Then the
# summaries $W/SET.tsv (boots that reached `running`) and SET.start.tsv.
run_set() {
    local set=$1 rounds=$2 raw=$W/$1.raw r j v nv vs
    shift 2
    : >"$raw"
    : >"$raw.rounds"
    : >"$raw.answers"
    : >"$raw.start"
    say "boot to running ($set): $*, $rounds rounds, interleaved"
    for ((r = 0; r < rounds; r++)); do
        vs=()
        for v in "$@"; do
            if [[ $v != *:* ]] || ((r < ${v#*:})); then vs+=("${v%%:*}"); fi
        done
        nv=${#vs[@]}
        for ((j = 0; j < nv; j++)); do boot_one "${vs[(j + r) % nv]}" "$r" "$set"; done
    done
    awk '$4 == 0' "$raw" | "$TIMER" stats >"$W/$set.tsv" || true
    "$TIMER" stats <"$raw.start" >"$W/$set.start.tsv" || true
}

# what the variants are, for the tables
boot_desc() {
    case ${1#svc-} in
    hook) echo "runc, the hook at createRuntime" ;;
    ideal) echo "runc, ideal spec (the hook's mounts in config.json)" ;;
    nspawn) echo "\`systemd-nspawn -b\`" ;;
    lxc) echo "\`lxc-start -F\`" ;;
    podman) echo "\`podman run --systemd=always\`" ;;
    docker) echo "Docker + the hook's wrapper (\`--runtime systemd\`)" ;;
    docker-wa) echo "Docker's usual workaround (privileges, tmpfs, host cgroups)" ;;
    esac
}

# boot_pair SET A B: "MEDIAN_A MEDIAN_B RATIO PAIRED WINS N LO HI" (A/B)
boot_pair() {
    local ma mb
    ma=$(tsv "$W/$1.tsv" "$2" median_us) mb=$(tsv "$W/$1.tsv" "$3" median_us)
    echo "$ma $mb $(if [[ $ma == nan || $mb == nan ]]; then echo nan; else calc "$ma / $mb"; fi)" \
        "$(paired "$W/$1.raw.rounds" "$2" "$3")"
}

# boot_table SET TITLE VARIANT...: one row per variant: boots, reached
# `running`, median, p10, p90 (of those that did), when the start command
# returned, hook/this paired, other answers
boot_table() {
    local set=$1 title=$2 v n ok pr ans st m w pn lo hi base=hook
    shift 2
    [[ $set == svc ]] && base=svc-hook
    echo "| $title | boots | reached \`running\` | median | p10 | p90 | start command returned (median) | hook / this, paired (95% CI), hook faster | other answers |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for v in "$@"; do
        v=${v%%:*}
        n=$(awk -v v="$v" '$1 == v' "$W/$set.raw" | wc -l)
        ok=$(awk -v v="$v" '$1 == v && $4 == 0' "$W/$set.raw" | wc -l)
        pr=''
        if [[ $v != "$base" ]]; then
            read -r m w pn lo hi < <(paired "$W/$set.raw.rounds" "$base" "$v")
            [[ $m != nan ]] && pr="${m}x (${lo}–${hi}), $w/$pn"
        fi
        st=$(tsv "$W/$set.start.tsv" "start-$v" median_us)
        ans=$(awk -v v="$v" '$1 == v { $1 = ""; sub(/^ /, ""); print }' "$W/$set.raw.answers" | sort | uniq -c |
            awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%d× %s", (NR > 1 ? "; " : ""), c, $0 }')
        echo "| ${v#svc-} | $n | $ok | $(ms "$(tsv "$W/$set.tsv" "$v" median_us)") | $(ms "$(tsv "$W/$set.tsv" "$v" p10_us)") | $(ms "$(tsv "$W/$set.tsv" "$v" p90_us)") | $(ms "$st") | ${pr:-–} | ${ans:-–} |"
    done
}

# bench_mark NAME: NAME took the time since the last mark (or $T_BEGIN);
# $BENCH_MARKS lists them, for the results file
bench_mark() {
    BENCH_MARKS+="${BENCH_MARKS:+, }$1 $(calc "$EPOCHREALTIME - ${BENCH_MARK_T:-$T_BEGIN}" %.0f) s"
    BENCH_MARK_T=$EPOCHREALTIME
}

# bench_versions: the engines' versions, one line
bench_versions() {
    local a=("$(runc --version | head -n1)")
    have crun && a+=("$(crun --version | head -n1)")
    have systemd-nspawn && a+=("nspawn: $(systemd-nspawn --version | head -n1)")
    have lxc-start && a+=("lxc $(lxc-start --version)")
    have podman && a+=("$(podman --version)")
    [[ -x $DOCKER ]] && a+=("$("$DOCKER" --version | cut -d, -f1)")
    local IFS=, j
    j="${a[*]}"
    echo "${j//,/, }"
}
