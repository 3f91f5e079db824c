/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_RUNTIME_H
#define OSH_RUNTIME_H

#include "util.h"

/* oci-systemd-runtime: a drop-in OCI runtime (Docker `runtimes`,
 * containerd's runc `BinaryName`) that adds the hook to the bundle's
 * config.json on create/run/restore and execs the real runtime with the
 * arguments unchanged; `kill ID TERM` of a systemd container becomes
 * SIGRTMIN+3, which systemd as PID 1 takes as "shut down". */

#define RUNTIME_NAME "oci-systemd-runtime"
#define CONFIGURE_NAME "oci-systemd-configure"
#define RUNTIME_ENV "OCI_SYSTEMD_RUNTIME"            /* the real runtime */
#define RUNTIME_ENV_CONFIG "OCI_SYSTEMD_RUNTIME_CONFIG"   /* another runtime.conf */
#define RUNTIME_DEFAULT "runc"
#define RUNTIME_SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SIGNAL_SYSTEMD_HALT 37                         /* SIGRTMIN+3 for systemd */

enum runtime_cmd {
        RT_CMD_NONE,        /* no subcommand: --version, --help */
        RT_CMD_CREATE,      /* create, run, restore: the hook goes in */
        RT_CMD_KILL,
        RT_CMD_OTHER,       /* passes straight through */
};

/* What the wrapper needs from runc's command line; pointers into argv. */
struct runtime_args {
        const char *log;            /* --log FILE (runc's log, Docker reads it) */
        bool log_json;              /* --log-format json */
        bool debug;
        int cmd_index;              /* argv index of the subcommand, 0 if none */
        enum runtime_cmd cmd;
        const char *bundle;         /* create/run/restore: --bundle, NULL = cwd */
        const char *id;             /* the container id, NULL if not given */
        int signal_index;           /* kill: argv index of SIGNAL, 0 if omitted */
        bool kill_all;              /* kill --all */
        char note[512];             /* what the wrapper decided (--debug) */
};

/* Pure: parse runc's global options (`--opt VALUE`, `--opt=VALUE`, one or
 * two dashes; unknown ones pass through as flags), the subcommand and what
 * create/run/restore/kill carry.  Never fails: whatever it does not
 * understand is left to the real runtime to refuse. */
void runtime_parse_args(int argc, char *const argv[], struct runtime_args *ret);

/* Pure: is SIG (runc's syntax: a number, or a name with or without SIG,
 * any case) SIGTERM? */
bool runtime_signal_is_term(const char *sig);

/* Pure: should this kill become SIGRTMIN+3 if the container runs systemd?
 * A kill of one process (not --all) with SIGTERM, explicit or runc's
 * default. */
bool runtime_kill_wants_translation(const struct runtime_args *a);

/* The configuration: runtime.conf (`runtime = PATH`, `hook = PATH`, `#`
 * comments), overridden by $OCI_SYSTEMD_RUNTIME.  Strings are owned. */
struct runtime_conf {
        char *runtime;
        char *hook;
};
int runtime_conf_parse(const char *buf, const char *file, struct runtime_conf *c, hook_error_t *err);
int runtime_conf_load(struct runtime_conf *c, hook_error_t *err);
void runtime_conf_done(struct runtime_conf *c);

/* The real runtime: NAME if absolute, else the first executable NAME in
 * PATH's absolute entries (relative entries are skipped: a wrapper that
 * runs as root from a daemon must not run ./runc), never this program
 * itself (compared by device and inode, so no symlink or hard link can
 * make it exec itself in a loop). */
int runtime_resolve(const char *name, const char *path_env, char **ret, hook_error_t *err);

/* The whole preparation: parse, configure, resolve, inject or translate.
 * Fills *ret_path and *ret_argv (argv with the same arguments, a signal
 * perhaps replaced) for execv().  ret_args always filled (for logging). */
int runtime_prepare(int argc, char **argv, struct runtime_args *ret_args, char **ret_path,
                    char ***ret_argv, hook_error_t *err);

/* runc's log line: {"level":"error","msg":MSG,"time":RFC3339} or logrus
 * text, newline-terminated; owned. */
char *runtime_log_line(const struct runtime_args *a, const char *level, const char *msg);

#endif
