/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The executor: the only file that mounts.  Every target is an O_PATH fd
 * resolved inside the rootfs (fsutil.c); mounts are made with the new mount
 * API (Linux 5.2, mount_setattr 5.12) and attached with move_mount() onto
 * that fd, so no path string is resolved at mount time and an image
 * symlink swapped in after the check cannot redirect anything. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "copyup.h"
#include "fsutil.h"
#include "mounts.h"

void apply_ctx_init(struct apply_ctx *ctx, const struct plan *p)
{
        memset(ctx, 0, sizeof(*ctx));
        ctx->plan = p;
        ctx->cgroup = p->cgroup;
        ctx->cg_dirfd = ctx->cg_clone = -EBADF;
}

void apply_ctx_done(struct apply_ctx *ctx)
{
        closep(&ctx->cg_dirfd);
        closep(&ctx->cg_clone);
        free(ctx->cg_path);
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

int mounts_prepare_host(struct apply_ctx *ctx, pid_t pid, hook_error_t *err)
{
        int r;

        if (ctx->cgroup == CG_ACT_NONE)
                return 0;
        r = cg_open_own(pid, &ctx->cgroup, &ctx->cg_dirfd, &ctx->cg_path, err);
        if (r < 0)
                return hook_error_prefix(err, "finding the container's cgroup");
        /* CVE-2022-0492: a v1 hierarchy root (release_agent) is never ours. */
        if (faccessat(ctx->cg_dirfd, "release_agent", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return hook_error_set(err, EPERM, "the container's cgroup holds release_agent; refusing");
        r = clone_tree(ctx->cg_dirfd, "", false, err);
        if (r < 0)
                return hook_error_prefix(err, "cloning the container's cgroup");
        ctx->cg_clone = r;
        return 0;
}

static int attach(int mfd, int targetfd, const char *what, hook_error_t *err)
{
        if (move_mount(mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return hook_error_set(err, errno, "attaching the mount on `%s`: %s", what, strerror(errno));
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
        if ((r = fsconfig_str(fsfd, "source", "tmpfs", err)) < 0 || (r = fsconfig_str(fsfd, "mode", t->mode, err)) < 0 || (r = fsconfig_str(fsfd, "size", t->size, err)) < 0 ||
            (r = fsconfig_str(fsfd, "nr_inodes", t->nr_inodes, err)) < 0)
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

static int open_dir_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err)
{
        struct stat st;
        int fd = fs_open_in_root(rootfd, path, flags | FS_NOFOLLOW, err);

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                (void)close(fd);
                return hook_error_set(err, ENOTDIR, "`%s` in the rootfs is not a directory", path);
        }
        return fd;
}

/* Mounts the runtime already made below a tmpfs destination (podman's
 * /run/.containerenv and volumes, Kubernetes' /run/secrets through
 * /var/run): their mount points, relative to the rootfs, outermost only. */
struct submounts {
        char **rel;
        int *fd;        /* opened before the tmpfs covers them */
        size_t n;
};

static void submounts_done(struct submounts *sm)
{
        while (sm->n > 0) {
                sm->n--;
                free(sm->rel[sm->n]);
                if (sm->fd)
                        closep(&sm->fd[sm->n]);
        }
        free(sm->rel);
        free(sm->fd);
}

static bool under(const char *path, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(path, prefix, l) == 0 && path[l] == '/';
}

static int find_submounts(int target, const char *rootfs, struct submounts *sm, hook_error_t *err)
{
        _cleanup_free_ char *mi = NULL, *prefix = NULL;
        _cleanup_close_ int fd = -EBADF;
        char link[64], buf[PATH_MAX];
        size_t len, i, keep = 0;
        ssize_t n;
        char *line, *save = NULL;

        (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", target);
        n = readlink(link, buf, sizeof(buf) - 1);
        fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (n < 0 || fd < 0)
                return hook_error_set(err, errno, "reading the container's mount table: %s", strerror(errno));
        buf[n] = '\0';
        prefix = xstrdup(buf);
        if (read_fd_capped(fd, 16u << 20, &mi, &len, err) < 0)
                return hook_error_prefix(err, "mountinfo");
        for (line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char mp[PATH_MAX];
                /* field 5 is the mount point; paths with blanks are escaped
                 * and cannot match our unescaped prefix: they are skipped. */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && under(mp, prefix) && under(mp, rootfs)) {
                        sm->rel = xrealloc(sm->rel, (sm->n + 1) * sizeof(*sm->rel));
                        sm->rel[sm->n++] = xstrdup(mp + strlen(rootfs));
                }
        }
        if (sm->n > 1)
                qsort(sm->rel, sm->n, sizeof(*sm->rel), strcmp_ptrs);
        /* Moving a mount moves what is mounted below it: keep the outermost. */
        for (i = 0; i < sm->n; i++) {
                if (keep > 0 && (under(sm->rel[i], sm->rel[keep - 1]) || streq(sm->rel[i], sm->rel[keep - 1]))) {
                        free(sm->rel[i]);
                        continue;
                }
                sm->rel[keep++] = sm->rel[i];
        }
        sm->n = keep;
        sm->fd = xcalloc(sm->n, sizeof(*sm->fd));
        for (i = 0; i < sm->n; i++)
                sm->fd[i] = -EBADF;
        return 0;
}

static int open_submounts(int rootfd, struct submounts *sm, hook_error_t *err)
{
        size_t i;

        for (i = 0; i < sm->n; i++) {
                sm->fd[i] = fs_open_in_root(rootfd, sm->rel[i], FS_NOFOLLOW, err);
                if (sm->fd[i] < 0)
                        return sm->fd[i];
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

/* Mount one tmpfs; returns an fd on its root (the new mount, or the one
 * already there: *ret_existed), for writing files into it. */
static int apply_tmpfs(int rootfd, const char *rootfs, const struct plan *p, const struct plan_tmpfs *t,
                       bool *ret_existed, hook_error_t *err)
{
        _cleanup_close_ int target = -EBADF, mfd = -EBADF;
        _cleanup_(submounts_done) struct submounts sm = {};
        struct statfs sfs;
        int r;

        *ret_existed = false;
        target = open_dir_in_root(rootfd, t->destination, FS_MKDIR, err);
        if (target < 0)
                return target;
        if (fs_is_mount_root(target, "") && fstatfs(target, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC) {
                *ret_existed = true;         /* restore or a second registration */
                return TAKE_FD(target);
        }
        if ((r = find_submounts(target, rootfs, &sm, err)) < 0 || (r = open_submounts(rootfd, &sm, err)) < 0)
                return r;
        mfd = make_tmpfs(p, t, err);
        if (mfd < 0)
                return mfd;
        /* Fill the still detached tmpfs: nobody else can see it yet. */
        if (t->copyup && (r = copyup_tree(target, mfd, err)) < 0)
                return hook_error_prefix(err, "copying the image's content");
        r = attach(mfd, target, t->destination, err);
        if (r >= 0)
                r = move_submounts(mfd, t->destination, &sm, err);
        return r < 0 ? r : TAKE_FD(mfd);
}

static int write_machine_id(int rootfd, const struct plan *p, hook_error_t *err)
{
        _cleanup_close_ int etc = -EBADF, cur = -EBADF;
        char want[MACHINE_ID_LEN + 2], have[MACHINE_ID_LEN + 3] = {};
        struct stat st;

        (void)snprintf(want, sizeof(want), "%s\n", p->machine_id);
        etc = open_dir_in_root(rootfd, "/etc", FS_MKDIR, err);
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
        /* rename() over whatever is there: a symlink, FIFO, device or a
         * hard link is replaced as an entry, never written through. */
        return fs_write_file_at(etc, "machine-id", want, 0444, owner_uid(p), owner_gid(p), err);
}

static int bind_machine_id(int rootfd, int runfd, const struct plan *p, hook_error_t *err)
{
        _cleanup_close_ int etc = -EBADF, target = -EBADF, clone = -EBADF;
        char want[MACHINE_ID_LEN + 2];
        struct stat st;
        int r;

        (void)snprintf(want, sizeof(want), "%s\n", p->machine_id);
        etc = open_dir_in_root(rootfd, "/etc", FS_MKDIR, err);
        if (etc < 0)
                return etc;
        target = openat(etc, "machine-id", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0 && errno == ENOENT) {
                /* The rootfs is still writable at this point; runtimes make it
                 * read-only after the hooks. An empty file is a mount point. */
                int fd = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
                if (fd >= 0)
                        (void)close(fd);
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
        return attach(clone, target, "/etc/machine-id", err);
}

static int write_run_host(int runfd, const struct plan *p, hook_error_t *err)
{
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
        return r;
}

/* Keep the runtime's limits on the container's own cgroup out of its reach:
 * every writable interface file but the delegated ones gets a read-only
 * bind of itself (cgroup-v2.rst, "Model of Delegation"). */
static int protect_limit_files(int hostdir, int mounted, hook_error_t *err)
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
                r = clone < 0 ? clone : attach(clone, target, de->d_name, err);
        }
        closedir(d);
        return r;
}

static int chown_cgroup(const struct apply_ctx *ctx, hook_error_t *err)
{
        static const char *const files[] = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks" };
        const struct plan *p = ctx->plan;
        size_t i;

        if (fchownat(ctx->cg_dirfd, "", p->uid, p->gid, AT_EMPTY_PATH) < 0)
                return hook_error_set(err, errno, "chown the container's cgroup: %s", strerror(errno));
        for (i = 0; i < ELEMENTSOF(files); i++)
                if (fchownat(ctx->cg_dirfd, files[i], p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        return hook_error_set(err, errno, "chown cgroup `%s`: %s", files[i], strerror(errno));
        return 0;
}

static int apply_cgroup(int rootfd, struct apply_ctx *ctx, hook_error_t *err)
{
        const char *dest = ctx->cgroup == CG_ACT_UNIFIED ? "/sys/fs/cgroup" : "/sys/fs/cgroup/systemd";
        _cleanup_close_ int target = -EBADF;
        int r;

        if (ctx->cgroup == CG_ACT_NONE)
                return 0;
        /* Always stack our bind: the mount already there may be the
         * runtime's own bind of the same directory (crun mounts it rw and
         * makes it read-only after the hooks), indistinguishable by
         * inode.  Re-runs are caught by the marker in mounts_apply(). */
        target = open_dir_in_root(rootfd, dest, 0, err);
        if (target < 0)
                return target;
        r = attach(ctx->cg_clone, target, dest, err);
        if (r >= 0 && ctx->cgroup == CG_ACT_UNIFIED)
                r = protect_limit_files(ctx->cg_dirfd, ctx->cg_clone, err);
        return r;
}

static bool is_rootfs(int fd, const struct apply_ctx *ctx)
{
        struct stat st;

        return fstat(fd, &st) == 0 && st.st_dev == ctx->rootfs_dev && st.st_ino == ctx->rootfs_ino;
}

/* Before pivot_root the rootfs sits at its bundle path in the container's
 * namespace; when the container already runs (runc restore re-runs the
 * hooks on the restored process) it is "/" (*ret_running).  Either way it
 * must be the directory the host sees at the bundle path. */
static int open_rootfs(const struct apply_ctx *ctx, bool *ret_running, hook_error_t *err)
{
        int fd = open(ctx->rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        *ret_running = false;
        if (fd >= 0 && is_rootfs(fd, ctx))
                return fd;
        if (fd >= 0)
                (void)close(fd);
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && is_rootfs(fd, ctx)) {
                *ret_running = true;
                return fd;
        }
        if (fd >= 0)
                (void)close(fd);
        return hook_error_set(err, EXDEV, "`%s` in the container's mount namespace is not the bundle's rootfs",
                              ctx->rootfs_path);
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

static bool already_done(int dirfd)
{
        _cleanup_close_ int fd = -EBADF;
        char want[64], have[64] = {};

        if (dirfd < 0)
                return false;
        fd = openat(dirfd, DONE_MARKER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        marker_text(want);
        return fd >= 0 && read(fd, have, sizeof(have) - 1) > 0 && streq(have, want);
}

struct tmpfs_fds {
        int run;        /* /run: ours, or the spec's own tmpfs */
        int marker;     /* where the done marker lives */
};

/* Mount the planned tmpfs. */
static int apply_all_tmpfs(int rootfd, const char *rootfs, const struct plan *p, struct tmpfs_fds *ret,
                           hook_error_t *err)
{
        size_t i;

        for (i = 0; i < p->n_tmpfs; i++) {
                bool existed;
                int fd;

                if (p->tmpfs[i].skip)
                        continue;
                fd = apply_tmpfs(rootfd, rootfs, p, &p->tmpfs[i], &existed, err);
                if (fd < 0)
                        return hook_error_prefix(err, "tmpfs on `%s`", p->tmpfs[i].destination);
                if (streq(p->tmpfs[i].destination, "/run"))
                        ret->run = fd;
                else if (ret->marker < 0)
                        ret->marker = fd;
                else
                        (void)close(fd);
        }
        if (ret->run < 0 && p->spec_run_tmpfs) {
                struct statfs sfs;
                int fd = open_dir_in_root(rootfd, "/run", 0, err);
                if (fd >= 0 && fstatfs(fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
                        ret->run = fd;
                else if (fd >= 0)
                        (void)close(fd);
        }
        if (ret->run >= 0) {
                closep(&ret->marker);
                ret->marker = fcntl(ret->run, F_DUPFD_CLOEXEC, 3);
        }
        return 0;
}

static int apply_rest(int rootfd, struct apply_ctx *ctx, int runfd, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        int r = 0;

        if (p->mid_method == MID_WRITE)
                r = write_machine_id(rootfd, p, err);
        else if (p->mid_method == MID_BIND_FROM_RUN && runfd >= 0)
                r = bind_machine_id(rootfd, runfd, p, err);
        if (r < 0)
                return hook_error_prefix(err, "machine-id");
        if (p->run_host && runfd >= 0 && (r = write_run_host(runfd, p, err)) < 0)
                return hook_error_prefix(err, "/run/host");
        r = apply_cgroup(rootfd, ctx, err);
        return r < 0 ? hook_error_prefix(err, "cgroup") : 0;
}

int mounts_apply(struct apply_ctx *ctx, hook_error_t *err)
{
        const struct plan *p = ctx->plan;
        _cleanup_close_ int rootfd = -EBADF;
        struct tmpfs_fds fds = { -EBADF, -EBADF };
        char marker[64];
        bool running;
        int r;

        rootfd = open_rootfs(ctx, &running, err);
        if (rootfd < 0)
                return rootfd;
        if (p->userns)
                fs_set_mkdir_owner(p->uid, p->gid);
        /* Restored cgroups come back owned by root: redo this every time. */
        if (ctx->cgroup != CG_ACT_NONE && p->userns && (r = chown_cgroup(ctx, err)) < 0)
                return hook_error_prefix(err, "cgroup");
        /* The container already runs (runc restore after criu put our
         * mounts back): everything else is in place. */
        if (running)
                return 0;
        r = apply_all_tmpfs(rootfd, ctx->rootfs_path, p, &fds, err);
        /* Registered at two stages: the marker says the rest is done. */
        if (r >= 0 && !already_done(fds.marker)) {
                r = apply_rest(rootfd, ctx, fds.run, err);
                marker_text(marker);
                if (r >= 0 && fds.marker >= 0)
                        r = fs_write_file_at(fds.marker, DONE_MARKER, marker, 0444, (uid_t)-1, (gid_t)-1, err);
        }
        closep(&fds.run);
        closep(&fds.marker);
        return r;
}
