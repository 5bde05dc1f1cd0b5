/* gemm.c: C = op(A) op(B) + beta C, the one matrix product every kernel calls.
 *
 * A portable, cache-aware version: op(B) is copied block by block into a
 * contiguous (KC, n) panel and op(A)'s rows are read one at a time, so the
 * inner loop runs over contiguous memory in j:
 *
 *     for each block of KC rows of op(B):
 *         pack op(B)[p0:p1, :] into Bp (KC, n)
 *         for i:  for p in block:  C[i, :] += op(A)[i, p] * Bp[p, :]
 *
 * Every C[i, j] accumulates its k products in increasing p, whatever the
 * blocking, so results do not depend on block sizes or threads.
 */
#ifndef XNN_T
#include <stdlib.h>
#include <string.h>
#include "../xnn.h"
#define XNN_SELF "gemm/gemm.c"
#include "../template.h"
#else

int XNN_FN(xnn_gemm)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                     int trans_a, int trans_b, size_t m, size_t n, size_t k)
{
    enum { KC = 256 };
    if (m == 0 || n == 0) return XNN_OK;
    for (size_t i = 0; i < m; i++) {
        XNN_T *c = C + i * n;
        if (beta == 0) memset(c, 0, n * sizeof(XNN_T));
        else if (beta != 1) for (size_t j = 0; j < n; j++) c[j] *= beta;
    }
    if (k == 0) return XNN_OK;
    size_t kc_max = k < KC ? k : KC;
    XNN_T *Bp = NULL;
    if (trans_b) {
        Bp = (XNN_T *)malloc(kc_max * n * sizeof(XNN_T));
        if (!Bp) return XNN_ENOMEM;
    }
    for (size_t p0 = 0; p0 < k; p0 += KC) {
        size_t kc = k - p0 < KC ? k - p0 : KC;
        const XNN_T *Bblk;                 /* (kc, n), rows contiguous */
        if (trans_b) {                     /* B stored (n, k) */
            for (size_t p = 0; p < kc; p++)
                for (size_t j = 0; j < n; j++)
                    Bp[p * n + j] = B[j * k + p0 + p];
            Bblk = Bp;
        } else {
            Bblk = B + p0 * n;
        }
        for (size_t i = 0; i < m; i++) {
            XNN_T *c = C + i * n;
            for (size_t p = 0; p < kc; p++) {
                XNN_T a = trans_a ? A[(p0 + p) * m + i] : A[i * k + p0 + p];
                const XNN_T *b = Bblk + p * n;
                for (size_t j = 0; j < n; j++) c[j] += a * b[j];
            }
        }
    }
    free(Bp);
    return XNN_OK;
}

#endif
