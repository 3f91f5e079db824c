/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-systemd-runtime: runc's argument syntax, the kill translation
 * decision, runtime.conf, the safe lookup of the real runtime and the
 * create/kill paths against a fake runtime. */
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime.h"
#include "testutil.h"

/* ---- argument parser ---------------------------------------------------- */
static const struct {
        const char *argv[16];
        enum runtime_cmd cmd;
        const char *cmd_word, *bundle, *id, *log, *signal;
        bool json, all, translate;
} parses[] = {
        /* dockerd 20.10, as seen (FIELD-NOTES) */
        { { "x", "--root", "/run/docker/runtime-runc/moby", "--log", "/b/log.json", "--log-format", "json",
            "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1" },
          RT_CMD_CREATE, "create", "/b", "c1", "/b/log.json", NULL, true, false, false },
        { { "x", "--root=/r", "--log=/l", "--log-format=json", "kill", "c1", "15" },
          RT_CMD_KILL, "kill", NULL, "c1", "/l", "15", true, false, true },
        /* containerd-shim-runc-v2 (go-runc): --systemd-cgroup is a flag */
        { { "x", "--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
            "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket",
            "/s.sock", "id2" },
          RT_CMD_CREATE, "create", "/b", "id2", "/b/log.json", NULL, true, false, false },
        /* one dash, -b, the id before the options */
        { { "x", "-root", "/r", "run", "id3", "-b", "/bb", "-d" },
          RT_CMD_CREATE, "run", "/bb", "id3", NULL, NULL, false, false, false },
        { { "x", "restore", "--image-path", "/img", "--work-path", "/w", "--bundle=/b4", "id4" },
          RT_CMD_CREATE, "restore", "/b4", "id4", NULL, NULL, false, false, false },
        /* no bundle: the cwd */
        { { "x", "create", "id5" }, RT_CMD_CREATE, "create", NULL, "id5", NULL, NULL, false, false, false },
        /* --criu and --rootless take values; --debug does not */
        { { "x", "--criu", "/usr/sbin/criu", "--rootless", "false", "--debug", "kill", "id6", "SIGTERM" },
          RT_CMD_KILL, "kill", NULL, "id6", NULL, "SIGTERM", false, false, true },
        /* kill without a signal: runc's default SIGTERM */
        { { "x", "kill", "id7" }, RT_CMD_KILL, "kill", NULL, "id7", NULL, NULL, false, false, true },
        { { "x", "kill", "--all", "id8", "TERM" }, RT_CMD_KILL, "kill", NULL, "id8", NULL, "TERM", false, true,
          false },
        { { "x", "kill", "-a", "id9", "KILL" }, RT_CMD_KILL, "kill", NULL, "id9", NULL, "KILL", false, true,
          false },
        { { "x", "kill", "id10", "9" }, RT_CMD_KILL, "kill", NULL, "id10", NULL, "9", false, false, true },
        /* unknown global option: a flag, passed through */
        { { "x", "--newfangled", "state", "id11" }, RT_CMD_OTHER, "state", NULL, NULL, NULL, NULL, false, false,
          false },
        { { "x", "--newfangled=3", "--log-format", "text", "delete", "id12" },
          RT_CMD_OTHER, "delete", NULL, NULL, NULL, NULL, false, false, false },
        { { "x", "--version" }, RT_CMD_NONE, NULL, NULL, NULL, NULL, NULL, false, false, false },
        { { "x" }, RT_CMD_NONE, NULL, NULL, NULL, NULL, NULL, false, false, false },
        /* a value option at the very end */
        { { "x", "--root" }, RT_CMD_NONE, NULL, NULL, NULL, NULL, NULL, false, false, false },
        { { "x", "kill" }, RT_CMD_KILL, "kill", NULL, NULL, NULL, NULL, false, false, false },
        { { "x", "exec", "--tty", "id13", "sh" }, RT_CMD_OTHER, "exec", NULL, NULL, NULL, NULL, false, false,
          false },
};

static int count(const char *const *v)
{
        int n = 0;
        while (n < 16 && v[n])
                n++;
        return n;
}

START_TEST(test_parse)
{
        struct runtime_args a;
        char *const *argv = (char *const *)parses[_i].argv;
        int argc = count(parses[_i].argv);

        runtime_parse_args(argc, argv, &a);
        ck_assert_int_eq(a.cmd, parses[_i].cmd);
        if (parses[_i].cmd_word)
                ck_assert_str_eq(argv[a.cmd_index], parses[_i].cmd_word);
        else
                ck_assert_int_eq(a.cmd_index, 0);
        ck_assert_pstr_eq(a.bundle, parses[_i].bundle);
        ck_assert_pstr_eq(a.id, parses[_i].id);
        ck_assert_pstr_eq(a.log, parses[_i].log);
        ck_assert_int_eq(a.log_json, parses[_i].json);
        ck_assert_int_eq(a.kill_all, parses[_i].all);
        ck_assert_pstr_eq(a.signal_index ? argv[a.signal_index] : NULL, parses[_i].signal);
        ck_assert_int_eq(runtime_kill_wants_translation(&a), parses[_i].translate);
}
END_TEST

START_TEST(test_debug_flag)
{
        const char *argv[] = { "x", "--debug", "--log", "/l", "state", "c" };
        struct runtime_args a;

        runtime_parse_args(6, (char *const *)argv, &a);
        ck_assert(a.debug);
        ck_assert_str_eq(a.log, "/l");
}
END_TEST

/* ---- signals ------------------------------------------------------------ */
static const struct {
        const char *sig;
        bool term;
} sigs[] = {
        { "15", true }, { "TERM", true }, { "SIGTERM", true }, { "term", true }, { "sigterm", true },
        { "SigTerm", true }, { "015", true }, { "9", false }, { "KILL", false }, { "SIGKILL", false },
        { "37", false }, { "RTMIN+3", false }, { "SIGRTMIN+3", false }, { "", false }, { "15x", false },
        { "SIGTERMX", false }, { "SIG", false }, { "-15", false }, { "99999999999999999999", false },
};

START_TEST(test_signal_is_term)
{
        ck_assert_msg(runtime_signal_is_term(sigs[_i].sig) == sigs[_i].term, "`%s`", sigs[_i].sig);
}
END_TEST

/* ---- runtime.conf ------------------------------------------------------- */
START_TEST(test_conf)
{
        struct runtime_conf c = {};
        hook_error_t err = {};

        ck_assert_ok(runtime_conf_parse("# the real one\n\n  runtime = /usr/sbin/runc  \nhook=/h/x\n", "f", &c,
                                        &err),
                     &err);
        ck_assert_str_eq(c.runtime, "/usr/sbin/runc");
        ck_assert_str_eq(c.hook, "/h/x");
        runtime_conf_done(&c);
}
END_TEST

static const struct {
        const char *text, *msg;
} bad_confs[] = {
        { "runtime\n", "line 1: expected KEY = VALUE" },
        { "\nruntim = x\n", "line 2: unknown key `runtim`" },
        { "hook = relative/x\n", "`hook` needs an absolute path" },
        { "runtime =\n", "`runtime` needs a value" },
};

START_TEST(test_conf_bad)
{
        struct runtime_conf c = {};
        hook_error_t err = {};
        int r = runtime_conf_parse(bad_confs[_i].text, "f", &c, &err);

        ck_assert_err(r, &err, bad_confs[_i].msg);
        runtime_conf_done(&c);
}
END_TEST

/* ---- resolving the real runtime ----------------------------------------- */
static char *make_exe(const char *dir, const char *name, const char *script)
{
        char *p = tu_join(dir, name);

        tu_write(p, script);
        ck_assert_int_eq(chmod(p, 0755), 0);
        return p;
}

static bool same_file(const char *x, const char *y)
{
        struct stat a, b;

        return stat(x, &a) == 0 && stat(y, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

START_TEST(test_resolve)
{
        _cleanup_free_ char *d = tu_mkdtemp(), *a = tu_join(d, "a"), *b = tu_join(d, "b"), *self = NULL,
                            *exe = NULL, *path = NULL, *got = NULL, *cwd = getcwd(NULL, 0);
        hook_error_t err = {};
        char buf[4096];
        ssize_t n;

        tu_mkdir_p(d, "a");
        tu_mkdir_p(d, "b");
        tu_mkdir_p(d, "rel");
        /* a/runc is this very program (a symlink to it), b/runc the real one */
        n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        self = tu_join(a, "runc");
        /* Under valgrind readlink(/proc/self/exe) names this program but
         * stat(/proc/self/exe), which the wrapper compares, is valgrind:
         * "ourselves" cannot be shown there. */
        if (!same_file("/proc/self/exe", buf))
                return;
        ck_assert_int_eq(symlink(buf, self), 0);
        exe = make_exe(b, "runc", "#!/bin/sh\n");
        free(make_exe(d, "rel/runc", "#!/bin/sh\n"));
        ck_assert_int_eq(chdir(d), 0);
        path = tu_printf("rel::.:%s:%s", a, b);
        ck_assert_ok(runtime_resolve("runc", path, &got, &err), &err);
        ck_assert_str_eq(got, exe);
        free(TAKE_PTR(got));
        /* absolute: used as is, unless it is ourselves */
        ck_assert_ok(runtime_resolve(exe, "", &got, &err), &err);
        ck_assert_str_eq(got, exe);
        ck_assert_err(runtime_resolve(self, "", &got, &err), &err, "is oci-systemd-runtime itself");
        ck_assert_err(runtime_resolve("./runc", path, &got, &err), &err, "is a relative path");
        /* only relative entries and ourselves: not found */
        free(path);
        path = tu_printf("rel:.:%s", a);
        ck_assert_err(runtime_resolve("runc", path, &got, &err), &err, "not in PATH's absolute entries");
        ck_assert_err(runtime_resolve(d, "", &got, &err), &err, "is not an executable file");
        ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

/* ---- create and kill against a fake runtime ----------------------------- */

/* A bundle whose rootfs has /sbin/init -> ../lib/systemd/systemd (or a
 * plain /bin/sh command), and a fake runtime that answers `state` with it. */
static char *bundle(const char *args, const char *env)
{
        static const struct tu_node tree[] = {
                { TU_FILE, "rootfs/lib/systemd/systemd", "" },
                { TU_LINK, "rootfs/sbin/init", "../lib/systemd/systemd" },
                { TU_FILE, "rootfs/bin/sh", "" },
        };
        char *d = tu_tree(tree, ELEMENTSOF(tree));
        _cleanup_free_ char *cfg = tu_join(d, "config.json"), *json = NULL;

        json = tu_printf("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":%s,\"env\":[%s],\"cwd\":\"/\"},"
                         "\"root\":{\"path\":\"rootfs\"}}",
                         args, env);
        tu_write(cfg, json);
        return d;
}

static char *fake_runtime(const char *bundle_dir)
{
        _cleanup_free_ char *d = tu_mkdtemp(), *script = NULL;

        script = tu_printf("#!/bin/sh\n"
                           "for a; do last=$a; done\n"
                           "case \" $* \" in *' state '*) printf '{\"ociVersion\":\"1.0.2\",\"id\":\"%%s\","
                           "\"status\":\"running\",\"pid\":4242,\"bundle\":\"%s\"}' \"$last\"; exit 0;; esac\n"
                           "exit 3\n",
                           bundle_dir);
        return make_exe(d, "runc", script);
}

static char **prepare(const char *real, int argc, const char **argv, struct runtime_args *a, hook_error_t *err,
                      int *r)
{
        _cleanup_free_ char *path = NULL;
        char **out = NULL;

        ck_assert_int_eq(setenv(RUNTIME_ENV, real, 1), 0);
        ck_assert_int_eq(setenv(RUNTIME_ENV_CONFIG, "/nonexistent/runtime.conf", 1), 0);
        *r = runtime_prepare(argc, (char **)argv, a, &path, &out, err);
        if (*r >= 0)
                ck_assert_str_eq(path, real);
        return out;
}

static const struct {
        const char *args, *env;
        bool systemd;
} kinds[] = {
        { "[\"/sbin/init\"]", "", true },
        { "[\"/lib/systemd/systemd\",\"--log-level=debug\"]", "", true },
        { "[\"/sbin/init\"]", "\"oci-systemd-hook=disabled\"", false },
        { "[\"/bin/sh\"]", "", false },
};

START_TEST(test_create_injects)
{
        _cleanup_free_ char *b = bundle(kinds[_i].args, kinds[_i].env), *real = fake_runtime(b), *cfg = NULL,
                            *before = NULL, *after = NULL, *again = NULL;
        _cleanup_free_ char **out = NULL;
        const char *argv[] = { "oci-systemd-runtime", "--root", "/r", "create", "--bundle", b, "c1" };
        struct runtime_args a;
        hook_error_t err = {};
        int r;

        cfg = tu_join(b, "config.json");
        before = tu_read(cfg, NULL);
        out = prepare(real, 7, argv, &a, &err, &r);
        ck_assert_ok(r, &err);
        for (int i = 1; i < 7; i++)
                ck_assert_str_eq(out[i], argv[i]);   /* arguments unchanged */
        ck_assert_ptr_null(out[7]);
        after = tu_read(cfg, NULL);
        if (!kinds[_i].systemd) {
                ck_assert_str_eq(after, before);     /* exactly as under runc */
                return;
        }
        ck_assert_ptr_nonnull(strstr(after, "\"createRuntime\""));
        ck_assert_ptr_nonnull(strstr(after, "\"oci-systemd-hook\""));
        free(out);
        out = prepare(real, 7, argv, &a, &err, &r);
        ck_assert_ok(r, &err);
        again = tu_read(cfg, NULL);
        ck_assert_str_eq(again, after);              /* idempotent */
}
END_TEST

START_TEST(test_create_errors)
{
        _cleanup_free_ char *b = tu_mkdtemp(), *real = fake_runtime(b), *cfg = tu_join(b, "config.json");
        _cleanup_free_ char **out = NULL;
        const char *argv[] = { "x", "create", "--bundle", b, "c1" };
        struct runtime_args a;
        hook_error_t err = {};
        int r;

        out = prepare(real, 5, argv, &a, &err, &r);
        ck_assert_err(r, &err, "config.json`: No such file or directory");
        tu_write(cfg, "{\"process\": {\"args\": [\"/sbin/init\"]}, \"process\": {}}");
        out = prepare(real, 5, argv, &a, &err, &r);
        ck_assert_err(r, &err, "duplicate key `process`");
}
END_TEST

static const struct {
        const char *sig;     /* NULL: omitted */
        bool all;
        const char *want;    /* the signal word passed on; NULL: none */
} kills[] = {
        { "15", false, "37" }, { "SIGTERM", false, "37" }, { "TERM", false, "37" }, { NULL, false, "37" },
        { "9", false, "9" },   { "KILL", false, "KILL" },  { "15", true, "15" },    { "37", false, "37" },
        { "SIGINT", false, "SIGINT" },
};

START_TEST(test_kill)
{
        /* _i over kills, twice: a systemd container, then a plain one */
        size_t k = (size_t)_i % ELEMENTSOF(kills);
        bool systemd = (size_t)_i < ELEMENTSOF(kills);
        _cleanup_free_ char *b = bundle(systemd ? "[\"/sbin/init\"]" : "[\"/bin/sh\"]", ""),
                            *real = fake_runtime(b);
        _cleanup_free_ char **out = NULL;
        const char *argv[8] = { "x", "--root", "/r", "kill" };
        struct runtime_args a;
        hook_error_t err = {};
        int argc = 4, r, want_argc;

        if (kills[k].all)
                argv[argc++] = "--all";
        argv[argc++] = "c1";
        if (kills[k].sig)
                argv[argc++] = kills[k].sig;
        out = prepare(real, argc, argv, &a, &err, &r);
        ck_assert_ok(r, &err);
        if (!systemd || !runtime_signal_is_term(kills[k].sig ? kills[k].sig : "TERM") || kills[k].all) {
                want_argc = argc;
                ck_assert_pstr_eq(out[argc - 1], kills[k].sig ? kills[k].sig : "c1");
        } else {
                want_argc = kills[k].sig ? argc : argc + 1;
                ck_assert_str_eq(out[want_argc - 1], kills[k].want);
        }
        ck_assert_ptr_null(out[want_argc]);
}
END_TEST

START_TEST(test_kill_unknown_container)
{
        /* the state query fails: the signal is left alone */
        _cleanup_free_ char *d = tu_mkdtemp(), *real = make_exe(d, "runc", "#!/bin/sh\nexit 1\n");
        _cleanup_free_ char **out = NULL;
        const char *argv[] = { "x", "kill", "gone", "15" };
        struct runtime_args a;
        hook_error_t err = {};
        int r;

        out = prepare(real, 4, argv, &a, &err, &r);
        ck_assert_ok(r, &err);
        ck_assert_str_eq(out[3], "15");
}
END_TEST

START_TEST(test_log_line)
{
        struct runtime_args a = { .log_json = true };
        _cleanup_free_ char *j = runtime_log_line(&a, "error", "bad \"thing\"\n"), *t = NULL;
        _cleanup_json_ yajl_val v = NULL;
        hook_error_t err = {};
        const char *s = NULL;

        ck_assert_ok(json_parse(j, strlen(j), &v, &err), &err);
        ck_assert_int_eq(json_get_string(v, "level", "level", &s, &err), 1);
        ck_assert_str_eq(s, "error");
        ck_assert_int_eq(json_get_string(v, "msg", "msg", &s, &err), 1);
        ck_assert_str_eq(s, "bad \"thing\"\n");
        ck_assert_int_eq(json_get_string(v, "time", "time", &s, &err), 1);
        ck_assert_int_eq(strlen(s), strlen("2026-12-01T21:21:16.711407726Z"));
        a.log_json = false;
        t = runtime_log_line(&a, "error", "x");
        ck_assert_ptr_nonnull(strstr(t, "level=error msg=\"x\"\n"));
}
END_TEST

static Suite *runtime_suite(void)
{
        Suite *s = suite_create("runtime");

        TU_TCASE(s, "args", 0, TU_LOOP(test_parse, parses), TU_TEST(test_debug_flag),
                 TU_LOOP(test_signal_is_term, sigs));
        TU_TCASE(s, "conf", 0, TU_TEST(test_conf), TU_LOOP(test_conf_bad, bad_confs), TU_TEST(test_resolve));
        TU_TCASE(s, "prepare", 0, TU_LOOP(test_create_injects, kinds), TU_TEST(test_create_errors),
                 TU_LOOP_N(test_kill, 2 * ELEMENTSOF(kills)), TU_TEST(test_kill_unknown_container),
                 TU_TEST(test_log_line));
        return s;
}

int main(void)
{
        return tu_run(runtime_suite());
}
