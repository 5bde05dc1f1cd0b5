/* pack.c: copy blocks of op(A) and op(B) into the panels the micro-kernels
 * read, zero-padding the edges.
 *
 *   Ap: ceil(mc/mr) panels, panel r holds op(A)[r*mr + i, p] at p*mr + i
 *   Bp: ceil(nc/nr) panels, panel s holds op(B)[p, s*nr + j] at p*nr + j
 *
 * The source is addressed through its strides (gemm_internal.h), so the
 * transposed storage is read in place; the loops follow whichever
 * direction of the source is contiguous.
 */
#ifndef XNN_T
#include "gemm/gemm.h"
#define XNN_SELF "gemm/pack.c"
#include "core/template.h"
#else

/* one panel of w (<= W) lanes: dst[p*W + l] = src[l*ls + p*ps], l < w */
static inline void XNN_FN(pack_panel)(XNN_T *dst, const XNN_T *src, ptrdiff_t ls, ptrdiff_t ps,
                                      size_t kc, size_t w, const size_t W)
{
    if (w == W && ls == 1) {                 /* lanes contiguous */
        for (size_t p = 0; p < kc; p++)
            for (size_t l = 0; l < W; l++) dst[p * W + l] = src[(ptrdiff_t)p * ps + l];
        return;
    }
    if (w == W && ps == 1) {                 /* steps contiguous: transpose */
        size_t p = 0;
        for (; p + 4 <= kc; p += 4)
            for (size_t l = 0; l < W; l++) {
                const XNN_T *s = src + (ptrdiff_t)l * ls + p;
                dst[(p + 0) * W + l] = s[0];
                dst[(p + 1) * W + l] = s[1];
                dst[(p + 2) * W + l] = s[2];
                dst[(p + 3) * W + l] = s[3];
            }
        for (; p < kc; p++)
            for (size_t l = 0; l < W; l++) dst[p * W + l] = src[(ptrdiff_t)l * ls + p];
        return;
    }
    for (size_t p = 0; p < kc; p++) {
        for (size_t l = 0; l < w; l++) dst[p * W + l] = src[(ptrdiff_t)l * ls + (ptrdiff_t)p * ps];
        for (size_t l = w; l < W; l++) dst[p * W + l] = 0;
    }
}

/* lanes x steps block into panels of W lanes */
static inline void XNN_FN(pack_block)(XNN_T *dst, const XNN_T *src, ptrdiff_t ls, ptrdiff_t ps,
                                      size_t lanes, size_t kc, const size_t W)
{
    for (size_t l0 = 0; l0 < lanes; l0 += W) {
        size_t w = lanes - l0 < W ? lanes - l0 : W;
        XNN_FN(pack_panel)(dst, src + (ptrdiff_t)l0 * ls, ls, ps, kc, w, W);
        dst += kc * W;
    }
}

/* dispatch on the panel width so the loops above see a constant */
#define XNN_PACK_WIDTHS(CALL) \
    switch (width) {          \
    case 4: CALL(4); break;   \
    case 6: CALL(6); break;   \
    case 8: CALL(8); break;   \
    case 12: CALL(12); break; \
    case 14: CALL(14); break; \
    case 16: CALL(16); break; \
    case 32: CALL(32); break; \
    default: CALL(width); break; \
    }

void XNN_FN(xnn_pack_a)(XNN_T *Ap, const XNN_T *A, ptrdiff_t rsa, ptrdiff_t csa,
                        size_t mc, size_t kc, size_t mr)
{
    size_t width = mr;
#define CALL(W) XNN_FN(pack_block)(Ap, A, rsa, csa, mc, kc, W)
    XNN_PACK_WIDTHS(CALL)
#undef CALL
}

void XNN_FN(xnn_pack_b)(XNN_T *Bp, const XNN_T *B, ptrdiff_t rsb, ptrdiff_t csb,
                        size_t kc, size_t nc, size_t nr)
{
    size_t width = nr;
#define CALL(W) XNN_FN(pack_block)(Bp, B, csb, rsb, nc, kc, W)
    XNN_PACK_WIDTHS(CALL)
#undef CALL
}

#undef XNN_PACK_WIDTHS
#endif
