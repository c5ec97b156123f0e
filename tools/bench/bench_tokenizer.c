/* bench_tokenizer TOKENIZER_JSON TEXT_FILE [MAX_BYTES] [REPEATS]
   Encodes the first MAX_BYTES (default 1,000,000; cut back to a character boundary) of
   TEXT_FILE with the tokenizer, REPEATS times (default 5), and prints one line:
       load_s encode_s(best) decode_s bytes n_ids fnv1a64(ids) roundtrip(0/1)
   tools/bench/bench_tokenizer.py runs it beside Hugging Face tokenizers on the same text.
   The text is read as bytes (no newline translation). */
#include "bench.h"

int main(int argc, char **argv) {
    rl_tokenizer *tok;
    FILE *f;
    char *text, *dec = NULL;
    size_t n, max = argc > 3 ? (size_t)atol(argv[3]) : 1000000, dl = 0;
    int reps = argc > 4 ? atoi(argv[4]) : 5, r;
    int32_t *ids = NULL;
    int64_t m = 0, i;
    double t0, tl, best = 1e30, td;
    uint64_t h = 0xcbf29ce484222325ull;
    if (argc < 3) {
        fprintf(stderr, "usage: %s TOKENIZER_JSON TEXT_FILE [MAX_BYTES] [REPEATS]\n", argv[0]);
        return 2;
    }
    t0 = now();
    if (rl_tokenizer_load(&tok, argv[1]) != RL_OK) {
        fprintf(stderr, "%s\n", rl_last_error());
        return 1;
    }
    tl = now() - t0;
    if (!(f = fopen(argv[2], "rb"))) {
        perror(argv[2]);
        return 1;
    }
    text = (char *)malloc(max + 1);
    n = fread(text, 1, max, f);
    fclose(f);
    { /* drop a character that the cut left incomplete */
        size_t p = n;
        while (p > 0 && ((unsigned char)text[p - 1] & 0xC0) == 0x80) p--;
        if (p > 0) {
            unsigned c = (unsigned char)text[p - 1];
            size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (p - 1 + need > n) n = p - 1;
        }
    }
    for (r = 0; r < reps; r++) {
        RL_FREE(ids);
        t0 = now();
        if (rl_tokenizer_encode(tok, text, n, 0, &ids, &m) != RL_OK) {
            fprintf(stderr, "%s\n", rl_last_error());
            return 1;
        }
        if (now() - t0 < best) best = now() - t0;
    }
    t0 = now();
    rl_tokenizer_decode(tok, ids, m, 0, &dec, &dl);
    td = now() - t0;
    for (i = 0; i < m; i++) h = (h ^ (uint32_t)ids[i]) * 0x100000001b3ull;
    printf("%.4f %.4f %.4f %zu %lld %016llx %d\n", tl, best, td, n, (long long)m, (unsigned long long)h,
           dl == n && !memcmp(dec, text, n));
    RL_FREE(ids);
    RL_FREE(dec);
    free(text);
    rl_tokenizer_free(tok);
    return 0;
}
