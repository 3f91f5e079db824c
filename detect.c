/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdio.h>

#include "detect.h"
#include "fsutil.h"

static const char *const init_paths[] = {
        "/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init",
};

static const char *basename_of(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

static bool is_shell(const char *p)
{
        const char *b = basename_of(p);
        return streq(b, "sh") || streq(b, "bash") || streq(b, "dash") || streq(b, "ash") ||
               streq(b, "zsh") || streq(b, "busybox");
}

/* First command word of a shell string, after any number of `exec` and
 * VAR=value prefixes: "exec /sbin/init --log-level=debug" -> "/sbin/init". */
static char *shell_first_command(const char *s)
{
        for (;;) {
                size_t n;

                s += strspn(s, " \t\n");
                /* A quoted word: exec "/sbin/init" or '/sbin/init'. */
                if (*s == '"' || *s == '\'') {
                        const char *e = strchr(s + 1, *s);
                        if (!e || e == s + 1)
                                return NULL;
                        if ((size_t)(e - s - 1) == 4 && strncmp(s + 1, "exec", 4) == 0) {
                                s = e + 1;
                                continue;
                        }
                        return strndup(s + 1, (size_t)(e - s - 1));
                }
                n = strcspn(s, " \t\n;&|()<>'\"`$");
                if (n == 0)
                        return NULL;
                if ((n == 4 && strncmp(s, "exec", 4) == 0) || memchr(s, '=', n)) {
                        s += n;
                        continue;
                }
                return strndup(s, n);
        }
}

const char *detect_command(const char *const *args, size_t n, char **buf)
{
        size_t i = 0;

        *buf = NULL;
        /* env [-i] [-u NAME] [--] [VAR=x ...] CMD */
        if (n > 0 && streq(basename_of(args[0]), "env")) {
                for (i = 1; i < n; i++) {
                        if (streq(args[i], "-u") || streq(args[i], "--unset"))
                                i++;
                        else if (!streq(args[i], "-i") && !streq(args[i], "--") && !strchr(args[i], '=') &&
                                 strncmp(args[i], "--unset=", 8) != 0 && strncmp(args[i], "-u", 2) != 0)
                                break;
                }
        }
        if (i >= n)
                return NULL;
        if (is_shell(args[i])) {
                size_t j = i + 1;
                /* busybox sh -c / sh -ec / sh -c */
                if (streq(basename_of(args[i]), "busybox") && j < n && streq(args[j], "sh"))
                        j++;
                while (j < n && args[j][0] == '-' && !strchr(args[j], 'c'))
                        j++;
                if (j + 1 < n && args[j][0] == '-' && strchr(args[j], 'c')) {
                        *buf = shell_first_command(args[j + 1]);
                        return *buf;
                }
        }
        return args[i];
}

static bool is_init_path(const char *cmd)
{
        size_t i;

        for (i = 0; i < ELEMENTSOF(init_paths); i++)
                if (streq(cmd, init_paths[i]))
                        return true;
        return false;
}

static void set(struct detect_result *r, bool yes, const char *fmt, ...) _printf_(3, 4);
static void set(struct detect_result *r, bool yes, const char *fmt, ...)
{
        va_list ap;

        r->systemd = yes;
        va_start(ap, fmt);
        (void)vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
        va_end(ap);
}

static ssize_t fd_path(int fd, char *buf, size_t size)
{
        char link[64];
        ssize_t n;

        (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, buf, size - 1);
        if (n >= 0)
                buf[n] = '\0';
        return n;
}

/* The walk in one openat2(RESOLVE_IN_ROOT) (on a fresh overlay the walk's
 * ~30 syscalls are what costs): the kernel's path of what it opened, less
 * the rootfs's, is the walk's answer.  NULL for anything else (the walk
 * then says which component failed). */
static char *resolve_fast(int rootfd, const char *cmd)
{
        _cleanup_close_ int fd = -EBADF;
        char root[PATH_MAX], path[PATH_MAX];
        ssize_t rn;

        if (fs_force_walk || (fd = fs_open_in_root(rootfd, cmd, 0, NULL)) < 0)
                return NULL;
        if ((rn = fd_path(rootfd, root, sizeof(root))) <= 0 || fd_path(fd, path, sizeof(path)) <= 0)
                return NULL;
        if (streq(root, "/"))
                return xstrdup(path);
        if (strncmp(path, root, (size_t)rn) != 0 || path[rn] != '/')
                return NULL;
        return xstrdup(path + rn);
}

/* Follow an init path inside the rootfs (never outside it). */
static void detect_in_rootfs(int rootfd, const char *cmd, struct detect_result *r)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *resolved = NULL;
        hook_error_t err = {};

        if (rootfd < 0) {
                set(r, true, "the command `%.100s` is an init path (rootfs not inspected)", cmd);
                return;
        }
        if (!(resolved = resolve_fast(rootfd, cmd)) && fs_walk_in_root(rootfd, cmd, 0, &fd, &resolved, &err) < 0) {
                set(r, true, "the command `%.100s` is an init path (%.150s)", cmd, err.msg);
                return;
        }
        if (streq(basename_of(resolved), "systemd"))
                set(r, true, "the command `%.100s` resolves to `%.150s` in the rootfs", cmd, resolved);
        else
                set(r, false, "the command `%.100s` resolves to `%.150s` in the rootfs, which is not systemd",
                    cmd, resolved);
}

static int annotation_override(const struct kv *a, size_t n, struct detect_result *r)
{
        const char *v = spec_annotation(a, n, ANNOTATION_ENABLE);

        if (!v)
                return -1;
        if (streq(v, "enabled") || streq(v, "true")) {
                set(r, true, "the annotation `%s` is `%.64s`", ANNOTATION_ENABLE, v);
                return 1;
        }
        if (streq(v, "disabled") || streq(v, "false")) {
                set(r, false, "the annotation `%s` is `%.64s`", ANNOTATION_ENABLE, v);
                return 0;
        }
        (void)snprintf(r->warning, sizeof(r->warning),
                       "ignoring the annotation `%s`: `%.64s` is not enabled or disabled", ANNOTATION_ENABLE, v);
        return -1;
}

void detect_systemd(const struct oci_config *c, const struct kv *state_ann, size_t n_state_ann,
                    int rootfd, struct detect_result *ret)
{
        _cleanup_free_ char *buf = NULL;
        const char *cmd, *env;

        memset(ret, 0, sizeof(*ret));
        if (annotation_override(c->annotations, c->n_annotations, ret) >= 0 ||
            annotation_override(state_ann, n_state_ann, ret) >= 0)
                return;
        env = spec_env_get(c->env, c->n_env, ENV_DISABLE, NULL);
        if (env && streq(env, "disabled")) {
                set(ret, false, "the container's environment sets `%s=%s`", ENV_DISABLE, "disabled");
                return;
        }
        cmd = detect_command(c->args, c->n_args, &buf);
        if (!cmd) {
                set(ret, false, "the container has no command");
                return;
        }
        if (streq(cmd, "init"))
                cmd = "/sbin/init";
        if (is_init_path(cmd))
                detect_in_rootfs(rootfd, cmd, ret);
        else if (streq(basename_of(cmd), "systemd"))
                set(ret, true, "the command `%.100s` is systemd", cmd);
        else
                set(ret, false, "the command `%.100s` is not systemd or an init path", cmd);
}
