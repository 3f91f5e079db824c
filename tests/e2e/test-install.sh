#!/bin/bash
# `make install` / `make uninstall` with DESTDIR, from a copy of the source
# tree (the files git knows or would add: the checkout's own build is left
# alone), configured as the README says:
#   ./configure --prefix=/usr --libexecdir=/usr/libexec
# installs exactly
#   /usr/libexec/oci/hooks.d/oci-systemd-hook        (runs: --version)
#   /usr/share/containers/oci/hooks.d/systemd.json
#   /usr/share/containers/oci/hooks.d/systemd-annotation.json
#   /usr/share/man/man1/oci-systemd-hook.1
# with the hooks.d files equal to hooks.d/*.json but for a hook.path that
# names the installed binary; `make uninstall` leaves no file behind. The
# copy is first configured and built as demo.sh and test.sh do (default
# prefix /usr/local), then reconfigured as above and built again: the
# hooks.d files must follow the new paths (a stale /usr/local path makes
# podman skip the hook silently). Then the same with
# libexecdir=/opt/osh/libexec given to make: the hooks.d files follow the
# binary there. The installed binary's `inject --path HOOK` writes
# the hooks of examples/runc-config.json (with HOOK as path).
#
#   tests/e2e/test-install.sh                   # as root (CI); OSH_E2E_KEEP=1 keeps the copy

# Checks pass code as strings to eval (single quotes on purpose), and some
# functions are only called from such strings.
# shellcheck disable=SC2016,SC2317
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"

e2e_init
"$SRC/scripts/deps.sh"
B=$E2E_TMP/src
mkdir -p "$B"

# ---------------------------------------------------------------- build

t0=$(_e2e_now)
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$B" -xf -
else
    cp -a "$SRC/." "$B"
    if [[ -f $B/Makefile ]]; then make -C "$B" -s distclean >/dev/null 2>&1 || true; fi
fi
# first as demo.sh and test.sh build (scripts/build.sh: default prefix)
if (cd "$B" && autoreconf -fi && ./configure -q && make -j"$(nproc)") >"$E2E_TMP/build.log" 2>&1; then
    got=$(jq -r .hook.path "$B/build/systemd.json" 2>/dev/null) || got=invalid
    e2e_check "autoreconf, configure (default prefix), make in a copy: build/systemd.json names /usr/local/libexec/oci/hooks.d/oci-systemd-hook (got $got; $(_e2e_since "$t0") s)" \
        test "$got" = /usr/local/libexec/oci/hooks.d/oci-systemd-hook
else
    fail "autoreconf, configure, make in a copy of the tree"
    tail -n 30 "$E2E_TMP/build.log" | sed 's/^/#   /' >&2
    e2e_done
fi
# then reconfigured as the README says, in the same tree
t0=$(_e2e_now)
if (cd "$B" && ./configure -q --prefix=/usr --libexecdir=/usr/libexec && make -j"$(nproc)") \
    >"$E2E_TMP/build.log" 2>&1; then
    ok "reconfigure --prefix=/usr --libexecdir=/usr/libexec, make ($(_e2e_since "$t0") s)"
else
    fail "reconfigure --prefix=/usr --libexecdir=/usr/libexec, make"
    tail -n 30 "$E2E_TMP/build.log" | sed 's/^/#   /' >&2
    e2e_done
fi

# ---------------------------------------------------------------- helpers

# files ROOT: every non-directory below ROOT, as absolute paths in ROOT.
files() { (cd "$1" && find . ! -type d | sed 's|^\.||' | sort); }

# install_check LABEL ROOT LIBEXECDIR MAKE-ARGS...
install_check() {
    local label=$1 root=$2 libexec=$3 hook want got f
    shift 3
    hook=$libexec/oci/hooks.d/oci-systemd-hook
    # no `rm build/*.json` here: the build must notice a changed path itself
    if ! make -C "$B" install DESTDIR="$root" "$@" >"$E2E_TMP/install.log" 2>&1; then
        fail "$label: make install DESTDIR"
        tail -n 20 "$E2E_TMP/install.log" | sed 's/^/#   /' >&2
        return 0
    fi
    want=$(printf '%s\n' "$hook" /usr/share/containers/oci/hooks.d/systemd-annotation.json \
        /usr/share/containers/oci/hooks.d/systemd.json /usr/share/man/man1/oci-systemd-hook.1 \
        /usr/bin/oci-systemd-hook /usr/bin/oci-systemd-runtime /usr/bin/oci-systemd-configure | sort)
    got=$(files "$root")
    e2e_check "$label: installs exactly the hook, its two names and oci-systemd-configure in /usr/bin, the two hooks.d files and the man page (got: ${got//$'\n'/ })" \
        test "$got" = "$want"
    e2e_check "$label: /usr/bin/oci-systemd-hook and /usr/bin/oci-systemd-runtime are links to $hook" \
        eval '[[ $(readlink "$root/usr/bin/oci-systemd-hook") == "$hook" && $(readlink "$root/usr/bin/oci-systemd-runtime") == "$hook" ]]'
    e2e_check "$label: oci-systemd-runtime runs the real runc (--version)" \
        eval '"$root$hook" --version >/dev/null && (exec -a oci-systemd-runtime "$root$hook" --version) | grep -q "^runc version"' 
    e2e_check "$label: $hook is executable and runs (--version: $("$root$hook" --version 2>&1 || true))" \
        eval '[[ -x $root$hook ]] && "$root$hook" --version >/dev/null'
    for f in systemd.json systemd-annotation.json; do
        got=$(jq -r .hook.path "$root/usr/share/containers/oci/hooks.d/$f" 2>/dev/null) || got=invalid
        e2e_check "$label: $f names the installed binary (hook.path $got)" test "$got" = "$hook"
        e2e_check "$label: $f's hook.path exists in DESTDIR and is executable ($root$got)" \
            test -f "$root$got" -a -x "$root$got"
        e2e_check "$label: $f is hooks.d/$f but for hook.path" \
            eval 'cmp -s <(jq -S "del(.hook.path)" "$SRC/hooks.d/$f") <(jq -S "del(.hook.path)" "$root/usr/share/containers/oci/hooks.d/$f")'
    done
    runc spec --bundle "$E2E_TMP" && mv "$E2E_TMP/config.json" "$E2E_TMP/spec.json"
    "$root$hook" inject --path "$hook" "$E2E_TMP/spec.json"
    e2e_check "$label: inject --path $hook writes the hooks of examples/runc-config.json" \
        eval 'cmp -s <(jq -S --arg h "$hook" ".hooks.createRuntime[0].path = \$h | .hooks" "$SRC/examples/runc-config.json") <(jq -S .hooks "$E2E_TMP/spec.json")'
    e2e_check "$label: the man page is man/oci-systemd-hook.1" \
        cmp -s "$SRC/man/oci-systemd-hook.1" "$root/usr/share/man/man1/oci-systemd-hook.1"
    if make -C "$B" uninstall DESTDIR="$root" "$@" >"$E2E_TMP/uninstall.log" 2>&1; then
        got=$(files "$root")
        e2e_check "$label: make uninstall leaves no file behind (left: ${got:-none})" test -z "$got"
    else
        fail "$label: make uninstall DESTDIR"
        tail -n 20 "$E2E_TMP/uninstall.log" | sed 's/^/#   /' >&2
    fi
}

# ---------------------------------------------------------------- install

install_check "default (/usr/libexec)" "$E2E_TMP/root" /usr/libexec
install_check "make libexecdir=/opt/osh/libexec" "$E2E_TMP/root2" /opt/osh/libexec \
    libexecdir=/opt/osh/libexec

e2e_done
