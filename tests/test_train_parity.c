/* One optimizer step of RADLADS step 1 and step 2 against PyTorch (tools/ref/make_train_ref.py,
   tests/fixtures/train/): for a RAD-RWKV7 (variant B) and a RAD-RWKV6 student of the tiny Qwen2
   teacher, the loss the trainer builds (rl__stage_loss, the code rl_train_stage runs), its
   backward pass and rl_adamw_step (lr 1e-3, clip 1.0) give the reference loss (rel 1e-5),
   global gradient norm (rel 1e-4), every tensor's gradient norm (rel 1e-4) and updated weights
   (|Δ| <= 1e-6 + 1e-5·|ref|); parameters a stage does not train stay bit-identical.

   Adam's first step moves a weight by lr·g/(|g| + ε) (ε = 1e-8), i.e. by ±lr unless |g| is
   within a few ε of zero, where the step is extremely sensitive to g (d/dg = lr·ε/(|g|+ε)²,
   up to 1e5 at g = 0). Float32 gradients differ from the float64 reference by ~1e-7 of the
   tensor's largest |g|, and among ~1e5 gradient values some lie within that of ε (here 0.2 %
   have |g| < 1e-6, the smallest 5e-10). So each weight's tolerance also gets what a gradient
   error δ = 1e-5·max|g| of the tensor can do to the step, lr·min(2, δ·ε/(max(0, |g|−δ) + ε)²),
   with g the (clipped) gradient the C code computed; here that is < 1e-8 unless |g| < 1e-5.
   The info lines say how many weights needed more than the plain tolerance. */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"

#define FIX "tests/fixtures/train/"
#define LR 1e-3
#define ADAM_EPS 1e-8
#define W_ATOL 1e-6
#define W_RTOL 1e-5
#define G_RTOL 1e-4
#define G_ELEM 1e-5 /* assumed bound of an element's gradient error, relative to the tensor's max |g| */
#define MAX_TENSORS 512

static rl_pool *pool;

typedef struct {
    const rl_st *ref;   /* reference file */
    const rl_st *orig;  /* the student as loaded (its weights file is kept open) */
    int stage, n, n_frozen, ng, ig;
    float *g[MAX_TENSORS];     /* copies of the trained tensors' gradients (the step zeroes them) */
    double clip_scale;         /* the optimizer's clip factor, from its gradient norm */
    double max_abs, max_abs_plain, max_abs_big, max_g_band, max_ratio, max_gnorm_rel;
    long n_values, n_band;     /* values compared; values in the ε band outside the plain tolerance */
    char worst[200];
} cmp_ctx;

static int trained(int stage, const char *name) { return stage == 2 || strstr(name, ".self_attn.") != NULL; }

/* before the step: each trained tensor's gradient norm against s<stage>.gnorm.<name> */
static void cmp_gnorm(void *u, const char *name, rl_tensor *t) {
    cmp_ctx *k = (cmp_ctx *)u;
    char nm[256];
    float ref = -1;
    double ss = 0, g, rel;
    int64_t i;
    if (!trained(k->stage, name)) return;
    snprintf(nm, sizeof nm, "s%d.gnorm.%s", k->stage, name);
    RLT_CHECK(rl_st_read_f32(k->ref, nm, &ref, 0, NULL) == RL_OK, "%s: %s", nm, rl_last_error());
    for (i = 0; i < t->n; i++) ss += (double)t->grad[i] * t->grad[i];
    g = sqrt(ss);
    if (k->ng < MAX_TENSORS && (k->g[k->ng] = (float *)malloc(sizeof(float) * (size_t)t->n)) != NULL)
        memcpy(k->g[k->ng++], t->grad, sizeof(float) * (size_t)t->n);
    rel = ref > 0 ? fabs(g - ref) / ref : g;
    if (rel > k->max_gnorm_rel) k->max_gnorm_rel = rel;
    RLT_CHECK(ref > 0 ? rel <= G_RTOL : g == 0, "gradient norm of %s: %.9g vs %.9g", name, g, (double)ref);
}

/* after the step: trained tensors against s<stage>.<name>, the others unchanged */
static void cmp_param(void *u, const char *name, rl_tensor *t) {
    cmp_ctx *k = (cmp_ctx *)u;
    char nm[256];
    float *ref = (float *)malloc(sizeof(float) * (size_t)t->n);
    const float *got = rl_f32(t);
    int64_t i;
    if (!ref) return;
    if (!trained(k->stage, name)) {
        rl_status st = rl_st_read_f32(k->orig, name, ref, t->ndim, t->shape);
        RLT_CHECK(st == RL_OK && memcmp(ref, got, sizeof(float) * (size_t)t->n) == 0, "frozen %s changed", name);
        k->n_frozen++;
    } else {
        snprintf(nm, sizeof nm, "s%d.%s", k->stage, name);
        if (rl_st_read_f32(k->ref, nm, ref, t->ndim, t->shape) != RL_OK) {
            RLT_CHECK(0, "%s: %s", nm, rl_last_error());
        } else {
            const float *g = k->ig < k->ng ? k->g[k->ig] : NULL;
            double gmax = 0, worst = 0;
            long at = -1;
            k->ig++;
            RLT_CHECK(g != NULL, "%s: no saved gradient", name);
            for (i = 0; g && i < t->n; i++) gmax = fmax(gmax, fabs(g[i]) * k->clip_scale);
            for (i = 0; g && i < t->n; i++) {
                double d = fabs((double)got[i] - ref[i]), tol = W_ATOL + W_RTOL * fabs((double)ref[i]);
                double delta = G_ELEM * gmax, den = fmax(fabs(g[i]) * k->clip_scale - delta, 0.0) + ADAM_EPS;
                double band = LR * fmin(2.0, delta * ADAM_EPS / (den * den)), r = d / (tol + band);
                if (d > tol) {
                    k->n_band++;
                    k->max_g_band = fmax(k->max_g_band, fabs(g[i]) * k->clip_scale);
                } else if (d > k->max_abs_plain) {
                    k->max_abs_plain = d;
                }
                if (fabs(g[i]) * k->clip_scale >= 1e4 * ADAM_EPS && d > k->max_abs_big) k->max_abs_big = d;
                if (d > k->max_abs) k->max_abs = d;
                if (r > worst || r != r) {
                    worst = r != r ? INFINITY : r;
                    at = (long)i;
                }
            }
            k->n_values += (long)t->n;
            if (worst > k->max_ratio) {
                k->max_ratio = worst;
                snprintf(k->worst, sizeof k->worst, "%s[%ld]", name, at);
            }
            RLT_CHECK(g && worst <= 1.0, "%s[%ld]: %.9g vs %.9g (gradient %.3g)", name, at, at >= 0 ? got[at] : 0.0,
                      at >= 0 ? ref[at] : 0.0, at >= 0 && g ? g[at] * k->clip_scale : 0.0);
            k->n++;
        }
    }
    free(ref);
}

/* how many s<stage>.<param> tensors the reference holds (besides loss, grad_norm, gnorm.*) */
static int ref_params(const rl_st *ref, int stage) {
    char pre[8];
    int i, n = 0;
    snprintf(pre, sizeof pre, "s%d.", stage);
    for (i = 0; i < rl_st_count(ref); i++) {
        const char *nm = rl_st_at(ref, i)->name;
        if (!strncmp(nm, pre, 3) && strcmp(nm + 3, "loss") && strcmp(nm + 3, "grad_norm") && strncmp(nm + 3, "gnorm.", 6)) n++;
    }
    return n;
}

static void run(rl_model *teacher, const char *kind, int stage) {
    char dir[256], path[256], group[160];
    rl_st ref;
    rl_model s;
    rl_ctx c;
    rl_adamw o;
    int32_t win[2 * 10], x[2 * 9], y[2 * 9];
    int64_t ids_shape[2] = {2, 10};
    const int64_t B = 2, T = 9;
    float ref_loss = 0, ref_gn = 0;
    rl_tensor *loss;
    double gn;
    cmp_ctx k;
    int i;
    snprintf(dir, sizeof dir, FIX "student-%s", kind);
    snprintf(path, sizeof path, FIX "ref-%s.safetensors", kind);
    snprintf(group, sizeof group, "train parity %s step %d: %s, backward, one AdamW step vs PyTorch", kind, stage,
             stage == 1 ? "attention-output L2 loss" : "KL(teacher||student)");
    rlt_begin(group);
    if (rl_st_open(&ref, path) != RL_OK) {
        RLT_CHECK(0, "open %s: %s", path, rl_last_error());
        rlt_end();
        return;
    }
    if (rl_model_load(&s, dir, 1) != RL_OK) {
        RLT_CHECK(0, "load %s: %s", dir, rl_last_error());
        rl_st_close(&ref);
        rlt_end();
        return;
    }
    RLT_CHECK(rl_st_read_i32(&ref, "ids", win, 2, ids_shape) == RL_OK, "ids: %s", rl_last_error());
    RLT_CHECK(s.student.kind == (kind[4] == '7' ? RL_MIXER_RWKV7 : RL_MIXER_RWKV6), "student kind from config.json");
    rl_ctx_init(&c, pool);
    loss = rl__stage_loss(&c, &s, teacher, stage, win, B, T, x, y, NULL, 0);
    RLT_CHECK(loss && c.err == RL_OK, "stage %d loss: %s", stage, rl_last_error());
    memset(&k, 0, sizeof k);
    k.ref = &ref;
    k.orig = s.weights;
    k.stage = stage;
    if (loss && rl_backward(&c, loss) == RL_OK) {
        char nm[32];
        double l = rl_f32(loss)[0];
        snprintf(nm, sizeof nm, "s%d.loss", stage);
        rl_st_read_f32(&ref, nm, &ref_loss, 0, NULL);
        snprintf(nm, sizeof nm, "s%d.grad_norm", stage);
        rl_st_read_f32(&ref, nm, &ref_gn, 0, NULL);
        /* (explicit checks: the values go into the message) */
        RLT_CHECK(fabs(l - ref_loss) <= 1e-5 * fabs((double)ref_loss), "loss %.9g vs %.9g", l, (double)ref_loss);
        rl_model_params(&s, cmp_gnorm, &k);
        RLT_CHECK(rl_adamw_init(&o, &s, stage == 1 ? RL_TRAIN_MIXERS : RL_TRAIN_ALL) == RL_OK, "adamw: %s", rl_last_error());
        gn = rl_adamw_step(&o, LR, LR);
        RLT_CHECK(fabs(gn - ref_gn) <= G_RTOL * fabs((double)ref_gn), "gradient norm before clipping %.9g vs %.9g", gn, (double)ref_gn);
        k.clip_scale = gn > o.clip ? o.clip / (gn + 1e-6) : 1.0;
        rl_model_params(&s, cmp_param, &k);
        RLT_CHECK(k.n == ref_params(&ref, stage), "compared %d trained tensors, the reference has %d", k.n, ref_params(&ref, stage));
        RLT_CHECK(k.n == o.n, "%d tensors compared, the optimizer holds %d", k.n, o.n);
        RLT_CHECK(stage == 2 ? k.n_frozen == 0 : k.n_frozen > 0, "stage %d: %d frozen tensors", stage, k.n_frozen);
        printf("  info: %s step %d: loss %.7f (ref %.7f, rel %.1e), grad norm %.6f (ref %.6f, rel %.1e, clip x%.4f), "
               "tensor grad norms max rel %.1e; %d tensors, %ld weights: max |w - ref| %.1e (where |g| >= 1e-4: %.1e); ",
               kind, stage, l, (double)ref_loss, fabs(l - ref_loss) / fabs((double)ref_loss), gn, (double)ref_gn,
               fabs(gn - ref_gn) / (double)ref_gn, k.clip_scale, k.max_gnorm_rel, k.n, k.n_values, k.max_abs_plain, k.max_abs_big);
        if (k.n_band)
            printf("%ld weights outside 1e-6 + 1e-5|ref|, all with |g| <= %.1e (max |w - ref| %.1e); ", k.n_band, k.max_g_band, k.max_abs);
        else
            printf("all within 1e-6 + 1e-5|ref|; ");
        printf("worst error / widened tolerance %.3f at %s\n", k.max_ratio, k.worst);
        rl_adamw_free(&o);
    } else {
        RLT_CHECK(0, "backward: %s", rl_last_error());
    }
    for (i = 0; i < k.ng; i++) free(k.g[i]);
    rl_ctx_free(&c);
    rl_model_free(&s);
    rl_st_close(&ref);
    rlt_end();
}

int main(void) {
    rl_model teacher;
    static const char *const kinds[] = {"rwkv7", "rwkv6"};
    int i, stage;
    pool = rl_pool_create(2);
    if (rl_model_load(&teacher, "tests/fixtures/tiny-qwen2", 0) != RL_OK) {
        rlt_begin("train parity: load the tiny-qwen2 teacher");
        RLT_CHECK(0, "%s", rl_last_error());
        rlt_end();
        rl_pool_free(pool);
        return rlt_exit();
    }
    for (i = 0; i < 2; i++)
        for (stage = 1; stage <= 2; stage++) run(&teacher, kinds[i], stage); /* each stage reloads the student */
    rl_model_free(&teacher);
    rl_pool_free(pool);
    return rlt_exit();
}
