#!/bin/bash
# `oci-systemd-hook configure` for the engines no other test starts here
# (CRI-O is not in Debian 12; podman reads hooks.d by itself):
#   crio     a crio.conf.d drop-in that TOML-parses (python3's tomllib) to
#            a [crio.runtime] hooks_dir list naming the configured hooks.d
#            directory and CRI-O's default; --dry-run writes nothing; a
#            second run changes no byte and says so; a drop-in that is a
#            symlink is replaced (rename), never written through;
#   podman   without the installed hooks.d file: one line naming it, exit 1.
# (docker and containerd: test-docker.sh, test-cri.sh, test-cri-current.sh.)
#
#   tests/e2e/test-configure.sh                 # no root needed
# shellcheck disable=SC2016,SC2034  # checks eval single-quoted code (and read its variables)
set -euo pipefail
HOOK=${HOOK:-$(cd "$(dirname "$0")/../.." && pwd)/oci-systemd-hook}
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

e2e_init
e2e_require_hook
D=$E2E_TMP/conf
mkdir -p "$D"
F=$D/crio.conf.d/50-oci-systemd-hook.conf

out=$("$HOOK" configure --dry-run --config "$F" crio 2>&1) || true
e2e_check "crio --dry-run prints the file and writes nothing" \
    eval '[[ ! -e $F && $out == *"hooks_dir"* ]]'

e2e_check "crio writes the drop-in" "$HOOK" configure --config "$F" crio
# shellcheck disable=SC2016  # python code
dirs=$(python3 -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["crio"]["runtime"]["hooks_dir"]))' "$F" 2>&1) || dirs="unparsable: $dirs"
e2e_check "the drop-in parses as TOML: crio.runtime.hooks_dir = [$dirs], CRI-O's default first" \
    eval '[[ $dirs == "/usr/share/containers/oci/hooks.d "* && $(wc -w <<<"$dirs") -ge 2 ]]'
sum=$(sha256sum <"$F")
out=$("$HOOK" configure --config "$F" crio 2>&1) || true
e2e_check "a second run changes no byte and says so" \
    eval '[[ $(sha256sum <"$F") == "$sum" && $out == *"already configured"* ]]'

L=$D/link.conf
ln -s "$D/elsewhere.conf" "$L"
"$HOOK" configure --config "$L" crio >/dev/null 2>&1 || true
e2e_check "a drop-in that is a symlink is replaced, nothing written through it" \
    eval '[[ ! -e $D/elsewhere.conf && -f $L && ! -L $L ]]'

rc=0
out=$("$HOOK" configure podman 2>&1) || rc=$?
if [[ -e /usr/share/containers/oci/hooks.d/systemd.json || -e /usr/local/share/containers/oci/hooks.d/systemd.json ]]; then
    e2e_log "a hooks.d file is installed on this host: the podman check passes ($out)"
else
    e2e_check "podman without the installed hooks.d file: one line naming it, exit 1 (rc $rc: $out)" \
        eval '((rc == 1)) && [[ $(grep -c . <<<"$out") == 1 && $out == *"systemd.json is missing"* ]]'
fi
e2e_done
