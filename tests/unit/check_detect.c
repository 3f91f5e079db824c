/* SPDX-License-Identifier: GPL-2.0-or-later */
/* detect.c: is the container's command systemd? */
#include "detect.h"
#include "fsutil.h"
#include "testutil.h"

#define MAX_ARGS 6

static size_t count_args(const char *const *args)
{
        size_t n = 0;

        while (n < MAX_ARGS && args[n])
                n++;
        return n;
}

/* ---- by name only (rootfd = -1) ------------------------------------------ */
static const struct {
        const char *args[MAX_ARGS];
        bool systemd;
        const char *cmd;           /* what detect_command returns */
} commands[] = {
        { { "/sbin/init" }, true, "/sbin/init" },
        { { "/usr/sbin/init" }, true, "/usr/sbin/init" },
        { { "/usr/local/sbin/init" }, true, "/usr/local/sbin/init" },
        { { "/sbin/init", "--log-level=debug", "systemd.unit=rescue.target" }, true, "/sbin/init" },
        { { "/lib/systemd/systemd" }, true, "/lib/systemd/systemd" },
        { { "/usr/lib/systemd/systemd", "--system" }, true, "/usr/lib/systemd/systemd" },
        { { "/opt/foo/systemd" }, true, "/opt/foo/systemd" },
        { { "init" }, true, "init" },
        { { "systemd" }, true, "systemd" },
        { { "/bin/sh", "-c", "exec /sbin/init" }, true, "/sbin/init" },
        { { "sh", "-c", "/usr/lib/systemd/systemd --log-level=debug" }, true, "/usr/lib/systemd/systemd" },
        { { "/bin/bash", "-c", "exec  /sbin/init" }, true, "/sbin/init" },
        { { "/bin/bash", "-c", "\texec exec\n/sbin/init" }, true, "/sbin/init" },
        { { "sh", "-ec", "exec /sbin/init" }, true, "/sbin/init" },
        { { "/bin/sh", "-x", "-c", "exec /sbin/init" }, true, "/sbin/init" },
        { { "/bin/sh", "-c", "container=oci exec /lib/systemd/systemd" }, true, "/lib/systemd/systemd" },
        { { "/bin/busybox", "sh", "-c", "exec /sbin/init" }, true, "/sbin/init" },
        { { "env", "container=oci", "/sbin/init" }, true, "/sbin/init" },
        { { "/usr/bin/env", "/lib/systemd/systemd" }, true, "/lib/systemd/systemd" },
        { { "/usr/bin/env", "-i", "A=1", "B=2", "/usr/lib/systemd/systemd" }, true, "/usr/lib/systemd/systemd" },
        { { "/bin/sh" }, false, "/bin/sh" },
        { { "/bin/bash" }, false, "/bin/bash" },
        { { "/bin/sh", "-c" }, false, "/bin/sh" },
        { { "/bin/sh", "/entrypoint.sh", "/sbin/init" }, false, "/bin/sh" },
        { { "/init" }, false, "/init" },                          /* s6-overlay */
        { { "/sbin/tini", "--", "/sbin/init" }, false, "/sbin/tini" },
        { { "/usr/bin/dumb-init", "/sbin/init" }, false, "/usr/bin/dumb-init" },
        { { "/bin/busybox", "init" }, false, "/bin/busybox" },
        { { "/bin/systemd-notify", "--ready" }, false, "/bin/systemd-notify" },
        { { "/usr/lib/systemd/systemd-journald" }, false, "/usr/lib/systemd/systemd-journald" },
        { { "/usr/lib/systemd/systemd.real" }, false, "/usr/lib/systemd/systemd.real" },
        { { "/bin/sh", "-c", "echo hi; exec /sbin/init" }, false, "echo" },
        { { "/bin/sh", "-c", "/sbin/init; echo" }, true, "/sbin/init" },
        { { "/bin/sh", "-c", "" }, false, NULL },
        { { "/sbin/init2" }, false, "/sbin/init2" },
        { { "/sbin/Init" }, false, "/sbin/Init" },
        { { "/usr/bin/python3", "-m", "http.server" }, false, "/usr/bin/python3" },
        { { "nginx", "-g", "daemon off;" }, false, "nginx" },
        { { "env" }, false, NULL },
        { { NULL }, false, NULL },                                  /* empty args */
};

START_TEST(test_command)
{
        const char *const *args = commands[_i].args;
        size_t n = count_args(args);
        struct oci_config c = { .args = (const char **)args, .n_args = n };
        struct detect_result r;
        _cleanup_free_ char *buf = NULL;
        const char *cmd = detect_command(args, n, &buf);
        size_t j;

        if (commands[_i].cmd)
                ck_assert_str_eq(cmd, commands[_i].cmd);
        else
                ck_assert_ptr_null(cmd);
        /* Either one of the args or the returned buffer. */
        for (j = 0; cmd && !buf && j < n && cmd != args[j]; j++)
                ;
        ck_assert(!cmd || cmd == buf || j < n);
        detect_systemd(&c, NULL, 0, -1, &r);
        ck_assert_msg(r.systemd == commands[_i].systemd, "%s: %s", args[0] ? args[0] : "(none)", r.reason);
        ck_assert_str_eq(r.warning, "");
        ck_assert_msg(r.reason[0] != '\0', "no reason given");
}
END_TEST

START_TEST(test_no_process)
{
        struct oci_config c = {};
        struct detect_result r;

        detect_systemd(&c, NULL, 0, -1, &r);
        ck_assert(!r.systemd);
        ck_assert_str_eq(r.reason, "the container has no command");
}
END_TEST

/* ---- annotations and environment ------------------------------------------ */
static const struct {
        const char *arg0;
        const char *config_ann, *state_ann;   /* values of `oci-systemd-hook`, NULL: absent */
        const char *env;
        bool systemd;
        const char *reason, *warning;
} overrides[] = {
        { "/bin/sh", "enabled", NULL, NULL, true, "the annotation `oci-systemd-hook` is `enabled`", "" },
        { "/bin/sh", "true", NULL, NULL, true, "is `true`", "" },
        { "/sbin/init", "disabled", NULL, NULL, false, "the annotation `oci-systemd-hook` is `disabled`", "" },
        { "/sbin/init", "false", NULL, NULL, false, "is `false`", "" },
        { "/sbin/init", "maybe", NULL, NULL, true, "init path",
          "ignoring the annotation `oci-systemd-hook`: `maybe` is not enabled or disabled" },
        { "/bin/sh", "Enabled", NULL, NULL, false, "not systemd", "`Enabled` is not enabled or disabled" },
        { "/bin/sh", "", NULL, NULL, false, "not systemd", "`` is not enabled or disabled" },
        { "/bin/sh", NULL, "enabled", NULL, true, "the annotation `oci-systemd-hook` is `enabled`", "" },
        { "/sbin/init", NULL, "disabled", NULL, false, "is `disabled`", "" },
        { "/sbin/init", "disabled", "enabled", NULL, false, "is `disabled`", "" },      /* config wins */
        { "/bin/sh", "enabled", "disabled", NULL, true, "is `enabled`", "" },
        { "/bin/sh", "maybe", "enabled", NULL, true, "is `enabled`", "`maybe` is not enabled" },
        { "/sbin/init", NULL, NULL, "oci-systemd-hook=disabled", false,
          "the container's environment sets `oci-systemd-hook=disabled`", "" },
        { "/bin/sh", NULL, NULL, "oci-systemd-hook=enabled", false, "not systemd", "" },   /* env only disables */
        { "/sbin/init", NULL, NULL, "oci-systemd-hook=enabled", true, "init path", "" },
        { "/sbin/init", "enabled", NULL, "oci-systemd-hook=disabled", true, "is `enabled`", "" },
        { "/sbin/init", NULL, NULL, "OCI-SYSTEMD-HOOK=disabled", true, "init path", "" },
};

START_TEST(test_overrides)
{
        const char *args[] = { overrides[_i].arg0 };
        const char *env[] = { "PATH=/bin", overrides[_i].env };
        struct kv cann[] = { { "io.other", "x" }, { ANNOTATION_ENABLE, overrides[_i].config_ann } };
        struct kv sann[] = { { ANNOTATION_ENABLE, overrides[_i].state_ann }, { "oci-systemd-hook.cgroup", "v1" } };
        struct oci_config c = {
                .args = args, .n_args = 1,
                .env = env, .n_env = overrides[_i].env ? 2 : 1,
                .annotations = cann, .n_annotations = overrides[_i].config_ann ? 2 : 1,
        };
        struct detect_result r;

        detect_systemd(&c, overrides[_i].state_ann ? sann : sann + 1, 1, -1, &r);
        ck_assert_msg(r.systemd == overrides[_i].systemd, "%s", r.reason);
        ck_assert_msg(strstr(r.reason, overrides[_i].reason), "reason `%s` lacks `%s`", r.reason,
                      overrides[_i].reason);
        if (overrides[_i].warning[0])
                ck_assert_msg(strstr(r.warning, overrides[_i].warning), "warning `%s` lacks `%s`", r.warning,
                              overrides[_i].warning);
        else
                ck_assert_str_eq(r.warning, "");
}
END_TEST

/* ---- resolution inside a temp-dir rootfs ---------------------------------- */
#define MAX_NODES 6

static const struct {
        const char *name;
        struct tu_node tree[MAX_NODES];
        const char *cmd;
        bool systemd;
        const char *reason;       /* substring */
} rootfses[] = {
        { "relative link to systemd",
          { { TU_FILE, "lib/systemd/systemd", "ELF" }, { TU_LINK, "sbin/init", "../lib/systemd/systemd" } },
          "/sbin/init", true, "resolves to `/lib/systemd/systemd` in the rootfs" },
        { "debian usrmerge",
          { { TU_FILE, "usr/lib/systemd/systemd", "ELF" }, { TU_DIR, "usr/sbin" }, { TU_LINK, "sbin", "usr/sbin" },
            { TU_LINK, "lib", "usr/lib" }, { TU_LINK, "usr/sbin/init", "../lib/systemd/systemd" } },
          "/sbin/init", true, "`/sbin/init` resolves to `/usr/lib/systemd/systemd`" },
        { "debian usrmerge, bare init",
          { { TU_FILE, "usr/lib/systemd/systemd", "ELF" }, { TU_DIR, "usr/sbin" }, { TU_LINK, "sbin", "usr/sbin" },
            { TU_LINK, "usr/sbin/init", "../lib/systemd/systemd" } },
          "init", true, "resolves to `/usr/lib/systemd/systemd`" },
        { "usr/local",
          { { TU_FILE, "lib/systemd/systemd", "ELF" }, { TU_LINK, "usr/local/sbin/init", "/lib/systemd/systemd" } },
          "/usr/local/sbin/init", true, "resolves to `/lib/systemd/systemd`" },
        { "busybox",
          { { TU_FILE, "bin/busybox", "ELF" }, { TU_LINK, "sbin/init", "/bin/busybox" } },
          "/sbin/init", false, "resolves to `/bin/busybox` in the rootfs, which is not systemd" },
        { "systemd path that is busybox",
          { { TU_FILE, "bin/busybox", "ELF" }, { TU_LINK, "lib/systemd/systemd", "../../bin/busybox" },
            { TU_LINK, "sbin/init", "/lib/systemd/systemd" } },
          "/sbin/init", false, "resolves to `/bin/busybox`" },
        { "sysvinit",
          { { TU_FILE, "sbin/init", "ELF" } },
          "/sbin/init", false, "resolves to `/sbin/init` in the rootfs, which is not systemd" },
        { "fifo (no hang)",
          { { TU_FIFO, "sbin/init" } },
          "/sbin/init", false, "resolves to `/sbin/init`" },
        { "dot-dot above the root stays inside",
          { { TU_DIR, "etc" }, { TU_FILE, "lib/systemd/systemd", "ELF" },
            { TU_LINK, "sbin/init", "/etc/../../../../lib/systemd/systemd" } },
          "/sbin/init", true, "resolves to `/lib/systemd/systemd`" },
        /* On the host /bin/sh exists (and is not systemd): reading it would say no. */
        { "absolute link to a host-only path",
          { { TU_LINK, "sbin/init", "/bin/sh" } },
          "/sbin/init", true, "is an init path (resolving `/sbin/init` in the rootfs: open `bin`" },
        { "relative link out of the root",
          { { TU_LINK, "sbin/init", "../../../../../../../../bin/sh" } },
          "/sbin/init", true, "is an init path (resolving" },
        { "symlink loop",
          { { TU_LINK, "sbin/init", "init" } },
          "/sbin/init", true, "is an init path (too many levels of symlinks" },
        { "two-link loop",
          { { TU_LINK, "sbin/init", "/sbin/init2" }, { TU_LINK, "sbin/init2", "../sbin/init" } },
          "/sbin/init", true, "too many levels of symlinks" },
        { "magic link into /proc/1/root",
          { { TU_LINK, "sbin/init", "/proc/1/root/sbin/init" } },
          "/sbin/init", true, "is an init path (resolving" },
        { "proc pointing at itself",
          { { TU_LINK, "proc", "/proc" }, { TU_LINK, "sbin/init", "/proc/self/root/sbin/init" } },
          "/sbin/init", true, "too many levels of symlinks" },
        { "sbin is a file",
          { { TU_FILE, "sbin", "x" } },
          "/sbin/init", true, "not a directory" },
        { "no /sbin at all",
          { { TU_DIR, "etc" } },
          "/sbin/init", true, "is an init path (" },
        /* Names that are not init paths are decided by name: no rootfs access. */
        { "systemd by name",
          { { TU_FILE, "opt/foo/systemd", "#!/bin/sh" } },
          "/opt/foo/systemd", true, "the command `/opt/foo/systemd` is systemd" },
};

static void check_rootfs(size_t i, bool force_walk)
{
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        const char *args[] = { rootfses[i].cmd };
        struct oci_config c = { .args = args, .n_args = 1 };
        struct detect_result r;
        size_t n = 0;

        while (n < MAX_NODES && rootfses[i].tree[n].path)
                n++;
        root = tu_tree(rootfses[i].tree, n);
        rootfd = tu_open_dir(root);
        fs_force_walk = force_walk;
        detect_systemd(&c, NULL, 0, rootfd, &r);
        fs_force_walk = false;
        ck_assert_msg(r.systemd == rootfses[i].systemd, "%s (walk %d): %s", rootfses[i].name, force_walk, r.reason);
        ck_assert_msg(strstr(r.reason, rootfses[i].reason), "%s (walk %d): reason `%s` lacks `%s`",
                      rootfses[i].name, force_walk, r.reason, rootfses[i].reason);
        ck_assert_msg(!strstr(r.reason, root), "the reason shows the host path: %s", r.reason);
}

START_TEST(test_rootfs)
{
        check_rootfs((size_t)_i / 2, _i % 2);
}
END_TEST

static Suite *detect_suite(void)
{
        Suite *s = suite_create("detect");

        TU_TCASE(s, "by name", 0, TU_LOOP(test_command, commands), TU_TEST(test_no_process),
                 TU_LOOP(test_overrides, overrides));
        TU_TCASE(s, "rootfs", 0, TU_LOOP_N(test_rootfs, 2 * ELEMENTSOF(rootfses)));
        return s;
}

int main(void)
{
        return tu_run(detect_suite());
}
