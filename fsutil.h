/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_FSUTIL_H
#define OSH_FSUTIL_H

#include <sys/types.h>

#include "util.h"

enum {
        FS_MKDIR = 1 << 0,          /* create missing directories (mode 0755) */
        FS_NOFOLLOW = 1 << 1,       /* the last component must not be a symlink */
        FS_WALK_ONLY = 1 << 2,      /* skip openat2, use the userspace walk */
};

/* Open PATH inside the directory ROOTFD as if ROOTFD were "/": absolute
 * symlinks and ".." never leave it, magic links (/proc/PID/root, ...) and
 * any symlink living on procfs are refused.  Returns an O_PATH fd.  Uses
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) (Linux 5.6) and a
 * component-by-component walk when that is missing (or for FS_MKDIR). */
int fs_open_in_root(int rootfd, const char *path, unsigned flags, hook_error_t *err);

/* The userspace walk alone; also returns the resolved path inside the root
 * ("/lib/systemd/systemd" for "/sbin/init" on Debian).  ret_path may be NULL. */
int fs_walk_in_root(int rootfd, const char *path, unsigned flags, int *ret_fd, char **ret_path,
                    hook_error_t *err);

/* Atomically (temp file + rename in the same directory) replace NAME in
 * DIRFD with DATA.  Never opens through a symlink; renaming over a
 * symlink/FIFO/device replaces the entry itself.  uid/gid (uid_t)-1: keep. */
int fs_write_file_at(int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid,
                     hook_error_t *err);

/* Lexically clean an absolute path: "//run/./lock/" -> "/run/lock". */
char *path_clean(const char *p);
/* Set by tests (and the environment variable OSH_FORCE_WALK=1) to exercise
 * the fallback path on kernels that have openat2. */
extern bool fs_force_walk;
/* NAME in DIRFD ("" for DIRFD itself) is the root of a mount (statx
 * STATX_ATTR_MOUNT_ROOT, Linux 5.8); never follows a symlink. */
bool fs_is_mount_root(int dirfd, const char *name);
/* Owner of directories FS_MKDIR creates (the mapped root of a user
 * namespace); by default they stay owned by the hook's uid. */
void fs_set_mkdir_owner(uid_t uid, gid_t gid);

#endif
