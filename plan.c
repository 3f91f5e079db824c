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

static bool spec_mounts_type(const struct oci_config *c, const char *dest, const char *type)
{
        const struct oci_mount *m = spec_mount(c, dest);
        return m && m->type && streq(m->type, type);
}

/* Kubelet mounts an emptyDir from the pod's volume directory; with
 * `medium: Memory` that is a tmpfs of the pod's own (checked at start). */
static bool kubelet_empty_dir(const char *source)
{
        return source && strstr(source, "/volumes/kubernetes.io~empty-dir/");
}

static void plan_run(const struct plan_input *in, struct plan *p)
{
        const struct oci_config *c = in->config;
        const struct oci_mount *m = spec_mount(c, "/run");
        const char *a = spec_annotation(c->annotations, c->n_annotations, ANNOTATION_RUN_VOLUME);

        if (!a)
                a = spec_annotation(in->state_annotations, in->n_state_annotations, ANNOTATION_RUN_VOLUME);
        if (a && !streq(a, "prepare") && !streq(a, "refuse"))
                warn(p, "ignoring the annotation " ANNOTATION_RUN_VOLUME " `%.64s` (prepare or refuse)", a);
        if (!m) {
                p->run = RUN_OURS;
        } else if (m->type && streq(m->type, "tmpfs")) {
                p->run = RUN_SPEC_TMPFS;
        } else {
                p->run_source = m->source ? m->source : "?";
                p->run = (a && streq(a, "prepare")) || (kubelet_empty_dir(m->source) && !(a && streq(a, "refuse")))
                                 ? RUN_VOLUME_TMPFS
                                 : RUN_VOLUME;
        }
        p->spec_run_tmpfs = p->run == RUN_SPEC_TMPFS || p->run == RUN_VOLUME_TMPFS;
        if (p->run == RUN_VOLUME)
                (void)snprintf(p->refuse, sizeof(p->refuse),
                               "a volume is mounted at /run (`%.100s`): systemd needs /run on a tmpfs of the "
                               "container's own and would exit at boot; mount a tmpfs there (--tmpfs /run, a mount of "
                               "type tmpfs, Kubernetes emptyDir medium: Memory) or, if that volume is a tmpfs of this "
                               "container's own, set the annotation " ANNOTATION_RUN_VOLUME "=prepare",
                               p->run_source);
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
                } else if (streq(t->destination, "/run/lock") && p->run == RUN_VOLUME) {
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
                /* explain knows no container id: nothing to print */
                if (in->id)
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
        } else if (!p->spec_run_tmpfs && p->run != RUN_OURS) {
                p->mid_method = MID_SKIP;
                p->mid_skip_reason = "read-only rootfs and the spec mounts /run";
        } else {
                p->mid_method = MID_BIND_FROM_RUN;
        }
}

/* FEATURE's setting: the config's annotation, the state's, then the
 * container's environment; NULL when none says anything. */
static const char *feature_value(const struct plan_input *in, const char *feature, char key[64])
{
        const struct oci_config *c = in->config;
        const char *v;

        (void)snprintf(key, 64, FEATURE_PREFIX "%s", feature);
        v = spec_annotation(c->annotations, c->n_annotations, key);
        if (!v)
                v = spec_annotation(in->state_annotations, in->n_state_annotations, key);
        if (!v)
                v = spec_env_get(c->env, c->n_env, key, NULL);
        return v;
}

static bool parse_switch(const char *v, bool *ret)
{
        static const char *const on[] = { "true", "on", "yes", "1", "enabled" },
                                 *const off[] = { "false", "off", "no", "0", "disabled" };
        size_t i;

        for (i = 0; i < ELEMENTSOF(on); i++)
                if (streq(v, on[i]) || streq(v, off[i])) {
                        *ret = streq(v, on[i]);
                        return true;
                }
        return false;
}

static bool plan_feature(const struct plan_input *in, struct plan *p, const char *feature, bool def)
{
        char key[64];
        const char *v = feature_value(in, feature, key);
        bool on = def;

        if (v && !parse_switch(v, &on))
                warn(p, "ignoring `%s`: `%.64s` is not true or false", key, v);
        return on;
}

/* A cgroup cap: a number, or off (0). */
static unsigned long plan_cap(const struct plan_input *in, struct plan *p, const char *feature, unsigned long def)
{
        char key[64], *end;
        const char *v = feature_value(in, feature, key);
        unsigned long n;
        bool on;

        if (!v)
                return def;
        if (parse_switch(v, &on))
                return on ? def : 0;
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || *end || end == v || n == 0 || n > 1000000) {
                warn(p, "ignoring `%s`: `%.64s` is not a number from 1 to 1000000, or off", key, v);
                return def;
        }
        return n;
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
                        if (!spec_cap_listed(json_obj_get(caps, sets[j]), systemd_caps[i])) {
                                strcat(strcat(missing, missing[0] ? " " : ""), systemd_caps[i]);
                                break;
                        }
        if (!missing[0])
                return;
        for (j = 0; j < ELEMENTSOF(sets); j++)
                for (i = 0; i < ELEMENTSOF(systemd_caps); i++)
                        if (!spec_cap_listed(json_obj_get(caps, sets[j]), systemd_caps[i])) {
                                strcat(strcat(where, where[0] ? ", " : ""), sets[j]);
                                break;
                        }
        warn(p, "process.capabilities (%s) lacks %s: systemd needs CAP_SETPCAP (journald, logind: "
                "218/CAPABILITIES), CAP_SETUID, CAP_SETGID (dbus)", where, missing);
}

/* A node of the host's virtual consoles: a getty on one runs on the
 * host's screen (systemd's getty@tty1 starts when /dev/tty0 exists), and
 * the vcs nodes read and write it.  /dev/console 5:1 is the host's
 * console, not the runtime's pty. */
bool plan_host_vt_node(unsigned major, unsigned minor)
{
        return (major == 4 && minor < 64) || major == 7 || (major == 5 && minor == 1);
}

static bool host_vt_device(yajl_val d, const char **ret_path)
{
        yajl_val path = json_obj_get(d, "path"), type = json_obj_get(d, "type"), major = json_obj_get(d, "major"),
                 minor = json_obj_get(d, "minor");

        if (!path || path->type != yajl_t_string || !type || type->type != yajl_t_string ||
            !streq(type->u.string, "c") || !major || !YAJL_IS_INTEGER(major) || !minor || !YAJL_IS_INTEGER(minor) ||
            major->u.number.i < 0 || minor->u.number.i < 0 || major->u.number.i > UINT32_MAX ||
            minor->u.number.i > UINT32_MAX)
                return false;
        if (!plan_host_vt_node((unsigned)major->u.number.i, (unsigned)minor->u.number.i))
                return false;
        *ret_path = path->u.string;
        return true;
}

/* Docker's and podman's --privileged: every capability, /sys and the
 * cgroups writable, every host device.  systemd there would run udev on
 * the host's devices (systemd-udevd runs when /sys is writable), apply
 * the image's sysctl.d to the host's kernel (systemd-sysctl, /proc/sys),
 * and start gettys on the host's VTs (systemd issue 37709).  Not a
 * security boundary: a privileged container can undo all of it. */
static void plan_privileged(const struct plan_input *in, struct plan *p)
{
        const struct oci_config *c = in->config;
        yajl_val caps = json_obj_get(json_obj_get(c->tree, "process"), "capabilities"),
                 devices = json_obj_get(json_obj_get(c->tree, "linux"), "devices");
        const struct oci_mount *sys = spec_mount(c, "/sys");
        bool admin = !caps || caps->type != yajl_t_object || spec_cap_listed(json_obj_get(caps, "bounding"), "CAP_SYS_ADMIN");
        bool sys_rw = sys && !sys->readonly;
        size_t i;

        for (i = 0; devices && devices->type == yajl_t_array && i < devices->u.array.len && !p->host_vt; i++)
                (void)host_vt_device(devices->u.array.values[i], &p->host_vt);
        p->privileged = admin && (sys_rw || p->host_vt);
        p->netns = c->has_netns;
        p->spec_dev_tmpfs = spec_mounts_type(c, "/dev", "tmpfs");
        p->readonly_sys = plan_feature(in, p, "readonly-sys", p->privileged && sys_rw);
        p->hide_ttys = plan_feature(in, p, "hide-host-ttys", p->privileged && p->host_vt);
        if (p->host_vt && !p->hide_ttys)
                warn(p, "linux.devices gives the host's console `%.64s`: systemd may start a getty on it; "
                        FEATURE_PREFIX "hide-host-ttys=true hides it", p->host_vt);
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
        plan_run(in, ret);
        plan_tmpfs(c, ret);
        plan_machine_id(in, ret);
        /* A tmpfs /run of the spec's own (containerd's default spec has
         * one) is as good as ours for /run/host and /run/machine-id. */
        ret->run_host = ret->run != RUN_VOLUME;
        plan_cgroup(in, ret);
        ret->os_release = ret->run_host && plan_feature(in, ret, "os-release", true);
        ret->boot_id = ret->run_host && plan_feature(in, ret, "boot-id", true);
        /* off by default, as nspawn and podman: journald then writes to
         * the engine's FIFO, and blocks when nobody reads it */
        ret->logs = ret->run_host && plan_feature(in, ret, "logs", false);
        ret->terminal = c->terminal;
        /* the one feature that writes on the host: opt-in */
        ret->link_journal = plan_feature(in, ret, "link-journal", false);
        if (ret->link_journal && ret->tmpfs[3].skip) {
                warn(ret, "%s", "oci-systemd-hook.link-journal: the spec mounts /var/log/journal; not linking");
                ret->link_journal = false;
        }
        /* Without a cgroup namespace systemd builds its tree at its host
         * path below /sys/fs/cgroup: the runtime's cgroup must be the
         * writable root there, its limit files covered one by one. */
        ret->cg_payload = ret->cgroup == CG_ACT_UNIFIED && c->has_cgroupns;
        if (ret->cgroup == CG_ACT_UNIFIED) {
                ret->cg_max_descendants = plan_cap(in, ret, "cgroup-max-descendants", CG_MAX_DESCENDANTS_DEFAULT);
                ret->cg_max_depth = plan_cap(in, ret, "cgroup-max-depth", CG_MAX_DEPTH_DEFAULT);
        }
        ret->userns = spec_host_root(c, &ret->uid, &ret->gid);
        ret->spec_proc = spec_mounts_type(c, "/proc", "proc");
        ret->reader = (struct copy_reader){
                .userns = ret->userns, .uid = ret->uid, .gid = ret->gid,
                .uid_maps = c->uid_maps, .n_uid_maps = c->n_uid_maps,
                .gid_maps = c->gid_maps, .n_gid_maps = c->n_gid_maps,
        };
        if (c->has_userns && !ret->userns)
                warn(ret, "%s", "user namespace without a mapping for root: leaving ownership alone");
        if (c->mount_label && c->mount_label[0] && in->selinux_enabled)
                ret->mount_label = c->mount_label;
        else if (c->mount_label && c->mount_label[0])
                warn(ret, "SELinux is disabled on this host: not labelling with `%.100s`", c->mount_label);
        if (!c->has_cgroupns && ret->cgroup != CG_ACT_NONE)
                warn(ret, "%s", "no cgroup namespace: systemd will see its full host cgroup path");
        plan_capabilities(c, ret);
        plan_privileged(in, ret);
        return 0;
}

bool plan_has_work(const struct plan *p)
{
        return p->detect.systemd;
}

static const char *num(unsigned long n, char buf[24])
{
        (void)snprintf(buf, 24, "%lu", n);
        return buf;
}

void plan_dump(const struct plan *p, FILE *f)
{
        char d1[24], d2[24];
        size_t i;

        fprintf(f, "systemd: %s\nreason: %s\n", p->detect.systemd ? "yes" : "no", p->detect.reason);
        for (i = 0; i < p->n_warnings; i++)
                fprintf(f, "warning: %s\n", p->warnings[i]);
        if (!p->detect.systemd) {
                fprintf(f, "plan: nothing to do\n");
                return;
        }
        if (p->refuse[0])
                fprintf(f, "refuse: %s\n", p->refuse);
        fprintf(f, "plan:\n");
        if (p->run == RUN_SPEC_TMPFS)
                fprintf(f, "  /run: the spec's own tmpfs, prepared inside\n");
        else if (p->run == RUN_VOLUME_TMPFS)
                fprintf(f, "  /run: the volume `%s` (checked at start to be a whole tmpfs, not shared), prepared "
                        "inside\n", p->run_source);
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
                fprintf(f, "  machine-id %s (from %s), %s\n", p->machine_id[0] ? p->machine_id : "<derived at start>",
                        p->mid_source == MID_FROM_UUID ? "container_uuid" : "the container id",
                        p->mid_method == MID_WRITE ? "written to /etc/machine-id"
                                                   : "bind-mounted from /run/machine-id (read-only rootfs)");
        if (p->run_host)
                fprintf(f, "  /run/host/container-manager = oci-systemd-hook, /run/host/container-uuid\n");
        fprintf(f, "  /run/host/os-release: %s\n", p->os_release ? "the host's, read-only" : "off");
        fprintf(f, "  boot ID: %s\n", p->boot_id ? "a fresh one over /proc/sys/kernel/random/boot_id at each start" : "off");
        fprintf(f, "  unit logs: %s\n", !p->logs ? "off"
                   : p->terminal ? "journald forwards them to the console (the terminal)"
                                 : "a runtime unit follows the journal into PID 1's stdout (the engine's log) when that is a named FIFO");
        if (p->link_journal)
                fprintf(f, "  journal: persistent on the host, in JOURNAL_ROOT/%s (--journal-root, default "
                        "/var/log/journal)\n", p->machine_id[0] ? p->machine_id : "<machine-id>");
        if (p->cgroup == CG_ACT_UNIFIED)
                fprintf(f, "  cgroup caps: cgroup.max.descendants %s, cgroup.max.depth %s (never raised)\n",
                        p->cg_max_descendants ? num(p->cg_max_descendants, d1) : "off",
                        p->cg_max_depth ? num(p->cg_max_depth, d2) : "off");
        if (p->cgroup == CG_ACT_UNIFIED && !p->cg_payload)
                fprintf(f, "  cgroup: bind the container's own cgroup2 directory read-write at /sys/fs/cgroup, "
                        "its limit files read-only one by one (no cgroup namespace: no payload child; a file a "
                        "later controller toggle creates is not covered)\n");
        else
                fprintf(f, "  cgroup: %s\n", cg_action_name(p->cgroup));
        if (p->privileged || p->readonly_sys || p->hide_ttys)
                fprintf(f, "  privileged: %s\n", p->privileged ? "yes (CAP_SYS_ADMIN with a writable /sys or the host's VTs)" : "no");
        fprintf(f, "  /sys: %s\n", p->readonly_sys ? (p->netns ? "read-only but for /sys/fs/cgroup; /proc/sys read-only but for /proc/sys/net"
                                                               : "read-only but for /sys/fs/cgroup; /proc/sys read-only")
                                                : "as the spec mounts it");
        fprintf(f, "  host VTs: %s\n", p->hide_ttys ? "tty0-63, vcs*, console 5:1 removed from /dev (tmpfs)" : "as the spec gives them");
        if (p->userns)
                fprintf(f, "  user namespace: owner %u:%u for the tmpfs mounts, machine-id and cgroup\n",
                        (unsigned)p->uid, (unsigned)p->gid);
}
