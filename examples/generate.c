/* examples/generate.c - embed radlads.h, load a model (a Hugging Face teacher or a
   converted RAD-RWKV student) and continue a prompt.
     cc -O2 -o generate examples/generate.c -lm -lpthread
     ./generate MODEL_DIR "Once upon a time" 100
   Every call that can fail returns an rl_status; rl_last_error() says what went wrong. */
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
#include <stdio.h>

static int fail(const char *what) {
    fprintf(stderr, "generate: %s: %s\n", what, rl_last_error());
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/tiny-teacher", *prompt = argc > 2 ? argv[2] : "ROMEO:";
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 64, i;
    char path[1024];
    rl_model model;
    rl_tokenizer *tok = NULL;
    rl_pool *pool;
    rl_ctx ctx;
    rl_state state;
    rl_rng rng;
    rl_detok out;
    rl_sampler sampler = {0.8f, 0.95f, 40}; /* temperature, top_p, top_k */
    int32_t *ids = NULL, next;
    int64_t n_ids = 0;
    float *logits;
    const char *text;
    size_t len;
    int rc = 1;

    if (n < 0 || n > 1000000) {
        fprintf(stderr, "generate: the token count must be 0..1000000, not %s\n", argv[3]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (rl_model_load(&model, dir, 0) != RL_OK) return fail(dir);
    if (rl_tokenizer_load(&tok, path) != RL_OK) {
        rl_model_free(&model);
        return fail(path);
    }
    pool = rl_pool_create(0); /* all cores; NULL (out of memory) runs single-threaded */
    rl_ctx_init(&ctx, pool);
    rl_rng_seed(&rng, 42);
    rl_detok_init(&out, 0);
    logits = (float *)malloc(sizeof(float) * (size_t)model.cfg.vocab_size);
    if (!logits) {
        fprintf(stderr, "generate: out of memory\n");
        goto done;
    }
    if (rl_tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, &n_ids) != RL_OK) {
        fail("prompt");
        goto done;
    }
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
        if (rl_detok_push(tok, &out, next, &text, &len) != RL_OK) { /* whole UTF-8 characters only */
            fail("decode");
            goto done_state;
        }
        fwrite(text, 1, len, stdout);
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
    free(ids);
    rl_detok_free(&out);
    rl_ctx_free(&ctx);
    rl_tokenizer_free(tok);
    rl_model_free(&model);
    rl_pool_free(pool);
    return rc;
}
