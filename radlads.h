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
