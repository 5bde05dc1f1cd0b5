/* gemm.h: the pieces of the blocked GEMM shared by its files and the ops.
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
 * rows of A and NR valid columns of B; the driver packs edge panels.
 * Every C[i, j] accumulates its k products in increasing p inside a kc
 * block and the blocks in increasing order, whatever the tile, the thread
 * or the MC/NC blocking: results depend on KC alone, which is fixed per
 * instruction set and dtype.
 *
 * The one-row products (gemv) serve explanations of one image: C = x W
 * skipping the zeros of x, and C = A * (W s) over W's contiguous rows. Each
 * instruction set compiles the same C body (no contraction into FMAs, as
 * ISO C requires), so they give the same bits on every ISA.
 */
#ifndef XNN_GEMM_H
#define XNN_GEMM_H

#include <stddef.h>
#include "xnn.h"

#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
#define XNN_GEMM_X86 1     /* the AVX2 and AVX-512 kernels are compiled */
#else
#define XNN_GEMM_X86 0
#endif

/* called once per finished block of C: rows [i, i + mr), columns
   [j, j + nr), on whichever thread computed it; blocks never overlap and
   cover C (a thread's chunk of rows times a column block of NC) */
typedef void (*xnn_tile_fn)(void *ctx, size_t i, size_t j, size_t mr, size_t nr);

/* epilogues applied to each finished tile while it is in L1: identity;
   ReLU exactly as activation.c (z < 0 ? 0 : z); the ReLU derivative
   exactly as activation.c's backward, with aux the saved ReLU output:
   c = aux > 0 ? c : 0 */
enum { XNN_EPI_NONE = 0, XNN_EPI_RELU = 1, XNN_EPI_RELU_GRAD = 2 };

/* bytes of the direct convolution's blocks of output positions
   (conv_body.h): 16 float or 8 double lanes */
#define XNN_CONV_BYTES 64

/* reference kernel tile (portable C) */
#define XNN_REF_MR 4
#define XNN_REF_NR_F32 8
#define XNN_REF_NR_F64 4

#define XNN_SELF "gemm/gemm_typed.h"
#include "core/template.h"

#endif
