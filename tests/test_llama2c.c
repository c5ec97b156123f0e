/* llama2.c teachers: the .bin reader (legacy v0, export.py v1 fp32 and v2 Q8_0; shared and
   unshared classifier) against a transcription of llama2.c's run.c forward pass on random
   models, its validation, the SentencePiece vocabulary (tokenizer.bin) on hand-made
   vocabularies, and, with ../shared/data (or $RADLADS_DATA), the real stories260K: greedy
   generation equal to llama2.c's golden output byte for byte, and encode/decode equal to
   llama2.c's algorithm (tests/fixtures/llama2c_tok512.jsonl, from tools/ref/llama2c_tokenizer.py). */
#define _POSIX_C_SOURCE 200809L
#include "../radlads.h"
#include "rl_test.h"
#include <unistd.h>

/* ---- a random model in llama2.c's layout (Meta's interleaved RoPE order) ---- */
typedef struct {
    int dim, hid, L, H, KVH, V, S;
    float *emb, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *wcls;
} l2c_w;

static float *randv(rl_rng *r, long n, float scale) {
    float *p = (float *)malloc(sizeof(float) * (size_t)n);
    long i;
    for (i = 0; i < n; i++) p[i] = (rl_rng_uniform(r) * 2 - 1) * scale;
    return p;
}

static void make_model(l2c_w *w, int shared, uint64_t seed) {
    rl_rng r;
    int kvd;
    rl_rng_seed(&r, seed);
    w->dim = 16, w->hid = 40, w->L = 2, w->H = 4, w->KVH = 2, w->V = 40, w->S = 32;
    kvd = w->KVH * (w->dim / w->H);
    w->emb = randv(&r, (long)w->V * w->dim, 1.0f);
    w->rms_att = randv(&r, (long)w->L * w->dim, 1.0f);
    w->wq = randv(&r, (long)w->L * w->dim * w->dim, 0.5f);
    w->wk = randv(&r, (long)w->L * kvd * w->dim, 0.5f);
    w->wv = randv(&r, (long)w->L * kvd * w->dim, 0.5f);
    w->wo = randv(&r, (long)w->L * w->dim * w->dim, 0.3f);
    w->rms_ffn = randv(&r, (long)w->L * w->dim, 1.0f);
    w->w1 = randv(&r, (long)w->L * w->hid * w->dim, 0.3f);
    w->w2 = randv(&r, (long)w->L * w->dim * w->hid, 0.3f);
    w->w3 = randv(&r, (long)w->L * w->hid * w->dim, 0.3f);
    w->rms_final = randv(&r, w->dim, 1.0f);
    w->wcls = shared ? NULL : randv(&r, (long)w->V * w->dim, 0.5f);
}

static void free_model(l2c_w *w) {
    float *all[12];
    int i;
    all[0] = w->emb, all[1] = w->rms_att, all[2] = w->wq, all[3] = w->wk, all[4] = w->wv, all[5] = w->wo;
    all[6] = w->rms_ffn, all[7] = w->w1, all[8] = w->w2, all[9] = w->w3, all[10] = w->rms_final, all[11] = w->wcls;
    for (i = 0; i < 12; i++) free(all[i]);
}

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf_t;
static void put(buf_t *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 1024;
        b->p = (unsigned char *)realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put_i32(buf_t *b, int32_t v) { put(b, &v, 4); }
static void put_f(buf_t *b, const float *x, long n) { put(b, x, sizeof(float) * (size_t)n); }

/* export.py's quantize_q80, in place to its dequantized values; the int8 and scales appended */
static void q80(const float *w, long n, int gs, float *deq, buf_t *q, float *scales) {
    long g, i;
    for (g = 0; g < n / gs; g++) {
        float mx = 0, s;
        for (i = 0; i < gs; i++) mx = fabsf(w[g * gs + i]) > mx ? fabsf(w[g * gs + i]) : mx;
        s = mx / 127.0f;
        scales[g] = s;
        for (i = 0; i < gs; i++) {
            signed char v = (signed char)(s > 0 ? roundf(w[g * gs + i] / s) : 0);
            put(q, &v, 1);
            deq[g * gs + i] = (float)v * s;
        }
    }
}

/* serialize as version 0, 1 or 2 (export.py); for v2, *deq gets the dequantized model */
static void serialize(const l2c_w *w, int version, int gs, buf_t *b, l2c_w *deq) {
    int32_t hdr[7];
    int hd = w->dim / w->H, kvd = w->KVH * hd, shared = w->wcls == NULL;
    long LD = (long)w->L * w->dim;
    memset(b, 0, sizeof *b);
    hdr[0] = w->dim, hdr[1] = w->hid, hdr[2] = w->L, hdr[3] = w->H, hdr[4] = w->KVH, hdr[5] = w->V, hdr[6] = w->S;
    if (version == 0) {
        float *fc = (float *)calloc((size_t)w->S * hd, sizeof(float));
        if (!shared) hdr[5] = -w->V;
        put(b, hdr, sizeof hdr);
        put_f(b, w->emb, (long)w->V * w->dim);
        put_f(b, w->rms_att, LD);
        put_f(b, w->wq, LD * w->dim);
        put_f(b, w->wk, LD * kvd);
        put_f(b, w->wv, LD * kvd);
        put_f(b, w->wo, LD * w->dim);
        put_f(b, w->rms_ffn, LD);
        put_f(b, w->w1, LD * w->hid);
        put_f(b, w->w2, LD * w->hid);
        put_f(b, w->w3, LD * w->hid);
        put_f(b, w->rms_final, w->dim);
        put_f(b, fc, (long)w->S * hd); /* freq_cis_real, freq_cis_imag [S, hd/2] */
        if (!shared) put_f(b, w->wcls, (long)w->V * w->dim);
        free(fc);
        return;
    }
    {
        unsigned char pad[256];
        uint32_t magic = 0x616b3432u;
        unsigned char sh = (unsigned char)shared;
        memset(pad, 0, sizeof pad);
        put(b, &magic, 4);
        put_i32(b, version);
        put(b, hdr, sizeof hdr);
        put(b, &sh, 1);
        if (version == 2) put_i32(b, gs);
        put(b, pad, 256 - b->n);
        put_f(b, w->rms_att, LD);
        put_f(b, w->rms_ffn, LD);
        put_f(b, w->rms_final, w->dim);
    }
    if (version == 1) {
        put_f(b, w->emb, (long)w->V * w->dim);
        put_f(b, w->wq, LD * w->dim);
        put_f(b, w->wk, LD * kvd);
        put_f(b, w->wv, LD * kvd);
        put_f(b, w->wo, LD * w->dim);
        put_f(b, w->w1, LD * w->hid);
        put_f(b, w->w2, LD * w->hid);
        put_f(b, w->w3, LD * w->hid);
        if (!shared) put_f(b, w->wcls, (long)w->V * w->dim);
        return;
    }
    {
        const float *src[8];
        float **dst[8];
        long n[8];
        int k, nt = shared ? 8 : 9;
        buf_t sc;
        memset(&sc, 0, sizeof sc);
        *deq = *w;
        src[0] = w->emb, src[1] = w->wq, src[2] = w->wk, src[3] = w->wv, src[4] = w->wo, src[5] = w->w1, src[6] = w->w2, src[7] = w->w3;
        dst[0] = &deq->emb, dst[1] = &deq->wq, dst[2] = &deq->wk, dst[3] = &deq->wv, dst[4] = &deq->wo, dst[5] = &deq->w1, dst[6] = &deq->w2,
        dst[7] = &deq->w3;
        n[0] = (long)w->V * w->dim, n[1] = LD * w->dim, n[2] = LD * kvd, n[3] = LD * kvd, n[4] = LD * w->dim, n[5] = n[6] = n[7] = LD * w->hid;
        for (k = 0; k < nt; k++) {
            const float *s = k < 8 ? src[k] : w->wcls;
            long cnt = k < 8 ? n[k] : (long)w->V * w->dim;
            float *d = (float *)malloc(sizeof(float) * (size_t)cnt), *scales = (float *)malloc(sizeof(float) * (size_t)(cnt / gs));
            q80(s, cnt, gs, d, b, scales);
            put_f(&sc, scales, cnt / gs);
            free(scales);
            if (k < 8) *dst[k] = d;
            else deq->wcls = d;
        }
        deq->rms_att = w->rms_att, deq->rms_ffn = w->rms_ffn, deq->rms_final = w->rms_final;
        put(b, sc.p, sc.n);
        free(sc.p);
    }
}

/* ---- run.c's forward(), transcribed: logits of token at pos, KV cache in kc/vc ---- */
static void rmsnorm(float *o, const float *x, const float *w, int n) {
    float ss = 0;
    int j;
    for (j = 0; j < n; j++) ss += x[j] * x[j];
    ss = 1.0f / sqrtf(ss / n + 1e-5f);
    for (j = 0; j < n; j++) o[j] = w[j] * (ss * x[j]);
}
static void matmul(float *xout, const float *x, const float *w, int n, int d) {
    int i, j;
    for (i = 0; i < d; i++) {
        float v = 0;
        for (j = 0; j < n; j++) v += w[i * n + j] * x[j];
        xout[i] = v;
    }
}
static void ref_forward(const l2c_w *w, float *kc, float *vc, int token, int pos, float *logits) {
    int dim = w->dim, hd = dim / w->H, kvd = w->KVH * hd, kvmul = w->H / w->KVH, l, i, h, t;
    float x[64], xb[64], xb2[64], q[64], hb[128], hb2[128], att[64];
    memcpy(x, w->emb + (long)token * dim, sizeof(float) * (size_t)dim);
    for (l = 0; l < w->L; l++) {
        float *k = kc + ((long)l * w->S + pos) * kvd, *v = vc + ((long)l * w->S + pos) * kvd;
        rmsnorm(xb, x, w->rms_att + l * dim, dim);
        matmul(q, xb, w->wq + (long)l * dim * dim, dim, dim);
        matmul(k, xb, w->wk + (long)l * dim * kvd, dim, kvd);
        matmul(v, xb, w->wv + (long)l * dim * kvd, dim, kvd);
        for (i = 0; i < dim; i += 2) { /* RoPE on adjacent pairs */
            int hdi = i % hd, rotn = i < kvd ? 2 : 1, r;
            float freq = 1.0f / powf(10000.0f, hdi / (float)hd), val = pos * freq, fcr = cosf(val), fci = sinf(val);
            for (r = 0; r < rotn; r++) {
                float *vec = r == 0 ? q : k, v0 = vec[i], v1 = vec[i + 1];
                vec[i] = v0 * fcr - v1 * fci;
                vec[i + 1] = v0 * fci + v1 * fcr;
            }
        }
        for (h = 0; h < w->H; h++) {
            float *qh = q + h * hd, mx = -1e30f, sum = 0;
            for (t = 0; t <= pos; t++) {
                const float *kt = kc + ((long)l * w->S + t) * kvd + (h / kvmul) * hd;
                float s = 0;
                for (i = 0; i < hd; i++) s += qh[i] * kt[i];
                att[t] = s / sqrtf((float)hd);
                mx = att[t] > mx ? att[t] : mx;
            }
            for (t = 0; t <= pos; t++) sum += att[t] = expf(att[t] - mx);
            for (i = 0; i < hd; i++) xb[h * hd + i] = 0;
            for (t = 0; t <= pos; t++) {
                const float *vt = vc + ((long)l * w->S + t) * kvd + (h / kvmul) * hd;
                for (i = 0; i < hd; i++) xb[h * hd + i] += att[t] / sum * vt[i];
            }
        }
        matmul(xb2, xb, w->wo + (long)l * dim * dim, dim, dim);
        for (i = 0; i < dim; i++) x[i] += xb2[i];
        rmsnorm(xb, x, w->rms_ffn + l * dim, dim);
        matmul(hb, xb, w->w1 + (long)l * dim * w->hid, dim, w->hid);
        matmul(hb2, xb, w->w3 + (long)l * dim * w->hid, dim, w->hid);
        for (i = 0; i < w->hid; i++) hb[i] = hb[i] * (1.0f / (1.0f + expf(-hb[i]))) * hb2[i];
        matmul(xb, hb, w->w2 + (long)l * dim * w->hid, w->hid, dim);
        for (i = 0; i < dim; i++) x[i] += xb[i];
    }
    rmsnorm(x, x, w->rms_final, dim);
    matmul(logits, x, w->wcls ? w->wcls : w->emb, dim, w->V);
}

/* our logits for a sequence (incremental decoding) against the transcription */
static double compare_logits(const l2c_w *ref, rl_model *m) {
    int T = 12, t, kvd = ref->KVH * (ref->dim / ref->H);
    float *kc = (float *)calloc((size_t)ref->L * ref->S * kvd, sizeof(float)), *vc = (float *)calloc((size_t)ref->L * ref->S * kvd, sizeof(float));
    float a[64], b[64];
    double worst = 0;
    rl_ctx c;
    rl_state s;
    rl_ctx_init(&c, NULL);
    if (rl_state_init(&s, m, T) != RL_OK) return 1e9;
    for (t = 0; t < T; t++) {
        int32_t tok = (int32_t)((t * 7 + 3) % ref->V);
        double wv;
        ref_forward(ref, kc, vc, tok, t, a);
        if (rl_model_step(&c, m, &s, &tok, 1, b) != RL_OK) return 1e9;
        wv = rlt_worst(b, a, ref->V, 1e-4, 1e-4, NULL);
        worst = wv > worst ? wv : worst;
    }
    rl_state_free(&s);
    rl_ctx_free(&c);
    free(kc);
    free(vc);
    return worst;
}

static void test_formats(void) {
    int shared, version;
    rlt_begin("llama2.c v0/v1/v2, shared and unshared classifier = run.c's forward (Q/K to rotate-half)");
    for (shared = 0; shared < 2; shared++)
        for (version = 0; version < 3; version++) {
            l2c_w w, deq;
            buf_t b;
            rl_model m;
            rl_status st;
            make_model(&w, shared, 11 + (uint64_t)shared);
            memset(&deq, 0, sizeof deq);
            serialize(&w, version, 8, &b, &deq);
            st = rl_model_from_llama2c_mem(&m, b.p, b.n, "model.bin");
            RLT_CHECK(st == RL_OK, "v%d shared %d: %s", version, shared, rl_last_error());
            if (st == RL_OK) {
                double worst = compare_logits(version == 2 ? &deq : &w, &m);
                RLT_CHECK(worst <= 1, "v%d shared %d: logits differ from run.c's (worst %.3g of tolerance)", version, shared, worst);
                RLT_CHECK(m.cfg.tie_embeddings == shared && m.cfg.n_kv_heads == 2 && m.cfg.head_dim == 4 && m.cfg.max_pos == 32 &&
                              m.cfg.bos_id == 1 && m.cfg.n_eos == 2 && m.cfg.eos_ids[0] == 1,
                          "v%d shared %d: config", version, shared);
                rl_model_free(&m);
            }
            if (version == 2) {
                free(deq.emb);
                free(deq.wq);
                free(deq.wk);
                free(deq.wv);
                free(deq.wo);
                free(deq.w1);
                free(deq.w2);
                free(deq.w3);
                if (!shared) free(deq.wcls);
            }
            free(b.p);
            free_model(&w);
        }
    rlt_end();
}

static int fails_with(const unsigned char *p, size_t n, rl_status want, const char *needle) {
    rl_model m;
    rl_status st = rl_model_from_llama2c_mem(&m, p, n, "bad.bin");
    if (st == RL_OK) rl_model_free(&m);
    if (st != want || !strstr(rl_last_error(), "bad.bin") || !strstr(rl_last_error(), needle)) {
        fprintf(stderr, "  got %d: %s (wanted %d and '%s')\n", st, rl_last_error(), want, needle);
        return 0;
    }
    return 1;
}

static void test_validation(void) {
    l2c_w w, d;
    buf_t b;
    unsigned char *p;
    int32_t v;
    rlt_begin("llama2.c reader refuses bad files with the file and field named");
    make_model(&w, 1, 5);
    memset(&d, 0, sizeof d);
    serialize(&w, 0, 8, &b, NULL);
    p = (unsigned char *)malloc(b.n + 8);
    memcpy(p, b.p, b.n);
    RLT_CHECK(fails_with(p, b.n - 1, RL_ERR_FORMAT, "bytes"), "truncated v0");
    RLT_CHECK(fails_with(p, 10, RL_ERR_FORMAT, "too short"), "10 bytes");
    RLT_CHECK(fails_with(p, 0, RL_ERR_FORMAT, "too short"), "empty");
    v = 0, memcpy(p + 12, &v, 4);
    RLT_CHECK(fails_with(p, b.n, RL_ERR_FORMAT, "n_heads"), "n_heads 0");
    v = 3, memcpy(p + 12, &v, 4);
    RLT_CHECK(fails_with(p, b.n, RL_ERR_FORMAT, "n_heads"), "dim 16 into 3 heads");
    v = 4, memcpy(p + 12, &v, 4);
    v = 3, memcpy(p + 16, &v, 4);
    RLT_CHECK(fails_with(p, b.n, RL_ERR_FORMAT, "n_kv_heads"), "4 heads over 3 kv heads");
    v = 2, memcpy(p + 16, &v, 4);
    v = -2147483647 - 1, memcpy(p + 20, &v, 4);
    RLT_CHECK(fails_with(p, b.n, RL_ERR_FORMAT, "vocab_size"), "vocab INT_MIN");
    v = 40, memcpy(p + 20, &v, 4);
    memcpy(p + b.n, "abcd", 4);
    RLT_CHECK(fails_with(p, b.n + 4, RL_ERR_FORMAT, "bytes"), "trailing bytes");
    free(b.p);
    free(p);
    serialize(&w, 1, 8, &b, NULL);
    v = 3, memcpy(b.p + 4, &v, 4);
    RLT_CHECK(fails_with(b.p, b.n, RL_ERR_UNSUPPORTED, "version 3"), "version 3");
    v = 1, memcpy(b.p + 4, &v, 4);
    b.p[36] = 2;
    RLT_CHECK(fails_with(b.p, b.n, RL_ERR_FORMAT, "shared_classifier"), "shared byte 2");
    b.p[36] = 1;
    RLT_CHECK(fails_with(b.p, 200, RL_ERR_FORMAT, "256-byte header"), "short versioned header");
    free(b.p);
    serialize(&w, 2, 8, &b, &d);
    v = 6, memcpy(b.p + 37, &v, 4);
    RLT_CHECK(fails_with(b.p, b.n, RL_ERR_FORMAT, "group_size"), "group size 6");
    v = 8, memcpy(b.p + 37, &v, 4);
    RLT_CHECK(fails_with(b.p, b.n - 4, RL_ERR_FORMAT, "v2 (Q8_0)"), "v2 missing a scale");
    free(d.emb);
    free(d.wq);
    free(d.wk);
    free(d.wv);
    free(d.wo);
    free(d.w1);
    free(d.w2);
    free(d.w3);
    free(b.p);
    free_model(&w);
    rlt_end();
}

/* ---- tokenizer.bin ---- */
static void tok_piece(buf_t *b, float score, const char *s) {
    int32_t n = (int32_t)strlen(s);
    put(b, &score, 4);
    put_i32(b, n);
    put(b, s, (size_t)n);
}

/* <unk>, BOS, EOS, 256 byte tokens, then pieces (score order as a BPE vocabulary) */
static void make_vocab(buf_t *b, const char *const *pieces, const float *scores, int n) {
    int i;
    char bt[8];
    memset(b, 0, sizeof *b);
    put_i32(b, 7);
    tok_piece(b, 0, "<unk>");
    tok_piece(b, 0, "\n<s>\n");
    tok_piece(b, 0, "\n</s>\n");
    for (i = 0; i < 256; i++) {
        snprintf(bt, sizeof bt, "<0x%02X>", i);
        tok_piece(b, 0, bt);
    }
    for (i = 0; i < n; i++) tok_piece(b, scores[i], pieces[i]);
}

static int enc_is(const rl_tokenizer *t, const char *text, const int32_t *want, int n) {
    int32_t *ids;
    int64_t k, i;
    int ok;
    if (rl_tokenizer_encode(t, text, strlen(text), 1, &ids, &k) != RL_OK) return 0;
    ok = k == n;
    for (i = 0; ok && i < k; i++) ok = ids[i] == want[i];
    if (!ok) {
        fprintf(stderr, "  '%s':", text);
        for (i = 0; i < k; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    rl_free(ids);
    return ok;
}

static void test_vocab(void) {
    /* ids: ' ' 259, a 260, b 261, c 262, ab 263, bc 264, abc 265, ' a' 266, aa 267 */
    static const char *const pieces[] = {" ", "a", "b", "c", "ab", "bc", "abc", " a", "aa"};
    static const float scores[] = {-10, -10, -10, -10, -1, -2, -3, -5, -1};
    buf_t b;
    rl_tokenizer *t = NULL;
    rl_detok dt;
    const char *txt;
    size_t len;
    char *s;
    rlt_begin("llama2.c tokenizer.bin: dummy prefix, score-ordered merges (leftmost on ties), byte fallback, decode");
    make_vocab(&b, pieces, scores, 9);
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n, 268, "tok.bin") == RL_OK, "load: %s", rl_last_error());
    if (t) {
        static const int32_t e1[] = {1, 259, 265}, e2[] = {1, 259, 267, 260}, e3[] = {1, 259, 0xC3 + 3, 0xA9 + 3, 260}, e4[] = {1};
        static const int32_t e5[] = {1, 259, 267, 261};
        int32_t ids[] = {1, 259, 260, 0xC3 + 3, 0xA9 + 3, 2, 266};
        RLT_CHECK(enc_is(t, "abc", e1, 3), "ab (-1) before bc (-2), then abc");
        RLT_CHECK(enc_is(t, "aaa", e2, 4), "equal scores: the leftmost pair first");
        RLT_CHECK(enc_is(t, "\xC3\xA9" "a", e3, 5), "a character without a piece: its bytes + 3");
        RLT_CHECK(enc_is(t, "", e4, 1), "empty text: BOS only, no dummy prefix");
        RLT_CHECK(enc_is(t, "aab", e5, 4), "aa and ab tie at -1, ' a' scores less: the leftmost, aa");
        RLT_CHECK(rl_tokenizer_decode(t, ids, 7, 0, &s, &len) == RL_OK && !strcmp(s, "\n<s>\na\xC3\xA9\n</s>\n a"),
                  "decode: the space after BOS dropped, byte tokens joined: '%s'", s);
        rl_free(s);
        RLT_CHECK(rl_tokenizer_decode(t, ids, 7, 1, &s, &len) == RL_OK && !strcmp(s, "a\xC3\xA9 a"), "decode skip_special: '%s'", s);
        rl_free(s);
        rl_detok_init(&dt, 1);
        {
            char out[64] = "";
            int i;
            for (i = 0; i < 7; i++)
                if (rl_detok_push(t, &dt, ids[i], &txt, &len) == RL_OK) strncat(out, txt, len);
            RLT_CHECK(!strcmp(out, "a\xC3\xA9 a"), "streaming decode: '%s'", out);
        }
        rl_detok_free(&dt);
        RLT_CHECK(rl_tokenizer_vocab_size(t) == 268 && rl_tokenizer_bos(t) == 1 && rl_tokenizer_id(t, "abc") == 265 &&
                      rl_tokenizer_token_type(t, 1) == RL_TOKEN_CONTROL,
                  "queries");
        rl_tokenizer_free(t);
    }
    /* strict reading */
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n, 300, "tok.bin") == RL_ERR_FORMAT && strstr(rl_last_error(), "vocab_size"),
              "fewer tokens than the model's vocab: %s", rl_last_error());
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n, 200, "tok.bin") == RL_ERR_FORMAT && strstr(rl_last_error(), "after the last"),
              "more tokens than the model's vocab: %s", rl_last_error());
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n - 1, 0, "tok.bin") == RL_ERR_FORMAT && strstr(rl_last_error(), "token 267"),
              "truncated: %s", rl_last_error());
    b.p[0] = 2; /* max_token_length 2 < "<unk>" */
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n, 0, "tok.bin") == RL_ERR_FORMAT && strstr(rl_last_error(), "token 0: length 5"),
              "max_token_length: %s", rl_last_error());
    b.p[0] = 7;
    b.p[4 + 8 + 5 + 8 + 5 + 8 + 6 + 8 + 4] = '1'; /* "<0x00>" -> "<0x01>" */
    RLT_CHECK(rl_tokenizer_load_llama2c_mem(&t, b.p, b.n, 0, "tok.bin") == RL_ERR_FORMAT && strstr(rl_last_error(), "token 3"),
              "byte pieces in order: %s", rl_last_error());
    free(b.p);
    rlt_end();
}

/* ---- the real stories260K ---- */

static void test_stories260k(const char *data) {
    char model[1200], tokp[1200], gold[1200], dir[256], *want, out[4096] = "";
    const char *tmp = getenv("TMPDIR");
    size_t wn, len;
    rl_model m;
    rl_tokenizer *tok = NULL;
    FILE *f;
    snprintf(model, sizeof model, "%s/stories260K/stories260K.bin", data);
    snprintf(tokp, sizeof tokp, "%s/stories260K/tok512.bin", data);
    snprintf(gold, sizeof gold, "%s/stories260K/stories260K_greedy_t0_n200.txt", data);
    if (!(f = fopen(model, "rb"))) {
        char why[1300];
        snprintf(why, sizeof why, "%s not found (set RADLADS_DATA to the shared data folder)", model);
        rlt_skip("stories260K: import, greedy 200 tokens = llama2.c's golden output", why);
        rlt_skip("stories260K: tok512 encode/decode = llama2.c's algorithm (fixture)", why);
        return;
    }
    fclose(f);
    rlt_begin("stories260K: import, greedy 200 tokens = llama2.c's golden output");
    snprintf(dir, sizeof dir, "%s/rl_llama2c_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    RLT_CHECK(rlt_mkdtemp(dir) != NULL, "mkdtemp");
    RLT_CHECK(rl_import_llama2c(model, tokp, dir) == RL_OK, "import: %s", rl_last_error());
    want = rlt_read_all(gold, &wn);
    RLT_CHECK(want != NULL, "%s", gold);
    if (!rlt_fails && rl_model_load(&m, dir, 0) == RL_OK) {
        if (rl_tokenizer_load(&tok, dir) == RL_OK) { /* run.c: BOS, then 200 forwards, greedy, stop at BOS */
            rl_ctx c;
            rl_state s;
            rl_detok dt;
            const char *txt;
            float lg[512];
            int32_t t = 1;
            int k;
            rl_ctx_init(&c, NULL);
            rl_state_init(&s, &m, 256);
            rl_detok_init(&dt, 0);
            rl_detok_push(tok, &dt, t, &txt, &len);
            for (k = 0; k < 200; k++) {
                int v;
                if (rl_model_step(&c, &m, &s, &t, 1, lg) != RL_OK) break;
                for (t = 0, v = 1; v < 512; v++)
                    if (lg[v] > lg[t]) t = v;
                if (t == 1) break;
                if (rl_detok_push(tok, &dt, t, &txt, &len) == RL_OK && strlen(out) + len < sizeof out) strncat(out, txt, len);
            }
            RLT_CHECK(want && strlen(out) == wn && !memcmp(out, want, wn), "greedy output differs from llama2.c's:\n%s", out);
            rl_detok_free(&dt);
            rl_state_free(&s);
            rl_ctx_free(&c);
        } else
            RLT_CHECK(0, "tokenizer from the folder: %s", rl_last_error());
        RLT_CHECK(m.cfg.vocab_size == 512 && m.cfg.n_layers == 5 && m.cfg.n_kv_heads == 4 && m.cfg.tie_embeddings, "config");
        rl_model_free(&m);
    } else
        RLT_CHECK(0, "load the imported folder: %s", rl_last_error());
    free(want);
    {
        static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.bin", "generation_config.json"};
        char p[400];
        int i;
        for (i = 0; i < 4; i++) {
            snprintf(p, sizeof p, "%s/%s", dir, files[i]);
            RLT_CHECK(remove(p) == 0, "%s written", p);
        }
        rmdir(dir);
    }
    rlt_end();

    rlt_begin("stories260K: tok512 encode/decode = llama2.c's algorithm (fixture)");
    if (tok) {
        size_t fn;
        char *fx = rlt_read_all("tests/fixtures/llama2c_tok512.jsonl", &fn), *line, *end;
        int lines = 0;
        RLT_CHECK(fx != NULL, "tests/fixtures/llama2c_tok512.jsonl");
        for (line = fx; fx && line < fx + fn; line = end + 1) {
            rl_json_doc jd;
            const rl_json *text, *ids, *dec;
            int32_t *got = NULL;
            int64_t n = 0, i;
            char *back = NULL;
            end = strchr(line, '\n');
            if (!end) end = fx + fn;
            if (end == line) continue;
            if (rl_json_parse(&jd, line, (size_t)(end - line), "llama2c_tok512.jsonl") != RL_OK) {
                RLT_CHECK(0, "%s", rl_last_error());
                break;
            }
            text = rl_json_get(&jd.root, "text"), ids = rl_json_get(&jd.root, "ids"), dec = rl_json_get(&jd.root, "decoded");
            lines++;
            if (rl_tokenizer_encode(tok, text->str, (size_t)text->n, 1, &got, &n) == RL_OK) {
                int same = n == ids->n;
                for (i = 0; same && i < n; i++) same = got[i] == ids->kids[i].i;
                RLT_CHECK(same, "encode '%s': %lld ids, llama2.c %lld", text->str, (long long)n, (long long)ids->n);
                RLT_CHECK(rl_tokenizer_decode(tok, got, n, 1, &back, &len) == RL_OK && len == (size_t)dec->n && !memcmp(back, dec->str, len),
                          "decode '%s': '%s'", dec->str, back ? back : "");
                rl_free(back);
                rl_free(got);
            } else
                RLT_CHECK(0, "encode: %s", rl_last_error());
            rl_json_free(&jd);
        }
        RLT_CHECK(lines >= 10, "%d fixture strings", lines);
        free(fx);
        rl_tokenizer_free(tok);
    } else
        RLT_CHECK(0, "no tokenizer");
    rlt_end();
}

int main(void) {
    const char *env = getenv("RADLADS_DATA");
    test_formats();
    test_validation();
    test_vocab();
    test_stories260k(env && *env ? env : "../shared/data");
    return rlt_exit();
}
