/* bench_gemm - GFLOP/s of y = x·Wᵀ on the Qwen2.5-0.5B shapes (rows 512):
   naive reference, radlads (rl_matmul_nt, active ISA), and OpenBLAS cblas_sgemm,
   with 1 and 2 threads, in one run. The ratio column is radlads / OpenBLAS.
   Build and run: make bench   (needs Debian libopenblas-dev; benchmark only) */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#include <cblas.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* best-of-reps wall time of one call, at least ~0.3 s of repetitions */
#define TIME_IT(best, stmt)                                          \
    do {                                                             \
        double t0_, el_, start_ = now();                             \
        best = 1e30;                                                 \
        do {                                                         \
            t0_ = now();                                             \
            stmt;                                                    \
            el_ = now() - t0_;                                       \
            if (el_ < best) best = el_;                              \
        } while (now() - start_ < 0.3);                              \
    } while (0)

int main(int argc, char **argv) {
    static const long shapes[][2] = {{896, 896}, {128, 896}, {4864, 896}, {896, 4864}, {151936, 896}};
    const long M = 512;
    int th, si, with_naive = argc > 1 && !strcmp(argv[1], "--naive");
    rl_rng rng;
    rl_rng_seed(&rng, 1);
    printf("# isa %s, rows M = %ld, y[M,N] = x[M,K]·W[N,K]ᵀ, fp32, GFLOP/s (best of repeats)\n", rl_isa_name(rl_isa_active()), M);
    printf("| threads | N x K | naive | radlads | OpenBLAS | radlads / OpenBLAS |\n|---|---|---|---|---|---|\n");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool = rl_pool_create(th);
        openblas_set_num_threads(th);
        for (si = 0; si < 5; si++) {
            long N = shapes[si][0], K = shapes[si][1], i;
            float *x = (float *)malloc(sizeof(float) * M * K), *W = (float *)malloc(sizeof(float) * N * K);
            float *y = (float *)malloc(sizeof(float) * M * N);
            double flop = 2.0 * M * N * K, t_ours, t_blas, t_naive = 0;
            for (i = 0; i < M * K; i++) x[i] = rl_rng_uniform(&rng) - 0.5f;
            for (i = 0; i < N * K; i++) W[i] = rl_rng_uniform(&rng) - 0.5f;
            TIME_IT(t_ours, rl_matmul_nt(pool, y, x, W, RL_F32, NULL, M, N, K));
            TIME_IT(t_blas, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, W, K, 0.0f, y, N));
            if (with_naive && th == 1 && N * K <= 4864 * 896) {
                rl__gemm_args g;
                g.M = M; g.N = N; g.K = K; g.A = x; g.a_rs = K; g.a_cs = 1; g.B = W; g.bt = RL_F32;
                g.b_rs = 1; g.b_cs = K; g.C = y; g.ldc = N; g.accumulate = 0;
                t_naive = now();
                rl__naive_gemm(&g);
                t_naive = now() - t_naive;
            }
            if (t_naive > 0) printf("| %d | %ld x %ld | %.1f | %.1f | %.1f | %.2f |\n", th, N, K, flop / t_naive * 1e-9, flop / t_ours * 1e-9, flop / t_blas * 1e-9, t_blas / t_ours);
            else printf("| %d | %ld x %ld | - | %.1f | %.1f | %.2f |\n", th, N, K, flop / t_ours * 1e-9, flop / t_blas * 1e-9, t_blas / t_ours);
            fflush(stdout);
            free(x); free(W); free(y);
        }
        rl_pool_free(pool);
    }
    return 0;
}
