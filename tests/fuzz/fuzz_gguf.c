/* libFuzzer target: the GGUF reader (in memory) on arbitrary bytes, then everything that
   consumes an accepted file: lookups, typed getters, array accessors, dequantization of
   every (small) tensor, Llama hyper-parameters, the HF tensor walk and the tokenizer
   arrays. Properties checked: a refusal is RL_ERR_FORMAT/UNSUPPORTED naming the input and
   leaves the struct closed; an accepted file's tensors lie inside the input, do not
   overlap, are aligned, and are found by name; every key is found by name.
   Build and run: tests/fuzz/run_gguf.sh [SECONDS]. */
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

static rl_status walk(void *user, const char *hf, const rl_gguf_tensor *t, int ndim, const int64_t *shape, const float *data) {
    int64_t n = 1;
    int d;
    (void)hf;
    fz_check(ndim >= 1 && ndim <= 4);
    for (d = 0; d < ndim; d++) n *= shape[d];
    fz_check(n == t->n);
    if (data && n) *(volatile float *)user += data[0] + data[n - 1];
    return RL_OK;
}

static void touch_value(const rl_gguf_value *v, int depth) {
    uint64_t i;
    int64_t x;
    double f;
    fz_check(depth <= 8);
    if (v->type == RL_GGUF_STRING) fz_check(v->str.s && v->str.s[v->str.len] == 0);
    if (v->type != RL_GGUF_ARRAY) return;
    for (i = 0; i < v->n && i < 64; i++) {
        if (v->elem_type == RL_GGUF_STRING) fz_check(v->strs[i].s[v->strs[i].len] == 0);
        else if (v->elem_type == RL_GGUF_ARRAY) touch_value(&v->elems[i], depth + 1);
        else {
            rl_gguf_arr_int(v, i, &x);
            fz_check(rl_gguf_arr_float(v, i, &f) == RL_OK);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rl_gguf g;
    rl_gguf_llama_hparams hp;
    rl_gguf_vocab v;
    int64_t i, j;
    volatile float sink = 0;
    rl_status s = rl_gguf_open_memory(&g, data, size, "fuzz.gguf");
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED);
        fz_check(strncmp(rl_last_error(), "fuzz.gguf: ", 11) == 0);
        fz_check(g.base == NULL && g.kv == NULL && g.tensors == NULL);
        rl_gguf_close(&g);
        return 0;
    }
    fz_check(g.version == 2 || g.version == 3);
    fz_check(g.alignment && !(g.alignment & (g.alignment - 1)));
    for (i = 0; i < g.n_kv; i++) {
        int64_t x;
        double f;
        int b;
        const char *str;
        fz_check(rl_gguf_find(&g, g.kv[i].key) == &g.kv[i]);
        rl_gguf_get_int(&g, g.kv[i].key, &x);
        rl_gguf_get_float(&g, g.kv[i].key, &f);
        rl_gguf_get_bool(&g, g.kv[i].key, &b);
        rl_gguf_get_str(&g, g.kv[i].key, &str, NULL);
        touch_value(&g.kv[i].val, 0);
    }
    for (i = 0; i < g.n_tensors; i++) {
        const rl_gguf_tensor *t = &g.tensors[i];
        const uint8_t *p = (const uint8_t *)t->data;
        int64_t shape[4];
        fz_check(rl_gguf_find_tensor(&g, t->name) == t);
        fz_check(p >= data && (uint64_t)(p - data) <= size && t->nbytes <= size - (uint64_t)(p - data));
        fz_check(t->offset % g.alignment == 0 && t->n_dims >= 0 && t->n_dims <= 4);
        fz_check(rl_gguf_tensor_shape(t, shape) >= 1);
        for (j = 0; j < i; j++) {
            const rl_gguf_tensor *u = &g.tensors[j];
            if (t->nbytes && u->nbytes) fz_check(t->offset >= u->offset + u->nbytes || u->offset >= t->offset + t->nbytes);
        }
        if (t->n <= (1 << 20) && rl_ggml_can_dequantize(t->type)) {
            float *buf = (float *)malloc((size_t)t->n * sizeof(float) + 4);
            fz_check(rl_gguf_tensor_f32(&g, t, buf) == RL_OK);
            if (t->n) sink += buf[0];
            free(buf);
        }
    }
    if (rl_gguf_llama_hparams_read(&g, &hp) == RL_OK) {
        int64_t maxn = 0;
        for (i = 0; i < g.n_tensors; i++) maxn = g.tensors[i].n > maxn ? g.tensors[i].n : maxn;
        if (maxn <= (1 << 20)) rl_gguf_llama_tensors(&g, &hp, walk, (void *)&sink);
    }
    if (rl_gguf_vocab_read(&g, &v) == RL_OK) {
        for (i = 0; i < v.n_tokens; i++) fz_check(v.tokens[i] != NULL && v.tokens[i][v.token_len[i]] == 0);
        for (i = 0; i < v.n_merges; i++) fz_check(strchr(v.merges[i], ' ') != NULL);
        fz_check(v.bos_id < v.n_tokens && v.eos_id < v.n_tokens);
        rl_gguf_vocab_free(&v);
    }
    rl_gguf_close(&g);
    return 0;
}
