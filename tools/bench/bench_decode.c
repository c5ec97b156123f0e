/* bench_decode - decode speed against context length: a softmax-attention teacher with a
   KV cache (cost per token grows with the context) and its RAD-RWKV7 student (constant
   cost and memory per token). Random weights; shape of a small Qwen2-style model:
   d 512, 8 layers, 8 heads of 64 (2 kv heads), MLP 1536, vocab 8192.
   The teacher's cache is filled with random keys/values up to the context length (the cost
   of one decode step depends only on how long the cache is); the student runs the same
   number of decode steps after a zero state (its cost does not depend on position). A warm-up
   round, then the best of ROUNDS rounds, teacher and student interleaved. BATCH=B decodes B
   sequences together (rl_state_init_batch: matrix products instead of matrix-vector ones);
   tokens/s counts the tokens of all of them. The student runs twice in each round: its fused
   decoding step (the default) and op by op (rl_ctx.op_by_op), the column "fused / ops".
   Build and run: make bench-decode   (env THREADS: default all cores; BATCH: default 1; ROUNDS: default 3)

   build/bench_decode --model DIR|FILE.gguf ...: real models' decoding steps instead, each
   model's fused mixer steps against the same steps op by op (rl_ctx.op_by_op), TOKENS (env,
   default 32) of each per round, alternating, ROUNDS (default 10) rounds after a warm-up, best
   of each; Q4_0/Q4_1 matrices interleaved as `radlads generate` reads them. */
#include "bench.h"

static int bench_model(const char *path, int tokens, int rounds, rl_pool *pool) {
    rl_model m;
    rl_ctx c[2];
    rl_state s[2];
    double best[2] = {1e30, 1e30};
    int32_t tok = 42;
    int r, k, t, np = 0;
    float *lg;
    size_t n = strlen(path);
    if ((n > 5 && !strcmp(path + n - 5, ".gguf") ? rl_model_load_gguf(&m, path) : rl_model_load(&m, path, 0)) != RL_OK ||
        rl_model_pack(&m, &np) != RL_OK) {
        fprintf(stderr, "bench_decode: %s\n", rl_last_error());
        return 1;
    }
    lg = (float *)malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
    for (k = 0; k < 2; k++) {
        rl_ctx_init(&c[k], pool);
        c[k].op_by_op = k;
        if (rl_state_init(&s[k], &m, (int64_t)tokens * (rounds + 1)) != RL_OK) {
            fprintf(stderr, "bench_decode: %s\n", rl_last_error());
            return 1;
        }
    }
    for (r = 0; r <= rounds; r++)
        for (k = 0; k < 2; k++) {
            double t0 = now();
            for (t = 0; t < tokens; t++) rl_model_step(&c[k], &m, &s[k], &tok, 1, lg);
            t0 = (now() - t0) / tokens;
            if (r && t0 < best[k]) best[k] = t0;
        }
    printf("| %s | %d | %.1f | %.1f | %.3f |\n", path, rl_pool_size(pool), 1 / best[0], 1 / best[1], best[1] / best[0]);
    for (k = 0; k < 2; k++) {
        rl_state_free(&s[k]);
        rl_ctx_free(&c[k]);
    }
    free(lg);
    rl_model_free(&m);
    return 0;
}

static void fill_fn(void *u, const char *name, rl_tensor *t) {
    rl_rng *g = (rl_rng *)u;
    int64_t i;
    float s = strstr(name, "norm") ? 0.0f : 0.05f;
    for (i = 0; i < t->n; i++) rl_f32(t)[i] = (s == 0.0f ? 1.0f : 0.0f) + s * (rl_rng_uniform(g) - 0.5f);
}

int main(int argc, char **argv) {
    static const int64_t ctxs[] = {128, 512, 2048, 8192, 16384};
    rl_config cfg;
    rl_model teacher, student;
    rl_student_opts so;
    rl__alloc_ctx ac;
    rl_pool *pool = rl_pool_create(getenv("THREADS") ? atoi(getenv("THREADS")) : 0);
    rl_ctx c, cop;
    rl_rng g;
    float *lg;
    int ci;
    double nw_t = 0, nw_s = 0; /* weights read per token */
    int rounds = getenv("ROUNDS") && atoi(getenv("ROUNDS")) > 0 ? atoi(getenv("ROUNDS")) : argc > 2 ? 10 : 3;
    int64_t B = getenv("BATCH") && atoi(getenv("BATCH")) > 0 ? atoi(getenv("BATCH")) : 1;
    int32_t *tok = (int32_t *)malloc(sizeof(int32_t) * (size_t)B);
    if (argc > 2 && !strcmp(argv[1], "--model")) {
        int rc = 0, a;
        printf("# decoding steps of each model, fused mixer steps and op by op, alternating: %d threads, isa %s, best of %d rounds\n"
               "| model | threads | fused tok/s | op by op tok/s | fused / ops |\n|---|---|---|---|---|\n",
               rl_pool_size(pool), rl_isa_name(rl_isa_active()), rounds);
        for (a = 2; a < argc && !rc; a++) rc = bench_model(argv[a], getenv("TOKENS") && atoi(getenv("TOKENS")) > 0 ? atoi(getenv("TOKENS")) : 32, rounds, pool);
        rl_pool_free(pool);
        free(tok);
        return rc;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = RL_ARCH_QWEN2;
    cfg.vocab_size = 8192; cfg.hidden_size = 512; cfg.intermediate_size = 1536; cfg.n_layers = 8;
    cfg.n_heads = 8; cfg.n_kv_heads = 2; cfg.head_dim = 64; cfg.max_pos = 32768; cfg.rms_eps = 1e-6f;
    cfg.rope_theta = 1e6; cfg.attn_bias = 1; cfg.bos_id = -1;
    memset(&teacher, 0, sizeof teacher);
    rl__model_shape(&teacher, &cfg, NULL);
    teacher.trainable = 0;
    ac.m = &teacher;
    ac.st = RL_OK;
    rl_model_params(&teacher, rl__alloc_fn, &ac);
    rl_rng_seed(&g, 7);
    rl_model_params(&teacher, fill_fn, &g);
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) return 1;
    rl_ctx_init(&c, pool);
    rl_ctx_init(&cop, pool);
    cop.op_by_op = 1;
    lg = (float *)malloc(sizeof(float) * (size_t)(B * cfg.vocab_size));
    for (ci = 0; ci < B; ci++) tok[ci] = 11 + ci;
    printf("# decode tokens/s at a given context length, %lld sequence(s) together, %d threads, isa %s; state memory per sequence\n",
           (long long)B, rl_pool_size(pool), rl_isa_name(rl_isa_active()));
    { /* a decode step reads every weight but the embedding (one row of it): at short contexts the
         step is bound by these bytes, so their ratio bounds student / teacher there */
        int64_t emb = cfg.vocab_size * cfg.hidden_size, nt = rl_model_n_params(&teacher) - emb, ns = rl_model_n_params(&student) - emb;
        printf("# weights read per token (all but the embedding): teacher %.2fM, student %.2fM (teacher / student %.3f);\n"
               "# GB/s: those F32 weights, the teacher's KV cache and the student's state (read and written) per second\n", nt / 1e6,
               ns / 1e6, (double)nt / (double)ns);
        nw_t = (double)nt;
        nw_s = (double)ns;
    }
    printf("| context | teacher tok/s | student tok/s | student / teacher | teacher GB/s | student GB/s | teacher KV cache | student state | fused / ops |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (ci = 0; ci < 5; ci++) {
        int64_t L = ctxs[ci], l, i, b, KV = cfg.n_kv_heads * cfg.head_dim;
        double tt = 1e30, ts = 1e30, to = 1e30;
        rl_state s, ss;
        int k, r, steps = 16;
        if (rl_state_init_batch(&s, &teacher, L + steps, B) != RL_OK || rl_state_init_batch(&ss, &student, L + steps, B) != RL_OK) {
            fprintf(stderr, "bench_decode: %s\n", rl_last_error());
            return 1;
        }
        for (l = 0; l < cfg.n_layers; l++)
            for (b = 0; b < B; b++)
                for (i = 0; i < L * KV; i++) {
                    s.k[l][b * (L + steps) * KV + i] = rl_rng_uniform(&g) - 0.5f;
                    s.v[l][b * (L + steps) * KV + i] = rl_rng_uniform(&g) - 0.5f;
                }
        for (r = 0; r <= rounds; r++) { /* round 0 warms up; then the best of the interleaved rounds */
            double t;
            s.pos = ss.pos = L; /* the teacher rewrites the same cache rows each round */
            t = now();
            for (k = 0; k < steps; k++) rl_model_step(&c, &teacher, &s, tok, 1, lg);
            t = (now() - t) / (double)(steps * B);
            if (r && t < tt) tt = t;
            t = now();
            for (k = 0; k < steps; k++) rl_model_step(&c, &student, &ss, tok, 1, lg);
            t = (now() - t) / (double)(steps * B);
            if (r && t < ts) ts = t;
            ss.pos = L;
            t = now();
            for (k = 0; k < steps; k++) rl_model_step(&cop, &student, &ss, tok, 1, lg);
            t = (now() - t) / (double)(steps * B);
            if (r && t < to) to = t;
        }
        rl_state_free(&s);
        rl_state_free(&ss);
        { /* bytes of a step (B tokens): the weights once; per sequence the teacher's cache, the student's state read and written */
            double kv = 2.0 * 4 * cfg.n_layers * L * cfg.n_kv_heads * cfg.head_dim, st = 4.0 * cfg.n_layers * cfg.n_heads * cfg.head_dim * cfg.head_dim;
            printf("| %lld | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f MiB | %.2f MiB | %.3f |\n", (long long)L, 1 / tt, 1 / ts, tt / ts,
                   (4.0 * nw_t + B * kv) / (tt * B) / 1e9, (4.0 * nw_s + 2 * B * st) / (ts * B) / 1e9, kv / 1048576.0, st / 1048576.0,
                   to / ts);
        }
        fflush(stdout);
    }
    free(lg);
    free(tok);
    rl_ctx_free(&c);
    rl_ctx_free(&cop);
    rl_model_free(&student);
    rl_model_free(&teacher);
    rl_pool_free(pool);
    return 0;
}
