/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_SPEC_H
#define OSH_SPEC_H

#include <sys/types.h>

#include "json.h"

#define STATE_MAX_BYTES (1u << 20)        /* 1 MiB */
#define CONFIG_MAX_BYTES (16u << 20)      /* 16 MiB */

struct kv {
        const char *key;
        const char *value;
};

/* The OCI state on stdin (runtime-spec runtime.md "State"). Strings point
 * into the owned JSON tree. */
struct oci_state {
        yajl_val tree;
        const char *oci_version;
        const char *id;
        const char *status;
        const char *bundle;
        pid_t pid;                /* 0 when absent (poststop may omit it) */
        struct kv *annotations;
        size_t n_annotations;
};

struct oci_mount {
        const char *destination;
        const char *type;
        const char *source;
        bool readonly;            /* options: the last of ro/rw is ro */
};

struct id_map {
        unsigned long container_id, host_id, size;
};

struct oci_config {
        yajl_val tree;
        const char **args;
        size_t n_args;
        const char **env;
        size_t n_env;
        const char *root_path;
        bool root_readonly;
        bool terminal;            /* process.terminal */
        struct oci_mount *mounts;
        size_t n_mounts;
        struct kv *annotations;
        size_t n_annotations;
        const char *cgroups_path;
        const char *mount_label;
        bool has_userns, has_cgroupns, has_mntns, has_netns;
        struct id_map *uid_maps, *gid_maps;
        size_t n_uid_maps, n_gid_maps;
};

enum hook_stage {
        STAGE_UNKNOWN = 0,
        STAGE_PRESTART,
        STAGE_CREATE_RUNTIME,
        STAGE_POSTSTOP,
        STAGE_IGNORED,          /* createContainer, startContainer, poststart */
};

int spec_parse_state(const char *buf, size_t len, struct oci_state *ret, hook_error_t *err);
int spec_parse_config(const char *buf, size_t len, struct oci_config *ret, hook_error_t *err);
void spec_state_done(struct oci_state *s);
void spec_config_done(struct oci_config *c);

/* Stage from argv (any argument that names a stage wins; argv[0] is the
 * binary) or else from state.status. */
enum hook_stage spec_stage(int argc, char *const argv[], const char *status);
const char *spec_stage_name(enum hook_stage s);
enum hook_stage spec_stage_from_name(const char *name);

const char *spec_annotation(const struct kv *a, size_t n, const char *key);
/* Looks up NAME in a KEY=VALUE environment; *ret_count says how many
 * entries define it (a repeated variable is ambiguous). */
const char *spec_env_get(const char *const *env, size_t n, const char *name, size_t *ret_count);

/* Maps container uid/gid 0 to the host; returns false without a mapping. */
bool spec_host_root(const struct oci_config *c, uid_t *ret_uid, gid_t *ret_gid);

/* CAP is named in the capability set SET (a JSON array). */
bool spec_cap_listed(yajl_val set, const char *cap);
/* PID 1 has CAP: it is in process.capabilities' bounding, effective and
 * permitted sets (a missing set is empty, as runc and crun read it), or
 * there is no process.capabilities (the runtime drops nothing). */
bool spec_cap_granted(const struct oci_config *c, const char *cap);

/* Rootfs path as the runtime uses it: root.path, relative to the bundle. */
char *spec_rootfs_path(const struct oci_config *c, const char *bundle);
/* The same with symlinks resolved, as the runtime mounts it. */
char *spec_rootfs_real_path(const struct oci_config *c, const char *bundle);

#endif
