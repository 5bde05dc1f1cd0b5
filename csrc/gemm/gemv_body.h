/* gemv_body.h: the one-row products, written once and compiled by each
 * instruction set's kernel file (kernel_ref.c, kernel_avx2.c,
 * kernel_avx512.c) under its flags, which names them GEMV_XW and GEMV_WT. The loops
 * are written so that the compiler vectorizes them; ISO C forbids
 * contracting a * b + c into an FMA, and every ISA uses the same lanes and
 * order of additions, so all of them give the same bits. */

/* C (n) = beta C + sum over p of x_p W[p, :], increasing p, skipping x_p = 0 */
void GEMV_XW(XNN_T *C, const XNN_T *x, const XNN_T *W, XNN_T beta, size_t n, size_t k)
{
    if (beta == 0) for (size_t j = 0; j < n; j++) C[j] = 0;
    else if (beta != 1) for (size_t j = 0; j < n; j++) C[j] *= beta;
    for (size_t p = 0; p < k; p++) {
        const XNN_T a = x[p];
        if (a == 0) continue;
        const XNN_T *w = W + p * n;
        for (size_t j = 0; j < n; j++) C[j] += a * w[j];
    }
}

/* C[j] (k) = A[j] * (W[j, :] . s) (A NULL: 1; rows with A[j] = 0 give
 * beta C[j]), plus beta C[j]: 16 partial sums per dot product, added as a tree */
void GEMV_WT(XNN_T *C, const XNN_T *s, const XNN_T *W, const XNN_T *A, XNN_T beta, size_t k,
             size_t n)
{
    for (size_t j = 0; j < k; j++) {
        if (A && A[j] == 0) {
            C[j] = beta == 0 ? 0 : beta * C[j];
            continue;
        }
        const XNN_T *w = W + j * n;
        XNN_T acc[16] = {0};
        size_t c = 0;
        for (; c + 16 <= n; c += 16)
            for (size_t q = 0; q < 16; q++) acc[q] += w[c + q] * s[c + q];
        for (size_t q = 0; q < 8; q++) acc[q] += acc[q + 8];
        for (size_t q = 0; q < 4; q++) acc[q] += acc[q + 4];
        XNN_T sum = (acc[0] + acc[2]) + (acc[1] + acc[3]);
        for (; c < n; c++) sum += w[c] * s[c];
        if (A) sum *= A[j];
        C[j] = beta == 0 ? sum : sum + beta * C[j];
    }
}

