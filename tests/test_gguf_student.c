/* GGUF models read in place. RAD-RWKV6 students (llama.cpp arch rwkv6qwen2): our own export in
   F32 gives the logits of the Hugging Face folder it came from; F16/BF16 exports and
   quantized files (Q8_0, Q4_0, written here with ggml's reference block layouts) keep their
   matrices in that type, read in place from the mapping, and a quantized file gives the
   logits of an F32 file holding the same dequantized values. Prefill + decode equals the
   batched forward. Llama/Qwen2 teachers: quantized matrices kept so, computing what an F32
   file of the same values does, and making the same student. (llama.cpp's own conversion and llama-perplexity: tools/ref/check_llamacpp.sh.) */
#define _POSIX_C_SOURCE 200809L
#include "../radlads.h"
#include "rl_test.h"

#include <unistd.h>

#define STUDENT "tests/fixtures/train/student-rwkv6"

static rl_pool *pool;
static char tmp[3][300];


static double max_abs(const float *a, int64_t n) {
    double m = 0;
    int64_t i;
    for (i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}
static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    int64_t i;
    for (i = 0; i < n; i++) m = fabs(a[i] - b[i]) > m ? fabs(a[i] - b[i]) : m;
    return m;
}

typedef struct { rl_dtype want; int n, bad; uintptr_t lo, hi; int outside; } kept_ctx;
static int is_big(const char *name) {
    return strstr(name, "proj.weight") || strstr(name, "gate.weight") || strstr(name, "embed_tokens") || strstr(name, "lm_head");
}
static void kept_fn(void *u, const char *name, rl_tensor *t) {
    kept_ctx *k = (kept_ctx *)u;
    if (!is_big(name)) return;
    k->n++;
    k->bad += t->dtype != k->want;
    k->outside += (uintptr_t)t->data < k->lo || (uintptr_t)t->data >= k->hi;
}
static void check_kept(rl_model *m, rl_dtype want, const char *what) {
    kept_ctx k;
    memset(&k, 0, sizeof k);
    k.want = want;
    k.lo = (uintptr_t)m->gguf->base;
    k.hi = k.lo + (uintptr_t)m->gguf->size;
    rl_model_params(m, kept_fn, &k);
    RLT_CHECK(k.n >= 10 && !k.bad && !k.outside, "%s: %d of %d matrices not in the stored type, %d not read in place", what, k.bad, k.n, k.outside);
}

/* ggml reference quantizers (ggml-quants.c quantize_row_q8_0_ref / q4_0_ref) */
static void quant_q8_0(const float *x, unsigned char *out, int64_t n) {
    int64_t b, j;
    for (b = 0; b < n / 32; b++, x += 32, out += 34) {
        float amax = 0, d, id;
        uint16_t h;
        for (j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        d = amax / 127.0f;
        id = d ? 1.0f / d : 0.0f;
        h = rl_f32_to_f16(d);
        memcpy(out, &h, 2);
        for (j = 0; j < 32; j++) out[2 + j] = (unsigned char)(signed char)roundf(x[j] * id);
    }
}
static void quant_q4_0(const float *x, unsigned char *out, int64_t n) {
    int64_t b, j;
    for (b = 0; b < n / 32; b++, x += 32, out += 18) {
        float amax = 0, mx = 0, d, id;
        uint16_t h;
        for (j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                mx = x[j];
            }
        d = mx / -8.0f;
        id = d ? 1.0f / d : 0.0f;
        h = rl_f32_to_f16(d);
        memcpy(out, &h, 2);
        for (j = 0; j < 16; j++) {
            int a = (int)(x[j] * id + 8.5f), c = (int)(x[j + 16] * id + 8.5f);
            a = a > 15 ? 15 : a;
            c = c > 15 ? 15 : c;
            out[2 + j] = (unsigned char)(a | (c << 4));
        }
    }
}

static int is_gguf_matrix(const char *name) {
    static const char *const sfx[] = {"time_mix_receptance.weight", "time_mix_key.weight", "time_mix_value.weight", "time_mix_gate.weight",
                                      "time_mix_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                                      "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"};
    size_t i, n = strlen(name);
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "output.weight")) return 1;
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && !strcmp(name + n - k, sfx[i])) return 1;
    }
    return 0;
}

/* Rewrite the F32 GGUF `from`: matrices quantized (Q4_0 for the MLP and a mixer's output, Q8_0 otherwise) into
   qpath, and the same dequantized values as F32 into fpath. */
static int requantize(const char *from, const char *qpath, const char *fpath) {
    rl_gguf g;
    rl_gguf_writer *wq, *wf;
    void **keep;
    int64_t i, nk = 0;
    int ok = 1;
    if (rl_gguf_open(&g, from) != RL_OK) return 0;
    wq = rl_gguf_writer_new();
    wf = rl_gguf_writer_new();
    keep = (void **)calloc((size_t)(2 * g.n_tensors), sizeof(void *));
    for (i = 0; i < g.n_kv; i++) {
        rl_gguf_add_value(wq, g.kv[i].key, &g.kv[i].val);
        rl_gguf_add_value(wf, g.kv[i].key, &g.kv[i].val);
    }
    for (i = 0; i < g.n_tensors && ok; i++) {
        const rl_gguf_tensor *t = &g.tensors[i];
        float *f = (float *)malloc(sizeof(float) * (size_t)t->n);
        ok = f && rl_gguf_tensor_f32(&g, t, f) == RL_OK;
        if (ok && is_gguf_matrix(t->name) && t->ne[0] % 32 == 0) {
            int q4 = strstr(t->name, "ffn_") != NULL || strstr(t->name, "time_mix_output") != NULL;
            int64_t bytes = t->n / 32 * (q4 ? 18 : 34);
            unsigned char *q = (unsigned char *)malloc((size_t)bytes);
            if (q4) quant_q4_0(f, q, t->n);
            else quant_q8_0(f, q, t->n);
            rl_ggml_dequantize(q4 ? RL_GGML_Q4_0 : RL_GGML_Q8_0, q, f, t->n);
            rl_gguf_add_tensor(wq, t->name, q4 ? RL_GGML_Q4_0 : RL_GGML_Q8_0, t->n_dims, t->ne, q);
            keep[nk++] = q;
        } else if (ok) {
            rl_gguf_add_tensor(wq, t->name, RL_GGML_F32, t->n_dims, t->ne, f);
        }
        if (ok) rl_gguf_add_tensor(wf, t->name, RL_GGML_F32, t->n_dims, t->ne, f);
        keep[nk++] = f;
    }
    ok = ok && rl_gguf_write(wq, qpath) == RL_OK && rl_gguf_write(wf, fpath) == RL_OK;
    for (i = 0; i < nk; i++) free(keep[i]);
    free(keep);
    rl_gguf_writer_free(wq);
    rl_gguf_writer_free(wf);
    rl_gguf_close(&g);
    return ok;
}

static void test_roundtrip(void) {
    rl_model hf, gm;
    rl_tokenizer *tok = NULL;
    int32_t ids[16];
    float *ref = NULL, *got;
    int64_t V, i;
    static const rl_ggml_type types[3] = {RL_GGML_F32, RL_GGML_F16, RL_GGML_BF16};
    static const rl_dtype kept[3] = {RL_F32, RL_F16, RL_BF16};
    int k;
    rlt_begin("GGUF rwkv6qwen2 student: our export read back (F32 = the HF folder's logits; F16/BF16 kept in place)");
    if (rl_model_load(&hf, STUDENT, 0) != RL_OK || rl_tokenizer_load(&tok, "tests/fixtures/tiny-qwen2") != RL_OK) {
        RLT_CHECK(0, "load %s: %s", STUDENT, rl_last_error());
        rlt_end();
        return;
    }
    V = hf.cfg.vocab_size;
    for (i = 0; i < 16; i++) ids[i] = (int32_t)((i * 37 + 11) % 600);
    ref = rlt_logits(pool, &hf, ids, 16);
    for (k = 0; k < 3; k++) {
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&hf, tok, tmp[0], types[k]) == RL_OK, "export: %s", rl_last_error());
        if (rl_model_load_gguf(&gm, tmp[0]) != RL_OK) {
            RLT_CHECK(0, "load %s: %s", tmp[0], rl_last_error());
            continue;
        }
        RLT_CHECK(gm.student.kind == RL_MIXER_RWKV6 && gm.cfg.n_layers == hf.cfg.n_layers && gm.cfg.n_kv_heads == hf.cfg.n_kv_heads &&
                      gm.cfg.attn_bias == hf.cfg.attn_bias && gm.cfg.vocab_size == V,
                  "config from the GGUF");
        check_kept(&gm, kept[k], rl_ggml_type_name(types[k]));
        got = rlt_logits(pool, &gm, ids, 16);
        if (got && ref) {
            double tol = k == 0 ? 1e-5 : 2e-2, d = max_diff(got, ref, 16 * V);
            RLT_CHECK(d <= tol * max_abs(ref, 16 * V), "%s: max |dlogit| %g (max |logit| %g)", rl_ggml_type_name(types[k]), d, max_abs(ref, 16 * V));
        }
        free(got);
        rl_model_free(&gm);
    }
    free(ref);
    rl_tokenizer_free(tok);
    rl_model_free(&hf);
    rlt_end();
}

/* qm (quantized in place) computes what fm (an F32 file of the same values) does: logits of the
   16 ids within 1e-5 of their scale; prefill 6 + decode 10 one at a time (the fused dot
   products of single rows) = the forward with x in fp32 (rl_ggml_q8_act 0); with the rows
   rounded to 8 bits (the default), within 5% of the logits' scale (printed; ~3% on the student) */
static void check_same_values(rl_model *qm, rl_model *fm, const int32_t *ids) {
    float *a = rlt_logits(pool, qm, ids, 16), *b = rlt_logits(pool, fm, ids, 16), *lg;
    int64_t V = qm->cfg.vocab_size, i;
    rl_state s;
    rl_ctx c;
    double d = a && b ? max_diff(a, b, 16 * V) : 1e9, scale = a ? max_abs(a, 16 * V) : 0;
    int q8;
    RLT_CHECK(d <= 1e-5 * max_abs(b, 16 * V), "quantized vs F32 of the same values: max |dlogit| %g", d);
    rl_ctx_init(&c, pool);
    lg = (float *)malloc(sizeof(float) * (size_t)V);
    for (q8 = 0; q8 < 2; q8++) {
        double dd = 0;
        rl_ggml_q8_act_set(q8);
        RLT_CHECK(rl_state_init(&s, qm, 32) == RL_OK && rl_model_step(&c, qm, &s, ids, 6, lg) == RL_OK, "prefill: %s", rl_last_error());
        for (i = 5; i < 16; i++) {
            int64_t j;
            if (i > 5) {
                rl_ctx_reset(&c);
                RLT_CHECK(rl_model_step(&c, qm, &s, ids + i, 1, lg) == RL_OK, "decode: %s", rl_last_error());
            }
            for (j = 0; j < V && a; j++) dd = fabs(lg[j] - a[i * V + j]) > dd ? fabs(lg[j] - a[i * V + j]) : dd;
        }
        RLT_CHECK(a && dd <= (q8 ? 5e-2 : 1e-5) * scale, "decode vs forward, x %s: %g (logits' scale %g)", q8 ? "in 8 bits" : "fp32", dd, scale);
        if (q8) printf("    decode with x in 8 bits vs the forward: max |dlogit| %.3g of max |logit| %.3g\n", dd, scale);
        rl_state_free(&s);
        rl_ctx_reset(&c);
    }
    rl_ctx_free(&c);
    free(lg);
    free(a);
    free(b);
}

/* the parameters of two models of one shape, in rl_model_params' order */
typedef struct { rl_tensor *t[512]; int n; } plist;
static void plist_fn(void *u, const char *name, rl_tensor *t) {
    plist *p = (plist *)u;
    (void)name;
    if (p->n < 512) p->t[p->n] = t;
    p->n++;
}
static int n_differ(rl_model *a, rl_model *b, int *n) {
    plist pa, pb;
    int i, bad = 0;
    pa.n = pb.n = 0;
    rl_model_params(a, plist_fn, &pa);
    rl_model_params(b, plist_fn, &pb);
    *n = pa.n;
    if (pa.n != pb.n || pa.n > 512) return -1;
    for (i = 0; i < pa.n; i++)
        bad += pa.t[i]->n != pb.t[i]->n || memcmp(pa.t[i]->data, pb.t[i]->data, sizeof(float) * (size_t)pa.t[i]->n) != 0;
    return bad;
}

/* A llama teacher from GGUF (tiny-llama: Q/K rows stored permuted) with quantized matrices:
   rl_model_load_gguf keeps them in their type, in place (Q/K: a copy with the rows put back),
   and computes what rl_model_from_gguf (the import path: every tensor dequantized to F32, the
   rows put back in floats) makes of the same file; the students made from the two are equal
   value for value. */
static void test_teacher(void) {
    rl_model qm, fm, sq, sf;
    rl_gguf g;
    int32_t ids[16];
    int64_t i;
    int ok, k;
    rlt_begin("GGUF llama teacher quantized (Q8_0, Q4_0 MLP): matrices kept in place; logits, decode and its student = the dequantized file's");
    RLT_CHECK(requantize("tests/fixtures/gguf/tiny-llama.gguf", tmp[1], tmp[2]), "requantize: %s", rl_last_error());
    for (i = 0; i < 16; i++) ids[i] = (int32_t)((i * 53 + 7) % 64);
    ok = rl_gguf_open(&g, tmp[1]) == RL_OK;
    if (!ok || rl_model_from_gguf(&fm, &g) != RL_OK || rl_model_load_gguf(&qm, tmp[1]) != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        if (ok) rl_gguf_close(&g);
        rlt_end();
        return;
    }
    rl_gguf_close(&g);
    RLT_CHECK(fm.embed.dtype == RL_F32 && fm.blocks[1].mix.q_w.dtype == RL_F32 && !fm.gguf, "rl_model_from_gguf dequantizes");
    {
        uintptr_t lo = (uintptr_t)qm.gguf->base, hi = lo + qm.gguf->size;
        const rl_block *b = &qm.blocks[1];
        rl_dtype q8 = RL_DTYPE_GGML(RL_GGML_Q8_0);
#define IN_MAP(t) ((uintptr_t)(t).data >= lo && (uintptr_t)(t).data < hi)
        RLT_CHECK(qm.embed.dtype == q8 && IN_MAP(qm.embed) && qm.head.data == qm.embed.data, "embedding and tied head: Q8_0 in place");
        RLT_CHECK(b->mix.v_w.dtype == q8 && IN_MAP(b->mix.v_w) && b->mix.o_w.dtype == q8 && IN_MAP(b->mix.o_w), "v, o: Q8_0 in place");
        RLT_CHECK(b->mix.q_w.dtype == q8 && !IN_MAP(b->mix.q_w) && b->mix.k_w.dtype == q8 && !IN_MAP(b->mix.k_w), "q, k: Q8_0, rows reordered in a copy");
        RLT_CHECK(b->up.dtype == RL_DTYPE_GGML(RL_GGML_Q4_0) && IN_MAP(b->up) && b->down.dtype == RL_DTYPE_GGML(RL_GGML_Q4_0), "MLP: Q4_0 in place");
        RLT_CHECK(b->ln1.dtype == RL_F32 && !IN_MAP(b->ln1) && !qm.trainable && !b->mix.q_w.requires_grad, "norms F32; frozen");
#undef IN_MAP
    }
    check_same_values(&qm, &fm, ids);
    { /* the Q4_0 matrices interleaved for decoding (rl_model_pack): the same values, and what rl_linear reads */
        int np = -1, want = 0;
        unsigned char keep[16], *p;
        float *a, *b;
        for (i = 0; i < qm.cfg.n_layers; i++) want += (qm.blocks[i].up.shape[0] % 8 == 0) * 2 + (qm.blocks[i].down.shape[0] % 8 == 0);
        RLT_CHECK(rl_model_pack(&qm, &np) == RL_OK && np == want && want > 0, "rl_model_pack: %d matrices, want %d: %s", np, want, rl_last_error());
        RLT_CHECK(qm.blocks[1].up.packed && qm.blocks[1].up.packed != qm.blocks[1].up.data && !qm.blocks[1].mix.v_w.packed && !qm.head.packed &&
                      !qm.blocks[1].ln1.packed, "up (Q4_0) interleaved; v and the head (Q8_0) and the norms not");
        check_same_values(&qm, &fm, ids);
        p = (unsigned char *)(uintptr_t)qm.blocks[1].up.packed;
        a = rlt_logits(pool, &qm, ids, 16);
        memcpy(keep, p, 16);
        memset(p, 0, 16); /* 8 scales of 0 in the copy alone */
        b = rlt_logits(pool, &qm, ids, 16);
        memcpy(p, keep, 16);
        RLT_CHECK(a && b && max_diff(a, b, 16 * qm.cfg.vocab_size) > 0, "rl_linear reads the interleaved copy");
        free(a);
        free(b);
    }
    if (rl_student_from_teacher(&sq, &qm, NULL) == RL_OK && rl_student_from_teacher(&sf, &fm, NULL) == RL_OK) {
        int n, bad = n_differ(&sq, &sf, &n);
        char id[2][300];
        RLT_CHECK(n > 20 && bad == 0, "students: %d of %d parameters differ", bad, n);
        /* a run's identity (its checkpoint's radlads.id.teacher, which resume compares) does not
           depend on how the teacher holds its values: runs started before it was read in place resume */
        for (k = 0; k < 2; k++) {
            rl_tokens data;
            rl_stage_opts o;
            rl_ctx c;
            rl_st ck;
            int32_t d[64];
            id[k][0] = 0;
            for (i = 0; i < 64; i++) d[i] = (int32_t)((i * 29 + 3) % 64);
            data.ids = d;
            data.n = 64;
            rl_stage_opts_default(&o, 1);
            o.ctx = 8;
            o.batch = 1;
            o.tokens = 8;
            o.checkpoint = tmp[2];
            rl_ctx_init(&c, pool);
            if (rl_train_stage(&c, k ? &sf : &sq, k ? &fm : &qm, &data, &o) == RL_OK && rl_st_open(&ck, tmp[2]) == RL_OK) {
                snprintf(id[k], sizeof id[k], "%s", rl_st_meta(&ck, "radlads.id.teacher") ? rl_st_meta(&ck, "radlads.id.teacher") : "");
                rl_st_close(&ck);
            }
            rl_ctx_free(&c);
        }
        RLT_CHECK(id[0][0] && !strcmp(id[0], id[1]), "run identity: '%s' (in place) vs '%s' (dequantized)", id[0], id[1]);
        rl_model_free(&sq);
        rl_model_free(&sf);
    } else {
        RLT_CHECK(0, "student: %s", rl_last_error());
    }
    rl_model_free(&qm);
    rl_model_free(&fm);
    rlt_end();
}

static void test_quantized(void) {
    rl_model hf, qm, fm;
    rl_tokenizer *tok = NULL;
    int32_t ids[16];
    int64_t i;
    rlt_begin("GGUF rwkv6qwen2 student quantized (Q8_0, Q4_0): kept quantized in place; logits = F32 file of the same values; decode = forward; "
              "fused decoding steps = op by op, Q4_0 rows as stored and interleaved");
    if (rl_model_load(&hf, STUDENT, 0) != RL_OK || rl_tokenizer_load(&tok, "tests/fixtures/tiny-qwen2") != RL_OK ||
        rl_export_gguf_rwkv6qwen2(&hf, tok, tmp[0], RL_GGML_F32) != RL_OK) {
        RLT_CHECK(0, "load/export %s: %s", STUDENT, rl_last_error());
        rlt_end();
        return;
    }
    RLT_CHECK(requantize(tmp[0], tmp[1], tmp[2]), "requantize: %s", rl_last_error());
    for (i = 0; i < 16; i++) ids[i] = (int32_t)((i * 53 + 7) % 600);
    if (rl_model_load_gguf(&qm, tmp[1]) == RL_OK && rl_model_load_gguf(&fm, tmp[2]) == RL_OK) {
        kept_ctx k;
        memset(&k, 0, sizeof k);
        k.want = RL_DTYPE_GGML(RL_GGML_Q8_0);
        k.lo = (uintptr_t)qm.gguf->base;
        k.hi = k.lo + qm.gguf->size;
        rl_model_params(&qm, kept_fn, &k);
        RLT_CHECK(k.n >= 10 && k.outside == 0 && k.bad == 4 * (int)qm.cfg.n_layers, /* the MLP's three and the mixer's output are Q4_0 */
                  "quantized matrices kept in place: %d of %d not Q8_0, %d outside the mapping", k.bad, k.n, k.outside);
        RLT_CHECK(qm.blocks[0].up.dtype == RL_DTYPE_GGML(RL_GGML_Q4_0) && qm.embed.dtype == RL_DTYPE_GGML(RL_GGML_Q8_0), "Q4_0 MLP, Q8_0 embedding");
        check_same_values(&qm, &fm, ids);
        rlt_fused_vs_ops(&qm, pool, "Q8_0, Q4_0 as stored");
        {
            int np = 0;
            RLT_CHECK(rl_model_pack(&qm, &np) == RL_OK && qm.blocks[0].mix.o_w.packed, "rl_model_pack: %s", rl_last_error());
            rlt_fused_vs_ops(&qm, pool, "Q8_0, Q4_0 interleaved");
        }
        rl_model_free(&qm);
        rl_model_free(&fm);
    } else {
        RLT_CHECK(0, "load quantized: %s", rl_last_error());
    }
    { /* a tensor missing / an extra one: refused naming it */
        rl_gguf g;
        rl_gguf_writer *w = rl_gguf_writer_new();
        rl_model m;
        int64_t j;
        if (rl_gguf_open(&g, tmp[0]) == RL_OK) {
            for (j = 0; j < g.n_kv; j++) rl_gguf_add_value(w, g.kv[j].key, &g.kv[j].val);
            for (j = 0; j < g.n_tensors; j++)
                if (strcmp(g.tensors[j].name, "blk.1.time_mix_decay_w2.weight"))
                    rl_gguf_add_tensor(w, g.tensors[j].name, g.tensors[j].type, g.tensors[j].n_dims, g.tensors[j].ne, g.tensors[j].data);
            RLT_CHECK(rl_gguf_write(w, tmp[1]) == RL_OK, "write");
            RLT_CHECK(rl_model_load_gguf(&m, tmp[1]) != RL_OK && strstr(rl_last_error(), "blk.1.time_mix_decay_w2.weight") &&
                          strstr(rl_last_error(), "missing"),
                      "missing tensor: %s", rl_last_error());
            rl_gguf_close(&g);
        }
        rl_gguf_writer_free(w);
    }
    rl_tokenizer_free(tok);
    rl_model_free(&hf);
    rlt_end();
}

int main(void) {
    int i;
    pool = rl_pool_create(0);
    for (i = 0; i < 3; i++) snprintf(tmp[i], sizeof tmp[i], "build/tmp-gguf-student-%d-%d.gguf", (int)getpid(), i);
    test_roundtrip();
    test_quantized();
    test_teacher();
    for (i = 0; i < 3; i++) unlink(tmp[i]);
    rl_pool_free(pool);
    return rlt_exit();
}
