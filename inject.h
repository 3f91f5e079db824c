/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_INJECT_H
#define OSH_INJECT_H

#include <sys/types.h>

#include "json.h"

/* Pure: add {"path": PATH, "args": ["oci-systemd-hook", STAGE]} to
 * hooks.STAGE of the spec TREE unless an entry with that path is there.
 * Returns 1 when the tree changed, 0 when it already had the hook. */
int inject_into_tree(yajl_val tree, const char *stage, const char *path, hook_error_t *err);

/* Pure: set the string at KEYS (objects made as needed) to VALUE; 1 when
 * the tree changed, 0 when it held VALUE, -EINVAL when a part of the
 * path is not an object. */
int json_set_string(yajl_val tree, const char *const *keys, size_t n, const char *value, hook_error_t *err);

/* Pure: add {"type": TYPE} to linux.namespaces unless there; 1 if added. */
int inject_namespace(yajl_val tree, const char *type, hook_error_t *err);

/* Serialise a tree (pretty, keys in their original order). */
int json_serialise(yajl_val v, char **ret, size_t *ret_len, hook_error_t *err);

/* Read FILE, inject, write it back atomically if it changed.  Returns 1
 * when written, 0 when it already had the hook, <0 with err set. */
int inject_file(const char *file, const char *stage, const char *path, hook_error_t *err);

/* Replace FILE by DATA: temp file beside it (O_EXCL), fsync, rename,
 * fsync of the directory. */
int write_file_atomic(const char *file, const char *data, size_t len, mode_t mode, hook_error_t *err);

/* realpath of /proc/self/exe, NULL when unreadable; owned. */
char *self_path(void);

/* CLI: read FILE, inject, write it back atomically (temp + fsync + rename,
 * mode kept).  Logs its own errors; returns <0 on failure. */
int inject_main(const char *file, const char *stage, const char *path);

#endif
