/* bench_bf16 - y[M,N] = x[M,K]·W[N,K]ᵀ with bf16 weights W, the product of a frozen teacher's
   forward, on the SmolLM2-135M and Qwen2.5-0.5B shapes: the fp32 kernel (W widened to fp32
   while packing, x exact) against rl_ctx.bf16_dot (x rounded to bf16) on AVX512-BF16's
   vdpbf16ps and, where the CPU has them, on AMX tiles; interleaved in one run, 1 and 2
   threads. GFLOP/s, best of repeats; ratios = fp32 time / bf16 time. Also the largest
   difference between fp32 and the last bf16 path, relative to max |y|.
   Build and run: make bench-bf16   (benchmark only; needs a CPU with AVX512-BF16)
     build/bench_bf16 [--rows M] [--threads T] */
#include "bench.h"

/* y = x·Wᵀ through rl_linear, as a model's forward runs it; path 0 fp32, 1 vdpbf16ps, 2 AMX */
static double run(rl_ctx *c, rl_tensor *x, rl_tensor *W, int path, float *out) {
    double t;
    rl_tensor *y;
    rl_ctx_reset(c);
    c->bf16_dot = path > 0;
    rl_amx_set(path == 2);
    t = now();
    y = rl_linear(c, x, W, NULL);
    t = now() - t;
    if (!y) {
        fprintf(stderr, "bench_bf16: %s\n", rl_last_error());
        exit(1);
    }
    memcpy(out, rl_f32(y), sizeof(float) * (size_t)y->n);
    return t;
}

int main(int argc, char **argv) {
    static const long shapes[][2] = {{576, 576}, {192, 576}, {1536, 576}, {576, 1536}, {49152, 576},
                                     {896, 896}, {128, 896}, {4864, 896}, {896, 4864}, {151936, 896}};
    long M = 2048;
    int th, si, a, p, only_th = 0, paths = rl_amx_available() ? 3 : 2;
    rl_rng rng;
    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--rows") && a + 1 < argc) M = atol(argv[++a]);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc) only_th = atoi(argv[++a]);
        else {
            fprintf(stderr, "usage: bench_bf16 [--rows M] [--threads T]\n");
            return 2;
        }
    }
    if (!rl_bf16_dot_available()) {
        printf("bench_bf16: this CPU (or build, or forced ISA) has no AVX512-BF16; nothing to compare\n");
        return 0;
    }
    rl_rng_seed(&rng, 1);
    printf("# isa %s + AVX512-BF16%s, rows M = %ld, y = x·Wᵀ with bf16 W, GFLOP/s (best of interleaved repeats)\n",
           rl_isa_name(rl_isa_active()), paths == 3 ? " + AMX-BF16" : "", M);
    if (paths == 3)
        printf("| threads | N x K | fp32 kernel | vdpbf16ps | AMX | vdpbf16ps / fp32 | AMX / fp32 | max abs diff / max abs y |\n"
               "|---|---|---|---|---|---|---|---|\n");
    else
        printf("| threads | N x K | fp32 kernel | vdpbf16ps | ratio | max abs diff / max abs y |\n|---|---|---|---|---|---|\n");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool;
        rl_ctx c;
        if (only_th && th != only_th) continue;
        pool = rl_pool_create(th);
        rl_ctx_init(&c, pool);
        for (si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++) {
            long N = shapes[si][0], K = shapes[si][1], i;
            int64_t xs[2], ws[2];
            float *x = (float *)malloc(sizeof(float) * M * K), *y32 = (float *)malloc(sizeof(float) * M * N);
            float *y16 = (float *)malloc(sizeof(float) * M * N);
            uint16_t *W = (uint16_t *)malloc(sizeof(uint16_t) * N * K);
            rl_tensor xt, wt;
            double flop = 2.0 * M * N * K, best[3] = {1e30, 1e30, 1e30}, start, dmax = 0, ymax = 0;
            for (i = 0; i < M * K; i++) x[i] = rl_rng_normal(&rng);
            for (i = 0; i < N * K; i++) W[i] = rl_f32_to_bf16(0.05f * rl_rng_normal(&rng));
            xs[0] = M; xs[1] = K; ws[0] = N; ws[1] = K;
            xt = rl_wrap(x, RL_F32, 2, xs, 0);
            wt = rl_wrap(W, RL_BF16, 2, ws, 0);
            for (p = 0; p < paths; p++) run(&c, &xt, &wt, p, p ? y16 : y32); /* warm-up */
            start = now();
            do {
                for (p = 0; p < paths; p++) {
                    double t = run(&c, &xt, &wt, p, p ? y16 : y32);
                    if (t < best[p]) best[p] = t;
                }
            } while (now() - start < (N * K > 10000000 ? 6.0 : 1.5));
            for (i = 0; i < M * N; i++) {
                double d = fabs((double)y16[i] - y32[i]);
                if (d > dmax) dmax = d;
                if (fabs(y32[i]) > ymax) ymax = fabs(y32[i]);
            }
            printf("| %d | %ld x %ld | %.1f | %.1f", th, N, K, flop / best[0] * 1e-9, flop / best[1] * 1e-9);
            if (paths == 3) printf(" | %.1f | %.2f", flop / best[2] * 1e-9, best[0] / best[1]);
            printf(" | %.2f | %.1e |\n", best[0] / best[paths - 1], dmax / ymax);
            fflush(stdout);
            free(x); free(y32); free(y16); free(W);
        }
        rl_ctx_free(&c);
        rl_pool_free(pool);
    }
    return 0;
}
