/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spec.c: the OCI state on stdin, config.json, and the hook stage. */
#include <sys/types.h>

#include "testutil.h"

/* ---- state ----------------------------------------------------------------
 * A state document from raw JSON values; NULL leaves the key out. */
static char *field(const char *key, const char *raw)
{
        return raw ? tu_printf(",\"%s\":%s", key, raw) : xstrdup("");
}

static char *state_doc(const char *id, const char *pid, const char *bundle, const char *extra)
{
        _cleanup_free_ char *i = field("id", id), *p = field("pid", pid), *b = field("bundle", bundle);

        return tu_printf("{\"ociVersion\":\"1.0.2-dev\"%s,\"status\":\"creating\"%s%s%s%s}", i, p, b,
                         extra ? "," : "", extra ? extra : "");
}

static const struct {
        const char *id, *pid, *bundle, *extra;
        const char *msg;
        const char *parsed_id;     /* what the caller can print; NULL: none */
} bad_states[] = {
        { NULL, "42", "\"/b\"", NULL, "required field `id` is missing", NULL },
        { "7", "42", "\"/b\"", NULL, "`id` must be a string, not a number", NULL },
        { "\"\"", "42", "\"/b\"", NULL, "`id` is empty", "" },
        { "\"a/b\"", "42", "\"/b\"", NULL, "`/`", "a/b" },
        { "\"a\\nb\"", "42", "\"/b\"", NULL, "control characters", "a\nb" },
        { "\"abc\"", "42", NULL, NULL, "required field `bundle` is missing", "abc" },
        { "\"abc\"", "42", "\"b/c\"", NULL, "`bundle` `b/c` is not an absolute path", "abc" },
        { "\"abc\"", "42", "\"/b/../etc\"", NULL, "has a `..` component", "abc" },
        { "\"abc\"", "42", "\"/b/..\"", NULL, "has a `..` component", "abc" },
        { "\"abc\"", "42", "\"/b\\n/c\"", NULL, "bad characters", "abc" },
        { "\"abc\"", "42", "\"/b\\u001b[2J\"", NULL, "bad characters", "abc" },
        { "\"abc\"", "42", "[\"/b\"]", NULL, "`bundle` must be a string, not an array", "abc" },
        { "\"abc\"", "\"123\"", "\"/b\"", NULL, "`pid` must be a number, not a string", "abc" },
        { "\"abc\"", "1.5", "\"/b\"", NULL, "`pid` must be an integer, not `1.5`", "abc" },
        { "\"abc\"", "1e3", "\"/b\"", NULL, "`pid` must be an integer, not `1e3`", "abc" },
        { "\"abc\"", "1", "\"/b\"", NULL, "`pid` 1 is not a container process id", "abc" },
        { "\"abc\"", "-1", "\"/b\"", NULL, "`pid` -1 is not a container process id", "abc" },
        { "\"abc\"", "9223372036854775808", "\"/b\"", NULL, "`pid` must be an integer", "abc" },
        { "\"abc\"", "4194305", "\"/b\"", NULL, "`pid` 4194305 is not a container process id", "abc" },
        { "\"abc\"", "null", "\"/b\"", NULL, "`pid` must be a number, not null", "abc" },
        { "\"abc\"", "42", "\"/b\"", "\"annotations\":[]", "`annotations` must be an object, not an array", "abc" },
        { "\"abc\"", "42", "\"/b\"", "\"annotations\":{\"a\":\"x\",\"b\":1}", "`annotations.b` must be a string", "abc" },
        { "\"abc\"", "42", "\"/b\"", "\"pid\":43", "duplicate key `pid`", NULL },
        { "\"abc\"", "42", "\"/b\"", "\"bundle\":\"/evil\"", "duplicate key `bundle`", NULL },
        { "\"abc\"", "42", "\"/b\"", "\"x\":1 /* comment */", "comment", NULL },
        { "\"a\\u0000b\"", "42", "\"/b\"", NULL, "NUL character", NULL },
};

static const struct {
        const char *doc, *msg, *parsed_id;
} bad_state_docs[] = {
        { "[]", "the state must be a JSON object", NULL },
        { "\"abc\"", "the state must be a JSON object", NULL },
        { "42", "the state must be a JSON object", NULL },
        { "{\"id\":\"abc\",\"status\":\"creating\",\"bundle\":\"/b\"}", "required field `ociVersion` is missing",
          "abc" },
        { "{\"id\":\"abc\",\"ociVersion\":\"1\",\"bundle\":\"/b\"}", "required field `status` is missing", "abc" },
        { "{\"id\":\"abc\",\"ociVersion\":\"1\",\"bundle\":\"/b\",\"status\":7}",
          "`status` must be a string, not a number", "abc" },
        { "", "empty input", NULL },
        { "{\"id\":\"abc\"", "premature EOF", NULL },
};

static bool has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static void check_bad_state(const char *doc, const char *msg, const char *parsed_id)
{
        struct oci_state s;
        hook_error_t err = {};
        int r = spec_parse_state(doc, strlen(doc), &s, &err);

        ck_assert_err(r, &err, msg);
        ck_assert_msg(strncmp(err.msg, "state: ", 7) == 0, "`%s` has no `state:` prefix", err.msg);
        /* The message goes to a terminal and syslog: no raw control bytes. */
        ck_assert_msg(!has_control(err.msg), "`%s` carries control characters", err.msg);
        if (parsed_id)
                ck_assert_str_eq(s.id, parsed_id);
        else
                ck_assert_ptr_null(s.id);
        spec_state_done(&s);
        ck_assert_ptr_null(s.tree);
}

START_TEST(test_state_bad)
{
        _cleanup_free_ char *doc = state_doc(bad_states[_i].id, bad_states[_i].pid, bad_states[_i].bundle,
                                             bad_states[_i].extra);
        check_bad_state(doc, bad_states[_i].msg, bad_states[_i].parsed_id);
}
END_TEST

START_TEST(test_state_bad_doc)
{
        check_bad_state(bad_state_docs[_i].doc, bad_state_docs[_i].msg, bad_state_docs[_i].parsed_id);
}
END_TEST

START_TEST(test_state_id_too_long)
{
        _cleanup_free_ char *id = xmalloc(1026), *quoted = NULL, *doc = NULL;

        memset(id, 'a', 1025);
        id[1025] = '\0';
        quoted = tu_printf("\"%s\"", id);
        doc = state_doc(quoted, "42", "\"/b\"", NULL);
        check_bad_state(doc, "too long", id);
}
END_TEST

static const struct {
        const char *pid;
        pid_t want;
} good_pids[] = {
        { NULL, 0 }, { "0", 0 }, { "2", 2 }, { "4194304", 4194304 },
};

START_TEST(test_state_pid_ok)
{
        _cleanup_free_ char *doc = state_doc("\"abc\"", good_pids[_i].pid, "\"/b\"", NULL);
        struct oci_state s;
        hook_error_t err = {};

        ck_assert_ok(spec_parse_state(doc, strlen(doc), &s, &err), &err);
        ck_assert_int_eq(s.pid, good_pids[_i].want);
        ck_assert_uint_eq(s.n_annotations, 0);
        ck_assert_ptr_null(s.annotations);
        spec_state_done(&s);
}
END_TEST

static const struct {
        const char *file, *id, *status, *bundle, *oci_version;
        pid_t pid;
        size_t n_annotations;
} real_states[] = {
        { "state-runc.json", "3f2a9c6e1b7d4a5f8e0c2b1a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e", "creating",
          "/run/containerd/io.containerd.runtime.v2.task/default/"
          "3f2a9c6e1b7d4a5f8e0c2b1a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e",
          "1.0.2-dev", 4242, 0 },
        { "state-crun.json", "systemd-test", "created", "/var/tmp/osh bundle", "1.0.0", 31337, 0 },
        { "state-podman.json", "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", "created",
          "/var/lib/containers/storage/overlay-containers/"
          "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00/userdata",
          "1.0.2-dev", 123456, 4 },
};

START_TEST(test_state_real)
{
        size_t len;
        _cleanup_free_ char *doc = tu_data(real_states[_i].file, &len);
        struct oci_state s;
        hook_error_t err = {};

        ck_assert_ok(spec_parse_state(doc, len, &s, &err), &err);
        ck_assert_str_eq(s.id, real_states[_i].id);
        ck_assert_str_eq(s.status, real_states[_i].status);
        ck_assert_str_eq(s.bundle, real_states[_i].bundle);
        ck_assert_str_eq(s.oci_version, real_states[_i].oci_version);
        ck_assert_int_eq(s.pid, real_states[_i].pid);
        ck_assert_uint_eq(s.n_annotations, real_states[_i].n_annotations);
        if (s.n_annotations) {
                ck_assert_str_eq(spec_annotation(s.annotations, s.n_annotations, "oci-systemd-hook"), "enabled");
                ck_assert_str_eq(spec_annotation(s.annotations, s.n_annotations,
                                                 "org.opencontainers.image.stopSignal"), "37");
                ck_assert_ptr_null(spec_annotation(s.annotations, s.n_annotations, "oci-systemd"));
        }
        spec_state_done(&s);
}
END_TEST

/* ---- config.json ----------------------------------------------------------- */

static const struct {
        const char *doc, *msg;
} bad_configs[] = {
#define R(rest) "{\"root\":{\"path\":\"r\"}," rest "}"
        { "[]", "the document must be a JSON object" },
        { "{}", "required field `root` is missing" },
        { "{\"root\":\"rootfs\"}", "`root` must be an object, not a string" },
        { "{\"root\":{}}", "`root.path` is missing or empty" },
        { "{\"root\":{\"path\":\"\"}}", "`root.path` is missing or empty" },
        { "{\"root\":{\"path\":5}}", "`root.path` must be a string, not a number" },
        { "{\"root\":{\"path\":\"r\\tx\"}}", "`root.path` is too long or has control characters" },
        { "{\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}", "`root.readonly` must be a boolean, not a string" },
        { "{\"root\":{\"path\":\"r\",\"readonly\":1}}", "`root.readonly` must be a boolean, not a number" },
        { R("\"process\":[]"), "`process` must be an object, not an array" },
        { R("\"process\":{\"args\":\"/sbin/init\"}"),
          "`process.args` must be an array, not a string" },
        { R("\"process\":{\"args\":[\"/sbin/init\",5]}"), "`process.args[1]` must be a string" },
        { R("\"process\":{\"args\":[\"/sbin/init\"],\"env\":[\"A=1\",{}]}"),
          "`process.env[1]` must be a string" },
        { R("\"process\":{\"env\":{}}"), "`process.env` must be an array, not an object" },
        { R("\"mounts\":{}"), "`mounts` must be an array, not an object" },
        { R("\"mounts\":[\"/run\"]"), "`mounts[0]` must be an object" },
        { R("\"mounts\":[{\"destination\":\"/a\"},{\"type\":\"tmpfs\"}]"),
          "`mounts[1].destination` is missing" },
        { R("\"mounts\":[{\"destination\":7}]"), "destination` must be a string, not a number" },
        { R("\"mounts\":[{\"destination\":\"/a\",\"type\":[]}]"), "type` must be a string" },
        { R("\"mounts\":[{\"destination\":\"/a\",\"source\":true}]"), "source` must be a string" },
        { R("\"linux\":[]"), "`linux` must be an object, not an array" },
        { R("\"linux\":{\"namespaces\":{}}"), "`linux.namespaces` must be an array" },
        { R("\"linux\":{\"namespaces\":[\"user\"]}"), "`linux.namespaces[0]` must be an object" },
        { R("\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{}]}"),
          "`linux.namespaces[1].type` is missing" },
        { R("\"linux\":{\"namespaces\":[{\"type\":1}]}"), "type` must be a string" },
        { R("\"linux\":{\"uidMappings\":{}}"), "`uidMappings` must be an array" },
        { R("\"linux\":{\"uidMappings\":[5]}"), "`linux.uidMappings[0]` must be an object" },
        { R("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":-1,\"size\":1}]}"),
          "`linux.uidMappings[0]` is not a valid mapping" },
        { R("\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]}"),
          "`linux.uidMappings[0]` is not a valid mapping" },
        { R("\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1},"
          "{\"containerID\":1,\"hostID\":4294967296,\"size\":1}]}"),
          "`linux.gidMappings[1]` is not a valid mapping" },
        { R("\"linux\":{\"gidMappings\":[{\"hostID\":1,\"size\":1}]}"),
          "`linux.gidMappings[0]` is not a valid mapping" },
        { R("\"linux\":{\"uidMappings\":[{\"containerID\":\"0\",\"hostID\":1,\"size\":1}]}"),
          "containerID` must be a number, not a string" },
        { R("\"linux\":{\"cgroupsPath\":5}"), "`linux.cgroupsPath` must be a string" },
        { R("\"linux\":{\"mountLabel\":{}}"), "`linux.mountLabel` must be a string" },
        { R("\"linux\":{\"mountLabel\":\"system_u:object_r:x:s0\\n\"}"),
          "`linux.mountLabel` is not a valid label" },
        { R("\"annotations\":[]"), "`annotations` must be an object, not an array" },
        { R("\"annotations\":{\"oci-systemd-hook\":true}"),
          "`annotations.oci-systemd-hook` must be a string" },
        { R("\"root\":{\"path\":\"/\"}"), "duplicate key `root`" },
        { R("\"process\":{\"args\":[\"/bin/sh\"],\"args\":[\"/sbin/init\"]}"),
          "duplicate key `args`" },
#undef R
};

START_TEST(test_config_bad)
{
        struct oci_config c;
        hook_error_t err = {};
        int r = tu_parse_config(bad_configs[_i].doc, &c, &err);

        ck_assert_err(r, &err, bad_configs[_i].msg);
        ck_assert_msg(strncmp(err.msg, "config.json: ", 13) == 0, "`%s` has no prefix", err.msg);
        /* Freed on error and safe to free again. */
        ck_assert_ptr_null(c.tree);
        ck_assert_ptr_null(c.mounts);
        spec_config_done(&c);
}
END_TEST

START_TEST(test_config_mount_label_long)
{
        _cleanup_free_ char *label = xmalloc(1100);
        _cleanup_free_ char *doc = NULL;
        struct oci_config c;
        hook_error_t err = {};

        memset(label, 'a', 1099);
        label[1099] = '\0';
        doc = tu_printf("{\"root\":{\"path\":\"r\"},\"linux\":{\"mountLabel\":\"%s\"}}", label);
        ck_assert_err(tu_parse_config(doc, &c, &err), &err, "`linux.mountLabel` is not a valid label");
}
END_TEST

START_TEST(test_config_runc)
{
        size_t len;
        _cleanup_free_ char *doc = tu_data("config-runc.json", &len);
        struct oci_config c;
        hook_error_t err = {};
        uid_t u = 7;
        gid_t g = 7;

        ck_assert_ok(spec_parse_config(doc, len, &c, &err), &err);
        ck_assert_uint_eq(c.n_args, 1);
        ck_assert_str_eq(c.args[0], "/sbin/init");
        ck_assert_ptr_null(c.args[1]);
        ck_assert_uint_eq(c.n_env, 4);
        ck_assert_str_eq(c.env[2], "container=oci");
        ck_assert_str_eq(c.root_path, "rootfs");
        ck_assert(!c.root_readonly);
        ck_assert_uint_eq(c.n_mounts, 7);
        ck_assert_str_eq(c.mounts[6].destination, "/sys/fs/cgroup");
        ck_assert_str_eq(c.mounts[6].type, "cgroup");
        ck_assert_str_eq(c.mounts[6].source, "cgroup");
        ck_assert_str_eq(c.cgroups_path, "/osh/abc");
        ck_assert_ptr_null(c.mount_label);
        ck_assert(c.has_mntns && c.has_cgroupns && !c.has_userns);
        ck_assert_uint_eq(c.n_annotations, 0);
        ck_assert(!spec_host_root(&c, &u, &g));
        ck_assert_int_eq(u, 7);
        spec_config_done(&c);
        ck_assert_ptr_null(c.tree);
}
END_TEST

/* podman on an SELinux host: every container gets an MCS pair such as
 * `s0:c374,c887`.  The label goes to fsconfig("context") as one string
 * (mounts.c), so its comma cannot inject a mount option. */
START_TEST(test_config_podman)
{
        size_t len;
        _cleanup_free_ char *doc = tu_data("config-podman.json", &len);
        struct oci_config c;
        hook_error_t err = {};
        uid_t u = 0;
        gid_t g = 0;

        ck_assert_ok(spec_parse_config(doc, len, &c, &err), &err);
        ck_assert_str_eq(c.mount_label, "system_u:object_r:container_file_t:s0:c374,c887");
        ck_assert_str_eq(c.root_path, "/var/lib/containers/storage/overlay/9d1c/merged");
        ck_assert(c.root_readonly);
        ck_assert(c.has_userns && c.has_cgroupns && c.has_mntns);
        ck_assert(spec_host_root(&c, &u, &g));
        ck_assert_int_eq(u, 100000);
        ck_assert_int_eq(g, 100000);
        ck_assert_uint_eq(c.n_annotations, 4);
        ck_assert_str_eq(spec_annotation(c.annotations, c.n_annotations, "oci-systemd-hook.cgroup"), "auto");
        ck_assert_str_eq(c.cgroups_path, "machine.slice:libpod:c0ffee00c0ffee00");
        spec_config_done(&c);
}
END_TEST

/* Namespaces and id mappings -> spec_host_root. */
static const struct {
        const char *linux_;
        bool userns, cgroupns, mapped;
        uid_t uid;
        gid_t gid;
} userns_cases[] = {
        { "{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"cgroup\"}],"
          "\"uidMappings\":[{\"containerID\":1,\"hostID\":200001,\"size\":65535},"
          "{\"containerID\":0,\"hostID\":200000,\"size\":1}],"
          "\"gidMappings\":[{\"containerID\":0,\"hostID\":300000,\"size\":65536}]}",
          true, true, true, 200000, 300000 },
        { "{\"namespaces\":[{\"type\":\"user\"}],"
          "\"uidMappings\":[{\"containerID\":0,\"hostID\":65534,\"size\":1}],"
          "\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}]}",
          true, false, true, 65534, 0 },
        /* no mapping for gid 0 */
        { "{\"namespaces\":[{\"type\":\"user\"}],"
          "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
          "\"gidMappings\":[{\"containerID\":1,\"hostID\":1000,\"size\":1}]}",
          true, false, false, 0, 0 },
        /* user namespace without mappings */
        { "{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}", true, false, false, 0, 0 },
        /* mappings without a user namespace mean nothing */
        { "{\"namespaces\":[{\"type\":\"cgroup\"}],"
          "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
          "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}",
          false, true, false, 0, 0 },
        { "{}", false, false, false, 0, 0 },
};

START_TEST(test_config_userns)
{
        _cleanup_free_ char *doc = tu_printf("{\"root\":{\"path\":\"r\"},\"linux\":%s}", userns_cases[_i].linux_);
        struct oci_config c;
        hook_error_t err = {};
        uid_t u = 0;
        gid_t g = 0;
        bool mapped;

        ck_assert_ok(tu_parse_config(doc, &c, &err), &err);
        ck_assert_int_eq(c.has_userns, userns_cases[_i].userns);
        ck_assert_int_eq(c.has_cgroupns, userns_cases[_i].cgroupns);
        mapped = spec_host_root(&c, &u, &g);
        ck_assert_int_eq(mapped, userns_cases[_i].mapped);
        ck_assert_uint_eq(u, userns_cases[_i].uid);
        ck_assert_uint_eq(g, userns_cases[_i].gid);
        spec_config_done(&c);
}
END_TEST

START_TEST(test_config_minimal)
{
        struct oci_config c;
        hook_error_t err = {};

        ck_assert_ok(tu_parse_config("{\"root\":{\"path\":\"r\",\"readonly\":true}}", &c, &err), &err);
        ck_assert(c.root_readonly);
        ck_assert_uint_eq(c.n_args, 0);
        ck_assert_ptr_null(c.args);
        ck_assert_uint_eq(c.n_mounts, 0);
        ck_assert_ptr_null(c.cgroups_path);
        spec_config_done(&c);
}
END_TEST

static const struct {
        const char *root, *bundle, *want;
} rootfs_paths[] = {
        { "rootfs", "/run/bundle", "/run/bundle/rootfs" },
        { "a/b", "/x", "/x/a/b" },
        { "/var/lib/containers/merged", "/run/bundle", "/var/lib/containers/merged" },
        { "/", "/run/bundle", "/" },
};

START_TEST(test_rootfs_path)
{
        _cleanup_free_ char *doc = tu_printf("{\"root\":{\"path\":\"%s\"}}", rootfs_paths[_i].root);
        _cleanup_free_ char *p = NULL;
        struct oci_config c;
        hook_error_t err = {};

        ck_assert_ok(tu_parse_config(doc, &c, &err), &err);
        p = spec_rootfs_path(&c, rootfs_paths[_i].bundle);
        ck_assert_str_eq(p, rootfs_paths[_i].want);
        spec_config_done(&c);
}
END_TEST

static const char *const env[] = {
        "A=1", "AB=2", "A=3", "A", "=x", "B=", "container_uuid=x", "container_uuid=y",
};

static const struct {
        const char *name, *value;
        size_t count;
} env_cases[] = {
        { "A", "1", 2 }, { "AB", "2", 1 }, { "B", "", 1 }, { "C", NULL, 0 },
        { "container_uuid", "x", 2 }, { "container", NULL, 0 }, { "", "x", 1 },
};

START_TEST(test_env_get)
{
        size_t count = 99;
        const char *v = spec_env_get(env, ELEMENTSOF(env), env_cases[_i].name, &count);

        if (env_cases[_i].value)
                ck_assert_str_eq(v, env_cases[_i].value);
        else
                ck_assert_ptr_null(v);
        ck_assert_uint_eq(count, env_cases[_i].count);
        ck_assert_ptr_eq(spec_env_get(env, ELEMENTSOF(env), env_cases[_i].name, NULL), v);
}
END_TEST

/* ---- stage ------------------------------------------------------------------ */

static const struct {
        const char *argv[4];
        const char *status;
        enum hook_stage want;
} stages[] = {
        { { "oci-systemd-hook", "prestart" }, NULL, STAGE_PRESTART },
        { { "oci-systemd-hook", "prestart" }, "stopped", STAGE_PRESTART },
        { { "oci-systemd-hook", "createRuntime" }, "created", STAGE_CREATE_RUNTIME },
        { { "oci-systemd-hook", "poststop" }, "creating", STAGE_POSTSTOP },
        { { "/usr/libexec/oci/hooks.d/oci-systemd-hook", "--debug", "poststop" }, NULL, STAGE_POSTSTOP },
        { { "oci-systemd-hook" }, "creating", STAGE_CREATE_RUNTIME },
        { { "oci-systemd-hook" }, "created", STAGE_CREATE_RUNTIME },
        { { "oci-systemd-hook" }, "stopped", STAGE_POSTSTOP },
        { { "oci-systemd-hook" }, "running", STAGE_UNKNOWN },
        { { "oci-systemd-hook" }, "Created", STAGE_UNKNOWN },
        { { "oci-systemd-hook" }, "garbage", STAGE_UNKNOWN },
        { { "oci-systemd-hook" }, "", STAGE_UNKNOWN },
        { { "oci-systemd-hook" }, NULL, STAGE_UNKNOWN },
        { { "oci-systemd-hook", "PRESTART" }, NULL, STAGE_UNKNOWN },
        { { "oci-systemd-hook", "createContainer" }, "created", STAGE_IGNORED },
        { { "oci-systemd-hook", "startContainer" }, "created", STAGE_IGNORED },
        { { "oci-systemd-hook", "poststart" }, "running", STAGE_IGNORED },
        /* argv[0] is the program, whatever its name */
        { { "prestart" }, "stopped", STAGE_POSTSTOP },
        { { "poststop" }, NULL, STAGE_UNKNOWN },
        { { "createContainer" }, "creating", STAGE_CREATE_RUNTIME },
        { { NULL }, "created", STAGE_CREATE_RUNTIME },
};

START_TEST(test_stage)
{
        int argc = 0;

        while (argc < 4 && stages[_i].argv[argc])
                argc++;
        ck_assert_int_eq(spec_stage(argc, (char *const *)stages[_i].argv, stages[_i].status), stages[_i].want);
}
END_TEST

static const struct {
        const char *name;
        enum hook_stage stage;
} stage_names[] = {
        { "prestart", STAGE_PRESTART }, { "createRuntime", STAGE_CREATE_RUNTIME }, { "poststop", STAGE_POSTSTOP },
};

START_TEST(test_stage_names)
{
        ck_assert_int_eq(spec_stage_from_name(stage_names[_i].name), stage_names[_i].stage);
        ck_assert_str_eq(spec_stage_name(stage_names[_i].stage), stage_names[_i].name);
        ck_assert_str_eq(spec_stage_name(STAGE_UNKNOWN), "unknown");
        ck_assert_str_eq(spec_stage_name(STAGE_IGNORED), "ignored stage");
        ck_assert_str_eq(spec_stage_name((enum hook_stage)99), "unknown");
        ck_assert_int_eq(spec_stage_from_name(""), STAGE_UNKNOWN);
}
END_TEST

static Suite *spec_suite(void)
{
        Suite *s = suite_create("spec");

        TU_TCASE(s, "state", 0, TU_LOOP(test_state_bad, bad_states),
                 TU_LOOP(test_state_bad_doc, bad_state_docs), TU_TEST(test_state_id_too_long),
                 TU_LOOP(test_state_pid_ok, good_pids), TU_LOOP(test_state_real, real_states));
        TU_TCASE(s, "config", 0, TU_LOOP(test_config_bad, bad_configs),
                 TU_TEST(test_config_mount_label_long), TU_TEST(test_config_runc),
                 TU_TEST(test_config_podman), TU_LOOP(test_config_userns, userns_cases),
                 TU_TEST(test_config_minimal), TU_LOOP(test_rootfs_path, rootfs_paths),
                 TU_LOOP(test_env_get, env_cases));
        TU_TCASE(s, "stage", 0, TU_LOOP(test_stage, stages),
                 TU_LOOP(test_stage_names, stage_names));
        return s;
}

int main(void)
{
        return tu_run(spec_suite());
}
