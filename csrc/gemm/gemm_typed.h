/* gemm_typed.h: the typed declarations of gemm.h (instantiated for both
 * dtypes by core/template.h; never included directly). */

typedef void (*XNN_FN(xnn_ukr_t))(size_t mr, size_t nr, size_t kc, const XNN_T *a,
                                  ptrdiff_t rsa, ptrdiff_t csa, const XNN_T *b,
                                  ptrdiff_t ldb, XNN_T *c, ptrdiff_t ldc, XNN_T beta);
/* C (n) = beta C + sum_p x_p W[p, :] over p < k in increasing p, skipping x_p = 0 */
typedef void (*XNN_FN(xnn_gemv_xw_t))(XNN_T *C, const XNN_T *x, const XNN_T *W, XNN_T beta,
                                      size_t n, size_t k);
/* C + at[p] + off[t] (n) += sum_j x_j w[wo[j] + t n :][: n] for t < T, p < P, over j
   in [start[p], start[p + 1]) in increasing j (each position's channels' taps
   (T, n) summed by its values) */
typedef void (*XNN_FN(xnn_taps_sum_t))(XNN_T *restrict C, const size_t *restrict at,
                                       const size_t *restrict start, size_t P,
                                       const size_t *restrict off, size_t T, size_t n,
                                       const XNN_T *restrict x, const size_t *restrict wo,
                                       const XNN_T *restrict w);
/* C[j] = A[j] (W[j, :] . s) + beta C[j] for j < k, W (k, n); A NULL: 1;
   rows with A[j] = 0 skip the dot product */
typedef void (*XNN_FN(xnn_gemv_wt_t))(XNN_T *C, const XNN_T *s, const XNN_T *W,
                                      const XNN_T *A, XNN_T beta, size_t k, size_t n);

/* the direct convolution's loops (conv_body.h) */
typedef void (*XNN_FN(xnn_conv_wide_t))(XNN_T *Y, size_t ldy, const XNN_T *x, size_t ldx,
                                        size_t Wp, const XNN_T *w, size_t O, size_t C,
                                        size_t kh, size_t kw, size_t nq);
typedef void (*XNN_FN(xnn_conv_dw_t))(XNN_T *dw, const XNN_T *dz, size_t ldz, const XNN_T *x,
                                      size_t ldx, size_t Wp, size_t O, size_t C, size_t kh,
                                      size_t kw, size_t nq);
/* the Winograd transforms (conv_body.h) */
typedef void (*XNN_FN(xnn_wino_in_t))(XNN_T *restrict vt, const XNN_T *restrict xh, size_t Wp,
                                      size_t C, size_t th, size_t tw, size_t vs);
typedef void (*XNN_FN(xnn_wino_dz_t))(XNN_T *restrict vt, const XNN_T *restrict zh, size_t C,
                                      size_t th, size_t tw, size_t vs);
typedef void (*XNN_FN(xnn_wino_w_t))(XNN_T *restrict u, const XNN_T *restrict g, size_t cs,
                                     size_t nb);
typedef void (*XNN_FN(xnn_wino_out_t))(XNN_T *restrict y, const XNN_T *restrict M, size_t T,
                                       size_t tw, size_t Op, size_t o0, size_t o1);
/* d[h drs + w C + c] = s[c HW + h W + w] for c < C, h < rows, w < cols:
   C planes copied channels last */
typedef void (*XNN_FN(xnn_chlast_t))(XNN_T *restrict d, size_t drs, const XNN_T *restrict s,
                                     size_t W, size_t HW, size_t C, size_t rows, size_t cols);
/* d[c HW + h W + w] = s[h srs + w ps + c]: the inverse copy, to C planes */
typedef void (*XNN_FN(xnn_chfirst_t))(XNN_T *restrict d, size_t W, size_t HW,
                                      const XNN_T *restrict s, size_t srs, size_t ps, size_t C,
                                      size_t rows, size_t cols);

/* a plane's 2 x 2, stride 2 max pooling and its arg-max (pool_body.h) */
typedef void (*XNN_FN(xnn_maxpool_rows_t))(XNN_T *restrict y, int32_t *restrict a,
                                           const XNN_T *restrict x, size_t ld, size_t Ho,
                                           size_t Wo, int32_t W, int rb, XNN_T b);
/* its backward to the arg-max, rows 2 oh and 2 oh + 1 of d set (pool_body.h) */
typedef void (*XNN_FN(xnn_unpool_rows_t))(XNN_T *restrict d, size_t rs, const XNN_T *restrict dy,
                                          const int32_t *restrict a, size_t Ho, size_t Wo,
                                          int32_t W, int relu);

/* d (H, W) = the fold of one channel's kh kw rows s (ld apart, each (Ho,
   Wo)) of a stride-1 convolution's unfolded dX (fold_body.h; NULL on the
   portable ISA) */
typedef void (*XNN_FN(xnn_fold_plane_t))(XNN_T *restrict d, const XNN_T *restrict s, size_t ld,
                                         size_t H, size_t W, size_t Ho, size_t Wo, size_t kh,
                                         size_t kw, size_t ph, size_t pw);

typedef struct XNN_FN(xnn_gemm_cfg) {
    size_t mr, nr;     /* register tile of the micro-kernel */
    size_t mc, kc, nc; /* cache blocks: mc % mr == 0, nc % nr == 0 */
    XNN_FN(xnn_ukr_t) ukr;
    XNN_FN(xnn_gemv_xw_t) gemv_xw;
    XNN_FN(xnn_gemv_wt_t) gemv_wt;
    XNN_FN(xnn_conv_wide_t) conv_wide;
    XNN_FN(xnn_conv_dw_t) conv_dw;
    XNN_FN(xnn_wino_in_t) wino_in;
    XNN_FN(xnn_wino_out_t) wino_out;
    XNN_FN(xnn_wino_dz_t) wino_dz;
    XNN_FN(xnn_wino_w_t) wino_w;
    XNN_FN(xnn_chlast_t) chlast;
    XNN_FN(xnn_chfirst_t) chfirst;
    XNN_FN(xnn_maxpool_rows_t) maxpool_rows;
    XNN_FN(xnn_unpool_rows_t) unpool_rows;
    XNN_FN(xnn_fold_plane_t) fold_plane;
    XNN_FN(xnn_taps_sum_t) taps_sum;
} XNN_FN(xnn_gemm_cfg);

const XNN_FN(xnn_gemm_cfg) *XNN_FN(xnn_gemm_config)(int isa);

/* the kernels of each instruction set (kernel_ref.c, kernel_avx2.c, kernel_avx512.c) */
#define XNN_ISA_KERNELS(isa)                                                                  \
    void XNN_FN(xnn_ukr_##isa)(size_t mr, size_t nr, size_t kc, const XNN_T *a, ptrdiff_t rsa,  \
                               ptrdiff_t csa, const XNN_T *b, ptrdiff_t ldb, XNN_T *c,         \
                               ptrdiff_t ldc, XNN_T beta);                                     \
    void XNN_FN(xnn_gemv_xw_##isa)(XNN_T *C, const XNN_T *x, const XNN_T *W, XNN_T beta,      \
                                   size_t n, size_t k);                                        \
    void XNN_FN(xnn_taps_sum_##isa)(XNN_T *restrict C, const size_t *restrict at,            \
                                    const size_t *restrict start, size_t P,                   \
                                    const size_t *restrict off, size_t T, size_t n,           \
                                    const XNN_T *restrict x, const size_t *restrict wo,       \
                                    const XNN_T *restrict w);                                 \
    void XNN_FN(xnn_gemv_wt_##isa)(XNN_T *C, const XNN_T *s, const XNN_T *W, const XNN_T *A,  \
                                   XNN_T beta, size_t k, size_t n);                            \
    void XNN_FN(xnn_conv_wide_##isa)(XNN_T *Y, size_t ldy, const XNN_T *x, size_t ldx,        \
                                     size_t Wp, const XNN_T *w, size_t O, size_t C, size_t kh, \
                                     size_t kw, size_t nq);                                    \
    void XNN_FN(xnn_conv_dw_##isa)(XNN_T *dw, const XNN_T *dz, size_t ldz, const XNN_T *x,    \
                                   size_t ldx, size_t Wp, size_t O, size_t C, size_t kh,       \
                                   size_t kw, size_t nq);                                      \
    void XNN_FN(xnn_wino_in_##isa)(XNN_T *restrict vt, const XNN_T *restrict xh, size_t Wp,     \
                                   size_t C, size_t th, size_t tw, size_t vs);                 \
    void XNN_FN(xnn_wino_dz_##isa)(XNN_T *restrict vt, const XNN_T *restrict zh, size_t C,     \
                                   size_t th, size_t tw, size_t vs);                           \
    void XNN_FN(xnn_wino_w_##isa)(XNN_T *restrict u, const XNN_T *restrict g, size_t cs,       \
                                  size_t nb);                                                  \
    void XNN_FN(xnn_wino_out_##isa)(XNN_T *restrict y, const XNN_T *restrict M, size_t T,      \
                                    size_t tw, size_t Op, size_t o0, size_t o1);               \
    void XNN_FN(xnn_chlast_##isa)(XNN_T *restrict d, size_t drs, const XNN_T *restrict s,      \
                                  size_t W, size_t HW, size_t C, size_t rows, size_t cols);    \
    void XNN_FN(xnn_chfirst_##isa)(XNN_T *restrict d, size_t W, size_t HW,                     \
                                   const XNN_T *restrict s, size_t srs, size_t ps, size_t C,   \
                                   size_t rows, size_t cols);                                  \
    void XNN_FN(xnn_maxpool_rows_##isa)(XNN_T *restrict y, int32_t *restrict a,                \
                                        const XNN_T *restrict x, size_t ld, size_t Ho,         \
                                        size_t Wo, int32_t W, int rb, XNN_T b);              \
    void XNN_FN(xnn_unpool_rows_##isa)(XNN_T *restrict d, size_t rs, const XNN_T *restrict dy, \
                                       const int32_t *restrict a, size_t Ho, size_t Wo,        \
                                       int32_t W, int relu);
XNN_ISA_KERNELS(ref)
XNN_ISA_KERNELS(avx2)
XNN_ISA_KERNELS(avx512)
#undef XNN_ISA_KERNELS
/* the vector ISAs' fold (the portable ISA's fold_plane is NULL) */
void XNN_FN(xnn_fold_plane_avx2)(XNN_T *restrict d, const XNN_T *restrict s, size_t ld, size_t H,
                                 size_t W, size_t Ho, size_t Wo, size_t kh, size_t kw, size_t ph,
                                 size_t pw);
void XNN_FN(xnn_fold_plane_avx512)(XNN_T *restrict d, const XNN_T *restrict s, size_t ld,
                                   size_t H, size_t W, size_t Ho, size_t Wo, size_t kh, size_t kw,
                                   size_t ph, size_t pw);

/* Ap: ceil(mc/mr) panels (kc, mr), rows past mc zero */
void XNN_FN(xnn_pack_a)(XNN_T *Ap, const XNN_T *A, ptrdiff_t rsa, ptrdiff_t csa, size_t mc,
                        size_t kc, size_t mr);
/* Bp: ceil(nc/nr) panels (kc, nr), columns past nc zero */
void XNN_FN(xnn_pack_b)(XNN_T *Bp, const XNN_T *B, ptrdiff_t rsb, ptrdiff_t csb, size_t kc,
                        size_t nc, size_t nr);

/* What happens to each finished tile of C (m,n), while it is in L1:
 * C[i,j] = epi(op(A) op(B) + beta C + bias[j]), or + bias[i] when
 * bias_rows (bias may be NULL; aux (m,n) is read by XNN_EPI_RELU_GRAD
 * only); then, when tile is not NULL, tile(ctx, ...) on each finished
 * block of rows, while it is in L2. */
typedef struct XNN_FN(xnn_epi) {
    const XNN_T *bias;
    int bias_rows;
    int epi;
    const XNN_T *aux;
    xnn_tile_fn tile;
    void *ctx;
} XNN_FN(xnn_epi);

/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta C, then e on each tile (e may be NULL) */
int XNN_FN(xnn_gemm_epi)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta, int trans_a,
                         int trans_b, size_t m, size_t n, size_t k, const XNN_FN(xnn_epi) *e);
/* the same with every operand given by its strides (gemm.h): C (m, n) with
   row stride ldc, op(A)(i, p) = A[i rsa + p csa], op(B)(p, j) = B[p rsb + j csb] */
int XNN_FN(xnn_gemm_strided)(XNN_T *C, ptrdiff_t ldc, const XNN_T *A, ptrdiff_t rsa,
                             ptrdiff_t csa, const XNN_T *B, ptrdiff_t rsb, ptrdiff_t csb,
                             XNN_T beta, size_t m, size_t n, size_t k,
                             const XNN_FN(xnn_epi) *e);
/* the same with a column bias, epi and aux only */
int XNN_FN(xnn_gemm_epilogue)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                              int trans_a, int trans_b, size_t m, size_t n, size_t k,
                              const XNN_T *bias, int epi, const XNN_T *aux);
/* the products of one row, for the instruction set in use:
 * C (n) = x (k) . W (k, n) + beta C, skipping x's zeros;
 * C (k) = A (k) * (W (k, n) . s (n)) + beta C (A may be NULL) */
void XNN_FN(xnn_gemv_xw)(XNN_T *C, const XNN_T *x, const XNN_T *W, XNN_T beta, size_t n,
                         size_t k);
void XNN_FN(xnn_gemv_wt)(XNN_T *C, const XNN_T *s, const XNN_T *W, const XNN_T *A, XNN_T beta,
                         size_t k, size_t n);
