/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci-systemd-hook: prepare an OCI container so that systemd boots as its
 * PID 1.  main() is the only place that prints or exits. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "cgroup.h"
#include "fsutil.h"
#include "hostlimits.h"
#include "inject.h"
#include "job.h"
#include "log.h"
#include "mounts.h"
#include "mountinfo.h"
#include "nsenter.h"
#include "plan.h"
#include "predict.h"
#include "runtime.h"
#include "spec.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

static size_t config_max = CONFIG_MAX_BYTES;
/* Where oci-systemd-hook.link-journal=true puts a container's journal. */
static const char *journal_root = "/var/log/journal";
/* How long to wait for the end of stdin once the state is complete. */
#define STATE_SETTLE_MS 100

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: oci-systemd-hook [--debug] [STAGE] < STATE\n"
                "       oci-systemd-hook explain BUNDLE\n"
                "       oci-systemd-hook inject [--stage STAGE] [--path HOOK] FILE\n"
                "       oci-systemd-hook configure [--config FILE] [--dry-run] ENGINE\n"
                "       oci-systemd-runtime [RUNC-OPTIONS] COMMAND ...   (a runc wrapper)\n"
                "\n"
                "An OCI runtime hook (createRuntime or prestart) that prepares a container\n"
                "for systemd as PID 1: tmpfs on /run, /run/lock, /tmp and /var/log/journal,\n"
                "a writable cgroup of the container's own and a unique /etc/machine-id.\n"
                "\n"
                "  STAGE            prestart, createRuntime or poststop; without it the\n"
                "                   stage follows from the state's status\n"
                "  explain BUNDLE   print whether BUNDLE runs systemd, why, and the plan\n"
                "  inject FILE      add the hook to a config.json or containerd base spec\n"
                "  configure ENGINE wire the hook into docker (daemon.json runtimes), containerd\n"
                "                   (a runtime handler), crio (a hooks_dir drop-in) or podman\n"
                "                   (check); --config FILE, --dry-run (print the diff),\n"
                "                   --runtime-path, --hook-path, --base-spec, --handler NAME\n"
                "  --stage STAGE    (inject) createRuntime (default) or prestart\n"
                "  --path HOOK      (inject) the hook binary (default: this program's path)\n"
                "  --max-config-size BYTES  refuse a larger config.json (default 16 MiB)\n"
                "  --journal-root DIR  host directory for oci-systemd-hook.link-journal=true\n"
                "                   (default /var/log/journal)\n"
                "  --debug          log decisions to stderr\n"
                "  -h, --help       show this help\n"
                "  -V, --version    show the version\n"
                "\n"
                "Annotations: oci-systemd-hook=enabled|disabled,\n"
                "             oci-systemd-hook.cgroup=auto|unified|v1|none\n"
                "Environment (of the container): oci-systemd-hook=disabled, container_uuid\n"
                "Exit status: 0 done or nothing to do, 1 error, 2 usage error.\n");
}

static bool is_host_root(const struct stat *st)
{
        struct stat root;
        return stat("/", &root) == 0 && root.st_dev == st->st_dev && root.st_ino == st->st_ino;
}

static int open_config(const char *bundle, int *ret_fd, hook_error_t *err)
{
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -EBADF;
        struct stat st;

        if (dfd < 0)
                return hook_error_set(err, errno, "bundle `%.200s`: %s", bundle, strerror(errno));
        /* crun gave createRuntime hooks of containers with a user
         * namespace and device nodes "/" (crun issue 2025, fixed by its PR
         * 2038, again by 2261): never read the host's /config.json */
        if (fstat(dfd, &st) == 0 && is_host_root(&st))
                return hook_error_set(err, EINVAL, "the state names `/` as the bundle: a runtime bug (crun before "
                                      "its fix for issue 2025 does so with a user namespace and device nodes); "
                                      "update the runtime");
        fd = openat(dfd, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return hook_error_set(err, errno, "`%.200s/config.json`: %s", bundle,
                                      errno == ELOOP ? "is a symlink, refusing" : strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return hook_error_set(err, EINVAL, "`%.200s/config.json` is not a regular file", bundle);
        if ((size_t)st.st_size > config_max)
                return hook_error_set(err, EFBIG, "`%.200s/config.json` is larger than %zu bytes", bundle, config_max);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int load_config(const char *bundle, struct oci_config *c, hook_error_t *err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        memset(c, 0, sizeof(*c));
        if ((r = open_config(bundle, &fd, err)) < 0)
                return r;
        if ((r = read_fd_capped(fd, config_max, &buf, &len, err)) < 0)
                return hook_error_prefix(err, "config.json");
        return spec_parse_config(buf, len, c, err);
}

/* What libselinux's is_selinux_enabled() and security_check_context()
 * do, without linking it (the hook links statically; see configure.ac):
 * selinuxfs mounted means enabled, and the kernel validates a context
 * written to its "context" node. */
static bool selinux_enabled(void)
{
#ifdef HAVE_SELINUX
        struct statfs sfs;

        return statfs("/sys/fs/selinux", &sfs) == 0 && sfs.f_type == SELINUX_MAGIC;
#else
        return false;
#endif
}

static bool selinux_context_valid(const char *label)
{
#ifdef HAVE_SELINUX
        _cleanup_close_ int fd = open("/sys/fs/selinux/context", O_RDWR | O_CLOEXEC);

        return fd >= 0 && write(fd, label, strlen(label) + 1) >= 0;
#else
        (void)label;
        return false;
#endif
}

static bool selinux_on(const struct oci_config *c, hook_error_t *err, int *r)
{
        *r = 0;
        if (!c->mount_label || !c->mount_label[0])
                return false;
        if (!selinux_enabled())
                return false;
        if (!selinux_context_valid(c->mount_label)) {
                *r = hook_error_set(err, EINVAL, "`linux.mountLabel` `%.200s` is not a valid SELinux context",
                                    c->mount_label);
                return false;
        }
        return true;
}

/* Opens the rootfs on the host (detection reads it; the executor checks
 * it finds the same directory inside the container's namespace). */
static int open_rootfs_host(const char *path, struct stat *st)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0 && fstat(fd, st) < 0) {
                (void)close(fd);
                return -errno;
        }
        return fd;
}

static int build(const char *id, const struct oci_state *s, struct oci_config *c,
                 struct plan *p, int rootfd, hook_error_t *err)
{
        struct plan_input in = {
                .config = c, .id = id, .rootfd = rootfd,
                .state_annotations = s ? s->annotations : NULL,
                .n_state_annotations = s ? s->n_annotations : 0,
                .host_cgroup = cg_detect_host_mode(),
        };
        int r;

        in.selinux_enabled = selinux_on(c, err, &r);
        if (r < 0)
                return r;
        return plan_build(&in, p, err);
}

static int cmd_explain(const char *bundle)
{
        struct oci_config c = {};
        struct plan p;
        hook_error_t err = {};
        _cleanup_free_ char *abs = NULL, *rootfs = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        struct stat st;
        int r;

        abs = realpath(bundle, NULL);
        if (!abs) {
                log_error("bundle `%s`: %s", bundle, strerror(errno));
                return EXIT_ERROR;
        }
        r = load_config(abs, &c, &err);
        if (r >= 0) {
                rootfs = spec_rootfs_real_path(&c, abs);
                rootfd = open_rootfs_host(rootfs, &st);
                r = build(NULL, NULL, &c, &p, rootfd, &err);
        }
        if (r < 0) {
                log_error("%s", err.msg);
                spec_config_done(&c);
                return EXIT_ERROR;
        }
        printf("bundle: %s\nrootfs: %s%s\nhost cgroups: %s\n", abs, rootfs, rootfd < 0 ? " (not readable)" : "",
               cg_host_mode_name(cg_detect_host_mode()));
        plan_dump(&p, stdout);
        if (plan_has_work(&p)) {
                struct prediction pr;

                predict_build(&c, &p, rootfd, &pr);
                predict_dump(&pr, stdout);
        }
        hl_inotify_explain(stdout);
        spec_config_done(&c);
        return EXIT_OK;
}

struct inotify_job {
        struct job job;
        bool low;
        char msg[512];
};

static int inotify_job_run(struct job *j)
{
        struct inotify_job *ij = (struct inotify_job *)j;

        ij->low = hl_inotify_warning(ij->msg, sizeof(ij->msg));
        return 0;
}

static int apply(const struct oci_state *s, const struct plan *p, const char *rootfs, int host_rootfd,
                 const struct stat *rst, struct premade_job *pm, hook_error_t *err)
{
        struct apply_ctx ctx;
        struct ns_target ns;
        size_t i;
        int r;

        if (s->pid <= 0)
                return hook_error_set(err, ESRCH, "the state has no container pid");
        apply_ctx_init(&ctx, p);
        ns_target_init(&ns);
        ctx.pid = s->pid;
        ctx.journal_root = journal_root;
        ctx.rootfs_path = rootfs;
        ctx.rootfs_dev = rst->st_dev;
        ctx.rootfs_ino = rst->st_ino;
        ctx.premade = pm;
        /* /run's copy, detached, meanwhile (mounts.h) */
        mounts_start_fill(&ctx, host_rootfd);
        /* Pin the process, then prove it is the container's init before
         * anything is touched (mounts.h has the order of the phases). */
        r = ns_open_target(s->pid, &ns, err);
        if (r >= 0)
                r = ns_check_init(&ns, rootfs, rst->st_dev, rst->st_ino, p->spec_proc, &ctx.running, err);
        if (r == -EPERM && s->status && streq(s->status, "stopped")) {
                /* runc restore runs the create hooks with criu's restored
                 * task, whose mounts criu puts back itself: nothing to
                 * prepare, and nothing is touched */
                log_debug("restore (status stopped): %s; leaving it alone", err->msg);
                ns_target_done(&ns);
                apply_ctx_done(&ctx);
                return 0;
        }
        if (r < 0 || ctx.running)
                mounts_cancel_fill(&ctx);
        if (r >= 0 && !ctx.running) {
                job_settle();   /* the worker's own fs context, for setns() */
                r = ns_join(&ns, err);
                if (r >= 0)
                        r = mounts_open_rootfs(&ctx, err);
                if (r < 0 || ctx.done)
                        mounts_cancel_fill(&ctx);
                /* the worker, after /run's fill: the machine-id's
                 * staging, while the host side is done */
                if (r >= 0)
                        r = mounts_check(&ctx, err);
                if (r >= 0)
                        mounts_start_stage(&ctx);
                if (r >= 0)
                        r = ns_leave(&ns, err);
        }
        job_stop();     /* the last jobs */
        if (r >= 0 && !ctx.done)
                r = mounts_prepare_host(&ctx, err);
        if (r >= 0 && !ctx.done && !ctx.running && (r = ns_join(&ns, err)) >= 0)
                r = mounts_apply(&ctx, err);
        else if (r >= 0)
                ctx.committed = true;
        for (i = 0; i < ctx.n_warnings; i++)
                log_warning("%s", ctx.warnings[i]);
        ns_target_done(&ns);
        apply_ctx_done(&ctx);
        return r;
}

static int run(const struct oci_state *s, enum hook_stage argv_stage, hook_error_t *err)
{
        struct inotify_job ij = {};
        struct premade_job pm = {};
        struct oci_config c = {};
        struct plan p;
        _cleanup_free_ char *rootfs = NULL;
        _cleanup_close_ int rootfd = -EBADF;
        struct stat rst = {};
        size_t i;
        int r;

        r = load_config(s->bundle, &c, err);
        if (r < 0)
                return r;
        /* Fast path: by name alone, "no" is final (the rootfs can only turn
         * a yes into a no), so skip the rootfs and cgroup probing. */
        detect_systemd(&c, s->annotations, s->n_annotations, -1, &p.detect);
        if (!p.detect.systemd) {
                if (p.detect.warning[0])
                        log_warning("%s", p.detect.warning);
                log_debug("not systemd: %s", p.detect.reason);
                spec_config_done(&c);
                return 0;
        }
        /* systemd by name: the worker (job.h) walks the node's cgroups for
         * the inotify warning while the plan is made */
        job_start(&ij.job, inotify_job_run);
        rootfs = spec_rootfs_real_path(&c, s->bundle);
        rootfd = open_rootfs_host(rootfs, &rst);
        r = build(s->id, s, &c, &p, rootfd, err);
        if (r >= 0) {
                log_debug("%s: %s", p.detect.systemd ? "systemd" : "not systemd", p.detect.reason);
                for (i = 0; i < p.n_warnings; i++)
                        log_warning("%s", p.warnings[i]);
        }
        if (r >= 0 && plan_has_work(&p)) {
                struct prediction pr;

                /* the worker makes the plan's tmpfs meanwhile */
                if (!p.refuse[0] && rootfd >= 0)
                        mounts_premake(&pm, &p);

                /* the config's predictions only: reading the image's
                 * units is explain's, not worth the start time */
                predict_build(&c, &p, -1, &pr);
                for (i = 0; i < pr.n; i++)
                        log_warning("predicted failure: %s", pr.lines[i]);
                if (p.refuse[0])
                        r = hook_error_set(err, EPERM, "%s", p.refuse);
                else if (rootfd < 0)
                        r = hook_error_set(err, -rootfd, "rootfs `%.200s`: %s", rootfs, strerror(-rootfd));
                else
                        r = apply(s, &p, rootfs, rootfd, &rst, &pm, err);
                (void)job_wait(&ij.job, NULL);
                if (ij.low)
                        log_warning("%s", ij.msg);
                if (r >= 0)
                        log_debug("prepared for systemd at %s", spec_stage_name(argv_stage));
        }
        (void)job_wait(&ij.job, NULL);
        mounts_premade_done(&pm);
        job_stop();
        spec_config_done(&c);
        return r;
}

static int cmd_hook(int argc, char **argv)
{
        struct oci_state s = {};
        hook_error_t err = {};
        _cleanup_free_ char *buf = NULL;
        enum hook_stage stage, argv_stage;
        size_t len;
        int r;

        log_set_kmsg(true);
        r = read_json_document(STDIN_FILENO, STATE_MAX_BYTES, STATE_SETTLE_MS, &buf, &len, &err);
        if (r < 0) {
                log_error("state on stdin: %s", err.msg);
                return EXIT_ERROR;
        }
        r = spec_parse_state(buf, len, &s, &err);
        log_set_id(s.id);
        if (r < 0) {
                log_error("%s", err.msg);
                spec_state_done(&s);
                return EXIT_ERROR;
        }
        argv_stage = spec_stage(argc, argv, NULL);
        stage = spec_stage(argc, argv, s.status);
        if (stage == STAGE_UNKNOWN) {
                log_error("cannot tell the hook stage: no stage argument and state status `%.32s`", s.status);
                spec_state_done(&s);
                return EXIT_ERROR;
        }
        /* runc restore re-runs the create hooks with status "stopped" and
         * the restored pid: tell it from poststop by a live pid. */
        if (stage == STAGE_POSTSTOP && argv_stage == STAGE_UNKNOWN && ns_pid_alive(s.pid))
                stage = STAGE_CREATE_RUNTIME;
        if (stage == STAGE_POSTSTOP || stage == STAGE_IGNORED) {
                /* Nothing to undo: everything lived in the container's
                 * mount namespace and went away with it. */
                spec_state_done(&s);
                return EXIT_OK;
        }
        r = run(&s, stage, &err);
        if (r < 0)
                log_error("%s", err.msg);
        spec_state_done(&s);
        return r < 0 ? EXIT_ERROR : EXIT_OK;
}

/* oci-systemd-runtime: errors before the real runtime runs go to stderr
 * and to runc's --log file in its format, which is where Docker and
 * containerd look for the reason a create failed. */
static int cmd_runtime(int argc, char **argv)
{
        struct runtime_args a = {};
        hook_error_t err = {};
        _cleanup_free_ char *path = NULL, *line = NULL, *msg = NULL;
        _cleanup_free_ char **args = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = runtime_prepare(argc, argv, &a, &path, &args, &err);
        if (a.debug && a.note[0])
                fprintf(stderr, RUNTIME_NAME ": %.64s: debug: %s\n", a.id ? a.id : "", a.note);
        if (r >= 0) {
                execv(path, args);
                (void)hook_error_set(&err, errno, "exec `%s`: %s", path, strerror(errno));
        }
        if (asprintf(&msg, RUNTIME_NAME ": %s%.64s%s%s", a.id ? "container `" : "", a.id ? a.id : "",
                     a.id ? "`: " : "", err.msg) < 0)
                return EXIT_ERROR;
        fprintf(stderr, "%s\n", msg);
        if (a.log && (line = runtime_log_line(&a, "error", msg)) &&
            (fd = open(a.log, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0644)) >= 0)
                (void)write_all(fd, line, strlen(line));
        return EXIT_ERROR;
}

/* configure reads containerd's TOML with a C++ library: it lives in a
 * program of its own, so that the hook, run at every container start,
 * stays small, C and static.  It sits next to the hook in the build tree,
 * in $(bindir) once installed. */
static int cmd_configure(int argc, char **argv)
{
        _cleanup_free_ char *self = self_path(), *sibling = NULL, *hook_opt = NULL;
        const char *dir_end = self ? strrchr(self, '/') : NULL;
        _cleanup_free_ char **args = xcalloc((size_t)argc + 2, sizeof(*args));
        int i;

        /* the hook to wire in is this one (a later --hook-path wins) */
        if (!self || asprintf(&hook_opt, "--hook-path=%s", self) < 0) {
                log_error("configure: cannot tell the hook's own path");
                return EXIT_ERROR;
        }
        args[0] = (char *)CONFIGURE_NAME;
        args[1] = hook_opt;
        for (i = 1; i < argc; i++)
                args[i + 1] = argv[i];
        if (dir_end && asprintf(&sibling, "%.*s/" CONFIGURE_NAME, (int)(dir_end - self), self) >= 0 &&
            access(sibling, X_OK) == 0)
                execv(sibling, args);
        execv(BINDIR "/" CONFIGURE_NAME, args);
        log_error("configure: cannot run `%s`: %s (is it installed?)", BINDIR "/" CONFIGURE_NAME, strerror(errno));
        return EXIT_ERROR;
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "debug", no_argument, NULL, 'd' },
                { "stage", required_argument, NULL, 's' },
                { "path", required_argument, NULL, 'p' },
                { "max-config-size", required_argument, NULL, 'm' },
                { "journal-root", required_argument, NULL, 'j' },
                {},
        };
        const char *inject_stage = "createRuntime", *inject_path = NULL;
        char *end;
        int c;

        if (argc > 0 && streq(base_name(argv[0]), RUNTIME_NAME))
                return cmd_runtime(argc, argv);
        if (argc > 1 && streq(argv[1], "configure"))
                return cmd_configure(argc - 1, argv + 1);
        if (getenv("OSH_FORCE_WALK"))
                fs_force_walk = true;
        if (getenv("OSH_FORCE_MOUNTINFO"))
                mountlist_off = true;
        while ((c = getopt_long(argc, argv, "hVd", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        usage(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("oci-systemd-hook %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                case 'd':
                        log_set_debug(true);
                        break;
                case 's':
                        inject_stage = optarg;
                        break;
                case 'p':
                        inject_path = optarg;
                        break;
                case 'j':
                        if (optarg[0] != '/') {
                                log_error("--journal-root: `%s` is not an absolute path", optarg);
                                return EXIT_USAGE;
                        }
                        journal_root = optarg;
                        break;
                case 'm':
                        errno = 0;
                        config_max = strtoul(optarg, &end, 10);
                        if (errno || *end || config_max == 0) {
                                log_error("--max-config-size: `%s` is not a positive number", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind < argc && streq(argv[optind], "explain")) {
                if (argc - optind != 2) {
                        usage(stderr);
                        return EXIT_USAGE;
                }
                return cmd_explain(argv[optind + 1]);
        }
        if (optind < argc && streq(argv[optind], "inject")) {
                if (argc - optind != 2) {
                        usage(stderr);
                        return EXIT_USAGE;
                }
                return inject_main(argv[optind + 1], inject_stage, inject_path) < 0 ? EXIT_ERROR : EXIT_OK;
        }
        for (c = optind; c < argc; c++)
                if (spec_stage_from_name(argv[c]) == STAGE_UNKNOWN) {
                        log_error("unknown argument `%.64s` (expected a stage: prestart, createRuntime, poststop)",
                                  argv[c]);
                        return EXIT_USAGE;
                }
        /* getopt skipped argv[0]; stage lookup wants it at index 0. */
        return cmd_hook(argc - optind + 1, argv + optind - 1);
}
