/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hook parses mountinfo itself (it links statically); check it against
 * libmount on the sample tables and on this machine's live table. */
#include <check.h>
#include <libmount/libmount.h>
#include <stdio.h>

#include "cgroup.h"
#include "mountinfo.h"
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


/* Every field of every line as libmount reads it, through the streaming
 * reader (a file read in 64 KiB pieces: lines cross the pieces). */
struct fields_ctx {
        struct libmnt_table *tb;
        struct libmnt_iter *it;
        size_t n;
};

static int fields_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct fields_ctx *c = userdata;
        struct libmnt_fs *fs;
        const char *opt;

        (void)err;
        ck_assert_int_eq(mnt_table_next_fs(c->tb, c->it, &fs), 0);
        ck_assert_uint_eq(e->id, (uint64_t)mnt_fs_get_id(fs));
        ck_assert_uint_eq(e->parent, (uint64_t)mnt_fs_get_parent_id(fs));
        ck_assert_str_eq(e->root, mnt_fs_get_root(fs));
        ck_assert_str_eq(e->mount_point, mnt_fs_get_target(fs));
        ck_assert_str_eq(e->fstype, mnt_fs_get_fstype(fs));
        ck_assert_str_eq(e->source, mnt_fs_get_srcpath(fs) ? mnt_fs_get_srcpath(fs) : mnt_fs_get_source(fs));
        opt = mnt_fs_get_optional_fields(fs) ? mnt_fs_get_optional_fields(fs) : "";
        ck_assert_str_eq(e->optional, opt);
        ck_assert_int_eq(mountinfo_has_tag(e, "shared"), strncmp(opt, "shared:", 7) == 0 || strstr(opt, " shared:"));
        c->n++;
        return 0;
}

static char *big_table(size_t min_bytes, size_t *ret_lines)
{
        size_t cap = min_bytes + 8192, len = 0, n = 0;
        char *t = xmalloc(cap);

        while (len < min_bytes) {
                len += (size_t)snprintf(t + len, cap - len,
                                        "%zu 1 0:%zu / /tmp/osh-many/a\\040very\\040long\\040name-%zu/%0200zu rw,relatime %s- tmpfs tmpfs rw\n",
                                        n + 100, n % 50, n, n, n % 3 ? "" : "shared:7 ");
                n++;
        }
        *ret_lines = n;
        return t;
}

static void stream_compare(const char *text, size_t lines)
{
        _cleanup_free_ char *path = tu_join(tu_tmpdir(), "mountinfo-copy");
        struct fields_ctx c = {};
        hook_error_t err = {};
        FILE *f = fmemopen((void *)text, strlen(text), "r");

        tu_write(path, text);
        c.tb = mnt_new_table();
        c.it = mnt_new_iter(MNT_ITER_FORWARD);
        ck_assert_int_eq(mnt_table_parse_stream(c.tb, f, "mountinfo"), 0);
        ck_assert_ok(mountinfo_foreach_path(path, fields_cb, &c, &err), &err);
        if (lines)
                ck_assert_uint_eq(c.n, lines);
        ck_assert_uint_gt(c.n, 0);
        mnt_free_iter(c.it);
        mnt_unref_table(c.tb);
        fclose(f);
        (void)unlink(path);
}

/* 10 MiB: more than a node with many pods has; no cap applies. */
START_TEST(test_stream_big)
{
        size_t lines;
        _cleanup_free_ char *text = big_table(10u << 20, &lines);

        stream_compare(text, lines);
}
END_TEST

/* This machine's own table: the cgroup summary and every field. */
START_TEST(test_live)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        ck_assert(f);
        ck_assert_int_ge(getdelim(&text, &len, '\0', f), 0);
        fclose(f);
        compare("/proc/self/mountinfo", text);
        stream_compare(text, 0);
}
END_TEST

/* listmount/statmount against mountinfo, on this machine's table: the
 * subtree below a few mount points, field by field. */
struct rows {
        char **v;
        size_t n;
        const char *top;        /* mountinfo side: only at or below */
};

static int rows_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct rows *r = userdata;
        size_t l = r->top ? strlen(r->top) : 0;

        (void)err;
        if (r->top && !streq(r->top, "/") &&
            !(strncmp(e->mount_point, r->top, l) == 0 && (e->mount_point[l] == '\0' || e->mount_point[l] == '/')))
                return 0;
        r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
        r->v[r->n++] = tu_printf("%llu %llu %s %s %s %.2s %d %d", (unsigned long long)e->id,
                                 (unsigned long long)e->parent, e->root, e->mount_point, e->fstype, e->options,
                                 mountinfo_has_tag(e, "shared"), mountinfo_has_tag(e, "master"));
        return 0;
}

static char *rows_text(struct rows *r)
{
        char *out = xstrdup("");
        size_t i;

        for (i = 0; i < r->n; i++) {
                char *t = tu_printf("%s%s\n", out, r->v[i]);
                free(out);
                free(r->v[i]);
                out = t;
        }
        free(r->v);
        return out;
}

static const char *const tops[] = { "/", "/proc", "/sys", "/dev" };

START_TEST(test_mountlist_live)
{
        _cleanup_close_ int fd = open(tops[_i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct rows a = {}, b = { .top = tops[_i] };
        _cleanup_free_ char *ta = NULL, *tb = NULL;
        hook_error_t err = {};
        int r;

        ck_assert_int_ge(fd, 0);
        r = mountlist_foreach_below(fd, rows_cb, &a, &err);
        if (r == -ENOSYS || r == -EPERM) {
                fprintf(stderr, "listmount/statmount: %s, not compared\n", strerror(-r));
                return;
        }
        ck_assert_ok(r, &err);
        ck_assert_ok(mountinfo_foreach_path("/proc/self/mountinfo", rows_cb, &b, &err), &err);
        ta = rows_text(&a);
        tb = rows_text(&b);
        if (!streq(tops[_i], "/") && b.n > 0 && !strstr(tb, tops[_i]))
                return;
        /* mountinfo may list a path that is not a mount point (then the
         * subtree of / or of the mount below it) */
        if (a.n > 0)
                ck_assert_str_eq(ta, tb);
}
END_TEST

/* statmount at one path against the top mountinfo entry there. */
struct top {
        const char *at;
        char *row;
};

static int top_cb(const struct mountinfo_entry *e, void *userdata, hook_error_t *err)
{
        struct top *t = userdata;

        (void)err;
        if (t->at && !streq(e->mount_point, t->at))
                return 0;
        free(t->row);
        t->row = tu_printf("%llu %s %s %s %.2s %d", (unsigned long long)e->id, e->root, e->mount_point, e->fstype,
                           e->options, strstr(e->super_options, "name=systemd") != NULL);
        return 0;
}

static const char *const stat_paths[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd",
                                          "/proc", "/" };

START_TEST(test_mountlist_stat_path)
{
        struct top a = {}, b = { .at = stat_paths[_i] };
        hook_error_t err = {};
        int r = mountlist_stat_path(stat_paths[_i], top_cb, &a, &err);

        if (r == -ENOSYS || r == -EPERM) {
                fprintf(stderr, "statmount: %s, not compared\n", strerror(-r));
                return;
        }
        ck_assert_ok(r, &err);
        ck_assert_ok(mountinfo_foreach_path("/proc/self/mountinfo", top_cb, &b, &err), &err);
        if (!a.row) {   /* not a mount point here: mountinfo agrees */
                ck_assert_ptr_null(b.row);
                return;
        }
        ck_assert_ptr_nonnull(b.row);
        ck_assert_str_eq(a.row, b.row);
        free(a.row);
        free(b.row);
}
END_TEST

static const char *const malformed[] = {
        "", "1", "1 2 0:3 / /x rw", "1 2 0:3 / /x rw shared:1", "x 2 0:3 / /x rw - tmpfs t rw",
        "1 2 03 / /x rw - tmpfs t rw", "1 2 0:3 / /x rw -", "1 2 0:3 / /x rw - tmpfs",
        "99999999999999999999999 2 0:3 / /x rw - tmpfs t rw",
};

START_TEST(test_malformed)
{
        _cleanup_free_ char *line = xstrdup(malformed[_i]);
        struct mountinfo_entry e;

        ck_assert_int_eq(mountinfo_parse_line(line, &e), -EINVAL);
}
END_TEST

START_TEST(test_tags)
{
        char line[] = "31 30 0:26 /a\\040b /run/my\\040dir rw shared:9 master:2 propagate_from:4 - cgroup2 none rw";
        char plain[] = "31 30 0:26 / /run rw - tmpfs tmpfs rw";
        struct mountinfo_entry e;

        ck_assert_int_eq(mountinfo_parse_line(line, &e), 0);
        ck_assert_str_eq(e.root, "/a b");
        ck_assert_str_eq(e.mount_point, "/run/my dir");
        ck_assert_str_eq(e.optional, "shared:9 master:2 propagate_from:4");
        ck_assert(mountinfo_has_tag(&e, "shared"));
        ck_assert(mountinfo_has_tag(&e, "master"));
        ck_assert(!mountinfo_has_tag(&e, "share"));
        ck_assert(!mountinfo_has_tag(&e, "unbindable"));
        ck_assert_int_eq(mountinfo_parse_line(plain, &e), 0);
        ck_assert_str_eq(e.optional, "");
        ck_assert(!mountinfo_has_tag(&e, "shared"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("mountinfo");

        TU_TCASE(s, "libmount", 0, TU_LOOP(test_samples, samples),
                 TU_TEST(test_escapes_and_stacking));
        TU_TCASE(s, "reader", 120, TU_TEST(test_stream_big), TU_TEST(test_live),
                 TU_LOOP(test_malformed, malformed), TU_TEST(test_tags),
                 TU_LOOP(test_mountlist_live, tops), TU_LOOP(test_mountlist_stat_path, stat_paths));
        return tu_run(s);
}
