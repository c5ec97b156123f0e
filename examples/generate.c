/* examples/generate.c - embed radlads.h, load a model (a Hugging Face teacher or a
   converted RAD-RWKV student) and continue a prompt.
     cc -O2 -o generate examples/generate.c -lm -lpthread
     ./generate MODEL_DIR "Once upon a time" 100 */
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
#include <stdio.h>

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/tiny-teacher", *prompt = argc > 2 ? argv[2] : "ROMEO:";
    int n = argc > 3 ? atoi(argv[3]) : 64, i;
    char path[1024];
    rl_model model;
    rl_tokenizer *tok;
    rl_pool *pool = rl_pool_create(0); /* all cores */
    rl_ctx ctx;
    rl_state state;
    rl_rng rng;
    rl_detok out;
    rl_sampler sampler = {0.8f, 0.95f, 40}; /* temperature, top_p, top_k */
    int32_t *ids, next;
    int64_t n_ids;
    float *logits;
    const char *text;
    size_t len;

    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (rl_model_load(&model, dir, 0) != RL_OK || rl_tokenizer_load(&tok, path) != RL_OK) {
        fprintf(stderr, "error: %s\n", rl_last_error());
        return 1;
    }
    rl_tokenizer_encode(tok, prompt, strlen(prompt), 1, &ids, &n_ids);
    rl_ctx_init(&ctx, pool);
    rl_state_init(&state, &model, n_ids + n); /* students need no cache: their state is fixed-size */
    rl_rng_seed(&rng, 42);
    rl_detok_init(&out, 0);
    logits = (float *)malloc(sizeof(float) * (size_t)model.cfg.vocab_size);

    printf("%s", prompt);
    rl_model_step(&ctx, &model, &state, ids, n_ids, logits); /* prefill the prompt */
    for (i = 0; i < n; i++) {
        next = rl_sample(logits, model.cfg.vocab_size, &sampler, &rng);
        if (model.cfg.n_eos && next == model.cfg.eos_ids[0]) break;
        rl_detok_push(tok, &out, next, &text, &len); /* whole UTF-8 characters only */
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        rl_model_step(&ctx, &model, &state, &next, 1, logits); /* one token, constant cost */
    }
    printf("\n");

    free(logits);
    free(ids);
    rl_detok_free(&out);
    rl_state_free(&state);
    rl_ctx_free(&ctx);
    rl_tokenizer_free(tok);
    rl_model_free(&model);
    rl_pool_free(pool);
    return 0;
}
