/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "fsutil.h"
#include "plan.h"

/* The tmpfs mounts systemd needs in a container (systemd's
 * CONTAINER_INTERFACE.md: /run and /tmp are expected to be tmpfs; podman's
 * systemd mode mounts the same four).  Sizes are caps, not reservations:
 * tmpfs only uses what is written, charged to the container's memory
 * cgroup.  /run and /run/lock follow systemd's own defaults
 * (mount-setup.c: /run 20%, 800k inodes... we keep /run smaller, and
 * /run/lock 5M as tmpfiles' Debian default). */
static const struct plan_tmpfs default_tmpfs[] = {
        { "/run", "0755", "20%", "400k", false, NULL, true },
        { "/run/lock", "1777", "5242880", "4k", false, NULL, true },
        { "/tmp", "1777", "50%", "1m", false, NULL, true },
        { "/var/log/journal", "2755", "10%", "4k", false, NULL, true },
};

/* Read-only rootfs: systemd-logind (StateDirectory=systemd/linger) and
 * friends need /var/lib/systemd writable; podman --read-only ends
 * "degraded" for lack of it.  A tmpfs keeping the image's content. */
static const struct plan_tmpfs readonly_tmpfs = { "/var/lib/systemd", "0755", "64m", "16k", false, NULL, true };

static void warn(struct plan *p, const char *fmt, ...) _printf_(2, 3);
static void warn(struct plan *p, const char *fmt, ...)
{
        va_list ap;

        if (p->n_warnings >= PLAN_MAX_WARNINGS)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(p->warnbuf[p->n_warnings], sizeof(p->warnbuf[0]), fmt, ap);
        va_end(ap);
        p->warnings[p->n_warnings] = p->warnbuf[p->n_warnings];
        p->n_warnings++;
}

/* The spec's (last) mount at DEST, or NULL. */
static const struct oci_mount *spec_mount(const struct oci_config *c, const char *dest)
{
        const struct oci_mount *m = NULL;
        size_t i;

        for (i = 0; i < c->n_mounts; i++) {
                _cleanup_free_ char *clean = path_clean(c->mounts[i].destination);
                if (streq(clean, dest))
                        m = &c->mounts[i];
        }
        return m;
}

static bool spec_mounts(const struct oci_config *c, const char *dest)
{
        return spec_mount(c, dest) != NULL;
}

static bool spec_mounts_tmpfs(const struct oci_config *c, const char *dest)
{
        const struct oci_mount *m = spec_mount(c, dest);
        return m && m->type && streq(m->type, "tmpfs");
}

static void plan_tmpfs(const struct oci_config *c, struct plan *p)
{
        size_t i, n = ELEMENTSOF(default_tmpfs) + (c->root_readonly ? 1 : 0);

        for (i = 0; i < n; i++) {
                struct plan_tmpfs *t = &p->tmpfs[p->n_tmpfs++];

                *t = i < ELEMENTSOF(default_tmpfs) ? default_tmpfs[i] : readonly_tmpfs;
                if (spec_mounts(c, t->destination)) {
                        t->skip = true;
                        t->skip_reason = "the spec mounts it (the user's choice wins)";
                } else if (streq(t->destination, "/run/lock") && p->tmpfs[0].skip && !spec_mounts_tmpfs(c, "/run")) {
                        t->skip = true;
                        t->skip_reason = "the spec mounts /run (not writing into a user volume)";
                }
        }
}

static void plan_machine_id(const struct plan_input *in, struct plan *p)
{
        const struct oci_config *c = in->config;
        size_t count = 0;
        const char *uuid = spec_env_get(c->env, c->n_env, "container_uuid", &count);

        if (uuid && count == 1 && machine_id_normalise(uuid, p->machine_id)) {
                p->mid_source = MID_FROM_UUID;
        } else {
                if (uuid)
                        warn(p, "%s: deriving the machine-id from the container id",
                             count > 1 ? "container_uuid is set more than once" : "container_uuid is not 32 hex digits or a UUID");
                machine_id_from_container_id(in->id, p->machine_id);
                p->mid_source = MID_FROM_ID;
        }
        if (spec_mounts(c, "/etc/machine-id")) {
                p->mid_method = MID_SKIP;
                p->mid_skip_reason = "the spec mounts /etc/machine-id";
        } else if (!c->root_readonly) {
                /* In place: a bind mount on a writable /etc makes
                 * systemd-machine-id-commit.service fail (FIELD-NOTES). */
                p->mid_method = MID_WRITE;
        } else if (p->tmpfs[0].skip && !spec_mounts_tmpfs(c, "/run")) {
                p->mid_method = MID_SKIP;
                p->mid_skip_reason = "read-only rootfs and the spec mounts /run";
        } else {
                p->mid_method = MID_BIND_FROM_RUN;
        }
}

static void plan_cgroup(const struct plan_input *in, struct plan *p)
{
        const char *a = spec_annotation(in->config->annotations, in->config->n_annotations, ANNOTATION_CGROUP);

        if (!a)
                a = spec_annotation(in->state_annotations, in->n_state_annotations, ANNOTATION_CGROUP);
        if (a && streq(a, "none")) {
                p->cgroup = CG_ACT_NONE;
                return;
        }
        if (a && streq(a, "v1")) {
                p->cgroup = CG_ACT_V1_NAMED;
                return;
        }
        if (a && !streq(a, "unified") && !streq(a, "auto"))
                warn(p, "ignoring the annotation " ANNOTATION_CGROUP " `%.64s` (none, v1, unified or auto)", a);
        /* On a hybrid host the container also has a unified cgroup of its
         * own: binding it at /sys/fs/cgroup gives systemd a pure cgroup2
         * view, which every systemd boots with, including >= 258 that
         * refuses v1. */
        switch (in->host_cgroup) {
        case CG_HOST_V1:
                p->cgroup = CG_ACT_V1_NAMED;
                break;
        default:
                p->cgroup = CG_ACT_UNIFIED;
                break;
        }
}

/* The capabilities systemd (252) as PID 1 needs beyond the three `runc
 * spec` grants (measured: tests/e2e/test-runc-spec.sh boots with each one
 * left out of podman's default set, which has all three).  Without
 * CAP_SETPCAP journald and logind fail with 218/CAPABILITIES (they drop
 * from the bounding set); without CAP_SETUID or CAP_SETGID dbus fails. */
static const char *const systemd_caps[] = { "CAP_SETPCAP", "CAP_SETUID", "CAP_SETGID" };

static bool cap_listed(yajl_val set, const char *cap)
{
        size_t i;

        if (!set || set->type != yajl_t_array)
                return false;
        for (i = 0; i < set->u.array.len; i++)
                if (set->u.array.values[i]->type == yajl_t_string && streq(set->u.array.values[i]->u.string, cap))
                        return true;
        return false;
}

/* A warning when process.capabilities leaves PID 1 without what systemd
 * needs.  No process.capabilities: the runtime drops nothing.  A set
 * missing from it is empty (runc, crun). */
static void plan_capabilities(const struct oci_config *c, struct plan *p)
{
        static const char *const sets[] = { "bounding", "effective", "permitted" };
        yajl_val caps = json_obj_get(json_obj_get(c->tree, "process"), "capabilities");
        char missing[64] = "", where[40] = "";
        size_t i, j;

        if (!caps || caps->type != yajl_t_object)
                return;
        for (i = 0; i < ELEMENTSOF(systemd_caps); i++)
                for (j = 0; j < ELEMENTSOF(sets); j++)
                        if (!cap_listed(json_obj_get(caps, sets[j]), systemd_caps[i])) {
                                strcat(strcat(missing, missing[0] ? " " : ""), systemd_caps[i]);
                                break;
                        }
        if (!missing[0])
                return;
        for (j = 0; j < ELEMENTSOF(sets); j++)
                for (i = 0; i < ELEMENTSOF(systemd_caps); i++)
                        if (!cap_listed(json_obj_get(caps, sets[j]), systemd_caps[i])) {
                                strcat(strcat(where, where[0] ? ", " : ""), sets[j]);
                                break;
                        }
        warn(p, "process.capabilities (%s) lacks %s: systemd needs CAP_SETPCAP (journald, logind: "
                "218/CAPABILITIES), CAP_SETUID, CAP_SETGID (dbus)", where, missing);
}

int plan_build(const struct plan_input *in, struct plan *ret, hook_error_t *err)
{
        const struct oci_config *c = in->config;

        (void)err;
        memset(ret, 0, sizeof(*ret));
        detect_systemd(c, in->state_annotations, in->n_state_annotations, in->rootfd, &ret->detect);
        if (ret->detect.warning[0])
                warn(ret, "%s", ret->detect.warning);
        if (!ret->detect.systemd)
                return 0;
        plan_tmpfs(c, ret);
        plan_machine_id(in, ret);
        /* A tmpfs /run of the spec's own (containerd's default spec has
         * one) is as good as ours for /run/host and /run/machine-id. */
        ret->spec_run_tmpfs = ret->tmpfs[0].skip && spec_mounts_tmpfs(c, "/run");
        ret->run_host = !ret->tmpfs[0].skip || ret->spec_run_tmpfs;
        plan_cgroup(in, ret);
        ret->userns = spec_host_root(c, &ret->uid, &ret->gid);
        if (c->has_userns && !ret->userns)
                warn(ret, "%s", "user namespace without a mapping for root: leaving ownership alone");
        if (c->mount_label && c->mount_label[0] && in->selinux_enabled)
                ret->mount_label = c->mount_label;
        else if (c->mount_label && c->mount_label[0])
                warn(ret, "SELinux is disabled on this host: not labelling with `%.100s`", c->mount_label);
        if (!c->has_cgroupns && ret->cgroup != CG_ACT_NONE)
                warn(ret, "%s", "no cgroup namespace: systemd will see its full host cgroup path");
        plan_capabilities(c, ret);
        return 0;
}

bool plan_has_work(const struct plan *p)
{
        return p->detect.systemd;
}

void plan_dump(const struct plan *p, FILE *f)
{
        size_t i;

        fprintf(f, "systemd: %s\nreason: %s\n", p->detect.systemd ? "yes" : "no", p->detect.reason);
        for (i = 0; i < p->n_warnings; i++)
                fprintf(f, "warning: %s\n", p->warnings[i]);
        if (!p->detect.systemd) {
                fprintf(f, "plan: nothing to do\n");
                return;
        }
        fprintf(f, "plan:\n");
        for (i = 0; i < p->n_tmpfs; i++) {
                const struct plan_tmpfs *t = &p->tmpfs[i];
                if (t->skip)
                        fprintf(f, "  skip tmpfs %s: %s\n", t->destination, t->skip_reason);
                else
                        fprintf(f, "  tmpfs %s mode=%s,size=%s,nr_inodes=%s,nosuid,nodev%s%s\n", t->destination,
                                t->mode, t->size, t->nr_inodes, p->mount_label ? ",context=" : "",
                                p->mount_label ? p->mount_label : "");
        }
        fprintf(f, "  copy-up: the image's content under each new tmpfs is copied into it\n");
        if (p->mid_method == MID_SKIP)
                fprintf(f, "  skip machine-id: %s\n", p->mid_skip_reason);
        else
                fprintf(f, "  machine-id %s (from %s), %s\n", p->machine_id,
                        p->mid_source == MID_FROM_UUID ? "container_uuid" : "the container id",
                        p->mid_method == MID_WRITE ? "written to /etc/machine-id"
                                                   : "bind-mounted from /run/machine-id (read-only rootfs)");
        if (p->run_host)
                fprintf(f, "  /run/host/container-manager = oci-systemd-hook, /run/host/container-uuid\n");
        fprintf(f, "  cgroup: %s\n", cg_action_name(p->cgroup));
        if (p->userns)
                fprintf(f, "  user namespace: owner %u:%u for the tmpfs mounts, machine-id and cgroup\n",
                        (unsigned)p->uid, (unsigned)p->gid);
}
