/* RAD-RWKV6 / RAD-RWKV7 mixers against the PyTorch fixtures of tools/ref/mixers.py
   (tests/fixtures/mixers/rwkv*.safetensors): outputs, final states and the gradient of every
   parameter and input, from a zero state (case 1) and from a given state whose final
   state also feeds the loss (case 2). Tolerance: 2e-5 × max|reference| per tensor. */
#define _POSIX_C_SOURCE 200809L
#include "../radlads.h"
#include "rl_test.h"

#define FIX "tests/fixtures/mixers/"

static rl_pool *pool;

static int32_t scalar_i(const rl_st *st, const char *name) {
    int32_t v = -1;
    if (rl_st_read_i32(st, name, &v, 0, NULL) != RL_OK) return -1;
    return v;
}
static float scalar_f(const rl_st *st, const char *name) {
    float v = 0;
    rl_st_read_f32(st, name, &v, 0, NULL);
    return v;
}

/* a tensor holding the fixture's values (F32, caller frees .data) */
static rl_tensor load(const rl_st *st, const char *name, int requires_grad) {
    const rl_st_tensor *t = rl_st_find(st, name);
    rl_tensor r;
    memset(&r, 0, sizeof r);
    if (!t) return r;
    r = rl_wrap(malloc(sizeof(float) * (size_t)t->n + 4), RL_F32, t->ndim ? t->ndim : 1, t->shape, requires_grad);
    if (!t->ndim) { r.n = 1; r.shape[0] = 1; }
    rl_st_read_f32(st, name, (float *)r.data, t->ndim, t->shape);
    if (requires_grad) r.grad = (float *)calloc((size_t)r.n, sizeof(float));
    return r;
}

static void compare(const char *what, const float *got, const rl_st *st, const char *ref_name) {
    const rl_st_tensor *t = rl_st_find(st, ref_name);
    float *ref;
    double mx = 0;
    long at, i;
    if (!t) {
        RLT_CHECK(0, "%s: reference %s missing", what, ref_name);
        return;
    }
    ref = (float *)malloc(sizeof(float) * (size_t)t->n);
    rl_st_read_f32(st, ref_name, ref, t->ndim, t->shape);
    for (i = 0; i < t->n; i++) mx = fmax(mx, fabs(ref[i]));
    if (!got) {
        RLT_CHECK(0, "%s: no value computed", what);
    } else {
        double w = rlt_worst(got, ref, (long)t->n, 2e-5 * (mx > 0 ? mx : 1), 0, &at);
        RLT_CHECK(w <= 1.0, "%s (%s): [%ld] %g vs %g (max |ref| %g)", what, ref_name, at, at >= 0 ? got[at] : 0, at >= 0 ? ref[at] : 0, mx);
    }
    free(ref);
}

typedef struct { const rl_st *st; int ok; } load_ctx;
static void load_param(void *u, const char *name, rl_tensor *t) {
    load_ctx *lc = (load_ctx *)u;
    if (rl_st_read_f32(lc->st, name, (float *)t->data, t->ndim, t->shape) != RL_OK) lc->ok = 0;
}
typedef struct { const rl_st *st; const char *prefix; } cmp_ctx;
static void cmp_grad(void *u, const char *name, rl_tensor *t) {
    cmp_ctx *cc = (cmp_ctx *)u;
    char ref[128];
    snprintf(ref, sizeof ref, "%sgrad.%s", cc->prefix, name);
    compare(name, t->grad, cc->st, ref);
}
static void zero_grad(void *u, const char *name, rl_tensor *t) {
    (void)u; (void)name;
    memset(t->grad, 0, sizeof(float) * (size_t)t->n);
}

static void run_fixture(const char *file) {
    rl_st st;
    rl_mixer m;
    rl_mixer_cfg cfg;
    rl_arena params, grads;
    float inv_freq[64];
    char path[256], gname[128];
    int cs;
    snprintf(path, sizeof path, FIX "%s.safetensors", file);
    snprintf(gname, sizeof gname, "students mixer parity %s", file);
    rlt_begin(gname);
    if (rl_st_open(&st, path) != RL_OK) {
        RLT_CHECK(0, "open %s: %s", path, rl_last_error());
        rlt_end();
        return;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.H = scalar_i(&st, "H");
    cfg.KVH = scalar_i(&st, "KVH");
    cfg.N = scalar_i(&st, "N");
    cfg.C = cfg.H * cfg.N;
    cfg.layer = scalar_i(&st, "layer");
    cfg.n_layers = 2;
    cfg.attn_bias = 1;
    cfg.use_tokenshift = scalar_i(&st, "use_tokenshift");
    cfg.balance_state = scalar_i(&st, "balance_state");
    cfg.groupnorm_att = scalar_i(&st, "groupnorm_att");
    cfg.use_rope = scalar_i(&st, "use_rope");
    if (rl_st_find(&st, "time_maa_w1")) {
        cfg.kind = RL_MIXER_RWKV6;
        cfg.r_ts = (int)(rl_st_find(&st, "time_maa_w1")->shape[1] / 5); /* ranks from shapes */
        cfg.r_d = (int)rl_st_find(&st, "time_decay_w1")->shape[1];
    } else {
        int64_t i;
        double theta = scalar_f(&st, "rope_theta");
        cfg.kind = RL_MIXER_RWKV7;
        cfg.r_w = (int)rl_st_find(&st, "w1")->shape[1];
        cfg.r_a = (int)rl_st_find(&st, "a1")->shape[1];
        cfg.r_v = (int)rl_st_find(&st, "v1")->shape[1];
        cfg.r_g = (int)rl_st_find(&st, "g1")->shape[1];
        cfg.ln_eps = scalar_f(&st, "ln_x_eps");
        for (i = 0; i < cfg.N / 2; i++) inv_freq[i] = (float)(1.0 / pow(theta, 2.0 * (double)i / (double)cfg.N));
        cfg.inv_freq = inv_freq;
    }
    rl_arena_init(&params, 0);
    rl_arena_init(&grads, 0);
    RLT_CHECK(rl_mixer_alloc(&m, &cfg, &params, &grads) == RL_OK, "alloc: %s", rl_last_error());
    {
        load_ctx lc;
        lc.st = &st;
        lc.ok = 1;
        rl_mixer_params(&m, load_param, &lc);
        RLT_CHECK(lc.ok, "loading parameters: %s", rl_last_error());
    }
    for (cs = 0; cs < 2; cs++) {
        const char *p = cs ? "s." : "";
        char nm[64];
        rl_ctx c;
        rl_mixer_io io;
        rl_tensor x, vf, dy, sin, shin, dS, dsh, dvf, *y, *L;
        int64_t T;
#define NM(s) (snprintf(nm, sizeof nm, "%s%s", p, s), nm)
        x = load(&st, NM("x"), 1);
        vf = load(&st, NM("v_first"), 1);
        dy = load(&st, NM("dy"), 0);
        sin = load(&st, NM("state_in"), 1);
        shin = load(&st, NM("shift_in"), 1);
        dS = load(&st, NM("dstate_out"), 0);
        dsh = load(&st, NM("dshift_out"), 0);
        dvf = load(&st, NM("dv_first"), 0);
        T = x.shape[1];
        rl_mixer_params(&m, zero_grad, NULL);
        rl_ctx_init(&c, pool);
        memset(&io, 0, sizeof io);
        io.state_in = sin.data ? &sin : NULL;
        io.shift_in = shin.data ? &shin : NULL;
        io.v_first = vf.data ? &vf : NULL;
        {
            int64_t s2[2];
            s2[0] = x.shape[0] * T;
            s2[1] = cfg.C;
            x.ndim = 2; x.shape[0] = s2[0]; x.shape[1] = s2[1]; x.shape[2] = 1;
            if (vf.data) { vf.ndim = 2; vf.shape[0] = s2[0]; vf.shape[1] = s2[1]; vf.shape[2] = 1; }
        }
        y = rl_mixer_forward(&c, &m, &x, T, cs ? scalar_i(&st, NM("pos0")) : 0, &io);
        L = rl_dot_const(&c, y, (const float *)dy.data);
        if (dS.data) L = rl_add(&c, L, rl_dot_const(&c, io.state_out, (const float *)dS.data));
        if (dsh.data) L = rl_add(&c, L, rl_dot_const(&c, io.shift_out, (const float *)dsh.data));
        if (dvf.data && cfg.layer == 0) L = rl_add(&c, L, rl_dot_const(&c, io.v_first, (const float *)dvf.data));
        RLT_CHECK(L && c.err == RL_OK, "case %d forward: %s", cs + 1, rl_last_error());
        if (L) {
            RLT_CHECK(rl_backward(&c, L) == RL_OK, "backward: %s", rl_last_error());
            compare("loss", rl_f32(L), &st, NM("loss"));
            compare("y", rl_f32(y), &st, NM("y"));
            compare("state_out", io.state_out ? rl_f32(io.state_out) : NULL, &st, NM("state_out"));
            if (cfg.kind == RL_MIXER_RWKV6) compare("shift_out", io.shift_out ? rl_f32(io.shift_out) : NULL, &st, NM("shift_out"));
            if (cfg.kind == RL_MIXER_RWKV7 && cfg.layer == 0) compare("v_first_out", io.v_first ? rl_f32(io.v_first) : NULL, &st, NM("v_first_out"));
            compare("grad x", x.grad, &st, NM("grad.x"));
            if (vf.data) compare("grad v_first", vf.grad, &st, NM("grad.v_first"));
            if (sin.data) compare("grad state_in", sin.grad, &st, NM("grad.state_in"));
            if (shin.data) compare("grad shift_in", shin.grad, &st, NM("grad.shift_in"));
            {
                cmp_ctx cc;
                cc.st = &st;
                cc.prefix = p;
                rl_mixer_params(&m, cmp_grad, &cc);
            }
        }
#undef NM
        rl_ctx_free(&c);
        free(x.data); free(x.grad); free(vf.data); free(vf.grad); free(dy.data); free(sin.data); free(sin.grad);
        free(shin.data); free(shin.grad); free(dS.data); free(dsh.data); free(dvf.data);
    }
    rl_arena_free(&params);
    rl_arena_free(&grads);
    rl_st_close(&st);
    rlt_end();
}


/* ---- recurrent vs chunked forms, and state carried across calls ---- */

static void fill(rl_rng *g, float *x, int64_t n, float lo, float hi) {
    int64_t i;
    for (i = 0; i < n; i++) x[i] = lo + (hi - lo) * rl_rng_uniform(g);
}

/* the scan's inputs in[0..6] as tensors [R, width] (RWKV6's k and v at the kv heads' width),
   the first `grads` of them with zeroed gradients (calloc) */
static void wrap_scan_inputs(int kind, int64_t R, int H, int KVH, int N, float *const *in, int grads, rl_tensor *t) {
    int q;
    for (q = 0; q < 7; q++) {
        int64_t sh[2];
        sh[0] = R;
        sh[1] = (kind == 6 && (q == 1 || q == 2)) ? (int64_t)KVH * N : (int64_t)H * N;
        t[q] = rl_wrap(in[q], RL_F32, 2, sh, q < grads);
        if (q < grads) t[q].grad = (float *)calloc((size_t)(R * sh[1]), sizeof(float));
    }
}

/* runs one scan kind (6 or 7) over B sequences of T tokens with chunk length L (0 =
   recurrent), from `state` (may be NULL); returns y and the final state in malloc'd arrays */
static void run_scan(int kind, int64_t B, int64_t T, int H, int KVH, int N, int L, float *const *in, const float *state,
                     float **y, float **sout) {
    rl_ctx c;
    rl_tensor t[7], st, *S = NULL, *out;
    int64_t R = B * T;
    rl_ctx_init(&c, pool);
    c.scan_chunk = L;
    wrap_scan_inputs(kind, R, H, KVH, N, in, 0, t);
    {
        int64_t sh[4];
        sh[0] = B; sh[1] = H; sh[2] = N; sh[3] = N;
        st = rl_wrap((void *)(uintptr_t)state, RL_F32, 4, sh, 0);
    }
    if (kind == 6) out = rl_wkv6(&c, &t[0], &t[1], &t[2], &t[3], T, H, KVH, state ? &st : NULL, &S);
    else out = rl_wkv7(&c, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], T, H, state ? &st : NULL, &S);
    *y = (float *)malloc(sizeof(float) * (size_t)(R * H * N));
    *sout = (float *)malloc(sizeof(float) * (size_t)(B * H * N * N));
    if (out) memcpy(*y, out->data, sizeof(float) * (size_t)(R * H * N));
    if (S) memcpy(*sout, S->data, sizeof(float) * (size_t)(B * H * N * N));
    rl_ctx_free(&c);
}

static double rel_err(const float *a, const float *b, int64_t n) {
    double mx = 1e-30, e = 0;
    int64_t i;
    for (i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e / mx;
}

/* inputs with RADLADS-like ranges: RWKV6 log-decays in [-5, 0), RWKV7 decays in (0.545, 1),
   κ unit vectors, a = -κ, b = κ ⊙ iclr */
static void make_inputs(rl_rng *g, int kind, int64_t R, int H, int KVH, int N, float **in) {
    int64_t C = (int64_t)H * N, q, i, h;
    for (q = 0; q < 7; q++) in[q] = (float *)malloc(sizeof(float) * (size_t)(R * C));
    fill(g, in[0], R * C, -1, 1);
    if (kind == 6) {
        fill(g, in[1], R * KVH * N, -1, 1);
        fill(g, in[2], R * KVH * N, -1, 1);
        for (i = 0; i < R * C; i++) {
            float d = -6.0f + 7.0f * rl_rng_uniform(g);
            in[3][i] = fmaxf(-expf(d), -5.0f);
        }
    } else {
        for (i = 0; i < R * C; i++) in[1][i] = expf(-0.60653066f / (1.0f + expf(-(4 * rl_rng_uniform(g) - 2))));
        fill(g, in[2], R * C, -1, 1);
        fill(g, in[3], R * C, -1, 1);
        for (i = 0; i < R * H; i++) { /* κ per head */
            float *kap = in[4] + i * N, nrm = 0;
            fill(g, kap, N, -1, 1);
            for (h = 0; h < N; h++) nrm += kap[h] * kap[h];
            nrm = 1.0f / sqrtf(nrm);
            for (h = 0; h < N; h++) {
                float a = rl_rng_uniform(g);
                kap[h] *= nrm;
                in[5][i * N + h] = kap[h] * a;
                kap[h] = -kap[h];
            }
        }
    }
}

static void test_forms(void) {
    static const int64_t Ts[] = {1, 2, 3, 15, 16, 17, 31, 33, 100, 257, 1024};
    static const int Ls[] = {16, 13, 64};
    rl_rng g;
    int kind;
    rl_rng_seed(&g, 99);
    rlt_begin("students recurrent vs chunked forms agree (T 1..1024, chunks 13/16/64), state carried");
    for (kind = 6; kind <= 7; kind++) {
        int ti, li, H = 2, KVH = kind == 6 ? 1 : 2, N = 16;
        for (ti = 0; ti < (int)(sizeof Ts / sizeof Ts[0]); ti++) {
            int64_t T = Ts[ti], B = 2, R = B * T;
            float *in[7], *y0, *s0, *st0 = (float *)malloc(sizeof(float) * (size_t)(B * H * N * N));
            int q;
            make_inputs(&g, kind, R, H, KVH, N, in);
            fill(&g, st0, B * H * N * N, -0.5f, 0.5f);
            run_scan(kind, B, T, H, KVH, N, -1, in, st0, &y0, &s0);
            for (li = 0; li < 3; li++) {
                float *y1, *s1;
                double ey, es;
                run_scan(kind, B, T, H, KVH, N, Ls[li], in, st0, &y1, &s1);
                ey = rel_err(y1, y0, R * H * N);
                es = rel_err(s1, s0, B * H * N * N);
                RLT_CHECK(ey <= 1e-5 && es <= 1e-5, "wkv%d T=%lld chunk %d: rel err y %.2e state %.2e", kind, (long long)T, Ls[li], ey, es);
                free(y1);
                free(s1);
            }
            if (T >= 3) { /* two calls with the state carried == one call (B = 1: rows of sequence 0) */
                int64_t T1 = T / 3, T2 = T - T1;
                float *a[7], *b[7], *ya, *sa, *yb, *sb, *yf, *sf;
                int64_t C6 = (int64_t)H * N;
                for (q = 0; q < 7; q++) {
                    int64_t w = (kind == 6 && (q == 1 || q == 2)) ? (int64_t)KVH * N : C6;
                    a[q] = in[q];
                    b[q] = in[q] + T1 * w;
                }
                run_scan(kind, 1, T, H, KVH, N, 0, in, st0, &yf, &sf);
                run_scan(kind, 1, T1, H, KVH, N, 0, a, st0, &ya, &sa);
                run_scan(kind, 1, T2, H, KVH, N, 0, b, sa, &yb, &sb);
                RLT_CHECK(rel_err(ya, yf, T1 * C6) <= 1e-6 && rel_err(yb, yf + T1 * C6, T2 * C6) <= 1e-6 &&
                              rel_err(sb, sf, (int64_t)H * N * N) <= 1e-6,
                          "wkv%d T=%lld: two calls with carried state differ from one", kind, (long long)T);
                free(ya); free(sa); free(yb); free(sb); free(yf); free(sf);
            }
            for (q = 0; q < 7; q++) free(in[q]);
            free(y0); free(s0); free(st0);
        }
    }
    rlt_end();
}

/* *state_out == state on entry: the scan writes the final state over `state` (decoding) and
   returns it, with the values of the out-of-place call; with a gradient wanted it must not
   (the input state is still needed), and gives a new tensor with the same values */
static void test_state_in_place(void) {
    static const int64_t Ts[] = {1, 3, 17};
    rl_rng g;
    int kind, ti, grad, form;
    rl_rng_seed(&g, 5);
    rlt_begin("students scans update a decoding state in place (*state_out == state), not when a gradient is wanted");
    for (kind = 6; kind <= 7; kind++)
        for (ti = 0; ti < 3; ti++)
            for (grad = 0; grad <= 1; grad++)
                for (form = -1; form <= 16; form += 17) { /* token by token; chunks of 16 */
                    int H = 2, KVH = kind == 6 ? 1 : 2, N = 16, q;
                    int64_t T = Ts[ti], B = 2, R = B * T, SN = B * H * N * N;
                    float *in[7], *y0, *s0, *st0 = (float *)malloc(sizeof(float) * (size_t)SN), *st1 = (float *)malloc(sizeof(float) * (size_t)SN);
                    rl_ctx c;
                    rl_tensor t[7], st, *S, *y;
                    make_inputs(&g, kind, R, H, KVH, N, in);
                    fill(&g, st0, SN, -0.5f, 0.5f);
                    memcpy(st1, st0, sizeof(float) * (size_t)SN);
                    run_scan(kind, B, T, H, KVH, N, form, in, st0, &y0, &s0); /* out of place */
                    rl_ctx_init(&c, pool);
                    c.scan_chunk = form;
                    wrap_scan_inputs(kind, R, H, KVH, N, in, grad, t); /* a gradient wanted for r */
                    {
                        int64_t sh[4];
                        sh[0] = B; sh[1] = H; sh[2] = N; sh[3] = N;
                        st = rl_wrap(st1, RL_F32, 4, sh, 0);
                    }
                    S = &st;
                    if (kind == 6) y = rl_wkv6(&c, &t[0], &t[1], &t[2], &t[3], T, H, KVH, &st, &S);
                    else y = rl_wkv7(&c, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], T, H, &st, &S);
                    RLT_CHECK(y && S, "wkv%d T=%lld: %s", kind, (long long)T, rl_last_error());
                    if (y && S) {
                        RLT_CHECK(grad ? S != &st : S == &st, "wkv%d T=%lld grad %d: state %s", kind, (long long)T, grad,
                                  S == &st ? "updated in place with a gradient wanted" : "not updated in place");
                        RLT_CHECK(rel_err(y->data, y0, R * H * N) == 0 && rel_err(S->data, s0, SN) == 0, "wkv%d T=%lld grad %d: in place differs",
                                  kind, (long long)T, grad);
                        RLT_CHECK(grad ? rel_err(st1, st0, SN) == 0 : 1, "wkv%d T=%lld: the input state changed with a gradient wanted", kind,
                                  (long long)T);
                    }
                    rl_ctx_free(&c);
                    free(t[0].grad);
                    for (q = 0; q < 7; q++) free(in[q]);
                    free(y0); free(s0); free(st0); free(st1);
                }
    rlt_end();
}

/* the chunked forms' forward and backward against the recurrent ones: y, final state and the
   gradient of every input incl. the initial state, loss = Σ y⊙dy + Σ S_out⊙dS (random dy, dS).
   scan_chunk -1 = recurrent, 0 = default, L > 0 = chunks of L. */
static void scan_grads(int kind, int64_t B, int64_t T, int H, int KVH, int N, int L, float *const *in,
                       const float *state, const float *dy, const float *dS, float **out) {
    rl_ctx c;
    rl_tensor t[7], st, *S = NULL, *y, *loss;
    int64_t R = B * T, q, n[9];
    rl_ctx_init(&c, pool);
    c.scan_chunk = L;
    wrap_scan_inputs(kind, R, H, KVH, N, in, 7, t);
    for (q = 0; q < 7; q++) n[q] = t[q].n;
    {
        int64_t sh[4];
        sh[0] = B; sh[1] = H; sh[2] = N; sh[3] = N;
        st = rl_wrap((void *)(uintptr_t)state, RL_F32, 4, sh, 1);
        st.grad = (float *)calloc((size_t)(B * H * N * N), sizeof(float));
    }
    if (kind == 6) y = rl_wkv6(&c, &t[0], &t[1], &t[2], &t[3], T, H, KVH, &st, &S);
    else y = rl_wkv7(&c, &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], T, H, &st, &S);
    loss = y && S ? rl_add(&c, rl_dot_const(&c, y, dy), rl_dot_const(&c, S, dS)) : NULL;
    RLT_CHECK(loss && rl_backward(&c, loss) == RL_OK, "wkv%d backward: %s", kind, rl_last_error());
    n[7] = R * H * N;
    n[8] = B * H * N * N;
    /* out[0..6] input grads, [7] y, [8] final state, [9] state grad */
    for (q = 0; q < (kind == 6 ? 4 : 6); q++) out[q] = t[q].grad;
    for (; q < 7; q++) { free(t[q].grad); out[q] = NULL; }
    out[7] = (float *)malloc(sizeof(float) * (size_t)n[7]);
    out[8] = (float *)malloc(sizeof(float) * (size_t)n[8]);
    if (y) memcpy(out[7], y->data, sizeof(float) * (size_t)n[7]);
    if (S) memcpy(out[8], S->data, sizeof(float) * (size_t)n[8]);
    out[9] = st.grad;
    rl_ctx_free(&c);
}

static void test_forms_grad(void) {
    static const int64_t Ts[] = {1, 2, 15, 16, 17, 33, 100};
    static const int Ls[] = {0, 5, 32, 64};
    static const char *names7[] = {"dr", "dw", "dk", "dv", "da", "db", "-", "y", "S_out", "dS_in"};
    static const char *names6[] = {"dr", "dk", "dv", "dlogw", "-", "-", "-", "y", "S_out", "dS_in"};
    rl_rng g;
    int kind, cfg;
    double worst = 0;
    rl_rng_seed(&g, 7);
    rlt_begin("students chunked vs recurrent scans: y, final state, every gradient (T 1..100, chunks 5/16/32/64, GQA, N 16/64, strong decays)");
    for (kind = 6; kind <= 7; kind++)
        for (cfg = 0; cfg < 3; cfg++) { /* 0: GQA, N 16; 1: N 64; 2: strong decays (chunks that run token by token) */
            int H = cfg ? 2 : 3, KVH = kind == 6 && !cfg ? 1 : H, N = cfg == 1 ? 64 : 16, ti, li;
            for (ti = 0; ti < (int)(sizeof Ts / sizeof Ts[0]); ti++) {
                int64_t T = Ts[ti], B = cfg ? 1 : 2, R = B * T, nn[10], q;
                float *in[7], *st0 = (float *)malloc(sizeof(float) * (size_t)(B * H * N * N)), *ref[10];
                float *dy = (float *)malloc(sizeof(float) * (size_t)(R * H * N)), *dS = (float *)malloc(sizeof(float) * (size_t)(B * H * N * N));
                if (cfg == 1 && T > 33) T = 33, R = B * T;
                make_inputs(&g, kind, R, H, KVH, N, in);
                if (cfg == 2)
                    for (q = 0; q < R * H * N; q++) {
                        if (kind == 6) in[3][q] = -8.0f * rl_rng_uniform(&g);
                        else in[1][q] = 0.01f + 0.99f * rl_rng_uniform(&g);
                    }
                fill(&g, st0, B * H * N * N, -0.5f, 0.5f);
                fill(&g, dy, R * H * N, -1, 1);
                fill(&g, dS, B * H * N * N, -1, 1);
                for (q = 0; q < 7; q++) nn[q] = R * ((kind == 6 && (q == 1 || q == 2)) ? KVH : H) * N;
                nn[7] = R * H * N;
                nn[8] = nn[9] = B * H * N * N;
                scan_grads(kind, B, T, H, KVH, N, -1, in, st0, dy, dS, ref);
                for (li = 0; li < (int)(sizeof Ls / sizeof Ls[0]); li++) {
                    float *got[10];
                    scan_grads(kind, B, T, H, KVH, N, Ls[li], in, st0, dy, dS, got);
                    for (q = 0; q < 10; q++)
                        if (ref[q] && got[q]) {
                            double e = rel_err(got[q], ref[q], nn[q]);
                            worst = fmax(worst, e);
                            RLT_CHECK(e <= 2e-5, "wkv%d H=%d KVH=%d N=%d T=%lld chunk %d: %s rel err %.2e", kind, H, KVH, N,
                                      (long long)T, Ls[li], (kind == 6 ? names6 : names7)[q], e);
                        }
                    for (q = 0; q < 10; q++) free(got[q]);
                }
                for (q = 0; q < 10; q++) free(ref[q]);
                for (q = 0; q < 7; q++) free(in[q]);
                free(st0); free(dy); free(dS);
            }
        }
    if (getenv("RLT_VERBOSE")) fprintf(stderr, "  largest relative error (max |diff| / max |recurrent|) %.2e\n", worst);
    rlt_end();
}

/* ---- weight transfer and initialisation (spec §3.0) ---- */

typedef struct { rl_model *other; int64_t same, differ, missing; } cmp_models;
static void find_in(void *u, const char *name, rl_tensor *t) {
    void **f = (void **)u;
    if (!f[1] && !strcmp(name, (const char *)f[0])) f[1] = t;
}
static rl_tensor *param_of(rl_model *m, const char *name) {
    void *f[2];
    f[0] = (void *)(uintptr_t)name;
    f[1] = NULL;
    rl_model_params(m, find_in, f);
    return (rl_tensor *)f[1];
}
static void bit_compare(void *u, const char *name, rl_tensor *t) {
    cmp_models *cm = (cmp_models *)u;
    rl_tensor *s = param_of(cm->other, name);
    int64_t i;
    int ok = 1;
    if (!s) { cm->missing++; return; }
    for (i = 0; i < t->n; i++) {
        float tv = t->dtype == RL_BF16 ? rl_bf16_to_f32(((const uint16_t *)t->data)[i]) : ((const float *)t->data)[i];
        ok &= !memcmp(&tv, rl_f32(s) + i, sizeof tv);
    }
    if (ok) cm->same++; else cm->differ++;
}

static double max_abs(const rl_tensor *t) {
    double m = 0;
    int64_t i;
    for (i = 0; i < t->n; i++) m = fmax(m, fabs(rl_f32(t)[i]));
    return m;
}
static int all_eq(const rl_tensor *t, float v) {
    int64_t i;
    for (i = 0; i < t->n; i++)
        if (rl_f32(t)[i] != v) return 0;
    return 1;
}
/* rows of an [r, c] matrix (r <= c) are orthogonal with norm `gain` */
static double ortho_err(const rl_tensor *t, double gain) {
    int64_t r = t->shape[0], c = t->shape[1], i, j, k;
    double e = 0;
    for (i = 0; i < r; i++)
        for (j = 0; j < r; j++) {
            double d = 0;
            for (k = 0; k < c; k++) d += (double)rl_f32(t)[i * c + k] * rl_f32(t)[j * c + k];
            e = fmax(e, fabs(d - (i == j ? gain * gain : 0)));
        }
    return e;
}

static void test_transfer(const char *dir) {
    rl_model teacher, st;
    rl_student_opts o;
    char gname[200];
    int kind;
    snprintf(gname, sizeof gname, "students weight transfer and init from %s", dir);
    rlt_begin(gname);
    if (rl_model_load(&teacher, dir, 0) != RL_OK) {
        RLT_CHECK(0, "load teacher: %s", rl_last_error());
        rlt_end();
        return;
    }
    for (kind = 6; kind <= 7; kind++) {
        cmp_models cm;
        int64_t l, L = teacher.cfg.n_layers, C = teacher.cfg.hidden_size, n;
        rl_student_opts_default(&o, (rl_mixer_kind)kind);
        RLT_CHECK(rl_student_from_teacher(&st, &teacher, &o) == RL_OK, "student: %s", rl_last_error());
        memset(&cm, 0, sizeof cm);
        cm.other = &st;
        rl_model_params(&teacher, bit_compare, &cm);
        RLT_CHECK(cm.differ == 0 && cm.missing == 0 && cm.same > 0, "RWKV%d: %lld copied tensors identical, %lld differ, %lld missing",
                  kind, (long long)cm.same, (long long)cm.differ, (long long)cm.missing);
        for (l = 0; l < L; l++) {
            rl_mixer *m = &st.blocks[l].mix;
            double r01 = L > 1 ? (double)l / (double)(L - 1) : 0;
            RLT_CHECK((int)m->cfg.kind == kind, "layer %lld kind", (long long)l);
            if (kind == 6) {
                RLT_CHECK(m->cfg.r_ts == 32 && m->cfg.r_d == 32, "RWKV6 ranks from the formula (C=%lld): %d %d", (long long)C, m->cfg.r_ts, m->cfg.r_d);
                RLT_CHECK(all_eq(&m->maa_x, 1.0f) && all_eq(&m->maa_r, 0) && all_eq(&m->maa_g, 0) && all_eq(&m->maa_w1, 0) && all_eq(&m->decay_w1, 0), "RWKV6 constant inits");
                RLT_CHECK(max_abs(&m->maa_w2) <= 0.01 && max_abs(&m->maa_w2) > 0.005 && max_abs(&m->decay_w2) <= 0.01, "U(-0.01,0.01) inits");
                RLT_CHECK(max_abs(&m->gate_w) <= 1.0 / sqrt((double)C) && max_abs(&m->gate_w) > 0.5 / sqrt((double)C), "gate U(-1/sqrt C, 1/sqrt C)");
                for (n = 0; n < C; n++) {
                    double want = -6.0 + 5.0 * pow((double)n / (double)(C - 1), 0.7 + 1.3 * r01);
                    RLT_CLOSE(rl_f32(&m->decay)[n], want, 1e-5, 1e-6, "time_decay[%lld] layer %lld", (long long)n, (long long)l);
                }
            } else {
                RLT_CHECK(m->cfg.r_w == 32 && m->cfg.r_v == 32 && m->cfg.r_g == 32, "RWKV7 ranks from the formula");
                for (n = 0; n < C; n++) {
                    double want = -7.0 + 5.0 * pow((double)n / (double)(C - 1), 0.85 + sqrt(r01)) + 0.5;
                    RLT_CLOSE(rl_f32(&m->w0)[n], want, 1e-5, 1e-6, "w0[%lld] layer %lld", (long long)n, (long long)l);
                }
                RLT_CHECK(all_eq(&m->w1, 0) && all_eq(&m->a0, 0) && all_eq(&m->a1, 0) && all_eq(&m->v1, 0) && all_eq(&m->g1, 0), "zero inits");
                RLT_CHECK(all_eq(&m->k_k, 0.85f) && all_eq(&m->k_a, 1.0f) && all_eq(&m->r_k, 0), "k_k 0.85, k_a 1, r_k 0");
                RLT_CHECK(all_eq(&m->v0, l > 0 ? 1.0f : 0.0f), "v0 = 1 for layers > 0");
                RLT_CHECK(ortho_err(&m->w2, 0.1) < 1e-6 && ortho_err(&m->a2, 0.1) < 1e-6 && ortho_err(&m->v2, 0.1) < 1e-6 && ortho_err(&m->g2, 0.1) < 1e-6,
                          "w2/a2/v2/g2 orthogonal with gain 0.1 (%g)", ortho_err(&m->w2, 0.1));
            }
        }
        { /* the same seed gives the same student */
            rl_model st2;
            cmp_models c2;
            rl_student_from_teacher(&st2, &teacher, &o);
            memset(&c2, 0, sizeof c2);
            c2.other = &st2;
            rl_model_params(&st, bit_compare, &c2);
            RLT_CHECK(c2.differ == 0 && c2.missing == 0, "deterministic from the seed");
            rl_model_free(&st2);
        }
        { /* decoding token by token equals the batched forward (recurrent = parallel) */
            rl_ctx c;
            rl_forward_opts fo;
            rl_state s;
            int32_t ids[9] = {5, 77, 3, 300, 12, 12, 599, 0, 41};
            float *lg = (float *)malloc(sizeof(float) * (size_t)st.cfg.vocab_size);
            rl_tensor *y;
            int t;
            double e = 0;
            rl_ctx_init(&c, pool);
            memset(&fo, 0, sizeof fo);
            fo.B = 1;
            fo.T = 9;
            rl_no_grad_push(&c);
            y = rl_model_forward(&c, &st, ids, &fo);
            RLT_CHECK(y != NULL, "student forward: %s", rl_last_error());
            {
                float *ref = (float *)malloc(sizeof(float) * (size_t)y->n);
                rl_ctx c2;
                memcpy(ref, y->data, sizeof(float) * (size_t)y->n);
                rl_ctx_init(&c2, pool);
                rl_state_init(&s, &st, 16);
                for (t = 0; t < 9; t++) {
                    int64_t v;
                    RLT_CHECK(rl_model_step(&c2, &st, &s, ids + t, 1, lg) == RL_OK, "step: %s", rl_last_error());
                    for (v = 0; v < st.cfg.vocab_size; v++) e = fmax(e, fabs(lg[v] - ref[t * st.cfg.vocab_size + v]));
                }
                RLT_CHECK(e < 1e-4, "RWKV%d: decode vs forward max |diff| %g", kind, e);
                rl_state_free(&s);
                rl_ctx_free(&c2);
                free(ref);
            }
            rl_ctx_free(&c);
            free(lg);
        }
        rl_model_free(&st);
    }
    { /* a hybrid keeping every layer as attention is the teacher itself */
        rl_model hy;
        rl_ctx c;
        rl_forward_opts fo;
        int32_t ids[6] = {1, 2, 3, 4, 5, 6};
        rl_tensor *a, *b;
        rl_student_opts_default(&o, RL_MIXER_RWKV7);
        o.keep_attention = (int)teacher.cfg.n_layers;
        RLT_CHECK(rl_student_from_teacher(&hy, &teacher, &o) == RL_OK, "hybrid: %s", rl_last_error());
        rl_ctx_init(&c, pool);
        memset(&fo, 0, sizeof fo);
        fo.B = 1;
        fo.T = 6;
        rl_no_grad_push(&c);
        a = rl_model_forward(&c, &teacher, ids, &fo);
        b = rl_model_forward(&c, &hy, ids, &fo);
        RLT_CHECK(a && b && rel_err(rl_f32(b), rl_f32(a), a->n) < 1e-6, "all-attention hybrid == teacher");
        rl_ctx_free(&c);
        rl_model_free(&hy);
        o.keep_attention = 1;
        RLT_CHECK(rl_student_from_teacher(&hy, &teacher, &o) == RL_OK && hy.blocks[teacher.cfg.n_layers - 1].mix.cfg.kind == RL_MIXER_ATTENTION &&
                      hy.blocks[0].mix.cfg.kind == RL_MIXER_RWKV7, "keep_attention 1: last layer attention");
        rl_model_free(&hy);
    }
    rl_model_free(&teacher);
    rlt_end();
}

/* ---- the fused decoding steps (rl__rwkv7_step, rl__rwkv6_step) against the ops ----
   rlt_fused_vs_ops for the variants and options the steps take: RAD-RWKV7 with RoPE or not,
   GroupNorm or N^-½, balanced or not, the gate as LoRA or Linear, a hybrid's attention layer
   between; RAD-RWKV6 with and without token shift and balance_state, its gate Linear, LoRA or
   none, GroupNorm, RoPE, a hybrid; GQA (the fixture's 4 heads on 2) and biases throughout; BF16/F16
   weights. The LoRAs start at zero: every parameter gets noise first. */
static void add_noise(void *u, const char *name, rl_tensor *t) {
    rl_rng *g = (rl_rng *)u;
    int64_t i;
    (void)name;
    if (t->dtype == RL_F32)
        for (i = 0; i < t->n; i++) rl_f32(t)[i] += 0.2f * (rl_rng_uniform(g) - 0.5f);
}
static void test_fused_step(const char *dir) {
    rl_model teacher;
    char gname[200];
    int variant;
    snprintf(gname, sizeof gname, "students fused decoding steps == op by op, bit for bit (%s)", dir);
    rlt_begin(gname);
    if (rl_model_load(&teacher, dir, 0) != RL_OK) {
        RLT_CHECK(0, "load teacher: %s", rl_last_error());
        rlt_end();
        return;
    }
    for (variant = 0; variant < 10; variant++) {
        rl_model st;
        rl_student_opts o;
        rl_rng g;
        int64_t L, q;
        uint16_t *half[4] = {NULL, NULL, NULL, NULL};
        void *orig[4];
        rl_tensor *w[4];
        char what[64];
        int k;
        rl_student_opts_default(&o, variant < 5 ? RL_MIXER_RWKV7 : RL_MIXER_RWKV6);
        switch (variant) {
        case 1: o.use_rope = 0, o.balance_state = 0, o.groupnorm_att = 1; break; /* RAD-RWKV7 variant A without RoPE */
        case 2: o.gate = RL_GATE_LINEAR; break;
        case 4: o.keep_attention = 1; break;
        case 6: o.balance_state = 0, o.gate = RL_GATE_LORA; break;
        case 7: o.use_tokenshift = 0, o.use_rope = 1, o.gate = RL_GATE_NONE, o.groupnorm_att = 1; break;
        case 9: o.keep_attention = 1, o.balance_state = 0; break;
        }
        snprintf(what, sizeof what, "RAD-RWKV%d variant %d", variant < 5 ? 7 : 6, variant);
        RLT_CHECK(rl_student_from_teacher(&st, &teacher, &o) == RL_OK, "%s: %s", what, rl_last_error());
        rl_rng_seed(&g, 11 + (uint64_t)variant);
        rl_model_params(&st, add_noise, &g);
        L = st.cfg.n_layers;
        w[0] = &st.blocks[0].mix.q_w; w[1] = &st.blocks[0].mix.k_w; w[2] = &st.blocks[0].mix.o_w; w[3] = &st.blocks[L - 1].mix.v_w;
        if (variant == 3 || variant == 8) /* frozen 16-bit weights, as a checkpoint loaded for inference gives */
            for (k = 0; k < 4; k++) {
                half[k] = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)w[k]->n);
                for (q = 0; q < w[k]->n; q++) half[k][q] = k % 2 ? rl_f32_to_f16(rl_f32(w[k])[q]) : rl_f32_to_bf16(rl_f32(w[k])[q]);
                orig[k] = w[k]->data;
                w[k]->data = half[k];
                w[k]->dtype = k % 2 ? RL_F16 : RL_BF16;
                w[k]->requires_grad = 0;
            }
        rlt_fused_vs_ops(&st, pool, what);
        for (k = 0; k < 4; k++)
            if (half[k]) {
                w[k]->data = orig[k];
                w[k]->dtype = RL_F32;
                free(half[k]);
            }
        rl_model_free(&st);
    }
    rl_model_free(&teacher);
    rlt_end();
}

/* ---- finite differences through a whole mixer: every parameter tensor and the input ----
   loss = Σ y ⊙ w (+ Σ state_out ⊙ w2) from the fixture's parameters and inputs; a few
   sampled elements of every parameter, of x and of the initial state are perturbed
   (4-point central stencil, loss summed in double) and compared with rl_backward. */
typedef struct { rl_mixer *m; rl_tensor *x, *st, *vf; int64_t T; const float *w, *w2; } fd_ctx;
static double fd_loss(fd_ctx *f, int with_grad) {
    rl_ctx c;
    rl_mixer_io io;
    rl_tensor *y, *L;
    double v;
    rl_ctx_init(&c, pool);
    if (!with_grad) rl_no_grad_push(&c);
    memset(&io, 0, sizeof io);
    io.state_in = f->st;
    io.v_first = f->vf;
    y = rl_mixer_forward(&c, f->m, f->x, f->T, 3, &io);
    L = rl_add(&c, rl_dot_const(&c, y, f->w), rl_dot_const(&c, io.state_out, f->w2));
    if (with_grad) rl_backward(&c, L);
    v = L ? rl_f32(L)[0] : NAN;
    rl_ctx_free(&c);
    return v;
}
typedef struct { fd_ctx *f; rl_rng *g; int bad, n; char first[200]; } fd_visit;
static void fd_check_tensor(fd_visit *v, const char *name, rl_tensor *t) {
    int k;
    for (k = 0; k < 3; k++) {
        int64_t i = (int64_t)(rl_rng_u64(v->g) % (uint64_t)t->n);
        float *x = rl_f32(t) + i, x0 = *x;
        double h = 1e-2 * fmax(1.0, fabs(x0)), fp1, fm1, fp2, fm2, num, ana = t->grad[i];
        *x = (float)(x0 + h); fp1 = fd_loss(v->f, 0);
        *x = (float)(x0 - h); fm1 = fd_loss(v->f, 0);
        *x = (float)(x0 + 2 * h); fp2 = fd_loss(v->f, 0);
        *x = (float)(x0 - 2 * h); fm2 = fd_loss(v->f, 0);
        *x = x0;
        num = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h);
        v->n++;
        if (!(fabs(num - ana) <= 2e-3 + 5e-3 * fmax(fabs(num), fabs(ana)))) {
            if (!v->bad++) snprintf(v->first, sizeof v->first, "%s[%lld]: analytic %.6g numeric %.6g", name, (long long)i, ana, num);
        }
    }
}
static void fd_param(void *u, const char *name, rl_tensor *t) {
    fd_visit *v = (fd_visit *)u;
    if (!strcmp(name, "r_k")) return; /* dead parameter (bonus removed): gradient 0 by design */
    fd_check_tensor(v, name, t);
}

static void test_mixer_fd(const char *file) {
    rl_st st;
    rl_mixer m;
    rl_mixer_cfg cfg;
    rl_arena params, grads;
    float inv_freq[64];
    char path[256], gname[128];
    rl_rng g;
    snprintf(path, sizeof path, FIX "%s.safetensors", file);
    snprintf(gname, sizeof gname, "students finite differences through the whole mixer %s (every parameter, x, state)", file);
    rlt_begin(gname);
    rl_rng_seed(&g, 3);
    if (rl_st_open(&st, path) != RL_OK) {
        RLT_CHECK(0, "open %s", path);
        rlt_end();
        return;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.H = scalar_i(&st, "H"); cfg.KVH = scalar_i(&st, "KVH"); cfg.N = scalar_i(&st, "N"); cfg.C = cfg.H * cfg.N;
    cfg.layer = scalar_i(&st, "layer"); cfg.n_layers = 2; cfg.attn_bias = 1;
    cfg.use_tokenshift = scalar_i(&st, "use_tokenshift"); cfg.balance_state = scalar_i(&st, "balance_state");
    cfg.groupnorm_att = scalar_i(&st, "groupnorm_att"); cfg.use_rope = scalar_i(&st, "use_rope");
    if (rl_st_find(&st, "time_maa_w1")) {
        cfg.kind = RL_MIXER_RWKV6;
        cfg.r_ts = (int)(rl_st_find(&st, "time_maa_w1")->shape[1] / 5);
        cfg.r_d = (int)rl_st_find(&st, "time_decay_w1")->shape[1];
    } else {
        int64_t i;
        cfg.kind = RL_MIXER_RWKV7;
        cfg.r_w = (int)rl_st_find(&st, "w1")->shape[1]; cfg.r_a = (int)rl_st_find(&st, "a1")->shape[1];
        cfg.r_v = (int)rl_st_find(&st, "v1")->shape[1]; cfg.r_g = (int)rl_st_find(&st, "g1")->shape[1];
        cfg.ln_eps = scalar_f(&st, "ln_x_eps");
        for (i = 0; i < cfg.N / 2; i++) inv_freq[i] = (float)(1.0 / pow(scalar_f(&st, "rope_theta"), 2.0 * (double)i / (double)cfg.N));
        cfg.inv_freq = inv_freq;
    }
    rl_arena_init(&params, 0);
    rl_arena_init(&grads, 0);
    rl_mixer_alloc(&m, &cfg, &params, &grads);
    {
        load_ctx lc;
        fd_ctx f;
        fd_visit v;
        rl_tensor x = load(&st, "s.x", 1), sin = load(&st, "s.state_in", 1), vf = load(&st, "s.v_first", 1);
        float *w, *w2;
        int64_t i;
        lc.st = &st;
        lc.ok = 1;
        rl_mixer_params(&m, load_param, &lc);
        f.T = x.shape[1];
        x.ndim = 2; x.shape[0] = x.shape[0] * f.T; x.shape[1] = cfg.C; x.shape[2] = 1;
        if (vf.data) { vf.ndim = 2; vf.shape[0] = x.shape[0]; vf.shape[1] = cfg.C; vf.shape[2] = 1; }
        w = (float *)malloc(sizeof(float) * (size_t)x.n);
        w2 = (float *)malloc(sizeof(float) * (size_t)sin.n);
        for (i = 0; i < x.n; i++) w[i] = rl_rng_uniform(&g) - 0.5f;
        for (i = 0; i < sin.n; i++) w2[i] = rl_rng_uniform(&g) - 0.5f;
        f.m = &m; f.x = &x; f.st = &sin; f.vf = vf.data ? &vf : NULL; f.w = w; f.w2 = w2;
        rl_mixer_params(&m, zero_grad, NULL);
        fd_loss(&f, 1);
        memset(&v, 0, sizeof v);
        v.f = &f;
        v.g = &g;
        rl_mixer_params(&m, fd_param, &v);
        fd_check_tensor(&v, "x", &x);
        fd_check_tensor(&v, "state_in", &sin);
        if (vf.data) fd_check_tensor(&v, "v_first", &vf);
        rlt_checks++;
        if (v.bad) rlt_failf(__FILE__, __LINE__, "%d of %d sampled derivatives differ; first: %s", v.bad, v.n, v.first);
        free(w); free(w2); free(x.data); free(x.grad); free(sin.data); free(sin.grad); free(vf.data); free(vf.grad);
    }
    rl_arena_free(&params);
    rl_arena_free(&grads);
    rl_st_close(&st);
    rlt_end();
}

int main(void) {
    pool = rl_pool_create(2);
    run_fixture("rwkv6");
    run_fixture("rwkv7a");
    run_fixture("rwkv7b");
    run_fixture("rwkv7a_l0");
    test_mixer_fd("rwkv6");
    test_mixer_fd("rwkv7a");
    test_mixer_fd("rwkv7b");
    test_mixer_fd("rwkv7a_l0");
    test_forms();
    test_state_in_place();
    test_forms_grad();
    test_transfer("tests/fixtures/tiny-qwen2");
    test_transfer("tests/fixtures/tiny-qwen2-bf16");
    test_fused_step("tests/fixtures/tiny-qwen2");
    rl_pool_free(pool);
    return rlt_exit();
}
