/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From config.json and the container id to the plan: spec_parse_config()
 * then plan_build() and plan_dump(), as run() and `explain` do.
 *
 * Input: a config.json, optionally followed by a NUL byte and a tail:
 *   <flags byte><id>[\0<state annotation k=v>]...
 * flags & 3: host cgroup mode (unknown, v1, hybrid, v2); & 4: SELinux on;
 * & 8: detect through a small rootfs (else by name only).
 * Without a tail: a 64-hex id, a hybrid host, no rootfs (JSON has no raw
 * NUL, so every config.json seed is a plan seed as it is).
 *
 * Oracles: the plan is within its bounds, the machine-id is 32 lowercase
 * hex digits and not all zeros, enums are in range, plan_build is
 * deterministic, plan_dump prints the verdict. */
#include <fcntl.h>
#include <stdio.h>

#include "fuzz.h"
#include "plan.h"

#define MAX_SANN 32

static char *base;
static int rootfd = -1;

static const struct fuzz_node tree[] = {
        { FZ_FILE, "lib/systemd/systemd", NULL }, { FZ_FILE, "bin/busybox", NULL },
        { FZ_DIR, "usr/local/sbin", NULL },
        { FZ_LINK, "sbin/init", "/lib/systemd/systemd" },
        { FZ_LINK, "usr/sbin/init", "../../bin/busybox" },
        { FZ_LINK, "usr/local/sbin/init", "/usr/local/sbin/init" },
        {},
};

int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
        base = fuzz_mkdtemp("plan");
        fuzz_tree(base, tree);
        rootfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                abort();
        return 0;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
        if (rootfd >= 0)
                (void)close(rootfd);
        fuzz_rm_rf(base);
}

static void check_machine_id(const char *id)
{
        size_t i;
        bool nonzero = false;

        FUZZ_CHECK(strlen(id) == MACHINE_ID_LEN, "machine-id `%s`", id);
        for (i = 0; i < MACHINE_ID_LEN; i++) {
                FUZZ_CHECK((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'),
                           "machine-id `%s`", id);
                nonzero = nonzero || id[i] != '0';
        }
        FUZZ_CHECK(nonzero, "all-zero machine-id");
}

static void check_plan(const struct plan *p, const struct plan_input *in)
{
        _cleanup_free_ char *dump = NULL;
        size_t i, len = 0;
        FILE *f;

        FUZZ_CHECK(p->n_warnings <= PLAN_MAX_WARNINGS, "%zu warnings", p->n_warnings);
        for (i = 0; i < p->n_warnings; i++)
                FUZZ_CHECK(p->warnings[i] == p->warnbuf[i] &&
                                   strnlen(p->warnbuf[i], sizeof(p->warnbuf[i])) < sizeof(p->warnbuf[i]),
                           "warning %zu", i);
        FUZZ_CHECK(plan_has_work(p) == p->detect.systemd, "has_work");
        if (p->detect.systemd) {
                FUZZ_CHECK(p->n_tmpfs > 0 && p->n_tmpfs <= PLAN_MAX_TMPFS, "%zu tmpfs", p->n_tmpfs);
                for (i = 0; i < p->n_tmpfs; i++)
                        FUZZ_CHECK(p->tmpfs[i].destination && p->tmpfs[i].destination[0] == '/' &&
                                           (!p->tmpfs[i].skip || p->tmpfs[i].skip_reason),
                                   "tmpfs %zu", i);
                check_machine_id(p->machine_id);
                FUZZ_CHECK(p->mid_source == MID_FROM_UUID || p->mid_source == MID_FROM_ID, "mid source");
                FUZZ_CHECK(p->mid_method <= MID_BIND_FROM_RUN, "mid method");
                FUZZ_CHECK(p->mid_method != MID_SKIP || p->mid_skip_reason, "mid skip reason");
                FUZZ_CHECK(p->cgroup <= CG_ACT_V1_NAMED, "cgroup action %d", (int)p->cgroup);
                FUZZ_CHECK(!p->mount_label || in->selinux_enabled, "label without SELinux");
                FUZZ_CHECK(!p->userns || in->config->has_userns, "userns");
        }
        f = open_memstream(&dump, &len);
        FUZZ_CHECK(f != NULL, "open_memstream");
        plan_dump(p, f);
        FUZZ_CHECK(fclose(f) == 0, "fclose");
        FUZZ_CHECK(strncmp(dump, p->detect.systemd ? "systemd: yes\n" : "systemd: no\n",
                           p->detect.systemd ? 13 : 12) == 0,
                   "plan_dump starts with `%.40s`", dump);
}

static void check_same(const struct plan *a, const struct plan *b)
{
        size_t i;

        FUZZ_CHECK(a->detect.systemd == b->detect.systemd && streq(a->detect.reason, b->detect.reason) &&
                           streq(a->machine_id, b->machine_id) && a->n_tmpfs == b->n_tmpfs &&
                           a->cgroup == b->cgroup && a->mid_method == b->mid_method &&
                           a->n_warnings == b->n_warnings,
                   "plan_build is not deterministic");
        for (i = 0; i < a->n_tmpfs; i++)
                FUZZ_CHECK(a->tmpfs[i].skip == b->tmpfs[i].skip, "tmpfs %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char default_id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        struct oci_config c;
        struct plan_input in = {};
        struct kv sann[MAX_SANN];
        struct plan p1, p2;
        hook_error_t err = {};
        _cleanup_free_ char *tail = NULL;
        const uint8_t *nul;
        size_t clen = size, n_sann = 0;
        int fd0 = fuzz_lowest_fd(), r;
        unsigned flags = 2;

        if (size > CONFIG_MAX_BYTES)
                return 0;
        in.id = default_id;
        nul = memchr(data, '\0', size);
        if (nul) {
                size_t tlen = size - (size_t)(nul - data) - 1;
                char *s, *end;

                clen = (size_t)(nul - data);
                tail = xmalloc(tlen + 1);
                memcpy(tail, nul + 1, tlen);
                tail[tlen] = '\0';
                end = tail + tlen;
                if (tlen > 0) {
                        flags = (unsigned char)tail[0];
                        in.id = tail + 1;
                }
                /* the flags byte may be 0: the id starts after it anyway */
                for (s = tlen > 0 ? tail + 1 + strlen(tail + 1) + 1 : end; s < end && n_sann < MAX_SANN;
                     s += strlen(s) + 1) {
                        char *eq = strchr(s, '=');
                        if (eq)
                                *eq = '\0';
                        sann[n_sann].key = s;
                        sann[n_sann++].value = eq ? eq + 1 : "";
                }
        }
        r = spec_parse_config((const char *)data, clen, &c, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                FUZZ_CHECK(fuzz_lowest_fd() == fd0, "fd leak");
                return 0;
        }
        in.config = &c;
        in.state_annotations = n_sann ? sann : NULL;
        in.n_state_annotations = n_sann;
        in.host_cgroup = (enum cg_host_mode)(flags & 3);
        in.selinux_enabled = flags & 4;
        in.rootfd = (flags & 8) ? rootfd : -1;
        r = plan_build(&in, &p1, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
        } else {
                check_plan(&p1, &in);
                FUZZ_CHECK(plan_build(&in, &p2, &err) >= 0, "second plan_build failed");
                check_same(&p1, &p2);
        }
        spec_config_done(&c);
        FUZZ_CHECK(fuzz_lowest_fd() == fd0, "fd leak");
        return 0;
}
