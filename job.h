/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OSH_JOB_H
#define OSH_JOB_H

/* Pieces of the hook's work done on one second thread while the caller
 * goes on (the inotify probe, filling /run's tmpfs): the node's other core
 * does them during the host-side steps instead of after them.
 *
 * The worker starts with the first job, in the caller's namespaces, and
 * runs the jobs in the order given.  It takes a filesystem context of its
 * own (unshare(CLONE_FS)): setns(CLONE_NEWNS) refuses a shared one, and a
 * umask(2) of a job's is then not the caller's.  So job_settle() must come
 * before the caller's first setns() into a mount namespace.  A job only
 * uses descriptors and memory it was given, never logs, and reports
 * through its own error; nothing reads what it writes but job_wait().
 * Without a worker (no thread could be made), a job runs at once, in the
 * caller: slower, never different. */

#include <semaphore.h>
#include <stdbool.h>

#include "util.h"

struct job {
        int (*fn)(struct job *j);
        int r;
        hook_error_t err;
        bool started, queued;
        sem_t done;
        struct job *next;
};

void job_start(struct job *j, int (*fn)(struct job *j));
/* FN's result, its error copied to ERR (when not NULL); 0 for a job never
 * started.  Again: the same answer. */
int job_wait(struct job *j, hook_error_t *err);
/* Returns once the worker has a filesystem context of its own (or is gone,
 * its jobs done here). */
void job_settle(void);
/* No more jobs: the worker ends once the queued ones are done (job_wait()
 * each of them); a later job_start() makes another. */
void job_stop(void);

#endif
