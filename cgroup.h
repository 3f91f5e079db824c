/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_CGROUP_H
#define OSH_CGROUP_H

#include <sys/types.h>

#include "util.h"

enum cg_host_mode {
        CG_HOST_UNKNOWN = 0,
        CG_HOST_V1,        /* legacy: v1 hierarchies only */
        CG_HOST_HYBRID,    /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
        CG_HOST_V2,        /* cgroup2 at /sys/fs/cgroup */
};

enum cg_action {
        CG_ACT_NONE = 0,
        CG_ACT_UNIFIED,    /* bind the container's own cgroup2 dir at /sys/fs/cgroup */
        CG_ACT_V1_NAMED,   /* bind its own name=systemd dir rw at /sys/fs/cgroup/systemd */
};

/* What /proc/PID/cgroup says (as seen from the hook's cgroup namespace). */
struct cg_membership {
        char *unified;     /* "0::" path, NULL when absent */
        char *named;       /* name=systemd path, NULL when absent */
};

/* Where the hierarchies are mounted in the hook's mount namespace. */
struct cg_mounts {
        char *unified_target, *unified_root;
        char *named_target, *named_root;
};

const char *cg_host_mode_name(enum cg_host_mode m);
const char *cg_action_name(enum cg_action a);

/* Pure parsers (unit-tested). */
int cg_parse_membership(const char *proc_cgroup, struct cg_membership *ret, hook_error_t *err);
int cg_parse_mounts(const char *mountinfo, struct cg_mounts *ret, hook_error_t *err);
enum cg_host_mode cg_mode_from_mounts(const struct cg_mounts *m, bool unified_at_sys_fs_cgroup);
void cg_membership_done(struct cg_membership *m);
void cg_mounts_done(struct cg_mounts *m);

/* Path of the cgroup relative to the hierarchy's mount (no leading '/'),
 * or an error when it is the root, has "..", or lies outside the mount. */
int cg_relative_path(const char *cgpath, const char *mount_root, char **ret, hook_error_t *err);

/* Host side, before entering the container: the host's mode as seen by
 * the hook (statfs of /sys/fs/cgroup). */
enum cg_host_mode cg_detect_host_mode(void);

/* Host side: open the container's own cgroup directory for ACTION
 * (O_PATH|O_DIRECTORY fd, opened beneath the hierarchy's mount, no
 * symlinks, no mount crossing).  May downgrade *action from UNIFIED to
 * V1_NAMED when the process is not in a unified cgroup of its own. */
int cg_open_own(pid_t pid, enum cg_action *action, int *ret_fd, char **ret_path, hook_error_t *err);

/* The files a delegatee may write (cgroup-v2.rst "Model of Delegation"). */
bool cg_delegated_file(const char *name);

/* The cgroup DIRFD (shown as PATH) holds no process but PID: a cgroup
 * shared with host processes is never delegated. */
int cg_check_alone(int dirfd, pid_t pid, const char *path, hook_error_t *err);

#endif
