/* libFuzzer target: the JSON parser and the config.json reader on arbitrary bytes.
   Build and run through tests/fuzz/run.sh. Checks, besides "no crash, no leak, no UB":
   every parsed string is NUL-terminated at its length and valid UTF-8, keys likewise,
   object keys are unique (duplicates are folded), counts match the tree. */
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

static void fz_utf8(const char *s, int64_t n) {
    fz_check(s[n] == 0);
    fz_check(rl__utf8_valid(s, (size_t)n));
}

static int64_t fz_walk(const rl_json *v, int depth) {
    int64_t k, count = 1;
    fz_check(depth <= RL_JSON_MAX_DEPTH + 1);
    switch (v->type) {
    case RL_JSON_NULL: break;
    case RL_JSON_BOOL: fz_check(v->num == 0 || v->num == 1); break;
    case RL_JSON_NUM:
        fz_check(v->num == v->num && v->num - v->num == 0); /* finite */
        if (v->is_int) fz_check((double)v->i == v->num);
        break;
    case RL_JSON_STR: fz_utf8(v->str, v->n); break;
    case RL_JSON_ARR:
        for (k = 0; k < v->n; k++) count += fz_walk(&v->kids[k], depth + 1);
        break;
    case RL_JSON_OBJ:
        for (k = 0; k < v->n; k++) {
            fz_utf8(v->keys[k], v->klen[k]);
            if (v->n < 64) { /* keys are unique after duplicate folding */
                int64_t j;
                for (j = 0; j < k; j++) fz_check(v->klen[j] != v->klen[k] || memcmp(v->keys[j], v->keys[k], (size_t)v->klen[k]));
            }
            if ((size_t)v->klen[k] == strlen(v->keys[k])) fz_check(rl_json_get(v, v->keys[k]) != NULL);
            count += fz_walk(&v->kids[k], depth + 1);
        }
        break;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rl_json_doc doc;
    rl_config cfg;
    rl_status s = rl_json_parse(&doc, (const char *)data, size, "fuzz.json");
    if (s == RL_OK) {
        fz_walk(&doc.root, 0);
        fz_check(doc.n_dup == 0 || doc.dup_key != NULL);
    } else {
        fz_check(s == RL_ERR_FORMAT && !strncmp(rl_last_error(), "fuzz.json:", 10));
        fz_check(doc.root.type == RL_JSON_NULL && doc.arena.first == NULL);
    }
    rl_json_free(&doc);
    s = rl_config_parse(&cfg, (const char *)data, size, "config.json");
    if (s == RL_OK) {
        float *inv;
        fz_check(cfg.hidden_size > 0 && cfg.n_heads > 0 && cfg.n_kv_heads > 0 && cfg.n_heads % cfg.n_kv_heads == 0);
        fz_check(cfg.head_dim > 0 && cfg.head_dim % 2 == 0 && cfg.n_eos >= 0 && cfg.n_eos <= RL_CONFIG_MAX_EOS);
        inv = (float *)malloc(sizeof(float) * (size_t)(cfg.head_dim / 2));
        rl_rope_inv_freq(&cfg, inv);
        free(inv);
    } else {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED);
        fz_check(strstr(rl_last_error(), "config.json") != NULL);
    }
    return 0;
}
