/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_LAZYLIB_H
#define OSH_LAZYLIB_H

#include <libmount/libmount.h>

#include "util.h"

/* libmount and libselinux are loaded with dlopen() the first time the
 * systemd path needs them.  Linked normally, the dynamic loader maps them
 * (and libblkid, libpcre2) and runs libselinux's constructor on every
 * container start, which alone costs more than the whole fast path. */
struct mount_api {
        __typeof__(mnt_new_table) *new_table;
        __typeof__(mnt_unref_table) *unref_table;
        __typeof__(mnt_new_iter) *new_iter;
        __typeof__(mnt_free_iter) *free_iter;
        __typeof__(mnt_table_parse_stream) *table_parse_stream;
        __typeof__(mnt_table_next_fs) *table_next_fs;
        __typeof__(mnt_fs_get_fstype) *fs_get_fstype;
        __typeof__(mnt_fs_get_fs_options) *fs_get_fs_options;
        __typeof__(mnt_fs_get_target) *fs_get_target;
        __typeof__(mnt_fs_get_root) *fs_get_root;
        __typeof__(mnt_optstr_get_option) *optstr_get_option;
};

struct selinux_api {
        int (*is_selinux_enabled)(void);
        int (*security_check_context)(const char *con);
};

const struct mount_api *lazy_libmount(hook_error_t *err);
/* NULL when built --without-selinux or the library is missing. */
const struct selinux_api *lazy_libselinux(void);

#endif
