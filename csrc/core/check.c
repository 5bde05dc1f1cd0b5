/* check.c: input checks too large to leave to NumPy temporaries.
 *
 *   xnn_first_nonfinite   the index of the first NaN or infinity of an
 *                         array, or n when there is none
 *
 * A block of elements is first screened with x * 0, which is 0 for every
 * finite x and NaN otherwise, summed in 16 independent lanes (so the loop
 * vectorizes without reassociating anything); only a block that screens
 * bad is searched element by element. The blocks are split among the
 * threads and the smallest bad index wins, so the answer does not depend
 * on the thread count.
 */
#ifndef XNN_T
#include <math.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"

#define CHECK_BLOCK 4096

/* the smallest bad index found so far, shared by the threads */
typedef struct {
    const void *x;
    size_t n;
    XNN_ATOMIC_SIZE first;
} check_ctx;

#define XNN_SELF "core/check.c"
#include "core/template.h"
#else

/* blocks [b0, b1) of CHECK_BLOCK elements */
static void XNN_FN(check_range)(void *p, size_t b0, size_t b1)
{
    check_ctx *c = (check_ctx *)p;
    const XNN_T *x = (const XNN_T *)c->x;
    for (size_t b = b0; b < b1; b++) {
        const size_t i0 = b * CHECK_BLOCK;
        const size_t i1 = i0 + CHECK_BLOCK < c->n ? i0 + CHECK_BLOCK : c->n;
        if (i0 >= xnn_atomic_load(&c->first)) return;   /* a smaller bad index is known */
        XNN_T lane[16] = {0};
        size_t i = i0;
        for (; i + 16 <= i1; i += 16)
            for (size_t q = 0; q < 16; q++) lane[q] += x[i + q] * 0;
        XNN_T s = 0;
        for (size_t q = 0; q < 16; q++) s += lane[q];
        for (; i < i1; i++) s += x[i] * 0;
        if (s == 0) continue;
        for (i = i0; i < i1; i++)
            if (!isfinite(x[i])) {
                xnn_atomic_min_size(&c->first, i);
                return;
            }
    }
}

size_t XNN_FN(xnn_first_nonfinite)(const XNN_T *x, size_t n)
{
    check_ctx c;
    c.x = x;
    c.n = n;
    xnn_atomic_store(&c.first, n);
    xnn_parallel_range(XNN_FN(check_range), &c, (n + CHECK_BLOCK - 1) / CHECK_BLOCK, n);
    return xnn_atomic_load(&c.first);
}

#endif
