/* kernel_simd.h: the body of the x86 SIMD micro-kernels, written once.
 *
 * Included by kernel_avx2.c and kernel_avx512.c once per dtype after they
 * define, for their vector width:
 *   V, VL            vector type and its number of lanes
 *   LD ST            unaligned load / store
 *   BC(p)            broadcast the scalar *p
 *   FMA(a, b, c)     a * b + c, fused
 *   ADD ZERO SET1
 *   UKR_NAME         the function name
 *   UKR_ROWS(X)      X(i) for each row i of the tile (MR rows)
 *   MR               number of rows; NR = 2 * VL columns
 *
 * Tile MR x NR, accumulators c<i>0, c<i>1 (two vectors per row), C
 * written back with beta (0 overwrites); only the leading mr x nr part
 * of the tile is stored.
 */

#define UKR_DECL(i) V c##i##0 = ZERO(), c##i##1 = ZERO();
#define UKR_ROW(i)                                  \
    av = BC(ap + (i) * rsa);                        \
    c##i##0 = FMA(av, b0, c##i##0);                 \
    c##i##1 = FMA(av, b1, c##i##1);
#define UKR_STEP                                    \
    b0 = LD(b);                                     \
    b1 = LD(b + VL);                                \
    UKR_ROWS(UKR_ROW)                               \
    ap += csa;                                      \
    b += ldb;
#define UKR_PREFETCH(i)                                                   \
    _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T0);             \
    _mm_prefetch((const char *)(c + (i) * ldc + 2 * VL - 1), _MM_HINT_T0);
#define UKR_STORE0(i) ST(cw + (i) * ldw, c##i##0); ST(cw + (i) * ldw + VL, c##i##1);
#define UKR_STORE1(i)                                                     \
    ST(cw + (i) * ldw, ADD(c##i##0, LD(cw + (i) * ldw)));                 \
    ST(cw + (i) * ldw + VL, ADD(c##i##1, LD(cw + (i) * ldw + VL)));
#define UKR_STOREB(i)                                                     \
    ST(cw + (i) * ldw, FMA(vbeta, LD(cw + (i) * ldw), c##i##0));          \
    ST(cw + (i) * ldw + VL, FMA(vbeta, LD(cw + (i) * ldw + VL), c##i##1));

static inline __attribute__((always_inline)) void
XNN_FN(ukr_body)(size_t mr, size_t nr, size_t kc, const XNN_T *a, ptrdiff_t rsa,
                 ptrdiff_t csa, const XNN_T *b, ptrdiff_t ldb, XNN_T *c, ptrdiff_t ldc,
                 XNN_T beta)
{
    UKR_ROWS(UKR_DECL)
    V b0, b1, av;
    const XNN_T *ap = a;
    UKR_ROWS(UKR_PREFETCH)
    /* unrolled by GCC (a hand unrolling made it spill accumulators) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (size_t p = 0; p < kc; p++) {
        UKR_STEP
    }
    /* an edge tile is combined with beta in a full temporary tile, with
       the same instructions as a full one, and its valid part copied */
    const int full = mr == MR && nr == 2 * VL;
    _Alignas(64) XNN_T tmp[MR * 2 * VL];
    XNN_T *cw = c;
    ptrdiff_t ldw = ldc;
    if (!full) {
        cw = tmp;
        ldw = 2 * VL;
        if (beta != 0)
            for (size_t i = 0; i < MR; i++)
                for (size_t j = 0; j < 2 * VL; j++)
                    tmp[i * 2 * VL + j] = (i < mr && j < nr) ? c[(ptrdiff_t)i * ldc + j] : 0;
    }
    if (beta == 0) {
        UKR_ROWS(UKR_STORE0)
    } else if (beta == 1) {
        UKR_ROWS(UKR_STORE1)
    } else {
        V vbeta = SET1(beta);
        UKR_ROWS(UKR_STOREB)
    }
    if (!full)
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < nr; j++) c[(ptrdiff_t)i * ldc + j] = tmp[i * 2 * VL + j];
}

/* the common stride patterns get bodies with constant strides */
void UKR_NAME(size_t mr, size_t nr, size_t kc, const XNN_T *a, ptrdiff_t rsa,
              ptrdiff_t csa, const XNN_T *b, ptrdiff_t ldb, XNN_T *c, ptrdiff_t ldc,
              XNN_T beta)
{
    if (ldb == 2 * VL) {                /* packed B panel */
        if (rsa == 1 && csa == MR)      /* packed A panel */
            XNN_FN(ukr_body)(mr, nr, kc, a, 1, MR, b, 2 * VL, c, ldc, beta);
        else if (csa == 1)              /* rows of A read in place */
            XNN_FN(ukr_body)(mr, nr, kc, a, rsa, 1, b, 2 * VL, c, ldc, beta);
        else
            XNN_FN(ukr_body)(mr, nr, kc, a, rsa, csa, b, 2 * VL, c, ldc, beta);
    } else {                            /* rows of B read in place */
        if (rsa == 1 && csa == MR)
            XNN_FN(ukr_body)(mr, nr, kc, a, 1, MR, b, ldb, c, ldc, beta);
        else if (csa == 1)
            XNN_FN(ukr_body)(mr, nr, kc, a, rsa, 1, b, ldb, c, ldc, beta);
        else
            XNN_FN(ukr_body)(mr, nr, kc, a, rsa, csa, b, ldb, c, ldc, beta);
    }
}

#undef UKR_DECL
#undef UKR_ROW
#undef UKR_STEP
#undef UKR_PREFETCH
#undef UKR_STORE0
#undef UKR_STORE1
#undef UKR_STOREB
