/* libFuzzer target: the tokenizer. The first input byte picks what the rest is:
     even: a tokenizer.json. A refusal must be RL_ERR_FORMAT/UNSUPPORTED with a message that
           names the source; an accepted tokenizer must encode fixed texts and the input itself
           into ids that are all tokens, decode them, and stream-decode to the same text.
     odd:  UTF-8-ish text, encoded with the fixture tokenizers (tests/fixtures/tok: qwen2,
           llama3, gpt2). For llama3 and gpt2 (no normalizer) the ids' bytes put together
           are exactly the input; for every tokenizer decode == streaming decode, and
           add_special only adds the template ids.
   Besides, no crash, leak or undefined behaviour (ASan + UBSan).
   Build and run: tests/fuzz/run_tokenizer.sh [SECONDS] (from the repository root). */
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#ifndef RL__UNICODE_VERSION /* the tokenizer section is not in radlads.h yet */
#endif

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

static rl_tokenizer *fixed[3];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const char *paths[3] = {"tests/fixtures/tok/qwen2.json", "tests/fixtures/tok/llama3.json",
                                   "tests/fixtures/tok/gpt2.json"};
    int i;
    (void)argc;
    (void)argv;
    for (i = 0; i < 3; i++) {
        if (rl_tokenizer_load(&fixed[i], paths[i]) != RL_OK) {
            fprintf(stderr, "fuzz_tokenizer: run from the repository root (%s)\n", rl_last_error());
            abort();
        }
    }
    return 0;
}

/* decode == streaming decode, for both skip_special settings */
static void check_decode(const rl_tokenizer *t, const int32_t *ids, int64_t n) {
    int skip;
    for (skip = 0; skip < 2; skip++) {
        char *full = NULL, *acc;
        size_t fl = 0, al = 0, l;
        const char *piece;
        rl_detok d;
        int64_t i;
        fz_check(rl_tokenizer_decode(t, ids, n, skip, &full, &fl) == RL_OK && full[fl] == 0);
        acc = (char *)malloc(fl + 1);
        rl_detok_init(&d, skip);
        for (i = 0; i < n; i++) {
            fz_check(rl_detok_push(t, &d, ids[i], &piece, &l) == RL_OK);
            fz_check(al + l <= fl && !memcmp(full + al, piece, l));
            al += l;
        }
        fz_check(rl_detok_flush(&d, &piece, &l) == RL_OK && al + l == fl && !memcmp(full + al, piece, l));
        rl_detok_free(&d);
        free(acc);
        RL_FREE(full);
    }
}

static void check_encode(const rl_tokenizer *t, const char *text, size_t len, int exact) {
    int32_t *ids = NULL, *ids2 = NULL;
    int64_t n = 0, n2 = 0, i, o = 0;
    int nv = rl_tokenizer_vocab_size(t);
    fz_check(rl_tokenizer_encode(t, text, len, 0, &ids, &n) == RL_OK && ids);
    for (i = 0; i < n; i++) {
        int ty = rl_tokenizer_token_type(t, ids[i]);
        fz_check(ids[i] >= 0 && ids[i] < nv && ty != RL_TOKEN_UNUSED && ty != 0 && rl_tokenizer_token(t, ids[i]));
    }
    if (exact) { /* the tokens' bytes are the input, byte for byte */
        for (i = 0; i < n; i++) {
            const uint32_t off = t->dec_off[ids[i]], nb = t->dec_len[ids[i]];
            fz_check((size_t)(o + nb) <= len && !memcmp(text + o, t->dec + off, nb));
            o += nb;
        }
        fz_check((size_t)o == len);
    }
    check_decode(t, ids, n);
    fz_check(rl_tokenizer_encode(t, text, len, 1, &ids2, &n2) == RL_OK);
    fz_check(n2 == n + t->n_prefix + t->n_suffix && !memcmp(ids2 + t->n_prefix, ids, (size_t)n * sizeof *ids));
    RL_FREE(ids);
    RL_FREE(ids2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text;
    size_t len;
    int i;
    if (size == 0) return 0;
    text = (const char *)data + 1;
    len = size - 1;
    if (data[0] & 1) {
        for (i = 0; i < 3; i++) check_encode(fixed[i], text, len, i != 0);
    } else {
        rl_tokenizer *t = (rl_tokenizer *)1;
        rl_status s = rl_tokenizer_load_mem(&t, text, len, "fuzz.json");
        if (s != RL_OK) {
            fz_check(t == NULL && (s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED || s == RL_ERR_NOMEM));
            fz_check(s == RL_ERR_NOMEM || strstr(rl_last_error(), "fuzz.json") != NULL);
            return 0;
        }
        static const char fixed_text[] = "Hello world! It's 2024, don't   panic.\n\n<|im_start|>x\xcc\x81 \xe4\xbd\xa0\xe5\xa5\xbd";
        check_encode(t, fixed_text, sizeof fixed_text - 1, 0);
        check_encode(t, text, len < 4096 ? len : 4096, 0);
        {
            int32_t odd[4] = {-1, 0, 1 << 30, 5};
            check_decode(t, odd, 4);
        }
        rl_tokenizer_free(t);
    }
    return 0;
}
