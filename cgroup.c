/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sched.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "cgroup.h"
#include "fsutil.h"
#include "json.h"
#include "mountinfo.h"

const char *cg_host_mode_name(enum cg_host_mode m)
{
        static const char *const n[] = { "unknown", "v1", "hybrid", "v2" };
        return m < ELEMENTSOF(n) ? n[m] : "unknown";
}

const char *cg_action_name(enum cg_action a)
{
        static const char *const n[] = {
                "none",
                "bind the container's own cgroup2 directory read-only at /sys/fs/cgroup and its "
                "child `payload`, where the container then runs, read-write on /sys/fs/cgroup/payload "
                "(the runtime's limits stay out of reach, also files a controller toggle adds later)",
                "bind the container's own name=systemd cgroup read-write at /sys/fs/cgroup/systemd",
        };
        return a < ELEMENTSOF(n) ? n[a] : "unknown";
}

/* NAME is one of the comma-separated items of LIST (controllers, options). */
static bool has_list_item(const char *list, size_t len, const char *name)
{
        size_t nl = strlen(name);
        const char *p = list, *end = list + len;

        while (p < end) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
                if (l == nl && memcmp(p, name, nl) == 0)
                        return true;
                p += l + 1;
        }
        return false;
}

int cg_parse_membership(const char *s, struct cg_membership *ret, hook_error_t *err)
{
        memset(ret, 0, sizeof(*ret));
        while (*s) {
                const char *eol = strchr(s, '\n'), *c1, *c2;
                size_t len = eol ? (size_t)(eol - s) : strlen(s);

                c1 = memchr(s, ':', len);
                c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s)) : NULL;
                if (!c1 || !c2) {
                        cg_membership_done(ret);
                        return hook_error_set(err, EINVAL, "malformed line in /proc/PID/cgroup");
                }
                if (c1 - s == 1 && s[0] == '0' && c2 == c1 + 1) {
                        free(ret->unified);
                        ret->unified = strndup(c2 + 1, len - (size_t)(c2 + 1 - s));
                } else if (has_list_item(c1 + 1, (size_t)(c2 - c1 - 1), "name=systemd")) {
                        free(ret->named);
                        ret->named = strndup(c2 + 1, len - (size_t)(c2 + 1 - s));
                }
                s += len + (eol ? 1 : 0);
        }
        return 0;
}

void cg_membership_done(struct cg_membership *m)
{
        free(m->unified);
        free(m->named);
        memset(m, 0, sizeof(*m));
}

void cg_mounts_done(struct cg_mounts *m)
{
        free(m->unified_target);
        free(m->unified_root);
        free(m->named_target);
        free(m->named_root);
        memset(m, 0, sizeof(*m));
}

static int mounts_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct cg_mounts *ret = userdata;
        char **t, **root;

        (void)err;
        if (streq(e->fstype, "cgroup2"))
                t = &ret->unified_target, root = &ret->unified_root;
        else if (streq(e->fstype, "cgroup") && has_list_item(e->super_options, strlen(e->super_options), "name=systemd"))
                t = &ret->named_target, root = &ret->named_root;
        else
                return 0;
        /* The last matching mount wins: it is the one on top. */
        free(*t);
        free(*root);
        *root = xstrdup(e->root);
        *t = xstrdup(e->mount_point);
        return 0;
}

int cg_parse_mounts(const char *mountinfo, struct cg_mounts *ret, hook_error_t *err)
{
        memset(ret, 0, sizeof(*ret));
        return mountinfo_foreach_string(mountinfo, mounts_cb, ret, err);
}

/* The host's cgroup mounts: where they always are, by statmount (the
 * node's mount table holds one rootfs per container: reading it grows
 * with the node), else the whole table, where the last one wins. */
static int cg_read_mounts(struct cg_mounts *ret, hook_error_t *err)
{
        static const char *const known[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd" };
        hook_error_t tmp = {};
        size_t i;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        for (i = 0; i < ELEMENTSOF(known) && r >= 0; i++)
                r = mountlist_stat_path(known[i], mounts_cb, ret, &tmp);
        if (r >= 0 && (ret->unified_target || ret->named_target))
                return 0;
        cg_mounts_done(ret);
        return mountinfo_foreach_path("/proc/self/mountinfo", mounts_cb, ret, err);
}

enum cg_host_mode cg_mode_from_mounts(const struct cg_mounts *m, bool unified_at_sys_fs_cgroup)
{
        if (unified_at_sys_fs_cgroup)
                return CG_HOST_V2;
        if (m->unified_target && m->named_target)
                return CG_HOST_HYBRID;
        if (m->named_target)
                return CG_HOST_V1;
        if (m->unified_target)
                return CG_HOST_V2;
        return CG_HOST_UNKNOWN;
}

enum cg_host_mode cg_detect_host_mode(void)
{
        struct statfs sfs;

        if (statfs("/sys/fs/cgroup", &sfs) < 0)
                return CG_HOST_UNKNOWN;
        if (sfs.f_type == CGROUP2_SUPER_MAGIC)
                return CG_HOST_V2;
        if (statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                return CG_HOST_HYBRID;
        if (statfs("/sys/fs/cgroup/systemd", &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC)
                return CG_HOST_V1;
        return CG_HOST_UNKNOWN;
}

int cg_relative_path(const char *cgpath, const char *mount_root, char **ret, hook_error_t *err)
{
        size_t rl = strlen(mount_root);
        const char *rel;

        if (cgpath[0] != '/' || strstr(cgpath, "/../") || strstr(cgpath, "/..\n") ||
            (strlen(cgpath) >= 3 && streq(cgpath + strlen(cgpath) - 3, "/..")))
                return hook_error_set(err, EINVAL, "cgroup path `%.200s` is not a clean absolute path", cgpath);
        if (streq(mount_root, "/"))
                rel = cgpath;
        else if (strncmp(cgpath, mount_root, rl) == 0 && (cgpath[rl] == '/' || cgpath[rl] == '\0'))
                rel = cgpath + rl;
        else
                return hook_error_set(err, EXDEV, "cgroup `%.200s` is outside the mounted hierarchy `%.200s`",
                                      cgpath, mount_root);
        while (*rel == '/')
                rel++;
        if (*rel == '\0')
                return hook_error_set(err, EPERM,
                                      "the container's cgroup is the hierarchy root; refusing to make it writable");
        *ret = xstrdup(rel);
        return 0;
}

bool cg_delegated_file(const char *name)
{
        return streq(name, "cgroup.procs") || streq(name, "cgroup.threads") ||
               streq(name, "cgroup.subtree_control") || streq(name, "tasks");
}

static int read_small(const char *path, char **ret, hook_error_t *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len;

        if (fd < 0)
                return hook_error_set(err, errno, "open `%s`: %s", path, strerror(errno));
        if (read_fd_capped(fd, 4u << 20, ret, &len, err) < 0)
                return hook_error_prefix(err, "reading `%s`", path);
        return 0;
}

static int open_beneath(const char *target, const char *rel, unsigned long magic, int *ret_fd,
                        hook_error_t *err)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int mfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sfs;
        int fd;

        if (mfd < 0)
                return hook_error_set(err, errno, "open `%s`: %s", target, strerror(errno));
        fd = fs_openat2(mfd, rel, &how);
        if (fd < 0)
                return hook_error_set(err, errno, "open cgroup `%s/%.200s`: %s", target, rel, strerror(errno));
        if (fstatfs(fd, &sfs) < 0 || (unsigned long)sfs.f_type != magic) {
                (void)close(fd);
                return hook_error_set(err, EXDEV, "`%s/%.200s` is not a cgroup filesystem", target, rel);
        }
        *ret_fd = fd;
        return 0;
}

/* PID's cgroups as seen from its own cgroup namespace: "/" before the
 * container ran, "/init.scope" once systemd moved itself (a re-run at
 * runc restore).  *ret stays NULL without a cgroup namespace of its own. */
static int read_in_cgroupns(pid_t pid, const char *path, char **ret, hook_error_t *err)
{
        _cleanup_close_ int own = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC), theirs = -EBADF;
        char nspath[64];
        struct stat a, b;
        int r;

        *ret = NULL;
        (void)snprintf(nspath, sizeof(nspath), "/proc/%d/ns/cgroup", (int)pid);
        theirs = open(nspath, O_RDONLY | O_CLOEXEC);
        if (theirs < 0 && errno == ENOENT)
                return hook_error_set(err, ESRCH, "container process %d exited during the hook", (int)pid);
        if (own < 0 || theirs < 0 || fstat(own, &a) < 0 || fstat(theirs, &b) < 0)
                return hook_error_set(err, errno, "cgroup namespaces: %s", strerror(errno));
        if (a.st_ino == b.st_ino)
                return 0;
        if (setns(theirs, CLONE_NEWCGROUP) < 0)
                return hook_error_set(err, errno, "joining the container's cgroup namespace: %s", strerror(errno));
        r = read_small(path, ret, err);
        if (setns(own, CLONE_NEWCGROUP) < 0)
                /* Never go on in the container's cgroup namespace. */
                return hook_error_set(err, errno, "returning to the hook's cgroup namespace: %s", strerror(errno));
        return r;
}

/* /osh/N/init.scope seen as /init.scope from inside: the container's own
 * cgroup (its namespace root) is /osh/N. */
static void strip_ns_suffix(char *host, const char *inns)
{
        size_t hl, il;

        if (!host || !inns || streq(inns, "/"))
                return;
        hl = strlen(host), il = strlen(inns);
        if (il < hl && streq(host + hl - il, inns) && inns[0] == '/')
                host[hl - il] = '\0';
}

int cg_open_own(pid_t pid, enum cg_action *action, int *ret_fd, char **ret_path, hook_error_t *err)
{
        _cleanup_free_ char *proc = NULL, *rel = NULL, *inns = NULL;
        struct cg_membership mem = {};
        struct cg_mounts mnt = {};
        char path[64];
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        if ((r = read_small(path, &proc, err)) < 0)
                return r;
        if ((r = cg_parse_membership(proc, &mem, err)) < 0)
                return r;
        if ((r = read_in_cgroupns(pid, path, &inns, err)) < 0)
                goto out;
        if (inns) {
                struct cg_membership own = {};
                if ((r = cg_parse_membership(inns, &own, err)) < 0)
                        goto out;
                strip_ns_suffix(mem.unified, own.unified);
                strip_ns_suffix(mem.named, own.named);
                cg_membership_done(&own);
        }
        r = cg_read_mounts(&mnt, err);
        if (r < 0)
                goto out;
        if (*action == CG_ACT_UNIFIED) {
                /* On a hybrid host the process may sit at the unified root
                 * (a runtime that ignores the unified hierarchy): fall back. */
                hook_error_t tmp = {};
                if (mem.unified && mnt.unified_target &&
                    cg_relative_path(mem.unified, mnt.unified_root, &rel, &tmp) == 0) {
                        r = open_beneath(mnt.unified_target, rel, CGROUP2_SUPER_MAGIC, ret_fd, err);
                        goto out;
                }
                if (!mem.named || !mnt.named_target) {
                        r = hook_error_set(err, tmp.code ? tmp.code : ENOENT, "no cgroup2 directory of the container's own%s%s",
                                           tmp.code ? ": " : "", tmp.msg);
                        goto out;
                }
                *action = CG_ACT_V1_NAMED;
        }
        if (!mem.named || !mnt.named_target) {
                r = hook_error_set(err, ENOENT, "the container is in no name=systemd cgroup");
                goto out;
        }
        r = cg_relative_path(mem.named, mnt.named_root, &rel, err);
        if (r >= 0)
                r = open_beneath(mnt.named_target, rel, CGROUP_SUPER_MAGIC, ret_fd, err);
out:
        if (r >= 0 && ret_path)
                *ret_path = TAKE_PTR(rel);
        cg_membership_done(&mem);
        cg_mounts_done(&mnt);
        return r;
}

int cg_check_alone(int dirfd, pid_t pid, const char *path, hook_error_t *err)
{
        _cleanup_close_ int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        char *p, *end;

        if (fd < 0)
                return hook_error_set(err, errno, "open the cgroup's cgroup.procs: %s", strerror(errno));
        if (read_fd_capped(fd, 4u << 20, &buf, &len, err) < 0)
                return hook_error_prefix(err, "cgroup.procs");
        for (p = buf; *p; p = end) {
                long other;

                errno = 0;
                other = strtol(p, &end, 10);
                if (end == p || errno)
                        return hook_error_set(err, EINVAL, "malformed cgroup.procs");
                while (*end == '\n')
                        end++;
                if (other != (long)pid)
                        return hook_error_set(err, EBUSY,
                                              "the container's cgroup `%.200s` also holds process %ld, which is not "
                                              "the container's: the runtime gave it no cgroup of its own (e.g. crun "
                                              "--cgroup-manager=disabled); refusing to delegate a shared cgroup",
                                              path, other);
        }
        return 0;
}
