/* template.h: instantiate a kernel file for float32 and float64 from one source.
 *
 * A kernel file defines XNN_SELF as its own name and includes this header
 * when XNN_T is not yet defined; the header then includes the file twice:
 *
 *   XNN_T        the element type (float, then double)
 *   XNN_FN(f)    the public name with its dtype suffix: f_f32, then f_f64
 *   XNN_M(f)     the libm function for the type: expf, then exp
 *   XNN_TINY     the smallest positive normal number of the type
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
