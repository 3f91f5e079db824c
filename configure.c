/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-systemd-hook configure ENGINE.  JSON through yajl (json.c), TOML
 * through toml11 (tomlconf.cc).  Each engine computes the new contents of
 * its files (pure, apart from reading them); one executor shows the diff
 * or writes them. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "configure.h"
#include "inject.h"
#include "runtime.h"
#include "spec.h"
#include "tomlconf.h"

#define CONF_MAX (4u << 20)
#define HOOKS_JSON "systemd.json"

struct change {
        char *path;
        char *old, *new_;           /* new_ NULL: unchanged */
        size_t old_len;
        bool existed;
        mode_t mode;
};

struct report {
        char *s;
        size_t len;
};

static void say(struct report *r, const char *fmt, ...) _printf_(2, 3);
static void say(struct report *r, const char *fmt, ...)
{
        va_list ap;
        char *line = NULL;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        r->s = xrealloc(r->s, r->len + (size_t)n + 1);
        memcpy(r->s + r->len, line, (size_t)n + 1);
        r->len += (size_t)n;
        free(line);
}

static void change_done(struct change *c)
{
        free(c->path);
        free(c->old);
        free(c->new_);
}

/* Reads PATH into c->old; a missing file is an empty one. */
static int change_load(struct change *c, const char *path, hook_error_t *err)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        memset(c, 0, sizeof(*c));
        c->path = xstrdup(path);
        c->mode = 0644;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT) {
                c->old = xstrdup("");
                return 0;
        }
        if (fd < 0)
                return hook_error_set(err, errno, "`%s`: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return hook_error_set(err, EINVAL, "`%s` is not a regular file", path);
        if ((r = read_fd_capped(fd, CONF_MAX, &c->old, &c->old_len, err)) < 0)
                return hook_error_prefix(err, "`%s`", path);
        c->existed = true;
        c->mode = st.st_mode & 07777;
        return 0;
}

/* Sets the new contents, or none when they equal the old. */
static void change_set(struct change *c, char *text)
{
        free(c->new_);
        c->new_ = text;
        if (text && strlen(text) == c->old_len && memcmp(text, c->old, c->old_len) == 0 && c->existed)
                c->new_ = (free(text), NULL);
}

static int memfd_with(const char *name, const char *data, size_t len)
{
        int fd = memfd_create(name, MFD_CLOEXEC);

        if (fd >= 0 && write_all(fd, data, len) < 0) {
                (void)close(fd);
                return -EIO;
        }
        return fd;
}

/* `diff -u` of the old and new contents (diffutils is Essential). */
static int change_diff(const struct change *c, struct report *rep, hook_error_t *err)
{
        _cleanup_free_ char *diff = NULL, *out = NULL, *la = NULL, *lb = NULL;
        _cleanup_close_ int a = memfd_with("old", c->old, c->old_len), b = -EBADF;
        char pa[64], pb[64];
        int p[2], status = 0, r;
        size_t len = 0;
        pid_t pid;

        b = memfd_with("new", c->new_, strlen(c->new_));
        if (a < 0 || b < 0)
                return hook_error_set(err, EIO, "memfd_create for the diff failed");
        if ((r = runtime_resolve("diff", RUNTIME_SAFE_PATH, &diff, err)) < 0)
                return r;
        (void)snprintf(pa, sizeof(pa), "/proc/self/fd/%d", a);
        (void)snprintf(pb, sizeof(pb), "/proc/self/fd/%d", b);
        if (asprintf(&la, "%s%s", c->path, c->existed ? "" : " (new file)") < 0 || asprintf(&lb, "%s", c->path) < 0 ||
            pipe2(p, O_CLOEXEC) < 0)
                return hook_error_set(err, ENOMEM, "preparing the diff failed");
        pid = fork();
        if (pid == 0) {
                /* the memfds must survive exec */
                if (dup2(p[1], STDOUT_FILENO) < 0 || fcntl(a, F_SETFD, 0) < 0 || fcntl(b, F_SETFD, 0) < 0)
                        _exit(2);
                execl(diff, "diff", "-u", "--label", la, "--label", lb, pa, pb, (char *)NULL);
                _exit(2);
        }
        (void)close(p[1]);
        r = pid < 0 ? hook_error_set(err, errno, "fork: %s", strerror(errno))
                    : read_fd_capped(p[0], 2 * CONF_MAX + 65536, &out, &len, err);
        (void)close(p[0]);
        if (pid > 0)
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                return hook_error_set(err, EIO, "`diff` failed");
        say(rep, "%s", out);
        return 0;
}

static int mkdir_parent(const char *path, hook_error_t *err)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');

        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return hook_error_set(err, errno, "mkdir `%s`: %s", dir, strerror(errno));
        return 0;
}

static int change_write(const struct change *c, struct report *rep, hook_error_t *err)
{
        _cleanup_free_ char *bak = NULL;
        int r;

        if (c->existed) {
                if (asprintf(&bak, "%s.bak", c->path) < 0)
                        return hook_error_set(err, ENOMEM, "out of memory");
                if ((r = write_file_atomic(bak, c->old, c->old_len, c->mode, err)) < 0)
                        return hook_error_prefix(err, "backup");
        } else if ((r = mkdir_parent(c->path, err)) < 0) {
                return r;
        }
        if ((r = write_file_atomic(c->path, c->new_, strlen(c->new_), c->mode, err)) < 0)
                return r;
        if (bak)
                say(rep, "wrote %s (the previous contents are in %s)\n", c->path, bak);
        else
                say(rep, "wrote %s (new file)\n", c->path);
        return 0;
}

/* Show or write every change; "unchanged" lines for the others. */
static int apply(struct change *cs, size_t n, bool dry_run, struct report *rep, hook_error_t *err)
{
        size_t i;
        int r = 0;

        for (i = 0; i < n; i++) {
                if (!cs[i].new_)
                        say(rep, "%s: already configured, unchanged\n", cs[i].path);
                else if (dry_run)
                        r = change_diff(&cs[i], rep, err);
                else
                        r = change_write(&cs[i], rep, err);
                if (cs[i].new_ && r < 0)
                        return r;
        }
        return 0;
}

static bool any_change(const struct change *cs, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (cs[i].new_)
                        return true;
        return false;
}

/* ---- JSON files --------------------------------------------------------- */

static int json_of(const struct change *c, yajl_val *ret, hook_error_t *err)
{
        const char *s = c->old;

        s += strspn(s, " \t\r\n");
        if (!*s)
                return json_parse("{}", 2, ret, err);
        if (json_parse(c->old, c->old_len, ret, err) < 0)
                return hook_error_prefix(err, "`%s`", c->path);
        if ((*ret)->type != yajl_t_object)
                return hook_error_set(err, EINVAL, "`%s` is not a JSON object", c->path);
        return 0;
}

static int json_result(struct change *c, yajl_val tree, int changed, hook_error_t *err)
{
        char *out = NULL;
        size_t len;
        int r;

        if (changed < 0)
                return hook_error_prefix(err, "`%s`", c->path);
        if (changed == 0 && c->existed)
                return 0;
        if ((r = json_serialise(tree, &out, &len, err)) < 0)
                return r;
        change_set(c, out);
        return 0;
}

static int docker(const struct configure_opts *o, struct report *rep, hook_error_t *err)
{
        const char *keys[] = { "runtimes", o->handler, "path" };
        struct change c;
        _cleanup_json_ yajl_val tree = NULL;
        int r;

        r = change_load(&c, o->config ? o->config : "/etc/docker/daemon.json", err);
        if (r >= 0 && (r = json_of(&c, &tree, err)) >= 0 &&
            (r = json_result(&c, tree, json_set_string(tree, keys, 3, o->runtime_path, err), err)) >= 0 &&
            (r = apply(&c, 1, o->dry_run, rep, err)) >= 0) {
                if (access(o->runtime_path, X_OK) < 0)
                        say(rep, "warning: %s is not an executable file (yet)\n", o->runtime_path);
                say(rep, "%s: Docker reloads `runtimes` on SIGHUP: systemctl reload docker (or restart it); "
                         "then: docker run --runtime %s --cgroupns private IMAGE\n",
                    any_change(&c, 1) ? "restart" : "nothing to restart", o->handler);
        }
        change_done(&c);
        return r;
}

/* ---- containerd --------------------------------------------------------- */

/* containerd's default spec, from `ctr oci spec` (the spec CRI starts
 * from without base_runtime_spec). */
static int ctr_default_spec(char **ret, size_t *ret_len, hook_error_t *err)
{
        _cleanup_free_ char *ctr = NULL;
        int p[2], status = 0, r;
        pid_t pid;

        if ((r = runtime_resolve("ctr", getenv("PATH"), &ctr, err)) < 0)
                return hook_error_prefix(err, "containerd's default spec (`ctr oci spec`)");
        if (pipe2(p, O_CLOEXEC) < 0)
                return hook_error_set(err, errno, "pipe: %s", strerror(errno));
        pid = fork();
        if (pid == 0) {
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execl(ctr, "ctr", "oci", "spec", (char *)NULL);
                _exit(127);
        }
        (void)close(p[1]);
        r = pid < 0 ? hook_error_set(err, errno, "fork: %s", strerror(errno))
                    : read_fd_capped(p[0], CONFIG_MAX_BYTES, ret, ret_len, err);
        (void)close(p[0]);
        if (pid > 0)
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        if (r >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                r = hook_error_set(err, EIO, "`%s oci spec` failed", ctr);
        return r;
}

/* The base spec: containerd's default + a cgroup namespace (CRI adds
 * none on cgroup v1) + the hook at createRuntime. */
static int base_spec(const struct configure_opts *o, const char *hook, struct change *c, hook_error_t *err)
{
        _cleanup_json_ yajl_val tree = NULL;
        _cleanup_free_ char *def = NULL;
        size_t len;
        int r, a, b;

        if ((r = change_load(c, o->base_spec, err)) < 0)
                return r;
        if (!c->existed) {
                if ((r = ctr_default_spec(&def, &len, err)) < 0 || (r = json_parse(def, len, &tree, err)) < 0)
                        return r;
        } else if ((r = json_of(c, &tree, err)) < 0) {
                return r;
        }
        a = inject_namespace(tree, "cgroup", err);
        b = a < 0 ? a : inject_into_tree(tree, "createRuntime", hook, err);
        return json_result(c, tree, b < 0 ? b : a + b, err);
}

static int containerd(const struct configure_opts *o, const char *hook, struct report *rep, hook_error_t *err)
{
        struct ctrd_want w = { .handler = o->handler, .binary = o->runtime_path, .base_spec = o->base_spec };
        struct change cs[2] = {};
        char warning[256], *text = NULL;
        int r, version = 0;

        r = change_load(&cs[0], o->config ? o->config : "/etc/containerd/config.toml", err);
        if (r >= 0 && (r = tomlconf_containerd(cs[0].old, cs[0].old_len, &w, &text, &version, warning,
                                               sizeof(warning), err)) < 0)
                r = hook_error_prefix(err, "`%s`", cs[0].path);
        if (r >= 0) {
                change_set(&cs[0], text);
                r = base_spec(o, hook, &cs[1], err);
        }
        if (r >= 0 && (r = apply(cs, 2, o->dry_run, rep, err)) >= 0) {
                if (warning[0])
                        say(rep, "warning: %s: %s\n", cs[0].path, warning);
                say(rep, "%s: config version %d; containerd reads its config and base_runtime_spec only at "
                         "start: systemctl restart containerd; pods opt in with a RuntimeClass whose handler is "
                         "`%s`\n",
                    any_change(cs, 2) ? "restart" : "nothing to restart", version, o->handler);
        }
        change_done(&cs[0]);
        change_done(&cs[1]);
        return r;
}

/* ---- CRI-O and podman: hooks directories -------------------------------- */

#define CRIO_DEFAULT_HOOKS "/usr/share/containers/oci/hooks.d"

static bool list_has(char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static void list_free(char **l)
{
        for (char **p = l; p && *p; p++)
                free(*p);
        free(l);
}

/* The string array KEYS of the TOML file PATH: 1 set, 0 absent (or no
 * file). */
static int toml_file_array(const char *path, const char *const *keys, size_t n, char ***ret, hook_error_t *err)
{
        struct change c;
        int r;

        *ret = NULL;
        r = change_load(&c, path, err);
        if (r >= 0 && c.old_len)
                r = tomlconf_string_array(c.old, c.old_len, keys, n, ret, err);
        if (r < 0)
                r = hook_error_prefix(err, "`%s`", path);
        change_done(&c);
        return r;
}

static void check_hooks_json(struct report *rep)
{
        if (access(HOOKSDIR "/" HOOKS_JSON, R_OK) < 0)
                say(rep, "warning: %s/%s is missing: install oci-systemd-hook (make install) first\n", HOOKSDIR,
                    HOOKS_JSON);
}

static char *crio_dropin(char **dirs)
{
        struct report t = {};

        say(&t, "# Written by `oci-systemd-hook configure crio`: the OCI hook directories CRI-O\n"
                "# reads, with oci-systemd-hook's hooks.d files in %s.\n[crio.runtime]\nhooks_dir = [",
            HOOKSDIR);
        for (char **d = dirs; *d; d++) {
                _cleanup_free_ char *q = NULL;
                size_t i, j = 0;

                /* a TOML literal string cannot hold ' : basic string */
                q = xmalloc(2 * strlen(*d) + 1);
                for (i = 0; (*d)[i]; i++) {
                        if ((*d)[i] == '"' || (*d)[i] == '\\')
                                q[j++] = '\\';
                        q[j++] = (*d)[i];
                }
                q[j] = '\0';
                say(&t, "%s\"%s\"", d == dirs ? "" : ", ", q);
        }
        say(&t, "]\n");
        return t.s;
}

static int crio(const struct configure_opts *o, struct report *rep, hook_error_t *err)
{
        const char *keys[] = { "crio", "runtime", "hooks_dir" };
        char **dirs = NULL;
        struct change c = {};
        bool had = false;
        size_t n = 0;
        int r;

        r = toml_file_array("/etc/crio/crio.conf", keys, 3, &dirs, err);
        if (r == 0) {
                dirs = xcalloc(3, sizeof(char *));
                dirs[0] = xstrdup(CRIO_DEFAULT_HOOKS);
        }
        if (r >= 0 && (r = change_load(&c, o->config ? o->config : "/etc/crio/crio.conf.d/50-oci-systemd-hook.conf",
                                       err)) >= 0) {
                while (dirs[n])
                        n++;
                had = list_has(dirs, HOOKSDIR);
                if (!had) {
                        dirs = xrealloc(dirs, (n + 2) * sizeof(char *));
                        dirs[n] = xstrdup(HOOKSDIR);
                        dirs[n + 1] = NULL;
                }
                /* CRI-O reads our directory already (its default when
                 * installed with --prefix=/usr): no drop-in needed. */
                if (had && !c.existed)
                        say(rep, "CRI-O already reads %s: no drop-in needed\n", HOOKSDIR);
                else
                        change_set(&c, crio_dropin(dirs));
                r = apply(&c, had && !c.existed ? 0 : 1, o->dry_run, rep, err);
        }
        if (r >= 0) {
                check_hooks_json(rep);
                say(rep, "%s: systemctl restart crio\n", any_change(&c, 1) ? "restart" : "nothing to restart");
        }
        list_free(dirs);
        change_done(&c);
        return r;
}

static int podman(const struct configure_opts *o, struct report *rep, hook_error_t *err)
{
        const char *keys[] = { "engine", "hooks_dir" }, *file = o->config ? o->config : "/etc/containers/containers.conf";
        char **dirs = NULL;
        int r;

        r = toml_file_array(file, keys, 2, &dirs, err);
        if (r < 0)
                return r;
        if (r > 0 && !list_has(dirs, HOOKSDIR)) {
                list_free(dirs);
                return hook_error_set(err, ENOENT, "`%s` sets [engine] hooks_dir without %s: add it there", file,
                                      HOOKSDIR);
        }
        list_free(dirs);
        if (access(HOOKSDIR "/" HOOKS_JSON, R_OK) < 0)
                return hook_error_set(err, ENOENT, "%s/%s is missing: install oci-systemd-hook (make install)",
                                      HOOKSDIR, HOOKS_JSON);
        say(rep, "podman runs the hook from %s/%s (%s); nothing to change or restart\n", HOOKSDIR, HOOKS_JSON,
            r > 0 ? "listed in [engine] hooks_dir" : "its default hooks directory");
        return 0;
}

int configure_run(const struct configure_opts *o, char **ret_report, hook_error_t *err)
{
        struct report rep = {};
        const char *hook = o->hook_path;
        int r;

        if (!hook || hook[0] != '/')
                return hook_error_set(err, EINVAL, "the hook path must be absolute (--hook-path)");
        if (o->runtime_path[0] != '/' || o->base_spec[0] != '/' || (o->config && !o->config[0]))
                return hook_error_set(err, EINVAL, "--runtime-path and --base-spec must be absolute paths");
        if (!o->handler[0] || strpbrk(o->handler, "\"'\\\n"))
                return hook_error_set(err, EINVAL, "--handler `%.64s` is not a plain name", o->handler);
        if (streq(o->engine, "docker"))
                r = docker(o, &rep, err);
        else if (streq(o->engine, "containerd"))
                r = containerd(o, hook, &rep, err);
        else if (streq(o->engine, "crio") || streq(o->engine, "cri-o"))
                r = crio(o, &rep, err);
        else if (streq(o->engine, "podman"))
                r = podman(o, &rep, err);
        else
                r = hook_error_set(err, EINVAL, "unknown engine `%.32s` (docker, containerd, crio, podman)",
                                   o->engine);
        if (r < 0) {
                free(rep.s);
                return r;
        }
        *ret_report = rep.s ? rep.s : xstrdup("");
        return 0;
}
