#!/bin/bash
# Docker (20.10, Debian 12's docker.io) through oci-systemd-runtime, the
# runtime registered by `oci-systemd-hook configure docker` in a private
# daemon.json. A private dockerd (own socket, data root, exec root,
# pidfile, --bridge=none, no iptables, its own managed containerd, cgroup
# parent below /osh-e2e) is started and stopped by the test:
#   - configure docker: keeps the other settings, a second run changes no byte
#   - Debian 12, 13 and sid images imported WITHOUT STOPSIGNAL:
#     `docker run -d --runtime systemd --cgroupns private` reaches running,
#     0 failed units; `docker stop` (SIGTERM from Docker, SIGRTMIN+3 from
#     the wrapper) exits 0 in < 5 s
#   - --read-only with volumes under /run and /tmp (visible inside),
#     `docker restart`
#   - after a dockerd restart (live-restore) `docker stop` is still clean:
#     the wrapper asks the runtime's state, it keeps no record of its own
#   - -e oci-systemd-hook=disabled: the hook leaves it alone (systemd exits
#     255, as under plain runc)
#   - `docker run --runtime systemd IMAGE /bin/echo hi` prints hi, exits 0
#   - an error before runc runs reaches --log in runc's JSON format
# The host is compared before and after.
#
#   tests/e2e/test-docker.sh          # as root
#   OSH_E2E_KEEP=1 ...                # keep daemon.json, logs

# shellcheck disable=SC2016,SC2317,SC2034  # eval'd strings use these variables and functions
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=${HOOK:-$SRC/oci-systemd-hook}
RUNTIME=$(dirname "$HOOK")/oci-systemd-runtime
export HOOK
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# /usr/local/bin/docker may be another client: the one of docker.io
DOCKER=/usr/bin/docker
STOP_MAX=5

e2e_own_host "$@"
e2e_init
"$SRC/scripts/deps.sh" docker.io containerd runc jq
e2e_require_hook
[[ -x $RUNTIME ]] || { fail "$RUNTIME exists (scripts/build.sh makes it)"; e2e_done; }
e2e_host_snapshot "$E2E_TMP/host.before"
# dockerd makes /run/docker (its plugin sockets) whatever its exec root:
# the engine's, not the hook's; gone again below if it was not there
RUN_DOCKER_BEFORE=$([[ -e /run/docker ]] && echo yes || echo no)
e2e_cgroup_hold
D=$E2E_TMP/docker
mkdir -p "$D/data" "$D/exec" "$D/vol-run" "$D/vol-tmp"
CG=/osh-e2e/$(basename "$E2E_TMP")-docker
UID_=$(e2e_uid)
dk() { "$DOCKER" -H "unix://$D/docker.sock" "$@"; }

# ---------------------------------------------------------------- configure docker

printf '{\n  "live-restore": true,\n  "log-level": "warn"\n}\n' >"$D/daemon.json"
cfg() { "$HOOK" configure --config "$D/daemon.json" --runtime-path "$RUNTIME" "$@" docker; }
if cfg --dry-run >"$D/dry.out" 2>&1 && grep -qF '+      "path": "'"$RUNTIME"'"' "$D/dry.out" &&
    [[ ! -e $D/daemon.json.bak ]]; then
    ok "configure docker --dry-run prints the diff and writes nothing"
else
    fail "configure docker --dry-run prints the diff and writes nothing"
    sed 's/^/#   /' "$D/dry.out" >&2
fi
cfg >"$D/cfg.out" 2>&1 || true
e2e_check "configure docker: runtimes.systemd.path is the wrapper, live-restore kept, backup written" \
    test "$(jq -r '[.runtimes.systemd.path, ."live-restore", ."log-level"] | join(" ")' "$D/daemon.json")" = \
    "$RUNTIME true warn" -a -f "$D/daemon.json.bak"
sum=$(sha256sum <"$D/daemon.json")
cfg >"$D/cfg2.out" 2>&1 || true
e2e_check "configure docker: a second run changes no byte and says so" \
    eval '[[ $(sha256sum <"$D/daemon.json") == "$sum" ]] && grep -q "already configured" "$D/cfg2.out"'

# ---------------------------------------------------------------- dockerd

# runtime.conf names the real runtime (the wrapper finds it through this
# file, as an installed one finds $(sysconfdir)/oci-systemd-hook/runtime.conf)
printf '# the real runtime\nruntime = %s\n' "$(command -v runc)" >"$D/runtime.conf"

dockerd_start() {
    local i
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        OCI_SYSTEMD_RUNTIME_CONFIG="$D/runtime.conf" \
        setsid dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
        --pidfile "$D/dockerd.pid" -H "unix://$D/docker.sock" --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --ip-forward=false --cgroup-parent "$CG" \
        >>"$D/dockerd.log" 2>&1 </dev/null &
    echo "$!" >"$D/dockerd.spid"
    for i in $(seq 150); do
        dk version >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$D/dockerd.spid")" 2>/dev/null || break
        sleep 0.2
    done
    tail -n 20 "$D/dockerd.log" | sed 's/^/#   /' >&2
    return 1
}

# dockerd_kill: stops dockerd by its pid (containers keep running: live-restore)
dockerd_kill() {
    local pid i
    pid=$(cat "$D/dockerd.spid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
}

docker_cleanup() {
    local id p
    if [[ -S $D/docker.sock ]] && dk version >/dev/null 2>&1; then
        for id in $(dk ps -aq 2>/dev/null); do
            dk rm -f "$id" >/dev/null 2>&1
        done
    fi
    dockerd_kill
    # the managed containerd and shims of this dockerd
    for p in /proc/[0-9]*; do
        if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$D/exec/"; then
            kill -KILL "${p#/proc/}" 2>/dev/null
        fi
    done
    sleep 0.2
    _e2e_umount_under "$D"
    e2e_rm_cgroup "$CG" 2>/dev/null
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
[[ -e /run/containerd ]] || run_ctrd_created=1
e2e_at_exit docker_cleanup

t0=$(_e2e_now)
if ! dockerd_start; then
    fail "private dockerd starts"
    e2e_done
fi
ok "private dockerd with daemon.json from configure starts ($(_e2e_since "$t0") s)"
e2e_check "dockerd lists the runtime systemd" eval 'dk info --format "{{json .Runtimes}}" | jq -e .systemd >/dev/null'

# ---------------------------------------------------------------- images

t0=$(_e2e_now)
imported=1
for s in bookworm trixie sid; do
    rootfs=$(e2e_image "$s") || { imported=0; break; }
    tar -C "$rootfs" -c . | dk import --change 'CMD ["/sbin/init"]' - "osh-$UID_/$s" >/dev/null || imported=0
done
if ((imported)) && [[ $(dk image inspect -f '{{.Config.StopSignal}}' "osh-$UID_/bookworm") == "" ]]; then
    ok "images bookworm, trixie, sid imported without STOPSIGNAL ($(_e2e_since "$t0") s)"
else
    fail "images bookworm, trixie, sid imported without STOPSIGNAL"
    e2e_done
fi

# ---------------------------------------------------------------- helpers

# boot LABEL NAME: running + 0 failed units
boot() {
    local label=$1 name=$2 st n
    st=$(e2e_wait_systemd 30 "[[ \$(dk inspect -f '{{.State.Running}}' $name) == true ]]" \
        "timeout 10 $DOCKER -H unix://$D/docker.sock exec $name") || true
    n=$(e2e_failed_units_in "timeout 10 $DOCKER -H unix://$D/docker.sock exec $name" 2>&1) || n="(no answer)"
    if [[ $st == running && $n == 0 ]]; then
        ok "$label: running, 0 failed units (in $(_e2e_since "$BOOT_T0") s)"
        return 0
    fi
    fail "$label: running, 0 failed units (got $st, failed: ${n//$'\n'/ })"
    dk logs "$name" 2>&1 | tail -n 20 | sed 's/^/#   logs: /' >&2
    return 1
}

# stop LABEL NAME: `docker stop` exits 0 in < STOP_MAX s and systemd exits 0
stop() {
    local label=$1 name=$2 t0 t rc=0 code
    t0=$(_e2e_now)
    dk stop "$name" >/dev/null 2>&1 || rc=$?
    t=$(_e2e_since "$t0")
    code=$(dk inspect -f '{{.State.ExitCode}}' "$name" 2>/dev/null) || code='?'
    e2e_check "$label: docker stop exits 0 in ${t} s (< $STOP_MAX s), container exit code $code" \
        eval '((rc == 0)) && [[ $code == 0 ]] && awk -v t="$t" -v m="$STOP_MAX" "BEGIN { exit !(t < m) }"'
}

# ---------------------------------------------------------------- boots

for s in bookworm trixie sid; do
    BOOT_T0=$(_e2e_now)
    if dk run -d --name "sd-$s" --runtime systemd --cgroupns private "osh-$UID_/$s" >/dev/null 2>"$D/run-$s.err"; then
        boot "docker $s" "sd-$s" || true
        stop "docker $s" "sd-$s"
    else
        fail "docker run --runtime systemd $s: $(head -c 300 "$D/run-$s.err")"
    fi
    dk rm -f "sd-$s" >/dev/null 2>&1 || true
done

# ---------------------------------------------------------------- read-only, volumes, restart

echo "run-$UID_" >"$D/vol-run/marker"
echo "tmp-$UID_" >"$D/vol-tmp/marker"
BOOT_T0=$(_e2e_now)
if dk run -d --name ro --runtime systemd --cgroupns private --read-only \
    -v "$D/vol-run:/run/vol" -v "$D/vol-tmp:/tmp/vol" "osh-$UID_/bookworm" >/dev/null 2>"$D/run-ro.err"; then
    boot "docker --read-only with volumes" ro || true
    e2e_check "volumes under /run and /tmp are visible inside" \
        eval '[[ $(dk exec ro cat /run/vol/marker /tmp/vol/marker | tr "\n" " ") == "run-$UID_ tmp-$UID_ " ]]'
    e2e_check "the rootfs is read-only" eval '! dk exec ro touch /etc/osh-rw-probe 2>/dev/null'
    t0=$(_e2e_now)
    if dk restart ro >/dev/null 2>&1; then
        BOOT_T0=$t0
        boot "docker restart (stop + start, config.json regenerated)" ro || true
    else
        fail "docker restart ro"
    fi
    # dockerd goes away and comes back (live-restore keeps the container)
    dockerd_kill
    if dockerd_start && [[ $(dk inspect -f '{{.State.Running}}' ro) == true ]]; then
        ok "dockerd restarted, the container is still running (live-restore)"
        stop "after a dockerd restart" ro
    else
        fail "dockerd restarted, the container is still running (live-restore)"
    fi
else
    fail "docker run --read-only: $(head -c 300 "$D/run-ro.err")"
fi
dk rm -f ro >/dev/null 2>&1 || true

# ---------------------------------------------------------------- unit logs in docker logs

# oci-systemd-hook.logs=true in the environment (Docker passes no
# annotations): a unit's output reaches `docker logs`.  With -t: the shim
# gives a container without a terminal an anonymous pipe, which nothing
# inside can reach once systemd has put /dev/null on its stdio; with a
# terminal journald forwards to the console.
BOOT_T0=$(_e2e_now)
if dk run -d -t --name logs --runtime systemd --cgroupns private -e oci-systemd-hook.logs=true \
    "osh-$UID_/bookworm" >/dev/null 2>"$D/run-logs.err"; then
    boot "docker with oci-systemd-hook.logs=true" logs || true
    dk exec logs sh -c "echo osh-marker-$UID_ | systemd-cat -t osh-test" >/dev/null 2>&1 || true
    got=no
    for _ in $(seq 1 50); do
        # grep without -q: an early exit would SIGPIPE docker logs (pipefail)
        if dk logs logs 2>&1 | grep "osh-test.*osh-marker-$UID_" >/dev/null; then got=yes; break; fi
        sleep 0.2
    done
    e2e_check "a unit's output (systemd-cat) appears in docker logs (got $got)" test "$got" = yes
    stop "docker with unit logs" logs
else
    fail "docker run with oci-systemd-hook.logs=true: $(head -c 300 "$D/run-logs.err")"
fi
dk rm -f logs >/dev/null 2>&1 || true
# and by default not: as with podman and nspawn
BOOT_T0=$(_e2e_now)
if dk run -d --name nologs --runtime systemd --cgroupns private "osh-$UID_/bookworm" >/dev/null 2>&1; then
    boot "docker without oci-systemd-hook.logs" nologs || true
    dk exec nologs sh -c "echo osh-marker-$UID_ | systemd-cat -t osh-test" >/dev/null 2>&1 || true
    sleep 1
    e2e_check "by default a unit's output stays in the journal" \
        eval '! dk logs nologs 2>&1 | grep "osh-marker-$UID_" >/dev/null'
    stop "docker without unit logs" nologs
fi
dk rm -f nologs >/dev/null 2>&1 || true

# ---------------------------------------------------------------- privileged

# What --privileged grants, spelled out (with --privileged Docker 20.10 asks
# runc for CAP_SYS_RESOURCE, which this machine lacks, whatever --cap-drop
# says): every other capability, system paths unconfined, the host's VTs
# and vcs as devices.  The hook keeps them out of /dev; it boots.
BOOT_T0=$(_e2e_now)
if dk run -d --name priv --runtime systemd --cgroupns private --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --device /dev/tty0 --device /dev/tty1 --device /dev/vcs --device /dev/fuse \
    "osh-$UID_/bookworm" >/dev/null 2>"$D/run-priv.err"; then
    boot "docker, privileged spelled out" priv || true
    got=$(dk exec priv sh -c 'ls -d /dev/tty[0-9]* /dev/vcs* 2>/dev/null | wc -l; test -c /dev/fuse && echo fuse' 2>&1) ||
        got=error
    e2e_check "docker, privileged: no host VT or vcs node in /dev, /dev/fuse there (got ${got//$'\n'/ })" \
        test "$got" = $'0\nfuse'
    e2e_check "docker, privileged: the host's /dev/tty0 and /dev/tty1 are still there" test -c /dev/tty0 -a -c /dev/tty1
    dk rm -f priv >/dev/null 2>&1 || true
else
    fail "docker run, privileged spelled out: $(head -c 300 "$D/run-priv.err")"
fi
# the same, -e oci-systemd-hook.hide-host-ttys=false: tty0 stays
if dk run -d --name priv-off --runtime systemd --cgroupns private --cap-add ALL --cap-drop SYS_RESOURCE \
    -e oci-systemd-hook.hide-host-ttys=false --device /dev/tty0 \
    "osh-$UID_/bookworm" >/dev/null 2>"$D/run-priv-off.err"; then
    e2e_check "docker, privileged, -e oci-systemd-hook.hide-host-ttys=false: /dev/tty0 stays" \
        dk exec priv-off test -c /dev/tty0
else
    fail "docker run, privileged, hide-host-ttys=false: $(head -c 300 "$D/run-priv-off.err")"
fi
dk rm -f priv-off >/dev/null 2>&1 || true

# ---------------------------------------------------------------- opt-out, non-systemd

dk run -d --name off --runtime systemd --cgroupns private -e oci-systemd-hook=disabled \
    "osh-$UID_/bookworm" >/dev/null 2>&1 || true
code=$(timeout 20 "$DOCKER" -H "unix://$D/docker.sock" wait off 2>/dev/null) || code=timeout
e2e_check "-e oci-systemd-hook=disabled: the hook leaves it alone, systemd exits 255 as under runc (got $code)" \
    test "$code" = 255
dk rm -f off >/dev/null 2>&1 || true

out=$(dk run --rm --runtime systemd "osh-$UID_/bookworm" /bin/echo hi 2>"$D/echo.err") && rc=0 || rc=$?
e2e_check "docker run --runtime systemd IMAGE /bin/echo hi: prints hi, exits 0 (got rc $rc: $out)" \
    eval '[[ $rc == 0 && $out == hi ]]'

# ---------------------------------------------------------------- errors before runc

rm -f "$D/log.json"
rc=0
err=$(OCI_SYSTEMD_RUNTIME_CONFIG="$D/runtime.conf" "$RUNTIME" --root "$D/runc" --log "$D/log.json" \
    --log-format json create --bundle "$D/no-such-bundle" c-err 2>&1) || rc=$?
e2e_check "wrapper error before runc: exit 1, one stderr line naming the container and cause" \
    eval '[[ $rc == 1 && $(wc -l <<<"$err") == 1 && $err == *"container \`c-err\`"*"no-such-bundle"* ]]'
e2e_check "wrapper error before runc: in --log as runc JSON (level error, msg, time)" \
    eval 'jq -e "select(.level == \"error\" and (.msg | contains(\"no-such-bundle\")) and (.time | length) > 20)" \
        "$D/log.json" >/dev/null'

# ---------------------------------------------------------------- cleanup

left=$(dk ps -aq)
e2e_check "no containers left in dockerd (${left:-none})" test -z "$left"
docker_cleanup
[[ $RUN_DOCKER_BEFORE == yes ]] || rm -rf --one-file-system /run/docker
e2e_host_snapshot "$E2E_TMP/host.after"
e2e_check "host unchanged (mounts, /run, /etc, /tmp entries)" e2e_host_compare "$E2E_TMP/host.before" "$E2E_TMP/host.after"
e2e_check "no cgroups or runtime state left" e2e_no_leftovers
e2e_done
