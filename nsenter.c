/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <sys/vfs.h>

#include "fsutil.h"
#include "mountinfo.h"
#include "nsenter.h"

bool ns_pid_alive(pid_t pid)
{
        _cleanup_close_ int pidfd = pid > 0 ? pidfd_open(pid, 0) : -EBADF;
        return pidfd >= 0;
}

void ns_target_init(struct ns_target *t)
{
        memset(t, 0, sizeof(*t));
        t->pidfd = t->nsfd = t->selfns = t->ownns = -EBADF;
}

void ns_target_done(struct ns_target *t)
{
        closep(&t->pidfd);
        closep(&t->nsfd);
        closep(&t->selfns);
        closep(&t->ownns);
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
        t->ownns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (t->selfns < 0 || t->ownns < 0 || fstat(t->ownns, &self) < 0 || fstat(t->nsfd, &target) < 0)
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
        t->own_ino = self.st_ino;
        t->own_dev = self.st_dev;
        return 0;
}

int ns_leave(struct ns_target *t, hook_error_t *err)
{
        struct stat now;

        if (setns(t->ownns, CLONE_NEWNS) < 0)
                return hook_error_set(err, errno, "returning to the hook's mount namespace: %s", strerror(errno));
        if (fstatat(t->selfns, "mnt", &now, 0) < 0 || now.st_ino != t->own_ino || now.st_dev != t->own_dev)
                return hook_error_set(err, EIO, "did not return to the hook's mount namespace");
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

/* What the process's own mount namespace has at the rootfs path. */
struct init_scan {
        const char *rootfs;
        size_t rootfs_len;
        bool root_mount, proc_mount;
};

static int init_scan_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct init_scan *s = userdata;
        const char *mp = e->mount_point;

        (void)err;
        if (strncmp(mp, s->rootfs, s->rootfs_len) != 0)
                return 0;
        if (mp[s->rootfs_len] == '\0')
                s->root_mount = true;
        else if (streq(mp + s->rootfs_len, "/proc") && streq(e->fstype, "proc"))
                s->proc_mount = true;
        return 0;
}

static int open_beneath(int dirfd, const char *path)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };

        return fs_openat2(dirfd, path, &how);
}

int ns_check_init(const struct ns_target *t, const char *rootfs, dev_t dev, ino_t ino, bool want_proc,
                  bool *ret_running, hook_error_t *err)
{
        _cleanup_close_ int root = -EBADF, top = -EBADF, proc = -EBADF;
        struct init_scan s = { .rootfs = rootfs, .rootfs_len = strlen(rootfs) };
        struct statfs sfs;
        char path[64];
        struct stat st;
        int r;

        *ret_running = false;
        (void)snprintf(path, sizeof(path), "/proc/%d/root", (int)t->pid);
        if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
                /* already pivoted into the rootfs: a re-run (runc restore) */
                *ret_running = true;
                return alive(t, err);
        }
        /* Through the process's root the walk sees its mount namespace:
         * the rootfs must be a mount there, with procfs mounted on its
         * /proc, as runtimes make them.  A host process with a namespace
         * of its own (PrivateTmp=) has neither.  No mount table is read
         * when that shows them: the cost does not grow with the node's
         * mounts. */
        root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return hook_error_set(err, errno, "container process %d: %s: %s", (int)t->pid, path,
                                      strerror(errno));
        top = rootfs[1] ? open_beneath(root, rootfs + 1) : -EBADF;
        s.root_mount = top >= 0 && fs_is_mount_root(top, "");
        proc = top >= 0 ? open_beneath(top, "proc") : -EBADF;
        s.proc_mount = proc >= 0 && fs_is_mount_root(proc, "") && fstatfs(proc, &sfs) == 0 &&
                       sfs.f_type == PROC_SUPER_MAGIC;
        if (!s.root_mount || (want_proc && !s.proc_mount)) {
                /* not visible that way (stacked mounts): the namespace's
                 * mount table has the last word */
                (void)snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)t->pid);
                if ((r = mountinfo_foreach_path(path, init_scan_cb, &s, err)) < 0)
                        return hook_error_prefix(err, "container process %d", (int)t->pid);
        }
        if ((r = alive(t, err)) < 0)
                return r;
        if (!s.root_mount || (want_proc && !s.proc_mount))
                return hook_error_set(err, EPERM,
                                      "process %d is not the container's init: its mount namespace has no %s at "
                                      "`%.200s` as the runtime makes it; refusing to touch it",
                                      (int)t->pid, !s.root_mount ? "rootfs mount" : "procfs", rootfs);
        return 0;
}
