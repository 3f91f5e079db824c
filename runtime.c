/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-systemd-runtime: runc's command line in, the same command line out
 * to the real runtime, with the hook added to config.json on create and
 * SIGTERM turned into SIGRTMIN+3 for systemd containers on kill. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <yajl/yajl_gen.h>

#include "detect.h"
#include "inject.h"
#include "runtime.h"
#include "spec.h"

/* runc 1.1's global options that take a value (`runc --help`); the others
 * it knows (--debug, --systemd-cgroup, --help, --version) are flags. */
static const char *const global_value_opts[] = { "root", "log", "log-format", "criu", "rootless" };

/* Options of create, run and restore that take a value: the first word
 * that is neither an option nor such a value is the container id. */
static const char *const create_value_opts[] = {
        "bundle", "b", "console-socket", "pid-file", "preserve-fds",
        /* restore */
        "image-path", "work-path", "manage-cgroups-mode", "empty-ns", "lsm-profile", "lsm-mount-context",
        "parent-path",
};

static bool in_list(const char *name, size_t n, const char *const *list, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++)
                if (strlen(list[i]) == n && strncmp(list[i], name, n) == 0)
                        return true;
        return false;
}

/* "-x", "--x" or "--x=v": the name without dashes, its length, and the
 * inline value (NULL without `=`).  NULL for a non-option. */
static const char *opt_name(const char *arg, size_t *ret_len, const char **ret_value)
{
        const char *eq;

        if (arg[0] != '-' || arg[1] == '\0' || streq(arg, "--"))
                return NULL;
        arg += arg[1] == '-' ? 2 : 1;
        eq = strchr(arg, '=');
        *ret_len = eq ? (size_t)(eq - arg) : strlen(arg);
        *ret_value = eq ? eq + 1 : NULL;
        return arg;
}

static enum runtime_cmd cmd_kind(const char *cmd)
{
        if (streq(cmd, "create") || streq(cmd, "run") || streq(cmd, "restore"))
                return RT_CMD_CREATE;
        if (streq(cmd, "kill"))
                return RT_CMD_KILL;
        return RT_CMD_OTHER;
}

/* Sets *value for a value option: inline, or the next word (consumed). */
static int take_value(int argc, char *const argv[], int i, const char *inline_value, const char **value)
{
        if (inline_value) {
                *value = inline_value;
                return i;
        }
        *value = i + 1 < argc ? argv[i + 1] : NULL;
        return i + 1 < argc ? i + 1 : i;
}

static void parse_global(int argc, char *const argv[], struct runtime_args *a)
{
        int i;

        for (i = 1; i < argc; i++) {
                const char *name, *inline_value, *value = NULL;
                size_t n;

                name = opt_name(argv[i], &n, &inline_value);
                if (!name) {
                        if (streq(argv[i], "--"))
                                i++;
                        break;
                }
                if (!in_list(name, n, global_value_opts, ELEMENTSOF(global_value_opts))) {
                        if (n == 5 && strncmp(name, "debug", 5) == 0)
                                a->debug = !inline_value || !streq(inline_value, "false");
                        continue;
                }
                i = take_value(argc, argv, i, inline_value, &value);
                if (!value)
                        continue;
                if (n == 3 && strncmp(name, "log", 3) == 0)
                        a->log = value;
                else if (n == 10 && strncmp(name, "log-format", 10) == 0)
                        a->log_json = streq(value, "json");
        }
        if (i < argc) {
                a->cmd_index = i;
                a->cmd = cmd_kind(argv[i]);
        }
}

/* create/run/restore: --bundle and the id. */
static void parse_create(int argc, char *const argv[], struct runtime_args *a)
{
        int i;

        for (i = a->cmd_index + 1; i < argc; i++) {
                const char *name, *inline_value, *value = NULL;
                size_t n;

                name = opt_name(argv[i], &n, &inline_value);
                if (!name) {
                        if (streq(argv[i], "--") && i + 1 < argc)
                                i++;
                        if (!a->id)
                                a->id = argv[i];
                        continue;
                }
                if (!in_list(name, n, create_value_opts, ELEMENTSOF(create_value_opts)))
                        continue;
                i = take_value(argc, argv, i, inline_value, &value);
                if (value && ((n == 6 && strncmp(name, "bundle", 6) == 0) || (n == 1 && name[0] == 'b')))
                        a->bundle = value;
        }
}

/* kill [--all|-a] ID [SIGNAL] */
static void parse_kill(int argc, char *const argv[], struct runtime_args *a)
{
        int i;

        for (i = a->cmd_index + 1; i < argc; i++) {
                const char *name, *inline_value;
                size_t n;

                name = opt_name(argv[i], &n, &inline_value);
                if (name) {
                        if ((n == 3 && strncmp(name, "all", 3) == 0) || (n == 1 && name[0] == 'a'))
                                a->kill_all = !inline_value || !streq(inline_value, "false");
                        continue;
                }
                if (streq(argv[i], "--") && i + 1 < argc)
                        i++;
                if (!a->id)
                        a->id = argv[i];
                else if (!a->signal_index)
                        a->signal_index = i;
        }
}

void runtime_parse_args(int argc, char *const argv[], struct runtime_args *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->cmd = RT_CMD_NONE;
        parse_global(argc, argv, ret);
        if (ret->cmd == RT_CMD_CREATE)
                parse_create(argc, argv, ret);
        else if (ret->cmd == RT_CMD_KILL)
                parse_kill(argc, argv, ret);
}

bool runtime_signal_is_term(const char *sig)
{
        char *end;
        long n;

        if (!sig || !sig[0])
                return false;
        /* runc: strconv.Atoi first, then the name without "SIG", any case */
        errno = 0;
        n = strtol(sig, &end, 10);
        if (*end == '\0' && errno == 0)
                return n == 15;
        if (strncasecmp(sig, "SIG", 3) == 0)
                sig += 3;
        return strcasecmp(sig, "TERM") == 0;
}

bool runtime_kill_wants_translation(const struct runtime_args *a)
{
        return a->cmd == RT_CMD_KILL && a->id && !a->kill_all;
}

/* ---- configuration ------------------------------------------------------ */

static int conf_line(char *line, const char *file, unsigned lineno, struct runtime_conf *c, hook_error_t *err)
{
        char *eq, *key, *value, **slot;

        line = str_trim(line);
        if (!line[0] || line[0] == '#')
                return 0;
        eq = strchr(line, '=');
        if (!eq)
                return hook_error_set(err, EINVAL, "`%s` line %u: expected KEY = VALUE", file, lineno);
        *eq = '\0';
        key = str_trim(line);
        value = str_trim(eq + 1);
        if (streq(key, "runtime"))
                slot = &c->runtime;
        else if (streq(key, "hook"))
                slot = &c->hook;
        else
                return hook_error_set(err, EINVAL, "`%s` line %u: unknown key `%.64s` (runtime, hook)", file,
                                      lineno, key);
        if (!value[0] || (streq(key, "hook") && value[0] != '/'))
                return hook_error_set(err, EINVAL, "`%s` line %u: `%s` needs %s", file, lineno, key,
                                      streq(key, "hook") ? "an absolute path" : "a value");
        free(*slot);
        *slot = xstrdup(value);
        return 0;
}

int runtime_conf_parse(const char *buf, const char *file, struct runtime_conf *c, hook_error_t *err)
{
        _cleanup_free_ char *copy = xstrdup(buf);
        char *line = copy, *next;
        unsigned lineno = 1;
        int r;

        for (; line; line = next, lineno++) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if ((r = conf_line(line, file, lineno, c, err)) < 0)
                        return r;
        }
        return 0;
}

int runtime_conf_load(struct runtime_conf *c, hook_error_t *err)
{
        const char *file = getenv(RUNTIME_ENV_CONFIG), *env = getenv(RUNTIME_ENV);
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        memset(c, 0, sizeof(*c));
        if (!file || !file[0])
                file = SYSCONFDIR "/oci-systemd-hook/runtime.conf";
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno != ENOENT)
                return hook_error_set(err, errno, "`%s`: %s", file, strerror(errno));
        if (fd >= 0) {
                if ((r = read_fd_capped(fd, 65536, &buf, &len, err)) < 0)
                        return hook_error_prefix(err, "`%s`", file);
                if ((r = runtime_conf_parse(buf, file, c, err)) < 0)
                        return r;
        }
        if (env && env[0]) {
                free(c->runtime);
                c->runtime = xstrdup(env);
        }
        if (!c->runtime)
                c->runtime = xstrdup(RUNTIME_DEFAULT);
        return 0;
}

void runtime_conf_done(struct runtime_conf *c)
{
        free(c->runtime);
        free(c->hook);
        memset(c, 0, sizeof(*c));
}

/* ---- the real runtime --------------------------------------------------- */

static int check_candidate(const char *path, const struct stat *self, hook_error_t *err)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return hook_error_set(err, errno, "`%s`: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
                return hook_error_set(err, EACCES, "`%s` is not an executable file", path);
        if (self && st.st_dev == self->st_dev && st.st_ino == self->st_ino)
                return hook_error_set(err, ELOOP, "`%s` is " RUNTIME_NAME " itself", path);
        return 0;
}

int runtime_resolve(const char *name, const char *path_env, char **ret, hook_error_t *err)
{
        _cleanup_free_ char *copy = NULL, *cand = NULL;
        struct stat self_st, *self = stat("/proc/self/exe", &self_st) == 0 ? &self_st : NULL;
        hook_error_t skip = {};
        char *dir, *save = NULL;
        int r;

        if (name[0] == '/') {
                if ((r = check_candidate(name, self, err)) < 0)
                        return hook_error_prefix(err, "the real runtime");
                *ret = xstrdup(name);
                return 0;
        }
        if (strchr(name, '/'))
                return hook_error_set(err, EINVAL, "the real runtime `%.200s` is a relative path", name);
        copy = xstrdup(path_env && path_env[0] ? path_env : RUNTIME_SAFE_PATH);
        for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                if (dir[0] != '/')
                        continue;   /* "" or "." or "bin": never the cwd of a daemon */
                free(cand);
                cand = xmalloc(strlen(dir) + strlen(name) + 2);
                (void)sprintf(cand, "%s/%s", dir, name);
                if (check_candidate(cand, self, &skip) == 0) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
        }
        return hook_error_set(err, ENOENT, "the real runtime `%.64s` is not in PATH's absolute entries "
                              "(other than " RUNTIME_NAME " itself); set `runtime =` in runtime.conf or $"
                              RUNTIME_ENV, name);
}

/* ---- create: the hook into config.json ---------------------------------- */

static int load_bundle_config(const char *bundle, struct oci_config *c, hook_error_t *err)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return hook_error_set(err, errno, "bundle `%.200s`: %s", bundle, strerror(errno));
        fd = openat(dfd, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return hook_error_set(err, errno, "`%.200s/config.json`: %s", bundle, strerror(errno));
        if ((r = read_fd_capped(fd, CONFIG_MAX_BYTES, &buf, &len, err)) < 0 ||
            (r = spec_parse_config(buf, len, c, err)) < 0)
                return hook_error_prefix(err, "`%.200s/config.json`", bundle);
        return 0;
}

/* The hook's own decision (detect_systemd, the rootfs inspected), so the
 * wrapper touches exactly the containers the hook would prepare. */
static int bundle_is_systemd(const char *bundle, const struct kv *ann, size_t n_ann, bool *ret,
                             char *reason, size_t reason_len, hook_error_t *err)
{
        struct oci_config c = {};
        struct detect_result d;
        _cleanup_free_ char *rootfs = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        int r;

        if ((r = load_bundle_config(bundle, &c, err)) < 0)
                return r;
        rootfs = spec_rootfs_path(&c, bundle);
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        detect_systemd(&c, ann, n_ann, rootfd, &d);
        spec_config_done(&c);
        *ret = d.systemd;
        (void)snprintf(reason, reason_len, "%s", d.reason);
        return 0;
}

static int prepare_create(const struct runtime_args *a, const struct runtime_conf *conf, hook_error_t *err)
{
        _cleanup_free_ char *self = NULL, *cwd = NULL, *file = NULL;
        const char *bundle = a->bundle, *hook = conf->hook;
        char reason[320];
        bool yes = false;
        int r;

        if (!bundle || !bundle[0])
                bundle = cwd = getcwd(NULL, 0);
        if (!bundle)
                return hook_error_set(err, errno, "the bundle (the current directory): %s", strerror(errno));
        if ((r = bundle_is_systemd(bundle, NULL, 0, &yes, reason, sizeof(reason), err)) < 0)
                return r;
        if (!yes)
                return 0;   /* exactly as under runc: config.json untouched */
        if (!hook)
                hook = self = self_path();
        if (!hook)
                return hook_error_set(err, errno, "cannot read /proc/self/exe for the hook's path");
        file = xmalloc(strlen(bundle) + sizeof("/config.json"));
        (void)sprintf(file, "%s/config.json", bundle);
        r = inject_file(file, "createRuntime", hook, err);
        return r < 0 ? hook_error_prefix(err, "adding the hook") : 0;
}

/* ---- kill: is it a systemd container? ----------------------------------- */

/* `REAL GLOBAL-OPTIONS state ID` (the runtime-spec "state" operation, so
 * this works for runc and crun alike, and after a dockerd restart: the
 * runtime keeps the state, config.json stays in the bundle). */
static int query_state(const char *real, char **argv, const struct runtime_args *a,
                       struct oci_state *ret, hook_error_t *err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **args = xcalloc((size_t)a->cmd_index + 3, sizeof(char *));
        int pipefd[2], status = 0, r;
        size_t len = 0;
        pid_t pid;

        args[0] = (char *)real;
        memcpy(args + 1, argv + 1, (size_t)(a->cmd_index - 1) * sizeof(char *));
        args[a->cmd_index] = (char *)"state";
        args[a->cmd_index + 1] = (char *)a->id;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return hook_error_set(err, errno, "pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void)close(pipefd[0]);
                (void)close(pipefd[1]);
                return hook_error_set(err, -r, "fork: %s", strerror(-r));
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (dup2(pipefd[1], STDOUT_FILENO) < 0 || (devnull >= 0 && dup2(devnull, STDERR_FILENO) < 0))
                        _exit(127);
                execv(real, args);
                _exit(127);
        }
        (void)close(pipefd[1]);
        r = read_fd_capped(pipefd[0], STATE_MAX_BYTES, &buf, &len, err);
        (void)close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return hook_error_prefix(err, "`%s state`", real);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return hook_error_set(err, ESRCH, "`%s state %.64s` failed", real, a->id);
        return spec_parse_state(buf, len, ret, err);
}

static int kill_is_systemd(const char *real, char **argv, const struct runtime_args *a, bool *ret,
                           hook_error_t *err)
{
        struct oci_state s = {};
        char reason[320];
        int r;

        *ret = false;
        r = query_state(real, argv, a, &s, err);
        if (r >= 0 && !s.bundle)
                r = hook_error_set(err, EINVAL, "the state has no bundle");
        if (r >= 0)
                r = bundle_is_systemd(s.bundle, s.annotations, s.n_annotations, ret, reason, sizeof(reason), err);
        spec_state_done(&s);
        return r;
}

/* argv for the real runtime: the same words, SIGNAL replaced by "37" (or
 * appended, when runc's default SIGTERM was meant). */
static char **exec_argv(const char *real, int argc, char **argv, const struct runtime_args *a, bool translate)
{
        char **v = xcalloc((size_t)argc + 2, sizeof(char *));
        static char halt[] = "37";

        memcpy(v, argv, (size_t)argc * sizeof(char *));
        v[0] = (char *)real;
        if (translate && a->signal_index)
                v[a->signal_index] = halt;
        else if (translate)
                v[argc] = halt;
        return v;
}

int runtime_prepare(int argc, char **argv, struct runtime_args *ret_args, char **ret_path, char ***ret_argv,
                    hook_error_t *err)
{
        struct runtime_conf conf = {};
        _cleanup_free_ char *real = NULL;
        bool translate = false;
        int r;

        runtime_parse_args(argc, argv, ret_args);
        if ((r = runtime_conf_load(&conf, err)) < 0)
                goto out;
        if ((r = runtime_resolve(conf.runtime, getenv("PATH"), &real, err)) < 0)
                goto out;
        if (ret_args->cmd == RT_CMD_CREATE)
                r = prepare_create(ret_args, &conf, err);
        else if (runtime_kill_wants_translation(ret_args) &&
                 (!ret_args->signal_index || runtime_signal_is_term(argv[ret_args->signal_index]))) {
                /* Cannot tell: leave the signal alone (docker stop then
                 * waits and kills, as without the wrapper). */
                hook_error_t why = {};
                if (kill_is_systemd(real, argv, ret_args, &translate, &why) < 0) {
                        translate = false;
                        (void)snprintf(ret_args->note, sizeof(ret_args->note), "signal passed on: %.400s", why.msg);
                } else {
                        (void)snprintf(ret_args->note, sizeof(ret_args->note), "%s",
                                       translate ? "systemd: SIGTERM becomes SIGRTMIN+3" : "not systemd");
                }
        }
        if (r >= 0) {
                *ret_argv = exec_argv(real, argc, argv, ret_args, translate);
                *ret_path = TAKE_PTR(real);
        }
out:
        runtime_conf_done(&conf);
        return r;
}

/* ---- runc's log format -------------------------------------------------- */

char *runtime_log_line(const struct runtime_args *a, const char *level, const char *msg)
{
        char t[64], *line = NULL;
        struct timespec ts;
        struct tm tm;
        yajl_gen g;
        const unsigned char *out;
        size_t len;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
        (void)snprintf(t + strlen(t), sizeof(t) - strlen(t), ".%09ldZ", ts.tv_nsec);
        if (!a->log_json) {
                /* logrus text: time="..." level=error msg="..." (msg as %q) */
                if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg) < 0)
                        return NULL;
                for (char *p = strstr(line, "msg=\"") + 5; p[1]; p++)
                        if (*p == '"' && p[1] != '\n')
                                *p = '\'';
                return line;
        }
        g = yajl_gen_alloc(NULL);
        if (!g)
                return NULL;
        (void)yajl_gen_map_open(g);
        (void)yajl_gen_string(g, (const unsigned char *)"level", 5);
        (void)yajl_gen_string(g, (const unsigned char *)level, strlen(level));
        (void)yajl_gen_string(g, (const unsigned char *)"msg", 3);
        (void)yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
        (void)yajl_gen_string(g, (const unsigned char *)"time", 4);
        (void)yajl_gen_string(g, (const unsigned char *)t, strlen(t));
        (void)yajl_gen_map_close(g);
        if (yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok) {
                line = xmalloc(len + 2);
                memcpy(line, out, len);
                line[len] = '\n';
                line[len + 1] = '\0';
        }
        yajl_gen_free(g);
        return line;
}
