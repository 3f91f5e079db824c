/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host limits for many systemd containers: see hostlimits.h. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "hostlimits.h"

#define INOTIFY_SYSCTL "/proc/sys/fs/inotify/max_user_instances"

long hl_inotify_suggest(long running, long per)
{
        long long need, s;

        if (running < 0)
                running = 0;
        if (per <= 0)
                per = HL_INOTIFY_PER_CONTAINER;
        if (running > INT_MAX)
                running = INT_MAX;
        need = ((long long)running + 1) * per;
        s = 2 * need;
        s = (s + 1023) / 1024 * 1024;
        if (s < 8192)
                s = 8192;
        return s > INT_MAX ? INT_MAX : (long)s;
}

bool hl_inotify_low(long max_instances, long running, long per, char *msg, size_t size)
{
        long long need;

        if (size)
                msg[0] = '\0';
        if (max_instances <= 0 || running < 0 || per <= 0)
                return false;
        need = ((long long)(running > INT_MAX ? INT_MAX : running) + 1) * per;
        if (need <= max_instances)
                return false;
        if (size)
                (void)snprintf(msg, size,
                               "fs.inotify.max_user_instances is %ld, and %ld systemd %s already running on this "
                               "node (about %ld inotify instances of root each): this container may boot degraded "
                               "(path units and journald cannot watch); raise it, e.g. `sysctl -w "
                               "fs.inotify.max_user_instances=%ld`",
                               max_instances, running, running == 1 ? "instance is" : "instances are", per,
                               hl_inotify_suggest(running, per));
        return true;
}

struct walk {
        long budget;     /* directories left to visit */
        long stop_at;    /* enough found: stop (LONG_MAX: count them all) */
        long n;
        bool partial;
};

static bool has_init_scope(int dirfd)
{
        struct stat st;
        return fstatat(dirfd, "init.scope", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* A directory without subdirectories (a link count of 2: cgroupfs, tmpfs
 * and ext4 count them; 1 means the filesystem does not) holds no cgroup
 * and no init.scope: no need to open it. */
static bool leaf(const struct stat *st)
{
        return st->st_nlink == 2;
}

/* One directory: counts init.scope holders below it, not descending into
 * them (a systemd's subtree is its own); DEPTH is small, so recursion is
 * bounded by it.  Takes FD0. */
static void walk(int fd0, int depth, bool is_root, struct walk *w)
{
        struct dirent *e;
        struct stat st;
        bool systemd;
        DIR *d;

        if (w->budget <= 0) {
                w->partial = true;
                (void)close(fd0);
                return;
        }
        w->budget--;
        systemd = has_init_scope(fd0);
        if (systemd)
                w->n++;
        /* (a leaf below the root is never opened: the parent checks) */
        if (w->n >= w->stop_at || (systemd && !is_root) || depth <= 0) {
                (void)close(fd0);
                return;
        }
        d = fdopendir(fd0);
        if (!d) {
                (void)close(fd0);
                return;
        }
        while ((e = readdir(d)) && w->n < w->stop_at) {
                int fd;

                if (e->d_type != DT_DIR || e->d_name[0] == '.' || streq(e->d_name, "init.scope"))
                        continue;
                if (w->budget <= 0) {
                        w->partial = true;
                        break;
                }
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && leaf(&st)) {
                        w->budget--;
                        continue;
                }
                fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0)
                        walk(fd, depth - 1, false, w);
        }
        (void)closedir(d);
}

long hl_count_systemd(int rootfd, int depth, long budget, long stop_at, bool *partial)
{
        struct walk w = { .budget = budget, .stop_at = stop_at };
        int fd;

        if (rootfd < 0)
                return 0;
        /* a description of its own: a dup would share the directory offset */
        fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        walk(fd, depth, true, &w);
        if (w.partial)
                *partial = true;
        return w.n;
}

/* A small file, NUL-terminated; false when unreadable or empty. */
static bool read_small(int dirfd, const char *path, char *buf, size_t size)
{
        int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return false;
        n = read(fd, buf, size - 1);
        (void)close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        return true;
}

static long read_long(const char *path)
{
        char buf[32], *end;
        long v;

        if (!read_small(AT_FDCWD, path, buf, sizeof(buf)))
                return -1;
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || v < 0)
                return -1;
        return v;
}

/* A cgroup hierarchy root: a directory with that filesystem magic. */
static int open_hierarchy(const char *path, long magic)
{
        struct statfs sfs;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        if (fstatfs(fd, &sfs) < 0 || (long)sfs.f_type != magic) {
                (void)close(fd);
                return -1;
        }
        return fd;
}

static const struct {
        const char *path;
        long magic;
} hierarchies[] = {
        { "/sys/fs/cgroup/systemd", CGROUP_SUPER_MAGIC },
        { "/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC },
        { "/sys/fs/cgroup", CGROUP2_SUPER_MAGIC },
};

/* The node's tasks (/proc/loadavg's fourth field, RUNNING/TOTAL): no more
 * systemd instances than that.  -1: unknown. */
static long node_tasks(void)
{
        char buf[128], *slash;

        if (!read_small(AT_FDCWD, "/proc/loadavg", buf, sizeof(buf)))
                return -1;
        slash = strchr(buf, '/');
        return slash ? strtol(slash + 1, NULL, 10) : -1;
}

/* cgroup2: each systemd is a cgroup with an init.scope child, none inside
 * another's, so no more than nr_descendants / 2 + 1 (the root too).
 * -1: unknown. */
static long cgroup2_bound(int rootfd)
{
        char buf[256], *p;

        if (!read_small(rootfd, "cgroup.stat", buf, sizeof(buf)))
                return -1;
        p = strstr(buf, "nr_descendants ");
        return p && (p == buf || p[-1] == '\n') ? strtol(p + strlen("nr_descendants "), NULL, 10) / 2 + 1 : -1;
}

long hl_inotify_bound(long tasks, long cgroup2)
{
        if (tasks < 0)
                return cgroup2;
        return cgroup2 < 0 || tasks < cgroup2 ? tasks : cgroup2;
}

/* FAST: the hook's question only (is the limit low?): a hierarchy whose
 * bound cannot reach the limit is not walked, and a walk stops once it has
 * found enough; explain counts everything. */
static void probe(struct hl_inotify *h, bool fast)
{
        long stop_at = LONG_MAX, tasks = -1;
        size_t i;

        h->max_instances = read_long(INOTIFY_SYSCTL);
        h->running = -1;
        h->partial = false;
        h->walked = 0;
        if (fast) {
                if (h->max_instances <= 0)
                        return;
                /* the least count that makes hl_inotify_low() true */
                stop_at = h->max_instances / HL_INOTIFY_PER_CONTAINER;
                tasks = node_tasks();
                h->running = 0;
        }
        for (i = 0; i < ELEMENTSOF(hierarchies) && h->running < stop_at; i++) {
                _cleanup_close_ int fd = open_hierarchy(hierarchies[i].path, hierarchies[i].magic);
                long n, bound;

                if (fd < 0)
                        continue;
                bound = hl_inotify_bound(tasks, hierarchies[i].magic == CGROUP2_SUPER_MAGIC ? cgroup2_bound(fd) : -1);
                if (fast && bound >= 0 && bound < stop_at)
                        continue;
                h->walked++;
                n = hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, stop_at, &h->partial);
                if (n > h->running)
                        h->running = n;
        }
}

void hl_inotify_probe(struct hl_inotify *h)
{
        probe(h, false);
}

void hl_inotify_probe_fast(struct hl_inotify *h)
{
        probe(h, true);
}

bool hl_inotify_warning(char *msg, size_t size)
{
        struct hl_inotify h;

        hl_inotify_probe_fast(&h);
        if (!hl_inotify_low(h.max_instances, h.running, HL_INOTIFY_PER_CONTAINER, NULL, 0))
                return false;
        /* rare: the whole count, so the message and its advice are exact */
        hl_inotify_probe(&h);
        return hl_inotify_low(h.max_instances, h.running, HL_INOTIFY_PER_CONTAINER, msg, size);
}

void hl_inotify_explain(FILE *f)
{
        struct hl_inotify h;
        char msg[512];

        hl_inotify_probe(&h);
        fprintf(f, "host inotify: max_user_instances %ld, %s%ld systemd instance%s running (about %d inotify "
                   "instances each)\n",
                h.max_instances, h.partial ? "at least " : "", h.running, h.running == 1 ? "" : "s",
                HL_INOTIFY_PER_CONTAINER);
        if (hl_inotify_low(h.max_instances, h.running, HL_INOTIFY_PER_CONTAINER, msg, sizeof(msg)))
                fprintf(f, "warning: %s\n", msg);
}
