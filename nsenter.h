/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_NSENTER_H
#define OSH_NSENTER_H

#include <sys/stat.h>
#include <sys/types.h>

#include "util.h"

/* The container's mount namespace, pinned before anything else reads
 * /proc/PID: a pidfd (so a recycled pid is noticed), the namespace fd,
 * and our own /proc/self/ns directory (to verify the join even where the
 * joined namespace has a /proc in which the hook is invisible). */
struct ns_target {
        pid_t pid;
        int pidfd, nsfd, selfns;
        ino_t ino;
        dev_t dev;
};

void ns_target_init(struct ns_target *t);
void ns_target_done(struct ns_target *t);

/* Refuses a dead pid and a pid whose mount namespace is the hook's own (a
 * reused pid, or a runtime without a mount namespace): the hook must never
 * mount on the host. */
int ns_open_target(pid_t pid, struct ns_target *t, hook_error_t *err);

/* Checks the process is still alive (so everything read from /proc/PID
 * since ns_open_target() was about it) and joins its mount namespace. */
int ns_join(struct ns_target *t, hook_error_t *err);

/* True when PID exists. */
bool ns_pid_alive(pid_t pid);

#endif
