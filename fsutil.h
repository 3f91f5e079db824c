/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_FSUTIL_H
#define OSH_FSUTIL_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

enum {
        FS_MKDIR = 1 << 0,          /* create missing directories (mode 0755) */
        FS_NOFOLLOW = 1 << 1,       /* the last component must not be a symlink */
        FS_WALK_ONLY = 1 << 2,      /* skip openat2, use the userspace walk */
        FS_OWN_MOUNT = 1 << 3,      /* the result, and every directory created
                                     * on the way, must be on a mount of the
                                     * boundary (fs_set_boundary): else EXDEV */
        FS_NO_SYMLINKS = 1 << 4,    /* no symlink anywhere in the path */
};

/* The mounts the hook may act on: the rootfs's own and those it made. */
struct fs_boundary {
        uint64_t ids[16];           /* statx stx_mnt_id */
        size_t n;
};

/* Entries the hook created (to undo them when a later step fails). */
struct fs_created_entry {
        int dirfd;
        char *name;
        bool dir;
};
struct fs_created {
        struct fs_created_entry *e;
        size_t n;
};

/* Open PATH inside the directory ROOTFD as if ROOTFD were "/": absolute
 * symlinks and ".." never leave it, magic links (/proc/PID/root, ...) and
 * any symlink living on procfs are refused.  Returns an O_PATH fd.  Uses
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) (Linux 5.6) and a
 * component-by-component walk when that is missing (or for FS_MKDIR). */
int fs_open_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err);
/* fs_open_in_root() with FS_OWN_MOUNT checked against B instead (NULL: the
 * boundary set by fs_set_boundary()), for a thread other than the one that
 * set it.  FS_MKDIR still uses the set boundary and created log. */
int fs_open_in_root_within(int rootfd, const char *path, unsigned flags, const struct fs_boundary *b,
                           hook_error_t *err);

/* The userspace walk alone; also returns the resolved path inside the root
 * ("/lib/systemd/systemd" for "/sbin/init" on Debian).  ret_path may be NULL. */
int fs_walk_in_root(int rootfd, const char *path, unsigned flags, int *ret_fd, char **ret_path,
                    hook_error_t *err);

/* Atomically (temp file + rename in the same directory) replace NAME in
 * DIRFD with DATA, or create it when there is none.  Never opens through a
 * symlink; renaming over a symlink/FIFO/device replaces the entry itself.
 * uid/gid (uid_t)-1: keep. */
int fs_write_file_at(int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     hook_error_t *err);
/* fs_write_file_at() in two steps: the file written (NAME itself when
 * there was none, TMP "", else the temp file TMP names), then the rename.
 * fs_unstage_file_at() removes what a stage made. */
int fs_stage_file_at(int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     char tmp[NAME_MAX + 1], hook_error_t *err);
int fs_commit_file_at(int dirfd, const char *name, const char *tmp, hook_error_t *err);
void fs_unstage_file_at(int dirfd, const char *name, const char *tmp);

/* Lexically clean an absolute path: "//run/./lock/" -> "/run/lock". */
char *path_clean(const char *p);
/* Set by tests (and the environment variable OSH_FORCE_WALK=1) to exercise
 * the fallback path on kernels that have openat2. */
extern bool fs_force_walk;
/* NAME in DIRFD ("" for DIRFD itself) is the root of a mount (statx
 * STATX_ATTR_MOUNT_ROOT, Linux 5.8); never follows a symlink. */
bool fs_is_mount_root(int dirfd, const char *name);
struct open_how;
/* openat2(2); -1 with errno ENOSYS where the headers lack it. */
int fs_openat2(int dirfd, const char *path, struct open_how *how);
/* The mount id of NAME in DIRFD ("" for DIRFD itself); -errno. */
int fs_mount_id(int dirfd, const char *name, uint64_t *ret);
void fs_boundary_add(struct fs_boundary *b, uint64_t id);
bool fs_on_boundary(const struct fs_boundary *b, int fd);
/* What FS_OWN_MOUNT checks against (NULL: nothing passes). */
void fs_set_boundary(const struct fs_boundary *b);
/* Directories FS_MKDIR creates are recorded in LOG (NULL: not recorded). */
void fs_set_created_log(struct fs_created *log);
void fs_created_record(struct fs_created *log, int dirfd, const char *name, bool dir);
/* Removes the recorded entries, newest first (REMOVE false: only forget). */
void fs_created_undo(struct fs_created *log, bool remove);
/* Owner of directories FS_MKDIR creates (the mapped root of a user
 * namespace); by default they stay owned by the hook's uid. */
void fs_set_mkdir_owner(uid_t uid, gid_t gid);

#endif
