/* wip/formats.h - section 4 (formats): JSON, safetensors, config.json.
   A section file (see wip/HELPERS.md): the lead pastes the two halves into radlads.h. */

/* ==== DECLARATIONS ==== */

/* ---- 4a. JSON ---------------------------------------------------------------------------
   A strict RFC 8259 parser into a read-only tree that lives in the document's arena.
   - no comments, no trailing commas, no NaN/Infinity, no leading zeros, no byte order mark;
   - strings must be valid UTF-8 (overlong forms and encoded surrogates are errors);
     \uXXXX escapes combine surrogate pairs, a lone surrogate is an error, \u0000 is kept
     (STR n counts bytes; keys have their lengths in klen);
   - nesting deeper than RL_JSON_MAX_DEPTH arrays/objects is an error (no stack overflow);
   - numbers out of double range (1e400) are an error;
   - duplicate keys in an object are accepted, "last wins" as in Python's json module: the
     object keeps one member per key, at the position of the first occurrence, with the value
     of the last one. The document counts them (n_dup) and remembers the first duplicate
     (dup_key, dup_line, dup_col) so a strict reader (the safetensors header) can refuse them.
   Errors are RL_ERR_FORMAT with "source:line:column: what" (column counts characters). */
#define RL_JSON_MAX_DEPTH 256

typedef enum rl_json_type { RL_JSON_NULL, RL_JSON_BOOL, RL_JSON_NUM, RL_JSON_STR, RL_JSON_ARR, RL_JSON_OBJ } rl_json_type;
typedef struct rl_json {
    rl_json_type type;
    int64_t n;             /* ARR/OBJ: number of children; STR: byte length (may contain \0) */
    double num;            /* NUM value; BOOL: 0 or 1 */
    int is_int;            /* NUM written without fraction/exponent and fits int64 */
    int64_t i;             /* NUM as int64 when is_int */
    const char *str;       /* STR: UTF-8, NUL-terminated */
    const char **keys;     /* OBJ: keys[k], NUL-terminated UTF-8 */
    struct rl_json *kids;  /* ARR/OBJ: n children */
    const int64_t *klen;   /* OBJ: byte length of keys[k] (a key may contain \0) */
} rl_json;
typedef struct rl_json_doc {
    rl_json root;
    rl_arena arena;        /* every node and string of the tree */
    int64_t n_dup;         /* duplicate keys seen (all objects, any depth) */
    const char *dup_key;   /* the first duplicate key, or NULL */
    int dup_line, dup_col; /* where that duplicate was written */
} rl_json_doc;

/* Parse text (len bytes; need not be NUL-terminated). `source` names the input in errors
   ("config.json"; NULL = "json"). On error the document is left empty (rl_json_free is
   still allowed). */
rl_status rl_json_parse(rl_json_doc *doc, const char *text, size_t len, const char *source);
/* Read and parse a file; max_bytes = 0 means 1 GiB. Errors name the path. */
rl_status rl_json_parse_file(rl_json_doc *doc, const char *path, size_t max_bytes);
void rl_json_free(rl_json_doc *doc);
int rl_json_has_dup(const rl_json_doc *doc);
/* Member `key` of an object: NULL if absent or obj is not an OBJ (linear search). */
const rl_json *rl_json_get(const rl_json *obj, const char *key);
/* "null", "a boolean", "a number", "a string", "an array", "an object" */
const char *rl_json_type_name(rl_json_type t);

/* Typed access with error messages. `source` names the file, `field` the place, e.g.
   rl_json_as_int(v, "config.json", "eos_token_id[2]", &x) fails with
   "config.json: eos_token_id[2]: expected an integer, got a string". v = NULL means missing:
   "config.json: eos_token_id[2]: missing (expected an integer)". Integers must be written
   without fraction or exponent and fit int64. All return RL_OK or RL_ERR_FORMAT. */
rl_status rl_json_expect(const rl_json *v, rl_json_type t, const char *source, const char *field);
rl_status rl_json_as_int(const rl_json *v, const char *source, const char *field, int64_t *out);
rl_status rl_json_as_num(const rl_json *v, const char *source, const char *field, double *out);
rl_status rl_json_as_bool(const rl_json *v, const char *source, const char *field, int *out);
rl_status rl_json_as_str(const rl_json *v, const char *source, const char *field, const char **out);
/* The same for obj[key] (field = key). The _or forms store dflt and succeed when the key is
   absent or JSON null. */
rl_status rl_json_get_int(const rl_json *obj, const char *key, const char *source, int64_t *out);
rl_status rl_json_get_num(const rl_json *obj, const char *key, const char *source, double *out);
rl_status rl_json_get_bool(const rl_json *obj, const char *key, const char *source, int *out);
rl_status rl_json_get_str(const rl_json *obj, const char *key, const char *source, const char **out);
rl_status rl_json_get_int_or(const rl_json *obj, const char *key, const char *source, int64_t dflt, int64_t *out);
rl_status rl_json_get_num_or(const rl_json *obj, const char *key, const char *source, double dflt, double *out);
rl_status rl_json_get_bool_or(const rl_json *obj, const char *key, const char *source, int dflt, int *out);
rl_status rl_json_get_str_or(const rl_json *obj, const char *key, const char *source, const char *dflt, const char **out);

/* ---- 4b. safetensors ---------------------------------------------------------------------
   Reader: rl_st_open() maps a .safetensors file read-only (mmap PROT_READ, MAP_PRIVATE) and
   validates it at least as strictly as the reference Rust reader (formats.md §1.3):
   header length <= 100 MB and inside the file; the header a JSON object (whitespace around it
   allowed); every tensor {"dtype", "shape": [non-negative ints], "data_offsets": [b, e]}
   with a known dtype; sorted by offsets the tensors tile the data section exactly from 0 (no
   gap, no overlap, no alias); e - b == bytes of dtype × shape; the file ends exactly at the
   last tensor (no trailing bytes); __metadata__ (optional) maps strings to strings. Stricter
   than Rust: duplicate keys anywhere in the header and a tensor named "__metadata__" are
   refused, and so is a tensor with more than RL_ST_MAX_DIMS dimensions. Unknown fields inside
   a tensor entry are ignored, as Rust does. Errors are RL_ERR_FORMAT naming the file, the
   tensor and the problem. Little-endian hosts only (RL_ERR_UNSUPPORTED otherwise).

   rl_st_open_dir() opens a Hugging Face model folder: model.safetensors if present, else
   model.safetensors.index.json and every shard its weight_map names. A tensor in two shards
   is an error unless the index names which one owns it; every index entry must exist in its
   shard; tensors in a shard but not in the index are kept (transformers loads them too).

   Tensor data points into the mapping (zero copy). The format does not align data: a
   writer that does not pad the header (old ones) leaves tensors at odd addresses, so read
   elements with memcpy or check `aligned`. The data stays valid until rl_st_close(). */
#define RL_ST_MAX_DIMS 8
#define RL_ST_MAX_HEADER 100000000

/* Every safetensors dtype, in the reference "alignment order" (the writer's sort key). */
typedef enum rl_st_dtype {
    RL_ST_BOOL, RL_ST_F4, RL_ST_F6_E2M3, RL_ST_F6_E3M2, RL_ST_U8, RL_ST_I8, RL_ST_F8_E5M2,
    RL_ST_F8_E4M3, RL_ST_F8_E8M0, RL_ST_F8_E4M3FNUZ, RL_ST_F8_E5M2FNUZ, RL_ST_I16, RL_ST_U16,
    RL_ST_F16, RL_ST_BF16, RL_ST_I32, RL_ST_U32, RL_ST_F32, RL_ST_C64, RL_ST_F64, RL_ST_I64,
    RL_ST_U64, RL_ST_NDTYPES
} rl_st_dtype;
const char *rl_st_dtype_name(rl_st_dtype t); /* "BF16" */
int rl_st_dtype_bits(rl_st_dtype t);         /* 16 */

typedef struct rl_st_tensor {
    const char *name;
    rl_dtype dtype;          /* RL_F32/RL_BF16/RL_F16/RL_I32 when `supported` (else RL_F32) */
    int supported;           /* 1: the data can be used in place as `dtype`; 0: other dtype,
                                listed but only readable through the rl_st_read_* converters
                                where they say so (F64 -> f32, I64 -> i32) */
    rl_st_dtype st_dtype;    /* the dtype written in the file */
    const char *dtype_str;   /* its name, "BF16" */
    int ndim;                /* 0 for a scalar (shape [], one element) */
    int64_t shape[RL_ST_MAX_DIMS];
    int64_t n;               /* number of elements */
    const void *data;        /* into the mapping (little-endian, row-major) */
    uint64_t nbytes;
    int file;                /* shard index, see rl_st_file_path() */
    int aligned;             /* data is aligned to its element size */
} rl_st_tensor;

typedef struct rl__st_file rl__st_file;
typedef struct rl_st {
    int n_tensors;
    rl_st_tensor *tensors;   /* sorted by name */
    int n_files;
    rl__st_file *files;
    int n_meta;              /* __metadata__ of the (first) file */
    const char **meta_keys, **meta_vals;
    const char *path;        /* what was opened, for messages */
    rl_arena arena;
} rl_st;

rl_status rl_st_open(rl_st *st, const char *path);      /* a .safetensors file (a folder: rl_st_open_dir) */
rl_status rl_st_open_dir(rl_st *st, const char *dir);   /* model.safetensors, else the index + shards */
/* Validate and list a safetensors image in memory (not copied: keep it alive while st is
   open). `name` is used in messages. */
rl_status rl_st_open_memory(rl_st *st, const void *data, size_t len, const char *name);
void rl_st_close(rl_st *st);
const rl_st_tensor *rl_st_find(const rl_st *st, const char *name); /* NULL if absent */
int rl_st_count(const rl_st *st);
const rl_st_tensor *rl_st_at(const rl_st *st, int i);             /* i in [0, count), by name */
const char *rl_st_file_path(const rl_st *st, int file);
const char *rl_st_meta(const rl_st *st, const char *key);          /* __metadata__ value or NULL */
/* Copy tensor `name` into dst as F32 (F32 copied, BF16/F16/F64 converted), after checking it
   has exactly the shape the caller expects (ndim dims). Errors name the file and tensor. */
rl_status rl_st_read_f32(const rl_st *st, const char *name, float *dst, int ndim, const int64_t *shape);
/* The same for integer tensors (I32 copied; I64, I16, U16, I8, U8, BOOL converted; an I64
   value outside int32 is an error). */
rl_status rl_st_read_i32(const rl_st *st, const char *name, int32_t *dst, int ndim, const int64_t *shape);

/* Writer. Output is byte for byte what the reference writer produces (formats.md §1.4):
   tensors sorted by dtype alignment order descending, then by name; compact JSON header
   with __metadata__ first, right-padded with spaces to a multiple of 8; data back to back.
   Written to "<path>.tmp.<random>" in the same folder, fsync'ed, then renamed over path: a
   reader sees the old file or the complete new one, never a half-written one. */
typedef struct rl_st_entry {
    const char *name;        /* UTF-8, unique, not "__metadata__" */
    rl_dtype dtype;
    int ndim;                /* 0..RL_ST_MAX_DIMS */
    int64_t shape[RL_ST_MAX_DIMS];
    const void *data;        /* n × element size bytes, little-endian */
} rl_st_entry;
enum { RL_ST_WRITE_NO_FORMAT = 1 }; /* do not add "format": "pt" (only for golden tests) */
/* meta: NULL or NULL-terminated key, value, key, value, ..., NULL. "format": "pt" is always
   added (transformers refuses files without it) unless flags has RL_ST_WRITE_NO_FORMAT; a
   caller's own "format" must be "pt". Metadata keys are written in byte order. */
rl_status rl_st_write(const char *path, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags);
/* The same file image in a malloc'd buffer (free with RL_FREE / free). */
rl_status rl_st_serialize(const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags,
                          unsigned char **out, size_t *out_len);

/* ==== IMPLEMENTATION ==== */
#if defined(RADLADS_IMPLEMENTATION)

#include <locale.h>

/* ---- 4a. JSON ---- */

typedef struct rl__jkey {
    const char *k;
    int64_t len;
    size_t at; /* byte offset of the key in the text (for the duplicate report) */
} rl__jkey;

typedef struct rl__jp {
    const unsigned char *s, *end; /* whole text */
    const char *source;
    rl_json_doc *doc;
    unsigned char *chunk; /* bump allocation inside arena blocks */
    size_t chunk_left;
    rl_json *stk; /* children of the open arrays/objects */
    size_t nstk, capstk;
    rl__jkey *keys; /* keys of the open objects */
    size_t nkeys, capkeys;
    uint32_t *ht; /* scratch hash table for duplicate detection */
    size_t htcap;
    int depth;
    char dec_point; /* the C library's decimal point under the current locale */
} rl__jp;

/* line:column (1-based, column in characters) of byte offset `at` */
static void rl__json_linecol(const unsigned char *s, size_t at, int *line, int *col) {
    size_t i;
    int l = 1, c = 1;
    for (i = 0; i < at; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if ((s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int rl__jerr(rl__jp *jp, const unsigned char *at, const char *fmt, ...) {
    char msg[512];
    int line, col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at > jp->end) at = jp->end;
    rl__json_linecol(jp->s, (size_t)(at - jp->s), &line, &col);
    rl__fail(RL_ERR_FORMAT, "%s:%d:%d: %s", jp->source, line, col, msg);
    return -1;
}

static int rl__jnomem(rl__jp *jp) {
    rl__fail(RL_ERR_NOMEM, "%s: out of memory while parsing JSON", jp->source);
    return -2;
}

static void *rl__jalloc(rl__jp *jp, size_t bytes, size_t align) {
    uintptr_t p = (uintptr_t)jp->chunk, q = (p + align - 1) & ~(uintptr_t)(align - 1);
    size_t pad = (size_t)(q - p);
    if (!jp->chunk || pad > jp->chunk_left || bytes > jp->chunk_left - pad) {
        size_t sz = bytes > 16384 ? bytes : (size_t)65536 - 64;
        unsigned char *c = (unsigned char *)rl_arena_alloc(&jp->doc->arena, sz);
        if (!c) return NULL;
        if (sz == bytes) return c; /* a big block of its own; keep the current chunk */
        jp->chunk = c;
        jp->chunk_left = sz;
        pad = 0;
        q = (uintptr_t)c;
    }
    jp->chunk = (unsigned char *)q + bytes;
    jp->chunk_left -= pad + bytes;
    return (void *)q;
}

/* Grow a malloc'd array to hold `need` elements: the (possibly moved) array, or NULL
   (the old one stays valid) when out of memory. */
static void *rl__grow(void *p, size_t *cap, size_t need, size_t elem) {
    size_t nc;
    void *q;
    if (need <= *cap) return p;
    nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    if (nc > SIZE_MAX / elem) return NULL;
    q = RL_REALLOC(p, nc * elem);
    if (!q) return NULL;
    *cap = nc;
    return q;
}

static const unsigned char *rl__jws(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid (Unicode Table 3-7). */
static int rl__utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    int n, i;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (end - p < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static int rl__jhex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    unsigned v = 0;
    int i;
    if (end - p < 4) return -1;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static unsigned char *rl__utf8_put(unsigned char *o, unsigned cp) {
    if (cp < 0x80) *o++ = (unsigned char)cp;
    else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | (cp >> 6));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (cp >> 12));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (cp >> 18));
        *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* String at *pp (on the opening quote): decoded into the arena; *pp moves past the close. */
static int rl__jstring(rl__jp *jp, const unsigned char **pp, const char **out, int64_t *outlen) {
    const unsigned char *open = *pp, *p = open + 1, *end = jp->end, *q;
    unsigned char *buf, *o;
    /* find the closing quote to size the buffer (decoded text is never longer) */
    for (q = p; q < end && *q != '"'; q++)
        if (*q == '\\' && ++q >= end) break;
    if (q >= end) return rl__jerr(jp, open, "unterminated string");
    buf = (unsigned char *)rl__jalloc(jp, (size_t)(q - p) + 1, 1);
    if (!buf) return rl__jnomem(jp);
    o = buf;
    while (p < q) {
        unsigned c = *p;
        if (c == '\\') {
            unsigned cp, lo;
            switch (p[1]) {
            case '"': *o++ = '"'; p += 2; continue;
            case '\\': *o++ = '\\'; p += 2; continue;
            case '/': *o++ = '/'; p += 2; continue;
            case 'b': *o++ = '\b'; p += 2; continue;
            case 'f': *o++ = '\f'; p += 2; continue;
            case 'n': *o++ = '\n'; p += 2; continue;
            case 'r': *o++ = '\r'; p += 2; continue;
            case 't': *o++ = '\t'; p += 2; continue;
            case 'u': break;
            default:
                if (p[1] >= 0x20 && p[1] < 0x7F) return rl__jerr(jp, p, "invalid escape '\\%c' in string", p[1]);
                return rl__jerr(jp, p, "invalid escape (backslash followed by byte 0x%02x) in string", p[1]);
            }
            if (rl__jhex4(p + 2, q, &cp)) return rl__jerr(jp, p, "invalid \\u escape: expected 4 hex digits");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return rl__jerr(jp, p, "lone low surrogate \\u%04X in string (JSON text must be valid Unicode)", cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (q - (p + 6) < 6 || p[6] != '\\' || p[7] != 'u' || rl__jhex4(p + 8, q, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return rl__jerr(jp, p, "lone high surrogate \\u%04X in string (must be followed by a \\uDC00-\\uDFFF escape)", cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 12;
            } else {
                p += 6;
            }
            o = rl__utf8_put(o, cp);
        } else if (c < 0x20) {
            return rl__jerr(jp, p, "control character 0x%02x in string (must be escaped)", c);
        } else if (c < 0x80) {
            *o++ = (unsigned char)c;
            p++;
        } else {
            int n = rl__utf8_len(p, q);
            if (!n) return rl__jerr(jp, p, "invalid UTF-8 (byte 0x%02x) in string", c);
            memcpy(o, p, (size_t)n);
            o += n;
            p += n;
        }
    }
    *o = 0;
    *out = (const char *)buf;
    *outlen = (int64_t)(o - buf);
    *pp = q + 1;
    return 0;
}

static int rl__jnumber(rl__jp *jp, const unsigned char **pp, rl_json *v) {
    const unsigned char *p = *pp, *start = p, *end = jp->end, *d0;
    int neg = 0, frac = 0;
    char local[64], *buf = local;
    size_t len;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') {
        if (p < end && *p == 'I') return rl__jerr(jp, start, "-Infinity is not valid JSON");
        return rl__jerr(jp, start, "invalid number: expected a digit after '-'");
    }
    d0 = p;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') return rl__jerr(jp, start, "invalid number: leading zeros are not allowed");
    } else {
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && *p == '.') {
        frac = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9') return rl__jerr(jp, p, "invalid number: expected a digit after '.'");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        frac = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return rl__jerr(jp, p, "invalid number: expected a digit in the exponent");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    v->type = RL_JSON_NUM;
    if (!frac) { /* integer: exact int64 when it fits */
        uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
        const unsigned char *d;
        int fits = 1;
        for (d = d0; d < p; d++) {
            unsigned dig = (unsigned)(*d - '0');
            if (u > (lim - dig) / 10) {
                fits = 0;
                break;
            }
            u = u * 10 + dig;
        }
        if (fits) {
            v->is_int = 1;
            v->i = neg ? (u == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)u) : (int64_t)u;
            v->num = (double)v->i;
            if (neg && u == 0) v->num = -0.0;
            *pp = p;
            return 0;
        }
    }
    len = (size_t)(p - start);
    if (len >= sizeof local) {
        buf = (char *)RL_MALLOC(len + 1);
        if (!buf) return rl__jnomem(jp);
    }
    memcpy(buf, start, len);
    buf[len] = 0;
    if (jp->dec_point != '.') { /* strtod follows the locale's decimal point */
        size_t k;
        for (k = 0; k < len; k++)
            if (buf[k] == '.') buf[k] = jp->dec_point;
    }
    v->num = strtod(buf, NULL);
    if (buf != local) RL_FREE(buf);
    if (v->num == HUGE_VAL || v->num == -HUGE_VAL) return rl__jerr(jp, start, "number out of range (larger than a double)");
    *pp = p;
    return 0;
}

static uint64_t rl__hash_bytes(const char *s, int64_t n) {
    uint64_t h = 1469598103934665603ull;
    int64_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Close an object whose n members sit at stk[sb..] / keys[kb..]: drop duplicate keys
   (value of the last occurrence at the position of the first), copy into the arena. */
static int rl__jclose_obj(rl__jp *jp, rl_json *v, size_t sb, size_t kb) {
    size_t n = jp->nstk - sb, i, j, m;
    rl_json *vals = jp->stk + sb;
    rl__jkey *ks = jp->keys + kb;
    size_t ndup = 0;
    if (n > 1) {
        /* mark duplicates: ks[j].len = -1 - i where i is the first occurrence */
        if (n <= 12) {
            for (j = 1; j < n; j++)
                for (i = 0; i < j; i++)
                    if (ks[i].len >= 0 && ks[i].len == ks[j].len && !memcmp(ks[i].k, ks[j].k, (size_t)ks[j].len)) {
                        vals[i] = vals[j];
                        ks[j].len = -1 - (int64_t)i;
                        ndup++;
                        break;
                    }
        } else {
            size_t cap = 16, mask;
            while (cap < 2 * n) cap *= 2;
            if (cap > jp->htcap) {
                uint32_t *t = (uint32_t *)RL_REALLOC(jp->ht, cap * sizeof(uint32_t));
                if (!t) return rl__jnomem(jp);
                jp->ht = t;
                jp->htcap = cap;
            }
            if (n > 0xFFFFFFFEu) return rl__jerr(jp, jp->end, "object has too many members");
            memset(jp->ht, 0xFF, cap * sizeof(uint32_t));
            mask = cap - 1;
            for (j = 0; j < n; j++) {
                size_t h = (size_t)rl__hash_bytes(ks[j].k, ks[j].len) & mask;
                for (;;) {
                    uint32_t e = jp->ht[h];
                    if (e == 0xFFFFFFFFu) {
                        jp->ht[h] = (uint32_t)j;
                        break;
                    }
                    if (ks[e].len == ks[j].len && !memcmp(ks[e].k, ks[j].k, (size_t)ks[j].len)) {
                        vals[e] = vals[j];
                        ks[j].len = -1 - (int64_t)e;
                        ndup++;
                        break;
                    }
                    h = (h + 1) & mask;
                }
            }
        }
    }
    if (ndup) {
        if (!jp->doc->dup_key) {
            for (j = 0; j < n && ks[j].len >= 0; j++) {}
            jp->doc->dup_key = ks[j].k;
            rl__json_linecol(jp->s, ks[j].at, &jp->doc->dup_line, &jp->doc->dup_col);
        }
        jp->doc->n_dup += (int64_t)ndup;
    }
    m = n - ndup;
    v->type = RL_JSON_OBJ;
    v->n = (int64_t)m;
    if (m) {
        rl_json *kids = (rl_json *)rl__jalloc(jp, m * sizeof(rl_json), 8);
        const char **keys = (const char **)rl__jalloc(jp, m * sizeof(char *), 8);
        int64_t *klen = (int64_t *)rl__jalloc(jp, m * sizeof(int64_t), 8);
        if (!kids || !keys || !klen) return rl__jnomem(jp);
        for (i = 0, j = 0; i < n; i++) {
            if (ks[i].len < 0) continue;
            kids[j] = vals[i];
            keys[j] = ks[i].k;
            klen[j] = ks[i].len;
            j++;
        }
        v->kids = kids;
        v->keys = keys;
        v->klen = klen;
    }
    jp->nstk = sb;
    jp->nkeys = kb;
    return 0;
}

static int rl__jvalue(rl__jp *jp, const unsigned char **pp, rl_json *v);

static int rl__jcontainer(rl__jp *jp, const unsigned char **pp, rl_json *v) {
    const unsigned char *p = *pp, *end = jp->end;
    int is_obj = *p == '{', rc;
    unsigned char close = is_obj ? '}' : ']';
    size_t sb = jp->nstk, kb = jp->nkeys;
    if (++jp->depth > RL_JSON_MAX_DEPTH) return rl__jerr(jp, p, "nesting deeper than %d arrays/objects", RL_JSON_MAX_DEPTH);
    p = rl__jws(p + 1, end);
    if (p < end && *p == close) {
        p++;
    } else {
        for (;;) {
            rl_json child;
            memset(&child, 0, sizeof child);
            if (is_obj) {
                rl__jkey key;
                if (p >= end) return rl__jerr(jp, p, "unexpected end of input inside an object (missing '}')");
                if (*p != '"') {
                    if (*p == '}') return rl__jerr(jp, p, "trailing comma before '}'");
                    if (*p == '\'') return rl__jerr(jp, p, "object keys must use double quotes");
                    return rl__jerr(jp, p, "expected a string key in object");
                }
                key.at = (size_t)(p - jp->s);
                if ((rc = rl__jstring(jp, &p, &key.k, &key.len))) return rc;
                {
                    rl__jkey *nk = (rl__jkey *)rl__grow(jp->keys, &jp->capkeys, jp->nkeys + 1, sizeof(rl__jkey));
                    if (!nk) return rl__jnomem(jp);
                    jp->keys = nk;
                }
                jp->keys[jp->nkeys++] = key;
                p = rl__jws(p, end);
                if (p >= end || *p != ':') return rl__jerr(jp, p, "expected ':' after object key");
                p = rl__jws(p + 1, end);
            } else if (p < end && *p == ']') {
                return rl__jerr(jp, p, "trailing comma before ']'");
            }
            if ((rc = rl__jvalue(jp, &p, &child))) return rc;
            {
                rl_json *ns = (rl_json *)rl__grow(jp->stk, &jp->capstk, jp->nstk + 1, sizeof(rl_json));
                if (!ns) return rl__jnomem(jp);
                jp->stk = ns;
            }
            jp->stk[jp->nstk++] = child;
            p = rl__jws(p, end);
            if (p < end && *p == ',') {
                p = rl__jws(p + 1, end);
                continue;
            }
            if (p < end && *p == close) {
                p++;
                break;
            }
            if (p >= end) return rl__jerr(jp, p, "unexpected end of input inside an %s (missing '%c')", is_obj ? "object" : "array", close);
            return rl__jerr(jp, p, "expected ',' or '%c' in %s", close, is_obj ? "object" : "array");
        }
    }
    if (is_obj) {
        if ((rc = rl__jclose_obj(jp, v, sb, kb))) return rc;
    } else {
        size_t n = jp->nstk - sb;
        v->type = RL_JSON_ARR;
        v->n = (int64_t)n;
        if (n) {
            v->kids = (rl_json *)rl__jalloc(jp, n * sizeof(rl_json), 8);
            if (!v->kids) return rl__jnomem(jp);
            memcpy(v->kids, jp->stk + sb, n * sizeof(rl_json));
        }
        jp->nstk = sb;
    }
    jp->depth--;
    *pp = p;
    return 0;
}

static int rl__jlit(const unsigned char *p, const unsigned char *end, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && !memcmp(p, lit, n);
}

static int rl__jvalue(rl__jp *jp, const unsigned char **pp, rl_json *v) {
    const unsigned char *p = rl__jws(*pp, jp->end), *end = jp->end;
    int rc;
    if (p >= end) return rl__jerr(jp, p, "unexpected end of input (expected a value)");
    switch (*p) {
    case '{':
    case '[':
        rc = rl__jcontainer(jp, &p, v);
        break;
    case '"':
        v->type = RL_JSON_STR;
        rc = rl__jstring(jp, &p, &v->str, &v->n);
        break;
    case 't':
    case 'f':
    case 'n':
        if (rl__jlit(p, end, "true")) {
            v->type = RL_JSON_BOOL;
            v->num = 1;
            p += 4;
        } else if (rl__jlit(p, end, "false")) {
            v->type = RL_JSON_BOOL;
            p += 5;
        } else if (rl__jlit(p, end, "null")) {
            v->type = RL_JSON_NULL;
            p += 4;
        } else {
            return rl__jerr(jp, p, "invalid literal (expected true, false or null)");
        }
        rc = 0;
        break;
    case 'N': return rl__jerr(jp, p, "NaN is not valid JSON");
    case 'I': return rl__jerr(jp, p, "Infinity is not valid JSON");
    case '/': return rl__jerr(jp, p, "comments are not allowed in JSON");
    case '\'': return rl__jerr(jp, p, "strings must use double quotes");
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            rc = rl__jnumber(jp, &p, v);
        } else if (*p == ']' || *p == '}' || *p == ',') {
            return rl__jerr(jp, p, "unexpected '%c' (expected a value)", *p);
        } else if (*p >= 0x20 && *p < 0x7F) {
            return rl__jerr(jp, p, "unexpected character '%c'", *p);
        } else {
            return rl__jerr(jp, p, "unexpected byte 0x%02x", *p);
        }
    }
    if (rc) return rc;
    *pp = p;
    return 0;
}

rl_status rl_json_parse(rl_json_doc *doc, const char *text, size_t len, const char *source) {
    rl__jp jp;
    const unsigned char *p;
    struct lconv *lc = localeconv();
    int rc;
    memset(doc, 0, sizeof *doc);
    rl_arena_init(&doc->arena, (size_t)1 << 16);
    memset(&jp, 0, sizeof jp);
    jp.s = (const unsigned char *)(text ? text : "");
    jp.end = jp.s + (text ? len : 0);
    jp.source = source ? source : "json";
    jp.doc = doc;
    jp.dec_point = lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point[0] : '.';
    p = jp.s;
    if (jp.end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        rc = rl__jerr(&jp, p, "starts with a UTF-8 byte order mark (not allowed in JSON)");
    } else if (rl__jws(p, jp.end) == jp.end) {
        rc = rl__jerr(&jp, jp.end, "empty input (no JSON value)");
    } else {
        rc = rl__jvalue(&jp, &p, &doc->root);
        if (!rc) {
            p = rl__jws(p, jp.end);
            if (p < jp.end) rc = rl__jerr(&jp, p, "unexpected data after the JSON value");
        }
    }
    RL_FREE(jp.stk);
    RL_FREE(jp.keys);
    RL_FREE(jp.ht);
    if (rc) {
        rl_status s = rc == -2 ? RL_ERR_NOMEM : RL_ERR_FORMAT;
        rl_json_free(doc);
        return s;
    }
    return RL_OK;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated); errors name the path. */
static rl_status rl__read_file(const char *path, size_t max_bytes, char **out, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    *out = NULL;
    *out_len = 0;
    if (!f) return rl__fail(RL_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    for (;;) {
        size_t got;
        if (len + 1 >= cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *nb;
            if (nc > max_bytes + 2) nc = max_bytes + 2;
            if (nc <= len + 1) {
                fclose(f);
                RL_FREE(buf);
                return rl__fail(RL_ERR_FORMAT, "%s: file is larger than the limit of %zu bytes", path, max_bytes);
            }
            nb = (char *)RL_REALLOC(buf, nc);
            if (!nb) {
                fclose(f);
                RL_FREE(buf);
                return rl__fail(RL_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            buf = nb;
            cap = nc;
        }
        got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        RL_FREE(buf);
        return rl__fail(RL_ERR_IO, "%s: read error (%s)", path, strerror(e));
    }
    fclose(f);
    if (len > max_bytes) {
        RL_FREE(buf);
        return rl__fail(RL_ERR_FORMAT, "%s: file is larger than the limit of %zu bytes", path, max_bytes);
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return RL_OK;
}

rl_status rl_json_parse_file(rl_json_doc *doc, const char *path, size_t max_bytes) {
    char *text;
    size_t len;
    rl_status s;
    memset(doc, 0, sizeof *doc);
    if (!max_bytes) max_bytes = (size_t)1 << 30;
    if ((s = rl__read_file(path, max_bytes, &text, &len)) != RL_OK) return s;
    s = rl_json_parse(doc, text, len, path);
    RL_FREE(text);
    return s;
}

void rl_json_free(rl_json_doc *doc) {
    if (!doc) return;
    rl_arena_free(&doc->arena);
    memset(doc, 0, sizeof *doc);
}

int rl_json_has_dup(const rl_json_doc *doc) { return doc && doc->n_dup > 0; }

const rl_json *rl_json_get(const rl_json *obj, const char *key) {
    int64_t k, n;
    if (!obj || obj->type != RL_JSON_OBJ || !key) return NULL;
    n = (int64_t)strlen(key);
    for (k = 0; k < obj->n; k++)
        if (obj->klen[k] == n && !memcmp(obj->keys[k], key, (size_t)n)) return &obj->kids[k];
    return NULL;
}

const char *rl_json_type_name(rl_json_type t) {
    switch (t) {
    case RL_JSON_NULL: return "null";
    case RL_JSON_BOOL: return "a boolean";
    case RL_JSON_NUM: return "a number";
    case RL_JSON_STR: return "a string";
    case RL_JSON_ARR: return "an array";
    case RL_JSON_OBJ: return "an object";
    }
    return "?";
}

static rl_status rl__jwant(const rl_json *v, const char *source, const char *field, const char *what) {
    if (!source) source = "json";
    if (!field) field = "value";
    if (!v) return rl__fail(RL_ERR_FORMAT, "%s: %s: missing (expected %s)", source, field, what);
    return rl__fail(RL_ERR_FORMAT, "%s: %s: expected %s, got %s", source, field, what, rl_json_type_name(v->type));
}

rl_status rl_json_expect(const rl_json *v, rl_json_type t, const char *source, const char *field) {
    if (v && v->type == t) return RL_OK;
    return rl__jwant(v, source, field, rl_json_type_name(t));
}

rl_status rl_json_as_int(const rl_json *v, const char *source, const char *field, int64_t *out) {
    if (v && v->type == RL_JSON_NUM && v->is_int) {
        *out = v->i;
        return RL_OK;
    }
    if (v && v->type == RL_JSON_NUM)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: expected an integer, got %.17g", source ? source : "json", field ? field : "value", v->num);
    return rl__jwant(v, source, field, "an integer");
}

rl_status rl_json_as_num(const rl_json *v, const char *source, const char *field, double *out) {
    if (v && v->type == RL_JSON_NUM) {
        *out = v->num;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a number");
}

rl_status rl_json_as_bool(const rl_json *v, const char *source, const char *field, int *out) {
    if (v && v->type == RL_JSON_BOOL) {
        *out = v->num != 0;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a boolean");
}

rl_status rl_json_as_str(const rl_json *v, const char *source, const char *field, const char **out) {
    if (v && v->type == RL_JSON_STR) {
        *out = v->str;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a string");
}

rl_status rl_json_get_int(const rl_json *obj, const char *key, const char *source, int64_t *out) {
    return rl_json_as_int(rl_json_get(obj, key), source, key, out);
}
rl_status rl_json_get_num(const rl_json *obj, const char *key, const char *source, double *out) {
    return rl_json_as_num(rl_json_get(obj, key), source, key, out);
}
rl_status rl_json_get_bool(const rl_json *obj, const char *key, const char *source, int *out) {
    return rl_json_as_bool(rl_json_get(obj, key), source, key, out);
}
rl_status rl_json_get_str(const rl_json *obj, const char *key, const char *source, const char **out) {
    return rl_json_as_str(rl_json_get(obj, key), source, key, out);
}

static int rl__jabsent(const rl_json *v) { return !v || v->type == RL_JSON_NULL; }

rl_status rl_json_get_int_or(const rl_json *obj, const char *key, const char *source, int64_t dflt, int64_t *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_int(v, source, key, out);
}
rl_status rl_json_get_num_or(const rl_json *obj, const char *key, const char *source, double dflt, double *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_num(v, source, key, out);
}
rl_status rl_json_get_bool_or(const rl_json *obj, const char *key, const char *source, int dflt, int *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_bool(v, source, key, out);
}
rl_status rl_json_get_str_or(const rl_json *obj, const char *key, const char *source, const char *dflt, const char **out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_str(v, source, key, out);
}

#endif /* RADLADS_IMPLEMENTATION (formats) */
