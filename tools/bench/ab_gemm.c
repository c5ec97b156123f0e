/* ab_gemm - two versions of radlads.h in one process: rl_gemm of each, called in turn on the
   same operands until `secs` have passed, best time of each. On a shared VM whose speed drifts
   from minute to minute, separate runs of two builds differ by ±10-20%; calls taken in turn
   see the same machine, so a change of a few percent shows (BENCHMARKS.md).
   The file is compiled three times: each side with RADLADS_STATIC (no clashing symbols) and
   its header, then the driver:
     cc -O2 -c -DAB_SIDE=a -DAB_HEADER='"OLD/radlads.h"' tools/bench/ab_gemm.c -o a.o
     cc -O2 -c -DAB_SIDE=b -DAB_HEADER='"radlads.h"'     tools/bench/ab_gemm.c -o b.o
     cc -O2 tools/bench/ab_gemm.c a.o b.o -lm -lpthread -o ab_gemm
   (make bench-ab OLD=path/to/old/radlads.h). Run: ab_gemm N K [threads layout bf16 secs]
   with layout nt (y = x·Wᵀ), nn (dx = dy·W) or tn (dW = dyᵀ·x) of M = 512 rows; bf16 1: W in
   bf16 (nt only). The ratio is old time / new time (> 1: the new header is faster).
   AB_FLUSH_MB=n in the environment writes n MB before every call (untimed): operands that
   come from the L3 or from memory, as inside a training step, instead of from the L2. */
#include "ab.h"

#ifdef AB_SIDE
/* one product; the operands as the driver lays them out (A: M×K or, tn, N×M read transposed) */
void AB_CAT(ab_gemm_, AB_SIDE)(int layout, long M, long N, long K, const float *A, const void *W, int bf16, float *C) {
    if (layout == 0) rl_gemm(pool, M, N, K, A, K, 1, W, bf16 ? RL_BF16 : RL_F32, 1, K, C, N, 0); /* x·Wᵀ, W [N,K] */
    else if (layout == 1) rl_gemm(pool, M, K, N, A, N, 1, W, RL_F32, K, 1, C, K, 0);         /* dy·W, dy [M,N] */
    else rl_gemm(pool, N, K, M, A, 1, N, W, RL_F32, K, 1, C, K, 0);                           /* dyᵀ·x, dy [M,N], x [M,K] */
}
unsigned short AB_CAT(ab_bf16_, AB_SIDE)(float x) { return rl_f32_to_bf16(x); }
#else
void ab_gemm_a(int, long, long, long, const float *, const void *, int, float *);
void ab_gemm_b(int, long, long, long, const float *, const void *, int, float *);
unsigned short ab_bf16_a(float);


int main(int argc, char **argv) {
    static const char *names[3] = {"nt x·Wᵀ", "nn dy·W", "tn dyᵀ·x"};
    long M = 512, N, K, i, nA, nW;
    int threads = argc > 3 ? atoi(argv[3]) : 1, layout = 0, bf16 = argc > 5 ? atoi(argv[5]) : 0, pairs;
    double secs = argc > 6 ? atof(argv[6]) : 4.0, ta = 1e30, tb = 1e30, t, start;
    float *A, *Wf, *C;
    unsigned short *Wh;
    size_t flush = getenv("AB_FLUSH_MB") ? (size_t)atol(getenv("AB_FLUSH_MB")) << 20 : 0;
    char *fb = flush ? (char *)malloc(flush) : NULL;
    if (argc < 3 || (N = atol(argv[1])) < 1 || (K = atol(argv[2])) < 1 || threads < 1) {
        fprintf(stderr, "usage: ab_gemm N K [threads layout(nt|nn|tn) bf16(0|1) secs]\n");
        return 2;
    }
    if (argc > 4) layout = !strcmp(argv[4], "nn") ? 1 : !strcmp(argv[4], "tn") ? 2 : 0;
    if (layout) bf16 = 0;
    nA = layout ? M * N : M * K; /* x [M,K], or dy [M,N] */
    nW = layout == 2 ? M * K : N * K; /* W [N,K], or x [M,K] */
    A = (float *)malloc(sizeof(float) * (size_t)nA);
    Wf = (float *)malloc(sizeof(float) * (size_t)nW);
    Wh = (unsigned short *)malloc(sizeof(unsigned short) * (size_t)nW);
    C = (float *)malloc(sizeof(float) * (size_t)(N > M ? N : M) * (size_t)(K > N ? K : N));
    if (!A || !Wf || !Wh || !C || (flush && !fb)) {
        fprintf(stderr, "ab_gemm: out of memory\n");
        return 1;
    }
    for (i = 0; i < nA; i++) A[i] = (float)(i * 7919 % 1000) / 1000.0f - 0.5f;
    for (i = 0; i < nW; i++) Wf[i] = (float)(i * 104729 % 1000) / 1000.0f - 0.5f, Wh[i] = ab_bf16_a(Wf[i]);
    ab_init_a(threads);
    ab_init_b(threads);
    for (pairs = 0, start = now(); now() - start < secs; pairs++) { /* the first pair warms both up */
        if (fb) memset(fb, pairs & 0xff, flush);
        t = now(), ab_gemm_a(layout, M, N, K, A, bf16 ? (const void *)Wh : Wf, bf16, C), t = now() - t;
        if (pairs && t < ta) ta = t;
        if (fb) memset(fb, pairs & 0xff, flush);
        t = now(), ab_gemm_b(layout, M, N, K, A, bf16 ? (const void *)Wh : Wf, bf16, C), t = now() - t;
        if (pairs && t < tb) tb = t;
    }
    if (pairs < 2) {
        fprintf(stderr, "ab_gemm: %d pair(s) in %g s: give it more seconds\n", pairs, secs);
        return 1;
    }
    printf("| %d | %s%s | %ld x %ld | %.1f | %.1f | %.3f | %d |\n", threads, names[layout], bf16 ? " (bf16 W)" : "", N, K,
           2.0 * M * N * K / ta * 1e-9, 2.0 * M * N * K / tb * 1e-9, ta / tb, pairs);
    return 0;
}
#endif
