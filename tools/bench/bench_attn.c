/* bench_attn - causal softmax attention of one head: blocks of query rows as matrix
   products (rl__attn_fwd_blocks, rl__attn_bwd_blocks) and, for the forward, one dot product
   and one axpy per (query, key) pair (rl__attn_fwd_rows: what decoding uses for a single
   query, and the algorithm of every attention before blocks). Heads of 64 in a SmolLM2-135M layer's
   layout (9 query heads, 3 kv heads: rows of 576 and 192 floats), one thread, best of
   interleaved repeats; GFLOP/s counts the causal half of the products (forward 2, backward
   5 matrix products of T²/2 · d multiply-adds, 2 flops each).
   Build and run: make bench-attn */
#include "bench.h"

static double best_of(int which, rl__attn_head *a, const rl__mmbuf *mb, float *p, int reps) {
    double best = 1e30;
    int r;
    for (r = 0; r < reps; r++) {
        double t = now();
        switch (which) {
        case 0: rl__attn_fwd_rows(a, 0, a->T, p); break;
        case 1: rl__attn_fwd_blocks(a, mb, p); break;
        default: rl__attn_bwd_blocks(a, mb, p); break;
        }
        t = now() - t;
        if (t < best) best = t;
    }
    return best;
}

int main(void) {
    static const int64_t Ts[] = {128, 512, 2048, 8192};
    const int64_t d = 64, qs = 9 * 64, ks = 3 * 64;
    const rl__kern *K = rl__kern_get();
    rl_rng g;
    int ti;
    rl_rng_seed(&g, 3);
    printf("# isa %s, 1 thread, one head of d = %lld (q rows of %lld floats, k/v rows of %lld); GFLOP/s and ms per head\n",
           rl_isa_name(rl_isa_active()), (long long)d, (long long)qs, (long long)ks);
    printf("| T | forward rows | forward blocks | speed-up | backward blocks |\n|---|---|---|---|---|\n");
    for (ti = 0; ti < 4; ti++) {
        int64_t T = Ts[ti], i, nq = T * qs, nk = T * ks;
        float *q = (float *)malloc(sizeof(float) * (size_t)(3 * nq + 4 * nk)), *o = q + nq, *go = o + nq, *k = go + nq, *v = k + nk;
        float *gq = (float *)calloc((size_t)(nq + 2 * nk), sizeof(float)), *lse = (float *)malloc(sizeof(float) * (size_t)T);
        int64_t pkf = rl__mmbuf_floats((int64_t)K->mc * K->kc);
        float *mem = (float *)rl__aligned_alloc(sizeof(float) * (size_t)(pkf + 2 * (RL__ATT_BQ + d) * T));
        rl__mmbuf mb;
        rl__attn_head a;
        double t[3] = {1e30, 1e30, 1e30}, fl = 2.0 * T * T / 2 * d * 2; /* forward */
        int reps = T <= 512 ? 5 : T <= 2048 ? 2 : 1, r, w;
        for (i = 0; i < 3 * nq + 2 * nk; i++) q[i] = rl_rng_uniform(&g) - 0.5f;
        mb.K = K; mb.pk = mem; mb.ap_cap = (int64_t)K->mc * K->kc;
        memset(&a, 0, sizeof a);
        a.q = q; a.k = k; a.v = v; a.go = go; a.o = o; a.lse = lse; a.gq = gq; a.gk = gq + nq; a.gv = gq + nq + nk;
        a.qs = qs; a.ks = ks; a.T = T; a.d = d;
        for (r = 0; r < 2; r++) /* two interleaved rounds */
            for (w = 0; w < 3; w++) {
                double s = best_of(w, &a, &mb, mem + pkf, reps);
                if (s < t[w]) t[w] = s;
            }
        printf("| %lld | %.2f (%.1f ms) | %.2f (%.1f ms) | %.1fx | %.2f (%.1f ms) |\n", (long long)T, fl / t[0] * 1e-9, t[0] * 1e3,
               fl / t[1] * 1e-9, t[1] * 1e3, t[0] / t[1], 2.5 * fl / t[2] * 1e-9, t[2] * 1e3);
        fflush(stdout);
        rl__aligned_free(mem);
        free(q);
        free(gq);
        free(lse);
    }
    return 0;
}
