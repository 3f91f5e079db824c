/* SPDX-License-Identifier: GPL-2.0-or-later */
/* path_clean, cgroup parsers, safe file access in a hostile rootfs,
 * inject_into_tree and json_serialise. */
#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fsutil.h"
#include "inject.h"
#include "job.h"
#include "log.h"
#include "machineid.h"
#include "testutil.h"

/* ---- path_clean --------------------------------------------------------- */
static const struct {
        const char *in, *out;
} clean[] = {
        { "/", "/" },
        { "", "/" },
        { "//", "/" },
        { "/run", "/run" },
        { "/run/", "/run" },
        { "//run/./lock/", "/run/lock" },
        { "//tmp/", "/tmp" },
        { "/var/log/journal/.", "/var/log/journal" },
        { "/a//b///c", "/a/b/c" },
        { "/a/../b", "/b" },
        { "/a/b/../../..", "/" },
        { "/../../etc", "/etc" },
        { "/./.", "/" },
        { "/...", "/..." },
        { "/.hidden/x", "/.hidden/x" },
        { "/a/..b/c", "/a/..b/c" },
        { "run/lock", "/run/lock" },
        { "/etc/machine-id/", "/etc/machine-id" },
};

START_TEST(test_path_clean)
{
        _cleanup_free_ char *p = path_clean(clean[_i].in);
        ck_assert_str_eq(p, clean[_i].out);
}
END_TEST

/* ---- cgroup membership (/proc/PID/cgroup) -------------------------------- */
static const struct {
        const char *text, *file;   /* text, or a tests/data file */
        const char *unified, *named;
        bool ok;
} memberships[] = {
        { NULL, "cgroup-hybrid.txt", "/osh/abc", "/osh/abc", true },
        { NULL, "cgroup-v2.txt", "/system.slice/libpod-0123456789abcdef.scope/container", NULL, true },
        { "12:pids:/x\n11:memory:/x\n1:name=systemd:/osh/abc\n0::/osh/abc\n", NULL, "/osh/abc", "/osh/abc", true },
        { "0::/a/b", NULL, "/a/b", NULL, true },
        { "0::/\n", NULL, "/", NULL, true },
        { "1:name=systemd:/n\n", NULL, NULL, "/n", true },
        { "1:name=systemd,cpu:/n\n", NULL, NULL, "/n", true },
        { "1:cpu,name=systemd:/n\n", NULL, NULL, "/n", true },
        { "1:name=systemdx:/n\n2:xname=systemd:/m\n", NULL, NULL, NULL, true },
        { "0::/a:b\n1:name=systemd:/c:d\n", NULL, "/a:b", "/c:d", true },
        { "0::/a\n0::/b\n", NULL, "/b", NULL, true },
        { "10::/not-unified\n", NULL, NULL, NULL, true },
        { "", NULL, NULL, NULL, true },
        { "garbage\n", NULL, NULL, NULL, false },
        { "0::/a\n0:/b\n", NULL, NULL, NULL, false },
        { "1:name=systemd\n", NULL, NULL, NULL, false },
};

START_TEST(test_membership)
{
        _cleanup_free_ char *data = memberships[_i].file ? tu_data(memberships[_i].file, NULL) : NULL;
        const char *text = data ? data : memberships[_i].text;
        struct cg_membership m;
        hook_error_t err = {};
        int r = cg_parse_membership(text, &m, &err);

        if (!memberships[_i].ok) {
                ck_assert_err(r, &err, "malformed line in /proc/PID/cgroup");
                ck_assert_ptr_null(m.unified);
                ck_assert_ptr_null(m.named);
                return;
        }
        ck_assert_ok(r, &err);
        ck_assert_pstr_eq(m.unified, memberships[_i].unified);
        ck_assert_pstr_eq(m.named, memberships[_i].named);
        cg_membership_done(&m);
        ck_assert_ptr_null(m.unified);
}
END_TEST

/* ---- cgroup mounts (/proc/self/mountinfo) -------------------------------- */
#define MI_NAMED(root, target, opts) "100 99 0:37 " root " " target " rw,nosuid - cgroup cgroup " opts "\n"
#define MI_UNIFIED(root, target) "101 99 0:38 " root " " target " rw,nosuid - cgroup2 cgroup2 rw\n"

static const struct {
        const char *text, *file;
        const char *unified_target, *unified_root, *named_target, *named_root;
        enum cg_host_mode mode, mode_v2;   /* unified_at_sys_fs_cgroup false / true */
} mounts[] = {
        { NULL, "mountinfo-hybrid.txt", "/sys/fs/cgroup/unified", "/", "/sys/fs/cgroup/systemd", "/",
          CG_HOST_HYBRID, CG_HOST_V2 },
        { NULL, "mountinfo-v2.txt", "/sys/fs/cgroup", "/", NULL, NULL, CG_HOST_V2, CG_HOST_V2 },
        { NULL, "mountinfo-v1.txt", NULL, NULL, "/sys/fs/cgroup/systemd", "/", CG_HOST_V1, CG_HOST_V2 },
        /* a container's view: its own subtree bound in */
        { MI_NAMED("/osh/abc", "/sys/fs/cgroup/systemd", "rw,xattr,name=systemd"), NULL, NULL, NULL,
          "/sys/fs/cgroup/systemd", "/osh/abc", CG_HOST_V1, CG_HOST_V2 },
        /* the last mount on a target is the one on top */
        { MI_UNIFIED("/", "/sys/fs/cgroup") MI_UNIFIED("/a/b", "/sys/fs/cgroup"), NULL, "/sys/fs/cgroup", "/a/b",
          NULL, NULL, CG_HOST_V2, CG_HOST_V2 },
        /* an escaped space in the target */
        { MI_UNIFIED("/", "/mnt/my\\040cgroup"), NULL, "/mnt/my cgroup", "/", NULL, NULL, CG_HOST_V2, CG_HOST_V2 },
        /* not name=systemd */
        { MI_NAMED("/", "/sys/fs/cgroup/x", "rw,name=systemdx") MI_NAMED("/", "/sys/fs/cgroup/cpu", "rw,cpu"), NULL,
          NULL, NULL, NULL, NULL, CG_HOST_UNKNOWN, CG_HOST_V2 },
        { "", NULL, NULL, NULL, NULL, NULL, CG_HOST_UNKNOWN, CG_HOST_V2 },
};

START_TEST(test_mounts)
{
        _cleanup_free_ char *data = mounts[_i].file ? tu_data(mounts[_i].file, NULL) : NULL;
        struct cg_mounts m;
        hook_error_t err = {};

        ck_assert_ok(cg_parse_mounts(data ? data : mounts[_i].text, &m, &err), &err);
        ck_assert_pstr_eq(m.unified_target, mounts[_i].unified_target);
        ck_assert_pstr_eq(m.unified_root, mounts[_i].unified_root);
        ck_assert_pstr_eq(m.named_target, mounts[_i].named_target);
        ck_assert_pstr_eq(m.named_root, mounts[_i].named_root);
        ck_assert_int_eq(cg_mode_from_mounts(&m, false), mounts[_i].mode);
        ck_assert_int_eq(cg_mode_from_mounts(&m, true), mounts[_i].mode_v2);
        cg_mounts_done(&m);
}
END_TEST

static const struct {
        const char *cgpath, *root, *rel;   /* rel NULL: refused */
        int code;
        const char *msg;
} relpaths[] = {
        { "/osh/abc", "/", "osh/abc", 0, NULL },
        { "/docker/abc", "/docker", "abc", 0, NULL },
        { "/docker/abc/init.scope", "/docker", "abc/init.scope", 0, NULL },
        { "/a/..b", "/", "a/..b", 0, NULL },
        { "/", "/", NULL, -EPERM, "the container's cgroup is the hierarchy root" },
        { "//", "/", NULL, -EPERM, "hierarchy root" },
        { "/docker", "/docker", NULL, -EPERM, "hierarchy root" },
        { "/docker/", "/docker", NULL, -EPERM, "hierarchy root" },
        { "/dockerx/abc", "/docker", NULL, -EXDEV, "cgroup `/dockerx/abc` is outside the mounted hierarchy `/docker`" },
        { "/other/abc", "/docker", NULL, -EXDEV, "outside the mounted hierarchy" },
        { "/a/../b", "/", NULL, -EINVAL, "cgroup path `/a/../b` is not a clean absolute path" },
        { "/a/..", "/", NULL, -EINVAL, "not a clean absolute path" },
        { "/..", "/", NULL, -EINVAL, "not a clean absolute path" },
        { "/docker/../etc", "/docker", NULL, -EINVAL, "not a clean absolute path" },
        { "a/b", "/", NULL, -EINVAL, "not a clean absolute path" },
        { "", "/", NULL, -EINVAL, "not a clean absolute path" },
};

START_TEST(test_relative_path)
{
        _cleanup_free_ char *rel = NULL;
        hook_error_t err = {};
        int r = cg_relative_path(relpaths[_i].cgpath, relpaths[_i].root, &rel, &err);

        if (relpaths[_i].rel) {
                ck_assert_ok(r, &err);
                ck_assert_str_eq(rel, relpaths[_i].rel);
        } else {
                ck_assert_int_eq(r, relpaths[_i].code);
                ck_assert_err(r, &err, relpaths[_i].msg);
                ck_assert_ptr_null(rel);
        }
}
END_TEST

static const struct {
        const char *name;
        bool delegated;
} delegated[] = {
        { "cgroup.procs", true }, { "cgroup.threads", true }, { "cgroup.subtree_control", true }, { "tasks", true },
        { "memory.max", false }, { "pids.max", false }, { "cgroup.max.depth", false }, { "release_agent", false },
        { "notify_on_release", false }, { "cgroup.procs2", false }, { "cgroup.type", false }, { "", false },
};

START_TEST(test_delegated)
{
        ck_assert_int_eq(cg_delegated_file(delegated[_i].name), delegated[_i].delegated);
}
END_TEST

START_TEST(test_cg_names)
{
        ck_assert_str_eq(cg_host_mode_name(CG_HOST_UNKNOWN), "unknown");
        ck_assert_str_eq(cg_host_mode_name(CG_HOST_V1), "v1");
        ck_assert_str_eq(cg_host_mode_name(CG_HOST_HYBRID), "hybrid");
        ck_assert_str_eq(cg_host_mode_name(CG_HOST_V2), "v2");
        ck_assert_str_eq(cg_host_mode_name((enum cg_host_mode)42), "unknown");
        ck_assert_str_eq(cg_action_name(CG_ACT_NONE), "none");
        ck_assert_ptr_nonnull(strstr(cg_action_name(CG_ACT_V1_NAMED), "name=systemd"));
        ck_assert_str_eq(cg_action_name((enum cg_action)42), "unknown");
}
END_TEST

/* ---- fs_open_in_root / fs_walk_in_root in a hostile rootfs ------------------ */
static const struct tu_node hostile[] = {
        { TU_FILE, "etc/passwd", "root:x:0:0::/root:/bin/sh\n" },
        { TU_FILE, "file", "x" },
        { TU_LINK, "abs_etc", "/etc" },
        { TU_LINK, "rel_up", "../../../../../../../../../etc" },
        { TU_LINK, "to_root", "/" },
        { TU_LINK, "a", "/" },
        { TU_LINK, "final", "etc/passwd" },
        { TU_LINK, "loop", "loop" },
        { TU_LINK, "loop1", "loop2/x" },
        { TU_LINK, "loop2", "/loop1" },
        { TU_LINK, "dangling", "/nonexistent" },
        { TU_LINK, "proc", "/proc" },
        { TU_LINK, "etc/mtab", "../proc/self/mounts" },
};

static const struct {
        const char *path;
        unsigned flags;
        int code;                 /* 0: success */
        const char *target;       /* what it opens, relative to the root */
        const char *walked;       /* fs_walk_in_root's path, NULL: not checked */
} opens[] = {
        { "etc/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "/etc/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "abs_etc/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "rel_up/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "../../../../etc/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "to_root/a/to_root/etc/../etc/passwd", 0, 0, "etc/passwd", "/etc/passwd" },
        { "final", 0, 0, "etc/passwd", "/etc/passwd" },
        { "abs_etc/passwd", FS_NOFOLLOW, 0, "etc/passwd", "/etc/passwd" },
        { "/", 0, 0, ".", "/" },
        { "etc/.", 0, 0, "etc", "/etc" },
        { "/etc/..", 0, 0, ".", "/" },
        { "final", FS_NOFOLLOW, -ELOOP, NULL, NULL },
        { "abs_etc", FS_NOFOLLOW, -ELOOP, NULL, NULL },
        { "loop", 0, -ELOOP, NULL, NULL },
        { "loop1", 0, -ELOOP, NULL, NULL },
        { "loop/x", FS_MKDIR, -ELOOP, NULL, NULL },
        { "file/x", 0, -ENOTDIR, NULL, NULL },
        { "etc/passwd/x", 0, -ENOTDIR, NULL, NULL },
        { "file/x", FS_MKDIR, -ENOTDIR, NULL, NULL },
        { "missing/x", 0, -ENOENT, NULL, NULL },
        { "dangling", 0, -ENOENT, NULL, NULL },
        { "etc/mtab", 0, -ELOOP, NULL, NULL },         /* its /proc is a loop: never the host's */
        /* created inside, even through links to "/" */
        { "a/a/a/newdir/sub", FS_MKDIR, 0, "newdir/sub", "/newdir/sub" },
        { "dangling/sub", FS_MKDIR, 0, "nonexistent/sub", "/nonexistent/sub" },
        { "rel_up/new", FS_MKDIR, 0, "etc/new", "/etc/new" },
        { "etc/passwd", FS_MKDIR, 0, "etc/passwd", "/etc/passwd" },
};

/* Same inode as ROOT/REL (not following a final link). */
static void assert_same_file(int fd, const char *root, const char *rel)
{
        _cleanup_free_ char *p = tu_join(root, rel);
        struct stat a, b;

        ck_assert_int_eq(fstat(fd, &a), 0);
        ck_assert_msg(lstat(p, &b) == 0, "%s was not created: %m", p);
        ck_assert_msg(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "opened something else than %s", p);
}

static void check_open(size_t i, bool walk_only, bool force_walk)
{
        _cleanup_free_ char *root = tu_tree(hostile, ELEMENTSOF(hostile)), *walked = NULL;
        _cleanup_close_ int rootfd = tu_open_dir(root), fd = -EBADF;
        hook_error_t err = {};
        int r;

        fs_force_walk = force_walk;
        if (walk_only)
                r = fs_walk_in_root(rootfd, opens[i].path, opens[i].flags, &fd, &walked, &err);
        else
                r = fd = fs_open_in_root(rootfd, opens[i].path, opens[i].flags, &err);
        fs_force_walk = false;
        if (opens[i].code) {
                ck_assert_msg(r == opens[i].code, "%s (walk %d/%d): %d %s", opens[i].path, walk_only, force_walk, r,
                              err.msg);
                ck_assert_err(r, &err, "");
                ck_assert_ptr_null(walked);
                return;
        }
        ck_assert_msg(r >= 0, "%s (walk %d/%d): %s", opens[i].path, walk_only, force_walk, err.msg);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_same_file(fd, root, opens[i].target);
        if (walk_only && opens[i].walked)
                ck_assert_str_eq(walked, opens[i].walked);
}

/* Every case three ways: openat2, forced walk, and the walk alone. */
START_TEST(test_open_in_root)
{
        check_open((size_t)_i / 3, _i % 3 == 2, _i % 3 == 1);
}
END_TEST

/* A created directory and file land inside the root, never at the host
 * path a link names (absolute, or relative with enough ../). */
START_TEST(test_mkdir_stays_inside)
{
        _cleanup_free_ char *root = tu_mkdtemp(), *outside = tu_mkdtemp();
        _cleanup_free_ char *abs = tu_join(root, "hostdir"), *rel = tu_join(root, "hostrel");
        _cleanup_free_ char *reltarget = tu_printf("../../../../../../../../../../..%s", outside);
        _cleanup_free_ char *req = tu_printf(_i % 2 ? "hostrel/canary%d/x" : "hostdir/canary%d/x", _i);
        _cleanup_free_ char *inside = tu_printf("%s%s/canary%d/x/pwned", root, outside, _i);
        _cleanup_free_ char *escaped = tu_printf("%s/canary%d", outside, _i);
        _cleanup_close_ int rootfd = tu_open_dir(root), fd = -EBADF;
        _cleanup_free_ char *got = NULL;
        hook_error_t err = {};

        ck_assert_int_eq(symlink(outside, abs), 0);
        ck_assert_int_eq(symlink(reltarget, rel), 0);
        fs_force_walk = _i >= 2;
        fd = fs_open_in_root(rootfd, req, FS_MKDIR, &err);
        fs_force_walk = false;
        ck_assert_msg(fd >= 0, "%s: %s", req, err.msg);
        ck_assert_ok(fs_write_file_at(fd, "pwned", "x\n", 0644, (uid_t)-1, (gid_t)-1, &err), &err);
        ck_assert_msg(!tu_exists(escaped), "%s was created on the host", escaped);
        got = tu_read(inside, NULL);
        ck_assert_msg(got != NULL, "%s is missing", inside);
        ck_assert_str_eq(got, "x\n");
}
END_TEST

/* fs_set_mkdir_owner: what FS_MKDIR creates belongs to the mapped root;
 * what was there keeps its owner.  Root can show a foreign owner. */
START_TEST(test_mkdir_owner)
{
        bool root_user = geteuid() == 0;
        uid_t uid = root_user ? 4242 : geteuid();
        gid_t gid = root_user ? 4343 : getegid();
        _cleanup_free_ char *root = tu_mkdtemp(), *exists = tu_join(root, "exists");
        _cleanup_close_ int rootfd = -EBADF, fd = -EBADF;
        static const char *const created[] = { "exists/new", "exists/new/sub" };
        hook_error_t err = {};
        struct stat before, after;
        size_t i;

        tu_mkdir_p(root, "exists");
        ck_assert_int_eq(stat(exists, &before), 0);
        rootfd = tu_open_dir(root);
        fs_set_mkdir_owner(uid, gid);
        fs_force_walk = _i;
        fd = fs_open_in_root(rootfd, "exists/new/sub", FS_MKDIR, &err);
        fs_set_mkdir_owner((uid_t)-1, (gid_t)-1);
        fs_force_walk = false;
        ck_assert_msg(fd >= 0, "%s", err.msg);
        for (i = 0; i < ELEMENTSOF(created); i++) {
                struct stat st = {};
                _cleanup_free_ char *p = tu_join(root, created[i]);

                ck_assert_int_eq(lstat(p, &st), 0);
                ck_assert_msg(st.st_uid == uid && st.st_gid == gid, "%s is owned by %u:%u", created[i],
                              (unsigned)st.st_uid, (unsigned)st.st_gid);
        }
        ck_assert_int_eq(stat(exists, &after), 0);
        ck_assert_int_eq(after.st_uid, before.st_uid);
        ck_assert_int_eq(after.st_gid, before.st_gid);
}
END_TEST

/* /proc/self/root is a magic link to the host's /: refused both ways. */
static const char *const magic[] = { "self/root/etc", "self/root", "thread-self/root/etc", "self/cwd/x" };

START_TEST(test_magic_links)
{
        _cleanup_close_ int procfd = tu_open_dir("/proc"), fd = -EBADF;
        hook_error_t err = {};

        fs_force_walk = _i % 2;
        fd = fs_open_in_root(procfd, magic[_i / 2], 0, &err);
        fs_force_walk = false;
        ck_assert_msg(fd == -ELOOP, "%s (walk %d): %d %s", magic[_i / 2], (int)(_i % 2), fd, err.msg);
}
END_TEST

/* ---- fs_write_file_at ------------------------------------------------------ */
#define ID_LINE "0123456789abcdef0123456789abcdef\n"

/* EX_TMP_LINK: a file there and a symlink where the temp file goes;
 * EX_TMP_LINK_ONLY: only that symlink (no machine-id: created directly,
 * the symlink neither followed nor touched). */
enum existing { EX_NONE, EX_FILE, EX_LINK_ABS, EX_LINK_REL, EX_FIFO, EX_HARDLINK, EX_DIR, EX_TMP_LINK, EX_TMP_LINK_ONLY };

static const struct {
        enum existing ex;
        int code;
        int entries;    /* in /etc after */
} writes[] = {
        { EX_NONE, 0, 1 }, { EX_FILE, 0, 1 }, { EX_LINK_ABS, 0, 1 }, { EX_LINK_REL, 0, 1 }, { EX_FIFO, 0, 1 },
        { EX_HARDLINK, 0, 1 }, { EX_TMP_LINK, 0, 1 }, { EX_TMP_LINK_ONLY, 0, 2 }, { EX_DIR, -EISDIR, 1 },
};

static void plant(enum existing ex, const char *etc, const char *target)
{
        _cleanup_free_ char *mid = tu_join(etc, "machine-id");
        _cleanup_free_ char *rel = tu_printf("../../../../../../../../..%s", target);
        _cleanup_free_ char *tmp = tu_printf("%s/.#machine-id.osh%ld", etc, (long)getpid());

        switch (ex) {
        case EX_NONE: break;
        case EX_FILE: tu_write(mid, "old\n"); break;
        case EX_LINK_ABS: ck_assert_int_eq(symlink(target, mid), 0); break;
        case EX_LINK_REL: ck_assert_int_eq(symlink(rel, mid), 0); break;
        case EX_FIFO: ck_assert_int_eq(mkfifo(mid, 0644), 0); break;
        case EX_HARDLINK: ck_assert_int_eq(link(target, mid), 0); break;
        case EX_DIR: ck_assert_int_eq(mkdir(mid, 0755), 0); break;
        case EX_TMP_LINK:
                tu_write(mid, "old\n");
                ck_assert_int_eq(symlink(target, tmp), 0);
                break;
        case EX_TMP_LINK_ONLY: ck_assert_int_eq(symlink(target, tmp), 0); break;
        }
}

START_TEST(test_write_file)
{
        _cleanup_free_ char *root = tu_mkdtemp(), *outside_dir = tu_mkdtemp();
        _cleanup_free_ char *target = tu_join(outside_dir, "shadow"), *etc = tu_join(root, "etc");
        _cleanup_free_ char *mid = tu_join(etc, "machine-id"), *got = NULL, *host = NULL;
        _cleanup_close_ int etcfd = -EBADF;
        hook_error_t err = {};
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r, entries = 0;

        tu_mkdir_p(root, "etc");
        tu_write(target, "host secret\n");
        plant(writes[_i].ex, etc, target);
        etcfd = tu_open_dir(etc);
        r = fs_write_file_at(etcfd, "machine-id", ID_LINE, 0444, (uid_t)-1, (gid_t)-1, &err);
        host = tu_read(target, NULL);
        ck_assert_str_eq(host, "host secret\n");
        if (writes[_i].code) {
                ck_assert_int_eq(r, writes[_i].code);
                ck_assert_err(r, &err, "replace `machine-id`");
        } else {
                ck_assert_ok(r, &err);
                ck_assert_int_eq(lstat(mid, &st), 0);
                ck_assert(S_ISREG(st.st_mode));
                ck_assert_int_eq(st.st_mode & 07777, 0444);
                ck_assert_int_eq(st.st_nlink, 1);
                got = tu_read(mid, NULL);
                ck_assert_str_eq(got, ID_LINE);
        }
        /* No temp file left behind (a planted one in its place is gone
         * too, when the temp file was needed). */
        d = opendir(etc);
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        entries++;
        (void)closedir(d);
        ck_assert_int_eq(entries, writes[_i].entries);
}
END_TEST

static void assert_same_tree(yajl_val a, yajl_val b)
{
        size_t i;

        ck_assert_int_eq(a->type, b->type);
        switch (a->type) {
        case yajl_t_string:
                ck_assert_str_eq(a->u.string, b->u.string);
                break;
        case yajl_t_number:
                ck_assert_str_eq(a->u.number.r, b->u.number.r);
                break;
        case yajl_t_object:
                ck_assert_uint_eq(a->u.object.len, b->u.object.len);
                for (i = 0; i < a->u.object.len; i++) {
                        ck_assert_str_eq(a->u.object.keys[i], b->u.object.keys[i]);
                        assert_same_tree(a->u.object.values[i], b->u.object.values[i]);
                }
                break;
        case yajl_t_array:
                ck_assert_uint_eq(a->u.array.len, b->u.array.len);
                for (i = 0; i < a->u.array.len; i++)
                        assert_same_tree(a->u.array.values[i], b->u.array.values[i]);
                break;
        default:
                break;
        }
}

/* ---- inject_into_tree --------------------------------------------------------- */
#define HOOK "/usr/libexec/oci/hooks.d/oci-systemd-hook"

static yajl_val parse(const char *doc)
{
        yajl_val v = NULL;
        hook_error_t err = {};

        ck_assert_ok(json_parse(doc, strlen(doc), &v, &err), &err);
        return v;
}

static yajl_val hooks_of(yajl_val tree, const char *stage)
{
        return json_obj_get(json_obj_get(tree, "hooks"), stage);
}

static const struct {
        const char *doc, *stage;
        size_t at;              /* index of our entry in hooks.STAGE */
} injects[] = {
        { "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/sbin/init\"]}}", "createRuntime", 0 },
        { "{\"hooks\":{}}", "prestart", 0 },
        { "{\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/other\",\"args\":[\"other\"]}],"
          "\"poststop\":[{\"path\":\"/x\"}]}}", "prestart", 1 },
        /* entries without a usable path are kept and skipped */
        { "{\"hooks\":{\"createRuntime\":[\"junk\",{\"path\":5},{}]}}", "createRuntime", 3 },
};

START_TEST(test_inject)
{
        _cleanup_json_ yajl_val tree = parse(injects[_i].doc), orig = parse(injects[_i].doc);
        hook_error_t err = {};
        yajl_val list, entry, args, ohooks;
        size_t i, j;

        ck_assert_int_eq(inject_into_tree(tree, injects[_i].stage, HOOK, &err), 1);
        ck_assert_int_eq(inject_into_tree(tree, injects[_i].stage, HOOK, &err), 0);     /* idempotent */
        list = hooks_of(tree, injects[_i].stage);
        ck_assert_uint_eq(list->u.array.len, injects[_i].at + 1);
        entry = list->u.array.values[injects[_i].at];
        ck_assert_str_eq(json_obj_get(entry, "path")->u.string, HOOK);
        args = json_obj_get(entry, "args");
        ck_assert_uint_eq(args->u.array.len, 2);
        ck_assert_str_eq(args->u.array.values[0]->u.string, "oci-systemd-hook");
        ck_assert_str_eq(args->u.array.values[1]->u.string, injects[_i].stage);
        /* Everything else is as it was, in its order. */
        for (i = 0; i < orig->u.object.len; i++) {
                ck_assert_str_eq(tree->u.object.keys[i], orig->u.object.keys[i]);
                if (strcmp(orig->u.object.keys[i], "hooks") != 0)
                        assert_same_tree(tree->u.object.values[i], orig->u.object.values[i]);
        }
        ohooks = json_obj_get(orig, "hooks");
        for (i = 0; ohooks && i < ohooks->u.object.len; i++) {
                yajl_val o = ohooks->u.object.values[i], t = hooks_of(tree, ohooks->u.object.keys[i]);

                for (j = 0; j < o->u.array.len; j++)
                        assert_same_tree(t->u.array.values[j], o->u.array.values[j]);
        }
}
END_TEST

/* Another hook at the same path already counts, whatever its args. */
START_TEST(test_inject_same_path)
{
        _cleanup_json_ yajl_val tree = parse("{\"hooks\":{\"prestart\":[{\"path\":\"" HOOK "\"}]}}");
        hook_error_t err = {};

        ck_assert_int_eq(inject_into_tree(tree, "prestart", HOOK, &err), 0);
        ck_assert_uint_eq(hooks_of(tree, "prestart")->u.array.len, 1);
        ck_assert_int_eq(inject_into_tree(tree, "prestart", "/other/oci-systemd-hook", &err), 1);
}
END_TEST

static const struct {
        const char *doc, *msg;
} bad_injects[] = {
        { "[]", "not a JSON object" },
        { "\"x\"", "not a JSON object" },
        { "{\"hooks\":[]}", "`hooks` has an unexpected type" },
        { "{\"hooks\":\"x\"}", "`hooks` has an unexpected type" },
        { "{\"hooks\":{\"prestart\":{}}}", "`prestart` has an unexpected type" },
        { "{\"hooks\":{\"prestart\":null}}", "`prestart` has an unexpected type" },
};

START_TEST(test_inject_bad)
{
        _cleanup_json_ yajl_val tree = parse(bad_injects[_i].doc);
        _cleanup_free_ char *before = NULL, *after = NULL;
        hook_error_t err = {};
        size_t len;

        ck_assert_ok(json_serialise(tree, &before, &len, &err), &err);
        ck_assert_err(inject_into_tree(tree, "prestart", HOOK, &err), &err, bad_injects[_i].msg);
        ck_assert_ok(json_serialise(tree, &after, &len, &err), &err);
        ck_assert_str_eq(after, before);     /* untouched */
}
END_TEST

START_TEST(test_inject_null)
{
        hook_error_t err = {};
        ck_assert_err(inject_into_tree(NULL, "prestart", HOOK, &err), &err, "not a JSON object");
}
END_TEST

/* ---- json_serialise round trips ------------------------------------------------- */
static const struct {
        const char *file, *doc;
} round_trips[] = {
        { "config-runc.json", NULL },
        { "config-podman.json", NULL },
        { "state-podman.json", NULL },
        { NULL, "{\"s\":\"\\u00e9\\n\\t\\\"\\\\/\\u0001\\u001f\\ud83d\\ude00\","
                "\"n\":[0,-1,1.5,1e3,-2.5E-1,9223372036854775808],"
                "\"t\":true,\"f\":false,\"z\":null,\"e\":{},\"a\":[],\"\":[[[{}]]]}" },
        { NULL, "[]" },
        { NULL, "\"top\"" },
};

START_TEST(test_round_trip)
{
        _cleanup_free_ char *data = round_trips[_i].file ? tu_data(round_trips[_i].file, NULL) : NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_json_ yajl_val a = parse(data ? data : round_trips[_i].doc), b = NULL, c = NULL;
        hook_error_t err = {};
        size_t len, len2;

        ck_assert_ok(json_serialise(a, &out, &len, &err), &err);
        ck_assert_uint_eq(strlen(out), len);
        ck_assert_int_eq(out[len - 1], '\n');
        b = parse(out);
        assert_same_tree(a, b);
        /* And the text is stable. */
        ck_assert_ok(json_serialise(b, &out2, &len2, &err), &err);
        ck_assert_str_eq(out, out2);
        /* After injecting, still a strict document with the hook in it. */
        if (a->type == yajl_t_object) {
                ck_assert_int_eq(inject_into_tree(b, "createRuntime", HOOK, &err), 1);
                free(TAKE_PTR(out2));
                ck_assert_ok(json_serialise(b, &out2, &len2, &err), &err);
                c = parse(out2);
                ck_assert_str_eq(json_obj_get(hooks_of(c, "createRuntime")->u.array.values[0], "path")->u.string, HOOK);
        }
}
END_TEST

/* ---- log_escape: image-chosen names reach messages ---------------------------- */
static const struct {
        const char *in, *out;
} escapes[] = {
        { "plain `name` ok", "plain `name` ok" },
        { "a\nb\rc\td", "a\\x0a" "b\\x0d" "c\\x09" "d" },
        { "\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07" },
        { "del\x7f", "del\\x7f" },
        { "raw C1 \x9b" "31m", "raw C1 \\x9b" "31m" },                    /* not UTF-8 */
        { "utf8 C1 \xc2\x9b" "31m", "utf8 C1 \\u009b31m" },
        { "bidi \xe2\x80\xae" "evil\xe2\x80\xac", "bidi \\u202eevil\\u202c" },
        { "isolate \xe2\x81\xa6x\xe2\x81\xa9", "isolate \\u2066x\\u2069" },
        { "marks \xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "marks \\u200e\\u200f\\u061c" },
        { "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x90\xb3", "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x90\xb3" },
        { "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
        { "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
        { "cut \xe2\x80", "cut \\xe2\\x80" },
};

START_TEST(test_log_escape)
{
        char out[256];

        log_escape(escapes[_i].in, out, sizeof(out));
        ck_assert_str_eq(out, escapes[_i].out);
}
END_TEST

/* Truncation never splits an escape or a character. */
START_TEST(test_log_escape_truncates)
{
        char out[8];

        ck_assert_uint_eq(log_escape("ab\x1b" "cd", out, sizeof(out)), 7);
        ck_assert_str_eq(out, "ab\\x1b" "c");
        ck_assert_uint_eq(log_escape("abcdef\xc3\xa9", out, sizeof(out)), 6);
        ck_assert_str_eq(out, "abcdef");
}
END_TEST

/* ---- job ------------------------------------------------------------------ */
struct order_job {
        struct job job;
        int id, ret;
        unsigned sleep_us;
        int *log, *n;
};

static int order_run(struct job *j)
{
        struct order_job *o = (struct order_job *)j;

        if (o->sleep_us)
                (void)usleep(o->sleep_us);
        o->log[(*o->n)++] = o->id;
        if (o->ret < 0)
                return hook_error_set(&j->err, -o->ret, "job %d failed", o->id);
        return o->ret;
}

START_TEST(test_job_order)
{
        int log[3] = {}, n = 0;
        struct order_job a = { .id = 1, .ret = 5, .sleep_us = 20000, .log = log, .n = &n },
                         b = { .id = 2, .ret = -EIO, .log = log, .n = &n },
                         c = { .id = 3, .log = log, .n = &n };
        struct job never = {};
        hook_error_t err = {};

        job_start(&a.job, order_run);
        job_start(&b.job, order_run);
        job_start(&c.job, order_run);
        /* the first sleeps: the caller goes on meanwhile */
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(job_wait(&c.job, &err), 0);
        ck_assert_int_eq(job_wait(&b.job, &err), -EIO);
        ck_assert_str_eq(err.msg, "job 2 failed");
        ck_assert_int_eq(job_wait(&a.job, NULL), 5);
        ck_assert_int_eq(job_wait(&b.job, NULL), -EIO);     /* again: the same */
        ck_assert_int_eq(job_wait(&never, &err), 0);
        ck_assert_int_eq(n, 3);
        ck_assert(log[0] == 1 && log[1] == 2 && log[2] == 3);
        job_stop();
}
END_TEST

static int umask_run(struct job *j)
{
        (void)j;
        (void)umask(077);
        return 0;
}

/* The worker's filesystem context is its own: setns(CLONE_NEWNS) works
 * with it alive (EINVAL if it shared ours), its umask is not ours. */
START_TEST(test_job_own_fs)
{
        _cleanup_close_ int mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        struct job j;

        ck_assert_int_ge(mnt, 0);
        (void)umask(022);
        job_start(&j, umask_run);
        job_settle();
        ck_assert_int_eq(job_wait(&j, NULL), 0);
        ck_assert_int_eq(umask(022), 022);
        if (geteuid() == 0)
                ck_assert_msg(setns(mnt, CLONE_NEWNS) == 0, "setns with the worker up: %s", strerror(errno));
        job_stop();
}
END_TEST

/* After job_stop(), the stopped worker finishes its queue; a new job gets
 * a new worker. */
START_TEST(test_job_restart)
{
        int log[2] = {}, n = 0;
        struct order_job a = { .id = 1, .sleep_us = 10000, .log = log, .n = &n }, b = { .id = 2, .log = log, .n = &n };

        job_start(&a.job, order_run);
        job_stop();
        job_stop();
        ck_assert_int_eq(job_wait(&a.job, NULL), 0);
        job_start(&b.job, order_run);
        ck_assert_int_eq(job_wait(&b.job, NULL), 0);
        job_stop();
        ck_assert(n == 2 && log[0] == 1 && log[1] == 2);
}
END_TEST

/* ---- uuid_v4_line ----------------------------------------------------------- */
START_TEST(test_uuid_v4)
{
        static const unsigned char ff[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        static const unsigned char seq[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                               0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0 };
        char out[UUID_LINE_LEN + 1];

        uuid_v4_line(ff, out);
        ck_assert_str_eq(out, "ffffffff-ffff-4fff-bfff-ffffffffffff\n");
        uuid_v4_line(seq, out);
        ck_assert_str_eq(out, "00112233-4455-4677-8899-aabbccddeef0\n");
        ck_assert_uint_eq(strlen(out), UUID_LINE_LEN);
}
END_TEST

static Suite *misc_suite(void)
{
        Suite *s = suite_create("misc");

        TU_TCASE(s, "path_clean", 0, TU_LOOP(test_path_clean, clean));
        TU_TCASE(s, "log_escape", 0, TU_LOOP(test_log_escape, escapes), TU_TEST(test_log_escape_truncates));
        TU_TCASE(s, "cgroup", 0, TU_LOOP(test_membership, memberships),
                 TU_LOOP(test_mounts, mounts), TU_LOOP(test_relative_path, relpaths),
                 TU_LOOP(test_delegated, delegated), TU_TEST(test_cg_names));
        TU_TCASE(s, "fsutil", 0, TU_LOOP_N(test_open_in_root, 3 * ELEMENTSOF(opens)),
                 TU_LOOP_N(test_mkdir_stays_inside, 4), TU_LOOP_N(test_mkdir_owner, 2),
                 TU_LOOP_N(test_magic_links, 2 * ELEMENTSOF(magic)),
                 TU_LOOP(test_write_file, writes));
        TU_TCASE(s, "inject", 0, TU_LOOP(test_inject, injects), TU_TEST(test_inject_same_path),
                 TU_LOOP(test_inject_bad, bad_injects), TU_TEST(test_inject_null),
                 TU_LOOP(test_round_trip, round_trips));
        TU_TCASE(s, "uuid", 0, TU_TEST(test_uuid_v4));
        TU_TCASE(s, "job", 0, TU_TEST(test_job_order), TU_TEST(test_job_own_fs), TU_TEST(test_job_restart));
        return s;
}

int main(void)
{
        return tu_run(misc_suite());
}
