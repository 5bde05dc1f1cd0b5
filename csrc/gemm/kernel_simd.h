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
 * Tile MR x NR, accumulators c<i>0, c<i>1 (two vectors per row), k loop
 * unrolled by four, C written back with beta (0 overwrites).
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
    b += 2 * VL;
#define UKR_PREFETCH(i)                                                   \
    _mm_prefetch((const char *)(c + (i) * ldc), _MM_HINT_T0);             \
    _mm_prefetch((const char *)(c + (i) * ldc + 2 * VL - 1), _MM_HINT_T0);
#define UKR_STORE0(i) ST(c + (i) * ldc, c##i##0); ST(c + (i) * ldc + VL, c##i##1);
#define UKR_STORE1(i)                                                     \
    ST(c + (i) * ldc, ADD(c##i##0, LD(c + (i) * ldc)));                   \
    ST(c + (i) * ldc + VL, ADD(c##i##1, LD(c + (i) * ldc + VL)));
#define UKR_STOREB(i)                                                     \
    ST(c + (i) * ldc, FMA(vbeta, LD(c + (i) * ldc), c##i##0));            \
    ST(c + (i) * ldc + VL, FMA(vbeta, LD(c + (i) * ldc + VL), c##i##1));

static inline __attribute__((always_inline)) void
XNN_FN(ukr_body)(size_t kc, const XNN_T *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const XNN_T *b, XNN_T *c, ptrdiff_t ldc, XNN_T beta)
{
    UKR_ROWS(UKR_DECL)
    V b0, b1, av;
    const XNN_T *ap = a;
    UKR_ROWS(UKR_PREFETCH)
    size_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        UKR_STEP
        UKR_STEP
        UKR_STEP
        UKR_STEP
    }
    for (; p < kc; p++) {
        UKR_STEP
    }
    if (beta == 0) {
        UKR_ROWS(UKR_STORE0)
    } else if (beta == 1) {
        UKR_ROWS(UKR_STORE1)
    } else {
        V vbeta = SET1(beta);
        UKR_ROWS(UKR_STOREB)
    }
}

void UKR_NAME(size_t kc, const XNN_T *a, ptrdiff_t rsa, ptrdiff_t csa,
              const XNN_T *b, XNN_T *c, ptrdiff_t ldc, XNN_T beta)
{
    if (rsa == 1 && csa == MR)          /* packed panel: constant strides */
        XNN_FN(ukr_body)(kc, a, 1, MR, b, c, ldc, beta);
    else
        XNN_FN(ukr_body)(kc, a, rsa, csa, b, c, ldc, beta);
}

#undef UKR_DECL
#undef UKR_ROW
#undef UKR_STEP
#undef UKR_PREFETCH
#undef UKR_STORE0
#undef UKR_STORE1
#undef UKR_STOREB
