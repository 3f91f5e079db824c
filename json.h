/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_JSON_H
#define OSH_JSON_H

#include <yajl/yajl_tree.h>

#include "util.h"

#define JSON_MAX_DEPTH 64

/* Strict parse of one JSON document into a yajl_val tree:
 * no comments, no trailing data, valid UTF-8, no NUL byte (raw or \u0000),
 * no duplicate object keys (yajl_tree_get would take the first, Go's parser
 * the last: refuse the ambiguity), nesting at most JSON_MAX_DEPTH. */
int json_parse(const char *buf, size_t len, yajl_val *ret, hook_error_t *err);
void json_free(yajl_val v);
static inline void json_freep(yajl_val *v) { json_free(*v); }
#define _cleanup_json_ _cleanup_(json_freep)

/* Read a whole fd, refusing more than cap bytes (the extra byte is never
 * buffered beyond cap+1, so an endless stdin costs cap bytes at most). */
int read_fd_capped(int fd, size_t cap, char **ret, size_t *ret_len, hook_error_t *err);
/* Like read_fd_capped, but stops SETTLE_MS after one complete JSON object
 * or array has arrived, even when the writer keeps FD open (the state on
 * stdin); what arrives in that time is kept for the parser to judge. */
int read_json_document(int fd, size_t cap, int settle_ms, char **ret, size_t *ret_len, hook_error_t *err);

yajl_val json_obj_get(yajl_val obj, const char *key);

/* Typed lookups.  They return 0 when the key is absent (*ret untouched),
 * 1 when present with the right type, -EINVAL with err set on a wrong type.
 * `what` names the field in messages, e.g. "process.args". */
int json_get_string(yajl_val obj, const char *key, const char *what, const char **ret, hook_error_t *err);
int json_get_bool(yajl_val obj, const char *key, const char *what, bool *ret, hook_error_t *err);
int json_get_object(yajl_val obj, const char *key, const char *what, yajl_val *ret, hook_error_t *err);
int json_get_array(yajl_val obj, const char *key, const char *what, yajl_val *ret, hook_error_t *err);
int json_get_int(yajl_val obj, const char *key, const char *what, long long *ret, hook_error_t *err);

#endif
