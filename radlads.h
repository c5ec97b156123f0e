/* radlads.h - RADLADS in one C file: distil softmax-attention transformers into
   recurrent RAD-RWKV decoders (Goldstein et al. 2025, arXiv 2505.03005).

   Do this:
       #define RADLADS_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the implementation.
   Every other file includes it without the define and sees only the declarations.

   Dependencies: libc, libm, pthreads. Link with -lm -lpthread.
   Optional: radlads_cuda.cu (CUDA Toolkit) swaps GPU kernels in when compiled with
   RADLADS_CUDA defined.

   Configuration macros (define before the implementation include):
       RL_MALLOC(sz) / RL_REALLOC(p,sz) / RL_FREE(p)   allocation hooks (default libc)
       RL_ASSERT(x)                                   internal invariants (default assert)
       RL_NO_SIMD                                     compile only the portable kernels

   Environment variables read at run time:
       RADLADS_ISA=scalar|avx2|avx512|neon    force a kernel path (default: best the CPU has)

   TABLE OF CONTENTS (each section opens with a banner "==== N. name ====")
       1. base          status codes, last error, allocation, logging, arenas,
                        thread pool, RNG, bf16/f16 conversion
       2. kernels       naive reference kernels; one SIMD template compiled per ISA
                        (scalar, AVX2+FMA, AVX-512, NEON); run-time dispatch; GEMM
       3. autodiff      tensors, the tape, every op with forward and backward side by side

   STATUS
       Sections 1-3 are complete and tested (tests/). Formats, models, conversion,
       training and inference (sections 4-8 of the design guide) are not written yet;
       README.md says what works today.

   CONVENTIONS
       Row-major everywhere. A Linear weight W is [out, in] and computes y = x·Wᵀ + b.
       Every fallible call returns rl_status (0 = RL_OK); rl_last_error() then says what
       went wrong in words. The library never exits and never prints: messages go to the
       callback set with rl_set_log().

   LICENSE: MIT, see the end of this file.
*/
#ifndef RADLADS_H
#define RADLADS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RADLADS_VERSION "0.1.0"

/* ==== 1. base (declarations) ============================================== */

typedef enum rl_status {
    RL_OK = 0,
    RL_ERR_ARG = -1,         /* a caller passed something invalid */
    RL_ERR_NOMEM = -2,       /* an allocation failed */
    RL_ERR_IO = -3,          /* open/read/write/rename failed */
    RL_ERR_FORMAT = -4,      /* a file is malformed or inconsistent */
    RL_ERR_UNSUPPORTED = -5, /* valid input we do not handle */
    RL_ERR_STATE = -6,       /* call made in the wrong state */
    RL_ERR_INTERRUPTED = -7  /* stopped on request (e.g. Ctrl-C) */
} rl_status;

/* Text of the last error raised on this thread ("" if none). */
const char *rl_last_error(void);
const char *rl_status_name(rl_status s);
void rl_clear_error(void);

enum { RL_LOG_ERROR = 0, RL_LOG_WARN = 1, RL_LOG_INFO = 2, RL_LOG_DEBUG = 3 };
typedef void (*rl_log_fn)(void *user, int level, const char *msg);
/* Install the log callback (NULL = silent, the default). */
void rl_set_log(rl_log_fn fn, void *user);
void rl_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Arena: bump allocation in chained blocks, 64-byte aligned, freed all at once.
   rl_arena_mark()/rl_arena_reset() rewind to a point and reuse the blocks. */
typedef struct rl__arena_block rl__arena_block;
typedef struct rl_arena {
    rl__arena_block *first, *cur;
    size_t block_size; /* minimum size of a new block (default 1 MiB) */
    size_t used;       /* bytes handed out since creation / last reset */
    size_t peak;       /* high-water mark of used */
} rl_arena;
typedef struct rl_arena_mark_t {
    rl__arena_block *block;
    size_t off, used;
} rl_arena_mark_t;

void rl_arena_init(rl_arena *a, size_t block_size);
void *rl_arena_alloc(rl_arena *a, size_t bytes);  /* NULL + error on failure */
void *rl_arena_zalloc(rl_arena *a, size_t bytes); /* zero-filled */
rl_arena_mark_t rl_arena_mark(const rl_arena *a);
void rl_arena_reset(rl_arena *a, rl_arena_mark_t m);
void rl_arena_free(rl_arena *a);

/* Thread pool. rl_pool_for() splits [0, n) into chunks of at least `grain` items and
   runs fn(ctx, begin, end, tid) on the caller plus the workers; tid < rl_pool_size().
   A NULL pool runs everything on the caller with tid 0. */
typedef struct rl_pool rl_pool;
typedef void (*rl_task_fn)(void *ctx, int64_t begin, int64_t end, int tid);
rl_pool *rl_pool_create(int n_threads); /* n_threads <= 0: online cores */
void rl_pool_free(rl_pool *p);
int rl_pool_size(const rl_pool *p);
void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_task_fn fn, void *ctx);
int rl_cpu_count(void);

/* RNG: xoshiro256** seeded through splitmix64. Deterministic across platforms. */
typedef struct rl_rng { uint64_t s[4]; } rl_rng;
void rl_rng_seed(rl_rng *r, uint64_t seed);
uint64_t rl_rng_u64(rl_rng *r);
float rl_rng_uniform(rl_rng *r);           /* [0, 1) with 24 random bits */
float rl_rng_normal(rl_rng *r);            /* N(0, 1), Box-Muller */

/* Number formats */
float rl_bf16_to_f32(uint16_t h);
uint16_t rl_f32_to_bf16(float f); /* round to nearest even, NaN -> 0x7FC0 */
float rl_f16_to_f32(uint16_t h);
uint16_t rl_f32_to_f16(float f);  /* round to nearest even */

/* ==== 2. kernels (declarations) =========================================== */

typedef enum rl_isa { RL_ISA_SCALAR = 0, RL_ISA_AVX2 = 1, RL_ISA_AVX512 = 2, RL_ISA_NEON = 3 } rl_isa;
const char *rl_isa_name(rl_isa isa);
rl_isa rl_isa_best(void);          /* best path this CPU and build support */
rl_isa rl_isa_active(void);        /* path in use (RADLADS_ISA or best) */
rl_status rl_isa_set(rl_isa isa);  /* force a path; error if unsupported here */

typedef enum rl_dtype { RL_F32 = 0, RL_BF16 = 1, RL_F16 = 2, RL_I32 = 3 } rl_dtype;

/* General matrix product C[M,N] (+)= A[M,K] · B[K,N].
   A(i,k) = A[i*a_rs + k*a_cs]; B(k,j) = B[k*b_rs + j*b_cs] of type b_type (F32 or BF16);
   C is row-major with row stride ldc. accumulate = 0 overwrites C. */
void rl_gemm(rl_pool *pool, int64_t M, int64_t N, int64_t K,
             const float *A, int64_t a_rs, int64_t a_cs,
             const void *B, rl_dtype b_type, int64_t b_rs, int64_t b_cs,
             float *C, int64_t ldc, int accumulate);
/* The three layouts a Linear layer needs:
     y[M,N]  = x[M,K]·W[N,K]ᵀ (+ bias[N])     forward         (rl_matmul_nt)
     dx[M,K] (+)= dy[M,N]·W[N,K]              input gradient  (rl_matmul_nn)
     dW[N,K] (+)= dy[M,N]ᵀ·x[M,K]             weight gradient (rl_matmul_tn) */
void rl_matmul_nt(rl_pool *pool, float *y, const float *x, const void *W, rl_dtype wt,
                  const float *bias, int64_t M, int64_t N, int64_t K);
void rl_matmul_nn(rl_pool *pool, float *dx, const float *dy, const void *W, rl_dtype wt,
                  int64_t M, int64_t N, int64_t K, int accumulate);
void rl_matmul_tn(rl_pool *pool, float *dW, const float *dy, const float *x,
                  int64_t M, int64_t N, int64_t K, int accumulate);

/* ==== 3. autodiff (declarations) ========================================== */

#define RL_MAX_DIMS 4
typedef struct rl_tensor {
    void *data;                  /* F32: float*, BF16: uint16_t* (frozen weights only) */
    float *grad;                 /* same shape, F32; NULL until needed */
    int64_t shape[RL_MAX_DIMS];  /* outermost first; unused dims are 1 */
    int ndim;
    int64_t n;                   /* number of elements */
    rl_dtype dtype;
    int requires_grad;           /* a parameter that trains, or computed from one */
    const char *name;            /* optional, for messages */
} rl_tensor;

/* Helpers on a tensor's shape: rows = product of all but the last dim. */
int64_t rl_rows(const rl_tensor *t);
int64_t rl_cols(const rl_tensor *t);
float *rl_f32(const rl_tensor *t); /* data as float*; NULL unless F32 */

typedef struct rl__node rl__node;
typedef struct rl_ctx {
    rl_pool *pool;   /* borrowed; NULL = single-threaded */
    rl_arena arena;  /* activations, their gradients and the tape; reset per step */
    rl__node **tape; /* recorded ops, in execution order */
    int n_tape, cap_tape;
    int no_grad;     /* > 0: record nothing (frozen parts, evaluation) */
    int scan_chunk;  /* scans without gradient: 0 = token by token (default), L > 0 = the
                        chunked parallel form with chunks of L tokens (same result) */
    rl_status err;   /* first error raised by an op since rl_ctx_reset (sticky) */
} rl_ctx;

void rl_ctx_init(rl_ctx *c, rl_pool *pool);
void rl_ctx_free(rl_ctx *c);
/* Forget the tape and every activation (parameters are not touched). */
void rl_ctx_reset(rl_ctx *c);
/* Tensor whose storage lives in the context arena (zeroed). */
rl_tensor *rl_new(rl_ctx *c, int ndim, const int64_t *shape);
rl_tensor *rl_new2(rl_ctx *c, int64_t rows, int64_t cols);
/* A tensor over caller-owned memory (parameters, inputs). */
rl_tensor rl_wrap(void *data, rl_dtype dt, int ndim, const int64_t *shape, int requires_grad);
/* Backpropagate from a scalar `loss` (seed gradient 1). Gradients of parameters are
   accumulated into their .grad buffers, which the caller owns and zeroes. */
rl_status rl_backward(rl_ctx *c, rl_tensor *loss);
void rl_no_grad_push(rl_ctx *c);
void rl_no_grad_pop(rl_ctx *c);

/* Ops. Each returns a new tensor in the context arena, or NULL after setting the
   context's error (further ops on NULL inputs return NULL, so a whole forward pass can
   be checked once at the end with c->err). "rows" means every dimension but the last. */
rl_tensor *rl_add(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a + b, same shape */
rl_tensor *rl_sub(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a - b */
rl_tensor *rl_mul(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a ⊙ b */
rl_tensor *rl_add_row(rl_ctx *c, rl_tensor *x, rl_tensor *b);    /* x + b, b = [cols] */
rl_tensor *rl_mul_row(rl_ctx *c, rl_tensor *x, rl_tensor *w);    /* x ⊙ w, w = [cols] */
rl_tensor *rl_scale(rl_ctx *c, rl_tensor *x, float s);
rl_tensor *rl_linear(rl_ctx *c, rl_tensor *x, rl_tensor *W, rl_tensor *b); /* x·Wᵀ + b; W [N,K] */
rl_tensor *rl_matmul(rl_ctx *c, rl_tensor *x, rl_tensor *A);     /* x·A; A [K,N] (LoRA) */
rl_tensor *rl_rmsnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, float eps);
rl_tensor *rl_groupnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, rl_tensor *b, int groups, float eps);
rl_tensor *rl_softmax(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_logsoftmax(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_exp(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_sigmoid(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_tanh(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_softplus(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_silu(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_swiglu(rl_ctx *c, rl_tensor *gate, rl_tensor *up); /* silu(gate) ⊙ up */
rl_tensor *rl_l2norm(rl_ctx *c, rl_tensor *x, int head_dim, float eps); /* per head */
/* RoPE, HF rotate-half pairing (i, i + d/2), on x [B*T, n_heads*head_dim] with
   positions pos0 .. pos0+T-1 for each of the B sequences. inv_freq has head_dim/2 entries. */
rl_tensor *rl_rope(rl_ctx *c, rl_tensor *x, int64_t T, int head_dim, const float *inv_freq, int64_t pos0);
/* Causal softmax attention with GQA: q [B*T, H*d], k and v [B*T, KVH*d]; query head h
   reads kv head h / (H/KVH). Scale d^-1/2. Output [B*T, H*d]. */
rl_tensor *rl_attention(rl_ctx *c, rl_tensor *q, rl_tensor *k, rl_tensor *v, int64_t T, int n_heads, int n_kv_heads);
rl_tensor *rl_embedding(rl_ctx *c, const int32_t *ids, int64_t n_ids, rl_tensor *E);
/* Scalar losses (mean over rows) */
rl_tensor *rl_cross_entropy(rl_ctx *c, rl_tensor *logits, const int32_t *targets);
rl_tensor *rl_kl_div(rl_ctx *c, rl_tensor *student_logits, rl_tensor *teacher_logits); /* KL(T‖S) */
rl_tensor *rl_l2_dist(rl_ctx *c, rl_tensor *y, rl_tensor *target); /* mean_rows ‖y−t‖₂/√cols */
rl_tensor *rl_sum(rl_ctx *c, rl_tensor *x);
rl_tensor *rl_dot_const(rl_ctx *c, rl_tensor *x, const float *w); /* Σ x⊙w (w constant) */
rl_tensor *rl_add_scalar(rl_ctx *c, rl_tensor *x, float s);        /* x + s */
rl_tensor *rl_slice_cols(rl_ctx *c, rl_tensor *x, int64_t start, int64_t len); /* x[:, start:start+len] */
/* [R, kv_heads*d] -> [R, heads*d]: query head h takes kv head h / (heads/kv_heads) */
rl_tensor *rl_repeat_kv(rl_ctx *c, rl_tensor *x, int heads, int kv_heads);
/* Token shift: row t of each length-T sequence gets row t-1; the first row of sequence b
   gets shift_in[b] (NULL = zeros). shift_in may require a gradient. */
rl_tensor *rl_token_shift(rl_ctx *c, rl_tensor *x, int64_t T, rl_tensor *shift_in);


/* ==== 4. formats (declarations) =========================================== */


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

/* ---- 4c. config.json (the teacher) -------------------------------------------------------
   Reads a Hugging Face config.json of a Qwen2ForCausalLM (Qwen2/Qwen2.5) or LlamaForCausalLM
   (Llama-3.x, SmolLM2) checkpoint, in the transformers v4 form (top-level rope_theta,
   rope_scaling, torch_dtype) or the v5 form (rope_parameters, dtype), formats.md §2.
   Required: vocab_size, hidden_size, intermediate_size, num_hidden_layers,
   num_attention_heads. Defaults as in Qwen2Config/LlamaConfig otherwise: num_key_value_heads
   = heads, head_dim = hidden/heads, max_position_embeddings 32768 (Qwen2) / 2048 (Llama),
   rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false, bos/eos none (Qwen2) or
   1/2 (Llama). Qwen2 always has q/k/v biases (no o bias); Llama's attention_bias puts
   biases on q, k, v and o, mlp_bias on gate/up/down. RoPE scaling: default, linear, llama3;
   others (dynamic, yarn, longrope) and partial_rotary_factor != 1 are RL_ERR_UNSUPPORTED, as
   are hidden_act other than silu and any layer with sliding-window attention (Qwen2
   use_sliding_window true with max_window_layers < layers, or "sliding_attention" in
   layer_types). Unknown architectures/model_type: RL_ERR_UNSUPPORTED naming it. */
typedef enum rl_arch { RL_ARCH_LLAMA = 1, RL_ARCH_QWEN2 = 2 } rl_arch;
enum { RL_ROPE_NONE = 0, RL_ROPE_LLAMA3 = 1, RL_ROPE_LINEAR = 2 };
#define RL_CONFIG_MAX_EOS 8
typedef struct rl_config {
    rl_arch arch;
    char model_type[32];
    int64_t vocab_size, hidden_size, intermediate_size, n_layers, n_heads, n_kv_heads, head_dim, max_pos;
    float rms_eps;
    double rope_theta;
    int rope_scaling;        /* RL_ROPE_NONE, RL_ROPE_LLAMA3, RL_ROPE_LINEAR */
    double rope_factor, rope_low_freq, rope_high_freq; /* llama3: factor, low/high_freq_factor; linear: factor */
    int64_t rope_orig_max_pos;                         /* llama3: original_max_position_embeddings */
    int tie_embeddings;
    int attn_bias;           /* q/k/v bias (Qwen2: always; Llama: attention_bias) */
    int o_bias;              /* o_proj bias (Llama attention_bias) */
    int mlp_bias;            /* gate/up/down bias (Llama mlp_bias) */
    int32_t bos_id;          /* -1 if none */
    int32_t eos_ids[RL_CONFIG_MAX_EOS];
    int n_eos;
    rl_dtype dtype;          /* torch_dtype (v4) / dtype (v5); RL_F32 when absent */
    /* RADLADS students (architectures RWKV6Qwen2ForCausalLM / RWKV7Qwen2ForCausalLM,
       model_type rwkv6qwen2 / rwkv7qwen2, formats.md §5.2); arch is then RL_ARCH_QWEN2 and
       attention_bias (default true) says whether q/k/v have biases */
    int student;             /* 0: a transformer; 6: RAD-RWKV6; 7: RAD-RWKV7 */
    int lora_tokenshift, lora_decay, lora_iclr, lora_value_residual, lora_gate; /* 0: the paper's formula */
    int gate_rank_type, balance_state, groupnorm_att, use_tokenshift, use_rope;
    int n_attention_layers;  /* hybrid: the last n layers keep softmax attention */
} rl_config;

rl_status rl_config_load(rl_config *cfg, const char *path_to_config_json);
/* The same from text in memory; `source` names it in messages. */
rl_status rl_config_parse(rl_config *cfg, const char *text, size_t len, const char *source);
/* RoPE inverse frequencies, head_dim/2 of them: theta^(-2i/head_dim), then the scaling rule
   (llama3 exactly as transformers' _compute_llama3_parameters; linear: / factor), computed in
   double and rounded to float once. */
void rl_rope_inv_freq(const rl_config *cfg, float *inv_freq);

/* ---- GGUF (llama.cpp's model container; formats.md §5.3-5.7) ----
   Little-endian GGUF versions 2 and 3. The file is mmap()ed read-only; tensor data is
   read in place. Every key, tensor name and string value is copied as a NUL-terminated
   string (its length is kept too, since GGUF strings may hold NUL bytes). */

typedef enum rl_gguf_type { /* metadata value types */
    RL_GGUF_UINT8 = 0, RL_GGUF_INT8 = 1, RL_GGUF_UINT16 = 2, RL_GGUF_INT16 = 3,
    RL_GGUF_UINT32 = 4, RL_GGUF_INT32 = 5, RL_GGUF_FLOAT32 = 6, RL_GGUF_BOOL = 7,
    RL_GGUF_STRING = 8, RL_GGUF_ARRAY = 9, RL_GGUF_UINT64 = 10, RL_GGUF_INT64 = 11,
    RL_GGUF_FLOAT64 = 12
} rl_gguf_type;

typedef enum rl_ggml_type { /* tensor element types (ggml.h numbering) */
    RL_GGML_F32 = 0, RL_GGML_F16 = 1, RL_GGML_Q4_0 = 2, RL_GGML_Q4_1 = 3,
    RL_GGML_Q5_0 = 6, RL_GGML_Q5_1 = 7, RL_GGML_Q8_0 = 8, RL_GGML_Q8_1 = 9,
    RL_GGML_Q2_K = 10, RL_GGML_Q3_K = 11, RL_GGML_Q4_K = 12, RL_GGML_Q5_K = 13,
    RL_GGML_Q6_K = 14, RL_GGML_Q8_K = 15, RL_GGML_IQ2_XXS = 16, RL_GGML_IQ2_XS = 17,
    RL_GGML_IQ3_XXS = 18, RL_GGML_IQ1_S = 19, RL_GGML_IQ4_NL = 20, RL_GGML_IQ3_S = 21,
    RL_GGML_IQ2_S = 22, RL_GGML_IQ4_XS = 23, RL_GGML_I8 = 24, RL_GGML_I16 = 25,
    RL_GGML_I32 = 26, RL_GGML_I64 = 27, RL_GGML_F64 = 28, RL_GGML_IQ1_M = 29,
    RL_GGML_BF16 = 30, RL_GGML_TQ1_0 = 34, RL_GGML_TQ2_0 = 35, RL_GGML_MXFP4 = 39,
    RL_GGML_NVFP4 = 40, RL_GGML_Q1_0 = 41
} rl_ggml_type;

typedef struct rl_gguf_str {
    const char *s; /* NUL-terminated copy */
    uint64_t len;  /* bytes, without the NUL */
} rl_gguf_str;

/* One metadata value. Numbers are widened: an integer or bool sets i (and u when it is
   not negative) and f; a float sets f. */
typedef struct rl_gguf_value {
    rl_gguf_type type;
    int64_t i;
    uint64_t u;
    double f;
    rl_gguf_str str;               /* STRING */
    rl_gguf_type elem_type;        /* ARRAY: type of the elements */
    uint64_t n;                    /* ARRAY: number of elements */
    const unsigned char *raw;      /* ARRAY of numbers/bools: packed little-endian elements in the file */
    rl_gguf_str *strs;             /* ARRAY of STRING: n strings */
    struct rl_gguf_value *elems;   /* ARRAY of ARRAY: n values */
} rl_gguf_value;

typedef struct rl_gguf_kv {
    const char *key;
    rl_gguf_value val;
} rl_gguf_kv;

typedef struct rl_gguf_tensor {
    const char *name;
    rl_ggml_type type;
    int n_dims;          /* as stored, 0..4 */
    int64_t ne[4];       /* ggml order: ne[0] varies fastest; unused dims are 1 */
    int64_t n;           /* number of elements */
    uint64_t offset;     /* from the start of the data section */
    uint64_t nbytes;
    const void *data;    /* in the read-only mapping; file offset is a multiple of the
                            alignment, but a hostile file may use alignment 1: read
                            through rl_gguf_tensor_f32, or memcpy, not as float* */
} rl_gguf_tensor;

typedef struct rl_gguf {
    char *path;             /* the name used in messages */
    uint32_t version;       /* 2 or 3 */
    uint32_t alignment;     /* general.alignment, default 32 */
    int64_t n_kv, n_tensors;
    rl_gguf_kv *kv;         /* in file order */
    rl_gguf_tensor *tensors;/* in file order */
    uint64_t data_offset;   /* file offset of the data section */
    uint64_t size;          /* file size in bytes */
    const unsigned char *base; /* the whole file */
    /* private */
    int64_t *kv_order_, *t_order_; /* indices sorted by key / name, for lookups */
    rl_arena arena_;
    char *pool_;
    size_t pool_left_;
    int map_kind_;          /* 0 borrowed, 1 mmap, 2 malloc */
} rl_gguf;

/* Open and validate a GGUF file: header, every metadata value, every tensor info, data
   ranges, alignment, overlaps. On failure *g is left closed and rl_last_error() names
   the file and the key or tensor at fault. */
rl_status rl_gguf_open(rl_gguf *g, const char *path);
/* The same over bytes already in memory (borrowed until rl_gguf_close); name is used in
   messages. */
rl_status rl_gguf_open_memory(rl_gguf *g, const void *data, size_t size, const char *name);
void rl_gguf_close(rl_gguf *g);

const rl_gguf_kv *rl_gguf_find(const rl_gguf *g, const char *key);               /* NULL if absent */
const rl_gguf_tensor *rl_gguf_find_tensor(const rl_gguf *g, const char *name);   /* NULL if absent */
/* Typed getters; RL_ERR_FORMAT naming file and key if the key is missing or has another
   type. get_int takes any integer type (u64 only up to INT64_MAX); get_float takes
   FLOAT32/FLOAT64; get_array checks the element type (pass RL_GGUF_ARRAY for arrays of
   arrays). */
rl_status rl_gguf_get_int(const rl_gguf *g, const char *key, int64_t *out);
rl_status rl_gguf_get_float(const rl_gguf *g, const char *key, double *out);
rl_status rl_gguf_get_bool(const rl_gguf *g, const char *key, int *out);
rl_status rl_gguf_get_str(const rl_gguf *g, const char *key, const char **s, uint64_t *len);
rl_status rl_gguf_get_array(const rl_gguf *g, const char *key, rl_gguf_type elem_type, const rl_gguf_value **arr);
/* Element i of an ARRAY of numbers/bools (RL_ERR_ARG if out of range or not numeric). */
rl_status rl_gguf_arr_int(const rl_gguf_value *arr, uint64_t i, int64_t *out);
rl_status rl_gguf_arr_float(const rl_gguf_value *arr, uint64_t i, double *out);

const char *rl_gguf_type_name(rl_gguf_type t);  /* "UINT32", ... */
const char *rl_ggml_type_name(int type);        /* "Q4_K", ...; "unknown" */
/* Block size (elements) and bytes per block of a ggml type; 0 if the type is unknown. */
int rl_ggml_type_size(int type, int64_t *block_size, int64_t *type_size);
/* 1 for the types rl_ggml_dequantize handles: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
   Q4_K Q5_K Q6_K. */
int rl_ggml_can_dequantize(int type);
/* Convert n elements (a multiple of the block size) to fp32. */
rl_status rl_ggml_dequantize(int type, const void *src, float *dst, int64_t n);
/* A tensor as fp32; dst holds t->n floats. */
rl_status rl_gguf_tensor_f32(const rl_gguf *g, const rl_gguf_tensor *t, float *dst);
/* Row-major (PyTorch) shape = ne reversed; returns the number of dims (>= 1). */
int rl_gguf_tensor_shape(const rl_gguf_tensor *t, int64_t shape[4]);

/* ---- Llama / Qwen2 teachers stored as GGUF ---- */
typedef struct rl_gguf_llama_hparams {
    char arch[16];              /* general.architecture: "llama" or "qwen2" */
    int64_t n_layers;           /* {arch}.block_count */
    int64_t hidden_size;        /* {arch}.embedding_length */
    int64_t intermediate_size;  /* {arch}.feed_forward_length */
    int64_t n_heads;            /* {arch}.attention.head_count */
    int64_t n_kv_heads;         /* {arch}.attention.head_count_kv (default n_heads) */
    int64_t head_dim;           /* {arch}.attention.key_length (default hidden/heads) */
    int64_t rope_dim;           /* {arch}.rope.dimension_count (default head_dim) */
    int64_t context_length;     /* {arch}.context_length (0 if absent) */
    int64_t vocab_size;         /* tokenizer.ggml.tokens length, else {arch}.vocab_size, else token_embd rows */
    double rope_theta;          /* {arch}.rope.freq_base (default 10000) */
    double rms_norm_eps;        /* {arch}.attention.layer_norm_rms_epsilon */
    int tie_word_embeddings;    /* 1: no output.weight, lm_head is the embedding */
    int qk_permuted;            /* 1 (arch llama): Q/K rows are in llama.cpp's interleaved RoPE
                                   order; rl_gguf_llama_tensors restores HF's rotate-half order */
    int has_rope_freqs;         /* 1: rope_freqs.weight present: per-frequency divisors of the
                                   inverse frequencies (how the converter stores Llama-3.1 scaling) */
    char rope_scaling_type[16]; /* {arch}.rope.scaling.type ("linear", "yarn", "none"), "" if absent */
    double rope_scaling_factor; /* {arch}.rope.scaling.factor, 0 if absent */
    int64_t rope_scaling_orig_ctx; /* {arch}.rope.scaling.original_context_length, 0 if absent */
    int attn_bias;              /* 1: blk.0.attn_q.bias present (Qwen2) */
    int o_bias;                 /* 1: blk.0.attn_output.bias present */
} rl_gguf_llama_hparams;

rl_status rl_gguf_llama_hparams_read(const rl_gguf *g, rl_gguf_llama_hparams *hp);
/* GGUF tensor name -> Hugging Face name ("blk.3.attn_q.weight" ->
   "model.layers.3.self_attn.q_proj.weight"); RL_ERR_UNSUPPORTED if it has none. */
rl_status rl_gguf_hf_name(const char *gguf_name, char *out, size_t cap);
/* Called once per tensor in file order. hf_name is NULL for a tensor with no HF
   counterpart (rope_freqs.weight, or anything outside the llama/qwen2 tensor set: the
   caller decides whether that is an error); such a tensor's data is NULL when its type
   cannot be converted to fp32. shape is row-major (HF); data is fp32 in HF layout, valid
   only during the call. A non-OK return stops the walk and is returned. */
typedef rl_status (*rl_gguf_tensor_fn)(void *user, const char *hf_name, const rl_gguf_tensor *t,
                                       int ndim, const int64_t *shape, const float *data);
/* Dequantize every tensor, undo the Q/K permutation where hp->qk_permuted, check each
   shape against hp, and hand it to fn. */
rl_status rl_gguf_llama_tensors(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_gguf_tensor_fn fn, void *user);
/* llama.cpp's convert_hf_to_gguf permute of a [n_heads*head_dim, cols] Q or K weight
   (or bias, cols = 1), in place: HF rotate-half row order <-> interleaved pairs.
   rl_gguf_permute_qk is the converter's direction (for export), unpermute its inverse. */
rl_status rl_gguf_permute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads);
rl_status rl_gguf_unpermute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads);

/* ---- tokenizer arrays (tokenizer.ggml.*) ----
   The strings are g's own: valid until rl_gguf_close(g). */
typedef struct rl_gguf_vocab {
    const char *model;        /* tokenizer.ggml.model: "gpt2" = byte-level BPE ("" if absent) */
    const char *pre;          /* tokenizer.ggml.pre, e.g. "smollm", "qwen2", "llama-bpe"; NULL if absent */
    int64_t n_tokens;
    const char **tokens;      /* [n_tokens], id = index */
    const uint64_t *token_len;/* [n_tokens] bytes of each token */
    int32_t *token_type;      /* [n_tokens] or NULL: 1 normal 2 unknown 3 control 4 user-defined 5 unused 6 byte */
    float *scores;            /* [n_tokens] or NULL (SentencePiece models) */
    int64_t n_merges;
    const char **merges;      /* [n_merges] "left right" in rank order, or NULL */
    int64_t bos_id, eos_id, unk_id, pad_id, sep_id, mask_id, eot_id, eom_id; /* -1 if absent */
    int add_bos, add_eos, add_space_prefix;   /* -1 if absent, else 0/1 */
    const char *chat_template;/* tokenizer.chat_template or NULL */
} rl_gguf_vocab;

rl_status rl_gguf_vocab_read(const rl_gguf *g, rl_gguf_vocab *v);
void rl_gguf_vocab_free(rl_gguf_vocab *v);

/* ---- GGUF writer ----
   Collects metadata and tensors, then rl_gguf_write() writes version 3 to
   "<path>.tmp" and renames it over path. Setting "general.alignment" (UINT32, power of
   two) changes the data alignment from 32. Errors are sticky: after a failed add, every
   later call returns the same status, so a sequence of adds can be checked once. */
typedef struct rl_gguf_writer rl_gguf_writer;
/* Fills nbytes of a tensor's data into dst when the file is written. */
typedef rl_status (*rl_gguf_fill_fn)(void *user, const char *name, void *dst, uint64_t nbytes);

rl_gguf_writer *rl_gguf_writer_new(void);
void rl_gguf_writer_free(rl_gguf_writer *w);
rl_status rl_gguf_add_u32(rl_gguf_writer *w, const char *key, uint32_t v);
rl_status rl_gguf_add_i32(rl_gguf_writer *w, const char *key, int32_t v);
rl_status rl_gguf_add_u64(rl_gguf_writer *w, const char *key, uint64_t v);
rl_status rl_gguf_add_i64(rl_gguf_writer *w, const char *key, int64_t v);
rl_status rl_gguf_add_f32(rl_gguf_writer *w, const char *key, float v);
rl_status rl_gguf_add_f64(rl_gguf_writer *w, const char *key, double v);
rl_status rl_gguf_add_bool(rl_gguf_writer *w, const char *key, int v);
rl_status rl_gguf_add_str(rl_gguf_writer *w, const char *key, const char *s);
/* Any scalar type; value points to a uint8_t/int8_t/.../double/char (bool) of that type,
   or to a const char * for STRING. */
rl_status rl_gguf_add_scalar(rl_gguf_writer *w, const char *key, rl_gguf_type type, const void *value);
/* Array of n scalars; elems is a C array of the element type (uint8_t[], float[], ...,
   char[] of 0/1 for BOOL, const char *[] for STRING). */
rl_status rl_gguf_add_array(rl_gguf_writer *w, const char *key, rl_gguf_type elem_type, const void *elems, uint64_t n);
/* Any value tree, nested arrays included (e.g. one read by rl_gguf_open). */
rl_status rl_gguf_add_value(rl_gguf_writer *w, const char *key, const rl_gguf_value *v);
/* A tensor of n_dims (0..4; 0 = scalar) with ggml dims ne (ne[0] fastest); data is borrowed until
   rl_gguf_write and holds exactly the bytes the type and dims call for. */
rl_status rl_gguf_add_tensor(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims,
                             const int64_t *ne, const void *data);
/* The same with the data produced by fill() at write time. */
rl_status rl_gguf_add_tensor_fn(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims,
                                const int64_t *ne, rl_gguf_fill_fn fill, void *user);
rl_status rl_gguf_write(rl_gguf_writer *w, const char *path);


/* ==== 5. models (declarations) ============================================ */

/* RAD-RWKV6 gated-linear-attention scan (spec §4.2-4.4). Per query head h, which reads
   kv head h/(H/KVH):  w = exp(logw), k' = k ⊙ (1 − w), S = diag(w)·S + k'ᵀv,
   o = N^-½ · r·S   (current token included, no bonus).
   r, logw: [B*T, H*N]; k, v: [B*T, KVH*N]; state: [B, H, N, N] holding S[j][i] (key j,
   value i), NULL = zeros. Returns o [B*T, H*N]; *state_out gets the final state. */
rl_tensor *rl_wkv6(rl_ctx *c, rl_tensor *r, rl_tensor *k, rl_tensor *v, rl_tensor *logw, int64_t T, int H, int KVH,
                   rl_tensor *state, rl_tensor **state_out);
/* RWKV-7 generalized delta rule (spec §5.3), every input [B*T, H*N] (heads expanded):
   per head sa = S·a, S = S·diag(w) + sa·bᵀ + v·kᵀ, y = S·r, with S[i][j] (value i, key j).
   RADLADS passes a = −κ, b = κ ⊙ a_iclr, k = k̃. */
rl_tensor *rl_wkv7(rl_ctx *c, rl_tensor *r, rl_tensor *w, rl_tensor *k, rl_tensor *v, rl_tensor *a, rl_tensor *b,
                   int64_t T, int H, rl_tensor *state, rl_tensor **state_out);
/* RAD-RWKV6 log-decay with the clamp: max(−exp(d), −5) */
rl_tensor *rl_rwkv6_logdecay(rl_ctx *c, rl_tensor *d);
/* Last row of each length-T sequence: [B*T, C] -> [B, C] */
rl_tensor *rl_seq_last(rl_ctx *c, rl_tensor *x, int64_t T);

/* A sequence mixer: the teacher's softmax attention, or a RAD-RWKV6/7 student mixer that
   reuses the teacher's q/k/v/o projections as r/k/v/o. */
typedef enum rl_mixer_kind { RL_MIXER_ATTENTION = 0, RL_MIXER_RWKV6 = 6, RL_MIXER_RWKV7 = 7 } rl_mixer_kind;

typedef struct rl_mixer_cfg {
    rl_mixer_kind kind;
    int layer, n_layers;       /* this layer's index and the model's depth (for inits) */
    int64_t C, H, KVH, N;      /* model width, query heads, kv heads, head size */
    int attn_bias;             /* q/k/v have biases (Qwen2) */
    int use_tokenshift;        /* RWKV6: ddlerp token shift */
    int balance_state;         /* RWKV6: k·(1−w). RWKV7: κ = normalize(k), k̃ = k⊙(1−w+a) (paper v4);
                                  0 = κ = normalize(k⊙k_k), k̃ = k⊙(1+(a−1)⊙k_a) (release) */
    int groupnorm_att;         /* RWKV7: GroupNorm ln_x after the scan; 0 = scale by N^-½ */
    int use_rope;              /* RoPE on r and k (attention and RWKV7: yes; RWKV6: ablation) */
    int r_ts, r_d;             /* RWKV6 LoRA ranks: token shift, decay */
    int r_w, r_a, r_v, r_g;    /* RWKV7 LoRA ranks: decay, in-context rate, value residual, gate */
    float ln_eps;              /* RWKV7 GroupNorm eps (spec: N·1e-5) */
    const float *inv_freq;     /* N/2 RoPE inverse frequencies (borrowed) */
} rl_mixer_cfg;

typedef struct rl_mixer {
    rl_mixer_cfg cfg;
    /* from the teacher: q/k/v/o (r/k/v/o in the students) */
    rl_tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w;
    /* RAD-RWKV6 (spec §4.1) */
    rl_tensor maa_x, maa_r, maa_k, maa_v, maa_w, maa_g, maa_w1, maa_w2, decay, decay_w1, decay_w2, gate_w;
    /* RAD-RWKV7 (spec §5.2) */
    rl_tensor w0, w1, w2, a0, a1, a2, v0, v1, v2, g1, g2, k_k, k_a, r_k, lnx_w, lnx_b;
} rl_mixer;

/* Visit every parameter of a mixer with its checkpoint name (no layer prefix), e.g.
   "q_proj.weight", "time_maa_w1", "w0", "ln_x.weight". */
typedef void (*rl_param_fn)(void *user, const char *name, rl_tensor *t);
void rl_mixer_params(rl_mixer *m, rl_param_fn fn, void *user);
/* Set shapes from cfg and allocate parameters (zeroed) in `params` (NULL: shapes only),
   and F32 gradient buffers in `grads` when it is not NULL. */
rl_status rl_mixer_alloc(rl_mixer *m, const rl_mixer_cfg *cfg, rl_arena *params, rl_arena *grads);
/* LoRA rank of the paper's helper: max(1, round(C^e · m / 32)) · 32 (spec §3.0) */
int rl_lora_rank(int64_t C, double e, double m);

/* Inputs and outputs of one mixer call besides x. NULL inputs mean zeros. */
typedef struct rl_mixer_io {
    rl_tensor *state_in, *shift_in;    /* [B,H,N,N] scan state; [B,C] RWKV6 shift state */
    rl_tensor *state_out, *shift_out;  /* set by the call */
    rl_tensor *v_first;                /* RWKV7: input for layer > 0, output of layer 0 */
    float *kcache, *vcache;            /* attention while decoding (B = 1): [cache_cap, KVH*N] */
    int64_t cache_cap;
} rl_mixer_io;
/* x [B*T, C] (the normalized residual), positions pos0 .. pos0+T-1. Returns [B*T, C]. */
rl_tensor *rl_mixer_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io);


/* ---- the whole model: teacher transformer or RAD-RWKV student ---- */

typedef struct rl_student_opts {
    rl_mixer_kind kind;      /* RL_MIXER_RWKV6 or RL_MIXER_RWKV7 */
    int keep_attention;      /* hybrid: the last n layers stay softmax attention (paper: 0) */
    int use_rope;            /* RoPE on r,k: default RWKV7 1, RWKV6 0 (ablation) */
    int use_tokenshift;      /* RWKV6 token shift: default 1 */
    int balance_state;       /* default 1 (RWKV6 k·(1−w); RWKV7 paper-v4 variant B) */
    int groupnorm_att;       /* RWKV7 ln_x: default 0 (variant B); 1 with balance_state 0 = variant A */
    int r_ts, r_d, r_w, r_a, r_v, r_g; /* LoRA ranks; 0 = the paper's formula (spec §3.0) */
    uint64_t seed;           /* initialisation of the new parameters */
} rl_student_opts;
void rl_student_opts_default(rl_student_opts *o, rl_mixer_kind kind);

typedef struct rl_block {
    rl_tensor ln1, ln2;          /* input_layernorm, post_attention_layernorm [C] */
    rl_mixer mix;                /* self_attn */
    rl_tensor gate, up, down;    /* mlp.{gate,up,down}_proj */
} rl_block;

typedef struct rl_model {
    rl_config cfg;               /* the teacher's shape (config.json) */
    rl_student_opts student;     /* kind RL_MIXER_ATTENTION for a teacher */
    rl_block *blocks;
    rl_tensor embed, norm, head; /* head shares embed's storage when tied */
    float *inv_freq;             /* head_dim/2 RoPE inverse frequencies */
    int trainable;               /* parameters are F32 with gradient buffers */
    rl_arena params, grads;
    rl_st weights;               /* kept open: frozen BF16/F32 matrices point into it */
    int has_weights;
} rl_model;

/* Load a Hugging Face Qwen2/Llama folder (config.json + safetensors). trainable = 0 keeps
   2-D weights in the file's BF16/F32, memory-mapped (a frozen teacher); 1 converts every
   parameter to F32 and allocates gradients. */
rl_status rl_model_load(rl_model *m, const char *dir, int trainable);
/* A student made from a teacher (spec §3.0): q/k/v/o, embeddings, norms, MLPs and head
   copied (widened to F32), every new parameter initialised by the spec's formulas. */
rl_status rl_student_from_teacher(rl_model *s, const rl_model *teacher, const rl_student_opts *o);
void rl_model_free(rl_model *m);
/* Every parameter with its checkpoint name ("model.layers.3.self_attn.w0"). A tied head is
   visited once, as the embedding. */
void rl_model_params(rl_model *m, rl_param_fn fn, void *user);
int64_t rl_model_n_params(rl_model *m);

/* What a forward pass should produce besides the logits. */
typedef struct rl_forward_opts {
    int64_t B, T;                /* B sequences of T tokens, ids row-major [B*T] */
    int64_t pos0;                /* position of the first token (RoPE) */
    rl_tensor **attn_in;         /* if set, [n_layers] receive each mixer's input (RMSNorm₁ output) */
    rl_tensor **attn_out;        /*   and each mixer's output (before the residual add) */
    int no_head;                 /* return the final normed hidden states instead of logits */
} rl_forward_opts;
/* Training / scoring forward over whole sequences (states start at zero). */
rl_tensor *rl_model_forward(rl_ctx *c, rl_model *m, const int32_t *ids, const rl_forward_opts *o);

/* Inference state of one sequence: KV cache for attention layers, recurrent state for
   RAD-RWKV layers. Memory: attention layers grow with max_ctx, RWKV layers do not. */
typedef struct rl_state {
    int64_t pos, max_ctx;
    int n_layers;
    int64_t s_n, shift_n;        /* floats per RWKV state and shift buffer */
    float **k, **v;              /* attention: [max_ctx, KVH*N] each */
    float **S, **shift;          /* RWKV: [H, N, N] and [C] */
} rl_state;
rl_status rl_state_init(rl_state *s, const rl_model *m, int64_t max_ctx);
void rl_state_reset(rl_state *s);
void rl_state_free(rl_state *s);
/* Feed n tokens at s->pos (prefill when n > 1, one decode step when n = 1); writes the
   logits of the last token to logits[vocab] and advances the state. */
rl_status rl_model_step(rl_ctx *c, rl_model *m, rl_state *s, const int32_t *ids, int64_t n, float *logits);

/* Sampling: temperature <= 0 is greedy; top_k 0 and top_p 1 disable those filters. */
typedef struct rl_sampler { float temperature, top_p; int top_k; } rl_sampler;
int32_t rl_sample(const float *logits, int64_t n, const rl_sampler *s, rl_rng *rng);

/* ==== 6. conversion (declarations): rl_student_from_teacher, above ======== */

/* ==== 7. training (declarations) ========================================== */

/* A stream of token ids (documents joined with EOS). */
typedef struct rl_tokens {
    int32_t *ids;
    int64_t n;
} rl_tokens;
void rl_tokens_free(rl_tokens *t);
/* RWKV/Megatron binidx (prefix.idx + prefix.bin, uint16 or int32 tokens, formats.md §4.1). */
rl_status rl_tokens_load_binidx(rl_tokens *t, const char *prefix);
/* llm.c token file (header of 256 int32: magic 20240520, version 1|2, count; uint16|uint32 ids). */
rl_status rl_tokens_load_llmc(rl_tokens *t, const char *path);

/* Training windows of T+1 tokens at slot boundaries i·T (spec §3.6). The first
   (1 − heldout) of the stream trains, the rest is held out. Training slots are visited
   in the RADLADS "magic prime" order: slot = (⌊p·(√5−1)/2⌋ · (1+k)³) mod p, a
   permutation for a prime p ≡ 2 (mod 3), here the largest such p below the number of
   training slots (slots >= p are never visited, as in the reference). */
typedef struct rl_loader {
    const rl_tokens *data;
    int64_t T, n_train, n_heldout; /* slots */
    uint64_t p, mult, k;           /* prime, multiplier, samples drawn so far */
} rl_loader;
rl_status rl_loader_init(rl_loader *L, const rl_tokens *data, int64_t T, double heldout);
/* the window of training sample number k (x = w[0:T], y = w[1:T+1]) */
const int32_t *rl_loader_train(const rl_loader *L, uint64_t k);
const int32_t *rl_loader_heldout(const rl_loader *L, int64_t i); /* i < n_heldout */

/* Learning rate of the RADLADS trainer (spec §3.5) at an optimizer step. */
typedef struct rl_lr_sched {
    double lr_init, lr_final;      /* everything but the sequence mixers */
    double lr2_init, lr2_final;    /* sequence mixers (".self_attn."); negative: as above */
    double wait, endpoint;         /* decay between these fractions of the post-warm-up tokens */
    int cosine;                    /* 1: quarter cosine, 0: linear */
    int64_t warmup_steps, tokens_per_step, exit_tokens;
} rl_lr_sched;
void rl_lr_at(const rl_lr_sched *s, int64_t step, double *lr_main, double *lr_mixer);

/* AdamW with two groups (mixers / rest), bias correction, global gradient-norm clip. */
enum { RL_TRAIN_ALL = 0, RL_TRAIN_MIXERS = 1, RL_TRAIN_DECAY = 2 /* step 3a */ };
typedef struct rl_adamw {
    float beta1, beta2, eps, weight_decay, clip;
    int64_t step;
    int n;
    rl_tensor **p;
    const char **names;
    float **m, **v;
    unsigned char *mixer;          /* 1: parameter of a sequence mixer */
    rl_arena mem;
} rl_adamw;
rl_status rl_adamw_init(rl_adamw *o, rl_model *m, int which);
/* One update from the accumulated gradients (then zeroed). Returns the gradient norm
   before clipping, or a negative value (and no update) if it is not finite. */
double rl_adamw_step(rl_adamw *o, double lr_main, double lr_mixer);
void rl_adamw_zero_grad(rl_adamw *o);
void rl_adamw_free(rl_adamw *o);

/* Progress of a run, given to the callback after every optimizer step. */
typedef struct rl_progress {
    int stage;
    int64_t step, steps, tokens, tokens_total;
    double loss, lr, grad_norm, tok_per_s, eta_s;
} rl_progress;

/* One RADLADS stage on a token stream (spec §3.1-3.5):
     1: attention alignment: student mixers on the teacher's normalized residual stream,
        loss mean_l ‖y_teacher − y_student‖₂/√C (rl_l2_dist), only mixers train;
     2: KL(teacher ‖ student) at T = 1 over the whole vocabulary, everything trains
        (2a: lr2_* give the mixers their own schedule);
     3: next-token cross entropy, no teacher; with carry_state the recurrent state of
        window i feeds window i+1 of the same stream (no gradient through it).
   Checkpoints hold weights, Adam moments, counters and the data cursor; resume continues
   exactly. */
typedef struct rl_stage_opts {
    int stage;                     /* 1, 2 or 3 */
    int64_t ctx, batch, micro_batch; /* window length; sequences per optimizer step; per forward */
    int64_t tokens;                /* token budget of the stage */
    rl_lr_sched lr;                /* tokens_per_step / exit_tokens are filled in */
    float clip, beta1, beta2, eps, weight_decay;
    int train;                     /* RL_TRAIN_ALL / MIXERS / DECAY; stage 1 forces MIXERS */
    int carry_state;               /* stage 3 */
    double heldout;                /* fraction of the stream held out (not trained on) */
    const char *checkpoint;        /* file written atomically every ckpt_every steps and at the end */
    int64_t ckpt_every;
    int resume;                    /* continue from `checkpoint` */
    int64_t max_steps;             /* stop (with a checkpoint) after this many steps of this call; 0 = no limit */
    const char *csv;               /* per-step log (step,tokens,loss,lr,grad_norm,tok_per_s), appended */
    volatile int *stop;            /* polled each step: non-zero saves a checkpoint and returns RL_ERR_INTERRUPTED */
    void (*progress)(void *user, const rl_progress *p);
    void *user;
} rl_stage_opts;
void rl_stage_opts_default(rl_stage_opts *o, int stage);
rl_status rl_train_stage(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_tokens *data, const rl_stage_opts *o);
/* Save a model as a Hugging Face folder: config.json (students: model_type rwkv6qwen2 /
   rwkv7qwen2 with the RADLADS keys), model.safetensors, and the tokenizer files copied from
   tok_dir (may be NULL). rl_model_load reads it back. */
rl_status rl_model_save(rl_model *m, const char *dir, const char *tok_dir);

/* ==== 8. inference and evaluation (declarations) =========================== */
/* (rl_state, rl_model_step and rl_sample are declared with the model, section 5) */

/* Perplexity: mean next-token NLL over the held-out windows (ctx tokens each, one forward
   per window, every position scored). */
rl_status rl_eval_ppl(rl_ctx *c, rl_model *m, const rl_loader *L, int64_t max_windows, double *nll);
/* Teacher–student comparison on held-out windows: mean KL(teacher‖student) per token and
   top-1 agreement. */
rl_status rl_eval_compare(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_loader *L, int64_t max_windows,
                          double *kl, double *top1);

#ifdef __cplusplus
}
#endif
#endif /* RADLADS_H */

/* =========================================================================== */
/*                              IMPLEMENTATION                                 */
/* =========================================================================== */
/* The implementation is split into blocks so that one of them, the SIMD kernel
   template (section 2b), can be compiled once per instruction set: section 2c
   re-includes this file (RADLADS_SELF) with RL__KPASS set, which skips everything
   except the template. */
#ifndef RADLADS_SELF
#define RADLADS_SELF "radlads.h" /* quote-includes search this file's own folder first */
#endif

#if defined(RADLADS_IMPLEMENTATION) && !defined(RL__KPASS) && !defined(RL__IMPL_DONE)

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <locale.h>
#include <fcntl.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>

#if defined(__x86_64__) || defined(_M_X64)
#define RL__X86 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define RL__ARM 1
#endif
#if defined(RL_NO_SIMD) || !(defined(__GNUC__) || defined(__clang__))
#undef RL__X86
#undef RL__ARM
#endif

#ifndef RL_MALLOC
#define RL_MALLOC(sz) malloc(sz)
#define RL_REALLOC(p, sz) realloc(p, sz)
#define RL_FREE(p) free(p)
#endif
#ifndef RL_ASSERT
#define RL_ASSERT(x) assert(x)
#endif

#if defined(__cplusplus)
#define RL__TLS thread_local
#else
#define RL__TLS _Thread_local
#endif
#define RL__MIN(a, b) ((a) < (b) ? (a) : (b))
#define RL__MAX(a, b) ((a) > (b) ? (a) : (b))
#define RL__UNUSED(x) (void)(x)

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. base ============================================================= */

/* ---- status and last error ---- */

static RL__TLS char rl__errbuf[1024];

const char *rl_last_error(void) { return rl__errbuf; }
void rl_clear_error(void) { rl__errbuf[0] = 0; }

const char *rl_status_name(rl_status s) {
    switch (s) {
    case RL_OK: return "ok";
    case RL_ERR_ARG: return "invalid argument";
    case RL_ERR_NOMEM: return "out of memory";
    case RL_ERR_IO: return "i/o error";
    case RL_ERR_FORMAT: return "bad file format";
    case RL_ERR_UNSUPPORTED: return "unsupported";
    case RL_ERR_STATE: return "wrong state";
    case RL_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

/* Record an error message and return its status: `return rl__fail(RL_ERR_IO, "%s: ...", path);` */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static rl_status rl__fail(rl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rl__errbuf, sizeof rl__errbuf, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- logging ---- */

static rl_log_fn rl__log_fn;
static void *rl__log_user;

void rl_set_log(rl_log_fn fn, void *user) {
    rl__log_fn = fn;
    rl__log_user = user;
}

void rl_log(int level, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (!rl__log_fn) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rl__log_fn(rl__log_user, level, buf);
}

/* ---- allocation ---- */

/* 64-byte aligned allocation through RL_MALLOC; the offset to the block start is
   stored in the byte before the returned pointer. */
static void *rl__aligned_alloc(size_t bytes) {
    unsigned char *raw, *p;
    if (bytes > SIZE_MAX - 64) return NULL;
    raw = (unsigned char *)RL_MALLOC(bytes + 64);
    if (!raw) return NULL;
    p = (unsigned char *)(((uintptr_t)raw + 64) & ~(uintptr_t)63);
    p[-1] = (unsigned char)(p - raw);
    return p;
}
static void rl__aligned_free(void *ptr) {
    unsigned char *p = (unsigned char *)ptr;
    if (p) RL_FREE(p - p[-1]);
}

/* ---- arena ---- */

struct rl__arena_block {
    rl__arena_block *next;
    size_t size, off;
    unsigned char *mem;
};

void rl_arena_init(rl_arena *a, size_t block_size) {
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : ((size_t)1 << 20);
}

void *rl_arena_alloc(rl_arena *a, size_t bytes) {
    rl__arena_block *b = a->cur;
    size_t need = (bytes + 63) & ~(size_t)63;
    if (bytes > SIZE_MAX / 2) {
        rl__fail(RL_ERR_NOMEM, "arena: request of %zu bytes is too large", bytes);
        return NULL;
    }
    if (need == 0) need = 64;
    /* walk the chain of existing blocks (kept after a reset) before making a new one */
    while (b && b->off + need > b->size) {
        b = b->next;
        if (b) b->off = 0;
    }
    if (!b) {
        size_t sz = RL__MAX(a->block_size, need);
        b = (rl__arena_block *)RL_MALLOC(sizeof *b);
        if (b) b->mem = (unsigned char *)rl__aligned_alloc(sz);
        if (!b || !b->mem) {
            RL_FREE(b);
            rl__fail(RL_ERR_NOMEM, "arena: cannot allocate a block of %zu bytes", sz);
            return NULL;
        }
        b->size = sz;
        b->off = 0;
        b->next = NULL;
        if (a->cur) { /* insert after cur so the chain stays in use order */
            b->next = a->cur->next;
            a->cur->next = b;
        } else {
            b->next = a->first;
            a->first = b;
        }
    }
    a->cur = b;
    {
        void *p = b->mem + b->off;
        b->off += need;
        a->used += need;
        if (a->used > a->peak) a->peak = a->used;
        return p;
    }
}

void *rl_arena_zalloc(rl_arena *a, size_t bytes) {
    void *p = rl_arena_alloc(a, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

rl_arena_mark_t rl_arena_mark(const rl_arena *a) {
    rl_arena_mark_t m;
    m.block = a->cur;
    m.off = a->cur ? a->cur->off : 0;
    m.used = a->used;
    return m;
}

void rl_arena_reset(rl_arena *a, rl_arena_mark_t m) {
    if (m.block) {
        m.block->off = m.off;
        a->cur = m.block;
    } else {
        a->cur = a->first;
        if (a->cur) a->cur->off = 0;
    }
    a->used = m.used;
}

void rl_arena_free(rl_arena *a) {
    rl__arena_block *b = a->first;
    while (b) {
        rl__arena_block *n = b->next;
        rl__aligned_free(b->mem);
        RL_FREE(b);
        b = n;
    }
    a->first = a->cur = NULL;
    a->used = a->peak = 0;
}

/* ---- thread pool ---- */
/* Workers sleep on a condition variable; rl_pool_for publishes a job, everybody
   (caller included) takes chunks from an atomic counter, and the caller waits until
   all workers have left the job. */

struct rl_pool {
    int n;                   /* threads including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;     /* bumped per job */
    int busy;                /* workers still inside the current job */
    int quit;
    rl_task_fn fn;
    void *ctx;
    int64_t n_items, chunk;
    int64_t next;            /* next item to hand out (atomic) */
};

typedef struct { rl_pool *p; int tid; } rl__worker_arg;

static void rl__pool_drain(rl_pool *p, int tid) {
    for (;;) {
        int64_t b = __atomic_fetch_add(&p->next, p->chunk, __ATOMIC_RELAXED);
        if (b >= p->n_items) break;
        p->fn(p->ctx, b, RL__MIN(b + p->chunk, p->n_items), tid);
    }
}

static void *rl__pool_main(void *arg) {
    rl__worker_arg wa = *(rl__worker_arg *)arg;
    rl_pool *p = wa.p;
    uint64_t seen = 0;
    RL_FREE(arg);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        rl__pool_drain(p, wa.tid);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

int rl_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

rl_pool *rl_pool_create(int n_threads) {
    rl_pool *p;
    int i;
    if (n_threads <= 0) n_threads = rl_cpu_count();
    p = (rl_pool *)RL_MALLOC(sizeof *p);
    if (!p) return NULL;
    memset(p, 0, sizeof *p);
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = (pthread_t *)RL_MALLOC(sizeof(pthread_t) * (size_t)n_threads);
    if (!p->threads) {
        rl_pool_free(p);
        return NULL;
    }
    for (i = 1; i < n_threads; i++) {
        rl__worker_arg *wa = (rl__worker_arg *)RL_MALLOC(sizeof *wa);
        if (!wa) break;
        wa->p = p;
        wa->tid = i;
        if (pthread_create(&p->threads[i], NULL, rl__pool_main, wa) != 0) {
            RL_FREE(wa);
            break;
        }
    }
    p->n = i; /* run with the threads we got */
    return p;
}

void rl_pool_free(rl_pool *p) {
    int i;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (i = 1; i < p->n && p->threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    RL_FREE(p->threads);
    RL_FREE(p);
}

int rl_pool_size(const rl_pool *p) { return p ? p->n : 1; }

void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_task_fn fn, void *ctx) {
    int64_t chunk;
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!p || p->n == 1 || n <= grain) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* about 4 chunks per thread for balance, never below the grain */
    chunk = RL__MAX(grain, (n + 4 * p->n - 1) / (4 * p->n));
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n;
    p->chunk = chunk;
    p->next = 0;
    p->busy = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    rl__pool_drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* ---- RNG ---- */

static uint64_t rl__splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rl_rng_seed(rl_rng *r, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++) r->s[i] = rl__splitmix64(&seed);
}

static uint64_t rl__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rl_rng_u64(rl_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rl__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rl__rotl(s[3], 45);
    return out;
}

float rl_rng_uniform(rl_rng *r) { return (float)(rl_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

float rl_rng_normal(rl_rng *r) {
    double u1 = ((double)(rl_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(rl_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- number formats ---- */

static uint32_t rl__f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float rl__u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float rl_bf16_to_f32(uint16_t h) { return rl__u2f((uint32_t)h << 16); }

uint16_t rl_f32_to_bf16(float f) {
    uint32_t u = rl__f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7FC0; /* canonical quiet NaN */
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

float rl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    if (exp == 0x1f) return rl__u2f(sign | 0x7f800000u | (man << 13)); /* inf / nan */
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return rl__u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t rl_f32_to_f16(float f) {
    uint32_t u = rl__f2u(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);           /* nan */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);          /* rounds to inf */
    if (a < 0x38800000u) {                                           /* f16 subnormal or 0 */
        /* value * 2^24 rounded to nearest even is the subnormal mantissa */
        float v = rl__u2f(a) * 16777216.0f;
        float r = nearbyintf(v);
        return (uint16_t)(sign | (uint32_t)r);
    }
    a += 0xc8000fffu + ((a >> 13) & 1u); /* rebias exponent (-112 << 23) and round */
    return (uint16_t)(sign | (a >> 13));
}

/* ==== 2. kernels ========================================================== */
/* 2a. naive reference kernels. Each is the definition its fast twin must equal
       (tests/test_kernels.c compares them on every ISA path this machine has).
       They accumulate in double where a sum is involved.
   2b. the SIMD template: the same fast kernels written once over a small vector
       abstraction (RLV), compiled once per ISA.
   2c. run-time dispatch (cpuid / RADLADS_ISA) and the multi-threaded drivers. */

/* Arguments of one matrix product (see rl_gemm). */
typedef struct rl__gemm_args {
    int64_t M, N, K;
    const float *A;
    int64_t a_rs, a_cs;
    const void *B;
    rl_dtype bt;
    int64_t b_rs, b_cs;
    float *C;
    int64_t ldc;
    int accumulate;
} rl__gemm_args;

static float rl__load_b(const void *B, rl_dtype bt, int64_t i) {
    return bt == RL_BF16 ? rl_bf16_to_f32(((const uint16_t *)B)[i]) : ((const float *)B)[i];
}

static void rl__naive_gemm(const rl__gemm_args *g) {
    int64_t i, j, k;
    for (i = 0; i < g->M; i++)
        for (j = 0; j < g->N; j++) {
            double s = g->accumulate ? g->C[i * g->ldc + j] : 0.0;
            for (k = 0; k < g->K; k++)
                s += (double)g->A[i * g->a_rs + k * g->a_cs] * rl__load_b(g->B, g->bt, k * g->b_rs + j * g->b_cs);
            g->C[i * g->ldc + j] = (float)s;
        }
}

static float rl__naive_dot(const float *a, const float *b, int64_t n) {
    double s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}
static float rl__naive_dot_bf16(const float *a, const uint16_t *b, int64_t n) {
    double s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += (double)a[i] * rl_bf16_to_f32(b[i]);
    return (float)s;
}
static void rl__naive_axpy(float *y, float a, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] += a * x[i];
}
static void rl__naive_add(float *y, const float *a, const float *b, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = a[i] + b[i];
}
static void rl__naive_sub(float *y, const float *a, const float *b, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = a[i] - b[i];
}
static void rl__naive_mul(float *y, const float *a, const float *b, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = a[i] * b[i];
}
static void rl__naive_scale(float *y, const float *x, float s, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = x[i] * s;
}
static float rl__naive_sum(const float *x, int64_t n) {
    double s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += x[i];
    return (float)s;
}
static float rl__naive_max(const float *x, int64_t n) {
    float m = -INFINITY;
    int64_t i;
    for (i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}
static void rl__naive_exp(float *y, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = expf(x[i]);
}
static void rl__naive_sigmoid(float *y, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
}
static void rl__naive_tanh(float *y, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
static void rl__naive_silu(float *y, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = (float)(x[i] / (1.0 + exp(-(double)x[i])));
}
static void rl__naive_softplus(float *y, const float *x, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) {
        double v = x[i];
        y[i] = (float)(v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)));
    }
}
static void rl__naive_swiglu(float *y, const float *a, const float *b, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) y[i] = (float)(a[i] / (1.0 + exp(-(double)a[i])) * b[i]);
}
/* y = x / rms(x) * w ; returns 1/rms */
static float rl__naive_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0;
    int64_t i;
    float r;
    for (i = 0; i < n; i++) ss += (double)x[i] * x[i];
    r = (float)(1.0 / sqrt(ss / (double)n + eps));
    for (i = 0; i < n; i++) y[i] = x[i] * r * (w ? w[i] : 1.0f);
    return r;
}
/* y = (x - mean) / sqrt(var + eps) * w + b (biased variance); stores mean and 1/std */
static void rl__naive_layernorm(float *y, const float *x, const float *w, const float *b, int64_t n,
                                float eps, float *mean_out, float *rstd_out) {
    double m = 0, v = 0;
    int64_t i;
    float mf, r;
    for (i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    v /= (double)n;
    mf = (float)m;
    r = (float)(1.0 / sqrt(v + eps));
    for (i = 0; i < n; i++) y[i] = (x[i] - mf) * r * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
    if (mean_out) *mean_out = mf;
    if (rstd_out) *rstd_out = r;
}
/* softmax of one row; returns log(sum(exp(x))) (the log-partition) */
static float rl__naive_softmax(float *y, const float *x, int64_t n) {
    double m = -INFINITY, s = 0;
    int64_t i;
    for (i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (i = 0; i < n; i++) s += exp((double)x[i] - m);
    for (i = 0; i < n; i++) y[i] = (float)(exp((double)x[i] - m) / s);
    return (float)(m + log(s));
}
static float rl__naive_logsoftmax(float *y, const float *x, int64_t n) {
    double m = -INFINITY, s = 0, lse;
    int64_t i;
    for (i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    for (i = 0; i < n; i++) s += exp((double)x[i] - m);
    lse = m + log(s);
    for (i = 0; i < n; i++) y[i] = (float)(x[i] - lse);
    return (float)lse;
}
/* y = x / max(‖x‖₂, eps); returns the divisor's reciprocal */
static float rl__naive_l2norm(float *y, const float *x, int64_t n, float eps) {
    double ss = 0;
    int64_t i;
    float r;
    for (i = 0; i < n; i++) ss += (double)x[i] * x[i];
    r = (float)(1.0 / RL__MAX(sqrt(ss), (double)eps));
    for (i = 0; i < n; i++) y[i] = x[i] * r;
    return r;
}
/* HF rotate-half RoPE on one head of 2*half values: pairs (i, i+half). */
static void rl__naive_rope(float *y, const float *x, const float *cs, const float *sn, int64_t half) {
    int64_t i;
    for (i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        y[i] = a * cs[i] - b * sn[i];
        y[i + half] = b * cs[i] + a * sn[i];
    }
}

/* The table of fast kernels one ISA pass provides (2b fills one per pass). */
typedef struct rl__kern {
    const char *name;
    int mr, nr, mc, kc, nc; /* GEMM blocking */
    void (*gemm)(const rl__gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *Ap, int64_t ap_cap, float *Bp);
    float (*dot)(const float *a, const float *b, int64_t n);
    float (*dot_bf16)(const float *a, const uint16_t *b, int64_t n);
    void (*axpy)(float *y, float a, const float *x, int64_t n);
    void (*add)(float *y, const float *a, const float *b, int64_t n);
    void (*sub)(float *y, const float *a, const float *b, int64_t n);
    void (*mul)(float *y, const float *a, const float *b, int64_t n);
    void (*scale)(float *y, const float *x, float s, int64_t n);
    float (*sum)(const float *x, int64_t n);
    float (*max)(const float *x, int64_t n);
    void (*exp)(float *y, const float *x, int64_t n);
    void (*sigmoid)(float *y, const float *x, int64_t n);
    void (*tanh)(float *y, const float *x, int64_t n);
    void (*silu)(float *y, const float *x, int64_t n);
    void (*softplus)(float *y, const float *x, int64_t n);
    void (*swiglu)(float *y, const float *a, const float *b, int64_t n);
    float (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps);
    void (*layernorm)(float *y, const float *x, const float *w, const float *b, int64_t n, float eps, float *mean, float *rstd);
    float (*softmax)(float *y, const float *x, int64_t n);
    float (*logsoftmax)(float *y, const float *x, int64_t n);
    float (*l2norm)(float *y, const float *x, int64_t n, float eps);
    void (*rope)(float *y, const float *x, const float *cs, const float *sn, int64_t half);
} rl__kern;

#ifdef __cplusplus
}
#endif
#endif /* implementation block 1 */

/* ---- 2b. SIMD kernel template ---------------------------------------------
   Compiled once per ISA (RL__KPASS = 1 scalar, 2 AVX2+FMA, 3 AVX-512, 4 NEON).
   Everything here is written against the RLV vector abstraction below: RLV is a
   vector of RLV_W floats; rlv_* are its operations. Function names get the ISA as
   suffix through RL__KF(name); RL__TGT enables the ISA for these functions only,
   so the rest of the library needs no -m flags and runs on any CPU. */
#if defined(RADLADS_IMPLEMENTATION) && defined(RL__KPASS)

#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
/* g++ 12 warns inside its own AVX-512 headers (the `__Y = __Y` idiom) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if RL__KPASS == 1 /* portable C: one float per "vector" */
#define RL__SFX scalar
#define RL__TGT
#define RLV float
#define RLV_W 1
#define RL__MR 4
#define RL__NR 4
#define RL__MC 64
#define RL__KC 256
#define RL__NC 512
#define rlv_zero() 0.0f
#define rlv_set1(x) (x)
#define rlv_load(p) (*(p))
#define rlv_store(p, v) (*(p) = (v))
#define rlv_load_bf16(p) rl_bf16_to_f32(*(p))
#define rlv_add(a, b) ((a) + (b))
#define rlv_sub(a, b) ((a) - (b))
#define rlv_mul(a, b) ((a) * (b))
#define rlv_div(a, b) ((a) / (b))
#define rlv_fma(a, b, c) ((a) * (b) + (c))
#define rlv_max(a, b) ((a) > (b) ? (a) : (b))
#define rlv_min(a, b) ((a) < (b) ? (a) : (b))
#define rlv_hsum(v) (v)
#define rlv_hmax(v) (v)

#elif RL__KPASS == 2 /* x86-64 AVX2 + FMA */
#include <immintrin.h>
#define RL__SFX avx2
#define RL__TGT __attribute__((target("avx2,fma")))
#define RLV __m256
#define RLVI __m256i
#define RLV_W 8
#define RL__MR 6
#define RL__NR 16
#define RL__MC 96
#define RL__KC 256
#define RL__NC 1024
#define rlv_zero() _mm256_setzero_ps()
#define rlv_set1(x) _mm256_set1_ps(x)
#define rlv_load(p) _mm256_loadu_ps(p)
#define rlv_store(p, v) _mm256_storeu_ps(p, v)
#define rlv_load_bf16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16))
#define rlv_add _mm256_add_ps
#define rlv_sub _mm256_sub_ps
#define rlv_mul _mm256_mul_ps
#define rlv_div _mm256_div_ps
#define rlv_fma _mm256_fmadd_ps
#define rlv_max _mm256_max_ps
#define rlv_min _mm256_min_ps
#define rlv_hsum(v) RL__KF(hsum)(v)
#define rlv_hmax(v) RL__KF(hmax)(v)
#define rlv_round(v) _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define rlv_lt_blend(a, b, x, y) _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_LT_OQ))
#define rlv_cvti _mm256_cvtps_epi32
#define rlv_bits _mm256_castps_si256
#define rlv_frombits _mm256_castsi256_ps
#define rlvi_tof _mm256_cvtepi32_ps
#define rlvi_set1 _mm256_set1_epi32
#define rlvi_add _mm256_add_epi32
#define rlvi_sub _mm256_sub_epi32
#define rlvi_and _mm256_and_si256
#define rlvi_or _mm256_or_si256
#define rlvi_sll _mm256_slli_epi32
#define rlvi_srl _mm256_srli_epi32

#elif RL__KPASS == 3 /* x86-64 AVX-512 (F) */
#include <immintrin.h>
#define RL__SFX avx512
#define RL__TGT __attribute__((target("avx512f,avx2,fma")))
#define RLV __m512
#define RLVI __m512i
#define RLV_W 16
#define RL__MR 12
#define RL__NR 32
#define RL__MC 144
#define RL__KC 256
#define RL__NC 1024
#define rlv_zero() _mm512_setzero_ps()
#define rlv_set1(x) _mm512_set1_ps(x)
#define rlv_load(p) _mm512_loadu_ps(p)
#define rlv_store(p, v) _mm512_storeu_ps(p, v)
#define rlv_load_bf16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(p))), 16))
#define rlv_add _mm512_add_ps
#define rlv_sub _mm512_sub_ps
#define rlv_mul _mm512_mul_ps
#define rlv_div _mm512_div_ps
#define rlv_fma _mm512_fmadd_ps
#define rlv_max _mm512_max_ps
#define rlv_min _mm512_min_ps
#define rlv_hsum(v) RL__KF(hsum)(v)
#define rlv_hmax(v) RL__KF(hmax)(v)
#define rlv_round(v) _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define rlv_lt_blend(a, b, x, y) _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), y, x)
#define rlv_cvti _mm512_cvtps_epi32
#define rlv_bits _mm512_castps_si512
#define rlv_frombits _mm512_castsi512_ps
#define rlvi_tof _mm512_cvtepi32_ps
#define rlvi_set1 _mm512_set1_epi32
#define rlvi_add _mm512_add_epi32
#define rlvi_sub _mm512_sub_epi32
#define rlvi_and _mm512_and_si512
#define rlvi_or _mm512_or_si512
#define rlvi_sll _mm512_slli_epi32
#define rlvi_srl _mm512_srli_epi32

#elif RL__KPASS == 4 /* AArch64 NEON */
#include <arm_neon.h>
#define RL__SFX neon
#define RL__TGT
#define RLV float32x4_t
#define RLVI int32x4_t
#define RLV_W 4
#define RL__MR 8
#define RL__NR 8
#define RL__MC 64
#define RL__KC 256
#define RL__NC 1024
#define rlv_zero() vdupq_n_f32(0.0f)
#define rlv_set1(x) vdupq_n_f32(x)
#define rlv_load(p) vld1q_f32(p)
#define rlv_store(p, v) vst1q_f32(p, v)
#define rlv_load_bf16(p) vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16))
#define rlv_add vaddq_f32
#define rlv_sub vsubq_f32
#define rlv_mul vmulq_f32
#define rlv_div vdivq_f32
#define rlv_fma(a, b, c) vfmaq_f32(c, a, b)
#define rlv_max vmaxq_f32
#define rlv_min vminq_f32
#define rlv_hsum(v) vaddvq_f32(v)
#define rlv_hmax(v) vmaxvq_f32(v)
#define rlv_round(v) vrndnq_f32(v)
#define rlv_lt_blend(a, b, x, y) vbslq_f32(vcltq_f32(a, b), x, y)
#define rlv_cvti(v) vcvtnq_s32_f32(v)
#define rlv_bits(v) vreinterpretq_s32_f32(v)
#define rlv_frombits(v) vreinterpretq_f32_s32(v)
#define rlvi_tof(v) vcvtq_f32_s32(v)
#define rlvi_set1(x) vdupq_n_s32(x)
#define rlvi_add vaddq_s32
#define rlvi_sub vsubq_s32
#define rlvi_and vandq_s32
#define rlvi_or vorrq_s32
#define rlvi_sll(v, n) vshlq_n_s32(v, n)
#define rlvi_srl(v, n) vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(v), n))
#endif

#define RL__KCAT2(a, b) rl__k_##a##_##b
#define RL__KCAT(a, b) RL__KCAT2(a, b)
#define RL__KF(name) RL__KCAT(name, RL__SFX)
#define RL__KSTR2(x) #x
#define RL__KSTR(x) RL__KSTR2(x)
#define RL__NRV (RL__NR / RLV_W) /* vectors per micro-tile row */

#if RLV_W == 1
/* portable pass: the math library is the "vector" library */
#define rlv_exp(x) expf(x)
#define rlv_log(x) logf(x)
#else
#if RL__KPASS == 2
static RL__TGT inline float RL__KF(hsum)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static RL__TGT inline float RL__KF(hmax)(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
#endif
#if RL__KPASS == 3 /* fold 512 -> 128 bits with lane shuffles, then as SSE */
static RL__TGT inline float RL__KF(hsum)(__m512 v) {
    __m128 s;
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
    s = _mm512_castps512_ps128(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static RL__TGT inline float RL__KF(hmax)(__m512 v) {
    __m128 s;
    v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
    v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
    s = _mm512_castps512_ps128(v);
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
#endif
/* exp(x), Cephes polynomial; |rel err| < 2e-7 for x in [-87, 88]; saturates at
   exp(88) above and returns 0 below about -88 (so exp(-inf) = 0). */
static RL__TGT inline RLV RL__KF(vexp)(RLV x) {
    RLV fx, y, z;
    x = rlv_min(x, rlv_set1(88.0f));
    x = rlv_max(x, rlv_set1(-88.0f));
    fx = rlv_round(rlv_mul(x, rlv_set1(1.44269504088896341f)));
    x = rlv_fma(fx, rlv_set1(-0.693359375f), x);
    x = rlv_fma(fx, rlv_set1(2.12194440e-4f), x);
    z = rlv_mul(x, x);
    y = rlv_set1(1.9875691500e-4f);
    y = rlv_fma(y, x, rlv_set1(1.3981999507e-3f));
    y = rlv_fma(y, x, rlv_set1(8.3334519073e-3f));
    y = rlv_fma(y, x, rlv_set1(4.1665795894e-2f));
    y = rlv_fma(y, x, rlv_set1(1.6666665459e-1f));
    y = rlv_fma(y, x, rlv_set1(5.0000001201e-1f));
    y = rlv_add(rlv_fma(y, z, x), rlv_set1(1.0f));
    return rlv_mul(y, rlv_frombits(rlvi_sll(rlvi_add(rlv_cvti(fx), rlvi_set1(127)), 23)));
}
/* log(x) for finite x > 0 (Cephes logf); callers only pass values in [1, 2]. */
static RL__TGT inline RLV RL__KF(vlog)(RLV x) {
    RLVI b = rlv_bits(x);
    RLV e = rlvi_tof(rlvi_sub(rlvi_srl(b, 23), rlvi_set1(126)));
    RLV m = rlv_frombits(rlvi_or(rlvi_and(b, rlvi_set1(0x007fffff)), rlvi_set1(0x3f000000))); /* [0.5,1) */
    RLV small = rlv_lt_blend(m, rlv_set1(0.707106781186547524f), rlv_set1(1.0f), rlv_zero());
    RLV f, z, y;
    e = rlv_sub(e, small);
    f = rlv_sub(rlv_add(m, rlv_mul(m, small)), rlv_set1(1.0f)); /* 2m-1 or m-1 */
    z = rlv_mul(f, f);
    y = rlv_set1(7.0376836292e-2f);
    y = rlv_fma(y, f, rlv_set1(-1.1514610310e-1f));
    y = rlv_fma(y, f, rlv_set1(1.1676998740e-1f));
    y = rlv_fma(y, f, rlv_set1(-1.2420140846e-1f));
    y = rlv_fma(y, f, rlv_set1(1.4249322787e-1f));
    y = rlv_fma(y, f, rlv_set1(-1.6668057665e-1f));
    y = rlv_fma(y, f, rlv_set1(2.0000714765e-1f));
    y = rlv_fma(y, f, rlv_set1(-2.4999993993e-1f));
    y = rlv_fma(y, f, rlv_set1(3.3333331174e-1f));
    y = rlv_mul(rlv_mul(y, f), z);
    y = rlv_fma(e, rlv_set1(-2.12194440e-4f), y);
    y = rlv_fma(z, rlv_set1(-0.5f), y);
    return rlv_fma(e, rlv_set1(0.693359375f), rlv_add(f, y));
}
#define rlv_exp(x) RL__KF(vexp)(x)
#define rlv_log(x) RL__KF(vlog)(x)
#endif

/* The elementwise functions, on one vector. The loops below run them over whole
   vectors and finish the tail (n % RLV_W) on one-element arrays padded into a
   vector, so the tail uses the very same arithmetic. */
static RL__TGT inline RLV RL__KF(f_sigmoid)(RLV x) {
    return rlv_div(rlv_set1(1.0f), rlv_add(rlv_set1(1.0f), rlv_exp(rlv_sub(rlv_zero(), x))));
}
static RL__TGT inline RLV RL__KF(f_silu)(RLV x) { return rlv_mul(x, RL__KF(f_sigmoid)(x)); }
static RL__TGT inline RLV RL__KF(f_tanh)(RLV x) {
    /* tanh|x| = (1 - e)/(1 + e), e = exp(-2|x|); odd Taylor series below |x| < 0.0625 */
    RLV ax = rlv_max(x, rlv_sub(rlv_zero(), x));
    RLV e = rlv_exp(rlv_mul(ax, rlv_set1(-2.0f)));
    RLV big = rlv_div(rlv_sub(rlv_set1(1.0f), e), rlv_add(rlv_set1(1.0f), e));
    RLV x2 = rlv_mul(ax, ax);
    RLV p = rlv_fma(x2, rlv_set1(-17.0f / 315.0f), rlv_set1(2.0f / 15.0f));
    RLV t;
    p = rlv_fma(x2, p, rlv_set1(-1.0f / 3.0f));
    p = rlv_fma(rlv_mul(x2, ax), p, ax);
#if RLV_W == 1
    t = ax < 0.0625f ? p : big;
    return x < 0 ? -t : t;
#else
    t = rlv_lt_blend(ax, rlv_set1(0.0625f), p, big);
    return rlv_lt_blend(x, rlv_zero(), rlv_sub(rlv_zero(), t), t);
#endif
}
static RL__TGT inline RLV RL__KF(f_softplus)(RLV x) {
    /* max(x,0) + log(1 + exp(-|x|)) */
    RLV ax = rlv_max(x, rlv_sub(rlv_zero(), x));
    RLV l = rlv_log(rlv_add(rlv_set1(1.0f), rlv_exp(rlv_sub(rlv_zero(), ax))));
    return rlv_add(rlv_max(x, rlv_zero()), l);
}
static RL__TGT inline RLV RL__KF(f_exp)(RLV x) { return rlv_exp(x); }

#define RL__UNARY(fname)                                                            \
    static RL__TGT void RL__KF(fname)(float *y, const float *x, int64_t n) {       \
        int64_t i = 0;                                                              \
        for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, RL__KF(f_##fname)(rlv_load(x + i))); \
        if (i < n) {                                                                \
            float t[RLV_W] = {0};                                                   \
            memcpy(t, x + i, (size_t)(n - i) * sizeof(float));                      \
            rlv_store(t, RL__KF(f_##fname)(rlv_load(t)));                           \
            memcpy(y + i, t, (size_t)(n - i) * sizeof(float));                      \
        }                                                                           \
    }
RL__UNARY(exp)
RL__UNARY(sigmoid)
RL__UNARY(silu)
RL__UNARY(tanh)
RL__UNARY(softplus)
#undef RL__UNARY

static RL__TGT void RL__KF(swiglu)(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, rlv_mul(RL__KF(f_silu)(rlv_load(a + i)), rlv_load(b + i)));
    if (i < n) {
        float ta[RLV_W] = {0}, tb[RLV_W] = {0};
        memcpy(ta, a + i, (size_t)(n - i) * sizeof(float));
        memcpy(tb, b + i, (size_t)(n - i) * sizeof(float));
        rlv_store(ta, rlv_mul(RL__KF(f_silu)(rlv_load(ta)), rlv_load(tb)));
        memcpy(y + i, ta, (size_t)(n - i) * sizeof(float));
    }
}

/* binary elementwise: y = a OP b */
#define RL__BINARY(fname, op)                                                        \
    static RL__TGT void RL__KF(fname)(float *y, const float *a, const float *b, int64_t n) { \
        int64_t i = 0;                                                               \
        for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, op(rlv_load(a + i), rlv_load(b + i))); \
        for (; i < n; i++) y[i] = op##_1(a[i], b[i]);                                \
    }
#define rlv_add_1(a, b) ((a) + (b))
#define rlv_sub_1(a, b) ((a) - (b))
#define rlv_mul_1(a, b) ((a) * (b))
RL__BINARY(add, rlv_add)
RL__BINARY(sub, rlv_sub)
RL__BINARY(mul, rlv_mul)
#undef rlv_add_1
#undef rlv_sub_1
#undef rlv_mul_1
#undef RL__BINARY

static RL__TGT void RL__KF(scale)(float *y, const float *x, float s, int64_t n) {
    int64_t i = 0;
    RLV vs = rlv_set1(s);
    for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, rlv_mul(rlv_load(x + i), vs));
    for (; i < n; i++) y[i] = x[i] * s;
}

static RL__TGT void RL__KF(axpy)(float *y, float a, const float *x, int64_t n) {
    int64_t i = 0;
    RLV va = rlv_set1(a);
    for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, rlv_fma(va, rlv_load(x + i), rlv_load(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* Reductions keep 4 independent accumulators to hide FMA latency. */
static RL__TGT float RL__KF(dot)(const float *a, const float *b, int64_t n) {
    RLV s0 = rlv_zero(), s1 = rlv_zero(), s2 = rlv_zero(), s3 = rlv_zero();
    int64_t i = 0;
    float s;
    for (; i + 4 * RLV_W <= n; i += 4 * RLV_W) {
        s0 = rlv_fma(rlv_load(a + i), rlv_load(b + i), s0);
        s1 = rlv_fma(rlv_load(a + i + RLV_W), rlv_load(b + i + RLV_W), s1);
        s2 = rlv_fma(rlv_load(a + i + 2 * RLV_W), rlv_load(b + i + 2 * RLV_W), s2);
        s3 = rlv_fma(rlv_load(a + i + 3 * RLV_W), rlv_load(b + i + 3 * RLV_W), s3);
    }
    for (; i + RLV_W <= n; i += RLV_W) s0 = rlv_fma(rlv_load(a + i), rlv_load(b + i), s0);
    s = rlv_hsum(rlv_add(rlv_add(s0, s1), rlv_add(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static RL__TGT float RL__KF(dot_bf16)(const float *a, const uint16_t *b, int64_t n) {
    RLV s0 = rlv_zero(), s1 = rlv_zero();
    int64_t i = 0;
    float s;
    for (; i + 2 * RLV_W <= n; i += 2 * RLV_W) {
        s0 = rlv_fma(rlv_load(a + i), rlv_load_bf16(b + i), s0);
        s1 = rlv_fma(rlv_load(a + i + RLV_W), rlv_load_bf16(b + i + RLV_W), s1);
    }
    for (; i + RLV_W <= n; i += RLV_W) s0 = rlv_fma(rlv_load(a + i), rlv_load_bf16(b + i), s0);
    s = rlv_hsum(rlv_add(s0, s1));
    for (; i < n; i++) s += a[i] * rl_bf16_to_f32(b[i]);
    return s;
}

static RL__TGT float RL__KF(sum)(const float *x, int64_t n) {
    RLV s0 = rlv_zero(), s1 = rlv_zero();
    int64_t i = 0;
    float s;
    for (; i + 2 * RLV_W <= n; i += 2 * RLV_W) {
        s0 = rlv_add(s0, rlv_load(x + i));
        s1 = rlv_add(s1, rlv_load(x + i + RLV_W));
    }
    for (; i + RLV_W <= n; i += RLV_W) s0 = rlv_add(s0, rlv_load(x + i));
    s = rlv_hsum(rlv_add(s0, s1));
    for (; i < n; i++) s += x[i];
    return s;
}

static RL__TGT float RL__KF(max)(const float *x, int64_t n) {
    int64_t i = 0;
    float m = -INFINITY;
    if (n >= RLV_W) {
        RLV vm = rlv_load(x);
        for (i = RLV_W; i + RLV_W <= n; i += RLV_W) vm = rlv_max(vm, rlv_load(x + i));
        m = rlv_hmax(vm);
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static RL__TGT float RL__KF(rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps) {
    float r = 1.0f / sqrtf(RL__KF(dot)(x, x, n) / (float)n + eps);
    int64_t i = 0;
    RLV vr = rlv_set1(r);
    if (w) {
        for (; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, rlv_mul(rlv_mul(rlv_load(x + i), vr), rlv_load(w + i)));
        for (; i < n; i++) y[i] = x[i] * r * w[i];
    } else {
        RL__KF(scale)(y, x, r, n);
    }
    return r;
}

static RL__TGT void RL__KF(layernorm)(float *y, const float *x, const float *w, const float *b, int64_t n,
                                      float eps, float *mean_out, float *rstd_out) {
    float mean = RL__KF(sum)(x, n) / (float)n, var, r;
    RLV vm = rlv_set1(mean), acc = rlv_zero(), vr;
    int64_t i = 0;
    for (; i + RLV_W <= n; i += RLV_W) {
        RLV d = rlv_sub(rlv_load(x + i), vm);
        acc = rlv_fma(d, d, acc);
    }
    var = rlv_hsum(acc);
    for (; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    r = 1.0f / sqrtf(var / (float)n + eps);
    vr = rlv_set1(r);
    for (i = 0; i + RLV_W <= n; i += RLV_W) {
        RLV v = rlv_mul(rlv_sub(rlv_load(x + i), vm), vr);
        if (w) v = rlv_mul(v, rlv_load(w + i));
        if (b) v = rlv_add(v, rlv_load(b + i));
        rlv_store(y + i, v);
    }
    for (; i < n; i++) y[i] = (x[i] - mean) * r * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
    if (mean_out) *mean_out = mean;
    if (rstd_out) *rstd_out = r;
}

/* y = exp(x - m) and its sum (y may alias x) */
static RL__TGT float RL__KF(exp_shift_sum)(float *y, const float *x, float m, int64_t n) {
    RLV vm = rlv_set1(m), acc = rlv_zero();
    int64_t i = 0;
    float s;
    for (; i + RLV_W <= n; i += RLV_W) {
        RLV e = rlv_exp(rlv_sub(rlv_load(x + i), vm));
        rlv_store(y + i, e);
        acc = rlv_add(acc, e);
    }
    s = rlv_hsum(acc);
    for (; i < n; i++) {
        float t[RLV_W] = {0};
        t[0] = x[i] - m;
        rlv_store(t, rlv_exp(rlv_load(t)));
        y[i] = t[0];
        s += t[0];
    }
    return s;
}

static RL__TGT float RL__KF(softmax)(float *y, const float *x, int64_t n) {
    float m = RL__KF(max)(x, n), s = RL__KF(exp_shift_sum)(y, x, m, n);
    RL__KF(scale)(y, y, 1.0f / s, n);
    return m + logf(s);
}

static RL__TGT float RL__KF(logsoftmax)(float *y, const float *x, int64_t n) {
    float m = RL__KF(max)(x, n), s = 0, lse;
    RLV vm = rlv_set1(m), acc = rlv_zero();
    int64_t i = 0;
    for (; i + RLV_W <= n; i += RLV_W) acc = rlv_add(acc, rlv_exp(rlv_sub(rlv_load(x + i), vm)));
    s = rlv_hsum(acc);
    for (; i < n; i++) s += expf(x[i] - m);
    lse = m + logf(s);
    {
        RLV vl = rlv_set1(lse);
        for (i = 0; i + RLV_W <= n; i += RLV_W) rlv_store(y + i, rlv_sub(rlv_load(x + i), vl));
        for (; i < n; i++) y[i] = x[i] - lse;
    }
    return lse;
}

static RL__TGT float RL__KF(l2norm)(float *y, const float *x, int64_t n, float eps) {
    float nrm = sqrtf(RL__KF(dot)(x, x, n)), r = 1.0f / (nrm > eps ? nrm : eps);
    RL__KF(scale)(y, x, r, n);
    return r;
}

static RL__TGT void RL__KF(rope)(float *y, const float *x, const float *cs, const float *sn, int64_t half) {
    int64_t i = 0;
    for (; i + RLV_W <= half; i += RLV_W) {
        RLV a = rlv_load(x + i), b = rlv_load(x + i + half), c = rlv_load(cs + i), s = rlv_load(sn + i);
        rlv_store(y + i, rlv_sub(rlv_mul(a, c), rlv_mul(b, s)));
        rlv_store(y + i + half, rlv_fma(a, s, rlv_mul(b, c)));
    }
    for (; i < half; i++) {
        float a = x[i], b = x[i + half];
        y[i] = a * cs[i] - b * sn[i];
        y[i + half] = b * cs[i] + a * sn[i];
    }
}

/* ---- GEMM ----
   BLIS-style: C is computed in RL__MR × RL__NR tiles by a register-resident
   micro-kernel. Loops, outermost first: NC columns of B (packed, fits L3), KC of K
   (packed B panel KC×NC), MC rows of A (packed, fits L2), then NR / MR micro-tiles.
   Packing converts BF16 to F32 and lays panels out k-major so the micro-kernel reads
   both operands contiguously. Edges are zero-padded in the packs. */

static RL__TGT void RL__KF(pack_a)(const rl__gemm_args *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float *Ap) {
    int64_t ip, k, r;
    for (ip = 0; ip < mc; ip += RL__MR) {
        int64_t mr = RL__MIN(RL__MR, mc - ip);
        float *dst = Ap + ip * kc;
        const float *src = g->A + (i0 + ip) * g->a_rs + k0 * g->a_cs;
        if (mr == RL__MR && g->a_rs == 1) {
            for (k = 0; k < kc; k++) memcpy(dst + k * RL__MR, src + k * g->a_cs, RL__MR * sizeof(float));
        } else if (mr == RL__MR && g->a_cs == 1) {
            for (k = 0; k < kc; k++)
                for (r = 0; r < RL__MR; r++) dst[k * RL__MR + r] = src[r * g->a_rs + k];
        } else {
            for (k = 0; k < kc; k++)
                for (r = 0; r < RL__MR; r++) dst[k * RL__MR + r] = r < mr ? src[r * g->a_rs + k * g->a_cs] : 0.0f;
        }
    }
}

static RL__TGT void RL__KF(pack_b)(const rl__gemm_args *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float *Bp) {
    int64_t jp, k, r;
    const float *Bf = (const float *)g->B;
    const uint16_t *Bh = (const uint16_t *)g->B;
    for (jp = 0; jp < nc; jp += RL__NR) {
        int64_t nr = RL__MIN(RL__NR, nc - jp);
        float *dst = Bp + jp * kc;
        int64_t base = k0 * g->b_rs + (j0 + jp) * g->b_cs;
        if (nr == RL__NR && g->b_cs == 1) { /* rows of B contiguous */
            for (k = 0; k < kc; k++) {
                int64_t o = base + k * g->b_rs;
                if (g->bt == RL_BF16)
                    for (r = 0; r < RL__NRV; r++) rlv_store(dst + k * RL__NR + r * RLV_W, rlv_load_bf16(Bh + o + r * RLV_W));
                else
                    memcpy(dst + k * RL__NR, Bf + o, RL__NR * sizeof(float));
            }
        } else if (nr == RL__NR && g->b_rs == 1) { /* columns of B contiguous (x·Wᵀ) */
            for (r = 0; r < RL__NR; r++) {
                int64_t o = base + r * g->b_cs;
                if (g->bt == RL_BF16)
                    for (k = 0; k < kc; k++) dst[k * RL__NR + r] = rl_bf16_to_f32(Bh[o + k]);
                else
                    for (k = 0; k < kc; k++) dst[k * RL__NR + r] = Bf[o + k];
            }
        } else {
            for (k = 0; k < kc; k++)
                for (r = 0; r < RL__NR; r++)
                    dst[k * RL__NR + r] = r < nr ? rl__load_b(g->B, g->bt, base + k * g->b_rs + r * g->b_cs) : 0.0f;
        }
    }
}

/* c[MR×NR] (+)= a-panel · b-panel over kc steps */
static RL__TGT void RL__KF(ukernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta) {
    RLV acc[RL__MR][RL__NRV];
    int64_t k;
    int i, v;
    for (i = 0; i < RL__MR; i++)
        for (v = 0; v < RL__NRV; v++) acc[i][v] = rlv_zero();
    for (k = 0; k < kc; k++) {
        RLV bv[RL__NRV];
        for (v = 0; v < RL__NRV; v++) bv[v] = rlv_load(b + k * RL__NR + v * RLV_W);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
        for (i = 0; i < RL__MR; i++) {
            RLV ai = rlv_set1(a[k * RL__MR + i]);
            for (v = 0; v < RL__NRV; v++) acc[i][v] = rlv_fma(ai, bv[v], acc[i][v]);
        }
    }
    for (i = 0; i < RL__MR; i++)
        for (v = 0; v < RL__NRV; v++) {
            float *p = c + i * ldc + v * RLV_W;
            rlv_store(p, beta ? rlv_add(rlv_load(p), acc[i][v]) : acc[i][v]);
        }
}

/* C[m0:m1, n0:n1] of the product. Bp holds KC×NC floats; Ap holds ap_cap floats:
   MC×KC at least, and when all rows of the range fit (rows rounded up to MR, times K),
   A is packed once up front and reused for every NC block of columns. */
static RL__TGT void RL__KF(gemm)(const rl__gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *Ap,
                                 int64_t ap_cap, float *Bp) {
    int64_t jc, pc, ic, jr, ir, mpad = (m1 - m0 + RL__MR - 1) / RL__MR * RL__MR;
    int a_once = mpad * g->K <= ap_cap;
    if (g->K == 0) {
        if (!g->accumulate)
            for (ir = m0; ir < m1; ir++) memset(g->C + ir * g->ldc + n0, 0, (size_t)(n1 - n0) * sizeof(float));
        return;
    }
    if (a_once)
        for (pc = 0; pc < g->K; pc += RL__KC) RL__KF(pack_a)(g, m0, m1 - m0, pc, RL__MIN(RL__KC, g->K - pc), Ap + pc * mpad);
    for (jc = n0; jc < n1; jc += RL__NC) {
        int64_t nc = RL__MIN(RL__NC, n1 - jc);
        for (pc = 0; pc < g->K; pc += RL__KC) {
            int64_t kc = RL__MIN(RL__KC, g->K - pc);
            int beta = pc > 0 || g->accumulate;
            RL__KF(pack_b)(g, pc, kc, jc, nc, Bp);
            for (ic = m0; ic < m1; ic += RL__MC) {
                int64_t mc = RL__MIN(RL__MC, m1 - ic);
                const float *ap = a_once ? Ap + pc * mpad + (ic - m0) * kc : Ap;
                if (!a_once) RL__KF(pack_a)(g, ic, mc, pc, kc, Ap);
                for (jr = 0; jr < nc; jr += RL__NR) {
                    int64_t nr = RL__MIN(RL__NR, nc - jr);
                    for (ir = 0; ir < mc; ir += RL__MR) {
                        int64_t mr = RL__MIN(RL__MR, mc - ir);
                        float *c = g->C + (ic + ir) * g->ldc + jc + jr;
                        if (mr == RL__MR && nr == RL__NR) {
                            RL__KF(ukernel)(kc, ap + ir * kc, Bp + jr * kc, c, g->ldc, beta);
                        } else { /* edge tile through a buffer */
                            float t[RL__MR * RL__NR];
                            int64_t i, j;
                            RL__KF(ukernel)(kc, ap + ir * kc, Bp + jr * kc, t, RL__NR, 0);
                            for (i = 0; i < mr; i++)
                                for (j = 0; j < nr; j++) c[i * g->ldc + j] = (beta ? c[i * g->ldc + j] : 0.0f) + t[i * RL__NR + j];
                        }
                    }
                }
            }
        }
    }
}

static const rl__kern RL__KF(table) = {
    RL__KSTR(RL__SFX),
    RL__MR, RL__NR, RL__MC, RL__KC, RL__NC,
    RL__KF(gemm), RL__KF(dot), RL__KF(dot_bf16), RL__KF(axpy), RL__KF(add), RL__KF(sub), RL__KF(mul),
    RL__KF(scale), RL__KF(sum), RL__KF(max), RL__KF(exp), RL__KF(sigmoid), RL__KF(tanh), RL__KF(silu),
    RL__KF(softplus), RL__KF(swiglu), RL__KF(rmsnorm), RL__KF(layernorm), RL__KF(softmax),
    RL__KF(logsoftmax), RL__KF(l2norm), RL__KF(rope)};

/* end of one pass: forget its vocabulary so the next pass can define its own */
#undef RL__SFX
#undef RL__TGT
#undef RLV
#undef RLVI
#undef RLV_W
#undef RL__MR
#undef RL__NR
#undef RL__MC
#undef RL__KC
#undef RL__NC
#undef RL__NRV
#undef RL__KCAT2
#undef RL__KCAT
#undef RL__KF
#undef RL__KSTR2
#undef RL__KSTR
#undef rlv_zero
#undef rlv_set1
#undef rlv_load
#undef rlv_store
#undef rlv_load_bf16
#undef rlv_add
#undef rlv_sub
#undef rlv_mul
#undef rlv_div
#undef rlv_fma
#undef rlv_max
#undef rlv_min
#undef rlv_hsum
#undef rlv_hmax
#undef rlv_round
#undef rlv_lt_blend
#undef rlv_cvti
#undef rlv_bits
#undef rlv_frombits
#undef rlvi_tof
#undef rlvi_set1
#undef rlvi_add
#undef rlvi_sub
#undef rlvi_and
#undef rlvi_or
#undef rlvi_sll
#undef rlvi_srl
#undef rlv_exp
#undef rlv_log
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif /* SIMD kernel template */

#if defined(RADLADS_IMPLEMENTATION) && !defined(RL__KPASS) && !defined(RL__IMPL_DONE)
#define RL__IMPL_DONE

/* ---- 2c. instantiate the template per ISA, dispatch, threaded drivers ---- */
#define RL__KPASS 1
#include RADLADS_SELF
#undef RL__KPASS
#ifdef RL__X86
#define RL__KPASS 2
#include RADLADS_SELF
#undef RL__KPASS
#define RL__KPASS 3
#include RADLADS_SELF
#undef RL__KPASS
#endif
#ifdef RL__ARM
#define RL__KPASS 4
#include RADLADS_SELF
#undef RL__KPASS
#endif

#ifdef __cplusplus
extern "C" {
#endif

static const rl__kern rl__naive_table = {
    "naive", 1, 1, 1, 1, 1, NULL, rl__naive_dot, rl__naive_dot_bf16, rl__naive_axpy, rl__naive_add,
    rl__naive_sub, rl__naive_mul, rl__naive_scale, rl__naive_sum, rl__naive_max, rl__naive_exp,
    rl__naive_sigmoid, rl__naive_tanh, rl__naive_silu, rl__naive_softplus, rl__naive_swiglu,
    rl__naive_rmsnorm, rl__naive_layernorm, rl__naive_softmax, rl__naive_logsoftmax, rl__naive_l2norm,
    rl__naive_rope};

const char *rl_isa_name(rl_isa isa) {
    switch (isa) {
    case RL_ISA_SCALAR: return "scalar";
    case RL_ISA_AVX2: return "avx2";
    case RL_ISA_AVX512: return "avx512";
    case RL_ISA_NEON: return "neon";
    }
    return "?";
}

static int rl__isa_supported(rl_isa isa) {
    switch (isa) {
    case RL_ISA_SCALAR: return 1;
#ifdef RL__X86
    case RL_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case RL_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#ifdef RL__ARM
    case RL_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

static const rl__kern *rl__isa_table(rl_isa isa) {
    switch (isa) {
#ifdef RL__X86
    case RL_ISA_AVX2: return &rl__k_table_avx2;
    case RL_ISA_AVX512: return &rl__k_table_avx512;
#endif
#ifdef RL__ARM
    case RL_ISA_NEON: return &rl__k_table_neon;
#endif
    default: return &rl__k_table_scalar;
    }
}

rl_isa rl_isa_best(void) {
    if (rl__isa_supported(RL_ISA_AVX512)) return RL_ISA_AVX512;
    if (rl__isa_supported(RL_ISA_AVX2)) return RL_ISA_AVX2;
    if (rl__isa_supported(RL_ISA_NEON)) return RL_ISA_NEON;
    return RL_ISA_SCALAR;
}

static const rl__kern *rl__K; /* active kernels; set on first use */
static rl_isa rl__K_isa;

rl_status rl_isa_set(rl_isa isa) {
    if ((int)isa < 0 || isa > RL_ISA_NEON || !rl__isa_supported(isa))
        return rl__fail(RL_ERR_UNSUPPORTED, "kernel path '%s' is not available on this CPU/build (best: %s)",
                        rl_isa_name(isa), rl_isa_name(rl_isa_best()));
    rl__K_isa = isa;
    rl__K = rl__isa_table(isa);
    return RL_OK;
}

/* The active table: RADLADS_ISA if set and available, else the best. */
static const rl__kern *rl__kern_get(void) {
    if (!rl__K) {
        const char *e = getenv("RADLADS_ISA");
        rl_isa want = rl_isa_best();
        int i;
        if (e)
            for (i = 0; i <= RL_ISA_NEON; i++)
                if (!strcmp(e, rl_isa_name((rl_isa)i)) && rl__isa_supported((rl_isa)i)) want = (rl_isa)i;
        rl__K_isa = want;
        rl__K = rl__isa_table(want);
    }
    return rl__K;
}

rl_isa rl_isa_active(void) {
    rl__kern_get();
    return rl__K_isa;
}

/* ---- threaded GEMM driver ---- */

typedef struct {
    const rl__gemm_args *g;
    const rl__kern *k;
    int64_t tm, tn;       /* thread grid */
    float *scratch;       /* per task: ap_cap + KC*NC floats */
    size_t per_task, ap_cap;
} rl__gemm_job;

static void rl__gemm_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemm_job *j = (rl__gemm_job *)ctx;
    const rl__gemm_args *g = j->g;
    int64_t t;
    RL__UNUSED(tid);
    for (t = b; t < e; t++) {
        /* split rows and columns in multiples of the micro-tile */
        int64_t ti = t / j->tn, tj = t % j->tn;
        int64_t mu = (g->M + j->k->mr - 1) / j->k->mr, nu = (g->N + j->k->nr - 1) / j->k->nr;
        int64_t m0 = RL__MIN(g->M, (mu * ti / j->tm) * j->k->mr), m1 = RL__MIN(g->M, (mu * (ti + 1) / j->tm) * j->k->mr);
        int64_t n0 = RL__MIN(g->N, (nu * tj / j->tn) * j->k->nr), n1 = RL__MIN(g->N, (nu * (tj + 1) / j->tn) * j->k->nr);
        float *Ap = j->scratch + (size_t)t * j->per_task;
        if (m0 < m1 && n0 < n1) j->k->gemm(g, m0, m1, n0, n1, Ap, (int64_t)j->ap_cap, Ap + j->ap_cap);
    }
}

/* Small-M products with contiguous rows of B's transpose (x·Wᵀ while decoding):
   one dot product per output, no packing. */
typedef struct { const rl__gemm_args *g; const rl__kern *k; } rl__gemv_job;
static void rl__gemv_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemv_job *j = (rl__gemv_job *)ctx;
    const rl__gemm_args *g = j->g;
    int64_t i, n;
    RL__UNUSED(tid);
    for (i = 0; i < g->M; i++)
        for (n = b; n < e; n++) {
            const float *a = g->A + i * g->a_rs;
            float s = g->bt == RL_BF16 ? j->k->dot_bf16(a, (const uint16_t *)g->B + n * g->b_cs, g->K)
                                       : j->k->dot(a, (const float *)g->B + n * g->b_cs, g->K);
            float *c = g->C + i * g->ldc + n;
            *c = g->accumulate ? *c + s : s;
        }
}

void rl_gemm(rl_pool *pool, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs,
             const void *B, rl_dtype b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate) {
    rl__gemm_args g;
    const rl__kern *k = rl__kern_get();
    int nt = rl_pool_size(pool);
    if (M <= 0 || N <= 0) return;
    g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = a_rs; g.a_cs = a_cs; g.B = B; g.bt = b_type;
    g.b_rs = b_rs; g.b_cs = b_cs; g.C = C; g.ldc = ldc; g.accumulate = accumulate;
    if (M <= 4 && a_cs == 1 && b_rs == 1 && K > 0) {
        rl__gemv_job j;
        j.g = &g;
        j.k = k;
        rl_pool_for(pool, N, 64, rl__gemv_task, &j);
        return;
    }
    {
        rl__gemm_job j;
        int64_t mu = (M + k->mr - 1) / k->mr, nu = (N + k->nr - 1) / k->nr, best = -1, tm;
        /* thread grid tm × tn = nt minimising the larger per-thread share of tiles */
        j.tm = 1;
        for (tm = 1; tm <= nt; tm++) {
            int64_t tn = nt / tm, cost;
            if (tm * tn != nt) continue;
            cost = ((mu + tm - 1) / tm) * ((nu + tn - 1) / tn) * 16 + (tm * nu + tn * mu); /* work + packing */
            if (best < 0 || cost < best) { best = cost; j.tm = tm; }
        }
        j.tn = nt / j.tm;
        j.g = &g;
        j.k = k;
        /* A packed once per task when its rows × K fit in 4 MiB (else MC×KC blocks) */
        {
            size_t rows = (size_t)((mu + j.tm - 1) / j.tm) * (size_t)k->mr, once = rows * (size_t)K;
            j.ap_cap = RL__MAX((size_t)k->mc * k->kc, once <= ((size_t)1 << 20) ? once : 0);
        }
        j.per_task = j.ap_cap + (size_t)k->kc * k->nc;
        j.scratch = (float *)rl__aligned_alloc(j.per_task * sizeof(float) * (size_t)nt);
        if (!j.scratch) { /* out of memory: fall back to the reference loop */
            rl__naive_gemm(&g);
            return;
        }
        rl_pool_for(pool, j.tm * j.tn, 1, rl__gemm_task, &j);
        rl__aligned_free(j.scratch);
    }
}

void rl_matmul_nt(rl_pool *pool, float *y, const float *x, const void *W, rl_dtype wt, const float *bias,
                  int64_t M, int64_t N, int64_t K) {
    int64_t i;
    rl_gemm(pool, M, N, K, x, K, 1, W, wt, 1, K, y, N, 0);
    if (bias)
        for (i = 0; i < M; i++) rl__kern_get()->add(y + i * N, y + i * N, bias, N);
}

void rl_matmul_nn(rl_pool *pool, float *dx, const float *dy, const void *W, rl_dtype wt, int64_t M, int64_t N,
                  int64_t K, int accumulate) {
    rl_gemm(pool, M, K, N, dy, N, 1, W, wt, K, 1, dx, K, accumulate);
}

void rl_matmul_tn(rl_pool *pool, float *dW, const float *dy, const float *x, int64_t M, int64_t N, int64_t K,
                  int accumulate) {
    rl_gemm(pool, N, K, M, dy, 1, N, x, RL_F32, K, 1, dW, K, accumulate);
}

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 3. autodiff ========================================================= */
/* Ops run eagerly. When grad mode is on and an input requires a gradient, the op
   appends a node to the tape; rl_backward() walks the tape backwards and calls each
   node's backward function, which adds into the gradients of its inputs. Every op
   below is a pair: rl_X() (forward, records the node) and rl__X_bwd() (backward),
   with the row loops they share. Activations, their gradients, the nodes and the
   saved values live in the context arena until rl_ctx_reset(). */

struct rl__node {
    void (*backward)(rl_ctx *c, rl__node *n);
    rl_tensor *out, *in[8];
    rl_tensor *out2;  /* second output (the scans' final state); its grad may be NULL */
    int64_t i[4];     /* integer arguments */
    float f[2];       /* float arguments */
    float *aux;       /* values saved by the forward pass (per-row statistics, tables) */
    const void *cp;   /* constant argument (token ids, targets, frequencies) */
    rl_ctx *c;
};

int64_t rl_rows(const rl_tensor *t) { return t->shape[t->ndim - 1] ? t->n / t->shape[t->ndim - 1] : 0; }
int64_t rl_cols(const rl_tensor *t) { return t->shape[t->ndim - 1]; }
float *rl_f32(const rl_tensor *t) { return t->dtype == RL_F32 ? (float *)t->data : NULL; }

void rl_ctx_init(rl_ctx *c, rl_pool *pool) {
    memset(c, 0, sizeof *c);
    c->pool = pool;
    rl_arena_init(&c->arena, (size_t)16 << 20);
}

void rl_ctx_free(rl_ctx *c) {
    rl_arena_free(&c->arena);
    RL_FREE((void *)c->tape);
    memset(c, 0, sizeof *c);
}

void rl_ctx_reset(rl_ctx *c) {
    rl_arena_mark_t zero;
    memset(&zero, 0, sizeof zero);
    rl_arena_reset(&c->arena, zero);
    c->n_tape = 0;
    c->err = RL_OK;
}

void rl_no_grad_push(rl_ctx *c) { c->no_grad++; }
void rl_no_grad_pop(rl_ctx *c) { c->no_grad--; }

rl_tensor rl_wrap(void *data, rl_dtype dt, int ndim, const int64_t *shape, int requires_grad) {
    rl_tensor t;
    int i;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.dtype = dt;
    t.ndim = ndim;
    t.n = 1;
    for (i = 0; i < RL_MAX_DIMS; i++) t.shape[i] = 1;
    for (i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        t.n *= shape[i];
    }
    t.requires_grad = requires_grad;
    return t;
}

/* Set the context's sticky error (first one wins) and return NULL for the op. */
static rl_tensor *rl__op_fail(rl_ctx *c, rl_status s, const char *fmt, ...) {
    if (c->err == RL_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rl__errbuf, sizeof rl__errbuf, fmt, ap);
        va_end(ap);
        c->err = s;
    }
    return NULL;
}

rl_tensor *rl_new(rl_ctx *c, int ndim, const int64_t *shape) {
    rl_tensor *t = (rl_tensor *)rl_arena_alloc(&c->arena, sizeof *t);
    int64_t n = 1;
    int i;
    if (ndim < 1 || ndim > RL_MAX_DIMS) return rl__op_fail(c, RL_ERR_ARG, "tensor: %d dimensions (1..%d allowed)", ndim, RL_MAX_DIMS);
    for (i = 0; i < ndim; i++) n *= shape[i];
    if (!t) return rl__op_fail(c, RL_ERR_NOMEM, "activations: out of memory");
    *t = rl_wrap(NULL, RL_F32, ndim, shape, 0);
    t->data = rl_arena_zalloc(&c->arena, (size_t)n * sizeof(float));
    if (!t->data) return rl__op_fail(c, RL_ERR_NOMEM, "activations: out of memory for %lld floats", (long long)n);
    return t;
}

rl_tensor *rl_new2(rl_ctx *c, int64_t rows, int64_t cols) {
    int64_t s[2];
    s[0] = rows;
    s[1] = cols;
    return rl_new(c, 2, s);
}

static rl_tensor *rl__like(rl_ctx *c, const rl_tensor *x) { return rl_new(c, x->ndim, x->shape); }

static rl_tensor *rl__scalar(rl_ctx *c) {
    int64_t one = 1;
    return rl_new(c, 1, &one);
}

/* Gradient buffer of t, allocated (zeroed) in the arena on first use. */
static float *rl__grad(rl_ctx *c, rl_tensor *t) {
    if (!t->grad) {
        t->grad = (float *)rl_arena_zalloc(&c->arena, (size_t)t->n * sizeof(float));
        if (!t->grad) rl__op_fail(c, RL_ERR_NOMEM, "gradients: out of memory");
    }
    return t->grad;
}

/* A node for an op with up to 8 inputs; appended to the tape only when a gradient will
   be needed (grad mode on and some input requires one). */
static rl__node *rl__node_newv(rl_ctx *c, void (*bwd)(rl_ctx *, rl__node *), rl_tensor *out, int n_in, rl_tensor *const *in) {
    rl__node *n = (rl__node *)rl_arena_zalloc(&c->arena, sizeof *n);
    int need = 0, i;
    if (!n) {
        rl__op_fail(c, RL_ERR_NOMEM, "tape: out of memory");
        return NULL;
    }
    n->backward = bwd;
    n->out = out;
    n->c = c;
    for (i = 0; i < n_in; i++) {
        n->in[i] = in[i];
        need |= in[i] && in[i]->requires_grad;
    }
    if (need && !c->no_grad) {
        if (c->n_tape == c->cap_tape) {
            int cap = c->cap_tape ? 2 * c->cap_tape : 256;
            rl__node **t = (rl__node **)RL_REALLOC((void *)c->tape, sizeof(rl__node *) * (size_t)cap);
            if (!t) {
                rl__op_fail(c, RL_ERR_NOMEM, "tape: out of memory");
                return NULL;
            }
            c->tape = t;
            c->cap_tape = cap;
        }
        c->tape[c->n_tape++] = n;
        out->requires_grad = 1;
    }
    return n;
}
static rl__node *rl__node_new(rl_ctx *c, void (*bwd)(rl_ctx *, rl__node *), rl_tensor *out, rl_tensor *a, rl_tensor *b,
                              rl_tensor *d, rl_tensor *e) {
    rl_tensor *in[4];
    in[0] = a; in[1] = b; in[2] = d; in[3] = e;
    return rl__node_newv(c, bwd, out, 4, in);
}

static int rl__wants(const rl_tensor *t) { return t && t->requires_grad; }

rl_status rl_backward(rl_ctx *c, rl_tensor *loss) {
    int i;
    if (c->err) return c->err;
    if (!loss || loss->n != 1) return rl__fail(RL_ERR_ARG, "rl_backward: the loss must be a scalar tensor");
    if (!loss->requires_grad) return rl__fail(RL_ERR_STATE, "rl_backward: the loss does not depend on anything that requires a gradient");
    if (!rl__grad(c, loss)) return c->err;
    loss->grad[0] += 1.0f;
    for (i = c->n_tape - 1; i >= 0; i--) {
        rl__node *n = c->tape[i];
        if (n->out->grad || (n->out2 && n->out2->grad)) n->backward(c, n);
        if (c->err) return c->err;
    }
    return RL_OK;
}

/* Checks shared by the ops. */
static int rl__bad(rl_ctx *c, const rl_tensor *a) {
    return !a || c->err || (a->dtype != RL_F32 && (rl__op_fail(c, RL_ERR_ARG, "%s: activation must be F32", a->name ? a->name : "tensor"), 1));
}
static int rl__same(rl_ctx *c, const char *op, const rl_tensor *a, const rl_tensor *b) {
    if (a->n != b->n || rl_cols(a) != rl_cols(b)) {
        rl__op_fail(c, RL_ERR_ARG, "%s: shapes differ (%lld elements vs %lld)", op, (long long)a->n, (long long)b->n);
        return 0;
    }
    return 1;
}

/* Run fn over rows in parallel with chunks of at least ~16k elements. */
static void rl__par_rows(rl_ctx *c, int64_t rows, int64_t cols, rl_task_fn fn, void *ctx) {
    rl_pool_for(c->pool, rows, RL__MAX(1, 16384 / RL__MAX(cols, 1)), fn, ctx);
}

/* ---- add, sub, mul, scale ---- */

static void rl__add_bwd(rl_ctx *c, rl__node *n) {
    const rl__kern *K = rl__kern_get();
    float s = n->f[0]; /* +1 for add, -1 for sub */
    if (rl__wants(n->in[0])) K->axpy(rl__grad(c, n->in[0]), 1.0f, n->out->grad, n->out->n);
    if (rl__wants(n->in[1])) K->axpy(rl__grad(c, n->in[1]), s, n->out->grad, n->out->n);
}
static rl_tensor *rl__addsub(rl_ctx *c, rl_tensor *a, rl_tensor *b, float sign) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, a) || rl__bad(c, b) || !rl__same(c, sign > 0 ? "add" : "sub", a, b)) return NULL;
    if (!(y = rl__like(c, a))) return NULL;
    if (sign > 0) rl__kern_get()->add(rl_f32(y), rl_f32(a), rl_f32(b), a->n);
    else rl__kern_get()->sub(rl_f32(y), rl_f32(a), rl_f32(b), a->n);
    if ((n = rl__node_new(c, rl__add_bwd, y, a, b, NULL, NULL))) n->f[0] = sign;
    return y;
}
rl_tensor *rl_add(rl_ctx *c, rl_tensor *a, rl_tensor *b) { return rl__addsub(c, a, b, 1.0f); }
rl_tensor *rl_sub(rl_ctx *c, rl_tensor *a, rl_tensor *b) { return rl__addsub(c, a, b, -1.0f); }

static void rl__mul_bwd(rl_ctx *c, rl__node *n) {
    int64_t i, N = n->out->n;
    const float *g = n->out->grad, *a = rl_f32(n->in[0]), *b = rl_f32(n->in[1]);
    if (rl__wants(n->in[0])) {
        float *ga = rl__grad(c, n->in[0]);
        for (i = 0; i < N; i++) ga[i] += g[i] * b[i];
    }
    if (rl__wants(n->in[1])) {
        float *gb = rl__grad(c, n->in[1]);
        for (i = 0; i < N; i++) gb[i] += g[i] * a[i];
    }
}
rl_tensor *rl_mul(rl_ctx *c, rl_tensor *a, rl_tensor *b) {
    rl_tensor *y;
    if (rl__bad(c, a) || rl__bad(c, b) || !rl__same(c, "mul", a, b)) return NULL;
    if (!(y = rl__like(c, a))) return NULL;
    rl__kern_get()->mul(rl_f32(y), rl_f32(a), rl_f32(b), a->n);
    rl__node_new(c, rl__mul_bwd, y, a, b, NULL, NULL);
    return y;
}

static void rl__scale_bwd(rl_ctx *c, rl__node *n) {
    rl__kern_get()->axpy(rl__grad(c, n->in[0]), n->f[0], n->out->grad, n->out->n);
}
rl_tensor *rl_scale(rl_ctx *c, rl_tensor *x, float s) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, x) || !(y = rl__like(c, x))) return NULL;
    rl__kern_get()->scale(rl_f32(y), rl_f32(x), s, x->n);
    if ((n = rl__node_new(c, rl__scale_bwd, y, x, NULL, NULL, NULL))) n->f[0] = s;
    return y;
}

/* ---- row broadcasts: x + b, x ⊙ w with b, w of length cols ---- */

static int rl__row_vec(rl_ctx *c, const char *op, const rl_tensor *x, const rl_tensor *v) {
    if (v->n != rl_cols(x)) {
        rl__op_fail(c, RL_ERR_ARG, "%s: vector has %lld elements, rows have %lld", op, (long long)v->n, (long long)rl_cols(x));
        return 0;
    }
    return 1;
}

static void rl__add_row_bwd(rl_ctx *c, rl__node *n) {
    const rl__kern *K = rl__kern_get();
    int64_t r, R = rl_rows(n->out), C = rl_cols(n->out);
    if (rl__wants(n->in[0])) K->axpy(rl__grad(c, n->in[0]), 1.0f, n->out->grad, n->out->n);
    if (rl__wants(n->in[1])) {
        float *gb = rl__grad(c, n->in[1]);
        for (r = 0; r < R; r++) K->axpy(gb, 1.0f, n->out->grad + r * C, C);
    }
}
rl_tensor *rl_add_row(rl_ctx *c, rl_tensor *x, rl_tensor *b) {
    rl_tensor *y;
    int64_t r, R, C;
    if (rl__bad(c, x) || rl__bad(c, b) || !rl__row_vec(c, "add_row", x, b) || !(y = rl__like(c, x))) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    for (r = 0; r < R; r++) rl__kern_get()->add(rl_f32(y) + r * C, rl_f32(x) + r * C, rl_f32(b), C);
    rl__node_new(c, rl__add_row_bwd, y, x, b, NULL, NULL);
    return y;
}

static void rl__mul_row_bwd(rl_ctx *c, rl__node *n) {
    int64_t r, j, R = rl_rows(n->out), C = rl_cols(n->out);
    const float *g = n->out->grad, *x = rl_f32(n->in[0]), *w = rl_f32(n->in[1]);
    if (rl__wants(n->in[0])) {
        float *gx = rl__grad(c, n->in[0]);
        for (r = 0; r < R; r++)
            for (j = 0; j < C; j++) gx[r * C + j] += g[r * C + j] * w[j];
    }
    if (rl__wants(n->in[1])) {
        float *gw = rl__grad(c, n->in[1]);
        for (r = 0; r < R; r++)
            for (j = 0; j < C; j++) gw[j] += g[r * C + j] * x[r * C + j];
    }
}
rl_tensor *rl_mul_row(rl_ctx *c, rl_tensor *x, rl_tensor *w) {
    rl_tensor *y;
    int64_t r, R, C;
    if (rl__bad(c, x) || rl__bad(c, w) || !rl__row_vec(c, "mul_row", x, w) || !(y = rl__like(c, x))) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    for (r = 0; r < R; r++) rl__kern_get()->mul(rl_f32(y) + r * C, rl_f32(x) + r * C, rl_f32(w), C);
    rl__node_new(c, rl__mul_row_bwd, y, x, w, NULL, NULL);
    return y;
}

/* ---- linear x·Wᵀ + b and matmul x·A ---- */

static void rl__linear_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *x = n->in[0], *W = n->in[1], *b = n->in[2];
    int64_t M = rl_rows(x), K = rl_cols(x), N = W->shape[0], r;
    const float *g = n->out->grad;
    if (rl__wants(x)) rl_matmul_nn(c->pool, rl__grad(c, x), g, W->data, W->dtype, M, N, K, 1);
    if (rl__wants(W)) rl_matmul_tn(c->pool, rl__grad(c, W), g, rl_f32(x), M, N, K, 1);
    if (rl__wants(b)) {
        float *gb = rl__grad(c, b);
        for (r = 0; r < M; r++) rl__kern_get()->axpy(gb, 1.0f, g + r * N, N);
    }
}
rl_tensor *rl_linear(rl_ctx *c, rl_tensor *x, rl_tensor *W, rl_tensor *b) {
    rl_tensor *y;
    int64_t shape[RL_MAX_DIMS], M, K, N;
    int i;
    if (rl__bad(c, x) || !W || c->err) return NULL;
    M = rl_rows(x);
    K = rl_cols(x);
    if (W->ndim != 2 || W->shape[1] != K)
        return rl__op_fail(c, RL_ERR_ARG, "linear %s: weight is [%lld, %lld], input rows have %lld values",
                           W->name ? W->name : "", (long long)W->shape[0], (long long)(W->ndim > 1 ? W->shape[1] : 0), (long long)K);
    N = W->shape[0];
    if (W->dtype != RL_F32 && (W->dtype != RL_BF16 || W->requires_grad))
        return rl__op_fail(c, RL_ERR_ARG, "linear %s: weights must be F32 (or BF16 when frozen)", W->name ? W->name : "");
    if (b && (rl__bad(c, b) || b->n != N)) return rl__op_fail(c, RL_ERR_ARG, "linear: bias must have %lld F32 values", (long long)N);
    for (i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = N;
    if (!(y = rl_new(c, x->ndim, shape))) return NULL;
    rl_matmul_nt(c->pool, rl_f32(y), rl_f32(x), W->data, W->dtype, b ? rl_f32(b) : NULL, M, N, K);
    rl__node_new(c, rl__linear_bwd, y, x, W, b, NULL);
    return y;
}

static void rl__matmul_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *x = n->in[0], *A = n->in[1];
    int64_t M = rl_rows(x), K = rl_cols(x), N = A->shape[1];
    const float *g = n->out->grad;
    if (rl__wants(x)) rl_gemm(c->pool, M, K, N, g, N, 1, A->data, RL_F32, 1, N, rl__grad(c, x), K, 1);
    if (rl__wants(A)) rl_gemm(c->pool, K, N, M, rl_f32(x), 1, K, g, RL_F32, N, 1, rl__grad(c, A), N, 1);
}
rl_tensor *rl_matmul(rl_ctx *c, rl_tensor *x, rl_tensor *A) {
    rl_tensor *y;
    int64_t shape[RL_MAX_DIMS], M, K, N;
    int i;
    if (rl__bad(c, x) || rl__bad(c, A)) return NULL;
    M = rl_rows(x);
    K = rl_cols(x);
    if (A->ndim != 2 || A->shape[0] != K)
        return rl__op_fail(c, RL_ERR_ARG, "matmul %s: matrix is [%lld, %lld], input rows have %lld values",
                           A->name ? A->name : "", (long long)A->shape[0], (long long)A->shape[1], (long long)K);
    N = A->shape[1];
    for (i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = N;
    if (!(y = rl_new(c, x->ndim, shape))) return NULL;
    rl_gemm(c->pool, M, N, K, rl_f32(x), K, 1, A->data, RL_F32, N, 1, rl_f32(y), N, 0);
    rl__node_new(c, rl__matmul_bwd, y, x, A, NULL, NULL);
    return y;
}

/* ---- RMSNorm: y = x / sqrt(mean(x²) + eps) ⊙ w ---- */

static void rl__rmsnorm_fwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    int64_t C = rl_cols(n->out), r;
    const float *w = n->in[1] ? rl_f32(n->in[1]) : NULL;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++)
        n->aux[r] = rl__kern_get()->rmsnorm(rl_f32(n->out) + r * C, rl_f32(n->in[0]) + r * C, w, C, n->f[0]);
}
static void rl__rmsnorm_bwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    int64_t C = rl_cols(n->out), r, j;
    const float *w = n->in[1] ? rl_f32(n->in[1]) : NULL;
    float *gx = n->in[0]->requires_grad ? n->in[0]->grad : NULL;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        const float *x = rl_f32(n->in[0]) + r * C, *g = n->out->grad + r * C;
        float rs = n->aux[r];
        double dot = 0;
        if (!gx) break;
        for (j = 0; j < C; j++) dot += (double)g[j] * (w ? w[j] : 1.0f) * x[j];
        for (j = 0; j < C; j++)
            gx[r * C + j] += rs * (g[j] * (w ? w[j] : 1.0f) - x[j] * rs * rs * (float)(dot / (double)C));
    }
}
static void rl__rmsnorm_bwd(rl_ctx *c, rl__node *n) {
    int64_t R = rl_rows(n->out), C = rl_cols(n->out), r, j;
    if (rl__wants(n->in[0]) && rl__grad(c, n->in[0])) rl__par_rows(c, R, C, rl__rmsnorm_bwd_rows, n);
    if (rl__wants(n->in[1])) {
        float *gw = rl__grad(c, n->in[1]);
        for (r = 0; r < R; r++)
            for (j = 0; j < C; j++) gw[j] += n->out->grad[r * C + j] * rl_f32(n->in[0])[r * C + j] * n->aux[r];
    }
}
rl_tensor *rl_rmsnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, float eps) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, x) || (w && (rl__bad(c, w) || !rl__row_vec(c, "rmsnorm", x, w))) || !(y = rl__like(c, x))) return NULL;
    if (!(n = rl__node_new(c, rl__rmsnorm_bwd, y, x, w, NULL, NULL))) return NULL;
    n->f[0] = eps;
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)rl_rows(x))))
        return rl__op_fail(c, RL_ERR_NOMEM, "rmsnorm: out of memory");
    rl__par_rows(c, rl_rows(x), rl_cols(x), rl__rmsnorm_fwd_rows, n);
    return y;
}

/* ---- GroupNorm over `groups` equal slices of each row, affine per channel ---- */

static void rl__groupnorm_fwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    int64_t C = rl_cols(n->out), G = n->i[0], d = C / G, r, gi;
    const float *w = n->in[1] ? rl_f32(n->in[1]) : NULL, *b = n->in[2] ? rl_f32(n->in[2]) : NULL;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++)
        for (gi = 0; gi < G; gi++) {
            int64_t o = r * C + gi * d;
            rl__kern_get()->layernorm(rl_f32(n->out) + o, rl_f32(n->in[0]) + o, w ? w + gi * d : NULL,
                                      b ? b + gi * d : NULL, d, n->f[0], &n->aux[2 * (r * G + gi)],
                                      &n->aux[2 * (r * G + gi) + 1]);
        }
}
static void rl__groupnorm_bwd(rl_ctx *c, rl__node *n) {
    int64_t C = rl_cols(n->out), R = rl_rows(n->out), G = n->i[0], d = C / G, r, gi, j;
    const float *w = n->in[1] ? rl_f32(n->in[1]) : NULL;
    float *gx = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gw = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    float *gb = rl__wants(n->in[2]) ? rl__grad(c, n->in[2]) : NULL;
    for (r = 0; r < R; r++)
        for (gi = 0; gi < G; gi++) {
            int64_t o = r * C + gi * d;
            const float *x = rl_f32(n->in[0]) + o, *g = n->out->grad + o;
            float mean = n->aux[2 * (r * G + gi)], rs = n->aux[2 * (r * G + gi) + 1];
            double s1 = 0, s2 = 0;
            for (j = 0; j < d; j++) {
                float xh = (x[j] - mean) * rs, dxh = g[j] * (w ? w[gi * d + j] : 1.0f);
                s1 += dxh;
                s2 += (double)dxh * xh;
                if (gw) gw[gi * d + j] += g[j] * xh;
                if (gb) gb[gi * d + j] += g[j];
            }
            if (gx)
                for (j = 0; j < d; j++) {
                    float xh = (x[j] - mean) * rs, dxh = g[j] * (w ? w[gi * d + j] : 1.0f);
                    gx[o + j] += rs * (dxh - (float)(s1 / (double)d) - xh * (float)(s2 / (double)d));
                }
        }
}
rl_tensor *rl_groupnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, rl_tensor *b, int groups, float eps) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, x) || (w && (rl__bad(c, w) || !rl__row_vec(c, "groupnorm", x, w))) ||
        (b && (rl__bad(c, b) || !rl__row_vec(c, "groupnorm", x, b))))
        return NULL;
    if (groups < 1 || rl_cols(x) % groups)
        return rl__op_fail(c, RL_ERR_ARG, "groupnorm: %lld channels do not split into %d groups", (long long)rl_cols(x), groups);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__groupnorm_bwd, y, x, w, b, NULL))) return NULL;
    n->i[0] = groups;
    n->f[0] = eps;
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * 2 * (size_t)(rl_rows(x) * groups))))
        return rl__op_fail(c, RL_ERR_NOMEM, "groupnorm: out of memory");
    rl__par_rows(c, rl_rows(x), rl_cols(x), rl__groupnorm_fwd_rows, n);
    return y;
}

/* ---- softmax and log-softmax over rows ---- */

static void rl__softmax_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    int64_t C = rl_cols(n->out), r;
    const rl__kern *K = rl__kern_get();
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        if (n->i[0]) K->logsoftmax(rl_f32(n->out) + r * C, rl_f32(n->in[0]) + r * C, C);
        else K->softmax(rl_f32(n->out) + r * C, rl_f32(n->in[0]) + r * C, C);
    }
}
static void rl__softmax_bwd(rl_ctx *c, rl__node *n) {
    int64_t C = rl_cols(n->out), R = rl_rows(n->out), r, j;
    float *gx = rl__grad(c, n->in[0]);
    for (r = 0; r < R; r++) {
        const float *y = rl_f32(n->out) + r * C, *g = n->out->grad + r * C;
        double s = 0;
        if (n->i[0]) { /* log-softmax: gx = g - softmax · Σg */
            for (j = 0; j < C; j++) s += g[j];
            for (j = 0; j < C; j++) gx[r * C + j] += g[j] - expf(y[j]) * (float)s;
        } else { /* softmax: gx = y ⊙ (g - Σ g⊙y) */
            for (j = 0; j < C; j++) s += (double)g[j] * y[j];
            for (j = 0; j < C; j++) gx[r * C + j] += y[j] * (g[j] - (float)s);
        }
    }
}
static rl_tensor *rl__softmax_op(rl_ctx *c, rl_tensor *x, int logspace) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, x) || !(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__softmax_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = logspace;
    rl__par_rows(c, rl_rows(x), rl_cols(x), rl__softmax_rows, n);
    return y;
}
rl_tensor *rl_softmax(rl_ctx *c, rl_tensor *x) { return rl__softmax_op(c, x, 0); }
rl_tensor *rl_logsoftmax(rl_ctx *c, rl_tensor *x) { return rl__softmax_op(c, x, 1); }

/* ---- elementwise functions: forward by kernel, backward from x and y ---- */

enum { RL__F_EXP, RL__F_SIGMOID, RL__F_TANH, RL__F_SOFTPLUS, RL__F_SILU };

static void rl__unary_fwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    const rl__kern *K = rl__kern_get();
    float *y = rl_f32(n->out) + r0;
    const float *x = rl_f32(n->in[0]) + r0;
    int64_t m = r1 - r0;
    RL__UNUSED(tid);
    switch (n->i[0]) {
    case RL__F_EXP: K->exp(y, x, m); break;
    case RL__F_SIGMOID: K->sigmoid(y, x, m); break;
    case RL__F_TANH: K->tanh(y, x, m); break;
    case RL__F_SOFTPLUS: K->softplus(y, x, m); break;
    default: K->silu(y, x, m); break;
    }
}
static void rl__unary_bwd(rl_ctx *c, rl__node *n) {
    int64_t i, N = n->out->n;
    const float *x = rl_f32(n->in[0]), *y = rl_f32(n->out), *g = n->out->grad;
    float *gx = rl__grad(c, n->in[0]);
    for (i = 0; i < N; i++) {
        float d, s;
        switch (n->i[0]) {
        case RL__F_EXP: d = y[i]; break;
        case RL__F_SIGMOID: d = y[i] * (1.0f - y[i]); break;
        case RL__F_TANH: d = 1.0f - y[i] * y[i]; break;
        case RL__F_SOFTPLUS: d = 1.0f / (1.0f + expf(-x[i])); break;
        default: s = 1.0f / (1.0f + expf(-x[i])); d = s * (1.0f + x[i] * (1.0f - s)); break;
        }
        gx[i] += g[i] * d;
    }
}
static rl_tensor *rl__unary(rl_ctx *c, rl_tensor *x, int fn) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, x) || !(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__unary_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = fn;
    rl_pool_for(c->pool, x->n, 16384, rl__unary_fwd_rows, n);
    return y;
}
rl_tensor *rl_exp(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_EXP); }
rl_tensor *rl_sigmoid(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SIGMOID); }
rl_tensor *rl_tanh(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_TANH); }
rl_tensor *rl_softplus(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SOFTPLUS); }
rl_tensor *rl_silu(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SILU); }

static void rl__swiglu_fwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__node *n = (rl__node *)ctx;
    RL__UNUSED(tid);
    rl__kern_get()->swiglu(rl_f32(n->out) + r0, rl_f32(n->in[0]) + r0, rl_f32(n->in[1]) + r0, r1 - r0);
}
static void rl__swiglu_bwd(rl_ctx *c, rl__node *n) {
    int64_t i, N = n->out->n;
    const float *a = rl_f32(n->in[0]), *b = rl_f32(n->in[1]), *g = n->out->grad;
    float *ga = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gb = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    for (i = 0; i < N; i++) {
        float s = 1.0f / (1.0f + expf(-a[i]));
        if (ga) ga[i] += g[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
        if (gb) gb[i] += g[i] * a[i] * s;
    }
}
rl_tensor *rl_swiglu(rl_ctx *c, rl_tensor *gate, rl_tensor *up) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad(c, gate) || rl__bad(c, up) || !rl__same(c, "swiglu", gate, up) || !(y = rl__like(c, gate)) ||
        !(n = rl__node_new(c, rl__swiglu_bwd, y, gate, up, NULL, NULL)))
        return NULL;
    rl_pool_for(c->pool, gate->n, 16384, rl__swiglu_fwd_rows, n);
    return y;
}

/* ---- per-head L2 normalisation: y = x / max(‖x‖, eps) over each head_dim slice ---- */

static void rl__l2norm_bwd(rl_ctx *c, rl__node *n) {
    int64_t d = n->i[0], heads = n->out->n / d, h, j;
    float *gx = rl__grad(c, n->in[0]);
    for (h = 0; h < heads; h++) {
        const float *y = rl_f32(n->out) + h * d, *g = n->out->grad + h * d;
        float r = n->aux[h];
        double dot = 0;
        int clamped = r >= 1.0f / n->f[0]; /* norm below eps: y = x/eps, linear */
        if (!clamped)
            for (j = 0; j < d; j++) dot += (double)g[j] * y[j];
        for (j = 0; j < d; j++) gx[h * d + j] += r * (g[j] - y[j] * (float)dot);
    }
}
rl_tensor *rl_l2norm(rl_ctx *c, rl_tensor *x, int head_dim, float eps) {
    rl_tensor *y;
    rl__node *n;
    int64_t h, heads;
    if (rl__bad(c, x)) return NULL;
    if (head_dim < 1 || rl_cols(x) % head_dim)
        return rl__op_fail(c, RL_ERR_ARG, "l2norm: rows of %lld do not split into heads of %d", (long long)rl_cols(x), head_dim);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__l2norm_bwd, y, x, NULL, NULL, NULL))) return NULL;
    heads = x->n / head_dim;
    n->i[0] = head_dim;
    n->f[0] = eps;
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)heads))) return rl__op_fail(c, RL_ERR_NOMEM, "l2norm: out of memory");
    for (h = 0; h < heads; h++) n->aux[h] = rl__kern_get()->l2norm(rl_f32(y) + h * head_dim, rl_f32(x) + h * head_dim, head_dim, eps);
    return y;
}

/* ---- RoPE (rotate-half) ---- */

static void rl__rope_apply(rl__node *n, const float *src, float *dst, int inverse) {
    int64_t T = n->i[0], d = n->i[1], half = d / 2, R = rl_rows(n->out), C = rl_cols(n->out), r, h;
    float *ns = (float *)RL_MALLOC(sizeof(float) * (size_t)half);
    const rl__kern *K = rl__kern_get();
    if (!ns) return;
    for (r = 0; r < R; r++) {
        const float *cs = n->aux + (r % T) * d, *sn = cs + half;
        if (inverse) { /* the transpose of a rotation is the rotation by -angle */
            int64_t j;
            for (j = 0; j < half; j++) ns[j] = -sn[j];
            sn = ns;
        }
        for (h = 0; h < C / d; h++) K->rope(dst + r * C + h * d, src + r * C + h * d, cs, sn, half);
    }
    RL_FREE(ns);
}
static void rl__rope_bwd(rl_ctx *c, rl__node *n) {
    float *tmp = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)n->out->n);
    if (!tmp) {
        rl__op_fail(c, RL_ERR_NOMEM, "rope: out of memory");
        return;
    }
    rl__rope_apply(n, n->out->grad, tmp, 1);
    rl__kern_get()->axpy(rl__grad(c, n->in[0]), 1.0f, tmp, n->out->n);
}
rl_tensor *rl_rope(rl_ctx *c, rl_tensor *x, int64_t T, int head_dim, const float *inv_freq, int64_t pos0) {
    rl_tensor *y;
    rl__node *n;
    int64_t t, j, half = head_dim / 2;
    if (rl__bad(c, x)) return NULL;
    if (head_dim < 2 || head_dim % 2 || rl_cols(x) % head_dim || T < 1 || rl_rows(x) % T)
        return rl__op_fail(c, RL_ERR_ARG, "rope: rows of %lld values, head_dim %d, T %lld do not fit", (long long)rl_cols(x), head_dim, (long long)T);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__rope_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = T;
    n->i[1] = head_dim;
    /* cos/sin table per position: [T][cos(half) sin(half)], angles in double */
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)(T * head_dim)))) return rl__op_fail(c, RL_ERR_NOMEM, "rope: out of memory");
    for (t = 0; t < T; t++)
        for (j = 0; j < half; j++) {
            double a = (double)(pos0 + t) * inv_freq[j];
            n->aux[t * head_dim + j] = (float)cos(a);
            n->aux[t * head_dim + half + j] = (float)sin(a);
        }
    rl__rope_apply(n, rl_f32(x), rl_f32(y), 0);
    return y;
}

/* ---- causal softmax attention with GQA ----
   Per (sequence b, head h): s_tj = q_t·k_j / √d for j ≤ t, p = softmax(s), o_t = Σ p_tj v_j.
   The forward keeps only the log-partition per row; the backward recomputes p
   (memory O(T) per head instead of O(T²)). */

typedef struct {
    rl__node *n;
    int64_t B, T, H, KVH, d;
} rl__attn_job;

static void rl__attn_fwd_task(void *ctx, int64_t b0, int64_t b1, int tid) {
    rl__attn_job *j = (rl__attn_job *)ctx;
    const rl__kern *K = rl__kern_get();
    int64_t T = j->T, d = j->d, Cq = j->H * d, Ck = j->KVH * d, G = j->H / j->KVH, task, t, s;
    float scale = 1.0f / sqrtf((float)d);
    float *p = (float *)RL_MALLOC(sizeof(float) * (size_t)T);
    RL__UNUSED(tid);
    if (!p) return;
    for (task = b0; task < b1; task++) {
        int64_t b = task / j->H, h = task % j->H, kvh = h / G;
        const float *q = rl_f32(j->n->in[0]) + b * T * Cq + h * d;
        const float *k = rl_f32(j->n->in[1]) + b * T * Ck + kvh * d;
        const float *v = rl_f32(j->n->in[2]) + b * T * Ck + kvh * d;
        float *o = rl_f32(j->n->out) + b * T * Cq + h * d;
        for (t = 0; t < T; t++) {
            for (s = 0; s <= t; s++) p[s] = K->dot(q + t * Cq, k + s * Ck, d) * scale;
            j->n->aux[(b * j->H + h) * T + t] = K->softmax(p, p, t + 1);
            memset(o + t * Cq, 0, sizeof(float) * (size_t)d);
            for (s = 0; s <= t; s++) K->axpy(o + t * Cq, p[s], v + s * Ck, d);
        }
    }
    RL_FREE(p);
}

/* One task per (b, kv head): it owns dk and dv of that kv head, so no races. */
static void rl__attn_bwd_task(void *ctx, int64_t b0, int64_t b1, int tid) {
    rl__attn_job *j = (rl__attn_job *)ctx;
    rl__node *n = j->n;
    const rl__kern *K = rl__kern_get();
    int64_t T = j->T, d = j->d, Cq = j->H * d, Ck = j->KVH * d, G = j->H / j->KVH, task, t, s, hh;
    float scale = 1.0f / sqrtf((float)d);
    float *p = (float *)RL_MALLOC(sizeof(float) * (size_t)T * 2), *dp = p + T;
    float *gq = n->in[0]->requires_grad ? n->in[0]->grad : NULL;
    float *gk = n->in[1]->requires_grad ? n->in[1]->grad : NULL;
    float *gv = n->in[2]->requires_grad ? n->in[2]->grad : NULL;
    RL__UNUSED(tid);
    if (!p) return;
    for (task = b0; task < b1; task++) {
        int64_t b = task / j->KVH, kvh = task % j->KVH;
        const float *k = rl_f32(n->in[1]) + b * T * Ck + kvh * d, *v = rl_f32(n->in[2]) + b * T * Ck + kvh * d;
        for (hh = 0; hh < G; hh++) {
            int64_t h = kvh * G + hh;
            const float *q = rl_f32(n->in[0]) + b * T * Cq + h * d, *o = rl_f32(n->out) + b * T * Cq + h * d;
            const float *go = n->out->grad + b * T * Cq + h * d;
            for (t = 0; t < T; t++) {
                float lse = n->aux[(b * j->H + h) * T + t], D = K->dot(go + t * Cq, o + t * Cq, d);
                for (s = 0; s <= t; s++) {
                    p[s] = expf(K->dot(q + t * Cq, k + s * Ck, d) * scale - lse);
                    dp[s] = p[s] * (K->dot(go + t * Cq, v + s * Ck, d) - D) * scale; /* dscore */
                }
                for (s = 0; s <= t; s++) {
                    if (gq) K->axpy(gq + b * T * Cq + h * d + t * Cq, dp[s], k + s * Ck, d);
                    if (gk) K->axpy(gk + b * T * Ck + kvh * d + s * Ck, dp[s], q + t * Cq, d);
                    if (gv) K->axpy(gv + b * T * Ck + kvh * d + s * Ck, p[s], go + t * Cq, d);
                }
            }
        }
    }
    RL_FREE(p);
}

static void rl__attention_bwd(rl_ctx *c, rl__node *n) {
    rl__attn_job j;
    int i;
    for (i = 0; i < 3; i++)
        if (rl__wants(n->in[i]) && !rl__grad(c, n->in[i])) return;
    j.n = n;
    j.T = n->i[0];
    j.H = n->i[1];
    j.KVH = n->i[2];
    j.d = rl_cols(n->out) / j.H;
    j.B = rl_rows(n->out) / j.T;
    rl_pool_for(c->pool, j.B * j.KVH, 1, rl__attn_bwd_task, &j);
}

rl_tensor *rl_attention(rl_ctx *c, rl_tensor *q, rl_tensor *k, rl_tensor *v, int64_t T, int n_heads, int n_kv_heads) {
    rl_tensor *y;
    rl__node *n;
    rl__attn_job j;
    int64_t d;
    if (rl__bad(c, q) || rl__bad(c, k) || rl__bad(c, v)) return NULL;
    if (n_heads < 1 || n_kv_heads < 1 || n_heads % n_kv_heads || rl_cols(q) % n_heads || T < 1 || rl_rows(q) % T)
        return rl__op_fail(c, RL_ERR_ARG, "attention: %d heads / %d kv heads / T %lld do not fit q [%lld, %lld]", n_heads,
                           n_kv_heads, (long long)T, (long long)rl_rows(q), (long long)rl_cols(q));
    d = rl_cols(q) / n_heads;
    if (rl_cols(k) != n_kv_heads * d || !rl__same(c, "attention k/v", k, v) || rl_rows(k) != rl_rows(q))
        return rl__op_fail(c, RL_ERR_ARG, "attention: k and v must be [%lld, %lld]", (long long)rl_rows(q), (long long)(n_kv_heads * d));
    if (!(y = rl__like(c, q)) || !(n = rl__node_new(c, rl__attention_bwd, y, q, k, v, NULL))) return NULL;
    n->i[0] = T;
    n->i[1] = n_heads;
    n->i[2] = n_kv_heads;
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)(rl_rows(q) * n_heads))))
        return rl__op_fail(c, RL_ERR_NOMEM, "attention: out of memory");
    j.n = n;
    j.T = T;
    j.H = n_heads;
    j.KVH = n_kv_heads;
    j.d = d;
    j.B = rl_rows(q) / T;
    rl_pool_for(c->pool, j.B * n_heads, 1, rl__attn_fwd_task, &j);
    return y;
}

/* ---- embedding lookup ---- */

static void rl__embedding_bwd(rl_ctx *c, rl__node *n) {
    const int32_t *ids = (const int32_t *)n->cp;
    int64_t C = rl_cols(n->out), r, R = rl_rows(n->out);
    float *gE = rl__grad(c, n->in[0]);
    for (r = 0; r < R; r++) rl__kern_get()->axpy(gE + (int64_t)ids[r] * C, 1.0f, n->out->grad + r * C, C);
}
rl_tensor *rl_embedding(rl_ctx *c, const int32_t *ids, int64_t n_ids, rl_tensor *E) {
    rl_tensor *y;
    int64_t r, C, V;
    if (!E || c->err) return NULL;
    if (E->ndim != 2 || (E->dtype != RL_F32 && E->dtype != RL_BF16))
        return rl__op_fail(c, RL_ERR_ARG, "embedding: table must be a 2-D F32 or BF16 tensor");
    V = E->shape[0];
    C = E->shape[1];
    for (r = 0; r < n_ids; r++)
        if (ids[r] < 0 || ids[r] >= V)
            return rl__op_fail(c, RL_ERR_ARG, "embedding: token id %d at position %lld is outside the vocabulary [0, %lld)", ids[r], (long long)r, (long long)V);
    if (!(y = rl_new2(c, n_ids, C))) return NULL;
    for (r = 0; r < n_ids; r++) {
        float *dst = rl_f32(y) + r * C;
        int64_t j;
        if (E->dtype == RL_F32) memcpy(dst, (const float *)E->data + (int64_t)ids[r] * C, sizeof(float) * (size_t)C);
        else
            for (j = 0; j < C; j++) dst[j] = rl_bf16_to_f32(((const uint16_t *)E->data)[(int64_t)ids[r] * C + j]);
    }
    {
        rl__node *n = rl__node_new(c, rl__embedding_bwd, y, E, NULL, NULL, NULL);
        if (n) n->cp = ids;
    }
    return y;
}

/* ---- losses ---- */

/* cross entropy, mean over rows whose target is >= 0 (negative = ignored) */
static void rl__ce_bwd(rl_ctx *c, rl__node *n) {
    const int32_t *tg = (const int32_t *)n->cp;
    int64_t V = rl_cols(n->in[0]), R = rl_rows(n->in[0]), r, j;
    float *gx = rl__grad(c, n->in[0]), g = n->out->grad[0] * n->f[0];
    for (r = 0; r < R; r++) {
        const float *x = rl_f32(n->in[0]) + r * V;
        if (tg[r] < 0) continue;
        for (j = 0; j < V; j++) gx[r * V + j] += g * expf(x[j] - n->aux[r]);
        gx[r * V + tg[r]] -= g;
    }
}
rl_tensor *rl_cross_entropy(rl_ctx *c, rl_tensor *logits, const int32_t *targets) {
    rl_tensor *y;
    rl__node *n;
    int64_t V, R, r, cnt = 0;
    double s = 0;
    float *tmp;
    if (rl__bad(c, logits)) return NULL;
    V = rl_cols(logits);
    R = rl_rows(logits);
    for (r = 0; r < R; r++)
        if (targets[r] >= V) return rl__op_fail(c, RL_ERR_ARG, "cross_entropy: target %d at row %lld is outside [0, %lld)", targets[r], (long long)r, (long long)V);
    if (!(y = rl__scalar(c)) || !(n = rl__node_new(c, rl__ce_bwd, y, logits, NULL, NULL, NULL))) return NULL;
    n->cp = targets;
    n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)R);
    tmp = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)V);
    if (!n->aux || !tmp) return rl__op_fail(c, RL_ERR_NOMEM, "cross_entropy: out of memory");
    for (r = 0; r < R; r++) {
        const float *x = rl_f32(logits) + r * V;
        n->aux[r] = rl__kern_get()->logsoftmax(tmp, x, V);
        if (targets[r] < 0) continue;
        s += (double)n->aux[r] - x[targets[r]];
        cnt++;
    }
    n->f[0] = cnt ? 1.0f / (float)cnt : 0.0f;
    rl_f32(y)[0] = (float)(s * n->f[0]);
    return y;
}

/* KL(teacher ‖ student) = mean over rows of Σ_v p_t (log p_t − log p_s), temperature 1 */
static void rl__kl_bwd(rl_ctx *c, rl__node *n) {
    int64_t V = rl_cols(n->in[0]), R = rl_rows(n->in[0]), r, j;
    float g = n->out->grad[0] / (float)R;
    float *gs = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gt = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    for (r = 0; r < R; r++) {
        const float *s = rl_f32(n->in[0]) + r * V, *t = rl_f32(n->in[1]) + r * V;
        float lss = n->aux[3 * r], lst = n->aux[3 * r + 1], kl = n->aux[3 * r + 2];
        for (j = 0; j < V; j++) {
            float ls = s[j] - lss, lt = t[j] - lst, pt = expf(lt);
            if (gs) gs[r * V + j] += g * (expf(ls) - pt);
            if (gt) gt[r * V + j] += g * pt * (lt - ls - kl);
        }
    }
}
rl_tensor *rl_kl_div(rl_ctx *c, rl_tensor *student_logits, rl_tensor *teacher_logits) {
    rl_tensor *y;
    rl__node *n;
    int64_t V, R, r, j;
    double total = 0;
    float *ls, *lt;
    if (rl__bad(c, student_logits) || rl__bad(c, teacher_logits) || !rl__same(c, "kl_div", student_logits, teacher_logits)) return NULL;
    V = rl_cols(student_logits);
    R = rl_rows(student_logits);
    if (!(y = rl__scalar(c)) || !(n = rl__node_new(c, rl__kl_bwd, y, student_logits, teacher_logits, NULL, NULL))) return NULL;
    n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * 3 * (size_t)R);
    ls = (float *)rl_arena_alloc(&c->arena, sizeof(float) * 2 * (size_t)V);
    if (!n->aux || !ls) return rl__op_fail(c, RL_ERR_NOMEM, "kl_div: out of memory");
    lt = ls + V;
    for (r = 0; r < R; r++) {
        double kl = 0;
        n->aux[3 * r] = rl__kern_get()->logsoftmax(ls, rl_f32(student_logits) + r * V, V);
        n->aux[3 * r + 1] = rl__kern_get()->logsoftmax(lt, rl_f32(teacher_logits) + r * V, V);
        for (j = 0; j < V; j++) kl += (double)expf(lt[j]) * (lt[j] - ls[j]);
        n->aux[3 * r + 2] = (float)kl;
        total += kl;
    }
    rl_f32(y)[0] = (float)(total / (double)R);
    return y;
}

/* RADLADS step-1 loss: mean over rows of ‖y − t‖₂ / √cols */
static void rl__l2_dist_bwd(rl_ctx *c, rl__node *n) {
    int64_t C = rl_cols(n->in[0]), R = rl_rows(n->in[0]), r, j;
    float g = n->out->grad[0] / ((float)R * sqrtf((float)C));
    float *gy = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gt = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    for (r = 0; r < R; r++) {
        const float *y = rl_f32(n->in[0]) + r * C, *t = rl_f32(n->in[1]) + r * C;
        float inv = n->aux[r] > 0 ? g / n->aux[r] : 0.0f; /* the norm's gradient at 0 is taken as 0 */
        for (j = 0; j < C; j++) {
            float d = (y[j] - t[j]) * inv;
            if (gy) gy[r * C + j] += d;
            if (gt) gt[r * C + j] -= d;
        }
    }
}
rl_tensor *rl_l2_dist(rl_ctx *c, rl_tensor *y, rl_tensor *target) {
    rl_tensor *out;
    rl__node *n;
    int64_t C, R, r, j;
    double total = 0;
    if (rl__bad(c, y) || rl__bad(c, target) || !rl__same(c, "l2_dist", y, target)) return NULL;
    C = rl_cols(y);
    R = rl_rows(y);
    if (!(out = rl__scalar(c)) || !(n = rl__node_new(c, rl__l2_dist_bwd, out, y, target, NULL, NULL))) return NULL;
    if (!(n->aux = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)R))) return rl__op_fail(c, RL_ERR_NOMEM, "l2_dist: out of memory");
    for (r = 0; r < R; r++) {
        double ss = 0;
        for (j = 0; j < C; j++) {
            double d = (double)rl_f32(y)[r * C + j] - rl_f32(target)[r * C + j];
            ss += d * d;
        }
        n->aux[r] = (float)sqrt(ss);
        total += sqrt(ss);
    }
    rl_f32(out)[0] = (float)(total / ((double)R * sqrt((double)C)));
    return out;
}

static void rl__sum_bwd(rl_ctx *c, rl__node *n) {
    int64_t i;
    float *gx = rl__grad(c, n->in[0]), g = n->out->grad[0];
    const float *w = (const float *)n->cp;
    for (i = 0; i < n->in[0]->n; i++) gx[i] += w ? g * w[i] : g;
}
rl_tensor *rl_dot_const(rl_ctx *c, rl_tensor *x, const float *w) {
    rl_tensor *y;
    rl__node *n;
    int64_t i;
    double s = 0;
    if (rl__bad(c, x) || !(y = rl__scalar(c)) || !(n = rl__node_new(c, rl__sum_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->cp = w;
    for (i = 0; i < x->n; i++) s += (double)rl_f32(x)[i] * (w ? w[i] : 1.0f);
    rl_f32(y)[0] = (float)s;
    return y;
}
rl_tensor *rl_sum(rl_ctx *c, rl_tensor *x) { return rl_dot_const(c, x, NULL); }

/* ---- x + s ---- */

static void rl__add_scalar_bwd(rl_ctx *c, rl__node *n) {
    rl__kern_get()->axpy(rl__grad(c, n->in[0]), 1.0f, n->out->grad, n->out->n);
}
rl_tensor *rl_add_scalar(rl_ctx *c, rl_tensor *x, float s) {
    rl_tensor *y;
    int64_t i;
    if (rl__bad(c, x) || !(y = rl__like(c, x))) return NULL;
    for (i = 0; i < x->n; i++) rl_f32(y)[i] = rl_f32(x)[i] + s;
    rl__node_new(c, rl__add_scalar_bwd, y, x, NULL, NULL, NULL);
    return y;
}

/* ---- column slice ---- */

static void rl__slice_cols_bwd(rl_ctx *c, rl__node *n) {
    int64_t R = rl_rows(n->out), L = rl_cols(n->out), C = rl_cols(n->in[0]), r;
    float *gx = rl__grad(c, n->in[0]);
    for (r = 0; r < R; r++) rl__kern_get()->axpy(gx + r * C + n->i[0], 1.0f, n->out->grad + r * L, L);
}
rl_tensor *rl_slice_cols(rl_ctx *c, rl_tensor *x, int64_t start, int64_t len) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, C, r;
    if (rl__bad(c, x)) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    if (start < 0 || len < 1 || start + len > C)
        return rl__op_fail(c, RL_ERR_ARG, "slice_cols: [%lld, %lld) is outside rows of %lld", (long long)start, (long long)(start + len), (long long)C);
    if (!(y = rl_new2(c, R, len)) || !(n = rl__node_new(c, rl__slice_cols_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = start;
    for (r = 0; r < R; r++) memcpy(rl_f32(y) + r * len, rl_f32(x) + r * C + start, sizeof(float) * (size_t)len);
    return y;
}

/* ---- GQA head expansion ---- */

static void rl__repeat_kv_bwd(rl_ctx *c, rl__node *n) {
    int64_t R = rl_rows(n->out), H = n->i[0], KVH = n->i[1], d = rl_cols(n->out) / H, r, h;
    float *gx = rl__grad(c, n->in[0]);
    for (r = 0; r < R; r++)
        for (h = 0; h < H; h++)
            rl__kern_get()->axpy(gx + r * KVH * d + (h / (H / KVH)) * d, 1.0f, n->out->grad + r * H * d + h * d, d);
}
rl_tensor *rl_repeat_kv(rl_ctx *c, rl_tensor *x, int heads, int kv_heads) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, d, r, h;
    if (rl__bad(c, x)) return NULL;
    if (kv_heads < 1 || heads % kv_heads || rl_cols(x) % kv_heads)
        return rl__op_fail(c, RL_ERR_ARG, "repeat_kv: %d heads from %d kv heads over rows of %lld", heads, kv_heads, (long long)rl_cols(x));
    R = rl_rows(x);
    d = rl_cols(x) / kv_heads;
    if (!(y = rl_new2(c, R, heads * d)) || !(n = rl__node_new(c, rl__repeat_kv_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = heads;
    n->i[1] = kv_heads;
    for (r = 0; r < R; r++)
        for (h = 0; h < heads; h++)
            memcpy(rl_f32(y) + (r * heads + h) * d, rl_f32(x) + r * kv_heads * d + (h / (heads / kv_heads)) * d, sizeof(float) * (size_t)d);
    return y;
}

/* ---- token shift ---- */

static void rl__token_shift_bwd(rl_ctx *c, rl__node *n) {
    int64_t T = n->i[0], C = rl_cols(n->out), R = rl_rows(n->out), r;
    const float *g = n->out->grad;
    if (rl__wants(n->in[0])) {
        float *gx = rl__grad(c, n->in[0]);
        for (r = 0; r < R; r++)
            if ((r + 1) % T) rl__kern_get()->axpy(gx + r * C, 1.0f, g + (r + 1) * C, C);
    }
    if (rl__wants(n->in[1])) {
        float *gs = rl__grad(c, n->in[1]);
        for (r = 0; r < R; r += T) rl__kern_get()->axpy(gs + (r / T) * C, 1.0f, g + r * C, C);
    }
}
rl_tensor *rl_token_shift(rl_ctx *c, rl_tensor *x, int64_t T, rl_tensor *shift_in) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, C, r;
    if (rl__bad(c, x) || (shift_in && rl__bad(c, shift_in))) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    if (T < 1 || R % T || (shift_in && shift_in->n != (R / T) * C))
        return rl__op_fail(c, RL_ERR_ARG, "token_shift: %lld rows are not whole sequences of %lld, or shift state is not [%lld, %lld]",
                           (long long)R, (long long)T, (long long)(R / (T > 0 ? T : 1)), (long long)C);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__token_shift_bwd, y, x, shift_in, NULL, NULL))) return NULL;
    n->i[0] = T;
    for (r = 0; r < R; r++) {
        float *dst = rl_f32(y) + r * C;
        if (r % T) memcpy(dst, rl_f32(x) + (r - 1) * C, sizeof(float) * (size_t)C);
        else if (shift_in) memcpy(dst, rl_f32(shift_in) + (r / T) * C, sizeof(float) * (size_t)C);
    }
    return y;
}


/* ==== 4. formats ========================================================== */

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
    size_t dup_at;  /* offset of the textually first duplicate key (SIZE_MAX: none) */
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
    rl_json *vals = n ? jp->stk + sb : NULL;
    rl__jkey *ks = n ? jp->keys + kb : NULL;
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
    if (ndup) { /* objects close inner first: keep the duplicate written first */
        for (j = 0; j < n && ks[j].len >= 0; j++) {}
        if (j < n && ks[j].at < jp->dup_at) {
            jp->dup_at = ks[j].at;
            jp->doc->dup_key = ks[j].k;
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
    jp.dup_at = SIZE_MAX;
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
        if (!rc && doc->dup_key) rl__json_linecol(jp.s, jp.dup_at, &doc->dup_line, &doc->dup_col);
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
    if (max_bytes > SIZE_MAX / 4) max_bytes = SIZE_MAX / 4;
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

/* ---- 4b. safetensors ---- */


static const char *const rl__st_names[RL_ST_NDTYPES] = {
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"};
static const unsigned char rl__st_bits[RL_ST_NDTYPES] = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8,
                                                         16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};

const char *rl_st_dtype_name(rl_st_dtype t) { return (unsigned)t < RL_ST_NDTYPES ? rl__st_names[t] : "?"; }
int rl_st_dtype_bits(rl_st_dtype t) { return (unsigned)t < RL_ST_NDTYPES ? rl__st_bits[t] : 0; }

struct rl__st_file {
    const char *path;          /* in st->arena */
    const unsigned char *base; /* the whole file */
    size_t size;
    int kind;                  /* 0 borrowed, 1 mmap, 2 malloc */
};

static int rl__st_host_le(void) {
    uint16_t x = 1;
    unsigned char c;
    memcpy(&c, &x, 1);
    return c == 1;
}

static char *rl__st_strdup(rl_arena *a, const char *s, size_t n) {
    char *d = (char *)rl_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* "[2, 3]" */
static const char *rl__fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = 0;
    int i;
    buf[0] = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (i = 0; i < ndim && o < cap; i++) o += (size_t)snprintf(buf + o, cap - o, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
    return buf;
}

/* Map (or, failing that, read) a whole file. */
static rl_status rl__st_map(rl__st_file *f, const char *path) {
    struct stat sb;
    int fd = open(path, O_RDONLY);
    void *p;
    if (fd < 0) return rl__fail(RL_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return rl__fail(RL_ERR_IO, "%s: cannot stat (%s)", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return rl__fail(RL_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: file too large for this address space", path);
    }
    f->size = (size_t)sb.st_size;
    f->kind = 0;
    f->base = (const unsigned char *)"";
    if (f->size == 0) {
        close(fd);
        return RL_OK;
    }
    p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
        f->base = (const unsigned char *)p;
        f->kind = 1;
    } else { /* a file system without mmap: read it */
        unsigned char *buf = (unsigned char *)RL_MALLOC(f->size);
        size_t got = 0;
        if (!buf) {
            close(fd);
            return rl__fail(RL_ERR_NOMEM, "%s: cannot map or allocate %zu bytes", path, f->size);
        }
        while (got < f->size) {
            ssize_t r = read(fd, buf + got, f->size - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : f->size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                int e = errno;
                RL_FREE(buf);
                close(fd);
                return rl__fail(RL_ERR_IO, "%s: read error (%s)", path, r < 0 ? strerror(e) : "file shrank while reading");
            }
            got += (size_t)r;
        }
        f->base = buf;
        f->kind = 2;
    }
    close(fd);
    return RL_OK;
}

typedef struct rl__st_list {
    rl_st_tensor *t;
    size_t n, cap;
} rl__st_list;

typedef struct rl__st_span {
    uint64_t b, e;
    size_t idx;
} rl__st_span;

static int rl__st_span_cmp(const void *a, const void *b) {
    const rl__st_span *x = (const rl__st_span *)a, *y = (const rl__st_span *)b;
    if (x->b != y->b) return x->b < y->b ? -1 : 1;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int rl__st_name_cmp(const void *a, const void *b) {
    const rl_st_tensor *x = (const rl_st_tensor *)a, *y = (const rl_st_tensor *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->file > y->file) - (x->file < y->file);
}

/* A non-negative JSON integer. */
static int rl__st_uint(const rl_json *v, uint64_t *out) {
    if (!v || v->type != RL_JSON_NUM || !v->is_int || v->i < 0) return 0;
    *out = (uint64_t)v->i;
    return 1;
}

/* One tensor entry of a header. */
static rl_status rl__st_entry(rl_st *st, const char *fn, const char *name, const rl_json *v, const unsigned char *data,
                              uint64_t data_len, int file, rl_st_tensor *t, uint64_t *b, uint64_t *e) {
    const rl_json *dt = rl_json_get(v, "dtype"), *sh = rl_json_get(v, "shape"), *off = rl_json_get(v, "data_offsets");
    uint64_t numel = 1, bits;
    int k;
    (void)st;
    if (v->type != RL_JSON_OBJ)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: expected an object {dtype, shape, data_offsets}, got %s", fn, name,
                        rl_json_type_name(v->type));
    if (!dt || dt->type != RL_JSON_STR)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: \"dtype\" %s", fn, name, dt ? "must be a string" : "is missing");
    for (k = 0; k < RL_ST_NDTYPES; k++)
        if ((size_t)dt->n == strlen(rl__st_names[k]) && !strcmp(dt->str, rl__st_names[k])) break;
    if (k == RL_ST_NDTYPES) return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: unknown dtype \"%.40s\"", fn, name, dt->str);
    memset(t, 0, sizeof *t);
    t->st_dtype = (rl_st_dtype)k;
    t->dtype_str = rl__st_names[k];
    t->file = file;
    t->dtype = RL_F32;
    t->supported = 1;
    switch (t->st_dtype) {
    case RL_ST_F32: t->dtype = RL_F32; break;
    case RL_ST_BF16: t->dtype = RL_BF16; break;
    case RL_ST_F16: t->dtype = RL_F16; break;
    case RL_ST_I32: t->dtype = RL_I32; break;
    default: t->supported = 0;
    }
    if (!sh || sh->type != RL_JSON_ARR)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: \"shape\" %s", fn, name, sh ? "must be an array of integers" : "is missing");
    if (sh->n > RL_ST_MAX_DIMS)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor %s: %lld dimensions (at most %d are supported)", fn, name, (long long)sh->n,
                        RL_ST_MAX_DIMS);
    t->ndim = (int)sh->n;
    for (k = 0; k < t->ndim; k++) {
        uint64_t d;
        if (!rl__st_uint(&sh->kids[k], &d))
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: shape[%d] must be a non-negative integer", fn, name, k);
        if (d && numel > UINT64_MAX / d) return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: shape overflows", fn, name);
        numel *= d;
        t->shape[k] = (int64_t)d;
    }
    if (numel > (uint64_t)INT64_MAX) return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: shape overflows", fn, name);
    bits = rl__st_bits[t->st_dtype];
    if (numel > UINT64_MAX / bits) return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: shape overflows", fn, name);
    if ((numel * bits) % 8)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: %llu elements of %s do not fill whole bytes", fn, name,
                        (unsigned long long)numel, t->dtype_str);
    t->n = (int64_t)numel;
    t->nbytes = numel * bits / 8;
    if (!off || off->type != RL_JSON_ARR || off->n != 2 || !rl__st_uint(&off->kids[0], b) || !rl__st_uint(&off->kids[1], e))
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: \"data_offsets\" %s", fn, name,
                        off ? "must be [begin, end] with non-negative integers" : "is missing");
    if (*e < *b)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] end before they begin", fn, name,
                        (unsigned long long)*b, (unsigned long long)*e);
    if (*e > data_len)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] past end of file (data section is %llu bytes)", fn,
                        name, (unsigned long long)*b, (unsigned long long)*e, (unsigned long long)data_len);
    if (*e - *b != t->nbytes) {
        char sb[200];
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: dtype %s and shape %s need %llu bytes, but data_offsets [%llu, %llu] hold %llu",
                        fn, name, t->dtype_str, rl__fmt_shape(sb, sizeof sb, t->ndim, t->shape), (unsigned long long)t->nbytes,
                        (unsigned long long)*b, (unsigned long long)*e, (unsigned long long)(*e - *b));
    }
    t->data = data + *b;
    t->aligned = ((uintptr_t)t->data % (bits >= 8 ? bits / 8 : 1)) == 0;
    return RL_OK;
}

/* Validate file `file` of st and append its tensors to the list. */
static rl_status rl__st_parse(rl_st *st, int file, rl__st_list *list) {
    rl__st_file *f = &st->files[file];
    const char *fn = f->path;
    const unsigned char *p = f->base;
    uint64_t hlen = 0, data_len, end = 0;
    rl_json_doc doc;
    rl__st_span *spans = NULL;
    size_t first = list->n, ns = 0, i;
    char *src;
    rl_status s = RL_OK;
    int k;
    if (f->size < 8)
        return rl__fail(RL_ERR_FORMAT, "%s: file is %zu bytes, too small for a safetensors header (8-byte length + JSON)", fn, f->size);
    for (k = 7; k >= 0; k--) hlen = (hlen << 8) | p[k];
    if (hlen > RL_ST_MAX_HEADER)
        return rl__fail(RL_ERR_FORMAT, "%s: header length %llu is larger than the %d-byte limit (corrupt, or not a safetensors file)",
                        fn, (unsigned long long)hlen, RL_ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return rl__fail(RL_ERR_FORMAT, "%s: header length %llu runs past end of file (size %zu)", fn, (unsigned long long)hlen, f->size);
    data_len = f->size - 8 - hlen;
    src = (char *)RL_MALLOC(strlen(fn) + 16);
    if (!src) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
    sprintf(src, "%s: header", fn);
    s = rl_json_parse(&doc, (const char *)p + 8, (size_t)hlen, src);
    RL_FREE(src);
    if (s != RL_OK) return s;
    if (doc.root.type != RL_JSON_OBJ) {
        s = rl__fail(RL_ERR_FORMAT, "%s: header is %s, expected a JSON object", fn, rl_json_type_name(doc.root.type));
        goto done;
    }
    if (rl_json_has_dup(&doc)) {
        s = rl__fail(RL_ERR_FORMAT, "%s: header: duplicate key \"%.200s\" (at %d:%d)", fn, doc.dup_key, doc.dup_line, doc.dup_col);
        goto done;
    }
    spans = (rl__st_span *)RL_MALLOC((size_t)(doc.root.n ? doc.root.n : 1) * sizeof *spans);
    if (!spans) {
        s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
        goto done;
    }
    for (i = 0; i < (size_t)doc.root.n; i++) {
        const char *key = doc.root.keys[i];
        const rl_json *v = &doc.root.kids[i];
        if ((size_t)doc.root.klen[i] != strlen(key)) {
            s = rl__fail(RL_ERR_FORMAT, "%s: tensor name \"%s...\" contains a NUL character", fn, key);
            goto done;
        }
        if (!strcmp(key, "__metadata__")) {
            int64_t m;
            if (v->type == RL_JSON_OBJ && (rl_json_get(v, "dtype") || rl_json_get(v, "data_offsets"))) {
                s = rl__fail(RL_ERR_FORMAT, "%s: a tensor may not be named \"__metadata__\" (reserved for metadata)", fn);
                goto done;
            }
            if (v->type != RL_JSON_OBJ) {
                s = rl__fail(RL_ERR_FORMAT, "%s: __metadata__ must be an object of strings, got %s", fn, rl_json_type_name(v->type));
                goto done;
            }
            for (m = 0; m < v->n; m++)
                if (v->kids[m].type != RL_JSON_STR) {
                    s = rl__fail(RL_ERR_FORMAT, "%s: __metadata__: value of \"%.100s\" must be a string, got %s", fn, v->keys[m],
                                 rl_json_type_name(v->kids[m].type));
                    goto done;
                }
            if (file == 0 && v->n) {
                st->n_meta = (int)v->n;
                st->meta_keys = (const char **)rl_arena_alloc(&st->arena, (size_t)v->n * sizeof(char *));
                st->meta_vals = (const char **)rl_arena_alloc(&st->arena, (size_t)v->n * sizeof(char *));
                if (!st->meta_keys || !st->meta_vals) {
                    s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
                    goto done;
                }
                for (m = 0; m < v->n; m++) {
                    st->meta_keys[m] = rl__st_strdup(&st->arena, v->keys[m], (size_t)v->klen[m]);
                    st->meta_vals[m] = rl__st_strdup(&st->arena, v->kids[m].str, (size_t)v->kids[m].n);
                    if (!st->meta_keys[m] || !st->meta_vals[m]) {
                        s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
                        goto done;
                    }
                }
            }
            continue;
        }
        {
            rl_st_tensor t;
            uint64_t b = 0, e = 0;
            rl_st_tensor *nl;
            if ((s = rl__st_entry(st, fn, key, v, p + 8 + hlen, data_len, file, &t, &b, &e)) != RL_OK) goto done;
            t.name = rl__st_strdup(&st->arena, key, strlen(key));
            nl = (rl_st_tensor *)rl__grow(list->t, &list->cap, list->n + 1, sizeof(rl_st_tensor));
            if (!t.name || !nl) {
                s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
                goto done;
            }
            list->t = nl;
            spans[ns].b = b;
            spans[ns].e = e;
            spans[ns].idx = list->n;
            ns++;
            list->t[list->n++] = t;
        }
    }
    /* the tensors must tile the data section: sorted by offsets, each starts where the last ended */
    qsort(spans, ns, sizeof *spans, rl__st_span_cmp);
    for (i = 0; i < ns; i++) {
        const char *name = list->t[spans[i].idx].name;
        if (spans[i].b > end) {
            if (i == 0)
                s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu]: the first tensor must start at 0 (gap of %llu bytes)",
                             fn, name, (unsigned long long)spans[i].b, (unsigned long long)spans[i].e, (unsigned long long)spans[i].b);
            else
                s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] leave a gap of %llu bytes after tensor %s (ends at %llu)",
                             fn, name, (unsigned long long)spans[i].b, (unsigned long long)spans[i].e,
                             (unsigned long long)(spans[i].b - end), list->t[spans[i - 1].idx].name, (unsigned long long)end);
            goto done;
        }
        if (spans[i].b < end) {
            s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] overlap tensor %s [%llu, %llu]", fn, name,
                         (unsigned long long)spans[i].b, (unsigned long long)spans[i].e, list->t[spans[i - 1].idx].name,
                         (unsigned long long)spans[i - 1].b, (unsigned long long)spans[i - 1].e);
            goto done;
        }
        end = spans[i].e;
    }
    if (end != data_len) {
        s = rl__fail(RL_ERR_FORMAT, "%s: %llu trailing bytes after the last tensor's data (the data section ends at byte %llu of %zu)", fn,
                     (unsigned long long)(data_len - end), (unsigned long long)(8 + hlen + end), f->size);
        goto done;
    }
done:
    if (s != RL_OK) list->n = first;
    RL_FREE(spans);
    rl_json_free(&doc);
    return s;
}

/* Move the list into st, sorted by name; duplicate names are an error. */
static rl_status rl__st_finish(rl_st *st, rl__st_list *list) {
    size_t i;
    if (list->n > (size_t)INT32_MAX) return rl__fail(RL_ERR_UNSUPPORTED, "%s: too many tensors", st->path);
    if (list->n > 1) qsort(list->t, list->n, sizeof(rl_st_tensor), rl__st_name_cmp);
    for (i = 1; i < list->n; i++)
        if (!strcmp(list->t[i].name, list->t[i - 1].name))
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s is in two files: %s and %s", st->path, list->t[i].name,
                            st->files[list->t[i - 1].file].path, st->files[list->t[i].file].path);
    st->tensors = (rl_st_tensor *)rl_arena_alloc(&st->arena, (list->n ? list->n : 1) * sizeof(rl_st_tensor));
    if (!st->tensors) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", st->path);
    if (list->n) memcpy(st->tensors, list->t, list->n * sizeof(rl_st_tensor));
    st->n_tensors = (int)list->n;
    return RL_OK;
}

static rl_status rl__st_begin(rl_st *st, const char *path, int n_files) {
    memset(st, 0, sizeof *st);
    rl_arena_init(&st->arena, (size_t)1 << 16);
    if (!rl__st_host_le()) return rl__fail(RL_ERR_UNSUPPORTED, "%s: safetensors reading needs a little-endian host", path);
    st->path = rl__st_strdup(&st->arena, path, strlen(path));
    st->files = (rl__st_file *)RL_MALLOC((size_t)(n_files ? n_files : 1) * sizeof(rl__st_file));
    if (!st->path || !st->files) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    memset(st->files, 0, (size_t)(n_files ? n_files : 1) * sizeof(rl__st_file));
    return RL_OK;
}

rl_status rl_st_open_memory(rl_st *st, const void *data, size_t len, const char *name) {
    rl__st_list list = {NULL, 0, 0};
    rl_status s;
    if (!name) name = "safetensors";
    if ((s = rl__st_begin(st, name, 1)) == RL_OK) {
        st->n_files = 1;
        st->files[0].path = st->path;
        st->files[0].base = (const unsigned char *)(data ? data : "");
        st->files[0].size = data ? len : 0;
        if ((s = rl__st_parse(st, 0, &list)) == RL_OK) s = rl__st_finish(st, &list);
    }
    RL_FREE(list.t);
    if (s != RL_OK) rl_st_close(st);
    return s;
}

static int rl__is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}
static int rl__is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

rl_status rl_st_open(rl_st *st, const char *path) {
    rl__st_list list = {NULL, 0, 0};
    rl_status s;
    if (rl__is_dir(path)) return rl_st_open_dir(st, path);
    if ((s = rl__st_begin(st, path, 1)) == RL_OK) {
        st->n_files = 1;
        st->files[0].path = st->path;
        if ((s = rl__st_map(&st->files[0], path)) == RL_OK && (s = rl__st_parse(st, 0, &list)) == RL_OK) s = rl__st_finish(st, &list);
    }
    RL_FREE(list.t);
    if (s != RL_OK) rl_st_close(st);
    return s;
}

/* dir + "/" + name in the arena */
static char *rl__path_join(rl_arena *a, const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    char *p;
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    p = (char *)rl_arena_alloc(a, dl + nl + 2);
    if (!p) return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

typedef struct rl__st_wm {
    const char *name;
    int file;
} rl__st_wm;

static int rl__st_wm_cmp(const void *a, const void *b) {
    return strcmp(((const rl__st_wm *)a)->name, ((const rl__st_wm *)b)->name);
}

static int rl__str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* A shard name from the index must stay inside the folder. */
static int rl__st_shard_name_ok(const char *s) {
    const char *c = s;
    if (!*s || *s == '/' || *s == '\\') return 0;
    while (*c) { /* no ".." path component */
        const char *e = c;
        while (*e && *e != '/' && *e != '\\') e++;
        if (e - c == 2 && c[0] == '.' && c[1] == '.') return 0;
        c = *e ? e + 1 : e;
    }
    return 1;
}

rl_status rl_st_open_dir(rl_st *st, const char *dir) {
    rl_arena tmp;
    char *single, *index;
    rl_json_doc doc;
    const rl_json *wm;
    rl__st_wm *map = NULL;
    const char **shards = NULL;
    rl__st_list list = {NULL, 0, 0};
    int n_shards = 0, nm = 0, i, j;
    rl_status s;
    memset(&doc, 0, sizeof doc);
    rl_arena_init(&tmp, 4096);
    single = rl__path_join(&tmp, dir, "model.safetensors");
    index = rl__path_join(&tmp, dir, "model.safetensors.index.json");
    if (!single || !index) {
        rl_arena_free(&tmp);
        memset(st, 0, sizeof *st);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", dir);
    }
    if (rl__is_file(single)) {
        s = rl_st_open(st, single);
        rl_arena_free(&tmp);
        return s;
    }
    if (!rl__is_file(index)) {
        rl_arena_free(&tmp);
        memset(st, 0, sizeof *st);
        if (!rl__is_dir(dir)) return rl__fail(RL_ERR_IO, "%s: not a folder (%s)", dir, strerror(errno));
        return rl__fail(RL_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json in this folder", dir);
    }
    if ((s = rl_json_parse_file(&doc, index, (size_t)64 << 20)) != RL_OK) goto fail0;
    if (rl_json_has_dup(&doc)) {
        s = rl__fail(RL_ERR_FORMAT, "%s: duplicate key \"%.200s\" (at %d:%d)", index, doc.dup_key, doc.dup_line, doc.dup_col);
        goto fail0;
    }
    wm = rl_json_get(&doc.root, "weight_map");
    if ((s = rl_json_expect(wm, RL_JSON_OBJ, index, "weight_map")) != RL_OK) goto fail0;
    if (wm->n > 10000000) {
        s = rl__fail(RL_ERR_UNSUPPORTED, "%s: weight_map has too many entries", index);
        goto fail0;
    }
    nm = (int)wm->n;
    map = (rl__st_wm *)RL_MALLOC((size_t)(nm ? nm : 1) * sizeof *map);
    shards = (const char **)RL_MALLOC((size_t)(nm ? nm : 1) * sizeof *shards);
    if (!map || !shards) {
        s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", index);
        goto fail0;
    }
    for (i = 0; i < nm; i++) {
        const rl_json *v = &wm->kids[i];
        if (v->type != RL_JSON_STR || (size_t)v->n != strlen(v->str) || !rl__st_shard_name_ok(v->str)) {
            s = rl__fail(RL_ERR_FORMAT, "%s: weight_map: \"%.200s\" must map to a shard file name in the same folder", index, wm->keys[i]);
            goto fail0;
        }
        map[i].name = wm->keys[i];
        shards[i] = v->str;
    }
    /* distinct shard names, sorted: file index = position */
    if (nm) qsort(shards, (size_t)nm, sizeof *shards, rl__str_cmp);
    for (i = 0; i < nm; i++)
        if (!n_shards || strcmp(shards[n_shards - 1], shards[i])) shards[n_shards++] = shards[i];
    if (!n_shards) {
        s = rl__fail(RL_ERR_FORMAT, "%s: weight_map is empty", index);
        goto fail0;
    }
    for (i = 0; i < nm; i++) {
        const char *sh = wm->kids[i].str;
        int lo = 0, hi = n_shards - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (strcmp(shards[mid], sh) < 0) lo = mid + 1;
            else hi = mid;
        }
        map[i].file = lo;
    }
    if (nm) qsort(map, (size_t)nm, sizeof *map, rl__st_wm_cmp);
    if ((s = rl__st_begin(st, dir, n_shards)) != RL_OK) goto fail;
    st->n_files = n_shards;
    for (i = 0; i < n_shards; i++) {
        char *path = rl__path_join(&st->arena, dir, shards[i]);
        if (!path) {
            s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", dir);
            goto fail;
        }
        st->files[i].path = path;
        if (!rl__is_file(path)) {
            s = rl__fail(RL_ERR_IO, "%s: names shard %s, which is missing (%s)", index, shards[i], strerror(errno ? errno : ENOENT));
            goto fail;
        }
        if ((s = rl__st_map(&st->files[i], path)) != RL_OK || (s = rl__st_parse(st, i, &list)) != RL_OK) goto fail;
    }
    /* resolve names found in several shards through the index; check the index against the shards */
    if (list.n > 1) qsort(list.t, list.n, sizeof(rl_st_tensor), rl__st_name_cmp);
    {
        size_t r, w = 0, g;
        for (r = 0; r < list.n; r = g) {
            rl__st_wm key, *hit;
            size_t keep = r;
            for (g = r + 1; g < list.n && !strcmp(list.t[g].name, list.t[r].name); g++) {}
            key.name = list.t[r].name;
            hit = nm ? (rl__st_wm *)bsearch(&key, map, (size_t)nm, sizeof *map, rl__st_wm_cmp) : NULL;
            if (hit) {
                for (keep = r; keep < g && list.t[keep].file != hit->file; keep++) {}
                if (keep == g) {
                    s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s: the index says it is in %s, but it is in %s", index, key.name,
                                 shards[hit->file], shards[list.t[r].file]);
                    goto fail;
                }
            } else if (g - r > 1) {
                s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s is in two shards (%s and %s) and the index does not say which one owns it", dir,
                             key.name, shards[list.t[r].file], shards[list.t[r + 1].file]);
                goto fail;
            }
            list.t[w++] = list.t[keep];
        }
        list.n = w;
        for (j = 0; j < nm; j++) {
            rl_st_tensor key;
            key.name = map[j].name;
            key.file = map[j].file;
            if (!list.n || !bsearch(&key, list.t, list.n, sizeof(rl_st_tensor), rl__st_name_cmp)) {
                s = rl__fail(RL_ERR_FORMAT, "%s: tensor %s: not found in shard %s", index, map[j].name, shards[map[j].file]);
                goto fail;
            }
        }
    }
    s = rl__st_finish(st, &list);
    if (s != RL_OK) goto fail;
    RL_FREE(list.t);
    RL_FREE(map);
    RL_FREE(shards);
    rl_json_free(&doc);
    rl_arena_free(&tmp);
    return RL_OK;
fail0:
    memset(st, 0, sizeof *st);
fail:
    RL_FREE(list.t);
    RL_FREE(map);
    RL_FREE(shards);
    rl_json_free(&doc);
    rl_arena_free(&tmp);
    rl_st_close(st);
    return s;
}

void rl_st_close(rl_st *st) {
    int i;
    if (!st) return;
    for (i = 0; st->files && i < st->n_files; i++) {
        rl__st_file *f = &st->files[i];
        if (f->kind == 1) munmap((void *)(uintptr_t)f->base, f->size);
        else if (f->kind == 2) RL_FREE((void *)(uintptr_t)f->base);
    }
    RL_FREE(st->files);
    rl_arena_free(&st->arena);
    memset(st, 0, sizeof *st);
}

const rl_st_tensor *rl_st_find(const rl_st *st, const char *name) {
    int lo = 0, hi;
    if (!st || !name || !st->n_tensors) return NULL;
    hi = st->n_tensors - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(st->tensors[mid].name, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    return strcmp(st->tensors[lo].name, name) ? NULL : &st->tensors[lo];
}

int rl_st_count(const rl_st *st) { return st ? st->n_tensors : 0; }
const rl_st_tensor *rl_st_at(const rl_st *st, int i) { return st && i >= 0 && i < st->n_tensors ? &st->tensors[i] : NULL; }
const char *rl_st_file_path(const rl_st *st, int file) { return st && file >= 0 && file < st->n_files ? st->files[file].path : NULL; }

const char *rl_st_meta(const rl_st *st, const char *key) {
    int i;
    for (i = 0; st && key && i < st->n_meta; i++)
        if (!strcmp(st->meta_keys[i], key)) return st->meta_vals[i];
    return NULL;
}

/* Find `name` and check its shape against the caller's. */
static rl_status rl__st_lookup(const rl_st *st, const char *name, int ndim, const int64_t *shape, const rl_st_tensor **out) {
    const rl_st_tensor *t = rl_st_find(st, name);
    int k, ok;
    *out = NULL;
    if (!st || !name) return rl__fail(RL_ERR_ARG, "rl_st_read: no checkpoint or no name");
    if (!t) return rl__fail(RL_ERR_FORMAT, "%s: no tensor named %s", st->path ? st->path : "safetensors", name);
    ok = ndim == t->ndim && (ndim == 0 || shape);
    for (k = 0; ok && k < ndim; k++) ok = shape[k] == t->shape[k];
    if (!ok) {
        char a[200], b[200];
        if (ndim < 0 || ndim > RL_ST_MAX_DIMS || (ndim && !shape)) snprintf(b, sizeof b, "(%d dimensions)", ndim);
        else rl__fmt_shape(b, sizeof b, ndim, shape);
        return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: shape %s, expected %s", st->files[t->file].path, name,
                        rl__fmt_shape(a, sizeof a, t->ndim, t->shape), b);
    }
    *out = t;
    return RL_OK;
}

rl_status rl_st_read_f32(const rl_st *st, const char *name, float *dst, int ndim, const int64_t *shape) {
    const rl_st_tensor *t;
    const unsigned char *src;
    int64_t i;
    rl_status s = rl__st_lookup(st, name, ndim, shape, &t);
    if (s != RL_OK) return s;
    src = (const unsigned char *)t->data;
    switch (t->st_dtype) {
    case RL_ST_F32:
        if (t->nbytes) memcpy(dst, src, (size_t)t->nbytes);
        break;
    case RL_ST_BF16:
        for (i = 0; i < t->n; i++) {
            uint16_t h;
            uint32_t u;
            memcpy(&h, src + 2 * i, 2);
            u = (uint32_t)h << 16;
            memcpy(&dst[i], &u, 4);
        }
        break;
    case RL_ST_F16:
        for (i = 0; i < t->n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = rl_f16_to_f32(h);
        }
        break;
    case RL_ST_F64:
        for (i = 0; i < t->n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            dst[i] = (float)d;
        }
        break;
    default:
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor %s: dtype %s cannot be read as floats (F32, BF16, F16 and F64 can)",
                        st->files[t->file].path, name, t->dtype_str);
    }
    return RL_OK;
}

rl_status rl_st_read_i32(const rl_st *st, const char *name, int32_t *dst, int ndim, const int64_t *shape) {
    const rl_st_tensor *t;
    const unsigned char *src;
    int64_t i;
    rl_status s = rl__st_lookup(st, name, ndim, shape, &t);
    if (s != RL_OK) return s;
    src = (const unsigned char *)t->data;
    switch (t->st_dtype) {
    case RL_ST_I32:
        if (t->nbytes) memcpy(dst, src, (size_t)t->nbytes);
        break;
    case RL_ST_I64:
        for (i = 0; i < t->n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, 8);
            if (v < INT32_MIN || v > INT32_MAX)
                return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: element %lld = %lld does not fit int32", st->files[t->file].path, name,
                                (long long)i, (long long)v);
            dst[i] = (int32_t)v;
        }
        break;
    case RL_ST_I16:
    case RL_ST_U16:
        for (i = 0; i < t->n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = t->st_dtype == RL_ST_I16 ? (int32_t)(int16_t)h : (int32_t)h;
        }
        break;
    case RL_ST_I8:
        for (i = 0; i < t->n; i++) dst[i] = (int32_t)(signed char)src[i];
        break;
    case RL_ST_U8:
    case RL_ST_BOOL:
        for (i = 0; i < t->n; i++) dst[i] = (int32_t)src[i];
        break;
    default:
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor %s: dtype %s cannot be read as integers (I32, I64, I16, U16, I8, U8, BOOL can)",
                        st->files[t->file].path, name, t->dtype_str);
    }
    return RL_OK;
}

/* ---- safetensors writer ---- */

typedef struct rl__sbuf {
    char *p;
    size_t n, cap;
    int oom;
} rl__sbuf;

static void rl__sb_put(rl__sbuf *b, const char *s, size_t n) {
    char *np;
    if (b->oom) return;
    np = (char *)rl__grow(b->p, &b->cap, b->n + n + 1, 1);
    if (!np) {
        b->oom = 1;
        return;
    }
    b->p = np;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void rl__sb_str(rl__sbuf *b, const char *s) { rl__sb_put(b, s, strlen(s)); }
static void rl__sb_u64(rl__sbuf *b, uint64_t v) {
    char t[32];
    rl__sb_put(b, t, (size_t)snprintf(t, sizeof t, "%llu", (unsigned long long)v));
}
/* A JSON string as serde_json writes it: escapes ", \, control characters; UTF-8 as is. */
static void rl__sb_json_str(rl__sbuf *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    rl__sb_put(b, "\"", 1);
    for (; *p; p++) {
        char e[8];
        switch (*p) {
        case '"': rl__sb_put(b, "\\\"", 2); break;
        case '\\': rl__sb_put(b, "\\\\", 2); break;
        case '\b': rl__sb_put(b, "\\b", 2); break;
        case '\f': rl__sb_put(b, "\\f", 2); break;
        case '\n': rl__sb_put(b, "\\n", 2); break;
        case '\r': rl__sb_put(b, "\\r", 2); break;
        case '\t': rl__sb_put(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(e, sizeof e, "\\u%04x", *p);
                rl__sb_put(b, e, 6);
            } else {
                rl__sb_put(b, (const char *)p, 1);
            }
        }
    }
    rl__sb_put(b, "\"", 1);
}

static int rl__utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        int n = rl__utf8_len(p, end);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

static rl_st_dtype rl__st_from_dtype(rl_dtype d) {
    switch (d) {
    case RL_F32: return RL_ST_F32;
    case RL_BF16: return RL_ST_BF16;
    case RL_F16: return RL_ST_F16;
    case RL_I32: return RL_ST_I32;
    }
    return RL_ST_NDTYPES;
}

typedef struct rl__st_word {
    const rl_st_entry *e;
    rl_st_dtype dt;
    uint64_t nbytes;
} rl__st_word;

static int rl__st_word_cmp(const void *a, const void *b) {
    const rl__st_word *x = (const rl__st_word *)a, *y = (const rl__st_word *)b;
    if (x->dt != y->dt) return x->dt > y->dt ? -1 : 1; /* dtype descending */
    return strcmp(x->e->name, y->e->name);
}

static int rl__st_wname_cmp(const void *a, const void *b) {
    return strcmp(((const rl__st_word *)a)->e->name, ((const rl__st_word *)b)->e->name);
}

/* Validate, order and build the header (padded). ord: n items in file order. */
static rl_status rl__st_header(const char *what, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags,
                               rl__st_word **ord_out, rl__sbuf *hb) {
    rl__st_word *ord;
    const char **mk = NULL;
    int nmeta = 0, i, j, k;
    uint64_t off = 0;
    rl_status s = RL_OK;
    *ord_out = NULL;
    memset(hb, 0, sizeof *hb);
    if (n < 0 || (n && !tensors)) return rl__fail(RL_ERR_ARG, "%s: bad tensor list", what);
    ord = (rl__st_word *)RL_MALLOC((size_t)(n ? n : 1) * sizeof *ord);
    if (!ord) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", what);
    for (i = 0; i < n; i++) {
        const rl_st_entry *e = &tensors[i];
        uint64_t numel = 1;
        ord[i].e = e;
        ord[i].dt = rl__st_from_dtype(e->dtype);
        if (!e->name || !rl__utf8_valid(e->name) || !strcmp(e->name, "__metadata__")) {
            s = rl__fail(RL_ERR_ARG, "%s: tensor %d: name %s", what, i, !e->name ? "missing" : "is not valid UTF-8 or is reserved");
            goto fail;
        }
        if (ord[i].dt == RL_ST_NDTYPES) {
            s = rl__fail(RL_ERR_ARG, "%s: tensor %s: unknown dtype %d", what, e->name, (int)e->dtype);
            goto fail;
        }
        if (e->ndim < 0 || e->ndim > RL_ST_MAX_DIMS) {
            s = rl__fail(RL_ERR_ARG, "%s: tensor %s: ndim %d (0..%d)", what, e->name, e->ndim, RL_ST_MAX_DIMS);
            goto fail;
        }
        for (k = 0; k < e->ndim; k++)
            if (e->shape[k] < 0) {
                s = rl__fail(RL_ERR_ARG, "%s: tensor %s: negative dimension in shape", what, e->name);
                goto fail;
            } else if (e->shape[k] == 0) {
                numel = 0;
            }
        for (k = 0; numel && k < e->ndim; k++) { /* as the reader: any dims when one is 0 */
            if (numel > ((uint64_t)1 << 60) / (uint64_t)e->shape[k]) {
                s = rl__fail(RL_ERR_ARG, "%s: tensor %s: shape too large", what, e->name);
                goto fail;
            }
            numel *= (uint64_t)e->shape[k];
        }
        ord[i].nbytes = numel * (rl__st_bits[ord[i].dt] / 8);
        if (ord[i].nbytes && !e->data) {
            s = rl__fail(RL_ERR_ARG, "%s: tensor %s: no data", what, e->name);
            goto fail;
        }
    }
    if (n > 1) {
        qsort(ord, (size_t)n, sizeof *ord, rl__st_wname_cmp);
        for (i = 1; i < n; i++)
            if (!strcmp(ord[i].e->name, ord[i - 1].e->name)) {
                s = rl__fail(RL_ERR_ARG, "%s: tensor name %s given twice", what, ord[i].e->name);
                goto fail;
            }
        qsort(ord, (size_t)n, sizeof *ord, rl__st_word_cmp);
    }
    /* metadata: format=pt plus the caller's, sorted by key */
    for (i = 0; meta && meta[i]; i += 2) {
        if (!meta[i + 1]) {
            s = rl__fail(RL_ERR_ARG, "%s: metadata key %s has no value", what, meta[i]);
            goto fail;
        }
        nmeta++;
    }
    mk = (const char **)RL_MALLOC((size_t)(2 * nmeta + 2) * sizeof *mk);
    if (!mk) {
        s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", what);
        goto fail;
    }
    k = 0;
    if (!(flags & RL_ST_WRITE_NO_FORMAT)) {
        mk[0] = "format";
        mk[1] = "pt";
        k = 1;
    }
    for (i = 0; i < nmeta; i++) {
        const char *key = meta[2 * i], *val = meta[2 * i + 1];
        if (!rl__utf8_valid(key) || !rl__utf8_valid(val)) {
            s = rl__fail(RL_ERR_ARG, "%s: metadata %s: not valid UTF-8", what, key);
            goto fail;
        }
        for (j = 0; j < k; j++)
            if (!strcmp(mk[2 * j], key)) break;
        if (j < k) {
            if (!strcmp(key, "format") && !(flags & RL_ST_WRITE_NO_FORMAT) && j == 0) {
                if (strcmp(val, "pt")) {
                    s = rl__fail(RL_ERR_ARG, "%s: metadata format must be \"pt\" (transformers refuses \"%s\")", what, val);
                    goto fail;
                }
                continue;
            }
            s = rl__fail(RL_ERR_ARG, "%s: metadata key %s given twice", what, key);
            goto fail;
        }
        mk[2 * k] = key;
        mk[2 * k + 1] = val;
        k++;
    }
    /* insertion sort of the k pairs by key */
    for (i = 1; i < k; i++)
        for (j = i; j > 0 && strcmp(mk[2 * j - 2], mk[2 * j]) > 0; j--) {
            const char *t0 = mk[2 * j - 2], *t1 = mk[2 * j - 1];
            mk[2 * j - 2] = mk[2 * j];
            mk[2 * j - 1] = mk[2 * j + 1];
            mk[2 * j] = t0;
            mk[2 * j + 1] = t1;
        }
    rl__sb_str(hb, "{");
    if (k) {
        rl__sb_str(hb, "\"__metadata__\":{");
        for (i = 0; i < k; i++) {
            if (i) rl__sb_str(hb, ",");
            rl__sb_json_str(hb, mk[2 * i]);
            rl__sb_str(hb, ":");
            rl__sb_json_str(hb, mk[2 * i + 1]);
        }
        rl__sb_str(hb, "}");
    }
    for (i = 0; i < n; i++) {
        const rl_st_entry *e = ord[i].e;
        if (i || k) rl__sb_str(hb, ",");
        rl__sb_json_str(hb, e->name);
        rl__sb_str(hb, ":{\"dtype\":\"");
        rl__sb_str(hb, rl__st_names[ord[i].dt]);
        rl__sb_str(hb, "\",\"shape\":[");
        for (j = 0; j < e->ndim; j++) {
            if (j) rl__sb_str(hb, ",");
            rl__sb_u64(hb, (uint64_t)e->shape[j]);
        }
        rl__sb_str(hb, "],\"data_offsets\":[");
        rl__sb_u64(hb, off);
        rl__sb_str(hb, ",");
        off += ord[i].nbytes;
        rl__sb_u64(hb, off);
        rl__sb_str(hb, "]}");
    }
    rl__sb_str(hb, "}");
    while (!hb->oom && hb->n % 8) rl__sb_str(hb, " ");
    if (hb->oom) {
        s = rl__fail(RL_ERR_NOMEM, "%s: out of memory", what);
        goto fail;
    }
    if (hb->n > RL_ST_MAX_HEADER) {
        s = rl__fail(RL_ERR_ARG, "%s: header would be %zu bytes, more than the %d-byte limit of the format", what, hb->n, RL_ST_MAX_HEADER);
        goto fail;
    }
    RL_FREE(mk);
    *ord_out = ord;
    return RL_OK;
fail:
    RL_FREE(mk);
    RL_FREE(ord);
    RL_FREE(hb->p);
    memset(hb, 0, sizeof *hb);
    return s;
}

static void rl__st_le64(unsigned char *o, uint64_t v) {
    int k;
    for (k = 0; k < 8; k++) o[k] = (unsigned char)(v >> (8 * k));
}

rl_status rl_st_serialize(const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags, unsigned char **out,
                          size_t *out_len) {
    rl__st_word *ord;
    rl__sbuf hb;
    uint64_t total;
    unsigned char *buf, *o;
    int i;
    rl_status s;
    *out = NULL;
    *out_len = 0;
    if (!rl__st_host_le()) return rl__fail(RL_ERR_UNSUPPORTED, "safetensors writing needs a little-endian host");
    if ((s = rl__st_header("safetensors", tensors, n, meta, flags, &ord, &hb)) != RL_OK) return s;
    total = 8 + hb.n;
    for (i = 0; i < n; i++) total += ord[i].nbytes;
    buf = total <= (uint64_t)SIZE_MAX ? (unsigned char *)RL_MALLOC((size_t)total) : NULL;
    if (!buf) {
        RL_FREE(ord);
        RL_FREE(hb.p);
        return rl__fail(RL_ERR_NOMEM, "safetensors: cannot allocate %llu bytes", (unsigned long long)total);
    }
    rl__st_le64(buf, hb.n);
    memcpy(buf + 8, hb.p, hb.n);
    o = buf + 8 + hb.n;
    for (i = 0; i < n; i++) {
        if (ord[i].nbytes) memcpy(o, ord[i].e->data, (size_t)ord[i].nbytes);
        o += ord[i].nbytes;
    }
    RL_FREE(ord);
    RL_FREE(hb.p);
    *out = buf;
    *out_len = (size_t)total;
    return RL_OK;
}

static int rl__write_all(int fd, const void *data, uint64_t n) {
    const unsigned char *p = (const unsigned char *)data;
    while (n) {
        size_t chunk = n > ((uint64_t)1 << 30) ? ((size_t)1 << 30) : (size_t)n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (uint64_t)w;
    }
    return 0;
}

/* Create "<path>.tmp.<8 hex>" exclusively; returns the fd and the name (malloc'd). */
static int rl__open_tmp(const char *path, char **tmp_out) {
    static unsigned counter;
    size_t len = strlen(path) + 16;
    char *tmp = (char *)RL_MALLOC(len);
    int tries, fd = -1;
    uint64_t x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() << 20 ^ (uint64_t)(uintptr_t)&tries;
    *tmp_out = NULL;
    if (!tmp) return -1;
    for (tries = 0; tries < 100; tries++) {
        x = (x + ++counter) * 0x9E3779B97F4A7C15ull;
        x ^= x >> 29;
        snprintf(tmp, len, "%s.tmp.%08x", path, (unsigned)(x >> 32));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0 || errno != EEXIST) break;
    }
    if (fd < 0) {
        RL_FREE(tmp);
        return -1;
    }
    *tmp_out = tmp;
    return fd;
}

/* fsync the folder holding path, so the rename itself is durable (best effort). */
static void rl__sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd;
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash == path) n = 1;
    dir = (char *)RL_MALLOC(n + 1);
    if (!dir) return;
    if (slash) memcpy(dir, path, n);
    else dir[0] = '.';
    dir[n] = 0;
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    RL_FREE(dir);
}

rl_status rl_st_write(const char *path, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags) {
    rl__st_word *ord;
    rl__sbuf hb;
    unsigned char len8[8];
    char *tmp = NULL;
    int fd, i, e = 0;
    rl_status s;
    if (!path) return rl__fail(RL_ERR_ARG, "rl_st_write: no path");
    if (!rl__st_host_le()) return rl__fail(RL_ERR_UNSUPPORTED, "%s: safetensors writing needs a little-endian host", path);
    if ((s = rl__st_header(path, tensors, n, meta, flags, &ord, &hb)) != RL_OK) return s;
    fd = rl__open_tmp(path, &tmp);
    if (fd < 0) {
        e = errno;
        RL_FREE(ord);
        RL_FREE(hb.p);
        return rl__fail(RL_ERR_IO, "%s: cannot create a temporary file next to it (%s)", path, strerror(e));
    }
    rl__st_le64(len8, hb.n);
    if (rl__write_all(fd, len8, 8) || rl__write_all(fd, hb.p, hb.n)) e = errno ? errno : EIO;
    for (i = 0; !e && i < n; i++)
        if (ord[i].nbytes && rl__write_all(fd, ord[i].e->data, ord[i].nbytes)) e = errno ? errno : EIO;
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    RL_FREE(ord);
    RL_FREE(hb.p);
    if (e) {
        unlink(tmp);
        RL_FREE(tmp);
        return rl__fail(RL_ERR_IO, "%s: write failed (%s); the old file, if any, is unchanged", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        RL_FREE(tmp);
        return rl__fail(RL_ERR_IO, "%s: cannot rename the temporary file into place (%s)", path, strerror(e));
    }
    RL_FREE(tmp);
    rl__sync_dir(path);
    return RL_OK;
}

/* ---- 4c. config.json ---- */

#define RL__TRY(x)                         \
    do {                                   \
        if ((s = (x)) != RL_OK) goto done; \
    } while (0)

static rl_status rl__cfg_arch(rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *ar = rl_json_get(root, "architectures"), *mt = rl_json_get(root, "model_type");
    const char *a = NULL, *m = NULL;
    int from_a = 0, from_m = 0;
    if (ar && ar->type != RL_JSON_NULL) {
        if (ar->type != RL_JSON_ARR || ar->n < 1 || ar->kids[0].type != RL_JSON_STR)
            return rl__fail(RL_ERR_FORMAT, "%s: architectures: expected a list of class names like [\"Qwen2ForCausalLM\"]", src);
        a = ar->kids[0].str;
        if (!strcmp(a, "Qwen2ForCausalLM")) from_a = RL_ARCH_QWEN2;
        else if (!strcmp(a, "LlamaForCausalLM")) from_a = RL_ARCH_LLAMA;
        else if (!strcmp(a, "RWKV6Qwen2ForCausalLM") || !strcmp(a, "RWKV7Qwen2ForCausalLM")) {
            from_a = RL_ARCH_QWEN2;
            cfg->student = a[4] - '0';
        } else
            return rl__fail(RL_ERR_UNSUPPORTED,
                            "%s: architectures: \"%.100s\" is not supported (supported: Qwen2ForCausalLM, LlamaForCausalLM, "
                            "RWKV6Qwen2ForCausalLM, RWKV7Qwen2ForCausalLM)", src, a);
    }
    if (mt && mt->type != RL_JSON_NULL) {
        if (mt->type != RL_JSON_STR) return rl_json_expect(mt, RL_JSON_STR, src, "model_type");
        m = mt->str;
        if (!strcmp(m, "qwen2")) from_m = RL_ARCH_QWEN2;
        else if (!strcmp(m, "llama")) from_m = RL_ARCH_LLAMA;
        else if (!strcmp(m, "rwkv6qwen2") || !strcmp(m, "rwkv7qwen2")) {
            from_m = RL_ARCH_QWEN2;
            if (cfg->student && cfg->student != m[4] - '0')
                return rl__fail(RL_ERR_FORMAT, "%s: architectures says %s but model_type says %s", src, a, m);
            cfg->student = m[4] - '0';
        } else
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: model_type \"%.100s\" is not supported (supported: qwen2, llama, rwkv6qwen2, rwkv7qwen2)", src, m);
    }
    if (!from_a && !from_m)
        return rl__fail(RL_ERR_FORMAT, "%s: no architectures or model_type key says what model this is (supported: Qwen2ForCausalLM, LlamaForCausalLM)", src);
    if (from_a && from_m && from_a != from_m)
        return rl__fail(RL_ERR_FORMAT, "%s: architectures says %s but model_type says %s", src, a, m);
    cfg->arch = (rl_arch)(from_a ? from_a : from_m);
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s",
             cfg->student == 6 ? "rwkv6qwen2" : cfg->student == 7 ? "rwkv7qwen2" : cfg->arch == RL_ARCH_QWEN2 ? "qwen2" : "llama");
    return RL_OK;
}

/* The RADLADS keys of a student's config.json, with the HF config classes' defaults
   (RWKV6: gate_rank_type 1, token shift on, RoPE off; RWKV7: gate_rank_type 2, token shift
   off, RoPE off unless use_rope says so; both: balance_state true, groupnorm_att false). */
static rl_status rl__cfg_student(rl_config *cfg, const rl_json *root, const char *src) {
    rl_status s;
    int64_t v;
    int six = cfg->student == 6;
    struct { const char *key; int *dst; } ranks[5];
    int i;
    ranks[0].key = "lora_rank_tokenshift"; ranks[0].dst = &cfg->lora_tokenshift;
    ranks[1].key = "lora_rank_decay"; ranks[1].dst = &cfg->lora_decay;
    ranks[2].key = "lora_rank_iclr"; ranks[2].dst = &cfg->lora_iclr;
    ranks[3].key = "lora_rank_value_residual_mix"; ranks[3].dst = &cfg->lora_value_residual;
    ranks[4].key = "lora_rank_gate"; ranks[4].dst = &cfg->lora_gate;
    for (i = 0; i < 5; i++) {
        if ((s = rl_json_get_int_or(root, ranks[i].key, src, 0, &v)) != RL_OK) return s;
        if (v < 0 || v > 1 << 20) return rl__fail(RL_ERR_FORMAT, "%s: %s: %lld is not a LoRA rank", src, ranks[i].key, (long long)v);
        *ranks[i].dst = (int)v;
    }
    if ((s = rl_json_get_int_or(root, "gate_rank_type", src, six ? 1 : 2, &v)) != RL_OK) return s;
    cfg->gate_rank_type = (int)v;
    if (cfg->gate_rank_type != (six ? 1 : 2))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: gate_rank_type %d is not supported for RAD-RWKV%d (only %d)", src, cfg->gate_rank_type,
                        cfg->student, six ? 1 : 2);
    if ((s = rl_json_get_bool_or(root, "balance_state", src, 1, &cfg->balance_state)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "groupnorm_att", src, 0, &cfg->groupnorm_att)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "use_tokenshift", src, six, &cfg->use_tokenshift)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "use_rope", src, 0, &cfg->use_rope)) != RL_OK) return s;
    if (!six && cfg->use_tokenshift) return rl__fail(RL_ERR_UNSUPPORTED, "%s: use_tokenshift is not supported for RAD-RWKV7", src);
    if (six && cfg->groupnorm_att) return rl__fail(RL_ERR_UNSUPPORTED, "%s: groupnorm_att is not supported for RAD-RWKV6", src);
    if ((s = rl_json_get_int_or(root, "num_attention_layers", src, 0, &v)) != RL_OK) return s;
    if (v < 0 || v > cfg->n_layers)
        return rl__fail(RL_ERR_FORMAT, "%s: num_attention_layers %lld is outside [0, %lld]", src, (long long)v, (long long)cfg->n_layers);
    cfg->n_attention_layers = (int)v;
    return RL_OK;
}

static rl_status rl__cfg_token_id(const rl_json *v, const char *src, const char *field, int32_t *out) {
    int64_t x = 0;
    rl_status s = rl_json_as_int(v, src, field, &x);
    if (s != RL_OK) return s;
    if (x < 0 || x > INT32_MAX) return rl__fail(RL_ERR_FORMAT, "%s: %s: token id %lld out of range", src, field, (long long)x);
    *out = (int32_t)x;
    return RL_OK;
}

static rl_status rl__cfg_rope(rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *rp = rl_json_get(root, "rope_parameters"), *ty;
    const char *rp_name = "rope_parameters", *type = "default";
    char field[64];
    double prf = 1.0;
    rl_status s;
    if (!rp || rp->type == RL_JSON_NULL) {
        rp = rl_json_get(root, "rope_scaling");
        rp_name = "rope_scaling";
    }
    if (rp && rp->type == RL_JSON_NULL) rp = NULL;
    if (rp && rp->type != RL_JSON_OBJ) return rl_json_expect(rp, RL_JSON_OBJ, src, rp_name);
    /* theta: rope_parameters.rope_theta (v5), else top-level rope_theta (v4), else 10000 */
    if (rp && rl_json_get(rp, "rope_theta")) {
        snprintf(field, sizeof field, "%s.rope_theta", rp_name);
        if ((s = rl_json_as_num(rl_json_get(rp, "rope_theta"), src, field, &cfg->rope_theta)) != RL_OK) return s;
    } else if ((s = rl_json_get_num_or(root, "rope_theta", src, 10000.0, &cfg->rope_theta)) != RL_OK) {
        return s;
    }
    if (!(cfg->rope_theta > 1.0) || cfg->rope_theta > 1e30)
        return rl__fail(RL_ERR_FORMAT, "%s: rope_theta %g must be greater than 1", src, cfg->rope_theta);
    if ((s = rl_json_get_num_or(root, "partial_rotary_factor", src, 1.0, &prf)) != RL_OK) return s;
    if (rp && rl_json_get(rp, "partial_rotary_factor")) {
        snprintf(field, sizeof field, "%s.partial_rotary_factor", rp_name);
        if ((s = rl_json_as_num(rl_json_get(rp, "partial_rotary_factor"), src, field, &prf)) != RL_OK) return s;
    }
    if (prf != 1.0) return rl__fail(RL_ERR_UNSUPPORTED, "%s: partial_rotary_factor %g is not supported (only 1.0)", src, prf);
    cfg->rope_scaling = RL_ROPE_NONE;
    cfg->rope_factor = 1.0;
    if (!rp) return RL_OK;
    ty = rl_json_get(rp, "rope_type");
    if (!ty || ty->type == RL_JSON_NULL) ty = rl_json_get(rp, "type");
    if (ty && ty->type != RL_JSON_NULL) {
        snprintf(field, sizeof field, "%s.rope_type", rp_name);
        if ((s = rl_json_as_str(ty, src, field, &type)) != RL_OK) return s;
    } else if (rp == rl_json_get(root, "rope_scaling")) {
        return rl__fail(RL_ERR_FORMAT, "%s: rope_scaling has no rope_type (or type)", src);
    }
    if (!strcmp(type, "default")) return RL_OK;
    if (!strcmp(type, "linear") || !strcmp(type, "llama3")) {
        snprintf(field, sizeof field, "%s.factor", rp_name);
        if ((s = rl_json_as_num(rl_json_get(rp, "factor"), src, field, &cfg->rope_factor)) != RL_OK) return s;
        if (!(cfg->rope_factor > 0) || cfg->rope_factor > 1e9)
            return rl__fail(RL_ERR_FORMAT, "%s: %s.factor %g must be positive", src, rp_name, cfg->rope_factor);
        cfg->rope_scaling = type[1] == 'i' ? RL_ROPE_LINEAR : RL_ROPE_LLAMA3;
        if (cfg->rope_scaling == RL_ROPE_LINEAR) return RL_OK;
        snprintf(field, sizeof field, "%s.low_freq_factor", rp_name);
        if ((s = rl_json_as_num(rl_json_get(rp, "low_freq_factor"), src, field, &cfg->rope_low_freq)) != RL_OK) return s;
        snprintf(field, sizeof field, "%s.high_freq_factor", rp_name);
        if ((s = rl_json_as_num(rl_json_get(rp, "high_freq_factor"), src, field, &cfg->rope_high_freq)) != RL_OK) return s;
        snprintf(field, sizeof field, "%s.original_max_position_embeddings", rp_name);
        if ((s = rl_json_as_int(rl_json_get(rp, "original_max_position_embeddings"), src, field, &cfg->rope_orig_max_pos)) != RL_OK)
            return s;
        if (!(cfg->rope_low_freq > 0) || !(cfg->rope_high_freq > cfg->rope_low_freq) || cfg->rope_high_freq > 1e9 ||
            cfg->rope_orig_max_pos <= 0)
            return rl__fail(RL_ERR_FORMAT,
                            "%s: %s: llama3 needs 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0 "
                            "(got %g, %g, %lld)", src, rp_name, cfg->rope_low_freq, cfg->rope_high_freq, (long long)cfg->rope_orig_max_pos);
        return RL_OK;
    }
    return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: rope_type \"%.60s\" is not supported (supported: default, linear, llama3)", src, rp_name,
                    type);
}

rl_status rl_config_parse(rl_config *cfg, const char *text, size_t len, const char *source) {
    rl_json_doc doc;
    const rl_json *root, *v;
    const char *src = source ? source : "config.json", *str;
    int64_t x;
    int b;
    double d;
    rl_status s;
    memset(cfg, 0, sizeof *cfg);
    if ((s = rl_json_parse(&doc, text, len, src)) != RL_OK) return s;
    root = &doc.root;
    if (root->type != RL_JSON_OBJ) {
        s = rl__fail(RL_ERR_FORMAT, "%s: expected a JSON object, got %s", src, rl_json_type_name(root->type));
        goto done;
    }
    RL__TRY(rl__cfg_arch(cfg, root, src));
    RL__TRY(rl_json_get_int(root, "vocab_size", src, &cfg->vocab_size));
    RL__TRY(rl_json_get_int(root, "hidden_size", src, &cfg->hidden_size));
    RL__TRY(rl_json_get_int(root, "intermediate_size", src, &cfg->intermediate_size));
    RL__TRY(rl_json_get_int(root, "num_hidden_layers", src, &cfg->n_layers));
    RL__TRY(rl_json_get_int(root, "num_attention_heads", src, &cfg->n_heads));
    {
        static const char *const names[] = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"};
        const int64_t vals[] = {cfg->vocab_size, cfg->hidden_size, cfg->intermediate_size, cfg->n_layers, cfg->n_heads};
        const int64_t lims[] = {INT32_MAX, 1 << 20, 1 << 22, 1 << 16, 1 << 16};
        int k;
        for (k = 0; k < 5; k++)
            if (vals[k] <= 0 || vals[k] > lims[k]) {
                s = rl__fail(RL_ERR_FORMAT, "%s: %s = %lld, expected 1..%lld", src, names[k], (long long)vals[k], (long long)lims[k]);
                goto done;
            }
    }
    RL__TRY(rl_json_get_int_or(root, "num_key_value_heads", src, cfg->n_heads, &cfg->n_kv_heads));
    if (cfg->n_kv_heads <= 0 || cfg->n_heads % cfg->n_kv_heads) {
        s = rl__fail(RL_ERR_FORMAT, "%s: num_key_value_heads (%lld) must be positive and divide num_attention_heads (%lld)", src,
                     (long long)cfg->n_kv_heads, (long long)cfg->n_heads);
        goto done;
    }
    v = rl_json_get(root, "head_dim");
    if (v && v->type != RL_JSON_NULL) {
        RL__TRY(rl_json_as_int(v, src, "head_dim", &cfg->head_dim));
    } else {
        if (cfg->hidden_size % cfg->n_heads) {
            s = rl__fail(RL_ERR_FORMAT, "%s: num_attention_heads (%lld) must divide hidden_size (%lld) when head_dim is not given", src,
                         (long long)cfg->n_heads, (long long)cfg->hidden_size);
            goto done;
        }
        cfg->head_dim = cfg->hidden_size / cfg->n_heads;
    }
    if (cfg->head_dim <= 0 || cfg->head_dim > 65536 || cfg->head_dim % 2) {
        s = rl__fail(RL_ERR_FORMAT, "%s: head_dim %lld must be positive and even (RoPE rotates pairs)", src, (long long)cfg->head_dim);
        goto done;
    }
    RL__TRY(rl_json_get_int_or(root, "max_position_embeddings", src, cfg->arch == RL_ARCH_QWEN2 ? 32768 : 2048, &cfg->max_pos));
    if (cfg->max_pos <= 0) {
        s = rl__fail(RL_ERR_FORMAT, "%s: max_position_embeddings %lld must be positive", src, (long long)cfg->max_pos);
        goto done;
    }
    RL__TRY(rl_json_get_num_or(root, "rms_norm_eps", src, 1e-6, &d));
    if (!(d > 0) || d > 1) {
        s = rl__fail(RL_ERR_FORMAT, "%s: rms_norm_eps %g must be in (0, 1]", src, d);
        goto done;
    }
    cfg->rms_eps = (float)d;
    RL__TRY(rl_json_get_str_or(root, "hidden_act", src, "silu", &str));
    if (strcmp(str, "silu")) {
        s = rl__fail(RL_ERR_UNSUPPORTED, "%s: hidden_act \"%.60s\" is not supported (only silu)", src, str);
        goto done;
    }
    RL__TRY(rl_json_get_bool_or(root, "tie_word_embeddings", src, 0, &cfg->tie_embeddings));
    if (cfg->student) {
        RL__TRY(rl_json_get_bool_or(root, "attention_bias", src, 1, &cfg->attn_bias));
        RL__TRY(rl_json_get_bool_or(root, "attention_output_bias", src, 0, &cfg->o_bias));
    } else if (cfg->arch == RL_ARCH_QWEN2) {
        cfg->attn_bias = 1; /* hard-coded in Qwen2Attention: q/k/v bias, no o bias */
    } else {
        RL__TRY(rl_json_get_bool_or(root, "attention_bias", src, 0, &b));
        cfg->attn_bias = cfg->o_bias = b;
        RL__TRY(rl_json_get_bool_or(root, "mlp_bias", src, 0, &cfg->mlp_bias));
    }
    /* token ids */
    cfg->bos_id = -1;
    v = rl_json_get(root, "bos_token_id");
    if (!v && cfg->arch == RL_ARCH_LLAMA) cfg->bos_id = 1;
    else if (v && v->type != RL_JSON_NULL) RL__TRY(rl__cfg_token_id(v, src, "bos_token_id", &cfg->bos_id));
    v = rl_json_get(root, "eos_token_id");
    if (!v && cfg->arch == RL_ARCH_LLAMA) {
        cfg->eos_ids[0] = 2;
        cfg->n_eos = 1;
    } else if (v && v->type == RL_JSON_ARR) {
        int64_t k;
        if (v->n > RL_CONFIG_MAX_EOS) {
            s = rl__fail(RL_ERR_UNSUPPORTED, "%s: eos_token_id lists %lld ids (at most %d supported)", src, (long long)v->n, RL_CONFIG_MAX_EOS);
            goto done;
        }
        for (k = 0; k < v->n; k++) {
            char field[48];
            snprintf(field, sizeof field, "eos_token_id[%lld]", (long long)k);
            RL__TRY(rl__cfg_token_id(&v->kids[k], src, field, &cfg->eos_ids[k]));
        }
        cfg->n_eos = (int)v->n;
    } else if (v && v->type != RL_JSON_NULL) {
        RL__TRY(rl__cfg_token_id(v, src, "eos_token_id", &cfg->eos_ids[0]));
        cfg->n_eos = 1;
    }
    /* dtype (informational; the weights say what they are) */
    cfg->dtype = RL_F32;
    v = rl_json_get(root, "dtype");
    if (!v || v->type == RL_JSON_NULL) v = rl_json_get(root, "torch_dtype");
    if (v && v->type != RL_JSON_NULL) {
        RL__TRY(rl_json_as_str(v, src, "dtype", &str));
        if (!strcmp(str, "bfloat16")) cfg->dtype = RL_BF16;
        else if (!strcmp(str, "float16")) cfg->dtype = RL_F16;
        else if (strcmp(str, "float32")) rl_log(RL_LOG_WARN, "%s: dtype \"%.40s\" not recognised, assuming float32", src, str);
    }
    RL__TRY(rl__cfg_rope(cfg, root, src));
    if (cfg->student) RL__TRY(rl__cfg_student(cfg, root, src));
    /* sliding-window attention (Qwen2): unsupported wherever a layer would use it */
    v = rl_json_get(root, "layer_types");
    if (v && v->type == RL_JSON_ARR) {
        int64_t k;
        for (k = 0; k < v->n; k++) {
            char field[48];
            snprintf(field, sizeof field, "layer_types[%lld]", (long long)k);
            RL__TRY(rl_json_as_str(&v->kids[k], src, field, &str));
            if (strcmp(str, "full_attention")) {
                s = rl__fail(RL_ERR_UNSUPPORTED, "%s: layer_types[%lld] is \"%.40s\" (only full_attention is supported)", src, (long long)k, str);
                goto done;
            }
        }
    }
    RL__TRY(rl_json_get_bool_or(root, "use_sliding_window", src, 0, &b));
    if (b) {
        v = rl_json_get(root, "sliding_window");
        RL__TRY(rl_json_get_int_or(root, "max_window_layers", src, 28, &x));
        if (v && v->type != RL_JSON_NULL && x < cfg->n_layers) {
            s = rl__fail(RL_ERR_UNSUPPORTED, "%s: use_sliding_window is true (layers %lld and up would use sliding-window attention, "
                         "which is not supported)", src, (long long)x);
            goto done;
        }
    }
done:
    rl_json_free(&doc);
    if (s != RL_OK) memset(cfg, 0, sizeof *cfg);
    return s;
}

rl_status rl_config_load(rl_config *cfg, const char *path) {
    char *text;
    size_t len;
    rl_status s;
    memset(cfg, 0, sizeof *cfg);
    if ((s = rl__read_file(path, (size_t)16 << 20, &text, &len)) != RL_OK) return s;
    s = rl_config_parse(cfg, text, len, path);
    RL_FREE(text);
    return s;
}

void rl_rope_inv_freq(const rl_config *cfg, float *inv_freq) {
    const double two_pi = 6.283185307179586476925286766559;
    int64_t i, half = cfg->head_dim / 2;
    for (i = 0; i < half; i++) {
        double f = 1.0 / pow(cfg->rope_theta, (double)(2 * i) / (double)cfg->head_dim);
        if (cfg->rope_scaling == RL_ROPE_LINEAR) {
            f /= cfg->rope_factor;
        } else if (cfg->rope_scaling == RL_ROPE_LLAMA3) {
            double old = (double)cfg->rope_orig_max_pos, lo = cfg->rope_low_freq, hi = cfg->rope_high_freq;
            double low_wl = old / lo, high_wl = old / hi, wl = two_pi / f;
            if (wl < high_wl) {
                /* high frequency: kept */
            } else if (wl > low_wl) {
                f /= cfg->rope_factor;
            } else {
                double sm = (old / wl - lo) / (hi - lo);
                f = (1 - sm) * f / cfg->rope_factor + sm * f;
            }
        }
        inv_freq[i] = (float)f;
    }
}
#undef RL__TRY

/* ---- 4d. GGUF ---- */

#define RL__GGUF_MAGIC "GGUF"
#define RL__GGUF_MAX_DEPTH 8    /* nesting of arrays in arrays */
#define RL__GGUF_MAX_NAME 64    /* tensor names are shorter (llama.cpp GGML_MAX_NAME) */

/* ---- little-endian loads/stores (any host, any alignment) ---- */
static uint16_t rl__le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rl__le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rl__le64(const unsigned char *p) { return (uint64_t)rl__le32(p) | ((uint64_t)rl__le32(p + 4) << 32); }
static float rl__lef32(const unsigned char *p) {
    uint32_t u = rl__le32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static double rl__lef64(const unsigned char *p) {
    uint64_t u = rl__le64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}
static int rl__little_endian(void) {
    uint16_t x = 1;
    unsigned char c;
    memcpy(&c, &x, 1);
    return c == 1;
}
static void rl__st_le(unsigned char *b, uint64_t v, int n) {
    int i;
    for (i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* ---- ggml type table (block size in elements, bytes per block) ---- */
typedef struct rl__ggml_info {
    int type;
    const char *name;
    int block, size;
} rl__ggml_info;

static const rl__ggml_info rl__ggml_types[] = {
    {0, "F32", 1, 4},        {1, "F16", 1, 2},        {2, "Q4_0", 32, 18},     {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},     {8, "Q8_0", 32, 34},     {9, "Q8_1", 32, 40},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},  {12, "Q4_K", 256, 144},  {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},  {16, "IQ2_XXS", 256, 66},{17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98},{19, "IQ1_S", 256, 50},  {20, "IQ4_NL", 32, 18},  {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},  {23, "IQ4_XS", 256, 136},{24, "I8", 1, 1},        {25, "I16", 1, 2},
    {26, "I32", 1, 4},       {27, "I64", 1, 8},       {28, "F64", 1, 8},       {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},      {34, "TQ1_0", 256, 54},  {35, "TQ2_0", 256, 66},  {39, "MXFP4", 32, 17},
    {40, "NVFP4", 64, 36},   {41, "Q1_0", 128, 18},
};

static const rl__ggml_info *rl__ggml_find(int type) {
    size_t i;
    for (i = 0; i < sizeof rl__ggml_types / sizeof rl__ggml_types[0]; i++)
        if (rl__ggml_types[i].type == type) return &rl__ggml_types[i];
    return NULL;
}

const char *rl_ggml_type_name(int type) {
    const rl__ggml_info *t = rl__ggml_find(type);
    return t ? t->name : "unknown";
}

int rl_ggml_type_size(int type, int64_t *block_size, int64_t *type_size) {
    const rl__ggml_info *t = rl__ggml_find(type);
    if (!t) return 0;
    if (block_size) *block_size = t->block;
    if (type_size) *type_size = t->size;
    return 1;
}

const char *rl_gguf_type_name(rl_gguf_type t) {
    static const char *const names[] = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
                                        "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};
    return (unsigned)t < 13 ? names[t] : "unknown";
}

/* bytes of one scalar of a metadata type; 0 for STRING/ARRAY/unknown */
static int rl__gguf_scalar_size(int t) {
    static const int sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (t >= 0 && t < 13) ? sz[t] : 0;
}

static int rl__gguf_signed(int t) { return t == RL_GGUF_INT8 || t == RL_GGUF_INT16 || t == RL_GGUF_INT32 || t == RL_GGUF_INT64; }

/* ---- dequantization (block layouts of ggml-common.h / ggml-quants.c) ----
   Products and sums are separate statements so that no compiler fuses them into an
   FMA: the results then equal gguf-py's numpy formulas bit for bit. */

static float rl__h2f(const unsigned char *p) { return rl_f16_to_f32(rl__le16(p)); }

/* Q4_0, 32 elements in 18 bytes: f16 d, then 16 bytes; element j is the low nibble of
   byte j, element j+16 the high nibble; value (q - 8)·d. */
static void rl__deq_q4_0(const unsigned char *b, float *y) {
    float d = rl__h2f(b);
    int j;
    for (j = 0; j < 16; j++) {
        y[j] = (float)((b[2 + j] & 15) - 8) * d;
        y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
    }
}
/* Q4_1, 20 bytes: f16 d, f16 m, nibbles as Q4_0; value q·d + m. */
static void rl__deq_q4_1(const unsigned char *b, float *y) {
    float d = rl__h2f(b), m = rl__h2f(b + 2), t;
    int j;
    for (j = 0; j < 16; j++) {
        t = (float)(b[4 + j] & 15) * d;
        y[j] = t + m;
        t = (float)(b[4 + j] >> 4) * d;
        y[j + 16] = t + m;
    }
}
/* Q5_0, 22 bytes: f16 d, u32 of fifth bits (bit j belongs to element j), nibbles as
   Q4_0; value (q - 16)·d. */
static void rl__deq_q5_0(const unsigned char *b, float *y) {
    float d = rl__h2f(b);
    uint32_t qh = rl__le32(b + 2);
    int j;
    for (j = 0; j < 16; j++) {
        int lo = (b[6 + j] & 15) | (int)(((qh >> j) & 1u) << 4);
        int hi = (b[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        y[j] = (float)(lo - 16) * d;
        y[j + 16] = (float)(hi - 16) * d;
    }
}
/* Q5_1, 24 bytes: f16 d, f16 m, u32 fifth bits, nibbles; value q·d + m. */
static void rl__deq_q5_1(const unsigned char *b, float *y) {
    float d = rl__h2f(b), m = rl__h2f(b + 2), t;
    uint32_t qh = rl__le32(b + 4);
    int j;
    for (j = 0; j < 16; j++) {
        int lo = (b[8 + j] & 15) | (int)(((qh >> j) & 1u) << 4);
        int hi = (b[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        t = (float)lo * d;
        y[j] = t + m;
        t = (float)hi * d;
        y[j + 16] = t + m;
    }
}
/* Q8_0, 34 bytes: f16 d, 32 int8; value q·d. */
static void rl__deq_q8_0(const unsigned char *b, float *y) {
    float d = rl__h2f(b);
    int j;
    for (j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}
/* The 8 six-bit (scale, min) pairs of a Q4_K/Q5_K super-block, packed in 12 bytes:
   bytes 0-3 hold scales 0-3 (low 6 bits) and, in their top 2 bits, the high bits of
   scales 4-7; bytes 4-7 the same for the mins; bytes 8-11 the low 4 bits of scale 4-7
   (low nibble) and of min 4-7 (high nibble). */
static void rl__kq_scale_min(const unsigned char *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
/* Q4_K, 256 elements (8 sub-blocks of 32) in 144 bytes: f16 d, f16 dmin, 12 bytes of
   scales/mins, 128 bytes of nibbles; bytes 32p..32p+31 hold sub-block 2p in their low
   nibbles and sub-block 2p+1 in their high nibbles. Value (d·sc)·q - dmin·m. */
static void rl__deq_q4_k(const unsigned char *b, float *y) {
    float d = rl__h2f(b), dmin = rl__h2f(b + 2), t;
    const unsigned char *sc = b + 4, *qs = b + 16;
    int p, l, s0, m0, s1, m1;
    for (p = 0; p < 4; p++) {
        float d0, mm0, d1, mm1;
        rl__kq_scale_min(sc, 2 * p, &s0, &m0);
        rl__kq_scale_min(sc, 2 * p + 1, &s1, &m1);
        d0 = d * (float)s0;
        mm0 = dmin * (float)m0;
        d1 = d * (float)s1;
        mm1 = dmin * (float)m1;
        for (l = 0; l < 32; l++) {
            t = d0 * (float)(qs[32 * p + l] & 15);
            y[64 * p + l] = t - mm0;
            t = d1 * (float)(qs[32 * p + l] >> 4);
            y[64 * p + 32 + l] = t - mm1;
        }
    }
}
/* Q5_K, 176 bytes: as Q4_K with 32 bytes of fifth bits between the scales and the
   nibbles: bit s of byte l is the fifth bit of element l of sub-block s. */
static void rl__deq_q5_k(const unsigned char *b, float *y) {
    float d = rl__h2f(b), dmin = rl__h2f(b + 2), t;
    const unsigned char *sc = b + 4, *qh = b + 16, *qs = b + 48;
    int p, l, s0, m0, s1, m1;
    for (p = 0; p < 4; p++) {
        float d0, mm0, d1, mm1;
        rl__kq_scale_min(sc, 2 * p, &s0, &m0);
        rl__kq_scale_min(sc, 2 * p + 1, &s1, &m1);
        d0 = d * (float)s0;
        mm0 = dmin * (float)m0;
        d1 = d * (float)s1;
        mm1 = dmin * (float)m1;
        for (l = 0; l < 32; l++) {
            int q0 = (qs[32 * p + l] & 15) | (((qh[l] >> (2 * p)) & 1) << 4);
            int q1 = (qs[32 * p + l] >> 4) | (((qh[l] >> (2 * p + 1)) & 1) << 4);
            t = d0 * (float)q0;
            y[64 * p + l] = t - mm0;
            t = d1 * (float)q1;
            y[64 * p + 32 + l] = t - mm1;
        }
    }
}
/* Q6_K, 256 elements in 210 bytes: 128 bytes of low nibbles, 64 bytes of 2-bit high
   parts, 16 int8 scales (one per 16 elements), f16 d. Each half of 128 elements uses 64
   low bytes and 32 high bytes: element 32k + l (k = 0..3, l = 0..31) takes the low
   (k < 2) or high (k >= 2) nibble of low byte l + 32·(k odd), and bits 2k, 2k+1 of high
   byte l. Value (d·scale)·(q - 32). */
static void rl__deq_q6_k(const unsigned char *b, float *y) {
    const unsigned char *ql = b, *qh = b + 128;
    const signed char *scales = (const signed char *)(b + 192);
    float d = rl__h2f(b + 208);
    int h, l, k;
    for (h = 0; h < 2; h++) {
        for (k = 0; k < 4; k++) {
            for (l = 0; l < 32; l++) {
                int lowbyte = ql[64 * h + l + ((k & 1) ? 32 : 0)];
                int nib = k < 2 ? (lowbyte & 15) : (lowbyte >> 4);
                int q = (nib | (((qh[32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
                float ds = d * (float)scales[8 * h + 2 * k + l / 16];
                y[128 * h + 32 * k + l] = ds * (float)q;
            }
        }
    }
}

int rl_ggml_can_dequantize(int type) {
    switch (type) {
    case RL_GGML_F32: case RL_GGML_F16: case RL_GGML_BF16: case RL_GGML_F64:
    case RL_GGML_Q4_0: case RL_GGML_Q4_1: case RL_GGML_Q5_0: case RL_GGML_Q5_1: case RL_GGML_Q8_0:
    case RL_GGML_Q4_K: case RL_GGML_Q5_K: case RL_GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

rl_status rl_ggml_dequantize(int type, const void *src, float *dst, int64_t n) {
    const unsigned char *s = (const unsigned char *)src;
    const rl__ggml_info *ti = rl__ggml_find(type);
    int64_t i, nb;
    void (*blk)(const unsigned char *, float *) = NULL;
    if (!ti) return rl__fail(RL_ERR_UNSUPPORTED, "dequantize: unknown ggml type %d", type);
    if (n < 0 || n % ti->block)
        return rl__fail(RL_ERR_ARG, "dequantize: %lld elements is not a whole number of %s blocks of %d", (long long)n, ti->name, ti->block);
    switch (type) {
    case RL_GGML_F32:
        if (rl__little_endian()) {
            if (n) memcpy(dst, src, (size_t)n * 4);
        } else {
            for (i = 0; i < n; i++) dst[i] = rl__lef32(s + 4 * i);
        }
        return RL_OK;
    case RL_GGML_F16:
        for (i = 0; i < n; i++) dst[i] = rl_f16_to_f32(rl__le16(s + 2 * i));
        return RL_OK;
    case RL_GGML_BF16:
        for (i = 0; i < n; i++) dst[i] = rl_bf16_to_f32(rl__le16(s + 2 * i));
        return RL_OK;
    case RL_GGML_F64:
        for (i = 0; i < n; i++) dst[i] = (float)rl__lef64(s + 8 * i);
        return RL_OK;
    case RL_GGML_Q4_0: blk = rl__deq_q4_0; break;
    case RL_GGML_Q4_1: blk = rl__deq_q4_1; break;
    case RL_GGML_Q5_0: blk = rl__deq_q5_0; break;
    case RL_GGML_Q5_1: blk = rl__deq_q5_1; break;
    case RL_GGML_Q8_0: blk = rl__deq_q8_0; break;
    case RL_GGML_Q4_K: blk = rl__deq_q4_k; break;
    case RL_GGML_Q5_K: blk = rl__deq_q5_k; break;
    case RL_GGML_Q6_K: blk = rl__deq_q6_k; break;
    default:
        return rl__fail(RL_ERR_UNSUPPORTED, "dequantize: ggml type %s is not supported (supported: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K)", ti->name);
    }
    nb = n / ti->block;
    for (i = 0; i < nb; i++) blk(s + i * ti->size, dst + i * ti->block);
    return RL_OK;
}

/* ---- reader ---- */

typedef struct rl__gguf_rd {
    rl_gguf *g;
    uint64_t pos;
} rl__gguf_rd;

/* NUL-terminated copy of a string of the file, from a bump pool carved out of the arena
   (so 100k short vocabulary strings cost their bytes, not an arena block each). */
static char *rl__gguf_strdup(rl_gguf *g, const unsigned char *src, uint64_t len) {
    char *p;
    size_t need;
    if (len >= (uint64_t)(SIZE_MAX / 4)) return NULL;
    need = (size_t)len + 1;
    if (need > g->pool_left_) {
        size_t chunk = need > 65536 ? need : 65536;
        g->pool_ = (char *)rl_arena_alloc(&g->arena_, chunk);
        if (!g->pool_) {
            g->pool_left_ = 0;
            return NULL;
        }
        g->pool_left_ = chunk;
    }
    p = g->pool_;
    g->pool_ += need;
    g->pool_left_ -= need;
    if (len) memcpy(p, src, (size_t)len);
    p[len] = 0;
    return p;
}

/* zeroed array of count elements from the arena; NULL if too large or out of memory */
static void *rl__gguf_alloc(rl_gguf *g, uint64_t count, size_t elem) {
    size_t bytes;
    if (count > (uint64_t)(SIZE_MAX / 4) / elem) return NULL;
    bytes = (size_t)count * elem;
    return rl_arena_zalloc(&g->arena_, bytes ? bytes : 1);
}

/* what the parser is reading, for messages: "key 'x'", "tensor 'y'", "tensor info #3" */
typedef struct rl__gguf_ctx {
    const char *what;
    const char *name; /* NULL before the name is known */
    int64_t index;
} rl__gguf_ctx;

static const char *rl__gguf_where(const rl__gguf_ctx *c, char *buf, size_t cap) {
    if (c->name) snprintf(buf, cap, "%s '%s'", c->what, c->name);
    else snprintf(buf, cap, "%s #%lld", c->what, (long long)c->index);
    return buf;
}

static rl_status rl__gguf_need(rl__gguf_rd *r, uint64_t n, const rl__gguf_ctx *c, const char *field) {
    char w[200];
    if (n > r->g->size - r->pos)
        return rl__fail(RL_ERR_FORMAT, "%s: truncated: %s: %s needs %llu bytes at offset %llu but the file has %llu bytes",
                        r->g->path, rl__gguf_where(c, w, sizeof w), field, (unsigned long long)n,
                        (unsigned long long)r->pos, (unsigned long long)r->g->size);
    return RL_OK;
}

/* a GGUF string (u64 length + bytes) -> NUL-terminated copy */
static rl_status rl__gguf_read_str(rl__gguf_rd *r, rl_gguf_str *out, const rl__gguf_ctx *c, const char *field) {
    uint64_t len;
    char w[200];
    rl_status s = rl__gguf_need(r, 8, c, field);
    if (s) return s;
    len = rl__le64(r->g->base + r->pos);
    r->pos += 8;
    if (len > r->g->size - r->pos)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: %s: string length %llu at offset %llu runs past the end of the file (size %llu)",
                        r->g->path, rl__gguf_where(c, w, sizeof w), field, (unsigned long long)len,
                        (unsigned long long)(r->pos - 8), (unsigned long long)r->g->size);
    out->s = rl__gguf_strdup(r->g, r->g->base + r->pos, len);
    if (!out->s) return rl__fail(RL_ERR_NOMEM, "%s: out of memory reading strings", r->g->path);
    out->len = len;
    r->pos += len;
    return RL_OK;
}

/* widen a scalar at p of type t into v */
static void rl__gguf_scalar(rl_gguf_value *v, int t, const unsigned char *p) {
    v->type = (rl_gguf_type)t;
    switch (t) {
    case RL_GGUF_UINT8: v->u = p[0]; break;
    case RL_GGUF_INT8: v->i = (int8_t)p[0]; break;
    case RL_GGUF_UINT16: v->u = rl__le16(p); break;
    case RL_GGUF_INT16: v->i = (int16_t)rl__le16(p); break;
    case RL_GGUF_UINT32: v->u = rl__le32(p); break;
    case RL_GGUF_INT32: v->i = (int32_t)rl__le32(p); break;
    case RL_GGUF_BOOL: v->u = p[0]; break;
    case RL_GGUF_UINT64: v->u = rl__le64(p); break;
    case RL_GGUF_INT64: v->i = (int64_t)rl__le64(p); break;
    case RL_GGUF_FLOAT32: v->f = rl__lef32(p); return;
    case RL_GGUF_FLOAT64: v->f = rl__lef64(p); return;
    default: return;
    }
    if (rl__gguf_signed(t)) {
        v->u = v->i >= 0 ? (uint64_t)v->i : 0;
        v->f = (double)v->i;
    } else {
        v->i = v->u <= (uint64_t)INT64_MAX ? (int64_t)v->u : INT64_MAX;
        v->f = (double)v->u;
    }
}

static rl_status rl__gguf_read_value(rl__gguf_rd *r, rl_gguf_value *v, uint32_t type, int depth, const rl__gguf_ctx *c) {
    char w[200];
    rl_gguf *g = r->g;
    rl_status s;
    int sz = rl__gguf_scalar_size((int)type);
    v->type = (rl_gguf_type)type;
    if (sz) {
        if ((s = rl__gguf_need(r, (uint64_t)sz, c, rl_gguf_type_name((rl_gguf_type)type)))) return s;
        if (type == RL_GGUF_BOOL && g->base[r->pos] > 1)
            return rl__fail(RL_ERR_FORMAT, "%s: %s: BOOL value %u at offset %llu is neither 0 nor 1", g->path,
                            rl__gguf_where(c, w, sizeof w), g->base[r->pos], (unsigned long long)r->pos);
        rl__gguf_scalar(v, (int)type, g->base + r->pos);
        r->pos += (uint64_t)sz;
        return RL_OK;
    }
    if (type == RL_GGUF_STRING) return rl__gguf_read_str(r, &v->str, c, "STRING value");
    if (type == RL_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n, i, left;
        int esz;
        if (depth >= RL__GGUF_MAX_DEPTH)
            return rl__fail(RL_ERR_FORMAT, "%s: %s: arrays nested more than %d deep", g->path, rl__gguf_where(c, w, sizeof w), RL__GGUF_MAX_DEPTH);
        if ((s = rl__gguf_need(r, 12, c, "ARRAY header"))) return s;
        et = rl__le32(g->base + r->pos);
        n = rl__le64(g->base + r->pos + 4);
        r->pos += 12;
        if (et > RL_GGUF_FLOAT64)
            return rl__fail(RL_ERR_FORMAT, "%s: %s: array element type %u is not a GGUF value type (0..12)", g->path, rl__gguf_where(c, w, sizeof w), et);
        v->elem_type = (rl_gguf_type)et;
        v->n = n;
        left = g->size - r->pos;
        esz = rl__gguf_scalar_size((int)et);
        /* the smallest an element can be: a scalar's size, a string's length field, an array's header */
        if (n > left / (uint64_t)(esz ? esz : et == RL_GGUF_STRING ? 8 : 12))
            return rl__fail(RL_ERR_FORMAT, "%s: %s: array of %llu %s elements cannot fit in the %llu bytes left in the file",
                            g->path, rl__gguf_where(c, w, sizeof w), (unsigned long long)n, rl_gguf_type_name((rl_gguf_type)et),
                            (unsigned long long)left);
        if (esz) {
            v->raw = g->base + r->pos;
            if (et == RL_GGUF_BOOL)
                for (i = 0; i < n; i++)
                    if (v->raw[i] > 1)
                        return rl__fail(RL_ERR_FORMAT, "%s: %s: element %llu: BOOL value %u is neither 0 nor 1", g->path,
                                        rl__gguf_where(c, w, sizeof w), (unsigned long long)i, v->raw[i]);
            r->pos += n * (uint64_t)esz;
            return RL_OK;
        }
        if (et == RL_GGUF_STRING) {
            v->strs = (rl_gguf_str *)rl__gguf_alloc(g, n, sizeof(rl_gguf_str));
            if (!v->strs) return rl__fail(RL_ERR_NOMEM, "%s: %s: out of memory for %llu strings", g->path, rl__gguf_where(c, w, sizeof w), (unsigned long long)n);
            for (i = 0; i < n; i++) {
                char field[64];
                snprintf(field, sizeof field, "element %llu", (unsigned long long)i);
                if ((s = rl__gguf_read_str(r, &v->strs[i], c, field))) return s;
            }
            return RL_OK;
        }
        v->elems = (rl_gguf_value *)rl__gguf_alloc(g, n, sizeof(rl_gguf_value));
        if (!v->elems) return rl__fail(RL_ERR_NOMEM, "%s: %s: out of memory for %llu arrays", g->path, rl__gguf_where(c, w, sizeof w), (unsigned long long)n);
        for (i = 0; i < n; i++)
            if ((s = rl__gguf_read_value(r, &v->elems[i], RL_GGUF_ARRAY, depth + 1, c))) return s;
        return RL_OK;
    }
    return rl__fail(RL_ERR_FORMAT, "%s: %s: value type %u is not a GGUF value type (0..12)", g->path, rl__gguf_where(c, w, sizeof w), type);
}

/* a bottom-up merge sort of indices (qsort has no context pointer) */
typedef int (*rl__gguf_cmp)(const rl_gguf *g, int64_t a, int64_t b);
static int rl__gguf_cmp_key(const rl_gguf *g, int64_t a, int64_t b) { return strcmp(g->kv[a].key, g->kv[b].key); }
static int rl__gguf_cmp_name(const rl_gguf *g, int64_t a, int64_t b) { return strcmp(g->tensors[a].name, g->tensors[b].name); }
static int rl__gguf_cmp_off(const rl_gguf *g, int64_t a, int64_t b) {
    uint64_t x = g->tensors[a].offset, y = g->tensors[b].offset;
    return x < y ? -1 : x > y ? 1 : (a < b ? -1 : a > b);
}
static void rl__gguf_sort(const rl_gguf *g, int64_t *idx, int64_t *tmp, int64_t n, rl__gguf_cmp cmp) {
    int64_t w, i, lo, mid, hi, a, b, k;
    for (w = 1; w < n; w *= 2) {
        for (lo = 0; lo < n; lo += 2 * w) {
            mid = RL__MIN(lo + w, n);
            hi = RL__MIN(lo + 2 * w, n);
            a = lo, b = mid, k = lo;
            while (a < mid && b < hi) tmp[k++] = cmp(g, idx[a], idx[b]) <= 0 ? idx[a++] : idx[b++];
            while (a < mid) tmp[k++] = idx[a++];
            while (b < hi) tmp[k++] = idx[b++];
        }
        for (i = 0; i < n; i++) idx[i] = tmp[i];
    }
}

static rl_status rl__gguf_parse(rl_gguf *g) {
    rl__gguf_rd r;
    rl__gguf_ctx c;
    rl_status s;
    uint64_t n_tensors, n_kv, left, avail;
    int64_t i, *tmp, *idx, prev;
    const rl_gguf_kv *al;
    r.g = g;
    r.pos = 0;
    c.what = "header";
    c.name = "header";
    c.index = 0;
    if (g->size < 4 || memcmp(g->base, RL__GGUF_MAGIC, 4) != 0) {
        unsigned char m[4] = {0, 0, 0, 0};
        memcpy(m, g->base, (size_t)RL__MIN(g->size, (uint64_t)4));
        if (g->size < 4 && memcmp(g->base, RL__GGUF_MAGIC, (size_t)g->size) == 0)
            return rl__fail(RL_ERR_FORMAT, "%s: truncated: %llu bytes, a GGUF header is 24 bytes", g->path, (unsigned long long)g->size);
        return rl__fail(RL_ERR_FORMAT, "%s: not a GGUF file: magic bytes %02x %02x %02x %02x, expected 47 47 55 46 (\"GGUF\")",
                        g->path, m[0], m[1], m[2], m[3]);
    }
    if ((s = rl__gguf_need(&r, 24, &c, "the 24-byte header"))) return s;
    g->version = rl__le32(g->base + 4);
    if (g->version != 2 && g->version != 3) {
        if (g->version >= 0x10000 && (g->version & 0xffff) == 0)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: GGUF version field 0x%08x looks byte-swapped: big-endian GGUF files are not supported",
                            g->path, g->version);
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (this reader handles versions 2 and 3)", g->path, g->version);
    }
    n_tensors = rl__le64(g->base + 8);
    n_kv = rl__le64(g->base + 16);
    r.pos = 24;
    left = g->size - 24;
    /* a key-value pair takes at least 13 bytes (8 key length + 1 key byte + 4 type),
       a tensor info at least 25 (8 + 1 name byte + 4 n_dims + 4 type + 8 offset) */
    if (n_kv > left / 13 || n_tensors > left / 25 || n_kv * 13 + n_tensors * 25 > left)
        return rl__fail(RL_ERR_FORMAT, "%s: header counts %llu metadata entries and %llu tensors, which cannot fit in a file of %llu bytes",
                        g->path, (unsigned long long)n_kv, (unsigned long long)n_tensors, (unsigned long long)g->size);
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    g->kv = (rl_gguf_kv *)rl__gguf_alloc(g, n_kv + 1, sizeof(rl_gguf_kv));
    g->tensors = (rl_gguf_tensor *)rl__gguf_alloc(g, n_tensors + 1, sizeof(rl_gguf_tensor));
    g->kv_order_ = (int64_t *)rl__gguf_alloc(g, n_kv + 1, sizeof(int64_t));
    g->t_order_ = (int64_t *)rl__gguf_alloc(g, n_tensors + 1, sizeof(int64_t));
    tmp = (int64_t *)rl__gguf_alloc(g, RL__MAX(n_kv, n_tensors) + 1, sizeof(int64_t));
    idx = (int64_t *)rl__gguf_alloc(g, n_tensors + 1, sizeof(int64_t));
    if (!g->kv || !g->tensors || !g->kv_order_ || !g->t_order_ || !tmp || !idx) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", g->path);

    /* metadata */
    for (i = 0; i < g->n_kv; i++) {
        rl_gguf_str key;
        uint32_t type;
        c.what = "metadata entry";
        c.name = NULL;
        c.index = i;
        if ((s = rl__gguf_read_str(&r, &key, &c, "key"))) return s;
        if (key.len == 0) return rl__fail(RL_ERR_FORMAT, "%s: metadata entry #%lld has an empty key", g->path, (long long)i);
        if (strlen(key.s) != key.len) return rl__fail(RL_ERR_FORMAT, "%s: metadata entry #%lld: key contains a NUL byte", g->path, (long long)i);
        g->kv[i].key = key.s;
        c.what = "key";
        c.name = key.s;
        if ((s = rl__gguf_need(&r, 4, &c, "value type"))) return s;
        type = rl__le32(g->base + r.pos);
        r.pos += 4;
        if ((s = rl__gguf_read_value(&r, &g->kv[i].val, type, 0, &c))) return s;
    }
    for (i = 0; i < g->n_kv; i++) g->kv_order_[i] = i;
    rl__gguf_sort(g, g->kv_order_, tmp, g->n_kv, rl__gguf_cmp_key);
    for (i = 1; i < g->n_kv; i++)
        if (!strcmp(g->kv[g->kv_order_[i]].key, g->kv[g->kv_order_[i - 1]].key))
            return rl__fail(RL_ERR_FORMAT, "%s: key '%s' appears twice", g->path, g->kv[g->kv_order_[i]].key);
    g->alignment = 32;
    if ((al = rl_gguf_find(g, "general.alignment"))) {
        if (al->val.type != RL_GGUF_UINT32)
            return rl__fail(RL_ERR_FORMAT, "%s: key 'general.alignment' has type %s, expected UINT32", g->path, rl_gguf_type_name(al->val.type));
        if (al->val.u == 0 || (al->val.u & (al->val.u - 1)) != 0)
            return rl__fail(RL_ERR_FORMAT, "%s: key 'general.alignment' is %llu, which is not a power of two", g->path, (unsigned long long)al->val.u);
        g->alignment = (uint32_t)al->val.u;
    }

    /* tensor infos */
    for (i = 0; i < g->n_tensors; i++) {
        rl_gguf_tensor *t = &g->tensors[i];
        rl_gguf_str name;
        uint32_t nd, type;
        const rl__ggml_info *ti;
        int d;
        int64_t n = 1;
        c.what = "tensor info";
        c.name = NULL;
        c.index = i;
        if ((s = rl__gguf_read_str(&r, &name, &c, "name"))) return s;
        if (name.len == 0) return rl__fail(RL_ERR_FORMAT, "%s: tensor #%lld has an empty name", g->path, (long long)i);
        if (strlen(name.s) != name.len) return rl__fail(RL_ERR_FORMAT, "%s: tensor #%lld: name contains a NUL byte", g->path, (long long)i);
        if (name.len >= RL__GGUF_MAX_NAME)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%.40s...': name is %llu bytes, the limit is %d", g->path, name.s,
                            (unsigned long long)name.len, RL__GGUF_MAX_NAME - 1);
        t->name = name.s;
        c.what = "tensor";
        c.name = name.s;
        if ((s = rl__gguf_need(&r, 4, &c, "n_dims"))) return s;
        nd = rl__le32(g->base + r.pos);
        r.pos += 4;
        if (nd > 4) return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': %u dimensions, at most 4 are allowed", g->path, name.s, nd);
        t->n_dims = (int)nd;
        if ((s = rl__gguf_need(&r, 8 * (uint64_t)nd + 12, &c, "dims, type and offset"))) return s;
        for (d = 0; d < 4; d++) t->ne[d] = 1;
        for (d = 0; d < (int)nd; d++) {
            uint64_t e = rl__le64(g->base + r.pos + 8 * (uint64_t)d);
            if (e > (uint64_t)INT64_MAX)
                return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': dimension %d is %llu, too large", g->path, name.s, d, (unsigned long long)e);
            t->ne[d] = (int64_t)e;
        }
        for (d = 0; d < 4; d++)
            if (t->ne[d] == 0) n = 0;
        for (d = 0; d < 4 && n; d++) {
            if (n > INT64_MAX / t->ne[d])
                return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': dims [%lld, %lld, %lld, %lld] overflow the element count", g->path, name.s,
                                (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
            n *= t->ne[d];
        }
        t->n = n;
        r.pos += 8 * (uint64_t)nd;
        type = rl__le32(g->base + r.pos);
        t->offset = rl__le64(g->base + r.pos + 4);
        r.pos += 12;
        ti = rl__ggml_find((int)type);
        if (!ti) return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': unknown ggml type %u", g->path, name.s, type);
        t->type = (rl_ggml_type)type;
        if (t->ne[0] % ti->block)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': row length ne[0] = %lld is not a multiple of the %s block size %d", g->path,
                            name.s, (long long)t->ne[0], ti->name, ti->block);
        if ((uint64_t)(n / ti->block) > UINT64_MAX / (uint64_t)ti->size)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': byte size overflows", g->path, name.s);
        t->nbytes = (uint64_t)(n / ti->block) * (uint64_t)ti->size;
    }
    for (i = 0; i < g->n_tensors; i++) g->t_order_[i] = i;
    rl__gguf_sort(g, g->t_order_, tmp, g->n_tensors, rl__gguf_cmp_name);
    for (i = 1; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[g->t_order_[i]].name, g->tensors[g->t_order_[i - 1]].name))
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' appears twice", g->path, g->tensors[g->t_order_[i]].name);

    /* data section: starts at the next multiple of the alignment */
    g->data_offset = r.pos + (g->alignment - r.pos % g->alignment) % g->alignment;
    avail = g->data_offset <= g->size ? g->size - g->data_offset : 0;
    for (i = 0; i < g->n_tensors; i++) {
        rl_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': data offset %llu is not a multiple of the alignment %u", g->path, t->name,
                            (unsigned long long)t->offset, g->alignment);
        if (t->offset > avail || t->nbytes > avail - t->offset)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': data [%llu, %llu) of the data section (at file offset %llu) runs past the end of the file (size %llu)",
                            g->path, t->name, (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                            (unsigned long long)g->data_offset, (unsigned long long)g->size);
        t->data = g->base + g->data_offset + t->offset;
    }
    /* overlaps: sort by offset, compare each tensor with the previous one holding data */
    for (i = 0; i < g->n_tensors; i++) idx[i] = i;
    rl__gguf_sort(g, idx, tmp, g->n_tensors, rl__gguf_cmp_off);
    prev = -1;
    for (i = 0; i < g->n_tensors; i++) {
        const rl_gguf_tensor *t = &g->tensors[idx[i]];
        if (!t->nbytes) continue;
        if (prev >= 0) {
            const rl_gguf_tensor *p = &g->tensors[prev];
            if (p->offset + p->nbytes > t->offset)
                return rl__fail(RL_ERR_FORMAT, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap", g->path, p->name,
                                (unsigned long long)p->offset, (unsigned long long)(p->offset + p->nbytes), t->name,
                                (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes));
        }
        prev = idx[i];
    }
    return RL_OK;
}

static rl_status rl__gguf_start(rl_gguf *g, const char *name) {
    size_t len = strlen(name);
    rl_arena_init(&g->arena_, 1 << 16);
    g->path = (char *)rl_arena_alloc(&g->arena_, len + 1);
    if (!g->path) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", name);
    memcpy(g->path, name, len + 1);
    return RL_OK;
}

rl_status rl_gguf_open_memory(rl_gguf *g, const void *data, size_t size, const char *name) {
    rl_status s;
    static const unsigned char empty[4] = {0, 0, 0, 0};
    memset(g, 0, sizeof *g);
    if (!name) name = "(memory)";
    if ((s = rl__gguf_start(g, name))) return s;
    g->base = data ? (const unsigned char *)data : empty;
    g->size = data ? (uint64_t)size : 0;
    g->map_kind_ = 0;
    if ((s = rl__gguf_parse(g))) rl_gguf_close(g);
    return s;
}

rl_status rl_gguf_open(rl_gguf *g, const char *path) {
    rl_status s;
    memset(g, 0, sizeof *g);
    if (!path) return rl__fail(RL_ERR_ARG, "rl_gguf_open: path is NULL");
    if ((s = rl__gguf_start(g, path))) return s;
#if !defined(_WIN32)
    {
        struct stat st;
        int fd = open(path, O_RDONLY);
        void *map;
        if (fd < 0) {
            s = rl__fail(RL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            rl_gguf_close(g);
            return s;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            rl_gguf_close(g);
            return rl__fail(RL_ERR_IO, "%s: not a regular file", path);
        }
        if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
            close(fd);
            rl_gguf_close(g);
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: file of %llu bytes is too large to map", path, (unsigned long long)st.st_size);
        }
        if (st.st_size == 0) {
            close(fd);
            rl_gguf_close(g);
            return rl__fail(RL_ERR_FORMAT, "%s: empty file, not a GGUF file", path);
        }
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED) {
            s = rl__fail(RL_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
            rl_gguf_close(g);
            return s;
        }
        g->base = (const unsigned char *)map;
        g->size = (uint64_t)st.st_size;
        g->map_kind_ = 1;
    }
#else
    {
        FILE *f = fopen(path, "rb");
        long sz;
        unsigned char *buf;
        if (!f) {
            s = rl__fail(RL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            rl_gguf_close(g);
            return s;
        }
        if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            fclose(f);
            rl_gguf_close(g);
            return rl__fail(RL_ERR_IO, "%s: cannot determine the file size", path);
        }
        buf = (unsigned char *)RL_MALLOC((size_t)sz + 1);
        if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
            RL_FREE(buf);
            fclose(f);
            rl_gguf_close(g);
            return rl__fail(RL_ERR_IO, "%s: read failed", path);
        }
        fclose(f);
        g->base = buf;
        g->size = (uint64_t)sz;
        g->map_kind_ = 2;
    }
#endif
    if ((s = rl__gguf_parse(g))) rl_gguf_close(g);
    return s;
}

void rl_gguf_close(rl_gguf *g) {
    if (!g) return;
#if !defined(_WIN32)
    if (g->map_kind_ == 1 && g->base) munmap((void *)(uintptr_t)g->base, (size_t)g->size);
#endif
    if (g->map_kind_ == 2) RL_FREE((void *)(uintptr_t)g->base);
    rl_arena_free(&g->arena_);
    memset(g, 0, sizeof *g);
}

const rl_gguf_kv *rl_gguf_find(const rl_gguf *g, const char *key) {
    int64_t lo = 0, hi, mid;
    int c;
    if (!g || !key || !g->kv_order_) return NULL;
    hi = g->n_kv;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(g->kv[g->kv_order_[mid]].key, key);
        if (c == 0) return &g->kv[g->kv_order_[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const rl_gguf_tensor *rl_gguf_find_tensor(const rl_gguf *g, const char *name) {
    int64_t lo = 0, hi, mid;
    int c;
    if (!g || !name || !g->t_order_) return NULL;
    hi = g->n_tensors;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(g->tensors[g->t_order_[mid]].name, name);
        if (c == 0) return &g->tensors[g->t_order_[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static rl_status rl__gguf_get(const rl_gguf *g, const char *key, const rl_gguf_kv **kv) {
    *kv = rl_gguf_find(g, key);
    if (!*kv) return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is missing", g && g->path ? g->path : "(no file)", key ? key : "(null)");
    return RL_OK;
}

static int rl__gguf_is_int(rl_gguf_type t) {
    return t == RL_GGUF_UINT8 || t == RL_GGUF_INT8 || t == RL_GGUF_UINT16 || t == RL_GGUF_INT16 || t == RL_GGUF_UINT32 ||
           t == RL_GGUF_INT32 || t == RL_GGUF_UINT64 || t == RL_GGUF_INT64;
}

rl_status rl_gguf_get_int(const rl_gguf *g, const char *key, int64_t *out) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (!rl__gguf_is_int(kv->val.type))
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected an integer", g->path, key, rl_gguf_type_name(kv->val.type));
    if (kv->val.type == RL_GGUF_UINT64 && kv->val.u > (uint64_t)INT64_MAX)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is %llu, too large", g->path, key, (unsigned long long)kv->val.u);
    *out = kv->val.i;
    return RL_OK;
}

rl_status rl_gguf_get_float(const rl_gguf *g, const char *key, double *out) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_FLOAT32 && kv->val.type != RL_GGUF_FLOAT64)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected FLOAT32 or FLOAT64", g->path, key, rl_gguf_type_name(kv->val.type));
    *out = kv->val.f;
    return RL_OK;
}

rl_status rl_gguf_get_bool(const rl_gguf *g, const char *key, int *out) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_BOOL)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected BOOL", g->path, key, rl_gguf_type_name(kv->val.type));
    *out = kv->val.u != 0;
    return RL_OK;
}

rl_status rl_gguf_get_str(const rl_gguf *g, const char *key, const char **str, uint64_t *len) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_STRING)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected STRING", g->path, key, rl_gguf_type_name(kv->val.type));
    *str = kv->val.str.s;
    if (len) *len = kv->val.str.len;
    return RL_OK;
}

rl_status rl_gguf_get_array(const rl_gguf *g, const char *key, rl_gguf_type elem_type, const rl_gguf_value **arr) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_ARRAY)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected an ARRAY of %s", g->path, key, rl_gguf_type_name(kv->val.type),
                        rl_gguf_type_name(elem_type));
    if (kv->val.elem_type != elem_type)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is an ARRAY of %s, expected an ARRAY of %s", g->path, key,
                        rl_gguf_type_name(kv->val.elem_type), rl_gguf_type_name(elem_type));
    *arr = &kv->val;
    return RL_OK;
}

static rl_status rl__gguf_arr_elem(const rl_gguf_value *a, uint64_t i, rl_gguf_value *e) {
    int sz;
    if (!a || a->type != RL_GGUF_ARRAY || !(sz = rl__gguf_scalar_size(a->elem_type)))
        return rl__fail(RL_ERR_ARG, "gguf: not an array of numbers");
    if (i >= a->n) return rl__fail(RL_ERR_ARG, "gguf: array index %llu out of range (%llu elements)", (unsigned long long)i, (unsigned long long)a->n);
    memset(e, 0, sizeof *e);
    rl__gguf_scalar(e, a->elem_type, a->raw + i * (uint64_t)sz);
    return RL_OK;
}

rl_status rl_gguf_arr_int(const rl_gguf_value *a, uint64_t i, int64_t *out) {
    rl_gguf_value e;
    rl_status s = rl__gguf_arr_elem(a, i, &e);
    if (s) return s;
    if (e.type == RL_GGUF_FLOAT32 || e.type == RL_GGUF_FLOAT64) return rl__fail(RL_ERR_ARG, "gguf: array of %s read as integers", rl_gguf_type_name(e.type));
    *out = e.i;
    return RL_OK;
}

rl_status rl_gguf_arr_float(const rl_gguf_value *a, uint64_t i, double *out) {
    rl_gguf_value e;
    rl_status s = rl__gguf_arr_elem(a, i, &e);
    if (s) return s;
    *out = e.f;
    return RL_OK;
}

rl_status rl_gguf_tensor_f32(const rl_gguf *g, const rl_gguf_tensor *t, float *dst) {
    rl_status s;
    if (!rl_ggml_can_dequantize(t->type))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor '%s': ggml type %s cannot be converted to F32 (supported: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K)",
                        g->path, t->name, rl_ggml_type_name(t->type));
    if ((s = rl_ggml_dequantize(t->type, t->data, dst, t->n))) {
        char why[1024];
        snprintf(why, sizeof why, "%s", rl_last_error());
        return rl__fail(s, "%s: tensor '%s': %s", g->path, t->name, why);
    }
    return RL_OK;
}

int rl_gguf_tensor_shape(const rl_gguf_tensor *t, int64_t shape[4]) {
    int nd = t->n_dims < 1 ? 1 : t->n_dims, d;
    for (d = 0; d < 4; d++) shape[d] = 1;
    for (d = 0; d < nd; d++) shape[d] = t->ne[nd - 1 - d];
    return nd;
}

/* ---- Llama / Qwen2 ---- */

/* {arch}.suffix as an integer (or a per-layer array whose entries are all equal) */
static rl_status rl__gguf_hp_int(const rl_gguf *g, const char *arch, const char *suffix, int required, int64_t def, int64_t *out) {
    char key[128];
    const rl_gguf_kv *kv;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    kv = rl_gguf_find(g, key);
    if (!kv) {
        if (required) return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is missing (required for a %s model)", g->path, key, arch);
        *out = def;
        return RL_OK;
    }
    if (kv->val.type == RL_GGUF_ARRAY) {
        uint64_t i;
        int64_t first = 0, x = 0;
        if (!kv->val.n || !rl__gguf_is_int(kv->val.elem_type))
            return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is an ARRAY of %llu %s, expected an integer", g->path, key,
                            (unsigned long long)kv->val.n, rl_gguf_type_name(kv->val.elem_type));
        for (i = 0; i < kv->val.n; i++) {
            rl_gguf_arr_int(&kv->val, i, &x);
            if (i == 0) first = x;
            else if (x != first)
                return rl__fail(RL_ERR_UNSUPPORTED, "%s: key '%s' differs between layers (%lld and %lld); per-layer sizes are not supported",
                                g->path, key, (long long)first, (long long)x);
        }
        *out = first;
        return RL_OK;
    }
    return rl_gguf_get_int(g, key, out);
}

rl_status rl_gguf_llama_hparams_read(const rl_gguf *g, rl_gguf_llama_hparams *hp) {
    const char *arch;
    char key[128];
    rl_status s;
    const rl_gguf_kv *kv;
    const rl_gguf_tensor *emb;
    memset(hp, 0, sizeof *hp);
    if ((s = rl_gguf_get_str(g, "general.architecture", &arch, NULL))) return s;
    if (strcmp(arch, "llama") != 0 && strcmp(arch, "qwen2") != 0)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: general.architecture is '%s'; teachers must be 'llama' or 'qwen2'", g->path, arch);
    snprintf(hp->arch, sizeof hp->arch, "%s", arch);
    hp->qk_permuted = !strcmp(arch, "llama"); /* convert_hf_to_gguf permutes Q/K for LlamaModel only */
    if ((s = rl__gguf_hp_int(g, arch, "block_count", 1, 0, &hp->n_layers)) ||
        (s = rl__gguf_hp_int(g, arch, "embedding_length", 1, 0, &hp->hidden_size)) ||
        (s = rl__gguf_hp_int(g, arch, "feed_forward_length", 1, 0, &hp->intermediate_size)) ||
        (s = rl__gguf_hp_int(g, arch, "attention.head_count", 1, 0, &hp->n_heads)))
        return s;
    if ((s = rl__gguf_hp_int(g, arch, "attention.head_count_kv", 0, hp->n_heads, &hp->n_kv_heads)) ||
        (s = rl__gguf_hp_int(g, arch, "context_length", 0, 0, &hp->context_length)))
        return s;
    if (hp->n_layers <= 0 || hp->hidden_size <= 0 || hp->intermediate_size <= 0 || hp->n_heads <= 0 || hp->n_kv_heads <= 0 ||
        hp->n_layers > 100000 || hp->hidden_size > (1 << 24) || hp->intermediate_size > (1 << 26) || hp->n_heads > 65536)
        return rl__fail(RL_ERR_FORMAT, "%s: implausible sizes: %lld layers, hidden %lld, ffn %lld, %lld heads, %lld kv heads", g->path,
                        (long long)hp->n_layers, (long long)hp->hidden_size, (long long)hp->intermediate_size, (long long)hp->n_heads,
                        (long long)hp->n_kv_heads);
    if (hp->n_heads % hp->n_kv_heads)
        return rl__fail(RL_ERR_FORMAT, "%s: %lld attention heads is not a multiple of %lld kv heads", g->path, (long long)hp->n_heads, (long long)hp->n_kv_heads);
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    if (!rl_gguf_find(g, key) && hp->hidden_size % hp->n_heads)
        return rl__fail(RL_ERR_FORMAT, "%s: hidden size %lld is not a multiple of %lld heads", g->path, (long long)hp->hidden_size, (long long)hp->n_heads);
    if ((s = rl__gguf_hp_int(g, arch, "attention.key_length", 0, hp->hidden_size / hp->n_heads, &hp->head_dim))) return s;
    if (hp->head_dim <= 0 || hp->head_dim % 2 || hp->head_dim > 65536)
        return rl__fail(RL_ERR_FORMAT, "%s: head size %lld must be positive and even", g->path, (long long)hp->head_dim);
    if ((s = rl__gguf_hp_int(g, arch, "rope.dimension_count", 0, hp->head_dim, &hp->rope_dim))) return s;
    if (hp->rope_dim != hp->head_dim)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: partial RoPE (rope.dimension_count %lld, head size %lld) is not supported", g->path,
                        (long long)hp->rope_dim, (long long)hp->head_dim);
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    hp->rope_theta = 10000.0;
    if (rl_gguf_find(g, key) && (s = rl_gguf_get_float(g, key, &hp->rope_theta))) return s;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if ((s = rl_gguf_get_float(g, key, &hp->rms_norm_eps))) return s;
    if (!(hp->rms_norm_eps > 0) || !(hp->rope_theta > 0))
        return rl__fail(RL_ERR_FORMAT, "%s: rms epsilon %g and rope base %g must be positive", g->path, hp->rms_norm_eps, hp->rope_theta);
    emb = rl_gguf_find_tensor(g, "token_embd.weight");
    if ((kv = rl_gguf_find(g, "tokenizer.ggml.tokens")) && kv->val.type == RL_GGUF_ARRAY) {
        hp->vocab_size = (int64_t)kv->val.n;
    } else {
        snprintf(key, sizeof key, "%s.vocab_size", arch);
        if (rl_gguf_find(g, key)) {
            if ((s = rl_gguf_get_int(g, key, &hp->vocab_size))) return s;
        } else if (emb) {
            hp->vocab_size = emb->ne[1];
        }
    }
    if (hp->vocab_size <= 0)
        return rl__fail(RL_ERR_FORMAT, "%s: vocabulary size unknown (no tokenizer.ggml.tokens, %s.vocab_size or token_embd.weight)", g->path, arch);
    if (!emb) return rl__fail(RL_ERR_FORMAT, "%s: tensor 'token_embd.weight' is missing", g->path);
    if (emb->ne[1] != hp->vocab_size)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor 'token_embd.weight' has %lld rows but the vocabulary has %lld tokens", g->path,
                        (long long)emb->ne[1], (long long)hp->vocab_size);
    hp->tie_word_embeddings = rl_gguf_find_tensor(g, "output.weight") == NULL;
    hp->has_rope_freqs = rl_gguf_find_tensor(g, "rope_freqs.weight") != NULL;
    hp->attn_bias = rl_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    hp->o_bias = rl_gguf_find_tensor(g, "blk.0.attn_output.bias") != NULL;
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (rl_gguf_find(g, key)) {
        const char *st;
        if ((s = rl_gguf_get_str(g, key, &st, NULL))) return s;
        snprintf(hp->rope_scaling_type, sizeof hp->rope_scaling_type, "%s", st);
    }
    snprintf(key, sizeof key, "%s.rope.scaling.factor", arch);
    if (rl_gguf_find(g, key) && (s = rl_gguf_get_float(g, key, &hp->rope_scaling_factor))) return s;
    if ((s = rl__gguf_hp_int(g, arch, "rope.scaling.original_context_length", 0, 0, &hp->rope_scaling_orig_ctx))) return s;
    return RL_OK;
}

/* GGUF per-layer suffix -> HF per-layer suffix (gguf-py tensor_mapping.py, llama arch) */
static const char *const rl__gguf_layer_names[][2] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};

/* layer index and suffix of "blk.N.suffix"; -1 if not a layer tensor */
static int64_t rl__gguf_layer(const char *name, const char **suffix) {
    const char *p = name + 4;
    int64_t n = 0;
    if (strncmp(name, "blk.", 4) != 0 || *p < '0' || *p > '9') return -1;
    if (*p == '0' && p[1] != '.') return -1; /* no leading zeros */
    while (*p >= '0' && *p <= '9') {
        if (n > 100000000) return -1;
        n = n * 10 + (*p++ - '0');
    }
    if (*p != '.') return -1;
    *suffix = p + 1;
    return n;
}

rl_status rl_gguf_hf_name(const char *gname, char *out, size_t cap) {
    const char *suffix = NULL, *hf = NULL;
    int64_t layer;
    size_t i;
    int len = -1;
    if (!strcmp(gname, "token_embd.weight")) hf = "model.embed_tokens.weight";
    else if (!strcmp(gname, "output_norm.weight")) hf = "model.norm.weight";
    else if (!strcmp(gname, "output.weight")) hf = "lm_head.weight";
    if (hf) {
        len = snprintf(out, cap, "%s", hf);
    } else if ((layer = rl__gguf_layer(gname, &suffix)) >= 0) {
        for (i = 0; i < sizeof rl__gguf_layer_names / sizeof rl__gguf_layer_names[0]; i++)
            if (!strcmp(suffix, rl__gguf_layer_names[i][0])) {
                len = snprintf(out, cap, "model.layers.%lld.%s", (long long)layer, rl__gguf_layer_names[i][1]);
                break;
            }
    }
    if (len < 0) return rl__fail(RL_ERR_UNSUPPORTED, "tensor '%s' has no Hugging Face counterpart", gname);
    if ((size_t)len >= cap) return rl__fail(RL_ERR_ARG, "tensor '%s': name buffer of %zu bytes too small", gname, cap);
    return RL_OK;
}

/* convert_hf_to_gguf.py LlamaModel.permute: the rows of each head, viewed as [2][half],
   are transposed to [half][2]; so GGUF row 2i + j of a head holds HF row j·half + i. */
static rl_status rl__gguf_permute(float *w, int64_t rows, int64_t cols, int64_t n_heads, int inverse) {
    int64_t hd, half, h, i, j;
    float *tmp;
    if (n_heads <= 0 || rows <= 0 || rows % n_heads || (rows / n_heads) % 2 || cols <= 0)
        return rl__fail(RL_ERR_ARG, "Q/K permute: %lld rows do not split into %lld heads of even size", (long long)rows, (long long)n_heads);
    hd = rows / n_heads;
    half = hd / 2;
    if ((uint64_t)hd * (uint64_t)cols > SIZE_MAX / sizeof(float)) return rl__fail(RL_ERR_NOMEM, "Q/K permute: head too large");
    tmp = (float *)RL_MALLOC((size_t)(hd * cols) * sizeof(float));
    if (!tmp) return rl__fail(RL_ERR_NOMEM, "Q/K permute: out of memory");
    for (h = 0; h < n_heads; h++) {
        float *head = w + h * hd * cols;
        for (i = 0; i < half; i++)
            for (j = 0; j < 2; j++) {
                int64_t g_row = 2 * i + j, hf_row = j * half + i;
                int64_t dst = inverse ? hf_row : g_row, src = inverse ? g_row : hf_row;
                memcpy(tmp + dst * cols, head + src * cols, (size_t)cols * sizeof(float));
            }
        memcpy(head, tmp, (size_t)(hd * cols) * sizeof(float));
    }
    RL_FREE(tmp);
    return RL_OK;
}

rl_status rl_gguf_permute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads) { return rl__gguf_permute(w, rows, cols, n_heads, 0); }
rl_status rl_gguf_unpermute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads) { return rl__gguf_permute(w, rows, cols, n_heads, 1); }

/* expected row-major shape of the HF tensor of a GGUF name; returns ndim, 0 if unknown */
static int rl__gguf_expect(const rl_gguf_llama_hparams *hp, const char *gname, int64_t shape[2]) {
    const char *suf = NULL;
    int64_t C = hp->hidden_size, qd = hp->n_heads * hp->head_dim, kd = hp->n_kv_heads * hp->head_dim, F = hp->intermediate_size;
    shape[0] = shape[1] = 1;
    if (!strcmp(gname, "token_embd.weight") || !strcmp(gname, "output.weight")) {
        shape[0] = hp->vocab_size;
        shape[1] = C;
        return 2;
    }
    if (!strcmp(gname, "output_norm.weight")) {
        shape[0] = C;
        return 1;
    }
    if (rl__gguf_layer(gname, &suf) < 0) return 0;
    if (!strcmp(suf, "attn_norm.weight") || !strcmp(suf, "ffn_norm.weight") || !strcmp(suf, "attn_output.bias")) shape[0] = C;
    else if (!strcmp(suf, "attn_q.bias")) shape[0] = qd;
    else if (!strcmp(suf, "attn_k.bias") || !strcmp(suf, "attn_v.bias")) shape[0] = kd;
    else {
        if (!strcmp(suf, "attn_q.weight")) shape[0] = qd, shape[1] = C;
        else if (!strcmp(suf, "attn_k.weight") || !strcmp(suf, "attn_v.weight")) shape[0] = kd, shape[1] = C;
        else if (!strcmp(suf, "attn_output.weight")) shape[0] = C, shape[1] = qd;
        else if (!strcmp(suf, "ffn_gate.weight") || !strcmp(suf, "ffn_up.weight")) shape[0] = F, shape[1] = C;
        else if (!strcmp(suf, "ffn_down.weight")) shape[0] = C, shape[1] = F;
        else return 0;
        return 2;
    }
    return 1;
}

rl_status rl_gguf_llama_tensors(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_gguf_tensor_fn fn, void *user) {
    int64_t i, maxn = 1;
    float *buf;
    rl_status s = RL_OK;
    for (i = 0; i < g->n_tensors; i++) maxn = RL__MAX(maxn, g->tensors[i].n);
    if ((uint64_t)maxn > SIZE_MAX / sizeof(float)) return rl__fail(RL_ERR_NOMEM, "%s: tensor too large", g->path);
    buf = (float *)RL_MALLOC((size_t)maxn * sizeof(float));
    if (!buf) return rl__fail(RL_ERR_NOMEM, "%s: out of memory for a %lld-element tensor", g->path, (long long)maxn);
    for (i = 0; i < g->n_tensors && !s; i++) {
        const rl_gguf_tensor *t = &g->tensors[i];
        char hf[160];
        const char *suf = "";
        int64_t shape[4], want[2], layer;
        int nd = rl_gguf_tensor_shape(t, shape), wnd = 0, mapped = rl_gguf_hf_name(t->name, hf, sizeof hf) == RL_OK;
        if (!mapped && !rl_ggml_can_dequantize(t->type)) { /* not ours and not convertible: data NULL */
            s = fn(user, NULL, t, nd, shape, NULL);
            continue;
        }
        layer = rl__gguf_layer(t->name, &suf);
        if (layer >= hp->n_layers) {
            s = rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': layer %lld but the model has %lld layers", g->path, t->name, (long long)layer,
                         (long long)hp->n_layers);
            break;
        }
        if (mapped) {
            wnd = rl__gguf_expect(hp, t->name, want);
            while (nd > wnd && shape[0] == 1) { /* ggml dims of 1 beyond the HF ones */
                memmove(shape, shape + 1, 3 * sizeof(int64_t));
                shape[3] = 1;
                nd--;
            }
            if (nd != wnd || want[0] != shape[0] || (wnd == 2 && want[1] != shape[1])) {
                s = rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' (%s) has shape [%lld, %lld] (ne reversed), expected [%lld, %lld]", g->path, t->name, hf,
                             (long long)shape[0], nd > 1 ? (long long)shape[1] : 1LL, (long long)want[0], (long long)want[1]);
                break;
            }
        }
        if ((s = rl_gguf_tensor_f32(g, t, buf))) break;
        if (mapped && hp->qk_permuted && layer >= 0) {
            int64_t cols = nd == 2 ? shape[1] : 1;
            if (!strcmp(suf, "attn_q.weight") || !strcmp(suf, "attn_q.bias")) s = rl_gguf_unpermute_qk(buf, shape[0], cols, hp->n_heads);
            else if (!strcmp(suf, "attn_k.weight") || !strcmp(suf, "attn_k.bias")) s = rl_gguf_unpermute_qk(buf, shape[0], cols, hp->n_kv_heads);
            if (s) break;
        }
        s = fn(user, mapped ? hf : NULL, t, nd, shape, buf);
    }
    RL_FREE(buf);
    return s;
}

/* ---- tokenizer arrays ---- */

static rl_status rl__gguf_opt_id(const rl_gguf *g, const char *key, int64_t n_tokens, int64_t *out) {
    rl_status s;
    *out = -1;
    if (!rl_gguf_find(g, key)) return RL_OK;
    if ((s = rl_gguf_get_int(g, key, out))) return s;
    if (*out < 0 || *out >= n_tokens)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is %lld, outside the vocabulary of %lld tokens", g->path, key, (long long)*out, (long long)n_tokens);
    return RL_OK;
}

static rl_status rl__gguf_opt_bool(const rl_gguf *g, const char *key, int *out) {
    *out = -1;
    if (!rl_gguf_find(g, key)) return RL_OK;
    return rl_gguf_get_bool(g, key, out);
}

rl_status rl_gguf_vocab_read(const rl_gguf *g, rl_gguf_vocab *v) {
    const rl_gguf_value *a;
    rl_status s;
    int64_t i;
    uint64_t *lens;
    memset(v, 0, sizeof *v);
    v->model = "";
    if (rl_gguf_find(g, "tokenizer.ggml.model") && (s = rl_gguf_get_str(g, "tokenizer.ggml.model", &v->model, NULL))) return s;
    if (rl_gguf_find(g, "tokenizer.ggml.pre") && (s = rl_gguf_get_str(g, "tokenizer.ggml.pre", &v->pre, NULL))) return s;
    if (rl_gguf_find(g, "tokenizer.chat_template") && (s = rl_gguf_get_str(g, "tokenizer.chat_template", &v->chat_template, NULL))) return s;
    if ((s = rl_gguf_get_array(g, "tokenizer.ggml.tokens", RL_GGUF_STRING, &a))) return s;
    v->n_tokens = (int64_t)a->n;
    v->tokens = (const char **)RL_MALLOC((size_t)(a->n + 1) * sizeof(char *));
    v->token_len = lens = (uint64_t *)RL_MALLOC((size_t)(a->n + 1) * sizeof(uint64_t));
    if (!v->tokens || !lens) goto nomem;
    for (i = 0; i < v->n_tokens; i++) {
        v->tokens[i] = a->strs[i].s;
        lens[i] = a->strs[i].len;
    }
    if (rl_gguf_find(g, "tokenizer.ggml.token_type")) {
        if ((s = rl_gguf_get_array(g, "tokenizer.ggml.token_type", RL_GGUF_INT32, &a))) goto fail;
        if ((int64_t)a->n != v->n_tokens) {
            s = rl__fail(RL_ERR_FORMAT, "%s: key 'tokenizer.ggml.token_type' has %llu entries for %lld tokens", g->path, (unsigned long long)a->n,
                         (long long)v->n_tokens);
            goto fail;
        }
        v->token_type = (int32_t *)RL_MALLOC((size_t)(a->n + 1) * sizeof(int32_t));
        if (!v->token_type) goto nomem;
        for (i = 0; i < v->n_tokens; i++) v->token_type[i] = (int32_t)rl__le32(a->raw + 4 * i);
    }
    if (rl_gguf_find(g, "tokenizer.ggml.scores")) {
        if ((s = rl_gguf_get_array(g, "tokenizer.ggml.scores", RL_GGUF_FLOAT32, &a))) goto fail;
        if ((int64_t)a->n != v->n_tokens) {
            s = rl__fail(RL_ERR_FORMAT, "%s: key 'tokenizer.ggml.scores' has %llu entries for %lld tokens", g->path, (unsigned long long)a->n,
                         (long long)v->n_tokens);
            goto fail;
        }
        v->scores = (float *)RL_MALLOC((size_t)(a->n + 1) * sizeof(float));
        if (!v->scores) goto nomem;
        for (i = 0; i < v->n_tokens; i++) v->scores[i] = rl__lef32(a->raw + 4 * i);
    }
    if (rl_gguf_find(g, "tokenizer.ggml.merges")) {
        if ((s = rl_gguf_get_array(g, "tokenizer.ggml.merges", RL_GGUF_STRING, &a))) goto fail;
        v->n_merges = (int64_t)a->n;
        v->merges = (const char **)RL_MALLOC((size_t)(a->n + 1) * sizeof(char *));
        if (!v->merges) goto nomem;
        for (i = 0; i < v->n_merges; i++) {
            v->merges[i] = a->strs[i].s;
            if (!strchr(v->merges[i], ' ')) {
                s = rl__fail(RL_ERR_FORMAT, "%s: key 'tokenizer.ggml.merges': merge %lld '%.60s' has no space between its two parts", g->path,
                             (long long)i, v->merges[i]);
                goto fail;
            }
        }
    }
    if ((s = rl__gguf_opt_id(g, "tokenizer.ggml.bos_token_id", v->n_tokens, &v->bos_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.eos_token_id", v->n_tokens, &v->eos_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.unknown_token_id", v->n_tokens, &v->unk_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.padding_token_id", v->n_tokens, &v->pad_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.seperator_token_id", v->n_tokens, &v->sep_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.mask_token_id", v->n_tokens, &v->mask_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.eot_token_id", v->n_tokens, &v->eot_id)) ||
        (s = rl__gguf_opt_id(g, "tokenizer.ggml.eom_token_id", v->n_tokens, &v->eom_id)) ||
        (s = rl__gguf_opt_bool(g, "tokenizer.ggml.add_bos_token", &v->add_bos)) ||
        (s = rl__gguf_opt_bool(g, "tokenizer.ggml.add_eos_token", &v->add_eos)) ||
        (s = rl__gguf_opt_bool(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix)))
        goto fail;
    return RL_OK;
nomem:
    s = rl__fail(RL_ERR_NOMEM, "%s: out of memory reading the vocabulary", g->path);
fail:
    rl_gguf_vocab_free(v);
    return s;
}

void rl_gguf_vocab_free(rl_gguf_vocab *v) {
    if (!v) return;
    RL_FREE((void *)(uintptr_t)v->tokens);
    RL_FREE((void *)(uintptr_t)v->token_len);
    RL_FREE(v->token_type);
    RL_FREE(v->scores);
    RL_FREE((void *)(uintptr_t)v->merges);
    memset(v, 0, sizeof *v);
}

/* ---- writer ---- */

typedef struct rl__gguf_wtensor {
    char *name;
    rl_ggml_type type;
    int n_dims;
    int64_t ne[4];
    uint64_t nbytes;
    const void *data;
    rl_gguf_fill_fn fill;
    void *user;
} rl__gguf_wtensor;

struct rl_gguf_writer {
    unsigned char *kv; /* the serialized key-value pairs */
    size_t kv_len, kv_cap;
    char **keys;
    int64_t n_kv, cap_keys;
    rl__gguf_wtensor *t;
    int64_t n_t, cap_t;
    uint32_t alignment;
    rl_status err; /* sticky */
};

static rl_status rl__gw_fail(rl_gguf_writer *w, rl_status s) {
    if (w && !w->err) w->err = s;
    return s;
}

static int rl__gw_put(rl_gguf_writer *w, const void *p, size_t n) {
    if (n > SIZE_MAX / 4 - w->kv_len) return 0;
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 256;
        unsigned char *q;
        while (cap < w->kv_len + n) cap *= 2;
        q = (unsigned char *)RL_REALLOC(w->kv, cap);
        if (!q) return 0;
        w->kv = q;
        w->kv_cap = cap;
    }
    if (n) memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return 1;
}
static int rl__gw_u32(rl_gguf_writer *w, uint32_t v) {
    unsigned char b[4];
    rl__st_le(b, v, 4);
    return rl__gw_put(w, b, 4);
}
static int rl__gw_u64(rl_gguf_writer *w, uint64_t v) {
    unsigned char b[8];
    rl__st_le(b, v, 8);
    return rl__gw_put(w, b, 8);
}
static int rl__gw_str(rl_gguf_writer *w, const char *s, uint64_t len) { return rl__gw_u64(w, len) && rl__gw_put(w, s, (size_t)len); }

rl_gguf_writer *rl_gguf_writer_new(void) {
    rl_gguf_writer *w = (rl_gguf_writer *)RL_MALLOC(sizeof *w);
    if (!w) {
        rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory");
        return NULL;
    }
    memset(w, 0, sizeof *w);
    w->alignment = 32;
    return w;
}

void rl_gguf_writer_free(rl_gguf_writer *w) {
    int64_t i;
    if (!w) return;
    for (i = 0; i < w->n_kv; i++) RL_FREE(w->keys[i]);
    for (i = 0; i < w->n_t; i++) RL_FREE(w->t[i].name);
    RL_FREE(w->keys);
    RL_FREE(w->t);
    RL_FREE(w->kv);
    RL_FREE(w);
}

static char *rl__gw_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)RL_MALLOC(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* the bytes of a scalar of type t whose host value is at p */
static int rl__gw_scalar(rl_gguf_writer *w, int t, const void *p) {
    unsigned char b[8];
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    const char *s;
    switch (t) {
    case RL_GGUF_UINT8: case RL_GGUF_INT8:
        b[0] = *(const unsigned char *)p;
        return rl__gw_put(w, b, 1);
    case RL_GGUF_BOOL:
        b[0] = *(const char *)p ? 1 : 0;
        return rl__gw_put(w, b, 1);
    case RL_GGUF_UINT16: case RL_GGUF_INT16:
        memcpy(&u16, p, 2);
        rl__st_le(b, u16, 2);
        return rl__gw_put(w, b, 2);
    case RL_GGUF_UINT32: case RL_GGUF_INT32: case RL_GGUF_FLOAT32:
        memcpy(&u32, p, 4);
        rl__st_le(b, u32, 4);
        return rl__gw_put(w, b, 4);
    case RL_GGUF_UINT64: case RL_GGUF_INT64: case RL_GGUF_FLOAT64:
        memcpy(&u64, p, 8);
        rl__st_le(b, u64, 8);
        return rl__gw_put(w, b, 8);
    case RL_GGUF_STRING:
        s = *(const char *const *)p;
        return rl__gw_str(w, s ? s : "", s ? strlen(s) : 0);
    default:
        return 0;
    }
}

/* start a key: check it, remember it, write key and value type; *mark is where to roll back to */
static rl_status rl__gw_key(rl_gguf_writer *w, const char *key, rl_gguf_type type, size_t *mark) {
    int64_t i;
    if (!w) return rl__fail(RL_ERR_ARG, "gguf writer is NULL");
    if (w->err) return w->err;
    if (!key || !*key) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: empty key"));
    if ((unsigned)type > RL_GGUF_FLOAT64) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': bad value type %d", key, (int)type));
    for (i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s' added twice", key));
    if (w->n_kv == w->cap_keys) {
        int64_t cap = w->cap_keys ? w->cap_keys * 2 : 32;
        char **k = (char **)RL_REALLOC(w->keys, (size_t)cap * sizeof(char *));
        if (!k) return rl__gw_fail(w, rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory"));
        w->keys = k;
        w->cap_keys = cap;
    }
    *mark = w->kv_len;
    if (!(w->keys[w->n_kv] = rl__gw_strdup(key)) || !rl__gw_str(w, key, strlen(key)) || !rl__gw_u32(w, (uint32_t)type)) {
        RL_FREE(w->keys[w->n_kv]);
        w->kv_len = *mark;
        return rl__gw_fail(w, rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory"));
    }
    w->n_kv++;
    return RL_OK;
}

/* finish a key: on failure forget it */
static rl_status rl__gw_end(rl_gguf_writer *w, int ok, size_t mark) {
    if (ok) return RL_OK;
    w->kv_len = mark;
    w->n_kv--;
    RL_FREE(w->keys[w->n_kv]);
    return rl__gw_fail(w, rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory"));
}

rl_status rl_gguf_add_scalar(rl_gguf_writer *w, const char *key, rl_gguf_type type, const void *value) {
    size_t mark;
    rl_status s;
    if (w && w->err) return w->err;
    if (type == RL_GGUF_ARRAY || (unsigned)type > RL_GGUF_FLOAT64 || !value)
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': not a scalar (use rl_gguf_add_array for arrays)", key ? key : ""));
    if (w && key && !strcmp(key, "general.alignment")) {
        uint32_t a;
        if (type != RL_GGUF_UINT32) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: general.alignment must be UINT32"));
        memcpy(&a, value, 4);
        if (!a || (a & (a - 1))) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: general.alignment %u is not a power of two", a));
        w->alignment = a;
    }
    if ((s = rl__gw_key(w, key, type, &mark))) return s;
    return rl__gw_end(w, rl__gw_scalar(w, type, value), mark);
}

rl_status rl_gguf_add_u32(rl_gguf_writer *w, const char *key, uint32_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_UINT32, &v); }
rl_status rl_gguf_add_i32(rl_gguf_writer *w, const char *key, int32_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_INT32, &v); }
rl_status rl_gguf_add_u64(rl_gguf_writer *w, const char *key, uint64_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_UINT64, &v); }
rl_status rl_gguf_add_i64(rl_gguf_writer *w, const char *key, int64_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_INT64, &v); }
rl_status rl_gguf_add_f32(rl_gguf_writer *w, const char *key, float v) { return rl_gguf_add_scalar(w, key, RL_GGUF_FLOAT32, &v); }
rl_status rl_gguf_add_f64(rl_gguf_writer *w, const char *key, double v) { return rl_gguf_add_scalar(w, key, RL_GGUF_FLOAT64, &v); }
rl_status rl_gguf_add_bool(rl_gguf_writer *w, const char *key, int v) {
    char b = v ? 1 : 0;
    return rl_gguf_add_scalar(w, key, RL_GGUF_BOOL, &b);
}
rl_status rl_gguf_add_str(rl_gguf_writer *w, const char *key, const char *s) { return rl_gguf_add_scalar(w, key, RL_GGUF_STRING, &s); }

rl_status rl_gguf_add_array(rl_gguf_writer *w, const char *key, rl_gguf_type et, const void *elems, uint64_t n) {
    size_t mark;
    rl_status s;
    uint64_t i;
    int ok, sz = rl__gguf_scalar_size(et);
    if (w && w->err) return w->err;
    if (et == RL_GGUF_ARRAY || (unsigned)et > RL_GGUF_FLOAT64)
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': element type %d (use rl_gguf_add_value for nested arrays)", key ? key : "", (int)et));
    if (n && !elems) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': no elements", key ? key : ""));
    if ((s = rl__gw_key(w, key, RL_GGUF_ARRAY, &mark))) return s;
    ok = rl__gw_u32(w, (uint32_t)et) && rl__gw_u64(w, n);
    for (i = 0; ok && i < n; i++)
        ok = et == RL_GGUF_STRING ? rl__gw_scalar(w, et, (const char *const *)elems + i)
                                  : rl__gw_scalar(w, et, (const unsigned char *)elems + i * (uint64_t)sz);
    return rl__gw_end(w, ok, mark);
}

/* the bytes of a STRING or ARRAY value after its type: 1 ok, 0 out of memory, -1 malformed */
static int rl__gw_value(rl_gguf_writer *w, const rl_gguf_value *v, int depth) {
    uint64_t i;
    int sz, ok;
    if (depth > RL__GGUF_MAX_DEPTH) return -1;
    if (v->type == RL_GGUF_STRING) return v->str.s || !v->str.len ? rl__gw_str(w, v->str.s ? v->str.s : "", v->str.len) : -1;
    if (v->type != RL_GGUF_ARRAY || (unsigned)v->elem_type > RL_GGUF_FLOAT64) return -1;
    if (!rl__gw_u32(w, (uint32_t)v->elem_type) || !rl__gw_u64(w, v->n)) return 0;
    if ((sz = rl__gguf_scalar_size(v->elem_type))) {
        if (v->n && !v->raw) return -1;
        if (v->n > (uint64_t)(SIZE_MAX / 16)) return 0;
        return !v->n || rl__gw_put(w, v->raw, (size_t)(v->n * (uint64_t)sz));
    }
    if (v->n && !(v->elem_type == RL_GGUF_STRING ? (const void *)v->strs : (const void *)v->elems)) return -1;
    for (i = 0; i < v->n; i++) {
        if (v->elem_type == RL_GGUF_STRING) ok = v->strs[i].s || !v->strs[i].len ? rl__gw_str(w, v->strs[i].s ? v->strs[i].s : "", v->strs[i].len) : -1;
        else ok = v->elems[i].type == RL_GGUF_ARRAY ? rl__gw_value(w, &v->elems[i], depth + 1) : -1;
        if (ok != 1) return ok;
    }
    return 1;
}

rl_status rl_gguf_add_value(rl_gguf_writer *w, const char *key, const rl_gguf_value *v) {
    size_t mark;
    rl_status s;
    int ok;
    if (!v || (unsigned)v->type > RL_GGUF_FLOAT64)
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': missing value or bad value type", key ? key : ""));
    switch (v->type) { /* scalars go through add_scalar, so general.alignment is honoured */
    case RL_GGUF_UINT8: { uint8_t x = (uint8_t)v->u; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_INT8: { int8_t x = (int8_t)v->i; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_UINT16: { uint16_t x = (uint16_t)v->u; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_INT16: { int16_t x = (int16_t)v->i; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_UINT32: { uint32_t x = (uint32_t)v->u; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_INT32: { int32_t x = (int32_t)v->i; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_UINT64: { uint64_t x = v->u; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_INT64: { int64_t x = v->i; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_FLOAT32: { float x = (float)v->f; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_FLOAT64: { double x = v->f; return rl_gguf_add_scalar(w, key, v->type, &x); }
    case RL_GGUF_BOOL: { char x = v->u != 0; return rl_gguf_add_scalar(w, key, v->type, &x); }
    default: break;
    }
    if ((s = rl__gw_key(w, key, v->type, &mark))) return s;
    ok = rl__gw_value(w, v, 0); /* STRING (length kept: may hold NUL bytes) or ARRAY */
    if (ok < 0) {
        w->kv_len = mark;
        w->n_kv--;
        RL_FREE(w->keys[w->n_kv]);
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: key '%s': malformed value (bad element type, missing elements or nesting deeper than %d)",
                                       key, RL__GGUF_MAX_DEPTH));
    }
    return rl__gw_end(w, ok, mark);
}

static rl_status rl__gw_tensor(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims, const int64_t *ne, const void *data,
                               rl_gguf_fill_fn fill, void *user) {
    const rl__ggml_info *ti;
    rl__gguf_wtensor *t;
    int64_t i, n = 1;
    int d;
    if (!w) return rl__fail(RL_ERR_ARG, "gguf writer is NULL");
    if (w->err) return w->err;
    if (!name || !*name || strlen(name) >= RL__GGUF_MAX_NAME)
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor name '%s' must have 1 to %d bytes", name ? name : "", RL__GGUF_MAX_NAME - 1));
    if (!(ti = rl__ggml_find(type))) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': unknown ggml type %d", name, (int)type));
    if (n_dims < 0 || n_dims > 4 || (n_dims && !ne)) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': %d dims (0 to 4 allowed)", name, n_dims));
    for (d = 0; d < n_dims; d++) {
        if (ne[d] < 0 || (ne[d] && n > INT64_MAX / ne[d])) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': bad dims", name));
        n *= ne[d];
    }
    if (n_dims && ne[0] % ti->block)
        return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': ne[0] = %lld is not a multiple of the %s block size %d", name,
                                       (long long)ne[0], ti->name, ti->block));
    if (n && !data && !fill) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': no data", name));
    for (i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s' added twice", name));
    if (w->n_t == w->cap_t) {
        int64_t cap = w->cap_t ? w->cap_t * 2 : 64;
        rl__gguf_wtensor *p = (rl__gguf_wtensor *)RL_REALLOC(w->t, (size_t)cap * sizeof *p);
        if (!p) return rl__gw_fail(w, rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory"));
        w->t = p;
        w->cap_t = cap;
    }
    t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = rl__gw_strdup(name))) return rl__gw_fail(w, rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory"));
    t->type = type;
    t->n_dims = n_dims;
    for (d = 0; d < 4; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nbytes = (uint64_t)(n / ti->block) * (uint64_t)ti->size;
    t->data = data;
    t->fill = fill;
    t->user = user;
    w->n_t++;
    return RL_OK;
}

rl_status rl_gguf_add_tensor(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims, const int64_t *ne, const void *data) {
    return rl__gw_tensor(w, name, type, n_dims, ne, data, NULL, NULL);
}
rl_status rl_gguf_add_tensor_fn(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims, const int64_t *ne, rl_gguf_fill_fn fill,
                                void *user) {
    if (!fill) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': NULL fill function", name ? name : ""));
    return rl__gw_tensor(w, name, type, n_dims, ne, NULL, fill, user);
}

/* buffered output to the temporary file: a file descriptor (so it can be fsync()ed) */
typedef struct rl__gw_out {
#if defined(_WIN32)
    FILE *f;
#else
    int fd;
#endif
    unsigned char buf[1 << 16];
    size_t n;
    int ok;
} rl__gw_out;

static void rl__gw_flush(rl__gw_out *o) {
    size_t done = 0;
    while (o->ok && done < o->n) {
#if defined(_WIN32)
        size_t k = fwrite(o->buf + done, 1, o->n - done, o->f);
        if (k == 0) o->ok = 0;
        done += k;
#else
        ssize_t k = write(o->fd, o->buf + done, o->n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) o->ok = 0;
        else done += (size_t)k;
#endif
    }
    o->n = 0;
}

static void rl__gw_write(rl__gw_out *o, const void *p, uint64_t n) {
    const unsigned char *c = (const unsigned char *)p;
    while (n && o->ok) {
        size_t k = (size_t)RL__MIN(n, (uint64_t)(sizeof o->buf - o->n));
        memcpy(o->buf + o->n, c, k);
        o->n += k;
        c += k;
        n -= k;
        if (o->n == sizeof o->buf) rl__gw_flush(o);
    }
}

static void rl__gw_le(rl__gw_out *o, uint64_t v, int bytes) {
    unsigned char b[8];
    rl__st_le(b, v, bytes);
    rl__gw_write(o, b, (uint64_t)bytes);
}

static void rl__gw_pad(rl__gw_out *o, uint64_t pos, uint32_t align) {
    static const unsigned char zeros[64] = {0};
    uint64_t pad = (align - pos % align) % align;
    while (pad) {
        uint64_t k = RL__MIN(pad, (uint64_t)sizeof zeros);
        rl__gw_write(o, zeros, k);
        pad -= k;
    }
}

rl_status rl_gguf_write(rl_gguf_writer *w, const char *path) {
    rl__gw_out *o;
    char *tmp;
    size_t plen;
    uint64_t pos, off = 0;
    int64_t i;
    int d, ok;
    rl_status s = RL_OK;
    void *buf = NULL;
    uint64_t buf_cap = 0;
    if (!w) return rl__fail(RL_ERR_ARG, "gguf writer is NULL");
    if (w->err) return rl__fail(w->err, "gguf writer: an earlier add failed (%s); nothing written", rl_status_name(w->err));
    if (!path || !*path) return rl__fail(RL_ERR_ARG, "gguf writer: no output path");
    plen = strlen(path);
    tmp = (char *)RL_MALLOC(plen + 5);
    o = (rl__gw_out *)RL_MALLOC(sizeof *o);
    if (!tmp || !o) {
        RL_FREE(tmp);
        RL_FREE(o);
        return rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    o->n = 0;
    o->ok = 1;
#if defined(_WIN32)
    o->f = fopen(tmp, "wb");
    if (!o->f) {
#else
    o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o->fd < 0) {
#endif
        s = rl__fail(RL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        RL_FREE(tmp);
        RL_FREE(o);
        return s;
    }
    /* header, metadata, tensor infos */
    rl__gw_write(o, RL__GGUF_MAGIC, 4);
    rl__gw_le(o, 3, 4);
    rl__gw_le(o, (uint64_t)w->n_t, 8);
    rl__gw_le(o, (uint64_t)w->n_kv, 8);
    rl__gw_write(o, w->kv, w->kv_len);
    pos = 24 + w->kv_len;
    for (i = 0; i < w->n_t; i++) {
        const rl__gguf_wtensor *t = &w->t[i];
        uint64_t nl = strlen(t->name);
        rl__gw_le(o, nl, 8);
        rl__gw_write(o, t->name, nl);
        rl__gw_le(o, (uint64_t)t->n_dims, 4);
        for (d = 0; d < t->n_dims; d++) rl__gw_le(o, (uint64_t)t->ne[d], 8);
        rl__gw_le(o, (uint64_t)t->type, 4);
        rl__gw_le(o, off, 8);
        pos += 8 + nl + 4 + 8 * (uint64_t)t->n_dims + 4 + 8;
        off += t->nbytes + (w->alignment - t->nbytes % w->alignment) % w->alignment;
    }
    /* data, each tensor padded to the alignment */
    rl__gw_pad(o, pos, w->alignment);
    for (i = 0; o->ok && i < w->n_t; i++) {
        const rl__gguf_wtensor *t = &w->t[i];
        const void *src = t->data;
        if (t->fill && t->nbytes) {
            if (t->nbytes > buf_cap) {
                void *nb = t->nbytes > (uint64_t)(SIZE_MAX / 2) ? NULL : RL_REALLOC(buf, (size_t)t->nbytes);
                if (!nb) {
                    s = rl__fail(RL_ERR_NOMEM, "%s: out of memory for tensor '%s' (%llu bytes)", path, t->name, (unsigned long long)t->nbytes);
                    break;
                }
                buf = nb;
                buf_cap = t->nbytes;
            }
            if ((s = t->fill(t->user, t->name, buf, t->nbytes))) break;
            src = buf;
        }
        rl__gw_write(o, src, t->nbytes);
        rl__gw_pad(o, t->nbytes, w->alignment);
    }
    RL_FREE(buf);
    rl__gw_flush(o);
    ok = o->ok;
#if defined(_WIN32)
    if (fclose(o->f) != 0) ok = 0;
#else
    if (ok && !s && fsync(o->fd) != 0) ok = 0;
    if (close(o->fd) != 0) ok = 0;
#endif
    if (!s && !ok) s = rl__fail(RL_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (!s && rename(tmp, path) != 0) s = rl__fail(RL_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (s) remove(tmp);
    RL_FREE(tmp);
    RL_FREE(o);
    return s;
}

/* ==== 5. models =========================================================== */

/* ---- 5a. the recurrent scans as autodiff ops ----
   The forward runs the exact token-by-token recurrence (decoding is the case T = 1) in
   fp32, one task per (sequence, head). When a gradient will be needed it also keeps
   the state every RL__SCAN_CK tokens; the backward walks each stretch backwards after
   recomputing its states from the kept one. No division by the decay, so the backward
   is exact whatever the decay (spec §4.4, §5.4: "chunked recompute").
   Node inputs: RWKV6 in[] = r, k, v, logw, state; RWKV7 in[] = r, w, k, v, a, b, state.
   out2 is the final state. */
#define RL__SCAN_CK 16

typedef struct {
    rl__node *n;
    int64_t B, T, H, KVH, N, n_ck;
    float *ck; /* kept states: [B*H][n_ck][N*N], NULL when no gradient is needed */
} rl__scan_job;

static void rl__scan_load_state(rl__node *n, int slot, int64_t bh, int64_t N, float *S) {
    if (n->in[slot]) memcpy(S, rl_f32(n->in[slot]) + bh * N * N, sizeof(float) * (size_t)(N * N));
    else memset(S, 0, sizeof(float) * (size_t)(N * N));
}

/* RWKV6 step: S[j][i] = w[j]·S[j][i] + k[j](1−w[j])·v[i]; o[i] = scale·Σ_j r[j]·S[j][i] */
static void rl__wkv6_step(float *S, const float *r, const float *k, const float *v, const float *logw, float *o,
                          int64_t N, float scale) {
    int64_t i, j;
    if (o) memset(o, 0, sizeof(float) * (size_t)N);
    for (j = 0; j < N; j++) {
        float w = expf(logw[j]), kj = k[j] * (1.0f - w);
        float *Sj = S + j * N;
        for (i = 0; i < N; i++) Sj[i] = w * Sj[i] + kj * v[i];
        if (o) {
            float rj = r[j] * scale;
            for (i = 0; i < N; i++) o[i] += rj * Sj[i];
        }
    }
}

static void rl__wkv6_fwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, C = H * N, Ck = KVH * N, task, t;
    float scale = 1.0f / sqrtf((float)N);
    RL__UNUSED(tid);
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H, kvh = h / (H / KVH);
        float *S = rl_f32(n->out2) + task * N * N;
        rl__scan_load_state(n, 4, task, N, S);
        for (t = 0; t < T; t++) {
            int64_t row = b * T + t;
            if (j->ck && t % RL__SCAN_CK == 0) memcpy(j->ck + (task * j->n_ck + t / RL__SCAN_CK) * N * N, S, sizeof(float) * (size_t)(N * N));
            rl__wkv6_step(S, rl_f32(n->in[0]) + row * C + h * N, rl_f32(n->in[1]) + row * Ck + kvh * N,
                          rl_f32(n->in[2]) + row * Ck + kvh * N, rl_f32(n->in[3]) + row * C + h * N,
                          rl_f32(n->out) + row * C + h * N, N, scale);
        }
    }
}

/* One task per (sequence, kv head): it owns dk and dv of that kv head.
   G = dL/dS_t:  G_T = dS_out;  G_t += scale·r_tᵀdy_t;  then
   dr = scale·S_t·dy, dk' = G·v, dv += k'·G, dw = Σ_i S_{t−1}⊙G, G_{t−1} = diag(w_t)·G_t. */
static void rl__wkv6_bwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, C = H * N, Ck = KVH * N, G = H / KVH, task, t, i, jj, hh;
    size_t NN = (size_t)(N * N);
    float scale = 1.0f / sqrtf((float)N);
    float *Sb = (float *)RL_MALLOC(sizeof(float) * ((RL__SCAN_CK + 2) * NN)), *Gm;
    const float *R = rl_f32(n->in[0]), *K = rl_f32(n->in[1]), *V = rl_f32(n->in[2]), *LW = rl_f32(n->in[3]);
    const float *dY = n->out->grad, *dS_out = n->out2->grad;
    float *dR = rl__wants(n->in[0]) ? n->in[0]->grad : NULL, *dK = rl__wants(n->in[1]) ? n->in[1]->grad : NULL;
    float *dV = rl__wants(n->in[2]) ? n->in[2]->grad : NULL, *dLW = rl__wants(n->in[3]) ? n->in[3]->grad : NULL;
    float *dS_in = rl__wants(n->in[4]) ? n->in[4]->grad : NULL;
    RL__UNUSED(tid);
    if (!Sb) return;
    Gm = Sb + (RL__SCAN_CK + 1) * NN;
    for (task = t0; task < t1; task++) {
        int64_t b = task / KVH, kvh = task % KVH;
        for (hh = 0; hh < G; hh++) {
            int64_t h = kvh * G + hh, bh = b * H + h, seg;
            if (dS_out) memcpy(Gm, dS_out + bh * N * N, sizeof(float) * NN);
            else memset(Gm, 0, sizeof(float) * NN);
            for (seg = j->n_ck - 1; seg >= 0; seg--) {
                int64_t s0 = seg * RL__SCAN_CK, s1 = RL__MIN(T, s0 + RL__SCAN_CK);
                memcpy(Sb, j->ck + (bh * j->n_ck + seg) * N * N, sizeof(float) * NN);
                for (t = s0; t < s1; t++) {
                    int64_t row = b * T + t;
                    memcpy(Sb + (t - s0 + 1) * NN, Sb + (t - s0) * NN, sizeof(float) * NN);
                    rl__wkv6_step(Sb + (t - s0 + 1) * NN, NULL, K + row * Ck + kvh * N, V + row * Ck + kvh * N,
                                  LW + row * C + h * N, NULL, N, scale);
                }
                for (t = s1 - 1; t >= s0; t--) {
                    int64_t row = b * T + t;
                    const float *r = R + row * C + h * N, *k = K + row * Ck + kvh * N, *v = V + row * Ck + kvh * N;
                    const float *lw = LW + row * C + h * N, *dy = dY ? dY + row * C + h * N : NULL;
                    const float *St = Sb + (t - s0 + 1) * NN, *Sp = Sb + (t - s0) * NN;
                    for (jj = 0; jj < N; jj++) {
                        float w = expf(lw[jj]), kp = k[jj] * (1.0f - w), dr = 0, dk = 0, dw = 0;
                        float *Gj = Gm + jj * N;
                        const float *Stj = St + jj * N, *Spj = Sp + jj * N;
                        if (dy)
                            for (i = 0; i < N; i++) {
                                Gj[i] += scale * r[jj] * dy[i];
                                dr += Stj[i] * dy[i];
                            }
                        for (i = 0; i < N; i++) {
                            dk += Gj[i] * v[i];
                            dw += Spj[i] * Gj[i];
                        }
                        if (dV)
                            for (i = 0; i < N; i++) dV[row * Ck + kvh * N + i] += kp * Gj[i];
                        if (dR) dR[row * C + h * N + jj] += scale * dr;
                        if (dK) dK[row * Ck + kvh * N + jj] += dk * (1.0f - w);
                        if (dLW) dLW[row * C + h * N + jj] += w * (dw - dk * k[jj]); /* via w and k' = k(1−w) */
                        for (i = 0; i < N; i++) Gj[i] *= w;
                    }
                }
            }
            if (dS_in) rl__kern_get()->axpy(dS_in + bh * N * N, 1.0f, Gm, N * N);
        }
    }
    RL_FREE(Sb);
}

/* RWKV7 step: sa = S·a; S = S·diag(w) + sa·bᵀ + v·kᵀ; y = S·r (y may be NULL). */
static void rl__wkv7_step(float *S, const float *r, const float *w, const float *k, const float *v, const float *a,
                          const float *b, float *y, int64_t N) {
    int64_t i, j;
    for (i = 0; i < N; i++) {
        float *Si = S + i * N, sa = 0, yi = 0;
        for (j = 0; j < N; j++) sa += Si[j] * a[j];
        for (j = 0; j < N; j++) Si[j] = Si[j] * w[j] + sa * b[j] + v[i] * k[j];
        if (y) {
            for (j = 0; j < N; j++) yi += Si[j] * r[j];
            y[i] = yi;
        }
    }
}

static void rl__wkv7_fwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, T = j->T, C = H * N, task, t;
    RL__UNUSED(tid);
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H;
        float *S = rl_f32(n->out2) + task * N * N;
        rl__scan_load_state(n, 6, task, N, S);
        for (t = 0; t < T; t++) {
            int64_t o = (b * T + t) * C + h * N;
            if (j->ck && t % RL__SCAN_CK == 0) memcpy(j->ck + (task * j->n_ck + t / RL__SCAN_CK) * N * N, S, sizeof(float) * (size_t)(N * N));
            rl__wkv7_step(S, rl_f32(n->in[0]) + o, rl_f32(n->in[1]) + o, rl_f32(n->in[2]) + o, rl_f32(n->in[3]) + o,
                          rl_f32(n->in[4]) + o, rl_f32(n->in[5]) + o, rl_f32(n->out) + o, N);
        }
    }
}

/* G = dL/dS_t (S[i][j]): G_T = dS_out; G_t += dy_t·r_tᵀ; dr = S_tᵀdy, dk = Gᵀv, dv = G·k,
   sa = S_{t−1}·a, db = Gᵀsa, dw = Σ_i G⊙S_{t−1}, gb = G·b, da = S_{t−1}ᵀgb,
   G_{t−1} = G·diag(w) + gb·aᵀ. */
static void rl__wkv7_bwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, T = j->T, C = H * N, task, t, i, jj, q;
    size_t NN = (size_t)(N * N);
    float *Sb = (float *)RL_MALLOC(sizeof(float) * ((RL__SCAN_CK + 2) * NN + 2 * (size_t)N)), *Gm, *sa, *gb;
    float *d[7];
    RL__UNUSED(tid);
    if (!Sb) return;
    Gm = Sb + (RL__SCAN_CK + 1) * NN;
    sa = Gm + NN;
    gb = sa + N;
    for (q = 0; q < 7; q++) d[q] = rl__wants(n->in[q]) ? n->in[q]->grad : NULL;
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H, seg;
        if (n->out2->grad) memcpy(Gm, n->out2->grad + task * N * N, sizeof(float) * NN);
        else memset(Gm, 0, sizeof(float) * NN);
        for (seg = j->n_ck - 1; seg >= 0; seg--) {
            int64_t s0 = seg * RL__SCAN_CK, s1 = RL__MIN(T, s0 + RL__SCAN_CK);
            memcpy(Sb, j->ck + (task * j->n_ck + seg) * N * N, sizeof(float) * NN);
            for (t = s0; t < s1; t++) {
                int64_t o = (b * T + t) * C + h * N;
                memcpy(Sb + (t - s0 + 1) * NN, Sb + (t - s0) * NN, sizeof(float) * NN);
                rl__wkv7_step(Sb + (t - s0 + 1) * NN, NULL, rl_f32(n->in[1]) + o, rl_f32(n->in[2]) + o,
                              rl_f32(n->in[3]) + o, rl_f32(n->in[4]) + o, rl_f32(n->in[5]) + o, NULL, N);
            }
            for (t = s1 - 1; t >= s0; t--) {
                int64_t o = (b * T + t) * C + h * N;
                const float *r = rl_f32(n->in[0]) + o, *w = rl_f32(n->in[1]) + o, *k = rl_f32(n->in[2]) + o;
                const float *v = rl_f32(n->in[3]) + o, *a = rl_f32(n->in[4]) + o, *bb = rl_f32(n->in[5]) + o;
                const float *dy = n->out->grad ? n->out->grad + o : NULL;
                const float *St = Sb + (t - s0 + 1) * NN, *Sp = Sb + (t - s0) * NN;
                for (i = 0; i < N; i++) {
                    float s = 0, g = 0, dv = 0;
                    float *Gi = Gm + i * N;
                    const float *Spi = Sp + i * N;
                    if (dy)
                        for (jj = 0; jj < N; jj++) Gi[jj] += dy[i] * r[jj];
                    for (jj = 0; jj < N; jj++) {
                        s += Spi[jj] * a[jj];
                        g += Gi[jj] * bb[jj];
                        dv += Gi[jj] * k[jj];
                    }
                    sa[i] = s;
                    gb[i] = g;
                    if (d[3]) d[3][o + i] += dv;
                }
                for (jj = 0; jj < N; jj++) {
                    float dr = 0, dk = 0, db = 0, dw = 0, da = 0;
                    for (i = 0; i < N; i++) {
                        float gij = Gm[i * N + jj], sp = Sp[i * N + jj];
                        if (dy) dr += St[i * N + jj] * dy[i];
                        dk += gij * v[i];
                        db += gij * sa[i];
                        dw += gij * sp;
                        da += sp * gb[i];
                    }
                    if (d[0]) d[0][o + jj] += dr;
                    if (d[1]) d[1][o + jj] += dw;
                    if (d[2]) d[2][o + jj] += dk;
                    if (d[4]) d[4][o + jj] += da;
                    if (d[5]) d[5][o + jj] += db;
                }
                for (i = 0; i < N; i++)
                    for (jj = 0; jj < N; jj++) Gm[i * N + jj] = Gm[i * N + jj] * w[jj] + gb[i] * a[jj];
            }
        }
        if (d[6]) rl__kern_get()->axpy(d[6] + task * N * N, 1.0f, Gm, N * N);
    }
    RL_FREE(Sb);
}

/* ---- chunked parallel forms (no gradient) ----
   Unrolling either recurrence over a chunk that starts from state S0 gives closed forms
   in which every token reads S0 once and the other tokens of the chunk through scalar
   coefficients (γ_t/γ_s = Π_{s<u≤t} w_u, per channel):
     RWKV6: o_t = N^-½ [ (r_t⊙γ_t)·S0 + Σ_{s≤t} (Σ_j r_t[j] k'_s[j] γ_t[j]/γ_s[j]) v_s ]
            S_L = diag(γ_L) S0 + Σ_s (k'_s ⊙ γ_L/γ_s) v_sᵀ
     RWKV7: sa_t = S0 (γ_{t−1}⊙a_t) + Σ_{s<t} (b_s⊙γ_{t−1}/γ_s · a_t) sa_s + Σ_{s<t} (k_s⊙γ_{t−1}/γ_s · a_t) v_s
            (a triangular system solved token by token), then
            y_t = S0 (γ_t⊙r_t) + Σ_{s≤t} (b_s⊙γ_t/γ_s · r_t) sa_s + Σ_{s≤t} (k_s⊙γ_t/γ_s · r_t) v_s
            S_L = S0 diag(γ_L) + Σ_s sa_s (b_s⊙γ_L/γ_s)ᵀ + Σ_s v_s (k_s⊙γ_L/γ_s)ᵀ
   Ratios are formed as exp(cum_t − cum_s) of summed log-decays, so nothing overflows. */
typedef struct {
    rl__node *n;
    int64_t B, T, H, KVH, N, L;
} rl__chunk_job;

static void rl__wkv6_chunk_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__chunk_job *j = (rl__chunk_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, L = j->L, C = H * N, Ck = KVH * N, task, c0, m, s, q, i;
    float scale = 1.0f / sqrtf((float)N);
    float *cum = (float *)RL_MALLOC(sizeof(float) * (size_t)(L * N * 2 + N)), *kp = cum + L * N, *tmp = kp + L * N;
    RL__UNUSED(tid);
    if (!cum) return;
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H, kvh = h / (H / KVH);
        float *S = rl_f32(n->out2) + task * N * N;
        rl__scan_load_state(n, 4, task, N, S);
        for (c0 = 0; c0 < T; c0 += L) {
            int64_t len = RL__MIN(L, T - c0);
            for (m = 0; m < len; m++) {
                const float *lw = rl_f32(n->in[3]) + (b * T + c0 + m) * C + h * N, *k = rl_f32(n->in[1]) + (b * T + c0 + m) * Ck + kvh * N;
                for (q = 0; q < N; q++) {
                    cum[m * N + q] = (m ? cum[(m - 1) * N + q] : 0.0f) + lw[q];
                    kp[m * N + q] = k[q] * (1.0f - expf(lw[q]));
                }
            }
            for (m = 0; m < len; m++) {
                int64_t row = b * T + c0 + m;
                const float *r = rl_f32(n->in[0]) + row * C + h * N;
                float *o = rl_f32(n->out) + row * C + h * N;
                for (i = 0; i < N; i++) o[i] = 0;
                for (q = 0; q < N; q++) tmp[q] = r[q] * expf(cum[m * N + q]);
                for (q = 0; q < N; q++) rl__kern_get()->axpy(o, tmp[q], S + q * N, N); /* (r⊙γ)·S0 */
                for (s = 0; s <= m; s++) {
                    float coef = 0;
                    for (q = 0; q < N; q++) coef += r[q] * kp[s * N + q] * expf(cum[m * N + q] - cum[s * N + q]);
                    rl__kern_get()->axpy(o, coef, rl_f32(n->in[2]) + (b * T + c0 + s) * Ck + kvh * N, N);
                }
                rl__kern_get()->scale(o, o, scale, N);
            }
            for (q = 0; q < N; q++) { /* S_L = diag(γ_L) S0 + Σ_s (k'_s ⊙ γ_L/γ_s) v_sᵀ */
                float *Sq = S + q * N;
                rl__kern_get()->scale(Sq, Sq, expf(cum[(len - 1) * N + q]), N);
                for (s = 0; s < len; s++)
                    rl__kern_get()->axpy(Sq, kp[s * N + q] * expf(cum[(len - 1) * N + q] - cum[s * N + q]),
                                         rl_f32(n->in[2]) + (b * T + c0 + s) * Ck + kvh * N, N);
            }
        }
    }
    RL_FREE(cum);
}

static void rl__wkv7_chunk_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__chunk_job *j = (rl__chunk_job *)ctx;
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, T = j->T, L = j->L, C = H * N, task, c0, m, s, q, i;
    float *cum = (float *)RL_MALLOC(sizeof(float) * (size_t)(L * N * 2 + N)), *sa = cum + L * N, *tmp = sa + L * N;
    const rl__kern *K = rl__kern_get();
    RL__UNUSED(tid);
    if (!cum) return;
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H;
        float *S = rl_f32(n->out2) + task * N * N;
#define RL__IN(slot, t) (rl_f32(n->in[slot]) + (b * T + (t)) * C + h * N)
        rl__scan_load_state(n, 6, task, N, S);
        for (c0 = 0; c0 < T; c0 += L) {
            int64_t len = RL__MIN(L, T - c0);
            for (m = 0; m < len; m++)
                for (q = 0; q < N; q++) cum[m * N + q] = (m ? cum[(m - 1) * N + q] : 0.0f) + logf(RL__IN(1, c0 + m)[q]);
            for (m = 0; m < len; m++) {
                const float *a = RL__IN(4, c0 + m), *r = RL__IN(0, c0 + m);
                float *sam = sa + m * N, *y = rl_f32(n->out) + (b * T + c0 + m) * C + h * N;
                /* sa_m = S0 (γ_{m−1}⊙a_m) + Σ_{s<m} (...) sa_s + Σ_{s<m} (...) v_s */
                for (q = 0; q < N; q++) tmp[q] = a[q] * (m ? expf(cum[(m - 1) * N + q]) : 1.0f);
                for (i = 0; i < N; i++) sam[i] = K->dot(S + i * N, tmp, N);
                for (s = 0; s < m; s++) {
                    const float *bs = RL__IN(5, c0 + s), *ks = RL__IN(2, c0 + s);
                    float cb = 0, ck = 0;
                    for (q = 0; q < N; q++) {
                        float e = a[q] * expf(cum[(m - 1) * N + q] - cum[s * N + q]);
                        cb += bs[q] * e;
                        ck += ks[q] * e;
                    }
                    K->axpy(sam, cb, sa + s * N, N);
                    K->axpy(sam, ck, RL__IN(3, c0 + s), N);
                }
                /* y_m = S0 (γ_m⊙r_m) + Σ_{s≤m} (...) sa_s + Σ_{s≤m} (...) v_s */
                for (q = 0; q < N; q++) tmp[q] = r[q] * expf(cum[m * N + q]);
                for (i = 0; i < N; i++) y[i] = K->dot(S + i * N, tmp, N);
                for (s = 0; s <= m; s++) {
                    const float *bs = RL__IN(5, c0 + s), *ks = RL__IN(2, c0 + s);
                    float cb = 0, ck = 0;
                    for (q = 0; q < N; q++) {
                        float e = r[q] * expf(cum[m * N + q] - cum[s * N + q]);
                        cb += bs[q] * e;
                        ck += ks[q] * e;
                    }
                    K->axpy(y, cb, sa + s * N, N);
                    K->axpy(y, ck, RL__IN(3, c0 + s), N);
                }
            }
            /* S_L = S0 diag(γ_L) + Σ_s sa_s (b_s⊙γ_L/γ_s)ᵀ + Σ_s v_s (k_s⊙γ_L/γ_s)ᵀ */
            for (q = 0; q < N; q++) tmp[q] = expf(cum[(len - 1) * N + q]);
            for (i = 0; i < N; i++) K->mul(S + i * N, S + i * N, tmp, N);
            for (s = 0; s < len; s++) {
                const float *bs = RL__IN(5, c0 + s), *ks = RL__IN(2, c0 + s), *vs = RL__IN(3, c0 + s);
                for (q = 0; q < N; q++) tmp[q] = expf(cum[(len - 1) * N + q] - cum[s * N + q]);
                for (i = 0; i < N; i++) {
                    float *Si = S + i * N;
                    for (q = 0; q < N; q++) Si[q] += (sa[s * N + i] * bs[q] + vs[i] * ks[q]) * tmp[q];
                }
            }
        }
#undef RL__IN
    }
    RL_FREE(cum);
}

static rl_tensor *rl__state_like(rl_ctx *c, int64_t B, int64_t H, int64_t N) {
    int64_t s[4];
    s[0] = B; s[1] = H; s[2] = N; s[3] = N;
    return rl_new(c, 4, s);
}

static void rl__scan_bwd(rl_ctx *c, rl__node *n) {
    rl__scan_job *j = (rl__scan_job *)(void *)n->aux;
    int q, nin = n->i[0] == 6 ? 5 : 7;
    for (q = 0; q < nin; q++)
        if (rl__wants(n->in[q]) && !rl__grad(c, n->in[q])) return;
    j->n = n;
    if (n->i[0] == 6) rl_pool_for(c->pool, j->B * j->KVH, 1, rl__wkv6_bwd_task, j);
    else rl_pool_for(c->pool, j->B * j->H, 1, rl__wkv7_bwd_task, j);
}

/* shared set-up of both scans: shapes, outputs, node, kept-state buffer */
static rl_tensor *rl__scan(rl_ctx *c, int kind, rl_tensor *const *in, int n_in, int64_t T, int H, int KVH,
                           rl_tensor **state_out) {
    rl_tensor *y, *S;
    rl__node *n;
    rl__scan_job *j;
    rl_tensor *r = in[0], *state = in[n_in - 1];
    int64_t R, N, B;
    int q;
    for (q = 0; q < n_in - 1; q++)
        if (rl__bad(c, in[q])) return NULL;
    if (state && rl__bad(c, state)) return NULL;
    R = rl_rows(r);
    if (H < 1 || KVH < 1 || H % KVH || rl_cols(r) % H || T < 1 || R % T)
        return rl__op_fail(c, RL_ERR_ARG, "wkv%d: %d heads / %d kv heads / T %lld do not fit r [%lld, %lld]", kind, H, KVH,
                           (long long)T, (long long)R, (long long)rl_cols(r));
    N = rl_cols(r) / H;
    B = R / T;
    for (q = 1; q < n_in - 1; q++) {
        int64_t want = (kind == 6 && (q == 1 || q == 2)) ? KVH * N : H * N;
        if (rl_rows(in[q]) != R || rl_cols(in[q]) != want)
            return rl__op_fail(c, RL_ERR_ARG, "wkv%d: input %d is [%lld, %lld], expected [%lld, %lld]", kind, q,
                               (long long)rl_rows(in[q]), (long long)rl_cols(in[q]), (long long)R, (long long)want);
    }
    if (state && state->n != B * H * N * N)
        return rl__op_fail(c, RL_ERR_ARG, "wkv%d: state has %lld values, expected [%lld, %lld, %lld, %lld]", kind,
                           (long long)state->n, (long long)B, (long long)H, (long long)N, (long long)N);
    if (!(y = rl__like(c, r)) || !(S = rl__state_like(c, B, H, N)) || !(n = rl__node_newv(c, rl__scan_bwd, y, n_in, in)))
        return NULL;
    n->out2 = S;
    n->i[0] = kind;
    S->requires_grad = y->requires_grad;
    j = (rl__scan_job *)rl_arena_zalloc(&c->arena, sizeof *j);
    if (!j) return rl__op_fail(c, RL_ERR_NOMEM, "wkv: out of memory");
    n->aux = (float *)(void *)j;
    j->n = n;
    j->B = B; j->T = T; j->H = H; j->KVH = KVH; j->N = N;
    j->n_ck = (T + RL__SCAN_CK - 1) / RL__SCAN_CK;
    if (y->requires_grad && !(j->ck = (float *)rl_arena_alloc(&c->arena, sizeof(float) * (size_t)(B * H * j->n_ck * N * N))))
        return rl__op_fail(c, RL_ERR_NOMEM, "wkv: out of memory for kept states");
    if (c->scan_chunk > 0 && !y->requires_grad) {
        rl__chunk_job cj;
        cj.n = n;
        cj.B = B; cj.T = T; cj.H = H; cj.KVH = KVH; cj.N = N; cj.L = c->scan_chunk;
        rl_pool_for(c->pool, B * H, 1, kind == 6 ? rl__wkv6_chunk_task : rl__wkv7_chunk_task, &cj);
    } else {
        rl_pool_for(c->pool, B * H, 1, kind == 6 ? rl__wkv6_fwd_task : rl__wkv7_fwd_task, j);
    }
    if (state_out) *state_out = S;
    return y;
}

rl_tensor *rl_wkv6(rl_ctx *c, rl_tensor *r, rl_tensor *k, rl_tensor *v, rl_tensor *logw, int64_t T, int H, int KVH,
                   rl_tensor *state, rl_tensor **state_out) {
    rl_tensor *in[5];
    in[0] = r; in[1] = k; in[2] = v; in[3] = logw; in[4] = state;
    return rl__scan(c, 6, in, 5, T, H, KVH, state_out);
}

rl_tensor *rl_wkv7(rl_ctx *c, rl_tensor *r, rl_tensor *w, rl_tensor *k, rl_tensor *v, rl_tensor *a, rl_tensor *b,
                   int64_t T, int H, rl_tensor *state, rl_tensor **state_out) {
    rl_tensor *in[7];
    in[0] = r; in[1] = w; in[2] = k; in[3] = v; in[4] = a; in[5] = b; in[6] = state;
    return rl__scan(c, 7, in, 7, T, H, H, state_out);
}

/* ---- small ops the mixers need ---- */

static void rl__logdecay_bwd(rl_ctx *c, rl__node *n) {
    int64_t i;
    float *gd = rl__grad(c, n->in[0]);
    for (i = 0; i < n->out->n; i++) /* d/dd of −exp(d) where not clamped, 0 where clamped */
        if (rl_f32(n->out)[i] > -5.0f) gd[i] += n->out->grad[i] * rl_f32(n->out)[i];
}
rl_tensor *rl_rwkv6_logdecay(rl_ctx *c, rl_tensor *d) {
    rl_tensor *y;
    int64_t i;
    if (rl__bad(c, d) || !(y = rl__like(c, d))) return NULL;
    for (i = 0; i < d->n; i++) {
        float v = -expf(rl_f32(d)[i]);
        rl_f32(y)[i] = v > -5.0f ? v : -5.0f;
    }
    rl__node_new(c, rl__logdecay_bwd, y, d, NULL, NULL, NULL);
    return y;
}

static void rl__seq_last_bwd(rl_ctx *c, rl__node *n) {
    int64_t T = n->i[0], C = rl_cols(n->out), b;
    float *gx = rl__grad(c, n->in[0]);
    for (b = 0; b < rl_rows(n->out); b++) rl__kern_get()->axpy(gx + ((b + 1) * T - 1) * C, 1.0f, n->out->grad + b * C, C);
}
rl_tensor *rl_seq_last(rl_ctx *c, rl_tensor *x, int64_t T) {
    rl_tensor *y;
    rl__node *n;
    int64_t C, B, b;
    if (rl__bad(c, x)) return NULL;
    if (T < 1 || rl_rows(x) % T) return rl__op_fail(c, RL_ERR_ARG, "seq_last: %lld rows are not sequences of %lld", (long long)rl_rows(x), (long long)T);
    C = rl_cols(x);
    B = rl_rows(x) / T;
    if (!(y = rl_new2(c, B, C)) || !(n = rl__node_new(c, rl__seq_last_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = T;
    for (b = 0; b < B; b++) memcpy(rl_f32(y) + b * C, rl_f32(x) + ((b + 1) * T - 1) * C, sizeof(float) * (size_t)C);
    return y;
}

/* A 2-D view of rows [row0, row0+rows) of a parameter (data and gradient shared). */
static rl_tensor *rl__param_rows(rl_ctx *c, rl_tensor *p, int64_t row0, int64_t rows, int64_t cols) {
    rl_tensor *v = (rl_tensor *)rl_arena_alloc(&c->arena, sizeof *v);
    int64_t s[2];
    if (!v) return rl__op_fail(c, RL_ERR_NOMEM, "view: out of memory");
    s[0] = rows;
    s[1] = cols;
    *v = rl_wrap((float *)p->data + row0 * cols, RL_F32, 2, s, p->requires_grad && p->grad);
    v->grad = p->grad ? p->grad + row0 * cols : NULL;
    v->name = p->name;
    return v;
}

/* ---- 5b. sequence mixers ---- */

int rl_lora_rank(int64_t C, double e, double m) {
    double v = floor(pow((double)C, e) * m / 32.0 + 0.5);
    return (int)(v < 1 ? 1 : v) * 32;
}

typedef struct { const char *name; size_t off; int kinds; } rl__pdesc;
#define RL__PD(name, field, kinds) { name, offsetof(rl_mixer, field), kinds }
enum { RL__KA = 1, RL__K6 = 2, RL__K7 = 4, RL__KALL = 7 };
static const rl__pdesc rl__mixer_pdesc[] = {
    RL__PD("q_proj.weight", q_w, RL__KALL), RL__PD("q_proj.bias", q_b, RL__KALL),
    RL__PD("k_proj.weight", k_w, RL__KALL), RL__PD("k_proj.bias", k_b, RL__KALL),
    RL__PD("v_proj.weight", v_w, RL__KALL), RL__PD("v_proj.bias", v_b, RL__KALL),
    RL__PD("o_proj.weight", o_w, RL__KALL),
    RL__PD("time_maa_x", maa_x, RL__K6), RL__PD("time_maa_r", maa_r, RL__K6), RL__PD("time_maa_k", maa_k, RL__K6),
    RL__PD("time_maa_v", maa_v, RL__K6), RL__PD("time_maa_w", maa_w, RL__K6), RL__PD("time_maa_g", maa_g, RL__K6),
    RL__PD("time_maa_w1", maa_w1, RL__K6), RL__PD("time_maa_w2", maa_w2, RL__K6),
    RL__PD("time_decay", decay, RL__K6), RL__PD("time_decay_w1", decay_w1, RL__K6),
    RL__PD("time_decay_w2", decay_w2, RL__K6), RL__PD("gate.weight", gate_w, RL__K6),
    RL__PD("w0", w0, RL__K7), RL__PD("w1", w1, RL__K7), RL__PD("w2", w2, RL__K7),
    RL__PD("a0", a0, RL__K7), RL__PD("a1", a1, RL__K7), RL__PD("a2", a2, RL__K7),
    RL__PD("v0", v0, RL__K7), RL__PD("v1", v1, RL__K7), RL__PD("v2", v2, RL__K7),
    RL__PD("g1", g1, RL__K7), RL__PD("g2", g2, RL__K7), RL__PD("k_k", k_k, RL__K7), RL__PD("k_a", k_a, RL__K7),
    RL__PD("r_k", r_k, RL__K7), RL__PD("ln_x.weight", lnx_w, RL__K7), RL__PD("ln_x.bias", lnx_b, RL__K7)};
#undef RL__PD

static int rl__mixer_kindbit(rl_mixer_kind k) { return k == RL_MIXER_RWKV6 ? RL__K6 : k == RL_MIXER_RWKV7 ? RL__K7 : RL__KA; }

/* Shape of parameter `name` under cfg; 0 = the parameter does not exist in this config. */
static int rl__mixer_shape(const rl_mixer_cfg *g, const char *name, int64_t *s) {
    int64_t C = g->C, HN = g->H * g->N, KN = g->KVH * g->N;
    int i;
    for (i = 0; i < 4; i++) s[i] = 1;
#define RL__IS(x) (!strcmp(name, x))
    if (RL__IS("q_proj.weight")) { s[0] = HN; s[1] = C; return 2; }
    if (RL__IS("k_proj.weight") || RL__IS("v_proj.weight")) { s[0] = KN; s[1] = C; return 2; }
    if (RL__IS("q_proj.bias")) { s[0] = HN; return g->attn_bias ? 1 : 0; }
    if (RL__IS("k_proj.bias") || RL__IS("v_proj.bias")) { s[0] = KN; return g->attn_bias ? 1 : 0; }
    if (RL__IS("o_proj.weight")) { s[0] = C; s[1] = HN; return 2; }
    if (!strncmp(name, "time_maa_", 9) && name[9] && !name[10]) { s[2] = C; return 3; }
    if (RL__IS("time_maa_w1")) { s[0] = C; s[1] = 5 * g->r_ts; return 2; }
    if (RL__IS("time_maa_w2")) { s[0] = 5; s[1] = g->r_ts; s[2] = C; return 3; }
    if (RL__IS("time_decay")) { s[2] = C; return 3; }
    if (RL__IS("time_decay_w1")) { s[0] = C; s[1] = g->r_d; return 2; }
    if (RL__IS("time_decay_w2")) { s[0] = g->r_d; s[1] = C; return 2; }
    if (RL__IS("gate.weight")) { s[0] = C; s[1] = C; return 2; }
    if (RL__IS("w0") || RL__IS("a0") || RL__IS("v0") || RL__IS("k_k") || RL__IS("k_a")) { s[2] = C; return 3; }
    if (RL__IS("w1") || RL__IS("a1") || RL__IS("v1") || RL__IS("g1")) {
        s[0] = C;
        s[1] = name[0] == 'w' ? g->r_w : name[0] == 'a' ? g->r_a : name[0] == 'v' ? g->r_v : g->r_g;
        return 2;
    }
    if (RL__IS("w2") || RL__IS("a2") || RL__IS("v2") || RL__IS("g2")) {
        s[0] = name[0] == 'w' ? g->r_w : name[0] == 'a' ? g->r_a : name[0] == 'v' ? g->r_v : g->r_g;
        s[1] = C;
        return 2;
    }
    if (RL__IS("r_k")) { s[0] = g->H; s[1] = g->N; return 2; }
    if (RL__IS("ln_x.weight") || RL__IS("ln_x.bias")) { s[0] = C; return g->groupnorm_att ? 1 : 0; }
#undef RL__IS
    return 0;
}

void rl_mixer_params(rl_mixer *m, rl_param_fn fn, void *user) {
    size_t i;
    int bit = rl__mixer_kindbit(m->cfg.kind);
    for (i = 0; i < sizeof rl__mixer_pdesc / sizeof rl__mixer_pdesc[0]; i++) {
        rl_tensor *t = (rl_tensor *)(void *)((char *)m + rl__mixer_pdesc[i].off);
        if ((rl__mixer_pdesc[i].kinds & bit) && t->n > 0) fn(user, rl__mixer_pdesc[i].name, t);
    }
}

rl_status rl_mixer_alloc(rl_mixer *m, const rl_mixer_cfg *cfg, rl_arena *params, rl_arena *grads) {
    size_t i;
    int bit = rl__mixer_kindbit(cfg->kind);
    if (cfg->C < 1 || cfg->H < 1 || cfg->KVH < 1 || cfg->N < 2 || cfg->H % cfg->KVH || cfg->N % 2)
        return rl__fail(RL_ERR_ARG, "mixer: C=%lld H=%lld KVH=%lld N=%lld do not fit (H must be a multiple of KVH, N even)",
                        (long long)cfg->C, (long long)cfg->H, (long long)cfg->KVH, (long long)cfg->N);
    if (cfg->kind == RL_MIXER_RWKV6 && (cfg->r_ts < 1 || cfg->r_d < 1))
        return rl__fail(RL_ERR_ARG, "RAD-RWKV6 mixer: LoRA ranks must be positive (token shift %d, decay %d)", cfg->r_ts, cfg->r_d);
    if (cfg->kind == RL_MIXER_RWKV7 && (cfg->r_w < 1 || cfg->r_a < 1 || cfg->r_v < 1 || cfg->r_g < 1))
        return rl__fail(RL_ERR_ARG, "RAD-RWKV7 mixer: LoRA ranks must be positive (w %d, a %d, v %d, g %d)", cfg->r_w, cfg->r_a, cfg->r_v, cfg->r_g);
    if ((cfg->use_rope || cfg->kind == RL_MIXER_ATTENTION) && !cfg->inv_freq)
        return rl__fail(RL_ERR_ARG, "mixer: RoPE needs inv_freq");
    if (cfg->kind == RL_MIXER_ATTENTION ? cfg->H * cfg->N < 1 : cfg->H * cfg->N != cfg->C)
        return rl__fail(RL_ERR_UNSUPPORTED, "RAD-RWKV mixer: heads × head size (%lld) must equal the model width %lld",
                        (long long)(cfg->H * cfg->N), (long long)cfg->C);
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    for (i = 0; i < sizeof rl__mixer_pdesc / sizeof rl__mixer_pdesc[0]; i++) {
        rl_tensor *t = (rl_tensor *)(void *)((char *)m + rl__mixer_pdesc[i].off);
        int64_t s[4];
        int nd;
        if (!(rl__mixer_pdesc[i].kinds & bit) || !(nd = rl__mixer_shape(cfg, rl__mixer_pdesc[i].name, s))) continue;
        *t = rl_wrap(NULL, RL_F32, nd, s, grads != NULL);
        t->name = rl__mixer_pdesc[i].name;
        if (!params) continue;
        if (!(t->data = rl_arena_zalloc(params, sizeof(float) * (size_t)t->n)) ||
            (grads && !(t->grad = (float *)rl_arena_zalloc(grads, sizeof(float) * (size_t)t->n))))
            return rl__fail(RL_ERR_NOMEM, "mixer: out of memory for %s", t->name);
    }
    return RL_OK;
}

static rl_tensor *rl__opt(rl_tensor *t) { return t->data ? t : NULL; }

static rl_tensor *rl__rwkv6_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io) {
    const rl_mixer_cfg *g = &m->cfg;
    rl_tensor *xs[5], *r, *k, *v, *d, *logw, *gate, *p;
    int i;
    if (g->use_tokenshift) {
        static const size_t mu_off[5] = {offsetof(rl_mixer, maa_r), offsetof(rl_mixer, maa_k), offsetof(rl_mixer, maa_v),
                                         offsetof(rl_mixer, maa_w), offsetof(rl_mixer, maa_g)};
        rl_tensor *dx = rl_sub(c, rl_token_shift(c, x, T, io ? io->shift_in : NULL), x);          /* δ = x_prev − x */
        rl_tensor *h = rl_tanh(c, rl_matmul(c, rl_add(c, x, rl_mul_row(c, dx, &m->maa_x)), &m->maa_w1));
        for (i = 0; i < 5; i++) { /* x_□ = x + δ ⊙ (μ_□ + tanh(xxx·W1)_□ · W2[□]), □ = r, k, v, w, g */
            rl_tensor *mu = (rl_tensor *)(void *)((char *)m + mu_off[i]);
            rl_tensor *mi = rl_matmul(c, rl_slice_cols(c, h, i * g->r_ts, g->r_ts), rl__param_rows(c, &m->maa_w2, i * g->r_ts, g->r_ts, g->C));
            xs[i] = rl_add(c, x, rl_mul(c, dx, rl_add_row(c, mi, mu)));
        }
        if (io) io->shift_out = rl_seq_last(c, x, T);
    } else {
        for (i = 0; i < 5; i++) xs[i] = x;
    }
    r = rl_linear(c, xs[0], &m->q_w, rl__opt(&m->q_b));
    k = rl_linear(c, xs[1], &m->k_w, rl__opt(&m->k_b));
    v = rl_linear(c, xs[2], &m->v_w, rl__opt(&m->v_b));
    d = rl_add_row(c, rl_matmul(c, rl_tanh(c, rl_matmul(c, xs[3], &m->decay_w1)), &m->decay_w2), &m->decay);
    logw = rl_rwkv6_logdecay(c, d);
    gate = rl_sigmoid(c, rl_linear(c, xs[4], &m->gate_w, NULL));
    if (g->use_rope) {
        r = rl_rope(c, r, T, (int)g->N, g->inv_freq, pos0);
        k = rl_rope(c, k, T, (int)g->N, g->inv_freq, pos0);
    }
    p = rl_wkv6(c, r, k, v, logw, T, (int)g->H, (int)g->KVH, io ? io->state_in : NULL, io ? &io->state_out : NULL);
    return rl_linear(c, rl_mul(c, gate, p), &m->o_w, NULL);
}

static rl_tensor *rl__rwkv7_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io) {
    const rl_mixer_cfg *g = &m->cfg;
    int H = (int)g->H, KVH = (int)g->KVH, N = (int)g->N;
    rl_tensor *r, *k, *v, *w, *a, *gate, *kappa, *ktil, *y;
    r = rl_linear(c, x, &m->q_w, rl__opt(&m->q_b));
    k = rl_linear(c, x, &m->k_w, rl__opt(&m->k_b));
    v = rl_linear(c, x, &m->v_w, rl__opt(&m->v_b));
    /* w = exp(−e^−0.5 · σ(w0 + tanh(x·w1)·w2)) */
    w = rl_exp(c, rl_scale(c, rl_sigmoid(c, rl_add_row(c, rl_matmul(c, rl_tanh(c, rl_matmul(c, x, &m->w1)), &m->w2), &m->w0)), -0.60653065971263342f));
    a = rl_sigmoid(c, rl_add_row(c, rl_matmul(c, rl_matmul(c, x, &m->a1), &m->a2), &m->a0));
    gate = rl_matmul(c, rl_sigmoid(c, rl_matmul(c, x, &m->g1)), &m->g2);
    if (g->use_rope) {
        r = rl_rope(c, r, T, N, g->inv_freq, pos0);
        k = rl_rope(c, k, T, N, g->inv_freq, pos0);
    }
    if (KVH != H) {
        k = rl_repeat_kv(c, k, H, KVH);
        v = rl_repeat_kv(c, v, H, KVH);
    }
    if (g->balance_state) { /* paper v4: κ = normalize(k), k̃ = k ⊙ (1 − w + a) */
        kappa = rl_l2norm(c, k, N, 1e-12f);
        ktil = rl_mul(c, k, rl_add_scalar(c, rl_sub(c, a, w), 1.0f));
    } else { /* release: κ = normalize(k ⊙ k_k), k̃ = k ⊙ (1 + (a − 1) ⊙ k_a) */
        kappa = rl_l2norm(c, rl_mul_row(c, k, &m->k_k), N, 1e-12f);
        ktil = rl_mul(c, k, rl_add_scalar(c, rl_mul_row(c, rl_add_scalar(c, a, -1.0f), &m->k_a), 1.0f));
    }
    if (g->layer == 0) {
        if (io) io->v_first = v;
    } else { /* value residual: v ← v + (v_first − v) ⊙ σ(v0 + x·v1·v2) */
        rl_tensor *nu = rl_sigmoid(c, rl_add_row(c, rl_matmul(c, rl_matmul(c, x, &m->v1), &m->v2), &m->v0));
        if (!io || !io->v_first) return rl__op_fail(c, RL_ERR_ARG, "RAD-RWKV7 layer %d: needs v_first from layer 0", g->layer);
        v = rl_add(c, v, rl_mul(c, rl_sub(c, io->v_first, v), nu));
    }
    y = rl_wkv7(c, r, w, ktil, v, rl_scale(c, kappa, -1.0f), rl_mul(c, kappa, a), T, H, io ? io->state_in : NULL,
                io ? &io->state_out : NULL);
    y = g->groupnorm_att ? rl_groupnorm(c, y, &m->lnx_w, &m->lnx_b, H, g->ln_eps) : rl_scale(c, y, 1.0f / sqrtf((float)N));
    return rl_linear(c, rl_mul(c, y, gate), &m->o_w, NULL);
}

/* Decoding attention (no gradient, one sequence): the T new rows of k and v are appended
   to the cache at pos0, and query t attends to cache rows 0 .. pos0+t. */
typedef struct {
    const float *q, *kc, *vc;
    float *out;
    int64_t T, pos0, H, KVH, N;
} rl__attn_cache_job;
static void rl__attn_cache_task(void *ctx, int64_t h0, int64_t h1, int tid) {
    rl__attn_cache_job *j = (rl__attn_cache_job *)ctx;
    const rl__kern *K = rl__kern_get();
    int64_t N = j->N, Cq = j->H * N, Ck = j->KVH * N, h, t, s, len = j->pos0 + j->T;
    float scale = 1.0f / sqrtf((float)N), *p = (float *)RL_MALLOC(sizeof(float) * (size_t)len);
    RL__UNUSED(tid);
    if (!p) return;
    for (h = h0; h < h1; h++) {
        int64_t kvh = h / (j->H / j->KVH);
        for (t = 0; t < j->T; t++) {
            int64_t upto = j->pos0 + t + 1;
            float *o = j->out + t * Cq + h * N;
            for (s = 0; s < upto; s++) p[s] = K->dot(j->q + t * Cq + h * N, j->kc + s * Ck + kvh * N, N) * scale;
            K->softmax(p, p, upto);
            memset(o, 0, sizeof(float) * (size_t)N);
            for (s = 0; s < upto; s++) K->axpy(o, p[s], j->vc + s * Ck + kvh * N, N);
        }
    }
    RL_FREE(p);
}

static rl_tensor *rl__attention_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io) {
    const rl_mixer_cfg *g = &m->cfg;
    rl_tensor *q = rl_linear(c, x, &m->q_w, rl__opt(&m->q_b));
    rl_tensor *k = rl_linear(c, x, &m->k_w, rl__opt(&m->k_b));
    rl_tensor *v = rl_linear(c, x, &m->v_w, rl__opt(&m->v_b)), *y;
    q = rl_rope(c, q, T, (int)g->N, g->inv_freq, pos0);
    k = rl_rope(c, k, T, (int)g->N, g->inv_freq, pos0);
    if (!io || !io->kcache || !q || !k || !v) {
        y = rl_attention(c, q, k, v, T, (int)g->H, (int)g->KVH);
    } else {
        rl__attn_cache_job j;
        int64_t Ck = g->KVH * g->N;
        if (rl_rows(x) != T || pos0 + T > io->cache_cap)
            return rl__op_fail(c, RL_ERR_ARG, "attention cache: one sequence of %lld tokens at %lld exceeds %lld", (long long)T, (long long)pos0, (long long)io->cache_cap);
        memcpy(io->kcache + pos0 * Ck, rl_f32(k), sizeof(float) * (size_t)(T * Ck));
        memcpy(io->vcache + pos0 * Ck, rl_f32(v), sizeof(float) * (size_t)(T * Ck));
        if (!(y = rl__like(c, q))) return NULL;
        j.q = rl_f32(q); j.kc = io->kcache; j.vc = io->vcache; j.out = rl_f32(y);
        j.T = T; j.pos0 = pos0; j.H = g->H; j.KVH = g->KVH; j.N = g->N;
        rl_pool_for(c->pool, g->H, 1, rl__attn_cache_task, &j);
    }
    return rl_linear(c, y, &m->o_w, NULL);
}

rl_tensor *rl_mixer_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io) {
    if (!x || c->err) return NULL;
    switch (m->cfg.kind) {
    case RL_MIXER_RWKV6: return rl__rwkv6_forward(c, m, x, T, pos0, io);
    case RL_MIXER_RWKV7: return rl__rwkv7_forward(c, m, x, T, pos0, io);
    default: return rl__attention_forward(c, m, x, T, pos0, io);
    }
}

/* ---- 5c. the model: teacher transformer or student ---- */

void rl_student_opts_default(rl_student_opts *o, rl_mixer_kind kind) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->use_rope = kind == RL_MIXER_RWKV7;
    o->use_tokenshift = kind == RL_MIXER_RWKV6;
    o->balance_state = 1;
    o->groupnorm_att = 0;
    o->seed = 1337;
}

typedef struct {
    rl_param_fn fn;
    void *user;
    char name[160];
    size_t pre;
} rl__pvisit;
static void rl__pvisit_fn(void *u, const char *name, rl_tensor *t) {
    rl__pvisit *v = (rl__pvisit *)u;
    snprintf(v->name + v->pre, sizeof v->name - v->pre, "%s", name);
    v->fn(v->user, v->name, t);
}

void rl_model_params(rl_model *m, rl_param_fn fn, void *user) {
    rl__pvisit v;
    int64_t l;
    v.fn = fn;
    v.user = user;
    fn(user, "model.embed_tokens.weight", &m->embed);
    for (l = 0; l < m->cfg.n_layers; l++) {
        rl_block *b = &m->blocks[l];
        char nm[160];
#define RL__BP(field, s) (snprintf(nm, sizeof nm, "model.layers.%lld." s, (long long)l), fn(user, nm, &b->field))
        RL__BP(ln1, "input_layernorm.weight");
        v.pre = (size_t)snprintf(v.name, sizeof v.name, "model.layers.%lld.self_attn.", (long long)l);
        rl_mixer_params(&b->mix, rl__pvisit_fn, &v);
        RL__BP(ln2, "post_attention_layernorm.weight");
        RL__BP(gate, "mlp.gate_proj.weight");
        RL__BP(up, "mlp.up_proj.weight");
        RL__BP(down, "mlp.down_proj.weight");
#undef RL__BP
    }
    fn(user, "model.norm.weight", &m->norm);
    if (!m->cfg.tie_embeddings) fn(user, "lm_head.weight", &m->head);
}

static void rl__count_fn(void *u, const char *name, rl_tensor *t) {
    RL__UNUSED(name);
    *(int64_t *)u += t->n;
}
int64_t rl_model_n_params(rl_model *m) {
    int64_t n = 0;
    rl_model_params(m, rl__count_fn, &n);
    return n;
}

static rl_tensor rl__shape2(int64_t a, int64_t b, int nd) {
    int64_t s[2];
    s[0] = a;
    s[1] = b;
    return rl_wrap(NULL, RL_F32, nd, nd == 1 ? s + 1 : s, 0);
}

/* Shapes of every parameter from cfg and the student options (data not allocated). */
/* The student options a config.json describes; LoRA ranks it does not give are read
   from the tensor shapes (formats.md: released checkpoints differ from the formula). */
static void rl__student_opts_from_config(rl_student_opts *o, const rl_config *c, const rl_st *w) {
    char nm[128];
    int64_t l = c->n_layers > c->n_attention_layers ? 0 : -1, lv = c->n_layers - c->n_attention_layers > 1 ? 1 : l;
    const rl_st_tensor *t;
    rl_student_opts_default(o, c->student == 6 ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
    o->keep_attention = c->n_attention_layers;
    o->use_rope = c->use_rope;
    o->use_tokenshift = c->use_tokenshift;
    o->balance_state = c->balance_state;
    o->groupnorm_att = c->groupnorm_att;
    o->r_ts = c->lora_tokenshift;
    o->r_d = o->r_w = c->lora_decay;
    o->r_a = c->lora_iclr;
    o->r_v = c->lora_value_residual;
    o->r_g = c->lora_gate;
#define RL__RANK(field, layer, name, div)                                                               \
    if (!o->field && layer >= 0) {                                                                      \
        snprintf(nm, sizeof nm, "model.layers.%lld.self_attn." name, (long long)layer);                 \
        if ((t = rl_st_find(w, nm)) && t->ndim == 2) o->field = (int)(t->shape[1] / div);               \
    }
    RL__RANK(r_ts, l, "time_maa_w1", 5)
    RL__RANK(r_d, l, "time_decay_w1", 1)
    RL__RANK(r_w, l, "w1", 1)
    RL__RANK(r_a, l, "a1", 1)
    RL__RANK(r_v, lv, "v1", 1)
    RL__RANK(r_g, l, "g1", 1)
#undef RL__RANK
}

static rl_status rl__model_shape(rl_model *m, const rl_config *cfg, const rl_student_opts *so) {
    int64_t l, C = cfg->hidden_size, F = cfg->intermediate_size; /* m: zeroed, or with weights opened */
    if (cfg->o_bias || cfg->mlp_bias)
        return rl__fail(RL_ERR_UNSUPPORTED, "model: biases on o_proj or on the MLP (Llama attention_bias/mlp_bias) are not supported");
    if (cfg->n_heads * cfg->head_dim != cfg->hidden_size && so && so->kind != RL_MIXER_ATTENTION)
        return rl__fail(RL_ERR_UNSUPPORTED, "student: heads × head_dim (%lld) must equal hidden_size (%lld) for RAD-RWKV mixers",
                        (long long)(cfg->n_heads * cfg->head_dim), (long long)cfg->hidden_size);
    m->cfg = *cfg;
    if (so) m->student = *so;
    else m->student.kind = RL_MIXER_ATTENTION;
    m->blocks = (rl_block *)RL_MALLOC(sizeof(rl_block) * (size_t)cfg->n_layers);
    m->inv_freq = (float *)RL_MALLOC(sizeof(float) * (size_t)(cfg->head_dim / 2 + 1));
    if (!m->blocks || !m->inv_freq) return rl__fail(RL_ERR_NOMEM, "model: out of memory");
    memset(m->blocks, 0, sizeof(rl_block) * (size_t)cfg->n_layers);
    rl_rope_inv_freq(cfg, m->inv_freq);
    rl_arena_init(&m->params, (size_t)64 << 20);
    rl_arena_init(&m->grads, (size_t)64 << 20);
    m->embed = rl__shape2(cfg->vocab_size, C, 2);
    m->norm = rl__shape2(1, C, 1);
    m->head = rl__shape2(cfg->vocab_size, C, 2);
    for (l = 0; l < cfg->n_layers; l++) {
        rl_block *b = &m->blocks[l];
        rl_mixer_cfg mc;
        rl_status st;
        int attn = !so || so->kind == RL_MIXER_ATTENTION || l >= cfg->n_layers - so->keep_attention;
        memset(&mc, 0, sizeof mc);
        mc.kind = attn ? RL_MIXER_ATTENTION : so->kind;
        mc.layer = (int)l;
        mc.n_layers = (int)cfg->n_layers;
        mc.C = C;
        mc.H = cfg->n_heads;
        mc.KVH = cfg->n_kv_heads;
        mc.N = cfg->head_dim;
        mc.attn_bias = cfg->attn_bias;
        mc.inv_freq = m->inv_freq;
        mc.use_rope = attn ? 1 : so->use_rope;
        if (!attn) {
            mc.use_tokenshift = so->use_tokenshift;
            mc.balance_state = so->balance_state;
            mc.groupnorm_att = so->groupnorm_att;
            mc.ln_eps = 1e-5f * (float)cfg->head_dim;
            mc.r_ts = so->r_ts ? so->r_ts : rl_lora_rank(C, 0.5, 1.8);
            mc.r_d = so->r_d ? so->r_d : rl_lora_rank(C, 0.5, 1.8);
            mc.r_w = so->r_w ? so->r_w : rl_lora_rank(C, 0.5, 1.8);
            mc.r_a = so->r_a ? so->r_a : rl_lora_rank(C, 0.5, 1.8);
            mc.r_v = so->r_v ? so->r_v : rl_lora_rank(C, 0.5, 1.3);
            mc.r_g = so->r_g ? so->r_g : rl_lora_rank(C, 0.8, 0.6);
        }
        if ((st = rl_mixer_alloc(&b->mix, &mc, NULL, NULL)) != RL_OK) return st;
        b->ln1 = rl__shape2(1, C, 1);
        b->ln2 = rl__shape2(1, C, 1);
        b->gate = rl__shape2(F, C, 2);
        b->up = rl__shape2(F, C, 2);
        b->down = rl__shape2(C, F, 2);
    }
    return RL_OK;
}

/* F32 storage (and gradients when trainable) for every parameter. */
typedef struct { rl_model *m; rl_status st; } rl__alloc_ctx;
static void rl__alloc_fn(void *u, const char *name, rl_tensor *t) {
    rl__alloc_ctx *a = (rl__alloc_ctx *)u;
    if (a->st) return;
    t->name = NULL;
    t->dtype = RL_F32;
    t->requires_grad = a->m->trainable;
    if (!(t->data = rl_arena_zalloc(&a->m->params, sizeof(float) * (size_t)t->n)) ||
        (a->m->trainable && !(t->grad = (float *)rl_arena_zalloc(&a->m->grads, sizeof(float) * (size_t)t->n))))
        a->st = rl__fail(RL_ERR_NOMEM, "model: out of memory for %s (%lld values)", name, (long long)t->n);
}

/* Loading: 2-D matrices of a frozen model point into the mapped file when its dtype is
   usable in place (BF16/F32, aligned); everything else is read as F32. */
typedef struct { rl_model *m; const char *dir; rl_status st; } rl__load_ctx;
static void rl__load_fn(void *u, const char *name, rl_tensor *t) {
    rl__load_ctx *lc = (rl__load_ctx *)u;
    const rl_st_tensor *f;
    const char *src = name;
    rl__alloc_ctx ac;
    if (lc->st) return;
    f = rl_st_find(&lc->m->weights, name);
    if (!f && !strcmp(name, "lm_head.weight")) { /* untied config without a head: the embeddings */
        rl_log(RL_LOG_WARN, "%s: no lm_head.weight although tie_word_embeddings is false; using the embeddings", lc->dir);
        src = "model.embed_tokens.weight";
        f = rl_st_find(&lc->m->weights, src);
    }
    if (!f) {
        lc->st = rl__fail(RL_ERR_FORMAT, "%s: tensor %s is missing from the checkpoint", lc->dir, name);
        return;
    }
    if (!lc->m->trainable && t->ndim == 2 && f->supported && f->aligned && (f->dtype == RL_BF16 || f->dtype == RL_F32) &&
        f->ndim == 2 && f->shape[0] == t->shape[0] && f->shape[1] == t->shape[1]) {
        t->data = (void *)(uintptr_t)f->data; /* read-only mapping: frozen weights are never written */
        t->dtype = f->dtype;
        return;
    }
    ac.m = lc->m;
    ac.st = RL_OK;
    rl__alloc_fn(&ac, name, t);
    if ((lc->st = ac.st) != RL_OK) return;
    lc->st = rl_st_read_f32(&lc->m->weights, src, (float *)t->data, t->ndim, t->shape);
}

static void rl__tie_head(rl_model *m) {
    if (m->cfg.tie_embeddings) {
        m->head = m->embed; /* same storage and gradient */
        m->head.name = "lm_head.weight";
    }
}

rl_status rl_model_load(rl_model *m, const char *dir, int trainable) {
    rl_config cfg;
    char path[4096];
    rl_status st;
    rl__load_ctx lc;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((st = rl_config_load(&cfg, path)) != RL_OK) return st;
    memset(m, 0, sizeof *m);
    if ((st = rl_st_open_dir(&m->weights, dir)) != RL_OK) return st;
    if (cfg.student) { /* a RADLADS student written by rl_model_save or the reference code */
        rl_student_opts so;
        rl__student_opts_from_config(&so, &cfg, &m->weights);
        st = rl__model_shape(m, &cfg, &so);
    } else {
        st = rl__model_shape(m, &cfg, NULL);
    }
    m->has_weights = 1;
    if (st != RL_OK) {
        rl_model_free(m);
        return st;
    }
    m->trainable = trainable;
    lc.m = m;
    lc.dir = dir;
    lc.st = RL_OK;
    rl_model_params(m, rl__load_fn, &lc);
    if (lc.st != RL_OK) {
        rl_model_free(m);
        return lc.st;
    }
    rl__tie_head(m);
    return RL_OK;
}

void rl_model_free(rl_model *m) {
    rl_arena_free(&m->params);
    rl_arena_free(&m->grads);
    if (m->has_weights) rl_st_close(&m->weights);
    RL_FREE(m->blocks);
    RL_FREE(m->inv_freq);
    memset(m, 0, sizeof *m);
}

/* ---- forward (training and scoring) ---- */

static rl_tensor *rl__mlp(rl_ctx *c, rl_block *b, rl_tensor *h) {
    return rl_linear(c, rl_swiglu(c, rl_linear(c, h, &b->gate, NULL), rl_linear(c, h, &b->up, NULL)), &b->down, NULL);
}

/* The shared body of rl_model_forward (state NULL) and rl_model_step (state set, B = 1). */
static rl_tensor *rl__forward(rl_ctx *c, rl_model *m, const int32_t *ids, const rl_forward_opts *o, rl_state *s) {
    rl_tensor *x = rl_embedding(c, ids, o->B * o->T, &m->embed), *v_first = NULL;
    int64_t l, B = o->B, H = m->cfg.n_heads, N = m->cfg.head_dim, C = m->cfg.hidden_size;
    float eps = m->cfg.rms_eps;
    for (l = 0; l < m->cfg.n_layers && x; l++) {
        rl_block *b = &m->blocks[l];
        rl_tensor *h = rl_rmsnorm(c, x, &b->ln1, eps), *a, sin, shin;
        rl_mixer_io io;
        memset(&io, 0, sizeof io);
        io.v_first = v_first;
        if (s && b->mix.cfg.kind == RL_MIXER_ATTENTION) {
            io.kcache = s->k[l];
            io.vcache = s->v[l];
            io.cache_cap = s->max_ctx;
        } else if (s) {
            int64_t ss[4];
            ss[0] = B; ss[1] = H; ss[2] = N; ss[3] = N;
            sin = rl_wrap(s->S[l], RL_F32, 4, ss, 0);
            io.state_in = &sin;
            ss[1] = C;
            shin = rl_wrap(s->shift[l], RL_F32, 2, ss, 0);
            io.shift_in = &shin;
        }
        a = rl_mixer_forward(c, &b->mix, h, o->T, o->pos0, &io);
        if (b->mix.cfg.kind == RL_MIXER_RWKV7 && b->mix.cfg.layer == 0) v_first = io.v_first;
        if (s && io.state_out) memcpy(s->S[l], io.state_out->data, sizeof(float) * (size_t)(H * N * N));
        if (s && io.shift_out) memcpy(s->shift[l], io.shift_out->data, sizeof(float) * (size_t)C);
        if (o->attn_in) o->attn_in[l] = h;
        if (o->attn_out) o->attn_out[l] = a;
        x = rl_add(c, x, a);
        x = rl_add(c, x, rl__mlp(c, b, rl_rmsnorm(c, x, &b->ln2, eps)));
    }
    x = rl_rmsnorm(c, x, &m->norm, eps);
    return o->no_head ? x : rl_linear(c, x, &m->head, NULL);
}

rl_tensor *rl_model_forward(rl_ctx *c, rl_model *m, const int32_t *ids, const rl_forward_opts *o) {
    if (o->B < 1 || o->T < 1) return rl__op_fail(c, RL_ERR_ARG, "model forward: B and T must be positive");
    return rl__forward(c, m, ids, o, NULL);
}


/* ==== 6. conversion ======================================================= */
/* ---- 6a. initial values of the new student parameters (spec §3.0) ---- */

/* Orthogonal init with gain (PyTorch orthogonal_): rows of a Gaussian matrix made
   orthonormal by modified Gram-Schmidt in double (columns when rows > cols), times gain
   (times sqrt(rows/cols) when rows > cols, as the spec's ortho()). */
static void rl__ortho(float *w, int64_t rows, int64_t cols, double gain, rl_rng *rng) {
    int64_t big = RL__MAX(rows, cols), small = RL__MIN(rows, cols), i, j, p;
    double *q = (double *)RL_MALLOC(sizeof(double) * (size_t)(big * small));
    if (!q) return;
    for (i = 0; i < small * big; i++) q[i] = rl_rng_normal(rng);
    for (i = 0; i < small; i++) { /* q holds `small` vectors of length `big` */
        double nrm = 0;
        for (p = 0; p < i; p++) {
            double d = 0;
            for (j = 0; j < big; j++) d += q[i * big + j] * q[p * big + j];
            for (j = 0; j < big; j++) q[i * big + j] -= d * q[p * big + j];
        }
        for (j = 0; j < big; j++) nrm += q[i * big + j] * q[i * big + j];
        nrm = 1.0 / sqrt(nrm);
        for (j = 0; j < big; j++) q[i * big + j] *= nrm;
    }
    if (rows > cols) gain *= sqrt((double)rows / (double)cols);
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) w[i * cols + j] = (float)(gain * (rows <= cols ? q[i * cols + j] : q[j * rows + i]));
    RL_FREE(q);
}

static void rl__fill(rl_tensor *t, float v) {
    int64_t i;
    for (i = 0; i < t->n; i++) rl_f32(t)[i] = v;
}
static void rl__fill_uniform(rl_tensor *t, float lo, float hi, rl_rng *rng) {
    int64_t i;
    for (i = 0; i < t->n; i++) rl_f32(t)[i] = lo + (hi - lo) * rl_rng_uniform(rng);
}

/* Every parameter a student has and the teacher has not. ratio01 = l/(L−1); n is the
   channel over all heads. RWKV6 gate: the code's effective PyTorch Linear default
   U(−1/√C, 1/√C) (spec §3.0 note; σ ≈ 0.5 either way). */
static void rl__mixer_init_new(rl_mixer *m, rl_rng *rng) {
    const rl_mixer_cfg *g = &m->cfg;
    double r01 = g->n_layers > 1 ? (double)g->layer / (double)(g->n_layers - 1) : 0.0;
    int64_t n, C = g->C;
    if (g->kind == RL_MIXER_RWKV6) {
        rl__fill(&m->maa_x, 1.0f);
        rl__fill(&m->maa_r, 0); rl__fill(&m->maa_k, 0); rl__fill(&m->maa_v, 0); rl__fill(&m->maa_w, 0); rl__fill(&m->maa_g, 0);
        rl__fill(&m->maa_w1, 0);
        rl__fill_uniform(&m->maa_w2, -0.01f, 0.01f, rng);
        for (n = 0; n < C; n++) rl_f32(&m->decay)[n] = (float)(-6.0 + 5.0 * pow((double)n / (double)(C > 1 ? C - 1 : 1), 0.7 + 1.3 * r01));
        rl__fill(&m->decay_w1, 0);
        rl__fill_uniform(&m->decay_w2, -0.01f, 0.01f, rng);
        rl__fill_uniform(&m->gate_w, (float)(-1.0 / sqrt((double)C)), (float)(1.0 / sqrt((double)C)), rng);
    } else if (g->kind == RL_MIXER_RWKV7) {
        for (n = 0; n < C; n++)
            rl_f32(&m->w0)[n] = (float)(-7.0 + 5.0 * pow((double)n / (double)(C > 1 ? C - 1 : 1), 0.85 + sqrt(r01)) + 0.5);
        rl__fill(&m->w1, 0);
        rl__ortho(rl_f32(&m->w2), m->w2.shape[0], m->w2.shape[1], 0.1, rng);
        rl__fill(&m->a0, 0);
        rl__fill(&m->a1, 0);
        rl__ortho(rl_f32(&m->a2), m->a2.shape[0], m->a2.shape[1], 0.1, rng);
        rl__fill(&m->v0, g->layer > 0 ? 1.0f : 0.0f); /* unused at layer 0 (torch.empty there) */
        rl__fill(&m->v1, 0);
        rl__ortho(rl_f32(&m->v2), m->v2.shape[0], m->v2.shape[1], 0.1, rng);
        rl__fill(&m->g1, 0);
        rl__ortho(rl_f32(&m->g2), m->g2.shape[0], m->g2.shape[1], 0.1, rng);
        rl__fill(&m->k_k, 0.85f);
        rl__fill(&m->k_a, 1.0f);
        rl__fill(&m->r_k, 0);
        if (m->lnx_w.n) {
            rl__fill(&m->lnx_w, 1.0f);
            rl__fill(&m->lnx_b, 0.0f);
        }
    }
}


/* ---- 6b. the student from the teacher ---- */

typedef struct { rl_model *src; const char *want; rl_tensor *found; } rl__find_ctx;
static void rl__find_fn(void *u, const char *name, rl_tensor *t) {
    rl__find_ctx *f = (rl__find_ctx *)u;
    if (!f->found && !strcmp(name, f->want)) f->found = t;
}
typedef struct { rl_model *teacher; rl_status st; int64_t copied; } rl__copy_ctx;
static void rl__copy_fn(void *u, const char *name, rl_tensor *t) {
    rl__copy_ctx *cc = (rl__copy_ctx *)u;
    rl__find_ctx f;
    int64_t i;
    f.src = cc->teacher;
    f.want = name;
    f.found = NULL;
    rl_model_params(cc->teacher, rl__find_fn, &f);
    if (!f.found) return; /* a new parameter */
    if (f.found->n != t->n) {
        cc->st = rl__fail(RL_ERR_ARG, "student %s: %lld values, teacher has %lld", name, (long long)t->n, (long long)f.found->n);
        return;
    }
    if (f.found->dtype == RL_BF16)
        for (i = 0; i < t->n; i++) rl_f32(t)[i] = rl_bf16_to_f32(((const uint16_t *)f.found->data)[i]);
    else memcpy(t->data, f.found->data, sizeof(float) * (size_t)t->n);
    cc->copied++;
}

rl_status rl_student_from_teacher(rl_model *s, const rl_model *teacher, const rl_student_opts *o) {
    rl_student_opts so;
    rl__alloc_ctx ac;
    rl__copy_ctx cc;
    rl_rng rng;
    rl_status st;
    int64_t l;
    if (!o) rl_student_opts_default(&so, RL_MIXER_RWKV7);
    else so = *o;
    if (so.kind != RL_MIXER_RWKV6 && so.kind != RL_MIXER_RWKV7)
        return rl__fail(RL_ERR_ARG, "student: kind must be RL_MIXER_RWKV6 or RL_MIXER_RWKV7");
    if (so.keep_attention < 0 || so.keep_attention > teacher->cfg.n_layers)
        return rl__fail(RL_ERR_ARG, "student: keep_attention %d is outside [0, %lld]", so.keep_attention, (long long)teacher->cfg.n_layers);
    if (so.kind == RL_MIXER_RWKV6 && so.groupnorm_att)
        return rl__fail(RL_ERR_UNSUPPORTED, "RAD-RWKV6 with GroupNorm (the paper's ablation) is not supported");
    memset(s, 0, sizeof *s);
    if ((st = rl__model_shape(s, &teacher->cfg, &so)) != RL_OK) {
        rl_model_free(s);
        return st;
    }
    s->trainable = 1;
    ac.m = s;
    ac.st = RL_OK;
    rl_model_params(s, rl__alloc_fn, &ac);
    if (ac.st != RL_OK) {
        rl_model_free(s);
        return ac.st;
    }
    rl__tie_head(s);
    cc.teacher = (rl_model *)(uintptr_t)teacher; /* only read */
    cc.st = RL_OK;
    cc.copied = 0;
    rl_model_params(s, rl__copy_fn, &cc);
    if (cc.st != RL_OK) {
        rl_model_free(s);
        return cc.st;
    }
    rl_rng_seed(&rng, so.seed);
    for (l = 0; l < s->cfg.n_layers; l++) rl__mixer_init_new(&s->blocks[l].mix, &rng);
    return RL_OK;
}



/* ==== 7. training ========================================================= */

static double rl__now(void) {
#if defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#else
    return (double)time(NULL);
#endif
}

void rl_tokens_free(rl_tokens *t) {
    RL_FREE(t->ids);
    t->ids = NULL;
    t->n = 0;
}

static uint64_t rl__le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    int i;
    for (i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* binidx: the .idx header says the dtype (code 8 = uint16, 4 = int32, 5 = int64 ...);
   the .bin is the raw token array. Documents are used back to back. */
rl_status rl_tokens_load_binidx(rl_tokens *t, const char *prefix) {
    char path[4096];
    unsigned char *idx = NULL, *bin = NULL;
    size_t li, lb, i, esz;
    rl_status st;
    int code;
    memset(t, 0, sizeof *t);
    snprintf(path, sizeof path, "%s.idx", prefix);
    if ((st = rl__read_file(path, (size_t)1 << 40, (char **)&idx, &li)) != RL_OK) return st;
    if (li < 18 || memcmp(idx, "MMIDIDX\0\0", 9) != 0) {
        RL_FREE(idx);
        return rl__fail(RL_ERR_FORMAT, "%s: not a binidx index (magic 'MMIDIDX\\0\\0' missing)", path);
    }
    code = idx[17];
    RL_FREE(idx);
    esz = code == 8 ? 2 : code == 4 ? 4 : code == 1 ? 1 : 0;
    if (!esz) return rl__fail(RL_ERR_UNSUPPORTED, "%s: token dtype code %d (supported: 8 uint16, 4 int32, 1 uint8)", path, code);
    snprintf(path, sizeof path, "%s.bin", prefix);
    if ((st = rl__read_file(path, (size_t)1 << 40, (char **)&bin, &lb)) != RL_OK) return st;
    if (lb % esz) {
        RL_FREE(bin);
        return rl__fail(RL_ERR_FORMAT, "%s: size %zu is not a multiple of the token size %zu", path, lb, esz);
    }
    t->n = (int64_t)(lb / esz);
    t->ids = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)(t->n + 1));
    if (!t->ids) {
        RL_FREE(bin);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    }
    for (i = 0; i < (size_t)t->n; i++) t->ids[i] = (int32_t)rl__le(bin + i * esz, (int)esz);
    RL_FREE(bin);
    return RL_OK;
}

rl_status rl_tokens_load_llmc(rl_tokens *t, const char *path) {
    unsigned char *b = NULL;
    size_t len, i, esz;
    rl_status st;
    uint64_t magic, ver, n;
    memset(t, 0, sizeof *t);
    if ((st = rl__read_file(path, (size_t)1 << 40, (char **)&b, &len)) != RL_OK) return st;
    if (len < 1024 || (magic = rl__le(b, 4)) != 20240520) {
        RL_FREE(b);
        return rl__fail(RL_ERR_FORMAT, "%s: not an llm.c token file (header magic 20240520 missing)", path);
    }
    ver = rl__le(b + 4, 4);
    n = rl__le(b + 8, 4);
    esz = ver == 1 ? 2 : ver == 2 ? 4 : 0;
    if (!esz || 1024 + n * esz != len) {
        RL_FREE(b);
        return rl__fail(RL_ERR_FORMAT, "%s: version %llu / %llu tokens do not match the file size %zu", path,
                        (unsigned long long)ver, (unsigned long long)n, len);
    }
    t->n = (int64_t)n;
    t->ids = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)(n + 1));
    if (!t->ids) {
        RL_FREE(b);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    }
    for (i = 0; i < n; i++) t->ids[i] = (int32_t)rl__le(b + 1024 + i * esz, (int)esz);
    RL_FREE(b);
    return RL_OK;
}

static uint64_t rl__mulmod(uint64_t a, uint64_t b, uint64_t m) {
#if defined(__SIZEOF_INT128__)
    return (uint64_t)((unsigned __int128)a * b % m);
#else
    uint64_t r = 0;
    a %= m;
    while (b) { /* double and add, no overflow for m < 2^63 */
        if (b & 1) r = (r + a) % m;
        a = (a + a) % m;
        b >>= 1;
    }
    return r;
#endif
}

static int rl__is_prime(uint64_t n) {
    uint64_t d;
    if (n < 2) return 0;
    for (d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

rl_status rl_loader_init(rl_loader *L, const rl_tokens *data, int64_t T, double heldout) {
    int64_t slots;
    memset(L, 0, sizeof *L);
    if (T < 1) return rl__fail(RL_ERR_ARG, "loader: context length must be positive");
    if (heldout < 0 || heldout >= 1) return rl__fail(RL_ERR_ARG, "loader: held-out fraction %g is outside [0, 1)", heldout);
    slots = (data->n - 1) / T; /* a window needs T+1 tokens */
    L->data = data;
    L->T = T;
    L->n_heldout = (int64_t)((double)slots * heldout);
    if (heldout > 0 && L->n_heldout < 1 && slots > 1) L->n_heldout = 1;
    L->n_train = slots - L->n_heldout;
    if (L->n_train < 2)
        return rl__fail(RL_ERR_ARG, "loader: %lld tokens give %lld training windows of %lld (need at least 2); use more text or a shorter context",
                        (long long)data->n, (long long)L->n_train, (long long)T);
    for (L->p = (uint64_t)L->n_train; L->p > 2; L->p--)
        if (L->p % 3 == 2 && rl__is_prime(L->p)) break;
    L->mult = (uint64_t)floor((double)L->p * (sqrt(5.0) - 1.0) / 2.0);
    return RL_OK;
}

const int32_t *rl_loader_train(const rl_loader *L, uint64_t k) {
    uint64_t ii = (1 + k) % L->p, slot = rl__mulmod(L->mult, rl__mulmod(ii, rl__mulmod(ii, ii, L->p), L->p), L->p);
    return L->data->ids + (int64_t)slot * L->T;
}

const int32_t *rl_loader_heldout(const rl_loader *L, int64_t i) { return L->data->ids + (L->n_train + i) * L->T; }

void rl_lr_at(const rl_lr_sched *s, int64_t step, double *lr_main, double *lr_mixer) {
    double warm = (double)s->warmup_steps * (double)s->tokens_per_step, tok = (double)step * (double)s->tokens_per_step;
    double span = (double)s->exit_tokens - warm, p, q, f = 1.0;
    double i2 = s->lr2_init < 0 ? s->lr_init : s->lr2_init, f2 = s->lr2_final < 0 ? s->lr_final : s->lr2_final;
    p = span > 0 ? (tok - warm) / span : 1.0;
    p = p < 0 ? 0 : p > 1 ? 1 : p;
    q = s->endpoint > s->wait ? (p - s->wait) / (s->endpoint - s->wait) : (p >= s->wait);
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    q = s->cosine ? cos(1.5707963267948966 * q) : 1.0 - q;
    if (step < s->warmup_steps) f = 0.01 + 0.99 * (double)step / (double)s->warmup_steps;
    *lr_main = (s->lr_final + (s->lr_init - s->lr_final) * q) * f;
    *lr_mixer = (f2 + (i2 - f2) * q) * f;
}

/* ---- AdamW ---- */

typedef struct { rl_adamw *o; int which, pass; rl_status st; } rl__adam_ctx;
static int rl__is_decay_param(const char *name) {
    static const char *const keep[] = {"time_maa_w", "time_maa_w1", "time_maa_w2", "time_decay", "time_decay_w1", "time_decay_w2", "w0", "w1", "w2"};
    const char *leaf = strrchr(name, '.');
    size_t i;
    leaf = leaf ? leaf + 1 : name;
    for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (!strcmp(leaf, keep[i])) return 1;
    return 0;
}
static void rl__adam_fn(void *u, const char *name, rl_tensor *t) {
    rl__adam_ctx *a = (rl__adam_ctx *)u;
    rl_adamw *o = a->o;
    int mixer = strstr(name, ".self_attn.") != NULL;
    if (a->st || !t->grad) return;
    if ((a->which == RL_TRAIN_MIXERS && !mixer) || (a->which == RL_TRAIN_DECAY && !(mixer && rl__is_decay_param(name)))) return;
    if (a->pass == 0) {
        o->n++;
        return;
    }
    o->p[o->n] = t;
    o->mixer[o->n] = (unsigned char)mixer;
    o->names[o->n] = (const char *)rl_arena_alloc(&o->mem, strlen(name) + 1);
    o->m[o->n] = (float *)rl_arena_zalloc(&o->mem, sizeof(float) * (size_t)t->n);
    o->v[o->n] = (float *)rl_arena_zalloc(&o->mem, sizeof(float) * (size_t)t->n);
    if (!o->names[o->n] || !o->m[o->n] || !o->v[o->n]) {
        a->st = rl__fail(RL_ERR_NOMEM, "optimizer: out of memory for %s", name);
        return;
    }
    strcpy((char *)(uintptr_t)o->names[o->n], name);
    o->n++;
}

rl_status rl_adamw_init(rl_adamw *o, rl_model *m, int which) {
    rl__adam_ctx a;
    memset(o, 0, sizeof *o);
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->clip = 1.0f;
    rl_arena_init(&o->mem, (size_t)64 << 20);
    if (!m->trainable) return rl__fail(RL_ERR_ARG, "optimizer: the model was not created trainable");
    a.o = o;
    a.which = which;
    a.st = RL_OK;
    a.pass = 0;
    rl_model_params(m, rl__adam_fn, &a);
    if (!o->n) return rl__fail(RL_ERR_ARG, "optimizer: no parameter selected");
    o->p = (rl_tensor **)rl_arena_alloc(&o->mem, sizeof(rl_tensor *) * (size_t)o->n);
    o->names = (const char **)rl_arena_alloc(&o->mem, sizeof(char *) * (size_t)o->n);
    o->m = (float **)rl_arena_alloc(&o->mem, sizeof(float *) * (size_t)o->n);
    o->v = (float **)rl_arena_alloc(&o->mem, sizeof(float *) * (size_t)o->n);
    o->mixer = (unsigned char *)rl_arena_alloc(&o->mem, (size_t)o->n);
    if (!o->p || !o->names || !o->m || !o->v || !o->mixer) return rl__fail(RL_ERR_NOMEM, "optimizer: out of memory");
    o->n = 0;
    a.pass = 1;
    rl_model_params(m, rl__adam_fn, &a);
    return a.st;
}

void rl_adamw_zero_grad(rl_adamw *o) {
    int i;
    for (i = 0; i < o->n; i++) memset(o->p[i]->grad, 0, sizeof(float) * (size_t)o->p[i]->n);
}

double rl_adamw_step(rl_adamw *o, double lr_main, double lr_mixer) {
    double ss = 0, norm, b1c, b2c;
    float scale;
    int i;
    int64_t j;
    for (i = 0; i < o->n; i++)
        for (j = 0; j < o->p[i]->n; j++) ss += (double)o->p[i]->grad[j] * o->p[i]->grad[j];
    norm = sqrt(ss);
    if (!(norm < INFINITY)) { /* NaN or Inf: skip the update, keep the weights */
        rl_adamw_zero_grad(o);
        return -1.0;
    }
    scale = o->clip > 0 && norm > o->clip ? (float)(o->clip / (norm + 1e-6)) : 1.0f;
    o->step++;
    b1c = 1.0 - pow(o->beta1, (double)o->step);
    b2c = 1.0 - pow(o->beta2, (double)o->step);
    for (i = 0; i < o->n; i++) {
        float *p = rl_f32(o->p[i]), *g = o->p[i]->grad, *m = o->m[i], *v = o->v[i];
        float lr = (float)(o->mixer[i] ? lr_mixer : lr_main);
        for (j = 0; j < o->p[i]->n; j++) {
            float gj = g[j] * scale;
            m[j] = o->beta1 * m[j] + (1.0f - o->beta1) * gj;
            v[j] = o->beta2 * v[j] + (1.0f - o->beta2) * gj * gj;
            p[j] -= lr * ((float)(m[j] / b1c) / (sqrtf((float)(v[j] / b2c)) + o->eps) + o->weight_decay * p[j]);
            g[j] = 0;
        }
    }
    return norm;
}

void rl_adamw_free(rl_adamw *o) {
    rl_arena_free(&o->mem);
    memset(o, 0, sizeof *o);
}

/* ---- checkpoints ----
   One safetensors file: every trainable parameter under its name, the Adam moments as
   "optim.m.<name>" / "optim.v.<name>", and in __metadata__ the counters
   (radlads.stage, radlads.step, radlads.adam_step, radlads.tokens). Written to a
   temporary file and renamed (rl_st_write), so an interrupted save leaves the previous
   checkpoint intact. */

typedef struct { rl_st_entry *e; int n, cap; rl_arena *names; rl_status st; } rl__ck_ctx;
static void rl__ck_add(rl__ck_ctx *k, const char *name, const rl_tensor *t, const void *data) {
    rl_st_entry *e;
    int d;
    char *nm;
    if (k->st) return;
    if (k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 256;
        rl_st_entry *ne = (rl_st_entry *)RL_REALLOC(k->e, sizeof(rl_st_entry) * (size_t)cap);
        if (!ne) {
            k->st = rl__fail(RL_ERR_NOMEM, "checkpoint: out of memory");
            return;
        }
        k->e = ne;
        k->cap = cap;
    }
    if (!(nm = (char *)rl_arena_alloc(k->names, strlen(name) + 1))) {
        k->st = rl__fail(RL_ERR_NOMEM, "checkpoint: out of memory");
        return;
    }
    strcpy(nm, name);
    e = &k->e[k->n++];
    memset(e, 0, sizeof *e);
    e->name = nm;
    e->dtype = data == t->data ? t->dtype : RL_F32; /* a parameter as stored, or its F32 moments */
    e->ndim = t->ndim;
    for (d = 0; d < t->ndim; d++) e->shape[d] = t->shape[d];
    e->data = data;
}
static void rl__ck_param(void *u, const char *name, rl_tensor *t) { rl__ck_add((rl__ck_ctx *)u, name, t, t->data); }

static rl_status rl__save_checkpoint(const char *path, rl_model *m, rl_adamw *o, int stage, int64_t step, int64_t tokens) {
    rl__ck_ctx k;
    rl_arena names;
    char buf[4][32], nm[300];
    const char *meta[11];
    rl_status st;
    int i;
    memset(&k, 0, sizeof k);
    rl_arena_init(&names, 1 << 20);
    k.names = &names;
    rl_model_params(m, rl__ck_param, &k);
    for (i = 0; i < o->n; i++) {
        snprintf(nm, sizeof nm, "optim.m.%s", o->names[i]);
        rl__ck_add(&k, nm, o->p[i], o->m[i]);
        snprintf(nm, sizeof nm, "optim.v.%s", o->names[i]);
        rl__ck_add(&k, nm, o->p[i], o->v[i]);
    }
    snprintf(buf[0], sizeof buf[0], "%d", stage);
    snprintf(buf[1], sizeof buf[1], "%lld", (long long)step);
    snprintf(buf[2], sizeof buf[2], "%lld", (long long)o->step);
    snprintf(buf[3], sizeof buf[3], "%lld", (long long)tokens);
    meta[0] = "radlads.stage"; meta[1] = buf[0];
    meta[2] = "radlads.step"; meta[3] = buf[1];
    meta[4] = "radlads.adam_step"; meta[5] = buf[2];
    meta[6] = "radlads.tokens"; meta[7] = buf[3];
    meta[8] = "radlads.kind"; meta[9] = "checkpoint";
    meta[10] = NULL;
    st = k.st ? k.st : rl_st_write(path, k.e, k.n, meta, 0);
    RL_FREE(k.e);
    rl_arena_free(&names);
    return st;
}

typedef struct { const rl_st *st; rl_status s; } rl__ld_ctx;
static void rl__ck_load_param(void *u, const char *name, rl_tensor *t) {
    rl__ld_ctx *l = (rl__ld_ctx *)u;
    if (l->s == RL_OK) l->s = rl_st_read_f32(l->st, name, rl_f32(t), t->ndim, t->shape);
}

static rl_status rl__load_checkpoint(const char *path, rl_model *m, rl_adamw *o, int stage, int64_t *step) {
    rl_st st;
    rl__ld_ctx l;
    const char *v;
    char nm[300];
    int i;
    rl_status s;
    if ((s = rl_st_open(&st, path)) != RL_OK) return s;
    v = rl_st_meta(&st, "radlads.stage");
    if (!v || atoi(v) != stage || !rl_st_meta(&st, "radlads.step") || !rl_st_meta(&st, "radlads.adam_step")) {
        rl_st_close(&st);
        return rl__fail(RL_ERR_FORMAT, "%s: not a checkpoint of stage %d (metadata radlads.stage is %s); start this stage without --resume",
                        path, stage, v ? v : "missing");
    }
    *step = strtoll(rl_st_meta(&st, "radlads.step"), NULL, 10);
    o->step = strtoll(rl_st_meta(&st, "radlads.adam_step"), NULL, 10);
    l.st = &st;
    l.s = RL_OK;
    rl_model_params(m, rl__ck_load_param, &l);
    for (i = 0; i < o->n && l.s == RL_OK; i++) {
        snprintf(nm, sizeof nm, "optim.m.%s", o->names[i]);
        l.s = rl_st_read_f32(&st, nm, o->m[i], o->p[i]->ndim, o->p[i]->shape);
        snprintf(nm, sizeof nm, "optim.v.%s", o->names[i]);
        if (l.s == RL_OK) l.s = rl_st_read_f32(&st, nm, o->v[i], o->p[i]->ndim, o->p[i]->shape);
    }
    rl_st_close(&st);
    return l.s;
}

/* ---- stages ---- */

void rl_stage_opts_default(rl_stage_opts *o, int stage) {
    memset(o, 0, sizeof *o);
    o->stage = stage;
    o->ctx = 512;
    o->batch = stage == 1 ? 32 : stage == 2 ? 96 : 16;
    o->micro_batch = 1;
    o->tokens = stage == 1 ? 100000000 : stage == 2 ? 500000000 : 100000000;
    o->lr.lr_init = stage == 1 ? 1e-3 : 1e-5;
    o->lr.lr_final = 1e-5;
    o->lr.lr2_init = o->lr.lr2_final = -1;
    o->lr.wait = 0;
    o->lr.endpoint = 1;
    o->lr.cosine = 1;
    o->lr.warmup_steps = 50;
    o->clip = 1.0f;
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->train = stage == 1 ? RL_TRAIN_MIXERS : RL_TRAIN_ALL;
    o->carry_state = stage == 3;
    o->heldout = 0.05;
    o->ckpt_every = 100;
}

/* Loss of one micro-batch of B windows (ids: B×(T+1), row-major). */
static rl_tensor *rl__stage_loss(rl_ctx *c, rl_model *s, rl_model *t, int stage, const int32_t *win, int64_t B, int64_t T,
                                 int32_t *x, int32_t *y, float **carry) {
    rl_forward_opts fo;
    int64_t b, l, L = s->cfg.n_layers, n_mix = 0;
    rl_tensor *loss = NULL;
    for (b = 0; b < B; b++) {
        memcpy(x + b * T, win + b * (T + 1), sizeof(int32_t) * (size_t)T);
        memcpy(y + b * T, win + b * (T + 1) + 1, sizeof(int32_t) * (size_t)T);
    }
    memset(&fo, 0, sizeof fo);
    fo.B = B;
    fo.T = T;
    if (stage == 1) { /* every student mixer on the teacher's own residual stream */
        rl_tensor **ain = (rl_tensor **)rl_arena_alloc(&c->arena, sizeof(rl_tensor *) * 2 * (size_t)L), **aout, *v_first = NULL;
        if (!ain) return rl__op_fail(c, RL_ERR_NOMEM, "stage 1: out of memory");
        aout = ain + L;
        fo.attn_in = ain;
        fo.attn_out = aout;
        fo.no_head = 1;
        rl_no_grad_push(c);
        rl_model_forward(c, t, x, &fo);
        rl_no_grad_pop(c);
        for (l = 0; l < L && !c->err; l++) {
            rl_mixer *m = &s->blocks[l].mix;
            rl_mixer_io io;
            rl_tensor *ys, *d;
            if (m->cfg.kind == RL_MIXER_ATTENTION) continue; /* kept attention: identical to the teacher */
            memset(&io, 0, sizeof io);
            io.v_first = v_first;
            ys = rl_mixer_forward(c, m, ain[l], T, 0, &io);
            if (m->cfg.kind == RL_MIXER_RWKV7 && m->cfg.layer == 0) v_first = io.v_first;
            d = rl_l2_dist(c, ys, aout[l]);
            loss = loss ? rl_add(c, loss, d) : d;
            n_mix++;
        }
        return n_mix ? rl_scale(c, loss, 1.0f / (float)n_mix) : loss;
    }
    if (stage == 2) {
        rl_tensor *tl, *sl;
        rl_no_grad_push(c);
        tl = rl_model_forward(c, t, x, &fo);
        rl_no_grad_pop(c);
        sl = rl_model_forward(c, s, x, &fo);
        return rl_kl_div(c, sl, tl);
    }
    RL__UNUSED(carry); /* stage 3 state carrying: see rl_train_stage (not yet wired, see README) */
    return rl_cross_entropy(c, rl_model_forward(c, s, x, &fo), y);
}

rl_status rl_train_stage(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_tokens *data, const rl_stage_opts *o) {
    rl_loader L;
    rl_adamw opt;
    rl_status st;
    rl_lr_sched lr = o->lr;
    int64_t step = 0, steps, tps = o->batch * o->ctx, mb = o->micro_batch > 0 ? o->micro_batch : 1, done_here = 0;
    int32_t *win = NULL, *x, *y;
    FILE *csv = NULL;
    double t0, lr_m = 0, lr_x = 0;
    if (o->stage < 1 || o->stage > 3) return rl__fail(RL_ERR_ARG, "train: stage must be 1, 2 or 3");
    if (o->stage < 3 && !teacher) return rl__fail(RL_ERR_ARG, "train: stage %d needs the teacher", o->stage);
    if (o->batch < 1 || o->batch % mb) return rl__fail(RL_ERR_ARG, "train: batch %lld is not a multiple of the micro-batch %lld", (long long)o->batch, (long long)mb);
    if ((st = rl_loader_init(&L, data, o->ctx, o->heldout)) != RL_OK) return st;
    if ((st = rl_adamw_init(&opt, student, o->stage == 1 ? RL_TRAIN_MIXERS : o->train)) != RL_OK) return st;
    opt.beta1 = o->beta1;
    opt.beta2 = o->beta2;
    opt.eps = o->eps;
    opt.weight_decay = o->weight_decay;
    opt.clip = o->clip;
    steps = (o->tokens + tps - 1) / tps;
    lr.tokens_per_step = tps;
    lr.exit_tokens = steps * tps;
    if (o->resume && (st = rl__load_checkpoint(o->checkpoint, student, &opt, o->stage, &step)) != RL_OK) goto out;
    win = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)(mb * (3 * o->ctx + 1)));
    if (!win) {
        st = rl__fail(RL_ERR_NOMEM, "train: out of memory");
        goto out;
    }
    x = win + mb * (o->ctx + 1);
    y = x + mb * o->ctx;
    if (o->csv && !(csv = fopen(o->csv, "a"))) {
        st = rl__fail(RL_ERR_IO, "%s: cannot open the log: %s", o->csv, strerror(errno));
        goto out;
    }
    t0 = rl__now();
    for (; step < steps; step++) {
        double loss_sum = 0, gn;
        int64_t k;
        rl_progress p;
        for (k = 0; k < o->batch; k += mb) {
            rl_tensor *loss;
            int64_t b;
            for (b = 0; b < mb; b++)
                memcpy(win + b * (o->ctx + 1), rl_loader_train(&L, (uint64_t)(step * o->batch + k + b)), sizeof(int32_t) * (size_t)(o->ctx + 1));
            rl_ctx_reset(c);
            loss = rl__stage_loss(c, student, teacher, o->stage, win, mb, o->ctx, x, y, NULL);
            if (loss) loss = rl_scale(c, loss, (float)mb / (float)o->batch); /* mean over the batch */
            if (!loss || (st = rl_backward(c, loss)) != RL_OK) {
                st = c->err ? c->err : st ? st : RL_ERR_STATE;
                goto out;
            }
            loss_sum += rl_f32(loss)[0];
        }
        rl_lr_at(&lr, step, &lr_m, &lr_x);
        gn = rl_adamw_step(&opt, lr_m, lr_x);
        done_here++;
        memset(&p, 0, sizeof p);
        p.stage = o->stage;
        p.step = step + 1;
        p.steps = steps;
        p.tokens = (step + 1) * tps;
        p.tokens_total = steps * tps;
        p.loss = loss_sum;
        p.lr = o->stage == 1 ? lr_x : lr_m;
        p.grad_norm = gn;
        p.tok_per_s = (double)(done_here * tps) / RL__MAX(rl__now() - t0, 1e-9);
        p.eta_s = (double)(steps - step - 1) * tps / RL__MAX(p.tok_per_s, 1e-9);
        if (gn < 0) rl_log(RL_LOG_WARN, "stage %d step %lld: gradient is not finite; update skipped", o->stage, (long long)(step + 1));
        if (csv) {
            fprintf(csv, "%d,%lld,%lld,%.6f,%.3e,%.4f,%.1f\n", o->stage, (long long)p.step, (long long)p.tokens, p.loss, p.lr, gn, p.tok_per_s);
            fflush(csv);
        }
        if (o->progress) o->progress(o->user, &p);
        if (o->checkpoint && ((o->ckpt_every > 0 && (step + 1) % o->ckpt_every == 0) || step + 1 == steps ||
                              (o->stop && *o->stop) || (o->max_steps && done_here >= o->max_steps))) {
            if ((st = rl__save_checkpoint(o->checkpoint, student, &opt, o->stage, step + 1, p.tokens)) != RL_OK) goto out;
        }
        if (o->stop && *o->stop) {
            st = rl__fail(RL_ERR_INTERRUPTED, "stage %d stopped at step %lld of %lld; checkpoint %s", o->stage, (long long)(step + 1),
                          (long long)steps, o->checkpoint ? o->checkpoint : "(none)");
            goto out;
        }
        if (o->max_steps && done_here >= o->max_steps) break;
    }
    st = RL_OK;
out:
    if (csv) fclose(csv);
    RL_FREE(win);
    rl_adamw_free(&opt);
    return st;
}

/* Write a small file the way rl_st_write does: a temporary file next to it, fsync, rename. */
static rl_status rl__write_atomic(const char *path, const char *data, size_t len) {
    char *tmp = NULL;
    int fd = rl__open_tmp(path, &tmp), e = 0;
    if (fd < 0) return rl__fail(RL_ERR_IO, "%s: cannot create a temporary file next to it (%s)", path, strerror(errno));
    if (rl__write_all(fd, data, len)) e = errno ? errno : EIO;
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    RL_FREE(tmp);
    if (e) return rl__fail(RL_ERR_IO, "%s: write failed (%s); the old file, if any, is unchanged", path, strerror(e));
    rl__sync_dir(path);
    return RL_OK;
}

static rl_status rl__copy_file(const char *from, const char *to) {
    char *d = NULL;
    size_t n;
    rl_status st = rl__read_file(from, (size_t)1 << 32, &d, &n);
    if (st == RL_OK) st = rl__write_atomic(to, d, n);
    RL_FREE(d);
    return st;
}

/* A Hugging Face folder: config.json (Qwen2 keys + the RADLADS keys of formats.md §5.2),
   model.safetensors (F32) and the tokenizer files copied from tok_dir. */
rl_status rl_model_save(rl_model *m, const char *dir, const char *tok_dir) {
    rl__ck_ctx k;
    rl_arena names;
    char path[4200], cfg[4096];
    const rl_config *c = &m->cfg;
    rl_mixer_cfg mc;
    int64_t l;
    int n = 0, i;
    rl_status st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return rl__fail(RL_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    memset(&mc, 0, sizeof mc);
    for (l = 0; l < c->n_layers; l++)
        if (m->blocks[l].mix.cfg.kind != RL_MIXER_ATTENTION) {
            mc = m->blocks[l].mix.cfg;
            break;
        }
    n += snprintf(cfg + n, sizeof cfg - (size_t)n, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n",
                  m->student.kind == RL_MIXER_RWKV6 ? "RWKV6Qwen2ForCausalLM" : m->student.kind == RL_MIXER_RWKV7 ? "RWKV7Qwen2ForCausalLM"
                  : c->arch == RL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM",
                  m->student.kind == RL_MIXER_RWKV6 ? "rwkv6qwen2" : m->student.kind == RL_MIXER_RWKV7 ? "rwkv7qwen2"
                  : c->arch == RL_ARCH_QWEN2 ? "qwen2" : "llama");
    n += snprintf(cfg + n, sizeof cfg - (size_t)n,
                  "  \"vocab_size\": %lld,\n  \"hidden_size\": %lld,\n  \"intermediate_size\": %lld,\n  \"num_hidden_layers\": %lld,\n"
                  "  \"num_attention_heads\": %lld,\n  \"num_key_value_heads\": %lld,\n  \"head_dim\": %lld,\n  \"max_position_embeddings\": %lld,\n"
                  "  \"rms_norm_eps\": %.9g,\n  \"rope_theta\": %.17g,\n  \"tie_word_embeddings\": %s,\n  \"attention_bias\": %s,\n"
                  "  \"attention_output_bias\": false,\n  \"hidden_act\": \"silu\",\n  \"torch_dtype\": \"float32\",\n",
                  (long long)c->vocab_size, (long long)c->hidden_size, (long long)c->intermediate_size, (long long)c->n_layers,
                  (long long)c->n_heads, (long long)c->n_kv_heads, (long long)c->head_dim, (long long)c->max_pos, c->rms_eps, c->rope_theta,
                  c->tie_embeddings ? "true" : "false", c->attn_bias ? "true" : "false");
    if (c->rope_scaling == RL_ROPE_LLAMA3)
        n += snprintf(cfg + n, sizeof cfg - (size_t)n,
                      "  \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": %.17g, \"low_freq_factor\": %.17g, \"high_freq_factor\": %.17g, "
                      "\"original_max_position_embeddings\": %lld},\n",
                      c->rope_factor, c->rope_low_freq, c->rope_high_freq, (long long)c->rope_orig_max_pos);
    else if (c->rope_scaling == RL_ROPE_LINEAR)
        n += snprintf(cfg + n, sizeof cfg - (size_t)n, "  \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": %.17g},\n", c->rope_factor);
    if (c->bos_id >= 0) n += snprintf(cfg + n, sizeof cfg - (size_t)n, "  \"bos_token_id\": %d,\n", c->bos_id);
    if (c->n_eos > 0) {
        n += snprintf(cfg + n, sizeof cfg - (size_t)n, "  \"eos_token_id\": [");
        for (i = 0; i < c->n_eos; i++) n += snprintf(cfg + n, sizeof cfg - (size_t)n, "%s%d", i ? ", " : "", c->eos_ids[i]);
        n += snprintf(cfg + n, sizeof cfg - (size_t)n, "],\n");
    }
    if (m->student.kind != RL_MIXER_ATTENTION)
        n += snprintf(cfg + n, sizeof cfg - (size_t)n,
                      "  \"lora_rank_tokenshift\": %d,\n  \"lora_rank_decay\": %d,\n  \"lora_rank_iclr\": %d,\n  \"lora_rank_value_residual_mix\": %d,\n"
                      "  \"lora_rank_gate\": %d,\n  \"gate_rank_type\": %d,\n  \"balance_state\": %s,\n  \"groupnorm_att\": %s,\n"
                      "  \"use_tokenshift\": %s,\n  \"use_rope\": %s,\n  \"num_attention_layers\": %d,\n"
                      "  \"radlads_teacher_architecture\": \"%s\",\n",
                      mc.r_ts, m->student.kind == RL_MIXER_RWKV6 ? mc.r_d : mc.r_w, mc.r_a, mc.r_v, mc.r_g, m->student.kind == RL_MIXER_RWKV6 ? 1 : 2,
                      mc.balance_state ? "true" : "false", mc.groupnorm_att ? "true" : "false", mc.use_tokenshift ? "true" : "false",
                      mc.use_rope ? "true" : "false", m->student.keep_attention, c->arch == RL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    n += snprintf(cfg + n, sizeof cfg - (size_t)n, "  \"radlads_version\": \"%s\"\n}\n", RADLADS_VERSION);
    if (n >= (int)sizeof cfg) return rl__fail(RL_ERR_STATE, "config.json: too long");
    memset(&k, 0, sizeof k);
    rl_arena_init(&names, 1 << 20);
    k.names = &names;
    rl_model_params(m, rl__ck_param, &k);
    for (i = 0; i < k.n && !k.st; i++)
        if (k.e[i].data == NULL) k.st = rl__fail(RL_ERR_STATE, "save: %s has no data", k.e[i].name);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st = k.st ? k.st : rl_st_write(path, k.e, k.n, NULL, 0);
    RL_FREE(k.e);
    rl_arena_free(&names);
    if (st != RL_OK) return st;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((st = rl__write_atomic(path, cfg, (size_t)n)) != RL_OK) return st;
    if (tok_dir) {
        static const char *const files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json"};
        char from[4200];
        size_t f;
        for (f = 0; f < 3; f++) {
            FILE *probe;
            snprintf(from, sizeof from, "%s/%s", tok_dir, files[f]);
            snprintf(path, sizeof path, "%s/%s", dir, files[f]);
            if (!(probe = fopen(from, "rb"))) continue;
            fclose(probe);
            if ((st = rl__copy_file(from, path)) != RL_OK) return st;
        }
    }
    return RL_OK;
}

/* ==== 8. inference and evaluation ========================================= */

/* ---- 8a. inference: state, prefill and decode, sampling ---- */

rl_status rl_state_init(rl_state *s, const rl_model *m, int64_t max_ctx) {
    int64_t l, H = m->cfg.n_heads, N = m->cfg.head_dim, KV = m->cfg.n_kv_heads * N, C = m->cfg.hidden_size;
    memset(s, 0, sizeof *s);
    s->n_layers = (int)m->cfg.n_layers;
    s->max_ctx = max_ctx;
    s->s_n = H * N * N;
    s->shift_n = C;
    s->k = (float **)RL_MALLOC(sizeof(float *) * 4 * (size_t)s->n_layers);
    if (!s->k) return rl__fail(RL_ERR_NOMEM, "state: out of memory");
    memset(s->k, 0, sizeof(float *) * 4 * (size_t)s->n_layers);
    s->v = s->k + s->n_layers;
    s->S = s->v + s->n_layers;
    s->shift = s->S + s->n_layers;
    for (l = 0; l < s->n_layers; l++) {
        if (m->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION) {
            s->k[l] = (float *)RL_MALLOC(sizeof(float) * (size_t)(max_ctx * KV));
            s->v[l] = (float *)RL_MALLOC(sizeof(float) * (size_t)(max_ctx * KV));
            if (!s->k[l] || !s->v[l]) break;
        } else {
            s->S[l] = (float *)RL_MALLOC(sizeof(float) * (size_t)(H * N * N));
            s->shift[l] = (float *)RL_MALLOC(sizeof(float) * (size_t)C);
            if (!s->S[l] || !s->shift[l]) break;
        }
    }
    if (l < s->n_layers) {
        rl_state_free(s);
        return rl__fail(RL_ERR_NOMEM, "state: out of memory for a context of %lld tokens", (long long)max_ctx);
    }
    rl_state_reset(s);
    return RL_OK;
}

void rl_state_reset(rl_state *s) {
    int l;
    s->pos = 0;
    for (l = 0; l < s->n_layers; l++) {
        if (s->S[l]) memset(s->S[l], 0, sizeof(float) * (size_t)s->s_n);
        if (s->shift[l]) memset(s->shift[l], 0, sizeof(float) * (size_t)s->shift_n);
    }
}

void rl_state_free(rl_state *s) {
    int l;
    if (!s->k) return;
    for (l = 0; l < 4 * s->n_layers; l++) RL_FREE(s->k[l]);
    RL_FREE(s->k);
    memset(s, 0, sizeof *s);
}

rl_status rl_model_step(rl_ctx *c, rl_model *m, rl_state *s, const int32_t *ids, int64_t n, float *logits) {
    rl_forward_opts o;
    rl_tensor *y;
    int64_t V = m->cfg.vocab_size;
    if (n < 1) return rl__fail(RL_ERR_ARG, "model step: no tokens");
    if (s->pos + n > s->max_ctx)
        return rl__fail(RL_ERR_ARG, "model step: %lld tokens at position %lld exceed the context of %lld tokens",
                        (long long)n, (long long)s->pos, (long long)s->max_ctx);
    memset(&o, 0, sizeof o);
    o.B = 1;
    o.T = n;
    o.pos0 = s->pos;
    rl_ctx_reset(c);
    rl_no_grad_push(c);
    y = rl__forward(c, m, ids, &o, s);
    rl_no_grad_pop(c);
    if (!y) return c->err ? c->err : RL_ERR_STATE;
    memcpy(logits, rl_f32(y) + (n - 1) * V, sizeof(float) * (size_t)V);
    s->pos += n;
    return RL_OK;
}

/* ---- sampling ---- */

typedef struct { float v; int32_t i; } rl__cand;
static int rl__cand_desc(const void *a, const void *b) {
    float x = ((const rl__cand *)a)->v, y = ((const rl__cand *)b)->v;
    return x < y ? 1 : x > y ? -1 : (((const rl__cand *)a)->i > ((const rl__cand *)b)->i) - (((const rl__cand *)a)->i < ((const rl__cand *)b)->i);
}

int32_t rl_sample(const float *logits, int64_t n, const rl_sampler *s, rl_rng *rng) {
    int64_t i, k, best = 0;
    rl__cand *c;
    double sum = 0, acc = 0, u;
    for (i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    if (!s || s->temperature <= 0 || n == 1) return (int32_t)best;
    c = (rl__cand *)RL_MALLOC(sizeof(rl__cand) * (size_t)n);
    if (!c) return (int32_t)best;
    for (i = 0; i < n; i++) {
        c[i].v = logits[i];
        c[i].i = (int32_t)i;
    }
    qsort(c, (size_t)n, sizeof *c, rl__cand_desc);
    k = s->top_k > 0 && s->top_k < n ? s->top_k : n;
    for (i = 0; i < k; i++) {
        c[i].v = expf((c[i].v - c[0].v) / s->temperature);
        sum += c[i].v;
    }
    if (s->top_p > 0 && s->top_p < 1) { /* smallest prefix whose mass reaches top_p */
        for (i = 0; i < k; i++) {
            acc += c[i].v / sum;
            if (acc >= s->top_p) break;
        }
        k = RL__MIN(k, i + 1);
        for (sum = 0, i = 0; i < k; i++) sum += c[i].v;
    }
    u = (double)rl_rng_uniform(rng) * sum;
    for (acc = 0, i = 0; i < k - 1; i++) {
        acc += c[i].v;
        if (u < acc) break;
    }
    best = c[i].i;
    RL_FREE(c);
    return (int32_t)best;
}


/* ---- 8b. evaluation ---- */

rl_status rl_eval_ppl(rl_ctx *c, rl_model *m, const rl_loader *L, int64_t max_windows, double *nll) {
    int64_t i, n = max_windows > 0 ? RL__MIN(max_windows, L->n_heldout) : L->n_heldout;
    double sum = 0;
    rl_forward_opts fo;
    if (n < 1) return rl__fail(RL_ERR_ARG, "eval: no held-out windows (use a larger held-out fraction or more text)");
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    fo.T = L->T;
    for (i = 0; i < n; i++) {
        const int32_t *w = rl_loader_heldout(L, i);
        rl_tensor *lg, *ce;
        rl_ctx_reset(c);
        rl_no_grad_push(c);
        lg = rl_model_forward(c, m, w, &fo);
        ce = rl_cross_entropy(c, lg, w + 1);
        rl_no_grad_pop(c);
        if (!ce) return c->err;
        sum += rl_f32(ce)[0];
    }
    *nll = sum / (double)n;
    return RL_OK;
}

rl_status rl_eval_compare(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_loader *L, int64_t max_windows,
                          double *kl, double *top1) {
    int64_t i, t, v, n = max_windows > 0 ? RL__MIN(max_windows, L->n_heldout) : L->n_heldout, V = student->cfg.vocab_size, agree = 0;
    double sum = 0;
    rl_forward_opts fo;
    if (n < 1) return rl__fail(RL_ERR_ARG, "eval: no held-out windows");
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    fo.T = L->T;
    for (i = 0; i < n; i++) {
        const int32_t *w = rl_loader_heldout(L, i);
        rl_tensor *a, *b, *k;
        rl_ctx_reset(c);
        rl_no_grad_push(c);
        a = rl_model_forward(c, teacher, w, &fo);
        b = rl_model_forward(c, student, w, &fo);
        k = rl_kl_div(c, b, a);
        rl_no_grad_pop(c);
        if (!k) return c->err;
        sum += rl_f32(k)[0];
        for (t = 0; t < L->T; t++) {
            const float *pa = rl_f32(a) + t * V, *pb = rl_f32(b) + t * V;
            int64_t ia = 0, ib = 0;
            for (v = 1; v < V; v++) {
                if (pa[v] > pa[ia]) ia = v;
                if (pb[v] > pb[ib]) ib = v;
            }
            agree += ia == ib;
        }
    }
    *kl = sum / (double)n;
    *top1 = (double)agree / (double)(n * L->T);
    return RL_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* RADLADS_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 the radlads authors

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
