/* kernel_avx2.c: AVX2 + FMA micro-kernels (compiled with -mavx2 -mfma,
 * see FILE_FLAGS in setup.py; called only when the CPU has both).
 *
 * float  6 x 16 tile: 12 ymm accumulators, 2 for B, 1 broadcast of A
 * double 6 x 8  tile: the same registers with 4 lanes
 */
#ifndef XNN_T
#include "gemm/gemm.h"
#if XNN_GEMM_X86
#if !defined(__AVX2__) || !defined(__FMA__)
#error "gemm/kernel_avx2.c needs -mavx2 -mfma (FILE_FLAGS in setup.py)"
#endif
#include <immintrin.h>
#define XNN_SELF "gemm/kernel_avx2.c"
#include "core/template.h"
#else
typedef int xnn_kernel_avx2_unused;  /* not an x86-64 GCC/Clang build */
#endif
#else

#if XNN_IS_F32
#define V __m256
#define VL 8
#define LD _mm256_loadu_ps
#define ST _mm256_storeu_ps
#define BC _mm256_broadcast_ss
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define ZERO _mm256_setzero_ps
#define SET1 _mm256_set1_ps
#else
#define V __m256d
#define VL 4
#define LD _mm256_loadu_pd
#define ST _mm256_storeu_pd
#define BC _mm256_broadcast_sd
#define FMA _mm256_fmadd_pd
#define ADD _mm256_add_pd
#define SUB _mm256_sub_pd
#define MUL _mm256_mul_pd
#define ZERO _mm256_setzero_pd
#define SET1 _mm256_set1_pd
#endif
#define MR 6
#define UKR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define UKR_NAME XNN_FN(xnn_ukr_avx2)

#include "gemm/kernel_simd.h"

#define MADD(a, b, c) FMA((b), (c), (a))   /* a + b c, one rounding */
#define CONV_WIDE XNN_FN(xnn_conv_wide_avx2)
#define CONV_DW XNN_FN(xnn_conv_dw_avx2)
#define WINO_IN XNN_FN(xnn_wino_in_avx2)
#define WINO_OUT XNN_FN(xnn_wino_out_avx2)
#define WINO_DZ XNN_FN(xnn_wino_dz_avx2)
#define WINO_W XNN_FN(xnn_wino_w_avx2)
#define CHLAST XNN_FN(xnn_chlast_avx2)
#define CHFIRST XNN_FN(xnn_chfirst_avx2)
#define CONV_LANES XNN_FN(conv_lanes_avx2)
#include "gemm/conv_body.h"
#define MAXPOOL_ROWS XNN_FN(xnn_maxpool_rows_avx2)
#define UNPOOL_ROWS XNN_FN(xnn_unpool_rows_avx2)
#include "gemm/pool_body.h"
#undef MAXPOOL_ROWS
#undef UNPOOL_ROWS
#define FOLD_PLANE XNN_FN(xnn_fold_plane_avx2)
#include "gemm/fold_body.h"
#undef FOLD_PLANE
#define TAPS_SUM XNN_FN(xnn_taps_sum_avx2)
#include "gemm/taps_body.h"
#undef TAPS_SUM
#undef CONV_WIDE
#undef CONV_DW
#undef WINO_IN
#undef WINO_OUT
#undef WINO_DZ
#undef WINO_W
#undef CHLAST
#undef CHFIRST
#undef CONV_LANES
#undef MADD

#undef V
#undef VL
#undef LD
#undef ST
#undef BC
#undef FMA
#undef ADD
#undef SUB
#undef MUL
#undef ZERO
#undef SET1
#undef MR
#undef UKR_ROWS
#undef UKR_NAME
#define GEMV_XW XNN_FN(xnn_gemv_xw_avx2)
#define GEMV_WT XNN_FN(xnn_gemv_wt_avx2)
#include "gemm/gemv_body.h"
#undef GEMV_XW
#undef GEMV_WT
#endif
