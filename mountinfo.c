/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A parser of our own (proc(5), /proc/PID/mountinfo) rather than libmount:
 * the hook links statically, and this is all it needs.  The unit tests
 * check it against libmount on real mount tables. */
#include <fcntl.h>

#include "mountinfo.h"

#define LINE_MAX_BYTES (1u << 20)

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

static char *field(char **rest)
{
        char *s = *rest, *e;

        if (!s)
                return NULL;
        e = strchr(s, ' ');
        if (e) {
                *e = '\0';
                *rest = e + 1;
        } else {
                *rest = NULL;
        }
        return s;
}

static bool parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return true;
}

int mountinfo_parse_line(char *line, struct mountinfo_entry *e)
{
        char *rest = line, *id, *parent, *devno, *opt_start, *f;

        memset(e, 0, sizeof(*e));
        id = field(&rest);
        parent = field(&rest);
        devno = field(&rest);
        e->root = field(&rest);
        e->mount_point = field(&rest);
        e->options = field(&rest);
        if (!parse_u64(id, &e->id) || !parse_u64(parent, &e->parent) || !devno || !strchr(devno, ':') ||
            !e->options || !rest)
                return -EINVAL;
        /* optional fields up to the "-" separator; kept as one string */
        opt_start = rest;
        for (;;) {
                char *before = rest;
                f = field(&rest);
                if (!f || !rest)
                        return -EINVAL;
                if (!streq(f, "-")) {
                        rest[-1] = ' ';      /* keep the optional fields one string */
                        continue;
                }
                if (before == opt_start) {
                        e->optional = "";
                } else {
                        before[-1] = '\0';   /* the blank before "-" */
                        e->optional = opt_start;
                }
                break;
        }
        e->fstype = field(&rest);
        e->source = field(&rest);
        e->super_options = rest ? rest : "";
        if (!e->fstype || !e->source)
                return -EINVAL;
        unescape((char *)e->root);
        unescape((char *)e->mount_point);
        unescape((char *)e->source);
        return 0;
}

bool mountinfo_has_tag(const struct mountinfo_entry *e, const char *tag)
{
        size_t l = strlen(tag);
        const char *p = e->optional;

        while (p && *p) {
                if (strncmp(p, tag, l) == 0 && p[l] == ':')
                        return true;
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return false;
}

static int one_line(char *line, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        struct mountinfo_entry e;

        if (!*line)
                return 0;
        if (mountinfo_parse_line(line, &e) < 0)
                return hook_error_set(err, EINVAL, "malformed mountinfo line");
        return cb(&e, userdata, err);
}

int mountinfo_foreach_string(const char *text, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        _cleanup_free_ char *copy = xstrdup(text);
        char *line = copy;
        int r = 0;

        while (line && r == 0) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                r = one_line(line, cb, userdata, err);
                line = nl ? nl + 1 : NULL;
        }
        return r < 0 ? r : 0;
}

int mountinfo_foreach_fd(int fd, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        size_t cap = 65536, len = 0, start;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        int r = 0;
        bool eof = false;

        while (r == 0 && !eof) {
                ssize_t n;
                char *nl;

                if (len == cap) {
                        if (cap >= LINE_MAX_BYTES)
                                return hook_error_set(err, E2BIG, "a mountinfo line is longer than %u bytes",
                                                      LINE_MAX_BYTES);
                        cap *= 2;
                        buf = xrealloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return hook_error_set(err, errno, "reading mountinfo: %s", strerror(errno));
                if (n == 0) {
                        eof = true;
                        buf[len++] = '\n';   /* cap + 1 allocated: room for it */
                } else {
                        len += (size_t)n;
                }
                buf[len] = '\0';
                start = 0;
                while (r == 0 && (nl = memchr(buf + start, '\n', len - start))) {
                        *nl = '\0';
                        r = one_line(buf + start, cb, userdata, err);
                        start = (size_t)(nl - buf) + 1;
                }
                memmove(buf, buf + start, len - start);
                len -= start;
        }
        return r < 0 ? r : 0;
}

int mountinfo_foreach_path(const char *path, mountinfo_cb cb, void *userdata, hook_error_t *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return hook_error_set(err, errno, "open `%s`: %s", path, strerror(errno));
        return mountinfo_foreach_fd(fd, cb, userdata, err);
}
