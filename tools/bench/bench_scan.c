/* bench_scan - speed of the RAD-RWKV scans (rl_wkv6, rl_wkv7): the recurrent form (token by
   token, the naive twin) against the chunked form (chunks of L tokens as small matrix
   products), forward only and forward + backward (the training path), at heads of 64 for
   the Qwen2.5-0.5B width (C = 896, 14 heads) and the SmolLM2-135M width (C = 576, 9 heads),
   B = 4 sequences of T = 512 tokens (a stage-1/2 step's shape), 1 and 2 threads.
   Every variant runs once per round, rounds interleaved, best of the rounds.
   GFLOP/s two ways: "useful" counts the recurrent form's flops for both forms (so it is
   proportional to tokens/s); "executed" counts what the chunked form actually computes
   (its matrix products and substitutions) and is what % of peak refers to. The fp32 FMA
   peak is measured in the same run with a register-resident FMA loop per thread.
   On a shared machine wall time includes time the threads wait for a core, so the
   executed rate and % of peak are per second of CPU time (process CPU time, for the FMA
   loop too): flops per busy core-second, which other load does not dilute.
   A chunk whose decays leave the chunked form's range runs as two halves (down to 4 tokens,
   then token by token); split chunks execute fewer flops than the column assumes.
   Build and run: make bench-scan   (ROUNDS=n to change the number of rounds, default 3;
   CLAMPED=1 puts one channel of every RWKV6 head at the clamp, log w = -5) */
#include "bench.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- peak: 12 independent FMA chains per thread, at the vector width of the ISA in use ----
   The chains are unrolled so that they stay in registers: a loop over an array of 12 vectors
   that the compiler leaves rolled keeps them in memory and runs at a fraction of the peak
   (this benchmark's "peak" read 19-28 GFLOP/s that way: 27.7 on an AVX-512 core that peaks
   near 155, BENCHMARKS.md). */
static volatile float peak_sink;
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PEAK_LOOP(V, SET1, FMA, LOW, FLOPS)                                                      \
    V a[12], m = SET1(0.999999f), c = SET1(1e-7f);                                               \
    long k;                                                                                      \
    int i;                                                                                       \
    float s = 0;                                                                                 \
    double t0;                                                                                   \
    for (i = 0; i < 12; i++) a[i] = SET1((float)i);                                              \
    t0 = cpu_now();                                                                              \
    for (k = 0; k < n; k++) {                                                                    \
        a[0] = FMA(a[0], m, c), a[1] = FMA(a[1], m, c), a[2] = FMA(a[2], m, c);                  \
        a[3] = FMA(a[3], m, c), a[4] = FMA(a[4], m, c), a[5] = FMA(a[5], m, c);                  \
        a[6] = FMA(a[6], m, c), a[7] = FMA(a[7], m, c), a[8] = FMA(a[8], m, c);                  \
        a[9] = FMA(a[9], m, c), a[10] = FMA(a[10], m, c), a[11] = FMA(a[11], m, c);              \
    }                                                                                            \
    t0 = cpu_now() - t0;                                                                         \
    for (i = 0; i < 12; i++) s += LOW(a[i]);                                                     \
    peak_sink = s;                                                                               \
    return (double)n * 12 * FLOPS / t0;
__attribute__((target("avx2,fma"))) static double fma_loop_avx2(long n) { PEAK_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32, 16) }
__attribute__((target("avx512f"))) static double fma_loop_avx512(long n) { PEAK_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32, 32) }
static double fma_loop(long n) { /* 0: no AVX2 (the table's % of peak then reads "-") */
    if (rl_isa_active() == RL_ISA_AVX512) return fma_loop_avx512(n);
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? fma_loop_avx2(n) : 0;
}
#else
static double fma_loop(long n) { (void)n; return 0; }
#endif
/* flops per CPU-second of one core (one thread alone, so process CPU time is its time) */
static double peak(void) {
    double best = 0;
    int r;
    for (r = 0; r < 3; r++) {
        double s = fma_loop(20000000);
        if (s > best) best = s;
    }
    return best;
}

typedef struct {
    int kind, C, L; /* L: -1 recurrent, else chunk length */
    int bwd;
    double best, best_cpu; /* wall and CPU seconds */
} variant;

static rl_tensor mk(rl_rng *g, int64_t R, int64_t C, float lo, float hi, int grad) {
    int64_t s[2], i;
    rl_tensor t;
    s[0] = R;
    s[1] = C;
    t = rl_wrap(malloc(sizeof(float) * (size_t)(R * C)), RL_F32, 2, s, grad);
    for (i = 0; i < R * C; i++) ((float *)t.data)[i] = lo + (hi - lo) * rl_rng_uniform(g);
    if (grad) t.grad = (float *)calloc((size_t)(R * C), sizeof(float));
    return t;
}

enum { B = 4, T = 512, N = 64 };

/* seconds of one call (forward, or forward + backward of Σ y); *cpu: CPU seconds */
static double run(rl_pool *pool, const variant *v, double *cpu) {
    int H = v->C / N, q;
    rl_rng g;
    rl_tensor in[6];
    rl_ctx c;
    rl_tensor *y;
    double t0, c0;
    int64_t R = (int64_t)B * T;
    rl_rng_seed(&g, 1);
    for (q = 0; q < 6; q++) in[q] = mk(&g, R, v->C, -1, 1, v->bwd);
    for (q = 0; q < R * v->C; q++) { /* RWKV6 log w in [-2, 0); RWKV7 w in (0.6, 1); a, b small */
        ((float *)in[3].data)[q] = -0.01f - 2.0f * rl_rng_uniform(&g);
        ((float *)in[1].data)[q] = 0.6f + 0.39f * rl_rng_uniform(&g);
        ((float *)in[4].data)[q] *= 0.05f;
        ((float *)in[5].data)[q] *= 0.05f;
    }
    if (v->kind == 6 && getenv("CLAMPED")) /* the first channel of every head at the clamp, log w = -5 */
        for (q = 0; q < R * v->C; q += N) ((float *)in[3].data)[q] = -5.0f;
    rl_ctx_init(&c, pool);
    c.scan_chunk = v->L;
    t0 = now();
    c0 = cpu_now();
    if (v->kind == 6) y = rl_wkv6(&c, &in[0], &in[2], &in[5], &in[3], T, H, H, NULL, NULL);
    else y = rl_wkv7(&c, &in[0], &in[1], &in[2], &in[5], &in[4], &in[3], T, H, NULL, NULL);
    if (v->bwd) rl_backward(&c, rl_sum(&c, y));
    t0 = now() - t0;
    *cpu = cpu_now() - c0;
    rl_ctx_free(&c);
    for (q = 0; q < 6; q++) {
        free(in[q].data);
        free(in[q].grad);
    }
    return t0;
}

/* flops per head and token */
static double useful(int kind, int bwd) { /* the recurrent form's */
    double n2 = (double)N * N;
    return kind == 7 ? (bwd ? 37 : 9) * n2 : (bwd ? 19 : 5) * n2;
}
static double executed(int kind, int bwd, int L) { /* the chunked form's (per full chunk of L) */
    double n2 = (double)N * N, ln = (double)L * N;
    if (L < 0) return useful(kind, bwd);
    if (kind == 7) return bwd ? 28 * n2 + 57 * ln : 8 * n2 + 15 * ln;
    return bwd ? 12 * n2 + 14 * ln : 4 * n2 + 4 * ln;
}

int main(void) {
    static const int Cs[2] = {896, 576}, Ls[4] = {-1, 16, 32, 64};
    const char *e = getenv("ROUNDS");
    int rounds = e ? atoi(e) : 3, th, r, i, nv = 0, kind, ci, li, bwd;
    variant v[64];
    for (kind = 7; kind >= 6; kind--)
        for (ci = 0; ci < 2; ci++)
            for (bwd = 0; bwd <= 1; bwd++)
                for (li = 0; li < 4; li++) {
                    v[nv].kind = kind; v[nv].C = Cs[ci]; v[nv].L = Ls[li]; v[nv].bwd = bwd;
                    nv++;
                }
    printf("# isa %s; B = %d sequences x T = %d tokens, heads of %d; best of %d interleaved rounds%s\n",
           rl_isa_name(rl_isa_active()), B, T, N, rounds,
           getenv("CLAMPED") ? "; RWKV6: one channel per head at log w = -5 (CLAMPED)" : "");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool = rl_pool_create(th);
        double pk = peak(), pk2;
        for (i = 0; i < nv; i++) v[i].best = v[i].best_cpu = 1e30;
        for (r = 0; r < rounds; r++)
            for (i = 0; i < nv; i++) {
                double cpu, t = run(pool, &v[i], &cpu);
                if (t < v[i].best) v[i].best = t;
                if (cpu < v[i].best_cpu) v[i].best_cpu = cpu;
            }
        pk2 = peak();
        if (pk2 > pk) pk = pk2;
        printf("\n## %d thread%s; fp32 FMA peak measured %.1f GFLOP per core-second of CPU time\n\n", th, th > 1 ? "s" : "", pk / 1e9);
        printf("| scan | C (heads) | pass | form | tokens/s | vs recurrent | useful GFLOP/s | executed GFLOP per CPU-s | %% of peak |\n");
        printf("|---|---|---|---|---|---|---|---|---|\n");
        for (i = 0; i < nv; i++) {
            const variant *x = &v[i];
            int H = x->C / N;
            double tps = (double)B * T / x->best, rec = 0, ex;
            int k;
            for (k = 0; k < nv; k++)
                if (v[k].kind == x->kind && v[k].C == x->C && v[k].bwd == x->bwd && v[k].L < 0) rec = (double)B * T / v[k].best;
            ex = (double)B * T / x->best_cpu * H * executed(x->kind, x->bwd, x->L) / 1e9;
            printf("| wkv%d | %d (%d) | %s | %s%.0d | %.0f | %.2f | %.1f | %.1f | ", x->kind, x->C, H,
                   x->bwd ? "fwd+bwd" : "fwd", x->L < 0 ? "recurrent" : "chunked L=", x->L < 0 ? 0 : x->L, tps, tps / rec,
                   tps * H * useful(x->kind, x->bwd) / 1e9, ex);
            if (pk > 0) printf("%.0f%% |\n", 100 * ex * 1e9 / pk);
            else printf("- |\n");
            fflush(stdout);
        }
        rl_pool_free(pool);
    }
    return 0;
}
