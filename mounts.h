/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_MOUNTS_H
#define OSH_MOUNTS_H

#include <stdatomic.h>
#include <sys/types.h>

#include "fsutil.h"
#include "job.h"
#include "plan.h"

#define APPLY_MAX_WARNINGS 8

/* What the executor knows and holds across its phases.  The order
 * (hook.c apply()):
 *   mounts_start_fill()    the worker (job.h) makes /run's tmpfs and fills
 *                          it, still detached, from the image's /run as the
 *                          host sees it (reading the image, as detection
 *                          does); mounts_apply() takes the copy only for the
 *                          very directory it then mounts on
 *   ns_check_init()        host: the pid is the container's init
 *   mounts_open_rootfs()   in the container's mount namespace: the rootfs
 *                          there is the bundle's; whether an earlier run
 *                          did everything already
 *   mounts_check()         the rootfs's propagation, what the runtime
 *                          mounted below it
 *   mounts_start_stage()   the worker then stages /etc/machine-id
 *   mounts_prepare_host()  host: the container's cgroup (nothing changed
 *                          yet but an empty "payload" child)
 *   mounts_apply()         in the container's namespace: every change,
 *                          the filled /run attached, the machine-id
 *                          committed last
 * A failure anywhere leaves nothing behind: what mounts_apply() did is
 * undone there, apply_ctx_done() cancels and waits for the jobs, drops a
 * detached /run, unstages the machine-id and removes the payload cgroup
 * unless mounts_apply() succeeded. */
/* Every tmpfs of the plan made (detached, empty) on the worker while the
 * plan's checks run: creating a superblock touches nothing, and the
 * worker is idle until the rootfs is open.  A slot left -EBADF (a failure)
 * is made again where it is needed, which then reports the error. */
struct premade_job {
        struct job job;
        const struct plan *plan;
        int mfd[PLAN_MAX_TMPFS];
};

void mounts_premake(struct premade_job *pm, const struct plan *p);
void mounts_premade_done(struct premade_job *pm);

struct apply_ctx;
struct mid_job {
        struct job job;
        struct apply_ctx *ctx;
        struct fs_boundary boundary;    /* the rootfs's mount */
        int etc;                        /* /etc, while a machine-id is staged */
        char tmp[NAME_MAX + 1];
        struct timespec times[2];       /* /etc's before */
};

struct fill_job {
        struct job job;
        const struct plan *plan;
        const struct plan_tmpfs *tmpfs;   /* the plan's entry for /run */
        int src;                          /* the image's /run, the host's view */
        dev_t dev;                        /* ... its inode: what mounts_apply()'s */
        ino_t ino;                        /* target must be to take the copy */
        int mfd;                          /* the filled tmpfs, detached */
        struct premade_job *premade;      /* where its tmpfs may be waiting */
        atomic_bool cancel;               /* not needed (done, restored, failed) */
};

struct apply_ctx {
        const struct plan *plan;
        pid_t pid;
        const char *rootfs_path;    /* as the runtime mounted it */
        dev_t rootfs_dev;           /* host view of the rootfs, to verify */
        ino_t rootfs_ino;
        bool running;               /* already pivoted (runc restore) */
        bool done;                  /* an earlier registration did it all */
        bool committed;             /* mounts_apply() succeeded */
        int rootfd;                 /* the rootfs in the container's namespace */
        struct fs_boundary boundary;
        /* the container's namespace as mounts_check() found it */
        uint64_t *shared;           /* ids of mounts with shared propagation */
        size_t n_shared;
        char **sub;                 /* mount points below the rootfs, relative */
        size_t n_sub;
        uint64_t run_mnt_id;        /* the mount on top of ROOTFS/run */
        bool run_whole_rw;          /* ... is a whole tmpfs, mounted rw */
        enum cg_action cgroup;      /* may differ from plan->cgroup after probing */
        int cg_dirfd;               /* the container's cgroup, on the host */
        int cg_payload;             /* unified: its child the container runs in */
        bool cg_payload_made, cg_moved;
        int cg_clone;               /* detached clone of cg_dirfd (unified: read-only) */
        int cg_payload_clone;       /* detached read-write clone of cg_payload */
        char *cg_path;
        char cg_caps_old[2][32];    /* max.descendants, max.depth before the hook */
        uint64_t proc_mnt_id;       /* procfs at ROOTFS/proc */
        uint64_t proc_sys_mnt_id;   /* our read-only bind of its /proc/sys (privileged) */
        char *os_release;           /* the host's, to copy to /run/host */
        char *boot_id;              /* a fresh uuid, "...\n" */
        const char *logs_to;        /* journald's TTYPath, NULL: no forwarding */
        int logs_clone;             /* detached clone of PID 1's stdout FIFO */
        const char *journal_root;   /* --journal-root */
        int journal_root_fd;        /* ... opened, when the journal is linked */
        bool journal_made;          /* JOURNAL_ROOT/MACHINE-ID created by us */
        int journal_clone;          /* detached clone of JOURNAL_ROOT/MACHINE-ID */
        struct premade_job *premade; /* NULL: none */
        struct fill_job fill;       /* fill.job.started: /run is being filled */
        struct mid_job mid;         /* /etc/machine-id, staged */
        char warnings[APPLY_MAX_WARNINGS][256];
        size_t n_warnings;
};

#define CG_PAYLOAD "payload"

void apply_ctx_init(struct apply_ctx *ctx, const struct plan *p);
void apply_ctx_done(struct apply_ctx *ctx);

int mounts_check(struct apply_ctx *ctx, hook_error_t *err);
int mounts_open_rootfs(struct apply_ctx *ctx, hook_error_t *err);
void mounts_start_fill(struct apply_ctx *ctx, int host_rootfd);
/* Nothing to mount after all (restored, done already): the fill stops. */
void mounts_cancel_fill(struct apply_ctx *ctx);
void mounts_start_stage(struct apply_ctx *ctx);
int mounts_prepare_host(struct apply_ctx *ctx, hook_error_t *err);
int mounts_apply(struct apply_ctx *ctx, hook_error_t *err);

#endif
