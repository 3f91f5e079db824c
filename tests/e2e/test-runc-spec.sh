#!/bin/bash
# Plain `runc spec` and the capabilities systemd needs (README "runc and
# crun: capabilities"). Debian 12 (systemd 252), runc on this host, the hook
# at createRuntime:
#   1. the README's block, run as written (bundle, hook path and container
#      name substituted; the test adds a cgroupsPath below /osh-e2e for its
#      cleanup): `explain` gives no capability warning, the container
#      reaches running with 0 failed units, stops on signal 37.
#   2. `runc spec`'s own three capabilities (the block without its
#      capabilities line): `explain` warns that all three of CAP_SETPCAP,
#      CAP_SETUID, CAP_SETGID are missing, and the boot ends degraded with
#      journald (218/CAPABILITIES), logind and dbus failed: what the README
#      says happens.
#   3. `runc spec`'s three plus CAP_SETPCAP, CAP_SETUID, CAP_SETGID: no
#      warning, running, 0 failed units (the three are enough).
#   4. podman's default set without one of the three, for each: `explain`
#      names it, and the unit the README names fails (the three are each
#      needed).
#
#   tests/e2e/test-runc-spec.sh                 # as root
#   HOOK=/abs/oci-systemd-hook ...              # another build

# Checks pass code as strings to eval (single quotes on purpose).
# shellcheck disable=SC2016
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
export HOOK
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$(dirname "$0")/lib.sh"

README=$SRC/README.md
RUNC_CAPS='["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]'
NEED=(CAP_SETPCAP CAP_SETUID CAP_SETGID)
declare -A NEED_UNIT=([CAP_SETPCAP]=systemd-journald.service [CAP_SETUID]=dbus.service
    [CAP_SETGID]=dbus.service)

# doc_block MARKER: the code block after `<!-- test-runc-spec.sh: MARKER -->`
doc_block() {
    awk -v m="<!-- test-runc-spec.sh: $1 -->" '
        $0 == m { found = 1; next }
        found && /^```/ { if (inblock) exit; inblock = 1; next }
        inblock { print }' "$README"
}

# rootfs DIR: DIR/rootfs, an overlay on the cached bookworm image, and no
# config.json (e2e_bundle's is removed: `runc spec` writes the bundle's)
rootfs() {
    e2e_bundle "$1" bookworm
    rm -f "$1/config.json"
}

# cgpath DIR: the test's cgroupsPath into DIR/config.json
cgpath() {
    local cg
    cg=/osh-e2e/$(basename "$E2E_TMP")-$(basename "$1")
    jq --arg cg "$cg" '.linux.cgroupsPath = $cg' "$1/config.json" >"$1/config.json.new"
    mv "$1/config.json.new" "$1/config.json"
}

# explain_caps DIR: the capability warning of `explain DIR`, or nothing
explain_caps() { "$HOOK" explain "$1" 2>&1 | grep '^warning: process.capabilities' || true; }

# spec_bundle DIR CAPS: `runc spec`, the README's edits but for the
# capabilities, which are CAPS in the bounding, effective and permitted
# sets (CAPS "runc": the spec's own), the hook injected
spec_bundle() {
    local b=$1 caps=$2
    rootfs "$b"
    runc spec --bundle "$b"
    jq --argjson caps "${caps/#runc/null}" '
        .process.terminal = false
        | .process.args = ["/sbin/init"]
        | if $caps != null then .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
          else . end
        | .linux.namespaces += [{type: "cgroup"}]' "$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
    "$HOOK" inject "$b/config.json"
    cgpath "$b"
}

# unit_failed RT NAME UNIT TIMEOUT: true once UNIT has failed
unit_failed() {
    local i
    for i in $(seq $(($4 * 5))); do
        [[ $(e2e_exec "$1" "$2" systemctl is-failed "$3" 2>/dev/null) == failed ]] && return 0
        sleep 0.2
    done
    return 1
}

e2e_init
e2e_require_hook
e2e_image bookworm >/dev/null

# ---------------------------------------------------------------- 1. README

b=$E2E_TMP/readme
name=$(basename "$E2E_TMP")-readme
block=$(doc_block runc)
e2e_check "README has the runc block (runc spec, jq, inject, run, exec, kill, delete)" \
    eval '[[ $block == *"runc spec"* && $block == *"inject config.json"* && $block == *"runc run -d sd "* &&
        $block == *"runc exec sd systemctl is-system-running --wait"* && $block == *"runc kill sd 37"* ]]'
rootfs "$b"
# the bundle, the hook, the name; the test's cgroupsPath after the inject
script=$(sed -E -e "s|^cd BUNDLE\$|cd '$b'|" -e "s|/usr/libexec/oci/hooks.d/oci-systemd-hook|'$HOOK'|g" \
    -e "s/(^| )sd( |\$)/\\1$name\\2/g" -e "s/(^| )sd( |\$)/\\1$name\\2/g" <<<"$block" |
    awk -v b="$b" '{ print } / inject config.json/ { print "cgpath \"" b "\"" }')
# after the exec line: the number of failed units, for the check below
script=$(awk -v n="$name" '{ print }
    /is-system-running --wait/ { print "echo \"failed units: $(runc exec " n " systemctl list-units --state=failed --plain --no-legend --no-pager | wc -l)\"" }' <<<"$script")
_e2e_containers+=("runc|$name|$b")
t0=$(_e2e_now)
rc=0
out=$(timeout 180 env R="$E2E_STATE/runc" B="$b" LIB="$_E2E_DIR/lib.sh" bash -c '
    set -euo pipefail
    . "$LIB"
    E2E_TMP=$(dirname "$B")
    runc() { command runc --root "$R" "$@"; }
    cgpath() { local c; c=/osh-e2e/$(basename "$E2E_TMP")-$(basename "$1")
        jq --arg cg "$c" ".linux.cgroupsPath = \$cg" "$1/config.json" >"$1/c.new" && mv "$1/c.new" "$1/config.json"; }
    cd "$B"
    '"$(awk '/^runc run /{exit} {print}' <<<"$script")"'
    "$HOOK" explain . >explain.txt 2>&1
    '"$(awk 'f {print} /^runc run /{f=1; print}' <<<"$script")"'
' 2>&1) || rc=$?
w=$(grep '^warning: process.capabilities' "$b/explain.txt" 2>/dev/null || true)
e2e_check "1. README block: explain gives no capability warning${w:+ (got: $w)}" \
    eval '[[ -f $b/explain.txt && -z $w ]]'
e2e_check "1. README block: runs to the end, exit 0 (got $rc in $(_e2e_since "$t0") s)" test "$rc" = 0
got=$(grep -E '^(running|degraded|maintenance|starting|initializing|stopping)$' <<<"$out" || true)
e2e_check "1. README block: is-system-running --wait says running (got: ${got:-$(head -c 300 <<<"$out")})" \
    test "$got" = running
got=$(grep '^failed units: ' <<<"$out" || true)
e2e_check "1. README block: 0 failed units (got: ${got:-none})" test "$got" = "failed units: 0"
e2e_check "1. README block: the container is gone after kill 37 and delete" \
    test "$(e2e_status runc "$name")" = gone
# shellcheck disable=SC2001
[[ $rc == 0 ]] || { e2e_log "output:"; sed 's/^/#   /' <<<"$out" >&2; e2e_dump "$b"; }
_e2e_forget runc "$name"
e2e_bundle_cleanup "$b"

# ---------------------------------------------------------------- 2.-4.

# boot_case LABEL DIR NAME WANT_WARNING EXPECT: EXPECT is "running" or a
# unit that must fail
boot_case() {
    local label=$1 b=$2 name=$3 want=$4 expect=$5 w st n r
    w=$(explain_caps "$b")
    if [[ -z $want ]]; then
        e2e_check "$label: explain gives no capability warning${w:+ (got: $w)}" test -z "$w"
    else
        e2e_check "$label: explain warns: ${w:-nothing}" eval '[[ $w == *"$want"* ]]'
    fi
    BOOT_T0=$(_e2e_now)
    if ! e2e_start runc "$b" "$name"; then
        fail "$label: runc run"
        _e2e_forget runc "$name"
        return 0
    fi
    if [[ $expect == running ]]; then
        e2e_boot_ok "$label" runc "$name" "$b" || true
    else
        if unit_failed runc "$name" "$expect" 30; then
            r=$(e2e_exec runc "$name" systemctl show -p ExecMainStatus --value "$expect" 2>/dev/null) || r='?'
            ok "$label: $expect fails (exit status $r, after $(_e2e_since "$BOOT_T0") s)"
        else
            st=$(e2e_exec runc "$name" systemctl is-system-running 2>&1) || true
            fail "$label: $expect fails (it did not in 30 s; is-system-running: $st)"
        fi
    fi
    e2e_stop runc "$name" >/dev/null || true
    e2e_bundle_cleanup "$b"
}

# 2. runc spec as it comes
b=$E2E_TMP/plain
name=$(basename "$E2E_TMP")-plain
spec_bundle "$b" runc
w=$(explain_caps "$b")
want="(bounding, effective, permitted) lacks CAP_SETPCAP CAP_SETUID CAP_SETGID"
e2e_check "2. runc spec's capabilities: explain warns: ${w:-nothing}" eval '[[ $w == *"$want"* ]]'
if e2e_start runc "$b" "$name"; then
    st=$(e2e_wait_running runc "$name" 30) || true
    failed=$(e2e_exec runc "$name" systemctl list-units --state=failed --plain --no-legend --no-pager 2>/dev/null |
        awk '{ print $1 }' | sort | tr '\n' ' ') || true
    e2e_check "2. runc spec's capabilities: degraded with journald, logind and dbus failed (got $st; failed: $failed)" \
        eval '[[ $st == degraded && " $failed" == *" dbus.service "* && " $failed" == *" systemd-journald.service "* &&
            " $failed" == *" systemd-logind.service "* ]]'
    r=$(e2e_exec runc "$name" systemctl show -p ExecMainStatus --value systemd-journald.service systemd-logind.service 2>&1 |
        grep . | tr '\n' ' ') || true
    e2e_check "2. runc spec's capabilities: journald and logind exit 218 (CAPABILITIES) (got $r)" \
        test "$r" = "218 218 "
    e2e_stop runc "$name" >/dev/null || true
else
    fail "2. runc spec's capabilities: runc run"
    _e2e_forget runc "$name"
fi
e2e_bundle_cleanup "$b"

# 3. runc spec's three plus the three
b=$E2E_TMP/min
spec_bundle "$b" "$(jq -c --args '. + $ARGS.positional' "${NEED[@]}" <<<"$RUNC_CAPS")"
boot_case "3. runc spec's capabilities + ${NEED[*]}" "$b" "$(basename "$E2E_TMP")-min" "" running

# 4. podman's set without one of them
for c in "${NEED[@]}"; do
    b=$E2E_TMP/no-$c
    spec_bundle "$b" "$(jq -c --arg c "$c" 'map(select(. != $c))' <<<"$E2E_CAPS")"
    boot_case "4. podman's capabilities without $c" "$b" "$(basename "$E2E_TMP")-no-${c#CAP_}" \
        "lacks $c:" "${NEED_UNIT[$c]}"
done

left=$(e2e_leftovers) || true
e2e_check "no runtime state or cgroups left behind${left:+: $left}" test -z "$left"
e2e_done
