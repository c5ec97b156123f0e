/* ab_scan - two versions of radlads.h in one process: the chunked scans' forward + backward
   (rl_wkv7 / rl_wkv6, then rl_backward of Σ y) of each, called in turn on the same inputs,
   best time of each. Separate runs of two builds of bench_scan differ by ±20-40% on a shared
   VM; calls taken in turn see the same machine (the method of ab_gemm.c, which says how the
   file is compiled: make bench-ab-scan OLD=path/to/old/radlads.h).
   Run: ab_scan [threads secs] -- per case (scan, width, chunk length) `secs` seconds of pairs,
   B = 4 sequences of T = 512 tokens, heads of 64, inputs as bench_scan's. The ratio is old
   time / new time (> 1: the new header is faster). */
#include "ab.h"

enum { B = 4, T = 512, N = 64 };

#ifdef AB_SIDE
/* seconds of one forward + backward; in[0..5] = r, w (RWKV6: log w), k, v, a, b of [B·T, C];
   their gradients g[0..5] are zeroed first (untimed). One context per side, reset after each
   call as a training loop resets its own: its arena's pages are touched once, not per call. */
double AB_CAT(ab_scan_, AB_SIDE)(int kind, int C, int L, float *const *in, float *const *g) {
    static rl_ctx c;
    static int ready;
    rl_tensor t[6], *y;
    int64_t s[2];
    double t0;
    int q;
    s[0] = (int64_t)B * T;
    s[1] = C;
    for (q = 0; q < 6; q++) {
        t[q] = rl_wrap(in[q], RL_F32, 2, s, 1);
        t[q].grad = g[q];
        memset(g[q], 0, sizeof(float) * (size_t)(s[0] * C));
    }
    if (!ready) rl_ctx_init(&c, pool), ready = 1;
    c.scan_chunk = L;
    t0 = now();
    if (kind == 6) y = rl_wkv6(&c, &t[0], &t[2], &t[3], &t[1], T, C / N, C / N, NULL, NULL);
    else y = rl_wkv7(&c, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], T, C / N, NULL, NULL);
    if (y) rl_backward(&c, rl_sum(&c, y));
    t0 = now() - t0;
    if (!y) fprintf(stderr, "ab_scan: %s\n", rl_last_error());
    rl_ctx_reset(&c);
    return t0;
}
#else
double ab_scan_a(int, int, int, float *const *, float *const *);
double ab_scan_b(int, int, int, float *const *, float *const *);

int main(int argc, char **argv) {
    static const int Cs[2] = {896, 576}, Ls[2] = {16, 32};
    int threads = argc > 1 ? atoi(argv[1]) : 1, kind, ci, li, q, pairs;
    double secs = argc > 2 ? atof(argv[2]) : 4.0, ta, tb, t, start;
    long n = (long)B * T * 896, i;
    float *in[6], *in6[6], *g[6], *lw = (float *)malloc(sizeof(float) * (size_t)n);
    unsigned long long x = 1;
    if (threads < 1 || secs <= 0) {
        fprintf(stderr, "usage: ab_scan [threads secs]\n");
        return 2;
    }
    for (q = 0; q < 6; q++) {
        in[q] = ab_uniform(n, &x);
        g[q] = (float *)malloc(sizeof(float) * (size_t)n);
        if (!in[q] || !g[q] || !lw) {
            fprintf(stderr, "ab_scan: out of memory\n");
            return 1;
        }
    }
    for (i = 0; i < n; i++) { /* as bench_scan: RWKV7 w in [0.6, 0.99], RWKV6 log w in [-2, 0), a and b small */
        lw[i] = -1.005f + 0.995f * in[1][i];
        in[1][i] = 0.795f + 0.195f * in[1][i];
        in[4][i] *= 0.05f;
        in[5][i] *= 0.05f;
    }
    memcpy(in6, in, sizeof in);
    in6[1] = lw;
    ab_init_a(threads);
    ab_init_b(threads);
    printf("| scan | C | chunk | threads | old ms | new ms | old / new time | pairs |\n|---|---|---|---|---|---|---|---|\n");
    for (kind = 7; kind >= 6; kind--)
        for (ci = 0; ci < 2; ci++)
            for (li = 0; li < 2; li++) {
                for (pairs = 0, ta = tb = 1e30, start = now(); now() - start < secs; pairs++) { /* the first pair warms up */
                    t = ab_scan_a(kind, Cs[ci], Ls[li], kind == 6 ? in6 : in, g);
                    if (pairs && t < ta) ta = t;
                    t = ab_scan_b(kind, Cs[ci], Ls[li], kind == 6 ? in6 : in, g);
                    if (pairs && t < tb) tb = t;
                }
                if (pairs < 2) {
                    fprintf(stderr, "ab_scan: %d pair(s) in %g s: give it more seconds\n", pairs, secs);
                    return 1;
                }
                printf("| wkv%d | %d | %d | %d | %.1f | %.1f | %.3f | %d |\n", kind, Cs[ci], Ls[li], threads, ta * 1e3, tb * 1e3, ta / tb,
                       pairs);
                fflush(stdout);
            }
    return 0;
}
#endif
