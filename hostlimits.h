/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_HOSTLIMITS_H
#define OSH_HOSTLIMITS_H

#include <stdio.h>

#include "util.h"

/* Host limits that many systemd containers on one node run into.  Only
 * the inotify instance limit so far: every systemd of the node (each
 * container's, all as root) shares one fs.inotify.max_user_instances, and
 * a container that finds none left boots `degraded` (path units and
 * journald cannot watch).  Measured (Debian 12 image, systemd 252): 7
 * instances per container once booted, one more during boot; at the
 * default 128, 16 of 50 containers started at once reach `running`. */
#define HL_INOTIFY_PER_CONTAINER 8

/* Directories the cgroup walk visits at most, and how deep it goes
 * (kubepods.slice/.../cri-containerd-ID.scope/payload is depth 5). */
#define HL_WALK_BUDGET 4096
#define HL_WALK_DEPTH 6

struct hl_inotify {
        long max_instances;  /* fs.inotify.max_user_instances; -1 unknown */
        long running;        /* systemd instances found; -1 unknown */
        bool partial;        /* the walk hit its budget: running is a lower bound */
        int walked;          /* hierarchies walked */
};

/* Pure: true, and a one-line message in MSG, when MAX_INSTANCES is too low
 * for RUNNING systemd instances plus the one starting, at PER instances
 * each.  False when it suffices or when either number is unknown (< 0,
 * or max 0). */
bool hl_inotify_low(long max_instances, long running, long per, char *msg, size_t size);

/* The sysctl value a node needs for RUNNING + 1 systemd instances at PER
 * each, with room to spare: at least 8192, else twice the need, rounded up
 * to a multiple of 1024. */
long hl_inotify_suggest(long running, long per);

/* Counts the cgroup directories below the hierarchy open at ROOTFD that
 * hold an `init.scope` (a systemd runs there), not descending into those,
 * at most DEPTH levels and BUDGET directories (then *PARTIAL is set), and
 * stops once it has found STOP_AT (LONG_MAX: all).  The hierarchy root is
 * descended into even when it holds an init.scope (a systemd host): it
 * counts as one.  Never fails: what cannot be read is skipped. */
long hl_count_systemd(int rootfd, int depth, long budget, long stop_at, bool *partial);

/* Pure: the most systemd instances a hierarchy can hold, from the node's
 * TASKS and, for cgroup2, CGROUP2 (nr_descendants / 2 + 1), each -1 when
 * unknown; -1 when both are. */
long hl_inotify_bound(long tasks, long cgroup2);

/* Reads /proc/sys/fs/inotify/max_user_instances and counts systemd
 * instances in the name=systemd hierarchy and in cgroup2 (the larger of
 * the two counts: a systemd uses one of them). */
void hl_inotify_probe(struct hl_inotify *h);

/* The same, for the hook's question only (is the limit low?), at a cost
 * that does not grow with the node: a hierarchy whose bound (the node's
 * tasks; cgroup2's nr_descendants) cannot reach the limit is not walked,
 * and a walk stops at the count that makes hl_inotify_low() true, so
 * RUNNING is then a lower bound that decides the same. */
void hl_inotify_probe_fast(struct hl_inotify *h);

/* The hook's warning: the fast probe; when it says low, the full one for
 * the message (its count and advice exact). */
bool hl_inotify_warning(char *msg, size_t size);

/* explain's line: the numbers, and the warning when there is one. */
void hl_inotify_explain(FILE *f);

#endif
