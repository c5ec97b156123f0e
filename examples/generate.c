/* examples/generate.c - embed radlads.h, load a model (a Hugging Face teacher or a
   converted RAD-RWKV student) and continue a prompt.
     cc -O2 -o generate examples/generate.c -lm -lpthread
     ./generate MODEL_DIR "Once upon a time" 100
   Every call that can fail returns an rl_status; rl_last_error() says what went wrong.

   Embedded build (`make embedded`): compiled with the switches inference does not need,
   RADLADS_NO_TOKENIZER among them, the prompt is token ids ("1 15 42") and the output is
   token ids; the program reads model.safetensors and config.json into memory itself and
   hands the bytes to rl_model_from_memory, as firmware would hand over a flash image. */
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
#include <stdio.h>

static int fail(const char *what) {
    fprintf(stderr, "generate: %s: %s\n", what, rl_last_error());
    return 1;
}

#ifdef RADLADS_NO_TOKENIZER
/* The whole file in a malloc'ed buffer; NULL if it cannot be read. */
static unsigned char *read_file(const char *dir, const char *name, size_t *n) {
    char path[1024];
    unsigned char *p = NULL;
    long sz;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "rb"))) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 && (p = (unsigned char *)malloc((size_t)sz + 1))) {
        if (fread(p, 1, (size_t)sz, f) != (size_t)sz) {
            free(p);
            p = NULL;
        }
        *n = (size_t)sz;
    }
    fclose(f);
    if (!p) fprintf(stderr, "generate: cannot read %s\n", path);
    return p;
}

/* "1 15 42" -> ids (malloc'ed); 0 on success. */
static int parse_ids(const char *s, int32_t **ids, int64_t *n) {
    int64_t cap = (int64_t)strlen(s) / 2 + 1;
    char *end;
    *n = 0;
    if (!(*ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)cap))) return 1;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s) break;
        if (v < 0 || v > INT32_MAX || *n == cap) return 1;
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return *s || !*n; /* something that is not an id, or no id at all */
}
#endif

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/tiny-teacher", *prompt = argc > 2 ? argv[2] : "ROMEO:";
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 64, i;
    rl_model model;
    rl_pool *pool;
    rl_ctx ctx;
    rl_state state;
    rl_rng rng;
    rl_sampler sampler = {0.8f, 0.95f, 40}; /* temperature, top_p, top_k */
    int32_t *ids = NULL, next;
    int64_t n_ids = 0;
    float *logits;
    int rc = 1;
#ifdef RADLADS_NO_TOKENIZER
    size_t n_st = 0, n_cfg = 0;
    unsigned char *st_bytes, *cfg_text;
#else
    char path[1024];
    rl_tokenizer *tok = NULL;
    rl_detok out;
    const char *text;
    size_t len;
#endif

    if (n < 0 || n > 1000000) {
        fprintf(stderr, "generate: the token count must be 0..1000000, not %s\n", argv[3]);
        return 2;
    }
#ifdef RADLADS_NO_TOKENIZER
    if (!(st_bytes = read_file(dir, "model.safetensors", &n_st)) || !(cfg_text = read_file(dir, "config.json", &n_cfg))) {
        free(st_bytes);
        return 1;
    }
    if (rl_model_from_memory(&model, st_bytes, n_st, (const char *)cfg_text, n_cfg, 0, dir) != RL_OK) {
        free(st_bytes);
        free(cfg_text);
        return fail(dir);
    }
    if (parse_ids(prompt, &ids, &n_ids)) {
        fprintf(stderr, "generate: this build takes the prompt as token ids (\"1 15 42\"), not '%s'\n", prompt);
        free(ids);
        rl_model_free(&model);
        free(st_bytes);
        free(cfg_text);
        return 2;
    }
#else
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (rl_model_load(&model, dir, 0) != RL_OK) return fail(dir);
    if (rl_tokenizer_load(&tok, path) != RL_OK) {
        rl_model_free(&model);
        return fail(path);
    }
    rl_detok_init(&out, 0);
#endif
    pool = rl_pool_create(0); /* all cores; NULL (out of memory) runs single-threaded */
    rl_ctx_init(&ctx, pool);
    rl_rng_seed(&rng, 42);
    logits = (float *)malloc(sizeof(float) * (size_t)model.cfg.vocab_size);
    if (!logits) {
        fprintf(stderr, "generate: out of memory\n");
        goto done;
    }
#ifndef RADLADS_NO_TOKENIZER
    if (rl_tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, &n_ids) != RL_OK) {
        fail("prompt");
        goto done;
    }
#endif
    /* students need no cache: their state is fixed-size */
    if (rl_state_init(&state, &model, n_ids + n) != RL_OK) {
        fail("state");
        goto done;
    }
    printf("%s", prompt);
    if (rl_model_step(&ctx, &model, &state, ids, n_ids, logits) != RL_OK) { /* prefill the prompt */
        fail("prefill");
        goto done_state;
    }
    for (i = 0; i < n; i++) {
        next = rl_sample(logits, model.cfg.vocab_size, &sampler, &rng);
        if (model.cfg.n_eos && next == model.cfg.eos_ids[0]) break;
#ifdef RADLADS_NO_TOKENIZER
        printf(" %d", (int)next);
#else
        if (rl_detok_push(tok, &out, next, &text, &len) != RL_OK) { /* whole UTF-8 characters only */
            fail("decode");
            goto done_state;
        }
        fwrite(text, 1, len, stdout);
#endif
        fflush(stdout);
        if (rl_model_step(&ctx, &model, &state, &next, 1, logits) != RL_OK) { /* one token, constant cost */
            fail("decode step");
            goto done_state;
        }
    }
    printf("\n");
    rc = 0;
done_state:
    rl_state_free(&state);
done:
    free(logits);
    rl_ctx_free(&ctx);
    rl_model_free(&model);
    rl_pool_free(pool);
#ifdef RADLADS_NO_TOKENIZER
    free(ids);
    free(st_bytes); /* after the model: its frozen matrices point into these bytes */
    free(cfg_text);
#else
    rl_free(ids);
    rl_detok_free(&out);
    rl_tokenizer_free(tok);
#endif
    return rc;
}
