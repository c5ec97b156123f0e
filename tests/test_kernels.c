/* Every fast kernel against its naive twin, on every ISA path this machine has,
   on random inputs of odd and even sizes. */
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"

static rl_rng rng;

static void fill(float *x, long n, float lo, float hi) {
    long i;
    for (i = 0; i < n; i++) x[i] = lo + (hi - lo) * rl_rng_uniform(&rng);
}

static const long sizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 127, 1000, 4099};
#define NSIZES (long)(sizeof sizes / sizeof sizes[0])

typedef void (*unary_fn)(float *, const float *, int64_t);

static void check_unary(const char *name, unary_fn fast, unary_fn ref, float lo, float hi, double atol, double rtol) {
    long s;
    for (s = 0; s < NSIZES; s++) {
        long n = sizes[s], at;
        float *x = (float *)malloc(sizeof(float) * n), *y = (float *)malloc(sizeof(float) * n), *r = (float *)malloc(sizeof(float) * n);
        double w;
        fill(x, n, lo, hi);
        if (n > 2) { x[0] = lo; x[1] = hi; x[2] = 0.0f; }
        fast(y, x, n);
        ref(r, x, n);
        w = rlt_worst(y, r, n, atol, rtol, &at);
        RLT_CHECK(w <= 1.0, "%s n=%ld: x=%g fast %g naive %g", name, n, at >= 0 ? x[at] : 0, at >= 0 ? y[at] : 0, at >= 0 ? r[at] : 0);
        free(x); free(y); free(r);
    }
}

static void test_table(rl_isa isa) {
    const rl__kern *K = rl__isa_table(isa), *N = &rl__naive_table;
    char gname[64];
    long s;
    snprintf(gname, sizeof gname, "kernels[%s] elementwise", rl_isa_name(isa));
    rlt_begin(gname);
    check_unary("exp", K->exp, N->exp, -87.0f, 88.0f, 1e-37, 4e-7);
    check_unary("exp-small", K->exp, N->exp, -5.0f, 5.0f, 0, 4e-7);
    check_unary("sigmoid", K->sigmoid, N->sigmoid, -30.0f, 30.0f, 1e-7, 1e-6);
    check_unary("tanh", K->tanh, N->tanh, -12.0f, 12.0f, 1e-7, 1e-6);
    check_unary("tanh-tiny", K->tanh, N->tanh, -0.1f, 0.1f, 1e-9, 1e-6);
    check_unary("silu", K->silu, N->silu, -30.0f, 30.0f, 1e-7, 1e-6);
    check_unary("softplus", K->softplus, N->softplus, -30.0f, 30.0f, 1e-7, 1e-6);
    for (s = 0; s < NSIZES; s++) {
        long n = sizes[s], i;
        float *a = (float *)malloc(sizeof(float) * n * 6), *b = a + n, *y = b + n, *r = y + n, *w = r + n, *bias = w + n;
        uint16_t *bh = (uint16_t *)malloc(sizeof(uint16_t) * n), *hh = (uint16_t *)malloc(sizeof(uint16_t) * n);
        float fa, fb, m1, m2, rs1, rs2;
        fill(a, n, -3, 3);
        fill(b, n, -3, 3);
        fill(w, n, 0.5f, 1.5f);
        fill(bias, n, -1, 1);
        for (i = 0; i < n; i++) bh[i] = rl_f32_to_bf16(b[i]);
        for (i = 0; i < n; i++) /* F16: every fifth a subnormal */
            hh[i] = i % 5 == 4 ? (uint16_t)((rl_rng_u64(&rng) & 0x83ffu) | 1u) : rl_f32_to_f16(b[i]);
#define CMP(label, atol, rtol) RLT_CHECK(rlt_worst(y, r, n, atol, rtol, NULL) <= 1.0, "%s n=%ld", label, n)
        K->add(y, a, b, n); N->add(r, a, b, n); CMP("add", 0, 0);
        K->sub(y, a, b, n); N->sub(r, a, b, n); CMP("sub", 0, 0);
        K->mul(y, a, b, n); N->mul(r, a, b, n); CMP("mul", 0, 0);
        K->div(y, a, w, n); N->div(r, a, w, n); CMP("div", 0, 0);
        K->scale(y, a, 0.37f, n); N->scale(r, a, 0.37f, n); CMP("scale", 0, 0);
        memcpy(y, b, sizeof(float) * n); memcpy(r, b, sizeof(float) * n);
        K->axpy(y, -1.7f, a, n); N->axpy(r, -1.7f, a, n); CMP("axpy", 1e-6, 1e-6);
        K->swiglu(y, a, b, n); N->swiglu(r, a, b, n); CMP("swiglu", 1e-6, 1e-5);
        { /* AdamW: weights, both moments and the zeroed gradient (p = a, g = b, m = w - 1, v = (w - 0.5)^2 / 4 per copy) */
            static const float h[8] = {0.7f, 0.9f, 0.95f, 1e-8f, 0.1f, 1e-3f, 1.0f / 0.19f, 1.0f / 0.0975f};
            float *k4 = (float *)malloc(sizeof(float) * n * 8), *n4 = k4 + 4 * n;
            int q;
            for (q = 0; q < 2; q++) {
                float *c = q ? n4 : k4;
                memcpy(c, a, sizeof(float) * n);
                memcpy(c + n, b, sizeof(float) * n);
                for (i = 0; i < n; i++) c[2 * n + i] = w[i] - 1.0f, c[3 * n + i] = (w[i] - 0.5f) * (w[i] - 0.5f) / 4;
            }
            K->adamw(k4, k4 + n, k4 + 2 * n, k4 + 3 * n, n, h);
            N->adamw(n4, n4 + n, n4 + 2 * n, n4 + 3 * n, n, h);
            RLT_CHECK(rlt_worst(k4, n4, n, 1e-7, 1e-6, NULL) <= 1.0 && rlt_worst(k4 + 2 * n, n4 + 2 * n, 2 * n, 1e-7, 1e-6, NULL) <= 1.0,
                      "adamw n=%ld: weights or moments", n);
            for (i = 0; i < n && k4[n + i] == 0; i++) {}
            RLT_CHECK(i == n, "adamw n=%ld: gradient not zeroed at %ld", n, i);
            for (i = 0; i < n && k4[i] == a[i]; i++) {}
            RLT_CHECK(i < n || n == 0, "adamw n=%ld: no weight moved", n);
            free(k4);
        }
        RLT_CLOSE(K->dot(a, b, n), N->dot(a, b, n), 1e-5 * n, 1e-5, "dot n=%ld", n);
        RLT_CLOSE(K->dot_bf16(a, bh, n), N->dot_bf16(a, bh, n), 1e-5 * n, 1e-5, "dot_bf16 n=%ld", n);
        RLT_CLOSE(K->dot_f16(a, hh, n), N->dot_f16(a, hh, n), 1e-5 * n, 1e-5, "dot_f16 n=%ld", n);
        RLT_CLOSE(K->sum(a, n), N->sum(a, n), 1e-5 * n, 1e-5, "sum n=%ld", n);
        RLT_CLOSE(K->max(a, n), N->max(a, n), 0, 0, "max n=%ld", n);
        rs1 = K->rmsnorm(y, a, w, n, 1e-6f); rs2 = N->rmsnorm(r, a, w, n, 1e-6f);
        CMP("rmsnorm", 1e-6, 1e-5);
        RLT_CLOSE(rs1, rs2, 0, 1e-5, "rmsnorm rstd n=%ld", n);
        K->rmsnorm(y, a, NULL, n, 1e-5f); N->rmsnorm(r, a, NULL, n, 1e-5f); CMP("rmsnorm-noweight", 1e-6, 1e-5);
        K->layernorm(y, a, w, bias, n, 1e-5f, &m1, &rs1); N->layernorm(r, a, w, bias, n, 1e-5f, &m2, &rs2);
        CMP("layernorm", 1e-5, 1e-4);
        RLT_CLOSE(m1, m2, 1e-5, 1e-5, "layernorm mean n=%ld", n);
        fa = K->softmax(y, a, n); fb = N->softmax(r, a, n); CMP("softmax", 1e-7, 1e-5);
        RLT_CLOSE(fa, fb, 1e-6, 1e-6, "softmax lse n=%ld", n);
        fa = K->logsoftmax(y, a, n); fb = N->logsoftmax(r, a, n); CMP("logsoftmax", 1e-5, 1e-5);
        RLT_CLOSE(fa, fb, 1e-6, 1e-6, "logsoftmax lse n=%ld", n);
        K->l2norm(y, a, n, 1e-12f); N->l2norm(r, a, n, 1e-12f); CMP("l2norm", 1e-7, 1e-5);
        if (n % 2 == 0) {
            K->rope(y, a, w, bias, n / 2); N->rope(r, a, w, bias, n / 2); CMP("rope", 1e-6, 1e-5);
        }
#undef CMP
        free(a);
        free(bh);
        free(hh);
    }
    /* softmax with masked (-inf) entries */
    {
        float x[19], y[19], r[19];
        int i;
        for (i = 0; i < 19; i++) x[i] = (i % 3 == 0) ? -INFINITY : (float)i * 0.3f;
        K->softmax(y, x, 19);
        N->softmax(r, x, 19);
        RLT_CHECK(rlt_worst(y, r, 19, 1e-7, 1e-5, NULL) <= 1.0, "softmax with -inf");
        RLT_CHECK(y[0] == 0.0f, "exp(-inf) must be exactly 0, got %g", y[0]);
    }
    rlt_end();
}

/* the chunked scans' decay factors: products (w) or sums (log w) down strided rows, equal to the
   twin bit for bit; a value outside the limit or a NaN in the first, a middle or the last
   channel (the vector blocks and the tail) makes both return 0 */
static void test_decays(rl_isa isa) {
    static const long ns[] = {1, 3, 7, 8, 15, 17, 64, 65, 130}, lens[] = {1, 5, 16, 33};
    const rl__kern *K = rl__isa_table(isa), *N = &rl__naive_table;
    char gname[64];
    long a, b, lg, bad;
    snprintf(gname, sizeof gname, "kernels[%s] scan decays", rl_isa_name(isa));
    rlt_begin(gname);
    for (a = 0; a < (long)(sizeof ns / sizeof ns[0]); a++)
        for (b = 0; b < (long)(sizeof lens / sizeof lens[0]); b++)
            for (lg = 0; lg < 2; lg++)
                for (bad = 0; bad < 7; bad++) { /* 0: all inside; 1-3: one out, at channel 0, n/2, n-1; 4-6: a NaN there */
                    long n = ns[a], len = lens[b], rs = n + 3, q = (bad - 1) % 3 == 0 ? 0 : (bad - 1) % 3 == 1 ? n / 2 : n - 1;
                    float *x = (float *)malloc(sizeof(float) * len * rs), *o = (float *)malloc(sizeof(float) * len * n * 4);
                    double lim = lg ? 60.0 : exp(60.0);
                    int rk, rn;
                    fill(x, len * rs, lg ? -2.0f : 0.55f, lg ? 0.0f : 1.0f);
                    if (bad) x[(len - 1) * rs + q] = bad > 3 ? NAN : lg ? -200.0f : 1e-30f;
                    rk = K->decays(o, o + len * n, x, rs, len, n, (int)lg, lim);
                    rn = N->decays(o + 2 * len * n, o + 3 * len * n, x, rs, len, n, (int)lg, lim);
                    RLT_CHECK(rk == !bad && rn == !bad, "n=%ld len=%ld log=%ld case %ld: returned %d (twin %d), %d wanted", n, len, lg, bad, rk, rn, !bad);
                    RLT_CHECK(bad || !memcmp(o, o + 2 * len * n, sizeof(float) * 2 * len * n), "n=%ld len=%ld log=%ld: factors differ from the twin's", n, len, lg);
                    free(x);
                    free(o);
                }
    rlt_end();
}

static void gemm_case(rl_pool *pool, long M, long N, long K, int layout, rl_dtype bt, int acc) {
    /* layout 0: A row-major, B rows contiguous; 1: A transposed; 2: B transposed (x·Wᵀ) */
    float *A = (float *)malloc(sizeof(float) * (M * K + 1)), *Bf = (float *)malloc(sizeof(float) * (K * N + 1));
    uint16_t *Bh = (uint16_t *)malloc(sizeof(uint16_t) * (K * N + 1));
    float *C = (float *)malloc(sizeof(float) * (M * N + 1)), *R = (float *)malloc(sizeof(float) * (M * N + 1));
    rl__gemm_args g;
    long i, at;
    double w;
    fill(A, M * K, -1, 1);
    fill(Bf, K * N, -1, 1);
    for (i = 0; i < K * N; i++) Bh[i] = bt == RL_F16 ? rl_f32_to_f16(Bf[i]) : rl_f32_to_bf16(Bf[i]);
    fill(C, M * N, -1, 1);
    memcpy(R, C, sizeof(float) * M * N);
    g.M = M; g.N = N; g.K = K; g.A = A; g.B = bt != RL_F32 ? (const void *)Bh : (const void *)Bf; g.bt = bt;
    g.a_rs = layout == 1 ? 1 : K; g.a_cs = layout == 1 ? M : 1;
    g.b_rs = layout == 2 ? 1 : N; g.b_cs = layout == 2 ? K : 1;
    g.C = R; g.ldc = N; g.accumulate = acc;
    rl_gemm(pool, M, N, K, A, g.a_rs, g.a_cs, g.B, bt, g.b_rs, g.b_cs, C, N, acc);
    rl__naive_gemm(&g);
    w = rlt_worst(C, R, M * N, 1e-5 * sqrt((double)K + 1), 1e-5, &at);
    RLT_CHECK(w <= 1.0, "gemm M=%ld N=%ld K=%ld layout=%d %s acc=%d: C[%ld] %g vs %g", M, N, K, layout,
              bt == RL_BF16 ? "bf16" : bt == RL_F16 ? "f16" : "f32", acc, at, at >= 0 ? C[at] : 0, at >= 0 ? R[at] : 0);
    free(A); free(Bf); free(Bh); free(C); free(R);
}

static void test_gemm(rl_isa isa, rl_pool *pool) {
    static const long dims[] = {1, 2, 5, 13, 33, 65, 150};
    char gname[64];
    int a, b, c, layout, bt;
    snprintf(gname, sizeof gname, "kernels[%s] gemm %d threads", rl_isa_name(isa), rl_pool_size(pool));
    rlt_begin(gname);
    rl_isa_set(isa);
    for (a = 0; a < 7; a++)
        for (b = 0; b < 7; b += 2)
            for (c = 0; c < 7; c += 3)
                for (layout = 0; layout < 3; layout++)
                    for (bt = 0; bt < 3; bt++)
                        gemm_case(pool, dims[a], dims[b], dims[c], layout, bt == 2 ? RL_F16 : bt ? RL_BF16 : RL_F32, (a + b) & 1);
    /* blocks larger than MC/KC/NC, and K = 0 */
    gemm_case(pool, 300, 1100, 600, 2, RL_F32, 0);
    gemm_case(pool, 97, 1030, 520, 0, RL_BF16, 1);
    gemm_case(pool, 97, 1030, 520, 0, RL_F16, 0);
    gemm_case(pool, 40, 300, 260, 2, RL_F16, 1);
    gemm_case(pool, 260, 70, 300, 1, RL_F32, 1);
    gemm_case(pool, 150, 800, 500, 1, RL_F32, 1); /* KC < K <= 1.5 KC: one pass, smaller NC and MC blocks */
    gemm_case(pool, 7, 9, 0, 0, RL_F32, 0);
    gemm_case(pool, 7, 9, 0, 2, RL_F32, 1);
    /* B of one or two panels (N 32 everywhere, 64 on AVX-512) with A's rows contiguous (layouts 0
       and 2): tiles of rows per task, A read in place (rl__gemm_direct_task), M with and without
       a tail of 4 or 8 rows; the other shapes and A's columns contiguous (layout 1): blocked */
    for (layout = 0; layout < 3; layout++) {
        gemm_case(pool, 512, 32, 576, layout, RL_F32, 0);
        gemm_case(pool, 512, 576, 32, layout, RL_F32, 1);
        gemm_case(pool, 301, 96, 130, layout, RL_F32, layout & 1);
        gemm_case(pool, 36, 64, 64, layout, RL_F32, 0);
        gemm_case(pool, 20, 64, 7, layout, RL_BF16, 1); /* (B not F32: the blocked loops) */
    }
    rlt_end();
}

/* rl__mm, the one-thread products of the chunked scans and the attention blocks: A and (rows
   contiguous) B read in place by the micro-kernel where rl__mm_direct takes the shape (M − t·MR
   a multiple of 4, N a multiple of NR, K·N within the pack buffer), the blocked loops otherwise;
   both equal the naive product for A row- or column-major, B's rows or columns contiguous, with
   leading dimensions wider than the matrices, C written or accumulated (and nothing else of its
   buffer: the column past N, the rows past M). */
static void test_mm(rl_isa isa) {
    static const long Ms[] = {1, 3, 4, 8, 12, 16, 20, 32, 36, 64}, Ks[] = {1, 5, 16, 64, 130};
    const rl__kern *K = rl__isa_table(isa);
    long NR = K->nr, Ns[4], mi, ni, ki, lay, direct = 0;
    rl_rng outer = rng; /* its own stream: the later tests' inputs stay what they were */
    rl__mmbuf mb;
    float *pk = (float *)malloc(sizeof(float) * (size_t)rl__mmbuf_floats((int64_t)K->mc * K->kc));
    float *A = (float *)malloc(sizeof(float) * 64 * 140), *B = (float *)malloc(sizeof(float) * 140 * 140);
    float *C = (float *)malloc(sizeof(float) * 64 * 140), *R = (float *)malloc(sizeof(float) * 64 * 140);
    char gname[64];
    Ns[0] = NR; Ns[1] = 2 * NR; Ns[2] = 17; Ns[3] = NR + 3;
    snprintf(gname, sizeof gname, "kernels[%s] one-thread small products (rl__mm) = naive", rl_isa_name(isa));
    rlt_begin(gname);
    mb.K = K; mb.pk = pk; mb.ap_cap = (int64_t)K->mc * K->kc;
    rl_rng_seed(&rng, 99);
    fill(A, 64 * 140, -1, 1);
    fill(B, 140 * 140, -1, 1);
    for (mi = 0; mi < 10; mi++)
        for (ni = 0; ni < 4; ni++)
            for (ki = 0; ki < 5; ki++)
                for (lay = 0; lay < 8; lay++) {
                    long M = Ms[mi], N = Ns[ni], k = Ks[ki], ars, acs, brs, bcs, at;
                    int acc = (int)(lay >> 2);
                    rl__gemm_args g;
                    double w;
                    ars = lay & 1 ? 1 : k + 3, acs = lay & 1 ? M + 2 : 1;  /* A row-major or column-major, wider */
                    brs = lay & 2 ? 1 : N + 5, bcs = lay & 2 ? k + 1 : 1;  /* B's rows or its columns contiguous */
                    fill(C, 64 * 140, -1, 1);
                    memcpy(R, C, sizeof(float) * 64 * 140);
                    memset(&g, 0, sizeof g);
                    g.M = M; g.N = N; g.K = k; g.A = A; g.a_rs = ars; g.a_cs = acs; g.B = B; g.bt = RL_F32;
                    g.b_rs = brs; g.b_cs = bcs; g.C = R; g.ldc = N + 1; g.accumulate = acc;
                    rl__naive_gemm(&g);
                    g.C = C;
                    if (rl__mm_direct(&mb, &g)) direct++;
                    else rl__mm(&mb, M, N, k, A, ars, acs, B, brs, bcs, C, N + 1, acc);
                    w = rlt_worst(C, R, 64 * 140, 1e-5 * sqrt((double)k + 1), 1e-5, &at);
                    RLT_CHECK(w <= 1.0, "M=%ld N=%ld K=%ld A %s B %s acc=%d: C[%ld] %g vs %g", M, N, k, lay & 1 ? "col" : "row",
                              lay & 2 ? "cols" : "rows", acc, at, at >= 0 ? C[at] : 0, at >= 0 ? R[at] : 0);
                }
    /* on every table with a micro-kernel (the scalar one's 4 x 4 included) the direct path takes
       8 of the 10 M (not 1, 3), 2 of the 4 N (the multiples of NR), every K and layout */
    RLT_CHECK(!K->gemm || direct == 8 * 2 * 5 * 8, "%ld products took rl__mm_direct, expected %d", direct, 8 * 2 * 5 * 8);
    rlt_end();
    free(pk); free(A); free(B); free(C); free(R);
    rng = outer;
}

/* rl_ctx.bf16_dot: x·Wᵀ with BF16 W on the AVX512-BF16 kernel equals its twin (x rounded to
   bf16, exact products summed in double) to fp32 summation error, and differs from the
   fp32 product (so the bf16 path did run); small M (decoding, short prompts: M <= 16 with
   BF16 W) stays fp32. */
static void bf16_case(rl_pool *pool, long M, long N, long K, int *differs) {
    float *x = (float *)malloc(sizeof(float) * (M * K + 1)), *R = (float *)malloc(sizeof(float) * (M * N + 1));
    float *F = (float *)malloc(sizeof(float) * (M * N + 1));
    uint16_t *W = (uint16_t *)malloc(sizeof(uint16_t) * (N * K + 1));
    int64_t xs[2], ws[2];
    rl_tensor xt, wt, *y;
    rl__gemm_args g;
    rl_ctx c;
    long i, at;
    double w;
    fill(x, M * K, -2, 2);
    for (i = 0; i < N * K; i++) W[i] = rl_f32_to_bf16(2.0f * rl_rng_uniform(&rng) - 1.0f);
    xs[0] = M; xs[1] = K; ws[0] = N; ws[1] = K;
    xt = rl_wrap(x, RL_F32, 2, xs, 0);
    wt = rl_wrap(W, RL_BF16, 2, ws, 0);
    rl_ctx_init(&c, pool);
    c.bf16_dot = 1;
    y = rl_linear(&c, &xt, &wt, NULL);
    RLT_CHECK(y != NULL, "bf16 linear M=%ld N=%ld K=%ld: %s", M, N, K, rl_last_error());
    g.M = M; g.N = N; g.K = K; g.A = x; g.a_rs = K; g.a_cs = 1; g.B = W; g.bt = RL_BF16; g.b_rs = 1; g.b_cs = K;
    g.C = R; g.ldc = N; g.accumulate = 0;
    rl__naive_gemm_bf16(&g);
    rl_matmul_nt(pool, F, x, W, RL_BF16, NULL, M, N, K); /* fp32 */
    if (y) {
        w = rlt_worst(rl_f32(y), M > 16 ? R : F, M * N, 1e-5 * sqrt((double)K + 1), 1e-5, &at);
        RLT_CHECK(w <= 1.0, "bf16 linear M=%ld N=%ld K=%ld: y[%ld] %g vs twin %g", M, N, K, at, at >= 0 ? rl_f32(y)[at] : 0,
                  at >= 0 ? R[at] : 0);
        for (i = 0; i < M * N && M > 16; i++) *differs |= rl_f32(y)[i] != F[i];
    }
    rl_ctx_free(&c);
    free(x); free(R); free(F); free(W);
}

/* the twin of one bf16 product into R (M×N, row-major) */
static void bf16_twin(long M, long N, long K, const float *A, long a_rs, long a_cs, const float *B, long b_rs, long b_cs, float *R) {
    rl__gemm_args g;
    g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = a_rs; g.a_cs = a_cs; g.B = B; g.bt = RL_F32; g.b_rs = b_rs; g.b_cs = b_cs;
    g.C = R; g.ldc = N; g.accumulate = 0;
    rl__naive_gemm_bf16(&g);
}
static void bf16_close(const char *what, const float *got, const float *R, long n, long K) {
    long at;
    double w = rlt_worst(got, R, n, 1e-5 * sqrt((double)K + 1), 1e-5, &at);
    RLT_CHECK(w <= 1.0, "bf16_dot 2, %s: [%ld] %g vs twin %g", what, at, at >= 0 ? got[at] : 0, at >= 0 ? R[at] : 0);
}

/* rl_ctx.bf16_dot = 2 (mixed precision): the forward and backward products of rl_linear and
   rl_matmul (five layouts, fp32 operands rounded) equal the twin */
static void bf16_ops_case(rl_pool *pool, long M, long N, long K) {
    long big = (M > K ? M : K) * (N > K ? N : K);
    float *x = (float *)calloc((size_t)(M * K), 4), *gx = (float *)calloc((size_t)(M * K), 4), *W = (float *)calloc((size_t)(N * K), 4);
    float *gW = (float *)calloc((size_t)(N * K), 4), *G = (float *)calloc((size_t)(M * N), 4), *R = (float *)calloc((size_t)big, 4);
    int64_t xs[2], ws[2], as[2];
    rl_tensor xt, wt, at, *y;
    rl_ctx c;
    fill(x, M * K, -2, 2);
    fill(W, N * K, -1, 1);
    fill(G, M * N, -1, 1);
    xs[0] = M; xs[1] = K; ws[0] = N; ws[1] = K; as[0] = K; as[1] = N;
    xt = rl_wrap(x, RL_F32, 2, xs, 1);
    xt.grad = gx;
    wt = rl_wrap(W, RL_F32, 2, ws, 1);
    wt.grad = gW;
    at = rl_wrap(W, RL_F32, 2, as, 1); /* W's numbers as a [K, N] matrix for rl_matmul */
    at.grad = gW;
    rl_ctx_init(&c, pool);
    c.bf16_dot = 2;
    y = rl_linear(&c, &xt, &wt, NULL); /* y = x·Wᵀ; gx = G·W; gW = Gᵀ·x */
    RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, G)) == RL_OK, "linear: %s", rl_last_error());
    if (y) {
        bf16_twin(M, N, K, x, K, 1, W, 1, K, R);
        bf16_close("linear x·Wᵀ", rl_f32(y), R, M * N, K);
        bf16_twin(M, K, N, G, N, 1, W, K, 1, R);
        bf16_close("linear gx = g·W", gx, R, M * K, N);
        bf16_twin(N, K, M, G, 1, N, x, K, 1, R);
        bf16_close("linear gW = gᵀ·x", gW, R, N * K, M);
    }
    rl_ctx_reset(&c);
    memset(gx, 0, sizeof(float) * (size_t)(M * K));
    memset(gW, 0, sizeof(float) * (size_t)(N * K));
    y = rl_matmul(&c, &xt, &at); /* y = x·A; gx = G·Aᵀ; gA = xᵀ·G */
    RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, G)) == RL_OK, "matmul: %s", rl_last_error());
    if (y) {
        bf16_twin(M, N, K, x, K, 1, W, N, 1, R);
        bf16_close("matmul x·A", rl_f32(y), R, M * N, K);
        bf16_twin(M, K, N, G, N, 1, W, 1, N, R);
        bf16_close("matmul gx = g·Aᵀ", gx, R, M * K, N);
        bf16_twin(K, N, M, x, 1, K, G, N, 1, R);
        bf16_close("matmul gA = xᵀ·g", gW, R, K * N, M);
    }
    rl_ctx_free(&c);
    free(x); free(gx); free(W); free(gW); free(G); free(R);
}

/* the vector rounding of the bf16 packs is rl_f32_to_bf16 bit for bit: x holds values halfway
   between two bf16 numbers (ties go to the even one) and a signalling NaN (which must stay NaN,
   not round to infinity), W is ±1, so every sum is exact and the products equal the twin
   exactly, in each layout the packs take (rows of pairs along K, pairs of K-rows) */
static void bf16_ties_case(rl_pool *pool, long M, long N, long K) {
    float *x = (float *)calloc((size_t)(M * K), 4), *gx = (float *)calloc((size_t)(M * K), 4), *W = (float *)calloc((size_t)(N * K), 4);
    float *gW = (float *)calloc((size_t)(N * K), 4), *G = (float *)calloc((size_t)(M * N), 4), *R = (float *)calloc((size_t)(M * N + N * K), 4);
    int64_t xs[2], ws[2];
    rl_tensor xt, wt, *y;
    rl_ctx c;
    long i, bad = 0;
    for (i = 0; i < M * K; i++) { /* (1 + (2j+1)·2⁻⁸)·2^e: 9 significant bits, a tie */
        float v = ldexpf(1.0f + (float)(2 * (rl_rng_u64(&rng) % 128) + 1) / 256.0f, (int)(rl_rng_u64(&rng) % 5) - 2);
        x[i] = rl_rng_u64(&rng) & 1 ? -v : v;
    }
    {
        uint32_t snan = 0x7F800001u;
        memcpy(&x[K + 1], &snan, 4); /* row 1 */
    }
    for (i = 0; i < N * K; i++) W[i] = rl_rng_u64(&rng) & 1 ? 1.0f : -1.0f;
    for (i = 0; i < M * N; i++) G[i] = rl_rng_u64(&rng) & 1 ? 1.0f : -1.0f;
    xs[0] = M; xs[1] = K; ws[0] = N; ws[1] = K;
    xt = rl_wrap(x, RL_F32, 2, xs, 1);
    xt.grad = gx;
    wt = rl_wrap(W, RL_F32, 2, ws, 1);
    wt.grad = gW;
    rl_ctx_init(&c, pool);
    c.bf16_dot = 2;
    y = rl_linear(&c, &xt, &wt, NULL); /* y = x·Wᵀ (pairs along K); gW = Gᵀ·x (pairs of K-rows) */
    RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, G)) == RL_OK, "ties: %s", rl_last_error());
    if (y) {
        bf16_twin(M, N, K, x, K, 1, W, 1, K, R);
        for (i = 0; i < M * N; i++) bad += isnan(R[i]) ? !isnan(rl_f32(y)[i]) || i / N != 1 : rl_f32(y)[i] != R[i];
        bf16_twin(N, K, M, G, 1, N, x, K, 1, R);
        for (i = 0; i < N * K; i++) bad += isnan(R[i]) ? !isnan(gW[i]) || i % K != 1 : gW[i] != R[i];
        RLT_CHECK(bad == 0, "bf16 ties M=%ld N=%ld K=%ld: %ld outputs differ from the twin (or lost their NaN)", M, N, K, bad);
    }
    rl_ctx_free(&c);
    free(x); free(gx); free(W); free(gW); free(G); free(R);
}

/* Both bf16 paths where the CPU has them: AMX tiles (kernels of 32 × 32, K in steps of 32:
   the shapes include whole tiles, K = 32·n, and tails of K, rows and columns) and vdpbf16ps. */
static void test_bf16_dot(rl_pool *pool) {
    static const long dims[][3] = {{5, 1, 1}, {12, 32, 2}, {13, 33, 3}, {37, 65, 129}, {150, 1030, 517}, {64, 96, 1100},
                                   {3000, 40, 700}, {96, 64, 512}, {4, 50, 64}, {1, 7, 9}};
    static const long ops[][3] = {{9, 5, 5}, {12, 32, 7}, {13, 33, 9}, {37, 65, 129}, {150, 1030, 517}, {64, 96, 1100}, {300, 40, 700},
                                  {64, 96, 256}};
    int d, differs = 0, amx, had = rl_amx_available();
    if (!rl_bf16_dot_available()) {
        rlt_skip("kernels bf16 dot (AVX512-BF16, AMX-BF16)", "this CPU or build has no AVX512-BF16 (or another ISA is forced)");
        return;
    }
    if (!had) rlt_skip("kernels bf16 dot (AMX-BF16)", "no AMX tiles on this CPU/OS (or RADLADS_AMX=0)");
    for (amx = had; amx >= 0; amx--) {
        rlt_begin(amx ? "kernels bf16 dot (AMX-BF16): rl_ctx.bf16_dot 1 and 2 = twin (linear, matmul, forward and backward), small M fp32"
                      : "kernels bf16 dot (AVX512-BF16): rl_ctx.bf16_dot 1 and 2 = twin (linear, matmul, forward and backward), small M fp32");
        RLT_CHECK(rl_amx_set(amx) == RL_OK && rl_amx_available() == amx, "rl_amx_set(%d)", amx);
        for (d = 0; d < (int)(sizeof dims / sizeof dims[0]); d++) bf16_case(pool, dims[d][0], dims[d][1], dims[d][2], &differs);
        RLT_CHECK(differs, "the bf16 path gave exactly the fp32 product everywhere: did it run?");
        /* products of M <= 8 rows with F32 W stay fp32: every M here is at least 9 (and N, K at least 5) */
        for (d = 0; d < (int)(sizeof ops / sizeof ops[0]); d++) bf16_ops_case(pool, ops[d][0], ops[d][1], ops[d][2]);
        bf16_ties_case(pool, 40, 33, 64);
        bf16_ties_case(pool, 17, 35, 37);
        rlt_end();
    }
    rl_amx_set(had);
}

/* ---- rows of ggml blocks (the kernel table's dot_q) ---- */
static const struct {
    int type, bs, ts, scale[2]; /* byte offsets of the f16 scale and of the f16 minimum (or -1) */
} qtypes[] = {{RL_GGML_Q4_0, 32, 18, {0, -1}}, {RL_GGML_Q4_1, 32, 20, {0, 2}}, {RL_GGML_Q5_0, 32, 22, {0, -1}},
              {RL_GGML_Q5_1, 32, 24, {0, 2}},  {RL_GGML_Q8_0, 32, 34, {0, -1}}, {RL_GGML_Q4_K, 256, 144, {0, 2}},
              {RL_GGML_Q5_K, 256, 176, {0, 2}}, {RL_GGML_Q6_K, 256, 210, {208, -1}}};
#define NQTYPES (int)(sizeof qtypes / sizeof qtypes[0])

/* an f16 scale: kind 0 +0, 1 -0, 2 a subnormal of either sign, 3 large (|d| up to 6e4), else normal in (-2, 2) */
static uint16_t rand_scale(int kind) {
    float u = 2.0f * rl_rng_uniform(&rng) - 1.0f;
    switch (kind) {
    case 0: return 0;
    case 1: return 0x8000u;
    case 2: return (uint16_t)((rl_rng_u64(&rng) & 0x83ffu) | 1u);
    case 3: return rl_f32_to_f16(u * 60000.0f);
    default: return rl_f32_to_f16(2.0f * u);
    }
}

/* nb random blocks of qtypes[t]: random bytes (so every quant value, sub-block scale and
   minimum occurs), then the f16 fields; wild = 0 keeps the f16 fields normal, in (-2, 2) */
static unsigned char *rand_blocks(int t, long nb, int wild) {
    unsigned char *q = (unsigned char *)malloc((size_t)(nb * qtypes[t].ts));
    long i, f;
    for (i = 0; i < nb * qtypes[t].ts; i++) q[i] = (unsigned char)(rl_rng_u64(&rng) >> 56);
    for (i = 0; i < nb; i++)
        for (f = 0; f < 2; f++)
            if (qtypes[t].scale[f] >= 0) {
                uint16_t h = rand_scale(wild ? (int)(rl_rng_u64(&rng) % 6) : 5);
                memcpy(q + i * qtypes[t].ts + qtypes[t].scale[f], &h, 2);
            }
    return q;
}

/* rl_ggml_dequantize with the AVX2 or AVX-512 kernels active (all but Q5_0/Q5_1 8 values at
   a time) equals it with the scalar ones (the reference block dequantizers) bit for
   bit: random quants, f16 scales and minimums of every kind (zeros, subnormals, large), then
   infinities and NaNs in some blocks' fields */
static void test_dequant_simd(rl_isa isa) {
    static const uint16_t odd[4] = {0x7C00u, 0xFC00u, 0x7E00u, 0x7C01u}; /* +inf, -inf, qNaN, sNaN */
    char gname[96];
    int t;
    snprintf(gname, sizeof gname, "kernels[%s] dequantize Q4_0/Q4_1/Q8_0/Q4_K/Q5_K/Q6_K = the scalar reference bit for bit",
             rl_isa_name(isa));
    rlt_begin(gname);
    for (t = 0; t < NQTYPES; t++) {
        int type = qtypes[t].type;
        long nb = qtypes[t].bs == 32 ? 301 : 41, i, k = nb * qtypes[t].bs;
        unsigned char *q;
        float *ref, *fast;
        if (type == RL_GGML_Q5_0 || type == RL_GGML_Q5_1) continue; /* no SIMD dequantizer */
        q = rand_blocks(t, nb, 1);
        for (i = 0; i < 8; i++) /* blocks 0..7: odd values in the scale (and the minimum, where there is one) */
            if (qtypes[t].scale[i / 4] >= 0) memcpy(q + i * qtypes[t].ts + qtypes[t].scale[i / 4], &odd[i % 4], 2);
        ref = (float *)malloc(sizeof(float) * (size_t)k);
        fast = (float *)malloc(sizeof(float) * (size_t)k);
        RLT_CHECK(rl_isa_set(RL_ISA_SCALAR) == RL_OK && rl_ggml_dequantize(type, q, ref, k) == RL_OK, "%s scalar", rl_ggml_type_name(type));
        RLT_CHECK(rl_isa_set(isa) == RL_OK && rl_ggml_dequantize(type, q, fast, k) == RL_OK, "%s %s", rl_ggml_type_name(type), rl_isa_name(isa));
        for (i = 0; i < k && !memcmp(ref + i, fast + i, 4); i++) {}
        RLT_CHECK(i == k, "%s: value %ld (block %ld) differs: %a vs reference %a", rl_ggml_type_name(type), i, i / qtypes[t].bs,
                  i < k ? (double)fast[i] : 0.0, i < k ? (double)ref[i] : 0.0);
        free(q); free(ref); free(fast);
    }
    rl_isa_set(rl_isa_best());
    rlt_end();
}

/* Each type's fast dot product against its naive twin (the reference dequantizer, then a
   sum in double), on 1, 2, 7 and many blocks. Tolerance 1e-5 · Σ|x·w| (w: the dequantized
   row): the fast kernels sum in float in another order, a block's scale applied to its
   partial sum; each value passes through at most ~130 roundings of relative size 2^-24 on
   the longest chain here (a block's terms, then one per block), a worst case of 8e-6. The
   naive twin itself must equal rl_ggml_dequantize + a double sum to float rounding (1e-6). */
static void test_qdot(rl_isa isa) {
    const rl__kern *K = rl__isa_table(isa), *N = &rl__naive_table;
    char gname[64];
    int t, c;
    snprintf(gname, sizeof gname, "kernels[%s] dot with rows of ggml blocks", rl_isa_name(isa));
    rlt_begin(gname);
    for (t = 0; t < NQTYPES; t++) {
        int type = qtypes[t].type;
        long nbs[4] = {1, 2, 7, 0};
        nbs[3] = qtypes[t].bs == 32 ? 128 : 24;
        RLT_CHECK(K->dot_q[type] && N->dot_q[type], "%s: fast and naive dot_q present", rl_ggml_type_name(type));
        if (!K->dot_q[type] || !N->dot_q[type]) continue;
        for (c = 0; c < 4 * 3; c++) {
            long nb = nbs[c % 4], k = nb * qtypes[t].bs, i;
            unsigned char *q = rand_blocks(t, nb, c >= 4);
            float *x = (float *)malloc(sizeof(float) * k), *w = (float *)malloc(sizeof(float) * k), fast, naive;
            double ref = 0, mag = 0;
            fill(x, k, -1, 1);
            RLT_CHECK(rl_ggml_dequantize(type, q, w, k) == RL_OK, "dequantize %s", rl_ggml_type_name(type));
            for (i = 0; i < k; i++) {
                ref += (double)x[i] * w[i];
                mag += fabs((double)x[i] * w[i]);
            }
            fast = K->dot_q[type](x, q, k);
            naive = N->dot_q[type](x, q, k);
            RLT_CLOSE(naive, ref, 1e-6 * mag, 0, "%s naive, %ld blocks", rl_ggml_type_name(type), nb);
            RLT_CLOSE(fast, naive, 1e-5 * mag, 0, "%s, %ld blocks (Σ|x·w| %g)", rl_ggml_type_name(type), nb, mag);
            free(q); free(x); free(w);
        }
    }
    rlt_end();
}

/* x rounded to 8 bits for the Q8_0/Q4_0/Q4_1 rows (rl__q8x_row): each block's d is max|x| / 127,
   its values d·q within d/2 of x (plus the float rounding of x·(127/max)), s = Σq; then each
   type's dot product of the rounded x with a row (this ISA's kernel; the portable one where it
   has none) equals Σ w·d·q in double, w the dequantized row, within 1e-5 · Σ|w·d·q| (the sums of
   integers are exact; what remains is one float product per block and the float sum over
   blocks). Rows of x: random, a block of zeros, a block with one large value, values on a
   rounding tie; the rows' f16 scales from subnormal to 6e4. */
static void test_q8dot(rl_isa isa) {
    static const int types[3] = {RL_GGML_Q8_0, RL_GGML_Q4_0, RL_GGML_Q4_1};
    const rl__kern *K = rl__isa_table(isa);
    char gname[80];
    int ti, t, c, bad = 0;
    snprintf(gname, sizeof gname, "kernels[%s] Q8_0/Q4_0/Q4_1 rows against x rounded to 8 bits", rl_isa_name(isa));
    rlt_begin(gname);
    for (ti = 0; ti < 3; ti++) {
        rl__dot8_fn *dot = rl__dot8_for(types[ti], 1, K);
        for (t = 0; t < NQTYPES && qtypes[t].type != types[ti]; t++) {}
        RLT_CHECK(dot != NULL, "%s: an 8-bit path for one row", rl_ggml_type_name(types[ti]));
        if (!dot) continue;
        for (c = 0; c < 12; c++) {
            long nb = c % 4 == 0 ? 1 : c % 4 == 1 ? 2 : c % 4 == 2 ? 7 : 128, k = nb * 32, i;
            unsigned char *q = rand_blocks(t, nb, c >= 4);
            float *x = (float *)malloc(sizeof(float) * k), *w = (float *)malloc(sizeof(float) * k), fast;
            rl__q8x *xb = (rl__q8x *)malloc(sizeof(rl__q8x) * nb);
            double ref = 0, mag = 0;
            fill(x, k, -1, 1);
            if (nb > 2) {
                memset(x + 32, 0, 32 * sizeof(float));                     /* block 1: zeros */
                x[64 + 5] = 1e4f;                                           /* block 2: one large value */
                for (i = 0; i < 32; i++) x[96 + i] = (float)(2 * i - 31) / 32.0f; /* block 3: x / d = ±(odd) / 2, ties */
                x[96] = -127.0f / 16.0f;                                          /* (d = 1/16) */
            }
            rl__q8x_row(x, k, xb);
            for (i = 0; i < k; i += 32) {
                const rl__q8x *b = xb + i / 32;
                float m = 0;
                int j, s = 0;
                for (j = 0; j < 32; j++) m = fabsf(x[i + j]) > m ? fabsf(x[i + j]) : m;
                bad += b->d != m / 127.0f;
                for (j = 0; j < 32; j++) {
                    s += b->q[j];
                    /* within d/2, and the rounding of x·(127/max) in float (|x·127/max| <= 127: 2e-5) */
                    bad += b->q[j] < -127 || fabs((double)b->d * b->q[j] - x[i + j]) > b->d * (0.5 + 2e-5);
                }
                bad += s != b->s || b->ds != b->d * (float)s;
            }
            RLT_CHECK(rl_ggml_dequantize(types[ti], q, w, k) == RL_OK, "dequantize");
            for (i = 0; i < k; i++) {
                double v = (double)w[i] * xb[i / 32].d * xb[i / 32].q[i % 32];
                ref += v;
                mag += fabs(v);
            }
            fast = dot(xb, q, k);
            RLT_CLOSE(fast, ref, 1e-5 * mag, 0, "%s, %ld blocks (Σ|w·d·q| %g)", rl_ggml_type_name(types[ti]), nb, mag);
            free(q); free(x); free(w); free(xb);
        }
        if (types[ti] == RL_GGML_Q4_0 && dot) { /* a block whose sum is 0 at a scale of 6e4 (x: one large value, */
            unsigned char q2[2 * 18];           /* its weights 0, nibbles of 8) before an ordinary one */
            float x2[64], w2[64], fast;
            uint16_t h = rl_f32_to_f16(60000.0f);
            rl__q8x xb2[2];
            double ref = 0, mag = 0;
            long i;
            fill(x2, 64, -1, 1);
            x2[5] = 1e4f;
            memset(q2, 0x88, sizeof q2);
            memcpy(q2, &h, 2);
            for (i = 0; i < 16; i++) q2[20 + i] = (unsigned char)(rl_rng_u64(&rng) >> 56);
            h = rl_f32_to_f16(0.5f);
            memcpy(q2 + 18, &h, 2);
            rl__q8x_row(x2, 64, xb2);
            RLT_CHECK(rl_ggml_dequantize(RL_GGML_Q4_0, q2, w2, 64) == RL_OK, "dequantize");
            for (i = 0; i < 64; i++) {
                ref += (double)w2[i] * xb2[i / 32].d * xb2[i / 32].q[i % 32];
                mag += fabs((double)w2[i] * xb2[i / 32].d * xb2[i / 32].q[i % 32]);
            }
            fast = dot(xb2, q2, 64);
            RLT_CLOSE(fast, ref, 1e-5 * mag, 0, "Q4_0, a block of scale 6e4 that sums to 0 (Σ|w·d·q| %g)", mag);
        }
    }
    RLT_CHECK(bad == 0, "rounding x to 8 bits: %d blocks or values off (d, |x − d·q| ≤ d/2, Σq, d·Σq)", bad);
    rlt_end();
}

/* The recurrent step of a RAD-RWKV6 / RWKV7 head (rl__kern wkv6 / wkv7): three steps from a
   random state, the ISA's kernel and the naive twin each against the step in double, with o /
   y and without (then S alone). Sizes with and without vector tails. */
static void test_wkv_step(rl_isa isa) {
    static const long Ns[] = {1, 7, 16, 33, 64};
    const rl__kern *K = rl__isa_table(isa);
    char gname[80];
    int ni, arch, t, v, wo;
    snprintf(gname, sizeof gname, "kernels[%s] RWKV6/RWKV7 recurrent step = double", rl_isa_name(isa));
    rlt_begin(gname);
    for (ni = 0; ni < 5; ni++)
        for (arch = 6; arch <= 7; arch++)
            for (wo = 0; wo < 2; wo++) {
                long N = Ns[ni], NN = N * N, i, j;
                float *in = (float *)malloc(sizeof(float) * 6 * N), *S0 = (float *)malloc(sizeof(float) * NN), *S[2], *o[2];
                double *Sd = (double *)malloc(sizeof(double) * NN), *od = (double *)malloc(sizeof(double) * N), worst = 0;
                float *r = in, *k = in + N, *vv = in + 2 * N, *w = in + 3 * N, *a = in + 4 * N, *b = in + 5 * N;
                S[0] = (float *)malloc(sizeof(float) * NN), S[1] = (float *)malloc(sizeof(float) * NN);
                o[0] = (float *)malloc(sizeof(float) * N), o[1] = (float *)malloc(sizeof(float) * N);
                fill(S0, NN, -1, 1);
                for (v = 0; v < 2; v++) memcpy(S[v], S0, sizeof(float) * NN);
                for (i = 0; i < NN; i++) Sd[i] = S0[i];
                for (t = 0; t < 3; t++) {
                    fill(in, 6 * N, -1, 1);
                    if (arch == 6) fill(w, N, -3, -0.01f); /* log w */
                    else fill(w, N, 0.5f, 1.0f), fill(a, N, -0.2f, 0.2f);
                    for (v = 0; v < 2; v++) {
                        const rl__kern *T = v ? &rl__naive_table : K;
                        if (arch == 6) T->wkv6(S[v], r, k, vv, w, wo ? o[v] : NULL, N, 0.125f);
                        else T->wkv7(S[v], r, w, k, vv, a, b, wo ? o[v] : NULL, N);
                    }
                    for (i = 0; i < N; i++) od[i] = 0;
                    for (j = 0; j < N; j++) {
                        double sa = 0;
                        if (arch == 7) for (i = 0; i < N; i++) sa += Sd[j * N + i] * a[i];
                        for (i = 0; i < N; i++) {
                            double *x = Sd + j * N + i;
                            if (arch == 6) {
                                double e = exp((double)w[j]);
                                *x = *x * e + (double)k[j] * (1 - e) * vv[i];
                                od[i] += 0.125 * r[j] * *x;
                            } else {
                                *x = *x * w[i] + sa * b[i] + (double)vv[j] * k[i];
                                od[j] += *x * r[i];
                            }
                        }
                    }
                    for (v = 0; v < 2; v++) {
                        for (i = 0; i < NN; i++) worst = fmax(worst, fabs(S[v][i] - Sd[i]) / (1e-5 * (1 + fabs(Sd[i]))));
                        for (i = 0; wo && i < N; i++) worst = fmax(worst, fabs(o[v][i] - od[i]) / (1e-5 * (1 + fabs(od[i])) * N));
                    }
                }
                RLT_CHECK(worst <= 1.0, "RWKV%d N=%ld%s: worst error %g of the tolerance (1e-5 relative; outputs x N)", arch, N,
                          wo ? "" : " (state only)", worst);
                free(in); free(S0); free(S[0]); free(S[1]); free(o[0]); free(o[1]); free(Sd); free(od);
            }
    rlt_end();
}

/* rl_gemm with a quantized B (y = x·Wᵀ, W in blocks) equals the product with W dequantized
   to F32, for M on both sides of the fused path's limit, with and without accumulate.
   Tolerance: 1e-5 · Σ_k |x·w| of each output (as test_qdot) + the F32 product's own rounding.
   Q4_0/Q4_1 again with the first N8 = N rounded down to 8 rows interleaved (rl_pack_r8,
   RL_DTYPE_R8): given back byte for byte by rl__r8_unpack; the product within the same
   tolerance, and equal bit for bit to the stored rows' where both dequantize (many rows, or x
   kept in fp32: the interleaved kernel is the 8-bit few-row path's alone). */
static void test_gemm_quant(rl_isa isa, rl_pool *pool) {
    static const long Ms[] = {1, 2, 5, 16, 17, 40};
    char gname[80];
    int t, m;
    snprintf(gname, sizeof gname, "kernels[%s] gemm with a quantized W, %d threads", rl_isa_name(isa), rl_pool_size(pool));
    rlt_begin(gname);
    rl_isa_set(isa);
    for (t = 0; t < NQTYPES; t++)
        for (m = 0; m < (int)(sizeof Ms / sizeof Ms[0]); m++) {
            long M = Ms[m], N = m == 5 ? 300 : 37, K = 512, i, at; /* 300: several panels of W (the prefill path) */
            int acc = m & 1;
            unsigned char *q = rand_blocks(t, N * K / qtypes[t].bs, 0);
            float *A = (float *)malloc(sizeof(float) * M * K), *W = (float *)malloc(sizeof(float) * N * K);
            float *C = (float *)malloc(sizeof(float) * M * N), *R = (float *)malloc(sizeof(float) * M * N);
            float *aA = (float *)malloc(sizeof(float) * M * K), *aW = (float *)malloc(sizeof(float) * N * K), *T = (float *)malloc(sizeof(float) * M * N);
            rl__gemm_args g;
            int bad = 0, r8 = qtypes[t].type == RL_GGML_Q4_0 || qtypes[t].type == RL_GGML_Q4_1;
            long N8 = N / 8 * 8, rb = K / 32 * qtypes[t].ts;
            unsigned char *p8 = r8 ? (unsigned char *)malloc((size_t)(N * rb)) : NULL;
            float *C8 = r8 ? (float *)malloc(sizeof(float) * M * N) : NULL;
            fill(A, M * K, -1, 1);
            fill(C, M * N, -1, 1);
            memcpy(R, C, sizeof(float) * M * N);
            rl_ggml_dequantize(qtypes[t].type, q, W, N * K);
            rl_gemm(pool, M, N, K, A, K, 1, q, RL_DTYPE_GGML(qtypes[t].type), 1, K, C, N, acc);
            if (r8) {
                unsigned char *u = (unsigned char *)malloc((size_t)(N8 * rb));
                memcpy(C8, R, sizeof(float) * M * N);
                RLT_CHECK(rl_pack_r8(qtypes[t].type, q, N8, K, p8) == RL_OK, "pack: %s", rl_last_error());
                for (i = 0; i < N8; i += 8) rl__r8_unpack(qtypes[t].type, p8 + i * rb, K, u + i * rb);
                RLT_CHECK(!memcmp(u, q, (size_t)(N8 * rb)), "%s: the interleaved rows given back as stored", rl_ggml_type_name(qtypes[t].type));
                rl_gemm(pool, M, N8, K, A, K, 1, p8, RL_DTYPE_R8(qtypes[t].type), 1, K, C8, N, acc);
                for (i = 0, at = 0; i < M * N; i++) at += i % N < N8 ? C8[i] != C[i] : C8[i] != R[i];
                RLT_CHECK(rl__dot8_for(qtypes[t].type, M, rl__isa_table(isa)) || at == 0, "%s M=%ld: %ld outputs differ from the stored rows'",
                          rl_ggml_type_name(qtypes[t].type), M, at);
                if (M <= 2) { /* x in fp32: the groups given back as rows for dot_q */
                    float *Cf = (float *)malloc(sizeof(float) * M * N), *Cp = (float *)malloc(sizeof(float) * M * N);
                    rl_ggml_q8_act_set(0);
                    rl_gemm(pool, M, N8, K, A, K, 1, q, RL_DTYPE_GGML(qtypes[t].type), 1, K, Cf, N8, 0);
                    rl_gemm(pool, M, N8, K, A, K, 1, p8, RL_DTYPE_R8(qtypes[t].type), 1, K, Cp, N8, 0);
                    rl_ggml_q8_act_set(1);
                    RLT_CHECK(!memcmp(Cf, Cp, sizeof(float) * M * N8), "%s M=%ld, x in fp32: interleaved = stored", rl_ggml_type_name(qtypes[t].type), M);
                    free(Cf); free(Cp);
                }
                free(u);
            }
            if (rl__dot8_for(qtypes[t].type, M, rl__isa_table(isa))) /* the reference reads A as the 8-bit path rounds it */
                for (i = 0; i < M * K; i += 32) {
                    rl__q8x b;
                    int j;
                    rl__q8x_row(A + i, 32, &b);
                    for (j = 0; j < 32; j++) A[i + j] = b.d * b.q[j];
                }
            for (i = 0; i < M * K; i++) aA[i] = fabsf(A[i]);
            for (i = 0; i < N * K; i++) aW[i] = fabsf(W[i]);
            g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = K; g.a_cs = 1; g.B = W; g.bt = RL_F32; g.b_rs = 1; g.b_cs = K;
            g.C = R; g.ldc = N; g.accumulate = acc;
            rl__naive_gemm(&g);
            g.A = aA; g.B = aW; g.C = T; g.accumulate = 0;
            rl__naive_gemm(&g); /* Σ_k |x·w| */
            for (i = 0, at = -1; i < M * N; i++)
                if (!(fabs((double)C[i] - R[i]) <= 1e-5 * T[i] + 1e-6 * fabs((double)R[i]))) bad++, at = at < 0 ? i : at;
            RLT_CHECK(!bad, "%s M=%ld N=%ld K=%ld acc=%d: %d outputs off, first C[%ld] %g vs %g", rl_ggml_type_name(qtypes[t].type), M, N, K, acc,
                      bad, at, at >= 0 ? C[at] : 0, at >= 0 ? R[at] : 0);
            for (i = 0, bad = 0; r8 && i < M * N; i++)
                if (i % N < N8 && !(fabs((double)C8[i] - R[i]) <= 1e-5 * T[i] + 1e-6 * fabs((double)R[i]))) bad++;
            RLT_CHECK(!bad, "%s interleaved, M=%ld N=%ld acc=%d: %d outputs off", rl_ggml_type_name(qtypes[t].type), M, N8, acc, bad);
            free(p8); free(C8);
            free(q); free(A); free(W); free(C); free(R); free(aA); free(aW); free(T);
        }
    { /* what cannot be interleaved is refused with a reason; a product of interleaved rows in a wrong shape too (C zero) */
        unsigned char blk[8 * 34] = {0};
        float x[32] = {0}, y[7] = {1, 1, 1, 1, 1, 1, 1};
        RLT_CHECK(rl_pack_r8(RL_GGML_Q4_1, blk, 7, 32, blk) == RL_ERR_ARG && strstr(rl_last_error(), "multiple of 8"), "7 rows: %s", rl_last_error());
        RLT_CHECK(rl_pack_r8(RL_GGML_Q8_0, blk, 8, 32, blk) == RL_ERR_ARG && strstr(rl_last_error(), "Q8_0"), "Q8_0: %s", rl_last_error());
        rl_gemm(pool, 1, 7, 32, x, 32, 1, blk, RL_DTYPE_R8(RL_GGML_Q4_0), 1, 32, y, 7, 0);
        RLT_CHECK(y[0] == 0 && y[6] == 0 && strstr(rl_last_error(), "interleaved rows"), "rl_gemm, 7 interleaved rows: %s", rl_last_error());
    }
    rlt_end();
}


/* rl_attention (blocks of 64 query rows as matrix products; blocks under 8 rows one
   dot/axpy per pair) against causal GQA attention in double precision, forward and
   backward (upstream gradient R: loss Σ y ⊙ R), and the decoding cache's path (queries
   at pos0 > 0 over a longer key cache) against the same reference. */
static void attn_ref(const float *q, const float *k, const float *v, const float *R, long B, long T, long P, long H, long KVH,
                     long d, double *y, double *gq, double *gk, double *gv) {
    /* queries b*T + t at position P + t over keys b*(P+T) + 0..P+t; gq/gk/gv += (may be NULL) */
    long b, h, t, s, i, Cq = H * d, Ck = KVH * d, L = P + T;
    double *p = (double *)malloc(sizeof(double) * L), *dp = (double *)malloc(sizeof(double) * L), sc = 1.0 / sqrt((double)d);
    for (b = 0; b < B; b++)
        for (h = 0; h < H; h++)
            for (t = 0; t < T; t++) {
                const float *qt = q + (b * T + t) * Cq + h * d;
                long kh = h / (H / KVH), n = P + t + 1;
                double mx = -1e300, z = 0, D = 0;
                for (s = 0; s < n; s++) {
                    double a = 0;
                    for (i = 0; i < d; i++) a += (double)qt[i] * k[(b * L + s) * Ck + kh * d + i];
                    p[s] = a * sc;
                    if (p[s] > mx) mx = p[s];
                }
                for (s = 0; s < n; s++) z += (p[s] = exp(p[s] - mx));
                for (i = 0; i < d; i++) {
                    double o = 0;
                    for (s = 0; s < n; s++) o += p[s] / z * v[(b * L + s) * Ck + kh * d + i];
                    y[(b * T + t) * Cq + h * d + i] = o;
                    if (R) D += o * R[(b * T + t) * Cq + h * d + i];
                }
                if (!R) continue;
                for (s = 0; s < n; s++) {
                    double a = 0;
                    p[s] /= z;
                    for (i = 0; i < d; i++) a += (double)R[(b * T + t) * Cq + h * d + i] * v[(b * L + s) * Ck + kh * d + i];
                    dp[s] = p[s] * (a - D) * sc;
                }
                for (s = 0; s < n; s++)
                    for (i = 0; i < d; i++) {
                        gq[(b * T + t) * Cq + h * d + i] += dp[s] * k[(b * L + s) * Ck + kh * d + i];
                        gk[(b * L + s) * Ck + kh * d + i] += dp[s] * qt[i];
                        gv[(b * L + s) * Ck + kh * d + i] += p[s] * R[(b * T + t) * Cq + h * d + i];
                    }
            }
    free(p);
    free(dp);
}

static double worst_rel(const float *got, const double *ref, long n) { /* max |got − ref| / max(max |ref|, 1) (T = 1: dq = dk = 0) */
    long i;
    double m = 0, e = 0;
    for (i = 0; i < n; i++) {
        if (fabs(ref[i]) > m) m = fabs(ref[i]);
        if (fabs(got[i] - ref[i]) > e || got[i] != got[i]) e = got[i] != got[i] ? 1e30 : fabs(got[i] - ref[i]);
    }
    return e / (m > 1 ? m : 1);
}

static void attn_case(rl_pool *pool, long B, long T, long H, long KVH, long d) {
    long Cq = H * d, Ck = KVH * d, nq = B * T * Cq, nk = B * T * Ck;
    int64_t sq[2] = {B * T, Cq}, sk[2] = {B * T, Ck};
    float *buf = (float *)calloc((size_t)(2 * nq + 2 * nk) * 2, sizeof(float)), *R = buf + 2 * nq + 2 * nk;
    double *ref = (double *)calloc((size_t)(2 * nq + 2 * nk), sizeof(double));
    rl_tensor q = rl_wrap(buf, RL_F32, 2, sq, 1), k = rl_wrap(buf + nq, RL_F32, 2, sk, 1), v = rl_wrap(buf + nq + nk, RL_F32, 2, sk, 1);
    rl_ctx c;
    rl_tensor *y;
    fill(buf, nq + 2 * nk, -2.0f, 2.0f);
    fill(R, nq, -1.0f, 1.0f);
    q.grad = R + nq; k.grad = q.grad + nq; v.grad = k.grad + nk; /* zero */
    rl_ctx_init(&c, pool);
    y = rl_attention(&c, &q, &k, &v, T, (int)H, (int)KVH);
    RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, R)) == RL_OK, "attention B=%ld T=%ld: %s", B, T, rl_last_error());
    attn_ref(buf, buf + nq, buf + nq + nk, R, B, T, 0, H, KVH, d, ref, ref + nq, ref + 2 * nq, ref + 2 * nq + nk);
    if (y) {
        double e[4];
        e[0] = worst_rel(rl_f32(y), ref, nq);
        e[1] = worst_rel(q.grad, ref + nq, nq);
        e[2] = worst_rel(k.grad, ref + 2 * nq, nk);
        e[3] = worst_rel(v.grad, ref + 2 * nq + nk, nk);
        RLT_CHECK(e[0] < 2e-5 && e[1] < 1e-4 && e[2] < 1e-4 && e[3] < 1e-4,
                  "attention B=%ld T=%ld H=%ld/%ld d=%ld: relative error y %.2g dq %.2g dk %.2g dv %.2g", B, T, H, KVH, d, e[0], e[1],
                  e[2], e[3]);
    }
    rl_ctx_free(&c);
    free(buf);
    free(ref);
}

/* the decoding cache: query head 1 of 2 (kv head 0 of 1) at pos0 = P > 0, T queries over P + T
   keys, through rl__attn_fwd_blocks (blocks and a tail under RL__ATT_MIN rows, or rows alone) */
static void attn_cache_case(rl_isa isa, long P, long T, long d) {
    long L = P + T, qs = 2 * d, i, j;
    const rl__kern *K = rl__isa_table(isa);
    int64_t pk = (int64_t)K->mc * K->kc + (int64_t)K->kc * K->nc;
    float *q = (float *)calloc((size_t)(2 * T * qs + 2 * L * d), sizeof(float)), *o = q + T * qs, *k = o + T * qs, *v = k + L * d;
    float *raw = (float *)malloc(sizeof(float) * (size_t)(pk + (RL__ATT_BQ + d) * L) + 64);
    float *mem = (float *)(void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63); /* pack buffers: 64-byte aligned */
    double *ref = (double *)malloc(sizeof(double) * (size_t)(T * qs)), e = 0, m = 1;
    rl__attn_head a;
    rl__mmbuf mb;
    fill(q, T * qs, -2.0f, 2.0f);
    fill(k, 2 * L * d, -2.0f, 2.0f);
    memset(&a, 0, sizeof a);
    a.q = q + d; a.o = o + d; a.k = k; a.v = v; a.qs = qs; a.ks = d; a.T = T; a.pos0 = P; a.d = d;
    mb.K = K; mb.pk = mem; mb.ap_cap = (int64_t)K->mc * K->kc;
    rl__attn_fwd_blocks(&a, &mb, mem + pk);
    attn_ref(q, k, v, NULL, 1, T, P, 2, 1, d, ref, NULL, NULL, NULL);
    for (i = 0; i < T; i++)
        for (j = d; j < 2 * d; j++) {
            double y = ref[i * qs + j], g = o[i * qs + j];
            if (fabs(y) > m) m = fabs(y);
            if (!(fabs(g - y) <= e)) e = g == g ? fabs(g - y) : 1e30;
        }
    RLT_CHECK(e / m < 2e-5, "attention at pos0 %ld, %ld queries, d %ld: error %.2g", P, T, d, e / m);
    free(raw);
    free(q);
    free(ref);
}

static void test_attention(rl_isa isa, rl_pool *pool) {
    static const long cs[][5] = {{1, 1, 2, 1, 8}, {2, 8, 4, 2, 16}, {1, 63, 3, 1, 13}, {1, 64, 2, 2, 64}, {2, 65, 4, 2, 32}, {1, 150, 2, 1, 64}, {1, 300, 1, 1, 7}};
    long i;
    char gname[128];
    rl_isa_set(isa);
    snprintf(gname, sizeof gname, "kernels attention[%s, %d threads]: = float64 causal GQA attention, forward and backward",
             rl_isa_name(rl_isa_active()), rl_pool_size(pool));
    rlt_begin(gname);
    for (i = 0; i < (long)(sizeof cs / sizeof cs[0]); i++) attn_case(pool, cs[i][0], cs[i][1], cs[i][2], cs[i][3], cs[i][4]);
    if (!pool) {
        attn_cache_case(isa, 37, 70, 16); /* a block of 64 and a tail of 6 at pos0 = 37 */
        attn_cache_case(isa, 100, 3, 64); /* decoding: rows only */
        attn_cache_case(isa, 5, 200, 13);
    }
    rlt_end();
}

int main(void) {
    rl_pool *pool = rl_pool_create(2);
    int i;
    rl_rng_seed(&rng, 1234);
    for (i = 0; i <= RL_ISA_NEON; i++) {
        char name[64];
        if (!rl__isa_supported((rl_isa)i)) {
            snprintf(name, sizeof name, "kernels[%s]", rl_isa_name((rl_isa)i));
            rlt_skip(name, "not supported by this CPU or build");
            continue;
        }
        test_table((rl_isa)i);
        test_qdot((rl_isa)i);
        test_q8dot((rl_isa)i);
        test_wkv_step((rl_isa)i);
        test_decays((rl_isa)i);
        test_gemm((rl_isa)i, NULL);
        test_gemm((rl_isa)i, pool);
        test_mm((rl_isa)i);
        test_gemm_quant((rl_isa)i, NULL);
        test_gemm_quant((rl_isa)i, pool);
        test_attention((rl_isa)i, NULL);
        test_attention((rl_isa)i, pool);
    }
    for (i = RL_ISA_AVX2; i <= RL_ISA_AVX512; i++)
        if (rl__isa_supported((rl_isa)i)) test_dequant_simd((rl_isa)i);
    rl_isa_set(rl_isa_best());
    test_bf16_dot(NULL);
    test_bf16_dot(pool);
    rlt_begin("kernels dispatch");
    RLT_CHECK(rl_isa_set(rl_isa_best()) == RL_OK, "best path must be settable");
    RLT_CHECK(rl_isa_active() == rl_isa_best(), "active path");
    for (i = 0; i <= RL_ISA_NEON; i++)
        if (!rl__isa_supported((rl_isa)i))
            RLT_CHECK(rl_isa_set((rl_isa)i) == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), rl_isa_name((rl_isa)i)),
                      "forcing an unavailable path must fail with a message naming it");
    rlt_end();
    rl_pool_free(pool);
    return rlt_exit();
}
