/* kernel_avx512.c: AVX-512F micro-kernels (compiled with -mavx512f -mfma,
 * see FILE_FLAGS in setup.py; called only when the CPU has AVX-512F).
 *
 * float  12 x 32 tile: 24 zmm accumulators, 2 for B, 1 broadcast of A
 * double 12 x 16 tile: the same registers with 8 lanes
 */
#ifndef XNN_T
#include "gemm/gemm.h"
#if XNN_GEMM_X86
#if !defined(__AVX512F__) || !defined(__FMA__)
#error "gemm/kernel_avx512.c needs -mavx512f -mfma (FILE_FLAGS in setup.py)"
#endif
#include <immintrin.h>
#define XNN_SELF "gemm/kernel_avx512.c"
#include "core/template.h"
#else
typedef int xnn_kernel_avx512_unused;  /* not an x86-64 GCC/Clang build */
#endif
#else

#if XNN_IS_F32
#define V __m512
#define VL 16
#define LD _mm512_loadu_ps
#define ST _mm512_storeu_ps
#define BC(p) _mm512_set1_ps(*(p))
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define ZERO _mm512_setzero_ps
#define SET1 _mm512_set1_ps
#else
#define V __m512d
#define VL 8
#define LD _mm512_loadu_pd
#define ST _mm512_storeu_pd
#define BC(p) _mm512_set1_pd(*(p))
#define FMA _mm512_fmadd_pd
#define ADD _mm512_add_pd
#define SUB _mm512_sub_pd
#define MUL _mm512_mul_pd
#define ZERO _mm512_setzero_pd
#define SET1 _mm512_set1_pd
#endif
#define MR 12
#define UKR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define UKR_NAME XNN_FN(xnn_ukr_avx512)

#include "gemm/kernel_simd.h"

#define MADD(a, b, c) FMA((b), (c), (a))   /* a + b c, one rounding */
#define CONV_WIDE XNN_FN(xnn_conv_wide_avx512)
#define CONV_DW XNN_FN(xnn_conv_dw_avx512)
#define WINO_IN XNN_FN(xnn_wino_in_avx512)
#define WINO_OUT XNN_FN(xnn_wino_out_avx512)
#define WINO_DZ XNN_FN(xnn_wino_dz_avx512)
#define WINO_W XNN_FN(xnn_wino_w_avx512)
#define CHLAST XNN_FN(xnn_chlast_avx512)
#define CHFIRST XNN_FN(xnn_chfirst_avx512)
#define CONV_LANES XNN_FN(conv_lanes_avx512)
#include "gemm/conv_body.h"
#define MAXPOOL_ROWS XNN_FN(xnn_maxpool_rows_avx512)
#define UNPOOL_ROWS XNN_FN(xnn_unpool_rows_avx512)
#include "gemm/pool_body.h"
#undef MAXPOOL_ROWS
#undef UNPOOL_ROWS
#define FOLD_PLANE XNN_FN(xnn_fold_plane_avx512)
#include "gemm/fold_body.h"
#undef FOLD_PLANE
#define TAPS_SUM XNN_FN(xnn_taps_sum_avx512)
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
#define GEMV_XW XNN_FN(xnn_gemv_xw_avx512)
#define GEMV_WT XNN_FN(xnn_gemv_wt_avx512)
#include "gemm/gemv_body.h"
#undef GEMV_XW
#undef GEMV_WT
#endif
