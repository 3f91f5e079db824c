/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_UTIL_H
#define OSH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}
/* X is one of the N values at V (mount ids: a handful). */
static inline bool u64_in(const uint64_t *v, size_t n, uint64_t x)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (v[i] == x)
                        return true;
        return false;
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -EBADF; _t; })

/* An error is -errno plus one human message.  Functions fill it and return
 * -errno; only main() prints it.  The message uses backticks around anything
 * that came from the container or its config. */
typedef struct hook_error {
        int code;         /* positive errno, 0 when unset */
        char msg[512];
} hook_error_t;

int hook_error_set(hook_error_t *err, int code, const char *fmt, ...) _printf_(3, 4);
int hook_error_prefix(hook_error_t *err, const char *fmt, ...) _printf_(2, 3);

#define streq(a, b) (strcmp((a), (b)) == 0)
bool streq_ptr(const char *a, const char *b);
/* qsort() comparator for an array of strings. */
int strcmp_ptrs(const void *a, const void *b);
char *xstrdup(const char *s);
/* S without leading blanks and trailing blanks or CR (in place). */
char *str_trim(char *s);
/* write(2) until done; 0 or -errno (-EIO for a zero-length write). */
int write_all(int fd, const void *data, size_t len);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);

#endif
