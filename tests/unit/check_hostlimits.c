/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostlimits: the inotify decision (pure) and the cgroup walk that counts
 * systemd instances, on plain directory trees standing for cgroupfs. */
#include <fcntl.h>
#include <limits.h>

#include "hostlimits.h"
#include "testutil.h"

/* ---- hl_inotify_low ------------------------------------------------------ */
static const struct {
        long max, running, per;
        bool low;
} lows[] = {
        { 128, 0, 8, false },        /* the first container */
        { 128, 15, 8, false },       /* 16 x 8 = 128: just fits */
        { 128, 16, 8, true },        /* the 17th does not */
        { 128, 50, 8, true },
        { 8192, 100, 8, false },     /* the README's value: 100 fit */
        { 8192, 1023, 8, false },
        { 8192, 1024, 8, true },
        { 0, 100, 8, false },        /* unknown limit: say nothing */
        { -1, 100, 8, false },
        { 128, -1, 8, false },       /* unknown count: say nothing */
        { 128, 100, 0, false },
        { 1, 0, 1, false },
        { 1, 1, 1, true },
        { LONG_MAX, LONG_MAX, 8, false }, /* no overflow: clamps the count */
        { INT_MAX, LONG_MAX, 8, true },
};

START_TEST(test_low)
{
        char msg[512];
        bool low = hl_inotify_low(lows[_i].max, lows[_i].running, lows[_i].per, msg, sizeof(msg));

        ck_assert_msg(low == lows[_i].low, "max %ld running %ld per %ld: low %d", lows[_i].max,
                      lows[_i].running, lows[_i].per, low);
        if (low) {
                ck_assert_ptr_nonnull(strstr(msg, "fs.inotify.max_user_instances"));
                ck_assert_ptr_nonnull(strstr(msg, "sysctl -w fs.inotify.max_user_instances="));
                ck_assert_ptr_null(strchr(msg, '\n'));
        } else {
                ck_assert_str_eq(msg, "");
        }
}
END_TEST

/* The message names the numbers and a value that is enough. */
START_TEST(test_low_message)
{
        char msg[512], want[64];

        ck_assert(hl_inotify_low(128, 16, 8, msg, sizeof(msg)));
        ck_assert_msg(strstr(msg, "is 128, and 16 systemd instances are already running") != NULL, "%s", msg);
        (void)snprintf(want, sizeof(want), "max_user_instances=%ld`", hl_inotify_suggest(16, 8));
        ck_assert_msg(strstr(msg, want) != NULL, "%s", msg);
        ck_assert(hl_inotify_low(4, 1, 8, msg, sizeof(msg)));
        ck_assert_msg(strstr(msg, "1 systemd instance is already") != NULL, "%s", msg);
        /* truncated, still terminated */
        ck_assert(hl_inotify_low(4, 1, 8, msg, 10));
        ck_assert_uint_eq(strlen(msg), 9);
        ck_assert(hl_inotify_low(4, 1, 8, NULL, 0));
}
END_TEST

static const struct {
        long running, per, suggest;
} suggests[] = {
        { 0, 8, 8192 },
        { 100, 8, 8192 },
        { 511, 8, 8192 },
        { 512, 8, 9216 },     /* 2 x 513 x 8 = 8208 -> 9216 */
        { 1000, 8, 16384 },   /* 16016 -> 16384 */
        { -5, 8, 8192 },
        { 10, 0, 8192 },
        { LONG_MAX, 8, INT_MAX },
};

START_TEST(test_suggest)
{
        long s = hl_inotify_suggest(suggests[_i].running, suggests[_i].per);

        ck_assert_int_eq(s, suggests[_i].suggest);
        ck_assert(!hl_inotify_low(s, suggests[_i].running < 0 ? 0 : suggests[_i].running,
                                  suggests[_i].per > 0 ? suggests[_i].per : 8, NULL, 0) ||
                  suggests[_i].running == LONG_MAX);
}
END_TEST

/* ---- hl_count_systemd ---------------------------------------------------- */
static const struct tu_node tree_ctr[] = {
        /* a non-systemd host: containers below a parent, systemd inside each */
        { TU_DIR, "osh/a/init.scope", NULL },
        { TU_DIR, "osh/a/system.slice/dbus.service", NULL },
        { TU_DIR, "osh/a/system.slice/x/init.scope", NULL },   /* inside a: not counted */
        { TU_DIR, "osh/b/init.scope", NULL },
        { TU_DIR, "osh/c", NULL },                             /* not systemd */
        { TU_FILE, "osh/c/init.scope", "" },                   /* a file is no cgroup */
        { TU_DIR, "docker/id1/payload/init.scope", NULL },     /* the hook's payload child */
        { TU_DIR, "k/p.slice/b.slice/pod.slice/c.scope/payload/init.scope", NULL }, /* depth 5 */
        { TU_DIR, "too/deep/d3/d4/d5/d6/d7/init.scope", NULL },  /* beyond depth 6 */
        { TU_DIR, ".hidden/init.scope", NULL },
};
static const struct tu_node tree_host[] = {
        /* a systemd host: its own init.scope at the root counts as one */
        { TU_DIR, "init.scope", NULL },
        { TU_DIR, "system.slice/cron.service", NULL },
        { TU_DIR, "machine.slice/libpod-1.scope/init.scope", NULL },
        { TU_DIR, "machine.slice/libpod-2.scope/init.scope", NULL },
};

static long count_tree(const struct tu_node *t, size_t n, int depth, long budget, bool *partial)
{
        _cleanup_free_ char *root = tu_mkdtemp();
        _cleanup_close_ int fd = -EBADF;
        size_t i;
        long r;

        for (i = 0; i < n; i++)
                tu_make_node(root, &t[i]);
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        *partial = false;
        r = hl_count_systemd(fd, depth, budget, LONG_MAX, partial);
        /* the fd is still ours and still usable */
        ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
        return r;
}

START_TEST(test_count)
{
        bool partial;

        ck_assert_int_eq(count_tree(tree_ctr, ELEMENTSOF(tree_ctr), HL_WALK_DEPTH, HL_WALK_BUDGET, &partial), 4);
        ck_assert(!partial);
        ck_assert_int_eq(count_tree(tree_ctr, ELEMENTSOF(tree_ctr), 7, HL_WALK_BUDGET, &partial), 5);
        ck_assert_int_eq(count_tree(tree_ctr, ELEMENTSOF(tree_ctr), 2, HL_WALK_BUDGET, &partial), 2);
        ck_assert_int_eq(count_tree(tree_host, ELEMENTSOF(tree_host), HL_WALK_DEPTH, HL_WALK_BUDGET, &partial), 3);
        ck_assert(!partial);
        ck_assert_int_eq(count_tree(tree_ctr, 0, HL_WALK_DEPTH, HL_WALK_BUDGET, &partial), 0);
        ck_assert_int_eq(hl_count_systemd(-EBADF, 6, 100, LONG_MAX, &partial), 0);
}
END_TEST

/* The budget bounds the work and says so; the count is a lower bound. */
START_TEST(test_count_budget)
{
        bool partial;
        long n = count_tree(tree_ctr, ELEMENTSOF(tree_ctr), HL_WALK_DEPTH, 3, &partial);

        ck_assert(partial);
        ck_assert_int_le(n, 4);
        ck_assert_int_eq(count_tree(tree_ctr, ELEMENTSOF(tree_ctr), HL_WALK_DEPTH, 0, &partial), 0);
        ck_assert(partial);
}
END_TEST

/* Enough found: the walk stops there, the count decides as the full one. */
START_TEST(test_count_stop)
{
        _cleanup_free_ char *root = tu_mkdtemp();
        _cleanup_close_ int fd = -EBADF;
        bool partial = false;
        size_t i;

        for (i = 0; i < ELEMENTSOF(tree_ctr); i++)
                tu_make_node(root, &tree_ctr[i]);
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, 2, &partial), 2);
        ck_assert_int_eq(hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, 1, &partial), 1);
        ck_assert_int_eq(hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, 4, &partial), 4);
        ck_assert_int_eq(hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, 99, &partial), 4);
        ck_assert_int_eq(hl_count_systemd(fd, HL_WALK_DEPTH, HL_WALK_BUDGET, 0, &partial), 0);
        ck_assert(!partial);
}
END_TEST

static const struct {
        long tasks, cgroup2, want;
} bounds[] = {
        { -1, -1, -1 }, { 100, -1, 100 }, { -1, 7, 7 }, { 100, 7, 7 }, { 5, 7, 5 }, { 0, 7, 0 },
};

START_TEST(test_bound)
{
        ck_assert_int_eq(hl_inotify_bound(bounds[_i].tasks, bounds[_i].cgroup2), bounds[_i].want);
}
END_TEST

/* The probe on this machine: whatever it finds, it does not fail, and the
 * limit it reads is the sysctl's.  The fast probe decides as the full one,
 * at this limit and at one just above and below what runs here. */
START_TEST(test_probe)
{
        struct hl_inotify h;
        _cleanup_free_ char *s = tu_read("/proc/sys/fs/inotify/max_user_instances", NULL);

        struct hl_inotify f;

        hl_inotify_probe(&h);
        if (s)
                ck_assert_int_eq(h.max_instances, strtol(s, NULL, 10));
        ck_assert_int_ge(h.running, -1);
        hl_inotify_probe_fast(&f);
        ck_assert_int_eq(f.max_instances, h.max_instances);
        ck_assert_int_eq(hl_inotify_low(f.max_instances, f.running, HL_INOTIFY_PER_CONTAINER, NULL, 0),
                         hl_inotify_low(h.max_instances, h.running, HL_INOTIFY_PER_CONTAINER, NULL, 0));
        ck_assert_int_le(f.running, h.running < 0 ? 0 : h.running);
}
END_TEST

static Suite *hostlimits_suite(void)
{
        Suite *s = suite_create("hostlimits");

        TU_TCASE(s, "inotify", 0, TU_LOOP(test_low, lows), TU_TEST(test_low_message),
                 TU_LOOP(test_suggest, suggests), TU_TEST(test_count), TU_TEST(test_count_budget),
                 TU_TEST(test_count_stop), TU_LOOP(test_bound, bounds),
                 TU_TEST(test_probe));
        return s;
}

int main(void)
{
        return tu_run(hostlimits_suite());
}
