/* Distillation (section 6): schedules, data order, data files, the three stages on the
   tiny Qwen2 fixture teacher (losses must fall by stated factors), and an exact resume. */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"

static rl_pool *pool;

typedef struct { double first, last, at[64]; int n; } losses_t;
static void on_progress(void *u, const rl_progress *p) {
    losses_t *l = (losses_t *)u;
    if (!l->n++) l->first = p->loss;
    l->last = p->loss;
    if (p->step < 64) l->at[p->step] = p->loss;
}

/* tokens sampled from the teacher itself, so the student has something to learn */
static void teacher_text(rl_model *t, rl_tokens *out, int64_t n) {
    rl_ctx c;
    rl_state s;
    rl_rng g;
    rl_sampler smp;
    float *lg = (float *)malloc(sizeof(float) * (size_t)t->cfg.vocab_size);
    int64_t i;
    int32_t tok = 1;
    rl_ctx_init(&c, pool);
    rl_rng_seed(&g, 5);
    smp.temperature = 1.0f;
    smp.top_k = 0;
    smp.top_p = 1.0f;
    out->ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)n);
    out->n = n;
    rl_state_init(&s, t, 64);
    for (i = 0; i < n; i++) {
        if (s.pos == 64) rl_state_reset(&s);
        rl_model_step(&c, t, &s, &tok, 1, lg);
        tok = rl_sample(lg, t->cfg.vocab_size, &smp, &g);
        out->ids[i] = tok;
    }
    rl_state_free(&s);
    rl_ctx_free(&c);
    free(lg);
}

/* issue 14: a progress callback that poisons (and maybe heals) the student's final norm */
typedef struct { rl_model *m; int64_t poison_at, heal_at; int64_t last_nonfinite, calls; } poison_t;
static void on_progress_poison(void *u, const rl_progress *p) {
    poison_t *z = (poison_t *)u;
    z->calls++;
    z->last_nonfinite = p->nonfinite;
    if (p->step == z->poison_at) rl_f32(&z->m->norm)[0] = NAN;
    if (p->step == z->heal_at) rl_f32(&z->m->norm)[0] = 1.0f;
}
/* rewrite a checkpoint with one metadata value replaced */
static int set_meta(const char *path, const char *key, const char *val) {
    rl_st st;
    rl_st_entry *e;
    const char *meta[80];
    char keys[40][64], vals[40][200];
    int i, n, nm = 0, rc;
    if (rl_st_open(&st, path) != RL_OK) return -1;
    n = rl_st_count(&st);
    e = (rl_st_entry *)calloc((size_t)n, sizeof *e);
    for (i = 0; i < n; i++) {
        const rl_st_tensor *t = rl_st_at(&st, i);
        e[i].name = t->name;
        e[i].dtype = t->dtype;
        e[i].ndim = t->ndim;
        memcpy(e[i].shape, t->shape, sizeof t->shape);
        e[i].data = t->data;
    }
    for (i = 0; i < st.n_meta && nm < 39; i++) {
        const char *k = st.meta_keys[i], *v = st.meta_vals[i];
        snprintf(keys[nm], sizeof keys[0], "%s", k);
        snprintf(vals[nm], sizeof vals[0], "%s", strcmp(k, key) ? v : val);
        meta[2 * nm] = keys[nm];
        meta[2 * nm + 1] = vals[nm];
        nm++;
    }
    meta[2 * nm] = NULL;
    rc = rl_st_write(rlt_tmp("rl_test_meta.safetensors"), e, n, meta, 0) == RL_OK ? 0 : -1;
    rl_st_close(&st);
    free(e);
    return rc == 0 ? rlt_rename(rlt_tmp("rl_test_meta.safetensors"), path) : rc;
}

static int same_weights_fn_state;
static void cmp_fn(void *u, const char *name, rl_tensor *t) {
    rl_model *o = (rl_model *)u;
    (void)name;
    (void)o;
    (void)t;
}

int main(void) {
    rl_model teacher;
    rl_tokens data;
    pool = rl_pool_create(2);
    (void)cmp_fn;
    (void)same_weights_fn_state;

    rlt_begin("train lr schedule (spec 3.5)");
    {
        rl_lr_sched s;
        double a, b;
        memset(&s, 0, sizeof s);
        s.lr_init = 1e-3; s.lr_final = 1e-5; s.lr2_init = s.lr2_final = -1; s.wait = 0; s.endpoint = 1; s.cosine = 1;
        s.warmup_steps = 50; s.tokens_per_step = 100; s.exit_tokens = 1050 * 100;
        rl_lr_at(&s, 0, &a, &b);
        RLT_CLOSE(a, 1e-3 * 0.01, 1e-12, 1e-9, "warm-up starts at 1%%");
        rl_lr_at(&s, 25, &a, &b);
        RLT_CLOSE(a, 1e-3 * (0.01 + 0.99 * 0.5), 1e-12, 1e-9, "half-way through warm-up");
        rl_lr_at(&s, 50, &a, &b);
        RLT_CLOSE(a, 1e-3, 1e-12, 1e-9, "peak after warm-up");
        rl_lr_at(&s, 550, &a, &b);
        RLT_CLOSE(a, 1e-5 + (1e-3 - 1e-5) * cos(3.14159265358979 / 4), 1e-12, 1e-9, "quarter cosine at half the tokens");
        rl_lr_at(&s, 1050, &a, &b);
        RLT_CLOSE(a, 1e-5, 1e-12, 1e-9, "final");
        RLT_CLOSE(b, a, 0, 0, "mixer group follows the main one by default");
        /* step 2a: mixers 1e-4 held until 83.3%, cosine to 7e-6 by 87.5% */
        s.lr_init = s.lr_final = 7e-6; s.lr2_init = 1e-4; s.lr2_final = 7e-6; s.wait = 0.833; s.endpoint = 0.875;
        rl_lr_at(&s, 50 + 800, &a, &b);
        RLT_CLOSE(b, 1e-4, 1e-12, 1e-9, "2a: mixer LR held at 80%%");
        RLT_CLOSE(a, 7e-6, 1e-12, 1e-9, "2a: main LR flat");
        rl_lr_at(&s, 50 + 900, &a, &b);
        RLT_CLOSE(b, 7e-6, 1e-12, 1e-9, "2a: mixer LR final after 87.5%%");
    }
    rlt_end();

    rlt_begin("train data order (magic prime) and token files");
    {
        rl_tokens t;
        rl_loader L;
        int64_t i;
        unsigned char *seen;
        int distinct = 1;
        t.n = 100001;
        t.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)t.n);
        for (i = 0; i < t.n; i++) t.ids[i] = (int32_t)i;
        RLT_CHECK(rl_loader_init(&L, &t, 100, 0.1) == RL_OK, "loader");
        RLT_CHECK(L.n_train == 900 && L.n_heldout == 100, "split %lld/%lld", (long long)L.n_train, (long long)L.n_heldout);
        RLT_CHECK(L.p % 3 == 2 && L.p <= 900 && L.p > 800, "prime %llu", (unsigned long long)L.p);
        seen = (unsigned char *)calloc((size_t)L.p, 1);
        for (i = 0; i < (int64_t)L.p; i++) {
            int64_t slot = (rl_loader_train(&L, (uint64_t)i)[0]) / 100;
            distinct &= slot < (int64_t)L.p && !seen[slot];
            seen[slot] = 1;
        }
        RLT_CHECK(distinct, "p samples visit p distinct training slots");
        RLT_CHECK(rl_loader_heldout(&L, 0)[0] == 90000, "held-out windows follow the training ones");
        free(seen);
        /* binidx and llm.c files */
        {
            FILE *f = fopen(rlt_tmp("rl_test_tok.idx"), "wb");
            unsigned char hdr[34] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8};
            uint16_t u16[5] = {7, 65535, 0, 3, 12};
            rl_tokens r;
            fwrite(hdr, 1, sizeof hdr, f);
            fclose(f);
            f = fopen(rlt_tmp("rl_test_tok.bin"), "wb");
            fwrite(u16, 2, 5, f);
            fclose(f);
            RLT_CHECK(rl_tokens_load_binidx(&r, rlt_tmp("rl_test_tok")) == RL_OK && r.n == 5 && r.ids[1] == 65535 && r.ids[4] == 12, "binidx uint16: %s", rl_last_error());
            rl_tokens_free(&r);
            f = fopen(rlt_tmp("rl_test_tok.idx"), "wb");
            fwrite("NOTANIDX0123456789", 1, 18, f);
            fclose(f);
            RLT_CHECK(rl_tokens_load_binidx(&r, rlt_tmp("rl_test_tok")) == RL_ERR_FORMAT && strstr(rl_last_error(), "rl_test_tok.idx"), "bad magic: %s", rl_last_error());
            remove(rlt_tmp("rl_test_tok.idx"));
            remove(rlt_tmp("rl_test_tok.bin"));
        }
        {
            FILE *f = fopen(rlt_tmp("rl_test.llmc"), "wb");
            int32_t h[256] = {20240520, 1, 3};
            uint16_t v[3] = {5, 6, 50000};
            rl_tokens r;
            fwrite(h, 4, 256, f);
            fwrite(v, 2, 3, f);
            fclose(f);
            RLT_CHECK(rl_tokens_load_llmc(&r, rlt_tmp("rl_test.llmc")) == RL_OK && r.n == 3 && r.ids[2] == 50000, "llm.c file: %s", rl_last_error());
            rl_tokens_free(&r);
            remove(rlt_tmp("rl_test.llmc"));
        }
        free(t.ids);
    }
    rlt_end();

    if (rl_model_load(&teacher, "tests/fixtures/tiny-qwen2", 0) != RL_OK) {
        printf("FAIL train: cannot load the fixture teacher: %s\n", rl_last_error());
        return 1;
    }
    teacher_text(&teacher, &data, 6000);

    /* mixed precision (rl_ctx.bf16_dot = 2): the same stage 1 + stage 2 run with every product on
       the bf16 kernels follows the fp32 run; bf16 inputs (relative rounding 2^-9 per operand)
       move each loss by ~1e-3 of itself at first, and the trajectories drift slowly apart */
    if (!rl_bf16_dot_available()) {
        rlt_skip("train mixed precision (bf16_dot 2) follows fp32", "no AVX512-BF16 on this CPU (or another ISA forced)");
    } else {
        rl_model s32, s16;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        losses_t a32, a16, b32, b16;
        int stage, i;
        double worst[3] = {0, 0, 0};
        rlt_begin("train mixed precision (bf16_dot 2) follows fp32: stage 1 and 2 losses");
        rl_ctx_init(&c, pool);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        RLT_CHECK(rl_student_from_teacher(&s32, &teacher, &so) == RL_OK && rl_student_from_teacher(&s16, &teacher, &so) == RL_OK,
                  "students: %s", rl_last_error());
        for (stage = 1; stage <= 2; stage++) {
            losses_t *l32 = stage == 1 ? &a32 : &b32, *l16 = stage == 1 ? &a16 : &b16;
            rl_stage_opts_default(&o, stage);
            o.ctx = 32; o.batch = 4; o.tokens = 20 * 4 * 32; o.lr.warmup_steps = 5;
            o.lr.lr_init = stage == 1 ? 3e-3 : 1e-3; o.lr.lr_final = stage == 1 ? 3e-4 : 1e-3;
            o.progress = on_progress;
            memset(l32, 0, sizeof *l32);
            memset(l16, 0, sizeof *l16);
            o.user = l32;
            c.bf16_dot = 0;
            RLT_CHECK(rl_train_stage(&c, &s32, &teacher, &data, &o) == RL_OK, "fp32 stage %d: %s", stage, rl_last_error());
            o.user = l16;
            c.bf16_dot = 2;
            RLT_CHECK(rl_train_stage(&c, &s16, &teacher, &data, &o) == RL_OK, "bf16 stage %d: %s", stage, rl_last_error());
            for (i = 1; i <= 20 && i < 64; i++) {
                double r = fabs(l16->at[i] - l32->at[i]) / l32->at[i];
                if (i == 1 && r > worst[0]) worst[0] = r;
                if (r > worst[stage]) worst[stage] = r;
            }
        }
        c.bf16_dot = 0;
        printf("  info: bf16_dot 2 vs fp32: first-step loss rel. diff %.2e; worst over 20 steps: stage 1 %.2e, stage 2 %.2e; "
               "last losses %.4f / %.4f, %.4f / %.4f\n", worst[0], worst[1], worst[2], a16.last, a32.last, b16.last, b32.last);
        RLT_CHECK(worst[0] > 0, "the bf16 run gave the fp32 losses exactly: did it run on the bf16 kernels?");
        RLT_CHECK(worst[0] < 2e-3, "first-step loss differs by %.2e of itself (bound 2e-3)", worst[0]);
        RLT_CHECK(worst[1] < 1e-2 && worst[2] < 1e-2, "losses over 20 steps differ by up to %.2e / %.2e (bound 1e-2)", worst[1], worst[2]);
        rl_model_free(&s32);
        rl_model_free(&s16);
        rl_ctx_free(&c);
        rlt_end();
    }

    rlt_begin("train stages 1 and 2 on the tiny teacher: losses fall");
    {
        rl_model st;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        losses_t l1, l2;
        double nll_t, nll_s0, nll_s2, kl0, kl2, top0, top2;
        rl_loader L;
        rl_ctx_init(&c, pool);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        RLT_CHECK(rl_student_from_teacher(&st, &teacher, &so) == RL_OK, "student: %s", rl_last_error());
        rl_loader_init(&L, &data, 32, 0.05);
        rl_eval_ppl(&c, &teacher, &L, 8, &nll_t);
        rl_eval_ppl(&c, &st, &L, 8, &nll_s0);
        rl_eval_compare(&c, &st, &teacher, &L, 8, &kl0, &top0);
        rl_stage_opts_default(&o, 1);
        o.ctx = 32; o.batch = 4; o.tokens = 40 * 4 * 32; o.lr.warmup_steps = 5; o.lr.lr_init = 3e-3; o.lr.lr_final = 3e-4;
        memset(&l1, 0, sizeof l1);
        o.progress = on_progress; o.user = &l1;
        RLT_CHECK(rl_train_stage(&c, &st, &teacher, &data, &o) == RL_OK, "stage 1: %s", rl_last_error());
        RLT_CHECK(l1.n == 40 && l1.last < 0.75 * l1.first, "stage 1 L2 loss %.4f -> %.4f (must fall by 25%%)", l1.first, l1.last);
        rl_stage_opts_default(&o, 2);
        o.ctx = 32; o.batch = 4; o.tokens = 40 * 4 * 32; o.lr.warmup_steps = 5; o.lr.lr_init = o.lr.lr_final = 1e-3;
        memset(&l2, 0, sizeof l2);
        o.progress = on_progress; o.user = &l2;
        RLT_CHECK(rl_train_stage(&c, &st, &teacher, &data, &o) == RL_OK, "stage 2: %s", rl_last_error());
        RLT_CHECK(l2.n == 40 && l2.last < 0.7 * l2.first, "stage 2 KL %.4f -> %.4f (must fall by 30%%)", l2.first, l2.last);
        { /* the KL in vocabulary chunks (rl_kl_head, 100 columns at a time) = over the whole vocabulary */
            rl_model a, b;
            losses_t la, lb;
            rl_student_from_teacher(&a, &teacher, &so);
            rl_student_from_teacher(&b, &teacher, &so);
            o.tokens = 6 * 4 * 32;
            memset(&la, 0, sizeof la);
            lb = la;
            o.kl_chunk = -1;
            o.user = &la;
            RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "stage 2, whole vocabulary: %s", rl_last_error());
            o.kl_chunk = 100;
            o.user = &lb;
            RLT_CHECK(rl_train_stage(&c, &b, &teacher, &data, &o) == RL_OK, "stage 2, chunks: %s", rl_last_error());
            RLT_CHECK(la.n == 6 && lb.n == 6 && teacher.cfg.vocab_size > 200, "6 steps each, a vocabulary of 3 chunks or more (%lld)",
                      (long long)teacher.cfg.vocab_size);
            RLT_CLOSE(lb.first, la.first, 0, 1e-6, "stage 2 first loss: vocabulary in chunks of 100 vs whole");
            RLT_CLOSE(lb.last, la.last, 0, 1e-5, "stage 2 loss after 6 steps: vocabulary in chunks of 100 vs whole");
            o.kl_chunk = 0;
            o.user = &l2;
            rl_model_free(&a);
            rl_model_free(&b);
        }
        rl_eval_ppl(&c, &st, &L, 8, &nll_s2);
        rl_eval_compare(&c, &st, &teacher, &L, 8, &kl2, &top2);
        RLT_CHECK(kl2 < kl0 && top2 > top0, "held-out KL %.4f -> %.4f, top-1 %.3f -> %.3f", kl0, kl2, top0, top2);
        printf("  info: held-out ppl teacher %.2f, student init %.2f, after stages 1+2 %.2f; KL %.4f -> %.4f; top-1 %.3f -> %.3f\n",
               exp(nll_t), exp(nll_s0), exp(nll_s2), kl0, kl2, top0, top2);
        { /* save as a Hugging Face folder, load back: identical tensors, identical perplexity */
            rl_model back;
            rl_st a, b;
            double nll_b;
            int i, same = 1;
            RLT_CHECK(rl_model_save(&st, rlt_tmp("rl_test_student"), "tests/fixtures/tiny-qwen2") == RL_OK, "save: %s", rl_last_error());
            RLT_CHECK(rl_model_load(&back, rlt_tmp("rl_test_student"), 0) == RL_OK, "load: %s", rl_last_error());
            RLT_CHECK(back.student.kind == RL_MIXER_RWKV7 && back.blocks[0].mix.cfg.r_w == st.blocks[0].mix.cfg.r_w, "student kind and ranks");
            rl_eval_ppl(&c, &back, &L, 8, &nll_b);
            RLT_CHECK(nll_b == nll_s2, "reloaded student's held-out nll %.9g vs %.9g", nll_b, nll_s2);
            rl_model_save(&back, rlt_tmp("rl_test_student2"), NULL);
            rl_st_open(&a, rlt_tmp("rl_test_student/model.safetensors"));
            rl_st_open(&b, rlt_tmp("rl_test_student2/model.safetensors"));
            for (i = 0; i < rl_st_count(&a); i++) {
                const rl_st_tensor *x = rl_st_at(&a, i), *y = rl_st_find(&b, x->name);
                same &= y && x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes);
            }
            RLT_CHECK(same && rl_st_count(&a) == rl_st_count(&b), "save -> load -> save is bit-identical");
            rl_st_close(&a);
            rl_st_close(&b);
            rl_model_free(&back);
            RLT_CHECK(rl_model_load(&back, "tests/fixtures/mixers", 0) != RL_OK && strstr(rl_last_error(), "config.json"), "a folder without config.json: %s", rl_last_error());
        }
        rl_model_free(&st);
        rl_ctx_free(&c);
    }
    rlt_end();

    rlt_begin("train stage 1 layer by layer: streamed teacher equals the full forward, losses fall, resume");
    {
        rl_model a;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        losses_t la;
        rl_forward_opts fo;
        rl_tensor *ain[8], *aout[8];
        int64_t R = 2 * 16, C = teacher.cfg.hidden_size, l, i;
        float *buf = (float *)malloc(sizeof(float) * (size_t)(4 * R * C));
        double e = 0;
        rl_ctx_init(&c, pool);
        memset(&fo, 0, sizeof fo);
        fo.B = 2; fo.T = 16; fo.attn_in = ain; fo.attn_out = aout;
        rl_no_grad_push(&c);
        rl_model_forward(&c, &teacher, data.ids, &fo);
        rl_no_grad_pop(&c);
        for (l = 0; l < teacher.cfg.n_layers; l++) {
            rl_ctx c2;
            rl_ctx_init(&c2, pool);
            rl__teacher_layer_io(&c2, &teacher, data.ids, R, 16, l, buf, buf + R * C, buf + 2 * R * C, buf + 3 * R * C);
            for (i = 0; i < R * C; i++) {
                e = fmax(e, fabs(buf[R * C + i] - rl_f32(ain[l])[i]));
                e = fmax(e, fabs(buf[2 * R * C + i] - rl_f32(aout[l])[i]));
                e = fmax(e, fabs(buf[3 * R * C + i] - rl_f32(ain[0])[i]));
            }
            rl_ctx_free(&c2);
        }
        RLT_CHECK(e == 0, "streamed teacher layer inputs/outputs differ from the full forward by %g", e);
        free(buf);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        rl_student_from_teacher(&a, &teacher, &so);
        rl_stage_opts_default(&o, 1);
        o.ctx = 32; o.batch = 4; o.tokens = 25 * 4 * 32; o.lr.warmup_steps = 5; o.lr.lr_init = 3e-3; o.lr.lr_final = 3e-4;
        o.layerwise = 1;
        o.checkpoint = rlt_tmp("rl_test_layerwise.safetensors");
        memset(&la, 0, sizeof la);
        o.progress = on_progress; o.user = &la;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "layerwise: %s", rl_last_error());
        RLT_CHECK(la.n == 50, "25 steps for each of the 2 layers (%d)", la.n);
        RLT_CHECK(la.at[25] < 0.85 * la.at[1] && la.at[50] < 0.85 * la.at[26], "per-layer L2 loss falls by 15%%: layer 0 %.4f -> %.4f, layer 1 %.4f -> %.4f",
                  la.at[1], la.at[25], la.at[26], la.at[50]);
        {
            rl_model b;
            rl_st ck;
            rl_student_from_teacher(&b, &teacher, &so);
            o.resume = 1;
            RLT_CHECK(rl_train_stage(&c, &b, &teacher, &data, &o) == RL_OK, "resume after the last layer: %s", rl_last_error());
            rl_st_open(&ck, o.checkpoint);
            RLT_CHECK(rl_f32(&b.blocks[1].mix.w1)[3] == rl_f32(&a.blocks[1].mix.w1)[3] && strcmp(rl_st_meta(&ck, "radlads.layer_done"), "1") == 0,
                      "resumed student holds the trained layers");
            rl_st_close(&ck);
            rl_model_free(&b);
        }
        remove(o.checkpoint);
        { /* the loop of the other stages: the micro-batch check, csv rows, max_steps with an exact resume (across a layer's end) */
            rl_model s1, s2;
            rl_stage_opts q = o;
            losses_t lx, ly;
            const char *csv = rlt_tmp("rl_test_layerwise.csv"), *ck1 = rlt_tmp("rl_test_layerwise1.safetensors"),
                       *ck2 = rlt_tmp("rl_test_layerwise2.safetensors");
            char *text;
            size_t nt;
            int k, rows_ok = 1;
            rl_student_from_teacher(&s1, &teacher, &so);
            rl_student_from_teacher(&s2, &teacher, &so);
            q.ctx = 16; q.batch = 4; q.micro_batch = 3; q.tokens = 6 * 4 * 16; q.resume = 0; q.max_steps = 0;
            q.checkpoint = ck1;
            remove(ck1);
            RLT_CHECK(rl_train_stage(&c, &s1, &teacher, &data, &q) == RL_ERR_ARG && strstr(rl_last_error(), "batch 4 is not a multiple of the micro-batch 3"),
                      "layerwise: micro-batch 3 of a batch of 4 refused: %s", rl_last_error());
            RLT_CHECK(!fopen(ck1, "rb"), "nothing written");
            q.micro_batch = 2;
            q.csv = csv;
            remove(csv);
            memset(&lx, 0, sizeof lx);
            q.user = &lx;
            RLT_CHECK(rl_train_stage(&c, &s1, &teacher, &data, &q) == RL_OK && lx.n == 12, "layerwise, micro-batches of 2: 6 steps x 2 layers (%d): %s", lx.n,
                      rl_last_error());
            text = (char *)rlt_read_all(csv, &nt);
            for (k = 1; k <= 12 && text; k++) {
                char row[32], *p1;
                snprintf(row, sizeof row, "\n1,%d,%d,", k, k * 4 * 16);
                p1 = k == 1 ? (strncmp(text, row + 1, strlen(row + 1)) ? NULL : text) : strstr(text, row);
                rows_ok &= p1 && (k == 1 || !strstr(p1 + 1, row));
            }
            RLT_CHECK(text && rows_ok && !strstr(text, "\n1,13,"), "layerwise writes one csv row per step (stage,step,tokens,...): %s", text ? text : "(none)");
            free(text);
            remove(csv);
            q.csv = NULL;
            q.checkpoint = ck2;
            remove(ck2);
            memset(&ly, 0, sizeof ly);
            q.user = &ly;
            q.max_steps = 4;
            RLT_CHECK(rl_train_stage(&c, &s2, &teacher, &data, &q) == RL_OK && ly.n == 4, "layerwise max_steps 4 stops after 4 steps (%d): %s", ly.n,
                      rl_last_error());
            {
                rl_st ck;
                const char *ld = NULL, *sp = NULL;
                if (rl_st_open(&ck, ck2) == RL_OK) {
                    ld = rl_st_meta(&ck, "radlads.layer_done");
                    sp = rl_st_meta(&ck, "radlads.step");
                    RLT_CHECK(ld && sp && !strcmp(ld, "-1") && !strcmp(sp, "4") && rl_st_find(&ck, "optim.m.model.layers.0.self_attn.w1"),
                              "a checkpoint in layer 0 at its step 4, with that layer's moments (layer_done %s, step %s)", ld ? ld : "-", sp ? sp : "-");
                    rl_st_close(&ck);
                } else {
                    RLT_CHECK(0, "max_steps writes a checkpoint: %s", rl_last_error());
                }
            }
            rl_model_free(&s2);
            rl_student_from_teacher(&s2, &teacher, &so); /* a fresh process */
            q.resume = 1;
            q.max_steps = 5; /* steps 5..9: over the end of layer 0 */
            RLT_CHECK(rl_train_stage(&c, &s2, &teacher, &data, &q) == RL_OK && ly.n == 9, "resumed for 5 more steps (%d): %s", ly.n, rl_last_error());
            rl_model_free(&s2);
            rl_student_from_teacher(&s2, &teacher, &so);
            q.max_steps = 0;
            RLT_CHECK(rl_train_stage(&c, &s2, &teacher, &data, &q) == RL_OK && ly.n == 12, "resumed to the end (%d): %s", ly.n, rl_last_error());
            RLT_CHECK(ly.last == lx.last && ly.at[5] == lx.at[5] && ly.at[7] == lx.at[7], "layerwise resume is exact: final loss %.9g vs %.9g straight",
                      ly.last, lx.last);
            {
                rl_st sa, sb;
                int i, n = 0, diff = 0;
                if (rl_st_open(&sa, ck1) == RL_OK) {
                    if (rl_st_open(&sb, ck2) == RL_OK) {
                        for (i = 0; i < rl_st_count(&sa); i++) {
                            const rl_st_tensor *x = rl_st_at(&sa, i), *y = rl_st_find(&sb, x->name);
                            n++;
                            diff += !y || y->nbytes != x->nbytes || memcmp(x->data, y->data, x->nbytes) != 0;
                        }
                        RLT_CHECK(n > 0 && diff == 0 && rl_st_count(&sa) == rl_st_count(&sb), "%d of %d checkpoint tensors differ after the resumes", diff, n);
                        rl_st_close(&sb);
                    }
                    rl_st_close(&sa);
                }
            }
            remove(ck1);
            remove(ck2);
            rl_model_free(&s1);
            rl_model_free(&s2);
        }
        rl_model_free(&a);
        rl_ctx_free(&c);
    }
    rlt_end();

    rlt_begin("train stage 3: chunks with the state carried give the whole-window loss, and it falls");
    {
        rl_model a, b;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        losses_t la, lb;
        rl_ctx_init(&c, pool);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        rl_student_from_teacher(&a, &teacher, &so);
        rl_student_from_teacher(&b, &teacher, &so);
        rl_stage_opts_default(&o, 3);
        o.ctx = 48; o.batch = 2; o.tokens = 20 * 2 * 48; o.lr.warmup_steps = 2; o.lr.lr_init = o.lr.lr_final = 1e-3;
        o.progress = on_progress;
        o.carry_state = 1; o.chunk = 16;
        memset(&la, 0, sizeof la);
        o.user = &la;
        RLT_CHECK(rl_train_stage(&c, &a, NULL, &data, &o) == RL_OK, "carried: %s", rl_last_error());
        { /* the two windows of a step together (a state of two sequences) = one after the other */
            losses_t lm;
            rl_model e;
            rl_student_from_teacher(&e, &teacher, &so);
            memset(&lm, 0, sizeof lm);
            o.user = &lm;
            o.micro_batch = 2;
            RLT_CHECK(rl_train_stage(&c, &e, NULL, &data, &o) == RL_OK, "carried, micro-batch 2: %s", rl_last_error());
            RLT_CLOSE(lm.first, la.first, 0, 2e-6, "first-step loss, carried state: micro-batch 2 vs 1");
            RLT_CLOSE(lm.last, la.last, 0, 1e-4, "last-step loss (20 steps), carried state: micro-batch 2 vs 1");
            o.micro_batch = 1;
            rl_model_free(&e);
        }
        o.carry_state = 0;
        memset(&lb, 0, sizeof lb);
        o.user = &lb;
        o.tokens = 2 * 48;
        RLT_CHECK(rl_train_stage(&c, &b, NULL, &data, &o) == RL_OK, "whole windows: %s", rl_last_error());
        RLT_CLOSE(la.first, lb.first, 0, 2e-6, "first-step loss, 3 chunks of 16 with carried state vs one window of 48");
        /* the text is sampled from a random teacher (entropy ~6.3 nats), so the floor is close */
        RLT_CHECK(la.last < la.first - 0.1, "stage 3 CE %.4f -> %.4f (must fall by 0.1 nats)", la.first, la.last);
        rl_model_free(&a);
        rl_model_free(&b);
        { /* step 3a: only the decay and token-shift parameters train */
            rl_model d;
            float q0, w0, e0;
            rl_student_opts_default(&so, RL_MIXER_RWKV6);
            rl_student_from_teacher(&d, &teacher, &so);
            q0 = rl_f32(&d.blocks[1].mix.q_w)[5];
            w0 = rl_f32(&d.blocks[1].mix.decay_w2)[5];
            e0 = rl_f32(&d.embed)[77];
            o.train = RL_TRAIN_DECAY; o.carry_state = 0; o.tokens = 3 * 2 * 48; o.lr.lr_init = o.lr.lr_final = 1e-2;
            o.user = &lb;
            RLT_CHECK(rl_train_stage(&c, &d, NULL, &data, &o) == RL_OK, "3a: %s", rl_last_error());
            RLT_CHECK(rl_f32(&d.blocks[1].mix.decay_w2)[5] != w0 && rl_f32(&d.blocks[1].mix.q_w)[5] == q0 && rl_f32(&d.embed)[77] == e0,
                      "3a trains time_decay_w2 only, not q_proj or the embeddings");
            rl_model_free(&d);
            o.train = RL_TRAIN_ALL;
            rl_student_opts_default(&so, RL_MIXER_RWKV7);
        }
        so.keep_attention = 1;
        rl_student_from_teacher(&a, &teacher, &so);
        o.carry_state = 1;
        RLT_CHECK(rl_train_stage(&c, &a, NULL, &data, &o) == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), "attention"), "hybrid + carry: %s", rl_last_error());
        rl_model_free(&a);
        rl_ctx_free(&c);
    }
    rlt_end();

    rlt_begin("train resume: N steps == N/2, stop, resume, N/2 (bit-identical)");
    {
        rl_model a, b;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        losses_t la, lb;
        int stage;
        rl_ctx_init(&c, pool);
        for (stage = 1; stage <= 3; stage++) {
            int64_t n = 0, diff = 0;
            rl_student_opts_default(&so, stage == 2 ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
            rl_student_from_teacher(&a, &teacher, &so);
            rl_student_from_teacher(&b, &teacher, &so);
            rl_stage_opts_default(&o, stage);
            o.ctx = 16; o.batch = 2; o.micro_batch = 1; o.tokens = 6 * 2 * 16; o.lr.warmup_steps = 2;
            if (stage > 1) o.lr.lr_init = o.lr.lr_final = 1e-3;
            o.checkpoint = rlt_tmp("rl_test_resume_a.safetensors");
            memset(&la, 0, sizeof la);
            o.progress = on_progress; o.user = &la;
            RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "straight: %s", rl_last_error());
            o.checkpoint = rlt_tmp("rl_test_resume_b.safetensors");
            o.max_steps = 3;
            memset(&lb, 0, sizeof lb);
            o.user = &lb;
            RLT_CHECK(rl_train_stage(&c, &b, &teacher, &data, &o) == RL_OK, "first half: %s", rl_last_error());
            rl_model_free(&b);
            rl_student_from_teacher(&b, &teacher, &so); /* a fresh process would start from scratch */
            o.resume = 1;
            o.max_steps = 0;
            RLT_CHECK(rl_train_stage(&c, &b, &teacher, &data, &o) == RL_OK, "resumed: %s", rl_last_error());
            RLT_CHECK(lb.n == 6 && la.n == 6 && la.last == lb.last, "stage %d: final loss straight %.9g vs resumed %.9g", stage, la.last, lb.last);
            {
                rl_st sa, sb;
                int i;
                rl_st_open(&sa, rlt_tmp("rl_test_resume_a.safetensors"));
                rl_st_open(&sb, rlt_tmp("rl_test_resume_b.safetensors"));
                for (i = 0; i < rl_st_count(&sa); i++) {
                    const rl_st_tensor *x = rl_st_at(&sa, i), *y = rl_st_find(&sb, x->name);
                    n++;
                    diff += !y || y->nbytes != x->nbytes || memcmp(x->data, y->data, x->nbytes) != 0;
                }
                rl_st_close(&sa);
                rl_st_close(&sb);
            }
            RLT_CHECK(n > 0 && diff == 0, "stage %d: %lld of %lld checkpoint tensors differ", stage, (long long)diff, (long long)n);
            rl_model_free(&a);
            rl_model_free(&b);
            remove(rlt_tmp("rl_test_resume_a.safetensors"));
            remove(rlt_tmp("rl_test_resume_b.safetensors"));
        }
        rl_ctx_free(&c);
    }
    rlt_end();

    rlt_begin("train hardening (issue 14): bad metadata, NaN guard, run identity, stale files, csv, options");
    {
        rl_model a;
        rl_student_opts so;
        rl_stage_opts o;
        rl_ctx c;
        poison_t z;
        const char *ck = rlt_tmp("rl_test_hard.safetensors"), *csv = rlt_tmp("rl_test_hard.csv");
        char *before, *after, *text;
        size_t nb, na, nt;
        FILE *f;
        rl_status st;
        rl_ctx_init(&c, pool);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        rl_student_from_teacher(&a, &teacher, &so);
        rl_stage_opts_default(&o, 2);
        o.ctx = 16; o.batch = 2; o.tokens = 6 * 2 * 16; o.lr.warmup_steps = 2; o.ckpt_every = 100;
        o.checkpoint = ck;
        o.csv = csv;
        remove(csv);
        o.max_steps = 3;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "3 steps: %s", rl_last_error());
        /* train.csv: a run killed after step 5 with its checkpoint at 3 left rows 4 and 5 */
        f = fopen(csv, "a");
        fputs("2,4,128,9.9,1e-3,1.0,1.0\n2,5,160,9.9,1e-3,1.0,1.0\n1,7,99,1.0,1e-3,1.0,1.0\n", f);
        fclose(f);
        { /* a stale temporary file of our naming, and one that is not */
            f = fopen(rlt_tmp("rl_test_hard.safetensors.tmp.0badc0de"), "w");
            fclose(f);
            f = fopen(rlt_tmp("rl_test_hard.safetensors.tmp.mine"), "w");
            fclose(f);
        }
        o.max_steps = 0;
        o.resume = 1;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "resumed: %s", rl_last_error());
        RLT_CHECK(!fopen(rlt_tmp("rl_test_hard.safetensors.tmp.0badc0de"), "r"), "stale <ckpt>.tmp.<8 hex> removed at the start");
        RLT_CHECK((f = fopen(rlt_tmp("rl_test_hard.safetensors.tmp.mine"), "r")) != NULL, "a file not of our naming stays");
        if (f) fclose(f);
        remove(rlt_tmp("rl_test_hard.safetensors.tmp.mine"));
        text = rlt_read_all(csv, &nt);
        {
            int k, ok = text != NULL;
            char row[32];
            for (k = 1; k <= 6 && ok; k++) {
                char *p1;
                snprintf(row, sizeof row, "\n2,%d,", k);
                p1 = k == 1 ? (strncmp(text, row + 1, strlen(row + 1)) ? NULL : text) : strstr(text, row);
                ok = p1 && (k == 1 || !strstr(p1 + 1, row)); /* present, once */
            }
            RLT_CHECK(ok && !strstr(text, ",9.9,") && strstr(text, "\n1,7,"), "train.csv rows of redone steps replaced, others kept: %s", text ? text : "(none)");
        }
        free(text);
        /* checkpoint metadata: not numbers, out of range */
        before = rlt_read_all(ck, &nb);
        RLT_CHECK(set_meta(ck, "radlads.step", "abc") == 0, "rewrite");
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_FORMAT && strstr(rl_last_error(), "rl_test_hard.safetensors: metadata radlads.step: 'abc' is not a number"), "step abc: %d %s",
                  (int)st, rl_last_error());
        rlt_write_all(ck, before, nb);
        RLT_CHECK(set_meta(ck, "radlads.adam_step", "-1") == 0, "rewrite");
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_FORMAT && strstr(rl_last_error(), "metadata radlads.adam_step: -1 is outside [0, 6]"), "adam_step -1: %d %s", (int)st, rl_last_error());
        rlt_write_all(ck, before, nb);
        RLT_CHECK(set_meta(ck, "radlads.stage", "2x") == 0, "rewrite");
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_FORMAT && strstr(rl_last_error(), "radlads.stage is 2x"), "stage 2x: %d %s", (int)st, rl_last_error());
        rlt_write_all(ck, before, nb);
        /* a checkpoint of another stage: the message (built from the closed file's metadata before the fix) */
        o.stage = 1;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_FORMAT && strstr(rl_last_error(), "not a checkpoint of stage 1 (metadata radlads.stage is 2)"), "stage mismatch: %s", rl_last_error());
        o.stage = 2;
        /* run identity */
        o.ctx = 8;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "different run: ctx is '16' there but '8' now"), "ctx: %s", rl_last_error());
        o.ctx = 16;
        data.ids[3] ^= 1;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "different run: data is"), "data: %s", rl_last_error());
        data.ids[3] ^= 1;
        {
            const char *id[] = {"data_file", "other", NULL};
            o.identity = id;
            st = rl_train_stage(&c, &a, &teacher, &data, &o); /* not recorded before: not compared */
            RLT_CHECK(st == RL_OK, "a key the checkpoint lacks is not compared: %s", rl_last_error());
            o.identity = NULL;
        }
        o.tokens = 2 * 2 * 16;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "is at step 6 but this stage has 2 steps"), "step past the end: %s", rl_last_error());
        o.resume_force = 1;
        o.ctx = 8;
        o.tokens = 6 * 2 * 16;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_OK, "resume_force: %s", rl_last_error());
        o.resume_force = 0;
        o.ctx = 16;
        o.resume = 0;
        o.max_steps = 0;
        free(before);
        /* NaN guard: one poisoned step is skipped and counted, training goes on */
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_OK, "fresh: %s", rl_last_error());
        before = rlt_read_all(ck, &nb);
        memset(&z, 0, sizeof z);
        z.m = &a; z.poison_at = 2; z.heal_at = 3;
        o.progress = on_progress_poison; o.user = &z;
        o.checkpoint = rlt_tmp("rl_test_hard2.safetensors");
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_OK && z.last_nonfinite == 1 && z.calls == 6, "one bad step skipped: %d, %lld skipped, %lld steps: %s", (int)st,
                  (long long)z.last_nonfinite, (long long)z.calls, rl_last_error());
        remove(rlt_tmp("rl_test_hard2.safetensors"));
        /* four in a row (more than max_nonfinite 3): stop, the last checkpoint untouched */
        memset(&z, 0, sizeof z);
        z.m = &a; z.poison_at = 1; z.heal_at = -1;
        o.checkpoint = ck;
        o.tokens = 10 * 2 * 16;
        o.ckpt_every = 100;
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        after = rlt_read_all(ck, &na);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "4 steps in a row (to step 5) had a non-finite loss or gradient (limit 3)") && z.calls == 5,
                  "stop: %d after %lld steps: %s", (int)st, (long long)z.calls, rl_last_error());
        RLT_CHECK(before && after && na == nb && !memcmp(before, after, nb), "the last good checkpoint is untouched");
        RLT_CHECK(rl_model_save(&a, rlt_tmp("rl_test_hard_model"), NULL) == RL_ERR_STATE && strstr(rl_last_error(), "model not written: parameter model.norm.weight holds NaN"),
                  "a NaN student is never written: %s", rl_last_error());
        o.max_nonfinite = 1;
        memset(&z, 0, sizeof z);
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "2 steps in a row (to step 2)"), "max_nonfinite 1: %s", rl_last_error());
        o.max_nonfinite = 0;
        o.ckpt_every = 1; /* a checkpoint of NaN weights is refused too */
        st = rl_train_stage(&c, &a, &teacher, &data, &o);
        RLT_CHECK(st == RL_ERR_STATE && strstr(rl_last_error(), "not written: parameter model.norm.weight holds NaN or Inf"), "NaN checkpoint: %s", rl_last_error());
        after = (free(after), rlt_read_all(ck, &na));
        RLT_CHECK(after && na == nb && !memcmp(before, after, nb), "still untouched");
        free(before);
        free(after);
        rl_f32(&a.norm)[0] = 1.0f;
        o.progress = NULL; o.user = NULL;
        /* options the CLI used to pass through */
        o.lr.lr_init = NAN;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_ERR_ARG && strstr(rl_last_error(), "learning rates must be finite"), "lr NaN: %s", rl_last_error());
        o.lr.lr_init = 1e-3;
        o.batch = 0;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_ERR_ARG && strstr(rl_last_error(), "batch 0 must be at least 1"), "batch 0: %s", rl_last_error());
        o.batch = 2;
        o.ctx = 0;
        o.layerwise = 1;
        o.stage = 1;
        RLT_CHECK(rl_train_stage(&c, &a, &teacher, &data, &o) == RL_ERR_ARG && strstr(rl_last_error(), "ctx 0"), "ctx 0 layerwise: %s", rl_last_error());
        {
            rl_loader L;
            RLT_CHECK(rl_loader_init(&L, &data, 16, NAN) == RL_ERR_ARG && strstr(rl_last_error(), "held-out fraction nan is outside [0, 1)"), "heldout NaN: %s",
                      rl_last_error());
        }
        remove(ck);
        remove(csv);
        rl_model_free(&a);
        rl_ctx_free(&c);
    }
    rlt_end();

    rl_tokens_free(&data);
    rl_model_free(&teacher);
    rl_pool_free(pool);
    return rlt_exit();
}
