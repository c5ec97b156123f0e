/* ab_attn - two versions of radlads.h in one process: causal GQA attention (rl_attention,
   then rl_backward of Σ y) of each, called in turn on the same inputs, best time of each (the
   method of ab_gemm.c, which says how the file is compiled: make bench-ab-attn
   OLD=path/to/old/radlads.h). A SmolLM2-135M layer's heads: 9 query heads and 3 kv heads of
   64, one sequence of T tokens for T = 128, 512, 2048.
   Run: ab_attn [threads secs] -- `secs` seconds of pairs per (T, pass). The ratio is old time /
   new time (> 1: the new header is faster). */
#include "ab.h"

enum { H = 9, KVH = 3, D = 64 };

#ifdef AB_SIDE
/* seconds of a forward (bwd 0) or a forward + backward (bwd 1) over q [T, H·D], k, v [T, KVH·D];
   their gradients g[0..2] zeroed first (untimed). One context per side, reset after each call. */
double AB_CAT(ab_attn_, AB_SIDE)(int T, int bwd, float *const *in, float *const *g) {
    static rl_ctx c;
    static int ready;
    rl_tensor t[3], *y;
    int64_t s[2];
    double t0;
    int q;
    s[0] = T;
    for (q = 0; q < 3; q++) {
        s[1] = (q ? KVH : H) * D;
        t[q] = rl_wrap(in[q], RL_F32, 2, s, bwd);
        t[q].grad = bwd ? g[q] : NULL;
        if (bwd) memset(g[q], 0, sizeof(float) * (size_t)(s[0] * s[1]));
    }
    if (!ready) rl_ctx_init(&c, pool), ready = 1;
    t0 = now();
    y = rl_attention(&c, &t[0], &t[1], &t[2], T, H, KVH);
    if (y && bwd) rl_backward(&c, rl_sum(&c, y));
    t0 = now() - t0;
    if (!y) fprintf(stderr, "ab_attn: %s\n", rl_last_error());
    rl_ctx_reset(&c);
    return t0;
}
#else
double ab_attn_a(int, int, float *const *, float *const *);
double ab_attn_b(int, int, float *const *, float *const *);

int main(int argc, char **argv) {
    static const int Ts[3] = {128, 512, 2048};
    int threads = argc > 1 ? atoi(argv[1]) : 1, ti, bwd, q, pairs;
    double secs = argc > 2 ? atof(argv[2]) : 3.0, ta, tb, t, start;
    long n = 2048L * H * D;
    float *in[3], *g[3];
    unsigned long long x = 1;
    if (threads < 1 || secs <= 0) {
        fprintf(stderr, "usage: ab_attn [threads secs]\n");
        return 2;
    }
    for (q = 0; q < 3; q++) {
        in[q] = ab_uniform(n, &x);
        g[q] = (float *)malloc(sizeof(float) * (size_t)n);
        if (!in[q] || !g[q]) {
            fprintf(stderr, "ab_attn: out of memory\n");
            return 1;
        }
    }
    ab_init_a(threads);
    ab_init_b(threads);
    printf("| T | pass | threads | old ms | new ms | old / new time | pairs |\n|---|---|---|---|---|---|---|\n");
    for (ti = 0; ti < 3; ti++)
        for (bwd = 0; bwd < 2; bwd++) {
            for (pairs = 0, ta = tb = 1e30, start = now(); now() - start < secs; pairs++) { /* the first pair warms up */
                t = ab_attn_a(Ts[ti], bwd, in, g);
                if (pairs && t < ta) ta = t;
                t = ab_attn_b(Ts[ti], bwd, in, g);
                if (pairs && t < tb) tb = t;
            }
            if (pairs < 2) {
                fprintf(stderr, "ab_attn: %d pair(s) in %g s: give it more seconds\n", pairs, secs);
                return 1;
            }
            printf("| %d | %s | %d | %.2f | %.2f | %.3f | %d |\n", Ts[ti], bwd ? "fwd+bwd" : "fwd", threads, ta * 1e3, tb * 1e3, ta / tb,
                   pairs);
            fflush(stdout);
        }
    return 0;
}
#endif
