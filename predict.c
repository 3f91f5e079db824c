/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What will fail at boot, from the config and the image's units.  Each
 * rule names the systemd code it follows; where systemd works around a
 * denial (it checks, logs at debug level and goes on) nothing is said.
 * Checked against systemd 252 (Debian 12) under runc: tests/e2e
 * test-interface.sh predict_case. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "predict.h"

/* ---------------------------------------------------------------- seccomp */

enum sc_kind { SC_ALLOW, SC_ERRNO, SC_KILL, SC_TRAP, SC_MAYBE };

struct sc_verdict {
        enum sc_kind kind;
        int err;                /* SC_ERRNO */
};

static struct sc_verdict sc_action(yajl_val action, yajl_val rule, const char *errno_key, int def_errno)
{
        const char *a = action && action->type == yajl_t_string ? action->u.string : "";
        long long e = def_errno;
        hook_error_t err;

        /* runc and crun: SCMP_ACT_ERRNO without errnoRet is EPERM */
        (void)json_get_int(rule, errno_key, errno_key, &e, &err);
        if (streq(a, "SCMP_ACT_ALLOW") || streq(a, "SCMP_ACT_LOG"))
                return (struct sc_verdict){ SC_ALLOW, 0 };
        if (streq(a, "SCMP_ACT_ERRNO"))
                return (struct sc_verdict){ SC_ERRNO, (int)e };
        /* seccomp(2): SECCOMP_RET_TRACE without a tracer fails with ENOSYS */
        if (streq(a, "SCMP_ACT_TRACE"))
                return (struct sc_verdict){ SC_ERRNO, ENOSYS };
        if (streq(a, "SCMP_ACT_TRAP"))
                return (struct sc_verdict){ SC_TRAP, 0 };
        if (strncmp(a, "SCMP_ACT_KILL", strlen("SCMP_ACT_KILL")) == 0)
                return (struct sc_verdict){ SC_KILL, 0 };
        return (struct sc_verdict){ SC_MAYBE, 0 };      /* SCMP_ACT_NOTIFY: an agent decides */
}

static bool rule_names(yajl_val rule, const char *name)
{
        yajl_val names = json_obj_get(rule, "names"), one = json_obj_get(rule, "name");
        size_t i;

        /* "name": the pre-1.0 spelling some profiles still carry */
        if (one && one->type == yajl_t_string && streq(one->u.string, name))
                return true;
        if (!names || names->type != yajl_t_array)
                return false;
        for (i = 0; i < names->u.array.len; i++) {
                const char *s = names->u.array.values[i]->type == yajl_t_string ? names->u.array.values[i]->u.string : "";
                /* the first byte first: this loop is most of the hook's cost */
                if (s[0] == name[0] && streq(s, name))
                        return true;
        }
        return false;
}

static bool rule_has_args(yajl_val rule)
{
        yajl_val args = json_obj_get(rule, "args");
        return args && args->type == yajl_t_array && args->u.array.len > 0;
}

static bool sc_same(struct sc_verdict a, struct sc_verdict b)
{
        return a.kind == b.kind && (a.kind != SC_ERRNO || a.err == b.err);
}

/* What linux.seccomp does to NAME: the first rule without argument
 * conditions, else defaultAction; SC_MAYBE when a conditional rule would
 * do otherwise (the arguments decide).  One pass over the rules: Docker's
 * profile names some 350 syscalls, and the hook runs this at each start. */
static struct sc_verdict sc_eval(const struct oci_config *c, const char *name)
{
        yajl_val sc = json_obj_get(json_obj_get(c->tree, "linux"), "seccomp"), rules, r;
        struct sc_verdict v, cond[8];
        size_t i, n_cond = 0;
        bool uncond = false, many = false;

        if (!sc || sc->type != yajl_t_object)
                return (struct sc_verdict){ SC_ALLOW, 0 };
        v = sc_action(json_obj_get(sc, "defaultAction"), sc, "defaultErrnoRet", EPERM);
        rules = json_obj_get(sc, "syscalls");
        for (i = 0; rules && rules->type == yajl_t_array && i < rules->u.array.len; i++) {
                r = rules->u.array.values[i];
                if (r->type != yajl_t_object || !rule_names(r, name))
                        continue;
                struct sc_verdict rv = sc_action(json_obj_get(r, "action"), r, "errnoRet", EPERM);
                if (rule_has_args(r)) {
                        if (n_cond < ELEMENTSOF(cond))
                                cond[n_cond++] = rv;
                        else
                                many = true;
                } else if (!uncond) {
                        v = rv;
                        uncond = true;
                }
        }
        for (i = 0; i < n_cond; i++)
                if (!sc_same(cond[i], v))
                        return (struct sc_verdict){ SC_MAYBE, 0 };
        return many ? (struct sc_verdict){ SC_MAYBE, 0 } : v;
}

static bool sc_denies(struct sc_verdict v)
{
        return v.kind == SC_ERRNO || v.kind == SC_KILL || v.kind == SC_TRAP || v.kind == SC_MAYBE;
}

/* "denies mount (errno 1: Operation not permitted)" */
static const char *sc_text(const char *name, struct sc_verdict v, char buf[128])
{
        switch (v.kind) {
        case SC_ERRNO:
                (void)snprintf(buf, 128, "denies %s (errno %d: %s)", name, v.err, strerror(v.err));
                break;
        case SC_KILL:
                (void)snprintf(buf, 128, "kills the caller of %s", name);
                break;
        case SC_TRAP:
                (void)snprintf(buf, 128, "traps %s (SIGSYS)", name);
                break;
        default:
                (void)snprintf(buf, 128, "may deny %s (rules with argument conditions or SCMP_ACT_NOTIFY)", name);
                break;
        }
        return buf;
}

/* ----------------------------------------------------- writable paths */

enum wr_kind { WR_RW, WR_RO, WR_MASKED };

struct wr_entry {
        char path[256];
        enum wr_kind kind;
        const char *origin;
};

/* What is writable in the container when systemd starts: the rootfs, the
 * spec's mounts, the hook's tmpfs mounts, then linux.readonlyPaths and
 * maskedPaths (runc applies them last).  The longest prefix decides. */
struct wr_model {
        struct wr_entry e[96];
        size_t n;
};

static void wr_add(struct wr_model *m, const char *path, enum wr_kind kind, const char *origin)
{
        _cleanup_free_ char *clean = path ? path_clean(path) : NULL;

        if (!clean || clean[0] != '/' || strlen(clean) >= sizeof(m->e[0].path) || m->n >= ELEMENTSOF(m->e))
                return;
        strcpy(m->e[m->n].path, clean);
        m->e[m->n].kind = kind;
        m->e[m->n].origin = origin;
        m->n++;
}

static void wr_add_list(struct wr_model *m, yajl_val list, enum wr_kind kind, const char *origin)
{
        size_t i;

        if (!list || list->type != yajl_t_array)
                return;
        for (i = 0; i < list->u.array.len; i++)
                if (list->u.array.values[i]->type == yajl_t_string)
                        wr_add(m, list->u.array.values[i]->u.string, kind, origin);
}

static void wr_build(const struct oci_config *c, const struct plan *p, struct wr_model *m)
{
        yajl_val mounts = json_obj_get(c->tree, "mounts"), lnx = json_obj_get(c->tree, "linux");
        size_t i;

        m->n = 0;
        wr_add(m, "/", c->root_readonly ? WR_RO : WR_RW, "root.readonly");
        for (i = 0; mounts && mounts->type == yajl_t_array && i < mounts->u.array.len; i++) {
                yajl_val mt = mounts->u.array.values[i], dest = json_obj_get(mt, "destination");
                yajl_val opts = json_obj_get(mt, "options");
                bool is_ro = false;
                size_t j;

                for (j = 0; opts && opts->type == yajl_t_array && j < opts->u.array.len; j++)
                        if (opts->u.array.values[j]->type == yajl_t_string && streq(opts->u.array.values[j]->u.string, "ro"))
                                is_ro = true;
                if (dest && dest->type == yajl_t_string)
                        wr_add(m, dest->u.string, is_ro ? WR_RO : WR_RW, is_ro ? "a read-only mount" : "a mount");
        }
        for (i = 0; i < p->n_tmpfs; i++)
                if (!p->tmpfs[i].skip)
                        wr_add(m, p->tmpfs[i].destination, WR_RW, "the hook's tmpfs");
        wr_add_list(m, json_obj_get(lnx, "readonlyPaths"), WR_RO, "linux.readonlyPaths");
        wr_add_list(m, json_obj_get(lnx, "maskedPaths"), WR_MASKED, "linux.maskedPaths");
}

static bool path_under(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);

        if (streq(prefix, "/"))
                return true;
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const struct wr_entry *wr_lookup(const struct wr_model *m, const char *path)
{
        const struct wr_entry *best = NULL;
        size_t i;

        for (i = 0; i < m->n; i++)
                if (path_under(path, m->e[i].path) && (!best || strlen(m->e[i].path) >= strlen(best->path)))
                        best = &m->e[i];
        return best;
}

/* ------------------------------------------------------------ units */

enum {
        U_NS = 1 << 0,          /* needs a mount namespace */
        U_NS_INSIST = 1 << 1,   /* and refuses to run without one */
        U_CRED = 1 << 2,        /* credentials: staged in a mount namespace */
        U_SKIP = 1 << 3,        /* a condition fails in this container */
        U_READ = 1 << 4,        /* its unit file was read */
};

enum { DIR_STATE, DIR_CACHE, DIR_LOGS, _DIR_MAX };

struct unit {
        char name[128];
        unsigned flags, depth;
        char dirs[_DIR_MAX][160];       /* StateDirectory=, CacheDirectory=, LogsDirectory= */
};

struct unit_walk {
        const struct oci_config *c;
        const struct plan *p;
        const struct wr_model *wr;
        int rootfd;
        struct unit u[PREDICT_MAX_UNITS];
        size_t n, n_read;
        bool capped;
};

/* Where systemd looks for system units; /lib is /usr/lib on merged-/usr
 * images, a separate tree on older ones.  /run/systemd/system is empty
 * before boot. */
static const char *const unit_dirs[] = { "etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system" };

static bool unit_name_ok(const char *s, size_t len)
{
        return len > 0 && len < sizeof(((struct unit *)0)->name) && s[0] != '.' && !memchr(s, '/', len) &&
               memchr(s, '.', len);
}

static void unit_add(struct unit_walk *w, const char *name, size_t len, unsigned depth)
{
        size_t i;

        if (!unit_name_ok(name, len))
                return;
        for (i = 0; i < w->n; i++)
                if (strlen(w->u[i].name) == len && memcmp(w->u[i].name, name, len) == 0)
                        return;
        if (w->n >= PREDICT_MAX_UNITS || depth > PREDICT_MAX_DEPTH) {
                w->capped = true;
                return;
        }
        memset(&w->u[w->n], 0, sizeof(w->u[0]));
        memcpy(w->u[w->n].name, name, len);
        w->u[w->n].depth = depth;
        w->n++;
}

/* Each whitespace-separated word of V. */
static void unit_add_words(struct unit_walk *w, const char *v, unsigned depth)
{
        while (*v) {
                size_t n = strcspn(v, " \t");
                unit_add(w, v, n, depth);
                v += n;
                v += strspn(v, " \t");
        }
}

static bool truthy(const char *v)
{
        return streq(v, "yes") || streq(v, "true") || streq(v, "on") || streq(v, "1");
}

static bool falsy(const char *v)
{
        return !v[0] || streq(v, "no") || streq(v, "false") || streq(v, "off") || streq(v, "0");
}

/* ConditionCapability= looks at the manager's bounding set. */
static bool cap_bounding(const struct oci_config *c, const char *cap)
{
        yajl_val caps = json_obj_get(json_obj_get(c->tree, "process"), "capabilities");

        return !caps || caps->type != yajl_t_object || spec_cap_listed(json_obj_get(caps, "bounding"), cap);
}

/* A non-triggering condition that fails in this container: the unit is
 * skipped (its dependencies are still pulled in).  Unknown: it holds. */
static bool condition_fails(const struct unit_walk *w, const char *key, const char *v)
{
        bool neg = v[0] == '!', holds;
        const char *a = neg ? v + 1 : v;

        if (v[0] == '|')
                return false;
        if (streq(key, "ConditionCapability"))
                holds = cap_bounding(w->c, a);
        else if (streq(key, "ConditionVirtualization") && (streq(a, "container") || truthy(a)))
                holds = true;
        else if (streq(key, "ConditionVirtualization") && (streq(a, "vm") || falsy(a)))
                holds = false;
        else if (streq(key, "ConditionVirtualization") && streq(a, "private-users"))
                holds = w->c->has_userns;
        else if (streq(key, "ConditionPathIsReadWrite") && a[0] == '/')
                holds = wr_lookup(w->wr, a)->kind == WR_RW;
        else if (streq(key, "ConditionFirstBoot") && w->p->mid_method != MID_SKIP)
                holds = !truthy(a);     /* the hook provides /etc/machine-id: not a first boot */
        else
                return false;
        return holds == neg;
}

/* The directives of systemd's exec_needs_mount_namespace() (execute.c);
 * the insisting ones are those apply_mount_namespace() will not drop
 * when the namespace cannot be made (bind mounts, TemporaryFileSystem=,
 * RootDirectory=/RootImage=, DynamicUser=). */
static const char *const ns_bools[] = { "PrivateTmp", "PrivateDevices", "PrivateMounts", "PrivateIPC",
                                        "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                                        "ProtectControlGroups" };
static const char *const ns_values[] = { "ProtectSystem", "ProtectHome", "ReadWritePaths", "ReadOnlyPaths",
                                         "InaccessiblePaths", "ExecPaths", "NoExecPaths", "MountImages",
                                         "ExtensionImages", "ExtensionDirectories", "LogNamespace" };
static const char *const ns_insist[] = { "BindPaths", "BindReadOnlyPaths", "TemporaryFileSystem", "RootDirectory",
                                         "RootImage" };
static const char *const creds[] = { "LoadCredential", "LoadCredentialEncrypted", "SetCredential",
                                     "SetCredentialEncrypted", "ImportCredential" };
static const char *const dir_keys[_DIR_MAX] = { "StateDirectory", "CacheDirectory", "LogsDirectory" };

static bool key_in(const char *key, const char *const *list, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (streq(key, list[i]))
                        return true;
        return false;
}

static void unit_exec_directive(struct unit *u, const char *key, const char *v)
{
        size_t k;

        if (key_in(key, ns_bools, ELEMENTSOF(ns_bools)) && truthy(v))
                u->flags |= U_NS;
        else if (key_in(key, ns_values, ELEMENTSOF(ns_values)) && !falsy(v))
                u->flags |= U_NS;
        else if ((streq(key, "ProtectProc") && !streq(v, "default")) || (streq(key, "ProcSubset") && !streq(v, "all")))
                u->flags |= U_NS;
        else if (key_in(key, ns_insist, ELEMENTSOF(ns_insist)) && v[0])
                u->flags |= U_NS | U_NS_INSIST;
        else if (streq(key, "DynamicUser") && truthy(v))
                u->flags |= U_NS_INSIST;
        else if (key_in(key, creds, ELEMENTSOF(creds)) && v[0])
                u->flags |= U_CRED;
        for (k = 0; k < _DIR_MAX; k++)
                if (streq(key, dir_keys[k]) && v[0] && strlen(u->dirs[k]) + strlen(v) + 2 < sizeof(u->dirs[k]))
                        strcat(strcat(u->dirs[k], u->dirs[k][0] ? " " : ""), v);
}

static void unit_directive(struct unit_walk *w, size_t idx, const char *section, const char *key, const char *v)
{
        struct unit *u = &w->u[idx];

        if (streq(section, "Unit")) {
                if (streq(key, "Wants") || streq(key, "Requires") || streq(key, "BindsTo"))
                        unit_add_words(w, v, u->depth + 1);     /* may move nothing: u stays valid */
                else if (strncmp(key, "Condition", strlen("Condition")) == 0 && condition_fails(w, key, v))
                        u->flags |= U_SKIP;
        } else if (streq(section, "Socket") && streq(key, "Service")) {
                unit_add_words(w, v, u->depth + 1);
        }
        if (!streq(section, "Unit") && !streq(section, "Install"))
                unit_exec_directive(u, key, v);
}

/* Only the directives above; drop-ins (the NAME.d directories) are not read: they
 * rarely add sandboxing to a distribution's units, and reading them would
 * double the files the walk opens. */
static void unit_parse(struct unit_walk *w, size_t idx, char *buf)
{
        char section[32] = "", *line, *save = NULL;

        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = str_trim(line), *eq;

                if (!l[0] || l[0] == '#' || l[0] == ';')
                        continue;
                if (l[0] == '[') {
                        size_t n = strcspn(l + 1, "]");
                        (void)snprintf(section, sizeof(section), "%.*s", (int)n, l + 1);
                        continue;
                }
                eq = strchr(l, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                unit_directive(w, idx, section, str_trim(l), str_trim(eq + 1));
        }
}

/* Opens a regular file REL of the image for reading, never through a
 * symlink that leaves it (fs_open_in_root: RESOLVE_IN_ROOT). */
static int open_image_file(int rootfd, const char *rel, struct stat *st)
{
        _cleanup_close_ int path = fs_open_in_root(rootfd, rel, 0, NULL);
        char proc[64];

        if (path < 0)
                return path;
        if (fstat(path, st) < 0 || !S_ISREG(st->st_mode))
                return -EINVAL;
        (void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path);
        return open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/* The unit file of NAME (or of its template, a@.service for a@b.service). */
static int open_unit(int rootfd, const char *name, struct stat *st)
{
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
        char rel[320];
        size_t d;
        int fd;

        for (d = 0; d < ELEMENTSOF(unit_dirs); d++) {
                (void)snprintf(rel, sizeof(rel), "%s/%s", unit_dirs[d], name);
                if ((fd = open_image_file(rootfd, rel, st)) >= 0)
                        return fd;
                if (at && dot && at < dot && at[1] != '.') {
                        (void)snprintf(rel, sizeof(rel), "%s/%.*s%s", unit_dirs[d], (int)(at + 1 - name), name, dot);
                        if ((fd = open_image_file(rootfd, rel, st)) >= 0)
                                return fd;
                }
        }
        return -ENOENT;
}

/* A mount unit whose mount point the runtime or the hook mounts already
 * (dev-mqueue.mount: runc's /dev/mqueue): systemd finds it active and
 * mounts nothing.  Escaped names (\x2d) are not decoded: not skipped. */
static bool mount_unit_mounted(const struct unit_walk *w, const char *name)
{
        char path[130];
        size_t len = strlen(name), i;

        if (len < 7 || !streq(name + len - 6, ".mount") || strchr(name, '\\'))
                return false;
        (void)snprintf(path, sizeof(path), "/%.*s", (int)(len - 6), name);
        for (i = 1; path[i]; i++)
                if (path[i] == '-')
                        path[i] = '/';
        for (i = 1; i < w->wr->n; i++)
                if (streq(w->wr->e[i].path, path))
                        return true;
        return false;
}

static void unit_read(struct unit_walk *w, size_t idx)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        hook_error_t err;
        struct stat st;
        size_t len;

        fd = open_unit(w->rootfd, w->u[idx].name, &st);
        if (fd < 0)
                return;
        if (st.st_size > PREDICT_MAX_UNIT_BYTES ||
            read_fd_capped(fd, PREDICT_MAX_UNIT_BYTES, &buf, &len, &err) < 0 || memchr(buf, '\0', len)) {
                w->capped = true;
                return;
        }
        w->u[idx].flags |= U_READ;
        w->n_read++;
        unit_parse(w, idx, buf);
        if (mount_unit_mounted(w, w->u[idx].name))
                w->u[idx].flags |= U_SKIP;
}

/* NAME.wants/ and NAME.requires/ in each unit directory: the names of
 * their entries (systemd loads them by name from the search path). */
static void unit_wants_dirs(struct unit_walk *w, size_t idx)
{
        static const char *const kinds[] = { "wants", "requires" };
        size_t d, k, n;

        for (d = 0; d < ELEMENTSOF(unit_dirs); d++)
                for (k = 0; k < ELEMENTSOF(kinds); k++) {
                        _cleanup_close_ int path = -EBADF;
                        char rel[320];
                        DIR *dir;
                        struct dirent *de;
                        int fd;

                        (void)snprintf(rel, sizeof(rel), "%s/%s.%s", unit_dirs[d], w->u[idx].name, kinds[k]);
                        path = fs_open_in_root(w->rootfd, rel, 0, NULL);
                        if (path < 0 || (fd = openat(path, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                                continue;
                        dir = fdopendir(fd);
                        if (!dir) {
                                (void)close(fd);
                                continue;
                        }
                        for (n = 0; (de = readdir(dir)); n++) {
                                if (n >= PREDICT_MAX_DIR_ENTRIES) {
                                        w->capped = true;
                                        break;
                                }
                                unit_add(w, de->d_name, strlen(de->d_name), w->u[idx].depth + 1);
                        }
                        (void)closedir(dir);
                }
}

/* The units a boot starts: from default.target along Wants=, Requires=,
 * BindsTo= and the .wants/.requires directories, a socket's service
 * included (journald, dbus are socket-activated).  Bounded: unit count,
 * depth, file size and directory entries. */
static void unit_walk(struct unit_walk *w)
{
        size_t i;

        unit_add(w, "default.target", strlen("default.target"), 0);
        for (i = 0; i < w->n; i++) {
                size_t len = strlen(w->u[i].name);

                unit_read(w, i);
                unit_wants_dirs(w, i);
                if (len > 7 && streq(w->u[i].name + len - 7, ".socket")) {
                        char svc[128];
                        (void)snprintf(svc, sizeof(svc), "%.*s.service", (int)(len - 7), w->u[i].name);
                        unit_add(w, svc, strlen(svc), w->u[i].depth + 1);
                }
        }
}

/* ------------------------------------------------------- predictions */

static char *pr_add(struct prediction *pr, const char *fmt, ...) _printf_(2, 3);
static char *pr_add(struct prediction *pr, const char *fmt, ...)
{
        va_list ap;
        char *l;

        if (pr->n >= PREDICT_MAX_LINES)
                return NULL;
        l = pr->lines[pr->n++];
        va_start(ap, fmt);
        (void)vsnprintf(l, PREDICT_LINE_MAX, fmt, ap);
        va_end(ap);
        return l;
}

static void line_append(char *l, const char *s)
{
        size_t n = strlen(l), m = strlen(s);

        if (n + m + 6 >= PREDICT_LINE_MAX) {
                if (!strstr(l, ", ..."))
                        strcat(l, ", ...");
                return;
        }
        memcpy(l + n, s, m + 1);
}

/* The names of the units with all of NEED, none of U_SKIP, and their
 * unit file read; the number listed. */
static size_t list_units(const struct unit_walk *w, unsigned need, const char *suffix, char *out)
{
        size_t i, n = 0;

        for (i = 0; w && i < w->n; i++) {
                const struct unit *u = &w->u[i];
                size_t len = strlen(u->name);

                if (!(u->flags & U_READ) || (u->flags & U_SKIP) || (u->flags & need) != need)
                        continue;
                if (suffix && (len < strlen(suffix) || !streq(u->name + len - strlen(suffix), suffix)))
                        continue;
                line_append(out, n ? ", " : ": ");
                line_append(out, u->name);
                n++;
        }
        return n;
}

#define NS_DIRECTIVES "PrivateTmp=, ProtectSystem=, ProtectHome=, PrivateDevices=, ReadOnlyPaths=, ..."
#define CRED_DIRECTIVES "LoadCredential=, SetCredential=, ImportCredential="

/* With the units scanned, a line is kept only when it names one. */
static void pr_units(struct prediction *pr, const struct unit_walk *w, unsigned need, const char *suffix,
                     const char *head)
{
        char *l = pr_add(pr, "%s", head);

        if (l && list_units(w, need, suffix, l) == 0 && w && w->n_read > 0) {
                l[0] = '\0';
                pr->n--;
        }
}

static bool graceful_unshare(struct sc_verdict v)
{
        /* namespace.c setup_namespace(): these make unshare(CLONE_NEWNS)
         * report ENOANO, which apply_mount_namespace() ignores */
        return v.kind == SC_ERRNO && (v.err == EPERM || v.err == EACCES || v.err == EOPNOTSUPP || v.err == ENOSYS);
}

static void predict_namespace(const struct oci_config *c, const struct unit_walk *w, struct prediction *pr)
{
        struct sc_verdict un = sc_eval(c, "unshare"), mnt = sc_eval(c, "mount");
        bool sys_admin = spec_cap_granted(c, "CAP_SYS_ADMIN");
        char t[128], head[PREDICT_LINE_MAX];

        if (un.kind == SC_KILL || un.kind == SC_TRAP || (un.kind == SC_ERRNO && !graceful_unshare(un))) {
                (void)snprintf(head, sizeof(head), "seccomp %s: units with mount-namespace sandboxing ("
                               NS_DIRECTIVES ") fail with 226/NAMESPACE", sc_text("unshare", un, t));
                pr_units(pr, w, U_NS, NULL, head);
                return;
        }
        if ((!sys_admin || graceful_unshare(un)) && w && w->n_read > 0) {
                /* systemd then runs sandboxed units without a namespace,
                 * except those whose environment would differ */
                (void)snprintf(head, sizeof(head), "no mount namespace for units (%s): those with BindPaths=, "
                               "TemporaryFileSystem=, RootDirectory=, RootImage= or DynamicUser= fail with "
                               "226/NAMESPACE", !sys_admin ? "no CAP_SYS_ADMIN" : sc_text("unshare", un, t));
                pr_units(pr, w, U_NS | U_NS_INSIST, NULL, head);
        }
        if (!sc_denies(mnt))
                return;
        /* the namespace is made, then mount() fails: setup_namespace()
         * and the credentials' (sd-mkdcreds) child return an error that
         * is no privilege error (measured: test-interface.sh) */
        if (sys_admin && !graceful_unshare(un)) {
                (void)snprintf(head, sizeof(head), "seccomp %s: units with mount-namespace sandboxing ("
                               NS_DIRECTIVES ") fail with 226/NAMESPACE", sc_text("mount", mnt, t));
                pr_units(pr, w, U_NS, NULL, head);
                (void)snprintf(head, sizeof(head), "seccomp %s: units with credentials (" CRED_DIRECTIVES
                               ", staged in a mount namespace) fail with 243/CREDENTIALS", sc_text("mount", mnt, t));
                pr_units(pr, w, U_CRED, NULL, head);
        }
        /* without CAP_SYS_ADMIN mount(2) fails anyway (and the image's
         * mount units mostly have ConditionCapability=CAP_SYS_ADMIN) */
        if (!sys_admin)
                return;
        (void)snprintf(head, sizeof(head), "seccomp %s: mount units fail (mount(8) gets the denial)",
                       sc_text("mount", mnt, t));
        pr_units(pr, w, 0, ".mount", head);
}

/* glibc >= 2.34 creates threads and posix_spawn()s with clone3 and falls
 * back to clone only on ENOSYS (include/clone_internal.h); systemd >= 255
 * starts every unit with posix_spawn (systemd-executor).  Docker's and
 * podman's profiles answer ENOSYS for that reason. */
static void predict_clone3(const struct oci_config *c, struct prediction *pr)
{
        struct sc_verdict v = sc_eval(c, "clone3");
        char t[128];

        if (v.kind == SC_KILL || v.kind == SC_TRAP || (v.kind == SC_ERRNO && v.err != ENOSYS))
                (void)pr_add(pr, "seccomp %s, not ENOSYS: glibc >= 2.34 falls back to clone only on ENOSYS, so "
                             "threads and posix_spawn fail (systemd >= 255 starts every unit that way)",
                             sc_text("clone3", v, t));
}

/* execute.c setup_keyring(): every service joins a session keyring
 * (KeyringMode=private is the default for system services); ENOSYS,
 * EPERM, EACCES and EDQUOT are ignored, anything else fails the unit. */
static void predict_keyring(const struct oci_config *c, struct prediction *pr)
{
        struct sc_verdict v = sc_eval(c, "keyctl");
        char t[128];

        if (v.kind == SC_KILL || v.kind == SC_TRAP ||
            (v.kind == SC_ERRNO && v.err != ENOSYS && v.err != EPERM && v.err != EACCES && v.err != EDQUOT))
                (void)pr_add(pr, "seccomp %s: every service fails with 237/KEYRING (KeyringMode=private)",
                             sc_text("keyctl", v, t));
}

static const char *const dir_bases[_DIR_MAX] = { "/var/lib", "/var/cache", "/var/log" };
static const char *const dir_exits[_DIR_MAX] = { "238/STATE_DIRECTORY", "239/CACHE_DIRECTORY", "240/LOGS_DIRECTORY" };

/* DIR of unit U cannot be made: read-only, and masked or absent from the
 * image (setup_exec_directory() creates it; an existing one on a read-only
 * mount is not predicted).  Returns the entry that makes it read-only. */
static const struct wr_entry *dir_blocked(const struct unit_walk *w, size_t k, const char *word, size_t len)
{
        char path[320];
        const struct wr_entry *e;
        _cleanup_close_ int fd = -EBADF;
        size_t n = strcspn(word, ":");     /* DIR:SYMLINK (systemd >= 250) */

        (void)snprintf(path, sizeof(path), "%s/%.*s", dir_bases[k], (int)(n < len ? n : len), word);
        e = wr_lookup(w->wr, path);
        if (e->kind == WR_RW)
                return NULL;
        if (e->kind == WR_MASKED || w->rootfd < 0)
                return e;
        fd = fs_open_in_root(w->rootfd, path, 0, NULL);
        return fd < 0 ? e : NULL;
}

static void predict_dirs_units(const struct unit_walk *w, struct prediction *pr, size_t k)
{
        const struct wr_entry *first = NULL, *e;
        char list[PREDICT_LINE_MAX] = "";
        size_t i, n = 0;

        for (i = 0; i < w->n; i++) {
                const struct unit *u = &w->u[i];
                const char *v = u->dirs[k];

                if (!(u->flags & U_READ) || (u->flags & U_SKIP))
                        continue;
                for (v += strspn(v, " "); *v; v += strspn(v, " ")) {
                        size_t len = strcspn(v, " ");
                        if ((e = dir_blocked(w, k, v, len))) {
                                char item[300];
                                (void)snprintf(item, sizeof(item), "%s%s (%s/%.*s)", n++ ? ", " : "", u->name,
                                               dir_bases[k], (int)len, v);
                                line_append(list, item);
                                first = first ? first : e;
                        }
                        v += len;
                }
        }
        if (first)
                (void)pr_add(pr, "read-only %s (%s): %s= the image lacks cannot be created, failing with %s: %s",
                             first->path, first->origin, dir_keys[k], dir_exits[k], list);
}

/* Without the image: the one directory every systemd image needs,
 * logind's StateDirectory=systemd/linger. */
static void predict_dirs(const struct unit_walk *w, const struct wr_model *wr, struct prediction *pr)
{
        const struct wr_entry *e;
        size_t k;

        if (w && w->n_read > 0) {
                for (k = 0; k < _DIR_MAX; k++)
                        predict_dirs_units(w, pr, k);
                return;
        }
        e = wr_lookup(wr, "/var/lib/systemd/linger");
        if (e->kind != WR_RW)
                (void)pr_add(pr, "read-only %s (%s): systemd-logind.service fails with 238/STATE_DIRECTORY "
                             "(StateDirectory=systemd/linger) unless the image has /var/lib/systemd/linger",
                             e->path, e->origin);
}

void predict_build(const struct oci_config *c, const struct plan *p, int rootfd, struct prediction *ret)
{
        _cleanup_free_ struct unit_walk *w = NULL;
        struct wr_model wr;

        memset(ret, 0, sizeof(*ret));
        wr_build(c, p, &wr);
        if (rootfd >= 0) {
                w = xcalloc(1, sizeof(*w));
                w->c = c;
                w->p = p;
                w->wr = &wr;
                w->rootfd = rootfd;
                unit_walk(w);
                ret->n_units = w->n_read;
                ret->capped = w->capped;
        }
        predict_namespace(c, w, ret);
        predict_clone3(c, ret);
        predict_keyring(c, ret);
        predict_dirs(w, &wr, ret);
}

void predict_dump(const struct prediction *pr, FILE *f)
{
        size_t i;

        fprintf(f, "predicted failures:%s\n", pr->n ? "" : " none predicted");
        for (i = 0; i < pr->n; i++)
                fprintf(f, "  %s\n", pr->lines[i]);
        if (pr->n_units)
                fprintf(f, "  (from %zu unit files reached from default.target%s; drop-ins not read)\n", pr->n_units,
                        pr->capped ? ", the walk stopped at a bound" : "");
}
