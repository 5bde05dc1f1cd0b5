/* cpu.c: the instruction set and thread count the kernels use.
 *
 * The instruction set is detected once (cpuid through the compiler's
 * builtins); the environment variable XNN_ISA=ref|avx2|avx512 forces one,
 * provided the processor has it. On other architectures only "ref" exists.
 */
#if defined(__linux__)
#define _GNU_SOURCE                 /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <unistd.h>
#elif defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#endif
#include <stdlib.h>
#include <string.h>
#include "xnn.h"

static int g_isa = -1;
static int g_threads = 0;   /* 0: not yet set, use the number of cores */

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
    if (g_isa < 0) g_isa = detect();
    return g_isa;
}

int xnn_set_isa(int isa)
{
    if (isa < XNN_ISA_REF || isa > XNN_ISA_AVX512 || !xnn_cpu_has(isa)) return XNN_EINVAL;
    g_isa = isa;
    return XNN_OK;
}

void xnn_set_num_threads(int n)
{
    g_threads = n > 0 ? n : 0;
}

/* default: the processors this process may use (its affinity mask, on
   Linux), else the online processors */
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
#else
    return 1;
#endif
}

/* read once, since every product asks; two threads asking first both
   compute the same value */
#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
static atomic_int g_default_threads = 0;
#else
static volatile int g_default_threads = 0;
#endif

int xnn_get_num_threads(void)
{
    if (g_threads > 0) return g_threads;
    int n = g_default_threads;
    if (n == 0) g_default_threads = n = default_threads();
    return n;
}

/* splitmix64: a small, well-mixed counter-based generator. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double xnn_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t z = mix64(mix64(seed ^ mix64(stream)) + index);
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);   /* 53 bits */
}
