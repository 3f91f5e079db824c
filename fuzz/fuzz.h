/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libFuzzer harnesses (fuzz_*.c) and the replay driver
 * (replay.c, a plain main() so that `make check` runs every seed and every
 * past finding without clang). */
#ifndef OSH_FUZZ_H
#define OSH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle failed: a finding, not a crash of the harness. abort() so
 * libFuzzer saves the input and the replay test fails. */
#define FUZZ_CHECK(cond, ...)                                                          \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s: ", __FILE__,     \
                                __LINE__, #cond);                                      \
                        fprintf(stderr, __VA_ARGS__);                                  \
                        fputc('\n', stderr);                                           \
                        abort();                                                       \
                }                                                                      \
        } while (0)

/* What every failing function promises (STYLE.md §2): r == -err.code,
 * a message, one line. */
static inline void fuzz_check_error(int r, const hook_error_t *err)
{
        FUZZ_CHECK(r < 0, "r=%d", r);
        FUZZ_CHECK(err->code > 0 && r == -err->code, "r=%d code=%d msg=%s", r, err->code, err->msg);
        FUZZ_CHECK(err->msg[0] != '\0', "empty error message, r=%d", r);
        FUZZ_CHECK(strnlen(err->msg, sizeof(err->msg)) < sizeof(err->msg), "unterminated message");
}

/* Lowest free fd: equal before and after an input, or an fd leaked. */
static inline int fuzz_lowest_fd(void)
{
        int fd = dup(0);

        if (fd >= 0)
                (void)close(fd);
        return fd;
}

/* A test tree: dirs and files first (parents made as needed), symlinks
 * last, so that building it never walks through its own hostile links. */
enum fuzz_kind { FZ_DIR, FZ_FILE, FZ_LINK, FZ_FIFO };
struct fuzz_node {
        enum fuzz_kind kind;
        const char *path;        /* relative */
        const char *target;      /* FZ_LINK */
};
/* Builds the NULL-path-terminated NODES under DIR; aborts on failure. */
void fuzz_tree(const char *dir, const struct fuzz_node *nodes);

/* A private temp dir (mkdtemp under $TMPDIR or /tmp), realpath'd. */
char *fuzz_mkdtemp(const char *tag);
/* rm -rf DIR (no symlink followed, no mount crossed). */
void fuzz_rm_rf(const char *dir);

#endif
