/* test_cuda_train - what runs around the ops, with the models on the device (issue 10): the
   training loop, its checkpoints and resumption, evaluation, saving and decoding, each
   against the same thing on the host, on the tiny teacher (examples/tiny-teacher) and
   students made from it.
   - rl_train_stage with student and teacher moved by rl_model_to: stage 1 (whole and one
     layer at a time), stage 2, stage 3 with the state carried across chunks, for RAD-RWKV7
     (test_cuda_ops compares one step of each stage for RAD-RWKV6 and a hybrid too); stage 2's
     KL in vocabulary chunks on the device (rl_kl_head), whole on the host: the loss and gradient norm of every step
     within 1e-5 relative of the host's, the weights after the run within 1e-5 relative +
     2·lr per step (Adam moves a weight by about lr·sign(g); where g is ~0 the sign may
     differ), the model saved from the device (rl_model_save) = the weights brought back.
   - A run stopped after one step (max_steps) and resumed from its checkpoint on the device
     ends where the uninterrupted device run ends (1e-6 relative under the emulation, which
     is deterministic; on a GPU, whose embedding backward adds with atomics in any order,
     1e-5 + 2·lr per step), and so does the same checkpoint resumed on the host (1e-5 + 2·lr).
   - rl_eval_ppl and rl_eval_compare on the device = on the host (1e-5 relative; top-1 equal).
   - Decoding (rl_state on the device, rl_model_step): prefill then single tokens for the
     teacher (attention over its cache) and RAD-RWKV6/7 students (recurrent state), one
     sequence and three together (rl_state_init_batch): every step's logits within 1e-4 of
     the largest of the host's.
   - A stage refuses a teacher and a student in two places.
   Prints SKIP when no device is usable. Build: make -f tools/cuda.mk cuda or cuda-emu. */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#define RADLADS_CUDA
#include "../../radlads.h"
#include "../rl_test.h"

#define CTX 8        /* tokens per window */
#define BATCH 2      /* windows per step, one per micro-batch */
#define STEPS 2      /* steps per run (per layer when layer by layer) */
#define LR 1e-5

static rl_model teacher;
static rl_tokens data;
static char ckpt[512], ckpt2[512], saved[512]; /* scratch files (rlt_tmp) */

typedef struct { double loss[64], norm[64]; int n; } trace;
static void on_step(void *u, const rl_progress *p) {
    trace *t = (trace *)u;
    if (t->n < 64) {
        t->loss[t->n] = p->loss;
        t->norm[t->n++] = p->grad_norm;
    }
}

typedef struct { float *buf; int64_t n, cap; } snap;
static void snap_fn(void *u, const char *name, rl_tensor *t) {
    snap *sn = (snap *)u;
    (void)name;
    if (t->dtype != RL_F32) return;
    if (sn->n + t->n > sn->cap) {
        sn->cap = 2 * (sn->n + t->n);
        sn->buf = (float *)realloc(sn->buf, sizeof(float) * (size_t)sn->cap);
    }
    if (t->dev) t->dev->ops->copy(sn->buf + sn->n, t->data, sizeof(float) * (size_t)t->n, 2);
    else memcpy(sn->buf + sn->n, t->data, sizeof(float) * (size_t)t->n);
    sn->n += t->n;
}
static snap take(rl_model *m) {
    snap sn;
    memset(&sn, 0, sizeof sn);
    rl_model_params(m, snap_fn, &sn);
    return sn;
}

typedef struct {
    int kind, stage, layerwise;
    int max_steps, resume;       /* a run stopped after max_steps; one resumed from the checkpoint */
    const char *save;            /* rl_model_save the student (from where it was trained) here */
    const char *ckpt;            /* the checkpoint (default: ckpt) */
    int64_t dev_kl_chunk;        /* on the device, stage 2's vocabulary chunks (the host: whole) */
} run_cfg;

/* one run of rl_train_stage on dev (NULL: the host), from the same student each time */
static int run(const run_cfg *k, rl_device *dev, trace *tr, snap *after) {
    rl_student_opts so;
    rl_stage_opts o;
    rl_model st;
    rl_ctx c;
    rl_status s = RL_ERR_STATE;
    rl_student_opts_default(&so, (rl_mixer_kind)k->kind);
    if (rl_student_from_teacher(&st, &teacher, &so) != RL_OK) return 0;
    rl_stage_opts_default(&o, k->stage);
    o.ctx = CTX;
    o.batch = BATCH;
    o.micro_batch = 1;
    o.tokens = STEPS * BATCH * CTX;
    o.lr.lr_init = o.lr.lr_final = LR;
    o.lr.warmup_steps = 0;
    o.heldout = 0.1;
    o.layerwise = k->layerwise;
    o.chunk = CTX / 2; /* stage 3: the state carried across two chunks of each window */
    o.checkpoint = k->ckpt ? k->ckpt : ckpt;
    o.max_steps = k->max_steps;
    o.kl_chunk = dev ? k->dev_kl_chunk : -1;
    o.resume = k->resume;
    o.progress = on_step;
    o.user = tr;
    memset(tr, 0, sizeof *tr);
    rl_ctx_init(&c, NULL);
    if ((!dev || (rl_model_to(&st, dev) == RL_OK && rl_model_to(&teacher, dev) == RL_OK)) &&
        (s = rl_train_stage(&c, &st, &teacher, &data, &o)) == RL_OK && k->save)
        s = rl_model_save(&st, k->save, NULL);
    if (s != RL_OK) fprintf(stderr, "test_cuda_train: stage %d on %s: %s\n", k->stage, rl_device_name(dev), rl_last_error());
    rl_ctx_free(&c);
    if (rl_model_to(&st, NULL) != RL_OK || rl_model_to(&teacher, NULL) != RL_OK) s = RL_ERR_STATE;
    *after = take(&st);
    rl_model_free(&st);
    return s == RL_OK;
}

static const char *name_of(const run_cfg *k) {
    static char b[96];
    snprintf(b, sizeof b, "RWKV%d stage %d%s", k->kind, k->stage, k->layerwise ? " layerwise" : "");
    return b;
}

/* the host run and the device run of k agree; the device's saved student is its weights */
static void train_case(rl_device *dev, run_cfg k) {
    trace t0, t1;
    snap a0, a1, sv;
    rl_model back;
    int i, steps = STEPS * (k.layerwise ? (int)teacher.cfg.n_layers : 1);
    int ok0 = run(&k, NULL, &t0, &a0);
    k.save = saved;
    if (!ok0 || !run(&k, dev, &t1, &a1)) {
        RLT_CHECK(0, "%s: %s", name_of(&k), rl_last_error());
    } else {
        RLT_CHECK(t0.n == steps && t1.n == steps && a0.n == a1.n, "%s: %d/%d steps of %d, %lld/%lld weights", name_of(&k), t0.n, t1.n, steps,
                  (long long)a0.n, (long long)a1.n);
        for (i = 0; i < t0.n && i < t1.n; i++) {
            RLT_CLOSE(t1.loss[i], t0.loss[i], 0, 1e-5, "%s step %d: loss", name_of(&k), i + 1);
            RLT_CLOSE(t1.norm[i], t0.norm[i], 0, 1e-5, "%s step %d: gradient norm", name_of(&k), i + 1);
        }
        if (a0.n == a1.n) {
            double w = rlt_worst(a1.buf, a0.buf, (long)a0.n, 2.01 * LR * STEPS, 1e-5, NULL);
            RLT_CHECK(w <= 1, "%s: a weight after the run differs by %.3g times 1e-5 relative + 2 lr per step", name_of(&k), w);
        }
        if (rl_model_load(&back, saved, 0) != RL_OK) {
            RLT_CHECK(0, "%s: the model saved from %s: %s", name_of(&k), rl_device_name(dev), rl_last_error());
        } else {
            sv = take(&back);
            RLT_CHECK(sv.n == a1.n && !memcmp(sv.buf, a1.buf, sizeof(float) * (size_t)sv.n), "%s: the model saved from %s = its weights",
                      name_of(&k), rl_device_name(dev));
            free(sv.buf);
            rl_model_free(&back);
        }
        if (getenv("RLT_VERBOSE"))
            fprintf(stderr, "  %s: last loss %.7g / %.7g, norm %.7g / %.7g\n", name_of(&k), t0.loss[t0.n - 1], t1.loss[t1.n - 1],
                    t0.norm[t0.n - 1], t1.norm[t1.n - 1]);
    }
    free(a0.buf);
    free(a1.buf);
}

/* stopped after one step and resumed on the device, or on the host, = the whole device run */
static void resume_case(rl_device *dev, run_cfg k) {
    trace t, tr;
    snap whole, part, res, host;
    size_t n = 0;
    void *file;
    FILE *f;
    int ok = run(&k, dev, &t, &whole);
    memset(&part, 0, sizeof part);
    res = host = part;
    k.max_steps = 1;
    ok = ok && run(&k, dev, &tr, &part);
    free(part.buf);
    if (ok && (file = rlt_read_all(ckpt, &n)) != NULL) { /* a copy for the host to resume from */
        ok = (f = fopen(ckpt2, "wb")) != NULL && fwrite(file, 1, n, f) == n;
        if (f) fclose(f);
        free(file);
    }
    k.max_steps = 0;
    k.resume = 1;
    ok = ok && n && run(&k, dev, &tr, &res) && tr.n == STEPS - 1;
    if (ok) RLT_CLOSE(tr.loss[tr.n - 1], t.loss[t.n - 1], 0, 1e-6, "%s: last loss of the resumed run on %s", name_of(&k), rl_device_name(dev));
    k.ckpt = ckpt2;
    ok = ok && run(&k, NULL, &tr, &host);
    if (!ok || res.n != whole.n || host.n != whole.n) {
        RLT_CHECK(0, "%s: resume: %s", name_of(&k), rl_last_error());
    } else {
        /* the emulation is deterministic; a GPU's embedding backward adds with atomics, in any order */
        const char *what;
        size_t fr, tot;
        int emulated = rl_device_info(dev, &what, &fr, &tot) == RL_OK && strstr(what, "emulation") != NULL;
        double w = rlt_worst(res.buf, whole.buf, (long)whole.n, emulated ? 0 : 2.01 * LR * STEPS, emulated ? 1e-6 : 1e-5, NULL);
        RLT_CHECK(w <= 1, "%s: stopped and resumed on %s = the whole run (%.3g times the tolerance)", name_of(&k), rl_device_name(dev), w);
        w = rlt_worst(host.buf, whole.buf, (long)whole.n, 2.01 * LR * STEPS, 1e-5, NULL);
        RLT_CHECK(w <= 1, "%s: a checkpoint of %s resumed on the host = the whole run (%.3g)", name_of(&k), rl_device_name(dev), w);
    }
    free(whole.buf);
    free(res.buf);
    free(host.buf);
}

static void eval_case(rl_device *dev) {
    rl_student_opts so;
    rl_model st;
    rl_loader L;
    rl_ctx c;
    double nll[2] = {0, 0}, kl[2] = {0, 0}, top1[2] = {0, 0};
    int p;
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&st, &teacher, &so) != RL_OK || rl_loader_init(&L, &data, 2 * CTX, 0.1) != RL_OK) {
        RLT_CHECK(0, "eval: %s", rl_last_error());
        return;
    }
    for (p = 0; p < 2; p++) {
        rl_device *d = p ? dev : NULL;
        rl_ctx_init(&c, NULL);
        if (rl_model_to(&st, d) != RL_OK || rl_model_to(&teacher, d) != RL_OK || rl_eval_ppl(&c, &st, &L, 4, &nll[p]) != RL_OK ||
            rl_eval_compare(&c, &st, &teacher, &L, 4, &kl[p], &top1[p]) != RL_OK)
            RLT_CHECK(0, "eval on %s: %s", rl_device_name(d), rl_last_error());
        rl_ctx_free(&c);
        rl_model_to(&st, NULL);
        rl_model_to(&teacher, NULL);
    }
    RLT_CLOSE(nll[1], nll[0], 0, 1e-5, "eval: held-out loss");
    RLT_CLOSE(kl[1], kl[0], 0, 1e-5, "eval: KL to the teacher");
    RLT_CHECK(top1[1] == top1[0], "eval: top-1 agreement %g on the device, %g on the host", top1[1], top1[0]);
    rl_model_free(&st);
}

/* B sequences decoded together: prefill 5 tokens each, then 4 single ones; the logits of
   every step [5][B][V] */
static int decode(rl_model *m, rl_device *dev, int64_t B, float *out) {
    rl_state s;
    rl_ctx c;
    int32_t ids[4 * 5];
    int i, ok = 0;
    int64_t V = m->cfg.vocab_size, b;
    if (rl_model_to(m, dev) != RL_OK) return 0;
    rl_ctx_init(&c, NULL);
    if (rl_state_init_batch(&s, m, 16, B) == RL_OK) {
        for (b = 0; b < B; b++)
            for (i = 0; i < 5; i++) ids[b * 5 + i] = data.ids[100 + 20 * b + i];
        ok = s.dev == dev && rl_model_step(&c, m, &s, ids, 5, out) == RL_OK;
        for (i = 5; i < 9 && ok; i++) {
            for (b = 0; b < B; b++) ids[b] = data.ids[100 + 20 * b + i];
            ok = rl_model_step(&c, m, &s, ids, 1, out + (i - 4) * B * V) == RL_OK;
        }
        rl_state_free(&s);
    }
    rl_ctx_free(&c);
    return rl_model_to(m, NULL) == RL_OK && ok;
}
static void decode_case(rl_device *dev, int kind, int64_t B) {
    rl_student_opts so;
    rl_model st, *m = &teacher;
    int64_t n = 5 * B * teacher.cfg.vocab_size;
    float *l0 = (float *)malloc(sizeof(float) * (size_t)n), *l1 = (float *)malloc(sizeof(float) * (size_t)n);
    const char *what = kind == 6 ? "RAD-RWKV6 student" : kind == 7 ? "RAD-RWKV7 student" : "teacher";
    if (kind) {
        rl_student_opts_default(&so, (rl_mixer_kind)kind);
        m = rl_student_from_teacher(&st, &teacher, &so) == RL_OK ? &st : NULL;
    }
    if (!m || !decode(m, NULL, B, l0) || !decode(m, dev, B, l1)) {
        RLT_CHECK(0, "decode, %s, %lld sequences: %s", what, (long long)B, rl_last_error());
    } else {
        double mx = 0, w;
        int64_t i;
        for (i = 0; i < n; i++) mx = fabs(l0[i]) > mx ? fabs(l0[i]) : mx;
        w = rlt_worst(l1, l0, (long)n, 1e-4 * mx, 0, NULL);
        RLT_CHECK(w <= 1, "decode, %s, %lld sequences: logits of prefill and 4 steps on %s differ by %.3g of the largest %.3g", what,
                  (long long)B, rl_device_name(dev), w * 1e-4, mx);
    }
    if (kind && m) rl_model_free(&st);
    free(l0);
    free(l1);
}

typedef struct { void *keep[256]; int n; } f16_ctx;
static void f16_fn(void *u, const char *name, rl_tensor *t) { /* a matrix stored F16 instead (the old data stay where they were) */
    f16_ctx *f = (f16_ctx *)u;
    uint16_t *h;
    float *w;
    int64_t i;
    (void)name;
    if (t->ndim != 2 || f->n == 256 || !(h = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)t->n))) return;
    if (!(w = (float *)malloc(sizeof(float) * (size_t)t->n)) || rl__param_f32(t, w, t->n) != RL_OK) {
        free(h);
        free(w);
        return;
    }
    for (i = 0; i < t->n; i++) h[i] = rl_f32_to_f16(w[i]);
    free(w);
    t->data = h;
    t->dtype = RL_F16;
    f->keep[f->n++] = h;
}

int main(void) {
    rl_device *dev;
    rl_rng rng;
    int64_t i;
    run_cfg k;
    if (!(dev = rl_device_cuda())) {
        rlt_skip("cuda train (the training loop, evaluation and decoding on the device)", rl_last_error());
        return 0;
    }
    if (rl_model_load(&teacher, "examples/tiny-teacher", 0) != RL_OK) {
        fprintf(stderr, "test_cuda_train: %s\n", rl_last_error());
        return 1;
    }
    snprintf(ckpt, sizeof ckpt, "%s", rlt_tmp("cuda-train.ckpt"));
    snprintf(ckpt2, sizeof ckpt2, "%s", rlt_tmp("cuda-train.ckpt2"));
    snprintf(saved, sizeof saved, "%s", rlt_tmp("cuda-train.saved"));
    data.n = 4000;
    data.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)data.n);
    rl_rng_seed(&rng, 11);
    for (i = 0; i < data.n; i++) data.ids[i] = (int32_t)(rl_rng_u64(&rng) % (uint64_t)teacher.cfg.vocab_size);

    rlt_begin("cuda train: rl_train_stage on the device = on the host (RAD-RWKV7 stages 1, 1 layerwise, 2, 3 carried); saved from the device");
    memset(&k, 0, sizeof k);
    k.kind = 7;
    k.dev_kl_chunk = 1000; /* stage 2: the vocabulary of 3072 in 4 chunks on the device, whole on the host */
    for (k.stage = 1; k.stage <= 3; k.stage++) train_case(dev, k);
    k.stage = 1;
    k.layerwise = 1;
    train_case(dev, k);
    rlt_end();

    rlt_begin("cuda train: a run stopped and resumed from its checkpoint on the device, or on the host, = the whole run");
    memset(&k, 0, sizeof k);
    k.kind = 7;
    k.stage = 2;
    resume_case(dev, k);
    rlt_end();

    rlt_begin("cuda train: evaluation (held-out loss, KL, top-1) and decoding (teacher, RAD-RWKV6, RAD-RWKV7; 1 and 3 sequences) on the device = on the host");
    eval_case(dev);
    decode_case(dev, 0, 1);
    decode_case(dev, 6, 1);
    decode_case(dev, 7, 1);
    decode_case(dev, 0, 3);
    decode_case(dev, 7, 3);
    rlt_end();

    rlt_begin("cuda train: a teacher with frozen F16 matrices (as a GGUF teacher's stay) moves as their F32 values; decodes as on the host");
    {
        rl_model tf;
        f16_ctx f;
        int64_t n = 5 * teacher.cfg.vocab_size;
        float *l0 = (float *)malloc(sizeof(float) * (size_t)n), *l1 = (float *)malloc(sizeof(float) * (size_t)n);
        memset(&f, 0, sizeof f);
        if (rl_model_load(&tf, "examples/tiny-teacher", 0) == RL_OK) {
            rl_model_params(&tf, f16_fn, &f);
            rl__tie_head(&tf);
            RLT_CHECK(f.n >= 10 && tf.embed.dtype == RL_F16, "%d matrices made F16", f.n);
            if (decode(&tf, NULL, 1, l0) && decode(&tf, dev, 1, l1)) {
                double mx = 0, w;
                int64_t i;
                for (i = 0; i < n; i++) mx = fabs(l0[i]) > mx ? fabs(l0[i]) : mx;
                w = rlt_worst(l1, l0, (long)n, 1e-4 * mx, 0, NULL);
                RLT_CHECK(w <= 1, "logits differ by %.3g of the largest %.3g", w * 1e-4, mx);
                RLT_CHECK(tf.embed.dtype == RL_F16 && tf.blocks[0].up.dtype == RL_F16 && tf.blocks[0].up.dev == NULL, "back on the host: its F16 views");
            } else {
                RLT_CHECK(0, "decode: %s", rl_last_error());
            }
            rl_model_free(&tf);
        }
        while (f.n > 0) free(f.keep[--f.n]);
        free(l0);
        free(l1);
    }
    rlt_end();

    rlt_begin("cuda train: a stage refuses a student and a teacher in two places");
    {
        rl_model st;
        rl_stage_opts o;
        rl_ctx c;
        rl_stage_opts_default(&o, 2);
        rl_ctx_init(&c, NULL);
        if (rl_student_from_teacher(&st, &teacher, NULL) == RL_OK) {
            RLT_CHECK(rl_model_to(&st, dev) == RL_OK && rl_train_stage(&c, &st, &teacher, &data, &o) == RL_ERR_ARG &&
                          strstr(rl_last_error(), "move both with rl_model_to"),
                      "a student on the device and a teacher on the host: %s", rl_last_error());
            rl_model_free(&st);
        }
        rl_ctx_free(&c);
    }
    rlt_end();

    { /* the emulation's RL_EMU_FAIL_KERNEL makes the optimizer's kernel fail */
        const char *what;
        size_t fr, tot;
        trace tr;
        snap after;
        int ok;
        if (rl_device_info(dev, &what, &fr, &tot) != RL_OK || !strstr(what, "emulation")) {
            rlt_skip("cuda train: a failed optimizer update", "a GPU (the emulation's RL_EMU_FAIL_KERNEL makes it fail)");
        } else {
            rlt_begin("cuda train: an optimizer update that fails on the device stops the run with the device's error, no checkpoint written");
            memset(&k, 0, sizeof k);
            k.kind = 7;
            k.stage = 1;
            k.max_steps = 1;
            remove(ckpt);
            setenv("RL_EMU_FAIL_KERNEL", "rl__k_adamw", 1);
            ok = run(&k, dev, &tr, &after);
            unsetenv("RL_EMU_FAIL_KERNEL");
            RLT_CHECK(!ok && strstr(rl_last_error(), "step 1") && strstr(rl_last_error(), "rl_cuda_adamw") && tr.n == 0,
                      "the run: %s (%d steps reported)", ok ? "succeeded" : rl_last_error(), tr.n);
            RLT_CHECK(access(ckpt, F_OK) != 0, "no checkpoint of the failed step");
            free(after.buf);
            rlt_end();
        }
    }
    free(data.ids);
    rl_model_free(&teacher);
    remove(ckpt);
    remove(ckpt2);
    {
        char f[600];
        snprintf(f, sizeof f, "%s/model.safetensors", saved);
        remove(f);
        snprintf(f, sizeof f, "%s/config.json", saved);
        remove(f);
        remove(saved);
    }
    return rlt_exit();
}
