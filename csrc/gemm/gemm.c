/* gemm.c: C = op(A) op(B) + beta C, the one matrix product every kernel
 * calls; a BLIS-style blocked driver around register-tiled micro-kernels.
 *
 *   for jc in n by NC:
 *     for each group of k blocks (KC deep, <= 2 MB packed):
 *       pack op(B)[group, jc] into Bp             shared by the threads, L3
 *       for each chunk of <= MC rows of C:        one thread each
 *         for pc in the group's k blocks:
 *           pack op(A)[chunk, pc] into Ap         (mc, kc) -> L2
 *           for jr in nc by NR:                   B panel (kc, NR) -> L1
 *             for ir in chunk by MR:              micro-kernel: MR x NR tile
 *
 * Packing reads op(A) and op(B) through strides, so A^T and B^T are never
 * materialised (gemm.h). k is cut into equal blocks of at most
 * KC; the first applies beta, later ones add (beta 1). Edge tiles round
 * exactly like full ones (the kernels combine them in a temporary tile).
 * When C is narrow (the packed B block fits in L2) and A's rows are
 * contiguous, A is read in place instead of packed: its panels are reused
 * only nc / NR times, too few to pay for the copy. Likewise short
 * contiguous rows of op(B) are read in place; only edge panels are packed.
 * Each chunk of rows goes through every k block of a group while it is
 * in cache, so a tall C crosses memory once per group, not once per block.
 *
 * Threads (the pool of pool.c) take chunks of rows of C, whole register
 * tiles, and share the packing of each group of op(B): one parallel phase
 * packs it, the next computes with it. k is never split: every C[i, j] is
 * the same bits for any thread count, chunking and run.
 *
 * xnn_gemm_epi adds a bias row and applies ReLU (or the ReLU derivative)
 * to each tile right after its last k block, while the tile is still in L1
 * (dense layers; or a bias per row, for convolutions); its tile callback then gets each finished block of rows
 * of C on the thread that computed it, while the block is in L2 (the
 * optimizer's update of W, an explanation's x * gradient or |gradient|).
 *
 * Packing buffers are cached per thread (64-byte aligned, grown on demand,
 * freed when the thread exits), so repeated products of one shape allocate
 * nothing.
 */
#ifndef XNN_T
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"
#include "gemm/gemm.h"

/* below this many multiply-adds a product runs on one thread */
#define XNN_GEMM_MT_MIN (1u << 18)
/* largest packed B block (kc x nc) for which A is read in place */
#define XNN_GEMM_DIRECT_A_BYTES (256u * 1024u)
/* k blocks of op(B) packed at once: as many as fit in this many bytes */
#define XNN_GEMM_GROUP_B_BYTES (2048u * 1024u)
/* longest row of op(B) read in place (longer rows: packed, for the TLB) */
#define XNN_GEMM_DIRECT_B_BYTES 256u
/* ... and up to this long when C has few rows (at most 2 MC): each panel
   of op(B) is then used by few tiles, and packing it costs more than the
   strided reads save (a batch-128 forward product) */
#define XNN_GEMM_DIRECT_B_BYTES_SHORT 512u

/* Per-thread packing buffers: slot 0 for op(B) (of the calling thread,
   shared with the pool's workers), slot 1 for A. On POSIX systems they
   hang off a thread-specific key whose destructor frees them when the
   thread exits, so that a server starting a thread per request does not
   leak them; elsewhere they are thread-local and live as long as the
   process. */
typedef struct {
    void *buf[2];
    size_t size[2];
} gemm_tls;

#if defined(_MSC_VER)
#include <malloc.h>
#define XNN_ALIGNED_ALLOC(n) _aligned_malloc((n), 64)
#define XNN_ALIGNED_FREE(p) _aligned_free(p)
#elif defined(_WIN32)
#include <malloc.h>
#define XNN_ALIGNED_ALLOC(n) __mingw_aligned_malloc((n), 64)
#define XNN_ALIGNED_FREE(p) __mingw_aligned_free(p)
#else
#define XNN_ALIGNED_ALLOC(n) aligned_alloc(64, (n))
#define XNN_ALIGNED_FREE(p) free(p)
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_ok;

static void tls_free(void *p)
{
    gemm_tls *t = (gemm_tls *)p;
    for (int i = 0; i < 2; i++)
        if (t->buf[i]) XNN_ALIGNED_FREE(t->buf[i]);
    free(t);
}

static void tls_init(void) { tls_ok = pthread_key_create(&tls_key, tls_free) == 0; }

static gemm_tls *tls_get(void)
{
    pthread_once(&tls_once, tls_init);
    if (!tls_ok) return NULL;
    gemm_tls *t = (gemm_tls *)pthread_getspecific(tls_key);
    if (!t) {
        t = (gemm_tls *)calloc(1, sizeof(gemm_tls));
        if (!t) return NULL;
        if (pthread_setspecific(tls_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}
#else
#if defined(_MSC_VER)
#define XNN_TLS __declspec(thread)
#else
#define XNN_TLS _Thread_local
#endif
static XNN_TLS gemm_tls tls_store;
static gemm_tls *tls_get(void) { return &tls_store; }
#endif

/* this thread's packing buffer `slot` of at least `bytes` bytes, or NULL */
static void *gemm_workspace(int slot, size_t bytes)
{
    gemm_tls *t = tls_get();
    if (!t) return NULL;
    if (bytes == 0) bytes = 64;
    if (bytes <= t->size[slot]) return t->buf[slot];
    size_t size = (bytes + 4095) & ~(size_t)4095;
    void *p = XNN_ALIGNED_ALLOC(size);
    if (!p) return NULL;
    if (t->buf[slot]) XNN_ALIGNED_FREE(t->buf[slot]);
    t->buf[slot] = p;
    t->size[slot] = size;
    return p;
}

static size_t round_up(size_t x, size_t r) { return (x + r - 1) / r * r; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

#define XNN_SELF "gemm/gemm.c"
#include "core/template.h"
#else

#define CFG XNN_FN(xnn_gemm_cfg)

/* depth of the k blocks: k split into equal blocks of at most KC, so
   no short last block; depends on k and the ISA only, never on threads */
static size_t XNN_FN(k_block)(const CFG *cfg, size_t k)
{
    const size_t nblocks = (k + cfg->kc - 1) / cfg->kc;
    return (k + nblocks - 1) / nblocks;
}

#define EPI XNN_FN(xnn_epi)

/* the epilogue of the finished mr x nr tile at C[i0, j0] (c), while it is
   in L1 */
static inline void XNN_FN(epilogue)(XNN_T *c, ptrdiff_t ldc, size_t i0, size_t j0, size_t mr,
                                    size_t nr, const EPI *e)
{
    const XNN_T *bias = e->bias && !e->bias_rows ? e->bias + j0 : NULL;
    for (size_t i = 0; i < mr; i++) {
        XNN_T *ci = c + (ptrdiff_t)i * ldc;
        if (bias)
            for (size_t j = 0; j < nr; j++) ci[j] = ci[j] + bias[j];
        else if (e->bias) {
            const XNN_T bi = e->bias[i0 + i];
            for (size_t j = 0; j < nr; j++) ci[j] = ci[j] + bi;
        }
        if (e->epi == XNN_EPI_RELU)
            for (size_t j = 0; j < nr; j++) ci[j] = ci[j] < 0 ? 0 : ci[j];
        else if (e->epi == XNN_EPI_RELU_GRAD) {
            const XNN_T *ai = e->aux + (ptrdiff_t)(i0 + i) * ldc + (ptrdiff_t)j0;
            for (size_t j = 0; j < nr; j++) ci[j] = ai[j] > 0 ? ci[j] : 0;
        }
    }
}

/* how one product is blocked; depends on the shape, the strides and the
   ISA, never on the thread, so every chunk of a product agrees (and none
   of it changes the order in which a C[i, j] sums its products) */
typedef struct {
    size_t kc_max, nc_max;
    int direct_a;         /* A read in place */
    int direct_b;         /* op(B) read in place, edge panels packed */
    size_t group;         /* k blocks of op(B) packed at once */
    size_t bw;            /* width of a packed k block of op(B) */
    size_t b_elems;       /* elements of the packed op(B) buffer */
} XNN_FN(plan_t);

static XNN_FN(plan_t) XNN_FN(make_plan)(const CFG *cfg, size_t m, size_t n, size_t k,
                                        ptrdiff_t csa, ptrdiff_t csb)
{
    XNN_FN(plan_t) pl;
    pl.kc_max = XNN_FN(k_block)(cfg, k);
    pl.nc_max = round_up(min_sz(n, cfg->nc), cfg->nr);
    /* op(B) read in place when its rows are contiguous and short */
    const size_t row_bytes = n * sizeof(XNN_T);
    pl.direct_b = csb == 1 && (row_bytes <= XNN_GEMM_DIRECT_B_BYTES ||
                               (row_bytes <= XNN_GEMM_DIRECT_B_BYTES_SHORT && m <= 2 * cfg->mc));
    /* A read in place when its rows are contiguous and the B block is
       small enough to stay in L2 while each A panel is reused across it */
    pl.direct_a = csa == 1 && pl.nc_max * pl.kc_max * sizeof(XNN_T) <= XNN_GEMM_DIRECT_A_BYTES;
    /* as many k blocks of op(B) as fit in XNN_GEMM_GROUP_B_BYTES are packed
       at once; rows of C are then walked in chunks of MC, each chunk going
       through every block of the group while it is in cache (a tall C
       crosses memory once per group; threads sync twice per group) */
    pl.bw = pl.direct_b ? cfg->nr : pl.nc_max;
    const size_t blocks = (k + pl.kc_max - 1) / pl.kc_max;
    pl.group = XNN_GEMM_GROUP_B_BYTES / (pl.kc_max * pl.bw * sizeof(XNN_T));
    pl.group = pl.group < 1 ? 1 : pl.group > blocks ? blocks : pl.group;
    pl.b_elems = round_up(pl.group * pl.kc_max * pl.bw, 64);
    return pl;
}

/* rows [i0, i1) of C (columns jc .. jc + nc) += their product with one
   k block (pc, kc) of op(B), packed at Bp (or read in place at Bblk) */
static void XNN_FN(block_rows)(const CFG *cfg, const XNN_FN(plan_t) *pl, XNN_T *C, ptrdiff_t ldc,
                               const XNN_T *A, ptrdiff_t rsa, ptrdiff_t csa, const XNN_T *Bblk,
                               ptrdiff_t rsb, const XNN_T *Bp, XNN_T *Ap, size_t i0, size_t i1,
                               size_t jc, size_t nc, size_t pc, size_t kc, XNN_T b,
                               const EPI *last)
{
    const size_t MR = cfg->mr, NR = cfg->nr, MC = cfg->mc;
    const size_t nc_full = nc / NR * NR;
    const int direct_b = pl->direct_b;
    /* panel jr of op(B): packed at Bp + jr kc (row stride NR), or in place
       (row stride rsb) with the edge panel packed at Bp */
#define PANEL_B(jr) (!direct_b ? Bp + (jr) * kc : (jr) < nc_full ? Bblk + (jr) : Bp)
#define PANEL_LDB(jr) (!direct_b || (jr) >= nc_full ? (ptrdiff_t)NR : rsb)
    if (pl->direct_a) {
        /* row panels outer: each (MR, kc) panel of A stays in L1 while the
           tiles of its row of C are computed */
        for (size_t ir = i0; ir < i1; ir += MR) {
            const size_t mr = min_sz(i1 - ir, MR);
            const XNN_T *ap = A + (ptrdiff_t)ir * rsa + (ptrdiff_t)pc;
            ptrdiff_t rs = rsa, cs = 1;
            if (mr < MR) {              /* never read past the last row */
                XNN_FN(xnn_pack_a)(Ap, ap, rsa, 1, mr, kc, MR);
                ap = Ap;
                rs = 1;
                cs = (ptrdiff_t)MR;
            }
            XNN_T *c = C + (ptrdiff_t)ir * ldc + (ptrdiff_t)jc;
            for (size_t jr = 0; jr < nc; jr += NR) {
                const size_t nr = min_sz(nc - jr, NR);
                cfg->ukr(mr, nr, kc, ap, rs, cs, PANEL_B(jr), PANEL_LDB(jr), c + jr, ldc, b);
                if (last) XNN_FN(epilogue)(c + jr, ldc, ir, jc + jr, mr, nr, last);
            }
        }
        return;
    }
    for (size_t ic = i0; ic < i1; ic += MC) {
        const size_t mc = min_sz(i1 - ic, MC);
        XNN_FN(xnn_pack_a)(Ap, A + (ptrdiff_t)ic * rsa + (ptrdiff_t)pc * csa, rsa, csa, mc, kc,
                           MR);
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
                    XNN_FN(epilogue)(c + (ptrdiff_t)ir * ldc, ldc, ic + ir, jc + jr, mr, nr, last);
            }
        }
    }
#undef PANEL_B
#undef PANEL_LDB
}

/* one product in flight: the chunks of its phases run on the pool */
typedef struct {
    const CFG *cfg;
    const XNN_FN(plan_t) *pl;
    XNN_T *C;
    ptrdiff_t ldc, rsa, csa, rsb, csb;
    const XNN_T *A, *B;
    XNN_T beta;
    size_t m, n, k;
    const EPI *epi;             /* NULL: none */
    XNN_T *Bw;                  /* packed group of op(B), shared */
    size_t jc, nc, g0, g1;      /* the current column block and k group */
    size_t parts;               /* pack chunks per k block */
    size_t rows;                /* rows of C per compute chunk */
    XNN_ATOMIC_INT status;
} XNN_FN(job_t);

/* pack chunk i: part i % parts of k block i / parts of the group (read
   in place: the block's edge panel) */
static void XNN_FN(pack_chunk)(void *p, size_t i)
{
    XNN_FN(job_t) *jb = (XNN_FN(job_t) *)p;
    const CFG *cfg = jb->cfg;
    const XNN_FN(plan_t) *pl = jb->pl;
    const size_t NR = cfg->nr, nc = jb->nc, nc_full = nc / NR * NR;
    const size_t blkno = i / jb->parts, part = i % jb->parts;
    const size_t pc = jb->g0 + blkno * pl->kc_max, kc = min_sz(jb->k - pc, pl->kc_max);
    XNN_T *Bp = jb->Bw + blkno * pl->kc_max * pl->bw;
    const XNN_T *Bblk = jb->B + (ptrdiff_t)pc * jb->rsb + (ptrdiff_t)jb->jc * jb->csb;
    if (pl->direct_b) {
        if (nc_full < nc)
            XNN_FN(xnn_pack_b)(Bp, Bblk + nc_full, jb->rsb, 1, kc, nc - nc_full, NR);
        return;
    }
    const size_t panels = (nc + NR - 1) / NR;
    const size_t q0 = panels * part / jb->parts, q1 = panels * (part + 1) / jb->parts;
    if (q1 > q0)
        XNN_FN(xnn_pack_b)(Bp + q0 * NR * kc, Bblk + (ptrdiff_t)(q0 * NR) * jb->csb, jb->rsb,
                           jb->csb, kc, min_sz(nc, q1 * NR) - q0 * NR, NR);
}

/* compute chunk i: rows [i rows, (i + 1) rows) of C through every k block
   of the group, while they are in cache */
static void XNN_FN(compute_chunk)(void *p, size_t i)
{
    XNN_FN(job_t) *jb = (XNN_FN(job_t) *)p;
    const CFG *cfg = jb->cfg;
    const XNN_FN(plan_t) *pl = jb->pl;
    const size_t i0 = i * jb->rows, i1 = min_sz(jb->m, i0 + jb->rows);
    const size_t mc_max = pl->direct_a ? cfg->mr : round_up(min_sz(jb->rows, cfg->mc), cfg->mr);
    XNN_T *Ap = (XNN_T *)gemm_workspace(1, pl->kc_max * mc_max * sizeof(XNN_T));
    if (!Ap) {
        xnn_atomic_store(&jb->status, XNN_ENOMEM);
        return;
    }
    for (size_t pc = jb->g0; pc < jb->g1; pc += pl->kc_max) {
        const size_t kc = min_sz(jb->k - pc, pl->kc_max);
        XNN_FN(block_rows)(cfg, pl, jb->C, jb->ldc, jb->A, jb->rsa, jb->csa,
                           jb->B + (ptrdiff_t)pc * jb->rsb + (ptrdiff_t)jb->jc * jb->csb, jb->rsb,
                           jb->Bw + (pc - jb->g0) / pl->kc_max * pl->kc_max * pl->bw, Ap, i0, i1,
                           jb->jc, jb->nc, pc, kc, pc == 0 ? jb->beta : 1,
                           pc + kc >= jb->k ? jb->epi : NULL);
    }
    /* the block of C is finished: the caller's tile callback, while it is in L2 */
    if (jb->g1 >= jb->k && jb->epi && jb->epi->tile)
        jb->epi->tile(jb->epi->ctx, i0, jb->jc, i1 - i0, jb->nc);
}

/* C (n) = x (k) . W (k, n) + beta C, skipping zeros of x */
void XNN_FN(xnn_gemv_xw)(XNN_T *C, const XNN_T *x, const XNN_T *W, XNN_T beta, size_t n,
                         size_t k)
{
    XNN_FN(xnn_gemm_config)(xnn_isa())->gemv_xw(C, x, W, beta, n, k);
}

/* C (k) = A (k) * (W (k, n) . s (n)) + beta C */
void XNN_FN(xnn_gemv_wt)(XNN_T *C, const XNN_T *s, const XNN_T *W, const XNN_T *A, XNN_T beta,
                         size_t k, size_t n)
{
    XNN_FN(xnn_gemm_config)(xnn_isa())->gemv_wt(C, s, W, A, beta, k, n);
}

/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta C */
int XNN_FN(xnn_gemm)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                     int trans_a, int trans_b, size_t m, size_t n, size_t k)
{
    return XNN_FN(xnn_gemm_epi)(C, A, B, beta, trans_a, trans_b, m, n, k, NULL);
}

/* C (m,n) = epi(op(A) (m,k) . op(B) (k,n) + beta C + bias (n)) */
int XNN_FN(xnn_gemm_epilogue)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                              int trans_a, int trans_b, size_t m, size_t n, size_t k,
                              const XNN_T *bias, int epi, const XNN_T *aux)
{
    const EPI e = {bias, 0, epi, aux, NULL, NULL};
    return XNN_FN(xnn_gemm_epi)(C, A, B, beta, trans_a, trans_b, m, n, k, &e);
}

/* the tiles of the running instruction set, except that a product at most
   half as wide as AVX-512's tile (two vectors) takes AVX2's, one vector of
   AVX-512 wide: the same FMAs in the same order over the same k blocks
   (kc is the same), so the same bits, and no half-empty tiles */
static const CFG *XNN_FN(cfg_for)(size_t n)
{
    const int isa = xnn_isa();
    const CFG *cfg = XNN_FN(xnn_gemm_config)(isa);
    if (isa == XNN_ISA_AVX512) {
        const CFG *narrow = XNN_FN(xnn_gemm_config)(XNN_ISA_AVX2);
        if (n <= narrow->nr && narrow->kc == cfg->kc) return narrow;
    }
    return cfg;
}

/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta C, then e on each tile */
int XNN_FN(xnn_gemm_epi)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta, int trans_a,
                         int trans_b, size_t m, size_t n, size_t k, const EPI *e)
{
    return XNN_FN(xnn_gemm_strided)(C, (ptrdiff_t)n, A, trans_a ? 1 : (ptrdiff_t)k,
                                    trans_a ? (ptrdiff_t)m : 1, B, trans_b ? 1 : (ptrdiff_t)n,
                                    trans_b ? (ptrdiff_t)k : 1, beta, m, n, k, e);
}

/* C (m,n) (row stride ldc) = op(A) op(B) + beta C through the strides of gemm.h */
int XNN_FN(xnn_gemm_strided)(XNN_T *C, ptrdiff_t ldc, const XNN_T *A, ptrdiff_t rsa,
                             ptrdiff_t csa, const XNN_T *B, ptrdiff_t rsb, ptrdiff_t csb,
                             XNN_T beta, size_t m, size_t n, size_t k, const EPI *e)
{
    if (m == 0 || n == 0) return XNN_OK;
    if (e && e->epi == XNN_EPI_RELU_GRAD && !e->aux) return XNN_EINVAL;
    if (e && !e->bias && e->epi == XNN_EPI_NONE && !e->tile) e = NULL;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) {
            XNN_T *ci = C + (ptrdiff_t)i * ldc;
            for (size_t j = 0; j < n; j++) ci[j] = beta == 0 ? 0 : beta * ci[j];
            if (e) XNN_FN(epilogue)(ci, ldc, i, 0, 1, n, e);
            if (e && e->tile) e->tile(e->ctx, i, 0, 1, n);
        }
        return XNN_OK;
    }
    const CFG *cfg = XNN_FN(cfg_for)(n);
    XNN_FN(job_t) jb;
    jb.cfg = cfg;
    jb.C = C;
    jb.ldc = ldc;
    jb.A = A;
    jb.rsa = rsa;
    jb.csa = csa;
    jb.B = B;
    jb.rsb = rsb;
    jb.csb = csb;
    jb.beta = beta;
    jb.m = m;
    jb.n = n;
    jb.k = k;
    jb.epi = e;
    xnn_atomic_store(&jb.status, XNN_OK);
    const XNN_FN(plan_t) pl = XNN_FN(make_plan)(cfg, m, n, k, jb.csa, jb.csb);
    jb.pl = &pl;
    jb.Bw = (XNN_T *)gemm_workspace(0, pl.b_elems * sizeof(XNN_T));
    if (!jb.Bw) return XNN_ENOMEM;

    /* threads take chunks of rows of C: whole register tiles, at most MC
       rows, a multiple of the thread count of them, of equal size (few and
       large: each chunk reads the whole packed group of op(B)) */
    int threads = 1;
    if ((double)m * (double)n * (double)k >= (double)XNN_GEMM_MT_MIN) {
        threads = xnn_get_num_threads();
        if (threads < 1) threads = 1;
    }
    const size_t MR = cfg->mr, NR = cfg->nr, T = (size_t)threads;
    const size_t nchunks = T * ((m + T * cfg->mc - 1) / (T * cfg->mc));
    const size_t rows = min_sz(cfg->mc, round_up((m + nchunks - 1) / nchunks, MR));
    jb.rows = rows;
    const size_t row_chunks = (m + rows - 1) / rows;

    for (size_t jc = 0; jc < n; jc += cfg->nc) {
        jb.jc = jc;
        jb.nc = min_sz(n - jc, cfg->nc);
        const size_t panels = (jb.nc + NR - 1) / NR;
        jb.parts = pl.direct_b ? 1 : min_sz(panels, (size_t)threads);
        const size_t has_pack = !pl.direct_b || jb.nc % NR != 0;
        for (size_t g0 = 0; g0 < k; g0 += pl.group * pl.kc_max) {
            jb.g0 = g0;
            jb.g1 = min_sz(k, g0 + pl.group * pl.kc_max);
            const size_t blocks = (jb.g1 - g0 + pl.kc_max - 1) / pl.kc_max;
            if (has_pack)
                xnn_parallel_for(XNN_FN(pack_chunk), &jb, blocks * jb.parts, threads);
            xnn_parallel_for(XNN_FN(compute_chunk), &jb, row_chunks, threads);
        }
    }
    return xnn_atomic_load(&jb.status);
}

#undef CFG
#undef EPI
#endif
