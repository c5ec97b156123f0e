/* test_cuda_scans - radlads_cuda.cu's scans against radlads.h's CPU scans (rl_wkv6, rl_wkv7).
   Random inputs with decays in the RADLADS ranges (RWKV6 log w in [-5, 0); RWKV7
   w = exp(-e^-0.5 σ(x)) in (0.545, 1), a = -κ, b = κ⊙iclr with κ of unit norm per head),
   B 2, H 4 (RWKV6: KVH 2), N 64 / 128 / 48, T 1 / 17 / 100 / 513. Compared: output, final
   state, every input gradient (loss = Σ y⊙U + Σ S_T⊙V, so dy = U, dS_T = V), plus the kept
   states the GPU forward hands back (the CPU fallback reads them), gradient accumulation,
   and the NULL paths (no initial state, no dy, no dS_T, H == KVH). A tensor passes when
   max|gpu - cpu| <= 1e-4 · max|cpu|.
   Prints SKIP when rl_cuda_available() is 0 (no GPU or no driver).

   test_cuda_scans --bench [--batch B]: tokens/s of the CPU scans and the GPU ones, forward
   and forward+backward, T 512 / 4096, N 64 / 128, width C = 896 (as tools/bench/bench_scan.c),
   one line per ratio.

   Build: make -f tools/cuda.mk cuda (GPU) or make -f tools/cuda.mk cuda-emu (the same
   kernels run on the CPU by tests/cuda/cuda_emu.h, to check their logic without a GPU). */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#define RADLADS_CUDA /* radlads.h declares radlads_cuda.cu's API (and keeps its CPU scans: ctx.use_cuda is 0) */
#include "../../radlads.h"
#include "../rl_test.h"
#include <time.h>

/* the two calls of radlads_cuda.cu's C API that radlads.h does not declare */
size_t rl_cuda_ck_floats(int64_t B, int64_t T, int H, int N);
int rl_cuda_sync(void);

#define TOL 1e-4
static rl_pool *pool;
static rl_rng rng;
static double worst_err;

/* One problem: inputs in[] (RWKV6: r, k, v, logw; RWKV7: r, w, k, v, a, b), optional
   initial state, the loss weights U (for y) and V (for S_T), either of which may be absent. */
typedef struct {
    int kind, H, KVH, N;
    int64_t B, T;
    int n_in;
    float *in[6];
    int64_t n[6]; /* elements of each input */
    float *state, *U, *V;
    int64_t nq, ns; /* B*T*H*N, B*H*N*N */
} problem;

static float unif(float lo, float hi) { return lo + (hi - lo) * rl_rng_uniform(&rng); }
static float *falloc(int64_t n) { return (float *)calloc((size_t)n, sizeof(float)); }

static void problem_make(problem *p, int kind, int64_t B, int64_t T, int H, int KVH, int N, int with_state, int with_dy,
                         int with_ds) {
    int64_t i, q;
    memset(p, 0, sizeof *p);
    p->kind = kind; p->B = B; p->T = T; p->H = H; p->KVH = kind == 6 ? KVH : H; p->N = N;
    p->nq = B * T * H * N;
    p->ns = B * H * N * N;
    p->n_in = kind == 6 ? 4 : 6;
    for (q = 0; q < p->n_in; q++) {
        p->n[q] = (kind == 6 && (q == 1 || q == 2)) ? B * T * p->KVH * N : p->nq;
        p->in[q] = falloc(p->n[q]);
        for (i = 0; i < p->n[q]; i++) p->in[q][i] = unif(-1, 1);
    }
    if (kind == 6) {
        for (i = 0; i < p->nq; i++) { /* log w = max(-exp(d), -5), d spanning the RADLADS init range and beyond */
            float lw = -expf(unif(-6.0f, 2.0f));
            p->in[3][i] = lw < -5.0f ? -5.0f : lw;
        }
    } else {
        for (i = 0; i < p->nq; i++) {
            p->in[1][i] = expf(-0.60653066f / (1.0f + expf(-unif(-6.0f, 6.0f)))); /* exp(-e^-0.5 σ(x)) */
            p->in[2][i] *= 0.5f;
        }
        for (i = 0; i < p->nq; i += N) { /* κ: unit norm per head and token; a = -κ, b = κ ⊙ iclr */
            double s = 0;
            for (q = 0; q < N; q++) s += (double)p->in[4][i + q] * p->in[4][i + q];
            s = 1.0 / sqrt(s + 1e-12);
            for (q = 0; q < N; q++) {
                float kap = (float)(p->in[4][i + q] * s);
                p->in[4][i + q] = -kap;
                p->in[5][i + q] = kap * unif(0, 1);
            }
        }
    }
    if (with_state) {
        p->state = falloc(p->ns);
        for (i = 0; i < p->ns; i++) p->state[i] = unif(-0.5f, 0.5f);
    }
    if (with_dy) {
        p->U = falloc(p->nq);
        for (i = 0; i < p->nq; i++) p->U[i] = unif(-1, 1);
    }
    if (with_ds) {
        p->V = falloc(p->ns);
        for (i = 0; i < p->ns; i++) p->V[i] = unif(-1, 1);
    }
}

static void problem_free(problem *p) {
    int q;
    for (q = 0; q < p->n_in; q++) free(p->in[q]);
    free(p->state);
    free(p->U);
    free(p->V);
}

/* Results: y, S_T, gradients g[0..n_in) of the inputs and g[6] of the state. */
typedef struct {
    float *y, *S, *g[7];
} result;

static void result_alloc(const problem *p, result *o) {
    int q;
    memset(o, 0, sizeof *o);
    o->y = falloc(p->nq);
    o->S = falloc(p->ns);
    for (q = 0; q < p->n_in; q++) o->g[q] = falloc(p->n[q]);
    if (p->state) o->g[6] = falloc(p->ns);
}
static void result_free(result *o) {
    int q;
    free(o->y);
    free(o->S);
    for (q = 0; q < 7; q++) free(o->g[q]);
}

/* radlads.h: forward with S_T, loss = Σ y⊙U + Σ S_T⊙V, backward */
static int run_cpu(const problem *p, result *o, int grad) {
    rl_ctx c;
    rl_tensor t[6], st, *y, *S = NULL, *loss = NULL;
    int64_t s2[2], s4[4];
    int q, ok;
    rl_ctx_init(&c, pool);
    for (q = 0; q < p->n_in; q++) {
        s2[0] = p->B * p->T;
        s2[1] = p->n[q] / s2[0];
        t[q] = rl_wrap(p->in[q], RL_F32, 2, s2, grad);
        t[q].grad = grad ? o->g[q] : NULL;
    }
    s4[0] = p->B; s4[1] = p->H; s4[2] = p->N; s4[3] = p->N;
    st = rl_wrap(p->state, RL_F32, 4, s4, grad);
    st.grad = grad ? o->g[6] : NULL;
    if (p->kind == 6)
        y = rl_wkv6(&c, &t[0], &t[1], &t[2], &t[3], p->T, p->H, p->KVH, p->state ? &st : NULL, &S);
    else
        y = rl_wkv7(&c, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], p->T, p->H, p->state ? &st : NULL, &S);
    ok = y && S && !c.err;
    if (ok) {
        memcpy(o->y, rl_f32(y), sizeof(float) * (size_t)p->nq);
        memcpy(o->S, rl_f32(S), sizeof(float) * (size_t)p->ns);
    }
    if (ok && grad) {
        if (p->U) loss = rl_dot_const(&c, y, p->U);
        if (p->V) loss = loss ? rl_add(&c, loss, rl_dot_const(&c, S, p->V)) : rl_dot_const(&c, S, p->V);
        ok = loss && rl_backward(&c, loss) == RL_OK;
    }
    rl_ctx_free(&c);
    return ok;
}

static int run_gpu_fwd(const problem *p, result *o, float *ck) {
    float *const *x = p->in;
    if (p->kind == 6)
        return rl_cuda_wkv6_forward_host(p->B, p->T, p->H, p->KVH, p->N, x[0], x[1], x[2], x[3], p->state, o->y, o->S, ck);
    return rl_cuda_wkv7_forward_host(p->B, p->T, p->H, p->N, x[0], x[1], x[2], x[3], x[4], x[5], p->state, o->y, o->S, ck);
}

static int run_gpu_bwd(const problem *p, result *o) {
    float *const *x = p->in, *const *g = o->g;
    if (p->kind == 6)
        return rl_cuda_wkv6_backward_host(p->B, p->T, p->H, p->KVH, p->N, x[0], x[1], x[2], x[3], p->state, p->U, p->V,
                                          g[0], g[1], g[2], g[3], g[6]);
    return rl_cuda_wkv7_backward_host(p->B, p->T, p->H, p->N, x[0], x[1], x[2], x[3], x[4], x[5], p->state, p->U, p->V,
                                      g[0], g[1], g[2], g[3], g[4], g[5], g[6]);
}

/* max|a - b| / max|b| (NaN anywhere: infinity) */
static double rel_err(const float *a, const float *b, int64_t n) {
    double d = 0, m = 0;
    int64_t i;
    for (i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (e != e || a[i] != a[i]) return INFINITY;
        if (e > d) d = e;
        if (fabs((double)b[i]) > m) m = fabs((double)b[i]);
    }
    return m > 0 ? d / m : (d > 0 ? INFINITY : 0);
}

static void expect_close(const char *what, const problem *p, const float *gpu, const float *cpu, int64_t n, double scale) {
    double e;
    if (scale != 1.0) { /* compare gpu against scale·cpu */
        float *s = falloc(n);
        int64_t i;
        for (i = 0; i < n; i++) s[i] = (float)(scale * cpu[i]);
        e = rel_err(gpu, s, n);
        free(s);
    } else {
        e = rel_err(gpu, cpu, n);
    }
    if (e == e && e > worst_err) worst_err = e;
    RLT_CHECK(e <= TOL, "wkv%d B %lld T %lld H %d KVH %d N %d%s%s%s: %s max rel error %.3g", p->kind, (long long)p->B,
              (long long)p->T, p->H, p->KVH, p->N, p->state ? "" : " no-state", p->U ? "" : " no-dy", p->V ? "" : " no-dS",
              what, e);
}

static const char *names6[7] = {"dr", "dk", "dv", "dlogw", "", "", "dstate_in"};
static const char *names7[7] = {"dr", "dw", "dk", "dv", "da", "db", "dstate_in"};

/* The kept states: entry c of (b, h) equals the CPU's final state after the first 16c tokens. */
static void check_ck(const problem *p, const float *ck) {
    const int64_t n_ck = (p->T + 15) / 16, NN = (int64_t)p->N * p->N;
    int64_t c, b, q, bh;
    for (c = 0; c < n_ck; c++) {
        float *want = falloc(p->ns), *got = falloc(p->ns);
        if (c == 0) {
            if (p->state) memcpy(want, p->state, sizeof(float) * (size_t)p->ns);
        } else { /* run the CPU scan on the prefixes */
            problem pre = *p;
            result o;
            pre.T = 16 * c;
            pre.nq = p->B * pre.T * p->H * p->N;
            pre.U = pre.V = NULL;
            for (q = 0; q < p->n_in; q++) {
                int64_t cols = p->n[q] / (p->B * p->T);
                pre.n[q] = p->B * pre.T * cols;
                pre.in[q] = falloc(pre.n[q]);
                for (b = 0; b < p->B; b++)
                    memcpy(pre.in[q] + b * pre.T * cols, p->in[q] + b * p->T * cols, sizeof(float) * (size_t)(pre.T * cols));
            }
            result_alloc(&pre, &o);
            RLT_CHECK(run_cpu(&pre, &o, 0), "CPU prefix scan failed: %s", rl_last_error());
            memcpy(want, o.S, sizeof(float) * (size_t)p->ns);
            result_free(&o);
            for (q = 0; q < p->n_in; q++) free(pre.in[q]);
        }
        for (bh = 0; bh < p->B * p->H; bh++) memcpy(got + bh * NN, ck + (bh * n_ck + c) * NN, sizeof(float) * (size_t)NN);
        {
            char what[64];
            snprintf(what, sizeof what, "kept state %lld", (long long)c);
            expect_close(what, p, got, want, p->ns, 1.0);
        }
        free(want);
        free(got);
    }
}

/* flags: 1 check the kept states, 2 check that gradients accumulate */
static void check_one(int kind, int64_t T, int N, int KVH, int with_state, int with_dy, int with_ds, int flags) {
    problem p;
    result cpu, gpu;
    float *ck = NULL;
    int q, ok;
    const char *const *names = kind == 6 ? names6 : names7;
    problem_make(&p, kind, 2, T, 4, KVH, N, with_state, with_dy, with_ds);
    result_alloc(&p, &cpu);
    result_alloc(&p, &gpu);
    ok = run_cpu(&p, &cpu, 1);
    RLT_CHECK(ok, "CPU wkv%d failed: %s", kind, rl_last_error());
    if (flags & 1) ck = falloc((int64_t)rl_cuda_ck_floats(p.B, p.T, p.H, p.N));
    if (ok) {
        ok = run_gpu_fwd(&p, &gpu, ck) == 0;
        RLT_CHECK(ok, "GPU wkv%d forward failed: %s", kind, rl_cuda_last_error());
    }
    if (ok) {
        expect_close("y", &p, gpu.y, cpu.y, p.nq, 1.0);
        expect_close("state_out", &p, gpu.S, cpu.S, p.ns, 1.0);
        if (ck) check_ck(&p, ck);
        ok = run_gpu_bwd(&p, &gpu) == 0;
        RLT_CHECK(ok, "GPU wkv%d backward failed: %s", kind, rl_cuda_last_error());
    }
    if (ok) {
        for (q = 0; q < p.n_in; q++) expect_close(names[q], &p, gpu.g[q], cpu.g[q], p.n[q], 1.0);
        if (p.state) expect_close(names[6], &p, gpu.g[6], cpu.g[6], p.ns, 1.0);
    }
    if (ok && (flags & 2)) { /* a second backward adds the same again */
        ok = run_gpu_bwd(&p, &gpu) == 0;
        RLT_CHECK(ok, "GPU wkv%d backward (again) failed: %s", kind, rl_cuda_last_error());
        for (q = 0; ok && q < p.n_in; q++) expect_close("accumulated gradient", &p, gpu.g[q], cpu.g[q], p.n[q], 2.0);
        if (ok && p.state) expect_close("accumulated dstate_in", &p, gpu.g[6], cpu.g[6], p.ns, 2.0);
    }
    free(ck);
    result_free(&cpu);
    result_free(&gpu);
    problem_free(&p);
}

static void check_errors(void) {
    float x = 0;
    rlt_begin("cuda scans: bad arguments are refused with a message");
    RLT_CHECK(rl_cuda_wkv6_forward(1, 4, 4, 3, 64, &x, &x, &x, &x, NULL, NULL, NULL, NULL) == -1 && rl_cuda_last_error()[0],
              "H %% KVH != 0 accepted");
    RLT_CHECK(rl_cuda_wkv7_forward(1, 4, 2, 129, &x, &x, &x, &x, &x, &x, NULL, NULL, NULL, NULL, NULL) == -1, "N 129 accepted");
    RLT_CHECK(rl_cuda_wkv7_forward(1, 0, 2, 64, &x, &x, &x, &x, &x, &x, NULL, NULL, NULL, NULL, NULL) == -1, "T 0 accepted");
    RLT_CHECK(rl_cuda_wkv6_backward(1, 4, 2, 2, 64, &x, &x, &x, &x, NULL, NULL, NULL, &x, NULL, NULL, NULL, NULL) == -1,
              "backward without kept states accepted");
    RLT_CHECK(rl_cuda_wkv7_backward(1, 4, 2, 64, &x, &x, &x, &x, &x, &x, &x, NULL, NULL, NULL, &x, NULL, NULL, NULL, NULL,
                                    NULL, NULL) == -1,
              "RWKV7 backward without sa accepted");
    rlt_end();
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- benchmark ---- */
static double best_of(int reps, int (*fn)(void *), void *ud) {
    double best = 1e30;
    int i;
    for (i = 0; i < reps; i++) {
        double t = now();
        if (fn(ud)) return -1;
        t = now() - t;
        if (t < best) best = t;
    }
    return best;
}

typedef struct {
    problem *p;
    result *o;
    float *d[18]; /* device copies: in[0..n_in) 0-5, U 7, y 9, S 10, ck 11, sa / dlogw 12, gradients 13-17 and 6, 8 */
    int grad;
} bench_ud;

static int b_cpu(void *u) {
    bench_ud *b = (bench_ud *)u;
    return !run_cpu(b->p, b->o, b->grad);
}
static int b_gpu_host(void *u) {
    bench_ud *b = (bench_ud *)u;
    if (run_gpu_fwd(b->p, b->o, NULL)) return 1;
    return b->grad ? run_gpu_bwd(b->p, b->o) : 0;
}
/* device pointers: only the kernels (and the backward's workspace allocation) are timed */
static int b_gpu_dev(void *u) {
    bench_ud *b = (bench_ud *)u;
    const problem *p = b->p;
    float **d = b->d;
    int rc;
    if (p->kind == 6) {
        rc = rl_cuda_wkv6_forward(p->B, p->T, p->H, p->KVH, p->N, d[0], d[1], d[2], d[3], NULL, d[9], d[10], b->grad ? d[11] : NULL);
        if (!rc && b->grad)
            rc = rl_cuda_wkv6_backward(p->B, p->T, p->H, p->KVH, p->N, d[0], d[1], d[2], d[3], d[11], d[7], NULL, d[13],
                                       d[14], d[15], d[12], NULL);
    } else {
        rc = rl_cuda_wkv7_forward(p->B, p->T, p->H, p->N, d[0], d[1], d[2], d[3], d[4], d[5], NULL, d[9], d[10],
                                  b->grad ? d[11] : NULL, b->grad ? d[12] : NULL);
        if (!rc && b->grad)
            rc = rl_cuda_wkv7_backward(p->B, p->T, p->H, p->N, d[0], d[1], d[2], d[3], d[4], d[5], d[11], d[12], d[7], NULL,
                                       d[13], d[14], d[15], d[16], d[17], d[8], NULL);
    }
    return rc || rl_cuda_sync();
}

static void bench(int64_t B) {
    static const int64_t Ts[2] = {512, 4096};
    static const int Ns[2] = {64, 128};
    const int64_t C = 896;
    int kind, ti, ni, grad, q;
    printf("# tokens/s (B x T / best time), C = %lld, B = %lld, H = C/N, RWKV6 KVH = H; CPU: radlads.h, %d threads, isa %s\n",
           (long long)C, (long long)B, rl_pool_size(pool), rl_isa_name(rl_isa_active()));
    printf("# GPU: %s\n", rl_cuda_device_name());
    printf("# gpu(host) = rl_cuda_*_host (copies and allocation included; fwd+bwd recomputes the forward on the GPU)\n");
    printf("# gpu(dev)  = rl_cuda_* on device pointers (+ rl_cuda_sync)\n");
    for (kind = 6; kind <= 7; kind++)
        for (ni = 0; ni < 2; ni++)
            for (ti = 0; ti < 2; ti++)
                for (grad = 0; grad <= 1; grad++) {
                    problem p;
                    result o;
                    bench_ud u;
                    double tc, th, td;
                    const int N = Ns[ni], H = (int)(C / N);
                    memset(&u, 0, sizeof u);
                    problem_make(&p, kind, B, Ts[ti], H, H, N, 0, 1, 0);
                    result_alloc(&p, &o);
                    u.p = &p;
                    u.o = &o;
                    u.grad = grad;
                    for (q = 0; q < 18; q++) {
                        size_t n = q == 11 ? rl_cuda_ck_floats(p.B, p.T, p.H, p.N) : q == 10 ? (size_t)p.ns : (size_t)p.nq;
                        u.d[q] = (float *)rl_cuda_malloc(n * sizeof(float));
                        if (u.d[q] && q < p.n_in) rl_cuda_copy(u.d[q], p.in[q], (size_t)p.n[q] * sizeof(float), 1);
                        if (u.d[q] && q == 7) rl_cuda_copy(u.d[q], p.U, (size_t)p.nq * sizeof(float), 1);
                        if (u.d[q] && (q >= 13 || q == 8 || (q == 12 && kind == 6))) /* gradients start at zero */
                            rl_cuda_copy(u.d[q], o.g[0], (size_t)p.nq * sizeof(float), 1);
                    }
                    tc = best_of(Ts[ti] >= 4096 && grad ? 1 : 2, b_cpu, &u);
                    th = b_gpu_host(&u) ? -1 : best_of(3, b_gpu_host, &u); /* first call warms up */
                    td = b_gpu_dev(&u) ? -1 : best_of(5, b_gpu_dev, &u);
                    if (tc < 0 || th < 0 || td < 0) {
                        printf("wkv%d N=%d T=%lld %s: failed: %s\n", kind, N, (long long)Ts[ti], grad ? "fwd+bwd" : "fwd",
                               tc < 0 ? rl_last_error() : rl_cuda_last_error());
                    } else {
                        double tok = (double)(B * Ts[ti]);
                        printf("wkv%d N=%-3d T=%-4lld %-7s gpu(host)/cpu %8.2f  (cpu %10.0f tok/s, gpu(host) %11.0f tok/s)\n",
                               kind, N, (long long)Ts[ti], grad ? "fwd+bwd" : "fwd", tc / th, tok / tc, tok / th);
                        printf("wkv%d N=%-3d T=%-4lld %-7s gpu(dev)/cpu  %8.2f  (cpu %10.0f tok/s, gpu(dev)  %11.0f tok/s)\n",
                               kind, N, (long long)Ts[ti], grad ? "fwd+bwd" : "fwd", tc / td, tok / tc, tok / td);
                    }
                    fflush(stdout);
                    for (q = 0; q < 18; q++) rl_cuda_free(u.d[q]);
                    result_free(&o);
                    problem_free(&p);
                }
}

int main(int argc, char **argv) {
    static const int Ns[3] = {64, 128, 48};
    static const int64_t Ts[4] = {1, 17, 100, 513};
    int kind, ni, ti, i, do_bench = 0;
    int64_t B = 1;
    char name[128];
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) do_bench = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) B = atoll(argv[++i]);
    }
    if (!rl_cuda_available()) {
        rlt_skip("cuda scans (radlads_cuda.cu vs radlads.h)", rl_cuda_last_error());
        return 0;
    }
    pool = rl_pool_create(0);
    rl_rng_seed(&rng, 7);
    if (do_bench) {
        bench(B < 1 ? 1 : B);
        rl_pool_free(pool);
        return 0;
    }
    printf("# device: %s\n", rl_cuda_device_name());
    check_errors();
    for (kind = 6; kind <= 7; kind++)
        for (ni = 0; ni < 3; ni++) {
            snprintf(name, sizeof name, "cuda wkv%d N=%d: y, state, kept states, all gradients vs CPU (rel err <= 1e-4)", kind, Ns[ni]);
            rlt_begin(name);
            worst_err = 0;
            for (ti = 0; ti < 4; ti++) {
                if (ni == 2 && Ts[ti] == 513) continue; /* the odd head size: short sequences suffice */
                check_one(kind, Ts[ti], Ns[ni], 2, 1, 1, 1, (Ts[ti] == 100 ? 1 : 0) | (Ts[ti] == 17 ? 2 : 0));
                if (Ts[ti] == 17) check_one(kind, Ts[ti], Ns[ni], 4, 0, 1, 0, 0); /* no state, no dS_T, H == KVH */
                if (Ts[ti] == 100) check_one(kind, Ts[ti], Ns[ni], 2, 1, 0, 1, 0); /* no dy */
            }
            printf("# wkv%d N=%d: worst relative error %.3g\n", kind, Ns[ni], worst_err);
            rlt_end();
        }
    rl_pool_free(pool);
    return rlt_exit();
}
