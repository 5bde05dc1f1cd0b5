/* pool.c: the one pool of worker threads.
 *
 * xnn_parallel_for(fn, arg, n, threads) runs fn(arg, i) for every i in
 * [0, n) on the calling thread and up to threads - 1 workers, and returns
 * when all have run. Chunks are claimed one at a time from a shared
 * counter, so the caller never waits for a worker that has not started: a
 * worker that wakes late finds less work, or none. (A fork-join runtime
 * waits for every thread of its team at the join; on a loaded machine a
 * descheduled worker then costs a whole time slice per call, which for a
 * small product is a hundred times its work.)
 *
 * Which thread runs a chunk never changes the result: callers make chunks
 * independent (the GEMM splits rows of C, never k).
 *
 * Workers spin for a short while after a job, so that the next job of a
 * training step starts at once (reading it without a lock), then sleep on
 * a condition variable. xnn_pool_release ends an epoch: every worker of
 * it exits once it is idle (lowering the thread count gives the threads
 * back), and later calls start new workers. POSIX threads, or on Windows
 * the same pool over a slim reader-writer lock, a condition variable and
 * CreateThread (POOL_* below); without C11 atomics every call runs on the
 * calling thread.
 */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stddef.h>
#include <stdint.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"

#if (defined(__unix__) || defined(__APPLE__)) && XNN_THREADED && !defined(XNN_NO_POOL)
#include <pthread.h>
#include <sched.h>
#define XNN_POOL 1
#define POOL_MUTEX pthread_mutex_t
#define POOL_COND pthread_cond_t
#define POOL_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define POOL_COND_INIT PTHREAD_COND_INITIALIZER
#define POOL_LOCK(m) pthread_mutex_lock(m)
#define POOL_UNLOCK(m) pthread_mutex_unlock(m)
#define POOL_WAIT(c, m) pthread_cond_wait((c), (m))
#define POOL_BROADCAST(c) pthread_cond_broadcast(c)
#define POOL_YIELD() sched_yield()
#elif defined(_WIN32) && XNN_THREADED && !defined(XNN_NO_POOL)
#include <windows.h>
#define XNN_POOL 1
#define POOL_MUTEX SRWLOCK
#define POOL_COND CONDITION_VARIABLE
#define POOL_MUTEX_INIT SRWLOCK_INIT
#define POOL_COND_INIT CONDITION_VARIABLE_INIT
#define POOL_LOCK(m) AcquireSRWLockExclusive(m)
#define POOL_UNLOCK(m) ReleaseSRWLockExclusive(m)
#define POOL_WAIT(c, m) SleepConditionVariableSRW((c), (m), INFINITE, 0)
#define POOL_BROADCAST(c) WakeAllConditionVariable(c)
#define POOL_YIELD() SwitchToThread()
#endif

#if defined(XNN_POOL)

#define POOL_MAX 64           /* workers at most */
#define POOL_SPIN 20000       /* polls of a worker before it sleeps */

#if defined(__x86_64__) || defined(__i386__)
#define RELAX() __builtin_ia32_pause()
#else
#define RELAX() ((void)0)
#endif

typedef void (*chunk_fn)(void *, size_t);

static struct {
    POOL_MUTEX lock;                    /* for sleeping workers and creation */
    POOL_COND wake;
    int started;                        /* workers of this epoch */
    atomic_uint epoch;                  /* bumped by xnn_pool_release */
    atomic_uint_fast64_t gen;           /* job generation, published last */
    /* the current job, stored before gen; a worker that sees gen reads
       them without the lock (a claim of a chunk then checks the job) */
    _Atomic(chunk_fn) fn;
    _Atomic(void *) arg;
    atomic_size_t n;
    atomic_int workers;                 /* workers the job may use */
    /* (gen << 32) | next chunk: a claim succeeds only for the current job */
    atomic_uint_fast64_t ticket;
    atomic_size_t done;                 /* chunks finished */
    atomic_flag busy;                   /* a caller owns the pool */
} pool = {.lock = POOL_MUTEX_INIT, .wake = POOL_COND_INIT, .busy = ATOMIC_FLAG_INIT};

static void run_chunks(uint64_t gen, chunk_fn fn, void *arg, size_t n)
{
    uint_fast64_t t = atomic_load(&pool.ticket);
    for (;;) {
        if ((t >> 32) != (gen & 0xffffffffu)) return;      /* another job */
        const size_t i = (size_t)(t & 0xffffffffu);
        if (i >= n) return;
        if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) continue;
        fn(arg, i);
        atomic_fetch_add(&pool.done, 1);
        t = atomic_load(&pool.ticket);
    }
}

/* the current epoch, as a worker carries it (16 bits) */
#define EPOCH() (atomic_load(&pool.epoch) & 0xffffu)

static void *worker(void *p)
{
    const int id = (int)((intptr_t)p & 0xffff);
    const unsigned epoch = (unsigned)((uintptr_t)p >> 16);
    uint64_t seen = 0;
    for (;;) {
        /* spin a while for the next job, then sleep */
        uint64_t g = atomic_load(&pool.gen);
        for (int s = 0; g == seen && s < POOL_SPIN; s++) {
            if (s % 64 == 63) {
                if (EPOCH() != epoch) return NULL;
                POOL_YIELD();
            } else {
                RELAX();
            }
            g = atomic_load(&pool.gen);
        }
        if (g == seen) {
            POOL_LOCK(&pool.lock);
            while ((g = atomic_load(&pool.gen)) == seen && EPOCH() == epoch)
                POOL_WAIT(&pool.wake, &pool.lock);
            POOL_UNLOCK(&pool.lock);
        }
        if (EPOCH() != epoch) return NULL;
        const chunk_fn fn = atomic_load(&pool.fn);
        void *arg = atomic_load(&pool.arg);
        const size_t n = atomic_load(&pool.n);
        const int workers = atomic_load(&pool.workers);
        seen = g;
        if (id < workers) run_chunks(g, fn, arg, n);
    }
}

#if defined(_WIN32)
static DWORD WINAPI worker_win32(LPVOID p)
{
    worker(p);
    return 0;
}
#else
static void after_fork_child(void)
{
    /* the child has none of the parent's workers */
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.started = 0;
    atomic_fetch_add(&pool.epoch, 1);
    atomic_flag_clear(&pool.busy);
}
#endif

void xnn_pool_release(void)
{
    /* wait until no caller owns the pool: a job in flight keeps its workers */
    while (atomic_flag_test_and_set(&pool.busy)) POOL_YIELD();
    POOL_LOCK(&pool.lock);
    atomic_fetch_add(&pool.epoch, 1);
    pool.started = 0;
    POOL_BROADCAST(&pool.wake);
    POOL_UNLOCK(&pool.lock);
    atomic_flag_clear(&pool.busy);
}

void xnn_parallel_for(void (*fn)(void *arg, size_t i), void *arg, size_t n, int threads)
{
    if (n == 0) return;
    if (threads <= 1 || n == 1 || n > 0xffffffffu || atomic_flag_test_and_set(&pool.busy)) {
        for (size_t i = 0; i < n; i++) fn(arg, i);
        return;
    }
    int want = threads - 1;
    if ((size_t)want > n - 1) want = (int)(n - 1);
    if (want > POOL_MAX) want = POOL_MAX;

    POOL_LOCK(&pool.lock);
#if !defined(_WIN32)
    static int registered = 0;
    if (!registered) {
        pthread_atfork(NULL, NULL, after_fork_child);
        registered = 1;
    }
#endif
    const unsigned epoch = EPOCH();
    while (pool.started < want) {
        void *wa = (void *)(((uintptr_t)epoch << 16) | (uintptr_t)pool.started);
#if defined(_WIN32)
        HANDLE th = CreateThread(NULL, 0, worker_win32, wa, 0, NULL);
        const int err = th == NULL;
        if (th) CloseHandle(th);        /* detached: the thread runs on */
#else
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int err = pthread_create(&th, &attr, worker, wa);
        pthread_attr_destroy(&attr);
#endif
        if (err) break;                 /* fewer workers: the caller does more */
        pool.started++;
    }
    const uint64_t gen = atomic_load(&pool.gen) + 1;
    /* the ticket of the new generation first: a worker still holding the
       previous generation can then claim nothing, whatever mix of old and
       new job fields it reads below; the fields next; gen last */
    atomic_store(&pool.ticket, (uint_fast64_t)(gen & 0xffffffffu) << 32);
    atomic_store(&pool.fn, fn);
    atomic_store(&pool.arg, arg);
    atomic_store(&pool.n, n);
    atomic_store(&pool.workers, want);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.gen, gen);
    POOL_BROADCAST(&pool.wake);
    POOL_UNLOCK(&pool.lock);

    run_chunks(gen, fn, arg, n);
    /* chunks claimed by workers are running: wait for them only */
    for (unsigned s = 1; atomic_load(&pool.done) < n; s++) {
        if (s % 64 == 0) POOL_YIELD();
        else RELAX();
    }
    atomic_flag_clear(&pool.busy);
}

#else /* no threads of the system or no C11 atomics: every call on the calling thread */

void xnn_parallel_for(void (*fn)(void *arg, size_t i), void *arg, size_t n, int threads)
{
    (void)threads;
    for (size_t i = 0; i < n; i++) fn(arg, i);
}

void xnn_pool_release(void) {}

#endif

/* ---- contiguous ranges for elementwise passes ---- */

typedef struct {
    void (*body)(void *, size_t, size_t);
    void *ctx;
    size_t count, parts;
} range_job;

static void range_chunk(void *p, size_t i)
{
    const range_job *r = (const range_job *)p;
    const size_t i0 = r->count * i / r->parts, i1 = r->count * (i + 1) / r->parts;
    if (i1 > i0) r->body(r->ctx, i0, i1);
}

void xnn_parallel_range(void (*body)(void *ctx, size_t i0, size_t i1), void *ctx,
                        size_t count, size_t cost)
{
    if (count == 0) return;
    int threads = cost >= XNN_PAR_MIN ? xnn_get_num_threads() : 1;
    if (threads <= 1 || count == 1) {
        body(ctx, 0, count);
        return;
    }
    range_job r = {body, ctx, count, (size_t)threads < count ? (size_t)threads : count};
    xnn_parallel_for(range_chunk, &r, r.parts, threads);
}
