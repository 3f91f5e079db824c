/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "nsenter.h"

bool ns_pid_alive(pid_t pid)
{
        _cleanup_close_ int pidfd = pid > 0 ? pidfd_open(pid, 0) : -EBADF;
        return pidfd >= 0;
}

static int check_procfs(hook_error_t *err)
{
        struct statfs sfs;

        if (statfs("/proc", &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return hook_error_set(err, ENODEV, "/proc is not a procfs mount");
        return 0;
}

int ns_enter_mount(pid_t pid, hook_error_t *err)
{
        _cleanup_close_ int pidfd = -EBADF, nsfd = -EBADF;
        struct stat self, target, now;
        char path[64];
        int r;

        if (pid <= 1)
                return hook_error_set(err, ESRCH, "no container pid in the state");
        if ((r = check_procfs(err)) < 0)
                return r;
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0 && errno != ENOSYS)
                return hook_error_set(err, errno, "container process %d: %s", (int)pid,
                                      errno == ESRCH ? "no such process (it exited before the hook ran)"
                                                     : strerror(errno));
        (void)snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return hook_error_set(err, errno, "container process %d: open %s: %s", (int)pid, path,
                                      strerror(errno));
        if (stat("/proc/self/ns/mnt", &self) < 0 || fstat(nsfd, &target) < 0)
                return hook_error_set(err, errno, "stat mount namespaces: %s", strerror(errno));
        /* The pidfd was opened before the /proc lookup: if the process is
         * still alive now, nsfd belongs to it and not to a recycled pid. */
        if (pidfd >= 0 && pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
                return hook_error_set(err, ESRCH, "container process %d exited during the hook", (int)pid);
        if (self.st_ino == target.st_ino && self.st_dev == target.st_dev)
                return hook_error_set(err, EPERM,
                                      "process %d shares the hook's own mount namespace (reused pid, or no "
                                      "mount namespace): refusing to mount on the host", (int)pid);
        /* setns(pidfd) needs Linux 5.8; the nsfd works everywhere. */
        r = pidfd >= 0 ? setns(pidfd, CLONE_NEWNS) : -1;
        if (r < 0 && setns(nsfd, CLONE_NEWNS) < 0)
                return hook_error_set(err, errno, "setns into the mount namespace of %d: %s", (int)pid,
                                      strerror(errno));
        if (stat("/proc/self/ns/mnt", &now) < 0 || now.st_ino != target.st_ino)
                return hook_error_set(err, EIO, "joined the wrong mount namespace");
        return 0;
}
