/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the Check suites.  Everything is static inline so each
 * test binary stays a single translation unit. */
#ifndef OSH_TESTUTIL_H
#define OSH_TESTUTIL_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "spec.h"
#include "util.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/data in the source tree"
#endif

/* r < 0, a one-line message, and the message contains SUB. */
#define ck_assert_err(r, err, sub)                                                             \
        do {                                                                                   \
                ck_assert_msg((r) < 0, "expected an error containing `%s`, got r=%d", (sub),   \
                              (int)(r));                                                       \
                ck_assert_msg(strstr((err)->msg, (sub)) != NULL, "error `%s` lacks `%s`",      \
                              (err)->msg, (sub));                                              \
                ck_assert_msg(strchr((err)->msg, '\n') == NULL, "error `%s` spans lines",      \
                              (err)->msg);                                                     \
        } while (0)

#define ck_assert_ok(r, err) ck_assert_msg((r) >= 0, "unexpected error %d: %s", (int)(r), (err)->msg)

/* ---- temp dirs ---------------------------------------------------------
 * main() makes one private dir per test binary (mkdtemp under $TMPDIR or
 * /tmp, so parallel runs and distcheck never collide) and removes it after
 * the run, also when a forked test died.  Tests make subdirs below it. */
static char tu_tmp_base[4096];

static inline int tu_rm_one(const char *p, const struct stat *st _unused_, int type _unused_,
                            struct FTW *ftw _unused_)
{
        return remove(p) < 0 ? -1 : 0;
}

static inline void tu_rm_rf(const char *path)
{
        (void)nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static inline const char *tu_tmpdir(void)
{
        const char *t = getenv("TMPDIR");
        return t && t[0] == '/' ? t : "/tmp";
}

/* A new empty directory below the binary's temp dir; returns its path. */
static inline char *tu_mkdtemp(void)
{
        char *p = xmalloc(strlen(tu_tmp_base) + 16);

        (void)sprintf(p, "%s/t-XXXXXX", tu_tmp_base);
        ck_assert_ptr_nonnull(mkdtemp(p));
        return p;
}

/* ---- file trees --------------------------------------------------------
 * A rootfs described as a table.  Directories and files are made first
 * (parents included), symlinks last, so that creating the tree never walks
 * through one of its own (hostile) links. */
enum tu_kind { TU_DIR, TU_FILE, TU_LINK, TU_FIFO };

struct tu_node {
        enum tu_kind kind;
        const char *path;        /* relative to the tree's root */
        const char *arg;         /* file content or link target */
};

static inline void tu_mkdir_p(const char *root, const char *rel)
{
        char *p = xmalloc(strlen(root) + strlen(rel) + 2), *s;

        (void)sprintf(p, "%s/%s", root, rel);
        for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p);
                *s = '/';
        }
        ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p);
        free(p);
}

static inline void tu_write(const char *path, const char *content)
{
        FILE *f = fopen(path, "we");

        ck_assert_msg(f != NULL, "create %s: %m", path);
        ck_assert_int_eq(fputs(content, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

/* Contents of PATH (NULL when it cannot be opened). */
static inline char *tu_read(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        buf = xmalloc(1);
        for (;;) {
                size_t n;
                buf = xrealloc(buf, len + 65537);
                n = fread(buf + len, 1, 65536, f);
                len += n;
                if (n == 0)
                        break;
        }
        (void)fclose(f);
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return buf;
}

static inline void tu_make_node(const char *root, const struct tu_node *n)
{
        _cleanup_free_ char *p = xmalloc(strlen(root) + strlen(n->path) + 2);
        char *slash;

        (void)sprintf(p, "%s/%s", root, n->path);
        slash = strrchr(p, '/');
        if (slash > p + strlen(root)) {
                *slash = '\0';
                tu_mkdir_p(root, p + strlen(root) + 1);
                *slash = '/';
        }
        switch (n->kind) {
        case TU_DIR:
                tu_mkdir_p(root, n->path);
                break;
        case TU_FILE:
                tu_write(p, n->arg ? n->arg : "");
                break;
        case TU_FIFO:
                ck_assert_msg(mkfifo(p, 0644) == 0, "mkfifo %s: %m", p);
                break;
        case TU_LINK:
                ck_assert_msg(symlink(n->arg, p) == 0, "symlink %s: %m", p);
                break;
        }
}

/* Builds the tree in a new temp dir; returns its path. */
static inline char *tu_tree(const struct tu_node *nodes, size_t n)
{
        char *root = tu_mkdtemp();
        size_t i;

        for (i = 0; i < n; i++)
                if (nodes[i].kind != TU_LINK)
                        tu_make_node(root, &nodes[i]);
        for (i = 0; i < n; i++)
                if (nodes[i].kind == TU_LINK)
                        tu_make_node(root, &nodes[i]);
        return root;
}

static inline int tu_open_dir(const char *path)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "open %s: %m", path);
        return fd;
}

/* ROOT/REL as a new string. */
static inline char *tu_join(const char *root, const char *rel)
{
        char *p = xmalloc(strlen(root) + strlen(rel) + 2);
        (void)sprintf(p, "%s/%s", root, rel);
        return p;
}

static inline bool tu_exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

/* ---- data files and JSON ------------------------------------------------ */
static inline char *tu_data(const char *name, size_t *ret_len)
{
        _cleanup_free_ char *p = tu_join(TEST_DATA_DIR, name);
        char *buf = tu_read(p, ret_len);

        ck_assert_msg(buf != NULL, "cannot read test data %s: %m", p);
        return buf;
}

static inline int tu_parse_config(const char *json, struct oci_config *c, hook_error_t *err)
{
        return spec_parse_config(json, strlen(json), c, err);
}

/* A config.json from printf-style parts (1 MiB values fit). */
static inline char *tu_printf(const char *fmt, ...) _printf_(1, 2);
static inline char *tu_printf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(r, 0);
        return s;
}

/* ---- suites ------------------------------------------------------------
 * TU_TCASE(s, "name", timeout, entries...) adds a test case to s: each
 * entry a test run once (TU_TEST), once per element of a table (TU_LOOP)
 * or for _i in 0..n-1 (TU_LOOP_N); timeout 0 keeps Check's default. */
struct tu_test {
        const TTest *test;
        int n; /* -1: a plain test */
};

#define TU_TEST(t) { (t), -1 }
#define TU_LOOP(t, table) { (t), (int)ELEMENTSOF(table) }
#define TU_LOOP_N(t, n) { (t), (int)(n) }
#define TU_TCASE(s, name, timeout, ...)                                                        \
        tu_tcase((s), (name), (timeout), (const struct tu_test[]){ __VA_ARGS__ },             \
                 sizeof((const struct tu_test[]){ __VA_ARGS__ }) / sizeof(struct tu_test))

static inline void tu_tcase(Suite *s, const char *name, int timeout, const struct tu_test *t,
                            size_t n)
{
        TCase *tc = tcase_create(name);

        if (timeout > 0)
                tcase_set_timeout(tc, timeout);
        for (size_t i = 0; i < n; i++) {
                if (t[i].n < 0)
                        tcase_add_test(tc, t[i].test);
                else
                        tcase_add_loop_test(tc, t[i].test, 0, t[i].n);
        }
        suite_add_tcase(s, tc);
}

/* ---- main --------------------------------------------------------------- */
static inline int tu_run(Suite *s)
{
        SRunner *sr = srunner_create(s);
        int failed;

        (void)snprintf(tu_tmp_base, sizeof(tu_tmp_base), "%s/osh-unit-XXXXXX", tu_tmpdir());
        if (!mkdtemp(tu_tmp_base)) {
                perror("mkdtemp");
                return 99;   /* automake: hard error */
        }
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        tu_rm_rf(tu_tmp_base);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
