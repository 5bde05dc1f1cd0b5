/* gemm_internal.h: the pieces of the blocked GEMM shared by its files.
 *
 * Layout of the product C (m,n) = op(A) (m,k) . op(B) (k,n) + beta C:
 * every operand is addressed by two strides, so transposed storage is just
 * a swap of strides and no transpose is ever materialised:
 *
 *   op(A)(i, p) = A[i * rsa + p * csa]    A (m,k): rsa = k, csa = 1
 *                                         A stored (k,m): rsa = 1, csa = m
 *   op(B)(p, j) = B[p * rsb + j * csb]    B (k,n): rsb = n, csb = 1
 *                                         B stored (n,k): rsb = 1, csb = k
 *
 * A micro-kernel computes one MR x NR tile of C from kc columns of op(A)
 * (read through the strides rsa/csa: packed panels have rsa = 1, csa = MR)
 * and kc rows of NR columns of op(B), row stride ldb (a packed, zero-padded
 * panel has ldb = NR; op(B) read in place has ldb = n):
 *
 *   C[i, j] = sum_p a(i, p) b(p, j) + beta C[i, j]    (beta = 0 overwrites)
 *
 * storing only the leading mr x nr part of the tile (edge tiles are
 * combined with beta in a temporary full tile, with the same instructions
 * as full ones). Panels read in place (not packed) must have MR valid
 * rows of A and NR valid columns of B; the driver packs edge panels. Every C[i, j] accumulates its k products in increasing p
 * inside a kc block and the blocks in increasing order, whatever the tile,
 * the thread or the MC/NC blocking: results depend on KC alone, which is
 * fixed per instruction set and dtype.
 */
#ifndef XNN_GEMM_INTERNAL_H
#define XNN_GEMM_INTERNAL_H

#include <stddef.h>

#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
#define XNN_GEMM_X86 1     /* the AVX2 and AVX-512 kernels are compiled */
#else
#define XNN_GEMM_X86 0
#endif

/* called once per finished block of C: rows [i, i + mr), columns
   [j, j + nr), on whichever thread computed it; blocks never overlap and
   cover C (a thread's chunk of rows times a column block of NC) */
typedef void (*xnn_tile_fn)(void *ctx, size_t i, size_t j, size_t mr, size_t nr);

#define XNN_GEMM_DECLARE(T, S)                                                  \
    typedef void (*xnn_ukr_##S##_t)(size_t mr, size_t nr, size_t kc,            \
                                    const T *a, ptrdiff_t rsa, ptrdiff_t csa,   \
                                    const T *b, ptrdiff_t ldb, T *c,            \
                                    ptrdiff_t ldc, T beta);                     \
    typedef struct xnn_gemm_cfg_##S {                                           \
        size_t mr, nr;     /* register tile of the micro-kernel */              \
        size_t mc, kc, nc; /* cache blocks: mc % mr == 0, nc % nr == 0 */       \
        xnn_ukr_##S##_t ukr;                                                    \
    } xnn_gemm_cfg_##S;                                                         \
    const xnn_gemm_cfg_##S *xnn_gemm_config_##S(int isa);                          \
    void xnn_ukr_ref_##S(size_t mr, size_t nr, size_t kc, const T *a,         \
        ptrdiff_t rsa, ptrdiff_t csa, const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc, \
        T beta);              \
    void xnn_ukr_avx2_##S(size_t mr, size_t nr, size_t kc, const T *a,         \
        ptrdiff_t rsa, ptrdiff_t csa, const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc, \
        T beta);             \
    void xnn_ukr_avx512_##S(size_t mr, size_t nr, size_t kc, const T *a,         \
        ptrdiff_t rsa, ptrdiff_t csa, const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc, \
        T beta);                                            \
    /* Ap: ceil(mc/mr) panels (kc, mr), rows past mc zero */                    \
    void xnn_pack_a_##S(T *Ap, const T *A, ptrdiff_t rsa, ptrdiff_t csa,        \
                        size_t mc, size_t kc, size_t mr);                       \
    /* Bp: ceil(nc/nr) panels (kc, nr), columns past nc zero */                 \
    void xnn_pack_b_##S(T *Bp, const T *B, ptrdiff_t rsb, ptrdiff_t csb,        \
                        size_t kc, size_t nc, size_t nr);                       \
    /* what happens to each finished tile of C (m,n), while it is in L1:   */  \
    /* C[i,j] = epi(op(A) op(B) + beta C + bias[j]) (bias may be NULL;      */  \
    /* aux (m,n) is read by XNN_EPI_RELU_GRAD only); then, when tile is not */  \
    /* NULL, tile(ctx, ...) on each finished block of rows, while in L2     */  \
    typedef struct xnn_epi_##S {                                                \
        const T *bias;                                                          \
        int epi;                                                                \
        const T *aux;                                                           \
        xnn_tile_fn tile;                                                       \
        void *ctx;                                                              \
    } xnn_epi_##S;                                                              \
    int xnn_gemm_epi_##S(T *C, const T *A, const T *B, T beta, int trans_a,     \
                         int trans_b, size_t m, size_t n, size_t k,             \
                         const xnn_epi_##S *e);                                 \
    /* the same with bias, epi and aux only */                                  \
    int xnn_gemm_epilogue_##S(T *C, const T *A, const T *B, T beta,             \
                              int trans_a, int trans_b, size_t m, size_t n,     \
                              size_t k, const T *bias, int epi, const T *aux);

/* epilogues: identity; ReLU exactly as activation.c (z < 0 ? 0 : z); the
   ReLU derivative exactly as activation.c's backward, with aux the saved
   ReLU output: c = aux > 0 ? c : 0 */
enum { XNN_EPI_NONE = 0, XNN_EPI_RELU = 1, XNN_EPI_RELU_GRAD = 2 };

/* pool.c: fn(arg, i) for i in [0, n) on the calling thread and up to
   threads - 1 workers; returns when all are done */
void xnn_parallel_for(void (*fn)(void *arg, size_t i), void *arg, size_t n, int threads);

XNN_GEMM_DECLARE(float, f32)
XNN_GEMM_DECLARE(double, f64)

/* reference kernel tile (portable C) */
#define XNN_REF_MR 4
#define XNN_REF_NR_F32 8
#define XNN_REF_NR_F64 4

#endif
