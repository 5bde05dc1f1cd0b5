/* conv_body.h: the direct convolution's inner loops, written once and
 * compiled by each instruction set's kernel file (kernel_ref.c,
 * kernel_avx2.c, kernel_avx512.c), which names them CONV_WIDE and CONV_DW
 * (and the Winograd transforms WINO_IN and WINO_OUT)
 * and, for the vector ISAs, gives the vector type and operations (V, VL,
 * LD, ST, BC, MADD, ZERO). layers/conv.c drives them.
 *
 * Both work on the "wide" grid of a padded plane: a channel c of the input
 * is stored (Hp, Wp) row-major at x + c ldx, an output position (oh, ow)
 * with ow < Wp gets the flat index q = oh Wp + ow, and the tap (c, i, j)
 * reads x[c ldx + i Wp + j + q]: one contiguous run of q for every tap.
 * Positions with ow >= Wo are computed too and thrown away (or, for dW,
 * carry a zero gradient). q runs in blocks of 64 bytes of lanes (16
 * float, 8 double), each lane a sum of its own held in registers, the taps
 * in increasing order; the lanes never mix until dW's final tree, written
 * out below. The vector ISAs add each product with a fused multiply-add
 * (MADD, one rounding; the loops issue a third fewer instructions), so
 * AVX2 and AVX-512 give the same bits; the portable loops multiply, then
 * add, and differ from them by that rounding. */

#define Q (XNN_IS_F32 ? 16 : 8)   /* 64 bytes */

/* the Q lanes of a, added as a tree: (l, l + Q/2), ..., then
   (a0 + a2) + (a1 + a3) */
static inline XNN_T CONV_LANES(XNN_T *a)
{
    for (int h = Q / 2; h > 2; h /= 2)
        for (int l = 0; l < h; l++) a[l] += a[l + h];
    return (a[0] + a[2]) + (a[1] + a[3]);
}

#ifdef VL
/* ---- vector ISAs: NV vectors of VL lanes per block ---- */
#define NV (Q / VL)

/* Y[o ldy + q] = sum over the taps t = (c, i, j) in increasing order of
 * w[o K + t] x[c ldx + i Wp + j + q], for o < O and q < nq (a multiple of
 * Q; x must be readable that far), K = C kh kw */
static inline __attribute__((always_inline)) void
XNN_FN(conv_wide_body)(XNN_T *Y, size_t ldy, const XNN_T *x, size_t ldx, size_t Wp,
                       const XNN_T *w, size_t O, size_t C, size_t kh, size_t kw, size_t nq)
{
    const size_t K = C * kh * kw;
    size_t o = 0;
#if NV <= 2
    for (; o + 6 <= O; o += 6) {   /* 6 channels: 6 NV accumulators, one broadcast at a time */
        const XNN_T *w0 = w + o * K;
        for (size_t q0 = 0; q0 < nq; q0 += Q) {
            V a0[NV], a1[NV], a2[NV], a3[NV], a4[NV], a5[NV];
            for (int v = 0; v < NV; v++) a0[v] = a1[v] = a2[v] = a3[v] = a4[v] = a5[v] = ZERO();
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        V s[NV];
                        for (int v = 0; v < NV; v++) s[v] = LD(r + j + v * VL);
                        V b = BC(w0 + t);
                        for (int v = 0; v < NV; v++) a0[v] = MADD(a0[v], b, s[v]);
                        b = BC(w0 + K + t);
                        for (int v = 0; v < NV; v++) a1[v] = MADD(a1[v], b, s[v]);
                        b = BC(w0 + 2 * K + t);
                        for (int v = 0; v < NV; v++) a2[v] = MADD(a2[v], b, s[v]);
                        b = BC(w0 + 3 * K + t);
                        for (int v = 0; v < NV; v++) a3[v] = MADD(a3[v], b, s[v]);
                        b = BC(w0 + 4 * K + t);
                        for (int v = 0; v < NV; v++) a4[v] = MADD(a4[v], b, s[v]);
                        b = BC(w0 + 5 * K + t);
                        for (int v = 0; v < NV; v++) a5[v] = MADD(a5[v], b, s[v]);
                    }
                }
            for (int v = 0; v < NV; v++) {
                ST(Y + o * ldy + q0 + v * VL, a0[v]);
                ST(Y + (o + 1) * ldy + q0 + v * VL, a1[v]);
                ST(Y + (o + 2) * ldy + q0 + v * VL, a2[v]);
                ST(Y + (o + 3) * ldy + q0 + v * VL, a3[v]);
                ST(Y + (o + 4) * ldy + q0 + v * VL, a4[v]);
                ST(Y + (o + 5) * ldy + q0 + v * VL, a5[v]);
            }
        }
    }
    for (; o + 4 <= O; o += 4) {   /* 4 channels: 4 NV accumulators */
        const XNN_T *w0 = w + o * K;
        for (size_t q0 = 0; q0 < nq; q0 += Q) {
            V a0[NV], a1[NV], a2[NV], a3[NV];
            for (int v = 0; v < NV; v++) a0[v] = a1[v] = a2[v] = a3[v] = ZERO();
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        const V b0 = BC(w0 + t), b1 = BC(w0 + K + t), b2 = BC(w0 + 2 * K + t),
                                b3 = BC(w0 + 3 * K + t);
                        for (int v = 0; v < NV; v++) {
                            const V s = LD(r + j + v * VL);
                            a0[v] = MADD(a0[v], b0, s);
                            a1[v] = MADD(a1[v], b1, s);
                            a2[v] = MADD(a2[v], b2, s);
                            a3[v] = MADD(a3[v], b3, s);
                        }
                    }
                }
            for (int v = 0; v < NV; v++) {
                ST(Y + o * ldy + q0 + v * VL, a0[v]);
                ST(Y + (o + 1) * ldy + q0 + v * VL, a1[v]);
                ST(Y + (o + 2) * ldy + q0 + v * VL, a2[v]);
                ST(Y + (o + 3) * ldy + q0 + v * VL, a3[v]);
            }
        }
    }
#endif
    for (; o + 2 <= O; o += 2) {   /* 2 channels */
        const XNN_T *w0 = w + o * K;
        for (size_t q0 = 0; q0 < nq; q0 += Q) {
            V a0[NV], a1[NV];
            for (int v = 0; v < NV; v++) a0[v] = a1[v] = ZERO();
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        const V b0 = BC(w0 + t), b1 = BC(w0 + K + t);
                        for (int v = 0; v < NV; v++) {
                            const V s = LD(r + j + v * VL);
                            a0[v] = MADD(a0[v], b0, s);
                            a1[v] = MADD(a1[v], b1, s);
                        }
                    }
                }
            for (int v = 0; v < NV; v++) {
                ST(Y + o * ldy + q0 + v * VL, a0[v]);
                ST(Y + (o + 1) * ldy + q0 + v * VL, a1[v]);
            }
        }
    }
    for (; o < O; o++) {        /* one channel: 4 blocks of q share each broadcast */
        const XNN_T *w0 = w + o * K;
        size_t q0 = 0;
        for (; q0 + 4 * Q <= nq; q0 += 4 * Q) {
            V a0[4 * NV];
            for (int v = 0; v < 4 * NV; v++) a0[v] = ZERO();
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        const V b0 = BC(w0 + t);
                        for (int v = 0; v < 4 * NV; v++)
                            a0[v] = MADD(a0[v], b0, LD(r + j + v * VL));
                    }
                }
            for (int v = 0; v < 4 * NV; v++) ST(Y + o * ldy + q0 + v * VL, a0[v]);
        }
        for (; q0 < nq; q0 += Q) {
            V a0[NV];
            for (int v = 0; v < NV; v++) a0[v] = ZERO();
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        const V b0 = BC(w0 + t);
                        for (int v = 0; v < NV; v++)
                            a0[v] = MADD(a0[v], b0, LD(r + j + v * VL));
                    }
                }
            for (int v = 0; v < NV; v++) ST(Y + o * ldy + q0 + v * VL, a0[v]);
        }
    }
}

/* the loops above with the common kernel sizes known to the compiler (the
   same sums): 1 x 1 (Winograd's products) and 3 x 3 */
void CONV_WIDE(XNN_T *Y, size_t ldy, const XNN_T *x, size_t ldx, size_t Wp, const XNN_T *w,
               size_t O, size_t C, size_t kh, size_t kw, size_t nq)
{
    if (kh == 1 && kw == 1)
        XNN_FN(conv_wide_body)(Y, ldy, x, ldx, Wp, w, O, C, 1, 1, nq);
    else if (kh == 3 && kw == 3)
        XNN_FN(conv_wide_body)(Y, ldy, x, ldx, Wp, w, O, C, 3, 3, nq);
    else
        XNN_FN(conv_wide_body)(Y, ldy, x, ldx, Wp, w, O, C, kh, kw, nq);
}

/* dw[o K + t] += sum over q < nq of dz[o ldz + q] x[c ldx + i Wp + j + q]
 * for o < O and every tap t = (c, i, j): Q partial sums per product, the
 * blocks of q in increasing order, the lanes added as CONV_LANES does.
 * Register tiles of OB channels by TJ neighbouring taps of a row (c, i):
 * each block of q loads OB blocks of dz and TJ of x for OB TJ products
 * (at most DW_OB x DW_TJ, all in registers); every sum is the same
 * whatever the tile. */
#if NV == 1
#define DW_OB 4   /* 20 accumulators, 4 of dz, 1 of x: 25 of 32 registers */
#define DW_TJ 5
#else
#define DW_OB 2   /* 12 accumulators, 2 of dz, 1 of x: 15 of 16 registers */
#define DW_TJ 3
#endif

static inline __attribute__((always_inline)) void
XNN_FN(dw_tile)(XNN_T *dw, size_t K, const XNN_T *dz, size_t ldz, const XNN_T *s, size_t nq,
                const int OB, const int TJ)
{
    V a[DW_OB][DW_TJ][NV];
    for (int b = 0; b < OB; b++)
        for (int j = 0; j < TJ; j++)
            for (int v = 0; v < NV; v++) a[b][j][v] = ZERO();
    for (size_t q0 = 0; q0 < nq; q0 += Q)
        for (int v = 0; v < NV; v++) {
            V z[DW_OB];
            for (int b = 0; b < OB; b++) z[b] = LD(dz + b * ldz + q0 + v * VL);
            for (int j = 0; j < TJ; j++) {
                const V xv = LD(s + j + q0 + v * VL);
                for (int b = 0; b < OB; b++) a[b][j][v] = MADD(a[b][j][v], z[b], xv);
            }
        }
    XNN_T lanes[Q];
    for (int b = 0; b < OB; b++)
        for (int j = 0; j < TJ; j++) {
            for (int v = 0; v < NV; v++) ST(lanes + v * VL, a[b][j][v]);
            dw[b * K + j] += CONV_LANES(lanes);
        }
}

/* OB channels, the taps of one row [j, kw) in tiles of at most DW_TJ */
static inline __attribute__((always_inline)) void
XNN_FN(dw_row)(XNN_T *dw, size_t K, const XNN_T *dz, size_t ldz, const XNN_T *s, size_t kw,
               size_t nq, const int OB)
{
    for (size_t j = 0; j < kw;) {
        const size_t r = kw - j;
        switch (r < DW_TJ ? r : DW_TJ) {
        case 1: XNN_FN(dw_tile)(dw + j, K, dz, ldz, s + j, nq, OB, 1); j += 1; break;
        case 2: XNN_FN(dw_tile)(dw + j, K, dz, ldz, s + j, nq, OB, 2); j += 2; break;
#if DW_TJ > 3
        case 3: XNN_FN(dw_tile)(dw + j, K, dz, ldz, s + j, nq, OB, 3); j += 3; break;
        case 4: XNN_FN(dw_tile)(dw + j, K, dz, ldz, s + j, nq, OB, 4); j += 4; break;
#endif
        default: XNN_FN(dw_tile)(dw + j, K, dz, ldz, s + j, nq, OB, DW_TJ); j += DW_TJ; break;
        }
    }
}

void CONV_DW(XNN_T *dw, const XNN_T *dz, size_t ldz, const XNN_T *x, size_t ldx, size_t Wp,
             size_t O, size_t C, size_t kh, size_t kw, size_t nq)
{
    const size_t K = C * kh * kw;
    for (size_t o = 0; o < O;) {
        const size_t left = O - o;
        const int OB = left >= DW_OB ? DW_OB : left >= 2 ? 2 : 1;
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < kh; i++) {
                XNN_T *d = dw + o * K + (c * kh + i) * kw;
                const XNN_T *z = dz + o * ldz, *s = x + c * ldx + i * Wp;
                if (OB == DW_OB)
                    XNN_FN(dw_row)(d, K, z, ldz, s, kw, nq, DW_OB);
#if DW_OB > 2
                else if (OB == 2)
                    XNN_FN(dw_row)(d, K, z, ldz, s, kw, nq, 2);
#endif
                else
                    XNN_FN(dw_row)(d, K, z, ldz, s, kw, nq, 1);
            }
        o += (size_t)OB;
    }
}
#undef DW_OB
#undef DW_TJ
#undef NV

#else
/* ---- portable C: the same sums, lane by lane ---- */

void CONV_WIDE(XNN_T *Y, size_t ldy, const XNN_T *x, size_t ldx, size_t Wp, const XNN_T *w,
               size_t O, size_t C, size_t kh, size_t kw, size_t nq)
{
    const size_t K = C * kh * kw;
    for (size_t o = 0; o < O; o++) {
        const XNN_T *w0 = w + o * K;
        for (size_t q0 = 0; q0 < nq; q0 += Q) {
            XNN_T a[Q] = {0};
            size_t t = 0;
            for (size_t c = 0; c < C; c++)
                for (size_t i = 0; i < kh; i++) {
                    const XNN_T *r = x + c * ldx + i * Wp + q0;
                    for (size_t j = 0; j < kw; j++, t++) {
                        const XNN_T b = w0[t];
                        for (int l = 0; l < Q; l++) a[l] += b * r[j + l];
                    }
                }
            for (int l = 0; l < Q; l++) Y[o * ldy + q0 + l] = a[l];
        }
    }
}

void CONV_DW(XNN_T *dw, const XNN_T *dz, size_t ldz, const XNN_T *x, size_t ldx, size_t Wp,
             size_t O, size_t C, size_t kh, size_t kw, size_t nq)
{
    const size_t K = C * kh * kw;
    for (size_t o = 0; o < O; o++) {
        const XNN_T *z0 = dz + o * ldz;
        size_t t = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < kh; i++)
                for (size_t j = 0; j < kw; j++, t++) {
                    const XNN_T *s = x + c * ldx + i * Wp + j;
                    XNN_T a[Q] = {0};
                    for (size_t q0 = 0; q0 < nq; q0 += Q)
                        for (int l = 0; l < Q; l++) a[l] += z0[q0 + l] * s[q0 + l];
                    dw[o * K + t] += CONV_LANES(a);
                }
    }
}
#endif

/* ---- Winograd F(2x2, 3x3) transforms (layers/conv.c): sums and
 * differences only, the same on every instruction set, whole vectors of
 * channels at a time (VT: V or XNN_T, with its load, store, + and -) ---- */

#define S_LD(p) (*(p))
#define S_ST(p, x) (*(p) = (x))
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_NEG(a) ((XNN_T)0 - (a))   /* 0 - a, lane by lane as below */
#define S_MUL(a, b) ((a) * (b))
#ifdef VL
#define NEG(a) SUB(ZERO(), (a))
#endif

/* channels [c, c + lanes) of one tile: v[xi vs] = (B^T d B)[xi] */
#define WINO_IN_STEP(VT, LDF, STF, ADDF, SUBF)                                            \
    do {                                                                                  \
        VT r[4][4]; /* B^T d */                                                           \
        for (int j = 0; j < 4; j++) {                                                     \
            const VT d0 = LDF(d + j * C + c), d1 = LDF(d + rs + j * C + c);               \
            const VT d2 = LDF(d + 2 * rs + j * C + c), d3 = LDF(d + 3 * rs + j * C + c);  \
            r[0][j] = SUBF(d0, d2);                                                       \
            r[1][j] = ADDF(d1, d2);                                                       \
            r[2][j] = SUBF(d2, d1);                                                       \
            r[3][j] = SUBF(d1, d3);                                                       \
        }                                                                                 \
        for (int k = 0; k < 4; k++) { /* (B^T d) B */                                     \
            STF(v + (4 * k + 0) * vs + c, SUBF(r[k][0], r[k][2]));                        \
            STF(v + (4 * k + 1) * vs + c, ADDF(r[k][1], r[k][2]));                        \
            STF(v + (4 * k + 2) * vs + c, SUBF(r[k][2], r[k][1]));                        \
            STF(v + (4 * k + 3) * vs + c, SUBF(r[k][1], r[k][3]));                        \
        }                                                                                 \
    } while (0)

/* vt[xi vs + tile C + c] = (B^T d B)[xi] of each tile's 4 x 4 input d of
 * channel c, xh (rows, Wp, C) channels last, tile (ty, tx) at row 2 ty,
 * column 2 tx, th x tw tiles; B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */
void WINO_IN(XNN_T *restrict vt, const XNN_T *restrict xh, size_t Wp, size_t C, size_t th,
             size_t tw, size_t vs)
{
    const size_t rs = Wp * C;
    for (size_t ty = 0; ty < th; ty++)
        for (size_t tx = 0; tx < tw; tx++) {
            const XNN_T *d = xh + (2 * ty * Wp + 2 * tx) * C;
            XNN_T *v = vt + (ty * tw + tx) * C;
            size_t c = 0;
#ifdef VL
            for (; c + VL <= C; c += VL) WINO_IN_STEP(V, LD, ST, ADD, SUB);
#endif
            for (; c < C; c++) WINO_IN_STEP(XNN_T, S_LD, S_ST, S_ADD, S_SUB);
        }
}

/* lanes [l, l + lanes) of a block of kernels: u[xi cs] = (G g G^T)[xi] */
#define WINO_W_STEP(VT, LDF, STF, ADDF, SUBF, MULF, H)                                    \
    do {                                                                                  \
        VT a[4][3]; /* G g */                                                             \
        for (int j = 0; j < 3; j++) {                                                     \
            const VT g0 = LDF(g + j * Q + l), g1 = LDF(g + (3 + j) * Q + l);              \
            const VT g2 = LDF(g + (6 + j) * Q + l);                                       \
            a[0][j] = g0;                                                                 \
            a[1][j] = MULF(ADDF(ADDF(g0, g1), g2), H);                                    \
            a[2][j] = MULF(ADDF(SUBF(g0, g1), g2), H);                                    \
            a[3][j] = g2;                                                                 \
        }                                                                                 \
        for (int i = 0; i < 4; i++) { /* (G g) G^T */                                     \
            STF(u + (4 * i + 0) * cs + l, a[i][0]);                                       \
            STF(u + (4 * i + 1) * cs + l, MULF(ADDF(ADDF(a[i][0], a[i][1]), a[i][2]), H)); \
            STF(u + (4 * i + 2) * cs + l, MULF(ADDF(SUBF(a[i][0], a[i][1]), a[i][2]), H)); \
            STF(u + (4 * i + 3) * cs + l, a[i][2]);                                       \
        }                                                                                 \
    } while (0)

/* u[xi cs + l] = (G g_l G^T)[xi] for the nb <= Q kernels g_l (3, 3) of a
 * block, gathered as g[k Q + l] (tap k = 3 i + j);
 * G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (the halvings exact) */
void WINO_W(XNN_T *restrict u, const XNN_T *restrict g, size_t cs, size_t nb)
{
    const XNN_T h = (XNN_T)0.5;
    size_t l = 0;
#ifdef VL
    const V hv = SET1(h);
    for (; l + VL <= nb; l += VL) WINO_W_STEP(V, LD, ST, ADD, SUB, MUL, hv);
#endif
    for (; l < nb; l++) WINO_W_STEP(XNN_T, S_LD, S_ST, S_ADD, S_SUB, S_MUL, h);
}

/* channels [c, c + lanes) of one tile of dZ: v[xi vs] = (A z A^T)[xi] */
#define WINO_DZ_STEP(VT, LDF, STF, ADDF, SUBF, NEGF)                                      \
    do {                                                                                  \
        const VT z00 = LDF(z + c), z01 = LDF(z + C + c);                                  \
        const VT z10 = LDF(z + rs + c), z11 = LDF(z + rs + C + c);                        \
        VT r[4][2]; /* A z */                                                             \
        r[0][0] = z00, r[0][1] = z01;                                                     \
        r[1][0] = ADDF(z00, z10), r[1][1] = ADDF(z01, z11);                               \
        r[2][0] = SUBF(z00, z10), r[2][1] = SUBF(z01, z11);                               \
        r[3][0] = NEGF(z10), r[3][1] = NEGF(z11);                                         \
        for (int k = 0; k < 4; k++) { /* (A z) A^T */                                     \
            STF(v + (4 * k + 0) * vs + c, r[k][0]);                                       \
            STF(v + (4 * k + 1) * vs + c, ADDF(r[k][0], r[k][1]));                        \
            STF(v + (4 * k + 2) * vs + c, SUBF(r[k][0], r[k][1]));                        \
            STF(v + (4 * k + 3) * vs + c, NEGF(r[k][1]));                                 \
        }                                                                                 \
    } while (0)

/* vt[xi vs + tile C + c] = (A z A^T)[xi] of each tile's 2 x 2 block z of
 * channel c of zh (2 th, 2 tw, C) channels last (dW's tiles of dZ);
 * A = [1 0; 1 1; 1 -1; 0 -1] */
void WINO_DZ(XNN_T *restrict vt, const XNN_T *restrict zh, size_t C, size_t th, size_t tw,
             size_t vs)
{
    const size_t rs = 2 * tw * C;
    for (size_t ty = 0; ty < th; ty++)
        for (size_t tx = 0; tx < tw; tx++) {
            const XNN_T *z = zh + (2 * ty * 2 * tw + 2 * tx) * C;
            XNN_T *v = vt + (ty * tw + tx) * C;
            size_t c = 0;
#ifdef VL
            for (; c + VL <= C; c += VL) WINO_DZ_STEP(V, LD, ST, ADD, SUB, NEG);
#endif
            for (; c < C; c++) WINO_DZ_STEP(XNN_T, S_LD, S_ST, S_ADD, S_SUB, S_NEG);
        }
}

/* lanes [o, o + lanes) of one tile: its output (a, e) at yt[a rs + e Op] = (A^T M A) */
#define WINO_OUT_STEP(VT, LDF, STF, ADDF, SUBF)                                           \
    do {                                                                                  \
        VT s[4], e[4]; /* A^T M */                                                        \
        for (int j = 0; j < 4; j++) {                                                     \
            const VT m0 = LDF(m + j * ms + o), m1 = LDF(m + (4 + j) * ms + o);            \
            const VT m2 = LDF(m + (8 + j) * ms + o), m3 = LDF(m + (12 + j) * ms + o);     \
            s[j] = ADDF(ADDF(m0, m1), m2);                                                \
            e[j] = SUBF(SUBF(m1, m2), m3);                                                \
        }                                                                                 \
        STF(yt + o, ADDF(ADDF(s[0], s[1]), s[2])); /* (A^T M) A */                        \
        STF(yt + Op + o, SUBF(SUBF(s[1], s[2]), s[3]));                                   \
        STF(yt + rs + o, ADDF(ADDF(e[0], e[1]), e[2]));                                   \
        STF(yt + rs + Op + o, SUBF(SUBF(e[1], e[2]), e[3]));                              \
    } while (0)

/* y (2 th, 2 tw, Op) channels last, lanes [o0, o1) = A^T M A of each of
 * the T = th tw tiles, M[xi][tile][o] (16, T, Op): tile (ty, tx)'s output
 * (a, e) at row 2 ty + a, column 2 tx + e; A^T = [1 1 1 0; 0 1 -1 -1] */
void WINO_OUT(XNN_T *restrict y, const XNN_T *restrict M, size_t T, size_t tw, size_t Op,
              size_t o0, size_t o1)
{
    const size_t ms = T * Op, rs = 2 * tw * Op;
    for (size_t t = 0; t < T; t++) {
        const XNN_T *m = M + t * Op;
        XNN_T *yt = y + (2 * (t / tw) * 2 * tw + 2 * (t % tw)) * Op;
        size_t o = o0;
#ifdef VL
        for (; o + VL <= o1; o += VL) WINO_OUT_STEP(V, LD, ST, ADD, SUB);
#endif
        for (; o < o1; o++) WINO_OUT_STEP(XNN_T, S_LD, S_ST, S_ADD, S_SUB);
    }
}

#if XNN_IS_F32 && defined(__AVX2__) && defined(VL) && !defined(XNN_TR8_PS)
#define XNN_TR8_PS
/* c[j] = column j of the 8 x 8 block whose rows are r[i] (in the vector
   kernels only: the portable one keeps its loops under -march=native) */
static inline void xnn_tr8_ps(__m256 c[8], const __m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    /* column j: u[j % 4] (rows 0-3) and u[4 + j % 4] (rows 4-7), in the low
       (j < 4) or high 128 bits */
    for (int j = 0; j < 4; j++) {
        c[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        c[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}
#endif

/* d[h drs + w C + c] = s[c HW + h W + w] for c < C, h < rows, w < cols:
 * the C planes of an image (rows W apart, planes HW apart) copied channels
 * last, pixels C apart and rows drs apart, for the transforms above. A
 * copy: the same values on every instruction set. float on x86 moves
 * blocks of 8 channels x 8 pixels through an 8 x 8 transpose in
 * registers (a row's last block from its last 8 pixels, over some the
 * block before wrote); the rest one value at a time, 8 channels per pass
 * over a row. */
void CHLAST(XNN_T *restrict d, size_t drs, const XNN_T *restrict s, size_t W, size_t HW,
            size_t C, size_t rows, size_t cols)
{
    for (size_t c0 = 0; c0 < C; c0 += 8) {
        const size_t cn = C - c0 < 8 ? C - c0 : 8;
        for (size_t h = 0; h < rows; h++) {
            XNN_T *dr = d + h * drs + c0;
            const XNN_T *sr = s + c0 * HW + h * W;
            size_t w = 0;
#if XNN_IS_F32 && defined(__AVX2__) && defined(VL)
            /* the last block of a row overlaps the one before (a copy) */
            for (; cn == 8 && cols >= 8 && w < cols; w += 8) {
                if (w + 8 > cols) w = cols - 8;
                __m256 r[8], c[8];
                for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(sr + i * HW + w);
                xnn_tr8_ps(c, r);
                for (int j = 0; j < 8; j++) _mm256_storeu_ps(dr + (w + j) * C, c[j]);
            }
#endif
            for (; w < cols; w++)
                for (size_t c = 0; c < cn; c++) dr[w * C + c] = sr[c * HW + w];
        }
    }
}

/* d[c HW + h W + w] = s[h srs + w ps + c] for c < C, h < rows, w < cols:
 * the inverse of CHLAST, pixels ps apart in rows srs apart copied to C
 * planes (rows W apart, planes HW apart); float on x86 through the same
 * 8 x 8 transposes */
void CHFIRST(XNN_T *restrict d, size_t W, size_t HW, const XNN_T *restrict s, size_t srs,
             size_t ps, size_t C, size_t rows, size_t cols)
{
    for (size_t c0 = 0; c0 < C; c0 += 8) {
        const size_t cn = C - c0 < 8 ? C - c0 : 8;
        for (size_t h = 0; h < rows; h++) {
            XNN_T *dr = d + c0 * HW + h * W;
            const XNN_T *sr = s + h * srs + c0;
            size_t w = 0;
#if XNN_IS_F32 && defined(__AVX2__) && defined(VL)
            for (; cn == 8 && cols >= 8 && w < cols; w += 8) {
                if (w + 8 > cols) w = cols - 8;
                __m256 r[8], c[8];
                for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(sr + (w + j) * ps);
                xnn_tr8_ps(c, r);
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(dr + i * HW + w, c[i]);
            }
#endif
            for (; w < cols; w++)
                for (size_t c = 0; c < cn; c++) dr[c * HW + w] = sr[w * ps + c];
        }
    }
}

#undef WINO_IN_STEP
#undef WINO_OUT_STEP
#undef WINO_DZ_STEP
#undef WINO_W_STEP
#undef S_NEG
#undef S_MUL
#ifdef VL
#undef NEG
#endif
#undef S_LD
#undef S_ST
#undef S_ADD
#undef S_SUB

#undef Q
