/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "copyup.h"
#include "fsutil.h"

struct copy_budget {
        size_t entries;
        size_t bytes;
        const struct copy_reader *reader;
        const atomic_bool *cancel;
        /* what an entry has when created (the tree is detached: created
         * with its final mode at once), to skip a chown or chmod that
         * would change nothing */
        uid_t new_uid;
        gid_t new_gid;          /* the root's when it is setgid */
        mode_t umask, setgid;   /* setgid: S_ISGID inherited by directories */
};

static bool id_mapped(const struct id_map *m, size_t n, unsigned long id)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (id >= m[i].host_id && id - m[i].host_id < m[i].size)
                        return true;
        return false;
}

bool copy_reader_may_read(const struct copy_reader *r, const struct stat *st)
{
        mode_t need = S_ISDIR(st->st_mode) ? 05 : 04, bits;

        if (!r || !r->userns)
                return true;
        if (id_mapped(r->uid_maps, r->n_uid_maps, st->st_uid) && id_mapped(r->gid_maps, r->n_gid_maps, st->st_gid))
                return true;   /* CAP_DAC_OVERRIDE applies inside its namespace */
        if (st->st_uid == r->uid)
                bits = (st->st_mode >> 6) & 07;
        else if (st->st_gid == r->gid)
                bits = (st->st_mode >> 3) & 07;
        else
                bits = st->st_mode & 07;
        return (bits & need) == need;
}

/* Copies the data extents only: a sparse file costs what it holds. */
static int copy_data(int from, int to, const char *name, off_t size, struct copy_budget *b, hook_error_t *err)
{
        char buf[65536];
        off_t pos = 0;

        while (pos < size) {
                off_t data = lseek(from, pos, SEEK_DATA), hole;
                if (data < 0 && errno == ENXIO)
                        break;          /* only a hole is left */
                if (data < 0)
                        data = pos;     /* no SEEK_DATA: copy everything */
                hole = lseek(from, data, SEEK_HOLE);
                if (hole < 0 || hole > size)
                        hole = size;
                while (data < hole) {
                        size_t want = (size_t)(hole - data) < sizeof(buf) ? (size_t)(hole - data) : sizeof(buf);
                        ssize_t n = pread(from, buf, want, data);
                        int r;

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return hook_error_set(err, errno, "read `%s`: %s", name, strerror(errno));
                        if (n == 0)
                                return hook_error_set(err, EAGAIN, "`%s` shrank while copying", name);
                        b->bytes += (size_t)n;
                        if (b->bytes > COPYUP_MAX_BYTES)
                                return hook_error_set(err, EFBIG, "`%s`: more than %u bytes to copy", name,
                                                      COPYUP_MAX_BYTES);
                        if (lseek(to, data, SEEK_SET) < 0 || (r = write_all(to, buf, (size_t)n)) < 0)
                                return hook_error_set(err, errno, "write `%s`: %s", name, strerror(errno));
                        data += n;
                }
                pos = hole;
        }
        if (ftruncate(to, size) < 0)
                return hook_error_set(err, errno, "truncate `%s`: %s", name, strerror(errno));
        return 0;
}

/* Opens NAME for reading only if it is the regular file ST describes:
 * O_PATH first (opens nothing: no device driver, no FIFO), check, then
 * reopen that very inode through its descriptor. */
static int open_regular(int sdir, const char *name, const struct stat *st, hook_error_t *err)
{
        _cleanup_close_ int path = openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat now;
        char proc[64];
        int fd;

        if (path < 0)
                return hook_error_set(err, errno, "open `%s`: %s", name, strerror(errno));
        if (fstat(path, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
                return hook_error_set(err, EAGAIN, "open `%s`: changed while copying", name);
        (void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path);
        fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return hook_error_set(err, errno, "reopen `%s`: %s", name, strerror(errno));
        return fd;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, struct copy_budget *b,
                     hook_error_t *err)
{
        _cleanup_close_ int from = -EBADF, to = -EBADF;

        to = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 0777);
        if (to < 0)
                return hook_error_set(err, errno, "create `%s`: %s", name, strerror(errno));
        if (!copy_reader_may_read(b->reader, st))
                return 0;       /* the container could not read it: empty */
        from = open_regular(sdir, name, st, err);
        if (from < 0)
                return from;
        return copy_data(from, to, name, st->st_size, b, err);
}

static int copy_link(int sdir, int ddir, const char *name, hook_error_t *err)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

        if (n < 0)
                return hook_error_set(err, errno, "readlink `%s`: %s", name, strerror(errno));
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
                return hook_error_set(err, errno, "symlink `%s`: %s", name, strerror(errno));
        return 0;
}

/* The mode an entry got when created with CREATE. */
static mode_t created_mode(const struct copy_budget *b, mode_t create, bool dir)
{
        return (create & ~b->umask) | (dir ? b->setgid : 0);
}

static void copy_attrs(int ddir, const char *name, const struct stat *st, mode_t created, const struct copy_budget *b)
{
        const struct timespec ts[2] = { st->st_atim, st->st_mtim };
        bool chowned = false;

        /* Owners as in the image (already shifted for a user namespace);
         * chown before chmod, which would otherwise drop setgid bits. */
        if (st->st_uid != b->new_uid || st->st_gid != b->new_gid) {
                (void)fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
                chowned = true;
        }
        if (!S_ISLNK(st->st_mode) && (chowned || created != (st->st_mode & 07777)))
                (void)fchmodat(ddir, name, st->st_mode & 07777, 0);
        (void)utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* The destination directory of a copy_dir(): opened when its first entry
 * comes (most of an image's /run is empty directories). */
struct dest {
        int fd;
        int parent;
        const char *name;
};

static int copy_dir(int src, struct dest *dst, unsigned depth, struct copy_budget *b, hook_error_t *err);

/* fstatat and fs_is_mount_root() in one statx: of NAME in DIRFD, or of
 * DIRFD itself when NAME is "" */
static int stat_entry(int dirfd, const char *name, struct stat *st, bool *mount_root)
{
        struct statx x;

        if (statx(dirfd, name, name[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH, STATX_BASIC_STATS, &x) < 0)
                return -1;
        memset(st, 0, sizeof(*st));
        st->st_mode = x.stx_mode;
        st->st_uid = x.stx_uid;
        st->st_gid = x.stx_gid;
        st->st_size = (off_t)x.stx_size;
        st->st_ino = (ino_t)x.stx_ino;
        st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
        st->st_nlink = x.stx_nlink;
        st->st_atim = (struct timespec){ x.stx_atime.tv_sec, x.stx_atime.tv_nsec };
        st->st_mtim = (struct timespec){ x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec };
        *mount_root = (x.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (x.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        return 0;
}

/* A directory entry's metadata, and for a directory an open descriptor
 * (*DIR): one lookup, which on a fresh overlay is what costs.  O_DIRECTORY
 * opens nothing else (a FIFO fails the lookup before any open). */
static int stat_or_open(int sdir, const char *name, unsigned char type, struct stat *st, bool *mount_root, int *dir)
{
        *dir = -EBADF;
        if (type == DT_DIR) {
                *dir = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*dir >= 0) {
                        if (stat_entry(*dir, "", st, mount_root) == 0)
                                return 0;
                        closep(dir);
                        return -1;
                }
                if (errno != ENOTDIR && errno != ELOOP)
                        return -1;
                /* not a directory after all: whatever it is now */
        }
        return stat_entry(sdir, name, st, mount_root);
}

static int copy_entry(int sdir, struct dest *dst, const char *name, unsigned char type, unsigned depth,
                      struct copy_budget *b, hook_error_t *err)
{
        _cleanup_close_ int s = -EBADF;
        struct stat st;
        bool mount_root;
        mode_t created = 0;
        int ddir, r = 0;

        if (++b->entries > COPYUP_MAX_ENTRIES)
                return hook_error_set(err, EFBIG, "more than %u entries to copy", COPYUP_MAX_ENTRIES);
        if (b->cancel && atomic_load_explicit(b->cancel, memory_order_relaxed))
                return hook_error_set(err, ECANCELED, "not needed any more");
        if (stat_or_open(sdir, name, type, &st, &mount_root, &s) < 0)
                return errno == ENOENT ? 0 : hook_error_set(err, errno, "stat `%s`: %s", name, strerror(errno));
        if (dst->fd < 0) {
                dst->fd = openat(dst->parent, dst->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dst->fd < 0)
                        return hook_error_set(err, errno, "open dir `%s`: %s", dst->name, strerror(errno));
        }
        ddir = dst->fd;
        if (mount_root) {
                /* A volume the runtime mounted here: the executor moves it
                 * onto the new tmpfs; copy only the mount point, never
                 * what is mounted (secrets, big volumes). */
                if (S_ISDIR(st.st_mode))
                        r = mkdirat(ddir, name, 0755);
                else
                        r = mknodat(ddir, name, S_IFREG | 0600, 0);
                if (r < 0)
                        return hook_error_set(err, errno, "mount point `%s`: %s", name, strerror(errno));
                return 0;
        }
        if (S_ISDIR(st.st_mode)) {
                struct dest sub = { .fd = -EBADF, .parent = ddir, .name = name };

                created = created_mode(b, st.st_mode & 01777, true);
                if (mkdirat(ddir, name, st.st_mode & 01777) < 0)
                        return hook_error_set(err, errno, "mkdir `%s`: %s", name, strerror(errno));
                if (s < 0)
                        s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0)
                        return hook_error_set(err, errno, "open dir `%s`: %s", name, strerror(errno));
                /* what the container could not list stays empty */
                if (copy_reader_may_read(b->reader, &st))
                        r = copy_dir(s, &sub, depth + 1, b, err);
                closep(&sub.fd);
        } else if (S_ISREG(st.st_mode)) {
                created = created_mode(b, st.st_mode & 0777, false);
                r = copy_file(sdir, ddir, name, &st, b, err);
        } else if (S_ISLNK(st.st_mode)) {
                r = copy_link(sdir, ddir, name, err);
        } else if (S_ISFIFO(st.st_mode)) {
                created = created_mode(b, st.st_mode & 0777, false);
                if (mkfifoat(ddir, name, st.st_mode & 0777) < 0)
                        r = hook_error_set(err, errno, "mkfifo `%s`: %s", name, strerror(errno));
        } else {
                return 0;   /* sockets are runtime state; devices do not belong in /run */
        }
        if (r >= 0)
                copy_attrs(ddir, name, &st, created, b);
        /* No prefix per level: in a deep tree it would push the cause
         * out of the message. */
        return r < 0 ? r : 0;
}

/* SRC is a descriptor of our own (its offset is ours to move): its
 * entries straight from getdents64, no DIR and no allocation. */
static int copy_dir(int src, struct dest *dst, unsigned depth, struct copy_budget *b, hook_error_t *err)
{
        char buf[4096] __attribute__((aligned(8)));
        ssize_t n;
        int r = 0;

        if (depth > COPYUP_MAX_DEPTH)
                return hook_error_set(err, ELOOP, "deeper than %u levels", COPYUP_MAX_DEPTH);
        while (r >= 0 && (n = getdents64(src, buf, sizeof(buf))) > 0) {
                ssize_t off = 0;

                while (r >= 0 && off < n) {
                        const struct dirent64 *de = (const struct dirent64 *)(buf + off);

                        off += de->d_reclen;
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                r = copy_entry(src, dst, de->d_name, de->d_type, depth, b, err);
                }
        }
        if (r >= 0 && n < 0)
                r = hook_error_set(err, errno, "listing a directory: %s", strerror(errno));
        return r;
}

int copyup_tree(int src, int dst, const struct copy_reader *reader, bool keep_root, hook_error_t *err)
{
        return copyup_tree_cancellable(src, dst, reader, keep_root, NULL, err);
}

int copyup_tree_cancellable(int src, int dst, const struct copy_reader *reader, bool keep_root,
                            const atomic_bool *cancel, hook_error_t *err)
{
        struct copy_budget b = { .reader = reader, .cancel = cancel };
        _cleanup_close_ int s = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                            d = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st, root;

        if (s < 0 || d < 0 || fstat(s, &st) < 0)
                return hook_error_set(err, errno, "open for copy-up: %s", strerror(errno));
        /* chown first: it clears setgid, which the mode may set again */
        if (fchown(d, st.st_uid, st.st_gid) < 0 || (keep_root && fchmod(d, st.st_mode & 07777) < 0))
                return hook_error_set(err, errno, "owner and mode of the tmpfs root: %s", strerror(errno));
        if (!copy_reader_may_read(reader, &st))
                return 0;
        if (fstat(d, &root) < 0)
                return hook_error_set(err, errno, "the tmpfs root: %s", strerror(errno));
        b.new_uid = geteuid();
        b.setgid = root.st_mode & S_ISGID;
        b.new_gid = b.setgid ? root.st_gid : getegid();
        b.umask = umask(0);
        (void)umask(b.umask);
        return copy_dir(s, &(struct dest){ .fd = dst, .parent = -EBADF }, 0, &b, err);
}
