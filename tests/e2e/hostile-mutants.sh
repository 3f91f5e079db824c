#!/bin/bash
# shellcheck disable=SC2016  # jq programs and code for bash -c are single-quoted on purpose
# Do the hostile and boundary suites notice when a protection is gone?
# Builds the hook from a copy of the sources in a temp dir, once as is (the
# control) and once per mutant with one protection removed, and runs the
# cases that protection is for (from test-hostile.sh, test-hostile-input.sh,
# test-boundary.sh, test-run-volume.sh) against each build. The control
# must pass, every mutant must fail with the named checks. The sources are
# only read.
#
#   tests/e2e/hostile-mutants.sh          # as root, about 2 min
#   OSH_MUTANTS_ONLY=ERE ...              # only the mutants whose name
#                                         # matches (and the control)
#   OSH_E2E_KEEP=1 ...                    # keep the builds and logs
#
# Mutants (each with the cases it runs; none can touch more than the
# canary, the test's temp dir, or a container's mount namespace):
#   in-root        openat2 without RESOLVE_IN_ROOT: an absolute or `../..`
#                  link in the image resolves on the host
#   write-through  /etc/machine-id opened and written (O_TRUNC) instead of
#                  replaced by rename (runs mid-abs/mid-rel only: their links
#                  point at the canary, never at the real /etc)
#   fill-inode     the worker's copy of /run (made from the host's view)
#                  taken without checking it is of the directory mounted on
#                  (host-run-bind: a host directory bound on /run host-side)
#   fill-idmap     that copy taken on an idmapped rootfs, whose owners the
#                  container sees otherwise (idmap-rootfs)
#   stage-boundary the worker stages /etc/machine-id without its boundary
#                  check: into a volume at /etc (etc-volume)
#   same-mntns     no refusal of a pid in the hook's own mount namespace
#   own-mount      no FS_OWN_MOUNT (neither the mkdir check nor the final
#                  one): the journal is made and mounted in a volume
#                  (userns-foothold)
#   init-proof     any process with a mount namespace is taken for the
#                  container's init (wrong-process)
#   cgroup-alone   a cgroup shared with other processes is delegated
#                  (crun-cgroup-disabled)
#   payload-ro     the runtime's cgroup is bound read-write above the
#                  payload: the container lifts its own limits
#                  (hugetlb-toggle-runc)
#   copyup-reopen  copy-up opens the image's file by name and checks it
#                  afterwards, not O_PATH + check + reopen: a device swapped
#                  in is opened (device-swap-timed)
#   copyup-follow  copy-up follows a link and does not check the file it
#                  opened: a link to the canary swapped in is copied
#                  (link-swap-timed)
#   copyup-sparse  holes copied as zeros (cu-sparse: refused at the cap)
#   copyup-root-attrs  the tmpfs root keeps the plan's mode and owner
#                  (copyup-modes)
#   copyup-reader  content the container could not read is copied
#                  (copyup-userns-secret, the host root's view)
#   log-escape     only C0 and DEL escaped, invalid UTF-8 passed through
#                  (unsafe-name)
#   state-settle   the state is read until EOF (stdin-plain)
#   rootfs-clean   root.path not cleaned: `./rootfs` matches no mount
#                  (root-dot)
#   shared-refusal no refusal of a shared rootfs in the check: only the
#                  attach refuses, with a line that does not say what to
#                  change (rootfs-shared-hooktime)
#   shared-attach  no shared-propagation check at all (is_shared false):
#                  mounts propagate (rootfs-shared-hooktime, run-shared)
#   run-tmpfs-whole  a /run volume marked prepare is taken without the
#                  whole-tmpfs check (run-subdir)
#   run-volume-refuse  a host directory at /run is not refused (run-dir)
#   vt-own-dev     the host's VT nodes are removed from whatever /dev is
#                  (no check that it is the spec's own unshared tmpfs): a
#                  host /dev bound in loses them (test-interface privileged,
#                  a fake host /dev in the test's directory)
# The device and link swaps are timed with fanotify (boundary-fanswap.py),
# not raced: bx15 race-device opens a device by chance only (a mean of 3-5
# per 25 s against the old hook, sometimes 0).
# Not a mutant here: dropping RESOLVE_NO_MAGICLINKS (RESOLVE_IN_ROOT makes
# the kernel refuse a magic-link jump with EXDEV anyway) or the walk's
# procfs check (the walk resolves a link's text inside the rootfs, so
# /proc/1/root -> / loops): both are defence in depth, the hostile cases
# stay safe without them and only the error line changes. Nor the two
# halves of FS_OWN_MOUNT alone, nor the is_shared checks of attach() and
# spec_run_tmpfs() alone: each is backed by another (boundary-NOTES.md,
# "Mutants").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
ONLY=${OSH_MUTANTS_ONLY:-}
[[ -f $src/config.h ]] || { echo "# no config.h in $src: build first (scripts/build.sh)" >&2; exit 1; }
work=$(mktemp -d /tmp/osh-hostile-mutants.XXXXXX)
if [[ ${OSH_E2E_KEEP:-} == 1 ]]; then echo "# builds and logs kept in $work"; else trap 'rm -rf "$work"' EXIT; fi
n=0 failed=0 t0=$SECONDS

report() { # OK MSG
    n=$((n + 1))
    if [[ $1 == 1 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# selected NAME: OSH_MUTANTS_ONLY matches NAME (the control always runs)
selected() { [[ -z $ONLY || $1 == control ]] || grep -Eq -e "$ONLY" <<<"$1"; }

# build NAME PYTHON-PATCH (reads and writes the files in the cwd; must
# assert that it changed something): false, with a `not ok`, when the
# patch does not apply or the build fails. The hook's sources as in
# Makefile.am (the .c files of libosh_a_SOURCES, and hook.c); a mutant
# recompiles only the files its patch changed and links the control's
# objects for the rest.
mapfile -t HOOK_SRCS < <(awk '/^libosh_a_SOURCES *=/ { f = 1 }
    f { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i; if ($NF != "\\") f = 0 }' "$src/Makefile.am")
HOOK_SRCS+=(hook.c)
CC_FLAGS=(-O2 -include config.h -I/usr/include/yajl -DSYSCONFDIR='"/etc"' -DBINDIR='"/usr/local/bin"'
    -DHOOKSDIR='"/usr/local/share/containers/oci/hooks.d"')
build() {
    local d=$work/$1 t=$SECONDS f objs=() changed=()
    mkdir -p "$d"
    cp "$src"/*.c "$src"/*.h "$d"/
    if ! (cd "$d" && python3 -c "$2") >"$d/patch.log" 2>&1; then
        report 0 "$1: the patch applies ($(tail -n 1 "$d/patch.log"))"
        return 1
    fi
    for f in "${HOOK_SRCS[@]}"; do
        if [[ $1 != control ]] && cmp -s "$d/$f" "$src/$f"; then
            objs+=("$work/control/${f%.c}.o")
        else
            changed+=("$f")
            objs+=("$d/${f%.c}.o")
        fi
    done
    if ! (cd "$d" && printf '%s\n' "${changed[@]}" | xargs -P "$(nproc)" -I{} gcc "${CC_FLAGS[@]}" -c {} &&
        gcc "${objs[@]}" -lyajl -ldl -o oci-systemd-hook) >"$d/build.log" 2>&1; then
        report 0 "$1: builds ($(grep -m1 error "$d/build.log"))"
        return 1
    fi
    echo "# $1: built in $((SECONDS - t)) s (compiled: ${changed[*]})"
}

# mutant NAME PYTHON-PATCH: build NAME when OSH_MUTANTS_ONLY selects it
mutant() { selected "$1" && build "$1" "$2"; }

# replace_mutant NAME FILE OLD NEW [OLD NEW...]: mutant NAME whose patch
# replaces each OLD in FILE by its NEW (python expressions; NEW may use
# `a`, its OLD), asserting first that OLD is there.
replace_mutant() {
    local name=$1 f=$2 py
    shift 2
    py="s = open(\"$f\").read()"
    while (($# >= 2)); do
        py+=$'\na = '"$1"$'\nassert a in s\ns = s.replace(a, '"$2"')'
        shift 2
    done
    mutant "$name" "$py"$'\nopen("'"$f"'", "w").write(s)'
}

# run NAME SCRIPT ONLY WANT EXPECT-FAILING-ERE...: run SCRIPT's cases
# matching ONLY (OSH_HOSTILE_ONLY, OSH_BOUNDARY_ONLY or OSH_RV_ONLY, by
# script) against build NAME; WANT pass|fail; with fail, each ERE must
# match a `not ok` line.
run() {
    local name=$1 script=$2 only=$3 want=$4 rc=0 out re miss='' t=$SECONDS var
    shift 4
    case $script in
    test-boundary.sh) var=OSH_BOUNDARY_ONLY ;;
    test-run-volume.sh) var=OSH_RV_ONLY ;;
    test-interface.sh) var=OSH_IC_CASES ;;
    *) var=OSH_HOSTILE_ONLY ;;
    esac
    out=$(env HOOK="$work/$name/oci-systemd-hook" "$var=$only" OSH_HOSTILE_RACE_STARTS="${RACE:-0}" \
        "$here/$script" 2>&1) || rc=$?
    printf '%s\n' "$out" >"$work/$name.$script.log"
    t=$((SECONDS - t))
    if [[ $want == pass ]]; then
        report $((rc == 0)) "$name: $script /$only/ passes ($(grep -c '^ok' <<<"$out") ok, ${t} s)"
        ((rc == 0)) || grep '^not ok' <<<"$out" | cut -c1-220 | sed 's/^/#   /'
        return 0
    fi
    for re in "$@"; do
        grep -Eq -e "^not ok [0-9]+ - .*$re" <<<"$out" || miss+=" /$re/"
    done
    report $((rc != 0)) "$name: $script /$only/ fails ($(grep -c '^not ok' <<<"$out") not ok, ${t} s)"
    report "$([[ -z $miss ]] && echo 1 || echo 0)" "$name: the expected checks fail${miss:+ (missing:$miss)}"
    grep '^not ok' <<<"$out" | cut -c1-220 | sed 's/^/#   /' || true
}

HOSTILE='^(varlog-abs|varlog-rel|mid-abs|mid-rel|cu-sparse|run-inside)$'
INPUT='^pid-own-shell'
BOUNDARY='^(userns-foothold|etc-volume|host-run-bind|idmap-rootfs|copyup-modes|copyup-userns-secret|wrong-process|device-swap-timed|link-swap-timed|root-dot|unsafe-name|stdin-plain|rootfs-shared-hooktime|crun-cgroup-disabled|hugetlb-toggle-runc)$'
RV='^(run-dir|run-subdir|run-shared)$'

build control 'pass' || { echo "1..$n"; exit 1; }
run control test-hostile.sh "$HOSTILE" pass
run control test-hostile-input.sh "$INPUT" pass
run control test-boundary.sh "$BOUNDARY" pass
run control test-run-volume.sh "$RV" pass
run control test-interface.sh privileged pass

# ---------------------------------------------------------------- hostile

if mutant in-root '
s = open("fsutil.c").read()
old = ".resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |"
assert old in s
s = s.replace(old, ".resolve = RESOLVE_NO_MAGICLINKS |")
# paths stay relative to the rootfs fd, but links in them resolve as on the host
old = "        if (!(flags & FS_WALK_ONLY) && !fs_force_walk) {\n"
assert old in s
s = s.replace(old, old + "                while (*path == \x27/\x27) path++;\n", 1)
open("fsutil.c", "w").write(s)'; then
    # the link's target on the host is on another mount than the rootfs's:
    # FS_OWN_MOUNT skips the journal, which is then missing where it belongs
    run in-root test-hostile.sh '^(varlog-abs|varlog-rel)$' fail \
        'varlog-abs: tmpfs on .* inside the rootfs' 'varlog-abs: .*journal created inside the rootfs only' \
        'varlog-rel: tmpfs on .* inside the rootfs'
fi

if mutant write-through '
s = open("mounts.c").read()
old = "r = fs_stage_file_at(etc, \"machine-id\", want, 0444, owner_uid(p), owner_gid(p), m->tmp, err);"
assert old in s
new = """{ int fd = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
          if (fd < 0) return hook_error_set(err, errno, "mutant: %s", strerror(errno));
          (void)!write(fd, want, strlen(want)); (void)close(fd); return 0; }"""
open("mounts.c", "w").write(s.replace(old, new))'; then
    # ONLY the two cases whose link points at the canary's machine-id
    run write-through test-hostile.sh '^(mid-abs|mid-rel)$' fail 'mid-abs: host unchanged' 'mid-rel: host unchanged'
fi

if replace_mutant fill-inode mounts.c \
    '"if (fstat(target, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino ||"' '"if (fstat(target, &st) < 0 ||"'; then
    # the worker's copy of /run (from the host's view) taken for whatever
    # the namespace's /run is: a host directory bound there is copied in
    run fill-inode test-boundary.sh '^host-run-bind$' fail 'host-run-bind: the container.s /run is a copy of the image.s'
fi

if replace_mutant fill-idmap mounts.c \
    '"            mountlist_attr(target, &attr) < 0 || (attr & MOUNT_ATTR_IDMAP)) {"' '"            0) {"'; then
    # an idmapped rootfs: the copy made from the host's view (disk owners)
    # taken for the container, which sees other owners
    run fill-idmap test-boundary.sh '^idmap-rootfs$' fail 'idmap-rootfs: /run.s copy has the owners'
fi

if replace_mutant stage-boundary mounts.c \
    '"open_dir_within(ctx->rootfd, \"/etc\", FS_OWN_MOUNT, &m->boundary, err)"' '"open_dir_within(ctx->rootfd, \"/etc\", 0, &m->boundary, err)"'; then
    run stage-boundary test-boundary.sh '^etc-volume$' fail 'etc-volume: right after the hook: nothing created'
fi

if mutant same-mntns '
import re
s = open("nsenter.c").read()
new, k = re.subn(r"if \(self\.st_ino == target\.st_ino && self\.st_dev == target\.st_dev\)\n\s*return hook_error_set\(err, EPERM,[^;]*;", "", s)
assert k == 1
open("nsenter.c", "w").write(new)'; then
    # the init proof refuses it next (the host's namespace has no mount
    # at the rootfs path): only the line differs
    run same-mntns test-hostile-input.sh "$INPUT" fail 'pid-own-shell: exit' 'pid-own-shell-nocgroup: exit'
fi

# ---------------------------------------------------------------- boundary

if replace_mutant own-mount fsutil.c \
    '"if ((flags & FS_OWN_MOUNT) && !fs_on_boundary(boundary, dirfd))"' '"if (0)"' \
    '"if (fd >= 0 && (flags & FS_OWN_MOUNT) && !fs_on_boundary(boundary, fd)) {"' '"if (0) {"'; then
    run own-mount test-boundary.sh '^userns-foothold$' fail \
        'userns-foothold: the hook warns' 'userns-foothold: while it runs: nothing created, changed or chowned'
fi

if replace_mutant init-proof nsenter.c \
    '"if (!s.root_mount || (want_proc && !s.proc_mount))"' '"if (0)"'; then
    run init-proof test-boundary.sh '^wrong-process$' fail \
        'wrong-process: .*: refused with one line' 'wrong-process: .*: its mount table is unchanged' \
        'wrong-process: .*: nothing written into the bundle.s rootfs'
fi

if replace_mutant cgroup-alone cgroup.c \
    '"if (other != (long)pid)"' '"if (0)"'; then
    run cgroup-alone test-boundary.sh '^crun-cgroup-disabled$' fail 'crun-cgroup-disabled: refused with one line'
fi

if replace_mutant payload-ro mounts.c \
    '"ctx->cg_clone = clone_tree(ctx->cg_dirfd, \"\", payload, err);"' 'a.replace("payload, err", "false, err")'; then
    run payload-ro test-boundary.sh '^hugetlb-toggle-runc$' fail 'hugetlb-toggle-runc: .*the limit .*stays'
fi

if replace_mutant copyup-reopen copyup.c \
    '"openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)"' '"openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)"' \
    '"fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);"' '"fd = fcntl(path, F_DUPFD_CLOEXEC, 3);"'; then
    run copyup-reopen test-boundary.sh '^device-swap-timed$' fail 'device-swap-timed: the hook did not open'
fi

if replace_mutant copyup-follow copyup.c \
    '"openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)"' '"openat(sdir, name, O_PATH | O_CLOEXEC)"' \
    '"|| !S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)"' '"|| 0)"'; then
    run copyup-follow test-boundary.sh '^link-swap-timed$' fail \
        'link-swap-timed: the hook did not open' 'link-swap-timed: nothing of the canary copied' \
        'link-swap-timed: refused with one line'
fi

if replace_mutant copyup-sparse copyup.c \
    '"off_t data = lseek(from, pos, SEEK_DATA), hole;"' '"off_t data = pos, hole;"' \
    '"hole = lseek(from, data, SEEK_HOLE);"' '"hole = size;"'; then
    run copyup-sparse test-hostile.sh '^cu-sparse$' fail 'cu-sparse: '
fi

if replace_mutant copyup-root-attrs copyup.c \
    '"if (fchown(d, st.st_uid, st.st_gid) < 0 || (keep_root && fchmod(d, st.st_mode & 07777) < 0))"' '"if (0)"'; then
    run copyup-root-attrs test-boundary.sh '^copyup-modes$' fail 'copyup-modes: the new tmpfs roots keep'
fi

if replace_mutant copyup-reader copyup.c \
    '"if (!r || !r->userns)\n                return true;"' '"return true;"'; then
    run copyup-reader test-boundary.sh '^copyup-userns-secret$' fail 'copyup-userns-secret: the new tmpfs holds no copy'
fi

if mutant log-escape '
import re
s = open("log.c").read()
a = "el = (size_t)snprintf(esc, sizeof(esc), \"\\\\x%02x\", *s), n = 1;"
assert a in s, a
s = s.replace(a, "esc[0] = (char)*s, el = 1, n = 1;")
# what the hook before the fix did: C0 and DEL only
s, k = re.subn(r"(static bool unsafe_cp\(uint32_t c\)\n\{\n\s*return )[^;]*;", r"\1c < 0x20 || c == 0x7f;", s)
assert k == 1
open("log.c", "w").write(s)'; then
    run log-escape test-boundary.sh '^unsafe-name$' fail 'unsafe-name: the hook.s stderr has no control or bidi'
fi

if replace_mutant state-settle json.c \
    '"if (settle_ms >= 0 && scan.complete) {"' '"if (0) {"'; then
    run state-settle test-boundary.sh '^stdin-plain$' fail 'stdin-plain: exits within 5 s'
fi

# (path_clean alone is masked by the realpath() after it, which cleans too)
if replace_mutant rootfs-clean spec.c \
    '"                return path_clean(c->root_path);"' '"                return xstrdup(c->root_path);"' \
    '"        return path_clean(p);\n}"' '"        return TAKE_PTR(p);\n}"' \
    '"        char *real = realpath(p, NULL);"' '"        char *real = NULL;"'; then
    run rootfs-clean test-boundary.sh '^root-dot$' fail 'root-dot: .*visible right after the hook'
fi

if mutant shared-refusal '
import re
s = open("mounts.c").read()
s, k = re.subn(r"if \(is_shared\(ctx, id\)\)\n\s*return hook_error_set\(err, EPERM,\n\s*\"the rootfs mount has shared.*?\"\);", "", s, flags=re.S)
assert k == 1
open("mounts.c", "w").write(s)'; then
    run shared-refusal test-boundary.sh '^rootfs-shared-hooktime$' fail 'rootfs-shared-hooktime: refused with one line'
fi

if replace_mutant shared-attach mounts.c \
    '"static bool is_shared(const struct apply_ctx *ctx, uint64_t id)\n{\n"' 'a + "        if (ctx) return false;\n"'; then
    run shared-attach test-boundary.sh '^rootfs-shared-hooktime$' fail \
        'rootfs-shared-hooktime: the host.s mount table below the test.s directory is unchanged'
    run shared-attach test-run-volume.sh '^run-shared$' fail 'run-shared: refused'
fi

# ---------------------------------------------------------------- /run volumes

if replace_mutant run-tmpfs-whole mounts.c \
    '"(volume && (id != ctx->run_mnt_id || !ctx->run_whole_rw))"' '"0"'; then
    run run-tmpfs-whole test-run-volume.sh '^run-subdir$' fail 'run-subdir: refused'
fi

if replace_mutant run-volume-refuse plan.c \
    '"if (p->run == RUN_VOLUME)\n                (void)snprintf(p->refuse,"' '"if (0)\n                (void)snprintf(p->refuse,"'; then
    run run-volume-refuse test-run-volume.sh '^run-dir$' fail 'run-dir: explain shows' 'run-dir: refused'
fi

# ---------------------------------------------------------------- privileged

if replace_mutant vt-own-dev mounts.c \
    '"if (dev < 0 || !ctx->plan->spec_dev_tmpfs || !fs_is_mount_root(dev, \"\") || fstatfs(dev, &sfs) < 0 ||\n            sfs.f_type != TMPFS_MAGIC || fs_mount_id(dev, \"\", &id) < 0 || is_shared(ctx, id)) {"' \
    '"if (dev < 0 || fs_mount_id(dev, \"\", &id) < 0 || fstatfs(dev, &sfs) < -1) {"'; then
    run vt-own-dev test-interface.sh privileged fail \
        'privileged: /dev a bind of the host.s: the host.s tty0 and vcs are still there'
fi

echo "1..$n"
echo "# $((SECONDS - t0)) s"
((failed == 0)) || { echo "# FAILED $failed of $n"; exit 1; }
echo "# all $n checks passed"
