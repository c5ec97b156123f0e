/* test_cuda_ops - the device seam (radlads.h section 3): every op with a CUDA twin, forward
   and backward, run on the device (rl_to in, rl_to out) against the same op on the CPU.
   - Each op alone: inputs are host parameters moved with rl_to; the loss Σ(y ⊙ P) (P a
     fixed random tensor) comes back with rl_to; the output and every input's gradient must
     match the CPU run within 2e-5 of the largest value (fp32; the sums run in another
     order on the device). Ops with a bf16 weight (linear, matmul; ctx.bf16_dot 0 and 1)
     within 1e-3 (bf16 products, the CPU's AVX512-BF16 kernel or its twin on one side,
     cuBLAS or its stand-in on the other).
   - A small SwiGLU block (rmsnorm, three linears, matmul, the five elementwise functions,
     row broadcasts, add/sub/mul/scale, sum) the same way, loss and gradients within 1e-5.
   - The seam's errors: an op without a twin refuses a device tensor and says which op
     runs on the CPU only; inputs in two places are refused with the fix (rl_to).
   Prints SKIP when rl_cuda_available() is 0. Build: make -f tools/cuda.mk cuda (GPU) or
   cuda-emu (the CPU stand-ins tests/cuda/cuda_emu.h and cublas_emu.h). */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#define RADLADS_CUDA
#include "../../radlads.h"
#include "../rl_test.h"

enum { OP_ADD, OP_SUB, OP_MUL, OP_SCALE, OP_ADD_ROW, OP_MUL_ROW, OP_LINEAR, OP_LINEAR_NOBIAS, OP_MATMUL, OP_RMSNORM,
       OP_RMSNORM_NOW, OP_EXP, OP_SIGMOID, OP_TANH, OP_SOFTPLUS, OP_SILU, OP_SWIGLU, OP_SUM, OP_BLOCK, OP_N };
static const char *op_names[OP_N] = {"add", "sub", "mul", "scale", "add_row", "mul_row", "linear", "linear (no bias)",
                                     "matmul", "rmsnorm", "rmsnorm (no weight)", "exp", "sigmoid", "tanh", "softplus",
                                     "silu", "swiglu", "sum", "SwiGLU block"};

#define R_ 37 /* rows: not a multiple of a block */
#define C_ 24
#define F_ 40
#define NP 8

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
        ok = L && yh && rl_backward(&c, L) == RL_OK;
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
    float *P = (float *)malloc(sizeof(float) * R_ * F_), *y0 = (float *)malloc(sizeof(float) * R_ * F_),
          *y1 = (float *)malloc(sizeof(float) * R_ * F_), *g0[NP];
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
    if (bf16_w) {
        make_bf16(&p, 3);
        make_bf16(&p, 5);
    }
    for (i = 0; i < R_ * F_; i++) P[i] = rl_rng_uniform(rng) * 2 - 1;
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
        double s = max_abs(y0, n0), w = 0;
        for (i = 0; i < n0; i++)
            if (!(fabs((double)y1[i] - y0[i]) <= w)) w = fabs((double)y1[i] - y0[i]) == fabs((double)y1[i] - y0[i]) ? fabs((double)y1[i] - y0[i]) : 1e30;
        RLT_CHECK(w <= tol * s, "%s%s: output differs by %.3g of its largest value %.3g", op_names[op], bf16_w ? " (bf16 weight)" : "", w / s, s);
        RLT_CLOSE(l1, l0, tol * 1e-3, tol, "%s: loss", op_names[op]);
        for (k = 0; k < p.n; k++) {
            double gs = max_abs(g0[k], n_of(&p, k)), gw = 0;
            for (i = 0; i < n_of(&p, k); i++) {
                double d = fabs((double)p.g[k][i] - g0[k][i]);
                if (!(d <= gw)) gw = d == d ? d : 1e30;
            }
            RLT_CHECK(gw <= tol * gs, "%s: gradient of input %d differs by %.3g of its largest value %.3g", op_names[op], k, gw / gs, gs);
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

static void seam_errors(rl_device *dev) {
    rl_ctx c;
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    rl_tensor h = rl_wrap(x, RL_F32, 2, shape, 0), *d;
    rl_ctx_init(&c, NULL);
    h.name = "x";
    d = rl_to(&c, &h, dev);
    RLT_CHECK(d && d->dev == dev, "rl_to moves a tensor: %s", rl_last_error());
    RLT_CHECK(!rl_softmax(&c, d) && c.err == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), "runs on the CPU only") && strstr(rl_last_error(), "x is on cuda"),
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
    rlt_begin("cuda ops: each op with a twin, forward and backward, on the device = on the CPU (2e-5 of the largest value)");
    for (op = 0; op < OP_BLOCK; op++) op_case(dev, op, 0, 0, 2e-5, &rng);
    rlt_end();
    rlt_begin("cuda ops: linear and matmul with bf16 weights, fp32 products and bf16 products (1e-3)");
    for (op = OP_LINEAR; op <= OP_MATMUL; op++) {
        op_case(dev, op, 1, 0, 2e-5, &rng);
        op_case(dev, op, 1, 1, 1e-3, &rng);
    }
    rlt_end();
    rlt_begin("cuda ops: a SwiGLU block of 29 ops on the device = on the CPU (loss and gradients, 1e-5)");
    op_case(dev, OP_BLOCK, 0, 0, 1e-5, &rng);
    rlt_end();
    rlt_begin("cuda ops: the seam's errors (an op with no twin, inputs in two places)");
    seam_errors(dev);
    rlt_end();
    return rlt_exit();
}
