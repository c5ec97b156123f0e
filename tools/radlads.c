/* radlads - the command-line tool: convert a Hugging Face transformer into a RAD-RWKV
   student (RADLADS steps 1-3), generate text, evaluate.

     radlads generate --model DIR [--prompt TEXT] [-n 64] [--temperature 0] [--top-k 0] [--top-p 1] [--seed 1] [--no-pack]
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
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

/* ---- signals ----
   The first SIGINT/SIGTERM asks the training loop to finish its step and write a checkpoint;
   a second one stops at once (_exit) without touching the last checkpoint: a checkpoint
   being written goes to a temporary file that the next start removes. Both say so. */
static volatile int g_stop;
static void put_err(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) break;
        s += w;
        n -= (size_t)w;
    }
}
static void on_signal(int sig) {
    (void)sig;
    if (g_stop) {
        put_err("\nradlads: second interrupt: stopping now; the last checkpoint is left as it was (resume with --resume)\n");
        _exit(130);
    }
    g_stop = 1;
    put_err("\nradlads: interrupt: finishing this step, then writing a checkpoint (interrupt again to stop at once)\n");
}
static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* not one-shot (SA_RESETHAND) and no EINTR in the middle of a read or write */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void log_cb(void *user, int level, const char *msg) {
    (void)user;
    /* RADLADS_PROFILE=1's table (logged at RL_LOG_INFO when a context ends) is asked for: shown */
    if ((level == RL_LOG_INFO && strncmp(msg, "profile:", 8)) || level == RL_LOG_DEBUG) return;
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

/* ---- flags ----
   Each command accepts the flags of its table (plus the common ones) and nothing else: an
   unknown flag, a flag given twice, a missing value, a value outside its range or not one of
   its choices is an error (exit status 2) that says what is accepted. Numbers go through
   rl_parse_num / rl_parse_i64 (whole string, finite, in range, k/M/G suffixes). To add a flag,
   add one line to the command's table and read it with opt_str / opt_int / opt_num / opt_flag. */
typedef enum { F_STR, F_INT, F_NUM, F_BOOL, F_ENUM } flag_kind;
typedef struct {
    const char *name;
    flag_kind kind;
    double lo, hi;       /* F_INT, F_NUM: accepted range */
    const char *choices; /* F_ENUM: "a|b|c" */
} flag_def;
#define MAX_I 1e15 /* token budgets, step counts */
#define FLAG_COMMON {"--threads", F_INT, 0, 4096, NULL}
#define FLAG_DEVICE {"--device", F_ENUM, 0, 0, "cpu|cuda|auto"}
#define FLAG_END {NULL, F_STR, 0, 0, NULL}

static const flag_def generate_flags[] = {
    {"--model", F_STR, 0, 0, NULL},
    {"--prompt", F_STR, 0, 0, NULL},
    {"-n", F_INT, 0, 1 << 30, NULL},
    {"--temperature", F_NUM, 0, 1e6, NULL},
    {"--top-k", F_INT, 0, 2147483647, NULL},
    {"--top-p", F_NUM, 0, 1, NULL},
    {"--seed", F_INT, 0, 9007199254740992.0, NULL},
    {"--tokenizer", F_STR, 0, 0, NULL},
    {"--no-pack", F_BOOL, 0, 0, NULL},
    FLAG_DEVICE, FLAG_COMMON, FLAG_END};
static const flag_def info_flags[] = {{"--model", F_STR, 0, 0, NULL}, {"--tokenizer", F_STR, 0, 0, NULL}, FLAG_COMMON, FLAG_END};
static const flag_def eval_flags[] = {
    {"--model", F_STR, 0, 0, NULL},
    {"--data", F_STR, 0, 0, NULL},
    {"--teacher", F_STR, 0, 0, NULL},
    {"--ctx", F_INT, 1, 1 << 24, NULL},
    {"--windows", F_INT, 1, 1e9, NULL},
    {"--eval-windows", F_INT, 1, 1e9, NULL},
    {"--heldout", F_NUM, 0, 0.999, NULL},
    {"--heldout-docs", F_BOOL, 0, 0, NULL},
    {"--tokenizer", F_STR, 0, 0, NULL},
    {"--stride", F_INT, 1, 1 << 24, NULL},
    {"--task", F_STR, 0, 0, NULL},
    {"--task-name", F_ENUM, 0, 0, "auto|hellaswag|piqa|arc_easy|arc_challenge|arc|winogrande|lambada_openai|lambada|lambada_standard"},
    {"--limit", F_INT, 0, MAX_I, NULL},
    {"--bf16", F_ENUM, 0, 0, "teacher|all"},
    FLAG_DEVICE, FLAG_COMMON, FLAG_END};
static const flag_def convert_flags[] = {
    {"--teacher", F_STR, 0, 0, NULL},
    {"--data", F_STR, 0, 0, NULL},
    {"--out", F_STR, 0, 0, NULL},
    {"--arch", F_ENUM, 0, 0, "rwkv7|rwkv6"},
    {"--ctx", F_INT, 1, 1 << 24, NULL},
    {"--step1-tokens", F_INT, 0, MAX_I, NULL},
    {"--step2-tokens", F_INT, 0, MAX_I, NULL},
    {"--step3-tokens", F_INT, 0, MAX_I, NULL},
    {"--step3-ctx", F_INT, 1, 1 << 24, NULL},
    {"--step3-chunk", F_INT, 1, 1 << 24, NULL},
    {"--batch", F_INT, 1, 1 << 20, NULL},
    {"--batch1", F_INT, 1, 1 << 20, NULL},
    {"--batch2", F_INT, 1, 1 << 20, NULL},
    {"--batch3", F_INT, 1, 1 << 20, NULL},
    {"--micro-batch", F_INT, 1, 1 << 20, NULL},
    {"--kl-chunk", F_INT, -1, 1 << 30, NULL},
    {"--lr1", F_NUM, 0, 10, NULL},
    {"--lr2", F_NUM, 0, 10, NULL},
    {"--lr3", F_NUM, 0, 10, NULL},
    {"--lr1-final", F_NUM, 0, 10, NULL},
    {"--lr2-final", F_NUM, 0, 10, NULL},
    {"--lr3-final", F_NUM, 0, 10, NULL},
    {"--warmup", F_INT, 0, MAX_I, NULL},
    {"--keep-attention", F_INT, 0, 1 << 16, NULL},
    {"--variant-a", F_BOOL, 0, 0, NULL},
    {"--seed", F_INT, 0, 9007199254740992.0, NULL},
    {"--heldout", F_NUM, 0, 0.999, NULL},
    {"--ckpt-every", F_INT, 0, MAX_I, NULL},
    {"--resume", F_BOOL, 0, 0, NULL},
    {"--resume-force", F_BOOL, 0, 0, NULL},
    {"--max-nonfinite", F_INT, 1, 1e6, NULL},
    {"--eval-windows", F_INT, 1, 1e9, NULL},
    {"--no-report", F_BOOL, 0, 0, NULL},
    {"--samples", F_STR, 0, 0, NULL},
    {"--layerwise", F_BOOL, 0, 0, NULL},
    {"--modeling-code", F_STR, 0, 0, NULL},
    {"--heldout-docs", F_BOOL, 0, 0, NULL},
    {"--ckpt-eval", F_BOOL, 0, 0, NULL},
    {"--tokenizer", F_STR, 0, 0, NULL},
    {"--bf16", F_ENUM, 0, 0, "teacher|all"},
    FLAG_DEVICE, FLAG_COMMON, FLAG_END};
static const flag_def export_flags[] = {
    {"--model", F_STR, 0, 0, NULL},
    {"--out", F_STR, 0, 0, NULL},
    {"--type", F_ENUM, 0, 0, "f16|bf16|f32"},
    {"--tokenizer", F_STR, 0, 0, NULL},
    FLAG_COMMON, FLAG_END};
static const flag_def import_flags[] = {{"--gguf", F_STR, 0, 0, NULL}, {"--llama2c", F_STR, 0, 0, NULL}, {"--tokenizer", F_STR, 0, 0, NULL},
                                         {"--out", F_STR, 0, 0, NULL}, FLAG_COMMON, FLAG_END};

#define MAX_FLAGS 64
typedef struct {
    const char *cmd;
    const flag_def *defs;
    const char *val[MAX_FLAGS]; /* the value given for defs[i], NULL if absent */
} args_t;

static int flag_index(const args_t *a, const char *name) {
    int i;
    for (i = 0; a->defs[i].name; i++)
        if (!strcmp(a->defs[i].name, name)) return i;
    return -1;
}
static void list_flags(const args_t *a) {
    int i;
    fprintf(stderr, "radlads %s accepts:", a->cmd);
    for (i = 0; a->defs[i].name; i++) fprintf(stderr, " %s", a->defs[i].name);
    fprintf(stderr, "\n");
}
/* "a|b|c" holds v? */
static int in_choices(const char *choices, const char *v) {
    size_t n = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}
static int check_value(const args_t *a, const flag_def *d, const char *v) {
    double x;
    int64_t k;
    rl_status st = RL_OK;
    if (d->kind == F_INT) st = rl_parse_i64(v, d->name, (int64_t)d->lo, (int64_t)d->hi, RL_NUM_SUFFIX, &k);
    else if (d->kind == F_NUM) st = rl_parse_num(v, d->name, d->lo, d->hi, RL_NUM_SUFFIX, &x);
    else if (d->kind == F_ENUM && !in_choices(d->choices, v)) {
        const char *p;
        fprintf(stderr, "radlads %s: %s: '%s' is not one of: ", a->cmd, d->name, v);
        for (p = d->choices; *p; p++) fputs(*p == '|' ? ", " : (char[2]){*p, 0}, stderr);
        fputc('\n', stderr);
        return 2;
    }
    if (st != RL_OK) {
        fprintf(stderr, "radlads %s: %s\n", a->cmd, rl_last_error());
        return 2;
    }
    return 0;
}
/* 0, or 2 after saying what is wrong */
static int parse_args(args_t *a, const char *cmd, const flag_def *defs, int argc, char **argv) {
    int i, k;
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->defs = defs;
    for (i = 0; i < argc; i++) {
        const flag_def *d;
        if ((k = flag_index(a, argv[i])) < 0) {
            if (argv[i][0] == '-') fprintf(stderr, "radlads %s: unknown flag '%s'\n", cmd, argv[i]);
            else fprintf(stderr, "radlads %s: unexpected argument '%s' (every value follows its flag)\n", cmd, argv[i]);
            list_flags(a);
            return 2;
        }
        d = &defs[k];
        if (a->val[k]) {
            fprintf(stderr, "radlads %s: %s is given twice; give it once\n", cmd, d->name);
            return 2;
        }
        if (d->kind == F_BOOL) {
            a->val[k] = "1";
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "radlads %s: %s needs a value\n", cmd, d->name);
            return 2;
        }
        a->val[k] = argv[++i];
        if (check_value(a, d, a->val[k])) return 2;
    }
    return 0;
}
static const char *opt_str(const args_t *a, const char *name, const char *dflt) {
    int k = flag_index(a, name);
    if (k < 0) { /* a flag read but missing from the command's table: a bug here, not the user's */
        fprintf(stderr, "radlads %s: internal: flag %s is not in the table\n", a->cmd, name);
        return dflt;
    }
    return a->val[k] ? a->val[k] : dflt;
}
static int opt_flag(const args_t *a, const char *name) { return opt_str(a, name, NULL) != NULL; }

/* --bf16 teacher|all: the products with BF16 matrices (a teacher as Hugging Face stores it), or
   all products (mixed precision), on the CPU's bf16 instructions (rl_ctx.bf16_dot 1 or 2);
   says so when that cannot happen */
static void use_bf16(rl_ctx *c, const args_t *a, const rl_model *m) {
    const char *v = opt_str(a, "--bf16", NULL);
    if (!v) return;
    c->bf16_dot = !strcmp(v, "all") ? 2 : 1;
    if (!rl_bf16_dot_available())
        fprintf(stderr, "radlads %s: --bf16: this CPU has no AVX512-BF16/AMX-BF16 (or RADLADS_ISA forces another path); products stay fp32\n", a->cmd);
    else if (c->bf16_dot == 1 && m->blocks && m->blocks[0].up.dtype != RL_BF16)
        fprintf(stderr, "radlads %s: --bf16 teacher: the model's matrices are not BF16; its products stay fp32\n", a->cmd);
}
/* --device cpu|cuda|auto: where the models run (*d NULL: the CPU); 1 after an error */
static int pick_device(const args_t *a, rl_device **d) {
    const char *v = opt_str(a, "--device", "cpu"), *what;
    size_t fr, tot;
    *d = NULL;
    if (!strcmp(v, "cpu")) return 0;
    if (!(*d = rl_device_cuda())) {
        if (!strcmp(v, "auto")) {
            fprintf(stderr, "radlads %s: --device auto: %s; running on the CPU\n", a->cmd, rl_last_error());
            return 0;
        }
        fprintf(stderr, "radlads %s: --device cuda: %s (a build with the GPU code: make -f tools/cuda.mk radlads-cuda; or --device cpu)\n",
                a->cmd, rl_last_error());
        return 1;
    }
    if (rl_device_info(*d, &what, &fr, &tot) != RL_OK) return die("--device");
    fprintf(stderr, "radlads %s: on %s: %s, %.1f of %.1f GiB free\n", a->cmd, rl_device_name(*d), what, (double)fr / 1073741824.0,
            (double)tot / 1073741824.0);
    return 0;
}
/* m onto d (the CPU: nothing to do) */
static int model_to(rl_model *m, rl_device *d, const char *what) { return d && rl_model_to(m, d) != RL_OK ? die(what) : 0; }

/* values were checked by parse_args, so these parse */
static int64_t opt_int(const args_t *a, const char *name, int64_t dflt) {
    const char *s = opt_str(a, name, NULL);
    int64_t v = dflt;
    if (s) rl_parse_i64(s, name, INT64_MIN, INT64_MAX, RL_NUM_SUFFIX, &v);
    return v;
}
static double opt_num(const args_t *a, const char *name, double dflt) {
    const char *s = opt_str(a, name, NULL);
    double v = dflt;
    if (s) rl_parse_num(s, name, -HUGE_VAL, HUGE_VAL, RL_NUM_SUFFIX, &v);
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
    if (access(tr, F_OK) != 0) return; /* nothing logged yet */
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
    if (p->nonfinite) fprintf(stderr, "(%lld updates skipped: NaN/Inf) ", (long long)p->nonfinite);
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

/* a Hugging Face folder, a llama.cpp .gguf file or a llama2.c .bin file; m is zeroed on failure */
static int load_model(rl_model *m, const char *dir) {
    rl_status st;
    memset(m, 0, sizeof *m);
    st = is_gguf(dir) ? rl_model_load_gguf(m, dir) : is_llama2c(dir) ? rl_model_load_llama2c(m, dir) : rl_model_load(m, dir, 0);
    if (st != RL_OK) {
        memset(m, 0, sizeof *m);
        return die(dir);
    }
    return 0;
}

/* *tok is NULL on failure */
static int load_tok(rl_tokenizer **tok, const char *dir) {
    char path[4096];
    *tok = NULL;
    if (is_gguf(dir)) {
        rl_gguf g;
        rl_status st;
        if (rl_gguf_open(&g, dir) != RL_OK) return die(dir);
        st = rl_tokenizer_from_gguf(tok, &g);
        rl_gguf_close(&g);
        if (st != RL_OK) *tok = NULL;
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
    if (rl_tokenizer_load(tok, access(path, F_OK) == 0 ? path : dir) != RL_OK) { /* dir: a llama2.c tokenizer.bin */
        *tok = NULL;
        return die("tokenizer");
    }
    return 0;
}

/* ---- generate ---- */
static int generate(rl_pool *pool, rl_model *m, rl_tokenizer *tok, const char *prompt, int64_t n, const rl_sampler *smp, uint64_t seed,
                    int echo_stats) {
    rl_ctx c;
    rl_state s;
    rl_rng rng;
    rl_detok dt;
    int32_t *ids = NULL, t;
    int64_t n_ids = 0, i, k = 0;
    float *lg = (float *)malloc(sizeof(float) * (size_t)m->cfg.vocab_size);
    double t0, t1;
    const char *txt;
    size_t len;
    int rc = 0, have_state = 0;
    rl_ctx_init(&c, pool);
    rl_detok_init(&dt, 0);
    if (!lg) {
        fprintf(stderr, "radlads: out of memory\n");
        rc = 1;
        goto done;
    }
    if (rl_tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, &n_ids) != RL_OK) {
        rc = die("encode");
        goto done;
    }
    if (n_ids == 0) { /* an empty prompt starts from EOS */
        RL_FREE(ids);
        ids = (int32_t *)RL_MALLOC(sizeof(int32_t));
        if (!ids) {
            rc = 1;
            goto done;
        }
        ids[0] = m->cfg.n_eos ? m->cfg.eos_ids[0] : 0;
        n_ids = 1;
    }
    rl_rng_seed(&rng, seed);
    if (rl_state_init(&s, m, n_ids + n + 1) != RL_OK) {
        rc = die("state");
        goto done;
    }
    have_state = 1;
    for (i = 0; i < n_ids; i++) rl_detok_push(tok, &dt, ids[i], &txt, &len); /* the prompt is printed as given; this sets the decoder's context */
    if (rl_detok_flush(&dt, &txt, &len) != RL_OK) {
        rc = die("decode");
        goto done;
    }
    fputs(prompt, stdout);
    fflush(stdout);
    t0 = now_s();
    if (rl_model_step(&c, m, &s, ids, n_ids, lg) != RL_OK) {
        rc = die("prefill");
        goto done;
    }
    t1 = now_s();
    for (k = 0; k < n; k++) {
        t = rl_sample(lg, m->cfg.vocab_size, smp, &rng);
        for (i = 0; i < m->cfg.n_eos; i++)
            if (t == m->cfg.eos_ids[i]) k = n;
        if (k == n) break;
        if (rl_detok_push(tok, &dt, t, &txt, &len) == RL_OK) fwrite(txt, 1, len, stdout);
        fflush(stdout);
        if (rl_model_step(&c, m, &s, &t, 1, lg) != RL_OK) {
            rc = die("decode");
            goto done;
        }
    }
    if (rl_detok_flush(&dt, &txt, &len) == RL_OK) fwrite(txt, 1, len, stdout);
    fputc('\n', stdout);
    if (echo_stats)
        fprintf(stderr, "[prompt %lld tokens: %.1f tok/s; generated %lld tokens: %.1f tok/s]\n", (long long)n_ids,
                (double)n_ids / (t1 - t0), (long long)k, (double)k / (now_s() - t1));
done:
    rl_detok_free(&dt);
    if (have_state) rl_state_free(&s);
    rl_ctx_free(&c);
    RL_FREE(ids);
    free(lg);
    return rc;
}

/* ---- data ---- */
static int load_data(rl_tokens *t, const char *path, rl_tokenizer *tok, int32_t eos) {
    char idx[4096];
    size_t n = strlen(path);
    FILE *f;
    memset(t, 0, sizeof *t);
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

/* The data file's identity for resuming: its size and a hash (FNV-1a 64) of its first MiB
   (binidx: of PREFIX.bin). */
static void data_identity(const char *path, char *out, size_t n) {
    char bin[4096];
    unsigned char *buf = (unsigned char *)malloc(1 << 20);
    uint64_t h = 0xcbf29ce484222325ull;
    size_t got = 0, i;
    long long size = -1;
    FILE *f;
    struct stat sb;
    snprintf(bin, sizeof bin, "%s.idx", path);
    if (stat(bin, &sb) == 0) snprintf(bin, sizeof bin, "%s.bin", path);
    else snprintf(bin, sizeof bin, "%s", path);
    if (stat(bin, &sb) == 0) size = (long long)sb.st_size;
    if (buf && (f = fopen(bin, "rb"))) {
        got = fread(buf, 1, 1 << 20, f);
        fclose(f);
    }
    for (i = 0; i < got; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
    free(buf);
    snprintf(out, n, "%lld bytes, first MiB fnv1a64 %016llx", size, (unsigned long long)h);
}

static int cmd_generate(args_t *a, rl_pool *pool) {
    rl_model m;
    rl_tokenizer *tok = NULL;
    rl_sampler smp;
    rl_device *dev;
    const char *dir = opt_str(a, "--model", NULL);
    int rc;
    memset(&m, 0, sizeof m);
    if (!dir) {
        fprintf(stderr, "radlads generate: --model DIR is required\n");
        return 2;
    }
    /* Q4_0/Q4_1 matrices interleaved for the decoding kernels (one more copy of them) unless --no-pack */
    if (pick_device(a, &dev) || load_model(&m, dir) || load_tok(&tok, dir) || model_to(&m, dev, dir) ||
        (!dev && !opt_flag(a, "--no-pack") && rl_model_pack(&m, NULL) != RL_OK && die(dir))) {
        rc = 1;
    } else {
        smp.temperature = (float)opt_num(a, "--temperature", 0);
        smp.top_k = (int)opt_int(a, "--top-k", 0);
        smp.top_p = (float)opt_num(a, "--top-p", 1);
        rc = generate(pool, &m, tok, opt_str(a, "--prompt", ""), opt_int(a, "-n", 64), &smp, (uint64_t)opt_int(a, "--seed", 1), 1);
    }
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
    rl_tokenizer *tok = NULL;
    rl_tokens data;
    rl_loader L;
    rl_ctx c;
    double nll, kl, top1, heldout = opt_num(a, "--heldout", 0.05);
    const char *dir = opt_str(a, "--model", NULL), *tdir = opt_str(a, "--teacher", NULL), *dpath = opt_str(a, "--data", NULL);
    const char *task = opt_str(a, "--task", NULL);
    /* --windows / --eval-windows N: N windows drawn with a fixed seed; absent: the whole held-out split */
    int64_t ctx = opt_int(a, "--ctx", 512), windows = opt_int(a, "--windows", opt_int(a, "--eval-windows", 0));
    int32_t *tg = NULL;
    int rc = 0;
    rl_device *dev = NULL;
    memset(&m, 0, sizeof m);
    memset(&t, 0, sizeof t);
    memset(&data, 0, sizeof data);
    rl_ctx_init(&c, pool);
    if (pick_device(a, &dev)) {
        rc = 1;
        goto done;
    }
    if (dir && task) { /* lm-evaluation-harness multiple choice / lambada */
        rl_mc_result r;
        if (load_model(&m, dir) || load_tok(&tok, dir) || model_to(&m, dev, dir)) {
            rc = 1;
        } else if (use_bf16(&c, a, &m), rl_eval_task(&c, &m, tok, task, opt_str(a, "--task-name", NULL), opt_int(a, "--limit", 0), &r) != RL_OK) {
            rc = die(task);
        } else {
            printf("%s on %s: n %lld  acc %.4f", dir, task, (long long)r.n, r.acc);
            if (r.acc_norm == r.acc_norm) printf("  acc_norm %.4f", r.acc_norm);
            if (r.ppl == r.ppl) printf("  ppl %.4f", r.ppl);
            printf("\n");
        }
        goto done;
    }
    if (!dir || !dpath) {
        fprintf(stderr, "radlads eval: --model DIR and --data FILE (or --task FILE.jsonl) are required\n");
        rc = 2;
        goto done;
    }
    if (opt_flag(a, "--stride") && opt_int(a, "--stride", ctx) > ctx) {
        fprintf(stderr, "radlads eval: --stride %lld is larger than --ctx %lld (windows would skip tokens); use a stride in [1, %lld]\n",
                (long long)opt_int(a, "--stride", ctx), (long long)ctx, (long long)ctx);
        rc = 2;
        goto done;
    }
    /* --heldout-docs: documents joined by the model's first EOS, as convert does */
    if (load_model(&m, dir) || load_tok(&tok, dir) ||
        load_data(&data, dpath, tok, opt_flag(a, "--heldout-docs") && m.cfg.n_eos ? m.cfg.eos_ids[0] : -1) || model_to(&m, dev, dir)) {
        rc = 1;
        goto done;
    }
    use_bf16(&c, a, &m);
    if (opt_flag(a, "--stride")) { /* the whole file, Hugging Face's sliding-window recipe */
        int64_t stride = opt_int(a, "--stride", ctx), begin, prev_end = 0, scored = 0, b, e, k;
        double sum = 0;
        tg = (int32_t *)malloc(sizeof(int32_t) * (size_t)ctx);
        if (!tg) {
            fprintf(stderr, "radlads eval: out of memory\n");
            rc = 1;
            goto done;
        }
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
            ce = rl_to(&c, rl_cross_entropy(&c, lg, tg), NULL); /* the loss on the host */
            rl_no_grad_pop(&c);
            if (!ce) {
                rc = die("eval");
                goto done;
            }
            scored += k;
            sum += (double)rl_f32(ce)[0] * (double)k;
            prev_end = e;
            if (e == data.n) break;
        }
        if (scored == 0) {
            fprintf(stderr, "radlads eval: %s has fewer than 2 tokens; nothing to score\n", dpath);
            rc = 1;
            goto done;
        }
        printf("%s: perplexity %.4f (nll %.5f) over %lld tokens of %s (whole file, context %lld, stride %lld)\n", dir, exp(sum / (double)scored),
               sum / (double)scored, (long long)scored, dpath, (long long)ctx, (long long)stride);
        goto done;
    }
    if (rl_loader_init(&L, &data, ctx, heldout) != RL_OK) {
        rc = die("data");
        goto done;
    }
    if (heldout_split(&L, a, &m, &data, dpath)) {
        rc = 1;
        goto done;
    }
    if (rl_eval_ppl(&c, &m, &L, windows, &nll) != RL_OK) {
        rc = die("eval");
        goto done;
    }
    printf("%s: held-out perplexity %.4f (nll %.5f) over %s\n", dir, exp(nll), nll, split_desc(&L, windows, dpath));
    if (tdir) {
        if (load_model(&t, tdir) || model_to(&t, dev, tdir)) {
            rc = 1;
            goto done;
        }
        if (rl_eval_compare(&c, &m, &t, &L, windows, &kl, &top1) != RL_OK) {
            rc = die("compare");
            goto done;
        }
        printf("vs teacher %s: KL(teacher||student) %.5f per token, top-1 agreement %.2f%%\n", tdir, kl, 100 * top1);
    }
done:
    free(tg);
    rl_ctx_free(&c);
    rl_tokens_free(&data);
    rl_tokenizer_free(tok);
    rl_model_free(&t);
    rl_model_free(&m);
    return rc;
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

/* --modeling-code DIR: the user's modeling .py files (e.g. from a released RADLADS
   checkpoint), copied next to the weights so that auto_map finds them. dry = 1 only checks
   that DIR holds the module auto_map names (before hours of training). */
static int copy_modeling_code(const char *dir, const char *to, int kind, int dry) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char want[64], from[4096], dst[4096], buf[65536];
    int found = 0, n = 0;
    if (!d) {
        fprintf(stderr, "radlads convert: --modeling-code %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(want, sizeof want, "modeling_rwkv%dqwen2.py", kind);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        FILE *in, *out;
        size_t r;
        if (l < 4 || strcmp(e->d_name + l - 3, ".py")) continue;
        found |= !strcmp(e->d_name, want);
        n++;
        if (dry) continue;
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
        if (!(in = fopen(from, "rb")) || !(out = fopen(dst, "wb"))) {
            fprintf(stderr, "radlads convert: cannot copy %s to %s: %s\n", from, dst, strerror(errno));
            if (in) fclose(in);
            closedir(d);
            return 1;
        }
        while ((r = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, r, out);
        fclose(in);
        if (fclose(out) != 0) {
            fprintf(stderr, "radlads convert: writing %s: %s\n", dst, strerror(errno));
            closedir(d);
            return 1;
        }
    }
    closedir(d);
    if (!found) {
        fprintf(stderr, "radlads convert: --modeling-code %s has no %s (the module the config's auto_map names; %d .py files there)\n",
                dir, want, n);
        return 1;
    }
    if (!dry) printf("modeling code: %d .py files from %s copied next to the weights\n", n, dir);
    return 0;
}

/* The options of step `stage` that the flags set (tokens 0: the step does not run) */
static void stage_opts(const args_t *a, int stage, int64_t ctx, rl_stage_opts *o) {
    char key[32];
    rl_stage_opts_default(o, stage);
    snprintf(key, sizeof key, "--step%d-tokens", stage);
    o->tokens = opt_int(a, key, stage == 1 ? 100000000 : stage == 2 ? 500000000 : 0);
    o->ctx = stage == 3 ? opt_int(a, "--step3-ctx", ctx) : ctx;
    snprintf(key, sizeof key, "--batch%d", stage);
    o->batch = opt_int(a, key, opt_int(a, "--batch", o->batch));
    o->micro_batch = opt_int(a, "--micro-batch", 1);
    o->kl_chunk = opt_int(a, "--kl-chunk", 0);
    snprintf(key, sizeof key, "--lr%d", stage);
    o->lr.lr_init = opt_num(a, key, o->lr.lr_init);
    snprintf(key, sizeof key, "--lr%d-final", stage);
    o->lr.lr_final = opt_num(a, key, o->lr.lr_final);
    o->lr.warmup_steps = opt_int(a, "--warmup", 50);
    o->ckpt_every = opt_int(a, "--ckpt-every", 100);
    o->chunk = opt_int(a, "--step3-chunk", 512);
    o->layerwise = stage == 1 && opt_flag(a, "--layerwise");
    o->heldout = opt_num(a, "--heldout", 0.05);
    o->max_nonfinite = (int)opt_int(a, "--max-nonfinite", 3);
}

/* On a device, a stage must fit: its plan (weights, gradients, Adam, activations of one
   micro-batch) against the device's free memory plus what this run holds there already
   (held: the activations' arena; the models' weights and gradients when they are there).
   Else an error with the sizes and the flags that help. */
static int stage_fits(const args_t *a, rl_device *d, rl_model *s, rl_model *t, const rl_stage_opts *o, double held) {
    rl_plan p;
    const char *what;
    size_t fr, tot;
    int stage = o->stage;
    double need, have, G = 1073741824.0;
    rl_stage_plan(s, t, o, &p);
    if (rl_device_info(d, &what, &fr, &tot) != RL_OK) return die("--device");
    need = p.weights_bytes + p.grads_bytes + p.optim_bytes + p.act_bytes;
    have = (double)fr + held + (s->dev ? p.weights_bytes + p.grads_bytes : 0);
    if (need <= have) return 0;
    fprintf(stderr, "radlads convert: stage %d does not fit on %s (%s): it needs about %.2f GiB (weights %.2f, gradients %.2f, Adam %.2f, "
            "activations ~%.2f for micro-batches of %lld x %lld tokens) and %.2f GiB are free of %.2f. Lower --micro-batch (now %lld)%s, "
            "or run on the CPU (--device cpu)\n", stage, rl_device_name(d), what, need / G, p.weights_bytes / G, p.grads_bytes / G,
            p.optim_bytes / G, p.act_bytes / G, (long long)o->micro_batch, (long long)o->ctx, have / G, (double)tot / G, (long long)o->micro_batch,
            stage == 1 && !opt_flag(a, "--layerwise") ? ", use --layerwise (one layer's activations at a time)" : "");
    return 1;
}

static int cmd_convert(args_t *a, rl_pool *pool) {
    rl_model teacher, student;
    rl_tokenizer *tok = NULL;
    rl_tokens data;
    rl_loader L;
    rl_student_opts so;
    rl_ctx c;
    char path[4096], data_id[128];
    const char *tdir = opt_str(a, "--teacher", NULL), *dpath = opt_str(a, "--data", NULL), *out = opt_str(a, "--out", NULL);
    const char *arch = opt_str(a, "--arch", "rwkv7"), *samples = opt_str(a, "--samples", NULL);
    const char *identity[3];
    /* --eval-windows N: N held-out windows drawn with a fixed seed; absent: the whole held-out split */
    int64_t ctx = opt_int(a, "--ctx", 512), windows = opt_int(a, "--eval-windows", 0);
    int stage, force = opt_flag(a, "--resume-force"), resume = force || opt_flag(a, "--resume"), reports = !opt_flag(a, "--no-report");
    int rc = 0;
    plot_t plot;
    rl_status st;
    rl_device *dev = NULL;
    memset(&teacher, 0, sizeof teacher);
    memset(&student, 0, sizeof student);
    memset(&data, 0, sizeof data);
    rl_ctx_init(&c, pool);
    if (!tdir || !dpath || !out) {
        fprintf(stderr, "radlads convert: --teacher DIR, --data FILE and --out DIR are required\n");
        rc = 2;
        goto done;
    }
    if (pick_device(a, &dev)) {
        rc = 1;
        goto done;
    }
    if (load_model(&teacher, tdir) || load_tok(&tok, tdir) || load_data(&data, dpath, tok, teacher.cfg.n_eos ? teacher.cfg.eos_ids[0] : -1)) {
        rc = 1;
        goto done;
    }
    use_bf16(&c, a, &teacher);
    rl_student_opts_default(&so, !strcmp(arch, "rwkv6") ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
    so.keep_attention = (int)opt_int(a, "--keep-attention", 0);
    so.seed = (uint64_t)opt_int(a, "--seed", 1337);
    if (opt_flag(a, "--variant-a")) { /* RWKV7 as released: GroupNorm, k_k/k_a */
        so.balance_state = 0;
        so.groupnorm_att = 1;
    }
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) {
        memset(&student, 0, sizeof student);
        rc = die("student");
        goto done;
    }
    if (opt_str(a, "--modeling-code", NULL)) {
        if (so.keep_attention > 0 && so.kind == RL_MIXER_RWKV6) {
            fprintf(stderr, "radlads convert: --modeling-code: a RAD-RWKV6 hybrid has no official modeling code (README.md, Hybrids)\n");
            rc = 2;
            goto done;
        }
        if (copy_modeling_code(opt_str(a, "--modeling-code", NULL), NULL, so.kind == RL_MIXER_RWKV6 ? 6 : 7, 1)) {
            rc = 2;
            goto done;
        }
    }
    if (mkdir_p(out) != 0) {
        rc = 1;
        goto done;
    }
    if (!resume) { /* a fresh run starts fresh logs (--resume appends) */
        snprintf(path, sizeof path, "%s/train.csv", out);
        remove(path);
        snprintf(path, sizeof path, "%s/eval.csv", out);
        remove(path);
    }
    if (rl_loader_init(&L, &data, ctx, opt_num(a, "--heldout", 0.05)) != RL_OK) {
        rc = die("data");
        goto done;
    }
    if (heldout_split(&L, a, &teacher, &data, dpath)) {
        rc = 1;
        goto done;
    }
    data_identity(dpath, data_id, sizeof data_id);
    identity[0] = "data_file";
    identity[1] = data_id;
    identity[2] = NULL;
    {
        char b1[32], b2[32];
        printf("teacher %s (%s params), student RAD-RWKV%c, data %s: %s tokens (%lld training windows of %lld, %lld held out)\n", tdir,
               human((double)rl_model_n_params(&teacher), b1, sizeof b1), so.kind == RL_MIXER_RWKV6 ? '6' : '7', dpath,
               human((double)data.n, b2, sizeof b2), (long long)L.n_train, (long long)ctx, (long long)L.n_heldout);
        if (reports) printf("held-out scoring: %s\n", split_desc(&L, windows, dpath));
    }
    if (dev) { /* the whole run where the first stage fits, the models there from now on */
        rl_stage_opts o1;
        for (stage = 1; stage_opts(a, stage, ctx, &o1), stage < 3 && o1.tokens <= 0; stage++) continue;
        if (stage_fits(a, dev, &student, &teacher, &o1, 0) || model_to(&teacher, dev, tdir) || model_to(&student, dev, "student")) {
            rc = 1;
            goto done;
        }
    }
    if (reports) {
        report(&c, pool, "teacher", &teacher, &teacher, tok, &L, windows, samples, out, 0, 0);
        report(&c, pool, "student at init", &student, &teacher, tok, &L, windows, samples, out, 0, 0);
    }
    catch_signals();
    for (stage = 1; stage <= 3; stage++) {
        rl_stage_opts o;
        char key[32], ck[4096];
        FILE *f;
        stage_opts(a, stage, ctx, &o);
        if (o.tokens <= 0) continue;
        o.resume_force = force;
        o.identity = identity;
        snprintf(ck, sizeof ck, "%s/stage%d.ckpt.safetensors", out, stage);
        o.checkpoint = ck;
        o.resume = resume && (f = fopen(ck, "rb")) && !fclose(f);
        snprintf(path, sizeof path, "%s/train.csv", out);
        o.csv = path;
        o.stop = &g_stop;
        o.progress = progress_cb;
        if (o.batch % o.micro_batch) {
            fprintf(stderr, "radlads convert: stage %d: batch %lld is not a multiple of --micro-batch %lld\n", stage, (long long)o.batch,
                    (long long)o.micro_batch);
            rc = 2;
            goto done;
        }
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
            printf("plan stage %d: %s tokens in %lld steps of %lld x %lld; trains %s of %s parameters; memory on %s: weights %.1f MiB, grads %.1f MiB, "
                   "Adam %.1f MiB, activations ~%.1f MiB; %.3g MFLOP/token, %.3g TFLOP in all\n",
                   stage, human((double)o.tokens, b1, sizeof b1), (long long)((o.tokens + o.batch * o.ctx - 1) / (o.batch * o.ctx)), (long long)o.batch,
                   (long long)o.ctx, human((double)pl.trained, b2, sizeof b2), human((double)pl.params, b3, sizeof b3), rl_device_name(dev),
                   pl.weights_bytes / 1048576.0, pl.grads_bytes / 1048576.0, pl.optim_bytes / 1048576.0, pl.act_bytes / 1048576.0,
                   pl.flops_per_token * 1e-6, pl.flops_total * 1e-12);
            fflush(stdout);
        }
        if (dev && stage_fits(a, dev, &student, &teacher, &o, (double)c.dev_arena.peak)) {
            rc = 1;
            goto done;
        }
        st = rl_train_stage(&c, &student, &teacher, &data, &o);
        if (st == RL_ERR_INTERRUPTED) {
            fprintf(stderr, "\ninterrupted: %s\nresume with the same command and --resume\n", rl_last_error());
            rc = 130;
            goto done;
        }
        if (st != RL_OK) {
            rc = die("training");
            goto done;
        }
        if (reports) {
            snprintf(key, sizeof key, "after step %d", stage);
            report(&c, pool, key, &student, &teacher, tok, &L, windows, samples, out, stage,
                   (o.tokens + o.batch * o.ctx - 1) / (o.batch * o.ctx) * o.batch * o.ctx);
            redraw(out);
        }
    }
    snprintf(path, sizeof path, "%s/model", out);
    if (rl_model_save(&student, path, tdir) != RL_OK) {
        rc = die(path);
        goto done;
    }
    if (opt_str(a, "--modeling-code", NULL) &&
        copy_modeling_code(opt_str(a, "--modeling-code", NULL), path, so.kind == RL_MIXER_RWKV6 ? 6 : 7, 0)) {
        rc = 1;
        goto done;
    }
    printf("student written to %s\n", path);
done:
    rl_ctx_free(&c);
    rl_tokens_free(&data);
    rl_tokenizer_free(tok);
    rl_model_free(&student);
    rl_model_free(&teacher);
    return rc;
}

static int cmd_export(args_t *a) {
    const char *dir = opt_str(a, "--model", NULL), *out = opt_str(a, "--out", NULL), *ty = opt_str(a, "--type", "f16");
    rl_model m;
    rl_tokenizer *tok = NULL;
    rl_ggml_type wt = !strcmp(ty, "f32") ? RL_GGML_F32 : !strcmp(ty, "bf16") ? RL_GGML_BF16 : RL_GGML_F16;
    int rc;
    memset(&m, 0, sizeof m);
    if (!dir || !out) {
        fprintf(stderr, "radlads export: --model DIR and --out FILE.gguf are required\n");
        return 2;
    }
    if (load_model(&m, dir) || load_tok(&tok, dir)) {
        rc = 1;
    } else {
        rc = rl_export_gguf_rwkv6qwen2(&m, tok, out, wt) != RL_OK ? die(out) : 0;
        if (!rc) printf("%s -> %s (llama.cpp architecture rwkv6qwen2, %s weights)\n", dir, out, ty);
    }
    rl_tokenizer_free(tok);
    rl_model_free(&m);
    return rc;
}

static int cmd_import(args_t *a) {
    const char *g = opt_str(a, "--gguf", NULL), *out = opt_str(a, "--out", NULL), *mb = opt_str(a, "--llama2c", NULL);
    if (mb) { /* a llama2.c model.bin + tokenizer.bin */
        if (g || !g_tokenizer || !out) {
            fprintf(stderr, "radlads import: --llama2c FILE needs --tokenizer tok.bin and --out DIR (and no --gguf)\n");
            return 2;
        }
        if (mkdir_p(out) != 0) return 1;
        if (rl_import_llama2c(mb, g_tokenizer, out) != RL_OK) return die(mb);
        printf("%s + %s -> %s (config.json, model.safetensors, tokenizer.bin, generation_config.json)\n", mb, g_tokenizer, out);
        return 0;
    }
    if (!g || !out) {
        fprintf(stderr, "radlads import: --gguf FILE (or --llama2c FILE --tokenizer FILE) and --out DIR are required\n");
        return 2;
    }
    if (mkdir_p(out) != 0) return 1;
    if (rl_import_gguf(g, out) != RL_OK) return die(g);
    printf("%s -> %s (config.json, model.safetensors, tokenizer.json)\n", g, out);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: radlads <command> [options]\n"
            "  generate --model DIR [--prompt TEXT] [-n 64] [--temperature 0] [--top-k 0] [--top-p 1] [--seed 1]\n"
            "           [--no-pack: keep Q4_0/Q4_1 matrices as stored, not interleaved for decoding]\n"
            "  convert  --teacher DIR --data FILE --out DIR [--arch rwkv7|rwkv6] [--ctx 512]\n"
            "           [--step1-tokens 100M] [--step2-tokens 500M] [--step3-tokens 0 --step3-ctx N]\n"
            "           [--batch N | --batch1/2/3 N] [--micro-batch 1] [--lr1 1e-3 --lr1-final 1e-5 --lr2 1e-5 --lr3 1e-5]\n"
            "           [--warmup 50] [--keep-attention 0] [--variant-a] [--heldout 0.05] [--ckpt-every 100] [--resume]\n"
            "           [--resume-force: resume even if the checkpoint is from a different run (teacher, data, ctx, batch, arch, seed)]\n"
            "           [--max-nonfinite 3: steps in a row with a NaN/Inf loss or gradient (skipped) before the run stops]\n"
            "           [--eval-windows N: N held-out windows drawn with a fixed seed; default: the whole held-out split]\n"
            "           [--heldout-docs] [--ckpt-eval] [--no-report] [--samples PROMPT] [--step3-chunk 512] [--layerwise]\n"
            "           [--modeling-code DIR: copy its modeling .py files next to the weights, for auto_map]\n"
            "           [--bf16 teacher|all: the teacher's BF16 products, or all products (mixed precision), with bf16\n"
            "            inputs on AMX tiles or AVX512-BF16 (each product ~1e-3 off; RADLADS_AMX=0: no AMX)]\n"
            "           [--kl-chunk N: step 2's KL over the vocabulary N columns at a time, the logits never whole\n"
            "            (0: 8192 on a GPU, whole on the CPU; -1: whole)]\n"
            "  eval     --model DIR --data FILE [--teacher DIR] [--ctx 512] [--windows N (default: all held out)] [--heldout 0.05] [--heldout-docs]\n"
            "           [--stride S: the whole file in windows of ctx every S tokens, as Hugging Face's perplexity guide] [--bf16 teacher|all]\n"
            "  eval     --model DIR --task FILE.jsonl [--task-name hellaswag|piqa|arc_easy|arc_challenge|winogrande|lambada_openai] [--limit N]\n"
            "  import   --gguf FILE --out DIR      (a llama.cpp GGUF teacher -> Hugging Face folder)\n"
            "  import   --llama2c model.bin --tokenizer tok.bin --out DIR   (a llama2.c checkpoint, v0/v1/v2 -> Hugging Face folder)\n"
            "  export   --model DIR --out FILE.gguf [--type f16|bf16|f32] [--tokenizer FILE]   (a RAD-RWKV6 student -> llama.cpp rwkv6qwen2)\n"
            "  info     --model DIR\n"
            "  plot     OUT                        (redraw OUT/train.svg from OUT/train.csv and OUT/eval.csv)\n"
            "A model DIR is a Hugging Face folder or, for generate/eval/info, a .gguf file (a Llama/Qwen2 teacher or an\n"
            "rwkv6qwen2 student, F32/F16/BF16 or quantized: quantized matrices stay quantized in memory), or a llama2.c\n"
            ".bin (with --tokenizer tok.bin).\n"
            "Numbers take k/M/G suffixes (100M); each flag is given at most once.\n"
            "common: --threads N (default: all cores); convert, eval, generate: --device cpu|cuda|auto (the GPU: a build\n"
            "with radlads_cuda.cu, make -f tools/cuda.mk radlads-cuda; auto: the GPU if there is one, else the CPU)\n"
            "Ctrl-C during convert finishes the step and writes a checkpoint; a second Ctrl-C stops at once.\n");
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        const flag_def *flags;
    } cmds[] = {{"generate", generate_flags}, {"convert", convert_flags}, {"eval", eval_flags}, {"info", info_flags},
                {"export", export_flags},     {"import", import_flags}};
    args_t a;
    rl_pool *pool;
    int rc, i, k = -1;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "plot")) { /* radlads plot OUT: OUT/train.svg from OUT/train.csv and OUT/eval.csv */
        char tr[4096], ev[4096], svg[4096];
        if (argc != 3 || argv[2][0] == '-') {
            fprintf(stderr, "radlads plot: usage: radlads plot OUT (a convert output folder)\n");
            return 2;
        }
        snprintf(tr, sizeof tr, "%s/train.csv", argv[2]);
        snprintf(ev, sizeof ev, "%s/eval.csv", argv[2]);
        snprintf(svg, sizeof svg, "%s/train.svg", argv[2]);
        rl_set_log(log_cb, NULL);
        if (rl_plot_train_svg(tr, ev, svg, argv[2]) != RL_OK) return die("plot");
        printf("%s\n", svg);
        return 0;
    }
    for (i = 0; i < (int)(sizeof cmds / sizeof cmds[0]); i++)
        if (!strcmp(argv[1], cmds[i].name)) k = i;
    if (k < 0) {
        fprintf(stderr, "radlads: unknown command '%s' (commands: generate, convert, eval, info, export, import, plot)\n", argv[1]);
        usage();
        return 2;
    }
    for (i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        }
    if (parse_args(&a, argv[1], cmds[k].flags, argc - 2, argv + 2)) return 2;
    rl_set_log(log_cb, NULL);
    pool = rl_pool_create((int)opt_int(&a, "--threads", 0));
    g_tokenizer = opt_str(&a, "--tokenizer", NULL);
    if (k == 0) rc = cmd_generate(&a, pool);
    else if (k == 1) rc = cmd_convert(&a, pool);
    else if (k == 2) rc = cmd_eval(&a, pool);
    else if (k == 3) rc = cmd_info(&a);
    else if (k == 4) rc = cmd_export(&a);
    else rc = cmd_import(&a);
    rl_pool_free(pool);
    return rc;
}
