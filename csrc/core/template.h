/* template.h: the one way to instantiate a file for float32 and float64.
 *
 * A file written for both dtypes keeps its dtype-free part under
 * `#ifndef XNN_T`, ends that part with
 *
 *     #define XNN_SELF "path/of/this/file"     (relative to csrc/)
 *     #include "core/template.h"
 *
 * and writes its typed part under `#else`. This header then includes the
 * file twice with:
 *
 *   XNN_T        the element type (float, then double)
 *   XNN_FN(f)    the name with its dtype suffix: f_f32, then f_f64
 *   XNN_M(f)     the libm function for the type: expf, then exp
 *   XNN_TINY     the smallest positive normal number of the type
 *   XNN_IS_F32   1 for float, 0 for double
 *
 * Headers use it the same way (xnn.h instantiates xnn_typed.h).
 */
#include <float.h>
#include <math.h>

#define XNN_T float
#define XNN_FN(f) f##_f32
#define XNN_M(fn) fn##f
#define XNN_TINY FLT_MIN
#define XNN_IS_F32 1
#include XNN_SELF
#undef XNN_T
#undef XNN_FN
#undef XNN_M
#undef XNN_TINY
#undef XNN_IS_F32

#define XNN_T double
#define XNN_FN(f) f##_f64
#define XNN_M(fn) fn
#define XNN_TINY DBL_MIN
#define XNN_IS_F32 0
#include XNN_SELF
#undef XNN_T
#undef XNN_FN
#undef XNN_M
#undef XNN_TINY
#undef XNN_IS_F32
#undef XNN_SELF
