/* fold_body.h: the fold of one input channel of a stride-1 convolution's
 * unfolded gradient (layers/conv.c, the GEMM path's dX), written once and
 * compiled by each vector instruction set's kernel file, which names it
 * FOLD_PLANE, gives V, VL, ST, ADD, ZERO, and includes pool_body.h first
 * (AVX2's stores of a row's end). The portable ISA has none: its entry
 * is NULL and layers/conv.c's scalar fold runs. Tap (i, j) has the row
 * s + (i kw + j) ld of (Ho, Wo) values:
 *
 *   d (H, W) = for each tap (i, j), in that order, and each row oh < Ho,
 *              from 0:  d[oh + i - ph][ow + j - pw] += s[oh Wo + ow]
 *              where that pixel lies inside d
 *
 * Every pixel of d sums the taps that read it in the order (i, j) on every
 * instruction set: the bits of the scalar loop. It holds VL pixels of a
 * row of d in a register and adds each tap's row to it, shifted into place
 * by a load masked to the pixels that tap reads (a masked lane adds +0,
 * which changes no sum that starts at +0), then stores the row once: a
 * whole vector where it stays inside d (the rows below are written after
 * it), a masked store at d's end. */

#ifndef VL
#error "gemm/fold_body.h is for the vector ISAs (the portable fold is layers/conv.c's)"
#endif
#if XNN_IS_F32 && VL == 16
/* lanes [a, b) of a load from p */
#define F_LDR(p, a, b) \
    _mm512_maskz_loadu_ps((__mmask16)(((1u << (b)) - 1u) & ~((1u << (a)) - 1u)), (p))
#define F_STN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#elif !XNN_IS_F32 && VL == 8
#define F_LDR(p, a, b) \
    _mm512_maskz_loadu_pd((__mmask8)(((1u << (b)) - 1u) & ~((1u << (a)) - 1u)), (p))
#define F_STN(p, v, n) _mm512_mask_storeu_pd((p), (__mmask8)((1u << (n)) - 1u), (v))
#elif XNN_IS_F32
#define F_LDR(p, a, b)                                                                        \
    _mm256_maskload_ps(                                                                       \
        (p), _mm256_and_si256(                                                                \
                 _mm256_cmpgt_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),                 \
                                    _mm256_set1_epi32((int)(a) - 1)),                         \
                 _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(b)),                              \
                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))))
#define F_STN(p, v, n) pool_stn_ps((p), (v), (n))
#else
#define F_LDR(p, a, b)                                                                      \
    _mm256_maskload_pd(                                                                     \
        (p), _mm256_and_si256(_mm256_cmpgt_epi64(_mm256_setr_epi64x(0, 1, 2, 3),             \
                                                 _mm256_set1_epi64x((long long)(a) - 1)),   \
                              _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(b)),        \
                                                 _mm256_setr_epi64x(0, 1, 2, 3))))
#define F_STN(p, v, n) pool_stn_pd((p), (v), (n))
#endif

void FOLD_PLANE(XNN_T *restrict d, const XNN_T *restrict s, size_t ld, size_t H, size_t W,
                size_t Ho, size_t Wo, size_t kh, size_t kw, size_t ph, size_t pw)
{
    const ptrdiff_t wo = (ptrdiff_t)Wo, p = (ptrdiff_t)pw;
    for (size_t r = 0; r < H; r++)
        for (size_t cb = 0; cb < W; cb += VL) {
            const ptrdiff_t nb = (ptrdiff_t)(W - cb < VL ? W - cb : VL), c = (ptrdiff_t)cb;
            V acc = ZERO();
            for (size_t i = 0; i < kh; i++) {
                /* the row oh of tap row i that lands on row r */
                if (r + ph < i || r + ph - i >= Ho) continue;
                const XNN_T *row = s + i * kw * ld + (r + ph - i) * Wo;
                for (size_t j = 0; j < kw; j++) {
                    /* pixel cb + t reads column ow = cb + t - j + pw: the
                       lanes [a, b) with 0 <= ow < Wo */
                    const ptrdiff_t sh = (ptrdiff_t)j - p;
                    const ptrdiff_t a = sh - c > 0 ? sh - c : 0;
                    const ptrdiff_t b = wo + sh - c < nb ? wo + sh - c : nb;
                    if (a >= b) continue;
                    acc = ADD(acc, F_LDR(row + j * ld + (c - sh), a, b));
                }
            }
            if ((H - r) * W >= cb + VL)
                ST(d + r * W + cb, acc);
            else
                F_STN(d + r * W + cb, acc, (size_t)nb);
        }
}

#undef F_LDR
#undef F_STN
