/* bench_gemm - GFLOP/s of the three products a Linear layer needs, on the SmolLM2-135M and
   Qwen2.5-0.5B shapes (M rows of activations): radlads (active ISA) against OpenBLAS
   cblas_sgemm, with 1 and 2 threads, interleaved in one run. The ratio column is
   OpenBLAS time / radlads time (> 1: radlads is faster).
     nt  y[M,N]  = x[M,K]·W[N,K]ᵀ     forward
     nn  dx[M,K] = dy[M,N]·W[N,K]     input gradient
     tn  dW[N,K] = dy[M,N]ᵀ·x[M,K]    weight gradient
   Build and run: make bench   (needs Debian libopenblas-dev; benchmark only)
     build/bench_gemm [--naive] [--rows M] [--layout nt|nn|tn] [--threads T] [--shape NxK] [--secs S]
   --secs: the time each shape's interleaved calls take (default 0.4 s, 1.5 s for the heads); on a
   shared VM, a longer best-of is steadier.
   OpenBLAS's idle workers spin (sched_yield) for 2^28 cycles after a call unless
   OPENBLAS_THREAD_TIMEOUT says less, and take the cores of the radlads call that follows (ours
   spin ~0.1 ms): `make bench` sets OPENBLAS_THREAD_TIMEOUT=20 (2^20 cycles, ~0.3 ms). */
#include "bench.h"
#include <cblas.h>

extern void openblas_set_num_threads(int);

typedef struct {
    long M, N, K;
    float *x, *W, *dy, *out;
    rl_pool *pool;
} job_t;

static void run_ours(const job_t *j, int layout) {
    if (layout == 0) rl_matmul_nt(j->pool, j->out, j->x, j->W, RL_F32, NULL, j->M, j->N, j->K);
    else if (layout == 1) rl_matmul_nn(j->pool, j->out, j->dy, j->W, RL_F32, j->M, j->N, j->K, 0);
    else rl_matmul_tn(j->pool, j->out, j->dy, j->x, j->M, j->N, j->K, 0);
}

static void run_blas(const job_t *j, int layout) {
    if (layout == 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->M, j->N, j->K, 1.0f, j->x, j->K, j->W, j->K, 0.0f, j->out, j->N);
    else if (layout == 1)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->M, j->K, j->N, 1.0f, j->dy, j->N, j->W, j->K, 0.0f, j->out, j->K);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j->N, j->K, j->M, 1.0f, j->dy, j->N, j->x, j->K, 0.0f, j->out, j->K);
}

/* best time of one call: ours and OpenBLAS alternate, >= `secs` in all */
static void time_pair(const job_t *j, int layout, double secs, double *t_ours, double *t_blas) {
    double start = now(), t;
    *t_ours = *t_blas = 1e30;
    do {
        t = now(); run_ours(j, layout); t = now() - t; if (t < *t_ours) *t_ours = t;
        t = now(); run_blas(j, layout); t = now() - t; if (t < *t_blas) *t_blas = t;
    } while (now() - start < secs);
}

int main(int argc, char **argv) {
    static const long shapes[][2] = {
        /* SmolLM2-135M: q/o, k/v, MLP up/gate, MLP down, head */
        {576, 576}, {192, 576}, {1536, 576}, {576, 1536}, {49152, 576},
        /* Qwen2.5-0.5B */
        {896, 896}, {128, 896}, {4864, 896}, {896, 4864}, {151936, 896}};
    static const char *lname[3] = {"nt x·Wᵀ", "nn dy·W", "tn dyᵀ·x"};
    long M = 512, only_N = 0, only_K = 0;
    double secs = 0;
    int th, si, layout, with_naive = 0, only_layout = -1, only_th = 0, a;
    rl_rng rng;
    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--naive")) with_naive = 1;
        else if (!strcmp(argv[a], "--rows") && a + 1 < argc) M = atol(argv[++a]);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc) only_th = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--secs") && a + 1 < argc) secs = atof(argv[++a]);
        else if (!strcmp(argv[a], "--shape") && a + 1 < argc && sscanf(argv[a + 1], "%ldx%ld", &only_N, &only_K) == 2) a++;
        else if (!strcmp(argv[a], "--layout") && a + 1 < argc) {
            const char *l = argv[++a];
            only_layout = !strcmp(l, "nt") ? 0 : !strcmp(l, "nn") ? 1 : !strcmp(l, "tn") ? 2 : -2;
            if (only_layout == -2) { fprintf(stderr, "bench_gemm: --layout nt|nn|tn\n"); return 2; }
        } else {
            fprintf(stderr, "usage: bench_gemm [--naive] [--rows M] [--layout nt|nn|tn] [--threads T] [--shape NxK] [--secs S]\n");
            return 2;
        }
    }
    rl_rng_seed(&rng, 1);
    /* OpenBLAS falls back to old kernels on CPUs it does not know (OPENBLAS_CORETYPE=SkylakeX|Haswell picks): show its choice */
    printf("# isa %s, rows M = %ld, fp32, GFLOP/s (best of interleaved repeats); ratio = OpenBLAS time / radlads time; OpenBLAS core %s\n",
           rl_isa_name(rl_isa_active()), M, openblas_get_corename());
    printf("| threads | layout | N x K | naive | radlads | OpenBLAS | ratio |\n|---|---|---|---|---|---|---|\n");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool;
        if (only_th && th != only_th) continue;
        pool = rl_pool_create(th);
        openblas_set_num_threads(th);
        for (layout = 0; layout < 3; layout++) {
            if (only_layout >= 0 && layout != only_layout) continue;
            for (si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++) {
                long N = shapes[si][0], K = shapes[si][1], i;
                job_t j;
                double flop = 2.0 * M * N * K, t_ours, t_blas, t_naive = 0;
                if (only_N && (N != only_N || K != only_K)) continue;
                j.M = M; j.N = N; j.K = K; j.pool = pool;
                j.x = (float *)malloc(sizeof(float) * M * K);
                j.W = (float *)malloc(sizeof(float) * N * K);
                j.dy = (float *)malloc(sizeof(float) * M * N);
                j.out = (float *)malloc(sizeof(float) * (M * K > N * K ? M * K : N * K) + sizeof(float) * M * N);
                for (i = 0; i < M * K; i++) j.x[i] = rl_rng_uniform(&rng) - 0.5f;
                for (i = 0; i < N * K; i++) j.W[i] = rl_rng_uniform(&rng) - 0.5f;
                for (i = 0; i < M * N; i++) j.dy[i] = rl_rng_uniform(&rng) - 0.5f;
                run_ours(&j, layout); /* warm-up (page faults, packing buffers) */
                run_blas(&j, layout);
                time_pair(&j, layout, secs > 0 ? secs : N * K > 10000000 ? 1.5 : 0.4, &t_ours, &t_blas);
                if (with_naive && th == 1 && layout == 0 && N * K <= 4864 * 896) {
                    rl__gemm_args g;
                    g.M = M; g.N = N; g.K = K; g.A = j.x; g.a_rs = K; g.a_cs = 1; g.B = j.W; g.bt = RL_F32;
                    g.b_rs = 1; g.b_cs = K; g.C = j.out; g.ldc = N; g.accumulate = 0;
                    t_naive = now();
                    rl__naive_gemm(&g);
                    t_naive = now() - t_naive;
                }
                if (t_naive > 0)
                    printf("| %d | %s | %ld x %ld | %.1f | %.1f | %.1f | %.2f |\n", th, lname[layout], N, K, flop / t_naive * 1e-9,
                           flop / t_ours * 1e-9, flop / t_blas * 1e-9, t_blas / t_ours);
                else
                    printf("| %d | %s | %ld x %ld | - | %.1f | %.1f | %.2f |\n", th, lname[layout], N, K, flop / t_ours * 1e-9,
                           flop / t_blas * 1e-9, t_blas / t_ours);
                fflush(stdout);
                free(j.x); free(j.W); free(j.dy); free(j.out);
            }
        }
        rl_pool_free(pool);
    }
    return 0;
}
