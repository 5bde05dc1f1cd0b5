/* taps_body.h: a sparse convolution transpose's sums of its positions'
 * taps (layers/conv.c's sparse transpose), written once and compiled by
 * each instruction set's kernel file, which names it TAPS_SUM and, for the
 * vector ISAs, gives V, VL, LD, ST, BC, MADD, ZERO:
 *
 *   C + at[p] + off[t] (n) += sum_j x_j w[wo[j] + t n :][: n]
 *       for every t < T and position p < P, over j in [start[p], start[p + 1])
 *       in increasing j, the positions in increasing p
 *
 * Each position's values x_j scale their channels' blocks of weights
 * (T, n), one convolution channel's taps each; the sum over them is added
 * into the rows of C that the position's taps read. The T n elements run
 * in chunks, each over every position, so that a chunk's weights stay in
 * the first cache level; the vector ISAs hold a chunk of NV vectors of
 * sums in registers while a position's blocks pass, each product added
 * with a fused multiply-add (MADD, one rounding), so AVX2 and AVX-512 give
 * the same bits; the portable loops multiply, then add, and differ from
 * them by that rounding. Each element's terms come in the same order on
 * every ISA. */

/* sums[0, nb) of the T n elements from e0 on into their taps' rows */
static inline void XNN_FN(taps_back)(XNN_T *restrict C, const size_t *restrict off, size_t n,
                                     const XNN_T *restrict sums, size_t e0, size_t nb)
{
    for (size_t e = e0; e < e0 + nb;) {
        const size_t t = e / n, c = e % n;
        const size_t run = n - c < e0 + nb - e ? n - c : e0 + nb - e;
        XNN_T *ct = C + off[t] + c;
        const XNN_T *se = sums + (e - e0);
        for (size_t i = 0; i < run; i++) ct[i] += se[i];
        e += run;
    }
}

void TAPS_SUM(XNN_T *restrict C, const size_t *restrict at, const size_t *restrict start,
              size_t P, const size_t *restrict off, size_t T, size_t n,
              const XNN_T *restrict x, const size_t *restrict wo, const XNN_T *restrict w)
{
    const size_t len = T * n;
    size_t e0 = 0;
#ifdef VL
#define TAPS_NV 8
    _Alignas(64) XNN_T sums[TAPS_NV * VL];
    for (; e0 + TAPS_NV * VL <= len; e0 += TAPS_NV * VL)
        for (size_t p = 0; p < P; p++) {
            if (start[p] == start[p + 1]) continue;
            V s[TAPS_NV];
            for (int v = 0; v < TAPS_NV; v++) s[v] = ZERO();
            for (size_t j = start[p]; j < start[p + 1]; j++) {
                const V a = BC(x + j);
                const XNN_T *wj = w + wo[j] + e0;
                for (int v = 0; v < TAPS_NV; v++) s[v] = MADD(s[v], a, LD(wj + v * VL));
            }
            for (int v = 0; v < TAPS_NV; v++) ST(sums + v * VL, s[v]);
            XNN_FN(taps_back)(C + at[p], off, n, sums, e0, TAPS_NV * VL);
        }
    for (; e0 + VL <= len; e0 += VL)
        for (size_t p = 0; p < P; p++) {
            if (start[p] == start[p + 1]) continue;
            V s = ZERO();
            for (size_t j = start[p]; j < start[p + 1]; j++)
                s = MADD(s, BC(x + j), LD(w + wo[j] + e0));
            ST(sums, s);
            XNN_FN(taps_back)(C + at[p], off, n, sums, e0, VL);
        }
#undef TAPS_NV
#endif
    /* what is left (everything on the portable ISA), element by element */
    for (; e0 < len; e0++)
        for (size_t p = 0; p < P; p++) {
            XNN_T s = 0;
            for (size_t j = start[p]; j < start[p + 1]; j++) s += x[j] * w[wo[j] + e0];
            C[at[p] + off[e0 / n] + e0 % n] += s;
        }
}
