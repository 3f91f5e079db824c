/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of the OCI state (stdin) and config.json.  Pure: no I/O here. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "fsutil.h"
#include "spec.h"

#define PID_MAX_LIMIT 4194304   /* linux/threads.h, 64-bit */

static int parse_kv_object(yajl_val obj, const char *what, struct kv **ret, size_t *ret_n,
                           hook_error_t *err)
{
        size_t i, n = obj->u.object.len;
        struct kv *a;

        a = xcalloc(n, sizeof(*a));
        for (i = 0; i < n; i++) {
                yajl_val v = obj->u.object.values[i];
                if (v->type != yajl_t_string) {
                        free(a);
                        return hook_error_set(err, EINVAL, "`%s.%.64s` must be a string", what,
                                              obj->u.object.keys[i]);
                }
                a[i].key = obj->u.object.keys[i];
                a[i].value = v->u.string;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

static int parse_annotations(yajl_val root, struct kv **ret, size_t *ret_n, hook_error_t *err)
{
        yajl_val a = NULL;
        int r = json_get_object(root, "annotations", "annotations", &a, err);

        if (r <= 0)
                return r;
        return parse_kv_object(a, "annotations", ret, ret_n, err);
}

static int require_string(yajl_val root, const char *key, const char **ret, hook_error_t *err)
{
        int r = json_get_string(root, key, key, ret, err);
        if (r < 0)
                return r;
        if (r == 0)
                return hook_error_set(err, EINVAL, "required field `%s` is missing", key);
        return 0;
}

static bool has_control_chars(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static bool has_dotdot(const char *p)
{
        const char *s = p;

        while ((s = strstr(s, ".."))) {
                if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
                        return true;
                s += 2;
        }
        return false;
}

static int check_state_fields(struct oci_state *s, hook_error_t *err)
{
        if (s->id[0] == '\0' || strlen(s->id) > 1024 || has_control_chars(s->id) || strchr(s->id, '/'))
                return hook_error_set(err, EINVAL, "`id` is empty, too long or has control characters or `/`");
        if (has_control_chars(s->bundle) || strlen(s->bundle) >= PATH_MAX)
                return hook_error_set(err, EINVAL, "`bundle` is too long or has bad characters");
        if (s->bundle[0] != '/')
                return hook_error_set(err, EINVAL, "`bundle` `%.200s` is not an absolute path", s->bundle);
        if (has_dotdot(s->bundle))
                return hook_error_set(err, EINVAL, "`bundle` `%.200s` has a `..` component",
                                      s->bundle);
        return 0;
}

static int parse_state_tree(struct oci_state *s, hook_error_t *err)
{
        long long pid = 0;
        int r;

        if (s->tree->type != yajl_t_object)
                return hook_error_set(err, EINVAL, "the state must be a JSON object");
        /* id first so later errors can name the container. */
        if ((r = require_string(s->tree, "id", &s->id, err)) < 0 ||
            (r = require_string(s->tree, "ociVersion", &s->oci_version, err)) < 0 ||
            (r = require_string(s->tree, "status", &s->status, err)) < 0 ||
            (r = require_string(s->tree, "bundle", &s->bundle, err)) < 0)
                return r;
        r = json_get_int(s->tree, "pid", "pid", &pid, err);
        if (r < 0)
                return r;
        if (pid < 0 || pid > PID_MAX_LIMIT || pid == 1)
                return hook_error_set(err, ERANGE, "`pid` %lld is not a container process id", pid);
        s->pid = (pid_t)pid;
        if ((r = check_state_fields(s, err)) < 0)
                return r;
        return parse_annotations(s->tree, &s->annotations, &s->n_annotations, err);
}

/* On error *ret still holds what was parsed (the id, for the error line);
 * the caller always calls spec_state_done(). */
int spec_parse_state(const char *buf, size_t len, struct oci_state *ret, hook_error_t *err)
{
        int r;

        memset(ret, 0, sizeof(*ret));
        r = json_parse(buf, len, &ret->tree, err);
        if (r >= 0)
                r = parse_state_tree(ret, err);
        if (r < 0)
                return hook_error_prefix(err, "state");
        return 0;
}

void spec_state_done(struct oci_state *s)
{
        free(s->annotations);
        json_free(s->tree);
        memset(s, 0, sizeof(*s));
}

static int string_array(yajl_val arr, const char *what, const char ***ret, size_t *ret_n, hook_error_t *err)
{
        size_t i, n = arr->u.array.len;
        const char **a = xcalloc(n + 1, sizeof(*a));

        for (i = 0; i < n; i++) {
                if (arr->u.array.values[i]->type != yajl_t_string) {
                        free(a);
                        return hook_error_set(err, EINVAL, "`%s[%zu]` must be a string", what, i);
                }
                a[i] = arr->u.array.values[i]->u.string;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

static int parse_process(struct oci_config *c, hook_error_t *err)
{
        yajl_val proc = NULL, a = NULL;
        int r;

        r = json_get_object(c->tree, "process", "process", &proc, err);
        if (r <= 0)
                return r;
        r = json_get_array(proc, "args", "process.args", &a, err);
        if (r > 0)
                r = string_array(a, "process.args", &c->args, &c->n_args, err);
        if (r < 0)
                return r;
        a = NULL;
        r = json_get_array(proc, "env", "process.env", &a, err);
        if (r > 0)
                r = string_array(a, "process.env", &c->env, &c->n_env, err);
        if (r >= 0)
                r = json_get_bool(proc, "terminal", "process.terminal", &c->terminal, err);
        return r < 0 ? r : 0;
}

static int parse_root(struct oci_config *c, hook_error_t *err)
{
        yajl_val root = NULL;
        int r;

        r = json_get_object(c->tree, "root", "root", &root, err);
        if (r < 0)
                return r;
        if (r == 0)
                return hook_error_set(err, EINVAL, "required field `root` is missing");
        r = json_get_string(root, "path", "root.path", &c->root_path, err);
        if (r < 0)
                return r;
        if (r == 0 || c->root_path[0] == '\0')
                return hook_error_set(err, EINVAL, "required field `root.path` is missing or empty");
        if (strlen(c->root_path) >= PATH_MAX || has_control_chars(c->root_path))
                return hook_error_set(err, EINVAL, "`root.path` is too long or has control characters");
        r = json_get_bool(root, "readonly", "root.readonly", &c->root_readonly, err);
        return r < 0 ? r : 0;
}

static int parse_mount_options(yajl_val m, struct oci_mount *om, hook_error_t *err)
{
        yajl_val arr = NULL;
        size_t i;
        int r = json_get_array(m, "options", "mounts[].options", &arr, err);

        for (i = 0; r > 0 && i < arr->u.array.len; i++) {
                yajl_val o = arr->u.array.values[i];
                if (o->type == yajl_t_string && (streq(o->u.string, "ro") || streq(o->u.string, "rw")))
                        om->readonly = streq(o->u.string, "ro");
        }
        return r < 0 ? r : 0;
}

static int parse_mounts(struct oci_config *c, hook_error_t *err)
{
        yajl_val arr = NULL;
        size_t i;
        int r;

        r = json_get_array(c->tree, "mounts", "mounts", &arr, err);
        if (r <= 0)
                return r;
        c->mounts = xcalloc(arr->u.array.len, sizeof(*c->mounts));
        for (i = 0; i < arr->u.array.len; i++) {
                yajl_val m = arr->u.array.values[i];
                struct oci_mount *om = &c->mounts[c->n_mounts++];

                if (m->type != yajl_t_object)
                        return hook_error_set(err, EINVAL, "`mounts[%zu]` must be an object", i);
                r = json_get_string(m, "destination", "mounts[].destination", &om->destination, err);
                if (r == 0)
                        r = hook_error_set(err, EINVAL, "`mounts[%zu].destination` is missing", i);
                if (r < 0 ||
                    json_get_string(m, "type", "mounts[].type", &om->type, err) < 0 ||
                    json_get_string(m, "source", "mounts[].source", &om->source, err) < 0 ||
                    parse_mount_options(m, om, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int parse_id_maps(yajl_val linux_, const char *key, struct id_map **ret, size_t *ret_n,
                         hook_error_t *err)
{
        yajl_val arr = NULL;
        size_t i;
        int r;

        r = json_get_array(linux_, key, key, &arr, err);
        if (r <= 0)
                return r;
        *ret = xcalloc(arr->u.array.len, sizeof(**ret));
        for (i = 0; i < arr->u.array.len; i++) {
                yajl_val m = arr->u.array.values[i];
                long long cid = -1, hid = -1, size = -1;

                if (m->type != yajl_t_object)
                        return hook_error_set(err, EINVAL, "`linux.%s[%zu]` must be an object", key, i);
                if (json_get_int(m, "containerID", "containerID", &cid, err) < 0 ||
                    json_get_int(m, "hostID", "hostID", &hid, err) < 0 ||
                    json_get_int(m, "size", "size", &size, err) < 0)
                        return hook_error_prefix(err, "`linux.%s[%zu]`", key, i);
                if (cid < 0 || hid < 0 || size <= 0 || cid > UINT32_MAX || hid > UINT32_MAX ||
                    size > UINT32_MAX)
                        return hook_error_set(err, EINVAL, "`linux.%s[%zu]` is not a valid mapping", key, i);
                (*ret)[(*ret_n)++] = (struct id_map){ (unsigned long)cid, (unsigned long)hid, (unsigned long)size };
        }
        return 0;
}

static int parse_namespaces(struct oci_config *c, yajl_val linux_, hook_error_t *err)
{
        yajl_val arr = NULL;
        size_t i;
        int r;

        r = json_get_array(linux_, "namespaces", "linux.namespaces", &arr, err);
        if (r <= 0)
                return r;
        for (i = 0; i < arr->u.array.len; i++) {
                yajl_val ns = arr->u.array.values[i];
                const char *type = NULL;

                if (ns->type != yajl_t_object)
                        return hook_error_set(err, EINVAL, "`linux.namespaces[%zu]` must be an object", i);
                r = json_get_string(ns, "type", "linux.namespaces[].type", &type, err);
                if (r <= 0)
                        return r < 0 ? r : hook_error_set(err, EINVAL, "`linux.namespaces[%zu].type` is missing", i);
                if (streq(type, "user"))
                        c->has_userns = true;
                else if (streq(type, "cgroup"))
                        c->has_cgroupns = true;
                else if (streq(type, "mount"))
                        c->has_mntns = true;
                else if (streq(type, "network"))
                        c->has_netns = true;
        }
        return 0;
}

static int parse_linux(struct oci_config *c, hook_error_t *err)
{
        yajl_val linux_ = NULL;
        int r;

        r = json_get_object(c->tree, "linux", "linux", &linux_, err);
        if (r <= 0)
                return r;
        if ((r = json_get_string(linux_, "cgroupsPath", "linux.cgroupsPath", &c->cgroups_path, err)) < 0 ||
            (r = json_get_string(linux_, "mountLabel", "linux.mountLabel", &c->mount_label, err)) < 0 ||
            (r = parse_namespaces(c, linux_, err)) < 0 ||
            (r = parse_id_maps(linux_, "uidMappings", &c->uid_maps, &c->n_uid_maps, err)) < 0 ||
            (r = parse_id_maps(linux_, "gidMappings", &c->gid_maps, &c->n_gid_maps, err)) < 0)
                return r;
        /* MCS labels hold commas (s0:c1,c2); fsconfig() takes the value
         * whole, so only length and control characters matter. */
        if (c->mount_label && (strlen(c->mount_label) > 1024 || has_control_chars(c->mount_label)))
                return hook_error_set(err, EINVAL, "`linux.mountLabel` is not a valid label");
        return 0;
}

int spec_parse_config(const char *buf, size_t len, struct oci_config *ret, hook_error_t *err)
{
        struct oci_config *c = ret;
        int r;

        memset(c, 0, sizeof(*c));
        r = json_parse(buf, len, &c->tree, err);
        if (r >= 0 && c->tree->type != yajl_t_object)
                r = hook_error_set(err, EINVAL, "the document must be a JSON object");
        if (r >= 0 && (r = parse_root(c, err)) >= 0 && (r = parse_process(c, err)) >= 0 &&
            (r = parse_mounts(c, err)) >= 0 && (r = parse_linux(c, err)) >= 0)
                r = parse_annotations(c->tree, &c->annotations, &c->n_annotations, err);
        if (r < 0) {
                spec_config_done(c);
                return hook_error_prefix(err, "config.json");
        }
        return 0;
}

void spec_config_done(struct oci_config *c)
{
        free(c->args);
        free(c->env);
        free(c->mounts);
        free(c->annotations);
        free(c->uid_maps);
        free(c->gid_maps);
        json_free(c->tree);
        memset(c, 0, sizeof(*c));
}

static const char *const stage_names[] = {
        [STAGE_PRESTART] = "prestart",
        [STAGE_CREATE_RUNTIME] = "createRuntime",
        [STAGE_POSTSTOP] = "poststop",
};

enum hook_stage spec_stage_from_name(const char *name)
{
        size_t i;

        for (i = 1; i < ELEMENTSOF(stage_names); i++)
                if (streq(name, stage_names[i]))
                        return (enum hook_stage)i;
        if (streq(name, "createContainer") || streq(name, "startContainer") || streq(name, "poststart"))
                return STAGE_IGNORED;
        return STAGE_UNKNOWN;
}

const char *spec_stage_name(enum hook_stage s)
{
        if (s == STAGE_IGNORED)
                return "ignored stage";
        if (s > STAGE_UNKNOWN && s < ELEMENTSOF(stage_names))
                return stage_names[s];
        return "unknown";
}

enum hook_stage spec_stage(int argc, char *const argv[], const char *status)
{
        int i;

        /* argv[0] is the program (hooks.d and config.json pass the binary
         * name there); any later argument that names a stage decides. */
        for (i = 1; i < argc; i++) {
                enum hook_stage s = spec_stage_from_name(argv[i]);
                if (s != STAGE_UNKNOWN)
                        return s;
        }
        if (!status)
                return STAGE_UNKNOWN;
        /* runc passes "creating" at prestart/createRuntime, crun "created".
         * "stopped" is poststop, or runc restore re-running the create hooks;
         * main() tells these apart by whether the pid is alive. */
        if (streq(status, "creating") || streq(status, "created"))
                return STAGE_CREATE_RUNTIME;
        if (streq(status, "stopped"))
                return STAGE_POSTSTOP;
        return STAGE_UNKNOWN;
}

const char *spec_annotation(const struct kv *a, size_t n, const char *key)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (streq(a[i].key, key))
                        return a[i].value;
        return NULL;
}

const char *spec_env_get(const char *const *env, size_t n, const char *name, size_t *ret_count)
{
        size_t i, len = strlen(name), count = 0;
        const char *first = NULL;

        for (i = 0; i < n; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
                        if (!first)
                                first = env[i] + len + 1;
                        count++;
                }
        if (ret_count)
                *ret_count = count;
        return first;
}

static bool map_zero(const struct id_map *m, size_t n, unsigned long *ret)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (m[i].container_id == 0) {
                        *ret = m[i].host_id;
                        return true;
                }
        return false;
}

bool spec_host_root(const struct oci_config *c, uid_t *ret_uid, gid_t *ret_gid)
{
        unsigned long u, g;

        if (!c->has_userns || !map_zero(c->uid_maps, c->n_uid_maps, &u) ||
            !map_zero(c->gid_maps, c->n_gid_maps, &g))
                return false;
        *ret_uid = (uid_t)u;
        *ret_gid = (gid_t)g;
        return true;
}

char *spec_rootfs_real_path(const struct oci_config *c, const char *bundle)
{
        _cleanup_free_ char *p = spec_rootfs_path(c, bundle);
        char *real = realpath(p, NULL);

        /* runc resolves a symlinked root.path before it mounts it */
        return real ? real : TAKE_PTR(p);
}

char *spec_rootfs_path(const struct oci_config *c, const char *bundle)
{
        _cleanup_free_ char *p = NULL;

        /* Clean, as runtimes mount it (runc refuses anything else): the
         * mount table is matched against it. */
        if (c->root_path[0] == '/')
                return path_clean(c->root_path);
        p = xmalloc(strlen(bundle) + strlen(c->root_path) + 2);
        (void)sprintf(p, "%s/%s", bundle, c->root_path);
        return path_clean(p);
}

bool spec_cap_listed(yajl_val set, const char *cap)
{
        size_t i;

        if (!set || set->type != yajl_t_array)
                return false;
        for (i = 0; i < set->u.array.len; i++)
                if (set->u.array.values[i]->type == yajl_t_string && streq(set->u.array.values[i]->u.string, cap))
                        return true;
        return false;
}

bool spec_cap_granted(const struct oci_config *c, const char *cap)
{
        static const char *const sets[] = { "bounding", "effective", "permitted" };
        yajl_val caps = json_obj_get(json_obj_get(c->tree, "process"), "capabilities");
        size_t i;

        if (!caps || caps->type != yajl_t_object)
                return true;
        for (i = 0; i < ELEMENTSOF(sets); i++)
                if (!spec_cap_listed(json_obj_get(caps, sets[i]), cap))
                        return false;
        return true;
}
