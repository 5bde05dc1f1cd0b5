/* atomic.h: the one shim for atomics and thread-local storage.
 *
 *   XNN_ATOMIC_INT, XNN_ATOMIC_SIZE    an int / size_t shared by threads
 *   xnn_atomic_load(p), xnn_atomic_store(p, v)
 *   xnn_atomic_min_size(p, v)          *p = min(*p, v), atomically
 *   xnn_atomic_add_size(p, v)          *p += v, atomically; returns the old *p
 *   XNN_THREADED                       1 when C11 atomics exist (the pool
 *                                      then runs threads; without them every
 *                                      parallel loop runs on the caller)
 */
#ifndef XNN_ATOMIC_H
#define XNN_ATOMIC_H

#include <stddef.h>

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define XNN_THREADED 1
#define XNN_ATOMIC_INT atomic_int
#define XNN_ATOMIC_SIZE atomic_size_t
#define xnn_atomic_load(p) atomic_load(p)
#define xnn_atomic_store(p, v) atomic_store((p), (v))
static inline void xnn_atomic_min_size(XNN_ATOMIC_SIZE *p, size_t v)
{
    size_t cur = atomic_load(p);
    while (v < cur && !atomic_compare_exchange_weak(p, &cur, v)) {
    }
}
static inline size_t xnn_atomic_add_size(XNN_ATOMIC_SIZE *p, size_t v)
{
    return atomic_fetch_add(p, v);
}
#else
#define XNN_THREADED 0
#define XNN_ATOMIC_INT volatile int
#define XNN_ATOMIC_SIZE volatile size_t
#define xnn_atomic_load(p) (*(p))
#define xnn_atomic_store(p, v) (*(p) = (v))
static inline void xnn_atomic_min_size(XNN_ATOMIC_SIZE *p, size_t v)
{
    if (v < *p) *p = v;
}
static inline size_t xnn_atomic_add_size(XNN_ATOMIC_SIZE *p, size_t v)
{
    const size_t old = *p;
    *p = old + v;
    return old;
}
#endif

#endif
