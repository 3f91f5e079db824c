/* SPDX-License-Identifier: GPL-2.0-or-later */
/* predict.c: what the config and the image's units predict will fail. */
#include "predict.h"
#include "testutil.h"

/* The capabilities of runc's `runc spec` plus what systemd needs; ADMIN
 * adds CAP_SYS_ADMIN (the namespace predictions depend on it). */
#define CAPS "\"CAP_CHOWN\",\"CAP_SETUID\",\"CAP_SETGID\",\"CAP_SETPCAP\",\"CAP_KILL\""
#define CAPS_ADMIN CAPS ",\"CAP_SYS_ADMIN\""
#define DENY_MOUNT "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[" \
        "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}"

struct built {
        struct oci_config config;
        struct plan plan;
        struct prediction pr;
};

/* A config whose "linux" has LINUX_, PID 1 with the capabilities CAPS_,
 * predicted with the image at ROOTFD (-1: none). */
static void build(const char *linux_, const char *caps, bool readonly, int rootfd, struct built *b)
{
        _cleanup_free_ char *doc = tu_printf(
                "{\"root\":{\"path\":\"rootfs\",\"readonly\":%s},\"process\":{\"args\":[\"/sbin/init\"],"
                "\"capabilities\":{\"bounding\":[%s],\"effective\":[%s],\"permitted\":[%s]}},"
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\"}],"
                "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"cgroup\"}]%s%s}}",
                readonly ? "true" : "false", caps, caps, caps, linux_[0] ? "," : "", linux_);
        struct plan_input in = { .config = &b->config, .id = "abc", .host_cgroup = CG_HOST_V2, .rootfd = -1 };
        hook_error_t err = {};

        ck_assert_ok(tu_parse_config(doc, &b->config, &err), &err);
        ck_assert_ok(plan_build(&in, &b->plan, &err), &err);
        ck_assert(b->plan.detect.systemd);
        predict_build(&b->config, &b->plan, rootfd, &b->pr);
}

/* The predicted lines, one per line (empty: none). */
static char *lines(const struct prediction *pr)
{
        char *out = NULL;
        size_t len = 0, i;
        FILE *f = open_memstream(&out, &len);

        ck_assert_ptr_nonnull(f);
        for (i = 0; i < pr->n; i++)
                fprintf(f, "%s\n", pr->lines[i]);
        ck_assert_int_eq(fclose(f), 0);
        return out;
}

/* Config only: the linux object, the capabilities, what the lines must
 * contain (NULL: nothing predicted) and must not. */
static const struct {
        const char *linux_, *caps;
        bool readonly;
        const char *want, *not_want;
} configs[] = {
        /* no seccomp at all */
        { "", CAPS_ADMIN, false, NULL, NULL },
        /* a mount denial with CAP_SYS_ADMIN: the namespace is made, mount() fails */
        { DENY_MOUNT, CAPS_ADMIN, false, "seccomp denies mount (errno 1: Operation not permitted): units with "
          "mount-namespace sandboxing", NULL },
        { DENY_MOUNT, CAPS_ADMIN, false, "fail with 243/CREDENTIALS", NULL },
        { DENY_MOUNT, CAPS_ADMIN, false, "mount units fail", NULL },
        /* ... without it unshare() fails with EPERM first and systemd goes on without */
        { DENY_MOUNT, CAPS, false, NULL, NULL },
        /* ... nor when seccomp denies unshare with EPERM as well (mount
         * units still call mount(2)) */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\",\"mount\"],"
          "\"action\":\"SCMP_ACT_ERRNO\"}]}", CAPS_ADMIN, false, "mount units fail", "226/NAMESPACE" },
        /* unshare denied with an errno systemd does not expect */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\"],"
          "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22}]}", CAPS, false, "seccomp denies unshare (errno 22", NULL },
        /* killed */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\"],"
          "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}", CAPS, false, "seccomp kills the caller of unshare", NULL },
        /* a rule with argument conditions: maybe */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],"
          "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":3,\"value\":4096,\"op\":\"SCMP_CMP_MASKED_EQ\","
          "\"valueTwo\":4096}]}]}", CAPS_ADMIN, false, "seccomp may deny mount", NULL },
        /* a conditional rule doing what the default does is no maybe */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],"
          "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
          CAPS_ADMIN, false, NULL, NULL },
        /* default errno, an allow rule: allowed */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mount\",\"unshare\","
          "\"clone3\",\"keyctl\"],\"action\":\"SCMP_ACT_ALLOW\"}]}", CAPS_ADMIN, false, NULL, NULL },
        /* default errno, no allow rule: mount denied by default */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[{\"names\":"
          "[\"unshare\"],\"action\":\"SCMP_ACT_ALLOW\"}]}", CAPS_ADMIN, false, "seccomp denies mount (errno 38", NULL },
        /* clone3: ENOSYS is the right answer, EPERM breaks glibc */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"clone3\"],"
          "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}", CAPS, false, NULL, NULL },
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"clone3\"],"
          "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}", CAPS, false, "seccomp denies clone3 (errno 1", NULL },
        /* keyctl: EPERM is ignored, EINVAL fails every service */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"keyctl\"],"
          "\"action\":\"SCMP_ACT_ERRNO\"}]}", CAPS, false, NULL, NULL },
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"keyctl\"],"
          "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22}]}", CAPS, false, "237/KEYRING", NULL },
        /* SCMP_ACT_TRACE without a tracer is ENOSYS: keyctl goes on */
        { "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"keyctl\"],"
          "\"action\":\"SCMP_ACT_TRACE\"}]}", CAPS, false, NULL, NULL },
        /* read-only and masked paths */
        { "\"readonlyPaths\":[\"/var/lib/systemd\"]", CAPS, false,
          "read-only /var/lib/systemd (linux.readonlyPaths): systemd-logind.service fails with 238/STATE_DIRECTORY",
          NULL },
        { "\"maskedPaths\":[\"/var/lib\"]", CAPS, false, "read-only /var/lib (linux.maskedPaths)", NULL },
        { "\"readonlyPaths\":[\"/var/lib/systemd/linger/\"]", CAPS, false, "read-only /var/lib/systemd/linger", NULL },
        { "\"readonlyPaths\":[\"/var/lib/systemd-other\"]", CAPS, false, NULL, NULL },
        /* a read-only rootfs: the hook's tmpfs on /var/lib/systemd covers it */
        { "", CAPS, true, NULL, NULL },
        /* runc's defaults mask and protect nothing systemd writes */
        { "\"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],\"readonlyPaths\":[\"/proc/sys\",\"/proc/bus\"]",
          CAPS, false, NULL, NULL },
};

START_TEST(test_config)
{
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(configs[_i].linux_, configs[_i].caps, configs[_i].readonly, -1, &b);
        out = lines(&b.pr);
        if (configs[_i].want)
                ck_assert_msg(strstr(out, configs[_i].want), "predicted `%s`, not `%s`", out, configs[_i].want);
        else
                ck_assert_msg(b.pr.n == 0, "predicted `%s`", out);
        if (configs[_i].not_want)
                ck_assert_msg(!strstr(out, configs[_i].not_want), "predicted `%s`", out);
        spec_config_done(&b.config);
}
END_TEST

/* Docker's default profile (moby/profiles seccomp/default.json as dockerd
 * renders it for its default capabilities): nothing breaks. */
START_TEST(test_docker_default)
{
        _cleanup_free_ char *profile = tu_data("seccomp-docker-default.json", NULL), *linux_ = NULL, *out = NULL;
        struct built b;

        linux_ = tu_printf("\"seccomp\":%s", profile);
        build(linux_, CAPS, false, -1, &b);
        out = lines(&b.pr);
        ck_assert_msg(b.pr.n == 0, "predicted `%s`", out);
        spec_config_done(&b.config);
}
END_TEST

#define SANDBOXED "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nPrivateTmp=yes\n"

/* An image whose boot reaches x.service (PrivateTmp=yes) through a
 * relative .wants link; evil.service is a link out of the rootfs (to a
 * sandboxed unit on the host), huge.service is over the size bound,
 * skipped.service fails a condition in a container. */
static char *fixture(char **ret_outside)
{
        static char huge[PREDICT_MAX_UNIT_BYTES + 64];
        char *outside = tu_mkdtemp(), *evil = tu_join(outside, "evil.service"), *root;

        memset(huge, '#', sizeof(huge) - 1);
        memcpy(huge + sizeof(huge) - 20, "\nPrivateTmp=yes\n", 17);
        tu_write(evil, SANDBOXED);
        const struct tu_node nodes[] = {
                { TU_FILE, "usr/lib/systemd/system/default.target", "[Unit]\nWants=multi-user.target\n" },
                { TU_FILE, "usr/lib/systemd/system/multi-user.target", "[Unit]\nRequires=y.socket\n" },
                { TU_FILE, "usr/lib/systemd/system/x.service", SANDBOXED },
                { TU_FILE, "usr/lib/systemd/system/huge.service", huge },
                { TU_FILE, "usr/lib/systemd/system/y.socket", "[Socket]\nListenStream=/run/y\n" },
                { TU_FILE, "usr/lib/systemd/system/y.service", SANDBOXED "StateDirectory=y\n" },
                { TU_FILE, "usr/lib/systemd/system/skipped.service",
                  SANDBOXED "[Unit]\nConditionVirtualization=!container\n" },
                { TU_LINK, "etc/systemd/system/multi-user.target.wants/x.service",
                  "../../../../usr/lib/systemd/system/x.service" },
                { TU_LINK, "etc/systemd/system/multi-user.target.wants/huge.service", "/usr/lib/systemd/system/huge.service" },
                { TU_LINK, "etc/systemd/system/multi-user.target.wants/skipped.service",
                  "/usr/lib/systemd/system/skipped.service" },
                { TU_LINK, "etc/systemd/system/multi-user.target.wants/evil.service", "../evil.service" },
                { TU_LINK, "etc/systemd/system/evil.service", evil },
                { TU_DIR, "var/lib", NULL },
        };

        root = tu_tree(nodes, ELEMENTSOF(nodes));
        free(evil);
        *ret_outside = outside;
        return root;
}

START_TEST(test_image_units)
{
        _cleanup_free_ char *outside = NULL, *root = fixture(&outside), *out = NULL;
        _cleanup_close_ int rootfd = tu_open_dir(root);
        struct built b;

        build(DENY_MOUNT, CAPS_ADMIN, false, rootfd, &b);
        out = lines(&b.pr);
        ck_assert_msg(strstr(out, "226/NAMESPACE: x.service, y.service\n"), "predicted `%s`", out);
        ck_assert_msg(!strstr(out, "evil.service") && !strstr(out, "huge.service") && !strstr(out, "skipped.service"),
                      "predicted `%s`", out);
        ck_assert(b.pr.capped);         /* huge.service */
        ck_assert_uint_eq(b.pr.n_units, 6);     /* default, multi-user, y.socket, x, skipped, y.service */
        spec_config_done(&b.config);
}
END_TEST

/* The same image without a seccomp rule: nothing; with /var/lib read-only
 * y.service's StateDirectory=y (absent) is named. */
START_TEST(test_image_state_directory)
{
        _cleanup_free_ char *outside = NULL, *root = fixture(&outside), *out = NULL;
        _cleanup_close_ int rootfd = tu_open_dir(root);
        struct built b;

        build("", CAPS_ADMIN, false, rootfd, &b);
        ck_assert_uint_eq(b.pr.n, 0);
        spec_config_done(&b.config);
        build("\"readonlyPaths\":[\"/var/lib\"]", CAPS, false, rootfd, &b);
        out = lines(&b.pr);
        ck_assert_msg(strstr(out, "read-only /var/lib (linux.readonlyPaths): StateDirectory= the image lacks cannot be "
                              "created, failing with 238/STATE_DIRECTORY: y.service (/var/lib/y)\n"),
                      "predicted `%s`", out);
        spec_config_done(&b.config);
}
END_TEST

/* No default.target in the rootfs: the config's lines, with no unit. */
START_TEST(test_image_empty)
{
        _cleanup_free_ char *root = tu_mkdtemp(), *out = NULL;
        _cleanup_close_ int rootfd = tu_open_dir(root);
        struct built b;

        build(DENY_MOUNT, CAPS_ADMIN, false, rootfd, &b);
        out = lines(&b.pr);
        ck_assert_msg(strstr(out, "fail with 226/NAMESPACE\n"), "predicted `%s`", out);
        ck_assert_uint_eq(b.pr.n_units, 0);
        spec_config_done(&b.config);
}
END_TEST

static Suite *predict_suite(void)
{
        Suite *s = suite_create("predict");

        TU_TCASE(s, "config", 0, TU_LOOP(test_config, configs), TU_TEST(test_docker_default));
        TU_TCASE(s, "image", 0, TU_TEST(test_image_units), TU_TEST(test_image_state_directory),
                 TU_TEST(test_image_empty));
        return s;
}

int main(void)
{
        return tu_run(predict_suite());
}
