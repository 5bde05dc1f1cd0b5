/* parallel.h: row-parallel loops for large elementwise passes.
 *
 *     XNN_PARALLEL_FOR(total_elements)
 *     for (size_t i = 0; i < m; i++) ...
 *
 * The loop's iterations are split across the kernels' OpenMP threads in
 * contiguous static ranges when the pass touches at least XNN_PAR_MIN
 * elements. Use it only for loops whose iterations are independent (no
 * reduction across iterations), so results do not depend on the thread
 * count. Without OpenMP the macro is empty.
 */
#ifndef XNN_PARALLEL_H
#define XNN_PARALLEL_H

#ifdef _OPENMP
#define XNN_PAR_MIN 65536
#define XNN_PRAGMA(x) _Pragma(#x)
#define XNN_PARALLEL_FOR(len) \
    XNN_PRAGMA(omp parallel for schedule(static) if ((len) >= XNN_PAR_MIN) num_threads(xnn_get_num_threads()))
#else
#define XNN_PARALLEL_FOR(len)
#endif

#endif
