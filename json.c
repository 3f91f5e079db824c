/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_parse.h>

#include "json.h"

struct builder {
        yajl_val stack[JSON_MAX_DEPTH + 1];
        size_t depth;
        yajl_val root;
        char *pending_key;   /* key waiting for its value, inside an object */
        hook_error_t *err;
        int failed;
};

void json_free(yajl_val v)
{
        size_t i;

        if (!v)
                return;
        switch (v->type) {
        case yajl_t_string:
                free(v->u.string);
                break;
        case yajl_t_number:
                free(v->u.number.r);
                break;
        case yajl_t_object:
                for (i = 0; i < v->u.object.len; i++) {
                        free((char *)v->u.object.keys[i]);
                        json_free(v->u.object.values[i]);
                }
                free(v->u.object.keys);
                free(v->u.object.values);
                break;
        case yajl_t_array:
                for (i = 0; i < v->u.array.len; i++)
                        json_free(v->u.array.values[i]);
                free(v->u.array.values);
                break;
        default:
                break;
        }
        free(v);
}

static int fail(struct builder *b, const char *msg)
{
        if (!b->failed)
                hook_error_set(b->err, EINVAL, "%s", msg);
        b->failed = 1;
        return 0;
}

/* Arrays and objects grow by doubling; len is the element count. */
static void push_slot(yajl_val **values, const char ***keys, size_t len)
{
        if ((len & (len - 1)) == 0) {
                size_t cap = len ? len * 2 : 4;
                *values = xrealloc(*values, cap * sizeof(**values));
                if (keys)
                        *keys = xrealloc(*keys, cap * sizeof(**keys));
        }
}

static int add_value(struct builder *b, yajl_val v)
{
        yajl_val parent;

        if (b->depth == 0) {
                b->root = v;
                return 1;
        }
        parent = b->stack[b->depth - 1];
        if (parent->type == yajl_t_array) {
                push_slot(&parent->u.array.values, NULL, parent->u.array.len);
                parent->u.array.values[parent->u.array.len++] = v;
                return 1;
        }
        push_slot(&parent->u.object.values, &parent->u.object.keys, parent->u.object.len);
        parent->u.object.keys[parent->u.object.len] = TAKE_PTR(b->pending_key);
        parent->u.object.values[parent->u.object.len++] = v;
        return 1;
}

static yajl_val new_value(yajl_type t)
{
        yajl_val v = xcalloc(1, sizeof(*v));
        v->type = t;
        return v;
}

static int cb_null(void *ctx) { return add_value(ctx, new_value(yajl_t_null)); }

static int cb_boolean(void *ctx, int val)
{
        return add_value(ctx, new_value(val ? yajl_t_true : yajl_t_false));
}

static int cb_number(void *ctx, const char *s, size_t len)
{
        yajl_val v = new_value(yajl_t_number);
        char *end;

        v->u.number.r = xmalloc(len + 1);
        memcpy(v->u.number.r, s, len);
        v->u.number.r[len] = '\0';
        errno = 0;
        v->u.number.i = strtoll(v->u.number.r, &end, 10);
        if (errno == 0 && *end == '\0')
                v->u.number.flags |= YAJL_NUMBER_INT_VALID;
        errno = 0;
        v->u.number.d = strtod(v->u.number.r, &end);
        if (errno == 0 && *end == '\0')
                v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
        return add_value(ctx, v);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (yajl turns a
 * lone "\ud800" escape into one), nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                size_t n, k;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 1, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        n = 2, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 3, cp = c & 0x07;
                else
                        return false;
                if (i + n >= len)
                        return false;
                for (k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

static char *dup_checked(struct builder *b, const unsigned char *s, size_t len)
{
        char *p;

        if (memchr(s, '\0', len)) {
                fail(b, "a string contains a NUL character (\\u0000)");
                return NULL;
        }
        if (!utf8_valid(s, len)) {
                fail(b, "a string is not valid UTF-8");
                return NULL;
        }
        p = xmalloc(len + 1);
        memcpy(p, s, len);
        p[len] = '\0';
        return p;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
        struct builder *b = ctx;
        char *p = dup_checked(b, s, len);
        yajl_val v = NULL;

        if (!p)
                return 0;
        v = new_value(yajl_t_string);
        v->u.string = p;
        return add_value(b, v);
}

static int open_container(struct builder *b, yajl_type t)
{
        yajl_val v = NULL;

        if (b->depth >= JSON_MAX_DEPTH)
                return fail(b, "nesting deeper than " "64" " levels");
        v = new_value(t);
        if (!add_value(b, v))
                return 0;
        b->stack[b->depth++] = v;
        return 1;
}

static int cb_start_map(void *ctx) { return open_container(ctx, yajl_t_object); }
static int cb_start_array(void *ctx) { return open_container(ctx, yajl_t_array); }

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
        struct builder *b = ctx;

        free(b->pending_key);
        b->pending_key = dup_checked(b, s, len);
        return b->pending_key != NULL;
}

static int cb_end_map(void *ctx)
{
        struct builder *b = ctx;
        yajl_val obj = b->stack[--b->depth];
        size_t n = obj->u.object.len, i;
        _cleanup_free_ const char **sorted = NULL;
        char msg[200];

        if (n < 2)
                return 1;
        /* O(n log n), so an object with a million keys stays cheap. */
        sorted = xmalloc(n * sizeof(*sorted));
        memcpy(sorted, obj->u.object.keys, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), strcmp_ptrs);
        for (i = 1; i < n; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                        (void)snprintf(msg, sizeof(msg), "duplicate key `%.64s`", sorted[i]);
                        return fail(b, msg);
                }
        return 1;
}

static int cb_end_array(void *ctx)
{
        struct builder *b = ctx;
        b->depth--;
        return 1;
}

static const yajl_callbacks callbacks = {
        .yajl_null = cb_null,
        .yajl_boolean = cb_boolean,
        .yajl_number = cb_number,
        .yajl_string = cb_string,
        .yajl_start_map = cb_start_map,
        .yajl_map_key = cb_map_key,
        .yajl_end_map = cb_end_map,
        .yajl_start_array = cb_start_array,
        .yajl_end_array = cb_end_array,
};

static int parse_error(yajl_handle h, struct builder *b, const char *buf, size_t len)
{
        unsigned char *m;
        size_t at = yajl_get_bytes_consumed(h);
        char *nl;

        if (b->failed)
                return hook_error_prefix(b->err, "invalid JSON at byte %zu", at);
        m = yajl_get_error(h, 0, (const unsigned char *)buf, len);
        nl = m ? strchr((char *)m, '\n') : NULL;
        if (nl)
                *nl = '\0';
        hook_error_set(b->err, EINVAL, "invalid JSON at byte %zu: %s", at,
                       m ? (const char *)m : "parse error");
        if (m)
                yajl_free_error(h, m);
        return -EINVAL;
}

static int hex4(const char *p)
{
        int v = 0, i;

        for (i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= c - '0';
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        v |= (c | 0x20) - 'a' + 10;
                else
                        return -1;
        }
        return v;
}

/* yajl turns a lone "\ud800" into "?" and pairs mismatched halves into
 * some other character, where Go's decoder yields U+FFFD: refuse both so
 * the hook and the runtime cannot read different strings.  Backslashes
 * only occur inside strings in valid JSON, so a flat scan suffices. */
static int check_surrogates(const char *buf, size_t len, hook_error_t *err)
{
        size_t i;

        for (i = 0; i + 1 < len; i++) {
                int v, w;

                if (buf[i] != '\\')
                        continue;
                if (buf[i + 1] != 'u' || i + 6 > len) {
                        i++;
                        continue;
                }
                v = hex4(buf + i + 2);
                if (v >= 0xdc00 && v <= 0xdfff)
                        return hook_error_set(err, EINVAL, "invalid JSON at byte %zu: lone low surrogate escape", i);
                if (v >= 0xd800 && v <= 0xdbff) {
                        w = i + 12 <= len && buf[i + 6] == '\\' && buf[i + 7] == 'u' ? hex4(buf + i + 8) : -1;
                        if (w < 0xdc00 || w > 0xdfff)
                                return hook_error_set(err, EINVAL,
                                                      "invalid JSON at byte %zu: unpaired high surrogate escape", i);
                        i += 6;
                }
                i += 5;
        }
        return 0;
}

int json_parse(const char *buf, size_t len, yajl_val *ret, hook_error_t *err)
{
        struct builder b = { .err = err };
        yajl_handle h;
        yajl_status st;
        int r = 0;

        if (len == 0)
                return hook_error_set(err, EINVAL, "empty input, expected a JSON object");
        if (memchr(buf, '\0', len))
                return hook_error_set(err, EINVAL, "invalid JSON: NUL byte at offset %zu",
                                      (size_t)((const char *)memchr(buf, '\0', len) - buf));
        if ((r = check_surrogates(buf, len, err)) < 0)
                return r;
        h = yajl_alloc(&callbacks, NULL, &b);
        if (!h)
                return hook_error_set(err, ENOMEM, "allocating the JSON parser");
        /* yajl defaults: comments off, UTF-8 validation on, no trailing garbage. */
        st = yajl_parse(h, (const unsigned char *)buf, len);
        if (st == yajl_status_ok)
                st = yajl_complete_parse(h);
        if (st != yajl_status_ok)
                r = parse_error(h, &b, buf, len);
        else if (!b.root)
                r = hook_error_set(err, EINVAL, "invalid JSON: no value");
        yajl_free(h);
        free(b.pending_key);
        if (r < 0) {
                json_free(b.root);
                return r;
        }
        *ret = b.root;
        return 0;
}

/* Tells when one complete JSON object or array has arrived: brackets
 * counted outside strings.  The parser still judges the whole text. */
struct json_scan {
        unsigned depth;
        bool in_string, escaped, complete;
};

static void json_scan_feed(struct json_scan *s, const char *p, size_t n)
{
        size_t i;

        for (i = 0; i < n && !s->complete; i++) {
                char c = p[i];
                if (s->in_string) {
                        if (s->escaped)
                                s->escaped = false;
                        else if (c == '\\')
                                s->escaped = true;
                        else if (c == '"')
                                s->in_string = false;
                } else if (c == '"') {
                        s->in_string = true;
                } else if (c == '{' || c == '[') {
                        s->depth++;
                } else if ((c == '}' || c == ']') && s->depth > 0 && --s->depth == 0) {
                        s->complete = true;
                }
        }
}

static int read_fd_impl(int fd, size_t cap, int settle_ms, char **ret, size_t *ret_len, hook_error_t *err)
{
        size_t len = 0, alloc = 0;
        _cleanup_free_ char *buf = NULL;
        struct json_scan scan = {};

        for (;;) {
                ssize_t n;

                if (settle_ms >= 0 && scan.complete) {
                        /* A writer that keeps the pipe open must not hold
                         * us: wait a little for the end, then go on. */
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        int r = poll(&p, 1, settle_ms);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r <= 0)
                                break;
                }
                if (alloc - len < 4096 + 1) {
                        alloc = alloc ? alloc * 2 : 16384;
                        if (alloc > cap + 4096 + 2)
                                alloc = cap + 4096 + 2;
                        buf = xrealloc(buf, alloc);
                }
                n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return hook_error_set(err, errno, "read: %s", strerror(errno));
                }
                if (n == 0)
                        break;
                if (settle_ms >= 0)
                        json_scan_feed(&scan, buf + len, (size_t)n);
                len += (size_t)n;
                if (len > cap)
                        return hook_error_set(err, EFBIG, "larger than the limit of %zu bytes", cap);
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int read_fd_capped(int fd, size_t cap, char **ret, size_t *ret_len, hook_error_t *err)
{
        return read_fd_impl(fd, cap, -1, ret, ret_len, err);
}

int read_json_document(int fd, size_t cap, int settle_ms, char **ret, size_t *ret_len, hook_error_t *err)
{
        return read_fd_impl(fd, cap, settle_ms, ret, ret_len, err);
}

yajl_val json_obj_get(yajl_val obj, const char *key)
{
        size_t i;

        if (!obj || obj->type != yajl_t_object)
                return NULL;
        for (i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0)
                        return obj->u.object.values[i];
        return NULL;
}

static const char *type_name(yajl_type t)
{
        switch (t) {
        case yajl_t_string: return "a string";
        case yajl_t_number: return "a number";
        case yajl_t_object: return "an object";
        case yajl_t_array: return "an array";
        case yajl_t_true:
        case yajl_t_false: return "a boolean";
        case yajl_t_null: return "null";
        default: return "unknown";
        }
}

static int get_typed(yajl_val obj, const char *key, const char *what, yajl_type want,
                     yajl_val *ret, hook_error_t *err)
{
        yajl_val v = json_obj_get(obj, key);

        if (!v)
                return 0;
        if (v->type != want && !(want == yajl_t_true && v->type == yajl_t_false))
                return hook_error_set(err, EINVAL, "`%s` must be %s, not %s", what,
                                      type_name(want), type_name(v->type));
        *ret = v;
        return 1;
}

int json_get_string(yajl_val obj, const char *key, const char *what, const char **ret, hook_error_t *err)
{
        yajl_val v = NULL;
        int r = get_typed(obj, key, what, yajl_t_string, &v, err);
        if (r > 0)
                *ret = v->u.string;
        return r;
}

int json_get_bool(yajl_val obj, const char *key, const char *what, bool *ret, hook_error_t *err)
{
        yajl_val v = NULL;
        int r = get_typed(obj, key, what, yajl_t_true, &v, err);
        if (r > 0)
                *ret = v->type == yajl_t_true;
        return r;
}

int json_get_object(yajl_val obj, const char *key, const char *what, yajl_val *ret, hook_error_t *err)
{
        return get_typed(obj, key, what, yajl_t_object, ret, err);
}

int json_get_array(yajl_val obj, const char *key, const char *what, yajl_val *ret, hook_error_t *err)
{
        return get_typed(obj, key, what, yajl_t_array, ret, err);
}

int json_get_int(yajl_val obj, const char *key, const char *what, long long *ret, hook_error_t *err)
{
        yajl_val v = NULL;
        int r = get_typed(obj, key, what, yajl_t_number, &v, err);

        if (r <= 0)
                return r;
        if (!(v->u.number.flags & YAJL_NUMBER_INT_VALID) || strpbrk(v->u.number.r, ".eE"))
                return hook_error_set(err, EINVAL, "`%s` must be an integer, not `%.32s`", what,
                                      v->u.number.r);
        *ret = v->u.number.i;
        return 1;
}
