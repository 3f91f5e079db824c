/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_MOUNTS_H
#define OSH_MOUNTS_H

#include "plan.h"

/* What the executor needs from the host side, gathered before setns. */
struct apply_ctx {
        const struct plan *plan;
        const char *rootfs_path;    /* as the runtime mounted it */
        dev_t rootfs_dev;           /* host view of the rootfs, to verify */
        ino_t rootfs_ino;
        enum cg_action cgroup;      /* may differ from plan->cgroup after probing */
        int cg_dirfd;               /* own cgroup dir, on the host */
        int cg_clone;               /* detached open_tree() clone of it */
        char *cg_path;
};

void apply_ctx_init(struct apply_ctx *ctx, const struct plan *p);
void apply_ctx_done(struct apply_ctx *ctx);

/* Host side: open the container's own cgroup and clone it (open_tree
 * needs the source in the caller's mount namespace). */
int mounts_prepare_host(struct apply_ctx *ctx, pid_t pid, hook_error_t *err);

/* In the container's mount namespace, before pivot_root: carry out the
 * plan.  Idempotent: what is already in place (second registration, runc
 * restore after criu put the mounts back) is left alone. */
int mounts_apply(struct apply_ctx *ctx, hook_error_t *err);

#endif
