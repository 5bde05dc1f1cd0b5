/* blocking.c: register tiles and cache blocks, one table per instruction
 * set and dtype.
 *
 *   kc   depth of a block: a (kc, nr) panel of B and an (mr, kc) panel of A
 *        stay in L1 while a tile is computed. kc also fixes the rounding
 *        of the product, so it never depends on the thread count.
 *   mc   rows of packed A kept in L2 (mc x kc)
 *   nc   columns of packed B kept in L3 (kc x nc)
 *
 * Each row also names the instruction set's one-row products (gemv) and
 * the direct convolution's loops (conv_body.h).
 *
 * Sizes chosen for an AMD EPYC (Zen, 32 KB L1d and 512 KB L2 per core):
 * kc = 256 keeps a float (256, 16) B panel (16 KB) and a (6, 256) A panel
 * in L1; mc x kc of A is 144 KB in L2. KC = 384 measured within noise of
 * 256 on this machine.
 */
#include "gemm/gemm.h"

static const xnn_gemm_cfg_f32 cfg_f32[] = {
    /* ref    */ {XNN_REF_MR, XNN_REF_NR_F32, 128, 256, 2048, xnn_ukr_ref_f32, xnn_gemv_xw_ref_f32,
                  xnn_gemv_wt_ref_f32,
                  xnn_conv_wide_ref_f32, xnn_conv_dw_ref_f32,
                  xnn_wino_in_ref_f32, xnn_wino_out_ref_f32,
                  xnn_wino_dz_ref_f32, xnn_wino_w_ref_f32,
                  xnn_chlast_ref_f32, xnn_chfirst_ref_f32,
                  xnn_maxpool_rows_ref_f32, xnn_unpool_rows_ref_f32,
                  NULL, xnn_taps_sum_ref_f32},
#if XNN_GEMM_X86
    /* avx2   */ {6, 16, 144, 256, 4080, xnn_ukr_avx2_f32, xnn_gemv_xw_avx2_f32, xnn_gemv_wt_avx2_f32,
                  xnn_conv_wide_avx2_f32, xnn_conv_dw_avx2_f32,
                  xnn_wino_in_avx2_f32, xnn_wino_out_avx2_f32,
                  xnn_wino_dz_avx2_f32, xnn_wino_w_avx2_f32,
                  xnn_chlast_avx2_f32, xnn_chfirst_avx2_f32,
                  xnn_maxpool_rows_avx2_f32, xnn_unpool_rows_avx2_f32,
                  xnn_fold_plane_avx2_f32, xnn_taps_sum_avx2_f32},
    /* avx512 */ {12, 32, 144, 256, 4064, xnn_ukr_avx512_f32, xnn_gemv_xw_avx512_f32,
                  xnn_gemv_wt_avx512_f32,
                  xnn_conv_wide_avx512_f32, xnn_conv_dw_avx512_f32,
                  xnn_wino_in_avx512_f32, xnn_wino_out_avx512_f32,
                  xnn_wino_dz_avx512_f32, xnn_wino_w_avx512_f32,
                  xnn_chlast_avx512_f32, xnn_chfirst_avx512_f32,
                  xnn_maxpool_rows_avx512_f32, xnn_unpool_rows_avx512_f32,
                  xnn_fold_plane_avx512_f32, xnn_taps_sum_avx512_f32},
#endif
};

static const xnn_gemm_cfg_f64 cfg_f64[] = {
    /* ref    */ {XNN_REF_MR, XNN_REF_NR_F64, 64, 256, 2048, xnn_ukr_ref_f64, xnn_gemv_xw_ref_f64,
                  xnn_gemv_wt_ref_f64,
                  xnn_conv_wide_ref_f64, xnn_conv_dw_ref_f64,
                  xnn_wino_in_ref_f64, xnn_wino_out_ref_f64,
                  xnn_wino_dz_ref_f64, xnn_wino_w_ref_f64,
                  xnn_chlast_ref_f64, xnn_chfirst_ref_f64,
                  xnn_maxpool_rows_ref_f64, xnn_unpool_rows_ref_f64,
                  NULL, xnn_taps_sum_ref_f64},
#if XNN_GEMM_X86
    /* avx2   */ {6, 8, 72, 256, 4080, xnn_ukr_avx2_f64, xnn_gemv_xw_avx2_f64, xnn_gemv_wt_avx2_f64,
                  xnn_conv_wide_avx2_f64, xnn_conv_dw_avx2_f64,
                  xnn_wino_in_avx2_f64, xnn_wino_out_avx2_f64,
                  xnn_wino_dz_avx2_f64, xnn_wino_w_avx2_f64,
                  xnn_chlast_avx2_f64, xnn_chfirst_avx2_f64,
                  xnn_maxpool_rows_avx2_f64, xnn_unpool_rows_avx2_f64,
                  xnn_fold_plane_avx2_f64, xnn_taps_sum_avx2_f64},
    /* avx512 */ {12, 16, 72, 256, 4080, xnn_ukr_avx512_f64, xnn_gemv_xw_avx512_f64,
                  xnn_gemv_wt_avx512_f64,
                  xnn_conv_wide_avx512_f64, xnn_conv_dw_avx512_f64,
                  xnn_wino_in_avx512_f64, xnn_wino_out_avx512_f64,
                  xnn_wino_dz_avx512_f64, xnn_wino_w_avx512_f64,
                  xnn_chlast_avx512_f64, xnn_chfirst_avx512_f64,
                  xnn_maxpool_rows_avx512_f64, xnn_unpool_rows_avx512_f64,
                  xnn_fold_plane_avx512_f64, xnn_taps_sum_avx512_f64},
#endif
};

#define NCFG (sizeof(cfg_f32) / sizeof(cfg_f32[0]))

const xnn_gemm_cfg_f32 *xnn_gemm_config_f32(int isa)
{
    return (isa >= 0 && (size_t)isa < NCFG) ? &cfg_f32[isa] : &cfg_f32[XNN_ISA_REF];
}

const xnn_gemm_cfg_f64 *xnn_gemm_config_f64(int isa)
{
    return (isa >= 0 && (size_t)isa < NCFG) ? &cfg_f64[isa] : &cfg_f64[XNN_ISA_REF];
}
