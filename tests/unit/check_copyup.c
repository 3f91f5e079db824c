/* SPDX-License-Identifier: GPL-2.0-or-later */
/* copyup.c: the image's content copied into a new tmpfs.  The image is
 * hostile: links are copied as links, never followed; FIFOs never block;
 * size, entries and depth are bounded. */
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "copyup.h"
#include "testutil.h"

struct copy {
        char *src, *dst, *outside;
};

/* A source tree, an empty destination and a host directory the tree's
 * links point into (a secret file and a FIFO that would block a reader). */
static void copy_setup(struct copy *c, const struct tu_node *nodes, size_t n)
{
        _cleanup_free_ char *secret = NULL, *fifo = NULL;

        c->outside = tu_mkdtemp();
        secret = tu_join(c->outside, "secret");
        fifo = tu_join(c->outside, "fifo");
        tu_write(secret, "host secret\n");
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        c->src = tu_tree(nodes, n);
        c->dst = tu_mkdtemp();
}

static int copy_run(const struct copy *c, hook_error_t *err)
{
        _cleanup_close_ int s = tu_open_dir(c->src), d = tu_open_dir(c->dst);
        return copyup_tree(s, d, NULL, false, err);
}

static void copy_done(struct copy *c)
{
        free(c->src);
        free(c->dst);
        free(c->outside);
}

static struct stat lstat_in(const char *root, const char *rel)
{
        _cleanup_free_ char *p = tu_join(root, rel);
        struct stat st;

        ck_assert_msg(lstat(p, &st) == 0, "%s: %m", p);
        return st;
}

/* ---- what is copied, and how -------------------------------------------- */
static const struct tu_node image[] = {
        { TU_FILE, "file", "content\n" },
        { TU_FILE, "empty", "" },
        { TU_FILE, "dir/sub/deep", "deep\n" },
        { TU_DIR, "setgid" },
        { TU_DIR, "sticky" },
        { TU_DIR, "readonly/inner" },
        { TU_FIFO, "fifo" },
        { TU_LINK, "abs", "/etc/shadow" },
        { TU_LINK, "rel", "../../../../secret" },
        { TU_LINK, "dangling", "/nonexistent" },
        { TU_LINK, "dir/up", ".." },
};

static const struct {
        const char *path;
        mode_t mode;
        time_t mtime;
} attrs[] = {
        { "file", 0640, 1000000000 },
        { "empty", 0604, 1100000000 },
        { "dir/sub/deep", 0755, 1200000000 },
        { "dir/sub", 0750, 1300000000 },
        { "setgid", 02775, 1400000000 },
        { "sticky", 01777, 1500000000 },
        { "readonly/inner", 0700, 1550000000 },
        { "readonly", 0555, 1600000000 },     /* last: its children first */
        { "fifo", 0620, 1700000000 },
};

static void set_attrs(const char *root)
{
        size_t i;

        for (i = 0; i < ELEMENTSOF(attrs); i++) {
                _cleanup_free_ char *p = tu_join(root, attrs[i].path);
                struct timespec ts[2] = { { attrs[i].mtime, 0 }, { attrs[i].mtime, 123456789 } };

                ck_assert_int_eq(chmod(p, attrs[i].mode), 0);
                ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
        }
}

START_TEST(test_copy_attrs)
{
        struct copy c;
        hook_error_t err = {};
        size_t i;

        copy_setup(&c, image, ELEMENTSOF(image));
        set_attrs(c.src);
        ck_assert_ok(copy_run(&c, &err), &err);
        for (i = 0; i < ELEMENTSOF(attrs); i++) {
                struct stat s = lstat_in(c.src, attrs[i].path), d = lstat_in(c.dst, attrs[i].path);

                ck_assert_msg((d.st_mode & S_IFMT) == (s.st_mode & S_IFMT), "%s: type", attrs[i].path);
                ck_assert_msg((d.st_mode & 07777) == attrs[i].mode, "%s: mode %o", attrs[i].path, d.st_mode & 07777);
                ck_assert_msg(d.st_mtim.tv_sec == attrs[i].mtime && d.st_mtim.tv_nsec == 123456789, "%s: mtime",
                              attrs[i].path);
                ck_assert_int_eq(d.st_uid, s.st_uid);
                ck_assert_int_eq(d.st_gid, s.st_gid);
        }
        /* Writable again, so that the cleanup can remove what is inside. */
        for (i = 0; i < 2; i++) {
                _cleanup_free_ char *p = tu_join(i ? c.dst : c.src, "readonly");
                ck_assert_int_eq(chmod(p, 0755), 0);
        }
        copy_done(&c);
}
END_TEST

static const struct {
        const char *path, *content;
} contents[] = {
        { "file", "content\n" }, { "empty", "" }, { "dir/sub/deep", "deep\n" },
};

static const struct {
        const char *path, *target;
} links[] = {
        { "abs", "/etc/shadow" }, { "rel", "../../../../secret" }, { "dangling", "/nonexistent" }, { "dir/up", ".." },
};

START_TEST(test_copy_content)
{
        struct copy c;
        hook_error_t err = {};
        size_t i;

        copy_setup(&c, image, ELEMENTSOF(image));
        ck_assert_ok(copy_run(&c, &err), &err);
        for (i = 0; i < ELEMENTSOF(contents); i++) {
                _cleanup_free_ char *p = tu_join(c.dst, contents[i].path), *got = tu_read(p, NULL);
                ck_assert_pstr_eq(got, contents[i].content);
        }
        /* Links stay links with the same target; nothing behind them is read. */
        for (i = 0; i < ELEMENTSOF(links); i++) {
                _cleanup_free_ char *p = tu_join(c.dst, links[i].path);
                char buf[256];
                ssize_t n = readlink(p, buf, sizeof(buf) - 1);

                ck_assert_msg(n > 0, "%s is not a symlink", p);
                buf[n] = '\0';
                ck_assert_str_eq(buf, links[i].target);
        }
        ck_assert(S_ISFIFO(lstat_in(c.dst, "fifo").st_mode));
        copy_done(&c);
}
END_TEST

/* Links to host files (absolute, relative with enough ../, to a host
 * directory and to a host FIFO): copied as links with the same target,
 * nothing behind them is read or created, no blocking on the FIFO. */
START_TEST(test_copy_host_links)
{
        static const char *const names[] = { "secret", "fifo", "dir", "rel" };
        struct copy c;
        hook_error_t err = {};
        char *targets[ELEMENTSOF(names)];
        size_t i;

        copy_setup(&c, NULL, 0);
        targets[0] = tu_join(c.outside, "secret");
        targets[1] = tu_join(c.outside, "fifo");
        targets[2] = xstrdup(c.outside);
        targets[3] = tu_printf("../../../../../../../../..%s/secret", c.outside);
        for (i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = tu_join(c.src, names[i]);
                ck_assert_int_eq(symlink(targets[i], p), 0);
        }
        ck_assert_ok(copy_run(&c, &err), &err);
        for (i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = tu_join(c.dst, names[i]);
                char buf[4096];
                ssize_t n = readlink(p, buf, sizeof(buf) - 1);

                ck_assert_msg(n > 0, "%s was not copied as a link", names[i]);
                buf[n] = '\0';
                ck_assert_str_eq(buf, targets[i]);
                free(targets[i]);
        }
        copy_done(&c);
}
END_TEST

/* Device nodes do not belong in /run: skipped (making one needs root,
 * so without root only the regular file is checked). */
START_TEST(test_copy_skips_device)
{
        static const struct tu_node nodes[] = { { TU_FILE, "keep", "x" } };
        struct copy c;
        hook_error_t err = {};
        _cleanup_free_ char *dev = NULL, *copied = NULL;

        copy_setup(&c, nodes, ELEMENTSOF(nodes));
        dev = tu_join(c.src, "null");
        if (geteuid() == 0)
                ck_assert_int_eq(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
        ck_assert_ok(copy_run(&c, &err), &err);
        copied = tu_join(c.dst, "null");
        ck_assert(!tu_exists(copied));
        ck_assert(S_ISREG(lstat_in(c.dst, "keep").st_mode));
        copy_done(&c);
}
END_TEST

/* Sockets are runtime state: skipped. */
START_TEST(test_copy_skips_socket)
{
        static const struct tu_node nodes[] = { { TU_FILE, "keep", "x" } };
        struct copy c;
        hook_error_t err = {};
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_free_ char *sock = NULL, *copied = NULL;

        copy_setup(&c, nodes, ELEMENTSOF(nodes));
        sock = tu_join(c.src, "sock");
        if (strlen(sock) >= sizeof(sa.sun_path)) {
                copy_done(&c);
                return;      /* a very long $TMPDIR */
        }
        strcpy(sa.sun_path, sock);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_ok(copy_run(&c, &err), &err);
        copied = tu_join(c.dst, "sock");
        ck_assert(!tu_exists(copied));
        ck_assert(S_ISREG(lstat_in(c.dst, "keep").st_mode));
        copy_done(&c);
}
END_TEST

/* Hard links become independent copies (the tmpfs is new). */
START_TEST(test_copy_hard_links)
{
        static const struct tu_node nodes[] = { { TU_FILE, "a", "same\n" } };
        struct copy c;
        hook_error_t err = {};
        _cleanup_free_ char *a = NULL, *b = NULL, *got = NULL;

        copy_setup(&c, nodes, ELEMENTSOF(nodes));
        a = tu_join(c.src, "a");
        b = tu_join(c.src, "b");
        ck_assert_int_eq(link(a, b), 0);
        ck_assert_ok(copy_run(&c, &err), &err);
        ck_assert_int_eq(lstat_in(c.dst, "a").st_nlink, 1);
        ck_assert_int_eq(lstat_in(c.dst, "b").st_nlink, 1);
        free(b);
        b = tu_join(c.dst, "b");
        got = tu_read(b, NULL);
        ck_assert_str_eq(got, "same\n");
        copy_done(&c);
}
END_TEST

/* ---- limits ------------------------------------------------------------------ */
static const struct {
        unsigned depth;
        bool ok;
} depths[] = {
        { 1, true }, { COPYUP_MAX_DEPTH, true }, { COPYUP_MAX_DEPTH + 1, false }, { 200, false },
};

START_TEST(test_copy_depth)
{
        struct copy c;
        hook_error_t err = {};
        char *rel = xmalloc(2 * depths[_i].depth + 1);
        unsigned i;
        int r;

        for (i = 0; i < depths[_i].depth; i++)
                memcpy(rel + 2 * i, "d/", 2);
        rel[2 * depths[_i].depth - 1] = '\0';
        copy_setup(&c, NULL, 0);
        tu_mkdir_p(c.src, rel);
        r = copy_run(&c, &err);
        if (depths[_i].ok) {
                _cleanup_free_ char *p = tu_join(c.dst, rel);
                ck_assert_ok(r, &err);
                ck_assert(tu_exists(p));
        } else {
                ck_assert_int_eq(r, -ELOOP);
                ck_assert_err(r, &err, "deeper than 32 levels");
        }
        free(rel);
        copy_done(&c);
}
END_TEST

/* COPYUP_MAX_ENTRIES entries pass, one more not.  Empty directories: on
 * some filesystems creating 20000 files takes seconds, mkdir does not. */
START_TEST(test_copy_entries)
{
        struct copy c;
        hook_error_t err = {};
        _cleanup_free_ char *d = NULL;
        _cleanup_close_ int dfd = -EBADF;
        char name[32];
        unsigned i;

        copy_setup(&c, NULL, 0);
        tu_mkdir_p(c.src, "d");
        d = tu_join(c.src, "d");
        dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);
        for (i = 1; i < COPYUP_MAX_ENTRIES; i++) {
                (void)snprintf(name, sizeof(name), "%u", i);
                ck_assert_int_eq(mkdirat(dfd, name, 0755), 0);
        }
        ck_assert_ok(copy_run(&c, &err), &err);

        tu_rm_rf(c.dst);
        ck_assert_int_eq(mkdir(c.dst, 0755), 0);
        ck_assert_int_eq(mkdirat(dfd, "one-more", 0755), 0);
        ck_assert_err(copy_run(&c, &err), &err, "more than 20000 entries to copy");
        copy_done(&c);
}
END_TEST

/* A copy another thread no longer needs stops at its next entry: nothing
 * copied once CANCEL is set; unset, the same tree copies. */
START_TEST(test_copy_cancel)
{
        struct copy c;
        hook_error_t err = {};
        atomic_bool cancel = true;
        _cleanup_close_ int s = -EBADF, d = -EBADF;
        _cleanup_free_ char *there = NULL;
        struct stat st;

        copy_setup(&c, image, ELEMENTSOF(image));
        s = tu_open_dir(c.src);
        d = tu_open_dir(c.dst);
        ck_assert_int_eq(copyup_tree_cancellable(s, d, NULL, false, &cancel, &err), -ECANCELED);
        ck_assert_str_eq(err.msg, "not needed any more");
        there = tu_join(c.dst, "file");
        ck_assert_int_ne(lstat(there, &st), 0);
        atomic_store(&cancel, false);
        ck_assert_ok(copyup_tree_cancellable(s, d, NULL, false, &cancel, &err), &err);
        ck_assert_int_eq(lstat(there, &st), 0);
        copy_done(&c);
}
END_TEST

/* A sparse file far over COPYUP_MAX_BYTES costs only its data (a hole
 * copied as zeros would fill tmpfs pages outside the container's memory
 * limit); data over the cap is refused. */
START_TEST(test_copy_bytes)
{
        struct copy c;
        hook_error_t err = {};
        _cleanup_free_ char *big = NULL, *copied = NULL;
        struct stat st;
        int fd;

        copy_setup(&c, NULL, 0);
        big = tu_join(c.src, "sparse");
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t)120 << 20), 0);
        ck_assert_int_eq(pwrite(fd, "tail", 4, ((off_t)120 << 20) - 4), 4);
        (void)close(fd);
        ck_assert_ok(copy_run(&c, &err), &err);
        copied = tu_join(c.dst, "sparse");
        ck_assert_int_eq(stat(copied, &st), 0);
        ck_assert_int_eq(st.st_size, (off_t)120 << 20);
        ck_assert_int_lt(st.st_blocks * 512, 1 << 20);
        copy_done(&c);

        copy_setup(&c, NULL, 0);
        free(big);
        big = tu_join(c.src, "dense");
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        for (size_t done = 0; done <= COPYUP_MAX_BYTES; done += 65536) {
                static const char chunk[65536] = { 1 };
                ck_assert_int_eq(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
        }
        (void)close(fd);
        ck_assert_err(copy_run(&c, &err), &err, "more than 16777216 bytes to copy");
        ck_assert_ptr_nonnull(strstr(err.msg, "dense"));
        copy_done(&c);
}
END_TEST

/* ---- who may read: the container's root ---------------------------------------- */
static const struct id_map umap[] = { { 0, 100000, 65536 } }, gmap[] = { { 0, 100000, 65536 } };
static const struct {
        bool userns;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        bool ok;
} readers[] = {
        { false, S_IFDIR | 0700, 0, 0, true },              /* host root reads its image */
        { true, S_IFDIR | 0700, 100000, 100000, true },     /* mapped: CAP_DAC_OVERRIDE */
        { true, S_IFDIR | 0700, 100005, 100005, true },
        { true, S_IFDIR | 0700, 0, 0, false },              /* unmapped owner and group */
        { true, S_IFDIR | 0755, 0, 0, true },
        { true, S_IFDIR | 0744, 0, 0, false },              /* r without x: not listable */
        { true, S_IFREG | 0600, 0, 0, false },
        { true, S_IFREG | 0604, 0, 0, true },
        { true, S_IFREG | 0640, 0, 100000, true },          /* group is root's */
        { true, S_IFREG | 0600, 100000, 0, true },          /* owner is root, group unmapped */
        { true, S_IFREG | 0060, 100000, 0, false },         /* owner bits decide for the owner */
        { true, S_IFREG | 0600, 100000, 200000, true },
        { true, S_IFREG | 0004, 200000, 100000, false },    /* group bits for the group */
};

START_TEST(test_reader)
{
        struct copy_reader r = { .userns = readers[_i].userns, .uid = 100000, .gid = 100000,
                                 .uid_maps = umap, .n_uid_maps = 1, .gid_maps = gmap, .n_gid_maps = 1 };
        struct stat st = { .st_mode = readers[_i].mode, .st_uid = readers[_i].uid, .st_gid = readers[_i].gid };

        ck_assert_int_eq(copy_reader_may_read(&r, &st), readers[_i].ok);
}
END_TEST

static Suite *copyup_suite(void)
{
        Suite *s = suite_create("copyup");

        TU_TCASE(s, "reader", 0, TU_LOOP(test_reader, readers));
        TU_TCASE(s, "copy", 0, TU_TEST(test_copy_attrs), TU_TEST(test_copy_content),
                 TU_TEST(test_copy_host_links), TU_TEST(test_copy_skips_socket),
                 TU_TEST(test_copy_skips_device), TU_TEST(test_copy_hard_links), TU_TEST(test_copy_cancel));
        TU_TCASE(s, "limits", 120, TU_LOOP(test_copy_depth, depths), TU_TEST(test_copy_entries),
                 TU_TEST(test_copy_bytes));
        return s;
}

int main(void)
{
        return tu_run(copyup_suite());
}
