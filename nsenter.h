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
        int ownns;                  /* the hook's own mount namespace */
        ino_t ino, own_ino;
        dev_t dev, own_dev;
};

void ns_target_init(struct ns_target *t);
void ns_target_done(struct ns_target *t);

/* Refuses a dead pid and a pid whose mount namespace is the hook's own (a
 * reused pid, or a runtime without a mount namespace): the hook must never
 * mount on the host. */
int ns_open_target(pid_t pid, struct ns_target *t, hook_error_t *err);

/* Proves, before anything is touched, that the pinned process is the
 * container's init: either it already runs in the rootfs (DEV/INO: a
 * re-run after runc restore, *ret_running) or its mount namespace holds the
 * rootfs at ROOTFS as the runtime mounted it (a bind of it onto itself
 * and, WANT_PROC, procfs at ROOTFS/proc).  A process of the host that
 * merely has a mount namespace of its own has neither. */
int ns_check_init(const struct ns_target *t, const char *rootfs, dev_t dev, ino_t ino, bool want_proc,
                  bool *ret_running, hook_error_t *err);

/* Checks the process is still alive (so everything read from /proc/PID
 * since ns_open_target() was about it) and joins its mount namespace. */
int ns_join(struct ns_target *t, hook_error_t *err);

/* Back to the hook's own mount namespace (after ns_join). */
int ns_leave(struct ns_target *t, hook_error_t *err);

/* True when PID exists. */
bool ns_pid_alive(pid_t pid);

#endif
