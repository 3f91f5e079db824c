/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ftw.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz.h"

char *fuzz_mkdtemp(const char *tag)
{
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX], *real;

        (void)snprintf(tmpl, sizeof(tmpl), "%s/osh-fuzz-%s-XXXXXX", t && t[0] == '/' ? t : "/tmp", tag);
        if (!mkdtemp(tmpl)) {
                perror("fuzz: mkdtemp");
                abort();
        }
        /* The containment oracle compares /proc/self/fd links with it. */
        real = realpath(tmpl, NULL);
        if (!real) {
                perror("fuzz: realpath");
                abort();
        }
        return real;
}

static int rm_one(const char *p, const struct stat *st _unused_, int type _unused_, struct FTW *ftw _unused_)
{
        (void)remove(p);
        return 0;
}

void fuzz_rm_rf(const char *dir)
{
        if (dir)
                (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void mkdir_p(const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        char *s;

        for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                        fprintf(stderr, "fuzz: mkdir %s: %m\n", p);
                        abort();
                }
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "fuzz: mkdir %s: %m\n", p);
                abort();
        }
}

static void make_node(const char *dir, const struct fuzz_node *n)
{
        _cleanup_free_ char *p = xmalloc(strlen(dir) + strlen(n->path) + 2);
        char *slash;
        int r = 0, fd;

        (void)sprintf(p, "%s/%s", dir, n->path);
        slash = strrchr(p, '/');
        *slash = '\0';
        mkdir_p(p);
        *slash = '/';
        switch (n->kind) {
        case FZ_DIR:
                mkdir_p(p);
                break;
        case FZ_FILE:
                fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0755);
                r = fd < 0 ? -1 : close(fd);
                break;
        case FZ_FIFO:
                r = mkfifo(p, 0644);
                break;
        case FZ_LINK:
                r = symlink(n->target, p);
                break;
        }
        if (r < 0) {
                fprintf(stderr, "fuzz: creating %s: %m\n", p);
                abort();
        }
}

void fuzz_tree(const char *dir, const struct fuzz_node *nodes)
{
        const struct fuzz_node *n;

        for (n = nodes; n->path; n++)
                if (n->kind != FZ_LINK)
                        make_node(dir, n);
        for (n = nodes; n->path; n++)
                if (n->kind == FZ_LINK)
                        make_node(dir, n);
}
