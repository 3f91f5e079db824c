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

/* One directory: counts init.scope holders below it (iteratively deep
 * would need a stack; DEPTH is small, recursion is bounded by it). */
static long walk(int fd0, int depth, bool is_root, long *budget, bool *partial)
{
        DIR *d;
        struct dirent *e;
        long n = 0;
        bool systemd = false;

        if (*budget <= 0) {
                *partial = true;
                (void)close(fd0);
                return 0;
        }
        (*budget)--;
        d = fdopendir(fd0);
        if (!d) {
                (void)close(fd0);
                return 0;
        }
        /* first pass: is a systemd here? (then its subtree is its own) */
        while ((e = readdir(d)))
                if (e->d_type == DT_DIR && streq(e->d_name, "init.scope")) {
                        systemd = true;
                        break;
                }
        if (systemd)
                n++;
        if ((!systemd || is_root) && depth > 0) {
                rewinddir(d);
                while ((e = readdir(d))) {
                        int fd;

                        if (e->d_type != DT_DIR || e->d_name[0] == '.' || streq(e->d_name, "init.scope"))
                                continue;
                        if (*budget <= 0) {
                                *partial = true;
                                break;
                        }
                        fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd >= 0)
                                n += walk(fd, depth - 1, false, budget, partial);
                }
        }
        (void)closedir(d);
        return n;
}

long hl_count_systemd(int rootfd, int depth, long budget, bool *partial)
{
        int fd;

        if (rootfd < 0)
                return 0;
        fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return 0;
        return walk(fd, depth, true, &budget, partial);
}

static long read_long(const char *path)
{
        char buf[32];
        ssize_t n;
        long v;
        char *end;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        (void)close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
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

void hl_inotify_probe(struct hl_inotify *h)
{
        static const struct {
                const char *path;
                long magic;
        } roots[] = {
                { "/sys/fs/cgroup/systemd", CGROUP_SUPER_MAGIC },
                { "/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC },
                { "/sys/fs/cgroup", CGROUP2_SUPER_MAGIC },
        };
        size_t i;

        h->max_instances = read_long(INOTIFY_SYSCTL);
        h->running = -1;
        h->partial = false;
        for (i = 0; i < ELEMENTSOF(roots); i++) {
                _cleanup_close_ int fd = open_hierarchy(roots[i].path, roots[i].magic);
                long n;

                if (fd < 0)
                        continue;
                n = hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, &h->partial);
                if (n > h->running)
                        h->running = n;
        }
}

bool hl_inotify_warning(char *msg, size_t size)
{
        struct hl_inotify h;

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
