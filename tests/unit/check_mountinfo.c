/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hook parses mountinfo itself (it links statically); check it against
 * libmount on the sample tables and on this machine's live table. */
#include <check.h>
#include <libmount/libmount.h>
#include <stdio.h>

#include "cgroup.h"
#include "testutil.h"

struct ref {
        char *unified_target, *unified_root, *named_target, *named_root;
};

static bool is_named(const char *opts)
{
        char *v = NULL;
        size_t len = 0;

        return opts && mnt_optstr_get_option(opts, "name", &v, &len) == 0 && len == 7 && !strncmp(v, "systemd", 7);
}

static void libmount_reference(const char *text, struct ref *r)
{
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        struct libmnt_table *tb = mnt_new_table();
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;

        memset(r, 0, sizeof(*r));
        ck_assert(f && tb && it);
        ck_assert_int_eq(mnt_table_parse_stream(tb, f, "mountinfo"), 0);
        while (mnt_table_next_fs(tb, it, &fs) == 0) {
                const char *type = mnt_fs_get_fstype(fs);
                if (streq_ptr(type, "cgroup2")) {
                        r->unified_target = (char *)mnt_fs_get_target(fs);
                        r->unified_root = (char *)mnt_fs_get_root(fs);
                } else if (streq_ptr(type, "cgroup") && is_named(mnt_fs_get_fs_options(fs))) {
                        r->named_target = (char *)mnt_fs_get_target(fs);
                        r->named_root = (char *)mnt_fs_get_root(fs);
                }
        }
        *r = (struct ref){ xstrdup(r->unified_target), xstrdup(r->unified_root), xstrdup(r->named_target),
                           xstrdup(r->named_root) };
        mnt_free_iter(it);
        mnt_unref_table(tb);
        fclose(f);
}

static void compare(const char *what, const char *text)
{
        struct cg_mounts m;
        struct ref r;
        hook_error_t err = {};

        libmount_reference(text, &r);
        ck_assert_int_eq(cg_parse_mounts(text, &m, &err), 0);
        ck_assert_msg(streq_ptr(m.unified_target, r.unified_target) && streq_ptr(m.unified_root, r.unified_root),
                      "%s: unified %s %s, libmount %s %s", what, m.unified_target, m.unified_root,
                      r.unified_target, r.unified_root);
        ck_assert_msg(streq_ptr(m.named_target, r.named_target) && streq_ptr(m.named_root, r.named_root),
                      "%s: named %s %s, libmount %s %s", what, m.named_target, m.named_root, r.named_target,
                      r.named_root);
        cg_mounts_done(&m);
        free(r.unified_target), free(r.unified_root), free(r.named_target), free(r.named_root);
}

static const char *const samples[] = { "mountinfo-hybrid.txt", "mountinfo-v1.txt", "mountinfo-v2.txt" };

START_TEST(test_samples)
{
        size_t len;
        _cleanup_free_ char *text = tu_data(samples[_i], &len);

        compare(samples[_i], text);
}
END_TEST

/* Escaped blanks and a cgroup2 mount stacked over another: the last wins. */
START_TEST(test_escapes_and_stacking)
{
        compare("escapes",
                "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                "31 30 0:26 /a\\040b /run/my\\040dir\\134x rw shared:9 master:2 - cgroup2 none rw,nsdelegate\n"
                "32 1 0:27 /c\\011d /x\\012y rw - cgroup systemd rw,xattr,name=systemd\n"
                "33 1 0:28 / /y rw - cgroup cgroup rw,name=systemdx\n");
}
END_TEST

START_TEST(test_live)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        ck_assert(f);
        ck_assert_int_ge(getdelim(&text, &len, '\0', f), 0);
        fclose(f);
        compare("/proc/self/mountinfo", text);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("mountinfo");

        TU_TCASE(s, "libmount", 0, TU_LOOP(test_samples, samples),
                 TU_TEST(test_escapes_and_stacking), TU_TEST(test_live));
        return tu_run(s);
}
