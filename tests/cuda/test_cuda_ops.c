/* test_cuda_ops - the device seam (radlads.h section 3): every op with a CUDA twin, forward
   and backward, run on the device (rl_to in, rl_to out) against the same op on the CPU.
   - Each op alone (the 44 cases of op_names: elementwise, RAD-RWKV6's unbalancing, RAD-RWKV7's
     scan inputs in one op, the mixers' lerps (token shift, value residual), row broadcasts,
     products, norms, moves of rows and columns, embedding, RoPE, softmax, the three losses and
     the KL of two heads in vocabulary chunks, causal GQA attention, the RWKV-6 and RWKV-7
     scans with initial and final states):
     inputs are host parameters moved with rl_to; the loss Σ(y ⊙ P) (P a fixed random
     tensor) comes back with rl_to; the output and every input's gradient must match
     the CPU run within 2e-5 of the largest value (fp32; the sums run in another order on the
     device). Products with bf16 weights (ctx.bf16_dot 0 and 1) within 1e-3 (bf16 products:
     the CPU's AVX512-BF16 kernel or its twin on one side, cuBLAS or its stand-in on the
     other; 4e-3 on a CPU without bf16 dot, whose side keeps x in fp32); a bf16 embedding
     table exactly as the fp32 cases.
   - A small SwiGLU block (29 ops) the same way, loss and gradients within 1e-5.
   - The seam's errors: an op without a twin refuses a device tensor and says it runs on
     the CPU only; inputs in two places are refused with the fix (rl_to).
   Prints SKIP when rl_cuda_available() is 0. Build: make -f tools/cuda.mk cuda (GPU) or
   cuda-emu (the CPU stand-ins tests/cuda/cuda_emu.h and cublas_emu.h). */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#define RADLADS_CUDA
#include "../../radlads.h"
#include "../rl_test.h"

enum { OP_ADD, OP_SUB, OP_MUL, OP_SCALE, OP_ADD_ROW, OP_MUL_ROW, OP_LINEAR, OP_LINEAR_NOBIAS, OP_MATMUL, OP_RMSNORM,
       OP_RMSNORM_NOW, OP_EXP, OP_SIGMOID, OP_TANH, OP_SOFTPLUS, OP_SILU, OP_SWIGLU, OP_SUM, OP_ADD_SCALAR, OP_SLICE,
       OP_REPEAT_KV, OP_SHIFT, OP_SHIFT0, OP_SEQ_LAST, OP_LOGDECAY, OP_UNBALANCE, OP_PREP7, OP_PREP7_BAL, OP_LERP, OP_LERP0, OP_EMBEDDING, OP_ROPE, OP_L2NORM, OP_GROUPNORM,
       OP_SOFTMAX, OP_LOGSOFTMAX, OP_CE, OP_KL, OP_KL_HEAD, OP_L2DIST, OP_ATTENTION, OP_ATTENTION_MHA, OP_WKV6, OP_WKV7, OP_BLOCK, OP_N };
static const char *op_names[OP_N] = {"add", "sub", "mul", "scale", "add_row", "mul_row", "linear", "linear (no bias)",
                                     "matmul", "rmsnorm", "rmsnorm (no weight)", "exp", "sigmoid", "tanh", "softplus",
                                     "silu", "swiglu", "sum", "add_scalar", "slice_cols", "repeat_kv", "token_shift",
                                     "token_shift (no state)", "seq_last", "rwkv6_logdecay", "RAD-RWKV6 unbalance", "RAD-RWKV7 scan inputs",
                                     "RAD-RWKV7 scan inputs (balanced)", "lerp with a σ gate", "lerp (no z, identity)", "embedding", "rope", "l2norm",
                                     "groupnorm", "softmax", "logsoftmax", "cross_entropy", "kl_div", "kl_head", "l2_dist",
                                     "attention (GQA)", "attention", "wkv6 (GQA)", "wkv7", "SwiGLU block"};

#define R_ 36 /* rows: 3 sequences of T_, not a multiple of a block */
#define T_ 12
#define C_ 24
#define F_ 40
#define V_ 50 /* rows of the embedding table */
#define NP 13
#define NY (R_ * 4 * C_) /* room for the largest output (RAD-RWKV7 scan inputs: 4 planes) */

static const float inv_freq[4] = {1.0f, 0.3f, 0.09f, 0.027f};
static int32_t ids[R_], targets[R_];

/* the parameters of one case, on the host */
typedef struct {
    float *v[NP], *g[NP];
    int64_t shape[NP][2];
    rl_dtype dt[NP];
    uint16_t *h[NP]; /* bf16 copy where dt is BF16 */
    int n;
} params;

static void param(params *p, rl_rng *rng, int64_t rows, int64_t cols, float lo, float hi) {
    int64_t i, n = rows * cols;
    int k = p->n++;
    p->v[k] = (float *)malloc(sizeof(float) * (size_t)n);
    p->g[k] = (float *)calloc((size_t)n, sizeof(float));
    p->shape[k][0] = rows;
    p->shape[k][1] = cols;
    p->dt[k] = RL_F32;
    p->h[k] = NULL;
    for (i = 0; i < n; i++) p->v[k][i] = lo + (hi - lo) * rl_rng_uniform(rng);
}
static void make_bf16(params *p, int k) {
    int64_t i, n = p->shape[k][0] * p->shape[k][1];
    p->dt[k] = RL_BF16;
    p->h[k] = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)n);
    for (i = 0; i < n; i++) p->h[k][i] = rl_f32_to_bf16(p->v[k][i]);
}
static void params_free(params *p) {
    int k;
    for (k = 0; k < p->n; k++) {
        free(p->v[k]);
        free(p->g[k]);
        free(p->h[k]);
    }
}

static int64_t n_of(const params *p, int k) { return p->shape[k][0] * p->shape[k][1]; }

/* the op's output from the moved inputs t[] */
static rl_tensor *run_op(rl_ctx *c, int op, rl_tensor **t) {
    switch (op) {
    case OP_ADD: return rl_add(c, t[0], t[1]);
    case OP_SUB: return rl_sub(c, t[0], t[1]);
    case OP_MUL: return rl_mul(c, t[0], t[1]);
    case OP_SCALE: return rl_scale(c, t[0], -0.75f);
    case OP_ADD_ROW: return rl_add_row(c, t[0], t[2]);
    case OP_MUL_ROW: return rl_mul_row(c, t[0], t[2]);
    case OP_LINEAR: return rl_linear(c, t[0], t[3], t[4]);
    case OP_LINEAR_NOBIAS: return rl_linear(c, t[0], t[3], NULL);
    case OP_MATMUL: return rl_matmul(c, t[0], t[5]);
    case OP_RMSNORM: return rl_rmsnorm(c, t[0], t[2], 1e-5f);
    case OP_RMSNORM_NOW: return rl_rmsnorm(c, t[0], NULL, 1e-5f);
    case OP_EXP: return rl_exp(c, t[0]);
    case OP_SIGMOID: return rl_sigmoid(c, t[0]);
    case OP_TANH: return rl_tanh(c, t[0]);
    case OP_SOFTPLUS: return rl_softplus(c, t[0]);
    case OP_SILU: return rl_silu(c, t[0]);
    case OP_SWIGLU: return rl_swiglu(c, t[0], t[1]);
    case OP_SUM: return rl_sum(c, t[0]);
    case OP_ADD_SCALAR: return rl_add_scalar(c, t[0], 0.375f);
    case OP_SLICE: return rl_slice_cols(c, t[0], 5, 11);
    case OP_REPEAT_KV: return rl_repeat_kv(c, t[0], 6, 3);
    case OP_SHIFT: return rl_token_shift(c, t[0], T_, t[8]);
    case OP_SHIFT0: return rl_token_shift(c, t[0], T_, NULL);
    case OP_SEQ_LAST: return rl_seq_last(c, t[0], T_);
    case OP_LOGDECAY: return rl_rwkv6_logdecay(c, t[0]);
    case OP_UNBALANCE: return rl__rwkv6_unbalance(c, t[0], rl_rwkv6_logdecay(c, rl_scale(c, t[1], 0.3f)));
    case OP_PREP7: /* heads of 6; k_k, k_a from the row vectors through ops of their own; balanced: za is k (a gradient added to) */
    case OP_PREP7_BAL:
        return op == OP_PREP7 ? rl__rwkv7_prep(c, t[0], t[1], t[11], t[2], t[4], rl_scale(c, t[2], -0.5f), rl_add_scalar(c, t[4], 0.25f), 6)
                              : rl__rwkv7_prep(c, t[0], t[1], t[0], t[2], t[4], NULL, NULL, 6);
    case OP_LERP: return rl__lerp(c, t[0], t[1], t[11], t[2], 1);
    case OP_LERP0: return rl__lerp(c, t[0], t[1], NULL, t[2], 0);
    case OP_EMBEDDING: return rl_embedding(c, ids, R_, t[9]);
    case OP_ROPE: return rl_rope(c, t[0], T_, 8, inv_freq, 3);
    case OP_L2NORM: return rl_l2norm(c, t[0], 8, 1e-12f);
    case OP_GROUPNORM: return rl_groupnorm(c, t[0], t[2], t[4], 3, 1e-5f);
    case OP_SOFTMAX: return rl_softmax(c, t[0]);
    case OP_LOGSOFTMAX: return rl_logsoftmax(c, t[0]);
    case OP_CE: return rl_cross_entropy(c, t[0], targets);
    case OP_KL: return rl_kl_div(c, t[0], t[1]);
    case OP_KL_HEAD: { /* the table as the student's head; a teacher side without gradient; vocabulary of 50 in chunks of 16 */
        rl_tensor *ht, *wt;
        rl_no_grad_push(c);
        ht = rl_scale(c, t[1], 1.0f);
        wt = rl_scale(c, t[9], -0.5f);
        rl_no_grad_pop(c);
        return rl_kl_head(c, t[0], t[9], ht, wt, 16);
    }
    case OP_L2DIST: return rl_l2_dist(c, t[0], t[1]);
    case OP_ATTENTION: /* 4 heads of 6, 2 kv heads */
        return rl_attention(c, t[0], rl_slice_cols(c, t[1], 0, 12), rl_slice_cols(c, t[1], 12, 12), T_, 4, 2);
    case OP_ATTENTION_MHA: return rl_attention(c, t[0], t[1], rl_scale(c, t[1], -0.5f), T_, 3, 3);
    case OP_WKV6:   /* 4 heads of 6 reading 2 kv heads; y and the final state in the loss */
    case OP_WKV7: { /* 4 heads of 6, the RADLADS inputs: w = exp(−0.6·σ), a = −κ̂, b = κ̂ ⊙ iclr */
        rl_tensor *S = NULL, *y;
        if (op == OP_WKV6)
            y = rl_wkv6(c, t[0], rl_slice_cols(c, t[1], 0, 12), rl_slice_cols(c, t[1], 12, 12), rl_rwkv6_logdecay(c, rl_scale(c, t[0], 0.3f)),
                        T_, 4, 2, t[10], &S);
        else {
            rl_tensor *kap = rl_l2norm(c, t[1], 6, 1e-12f);
            rl_tensor *w = rl_exp(c, rl_scale(c, rl_sigmoid(c, rl_scale(c, t[0], 0.7f)), -0.6065f));
            y = rl_wkv7(c, rl_scale(c, t[0], 0.5f), w, t[1], rl_tanh(c, t[0]), rl_scale(c, kap, -1.0f),
                        rl_mul(c, kap, rl_sigmoid(c, t[1])), T_, 4, t[10], &S);
        }
        return rl_add(c, rl_sum(c, rl_mul(c, y, t[11])), rl_sum(c, rl_mul(c, S, t[12])));
    }
    default: { /* x -> rmsnorm -> gate/up linears -> swiglu -> down linear, plus every elementwise op */
        /* first, so that their backwards add to a gradient others wrote */
        rl_tensor *x3 = rl_scale(c, t[0], 0.25f), *x2 = rl_mul_row(c, t[0], t[2]);
        rl_tensor *h = rl_rmsnorm(c, t[0], t[2], 1e-6f);
        rl_tensor *g = rl_linear(c, h, t[3], t[4]), *u = rl_linear(c, h, t[6], NULL);
        rl_tensor *s = rl_swiglu(c, g, u);
        rl_tensor *e = rl_add(c, rl_sigmoid(c, g), rl_tanh(c, u));
        rl_tensor *m = rl_mul(c, rl_silu(c, s), rl_softplus(c, rl_scale(c, e, 0.5f)));
        rl_tensor *o = rl_linear(c, rl_add(c, m, rl_exp(c, rl_scale(c, s, 0.1f))), t[7], NULL);
        rl_tensor *r = rl_mul_row(c, rl_add_row(c, o, t[2]), t[2]);
        r = rl_add(c, rl_add(c, r, rl_add(c, x2, x3)), rl_linear(c, rl_matmul(c, t[0], t[5]), t[7], NULL));
        return rl_sub(c, r, rl_scale(c, t[1], 0.5f));
    }
    }
}

/* run op with its inputs on dev (NULL: the CPU); y gets the output, the params' g their gradients */
static int run_case(int op, params *p, const float *P, rl_device *dev, int bf16_dot, float *y, int64_t *ny, double *loss) {
    rl_ctx c;
    rl_tensor host[NP], *t[NP], *out, *yh, *L, *Pt;
    rl_tensor Pw;
    int k, ok;
    rl_ctx_init(&c, NULL);
    c.bf16_dot = bf16_dot;
    for (k = 0; k < p->n; k++) {
        host[k] = rl_wrap(p->dt[k] == RL_BF16 ? (void *)p->h[k] : (void *)p->v[k], p->dt[k], 2, p->shape[k], p->dt[k] == RL_F32);
        host[k].grad = p->g[k];
        memset(p->g[k], 0, sizeof(float) * (size_t)n_of(p, k));
        t[k] = rl_to(&c, &host[k], dev);
    }
    out = run_op(&c, op, t);
    ok = out != NULL;
    if (ok) {
        Pw = rl_wrap((void *)P, RL_F32, out->ndim, out->shape, 0);
        Pt = rl_to(&c, &Pw, dev);
        yh = rl_to(&c, out, NULL);
        L = rl_to(&c, rl_sum(&c, rl_mul(&c, out, Pt)), NULL);
        ok = L && yh && (!L->requires_grad || rl_backward(&c, L) == RL_OK); /* a frozen table: no gradient */
        if (ok) {
            *ny = yh->n;
            memcpy(y, yh->data, sizeof(float) * (size_t)yh->n);
            *loss = rl_f32(L)[0];
        }
    }
    if (!ok) fprintf(stderr, "test_cuda_ops: %s on %s: %s\n", op_names[op], rl_device_name(dev), rl_last_error());
    rl_ctx_free(&c);
    return ok;
}

static double max_abs(const float *a, int64_t n) {
    double m = 1e-30;
    int64_t i;
    for (i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

static void op_case(rl_device *dev, int op, int bf16_w, int bf16_dot, double tol, rl_rng *rng) {
    params p;
    float *P = (float *)malloc(sizeof(float) * NY), *y0 = (float *)malloc(sizeof(float) * NY), *y1 = (float *)malloc(sizeof(float) * NY),
          *g0[NP];
    int64_t n0 = 0, n1 = 0, i;
    double l0 = 0, l1 = 0;
    int k;
    memset(&p, 0, sizeof p);
    param(&p, rng, R_, C_, -2, 2);                                  /* 0 x */
    param(&p, rng, R_, C_, -2, 2);                                  /* 1 second input */
    param(&p, rng, 1, C_, 0.5f, 1.5f);                              /* 2 row vector / norm weight */
    param(&p, rng, op == OP_BLOCK ? F_ : C_, C_, -0.3f, 0.3f);       /* 3 W [N, K] */
    param(&p, rng, 1, op == OP_BLOCK ? F_ : C_, -0.5f, 0.5f);        /* 4 bias */
    param(&p, rng, C_, op == OP_BLOCK ? F_ : C_, -0.3f, 0.3f);       /* 5 A [K, N] */
    param(&p, rng, F_, C_, -0.3f, 0.3f);                            /* 6 W up */
    param(&p, rng, C_, F_, -0.3f, 0.3f);                            /* 7 W down [C, F] */
    param(&p, rng, R_ / T_, C_, -1, 1);                             /* 8 token-shift state [B, C] */
    param(&p, rng, V_, C_, -1, 1);                                  /* 9 embedding table */
    param(&p, rng, R_ / T_, 4 * 6 * 6, -0.5f, 0.5f);                /* 10 scan state [B, H, N, N] */
    param(&p, rng, R_, C_, -1, 1);                                  /* 11 weights of the scan output */
    param(&p, rng, R_ / T_ * 4 * 6, 6, -1, 1);                      /* 12 weights of the final state */
    if (bf16_w) {
        make_bf16(&p, 3);
        make_bf16(&p, 5);
        make_bf16(&p, 9);
    }
    for (i = 0; i < NY; i++) P[i] = rl_rng_uniform(rng) * 2 - 1;
    if (!run_case(op, &p, P, NULL, bf16_dot, y0, &n0, &l0)) {
        RLT_CHECK(0, "%s on the CPU failed: %s", op_names[op], rl_last_error());
        goto done;
    }
    for (k = 0; k < p.n; k++) {
        g0[k] = (float *)malloc(sizeof(float) * (size_t)n_of(&p, k));
        memcpy(g0[k], p.g[k], sizeof(float) * (size_t)n_of(&p, k));
    }
    RLT_CHECK(run_case(op, &p, P, dev, bf16_dot, y1, &n1, &l1), "%s on the device failed: %s", op_names[op], rl_last_error());
    if (n1 == n0) {
        double s = max_abs(y0, n0), w = rlt_worst(y1, y0, (long)n0, tol * s, 0, NULL); /* <= 1: within tol of the largest */
        RLT_CHECK(w <= 1, "%s%s: output differs by %.3g of its largest value %.3g", op_names[op], bf16_w ? " (bf16 weight)" : "", w * tol, s);
        RLT_CLOSE(l1, l0, tol * 1e-3, tol, "%s: loss", op_names[op]);
        for (k = 0; k < p.n; k++) {
            double gs = max_abs(g0[k], n_of(&p, k)), gw = rlt_worst(p.g[k], g0[k], (long)n_of(&p, k), tol * gs, 0, NULL);
            RLT_CHECK(gw <= 1, "%s: gradient of input %d differs by %.3g of its largest value %.3g", op_names[op], k, gw * tol, gs);
        }
    } else {
        RLT_CHECK(0, "%s: %lld outputs on the device, %lld on the CPU", op_names[op], (long long)n1, (long long)n0);
    }
    for (k = 0; k < p.n; k++) free(g0[k]);
done:
    params_free(&p);
    free(P);
    free(y0);
    free(y1);
}

/* ---- one optimizer step of stages 1, 2 and 3 on the device = on the CPU ---- */

#define MB 2  /* sequences */
#define MT 16 /* tokens each */
#define LR 1e-6

typedef struct {
    float *buf; /* every parameter's values (or gradients) one after another */
    int64_t n, cap;
    int grads;
} snap;
static void snap_fn(void *u, const char *name, rl_tensor *t) {
    snap *sn = (snap *)u;
    const void *src = sn->grads ? (const void *)t->grad : t->data;
    (void)name;
    if (sn->grads && !t->grad) return;
    if (t->dtype != RL_F32) return; /* frozen BF16 matrices */
    if (sn->n + t->n > sn->cap) {
        sn->cap = 2 * (sn->n + t->n);
        sn->buf = (float *)realloc(sn->buf, sizeof(float) * (size_t)sn->cap);
    }
    if (t->dev) t->dev->ops->copy(sn->buf + sn->n, src, sizeof(float) * (size_t)t->n, 2);
    else memcpy(sn->buf + sn->n, src, sizeof(float) * (size_t)t->n);
    sn->n += t->n;
}
static snap take(rl_model *m, int grads) {
    snap sn;
    memset(&sn, 0, sizeof sn);
    sn.grads = grads;
    rl_model_params(m, snap_fn, &sn);
    return sn;
}

/* loss, gradient norm, gradients and weights after one step; dev NULL: the CPU */
static int model_step(rl_model *teacher, const rl_student_opts *so, int stage, rl_device *dev, const int32_t *win, double *loss,
                      double *norm, snap *grads, snap *after) {
    rl_model st;
    rl_adamw opt;
    rl_ctx c;
    rl_tensor *L;
    int32_t x[MB * MT], y[MB * MT];
    int ok = 0;
    if (rl_student_from_teacher(&st, teacher, so) != RL_OK) return 0;
    if (dev && (rl_model_to(teacher, dev) != RL_OK || rl_model_to(&st, dev) != RL_OK)) goto done;
    if (rl_adamw_init(&opt, &st, stage == 1 ? RL_TRAIN_MIXERS : RL_TRAIN_ALL) != RL_OK) goto done;
    rl_adamw_zero_grad(&opt);
    rl_ctx_init(&c, NULL);
    L = rl_to(&c, rl__stage_loss(&c, &st, teacher, stage, win, MB, MT, x, y, NULL, 0), NULL);
    if (L && rl_backward(&c, L) == RL_OK) {
        *loss = rl_f32(L)[0];
        *grads = take(&st, 1);
        *norm = rl_adamw_step(&opt, LR, LR);
        ok = *norm >= 0 && rl_model_to(&st, NULL) == RL_OK;
        *after = take(&st, 0);
    }
    rl_ctx_free(&c);
    rl_adamw_free(&opt);
done:
    if (!ok) fprintf(stderr, "test_cuda_ops: stage %d on %s: %s\n", stage, rl_device_name(dev), rl_last_error());
    rl_model_to(teacher, NULL);
    rl_model_free(&st);
    return ok;
}

static void model_case(rl_device *dev, rl_model *teacher, int kind, int keep_attention, rl_rng *rng) {
    rl_student_opts so;
    int32_t win[MB * (MT + 1)];
    int stage, i;
    rl_student_opts_default(&so, (rl_mixer_kind)kind);
    so.keep_attention = keep_attention;
    for (i = 0; i < MB * (MT + 1); i++) win[i] = (int32_t)(rl_rng_u64(rng) % (uint64_t)teacher->cfg.vocab_size);
    for (stage = 1; stage <= 3; stage++) {
        double l0 = 0, l1 = 0, n0 = 0, n1 = 0, gs, gw, ww;
        snap g0, g1, a0, a1;
        memset(&g0, 0, sizeof g0); g1 = a0 = a1 = g0;
        if (!model_step(teacher, &so, stage, NULL, win, &l0, &n0, &g0, &a0) || !model_step(teacher, &so, stage, dev, win, &l1, &n1, &g1, &a1)) {
            RLT_CHECK(0, "RWKV%d%s stage %d: %s", kind, keep_attention ? " hybrid" : "", stage, rl_last_error());
        } else if (g0.n != g1.n || a0.n != a1.n) {
            RLT_CHECK(0, "RWKV%d stage %d: %lld/%lld gradients, %lld/%lld weights", kind, stage, (long long)g0.n, (long long)g1.n,
                      (long long)a0.n, (long long)a1.n);
        } else {
            gs = max_abs(g0.buf, g0.n);
            gw = rlt_worst(g1.buf, g0.buf, (long)g0.n, 1e-4 * gs, 0, NULL);
            /* after one Adam step a weight moves by about lr·sign(g): where g is ~0 its sign may differ */
            ww = rlt_worst(a1.buf, a0.buf, (long)a0.n, 2.01 * LR, 1e-5, NULL);
            RLT_CLOSE(l1, l0, 0, 1e-5, "RWKV%d%s stage %d: loss", kind, keep_attention ? " hybrid" : "", stage);
            RLT_CLOSE(n1, n0, 0, 1e-5, "RWKV%d%s stage %d: gradient norm", kind, keep_attention ? " hybrid" : "", stage);
            RLT_CHECK(gw <= 1, "RWKV%d%s stage %d: gradients differ by %.3g of the largest %.3g", kind, keep_attention ? " hybrid" : "",
                      stage, gw * 1e-4, gs);
            RLT_CHECK(ww <= 1, "RWKV%d%s stage %d: a weight after the step differs by %.3g times 1e-5 relative + 2 lr", kind,
                      keep_attention ? " hybrid" : "", stage, ww);
            if (getenv("RLT_VERBOSE"))
                fprintf(stderr, "  RWKV%d%s stage %d: loss %.7g / %.7g, norm %.7g / %.7g, gradients %.2g of max\n", kind,
                        keep_attention ? " hybrid" : "", stage, l0, l1, n0, n1, gw * 1e-4);
        }
        free(g0.buf); free(g1.buf); free(a0.buf); free(a1.buf);
    }
}

static void seam_errors(rl_device *dev) {
    rl_ctx c;
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    rl_tensor h = rl_wrap(x, RL_F32, 2, shape, 0), *d;
    rl_ctx_init(&c, NULL);
    h.name = "x";
    d = rl_to(&c, &h, dev);
    RLT_CHECK(d && d->dev == dev, "rl_to moves a tensor: %s", rl_last_error());
    RLT_CHECK(!rl_dot_const(&c, d, x) && c.err == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), "runs on the CPU only") && strstr(rl_last_error(), "x is on cuda"),
              "an op without a twin refuses a device tensor: %s", rl_last_error());
    rl_ctx_reset(&c);
    d = rl_to(&c, &h, dev);
    RLT_CHECK(!rl_add(&c, d, &h) && c.err == RL_ERR_ARG && strstr(rl_last_error(), "move it with rl_to"),
              "inputs in two places are refused: %s", rl_last_error());
    rl_ctx_free(&c);
}

int main(void) {
    rl_device *dev;
    rl_rng rng;
    int op;
    if (!(dev = rl_device_cuda())) {
        rlt_skip("cuda ops (the device seam vs the CPU)", rl_last_error());
        return 0;
    }
    rl_rng_seed(&rng, 5);
    for (op = 0; op < R_; op++) {
        ids[op] = (int32_t)(rl_rng_u64(&rng) % V_);
        targets[op] = op % 7 == 3 ? -1 : (int32_t)(rl_rng_u64(&rng) % C_); /* some rows ignored */
    }
    rlt_begin("cuda ops: each op with a twin, forward and backward, on the device = on the CPU (2e-5 of the largest value)");
    for (op = 0; op < OP_BLOCK; op++) op_case(dev, op, 0, 0, 2e-5, &rng);
    rlt_end();
    rlt_begin("cuda ops: linear and matmul with bf16 weights, fp32 products and bf16 products (1e-3; 4e-3 without a CPU bf16 dot); a bf16 embedding table");
    for (op = OP_LINEAR; op <= OP_MATMUL; op++) {
        op_case(dev, op, 1, 0, 2e-5, &rng);
        /* bf16 products (bf16_dot 1): where this CPU has no bf16 dot (rl_bf16_dot_available() 0)
           its side keeps x in fp32 and only the device rounds x to bf16, each product off by up
           to 2^-9 of |x·w|: 4e-3 there (the largest difference measured on such a CPU, a Zen 3,
           was 1.45e-3); 1e-3 where both sides round */
        op_case(dev, op, 1, 1, rl_bf16_dot_available() ? 1e-3 : 4e-3, &rng);
    }
    op_case(dev, OP_EMBEDDING, 1, 0, 2e-5, &rng);
    rlt_end();
    rlt_begin("cuda ops: a SwiGLU block of 29 ops on the device = on the CPU (loss and gradients, 1e-5)");
    op_case(dev, OP_BLOCK, 0, 0, 1e-5, &rng);
    rlt_end();
    {
        const char *dir = "examples/tiny-teacher";
        rl_model teacher;
        rlt_begin("cuda ops: one AdamW step of stages 1, 2, 3 (RAD-RWKV6, RAD-RWKV7, a hybrid) on the device = on the CPU; host-only paths refuse");
        if (rl_model_load(&teacher, dir, 0) != RL_OK) {
            RLT_CHECK(0, "%s: %s", dir, rl_last_error());
        } else {
            model_case(dev, &teacher, 6, 0, &rng);
            model_case(dev, &teacher, 7, 0, &rng);
            model_case(dev, &teacher, 7, 1, &rng);
            { /* what runs on the host only says so; an optimizer stays with its moments */
                rl_model st;
                rl_adamw opt;
                RLT_CHECK(rl_model_to(&teacher, dev) == RL_OK && rl_student_from_teacher(&st, &teacher, NULL) == RL_ERR_UNSUPPORTED &&
                              strstr(rl_last_error(), "bring it back with rl_model_to"),
                          "a student made from a teacher on the device is refused: %s", rl_last_error());
                RLT_CHECK(rl_model_to(&teacher, NULL) == RL_OK && teacher.dev == NULL, "and it comes back");
                if (rl_student_from_teacher(&st, &teacher, NULL) == RL_OK && rl_adamw_init(&opt, &st, RL_TRAIN_ALL) == RL_OK) {
                    RLT_CHECK(rl_model_to(&st, dev) == RL_OK && rl_adamw_step(&opt, 1e-3, 1e-3) == -2.0 && strstr(rl_last_error(), "moments on cpu"),
                              "an optimizer made on the host refuses parameters moved away: %s", rl_last_error());
                    rl_adamw_free(&opt);
                    rl_model_free(&st);
                }
            }
            rl_model_free(&teacher);
        }
        rlt_end();
    }
    rlt_begin("cuda ops: the seam's errors (an op with no twin, inputs in two places)");
    seam_errors(dev);
    rlt_end();
    return rlt_exit();
}
