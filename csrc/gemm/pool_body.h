/* pool_body.h: the max pooling of one plane with 2 x 2 windows at stride 2
 * and its backward (layers/pool.c), written once and compiled by each
 * instruction set's kernel file, which names them MAXPOOL_ROWS and
 * UNPOOL_ROWS (and, for the vector ISAs, gives V, VL, LD, ST, ADD, SUB,
 * ZERO, SET1). For output row oh < Ho, from input rows r0 = x + 2 oh ld
 * and r1 = r0 + ld:
 *
 *   y[oh Wo + ow] = the maximum of window ow (each value read as
 *           max(x + b, 0) when rb: a ReLU convolution's rows before their
 *           bias and activation, conv.c)
 *   a[oh Wo + ow] = its arg-max 2 oh W + 2 ow + k, k in {0, 1, W, W + 1},
 *           with all bits flipped where the maximum is not > 0 (a NULL:
 *           none)
 *
 * The four values are taken in the order r0[2 ow], r0[2 ow + 1], r1[2 ow],
 * r1[2 ow + 1], each when greater than the maximum so far (so the first of
 * equal values wins, and a NaN is kept only when it comes first), on every
 * instruction set: the same bits. The vector ISAs take VL windows at once
 * (their even and odd inputs split apart), masked at the row's end, and
 * make the arg-max in floating point, exact below 2^24 for float (pool.c
 * calls the portable rows for planes of 2^24 pixels or more).
 *
 * UNPOOL_ROWS, the backward, sets rows 2 oh and 2 oh + 1 of d (rows rs
 * apart), columns [0, 2 Wo), for oh < Ho: 0 + dy[oh Wo + ow] at the
 * arg-max of window ow (a's index, or ~a where a < 0) and 0 at its three
 * other inputs; with relu (the pooling reads a ReLU's output) a < 0 sets
 * the whole window to 0, the ReLU's zero gradient. The windows do not
 * overlap, so each input gets one value: the bits of a zeroed plane that
 * the arg-max's gradient is added to (pool.c's general loop). */

#ifdef VL
#if (XNN_IS_F32 && VL == 8) || (!XNN_IS_F32 && VL == 4)   /* AVX2 */
#ifndef XNN_POOL_STN_AVX2
#define XNN_POOL_STN_AVX2
/* AVX2's stores of the first n lanes: a whole vector stored plainly, a
   shorter row end in halves, pairs and singles (AVX2's masked stores are
   slow on some processors, many cycles each; its whole-vector loads below
   are plain loads too) */
static inline void pool_stn_ps(float *p, __m256 v, size_t n)
{
    if (n == 8) { _mm256_storeu_ps(p, v); return; }
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) { _mm_storeu_ps(p, h); p += 4, n -= 4, h = _mm256_extractf128_ps(v, 1); }
    if (n >= 2) { _mm_storel_pi((__m64 *)p, h); p += 2, n -= 2, h = _mm_movehl_ps(h, h); }
    if (n) _mm_store_ss(p, h);
}
static inline void pool_stn_pd(double *p, __m256d v, size_t n)
{
    if (n == 4) { _mm256_storeu_pd(p, v); return; }
    __m128d h = _mm256_castpd256_pd128(v);
    if (n >= 2) { _mm_storeu_pd(p, h); p += 2, n -= 2, h = _mm256_extractf128_pd(v, 1); }
    if (n) _mm_store_sd(p, h);
}
static inline void pool_stn_i32x4(int32_t *p, __m128i v, size_t n)
{
    if (n == 4) { _mm_storeu_si128((__m128i *)p, v); return; }
    if (n >= 2) { _mm_storel_epi64((__m128i *)p, v); p += 2, n -= 2, v = _mm_srli_si128(v, 8); }
    if (n) *p = _mm_cvtsi128_si32(v);
}
static inline void pool_stn_i32(int32_t *p, __m256i v, size_t n)
{
    if (n == 8) { _mm256_storeu_si256((__m256i *)p, v); return; }
    __m128i h = _mm256_castsi256_si128(v);
    if (n >= 4) {
        _mm_storeu_si128((__m128i *)p, h);
        p += 4, n -= 4, h = _mm256_extracti128_si256(v, 1);
    }
    pool_stn_i32x4(p, h, n);
}
#endif
#endif
#if XNN_IS_F32 && VL == 16   /* AVX-512 by its lanes: an AVX2 file may have __AVX512F__ */
#define P_MASK __mmask16
#define P_GT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define P_SEL(m, a, b) _mm512_mask_blend_ps((m), (a), (b))
#define P_LM(n) ((__mmask16)((1u << (n)) - 1u))
#define P_LDN(p, n) _mm512_maskz_loadu_ps(P_LM(n), (p))
#define P_STN(p, v, n) _mm512_mask_storeu_ps((p), P_LM(n), (v))
#define P_STN_I32(p, v, n) _mm512_mask_storeu_epi32((p), P_LM(n), _mm512_cvttps_epi32(v))
#define P_EVEN(lo, hi)                                                                   \
    _mm512_permutex2var_ps((lo), _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,  \
                                                   22, 24, 26, 28, 30), (hi))
#define P_ODD(lo, hi)                                                                    \
    _mm512_permutex2var_ps((lo), _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21,  \
                                                   23, 25, 27, 29, 31), (hi))
#define P_IOTA _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define P_LDN_I32(p, n) _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(P_LM(n), (p)))
#define P_ZIP_LO(a, b)                                                                     \
    _mm512_permutex2var_ps((a), _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, \
                                                  6, 22, 7, 23), (b))
#define P_ZIP_HI(a, b)                                                                      \
    _mm512_permutex2var_ps((a), _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, \
                                                  29, 14, 30, 15, 31), (b))
#elif !XNN_IS_F32 && VL == 8
#define P_MASK __mmask8
#define P_GT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GT_OQ)
#define P_SEL(m, a, b) _mm512_mask_blend_pd((m), (a), (b))
#define P_LM(n) ((__mmask8)((1u << (n)) - 1u))
#define P_LDN(p, n) _mm512_maskz_loadu_pd(P_LM(n), (p))
#define P_STN(p, v, n) _mm512_mask_storeu_pd((p), P_LM(n), (v))
#define P_STN_I32(p, v, n)                                                                \
    _mm256_maskstore_epi32((int *)(p),                                                    \
                           _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)),                \
                                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), \
                           _mm512_cvttpd_epi32(v))
#define P_EVEN(lo, hi) \
    _mm512_permutex2var_pd((lo), _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), (hi))
#define P_ODD(lo, hi) \
    _mm512_permutex2var_pd((lo), _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), (hi))
#define P_IOTA _mm512_setr_pd(0, 1, 2, 3, 4, 5, 6, 7)
#define P_LDN_I32(p, n)                                                                 \
    _mm512_cvtepi32_pd(_mm256_maskload_epi32(                                           \
        (const int *)(p), _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)),                \
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))))
#define P_ZIP_LO(a, b) \
    _mm512_permutex2var_pd((a), _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), (b))
#define P_ZIP_HI(a, b) \
    _mm512_permutex2var_pd((a), _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), (b))
#elif XNN_IS_F32
#define P_MASK __m256
#define P_GT(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define P_SEL(m, a, b) _mm256_blendv_ps((a), (b), (m))
#define P_LM(n) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), \
                                   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define P_LDN(p, n) ((n) == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), P_LM(n)))
#define P_STN(p, v, n) pool_stn_ps((p), (v), (n))
#define P_STN_I32(p, v, n) pool_stn_i32((p), _mm256_cvttps_epi32(v), (n))
/* [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6], its 64-bit pairs put in order */
#define P_EVEN(lo, hi) _mm256_castpd_ps(_mm256_permute4x64_pd( \
    _mm256_castps_pd(_mm256_shuffle_ps((lo), (hi), 0x88)), 0xD8))
#define P_ODD(lo, hi) _mm256_castpd_ps(_mm256_permute4x64_pd( \
    _mm256_castps_pd(_mm256_shuffle_ps((lo), (hi), 0xDD)), 0xD8))
#define P_IOTA _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7)
#define P_LDN_I32(p, n) _mm256_cvtepi32_ps(_mm256_maskload_epi32((const int *)(p), P_LM(n)))
/* [a0 b0 a1 b1 a2 b2 a3 b3], [a4 b4 ... a7 b7] */
#define P_ZIP_LO(a, b) \
    _mm256_permute2f128_ps(_mm256_unpacklo_ps((a), (b)), _mm256_unpackhi_ps((a), (b)), 0x20)
#define P_ZIP_HI(a, b) \
    _mm256_permute2f128_ps(_mm256_unpacklo_ps((a), (b)), _mm256_unpackhi_ps((a), (b)), 0x31)
#else
#define P_MASK __m256d
#define P_GT(a, b) _mm256_cmp_pd((a), (b), _CMP_GT_OQ)
#define P_SEL(m, a, b) _mm256_blendv_pd((a), (b), (m))
#define P_LM(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n)), \
                                   _mm256_setr_epi64x(0, 1, 2, 3))
#define P_LDN(p, n) ((n) == 4 ? _mm256_loadu_pd(p) : _mm256_maskload_pd((p), P_LM(n)))
#define P_STN(p, v, n) pool_stn_pd((p), (v), (n))
#define P_STN_I32(p, v, n) pool_stn_i32x4((p), _mm256_cvttpd_epi32(v), (n))
/* [lo0 hi0 lo2 hi2], its pairs put in order */
#define P_EVEN(lo, hi) _mm256_permute4x64_pd(_mm256_unpacklo_pd((lo), (hi)), 0xD8)
#define P_ODD(lo, hi) _mm256_permute4x64_pd(_mm256_unpackhi_pd((lo), (hi)), 0xD8)
#define P_IOTA _mm256_setr_pd(0, 1, 2, 3)
#define P_LDN_I32(p, n)                                                         \
    _mm256_cvtepi32_pd(_mm_maskload_epi32(                                      \
        (const int *)(p), _mm_cmpgt_epi32(_mm_set1_epi32((int)(n)), _mm_setr_epi32(0, 1, 2, 3))))
#define P_ZIP_LO(a, b) \
    _mm256_permute2f128_pd(_mm256_unpacklo_pd((a), (b)), _mm256_unpackhi_pd((a), (b)), 0x20)
#define P_ZIP_HI(a, b) \
    _mm256_permute2f128_pd(_mm256_unpacklo_pd((a), (b)), _mm256_unpackhi_pd((a), (b)), 0x31)
#endif

void MAXPOOL_ROWS(XNN_T *restrict yp, int32_t *restrict ap, const XNN_T *restrict x, size_t ld,
                  size_t Ho, size_t Wo, int32_t W, int rb, XNN_T b)
{
    const V z = ZERO(), one = SET1(1), vb = SET1(b), iota2 = ADD(P_IOTA, P_IOTA);
    const V kW = SET1((XNN_T)W), kW1 = SET1((XNN_T)W + 1);
    for (size_t oh = 0; oh < Ho; oh++) {
        const XNN_T *r0 = x + 2 * oh * ld, *r1 = r0 + ld;
        XNN_T *y = yp + oh * Wo;
        int32_t *a = ap ? ap + oh * Wo : NULL;
        const int32_t base = (int32_t)(2 * oh * (size_t)W);
        for (size_t o = 0; o < Wo; o += VL) {
            const size_t n = Wo - o < VL ? Wo - o : VL, n0 = 2 * n < VL ? 2 * n : VL;
            const size_t n1 = 2 * n - n0;
            const XNN_T *p0 = r0 + 2 * o, *p1 = r1 + 2 * o;
            const V a0 = P_LDN(p0, n0), a1 = n1 ? P_LDN(p0 + VL, n1) : z;
            const V b0 = P_LDN(p1, n0), b1 = n1 ? P_LDN(p1 + VL, n1) : z;
            V v0 = P_EVEN(a0, a1), v1 = P_ODD(a0, a1), v2 = P_EVEN(b0, b1), v3 = P_ODD(b0, b1);
            if (rb) { /* t = x + b; t < 0 ? 0 : t */
                v0 = ADD(v0, vb), v1 = ADD(v1, vb), v2 = ADD(v2, vb), v3 = ADD(v3, vb);
                v0 = P_SEL(P_GT(z, v0), v0, z), v1 = P_SEL(P_GT(z, v1), v1, z);
                v2 = P_SEL(P_GT(z, v2), v2, z), v3 = P_SEL(P_GT(z, v3), v3, z);
            }
            P_MASK c = P_GT(v1, v0);
            V v = P_SEL(c, v0, v1), k = P_SEL(c, z, one);
            c = P_GT(v2, v);
            v = P_SEL(c, v, v2), k = P_SEL(c, k, kW);
            c = P_GT(v3, v);
            v = P_SEL(c, v, v3), k = P_SEL(c, k, kW1);
            P_STN(y + o, v, n);
            if (a) {
                const V idx = ADD(ADD(SET1((XNN_T)base + (XNN_T)(2 * o)), iota2), k);
                /* ~idx = -idx - 1 where v is not > 0 */
                P_STN_I32(a + o, P_SEL(P_GT(v, z), SUB(SUB(z, idx), one), idx), n);
            }
        }
    }
}

void UNPOOL_ROWS(XNN_T *restrict d, size_t rs, const XNN_T *restrict dy,
                 const int32_t *restrict ap, size_t Ho, size_t Wo, int32_t W, int relu)
{
    const V z = ZERO(), one = SET1(1), half = SET1((XNN_T)0.5), iota2 = ADD(P_IOTA, P_IOTA);
    const V kW = SET1((XNN_T)W), kWh = SET1((XNN_T)W - (XNN_T)0.5);
    for (size_t oh = 0; oh < Ho; oh++) {
        XNN_T *r0 = d + 2 * oh * rs, *r1 = r0 + rs;
        const XNN_T *g = dy + oh * Wo;
        const int32_t *a = ap + oh * Wo;
        const XNN_T base = (XNN_T)(2 * oh * (size_t)W);
        for (size_t o = 0; o < Wo; o += VL) {
            const size_t n = Wo - o < VL ? Wo - o : VL, n0 = 2 * n < VL ? 2 * n : VL;
            const size_t n1 = 2 * n - n0;
            V k = P_LDN_I32(a + o, n), v = ADD(z, P_LDN(g + o, n));
            const P_MASK neg = P_GT(z, k);
            if (relu)
                v = P_SEL(neg, v, z);
            else
                k = P_SEL(neg, k, SUB(SUB(z, k), one));   /* ~a = -a - 1 */
            /* the arg-max from its window's first input: 0, 1, W or W + 1 */
            const V rel = SUB(k, ADD(SET1(base + (XNN_T)(2 * o)), iota2));
            const P_MASK low = P_GT(rel, kWh);              /* the window's second row */
            const P_MASK odd = P_GT(P_SEL(low, rel, SUB(rel, kW)), half);
            const V t = P_SEL(low, v, z), b = P_SEL(low, z, v);
            const V te = P_SEL(odd, t, z), to = P_SEL(odd, z, t);
            const V be = P_SEL(odd, b, z), bo = P_SEL(odd, z, b);
            P_STN(r0 + 2 * o, P_ZIP_LO(te, to), n0);
            P_STN(r1 + 2 * o, P_ZIP_LO(be, bo), n0);
            if (n1) {
                P_STN(r0 + 2 * o + VL, P_ZIP_HI(te, to), n1);
                P_STN(r1 + 2 * o + VL, P_ZIP_HI(be, bo), n1);
            }
        }
    }
}

#undef P_MASK
#undef P_GT
#undef P_SEL
#undef P_LM
#undef P_LDN
#undef P_STN
#undef P_STN_I32
#undef P_EVEN
#undef P_ODD
#undef P_IOTA
#undef P_LDN_I32
#undef P_ZIP_LO
#undef P_ZIP_HI

#else
/* ---- portable C: window by window, the selects as masks ---- */

static inline XNN_T XNN_FN(pool_rd)(XNN_T x, int rb, XNN_T b)
{
    if (!rb) return x;
    const XNN_T t = x + b;
    return t < 0 ? 0 : t;
}

void MAXPOOL_ROWS(XNN_T *restrict yp, int32_t *restrict ap, const XNN_T *restrict x, size_t ld,
                  size_t Ho, size_t Wo, int32_t W, int rb, XNN_T b)
{
    for (size_t oh = 0; oh < Ho; oh++) {
        const XNN_T *r0 = x + 2 * oh * ld, *r1 = r0 + ld;
        XNN_T *y = yp + oh * Wo;
        int32_t *a = ap ? ap + oh * Wo : NULL;
        const int32_t base = (int32_t)(2 * oh * (size_t)W);
        for (size_t ow = 0; ow < Wo; ow++) {
            const XNN_T v0 = XNN_FN(pool_rd)(r0[2 * ow], rb, b);
            const XNN_T v1 = XNN_FN(pool_rd)(r0[2 * ow + 1], rb, b);
            const XNN_T v2 = XNN_FN(pool_rd)(r1[2 * ow], rb, b);
            const XNN_T v3 = XNN_FN(pool_rd)(r1[2 * ow + 1], rb, b);
            XNN_T v = v0;
            int32_t k = 0, c;
            /* k = c ? new : k, as masks: a select the CPU cannot mispredict */
            c = -(int32_t)(v1 > v);
            k ^= (k ^ 1) & c;
            v = v1 > v ? v1 : v;
            c = -(int32_t)(v2 > v);
            k ^= (k ^ W) & c;
            v = v2 > v ? v2 : v;
            c = -(int32_t)(v3 > v);
            k ^= (k ^ (W + 1)) & c;
            v = v3 > v ? v3 : v;
            y[ow] = v;
            if (a) a[ow] = (base + (int32_t)(2 * ow) + k) ^ -(int32_t)!(v > 0);
        }
    }
}

void UNPOOL_ROWS(XNN_T *restrict d, size_t rs, const XNN_T *restrict dy,
                 const int32_t *restrict ap, size_t Ho, size_t Wo, int32_t W, int relu)
{
    for (size_t oh = 0; oh < Ho; oh++) {
        XNN_T *r0 = d + 2 * oh * rs, *r1 = r0 + rs;
        const int32_t base = (int32_t)(2 * oh * (size_t)W);
        for (size_t ow = 0; ow < Wo; ow++) {
            const int32_t v = ap[oh * Wo + ow], k = (v < 0 ? ~v : v) - base - (int32_t)(2 * ow);
            const XNN_T e = relu && v < 0 ? 0 : (XNN_T)0 + dy[oh * Wo + ow];
            r0[2 * ow] = k == 0 ? e : 0;
            r0[2 * ow + 1] = k == 1 ? e : 0;
            r1[2 * ow] = k == W ? e : 0;
            r1[2 * ow + 1] = k == W + 1 ? e : 0;
        }
    }
}
#endif
