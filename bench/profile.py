#!/usr/bin/env python3
"""bench/profile.py TREE: instrument a copy of the sources for bench/profile.sh.

Inserts PROF("label") -- a CLOCK_MONOTONIC stamp, the time since the previous
one -- before each anchor line of hook.c and mounts.c, stamps the worker's
jobs (fill, machine-id staging) at their start and end, and makes main()
append one line of label=ms pairs to $OSH_PROF_LOG when it returns.  Fails
on an anchor it does not find: the table's phases follow the code, and a
refactor that moves them must move them here too.
"""
import os
import sys

PROF_H = r'''#pragma once
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static inline double prof_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
extern char prof_buf[4096]; extern size_t prof_len; extern double prof_last, prof_t0;
extern double fill_t0, fill_t1, mid_t0, mid_t1;
#define PROF(l) do { double _n = prof_now(); if (prof_last > 0 && prof_len < sizeof(prof_buf) - 64) prof_len += snprintf(prof_buf + prof_len, sizeof(prof_buf) - prof_len, "%s=%.4f;", l, _n - prof_last); prof_last = _n; } while (0)
static inline void prof_flush(void) {
        const char *p = getenv("OSH_PROF_LOG");
        int fd = p ? open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
        if (fd < 0) return;
        prof_len += snprintf(prof_buf + prof_len, sizeof(prof_buf) - prof_len, "worker: fill starts=%.4f;worker: fill=%.4f;worker: stage starts=%.4f;worker: stage=%.4f\n",
                             fill_t0 ? fill_t0 - prof_t0 : 0, fill_t1 - fill_t0, mid_t0 ? mid_t0 - prof_t0 : 0, mid_t1 - mid_t0);
        (void)!write(fd, prof_buf, prof_len); close(fd);
}
'''

HOOK = [
    ('        r = spec_parse_state(buf, len, &s, &err);', 'read state'),
    ('        r = run(&s, stage, &err);', 'parse state'),
    ('        detect_systemd(&c, s->annotations, s->n_annotations, -1, &p.detect);', 'load config'),
    ('        job_start(&ij.job, inotify_job_run);', 'detect by name'),
    ('        rootfs = spec_rootfs_real_path(&c, s->bundle);', 'start the worker'),
    ('        r = build(s->id, s, &c, &p, rootfd, err);', 'open the rootfs'),
    ('        if (r >= 0 && plan_has_work(&p)) {', 'plan'),
    ('                if (p.refuse[0])', 'predict, premake'),
    ('        /* /run\'s copy, detached, meanwhile (mounts.h) */', 'apply: start'),
    ('        /* Pin the process, then prove it is the container\'s init before', 'post the fill'),
    ('        if (r == -EPERM && s->status', 'init proof'),
    ('                if (r >= 0)\n                        r = mounts_open_rootfs(&ctx, err);', 'join'),
    ('                /* the worker, after /run\'s fill: the machine-id\'s', 'rootfs in the namespace'),
    ('                if (r >= 0)\n                        mounts_start_stage(&ctx);', 'mount table'),
    ('        if (r >= 0 && !ctx.done)\n                r = mounts_prepare_host', 'leave'),
    ('        if (r >= 0 && !ctx.done && !ctx.running && (r = ns_join', 'host side'),
    ('        for (i = 0; i < ctx.n_warnings; i++)\n                log_warning("%s", ctx.warnings[i]);\n        ns_target_done', 'join, apply'),
    ('        mounts_premade_done(&pm);', 'end of apply'),
]
MOUNTS = [
    ('        if ((r = host_facts(ctx, err)) < 0)', 'host side: start'),
    ('        if (p->link_journal && !ctx->running && (r = link_journal_host(ctx, err)) < 0)', 'host side: cgroup facts'),
    ('        if (unified && (r = set_cgroup_caps(ctx, err)) < 0)', 'host side: payload'),
    ('        ctx->cg_clone = clone_tree(ctx->cg_dirfd, "", payload, err);', 'host side: limits'),
    ('        /* first: /run/lock goes on it */\n        if (p->spec_run_tmpfs && (fds.run', 'apply: enter'),
    ('        /* (while /run may still be filling) */', 'apply: tmpfs not on /run'),
    ('        if (r >= 0)\n                r = apply_tmpfs_set(ctx, u, true, &fds, err);', 'apply: cgroup'),
    ('        if (r >= 0 && p->run_host && fds.run >= 0', 'apply: /run (waits for the fill), /run/lock'),
    ('        if (r >= 0 && (r = readonly_proc_sys(ctx, u, err)) < 0)', 'apply: /run/host'),
    ('        if (r >= 0 && (r = write_logs(ctx, u, fds.run, host, err)) < 0)', 'apply: boot ID'),
    ('        /* Last: on a writable rootfs it replaces', 'apply: logs, journal, /sys, VTs'),
    ('        marker_text(marker);', 'apply: machine-id commit (waits for the staging)'),
    ('        closep(&fds.run);\n        closep(&fds.marker);\n        return r;', 'apply: marker'),
]


def insert(path, pairs, after_include):
    s = open(path).read()
    s = s.replace(after_include, after_include + '#include "prof.h"\n', 1)
    for anchor, label in pairs:
        i = s.find(anchor)
        if i < 0:
            sys.exit(f"bench/profile.py: {path}: anchor not found: {anchor!r}")
        k = s.rfind('\n', 0, i)
        s = s[:k + 1] + f'        PROF("{label}");\n' + s[k + 1:]
    return s


def sub(s, old, new, what):
    if old not in s:
        sys.exit(f"bench/profile.py: {what} not found")
    return s.replace(old, new, 1)


def main():
    os.chdir(sys.argv[1])
    open('prof.h', 'w').write(PROF_H)
    s = insert('hook.c', HOOK, '#include "log.h"\n')
    s = sub(s, 'enum { EXIT_OK', 'char prof_buf[4096]; size_t prof_len; double prof_last, prof_t0;\nenum { EXIT_OK', 'enum')
    s = sub(s, '        return cmd_hook(argc - optind + 1, argv + optind - 1);',
            '        { int rr = cmd_hook(argc - optind + 1, argv + optind - 1); PROF("exit of main()"); prof_flush(); return rr; }',
            'the cmd_hook call')
    i = s.find('int main(')
    j = s.find('{', i)
    s = s[:j + 1] + '\n        PROF("start"); prof_t0 = prof_last;' + s[j + 1:]
    open('hook.c', 'w').write(s)
    s = insert('mounts.c', MOUNTS, '#include "copyup.h"\n')
    s = sub(s, '#include "prof.h"\n', '#include "prof.h"\ndouble fill_t0, fill_t1, mid_t0, mid_t1;\n', 'prof.h')
    s = sub(s, '''        f->mfd = fill_tmpfs(''', '''        fill_t0 = prof_now();
        f->mfd = fill_tmpfs(''', 'the fill')
    s = sub(s, '''        return f->mfd < 0 ? f->mfd : 0;''', '''        fill_t1 = prof_now();
        return f->mfd < 0 ? f->mfd : 0;''', "the fill's end")
    s = sub(s, '''        return stage_machine_id(m->ctx, true, &j->err);''', '''        int r;

        mid_t0 = prof_now();
        r = stage_machine_id(m->ctx, true, &j->err);
        mid_t1 = prof_now();
        return r;''', 'the staging')
    open('mounts.c', 'w').write(s)


main()
