/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_MOUNTINFO_H
#define OSH_MOUNTINFO_H

#include <stdint.h>

#include "util.h"

/* One line of /proc/PID/mountinfo (proc(5)), split in place.  Paths are
 * unescaped (\040 and friends), so they compare with real paths. */
struct mountinfo_entry {
        uint64_t id;                /* = statx() stx_mnt_id (STATX_MNT_ID) */
        uint64_t parent;
        const char *root;           /* path inside its filesystem */
        const char *mount_point;
        const char *options;        /* per-mount: rw,nosuid,... */
        const char *optional;       /* "shared:N master:M ...", "" when none */
        const char *fstype;
        const char *source;
        const char *super_options;
};

/* Called per line; a negative return stops the walk with that error, a
 * positive one stops it with success. */
typedef int (*mountinfo_cb)(const struct mountinfo_entry *e, void *userdata, hook_error_t *err);

/* Splits LINE (no newline, modified in place).  0, or -EINVAL when it is
 * not a mountinfo line. */
int mountinfo_parse_line(char *line, struct mountinfo_entry *e);

/* The one reader of the kernel's mount table: streams FD line by line
 * (no cap on the table's size; one line may be up to 1 MiB). */
int mountinfo_foreach_fd(int fd, mountinfo_cb cb, void *userdata, hook_error_t *err);
int mountinfo_foreach_path(const char *path, mountinfo_cb cb, void *userdata, hook_error_t *err);
/* The same over a string (unit tests, fuzzing). */
int mountinfo_foreach_string(const char *text, mountinfo_cb cb, void *userdata, hook_error_t *err);

/* The mounts below the mount at FD (itself included), from listmount(2)
 * and statmount(2) (mountlist.c), in the order they were mounted: entries
 * have no source and no super options; options are "rw" or "ro", the
 * optional fields "shared:N" or "master:N".  -ENOSYS (nothing reported)
 * when the kernel lacks them (before 6.8): read mountinfo instead. */
int mountlist_foreach_below(int fd, mountinfo_cb cb, void *userdata, hook_error_t *err);
/* Set: the mountlist_* calls answer -ENOSYS (OSH_FORCE_MOUNTINFO=1, to test
 * the mountinfo fallback on a kernel that has them). */
extern bool mountlist_off;

/* The mount on top at PATH, when PATH is a mount point, from statmount(2)
 * (with the filesystem's options: 6.11); 0 when it is none; -ENOSYS when
 * the kernel cannot say. */
int mountlist_stat_path(const char *path, mountinfo_cb cb, void *userdata, hook_error_t *err);
/* The MOUNT_ATTR_* flags of the mount FD is on (statmount): 0 or -errno,
 * -ENOSYS before Linux 6.8 (or mountlist_off). */
int mountlist_attr(int fd, uint64_t *ret_attr);

/* The optional fields hold TAG:N ("shared", "master"). */
bool mountinfo_has_tag(const struct mountinfo_entry *e, const char *tag);

#endif
