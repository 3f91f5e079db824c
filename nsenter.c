/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/vfs.h>

#include "nsenter.h"

bool ns_pid_alive(pid_t pid)
{
        _cleanup_close_ int pidfd = pid > 0 ? pidfd_open(pid, 0) : -EBADF;
        return pidfd >= 0;
}

void ns_target_init(struct ns_target *t)
{
        memset(t, 0, sizeof(*t));
        t->pidfd = t->nsfd = t->selfns = -EBADF;
}

void ns_target_done(struct ns_target *t)
{
        closep(&t->pidfd);
        closep(&t->nsfd);
        closep(&t->selfns);
}

static int check_procfs(hook_error_t *err)
{
        struct statfs sfs;

        if (statfs("/proc", &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return hook_error_set(err, ENODEV, "/proc is not a procfs mount");
        return 0;
}

/* A pidfd polls readable once its process has exited (zombies too, which
 * a signal 0 would miss); no signal syscall that seccomp or valgrind may
 * refuse with an errno that would read as "exited". */
static int alive(const struct ns_target *t, hook_error_t *err)
{
        struct pollfd p = { .fd = t->pidfd, .events = POLLIN };
        int r;

        if (t->pidfd < 0)
                return 0;
        r = poll(&p, 1, 0);
        if (r < 0)
                return hook_error_set(err, errno, "poll pidfd: %s", strerror(errno));
        if (r > 0)
                return hook_error_set(err, ESRCH, "container process %d exited during the hook", (int)t->pid);
        return 0;
}

int ns_open_target(pid_t pid, struct ns_target *t, hook_error_t *err)
{
        struct stat self, target;
        char path[64];
        int r;

        t->pid = pid;
        if (pid <= 1)
                return hook_error_set(err, ESRCH, "no container pid in the state");
        if ((r = check_procfs(err)) < 0)
                return r;
        t->pidfd = pidfd_open(pid, 0);
        if (t->pidfd < 0 && errno != ENOSYS)
                return hook_error_set(err, errno, "container process %d: %s", (int)pid,
                                      errno == ESRCH ? "no such process (it exited before the hook ran)"
                                                     : strerror(errno));
        (void)snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        t->nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (t->nsfd < 0)
                return hook_error_set(err, errno, "container process %d: open %s: %s", (int)pid, path,
                                      errno == ENOENT ? "no such process (it exited before the hook ran)"
                                                      : strerror(errno));
        t->selfns = open("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->selfns < 0 || fstatat(t->selfns, "mnt", &self, 0) < 0 || fstat(t->nsfd, &target) < 0)
                return hook_error_set(err, errno, "stat mount namespaces: %s", strerror(errno));
        /* The pidfd was opened before the /proc lookup: if the process is
         * still alive now, nsfd belongs to it and not to a recycled pid. */
        if ((r = alive(t, err)) < 0)
                return r;
        if (self.st_ino == target.st_ino && self.st_dev == target.st_dev)
                return hook_error_set(err, EPERM,
                                      "process %d shares the hook's own mount namespace (reused pid, or no "
                                      "mount namespace): refusing to mount on the host", (int)pid);
        t->ino = target.st_ino;
        t->dev = target.st_dev;
        return 0;
}

int ns_join(struct ns_target *t, hook_error_t *err)
{
        struct stat now;
        int r;

        if ((r = alive(t, err)) < 0)
                return r;
        /* setns(pidfd) needs Linux 5.8; the nsfd works everywhere. */
        r = t->pidfd >= 0 ? setns(t->pidfd, CLONE_NEWNS) : -1;
        if (r < 0 && setns(t->nsfd, CLONE_NEWNS) < 0)
                return hook_error_set(err, errno, "setns into the mount namespace of %d: %s", (int)t->pid,
                                      strerror(errno));
        if (fstatat(t->selfns, "mnt", &now, 0) < 0 || now.st_ino != t->ino || now.st_dev != t->dev)
                return hook_error_set(err, EIO, "joined the wrong mount namespace");
        return 0;
}
