/* gemm.c: C = op(A) op(B) + beta C, the one matrix product every kernel
 * calls; a BLIS-style blocked driver around register-tiled micro-kernels.
 *
 *   for jc in n by NC:                      B block (kc, nc) -> L3
 *     for pc in k by KC:                    pack op(B)[pc, jc] into Bp
 *       for ic in m by MC:                  A block (mc, kc) -> L2
 *         pack op(A)[ic, pc] into Ap
 *         for jr in nc by NR:               B panel (kc, NR) -> L1
 *           for ir in mc by MR:             micro-kernel: MR x NR tile of C
 *
 * Packing reads op(A) and op(B) through strides, so A^T and B^T are never
 * materialised (gemm_internal.h). k is cut into equal blocks of at most
 * KC; the first applies beta, later ones add (beta 1). Edge tiles round
 * exactly like full ones (the kernels combine them in a temporary tile).
 * When C is narrow (the packed B block fits in L2) and A's rows are
 * contiguous, A is read in place instead of packed: its panels are reused
 * only nc / NR times, too few to pay for the copy. Likewise short
 * contiguous rows of op(B) are read in place; only edge panels are packed.
 * When all of op(B) is small (<= 1 MB packed) it is packed once and C is
 * walked in chunks of MC rows that go through every k block while in
 * cache, so a tall C crosses memory once instead of once per k block.
 *
 * Threads (OpenMP) split the rows of C, or its columns when C is wider
 * than tall, at tile boundaries; each thread runs the serial driver on its
 * slice with its own packing buffers. k is never split: every C[i, j] is
 * the same bits for any thread count, blocking and run.
 *
 * xnn_gemm_epilogue adds a bias row and applies ReLU to each tile right
 * after its last k block, while the tile is still in L1 (dense layers).
 *
 * Packing buffers are cached per thread (thread-local, 64-byte aligned,
 * grown on demand), so repeated products of one shape allocate nothing.
 */
#ifndef XNN_T
#include <stdlib.h>
#include <string.h>
#include "../xnn.h"
#include "gemm_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_MSC_VER)
#include <malloc.h>
#define XNN_TLS __declspec(thread)
#define XNN_ALIGNED_ALLOC(n) _aligned_malloc((n), 64)
#define XNN_ALIGNED_FREE(p) _aligned_free(p)
#else
#define XNN_TLS _Thread_local
#define XNN_ALIGNED_ALLOC(n) aligned_alloc(64, (n))
#define XNN_ALIGNED_FREE(p) free(p)
#endif

/* below this many multiply-adds a product runs on one thread */
#define XNN_GEMM_MT_MIN (1u << 18)
/* largest packed B block (kc x nc) for which A is read in place */
#define XNN_GEMM_DIRECT_A_BYTES (256u * 1024u)
/* largest op(B) (k x nc) packed whole so that C is walked once */
#define XNN_GEMM_WHOLE_B_BYTES (1024u * 1024u)
/* longest row of op(B) read in place (longer rows: packed, for the TLB) */
#define XNN_GEMM_DIRECT_B_BYTES 256u

static XNN_TLS void *tls_buf;
static XNN_TLS size_t tls_size;

/* this thread's packing buffer of at least `bytes` bytes, or NULL */
static void *gemm_workspace(size_t bytes)
{
    if (bytes <= tls_size) return tls_buf;
    size_t size = (bytes + 4095) & ~(size_t)4095;
    void *p = XNN_ALIGNED_ALLOC(size);
    if (!p) return NULL;
    if (tls_buf) XNN_ALIGNED_FREE(tls_buf);
    tls_buf = p;
    tls_size = size;
    return p;
}

static size_t round_up(size_t x, size_t r) { return (x + r - 1) / r * r; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

#define XNN_SELF "gemm/gemm.c"
#include "../template.h"
#else

#define CFG XNN_FN(xnn_gemm_cfg)

/* depth of the k blocks: k split into equal blocks of at most KC, so
   no short last block; depends on k and the ISA only, never on threads */
static size_t XNN_FN(k_block)(const CFG *cfg, size_t k)
{
    const size_t nblocks = (k + cfg->kc - 1) / cfg->kc;
    return (k + nblocks - 1) / nblocks;
}

/* the epilogue of one finished mr x nr tile, while it is in L1 */
static inline void XNN_FN(epilogue)(XNN_T *c, ptrdiff_t ldc, size_t mr, size_t nr,
                                    const XNN_T *bias, int epi)
{
    for (size_t i = 0; i < mr; i++) {
        XNN_T *ci = c + (ptrdiff_t)i * ldc;
        if (bias)
            for (size_t j = 0; j < nr; j++) ci[j] = ci[j] + bias[j];
        if (epi == XNN_EPI_RELU)
            for (size_t j = 0; j < nr; j++) ci[j] = ci[j] < 0 ? 0 : ci[j];
    }
}

/* C (m,n) with row stride ldc = epi(op(A) op(B) + beta C + bias) on the
   calling thread */
static int XNN_FN(gemm_serial)(const CFG *cfg, XNN_T *C, ptrdiff_t ldc,
                               const XNN_T *A, ptrdiff_t rsa, ptrdiff_t csa,
                               const XNN_T *B, ptrdiff_t rsb, ptrdiff_t csb,
                               XNN_T beta, size_t m, size_t n, size_t k,
                               const XNN_T *bias, int epi)
{
    const size_t MR = cfg->mr, NR = cfg->nr, MC = cfg->mc, NC = cfg->nc;
    const int has_epi = bias != NULL || epi != XNN_EPI_NONE;
    const size_t kc_max = XNN_FN(k_block)(cfg, k);
    const size_t nc_max = round_up(min_sz(n, NC), NR);
    /* op(B) read in place when its rows are contiguous and short */
    const int direct_b = csb == 1 && n * sizeof(XNN_T) <= XNN_GEMM_DIRECT_B_BYTES;
    /* A read in place when its rows are contiguous and the B block is
       small enough to stay in L2 while each A panel is reused across it */
    const int direct_a = csa == 1 && nc_max * kc_max * sizeof(XNN_T) <= XNN_GEMM_DIRECT_A_BYTES;
    const size_t mc_max = direct_a ? MR : round_up(min_sz(m, MC), MR);
    /* when all of op(B)'s k blocks fit in L2/L3 they are packed once and
       the rows of C are walked in chunks of MC, each chunk going through
       every k block while it is in cache (tall C: C crosses memory once) */
    const size_t bw = direct_b ? NR : nc_max;           /* packed width */
    const int b_whole = k > kc_max && k * bw * sizeof(XNN_T) <= XNN_GEMM_WHOLE_B_BYTES;
    const size_t b_elems = round_up((b_whole ? k : kc_max) * bw, 64);
    XNN_T *Bw = (XNN_T *)gemm_workspace((b_elems + kc_max * mc_max) * sizeof(XNN_T));
    if (!Bw) return XNN_ENOMEM;
    XNN_T *Ap = Bw + b_elems;

    for (size_t jc = 0; jc < n; jc += NC) {
        const size_t nc = min_sz(n - jc, NC);
        const size_t nc_full = nc / NR * NR;    /* columns in full panels */
        /* pack the k block at pc into Bp: all of it, or the edge panel when
           op(B) is read in place */
#define PACK_B_BLOCK(Bp, pc, kc)                                                        \
        do {                                                                            \
            const XNN_T *Bblk_ = B + (ptrdiff_t)(pc) * rsb + (ptrdiff_t)jc * csb;       \
            if (!direct_b)                                                              \
                XNN_FN(xnn_pack_b)(Bp, Bblk_, rsb, csb, kc, nc, NR);                    \
            else if (nc_full < nc)                                                      \
                XNN_FN(xnn_pack_b)(Bp, Bblk_ + nc_full, rsb, 1, kc, nc - nc_full, NR);  \
        } while (0)
        if (b_whole)
            for (size_t pc = 0; pc < k; pc += kc_max)
                PACK_B_BLOCK(Bw + pc * bw, pc, min_sz(k - pc, kc_max));
        const size_t chunk = b_whole ? MC : m;
        for (size_t i0 = 0; i0 < m; i0 += chunk) {
        const size_t i1 = min_sz(m, i0 + chunk);
        for (size_t pc = 0; pc < k; pc += kc_max) {
            const size_t kc = min_sz(k - pc, kc_max);
            const XNN_T b = pc == 0 ? beta : 1;
            const int last = has_epi && pc + kc >= k;   /* finish tiles here */
            const XNN_T *Bblk = B + (ptrdiff_t)pc * rsb + (ptrdiff_t)jc * csb;
            XNN_T *Bp = b_whole ? Bw + pc * bw : Bw;
            if (!b_whole) PACK_B_BLOCK(Bp, pc, kc);
            /* panel jr of op(B): packed at Bp + jr kc (row stride NR), or in
               place (row stride rsb) with the edge panel packed at Bp */
#define PANEL_B(jr) (!direct_b ? Bp + (jr) * kc : (jr) < nc_full ? Bblk + (jr) : Bp)
#define PANEL_LDB(jr) (!direct_b || (jr) >= nc_full ? (ptrdiff_t)NR : rsb)
            if (direct_a) {
                /* row panels outer: each (MR, kc) panel of A stays in L1
                   while the tiles of its row of C are computed */
                for (size_t ir = i0; ir < i1; ir += MR) {
                    const size_t mr = min_sz(i1 - ir, MR);
                    const XNN_T *ap = A + (ptrdiff_t)ir * rsa + (ptrdiff_t)pc;
                    ptrdiff_t rs = rsa, cs = 1;
                    if (mr < MR) {              /* never read past row m */
                        XNN_FN(xnn_pack_a)(Ap, ap, rsa, 1, mr, kc, MR);
                        ap = Ap;
                        rs = 1;
                        cs = (ptrdiff_t)MR;
                    }
                    XNN_T *c = C + (ptrdiff_t)ir * ldc + (ptrdiff_t)jc;
                    for (size_t jr = 0; jr < nc; jr += NR) {
                        const size_t nr = min_sz(nc - jr, NR);
                        cfg->ukr(mr, nr, kc, ap, rs, cs, PANEL_B(jr), PANEL_LDB(jr), c + jr,
                                 ldc, b);
                        if (last)
                            XNN_FN(epilogue)(c + jr, ldc, mr, nr, bias ? bias + jc + jr : NULL,
                                             epi);
                    }
                }
                continue;
            }
            for (size_t ic = i0; ic < i1; ic += MC) {
                const size_t mc = min_sz(i1 - ic, MC);
                XNN_FN(xnn_pack_a)(Ap, A + (ptrdiff_t)ic * rsa + (ptrdiff_t)pc * csa, rsa, csa,
                                   mc, kc, MR);
                for (size_t jr = 0; jr < nc; jr += NR) {
                    const size_t nr = min_sz(nc - jr, NR);
                    const XNN_T *bp = PANEL_B(jr);
                    const ptrdiff_t ldb = PANEL_LDB(jr);
                    XNN_T *c = C + (ptrdiff_t)ic * ldc + (ptrdiff_t)(jc + jr);
                    for (size_t ir = 0; ir < mc; ir += MR) {
                        const size_t mr = min_sz(mc - ir, MR);
                        cfg->ukr(mr, nr, kc, Ap + ir * kc, 1, (ptrdiff_t)MR, bp, ldb,
                                 c + (ptrdiff_t)ir * ldc, ldc, b);
                        if (last)
                            XNN_FN(epilogue)(c + (ptrdiff_t)ir * ldc, ldc, mr, nr,
                                             bias ? bias + jc + jr : NULL, epi);
                    }
                }
            }
#undef PANEL_B
#undef PANEL_LDB
        }
        }
#undef PACK_B_BLOCK
    }
    return XNN_OK;
}

/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta C */
int XNN_FN(xnn_gemm)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                     int trans_a, int trans_b, size_t m, size_t n, size_t k)
{
    return XNN_FN(xnn_gemm_epilogue)(C, A, B, beta, trans_a, trans_b, m, n, k, NULL,
                                     XNN_EPI_NONE);
}

/* C (m,n) = epi(op(A) (m,k) . op(B) (k,n) + beta C + bias (n)) */
int XNN_FN(xnn_gemm_epilogue)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                              int trans_a, int trans_b, size_t m, size_t n, size_t k,
                              const XNN_T *bias, int epi)
{
    if (m == 0 || n == 0) return XNN_OK;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) {
            XNN_T *ci = C + i * n;
            for (size_t j = 0; j < n; j++) ci[j] = beta == 0 ? 0 : beta * ci[j];
            XNN_FN(epilogue)(ci, (ptrdiff_t)n, 1, n, bias, epi);
        }
        return XNN_OK;
    }
    const CFG *cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    const ptrdiff_t rsa = trans_a ? 1 : (ptrdiff_t)k, csa = trans_a ? (ptrdiff_t)m : 1;
    const ptrdiff_t rsb = trans_b ? 1 : (ptrdiff_t)n, csb = trans_b ? (ptrdiff_t)k : 1;
    const ptrdiff_t ldc = (ptrdiff_t)n;

#ifdef _OPENMP
    /* threads split rows when C is at least as tall as wide: each then
       packs all of op(B) (k x n), the smaller duplicate */
    const int split_m = n <= m;
    const size_t units = split_m ? (m + cfg->mr - 1) / cfg->mr : (n + cfg->nr - 1) / cfg->nr;
    size_t nt = 1;
    if ((double)m * (double)n * (double)k >= (double)XNN_GEMM_MT_MIN) {
        const int want = xnn_get_num_threads();
        nt = want > 1 ? (size_t)want : 1;
        if (nt > units) nt = units;
    }
    if (nt > 1) {
        int status = XNN_OK;
#pragma omp parallel num_threads((int)nt)
        {
            const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
            const size_t u0 = units * t / T, u1 = units * (t + 1) / T;
            int st = XNN_OK;
            if (split_m) {
                const size_t r0 = u0 * cfg->mr, r1 = min_sz(u1 * cfg->mr, m);
                if (r1 > r0)
                    st = XNN_FN(gemm_serial)(cfg, C + (ptrdiff_t)r0 * ldc, ldc,
                                             A + (ptrdiff_t)r0 * rsa, rsa, csa, B, rsb, csb,
                                             beta, r1 - r0, n, k, bias, epi);
            } else {
                const size_t c0 = u0 * cfg->nr, c1 = min_sz(u1 * cfg->nr, n);
                if (c1 > c0)
                    st = XNN_FN(gemm_serial)(cfg, C + c0, ldc, A, rsa, csa,
                                             B + (ptrdiff_t)c0 * csb, rsb, csb,
                                             beta, m, c1 - c0, k, bias ? bias + c0 : NULL, epi);
            }
            if (st != XNN_OK) {
#pragma omp atomic write
                status = st;
            }
        }
        return status;
    }
#endif
    return XNN_FN(gemm_serial)(cfg, C, ldc, A, rsa, csa, B, rsb, csb, beta, m, n, k, bias,
                               epi);
}

#undef CFG
#endif
