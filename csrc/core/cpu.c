/* cpu.c: the instruction set and thread count the kernels use.
 *
 * The instruction set is detected once (cpuid through the compiler's
 * builtins); the environment variable XNN_ISA=ref|avx2|avx512 forces one,
 * provided the processor has it. On other architectures only "ref" exists.
 * Lowering the thread count releases the pool's extra workers (pool.c).
 */
#if defined(__linux__)
#define _GNU_SOURCE                 /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <unistd.h>
#elif defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"

static XNN_ATOMIC_INT g_isa = -1;
static XNN_ATOMIC_INT g_threads = 0;   /* 0: not set, use every core */
static XNN_ATOMIC_INT g_default_threads = 0;

int xnn_cpu_has(int isa)
{
    if (isa == XNN_ISA_REF) return 1;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (isa == XNN_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == XNN_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    return 0;
}

const char *xnn_isa_name(int isa)
{
    switch (isa) {
    case XNN_ISA_REF: return "ref";
    case XNN_ISA_AVX2: return "avx2";
    case XNN_ISA_AVX512: return "avx512";
    default: return "unknown";
    }
}

static int detect(void)
{
    const char *env = getenv("XNN_ISA");
    if (env && *env) {
        for (int isa = XNN_ISA_REF; isa <= XNN_ISA_AVX512; isa++)
            if (strcmp(env, xnn_isa_name(isa)) == 0 && xnn_cpu_has(isa)) return isa;
    }
    if (xnn_cpu_has(XNN_ISA_AVX512)) return XNN_ISA_AVX512;
    if (xnn_cpu_has(XNN_ISA_AVX2)) return XNN_ISA_AVX2;
    return XNN_ISA_REF;
}

int xnn_isa(void)
{
    int isa = xnn_atomic_load(&g_isa);
    if (isa < 0) {
        isa = detect();
        xnn_atomic_store(&g_isa, isa);
    }
    return isa;
}

int xnn_set_isa(int isa)
{
    if (isa < XNN_ISA_REF || isa > XNN_ISA_AVX512 || !xnn_cpu_has(isa)) return XNN_EINVAL;
    xnn_atomic_store(&g_isa, isa);
    return XNN_OK;
}

/* the processors this process may use (its affinity mask, on Linux),
   else the online processors */
static int default_threads(void)
{
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
#if defined(_SC_NPROCESSORS_ONLN)
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#elif defined(_WIN32)
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
#else
    return 1;
#endif
}

void xnn_set_num_threads(int n)
{
    const int before = xnn_get_num_threads();
    xnn_atomic_store(&g_threads, n > 0 ? n : 0);
    if (xnn_get_num_threads() < before) xnn_pool_release();
}

int xnn_get_num_threads(void)
{
    const int t = xnn_atomic_load(&g_threads);
    if (t > 0) return t;
    int n = xnn_atomic_load(&g_default_threads);
    if (n == 0) {          /* two threads asking first compute the same value */
        n = default_threads();
        xnn_atomic_store(&g_default_threads, n);
    }
    return n;
}
