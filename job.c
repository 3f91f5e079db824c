/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One worker thread for the hook's jobs: see job.h. */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "job.h"

struct worker {
        pthread_t thread;
        pthread_mutex_t lock;
        sem_t ready;            /* UNSHARED is set */
        sem_t work;             /* one post a job, one more to end */
        int unshared;           /* its unshare(CLONE_FS): 0 or -errno */
        struct job *head, *tail;
};

/* the current worker; a stopped one lives on until its queue is done */
static struct worker *cur;
static bool settled;

static struct job *take(struct worker *w)
{
        struct job *j;

        (void)pthread_mutex_lock(&w->lock);
        j = w->head;
        if (j && !(w->head = j->next))
                w->tail = NULL;
        (void)pthread_mutex_unlock(&w->lock);
        return j;
}

/* Waking a thread asleep on another core takes tens of microseconds on a
 * VM (an IPI, a VM exit): a wait polls the semaphore (sem_trywait(), no
 * syscall) that long first.  Bounded, so that a busy node loses no more. */
#define SPIN_NS 150000

static uint64_t now_ns(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sem_wait_spin(sem_t *s)
{
        uint64_t until = now_ns() + SPIN_NS;
        unsigned i;

        for (i = 1; sem_trywait(s) < 0; i++) {
                if ((i & 63) == 0 && now_ns() > until) {
                        while (sem_wait(s) < 0 && errno == EINTR)
                                ;
                        return;
                }
                __builtin_ia32_pause();
        }
}

static void run(struct job *j)
{
        j->r = j->fn(j);
        if (j->queued)
                (void)sem_post(&j->done);
}

static void worker_free(struct worker *w)
{
        (void)sem_destroy(&w->ready);
        (void)sem_destroy(&w->work);
        (void)pthread_mutex_destroy(&w->lock);
        free(w);
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        struct job *j;

        w->unshared = unshare(CLONE_FS) < 0 ? -errno : 0;
        (void)sem_post(&w->ready);
        if (w->unshared < 0)
                return NULL;    /* job_settle() runs what is queued */
        for (;;) {
                sem_wait_spin(&w->work);
                if (!(j = take(w)))
                        break;  /* job_stop() */
                run(j);
        }
        worker_free(w);         /* detached by job_stop() */
        return NULL;
}

/* The worker's stack: copy-up recursion (4 KiB a level) and a 64 KiB copy
 * buffer fit many times over.  Ours, below a guard page, never returned:
 * glibc would madvise() a stack of its own away when the thread ends, and
 * in a process with two threads every unmapping is a TLB shootdown, an
 * IPI to the other core (expensive on a VM) while the caller works. */
#define STACK_SIZE (1u << 20)

static void *worker_stack(void)
{
        long page = sysconf(_SC_PAGESIZE);
        char *p;

        if (page <= 0)
                page = 4096;
        p = mmap(NULL, STACK_SIZE + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        if (mprotect(p, (size_t)page, PROT_NONE) < 0) {
                (void)munmap(p, STACK_SIZE + (size_t)page);
                return NULL;
        }
        return p + page;
}

static struct worker *worker_up(void)
{
        struct worker *w;
        pthread_attr_t attr;
        void *stack;
        bool ok;

        if (cur)
                return cur;
        /* one malloc arena: a thread's first malloc() would map (and trim:
         * munmap, shootdowns again) an arena of its own */
        (void)mallopt(M_ARENA_MAX, 1);
        w = xcalloc(1, sizeof(*w));
        if (pthread_mutex_init(&w->lock, NULL) != 0 || sem_init(&w->ready, 0, 0) < 0 ||
            sem_init(&w->work, 0, 0) < 0 || !(stack = worker_stack()) || pthread_attr_init(&attr) != 0) {
                free(w);
                return NULL;
        }
        ok = pthread_attr_setstack(&attr, stack, STACK_SIZE) == 0 &&
             pthread_create(&w->thread, &attr, worker_main, w) == 0;
        (void)pthread_attr_destroy(&attr);
        if (!ok) {
                worker_free(w);
                return NULL;
        }
        settled = false;
        return cur = w;
}

void job_start(struct job *j, int (*fn)(struct job *j))
{
        struct worker *w;

        *j = (struct job){ .fn = fn, .started = true };
        if (!(w = worker_up()) || sem_init(&j->done, 0, 0) < 0) {
                run(j);
                return;
        }
        j->queued = true;
        (void)pthread_mutex_lock(&w->lock);
        if (w->tail)
                w->tail->next = j;
        else
                w->head = j;
        w->tail = j;
        (void)pthread_mutex_unlock(&w->lock);
        (void)sem_post(&w->work);
}

void job_settle(void)
{
        struct job *j;

        if (!cur || settled)
                return;
        while (sem_wait(&cur->ready) < 0 && errno == EINTR)
                ;
        settled = true;
        if (cur->unshared == 0)
                return;
        /* it shares our filesystem context and has ended: its jobs run here */
        (void)pthread_join(cur->thread, NULL);
        while ((j = take(cur)))
                run(j);
        worker_free(cur);
        cur = NULL;
}

int job_wait(struct job *j, hook_error_t *err)
{
        if (!j->started)
                return 0;
        if (j->queued) {
                sem_wait_spin(&j->done);
                (void)sem_destroy(&j->done);
                j->queued = false;
        }
        if (j->r < 0 && err)
                *err = j->err;
        return j->r;
}

void job_stop(void)
{
        struct worker *w;

        job_settle();
        if (!(w = cur))
                return;
        cur = NULL;
        /* the queue's end: it ends after what is queued, on its own (waking
         * an idle core only to wait for it costs more than a job) */
        (void)pthread_detach(w->thread);
        (void)sem_post(&w->work);
}
