/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "util.h"

int hook_error_set(hook_error_t *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (code < 0)
                code = -code;
        if (code == 0)
                code = EINVAL;
        if (err) {
                err->code = code;
                va_start(ap, fmt);
                (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return -code;
}

/* Prepend context: "PREFIX: old message". */
int hook_error_prefix(hook_error_t *err, const char *fmt, ...)
{
        char old[sizeof(err->msg)];
        size_t n;
        va_list ap;

        if (!err)
                return -EINVAL;
        memcpy(old, err->msg, sizeof(old));
        va_start(ap, fmt);
        (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        n = strlen(err->msg);
        if (n + 2 < sizeof(err->msg)) {
                memcpy(err->msg + n, ": ", 2);
                n += 2;
                /* Truncation is fine: the message is for humans. */
                memcpy(err->msg + n, old, strnlen(old, sizeof(err->msg) - n - 1));
                err->msg[n + strnlen(old, sizeof(err->msg) - n - 1)] = '\0';
        }
        return -(err->code ? err->code : EINVAL);
}

bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* Allocation failure in a short-lived hook: there is nothing sensible to
 * roll back, and the host is untouched at every point we allocate, so stop. */
static void *oom(void)
{
        static const char m[] = "oci-systemd-hook: out of memory\n";
        (void)!write(STDERR_FILENO, m, sizeof(m) - 1);
        _exit(1);
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        return p ? p : oom();
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        return q ? q : oom();
}

int strcmp_ptrs(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *xstrdup(const char *s)
{
        char *p;

        if (!s)
                return NULL;
        p = strdup(s);
        return p ? p : oom();
}

int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

char *str_trim(char *s)
{
        char *e;

        s += strspn(s, " \t");
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}
