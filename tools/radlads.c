/* radlads - the command-line tool: convert a Hugging Face transformer into a RAD-RWKV
   student (RADLADS steps 1-3), generate text, evaluate.

     radlads generate --model DIR [--prompt TEXT] [-n 64] [--temperature 0] [--top-k 0] [--top-p 1] [--seed 1]
     radlads convert  --teacher DIR --data FILE --out DIR [--arch rwkv7|rwkv6] [options]
     radlads eval     --model DIR --data FILE [--teacher DIR] [--ctx 512] [--windows 0 = all held out] [--heldout-docs]
     radlads info     --model DIR

   A model DIR is a Hugging Face folder (config.json, *.safetensors, tokenizer.json): a
   Qwen2/Llama teacher, or a student written by `convert` (model_type rwkv6qwen2/rwkv7qwen2).
   Data: a text file (one document), a .jsonl file ({"text": ...} per line, one document
   each), an RWKV binidx prefix (FILE.bin + FILE.idx) or an llm.c token file (.bin). */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static volatile int g_stop;
static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1;
}

static void log_cb(void *user, int level, const char *msg) {
    (void)user;
    fprintf(stderr, "%s%s\n", level == RL_LOG_ERROR ? "error: " : level == RL_LOG_WARN ? "warning: " : "", msg);
}

/* mkdir -p; 0 on success */
static int mkdir_p(const char *path) {
    char buf[4096];
    size_t i, n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == 0) {
            char ch = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "radlads: cannot create %s: %s\n", buf, strerror(errno));
                return -1;
            }
            buf[i] = ch;
        }
    return 0;
}

static int die(const char *what) {
    fprintf(stderr, "radlads: %s: %s\n", what, rl_last_error());
    return 1;
}

/* ---- options ---- */
typedef struct {
    int argc;
    char **argv;
} args_t;
static const char *opt_str(args_t *a, const char *name, const char *dflt) {
    int i;
    for (i = 0; i < a->argc - 1; i++)
        if (!strcmp(a->argv[i], name)) return a->argv[i + 1];
    return dflt;
}
static int opt_flag(args_t *a, const char *name) {
    int i;
    for (i = 0; i < a->argc; i++)
        if (!strcmp(a->argv[i], name)) return 1;
    return 0;
}
static double opt_num(args_t *a, const char *name, double dflt) {
    const char *s = opt_str(a, name, NULL);
    char *end;
    double v;
    if (!s) return dflt;
    v = strtod(s, &end);
    if (*end == 'k' || *end == 'K') v *= 1e3, end++;
    else if (*end == 'M' || *end == 'm') v *= 1e6, end++;
    else if (*end == 'G' || *end == 'g') v *= 1e9, end++;
    if (*end) {
        fprintf(stderr, "radlads: %s: '%s' is not a number\n", name, s);
        exit(2);
    }
    return v;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *human(double v, char *buf, size_t n) {
    if (v >= 1e9) snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(buf, n, "%.1fk", v / 1e3);
    else snprintf(buf, n, "%.0f", v);
    return buf;
}

/* convert: OUT/eval.csv (held-out measurements) and OUT/train.svg, redrawn at every checkpoint */
typedef struct {
    const char *out;
    int64_t ckpt_every, windows;
    int eval_at_ckpt; /* --ckpt-eval: held-out perplexity of the student at every checkpoint */
    rl_model *student;
    const rl_loader *L;
    rl_pool *pool;
} plot_t;

static void eval_csv_add(const char *out, int stage, int64_t tokens, const char *label, double ppl, double kl, double top1) {
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/eval.csv", out);
    if (!(f = fopen(path, "a"))) return;
    fprintf(f, "%d,%lld,%s,%.6g,%.6g,%.6g\n", stage, (long long)tokens, label, ppl, kl, top1);
    fclose(f);
}

static void redraw(const char *out) {
    char tr[4096], ev[4096], svg[4096];
    snprintf(tr, sizeof tr, "%s/train.csv", out);
    snprintf(ev, sizeof ev, "%s/eval.csv", out);
    snprintf(svg, sizeof svg, "%s/train.svg", out);
    if (access(tr, F_OK) != 0) return; /* nothing logged yet (step 1 --layerwise keeps no train.csv) */
    if (rl_plot_train_svg(tr, ev, svg, out) != RL_OK) fprintf(stderr, "radlads: plot: %s\n", rl_last_error());
}

static void progress_cb(void *user, const rl_progress *p) {
    static double last;
    char a[32], b[32];
    int eta = (int)p->eta_s, tty = isatty(2);
    plot_t *pl = (plot_t *)user;
    if (pl && ((pl->ckpt_every > 0 && p->step % pl->ckpt_every == 0) || p->step == p->steps)) {
        if (pl->eval_at_ckpt && p->step != p->steps) { /* the stage's end is measured by the report */
            rl_ctx c;
            double nll;
            rl_ctx_init(&c, pl->pool);
            if (rl_eval_ppl(&c, pl->student, pl->L, pl->windows, &nll) == RL_OK) eval_csv_add(pl->out, p->stage, p->tokens, "student", exp(nll), NAN, NAN);
            rl_ctx_free(&c);
        }
        redraw(pl->out);
    }
    /* on a terminal one line is redrawn; in a log, one line every 10 s and at the end */
    if (!tty && p->step != p->steps && p->step != 1 && now_s() - last < 10) return;
    last = now_s();
    fprintf(stderr, "%sstage %d  step %lld/%lld  tokens %s/%s  loss %.5f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %d:%02d:%02d   ", tty ? "\r" : "", p->stage,
            (long long)p->step, (long long)p->steps, human((double)p->tokens, a, sizeof a), human((double)p->tokens_total, b, sizeof b), p->loss,
            p->lr, p->grad_norm, p->tok_per_s, eta / 3600, eta / 60 % 60, eta % 60);
    if (p->step == p->steps || !tty) fputc('\n', stderr);
}

static int is_gguf(const char *path) {
    size_t n = strlen(path);
    return n > 5 && !strcmp(path + n - 5, ".gguf");
}
static int is_llama2c(const char *path) { /* a llama2.c checkpoint: model.bin */
    size_t n = strlen(path);
    return n > 4 && !strcmp(path + n - 4, ".bin");
}
static const char *g_tokenizer; /* --tokenizer tok.bin, for a llama2.c .bin model */

/* a Hugging Face folder, a llama.cpp .gguf file or a llama2.c .bin file */
static int load_model(rl_model *m, const char *dir) {
    rl_status st = is_gguf(dir) ? rl_model_load_gguf(m, dir) : is_llama2c(dir) ? rl_model_load_llama2c(m, dir) : rl_model_load(m, dir, 0);
    if (st != RL_OK) return die(dir);
    return 0;
}

static int load_tok(rl_tokenizer **tok, const char *dir) {
    char path[4096];
    if (is_gguf(dir)) {
        rl_gguf g;
        rl_status st;
        if (rl_gguf_open(&g, dir) != RL_OK) return die(dir);
        st = rl_tokenizer_from_gguf(tok, &g);
        rl_gguf_close(&g);
        return st == RL_OK ? 0 : die(dir);
    }
    if (is_llama2c(dir)) {
        if (!g_tokenizer) {
            fprintf(stderr, "radlads: %s: a llama2.c model needs --tokenizer tok.bin\n", dir);
            return 1;
        }
        return rl_tokenizer_load_llama2c(tok, g_tokenizer, 0) == RL_OK ? 0 : die("tokenizer");
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (rl_tokenizer_load(tok, access(path, F_OK) == 0 ? path : dir) != RL_OK) return die("tokenizer"); /* dir: a llama2.c tokenizer.bin */
    return 0;
}

/* ---- generate ---- */
static int generate(rl_pool *pool, rl_model *m, rl_tokenizer *tok, const char *prompt, int n, const rl_sampler *smp, uint64_t seed,
                    int echo_stats) {
    rl_ctx c;
    rl_state s;
    rl_rng rng;
    rl_detok dt;
    int32_t *ids = NULL, t;
    int64_t n_ids = 0, i;
    float *lg = (float *)malloc(sizeof(float) * (size_t)m->cfg.vocab_size);
    double t0, t1;
    const char *txt;
    size_t len;
    int k;
    if (rl_tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, &n_ids) != RL_OK) return die("encode");
    if (n_ids == 0) { /* an empty prompt starts from EOS */
        RL_FREE(ids);
        ids = (int32_t *)malloc(sizeof(int32_t));
        ids[0] = m->cfg.n_eos ? m->cfg.eos_ids[0] : 0;
        n_ids = 1;
    }
    rl_ctx_init(&c, pool);
    c.scan_chunk = 32;
    rl_rng_seed(&rng, seed);
    if (rl_state_init(&s, m, n_ids + n + 1) != RL_OK) return die("state");
    rl_detok_init(&dt, 0);
    for (i = 0; i < n_ids; i++) rl_detok_push(tok, &dt, ids[i], &txt, &len); /* the prompt is printed as given; this sets the decoder's context */
    if (rl_detok_flush(&dt, &txt, &len) != RL_OK) return die("decode");
    fputs(prompt, stdout);
    fflush(stdout);
    t0 = now_s();
    if (rl_model_step(&c, m, &s, ids, n_ids, lg) != RL_OK) return die("prefill");
    t1 = now_s();
    for (k = 0; k < n; k++) {
        t = rl_sample(lg, m->cfg.vocab_size, smp, &rng);
        for (i = 0; i < m->cfg.n_eos; i++)
            if (t == m->cfg.eos_ids[i]) k = n;
        if (k == n) break;
        if (rl_detok_push(tok, &dt, t, &txt, &len) == RL_OK) fwrite(txt, 1, len, stdout);
        fflush(stdout);
        if (rl_model_step(&c, m, &s, &t, 1, lg) != RL_OK) return die("decode");
    }
    if (rl_detok_flush(&dt, &txt, &len) == RL_OK) fwrite(txt, 1, len, stdout);
    fputc('\n', stdout);
    if (echo_stats)
        fprintf(stderr, "[prompt %lld tokens: %.1f tok/s; generated %d tokens: %.1f tok/s]\n", (long long)n_ids,
                (double)n_ids / (t1 - t0), k, (double)k / (now_s() - t1));
    rl_detok_free(&dt);
    rl_state_free(&s);
    rl_ctx_free(&c);
    RL_FREE(ids);
    free(lg);
    return 0;
}

/* ---- data ---- */
static int load_data(rl_tokens *t, const char *path, rl_tokenizer *tok, int32_t eos) {
    char idx[4096];
    size_t n = strlen(path);
    FILE *f;
    snprintf(idx, sizeof idx, "%s.idx", path);
    if ((f = fopen(idx, "rb"))) {
        fclose(f);
        if (rl_tokens_load_binidx(t, path) != RL_OK) return die(path);
        return 0;
    }
    if (n > 4 && !strcmp(path + n - 4, ".bin")) {
        if (rl_tokens_load_llmc(t, path) != RL_OK) return die(path);
        return 0;
    }
    if (rl_tokens_from_text(t, tok, path, eos) != RL_OK) return die(path);
    return 0;
}

static int cmd_generate(args_t *a, rl_pool *pool) {
    rl_model m;
    rl_tokenizer *tok;
    rl_sampler smp;
    const char *dir = opt_str(a, "--model", NULL);
    int rc;
    if (!dir) {
        fprintf(stderr, "radlads generate: --model DIR is required\n");
        return 2;
    }
    if (load_model(&m, dir) || load_tok(&tok, dir)) return 1;
    smp.temperature = (float)opt_num(a, "--temperature", 0);
    smp.top_k = (int)opt_num(a, "--top-k", 0);
    smp.top_p = (float)opt_num(a, "--top-p", 1);
    rc = generate(pool, &m, tok, opt_str(a, "--prompt", ""), (int)opt_num(a, "-n", 64), &smp, (uint64_t)opt_num(a, "--seed", 1), 1);
    rl_tokenizer_free(tok);
    rl_model_free(&m);
    return rc;
}

static int cmd_info(args_t *a) {
    rl_model m;
    const char *dir = opt_str(a, "--model", NULL);
    char b[32];
    if (!dir) {
        fprintf(stderr, "radlads info: --model DIR is required\n");
        return 2;
    }
    if (load_model(&m, dir)) return 1;
    printf("%s: %s, %s parameters, %lld layers, d_model %lld, %lld heads (%lld kv) of %lld, MLP %lld, vocab %lld\n", dir,
           m.student.kind == RL_MIXER_RWKV7 ? "RAD-RWKV7 student" : m.student.kind == RL_MIXER_RWKV6 ? "RAD-RWKV6 student" : "transformer",
           human((double)rl_model_n_params(&m), b, sizeof b), (long long)m.cfg.n_layers, (long long)m.cfg.hidden_size,
           (long long)m.cfg.n_heads, (long long)m.cfg.n_kv_heads, (long long)m.cfg.head_dim, (long long)m.cfg.intermediate_size,
           (long long)m.cfg.vocab_size);
    rl_model_free(&m);
    return 0;
}

static int heldout_split(rl_loader *L, args_t *a, const rl_model *m, const rl_tokens *data, const char *dpath);
static const char *split_desc(const rl_loader *L, int64_t windows, const char *dpath);

static int cmd_eval(args_t *a, rl_pool *pool) {
    rl_model m, t;
    rl_tokenizer *tok;
    rl_tokens data;
    rl_loader L;
    rl_ctx c;
    double nll, kl, top1;
    const char *dir = opt_str(a, "--model", NULL), *tdir = opt_str(a, "--teacher", NULL), *dpath = opt_str(a, "--data", NULL);
    int64_t ctx = (int64_t)opt_num(a, "--ctx", 512), windows = (int64_t)opt_num(a, "--windows", opt_num(a, "--eval-windows", 0));
    if (dir && opt_str(a, "--task", NULL)) { /* lm-evaluation-harness multiple choice / lambada */
        rl_mc_result r;
        const char *task = opt_str(a, "--task", NULL);
        if (load_model(&m, dir) || load_tok(&tok, dir)) return 1;
        rl_ctx_init(&c, pool);
        if (rl_eval_task(&c, &m, tok, task, opt_str(a, "--task-name", NULL), (int64_t)opt_num(a, "--limit", 0), &r) != RL_OK) return die(task);
        printf("%s on %s: n %lld  acc %.4f", dir, task, (long long)r.n, r.acc);
        if (r.acc_norm == r.acc_norm) printf("  acc_norm %.4f", r.acc_norm);
        if (r.ppl == r.ppl) printf("  ppl %.4f", r.ppl);
        printf("\n");
        rl_ctx_free(&c);
        rl_tokenizer_free(tok);
        rl_model_free(&m);
        return 0;
    }
    if (!dir || !dpath) {
        fprintf(stderr, "radlads eval: --model DIR and --data FILE (or --task FILE.jsonl) are required\n");
        return 2;
    }
    /* --heldout-docs: documents joined by the model's first EOS, as convert does */
    if (load_model(&m, dir) || load_tok(&tok, dir) ||
        load_data(&data, dpath, tok, opt_flag(a, "--heldout-docs") && m.cfg.n_eos ? m.cfg.eos_ids[0] : -1))
        return 1;
    rl_ctx_init(&c, pool);
    if (opt_str(a, "--stride", NULL)) { /* the whole file, Hugging Face's sliding-window recipe */
        int64_t stride = (int64_t)opt_num(a, "--stride", (double)ctx), begin, prev_end = 0, scored = 0, b, e, k;
        double sum = 0;
        int32_t *tg = (int32_t *)malloc(sizeof(int32_t) * (size_t)ctx);
        for (begin = 0; begin < data.n - 1; begin += stride) {
            rl_forward_opts fo;
            rl_tensor *lg, *ce;
            e = RL__MIN(begin + ctx, data.n);
            memset(&fo, 0, sizeof fo);
            fo.B = 1;
            fo.T = e - begin - 1; /* inputs ids[begin, e-1), targets ids[begin+1, e) */
            /* score target t only if no earlier window scored it (t >= prev_end), as HF's recipe */
            for (k = 0, b = 0; b < fo.T; b++) {
                tg[b] = begin + 1 + b >= prev_end ? data.ids[begin + 1 + b] : -1;
                k += tg[b] >= 0;
            }
            rl_ctx_reset(&c);
            rl_no_grad_push(&c);
            lg = rl_model_forward(&c, &m, data.ids + begin, &fo);
            ce = rl_cross_entropy(&c, lg, tg);
            rl_no_grad_pop(&c);
            if (!ce) return die("eval");
            scored += k;
            sum += (double)rl_f32(ce)[0] * (double)k;
            prev_end = e;
            if (e == data.n) break;
        }
        printf("%s: perplexity %.4f (nll %.5f) over %lld tokens of %s (whole file, context %lld, stride %lld)\n", dir, exp(sum / (double)scored),
               sum / (double)scored, (long long)scored, dpath, (long long)ctx, (long long)stride);
        free(tg);
        rl_ctx_free(&c);
        rl_tokens_free(&data);
        rl_tokenizer_free(tok);
        rl_model_free(&m);
        return 0;
    }
    if (rl_loader_init(&L, &data, ctx, opt_num(a, "--heldout", 0.05)) != RL_OK) return die("data");
    if (heldout_split(&L, a, &m, &data, dpath)) return 1;
    if (rl_eval_ppl(&c, &m, &L, windows, &nll) != RL_OK) return die("eval");
    printf("%s: held-out perplexity %.4f (nll %.5f) over %s\n", dir, exp(nll), nll, split_desc(&L, windows, dpath));
    if (tdir) {
        if (load_model(&t, tdir)) return 1;
        if (rl_eval_compare(&c, &m, &t, &L, windows, &kl, &top1) != RL_OK) return die("compare");
        printf("vs teacher %s: KL(teacher||student) %.5f per token, top-1 agreement %.2f%%\n", tdir, kl, 100 * top1);
        rl_model_free(&t);
    }
    rl_ctx_free(&c);
    rl_tokens_free(&data);
    rl_tokenizer_free(tok);
    rl_model_free(&m);
    return 0;
}

/* --heldout-docs: hold out whole documents (the split starts at a document separator) */
static int heldout_split(rl_loader *L, args_t *a, const rl_model *m, const rl_tokens *data, const char *dpath) {
    int32_t sep = m->cfg.n_eos ? m->cfg.eos_ids[0] : -1;
    if (!opt_flag(a, "--heldout-docs")) return 0;
    (void)data;
    if (sep < 0) {
        fprintf(stderr, "radlads: --heldout-docs: the model has no EOS token that separates documents\n");
        return 1;
    }
    if (rl_loader_heldout_docs(L, sep) != RL_OK) return die(dpath);
    return 0;
}

/* "all 97 windows (49,664 tokens [a, b) of FILE)" or "16 of 97 windows drawn with a fixed seed (...)" */
static const char *split_desc(const rl_loader *L, int64_t windows, const char *dpath) {
    static char buf[1024];
    int64_t n = windows > 0 ? (windows < L->n_heldout ? windows : L->n_heldout) : L->n_heldout;
    if (n == L->n_heldout)
        snprintf(buf, sizeof buf, "the whole held-out split: %lld windows of <= %lld tokens, tokens %lld..%lld of %s", (long long)n, (long long)L->T,
                 (long long)L->heldout_begin, (long long)L->heldout_end, dpath);
    else
        snprintf(buf, sizeof buf, "%lld of the %lld held-out windows (fixed-seed draw), tokens %lld..%lld of %s", (long long)n, (long long)L->n_heldout,
                 (long long)L->heldout_begin, (long long)L->heldout_end, dpath);
    return buf;
}

/* held-out perplexity, KL and top-1 of a model against the teacher, one line; then a
   greedy sample when a prompt is given */
static void report(rl_ctx *c, rl_pool *pool, const char *label, rl_model *m, rl_model *t, rl_tokenizer *tok, const rl_loader *L,
                   int64_t windows, const char *prompt, const char *out, int stage, int64_t tokens) {
    double nll, kl = 0, top1 = 1;
    if (rl_eval_ppl(c, m, L, windows, &nll) != RL_OK) return;
    if (m != t && rl_eval_compare(c, m, t, L, windows, &kl, &top1) != RL_OK) return;
    eval_csv_add(out, stage, tokens, m == t ? "teacher" : "student", exp(nll), kl, top1);
    printf("%-22s held-out ppl %9.3f   KL %.4f   top-1 %.1f%%\n", label, exp(nll), kl, 100 * top1);
    fflush(stdout);
    if (prompt) {
        rl_sampler greedy = {0, 1, 0};
        printf("  sample: ");
        generate(pool, m, tok, prompt, 32, &greedy, 1, 0);
    }
}

static int cmd_convert(args_t *a, rl_pool *pool) {
    rl_model teacher, student;
    rl_tokenizer *tok;
    rl_tokens data;
    rl_loader L;
    rl_student_opts so;
    rl_ctx c;
    char path[4096];
    const char *tdir = opt_str(a, "--teacher", NULL), *dpath = opt_str(a, "--data", NULL), *out = opt_str(a, "--out", NULL);
    const char *arch = opt_str(a, "--arch", "rwkv7"), *samples = opt_str(a, "--samples", NULL);
    int64_t ctx = (int64_t)opt_num(a, "--ctx", 512), windows = (int64_t)opt_num(a, "--eval-windows", 0);
    int stage, resume = opt_flag(a, "--resume"), reports = !opt_flag(a, "--no-report");
    plot_t plot;
    rl_status st;
    if (!tdir || !dpath || !out) {
        fprintf(stderr, "radlads convert: --teacher DIR, --data FILE and --out DIR are required\n");
        return 2;
    }
    if (load_model(&teacher, tdir) || load_tok(&tok, tdir)) return 1;
    if (load_data(&data, dpath, tok, teacher.cfg.n_eos ? teacher.cfg.eos_ids[0] : -1)) return 1;
    rl_student_opts_default(&so, !strcmp(arch, "rwkv6") ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
    if (strcmp(arch, "rwkv6") && strcmp(arch, "rwkv7")) {
        fprintf(stderr, "radlads convert: --arch must be rwkv7 or rwkv6, not '%s'\n", arch);
        return 2;
    }
    so.keep_attention = (int)opt_num(a, "--keep-attention", 0);
    so.seed = (uint64_t)opt_num(a, "--seed", 1337);
    if (opt_flag(a, "--variant-a")) { /* RWKV7 as released: GroupNorm, k_k/k_a */
        so.balance_state = 0;
        so.groupnorm_att = 1;
    }
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) return die("student");
    if (mkdir_p(out) != 0) return 1;
    if (!resume) { /* a fresh run starts fresh logs (--resume appends) */
        snprintf(path, sizeof path, "%s/train.csv", out);
        remove(path);
        snprintf(path, sizeof path, "%s/eval.csv", out);
        remove(path);
    }
    if (rl_loader_init(&L, &data, ctx, opt_num(a, "--heldout", 0.05)) != RL_OK) return die("data");
    if (heldout_split(&L, a, &teacher, &data, dpath)) return 1;
    rl_ctx_init(&c, pool);
    {
        char b1[32], b2[32];
        printf("teacher %s (%s params), student RAD-RWKV%c, data %s: %s tokens (%lld training windows of %lld, %lld held out)\n", tdir,
               human((double)rl_model_n_params(&teacher), b1, sizeof b1), so.kind == RL_MIXER_RWKV6 ? '6' : '7', dpath,
               human((double)data.n, b2, sizeof b2), (long long)L.n_train, (long long)ctx, (long long)L.n_heldout);
        if (reports) printf("held-out scoring: %s\n", split_desc(&L, windows, dpath));
    }
    if (reports) {
        report(&c, pool, "teacher", &teacher, &teacher, tok, &L, windows, samples, out, 0, 0);
        report(&c, pool, "student at init", &student, &teacher, tok, &L, windows, samples, out, 0, 0);
    }
    signal(SIGINT, on_sigint);
    for (stage = 1; stage <= 3; stage++) {
        rl_stage_opts o;
        char key[32], ck[4096];
        FILE *f;
        rl_stage_opts_default(&o, stage);
        snprintf(key, sizeof key, "--step%d-tokens", stage);
        o.tokens = (int64_t)opt_num(a, key, stage == 1 ? 100e6 : stage == 2 ? 500e6 : 0);
        if (o.tokens <= 0) continue;
        o.ctx = stage == 3 ? (int64_t)opt_num(a, "--step3-ctx", (double)ctx) : ctx;
        snprintf(key, sizeof key, "--batch%d", stage);
        o.batch = (int64_t)opt_num(a, key, opt_num(a, "--batch", (double)o.batch));
        o.micro_batch = (int64_t)opt_num(a, "--micro-batch", 1);
        snprintf(key, sizeof key, "--lr%d", stage);
        o.lr.lr_init = opt_num(a, key, o.lr.lr_init);
        snprintf(key, sizeof key, "--lr%d-final", stage);
        o.lr.lr_final = opt_num(a, key, o.lr.lr_final);
        o.lr.warmup_steps = (int64_t)opt_num(a, "--warmup", 50);
        o.ckpt_every = (int64_t)opt_num(a, "--ckpt-every", 100);
        o.chunk = (int64_t)opt_num(a, "--step3-chunk", 512);
        o.layerwise = stage == 1 && opt_flag(a, "--layerwise");
        o.heldout = opt_num(a, "--heldout", 0.05);
        snprintf(ck, sizeof ck, "%s/stage%d.ckpt.safetensors", out, stage);
        o.checkpoint = ck;
        o.resume = resume && (f = fopen(ck, "rb")) && !fclose(f);
        snprintf(path, sizeof path, "%s/train.csv", out);
        o.csv = path;
        o.stop = &g_stop;
        o.progress = progress_cb;
        plot.out = out;
        plot.ckpt_every = o.ckpt_every;
        plot.windows = windows;
        plot.eval_at_ckpt = opt_flag(a, "--ckpt-eval");
        plot.student = &student;
        plot.L = &L;
        plot.pool = pool;
        o.user = &plot;
        {
            rl_plan pl;
            char b1[32], b2[32], b3[32];
            rl_stage_plan(&student, &teacher, &o, &pl);
            printf("plan stage %d: %s tokens in %lld steps of %lld x %lld; trains %s of %s parameters; memory: weights %.1f MiB, grads %.1f MiB, "
                   "Adam %.1f MiB, activations ~%.1f MiB; %.3g MFLOP/token, %.3g TFLOP in all\n",
                   stage, human((double)o.tokens, b1, sizeof b1), (long long)((o.tokens + o.batch * o.ctx - 1) / (o.batch * o.ctx)), (long long)o.batch,
                   (long long)o.ctx, human((double)pl.trained, b2, sizeof b2), human((double)pl.params, b3, sizeof b3), pl.weights_bytes / 1048576.0,
                   pl.grads_bytes / 1048576.0, pl.optim_bytes / 1048576.0, pl.act_bytes / 1048576.0, pl.flops_per_token * 1e-6, pl.flops_total * 1e-12);
            fflush(stdout);
        }
        st = rl_train_stage(&c, &student, &teacher, &data, &o);
        if (st == RL_ERR_INTERRUPTED) {
            fprintf(stderr, "\ninterrupted: %s\nresume with the same command and --resume\n", rl_last_error());
            return 130;
        }
        if (st != RL_OK) return die("training");
        if (reports) {
            snprintf(key, sizeof key, "after step %d", stage);
            report(&c, pool, key, &student, &teacher, tok, &L, windows, samples, out, stage,
                   (o.tokens + o.batch * o.ctx - 1) / (o.batch * o.ctx) * o.batch * o.ctx);
            redraw(out);
        }
    }
    snprintf(path, sizeof path, "%s/model", out);
    if (rl_model_save(&student, path, tdir) != RL_OK) return die(path);
    printf("student written to %s\n", path);
    rl_ctx_free(&c);
    rl_tokens_free(&data);
    rl_tokenizer_free(tok);
    rl_model_free(&student);
    rl_model_free(&teacher);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: radlads <command> [options]\n"
            "  generate --model DIR [--prompt TEXT] [-n 64] [--temperature 0] [--top-k 0] [--top-p 1] [--seed 1]\n"
            "  convert  --teacher DIR --data FILE --out DIR [--arch rwkv7|rwkv6] [--ctx 512]\n"
            "           [--step1-tokens 100M] [--step2-tokens 500M] [--step3-tokens 0 --step3-ctx N]\n"
            "           [--batch N | --batch1/2/3 N] [--micro-batch 1] [--lr1 1e-3 --lr1-final 1e-5 --lr2 1e-5 --lr3 1e-5]\n"
            "           [--warmup 50] [--keep-attention 0] [--variant-a] [--heldout 0.05] [--ckpt-every 100] [--resume]\n"
            "           [--eval-windows 0 (0: the whole held-out split; N: N windows drawn with a fixed seed)] [--heldout-docs] [--ckpt-eval] [--no-report] [--samples PROMPT] [--step3-chunk 512] [--layerwise]\n"
            "  eval     --model DIR --data FILE [--teacher DIR] [--ctx 512] [--windows 0 (all)] [--heldout 0.05] [--heldout-docs]\n"
            "           [--stride S: the whole file in windows of ctx every S tokens, as Hugging Face's perplexity guide]\n"
            "  eval     --model DIR --task FILE.jsonl [--task-name hellaswag|piqa|arc_easy|arc_challenge|winogrande|lambada_openai] [--limit N]\n"
            "  import   --gguf FILE --out DIR      (a llama.cpp GGUF teacher -> Hugging Face folder)\n"
            "  import   --llama2c model.bin --tokenizer tok.bin --out DIR   (a llama2.c checkpoint, v0/v1/v2 -> Hugging Face folder)\n"
            "  export   --model DIR --out FILE.gguf [--type f16|bf16|f32]   (a RAD-RWKV6 student -> llama.cpp rwkv6qwen2)\n"
            "  info     --model DIR\n"
            "  plot     OUT                        (redraw OUT/train.svg from OUT/train.csv and OUT/eval.csv)\n"
            "A model DIR is a Hugging Face folder or, for generate/eval/info, a .gguf file or a llama2.c .bin (with --tokenizer tok.bin).\n"
            "common: --threads N (default: all cores)\n");
}

int main(int argc, char **argv) {
    args_t a;
    rl_pool *pool;
    int rc;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    a.argc = argc - 2;
    a.argv = argv + 2;
    rl_set_log(log_cb, NULL);
    pool = rl_pool_create((int)opt_num(&a, "--threads", 0));
    g_tokenizer = opt_str(&a, "--tokenizer", NULL);
    if (!strcmp(argv[1], "generate")) rc = cmd_generate(&a, pool);
    else if (!strcmp(argv[1], "convert")) rc = cmd_convert(&a, pool);
    else if (!strcmp(argv[1], "eval")) rc = cmd_eval(&a, pool);
    else if (!strcmp(argv[1], "info")) rc = cmd_info(&a);
    else if (!strcmp(argv[1], "plot")) { /* OUT/train.svg from OUT/train.csv and OUT/eval.csv */
        const char *dir = a.argc > 0 && a.argv[0][0] != '-' ? a.argv[0] : opt_str(&a, "--out", NULL);
        char tr[4096], ev[4096], svg[4096];
        if (!dir) {
            fprintf(stderr, "radlads plot: OUT (a convert output folder) is required\n");
            rc = 2;
        } else {
            snprintf(tr, sizeof tr, "%s/train.csv", dir);
            snprintf(ev, sizeof ev, "%s/eval.csv", dir);
            snprintf(svg, sizeof svg, "%s/train.svg", dir);
            rc = rl_plot_train_svg(tr, ev, svg, dir) != RL_OK ? die("plot") : 0;
            if (!rc) printf("%s\n", svg);
        }
    }
    else if (!strcmp(argv[1], "export")) { /* a RAD-RWKV6 student -> llama.cpp GGUF (rwkv6qwen2) */
        const char *dir = opt_str(&a, "--model", NULL), *out = opt_str(&a, "--out", NULL), *ty = opt_str(&a, "--type", "f16");
        rl_model m;
        rl_tokenizer *tok;
        rl_ggml_type wt = !strcmp(ty, "f32") ? RL_GGML_F32 : !strcmp(ty, "bf16") ? RL_GGML_BF16 : RL_GGML_F16;
        if (!dir || !out) {
            fprintf(stderr, "radlads export: --model DIR and --out FILE.gguf are required\n");
            rc = 2;
        } else if (load_model(&m, dir) || load_tok(&tok, dir)) {
            rc = 1;
        } else {
            rc = rl_export_gguf_rwkv6qwen2(&m, tok, out, wt) != RL_OK ? die(out) : 0;
            if (!rc) printf("%s -> %s (llama.cpp architecture rwkv6qwen2, %s weights)\n", dir, out, ty);
            rl_tokenizer_free(tok);
            rl_model_free(&m);
        }
    } else if (!strcmp(argv[1], "import") && opt_str(&a, "--llama2c", NULL)) { /* a llama2.c model.bin + tokenizer.bin */
        const char *mb = opt_str(&a, "--llama2c", NULL), *out = opt_str(&a, "--out", NULL);
        if (!g_tokenizer || !out) {
            fprintf(stderr, "radlads import: --llama2c FILE needs --tokenizer tok.bin and --out DIR\n");
            rc = 2;
        } else if (mkdir_p(out) != 0) {
            rc = 1;
        } else if (rl_import_llama2c(mb, g_tokenizer, out) != RL_OK) {
            rc = die(mb);
        } else {
            printf("%s + %s -> %s (config.json, model.safetensors, tokenizer.bin, generation_config.json)\n", mb, g_tokenizer, out);
            rc = 0;
        }
    } else if (!strcmp(argv[1], "import")) {
        const char *g = opt_str(&a, "--gguf", NULL), *out = opt_str(&a, "--out", NULL);
        if (!g || !out) {
            fprintf(stderr, "radlads import: --gguf FILE and --out DIR are required\n");
            rc = 2;
        } else if (mkdir_p(out) != 0) {
            rc = 1;
        } else if (rl_import_gguf(g, out) != RL_OK) {
            rc = die(g);
        } else {
            printf("%s -> %s (config.json, model.safetensors, tokenizer.json)\n", g, out);
            rc = 0;
        }
    }
    else {
        usage();
        rc = 2;
    }
    rl_pool_free(pool);
    return rc;
}
