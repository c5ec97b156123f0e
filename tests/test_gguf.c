/* Section 4 (formats): GGUF reader, dequantization, Llama metadata/tensor names,
   tokenizer arrays, writer. Fixtures: tests/fixtures/gguf (tools/ref/make_gguf.py).
   Optional real model: SmolLM2-135M-Instruct Q4_1 (tools/fetch_smollm2.sh). */
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"

#define FIX "tests/fixtures/gguf/"

/* ======================================================================= */
/* 1. metadata of every type (meta.gguf), as v3 and patched to v2          */

static const rl_gguf_value *kv(const rl_gguf *g, const char *key) {
    const rl_gguf_kv *k = rl_gguf_find(g, key);
    return k ? &k->val : NULL;
}

static void check_meta(const rl_gguf *g, const char *label) {
    const rl_gguf_value *v;
    int64_t i64;
    double d;
    int b;
    const char *s;
    uint64_t len;
    const rl_gguf_tensor *t;
    float buf[32];
    int64_t shape[4];
    RLT_CHECK(g->n_kv == 27 && g->n_tensors == 4, "%s: counts %lld %lld", label, (long long)g->n_kv, (long long)g->n_tensors);
    RLT_CHECK(g->alignment == 32, "%s: default alignment", label);
    RLT_CHECK(!strcmp(g->kv[0].key, "general.architecture"), "%s: file order kept", label);
    RLT_CHECK((v = kv(g, "t.u8")) && v->type == RL_GGUF_UINT8 && v->u == 200 && v->i == 200, "%s: u8", label);
    RLT_CHECK((v = kv(g, "t.i8")) && v->type == RL_GGUF_INT8 && v->i == -100 && v->f == -100, "%s: i8", label);
    RLT_CHECK((v = kv(g, "t.u16")) && v->type == RL_GGUF_UINT16 && v->u == 60000, "%s: u16", label);
    RLT_CHECK((v = kv(g, "t.i16")) && v->type == RL_GGUF_INT16 && v->i == -30000, "%s: i16", label);
    RLT_CHECK((v = kv(g, "t.u32")) && v->type == RL_GGUF_UINT32 && v->u == 4000000000u, "%s: u32", label);
    RLT_CHECK((v = kv(g, "t.i32")) && v->type == RL_GGUF_INT32 && v->i == -2000000000, "%s: i32", label);
    RLT_CHECK((v = kv(g, "t.f32")) && v->type == RL_GGUF_FLOAT32 && v->f == 3.25, "%s: f32", label);
    RLT_CHECK((v = kv(g, "t.u64")) && v->type == RL_GGUF_UINT64 && v->u == UINT64_MAX, "%s: u64", label);
    RLT_CHECK((v = kv(g, "t.i64")) && v->type == RL_GGUF_INT64 && v->i == INT64_MIN, "%s: i64", label);
    RLT_CHECK((v = kv(g, "t.f64")) && v->type == RL_GGUF_FLOAT64 && v->f == -1.0e300, "%s: f64", label);
    RLT_CHECK(rl_gguf_get_bool(g, "t.bool_t", &b) == RL_OK && b == 1, "%s: bool true", label);
    RLT_CHECK(rl_gguf_get_bool(g, "t.bool_f", &b) == RL_OK && b == 0, "%s: bool false", label);
    RLT_CHECK(rl_gguf_get_str(g, "t.str", &s, &len) == RL_OK && !strcmp(s, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93") && len == 17, "%s: utf-8 string", label);
    RLT_CHECK(rl_gguf_get_str(g, "t.str_empty", &s, &len) == RL_OK && s[0] == 0 && len == 0, "%s: empty string", label);
    RLT_CHECK(rl_gguf_get_str(g, "general.architecture", &s, NULL) == RL_OK && !strcmp(s, "test"), "%s: architecture", label);
    /* getters: conversions and type errors */
    RLT_CHECK(rl_gguf_get_int(g, "t.u32", &i64) == RL_OK && i64 == 4000000000LL, "%s: get_int u32", label);
    RLT_CHECK(rl_gguf_get_int(g, "t.i16", &i64) == RL_OK && i64 == -30000, "%s: get_int i16", label);
    RLT_CHECK(rl_gguf_get_int(g, "t.u64", &i64) == RL_ERR_FORMAT && rlt_err_has("too large"), "%s: u64 max does not fit: %s", label, rl_last_error());
    RLT_CHECK(rl_gguf_get_float(g, "t.f32", &d) == RL_OK && d == 3.25, "%s: get_float", label);
    RLT_CHECK(rl_gguf_get_float(g, "t.str", &d) == RL_ERR_FORMAT && rlt_err_has("'t.str' has type STRING, expected FLOAT32"), "%s: wrong type: %s", label,
              rl_last_error());
    RLT_CHECK(rl_gguf_get_int(g, "no.such.key", &i64) == RL_ERR_FORMAT && rlt_err_has("'no.such.key' is missing"), "%s: missing: %s", label, rl_last_error());
    RLT_CHECK(rl_gguf_find(g, "t.u") == NULL && rl_gguf_find(g, "") == NULL, "%s: find absent", label);
    /* arrays */
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_u8", RL_GGUF_UINT8, &v) == RL_OK && v->n == 3 && v->raw[2] == 255, "%s: u8 array", label);
    RLT_CHECK(rl_gguf_arr_int(v, 2, &i64) == RL_OK && i64 == 255 && rl_gguf_arr_int(v, 3, &i64) == RL_ERR_ARG, "%s: arr_int bounds", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_i16", RL_GGUF_INT16, &v) == RL_OK && v->n == 3 && rl_gguf_arr_int(v, 2, &i64) == RL_OK && i64 == -32768,
              "%s: i16 array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_u32", RL_GGUF_UINT32, &v) == RL_OK && rl_gguf_arr_int(v, 1, &i64) == RL_OK && i64 == 4294967295LL,
              "%s: u32 array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_i64", RL_GGUF_INT64, &v) == RL_OK && rl_gguf_arr_int(v, 0, &i64) == RL_OK && i64 == -5 &&
                  rl_gguf_arr_int(v, 1, &i64) == RL_OK && i64 == (1LL << 62), "%s: i64 array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_u64", RL_GGUF_UINT64, &v) == RL_OK && v->n == 1, "%s: u64 array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_f32", RL_GGUF_FLOAT32, &v) == RL_OK && rl_gguf_arr_float(v, 0, &d) == RL_OK && d == 1.5 &&
                  rl_gguf_arr_float(v, 1, &d) == RL_OK && d == 0 && signbit(d) && rl_gguf_arr_float(v, 2, &d) == RL_OK && isinf(d),
              "%s: f32 array", label);
    RLT_CHECK(rl_gguf_arr_int(v, 0, &i64) == RL_ERR_ARG, "%s: floats are not read as ints", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_f64", RL_GGUF_FLOAT64, &v) == RL_OK && rl_gguf_arr_float(v, 1, &d) == RL_OK && d == -2.5e-300,
              "%s: f64 array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_bool", RL_GGUF_BOOL, &v) == RL_OK && v->n == 3 && v->raw[0] == 1 && v->raw[1] == 0 && v->raw[2] == 1,
              "%s: bool array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_str", RL_GGUF_STRING, &v) == RL_OK && v->n == 4 && !strcmp(v->strs[0].s, "a") && v->strs[1].len == 0 &&
                  !strcmp(v->strs[2].s, "\xc3\xbc") && v->strs[2].len == 2 && !strcmp(v->strs[3].s, "with space"),
              "%s: string array", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.arr_str", RL_GGUF_INT32, &v) == RL_ERR_FORMAT && rlt_err_has("ARRAY of STRING, expected an ARRAY of INT32"),
              "%s: array type error: %s", label, rl_last_error());
    RLT_CHECK(rl_gguf_get_array(g, "t.nested", RL_GGUF_ARRAY, &v) == RL_OK && v->n == 2 && v->elems[0].elem_type == RL_GGUF_INT32 &&
                  v->elems[0].n == 3 && v->elems[1].n == 1 && rl_gguf_arr_int(&v->elems[0], 2, &i64) == RL_OK && i64 == 3 &&
                  rl_gguf_arr_int(&v->elems[1], 0, &i64) == RL_OK && i64 == 4,
              "%s: nested int arrays", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.nested_str", RL_GGUF_ARRAY, &v) == RL_OK && v->n == 2 && v->elems[0].elem_type == RL_GGUF_STRING &&
                  !strcmp(v->elems[0].strs[1].s, "bc") && !strcmp(v->elems[1].strs[0].s, "d"),
              "%s: nested string arrays", label);
    RLT_CHECK(rl_gguf_get_array(g, "t.nested3", RL_GGUF_ARRAY, &v) == RL_OK && v->n == 2 && v->elems[0].n == 2 &&
                  v->elems[0].elem_type == RL_GGUF_ARRAY && v->elems[0].elems[1].n == 2 && rl_gguf_arr_int(&v->elems[0].elems[1], 1, &i64) == RL_OK &&
                  i64 == 3 && v->elems[1].elems[0].n == 1,
              "%s: three-level nesting", label);
    /* tensors */
    t = rl_gguf_find_tensor(g, "w.f32");
    RLT_CHECK(t && t->type == RL_GGML_F32 && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2 && t->n == 6 && t->nbytes == 24 &&
                  t->offset % 32 == 0 && (g->data_offset + t->offset) % 32 == 0,
              "%s: w.f32 info", label);
    RLT_CHECK(t && rl_gguf_tensor_shape(t, shape) == 2 && shape[0] == 2 && shape[1] == 3, "%s: row-major shape", label);
    RLT_CHECK(t && rl_gguf_tensor_f32(g, t, buf) == RL_OK && buf[0] == 0 && buf[5] == 5, "%s: w.f32 data", label);
    t = rl_gguf_find_tensor(g, "w.f16");
    RLT_CHECK(t && t->type == RL_GGML_F16 && rl_gguf_tensor_f32(g, t, buf) == RL_OK && buf[1] == -2 && buf[3] == 65504, "%s: w.f16", label);
    t = rl_gguf_find_tensor(g, "w.3d");
    RLT_CHECK(t && t->n_dims == 3 && t->ne[0] == 4 && t->ne[1] == 3 && t->ne[2] == 2 && t->ne[3] == 1 && rl_gguf_tensor_shape(t, shape) == 3 &&
                  shape[0] == 2 && shape[2] == 4 && rl_gguf_tensor_f32(g, t, buf) == RL_OK && buf[23] == 11.5f,
              "%s: 3-d tensor", label);
    t = rl_gguf_find_tensor(g, "w.scalar");
    RLT_CHECK(t && t->n_dims == 0 && t->n == 1 && rl_gguf_tensor_shape(t, shape) == 1 && shape[0] == 1 && rl_gguf_tensor_f32(g, t, buf) == RL_OK &&
                  buf[0] == 7,
              "%s: 0-dim tensor", label);
    RLT_CHECK(rl_gguf_find_tensor(g, "w") == NULL, "%s: absent tensor", label);
}

static void test_meta(void) {
    rl_gguf g;
    unsigned char *bytes;
    size_t n;
    rlt_begin("gguf metadata of every type, v3 and v2");
    RLT_CHECK(rl_gguf_open(&g, FIX "meta.gguf") == RL_OK, "open: %s", rl_last_error());
    if (g.base) {
        RLT_CHECK(g.version == 3, "version %u", g.version);
        check_meta(&g, "v3");
        rl_gguf_close(&g);
    }
    bytes = rlt_read_all(FIX "meta.gguf", &n);
    RLT_CHECK(bytes != NULL, "read meta.gguf");
    if (bytes) {
        bytes[4] = 2; /* v2 has the same little-endian layout with 64-bit counts */
        RLT_CHECK(rl_gguf_open_memory(&g, bytes, n, "meta-v2.gguf") == RL_OK, "open v2: %s", rl_last_error());
        if (g.base) {
            RLT_CHECK(g.version == 2, "version %u", g.version);
            check_meta(&g, "v2");
            rl_gguf_close(&g);
        }
        free(bytes);
    }
    rlt_end();
}

/* ======================================================================= */
/* 2. dequantization against gguf-py                                       */

static int same_f32(float a, float b) { return rlt_bits_of_f32(a) == rlt_bits_of_f32(b) || (a != a && b != b); }

static void test_dequant(void) {
    rl_gguf g;
    static const char *const types[] = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"};
    int64_t i, k;
    int seen[11] = {0}, t;
    char summary[400] = "";
    rlt_begin("gguf dequantize = gguf-py gguf.quants.dequantize");
    RLT_CHECK(rl_gguf_open(&g, FIX "quant.gguf") == RL_OK, "open: %s", rl_last_error());
    for (i = 0; g.base && i < g.n_tensors; i++) {
        const rl_gguf_tensor *q = &g.tensors[i], *r;
        char refname[64];
        float *a, *b;
        long exact = 0;
        double worst = 0;
        int random = !strncmp(q->name, "qr.", 3);
        if (strncmp(q->name, "q.", 2) && !random) continue;
        snprintf(refname, sizeof refname, "%s%s", random ? "refr." : "ref.", q->name + (random ? 3 : 2));
        r = rl_gguf_find_tensor(&g, refname);
        RLT_CHECK(r && r->type == RL_GGML_F32 && r->n == q->n, "%s: reference %s", q->name, refname);
        if (!r || r->n != q->n) continue;
        a = (float *)malloc((size_t)q->n * sizeof(float));
        b = (float *)malloc((size_t)q->n * sizeof(float));
        RLT_CHECK(rl_ggml_can_dequantize(q->type), "%s: can dequantize", q->name);
        RLT_CHECK(rl_gguf_tensor_f32(&g, q, a) == RL_OK && rl_gguf_tensor_f32(&g, r, b) == RL_OK, "%s: %s", q->name, rl_last_error());
        for (k = 0; k < q->n; k++) {
            if (same_f32(a[k], b[k])) exact++;
            else worst = fmax(worst, fabs((double)a[k] - b[k]) / fmax(fabs((double)b[k]), 1e-30));
        }
        if (q->type == RL_GGML_F32 || q->type == RL_GGML_F16 || q->type == RL_GGML_BF16)
            RLT_CHECK(exact == q->n, "%s: %ld of %lld bit-exact", q->name, exact, (long long)q->n);
        else
            RLT_CHECK(worst <= 1e-6, "%s: relative error %g (%ld of %lld bit-exact)", q->name, worst, exact, (long long)q->n);
        for (t = 0; t < 11; t++)
            if (!strcmp(rl_ggml_type_name(q->type), types[t])) seen[t] += 1;
        if (exact != q->n && strlen(summary) < 300) snprintf(summary + strlen(summary), sizeof summary - strlen(summary), " %s:%ld/%lld", q->name, exact, (long long)q->n);
        free(a);
        free(b);
    }
    for (t = 0; t < 11; t++) RLT_CHECK(seen[t] >= 1, "type %s covered", types[t]);
    RLT_CHECK(seen[3] == 2 && seen[9] == 1, "quantized-from-data and random-block cases both present");
    if (summary[0]) fprintf(stderr, "not bit-exact:%s\n", summary);
    /* direct API: unknown and unsupported types, partial blocks */
    {
        unsigned char blk[34] = {0};
        float y[32];
        RLT_CHECK(rl_ggml_dequantize(99, blk, y, 32) == RL_ERR_UNSUPPORTED, "unknown type refused");
        RLT_CHECK(rl_ggml_dequantize(RL_GGML_Q2_K, blk, y, 256) == RL_ERR_UNSUPPORTED && rlt_err_has("Q2_K"), "Q2_K unsupported: %s", rl_last_error());
        RLT_CHECK(rl_ggml_dequantize(RL_GGML_Q8_0, blk, y, 31) == RL_ERR_ARG, "partial block refused");
        RLT_CHECK(!rl_ggml_can_dequantize(RL_GGML_IQ2_XXS) && rl_ggml_can_dequantize(RL_GGML_Q6_K), "can_dequantize");
    }
    {
        int64_t bs, ts;
        RLT_CHECK(rl_ggml_type_size(RL_GGML_Q4_K, &bs, &ts) && bs == 256 && ts == 144, "Q4_K size");
        RLT_CHECK(rl_ggml_type_size(RL_GGML_Q6_K, &bs, &ts) && bs == 256 && ts == 210, "Q6_K size");
        RLT_CHECK(rl_ggml_type_size(RL_GGML_Q4_1, &bs, &ts) && bs == 32 && ts == 20, "Q4_1 size");
        RLT_CHECK(!rl_ggml_type_size(4, &bs, &ts) && !rl_ggml_type_size(31, &bs, &ts), "removed type ids unknown");
    }
    if (g.base) rl_gguf_close(&g);
    rlt_end();
}

/* ======================================================================= */
/* 3. Llama hyper-parameters, HF names, Q/K un-permutation                 */

typedef struct walk_ctx {
    rl_gguf *ref;
    int count, bad_name, mismatch, nonexact;
    char names[32][64];
    char first_bad[256];
} walk_ctx;

static rl_status walk_cb(void *user, const char *hf, const rl_gguf_tensor *t, int ndim, const int64_t *shape, const float *data) {
    walk_ctx *w = (walk_ctx *)user;
    const rl_gguf_tensor *r;
    int64_t i, rs[4];
    float *ref;
    if (!hf) {
        w->bad_name++;
        return RL_OK;
    }
    if (w->count < 32) snprintf(w->names[w->count], 64, "%s", hf);
    w->count++;
    r = rl_gguf_find_tensor(w->ref, hf);
    if (!r) {
        w->bad_name++;
        snprintf(w->first_bad, sizeof w->first_bad, "no reference for %s (from %s)", hf, t->name);
        return RL_OK;
    }
    if (rl_gguf_tensor_shape(r, rs) != ndim || rs[0] != shape[0] || (ndim > 1 && rs[1] != shape[1])) {
        w->mismatch++;
        snprintf(w->first_bad, sizeof w->first_bad, "%s: shape [%lld,%lld] vs reference [%lld,%lld]", hf, (long long)shape[0],
                 (long long)(ndim > 1 ? shape[1] : 1), (long long)rs[0], (long long)rs[1]);
        return RL_OK;
    }
    ref = (float *)malloc((size_t)r->n * sizeof(float));
    rl_gguf_tensor_f32(w->ref, r, ref);
    for (i = 0; i < r->n; i++)
        if (rlt_bits_of_f32(ref[i]) != rlt_bits_of_f32(data[i])) {
            if (fabs((double)ref[i] - data[i]) > 1e-6 * fabs((double)ref[i])) {
                w->mismatch++;
                snprintf(w->first_bad, sizeof w->first_bad, "%s (%s, %s): element %lld is %g, reference %g", hf, t->name,
                         rl_ggml_type_name(t->type), (long long)i, data[i], ref[i]);
                break;
            }
            w->nonexact++;
        }
    free(ref);
    return RL_OK;
}

static rl_status stop_cb(void *user, const char *hf, const rl_gguf_tensor *t, int ndim, const int64_t *shape, const float *data) {
    (void)hf, (void)t, (void)ndim, (void)shape, (void)data;
    return ++*(int *)user == 3 ? rl__fail(RL_ERR_INTERRUPTED, "stop") : RL_OK;
}

static void test_llama(void) {
    rl_gguf g, ref;
    rl_gguf_llama_hparams hp;
    walk_ctx w;
    char name[80];
    int l, i, stops = 0;
    rlt_begin("gguf llama hparams, HF names and Q/K un-permutation");
    memset(&w, 0, sizeof w);
    w.ref = &ref;
    RLT_CHECK(rl_gguf_open(&g, FIX "tiny-llama.gguf") == RL_OK, "open: %s", rl_last_error());
    RLT_CHECK(rl_gguf_open(&ref, FIX "tiny-llama.ref.gguf") == RL_OK, "open ref: %s", rl_last_error());
    if (!g.base || !ref.base) {
        rlt_end();
        return;
    }
    RLT_CHECK(rl_gguf_llama_hparams_read(&g, &hp) == RL_OK, "hparams: %s", rl_last_error());
    RLT_CHECK(!strcmp(hp.arch, "llama") && hp.n_layers == 2 && hp.hidden_size == 32 && hp.intermediate_size == 64 && hp.n_heads == 4 &&
                  hp.n_kv_heads == 2 && hp.head_dim == 8 && hp.rope_dim == 8 && hp.context_length == 128 && hp.vocab_size == 64,
              "sizes: %s L%lld C%lld F%lld H%lld KV%lld hd%lld ctx%lld V%lld", hp.arch, (long long)hp.n_layers, (long long)hp.hidden_size,
              (long long)hp.intermediate_size, (long long)hp.n_heads, (long long)hp.n_kv_heads, (long long)hp.head_dim,
              (long long)hp.context_length, (long long)hp.vocab_size);
    RLT_CHECK(hp.rope_theta == 100000.0 && hp.rms_norm_eps == (double)1e-5f, "theta %g eps %g", hp.rope_theta, hp.rms_norm_eps);
    RLT_CHECK(hp.tie_word_embeddings == 1 && hp.qk_permuted == 1 && hp.has_rope_freqs == 0, "flags");
    RLT_CHECK(rl_gguf_llama_tensors(&g, &hp, walk_cb, &w) == RL_OK, "walk: %s", rl_last_error());
    RLT_CHECK(w.count == 2 + 9 * 2 && w.bad_name == 0 && w.mismatch == 0, "walk: %d tensors, %d unnamed, %d mismatched: %s", w.count, w.bad_name,
              w.mismatch, w.first_bad);
    RLT_CHECK(w.nonexact == 0, "%d elements not bit-exact", w.nonexact);
    for (l = 0; l < w.count && l < 32; l++)
        for (i = 0; i < l; i++) RLT_CHECK(strcmp(w.names[l], w.names[i]) != 0, "name %s twice", w.names[l]);
    RLT_CHECK(rl_gguf_llama_tensors(&g, &hp, stop_cb, &stops) == RL_ERR_INTERRUPTED && stops == 3, "callback status stops the walk");
    /* the permutation itself on the converter's own output */
    for (l = 0; l < 2; l++) {
        const char *which[2] = {"q", "k"};
        int k;
        for (k = 0; k < 2; k++) {
            const rl_gguf_tensor *tg, *th;
            float *a, *b, *c;
            int64_t heads = k == 0 ? hp.n_heads : hp.n_kv_heads, j;
            int eq1 = 1, eq2 = 1, moved = 0;
            snprintf(name, sizeof name, "gguf.%d.%s", l, which[k]);
            tg = rl_gguf_find_tensor(&ref, name);
            snprintf(name, sizeof name, "hf.%d.%s", l, which[k]);
            th = rl_gguf_find_tensor(&ref, name);
            RLT_CHECK(tg && th && tg->n == th->n, "reference %s", name);
            if (!tg || !th) continue;
            a = (float *)malloc((size_t)tg->n * 4);
            b = (float *)malloc((size_t)tg->n * 4);
            c = (float *)malloc((size_t)tg->n * 4);
            rl_gguf_tensor_f32(&ref, tg, a);
            rl_gguf_tensor_f32(&ref, th, b);
            memcpy(c, a, (size_t)tg->n * 4);
            RLT_CHECK(rl_gguf_unpermute_qk(c, tg->ne[1], tg->ne[0], heads) == RL_OK, "unpermute");
            for (j = 0; j < tg->n; j++) eq1 &= rlt_bits_of_f32(c[j]) == rlt_bits_of_f32(b[j]), moved |= a[j] != b[j];
            RLT_CHECK(eq1, "layer %d %s: unpermute(converter output) == HF weight", l, which[k]);
            RLT_CHECK(moved, "layer %d %s: the permutation is not the identity", l, which[k]);
            memcpy(c, b, (size_t)tg->n * 4);
            RLT_CHECK(rl_gguf_permute_qk(c, tg->ne[1], tg->ne[0], heads) == RL_OK, "permute");
            for (j = 0; j < tg->n; j++) eq2 &= rlt_bits_of_f32(c[j]) == rlt_bits_of_f32(a[j]);
            RLT_CHECK(eq2, "layer %d %s: permute(HF weight) == converter output", l, which[k]);
            free(a), free(b), free(c);
        }
    }
    {
        float x[6] = {0, 1, 2, 3, 4, 5};
        RLT_CHECK(rl_gguf_unpermute_qk(x, 6, 1, 2) == RL_ERR_ARG, "odd head size refused");
        RLT_CHECK(rl_gguf_unpermute_qk(x, 6, 1, 4) == RL_ERR_ARG, "rows not divisible by heads refused");
    }
    /* names */
    RLT_CHECK(rl_gguf_hf_name("blk.12.ffn_down.weight", name, sizeof name) == RL_OK && !strcmp(name, "model.layers.12.mlp.down_proj.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("blk.0.attn_output.weight", name, sizeof name) == RL_OK && !strcmp(name, "model.layers.0.self_attn.o_proj.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("blk.3.attn_k.bias", name, sizeof name) == RL_OK && !strcmp(name, "model.layers.3.self_attn.k_proj.bias"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("blk.3.ffn_norm.weight", name, sizeof name) == RL_OK && !strcmp(name, "model.layers.3.post_attention_layernorm.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("token_embd.weight", name, sizeof name) == RL_OK && !strcmp(name, "model.embed_tokens.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("output_norm.weight", name, sizeof name) == RL_OK && !strcmp(name, "model.norm.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("output.weight", name, sizeof name) == RL_OK && !strcmp(name, "lm_head.weight"), "%s", name);
    RLT_CHECK(rl_gguf_hf_name("rope_freqs.weight", name, sizeof name) == RL_ERR_UNSUPPORTED, "rope_freqs has no HF name");
    RLT_CHECK(rl_gguf_hf_name("blk.01.attn_q.weight", name, sizeof name) == RL_ERR_UNSUPPORTED, "leading zero refused");
    RLT_CHECK(rl_gguf_hf_name("blk.1.attn_qq.weight", name, sizeof name) == RL_ERR_UNSUPPORTED, "unknown suffix refused");
    RLT_CHECK(rl_gguf_hf_name("blk..attn_q.weight", name, sizeof name) == RL_ERR_UNSUPPORTED, "missing layer refused");
    RLT_CHECK(rl_gguf_hf_name("blk.1.attn_q.weight", name, 10) == RL_ERR_ARG, "small buffer refused");
    /* a model file is not a teacher of another architecture */
    {
        rl_gguf m;
        if (rl_gguf_open(&m, FIX "meta.gguf") == RL_OK) {
            RLT_CHECK(rl_gguf_llama_hparams_read(&m, &hp) == RL_ERR_UNSUPPORTED && rlt_err_has("'test'"), "arch test refused: %s", rl_last_error());
            rl_gguf_close(&m);
        }
    }
    rl_gguf_close(&ref);
    rl_gguf_close(&g);
    rlt_end();
}


/* small teacher files written with rl_gguf_writer, one defect or variant each */
enum { HP_QWEN2, HP_DEFAULTS, HP_PER_LAYER, HP_PER_LAYER_BAD, HP_NO_EPS, HP_ROWS, HP_SHAPE, HP_ODD_HEAD, HP_GPT2 };
static rl_status hp_file(int variant, rl_gguf_llama_hparams *hp, rl_gguf *g, const char *path) {
    rl_gguf_writer *w = rl_gguf_writer_new();
    const char *arch = variant == HP_QWEN2 ? "qwen2" : variant == HP_GPT2 ? "gpt2" : "llama";
    char key[96];
    static float zeros[16 * 16];
    int64_t ne_emb[2] = {16, variant == HP_ROWS ? 11 : 12}, ne_q[2] = {16, 16}, ne_k[2] = {16, variant == HP_SHAPE ? 6 : 8}, ne_b[1] = {16},
            ne_kb[1] = {8};
    static const int32_t heads[2] = {4, 4}, heads_bad[2] = {4, 2};
    rl_status st;
    rl_gguf_add_str(w, "general.architecture", arch);
#define K(suffix) (snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
    rl_gguf_add_u32(w, K("block_count"), 2);
    rl_gguf_add_u32(w, K("embedding_length"), 16);
    rl_gguf_add_u32(w, K("feed_forward_length"), 32);
    if (variant == HP_PER_LAYER) rl_gguf_add_array(w, K("attention.head_count"), RL_GGUF_INT32, heads, 2);
    else if (variant == HP_PER_LAYER_BAD) rl_gguf_add_array(w, K("attention.head_count"), RL_GGUF_INT32, heads_bad, 2);
    else rl_gguf_add_u32(w, K("attention.head_count"), variant == HP_ODD_HEAD ? 16 : 4);
    if (variant != HP_DEFAULTS && variant != HP_PER_LAYER && variant != HP_PER_LAYER_BAD) rl_gguf_add_u32(w, K("attention.head_count_kv"), 2);
    if (variant != HP_NO_EPS) rl_gguf_add_f32(w, K("attention.layer_norm_rms_epsilon"), 1e-6f);
    if (variant == HP_QWEN2) {
        rl_gguf_add_f32(w, K("rope.freq_base"), 1000000.0f);
        rl_gguf_add_u32(w, K("context_length"), 4096);
        rl_gguf_add_str(w, K("rope.scaling.type"), "linear");
        rl_gguf_add_f32(w, K("rope.scaling.factor"), 4.0f);
        rl_gguf_add_u32(w, K("rope.scaling.original_context_length"), 1024);
        rl_gguf_add_tensor(w, "blk.0.attn_q.bias", RL_GGML_F32, 1, ne_b, zeros);
        rl_gguf_add_tensor(w, "blk.0.attn_k.bias", RL_GGML_F32, 1, ne_kb, zeros);
        rl_gguf_add_tensor(w, "output.weight", RL_GGML_F32, 2, ne_emb, zeros);
    }
#undef K
    rl_gguf_add_tensor(w, "token_embd.weight", RL_GGML_F32, 2, ne_emb, zeros);
    rl_gguf_add_tensor(w, "blk.0.attn_q.weight", RL_GGML_F32, 2, ne_q, zeros);
    rl_gguf_add_tensor(w, "blk.1.attn_k.weight", RL_GGML_F32, 2, ne_k, zeros);
    if (variant == HP_ROWS) rl_gguf_add_u32(w, "llama.vocab_size", 12);
    st = rl_gguf_write(w, path);
    rl_gguf_writer_free(w);
    if (st) return st;
    if ((st = rl_gguf_open(g, path))) return st;
    st = rl_gguf_llama_hparams_read(g, hp);
    return st;
}

static rl_status count_cb(void *user, const char *hf, const rl_gguf_tensor *t, int ndim, const int64_t *shape, const float *data) {
    (void)hf, (void)t, (void)ndim, (void)shape, (void)data;
    ++*(int *)user;
    return RL_OK;
}

static void test_llama_variants(void) {
    rl_gguf g;
    rl_gguf_llama_hparams hp;
    const char *p = rlt_tmp("hp.gguf");
    int n = 0;
    rlt_begin("gguf llama/qwen2 hparams: defaults, variants, errors");
    RLT_CHECK(hp_file(HP_QWEN2, &hp, &g, p) == RL_OK, "qwen2: %s", rl_last_error());
    RLT_CHECK(!strcmp(hp.arch, "qwen2") && !hp.qk_permuted && hp.attn_bias && !hp.o_bias && !hp.tie_word_embeddings && hp.n_kv_heads == 2 &&
                  hp.head_dim == 4 && hp.vocab_size == 12 && hp.context_length == 4096 && hp.rope_theta == 1e6 && hp.rms_norm_eps == (double)1e-6f,
              "qwen2 values");
    RLT_CHECK(!strcmp(hp.rope_scaling_type, "linear") && hp.rope_scaling_factor == 4 && hp.rope_scaling_orig_ctx == 1024, "rope scaling keys");
    RLT_CHECK(rl_gguf_llama_tensors(&g, &hp, count_cb, &n) == RL_OK && n == 6, "qwen2 walk: %d, %s", n, rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_DEFAULTS, &hp, &g, p) == RL_OK, "defaults: %s", rl_last_error());
    RLT_CHECK(hp.n_kv_heads == 4 && hp.rope_theta == 10000 && hp.context_length == 0 && hp.rope_dim == 4 && hp.qk_permuted &&
                  hp.tie_word_embeddings && hp.rope_scaling_type[0] == 0 && hp.rope_scaling_factor == 0 && hp.vocab_size == 12,
              "defaults");
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_PER_LAYER, &hp, &g, p) == RL_OK && hp.n_heads == 4, "per-layer head counts, all equal: %s", rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_PER_LAYER_BAD, &hp, &g, p) == RL_ERR_UNSUPPORTED && rlt_err_has("differs between layers"), "per-layer differing: %s", rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_NO_EPS, &hp, &g, p) == RL_ERR_FORMAT && rlt_err_has("'llama.attention.layer_norm_rms_epsilon' is missing"), "no eps: %s",
              rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_ROWS, &hp, &g, p) == RL_ERR_FORMAT && rlt_err_has("11 rows but the vocabulary has 12"), "rows: %s", rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_SHAPE, &hp, &g, p) == RL_OK, "shape variant opens: %s", rl_last_error());
    RLT_CHECK(rl_gguf_llama_tensors(&g, &hp, count_cb, &n) == RL_ERR_FORMAT && rlt_err_has("'blk.1.attn_k.weight'") && rlt_err_has("expected [8, 16]"),
              "wrong k shape: %s", rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_ODD_HEAD, &hp, &g, p) == RL_ERR_FORMAT && rlt_err_has("head size 1"), "head size 1: %s", rl_last_error());
    rl_gguf_close(&g);
    RLT_CHECK(hp_file(HP_GPT2, &hp, &g, p) == RL_ERR_UNSUPPORTED && rlt_err_has("'gpt2'"), "other arch: %s", rl_last_error());
    rl_gguf_close(&g);
    remove(p);
    rlt_end();
}

/* ======================================================================= */
/* 4. tokenizer arrays                                                     */

static void test_vocab(void) {
    rl_gguf g;
    rl_gguf_vocab v;
    rlt_begin("gguf tokenizer arrays");
    RLT_CHECK(rl_gguf_open(&g, FIX "tiny-llama.gguf") == RL_OK, "open: %s", rl_last_error());
    if (!g.base) {
        rlt_end();
        return;
    }
    RLT_CHECK(rl_gguf_vocab_read(&g, &v) == RL_OK, "vocab: %s", rl_last_error());
    RLT_CHECK(!strcmp(v.model, "gpt2") && v.pre && !strcmp(v.pre, "smollm"), "model %s pre %s", v.model, v.pre ? v.pre : "(null)");
    RLT_CHECK(v.n_tokens == 64 && !strcmp(v.tokens[0], "<|endoftext|>") && !strcmp(v.tokens[2], "<|im_end|>") && !strcmp(v.tokens[3], "a"),
              "tokens");
    RLT_CHECK(!strcmp(v.tokens[44], "\xc4\xa0t") && v.token_len[44] == 3, "byte-level token 'Ġt': %s", v.tokens[44]);
    RLT_CHECK(!strcmp(v.tokens[63], "x y") && v.token_len[63] == 3, "last token");
    RLT_CHECK(v.token_type && v.token_type[0] == 3 && v.token_type[3] == 1 && v.token_type[63] == 4, "token types");
    RLT_CHECK(v.scores == NULL, "no scores in a gpt2 vocabulary");
    RLT_CHECK(v.n_merges == 10 && !strcmp(v.merges[0], "t h") && !strcmp(v.merges[7], "\xc4\xa0th e"), "merges");
    RLT_CHECK(v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0 && v.pad_id == 2 && v.eot_id == -1 && v.sep_id == -1, "special ids");
    RLT_CHECK(v.add_bos == 0 && v.add_eos == -1 && v.add_space_prefix == 0, "flags %d %d %d", v.add_bos, v.add_eos, v.add_space_prefix);
    RLT_CHECK(v.chat_template && !strncmp(v.chat_template, "{% for m in messages %}", 23), "chat template");
    rl_gguf_vocab_free(&v);
    RLT_CHECK(v.tokens == NULL, "free clears");
    rl_gguf_close(&g);
    RLT_CHECK(rl_gguf_open(&g, FIX "meta.gguf") == RL_OK && rl_gguf_vocab_read(&g, &v) == RL_ERR_FORMAT && rlt_err_has("tokenizer.ggml.tokens"),
              "no vocabulary: %s", rl_last_error());
    rl_gguf_close(&g);
    rlt_end();
}

/* ======================================================================= */
/* 5. hostile input: files built byte by byte                              */

typedef struct bb {
    unsigned char *p;
    size_t n, cap;
} bb;
static void bb_put(bb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = (unsigned char *)realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void bb_u32(bb *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    bb_put(b, x, 4);
}
static void bb_u64(bb *b, uint64_t v) {
    bb_u32(b, (uint32_t)v);
    bb_u32(b, (uint32_t)(v >> 32));
}
static void bb_str(bb *b, const char *s) {
    bb_u64(b, strlen(s));
    bb_put(b, s, strlen(s));
}
static void bb_pad(bb *b, size_t align) {
    static const unsigned char z[64] = {0};
    while (b->n % align) bb_put(b, z, 1);
}

/* The knobs of a small file: header, 3 keys, 2 tensors ("a" F32 ne{4,2}, "b" Q8_0 ne{32}). */
typedef struct spec {
    const char *magic;
    uint32_t version;
    uint64_t n_tensors_delta, n_kv_override; /* n_kv_override != 0 replaces the count */
    uint32_t align_type;                      /* type of general.alignment; 0 = no key */
    uint64_t align;
    uint64_t key_len_override;                /* != 0: length field of the first key */
    uint32_t value_type;                      /* type of key "x.v" (default UINT32) */
    uint64_t array_n;                         /* count of array "x.arr" */
    int nest;                                 /* depth of nested arrays in "x.nest" */
    int dup_key, dup_tensor, empty_key, long_name;
    uint32_t nd_b;
    uint64_t ne0_a, ne1_a, ne0_b;
    uint32_t type_b;
    uint64_t off_b;
    unsigned bool_byte;
} spec;

static spec spec_default(void) {
    spec s;
    memset(&s, 0, sizeof s);
    s.magic = "GGUF";
    s.version = 3;
    s.value_type = 4;
    s.array_n = 3;
    s.nd_b = 1;
    s.ne0_a = 4, s.ne1_a = 2, s.ne0_b = 32;
    s.type_b = 8;
    s.off_b = 32;
    s.bool_byte = 1;
    return s;
}

static bb build(const spec *s, size_t *data_end) {
    bb b = {NULL, 0, 0};
    uint64_t n_kv = 4 + (s->align_type != 0) + (s->dup_key != 0) + (s->nest > 0), i;
    size_t align = s->align_type == 4 && s->align && !(s->align & (s->align - 1)) ? (size_t)s->align : 32;
    unsigned char q8[34];
    float a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int k;
    bb_put(&b, s->magic, 4);
    bb_u32(&b, s->version);
    bb_u64(&b, 2 + s->n_tensors_delta + (s->dup_tensor != 0));
    bb_u64(&b, s->n_kv_override ? s->n_kv_override : n_kv);
    /* keys */
    if (s->key_len_override) {
        bb_u64(&b, s->key_len_override);
        bb_put(&b, "general.architecture", 20);
    } else
        bb_str(&b, s->empty_key ? "" : "general.architecture");
    bb_u32(&b, 8);
    bb_str(&b, "x");
    if (s->align_type) {
        bb_str(&b, "general.alignment");
        bb_u32(&b, s->align_type);
        if (s->align_type == 10) bb_u64(&b, s->align);
        else bb_u32(&b, (uint32_t)s->align);
    }
    bb_str(&b, "x.v");
    bb_u32(&b, s->value_type);
    bb_u32(&b, 7);
    bb_str(&b, "x.b");
    bb_u32(&b, 7);
    {
        unsigned char c = (unsigned char)s->bool_byte;
        bb_put(&b, &c, 1);
    }
    bb_str(&b, "x.arr");
    bb_u32(&b, 9);
    bb_u32(&b, 5);
    bb_u64(&b, s->array_n);
    for (i = 0; i < 3; i++) bb_u32(&b, (uint32_t)i);
    if (s->nest > 0) {
        bb_str(&b, "x.nest");
        bb_u32(&b, 9);
        for (k = 0; k < s->nest - 1; k++) {
            bb_u32(&b, 9);
            bb_u64(&b, 1);
        }
        bb_u32(&b, 5);
        bb_u64(&b, 1);
        bb_u32(&b, 42);
    }
    if (s->dup_key) {
        bb_str(&b, "x.v");
        bb_u32(&b, 4);
        bb_u32(&b, 8);
    }
    /* tensor infos */
    bb_str(&b, s->long_name ? "a_name_that_is_much_longer_than_sixty_three_bytes_which_llama_cpp_refuses" : "a");
    bb_u32(&b, 2);
    bb_u64(&b, s->ne0_a);
    bb_u64(&b, s->ne1_a);
    bb_u32(&b, 0);
    bb_u64(&b, 0);
    bb_str(&b, "b");
    bb_u32(&b, s->nd_b);
    for (i = 0; i < s->nd_b; i++) bb_u64(&b, i == 0 ? s->ne0_b : 1);
    bb_u32(&b, s->type_b);
    bb_u64(&b, s->off_b);
    if (s->dup_tensor) {
        bb_str(&b, "b");
        bb_u32(&b, 1);
        bb_u64(&b, 32);
        bb_u32(&b, 8);
        bb_u64(&b, 96);
    }
    bb_pad(&b, align);
    bb_put(&b, a, 32);
    memset(q8, 0, sizeof q8);
    q8[1] = 0x3c; /* d = 1.0 */
    for (k = 0; k < 32; k++) q8[2 + k] = (unsigned char)(k - 16);
    bb_pad(&b, align);
    bb_put(&b, q8, 34);
    if (data_end) *data_end = b.n;
    bb_pad(&b, align);
    if (s->dup_tensor) {
        bb_put(&b, q8, 34);
        if (data_end) *data_end = b.n;
        bb_pad(&b, align);
    }
    return b;
}

/* open a built file; expect status st and every needle in the message */
static void expect(const char *label, const spec *s, rl_status st, const char *n1, const char *n2) {
    bb b = build(s, NULL);
    rl_gguf g;
    rl_status got = rl_gguf_open_memory(&g, b.p, b.n, "bad.gguf");
    RLT_CHECK(got == st, "%s: status %d (%s), expected %d", label, (int)got, rl_last_error(), (int)st);
    if (st != RL_OK) {
        RLT_CHECK(!strncmp(rl_last_error(), "bad.gguf: ", 10), "%s: message names the file: %s", label, rl_last_error());
        RLT_CHECK(!n1 || rlt_err_has(n1), "%s: message lacks '%s': %s", label, n1, rl_last_error());
        RLT_CHECK(!n2 || rlt_err_has(n2), "%s: message lacks '%s': %s", label, n2, rl_last_error());
        RLT_CHECK(g.base == NULL && g.kv == NULL, "%s: closed after failure", label);
    } else {
        rl_gguf_close(&g);
    }
    free(b.p);
}

static void test_bad(void) {
    spec s;
    bb b;
    size_t end, cut;
    rl_gguf g;
    int all_fail = 1, all_named = 1;
    rlt_begin("gguf hostile input: each defect gives a clear error");
    s = spec_default();
    b = build(&s, &end);
    RLT_CHECK(rl_gguf_open_memory(&g, b.p, b.n, "good.gguf") == RL_OK, "the base file is valid: %s", rl_last_error());
    if (g.base) {
        float y[32];
        const rl_gguf_tensor *t = rl_gguf_find_tensor(&g, "b");
        RLT_CHECK(t && rl_gguf_tensor_f32(&g, t, y) == RL_OK && y[0] == -16 && y[31] == 15, "base file data");
        rl_gguf_close(&g);
    }
    /* every truncation before the end of the last tensor's data fails cleanly */
    for (cut = 0; cut < end; cut++) {
        unsigned char *p = (unsigned char *)malloc(cut + 1);
        memcpy(p, b.p, cut);
        if (rl_gguf_open_memory(&g, p, cut, "cut.gguf") == RL_OK) {
            all_fail = 0;
            rl_gguf_close(&g);
        } else if (!(rlt_err_has("truncated") || rlt_err_has("past the end") || rlt_err_has("cannot fit"))) {
            all_named = 0;
            fprintf(stderr, "cut at %zu: %s\n", cut, rl_last_error());
        }
        free(p);
    }
    RLT_CHECK(all_fail, "every truncated prefix is refused");
    RLT_CHECK(all_named, "every truncation says truncated / past the end / cannot fit");
    RLT_CHECK(rl_gguf_open_memory(&g, b.p, end, "exact.gguf") == RL_OK, "trailing padding of the last tensor is optional");
    rl_gguf_close(&g);
    free(b.p);

    s = spec_default(), s.magic = "GGML", expect("bad magic", &s, RL_ERR_FORMAT, "not a GGUF file", "47 47 4d 4c");
    s = spec_default(), s.version = 1, expect("version 1", &s, RL_ERR_UNSUPPORTED, "version 1 is not supported", NULL);
    s = spec_default(), s.version = 4, expect("version 4", &s, RL_ERR_UNSUPPORTED, "version 4", NULL);
    s = spec_default(), s.version = 0x03000000, expect("big-endian", &s, RL_ERR_UNSUPPORTED, "big-endian", NULL);
    s = spec_default(), s.n_kv_override = (uint64_t)1 << 60, expect("huge kv count", &s, RL_ERR_FORMAT, "cannot fit", NULL);
    s = spec_default(), s.n_tensors_delta = (uint64_t)1 << 40, expect("huge tensor count", &s, RL_ERR_FORMAT, "cannot fit", NULL);
    s = spec_default(), s.n_kv_override = 40, expect("kv count too large by a little", &s, RL_ERR_FORMAT, NULL, NULL);
    s = spec_default(), s.key_len_override = (uint64_t)1 << 40, expect("key length past end", &s, RL_ERR_FORMAT, "string length 1099511627776", "past the end");
    s = spec_default(), s.key_len_override = UINT64_MAX, expect("key length 2^64-1", &s, RL_ERR_FORMAT, "string length", NULL);
    s = spec_default(), s.empty_key = 1, expect("empty key", &s, RL_ERR_FORMAT, "empty key", NULL);
    s = spec_default(), s.dup_key = 1, expect("duplicate key", &s, RL_ERR_FORMAT, "key 'x.v' appears twice", NULL);
    s = spec_default(), s.value_type = 13, expect("unknown value type", &s, RL_ERR_FORMAT, "key 'x.v'", "value type 13");
    s = spec_default(), s.bool_byte = 2, expect("bool 2", &s, RL_ERR_FORMAT, "key 'x.b'", "BOOL value 2");
    s = spec_default(), s.array_n = (uint64_t)1 << 61, expect("array count", &s, RL_ERR_FORMAT, "key 'x.arr'", "cannot fit");
    s = spec_default(), s.nest = 8, expect("nesting 8 deep is fine", &s, RL_OK, NULL, NULL);
    s = spec_default(), s.nest = 9, expect("nesting 9 deep", &s, RL_ERR_FORMAT, "key 'x.nest'", "nested");
    s = spec_default(), s.align_type = 4, s.align = 64, s.off_b = 64, expect("alignment 64", &s, RL_OK, NULL, NULL);
    s = spec_default(), s.align_type = 4, s.align = 8, expect("alignment 8", &s, RL_OK, NULL, NULL);
    s = spec_default(), s.align_type = 4, s.align = 24, expect("alignment 24", &s, RL_ERR_FORMAT, "general.alignment", "not a power of two");
    s = spec_default(), s.align_type = 4, s.align = 0, expect("alignment 0", &s, RL_ERR_FORMAT, "general.alignment", "not a power of two");
    s = spec_default(), s.align_type = 10, s.align = 32, expect("alignment as UINT64", &s, RL_ERR_FORMAT, "general.alignment", "expected UINT32");
    s = spec_default(), s.align_type = 4, s.align = 64, s.off_b = 32,
    expect("offset misaligned for 64", &s, RL_ERR_FORMAT, "tensor 'b'", "not a multiple of the alignment 64");
    s = spec_default(), s.off_b = 16, expect("misaligned offset", &s, RL_ERR_FORMAT, "tensor 'b'", "not a multiple of the alignment 32");
    s = spec_default(), s.off_b = 1 << 20, expect("tensor out of range", &s, RL_ERR_FORMAT, "tensor 'b'", "past the end of the file");
    s = spec_default(), s.off_b = UINT64_MAX - 31, expect("offset near 2^64", &s, RL_ERR_FORMAT, "tensor 'b'", "past the end");
    s = spec_default(), s.ne0_b = 64, expect("tensor data longer than the file", &s, RL_ERR_FORMAT, "tensor 'b'", "past the end");
    s = spec_default(), s.type_b = 99, expect("unknown ggml type", &s, RL_ERR_FORMAT, "tensor 'b'", "unknown ggml type 99");
    s = spec_default(), s.type_b = 4, expect("removed ggml type 4", &s, RL_ERR_FORMAT, "tensor 'b'", "unknown ggml type 4");
    s = spec_default(), s.ne0_b = 33, expect("partial block", &s, RL_ERR_FORMAT, "tensor 'b'", "block size 32");
    s = spec_default(), s.ne0_a = 16, s.ne1_a = 1, expect("overlapping tensors", &s, RL_ERR_FORMAT, "'a'", "overlap");
    s = spec_default(), s.nd_b = 5, expect("5 dims", &s, RL_ERR_FORMAT, "tensor 'b'", "at most 4");
    s = spec_default(), s.ne0_a = (uint64_t)1 << 40, s.ne1_a = (uint64_t)1 << 40, expect("dims overflow", &s, RL_ERR_FORMAT, "tensor 'a'", "overflow");
    s = spec_default(), s.ne0_a = (uint64_t)1 << 63, expect("dim above INT64_MAX", &s, RL_ERR_FORMAT, "tensor 'a'", "too large");
    s = spec_default(), s.ne0_a = (uint64_t)1 << 61, s.ne1_a = 1, expect("byte size beyond the file", &s, RL_ERR_FORMAT, "tensor 'a'", "past the end");
    s = spec_default(), s.dup_tensor = 1, expect("duplicate tensor", &s, RL_ERR_FORMAT, "tensor 'b' appears twice", NULL);
    s = spec_default(), s.long_name = 1, expect("long tensor name", &s, RL_ERR_FORMAT, "limit is 63", NULL);
    /* empty input, NULL data */
    RLT_CHECK(rl_gguf_open_memory(&g, NULL, 0, "empty.gguf") == RL_ERR_FORMAT && rlt_err_has("empty.gguf: truncated"), "empty: %s", rl_last_error());
    /* files on disk: the path is in the message */
    {
        const char *p = rlt_tmp("trunc.gguf");
        FILE *f;
        s = spec_default();
        b = build(&s, &end);
        f = fopen(p, "wb");
        if (f) {
            fwrite(b.p, 1, end - 10, f);
            fclose(f);
        }
        RLT_CHECK(rl_gguf_open(&g, p) == RL_ERR_FORMAT && !strncmp(rl_last_error(), p, strlen(p)) && rlt_err_has("tensor 'b'"),
                  "truncated file: %s", rl_last_error());
        f = fopen(p, "wb");
        if (f) fclose(f);
        RLT_CHECK(rl_gguf_open(&g, p) == RL_ERR_FORMAT && rlt_err_has("empty file"), "empty file: %s", rl_last_error());
        remove(p);
        RLT_CHECK(rl_gguf_open(&g, p) == RL_ERR_IO && rlt_err_has("cannot open"), "missing file: %s", rl_last_error());
        free(b.p);
    }
    rlt_end();
}

/* ======================================================================= */
/* 6. writer                                                               */

/* the content of tools/ref/make_gguf.py writer_content()/writer_tensors() */
static float wa[15];
static uint16_t wb[4], wd[6];
static unsigned char wc[68];

static void writer_data(void) {
    int i;
    for (i = 0; i < 15; i++) wa[i] = ((float)i - 7.0f) / 4;
    wb[0] = 0x3c00, wb[1] = 0xb800, wb[2] = 0x4000, wb[3] = 0x7bff;
    memset(wc, 0, sizeof wc);
    wc[0] = 0x00, wc[1] = 0x38; /* 0.5 */
    wc[34] = 0x00, wc[35] = 0xb4; /* -0.25 */
    for (i = 0; i < 32; i++) wc[2 + i] = (unsigned char)i, wc[36 + i] = (unsigned char)(-i);
    wd[0] = 0x3F80, wd[1] = 0xC000, wd[2] = 0, wd[3] = 0x7F80, wd[4] = 0x4049, wd[5] = 1;
}

static rl_status fill_wa(void *user, const char *name, void *dst, uint64_t nbytes) {
    (void)user;
    if (strcmp(name, "a") || nbytes != sizeof wa) return rl__fail(RL_ERR_ARG, "fill called for %s with %llu bytes", name, (unsigned long long)nbytes);
    memcpy(dst, wa, sizeof wa);
    return RL_OK;
}

static rl_gguf_writer *writer_build(int use_fill) {
    rl_gguf_writer *w = rl_gguf_writer_new();
    static const int32_t ai[3] = {1, -2, 3};
    static const float af[2] = {0.5f, -1.25f};
    static const uint8_t au[2] = {9, 8};
    static const char ab[2] = {0, 1};
    static const char *const as[3] = {"x", "", "y z"};
    uint8_t u8 = 250;
    int8_t i8 = -7;
    uint16_t u16 = 65535;
    int16_t i16 = -2;
    int64_t ne_a[2] = {5, 3}, ne_b[1] = {4}, ne_c[2] = {32, 2}, ne_d[1] = {6};
    rl_gguf_value nested, inner[2];
    unsigned char in0[8], in1[4];
    writer_data();
    rl_gguf_add_str(w, "general.architecture", "llama");
    rl_gguf_add_u32(w, "general.alignment", 64);
    rl_gguf_add_scalar(w, "w.u8", RL_GGUF_UINT8, &u8);
    rl_gguf_add_scalar(w, "w.i8", RL_GGUF_INT8, &i8);
    rl_gguf_add_scalar(w, "w.u16", RL_GGUF_UINT16, &u16);
    rl_gguf_add_scalar(w, "w.i16", RL_GGUF_INT16, &i16);
    rl_gguf_add_u32(w, "w.u32", 123456789u);
    rl_gguf_add_i32(w, "w.i32", -123456789);
    rl_gguf_add_f32(w, "w.f32", 0.15625f);
    rl_gguf_add_u64(w, "w.u64", ((uint64_t)1 << 63) + 11);
    rl_gguf_add_i64(w, "w.i64", -((int64_t)1 << 40));
    rl_gguf_add_f64(w, "w.f64", ldexp(1.0, -30));
    rl_gguf_add_bool(w, "w.bool", 1);
    rl_gguf_add_str(w, "w.str", "na\xc3\xafve \xe2\x86\x92 \xf0\x9f\x98\x80");
    rl_gguf_add_array(w, "w.arr_i32", RL_GGUF_INT32, ai, 3);
    rl_gguf_add_array(w, "w.arr_f32", RL_GGUF_FLOAT32, af, 2);
    rl_gguf_add_array(w, "w.arr_u8", RL_GGUF_UINT8, au, 2);
    rl_gguf_add_array(w, "w.arr_bool", RL_GGUF_BOOL, ab, 2);
    rl_gguf_add_array(w, "w.arr_str", RL_GGUF_STRING, as, 3);
    memset(&nested, 0, sizeof nested);
    memset(inner, 0, sizeof inner);
    in0[0] = 1, in0[1] = in0[2] = in0[3] = 0, in0[4] = 2, in0[5] = in0[6] = in0[7] = 0;
    in1[0] = 3, in1[1] = in1[2] = in1[3] = 0;
    inner[0].type = inner[1].type = RL_GGUF_ARRAY;
    inner[0].elem_type = inner[1].elem_type = RL_GGUF_INT32;
    inner[0].n = 2, inner[0].raw = in0;
    inner[1].n = 1, inner[1].raw = in1;
    nested.type = RL_GGUF_ARRAY, nested.elem_type = RL_GGUF_ARRAY, nested.n = 2, nested.elems = inner;
    rl_gguf_add_value(w, "w.nested", &nested);
    if (use_fill) rl_gguf_add_tensor_fn(w, "a", RL_GGML_F32, 2, ne_a, fill_wa, NULL);
    else rl_gguf_add_tensor(w, "a", RL_GGML_F32, 2, ne_a, wa);
    rl_gguf_add_tensor(w, "b", RL_GGML_F16, 1, ne_b, wb);
    rl_gguf_add_tensor(w, "c", RL_GGML_Q8_0, 2, ne_c, wc);
    rl_gguf_add_tensor(w, "d", RL_GGML_BF16, 1, ne_d, wd);
    return w;
}

/* deep equality of two value trees */
static int value_eq(const rl_gguf_value *a, const rl_gguf_value *b) {
    uint64_t i;
    if (a->type != b->type) return 0;
    switch (a->type) {
    case RL_GGUF_STRING: return a->str.len == b->str.len && !memcmp(a->str.s, b->str.s, (size_t)a->str.len);
    case RL_GGUF_FLOAT32: case RL_GGUF_FLOAT64: return a->f == b->f || (a->f != a->f && b->f != b->f);
    case RL_GGUF_ARRAY:
        if (a->elem_type != b->elem_type || a->n != b->n) return 0;
        if (a->elem_type == RL_GGUF_STRING) {
            for (i = 0; i < a->n; i++)
                if (a->strs[i].len != b->strs[i].len || memcmp(a->strs[i].s, b->strs[i].s, (size_t)a->strs[i].len)) return 0;
            return 1;
        }
        if (a->elem_type == RL_GGUF_ARRAY) {
            for (i = 0; i < a->n; i++)
                if (!value_eq(&a->elems[i], &b->elems[i])) return 0;
            return 1;
        }
        {
            size_t sz = a->elem_type == RL_GGUF_UINT8 || a->elem_type == RL_GGUF_INT8 || a->elem_type == RL_GGUF_BOOL ? 1
                        : a->elem_type == RL_GGUF_UINT16 || a->elem_type == RL_GGUF_INT16                         ? 2
                        : a->elem_type == RL_GGUF_UINT64 || a->elem_type == RL_GGUF_INT64 || a->elem_type == RL_GGUF_FLOAT64 ? 8
                                                                                                                       : 4;
            return !memcmp(a->raw, b->raw, (size_t)a->n * sz);
        }
    default: return a->i == b->i && a->u == b->u;
    }
}

static void test_writer(void) {
    rl_gguf_writer *w;
    rl_gguf g, m, m2;
    const char *p1 = rlt_tmp("w1.gguf"), *p2 = rlt_tmp("w2.gguf"), *p3 = rlt_tmp("w3.gguf");
    unsigned char *ours, *theirs;
    size_t n_ours, n_theirs;
    int64_t i;
    rlt_begin("gguf writer: byte-identical to gguf-py, round trip, errors");
    /* 1. the same content as make_gguf.py's GGUFWriter gives the same bytes */
    w = writer_build(0);
    RLT_CHECK(rl_gguf_write(w, p1) == RL_OK, "write: %s", rl_last_error());
    rl_gguf_writer_free(w);
    ours = rlt_read_all(p1, &n_ours);
    theirs = rlt_read_all(FIX "writer_ref.gguf", &n_theirs);
    RLT_CHECK(ours && theirs && n_ours == n_theirs && !memcmp(ours, theirs, n_ours), "byte-identical to writer_ref.gguf (%zu vs %zu bytes)", n_ours,
              n_theirs);
    if (ours && theirs && n_ours == n_theirs)
        for (i = 0; i < (int64_t)n_ours; i++)
            if (ours[i] != theirs[i]) {
                fprintf(stderr, "first difference at byte %lld: %02x vs %02x\n", (long long)i, ours[i], theirs[i]);
                break;
            }
    if (getenv("RADLADS_GGUF_WRITER_OUT") && ours) { /* for make_gguf.py --check-c-writer */
        FILE *f = fopen(getenv("RADLADS_GGUF_WRITER_OUT"), "wb");
        if (f) fwrite(ours, 1, n_ours, f), fclose(f);
    }
    free(ours);
    free(theirs);
    /* 2. read it back */
    RLT_CHECK(rl_gguf_open(&g, p1) == RL_OK, "reopen: %s", rl_last_error());
    if (g.base) {
        const rl_gguf_tensor *t;
        const char *s;
        float y[64];
        int64_t x;
        RLT_CHECK(g.version == 3 && g.alignment == 64 && g.n_kv == 20 && g.n_tensors == 4 && g.data_offset % 64 == 0, "header");
        RLT_CHECK(rl_gguf_get_str(&g, "w.str", &s, NULL) == RL_OK && !strcmp(s, "na\xc3\xafve \xe2\x86\x92 \xf0\x9f\x98\x80"), "string");
        RLT_CHECK(rl_gguf_get_int(&g, "w.i64", &x) == RL_OK && x == -((int64_t)1 << 40), "i64");
        RLT_CHECK(kv(&g, "w.u64")->u == ((uint64_t)1 << 63) + 11 && kv(&g, "w.f64")->f == ldexp(1.0, -30) && kv(&g, "w.f32")->f == 0.15625, "u64 f64 f32");
        RLT_CHECK(kv(&g, "w.nested")->n == 2 && kv(&g, "w.nested")->elems[0].n == 2 && kv(&g, "w.arr_str")->strs[2].len == 3, "arrays");
        t = rl_gguf_find_tensor(&g, "a");
        RLT_CHECK(t && t->ne[0] == 5 && t->ne[1] == 3 && rl_gguf_tensor_f32(&g, t, y) == RL_OK && !memcmp(y, wa, sizeof wa), "tensor a");
        t = rl_gguf_find_tensor(&g, "c");
        RLT_CHECK(t && t->offset % 64 == 0 && rl_gguf_tensor_f32(&g, t, y) == RL_OK && y[1] == 0.5f && y[33] == 0.25f, "tensor c (Q8_0)");
        t = rl_gguf_find_tensor(&g, "d");
        RLT_CHECK(t && rl_gguf_tensor_f32(&g, t, y) == RL_OK && y[0] == 1 && y[1] == -2 && isinf(y[3]), "tensor d (BF16)");
        rl_gguf_close(&g);
    }
    /* 3. fill callbacks give the same file */
    w = writer_build(1);
    RLT_CHECK(rl_gguf_write(w, p2) == RL_OK, "write with fill: %s", rl_last_error());
    rl_gguf_writer_free(w);
    ours = rlt_read_all(p1, &n_ours);
    theirs = rlt_read_all(p2, &n_theirs);
    RLT_CHECK(ours && theirs && n_ours == n_theirs && !memcmp(ours, theirs, n_ours), "fill callback output identical");
    free(ours);
    free(theirs);
    /* 4. copy every key (nested arrays too) and tensor of meta.gguf through the writer */
    if (rl_gguf_open(&m, FIX "meta.gguf") == RL_OK) {
        w = rl_gguf_writer_new();
        for (i = 0; i < m.n_kv; i++) rl_gguf_add_value(w, m.kv[i].key, &m.kv[i].val);
        for (i = 0; i < m.n_tensors; i++) {
            const rl_gguf_tensor *t = &m.tensors[i];
            rl_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        }
        RLT_CHECK(rl_gguf_write(w, p3) == RL_OK, "copy: %s", rl_last_error());
        rl_gguf_writer_free(w);
        RLT_CHECK(rl_gguf_open(&m2, p3) == RL_OK, "reopen copy: %s", rl_last_error());
        if (m2.base) {
            int ok = m2.n_kv == m.n_kv && m2.n_tensors == m.n_tensors;
            for (i = 0; ok && i < m.n_kv; i++) ok = !strcmp(m.kv[i].key, m2.kv[i].key) && value_eq(&m.kv[i].val, &m2.kv[i].val);
            RLT_CHECK(ok, "every value equal after the copy (key #%lld)", (long long)i);
            for (i = 0; ok && i < m.n_tensors; i++)
                ok = !strcmp(m.tensors[i].name, m2.tensors[i].name) && m.tensors[i].nbytes == m2.tensors[i].nbytes &&
                     !memcmp(m.tensors[i].data, m2.tensors[i].data, (size_t)m.tensors[i].nbytes);
            RLT_CHECK(ok, "every tensor equal after the copy");
            check_meta(&m2, "copy");
            rl_gguf_close(&m2);
        }
        ours = rlt_read_all(p3, &n_ours);
        theirs = rlt_read_all(FIX "meta.gguf", &n_theirs);
        RLT_CHECK(ours && theirs && n_ours == n_theirs && !memcmp(ours, theirs, n_ours), "the copy is byte-identical to gguf-py's meta.gguf");
        free(ours);
        free(theirs);
        rl_gguf_close(&m);
    }
    /* 5. errors: sticky, nothing written, the old file stays */
    {
        int64_t ne[2] = {33, 1}, ne1[1] = {4};
        float four[4] = {1, 2, 3, 4};
        unsigned char *before, *after;
        size_t nb, na;
        rl_gguf_value bad;
        before = rlt_read_all(p1, &nb);
        w = rl_gguf_writer_new();
        RLT_CHECK(rl_gguf_add_u32(w, "k", 1) == RL_OK, "add");
        RLT_CHECK(rl_gguf_add_u32(w, "k", 2) == RL_ERR_ARG && rlt_err_has("'k' added twice"), "duplicate key: %s", rl_last_error());
        RLT_CHECK(rl_gguf_add_u32(w, "k2", 2) == RL_ERR_ARG, "sticky");
        RLT_CHECK(rl_gguf_write(w, p1) == RL_ERR_ARG && rlt_err_has("nothing written"), "write refused: %s", rl_last_error());
        rl_gguf_writer_free(w);
        after = rlt_read_all(p1, &na);
        RLT_CHECK(before && after && na == nb && !memcmp(before, after, na), "existing file untouched");
        free(before);
        free(after);
        w = rl_gguf_writer_new();
        RLT_CHECK(rl_gguf_add_u32(w, "general.alignment", 48) == RL_ERR_ARG && rlt_err_has("power of two"), "alignment 48: %s", rl_last_error());
        rl_gguf_writer_free(w);
        w = rl_gguf_writer_new();
        RLT_CHECK(rl_gguf_add_tensor(w, "q", RL_GGML_Q8_0, 2, ne, four) == RL_ERR_ARG && rlt_err_has("block size"), "partial block: %s", rl_last_error());
        rl_gguf_writer_free(w);
        w = rl_gguf_writer_new();
        RLT_CHECK(rl_gguf_add_tensor(w, "a_name_that_is_much_longer_than_sixty_three_bytes_which_llama_cpp_refuses", RL_GGML_F32, 1, ne1, four) ==
                      RL_ERR_ARG,
                  "long name");
        rl_gguf_writer_free(w);
        w = rl_gguf_writer_new();
        RLT_CHECK(rl_gguf_add_tensor(w, "t", RL_GGML_F32, 1, ne1, four) == RL_OK && rl_gguf_add_tensor(w, "t", RL_GGML_F32, 1, ne1, four) == RL_ERR_ARG,
                  "duplicate tensor");
        rl_gguf_writer_free(w);
        w = rl_gguf_writer_new();
        memset(&bad, 0, sizeof bad);
        bad.type = RL_GGUF_ARRAY, bad.elem_type = RL_GGUF_ARRAY, bad.n = 2, bad.elems = NULL;
        RLT_CHECK(rl_gguf_add_value(w, "bad", &bad) == RL_ERR_ARG && rlt_err_has("malformed"), "malformed value tree: %s", rl_last_error());
        rl_gguf_writer_free(w);
        w = rl_gguf_writer_new();
        rl_gguf_add_tensor(w, "t", RL_GGML_F32, 1, ne1, four);
        RLT_CHECK(rl_gguf_write(w, "/nonexistent-dir/x.gguf") == RL_ERR_IO && rlt_err_has("cannot create"), "unwritable path: %s", rl_last_error());
        rl_gguf_writer_free(w);
    }
    remove(p1);
    remove(p2);
    remove(p3);
    rlt_end();
}

/* ======================================================================= */
/* 7. the real SmolLM2-135M-Instruct Q4_1 file, when fetched               */

typedef struct smol_ctx {
    int count, nonfinite, unnamed;
    double sum_q, sum_k;
} smol_ctx;

static rl_status smol_cb(void *user, const char *hf, const rl_gguf_tensor *t, int ndim, const int64_t *shape, const float *data) {
    smol_ctx *c = (smol_ctx *)user;
    int64_t i, n = 1;
    int d;
    (void)t;
    for (d = 0; d < ndim; d++) n *= shape[d];
    if (!hf || n != t->n) c->unnamed++;
    for (i = 0; i < n; i++)
        if (!isfinite(data[i])) c->nonfinite++;
    if (hf && !strcmp(hf, "model.layers.0.self_attn.q_proj.weight"))
        for (i = 0; i < n; i++) c->sum_q += data[i];
    if (hf && !strcmp(hf, "model.layers.0.self_attn.k_proj.weight"))
        for (i = 0; i < n; i++) c->sum_k += data[i];
    c->count++;
    return RL_OK;
}

static void test_smollm2(void) {
    /* sums of gguf.quants.dequantize (tools/ref/make_gguf.py --smollm2) */
    static const struct {
        const char *name;
        double sum, sumsq, first, last;
    } ref[] = {
        {"token_embd.weight", -15353.04449415207, 520415.71544763993, -0.10654449462890625, -0.0417022705078125},
        {"blk.0.attn_k.weight", 26.937057495117188, 17499.561343912734, -0.1552734375, 0.3636474609375},
        {"blk.0.attn_q.weight", 59.22322082519531, 26749.573275085306, -0.0963134765625, -0.255859375},
        {"blk.29.ffn_down.weight", 49.83570861816406, 29667.074891592143, -0.2733154296875, 0.056640625},
        {"output_norm.weight", 1038.33203125, 1921.7355499267578, 1.7578125, 1.984375},
    };
    char path[1024];
    const char *env = getenv("RADLADS_SMOLLM2_GGUF");
    FILE *f;
    rl_gguf g;
    rl_gguf_llama_hparams hp;
    rl_gguf_vocab v;
    smol_ctx c;
    size_t k;
    int n_q41 = 0, n_q80 = 0, n_f32 = 0;
    int64_t i;
    if (env && *env) snprintf(path, sizeof path, "%s", env);
    else if (getenv("RADLADS_CACHE") && *getenv("RADLADS_CACHE"))
        snprintf(path, sizeof path, "%s/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", getenv("RADLADS_CACHE"));
    else snprintf(path, sizeof path, "%s/.cache/radlads/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", getenv("HOME") ? getenv("HOME") : ".");
    f = fopen(path, "rb");
    if (!f) {
        char why[1200];
        snprintf(why, sizeof why, "%s not present (tools/fetch_smollm2.sh fetches it)", path);
        rlt_skip("gguf SmolLM2-135M-Instruct Q4_1", why);
        return;
    }
    fclose(f);
    rlt_begin("gguf SmolLM2-135M-Instruct Q4_1 (real model)");
    memset(&c, 0, sizeof c);
    RLT_CHECK(rl_gguf_open(&g, path) == RL_OK, "open: %s", rl_last_error());
    if (!g.base) {
        rlt_end();
        return;
    }
    RLT_CHECK(g.version == 3 && g.n_kv == 33 && g.n_tensors == 272, "v%u, %lld keys, %lld tensors", g.version, (long long)g.n_kv, (long long)g.n_tensors);
    RLT_CHECK(rl_gguf_llama_hparams_read(&g, &hp) == RL_OK, "hparams: %s", rl_last_error());
    RLT_CHECK(!strcmp(hp.arch, "llama") && hp.n_layers == 30 && hp.hidden_size == 576 && hp.intermediate_size == 1536 && hp.n_heads == 9 &&
                  hp.n_kv_heads == 3 && hp.head_dim == 64 && hp.rope_dim == 64 && hp.context_length == 8192 && hp.vocab_size == 49152,
              "sizes");
    RLT_CHECK(hp.rope_theta == 100000.0 && fabs(hp.rms_norm_eps - 1e-5) < 1e-12 && hp.tie_word_embeddings && hp.qk_permuted, "theta/eps/tied");
    RLT_CHECK(rl_gguf_vocab_read(&g, &v) == RL_OK, "vocab: %s", rl_last_error());
    RLT_CHECK(!strcmp(v.model, "gpt2") && v.pre && !strcmp(v.pre, "smollm") && v.n_tokens == 49152 && v.n_merges == 48900, "vocab sizes");
    RLT_CHECK(v.bos_id == 1 && v.eos_id == 2 && v.unk_id == 0 && v.pad_id == 2 && v.add_bos == 0 && !strcmp(v.tokens[1], "<|im_start|>") &&
                  !strcmp(v.tokens[2], "<|im_end|>") && v.chat_template != NULL,
              "special tokens");
    rl_gguf_vocab_free(&v);
    for (i = 0; i < g.n_tensors; i++) {
        n_q41 += g.tensors[i].type == RL_GGML_Q4_1;
        n_q80 += g.tensors[i].type == RL_GGML_Q8_0;
        n_f32 += g.tensors[i].type == RL_GGML_F32;
    }
    RLT_CHECK(n_q41 == 210 && n_q80 == 1 && n_f32 == 61, "types: %d Q4_1, %d Q8_0, %d F32", n_q41, n_q80, n_f32);
    for (k = 0; k < sizeof ref / sizeof ref[0]; k++) {
        const rl_gguf_tensor *t = rl_gguf_find_tensor(&g, ref[k].name);
        float *y;
        double s = 0, s2 = 0;
        RLT_CHECK(t != NULL, "%s present", ref[k].name);
        if (!t) continue;
        y = (float *)malloc((size_t)t->n * sizeof(float));
        RLT_CHECK(rl_gguf_tensor_f32(&g, t, y) == RL_OK, "%s: %s", ref[k].name, rl_last_error());
        for (i = 0; i < t->n; i++) s += y[i], s2 += (double)y[i] * y[i];
        RLT_CLOSE(s, ref[k].sum, 1e-6, 1e-9, "%s sum", ref[k].name);
        RLT_CLOSE(s2, ref[k].sumsq, 1e-6, 1e-9, "%s sum of squares", ref[k].name);
        RLT_CHECK(y[0] == (float)ref[k].first && y[t->n - 1] == (float)ref[k].last, "%s first/last %g %g", ref[k].name, y[0], y[t->n - 1]);
        free(y);
    }
    RLT_CHECK(rl_gguf_llama_tensors(&g, &hp, smol_cb, &c) == RL_OK, "dequantize all: %s", rl_last_error());
    RLT_CHECK(c.count == 272 && c.unnamed == 0 && c.nonfinite == 0, "%d tensors, %d unnamed, %d non-finite values", c.count, c.unnamed, c.nonfinite);
    RLT_CLOSE(c.sum_q, ref[2].sum, 1e-6, 1e-9, "un-permuted q keeps its sum");
    RLT_CLOSE(c.sum_k, ref[1].sum, 1e-6, 1e-9, "un-permuted k keeps its sum");
    rl_gguf_close(&g);
    rlt_end();
}

int main(void) {
    test_meta();
    test_dequant();
    test_llama();
    test_llama_variants();
    test_vocab();
    test_bad();
    test_writer();
    test_smollm2();
    return rlt_exit();
}
