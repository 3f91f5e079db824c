/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "fsutil.h"

#define MAX_SYMLINKS 40

bool fs_force_walk;
static uid_t mkdir_uid = (uid_t)-1;
static gid_t mkdir_gid = (gid_t)-1;
static const struct fs_boundary *boundary;
static struct fs_created *created;

void fs_set_boundary(const struct fs_boundary *b)
{
        boundary = b;
}

void fs_set_created_log(struct fs_created *log)
{
        created = log;
}

int fs_mount_id(int dirfd, const char *name, uint64_t *ret)
{
        struct statx stx;

        if (statx(dirfd, name, (name[0] ? 0 : AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -ENOSYS;
        *ret = stx.stx_mnt_id;
        return 0;
}

void fs_boundary_add(struct fs_boundary *b, uint64_t id)
{
        if (b->n < ELEMENTSOF(b->ids))
                b->ids[b->n++] = id;
}

bool fs_on_boundary(const struct fs_boundary *b, int fd)
{
        uint64_t id;

        return b && fs_mount_id(fd, "", &id) == 0 && u64_in(b->ids, b->n, id);
}

void fs_created_record(struct fs_created *log, int dirfd, const char *name, bool dir)
{
        if (!log)
                return;
        log->e = xrealloc(log->e, (log->n + 1) * sizeof(*log->e));
        log->e[log->n].dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        log->e[log->n].name = xstrdup(name);
        log->e[log->n].dir = dir;
        log->n++;
}

void fs_created_undo(struct fs_created *log, bool remove)
{
        while (log && log->n > 0) {
                struct fs_created_entry *e = &log->e[--log->n];
                if (remove && e->dirfd >= 0)
                        (void)unlinkat(e->dirfd, e->name, e->dir ? AT_REMOVEDIR : 0);
                closep(&e->dirfd);
                free(e->name);
        }
        if (log) {
                free(log->e);
                log->e = NULL;
        }
}

void fs_set_mkdir_owner(uid_t uid, gid_t gid)
{
        mkdir_uid = uid;
        mkdir_gid = gid;
}

int fs_openat2(int dirfd, const char *path, struct open_how *how)
{
#ifdef SYS_openat2
        return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
#else
        errno = ENOSYS;
        return -1;
#endif
}

struct walk {
        int *fds;
        char **names;
        size_t n, cap;
};

static void walk_push(struct walk *w, int fd, char *name)
{
        if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 16;
                w->fds = xrealloc(w->fds, w->cap * sizeof(*w->fds));
                w->names = xrealloc(w->names, w->cap * sizeof(*w->names));
        }
        w->fds[w->n] = fd;
        w->names[w->n++] = name;
}

static void walk_pop(struct walk *w)
{
        w->n--;
        (void)close(w->fds[w->n]);
        free(w->names[w->n]);
}

static void walk_free(struct walk *w)
{
        while (w->n > 0)
                walk_pop(w);
        free(w->fds);
        free(w->names);
}

static char *walk_path(const struct walk *w)
{
        size_t i, len = 1;
        char *p;

        for (i = 1; i < w->n; i++)
                len += strlen(w->names[i]) + 1;
        p = xmalloc(len + 1);
        p[0] = '\0';
        for (i = 1; i < w->n; i++) {
                strcat(p, "/");
                strcat(p, w->names[i]);
        }
        if (w->n <= 1)
                strcpy(p, "/");
        return p;
}

/* Take the next component off *rest (a pointer into a buffer we own). */
static char *next_component(char **rest)
{
        char *s = *rest, *e;

        while (*s == '/')
                s++;
        if (*s == '\0')
                return NULL;
        e = strchr(s, '/');
        if (e) {
                *e = '\0';
                *rest = e + 1;
        } else
                *rest = s + strlen(s);
        return s;
}

static bool rest_empty(const char *rest)
{
        while (*rest == '/')
                rest++;
        return *rest == '\0';
}

/* Follows one symlink: the new remaining path is TARGET/REST. */
static int follow_link(struct walk *w, int fd, const char *shown, char **buf, char **rest,
                       hook_error_t *err)
{
        char target[PATH_MAX];
        struct statfs sfs;
        ssize_t n;
        char *nb;

        if (fstatfs(fd, &sfs) < 0)
                return hook_error_set(err, errno, "statfs `%s`: %s", shown, strerror(errno));
        if (sfs.f_type == PROC_SUPER_MAGIC)
                return hook_error_set(err, ELOOP, "`%s` is a link on procfs (refusing magic links)", shown);
        n = readlinkat(fd, "", target, sizeof(target) - 1);
        if (n < 0)
                return hook_error_set(err, errno, "readlink `%s`: %s", shown, strerror(errno));
        target[n] = '\0';
        nb = xmalloc((size_t)n + strlen(*rest) + 2);
        (void)sprintf(nb, "%s%s%s", target, **rest ? "/" : "", *rest);
        free(*buf);
        *buf = *rest = nb;
        if (target[0] == '/')
                while (w->n > 1)
                        walk_pop(w);
        return 0;
}

static int open_component(int dirfd, const char *name, unsigned flags, hook_error_t *err)
{
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0 && errno == ENOENT && (flags & FS_MKDIR)) {
                /* Never create on a volume, cgroupfs, procfs...: only on
                 * the mounts the boundary names. */
                if ((flags & FS_OWN_MOUNT) && !fs_on_boundary(boundary, dirfd))
                        return hook_error_set(err, EXDEV, "would create `%s` on another mount", name);
                if (mkdirat(dirfd, name, 0755) < 0) {
                        if (errno != EEXIST)
                                return hook_error_set(err, errno, "mkdir `%s`: %s", name, strerror(errno));
                } else {
                        fs_created_record(created, dirfd, name, true);
                        if (mkdir_uid != (uid_t)-1)
                                (void)fchownat(dirfd, name, mkdir_uid, mkdir_gid, AT_SYMLINK_NOFOLLOW);
                }
                fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return hook_error_set(err, errno, "open `%s`: %s", name, strerror(errno));
        return fd;
}

int fs_walk_in_root(int rootfd, const char *path, unsigned flags, int *ret_fd, char **ret_path,
                    hook_error_t *err)
{
        struct walk w = {};
        _cleanup_free_ char *buf = xstrdup(path);
        char *rest = buf, *comp;
        int links = 0, r = 0, fd;
        struct stat st;

        /* Agree with openat2: "" is ENOENT, and "a/" must be a directory. */
        if (path[0] == '\0')
                return hook_error_set(err, ENOENT, "empty path");
        fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return hook_error_set(err, errno, "dup: %s", strerror(errno));
        walk_push(&w, fd, xstrdup("/"));
        while ((comp = next_component(&rest))) {
                bool last = rest_empty(rest);
                /* next_component() moved rest past a '/' that followed comp */
                bool dir_wanted = !last || rest > comp + strlen(comp);

                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        if (w.n > 1)   /* ".." at the root stays at the root */
                                walk_pop(&w);
                        continue;
                }
                fd = open_component(w.fds[w.n - 1], comp, flags, err);
                if (fd < 0) {
                        r = hook_error_prefix(err, "resolving `%s` in the rootfs", path);
                        break;
                }
                if (fstat(fd, &st) < 0) {
                        r = hook_error_set(err, errno, "stat `%s`: %s", comp, strerror(errno));
                        (void)close(fd);
                        break;
                }
                if (S_ISLNK(st.st_mode)) {
                        if (last && (flags & FS_NOFOLLOW))
                                r = hook_error_set(err, ELOOP, "`%s` is a symlink", path);
                        else if (flags & FS_NO_SYMLINKS)
                                r = hook_error_set(err, ELOOP, "`%s` passes a symlink", path);
                        else if (++links > MAX_SYMLINKS)
                                r = hook_error_set(err, ELOOP, "too many levels of symlinks in `%s`", path);
                        else
                                r = follow_link(&w, fd, path, &buf, &rest, err);
                        (void)close(fd);
                        if (r < 0)
                                break;
                        continue;
                }
                if (dir_wanted && !S_ISDIR(st.st_mode)) {
                        r = hook_error_set(err, ENOTDIR, "a component of `%s` is not a directory", path);
                        (void)close(fd);
                        break;
                }
                walk_push(&w, fd, xstrdup(comp));
        }
        if (r >= 0) {
                if (ret_path)
                        *ret_path = walk_path(&w);
                *ret_fd = w.fds[w.n - 1];
                w.fds[w.n - 1] = -EBADF;
                free(w.names[w.n - 1]);
                w.n--;
        }
        walk_free(&w);
        return r;
}

static int open_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err);

int fs_open_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err)
{
        return fs_open_in_root_within(rootfd, path, flags, NULL, err);
}

int fs_open_in_root_within(int rootfd, const char *path, unsigned flags, const struct fs_boundary *b,
                           hook_error_t *err)
{
        int fd = open_in_root(rootfd, path, flags, err);

        if (fd >= 0 && (flags & FS_OWN_MOUNT) && !fs_on_boundary(b ? b : boundary, fd)) {
                (void)close(fd);
                return hook_error_set(err, EXDEV, "`%s` resolves onto another mount (a volume or a runtime mount)",
                                      path);
        }
        return fd;
}

static int open_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err)
{
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC | ((flags & FS_NOFOLLOW) ? O_NOFOLLOW : 0),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                           ((flags & FS_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0),
        };
        struct stat st;
        int fd, r;

        if (!(flags & FS_WALK_ONLY) && !fs_force_walk) {
                do
                        fd = fs_openat2(rootfd, path, &how);
                while (fd < 0 && (errno == EAGAIN || errno == EINTR));
                if (fd >= 0) {
                        if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                                (void)close(fd);
                                return hook_error_set(err, ELOOP, "`%s` is a symlink", path);
                        }
                        return fd;
                }
                /* Only a missing syscall (or a path to create) falls back;
                 * anything else is an answer. */
                if (errno != ENOSYS && !(errno == ENOENT && (flags & FS_MKDIR)))
                        return hook_error_set(err, errno, "resolving `%s` in the rootfs: %s", path,
                                              strerror(errno));
        }
        r = fs_walk_in_root(rootfd, path, flags, &fd, NULL, err);
        return r < 0 ? r : fd;
}

static int fill_file(int fd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid, hook_error_t *err)
{
        int r = write_all(fd, data, strlen(data));

        if (r < 0)
                return hook_error_set(err, r, "write `%s`: %s", name, strerror(-r));
        if (fchmod(fd, mode) < 0)
                return hook_error_set(err, errno, "chmod `%s`: %s", name, strerror(errno));
        if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
                return hook_error_set(err, errno, "chown `%s`: %s", name, strerror(errno));
        return 0;
}

int fs_stage_file_at(int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     char tmp[NAME_MAX + 1], hook_error_t *err)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* No NAME yet: create it (O_EXCL never follows a symlink, not even
         * a dangling one), one rename less. */
        tmp[0] = '\0';
        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
                return hook_error_set(err, errno, "writing `%s`: %s", name, strerror(errno));
        if (fd < 0) {
                (void)snprintf(tmp, NAME_MAX + 1, ".#%.200s.osh%ld", name, (long)getpid());
                (void)unlinkat(dirfd, tmp, 0);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0)
                        return hook_error_set(err, errno, "writing `%s`: %s", name, strerror(errno));
        }
        r = fill_file(fd, name, data, mode, uid, gid, err);
        if (r < 0)
                fs_unstage_file_at(dirfd, name, tmp);
        return r;
}

int fs_commit_file_at(int dirfd, const char *name, const char *tmp, hook_error_t *err)
{
        if (tmp[0] && renameat(dirfd, tmp, dirfd, name) < 0)
                return hook_error_set(err, errno, "replace `%s`: %s", name, strerror(errno));
        return 0;
}

void fs_unstage_file_at(int dirfd, const char *name, const char *tmp)
{
        (void)unlinkat(dirfd, tmp[0] ? tmp : name, 0);
}

int fs_write_file_at(int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     hook_error_t *err)
{
        char tmp[NAME_MAX + 1];
        int r = fs_stage_file_at(dirfd, name, data, mode, uid, gid, tmp, err);

        if (r >= 0 && (r = fs_commit_file_at(dirfd, name, tmp, err)) < 0)
                fs_unstage_file_at(dirfd, name, tmp);
        return r;
}

bool fs_is_mount_root(int dirfd, const char *name)
{
        struct statx stx;

        if (statx(dirfd, name, (name[0] ? 0 : AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
                return false;
        return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

char *path_clean(const char *p)
{
        _cleanup_free_ char *copy = xstrdup(p);
        char *out = xmalloc(strlen(p) + 2), *rest = copy, *comp;
        size_t len = 0;

        while ((comp = next_component(&rest))) {
                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        continue;
                }
                out[len++] = '/';
                memcpy(out + len, comp, strlen(comp));
                len += strlen(comp);
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
        return out;
}
