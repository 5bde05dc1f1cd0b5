/* conv.c: convolution of NCHW images with OIHW weights (1-D signals are
 * images with H = 1), through the GEMM.
 *
 * For one image X (C, H, W), weights W (O, C, kh, kw), K = C kh kw taps
 * and P = Ho Wo output positions:
 *
 *   unfold     cols (K, P):  cols[(c kh + i) kw + j, oh Wo + ow]
 *                              = X[c, oh sh + i - ph, ow sw + j - pw]   (0 outside)
 *   forward    Z (O, P) = W (O, K) cols + b,  Y = act(Z)
 *   backward   dcols (K, P) = W^T dZ,  dX = fold(dcols)   (each pixel sums its taps)
 *              dW (O, K) = sum over images of dZ cols^T,  db = sum of dZ over images and positions
 *   product    Z = f(A; W) + b              (the forward without activation)
 *   transpose  C = f^T(S; W) = fold(W^T S)  (times A, |.|)
 *
 * Images go through in groups of g (about GROUP_BYTES of unfolded input,
 * which stays in L2): one GEMM W (O, K) . cols (K, g P) per group, whose
 * columns are then scattered to NCHW with the bias and activation (for
 * g = 1 the GEMM writes the image's output in place, bias and ReLU in its
 * epilogue). Threads take contiguous ranges of groups, each with its own
 * slice of scratch. The backward takes the same groups: dX from the
 * group's dZ gathered as (O, g P), then dW's share of the group,
 * dW^T_g (K, O) = cols_g (K, g P) . dZ_g^T, from the group's input unfolded
 * again; dW = the sum of the shares in group order. A group is one thread's
 * and the groups depend on m alone, so no sum changes with the thread
 * count. Nothing is kept from the forward (the unfolding is remade: 2 to 4
 * bytes moved per multiply-add of the layer's K P, against K P bytes per
 * image kept from the forward to the backward).
 *
 * The direct path (stride 1, padding smaller than the kernel) skips the
 * unfolding: each image is copied into a zero-padded (C, Hp, Wp) buffer and
 * gemm/conv_body.h sums the taps straight from it over the "wide" grid of
 * Ho x Wp positions (the Wp - Wo extra columns are computed and dropped):
 *
 *   forward    Z[o, q] = sum over t = (c, i, j) of W[o, t] xp[c, q + i Wp + j]
 *   backward   dX = the same loops on dZ padded by (kh - 1 - ph, kw - 1 - pw)
 *              with the flipped weights Wf[c, o, i, j] = W[o, c, kh-1-i, kw-1-j]
 *              dW[o, t] = sum over images (in order) and q of dZ[o, q] xp[c, q + i Wp + j]
 *
 * It keeps nothing for the backward (it reads the input again). Images
 * split among threads for the forward and dX, output channels for dW:
 * again no sum is split. Each path gives the same bits on every thread
 * count; the two paths round differently (their sums run in other orders).
 * By default the forward and product run the direct path wherever it
 * applies, and the backward (dX, dW, the transpose) where the taps are few
 * (direct_pays below); 3x3 stride-1 convolutions with 8 channels or more
 * in and out run their forward, dX, dW and transpose on the node's own
 * weights as Winograd tiles (below). XNN_CONV=gemm, XNN_CONV=direct or
 * XNN_CONV=winograd (every 3x3 stride-1 forward, dX and dW) in the
 * environment (read once) forces one path everywhere it applies.
 */
#ifndef XNN_T
#include <stdlib.h>
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/lanes.h"
#include "core/parallel.h"
#include "gemm/gemm.h"
#include "layers/op.h"

/* unfolded input of a group, in bytes */
#define GROUP_BYTES (512u * 1024u)
/* the fewest input and output channels for Winograd tiles by default */
#define WINO_MIN_C 8

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

/* ---- which path ---- */

enum { CONV_AUTO = 0, CONV_GEMM = 1, CONV_DIRECT = 2, CONV_WINOGRAD = 3 };
static XNN_ATOMIC_INT g_conv_mode = -1;

static int conv_mode(void)
{
    int mode = xnn_atomic_load(&g_conv_mode);
    if (mode < 0) {
        const char *env = getenv("XNN_CONV");
        mode = CONV_AUTO;
        if (env && strcmp(env, "gemm") == 0) mode = CONV_GEMM;
        if (env && strcmp(env, "direct") == 0) mode = CONV_DIRECT;
        if (env && strcmp(env, "winograd") == 0) mode = CONV_WINOGRAD;
        xnn_atomic_store(&g_conv_mode, mode);
    }
    return mode;
}

/* where the direct path is faster: few taps per output (the GEMM's
   unfolding then costs more than its products) */
static int direct_pays(const xnn_node *n)
{
    return n->in_c * n->kh * n->kw <= 64;
}

/* whether node n's forward (and product) may run the direct path: wherever
   it applies it measured at least as fast as unfolding + GEMM */
static int direct_fwd(const xnn_node *n)
{
    if (n->sh != 1 || n->sw != 1 || n->ph >= n->kh || n->pw >= n->kw) return 0;
    return conv_mode() != CONV_GEMM;
}

/* whether its backward (dX, dW, the transpose) does: with few taps; with
   many the GEMM's products win */
static int use_direct(const xnn_node *n)
{
    if (!direct_fwd(n)) return 0;
    return conv_mode() == CONV_DIRECT || direct_pays(n);
}

/* the direct path's buffers, in elements */
typedef struct {
    size_t Hp, Wp, ldx, xlen; /* padded input: C planes (Hp, Wp) ldx apart, xlen readable */
    size_t nq;                /* wide output positions (Ho Wp in whole blocks) */
    size_t ah, aw;            /* padding of dZ for dX */
    size_t Hq, Wq, ldd, dlen; /* padded dZ: O planes (Hq, Wq) ldd apart, dlen readable */
    size_t nqd;               /* wide dX positions (H Wq rounded up) */
    size_t slice;             /* bytes of one thread's slice */
    size_t shared;            /* bytes before the slices: Wf, dW (O K each), db's lanes */
} direct_geo;

/* v rounded up to whole blocks of XNN_CONV_BYTES */
static size_t round_q(size_t v, size_t elem)
{
    const size_t q = XNN_CONV_BYTES / elem;
    return (v + q - 1) / q * q;
}

static direct_geo direct_of(const xnn_node *n, size_t elem)
{
    direct_geo g;
    const size_t C = n->in_c, O = n->out_c, kh = n->kh, kw = n->kw;
    g.Hp = n->in_h + 2 * n->ph, g.Wp = n->in_w + 2 * n->pw;
    g.ldx = g.Hp * g.Wp;
    g.nq = round_q(n->out_h * g.Wp, elem);
    /* the last tap of the last block reads xp[(C-1) ldx + (kh-1) Wp + kw-1 + nq-1] */
    g.xlen = (C - 1) * g.ldx + (kh - 1) * g.Wp + kw - 1 + g.nq;
    if (g.xlen < C * g.ldx) g.xlen = C * g.ldx;
    g.ah = kh - 1 - n->ph, g.aw = kw - 1 - n->pw;
    g.Hq = n->out_h + 2 * g.ah, g.Wq = n->out_w + 2 * g.aw;
    g.ldd = g.Hq * g.Wq;
    g.nqd = round_q(n->in_h * g.Wq, elem);
    g.dlen = (O - 1) * g.ldd + (kh - 1) * g.Wq + kw - 1 + g.nqd;
    if (g.dlen < O * g.ldd) g.dlen = O * g.ldd;
    const size_t fwd = align64(g.xlen * elem) + align64(O * g.nq * elem);
    const size_t dx = align64(g.dlen * elem) + align64(C * g.nqd * elem);
    /* and, for one unit per row, that unit's flipped weights (K) */
    g.slice = (fwd > dx ? fwd : dx) + align64(C * kh * kw * elem);
    /* Wf and dW's sums, (O K) each, then db's lanes (O, 16) */
    g.shared = 2 * align64(O * C * kh * kw * elem) + align64(16 * O * elem);
    return g;
}

/* ---- Winograd F(2x2, 3x3) ----
 *
 * A 3x3 stride-1 convolution (padding 0 to 2) as 2x2 tiles of output, each
 * from the 4x4 tile of the padded input at twice its tile coordinates:
 *
 *   y (2, 2) = A^T [ sum over c of (G g_oc G^T) .* (B^T d_c B) ] A
 *
 *   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  A^T = [1 1 1 0; 0 1 -1 -1]
 *
 * The 16 products .* of a tile become 16 matrix products over the
 * channels, M_xi (tiles, O) = V_xi (tiles, C) U_xi (C, O), run by the
 * direct path's inner loops as 1x1 convolutions (gemm/conv_body.h: one
 * lane per output channel, the tiles as its rows, every sum over the
 * channels in order): 16 C O multiply-adds a tile instead of 36 C O, for
 * 4 outputs. The input is copied channels last so that the transforms
 * (also in conv_body.h) run on whole vectors of channels; the weights'
 * transform U is made once per call, or taken from node->prep (prepare:
 * U of the forward and of dX, which the binding keeps between calls
 * while W is unchanged, and the forward's front makes once for all its
 * images). The transforms are
 * fixed sums and differences (the halvings of G are exact), each tile and
 * output position computed alone, so the bits do not depend on the thread
 * count or on how many images or tiles go through together; they round
 * otherwise than the direct sums (measured against the float64 twin: see
 * README). Before a max pooling only the tiles it reads are made, and a
 * 2x2/2 pooling takes each tile as its window. dX, the full correlation
 * of dZ with the turned weights, is the same kind of convolution
 * (wino_transposed) and runs through the same slices; dW is the
 * algorithm transposed (wino_dw). */

/* whether node n's forward runs as Winograd tiles: 3x3, stride 1 (and
   padding 0 to 2), with channels enough for the 16 products to pay */
static int wino_fwd(const xnn_node *n)
{
    if (n->kh != 3 || n->kw != 3 || !direct_fwd(n)) return 0;
    const int mode = conv_mode();
    if (mode == CONV_WINOGRAD) return 1;
    return mode == CONV_AUTO && n->in_c >= WINO_MIN_C && n->out_c >= WINO_MIN_C;
}

typedef struct {
    size_t th, tw, T;     /* tiles of one image: rows, columns, all */
    size_t Op;            /* O rounded up to whole blocks of lanes */
    size_t Hp, Wp;        /* the padded image, channels last: (Hp, Wp, C) */
    size_t v, mo, tmp, po;  /* in a slice: V (16, T, C), M (16, T, Op), the tiles'
                               outputs (T, 4, Op), planes (O, 2 th, 2 tw) */
    size_t us;            /* elements from one U_xi (C, Op) to the next */
    size_t slice, shared; /* bytes of a slice; of U before the slices */
} wino_geo;

/* U_xi (C, Op) one cache line more than their size apart: 16 rows that
   are a multiple of 4 KB apart would share a set of L1 */
static size_t wino_us(size_t C, size_t O, size_t elem)
{
    return C * round_q(O, elem) + 64 / elem;
}

/* whether the max pooling p's windows never overlap (stride >= kernel):
   its backward then sets each input element once at most */
static int pool_apart(const xnn_node *p)
{
    return p->op == XNN_OP_MAXPOOL && p->sh >= p->kh && p->sw >= p->kw;
}

/* the tiles for all the output, or (p not NULL) for the rows and columns
   the max pooling p reads */
static wino_geo wino_of(const xnn_node *n, const xnn_node *p, size_t elem)
{
    wino_geo g;
    const size_t C = n->in_c, O = n->out_c;
    size_t rows = n->out_h, cols = n->out_w;
    if (p) {
        rows = (p->out_h - 1) * p->sh + p->kh;
        cols = (p->out_w - 1) * p->sw + p->kw;
    }
    g.th = (rows + 1) / 2, g.tw = (cols + 1) / 2, g.T = g.th * g.tw;
    g.Op = round_q(O, elem);
    g.Hp = 2 * g.th + 2, g.Wp = 2 * g.tw + 2;
    g.v = align64(g.Hp * g.Wp * C * elem);
    g.mo = g.v + align64(16 * g.T * C * elem);
    g.tmp = g.mo + align64(16 * g.T * g.Op * elem);
    g.po = g.tmp + align64(4 * g.T * g.Op * elem);
    g.slice = g.po + align64(O * 4 * g.T * elem);
    g.us = wino_us(C, O, elem);
    g.shared = align64(16 * g.us * elem);
    return g;
}

/* whether pooling p reads each 2 x 2 tile as one window */
static int wino_tile_pool(const xnn_node *p)
{
    return p && p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2;
}

/* dW's scratch: the chunks' sums S_k (16, C, O) and db's lanes (O, 16), then per thread a
   group's V (16, tiles, C) and Dz (16, tiles, O), a padded image and a
   plane of dZ channels last. A group is as many whole images as keep
   their V and Dz within WINO_DW_BYTES (at least one image), so that the
   thread that made them reads them from its own L2; the groups are cut
   into at most WINO_DW_CHUNKS chunks, each summed by one thread. Both
   depend on m alone. A sum's 16 planes (C, O) lie a cache line more than
   their size apart: planes a multiple of 4 KB apart would share a set of L1
   where the last pass reads them together. */
#define WINO_DW_BYTES ((size_t)512 << 10)
#define WINO_DW_CHUNKS 8
typedef struct {
    wino_geo g;                /* the forward's tiles */
    size_t group;              /* images per group */
    size_t groups, chunks;     /* of the m images */
    size_t ps, lanes, sum;     /* elements from one plane of a sum to the next; where db's
                                  lanes follow the planes; bytes of a chunk's sums */
    size_t slices;             /* where the slices start */
    size_t zh, vg, dg, slice;  /* in a slice (the padded image first): the plane of dZ, V,
                                  Dz; bytes of a slice */
} wino_dw_geo;

static wino_dw_geo wino_dw_of(const xnn_node *n, size_t m, size_t elem)
{
    wino_dw_geo w;
    w.g = wino_of(n, NULL, elem);
    const size_t C = n->in_c, O = n->out_c, T = w.g.T;
    const size_t image = 16 * T * (C + O) * elem;
    w.group = image < WINO_DW_BYTES ? WINO_DW_BYTES / image : 1;
    w.groups = m ? (m + w.group - 1) / w.group : 1;
    w.chunks = w.groups < WINO_DW_CHUNKS ? w.groups : WINO_DW_CHUNKS;
    w.ps = C * O + 64 / elem;
    w.lanes = align64(16 * w.ps * elem);
    w.sum = w.lanes + align64(16 * O * elem);
    w.slices = w.chunks * w.sum;
    w.zh = align64(w.g.Hp * w.g.Wp * C * elem);
    w.vg = w.zh + align64(4 * T * O * elem);
    w.dg = w.vg + align64(16 * w.group * T * C * elem);
    w.slice = w.dg + align64(16 * w.group * T * O * elem);
    return w;
}

/* the convolution whose forward is node n's dX: dZ (O, Ho, Wo) padded by
   2 - p with the weights turned by 180 degrees, C output channels */
static xnn_node wino_transposed(const xnn_node *n)
{
    xnn_node t = *n;
    t.in_c = n->out_c, t.in_h = n->out_h, t.in_w = n->out_w;
    t.out_c = n->in_c, t.out_h = n->in_h, t.out_w = n->in_w;
    t.ph = 2 - n->ph, t.pw = 2 - n->pw;
    return t;
}

/* bytes of the Winograd weights U of the forward (0: node n's forward
   has no tiles) */
static size_t wino_u_bytes(const xnn_node *n, size_t elem)
{
    return wino_fwd(n) ? wino_of(n, NULL, elem).shared : 0;
}

/* bytes of the prepared weights: U of the forward, then U of the
   transposed convolution (dX) */
static size_t prep_bytes_of(const xnn_node *n, size_t elem)
{
    if (!wino_fwd(n)) return 0;
    const xnn_node t = wino_transposed(n);
    return wino_u_bytes(n, elem) + wino_of(&t, NULL, elem).shared;
}

typedef struct {
    size_t C, H, W, O, Ho, Wo, K, P, in, out;
} conv_dims;

static conv_dims dims_of(const xnn_node *n)
{
    conv_dims d;
    d.C = n->in_c, d.H = n->in_h, d.W = n->in_w;
    d.O = n->out_c, d.Ho = n->out_h, d.Wo = n->out_w;
    d.K = d.C * n->kh * n->kw;
    d.P = d.Ho * d.Wo;
    d.in = d.C * d.H * d.W;
    d.out = d.O * d.P;
    return d;
}

/* images per group: the group's unfolded input about GROUP_BYTES */
static size_t group_of(const conv_dims *d, size_t m, size_t elem)
{
    size_t g = GROUP_BYTES / (d->K * d->P * elem);
    if (g < 1) g = 1;
    return g < m ? g : m;
}

/* output positions [lo, hi) of a row of taps whose input column is
   o * s + j - p, for o < out, that fall inside [0, w) */
static void valid_range(size_t out, size_t s, size_t j, size_t p, size_t w, size_t *lo,
                        size_t *hi)
{
    /* o * s + j >= p  <=>  o >= ceil((p - j) / s) */
    size_t a = p > j ? (p - j + s - 1) / s : 0;
    /* o * s + j - p <= w - 1  <=>  o <= (w - 1 + p - j) / s */
    size_t b = w - 1 + p >= j ? (w - 1 + p - j) / s + 1 : 0;
    if (b > out) b = out;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* Scratch of one call, byte offsets: shared W^T (K, O) and, for
   training, each group's share of dW^T (K, O); then one slice per thread,
   each the unfolded input (or its gradient) of a group (K, g P) and the
   group's output (or gradient) (O, g P). */
typedef struct {
    size_t g;             /* images per group */
    size_t wt, part;      /* the shared buffers */
    size_t slices;        /* where the slices start */
    size_t slice;         /* bytes of one slice */
    size_t zg;            /* the output part inside a slice */
} conv_scratch;

static conv_scratch scratch_of(const xnn_node *n, size_t m, int flags, size_t elem)
{
    conv_dims d = dims_of(n);
    conv_scratch s;
    s.g = group_of(&d, m ? m : 1, elem);
    const size_t groups = m ? (m + s.g - 1) / s.g : 1;
    s.wt = 0;
    s.part = align64(d.K * d.O * elem);
    s.slices = s.part + ((flags & XNN_PLAN_TRAIN) ? align64(groups * d.K * d.O * elem) : 0);
    s.zg = align64(d.K * s.g * d.P * elem);
    s.slice = s.zg + align64(d.O * s.g * d.P * elem);
    return s;
}

/* channels [o0, o1) of chunk cb of nb: whole blocks of q */
static void chunk_of(size_t O, size_t cb, size_t nb, size_t q, size_t *o0, size_t *o1)
{
    const size_t blocks = (O + q - 1) / q;
    *o0 = q * (blocks * cb / nb);
    *o1 = q * (blocks * (cb + 1) / nb);
    if (*o1 > O) *o1 = O;
}

const char *xnn_conv_fwd_path(const xnn_node *n)
{
    return wino_fwd(n) ? "winograd" : direct_fwd(n) ? "direct" : "gemm";
}

/* the sparse transpose's buffers, in bytes: the weights Wr (O, kh kw, C)
   shared, then per thread the image's sums channels last over every
   input pixel a tap reads, the padding included (He, We, C), the image's
   nonzeros position by position (up to O P values and as many offsets of
   their channels' weights), where each position's start (P + 1), the
   offset of each output position's first tap (P) and of each tap from it
   (kh kw) */
typedef struct {
    size_t He, We;                          /* the sums' rows and columns */
    size_t acc, val, wo, start, at, off;    /* offsets inside a slice */
    size_t slice, shared;
} sparse_geo;

static sparse_geo sparse_of(const xnn_node *n, size_t elem)
{
    sparse_geo g;
    const size_t C = n->in_c, O = n->out_c, P = n->out_h * n->out_w, T = n->kh * n->kw;
    g.He = (n->out_h - 1) * n->sh + n->kh, g.We = (n->out_w - 1) * n->sw + n->kw;
    g.shared = align64(O * T * C * elem);
    g.acc = 0;
    g.val = align64(g.He * g.We * C * elem);
    g.wo = g.val + align64(O * P * elem);
    g.start = g.wo + align64(O * P * sizeof(size_t));
    g.at = g.start + align64((P + 1) * sizeof(size_t));
    g.off = g.at + align64(P * sizeof(size_t));
    g.slice = g.off + align64(T * sizeof(size_t));
    return g;
}

size_t xnn_conv_scratch_bytes(const xnn_node *n, size_t m, int flags, int threads, size_t elem)
{
    const size_t T = (size_t)(threads > 0 ? threads : 1);
    size_t direct = 0, gemm = 0;
    if (wino_fwd(n)) {
        const xnn_node t = wino_transposed(n);
        const wino_geo g = wino_of(n, NULL, elem), gt = wino_of(&t, NULL, elem);
        direct = g.shared + T * g.slice;
        if (gt.shared + T * gt.slice > direct) direct = gt.shared + T * gt.slice;
        if (flags & XNN_PLAN_TRAIN) {
            const wino_dw_geo w = wino_dw_of(n, m, elem);
            if (w.slices + T * w.slice > direct) direct = w.slices + T * w.slice;
        }
    }
    if (direct_fwd(n)) {
        const direct_geo g = direct_of(n, elem);
        if (g.shared + T * g.slice > direct) direct = g.shared + T * g.slice;
    }
    if (!use_direct(n)) {
        conv_scratch s = scratch_of(n, m, flags, elem);
        gemm = s.slices + T * s.slice;
    }
    /* LRP's sparse transpose, where it does not stay on the direct path */
    if ((flags & XNN_PLAN_LRP) && !use_direct(n)) {
        const sparse_geo sg = sparse_of(n, elem);
        if (sg.shared + T * sg.slice > gemm) gemm = sg.shared + T * sg.slice;
    }
    return direct > gemm ? direct : gemm;
}

/* asks for bytes at p in L2 ahead of their use: the copies channels last
   read an image plane by plane, a pattern the hardware does not guess */
static inline void fetch_l2(const void *p, size_t bytes)
{
#if defined(__GNUC__) || defined(__clang__)
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch((const char *)p + b, 0, 2);
#else
    (void)p, (void)bytes;
#endif
}

#define XNN_SELF "layers/conv.c"
#include "core/template.h"

#else

/* cols (K, P) with row stride ld from one image x (C, H, W) */
static void XNN_FN(unfold)(XNN_T *cols, size_t ld, const XNN_T *x, const xnn_node *n)
{
    const size_t H = n->in_h, W = n->in_w, Ho = n->out_h, Wo = n->out_w;
    const size_t kh = n->kh, kw = n->kw, sh = n->sh, sw = n->sw, ph = n->ph, pw = n->pw;
    for (size_t c = 0; c < n->in_c; c++)
        for (size_t i = 0; i < kh; i++)
            for (size_t j = 0; j < kw; j++) {
                XNN_T *row = cols + ((c * kh + i) * kw + j) * ld;
                size_t lo, hi;
                valid_range(Wo, sw, j, pw, W, &lo, &hi);
                for (size_t oh = 0; oh < Ho; oh++) {
                    XNN_T *dst = row + oh * Wo;
                    const size_t ihp = oh * sh + i;          /* ih + ph */
                    if (ihp < ph || ihp - ph >= H) {
                        memset(dst, 0, Wo * sizeof(XNN_T));
                        continue;
                    }
                    const XNN_T *src = x + (c * H + (ihp - ph)) * W;
                    for (size_t ow = 0; ow < lo; ow++) dst[ow] = 0;
                    if (sw == 1) {
                        if (hi > lo) memcpy(dst + lo, src + lo + j - pw, (hi - lo) * sizeof(XNN_T));
                    } else {
                        for (size_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw + j - pw];
                    }
                    for (size_t ow = hi; ow < Wo; ow++) dst[ow] = 0;
                }
            }
}

/* dx (C, H, W) = the fold of dcols (K, P) (row stride ld): every pixel sums
   the taps that read it, in the order (c, i, j, oh, ow); at stride 1 on a
   vector ISA each channel through its fold (gemm/fold_body.h, the same
   bits) */
static void XNN_FN(fold)(XNN_T *dx, const XNN_T *dcols, size_t ld, const xnn_node *n,
                         const XNN_FN(xnn_gemm_cfg) *cfg)
{
    const size_t H = n->in_h, W = n->in_w, Ho = n->out_h, Wo = n->out_w;
    const size_t kh = n->kh, kw = n->kw, sh = n->sh, sw = n->sw, ph = n->ph, pw = n->pw;
    if (sh == 1 && sw == 1 && cfg->fold_plane) {
        for (size_t c = 0; c < n->in_c; c++)
            cfg->fold_plane(dx + c * H * W, dcols + c * kh * kw * ld, ld, H, W, Ho, Wo, kh, kw,
                            ph, pw);
        return;
    }
    memset(dx, 0, n->in_c * H * W * sizeof(XNN_T));
    for (size_t c = 0; c < n->in_c; c++)
        for (size_t i = 0; i < kh; i++)
            for (size_t j = 0; j < kw; j++) {
                const XNN_T *row = dcols + ((c * kh + i) * kw + j) * ld;
                size_t lo, hi;
                valid_range(Wo, sw, j, pw, W, &lo, &hi);
                for (size_t oh = 0; oh < Ho; oh++) {
                    const size_t ihp = oh * sh + i;
                    if (ihp < ph || ihp - ph >= H) continue;
                    XNN_T *d = dx + (c * H + (ihp - ph)) * W;
                    const XNN_T *s = row + oh * Wo;
                    if (sw == 1) {
                        for (size_t ow = lo; ow < hi; ow++) d[ow + j - pw] += s[ow];
                    } else {
                        for (size_t ow = lo; ow < hi; ow++) d[ow * sw + j - pw] += s[ow];
                    }
                }
            }
}

static inline XNN_T XNN_FN(act1)(XNN_T v, int act)
{
    switch (act) {
    case XNN_ACT_RELU: return v < 0 ? 0 : v;
    case XNN_ACT_TANH: return XNN_M(tanh)(v);
    case XNN_ACT_SIGMOID:
        if (v >= 0) return 1 / (1 + XNN_M(exp)(-v));
        else {
            XNN_T e = XNN_M(exp)(v);
            return e / (1 + e);
        }
    default: return v;
    }
}

/* w[0, count) = act(w + *bias) in place (bias may be NULL: no addition,
   which would turn -0 into +0) */
static void XNN_FN(wide_act)(XNN_T *restrict w, size_t count, const XNN_T *bias, int act)
{
    const XNN_T b = bias ? *bias : 0;
    if (act == XNN_ACT_RELU && bias)
        for (size_t q = 0; q < count; q++) {
            const XNN_T v = w[q] + b;
            w[q] = v < 0 ? 0 : v;
        }
    else if (act == XNN_ACT_RELU)
        for (size_t q = 0; q < count; q++) w[q] = w[q] < 0 ? 0 : w[q];
    else {
        if (bias)
            for (size_t q = 0; q < count; q++) w[q] += b;
        if (act != XNN_ACT_LINEAR)
            for (size_t q = 0; q < count; q++) w[q] = XNN_FN(act1)(w[q], act);
    }
}

/* the rows (Ho, Wo) of the wide plane src (rows Wp apart) */
static void XNN_FN(wide_rows)(XNN_T *restrict y, const XNN_T *restrict src, size_t Wp, size_t Ho,
                              size_t Wo)
{
    for (size_t oh = 0; oh < Ho; oh++) memcpy(y + oh * Wo, src + oh * Wp, Wo * sizeof(XNN_T));
}

/* y (count) = act(z), z = y's values + *bias (bias may be NULL), in place;
   z stored too when not NULL. ReLU and linear in one pass (the same sum
   and maximum); the other activations after the bias. */
static void XNN_FN(act_out)(XNN_T *restrict y, XNN_T *restrict z, size_t count,
                            const XNN_T *bias, int act)
{
    if (act == XNN_ACT_RELU || act == XNN_ACT_LINEAR) {
        const XNN_T b = bias ? *bias : 0;
        const int relu = act == XNN_ACT_RELU;
        for (size_t q = 0; q < count; q++) {
            const XNN_T v = bias ? y[q] + b : y[q];
            if (z) z[q] = v;
            y[q] = relu && v < 0 ? 0 : v;
        }
        return;
    }
    if (z) {
        XNN_FN(wide_act)(y, count, bias, XNN_ACT_LINEAR);
        memcpy(z, y, count * sizeof(XNN_T));
        bias = NULL;
    }
    XNN_FN(wide_act)(y, count, bias, act);
}

/* y (Ho, Wo) = act(z), z = the wide rows src (Ho, Wp) + *bias (bias may
   be NULL), z stored too when not NULL: the rows copied out, then act_out
   over the whole plane */
static void XNN_FN(wide_out)(XNN_T *restrict y, XNN_T *restrict z, const XNN_T *restrict src,
                             size_t Wp, size_t Ho, size_t Wo, const XNN_T *bias, int act)
{
    XNN_FN(wide_rows)(y, src, Wp, Ho, Wo);
    XNN_FN(act_out)(y, z, Ho * Wo, bias, act);
}

/* One forward (or product) over images [0, m): Y = act(f(X; W) + b), Z =
   the pre-activation when not NULL. */
typedef struct {
    XNN_T *Y, *Z;
    char *work;
    const XNN_T *X, *W, *b;
    const xnn_node *n;
    conv_dims d;
    conv_scratch s;
    size_t m, groups, slices;
    int act;
    int status;             /* written by slices on failure only */
} XNN_FN(fwd_job);

static void XNN_FN(fwd_slice)(void *p, size_t t)
{
    XNN_FN(fwd_job) *jb = (XNN_FN(fwd_job) *)p;
    const conv_dims *d = &jb->d;
    const size_t g = jb->s.g, P = d->P, O = d->O, K = d->K;
    char *slice = jb->work + jb->s.slices + t * jb->s.slice;
    XNN_T *cols = (XNN_T *)slice, *zg = (XNN_T *)(slice + jb->s.zg);
    const size_t g0 = jb->groups * t / jb->slices, g1 = jb->groups * (t + 1) / jb->slices;
    for (size_t gi = g0; gi < g1; gi++) {
        const size_t n0 = gi * g, gn = jb->m - n0 < g ? jb->m - n0 : g;
        const size_t ld = gn * P;      /* the group's unfolded input */
        for (size_t i = 0; i < gn; i++)
            XNN_FN(unfold)(cols + i * P, ld, jb->X + (n0 + i) * d->in, jb->n);
        int st;
        const int fused = jb->act == XNN_ACT_RELU || jb->act == XNN_ACT_LINEAR;
        if (gn == 1 && (!jb->Z || jb->Z == jb->Y) && fused) {
            /* one image: its (O, P) output is NCHW already */
            const XNN_FN(xnn_epi) e = {jb->b, 1, jb->act == XNN_ACT_RELU ? XNN_EPI_RELU : 0,
                                       NULL, NULL, NULL};
            st = XNN_FN(xnn_gemm_strided)(jb->Y + n0 * d->out, (ptrdiff_t)P, jb->W,
                                          (ptrdiff_t)K, 1, cols, (ptrdiff_t)ld, 1, 0, O, P, K,
                                          &e);
            if (st != XNN_OK) jb->status = st;
            continue;
        }
        const XNN_FN(xnn_epi) e = {jb->b, 1, XNN_EPI_NONE, NULL, NULL, NULL};
        st = XNN_FN(xnn_gemm_strided)(zg, (ptrdiff_t)(gn * P), jb->W, (ptrdiff_t)K, 1, cols,
                                      (ptrdiff_t)ld, 1, 0, O, gn * P, K, jb->b ? &e : NULL);
        if (st != XNN_OK) {
            jb->status = st;
            continue;
        }
        /* scatter (O, gn P) to NCHW with the activation */
        for (size_t i = 0; i < gn; i++)
            for (size_t o = 0; o < O; o++)
                XNN_FN(wide_out)(jb->Y + (n0 + i) * d->out + o * P,
                                 jb->Z && jb->Z != jb->Y ? jb->Z + (n0 + i) * d->out + o * P
                                                         : NULL,
                                 zg + o * gn * P + i * P, P, 1, P, NULL, jb->act);
    }
}

/* ---- the direct path ---- */

/* xp (C planes (Hp, Wp), ldx apart; xlen elements) = image x zero-padded */
static void XNN_FN(pad_image)(XNN_T *xp, const XNN_T *x, const xnn_node *n, const direct_geo *g)
{
    const size_t H = n->in_h, W = n->in_w;
    memset(xp, 0, g->xlen * sizeof(XNN_T));
    for (size_t c = 0; c < n->in_c; c++)
        for (size_t h = 0; h < H; h++)
            memcpy(xp + c * g->ldx + (h + n->ph) * g->Wp + n->pw, x + (c * H + h) * W,
                   W * sizeof(XNN_T));
}

typedef struct {
    XNN_T *out, *Z, *dwt;      /* Y or dX; Z (forward) or NULL; dW's sums */
    XNN_T *dbl;                /* dW: db's lanes (O, 16), or NULL */
    char *work;
    const XNN_T *in, *W, *b;   /* X or dZ; W or Wf; b */
    const XNN_T *relu, *A, *X; /* dX: mask and factor; dW: the input */
    const xnn_node *n;
    const xnn_node *pool;      /* the max pooling after it, or NULL */
    int32_t *arg;              /* forward: that pooling's arg-max, or NULL */
    const int32_t *parg;       /* dX: in is the dY of the pooling over the ReLU, to parg */
    const XNN_FN(xnn_gemm_cfg) *cfg;
    direct_geo g;
    wino_geo wg;               /* Winograd tiles: their geometry and */
    XNN_T *U;                  /* transformed weights (16, O, C) */
    int own_u;                 /* each slice transforms its channels' U first */
    int dx;                    /* tiles of dX: finished as dX (relu, A, absolute) */
    size_t m, slices, blocks;
    int act, absolute;
} XNN_FN(direct_job);

/* channel o of image i from its wide plane w (rows ld apart): Y = act(w +
   b) and Z = w + b (when Z), or Y = the max pooling of act(w + b) and its
   arg-max (when arg); w is overwritten */
static void XNN_FN(finish_plane)(const XNN_FN(direct_job) *jb, size_t i, size_t o, XNN_T *w,
                                 size_t ld)
{
    const xnn_node *n = jb->n;
    const size_t O = n->out_c, P = n->out_h * n->out_w, out = O * P;
    const XNN_T *bo = jb->b ? jb->b + o : NULL;
    if (jb->pool) {
        /* pooled straight from the wide rows */
        const size_t pp = xnn_node_out(jb->pool) / O;
        XNN_T *yo = jb->out + (i * O + o) * pp;
        if (!jb->arg && (jb->act == XNN_ACT_RELU || jb->act == XNN_ACT_LINEAR)) {
            /* z + b and the ReLU never decrease and the sums are never -0, so
               the maximum of act(z + b) is act(max z + b): the same values,
               on a quarter of them (the arg-max of training may not move) */
            XNN_FN(xnn_maxpool_plane)(yo, NULL, w, ld, jb->pool, NULL);
            XNN_FN(wide_act)(yo, pp, bo, jb->act);
        } else if (jb->act == XNN_ACT_RELU && bo) {
            /* the ReLU applied as the pooling reads the rows */
            XNN_FN(xnn_maxpool_plane)(yo, jb->arg ? jb->arg + (i * O + o) * pp : NULL, w, ld,
                                      jb->pool, bo);
        } else {
            /* the rows and columns the pooling reads */
            const size_t rows = (jb->pool->out_h - 1) * jb->pool->sh + jb->pool->kh;
            const size_t cols = (jb->pool->out_w - 1) * jb->pool->sw + jb->pool->kw;
            XNN_FN(wide_act)(w, (rows - 1) * ld + cols, bo, jb->act);
            XNN_FN(xnn_maxpool_plane)(yo, jb->arg ? jb->arg + (i * O + o) * pp : NULL, w, ld,
                                      jb->pool, NULL);
        }
    } else {
        XNN_FN(wide_out)(jb->out + i * out + o * P,
                         jb->Z && jb->Z != jb->out ? jb->Z + i * out + o * P : NULL, w, ld,
                         n->out_h, n->out_w, bo, jb->act);
    }
}

/* the items [k0, k1) of slice t of a forward: I = m blocks items, item k =
   image k / blocks times chunk k % blocks of the output channels */
static void XNN_FN(items_of)(const XNN_FN(direct_job) *jb, size_t t, size_t *k0, size_t *k1)
{
    const size_t items = jb->m * jb->blocks;
    *k0 = items * t / jb->slices;
    *k1 = items * (t + 1) / jb->slices;
}

/* item k's image i and channels [o0, o1) (whole blocks of q): 0 if none */
static int XNN_FN(item_of)(const XNN_FN(direct_job) *jb, size_t k, size_t q, size_t *i,
                           size_t *o0, size_t *o1)
{
    *i = k / jb->blocks;
    chunk_of(jb->n->out_c, k % jb->blocks, jb->blocks, q, o0, o1);
    return *o0 < *o1;
}

/* forward of the items [I t / T, I (t + 1) / T), item = image i times
   chunk cb of nb of the output channels (nb > 1 when there are fewer
   images than threads) */
static void XNN_FN(direct_fwd_slice)(void *p, size_t t)
{
    XNN_FN(direct_job) *jb = (XNN_FN(direct_job) *)p;
    const xnn_node *n = jb->n;
    const direct_geo *g = &jb->g;
    const size_t in = n->in_c * n->in_h * n->in_w, K = n->in_c * n->kh * n->kw;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *xp = (XNN_T *)slice, *yw = (XNN_T *)(slice + align64(g->xlen * sizeof(XNN_T)));
    size_t k0, k1, padded = (size_t)-1;
    XNN_FN(items_of)(jb, t, &k0, &k1);
    for (size_t k = k0; k < k1; k++) {
        size_t i, o0, o1;
        if (!XNN_FN(item_of)(jb, k, 4, &i, &o0, &o1)) continue;
        if (padded != i) {
            XNN_FN(pad_image)(xp, jb->in + i * in, n, g);
            padded = i;
        }
        jb->cfg->conv_wide(yw, g->nq, xp, g->ldx, g->Wp, jb->W + o0 * K, o1 - o0, n->in_c, n->kh,
                           n->kw, g->nq);
        for (size_t o = o0; o < o1; o++)
            XNN_FN(finish_plane)(jb, i, o, yw + (o - o0) * g->nq, g->Wp);
    }
}

/* dx (len) of every path, made: times [relu > 0] when relu, times A when
   A, then |.| when absolute */
static void XNN_FN(finish_dx)(XNN_T *dx, const XNN_T *relu, const XNN_T *A, int absolute,
                              size_t len)
{
    if (relu)
        for (size_t q = 0; q < len; q++) dx[q] = relu[q] > 0 ? dx[q] : 0;
    if (A)
        for (size_t q = 0; q < len; q++) dx[q] *= A[q];
    if (absolute)
        for (size_t q = 0; q < len; q++) dx[q] = XNN_M(fabs)(dx[q]);
}

/* the max pooling p's backward of one image's dy (C, Po) to its arg-max a
 * (C, Po), windows apart (pool_apart), through the ReLU whose output p
 * pools (pool_back_ok): set into the zeroed buffer d, channels last,
 * element (c, h, w) of the pooling's input at d[c + (h + ah) rs + (w + aw)
 * es] (planes go through xnn_maxunpool_plane). Each arg-max gets 0 + dy,
 * the bits layers/pool.c's backward writes there (a < 0, the ReLU's zero,
 * keeps the buffer's 0), without the pooling's dX (C, H, W) in memory.
 * Kept out of line: inlined, it changed the register use of the slices'
 * loops that never call it. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void XNN_FN(unpool)(XNN_T *restrict d, size_t rs, size_t es, size_t ah, size_t aw,
                           const XNN_T *restrict dy, const int32_t *restrict a,
                           const xnn_node *p)
{
#if XNN_IS_F32
    typedef uint32_t bits;
#else
    typedef uint64_t bits;
#endif
    const size_t C = p->in_c, Wi = p->in_w, Ho = p->out_h, Wo = p->out_w, kh = p->kh;
    for (size_t c = 0; c < C; c++) {
        for (size_t oh = 0; oh < Ho; oh++) {
            const size_t q0 = (c * Ho + oh) * Wo;
            XNN_T *restrict row = d + c + (oh * p->sh + ah) * rs + aw * es;
            /* k: the arg-max from the window row's start in the pooling's
               input, at row dh of the window and column k - dh Wi */
            const size_t base = oh * p->sh * Wi;
            for (size_t ow = 0; ow < Wo; ow++) {
                const int32_t v = a[q0 + ow], neg = -(int32_t)(v < 0);
                const size_t k = (size_t)(v ^ neg) - base;
                size_t dh = k >= Wi;
                for (size_t r = 2; r < kh; r++) dh += k >= r * Wi;
                bits b;
                memcpy(&b, &dy[q0 + ow], sizeof b);
                /* a < 0 sets 0 + 0: a mask on dy's bits (the ReLU's
                   pattern, which no branch predicts) */
                b &= (bits)0 - (bits)!neg;
                XNN_T e;
                memcpy(&e, &b, sizeof e);
                row[dh * rs + (k - dh * Wi) * es] = (XNN_T)0 + e;
            }
        }
    }
}

/* dx (C, H, W) of one image = the wide rows xw (C planes nqd apart, rows Wq
   apart), finished */
static void XNN_FN(dx_out)(XNN_T *dx, const XNN_T *xw, const xnn_node *n, const direct_geo *g,
                           const XNN_T *relu, const XNN_T *A, int absolute)
{
    const size_t C = n->in_c, H = n->in_h, W = n->in_w;
    for (size_t c = 0; c < C; c++)
        for (size_t h = 0; h < H; h++)
            memcpy(dx + (c * H + h) * W, xw + c * g->nqd + h * g->Wq, W * sizeof(XNN_T));
    XNN_FN(finish_dx)(dx, relu, A, absolute, C * H * W);
}

/* dX of images [m t / T, m (t + 1) / T): the wide loops on padded dZ with Wf */
static void XNN_FN(direct_dx_slice)(void *p, size_t t)
{
    XNN_FN(direct_job) *jb = (XNN_FN(direct_job) *)p;
    const xnn_node *n = jb->n;
    const direct_geo *g = &jb->g;
    const size_t C = n->in_c, H = n->in_h, W = n->in_w, O = n->out_c;
    const size_t Ho = n->out_h, Wo = n->out_w, in = C * H * W;
    const size_t out = jb->parg ? xnn_node_out(jb->pool) : O * Ho * Wo;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *dp = (XNN_T *)slice, *xw = (XNN_T *)(slice + align64(g->dlen * sizeof(XNN_T)));
    /* the padding once: each image sets every plane's inside */
    memset(dp, 0, g->dlen * sizeof(XNN_T));
    const size_t i0 = jb->m * t / jb->slices, i1 = jb->m * (t + 1) / jb->slices;
    for (size_t i = i0; i < i1; i++) {
        const XNN_T *dz = jb->in + i * out;
        if (jb->parg) {
            /* the pooling's backward (through the ReLU it pools) set into
               the planes */
            const size_t Po = jb->pool->out_h * jb->pool->out_w;
            for (size_t o = 0; o < O; o++)
                XNN_FN(xnn_maxunpool_plane)(dp + o * g->ldd + g->ah * g->Wq + g->aw, g->Wq,
                                            dz + o * Po, jb->parg + i * out + o * Po, jb->pool,
                                            1);
        } else {
            for (size_t o = 0; o < O; o++)
                for (size_t oh = 0; oh < Ho; oh++)
                    memcpy(dp + o * g->ldd + (oh + g->ah) * g->Wq + g->aw,
                           dz + (o * Ho + oh) * Wo, Wo * sizeof(XNN_T));
        }
        jb->cfg->conv_wide(xw, g->nqd, dp, g->ldd, g->Wq, jb->W, C, O, n->kh, n->kw, g->nqd);
        XNN_FN(dx_out)(jb->out + i * in, xw, n, g, jb->relu ? jb->relu + i * in : NULL,
                       jb->A ? jb->A + i * in : NULL, jb->absolute);
    }
}

/* dW's sums for the blocks of 4 output channels [B t / T, B (t + 1) / T),
   every image in order; and db's lanes of those channels (as conv_db adds
   them) from each plane of dZ while it is in cache */
static void XNN_FN(direct_dw_slice)(void *p, size_t t)
{
    XNN_FN(direct_job) *jb = (XNN_FN(direct_job) *)p;
    const xnn_node *n = jb->n;
    const direct_geo *g = &jb->g;
    const size_t O = n->out_c, Ho = n->out_h, Wo = n->out_w, P = Ho * Wo;
    const size_t K = n->in_c * n->kh * n->kw, in = n->in_c * n->in_h * n->in_w;
    const size_t b0 = jb->blocks * t / jb->slices, b1 = jb->blocks * (t + 1) / jb->slices;
    const size_t o0 = 4 * b0, o1 = 4 * b1 < O ? 4 * b1 : O;
    if (o0 >= o1) return;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *xp = (XNN_T *)slice, *zw = (XNN_T *)(slice + align64(g->xlen * sizeof(XNN_T)));
    memset(zw, 0, (o1 - o0) * g->nq * sizeof(XNN_T));   /* the dropped columns stay 0 */
    for (size_t i = 0; i < jb->m; i++) {
        XNN_FN(pad_image)(xp, jb->X + i * in, n, g);
        for (size_t o = o0; o < o1; o++) {
            const XNN_T *dz = jb->in + (i * O + o) * P;
            XNN_T *zo = zw + (o - o0) * g->nq;
            /* rows of a few dozen elements: copied in place, not called */
            for (size_t oh = 0; oh < Ho; oh++)
                for (size_t ow = 0; ow < Wo; ow++) zo[oh * g->Wp + ow] = dz[oh * Wo + ow];
            if (jb->dbl) XNN_FN(xnn_lanes_add)(jb->dbl + 16 * o, dz, P);
        }
        jb->cfg->conv_dw(jb->dwt + o0 * K, zw, g->nq, xp, g->ldx, g->Wp, o1 - o0, n->in_c,
                         n->kh, n->kw, g->nq);
    }
}

static size_t XNN_FN(slices_of)(size_t work, int threads)
{
    size_t t = (size_t)(threads > 0 ? threads : 1);
    return t < work ? t : (work ? work : 1);
}

/* ---- Winograd tiles ---- */

/* U[xi][c][o] = (G g G^T)[xi] of g = W[o][c] (3, 3) for o in [o0, o1),
   rows Op long (the lanes from O to Op zero, made with the last channel),
   U_xi us apart; flip: of g = W[c][o] turned by 180 degrees, W (C, O, 3, 3)
   (the transposed convolution: dX) */
static void XNN_FN(wino_weights)(XNN_T *restrict U, const XNN_T *W, size_t O, size_t C,
                                 size_t o0, size_t o1, int flip)
{
    const XNN_FN(xnn_gemm_cfg) *cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    const size_t Op = round_q(O, sizeof(XNN_T)), cs = wino_us(C, O, sizeof(XNN_T));
    const size_t ob = 64 / sizeof(XNN_T);
    /* blocks of a cache line of U's channels: the block's 3 x 3 kernels of
       channel c gathered lane by lane (their rows of W stay in L1), then
       transformed as whole vectors (gemm/conv_body.h) */
    for (size_t b0 = o0; b0 < o1; b0 += ob) {
        const size_t nb = o1 - b0 < ob ? o1 - b0 : ob;
        for (size_t c = 0; c < C; c++) {
            XNN_T g[9 * 16];
            for (size_t l = 0; l < nb; l++)
                for (int k = 0; k < 9; k++)
                    g[k * ob + l] = flip ? W[(c * O + b0 + l) * 9 + 8 - k]
                                         : W[((b0 + l) * C + c) * 9 + k];
            cfg->wino_w(U + c * Op + b0, g, cs, nb);
        }
    }
    if (o1 == O)
        for (int xi = 0; xi < 16; xi++)
            for (size_t c = 0; c < C; c++)
                for (size_t o = O; o < Op; o++) U[xi * cs + c * Op + o] = 0;
}

/* xh (Hp, Wp, C) = image x (C, H, W) zero-padded, channels last (the rows
   and columns past the tiles left out) */
static void XNN_FN(wino_pad)(XNN_T *restrict xh, const XNN_T *restrict x, const xnn_node *n,
                             const wino_geo *g)
{
    const size_t C = n->in_c, H = n->in_h, W = n->in_w;
    memset(xh, 0, g->Hp * g->Wp * C * sizeof(XNN_T));
    const size_t h1 = H + n->ph < g->Hp ? H : g->Hp - n->ph;
    const size_t w1 = W + n->pw < g->Wp ? W : g->Wp - n->pw;
    XNN_FN(xnn_gemm_config)(xnn_isa())->chlast(xh + (n->ph * g->Wp + n->pw) * C, g->Wp * C, x,
                                              W, H * W, C, h1, w1);
}

/* the forward of the items [I t / T, I (t + 1) / T) as Winograd tiles,
   item = image i times chunk cb of nb of the output channels */
static void XNN_FN(wino_slice)(void *p, size_t t)
{
    XNN_FN(direct_job) *jb = (XNN_FN(direct_job) *)p;
    const xnn_node *n = jb->n;
    const wino_geo *g = &jb->wg;
    const size_t C = n->in_c, O = n->out_c, Op = g->Op, T = g->T;
    const size_t in = jb->parg ? xnn_node_out(jb->pool) : C * n->in_h * n->in_w;
    const size_t ld = 2 * g->tw;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *xh = (XNN_T *)slice, *V = (XNN_T *)(slice + g->v), *M = (XNN_T *)(slice + g->mo);
    XNN_T *Y4 = (XNN_T *)(slice + g->tmp), *planes = (XNN_T *)(slice + g->po);
    /* pooled from the tiles themselves: each tile one window, and the
       maximum taken before the bias and activation (see finish_plane) */
    const int tile_pool = !jb->dx && wino_tile_pool(jb->pool) && !jb->arg &&
                          (jb->act == XNN_ACT_RELU || jb->act == XNN_ACT_LINEAR);
    size_t k0, k1, ready = (size_t)-1;
    XNN_FN(items_of)(jb, t, &k0, &k1);
    for (size_t k = k0; k < k1; k++) {
        size_t i, o0, o1;   /* whole blocks of lanes */
        if (!XNN_FN(item_of)(jb, k, XNN_CONV_BYTES / sizeof(XNN_T), &i, &o0, &o1)) continue;
        if (jb->own_u) XNN_FN(wino_weights)(jb->U, jb->W, O, C, o0, o1, jb->dx);
        if (ready != i) {
            if (jb->parg) {
                /* dX from the pooling's dY: its backward set into the
                   padded image, channels last (the transposed node's
                   rows and columns, H + ph <= Hp, always in it) */
                memset(xh, 0, g->Hp * g->Wp * C * sizeof(XNN_T));
                XNN_FN(unpool)(xh, g->Wp * C, C, n->ph, n->pw, jb->in + i * in, jb->parg + i * in,
                               jb->pool);
            } else {
                XNN_FN(wino_pad)(xh, jb->in + i * in, n, g);
            }
            jb->cfg->wino_in(V, xh, g->Wp, C, g->th, g->tw, T * C);
            ready = i;
            /* the next image into L2 while this one's products run */
            if (i + 1 < jb->m) fetch_l2(jb->in + (i + 1) * in, in * sizeof(XNN_T));
        }
        const size_t nq = round_q(o1 - o0, sizeof(XNN_T));
        for (int xi = 0; xi < 16; xi++)
            jb->cfg->conv_wide(M + xi * T * Op + o0, Op, jb->U + xi * g->us + o0, Op, 0,
                               V + xi * T * C, T, C, 1, 1, nq);
        /* Y4 (2 th, 2 tw, Op): the tiles' outputs channels last */
        jb->cfg->wino_out(Y4, M, T, g->tw, Op, o0, o1);
        const size_t rs = 2 * g->tw * Op;
        if (tile_pool) {
            for (size_t tt = 0; tt < T; tt++) {
                const XNN_T *y = Y4 + (2 * (tt / g->tw) * 2 * g->tw + 2 * (tt % g->tw)) * Op;
                XNN_T *yo = jb->out + i * O * T + tt;
                for (size_t o = o0; o < o1; o++) {
                    const XNN_T a = y[o] > y[Op + o] ? y[o] : y[Op + o];
                    const XNN_T e = y[rs + o] > y[rs + Op + o] ? y[rs + o] : y[rs + Op + o];
                    XNN_T v = (a > e ? a : e) + (jb->b ? jb->b[o] : 0);
                    if (jb->act == XNN_ACT_RELU) v = v < 0 ? 0 : v;
                    yo[o * T] = v;
                }
            }
            continue;
        }
        const size_t HW = n->out_h * n->out_w;
        if (!jb->dx && jb->pool) {
            jb->cfg->chfirst(planes + o0 * 4 * T, ld, 4 * T, Y4 + o0, rs, Op, o1 - o0,
                             2 * g->th, 2 * g->tw);
            for (size_t o = o0; o < o1; o++)
                XNN_FN(finish_plane)(jb, i, o, planes + o * 4 * T, ld);
            continue;
        }
        /* straight into the planes of Y (or dX): the (H, W) inside the tiles */
        jb->cfg->chfirst(jb->out + (i * O + o0) * HW, n->out_w, HW, Y4 + o0, rs, Op, o1 - o0,
                         n->out_h, n->out_w);
        for (size_t o = o0; o < o1; o++) {
            const size_t q0 = (i * O + o) * HW;
            if (!jb->dx) {
                /* Y = act(Z), Z = the sums + b, over the whole plane */
                XNN_FN(act_out)(jb->out + q0, jb->Z && jb->Z != jb->out ? jb->Z + q0 : NULL, HW,
                                jb->b ? jb->b + o : NULL, jb->act);
                continue;
            }
            /* channel o of dX (made above), finished */
            XNN_FN(finish_dx)(jb->out + q0, jb->relu ? jb->relu + q0 : NULL,
                              jb->A ? jb->A + q0 : NULL, jb->absolute, HW);
        }
    }
}

typedef struct {
    XNN_T *U;
    const XNN_T *W;
    size_t O, C, slices;
    int flip;
} XNN_FN(wino_u_job);

static void XNN_FN(wino_u_slice)(void *p, size_t t)
{
    XNN_FN(wino_u_job) *jb = (XNN_FN(wino_u_job) *)p;
    size_t o0, o1;
    chunk_of(jb->O, t, jb->slices, XNN_CONV_BYTES / sizeof(XNN_T), &o0, &o1);
    if (o0 < o1) XNN_FN(wino_weights)(jb->U, jb->W, jb->O, jb->C, o0, o1, jb->flip);
}

/* U of W for node n (flip: W of the node n transposes), the output
   channels split among threads */
static void XNN_FN(wino_prepare)(XNN_T *U, const XNN_T *W, const xnn_node *n, int flip,
                                 int threads)
{
    XNN_FN(wino_u_job) jb = {U, W, n->out_c, n->in_c, 0, flip};
    jb.slices = XNN_FN(slices_of)(n->out_c, threads);
    xnn_parallel_for(XNN_FN(wino_u_slice), &jb, jb.slices, threads);
}

/* dX (m, C, H, W) of node n from dZ as Winograd tiles of the transposed
   convolution (wino_transposed), times [relu > 0], times A, then |.|; U
   = prep when not NULL (made from W); parg: dZ is the dY (m, out of pool)
   of the max pooling after node n, to its arg-max parg (unpool) */
static int XNN_FN(wino_dx)(XNN_T *dX, void *work, const XNN_T *dZ, const XNN_T *W,
                           const XNN_T *relu, const XNN_T *A, int absolute, const xnn_node *n,
                           int threads, size_t m, const XNN_T *prep, const xnn_node *pool,
                           const int32_t *parg)
{
    const xnn_node t = wino_transposed(n);
    XNN_FN(direct_job) jb = {0};
    jb.pool = pool, jb.parg = parg;
    jb.out = dX, jb.work = (char *)work, jb.in = dZ, jb.W = W, jb.relu = relu, jb.A = A;
    jb.absolute = absolute, jb.n = &t, jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    jb.act = XNN_ACT_LINEAR, jb.m = m, jb.dx = 1;
    const size_t T = (size_t)(threads > 0 ? threads : 1);
    jb.blocks = m >= T ? 1 : (T + m - 1) / m;
    jb.slices = XNN_FN(slices_of)(m * jb.blocks, threads);
    jb.wg = wino_of(&t, NULL, sizeof(XNN_T));
    jb.U = prep ? (XNN_T *)prep : (XNN_T *)work;
    jb.own_u = !prep && m == 1;
    if (!prep && m > 1) XNN_FN(wino_prepare)(jb.U, W, &t, 1, threads);
    xnn_parallel_for(XNN_FN(wino_slice), &jb, jb.slices, threads);
    return XNN_OK;
}

/* db[o] = (db[o] +) the total of lanes a (16, overwritten) */
static void XNN_FN(db_total)(XNN_T *db, XNN_T *a, int add)
{
    const XNN_T sum = XNN_FN(xnn_lanes_total)(a);
    *db = add ? *db + sum : sum;
}

/* dW (O, C, 3, 3) (+)= the sum over the images and tiles of
 *   G^T [(A z A^T) .* (B^T d B)] G        (z: a tile's 2 x 2 of dZ)
 * Each thread sums whole chunks of groups of images (wino_dw_geo): a
 * group's tiles of X and of dZ transformed into the thread's V and Dz,
 * then the 16 products
 *   S_k,xi (C, O) (+)= V_xi^T (C, tiles) Dz_xi (tiles, O)
 * (each in one GEMM) into the chunk's sum, group after group, and db's
 * lanes of the chunk's images; then dW from M = S_0 + S_1 + ... in chunk
 * order, its channels among the threads, and db from the chunks' lanes
 * added in order. No sum is split by the thread count. */
typedef struct {
    const XNN_T *X, *dZ;
    XNN_T *dW, *db;
    const xnn_node *n;
    const XNN_FN(xnn_gemm_cfg) *cfg;
    wino_dw_geo w;
    char *work;
    size_t m, slices;       /* images; slices of the pass */
    int add;
    int status;             /* written by slices on failure only */
} XNN_FN(wdw_job);

static void XNN_FN(wdw_chunks)(void *p, size_t t)
{
    XNN_FN(wdw_job) *jb = (XNN_FN(wdw_job) *)p;
    const xnn_node *n = jb->n;
    const wino_dw_geo *w = &jb->w;
    const wino_geo *g = &w->g;
    const size_t C = n->in_c, O = n->out_c, T = g->T, m = jb->m;
    const size_t Ho = n->out_h, Wo = n->out_w, in = C * n->in_h * n->in_w, out = O * Ho * Wo;
    char *slice = jb->work + w->slices + t * w->slice;
    XNN_T *xh = (XNN_T *)slice, *zh = (XNN_T *)(slice + w->zh);
    XNN_T *Vg = (XNN_T *)(slice + w->vg), *Dg = (XNN_T *)(slice + w->dg);
    for (size_t k = w->chunks * t / jb->slices; k < w->chunks * (t + 1) / jb->slices; k++) {
        XNN_T *S = (XNN_T *)(jb->work + k * w->sum), *lanes = (XNN_T *)((char *)S + w->lanes);
        if (jb->db) memset(lanes, 0, 16 * O * sizeof(XNN_T));
        const size_t g0 = w->groups * k / w->chunks, g1 = w->groups * (k + 1) / w->chunks;
        for (size_t gi = g0; gi < g1; gi++) {
            const size_t i0 = gi * w->group, gn = m - i0 < w->group ? m - i0 : w->group;
            const size_t Tg = gn * T;
            for (size_t i = i0; i < i0 + gn; i++) {
                if (i + 1 < m) { /* the next image's X and dZ while this one's copies run */
                    fetch_l2(jb->X + (i + 1) * in, in * sizeof(XNN_T));
                    fetch_l2(jb->dZ + (i + 1) * out, out * sizeof(XNN_T));
                }
                XNN_FN(wino_pad)(xh, jb->X + i * in, n, g);
                jb->cfg->wino_in(Vg + (i - i0) * T * C, xh, g->Wp, C, g->th, g->tw, Tg * C);
                /* dZ channels last over the tiles' 2 th x 2 tw grid, 0 past it */
                memset(zh, 0, 4 * T * O * sizeof(XNN_T));
                jb->cfg->chlast(zh, 2 * g->tw * O, jb->dZ + i * out, Wo, Ho * Wo, O, Ho, Wo);
                jb->cfg->wino_dz(Dg + (i - i0) * T * O, zh, O, g->th, g->tw, Tg * O);
                for (size_t o = 0; jb->db && o < O; o++)
                    XNN_FN(xnn_lanes_add)(lanes + 16 * o, jb->dZ + i * out + o * Ho * Wo, Ho * Wo);
            }
            for (size_t xi = 0; xi < 16; xi++) {
                const int st = XNN_FN(xnn_gemm_strided)(
                    S + xi * w->ps, (ptrdiff_t)O, Vg + xi * Tg * C, 1, (ptrdiff_t)C,
                    Dg + xi * Tg * O, (ptrdiff_t)O, 1, gi == g0 ? 0 : 1, C, O, Tg, NULL);
                if (st != XNN_OK) jb->status = st;
            }
        }
    }
}

/* dW[o][c] (+)= G^T M G for the channels c of slice t, M[xi] the sum of
   the chunks' S_k[xi][c][o] in chunk order;
   G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1] */
static void XNN_FN(wdw_finish)(void *p, size_t t)
{
    XNN_FN(wdw_job) *jb = (XNN_FN(wdw_job) *)p;
    const wino_dw_geo *w = &jb->w;
    const size_t C = jb->n->in_c, O = jb->n->out_c, ps = w->ps;
    const XNN_T h = (XNN_T)0.5;
    for (size_t c = C * t / jb->slices; c < C * (t + 1) / jb->slices; c++)
        for (size_t o = 0; o < O; o++) {
            XNN_T M[4][4], r[3][4];
            for (size_t xi = 0; xi < 16; xi++) {
                const XNN_T *s = (const XNN_T *)jb->work + xi * ps + c * O + o;
                XNN_T v = s[0];
                for (size_t k = 1; k < w->chunks; k++) v += s[k * (w->sum / sizeof(XNN_T))];
                M[xi / 4][xi % 4] = v;
            }
            for (int b = 0; b < 4; b++) {
                r[0][b] = M[0][b] + (M[1][b] + M[2][b]) * h;
                r[1][b] = (M[1][b] - M[2][b]) * h;
                r[2][b] = (M[1][b] + M[2][b]) * h + M[3][b];
            }
            XNN_T *d = jb->dW + (o * C + c) * 9;
            for (int i = 0; i < 3; i++) {
                const XNN_T v[3] = {r[i][0] + (r[i][1] + r[i][2]) * h, (r[i][1] - r[i][2]) * h,
                                    (r[i][1] + r[i][2]) * h + r[i][3]};
                for (int j = 0; j < 3; j++) d[3 * i + j] = jb->add ? d[3 * i + j] + v[j] : v[j];
            }
        }
}

static int XNN_FN(wino_dw)(XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ, const XNN_T *X,
                           const xnn_node *n, int add, int threads, size_t m)
{
    XNN_FN(wdw_job) jb = {0};
    jb.X = X, jb.dZ = dZ, jb.dW = dW, jb.db = db, jb.n = n, jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    jb.w = wino_dw_of(n, m, sizeof(XNN_T));
    jb.work = (char *)work, jb.m = m, jb.add = add, jb.status = XNN_OK;
    jb.slices = XNN_FN(slices_of)(jb.w.chunks, threads);
    xnn_parallel_for(XNN_FN(wdw_chunks), &jb, jb.slices, threads);
    if (jb.status != XNN_OK) return jb.status;
    jb.slices = XNN_FN(slices_of)(n->in_c, threads);
    xnn_parallel_for(XNN_FN(wdw_finish), &jb, jb.slices, threads);
    for (size_t o = 0; db && o < n->out_c; o++) {
        XNN_T a[16] = {0};
        for (size_t k = 0; k < jb.w.chunks; k++) {
            const XNN_T *l = (const XNN_T *)(jb.work + k * jb.w.sum + jb.w.lanes) + 16 * o;
            for (int q = 0; q < 16; q++) a[q] = k ? a[q] + l[q] : l[q];
        }
        XNN_FN(db_total)(db + o, a, add);
    }
    return XNN_OK;
}

/* the forward and product_tiles (tiles: Winograd tiles where they apply,
   with U = prep when not NULL) or the product (tiles 0: direct sums, whose
   rounding never turns a sum of products of one sign to the other sign) */
static int XNN_FN(conv_run)(XNN_T *Y, XNN_T *Z, void *work, const XNN_T *X, const XNN_T *W,
                            const XNN_T *b, int act, const xnn_node *n, const xnn_node *pool,
                            int32_t *arg, int flags, int threads, size_t m, int tiles,
                            const XNN_T *prep)
{
    if (direct_fwd(n)) {
        XNN_FN(direct_job) jb = {0};
        jb.out = Y, jb.Z = Z, jb.pool = pool, jb.arg = arg, jb.work = (char *)work, jb.in = X;
        jb.W = W;
        jb.b = b, jb.n = n, jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa()), jb.act = act, jb.m = m;
        const size_t T = (size_t)(threads > 0 ? threads : 1);
        /* fewer images than threads: split the output channels too */
        jb.blocks = m >= T ? 1 : (T + m - 1) / m;
        jb.slices = XNN_FN(slices_of)(m * jb.blocks, threads);
        if (tiles && wino_fwd(n)) {
            jb.wg = wino_of(n, pool, sizeof(XNN_T));
            jb.U = prep ? (XNN_T *)prep : (XNN_T *)work;
            /* one image: each slice's channels are its own */
            jb.own_u = !prep && m == 1;
            if (!prep && m > 1) XNN_FN(wino_prepare)(jb.U, W, n, 0, threads);
            xnn_parallel_for(XNN_FN(wino_slice), &jb, jb.slices, threads);
            return XNN_OK;
        }
        jb.g = direct_of(n, sizeof(XNN_T));
        xnn_parallel_for(XNN_FN(direct_fwd_slice), &jb, jb.slices, threads);
        return XNN_OK;
    }
    XNN_FN(fwd_job) jb;
    jb.Y = Y, jb.Z = Z, jb.work = (char *)work;
    jb.X = X, jb.W = W, jb.b = b, jb.n = n, jb.act = act, jb.m = m, jb.status = XNN_OK;
    jb.d = dims_of(n);
    jb.s = scratch_of(n, m, flags, sizeof(XNN_T));
    jb.groups = (m + jb.s.g - 1) / jb.s.g;
    jb.slices = (size_t)(threads > 0 ? threads : 1);
    if (jb.slices > jb.groups) jb.slices = jb.groups;
    xnn_parallel_for(XNN_FN(fwd_slice), &jb, jb.slices, threads);
    return jb.status;
}

static size_t XNN_FN(conv_saved)(const xnn_node *n, size_t m, int flags)
{
    (void)n, (void)m, (void)flags;
    return 0;                 /* the backward reads the input again */
}

static size_t XNN_FN(conv_scratch)(const xnn_node *n, size_t m, int flags, int threads)
{
    return xnn_conv_scratch_bytes(n, m, flags, threads, sizeof(XNN_T));
}

static int XNN_FN(conv_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                                const xnn_node *n, int flags, int threads, size_t m)
{
    (void)saved;
    return XNN_FN(conv_run)(Y, Z, work, X, (const XNN_T *)n->W, (const XNN_T *)n->b, n->act, n,
                            NULL, NULL, flags, threads, m, 1, (const XNN_T *)n->prep);
}

static int XNN_FN(conv_product)(XNN_T *Z, void *work, const XNN_T *A, const XNN_T *W,
                                const XNN_T *b, const xnn_node *n, int threads, size_t m)
{
    return XNN_FN(conv_run)(Z, NULL, work, A, W, b, XNN_ACT_LINEAR, n, NULL, NULL, 0, threads,
                            m, 0, NULL);
}

static int XNN_FN(conv_product_tiles)(XNN_T *Z, void *work, const XNN_T *A, const XNN_T *W,
                                      const XNN_T *b, const xnn_node *n, int threads, size_t m)
{
    return XNN_FN(conv_run)(Z, NULL, work, A, W, b, XNN_ACT_LINEAR, n, NULL, NULL, 0, threads,
                            m, 1, NULL);
}

/* The backward over images [0, m), group by group: dX = fold(W^T dZ),
   then times [relu > 0] or times A, then |.| (when dX); the group's share
   of dW^T, cols_g . dZ_g^T, into part + gi K O (when part) */
typedef struct {
    XNN_T *dX, *part;
    char *work;
    const XNN_T *dZ, *Wt, *relu, *A, *X;
    const xnn_node *n;
    const XNN_FN(xnn_gemm_cfg) *cfg;
    conv_dims d;
    conv_scratch s;
    size_t m, groups, slices;
    int by_channel;           /* dX alone, fewer groups than slices: each slice
                                 makes its share of the input channels of every group */
    int absolute;
    int status;
} XNN_FN(bwd_job);

static void XNN_FN(bwd_slice)(void *p, size_t t)
{
    XNN_FN(bwd_job) *jb = (XNN_FN(bwd_job) *)p;
    const conv_dims *d = &jb->d;
    const size_t g = jb->s.g, P = d->P, O = d->O, K = d->K;
    char *slice = jb->work + jb->s.slices + t * jb->s.slice;
    XNN_T *dcols = (XNN_T *)slice, *dzg = (XNN_T *)(slice + jb->s.zg);
    size_t g0 = jb->groups * t / jb->slices, g1 = jb->groups * (t + 1) / jb->slices;
    /* the input channels [c0, c1) of dX: the rows [c0 kk, c1 kk) of dcols */
    const size_t C = jb->n->in_c, kk = jb->n->kh * jb->n->kw, HW = jb->n->in_h * jb->n->in_w;
    size_t c0 = 0, c1 = C;
    if (jb->by_channel) {
        g0 = 0, g1 = jb->groups;
        c0 = C * t / jb->slices, c1 = C * (t + 1) / jb->slices;
        if (c0 == c1) return;
    }
    xnn_node part_n = *jb->n;
    part_n.in_c = c1 - c0;
    for (size_t gi = g0; gi < g1; gi++) {
        const size_t n0 = gi * g, gn = jb->m - n0 < g ? jb->m - n0 : g;
        const XNN_T *src = jb->dZ + n0 * d->out;
        ptrdiff_t ldz = (ptrdiff_t)P;
        if (gn > 1 && !jb->by_channel) {
            /* gather the group's gradient as (O, gn P) (by channel: every
               slice would gather it, so each image is a product of its own) */
            for (size_t o = 0; o < O; o++)
                for (size_t i = 0; i < gn; i++)
                    memcpy(dzg + o * gn * P + i * P, src + i * d->out + o * P, P * sizeof(XNN_T));
            src = dzg;
            ldz = (ptrdiff_t)(gn * P);
        }
        int st;
        if (jb->part) {
            /* dW^T_g (K, O) = cols_g (K, gn P) . dZ_g^T */
            for (size_t i = 0; i < gn; i++)
                XNN_FN(unfold)(dcols + i * P, gn * P, jb->X + (n0 + i) * d->in, jb->n);
            st = XNN_FN(xnn_gemm_strided)(jb->part + gi * K * O, (ptrdiff_t)O, dcols,
                                          (ptrdiff_t)(gn * P), 1, src, 1, ldz, 0, K, O, gn * P,
                                          NULL);
            if (st != XNN_OK) jb->status = st;
        }
        if (!jb->dX) continue;
        const size_t parts = jb->by_channel ? gn : 1, cols = gn * P / parts;
        st = XNN_OK;
        for (size_t i = 0; i < parts && st == XNN_OK; i++)
            st = XNN_FN(xnn_gemm_strided)(dcols + i * cols, (ptrdiff_t)(gn * P),
                                          jb->Wt + c0 * kk * O, (ptrdiff_t)O, 1,
                                          src + i * d->out, ldz, 1, 0, (c1 - c0) * kk, cols, O,
                                          NULL);
        if (st != XNN_OK) {
            jb->status = st;
            continue;
        }
        for (size_t i = 0; i < gn; i++) {
            const size_t q0 = (n0 + i) * d->in + c0 * HW;
            XNN_T *dx = jb->dX + q0;
            XNN_FN(fold)(dx, dcols + i * P, gn * P, &part_n, jb->cfg);
            XNN_FN(finish_dx)(dx, jb->relu ? jb->relu + q0 : NULL, jb->A ? jb->A + q0 : NULL,
                              jb->absolute, (c1 - c0) * HW);
        }
    }
}

/* Wt (K, O) = W^T for W (O, K) */
static void XNN_FN(transpose_w)(XNN_T *Wt, const XNN_T *W, size_t O, size_t K)
{
    for (size_t o = 0; o < O; o++)
        for (size_t k = 0; k < K; k++) Wt[k * O + o] = W[o * K + k];
}

/* Wf (C, O, kh, kw) = W (O, C, kh, kw) with the taps flipped */
static void XNN_FN(flip_w)(XNN_T *Wf, const XNN_T *W, const xnn_node *n)
{
    const size_t C = n->in_c, O = n->out_c, kh = n->kh, kw = n->kw;
    for (size_t o = 0; o < O; o++)
        for (size_t c = 0; c < C; c++)
            for (size_t i = 0; i < kh; i++)
                for (size_t j = 0; j < kw; j++)
                    Wf[((c * O + o) * kh + i) * kw + j] =
                        W[((o * C + c) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)];
}

/* the GEMM path's backward: dX (or NULL) and, with part, the groups'
   shares of dW^T */
static int XNN_FN(gemm_back)(XNN_T *dX, XNN_T *part, void *work, const XNN_T *dZ,
                             const XNN_T *W, const XNN_T *X, const XNN_T *relu, const XNN_T *A,
                             int absolute, const xnn_node *n, int flags, int threads, size_t m)
{
    XNN_FN(bwd_job) jb;
    jb.dX = dX, jb.part = part, jb.work = (char *)work, jb.dZ = dZ, jb.relu = relu, jb.A = A;
    jb.X = X, jb.n = n, jb.m = m, jb.absolute = absolute, jb.status = XNN_OK;
    jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    jb.d = dims_of(n);
    jb.s = scratch_of(n, m, flags, sizeof(XNN_T));
    XNN_T *Wt = (XNN_T *)((char *)work + jb.s.wt);
    if (dX) XNN_FN(transpose_w)(Wt, W, jb.d.O, jb.d.K);
    jb.Wt = Wt;
    jb.groups = (m + jb.s.g - 1) / jb.s.g;
    jb.slices = (size_t)(threads > 0 ? threads : 1);
    jb.by_channel = !part && dX && jb.slices > jb.groups && jb.d.C >= jb.slices;
    if (!jb.by_channel && jb.slices > jb.groups) jb.slices = jb.groups;
    xnn_parallel_for(XNN_FN(bwd_slice), &jb, jb.slices, threads);
    return jb.status;
}

/* the U of node n's transposed convolution in its prepared weights, or NULL */
static const XNN_T *XNN_FN(dx_prep)(const xnn_node *n)
{
    return n->prep ? (const XNN_T *)((const char *)n->prep + wino_u_bytes(n, sizeof(XNN_T)))
                   : NULL;
}

/* dX of node n from dZ (or, parg not NULL, from the dY of the max pooling
   after it, pool_back_ok) */
static int XNN_FN(conv_dx)(XNN_T *dX, void *work, const XNN_T *dZ, const XNN_T *W,
                           const XNN_T *relu, const XNN_T *A, int absolute, const xnn_node *n,
                           int flags, int threads, size_t m, int tiles, const xnn_node *pool,
                           const int32_t *parg)
{
    if (tiles && wino_fwd(n))
        return XNN_FN(wino_dx)(dX, work, dZ, W, relu, A, absolute, n, threads, m,
                               W == n->W ? XNN_FN(dx_prep)(n) : NULL, pool, parg);
    if (use_direct(n)) {
        XNN_FN(direct_job) jb = {0};
        jb.pool = pool, jb.parg = parg;
        jb.g = direct_of(n, sizeof(XNN_T));
        XNN_T *Wf = (XNN_T *)work;
        XNN_FN(flip_w)(Wf, W, n);
        jb.out = dX, jb.work = (char *)work, jb.in = dZ, jb.W = Wf, jb.relu = relu, jb.A = A;
        jb.absolute = absolute, jb.n = n, jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa()), jb.m = m;
        jb.slices = XNN_FN(slices_of)(m, threads);
        xnn_parallel_for(XNN_FN(direct_dx_slice), &jb, jb.slices, threads);
        return XNN_OK;
    }
    return XNN_FN(gemm_back)(dX, NULL, work, dZ, W, NULL, relu, A, absolute, n, flags, threads,
                             m);
}

static int XNN_FN(conv_transpose)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                                  const XNN_T *W, int absolute, const xnn_node *n, int threads,
                                  size_t m)
{
    /* the node's own weights (gradients, LRP-epsilon) as Winograd tiles
       where they apply; modified weights (LRP's positive and negative
       parts) on the direct sums, whose sign never flips and which keep a
       zero weight's product with a huge s (R over a stabilised sum near 0)
       out of its neighbours' sums: as tiles, z+'s transpose was 2e-4 of
       the scale from the twin in tests/test_cnn.py's zplus_on_winograd case */
    return XNN_FN(conv_dx)(C, work, S, W, NULL, A, absolute, n, 0, threads, m, W == n->W, NULL,
                           NULL);
}

/* ---- a sparse S: the transpose by its nonzeros ----
 * C_i (C, H, W) = f^T(S_i; W), summed over S_i's nonzeros alone: position
 * by position (row-major), the rows W[o, :, a, e] of every tap (a, e) of
 * each channel o whose s is nonzero there, times s, summed over those
 * channels and added into the input pixels the taps read, channels last,
 * over the padded input (so that every tap of every position lands
 * inside); then the input's pixels times A, |.|. The same products as the
 * other paths minus those of S's zeros (all but one in kh kw or more under
 * a winner-take-all max pooling whose windows are apart), each position's
 * taps summed in registers, a chunk of every channel's taps at a time.
 * Images [m t / T, m (t + 1) / T) per slice. */
typedef struct {
    XNN_T *out;
    char *work;
    const XNN_T *S, *A, *Wr;
    const xnn_node *n;
    const XNN_FN(xnn_gemm_cfg) *cfg;
    sparse_geo g;
    size_t m, slices;
    int absolute;
} XNN_FN(sparse_job);

static void XNN_FN(sparse_slice)(void *p, size_t t)
{
    XNN_FN(sparse_job) *jb = (XNN_FN(sparse_job) *)p;
    const xnn_node *n = jb->n;
    const sparse_geo *g = &jb->g;
    const size_t C = n->in_c, H = n->in_h, W = n->in_w, O = n->out_c;
    const size_t Wo = n->out_w, P = n->out_h * Wo, in = C * H * W, T = n->kh * n->kw;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *acc = (XNN_T *)(slice + g->acc), *val = (XNN_T *)(slice + g->val);
    size_t *wo = (size_t *)(slice + g->wo), *at = (size_t *)(slice + g->at);
    size_t *start = (size_t *)(slice + g->start), *off = (size_t *)(slice + g->off);
    for (size_t q = 0; q < P; q++) at[q] = ((q / Wo) * n->sh * g->We + (q % Wo) * n->sw) * C;
    for (size_t a = 0; a < n->kh; a++)
        for (size_t e = 0; e < n->kw; e++) off[a * n->kw + e] = (a * g->We + e) * C;
    /* the input's pixels inside the sums (none past their end) */
    const size_t rows = g->He > n->ph ? (H < g->He - n->ph ? H : g->He - n->ph) : 0;
    const size_t cols = g->We > n->pw ? (W < g->We - n->pw ? W : g->We - n->pw) : 0;
    const size_t i0 = jb->m * t / jb->slices, i1 = jb->m * (t + 1) / jb->slices;
    for (size_t i = i0; i < i1; i++) {
        memset(acc, 0, g->He * g->We * C * sizeof(XNN_T));
        const XNN_T *si = jb->S + i * O * P;
        /* the nonzeros position by position, gathered without a branch */
        size_t k = 0;
        for (size_t q = 0; q < P; q++) {
            start[q] = k;
            for (size_t o = 0; o < O; o++) {
                val[k] = si[o * P + q], wo[k] = o * T * C;
                k += si[o * P + q] != 0;
            }
        }
        start[P] = k;
        jb->cfg->taps_sum(acc, at, start, P, off, T, C, val, wo, jb->Wr);
        XNN_T *dx = jb->out + i * in;
        if (rows < H || cols < W) memset(dx, 0, in * sizeof(XNN_T));
        jb->cfg->chfirst(dx, W, H * W, acc + (n->ph * g->We + n->pw) * C, g->We * C, C, C, rows,
                         cols);
        XNN_FN(finish_dx)(dx, NULL, jb->A ? jb->A + i * in : NULL, jb->absolute, in);
    }
}

static int XNN_FN(conv_transpose_sparse)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                                         const XNN_T *W, int absolute, const xnn_node *n,
                                         int threads, size_t m)
{
    /* where the transpose runs the direct path's few taps, it stays there */
    if (use_direct(n)) return XNN_FN(conv_transpose)(C, work, S, A, W, absolute, n, threads, m);
    XNN_FN(sparse_job) jb = {0};
    jb.g = sparse_of(n, sizeof(XNN_T));
    jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
    /* Wr[o][a kw + e][c] = W[o][c][a][e]: each channel's C planes (kh, kw)
       channels last */
    XNN_T *Wr = (XNN_T *)work;
    const size_t Ci = n->in_c, T = n->kh * n->kw;
    for (size_t o = 0; o < n->out_c; o++)
        jb.cfg->chlast(Wr + o * T * Ci, n->kw * Ci, W + o * Ci * T, n->kw, T, Ci, n->kh, n->kw);
    jb.out = C, jb.work = (char *)work, jb.S = S, jb.A = A, jb.Wr = Wr, jb.n = n;
    jb.m = m, jb.absolute = absolute;
    jb.slices = XNN_FN(slices_of)(m, threads);
    xnn_parallel_for(XNN_FN(sparse_slice), &jb, jb.slices, threads);
    return XNN_OK;
}

/* dW (O, K) (+)= the sum of the groups' shares of dW^T (K, O), in group
   order, over the elements [q0, q1) of dW */
typedef struct {
    XNN_T *dW;
    const XNN_T *part;
    size_t groups, O, K;
    int add;
} XNN_FN(share_job);

static void XNN_FN(add_shares)(void *p, size_t q0, size_t q1)
{
    const XNN_FN(share_job) *j = (const XNN_FN(share_job) *)p;
    for (size_t q = q0; q < q1; q++) {
        const size_t o = q / j->K, k = q % j->K;
        XNN_T v = j->part[k * j->O + o];
        for (size_t g = 1; g < j->groups; g++) v += j->part[(g * j->K + k) * j->O + o];
        j->dW[q] = j->add ? j->dW[q] + v : v;
    }
}

/* db (O) = (db +) the sum of dZ (m, O, P) over images and positions, in
   16 lanes (core/lanes.h: position q of an image goes to lane q mod 16),
   images in order */
static void XNN_FN(conv_db)(XNN_T *db, const XNN_T *dZ, size_t m, size_t O, size_t P, int add)
{
    for (size_t o = 0; o < O; o++) {
        XNN_T a[16] = {0};
        for (size_t i = 0; i < m; i++) XNN_FN(xnn_lanes_add)(a, dZ + (i * O + o) * P, P);
        XNN_FN(db_total)(db + o, a, add);
    }
}

static int XNN_FN(conv_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                                 const void *saved, const XNN_T *X, const XNN_T *relu,
                                 const xnn_node *n, const XNN_FN(xnn_update) *update, int add,
                                 int threads, size_t m)
{
    const conv_dims d = dims_of(n);
    const conv_scratch s = scratch_of(n, m, XNN_PLAN_TRAIN, sizeof(XNN_T));
    int st;
    (void)saved;
    if (!use_direct(n)) {
        /* dX (unless as Winograd tiles, first) and the groups' shares of dW
           in one pass over the groups */
        XNN_T *part = dW ? (XNN_T *)((char *)work + s.part) : NULL;
        if (dX && wino_fwd(n)) {
            st = XNN_FN(wino_dx)(dX, work, dZ, (const XNN_T *)n->W, relu, NULL, 0, n, threads,
                                 m, XNN_FN(dx_prep)(n), NULL, NULL);
            if (st != XNN_OK) return st;
            dX = NULL;
        }
        if (dW && wino_fwd(n)) {
            st = XNN_FN(wino_dw)(dW, db, work, dZ, X, n, add, threads, m);
            if (st != XNN_OK) return st;
            dW = db = NULL;
        }
        if (dX || dW) {
            /* the shares of dW only where asked: a dX alone fits a plan made
               without training's buffers (an explanation's) */
            st = XNN_FN(gemm_back)(dX, part, work, dZ, (const XNN_T *)n->W, X, relu, NULL, 0, n,
                                   dW ? XNN_PLAN_TRAIN : 0, threads, m);
            if (st != XNN_OK) return st;
        }
        if (dW) {
            XNN_FN(share_job) sj = {dW, part, (m + s.g - 1) / s.g, d.O, d.K, add};
            xnn_parallel_range(XNN_FN(add_shares), &sj, d.O * d.K, sj.groups * d.O * d.K);
        }
        if (db) XNN_FN(conv_db)(db, dZ, m, d.O, d.P, add);
        if (update) return XNN_FN(xnn_update_params)(update, n);
        return XNN_OK;
    }
    if (dX) {
        st = XNN_FN(conv_dx)(dX, work, dZ, (const XNN_T *)n->W, relu, NULL, 0, n,
                             XNN_PLAN_TRAIN, threads, m, 1, NULL, NULL);
        if (st != XNN_OK) return st;
    }
    if (dW && wino_fwd(n)) {   /* (XNN_CONV=winograd with few channels) */
        st = XNN_FN(wino_dw)(dW, db, work, dZ, X, n, add, threads, m);
        if (st != XNN_OK) return st;
    } else if (dW) {   /* db's lanes made with dW's */
        const size_t K = d.K, O = d.O;
        XNN_FN(direct_job) jb = {0};
        jb.g = direct_of(n, sizeof(XNN_T));
        const size_t wb = align64(O * K * sizeof(XNN_T));
        XNN_T *dwt = (XNN_T *)((char *)work + wb), *dbl = (XNN_T *)((char *)work + 2 * wb);
        memset(dwt, 0, O * K * sizeof(XNN_T));
        if (db) memset(dbl, 0, 16 * O * sizeof(XNN_T));
        jb.dwt = dwt, jb.dbl = db ? dbl : NULL;
        jb.work = (char *)work, jb.in = dZ, jb.X = X, jb.n = n, jb.m = m;
        jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa());
        jb.blocks = (O + 3) / 4;
        jb.slices = XNN_FN(slices_of)(jb.blocks, threads);
        xnn_parallel_for(XNN_FN(direct_dw_slice), &jb, jb.slices, threads);
        for (size_t q = 0; q < O * K; q++) dW[q] = add ? dW[q] + dwt[q] : dwt[q];
        for (size_t o = 0; db && o < O; o++) XNN_FN(db_total)(db + o, dbl + 16 * o, add);
    } else if (db) {
        XNN_FN(conv_db)(db, dZ, m, d.O, d.P, add);
    }
    if (update) return XNN_FN(xnn_update_params)(update, n);
    return XNN_OK;
}

/* One unit per row: row i's channel u = units[i] alone, on the direct
 * path's loops (the same sums as its full forward and transpose, minus the
 * other channels' zero terms), rows [m t / T, m (t + 1) / T) per slice.
 *   forward    Y_i (Ho, Wo) = act(W[u] * x_i + b[u])
 *   transpose  C_i (C, H, W) = the full correlation of S_i (Ho, Wo) with
 *              W[u] flipped: (C, 1, kh, kw) */
typedef struct {
    XNN_T *out, *Z;
    char *work;
    const XNN_T *in, *A;
    const int64_t *units;
    const xnn_node *n;
    const XNN_FN(xnn_gemm_cfg) *cfg;
    direct_geo g;
    size_t m, slices;
    int absolute;
} XNN_FN(unit_job);

static void XNN_FN(unit_fwd_slice)(void *p, size_t t)
{
    XNN_FN(unit_job) *jb = (XNN_FN(unit_job) *)p;
    const xnn_node *n = jb->n;
    const direct_geo *g = &jb->g;
    const size_t P = n->out_h * n->out_w, in = n->in_c * n->in_h * n->in_w;
    const size_t K = n->in_c * n->kh * n->kw;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *xp = (XNN_T *)slice, *yw = (XNN_T *)(slice + align64(g->xlen * sizeof(XNN_T)));
    const XNN_T *W = (const XNN_T *)n->W, *b = (const XNN_T *)n->b;
    const size_t i0 = jb->m * t / jb->slices, i1 = jb->m * (t + 1) / jb->slices;
    for (size_t i = i0; i < i1; i++) {
        const size_t u = (size_t)jb->units[i];
        XNN_FN(pad_image)(xp, jb->in + i * in, n, g);
        jb->cfg->conv_wide(yw, g->nq, xp, g->ldx, g->Wp, W + u * K, 1, n->in_c, n->kh, n->kw,
                           g->nq);
        XNN_FN(wide_out)(jb->out + i * P, jb->Z && jb->Z != jb->out ? jb->Z + i * P : NULL, yw,
                         g->Wp, n->out_h, n->out_w, b ? b + u : NULL, n->act);
    }
}

static void XNN_FN(unit_dx_slice)(void *p, size_t t)
{
    XNN_FN(unit_job) *jb = (XNN_FN(unit_job) *)p;
    const xnn_node *n = jb->n;
    const direct_geo *g = &jb->g;
    const size_t C = n->in_c, H = n->in_h, W = n->in_w, kh = n->kh, kw = n->kw;
    const size_t Ho = n->out_h, Wo = n->out_w, in = C * H * W, P = Ho * Wo, K = C * kh * kw;
    /* one padded plane of S (its readable length for one channel) */
    const size_t dlen = (kh - 1) * g->Wq + kw - 1 + g->nqd > g->ldd
                            ? (kh - 1) * g->Wq + kw - 1 + g->nqd : g->ldd;
    char *slice = jb->work + g->shared + t * g->slice;
    XNN_T *dp = (XNN_T *)slice;
    XNN_T *xw = (XNN_T *)(slice + align64(dlen * sizeof(XNN_T)));
    XNN_T *wu = (XNN_T *)(slice + align64(dlen * sizeof(XNN_T)) + align64(C * g->nqd * sizeof(XNN_T)));
    const XNN_T *Wn = (const XNN_T *)n->W;
    const size_t i0 = jb->m * t / jb->slices, i1 = jb->m * (t + 1) / jb->slices;
    for (size_t i = i0; i < i1; i++) {
        const XNN_T *w = Wn + (size_t)jb->units[i] * K;
        for (size_t c = 0; c < C; c++)
            for (size_t a = 0; a < kh; a++)
                for (size_t e = 0; e < kw; e++)
                    wu[(c * kh + a) * kw + e] = w[(c * kh + (kh - 1 - a)) * kw + (kw - 1 - e)];
        memset(dp, 0, dlen * sizeof(XNN_T));
        const XNN_T *s = jb->in + i * P;
        for (size_t oh = 0; oh < Ho; oh++)
            memcpy(dp + (oh + g->ah) * g->Wq + g->aw, s + oh * Wo, Wo * sizeof(XNN_T));
        jb->cfg->conv_wide(xw, g->nqd, dp, g->ldd, g->Wq, wu, C, 1, kh, kw, g->nqd);
        XNN_FN(dx_out)(jb->out + i * in, xw, n, g, NULL, jb->A ? jb->A + i * in : NULL,
                       jb->absolute);
    }
}

static int XNN_FN(conv_unit_ok)(const xnn_node *n)
{
    return direct_fwd(n);
}

static int XNN_FN(conv_unit_run)(void (*slice)(void *, size_t), XNN_T *out, XNN_T *Z, void *work,
                                 const XNN_T *in, const XNN_T *A, const int64_t *units,
                                 int absolute, const xnn_node *n, int threads, size_t m)
{
    if (!direct_fwd(n)) return XNN_EINVAL;
    for (size_t i = 0; i < m; i++)
        if (units[i] < 0 || (size_t)units[i] >= n->out_c) return XNN_EINVAL;
    XNN_FN(unit_job) jb = {0};
    jb.out = out, jb.Z = Z, jb.work = (char *)work, jb.in = in, jb.A = A, jb.units = units;
    jb.n = n, jb.cfg = XNN_FN(xnn_gemm_config)(xnn_isa()), jb.g = direct_of(n, sizeof(XNN_T));
    jb.m = m, jb.absolute = absolute;
    jb.slices = XNN_FN(slices_of)(m, threads);
    xnn_parallel_for(slice, &jb, jb.slices, threads);
    return XNN_OK;
}

static int XNN_FN(conv_unit_forward)(XNN_T *Y, XNN_T *Z, void *work, const XNN_T *X,
                                     const int64_t *units, const xnn_node *n, int threads,
                                     size_t m)
{
    return XNN_FN(conv_unit_run)(XNN_FN(unit_fwd_slice), Y, Z, work, X, NULL, units, 0, n,
                                 threads, m);
}

static int XNN_FN(conv_unit_transpose)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                                       const int64_t *units, int absolute, const xnn_node *n,
                                       int threads, size_t m)
{
    return XNN_FN(conv_unit_run)(XNN_FN(unit_dx_slice), C, NULL, work, S, A, units, absolute,
                                 n, threads, m);
}

/* ---- with the max pooling after it: the direct path's wide rows pooled
   as they come, without the conv's output ---- */

static int XNN_FN(conv_pool_ok)(const xnn_node *n, const xnn_node *p)
{
    return direct_fwd(n) && p->op == XNN_OP_MAXPOOL && n->act != XNN_ACT_SOFTMAX;
}

static int XNN_FN(conv_pool_forward)(XNN_T *Y, void *saved, void *work, const XNN_T *X,
                                     const xnn_node *n, const xnn_node *p, int threads, size_t m)
{
    if (!XNN_FN(conv_pool_ok)(n, p)) return XNN_EINVAL;
    return XNN_FN(conv_run)(Y, NULL, work, X, (const XNN_T *)n->W, (const XNN_T *)n->b, n->act,
                            n, p, (int32_t *)saved, 0, threads, m, 1, (const XNN_T *)n->prep);
}

/* dX of node n from the dY (m, out of p) of the max pooling p after it,
   its backward to the arg-max `saved` through n's ReLU and n's transpose
   in one pass: where n's dX runs as tiles or direct sums (Winograd or
   direct, whose padded dZ the pooling's backward writes into), p's
   windows apart, n's activation a ReLU */
static int XNN_FN(conv_pool_back_ok)(const xnn_node *n, const xnn_node *p, int own)
{
    /* other weights never run as tiles (conv_transpose) */
    return pool_apart(p) && n->act == XNN_ACT_RELU && ((own && wino_fwd(n)) || use_direct(n));
}

static int XNN_FN(conv_pool_transpose)(XNN_T *C, void *work, const XNN_T *S, const void *saved,
                                       const XNN_T *W, const XNN_T *A, const XNN_T *relu,
                                       int absolute, const xnn_node *n, const xnn_node *p,
                                       int threads, size_t m)
{
    const int own = !W || W == (const XNN_T *)n->W;
    if (!XNN_FN(conv_pool_back_ok)(n, p, own) || !saved) return XNN_EINVAL;
    return XNN_FN(conv_dx)(C, work, S, own ? (const XNN_T *)n->W : W, relu, A, absolute, n, 0,
                           threads, m, own, p, (const int32_t *)saved);
}

/* ---- prepared weights: the Winograd transforms U of W for the forward
   and for dX, made once for many calls (node->prep, kept by the binding
   while W does not change) or for all the images of the forward's front
   (train/step.c) ---- */

static size_t XNN_FN(conv_prep_bytes)(const xnn_node *n)
{
    return prep_bytes_of(n, sizeof(XNN_T));
}

static void XNN_FN(conv_prepare)(void *prep, const xnn_node *n, int threads)
{
    if (!wino_fwd(n)) return;
    const xnn_node t = wino_transposed(n);
    XNN_FN(wino_prepare)((XNN_T *)prep, (const XNN_T *)n->W, n, 0, threads);
    XNN_FN(wino_prepare)((XNN_T *)((char *)prep + wino_u_bytes(n, sizeof(XNN_T))),
                         (const XNN_T *)n->W, &t, 1, threads);
}

static int XNN_FN(conv_image_forward)(XNN_T *Y, const void *prep, void *work, const XNN_T *X,
                                      const xnn_node *n, const xnn_node *p)
{
    if (p && !XNN_FN(conv_pool_ok)(n, p)) return XNN_EINVAL;
    return XNN_FN(conv_run)(Y, NULL, work, X, (const XNN_T *)n->W, (const XNN_T *)n->b, n->act,
                            n, p, NULL, 0, 1, 1, 1, wino_fwd(n) ? (const XNN_T *)prep : NULL);
}

const XNN_FN(xnn_op) XNN_FN(xnn_conv_op) = {
    XNN_FN(conv_saved),   XNN_FN(conv_scratch), XNN_FN(conv_forward), XNN_FN(conv_backward),
    XNN_FN(conv_product), XNN_FN(conv_transpose), NULL, XNN_FN(conv_unit_ok),
    XNN_FN(conv_unit_forward), XNN_FN(conv_unit_transpose), XNN_FN(conv_pool_ok),
    XNN_FN(conv_pool_forward), XNN_FN(conv_prep_bytes), XNN_FN(conv_prepare),
    XNN_FN(conv_image_forward), XNN_FN(conv_pool_back_ok), XNN_FN(conv_pool_transpose),
    XNN_FN(conv_product_tiles), XNN_FN(conv_transpose_sparse),
};

#endif
