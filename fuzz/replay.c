/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A main() for a harness without libFuzzer: runs LLVMFuzzerTestOneInput
 * once per file.  `make check` runs it with no arguments: every seed in
 * fuzz/corpus/NAME and every past finding in fuzz/regress/NAME (built with
 * whatever CC and sanitizers the build uses).  With arguments: those files
 * or directories.  Each input is a malloc'd copy of exactly its size, so
 * ASan sees an over-read.  An oracle failure aborts (the test fails); the
 * last "replay:" line in the log names the input. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "json.h"

#ifndef FUZZ_SRCDIR
#error "FUZZ_SRCDIR must name fuzz/ in the source tree"
#endif
#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the harness"
#endif

#define REPLAY_MAX_INPUT (32u << 20)

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        hook_error_t err = {};
        uint8_t *copy;
        size_t len;

        if (fd < 0 || read_fd_capped(fd, REPLAY_MAX_INPUT, &buf, &len, &err) < 0) {
                fprintf(stderr, "replay: %s: %s\n", path, fd < 0 ? strerror(errno) : err.msg);
                return -1;
        }
        printf("replay: %s (%zu bytes)\n", path, len);
        (void)fflush(stdout);
        copy = xmalloc(len ? len : 1);
        memcpy(copy, buf, len);
        (void)LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        return 1;
}

/* Files of DIR in name order (stable logs); *count += inputs run. */
static int run_dir(const char *dir, bool missing_ok, size_t *count)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char **names = NULL;
        size_t n = 0, i;
        int r = 0;

        if (!d) {
                if (missing_ok && errno == ENOENT)
                        return 0;
                fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
                return -1;
        }
        while ((e = readdir(d)))
                if (e->d_name[0] != '.') {
                        names = xrealloc(names, (n + 1) * sizeof(*names));
                        names[n] = xmalloc(strlen(dir) + strlen(e->d_name) + 2);
                        (void)sprintf(names[n++], "%s/%s", dir, e->d_name);
                }
        (void)closedir(d);
        if (n)
                qsort(names, n, sizeof(*names), cmp_str);
        for (i = 0; i < n; i++) {
                struct stat st;
                if (r >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
                        if (run_file(names[i]) < 0)
                                r = -1;
                        else
                                (*count)++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int main(int argc, char **argv)
{
        size_t count = 0;
        int i, r = 0;

        (void)LLVMFuzzerInitialize(&argc, &argv);
        if (argc < 2) {
                r = run_dir(FUZZ_SRCDIR "/corpus/" FUZZ_NAME, false, &count);
                if (r >= 0)
                        r = run_dir(FUZZ_SRCDIR "/regress/" FUZZ_NAME, true, &count);
                if (r >= 0 && count == 0) {
                        fprintf(stderr, "replay: no inputs in %s/corpus/%s\n", FUZZ_SRCDIR, FUZZ_NAME);
                        r = -1;
                }
        }
        for (i = 1; i < argc && r >= 0; i++) {
                struct stat st;
                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        r = run_dir(argv[i], false, &count);
                else if (run_file(argv[i]) < 0)
                        r = -1;
                else
                        count++;
        }
        printf("replay %s: %zu inputs, %s\n", FUZZ_NAME, count, r < 0 ? "ERROR" : "ok");
        /* automake: 99 is a hard error (the test could not run). */
        return r < 0 ? 99 : 0;
}
