/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Detection (detect_command, detect_systemd) and the symlink-safe
 * resolution under it (fs_walk_in_root, fs_open_in_root, path_clean),
 * against rootfses built once, with hostile symlinks.
 *
 * Input: byte 0 picks the rootfs (low bits) and flags; the rest is a list
 * of NUL-separated segments, each starting with its kind:
 *   a<arg>   process.args entry        e<VAR=x>  process.env entry
 *   c<k=v>   config annotation         s<k=v>    state annotation
 *   p<f><path>  resolve <path> in the rootfs; <f> is one byte, & 2: FS_NOFOLLOW
 *               (seeds use "0" and "2": a NUL would end the segment)
 * (fuzz/make-seeds.py writes seeds in this format.)
 *
 * Oracles: no fd ever points outside the rootfs; the path the walk
 * reports is clean and names the inode it returned; the walk and openat2
 * agree on the inode when both succeed; no fd leaks; path_clean output is
 * clean and idempotent; detect_command returns a pointer into args or its
 * buffer. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "detect.h"
#include "fsutil.h"
#include "fuzz.h"

#define MAX_SEG 64
#define N_ROOTFS 6
#define F_NO_ROOTFD 0x80

static char *base;
static char *roots[N_ROOTFS];
static int rootfds[N_ROOTFS] = { -1, -1, -1, -1, -1, -1 };

static const struct fuzz_node usrmerge[] = {
        { FZ_DIR, "etc", NULL }, { FZ_DIR, "run", NULL }, { FZ_DIR, "tmp", NULL },
        { FZ_DIR, "var/log/journal", NULL }, { FZ_DIR, "sys/fs/cgroup", NULL }, { FZ_DIR, "proc", NULL },
        { FZ_DIR, "usr/local/sbin", NULL }, { FZ_FILE, "usr/lib/systemd/systemd", NULL },
        { FZ_FILE, "usr/bin/tini", NULL }, { FZ_FILE, "etc/machine-id", NULL },
        { FZ_LINK, "sbin", "usr/sbin" }, { FZ_LINK, "lib", "usr/lib" }, { FZ_LINK, "bin", "usr/bin" },
        { FZ_LINK, "usr/sbin/init", "../lib/systemd/systemd" },
        { FZ_LINK, "usr/local/sbin/init", "/usr/bin/tini" },
        {},
};

static const struct fuzz_node classic[] = {
        { FZ_FILE, "lib/systemd/systemd", NULL }, { FZ_DIR, "usr/local/sbin", NULL },
        { FZ_DIR, "usr/sbin", NULL }, { FZ_DIR, "etc", NULL },
        { FZ_LINK, "sbin/init", "/lib/systemd/systemd" },
        { FZ_LINK, "usr/sbin/init", "../../sbin/init" },
        { FZ_LINK, "usr/local/sbin/init", "/usr/local/sbin/../../../sbin/./init" },
        {},
};

static const struct fuzz_node busybox[] = {
        { FZ_FILE, "bin/busybox", NULL }, { FZ_FILE, "usr/local/sbin/init", NULL },
        { FZ_DIR, "usr/sbin", NULL }, { FZ_DIR, "sbin", NULL },
        { FZ_LINK, "sbin/init", "../bin/busybox" }, { FZ_LINK, "usr/sbin/init", "/bin/busybox" },
        { FZ_LINK, "bin/sh", "busybox" },
        {},
};

/* Every escape the security notes list (§4), as links. */
static const struct fuzz_node hostile[] = {
        { FZ_FILE, "lib/systemd/systemd", NULL }, { FZ_FILE, "etc/shadow", NULL },
        { FZ_DIR, "proc/1", NULL }, { FZ_DIR, "var/log", NULL }, { FZ_FIFO, "fifo", NULL },
        { FZ_LINK, "sbin", "../../../../../.." },
        { FZ_LINK, "init", "/proc/self/root/lib/systemd/systemd" },
        { FZ_LINK, "proc/self", "1" }, { FZ_LINK, "proc/1/root", "/" },
        { FZ_LINK, "usr", "/" }, { FZ_LINK, "local", "." },
        { FZ_LINK, "run", "/" }, { FZ_LINK, "tmp", "/proc/1/root/tmp" },
        { FZ_LINK, "var/log/journal", "../../../../var/log" },
        { FZ_LINK, "etc/machine-id", "/etc/shadow" }, { FZ_LINK, "etc/etc", "/etc" },
        { FZ_LINK, "loop", "loop" }, { FZ_LINK, "a", "b" }, { FZ_LINK, "b", "a" },
        { FZ_LINK, "dotdot", ".." }, { FZ_LINK, "empty-ish", "./" },
        { FZ_LINK, "lib/systemd/up", "../../../../lib/systemd/../../etc/machine-id" },
        {},
};

static const struct fuzz_node odd[] = {
        { FZ_FIFO, "sbin/init", NULL }, { FZ_FILE, "lib/systemd/systemd/x", NULL },
        { FZ_DIR, "usr/local/sbin/systemd", NULL }, { FZ_FILE, "etc", NULL }, { FZ_FILE, "tmp", NULL },
        { FZ_DIR, "run", NULL },
        { FZ_LINK, "usr/sbin/init", "/lib/systemd/" },
        { FZ_LINK, "usr/local/sbin/init", "systemd" },
        { FZ_LINK, "run/lock", "/run" }, { FZ_LINK, "run/file", "/etc/" },
        {},
};

/* Link chains at the kernel's limit (40): sbin/init takes 40 links in
 * total, usr/sbin/init 41, usr/local/sbin/init 39 (built in chains()). */
static const struct fuzz_node limits[] = {
        { FZ_FILE, "lib/systemd/systemd", NULL }, { FZ_DIR, "sbin", NULL },
        { FZ_DIR, "usr/sbin", NULL }, { FZ_DIR, "usr/local/sbin", NULL },
        {},
};

static void link_at(const char *root, const char *name, const char *target)
{
        _cleanup_free_ char *p = xmalloc(strlen(root) + strlen(name) + 2);

        (void)sprintf(p, "%s/%s", root, name);
        if (symlink(target, p) < 0) {
                fprintf(stderr, "fuzz: symlink %s: %m\n", p);
                abort();
        }
}

static void chains(const char *root)
{
        char name[32], target[32];
        int i;

        /* c0 -> c1 -> ... -> c39 -> /lib/systemd/systemd: 40 links from c0 */
        for (i = 0; i < 40; i++) {
                (void)snprintf(name, sizeof(name), "c%d", i);
                (void)snprintf(target, sizeof(target), i == 39 ? "/lib/systemd/systemd" : "/c%d", i + 1);
                link_at(root, name, target);
        }
        link_at(root, "sbin/init", "/c1");            /* 40 */
        link_at(root, "usr/sbin/init", "/c0");        /* 41 */
        link_at(root, "usr/local/sbin/init", "/c2");  /* 39 */
}

static void hostile_extra(const char *root)
{
        char target[PATH_MAX];
        size_t i;

        /* The longest target the kernel stores (PATH_MAX - 1 bytes). */
        for (i = 0; i + 2 < sizeof(target) - 1; i += 2)
                memcpy(target + i, "./", 2);
        target[i] = '\0';
        link_at(root, "long", target);
}

int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
        static const struct fuzz_node *const trees[N_ROOTFS] = { usrmerge, classic, busybox, hostile, odd, limits };
        size_t i;

        base = fuzz_mkdtemp("detect");
        for (i = 0; i < N_ROOTFS; i++) {
                roots[i] = xmalloc(strlen(base) + 16);
                (void)sprintf(roots[i], "%s/r%zu", base, i);
                fuzz_tree(roots[i], trees[i]);
        }
        chains(roots[5]);
        hostile_extra(roots[3]);
        for (i = 0; i < N_ROOTFS; i++) {
                rootfds[i] = open(roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfds[i] < 0)
                        abort();
        }
        return 0;
}

/* libFuzzer ends with exit(), which runs this; a crash leaves the dir
 * (osh-fuzz-detect-* in $TMPDIR). */
static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
        size_t i;

        for (i = 0; i < N_ROOTFS; i++)
                if (rootfds[i] >= 0)
                        (void)close(rootfds[i]);
        fuzz_rm_rf(base);
}

/* The fd names ROOT itself or something below it. */
static void check_contained(int fd, const char *root, const char *what)
{
        char proc[64], target[PATH_MAX + 1];
        ssize_t n;
        size_t rl = strlen(root);

        (void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, target, sizeof(target) - 1);
        FUZZ_CHECK(n > 0, "readlink %s: %m", proc);
        target[n] = '\0';
        FUZZ_CHECK(strncmp(target, root, rl) == 0 && (target[rl] == '\0' || target[rl] == '/'),
                   "%s: fd %d is `%s`, outside the rootfs `%s`", what, fd, target, root);
}

static bool is_clean_abs(const char *p)
{
        if (p[0] != '/')
                return false;
        if (streq(p, "/"))
                return true;
        if (p[strlen(p) - 1] == '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
                return false;
        return !(strlen(p) >= 2 && (streq(p + strlen(p) - 2, "/.") ||
                                    (strlen(p) >= 3 && streq(p + strlen(p) - 3, "/.."))));
}

static bool same_inode(int a, int b)
{
        struct stat sa, sb;

        FUZZ_CHECK(fstat(a, &sa) == 0 && fstat(b, &sb) == 0, "fstat: %m");
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Where openat2 and the walk may answer differently: an empty path (the
 * walk gives the root), a trailing slash (the walk ignores it), symlink
 * and length limits the kernel counts its own way. */
static bool benign_difference(const char *path, int code)
{
        size_t n = strlen(path);

        return n == 0 || path[n - 1] == '/' || (n >= 2 && streq(path + n - 2, "/.")) || streq(path, ".") ||
               code == ELOOP || code == ENAMETOOLONG || n >= PATH_MAX;
}

static void check_resolve(int rootfd, const char *root, const char *path, unsigned flags)
{
        hook_error_t e1 = {}, e2 = {}, e3 = {};
        _cleanup_free_ char *resolved = NULL, *clean = NULL, *clean2 = NULL;
        _cleanup_close_ int f1 = -EBADF, f2 = -EBADF, f3 = -EBADF;
        int r1;

        clean = path_clean(path);
        FUZZ_CHECK(is_clean_abs(clean), "path_clean(`%s`) = `%s`", path, clean);
        clean2 = path_clean(clean);
        FUZZ_CHECK(streq(clean, clean2), "path_clean not idempotent: `%s` -> `%s`", clean, clean2);

        r1 = fs_walk_in_root(rootfd, path, flags, &f1, &resolved, &e1);
        if (r1 < 0) {
                f1 = -EBADF;
                fuzz_check_error(r1, &e1);
        } else {
                struct stat st, sr;

                check_contained(f1, root, "fs_walk_in_root");
                FUZZ_CHECK(resolved && is_clean_abs(resolved), "walk of `%s` reports `%s`", path,
                           resolved ? resolved : "(null)");
                FUZZ_CHECK(fstat(f1, &st) == 0, "fstat: %m");
                FUZZ_CHECK(fstatat(rootfd, streq(resolved, "/") ? "." : resolved + 1, &sr,
                                   AT_SYMLINK_NOFOLLOW) == 0 &&
                                   st.st_dev == sr.st_dev && st.st_ino == sr.st_ino,
                           "walk of `%s` reports `%s`, which is another file", path, resolved);
        }

        fs_force_walk = false;
        f2 = fs_open_in_root(rootfd, path, flags, &e2);
        if (f2 < 0)
                fuzz_check_error(f2, &e2);
        else
                check_contained(f2, root, "fs_open_in_root (openat2)");

        f3 = fs_open_in_root(rootfd, path, flags | FS_WALK_ONLY, &e3);
        if (f3 < 0) {
                fuzz_check_error(f3, &e3);
                FUZZ_CHECK(r1 < 0, "walk: fs_walk_in_root found `%s`, fs_open_in_root(WALK_ONLY) failed: %s",
                           path, e3.msg);
        } else {
                check_contained(f3, root, "fs_open_in_root (walk)");
                FUZZ_CHECK(r1 >= 0 && same_inode(f1, f3), "the two walks disagree on `%s`", path);
        }
        /* The security-relevant disagreement: both succeed, different files. */
        if (f2 >= 0 && f3 >= 0)
                FUZZ_CHECK(same_inode(f2, f3), "openat2 and the walk resolve `%s` to different files", path);
        /* The fallback must answer like openat2 (it is what runs on a
         * kernel without it), apart from where the two differ on purpose or
         * by the kernel's limits. */
        if ((f2 >= 0) != (f3 >= 0) && !benign_difference(path, f2 < 0 ? e2.code : e3.code))
                FUZZ_CHECK(false, "openat2 %s and the walk %s on `%s` (%s)", f2 >= 0 ? "succeeds" : "fails",
                           f3 >= 0 ? "succeeds" : "fails", path, f2 < 0 ? e2.msg : e3.msg);
}

struct input {
        const char *args[MAX_SEG + 1], *env[MAX_SEG + 1];
        struct kv cann[MAX_SEG], sann[MAX_SEG];
        size_t n_args, n_env, n_cann, n_sann;
};

static void add_kv(struct kv *a, size_t *n, char *s)
{
        char *eq = strchr(s, '=');

        if (*n >= MAX_SEG)
                return;
        if (eq)
                *eq = '\0';
        a[*n].key = s;
        a[*n].value = eq ? eq + 1 : "";
        (*n)++;
}

static void check_detect(const struct input *in, int rootfd, bool readonly)
{
        struct oci_config c = {};
        struct detect_result res;
        _cleanup_free_ char *buf = NULL;
        const char *cmd;
        size_t i;
        bool found;

        cmd = detect_command(in->args, in->n_args, &buf);
        if (cmd && cmd != buf) {
                for (found = false, i = 0; i < in->n_args; i++)
                        found = found || cmd == in->args[i];
                FUZZ_CHECK(found, "detect_command returned a pointer into nothing");
        }
        FUZZ_CHECK(!buf || cmd == buf, "buffer allocated, not returned");

        c.args = (const char **)in->args;
        c.n_args = in->n_args;
        c.env = (const char **)in->env;
        c.n_env = in->n_env;
        c.annotations = (struct kv *)in->cann;
        c.n_annotations = in->n_cann;
        c.root_path = "rootfs";
        c.root_readonly = readonly;
        detect_systemd(&c, in->sann, in->n_sann, rootfd, &res);
        FUZZ_CHECK(strnlen(res.reason, sizeof(res.reason)) < sizeof(res.reason) && res.reason[0],
                   "reason");
        FUZZ_CHECK(strnlen(res.warning, sizeof(res.warning)) < sizeof(res.warning), "warning");
        FUZZ_CHECK(res.systemd == true || res.systemd == false, "bool");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct input in = {};
        _cleanup_free_ char *copy = NULL;
        const char *paths[8];
        unsigned pflags[8];
        size_t n_paths = 0, i, v;
        char *s, *end;
        int fd0 = fuzz_lowest_fd(), rootfd;

        if (size < 1 || size > 65536)
                return 0;
        v = data[0] % N_ROOTFS;
        rootfd = (data[0] & F_NO_ROOTFD) ? -1 : rootfds[v];
        copy = xmalloc(size);
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        end = copy + size - 1;
        for (s = copy; s <= end; s += strlen(s) + 1) {
                switch (s[0]) {
                case 'a':
                        if (in.n_args < MAX_SEG)
                                in.args[in.n_args++] = s + 1;
                        break;
                case 'e':
                        if (in.n_env < MAX_SEG)
                                in.env[in.n_env++] = s + 1;
                        break;
                case 'c':
                        add_kv(in.cann, &in.n_cann, s + 1);
                        break;
                case 's':
                        add_kv(in.sann, &in.n_sann, s + 1);
                        break;
                case 'p':
                        if (s[1] && n_paths < ELEMENTSOF(paths)) {
                                pflags[n_paths] = (unsigned char)s[1] & FS_NOFOLLOW;
                                paths[n_paths++] = s + 2;
                        }
                        break;
                default:
                        break;
                }
        }
        check_detect(&in, rootfd, data[0] & 0x40);
        for (i = 0; i < n_paths; i++)
                check_resolve(rootfds[v], roots[v], paths[i], pflags[i]);
        fs_force_walk = false;
        FUZZ_CHECK(fuzz_lowest_fd() == fd0, "fd leak");
        return 0;
}
