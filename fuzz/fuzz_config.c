/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.json: the strict JSON parser, spec_parse_config(), and
 * `oci-systemd-hook inject` (inject_into_tree + json_serialise).
 * Input: the bytes of a config.json (or containerd base spec).
 * Oracles: what json.h promises about a parsed tree (depth, no duplicate
 * keys, UTF-8, no NUL), and that inject's rewrite loses nothing: the
 * serialised tree parses back to the same tree, and injecting twice
 * changes nothing the second time. */
#include "fuzz.h"
#include "inject.h"
#include "json.h"
#include "spec.h"

#define HOOK_PATH "/usr/libexec/oci/hooks.d/oci-systemd-hook"

int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool utf8_ok(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t n = *p < 0x80 ? 0 : *p >= 0xf5 ? 9 : *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc2 ? 1 : 9;
                if (n == 9)
                        return false;
                for (p++; n > 0; n--, p++)
                        if ((*p & 0xc0) != 0x80)
                                return false;
        }
        return true;
}

/* What json_parse() promises about a tree it returns. */
static void check_tree(yajl_val v, size_t depth)
{
        size_t i;

        FUZZ_CHECK(v != NULL, "NULL node");
        switch (v->type) {
        case yajl_t_string:
                FUZZ_CHECK(v->u.string && utf8_ok(v->u.string), "bad string");
                break;
        case yajl_t_number:
                FUZZ_CHECK(v->u.number.r && v->u.number.r[0], "number without text");
                break;
        case yajl_t_object: {
                _cleanup_free_ const char **k = NULL;

                FUZZ_CHECK(depth < JSON_MAX_DEPTH, "object at depth %zu", depth);
                if (v->u.object.len == 0)
                        break;
                k = xmalloc(v->u.object.len * sizeof(*k));
                for (i = 0; i < v->u.object.len; i++) {
                        FUZZ_CHECK(v->u.object.keys[i] && utf8_ok(v->u.object.keys[i]), "bad key");
                        k[i] = v->u.object.keys[i];
                        check_tree(v->u.object.values[i], depth + 1);
                }
                qsort(k, v->u.object.len, sizeof(*k), cmp_str);
                for (i = 1; i < v->u.object.len; i++)
                        FUZZ_CHECK(strcmp(k[i - 1], k[i]) != 0, "duplicate key `%s`", k[i]);
                break;
        }
        case yajl_t_array:
                FUZZ_CHECK(depth < JSON_MAX_DEPTH, "array at depth %zu", depth);
                for (i = 0; i < v->u.array.len; i++)
                        check_tree(v->u.array.values[i], depth + 1);
                break;
        case yajl_t_true:
        case yajl_t_false:
        case yajl_t_null:
                break;
        default:
                FUZZ_CHECK(false, "node type %d", (int)v->type);
        }
}

static bool tree_equal(yajl_val a, yajl_val b)
{
        size_t i;

        if (a->type != b->type)
                return false;
        switch (a->type) {
        case yajl_t_string:
                return streq(a->u.string, b->u.string);
        case yajl_t_number:
                return streq(a->u.number.r, b->u.number.r);
        case yajl_t_object:
                if (a->u.object.len != b->u.object.len)
                        return false;
                for (i = 0; i < a->u.object.len; i++)
                        if (!streq(a->u.object.keys[i], b->u.object.keys[i]) ||
                            !tree_equal(a->u.object.values[i], b->u.object.values[i]))
                                return false;
                return true;
        case yajl_t_array:
                if (a->u.array.len != b->u.array.len)
                        return false;
                for (i = 0; i < a->u.array.len; i++)
                        if (!tree_equal(a->u.array.values[i], b->u.array.values[i]))
                                return false;
                return true;
        default:
                return true;
        }
}

static void check_config(const struct oci_config *c)
{
        _cleanup_free_ char *rootfs = NULL;
        uid_t uid;
        gid_t gid;
        size_t i, count;

        FUZZ_CHECK(c->root_path && c->root_path[0], "root.path");
        FUZZ_CHECK(c->n_args == 0 || c->args, "args");
        for (i = 0; i < c->n_args; i++)
                FUZZ_CHECK(c->args[i], "args[%zu]", i);
        for (i = 0; i < c->n_env; i++)
                FUZZ_CHECK(c->env[i], "env[%zu]", i);
        for (i = 0; i < c->n_mounts; i++)
                FUZZ_CHECK(c->mounts[i].destination, "mounts[%zu]", i);
        for (i = 0; i < c->n_annotations; i++)
                FUZZ_CHECK(c->annotations[i].key && c->annotations[i].value, "annotations[%zu]", i);
        (void)spec_env_get(c->env, c->n_env, "container_uuid", &count);
        (void)spec_env_get(c->env, c->n_env, "oci-systemd-hook", NULL);
        if (spec_host_root(c, &uid, &gid))
                FUZZ_CHECK(c->has_userns, "host root without a user namespace");
        rootfs = spec_rootfs_path(c, "/run/bundle");
        FUZZ_CHECK(rootfs && rootfs[0] == '/', "rootfs path `%s`", rootfs ? rootfs : "(null)");
}

/* inject_main() without the file: inject, serialise, reparse. */
static void check_inject(yajl_val tree, const char *stage)
{
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_json_ yajl_val back = NULL;
        hook_error_t err = {};
        size_t len = 0, len2 = 0;
        int r;

        r = inject_into_tree(tree, stage, HOOK_PATH, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return;
        }
        FUZZ_CHECK(r == 0 || r == 1, "inject returned %d", r);
        r = json_serialise(tree, &out, &len, &err);
        FUZZ_CHECK(r >= 0, "serialising a parsed tree failed: %s", err.msg);
        FUZZ_CHECK(len == strlen(out) && len > 0 && out[len - 1] == '\n', "serialised length");
        r = json_parse(out, len, &back, &err);
        FUZZ_CHECK(r >= 0, "inject output does not parse: %s\n%s", err.msg, out);
        FUZZ_CHECK(tree_equal(tree, back), "inject output parses to another tree:\n%s", out);
        r = inject_into_tree(back, stage, HOOK_PATH, &err);
        FUZZ_CHECK(r == 0, "second inject changed the tree (r=%d %s)", r, err.msg);
        r = json_serialise(back, &out2, &len2, &err);
        FUZZ_CHECK(r >= 0 && len2 == len && memcmp(out, out2, len) == 0, "serialising is not stable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data;
        struct oci_config c;
        _cleanup_json_ yajl_val tree = NULL;
        hook_error_t err = {};
        int fd0 = fuzz_lowest_fd(), r;

        if (size > CONFIG_MAX_BYTES)
                return 0;
        r = json_parse(buf, size, &tree, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
        } else {
                check_tree(tree, 0);
                if (tree->type == yajl_t_object)
                        check_inject(tree, size % 2 ? "prestart" : "createRuntime");
                else
                        FUZZ_CHECK(inject_into_tree(tree, "createRuntime", HOOK_PATH, &err) < 0,
                                   "inject into a non-object");
        }
        memset(&err, 0, sizeof(err));
        r = spec_parse_config(buf, size, &c, &err);
        if (r < 0) {
                /* Messages may quote input (keys with "\n"): log_msg()
                 * makes them one line, so no check on that here. */
                fuzz_check_error(r, &err);
        } else {
                FUZZ_CHECK(tree != NULL, "spec_parse_config accepted what json_parse refused");
                check_config(&c);
        }
        spec_config_done(&c);
        FUZZ_CHECK(fuzz_lowest_fd() == fd0, "fd leak");
        return 0;
}
