#!/bin/bash
# shellcheck disable=SC2016  # jq programs and code for bash -c are single-quoted on purpose
# Does the hostile suite notice when a protection is gone? Builds the hook
# from a copy of the sources in a temp dir, once as is (the control) and
# once per mutant with one protection removed, and runs the hostile cases
# that protection is for against each build. The control must pass, every
# mutant must fail with the named checks. /work/main is only read.
#
#   tests/e2e/hostile-mutants.sh          # as root, about 1 min
#
# Mutants (each with the cases it runs; none can touch more than the
# canary, the test's temp dir, or a container's mount namespace):
#   in-root        openat2 without RESOLVE_IN_ROOT: an absolute or `../..`
#                  link in the image resolves on the host
#   write-through  /etc/machine-id opened and written (O_TRUNC) instead of
#                  replaced by rename (runs mid-abs/mid-rel only: their links
#                  point at the canary, never at the real /etc)
#   same-mntns     no refusal of a pid in the hook's own mount namespace
#   copyup-follow  copy-up opens image files without O_NOFOLLOW and does
#                  not re-check the file it opened (the race-copyup case: a
#                  link to the canary's shadow swapped in gets copied)
# Not a mutant here: dropping RESOLVE_NO_MAGICLINKS (RESOLVE_IN_ROOT makes
# the kernel refuse a magic-link jump with EXDEV anyway) or the walk's
# procfs check (the walk resolves a link's text inside the rootfs, so
# /proc/1/root -> / loops): both are defence in depth, the hostile cases
# stay safe without them and only the error line changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/osh-hostile-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0 failed=0

report() { # OK MSG
    n=$((n + 1))
    if [[ $1 == 1 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# build NAME PYTHON-PATCH (reads and writes the files in the cwd; must
# assert that it changed something)
build() {
    local d=$work/$1
    mkdir -p "$d"
    cp "$src"/*.c "$src"/*.h "$d"/
    (cd "$d" && python3 -c "$2") || { echo "# patch $1 did not apply" >&2; return 1; }
    (cd "$d" && gcc -O2 -include config.h -I/usr/include/yajl \
        error.c log.c json.c spec.c detect.c machineid.c plan.c cgroup.c fsutil.c nsenter.c mounts.c \
        copyup.c lazylib.c inject.c hook.c -lyajl -ldl -o oci-systemd-hook)
}

# run NAME SCRIPT ONLY WANT EXPECT-FAILING-ERE...: run SCRIPT's cases
# matching ONLY against build NAME; WANT pass|fail; with fail, each ERE
# must match a `not ok` line.
run() {
    local name=$1 script=$2 only=$3 want=$4 rc=0 out re miss=''
    shift 4
    out=$(HOOK=$work/$name/oci-systemd-hook OSH_HOSTILE_ONLY=$only OSH_HOSTILE_RACE_STARTS=${RACE:-0} \
        "$here/$script" 2>&1) || rc=$?
    printf '%s\n' "$out" >"$work/$name.$script.log"
    if [[ $want == pass ]]; then
        report $((rc == 0)) "$name: $script /$only/ passes ($(grep -c '^ok' <<<"$out") ok)"
        ((rc == 0)) || grep '^not ok' <<<"$out" | sed 's/^/#   /'
        return 0
    fi
    for re in "$@"; do
        grep -Eq -e "^not ok [0-9]+ - .*$re" <<<"$out" || miss+=" /$re/"
    done
    report $((rc != 0)) "$name: $script /$only/ fails ($(grep -c '^not ok' <<<"$out") not ok)"
    report "$([[ -z $miss ]] && echo 1 || echo 0)" "$name: the expected checks fail${miss:+ (missing:$miss)}"
    grep '^not ok' <<<"$out" | cut -c1-220 | sed 's/^/#   /'
}

HOSTILE='^(varlog-abs|varlog-rel|mid-abs|mid-rel|varlog-magic|varlog-magic-walk)$'
INPUT='^pid-own-shell'

build control 'pass'
run control test-hostile.sh "$HOSTILE" pass
run control test-hostile-input.sh "$INPUT" pass

build in-root '
s = open("fsutil.c").read()
old = ".resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,"
assert old in s
s = s.replace(old, ".resolve = RESOLVE_NO_MAGICLINKS,")
# paths stay relative to the rootfs fd, but links in them resolve as on the host
old = "        if (!(flags & FS_WALK_ONLY) && !fs_force_walk) {\n"
assert old in s
s = s.replace(old, old + "                while (*path == \x27/\x27) path++;\n", 1)
open("fsutil.c", "w").write(s)'
run in-root test-hostile.sh '^(varlog-abs|varlog-rel)$' fail \
    'varlog-abs: no mount outside the rootfs' 'varlog-abs: tmpfs on .* inside the rootfs' \
    'varlog-rel: no mount outside the rootfs'

build write-through '
s = open("mounts.c").read()
old = "return fs_write_file_at(etc, \"machine-id\", want, 0444, owner_uid(p), owner_gid(p), err);"
assert old in s
new = """{ int fd = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
          if (fd < 0) return hook_error_set(err, errno, "mutant: %s", strerror(errno));
          (void)!write(fd, want, strlen(want)); (void)close(fd); return 0; }"""
open("mounts.c", "w").write(s.replace(old, new))'
# ONLY the two cases whose link points at the canary's machine-id
run write-through test-hostile.sh '^(mid-abs|mid-rel)$' fail 'mid-abs: host unchanged' 'mid-rel: host unchanged'

build same-mntns '
import re
s = open("nsenter.c").read()
new, k = re.subn(r"if \(self\.st_ino == target\.st_ino && self\.st_dev == target\.st_dev\)\n\s*return hook_error_set\(err, EPERM,[^;]*;", "", s)
assert k == 1
open("nsenter.c", "w").write(new)'
run same-mntns test-hostile-input.sh "$INPUT" fail \
    'pid-own-shell-nocgroup: exit' 'pid-own-shell-nocgroup: host mounts unchanged'

build copyup-follow '
s = open("copyup.c").read()
a = "from = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);"
b = "|| !S_ISREG(now.st_mode) || now.st_ino != st->st_ino)"
assert a in s and b in s
open("copyup.c", "w").write(s.replace(a, a.replace("O_NOFOLLOW | ", "")).replace(b, "|| 0)"))'
RACE=60 run copyup-follow test-hostile.sh '^race-copyup$' fail 'race-copyup: [0-9]+ creates .*[1-9][0-9]* otherwise'

echo "1..$n"
((failed == 0)) || { echo "# FAILED $failed of $n"; exit 1; }
echo "# all $n checks passed"
