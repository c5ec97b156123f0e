/* Tokenizer (wip/tokenizer.h): token ids and decoded text equal to Hugging Face `tokenizers`
   on every fixture (tests/fixtures/tok, made by tools/ref/make_tokenizers.py), the Unicode
   tables, streaming decode, the GGUF-style vocabulary constructor, and clear errors on bad
   tokenizer.json files. Real text (tests/fixtures/tok/corpus.json) is read by byte offsets
   from ../shared/data (or $RADLADS_DATA); those groups are skipped when the data is absent. */
#define RADLADS_INTERNAL
#include "../radlads.h"
#include "rl_test.h"
#include <time.h>

#define TOKDIR "tests/fixtures/tok/"
static const char *names[3] = {"qwen2", "llama3", "gpt2"};
static rl_tokenizer *toks[3];

static int32_t *json_ids(const rl_json *a, int64_t *n) {
    int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)(a->n + 1));
    int64_t i;
    for (i = 0; i < a->n; i++) ids[i] = (int32_t)a->kids[i].i;
    *n = a->n;
    return ids;
}

static int str_equal(const char *s, size_t n, const rl_json *want) {
    return want && want->type == RL_JSON_STR && (size_t)want->n == n && !memcmp(want->str, s, n);
}

/* Encode text and compare with want; decode the ids and compare with want_dec (if given). */
static void check_encode(const rl_tokenizer *t, const char *what, const char *text, size_t len, int add_special,
                         const rl_json *want, const rl_json *want_dec) {
    int32_t *ids = NULL;
    int64_t n = 0;
    rl_status st = rl_tokenizer_encode(t, text, len, add_special, &ids, &n);
    RLT_CHECK(st == RL_OK, "%s: encode failed: %s", what, rl_last_error());
    if (st) return;
    RLT_CHECK(rlt_ids_equal(ids, n, want), "%s: ids differ from HF (%lld ids, HF %lld) for '%.60s'", what, (long long)n,
              want ? (long long)want->n : -1LL, text);
    if (want_dec) {
        char *dec = NULL;
        size_t dl = 0;
        st = rl_tokenizer_decode(t, ids, n, 0, &dec, &dl);
        RLT_CHECK(st == RL_OK && str_equal(dec, dl, want_dec), "%s: decode differs from HF: '%.60s'", what, dec ? dec : "");
        rl_free(dec);
    }
    rl_free(ids);
}

static void check_decode(const rl_tokenizer *t, const char *what, const rl_json *ids_j, int skip, const rl_json *want) {
    int64_t n;
    int32_t *ids = json_ids(ids_j, &n);
    char *dec = NULL;
    size_t dl = 0;
    rl_status st = rl_tokenizer_decode(t, ids, n, skip, &dec, &dl);
    RLT_CHECK(st == RL_OK && str_equal(dec, dl, want), "%s: decode(skip_special=%d) '%.60s' vs HF '%.60s'", what, skip,
              dec ? dec : "", want && want->str ? want->str : "");
    RLT_CHECK(st != RL_OK || dec[dl] == 0, "%s: decode output NUL-terminated", what);
    rl_free(dec);
    { /* streaming decode gives the same bytes */
        rl_detok d;
        char *acc = (char *)malloc(4 * dl + 64);
        size_t al = 0, l;
        const char *piece;
        int64_t i;
        rl_detok_init(&d, skip);
        for (i = 0; i < n; i++) {
            if (rl_detok_push(t, &d, ids[i], &piece, &l) != RL_OK) break;
            if (al + l > 4 * dl + 60) break;
            memcpy(acc + al, piece, l);
            al += l;
        }
        if (rl_detok_flush(&d, &piece, &l) == RL_OK && al + l <= 4 * dl + 60) {
            memcpy(acc + al, piece, l);
            al += l;
        }
        RLT_CHECK(i == n && str_equal(acc, al, want), "%s: streaming decode differs (skip_special=%d)", what, skip);
        rl_detok_free(&d);
        free(acc);
    }
    free(ids);
}

static rl_status load_doc(rl_json_doc *doc, const char *path) {
    rl_status st = rl_json_parse_file(doc, path, 0);
    if (st) printf("FAIL %s: %s\n", path, rl_last_error());
    return st;
}

/* ---- Unicode tables ---- */
static const uint32_t *uprops, *udecomp; /* the library's tables (rl__unicode_tables) */
static size_t n_uprops, n_udecomp;

static unsigned uprop_by_runs(uint32_t cp) { /* the run table alone, without the ASCII shortcut */
    size_t i = 0;
    while (i + 1 < n_uprops && (uprops[i + 1] >> 8) <= cp) i++;
    return uprops[i] & 0xFF;
}

static void test_unicode(void) {
    static const struct { uint32_t cp; unsigned props; } cls[] = {
        {'A', 1 | 8}, {'z', 1 | 8}, {'5', 2 | 4 | 8}, {'_', 8}, {' ', 3}, {'\t', 3}, {'\n', 3}, {0x0B, 3}, {0x1C, 0},
        {0x85, 3}, {0xA0, 3}, {0xAD, 0}, {0x17F, 1 | 8}, {0xB2, 2 | 4}, {0xBD, 2 | 4}, {0x660, 2 | 4 | 8},
        {0x2162, 2 | 4 | 8}, {0x1680, 3}, {0x180E, 0}, {0x200B, 0}, {0x200D, 8}, {0x2028, 3}, {0x3000, 3},
        {0xFEFF, 0}, {0x4E00, 1 | 8}, {0xAC00, 1 | 8}, {0x1C89, 1 | 8} /* Unicode 16 */, {0x24D0, 8},
        {0x1D7D8, 2 | 4 | 8}, {0x11DE0, 4} /* numeric for Rust only */, {0x0301, 8 | 16}, {0x0345, 8 | 16},
        {0x1161, 1 | 8 | 16}, {0x11A8, 1 | 8 | 16}, {0x212B, 1 | 8 | 16}, {0xE000, 0}, {0x10FFFF, 0}};
    size_t i;
    char group[160];
    snprintf(group, sizeof group, "tokenizer Unicode tables (%s)", rl__unicode_tables(&uprops, &n_uprops, &udecomp, &n_udecomp));
    rlt_begin(group);
    for (i = 0; i < sizeof cls / sizeof cls[0]; i++)
        RLT_CHECK(rl__uprop(cls[i].cp) == cls[i].props, "U+%04X: properties %u, want %u", cls[i].cp, rl__uprop(cls[i].cp),
                  cls[i].props);
    for (i = 0; i < 0x3000; i++)
        RLT_CHECK(rl__uprop((uint32_t)i) == uprop_by_runs((uint32_t)i), "U+%04X: lookup differs from the runs", (unsigned)i);
    for (i = 1; i < n_uprops; i++)
        RLT_CHECK((uprops[i] >> 8) > (uprops[i - 1] >> 8), "property runs sorted at %zu", i);
    for (i = 1; i < n_udecomp / 3; i++)
        RLT_CHECK((udecomp[3 * i] & 0x7FFFFFFF) > (udecomp[3 * i - 3] & 0x7FFFFFFF), "decompositions sorted");
    RLT_CHECK(rl__uccc_of(0x301) == 230 && rl__uccc_of(0x316) == 220 && rl__uccc_of(0x345) == 240 && rl__uccc_of('a') == 0,
              "combining classes");
    RLT_CHECK(rl__uccc_of(0x1DFA) == 0, "U+1DFA (Unicode 14) has no class in HF's Unicode 9.0 NFC");
    RLT_CHECK(rl__ucompose('e', 0x301) == 0xE9 && rl__ucompose(0x1100, 0x1161) == 0xAC00 &&
                  rl__ucompose(0xAC00, 0x11A8) == 0xAC01 && rl__ucompose(0xAC01, 0x11A8) == 0 && rl__ucompose(0x3A9, 0x301) == 0x38F,
              "composition pairs and Hangul");
    RLT_CHECK(rl__ucompose(0x105D2, 0x307) == 0, "Unicode 16 composite U+105C9 unknown to HF's NFC");
    rlt_end();
}

/* NFC (the C code against HF's normalizer) and the regexes on the unicode cases of corpus.json */
static void test_nfc(const rl_json *ucases) {
    rl__enc e;
    int64_t k;
    rlt_begin("tokenizer NFC equals HF (unicode cases)");
    memset(&e, 0, sizeof e);
    for (k = 0; k < ucases->n; k++) {
        const rl_json *c = &ucases->kids[k], *text = rl_json_get(c, "text"), *nfc = rl_json_get(c, "nfc");
        const unsigned char *o;
        size_t on;
        if (!nfc) nfc = text;
        RLT_CHECK(rl__nfc(&e, (const unsigned char *)text->str, (size_t)text->n, &o, &on) == RL_OK &&
                      on == (size_t)nfc->n && !memcmp(o, nfc->str, on),
                  "case %lld: NFC differs", (long long)k);
    }
    { /* all cases in one long text: the segments between cut points are normalized alone */
        size_t cap = 16, ln = 0, lw = 0;
        char *in = NULL, *want = NULL;
        const unsigned char *o;
        size_t on;
        for (k = 0; k < ucases->n; k++) cap += (size_t)rl_json_get(&ucases->kids[k], "text")->n * 4 + 8;
        in = (char *)malloc(cap);
        want = (char *)malloc(cap);
        for (k = 0; k < ucases->n; k++) {
            const rl_json *text = rl_json_get(&ucases->kids[k], "text"), *nfc = rl_json_get(&ucases->kids[k], "nfc");
            if (!nfc) nfc = text;
            memcpy(in + ln, " | ", 3);
            memcpy(want + lw, " | ", 3);
            memcpy(in + ln + 3, text->str, (size_t)text->n);
            memcpy(want + lw + 3, nfc->str, (size_t)nfc->n);
            ln += 3 + (size_t)text->n;
            lw += 3 + (size_t)nfc->n;
        }
        RLT_CHECK(rl__nfc(&e, (const unsigned char *)in, ln, &o, &on) == RL_OK && on == lw && !memcmp(o, want, lw),
                  "NFC of all cases in one text");
        free(in);
        free(want);
    }
    { /* canonical reordering, Hangul, singletons, exclusions, a stray byte in the middle */
        static const char *in[] = {"a\xcc\x81\xcc\x96", "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xe2\x84\xab",
                                   "\xcd\x84", "e\xff\xcc\x81", "\xcc\x81" "a"};
        static const char *out[] = {"\xc3\xa1\xcc\x96", "\xea\xb0\x81", "\xc3\x85", "\xcc\x88\xcc\x81", "e\xff\xcc\x81",
                                    "\xcc\x81" "a"};
        size_t i;
        for (i = 0; i < sizeof in / sizeof in[0]; i++) {
            const unsigned char *o;
            size_t on;
            RLT_CHECK(rl__nfc(&e, (const unsigned char *)in[i], strlen(in[i]), &o, &on) == RL_OK && on == strlen(out[i]) &&
                          !memcmp(o, out[i], on),
                      "NFC example %zu", i);
        }
    }
    rl__enc_free(&e);
    rlt_end();
}

static void test_cases(const rl_json *cases, const rl_json *dcases) {
    int ti;
    int64_t k;
    for (ti = 0; ti < 3; ti++) {
        char group[128], key[64];
        snprintf(group, sizeof group, "tokenizer %s: encode/decode = HF on cases.json", names[ti]);
        rlt_begin(group);
        for (k = 0; k < cases->n; k++) {
            const rl_json *c = &cases->kids[k], *text = rl_json_get(c, "text");
            char what[96];
            snprintf(what, sizeof what, "%s case %lld", names[ti], (long long)k);
            snprintf(key, sizeof key, "%s_decoded", names[ti]);
            check_encode(toks[ti], what, text->str, (size_t)text->n, 0, rl_json_get(c, names[ti]), rl_json_get(c, key));
            check_decode(toks[ti], what, rl_json_get(c, names[ti]), 0, rl_json_get(c, key));
            snprintf(key, sizeof key, "%s_decoded_skip_special", names[ti]);
            check_decode(toks[ti], what, rl_json_get(c, names[ti]), 1, rl_json_get(c, key));
            snprintf(key, sizeof key, "%s_decoded", names[ti]);
            /* round trip: the text itself unless the normalizer (qwen2: NFC) changed it */
            if (ti != 0) RLT_CHECK(str_equal(text->str, (size_t)text->n, rl_json_get(c, key)), "%s: round trip", what);
            if (ti == 0) { /* qwen2: the round trip gives NFC(text) */
                rl__enc e;
                const unsigned char *o;
                size_t on;
                memset(&e, 0, sizeof e);
                RLT_CHECK(rl__nfc(&e, (const unsigned char *)text->str, (size_t)text->n, &o, &on) == RL_OK &&
                              str_equal((const char *)o, on, rl_json_get(c, key)),
                          "%s: round trip = NFC(text)", what);
                rl__enc_free(&e);
            }
            if (ti == 1) { /* add_special: the template prepends <|begin_of_text|> */
                snprintf(what, sizeof what, "llama3 case %lld with bos", (long long)k);
                check_encode(toks[1], what, text->str, (size_t)text->n, 1, rl_json_get(c, "llama3_with_bos"), NULL);
            }
            if (ti != 1) { /* no template: add_special changes nothing */
                snprintf(what, sizeof what, "%s case %lld add_special", names[ti], (long long)k);
                check_encode(toks[ti], what, text->str, (size_t)text->n, 1, rl_json_get(c, names[ti]), NULL);
            }
        }
        for (k = 0; k < dcases->n; k++) {
            const rl_json *c = &dcases->kids[k];
            const char *tn = rl_json_get(c, "tokenizer")->str;
            char what[64];
            if (strcmp(tn, names[ti])) continue;
            snprintf(what, sizeof what, "%s decode case %lld", tn, (long long)k);
            check_decode(toks[ti], what, rl_json_get(c, "ids"), 0, rl_json_get(c, "decoded"));
        }
        rlt_end();
    }
}

static uint64_t fnv1a64(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static double now_s(void) { return (double)clock() / CLOCKS_PER_SEC; }

static void test_corpus(const rl_json *corpus) {
    const rl_json *files = rl_json_get(corpus, "files"), *samples = rl_json_get(corpus, "samples");
    const char *env = getenv("RADLADS_DATA");
    char dir[1024], path[1200], *blob[2] = {NULL, NULL};
    size_t blen[2] = {0, 0};
    int f, ti;
    int64_t k;
    snprintf(dir, sizeof dir, "%s", env && *env ? env : "../shared/data");
    for (f = 0; f < 2; f++) {
        const rl_json *fi = rl_json_get(files, f ? "shakespeare" : "wiki");
        char want[32];
        snprintf(path, sizeof path, "%s/%s", dir, rl_json_get(fi, "path")->str);
        blob[f] = rlt_read_all(path, &blen[f]);
        if (!blob[f]) {
            char why[1300];
            snprintf(why, sizeof why, "%s not found (set RADLADS_DATA to the shared data folder)", path);
            rlt_skip("tokenizer real text = HF (corpus.json)", why);
            goto done;
        }
        snprintf(want, sizeof want, "%016llx", (unsigned long long)fnv1a64(blob[f], blen[f]));
        if ((int64_t)blen[f] != rl_json_get(fi, "size")->i || strcmp(want, rl_json_get(fi, "fnv1a64")->str)) {
            char why[1300];
            snprintf(why, sizeof why, "%s is not the file the fixture was made from", path);
            rlt_skip("tokenizer real text = HF (corpus.json)", why);
            goto done;
        }
    }
    for (ti = 0; ti < 3; ti++) {
        char group[128];
        int64_t n_ids = 0, bytes = 0;
        snprintf(group, sizeof group, "tokenizer %s: real text = HF (wikitext-2, tinyshakespeare)", names[ti]);
        rlt_begin(group);
        for (k = 0; k < samples->n; k++) {
            const rl_json *c = &samples->kids[k];
            int fi = strcmp(rl_json_get(c, "file")->str, "wiki") ? 1 : 0;
            int64_t a = rl_json_get(c, "start")->i, b = rl_json_get(c, "end")->i;
            char what[96];
            const rl_json *want = rl_json_get(c, names[ti]);
            if (a < 0 || b < a || b > (int64_t)blen[fi]) {
                RLT_CHECK(0, "sample %lld: bad offsets", (long long)k);
                continue;
            }
            snprintf(what, sizeof what, "%s sample %lld (%s %lld..%lld)", names[ti], (long long)k, fi ? "shakespeare" : "wiki",
                     (long long)a, (long long)b);
            {
                rl_json dec; /* the text is NFC already, so every tokenizer decodes back to it */
                memset(&dec, 0, sizeof dec);
                dec.type = RL_JSON_STR;
                dec.str = blob[fi] + a;
                dec.n = b - a;
                check_encode(toks[ti], what, blob[fi] + a, (size_t)(b - a), 0, want, &dec);
            }
            n_ids += want->n;
            bytes += b - a;
        }
        rlt_end();
        (void)n_ids;
        (void)bytes;
    }
done:
    free(blob[0]);
    free(blob[1]);
}

/* Encoding speed (reported, never asserted): 1 MB of English through each tokenizer. */
static void report_speed(void) {
    const char *env = getenv("RADLADS_DATA");
    char path[1200];
    size_t n = 0;
    char *text;
    int ti;
    snprintf(path, sizeof path, "%s/wikitext-2-raw/wiki.test.raw", env && *env ? env : "../shared/data");
    if (!getenv("RLT_TOK_SPEED") || !(text = rlt_read_all(path, &n))) return;
    if (n > 1000000) n = 1000000;
    for (ti = 0; ti < 3; ti++) {
        int32_t *ids;
        int64_t m;
        double t0 = now_s(), dt;
        if (rl_tokenizer_encode(toks[ti], text, n, 0, &ids, &m) != RL_OK) continue;
        dt = now_s() - t0;
        fprintf(stderr, "  %s: %zu bytes -> %lld ids in %.3f s = %.1f MB/s\n", names[ti], n, (long long)m, dt, n / dt / 1e6);
        rl_free(ids);
    }
    free(text);
}

/* The pre-tokenizer alone (no normalizer, no added tokens): where each piece ends. Walks the
   library's stages as rl__pretok_run does, collecting pieces instead of running BPE. */
typedef struct { int64_t end[1024]; int n; } pieces_t;
static void collect_pieces(const rl_tokenizer *t, int stage, const unsigned char *base, const unsigned char *s, size_t n,
                           pieces_t *p) {
    size_t i = 0, j;
    while (i < n) {
        if (!(j = rl__pretok_split(t, stage, s, n, i))) { /* past the last stage: one piece */
            if (p->n < 1024) p->end[p->n++] = (int64_t)(s + n - base);
            return;
        }
        collect_pieces(t, stage + 1, base, s + i, j - i, p);
        i = j;
    }
}

static void test_pretok(const rl_json *ucases) {
    int ti;
    int64_t k, i;
    static pieces_t p;
    rlt_begin("tokenizer pre-tokenizer pieces = HF pre_tokenize_str (unicode cases)");
    for (ti = 0; ti < 3; ti++)
        for (k = 0; k < ucases->n; k++) {
            const rl_json *c = &ucases->kids[k], *text = rl_json_get(c, "text"), *want;
            char key[64];
            int ok;
            snprintf(key, sizeof key, "%s_pretok", names[ti]);
            want = rl_json_get(c, key);
            p.n = 0;
            collect_pieces(toks[ti], 0, (const unsigned char *)text->str, (const unsigned char *)text->str, (size_t)text->n, &p);
            ok = want && want->n == p.n;
            for (i = 0; ok && i < p.n; i++) ok = want->kids[i].i == p.end[i];
            RLT_CHECK(ok, "%s unicode case %lld: pieces differ (%d pieces, HF %lld)", names[ti], (long long)k, p.n,
                      want ? (long long)want->n : -1LL);
        }
    rlt_end();
}

static void test_unicode_cases(const rl_json *ucases) {
    int ti;
    int64_t k;
    rlt_begin("tokenizer regex classes, contractions, Digits = HF (unicode cases)");
    for (ti = 0; ti < 3; ti++)
        for (k = 0; k < ucases->n; k++) {
            const rl_json *c = &ucases->kids[k], *text = rl_json_get(c, "text"), *dec;
            char what[64], key[64];
            snprintf(what, sizeof what, "%s unicode case %lld", names[ti], (long long)k);
            snprintf(key, sizeof key, "%s_decoded", names[ti]);
            dec = rl_json_get(c, key);
            check_encode(toks[ti], what, text->str, (size_t)text->n, 0, rl_json_get(c, names[ti]), dec ? dec : text);
        }
    rlt_end();
}

static void test_flags(const rl_json *fcases) {
    rl_tokenizer *t = NULL;
    int64_t k;
    rlt_begin("tokenizer added-token flags (lstrip, rstrip, single_word, normalized) = HF");
    RLT_CHECK(rl_tokenizer_load(&t, TOKDIR "flags.json") == RL_OK, "load flags.json: %s", rl_last_error());
    if (t) {
        RLT_CHECK(rl_tokenizer_id(t, "\xc3\xa9") == rl__vocab_find(t, "\xc3\xa9", 2) && rl_tokenizer_id(t, "<mask>") == 605,
                  "added token ids as HF assigns them");
        for (k = 0; k < fcases->n; k++) {
            const rl_json *c = &fcases->kids[k], *text = rl_json_get(c, "text");
            char what[64];
            snprintf(what, sizeof what, "flag case %lld", (long long)k);
            check_encode(t, what, text->str, (size_t)text->n, 0, rl_json_get(c, "ids"), rl_json_get(c, "decoded"));
            check_decode(t, what, rl_json_get(c, "ids"), 1, rl_json_get(c, "decoded_skip_special"));
        }
        rl_tokenizer_free(t);
    }
    rlt_end();
}

/* GGUF-style construction from the loaded tokenizers' token lists and merges */
static void test_from_vocab(const rl_json *cases) {
    static const rl_pretok kinds[3] = {RL_PRETOK_QWEN2, RL_PRETOK_LLAMA3, RL_PRETOK_SMOLLM};
    int ti;
    rlt_begin("tokenizer from vocabulary + merges (GGUF form) = tokenizer.json");
    for (ti = 0; ti < 3; ti++) {
        const rl_tokenizer *src = toks[ti];
        int nv = rl_tokenizer_vocab_size(src), nm = rl_tokenizer_n_merges(src), i;
        const char **tokens = (const char **)malloc(sizeof(char *) * (size_t)nv);
        char **merges = (char **)malloc(sizeof(char *) * (size_t)(nm + 1));
        int32_t *types = (int32_t *)malloc(sizeof(int32_t) * (size_t)nv);
        rl_tokenizer *t = NULL;
        int64_t k;
        RLT_CHECK(rl_tokenizer_pretok(src) == kinds[ti], "%s: preset detected (%d)", names[ti], (int)rl_tokenizer_pretok(src));
        for (i = 0; i < nv; i++) {
            tokens[i] = rl_tokenizer_token(src, i) ? rl_tokenizer_token(src, i) : "";
            types[i] = rl_tokenizer_token_type(src, i);
        }
        for (i = 0; i < nm; i++) {
            const char *a, *b;
            rl_tokenizer_merge(src, i, &a, &b);
            merges[i] = (char *)malloc(strlen(a) + strlen(b) + 2);
            sprintf(merges[i], "%s %s", a, b);
        }
        RLT_CHECK(rl_tokenizer_from_vocab(&t, nv, tokens, types, nm, (const char *const *)merges, kinds[ti],
                                          rl_tokenizer_bos(src), 1) == RL_OK,
                  "%s: from_vocab: %s", names[ti], rl_last_error());
        if (t) {
            RLT_CHECK(rl_tokenizer_vocab_size(t) == nv && rl_tokenizer_n_merges(t) == nm && rl_tokenizer_pretok(t) == kinds[ti],
                      "%s: sizes", names[ti]);
            for (k = 0; k < cases->n; k++) {
                const rl_json *c = &cases->kids[k], *text = rl_json_get(c, "text");
                char what[64];
                snprintf(what, sizeof what, "%s (from vocab) case %lld", names[ti], (long long)k);
                check_encode(t, what, text->str, (size_t)text->n, 1, rl_json_get(c, ti == 1 ? "llama3_with_bos" : names[ti]),
                             NULL);
            }
            rl_tokenizer_free(t);
        }
        for (i = 0; i < nm; i++) free(merges[i]);
        free(merges);
        free(tokens);
        free(types);
    }
    {
        rl_tokenizer *t = NULL;
        const char *tk[] = {"a", "b"}, *bad[] = {"a b c"};
        RLT_CHECK(rl_tokenizer_from_vocab(&t, 2, tk, NULL, 1, bad, RL_PRETOK_GPT2, -1, 0) == RL_ERR_FORMAT && !t &&
                      strstr(rl_last_error(), "merges[0]"),
                  "bad merge line: %s", rl_last_error());
    }
    rlt_end();
}

static void test_api(void) {
    const rl_tokenizer *q = toks[0], *l = toks[1], *g = toks[2];
    int32_t *ids = NULL;
    int64_t n = 0;
    char *s = NULL;
    size_t sl;
    rlt_begin("tokenizer queries, invalid UTF-8 input, odd ids");
    RLT_CHECK(rl_tokenizer_vocab_size(q) == 605 && rl_tokenizer_vocab_size(l) == 605 && rl_tokenizer_vocab_size(g) == 600,
              "vocab sizes %d %d %d", rl_tokenizer_vocab_size(q), rl_tokenizer_vocab_size(l), rl_tokenizer_vocab_size(g));
    RLT_CHECK(rl_tokenizer_id(q, "<|im_start|>") == 601 && rl_tokenizer_id(q, "\xc4\xa0the") >= 0 &&
                  rl_tokenizer_id(q, "no such token") == -1,
              "ids");
    RLT_CHECK(!strcmp(rl_tokenizer_token(q, 602), "<|im_end|>") && rl_tokenizer_token(q, 605) == NULL &&
                  rl_tokenizer_token(q, -1) == NULL,
              "token strings");
    RLT_CHECK(rl_tokenizer_token_type(q, 600) == RL_TOKEN_CONTROL && rl_tokenizer_token_type(q, 603) == RL_TOKEN_USER_DEFINED &&
                  rl_tokenizer_token_type(q, 5) == RL_TOKEN_NORMAL && rl_tokenizer_token_type(g, 0) == RL_TOKEN_CONTROL,
              "token types");
    RLT_CHECK(rl_tokenizer_bos(l) == 603 && rl_tokenizer_bos(q) == -1, "bos");
    RLT_CHECK(!strcmp(rl_pretok_name(rl_tokenizer_pretok(l)), "llama-bpe") && !strcmp(rl_pretok_name(RL_PRETOK_SMOLLM), "smollm") &&
                  rl_pretok_name(RL_PRETOK_CUSTOM) == NULL && rl_pretok_from_name("llama-v3") == RL_PRETOK_LLAMA3 &&
                  rl_pretok_from_name("qwen2") == RL_PRETOK_QWEN2 && rl_pretok_from_name("deepseek-llm") == RL_PRETOK_CUSTOM,
              "GGUF pre-tokenizer names");
    /* bytes that are not UTF-8: encoded as their byte tokens, decoded with U+FFFD like HF */
    RLT_CHECK(rl_tokenizer_encode(g, "a\xff" "b\xc3", 4, 0, &ids, &n) == RL_OK && n >= 3, "encode invalid UTF-8");
    RLT_CHECK(rl_tokenizer_decode(g, ids, n, 0, &s, &sl) == RL_OK && sl == 8 && !memcmp(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8),
              "decode repairs with U+FFFD");
    rl_free(s);
    rl_free(ids);
    {
        int32_t odd[] = {-5, 99999, 605, 65};
        RLT_CHECK(rl_tokenizer_decode(q, odd, 4, 0, &s, &sl) == RL_OK && sl == 1 && s[0] == 'b', "unknown ids skipped ('%s')", s);
        rl_free(s);
    }
    RLT_CHECK(rl_tokenizer_encode(q, NULL, 0, 0, &ids, &n) == RL_OK && ids && n == 0, "empty text");
    rl_free(ids);
    RLT_CHECK(rl_tokenizer_encode(q, NULL, 3, 0, &ids, &n) == RL_ERR_ARG, "NULL text with length");
    {   /* long runs: one word of 100k letters, 100k spaces, 100k digits */
        size_t big = 100000, i;
        char *buf = (char *)malloc(big);
        int ok = 1;
        const char fill[3] = {'a', ' ', '7'};
        for (i = 0; i < 3 && ok; i++) {
            memset(buf, fill[i], big);
            ok = rl_tokenizer_encode(l, buf, big, 0, &ids, &n) == RL_OK && n > 0;
            if (ok) ok = rl_tokenizer_decode(l, ids, n, 0, &s, &sl) == RL_OK && sl == big && !memcmp(s, buf, big);
            rl_free(ids);
            rl_free(s);
            s = NULL;
        }
        RLT_CHECK(ok, "long runs round trip");
        free(buf);
    }
    rlt_end();
}

static void expect_err(const char *json, rl_status want, const char *needle) {
    rl_tokenizer *t = (rl_tokenizer *)1;
    rl_status st = rl_tokenizer_load_mem(&t, json, strlen(json), "tok.json");
    RLT_CHECK(st == want && t == NULL && strstr(rl_last_error(), needle),
              "want %s with '%s', got %s: %s", rl_status_name(want), needle, rl_status_name(st), rl_last_error());
}

#define BASE_PRE "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},\"decoder\":{\"type\":\"ByteLevel\"}"
#define BASE_MODEL "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}"

static void test_errors(void) {
    rlt_begin("tokenizer bad tokenizer.json: clear errors");
    expect_err("{\"model\": ", RL_ERR_FORMAT, "tok.json:1:");
    expect_err("[1,2]", RL_ERR_FORMAT, "top");
    expect_err("{" BASE_PRE "}", RL_ERR_FORMAT, "model: missing");
    expect_err("{\"model\":{\"type\":\"BPE\",\"merges\":[]}," BASE_PRE "}", RL_ERR_FORMAT, "model.vocab");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}}," BASE_PRE "}", RL_ERR_FORMAT, "model.merges");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a c\"]}," BASE_PRE "}", RL_ERR_FORMAT,
               "model.merges[0]: token 'c' is not in model.vocab");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\"]]}," BASE_PRE "}",
               RL_ERR_FORMAT, "merged token 'ab' is not in model.vocab");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b c\"]}," BASE_PRE "}",
               RL_ERR_FORMAT, "model.merges[0]");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[7]}," BASE_PRE "}",
               RL_ERR_FORMAT, "model.merges[0]");
    expect_err("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}," BASE_PRE "}", RL_ERR_UNSUPPORTED,
               "model.type: 'WordPiece' is not supported (supported: BPE)");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}," BASE_PRE "}", RL_ERR_FORMAT, "out of range");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}," BASE_PRE "}", RL_ERR_FORMAT,
               "both have id 0");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}," BASE_PRE "}", RL_ERR_FORMAT,
               "model.vocab[\"a\"]");
    expect_err("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":90000000},\"merges\":[]}," BASE_PRE "}", RL_ERR_FORMAT,
               "too sparse");
    expect_err("{\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{},\"merges\":[]}," BASE_PRE "}",
               RL_ERR_UNSUPPORTED, "byte_fallback");
    expect_err("{\"version\":\"2.0\"," BASE_MODEL "," BASE_PRE "}", RL_ERR_UNSUPPORTED, "version");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":"
               "[{\"type\":\"Metaspace\"}]}}",
               RL_ERR_UNSUPPORTED,
               "pre_tokenizer.pretokenizers[0].type: 'Metaspace' is not supported (supported: ByteLevel, Split, Digits, Sequence)");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":"
               "[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\w+\"},\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\"}]}}",
               RL_ERR_UNSUPPORTED, "pretokenizers[0].pattern.Regex");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":"
               "{\"String\":\" \"},\"behavior\":\"Isolated\"}}",
               RL_ERR_UNSUPPORTED, "pre_tokenizer.pattern");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":{\"type\":\"Digits\"}}", RL_ERR_UNSUPPORTED,
               "no ByteLevel");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":null}", RL_ERR_UNSUPPORTED, "pre_tokenizer");
    expect_err("{" BASE_MODEL ",\"decoder\":{\"type\":\"ByteLevel\"},\"pre_tokenizer\":{\"type\":\"ByteLevel\","
               "\"add_prefix_space\":true}}",
               RL_ERR_UNSUPPORTED, "add_prefix_space");
    expect_err("{" BASE_MODEL "," BASE_PRE ",\"normalizer\":{\"type\":\"NFKC\"}}", RL_ERR_UNSUPPORTED,
               "normalizer.type: 'NFKC' is not supported");
    expect_err("{" BASE_MODEL ",\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"decoder\":{\"type\":\"WordPiece\"}}",
               RL_ERR_UNSUPPORTED, "decoder.type");
    expect_err("{" BASE_MODEL "," BASE_PRE ",\"post_processor\":{\"type\":\"BertProcessing\"}}", RL_ERR_UNSUPPORTED,
               "post_processor.type");
    expect_err("{" BASE_MODEL "," BASE_PRE ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":"
               "[{\"SpecialToken\":{\"id\":\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{}}}",
               RL_ERR_FORMAT, "'<s>'");
    expect_err("{" BASE_MODEL "," BASE_PRE ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":"
               "[{\"SpecialToken\":{\"id\":\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"ids\":[77]}}}}",
               RL_ERR_FORMAT, "template id 77");
    expect_err("{" BASE_MODEL "," BASE_PRE ",\"added_tokens\":[{\"id\":5}]}", RL_ERR_FORMAT, "added_tokens[0].content");
    {
        rl_tokenizer *t = NULL;
        RLT_CHECK(rl_tokenizer_load(&t, "tests/fixtures/tok/no-such-file.json") == RL_ERR_IO && !t &&
                      strstr(rl_last_error(), "no-such-file.json"),
                  "missing file: %s", rl_last_error());
        RLT_CHECK(rl_tokenizer_load_mem(&t, "{" BASE_MODEL "," BASE_PRE "}", strlen("{" BASE_MODEL "," BASE_PRE "}"), NULL) ==
                      RL_OK && t,
                  "the minimal file loads: %s", rl_last_error());
        if (t) {
            int32_t *ids;
            int64_t n;
            RLT_CHECK(rl_tokenizer_encode(t, "abba c", 6, 1, &ids, &n) == RL_OK && n == 3 && ids[0] == 2 && ids[1] == 1 &&
                          ids[2] == 0,
                      "unknown bytes vanish without unk_token (as HF)");
            rl_free(ids);
            rl_tokenizer_free(t);
        }
        RLT_CHECK(rl_tokenizer_load(&t, "tests/fixtures/tiny-qwen2") == RL_OK && t && rl_tokenizer_pretok(t) == RL_PRETOK_QWEN2,
                  "load from a model folder: %s", rl_last_error());
        rl_tokenizer_free(t);
    }
    rlt_end();
}

int main(void) {
    rl_json_doc cases, corpus;
    int i, ok = 1;
    char path[256];
    test_unicode();
    rlt_begin("tokenizer load tokenizer.json fixtures");
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, TOKDIR "%s.json", names[i]);
        RLT_CHECK(rl_tokenizer_load(&toks[i], path) == RL_OK, "%s: %s", path, rl_last_error());
        ok &= toks[i] != NULL;
    }
    rlt_end();
    if (!ok || load_doc(&cases, TOKDIR "cases.json") || load_doc(&corpus, TOKDIR "corpus.json")) return 1;
    test_nfc(rl_json_get(&corpus.root, "unicode_cases"));
    test_cases(rl_json_get(&cases.root, "cases"), rl_json_get(&cases.root, "decode_cases"));
    test_unicode_cases(rl_json_get(&corpus.root, "unicode_cases"));
    test_pretok(rl_json_get(&corpus.root, "unicode_cases"));
    test_flags(rl_json_get(&corpus.root, "flag_cases"));
    test_api();
    test_from_vocab(rl_json_get(&cases.root, "cases"));
    test_errors();
    test_corpus(&corpus.root);
    report_speed();
    for (i = 0; i < 3; i++) rl_tokenizer_free(toks[i]);
    rl_json_free(&cases);
    rl_json_free(&corpus);
    return rlt_exit();
}
