/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_PLAN_H
#define OSH_PLAN_H

#include <stdio.h>

#include "cgroup.h"
#include "copyup.h"
#include "detect.h"
#include "machineid.h"
#include "spec.h"

#define PLAN_MAX_TMPFS 8
#define PLAN_MAX_WARNINGS 8
#define ANNOTATION_CGROUP "oci-systemd-hook.cgroup"

struct plan_tmpfs {
        const char *destination;
        const char *mode;          /* octal string for fsconfig */
        const char *size;          /* tmpfs size= */
        const char *nr_inodes;
        bool skip;
        const char *skip_reason;
        bool copyup;               /* copy the image's content in first */
};

enum mid_source { MID_FROM_UUID, MID_FROM_ID };

/* What is at /run when systemd starts. */
enum run_source {
        RUN_OURS,           /* our tmpfs */
        RUN_SPEC_TMPFS,     /* a fresh tmpfs the spec mounts (podman/docker --tmpfs /run) */
        RUN_VOLUME_TMPFS,   /* a volume that is a tmpfs of the container's own
                             * (Kubernetes emptyDir medium: Memory, or the
                             * annotation): prepared inside, checked at start */
        RUN_VOLUME,         /* any other volume: refused, systemd would die */
};
#define ANNOTATION_RUN_VOLUME "oci-systemd-hook.run-volume"
/* Feature switches: an annotation, or the container's environment (Docker
 * passes no annotations), named oci-systemd-hook.FEATURE. */
#define FEATURE_PREFIX "oci-systemd-hook."
#define CG_MAX_DESCENDANTS_DEFAULT 250      /* as Kubernetes KEP-5474 */
#define CG_MAX_DEPTH_DEFAULT 50
enum mid_method { MID_SKIP, MID_WRITE, MID_BIND_FROM_RUN };

struct plan {
        struct detect_result detect;
        struct plan_tmpfs tmpfs[PLAN_MAX_TMPFS];
        size_t n_tmpfs;
        char machine_id[MACHINE_ID_LEN + 1];
        enum mid_source mid_source;
        enum mid_method mid_method;
        const char *mid_skip_reason;
        bool run_host;              /* write /run/host/container-{manager,uuid} */
        enum run_source run;
        const char *run_source;     /* the volume's source (RUN_VOLUME*) */
        bool spec_run_tmpfs;        /* /run is the spec's (RUN_SPEC_TMPFS, RUN_VOLUME_TMPFS) */
        bool spec_proc;             /* the spec mounts procfs at /proc */
        struct copy_reader reader;  /* who reads what copy-up copies */
        enum cg_action cgroup;
        /* CONTAINER_INTERFACE extras, each switchable (plan_feature) */
        bool os_release;            /* /run/host/os-release, the host's, read-only */
        bool boot_id;               /* a fresh boot ID over /proc/sys/kernel/random/boot_id */
        bool logs;                  /* journald forwards to PID 1's stdout (the engine's log) */
        bool link_journal;          /* the journal persists on the host (--journal-root) */
        bool terminal;              /* ... which is a terminal: /dev/console */
        unsigned long cg_max_descendants, cg_max_depth;   /* caps on the runtime's cgroup; 0: off */
        bool cg_payload;            /* unified: run in a payload child (needs a cgroup namespace) */
        /* Privileged containers (CAP_SYS_ADMIN with a writable /sys or the
         * host's VT devices): what would let the container's systemd act
         * on the host by accident (udev triggering the host's devices,
         * systemd-sysctl, gettys on the host's VTs) is taken away. */
        bool privileged;
        bool readonly_sys;          /* /sys read-only but for its cgroup mounts; /proc/sys too */
        bool netns;                 /* ... /proc/sys/net stays writable: the container's own */
        bool hide_ttys;             /* the host's VT, vcs and console nodes removed from /dev */
        bool spec_dev_tmpfs;        /* ... which is the spec's fresh tmpfs */
        const char *host_vt;        /* a host VT node the spec gives, for the warning */
        bool userns;                /* chown what we create to the mapped root */
        uid_t uid;
        gid_t gid;
        const char *mount_label;    /* tmpfs context=, NULL when none */
        char refuse[512];           /* set: the hook must refuse, this is why */
        const char *warnings[PLAN_MAX_WARNINGS];
        char warnbuf[PLAN_MAX_WARNINGS][200];
        size_t n_warnings;
};

struct plan_input {
        const struct oci_config *config;
        const char *id;
        const struct kv *state_annotations;
        size_t n_state_annotations;
        enum cg_host_mode host_cgroup;
        int rootfd;                 /* for detection; -1: by name only */
        bool selinux_enabled;       /* labels are validated by the caller */
};

/* Pure: from the inputs to the plan.  Never touches the filesystem except
 * reading the rootfs through in->rootfd for detection. */
int plan_build(const struct plan_input *in, struct plan *ret, hook_error_t *err);
bool plan_has_work(const struct plan *p);
bool plan_host_vt_node(unsigned major, unsigned minor);
void plan_dump(const struct plan *p, FILE *f);

#endif
