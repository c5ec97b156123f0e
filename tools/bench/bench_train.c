/* bench_train - tokens/s of one RADLADS training step (stage 1: teacher forward + student
   mixers forward/backward + AdamW; stage 2: teacher forward + whole student forward/backward
   with the KL over the full vocabulary + AdamW), measured through the public API
   (rl_train_stage with max_steps), for comparison with the same step in PyTorch
   (tools/bench/train_ref.py; tools/bench/bench_train.sh runs both, interleaved).

     bench_train --teacher DIR|FILE.gguf | --random smollm2|qwen05b
                 [--arch rwkv7|rwkv6] [--stage 1|2|12] [--ctx 512] [--batch 4] [--micro-batch 4]
                 [--steps 4] [--threads 2] [--out DIR] [--teacher-dtype f32|bf16] [--bf16-dot 0|1]

   --out DIR writes what the PyTorch side needs to run the identical step: DIR/teacher (with
   --random: the random teacher as a Hugging Face folder), DIR/student (the student at
   initialisation, seed 1) and DIR/windows.bin (the int32 windows of the first optimizer
   step, batch × (ctx+1)). Tokens are uniform random ids (speed does not depend on them).
   Output: one line per stage
     radlads stage S: tok/s X (steps 2..n, best of per-step), first-step loss L, threads T
   The first step is excluded from the rate (page faults of a fresh arena).
   --teacher-dtype bf16 stores the teacher's matrices in bf16 (as Hugging Face checkpoints
   are), --bf16-dot 1 runs their products on the bf16 kernels (rl_ctx.bf16_dot). */
#include "bench.h"
#include <sys/stat.h>

typedef struct {
    double t_last, best, sum;
    int64_t tps;
    int n;
    double first_loss;
} rec_t;

static void on_step(void *user, const rl_progress *p) {
    rec_t *r = (rec_t *)user;
    double t = now(), dt = t - r->t_last;
    r->t_last = t;
    if (p->step == 1) {
        r->first_loss = p->loss;
        return;
    }
    if (dt < r->best) r->best = dt;
    r->sum += dt;
    r->n++;
}

static void fill_fn(void *u, const char *name, rl_tensor *t) {
    rl_rng *g = (rl_rng *)u;
    int64_t i;
    int norm = strstr(name, "norm") != NULL;
    for (i = 0; i < t->n; i++) rl_f32(t)[i] = norm ? 1.0f : 0.04f * (rl_rng_uniform(g) - 0.5f);
}

/* a random teacher of a real model's shape */
static int random_teacher(rl_model *m, const char *shape) {
    rl_config cfg;
    rl__alloc_ctx ac;
    rl_rng g;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_pos = 8192; cfg.rms_eps = 1e-5f; cfg.bos_id = -1; cfg.head_dim = 64;
    if (!strcmp(shape, "smollm2")) { /* SmolLM2-135M: Llama, GQA 9/3, tied embeddings */
        cfg.arch = RL_ARCH_LLAMA; cfg.vocab_size = 49152; cfg.hidden_size = 576; cfg.intermediate_size = 1536;
        cfg.n_layers = 30; cfg.n_heads = 9; cfg.n_kv_heads = 3; cfg.rope_theta = 100000; cfg.tie_embeddings = 1;
    } else if (!strcmp(shape, "qwen05b")) { /* Qwen2.5-0.5B: Qwen2 (q/k/v biases), GQA 14/2, tied */
        cfg.arch = RL_ARCH_QWEN2; cfg.vocab_size = 151936; cfg.hidden_size = 896; cfg.intermediate_size = 4864;
        cfg.n_layers = 24; cfg.n_heads = 14; cfg.n_kv_heads = 2; cfg.rope_theta = 1e6; cfg.attn_bias = 1;
        cfg.tie_embeddings = 1; cfg.rms_eps = 1e-6f;
    } else {
        fprintf(stderr, "bench_train: --random smollm2|qwen05b, not '%s'\n", shape);
        return 1;
    }
    memset(m, 0, sizeof *m);
    if (rl__model_shape(m, &cfg, NULL) != RL_OK) return 1;
    m->trainable = 0;
    ac.m = m;
    ac.st = RL_OK;
    rl_model_params(m, rl__alloc_fn, &ac);
    if (ac.st != RL_OK) return 1;
    rl_rng_seed(&g, 7);
    rl_model_params(m, fill_fn, &g);
    if (cfg.tie_embeddings) m->head = m->embed; /* tied: the head is the embedding (a tied head is not visited) */
    return 0;
}

/* a teacher matrix in bf16, as a Hugging Face checkpoint stores it (the copy is never freed) */
static void to_bf16_fn(void *u, const char *name, rl_tensor *t) {
    uint16_t *h;
    int64_t i;
    (void)u;
    (void)name;
    if (t->ndim != 2 || t->dtype != RL_F32 || !(h = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)t->n))) return;
    for (i = 0; i < t->n; i++) h[i] = rl_f32_to_bf16(rl_f32(t)[i]);
    t->data = h;
    t->dtype = RL_BF16;
}

static int fail(const char *what) {
    fprintf(stderr, "bench_train: %s: %s\n", what, rl_last_error());
    return 1;
}

int main(int argc, char **argv) {
    const char *teacher_dir = NULL, *random = NULL, *out = NULL, *arch = "rwkv7", *stages = "12", *tdtype = "f32";
    int64_t ctx = 512, batch = 4, mb = 4, steps = 4, i;
    int threads = 2, a, si, bf16_dot = 0;
    rl_model teacher;
    rl_student_opts so;
    rl_tokens data;
    rl_rng g;
    rl_pool *pool;
    rl_ctx c;
    for (a = 1; a < argc; a++) {
        const char *f = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!v) { fprintf(stderr, "bench_train: %s needs a value\n", f); return 2; }
        if (!strcmp(f, "--teacher")) teacher_dir = v;
        else if (!strcmp(f, "--random")) random = v;
        else if (!strcmp(f, "--out")) out = v;
        else if (!strcmp(f, "--arch")) arch = v;
        else if (!strcmp(f, "--stage")) stages = v;
        else if (!strcmp(f, "--ctx")) ctx = atol(v);
        else if (!strcmp(f, "--batch")) batch = atol(v);
        else if (!strcmp(f, "--micro-batch")) mb = atol(v);
        else if (!strcmp(f, "--steps")) steps = atol(v);
        else if (!strcmp(f, "--threads")) threads = atoi(v);
        else if (!strcmp(f, "--teacher-dtype")) tdtype = v;
        else if (!strcmp(f, "--bf16-dot")) bf16_dot = atoi(v);
        else { fprintf(stderr, "bench_train: unknown flag %s (see the comment at the top of tools/bench/bench_train.c)\n", f); return 2; }
        a++;
    }
    if (!teacher_dir == !random) { fprintf(stderr, "bench_train: give --teacher DIR or --random smollm2|qwen05b\n"); return 2; }
    if (ctx < 2 || batch < 1 || mb < 1 || batch % mb || steps < 2 || threads < 1 || (strcmp(arch, "rwkv7") && strcmp(arch, "rwkv6"))) {
        fprintf(stderr, "bench_train: need ctx >= 2, batch a multiple of micro-batch, steps >= 2, threads >= 1, arch rwkv7|rwkv6\n");
        return 2;
    }
    if (random) {
        if (random_teacher(&teacher, random)) return fail("random teacher");
    } else {
        size_t n = strlen(teacher_dir);
        rl_status st = n > 5 && !strcmp(teacher_dir + n - 5, ".gguf") ? rl_model_load_gguf(&teacher, teacher_dir) : rl_model_load(&teacher, teacher_dir, 0);
        if (st != RL_OK) return fail(teacher_dir);
    }
    if (!strcmp(tdtype, "bf16")) {
        rl_model_params(&teacher, to_bf16_fn, NULL);
        if (teacher.cfg.tie_embeddings) teacher.head = teacher.embed;
    } else if (strcmp(tdtype, "f32")) {
        fprintf(stderr, "bench_train: --teacher-dtype f32|bf16, not '%s'\n", tdtype);
        return 2;
    }
    rl_student_opts_default(&so, strcmp(arch, "rwkv6") ? RL_MIXER_RWKV7 : RL_MIXER_RWKV6);
    so.seed = 1;

    /* random ids: enough training slots that the magic-prime order has room */
    data.n = ctx * (steps * batch * 2 + 64) + 1;
    data.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)data.n);
    if (!data.ids) return 1;
    rl_rng_seed(&g, 3);
    for (i = 0; i < data.n; i++) data.ids[i] = (int32_t)(rl_rng_u64(&g) % (uint64_t)teacher.cfg.vocab_size);

    if (out) { /* what the PyTorch side needs */
        char p[4096];
        rl_model student;
        rl_loader L;
        FILE *f;
        mkdir(out, 0777);
        if (random) {
            snprintf(p, sizeof p, "%s/teacher", out);
            if (rl_model_save(&teacher, p, NULL) != RL_OK) return fail(p);
        }
        snprintf(p, sizeof p, "%s/student", out);
        if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK || rl_model_save(&student, p, NULL) != RL_OK) return fail(p);
        rl_model_free(&student);
        snprintf(p, sizeof p, "%s/windows.bin", out);
        if (rl_loader_init(&L, &data, ctx, 0.0) != RL_OK || !(f = fopen(p, "wb"))) return fail(p);
        for (i = 0; i < batch; i++) fwrite(rl_loader_train(&L, (uint64_t)i), sizeof(int32_t), (size_t)(ctx + 1), f);
        if (fclose(f) != 0) return 1;
    }

    pool = rl_pool_create(threads);
    rl_ctx_init(&c, pool);
    c.bf16_dot = bf16_dot;
    if (bf16_dot && !rl_bf16_dot_available()) fprintf(stderr, "bench_train: --bf16-dot 1: no AVX512-BF16 here, products stay fp32\n");
    for (si = 0; stages[si]; si++) {
        int stage = stages[si] - '0';
        rl_model student;
        rl_stage_opts o;
        rec_t r;
        if (stage != 1 && stage != 2) { fprintf(stderr, "bench_train: --stage takes 1, 2 or 12\n"); return 2; }
        if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) return fail("student");
        rl_stage_opts_default(&o, stage);
        o.ctx = ctx;
        o.batch = batch;
        o.micro_batch = mb;
        o.tokens = steps * batch * ctx;
        o.max_steps = steps;
        o.heldout = 0.0;
        o.lr.warmup_steps = 0;
        o.progress = on_step;
        memset(&r, 0, sizeof r);
        r.best = 1e30;
        r.tps = batch * ctx;
        o.user = &r;
        r.t_last = now();
        if (rl_train_stage(&c, &student, &teacher, &data, &o) != RL_OK) return fail("rl_train_stage");
        printf("radlads stage %d: tok/s %.1f (steps 2..%lld, best of per-step; mean %.1f), first-step loss %.7f, threads %d, isa %s\n", stage,
               (double)r.tps / r.best, (long long)steps, (double)r.tps * r.n / r.sum, r.first_loss, threads, rl_isa_name(rl_isa_active()));
        fflush(stdout);
        rl_model_free(&student);
        rl_ctx_reset(&c);
    }
    rl_ctx_free(&c);
    rl_pool_free(pool);
    rl_model_free(&teacher);
    free(data.ids);
    return 0;
}
