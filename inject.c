/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>

#include "inject.h"
#include "log.h"
#include "spec.h"

static yajl_val new_node(yajl_type t)
{
        yajl_val v = xcalloc(1, sizeof(*v));
        v->type = t;
        return v;
}

static yajl_val new_string(const char *s)
{
        yajl_val v = new_node(yajl_t_string);
        v->u.string = xstrdup(s);
        return v;
}

static void obj_add(yajl_val obj, const char *key, yajl_val v)
{
        size_t n = obj->u.object.len;

        obj->u.object.keys = xrealloc(obj->u.object.keys, (n + 1) * sizeof(char *));
        obj->u.object.values = xrealloc(obj->u.object.values, (n + 1) * sizeof(yajl_val));
        obj->u.object.keys[n] = xstrdup(key);
        obj->u.object.values[n] = v;
        obj->u.object.len = n + 1;
}

static void arr_add(yajl_val arr, yajl_val v)
{
        arr->u.array.values = xrealloc(arr->u.array.values, (arr->u.array.len + 1) * sizeof(yajl_val));
        arr->u.array.values[arr->u.array.len++] = v;
}

static int child(yajl_val parent, const char *key, yajl_type t, yajl_val *ret, hook_error_t *err)
{
        yajl_val v = json_obj_get(parent, key);

        if (!v) {
                v = new_node(t);
                obj_add(parent, key, v);
        } else if (v->type != t) {
                return hook_error_set(err, EINVAL, "`%s` has an unexpected type", key);
        }
        *ret = v;
        return 0;
}

int inject_into_tree(yajl_val tree, const char *stage, const char *path, hook_error_t *err)
{
        yajl_val hooks, list, entry, args;
        size_t i;
        int r;

        if (!tree || tree->type != yajl_t_object)
                return hook_error_set(err, EINVAL, "not a JSON object");
        if ((r = child(tree, "hooks", yajl_t_object, &hooks, err)) < 0 ||
            (r = child(hooks, stage, yajl_t_array, &list, err)) < 0)
                return r;
        for (i = 0; i < list->u.array.len; i++) {
                const char *p = NULL;
                if (json_get_string(list->u.array.values[i], "path", "hooks[].path", &p, err) > 0 && streq(p, path))
                        return 0;
        }
        entry = new_node(yajl_t_object);
        obj_add(entry, "path", new_string(path));
        args = new_node(yajl_t_array);
        arr_add(args, new_string("oci-systemd-hook"));
        arr_add(args, new_string(stage));
        obj_add(entry, "args", args);
        arr_add(list, entry);
        return 1;
}

int json_set_string(yajl_val tree, const char *const *keys, size_t n, const char *value, hook_error_t *err)
{
        yajl_val obj = tree, v;
        size_t i;
        int r;

        if (!tree || tree->type != yajl_t_object || n == 0)
                return hook_error_set(err, EINVAL, "not a JSON object");
        for (i = 0; i + 1 < n; i++)
                if ((r = child(obj, keys[i], yajl_t_object, &obj, err)) < 0)
                        return r;
        v = json_obj_get(obj, keys[n - 1]);
        if (v && v->type == yajl_t_string && streq(v->u.string, value))
                return 0;
        if (v && v->type != yajl_t_string)
                return hook_error_set(err, EINVAL, "`%s` is not a string", keys[n - 1]);
        if (v) {
                free(v->u.string);
                v->u.string = xstrdup(value);
        } else {
                obj_add(obj, keys[n - 1], new_string(value));
        }
        return 1;
}

int inject_namespace(yajl_val tree, const char *type, hook_error_t *err)
{
        yajl_val linux_ = NULL, list = NULL, ns;
        size_t i;
        int r;

        if (!tree || tree->type != yajl_t_object)
                return hook_error_set(err, EINVAL, "not a JSON object");
        if ((r = child(tree, "linux", yajl_t_object, &linux_, err)) < 0 ||
            (r = child(linux_, "namespaces", yajl_t_array, &list, err)) < 0)
                return r;
        for (i = 0; i < list->u.array.len; i++) {
                const char *t = NULL;
                if (json_get_string(list->u.array.values[i], "type", "namespaces[].type", &t, err) > 0 &&
                    streq(t, type))
                        return 0;
        }
        ns = new_node(yajl_t_object);
        obj_add(ns, "type", new_string(type));
        arr_add(list, ns);
        return 1;
}

static yajl_gen_status gen(yajl_gen g, yajl_val v)
{
        yajl_gen_status s = yajl_gen_status_ok;
        size_t i;

        switch (v->type) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        case yajl_t_number:
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        case yajl_t_true:
        case yajl_t_false:
                return yajl_gen_bool(g, v->type == yajl_t_true);
        case yajl_t_null:
                return yajl_gen_null(g);
        case yajl_t_object:
                s = yajl_gen_map_open(g);
                for (i = 0; s == yajl_gen_status_ok && i < v->u.object.len; i++) {
                        s = yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i],
                                            strlen(v->u.object.keys[i]));
                        if (s == yajl_gen_status_ok)
                                s = gen(g, v->u.object.values[i]);
                }
                return s == yajl_gen_status_ok ? yajl_gen_map_close(g) : s;
        case yajl_t_array:
                s = yajl_gen_array_open(g);
                for (i = 0; s == yajl_gen_status_ok && i < v->u.array.len; i++)
                        s = gen(g, v->u.array.values[i]);
                return s == yajl_gen_status_ok ? yajl_gen_array_close(g) : s;
        default:
                return yajl_gen_invalid_string;
        }
}

int json_serialise(yajl_val v, char **ret, size_t *ret_len, hook_error_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        const unsigned char *out;
        size_t len;
        int r = 0;

        if (!g)
                return hook_error_set(err, ENOMEM, "yajl_gen_alloc");
        (void)yajl_gen_config(g, yajl_gen_beautify, 1);
        (void)yajl_gen_config(g, yajl_gen_indent_string, "  ");
        if (gen(g, v) != yajl_gen_status_ok || yajl_gen_get_buf(g, &out, &len) != yajl_gen_status_ok)
                r = hook_error_set(err, EINVAL, "serialising JSON failed");
        else {
                *ret = xmalloc(len + 2);
                memcpy(*ret, out, len);
                if (len == 0 || (*ret)[len - 1] != '\n')
                        (*ret)[len++] = '\n';
                (*ret)[len] = '\0';
                *ret_len = len;
        }
        yajl_gen_free(g);
        return r;
}

int write_file_atomic(const char *file, const char *data, size_t len, mode_t mode, hook_error_t *err)
{
        _cleanup_free_ char *copy = xstrdup(file), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *dir = dirname(copy);
        int r;

        tmp = xmalloc(strlen(file) + 32);
        (void)sprintf(tmp, "%s.osh-tmp.%ld", file, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return hook_error_set(err, errno, "create `%s`: %s", tmp, strerror(errno));
        if ((r = write_all(fd, data, len)) < 0) {
                (void)unlink(tmp);
                return hook_error_set(err, r, "write `%s`: %s", tmp, strerror(-r));
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, file) < 0) {
                int e = errno;
                (void)unlink(tmp);
                return hook_error_set(err, e, "replace `%s`: %s", file, strerror(e));
        }
        closep(&fd);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void)fsync(fd);
        return 0;
}

char *self_path(void)
{
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

int inject_file(const char *file, const char *stage, const char *path, hook_error_t *err)
{
        _cleanup_free_ char *buf = NULL, *out = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_json_ yajl_val tree = NULL;
        struct stat st;
        size_t len;
        int r;

        if (!streq(stage, "createRuntime") && !streq(stage, "prestart"))
                return hook_error_set(err, EINVAL, "stage `%.32s` is not createRuntime or prestart", stage);
        if (!path || path[0] != '/')
                return hook_error_set(err, EINVAL, "the hook path must be absolute");
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return hook_error_set(err, fd < 0 ? errno : EINVAL, "`%s`: %s", file,
                                      fd < 0 ? strerror(errno) : "not a regular file");
        r = read_fd_capped(fd, CONFIG_MAX_BYTES, &buf, &len, err);
        if (r >= 0)
                r = json_parse(buf, len, &tree, err);
        if (r >= 0)
                r = inject_into_tree(tree, stage, path, err);
        if (r > 0 && (r = json_serialise(tree, &out, &len, err)) >= 0 &&
            (r = write_file_atomic(file, out, len, st.st_mode & 07777, err)) >= 0)
                return 1;
        return r < 0 ? hook_error_prefix(err, "`%s`", file) : 0;
}

int inject_main(const char *file, const char *stage, const char *path)
{
        _cleanup_free_ char *self = NULL;
        hook_error_t err = {};
        int r;

        if (!path)
                path = self = self_path();
        r = inject_file(file, stage, path, &err);
        if (r < 0) {
                log_error("inject: %s; file left unchanged", err.msg);
                return r;
        }
        return 0;
}
