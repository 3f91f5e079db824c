/* SPDX-License-Identifier: GPL-2.0-or-later */
/* plan.c and machineid.c: from the spec to what the executor will do. */
#include "plan.h"
#include "testutil.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_MID "0123456789abcdef0123456789abcdef"

/* The parts of a config.json that vary; NULL takes the default. */
struct parts {
        const char *args, *env, *mounts, *linux_, *annotations;
        const char *process;    /* more members of "process", e.g. "capabilities":{...} */
        bool readonly;
};

struct built {
        struct oci_config config;
        struct plan plan;
};

static void build_with(const struct parts *pt, enum cg_host_mode host, bool selinux, const struct kv *state_ann,
                       size_t n_state_ann, struct built *b)
{
        _cleanup_free_ char *doc = tu_printf(
                "{\"root\":{\"path\":\"rootfs\",\"readonly\":%s},\"process\":{\"args\":[%s],\"env\":[%s]%s%s},"
                "\"mounts\":[%s],\"linux\":{%s},\"annotations\":{%s}}",
                pt->readonly ? "true" : "false", pt->args ? pt->args : "\"/sbin/init\"",
                pt->env ? pt->env : "\"PATH=/bin\"", pt->process ? "," : "", pt->process ? pt->process : "",
                pt->mounts ? pt->mounts : "",
                pt->linux_ ? pt->linux_ : "\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"cgroup\"}]",
                pt->annotations ? pt->annotations : "");
        struct plan_input in = {
                .config = &b->config, .id = ID64, .state_annotations = state_ann,
                .n_state_annotations = n_state_ann, .host_cgroup = host, .rootfd = -1,
                .selinux_enabled = selinux,
        };
        hook_error_t err = {};

        ck_assert_ok(tu_parse_config(doc, &b->config, &err), &err);
        ck_assert_ok(plan_build(&in, &b->plan, &err), &err);
}

static void build(const struct parts *pt, struct built *b)
{
        build_with(pt, CG_HOST_V2, false, NULL, 0, b);
}

static void built_done(struct built *b)
{
        spec_config_done(&b->config);
}

static char *dump(const struct plan *p)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        ck_assert_ptr_nonnull(f);
        plan_dump(p, f);
        ck_assert_int_eq(fclose(f), 0);
        return out;
}

static bool has_warning(const struct plan *p, const char *sub)
{
        size_t i;

        for (i = 0; i < p->n_warnings; i++)
                if (strstr(p->warnings[i], sub))
                        return true;
        return false;
}

#define ck_assert_warning(p, sub) ck_assert_msg(has_warning(p, sub), "no warning `%s` (%zu warnings)", sub, (p)->n_warnings)

/* ---- the default plan -------------------------------------------------------- */
static const struct {
        const char *dest, *mode;
} default_tmpfs[] = {
        { "/run", "0755" }, { "/run/lock", "1777" }, { "/tmp", "1777" }, { "/var/log/journal", "2755" },
};

START_TEST(test_default)
{
        struct parts pt = {};
        struct built b;
        size_t i;

        build(&pt, &b);
        ck_assert(plan_has_work(&b.plan));
        ck_assert(b.plan.detect.systemd);
        ck_assert_uint_eq(b.plan.n_tmpfs, ELEMENTSOF(default_tmpfs));
        for (i = 0; i < ELEMENTSOF(default_tmpfs); i++) {
                ck_assert_str_eq(b.plan.tmpfs[i].destination, default_tmpfs[i].dest);
                ck_assert_str_eq(b.plan.tmpfs[i].mode, default_tmpfs[i].mode);
                ck_assert(!b.plan.tmpfs[i].skip);
                ck_assert(b.plan.tmpfs[i].copyup);
        }
        ck_assert_str_eq(b.plan.machine_id, ID_MID);
        ck_assert_int_eq(b.plan.mid_source, MID_FROM_ID);
        ck_assert_int_eq(b.plan.mid_method, MID_WRITE);
        ck_assert(b.plan.run_host);
        ck_assert_int_eq(b.plan.cgroup, CG_ACT_UNIFIED);
        ck_assert(!b.plan.userns);
        ck_assert_ptr_null(b.plan.mount_label);
        ck_assert_uint_eq(b.plan.n_warnings, 0);
        built_done(&b);
}
END_TEST

static const char *const default_dump[] = {
        "systemd: yes\n",
        "reason: the command `/sbin/init` is an init path (rootfs not inspected)\n",
        "plan:\n",
        "  tmpfs /run mode=0755,size=20%,nr_inodes=400k,nosuid,nodev\n",
        "  tmpfs /run/lock mode=1777,size=5242880,nr_inodes=4k,nosuid,nodev\n",
        "  tmpfs /tmp mode=1777,size=50%,nr_inodes=1m,nosuid,nodev\n",
        "  tmpfs /var/log/journal mode=2755,size=10%,nr_inodes=4k,nosuid,nodev\n",
        "  copy-up: the image's content under each new tmpfs is copied into it\n",
        "  machine-id " ID_MID " (from the container id), written to /etc/machine-id\n",
        "  /run/host/container-manager = oci-systemd-hook",
        "  cgroup: bind the container's own cgroup2 directory read-only at /sys/fs/cgroup and its child `payload`",
};

START_TEST(test_dump)
{
        struct parts pt = {};
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        out = dump(&b.plan);
        ck_assert_msg(strstr(out, default_dump[_i]), "dump lacks `%s`:\n%s", default_dump[_i], out);
        ck_assert_ptr_null(strstr(out, "warning"));
        ck_assert_ptr_null(strstr(out, "skip"));
        built_done(&b);
}
END_TEST

/* ---- container_uuid ------------------------------------------------------------ */
static const struct {
        const char *env;          /* JSON array elements */
        const char *mid;          /* NULL: derived from the container id */
        const char *warning;      /* NULL: none */
} uuids[] = {
#define U(v) "\"container_uuid=" v "\""
        { U("c0ffee00c0ffee00c0ffee00c0ffee00"), "c0ffee00c0ffee00c0ffee00c0ffee00", NULL },
        { U("C0FFEE00C0FFEE00C0FFEE00C0FFEE00"), "c0ffee00c0ffee00c0ffee00c0ffee00", NULL },
        { U("6A2F1C3E-9B8D-4E7F-A1B2-C3D4E5F60718"), "6a2f1c3e9b8d4e7fa1b2c3d4e5f60718", NULL },
        { "\"A=1\"," U("6a2f1c3e-9b8d-4e7f-a1b2-c3d4e5f60718"), "6a2f1c3e9b8d4e7fa1b2c3d4e5f60718", NULL },
        { U("../../etc"), NULL, "container_uuid is not 32 hex digits or a UUID" },
        { U("../../../../../../../../../../etc"), NULL, "not 32 hex digits" },
        { U("a/b"), NULL, "not 32 hex digits" },
        { U("c0ffee00c0ffee00c0ffee00c0ffee001"), NULL, "not 32 hex digits" },     /* 33 */
        { U("c0ffee00c0ffee00c0ffee00c0ffee0"), NULL, "not 32 hex digits" },       /* 31 */
        { U("00000000000000000000000000000000"), NULL, "not 32 hex digits" },
        { U("00000000-0000-0000-0000-000000000000"), NULL, "not 32 hex digits" },
        { U("g0ffee00c0ffee00c0ffee00c0ffee00"), NULL, "not 32 hex digits" },
        { U("c0ffee00c0ffee00c0ffee00c0ffee0\\n"), NULL, "not 32 hex digits" },
        { U(" c0ffee00c0ffee00c0ffee00c0ffee0"), NULL, "not 32 hex digits" },
        { U("6A2F1C3E9-B8D-4E7F-A1B2-C3D4E5F60718"), NULL, "not 32 hex digits" },
        { U("6A2F1C3E09B8D04E7F0A1B20C3D4E5F60718"), NULL, "not 32 hex digits" },   /* 36, no dashes */
        { U(""), NULL, "not 32 hex digits" },
        { U("c0ffee00c0ffee00c0ffee00c0ffee00") "," U("d0ffee00c0ffee00c0ffee00c0ffee00"), NULL,
          "container_uuid is set more than once" },
        { U("c0ffee00c0ffee00c0ffee00c0ffee00") "," U("c0ffee00c0ffee00c0ffee00c0ffee00"), NULL, "set more than once" },
        { "\"container_uuidx=c0ffee00c0ffee00c0ffee00c0ffee00\",\"CONTAINER_UUID=c0ffee00c0ffee00c0ffee00c0ffee00\"",
          NULL, NULL },
#undef U
};

static void check_uuid(const char *env, const char *mid, const char *warning)
{
        struct parts pt = { .env = env };
        struct built b;

        build(&pt, &b);
        ck_assert_str_eq(b.plan.machine_id, mid ? mid : ID_MID);
        ck_assert_int_eq(b.plan.mid_source, mid ? MID_FROM_UUID : MID_FROM_ID);
        if (warning) {
                ck_assert_warning(&b.plan, warning);
                ck_assert_warning(&b.plan, "deriving the machine-id from the container id");
        } else {
                ck_assert_uint_eq(b.plan.n_warnings, 0);
        }
        built_done(&b);
}

START_TEST(test_uuid)
{
        check_uuid(uuids[_i].env, uuids[_i].mid, uuids[_i].warning);
}
END_TEST

START_TEST(test_uuid_huge)
{
        _cleanup_free_ char *v = xmalloc((1u << 20) + 1), *env = NULL;

        memset(v, 'a', 1u << 20);
        v[1u << 20] = '\0';
        env = tu_printf("\"container_uuid=%s\"", v);
        check_uuid(env, NULL, "not 32 hex digits");
}
END_TEST

/* ---- machine-id helpers ----------------------------------------------------------- */
static const struct {
        const char *id, *mid;
} from_ids[] = {
        { ID64, ID_MID },
        { "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", ID_MID },
        { "0123456789abcdef0123456789abcdef", ID_MID },
        { "0123456789abcdef0123456789abcdef-suffix", ID_MID },
        { "abc", "ba7816bf8f01cfea414140de5dae2223" },                          /* sha256("abc") */
        { "", "e3b0c44298fc1c149afbf4c8996fb924" },
        { "my-container", "f907e278af7c63d535c4c440b720247f" },
        { "0123456789abcdef0123456789abcde", "8cdbdad56e5d28b5873a3a47ba7c3df5" },  /* 31 hex */
        /* all zeros is "no id" for systemd: hashed instead */
        { "0000000000000000000000000000000000000000000000000000000000000000", "60e05bd1b195af2f94112fa7197a5c88" },
};

START_TEST(test_from_container_id)
{
        char mid[MACHINE_ID_LEN + 1];

        memset(mid, 'X', sizeof(mid));
        machine_id_from_container_id(from_ids[_i].id, mid);
        ck_assert_str_eq(mid, from_ids[_i].mid);
}
END_TEST

static const struct {
        size_t len;          /* of 'a'; 0 with msg set: use msg */
        const char *msg, *hex;
} sha_vectors[] = {
        { 0, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { 0, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { 0, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { 55, NULL, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56, NULL, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 63, NULL, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
        { 64, NULL, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        { 65, NULL, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
        { 119, NULL, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
        { 120, NULL, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
        { 1000000, NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

START_TEST(test_sha256)
{
        _cleanup_free_ char *a = NULL;
        const char *data = sha_vectors[_i].msg;
        size_t len = data ? strlen(data) : sha_vectors[_i].len, i;
        unsigned char h[32];
        char hex[65];

        if (!data) {
                a = xmalloc(len);
                memset(a, 'a', len);
                data = a;
        }
        sha256(data, len, h);
        for (i = 0; i < 32; i++)
                (void)sprintf(hex + 2 * i, "%02x", h[i]);
        ck_assert_str_eq(hex, sha_vectors[_i].hex);
}
END_TEST

static const struct {
        const char *in, *out;     /* out NULL: refused */
} normalise[] = {
        { "c0ffee00c0ffee00c0ffee00c0ffee00", "c0ffee00c0ffee00c0ffee00c0ffee00" },
        { "ABCDEF0123456789ABCDEF0123456789", "abcdef0123456789abcdef0123456789" },
        { "6A2F1C3E-9B8D-4E7F-A1B2-C3D4E5F60718", "6a2f1c3e9b8d4e7fa1b2c3d4e5f60718" },
        { "00000000000000000000000000000001", "00000000000000000000000000000001" },
        { "00000000000000000000000000000000", NULL },
        { "00000000-0000-0000-0000-000000000000", NULL },
        { "6a2f1c3e-9b8d-4e7f-a1b2-c3d4e5f6071", NULL },
        { "6a2f1c3e-9b8d-4e7f-a1b2-c3d4e5f607189", NULL },
        { "6a2f1c3e-9b8d-4e7f-a1b2+c3d4e5f60718", NULL },
        { "6a2f1c3e9b8d4e7fa1b2c3d4e5f6071", NULL },
        { "6a2f1c3e9b8d4e7fa1b2c3d4e5f6071z", NULL },
        { "../../../../../../../../../../etc", NULL },
        { "", NULL },
};

START_TEST(test_normalise)
{
        char out[MACHINE_ID_LEN + 1] = "";
        bool ok = machine_id_normalise(normalise[_i].in, out);

        ck_assert_int_eq(ok, normalise[_i].out != NULL);
        if (ok)
                ck_assert_str_eq(out, normalise[_i].out);
}
END_TEST

/* ---- the spec's own mounts win --------------------------------------------------- */
#define M(d) "{\"destination\":\"" d "\",\"type\":\"bind\",\"source\":\"/srv\"}"

static const struct {
        const char *mounts;
        unsigned skip;           /* bit i: tmpfs[i] skipped */
        bool run_host;
        enum mid_method mid;     /* writable rootfs */
} user_mounts[] = {
        { M("/run"), 0x3, false, MID_WRITE },
        { M("/run/"), 0x3, false, MID_WRITE },
        { M("/tmp"), 0x4, true, MID_WRITE },
        { M("//tmp/"), 0x4, true, MID_WRITE },
        { M("/var/log/journal/."), 0x8, true, MID_WRITE },
        { M("/var/log/../log/journal"), 0x8, true, MID_WRITE },
        { M("/run/lock"), 0x2, true, MID_WRITE },
        { M("/run/lock") "," M("/tmp"), 0x6, true, MID_WRITE },
        { M("/runx") "," M("/run/foo") "," M("/tmp/x") "," M("/"), 0x0, true, MID_WRITE },
        { M("/etc/machine-id"), 0x0, true, MID_SKIP },
        { M("/etc//machine-id"), 0x0, true, MID_SKIP },
        { M("/etc"), 0x0, true, MID_WRITE },
};

static const char *const tmpfs_names[] = { "/run", "/run/lock", "/tmp", "/var/log/journal" };

START_TEST(test_user_mounts)
{
        struct parts pt = { .mounts = user_mounts[_i].mounts };
        struct built b;
        _cleanup_free_ char *out = NULL;
        size_t i;

        build(&pt, &b);
        out = dump(&b.plan);
        ck_assert_uint_eq(b.plan.n_tmpfs, 4);
        for (i = 0; i < 4; i++) {
                bool skip = user_mounts[_i].skip & (1u << i);
                _cleanup_free_ char *line = tu_printf("  %s %s%s", skip ? "skip tmpfs" : "tmpfs", tmpfs_names[i],
                                                      skip ? ": the spec mounts" : " mode=");

                ck_assert_msg(b.plan.tmpfs[i].skip == skip, "%s", tmpfs_names[i]);
                ck_assert_msg(strstr(out, line), "dump lacks `%s`:\n%s", line, out);
        }
        if (user_mounts[_i].skip & 1)
                ck_assert_str_eq(b.plan.tmpfs[1].skip_reason, "the spec mounts /run (not writing into a user volume)");
        ck_assert_int_eq(b.plan.run_host, user_mounts[_i].run_host);
        ck_assert_int_eq(b.plan.mid_method, user_mounts[_i].mid);
        if (user_mounts[_i].mid == MID_SKIP)
                ck_assert_str_eq(b.plan.mid_skip_reason, "the spec mounts /etc/machine-id");
        built_done(&b);
}
END_TEST

static const struct {
        bool readonly;
        const char *mounts;
        enum mid_method mid;
        const char *line;
} mid_methods[] = {
        { false, NULL, MID_WRITE, "written to /etc/machine-id" },
        { true, NULL, MID_BIND_FROM_RUN, "bind-mounted from /run/machine-id (read-only rootfs)" },
        { true, M("/run"), MID_SKIP, "skip machine-id: read-only rootfs and the spec mounts /run" },
        { true, M("/etc/machine-id"), MID_SKIP, "skip machine-id: the spec mounts /etc/machine-id" },
        { false, M("/etc/machine-id") "," M("/run"), MID_SKIP, "skip machine-id: the spec mounts /etc/machine-id" },
};

START_TEST(test_mid_method)
{
        struct parts pt = { .mounts = mid_methods[_i].mounts, .readonly = mid_methods[_i].readonly };
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        ck_assert_int_eq(b.plan.mid_method, mid_methods[_i].mid);
        out = dump(&b.plan);
        ck_assert_msg(strstr(out, mid_methods[_i].line), "dump lacks `%s`:\n%s", mid_methods[_i].line, out);
        built_done(&b);
}
END_TEST

/* Read-only rootfs: systemd-logind needs /var/lib/systemd writable. */
static const struct {
        bool readonly;
        const char *mounts;
        size_t n;
        bool skip;
} var_lib[] = {
        { false, NULL, 4, false },
        { true, NULL, 5, false },
        { true, M("/var/lib/systemd/"), 5, true },
        { true, M("/var/lib"), 5, false },
};

START_TEST(test_readonly_var_lib)
{
        struct parts pt = { .readonly = var_lib[_i].readonly, .mounts = var_lib[_i].mounts };
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        ck_assert_uint_eq(b.plan.n_tmpfs, var_lib[_i].n);
        out = dump(&b.plan);
        if (var_lib[_i].n == 5) {
                ck_assert_str_eq(b.plan.tmpfs[4].destination, "/var/lib/systemd");
                ck_assert_str_eq(b.plan.tmpfs[4].mode, "0755");
                ck_assert(b.plan.tmpfs[4].copyup);
                ck_assert_int_eq(b.plan.tmpfs[4].skip, var_lib[_i].skip);
                ck_assert_ptr_nonnull(strstr(out, var_lib[_i].skip ? "  skip tmpfs /var/lib/systemd: the spec mounts it"
                                                                   : "  tmpfs /var/lib/systemd mode=0755,"));
        } else {
                ck_assert_ptr_null(strstr(out, "/var/lib/systemd"));
        }
        built_done(&b);
}
END_TEST

/* ---- user namespaces ------------------------------------------------------------------ */
START_TEST(test_userns)
{
        struct parts pt = {
                .linux_ = "\"namespaces\":[{\"type\":\"user\"},{\"type\":\"cgroup\"}],"
                          "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                          "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":65536}]",
        };
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        ck_assert(b.plan.userns);
        ck_assert_uint_eq(b.plan.uid, 100000);
        ck_assert_uint_eq(b.plan.gid, 200000);
        ck_assert_uint_eq(b.plan.n_warnings, 0);
        out = dump(&b.plan);
        ck_assert_ptr_nonnull(strstr(out, "  user namespace: owner 100000:200000 for"));
        built_done(&b);
}
END_TEST

START_TEST(test_userns_unmapped)
{
        struct parts pt = { .linux_ = "\"namespaces\":[{\"type\":\"user\"},{\"type\":\"cgroup\"}]" };
        struct built b;

        build(&pt, &b);
        ck_assert(!b.plan.userns);
        ck_assert_warning(&b.plan, "user namespace without a mapping for root: leaving ownership alone");
        built_done(&b);
}
END_TEST

/* ---- cgroup ---------------------------------------------------------------------------- */
static const struct {
        enum cg_host_mode host;
        const char *config_ann, *state_ann;     /* oci-systemd-hook.cgroup */
        enum cg_action action;
        const char *warning;
} cgroups[] = {
        { CG_HOST_V1, NULL, NULL, CG_ACT_V1_NAMED, NULL },
        { CG_HOST_HYBRID, NULL, NULL, CG_ACT_UNIFIED, NULL },
        { CG_HOST_V2, NULL, NULL, CG_ACT_UNIFIED, NULL },
        { CG_HOST_UNKNOWN, NULL, NULL, CG_ACT_UNIFIED, NULL },
        { CG_HOST_V2, "v1", NULL, CG_ACT_V1_NAMED, NULL },
        { CG_HOST_HYBRID, "v1", NULL, CG_ACT_V1_NAMED, NULL },
        { CG_HOST_V2, "none", NULL, CG_ACT_NONE, NULL },
        { CG_HOST_V1, "none", NULL, CG_ACT_NONE, NULL },
        { CG_HOST_HYBRID, "unified", NULL, CG_ACT_UNIFIED, NULL },
        { CG_HOST_V1, "auto", NULL, CG_ACT_V1_NAMED, NULL },
        { CG_HOST_HYBRID, "auto", NULL, CG_ACT_UNIFIED, NULL },
        { CG_HOST_V2, "garbage", NULL, CG_ACT_UNIFIED,
          "ignoring the annotation oci-systemd-hook.cgroup `garbage` (none, v1, unified or auto)" },
        { CG_HOST_V1, "V1", NULL, CG_ACT_V1_NAMED, "`V1`" },
        { CG_HOST_V2, NULL, "none", CG_ACT_NONE, NULL },
        { CG_HOST_V2, NULL, "v1", CG_ACT_V1_NAMED, NULL },
        { CG_HOST_V2, "v1", "none", CG_ACT_V1_NAMED, NULL },     /* config wins */
        { CG_HOST_V1, "none", "v1", CG_ACT_NONE, NULL },
};

START_TEST(test_cgroup)
{
        _cleanup_free_ char *ann = cgroups[_i].config_ann
                ? tu_printf("\"" ANNOTATION_CGROUP "\":\"%s\"", cgroups[_i].config_ann) : NULL;
        struct kv sann[] = { { ANNOTATION_CGROUP, cgroups[_i].state_ann } };
        struct parts pt = { .annotations = ann };
        struct built b;

        build_with(&pt, cgroups[_i].host, false, sann, cgroups[_i].state_ann ? 1 : 0, &b);
        ck_assert_int_eq(b.plan.cgroup, cgroups[_i].action);
        if (cgroups[_i].warning)
                ck_assert_warning(&b.plan, cgroups[_i].warning);
        else
                ck_assert_uint_eq(b.plan.n_warnings, 0);
        built_done(&b);
}
END_TEST

static const struct {
        const char *linux_, *annotations;
        bool warned;
} cgroupns[] = {
        { "\"namespaces\":[{\"type\":\"mount\"}]", NULL, true },
        { "", NULL, true },
        { "\"namespaces\":[{\"type\":\"mount\"}]", "\"" ANNOTATION_CGROUP "\":\"none\"", false },
        { "\"namespaces\":[{\"type\":\"cgroup\"}]", NULL, false },
};

START_TEST(test_cgroupns_warning)
{
        struct parts pt = { .linux_ = cgroupns[_i].linux_, .annotations = cgroupns[_i].annotations };
        struct built b;

        build(&pt, &b);
        ck_assert_int_eq(has_warning(&b.plan, "no cgroup namespace: systemd will see its full host cgroup path"),
                         cgroupns[_i].warned);
        built_done(&b);
}
END_TEST

/* ---- capabilities systemd needs ---------------------------------------------------------- */
#define RUNC_CAPS "\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\""
#define PODMAN_CAPS                                                                                \
        "\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","                \
        "\"CAP_NET_BIND_SERVICE\",\"CAP_SETFCAP\",\"CAP_SETGID\",\"CAP_SETPCAP\",\"CAP_SETUID\","      \
        "\"CAP_SYS_CHROOT\",\"CAP_AUDIT_WRITE\""
#define NO_SETPCAP                                                                                 \
        "\"CAP_CHOWN\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_KILL\""
#define CAPS3(b, e, p) "\"capabilities\":{\"bounding\":[" b "],\"effective\":[" e "],\"permitted\":[" p "]}"
static const struct {
        const char *process;
        const char *warning;    /* NULL: no capability warning */
} caps[] = {
        /* no process.capabilities: the runtime drops nothing */
        { NULL, NULL },
        { CAPS3(PODMAN_CAPS, PODMAN_CAPS, PODMAN_CAPS), NULL },
        /* the three alone are enough (measured) */
        { CAPS3("\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\"", "\"CAP_SETPCAP\",\"CAP_SETUID\",\"CAP_SETGID\"",
                "\"CAP_SETUID\",\"CAP_SETGID\",\"CAP_SETPCAP\""), NULL },
        /* runc spec's set (ambient too) */
        { "\"capabilities\":{\"bounding\":[" RUNC_CAPS "],\"effective\":[" RUNC_CAPS "],\"permitted\":[" RUNC_CAPS
          "],\"ambient\":[" RUNC_CAPS "]}",
          "process.capabilities (bounding, effective, permitted) lacks CAP_SETPCAP CAP_SETUID CAP_SETGID: "
          "systemd needs CAP_SETPCAP (journald, logind: 218/CAPABILITIES), CAP_SETUID, CAP_SETGID (dbus)" },
        { CAPS3(NO_SETPCAP, PODMAN_CAPS, PODMAN_CAPS), "process.capabilities (bounding) lacks CAP_SETPCAP:" },
        { CAPS3(PODMAN_CAPS, NO_SETPCAP, PODMAN_CAPS), "process.capabilities (effective) lacks CAP_SETPCAP:" },
        /* a set left out is an empty set */
        { "\"capabilities\":{\"bounding\":[" PODMAN_CAPS "]}",
          "process.capabilities (effective, permitted) lacks CAP_SETPCAP CAP_SETUID CAP_SETGID:" },
        { "\"capabilities\":{}", "process.capabilities (bounding, effective, permitted) lacks CAP_SETPCAP CAP_SETUID CAP_SETGID:" },
        /* names are exact strings */
        { CAPS3("\"CAP_SETPCAP\",\"CAP_SETUID\",\"cap_setgid\",7", PODMAN_CAPS, PODMAN_CAPS),
          "process.capabilities (bounding) lacks CAP_SETGID:" },
};

START_TEST(test_capabilities)
{
        struct parts pt = { .process = caps[_i].process };
        struct built b;

        build(&pt, &b);
        if (caps[_i].warning)
                ck_assert_warning(&b.plan, caps[_i].warning);
        else
                ck_assert_msg(!has_warning(&b.plan, "process.capabilities"), "unexpected warning: %s",
                              b.plan.n_warnings ? b.plan.warnings[0] : "");
        built_done(&b);
}
END_TEST

/* Not systemd: no capability warning either. */
START_TEST(test_capabilities_not_systemd)
{
        struct parts pt = { .args = "\"/bin/sh\"", .process = CAPS3(RUNC_CAPS, RUNC_CAPS, RUNC_CAPS) };
        struct built b;

        build(&pt, &b);
        ck_assert(!has_warning(&b.plan, "process.capabilities"));
        built_done(&b);
}
END_TEST

/* ---- privileged containers -------------------------------------------------------------- */
#define ADMIN_CAPS CAPS3(PODMAN_CAPS ",\"CAP_SYS_ADMIN\"", PODMAN_CAPS, PODMAN_CAPS)
#define SYS_RW "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"rw\"]}"
#define SYS_RO "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"ro\"]}"
#define SYS_RO_RW "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"ro\",\"rw\"]}"
#define DEV_TMPFS "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"
#define DEVICES(d) "\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"cgroup\"}],\"devices\":[" d "]"
#define TTY0 "{\"path\":\"/dev/tty0\",\"type\":\"c\",\"major\":4,\"minor\":0}"
#define TTY1_AS_X "{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":4,\"minor\":1}"
#define VCS "{\"path\":\"/dev/vcs\",\"type\":\"c\",\"major\":7,\"minor\":0}"
#define CONSOLE "{\"path\":\"/dev/console\",\"type\":\"c\",\"major\":5,\"minor\":1}"
#define TTYS0 "{\"path\":\"/dev/ttyS0\",\"type\":\"c\",\"major\":4,\"minor\":64}"
#define FUSE "{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229}"
#define TTY0_BLOCK "{\"path\":\"/dev/tty0\",\"type\":\"b\",\"major\":4,\"minor\":0}"
static const struct {
        const char *process, *mounts, *linux_, *annotations, *env;
        bool privileged, readonly_sys, hide_ttys;
        const char *warning;
} privileged[] = {
        /* podman's default: neither */
        { CAPS3(PODMAN_CAPS, PODMAN_CAPS, PODMAN_CAPS), SYS_RW, NULL, NULL, NULL, false, false, false, NULL },
        /* CAP_SYS_ADMIN alone (a read-only /sys, no host VTs): nothing */
        { ADMIN_CAPS, SYS_RO, NULL, NULL, NULL, false, false, false, NULL },
        { ADMIN_CAPS, SYS_RW, NULL, NULL, NULL, true, true, false, NULL },
        /* the last of ro/rw counts */
        { ADMIN_CAPS, SYS_RO_RW, NULL, NULL, NULL, true, true, false, NULL },
        /* no process.capabilities: every one */
        { NULL, SYS_RW "," DEV_TMPFS, DEVICES(FUSE "," TTY0), NULL, NULL, true, true, true, NULL },
        { ADMIN_CAPS, SYS_RO, DEVICES(TTY0), NULL, NULL, true, false, true, NULL },
        /* by number, not by name */
        { ADMIN_CAPS, SYS_RO, DEVICES(TTY1_AS_X), NULL, NULL, true, false, true, NULL },
        { ADMIN_CAPS, SYS_RO, DEVICES(VCS), NULL, NULL, true, false, true, NULL },
        { ADMIN_CAPS, SYS_RO, DEVICES(CONSOLE), NULL, NULL, true, false, true, NULL },
        /* a serial line, a block device: not a VT */
        { ADMIN_CAPS, SYS_RO, DEVICES(TTYS0 "," TTY0_BLOCK "," FUSE), NULL, NULL, false, false, false, NULL },
        /* a VT without CAP_SYS_ADMIN: the user's choice, a warning */
        { CAPS3(PODMAN_CAPS, PODMAN_CAPS, PODMAN_CAPS), SYS_RW, DEVICES(TTY0), NULL, NULL, false, false, false,
          "linux.devices gives the host's console `/dev/tty0`: systemd may start a getty on it;" },
        /* switches: annotation and environment, either way */
        { ADMIN_CAPS, SYS_RW, DEVICES(TTY0), "\"oci-systemd-hook.readonly-sys\":\"false\"", NULL, true, false, true,
          NULL },
        { ADMIN_CAPS, SYS_RW, DEVICES(TTY0), NULL, "\"oci-systemd-hook.hide-host-ttys=no\"", true, true, false,
          "linux.devices gives the host's console `/dev/tty0`" },
        { CAPS3(PODMAN_CAPS, PODMAN_CAPS, PODMAN_CAPS), SYS_RW, DEVICES(TTY0),
          "\"oci-systemd-hook.hide-host-ttys\":\"true\",\"oci-systemd-hook.readonly-sys\":\"yes\"", NULL, false, true,
          true, NULL },
};

START_TEST(test_privileged)
{
        struct parts pt = { .process = privileged[_i].process, .mounts = privileged[_i].mounts,
                            .linux_ = privileged[_i].linux_, .annotations = privileged[_i].annotations,
                            .env = privileged[_i].env };
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        ck_assert_int_eq(b.plan.privileged, privileged[_i].privileged);
        ck_assert_int_eq(b.plan.readonly_sys, privileged[_i].readonly_sys);
        ck_assert_int_eq(b.plan.hide_ttys, privileged[_i].hide_ttys);
        if (privileged[_i].warning)
                ck_assert_warning(&b.plan, privileged[_i].warning);
        else
                ck_assert_msg(!has_warning(&b.plan, "host's console"), "unexpected warning");
        out = dump(&b.plan);
        ck_assert_ptr_nonnull(strstr(out, privileged[_i].readonly_sys ? "/sys: read-only but for /sys/fs/cgroup"
                                                                      : "/sys: as the spec mounts it"));
        ck_assert_ptr_nonnull(strstr(out, privileged[_i].hide_ttys ? "host VTs: tty0-63" : "host VTs: as the spec"));
        built_done(&b);
}
END_TEST

/* ---- SELinux mount label ----------------------------------------------------------------- */
START_TEST(test_mount_label)
{
        struct parts pt = { .linux_ = "\"namespaces\":[{\"type\":\"cgroup\"}],"
                                      "\"mountLabel\":\"system_u:object_r:container_file_t:s0\"" };
        bool selinux = _i;
        struct built b;
        _cleanup_free_ char *out = NULL;

        build_with(&pt, CG_HOST_V2, selinux, NULL, 0, &b);
        out = dump(&b.plan);
        if (selinux) {
                ck_assert_str_eq(b.plan.mount_label, "system_u:object_r:container_file_t:s0");
                ck_assert_uint_eq(b.plan.n_warnings, 0);
                ck_assert_ptr_nonnull(strstr(out, "  tmpfs /tmp mode=1777,size=50%,nr_inodes=1m,nosuid,nodev,"
                                                  "context=system_u:object_r:container_file_t:s0\n"));
        } else {
                ck_assert_ptr_null(b.plan.mount_label);
                ck_assert_warning(&b.plan,
                                  "SELinux is disabled on this host: not labelling with `system_u:object_r:container_file_t:s0`");
                ck_assert_ptr_null(strstr(out, "context="));
                ck_assert_ptr_nonnull(strstr(out, "warning: SELinux is disabled"));
        }
        built_done(&b);
}
END_TEST

/* ---- not systemd: nothing at all ----------------------------------------------------------- */
static const struct {
        const char *args, *annotations, *env;
} not_systemd[] = {
        { "\"/bin/sh\"", NULL, NULL },
        { "\"/sbin/init\"", "\"oci-systemd-hook\":\"disabled\"", NULL },
        { "\"/sbin/init\"", NULL, "\"oci-systemd-hook=disabled\",\"container_uuid=zz\"" },
        { "", NULL, NULL },
};

START_TEST(test_not_systemd)
{
        struct parts pt = { .args = not_systemd[_i].args, .annotations = not_systemd[_i].annotations,
                            .env = not_systemd[_i].env, .readonly = true, .mounts = M("/run") };
        struct built b;
        _cleanup_free_ char *out = NULL;

        build(&pt, &b);
        ck_assert(!plan_has_work(&b.plan));
        ck_assert_uint_eq(b.plan.n_tmpfs, 0);
        ck_assert_str_eq(b.plan.machine_id, "");
        ck_assert(!b.plan.run_host);
        ck_assert_int_eq(b.plan.cgroup, CG_ACT_NONE);
        ck_assert_uint_eq(b.plan.n_warnings, 0);
        out = dump(&b.plan);
        ck_assert_ptr_nonnull(strstr(out, "systemd: no\n"));
        ck_assert_ptr_nonnull(strstr(out, "plan: nothing to do\n"));
        ck_assert_ptr_null(strstr(out, "tmpfs"));
        built_done(&b);
}
END_TEST

/* Every warning source at once stays within PLAN_MAX_WARNINGS. */
START_TEST(test_many_warnings)
{
        struct parts pt = {
                .env = "\"container_uuid=x\",\"container_uuid=y\"",
                .annotations = "\"oci-systemd-hook\":\"yes\",\"" ANNOTATION_CGROUP "\":\"bogus\"",
                .linux_ = "\"namespaces\":[{\"type\":\"user\"}],\"mountLabel\":\"l\"",
                .process = "\"capabilities\":{}",
        };
        struct built b;
        _cleanup_free_ char *out = NULL;
        size_t i;

        build(&pt, &b);
        ck_assert_uint_eq(b.plan.n_warnings, 7);
        ck_assert_uint_le(b.plan.n_warnings, PLAN_MAX_WARNINGS);
        out = dump(&b.plan);
        for (i = 0; i < b.plan.n_warnings; i++)
                ck_assert_ptr_nonnull(strstr(out, b.plan.warnings[i]));
        built_done(&b);
}
END_TEST

static Suite *plan_suite(void)
{
        Suite *s = suite_create("plan");

        TU_TCASE(s, "plan", 0, TU_TEST(test_default), TU_LOOP(test_dump, default_dump),
                 TU_LOOP(test_uuid, uuids), TU_TEST(test_uuid_huge),
                 TU_LOOP(test_user_mounts, user_mounts), TU_LOOP(test_mid_method, mid_methods),
                 TU_LOOP(test_readonly_var_lib, var_lib), TU_TEST(test_userns),
                 TU_TEST(test_userns_unmapped), TU_LOOP(test_cgroup, cgroups),
                 TU_LOOP(test_cgroupns_warning, cgroupns), TU_LOOP_N(test_mount_label, 2),
                 TU_LOOP(test_not_systemd, not_systemd), TU_LOOP(test_capabilities, caps),
                 TU_TEST(test_capabilities_not_systemd), TU_TEST(test_many_warnings),
                 TU_LOOP(test_privileged, privileged));
        TU_TCASE(s, "machine-id", 30, TU_LOOP(test_from_container_id, from_ids),
                 TU_LOOP(test_sha256, sha_vectors), TU_LOOP(test_normalise, normalise));
        return s;
}

int main(void)
{
        return tu_run(plan_suite());
}
