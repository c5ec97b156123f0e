/* Section 4 (formats): JSON, safetensors reader/writer, config.json.
   Fixtures: tests/fixtures (see tools/ref/README.md); bad files are made from good ones in a
   temporary folder under /tmp that is removed at the end. */
#include "../radlads.h"
#include "rl_test.h"
#include <dirent.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static char tmpdir[256];
static char made[128][512]; /* files and folders to remove at the end (folders last) */
static int n_made;

static const char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void remember(const char *path) {
    int i;
    for (i = 0; i < n_made; i++)
        if (!strcmp(made[i], path)) return;
    if (n_made < 128) snprintf(made[n_made++], 512, "%s", path);
}

static int write_all(const char *path, const void *data, size_t len) {
    remember(path);
    return rlt_write_all(path, data, len);
}

static int write_str(const char *path, const char *s) { return write_all(path, s, strlen(s)); }

static int copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = rlt_read_all(from, &n);
    int ok = b && write_all(to, b, n);
    free(b);
    return ok;
}

/* a safetensors image: 8-byte length, the header as given, data_len bytes 0,1,2,... */
static unsigned char *make_st(const char *header, size_t data_len, size_t *len) {
    size_t h = strlen(header), i;
    unsigned char *b = (unsigned char *)malloc(8 + h + data_len + 1);
    for (i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (i = 0; i < data_len; i++) b[8 + h + i] = (unsigned char)i;
    *len = 8 + h + data_len;
    return b;
}

/* ---- JSON ---- */

static void test_json_valid(void) {
    rl_json_doc d;
    const char *t;
    rlt_begin("json valid documents");
    {
        const rl_json *a;
        t = " [0, -0, 1, -1, 123456789012, 9223372036854775807, -9223372036854775808, 9223372036854775808,"
            " 1.5, -2.5e-3, 1E2, 1e+2, 0.1, 1e-400, true, false, null, {}, [], \"\"] ";
        RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK, "numbers: %s", rl_last_error());
        a = d.root.kids;
        RLT_CHECK(d.root.type == RL_JSON_ARR && d.root.n == 20, "20 elements");
        RLT_CHECK(a[0].is_int && a[0].i == 0 && a[1].is_int && a[1].i == 0 && signbit(a[1].num), "0 and -0");
        RLT_CHECK(a[2].i == 1 && a[3].i == -1 && a[4].i == 123456789012LL, "small ints");
        RLT_CHECK(a[5].is_int && a[5].i == INT64_MAX && a[6].is_int && a[6].i == INT64_MIN, "int64 limits");
        RLT_CHECK(!a[7].is_int && a[7].num == 9223372036854775808.0, "2^63 is not an int64 but a number");
        RLT_CHECK(!a[8].is_int && a[8].num == 1.5 && a[9].num == -2.5e-3, "fractions");
        RLT_CHECK(!a[10].is_int && a[10].num == 100 && a[11].num == 100, "exponents are not ints");
        RLT_CHECK(a[12].num == 0.1 && a[13].num == 0.0, "0.1 exact as strtod, underflow to 0");
        RLT_CHECK(a[14].type == RL_JSON_BOOL && a[14].num == 1 && a[15].num == 0 && a[16].type == RL_JSON_NULL, "literals");
        RLT_CHECK(a[17].type == RL_JSON_OBJ && a[17].n == 0 && a[18].type == RL_JSON_ARR && a[18].n == 0, "empty containers");
        RLT_CHECK(a[19].type == RL_JSON_STR && a[19].n == 0 && a[19].str[0] == 0, "empty string");
        rl_json_free(&d);
    }
    {
        static const unsigned char want[] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 'A', 0xC3, 0xA9, 0xE2, 0x82, 0xAC,
                                             0xF0, 0x9F, 0x98, 0x80, 0, 'x', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80};
        t = "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u0000x\xC3\xA9\xF0\x9F\x98\x80\"";
        RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK, "escapes: %s", rl_last_error());
        RLT_CHECK(d.root.type == RL_JSON_STR && d.root.n == (int64_t)sizeof want && !memcmp(d.root.str, want, sizeof want) &&
                      d.root.str[sizeof want] == 0,
                  "escapes decode (n %lld)", (long long)d.root.n);
        rl_json_free(&d);
    }
    {
        char deep[2 * RL_JSON_MAX_DEPTH + 1];
        memset(deep, '[', RL_JSON_MAX_DEPTH);
        memset(deep + RL_JSON_MAX_DEPTH, ']', RL_JSON_MAX_DEPTH);
        RLT_CHECK(rl_json_parse(&d, deep, 2 * RL_JSON_MAX_DEPTH, "t") == RL_OK, "nesting of exactly %d: %s", RL_JSON_MAX_DEPTH, rl_last_error());
        rl_json_free(&d);
        t = "{\"a\": {\"b\": [1, {\"c\": \"d\"}]}, \"e\": 2}";
        RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK, "nested objects");
        {
            const rl_json *b = rl_json_get(rl_json_get(&d.root, "a"), "b");
            RLT_CHECK(b && b->n == 2 && !strcmp(rl_json_get(&b->kids[1], "c")->str, "d"), "nested lookup");
            RLT_CHECK(!strcmp(d.root.keys[0], "a") && !strcmp(d.root.keys[1], "e") && d.root.klen[1] == 1, "key order kept");
            RLT_CHECK(rl_json_get(&d.root, "x") == NULL && rl_json_get(b, "a") == NULL, "absent key / not an object");
        }
        rl_json_free(&d);
    }
    /* keys with \u0000 keep their length */
    t = "{\"a\\u0000b\": 1, \"a\": 2}";
    RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK && d.root.n == 2 && d.root.klen[0] == 3 && d.n_dup == 0,
              "a key with NUL is not the same key as its prefix");
    RLT_CHECK(rl_json_get(&d.root, "a") && rl_json_get(&d.root, "a")->i == 2, "lookup by full key");
    rl_json_free(&d);
    /* cases.json: written with ensure_ascii, every non-ASCII char is a \u escape (surrogate pairs for emoji) */
    RLT_CHECK(rl_json_parse_file(&d, "tests/fixtures/tok/cases.json", 0) == RL_OK, "cases.json: %s", rl_last_error());
    {
        const rl_json *cases = rl_json_get(&d.root, "cases");
        static const unsigned char c15[] = {0xd9, 0xa3, 0xd9, 0xa4, 0xd9, 0xa5, 0x20, 0xe2, 0x85, 0xab, 0x20, 0xc2, 0xbd, 0x20,
                                            0xc2, 0xb2, 0x20, 0xc2, 0xb3, 0x20, 0xe2, 0x91, 0xa0, 0x20, 0xf0, 0x9d, 0x9f, 0x98};
        static const unsigned char c29[] = "ctrl\x00\x01\x07\x1b[0m\x7f end";
        static const unsigned char c36[] = {0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x98, 0x80,
                                            0xf0, 0x9f, 0x9a, 0x80, 0xf0, 0x9f, 0x9a, 0x80, 0xf0, 0x9f, 0x9a, 0x80};
        const rl_json *s15, *s29, *s36;
        RLT_CHECK(cases && cases->type == RL_JSON_ARR && cases->n == 57, "57 cases");
        RLT_CHECK(rl_json_get(&d.root, "decode_cases") && rl_json_get(&d.root, "decode_cases")->n == 15, "15 decode cases");
        if (cases && cases->n == 57) {
            s15 = rl_json_get(&cases->kids[15], "text");
            s29 = rl_json_get(&cases->kids[29], "text");
            s36 = rl_json_get(&cases->kids[36], "text");
            RLT_CHECK(s15 && s15->n == 28 && !memcmp(s15->str, c15, 28), "case 15 (digits, U+1D7D8 via surrogate pair)");
            RLT_CHECK(s29 && s29->n == 16 && !memcmp(s29->str, c29, 16), "case 29 (control bytes incl. \\u0000)");
            RLT_CHECK(s36 && s36->n == 24 && !memcmp(s36->str, c36, 24), "case 36 (emoji surrogate pairs)");
            RLT_CHECK(rl_json_get(&cases->kids[1], "llama3_with_bos")->kids[0].i == 603, "ids are ints");
        }
    }
    rl_json_free(&d);
    /* a raw-UTF-8 tokenizer file with a 600-key vocab (hash path of the duplicate check) */
    RLT_CHECK(rl_json_parse_file(&d, "tests/fixtures/tok/qwen2.json", 0) == RL_OK, "qwen2.json: %s", rl_last_error());
    {
        const rl_json *vocab = rl_json_get(rl_json_get(&d.root, "model"), "vocab");
        RLT_CHECK(vocab && vocab->n == 600 && !rl_json_has_dup(&d), "600 vocab entries, no duplicates");
    }
    rl_json_free(&d);
    RLT_CHECK(rl_json_parse_file(&d, "tests/fixtures/tok/no-such.json", 0) == RL_ERR_IO && rlt_err_has("no-such.json", "cannot open"),
              "missing file: %s", rl_last_error());
    RLT_CHECK(rl_json_parse_file(&d, "tests/fixtures/tok/qwen2.json", 1000) == RL_ERR_FORMAT && rlt_err_has("qwen2.json", "limit"),
              "size limit: %s", rl_last_error());
    /* the decimal point does not follow the locale */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        t = "[1.5, 2.25e1]";
        RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK && d.root.kids[0].num == 1.5 && d.root.kids[1].num == 22.5,
                  "numbers under a comma-decimal locale");
        rl_json_free(&d);
        setlocale(LC_NUMERIC, "C");
    }
    rlt_end();
}

static void test_json_dup(void) {
    rl_json_doc d;
    const char *t = "{\"a\": 1, \"b\": 2,\n \"a\": 3}";
    char big[2048];
    int k, o;
    rlt_begin("json duplicate keys (last wins, reported)");
    RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK, "duplicates parse");
    RLT_CHECK(d.root.n == 2 && !strcmp(d.root.keys[0], "a") && d.root.kids[0].i == 3 && d.root.kids[1].i == 2,
              "one member per key, first position, last value");
    RLT_CHECK(rl_json_has_dup(&d) && d.n_dup == 1 && d.dup_key && !strcmp(d.dup_key, "a") && d.dup_line == 2 && d.dup_col == 2,
              "reported at 2:2 (got %d:%d)", d.dup_line, d.dup_col);
    rl_json_free(&d);
    /* a large object goes through the hash table */
    o = snprintf(big, sizeof big, "{\"x\": {");
    for (k = 0; k < 40; k++) o += snprintf(big + o, sizeof big - (size_t)o, "\"k%d\": %d, ", k, k);
    o += snprintf(big + o, sizeof big - (size_t)o, "\"k7\": 700, \"k39\": 3900}}");
    RLT_CHECK(rl_json_parse(&d, big, (size_t)o, "t") == RL_OK, "large object");
    {
        const rl_json *x = rl_json_get(&d.root, "x");
        RLT_CHECK(x && x->n == 40 && d.n_dup == 2 && !strcmp(d.dup_key, "k7"), "two duplicates in 42 members (n %lld)", x ? (long long)x->n : -1LL);
        RLT_CHECK(x && rl_json_get(x, "k7")->i == 700 && rl_json_get(x, "k39")->i == 3900 && !strcmp(x->keys[7], "k7"), "last wins");
    }
    rl_json_free(&d);
    t = "{\"a\": 1, \"a\": 2, \"b\": {\"c\": 1, \"c\": 2}}";
    RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK && d.n_dup == 2 && !strcmp(d.dup_key, "a") && d.dup_col == 10,
              "the duplicate written first is reported, not the inner object's (%s at %d)", d.dup_key, d.dup_col);
    rl_json_free(&d);
    t = "{\"a\": 1, \"b\": 2}";
    RLT_CHECK(rl_json_parse(&d, t, strlen(t), "t") == RL_OK && !rl_json_has_dup(&d) && d.dup_key == NULL, "no duplicates");
    rl_json_free(&d);
    rlt_end();
}

static void test_json_errors(void) {
    static const struct {
        const char *text;
        const char *want; /* "t:line:col: text" prefix and words */
        const char *words;
    } bad[] = {
        {"[1, 2,]", "t:1:7:", "trailing comma"},
        {"{\"a\": 1,\n  }", "t:2:3:", "trailing comma"},
        {"[\"a\\qb\"]", "t:1:4:", "invalid escape"},
        {"[\"a\\u12\"]", "t:1:4:", "hex digits"},
        {"\"\\ud800\"", "t:1:2:", "lone high surrogate"},
        {"\"\\ud800\\u0041\"", "t:1:2:", "lone high surrogate"},
        {"\"x\\udc00\"", "t:1:3:", "lone low surrogate"},
        {"[\n \"\xff\"]", "t:2:3:", "invalid UTF-8"},
        {"\"\xc0\x80\"", "t:1:2:", "invalid UTF-8"},         /* overlong NUL */
        {"\"\xed\xa0\x80\"", "t:1:2:", "invalid UTF-8"},     /* encoded surrogate */
        {"\"\xe2\x82\"", "t:1:2:", "invalid UTF-8"},         /* truncated */
        {"\"\xf4\x90\x80\x80\"", "t:1:2:", "invalid UTF-8"}, /* > U+10FFFF */
        {"\"\x80\"", "t:1:2:", "invalid UTF-8"},             /* stray continuation */
        {"{\"a\": \"abc", "t:1:7:", "unterminated string"},
        {"\"abc\\", "t:1:1:", "unterminated string"},
        {"[01]", "t:1:2:", "leading zeros"},
        {"-012", "t:1:1:", "leading zeros"},
        {"[1, NaN]", "t:1:5:", "NaN"},
        {"Infinity", "t:1:1:", "Infinity"},
        {"[-Infinity]", "t:1:2:", "Infinity"},
        {"// c\n1", "t:1:1:", "comments"},
        {"[1 /* c */]", "t:1:4:", "expected ',' or ']'"},
        {"", "t:1:1:", "empty input"},
        {" \n ", "t:2:2:", "empty input"},
        {"1 2", "t:1:3:", "after the JSON value"},
        {"\"a\tb\"", "t:1:3:", "control character"},
        {"\xef\xbb\xbf{}", "t:1:1:", "byte order mark"},
        {"{\"a\" 1}", "t:1:6:", "expected ':'"},
        {"[1 2]", "t:1:4:", "expected ',' or ']'"},
        {"['a']", "t:1:2:", "double quotes"},
        {"[nul]", "t:1:2:", "invalid literal"},
        {"[1.]", "t:1:4:", "digit after '.'"},
        {"[.5]", "t:1:2:", "unexpected character '.'"},
        {"[1e]", "t:1:4:", "exponent"},
        {"[-]", "t:1:2:", "digit after '-'"},
        {"{1: 2}", "t:1:2:", "string key"},
        {"[1, 2", "t:1:6:", "end of input"},
        {"{\"a\": [1, {\"b\": 2}", "t:1:19:", "end of input"},
        {"1e400", "t:1:1:", "out of range"},
        {"[\"\xc3\xa9\", x]", "t:1:7:", "unexpected character 'x'"}, /* columns count characters */
        {"[\x01]", "t:1:2:", "byte 0x01"},
        {"[,1]", "t:1:2:", "unexpected ','"},
    };
    rl_json_doc d;
    size_t k;
    rlt_begin("json errors give line:column");
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rl_status s;
        memset(&d, 0x5A, sizeof d);
        s = rl_json_parse(&d, bad[k].text, strlen(bad[k].text), "t");
        RLT_CHECK(s == RL_ERR_FORMAT && !strncmp(rl_last_error(), bad[k].want, strlen(bad[k].want)) && rlt_err_has(bad[k].words),
                  "case %zu (%s): want '%s ... %s', got '%s'", k, bad[k].text, bad[k].want, bad[k].words, rl_last_error());
        RLT_CHECK(d.root.type == RL_JSON_NULL && d.arena.first == NULL, "case %zu: document left empty", k);
        rl_json_free(&d);
    }
    {
        /* depth bomb: 100k '[' stops at level 257 without using the C stack */
        size_t n = 100000;
        char *bomb = (char *)malloc(n);
        memset(bomb, '[', n);
        RLT_CHECK(rl_json_parse(&d, bomb, n, "bomb.json") == RL_ERR_FORMAT && rlt_err_has("bomb.json:1:257:", "nesting deeper than 256"),
                  "depth bomb: %s", rl_last_error());
        memset(bomb, '{', n); /* objects too, and mixed */
        RLT_CHECK(rl_json_parse(&d, bomb, n, "bomb.json") == RL_ERR_FORMAT, "object bomb");
        free(bomb);
    }
    {
        /* the text need not be NUL-terminated: a parse must not read past len */
        char *p = (char *)malloc(4);
        memcpy(p, "[1,2", 4);
        RLT_CHECK(rl_json_parse(&d, p, 4, "t") == RL_ERR_FORMAT, "unterminated buffer");
        memcpy(p, "\"ab\\", 4);
        RLT_CHECK(rl_json_parse(&d, p, 4, "t") == RL_ERR_FORMAT, "backslash at the end of the buffer");
        memcpy(p, "12.5", 4);
        RLT_CHECK(rl_json_parse(&d, p, 4, "t") == RL_OK && d.root.num == 12.5, "number at the end of the buffer");
        rl_json_free(&d);
        RLT_CHECK(rl_json_parse(&d, p, 3, "t") == RL_ERR_FORMAT && rlt_err_has("digit after '.'"), "number cut by len");
        free(p);
    }
    rlt_end();
}

static void test_json_access(void) {
    rl_json_doc d;
    const char *t = "{\"i\": 5, \"f\": 2.5, \"s\": \"x\", \"b\": true, \"n\": null, \"a\": [1, \"two\"]}";
    int64_t i;
    double f;
    int b;
    const char *s;
    rlt_begin("json typed access");
    RLT_CHECK(rl_json_parse(&d, t, strlen(t), "c.json") == RL_OK, "parse");
    RLT_CHECK(rl_json_get_int(&d.root, "i", "c.json", &i) == RL_OK && i == 5, "int");
    RLT_CHECK(rl_json_get_num(&d.root, "i", "c.json", &f) == RL_OK && f == 5, "int as number");
    RLT_CHECK(rl_json_get_num(&d.root, "f", "c.json", &f) == RL_OK && f == 2.5, "number");
    RLT_CHECK(rl_json_get_str(&d.root, "s", "c.json", &s) == RL_OK && !strcmp(s, "x"), "string");
    RLT_CHECK(rl_json_get_bool(&d.root, "b", "c.json", &b) == RL_OK && b == 1, "bool");
    RLT_CHECK(rl_json_get_int(&d.root, "f", "c.json", &i) == RL_ERR_FORMAT && !strcmp(rl_last_error(), "c.json: f: expected an integer, got 2.5"),
              "%s", rl_last_error());
    RLT_CHECK(rl_json_get_num(&d.root, "s", "c.json", &f) == RL_ERR_FORMAT && !strcmp(rl_last_error(), "c.json: s: expected a number, got a string"),
              "%s", rl_last_error());
    RLT_CHECK(rl_json_get_int(&d.root, "zz", "c.json", &i) == RL_ERR_FORMAT && !strcmp(rl_last_error(), "c.json: zz: missing (expected an integer)"),
              "%s", rl_last_error());
    RLT_CHECK(rl_json_get_bool(&d.root, "n", "c.json", &b) == RL_ERR_FORMAT && rlt_err_has("n: expected a boolean, got null"), "%s",
              rl_last_error());
    RLT_CHECK(rl_json_get_int_or(&d.root, "zz", "c.json", 42, &i) == RL_OK && i == 42, "default when absent");
    RLT_CHECK(rl_json_get_int_or(&d.root, "n", "c.json", 43, &i) == RL_OK && i == 43, "default when null");
    RLT_CHECK(rl_json_get_int_or(&d.root, "s", "c.json", 43, &i) == RL_ERR_FORMAT, "wrong type is still an error");
    RLT_CHECK(rl_json_get_str_or(&d.root, "zz", "c.json", NULL, &s) == RL_OK && s == NULL, "string default");
    RLT_CHECK(rl_json_get_bool_or(&d.root, "zz", "c.json", 1, &b) == RL_OK && b == 1, "bool default");
    RLT_CHECK(rl_json_get_num_or(&d.root, "zz", "c.json", 0.5, &f) == RL_OK && f == 0.5, "number default");
    RLT_CHECK(rl_json_as_str(&rl_json_get(&d.root, "a")->kids[0], "c.json", "a[0]", &s) == RL_ERR_FORMAT &&
                  !strcmp(rl_last_error(), "c.json: a[0]: expected a string, got a number"),
              "%s", rl_last_error());
    RLT_CHECK(rl_json_expect(rl_json_get(&d.root, "a"), RL_JSON_OBJ, "c.json", "a") == RL_ERR_FORMAT &&
                  !strcmp(rl_last_error(), "c.json: a: expected an object, got an array"),
              "%s", rl_last_error());
    RLT_CHECK(rl_json_expect(rl_json_get(&d.root, "a"), RL_JSON_ARR, "c.json", "a") == RL_OK, "expect ok");
    rl_json_free(&d);
    rl_json_free(&d); /* twice is harmless */
    rlt_end();
}

/* ---- safetensors ---- */

static const char *const fixture_files[] = {
    "tests/fixtures/mixers/rwkv6.safetensors",          "tests/fixtures/mixers/rwkv7a.safetensors",
    "tests/fixtures/mixers/rwkv7b.safetensors",         "tests/fixtures/mixers/rwkv7a_l0.safetensors",
    "tests/fixtures/tiny-qwen2/model.safetensors",      "tests/fixtures/tiny-qwen2/ref.safetensors",
    "tests/fixtures/tiny-qwen2/hidden.safetensors",     "tests/fixtures/tiny-qwen2-bf16/model.safetensors",
    "tests/fixtures/tiny-qwen2-bf16/ref.safetensors",   "tests/fixtures/tiny-qwen2-bf16/hidden.safetensors",
    "tests/fixtures/tiny-llama/model.safetensors",      "tests/fixtures/tiny-llama/ref.safetensors",
    "tests/fixtures/tiny-llama/hidden.safetensors",     "tests/fixtures/tiny-llama-sharded/model-00001-of-00003.safetensors",
    "tests/fixtures/tiny-llama-sharded/model-00002-of-00003.safetensors",
    "tests/fixtures/tiny-llama-sharded/model-00003-of-00003.safetensors",
    "tests/fixtures/tiny-llama-sharded/ref.safetensors",
};
#define N_FIXTURES ((int)(sizeof fixture_files / sizeof fixture_files[0]))

static void test_st_fixtures(void) {
    rl_st st, st2;
    int f, i;
    rlt_begin("safetensors reads every fixture");
    for (f = 0; f < N_FIXTURES; f++) {
        int ok = 1;
        if (rl_st_open(&st, fixture_files[f]) != RL_OK) {
            RLT_CHECK(0, "%s: %s", fixture_files[f], rl_last_error());
            continue;
        }
        RLT_CHECK(rl_st_count(&st) > 0 && rl_st_meta(&st, "format") && !strcmp(rl_st_meta(&st, "format"), "pt"), "%s: tensors and metadata",
                  fixture_files[f]);
        for (i = 0; i < rl_st_count(&st); i++) {
            const rl_st_tensor *t = rl_st_at(&st, i);
            int64_t n = 1;
            int k;
            for (k = 0; k < t->ndim; k++) n *= t->shape[k];
            ok &= t->supported && t->n == n && t->nbytes == (uint64_t)n * (t->dtype == RL_F32 || t->dtype == RL_I32 ? 4 : 2);
            ok &= rl_st_find(&st, t->name) == t && t->aligned && t->file == 0;
            ok &= i == 0 || strcmp(rl_st_at(&st, i - 1)->name, t->name) < 0;
        }
        RLT_CHECK(ok, "%s: every entry consistent, sorted by name, findable", fixture_files[f]);
        rl_st_close(&st);
    }
    /* counts and spot values (values read once with Python's safetensors, as hex floats) */
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/tiny-qwen2/model.safetensors") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_st_count(&st) == 27, "qwen2: 27 tensors (got %d)", rl_st_count(&st));
    {
        float norm[64], emb[640 * 64], qb[64];
        int64_t s64[1] = {64}, se[2] = {640, 64};
        RLT_CHECK(rl_st_read_f32(&st, "model.norm.weight", norm, 1, s64) == RL_OK, "%s", rl_last_error());
        RLT_CHECK(norm[0] == 0x1.b0fd9ap-1f && norm[1] == 0x1.c3de6ap-1f && norm[2] == 0x1.08587cp+0f && norm[3] == 0x1.bedc14p-1f,
                  "model.norm.weight[0..3]");
        RLT_CHECK(rl_st_read_f32(&st, "model.embed_tokens.weight", emb, 2, se) == RL_OK && emb[639 * 64 + 63] == 0x1.92d38ep-4f,
                  "embed[639][63]");
        RLT_CHECK(rl_st_read_f32(&st, "model.layers.1.self_attn.q_proj.bias", qb, 1, s64) == RL_OK && qb[5] == 0x1.ffaabep-4f, "q bias[5]");
        RLT_CHECK(rl_st_find(&st, "lm_head.weight") && rl_st_find(&st, "lm_head.weight")->dtype == RL_F32, "untied lm_head");
    }
    rl_st_close(&st);
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/tiny-qwen2/ref.safetensors") == RL_OK, "%s", rl_last_error());
    {
        static const int32_t ids[22] = {50, 364, 24, 471, 410, 193, 232, 433, 427, 457, 26, 152, 125, 563, 208, 342, 431, 13, 126, 374, 501, 117};
        static const int32_t greedy[16] = {245, 245, 19, 418, 486, 191, 196, 245, 19, 603, 520, 59, 486, 520, 59, 45};
        int32_t got[22];
        int64_t s2[2] = {2, 11}, s1[1] = {16}, sl[3] = {2, 11, 640};
        float *logits = (float *)malloc(2 * 11 * 640 * sizeof(float));
        RLT_CHECK(rl_st_read_i32(&st, "input_ids", got, 2, s2) == RL_OK && !memcmp(got, ids, sizeof ids), "input_ids");
        RLT_CHECK(rl_st_read_i32(&st, "greedy", got, 1, s1) == RL_OK && !memcmp(got, greedy, sizeof greedy), "greedy");
        RLT_CHECK(rl_st_read_f32(&st, "logits", logits, 3, sl) == RL_OK && logits[(1 * 11 + 10) * 640 + 639] == 0x1.193fd8p-1f, "logits[1,10,639]");
        RLT_CHECK(rl_st_read_f32(&st, "input_ids", logits, 2, s2) == RL_ERR_UNSUPPORTED && rlt_err_has("input_ids", "I32", "cannot be read as floats"),
                  "I32 is not read as floats: %s", rl_last_error());
        free(logits);
    }
    rl_st_close(&st);
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/mixers/rwkv7a.safetensors") == RL_OK, "%s", rl_last_error());
    {
        int32_t v[1];
        float x;
        RLT_CHECK(rl_st_count(&st) == 101, "rwkv7a: 101 tensors");
        RLT_CHECK(rl_st_find(&st, "H")->ndim == 0 && rl_st_find(&st, "H")->n == 1, "scalars are 0-dim, one element");
        RLT_CHECK(rl_st_read_i32(&st, "H", v, 0, NULL) == RL_OK && v[0] == 4, "H = 4");
        RLT_CHECK(rl_st_read_i32(&st, "s.pos0", v, 0, NULL) == RL_OK && v[0] == 13, "s.pos0 = 13");
        RLT_CHECK(rl_st_read_f32(&st, "rope_theta", &x, 0, NULL) == RL_OK && x == 10000.0f, "rope_theta = 1e4");
        RLT_CHECK(rl_st_read_f32(&st, "ln_x_eps", &x, 0, NULL) == RL_OK && x == 8e-5f, "ln_x_eps = 8e-5");
    }
    rl_st_close(&st);
    /* folders: single file and the sharded copy of the same weights */
    RLT_CHECK(rl_st_open_dir(&st, "tests/fixtures/tiny-qwen2") == RL_OK && rl_st_count(&st) == 27 && st.n_files == 1, "open_dir single: %s",
              rl_last_error());
    rl_st_close(&st);
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/tiny-llama") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_st_count(&st) == 29 && !rl_st_find(&st, "lm_head.weight"), "llama: 29 tensors, tied (no lm_head)");
    RLT_CHECK(rl_st_open_dir(&st2, "tests/fixtures/tiny-llama-sharded") == RL_OK, "sharded: %s", rl_last_error());
    RLT_CHECK(st2.n_files == 3 && rl_st_count(&st2) == rl_st_count(&st), "3 shards, same tensors (%d)", rl_st_count(&st2));
    {
        int ok = 1, files_seen = 0;
        for (i = 0; i < rl_st_count(&st) && i < rl_st_count(&st2); i++) {
            const rl_st_tensor *a = rl_st_at(&st, i), *b = rl_st_at(&st2, i);
            ok &= !strcmp(a->name, b->name) && a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes &&
                  !memcmp(a->shape, b->shape, sizeof a->shape) && !memcmp(a->data, b->data, (size_t)a->nbytes);
            files_seen |= 1 << b->file;
        }
        RLT_CHECK(ok, "every sharded tensor equals the single-file one");
        RLT_CHECK(files_seen == 7, "tensors come from all three shards");
        RLT_CHECK(!strcmp(rl_st_file_path(&st2, 2), "tests/fixtures/tiny-llama-sharded/model-00003-of-00003.safetensors"), "shard path: %s",
                  rl_st_file_path(&st2, 2));
        RLT_CHECK(rl_st_find(&st2, "model.layers.2.mlp.down_proj.weight") != NULL, "find across shards");
    }
    rl_st_close(&st2);
    rl_st_close(&st);
    rl_st_close(&st); /* twice is harmless */
    rlt_end();
}

static void test_st_bf16(void) {
    rl_st a, b;
    int i, ok = 1, okt = 1;
    rlt_begin("safetensors bf16 and f16 conversion");
    RLT_CHECK(rl_st_open(&a, "tests/fixtures/tiny-qwen2/model.safetensors") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_st_open(&b, "tests/fixtures/tiny-qwen2-bf16/model.safetensors") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_st_count(&a) == rl_st_count(&b), "same tensors");
    for (i = 0; i < rl_st_count(&a) && i < rl_st_count(&b); i++) {
        const rl_st_tensor *ta = rl_st_at(&a, i), *tb = rl_st_at(&b, i);
        float *fa = (float *)malloc((size_t)ta->n * 4), *fb = (float *)malloc((size_t)tb->n * 4);
        int64_t k;
        okt &= !strcmp(ta->name, tb->name) && tb->dtype == RL_BF16 && tb->supported && !strcmp(tb->dtype_str, "BF16") && tb->nbytes == (uint64_t)tb->n * 2;
        if (rl_st_read_f32(&a, ta->name, fa, ta->ndim, ta->shape) != RL_OK || rl_st_read_f32(&b, ta->name, fb, ta->ndim, ta->shape) != RL_OK)
            ok = 0;
        else
            for (k = 0; k < ta->n; k++) { /* the bf16 file is the f32 weights rounded to nearest even */
                uint16_t raw;
                memcpy(&raw, (const unsigned char *)tb->data + 2 * k, 2);
                ok &= rlt_bits_of_f32(fb[k]) == rlt_bits_of_f32(rl_bf16_to_f32(rl_f32_to_bf16(fa[k]))) && rlt_bits_of_f32(fb[k]) == (uint32_t)raw << 16;
            }
        free(fa);
        free(fb);
    }
    RLT_CHECK(okt, "bf16 entries listed as RL_BF16");
    RLT_CHECK(ok, "bf16 read as f32 == f32 weights rounded to bf16 (every element of every tensor)");
    {
        const rl_st_tensor *t = rl_st_find(&b, "model.norm.weight");
        const uint16_t *h = (const uint16_t *)t->data;
        RLT_CHECK(h[0] == 0x3f58 && h[1] == 0x3f62 && h[2] == 0x3f84 && h[3] == 0x3f5f, "raw bf16 bits of model.norm.weight[0..3] (zero copy)");
    }
    rl_st_close(&a);
    rl_st_close(&b);
    {
        /* F16 and F64 through a file made by hand */
        static const uint16_t h[6] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0xFC00};
        static const float want[6] = {1.0f, -2.0f, 0.5f, 65504.0f, 0x1p-24f, -INFINITY};
        const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[12,20]}}";
        size_t len;
        unsigned char *img = make_st(hdr, 20, &len);
        double dv = -3.25;
        float got[6];
        int64_t s23[2] = {2, 3}, s1[1] = {1};
        rl_st st;
        memcpy(img + len - 20, h, 12);
        memcpy(img + len - 8, &dv, 8);
        RLT_CHECK(rl_st_open_memory(&st, img, len, "mem") == RL_OK, "%s", rl_last_error());
        RLT_CHECK(rl_st_find(&st, "h")->dtype == RL_F16 && rl_st_find(&st, "h")->supported, "F16 listed");
        RLT_CHECK(rl_st_read_f32(&st, "h", got, 2, s23) == RL_OK && !memcmp(got, want, sizeof want), "F16 values incl. max, subnormal, -inf");
        RLT_CHECK(!rl_st_find(&st, "d")->supported && !strcmp(rl_st_find(&st, "d")->dtype_str, "F64"), "F64 listed, not in place");
        RLT_CHECK(rl_st_read_f32(&st, "d", got, 1, s1) == RL_OK && got[0] == -3.25f, "F64 converted");
        rl_st_close(&st);
        free(img);
    }
    rlt_end();
}

static void test_st_writer(void) {
    /* formats.md §1.4, test_serialization_forced_alignement */
    static const char golden_hdr[] = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
    float data[6] = {0, 1, 2, 3, 4, 5};
    rl_st_entry e;
    unsigned char *buf, *file;
    size_t len, flen;
    int f, i;
    rlt_begin("safetensors writer: golden bytes, reference layout");
    memset(&e, 0, sizeof e);
    e.name = "attn0";
    e.dtype = RL_F32;
    e.ndim = 4;
    e.shape[0] = 1;
    e.shape[1] = 1;
    e.shape[2] = 2;
    e.shape[3] = 3;
    e.data = data;
    RLT_CHECK(sizeof golden_hdr - 1 == 72, "golden header is 72 bytes");
    RLT_CHECK(rl_st_serialize(&e, 1, NULL, RL_ST_WRITE_NO_FORMAT, &buf, &len) == RL_OK, "%s", rl_last_error());
    RLT_CHECK(len == 8 + 72 + 24 && buf[0] == 0x48 && !memcmp(buf + 1, "\0\0\0\0\0\0\0", 7) && !memcmp(buf + 8, golden_hdr, 72) &&
                  !memcmp(buf + 80, data, 24),
              "golden bytes (len %zu)", len);
    RLT_CHECK(rl_st_write(tmp_path("golden.safetensors"), &e, 1, NULL, RL_ST_WRITE_NO_FORMAT) == RL_OK, "%s", rl_last_error());
    remember(tmp_path("golden.safetensors"));
    file = rlt_read_all(tmp_path("golden.safetensors"), &flen);
    RLT_CHECK(file && flen == len && !memcmp(file, buf, len), "file == serialized image");
    free(file);
    free(buf);
    RLT_CHECK(rl_st_serialize(NULL, 0, NULL, RL_ST_WRITE_NO_FORMAT, &buf, &len) == RL_OK && len == 16 && buf[0] == 8 &&
                  !memcmp(buf + 8, "{}      ", 8),
              "empty file: 08 00.. {} + 6 spaces");
    free(buf);
    RLT_CHECK(rl_st_serialize(&e, 1, NULL, 0, &buf, &len) == RL_OK &&
                  !memcmp(buf + 8, "{\"__metadata__\":{\"format\":\"pt\"},\"attn0\":{", 41) && (len - 8 - 24) % 8 == 0,
              "format pt added first by default");
    free(buf);
    /* re-serializing every fixture (written by Python's safetensors.torch.save_file) gives the same bytes */
    for (f = 0; f < N_FIXTURES; f++) {
        rl_st st;
        rl_st_entry *es;
        unsigned char *orig;
        size_t olen;
        if (rl_st_open(&st, fixture_files[f]) != RL_OK) {
            RLT_CHECK(0, "%s", rl_last_error());
            continue;
        }
        es = (rl_st_entry *)calloc((size_t)rl_st_count(&st), sizeof *es);
        for (i = 0; i < rl_st_count(&st); i++) {
            const rl_st_tensor *t = rl_st_at(&st, i);
            es[i].name = t->name;
            es[i].dtype = t->dtype;
            es[i].ndim = t->ndim;
            memcpy(es[i].shape, t->shape, sizeof t->shape);
            es[i].data = t->data;
        }
        orig = rlt_read_all(fixture_files[f], &olen);
        RLT_CHECK(rl_st_serialize(es, rl_st_count(&st), NULL, 0, &buf, &len) == RL_OK && orig && len == olen && !memcmp(buf, orig, len),
                  "%s: re-serialized bytes differ (len %zu vs %zu)", fixture_files[f], len, olen);
        free(buf);
        free(orig);
        free(es);
        rl_st_close(&st);
    }
    rlt_end();
}

static int dir_has_tmp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d) return 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) found = 1;
    closedir(d);
    return found;
}

static void test_st_roundtrip(void) {
    float a[6] = {1.5f, -2, 3, 1e-30f, -0.0f, 7};
    uint16_t bf[4] = {0x3F80, 0xC000, 0x7F80, 0x0001};
    uint16_t hf[3] = {0x3C00, 0x0000, 0x8001};
    int32_t ids[5] = {0, -1, 2147483647, -2147483647 - 1, 42};
    float scalar = 3.25f;
    rl_st_entry e[7];
    const char *meta[] = {"zz", "last", "author", "radlads \"tests\"\n", "format", "pt", NULL};
    const char *path = tmp_path("rt.safetensors");
    rl_st st;
    int i;
    rlt_begin("safetensors round trip");
    memset(e, 0, sizeof e);
    e[0].name = "w.f32";
    e[0].dtype = RL_F32;
    e[0].ndim = 2;
    e[0].shape[0] = 2;
    e[0].shape[1] = 3;
    e[0].data = a;
    e[1].name = "w.bf16";
    e[1].dtype = RL_BF16;
    e[1].ndim = 1;
    e[1].shape[0] = 4;
    e[1].data = bf;
    e[2].name = "a.f16";
    e[2].dtype = RL_F16;
    e[2].ndim = 3;
    e[2].shape[0] = 1;
    e[2].shape[1] = 3;
    e[2].shape[2] = 1;
    e[2].data = hf;
    e[3].name = "ids";
    e[3].dtype = RL_I32;
    e[3].ndim = 1;
    e[3].shape[0] = 5;
    e[3].data = ids;
    e[4].name = "scalar";
    e[4].dtype = RL_F32;
    e[4].ndim = 0;
    e[4].data = &scalar;
    e[5].name = "empty";
    e[5].dtype = RL_F32;
    e[5].ndim = 2;
    e[5].shape[0] = 0;
    e[5].shape[1] = 5;
    e[6].name = "q\"uo\\te \xc3\xa9\t";
    e[6].dtype = RL_BF16;
    e[6].ndim = 1;
    e[6].shape[0] = 1;
    e[6].data = bf;
    RLT_CHECK(rl_st_write(path, e, 7, meta, 0) == RL_OK, "%s", rl_last_error());
    remember(path);
    RLT_CHECK(!dir_has_tmp_files(tmpdir), "no temporary file left behind");
    RLT_CHECK(rl_st_open(&st, path) == RL_OK, "%s", rl_last_error());
    RLT_CHECK(rl_st_count(&st) == 7, "7 tensors");
    for (i = 0; i < 7; i++) {
        const rl_st_tensor *t = rl_st_find(&st, e[i].name);
        size_t es = e[i].dtype == RL_F32 || e[i].dtype == RL_I32 ? 4 : 2;
        int64_t n = 1;
        int k;
        for (k = 0; k < e[i].ndim; k++) n *= e[i].shape[k];
        RLT_CHECK(t && t->dtype == e[i].dtype && t->ndim == e[i].ndim && !memcmp(t->shape, e[i].shape, sizeof t->shape) && t->n == n &&
                      (n == 0 || !memcmp(t->data, e[i].data, (size_t)n * es)) && t->aligned,
                  "tensor %s comes back unchanged", e[i].name);
    }
    RLT_CHECK(st.n_meta == 3 && !strcmp(rl_st_meta(&st, "author"), "radlads \"tests\"\n") && !strcmp(rl_st_meta(&st, "zz"), "last") &&
                  !strcmp(rl_st_meta(&st, "format"), "pt"),
              "metadata");
    {
        /* header order: metadata (keys sorted) first, then dtype descending (F32 > I32 > BF16 > F16), then names */
        size_t len;
        unsigned char *img = rlt_read_all(path, &len);
        const char *h = (const char *)img + 8;
        const char *order[] = {"\"__metadata__\":{\"author\"", "\"format\":\"pt\"", "\"zz\"", "\"empty\"", "\"scalar\":{\"dtype\":\"F32\",\"shape\":[]",
                               "\"w.f32\"", "\"ids\"", "\"q\\\"uo\\\\te \xc3\xa9\\t\"", "\"w.bf16\"", "\"a.f16\""};
        const char *prev = h;
        int ok = img != NULL;
        for (i = 0; ok && i < 10; i++) {
            const char *p = strstr(prev, order[i]);
            ok = p != NULL;
            if (p) prev = p;
        }
        RLT_CHECK(ok, "header order (failed at item %d)", i);
        free(img);
    }
    {
        /* rl_st_read_f32 converts every float type */
        float got[6];
        int64_t s4[1] = {4};
        RLT_CHECK(rl_st_read_f32(&st, "w.bf16", got, 1, s4) == RL_OK && got[0] == 1 && got[1] == -2 && isinf(got[2]) &&
                      got[3] == rlt_f32_of_bits(0x00010000),
                  "bf16 values incl. inf and subnormal");
    }
    rl_st_close(&st);
    /* overwriting an existing file goes through the same temp + rename */
    RLT_CHECK(rl_st_write(path, e, 1, NULL, 0) == RL_OK && rl_st_open(&st, path) == RL_OK && rl_st_count(&st) == 1, "overwrite");
    { /* overwriting a file that is open (mapped): POSIX replaces it, Windows refuses naming the
         file; either way the open handle still reads the old bytes */
        rl_st now;
        float x = 0;
        rl_status s = rl_st_write(path, e, 2, NULL, 0);
#if defined(_WIN32)
        RLT_CHECK(s == RL_ERR_IO && rlt_err_has(path, "open or mapped"), "overwrite while open: %d %s", (int)s, rl_last_error());
#else
        RLT_CHECK(s == RL_OK, "overwrite while open: %s", rl_last_error());
#endif
        if (rl_st_find(&st, "w.f32")) memcpy(&x, rl_st_find(&st, "w.f32")->data, 4);
        RLT_CHECK(rl_st_count(&st) == 1 && x == 1.5f, "the open handle reads the old file");
        rl_st_close(&st);
        RLT_CHECK(rl_st_open(&now, path) == RL_OK && rl_st_count(&now) == (s == RL_OK ? 2 : 1), "the file is the new one, or the old one after a refusal");
        rl_st_close(&now);
    }
    /* writer refuses bad input and leaves nothing behind */
    e[1].name = "w.f32";
    RLT_CHECK(rl_st_write(tmp_path("bad.safetensors"), e, 2, NULL, 0) == RL_ERR_ARG && rlt_err_has("w.f32", "twice"), "duplicate names: %s",
              rl_last_error());
    e[1].name = "__metadata__";
    RLT_CHECK(rl_st_write(tmp_path("bad.safetensors"), e, 2, NULL, 0) == RL_ERR_ARG && rlt_err_has("reserved"), "reserved name: %s",
              rl_last_error());
    e[1].name = "w.bf16";
    {
        const char *m2[] = {"format", "tf", NULL};
        const char *m3[] = {"k", NULL};
        RLT_CHECK(rl_st_write(tmp_path("bad.safetensors"), e, 2, m2, 0) == RL_ERR_ARG && rlt_err_has("format", "pt"), "format must be pt");
        RLT_CHECK(rl_st_write(tmp_path("bad.safetensors"), e, 2, m3, 0) == RL_ERR_ARG && rlt_err_has("no value"), "key without value");
    }
    e[0].shape[0] = -1;
    RLT_CHECK(rl_st_write(tmp_path("bad.safetensors"), e, 1, NULL, 0) == RL_ERR_ARG && rlt_err_has("shape"), "negative dimension");
    e[0].shape[0] = 2;
    RLT_CHECK(access(tmp_path("bad.safetensors"), F_OK) != 0, "no file written on error");
    RLT_CHECK(rl_st_write("/nonexistent-dir/x.safetensors", e, 1, NULL, 0) == RL_ERR_IO && rlt_err_has("/nonexistent-dir/x.safetensors", "temporary"),
              "unwritable folder: %s", rl_last_error());
    RLT_CHECK(!dir_has_tmp_files(tmpdir), "still no temporary files");
    rlt_end();
}

/* A bad file made in the temp folder must fail with a message naming the file and the words given. */
static void expect_bad(const char *name, const unsigned char *img, size_t len, rl_status want, const char *w1, const char *w2) {
    const char *path = tmp_path(name);
    rl_st st;
    rl_status s;
    write_all(path, img, len);
    s = rl_st_open(&st, path);
    RLT_CHECK(s == want && rlt_err_has(path, w1, w2), "%s: want %s ... '%s' '%s', got %d '%s'", name, rl_status_name(want), w1, w2 ? w2 : "", (int)s,
              rl_last_error());
    RLT_CHECK(st.n_tensors == 0 && st.tensors == NULL && st.files == NULL, "%s: handle left empty", name);
    rl_st_close(&st);
}

static void expect_bad_hdr(const char *name, const char *hdr, size_t data_len, rl_status want, const char *w1, const char *w2) {
    size_t len;
    unsigned char *img = make_st(hdr, data_len, &len);
    expect_bad(name, img, len, want, w1, w2);
    free(img);
}

static void test_st_bad(void) {
    unsigned char *good, *img;
    size_t len, n;
    rl_st st;
    rlt_begin("safetensors rejects bad files, naming file and problem");
    good = rlt_read_all("tests/fixtures/tiny-qwen2/hidden.safetensors", &len);
    RLT_CHECK(good != NULL, "fixture");
    if (!good) {
        rlt_end();
        return;
    }
    img = (unsigned char *)malloc(len + 16);
    expect_bad("truncated.safetensors", good, len - 5, RL_ERR_FORMAT, "past end of file", NULL);
    expect_bad("tiny.safetensors", good, 5, RL_ERR_FORMAT, "too small", NULL);
    expect_bad("empty.safetensors", good, 0, RL_ERR_FORMAT, "too small", NULL);
    memcpy(img, good, len);
    img[0] = (unsigned char)(len & 0xFF);
    img[1] = (unsigned char)(len >> 8);
    img[2] = (unsigned char)(len >> 16);
    expect_bad("hdrpastend.safetensors", img, len, RL_ERR_FORMAT, "header length", "runs past end of file");
    memcpy(img, "\x3c\x00\x00\x00\x00\xff\xff\xff", 8); /* the reference test's HeaderTooLarge */
    expect_bad("hdrlarge.safetensors", img, len, RL_ERR_FORMAT, "larger than the 100000000-byte limit", NULL);
    memcpy(img, good, len);
    memcpy(img + len, "abc", 3);
    expect_bad("trailing.safetensors", img, len + 3, RL_ERR_FORMAT, "3 trailing bytes", NULL);
    free(img);
    free(good);
    /* made-up headers over a data section of bytes 0,1,2,... */
    expect_bad_hdr("json.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}", 4, RL_ERR_FORMAT, "header:1:",
                   "trailing comma");
    expect_bad_hdr("notobj.safetensors", "[1,2]   ", 0, RL_ERR_FORMAT, "header is an array", NULL);
    expect_bad_hdr("badutf8.safetensors", "{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, RL_ERR_FORMAT, "invalid UTF-8",
                   NULL);
    expect_bad_hdr("overlap.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
                   24, RL_ERR_FORMAT, "tensor b", "overlap tensor a");
    expect_bad_hdr("alias.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}",
                   24, RL_ERR_FORMAT, "overlap", NULL);
    expect_bad_hdr("gap.safetensors",
                   "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[28,44]}}",
                   44, RL_ERR_FORMAT, "tensor b", "gap of 4 bytes after tensor a");
    expect_bad_hdr("start.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[4,28]}}", 28, RL_ERR_FORMAT, "tensor a",
                   "must start at 0");
    expect_bad_hdr("range.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[250000],\"data_offsets\":[0,1000000]}}", 24, RL_ERR_FORMAT,
                   "data_offsets [0, 1000000] past end of file", NULL);
    expect_bad_hdr("range2.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]}}", 24, RL_ERR_FORMAT,
                   "tensor a", "data_offsets");
    expect_bad_hdr("backwards.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, RL_ERR_FORMAT,
                   "end before they begin", NULL);
    expect_bad_hdr("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20, RL_ERR_FORMAT,
                   "dtype F32 and shape [2, 3] need 24 bytes", "hold 20");
    expect_bad_hdr("dtype.safetensors", "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, RL_ERR_FORMAT,
                   "tensor a: unknown dtype \"F33\"", NULL);
    expect_bad_hdr("dtype2.safetensors", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, RL_ERR_FORMAT, "unknown dtype",
                   NULL);
    expect_bad_hdr("dup.safetensors",
                   "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
                   RL_ERR_FORMAT, "duplicate key \"a\"", NULL);
    expect_bad_hdr("dupfield.safetensors", "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT,
                   "duplicate key \"dtype\"", NULL);
    expect_bad_hdr("meta.safetensors", "{\"__metadata__\":{\"format\":\"pt\",\"n\":1},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                   1, RL_ERR_FORMAT, "__metadata__", "\"n\" must be a string");
    expect_bad_hdr("meta2.safetensors", "{\"__metadata__\":\"pt\"}", 0, RL_ERR_FORMAT, "__metadata__ must be an object", NULL);
    expect_bad_hdr("reserved.safetensors", "{\"__metadata__\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT,
                   "may not be named \"__metadata__\"", NULL);
    expect_bad_hdr("negshape.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, RL_ERR_FORMAT,
                   "shape[0] must be a non-negative integer", NULL);
    expect_bad_hdr("fshape.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT, "shape[0]", NULL);
    expect_bad_hdr("ndim.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, RL_ERR_UNSUPPORTED,
                   "9 dimensions", NULL);
    expect_bad_hdr("overflow.safetensors",
                   "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT, "overflows", NULL);
    expect_bad_hdr("nodtype.safetensors", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT, "\"dtype\" is missing", NULL);
    expect_bad_hdr("offs3.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1, RL_ERR_FORMAT, "[begin, end]", NULL);
    expect_bad_hdr("notinfo.safetensors", "{\"a\":[1]}", 0, RL_ERR_FORMAT, "tensor a: expected an object", NULL);
    expect_bad_hdr("f4.safetensors", "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT, "whole bytes", NULL);
    expect_bad_hdr("nul-in-name.safetensors", "{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, RL_ERR_FORMAT, "NUL", NULL);
    /* legal corner cases */
    {
        const char *hdr = "  \n{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[4,4]},"
                          "\"z2\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[4,4]},\"x\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[4,6],"
                          "\"extra\":1},\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[6,22]},\"b\":{\"dtype\":\"BOOL\",\"shape\":[2],"
                          "\"data_offsets\":[22,24]},\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[24,26]},\"j\":{\"dtype\":\"I8\",\"shape\":[2],"
                          "\"data_offsets\":[26,28]}}\t \r\n";
        int32_t iv[2];
        int64_t s2[1] = {2}, big = (int64_t)1 << 40;
        float fv[2];
        img = make_st(hdr, 28, &n);
        memcpy(img + n - 22, &big, 8);
        RLT_CHECK(rl_st_open_memory(&st, img, n, "corner") == RL_OK, "0-rank, zero-size, sub-byte, unknown field, whitespace: %s", rl_last_error());
        RLT_CHECK(rl_st_count(&st) == 8 && rl_st_find(&st, "s")->n == 1 && rl_st_find(&st, "z")->n == 0 && rl_st_find(&st, "z2")->nbytes == 0,
                  "listed");
        RLT_CHECK(!rl_st_find(&st, "i")->supported && !strcmp(rl_st_find(&st, "x")->dtype_str, "F4"), "other dtypes listed, marked");
        RLT_CHECK(rl_st_read_i32(&st, "i", iv, 1, s2) == RL_ERR_FORMAT && rlt_err_has("tensor i", "does not fit int32"), "I64 range: %s",
                  rl_last_error());
        RLT_CHECK(rl_st_read_i32(&st, "u", iv, 1, s2) == RL_OK && iv[0] == 24 && iv[1] == 25, "U8 as ints");
        RLT_CHECK(rl_st_read_i32(&st, "j", iv, 1, s2) == RL_OK && iv[0] == 26, "I8 as ints");
        RLT_CHECK(rl_st_read_f32(&st, "i", fv, 1, s2) == RL_ERR_UNSUPPORTED && rlt_err_has("corner", "tensor i", "dtype I64 cannot be read as floats"),
                  "%s", rl_last_error());
        RLT_CHECK(rl_st_read_i32(&st, "x", iv, 1, s2) != RL_OK, "F4 not readable");
        rl_st_close(&st);
        free(img);
    }
    /* lookups */
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/tiny-qwen2/model.safetensors") == RL_OK, "%s", rl_last_error());
    {
        float buf[64];
        int64_t s32[1] = {32}, s64x1[2] = {64, 1};
        RLT_CHECK(rl_st_read_f32(&st, "model.nope", buf, 1, s32) == RL_ERR_FORMAT && rlt_err_has("tiny-qwen2/model.safetensors", "no tensor named model.nope"),
                  "missing tensor: %s", rl_last_error());
        RLT_CHECK(rl_st_read_f32(&st, "model.norm.weight", buf, 1, s32) == RL_ERR_FORMAT &&
                      rlt_err_has("tiny-qwen2/model.safetensors: tensor model.norm.weight: shape [64], expected [32]"),
                  "wrong shape: %s", rl_last_error());
        RLT_CHECK(rl_st_read_f32(&st, "model.norm.weight", buf, 2, s64x1) == RL_ERR_FORMAT && rlt_err_has("expected [64, 1]"), "wrong ndim");
    }
    rl_st_close(&st);
    RLT_CHECK(rl_st_open(&st, "tests/fixtures/nope.safetensors") == RL_ERR_IO && rlt_err_has("nope.safetensors", "cannot open"), "missing file");
    rl_st_close(&st);
    rlt_end();
}

static void test_st_shards(void) {
    static const char *const shards[3] = {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"};
    const char *src = "tests/fixtures/tiny-llama-sharded/";
    char from[512], sub[512], to[600];
    unsigned char *index;
    size_t ilen;
    rl_st st;
    int i;
    rlt_begin("safetensors sharded checkpoints: index errors");
    snprintf(sub, sizeof sub, "%s/shards", tmpdir);
    rlt_mkdir(sub);
    remember(sub); /* removed after the files in it (cleanup goes backwards) */
    for (i = 0; i < 2; i++) {
        snprintf(from, sizeof from, "%s%s", src, shards[i]);
        snprintf(to, sizeof to, "%s/%s", sub, shards[i]);
        RLT_CHECK(copy_file(from, to), "copy %s", shards[i]);
    }
    snprintf(from, sizeof from, "%smodel.safetensors.index.json", src);
    index = rlt_read_all(from, &ilen);
    snprintf(to, sizeof to, "%s/model.safetensors.index.json", sub);
    write_all(to, index, ilen);
    RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_IO && rlt_err_has("model.safetensors.index.json", "names shard model-00003-of-00003.safetensors", "missing"),
              "missing shard: %s", rl_last_error());
    rl_st_close(&st);
    snprintf(from, sizeof from, "%s%s", src, shards[2]);
    snprintf(to, sizeof to, "%s/%s", sub, shards[2]);
    copy_file(from, to);
    RLT_CHECK(rl_st_open_dir(&st, sub) == RL_OK && rl_st_count(&st) == 29, "complete copy opens: %s", rl_last_error());
    rl_st_close(&st);
    {
        /* the index moves embed_tokens to shard 3, adds a ghost tensor, points outside the folder */
        char *text = (char *)malloc(ilen + 200), *p;
        snprintf(to, sizeof to, "%s/model.safetensors.index.json", sub);
        memcpy(text, index, ilen);
        text[ilen] = 0;
        p = strstr(text, "\"model.embed_tokens.weight\": \"model-00001");
        if (p) p[strlen("\"model.embed_tokens.weight\": \"model-0000")] = '3';
        write_all(to, text, ilen);
        RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT &&
                      rlt_err_has("tensor model.embed_tokens.weight", "index says it is in model-00003-of-00003.safetensors", "but it is in model-00001"),
                  "index disagrees with the shard: %s", rl_last_error());
        rl_st_close(&st);
        memcpy(text, index, ilen);
        p = strstr(text, "\"weight_map\": {");
        if (p) {
            const char *ins = "\"ghost.weight\": \"model-00002-of-00003.safetensors\", ";
            size_t at = (size_t)(p - text) + strlen("\"weight_map\": {");
            memmove(text + at + strlen(ins), text + at, ilen - at);
            memcpy(text + at, ins, strlen(ins));
            write_all(to, text, ilen + strlen(ins));
            RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT && rlt_err_has("tensor ghost.weight", "not found in shard model-00002"),
                      "index names a tensor no shard has: %s", rl_last_error());
            rl_st_close(&st);
            ins = "\"evil\": \"../../../etc/passwd\", ";
            memcpy(text, index, ilen);
            memmove(text + at + strlen(ins), text + at, ilen - at);
            memcpy(text + at, ins, strlen(ins));
            write_all(to, text, ilen + strlen(ins));
            RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT && rlt_err_has("evil", "same folder"), "shard outside the folder: %s", rl_last_error());
            rl_st_close(&st);
        }
        write_str(to, "{\"weight_map\": 3}");
        RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT && rlt_err_has("weight_map: expected an object"), "weight_map type: %s",
                  rl_last_error());
        rl_st_close(&st);
        write_str(to, "{\"weight_map\": {\"a\": \"x\",}}");
        RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT && rlt_err_has("model.safetensors.index.json:1:", "trailing comma"), "index JSON: %s",
                  rl_last_error());
        rl_st_close(&st);
        free(text);
    }
    free(index);
    RLT_CHECK(rl_st_open_dir(&st, tmpdir) == RL_ERR_IO && rlt_err_has(tmpdir, "no model.safetensors"), "empty folder: %s", rl_last_error());
    rl_st_close(&st);
    {
        /* a tensor in two shards that the index does not resolve */
        float x = 1;
        rl_st_entry e;
        memset(&e, 0, sizeof e);
        e.name = "t";
        e.dtype = RL_F32;
        e.data = &x;
        snprintf(to, sizeof to, "%s/a.safetensors", sub);
        rl_st_write(to, &e, 1, NULL, 0);
        remember(to);
        snprintf(to, sizeof to, "%s/b.safetensors", sub);
        rl_st_write(to, &e, 1, NULL, 0);
        remember(to);
        e.name = "u";
        snprintf(to, sizeof to, "%s/c.safetensors", sub);
        rl_st_write(to, &e, 1, NULL, 0);
        remember(to);
        snprintf(to, sizeof to, "%s/model.safetensors.index.json", sub);
        write_str(to, "{\"weight_map\": {\"u\": \"c.safetensors\", \"v\": \"a.safetensors\", \"w\": \"b.safetensors\"}}");
        RLT_CHECK(rl_st_open_dir(&st, sub) == RL_ERR_FORMAT && rlt_err_has("tensor t is in two shards", "a.safetensors and b.safetensors"),
                  "unresolved duplicate: %s", rl_last_error());
        rl_st_close(&st);
        write_str(to, "{\"weight_map\": {\"u\": \"c.safetensors\", \"t\": \"b.safetensors\"}}");
        RLT_CHECK(rl_st_open_dir(&st, sub) == RL_OK && rl_st_count(&st) == 2 &&
                      strstr(rl_st_file_path(&st, rl_st_find(&st, "t")->file), "/b.safetensors"),
                  "index decides the owner: %s",
                  rl_last_error());
        rl_st_close(&st);
    }
    rlt_end();
}

/* ---- config.json ---- */

static void test_config_fixtures(void) {
    rl_config c;
    rlt_begin("config.json fixtures (v4 and v5 forms)");
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/tiny-qwen2/config.json") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(c.arch == RL_ARCH_QWEN2 && !strcmp(c.model_type, "qwen2"), "qwen2 arch");
    RLT_CHECK(c.vocab_size == 640 && c.hidden_size == 64 && c.intermediate_size == 128 && c.n_layers == 2 && c.n_heads == 4 && c.n_kv_heads == 2 &&
                  c.head_dim == 16 && c.max_pos == 256,
              "qwen2 sizes");
    RLT_CHECK(c.rms_eps == 1e-6f && c.rope_theta == 1e6 && c.rope_scaling == RL_ROPE_NONE, "qwen2 eps, theta (top-level, v4)");
    RLT_CHECK(!c.tie_embeddings && c.attn_bias && !c.o_bias && !c.mlp_bias, "qwen2 biases q/k/v only, untied");
    RLT_CHECK(c.bos_id == 600 && c.n_eos == 1 && c.eos_ids[0] == 600 && c.dtype == RL_F32, "qwen2 ids, torch_dtype float32");
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/tiny-qwen2-bf16/config.json") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(c.arch == RL_ARCH_QWEN2 && c.rope_theta == 1e6 && c.rope_scaling == RL_ROPE_NONE && c.dtype == RL_BF16 && c.n_kv_heads == 2,
              "qwen2 v5: rope_parameters, dtype bfloat16, layer_types, sliding_window null");
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/tiny-llama/config.json") == RL_OK, "%s", rl_last_error());
    RLT_CHECK(c.arch == RL_ARCH_LLAMA && !strcmp(c.model_type, "llama") && c.n_layers == 3 && c.n_kv_heads == 1 && c.intermediate_size == 96,
              "llama sizes");
    RLT_CHECK(c.tie_embeddings && !c.attn_bias && !c.o_bias && !c.mlp_bias && c.rms_eps == 1e-5f && c.bos_id == 603 && c.eos_ids[0] == 604,
              "llama tied, no bias, eps, ids");
    RLT_CHECK(c.rope_scaling == RL_ROPE_LLAMA3 && c.rope_theta == 1e4 && c.rope_factor == 8 && c.rope_low_freq == 1 && c.rope_high_freq == 4 &&
                  c.rope_orig_max_pos == 64,
              "llama3 rope_scaling (v4)");
    {
        rl_config c2;
        RLT_CHECK(rl_config_load(&c2, "tests/fixtures/tiny-llama-sharded/config.json") == RL_OK, "%s", rl_last_error());
        RLT_CHECK(!memcmp(&c, &c2, sizeof c), "the v5 form (rope_parameters) gives the same config as the v4 form");
    }
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/nope/config.json") == RL_ERR_IO && rlt_err_has("nope/config.json"), "missing file");
    rlt_end();
}

/* transformers' _compute_llama3_parameters written with its masks (torch.where), in double */
static void hf_llama3(double theta, int dim, double factor, double lo, double hi, double old, double *out) {
    int i;
    for (i = 0; i < dim / 2; i++) {
        double inv = 1.0 / pow(theta, (double)(2 * i) / dim);
        double wavelen = 2 * 3.141592653589793 / inv;
        double inv_llama = wavelen > old / lo ? inv / factor : inv;
        double smooth = (old / wavelen - lo) / (hi - lo);
        double smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama;
        int medium = !(wavelen < old / hi) && !(wavelen > old / lo);
        out[i] = medium ? smoothed : inv_llama;
    }
}

static void test_config_rope(void) {
    /* float64 values of the formula computed once with Python (math, float64) and rounded to
       float32 with numpy: tiny-llama, theta 1e4, head_dim 16, llama3 factor 8, low 1, high 4, old 64 */
    static const float want_llama3[8] = {0x1p+0f, 0x1.f47feap-3f, 0x1.ab5e6p-7f, 0x1.030dc4p-8f, 0x1.47ae14p-10f, 0x1.9e7c6ep-12f, 0x1.0624dep-13f, 0x1.4b96bep-15f};
    /* tiny-qwen2: theta 1e6, head_dim 16, no scaling */
    static const float want_plain[8] = {0x1p+0f, 0x1.6c310ep-3f, 0x1.030dc4p-5f, 0x1.708938p-8f, 0x1.0624dep-10f, 0x1.74eea6p-13f, 0x1.094566p-15f, 0x1.796182p-18f};
    rl_config c;
    float inv[8];
    double ref[8];
    int i, ok;
    rlt_begin("config RoPE inverse frequencies");
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/tiny-llama/config.json") == RL_OK, "%s", rl_last_error());
    rl_rope_inv_freq(&c, inv);
    hf_llama3(1e4, 16, 8, 1, 4, 64, ref);
    for (i = 0, ok = 1; i < 8; i++) ok &= fabs(inv[i] - want_llama3[i]) <= 1e-7 * want_llama3[i] && inv[i] == (float)ref[i];
    RLT_CHECK(ok, "llama3 = Python constants and the masked re-implementation");
    {
        float plain[8];
        rl_config p = c;
        p.rope_scaling = RL_ROPE_NONE;
        rl_rope_inv_freq(&p, plain);
        RLT_CHECK(inv[0] == plain[0], "[0] kept (wavelength 6.3 < 16)");
        RLT_CHECK(inv[1] < plain[1] && inv[1] > plain[1] / 8 && inv[2] < plain[2] && inv[2] > plain[2] / 8, "[1], [2] smoothed");
        for (i = 3, ok = 1; i < 8; i++) ok &= inv[i] == (float)((1.0 / pow(1e4, i / 8.0)) / 8);
        RLT_CHECK(ok, "[3..7] divided by 8");
    }
    RLT_CHECK(rl_config_load(&c, "tests/fixtures/tiny-qwen2/config.json") == RL_OK, "%s", rl_last_error());
    rl_rope_inv_freq(&c, inv);
    for (i = 0, ok = 1; i < 8; i++) ok &= fabs(inv[i] - want_plain[i]) <= 1e-7 * want_plain[i];
    RLT_CHECK(ok, "default rope, theta 1e6");
    {
        const char *t = "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":10,\"hidden_size\":32,\"intermediate_size\":8,"
                        "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"rope_theta\":100.0,\"rope_scaling\":{\"type\":\"linear\",\"factor\":4}}";
        RLT_CHECK(rl_config_parse(&c, t, strlen(t), "lin.json") == RL_OK && c.rope_scaling == RL_ROPE_LINEAR && c.rope_factor == 4, "linear: %s",
                  rl_last_error());
        rl_rope_inv_freq(&c, inv);
        for (i = 0, ok = 1; i < 8; i++) ok &= inv[i] == (float)(1.0 / pow(100.0, i / 8.0) / 4);
        RLT_CHECK(ok && c.head_dim == 16, "linear: / factor; head_dim = hidden / heads");
        RLT_CHECK(c.n_kv_heads == 2 && c.max_pos == 2048 && c.rms_eps == 1e-6f && c.bos_id == 1 && c.n_eos == 1 && c.eos_ids[0] == 2, "llama defaults");
    }
    rlt_end();
}

static void test_config_errors(void) {
    static const char *base_q = "\"vocab_size\":10,\"hidden_size\":32,\"intermediate_size\":8,\"num_hidden_layers\":2,\"num_attention_heads\":4";
    static const struct {
        const char *before, *after; /* text around base_q */
        rl_status want;
        const char *w1, *w2;
    } bad[] = {
        {"{\"architectures\":[\"MistralForCausalLM\"],", "}", RL_ERR_UNSUPPORTED, "\"MistralForCausalLM\" is not supported", "Qwen2ForCausalLM"},
        {"{\"model_type\":\"gemma\",", "}", RL_ERR_UNSUPPORTED, "model_type \"gemma\"", "supported: qwen2, llama"},
        {"{", "}", RL_ERR_FORMAT, "no architectures or model_type", NULL},
        {"{\"architectures\":[\"Qwen2ForCausalLM\"],\"model_type\":\"llama\",", "}", RL_ERR_FORMAT, "architectures says Qwen2ForCausalLM", "llama"},
        {"{\"architectures\":\"Qwen2ForCausalLM\",", "}", RL_ERR_FORMAT, "architectures: expected a list", NULL},
        {"{\"model_type\":\"qwen2\",\"hidden_size\":32}", NULL, RL_ERR_FORMAT, "c.json: vocab_size: missing (expected an integer)", NULL},
        {"{\"model_type\":\"qwen2\",\"vocab_size\":10,\"hidden_size\":\"32\"}", NULL, RL_ERR_FORMAT, "hidden_size: expected an integer, got a string", NULL},
        {"{\"model_type\":\"qwen2\",", ",\"num_key_value_heads\":3}", RL_ERR_FORMAT, "num_key_value_heads (3)", "divide num_attention_heads (4)"},
        {"{\"model_type\":\"qwen2\",", ",\"num_key_value_heads\":0}", RL_ERR_FORMAT, "num_key_value_heads (0)", NULL},
        {"{\"model_type\":\"qwen2\",", ",\"head_dim\":7}", RL_ERR_FORMAT, "head_dim 7", "even"},
        {"{\"model_type\":\"qwen2\",\"vocab_size\":10,\"hidden_size\":30,\"intermediate_size\":8,\"num_hidden_layers\":2,\"num_attention_heads\":4}", NULL,
         RL_ERR_FORMAT, "num_attention_heads (4) must divide hidden_size (30)", NULL},
        {"{\"model_type\":\"qwen2\",\"vocab_size\":0,\"hidden_size\":32,\"intermediate_size\":8,\"num_hidden_layers\":2,\"num_attention_heads\":4}", NULL,
         RL_ERR_FORMAT, "vocab_size = 0", NULL},
        {"{\"model_type\":\"qwen2\",", ",\"use_sliding_window\":true,\"sliding_window\":64,\"max_window_layers\":1}", RL_ERR_UNSUPPORTED,
         "use_sliding_window", "not supported"},
        {"{\"model_type\":\"qwen2\",", ",\"layer_types\":[\"full_attention\",\"sliding_attention\"]}", RL_ERR_UNSUPPORTED, "layer_types[1]",
         "sliding_attention"},
        {"{\"model_type\":\"llama\",", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}", RL_ERR_UNSUPPORTED, "rope_type \"yarn\"",
         "supported: default, linear, llama3"},
        {"{\"model_type\":\"llama\",", ",\"rope_parameters\":{\"rope_type\":\"llama3\",\"rope_theta\":10000,\"factor\":8}}", RL_ERR_FORMAT,
         "rope_parameters.low_freq_factor: missing", NULL},
        {"{\"model_type\":\"llama\",", ",\"rope_scaling\":{\"factor\":8}}", RL_ERR_FORMAT, "rope_scaling has no rope_type", NULL},
        {"{\"model_type\":\"llama\",", ",\"partial_rotary_factor\":0.5}", RL_ERR_UNSUPPORTED, "partial_rotary_factor 0.5", NULL},
        {"{\"model_type\":\"llama\",", ",\"hidden_act\":\"gelu\"}", RL_ERR_UNSUPPORTED, "hidden_act \"gelu\"", NULL},
        {"{\"model_type\":\"llama\",", ",\"eos_token_id\":[1,\"2\"]}", RL_ERR_FORMAT, "eos_token_id[1]: expected an integer", NULL},
        {"{\"model_type\":\"llama\",", ",\"eos_token_id\":-5}", RL_ERR_FORMAT, "eos_token_id: token id -5 out of range", NULL},
        /* issue 14: an id past the vocabulary was accepted and failed later without naming config.json */
        {"{\"model_type\":\"llama\",", ",\"eos_token_id\":1000000000}", RL_ERR_FORMAT, "eos_token_id: token id 1000000000 out of range [0, 10)", NULL},
        {"{\"model_type\":\"qwen2\",", ",\"eos_token_id\":[3,10]}", RL_ERR_FORMAT, "eos_token_id[1]: token id 10 out of range", NULL},
        {"{\"model_type\":\"llama\",", ",\"bos_token_id\":10}", RL_ERR_FORMAT, "bos_token_id: token id 10 out of range", NULL},
        {"{\"model_type\":\"llama\",", ",\"rope_theta\":0}", RL_ERR_FORMAT, "rope_theta 0", NULL},
        {"{\"model_type\":\"llama\",", ",\"tie_word_embeddings\":1}", RL_ERR_FORMAT, "tie_word_embeddings: expected a boolean", NULL},
        {"{\"model_type\":\"llama\",", ",}", RL_ERR_FORMAT, "c.json:1:", "trailing comma"},
        {"[1]", NULL, RL_ERR_FORMAT, "expected a JSON object", NULL},
    };
    char text[1024];
    rl_config c;
    size_t k;
    rlt_begin("config.json errors");
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rl_status s;
        if (bad[k].after) snprintf(text, sizeof text, "%s%s%s", bad[k].before, base_q, bad[k].after);
        else snprintf(text, sizeof text, "%s", bad[k].before);
        s = rl_config_parse(&c, text, strlen(text), "c.json");
        RLT_CHECK(s == bad[k].want && rlt_err_has("c.json", bad[k].w1, bad[k].w2), "case %zu: want %s '%s', got %d '%s'", k, rl_status_name(bad[k].want),
                  bad[k].w1, (int)s, rl_last_error());
        RLT_CHECK(c.arch == 0 && c.hidden_size == 0, "case %zu: config left zeroed", k);
    }
    /* accepted variants */
    snprintf(text, sizeof text, "{\"model_type\":\"qwen2\",%s,\"eos_token_id\":[7,8,9],\"bos_token_id\":null,\"use_sliding_window\":true,"
                                "\"sliding_window\":64,\"max_window_layers\":2,\"num_key_value_heads\":null}", base_q);
    RLT_CHECK(rl_config_parse(&c, text, strlen(text), "c.json") == RL_OK, "eos list, null bos, sliding window unused by any layer: %s", rl_last_error());
    RLT_CHECK(c.n_eos == 3 && c.eos_ids[2] == 9 && c.bos_id == -1 && c.n_kv_heads == 4 && c.max_pos == 32768, "values");
    snprintf(text, sizeof text, "{\"model_type\":\"llama\",%s,\"attention_bias\":true,\"mlp_bias\":true,\"eos_token_id\":null,\"head_dim\":64}", base_q);
    RLT_CHECK(rl_config_parse(&c, text, strlen(text), "c.json") == RL_OK && c.attn_bias && c.o_bias && c.mlp_bias && c.n_eos == 0 && c.head_dim == 64,
              "llama biases, explicit head_dim != hidden/heads: %s", rl_last_error());
    rlt_end();
}

static void cleanup(void) {
    int i;
    for (i = n_made - 1; i >= 0; i--)
        if (unlink(made[i]) != 0) rmdir(made[i]);
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rl_test_formats.%d", (int)getpid());
    if (rlt_mkdir(tmpdir) != 0) {
        printf("FAIL formats: cannot create %s\n", tmpdir);
        return 1;
    }
    test_json_valid();
    test_json_dup();
    test_json_errors();
    test_json_access();
    test_st_fixtures();
    test_st_bf16();
    test_st_writer();
    test_st_roundtrip();
    test_st_bad();
    test_st_shards();
    test_config_fixtures();
    test_config_rope();
    test_config_errors();
    cleanup();
    return rlt_exit();
}
