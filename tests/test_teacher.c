/* The teacher transformer against transformers (tests/fixtures/tiny-*, tools/ref):
   logits of a batched forward, the per-layer attention input/output used by RADLADS
   step 1, and a greedy continuation through the KV-cache decoding path. */
#define _POSIX_C_SOURCE 200809L
#include "../radlads.h"
#include "rl_test.h"

static rl_pool *pool;
static const char *rlt_skips_note;

static float *read_ref(rl_st *st, const char *name, int64_t *n) {
    const rl_st_tensor *t = rl_st_find(st, name);
    float *v;
    if (!t) return NULL;
    v = (float *)malloc(sizeof(float) * (size_t)t->n);
    if (rl_st_read_f32(st, name, v, t->ndim, t->shape) != RL_OK) {
        free(v);
        return NULL;
    }
    if (n) *n = t->n;
    return v;
}

/* atol: fp32 weights 1e-4 (tools/ref/README: a float64 forward differs by <= 2.5e-6) */
static void check_model(const char *dir, double atol, int has_attn_refs) {
    rl_model m;
    rl_st ref;
    rl_ctx c;
    char path[512], gname[256];
    int32_t ids[22], greedy[16];
    int64_t n, l, L;
    snprintf(gname, sizeof gname, "teacher parity %s", dir + sizeof "tests/fixtures/" - 1);
    rlt_begin(gname);
    if (rl_model_load(&m, dir, 0) != RL_OK) {
        RLT_CHECK(0, "load %s: %s", dir, rl_last_error());
        rlt_end();
        return;
    }
    snprintf(path, sizeof path, "%s/ref.safetensors", dir);
    RLT_CHECK(rl_st_open(&ref, path) == RL_OK, "open %s: %s", path, rl_last_error());
    {
        int64_t s2[2] = {2, 11}, s1[1] = {16};
        RLT_CHECK(rl_st_read_i32(&ref, "input_ids", ids, 2, s2) == RL_OK, "input_ids");
        RLT_CHECK(rl_st_read_i32(&ref, "greedy", greedy, 1, s1) == RL_OK, "greedy");
    }
    L = m.cfg.n_layers;
    rl_ctx_init(&c, pool);
    {
        rl_forward_opts o;
        rl_tensor *ain[64], *aout[64], *y;
        float *logits = read_ref(&ref, "logits", &n);
        long at;
        memset(&o, 0, sizeof o);
        o.B = 2;
        o.T = 11;
        o.attn_in = ain;
        o.attn_out = aout;
        y = rl_model_forward(&c, &m, ids, &o);
        RLT_CHECK(y && c.err == RL_OK, "forward: %s", rl_last_error());
        if (y && logits) {
            double w = rlt_worst(rl_f32(y), logits, (long)n, atol, 0, &at);
            RLT_CHECK(y->n == n && w <= 1.0, "logits [%ld]: %g vs %g (atol %g)", at, rl_f32(y)[at], logits[at], atol);
        }
        for (l = 0; y && has_attn_refs && l < L; l++) {
            char nm[64];
            float *r;
            snprintf(nm, sizeof nm, "attn_in.%lld", (long long)l);
            r = read_ref(&ref, nm, &n);
            RLT_CHECK(r && rlt_worst(rl_f32(ain[l]), r, (long)n, atol, 0, &at) <= 1.0, "%s [%ld]", nm, at);
            free(r);
            snprintf(nm, sizeof nm, "attn_out.%lld", (long long)l);
            r = read_ref(&ref, nm, &n);
            RLT_CHECK(r && rlt_worst(rl_f32(aout[l]), r, (long)n, atol, 0, &at) <= 1.0, "%s [%ld]", nm, at);
            free(r);
        }
        free(logits);
    }
    { /* greedy decoding with the KV cache: prefill row 0, then one token at a time */
        rl_state s;
        float *lg = (float *)malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
        int32_t tok;
        int i, same = 1;
        RLT_CHECK(rl_state_init(&s, &m, 64) == RL_OK, "state: %s", rl_last_error());
        RLT_CHECK(rl_model_step(&c, &m, &s, ids, 11, lg) == RL_OK, "prefill: %s", rl_last_error());
        for (i = 0; i < 16; i++) {
            tok = rl_sample(lg, m.cfg.vocab_size, NULL, NULL);
            same &= tok == greedy[i];
            if (rl_model_step(&c, &m, &s, &tok, 1, lg) != RL_OK) break;
        }
        RLT_CHECK(same && i == 16, "greedy continuation differs from transformers at step %d", i);
        rl_state_free(&s);
        free(lg);
    }
    rl_ctx_free(&c);
    rl_st_close(&ref);
    rl_model_free(&m);
    rlt_end();
}

/* The demo teacher (examples/tiny-teacher, trained by tools/ref/make_tiny_teacher.py):
   logits and greedy continuation as transformers computed them on its bf16 weights, and
   its held-out perplexity on the tinyshakespeare tail as heldout.json states it. */
static void check_demo_teacher(void) {
    const char *dir = "examples/tiny-teacher";
    rl_model m;
    rl_tokenizer *tok;
    rl_st ref;
    rl_ctx c;
    int32_t ids[32], greedy[32];
    int64_t n, s1[2] = {1, 32}, s0[1] = {32};
    float *logits;
    rlt_begin("teacher parity examples/tiny-teacher (the demo teacher)");
    if (rl_model_load(&m, dir, 0) != RL_OK || rl_tokenizer_load(&tok, dir) != RL_OK || rl_st_open(&ref, "examples/tiny-teacher/ref.safetensors") != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    rl_st_read_i32(&ref, "input_ids", ids, 2, s1);
    rl_st_read_i32(&ref, "greedy", greedy, 1, s0);
    logits = read_ref(&ref, "logits", &n);
    rl_ctx_init(&c, pool);
    {
        rl_forward_opts o;
        rl_tensor *y;
        long at = 0;
        memset(&o, 0, sizeof o);
        o.B = 1;
        o.T = 32;
        y = rl_model_forward(&c, &m, ids, &o);
        RLT_CHECK(y && y->n == n && rlt_worst(rl_f32(y), logits, (long)n, 1e-4, 0, &at) <= 1.0, "logits [%ld]: %g vs %g", at, y ? rl_f32(y)[at] : 0, logits[at]);
    }
    { /* the decoding cache: prefill in pieces of 13 and 12 tokens (query blocks at positions 0
         and 13) and then 7 single tokens (one query row) = the transformers logits */
        static const int piece[9] = {13, 12, 1, 1, 1, 1, 1, 1, 1};
        int64_t V = m.cfg.vocab_size;
        float *lg = (float *)malloc(sizeof(float) * (size_t)V);
        rl_state s;
        int i, pos = 0;
        RLT_CHECK(rl_state_init(&s, &m, 32) == RL_OK, "state: %s", rl_last_error());
        for (i = 0; i < 9; i++) {
            long at = 0;
            RLT_CHECK(rl_model_step(&c, &m, &s, ids + pos, piece[i], lg) == RL_OK, "step: %s", rl_last_error());
            pos += piece[i];
            RLT_CHECK(rlt_worst(lg, logits + (pos - 1) * V, (long)V, 1e-4, 0, &at) <= 1.0, "cache, %d tokens at %d: logit %ld %g vs %g",
                      piece[i], pos - piece[i], at, lg[at], logits[(pos - 1) * V + at]);
        }
        rl_state_free(&s);
        free(lg);
    }
    {
        rl_state s;
        float *lg = (float *)malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
        int32_t t;
        int i, same = 1;
        rl_state_init(&s, &m, 80);
        rl_model_step(&c, &m, &s, ids, 32, lg);
        for (i = 0; i < 32; i++) {
            t = rl_sample(lg, m.cfg.vocab_size, NULL, NULL);
            same &= t == greedy[i];
            rl_model_step(&c, &m, &s, &t, 1, lg);
        }
        RLT_CHECK(same, "greedy 32 tokens equal transformers'");
        rl_state_free(&s);
        free(lg);
    }
    { /* held-out perplexity: tokens of the tail from text_offset + EOS, windows of 256 from position 0,
         every token but each window's first scored (examples/tiny-teacher/README.md) */
        const char *data = getenv("RADLADS_DATA");
        char path[1024];
        FILE *f;
        snprintf(path, sizeof path, "%s/tinyshakespeare/input.txt", data ? data : "../shared/data");
        if ((f = fopen(path, "rb")) == NULL) {
            rlt_skips_note = "no ../shared/data: held-out perplexity not checked";
        } else {
            static char text[70000];
            size_t len;
            int32_t *tids;
            int64_t nt, w, scored = 0, agree = 0;
            double nll = 0, nll16 = 0;
            int bf16 = rl_bf16_dot_available();
            fseek(f, 1059682, SEEK_SET);
            len = fread(text, 1, sizeof text - 1, f);
            fclose(f);
            rl_tokenizer_encode(tok, text, len, 0, &tids, &nt);
            tids = (int32_t *)realloc(tids, sizeof(int32_t) * (size_t)(nt + 1));
            tids[nt++] = m.cfg.eos_ids[0];
            for (w = 0; w < nt; w += 256) {
                int64_t T = nt - w < 256 ? nt - w : 256;
                rl_forward_opts o;
                rl_tensor *y, *ce;
                if (T < 2) break;
                memset(&o, 0, sizeof o);
                o.B = 1;
                o.T = T - 1;
                rl_ctx_reset(&c);
                rl_no_grad_push(&c);
                y = rl_model_forward(&c, &m, tids + w, &o);
                ce = rl_cross_entropy(&c, y, tids + w + 1);
                rl_no_grad_pop(&c);
                nll += (double)rl_f32(ce)[0] * (double)(T - 1);
                scored += T - 1;
                if (bf16) { /* the same window with rl_ctx.bf16_dot: inputs of the BF16 products rounded */
                    int64_t V = m.cfg.vocab_size, t;
                    rl_tensor *y16;
                    c.bf16_dot = 1;
                    rl_no_grad_push(&c);
                    y16 = rl_model_forward(&c, &m, tids + w, &o);
                    nll16 += (double)rl_f32(rl_cross_entropy(&c, y16, tids + w + 1))[0] * (double)(T - 1);
                    rl_no_grad_pop(&c);
                    c.bf16_dot = 0;
                    for (t = 0; t < T - 1; t++)
                        agree += rl_sample(rl_f32(y) + t * V, V, NULL, NULL) == rl_sample(rl_f32(y16) + t * V, V, NULL, NULL);
                }
            }
            RLT_CHECK(scored == 19741, "scored %lld tokens (heldout.json: 19741)", (long long)scored);
            RLT_CLOSE(exp(nll / (double)scored), 88.063225, 0, 1e-3, "held-out perplexity (heldout.json: 88.063225 from transformers)");
            printf("  info: demo teacher held-out perplexity %.4f (transformers 88.0632)\n", exp(nll / (double)scored));
            if (bf16) { /* bf16 inputs (relative rounding 2^-9) move each product by ~1e-3 of its size */
                printf("  info: with bf16_dot: perplexity %.4f, top-1 agreement %.4f\n", exp(nll16 / (double)scored),
                       (double)agree / (double)scored);
                RLT_CLOSE(nll16 / (double)scored, nll / (double)scored, 0, 1e-3, "held-out NLL with bf16_dot");
                RLT_CHECK((double)agree / (double)scored >= 0.99, "top-1 agreement with bf16_dot %.4f < 0.99",
                          (double)agree / (double)scored);
            }
            free(tids);
        }
    }
    free(logits);
    rl_ctx_free(&c);
    rl_st_close(&ref);
    rl_tokenizer_free(tok);
    rl_model_free(&m);
    rlt_end();
    if (rlt_skips_note) rlt_skip("teacher demo held-out perplexity", rlt_skips_note);
    if (!rl_bf16_dot_available()) rlt_skip("teacher demo held-out NLL with bf16_dot", "no AVX512-BF16 on this CPU (or another ISA forced)");
}

/* RADLADS_PROFILE=1 while decoding with the KV cache: the attention over the cache (no tape
   op) has its own row, one call per layer and step, not hidden in the rope before it. */
static char prof_log[16384];
static void prof_cb(void *user, int level, const char *msg) {
    (void)user, (void)level;
    if (strlen(prof_log) + strlen(msg) + 2 < sizeof prof_log) strcat(strcat(prof_log, msg), "\n");
}
static void set_profile_env(int on) { /* RADLADS_PROFILE is read by rl_ctx_init */
#ifdef _WIN32
    _putenv(on ? "RADLADS_PROFILE=1" : "RADLADS_PROFILE=");
#else
    if (on) setenv("RADLADS_PROFILE", "1", 1);
    else unsetenv("RADLADS_PROFILE");
#endif
}
static void check_profile_decode(void) {
    rl_model m;
    rl_ctx c;
    rl_state s;
    int32_t ids[3] = {1, 7, 3}, tok = 2;
    long calls = -1, rope = -1, steps = 4, i;
    const char *row;
    float *lg;
    rlt_begin("profile: decoding's cached attention has its own row");
    if (rl_model_load(&m, "tests/fixtures/tiny-llama", 0) != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    set_profile_env(1);
    rl_ctx_init(&c, pool);
    set_profile_env(0);
    lg = (float *)malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
    RLT_CHECK(rl_state_init(&s, &m, 16) == RL_OK, "state: %s", rl_last_error());
    RLT_CHECK(rl_model_step(&c, &m, &s, ids, 3, lg) == RL_OK, "prefill: %s", rl_last_error());
    for (i = 1; i < steps; i++) RLT_CHECK(rl_model_step(&c, &m, &s, &tok, 1, lg) == RL_OK, "step: %s", rl_last_error());
    prof_log[0] = 0;
    rl_set_log(prof_cb, NULL);
    rl_profile_report(&c);
    rl_set_log(NULL, NULL);
    if ((row = strstr(prof_log, "profile: attention "))) sscanf(row + strlen("profile: attention "), "%ld", &calls);
    if ((row = strstr(prof_log, "profile: rope "))) sscanf(row + strlen("profile: rope "), "%ld", &rope);
    RLT_CHECK(calls == steps * m.cfg.n_layers && rope == 2 * steps * m.cfg.n_layers,
              "attention %ld calls, rope %ld (want %ld and %ld); the report:\n%s", calls, rope, steps * (long)m.cfg.n_layers,
              2 * steps * (long)m.cfg.n_layers, prof_log);
    rl_state_free(&s);
    free(lg);
    rl_ctx_free(&c);
    rl_model_free(&m);
    rlt_end();
}

/* RADLADS_PROFILE=1 lists every matrix product of linear and matmul, forward and backward,
   under its product, layout and shape (M x N x K), with its calls and flops */
static long prof_gemm_calls(const char *what, const char *ab, long M, long N, long K, double *gflop) {
    const char *line = prof_log;
    for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        char name[21], lay[3], ty[16];
        long m, n, k, calls;
        double ms, gf;
        if (strncmp(line, "profile: ", 9) || strlen(line) < 30) continue;
        memcpy(name, line + 9, 20), name[20] = 0;
        while (name[0] && name[strlen(name) - 1] == ' ') name[strlen(name) - 1] = 0;
        if (sscanf(line + 29, " %2s %ld x %ld x %ld %15s %ld %lf %lf", lay, &m, &n, &k, ty, &calls, &ms, &gf) == 8 &&
            !strcmp(name, what) && !strcmp(lay, ab) && m == M && n == N && k == K) {
            if (gflop) *gflop = gf;
            return calls;
        }
    }
    return -1;
}
static void check_profile_gemm(void) {
    enum { M = 64, K = 96, N = 128, R = 32 }; /* x [M,K], W [N,K], A [K,R] */
    static float xd[M * K], wd[N * K], ad[K * R], gx[M * K], gw[N * K], ga[K * R];
    int64_t sx[2] = {M, K}, sw[2] = {N, K}, sa[2] = {K, R};
    rl_tensor x = rl_wrap(xd, RL_F32, 2, sx, 1), W = rl_wrap(wd, RL_F32, 2, sw, 1), A = rl_wrap(ad, RL_F32, 2, sa, 1), *loss;
    rl_ctx c;
    double gf = -1, total = -1;
    const char *row;
    int i;
    rlt_begin("profile: the ops' matrix products by product, layout and shape");
    for (i = 0; i < M * K; i++) xd[i] = 0.01f * (float)(i % 13);
    for (i = 0; i < N * K; i++) wd[i] = 0.02f * (float)(i % 11);
    for (i = 0; i < K * R; i++) ad[i] = 0.03f * (float)(i % 7);
    x.grad = gx, W.grad = gw, A.grad = ga;
    set_profile_env(1);
    rl_ctx_init(&c, pool);
    set_profile_env(0);
    loss = rl_add(&c, rl_add(&c, rl_sum(&c, rl_linear(&c, &x, &W, NULL)), rl_sum(&c, rl_linear(&c, &x, &W, NULL))),
                  rl_sum(&c, rl_matmul(&c, &x, &A)));
    RLT_CHECK(loss && rl_backward(&c, loss) == RL_OK, "backward: %s", rl_last_error());
    prof_log[0] = 0;
    rl_set_log(prof_cb, NULL);
    rl_profile_report(&c);
    rl_set_log(NULL, NULL);
    /* x·Wᵀ twice; backward g·W (nn) and gᵀ·x (tn) twice; x·A, and backward g·Aᵀ (nt), xᵀ·g (tn) */
    RLT_CHECK(prof_gemm_calls("linear", "nt", M, N, K, &gf) == 2 && fabs(gf - 4e-9 * M * N * K) < 6e-4,
              "x·Wᵀ: %ld calls, %g GFLOP; the report:\n%s", prof_gemm_calls("linear", "nt", M, N, K, NULL), gf, prof_log);
    RLT_CHECK(prof_gemm_calls("linear backward", "nn", M, K, N, NULL) == 2, "dy·W; the report:\n%s", prof_log);
    RLT_CHECK(prof_gemm_calls("linear backward", "tn", N, K, M, NULL) == 2, "dyᵀ·x; the report:\n%s", prof_log);
    RLT_CHECK(prof_gemm_calls("matmul", "nn", M, R, K, NULL) == 1, "x·A; the report:\n%s", prof_log);
    RLT_CHECK(prof_gemm_calls("matmul backward", "nt", M, K, R, NULL) == 1, "dy·Aᵀ; the report:\n%s", prof_log);
    RLT_CHECK(prof_gemm_calls("matmul backward", "tn", K, R, M, NULL) == 1, "xᵀ·dy; the report:\n%s", prof_log);
    if ((row = strstr(prof_log, "profile: all products: "))) sscanf(row + strlen("profile: all products: "), "%lf", &total);
    RLT_CHECK(fabs(total / (2e-9 * (3.0 * 2 * M * N * K + 3.0 * M * R * K)) - 1) < 1e-4, "all products: %g GFLOP", total);
    rl_ctx_free(&c);
    rlt_end();
}

int main(void) {
    pool = rl_pool_create(2);
    check_profile_decode();
    check_profile_gemm();
    check_demo_teacher();
    check_model("tests/fixtures/tiny-qwen2", 1e-4, 1);
    /* bf16 weights, fp32 math: the reference is fp32 math on the same bf16 weights */
    check_model("tests/fixtures/tiny-qwen2-bf16", 1e-4, 1);
    check_model("tests/fixtures/tiny-llama", 1e-4, 0);
    check_model("tests/fixtures/tiny-llama-sharded", 1e-4, 0);
    rlt_begin("teacher from memory (rl_model_from_memory) equals the teacher from its folder");
    {
        const char *dirs[2] = {"tests/fixtures/tiny-qwen2", "tests/fixtures/tiny-qwen2-bf16"};
        int d;
        for (d = 0; d < 2; d++) {
            char p1[256], p2[256];
            size_t ns = 0, nc = 0;
            unsigned char *stb, *cfg;
            rl_model a, b;
            int32_t ids[5] = {1, 7, 3, 9, 2};
            snprintf(p1, sizeof p1, "%s/model.safetensors", dirs[d]);
            snprintf(p2, sizeof p2, "%s/config.json", dirs[d]);
            stb = rlt_read_all(p1, &ns);
            cfg = rlt_read_all(p2, &nc);
            RLT_CHECK(stb && cfg, "%s: read", dirs[d]);
            if (!stb || !cfg) continue;
            RLT_CHECK(rl_model_load(&a, dirs[d], 0) == RL_OK, "folder: %s", rl_last_error());
            RLT_CHECK(rl_model_from_memory(&b, stb, ns, (const char *)cfg, nc, 0, "tiny") == RL_OK, "memory: %s", rl_last_error());
            {
                float *la = rlt_logits(pool, &a, ids, 5), *lb = rlt_logits(pool, &b, ids, 5);
                RLT_CHECK(la && lb && !memcmp(la, lb, sizeof(float) * 5 * (size_t)a.cfg.vocab_size), "%s: same logits, bit for bit", dirs[d]);
                free(la);
                free(lb);
            }
            rl_model_free(&a);
            rl_model_free(&b);
            /* a truncated image is an error naming the source, not a crash */
            RLT_CHECK(rl_model_from_memory(&b, stb, ns / 2, (const char *)cfg, nc, 0, "tiny") != RL_OK && strstr(rl_last_error(), "tiny"),
                      "truncated: %s", rl_last_error());
            RLT_CHECK(rl_model_from_memory(&b, stb, ns, "{", 1, 0, "tiny") == RL_ERR_FORMAT && strstr(rl_last_error(), "tiny/config.json"),
                      "bad config: %s", rl_last_error());
            free(stb);
            free(cfg);
        }
    }
    rlt_end();
    rlt_begin("teacher errors");
    {
        rl_model m;
        RLT_CHECK(rl_model_load(&m, "tests/fixtures/does-not-exist", 0) != RL_OK && strstr(rl_last_error(), "does-not-exist"),
                  "missing folder: %s", rl_last_error());
    }
    rlt_end();
    rl_pool_free(pool);
    return rlt_exit();
}
