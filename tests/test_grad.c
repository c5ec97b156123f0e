/* Finite-difference gradient checks for every autodiff op.
   For each op: random inputs, loss = Σ out ⊙ w with a fixed random w, analytic
   gradients from rl_backward, numeric gradients from the 4-point central stencil
   (f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)) / 12h with the loss summed in double.
   Shapes include odd sizes (1, 3, 17, 65). The inputs are drawn from seed 42, or from SEED=n. */
#define RADLADS_INTERNAL /* rl__rwkv7_prep */
#include "../radlads.h"
#include "rl_test.h"

#define MAXIN 8
static rl_rng rng;
static rl_pool *pool;

typedef rl_tensor *(*build_fn)(rl_ctx *c, rl_tensor **in, const void *ud);

typedef struct {
    int n_in;
    int ndim[MAXIN];
    int64_t shape[MAXIN][3];
    float lo[MAXIN], hi[MAXIN];
    int no_grad_mask; /* bit i: input i is a constant (no gradient checked) */
} spec_t;

static double loss_of(rl_ctx *c, build_fn f, rl_tensor **in, const void *ud, const float *w, int64_t *n_out) {
    rl_tensor *y;
    double s = 0;
    int64_t i;
    rl_ctx_reset(c);
    rl_no_grad_push(c);
    y = f(c, in, ud);
    rl_no_grad_pop(c);
    if (!y) return NAN;
    if (n_out) *n_out = y->n;
    if (w)
        for (i = 0; i < y->n; i++) s += (double)rl_f32(y)[i] * w[i];
    return s;
}

static void gradcheck(const char *name, const spec_t *sp, build_fn f, const void *ud, double rtol) {
    rl_ctx c;
    rl_tensor in[MAXIN], *inp[MAXIN];
    float *w = NULL;
    int64_t n_out = 0, e;
    int i, bad = 0;
    rl_ctx_init(&c, pool);
    for (i = 0; i < sp->n_in; i++) {
        int64_t k;
        in[i] = rl_wrap(NULL, RL_F32, sp->ndim[i], sp->shape[i], !(sp->no_grad_mask >> i & 1));
        in[i].data = malloc(sizeof(float) * (size_t)in[i].n);
        in[i].grad = (float *)calloc((size_t)in[i].n, sizeof(float));
        for (k = 0; k < in[i].n; k++) rl_f32(&in[i])[k] = sp->lo[i] + (sp->hi[i] - sp->lo[i]) * rl_rng_uniform(&rng);
        inp[i] = &in[i];
    }
    /* forward once to learn the output size, then the projection w */
    loss_of(&c, f, inp, ud, NULL, &n_out);
    RLT_CHECK(c.err == RL_OK && n_out > 0, "%s: forward failed: %s", name, rl_last_error());
    if (c.err || n_out <= 0) goto done;
    w = (float *)malloc(sizeof(float) * (size_t)n_out);
    for (e = 0; e < n_out; e++) w[e] = rl_rng_uniform(&rng) * 2 - 1;
    /* analytic */
    {
        rl_tensor *y, *L;
        rl_ctx_reset(&c);
        y = f(&c, inp, ud);
        L = rl_dot_const(&c, y, w);
        RLT_CHECK(rl_backward(&c, L) == RL_OK, "%s: backward: %s", name, rl_last_error());
    }
    /* numeric, on at most 48 sampled elements of each input */
    for (i = 0; i < sp->n_in; i++) {
        int64_t n = in[i].n, k, cnt = n < 48 ? n : 48;
        if (sp->no_grad_mask >> i & 1) continue;
        for (k = 0; k < cnt; k++) {
            int64_t idx = n <= 48 ? k : (int64_t)(rl_rng_u64(&rng) % (uint64_t)n);
            float *x = rl_f32(&in[i]) + idx, x0 = *x;
            double h = 1e-2 * (fabs(x0) > 1 ? fabs(x0) : 1), fp1, fm1, fp2, fm2, num, ana = in[i].grad[idx];
            *x = (float)(x0 + h); fp1 = loss_of(&c, f, inp, ud, w, NULL);
            *x = (float)(x0 - h); fm1 = loss_of(&c, f, inp, ud, w, NULL);
            *x = (float)(x0 + 2 * h); fp2 = loss_of(&c, f, inp, ud, w, NULL);
            *x = (float)(x0 - 2 * h); fm2 = loss_of(&c, f, inp, ud, w, NULL);
            *x = x0;
            num = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h);
            if (!(fabs(num - ana) <= 2e-3 + rtol * fmax(fabs(num), fabs(ana)))) {
                if (!bad++) rlt_failf(__FILE__, __LINE__, "%s: d/d in%d[%lld]: analytic %.6g numeric %.6g", name, i, (long long)idx, ana, num);
            }
        }
    }
    rlt_checks++;
    if (bad) rlt_fails += 0; /* already counted by rlt_failf */
done:
    for (i = 0; i < sp->n_in; i++) {
        free(in[i].data);
        free(in[i].grad);
    }
    free(w);
    rl_ctx_free(&c);
}

/* ---- op builders ---- */
static rl_tensor *b_add(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_add(c, in[0], in[1]); }
static rl_tensor *b_sub(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_sub(c, in[0], in[1]); }
static rl_tensor *b_mul(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_mul(c, in[0], in[1]); }
static rl_tensor *b_add_row(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_add_row(c, in[0], in[1]); }
static rl_tensor *b_mul_row(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_mul_row(c, in[0], in[1]); }
static rl_tensor *b_scale(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_scale(c, in[0], -0.7f); }
static rl_tensor *b_linear(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_linear(c, in[0], in[1], in[2]); }
static rl_tensor *b_linear_nb(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_linear(c, in[0], in[1], NULL); }
static rl_tensor *b_matmul(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_matmul(c, in[0], in[1]); }
static rl_tensor *b_rmsnorm(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_rmsnorm(c, in[0], in[1], 1e-6f); }
static rl_tensor *b_rmsnorm_nw(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_rmsnorm(c, in[0], NULL, 1e-5f); }
static rl_tensor *b_groupnorm(rl_ctx *c, rl_tensor **in, const void *u) { return rl_groupnorm(c, in[0], in[1], in[2], *(const int *)u, 1e-3f); }
static rl_tensor *b_softmax(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_softmax(c, in[0]); }
static rl_tensor *b_logsoftmax(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_logsoftmax(c, in[0]); }
static rl_tensor *b_exp(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_exp(c, in[0]); }
static rl_tensor *b_sigmoid(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_sigmoid(c, in[0]); }
static rl_tensor *b_tanh(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_tanh(c, in[0]); }
static rl_tensor *b_softplus(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_softplus(c, in[0]); }
static rl_tensor *b_silu(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_silu(c, in[0]); }
static rl_tensor *b_swiglu(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_swiglu(c, in[0], in[1]); }
static rl_tensor *b_swiglu_x2(rl_ctx *c, rl_tensor **in, const void *u) { /* a new x (its gradient written) as gate and up */
    rl_tensor *x = rl_scale(c, in[0], 1.5f);
    (void)u;
    rl_tensor *y = rl_add(c, rl_swiglu(c, x, x), rl_swiglu(c, rl_scale(c, in[0], -0.5f), in[0]));
    return rl_add(c, y, rl_scale(c, in[0], 0.3f)); /* in[0]'s gradient has a term before the swiglus add theirs */
}
static rl_tensor *b_l2norm(rl_ctx *c, rl_tensor **in, const void *u) { return rl_l2norm(c, in[0], *(const int *)u, 1e-12f); }
/* x in [-1/4, 1/4]: eps = 0.3·√d is above every slice's norm, y = x/eps (the linear branch) */
static rl_tensor *b_l2norm_eps(rl_ctx *c, rl_tensor **in, const void *u) {
    return rl_l2norm(c, in[0], *(const int *)u, 0.3f * sqrtf((float)*(const int *)u));
}
static const float inv_freq8[4] = {1.0f, 0.31f, 0.1f, 0.031f};
static rl_tensor *b_rope(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_rope(c, in[0], 5, 8, inv_freq8, 3); }
static rl_tensor *b_attn(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *a = (const int *)u; /* T, H, KVH */
    return rl_attention(c, in[0], in[1], in[2], a[0], a[1], a[2]);
}
static const int32_t ids[7] = {3, 0, 4, 3, 1, 4, 2};
static rl_tensor *b_embedding(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_embedding(c, ids, 7, in[0]); }
static const int32_t targets[7] = {3, -1, 16, 0, 5, 5, 1};
static rl_tensor *b_ce(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_cross_entropy(c, in[0], targets); }
static rl_tensor *b_kl(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_kl_div(c, in[0], in[1]); }
static rl_tensor *b_kl_head(rl_ctx *c, rl_tensor **in, const void *u) { return rl_kl_head(c, in[0], in[1], in[2], in[3], *(const int64_t *)u); }

/* rl_kl_head = rl_kl_div of the two heads' logits (loss and the student side's gradients),
   whatever the chunk: one column, a chunk that does not divide the vocabulary, all of it */
static void kl_head_equals(void) {
    enum { R = 9, V = 23, CS = 6, CT = 4 };
    static float hs[R * CS], ws[V * CS], ht[R * CT], wt[V * CT], g0[2][V * CS], g1[2][V * CS];
    int64_t shs[2] = {R, CS}, sws[2] = {V, CS}, sht[2] = {R, CT}, swt[2] = {V, CT}, chunks[4] = {1, 5, V, 100};
    float l0 = 0, l1;
    int i, k, p;
    for (i = 0; i < R * CS; i++) hs[i] = 2 * rl_rng_uniform(&rng) - 1;
    for (i = 0; i < V * CS; i++) ws[i] = 2 * rl_rng_uniform(&rng) - 1;
    for (i = 0; i < R * CT; i++) ht[i] = 3 * rl_rng_uniform(&rng) - 1.5f;
    for (i = 0; i < V * CT; i++) wt[i] = 2 * rl_rng_uniform(&rng) - 1;
    for (k = -1; k < 4; k++) {
        rl_ctx c;
        rl_tensor a = rl_wrap(hs, RL_F32, 2, shs, 1), w = rl_wrap(ws, RL_F32, 2, sws, 1), b = rl_wrap(ht, RL_F32, 2, sht, 0),
                  u = rl_wrap(wt, RL_F32, 2, swt, 0), *L;
        float (*g)[V * CS] = k < 0 ? g0 : g1;
        memset(g, 0, sizeof g0);
        a.grad = g[0];
        w.grad = g[1];
        rl_ctx_init(&c, pool);
        L = k < 0 ? rl_kl_div(&c, rl_linear(&c, &a, &w, NULL), rl_linear(&c, &b, &u, NULL)) : rl_kl_head(&c, &a, &w, &b, &u, chunks[k]);
        RLT_CHECK(L && rl_backward(&c, L) == RL_OK, "kl_head: %s", rl_last_error());
        l1 = L ? rl_f32(L)[0] : NAN;
        rl_ctx_free(&c);
        if (k < 0) {
            l0 = l1;
            continue;
        }
        RLT_CLOSE(l1, l0, 0, 1e-6, "kl_head chunk %lld: loss vs kl_div of the logits", (long long)chunks[k]);
        for (p = 0; p < 2; p++)
            RLT_CHECK(rlt_worst(g1[p], g0[p], p ? V * CS : R * CS, 1e-6, 1e-5, NULL) <= 1, "kl_head chunk %lld: gradient of %s",
                      (long long)chunks[k], p ? "Ws" : "hs");
    }
}
/* rl_rope keeps its last sin/cos table in the context: calls for other positions, lengths or
   frequencies in the same step (while a node reads the kept table), in the next step (which
   rewrites it) and token by token (decoding) all equal the rotation computed here in double,
   forward and backward (the gradient of Σ G⊙y rotates G back). */
static void rope_memo(void) {
    enum { T = 5, B = 2, D = 8, C = 2 * D, R = T * B, H = D / 2 };
    static const float f2[H] = {0.5f, 0.2f, 0.07f, 0.01f};
    static const struct { int64_t T, pos0; const float *f; } arg[3] = {{T, 3, inv_freq8}, {T, 0, inv_freq8}, {T, 3, f2}};
    static float x[R * C], G[3][R * C], gx[R * C];
    int64_t shape[2] = {R, C};
    rl_ctx c;
    int step, k, i, bad = 0;
    for (i = 0; i < R * C; i++) x[i] = 2 * rl_rng_uniform(&rng) - 1;
    for (k = 0; k < 3; k++)
        for (i = 0; i < R * C; i++) G[k][i] = 2 * rl_rng_uniform(&rng) - 1;
    rl_ctx_init(&c, pool);
    for (step = 0; step < 2 + T; step++) { /* 0, 1: the three calls in two orders; then one token at a time */
        rl_tensor xt = rl_wrap(x, RL_F32, 2, shape, 1), *y[3] = {NULL, NULL, NULL}, *L = NULL;
        int decode = step >= 2, n = decode ? 1 : 3;
        double want_g[R * C];
        memset(gx, 0, sizeof gx);
        memset(want_g, 0, sizeof want_g);
        xt.grad = gx;
        if (decode) xt.shape[0] = 1, xt.n = C;
        rl_ctx_reset(&c);
        for (k = 0; k < n; k++) {
            int a = step == 1 ? 2 - k : k;
            int64_t TT = decode ? 1 : arg[a].T, p0 = decode ? step - 2 : arg[a].pos0, r, h, j;
            rl_tensor *l;
            y[a] = rl_rope(&c, &xt, TT, D, arg[a].f, p0);
            l = y[a] ? rl_dot_const(&c, y[a], G[a]) : NULL;
            L = k ? rl_add(&c, L, l) : l;
            for (r = 0; r < rl_rows(&xt) && y[a]; r++)
                for (h = 0; h < C / D; h++)
                    for (j = 0; j < H; j++) {
                        double ang = (double)(p0 + r % TT) * arg[a].f[j], cs = cos(ang), sn = sin(ang);
                        int64_t o = r * C + h * D + j;
                        double y0 = x[o] * cs - x[o + H] * sn, y1 = x[o + H] * cs + x[o] * sn;
                        bad += fabs(rl_f32(y[a])[o] - y0) > 1e-5 || fabs(rl_f32(y[a])[o + H] - y1) > 1e-5;
                        want_g[o] += G[a][o] * cs + G[a][o + H] * sn;
                        want_g[o + H] += G[a][o + H] * cs - G[a][o] * sn;
                    }
        }
        RLT_CHECK(L && rl_backward(&c, L) == RL_OK, "rope memo step %d: %s", step, rl_last_error());
        for (i = 0; i < rl_rows(&xt) * C; i++) bad += fabs(gx[i] - want_g[i]) > 1e-5;
    }
    RLT_CHECK(bad == 0, "rope with its kept table: %d values off the rotation in double", bad);
    rl_ctx_free(&c);
}
static rl_tensor *b_l2d(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_l2_dist(c, in[0], in[1]); }
static rl_tensor *b_sum(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_sum(c, in[0]); }
/* rl_to the host: a copy whose gradient flows back (the device seam's move, with no device) */
static rl_tensor *b_to(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_mul(c, rl_to(c, in[0], NULL), in[0]); }
static rl_tensor *b_add_scalar(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_add_scalar(c, in[0], 0.3f); }
static rl_tensor *b_slice(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_slice_cols(c, in[0], 2, 7); }
static rl_tensor *b_repeat_kv(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_repeat_kv(c, in[0], 6, 2); }
static rl_tensor *b_shift(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_token_shift(c, in[0], 4, in[1]); }
static rl_tensor *b_shift0(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_token_shift(c, in[0], 3, NULL); }
static rl_tensor *b_logdecay(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_rwkv6_logdecay(c, in[0]); }
static rl_tensor *b_seq_last(rl_ctx *c, rl_tensor **in, const void *u) { (void)u; return rl_seq_last(c, in[0], 5); }
static float wstate[2 * 3 * 4 * 4];
/* scans: loss includes the final state, so gradients from a next chunk are covered */
static rl_tensor *b_wkv6(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *a = (const int *)u; /* T, H, KVH */
    rl_tensor *S = NULL, *y = rl_wkv6(c, in[0], in[1], in[2], rl_rwkv6_logdecay(c, in[3]), a[0], a[1], a[2], in[4], &S);
    return y ? rl_add(c, rl_sum(c, y), rl_dot_const(c, S, wstate)) : NULL;
}
static rl_tensor *b_wkv7(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *a = (const int *)u; /* T, H */
    rl_tensor *S = NULL, *w = rl_exp(c, rl_scale(c, rl_sigmoid(c, in[1]), -0.6065f));
    rl_tensor *y = rl_wkv7(c, in[0], w, in[2], in[3], rl_l2norm(c, in[4], 4, 1e-12f), in[5], a[0], a[1], in[6], &S);
    return y ? rl_add(c, rl_sum(c, y), rl_dot_const(c, S, wstate)) : NULL;
}
/* RAD-RWKV7's scan inputs (in: k, zw, za [R, C], w0, a0, k_k, k_a [C]; *u: the head size): the
   fused op, and the same formulas in the library's generic ops (as the mixer computed them
   before the fused op), with the four planes in one loss: Σ_q planeq ⊙ Wq */
static rl_tensor *b_prep7(rl_ctx *c, rl_tensor **in, const void *u) { /* k, zw, za computed: gradients the op writes */
    return rl__rwkv7_prep(c, rl_scale(c, in[0], 1.5f), rl_scale(c, in[1], 1.5f), rl_scale(c, in[2], 1.5f), in[3], in[4], in[5], in[6],
                          *(const int *)u);
}
static rl_tensor *b_prep7_alias(rl_ctx *c, rl_tensor **in, const void *u) { /* za is k: one new gradient, two contributions */
    rl_tensor *k = rl_scale(c, in[0], 1.5f);
    return rl__rwkv7_prep(c, k, in[1], k, in[3], in[4], in[5], in[6], *(const int *)u);
}
static rl_tensor *b_prep7_bal(rl_ctx *c, rl_tensor **in, const void *u) { /* (gradients added to the inputs') */
    return rl__rwkv7_prep(c, in[0], in[1], in[2], in[3], in[4], NULL, NULL, *(const int *)u);
}
/* rl__lerp, a + (b − a) ⊙ f(z + c) (in: a, b, z [R, C], c [C]): σ (RAD-RWKV7's value residual)
   with a computed (a gradient the op writes), with b = a, the identity without z (RAD-RWKV6's
   token shift), and the ops the mixers ran before */
static rl_tensor *b_lerp(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *f = (const int *)u; /* sig, with z */
    return rl__lerp(c, rl_scale(c, in[0], 1.5f), in[1], f[1] ? in[2] : NULL, in[3], f[0]);
}
static rl_tensor *b_lerp_alias(rl_ctx *c, rl_tensor **in, const void *u) {
    rl_tensor *a = rl_scale(c, in[0], 1.5f);
    (void)u;
    return rl__lerp(c, a, a, in[2], in[3], 1);
}
static rl_tensor *b_lerp_fused(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *f = (const int *)u;
    return rl__lerp(c, in[0], in[1], f[1] ? in[2] : NULL, in[3], f[0]);
}
static rl_tensor *b_lerp_ops(rl_ctx *c, rl_tensor **in, const void *u) {
    const int *f = (const int *)u;
    rl_tensor *d = rl_sub(c, in[1], in[0]);
    if (!f[1]) return rl_add(c, in[0], rl_mul_row(c, d, in[3]));
    return rl_add(c, in[0], rl_mul(c, d, f[0] ? rl_sigmoid(c, rl_add_row(c, in[2], in[3])) : rl_add_row(c, in[2], in[3])));
}
static void prep7_ops(rl_ctx *c, rl_tensor **in, int N, int balanced, rl_tensor **plane) {
    rl_tensor *k = in[0], *w = rl_exp(c, rl_scale(c, rl_sigmoid(c, rl_add_row(c, in[1], in[3])), -0.60653065971263342f));
    rl_tensor *a = rl_sigmoid(c, rl_add_row(c, in[2], in[4])), *kap;
    plane[0] = w;
    if (balanced) {
        kap = rl_l2norm(c, k, N, 1e-12f);
        plane[1] = rl_mul(c, k, rl_add_scalar(c, rl_sub(c, a, w), 1.0f));
    } else {
        kap = rl_l2norm(c, rl_mul_row(c, k, in[5]), N, 1e-12f);
        plane[1] = rl_mul(c, k, rl_add_scalar(c, rl_mul_row(c, rl_add_scalar(c, a, -1.0f), in[6]), 1.0f));
    }
    plane[2] = rl_scale(c, kap, -1.0f);
    plane[3] = rl_mul(c, kap, a);
}

/* The fused op against prep7_ops: outputs and every input's gradient, with rows in several of
   the backward's blocks of 32 and on the pool, heads with vector tails (6) and whole vectors
   (64), one head of k near 0 (its norm below eps: the linear branch of the normalisation). */
static void prep7_twin(int64_t R, int N, int H, int balanced) {
    int64_t C = (int64_t)N * H, RC = R * C, sh[2], q, i;
    float *buf[7], *grad[2][7], *W = (float *)malloc(sizeof(float) * 4 * (size_t)RC), *y[2];
    double ymax = 0, yerr = 0;
    int side, nin = balanced ? 5 : 7;
    for (i = 0; i < 4 * RC; i++) W[i] = 2.0f * rl_rng_uniform(&rng) - 1.0f;
    for (q = 0; q < nin; q++) {
        int64_t n = q < 3 ? RC : C;
        buf[q] = (float *)malloc(sizeof(float) * (size_t)n);
        for (side = 0; side < 2; side++) grad[side][q] = (float *)calloc((size_t)n, sizeof(float));
        for (i = 0; i < n; i++) buf[q][i] = q >= 5 ? 0.5f + rl_rng_uniform(&rng) : 4.0f * rl_rng_uniform(&rng) - 2.0f;
    }
    for (i = 0; R > 2 && i < N; i++) buf[0][2 * C + N + i] *= 1e-14f; /* row 2, head 1: norm below eps */
    for (side = 0; side < 2; side++) {
        rl_ctx c;
        rl_tensor t[7], *tp[7], *pl[4], *L = NULL;
        rl_ctx_init(&c, pool);
        for (q = 0; q < nin; q++) {
            sh[0] = q < 3 ? R : C;
            sh[1] = C;
            t[q] = rl_wrap(buf[q], RL_F32, q < 3 ? 2 : 1, q < 3 ? sh : sh + 1, 1);
            t[q].grad = grad[side][q];
            tp[q] = &t[q];
        }
        y[side] = (float *)malloc(sizeof(float) * 4 * (size_t)RC);
        if (side == 0) {
            rl_tensor *P = rl__rwkv7_prep(&c, tp[0], tp[1], tp[2], tp[3], tp[4], balanced ? NULL : tp[5], balanced ? NULL : tp[6], N);
            if (P) memcpy(y[0], P->data, sizeof(float) * 4 * (size_t)RC);
            L = rl_dot_const(&c, P, W);
        } else {
            prep7_ops(&c, tp, N, balanced, pl);
            for (q = 0; q < 4; q++) {
                rl_tensor *d = rl_dot_const(&c, pl[q], W + q * RC);
                if (pl[q]) memcpy(y[1] + q * RC, pl[q]->data, sizeof(float) * (size_t)RC);
                L = q ? rl_add(&c, L, d) : d;
            }
        }
        RLT_CHECK(L && rl_backward(&c, L) == RL_OK, "RAD-RWKV7 scan inputs (%s): %s", side ? "ops" : "fused", rl_last_error());
        rl_ctx_free(&c);
    }
    for (i = 0; i < 4 * RC; i++) {
        ymax = fmax(ymax, fabs(y[1][i]));
        yerr = fmax(yerr, fabs((double)y[0][i] - y[1][i]));
    }
    RLT_CHECK(yerr <= 2e-6 * ymax, "RAD-RWKV7 scan inputs R %lld heads %d x %d%s: outputs differ from the ops' by %.3g (largest %.3g)",
              (long long)R, H, N, balanced ? " balanced" : "", yerr, ymax);
    for (q = 0; q < nin; q++) {
        int64_t n = q < 3 ? RC : C;
        double gmax = 0, gerr = 0;
        for (i = 0; i < n; i++) {
            gmax = fmax(gmax, fabs(grad[1][q][i]));
            gerr = fmax(gerr, fabs((double)grad[0][q][i] - grad[1][q][i]));
        }
        RLT_CHECK(gmax > 0 && gerr <= 1e-5 * gmax, "RAD-RWKV7 scan inputs R %lld heads %d x %d%s: gradient of input %lld differs from the ops' by %.3g (largest %.3g)",
                  (long long)R, H, N, balanced ? " balanced" : "", (long long)q, gerr, gmax);
    }
    for (q = 0; q < nin; q++) {
        free(buf[q]);
        free(grad[0][q]);
        free(grad[1][q]);
    }
    free(y[0]);
    free(y[1]);
    free(W);
}

/* Two builders of the same function of inputs shaped by sp (gradients added to the inputs'):
   outputs within 2e-6 and every input's gradient within 1e-5 of their largest values. */
static void twin_check(const char *name, const spec_t *sp, build_fn fa, build_fn fb, const void *ud) {
    rl_tensor in[MAXIN], *inp[MAXIN];
    float *grad[2][MAXIN], *y[2] = {NULL, NULL}, *W = NULL;
    int64_t ny[2] = {0, 0}, i;
    int q, side;
    for (q = 0; q < sp->n_in; q++) {
        in[q] = rl_wrap(NULL, RL_F32, sp->ndim[q], sp->shape[q], 1);
        in[q].data = malloc(sizeof(float) * (size_t)in[q].n);
        for (i = 0; i < in[q].n; i++) rl_f32(&in[q])[i] = sp->lo[q] + (sp->hi[q] - sp->lo[q]) * rl_rng_uniform(&rng);
        for (side = 0; side < 2; side++) grad[side][q] = (float *)calloc((size_t)in[q].n, sizeof(float));
        inp[q] = &in[q];
    }
    for (side = 0; side < 2; side++) {
        rl_ctx c;
        rl_tensor *out;
        rl_ctx_init(&c, pool);
        for (q = 0; q < sp->n_in; q++) in[q].grad = grad[side][q];
        out = (side ? fb : fa)(&c, inp, ud);
        if (out && !W) {
            W = (float *)malloc(sizeof(float) * (size_t)out->n);
            for (i = 0; i < out->n; i++) W[i] = 2.0f * rl_rng_uniform(&rng) - 1.0f;
        }
        RLT_CHECK(out && (!ny[0] || out->n == ny[0]) && rl_backward(&c, rl_dot_const(&c, out, W)) == RL_OK, "%s: %s", name, rl_last_error());
        if (out && (!ny[0] || out->n == ny[0])) {
            ny[side] = out->n;
            y[side] = (float *)malloc(sizeof(float) * (size_t)out->n);
            memcpy(y[side], out->data, sizeof(float) * (size_t)out->n);
        }
        rl_ctx_free(&c);
    }
    if (y[0] && y[1]) {
        double m = 0, e = 0;
        for (i = 0; i < ny[0]; i++) m = fmax(m, fabs(y[1][i])), e = fmax(e, fabs((double)y[0][i] - y[1][i]));
        RLT_CHECK(e <= 2e-6 * m, "%s: outputs differ by %.3g (largest %.3g)", name, e, m);
        for (q = 0; q < sp->n_in; q++) {
            m = 0, e = 0;
            for (i = 0; i < in[q].n; i++) m = fmax(m, fabs(grad[1][q][i])), e = fmax(e, fabs((double)grad[0][q][i] - grad[1][q][i]));
            RLT_CHECK(e <= 1e-5 * m, "%s: gradient of input %d differs by %.3g (largest %.3g)", name, q, e, m); /* (0 = 0: an input unused) */
        }
    }
    for (q = 0; q < sp->n_in; q++) free(in[q].data), free(grad[0][q]), free(grad[1][q]);
    free(y[0]);
    free(y[1]);
    free(W);
}

/* a small network reusing its input twice: grads must add up across uses */
static rl_tensor *b_chain(rl_ctx *c, rl_tensor **in, const void *u) {
    rl_tensor *h = rl_rmsnorm(c, in[0], in[3], 1e-6f);
    rl_tensor *g = rl_linear(c, h, in[1], NULL), *v = rl_linear(c, h, in[2], NULL);
    rl_tensor *m = rl_swiglu(c, g, v);
    (void)u;
    return rl_add(c, rl_matmul(c, m, in[1]), in[0]); /* reuses W1 as a K×N matrix: shapes chosen square */
}

/* The elementwise backward passes at a size that splits them into pool parts and sigmoid
   blocks (RL__EW_BLK): the gradient of Σ G⊙f(x) equals the closed-form derivative in double. */
static void elementwise_large(void) {
    enum { N = 3 * 16384 + 777 };
    static float x[N], b[N], G[N], gx[N], gb[N];
    int64_t shape[1] = {N}, i;
    int f;
    for (i = 0; i < N; i++) {
        x[i] = 8.0f * rl_rng_uniform(&rng) - 4.0f;
        b[i] = 4.0f * rl_rng_uniform(&rng) - 2.0f;
        G[i] = 2.0f * rl_rng_uniform(&rng) - 1.0f;
    }
    for (f = 0; f < 3; f++) { /* silu, softplus, swiglu(x, b) */
        static const char *name[] = {"silu", "softplus", "swiglu"};
        rl_tensor xt = rl_wrap(x, RL_F32, 1, shape, 1), bt = rl_wrap(b, RL_F32, 1, shape, 1), *y;
        rl_ctx c;
        int64_t bad = 0;
        memset(gx, 0, sizeof gx);
        memset(gb, 0, sizeof gb);
        xt.grad = gx;
        bt.grad = gb;
        rl_ctx_init(&c, pool);
        y = f == 0 ? rl_silu(&c, &xt) : f == 1 ? rl_softplus(&c, &xt) : rl_swiglu(&c, &xt, &bt);
        RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, G)) == RL_OK, "%s: %s", name[f], rl_last_error());
        for (i = 0; i < N; i++) {
            double s = 1.0 / (1.0 + exp(-(double)x[i])), d = f == 1 ? s : s * (1.0 + x[i] * (1.0 - s));
            double want = G[i] * d * (f == 2 ? b[i] : 1.0), want_b = G[i] * x[i] * s;
            bad += fabs(gx[i] - want) > 1e-6 + 1e-5 * fabs(want);
            bad += f == 2 && fabs(gb[i] - want_b) > 1e-6 + 1e-5 * fabs(want_b);
        }
        RLT_CHECK(bad == 0, "%s backward over %d values: %lld gradients off the closed form", name[f], (int)N, (long long)bad);
        rl_ctx_free(&c);
    }
}

static spec_t S1(int64_t r, int64_t cols, float lo, float hi) {
    spec_t s;
    memset(&s, 0, sizeof s);
    s.n_in = 1; s.ndim[0] = 2; s.shape[0][0] = r; s.shape[0][1] = cols; s.lo[0] = lo; s.hi[0] = hi;
    return s;
}
static void add_in(spec_t *s, int64_t r, int64_t cols, float lo, float hi) {
    int i = s->n_in++;
    s->ndim[i] = r ? 2 : 1;
    if (r) { s->shape[i][0] = r; s->shape[i][1] = cols; } else s->shape[i][0] = cols;
    s->lo[i] = lo; s->hi[i] = hi;
}

/* RMSNorm's, l2norm's and GroupNorm's input gradients against their formulas in double, on rows
   wider than the blocks the backward works in (finite differences at 2e-3 cannot see an error
   in the mean term of a wide row): loss Σ y⊙g, random x, w, g; max |got − ref| / max |ref| */
static void norm_twins(void) {
    static const int64_t Cs[] = {300, 1000};
    rl_ctx c;
    int ci, kind;
    for (kind = 0; kind < 4; kind++) /* rmsnorm; l2norm over slices of 100; l2norm with eps above every norm; groupnorm, groups of 100 */
        for (ci = 0; ci < 2; ci++) {
            int64_t R = 3, C = Cs[ci], sh[2], wsh[1], i, j, d = kind ? 100 : C;
            float *x = (float *)malloc(sizeof(float) * (size_t)(R * C)), *g = (float *)malloc(sizeof(float) * (size_t)(R * C));
            float *w = (float *)malloc(sizeof(float) * (size_t)C), eps = kind == 2 ? 100.0f : 1e-6f, lo = kind == 2 ? 0.0f : -2.0f;
            double emax = 0, rmax = 1e-30;
            rl_tensor tx, tw, *y;
            for (i = 0; i < R * C; i++) x[i] = lo + (2.0f - lo) * rl_rng_uniform(&rng), g[i] = 2 * rl_rng_uniform(&rng) - 1;
            for (j = 0; j < C; j++) w[j] = 0.5f + rl_rng_uniform(&rng);
            sh[0] = R, sh[1] = C, wsh[0] = C;
            tx = rl_wrap(x, RL_F32, 2, sh, 1);
            tx.grad = (float *)calloc((size_t)(R * C), sizeof(float));
            tw = rl_wrap(w, RL_F32, 1, wsh, 0);
            rl_ctx_init(&c, pool);
            y = kind == 3 ? rl_groupnorm(&c, &tx, &tw, NULL, (int)(C / d), 1e-5f)
                : kind ? rl_l2norm(&c, &tx, (int)d, eps) : rl_rmsnorm(&c, &tx, &tw, 1e-6f);
            RLT_CHECK(y && rl_backward(&c, rl_dot_const(&c, y, g)) == RL_OK, "norm twin: %s", rl_last_error());
            for (i = 0; i < R * C; i += d) { /* one slice (l2norm), group (groupnorm) or row (rmsnorm) of d values */
                double ss = 0, dot = 0, r, mu = 0, gm = 0;
                const float *wi = w + i % C;
                if (kind == 3) { /* x̂ = (x − μ)·r, gx = r·(g⊙w − mean(g⊙w) − x̂·mean(g⊙w⊙x̂)) */
                    for (j = 0; j < d; j++) mu += x[i + j] / (double)d;
                    for (j = 0; j < d; j++) ss += (x[i + j] - mu) * (x[i + j] - mu) / (double)d;
                    r = 1.0 / sqrt(ss + 1e-5);
                    for (j = 0; j < d; j++) gm += (double)g[i + j] * wi[j] / (double)d, dot += (double)g[i + j] * wi[j] * (x[i + j] - mu) * r / (double)d;
                    for (j = 0; j < d; j++) {
                        double ref = r * (g[i + j] * wi[j] - gm - (x[i + j] - mu) * r * dot);
                        emax = fmax(emax, fabs(tx.grad[i + j] - ref));
                        rmax = fmax(rmax, fabs(ref));
                    }
                    continue;
                }
                for (j = 0; j < d; j++) ss += (double)x[i + j] * x[i + j];
                r = kind ? 1.0 / fmax(sqrt(ss), eps) : 1.0 / sqrt(ss / (double)d + 1e-6);
                for (j = 0; j < d; j++) dot += (double)g[i + j] * (kind ? x[i + j] * r : w[j] * x[i + j]);
                for (j = 0; j < d; j++) {
                    double ref = kind ? r * (g[i + j] - (sqrt(ss) > eps ? x[i + j] * r * dot : 0.0))
                                      : r * (g[i + j] * w[j] - x[i + j] * r * r * dot / (double)d);
                    emax = fmax(emax, fabs(tx.grad[i + j] - ref));
                    rmax = fmax(rmax, fabs(ref));
                }
            }
            RLT_CHECK(emax / rmax <= 1e-5, "%s C=%lld: input gradient off its double twin by %.2e (relative)",
                      kind == 0 ? "rmsnorm" : kind == 1 ? "l2norm" : kind == 2 ? "l2norm below eps" : "groupnorm", (long long)C, emax / rmax);
            rl_ctx_free(&c);
            free(x); free(g); free(w); free(tx.grad);
        }
}

int main(void) {
    static const int64_t dims[][2] = {{1, 1}, {3, 17}, {2, 65}};
    int d;
    pool = rl_pool_create(2);
    rl_rng_seed(&rng, getenv("SEED") ? (uint64_t)atoll(getenv("SEED")) : 42);

    rlt_begin("grad elementwise (add sub mul scale exp sigmoid tanh softplus silu swiglu)");
    for (d = 0; d < 3; d++) {
        int64_t r = dims[d][0], n = dims[d][1];
        spec_t s = S1(r, n, -2, 2);
        add_in(&s, r, n, -2, 2);
        gradcheck("add", &s, b_add, NULL, 1e-3);
        gradcheck("sub", &s, b_sub, NULL, 1e-3);
        gradcheck("mul", &s, b_mul, NULL, 1e-3);
        gradcheck("swiglu", &s, b_swiglu, NULL, 1e-3);
        s = S1(r, n, -3, 3);
        gradcheck("swiglu with one tensor as gate and up, new and existing gradients", &s, b_swiglu_x2, NULL, 1e-3);
        gradcheck("scale", &s, b_scale, NULL, 1e-3);
        gradcheck("exp", &s, b_exp, NULL, 1e-3);
        gradcheck("sigmoid", &s, b_sigmoid, NULL, 1e-3);
        gradcheck("tanh", &s, b_tanh, NULL, 1e-3);
        gradcheck("softplus", &s, b_softplus, NULL, 1e-3);
        gradcheck("silu", &s, b_silu, NULL, 1e-3);
    }
    elementwise_large();
    rlt_end();

    rlt_begin("grad row broadcasts (add_row mul_row), sum and rl_to");
    for (d = 0; d < 3; d++) {
        spec_t s = S1(dims[d][0], dims[d][1], -2, 2);
        gradcheck("sum", &s, b_sum, NULL, 1e-3);
        gradcheck("rl_to", &s, b_to, NULL, 1e-3);
        add_in(&s, 0, dims[d][1], -2, 2);
        gradcheck("add_row", &s, b_add_row, NULL, 1e-3);
        gradcheck("mul_row", &s, b_mul_row, NULL, 1e-3);
    }
    rlt_end();

    rlt_begin("grad linear and matmul");
    {
        static const int64_t mk[][3] = {{1, 1, 1}, {3, 17, 5}, {5, 65, 33}, {2, 3, 70}};
        for (d = 0; d < 4; d++) {
            spec_t s = S1(mk[d][0], mk[d][1], -1, 1);
            add_in(&s, mk[d][2], mk[d][1], -1, 1);
            gradcheck("linear no bias", &s, b_linear_nb, NULL, 1e-3);
            add_in(&s, 0, mk[d][2], -1, 1);
            gradcheck("linear", &s, b_linear, NULL, 1e-3);
            s = S1(mk[d][0], mk[d][1], -1, 1);
            add_in(&s, mk[d][1], mk[d][2], -1, 1);
            gradcheck("matmul", &s, b_matmul, NULL, 1e-3);
        }
    }
    rlt_end();

    rlt_begin("grad norms (rmsnorm groupnorm l2norm)");
    { /* rows wider than the backward's blocks of 256 columns */
        spec_t s = S1(2, 300, -2, 2);
        add_in(&s, 0, 300, 0.5f, 1.5f);
        gradcheck("rmsnorm 300 columns", &s, b_rmsnorm, NULL, 2e-3);
    }
    for (d = 0; d < 3; d++) {
        spec_t s = S1(dims[d][0], dims[d][1], -2, 2);
        gradcheck("rmsnorm no weight", &s, b_rmsnorm_nw, NULL, 2e-3);
        add_in(&s, 0, dims[d][1], 0.5f, 1.5f);
        gradcheck("rmsnorm", &s, b_rmsnorm, NULL, 2e-3);
    }
    {
        static const int gn[][2] = {{1, 4}, {3, 12}, {4, 68}}; /* groups, channels */
        for (d = 0; d < 3; d++) {
            spec_t s = S1(3, gn[d][1], -2, 2);
            add_in(&s, 0, gn[d][1], 0.5f, 1.5f);
            add_in(&s, 0, gn[d][1], -1, 1);
            gradcheck("groupnorm", &s, b_groupnorm, &gn[d][0], 3e-3);
        }
        for (d = 0; d < 3; d++) {
            static const int hd[] = {1, 3, 17};
            /* a head of one value: y = sign(x), whose kink at 0 a finite difference must not cross */
            spec_t s = hd[d] == 1 ? S1(2, 3, 0.25f, 2) : S1(2, 3 * hd[d], -2, 2);
            spec_t s2 = S1(2, 3 * hd[d], -0.25f, 0.25f);
            gradcheck("l2norm", &s, b_l2norm, &hd[d], 2e-3);
            gradcheck("l2norm below eps", &s2, b_l2norm_eps, &hd[d], 2e-3);
        }
    }
    norm_twins();
    rlt_end();

    rlt_begin("grad softmax, log-softmax");
    for (d = 0; d < 3; d++) {
        spec_t s = S1(dims[d][0], dims[d][1], -3, 3);
        gradcheck("softmax", &s, b_softmax, NULL, 2e-3);
        gradcheck("logsoftmax", &s, b_logsoftmax, NULL, 2e-3);
    }
    rlt_end();

    rlt_begin("grad rope and attention (GQA)");
    {
        spec_t s = S1(10, 3 * 8, -2, 2); /* B=2, T=5, 3 heads of 8 */
        static const int a1[3] = {5, 4, 2}, a2[3] = {7, 3, 1}, a3[3] = {1, 2, 2}, a4[3] = {70, 2, 1}, a5[3] = {20, 2, 2};
        gradcheck("rope", &s, b_rope, NULL, 1e-3);
        rope_memo();
        s = S1(10, 4 * 3, -1.5f, 1.5f); add_in(&s, 10, 2 * 3, -1.5f, 1.5f); add_in(&s, 10, 2 * 3, -1.5f, 1.5f);
        gradcheck("attention B=2 T=5 H=4 KVH=2 d=3", &s, b_attn, a1, 3e-3);
        s = S1(7, 3 * 4, -1.5f, 1.5f); add_in(&s, 7, 4, -1.5f, 1.5f); add_in(&s, 7, 4, -1.5f, 1.5f);
        gradcheck("attention B=1 T=7 H=3 KVH=1 d=4", &s, b_attn, a2, 3e-3);
        s = S1(3, 2 * 5, -1.5f, 1.5f); add_in(&s, 3, 2 * 5, -1.5f, 1.5f); add_in(&s, 3, 2 * 5, -1.5f, 1.5f);
        gradcheck("attention B=3 T=1 MHA", &s, b_attn, a3, 3e-3);
        s = S1(70, 2 * 3, -1.5f, 1.5f); add_in(&s, 70, 3, -1.5f, 1.5f); add_in(&s, 70, 3, -1.5f, 1.5f);
        gradcheck("attention B=1 T=70 H=2 KVH=1 d=3 (a block of 64 query rows, then 6 rows)", &s, b_attn, a4, 3e-3);
        s = S1(40, 2 * 4, -1.5f, 1.5f); add_in(&s, 40, 2 * 4, -1.5f, 1.5f); add_in(&s, 40, 2 * 4, -1.5f, 1.5f);
        gradcheck("attention B=2 T=20 MHA d=4 (one block of 20 rows)", &s, b_attn, a5, 3e-3);
    }
    rlt_end();

    rlt_begin("grad embedding and losses (cross_entropy kl_div kl_head l2_dist)");
    {
        spec_t s = S1(5, 3, -1, 1);
        gradcheck("embedding", &s, b_embedding, NULL, 1e-3);
        s = S1(7, 17, -3, 3);
        gradcheck("cross_entropy", &s, b_ce, NULL, 2e-3);
        add_in(&s, 7, 17, -3, 3);
        gradcheck("kl_div (student and teacher)", &s, b_kl, NULL, 2e-3);
        {
            static const int64_t ck = 5; /* 17 columns: chunks of 5, 5, 5, 2 */
            s = S1(7, 5, -2, 2); add_in(&s, 17, 5, -1, 1); add_in(&s, 7, 4, -2, 2); add_in(&s, 17, 4, -1, 1);
            s.no_grad_mask = 12; /* the teacher side */
            gradcheck("kl_head (student hidden states and head; vocabulary in chunks)", &s, b_kl_head, &ck, 2e-3);
            kl_head_equals();
        }
        s = S1(3, 17, -1, 1); add_in(&s, 3, 17, -1, 1);
        gradcheck("l2_dist", &s, b_l2d, NULL, 2e-3);
        s = S1(1, 1, -1, 1); add_in(&s, 1, 1, 2, 3);
        gradcheck("l2_dist 1x1", &s, b_l2d, NULL, 2e-3);
    }
    { /* l2_dist over rows several tasks of the pool take: the loss and both gradients against the formulas in double */
        const int64_t R = 90, C = 300, sh[2] = {R, C};
        float *m = (float *)malloc(sizeof(float) * (size_t)(4 * R * C));
        rl_tensor ty = rl_wrap(m, RL_F32, 2, sh, 1), tt = rl_wrap(m + R * C, RL_F32, 2, sh, 1), *L;
        rl_ctx c;
        double total = 0, ew = 0, nr;
        int64_t r, j;
        for (j = 0; j < 2 * R * C; j++) m[j] = rl_rng_uniform(&rng) - 0.5f;
        memset(m + 2 * R * C, 0, sizeof(float) * (size_t)(2 * R * C));
        ty.grad = m + 2 * R * C;
        tt.grad = m + 3 * R * C;
        rl_ctx_init(&c, pool);
        L = rl_l2_dist(&c, &ty, &tt);
        RLT_CHECK(L && rl_backward(&c, L) == RL_OK, "l2_dist %lldx%lld: %s", (long long)R, (long long)C, rl_last_error());
        for (r = 0; L && r < R; r++) {
            for (j = 0, nr = 0; j < C; j++) nr += ((double)m[r * C + j] - m[(R + r) * C + j]) * ((double)m[r * C + j] - m[(R + r) * C + j]);
            total += sqrt(nr);
            for (j = 0; j < C; j++) {
                double u = ((double)m[r * C + j] - m[(R + r) * C + j]) / sqrt(nr), sc = 1 / (R * sqrt((double)C)); /* g = u·sc, |u| <= 1 */
                ew = fmax(ew, fmax(fabs(ty.grad[r * C + j] - u * sc), fabs(tt.grad[r * C + j] + u * sc)) / sc);
            }
        }
        if (L) {
            RLT_CLOSE(rl_f32(L)[0], total / (R * sqrt((double)C)), 0, 1e-6, "l2_dist %lldx%lld loss", (long long)R, (long long)C);
            RLT_CHECK(ew < 1e-5, "l2_dist %lldx%lld: gradients off by %g of their scale", (long long)R, (long long)C, ew);
        }
        rl_ctx_free(&c);
        free(m);
    }
    rlt_end();

    rlt_begin("grad shape ops (add_scalar slice_cols repeat_kv token_shift seq_last) and RWKV6 log-decay");
    {
        spec_t s = S1(3, 12, -2, 2);
        gradcheck("add_scalar", &s, b_add_scalar, NULL, 1e-3);
        gradcheck("slice_cols", &s, b_slice, NULL, 1e-3);
        s = S1(5, 2 * 3, -2, 2);
        gradcheck("repeat_kv 2->6 heads", &s, b_repeat_kv, NULL, 1e-3);
        s = S1(8, 5, -2, 2); add_in(&s, 2, 5, -2, 2);
        gradcheck("token_shift with shift_in", &s, b_shift, NULL, 1e-3);
        s = S1(6, 5, -2, 2);
        gradcheck("token_shift zeros", &s, b_shift0, NULL, 1e-3);
        s = S1(10, 3, -2, 2);
        gradcheck("seq_last", &s, b_seq_last, NULL, 1e-3);
        s = S1(4, 9, -3.0f, 1.2f); /* -exp(d) crosses -5 at d = 1.609; stay clear of the kink */
        gradcheck("rwkv6_logdecay", &s, b_logdecay, NULL, 2e-3);
        s = S1(4, 9, 1.8f, 3.0f); /* all clamped at -5: no gradient */
        gradcheck("rwkv6_logdecay clamped", &s, b_logdecay, NULL, 2e-3);
    }
    { /* repeat_kv over more rows than one task of the pool's copies takes: equal to the loops */
        const int64_t R = 700, KVH = 3, G = 3, hd = 64, Ck = KVH * hd, sh[2] = {R, Ck};
        float *x = (float *)malloc(sizeof(float) * (size_t)(2 * R * Ck)), *gx = x + R * Ck;
        rl_tensor tx = rl_wrap(x, RL_F32, 2, sh, 1), *y;
        rl_ctx c;
        int64_t r, h, j, bad = 0;
        for (j = 0; j < R * Ck; j++) x[j] = rl_rng_uniform(&rng) - 0.5f, gx[j] = 0;
        tx.grad = gx;
        rl_ctx_init(&c, pool);
        y = rl_repeat_kv(&c, &tx, (int)(KVH * G), (int)KVH);
        RLT_CHECK(y != NULL, "repeat_kv %lld rows: %s", (long long)R, rl_last_error());
        if (y) {
            for (r = 0; r < R; r++)
                for (h = 0; h < KVH * G; h++)
                    for (j = 0; j < hd; j++) bad += rl_f32(y)[(r * KVH * G + h) * hd + j] != x[r * Ck + h / G * hd + j];
            RLT_CHECK(!bad, "repeat_kv %lld rows: %lld values differ from the expansion", (long long)R, (long long)bad);
            rl_backward(&c, rl_sum(&c, y)); /* every kv value feeds G query heads: gradient G */
            for (j = 0, bad = 0; j < R * Ck; j++) bad += gx[j] != (float)G;
            RLT_CHECK(!bad, "repeat_kv %lld rows backward: %lld gradients are not %lld", (long long)R, (long long)bad, (long long)G);
        }
        rl_ctx_free(&c);
        free(x);
    }
    rlt_end();

    rlt_begin("grad scans (wkv6 GQA, wkv7) incl. initial and final state");
    {
        static const int a6[3] = {19, 3, 1}, a6b[3] = {5, 2, 2}, a7[2] = {19, 3}, a7b[2] = {1, 3};
        int q;
        spec_t s;
        for (q = 0; q < (int)(sizeof wstate / sizeof wstate[0]); q++) wstate[q] = rl_rng_uniform(&rng) - 0.5f;
        /* B=2, T=19 (crosses the 16-token kept-state boundary), H=3, KVH=1, N=4 */
        s = S1(38, 12, -1, 1); add_in(&s, 38, 4, -1, 1); add_in(&s, 38, 4, -1, 1); add_in(&s, 38, 12, -3, 1.0f);
        s.ndim[4] = 1; s.shape[4][0] = 2 * 3 * 4 * 4; s.lo[4] = -1; s.hi[4] = 1; s.n_in = 5;
        gradcheck("wkv6 B=2 T=19 H=3 KVH=1 N=4", &s, b_wkv6, a6, 3e-3);
        s = S1(10, 8, -1, 1); add_in(&s, 10, 8, -1, 1); add_in(&s, 10, 8, -1, 1); add_in(&s, 10, 8, -3, 1.0f);
        s.n_in = 5; s.ndim[4] = 1; s.shape[4][0] = 2 * 2 * 4 * 4; s.lo[4] = -1; s.hi[4] = 1;
        gradcheck("wkv6 B=2 T=5 MHA", &s, b_wkv6, a6b, 3e-3);
        /* RWKV7: r, d (decay pre-activation), k, v, κ-precursor (normalised inside), b, state */
        s = S1(38, 12, -1, 1);
        for (q = 1; q < 6; q++) add_in(&s, 38, 12, -1, 1);
        s.n_in = 7; s.ndim[6] = 1; s.shape[6][0] = 2 * 3 * 4 * 4; s.lo[6] = -1; s.hi[6] = 1;
        gradcheck("wkv7 B=2 T=19 H=3 N=4", &s, b_wkv7, a7, 3e-3);
        s.shape[0][0] = s.shape[1][0] = s.shape[2][0] = s.shape[3][0] = s.shape[4][0] = s.shape[5][0] = 2;
        gradcheck("wkv7 B=2 T=1 (one decode step)", &s, b_wkv7, a7b, 3e-3);
    }
    rlt_end();

    rlt_begin("grad fused mixer ops (RAD-RWKV7 scan inputs, lerps) and their twins in generic ops");
    {
        static const int hd[2] = {4, 6};
        spec_t s = S1(5, 12, -2, 2); /* k, zw, za [5, 12]; w0, a0, k_k, k_a [12] */
        add_in(&s, 5, 12, -2, 2);
        add_in(&s, 5, 12, -2, 2);
        add_in(&s, 0, 12, -1, 1);
        add_in(&s, 0, 12, -1, 1);
        add_in(&s, 0, 12, 0.5f, 1.5f);
        add_in(&s, 0, 12, 0.5f, 1.5f);
        for (d = 0; d < 2; d++) {
            gradcheck("RAD-RWKV7 scan inputs", &s, b_prep7, &hd[d], 2e-3);
            gradcheck("RAD-RWKV7 scan inputs, za = k", &s, b_prep7_alias, &hd[d], 2e-3);
            s.n_in = 5;
            gradcheck("RAD-RWKV7 scan inputs (balanced)", &s, b_prep7_bal, &hd[d], 2e-3);
            s.n_in = 7;
        }
        for (d = 0; d < 2; d++) { /* lerps: a, b, z [R, C], c [C]; rows over 3 blocks, columns over 2 */
            static const int64_t vs[2][2] = {{5, 12}, {70, 600}};
            static const int fz[3][2] = {{1, 1}, {0, 1}, {0, 0}};
            int f;
            spec_t v = S1(vs[d][0], vs[d][1], -2, 2);
            add_in(&v, vs[d][0], vs[d][1], -2, 2);
            add_in(&v, vs[d][0], vs[d][1], -2, 2);
            add_in(&v, 0, vs[d][1], -1, 1);
            for (f = 0; f < 3; f++) {
                char name[96];
                snprintf(name, sizeof name, "lerp (%s, %s z)", fz[f][0] ? "σ" : "identity", fz[f][1] ? "with" : "no");
                if (!d) gradcheck(name, &v, b_lerp, fz[f], 2e-3);
                twin_check(name, &v, b_lerp_fused, b_lerp_ops, fz[f]);
            }
            if (!d) gradcheck("lerp, b = a", &v, b_lerp_alias, NULL, 2e-3);
        }
        { /* bad shapes: refused with what is wrong */
            static float z[12], c6[6];
            static const int64_t s2[2] = {2, 6}, s1[1] = {6}, s5[1] = {5};
            rl_tensor K = rl_wrap(z, RL_F32, 2, s2, 0), W = rl_wrap(c6, RL_F32, 1, s1, 0), B = rl_wrap(c6, RL_F32, 1, s5, 0);
            rl_ctx c;
            rl_ctx_init(&c, NULL);
            RLT_CHECK(!rl__rwkv7_prep(&c, &K, &K, &K, &W, &B, NULL, NULL, 3) && strstr(rl_last_error(), "a0 has 5 values"), "prep: %s", rl_last_error());
            rl_ctx_reset(&c);
            RLT_CHECK(!rl__rwkv7_prep(&c, &K, &K, &K, &W, &W, &W, NULL, 3) && strstr(rl_last_error(), "go together"), "prep: %s", rl_last_error());
            rl_ctx_reset(&c);
            RLT_CHECK(!rl__rwkv7_prep(&c, &K, &K, &K, &W, &W, NULL, NULL, 4) && strstr(rl_last_error(), "heads of 4"), "prep: %s", rl_last_error());
            rl_ctx_reset(&c);
            RLT_CHECK(!rl__lerp(&c, &K, &K, NULL, &B, 0) && strstr(rl_last_error(), "vector has 5"), "lerp: %s", rl_last_error());
            rl_ctx_free(&c);
        }
        for (d = 0; d < 2; d++) {
            prep7_twin(70, 6, 3, d);
            prep7_twin(37, 64, 2, d);
            prep7_twin(1, 6, 2, d);
        }
    }
    rlt_end();

    rlt_begin("grad composed network (input and weight used twice)");
    {
        spec_t s = S1(3, 9, -1, 1);
        add_in(&s, 9, 9, -0.5f, 0.5f);
        add_in(&s, 9, 9, -0.5f, 0.5f);
        add_in(&s, 0, 9, 0.5f, 1.5f);
        gradcheck("rmsnorm→linear×2→swiglu→matmul→add", &s, b_chain, NULL, 3e-3);
    }
    rlt_end();

    rlt_begin("autodiff errors");
    {
        rl_ctx c;
        int64_t sh[2] = {2, 3}, sh2[2] = {3, 2};
        float a[6] = {0}, b[6] = {0};
        rl_tensor ta = rl_wrap(a, RL_F32, 2, sh, 1), tb = rl_wrap(b, RL_F32, 2, sh2, 0);
        rl_ctx_init(&c, NULL);
        RLT_CHECK(rl_linear(&c, &ta, &tb, NULL) == NULL && c.err == RL_ERR_ARG, "mismatched linear must fail");
        RLT_CHECK(strstr(rl_last_error(), "linear") != NULL, "error names the op: %s", rl_last_error());
        RLT_CHECK(rl_add(&c, &ta, &ta) == NULL, "ops after an error return NULL");
        rl_ctx_reset(&c);
        RLT_CHECK(rl_add(&c, &ta, &ta) != NULL, "reset clears the error");
        {
            int32_t bad_ids[2] = {0, 9};
            RLT_CHECK(rl_embedding(&c, bad_ids, 2, &ta) == NULL && strstr(rl_last_error(), "token id 9"), "out-of-range id: %s", rl_last_error());
        }
        RLT_CHECK(rl_device_cuda() == NULL && strstr(rl_last_error(), "built without RADLADS_CUDA"),
                  "no CUDA device in a build without radlads_cuda.cu, and the reason: %s", rl_last_error());
        RLT_CHECK(!strcmp(rl_device_name(NULL), "cpu"), "the host is called cpu");
        rl_ctx_free(&c);
    }
    rlt_end();
    rl_pool_free(pool);
    return rlt_exit();
}
