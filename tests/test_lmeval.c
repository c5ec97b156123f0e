/* Zero-shot task scoring (section 15) against lm-evaluation-harness itself:
   tests/fixtures/lmeval/ref.json was made by tools/ref/make_lmeval_ref.py, which runs the
   harness (HFLM, float32) on tests/fixtures/tiny-llama over the task files beside it and
   scores single (context, continuation) requests on tiny-llama and tiny-qwen2. Checked here:
   each document's requests (the strings doc_to_text/doc_to_choice build), their token ids, every
   log-likelihood (1e-4 absolute), greedy flags, predictions, acc/acc_norm (exactly), standard
   errors and LAMBADA perplexity, the Python string rules (strip, capitalize, HellaSwag
   preprocess), and clear errors on malformed files. */
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"
#include <sys/stat.h>
#include <unistd.h>

#define FIXDIR "tests/fixtures/lmeval/"
#define LL_TOL 1e-4

static rl_json_doc ref;
static rl_model llama, qwen;
static rl_tokenizer *tok_llama, *tok_qwen;
static rl_ctx ctx;
static char tmpdir[256];

static const char *tasks[5] = {"hellaswag", "piqa", "arc_easy", "winogrande", "lambada_openai"};

static const rl_json *jget(const rl_json *o, const char *k) { return rl_json_get(o, k); }
static double jnum(const rl_json *o, const char *k) {
    const rl_json *v = rl_json_get(o, k);
    return v && v->type == RL_JSON_NUM ? v->num : NAN;
}
static int jint(const rl_json *o, const char *k) {
    const rl_json *v = rl_json_get(o, k);
    return v && (v->type == RL_JSON_NUM || v->type == RL_JSON_BOOL) ? (int)v->num : -999;
}

static const char *tmp_path(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static const char *write_tmp(const char *name, const char *text) {
    const char *p = tmp_path(name);
    rlt_write_all(p, text, strlen(text));
    return p;
}

/* ---- the Python string rules ---- */

static void check_str(const char *what, const char *got, size_t n, const char *want) {
    RLT_CHECK(n == strlen(want) && !memcmp(got, want, n), "%s: got '%.*s', want '%s'", what, (int)n, got, want);
}

static void test_text_rules(void) {
    /* expected values printed by Python 3 */
    static const char *cap[][2] = {
        {"the GPS route", "The gps route"}, {"\xc3\xa9lan VITAL", "\xc3\x89lan vital"}, /* élan VITAL */
        {"\xc3\x9ftra\xc3\x9f" "e", "Sstra\xc3\x9f" "e"},                                /* ßtraße */
        {"\xc3\xbf" "es", "\xc5\xb8" "es"},                                              /* ÿes -> Ÿes */
        {"\xc4\xb1I", "Ii"},                                                             /* ıI */
        {"\xc2\xb5" "A", "\xce\x9c" "a"},                                                /* µA -> Μa */
        {"\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 \xd0\x9c\xd0\xb8\xd1\x80",
         "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80"},   /* ПРИВЕТ Мир -> Привет мир */
        {"", ""}, {"1ABC", "1abc"}, {"\xc5\x81\xc3\x93" "D\xc5\xb9", "\xc5\x81\xc3\xb3" "d\xc5\xba"}, /* ŁÓDŹ -> Łódź */
    };
    static const char *pre[][2] = {
        {"  a [title] b [step] c  ", "a. b c"}, {"x [a\nb] y [c] z", "x [a\nb] y z"},
        {"[unclosed  ok", "[unclosed ok"},     {"a    b", "a  b"},
        {"\xe3\x80\x80 tab\tend\xc2\xa0 ", "tab\tend"}, /* U+3000 and NBSP are whitespace */
        {"[[x]]y", "]y"},                        {"a [x] [y]  b", "a  b"},
    };
    size_t i;
    rlt_begin("lmeval: Python string rules (str.capitalize, str.strip, HellaSwag preprocess)");
    for (i = 0; i < sizeof cap / sizeof cap[0]; i++) {
        rl__sbuf b;
        memset(&b, 0, sizeof b);
        rl__lm_capitalize(&b, cap[i][0], strlen(cap[i][0]));
        rl__sb_put(&b, "", 0);
        check_str("capitalize", b.p, b.n, cap[i][1]);
        rl_free(b.p);
    }
    for (i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        rl__sbuf b;
        memset(&b, 0, sizeof b);
        rl__lm_hs_pre(&b, pre[i][0], strlen(pre[i][0]));
        check_str("preprocess", b.p, b.n, pre[i][1]);
        rl_free(b.p);
    }
    { /* every character str.isspace() accepts, and some it does not */
        static const uint32_t sp[] = {9, 10, 11, 12, 13, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x200a,
                                      0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
        static const uint32_t no[] = {0, 8, 14, 0x1b, 0x21, 0x84, 0x86, 0x200b, 0x180e, 0xfeff, 0x2060, 0x3001};
        for (i = 0; i < sizeof sp / sizeof sp[0]; i++) RLT_CHECK(rl__lm_space(sp[i]), "U+%04X is whitespace", (unsigned)sp[i]);
        for (i = 0; i < sizeof no / sizeof no[0]; i++) RLT_CHECK(!rl__lm_space(no[i]), "U+%04X is not whitespace", (unsigned)no[i]);
        RLT_CHECK(rl__lm_rspace("ab \xe2\x80\xa8\xc2\x85", 8) == 6, "trailing space + LS + NEL: 6 bytes");
        RLT_CHECK(rl__lm_rspace("ab\xff ", 4) == 1, "a stray byte stops the strip");
        RLT_CHECK(rl__lm_nchars("na\xc3\xafve \xf0\x9f\x98\x80", 11) == 7, "characters, not bytes");
    }
    rlt_end();
}

/* ---- documents -> requests ---- */

/* Build the requests of every line of a task file with the library and compare the strings
   with the ones the harness built. */
static void test_doc_requests(void) {
    int t;
    rlt_begin("lmeval: task documents give the harness's requests (doc_to_text, doc_to_choice, gold)");
    for (t = 0; t < 5; t++) {
        const rl_json *tr = jget(jget(&ref.root, "tasks"), tasks[t]), *docs = jget(tr, "docs");
        char path[256], *text = NULL;
        size_t len = 0, pos = 0;
        int64_t line = 0, di = 0;
        snprintf(path, sizeof path, FIXDIR "%s.jsonl", tasks[t]);
        RLT_CHECK(docs && rl__read_file(path, 1 << 24, &text, &len) == RL_OK, "%s: read", path);
        if (!text || !docs) continue;
        while (pos < len) {
            const char *ln = text + pos, *nl = (const char *)memchr(ln, '\n', len - pos);
            size_t l = nl ? (size_t)(nl - ln) : len - pos;
            rl_json_doc jd;
            rl_arena A;
            rl__lm_doc d;
            const rl_json *want, *rq;
            int i;
            pos += l + 1;
            line++;
            if (!l) continue;
            if (di >= docs->n) {
                RLT_CHECK(0, "%s: more documents than the reference", path);
                break;
            }
            want = &docs->kids[di++];
            rq = jget(want, "requests");
            memset(&jd, 0, sizeof jd);
            rl_arena_init(&A, 0);
            if (rl_json_parse(&jd, ln, l, path) == RL_OK &&
                rl__lm_make_doc(rl__lm_task_id(tasks[t]), &jd.root, path, &A, &d) == RL_OK) {
                RLT_CHECK(d.n == rq->n && d.gold == jint(want, "gold"), "%s line %lld: %d requests, gold %d", path, (long long)line, d.n,
                          d.gold);
                for (i = 0; i < d.n && i < rq->n; i++) {
                    const rl_json *c = &rq->kids[i].kids[0], *x = &rq->kids[i].kids[1];
                    RLT_CHECK((size_t)c->n == d.nctx[i] && !memcmp(c->str, d.ctx[i], d.nctx[i]), "%s line %lld request %d: context '%.*s' vs '%s'",
                              path, (long long)line, i, (int)d.nctx[i], d.ctx[i], c->str);
                    RLT_CHECK((size_t)x->n == d.ncont[i] && !memcmp(x->str, d.cont[i], d.ncont[i]),
                              "%s line %lld request %d: continuation '%.*s' vs '%s'", path, (long long)line, i, (int)d.ncont[i], d.cont[i],
                              x->str);
                    if (jget(want, "choice_chars"))
                        RLT_CHECK(rl__lm_nchars(d.norm[i], d.nnorm[i]) == jget(want, "choice_chars")->kids[i].i,
                                  "%s line %lld choice %d: length in characters", path, (long long)line, i);
                }
            } else
                RLT_CHECK(0, "%s line %lld: %s", path, (long long)line, rl_last_error());
            rl_json_free(&jd);
            rl_arena_free(&A);
        }
        RLT_CHECK(di == docs->n, "%s: %lld documents, reference %lld", path, (long long)di, (long long)docs->n);
        rl_free(text);
    }
    rlt_end();
}

/* ---- single requests ---- */

static void test_requests(void) {
    const rl_json *rq = jget(&ref.root, "requests");
    int64_t i, n_greedy = 0, n_trunc = 0;
    double worst = 0;
    rlt_begin("lmeval: single requests: token ids, ll and greedy flag equal the harness's");
    RLT_CHECK(rq && rq->n >= 20, "reference requests present");
    for (i = 0; rq && i < rq->n; i++) {
        const rl_json *r = &rq->kids[i];
        const char *mname = jget(r, "model")->str, *c = jget(r, "context")->str, *x = jget(r, "continuation")->str;
        int qw = !strcmp(mname, "tiny-qwen2");
        rl_model *m = qw ? &qwen : &llama;
        rl_tokenizer *tk = qw ? tok_qwen : tok_llama;
        rl_lmeval_opts o;
        int32_t *a = NULL, *b = NULL;
        int64_t na = 0, nb = 0, nt = 0;
        double ll = 0;
        int g = -1;
        rl_lmeval_opts_default(&o);
        o.add_special = jint(r, "add_bos");
        o.max_length = (int64_t)jnum(r, "max_length");
        if (rl_lmeval_encode_pair(m, tk, &o, c, x, &a, &na, &b, &nb) == RL_OK) {
            RLT_CHECK(rlt_ids_equal(a, na, jget(r, "ctx_ids")), "request %lld (%s, '%.30s' + '%.30s'): context ids (%lld)", (long long)i,
                      mname, c, x, (long long)na);
            RLT_CHECK(rlt_ids_equal(b, nb, jget(r, "cont_ids")), "request %lld (%s, '%.30s' + '%.30s'): continuation ids (%lld)", (long long)i,
                      mname, c, x, (long long)nb);
            n_trunc += na + nb > o.max_length + 1;
        } else
            RLT_CHECK(0, "request %lld: encode: %s", (long long)i, rl_last_error());
        rl_free(a);
        rl_free(b);
        if (rl_loglikelihood_ex(&ctx, m, tk, &o, c, x, &ll, &g, &nt) == RL_OK) {
            RLT_CLOSE(ll, jnum(r, "ll"), LL_TOL, 0, "request %lld (%s, '%.30s' + '%.30s'): ll", (long long)i, mname, c, x);
            RLT_CHECK(g == jint(r, "is_greedy"), "request %lld: is_greedy %d", (long long)i, g);
            RLT_CHECK(nt == jget(r, "cont_ids")->n, "request %lld: n_tokens %lld", (long long)i, (long long)nt);
            if (fabs(ll - jnum(r, "ll")) > worst) worst = fabs(ll - jnum(r, "ll"));
            n_greedy += g;
        } else
            RLT_CHECK(0, "request %lld: %s", (long long)i, rl_last_error());
    }
    RLT_CHECK(n_greedy >= 1 && n_trunc >= 2, "the reference has greedy (%lld) and truncated (%lld) requests", (long long)n_greedy,
              (long long)n_trunc);
    { /* the plain API is the default convention */
        double l1 = 0, l2 = 0;
        int g1 = 0, g2 = 0;
        int64_t n1 = 0, n2 = 0;
        RLT_CHECK(rl_loglikelihood(&ctx, &llama, tok_llama, "The cat sat on", " the mat.", &l1, &g1, &n1) == RL_OK &&
                      rl_loglikelihood_ex(&ctx, &llama, tok_llama, NULL, "The cat sat on", " the mat.", &l2, &g2, &n2) == RL_OK &&
                      l1 == l2 && g1 == g2 && n1 == n2 && n1 == 4,
                  "rl_loglikelihood = rl_loglikelihood_ex with defaults");
    }
    rlt_end();
    if (getenv("RLT_VERBOSE")) fprintf(stderr, "  largest |ll - harness| over requests: %.3g\n", worst);
}

/* ---- whole tasks ---- */

typedef struct {
    const rl_json *docs;
    const char *task;
    int64_t seen;
    double worst;
    char where[80];
} doc_check;

static void on_doc(void *user, const rl_mc_doc *d) {
    doc_check *k = (doc_check *)user;
    const rl_json *w;
    int i;
    k->seen++;
    if (!k->docs || d->index >= k->docs->n) {
        RLT_CHECK(0, "%s: document %lld not in the reference", k->task, (long long)d->index);
        return;
    }
    w = &k->docs->kids[d->index];
    RLT_CHECK(d->line == jint(w, "line"), "%s doc %lld: line %lld", k->task, (long long)d->index, (long long)d->line);
    RLT_CHECK(d->n_choices == jget(w, "lls")->n, "%s doc %lld: %d choices", k->task, (long long)d->index, d->n_choices);
    for (i = 0; i < d->n_choices && i < jget(w, "lls")->n; i++) {
        double want = jget(w, "lls")->kids[i].num;
        RLT_CLOSE(d->lls[i], want, LL_TOL, 0, "%s line %lld choice %d: ll", k->task, (long long)d->line, i);
        if (fabs(d->lls[i] - want) > k->worst) {
            k->worst = fabs(d->lls[i] - want);
            snprintf(k->where, sizeof k->where, "%s line %lld choice %d, ll %.2f", k->task, (long long)d->line, i, want);
        }
        RLT_CHECK(d->is_greedy[i] == (int)jget(w, "is_greedy")->kids[i].num, "%s line %lld choice %d: is_greedy", k->task,
                  (long long)d->line, i);
        RLT_CHECK(d->n_tokens[i] == jget(w, "n_tokens")->kids[i].i, "%s line %lld choice %d: %lld continuation tokens", k->task,
                  (long long)d->line, i, (long long)d->n_tokens[i]);
    }
    RLT_CHECK(d->acc == jint(w, "acc"), "%s line %lld: acc %d", k->task, (long long)d->line, d->acc);
    if (jget(w, "pred")) {
        RLT_CHECK(d->gold == jint(w, "gold"), "%s line %lld: gold %d", k->task, (long long)d->line, d->gold);
        RLT_CHECK(d->pred == jint(w, "pred") && d->pred_norm == jint(w, "pred_norm"), "%s line %lld: pred %d/%d, harness %d/%d",
                  k->task, (long long)d->line, d->pred, d->pred_norm, jint(w, "pred"), jint(w, "pred_norm"));
        RLT_CHECK(d->acc_norm == jint(w, "acc_norm"), "%s line %lld: acc_norm %d", k->task, (long long)d->line, d->acc_norm);
    }
}

static void test_tasks(void) {
    int t;
    double worst = 0;
    char where[80] = "";
    rlt_begin("lmeval: hellaswag, piqa, arc_easy, winogrande, lambada_openai: every ll, acc, acc_norm, ppl as the harness");
    for (t = 0; t < 5; t++) {
        const rl_json *tr = jget(jget(&ref.root, "tasks"), tasks[t]);
        char path[256];
        rl_lmeval_opts o;
        rl_mc_result r;
        doc_check k;
        rl_status st;
        snprintf(path, sizeof path, FIXDIR "%s.jsonl", tasks[t]);
        memset(&k, 0, sizeof k);
        k.docs = jget(tr, "docs");
        k.task = tasks[t];
        rl_lmeval_opts_default(&o);
        o.on_doc = on_doc;
        o.user = &k;
        st = rl_eval_task_ex(&ctx, &llama, tok_llama, path, tasks[t], 0, &o, &r);
        RLT_CHECK(st == RL_OK, "%s: %s", tasks[t], rl_last_error());
        if (st) continue;
        if (k.worst > worst) {
            worst = k.worst;
            memcpy(where, k.where, sizeof where);
        }
        RLT_CHECK(r.n == jint(tr, "n") && k.seen == r.n, "%s: %lld documents", tasks[t], (long long)r.n);
        RLT_CLOSE(r.acc, jnum(tr, "acc"), 1e-12, 0, "%s: acc", tasks[t]);
        RLT_CLOSE(r.acc_stderr, jnum(tr, "acc_stderr"), 1e-9, 0, "%s: acc_stderr", tasks[t]);
        if (t == 4) {
            RLT_CHECK(isnan(r.acc_norm) && isnan(r.acc_norm_stderr), "lambada: no acc_norm");
            RLT_CLOSE(r.ppl, jnum(tr, "perplexity"), 0, 2 * LL_TOL, "lambada: perplexity");
        } else {
            RLT_CHECK(isnan(r.ppl), "%s: no perplexity", tasks[t]);
            RLT_CLOSE(r.acc_norm, jnum(tr, "acc_norm"), 1e-12, 0, "%s: acc_norm", tasks[t]);
            if (jget(tr, "acc_norm_stderr")) RLT_CLOSE(r.acc_norm_stderr, jnum(tr, "acc_norm_stderr"), 1e-9, 0, "%s: acc_norm_stderr", tasks[t]);
        }
    }
    rlt_end();
    if (getenv("RLT_VERBOSE")) fprintf(stderr, "  largest |ll - harness| over task documents: %.3g (%s)\n", worst, where);
}

static void test_task_options(void) {
    rl_mc_result r, all;
    rl_lmeval_opts o;
    const rl_json *docs = jget(jget(jget(&ref.root, "tasks"), "arc_easy"), "docs");
    double acc3 = 0;
    int i;
    volatile int stop = 1;
    rlt_begin("lmeval: task names, auto-detection, limit, stop, acc_norm by characters, rl_mc_score");
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "arc_easy.jsonl", "arc_easy", 0, &all) == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "arc_easy.jsonl", NULL, 0, &r) == RL_OK && r.n == all.n && r.acc == all.acc &&
                  r.acc_norm == all.acc_norm,
              "auto-detected task scores the same");
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "arc_easy.jsonl", "arc_challenge", 0, &r) == RL_OK && r.acc == all.acc,
              "arc_challenge scores like arc_easy");
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "lambada_openai.jsonl", "auto", 0, &r) == RL_OK && !isnan(r.ppl), "auto: lambada");
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "arc_easy.jsonl", "arc", 3, &r) == RL_OK && r.n == 3, "limit 3: %lld documents",
              (long long)r.n);
    for (i = 0; i < 3; i++) acc3 += jint(&docs->kids[i], "acc");
    RLT_CLOSE(r.acc, acc3 / 3, 1e-12, 0, "limit 3: acc of the first 3 documents");
    rl_lmeval_opts_default(&o);
    o.stop = &stop;
    RLT_CHECK(rl_eval_task_ex(&ctx, &llama, tok_llama, FIXDIR "piqa.jsonl", "piqa", 0, &o, &r) == RL_ERR_INTERRUPTED, "stop flag");

    { /* the PIQA document where dividing by bytes instead of characters would change acc_norm */
        const rl_json *pd = jget(jget(jget(&ref.root, "tasks"), "piqa"), "docs");
        int64_t d, flips = 0;
        for (d = 0; d < pd->n; d++) {
            const rl_json *w = &pd->kids[d], *lls = jget(w, "lls");
            double nb[2];
            for (i = 0; i < 2; i++) nb[i] = lls->kids[i].num / jget(w, "choice_bytes")->kids[i].num;
            flips += rl__lm_argmax(nb, 2) != jint(w, "pred_norm");
        }
        RLT_CHECK(flips == 1, "one PIQA document tells characters from bytes (%lld)", (long long)flips);
    }
    { /* rl_mc_score on a PIQA and a WinoGrande document built by hand */
        const rl_json *w = &jget(jget(jget(&ref.root, "tasks"), "piqa"), "docs")->kids[1];
        const char *ch[2];
        rl_mc_item it;
        double lls[2];
        int g[2], p = -1, pn = -1;
        /* {"goal": "To open a jar whose lid is stuck,", ...} */
        ch[0] = "put the jar in the freezer for a day.";
        ch[1] = "run the lid under hot water for a minute, then twist it.";
        memset(&it, 0, sizeof it);
        it.context = "Question: To open a jar whose lid is stuck,\nAnswer:";
        it.n_choices = 2;
        it.choices = ch;
        it.gold = 1;
        RLT_CHECK(rl_mc_score(&ctx, &llama, tok_llama, NULL, &it, lls, g, &p, &pn) == RL_OK, "%s", rl_last_error());
        for (i = 0; i < 2; i++) RLT_CLOSE(lls[i], jget(w, "lls")->kids[i].num, LL_TOL, 0, "rl_mc_score piqa choice %d", i);
        RLT_CHECK(p == jint(w, "pred") && pn == jint(w, "pred_norm"), "rl_mc_score piqa preds");
        w = &jget(jget(jget(&ref.root, "tasks"), "winogrande"), "docs")->kids[0];
        ch[0] = "The trophy would not fit into the suitcase because the trophy";
        ch[1] = "The trophy would not fit into the suitcase because the suitcase";
        it.context = NULL;
        it.target = "was too small.";
        RLT_CHECK(rl_mc_score(&ctx, &llama, tok_llama, NULL, &it, lls, NULL, &p, &pn) == RL_OK, "%s", rl_last_error());
        for (i = 0; i < 2; i++) RLT_CLOSE(lls[i], jget(w, "lls")->kids[i].num, LL_TOL, 0, "rl_mc_score winogrande choice %d", i);
        RLT_CHECK(p == jint(w, "pred") && pn == jint(w, "pred_norm"), "rl_mc_score winogrande preds");
    }
    { /* CRLF line ends, blank lines and a byte order mark are accepted; the scores do not change */
        char *text = NULL, *out;
        size_t len = 0, i2, o2 = 0;
        rl_mc_result a, b;
        if (rl__read_file(FIXDIR "winogrande.jsonl", 1 << 24, &text, &len) == RL_OK) {
            out = (char *)malloc(2 * len + 16);
            memcpy(out, "\xEF\xBB\xBF\r\n", 5);
            o2 = 5;
            for (i2 = 0; i2 < len; i2++) {
                if (text[i2] == '\n') {
                    memcpy(out + o2, "\r\n  \r\n", 6);
                    o2 += 6;
                } else
                    out[o2++] = text[i2];
            }
            out[o2] = 0;
            RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "winogrande.jsonl", "winogrande", 0, &a) == RL_OK &&
                          rl_eval_task(&ctx, &llama, tok_llama, write_tmp("crlf.jsonl", out), "winogrande", 0, &b) == RL_OK &&
                          a.n == b.n && a.acc == b.acc && a.acc_norm == b.acc_norm,
                      "CRLF + blank lines + BOM: %s", rl_last_error());
            free(out);
        }
        rl_free(text);
    }
    rlt_end();
}

/* ---- errors ---- */

static void bad(const char *name, const char *task, const char *text, rl_status want, const char *s1, const char *s2) {
    rl_mc_result r;
    const char *p = write_tmp(name, text);
    rl_status st = rl_eval_task(&ctx, &llama, tok_llama, p, task, 0, &r);
    RLT_CHECK(st == want && rlt_err_has(name, s1, s2), "%s: status %d, error '%s' (want '%s', '%s')", name, st, rl_last_error(),
              s1 ? s1 : "", s2 ? s2 : "");
}

static void test_errors(void) {
    static const char *piqa_ok = "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n";
    char buf[512];
    rl_mc_result r;
    rlt_begin("lmeval: malformed task files and requests give errors naming file, line and field");
    snprintf(buf, sizeof buf, "%s{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\" \"label\": 0}\n", piqa_ok);
    bad("syntax.jsonl", "piqa", buf, RL_ERR_FORMAT, "line 2, column 40", NULL);
    bad("nosol2.jsonl", "piqa", "{\"goal\": \"g\", \"sol1\": \"a\", \"label\": 0}\n", RL_ERR_FORMAT, "line 1", "sol2: missing");
    snprintf(buf, sizeof buf, "%s\n%s{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": 5, \"label\": 0}\n", piqa_ok, piqa_ok);
    bad("sol2num.jsonl", "piqa", buf, RL_ERR_FORMAT, "line 4", "sol2: expected a string, got a number");
    bad("label3.jsonl", "piqa", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 2}\n", RL_ERR_FORMAT, "label: 2 is out of range", NULL);
    bad("labelstr.jsonl", "piqa", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": \"x1\"}\n", RL_ERR_FORMAT, "label: expected a number", NULL);
    bad("array.jsonl", "piqa", "[1, 2]\n", RL_ERR_FORMAT, "line 1", "expected a JSON object, got an array");
    bad("endings.jsonl", "hellaswag",
        "{\"activity_label\": \"a\", \"ctx_a\": \"b\", \"ctx_b\": \"c\", \"endings\": \"d\", \"label\": \"0\"}\n", RL_ERR_FORMAT,
        "endings: expected an array", NULL);
    bad("ending2.jsonl", "hellaswag",
        "{\"activity_label\": \"a\", \"ctx_a\": \"b\", \"ctx_b\": \"c\", \"endings\": [\"d\", 7], \"label\": \"0\"}\n", RL_ERR_FORMAT,
        "endings[1]: expected a string", NULL);
    bad("nolabel.jsonl", "hellaswag",
        "{\"activity_label\": \"a\", \"ctx_a\": \"b\", \"ctx_b\": \"c\", \"endings\": [\"d\", \"e\"], \"label\": \"\"}\n", RL_ERR_FORMAT,
        "label: empty", NULL);
    bad("wino.jsonl", "winogrande", "{\"sentence\": \"no blank here\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}\n",
        RL_ERR_FORMAT, "sentence: has no \"_\"", NULL);
    bad("wino3.jsonl", "winogrande", "{\"sentence\": \"a _ b\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"3\"}\n",
        RL_ERR_FORMAT, "answer: 3 is out of range", NULL);
    bad("arckey.jsonl", "arc_easy",
        "{\"question\": \"q\", \"choices\": {\"text\": [\"a\", \"b\"], \"label\": [\"A\", \"B\"]}, \"answerKey\": \"C\"}\n", RL_ERR_FORMAT,
        "answerKey: \"C\" is not one of the choice labels", NULL);
    bad("arclen.jsonl", "arc_easy", "{\"question\": \"q\", \"choices\": {\"text\": [\"a\", \"b\"], \"label\": [\"A\"]}, \"answerKey\": \"A\"}\n",
        RL_ERR_FORMAT, "choices: 2 texts but 1 labels", NULL);
    bad("arcnest.jsonl", "arc", "{\"question\": {\"stem\": \"q\", \"choices\": [{\"text\": \"a\", \"label\": \"A\"}, 3]}, \"answerKey\": \"A\"}\n",
        RL_ERR_FORMAT, "question.choices[1]: expected an object", NULL);
    bad("lambada.jsonl", "lambada_openai", "{\"txt\": \"a b\"}\n", RL_ERR_FORMAT, "line 1: text: missing", NULL);
    bad("empty.jsonl", "piqa", "\n\n", RL_ERR_FORMAT, "no documents", NULL);
    bad("unknown.jsonl", NULL, "{\"question\": \"q\"}\n", RL_ERR_FORMAT, "cannot tell the task", NULL);
    bad("utf8.jsonl", "lambada", "{\"text\": \"a \xff b\"}\n", RL_ERR_FORMAT, "line 1, column", "UTF-8");
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "piqa.jsonl", "mmlu", 0, &r) == RL_ERR_ARG && rlt_err_has("unknown task 'mmlu'"),
              "unknown task name: %s", rl_last_error());
    RLT_CHECK(rl_eval_task(&ctx, &llama, tok_llama, FIXDIR "missing.jsonl", "piqa", 0, &r) == RL_ERR_IO && rlt_err_has("missing.jsonl"),
              "missing file: %s", rl_last_error());
    { /* requests the harness would assert on */
        rl_lmeval_opts o;
        double ll;
        rl_lmeval_opts_default(&o);
        o.add_special = 0;
        RLT_CHECK(rl_loglikelihood_ex(&ctx, &llama, tok_llama, &o, " ", "x", &ll, NULL, NULL) == RL_ERR_ARG && rlt_err_has("context", "no tokens"),
                  "whitespace-only context without BOS: %s", rl_last_error());
        RLT_CHECK(rl_loglikelihood(&ctx, &llama, tok_llama, "", "", &ll, NULL, NULL) == RL_ERR_ARG, "empty context and continuation");
        RLT_CHECK(rl_loglikelihood(&ctx, &llama, tok_llama, "abc", "", &ll, NULL, NULL) == RL_ERR_ARG && rlt_err_has("continuation", "no tokens"),
                  "empty continuation: %s", rl_last_error());
        o.add_special = -1;
        o.max_length = 3;
        RLT_CHECK(rl_loglikelihood_ex(&ctx, &llama, tok_llama, &o, "The", " quick brown fox jumps", &ll, NULL, NULL) == RL_ERR_ARG &&
                      rlt_err_has("longer than the maximum length 3"),
                  "continuation longer than max_length: %s", rl_last_error());
        o.max_length = 0;
        o.add_special = 2;
        RLT_CHECK(rl_loglikelihood_ex(&ctx, &llama, tok_llama, &o, "a", " b", &ll, NULL, NULL) == RL_ERR_ARG, "bad add_special");
        {
            int32_t c1[1] = {1}, c2[1] = {5000};
            RLT_CHECK(rl_loglikelihood_tokens(&ctx, &llama, c1, 1, c2, 1, 0, &ll, NULL) == RL_ERR_ARG && rlt_err_has("token id 5000 is outside the model's vocabulary of 640"),
                      "token id out of range: %s", rl_last_error());
        }
    }
    rlt_end();
}

int main(void) {
    rl_status st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rl_test_lmeval.%d", (int)getpid());
    if (rlt_mkdir(tmpdir) != 0) {
        printf("FAIL lmeval: cannot make a temporary folder\n");
        return 1;
    }
    test_text_rules();
    st = rl_json_parse_file(&ref, FIXDIR "ref.json", 0);
    if (st == RL_OK) st = rl_model_load(&llama, "tests/fixtures/tiny-llama", 0);
    if (st == RL_OK) st = rl_tokenizer_load(&tok_llama, "tests/fixtures/tiny-llama");
    if (st == RL_OK) st = rl_model_load(&qwen, "tests/fixtures/tiny-qwen2", 0);
    if (st == RL_OK) st = rl_tokenizer_load(&tok_qwen, "tests/fixtures/tiny-qwen2");
    if (st != RL_OK) {
        printf("FAIL lmeval: loading fixtures: %s\n", rl_last_error());
        return 1;
    }
    rl_ctx_init(&ctx, NULL);
    test_doc_requests();
    test_requests();
    test_tasks();
    test_task_options();
    test_errors();
    rl_ctx_free(&ctx);
    rl_model_free(&llama);
    rl_model_free(&qwen);
    rl_tokenizer_free(tok_llama);
    rl_tokenizer_free(tok_qwen);
    rl_json_free(&ref);
    {
        static const char *names[] = {"syntax.jsonl", "nosol2.jsonl", "sol2num.jsonl", "label3.jsonl", "labelstr.jsonl", "array.jsonl",
                                      "endings.jsonl", "ending2.jsonl", "nolabel.jsonl", "wino.jsonl", "wino3.jsonl", "arckey.jsonl",
                                      "arclen.jsonl", "arcnest.jsonl", "lambada.jsonl", "empty.jsonl", "unknown.jsonl", "utf8.jsonl",
                                      "crlf.jsonl"};
        size_t i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp_path(names[i]));
        rmdir(tmpdir);
    }
    return rlt_exit();
}
