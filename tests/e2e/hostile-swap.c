/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostile-swap SECONDS A1 B1 [A2 B2 ...]: swap each pair of directory
 * entries with renameat2(RENAME_EXCHANGE), round robin, in a tight loop for
 * at most SECONDS seconds (or until SIGTERM), leave every pair as it was,
 * and print the number of swaps done.  Compiled at test time by
 * test-hostile.sh for its race cases. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        unsigned long n = 0, fails = 0;
        int pairs = (argc - 2) / 2, i;
        unsigned long *count;
        time_t end;

        if (argc < 4 || (argc - 2) % 2) {
                fprintf(stderr, "usage: %s SECONDS A1 B1 [A2 B2 ...]\n", argv[0]);
                return 2;
        }
        count = calloc((size_t)pairs, sizeof(*count));
        if (!count)
                return 1;
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        end = time(NULL) + atol(argv[1]);
        while (!stop && time(NULL) < end) {
                for (i = 0; i < pairs; i++) {
                        if (renameat2(AT_FDCWD, argv[2 + 2 * i], AT_FDCWD, argv[3 + 2 * i], RENAME_EXCHANGE) == 0) {
                                count[i]++;
                                n++;
                        } else if (++fails > 1000) {
                                fprintf(stderr, "hostile-swap: renameat2 %s: %s\n", argv[2 + 2 * i], strerror(errno));
                                return 1;
                        }
                }
        }
        /* leave every pair as it was (an even number of swaps) */
        for (i = 0; i < pairs; i++)
                if (count[i] % 2 && renameat2(AT_FDCWD, argv[2 + 2 * i], AT_FDCWD, argv[3 + 2 * i], RENAME_EXCHANGE) == 0)
                        n++;
        printf("%lu\n", n);
        return 0;
}
