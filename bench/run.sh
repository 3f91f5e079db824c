#!/bin/bash
# bench/run.sh: the performance bench of oci-systemd-hook, one command.
#
#   sudo bench/run.sh
#
# Installs what it needs (scripts/deps.sh: podman, gcc...), builds the hook
# (scripts/build.sh), runs every measurement next to a baseline measured in
# the same run, interleaved, prints a table and writes it, with the machine,
# its load and the versions, to bench/results/<date>-<hostname>.md
# (bench/report.sh copies it into docs/performance.md).  The boot rounds
# include the peers (systemd-nspawn, lxc, podman, Docker with the hook's
# wrapper and with Docker's usual workaround: bench/lib.sh) and a
# multi-service image.  docs/performance.md explains the method and how
# long a run takes.
#
# Environment:
#   OSH_BENCH_FAST_RUNS    fast path runs per program (default 500)
#   OSH_BENCH_SD_RUNS      systemd path runs, fresh container each (default 30)
#   OSH_BENCH_BOOT_RUNS    boot rounds: hook, ideal spec, podman (default 20)
#   OSH_BENCH_NO_PEERS=1   no nspawn, lxc, Docker, multi-service image
#   OSH_BENCH_PEERS        peers to boot (default: those installed of
#                          nspawn lxc docker docker-wa)
#   OSH_BENCH_PEERS_ROUNDS the first N boot rounds also boot the peers
#                          (default: all of them)
#   OSH_BENCH_SVC_ROUNDS   multi-service image rounds (default 5)
#   OSH_BENCH_SVC_VARIANTS its variants (default "hook nspawn podman:3": V:N
#                          boots in the first N rounds only; podman never
#                          reaches `running` there on a hybrid host)
#   OSH_BENCH_SVC_TIMEOUT  seconds a multi-service boot may take (default 30)
#   BENCH_SAMPLE_S         seconds between two samples of the machine's load (5)
#   OSH_BENCH_PARSE_RUNS   runs per config size (default 15)
#   OSH_BENCH_CONCURRENT   containers started at once (default 20)
#   OSH_BENCH_NO_PODMAN=1  skip the podman baseline
#   OSH_BENCH_OUT          results file (default bench/results/DATE-HOST.md)
#   OSH_BENCH_SNAPSHOT_IGNORE  ERE of host snapshot lines to ignore in the
#                          concurrency check (default: /tmp/ and the state dirs
#                          of other engines in /run, which other work on a
#                          shared machine changes; '' to compare everything)
#   OSH_CACHE, OSH_MIRROR  image cache and mirror (tests/e2e/lib.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
if [[ $(id -u) != 0 ]]; then
    echo "bench/run.sh: run as root (sudo bench/run.sh)" >&2
    exit 1
fi

N_FAST=${OSH_BENCH_FAST_RUNS:-500}
N_SD=${OSH_BENCH_SD_RUNS:-30}
N_BOOT=${OSH_BENCH_BOOT_RUNS:-20}
N_PEERS=${OSH_BENCH_PEERS_ROUNDS:-$N_BOOT}
N_SVC=${OSH_BENCH_SVC_ROUNDS:-5}
N_PARSE=${OSH_BENCH_PARSE_RUNS:-15}
N_CONC=${OSH_BENCH_CONCURRENT:-20}
SNAP_IGNORE=${OSH_BENCH_SNAPSHOT_IGNORE-'^/tmp/|^/run/(containerd|containers|libpod|netns|cni)[ /]'}
CONC_POLL_MS=250

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
T_BEGIN=$EPOCHREALTIME
LOAD_BEGIN=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- setup

want_podman=1
[[ ${OSH_BENCH_NO_PODMAN:-} == 1 ]] && want_podman=0
want_peers=1
[[ ${OSH_BENCH_NO_PEERS:-} == 1 ]] && want_peers=0
say "dependencies"
deps=(libc6-dev)
((want_podman)) && deps+=(podman)
((want_peers)) && deps+=(systemd-container lxc) # nspawn; docker.io is a test dependency
"$ROOT/scripts/deps.sh" "${deps[@]}"
say "building the hook (scripts/build.sh)"
"$ROOT/scripts/build.sh"

export OSH_E2E_TMPROOT=/tmp/osh-bench
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
e2e_init

e2e_cgroup_hold

W=$E2E_TMP
# A copy of the binary: a rebuild in the tree during the bench cannot change
# what is measured.
HOOK=$W/oci-systemd-hook
cp "$ROOT/oci-systemd-hook" "$HOOK"
ln -s oci-systemd-hook "$W/oci-systemd-runtime" # the wrapper: the same binary
export HOOK
TIMER=$W/osh-timer
bench_timer "$TIMER"
RUNC=(runc --root "$E2E_STATE/runc")
IMAGE=$(e2e_image bookworm)

# the machine's load: what runs besides the bench, before, during, after
LOAD_FACTS_BEGIN=$(bench_load_facts)
bench_sampler_start "$W/load.samples"
bench_mark "setup"

# state_json ID PID BUNDLE: the state a runtime sends at createRuntime.
state_json() {
    printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{}}\n' \
        "$1" "$2" "$3"
}

# has_run_tmpfs PID: the container of PID has a tmpfs on /run (what the
# hook mounts), seen through /proc/PID/mountinfo (paths relative to its root).
has_run_tmpfs() {
    awk '{ for (i = 7; $i != "-"; i++) ; if ($5 == "/run" && $(i + 1) == "tmpfs") f = 1 }
         END { exit !f }' "/proc/$1/mountinfo"
}

# ---------------------------------------------------------------- 1. fast path

say "1. fast path: hook vs /bin/true, $N_FAST runs each, interleaved"
FP=$W/fast
mkdir -p "$FP/rootfs"
runc spec --bundle "$FP"
jq '.process.terminal = false | .process.args = ["/bin/sh"]' "$FP/config.json" >"$FP/c.json"
mv "$FP/c.json" "$FP/config.json"
state_json osh-bench-fast $$ "$FP" >"$FP/state.json"

# Diagnostic programs, same run: an empty dynamically linked C program (the
# floor for any dynamic binary: exec, ld.so, libc) and the hook's own
# objects relinked -static-pie (what static linking would give).
echo 'int main(void) { return 0; }' >"$W/empty.c"
gcc -O2 -o "$W/empty-dyn" "$W/empty.c"
fp_groups=(label=hook "in=$FP/state.json" "$HOOK" createRuntime
    :: label=true "in=$FP/state.json" /bin/true
    :: label=empty-dyn "in=$FP/state.json" "$W/empty-dyn")
have_static=0
read -ra yajl_a <<<"$(sed -n 's/^YAJL_LIBS = *//p' "$ROOT/Makefile" 2>/dev/null)"
if [[ -f $ROOT/hook.o && -f $ROOT/libosh.a ]] &&
    gcc -static-pie -o "$W/hook-static-pie" "$ROOT/hook.o" "$ROOT/libosh.a" "${yajl_a[@]}" \
        >"$W/static-link.log" 2>&1; then
    have_static=1
    fp_groups+=(:: label=hook-static-pie "in=$FP/state.json" "$W/hook-static-pie" createRuntime)
fi
"$TIMER" run -n "$N_FAST" -w 10 -r "$W/fast.raw" "${fp_groups[@]}" >"$W/fast.tsv"
F_HOOK=$(tsv "$W/fast.tsv" hook median_us)
F_TRUE=$(tsv "$W/fast.tsv" true median_us)
F_EMPTY=$(tsv "$W/fast.tsv" empty-dyn median_us)
F_RATIO=$(calc "$F_HOOK / $F_TRUE")
F_FAILS=$(tsv "$W/fast.tsv" hook nonzero)
if ((have_static)); then
    F_STATIC=$(tsv "$W/fast.tsv" hook-static-pie median_us)
    F_STATIC_RATIO=$(calc "$F_STATIC / $F_TRUE")
fi
bench_mark "1."
F_LIBS=$(ldd "$HOOK" | awk '$1 !~ /vdso|ld-linux/ { print $1 }' | paste -sd' ')

# ---------------------------------------------------------------- 2. systemd path

# 2a. By hand: `runc create` without the hook (runc has done pivot_root and
# waits in `created`), then the hook with that container's state, status
# "creating".  Past pivot_root the hook finds the rootfs at / and treats the
# container as already running (what `runc restore` re-runs it on): it only
# redoes the cgroup ownership.  So this row is the cost of that re-run path;
# the full systemd path is 2b, timed where runc runs the hook.
say "2a. systemd path by hand on created containers, $N_SD runs"
: >"$W/sd-hand.raw"
sd_ok=0
i=0
while ((i < N_SD)); do
    batch=()
    for ((k = 0; k < 10 && i < N_SD; k++, i++)); do
        b=$W/sdh$i
        e2e_bundle "$b" bookworm
        name=$(basename "$W")-sdh$i
        _e2e_containers+=("runc|$name|$b")
        "${RUNC[@]}" create --bundle "$b" "$name" </dev/null >"$b/console.log" 2>&1
        pid=$("${RUNC[@]}" state "$name" | jq -r .pid)
        state_json "$name" "$pid" "$b" >"$b/state.json"
        batch+=("$name|$b|$pid")
    done
    groups=()
    for e in "${batch[@]}"; do
        IFS='|' read -r name b pid <<<"$e"
        groups+=(label=hook "in=$b/state.json" "err=$b/hook.err" "$HOOK" createRuntime
            :: label=true "in=$b/state.json" /bin/true
            :: label=hook-again "in=$b/state.json" "err=$b/hook.err" "$HOOK" createRuntime ::)
    done
    unset 'groups[${#groups[@]}-1]'
    "$TIMER" run -n 1 -w 0 -r "$W/sd-hand.batch" "${groups[@]}" >/dev/null
    cat "$W/sd-hand.batch" >>"$W/sd-hand.raw"
    for e in "${batch[@]}"; do
        IFS='|' read -r name b pid <<<"$e"
        if [[ ! -s $b/hook.err ]]; then sd_ok=$((sd_ok + 1)); else
            say "container $name: the hook complained"
            sed 's/^/#   /' "$b/hook.err" >&2 || true
        fi
        _e2e_forget runc "$name"
        e2e_bundle_cleanup "$b"
    done
done
"$TIMER" stats <"$W/sd-hand.raw" >"$W/sd-hand.tsv"
bench_mark "2a."
SH_HOOK=$(tsv "$W/sd-hand.tsv" hook median_us)
SH_P90=$(tsv "$W/sd-hand.tsv" hook p90_us)
SH_AGAIN=$(tsv "$W/sd-hand.tsv" hook-again median_us)
SH_TRUE=$(tsv "$W/sd-hand.tsv" true median_us)
SH_FAILS=$(tsv "$W/sd-hand.tsv" hook nonzero)
SH_CPU=$(tsv "$W/sd-hand.tsv" hook cpu_med_us)

# 2b. In situ: the hook registered at createRuntime through `osh-timer wrap`,
# which times it exactly where runc runs it (before pivot_root, state on a
# pipe); every other container gets /bin/true there instead (a no-op hook).
say "2b. systemd path in situ (createRuntime under runc create), $N_SD + $N_SD runs"
: >"$W/sd-situ.raw"
: >"$W/sd-create.raw"
sit_ok=0
for ((i = 0; i < 2 * N_SD; i++)); do
    b=$W/sds$i
    e2e_bundle "$b" bookworm
    name=$(basename "$W")-sds$i
    if ((i % 2 == 0)); then
        lab=hook cmd=("$HOOK" createRuntime)
    else
        lab=true cmd=(/bin/true)
    fi
    jq --arg t "$TIMER" --arg raw "$W/sd-situ.raw" --arg lab "$lab" --args \
        '.hooks.createRuntime = [{path: $t, args: (["osh-timer", "wrap", $raw, $lab] + $ARGS.positional)}]' \
        "${cmd[@]}" <"$b/config.json" >"$b/c.json"
    mv "$b/c.json" "$b/config.json"
    _e2e_containers+=("runc|$name|$b")
    "$TIMER" run -n 1 -w 0 -r "$W/create.one" "label=create-$lab" "err=$b/create.err" \
        runc --root "$E2E_STATE/runc" create --bundle "$b" "$name" >/dev/null
    cat "$W/create.one" >>"$W/sd-create.raw"
    if [[ $lab == hook ]]; then
        pid=$("${RUNC[@]}" state "$name" 2>/dev/null | jq -r .pid) || pid=0
        if ((pid > 0)) && has_run_tmpfs "$pid"; then sit_ok=$((sit_ok + 1)); else
            say "container $name: no tmpfs on /run after runc create with the hook"
            sed 's/^/#   /' "$b/create.err" >&2 || true
        fi
    fi
    _e2e_forget runc "$name"
    e2e_bundle_cleanup "$b"
done
"$TIMER" stats <"$W/sd-situ.raw" >"$W/sd-situ.tsv"
bench_mark "2b."
"$TIMER" stats <"$W/sd-create.raw" >"$W/sd-create.tsv"
SS_HOOK=$(tsv "$W/sd-situ.tsv" hook median_us)
SS_P90=$(tsv "$W/sd-situ.tsv" hook p90_us)
SS_TRUE=$(tsv "$W/sd-situ.tsv" true median_us)
SS_N=$(tsv "$W/sd-situ.tsv" hook n)
SS_FAILS=$(tsv "$W/sd-situ.tsv" hook nonzero)
SS_CPU=$(tsv "$W/sd-situ.tsv" hook cpu_med_us)
SC_HOOK=$(tsv "$W/sd-create.tsv" create-hook median_us)
SC_TRUE=$(tsv "$W/sd-create.tsv" create-true median_us)

# ---------------------------------------------------------------- 3. boot

# All variants in the same rounds (bench/lib.sh: boot_one, run_set): hook,
# ideal spec, podman in each; the peers in the first N_PEERS; then the
# multi-service image in rounds of its own.
podman_ok=0
((want_podman)) && have podman && podman_ok=1
BOOT_VARIANTS=(hook ideal)
((podman_ok)) && BOOT_VARIANTS+=(podman)
PEERS=()
if ((want_peers && N_PEERS > 0)); then
    for v in ${OSH_BENCH_PEERS:-nspawn lxc docker docker-wa}; do
        [[ " $(bench_peers_avail) " == *" $v "* ]] && PEERS+=("$v")
    done
fi
boot_set=("${BOOT_VARIANTS[@]}")
for v in "${PEERS[@]}"; do boot_set+=("$v:$N_PEERS"); done
SVC_VARIANTS=()
if ((want_peers && N_SVC > 0)); then
    for v in ${OSH_BENCH_SVC_VARIANTS:-hook nspawn podman:3}; do
        [[ ${v%%:*} == hook || " $(bench_peers_avail) " == *" ${v%%:*} "* ]] || continue
        [[ ${v%%:*} == podman ]] && ((!podman_ok)) && continue
        SVC_VARIANTS+=("svc-$v")
    done
fi
bench_engines_setup "${boot_set[@]}" "${SVC_VARIANTS[@]}"
bench_mark "engines' setup"

say "3. boot to running"
run_set boot "$N_BOOT" "${boot_set[@]}"
bench_dockerd_stop # not running during the rest
bench_mark "3. boot"
if ((${#SVC_VARIANTS[@]})); then
    BOOT_TIMEOUT=${OSH_BENCH_SVC_TIMEOUT:-30} run_set svc "$N_SVC" "${SVC_VARIANTS[@]}"
    bench_mark "3. multi-service"
fi

# boot_row NUM SET A B TITLE TARGET WHO: a row of the main table, A/B;
# TARGET "–": no target, the column says what the interval shows
boot_row() {
    local ma mb ratio pm w n lo hi met tg=– na nb
    read -r ma mb ratio pm w n lo hi < <(boot_pair "$2" "$3" "$4")
    na=$(reached "$2" "$3") nb=$(reached "$2" "$4")
    if [[ $6 == – ]]; then met=$(reading "$lo" "$hi" "$7"); else met=$(verdict "$6" "$lo" "$hi") tg="≤ $6x"; fi
    echo "| $1 | $5 | $(ms "$ma")$na | $(boot_desc "$4") $(ms "$mb")$nb | $( [[ $ratio == nan ]] && echo – || echo "${ratio}x; paired ${pm}x (95% CI ${lo}–${hi}), $7 faster in $w/$n rounds") | $tg | $met |"
}
# reached SET V: " (K/N reached running)" when some boots did not
reached() {
    awk -v v="$2" '$1 == v { n++; k += $4 == 0 } END { if (k < n) printf " (%d/%d reached `running`)", k, n }' "$W/$1.raw"
}

# ---------------------------------------------------------------- 5. parse

# gen_config BYTES FILE: a config.json of exactly BYTES bytes, command
# /bin/sh (not systemd: only reading and parsing is measured), padded with
# an annotations object of 100-byte members.
gen_config() {
    awk -v target="$1" 'BEGIN {
        head = "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0}," \
               "\"args\":[\"/bin/sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"," \
               "\"TERM=xterm\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},\"hostname\":\"bench\"," \
               "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]," \
               "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"}]},\"annotations\":{"
        tail = "}}"
        budget = target - length(head) - length(tail)
        # member i: "bench.pad.%08d":"<pad>" = 23 + len(pad) bytes, + 1 comma
        n = int((budget + 1) / 100); rest = budget - (100 * n - 1)
        if (rest > 0 && rest < 25) { n--; rest += 100 }
        if (n < 0 || budget < 0) { print "target too small" > "/dev/stderr"; exit 1 }
        pad = sprintf("%76s", ""); gsub(/ /, "x", pad)
        printf "%s", head
        for (i = 0; i < n; i++)
            printf "%s\"bench.pad.%08d\":\"%s\"", (i ? "," : ""), i, pad
        if (rest > 0) {
            last = sprintf("%" (rest - 24 + (n ? 0 : 1)) "s", ""); gsub(/ /, "y", last)
            printf "%s\"bench.pad.%08d\":\"%s\"", (n ? "," : ""), n, last
        }
        printf "%s", tail
    }' >"$2"
}

say "5. config.json parse time, $N_PARSE runs per size"
PARSE_SIZES=(1K:1024 100K:102400 1M:1048576 10M:10485760)
CAP=$((16 * 1024 * 1024))
pgroups=()
for s in "${PARSE_SIZES[@]}" cap:$CAP over:$((CAP + 1)); do
    lab=${s%%:*} bytes=${s#*:}
    d=$W/parse-$lab
    mkdir -p "$d/rootfs"
    if [[ $lab == over ]]; then
        cp "$W/parse-cap/config.json" "$d/config.json"
        printf '\n' >>"$d/config.json" # trailing whitespace is valid JSON
    else
        gen_config "$bytes" "$d/config.json"
    fi
    [[ $(stat -c %s "$d/config.json") == "$bytes" ]] || { say "gen_config $lab: wrong size"; exit 1; }
    jq -e .process.args "$d/config.json" >/dev/null # valid JSON
    state_json "osh-bench-parse-$lab" $$ "$d" >"$d/state.json"
    [[ $lab == cap ]] && continue # measured once below
    pgroups+=("label=$lab" "in=$d/state.json" "err=$d/err" "$HOOK" createRuntime ::)
done
pgroups+=(label=true "in=$W/parse-1K/state.json" /bin/true)
"$TIMER" run -n "$N_PARSE" -w 1 -r "$W/parse.raw" "${pgroups[@]}" >"$W/parse.tsv"
"$TIMER" run -n 3 -w 0 label=cap "in=$W/parse-cap/state.json" "err=$W/parse-cap/err" \
    "$HOOK" createRuntime >"$W/parse-cap.tsv"
# the refusal, once more by itself: exit status and message
rm -f "$W/parse-over/err"
rc=0
"$HOOK" createRuntime <"$W/parse-over/state.json" 2>"$W/parse-over/err" || rc=$?
OVER_RC=$rc
OVER_LINES=$(wc -l <"$W/parse-over/err")
OVER_MSG=$(head -n 1 "$W/parse-over/err")
OVER_T=$(tsv "$W/parse.tsv" over median_us)
bench_mark "5."
# perbyte LABEL BYTES COLUMN: (LABEL - 1K) / (BYTES - 1024), in ns per byte
perbyte() {
    calc "($(tsv "$W/parse.tsv" "$1" "$3") - $(tsv "$W/parse.tsv" 1K "$3")) * 1000 / ($2 - 1024)"
}
# linear: yes when the CPU cost per byte at 1 MiB and 10 MiB is within a
# factor 1.5 of the one at 100 KiB (a quadratic step would be 10x)
linear() {
    local a b c
    a=$(perbyte 100K 102400 cpu_med_us) b=$(perbyte 1M 1048576 cpu_med_us) c=$(perbyte 10M 10485760 cpu_med_us)
    yesno "$b <= 1.5 * $a && $c <= 1.5 * $a && $b >= $a / 1.5 && $c >= $a / 1.5"
}

# ---------------------------------------------------------------- 6. concurrency

say "6. $N_CONC containers with the hook started at once"
conc=()
for ((i = 0; i < N_CONC; i++)); do
    b=$W/conc$i
    e2e_bundle "$b" bookworm stage=createRuntime
    conc+=("$(basename "$W")-conc$i|$b")
done
OSH_E2E_SNAPSHOT_IGNORE=$SNAP_IGNORE e2e_host_snapshot "$W/host.before"
: >"$W/conc.raw"
t0=$EPOCHREALTIME
for e in "${conc[@]}"; do
    name=${e%%|*} b=${e#*|}
    _e2e_containers+=("runc|$name|$b")
    "${RUNC[@]}" run -d --bundle "$b" "$name" </dev/null >"$b/console.log" 2>&1 &
done
C_START_FAIL=0
for job in $(jobs -p); do wait "$job" || C_START_FAIL=$((C_START_FAIL + 1)); done
t_started=$EPOCHREALTIME
for e in "${conc[@]}"; do
    name=${e%%|*} b=${e#*|}
    pid=$("${RUNC[@]}" state "$name" 2>/dev/null | jq -r .pid) || pid=0
    if ((pid > 0)); then
        bench_ours "$pid"
        "$TIMER" poll -i "$CONC_POLL_MS" -t 120 -s "$t0" c \
            nsenter -t "$pid" -m systemctl is-system-running >"$b/poll" 2>"$b/poll.err" &
    else
        echo "c 0 0 1 0 0" >"$b/poll"
    fi
done
wait
t_all=$EPOCHREALTIME
for e in "${conc[@]}"; do cat "${e#*|}/poll" >>"$W/conc.raw"; done
"$TIMER" stats <"$W/conc.raw" >"$W/conc.tsv"
C_RUNNING=$(awk '$4 == 0' "$W/conc.raw" | wc -l)
C_WALL=$(calc "$t_all - $t0")
C_STARTED=$(calc "$t_started - $t0")
C_MED=$(tsv "$W/conc.tsv" c median_us)
C_MAX=$(tsv "$W/conc.tsv" c max_us)
# clean stop: SIGRTMIN+3 to all, then delete
t0=$EPOCHREALTIME
for e in "${conc[@]}"; do "${RUNC[@]}" kill "${e%%|*}" 37 >/dev/null 2>&1 || true; done
C_STOP_KILLED=0
for e in "${conc[@]}"; do
    name=${e%%|*}
    for ((k = 0; k < 600; k++)); do
        st=$(e2e_status runc "$name")
        [[ $st == stopped || $st == gone ]] && break
        sleep 0.05
    done
    if [[ $st != stopped && $st != gone ]]; then
        C_STOP_KILLED=$((C_STOP_KILLED + 1))
        "${RUNC[@]}" kill "$name" KILL >/dev/null 2>&1 || true
    fi
done
C_STOP=$(calc "$EPOCHREALTIME - $t0")
for e in "${conc[@]}"; do
    _e2e_forget runc "${e%%|*}"
    e2e_bundle_cleanup "${e#*|}"
done
OSH_E2E_SNAPSHOT_IGNORE=$SNAP_IGNORE e2e_host_snapshot "$W/host.after"
bench_mark "6."
C_HOST=unchanged
e2e_host_compare "$W/host.before" "$W/host.after" 2>/dev/null || C_HOST=changed
leftovers=$({ e2e_leftovers || true; } | grep -v -- '-hold$' || true) # the hold: e2e_cgroup_hold
if [[ -n $leftovers ]]; then
    C_HOST="$C_HOST, leftovers: $(paste -sd' ' <<<"$leftovers")"
fi

# ---------------------------------------------------------------- report

bench_sampler_stop
T_TOTAL=$(calc "$EPOCHREALTIME - $T_BEGIN" %.0f)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
LOAD_FACTS_END=$(bench_load_facts)
others_idle=1
for f in "$LOAD_FACTS_BEGIN" "$LOAD_FACTS_END"; do
    [[ $f == *"processes; 0 other containers"* ]] || others_idle=0
done
LOAD_DURING=$(bench_load_summary "$others_idle")
RSS_FAST=$(tsv "$W/fast.tsv" hook maxrss_max_kib)
RSS_TRUE=$(tsv "$W/fast.tsv" true maxrss_max_kib)
RSS_SD=$(tsv "$W/sd-hand.tsv" hook maxrss_max_kib)
RSS_SITU=$(tsv "$W/sd-situ.tsv" hook maxrss_max_kib)
RSS_SD_MAX=$((RSS_SD > RSS_SITU ? RSS_SD : RSS_SITU))
cgmode=$(if e2e_is_v2; then echo v2; elif [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
    echo hybrid; else echo v1; fi)
host=$(hostname -s 2>/dev/null || hostname)
day=$(date -u +%Y-%m-%d)
OUT=${OSH_BENCH_OUT:-$BENCH/results/$day-$host.md}
mkdir -p "$(dirname "$OUT")"
img_systemd=$(dpkg-query --admindir="$IMAGE/var/lib/dpkg" -W -f '${Version}' systemd 2>/dev/null || echo '?')
rev=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')

{
    echo "# oci-systemd-hook bench, $day, $host"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
    echo "| host | $host, $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) |"
    echo "| kernel | $(uname -r), cgroups $cgmode |"
    echo "| hook | $("$HOOK" --version | awk '{ print $2 }') ($rev), linked to: $F_LIBS |"
    echo "| runtimes | $(bench_versions) |"
    echo "| toolchain | $(gcc --version | head -n1), $(ldd --version | head -n1 | sed 's/^ldd //') |"
    echo "| image | Debian 12 (debootstrap minbase), systemd $img_systemd |"
    echo "| load average | $LOAD_BEGIN at start (before the build), $LOAD_END at the end; bench took ${T_TOTAL} s |"
    echo "| machine before measuring | $LOAD_FACTS_BEGIN |"
    echo "| machine after | $LOAD_FACTS_END |"
    echo "| during the measurements | $LOAD_DURING |"
    echo "| time per part | $BENCH_MARKS |"
    echo "| knobs | fast $N_FAST, systemd path $N_SD, boot rounds $N_BOOT (peers in $( ((${#PEERS[@]})) && echo "$N_PEERS" || echo 0)), multi-service rounds $( ((${#SVC_VARIANTS[@]})) && echo "$N_SVC" || echo 0), parse $N_PARSE, concurrent $N_CONC |"
    echo
    echo "Medians; every ratio is of two medians measured in the same run, interleaved."
    echo
    echo "| # | measurement | result | baseline (same run) | ratio | target | met |"
    echo "|---|---|---|---|---|---|---|"
    echo "| 1 | fast path: non-systemd container (\`/bin/sh\`), $N_FAST runs | $(calc "$F_HOOK" %.0f) µs | \`/bin/true\` $(calc "$F_TRUE" %.0f) µs | ${F_RATIO}x | ≤ 1.10x | $(yesno "$F_RATIO <= 1.10 && $F_FAILS == 0") |"
    echo "| 2a | re-run path (restore): the hook by hand on a \`created\` (pivoted) container, $N_SD runs | $(us2ms "$SH_HOOK") ms (p90 $(us2ms "$SH_P90"); CPU $(us2ms "$SH_CPU")) | \`/bin/true\` $(us2ms "$SH_TRUE") ms; 2nd run $(us2ms "$SH_AGAIN") ms | | ≤ 5 ms | $(yesno "$SH_HOOK <= 5000 && $SH_FAILS == 0 && $sd_ok == $N_SD") |"
    echo "| 2b | systemd path in situ: createRuntime hook under \`runc create\`, $SS_N runs | $(us2ms "$SS_HOOK") ms (p90 $(us2ms "$SS_P90"); CPU $(us2ms "$SS_CPU")) | no-op hook (\`/bin/true\`) $(us2ms "$SS_TRUE") ms | | ≤ 3 ms | $(yesno "$SS_HOOK <= 3000 && $SS_FAILS == 0 && $sit_ok == $N_SD") |"
    boot_row 3 boot hook ideal "boot to \`running\`, runc, hook at createRuntime, $N_BOOT rounds" 1.03 hook
    ((podman_ok)) && boot_row 3 boot hook podman "boot to \`running\`: hook vs podman" 1.00 hook
    for v in "${PEERS[@]}"; do
        boot_row 3 boot hook "$v" "boot to \`running\`: hook vs $v, $N_PEERS rounds" – hook
    done
    if [[ " ${PEERS[*]} " == *" docker "* && " ${PEERS[*]} " == *" docker-wa "* ]]; then
        boot_row 3 boot docker docker-wa "boot to \`running\`: Docker, the wrapper vs the workaround (same dockerd)" – wrapper
    fi
    for v in "${SVC_VARIANTS[@]}"; do
        [[ $v == svc-hook ]] && continue
        v=${v%%:*}
        boot_row 3s svc svc-hook "$v" "multi-service image boot: hook vs ${v#svc-}, $N_SVC rounds" – hook
    done
    echo "| 4 | peak RSS, fast path (max of $N_FAST) | $RSS_FAST KiB | \`/bin/true\` $RSS_TRUE KiB (the driver's floor) | | ≤ 4096 KiB | $(yesno "$RSS_FAST <= 4096") |"
    echo "| 4 | peak RSS, systemd path (max of 2a, 2b) | $RSS_SD_MAX KiB | | | ≤ 4096 KiB | $(yesno "$RSS_SD_MAX <= 4096") |"
    echo "| 5 | parse: CPU per byte above 1 KiB at 100 KiB / 1 MiB / 10 MiB | $(perbyte 100K 102400 cpu_med_us) / $(perbyte 1M 1048576 cpu_med_us) / $(perbyte 10M 10485760 cpu_med_us) ns | wall: $(perbyte 100K 102400 median_us) / $(perbyte 1M 1048576 median_us) / $(perbyte 10M 10485760 median_us) ns | | linear | $(linear) |"
    echo "| 5 | config.json above the 16 MiB cap | exit $OVER_RC, $OVER_LINES line, $(calc "$OVER_T" %.0f) µs | | | exit 1, one line | $(yesno "$OVER_RC == 1 && $OVER_LINES == 1") |"
    echo "| 6 | $N_CONC systemd containers started at once (runc, hook) | $C_RUNNING/$N_CONC running, all in $C_WALL s | | | all running, host unchanged | $(yesno "$C_RUNNING == $N_CONC && $C_START_FAIL == 0") / host $C_HOST |"
    echo
    echo "### 1. Fast path, where the time goes"
    echo
    echo "| program (same stdin, interleaved) | median | p10 | p90 | CPU (median) | minor faults | peak RSS |"
    echo "|---|---|---|---|---|---|---|"
    for l in hook true empty-dyn hook-static-pie; do
        [[ $(tsv "$W/fast.tsv" $l n) == nan ]] && continue
        echo "| $l | $(tsv "$W/fast.tsv" $l median_us) µs | $(tsv "$W/fast.tsv" $l p10_us) | $(tsv "$W/fast.tsv" $l p90_us) | $(tsv "$W/fast.tsv" $l cpu_med_us) µs | $(tsv "$W/fast.tsv" $l minflt_med) | $(tsv "$W/fast.tsv" $l maxrss_max_kib) KiB |"
    done
    echo
    echo "\`hook\`: the built binary (linked to: $F_LIBS). \`empty-dyn\`: \`int main(void) { return 0; }\`,"
    echo "dynamically linked: what exec + ld.so + libc cost any dynamic program here; the hook"
    echo "takes $(calc "$F_HOOK / $F_EMPTY")x that."
    if ((have_static)); then
        echo "\`hook-static-pie\`: the same objects (\`hook.o libosh.a\`) relinked with \`-static-pie\`"
        echo "(diagnostic only): ${F_STATIC_RATIO}x \`/bin/true\`."
    fi
    echo
    echo "### 2. systemd path"
    echo
    echo "| | median | p10 | p90 | max | CPU (median) | peak RSS | failures |"
    echo "|---|---|---|---|---|---|---|---|"
    for f in sd-hand:hook sd-hand:hook-again sd-hand:true sd-situ:hook sd-situ:true sd-create:create-hook sd-create:create-true; do
        t=$W/${f%%:*}.tsv l=${f#*:}
        echo "| ${f%%:*} $l | $(us2ms "$(tsv "$t" "$l" median_us)") ms | $(us2ms "$(tsv "$t" "$l" p10_us)") | $(us2ms "$(tsv "$t" "$l" p90_us)") | $(us2ms "$(tsv "$t" "$l" max_us)") | $(us2ms "$(tsv "$t" "$l" cpu_med_us)") ms | $(tsv "$t" "$l" maxrss_max_kib) KiB | $(tsv "$t" "$l" nonzero) |"
    done
    echo
    echo "sd-hand: the hook run by hand on a \`created\` container (tmpfs on /run afterwards: $sd_ok/$N_SD);"
    echo "hook-again: its second run on the same container. sd-situ: the hook timed inside"
    echo "\`runc create\` (tmpfs on /run afterwards: $sit_ok/$N_SD). sd-create: the whole \`runc create\`"
    echo "with the hook, and with /bin/true as the hook: the hook adds $(us2ms "$(calc "$SC_HOOK - $SC_TRUE")") ms to it."
    echo
    echo "### 3. Boot to \`running\` (Debian 12, $cgmode host): the hook and its peers"
    echo
    boot_table boot "Debian 12 minimal" "${boot_set[@]}"
    echo
    if ((${#SVC_VARIANTS[@]})); then
        boot_table svc "multi-service (ssh nginx postgresql cron rsyslog)" "${SVC_VARIANTS[@]}"
        echo
    fi
    echo "From just before the start command to the end of the first"
    echo "\`nsenter -t PID -m systemctl is-system-running\` that prints \`running\`, polled every ${BOOT_POLL_MS} ms"
    echo "(medians of the boots that got there; degraded, maintenance or nothing in ${BOOT_TIMEOUT} s,"
    echo "multi-service ${OSH_BENCH_SVC_TIMEOUT:-30} s, count as not running, with the last answer)."
    echo "Rounds run the variants back to back, the order rotating; \"paired\" ratios are the"
    echo "median over rounds of hook/other within the same round, with its ~95% confidence interval"
    echo "(sign test); a target counts as met when the whole interval is within it, missed when"
    echo "the whole interval is beyond it; without a target the row says which side the whole"
    echo "interval is on, if any."
    echo
    echo "### 5. config.json parse time (command \`/bin/sh\`: read + parse + decide)"
    echo
    echo "| config.json | bytes | median | p90 | CPU (median) | peak RSS | per byte above 1 KiB (wall / CPU) | exit |"
    echo "|---|---|---|---|---|---|---|---|"
    for s in "${PARSE_SIZES[@]}"; do
        lab=${s%%:*} bytes=${s#*:}
        med=$(tsv "$W/parse.tsv" "$lab" median_us)
        if [[ $lab == 1K ]]; then pb=-; else pb="$(perbyte "$lab" "$bytes" median_us) / $(perbyte "$lab" "$bytes" cpu_med_us) ns"; fi
        echo "| $lab | $bytes | $(us2ms "$med" %.2f) ms | $(us2ms "$(tsv "$W/parse.tsv" "$lab" p90_us)" %.2f) | $(us2ms "$(tsv "$W/parse.tsv" "$lab" cpu_med_us)" %.2f) ms | $(tsv "$W/parse.tsv" "$lab" maxrss_max_kib) KiB | $pb | $( (($(tsv "$W/parse.tsv" "$lab" nonzero) == 0)) && echo 0 || echo fail) |"
    done
    echo "| 16 MiB (at the cap, 3 runs) | $CAP | $(us2ms "$(tsv "$W/parse-cap.tsv" cap median_us)") ms | | $(us2ms "$(tsv "$W/parse-cap.tsv" cap cpu_med_us)") ms | $(tsv "$W/parse-cap.tsv" cap maxrss_max_kib) KiB | | $( (($(tsv "$W/parse-cap.tsv" cap nonzero) == 0)) && echo 0 || echo fail) |"
    echo "| 16 MiB + 1 (refused) | $((CAP + 1)) | $(us2ms "$OVER_T" %.2f) ms | | $(us2ms "$(tsv "$W/parse.tsv" over cpu_med_us)" %.2f) ms | $(tsv "$W/parse.tsv" over maxrss_max_kib) KiB | | $OVER_RC |"
    echo "| \`/bin/true\` | | $(us2ms "$(tsv "$W/parse.tsv" true median_us)" %.2f) ms | | $(us2ms "$(tsv "$W/parse.tsv" true cpu_med_us)" %.2f) ms | | | |"
    echo
    echo "Refusal message: \`$OVER_MSG\`"
    echo
    echo "### 6. $N_CONC at once"
    echo
    echo "All \`runc run -d\` returned after $C_STARTED s ($C_START_FAIL failed); $C_RUNNING/$N_CONC reached"
    echo "\`running\` (polled every ${CONC_POLL_MS} ms), the last after $C_WALL s (median container"
    echo "$(us2ms "$C_MED" %.0f) ms, max $(us2ms "$C_MAX" %.0f) ms). SIGRTMIN+3 to all: all stopped after $C_STOP s"
    echo "($C_STOP_KILLED needed SIGKILL). Host after delete: $C_HOST (snapshot of mounts, /, /etc, /run,"
    echo "/tmp, /var/log/journal, canaries$( [[ -n $SNAP_IGNORE ]] && echo "; lines matching \`$SNAP_IGNORE\` ignored"))."
    if [[ $C_HOST != unchanged* ]]; then
        echo
        echo "Host snapshot diff (before → after; on a shared machine other jobs show up here too):"
        echo
        echo '```'
        diff "$W/host.before" "$W/host.after" | grep '^[<>]' | head -n 40 || true
        echo '```'
    fi
    echo
    echo "<details><summary>osh-timer summaries (µs)</summary>"
    echo
    echo '```'
    for f in fast sd-hand sd-situ sd-create boot boot.start svc svc.start parse parse-cap conc; do
        [[ -f $W/$f.tsv ]] || continue
        echo "== $f"
        cat "$W/$f.tsv"
    done
    echo '```'
    echo
    echo "</details>"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
say "written to ${OUT#"$ROOT"/}"
