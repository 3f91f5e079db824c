/* SPDX-License-Identifier: GPL-2.0-or-later */
/* osh-timer: the timing driver of bench/run.sh.  No shell between the
 * clock and the measured program: each run is one posix_spawn() + wait4(),
 * timed with CLOCK_MONOTONIC, peak RSS from the child's rusage.
 *
 *   osh-timer run [-n N] [-w W] [-r RAW] GROUP [:: GROUP]...
 *       GROUP = [label=L] [in=FILE] [err=FILE] CMD [ARG]...
 *       Runs every group N times (after W unrecorded warm-up rounds),
 *       interleaved: round r runs the groups in order, odd rounds in reverse
 *       order (ABBA...), so drift and cache effects hit every group alike.
 *       stdin is FILE (reopened for every run, default /dev/null); stdout
 *       goes to /dev/null, stderr to /dev/null or FILE.  Writes one record
 *       per run to RAW and prints the summary (see `stats`).
 *
 *   osh-timer wrap RAW LABEL CMD [ARG]...
 *       For use as an OCI hook: runs CMD with this process's stdin, stdout
 *       and stderr (the runtime's state pipe), appends one record to RAW and
 *       exits with CMD's status.
 *
 *   osh-timer poll [-i MS] [-t S] [-s START] LABEL CMD [ARG]...
 *       Runs CMD every MS milliseconds (default 20; start to start, or at
 *       once when a run took longer) until its first line of stdout is
 *       `running`; prints one record whose time is from START (a
 *       CLOCK_REALTIME value in seconds, as bash's $EPOCHREALTIME; default:
 *       now) to the end of that successful run.  Exit 1 on timeout (default
 *       60 s) or when CMD answers degraded/maintenance/stopping; the last
 *       answer goes to stderr.
 *
 *   osh-timer stats < RECORDS
 *       Summary per label, in order of first appearance:
 *       label n median_us p10_us p90_us min_us max_us maxrss_med_kib
 *       maxrss_max_kib nonzero_exits cpu_med_us minflt_med
 *
 * A record is one line: LABEL NS MAXRSS_KIB STATUS CPU_NS MINFLT (STATUS:
 * exit code, or 128+signal; CPU_NS: the child's user + system time; MINFLT:
 * its minor page faults).
 *
 * Peak RSS caveat: posix_spawn() uses CLONE_VM|CLONE_VFORK, and the kernel
 * records the hiwater RSS of the mm a process leaves at execve(), here the
 * driver's own.  So a child's maxrss is never below the driver's peak RSS
 * (link the driver statically to keep that floor low; /bin/true shows it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(clockid_t clk)
{
        struct timespec ts;

        clock_gettime(clk, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
        fprintf(stderr, "osh-timer: %s: %s\n", what, strerror(errno));
        exit(2);
}

static int status_code(int st)
{
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return 255;
}

/* Spawns argv with the given stdio (-1: inherit), waits, returns the exit
 * code; *ns = wall time of spawn + wait, *u = the child's rusage. */
struct usage {
        long rss, minflt;
        uint64_t cpu_ns;
};

static int spawn_wait(char **argv, const char *in, int out_fd, const char *err, uint64_t *ns, struct usage *u)
{
        posix_spawn_file_actions_t fa;
        struct rusage ru;
        uint64_t t0;
        pid_t pid;
        int st, r;

        posix_spawn_file_actions_init(&fa);
        if (in)
                posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
        if (out_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else if (out_fd == -2)
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        if (err)
                posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_APPEND, 0644);
        t0 = now_ns(CLOCK_MONOTONIC);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        if (r != 0) {
                errno = r;
                die(argv[0]);
        }
        while (wait4(pid, &st, 0, &ru) < 0)
                if (errno != EINTR)
                        die("wait4");
        *ns = now_ns(CLOCK_MONOTONIC) - t0;
        u->rss = ru.ru_maxrss;
        u->minflt = ru.ru_minflt;
        u->cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
                    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
        posix_spawn_file_actions_destroy(&fa);
        return status_code(st);
}

/* ---------------------------------------------------------------- stats */

struct rec {
        uint64_t ns;
        struct usage u;
        int status;
};

struct series {
        char *label;
        struct rec *v;
        size_t n, cap;
};

static struct series *series;
static size_t n_series;

static struct series *series_get(const char *label)
{
        size_t i;

        for (i = 0; i < n_series; i++)
                if (strcmp(series[i].label, label) == 0)
                        return &series[i];
        series = realloc(series, (n_series + 1) * sizeof(*series));
        if (!series)
                die("realloc");
        memset(&series[n_series], 0, sizeof(*series));
        series[n_series].label = strdup(label);
        return &series[n_series++];
}

static void series_add(struct series *s, uint64_t ns, const struct usage *u, int status)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 64;
                s->v = realloc(s->v, s->cap * sizeof(*s->v));
                if (!s->v)
                        die("realloc");
        }
        s->v[s->n++] = (struct rec){ ns, *u, status };
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;
        return x < y ? -1 : x > y;
}

/* Median (mean of the two middle values for even n) and nearest-rank
 * percentiles. */
static double median_u64(const uint64_t *v, size_t n)
{
        return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static double pct_u64(const uint64_t *v, size_t n, double p)
{
        size_t k = (size_t)(p * (double)(n - 1) + 0.5);
        return (double)v[k];
}

static long median_long(long *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_long);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_summary(FILE *f)
{
        size_t i, j;

        fprintf(f, "#label\tn\tmedian_us\tp10_us\tp90_us\tmin_us\tmax_us\tmaxrss_med_kib\tmaxrss_max_kib\t"
                   "nonzero\tcpu_med_us\tminflt_med\n");
        for (i = 0; i < n_series; i++) {
                struct series *s = &series[i];
                uint64_t *t = malloc(s->n * sizeof(*t));
                long *m = malloc(s->n * sizeof(*m)), *c = malloc(s->n * sizeof(*c)),
                     *pf = malloc(s->n * sizeof(*pf)), rss_med, rss_max;
                size_t bad = 0;

                if (!t || !m || !c || !pf)
                        die("malloc");
                for (j = 0; j < s->n; j++) {
                        t[j] = s->v[j].ns;
                        m[j] = s->v[j].u.rss;
                        c[j] = (long)(s->v[j].u.cpu_ns / 1000u);
                        pf[j] = s->v[j].u.minflt;
                        bad += s->v[j].status != 0;
                }
                qsort(t, s->n, sizeof(*t), cmp_u64);
                rss_med = median_long(m, s->n);
                rss_max = m[s->n - 1];
                fprintf(f, "%s\t%zu\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%ld\t%ld\t%zu\t%ld\t%ld\n", s->label, s->n,
                        median_u64(t, s->n) / 1e3, pct_u64(t, s->n, 0.1) / 1e3, pct_u64(t, s->n, 0.9) / 1e3,
                        (double)t[0] / 1e3, (double)t[s->n - 1] / 1e3, rss_med, rss_max, bad,
                        median_long(c, s->n), median_long(pf, s->n));
                free(t);
                free(m);
                free(c);
                free(pf);
        }
}

static int cmd_stats(void)
{
        char label[256];
        unsigned long long ns, cpu;
        struct usage u;
        int status;

        while (scanf("%255s %llu %ld %d %llu %ld", label, &ns, &u.rss, &status, &cpu, &u.minflt) == 6) {
                u.cpu_ns = cpu;
                series_add(series_get(label), ns, &u, status);
        }
        if (n_series == 0) {
                fprintf(stderr, "osh-timer stats: no records\n");
                return 1;
        }
        print_summary(stdout);
        return 0;
}

/* ---------------------------------------------------------------- run */

struct group {
        const char *label, *in, *err;
        char **argv;
};

static int cmd_run(int argc, char **argv)
{
        struct group g[64];
        size_t ng = 0, i, round, n = 200, warm = 3;
        const char *raw = NULL;
        FILE *rawf = NULL;
        int a = 0, opt;

        while ((opt = getopt(argc, argv, "+n:w:r:")) >= 0) {
                switch (opt) {
                case 'n': n = strtoul(optarg, NULL, 10); break;
                case 'w': warm = strtoul(optarg, NULL, 10); break;
                case 'r': raw = optarg; break;
                default: return 2;
                }
        }
        a = optind;
        while (a < argc) {
                struct group *x;

                if (ng == 64) {
                        fprintf(stderr, "osh-timer: at most 64 groups\n");
                        return 2;
                }
                x = &g[ng++];
                memset(x, 0, sizeof(*x));
                for (; a < argc; a++) {
                        if (strncmp(argv[a], "label=", 6) == 0)
                                x->label = argv[a] + 6;
                        else if (strncmp(argv[a], "in=", 3) == 0)
                                x->in = argv[a] + 3;
                        else if (strncmp(argv[a], "err=", 4) == 0)
                                x->err = argv[a] + 4;
                        else
                                break;
                }
                if (a >= argc || strcmp(argv[a], "::") == 0) {
                        fprintf(stderr, "osh-timer run: a group without a command\n");
                        return 2;
                }
                x->argv = &argv[a];
                if (!x->label)
                        x->label = argv[a];
                while (a < argc && strcmp(argv[a], "::") != 0)
                        a++;
                if (a < argc)
                        argv[a++] = NULL; /* ends this group's argv */
        }
        if (ng == 0 || n == 0) {
                fprintf(stderr, "osh-timer run: nothing to run\n");
                return 2;
        }
        if (raw && !(rawf = fopen(raw, "w")))
                die(raw);
        for (i = 0; i < ng; i++)
                if (!g[i].in)
                        g[i].in = "/dev/null";
        for (round = 0; round < warm + n; round++) {
                for (i = 0; i < ng; i++) {
                        struct group *x = &g[round % 2 ? ng - 1 - i : i];
                        uint64_t ns;
                        struct usage u;
                        int st = spawn_wait(x->argv, x->in, -2, x->err ? x->err : "/dev/null", &ns, &u);

                        if (round < warm)
                                continue;
                        series_add(series_get(x->label), ns, &u, st);
                        if (rawf)
                                fprintf(rawf, "%s %llu %ld %d %llu %ld\n", x->label, (unsigned long long)ns, u.rss,
                                        st, (unsigned long long)u.cpu_ns, u.minflt);
                }
        }
        if (rawf && fclose(rawf) != 0)
                die(raw);
        print_summary(stdout);
        return 0;
}

/* ---------------------------------------------------------------- wrap */

static int cmd_wrap(int argc, char **argv)
{
        uint64_t ns;
        struct usage u;
        int st, fd;
        char line[512];

        if (argc < 4) {
                fprintf(stderr, "usage: osh-timer wrap RAW LABEL CMD [ARG]...\n");
                return 2;
        }
        st = spawn_wait(&argv[3], NULL, -1, NULL, &ns, &u);
        fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                die(argv[1]);
        snprintf(line, sizeof(line), "%s %llu %ld %d %llu %ld\n", argv[2], (unsigned long long)ns, u.rss, st,
                 (unsigned long long)u.cpu_ns, u.minflt);
        if (write(fd, line, strlen(line)) < 0)
                die(argv[1]);
        close(fd);
        return st;
}

/* ---------------------------------------------------------------- poll */

static void sleep_until(uint64_t t)
{
        struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int cmd_poll(int argc, char **argv)
{
        uint64_t interval = 20, timeout = 60, start_rt = 0, next, deadline, mono0, rt0;
        char buf[256], *nl;
        int opt;

        while ((opt = getopt(argc, argv, "+i:t:s:")) >= 0) {
                switch (opt) {
                case 'i': interval = strtoull(optarg, NULL, 10); break;
                case 't': timeout = strtoull(optarg, NULL, 10); break;
                case 's': start_rt = (uint64_t)(strtod(optarg, NULL) * 1e9); break;
                default: return 2;
                }
        }
        if (argc - optind < 2) {
                fprintf(stderr, "usage: osh-timer poll [-i MS] [-t S] [-s START] LABEL CMD [ARG]...\n");
                return 2;
        }
        /* Convert the REALTIME start into the MONOTONIC clock once. */
        rt0 = now_ns(CLOCK_REALTIME);
        mono0 = now_ns(CLOCK_MONOTONIC);
        if (!start_rt)
                start_rt = rt0;
        mono0 -= rt0 - start_rt;
        deadline = mono0 + timeout * 1000000000u;
        for (next = now_ns(CLOCK_MONOTONIC);; next += interval * 1000000u) {
                int p[2], st;
                uint64_t ns, end;
                struct usage u;
                ssize_t k;
                size_t len = 0;

                sleep_until(next);
                if (pipe2(p, O_CLOEXEC) < 0)
                        die("pipe2");
                st = spawn_wait(&argv[optind + 1], "/dev/null", p[1], "/dev/null", &ns, &u);
                end = now_ns(CLOCK_MONOTONIC);
                close(p[1]);
                while (len < sizeof(buf) - 1 && (k = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
                        len += (size_t)k;
                close(p[0]);
                buf[len] = '\0';
                if ((nl = strchr(buf, '\n')))
                        *nl = '\0';
                (void)st;
                if (strcmp(buf, "running") == 0) {
                        printf("%s %llu 0 0 0 0\n", argv[optind], (unsigned long long)(end - mono0));
                        return 0;
                }
                if (strcmp(buf, "degraded") == 0 || strcmp(buf, "maintenance") == 0 ||
                    strcmp(buf, "stopping") == 0 || end > deadline) {
                        fprintf(stderr, "osh-timer poll: last answer `%s` after %.3f s\n", buf,
                                (double)(end - mono0) / 1e9);
                        printf("%s %llu 0 1 0 0\n", argv[optind], (unsigned long long)(end - mono0));
                        return 1;
                }
                if (now_ns(CLOCK_MONOTONIC) > next + interval * 1000000u)
                        next = now_ns(CLOCK_MONOTONIC) - interval * 1000000u;
        }
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "run") == 0)
                return cmd_run(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "wrap") == 0)
                return cmd_wrap(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "poll") == 0)
                return cmd_poll(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "stats") == 0)
                return cmd_stats();
        fprintf(stderr, "usage: osh-timer run|wrap|poll|stats ... (see the comment in osh-timer.c)\n");
        return 2;
}
