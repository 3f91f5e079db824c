#!/bin/bash
# oot-build.sh DIR [CONFIGURE-ARGS...]: configure an out-of-tree build in
# DIR (made if missing) with CONFIGURE-ARGS; reconfigures only when the
# arguments or configure changed.  The caller runs make in DIR.
#
# automake refuses a VPATH build from a source tree that is itself
# configured ("source directory already configured"), which is how
# scripts/build.sh and test.sh leave it.  Then the sources (git's tracked
# and untracked-but-not-ignored files, so uncommitted work is built too)
# are copied to DIR/.src, mtimes kept so that make rebuilds only what
# changed, and configure is generated there.  From a clean tree (or a
# release tarball) DIR is a plain VPATH build of the tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case $dir/ in
"$top"/build-*) ;;
"$top"/*) echo "oot-build: $dir: a build dir in the tree must be $top/build-*" >&2; exit 1 ;;
esac

if [[ -f $top/config.status ]]; then
    if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
        echo "oot-build: $top is configured in place and not a git checkout:" \
            "run \`make distclean' there first" >&2
        exit 1
    fi
    src=$dir/.src
    stage=$dir/.stage
    rm -rf "$stage"
    mkdir -p "$src" "$stage"
    # build-*/ are build directories (this one among them), never sources
    git -C "$top" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            [[ $f == build-* || ! -f $top/$f ]] || printf '%s\0' "$f"
        done |
        tar -C "$top" --null -T - -cf - | tar -C "$stage" -xpf -
    # only what changed is copied (and so gets a new mtime): make rebuilds
    # exactly that, whatever the mtimes in the tree say
    (cd "$stage" && find . -type f -print0) | while IFS= read -r -d '' f; do
        if ! cmp -s "$stage/$f" "$src/$f"; then
            mkdir -p "$(dirname "$src/$f")"
            cp "$stage/$f" "$src/$f"
        fi
    done
    rm -rf "$stage"
    regen=0
    [[ -x $src/configure ]] || regen=1
    for f in "$src"/configure.ac "$src"/Makefile.am "$src"/*/local.mk "$src"/tests/*/local.mk; do
        [[ -f $f && $f -nt $src/configure ]] && regen=1
    done
    if ((regen)); then
        (cd "$src" && autoreconf -fi >/dev/null 2>&1) ||
            { (cd "$src" && autoreconf -fi); exit 1; }
    fi
else
    src=$top
    [[ -x $src/configure ]] || (cd "$src" && autoreconf -fi >/dev/null)
fi

args="$src/configure ${*} CFLAGS=${CFLAGS:-}"
if [[ ! -f $dir/Makefile || ! -f $dir/config.status || $src/configure -nt $dir/config.status ||
    $(cat "$dir/.oot-args" 2>/dev/null) != "$args" ]]; then
    (cd "$dir" && "$src/configure" -q "$@") || { tail -30 "$dir/config.log" >&2; exit 1; }
    printf '%s' "$args" >"$dir/.oot-args"
fi
echo "$dir"
