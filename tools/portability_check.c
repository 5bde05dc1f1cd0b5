/* portability_check.c: a small program over the kernels alone (no Python),
 * built by tools/check_portability.sh for each compiler and run where it
 * can be (natively, or a Windows build under wine): the thread pool runs
 * every chunk exactly once, many jobs in a row and after its workers are
 * released; the GEMM gives the same bits on 1 and 3 threads and agrees
 * with a plain triple loop. Prints one line (with the number of threads
 * that ran a job's chunks) and returns 0 when the checks hold.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "xnn.h"
#include "core/parallel.h"

static void square(void *ctx, size_t i)
{
    ((size_t *)ctx)[i] += i * i;
}

/* which threads ran the chunks: the address of a thread-local differs per thread */
static _Thread_local char here;
static volatile double sink;

static void where(void *ctx, size_t i)
{
    double x = 0;
    for (int r = 0; r < 200000; r++) x += (double)r * 1e-9;   /* a chunk worth waking for */
    sink = x;
    ((const char **)ctx)[i] = &here;
}

static int threads_seen(void)
{
    enum { N = 64 };
    const char *who[N];
    xnn_set_num_threads(4);
    xnn_parallel_for(where, (void *)who, N, 4);     /* starts the workers */
    xnn_parallel_for(where, (void *)who, N, 4);
    int distinct = 0;
    for (int i = 0; i < N; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= who[j] == who[i];
        distinct += !seen;
    }
    return distinct;
}

static int check_pool(void)
{
    enum { N = 1000 };
    size_t *out = calloc(N, sizeof(size_t));
    if (!out) return 1;
    int bad = 0;
    for (int rep = 0; rep < 300; rep++) {
        xnn_set_num_threads(rep % 100 == 50 ? 1 : 4);    /* release and start again */
        xnn_parallel_for(square, out, N, xnn_get_num_threads());
    }
    for (size_t i = 0; i < N; i++) {
        size_t want = 0;
        for (int rep = 0; rep < 300; rep++) want += i * i;
        bad |= out[i] != want;
    }
    free(out);
    return bad;
}

static int check_gemm(void)
{
    const size_t m = 157, n = 131, k = 203;
    double *A = malloc(m * k * sizeof(double)), *B = malloc(k * n * sizeof(double));
    double *C1 = malloc(m * n * sizeof(double)), *C3 = malloc(m * n * sizeof(double));
    if (!A || !B || !C1 || !C3) return 1;
    unsigned s = 12345;
    for (size_t i = 0; i < m * k; i++) A[i] = (double)((s = s * 1103515245u + 12345u) >> 16) / 65536.0 - 0.5;
    for (size_t i = 0; i < k * n; i++) B[i] = (double)((s = s * 1103515245u + 12345u) >> 16) / 65536.0 - 0.5;
    xnn_set_num_threads(1);
    int st = xnn_gemm_f64(C1, A, B, 0.0, 0, 0, m, n, k);
    xnn_set_num_threads(3);
    st |= xnn_gemm_f64(C3, A, B, 0.0, 0, 0, m, n, k);
    int bad = st != XNN_OK;
    double worst = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double want = 0;
            for (size_t p = 0; p < k; p++) want += A[i * k + p] * B[p * n + j];
            const double e = fabs(C1[i * n + j] - want);
            if (e > worst) worst = e;
            bad |= C1[i * n + j] != C3[i * n + j];
        }
    bad |= worst > 1e-12;
    free(A); free(B); free(C1); free(C3);
    return bad;
}

int main(void)
{
    const int pool = check_pool(), gemm = check_gemm(), threads = threads_seen();
    printf("portability_check: isa %s, pool %s (chunks ran on %d threads), gemm %s\n",
           xnn_isa_name(xnn_isa()), pool ? "FAILED" : "ok", threads, gemm ? "FAILED" : "ok");
    return pool || gemm;
}
