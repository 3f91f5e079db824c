/* SPDX-License-Identifier: GPL-2.0-or-later */
/* idmap-rootfs PATH PID: in PID's mount namespace, stack a recursive clone
 * of the mount at PATH on PATH, its top idmapped (disk uid/gid 0..65535
 * shown as 100000..165535): what an engine that idmaps a container's
 * rootfs does.  For test-boundary.sh (idmap-rootfs): run as a
 * createRuntime hook before the hook under test. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <linux/mount.h>
/* A user namespace mapping 0..65535 to 100000..: a child unshares one and
 * waits; we write its maps, keep a descriptor of it, and end the child. */
static int userns_fd(void)
{
        int ready[2], fd = -1;
        char path[64], x;
        const char *map = "0 100000 65536";
        pid_t c;

        if (pipe(ready) < 0)
                return -1;
        c = fork();
        if (c == 0) {
                close(ready[0]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(1);
                (void)!write(ready[1], "u", 1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        if (c < 0 || read(ready[0], &x, 1) != 1)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)c);
        if ((fd = open(path, O_WRONLY)) < 0 || write(fd, map, strlen(map)) < 0)
                perror("uid_map");
        close(fd);
        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)c);
        if ((fd = open(path, O_WRONLY)) >= 0) {
                (void)!write(fd, "deny", 4);
                close(fd);
        }
        snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)c);
        if ((fd = open(path, O_WRONLY)) < 0 || write(fd, map, strlen(map)) < 0)
                perror("gid_map");
        close(fd);
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        return fd;
}

int main(int argc, char **argv) {
        int us = userns_fd();
        if (us < 0) { perror("userns"); return 1; }
        if (argc < 3) {
                fprintf(stderr, "usage: idmap-rootfs PATH PID\n");
                return 2;
        }
        char p[64];
        snprintf(p, sizeof(p), "/proc/%s/ns/mnt", argv[2]);
        int ns = open(p, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
                perror("setns");
                return 1;
        }
        int t = syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (t < 0) { perror("open_tree"); return 1; }
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = us };
        if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof a)) { perror("mount_setattr idmap"); return 1; }
        if (syscall(SYS_move_mount, t, "", AT_FDCWD, argv[1], MOVE_MOUNT_F_EMPTY_PATH)) { perror("move_mount"); return 1; }
        return 0;
}
