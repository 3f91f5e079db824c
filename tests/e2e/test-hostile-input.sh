#!/bin/bash
# shellcheck disable=SC2016  # jq programs and code for bash -c are single-quoted on purpose
# Hostile input: the hook binary run directly (as a runtime would, state on
# stdin) with hostile state and config: 100 MB and endless stdin, a million
# `[`, truncated JSON, invalid UTF-8 and bad surrogates, raw NUL and
# "\u0000", duplicate keys, comments, numbers where strings belong, every
# kind of bad pid (missing, "123", 1.5, 0, 1, -1, 2^63, dead, this shell's
# own), odd ids, odd annotations, and hostile bundles (relative, `..`,
# missing, config.json a symlink, FIFO, directory, 17 MiB).
#
# Each direct case checks the exit status, that stderr is exactly one line
# `oci-systemd-hook: <id12>: ...` naming the cause (without the id when the
# id was not parsed), nothing on stdout, time (and memory where it
# matters) bounded, and the host mount table unchanged.
#
# Then real containers (runc, hybrid host, the hook at createRuntime behind
# hostile-hookwrap.sh to keep its stderr): a bad container_uuid (`/`, `..`,
# newline, non-hex, all zeros, 33 characters, 1 MiB, set twice) must not
# fail the container: one warning line, and /etc/machine-id derived from
# the container id; odd annotation values warn and the command decides.
#
#   tests/e2e/test-hostile-input.sh            # as root, about 15 s
#   HOOK=/abs/oci-systemd-hook tests/e2e/...   # another build
#   OSH_HOSTILE_ONLY='pid-|uuid' ...            # only cases matching an ERE
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=hostile-lib.sh disable=SC1091
. "$(dirname "$0")/hostile-lib.sh"

e2e_init
hx_init
e2e_image bookworm >/dev/null
T=$E2E_TMP/direct
mkdir -p "$T"

# A systemd bundle (by name and by what /sbin/init resolves to) whose
# rootfs is a few empty files: nothing in the direct cases gets as far as
# mounting, and it must never need to.
B=$T/bundle
mkdir -p "$B/rootfs/usr/lib/systemd" "$B/rootfs/sbin"
: >"$B/rootfs/usr/lib/systemd/systemd"
ln -s /usr/lib/systemd/systemd "$B/rootfs/sbin/init"
runc spec --bundle "$B"
# (with a cgroup namespace and podman's capabilities: no warning line
# besides the error)
jq --argjson caps "$E2E_CAPS" '.process.args = ["/sbin/init"] | .process.terminal = false
    | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
    | .linux.namespaces += [{type: "cgroup"}]' "$B/config.json" >"$B/c.new"
mv "$B/c.new" "$B/config.json"
# a bundle that does not run systemd
NB=$T/nosystemd
mkdir -p "$NB/rootfs"
jq '.process.args = ["/bin/sh"]' "$B/config.json" >"$NB/config.json"

# state ID PID BUNDLE [JQ]: a state document, as runc writes it
state() {
    jq -cn --arg id "$1" --argjson pid "$2" --arg b "$3" \
        '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: $b}'"${4:+ | $4}"
}

HI_N=0
# hi NAME RC ID12 CAUSE GEN [HOOK-ARGS...|-]: GEN (shell code, run by bash -c
# with B, NB, T exported) writes the hook's stdin; `<FILE` redirects it. RC: the exit status
# wanted. ID12: the id prefix the line must carry ("" when the id is not
# parsed). Without HOOK-ARGS: `createRuntime`; `-`: none. CAUSE: ERE the single stderr line must match; empty with RC 0:
# no output at all. LIMIT_SECS (default 5) and LIMIT_RSS (KiB, default
# none) bound the run.
hi() {
    local name=$1 want=$2 id12=$3 cause=$4 gen=$5 rc secs='?' rss='?' line msg okay=1
    local -a st args
    shift 5
    args=("$@")
    ((${#args[@]})) || args=(createRuntime)
    [[ ${args[*]} == - ]] && args=()
    HI_N=$((HI_N + 1))
    hx_selected "$name" || return 0
    name=$(printf 'i%02d-%s' "$HI_N" "$name")
    hx_mounts /proc/self/mountinfo >"$T/m.before"
    rm -f "$T/time"
    set +e
    if [[ $gen == '<'* ]]; then   # stdin from that file
        timeout -s KILL 20 /usr/bin/time -o "$T/time" -f '%e %M' "$HOOK" "${args[@]}" \
            <"${gen#<}" >"$T/out" 2>"$T/err"
        rc=$?
    else
        B=$B NB=$NB T=$T timeout 30 bash -c "$gen" 2>/dev/null |
            timeout -s KILL 20 /usr/bin/time -o "$T/time" -f '%e %M' "$HOOK" "${args[@]}" >"$T/out" 2>"$T/err"
        st=("${PIPESTATUS[@]}")
        rc=${st[1]}
    fi
    set -e
    [[ -s $T/time ]] && read -r secs rss < <(tail -n 1 "$T/time")
    line=$(cat "$T/err")
    msg="exit $rc (want $want) in ${secs}s, ${rss} KiB"
    if [[ $rc != "$want" ]]; then
        okay=0
    elif [[ -s $T/out ]]; then
        okay=0
        msg+=", stdout not empty: $(head -c 200 "$T/out")"
    elif [[ $want == 0 && -z $cause ]]; then
        [[ -z $line ]] || { okay=0; msg+=", unexpected stderr"; }
    elif ! hx_line_ok "$line" "$id12" "$cause"; then
        okay=0
    fi
    if [[ $secs != ? ]] && awk -v s="$secs" -v l="${LIMIT_SECS:-5}" 'BEGIN { exit !(s > l) }'; then
        okay=0
        msg+=" (limit ${LIMIT_SECS:-5}s)"
    fi
    if [[ -n ${LIMIT_RSS:-} && ($rss == ? || $rss -gt $LIMIT_RSS) ]]; then
        okay=0
        msg+=" (limit $LIMIT_RSS KiB)"
    fi
    if ((okay)); then
        ok "$name: $msg${line:+: $line}"
    else
        fail "$name: $msg, wanted /${cause:-no output}/${line:+; got: $(head -c 400 <<<"$line")}"
    fi
    hx_mounts /proc/self/mountinfo >"$T/m.after"
    e2e_check "$name: host mounts unchanged" e2e_host_compare "$T/m.before" "$T/m.after"
}

hx_snapshot "$E2E_TMP/snap.before"

# ------------------------------------------------------------ stdin size
MiB=1048576
LIMIT_RSS=20000 hi huge-stdin 1 '' 'state on stdin: larger than the limit of 1048576 bytes' \
    'head -c 100M /dev/zero'
LIMIT_RSS=20000 hi endless-stdin 1 '' 'state on stdin: larger than the limit of 1048576 bytes' 'yes'
LIMIT_RSS=20000 hi million-brackets 1 '' 'state: invalid JSON at byte [0-9]+: nesting deeper than 64 levels' \
    'head -c 1000000 /dev/zero | tr "\0" "["'
LIMIT_RSS=20000 hi million-objects 1 '' 'state: invalid JSON at byte [0-9]+: nesting deeper than 64 levels' \
    'for i in $(seq 1 100000); do printf "{\"a\":"; done'
hi state-1MiB-exact 0 '' '' \
    "s=\$(jq -cn --arg b \"\$NB\" '{ociVersion:\"1.0.2\",id:\"i05-exact\",status:\"creating\",pid:4242,bundle:\$b}');
     printf '%s' \"\$s\"; head -c \$(($MiB - \${#s})) /dev/zero | tr '\\0' ' '"
hi state-1MiB-plus-1 1 '' 'state on stdin: larger than the limit of 1048576 bytes' \
    "s=\$(jq -cn --arg b \"\$NB\" '{ociVersion:\"1.0.2\",id:\"i06-exact\",status:\"creating\",pid:4242,bundle:\$b}');
     printf '%s' \"\$s\"; head -c \$(($MiB + 1 - \${#s})) /dev/zero | tr '\\0' ' '"
hi empty-stdin 1 '' 'state: empty input' 'true'
hi stdin-directory 1 '' 'state on stdin: read: Is a directory' '</'

# ------------------------------------------------------------ JSON syntax
# sj JSON: the text as is (printf %s), for hi's GEN
sj() { printf 'printf %%s %q' "$1"; }
ok_tail='"status":"creating","pid":4242,"bundle":"/nonexistent-osh"}'
hi truncated 1 '' 'state: invalid JSON at byte [0-9]+' "$(sj '{"ociVersion":"1.0.2","id":"i-trunc","status":"creating","pid":12')"
hi invalid-utf8 1 '' 'state: invalid JSON at byte [0-9]+: .*(UTF-?8|utf8)' \
    "printf '{\"ociVersion\":\"1.0.2\",\"id\":\"bad\\xff\\xfe\",$ok_tail'"
hi overlong-utf8 1 '' 'state: invalid JSON at byte [0-9]+: .*(UTF-?8|utf8)' \
    "printf '{\"ociVersion\":\"1.0.2\",\"id\":\"bad\\xc0\\xaf\",$ok_tail'"
# lone or mismatched surrogates (CVE-2017-16516 territory): rejected, no
# crash. The rest of the state is valid and needs nothing (pid 0, a bundle
# without systemd): accepting the string shows as exit 0.
# shellcheck disable=SC1003  # the backslash is the JSON escape
for esc in 'ud800' 'udfff' 'ud800\u0041' 'ud800\ud800' 'ud800\u' 'udbff\udfff\udc00'; do
    hi "surrogate-${esc//\\/}" 1 '' 'state: invalid JSON at byte [0-9]+' \
        "$(sj '{"ociVersion":"1.0.2","id":"x\'"$esc"'y","status":"creating","pid":0,"bundle":"'"$NB"'"}')"
done
hi raw-nul 1 '' 'state: invalid JSON: NUL byte at offset 29' \
    "printf '{\"ociVersion\":\"1.0.2\",\"id\":\"a\\0b\",$ok_tail'"
hi escaped-nul-id 1 '' 'state: invalid JSON at byte [0-9]+: a string contains a NUL character' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-nul\u0000evil",'"$ok_tail")"
hi escaped-nul-key 1 '' 'state: invalid JSON at byte [0-9]+: a string contains a NUL character' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-nulkey","pi\u0000d":5,'"$ok_tail")"
hi duplicate-pid 1 '' 'state: invalid JSON at byte [0-9]+: duplicate key `pid`' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-dup","status":"creating","pid":4242,"pid":1,"bundle":"/x"}')"
hi duplicate-bundle 1 '' 'state: invalid JSON at byte [0-9]+: duplicate key `bundle`' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-dupb","status":"creating","pid":4242,"bundle":"/a","bundle":"/b"}')"
hi duplicate-nested 1 '' 'state: invalid JSON at byte [0-9]+: duplicate key `oci-systemd-hook`' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-dupa","annotations":{"oci-systemd-hook":"disabled","oci-systemd-hook":"enabled"},'"$ok_tail")"
hi block-comment 1 '' 'state: invalid JSON at byte [0-9]+' \
    "$(sj '/* c */{"ociVersion":"1.0.2","id":"i-comment",'"$ok_tail")"
hi line-comment 1 '' 'state: invalid JSON at byte [0-9]+' \
    "$(sj '{"ociVersion":"1.0.2", // c
"id":"i-comment2",'"$ok_tail")"
hi trailing-garbage 1 '' 'state: invalid JSON at byte [0-9]+' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-trail",'"$ok_tail"' {}')"
hi not-an-object 1 '' 'state: the state must be a JSON object' "$(sj '["i-array"]')"

# ------------------------------------------------------------ field types
hi id-number 1 '' 'state: `id` must be a string, not a number' \
    "$(sj '{"ociVersion":"1.0.2","id":12345,'"$ok_tail")"
hi bundle-number 1 i-bundle-num 'state: `bundle` must be a string, not a number' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-bundle-number","status":"creating","pid":4242,"bundle":5}')"
hi status-bool 1 i-status-boo 'state: `status` must be a string, not a boolean' \
    "$(sj '{"ociVersion":"1.0.2","id":"i-status-bool","status":true,"pid":4242,"bundle":"/x"}')"
hi version-missing 1 i-version-mi 'state: required field `ociVersion` is missing' \
    "$(sj '{"id":"i-version-missing",'"$ok_tail")"
hi annotations-array 1 i-annotation 'state: `annotations` must be an object, not an array' \
    "$(sj "$(state i-annotations-array 4242 "$B" '.annotations = []')")"
hi annotation-number 1 i-annotation 'state: `annotations.oci-systemd-hook` must be a string' \
    "$(sj "$(state i-annotation-number 4242 "$B" '.annotations = {"oci-systemd-hook": 1}')")"

# ------------------------------------------------------------ pid (systemd bundle)
pidcase() { # NAME CAUSE PID-JSON
    local id=i-pid-$1
    hi "pid-$1" 1 "${id:0:12}" "$2" "$(sj "{\"ociVersion\":\"1.0.2\",\"id\":\"$id\",\"status\":\"creating\"${3:+,\"pid\":$3},\"bundle\":\"$B\"}")"
}
pidcase missing 'the state has no container pid' ''
pidcase string '`pid` must be a number, not a string' '"123"'
pidcase float '`pid` must be an integer, not `1.5`' 1.5
pidcase exponent '`pid` must be an integer, not `1e3`' 1e3
pidcase zero 'the state has no container pid' 0
pidcase one '`pid` 1 is not a container process id' 1
pidcase minus-one '`pid` -1 is not a container process id' -1
pidcase 2pow63 '`pid` must be an integer, not `9223372036854775808`' 9223372036854775808
pidcase 2pow63-1 '`pid` 9223372036854775807 is not a container process id' 9223372036854775807
pidcase above-pid-max '`pid` 4194305 is not a container process id' 4194305
sleep 0 &
dead=$!
wait "$dead"
pidcase dead "container process $dead: no such process" "$dead"
pidcase own-shell "process $$ shares the hook's own mount namespace .*refusing to mount on the host" $$
# the same with cgroups left alone: the namespace check is then the only
# thing between the hook and the host's mount table
hi pid-own-shell-nocgroup 1 i-pid-own-no "process $$ shares the hook's own mount namespace .*refusing to mount on the host" \
    "$(sj "$(state i-pid-own-nocgroup $$ "$B" '.annotations = {"oci-systemd-hook.cgroup": "none"}')")"
# a live host process in a cgroup of its own and a mount namespace of its own
# would be "the runtime's word"; a host process in the hook's mount namespace
# is refused whatever its cgroup
sleep 60 &
sl=$!
pidcase host-sleep "process $sl shares the hook's own mount namespace" "$sl"
kill "$sl" 2>/dev/null || true
wait "$sl" 2>/dev/null || true

# ------------------------------------------------------------ ids, stages
hi id-empty 1 '' 'state: `id` is empty, too long or has control characters or `/`' \
    "$(sj "$(state '' 4242 "$B")")"
hi id-slash 1 'i-slash/../.' 'state: `id` is empty, too long or has control characters or `/`' \
    "$(sj "$(state 'i-slash/../../etc' 4242 "$B")")"
hi id-newline 1 'i-nl?forged:' 'state: `id` is empty, too long or has control characters or `/`' \
    "$(sj "$(state $'i-nl\nforged: ok' 4242 "$B")")"
hi id-escape 1 'i-esc?[31mre' 'state: `id` is empty, too long or has control characters or `/`' \
    "$(sj "$(state $'i-esc\e[31mred' 4242 "$B")")"
hi id-2000 1 'i-longaaaaaa' 'state: `id` is empty, too long or has control characters or `/`' \
    "$(sj "$(state "i-long$(printf 'a%.0s' $(seq 1 2000))" 4242 "$B")")"
hi stage-unknown 2 '' 'unknown argument `bogus`' "$(sj "$(state i-stage 4242 "$B")")" bogus
hi status-unknown 1 i-status-unk 'cannot tell the hook stage: no stage argument and state status `paused`' \
    "$(sj "$(state i-status-unknown 4242 "$B" '.status = "paused"')")" -
hi poststop 0 '' '' "$(sj "$(state i-poststop "$dead" "$B" '.status = "stopped"')")" -

# ------------------------------------------------------------ annotations
# odd values warn; the command decides (/bin/sh: nothing to do; with pid 0
# any attempt to work would fail "no container pid")
hi annotation-maybe 0 i-ann-maybe 'warning: ignoring the annotation `oci-systemd-hook`: `maybe` is not enabled or disabled' \
    "$(sj "$(state i-ann-maybe 0 "$NB" '.annotations = {"oci-systemd-hook": "maybe"}')")"
hi annotation-case 0 i-ann-case 'warning: ignoring the annotation `oci-systemd-hook`: `Enabled` is not enabled or disabled' \
    "$(sj "$(state i-ann-case 0 "$NB" '.annotations = {"oci-systemd-hook": "Enabled"}')")"
hi annotation-newline 0 i-ann-newlin 'warning: ignoring the annotation `oci-systemd-hook`: `enabled\\x0aoci-systemd-hook: forged` is not' \
    "$(sj "$(state i-ann-newline 0 "$NB" '.annotations = {"oci-systemd-hook": "enabled\noci-systemd-hook: forged"}')")"
hi annotation-empty 0 i-ann-empty 'warning: ignoring the annotation `oci-systemd-hook`: `` is not enabled or disabled' \
    "$(sj "$(state i-ann-empty 0 "$NB" '.annotations = {"oci-systemd-hook": ""}')")"
hi annotation-disabled 0 '' '' \
    "$(sj "$(state i-ann-disabled 0 "$B" '.annotations = {"oci-systemd-hook": "disabled"}')")"
state i-ann-huge 0 "$NB" '.annotations = {"oci-systemd-hook": ("x" * 500000)}' >"$T/ann-huge.json"
hi annotation-huge 0 i-ann-huge 'warning: ignoring the annotation `oci-systemd-hook`: `x{64}` is not enabled or disabled$' \
    "<$T/ann-huge.json"

# ------------------------------------------------------------ bundles
mkbundle() { # NAME [JQ]: a bundle dir with a copy of the systemd config
    local d=$T/b-$1
    mkdir -p "$d"
    ln -s "$B/rootfs" "$d/rootfs" 2>/dev/null || true
    jq "${2:-.}" "$B/config.json" >"$d/config.json"
    printf '%s\n' "$d"
}
bcase() { # NAME RC CAUSE BUNDLE-PATH [LIMIT]
    local id=i-b-$1
    LIMIT_SECS=${5:-5} hi "bundle-$1" "$2" "${id:0:12}" "$3" "$(sj "$(state "$id" 4242 "$4")")"
}
bcase relative 1 'state: `bundle` `relative/bundle` is not an absolute path' relative/bundle
bcase dotdot 1 'state: `bundle` `.*/\.\./bundle` has a `\.\.` component' "$T/b-x/../bundle"
bcase dotdot-end 1 'state: `bundle` `.*/\.\.` has a `\.\.` component' "$B/.."
bcase missing 1 'bundle `/nonexistent-osh/b`: No such file or directory' /nonexistent-osh/b
# crun's bug (issue 2025): never the host's /config.json
bcase host-root 1 'the state names `/` as the bundle: a runtime bug .*update the runtime' /
bcase a-file 1 'bundle `.*/config.json`: Not a directory' "$B/config.json"
d=$(mkbundle symlink)
mv "$d/config.json" "$d/real.json"
ln -s real.json "$d/config.json"
bcase config-symlink 1 '`.*/config.json`: is a symlink, refusing' "$d"
d=$(mkbundle fifo)
rm "$d/config.json"
mkfifo "$d/config.json"
bcase config-fifo 1 '`.*/config.json` is not a regular file' "$d" 2
d=$(mkbundle dir)
rm "$d/config.json"
mkdir "$d/config.json"
bcase config-dir 1 '`.*/config.json` is not a regular file' "$d"
d=$(mkbundle absent)
rm "$d/config.json"
bcase config-missing 1 '`.*/config.json`: No such file or directory' "$d"
d=$(mkbundle 17mib)
head -c $((17 * MiB)) /dev/zero | tr '\0' ' ' >>"$d/config.json"
bcase config-17MiB 1 '`.*/config.json` is larger than 16777216 bytes' "$d"
d=$(mkbundle 16mib '.process.args = ["/bin/sh"]')
size=$(stat -c %s "$d/config.json")
head -c $((16 * MiB - size)) /dev/zero | tr '\0' ' ' >>"$d/config.json"
bcase config-16MiB-exact 0 '' "$d"
d=$(mkbundle badjson)
printf '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, /* hi */ }' >"$d/config.json"
bcase config-invalid 1 'config.json: invalid JSON at byte [0-9]+' "$d"
d=$(mkbundle deep)
{ printf '{"root":{"path":"rootfs"},"x":'; head -c 100000 /dev/zero | tr '\0' '['; } >"$d/config.json"
bcase config-deep 1 'config.json: invalid JSON at byte [0-9]+: nesting deeper than 64 levels' "$d"
d=$(mkbundle noroot 'del(.root)')
bcase config-no-root 1 'config.json: required field `root` is missing' "$d"
d=$(mkbundle argsnum '.process.args = [1]')
bcase config-args-number 1 'config.json: `process.args\[0\]` must be a string' "$d"
d=$(mkbundle rootctl '.root.path = "root\nfs"')
bcase config-root-control 1 'config.json: `root.path` is too long or has control characters' "$d"
d=$(mkbundle dupkey)
sed 's/^{/{"root":{"path":"x"},/' "$B/config.json" >"$d/config.json"
bcase config-duplicate-root 1 'config.json: invalid JSON at byte [0-9]+: duplicate key `root`' "$d"
hi max-config-size-0 2 '' '--max-config-size: `0` is not a positive number' 'true' --max-config-size 0 createRuntime

hx_snapshot "$E2E_TMP/snap.after"
e2e_check "direct cases: host unchanged (canary, /etc files, hook-made names, mounts)" \
    e2e_host_compare "$E2E_TMP/snap.before" "$E2E_TMP/snap.after"

# ------------------------------------------------------------ real containers
# uc NAME WARN ID MID JQ: a container `ID` whose config.json gets JQ; the
# hook (behind hostile-hookwrap.sh) must let `runc create` succeed with
# stderr exactly WARN (an ERE for one line after `oci-systemd-hook: <id12>: `;
# empty: no output), and leave /etc/machine-id = MID in the rootfs.
UC_N=0
uc() {
    local name=$1 warn=$2 id=$3 mid=$4 expr=$5 b rc got line
    UC_N=$((UC_N + 1))
    hx_selected "$name" || return 0
    name=$(printf 'c%02d-%s' "$UC_N" "$name")
    b=$E2E_TMP/$name
    e2e_bundle "$b" bookworm stage=createRuntime
    jq --arg w "$HX_DIR/hostile-hookwrap.sh" --arg log "$b/hook.log" --arg hook "$HOOK" '
        .hooks.createRuntime = [{path: $w, args: ["hostile-hookwrap", $log, $hook, "createRuntime"]}]
        | '"$expr" "$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
    hx_mounts /proc/self/mountinfo >"$b/m.before"
    _e2e_containers+=("runc|$id|$b")
    rc=0
    timeout 30 runc --root "$E2E_STATE/runc" --log "$b/runtime.log" create --bundle "$b" "$id" \
        </dev/null >"$b/console.log" 2>&1 || rc=$?
    line=$(cat "$b/hook.log" 2>/dev/null || true)
    if ((rc != 0)); then
        fail "$name: runc create succeeds (rc=$rc: $(tr '\n' ' ' <"$b/console.log" | cut -c1-300))"
    elif [[ -z $warn ]]; then
        e2e_check "$name: created, no warning${line:+ (got: $line)}" test -z "$line"
    else
        e2e_check "$name: created with one warning line: $line" \
            hx_line_ok "$line" "${id:0:12}" "^oci-systemd-hook: [^ ]+: warning: $warn"
    fi
    got=$(cat "$b/rootfs/etc/machine-id" 2>/dev/null || true)
    e2e_check "$name: /etc/machine-id = $mid (got ${got:0:40})" test "$got" = "$mid"
    _e2e_forget runc "$id"
    hx_mounts /proc/self/mountinfo >"$b/m.after"
    e2e_check "$name: host mounts unchanged" e2e_host_compare "$b/m.before" "$b/m.after"
    [[ ${OSH_E2E_KEEP:-} == 1 ]] || e2e_bundle_cleanup "$b"
}
hexid() { head -c 32 /dev/urandom | sha256sum | cut -c1-64; }
setuuid() { # JSON-STRING...: container_uuid entries (replacing the one there)
    local e='' u
    for u in "$@"; do e+="\"container_uuid=\" + $u, "; done
    printf '.process.env = ([.process.env[] | select(startswith("container_uuid=") | not)] + [%s])' "${e%, }"
}
BADUUID='container_uuid is not 32 hex digits or a UUID: deriving the machine-id from the container id$'
id=$(hexid); uc uuid-valid-upper '' "$id" 0123456789abcdef0123456789abcdef "$(setuuid '"01234567-89AB-CDEF-0123-456789ABCDEF"')"
id=$(hexid); uc uuid-slash "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"0123456789abcdef/123456789abcdef"')"
id=$(hexid); uc uuid-dotdot "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"../../../../../../../../../etc/x"')"
id=$(hexid); uc uuid-newline "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"0123456789abcdef\n0123456789abcde"')"
id=$(hexid); uc uuid-nonhex "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"0123456789abcdefghijklmnopqrstuv"')"
id=$(hexid); uc uuid-zeros "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"00000000000000000000000000000000"')"
id=$(hexid); uc uuid-zeros-dashed "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"00000000-0000-0000-0000-000000000000"')"
id=$(hexid); uc uuid-33 "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"0123456789abcdef0123456789abcdef0"')"
id=$(hexid); uc uuid-dashes-misplaced "$BADUUID" "$id" "${id:0:32}" "$(setuuid '"0123456-789ab-cdef-0123-456789abcdef"')"
id=$(hexid); uc uuid-1MiB "$BADUUID" "$id" "${id:0:32}" "$(setuuid '("f" * 1048576)')"
id=$(hexid); uc uuid-repeated 'container_uuid is set more than once: deriving the machine-id from the container id$' \
    "$id" "${id:0:32}" "$(setuuid '"0123456789abcdef0123456789abcdef"' '"fedcba9876543210fedcba9876543210"')"
# an id that is not hex: SHA-256 of it
id=c-nonhex-id-$(hexid | cut -c1-8)
uc uuid-bad-nonhex-id "$BADUUID" "$id" "$(printf %s "$id" | sha256sum | cut -c1-32)" "$(setuuid '"not-a-uuid"')"
# odd annotations: a warning, and the command (/sbin/init) decides
id=$(hexid); uc annotation-maybe 'ignoring the annotation `oci-systemd-hook`: `maybe` is not enabled or disabled$' \
    "$id" 0123456789abcdef0123456789abcdef \
    "$(setuuid '"0123456789abcdef0123456789abcdef"') | .annotations = {\"oci-systemd-hook\": \"maybe\"}"
id=$(hexid); uc annotation-cgroup-bogus 'ignoring the annotation oci-systemd-hook.cgroup `v3\\x0ax` \(none, v1, unified or auto\)$' \
    "$id" 0123456789abcdef0123456789abcdef \
    "$(setuuid '"0123456789abcdef0123456789abcdef"') | .annotations = {\"oci-systemd-hook.cgroup\": \"v3\nx\"}"

e2e_log "test-hostile-input.sh: $HI_N direct cases, $UC_N containers in $(_e2e_since "$T_START")s"
e2e_done
