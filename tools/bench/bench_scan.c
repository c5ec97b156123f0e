/* bench_scan - tokens/s of the RAD-RWKV scans (rl_wkv6, rl_wkv7): forward token by token,
   forward in the chunked parallel form, and forward + backward (the training path), for
   head sizes 64 and 128 at T = 512 and 4096, one sequence, width C = 896 (Qwen2.5-0.5B).
   Build and run: make bench-scan */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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

/* mode 0: recurrent forward, 1: chunked forward (L = 32), 2: forward + backward */
static double run(rl_pool *pool, int kind, int64_t T, int N, int mode) {
    const int64_t C = 896;
    int H = (int)(C / N), q, reps = 0;
    rl_rng g;
    rl_tensor in[6];
    double t0, best = 1e30;
    rl_rng_seed(&g, 1);
    for (q = 0; q < 6; q++) in[q] = mk(&g, T, C, -1, 1, mode == 2);
    for (q = 0; q < T * C; q++) { /* decays: RWKV6 log w in [-5, 0), RWKV7 w in (0.55, 1) */
        ((float *)in[3].data)[q] = -0.01f - 2.0f * rl_rng_uniform(&g);
        ((float *)in[1].data)[q] = 0.6f + 0.39f * rl_rng_uniform(&g);
        ((float *)in[4].data)[q] *= 0.05f; /* a, b small: a stable delta rule */
        ((float *)in[5].data)[q] *= 0.05f;
    }
    do {
        rl_ctx c;
        rl_tensor *y;
        rl_ctx_init(&c, pool);
        c.scan_chunk = mode == 1 ? 32 : 0;
        t0 = now();
        if (kind == 6) y = rl_wkv6(&c, &in[0], &in[2], &in[5], &in[3], T, H, H, NULL, NULL);
        else y = rl_wkv7(&c, &in[0], &in[1], &in[2], &in[5], &in[4], &in[3], T, H, NULL, NULL);
        if (mode == 2) rl_backward(&c, rl_sum(&c, y));
        t0 = now() - t0;
        if (t0 < best) best = t0;
        rl_ctx_free(&c);
    } while (++reps < 3);
    for (q = 0; q < 6; q++) {
        free(in[q].data);
        free(in[q].grad);
    }
    return (double)T / best;
}

int main(void) {
    static const int64_t Ts[2] = {512, 4096};
    static const int Ns[2] = {64, 128};
    int th, kind, ti, ni;
    printf("# tokens/s, one sequence, C = 896, isa %s, best of 3\n", rl_isa_name(rl_isa_active()));
    printf("| threads | scan | head size | T | recurrent fwd | chunked fwd (L=32) | chunked / recurrent | fwd+bwd (training) |\n|---|---|---|---|---|---|---|---|\n");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool = rl_pool_create(th);
        for (kind = 6; kind <= 7; kind++)
            for (ni = 0; ni < 2; ni++)
                for (ti = 0; ti < 2; ti++) {
                    double r = run(pool, kind, Ts[ti], Ns[ni], 0), ch = run(pool, kind, Ts[ti], Ns[ni], 1), fb = run(pool, kind, Ts[ti], Ns[ni], 2);
                    printf("| %d | wkv%d | %d | %lld | %.0f | %.0f | %.2f | %.0f |\n", th, kind, Ns[ni], (long long)Ts[ti], r, ch, ch / r, fb);
                    fflush(stdout);
                }
        rl_pool_free(pool);
    }
    return 0;
}
