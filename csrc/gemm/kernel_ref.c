/* kernel_ref.c: the portable micro-kernel and one-row products, plain C
 * for any architecture.
 *
 * Tile MR x NR = 4 x 8 (float) or 4 x 4 (double): small enough for the
 * 16 vector registers of SSE2 or NEON once the compiler vectorises the j
 * loops. C[i, j] = sum_p a(i, p) b(p, j) + beta C[i, j], p increasing,
 * stored for i < mr, j < nr.
 */
#ifndef XNN_T
#include "gemm/gemm.h"
#define XNN_SELF "gemm/kernel_ref.c"
#include "core/template.h"
#else

#if XNN_IS_F32
#define REF_NR XNN_REF_NR_F32
#else
#define REF_NR XNN_REF_NR_F64
#endif
#define REF_MR XNN_REF_MR

static inline void XNN_FN(ref_body)(size_t mr, size_t nr, size_t kc, const XNN_T *a,
                                    ptrdiff_t rsa, ptrdiff_t csa, const XNN_T *b,
                                    ptrdiff_t ldb, XNN_T *c, ptrdiff_t ldc, XNN_T beta)
{
    XNN_T acc[REF_MR][REF_NR] = {{0}};
    for (size_t p = 0; p < kc; p++) {
        const XNN_T *bp = b + (ptrdiff_t)p * ldb;
        const XNN_T *ap = a + (ptrdiff_t)p * csa;
        for (int i = 0; i < REF_MR; i++) {
            XNN_T ai = ap[i * rsa];
            for (int j = 0; j < REF_NR; j++) acc[i][j] += ai * bp[j];
        }
    }
    if (mr == REF_MR && nr == REF_NR) {
        for (int i = 0; i < REF_MR; i++) {
            XNN_T *ci = c + i * ldc;
            if (beta == 0)
                for (int j = 0; j < REF_NR; j++) ci[j] = acc[i][j];
            else if (beta == 1)
                for (int j = 0; j < REF_NR; j++) ci[j] = acc[i][j] + ci[j];
            else
                for (int j = 0; j < REF_NR; j++) ci[j] = acc[i][j] + beta * ci[j];
        }
        return;
    }
    for (size_t i = 0; i < mr; i++) {          /* edge tile: same arithmetic */
        XNN_T *ci = c + (ptrdiff_t)i * ldc;
        for (size_t j = 0; j < nr; j++)
            ci[j] = beta == 0 ? acc[i][j] : beta == 1 ? acc[i][j] + ci[j] : acc[i][j] + beta * ci[j];
    }
}

void XNN_FN(xnn_ukr_ref)(size_t mr, size_t nr, size_t kc, const XNN_T *a, ptrdiff_t rsa,
                         ptrdiff_t csa, const XNN_T *b, ptrdiff_t ldb, XNN_T *c, ptrdiff_t ldc,
                         XNN_T beta)
{
    if (rsa == 1 && csa == REF_MR && ldb == REF_NR)   /* packed panels */
        XNN_FN(ref_body)(mr, nr, kc, a, 1, REF_MR, b, REF_NR, c, ldc, beta);
    else
        XNN_FN(ref_body)(mr, nr, kc, a, rsa, csa, b, ldb, c, ldc, beta);
}

#undef REF_NR
#undef REF_MR
#define GEMV_XW XNN_FN(xnn_gemv_xw_ref)
#define GEMV_WT XNN_FN(xnn_gemv_wt_ref)
#include "gemm/gemv_body.h"
#undef GEMV_XW
#undef GEMV_WT
#define TAPS_SUM XNN_FN(xnn_taps_sum_ref)
#include "gemm/taps_body.h"
#undef TAPS_SUM
#define CONV_WIDE XNN_FN(xnn_conv_wide_ref)
#define CONV_DW XNN_FN(xnn_conv_dw_ref)
#define WINO_IN XNN_FN(xnn_wino_in_ref)
#define WINO_OUT XNN_FN(xnn_wino_out_ref)
#define WINO_DZ XNN_FN(xnn_wino_dz_ref)
#define WINO_W XNN_FN(xnn_wino_w_ref)
#define CHLAST XNN_FN(xnn_chlast_ref)
#define CHFIRST XNN_FN(xnn_chfirst_ref)
#define CONV_LANES XNN_FN(conv_lanes_ref)
#include "gemm/conv_body.h"
#define MAXPOOL_ROWS XNN_FN(xnn_maxpool_rows_ref)
#define UNPOOL_ROWS XNN_FN(xnn_unpool_rows_ref)
#include "gemm/pool_body.h"
#undef MAXPOOL_ROWS
#undef UNPOOL_ROWS
#undef CONV_WIDE
#undef CONV_DW
#undef WINO_IN
#undef WINO_OUT
#undef WINO_DZ
#undef WINO_W
#undef CHLAST
#undef CHFIRST
#undef CONV_LANES
#endif
