/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executor: the only file that mounts.  Every target is an O_PATH fd
 * resolved inside the rootfs (fsutil.c); mounts are made with the new mount
 * API (Linux 5.2, mount_setattr 5.12) and attached with move_mount() onto
 * that fd, so no path string is resolved at mount time and an image
 * symlink swapped in after the check cannot redirect anything.
 *
 * The boundary: the hook creates, chowns, copies into or mounts on only
 * directories of the rootfs's own mount and of the mounts it made itself
 * (FS_OWN_MOUNT, by mount id).  A destination an image link leads onto a
 * volume, cgroupfs, procfs or a runtime mount is left alone.  Nothing is
 * attached below a mount with shared propagation: it would appear in the
 * peers' namespaces, the host's among them. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "copyup.h"
#include "mountinfo.h"
#include "machineid.h"
#include "mounts.h"

void apply_ctx_init(struct apply_ctx *ctx, const struct plan *p)
{
        memset(ctx, 0, sizeof(*ctx));
        ctx->plan = p;
        ctx->cgroup = p->cgroup;
        ctx->rootfd = ctx->cg_dirfd = ctx->cg_payload = ctx->cg_clone = ctx->cg_payload_clone = -EBADF;
        ctx->logs_clone = ctx->journal_root_fd = ctx->journal_clone = -EBADF;
        ctx->fill.src = ctx->fill.mfd = ctx->mid.etc = -EBADF;
}

static void warn(struct apply_ctx *ctx, const char *fmt, ...) _printf_(2, 3);
static void warn(struct apply_ctx *ctx, const char *fmt, ...)
{
        va_list ap;

        if (ctx->n_warnings >= APPLY_MAX_WARNINGS)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(ctx->warnings[ctx->n_warnings++], sizeof(ctx->warnings[0]), fmt, ap);
        va_end(ap);
}

static int write_pid(int dirfd, const char *file, pid_t pid)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        char num[24];

        if (fd < 0)
                return -errno;
        (void)snprintf(num, sizeof(num), "%d\n", (int)pid);
        return write_all(fd, num, strlen(num));
}

static const char *const cap_files[2];
static int write_string(int dirfd, const char *file, const char *s);

/* The host side of a failure: the container goes back where the runtime
 * put it and the payload cgroup goes away. */
static void cgroup_undo(struct apply_ctx *ctx)
{
        size_t i;

        for (i = 0; i < ELEMENTSOF(ctx->cg_caps_old); i++)
                if (ctx->cg_caps_old[i][0] && write_string(ctx->cg_dirfd, cap_files[i], ctx->cg_caps_old[i]) == 0)
                        ctx->cg_caps_old[i][0] = '\0';
        if (ctx->cg_moved && write_pid(ctx->cg_dirfd, "cgroup.procs", ctx->pid) == 0)
                ctx->cg_moved = false;
        if (ctx->cg_payload_made && !ctx->cg_moved && unlinkat(ctx->cg_dirfd, CG_PAYLOAD, AT_REMOVEDIR) == 0)
                ctx->cg_payload_made = false;
}

void apply_ctx_done(struct apply_ctx *ctx)
{
        size_t i;

        /* first: the jobs read through the rootfs and write here */
        mounts_cancel_fill(ctx);
        (void)job_wait(&ctx->fill.job, NULL);
        (void)job_wait(&ctx->mid.job, NULL);
        if (ctx->mid.etc >= 0) {
                fs_unstage_file_at(ctx->mid.etc, "machine-id", ctx->mid.tmp);
                (void)utimensat(ctx->mid.etc, "", ctx->mid.times, AT_EMPTY_PATH);
                closep(&ctx->mid.etc);
        }
        closep(&ctx->fill.src);
        closep(&ctx->fill.mfd);
        if (!ctx->committed)
                cgroup_undo(ctx);
        closep(&ctx->rootfd);
        closep(&ctx->cg_dirfd);
        closep(&ctx->cg_payload);
        closep(&ctx->cg_clone);
        closep(&ctx->cg_payload_clone);
        closep(&ctx->logs_clone);
        closep(&ctx->journal_clone);
        if (!ctx->committed && ctx->journal_made)
                (void)unlinkat(ctx->journal_root_fd, ctx->plan->machine_id, AT_REMOVEDIR);
        closep(&ctx->journal_root_fd);
        free(ctx->cg_path);
        free(ctx->os_release);
        free(ctx->boot_id);
        free(ctx->shared);
        for (i = 0; i < ctx->n_sub; i++)
                free(ctx->sub[i]);
        free(ctx->sub);
}

/* Files the hook creates belong to the container's root. */
static uid_t owner_uid(const struct plan *p) { return p->userns ? p->uid : (uid_t)-1; }
static gid_t owner_gid(const struct plan *p) { return p->userns ? p->gid : (gid_t)-1; }

static int clone_tree(int dirfd, const char *name, bool rdonly, hook_error_t *err)
{
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                            (rdonly ? MOUNT_ATTR_RDONLY : 0),
                .attr_clr = rdonly ? 0 : MOUNT_ATTR_RDONLY,
        };
        int fd = open_tree(dirfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);

        if (fd < 0)
                return hook_error_set(err, errno, "open_tree `%s`: %s", name[0] ? name : ".", strerror(errno));
        if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
                int e = errno;
                (void)close(fd);
                return hook_error_set(err, e, "mount_setattr `%s`: %s", name[0] ? name : ".", strerror(e));
        }
        return fd;
}

/* ---------------------------------------------------------------- check */

static bool under(const char *path, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(path, prefix, l) == 0 && path[l] == '/';
}

static int scan_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct apply_ctx *ctx = userdata;

        (void)err;
        if (mountinfo_has_tag(e, "shared")) {
                ctx->shared = xrealloc(ctx->shared, (ctx->n_shared + 1) * sizeof(*ctx->shared));
                ctx->shared[ctx->n_shared++] = e->id;
        }
        if (under(e->mount_point, ctx->rootfs_path)) {
                const char *rel = e->mount_point + strlen(ctx->rootfs_path);
                ctx->sub = xrealloc(ctx->sub, (ctx->n_sub + 1) * sizeof(*ctx->sub));
                ctx->sub[ctx->n_sub++] = xstrdup(rel);
                if (streq(rel, "/proc") && streq(e->fstype, "proc"))
                        ctx->proc_mnt_id = e->id;
                if (streq(rel, "/run")) {       /* the last one is on top */
                        ctx->run_mnt_id = e->id;
                        ctx->run_whole_rw = streq(e->root, "/") && streq(e->fstype, "tmpfs") &&
                                            (strncmp(e->options, "rw", 2) == 0 && (e->options[2] == ',' || !e->options[2]));
                }
        }
        return 0;
}

static bool is_shared(const struct apply_ctx *ctx, uint64_t id)
{
        return u64_in(ctx->shared, ctx->n_shared, id);
}

static bool is_rootfs(int fd, const struct apply_ctx *ctx)
{
        struct stat st;

        return fstat(fd, &st) == 0 && st.st_dev == ctx->rootfs_dev && st.st_ino == ctx->rootfs_ino;
}

/* "Done" marker for a second registration: it holds the inode of the
 * container's mount namespace, which no image can know in advance (an
 * image may ship a file of that name, and copy-up would bring it in). */
#define DONE_MARKER ".oci-systemd-hook"

static void marker_text(char buf[64])
{
        struct stat st;

        (void)snprintf(buf, 64, "mntns:%lu\n", stat("/proc/self/ns/mnt", &st) == 0 ? (unsigned long)st.st_ino : 0UL);
}

static bool marked(int rootfd, const char *dest)
{
        _cleanup_close_ int dir = fs_open_in_root(rootfd, dest, FS_NOFOLLOW, NULL), fd = -EBADF;
        char want[64], have[64] = {};
        struct statfs sfs;

        if (dir < 0 || !fs_is_mount_root(dir, "") || fstatfs(dir, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
                return false;
        fd = openat(dir, DONE_MARKER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        marker_text(want);
        return fd >= 0 && read(fd, have, sizeof(have) - 1) > 0 && streq(have, want);
}

/* Where the marker lives: our /run, else the spec's /run tmpfs, else the
 * first tmpfs we mount. */
static bool already_done(int rootfd, const struct plan *p)
{
        size_t i;

        if (marked(rootfd, "/run"))
                return true;
        for (i = 0; i < p->n_tmpfs; i++)
                if (!p->tmpfs[i].skip)
                        return !streq(p->tmpfs[i].destination, "/run") && marked(rootfd, p->tmpfs[i].destination);
        return false;
}

void mounts_cancel_fill(struct apply_ctx *ctx)
{
        atomic_store(&ctx->fill.cancel, true);
}

int mounts_open_rootfs(struct apply_ctx *ctx, hook_error_t *err)
{
        uint64_t id;
        int r;

        /* Before pivot_root the rootfs sits at its bundle path in the
         * container's namespace; it must be the directory the host sees. */
        ctx->rootfd = open(ctx->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->rootfd < 0 || !is_rootfs(ctx->rootfd, ctx))
                return hook_error_set(err, EXDEV, "`%s` in the container's mount namespace is not the bundle's rootfs",
                                      ctx->rootfs_path);
        if ((r = fs_mount_id(ctx->rootfd, "", &id)) < 0)
                return hook_error_set(err, -r, "the rootfs's mount id: %s (the hook needs Linux 5.8 or later)",
                                      strerror(-r));
        fs_boundary_add(&ctx->boundary, id);
        ctx->done = already_done(ctx->rootfd, ctx->plan);
        return 0;
}

int mounts_check(struct apply_ctx *ctx, hook_error_t *err)
{
        uint64_t id = ctx->boundary.ids[0];
        int r;

        /* the rootfs's subtree only (what the hook can reach from it); the
         * whole table on kernels before 6.8 */
        r = mountlist_foreach_below(ctx->rootfd, scan_cb, ctx, err);
        if (r == -ENOSYS)
                r = mountinfo_foreach_path("/proc/self/mountinfo", scan_cb, ctx, err);
        if (r < 0)
                return hook_error_prefix(err, "the container's mount table");
        if (ctx->n_sub > 1)
                qsort(ctx->sub, ctx->n_sub, sizeof(*ctx->sub), strcmp_ptrs);
        if (is_shared(ctx, id))
                return hook_error_set(err, EPERM,
                                      "the rootfs mount has shared propagation (linux.rootfsPropagation `shared` or "
                                      "`rshared`?): the hook's mounts would appear in other mount namespaces, the "
                                      "host's among them; use `slave` or `private`");
        return 0;
}

/* ----------------------------------------------------------------- host */

static int chown_cgroup(int dirfd, const struct plan *p, hook_error_t *err)
{
        static const char *const files[] = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks" };
        size_t i;

        if (fchownat(dirfd, "", p->uid, p->gid, AT_EMPTY_PATH) < 0)
                return hook_error_set(err, errno, "chown the container's cgroup: %s", strerror(errno));
        for (i = 0; i < ELEMENTSOF(files); i++)
                if (fchownat(dirfd, files[i], p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        return hook_error_set(err, errno, "chown cgroup `%s`: %s", files[i], strerror(errno));
        return 0;
}

static int open_payload(struct apply_ctx *ctx, bool create, hook_error_t *err)
{
        if (create) {
                if (mkdirat(ctx->cg_dirfd, CG_PAYLOAD, 0755) == 0)
                        ctx->cg_payload_made = true;
                else if (errno != EEXIST)
                        return hook_error_set(err, errno, "creating the payload cgroup: %s", strerror(errno));
        }
        ctx->cg_payload = openat(ctx->cg_dirfd, CG_PAYLOAD, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ctx->cg_payload < 0 && (create || errno != ENOENT))
                return hook_error_set(err, errno, "opening the payload cgroup: %s", strerror(errno));
        return 0;
}

/* A small file of the host's (os-release, a fresh uuid), read before the
 * hook joins the container. */
static char *read_host_file(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        char *buf = NULL;
        struct stat st;
        size_t len;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || read_fd_capped(fd, 65536, &buf, &len, NULL) < 0)
                return NULL;
        return buf;
}

/* cgroup.max.descendants and cgroup.max.depth on the runtime's cgroup, so
 * that the container cannot exhaust the host with cgroups (read-only
 * inside, like every file there).  Only ever lowered; the old values are
 * restored on failure. */
static const char *const cap_files[2] = { "cgroup.max.descendants", "cgroup.max.depth" };

static int write_string(int dirfd, const char *file, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

static int set_cgroup_caps(struct apply_ctx *ctx, hook_error_t *err)
{
        const unsigned long want[2] = { ctx->plan->cg_max_descendants, ctx->plan->cg_max_depth };
        size_t i;

        for (i = 0; i < 2; i++) {
                _cleanup_close_ int fd = -EBADF;
                char cur[32] = {}, num[24];
                unsigned long have;
                int r;

                if (!want[i])
                        continue;
                fd = openat(ctx->cg_dirfd, cap_files[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || read(fd, cur, sizeof(cur) - 1) <= 0)
                        continue;           /* an old kernel without the file */
                cur[strcspn(cur, "\n")] = '\0';
                have = streq(cur, "max") ? ULONG_MAX : strtoul(cur, NULL, 10);
                if (have <= want[i])
                        continue;
                (void)snprintf(num, sizeof(num), "%lu", want[i]);
                if ((r = write_string(ctx->cg_dirfd, cap_files[i], num)) < 0)
                        return hook_error_set(err, -r, "setting %s: %s", cap_files[i], strerror(-r));
                memcpy(ctx->cg_caps_old[i], cur, sizeof(cur));
        }
        return 0;
}

/* Where journald can reach the engine's log.  With a terminal: the
 * console.  Else PID 1's stdout as the runtime made it, when that is a
 * named FIFO (Docker, containerd, runc run -d >fifo): a clone of the FIFO
 * is bound in the container's /run for journald (systemd itself puts
 * /dev/null on its stdio).  Not a regular file (journald would write from
 * offset 0 over it), nor an anonymous pipe or a socket (nothing to bind). */
static const char *logs_target(struct apply_ctx *ctx, bool terminal)
{
        char path[64];
        struct stat st;

        if (terminal)
                return "/dev/console";
        (void)snprintf(path, sizeof(path), "/proc/%d/fd/1", (int)ctx->pid);
        if (stat(path, &st) < 0 || !S_ISFIFO(st.st_mode))
                return NULL;
        /* pipefs cannot be cloned: an anonymous pipe fails here */
        ctx->logs_clone = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        return ctx->logs_clone >= 0 ? "/run/host/stdout" : NULL;
}

/* The persistent journal on the host (nspawn --link-journal): the
 * directory JOURNAL_ROOT/MACHINE-ID, only there, made without following a
 * symlink, mode 2755, owned by the container's root; an existing one must
 * be a directory of that owner.  Cloned here, bound in mounts_apply(). */
static int link_journal_host(struct apply_ctx *ctx, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        uid_t uid = p->userns ? p->uid : 0;
        _cleanup_close_ int dir = -EBADF;
        struct stat st;

        ctx->journal_root_fd = open(ctx->journal_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ctx->journal_root_fd < 0)
                return hook_error_set(err, errno, "journal root `%s`: %s", ctx->journal_root, strerror(errno));
        if (mkdirat(ctx->journal_root_fd, p->machine_id, 02755) == 0) {
                ctx->journal_made = true;
                if (fchownat(ctx->journal_root_fd, p->machine_id, uid, p->userns ? p->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
                        return hook_error_set(err, errno, "chown `%s/%s`: %s", ctx->journal_root, p->machine_id,
                                              strerror(errno));
        } else if (errno != EEXIST) {
                return hook_error_set(err, errno, "mkdir `%s/%s`: %s", ctx->journal_root, p->machine_id,
                                      strerror(errno));
        }
        dir = openat(ctx->journal_root_fd, p->machine_id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0 || fstat(dir, &st) < 0)
                return hook_error_set(err, errno, "`%s/%s`: %s", ctx->journal_root, p->machine_id,
                                      errno == ELOOP || errno == ENOTDIR ? "not a directory, refusing" : strerror(errno));
        if (st.st_uid != uid)
                return hook_error_set(err, EPERM, "`%s/%s` belongs to uid %u, not the container's root %u; refusing",
                                      ctx->journal_root, p->machine_id, (unsigned)st.st_uid, (unsigned)uid);
        ctx->journal_clone = clone_tree(dir, "", false, err);
        return ctx->journal_clone < 0 ? hook_error_prefix(err, "the host's journal directory") : 0;
}

/* What mounts_prepare_host() needs to know of the host and of the
 * container's cgroup: reads only (a detached clone of PID 1's stdout
 * aside). */
static int host_facts(struct apply_ctx *ctx, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        int r;

        if (p->os_release && !(ctx->os_release = read_host_file("/etc/os-release")))
                ctx->os_release = read_host_file("/usr/lib/os-release");
        if (p->boot_id && p->spec_proc) {
                unsigned char b[16];

                /* what /proc/sys/kernel/random/uuid gives, without 5 syscalls */
                if (getrandom(b, sizeof(b), 0) == (ssize_t)sizeof(b)) {
                        ctx->boot_id = xmalloc(UUID_LINE_LEN + 1);
                        uuid_v4_line(b, ctx->boot_id);
                }
        }
        if (p->logs)
                ctx->logs_to = logs_target(ctx, p->terminal);
        if (ctx->cgroup == CG_ACT_NONE)
                return 0;
        r = cg_open_own(ctx->pid, &ctx->cgroup, &ctx->cg_dirfd, &ctx->cg_path, err);
        if (r < 0)
                return hook_error_prefix(err, "finding the container's cgroup");
        /* CVE-2022-0492: a v1 hierarchy root (release_agent) is never ours. */
        if (faccessat(ctx->cg_dirfd, "release_agent", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return hook_error_set(err, EPERM, "the container's cgroup holds release_agent; refusing");
        if (!ctx->running)
                return cg_check_alone(ctx->cg_dirfd, ctx->pid, ctx->cg_path, err);
        return 0;
}

int mounts_prepare_host(struct apply_ctx *ctx, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        bool unified, payload;
        int r;

        if ((r = host_facts(ctx, err)) < 0)
                return r;
        if (p->link_journal && !ctx->running && (r = link_journal_host(ctx, err)) < 0)
                return r;
        if (ctx->cgroup == CG_ACT_NONE)
                return 0;
        unified = ctx->cgroup == CG_ACT_UNIFIED;
        if (ctx->running) {
                /* Restored cgroups come back owned by root: the only thing
                 * to redo (criu put our mounts back). */
                if (unified && (r = open_payload(ctx, false, err)) < 0)
                        return r;
                if (!p->userns)
                        return 0;
                r = chown_cgroup(ctx->cg_payload >= 0 ? ctx->cg_payload : ctx->cg_dirfd, p, err);
                return r < 0 ? hook_error_prefix(err, "cgroup") : 0;
        }
        /* Unified: the container runs in a child; the runtime's cgroup,
         * with the limits, is bound read-only above it, so no file of it
         * (not even one a controller toggle creates later) is writable
         * from inside.  The child's own limits can only lower the
         * parent's (cgroup-v2.rst, "Model of Delegation"). */
        payload = unified && p->cg_payload;
        if (payload && (r = open_payload(ctx, true, err)) < 0)
                return r;
        if (unified && (r = set_cgroup_caps(ctx, err)) < 0)
                return r;
        ctx->cg_clone = clone_tree(ctx->cg_dirfd, "", payload, err);
        if (ctx->cg_clone < 0)
                return hook_error_prefix(err, "cloning the container's cgroup");
        if (payload) {
                ctx->cg_payload_clone = clone_tree(ctx->cg_payload, "", false, err);
                if (ctx->cg_payload_clone < 0)
                        return hook_error_prefix(err, "cloning the payload cgroup");
        }
        return 0;
}

/* ---------------------------------------------------------------- apply */

/* A node hide_host_ttys() removed from the runtime's /dev. */
struct hidden_node {
        char name[NAME_MAX + 1];
        struct stat st;
        int clone;                  /* a bind-mounted node: its detached clone */
};

/* What mounts_apply() did, to undo on failure. */
struct undo {
        struct fs_created created;
        int mounts[PLAN_MAX_TMPFS + 4];
        size_t n_mounts;
        int made_ro[16];            /* runtime mounts made read-only */
        size_t n_made_ro;
        int devfd;                  /* /dev, where hidden nodes go back */
        struct hidden_node *hidden;
        size_t n_hidden;
};

static void restore_node(int devfd, struct hidden_node *h)
{
        _cleanup_close_ int fd = -EBADF;

        if (h->clone < 0) {
                if (mknodat(devfd, h->name, h->st.st_mode, h->st.st_rdev) == 0)
                        (void)fchownat(devfd, h->name, h->st.st_uid, h->st.st_gid, AT_SYMLINK_NOFOLLOW);
                return;
        }
        fd = openat(devfd, h->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
                (void)move_mount(h->clone, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        closep(&h->clone);
}

static void undo_run(struct undo *u, bool failed)
{
        struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };

        while (u->n_hidden > 0) {
                struct hidden_node *h = &u->hidden[--u->n_hidden];
                if (failed)
                        restore_node(u->devfd, h);
                closep(&h->clone);
        }
        free(u->hidden);
        closep(&u->devfd);
        while (u->n_made_ro > 0) {
                int fd = u->made_ro[--u->n_made_ro];
                if (failed)
                        (void)mount_setattr(fd, "", AT_EMPTY_PATH, &rw, sizeof(rw));
                (void)close(fd);
        }
        while (u->n_mounts > 0) {
                char path[64];
                int fd = u->mounts[--u->n_mounts];

                if (failed) {
                        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                        (void)umount2(path, MNT_DETACH);
                }
                (void)close(fd);
        }
        fs_created_undo(&u->created, failed);
}

/* Attach MFD on TARGET unless that would propagate, and remember it. */
static int attach(struct apply_ctx *ctx, struct undo *u, int mfd, int targetfd, const char *what, hook_error_t *err)
{
        uint64_t id = 0;

        if (fs_mount_id(targetfd, "", &id) < 0 || is_shared(ctx, id))
                return hook_error_set(err, EPERM,
                                      "`%s` is on a mount with shared propagation: a mount there would appear in other "
                                      "mount namespaces; use `slave` or `private` propagation", what);
        if (move_mount(mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return hook_error_set(err, errno, "attaching the mount on `%s`: %s", what, strerror(errno));
        if (u->n_mounts < ELEMENTSOF(u->mounts))
                u->mounts[u->n_mounts++] = fcntl(mfd, F_DUPFD_CLOEXEC, 3);
        return 0;
}

static int fsconfig_str(int fsfd, const char *key, const char *value, hook_error_t *err)
{
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0)
                return hook_error_set(err, errno, "tmpfs option %s=%.100s: %s", key, value, strerror(errno));
        return 0;
}

/* A detached tmpfs with the plan's options; returns the mount fd. */
static int make_tmpfs(const struct plan *p, const struct plan_tmpfs *t, hook_error_t *err)
{
        _cleanup_close_ int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
        char num[32];
        int mfd, r;

        if (fsfd < 0)
                return hook_error_set(err, errno, "fsopen tmpfs: %s (the hook needs Linux 5.2 or later)",
                                      strerror(errno));
        if ((r = fsconfig_str(fsfd, "source", "tmpfs", err)) < 0 || (r = fsconfig_str(fsfd, "mode", t->mode, err)) < 0 ||
            (r = fsconfig_str(fsfd, "size", t->size, err)) < 0 || (r = fsconfig_str(fsfd, "nr_inodes", t->nr_inodes, err)) < 0)
                return r;
        if (p->userns) {
                (void)snprintf(num, sizeof(num), "%u", (unsigned)p->uid);
                if ((r = fsconfig_str(fsfd, "uid", num, err)) < 0)
                        return r;
                (void)snprintf(num, sizeof(num), "%u", (unsigned)p->gid);
                if ((r = fsconfig_str(fsfd, "gid", num, err)) < 0)
                        return r;
        }
        if (p->mount_label && (r = fsconfig_str(fsfd, "context", p->mount_label, err)) < 0)
                return r;
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return hook_error_set(err, errno, "creating tmpfs: %s", strerror(errno));
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (mfd < 0)
                return hook_error_set(err, errno, "fsmount tmpfs: %s", strerror(errno));
        return mfd;
}

static int premake_run(struct job *j)
{
        struct premade_job *pm = (struct premade_job *)j;
        const struct plan *p = pm->plan;
        size_t i;

        for (i = 0; i < p->n_tmpfs; i++)
                if (!p->tmpfs[i].skip)
                        pm->mfd[i] = make_tmpfs(p, &p->tmpfs[i], NULL);
        return 0;
}

void mounts_premake(struct premade_job *pm, const struct plan *p)
{
        size_t i;

        pm->plan = p;
        for (i = 0; i < ELEMENTSOF(pm->mfd); i++)
                pm->mfd[i] = -EBADF;
        job_start(&pm->job, premake_run);
}

void mounts_premade_done(struct premade_job *pm)
{
        size_t i;

        if (!pm->job.started)
                return;
        (void)job_wait(&pm->job, NULL);
        for (i = 0; i < ELEMENTSOF(pm->mfd); i++)
                closep(&pm->mfd[i]);
}

/* T's premade tmpfs, or -EBADF (fill_tmpfs() makes one then). */
static int take_premade(struct apply_ctx *ctx, const struct plan_tmpfs *t)
{
        struct premade_job *pm = ctx->premade;
        size_t i = (size_t)(t - ctx->plan->tmpfs);

        if (!pm || !pm->job.started || i >= ELEMENTSOF(pm->mfd) || job_wait(&pm->job, NULL) < 0)
                return -EBADF;
        return TAKE_FD(pm->mfd[i]);
}

/* open_dir_in_root() with FS_OWN_MOUNT against B, not the caller's
 * boundary (for the worker; no FS_MKDIR). */
static int open_dir_within(int rootfd, const char *path, unsigned flags, const struct fs_boundary *b,
                           hook_error_t *err)
{
        struct stat st;
        int fd = fs_open_in_root_within(rootfd, path, flags | FS_NOFOLLOW, b, err);

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                (void)close(fd);
                return hook_error_set(err, ENOTDIR, "`%s` in the rootfs is not a directory", path);
        }
        return fd;
}

static int open_dir_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err)
{
        return open_dir_within(rootfd, path, flags, NULL, err);
}

/* Mounts the runtime already made below a tmpfs destination (podman's
 * /run/.containerenv and volumes, Kubernetes' /run/secrets through
 * /var/run): their mount points, relative to the rootfs, outermost only,
 * opened before the tmpfs covers them. */
struct submounts {
        const char **rel;
        int *fd;
        size_t n;
};

static void submounts_done(struct submounts *sm)
{
        while (sm->n > 0)
                closep(&sm->fd[--sm->n]);
        free(sm->rel);
        free(sm->fd);
}

static int find_submounts(const struct apply_ctx *ctx, int target, struct submounts *sm, hook_error_t *err)
{
        char link[64], buf[PATH_MAX];
        const char *prefix;
        ssize_t n;
        size_t i;

        (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", target);
        n = readlink(link, buf, sizeof(buf) - 1);
        if (n < 0)
                return hook_error_set(err, errno, "readlink of the target: %s", strerror(errno));
        buf[n] = '\0';
        if (!under(buf, ctx->rootfs_path))
                return hook_error_set(err, EXDEV, "the target is not below the rootfs");
        prefix = buf + strlen(ctx->rootfs_path);
        sm->rel = xcalloc(ctx->n_sub + 1, sizeof(*sm->rel));
        sm->fd = xcalloc(ctx->n_sub + 1, sizeof(*sm->fd));
        /* Sorted: a mount below one already taken moves with it. */
        for (i = 0; i < ctx->n_sub; i++) {
                const char *m = ctx->sub[i];
                if (!under(m, prefix) || (sm->n > 0 && (under(m, sm->rel[sm->n - 1]) || streq(m, sm->rel[sm->n - 1]))))
                        continue;
                sm->fd[sm->n] = fs_open_in_root(ctx->rootfd, m, FS_NOFOLLOW, err);
                if (sm->fd[sm->n] < 0)
                        return sm->fd[sm->n];
                sm->rel[sm->n++] = m;
        }
        return 0;
}

/* Put each submount back on top of the new tmpfs at the same place. */
static int move_submounts(int mfd, const char *dest, const struct submounts *sm, hook_error_t *err)
{
        size_t i;

        for (i = 0; i < sm->n; i++) {
                _cleanup_close_ int to = -EBADF;
                const char *inner = sm->rel[i] + strlen(dest);
                int src = sm->fd[i];
                struct stat st;
                int r;

                if (fstat(src, &st) < 0)
                        return hook_error_set(err, errno, "stat `%s`: %s", sm->rel[i], strerror(errno));
                if (!S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *parent = xstrdup(inner);
                        char *slash = strrchr(parent, '/');
                        _cleanup_close_ int pfd = -EBADF;
                        *slash = '\0';
                        pfd = parent[0] ? fs_open_in_root(mfd, parent, FS_MKDIR | FS_NOFOLLOW, err) : fcntl(mfd, F_DUPFD_CLOEXEC, 3);
                        if (pfd < 0)
                                return pfd;
                        r = openat(pfd, slash + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                        if (r >= 0)
                                (void)close(r);
                        to = openat(pfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                } else {
                        to = fs_open_in_root(mfd, inner, FS_MKDIR | FS_NOFOLLOW, err);
                }
                if (to < 0)
                        return hook_error_set(err, errno, "mount point for `%s`: %s", sm->rel[i], strerror(errno));
                if (move_mount(src, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return hook_error_set(err, errno, "moving the spec's mount `%s` onto the tmpfs: %s",
                                              sm->rel[i], strerror(errno));
        }
        return 0;
}

/* A detached tmpfs for T, filled with what TARGET holds when the plan
 * says so: nobody else can see it yet.  Returns its mount fd. */
static int fill_tmpfs(const struct plan *p, const struct plan_tmpfs *t, int made, int target, bool existed,
                      const atomic_bool *cancel, hook_error_t *err)
{
        _cleanup_close_ int mfd = made >= 0 ? made : make_tmpfs(p, t, err);

        if (mfd < 0)
                return mfd;
        if (t->copyup && copyup_tree_cancellable(target, mfd, &p->reader, existed, cancel, err) < 0)
                return hook_error_prefix(err, "copying the image's content");
        return TAKE_FD(mfd);
}

static int fill_job_run(struct job *j)
{
        struct fill_job *f = (struct fill_job *)j;
        struct premade_job *pm = f->premade;
        size_t i = (size_t)(f->tmpfs - f->plan->tmpfs);
        /* the premade one: its job ran before this one, on this thread */
        int made = pm && pm->job.started && i < ELEMENTSOF(pm->mfd) ? TAKE_FD(pm->mfd[i]) : -EBADF;

        if (atomic_load(&f->cancel)) {
                closep(&made);  /* (back to its slot would do too: all end with the hook) */
                return 0;
        }
        f->mfd = fill_tmpfs(f->plan, f->tmpfs, made, f->src, true, &f->cancel, &j->err);
        return f->mfd < 0 ? f->mfd : 0;
}

/* The copy-up of /run is the longest step of the hook (on a fresh overlay
 * every entry is a cold lookup): started first, on the worker, from the
 * image's /run as the host sees it, so that it runs during the init proof
 * and the checks.  The copy is used only if mounts_apply()'s target, found
 * in the container's namespace with every check, is that very directory
 * (take_fill()); else it is dropped and /run copied there. */
void mounts_start_fill(struct apply_ctx *ctx, int host_rootfd)
{
        const struct plan *p = ctx->plan;
        const struct plan_tmpfs *t = NULL;
        struct stat st;
        size_t i;
        int fd;

        if (p->spec_run_tmpfs || host_rootfd < 0)
                return;
        for (i = 0; i < p->n_tmpfs; i++)
                if (!p->tmpfs[i].skip && streq(p->tmpfs[i].destination, "/run"))
                        t = &p->tmpfs[i];
        if (!t || !t->copyup)
                return;
        fd = fs_open_in_root(host_rootfd, t->destination, FS_NOFOLLOW, NULL);
        if (fd < 0)
                return;
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                (void)close(fd);
                return;
        }
        ctx->fill.plan = p;
        ctx->fill.tmpfs = t;
        ctx->fill.src = fd;
        ctx->fill.dev = st.st_dev;
        ctx->fill.ino = st.st_ino;
        ctx->fill.premade = ctx->premade;
        job_start(&ctx->fill.job, fill_job_run);
}

/* The filled tmpfs for T, if it was filled from TARGET itself, as the
 * container sees it: the same inode (a mount the host has there and the
 * namespace does not, or the other way round, makes another directory of
 * it) on a mount that shows owners as they are (an idmapped rootfs shows
 * the container other ones than the host's view had: and so with an
 * unknown mount, before Linux 6.8).  The fill's error if it failed on it;
 * -EBADF for no copy (made here then). */
static int take_fill(struct apply_ctx *ctx, const struct plan_tmpfs *t, int target, hook_error_t *err)
{
        struct fill_job *f = &ctx->fill;
        uint64_t attr = 0;
        struct stat st;
        int r;

        if (!f->job.started || f->tmpfs != t)
                return -EBADF;
        r = job_wait(&f->job, err);
        if (fstat(target, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino ||
            mountlist_attr(target, &attr) < 0 || (attr & MOUNT_ATTR_IDMAP)) {
                closep(&f->mfd);
                return -EBADF;
        }
        return r < 0 ? r : TAKE_FD(f->mfd);
}

/* Mount one tmpfs on its destination, on the boundary; returns an fd on
 * its root, or -EXDEV when the destination is on another mount. */
static int apply_tmpfs(struct apply_ctx *ctx, struct undo *u, const struct plan_tmpfs *t, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int target = -EBADF, mfd = -EBADF;
        _cleanup_(submounts_done) struct submounts sm = {};
        bool existed = true;
        uint64_t id;
        int r;

        target = open_dir_in_root(ctx->rootfd, t->destination, FS_OWN_MOUNT, err);
        if (target == -ENOENT) {
                existed = false;
                target = open_dir_in_root(ctx->rootfd, t->destination, FS_MKDIR | FS_OWN_MOUNT, err);
        }
        if (target < 0)
                return target;
        if ((r = find_submounts(ctx, target, &sm, err)) < 0)
                return r;
        mfd = take_fill(ctx, t, target, err);
        if (mfd == -EBADF)
                mfd = fill_tmpfs(p, t, take_premade(ctx, t), target, existed, NULL, err);
        if (mfd < 0)
                return mfd;
        if ((r = attach(ctx, u, mfd, target, t->destination, err)) < 0)
                return r;
        if (fs_mount_id(mfd, "", &id) == 0)
                fs_boundary_add(&ctx->boundary, id);
        r = move_submounts(mfd, t->destination, &sm, err);
        return r < 0 ? r : TAKE_FD(mfd);
}

struct tmpfs_fds {
        int run;        /* /run: ours, or the spec's own tmpfs */
        int marker;     /* where the done marker lives */
};

/* The spec's own tmpfs at /run (containerd's default spec, --tmpfs /run),
 * or a volume there that is a tmpfs of the container's own (RUN_VOLUME_TMPFS):
 * prepared inside, unless it is not what it should be. */
static int spec_run_tmpfs(struct apply_ctx *ctx, hook_error_t *err)
{
        _cleanup_close_ int fd = open_dir_in_root(ctx->rootfd, "/run", 0, err);
        bool volume = ctx->plan->run == RUN_VOLUME_TMPFS;
        struct statfs sfs;
        uint64_t id = 0;

        if (fd < 0)
                return fd;
        if (!fs_is_mount_root(fd, "") || fstatfs(fd, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC ||
            fs_mount_id(fd, "", &id) < 0 || (volume && (id != ctx->run_mnt_id || !ctx->run_whole_rw)))
                return hook_error_set(err, EPERM, "the %s at /run is not a %stmpfs%s; systemd needs /run on a tmpfs "
                                      "of the container's own", volume ? "volume" : "spec's mount",
                                      volume ? "whole, writable " : "", volume ? " (only the top of a tmpfs is "
                                      "the container's own)" : "");
        if (is_shared(ctx, id))
                return hook_error_set(err, EPERM, "the mount at /run has shared propagation: what the hook and "
                                      "systemd mount there would appear in other mount namespaces; use `slave` or "
                                      "`private` propagation for it");
        fs_boundary_add(&ctx->boundary, id);
        return TAKE_FD(fd);
}

/* The plan's tmpfs in its order, either those on /run (/run itself and
 * below) or the others: the others first, and what waits for /run's
 * fill (mounts_start_fill()) in between. */
static int apply_tmpfs_set(struct apply_ctx *ctx, struct undo *u, bool on_run, struct tmpfs_fds *ret,
                           hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        size_t i;

        for (i = 0; i < p->n_tmpfs; i++) {
                const char *dest = p->tmpfs[i].destination;
                int fd;

                if (p->tmpfs[i].skip || (streq(dest, "/run") || under(dest, "/run")) != on_run)
                        continue;
                fd = apply_tmpfs(ctx, u, &p->tmpfs[i], err);
                if (fd == -EXDEV && !streq(dest, "/run")) {
                        /* A volume there keeps what systemd writes. */
                        warn(ctx, "no tmpfs on `%s`: %s; leaving that mount alone", dest, err->msg);
                        continue;
                }
                if (fd == -EXDEV)
                        return hook_error_prefix(err, "tmpfs on `/run` (systemd needs a /run of its own)");
                if (fd < 0)
                        return hook_error_prefix(err, "tmpfs on `%s`", dest);
                if (streq(dest, "/run"))
                        ret->run = fd;
                else if (ret->marker < 0)
                        ret->marker = fd;
                else
                        (void)close(fd);
        }
        if (on_run && ret->run >= 0) {
                closep(&ret->marker);
                ret->marker = fcntl(ret->run, F_DUPFD_CLOEXEC, 3);
        }
        return 0;
}

/* /etc on the boundary, or -EXDEV. */
static int open_etc(struct apply_ctx *ctx, hook_error_t *err)
{
        return open_dir_in_root(ctx->rootfd, "/etc", FS_MKDIR | FS_OWN_MOUNT, err);
}

/* A writable rootfs's /etc/machine-id in two steps: staged on the worker
 * after /run's fill (on overlayfs the first write in /etc copies it up,
 * the slowest step after the fill), committed (renamed) last, as it
 * replaces a file of the image.  Unstaged on failure (apply_ctx_done()),
 * /etc's times put back.  On the worker: no fsutil state of the caller's
 * (FS_MKDIR, the shared boundary); what needs those is left to the
 * caller's stage_machine_id() (MID_LATER). */
#define MID_LATER 1

static int stage_machine_id(struct apply_ctx *ctx, bool worker, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        struct mid_job *m = &ctx->mid;
        _cleanup_close_ int etc = -EBADF, cur = -EBADF;
        char want[MACHINE_ID_LEN + 2], have[MACHINE_ID_LEN + 3] = {};
        struct statx x;
        struct stat st;
        int r;

        if (p->mid_method != MID_WRITE)
                return 0;
        (void)snprintf(want, sizeof(want), "%s\n", p->machine_id);
        /* a missing /etc is made by the caller (FS_MKDIR) */
        etc = worker ? open_dir_within(ctx->rootfd, "/etc", FS_OWN_MOUNT, &m->boundary, err) : open_etc(ctx, err);
        if (worker && etc == -ENOENT)
                return MID_LATER;
        if (etc < 0)
                return etc;
        if (fstatat(etc, "machine-id", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        return hook_error_set(err, EISDIR, "/etc/machine-id in the rootfs is a directory");
                /* Same content already (restore, second run): leave it. */
                if (S_ISREG(st.st_mode) &&
                    (cur = openat(etc, "machine-id", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
                    read(cur, have, sizeof(have) - 1) == (ssize_t)strlen(want) && streq(have, want))
                        return 0;
        }
        if (statx(etc, "", AT_EMPTY_PATH, STATX_ATIME | STATX_MTIME, &x) < 0)
                return hook_error_set(err, errno, "stat /etc: %s", strerror(errno));
        /* rename() over whatever is there: a symlink, FIFO, device or a
         * hard link is replaced as an entry, never written through. */
        r = fs_stage_file_at(etc, "machine-id", want, 0444, owner_uid(p), owner_gid(p), m->tmp, err);
        if (r < 0)
                return r;
        m->times[0] = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
        m->times[1] = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
        m->etc = TAKE_FD(etc);
        return 0;
}

static int mid_job_run(struct job *j)
{
        struct mid_job *m = (struct mid_job *)j;

        return stage_machine_id(m->ctx, true, &j->err);
}

/* After mounts_check(): the worker stages the machine-id after the fill. */
void mounts_start_stage(struct apply_ctx *ctx)
{
        if (ctx->done || ctx->running || ctx->plan->mid_method != MID_WRITE)
                return;
        ctx->mid.ctx = ctx;
        ctx->mid.boundary = ctx->boundary;      /* the rootfs's mount only, so far */
        job_start(&ctx->mid.job, mid_job_run);
}

static int commit_machine_id(struct apply_ctx *ctx, hook_error_t *err)
{
        struct mid_job *m = &ctx->mid;
        int r = m->job.started ? job_wait(&m->job, err) : stage_machine_id(ctx, false, err);

        if (r == MID_LATER)
                r = stage_machine_id(ctx, false, err);
        if (r < 0 || m->etc < 0)
                return r;
        r = fs_commit_file_at(m->etc, "machine-id", m->tmp, err);
        if (r >= 0)
                closep(&m->etc);        /* done: nothing to undo */
        return r;
}

static int bind_machine_id(struct apply_ctx *ctx, struct undo *u, int runfd, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int etc = -EBADF, target = -EBADF, clone = -EBADF;
        char want[MACHINE_ID_LEN + 2];
        struct stat st;
        int r;

        (void)snprintf(want, sizeof(want), "%s\n", p->machine_id);
        etc = open_etc(ctx, err);
        if (etc < 0)
                return etc;
        target = openat(etc, "machine-id", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0 && errno == ENOENT) {
                /* The rootfs is still writable at this point; runtimes make it
                 * read-only after the hooks. An empty file is a mount point. */
                int fd = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
                if (fd >= 0) {
                        (void)close(fd);
                        fs_created_record(&u->created, etc, "machine-id", false);
                }
                target = openat(etc, "machine-id", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (target < 0)
                return hook_error_set(err, errno, "open /etc/machine-id: %s", strerror(errno));
        if (fstat(target, &st) < 0 || !S_ISREG(st.st_mode))
                return hook_error_set(err, EINVAL, "/etc/machine-id in the rootfs is not a regular file");
        if (fs_is_mount_root(target, ""))
                return 0;
        r = fs_write_file_at(runfd, "machine-id", want, 0444, owner_uid(p), owner_gid(p), err);
        if (r < 0)
                return r;
        clone = clone_tree(runfd, "machine-id", true, err);
        if (clone < 0)
                return clone;
        return attach(ctx, u, clone, target, "/etc/machine-id", err);
}

/* A file of ours, bound read-only onto itself (as nspawn's /run/host). */
static int write_readonly(struct apply_ctx *ctx, struct undo *u, int dirfd, const char *name, const char *data,
                          hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int target = -EBADF, clone = -EBADF;
        int r = fs_write_file_at(dirfd, name, data, 0444, owner_uid(p), owner_gid(p), err);

        if (r < 0)
                return r;
        target = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return hook_error_set(err, errno, "open `%s`: %s", name, strerror(errno));
        clone = clone_tree(dirfd, name, true, err);
        return clone < 0 ? clone : attach(ctx, u, clone, target, name, err);
}

static int write_run_host(struct apply_ctx *ctx, struct undo *u, int runfd, int *ret_host, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int host = -EBADF;
        const char *m = p->machine_id;
        char uuid[40];
        int r;

        if (mkdirat(runfd, "host", 0755) < 0 && errno != EEXIST)
                return hook_error_set(err, errno, "mkdir /run/host: %s", strerror(errno));
        if (p->userns)
                (void)fchownat(runfd, "host", p->uid, p->gid, AT_SYMLINK_NOFOLLOW);
        host = openat(runfd, "host", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (host < 0)
                return hook_error_set(err, errno, "open /run/host: %s", strerror(errno));
        (void)snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s\n", m, m + 8, m + 12, m + 16, m + 20);
        r = fs_write_file_at(host, "container-manager", "oci-systemd-hook\n", 0444, owner_uid(p), owner_gid(p), err);
        if (r >= 0)
                r = fs_write_file_at(host, "container-uuid", uuid, 0444, owner_uid(p), owner_gid(p), err);
        if (r >= 0 && ctx->os_release)
                r = write_readonly(ctx, u, host, "os-release", ctx->os_release, err);
        if (r >= 0)
                *ret_host = TAKE_FD(host);
        return r;
}

/* mkdir -p of PATH (relative, a few components) below DIRFD, owned by the
 * container's root; returns an O_PATH fd on the last one. */
static int mkdirs_at(int dirfd, const char *path, const struct plan *p, hook_error_t *err)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *comp, *save = NULL;
        int dir = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);

        for (comp = strtok_r(copy, "/", &save); dir >= 0 && comp; comp = strtok_r(NULL, "/", &save)) {
                int next;
                if (mkdirat(dir, comp, 0755) == 0 && p->userns)
                        (void)fchownat(dir, comp, p->uid, p->gid, AT_SYMLINK_NOFOLLOW);
                next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                (void)close(dir);
                dir = next;
        }
        if (dir < 0)
                return hook_error_set(err, errno, "/run/%s: %s", path, strerror(errno));
        return dir;
}

#define LOGS_UNIT "oci-systemd-hook-logs.service"

/* Unit logs in the engine's log (docker logs, kubectl logs, podman logs),
 * without changing the image: runtime files on our /run.  With a terminal,
 * journald forwards to the console (it forwards only to terminals).  With
 * a FIFO, a runtime unit follows the journal into it. */
static int write_logs(struct apply_ctx *ctx, struct undo *u, int runfd, int hostfd, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int dir = -EBADF, target = -EBADF, wants = -EBADF, probe = -EBADF;
        const char *journalctl = "/usr/bin/journalctl";
        char text[768];
        int r;

        if (!ctx->logs_to || runfd < 0 || hostfd < 0)
                return 0;
        if (ctx->logs_clone < 0) {
                dir = mkdirs_at(runfd, "systemd/journald.conf.d", p, err);
                if (dir < 0)
                        return dir;
                (void)snprintf(text, sizeof(text),
                               "# oci-systemd-hook (oci-systemd-hook.logs=true): unit logs on the console\n"
                               "[Journal]\nForwardToConsole=yes\nTTYPath=%s\nMaxLevelConsole=info\n", ctx->logs_to);
                return fs_write_file_at(dir, "50-oci-systemd-hook.conf", text, 0444, owner_uid(p), owner_gid(p), err);
        }
        /* the FIFO, on an empty file of ours */
        r = fs_write_file_at(hostfd, "stdout", "", 0600, owner_uid(p), owner_gid(p), err);
        if (r < 0)
                return r;
        target = openat(hostfd, "stdout", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return hook_error_set(err, errno, "open /run/host/stdout: %s", strerror(errno));
        if ((r = attach(ctx, u, ctx->logs_clone, target, "/run/host/stdout", err)) < 0)
                return r;
        /* an image without the /usr merge has it in /bin */
        probe = fs_open_in_root(ctx->rootfd, journalctl, 0, NULL);
        if (probe < 0)
                journalctl = "/bin/journalctl";
        dir = mkdirs_at(runfd, "systemd/system", p, err);
        if (dir < 0)
                return dir;
        (void)snprintf(text, sizeof(text),
                       "# oci-systemd-hook (oci-systemd-hook.logs=true): the journal in the engine's log\n"
                       "[Unit]\nDescription=Journal to the container engine's log\nDefaultDependencies=no\n"
                       "After=systemd-journald.socket\nBefore=shutdown.target\nConflicts=shutdown.target\n"
                       "[Service]\nExecStart=%s --follow --boot --lines=all --output=short --no-hostname\n"
                       "StandardOutput=append:/run/host/stdout\nStandardError=null\nRestart=always\nRestartSec=1\n",
                       journalctl);
        if ((r = fs_write_file_at(dir, LOGS_UNIT, text, 0444, owner_uid(p), owner_gid(p), err)) < 0)
                return r;
        wants = mkdirs_at(dir, "sysinit.target.wants", p, err);
        if (wants < 0)
                return wants;
        if (symlinkat("../" LOGS_UNIT, wants, LOGS_UNIT) < 0 && errno != EEXIST)
                return hook_error_set(err, errno, "enable " LOGS_UNIT ": %s", strerror(errno));
        return 0;
}

/* A fresh boot ID for this start, over the container's own procfs file
 * (nspawn's setup_boot_id): journalctl --list-boots sees a new boot, and
 * no two containers share one.  The host's file is never written. */
static int apply_boot_id(struct apply_ctx *ctx, struct undo *u, int hostfd, hook_error_t *err)
{
        _cleanup_close_ int target = -EBADF, clone = -EBADF;
        const char *path = "/proc/sys/kernel/random/boot_id";
        struct statfs sfs;
        uint64_t id = 0;
        int r;

        if (!ctx->boot_id || hostfd < 0)
                return 0;
        target = fs_open_in_root(ctx->rootfd, path, FS_NO_SYMLINKS, err);
        if (target < 0 || fstatfs(target, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC ||
            fs_mount_id(target, "", &id) < 0 || (id != ctx->proc_mnt_id && id != ctx->proc_sys_mnt_id)) {
                /* not the container's own procfs: leave it */
                warn(ctx, "no fresh boot ID: `%s` is not on the container's procfs", path);
                return 0;
        }
        if ((r = fs_write_file_at(hostfd, "boot-id", ctx->boot_id, 0444, owner_uid(ctx->plan), owner_gid(ctx->plan),
                                  err)) < 0)
                return r;
        clone = clone_tree(hostfd, "boot-id", true, err);
        return clone < 0 ? clone : attach(ctx, u, clone, target, path, err);
}

/* The controllers systemd delegates to its units, where the container's
 * cgroup has them: enabled for the payload, as systemd would have done it
 * on its root.  Best effort: without them systemd boots, unaccounted. */
static void enable_controllers(int dirfd)
{
        static const char *const want[] = { "cpu", "io", "memory", "pids" };
        _cleanup_close_ int fd = openat(dirfd, "cgroup.controllers", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        char have[512] = {}, *tok, *save = NULL;
        size_t i;

        if (fd < 0 || read(fd, have, sizeof(have) - 1) <= 0)
                return;
        for (tok = strtok_r(have, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
                for (i = 0; i < ELEMENTSOF(want); i++)
                        if (streq(tok, want[i])) {
                                _cleanup_close_ int sc = openat(dirfd, "cgroup.subtree_control",
                                                                O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                                char cmd[16];
                                (void)snprintf(cmd, sizeof(cmd), "+%s", tok);
                                if (sc >= 0)
                                        (void)!write(sc, cmd, strlen(cmd));
                        }
}

/* Without a cgroup namespace (no payload): every writable interface file
 * of the runtime's cgroup but the delegated ones gets a read-only bind of
 * itself.  Residual risk: a file a controller toggle creates later is not
 * covered (README, Security). */
static int protect_limit_files(struct apply_ctx *ctx, struct undo *u, int hostdir, int mounted, hook_error_t *err)
{
        _cleanup_close_ int dfd = openat(hostdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (dfd < 0 || !(d = fdopendir(dfd)))
                return hook_error_set(err, errno, "listing the cgroup: %s", strerror(errno));
        dfd = -EBADF;
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_close_ int clone = -EBADF, target = -EBADF;
                struct stat st;

                if (de->d_name[0] == '.' || cg_delegated_file(de->d_name))
                        continue;
                if (fstatat(mounted, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    !(st.st_mode & 0222))
                        continue;
                target = openat(mounted, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (target < 0)
                        continue;
                if (fs_is_mount_root(target, ""))
                        continue;
                clone = clone_tree(mounted, de->d_name, true, err);
                r = clone < 0 ? clone : attach(ctx, u, clone, target, de->d_name, err);
        }
        closedir(d);
        return r;
}


/* ----------------------------------------------------------- privileged */

static bool in_tree(const char *rel, const char *top)
{
        return streq(rel, top) || under(rel, top);
}

static bool mount_readonly(int fd)
{
        struct statvfs sv;
        return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* /sys and what the runtime mounted below it, read-only; the cgroup
 * mounts stay as apply_cgroup() made them (the container's own).  Flags
 * of mounts of the container's namespace (mount_setattr, not a remount):
 * no superblock changes, no other namespace sees it. */
static int readonly_sys(struct apply_ctx *ctx, struct undo *u, hook_error_t *err)
{
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        size_t i;

        if (!ctx->plan->readonly_sys)
                return 0;
        for (i = 0; i < ctx->n_sub; i++) {
                const char *rel = ctx->sub[i];
                int fd;

                if (!in_tree(rel, "/sys") || in_tree(rel, "/sys/fs/cgroup") || (i > 0 && streq(rel, ctx->sub[i - 1])))
                        continue;
                fd = fs_open_in_root(ctx->rootfd, rel, FS_NO_SYMLINKS, NULL);
                if (fd < 0 || !fs_is_mount_root(fd, "") || mount_readonly(fd) ||
                    u->n_made_ro >= ELEMENTSOF(u->made_ro)) {
                        closep(&fd);
                        continue;
                }
                if (mount_setattr(fd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
                        int e = errno;
                        (void)close(fd);
                        return hook_error_set(err, e, "making `%s` read-only: %s", rel, strerror(e));
                }
                u->made_ro[u->n_made_ro++] = fd;
        }
        return 0;
}

/* /proc/sys read-only (as nspawn), a read-only bind of itself on the
 * container's own procfs; /proc/sys/net stays writable with a network
 * namespace of the container's own.  Before the boot ID, which binds a
 * file below it. */
static int readonly_proc_sys(struct apply_ctx *ctx, struct undo *u, hook_error_t *err)
{
        _cleanup_close_ int sys = -EBADF, net = -EBADF, clone = -EBADF, netclone = -EBADF;
        uint64_t id = 0;
        int r;

        if (!ctx->plan->readonly_sys)
                return 0;
        sys = fs_open_in_root(ctx->rootfd, "/proc/sys", FS_NO_SYMLINKS, NULL);
        if (sys < 0 || fs_mount_id(sys, "", &id) < 0 || id != ctx->proc_mnt_id || !ctx->proc_mnt_id) {
                warn(ctx, "%s", "/proc/sys left as it is: not on the container's own procfs");
                return 0;
        }
        if (mount_readonly(sys))
                return 0;
        if (ctx->plan->netns) {
                net = openat(sys, "net", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (net >= 0 && (netclone = clone_tree(net, "", false, err)) < 0)
                        return netclone;
        }
        clone = clone_tree(sys, "", true, err);
        if (clone < 0)
                return clone;
        if ((r = attach(ctx, u, clone, sys, "/proc/sys", err)) < 0)
                return r;
        (void)fs_mount_id(clone, "", &ctx->proc_sys_mnt_id);   /* the boot ID goes on it */
        if (netclone < 0)
                return 0;
        closep(&net);
        net = fs_open_in_root(ctx->rootfd, "/proc/sys/net", FS_NO_SYMLINKS, err);
        return net < 0 ? net : attach(ctx, u, netclone, net, "/proc/sys/net", err);
}

/* The runtime's /dev, when it is a tmpfs of the container's own (not
 * shared, the spec's fresh tmpfs): the host's VT, vcs and console nodes
 * removed, so no getty and no udev rule reaches the host's screen.  A
 * node the runtime bind-mounted (user namespaces) is unmounted first. */
static int hide_node(struct undo *u, int dev, const char *name, const struct stat *st, uint64_t dev_mnt,
                     hook_error_t *err)
{
        _cleanup_close_ int node = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct hidden_node *h;
        uint64_t id = 0;
        char path[64];

        if (node < 0 || fs_mount_id(node, "", &id) < 0)
                return hook_error_set(err, errno, "/dev/%s: %s", name, strerror(errno));
        u->hidden = xrealloc(u->hidden, (u->n_hidden + 1) * sizeof(*u->hidden));
        h = &u->hidden[u->n_hidden];
        (void)snprintf(h->name, sizeof(h->name), "%s", name);
        h->st = *st;
        h->clone = -EBADF;
        if (id != dev_mnt) {
                h->clone = open_tree(dev, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
                (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", node);
                if (h->clone < 0 || umount2(path, MNT_DETACH) < 0) {
                        int e = errno;
                        closep(&h->clone);
                        return hook_error_set(err, e, "unmounting /dev/%s: %s", name, strerror(e));
                }
        }
        u->n_hidden++;
        if (unlinkat(dev, name, 0) < 0)
                return hook_error_set(err, errno, "removing /dev/%s: %s", name, strerror(errno));
        return 0;
}

/* Whatever /dev holds: no getty on a VT (getty@.service, autovt@ its
 * alias, starts when /dev/tty0 exists), a drop-in on our /run. */
static int no_vt_gettys(struct apply_ctx *ctx, int runfd, hook_error_t *err)
{
        _cleanup_close_ int dir = -EBADF;

        if (runfd < 0)
                return 0;
        dir = mkdirs_at(runfd, "systemd/system/getty@.service.d", ctx->plan, err);
        if (dir < 0)
                return dir;
        return fs_write_file_at(dir, "50-oci-systemd-hook.conf",
                                "# oci-systemd-hook (oci-systemd-hook.hide-host-ttys): the VTs are the host's\n"
                                "[Unit]\nConditionVirtualization=!container\n",
                                0444, owner_uid(ctx->plan), owner_gid(ctx->plan), err);
}

static int hide_host_ttys(struct apply_ctx *ctx, struct undo *u, int runfd, hook_error_t *err)
{
        _cleanup_close_ int dev = -EBADF, list = -EBADF;
        struct statfs sfs;
        struct dirent *de;
        uint64_t id = 0;
        DIR *d;
        int r = 0;

        if (!ctx->plan->hide_ttys)
                return 0;
        if ((r = no_vt_gettys(ctx, runfd, err)) < 0)
                return r;
        dev = fs_open_in_root(ctx->rootfd, "/dev", FS_NO_SYMLINKS, NULL);
        if (dev < 0 || !ctx->plan->spec_dev_tmpfs || !fs_is_mount_root(dev, "") || fstatfs(dev, &sfs) < 0 ||
            sfs.f_type != TMPFS_MAGIC || fs_mount_id(dev, "", &id) < 0 || is_shared(ctx, id)) {
                warn(ctx, "%s", "not hiding the host's VTs: /dev is not a tmpfs of the container's own");
                return 0;
        }
        list = openat(dev, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (list < 0 || !(d = fdopendir(list)))
                return hook_error_set(err, errno, "listing /dev: %s", strerror(errno));
        list = -EBADF;
        u->devfd = fcntl(dev, F_DUPFD_CLOEXEC, 3);
        while (r >= 0 && (de = readdir(d))) {
                struct stat st;

                if (de->d_type != DT_CHR && de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
                        continue;
                if (fstatat(dev, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISCHR(st.st_mode) ||
                    !plan_host_vt_node(major(st.st_rdev), minor(st.st_rdev)))
                        continue;
                r = hide_node(u, dev, de->d_name, &st, id, err);
        }
        closedir(d);
        return r;
}

static int apply_cgroup(struct apply_ctx *ctx, struct undo *u, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        bool unified = ctx->cgroup == CG_ACT_UNIFIED, payload = unified && p->cg_payload;
        const char *dest = unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/systemd";
        _cleanup_close_ int target = -EBADF, inner = -EBADF;
        int r;

        if (ctx->cgroup == CG_ACT_NONE)
                return 0;
        /* The runtime's mount there (no symlink on the way); always stack
         * our bind: crun mounts it rw and makes it read-only after the
         * hooks, by its own fd. */
        target = open_dir_in_root(ctx->rootfd, dest, FS_NO_SYMLINKS, err);
        if (target < 0)
                return target;
        if (payload) {
                if ((r = write_pid(ctx->cg_payload, "cgroup.procs", ctx->pid)) < 0)
                        return hook_error_set(err, -r, "moving the container into its payload cgroup: %s",
                                              strerror(-r));
                ctx->cg_moved = true;
        }
        if (p->userns && (r = chown_cgroup(payload ? ctx->cg_payload : ctx->cg_dirfd, p, err)) < 0)
                return r;
        if ((r = attach(ctx, u, ctx->cg_clone, target, dest, err)) < 0 || !unified)
                return r;
        if (!payload)
                return protect_limit_files(ctx, u, ctx->cg_dirfd, ctx->cg_clone, err);
        inner = openat(ctx->cg_clone, CG_PAYLOAD, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inner < 0)
                return hook_error_set(err, errno, "the payload cgroup in the bind: %s", strerror(errno));
        return attach(ctx, u, ctx->cg_payload_clone, inner, "/sys/fs/cgroup/" CG_PAYLOAD, err);
}

/* JOURNAL_ROOT/MACHINE-ID on /var/log/journal/MACHINE-ID of our tmpfs. */
static int apply_journal_link(struct apply_ctx *ctx, struct undo *u, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int journal = -EBADF, target = -EBADF;

        if (ctx->journal_clone < 0)
                return 0;
        journal = open_dir_in_root(ctx->rootfd, "/var/log/journal", FS_OWN_MOUNT, err);
        if (journal < 0)
                return journal;
        if (mkdirat(journal, p->machine_id, 02755) < 0 && errno != EEXIST)
                return hook_error_set(err, errno, "mkdir /var/log/journal/%s: %s", p->machine_id, strerror(errno));
        target = openat(journal, p->machine_id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return hook_error_set(err, errno, "/var/log/journal/%s: %s", p->machine_id, strerror(errno));
        return attach(ctx, u, ctx->journal_clone, target, "/var/log/journal/MACHINE-ID", err);
}

static int apply_machine_id(struct apply_ctx *ctx, struct undo *u, int runfd, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        int r = 0;

        if (p->mid_method == MID_WRITE)
                r = commit_machine_id(ctx, err);
        else if (p->mid_method == MID_BIND_FROM_RUN && runfd >= 0)
                r = bind_machine_id(ctx, u, runfd, err);
        if (r == -EXDEV) {
                warn(ctx, "not setting /etc/machine-id: %s", err->msg);
                return 0;
        }
        return r;
}

static int apply_all(struct apply_ctx *ctx, struct undo *u, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        struct tmpfs_fds fds = { -EBADF, -EBADF };
        _cleanup_close_ int host = -EBADF;
        char marker[64];
        int r;

        /* first: /run/lock goes on it */
        if (p->spec_run_tmpfs && (fds.run = spec_run_tmpfs(ctx, err)) < 0)
                r = hook_error_prefix(err, "/run");
        else
                r = apply_tmpfs_set(ctx, u, false, &fds, err);
        /* (while /run may still be filling) */
        if (r >= 0 && (r = apply_cgroup(ctx, u, err)) < 0)
                r = hook_error_prefix(err, "cgroup");
        if (r >= 0)
                r = apply_tmpfs_set(ctx, u, true, &fds, err);
        if (r >= 0 && p->run_host && fds.run >= 0 && (r = write_run_host(ctx, u, fds.run, &host, err)) < 0)
                r = hook_error_prefix(err, "/run/host");
        if (r >= 0 && (r = readonly_proc_sys(ctx, u, err)) < 0)
                r = hook_error_prefix(err, "/proc/sys");
        if (r >= 0 && (r = apply_boot_id(ctx, u, host, err)) < 0)
                r = hook_error_prefix(err, "boot ID");
        if (r >= 0 && (r = write_logs(ctx, u, fds.run, host, err)) < 0)
                r = hook_error_prefix(err, "unit logs");
        if (r >= 0 && (r = apply_journal_link(ctx, u, err)) < 0)
                r = hook_error_prefix(err, "journal");
        if (r >= 0 && (r = readonly_sys(ctx, u, err)) < 0)
                r = hook_error_prefix(err, "/sys");
        if (r >= 0 && (r = hide_host_ttys(ctx, u, fds.run, err)) < 0)
                r = hook_error_prefix(err, "host VTs");
        /* Last: on a writable rootfs it replaces a file of the image. */
        if (r >= 0 && (r = apply_machine_id(ctx, u, fds.run, err)) < 0)
                r = hook_error_prefix(err, "machine-id");
        marker_text(marker);
        if (r >= 0 && fds.marker >= 0)
                r = fs_write_file_at(fds.marker, DONE_MARKER, marker, 0444, (uid_t)-1, (gid_t)-1, err);
        closep(&fds.run);
        closep(&fds.marker);
        return r;
}

int mounts_apply(struct apply_ctx *ctx, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        struct undo u = { .devfd = -EBADF };
        int r;

        if (p->userns)
                fs_set_mkdir_owner(p->uid, p->gid);
        fs_set_boundary(&ctx->boundary);
        fs_set_created_log(&u.created);
        r = apply_all(ctx, &u, err);
        fs_set_created_log(NULL);
        fs_set_boundary(NULL);
        undo_run(&u, r < 0);
        if (r >= 0) {
                ctx->committed = true;
                if (ctx->cg_payload >= 0)
                        enable_controllers(ctx->cg_dirfd);
        }
        return r;
}
