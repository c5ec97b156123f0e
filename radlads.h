/* radlads.h - RADLADS in one C file: distil softmax-attention transformers into
   recurrent RAD-RWKV decoders (Goldstein et al. 2025, arXiv 2505.03005). Below,
   "paper §N" and "paper eq. N" use the numbering of its arXiv v4, and "RADLADS code" is
   the authors' training code, github.com/recursal/RADLADS-paper.

   Do this:
       #define RADLADS_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the implementation.
   Every other file includes it without the define and sees only the declarations.

   Dependencies: libc, libm, pthreads. Link with -lm -lpthread. Runs on POSIX systems and
   on Windows (MinGW-w64; its winpthreads).
   Optional: radlads_cuda.cu (CUDA Toolkit) swaps GPU kernels in when compiled with
   RADLADS_CUDA defined: the scans (rl_ctx.use_cuda), and the ops of tensors moved to the
   GPU with rl_to(ctx, t, rl_device_cuda()) (section 3, the device seam).

   Configuration macros (define before the implementation include):
       RL_MALLOC(sz) / RL_REALLOC(p,sz) / RL_FREE(p)   allocation hooks (default libc)
       RL_ASSERT(x)                                   internal invariants (default assert)
       RL_NO_SIMD                                     compile only the portable kernels
       RADLADS_INTERNAL                               white-box tests: declares internal functions,
                                                      with external linkage ("INTERNAL DECLARATIONS")

   Compile-time switches: each removes its code and its API (define them wherever the
   header is included, the same in every file):
       RADLADS_NO_TRAINING   backward passes (rl_backward), AdamW, the three steps,
                             checkpoints, rl_model_save, plots, the import commands
       RADLADS_NO_GGUF       GGUF files and quantized weights (implies RADLADS_NO_EXPORT)
       RADLADS_NO_TOKENIZER  tokenizers and rl_tokens_from_text (implies NO_LMEVAL, NO_EXPORT)
       RADLADS_NO_LMEVAL     lm-evaluation-harness task scoring
       RADLADS_NO_EXPORT     export to llama.cpp (GGUF rwkv6qwen2)
       RADLADS_NO_THREADS    worker threads: rl_pool_for runs every job on the caller (no pthreads)
       RADLADS_NO_STDIO      file I/O: every call taking a path (implies NO_TRAINING, NO_EXPORT)
       RADLADS_STATIC        every public function static (RLDEF), for a program of one file
   Models load from memory in every build (rl_model_from_memory, rl_tokenizer_load_mem);
   without stdio the library still formats its messages with <stdio.h>'s snprintf.
   `make embedded` builds examples/generate.c with the switches inference does not need.

   Environment variables read at run time:
       RADLADS_ISA=scalar|avx2|avx512|neon    force a kernel path (default: best the CPU has)
       RADLADS_PROFILE=1                      per-op forward/backward times, logged at rl_ctx_free

   TABLE OF CONTENTS (each section opens with a banner "==== N. name ====", once among the
   declarations and once in the implementation, in the same order; the declarations of
   sections 14-16, which Part I does not use, come after Part I, before Part II's code)
   PART I: THE METHOD, in the order data flows
       1. base          status codes, last error, logging, allocation, arenas, RNG,
                        bf16/f16 conversion (the thread pool: section 8, platform layer)
       2. kernels       2a naive reference kernels; 2b one SIMD template compiled per ISA
                        (scalar, AVX2+FMA, AVX-512, NEON); 2c run-time dispatch, GEMM
       3. autodiff      tensors, the tape, every op with forward and backward side by side,
                        the device seam (where a tensor lives; the table its ops run through)
       4. models        4a the RWKV scans as ops (recurrent and chunked forms), 4b sequence
                        mixers (attention, RAD-RWKV6, RAD-RWKV7), 4c the model
       5. conversion    5a initial values of the new parameters, 5b student from teacher
       6. training      token data, magic-prime order, LR schedule, AdamW, checkpoints,
                        the three RADLADS steps (and 2a, 3a, layer-by-layer step 1), saving,
                        training curves as SVG
       7. inference     7a state, prefill/decode, sampling; 7b perplexity, KL, top-1
   PART II: THE OUTSIDE WORLD
       8. files, text   the platform layer (every OS call: clock, thread pool, files,
                        memory maps, atomic writes), growable buffers, strict numbers
       9. JSON          a strict RFC 8259 parser
      10. safetensors   reader (mmap, shards) and writer
      11. config.json   Qwen2 / Llama / RADLADS student configurations
      12. GGUF          reader, ggml block types, writer
      13. tokenizer     tokenizer.json byte-level BPE, llama2.c's SentencePiece vocabularies,
                        and, last, the Unicode tables they need
      14. llama2.c      teachers from karpathy/llama2.c checkpoints
      15. lm-eval       zero-shot multiple-choice scoring as lm-evaluation-harness
      16. llama.cpp     teachers and students from GGUF files; export to GGUF rwkv6qwen2

   STATUS
       Everything listed is implemented and tested (tests/, see README.md). Not done:
       offline teacher caches; an AMX path; the CUDA companion's GPU runs (compiled and
       checked under emulation only); speed work on the small ops.

   CONVENTIONS
       Row-major everywhere. A Linear weight W is [out, in] and computes y = x·Wᵀ + b.
       Every fallible call returns rl_status (0 = RL_OK); rl_last_error() then says what
       went wrong in words. The library never exits and never prints: messages go to the
       callback set with rl_set_log().

   LICENSE: MIT, see the end of this file.
*/
#ifndef RADLADS_H
#define RADLADS_H

/* glibc under a strict -std=c99: the POSIX the implementation calls (monotonic clock) */
#if defined(RADLADS_IMPLEMENTATION) && defined(__linux__) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && \
    !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RADLADS_VERSION "0.1.0"

/* RLDEF: the linkage of every public function: extern, or static (and unused ones dropped
   without a warning) when RADLADS_STATIC is defined, for a program that includes the
   implementation in its only file that uses it. */
#ifndef RLDEF
#if defined(RADLADS_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define RLDEF static __attribute__((unused))
#elif defined(RADLADS_STATIC)
#define RLDEF static
#else
#define RLDEF extern
#endif
#endif

/* printf-style format checks (MinGW-w64: its C99 printf, which C99/C++11 builds get) */
#if defined(__MINGW32__) && !defined(__clang__) && (defined(_UCRT) || __USE_MINGW_ANSI_STDIO)
#define RL__PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define RL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RL__PRINTF(f, a)
#endif

/* Switches that imply others (see "Compile-time switches" above). */
#if defined(RADLADS_NO_STDIO) && !defined(RADLADS_NO_TRAINING) /* checkpoints, logs, saving */
#define RADLADS_NO_TRAINING
#endif
#if (defined(RADLADS_NO_GGUF) || defined(RADLADS_NO_TOKENIZER) || defined(RADLADS_NO_STDIO)) && !defined(RADLADS_NO_EXPORT)
#define RADLADS_NO_EXPORT
#endif
#if defined(RADLADS_NO_TOKENIZER) && !defined(RADLADS_NO_LMEVAL)
#define RADLADS_NO_LMEVAL
#endif

/* ======================== PART I: THE METHOD ============================= */

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
RLDEF const char *rl_last_error(void);
RLDEF const char *rl_status_name(rl_status s);
RLDEF void rl_clear_error(void);

enum { RL_LOG_ERROR = 0, RL_LOG_WARN = 1, RL_LOG_INFO = 2, RL_LOG_DEBUG = 3 };
typedef void (*rl_log_fn)(void *user, int level, const char *msg);
/* Install the log callback (NULL = silent, the default). */
RLDEF void rl_set_log(rl_log_fn fn, void *user);
RLDEF void rl_log(int level, const char *fmt, ...)
    RL__PRINTF(2, 3)
    ;

/* Release a buffer the library allocated for the caller (through RL_FREE, so it works
   whatever allocation hooks the implementation was built with). */
RLDEF void rl_free(void *p);

/* Where memory lives: NULL = host memory; else a device (section 3, the device seam). */
typedef struct rl_device rl_device;

/* Arena: bump allocation in chained blocks, 64-byte aligned, freed all at once.
   rl_arena_mark()/rl_arena_reset() rewind to a point and reuse the blocks. */
typedef struct rl__arena_block rl__arena_block;
typedef struct rl_arena {
    rl__arena_block *first, *cur;
    size_t block_size; /* minimum size of a new block (default 1 MiB) */
    size_t used;       /* bytes handed out since creation / last reset */
    size_t peak;       /* high-water mark of used */
    rl_device *dev;    /* NULL: host memory; else the blocks are that device's memory (set
                          it after rl_arena_init; the bookkeeping stays on the host) */
} rl_arena;
typedef struct rl_arena_mark_t {
    rl__arena_block *block;
    size_t off, used;
} rl_arena_mark_t;

RLDEF void rl_arena_init(rl_arena *a, size_t block_size);
RLDEF void *rl_arena_alloc(rl_arena *a, size_t bytes);  /* NULL + error on failure */
RLDEF void *rl_arena_zalloc(rl_arena *a, size_t bytes); /* zero-filled */
RLDEF rl_arena_mark_t rl_arena_mark(const rl_arena *a);
RLDEF void rl_arena_reset(rl_arena *a, rl_arena_mark_t m);
RLDEF void rl_arena_free(rl_arena *a);

/* Thread pool. rl_pool_for() splits [0, n) into chunks of at least `grain` items and
   runs fn(ctx, begin, end, tid) on the caller plus the workers; tid < rl_pool_size().
   A NULL pool runs everything on the caller with tid 0. rl_pool_for may be called from
   inside a task, on the same pool (and so may another thread while a job runs): that call
   does not wait for the pool; it runs its whole range at once, fn(ctx, 0, n, 0), on the
   calling thread, as tid 0 (scratch a caller sets up per tid for its own call stays its
   own). Between jobs the workers spin for a
   short while (RL_POOL_SPIN pause instructions, default 20000, ~0.1 ms) before they
   sleep, so the many small jobs of a decode step do not each pay a wake-up. */
typedef struct rl_pool rl_pool;
typedef void (*rl_task_fn)(void *ctx, int64_t begin, int64_t end, int tid);
RLDEF rl_pool *rl_pool_create(int n_threads); /* n_threads <= 0: online cores */
RLDEF void rl_pool_free(rl_pool *p);
RLDEF int rl_pool_size(const rl_pool *p);
RLDEF void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_task_fn fn, void *ctx);
RLDEF int rl_cpu_count(void);

/* RNG: xoshiro256** seeded through splitmix64. Deterministic across platforms. */
typedef struct rl_rng { uint64_t s[4]; } rl_rng;
RLDEF void rl_rng_seed(rl_rng *r, uint64_t seed);
RLDEF uint64_t rl_rng_u64(rl_rng *r);
RLDEF float rl_rng_uniform(rl_rng *r);           /* [0, 1) with 24 random bits */
RLDEF float rl_rng_normal(rl_rng *r);            /* N(0, 1), Box-Muller */

/* Number formats */
RLDEF float rl_bf16_to_f32(uint16_t h);
RLDEF uint16_t rl_f32_to_bf16(float f); /* round to nearest even, NaN -> 0x7FC0 */
RLDEF float rl_f16_to_f32(uint16_t h);
RLDEF uint16_t rl_f32_to_f16(float f);  /* round to nearest even */

/* ==== 2. kernels (declarations) =========================================== */

typedef enum rl_isa { RL_ISA_SCALAR = 0, RL_ISA_AVX2 = 1, RL_ISA_AVX512 = 2, RL_ISA_NEON = 3 } rl_isa;
RLDEF const char *rl_isa_name(rl_isa isa);
RLDEF rl_isa rl_isa_best(void);          /* best path this CPU and build support */
RLDEF rl_isa rl_isa_active(void);        /* path in use (RADLADS_ISA or best) */
RLDEF rl_status rl_isa_set(rl_isa isa);  /* force a path; error if unsupported here */
RLDEF int rl_bf16_dot_available(void); /* 1: rl_ctx.bf16_dot takes effect (AVX512-BF16 CPU, avx512 path active) */

typedef enum rl_dtype {
    RL_F32 = 0, RL_BF16 = 1, RL_F16 = 2, RL_I32 = 3,
    /* a ggml block type kept as stored (a quantized GGUF matrix, frozen, read in place):
       RL_DTYPE_GGML(ggml type), e.g. RL_DTYPE_GGML(8) for Q8_0; rows hold whole blocks */
    RL_DTYPE_GGML0 = 64, RL_DTYPE_GGML_LAST = 127
} rl_dtype;
#define RL_DTYPE_GGML(t) ((rl_dtype)(RL_DTYPE_GGML0 + (int)(t)))
#define RL_DTYPE_IS_GGML(d) ((int)(d) >= RL_DTYPE_GGML0 && (int)(d) <= RL_DTYPE_GGML_LAST)

/* General matrix product C[M,N] (+)= A[M,K] · B[K,N].
   A(i,k) = A[i*a_rs + k*a_cs]; B(k,j) = B[k*b_rs + j*b_cs] of type b_type (F32, BF16 or F16;
   or a ggml block type RL_DTYPE_GGML(t) when b_rs = 1, i.e. y = x·Wᵀ with W's rows whole
   blocks, read in place: see rl__gemm_ggml); C is row-major with row stride ldc.
   accumulate = 0 overwrites C. A ggml block type in another layout, or no memory for
   its dequantized rows, leaves C zero and says why in
   rl_last_error() (the ops, e.g. rl_linear, fail with that error). */
RLDEF void rl_gemm(rl_pool *pool, int64_t M, int64_t N, int64_t K,
             const float *A, int64_t a_rs, int64_t a_cs,
             const void *B, rl_dtype b_type, int64_t b_rs, int64_t b_cs,
             float *C, int64_t ldc, int accumulate);
/* The three layouts a Linear layer needs:
     y[M,N]  = x[M,K]·W[N,K]ᵀ (+ bias[N])     forward         (rl_matmul_nt)
     dx[M,K] (+)= dy[M,N]·W[N,K]              input gradient  (rl_matmul_nn)
     dW[N,K] (+)= dy[M,N]ᵀ·x[M,K]             weight gradient (rl_matmul_tn) */
RLDEF void rl_matmul_nt(rl_pool *pool, float *y, const float *x, const void *W, rl_dtype wt,
                  const float *bias, int64_t M, int64_t N, int64_t K);
RLDEF void rl_matmul_nn(rl_pool *pool, float *dx, const float *dy, const void *W, rl_dtype wt,
                  int64_t M, int64_t N, int64_t K, int accumulate);
RLDEF void rl_matmul_tn(rl_pool *pool, float *dW, const float *dy, const float *x,
                  int64_t M, int64_t N, int64_t K, int accumulate);

/* ==== 3. autodiff (declarations) ========================================== */

#define RL_MAX_DIMS 4
typedef struct rl_tensor {
    void *data;                  /* F32: float*, BF16/F16: uint16_t* (frozen weights only) */
    float *grad;                 /* same shape, F32; NULL until needed */
    int64_t shape[RL_MAX_DIMS];  /* outermost first; unused dims are 1 */
    int ndim;
    int64_t n;                   /* number of elements */
    rl_dtype dtype;
    int requires_grad;           /* a parameter that trains, or computed from one */
    const char *name;            /* optional, for messages */
    rl_device *dev;              /* where data and grad live: NULL = host memory (see rl_to) */
} rl_tensor;

/* Helpers on a tensor's shape: rows = product of all but the last dim. */
RLDEF int64_t rl_rows(const rl_tensor *t);
RLDEF int64_t rl_cols(const rl_tensor *t);
RLDEF float *rl_f32(const rl_tensor *t); /* data as float*; NULL unless F32 */

typedef struct rl__node rl__node;
typedef struct rl_ctx {
    rl_pool *pool;   /* borrowed; NULL = single-threaded */
    rl_arena arena;  /* activations, their gradients and the tape; reset per step */
    rl_arena dev_arena; /* the activations and gradients of ops that run on a device */
    rl__node **tape; /* recorded ops, in execution order */
    int n_tape, cap_tape;
    int no_grad;     /* > 0: record nothing (frozen parts, evaluation) */
    int scan_chunk;  /* form of the rl_wkv6/rl_wkv7 scans (same result): 0 = default (chunked
                        for training and for T >= 16, else token by token), < 0 = token
                        by token, L > 0 = the chunked form with chunks of L tokens */
    int bf16_dot;    /* products of rl_linear / rl_matmul on the CPU's bf16 dot-product
                        instructions where it has them (AVX512-BF16, rl_bf16_dot_available():
                        ~2x the fp32 rate): their inputs are rounded to bf16, the products
                        summed and kept in fp32, each ~1e-3 from the fp32 one. 0 (default):
                        fp32; 1: the forward products with BF16 weights (a frozen teacher as
                        Hugging Face stores it); 2: every product, forward and backward (mixed
                        precision: fp32 weights, gradients and optimizer). Products of
                        few rows (decoding, short prompts: M <= 8, or M <= 16 with F16/BF16
                        weights) stay fp32 */
    int use_cuda;    /* RADLADS_CUDA builds: 1 = run rl_wkv6/rl_wkv7 (forward and backward) on
                        the GPU when rl_cuda_available(); any GPU failure falls back to the CPU */
    rl_status err;   /* first error raised by an op since rl_ctx_reset (sticky) */
    void *prof;      /* per-op timing when RADLADS_PROFILE=1 (see rl_profile_report) */
} rl_ctx;

RLDEF void rl_ctx_init(rl_ctx *c, rl_pool *pool);
RLDEF void rl_ctx_free(rl_ctx *c);
/* Per-op timing: with RADLADS_PROFILE=1 in the environment at rl_ctx_init, every op's
   forward and backward wall time is summed per op name; rl_profile_report logs the table
   (RL_LOG_INFO, through rl_set_log's callback) and clears it; rl_ctx_free reports too. An
   op's forward time runs from its first input check to the next op's, so glue code
   between ops counts for the op before it. */
RLDEF void rl_profile_report(rl_ctx *c);
/* Forget the tape and every activation (parameters are not touched). */
RLDEF void rl_ctx_reset(rl_ctx *c);
/* Tensor whose storage lives in the context arena (zeroed). */
RLDEF rl_tensor *rl_new(rl_ctx *c, int ndim, const int64_t *shape);
RLDEF rl_tensor *rl_new2(rl_ctx *c, int64_t rows, int64_t cols);
/* A tensor over caller-owned memory (parameters, inputs). */
RLDEF rl_tensor rl_wrap(void *data, rl_dtype dt, int ndim, const int64_t *shape, int requires_grad);
#if !defined(RADLADS_NO_TRAINING)
/* Backpropagate from a scalar `loss` (seed gradient 1). Gradients of parameters are
   accumulated into their .grad buffers, which the caller owns and zeroes. */
RLDEF rl_status rl_backward(rl_ctx *c, rl_tensor *loss);
#endif
RLDEF void rl_no_grad_push(rl_ctx *c);
RLDEF void rl_no_grad_pop(rl_ctx *c);

/* The device seam. A tensor lives in host memory (dev NULL) or on a device. An op runs
   where its inputs live (all in one place, else an error) and puts its output there; its
   activations and gradients come from the context (one device per context). rl_to copies
   a tensor to d (NULL = the host) and, backward, its gradient back. Every op of this
   section and of section 4 (the scans included) has a CUDA twin, except rl_dot_const (its
   weights are a host array; a testing aid): every model runs on a device, forward and
   backward. An op
   without a twin fails on a device tensor with an error that says so; nothing falls back to
   the host by itself. */
RLDEF rl_device *rl_device_cuda(void); /* RADLADS_CUDA builds with a usable GPU, else NULL + rl_last_error() */
RLDEF const char *rl_device_name(const rl_device *d); /* "cpu" for NULL */
/* What d is ("NVIDIA H100 80GB HBM3 (compute capability 9.0, 132 SMs)") and its memory free
   and in all, in bytes; for the host (NULL): "cpu", and 0 for both (not measured). */
RLDEF rl_status rl_device_info(const rl_device *d, const char **what, size_t *free_b, size_t *total_b);
RLDEF rl_tensor *rl_to(rl_ctx *c, rl_tensor *x, rl_device *d);

/* Ops. Each returns a new tensor in the context arena, or NULL after setting the
   context's error (further ops on NULL inputs return NULL, so a whole forward pass can
   be checked once at the end with c->err). "rows" means every dimension but the last. */
RLDEF rl_tensor *rl_add(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a + b, same shape */
RLDEF rl_tensor *rl_sub(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a - b */
RLDEF rl_tensor *rl_mul(rl_ctx *c, rl_tensor *a, rl_tensor *b);        /* a ⊙ b */
RLDEF rl_tensor *rl_add_row(rl_ctx *c, rl_tensor *x, rl_tensor *b);    /* x + b, b = [cols] */
RLDEF rl_tensor *rl_mul_row(rl_ctx *c, rl_tensor *x, rl_tensor *w);    /* x ⊙ w, w = [cols] */
RLDEF rl_tensor *rl_scale(rl_ctx *c, rl_tensor *x, float s);
RLDEF rl_tensor *rl_linear(rl_ctx *c, rl_tensor *x, rl_tensor *W, rl_tensor *b); /* x·Wᵀ + b; W [N,K] */
RLDEF rl_tensor *rl_matmul(rl_ctx *c, rl_tensor *x, rl_tensor *A);     /* x·A; A [K,N] (LoRA) */
RLDEF rl_tensor *rl_rmsnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, float eps);
RLDEF rl_tensor *rl_groupnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, rl_tensor *b, int groups, float eps);
RLDEF rl_tensor *rl_softmax(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_logsoftmax(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_exp(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_sigmoid(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_tanh(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_softplus(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_silu(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_swiglu(rl_ctx *c, rl_tensor *gate, rl_tensor *up); /* silu(gate) ⊙ up */
RLDEF rl_tensor *rl_l2norm(rl_ctx *c, rl_tensor *x, int head_dim, float eps); /* per head */
/* RoPE, HF rotate-half pairing (i, i + d/2), on x [B*T, n_heads*head_dim] with
   positions pos0 .. pos0+T-1 for each of the B sequences. inv_freq has head_dim/2 entries. */
RLDEF rl_tensor *rl_rope(rl_ctx *c, rl_tensor *x, int64_t T, int head_dim, const float *inv_freq, int64_t pos0);
/* Causal softmax attention with GQA: q [B*T, H*d], k and v [B*T, KVH*d]; query head h
   reads kv head h / (H/KVH). Scale d^-1/2. Output [B*T, H*d]. */
RLDEF rl_tensor *rl_attention(rl_ctx *c, rl_tensor *q, rl_tensor *k, rl_tensor *v, int64_t T, int n_heads, int n_kv_heads);
RLDEF rl_tensor *rl_embedding(rl_ctx *c, const int32_t *ids, int64_t n_ids, rl_tensor *E);
/* Scalar losses (mean over rows) */
RLDEF rl_tensor *rl_cross_entropy(rl_ctx *c, rl_tensor *logits, const int32_t *targets);
RLDEF rl_tensor *rl_kl_div(rl_ctx *c, rl_tensor *student_logits, rl_tensor *teacher_logits); /* KL(T‖S) */
/* rl_kl_div of the logits hs·Wsᵀ and ht·Wtᵀ (hs [R, Cs], ht [R, Ct]; the heads Ws [V, Cs],
   Wt [V, Ct]) without making them: `chunk` columns of the vocabulary at a time, forward and
   again backward, so memory is a few [R, chunk] buffers instead of three [R, V] ones, for
   two more products of the heads. No gradient reaches the teacher side (ht, Wt). */
RLDEF rl_tensor *rl_kl_head(rl_ctx *c, rl_tensor *hs, rl_tensor *Ws, rl_tensor *ht, rl_tensor *Wt, int64_t chunk);
RLDEF rl_tensor *rl_l2_dist(rl_ctx *c, rl_tensor *y, rl_tensor *target); /* mean_rows ‖y−t‖₂/√cols */
RLDEF rl_tensor *rl_sum(rl_ctx *c, rl_tensor *x);
RLDEF rl_tensor *rl_dot_const(rl_ctx *c, rl_tensor *x, const float *w); /* Σ x⊙w (w constant) */
RLDEF rl_tensor *rl_add_scalar(rl_ctx *c, rl_tensor *x, float s);        /* x + s */
RLDEF rl_tensor *rl_slice_cols(rl_ctx *c, rl_tensor *x, int64_t start, int64_t len); /* x[:, start:start+len] */
/* [R, kv_heads*d] -> [R, heads*d]: query head h takes kv head h / (heads/kv_heads) */
RLDEF rl_tensor *rl_repeat_kv(rl_ctx *c, rl_tensor *x, int heads, int kv_heads);
/* Token shift: row t of each length-T sequence gets row t-1; the first row of sequence b
   gets shift_in[b] (NULL = zeros). shift_in may require a gradient. */
RLDEF rl_tensor *rl_token_shift(rl_ctx *c, rl_tensor *x, int64_t T, rl_tensor *shift_in);



/* ==== 4. models (declarations) ============================================= */

typedef struct rl_st rl_st;               /* an open safetensors file (section 10) */
typedef struct rl_tokenizer rl_tokenizer; /* a tokenizer (section 13) */

/* RAD-RWKV6 gated-linear-attention scan (paper eqs. 9-13). Per query head h, which reads
   kv head h/(H/KVH):  w = exp(logw), k' = k ⊙ (1 − w), S = diag(w)·S + k'ᵀv,
   o = N^-½ · r·S   (current token included, no bonus).
   r, logw: [B*T, H*N]; k, v: [B*T, KVH*N]; state: [B, H, N, N] holding S[j][i] (key j,
   value i), NULL = zeros. Returns o [B*T, H*N]; *state_out gets the final state. */
RLDEF rl_tensor *rl_wkv6(rl_ctx *c, rl_tensor *r, rl_tensor *k, rl_tensor *v, rl_tensor *logw, int64_t T, int H, int KVH,
                   rl_tensor *state, rl_tensor **state_out);
/* RWKV-7 generalized delta rule (paper eq. 30), every input [B*T, H*N] (heads expanded):
   per head sa = S·a, S = S·diag(w) + sa·bᵀ + v·kᵀ, y = S·r, with S[i][j] (value i, key j).
   RADLADS passes a = −κ, b = κ ⊙ a_iclr, k = k̃. */
RLDEF rl_tensor *rl_wkv7(rl_ctx *c, rl_tensor *r, rl_tensor *w, rl_tensor *k, rl_tensor *v, rl_tensor *a, rl_tensor *b,
                   int64_t T, int H, rl_tensor *state, rl_tensor **state_out);
/* RAD-RWKV6 log-decay with the clamp: max(−exp(d), −5) */
RLDEF rl_tensor *rl_rwkv6_logdecay(rl_ctx *c, rl_tensor *d);
/* Last row of each length-T sequence: [B*T, C] -> [B, C] */
RLDEF rl_tensor *rl_seq_last(rl_ctx *c, rl_tensor *x, int64_t T);
#ifdef RADLADS_CUDA
/* radlads_cuda.cu (build/cuda/radlads_cuda.o + the CUDA runtime): host-pointer scans, the
   same math and layouts as rl_wkv6 / rl_wkv7; 0 = success (see radlads_cuda.cu). */
int rl_cuda_available(void);
const char *rl_cuda_last_error(void);
const char *rl_cuda_device_name(void); /* name, compute capability and SMs of the current device */
int rl_cuda_mem_info(size_t *free_b, size_t *total_b);
int rl_cuda_wkv6_forward_host(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                              const float *v, const float *logw, const float *state_in, float *y, float *state_out,
                              float *ck);
int rl_cuda_wkv6_backward_host(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                               const float *v, const float *logw, const float *state_in, const float *dy,
                               const float *dstate_out, float *dr, float *dk, float *dv, float *dlogw,
                               float *dstate_in);
int rl_cuda_wkv7_forward_host(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                              const float *v, const float *a, const float *b, const float *state_in, float *y,
                              float *state_out, float *ck);
int rl_cuda_wkv7_backward_host(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                               const float *v, const float *a, const float *b, const float *state_in,
                               const float *dy, const float *dstate_out, float *dr, float *dw, float *dk, float *dv,
                               float *da, float *db, float *dstate_in);
/* the same scans on device pointers (the device seam's scan entry; sa: RWKV7's S_{t-1}·a_t) */
int rl_cuda_wkv6_forward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                         const float *logw, const float *state_in, float *y, float *state_out, float *ck);
int rl_cuda_wkv6_backward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                          const float *logw, const float *ck, const float *dy, const float *dstate_out, float *dr,
                          float *dk, float *dv, float *dlogw, float *dstate_in);
int rl_cuda_wkv7_forward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                         const float *v, const float *a, const float *b, const float *state_in, float *y,
                         float *state_out, float *ck, float *sa);
int rl_cuda_wkv7_backward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                          const float *v, const float *a, const float *b, const float *ck, const float *sa,
                          const float *dy, const float *dstate_out, float *dr, float *dw, float *dk, float *dv,
                          float *da, float *db, float *dstate_in);
/* device memory, and the twins of the ops of the device seam (section 3: the entries of
   rl__ops, same arguments, device pointers, q NULL = the default stream) */
void *rl_cuda_malloc(size_t bytes);
void rl_cuda_free(void *p);
int rl_cuda_zero(void *p, size_t bytes);
int rl_cuda_copy(void *dst, const void *src, size_t bytes, int kind);
int rl_cuda_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B, int b_bf16,
                 int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate, int precision);
int rl_cuda_add(void *q, float *y, const float *a, float s, const float *b, int64_t n);
int rl_cuda_axpy(void *q, float *y, float s, const float *x, int64_t n);
int rl_cuda_mul(void *q, float *y, const float *a, const float *b, int64_t n, int acc);
int rl_cuda_rowvec(void *q, float *y, const float *x, const float *v, int64_t R, int64_t C, int mode);
int rl_cuda_colsum(void *q, float *gv, const float *g, const float *x, const float *s, int64_t R, int64_t C);
int rl_cuda_rmsnorm(void *q, float *y, float *rstd, const float *x, const float *w, int64_t R, int64_t C, float eps);
int rl_cuda_rmsnorm_bwd(void *q, float *gx, const float *g, const float *x, const float *w, const float *rstd, int64_t R, int64_t C);
int rl_cuda_unary(void *q, int fn, float *y, const float *x, int64_t n);
int rl_cuda_unary_bwd(void *q, int fn, float *gx, const float *g, const float *x, const float *y, int64_t n);
int rl_cuda_swiglu(void *q, float *y, const float *a, const float *b, int64_t n);
int rl_cuda_swiglu_bwd(void *q, float *ga, float *gb, const float *g, const float *a, const float *b, int64_t n);
int rl_cuda_sum(void *q, float *y, const float *x, int64_t n);
int rl_cuda_sum_bwd(void *q, float *gx, const float *g, int64_t n);
int rl_cuda_affine(void *q, float *y, const float *x, float a, float b, int64_t n);
int rl_cuda_copy3d(void *q, float *y, int64_t ysb, int64_t ysr, const float *x, int64_t xsb, int64_t xsr, int64_t B, int64_t R,
                   int64_t C, int acc);
int rl_cuda_embedding(void *q, float *y, const void *E, int e_bf16, const int32_t *ids, int64_t n, int64_t C);
int rl_cuda_embedding_bwd(void *q, float *gE, const float *g, const int32_t *ids, int64_t n, int64_t C);
int rl_cuda_rope(void *q, float *y, const float *x, const float *tab, int64_t R, int64_t T, int64_t C, int d, int inverse, int acc);
int rl_cuda_l2norm(void *q, float *y, float *rinv, const float *x, int64_t S, int d, float eps);
int rl_cuda_l2norm_bwd(void *q, float *gx, const float *g, const float *y, const float *rinv, int64_t S, int d, float eps);
int rl_cuda_groupnorm(void *q, float *y, float *stats, const float *x, const float *w, const float *b, int64_t R, int64_t C, int G, float eps);
int rl_cuda_groupnorm_bwd(void *q, float *gx, float *gw, float *gb, const float *g, const float *x, const float *w, const float *stats,
                          int64_t R, int64_t C, int G);
int rl_cuda_softmax(void *q, float *y, const float *x, int64_t R, int64_t C, int logspace);
int rl_cuda_softmax_bwd(void *q, float *gx, const float *g, const float *y, int64_t R, int64_t C, int logspace);
int rl_cuda_cross_entropy(void *q, float *loss, float *lse, const float *x, const int32_t *tg, int64_t R, int64_t V, float inv_count);
int rl_cuda_cross_entropy_bwd(void *q, float *gx, const float *gloss, const float *x, const float *lse, const int32_t *tg, int64_t R,
                              int64_t V, float inv_count);
int rl_cuda_kl_div(void *q, float *loss, float *aux, const float *s, const float *t, int64_t R, int64_t V);
int rl_cuda_kl_div_bwd(void *q, float *gs, float *gt, const float *gloss, const float *s, const float *t, const float *aux, int64_t R, int64_t V);
int rl_cuda_l2_dist(void *q, float *loss, float *norms, const float *y, const float *t, int64_t R, int64_t C);
int rl_cuda_l2_dist_bwd(void *q, float *gy, float *gt, const float *gloss, const float *y, const float *t, const float *norms, int64_t R, int64_t C);
int rl_cuda_sumsq(void *q, double *ss, const float *x, int64_t n); /* *ss (host) += Σ x², synchronous */
int rl_cuda_adamw(void *q, float *p, float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps, float wd,
                  float scale, double b1c, double b2c);
int rl_cuda_attention(void *q, float *y, float *lse, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int H, int KVH, int d);
int rl_cuda_attention_bwd(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q, const float *K, const float *V,
                          const float *y, const float *lse, int64_t B, int64_t T, int H, int KVH, int d);
int rl_cuda_attention_cache(void *q, float *y, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int64_t pos0,
                            int64_t cap, int H, int KVH, int d);
int rl_cuda_unbalance(void *q, float *y, const float *k, const float *lw, int64_t n);
int rl_cuda_unbalance_bwd(void *q, float *gk, float *gl, const float *g, const float *k, const float *lw, int64_t n);
int rl_cuda_kl_chunk(void *q, double *st, float *loss, const float *s, const float *t, int64_t R, int64_t n, int first, int last);
int rl_cuda_kl_chunk_bwd(void *q, float *gs, const float *gloss, const float *s, const float *t, const double *st, int64_t R, int64_t n);
#endif

/* A sequence mixer: the teacher's softmax attention, or a RAD-RWKV6/7 student mixer that
   reuses the teacher's q/k/v/o projections as r/k/v/o. */
typedef enum rl_mixer_kind { RL_MIXER_ATTENTION = 0, RL_MIXER_RWKV6 = 6, RL_MIXER_RWKV7 = 7 } rl_mixer_kind;

/* The output gate (config.json gate_rank_type 1, 2, 0) */
enum { RL_GATE_DEFAULT = 0, RL_GATE_LINEAR = 1, RL_GATE_LORA = 2, RL_GATE_NONE = 3 };
typedef struct rl_mixer_cfg {
    rl_mixer_kind kind;
    int layer, n_layers;       /* this layer's index and the model's depth (for inits) */
    int64_t C, H, KVH, N;      /* model width, query heads, kv heads, head size */
    int attn_bias;             /* q/k/v have biases (Qwen2) */
    int use_tokenshift;        /* RWKV6: ddlerp token shift */
    int balance_state;         /* RWKV6: k·(1−w). RWKV7: κ = normalize(k), k̃ = k⊙(1−w+a) (paper v4);
                                  0 = κ = normalize(k⊙k_k), k̃ = k⊙(1+(a−1)⊙k_a) (release) */
    int groupnorm_att;         /* GroupNorm ln_x after the scan (RWKV7: instead of the N^-½ scale;
                                  RWKV6: on the scaled output, the official ablation) */
    int use_rope;              /* RoPE on r and k (attention and RWKV7: yes; RWKV6: ablation) */
    int gate;                  /* RL_GATE_*: 0 = the kind's default (RWKV6 Linear, RWKV7 LoRA) */
    int r_ts, r_d;             /* RWKV6 LoRA ranks: token shift, decay */
    int r_w, r_a, r_v, r_g;    /* RWKV7 LoRA ranks: decay, in-context rate, value residual, gate */
    float ln_eps;              /* RWKV7 GroupNorm eps (RADLADS code: N·1e-5) */
    const float *inv_freq;     /* N/2 RoPE inverse frequencies (borrowed) */
} rl_mixer_cfg;

typedef struct rl_mixer {
    rl_mixer_cfg cfg;
    /* from the teacher: q/k/v/o (r/k/v/o in the students) */
    rl_tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w;
    /* RAD-RWKV6 (paper App. A.1) */
    rl_tensor maa_x, maa_r, maa_k, maa_v, maa_w, maa_g, maa_w1, maa_w2, decay, decay_w1, decay_w2, gate_w;
    /* RAD-RWKV7 (paper App. A.2) */
    rl_tensor w0, w1, w2, a0, a1, a2, v0, v1, v2, g1, g2, k_k, k_a, r_k, lnx_w, lnx_b;
} rl_mixer;

/* Visit every parameter of a mixer with its checkpoint name (no layer prefix), e.g.
   "q_proj.weight", "time_maa_w1", "w0", "ln_x.weight". */
typedef void (*rl_param_fn)(void *user, const char *name, rl_tensor *t);
RLDEF void rl_mixer_params(rl_mixer *m, rl_param_fn fn, void *user);
/* Set shapes from cfg and allocate parameters (zeroed) in `params` (NULL: shapes only),
   and F32 gradient buffers in `grads` when it is not NULL. */
RLDEF rl_status rl_mixer_alloc(rl_mixer *m, const rl_mixer_cfg *cfg, rl_arena *params, rl_arena *grads);
/* LoRA rank as the RADLADS code's calc_lora_rank: max(1, round(C^e · m / 32)) · 32 */
RLDEF int rl_lora_rank(int64_t C, double e, double m);

/* Inputs and outputs of one mixer call besides x. NULL inputs mean zeros. */
typedef struct rl_mixer_io {
    rl_tensor *state_in, *shift_in;    /* [B,H,N,N] scan state; [B,C] RWKV6 shift state */
    rl_tensor *state_out, *shift_out;  /* set by the call */
    rl_tensor *v_first;                /* RWKV7: input for layer > 0, output of layer 0 */
    float *kcache, *vcache;            /* attention while decoding: [B, cache_cap, KVH*N] */
    int64_t cache_cap;
} rl_mixer_io;
/* x [B*T, C] (the normalized residual), positions pos0 .. pos0+T-1. Returns [B*T, C]. */
RLDEF rl_tensor *rl_mixer_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io);


/* ---- the whole model: teacher transformer or RAD-RWKV student ---- */

/* The model's shape: what a Hugging Face config.json says (read by rl_config_load, section 11). */
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
       model_type rwkv6qwen2 / rwkv7qwen2); arch is then RL_ARCH_QWEN2 and
       attention_bias (default true) says whether q/k/v have biases */
    int student;             /* 0: a transformer; 6: RAD-RWKV6; 7: RAD-RWKV7 */
    int lora_tokenshift, lora_decay, lora_iclr, lora_value_residual, lora_gate; /* 0: the paper's formula */
    int gate_rank_type;      /* 0 no gate, 1 Linear gate [C,C], 2 LoRA g1·g2 (as config.json says) */
    int balance_state, groupnorm_att, use_tokenshift, use_rope;
    int n_attention_layers;  /* hybrid: the last n layers keep softmax attention */
    int rwkv6_hybrid;        /* a RAD-RWKV6 hybrid: model_type RL_RWKV6_HYBRID_TYPE (not rwkv6qwen2, whose
                                official code ignores num_attention_layers; README.md "Hybrids") */
} rl_config;
#define RL_RWKV6_HYBRID_TYPE "radlads_rwkv6_hybrid"
#define RL_RWKV6_HYBRID_ARCH "RADLADSRWKV6HybridForCausalLM"


typedef struct rl_student_opts {
    rl_mixer_kind kind;      /* RL_MIXER_RWKV6 or RL_MIXER_RWKV7 */
    int keep_attention;      /* hybrid: the last n layers stay softmax attention (paper: 0) */
    int use_rope;            /* RoPE on r,k: default RWKV7 1, RWKV6 0 (ablation) */
    int use_tokenshift;      /* RWKV6 token shift: default 1 */
    int balance_state;       /* default 1 (RWKV6 k·(1−w); RWKV7 paper-v4 variant B) */
    int groupnorm_att;       /* RWKV7 ln_x: default 0 (variant B); 1 with balance_state 0 = variant A */
    int gate;                /* RL_GATE_*: 0 = the kind's default (RWKV6 Linear, RWKV7 LoRA) */
    int r_ts, r_d, r_w, r_a, r_v, r_g; /* LoRA ranks; 0 = the paper's formula (rl_lora_rank) */
    uint64_t seed;           /* initialisation of the new parameters */
} rl_student_opts;
RLDEF void rl_student_opts_default(rl_student_opts *o, rl_mixer_kind kind);

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
    rl_st *weights;              /* kept open: frozen BF16/F32 matrices point into it (NULL: none) */
    struct rl_gguf *gguf;        /* a student read from GGUF: kept open, its matrices point into it */
    rl_device *dev;              /* where the parameters live now (rl_model_to); NULL: the host */
    rl_arena dev_mem;            /* their data and gradients there */
    rl_tensor *host;             /* the parameters as they were on the host, in rl_model_params order */
} rl_model;

#if !defined(RADLADS_NO_STDIO)
/* Load a Hugging Face Qwen2/Llama folder or a RADLADS student (config.json + safetensors).
   trainable = 0 keeps 2-D weights (LoRA matrices included) in the file's BF16/F16/F32,
   memory-mapped (a frozen model: no F32 copy of the weights); 1 converts every parameter to
   F32 and allocates gradients. A student's config.json and tensors must agree (layer count,
   which layers are attention, the mixers' optional parts), else an error names both. */
RLDEF rl_status rl_model_load(rl_model *m, const char *dir, int trainable);
#endif
/* The same from memory: the bytes of a model.safetensors and the text of its config.json
   (embedded programs, no file system). The safetensors buffer must outlive the model when
   trainable is 0 (frozen matrices point into it); `source` names the model in messages. */
RLDEF rl_status rl_model_from_memory(rl_model *m, const void *safetensors, size_t safetensors_len, const char *config_json,
                               size_t config_len, int trainable, const char *source);
/* A student made from a teacher (paper §4.1): q/k/v/o, embeddings, norms, MLPs and head
   copied (widened to F32), every new parameter initialised as the RADLADS code does. */
RLDEF rl_status rl_student_from_teacher(rl_model *s, const rl_model *teacher, const rl_student_opts *o);
RLDEF void rl_model_free(rl_model *m);
/* Move every parameter (data, and gradient buffer where it has one) to device d, or back to
   the host (d NULL): the resident state of a GPU run. The host copies stay allocated while the
   model is on a device; those with a gradient buffer (the trainable ones) receive the
   device's values when it comes back (checkpoints). F32 and BF16 parameters move as they are;
   frozen F16 and quantized ones (a GGUF teacher's) move as their F32 values; a trainable one
   of another type gives an error naming the tensor, and the model stays on the host.
   A model on a device trains (rl_train_stage: its checkpoints copy the values down and
   resume copies them up), evaluates, decodes (rl_state_init puts the state there too) and
   saves (rl_model_save) as on the host; what still needs it on the host says so with an
   error: making a student from it, and the GGUF export. */
RLDEF rl_status rl_model_to(rl_model *m, rl_device *d);
/* Every parameter with its checkpoint name ("model.layers.3.self_attn.w0"). A tied head is
   visited once, as the embedding. */
RLDEF void rl_model_params(rl_model *m, rl_param_fn fn, void *user);
RLDEF int64_t rl_model_n_params(rl_model *m);

/* What a forward pass should produce besides the logits. */
typedef struct rl_forward_opts {
    int64_t B, T;                /* B sequences of T tokens, ids row-major [B*T] */
    int64_t pos0;                /* position of the first token (RoPE) */
    rl_tensor **attn_in;         /* if set, [n_layers] receive each mixer's input (RMSNorm₁ output) */
    rl_tensor **attn_out;        /*   and each mixer's output (before the residual add) */
    int no_head;                 /* return the final normed hidden states instead of logits */
} rl_forward_opts;
/* Training / scoring forward over whole sequences (states start at zero). */
RLDEF rl_tensor *rl_model_forward(rl_ctx *c, rl_model *m, const int32_t *ids, const rl_forward_opts *o);

/* Inference state of `batch` sequences decoded together (rl_state_init: one): KV cache for
   attention layers, recurrent state for RAD-RWKV layers. Memory: attention layers grow
   with max_ctx, RWKV layers do not. */
typedef struct rl_state {
    int64_t pos, max_ctx, batch;
    int n_layers;
    int64_t s_n, shift_n;        /* floats per RWKV state and shift buffer, per sequence */
    float **k, **v;              /* attention: [batch, max_ctx, KVH*N] each */
    float **S, **shift;          /* RWKV: [batch, H, N, N] and [batch, C] */
    rl_device *dev;              /* where the buffers live: the model's place at rl_state_init */
} rl_state;
RLDEF rl_status rl_state_init(rl_state *s, const rl_model *m, int64_t max_ctx);
RLDEF rl_status rl_state_init_batch(rl_state *s, const rl_model *m, int64_t max_ctx, int64_t batch);
RLDEF void rl_state_reset(rl_state *s);
RLDEF void rl_state_free(rl_state *s);
/* Feed n tokens to each of the state's s->batch sequences at s->pos (prefill when n > 1,
   one decode step when n = 1): ids [batch][n], row-major; writes the logits of each
   sequence's last token to logits[batch][vocab] and advances the state. */
RLDEF rl_status rl_model_step(rl_ctx *c, rl_model *m, rl_state *s, const int32_t *ids, int64_t n, float *logits);

/* Sampling: temperature <= 0 is greedy; top_k 0 and top_p 1 disable those filters. */
typedef struct rl_sampler { float temperature, top_p; int top_k; } rl_sampler;
RLDEF int32_t rl_sample(const float *logits, int64_t n, const rl_sampler *s, rl_rng *rng);

/* ==== 5. conversion (declarations) ========================================= */
/* (rl_student_opts and rl_student_from_teacher are declared with the model, section 4) */

/* ==== 6. training (declarations) =========================================== */

/* A stream of token ids (documents joined with EOS). */
typedef struct rl_tokens {
    int32_t *ids;
    int64_t n;
} rl_tokens;
RLDEF void rl_tokens_free(rl_tokens *t);
#if !defined(RADLADS_NO_STDIO)
/* RWKV/Megatron binidx (prefix.idx + prefix.bin, uint16 or int32 tokens). */
RLDEF rl_status rl_tokens_load_binidx(rl_tokens *t, const char *prefix);
/* llm.c token file (header of 256 int32: magic 20240520, version 1|2, count; uint16|uint32 ids). */
RLDEF rl_status rl_tokens_load_llmc(rl_tokens *t, const char *path);
#if !defined(RADLADS_NO_TOKENIZER)
/* Tokenize a text file (one document) or a .jsonl file ({"text": ...} per line, one document
   each, formats of the RADLADS data prep); each document is followed by eos when eos >= 0.
   A text file with "<|endoftext|>" in it (TinyStories' separator) is split there into
   documents, each stripped of surrounding whitespace, when the tokenizer has no such token
   (e.g. llama2.c vocabularies); a tokenizer that has it (Qwen2) encodes it as that token. */
RLDEF rl_status rl_tokens_from_text(rl_tokens *t, const rl_tokenizer *tok, const char *path, int32_t eos);
#endif
#endif

/* Training windows of T+1 tokens at slot boundaries i·T (RADLADS' src/dataset.py). The first
   (1 − heldout) of the stream trains, the rest is held out. Training slots are visited
   in the RADLADS "magic prime" order: slot = (⌊p·(√5−1)/2⌋ · (1+k)³) mod p, a
   permutation for a prime p ≡ 2 (mod 3), here the largest such p below the number of
   training slots (slots >= p are never visited, as in the reference). */
typedef struct rl_loader {
    const rl_tokens *data;
    int64_t T, n_train, n_heldout; /* training slots; held-out windows */
    uint64_t p, mult, k;           /* prime, multiplier, samples drawn so far */
    int64_t heldout_begin, heldout_end; /* the held-out split: tokens [begin, end) */
} rl_loader;
/* The held-out split is every token after the training slots ([n_train·T, n)); it is read
   in n_heldout windows of T+1 tokens at heldout_begin + i·T, the last one shorter when the
   split does not divide into T (so every held-out token but the first is scored once). */
RLDEF rl_status rl_loader_init(rl_loader *L, const rl_tokens *data, int64_t T, double heldout);
/* Hold out whole documents: move the start of the held-out split forward to the first
   document separator `sep` (e.g. the EOS that joins documents, or llama2.c's BOS) at or after
   token n_train·T, so that no token of a held-out document is ever trained on and the
   held-out windows start at a document boundary. RL_ERR_ARG if the split has no separator. */
RLDEF rl_status rl_loader_heldout_docs(rl_loader *L, int32_t sep);
/* the window of training sample number k (x = w[0:T], y = w[1:T+1]) */
RLDEF const int32_t *rl_loader_train(const rl_loader *L, uint64_t k);
RLDEF const int32_t *rl_loader_heldout(const rl_loader *L, int64_t i); /* i < n_heldout */
/* the number of scored targets of held-out window i (T, or fewer for the last one) */
RLDEF int64_t rl_loader_heldout_len(const rl_loader *L, int64_t i);

#if !defined(RADLADS_NO_TRAINING) /* token data and windows above stay: evaluation reads them */
/* Learning rate of the RADLADS trainer (paper Table 2, src/trainer.py) at an optimizer step. */
typedef struct rl_lr_sched {
    double lr_init, lr_final;      /* everything but the sequence mixers */
    double lr2_init, lr2_final;    /* sequence mixers (".self_attn."); negative: as above */
    double wait, endpoint;         /* decay between these fractions of the post-warm-up tokens */
    int cosine;                    /* 1: quarter cosine, 0: linear */
    int64_t warmup_steps, tokens_per_step, exit_tokens;
} rl_lr_sched;
RLDEF void rl_lr_at(const rl_lr_sched *s, int64_t step, double *lr_main, double *lr_mixer);

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
    rl_arena dev_mem;              /* the moments of parameters on a device (rl_model_to) */
    rl_pool *pool;                 /* threads for the update of host parameters (NULL: the caller's;
                                      rl_train_stage sets its context's pool) */
} rl_adamw;
RLDEF rl_status rl_adamw_init(rl_adamw *o, rl_model *m, int which);
/* One update from the accumulated gradients (then zeroed). Returns the gradient norm
   before clipping, or −1 (and no update) if it is not finite; −2 with rl_last_error() when
   the parameters are no longer where the optimizer's moments are (its moments live where
   the parameters were at rl_adamw_init, e.g. on a device after rl_model_to) or a device
   failed. */
RLDEF double rl_adamw_step(rl_adamw *o, double lr_main, double lr_mixer);
RLDEF void rl_adamw_zero_grad(rl_adamw *o);
RLDEF void rl_adamw_free(rl_adamw *o);

/* Progress of a run, given to the callback after every optimizer step. */
typedef struct rl_progress {
    int stage;
    int64_t step, steps, tokens, tokens_total;
    double loss, lr, grad_norm, tok_per_s, eta_s;
    int64_t nonfinite;             /* updates skipped so far for a non-finite loss or gradient */
} rl_progress;

/* One RADLADS stage on a token stream (paper §4.2-4.5, Table 2):
     1: attention alignment: student mixers on the teacher's normalized residual stream,
        loss mean_l ‖y_teacher − y_student‖₂/√C (rl_l2_dist), only mixers train;
     2: KL(teacher ‖ student) at T = 1 over the whole vocabulary, everything trains
        (2a: lr2_* give the mixers their own schedule);
     3: next-token cross entropy, no teacher; with carry_state each window is run in
        chunks of `chunk` tokens, the recurrent state of one chunk feeding the next (RAD's
        carried state: memory of one chunk for any context, gradients truncated at chunk
        boundaries; students without attention layers only).
   Checkpoints hold weights, Adam moments, counters and the data cursor; resume continues
   exactly. The stage runs where the student is: on a device when rl_model_to put it (and
   the teacher) there, with the optimizer's moments and the activations there too; only the
   token ids go up and the loss comes down per step. */
typedef struct rl_stage_opts {
    int stage;                     /* 1, 2 or 3 */
    int64_t ctx, batch, micro_batch; /* window length; sequences per optimizer step; per forward */
    int64_t tokens;                /* token budget of the stage */
    rl_lr_sched lr;                /* tokens_per_step / exit_tokens are filled in */
    float clip, beta1, beta2, eps, weight_decay;
    int train;                     /* RL_TRAIN_ALL / MIXERS / DECAY; stage 1 forces MIXERS */
    int carry_state;               /* stage 3: run windows in chunks with the state carried (a micro-batch's
                                      windows together) */
    int64_t chunk;                 /* chunk length for carry_state (default 512) */
    double heldout;                /* fraction of the stream held out (not trained on) */
    const char *checkpoint;        /* file written atomically every ckpt_every steps and at the end */
    int64_t ckpt_every;
    int resume;                    /* continue from `checkpoint` */
    int64_t max_steps;             /* stop (with a checkpoint) after this many steps of this call; 0 = no limit */
    int layerwise;                 /* stage 1 one layer at a time (paper §4.2): each mixer gets the
                                      whole budget in turn, the teacher runs only up to that layer and
                                      keeps only its residual stream, so activations are one layer's;
                                      gradient clipping is per layer. The same loop as the other stages
                                      (micro-batches, csv rows, max_steps, stop, resume); steps are
                                      counted over all layers, and a checkpoint is also written at
                                      every layer's end */
    const char *csv;               /* per-step log (step,tokens,loss,lr,grad_norm,tok_per_s), appended */
    volatile int *stop;            /* polled each step: non-zero saves a checkpoint and returns RL_ERR_INTERRUPTED */
    void (*progress)(void *user, const rl_progress *p);
    void *user;
    int max_nonfinite;             /* a step whose loss or gradient is NaN/Inf is skipped (no update) and counted;
                                      more than this many in a row stop the run with RL_ERR_STATE before any
                                      further checkpoint, so the last good one stays (0: the default, 3) */
    int resume_force;              /* resume even where the checkpoint's run identity differs (warns instead) */
    const char *const *identity;   /* more of the run's identity, key/value pairs, NULL-terminated (e.g. the CLI's
                                      data file size and hash); kept as radlads.id.<key> and compared on resume */
    int64_t kl_chunk;              /* stage 2: the KL over the vocabulary in chunks of this many columns (rl_kl_head:
                                      memory of a few [tokens, chunk] buffers instead of three [tokens, vocab] ones,
                                      for two more products of the heads); 0: chunks of RL__KL_CHUNK (8192) where the
                                      models are on a device, the whole vocabulary on the host; < 0: whole */
} rl_stage_opts;
RLDEF void rl_stage_opts_default(rl_stage_opts *o, int stage);

/* What a stage will cost, before it runs: exact parameter, gradient and optimizer bytes,
   an estimate of the activation arena (per micro-batch, from per-token counts of the ops
   each layer records) and FLOPs per trained token (2 per weight for a forward, 6 for
   forward + backward, plus attention and scans). */
typedef struct rl_plan {
    int64_t params, trained;        /* student parameters; those the optimizer updates */
    double weights_bytes;           /* student + teacher weights as stored */
    double grads_bytes, optim_bytes;
    double act_bytes;               /* activations + their gradients, one micro-batch (estimate) */
    double flops_per_token, flops_total;
} rl_plan;
RLDEF rl_status rl_stage_plan(rl_model *student, rl_model *teacher, const rl_stage_opts *o, rl_plan *p);
RLDEF rl_status rl_train_stage(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_tokens *data, const rl_stage_opts *o);
/* Save a model as a Hugging Face folder: config.json (students: model_type rwkv6qwen2 /
   rwkv7qwen2 with the RADLADS keys), model.safetensors, and the tokenizer files copied from
   tok_dir (may be NULL). rl_model_load reads it back. */
RLDEF rl_status rl_model_save(rl_model *m, const char *dir, const char *tok_dir);
/* Training curves as a plain SVG file (no dependency): one column per stage found in
   train_csv (the rl_stage_opts.csv log: stage,step,tokens,loss,lr,...), rows: the stage's loss,
   held-out perplexity (log scale) and learning rate against the stage's tokens. eval_csv (may
   be NULL or missing) holds held-out measurements "stage,tokens,label,ppl,kl,top1": stage 0
   is before step 1 (the student at init), label "teacher" draws the teacher's perplexity as
   a dashed line. Written to a temporary file and renamed. */
RLDEF rl_status rl_plot_train_svg(const char *train_csv, const char *eval_csv, const char *svg_path, const char *title);

#endif /* training */

/* ==== 7. inference and evaluation (declarations) =========================== */
/* (rl_state, rl_model_step and rl_sample are declared with the model, section 4) */

/* Perplexity: mean next-token NLL per token over the held-out windows (one forward per
   window, every position scored, states from zero). max_windows <= 0 (or >= n_heldout)
   scores the whole held-out split; otherwise max_windows windows drawn without replacement
   from the whole split with a fixed seed (rl_eval_windows), never simply the first ones. */
RLDEF rl_status rl_eval_ppl(rl_ctx *c, rl_model *m, const rl_loader *L, int64_t max_windows, double *nll);
/* The held-out windows an evaluation with max_windows scores, ascending: *n of them, in
   idx[] (free with rl_free). The same windows for the same split and count. */
RLDEF rl_status rl_eval_windows(const rl_loader *L, int64_t max_windows, int64_t **idx, int64_t *n);
/* Teacher–student comparison on the same held-out windows: mean KL(teacher‖student) per
   token and top-1 agreement. */
RLDEF rl_status rl_eval_compare(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_loader *L, int64_t max_windows,
                          double *kl, double *top1);

/* ==================== PART II: THE OUTSIDE WORLD ========================= */

/* ==== 8. files and text (declarations) ===================================== */

/* Numbers given as text (command-line values, safetensors/GGUF metadata strings): the one
   strict parser. The whole string must be the number: an optional sign, digits, an optional
   fraction and exponent, nothing before or after (no blanks, no hex, no "nan"/"inf"); with
   RL_NUM_SUFFIX one trailing k/K, M/m or G/g multiplies by 1e3/1e6/1e9 ("100M"). The value
   must be finite and lie in [lo, hi]; RL_NUM_INT also wants a whole number ("1.5k" is 1500,
   "2.5" is refused). On failure: RL_ERR_ARG, *out untouched, and rl_last_error() names
   `what` and states the limits, e.g. "--stride: -4 is outside [1, 16777216]". */
enum { RL_NUM_INT = 1, RL_NUM_SUFFIX = 2 };
RLDEF rl_status rl_parse_num(const char *s, const char *what, double lo, double hi, int flags, double *out);
RLDEF rl_status rl_parse_i64(const char *s, const char *what, int64_t lo, int64_t hi, int flags, int64_t *out);

/* ==== 9. JSON (declarations) =============================================== */
/*
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
RLDEF rl_status rl_json_parse(rl_json_doc *doc, const char *text, size_t len, const char *source);
#if !defined(RADLADS_NO_STDIO)
/* Read and parse a file; max_bytes = 0 means 1 GiB. Errors name the path. */
RLDEF rl_status rl_json_parse_file(rl_json_doc *doc, const char *path, size_t max_bytes);
#endif
RLDEF void rl_json_free(rl_json_doc *doc);
RLDEF int rl_json_has_dup(const rl_json_doc *doc);
/* Member `key` of an object: NULL if absent or obj is not an OBJ (linear search). */
RLDEF const rl_json *rl_json_get(const rl_json *obj, const char *key);
/* "null", "a boolean", "a number", "a string", "an array", "an object" */
RLDEF const char *rl_json_type_name(rl_json_type t);

/* Typed access with error messages. `source` names the file, `field` the place, e.g.
   rl_json_as_int(v, "config.json", "eos_token_id[2]", &x) fails with
   "config.json: eos_token_id[2]: expected an integer, got a string". v = NULL means missing:
   "config.json: eos_token_id[2]: missing (expected an integer)". Integers must be written
   without fraction or exponent and fit int64. All return RL_OK or RL_ERR_FORMAT. */
RLDEF rl_status rl_json_expect(const rl_json *v, rl_json_type t, const char *source, const char *field);
RLDEF rl_status rl_json_as_int(const rl_json *v, const char *source, const char *field, int64_t *out);
RLDEF rl_status rl_json_as_num(const rl_json *v, const char *source, const char *field, double *out);
RLDEF rl_status rl_json_as_bool(const rl_json *v, const char *source, const char *field, int *out);
RLDEF rl_status rl_json_as_str(const rl_json *v, const char *source, const char *field, const char **out);
/* The same for obj[key] (field = key). The _or forms store dflt and succeed when the key is
   absent or JSON null. */
RLDEF rl_status rl_json_get_int(const rl_json *obj, const char *key, const char *source, int64_t *out);
RLDEF rl_status rl_json_get_num(const rl_json *obj, const char *key, const char *source, double *out);
RLDEF rl_status rl_json_get_bool(const rl_json *obj, const char *key, const char *source, int *out);
RLDEF rl_status rl_json_get_str(const rl_json *obj, const char *key, const char *source, const char **out);
RLDEF rl_status rl_json_get_int_or(const rl_json *obj, const char *key, const char *source, int64_t dflt, int64_t *out);
RLDEF rl_status rl_json_get_num_or(const rl_json *obj, const char *key, const char *source, double dflt, double *out);
RLDEF rl_status rl_json_get_bool_or(const rl_json *obj, const char *key, const char *source, int dflt, int *out);
RLDEF rl_status rl_json_get_str_or(const rl_json *obj, const char *key, const char *source, const char *dflt, const char **out);

/* ==== 10. safetensors (declarations) ======================================= */
/*
   Reader: rl_st_open() maps a .safetensors file read-only (mmap PROT_READ, MAP_PRIVATE) and
   validates it at least as strictly as the safetensors crate's Rust reader (tensor.rs; the
   checks are listed at the top of section 10's implementation).
   Errors are RL_ERR_FORMAT naming the file, the tensor and the problem.

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
RLDEF const char *rl_st_dtype_name(rl_st_dtype t); /* "BF16" */
RLDEF int rl_st_dtype_bits(rl_st_dtype t);         /* 16 */

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
struct rl_st {
    int n_tensors;
    rl_st_tensor *tensors;   /* sorted by name */
    int n_files;
    rl__st_file *files;
    int n_meta;              /* __metadata__ of the (first) file */
    const char **meta_keys, **meta_vals;
    const char *path;        /* what was opened, for messages */
    rl_arena arena;
};

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_st_open(rl_st *st, const char *path);      /* a .safetensors file (a folder: rl_st_open_dir) */
RLDEF rl_status rl_st_open_dir(rl_st *st, const char *dir);   /* model.safetensors, else the index + shards */
#endif
/* Validate and list a safetensors image in memory (not copied: keep it alive while st is
   open). `name` is used in messages. */
RLDEF rl_status rl_st_open_memory(rl_st *st, const void *data, size_t len, const char *name);
RLDEF void rl_st_close(rl_st *st);
RLDEF const rl_st_tensor *rl_st_find(const rl_st *st, const char *name); /* NULL if absent */
RLDEF int rl_st_count(const rl_st *st);
RLDEF const rl_st_tensor *rl_st_at(const rl_st *st, int i);             /* i in [0, count), by name */
RLDEF const char *rl_st_file_path(const rl_st *st, int file);
RLDEF const char *rl_st_meta(const rl_st *st, const char *key);          /* __metadata__ value or NULL */
/* Copy tensor `name` into dst as F32 (F32 copied, BF16/F16/F64 converted), after checking it
   has exactly the shape the caller expects (ndim dims). Errors name the file and tensor. */
RLDEF rl_status rl_st_read_f32(const rl_st *st, const char *name, float *dst, int ndim, const int64_t *shape);
/* The same for integer tensors (I32 copied; I64, I16, U16, I8, U8, BOOL converted; an I64
   value outside int32 is an error). */
RLDEF rl_status rl_st_read_i32(const rl_st *st, const char *name, int32_t *dst, int ndim, const int64_t *shape);

/* Writer. Output is byte for byte what the reference writer produces (safetensors' serialize):
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
#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_st_write(const char *path, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags);
#endif
/* The same file image in a malloc'd buffer (free with rl_free). */
RLDEF rl_status rl_st_serialize(const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags,
                          unsigned char **out, size_t *out_len);

/* ==== 11. config.json (declarations) ======================================= */
/*
   Reads a Hugging Face config.json of a Qwen2ForCausalLM (Qwen2/Qwen2.5) or LlamaForCausalLM
   (Llama-3.x, SmolLM2) checkpoint, in the transformers v4 form (top-level rope_theta,
   rope_scaling, torch_dtype) or the v5 form (rope_parameters, dtype).
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

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_config_load(rl_config *cfg, const char *path_to_config_json);
#endif
/* The same from text in memory; `source` names it in messages. */
RLDEF rl_status rl_config_parse(rl_config *cfg, const char *text, size_t len, const char *source);
/* RoPE inverse frequencies, head_dim/2 of them: theta^(-2i/head_dim), then the scaling rule
   (llama3 exactly as transformers' _compute_llama3_parameters; linear: / factor), computed in
   double and rounded to float once. */
RLDEF void rl_rope_inv_freq(const rl_config *cfg, float *inv_freq);

#if !defined(RADLADS_NO_GGUF)
/* ==== 12. GGUF (declarations) ============================================== */
/*
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

#if !defined(RADLADS_NO_STDIO)
/* Open and validate a GGUF file: header, every metadata value, every tensor info, data
   ranges, alignment, overlaps. On failure *g is left closed and rl_last_error() names
   the file and the key or tensor at fault. */
RLDEF rl_status rl_gguf_open(rl_gguf *g, const char *path);
#endif
/* The same over bytes already in memory (borrowed until rl_gguf_close); name is used in
   messages. */
RLDEF rl_status rl_gguf_open_memory(rl_gguf *g, const void *data, size_t size, const char *name);
RLDEF void rl_gguf_close(rl_gguf *g);

RLDEF const rl_gguf_kv *rl_gguf_find(const rl_gguf *g, const char *key);               /* NULL if absent */
RLDEF const rl_gguf_tensor *rl_gguf_find_tensor(const rl_gguf *g, const char *name);   /* NULL if absent */
/* Typed getters; RL_ERR_FORMAT naming file and key if the key is missing or has another
   type. get_int takes any integer type (u64 only up to INT64_MAX); get_float takes
   FLOAT32/FLOAT64; get_array checks the element type (pass RL_GGUF_ARRAY for arrays of
   arrays). */
RLDEF rl_status rl_gguf_get_int(const rl_gguf *g, const char *key, int64_t *out);
RLDEF rl_status rl_gguf_get_float(const rl_gguf *g, const char *key, double *out);
RLDEF rl_status rl_gguf_get_bool(const rl_gguf *g, const char *key, int *out);
RLDEF rl_status rl_gguf_get_str(const rl_gguf *g, const char *key, const char **s, uint64_t *len);
RLDEF rl_status rl_gguf_get_array(const rl_gguf *g, const char *key, rl_gguf_type elem_type, const rl_gguf_value **arr);
/* Element i of an ARRAY of numbers/bools (RL_ERR_ARG if out of range or not numeric). */
RLDEF rl_status rl_gguf_arr_int(const rl_gguf_value *arr, uint64_t i, int64_t *out);
RLDEF rl_status rl_gguf_arr_float(const rl_gguf_value *arr, uint64_t i, double *out);

RLDEF const char *rl_gguf_type_name(rl_gguf_type t);  /* "UINT32", ... */
RLDEF const char *rl_ggml_type_name(int type);        /* "Q4_K", ...; "unknown" */
/* Block size (elements) and bytes per block of a ggml type; 0 if the type is unknown. */
RLDEF int rl_ggml_type_size(int type, int64_t *block_size, int64_t *type_size);
/* 1 for the types rl_ggml_dequantize handles: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
   Q4_K Q5_K Q6_K. */
RLDEF int rl_ggml_can_dequantize(int type);
/* Convert n elements (a multiple of the block size) to fp32. */
RLDEF rl_status rl_ggml_dequantize(int type, const void *src, float *dst, int64_t n);
/* A tensor as fp32; dst holds t->n floats. */
RLDEF rl_status rl_gguf_tensor_f32(const rl_gguf *g, const rl_gguf_tensor *t, float *dst);
/* Row-major (PyTorch) shape = ne reversed; returns the number of dims (>= 1). */
RLDEF int rl_gguf_tensor_shape(const rl_gguf_tensor *t, int64_t shape[4]);

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

RLDEF rl_status rl_gguf_llama_hparams_read(const rl_gguf *g, rl_gguf_llama_hparams *hp);
/* GGUF tensor name -> Hugging Face name ("blk.3.attn_q.weight" ->
   "model.layers.3.self_attn.q_proj.weight"); RL_ERR_UNSUPPORTED if it has none. */
RLDEF rl_status rl_gguf_hf_name(const char *gguf_name, char *out, size_t cap);
/* Called once per tensor in file order. hf_name is NULL for a tensor with no HF
   counterpart (rope_freqs.weight, or anything outside the llama/qwen2 tensor set: the
   caller decides whether that is an error); such a tensor's data is NULL when its type
   cannot be converted to fp32. shape is row-major (HF); data is fp32 in HF layout, valid
   only during the call. A non-OK return stops the walk and is returned. */
typedef rl_status (*rl_gguf_tensor_fn)(void *user, const char *hf_name, const rl_gguf_tensor *t,
                                       int ndim, const int64_t *shape, const float *data);
/* Dequantize every tensor, undo the Q/K permutation where hp->qk_permuted, check each
   shape against hp, and hand it to fn. */
RLDEF rl_status rl_gguf_llama_tensors(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_gguf_tensor_fn fn, void *user);
/* llama.cpp's convert_hf_to_gguf permute of a [n_heads*head_dim, cols] Q or K weight
   (or bias, cols = 1), in place: HF rotate-half row order <-> interleaved pairs.
   rl_gguf_permute_qk is the converter's direction (for export), unpermute its inverse. */
RLDEF rl_status rl_gguf_permute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads);
RLDEF rl_status rl_gguf_unpermute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads);

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

RLDEF rl_status rl_gguf_vocab_read(const rl_gguf *g, rl_gguf_vocab *v);
RLDEF void rl_gguf_vocab_free(rl_gguf_vocab *v);

#if !defined(RADLADS_NO_STDIO)
/* ---- GGUF writer ----
   Collects metadata and tensors, then rl_gguf_write() writes version 3 to
   "<path>.tmp.<random>", flushed, and renames it over path. Setting "general.alignment" (UINT32, power of
   two) changes the data alignment from 32. Errors are sticky: after a failed add, every
   later call returns the same status, so a sequence of adds can be checked once. */
typedef struct rl_gguf_writer rl_gguf_writer;
/* Fills nbytes of a tensor's data into dst when the file is written. */
typedef rl_status (*rl_gguf_fill_fn)(void *user, const char *name, void *dst, uint64_t nbytes);

RLDEF rl_gguf_writer *rl_gguf_writer_new(void);
RLDEF void rl_gguf_writer_free(rl_gguf_writer *w);
RLDEF rl_status rl_gguf_add_u32(rl_gguf_writer *w, const char *key, uint32_t v);
RLDEF rl_status rl_gguf_add_i32(rl_gguf_writer *w, const char *key, int32_t v);
RLDEF rl_status rl_gguf_add_u64(rl_gguf_writer *w, const char *key, uint64_t v);
RLDEF rl_status rl_gguf_add_i64(rl_gguf_writer *w, const char *key, int64_t v);
RLDEF rl_status rl_gguf_add_f32(rl_gguf_writer *w, const char *key, float v);
RLDEF rl_status rl_gguf_add_f64(rl_gguf_writer *w, const char *key, double v);
RLDEF rl_status rl_gguf_add_bool(rl_gguf_writer *w, const char *key, int v);
RLDEF rl_status rl_gguf_add_str(rl_gguf_writer *w, const char *key, const char *s);
/* Any scalar type; value points to a uint8_t/int8_t/.../double/char (bool) of that type,
   or to a const char * for STRING. */
RLDEF rl_status rl_gguf_add_scalar(rl_gguf_writer *w, const char *key, rl_gguf_type type, const void *value);
/* Array of n scalars; elems is a C array of the element type (uint8_t[], float[], ...,
   char[] of 0/1 for BOOL, const char *[] for STRING). */
RLDEF rl_status rl_gguf_add_array(rl_gguf_writer *w, const char *key, rl_gguf_type elem_type, const void *elems, uint64_t n);
/* Any value tree, nested arrays included (e.g. one read by rl_gguf_open). */
RLDEF rl_status rl_gguf_add_value(rl_gguf_writer *w, const char *key, const rl_gguf_value *v);
/* A tensor of n_dims (0..4; 0 = scalar) with ggml dims ne (ne[0] fastest); data is borrowed until
   rl_gguf_write and holds exactly the bytes the type and dims call for. */
RLDEF rl_status rl_gguf_add_tensor(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims,
                             const int64_t *ne, const void *data);
/* The same with the data produced by fill() at write time. */
RLDEF rl_status rl_gguf_add_tensor_fn(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims,
                                const int64_t *ne, rl_gguf_fill_fn fill, void *user);
RLDEF rl_status rl_gguf_write(rl_gguf_writer *w, const char *path);
#endif /* GGUF writer */


#endif /* GGUF */

#if !defined(RADLADS_NO_TOKENIZER)
/* ==== 13. tokenizer (declarations) ========================================= */
/*
   Byte-level BPE as Hugging Face `tokenizers` runs it for Qwen2/Qwen2.5, Llama-3.x,
   SmolLM/SmolLM2 and GPT-2; token ids equal HF's, decoding equals HF's
   `decode` (invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart).

   Anything else in tokenizer.json is RL_ERR_UNSUPPORTED naming the field. Input need not be
   valid UTF-8: decode(encode(s)) == s byte for byte. The pipeline in detail (added tokens,
   normalizer, pre-tokenizer regexes, BPE, Unicode versions): top of section 13's code.

   A tokenizer is read-only after loading: encode/decode may run on many threads at once.
   Release the buffers encode/decode return with rl_free. */

/* Pre-tokenizer presets (GGUF tokenizer.ggml.pre: "gpt2", "llama-bpe", "qwen2", "smollm"). */
typedef enum rl_pretok {
    RL_PRETOK_CUSTOM = -1, /* a loaded tokenizer.json that is none of the presets below */
    RL_PRETOK_GPT2 = 0,    /* ByteLevel with the GPT-2 regex */
    RL_PRETOK_LLAMA3 = 1,  /* Split(Llama-3 regex, digits in runs of up to 3) + ByteLevel; ignore_merges */
    RL_PRETOK_QWEN2 = 2,   /* NFC + Split(Qwen2 regex, digits one by one) + ByteLevel */
    RL_PRETOK_SMOLLM = 3   /* Digits(individual) + ByteLevel with the GPT-2 regex */
} rl_pretok;

/* Token types, numbered as GGUF tokenizer.ggml.token_type. */
enum {
    RL_TOKEN_NORMAL = 1,
    RL_TOKEN_UNKNOWN = 2,      /* the model's unk_token */
    RL_TOKEN_CONTROL = 3,      /* special added token (skipped by decode with skip_special) */
    RL_TOKEN_USER_DEFINED = 4, /* added token that is not special */
    RL_TOKEN_UNUSED = 5        /* id below vocab_size that no token has */
};

#if !defined(RADLADS_NO_STDIO)
/* Load tokenizer.json; `path` is the file or a model folder that holds it (a folder with no
   tokenizer.json but a llama2.c tokenizer.bin, as `radlads import --llama2c` writes, loads
   that with rl_tokenizer_load_llama2c). */
RLDEF rl_status rl_tokenizer_load(rl_tokenizer **tok, const char *path);
#endif
/* The same from memory; `source` names it in errors (NULL: "tokenizer.json"). */
RLDEF rl_status rl_tokenizer_load_mem(rl_tokenizer **tok, const char *json, size_t len, const char *source);
/* Build from a plain vocabulary (e.g. read back from GGUF): tokens[i] has id i (byte-level
   alphabet, as in tokenizer.json); token_types (may be NULL = all normal) marks
   RL_TOKEN_CONTROL (special added token), RL_TOKEN_USER_DEFINED (added, not special) and
   RL_TOKEN_UNUSED (a hole: never produced, decodes to nothing); merges are "a b" in rank
   order; bos_id >= 0 with add_bos != 0 is prepended by encode(add_special). */
RLDEF rl_status rl_tokenizer_from_vocab(rl_tokenizer **tok, int n_vocab, const char *const *tokens,
                                  const int32_t *token_types, int n_merges, const char *const *merges,
                                  rl_pretok kind, int32_t bos_id, int add_bos);
/* A llama2.c vocabulary (tokenizer.bin / tok512.bin of karpathy/llama2.c: int32
   max_token_length, then per token float32 score, int32 length, bytes): SentencePiece BPE with
   byte fallback, encoded and decoded exactly as llama2.c's run.c does (see "tokenizer:
   llama2.c vocabularies" in the implementation). vocab_size > 0: the file must hold exactly
   that many tokens (the model's); 0: as many as the file holds. Ids 0, 1, 2 are <unk>, BOS, EOS
   and 3..258 the byte tokens <0x00>..<0xFF> (checked); encode(add_special) prepends BOS. */
#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_tokenizer_load_llama2c(rl_tokenizer **tok, const char *path, int32_t vocab_size);
#endif
RLDEF rl_status rl_tokenizer_load_llama2c_mem(rl_tokenizer **tok, const void *data, size_t len, int32_t vocab_size, const char *source);
RLDEF void rl_tokenizer_free(rl_tokenizer *tok);

/* Encode len bytes of text. add_special: apply the post-processor template (Llama-3 prepends
   <|begin_of_text|>; Qwen2 adds nothing), as transformers' add_special_tokens=True.
   *ids (RL_MALLOC, never NULL on success) holds *n_ids ids. */
RLDEF rl_status rl_tokenizer_encode(const rl_tokenizer *tok, const char *text, size_t len, int add_special,
                              int32_t **ids, int64_t *n_ids);
/* Decode ids to UTF-8 (NUL-terminated, *len bytes without the NUL; RL_MALLOC). skip_special
   drops special added tokens. Ids that no token has are skipped, as HF does. */
RLDEF rl_status rl_tokenizer_decode(const rl_tokenizer *tok, const int32_t *ids, int64_t n, int skip_special,
                              char **text, size_t *len);

RLDEF int rl_tokenizer_vocab_size(const rl_tokenizer *tok);                 /* 1 + the largest id */
RLDEF const char *rl_tokenizer_token(const rl_tokenizer *tok, int32_t id);  /* raw token string, NULL if none */
RLDEF int32_t rl_tokenizer_id(const rl_tokenizer *tok, const char *token);  /* added tokens first; -1 if absent */
RLDEF int rl_tokenizer_token_type(const rl_tokenizer *tok, int32_t id);     /* RL_TOKEN_*, 0 if out of range */
RLDEF int rl_tokenizer_n_merges(const rl_tokenizer *tok);
/* Merge i (rank order) as its two token strings; RL_ERR_ARG if i is out of range. */
RLDEF rl_status rl_tokenizer_merge(const rl_tokenizer *tok, int i, const char **a, const char **b);
RLDEF rl_pretok rl_tokenizer_pretok(const rl_tokenizer *tok);
/* GGUF tokenizer.ggml.pre names: "gpt2", "llama-bpe", "qwen2", "smollm" (NULL for CUSTOM);
   rl_pretok_from_name also takes "llama3", "llama-v3", "gpt-2" (llama.cpp's spelling) and
   "deepseek-r1-qwen"; unknown names give RL_PRETOK_CUSTOM. */
RLDEF const char *rl_pretok_name(rl_pretok kind);
RLDEF rl_pretok rl_pretok_from_name(const char *name);
RLDEF int32_t rl_tokenizer_bos(const rl_tokenizer *tok); /* id that add_special puts first, -1 if none */

/* Streaming decode for generation: push ids one at a time and get the newly completed UTF-8
   text; an incomplete multi-byte character is held back until its last byte arrives. The
   concatenated outputs (after rl_detok_flush) equal rl_tokenizer_decode of all the ids. */
typedef struct rl_detok {
    char *buf;                /* output of the last call (owned) */
    size_t cap;
    unsigned char pend[4];    /* bytes of an incomplete character */
    int n_pend;
    int skip_special;
    int32_t prev;             /* the id pushed last (llama2.c vocabularies: a piece after BOS loses its leading space) */
} rl_detok;
RLDEF void rl_detok_init(rl_detok *d, int skip_special);
RLDEF rl_status rl_detok_push(const rl_tokenizer *tok, rl_detok *d, int32_t id, const char **text, size_t *len);
/* End of stream: an incomplete character left over becomes U+FFFD. */
RLDEF rl_status rl_detok_flush(rl_detok *d, const char **text, size_t *len);
RLDEF void rl_detok_free(rl_detok *d);


#endif /* tokenizer */

#ifdef __cplusplus
}
#endif
#endif /* RADLADS_H */

/* =========================================================================== */
/*            INTERNAL DECLARATIONS (for white-box tests)                      */
/* =========================================================================== */
/* Not an API. Types of the implementation that white-box tests reach into, defined once here
   (the kernels', below; Part II's, before Part II's implementation) for both. With
   RADLADS_INTERNAL defined, the functions marked RL__INTERN have external linkage and are
   declared there too: tests/rl_impl.c compiles the implementation with it, and a white-box
   test defines RADLADS_INTERNAL alone and links that object. */
#if (defined(RADLADS_INTERNAL) || defined(RADLADS_IMPLEMENTATION)) && !defined(RADLADS_INTERNAL_H)
#define RADLADS_INTERNAL_H
#ifdef RADLADS_INTERNAL
#define RL__INTERN
#else
#define RL__INTERN RL__UTIL /* static; some switches leave it unused */
#endif
#ifdef __cplusplus
extern "C" {
#endif

/* A growable text buffer: oom is set once an append failed, then appends do nothing. */
typedef struct rl__sbuf {
    char *p;
    size_t n, cap;
    int oom;
} rl__sbuf;

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

/* x · one row of W in ggml blocks (k values), read in place (rl_gemm, section 12) */
typedef float rl__dotq_fn(const float *x, const void *row, int64_t k);
#define RL__NQ 15 /* dot_q below: by ggml type, up to Q6_K */
/* The table of fast kernels one ISA pass provides (2b fills one per pass). */
struct rl__gemm_impl; /* a blocked GEMM's packs and micro-kernel (2b) */
typedef struct rl__kern {
    const char *name;
    int mr, nr, mc, kc, nc; /* GEMM blocking */
    const struct rl__gemm_impl *gemm; /* for rl__gemm_blocked; NULL: none (the naive table) */
    float (*dot)(const float *a, const float *b, int64_t n);
    float (*dot_bf16)(const float *a, const uint16_t *b, int64_t n);
    float (*dot_f16)(const float *a, const uint16_t *b, int64_t n);
    rl__dotq_fn *dot_q[RL__NQ]; /* NULL: none for the type (rl__gemm_ggml dequantizes rows) */
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
    /* one AdamW update of n values, the gradient zeroed; h: clip scale, beta1, beta2, eps,
       weight decay, lr, 1 / (1 − beta1^t), 1 / (1 − beta2^t) (rl_adamw_step) */
    void (*adamw)(float *p, float *g, float *m, float *v, int64_t n, const float *h);
} rl__kern;

typedef struct { const rl__kern *K; float *pk; int64_t ap_cap; } rl__mmbuf; /* a task's pack buffers (rl__mm, 2c) */

/* One head of causal attention (section 3): query rows t = 0..T−1 at positions pos0 + t (q,
   o, go, gq: stride qs) over key/value rows 0..pos0 + T − 1 (k, v, gk, gv: stride ks). */
#define RL__ATT_BQ 64  /* query rows per block */
#define RL__ATT_MIN 8  /* fewer rows (decoding): one dot product and axpy per pair */
typedef struct {
    const float *q, *k, *v, *go;
    float *o, *lse, *gq, *gk, *gv; /* o, lse (may be NULL): forward output; gq, gk, gv: accumulated (or NULL) */
    int64_t qs, ks, T, pos0, d;
} rl__attn_head;


#ifdef __cplusplus
}
#endif
#endif /* RADLADS_INTERNAL_H */

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
#include <stdio.h> /* snprintf everywhere; FILE only without RADLADS_NO_STDIO */
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <time.h>
/* the operating system, for the platform layer (section 8) alone */
#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <unistd.h>
#endif
#if !defined(RADLADS_NO_THREADS)
#include <pthread.h>
#include <sched.h>
#endif
#if !defined(RADLADS_NO_STDIO)
#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#if defined(_WIN32)
#include <direct.h>
#include <io.h>
#include <process.h>
#else
#include <sys/mman.h>
#endif
#endif

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

/* thread-local storage (the last-error buffer): C++11, C11, or the GNU keyword under C99 */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define RL__TLS thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define RL__TLS _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define RL__TLS __thread
#else
#define RL__TLS /* none: rl_last_error() is then shared by all threads */
#endif
#define RL__MIN(a, b) ((a) < (b) ? (a) : (b))
#define RL__MAX(a, b) ((a) > (b) ? (a) : (b))
#define RL__UNUSED(x) (void)(x)
/* RL__UTIL: a small shared helper that some switch combinations leave unused (dropped then);
   RL__BWD: a backward function (section 3), unused, hence dropped, under RADLADS_NO_TRAINING */
#if defined(__GNUC__) || defined(__clang__)
#define RL__UTIL static __attribute__((unused))
#else
#define RL__UTIL static
#endif
#if defined(RADLADS_NO_TRAINING) && (defined(__GNUC__) || defined(__clang__))
#define RL__BWD static __attribute__((unused))
#else
#define RL__BWD static
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what Part I uses of section 8 (files and text, the platform layer) ----
   A growable text buffer (rl__sbuf, with the internal declarations), a
   monotonic clock, whole-file reads, and writes that never leave a half-written file. */
RL__UTIL void *rl__grow(void *p, size_t *cap, size_t need, size_t elem);
RL__INTERN void rl__sb_put(rl__sbuf *b, const char *s, size_t n);
RL__UTIL void rl__sb_str(rl__sbuf *b, const char *s);
RL__UTIL void rl__sb_u64(rl__sbuf *b, uint64_t v);
RL__UTIL void rl__sb_printf(rl__sbuf *b, const char *fmt, ...)
    RL__PRINTF(2, 3)
    ;
RL__INTERN double rl__now(void); /* seconds */
#if !defined(RADLADS_NO_STDIO)
RL__INTERN rl_status rl__read_file(const char *path, size_t max_bytes, char **out, size_t *out_len);
RL__UTIL rl_status rl__write_atomic(const char *path, const char *data, size_t len);
RL__UTIL rl_status rl__copy_file(const char *from, const char *to);
RL__UTIL rl_status rl__make_dir(const char *dir);
RL__UTIL void rl__remove_stale_tmp(const char *path);
#endif

/* ---- the device seam's table (section 3 uses it; the arenas of section 1 allocate with it) ----
   What an op needs of the place its tensors live in: memory, and the arithmetic of the ops
   that run there: a device's table (radlads_cuda.cu's twins). The host has none: its
   arithmetic is the rl__cpu_<entry> functions of section 3, which RL__ON calls directly
   (so that a program links only the ops it uses).
   Entries return 0 on success, else a negative code (the host's: an rl_status; a device's:
   -1 for bad arguments); q is the place's queue (the host: the context's rl_pool; a CUDA
   device: NULL, its default stream). fp32, row-major, contiguous; "R, C": R rows of C
   values; gradients are added (+=). */
typedef struct rl__adam_hp { /* one AdamW update (rl_adamw_step) */
    float lr, beta1, beta2, eps, wd, scale;
    double b1c, b2c; /* bias corrections 1 − β^step */
} rl__adam_hp;
typedef struct rl__ops {
    const char *name;
    const char *(*last_error)(void); /* why the last entry failed */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    int (*zero)(void *p, size_t bytes);
    int (*copy)(void *dst, const void *src, size_t bytes, int kind); /* 1 to the device, 2 back, 3 within */
    const char *(*describe)(void);                                   /* what the device is */
    int (*mem_info)(size_t *free_b, size_t *total_b);
    int (*add)(void *q, float *y, const float *a, float s, const float *b, int64_t n); /* y = a + s·b */
    int (*axpy)(void *q, float *y, float s, const float *x, int64_t n);               /* y += s·x */
    int (*mul)(void *q, float *y, const float *a, const float *b, int64_t n, int acc); /* y (+)= a ⊙ b */
    /* y = x + v (mode 0), y = x ⊙ v (1), y += x ⊙ v (2), v [C] broadcast over R rows */
    int (*rowvec)(void *q, float *y, const float *x, const float *v, int64_t R, int64_t C, int mode);
    /* gv[j] += Σ_r g[r,j] · x[r,j] · s[r]; x, s NULL read as ones */
    int (*colsum)(void *q, float *gv, const float *g, const float *x, const float *s, int64_t R, int64_t C);
    /* rl_gemm's C (+)= A·B with strided A and B (F32, or BF16/F16 B); bf16: the products on bf16 inputs */
    int (*gemm)(void *q, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B,
                int b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int acc, int bf16);
    /* RMSNorm rows: y = x·rstd ⊙ w (w NULL = ones), rstd[r] = (mean(x²) + eps)^-½; its x gradient */
    int (*rmsnorm)(void *q, float *y, float *rstd, const float *x, const float *w, int64_t R, int64_t C, float eps);
    int (*rmsnorm_bwd)(void *q, float *gx, const float *g, const float *x, const float *w, const float *rstd, int64_t R, int64_t C);
    /* y = f(x), gx += g·f'(x) from x and y; fn: 0 exp, 1 sigmoid, 2 tanh, 3 softplus, 4 silu,
       5 the RAD-RWKV6 log-decay max(−exp(x), −5) (its gradient 0 where clamped) */
    int (*unary)(void *q, int fn, float *y, const float *x, int64_t n);
    int (*unary_bwd)(void *q, int fn, float *gx, const float *g, const float *x, const float *y, int64_t n);
    /* y = silu(a) ⊙ b; ga, gb (either NULL) += its gradients */
    int (*swiglu)(void *q, float *y, const float *a, const float *b, int64_t n);
    int (*swiglu_bwd)(void *q, float *ga, float *gb, const float *g, const float *a, const float *b, int64_t n);
    /* RAD-RWKV6 without balance_state (section 4b): y = k / max(1 − e^lw, FLT_MIN); gk, gl (either NULL) += its gradients */
    int (*unbalance)(void *q, float *y, const float *k, const float *lw, int64_t n);
    int (*unbalance_bwd)(void *q, float *gk, float *gl, const float *g, const float *k, const float *lw, int64_t n);
    int (*sum)(void *q, float *y, const float *x, int64_t n);                 /* y[0] = Σ x (double accumulation) */
    int (*sum_bwd)(void *q, float *gx, const float *g, int64_t n);            /* gx += g[0] */
    int (*affine)(void *q, float *y, const float *x, float a, float b, int64_t n); /* y = a·x + b */
    /* y[b·ysb + r·ysr + j] (+)= x[b·xsb + r·xsr + j] for b < B, r < R, j < C (acc 0: =, 1: +=) */
    int (*copy3d)(void *q, float *y, int64_t ysb, int64_t ysr, const float *x, int64_t xsb, int64_t xsr, int64_t B, int64_t R,
                  int64_t C, int acc);
    /* y[i] = E[ids[i]] (rows of C; E of type e_type: F32, BF16, ...; ids in the place's memory);
       gE[ids[i]] += g[i] */
    int (*embedding)(void *q, float *y, const void *E, int e_type, const int32_t *ids, int64_t n, int64_t C);
    int (*embedding_bwd)(void *q, float *gE, const float *g, const int32_t *ids, int64_t n, int64_t C);
    /* RoPE on R rows of C = heads·d, row r at position r % T, table tab of rl_rope: y (+)= the
       rotation of x (acc), by the angles or, inverse, by minus them */
    int (*rope)(void *q, float *y, const float *x, const float *tab, int64_t R, int64_t T, int64_t C, int d, int inverse, int acc);
    /* S slices of d: y = x·rinv, rinv = 1/max(‖x‖, eps); its x gradient */
    int (*l2norm)(void *q, float *y, float *rinv, const float *x, int64_t S, int d, float eps);
    int (*l2norm_bwd)(void *q, float *gx, const float *g, const float *y, const float *rinv, int64_t S, int d, float eps);
    /* GroupNorm of R rows of C in G groups, stats [R·G][mean, rstd]; gradients (each may be NULL) */
    int (*groupnorm)(void *q, float *y, float *stats, const float *x, const float *w, const float *b, int64_t R, int64_t C, int G, float eps);
    int (*groupnorm_bwd)(void *q, float *gx, float *gw, float *gb, const float *g, const float *x, const float *w, const float *stats,
                         int64_t R, int64_t C, int G);
    /* row softmax (logspace 0) or log-softmax (1); its x gradient from y */
    int (*softmax)(void *q, float *y, const float *x, int64_t R, int64_t C, int logspace);
    int (*softmax_bwd)(void *q, float *gx, const float *g, const float *y, int64_t R, int64_t C, int logspace);
    /* losses to loss[0], the row statistics they keep, and their gradients (gloss: the
       place's scalar); cross entropy: inv_count = 1 / rows with a target >= 0 */
    int (*cross_entropy)(void *q, float *loss, float *lse, const float *x, const int32_t *tg, int64_t R, int64_t V, float inv_count);
    int (*cross_entropy_bwd)(void *q, float *gx, const float *gloss, const float *x, const float *lse, const int32_t *tg, int64_t R,
                             int64_t V, float inv_count);
    int (*kl_div)(void *q, float *loss, float *aux, const float *s, const float *t, int64_t R, int64_t V);
    int (*kl_div_bwd)(void *q, float *gs, float *gt, const float *gloss, const float *s, const float *t, const float *aux, int64_t R, int64_t V);
    /* one chunk of n vocabulary columns of rl_kl_head, s and t [R, n]: the rows' running
       statistics st [R][5] (first: start them; last: finish them and loss[0] = the mean KL);
       backward gs = gloss[0]/R · (softmax(s) − softmax(t)) on the chunk, written */
    int (*kl_chunk)(void *q, double *st, float *loss, const float *s, const float *t, int64_t R, int64_t n, int first, int last);
    int (*kl_chunk_bwd)(void *q, float *gs, const float *gloss, const float *s, const float *t, const double *st, int64_t R, int64_t n);
    int (*l2_dist)(void *q, float *loss, float *norms, const float *y, const float *t, int64_t R, int64_t C);
    int (*l2_dist_bwd)(void *q, float *gy, float *gt, const float *gloss, const float *y, const float *t, const float *norms, int64_t R, int64_t C);
    /* causal GQA softmax attention of B sequences of T tokens, lse [B, H, T]; its gradients */
    int (*attention)(void *q, float *y, float *lse, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int H, int KVH, int d);
    int (*attention_bwd)(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q, const float *K, const float *V,
                         const float *y, const float *lse, int64_t B, int64_t T, int H, int KVH, int d);
    /* decoding: T new queries of each of B sequences at positions pos0.. (Q, y [B*T, H*d])
       against rows 0 .. pos0+t of its cache in K, V [B, cap, KVH*d] (no gradient) */
    int (*attention_cache)(void *q, float *y, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int64_t pos0,
                           int64_t cap, int H, int KVH, int d);
    /* the RWKV scans of section 4a, forward (bwd 0) or backward, given the node of rl_wkv6 /
       rl_wkv7 (its inputs, outputs and rl__scan_job: shapes, kept states) */
    int (*scan)(rl_ctx *c, rl__node *n, int bwd);
    /* AdamW: *ss (host) += Σ x² (double); one update of n parameters p from gradients g
       (scaled by hp->scale, then zeroed) and moments m, v */
    int (*sumsq)(void *q, double *ss, const float *x, int64_t n);
    int (*adamw)(void *q, float *p, float *g, float *m, float *v, int64_t n, const rl__adam_hp *hp);
} rl__ops;
struct rl_device {
    const rl__ops *ops;
    void *q;
};

/* ==== 1. base ============================================================= */

/* ---- status and last error ---- */

static RL__TLS char rl__errbuf[1024];

RLDEF const char *rl_last_error(void) { return rl__errbuf; }
RLDEF void rl_clear_error(void) { rl__errbuf[0] = 0; }

RLDEF const char *rl_status_name(rl_status s) {
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
RL__PRINTF(2, 3)
RL__INTERN rl_status rl__fail(rl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rl__errbuf, sizeof rl__errbuf, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- logging ---- */

static rl_log_fn rl__log_fn;
static void *rl__log_user;

RLDEF void rl_set_log(rl_log_fn fn, void *user) {
    rl__log_fn = fn;
    rl__log_user = user;
}

RLDEF void rl_log(int level, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (!rl__log_fn) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rl__log_fn(rl__log_user, level, buf);
}

/* ---- allocation ---- */

RLDEF void rl_free(void *p) { RL_FREE(p); }

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

RLDEF void rl_arena_init(rl_arena *a, size_t block_size) {
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : ((size_t)1 << 20);
}

RLDEF void *rl_arena_alloc(rl_arena *a, size_t bytes) {
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
        if (b) b->mem = (unsigned char *)(a->dev ? a->dev->ops->alloc(sz) : rl__aligned_alloc(sz));
        if (!b || !b->mem) {
            RL_FREE(b);
            rl__fail(RL_ERR_NOMEM, "arena: cannot allocate a block of %zu bytes%s%s", sz, a->dev ? " on " : "",
                     a->dev ? a->dev->ops->name : "");
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

RLDEF void *rl_arena_zalloc(rl_arena *a, size_t bytes) {
    void *p = rl_arena_alloc(a, bytes);
    if (p && !a->dev) memset(p, 0, bytes);
    if (p && a->dev && a->dev->ops->zero(p, bytes)) {
        rl__fail(RL_ERR_STATE, "arena: %s: %s", a->dev->ops->name, a->dev->ops->last_error());
        return NULL;
    }
    return p;
}

RLDEF rl_arena_mark_t rl_arena_mark(const rl_arena *a) {
    rl_arena_mark_t m;
    m.block = a->cur;
    m.off = a->cur ? a->cur->off : 0;
    m.used = a->used;
    return m;
}

RLDEF void rl_arena_reset(rl_arena *a, rl_arena_mark_t m) {
    if (m.block) {
        m.block->off = m.off;
        a->cur = m.block;
    } else {
        a->cur = a->first;
        if (a->cur) a->cur->off = 0;
    }
    a->used = m.used;
}

RLDEF void rl_arena_free(rl_arena *a) {
    rl__arena_block *b = a->first;
    while (b) {
        rl__arena_block *n = b->next;
        if (a->dev) a->dev->ops->free(b->mem);
        else rl__aligned_free(b->mem);
        RL_FREE(b);
        b = n;
    }
    a->first = a->cur = NULL;
    a->used = a->peak = 0;
}

/* (the thread pool is in section 8, with the rest of the platform layer) */

/* Scratch of the tasks of one rl_pool_for, allocated before the call so that no task ever
   allocates (and no task can fail): `per` floats, rounded up to whole 64-byte lines, for each
   of the rl_pool_size(pool) threads; the task of thread tid uses rl__scratch_at(s, tid). A
   call nested in a task runs inline as tid 0 of its own scratch. 0 when out of memory: the
   op then fails (rl__op_fail), as for its other allocations. */
typedef struct { float *mem; size_t per; } rl__scratch;
static int rl__scratch_alloc(rl__scratch *s, const rl_pool *pool, size_t per) {
    size_t nt = (size_t)rl_pool_size(pool);
    s->per = (RL__MAX(per, (size_t)1) + 15) / 16 * 16;
    s->mem = s->per <= SIZE_MAX / sizeof(float) / nt ? (float *)rl__aligned_alloc(sizeof(float) * s->per * nt) : NULL;
    return s->mem != NULL;
}
static float *rl__scratch_at(const rl__scratch *s, int tid) { return s->mem + (size_t)tid * s->per; }
static void rl__scratch_free(rl__scratch *s) {
    rl__aligned_free(s->mem);
    s->mem = NULL;
}

/* ---- RNG ---- */

static uint64_t rl__splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

RLDEF void rl_rng_seed(rl_rng *r, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++) r->s[i] = rl__splitmix64(&seed);
}

static uint64_t rl__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

RLDEF uint64_t rl_rng_u64(rl_rng *r) {
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

RLDEF float rl_rng_uniform(rl_rng *r) { return (float)(rl_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

RLDEF float rl_rng_normal(rl_rng *r) {
    double u1 = ((double)(rl_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(rl_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- number formats ---- */

/* FNV-1a, 64 bit: the hash of the JSON, tokenizer and vocabulary tables and of the fingerprints
   a checkpoint keeps; start from h = RL__FNV_BASIS */
#define RL__FNV_BASIS 0xcbf29ce484222325ull
RL__UTIL uint64_t rl__fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint32_t rl__f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float rl__u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

RLDEF float rl_bf16_to_f32(uint16_t h) { return rl__u2f((uint32_t)h << 16); }

RLDEF uint16_t rl_f32_to_bf16(float f) {
    uint32_t u = rl__f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7FC0; /* canonical quiet NaN */
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

RLDEF float rl_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
    if (exp == 0x1f) return rl__u2f(sign | 0x7f800000u | (man << 13)); /* inf / nan */
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return rl__u2f(sign | ((exp + 112) << 23) | (man << 13));
}

RLDEF uint16_t rl_f32_to_f16(float f) {
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
   2c. run-time dispatch (cpuid / RADLADS_ISA) and the multi-threaded drivers.
   rl__gemm_args and rl__kern: in the internal declarations (before the implementation). */

static float rl__load_b(const void *B, rl_dtype bt, int64_t i) {
    return bt == RL_BF16 ? rl_bf16_to_f32(((const uint16_t *)B)[i]) : bt == RL_F16 ? rl_f16_to_f32(((const uint16_t *)B)[i])
                                                                                   : ((const float *)B)[i];
}

/* C (+)= A·B in double; with bf16, A and B rounded to bf16 first (the bf16 kernel's twin) */
static void rl__naive_gemm_r(const rl__gemm_args *g, int bf16) {
    int64_t i, j, k;
    for (i = 0; i < g->M; i++)
        for (j = 0; j < g->N; j++) {
            double s = g->accumulate ? g->C[i * g->ldc + j] : 0.0;
            for (k = 0; k < g->K; k++) {
                float a = g->A[i * g->a_rs + k * g->a_cs], b = rl__load_b(g->B, g->bt, k * g->b_rs + j * g->b_cs);
                if (bf16) {
                    a = rl_bf16_to_f32(rl_f32_to_bf16(a));
                    b = rl_bf16_to_f32(rl_f32_to_bf16(b));
                }
                s += (double)a * b;
            }
            g->C[i * g->ldc + j] = (float)s;
        }
}
RL__INTERN void rl__naive_gemm(const rl__gemm_args *g) { rl__naive_gemm_r(g, 0); }
RL__INTERN void rl__naive_gemm_bf16(const rl__gemm_args *g) { rl__naive_gemm_r(g, 1); }

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
static float rl__naive_dot_f16(const float *a, const uint16_t *b, int64_t n) {
    double s = 0;
    int64_t i;
    for (i = 0; i < n; i++) s += (double)a[i] * rl_f16_to_f32(b[i]);
    return (float)s;
}
/* x · a row of ggml blocks (section 12, with the block types): naive, portable C, AVX2 (also the AVX-512
   pass's, which has its own for Q4_0, Q4_1, Q8_0) */
#if !defined(RADLADS_NO_GGUF)
#define RL__DQ_DECL(s) static rl__dotq_fn rl__dq_q4_0_##s, rl__dq_q4_1_##s, rl__dq_q5_0_##s, rl__dq_q5_1_##s, rl__dq_q8_0_##s, \
    rl__dq_q4_k_##s, rl__dq_q5_k_##s, rl__dq_q6_k_##s
#define RL__DQ_ROW(s) {0, 0, rl__dq_q4_0_##s, rl__dq_q4_1_##s, 0, 0, rl__dq_q5_0_##s, rl__dq_q5_1_##s, rl__dq_q8_0_##s, 0, 0, 0, \
    rl__dq_q4_k_##s, rl__dq_q5_k_##s, rl__dq_q6_k_##s}
RL__DQ_DECL(naive);
RL__DQ_DECL(c);
#ifdef RL__X86
__attribute__((target("avx2,fma,f16c"))) RL__DQ_DECL(avx2);
__attribute__((target("avx512f,avx2,fma,f16c"))) static rl__dotq_fn rl__dq_q4_0_avx512, rl__dq_q4_1_avx512, rl__dq_q8_0_avx512;
#define RL__DQ_ROW_AVX512 {0, 0, rl__dq_q4_0_avx512, rl__dq_q4_1_avx512, 0, 0, rl__dq_q5_0_avx2, rl__dq_q5_1_avx2, rl__dq_q8_0_avx512, 0, 0, 0, \
    rl__dq_q4_k_avx2, rl__dq_q5_k_avx2, rl__dq_q6_k_avx2}
#endif
#else
#define RL__DQ_ROW(s) {0}
#define RL__DQ_ROW_AVX512 {0}
#endif
static void rl__naive_adamw(float *p, float *g, float *m, float *v, int64_t n, const float *h) { /* in double */
    int64_t i;
    for (i = 0; i < n; i++) {
        double gi = (double)g[i] * h[0], mi = h[1] * (double)m[i] + (1.0 - h[1]) * gi, vi = h[2] * (double)v[i] + (1.0 - h[2]) * gi * gi;
        m[i] = (float)mi;
        v[i] = (float)vi;
        p[i] = (float)(p[i] - (double)h[5] * (mi * h[6] / (sqrt(vi * h[7]) + h[3]) + (double)h[4] * p[i]));
        g[i] = 0;
    }
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

/* ---- the blocked GEMM loops (BLIS order), shared by every kernel set ----
   Loops, outermost first: NC columns of B (packed, fits L3), KC packed elements of K (a B
   panel KC×NC), MC rows of A (packed, fits L2), then NR / MR micro-tiles. A kernel set
   brings its tile sizes, its packs and its micro-kernel; a packed element is 4 bytes, a
   float or (kstep 2) a pair of bf16 neighbours along K. Ap holds ap_cap elements, MC×KC at
   least: when all rows of the range fit (rows rounded up to MR, times K), A is packed once
   up front and reused for every NC block of columns. */
typedef struct rl__gemm_impl {
    int64_t mr, nr, mc, kc, nc, kstep;
    void (*pack_a)(const rl__gemm_args *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, void *Ap);
    void (*pack_b)(const rl__gemm_args *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, void *Bp);
    void (*ukernel)(int64_t ku, const void *a, const void *b, float *c, int64_t ldc, int beta); /* ku packed elements */
} rl__gemm_impl;
#define RL__TILE_MAX 512 /* the largest MR × NR (edge tiles go through a buffer) */

static void rl__gemm_blocked(const rl__gemm_impl *im, const rl__gemm_args *g, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                             float *Apf, int64_t ap_cap, float *Bpf) {
    uint32_t *Ap = (uint32_t *)(void *)Apf, *Bp = (uint32_t *)(void *)Bpf; /* offsets only: never read here */
    int64_t jc, pc, ic, jr, ir, mpad = (m1 - m0 + im->mr - 1) / im->mr * im->mr, kb = im->kc * im->kstep;
    int a_once = mpad * ((g->K + im->kstep - 1) / im->kstep) <= ap_cap;
    if (g->K == 0) {
        if (!g->accumulate)
            for (ir = m0; ir < m1; ir++) memset(g->C + ir * g->ldc + n0, 0, (size_t)(n1 - n0) * sizeof(float));
        return;
    }
    if (a_once)
        for (pc = 0; pc < g->K; pc += kb) im->pack_a(g, m0, m1 - m0, pc, RL__MIN(kb, g->K - pc), Ap + pc / im->kstep * mpad);
    for (jc = n0; jc < n1; jc += im->nc) {
        int64_t nc = RL__MIN(im->nc, n1 - jc);
        for (pc = 0; pc < g->K; pc += kb) {
            int64_t kc = RL__MIN(kb, g->K - pc), ku = (kc + im->kstep - 1) / im->kstep;
            int beta = pc > 0 || g->accumulate;
            im->pack_b(g, pc, kc, jc, nc, Bp);
            for (ic = m0; ic < m1; ic += im->mc) {
                int64_t mc = RL__MIN(im->mc, m1 - ic);
                const uint32_t *ap = a_once ? Ap + pc / im->kstep * mpad + (ic - m0) * ku : Ap;
                if (!a_once) im->pack_a(g, ic, mc, pc, kc, Ap);
                for (jr = 0; jr < nc; jr += im->nr)
                    for (ir = 0; ir < mc; ir += im->mr) {
                        int64_t mr = RL__MIN(im->mr, mc - ir), nr = RL__MIN(im->nr, nc - jr), i, j;
                        float *c = g->C + (ic + ir) * g->ldc + jc + jr, t[RL__TILE_MAX];
                        if (mr == im->mr && nr == im->nr) {
                            im->ukernel(ku, ap + ir * ku, Bp + jr * ku, c, g->ldc, beta);
                            continue;
                        }
                        im->ukernel(ku, ap + ir * ku, Bp + jr * ku, t, im->nr, 0); /* edge tile */
                        for (i = 0; i < mr; i++)
                            for (j = 0; j < nr; j++) c[i * g->ldc + j] = (beta ? c[i * g->ldc + j] : 0.0f) + t[i * im->nr + j];
                    }
            }
        }
    }
}

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
#define rlv_load_f16(p) rl_f16_to_f32(*(p))
#define rlv_add(a, b) ((a) + (b))
#define rlv_sub(a, b) ((a) - (b))
#define rlv_mul(a, b) ((a) * (b))
#define rlv_div(a, b) ((a) / (b))
#define rlv_fma(a, b, c) ((a) * (b) + (c))
#define rlv_sqrt(a) sqrtf(a)
#define rlv_max(a, b) ((a) > (b) ? (a) : (b))
#define rlv_min(a, b) ((a) < (b) ? (a) : (b))
#define rlv_hsum(v) (v)
#define rlv_hmax(v) (v)

#elif RL__KPASS == 2 /* x86-64 AVX2 + FMA */
#include <immintrin.h>
#include <cpuid.h> /* (for 2c's rl__isa_supported) */
#define RL__SFX avx2
#define RL__TGT __attribute__((target("avx2,fma,f16c")))
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
#define rlv_load_f16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define rlv_add _mm256_add_ps
#define rlv_sub _mm256_sub_ps
#define rlv_mul _mm256_mul_ps
#define rlv_div _mm256_div_ps
#define rlv_fma _mm256_fmadd_ps
#define rlv_sqrt _mm256_sqrt_ps
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
#define RL__TGT __attribute__((target("avx512f,avx2,fma,f16c")))
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
#define rlv_load_f16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define rlv_add _mm512_add_ps
#define rlv_sub _mm512_sub_ps
#define rlv_mul _mm512_mul_ps
#define rlv_div _mm512_div_ps
#define rlv_fma _mm512_fmadd_ps
#define rlv_sqrt _mm512_sqrt_ps
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
#define rlv_load_f16(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#define rlv_add vaddq_f32
#define rlv_sub vsubq_f32
#define rlv_mul vmulq_f32
#define rlv_div vdivq_f32
#define rlv_fma(a, b, c) vfmaq_f32(c, a, b)
#define rlv_sqrt vsqrtq_f32
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
#define RL__TRW 32                  /* K values widened at a time in pack_b's transposing F16/BF16 copy */

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

/* AdamW (the table's adamw): m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², p −= lr·(m̂ / (√v̂ + ε) +
   wd·p), g = 0; a tail shorter than a vector goes through the same vector code on a copy */
static RL__TGT void RL__KF(adamw)(float *p, float *g, float *m, float *v, int64_t n, const float *h) {
    RLV sc = rlv_set1(h[0]), b1 = rlv_set1(h[1]), c1 = rlv_set1(1.0f - h[1]), b2 = rlv_set1(h[2]), c2 = rlv_set1(1.0f - h[2]);
    RLV eps = rlv_set1(h[3]), wd = rlv_set1(h[4]), lr = rlv_set1(h[5]), i1 = rlv_set1(h[6]), i2 = rlv_set1(h[7]);
    int64_t i = 0;
    for (;; i += RLV_W) {
        float t[4][RLV_W];
        float *P = p + i, *G = g + i, *M = m + i, *V = v + i;
        int64_t k = n - i < RLV_W ? n - i : RLV_W, j;
        RLV gj, mj, vj, pj;
        if (k <= 0) break;
        if (k < RLV_W) {
            memset(t, 0, sizeof t);
            for (j = 0; j < k; j++) t[0][j] = p[i + j], t[1][j] = g[i + j], t[2][j] = m[i + j], t[3][j] = v[i + j];
            P = t[0], G = t[1], M = t[2], V = t[3];
        }
        gj = rlv_mul(rlv_load(G), sc);
        mj = rlv_fma(b1, rlv_load(M), rlv_mul(c1, gj));
        vj = rlv_fma(b2, rlv_load(V), rlv_mul(c2, rlv_mul(gj, gj)));
        pj = rlv_load(P);
        pj = rlv_sub(pj, rlv_mul(lr, rlv_fma(wd, pj, rlv_div(rlv_mul(mj, i1), rlv_add(rlv_sqrt(rlv_mul(vj, i2)), eps)))));
        rlv_store(M, mj);
        rlv_store(V, vj);
        rlv_store(P, pj);
        rlv_store(G, rlv_zero());
        if (k < RLV_W)
            for (j = 0; j < k; j++) p[i + j] = t[0][j], g[i + j] = 0, m[i + j] = t[2][j], v[i + j] = t[3][j];
    }
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

/* dot products with 16-bit weights, widened to F32 as they are loaded */
#define RL__DOT16(fname, load, cvt)                                                  \
    static RL__TGT float RL__KF(fname)(const float *a, const uint16_t *b, int64_t n) { \
        RLV s0 = rlv_zero(), s1 = rlv_zero();                                         \
        int64_t i = 0;                                                                \
        float s;                                                                      \
        for (; i + 2 * RLV_W <= n; i += 2 * RLV_W) {                                  \
            s0 = rlv_fma(rlv_load(a + i), load(b + i), s0);                           \
            s1 = rlv_fma(rlv_load(a + i + RLV_W), load(b + i + RLV_W), s1);           \
        }                                                                             \
        for (; i + RLV_W <= n; i += RLV_W) s0 = rlv_fma(rlv_load(a + i), load(b + i), s0); \
        s = rlv_hsum(rlv_add(s0, s1));                                                \
        for (; i < n; i++) s += a[i] * cvt(b[i]);                                     \
        return s;                                                                     \
    }
RL__DOT16(dot_bf16, rlv_load_bf16, rl_bf16_to_f32)
RL__DOT16(dot_f16, rlv_load_f16, rl_f16_to_f32)
#undef RL__DOT16

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

/* ---- GEMM: the packs and the micro-kernel of rl__gemm_blocked ----
   C is computed in RL__MR × RL__NR tiles by a register-resident micro-kernel. Packing
   converts BF16 to F32 and lays panels out k-major so the micro-kernel reads both operands
   contiguously. Edges are zero-padded in the packs. */

/* dst[k·ldd + r] = src[r·lds + k] for r < rows, k < kc: the transposing copy of the packs
   (x·Wᵀ's x and W both arrive with K contiguous and are packed K-major), in 4 × 4 blocks
   through registers; the rest element by element. */
static RL__TGT inline void RL__KF(tr4)(const float *s, int64_t lds, float *d, int64_t ldd) {
#if RL__KPASS == 2 || RL__KPASS == 3
    __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + lds), r2 = _mm_loadu_ps(s + 2 * lds), r3 = _mm_loadu_ps(s + 3 * lds);
    __m128 t0 = _mm_unpacklo_ps(r0, r1), t1 = _mm_unpacklo_ps(r2, r3), t2 = _mm_unpackhi_ps(r0, r1), t3 = _mm_unpackhi_ps(r2, r3);
    _mm_storeu_ps(d, _mm_movelh_ps(t0, t1));
    _mm_storeu_ps(d + ldd, _mm_movehl_ps(t1, t0));
    _mm_storeu_ps(d + 2 * ldd, _mm_movelh_ps(t2, t3));
    _mm_storeu_ps(d + 3 * ldd, _mm_movehl_ps(t3, t2));
#elif RL__KPASS == 4
    float32x4x2_t ab = vtrnq_f32(vld1q_f32(s), vld1q_f32(s + lds)), cd = vtrnq_f32(vld1q_f32(s + 2 * lds), vld1q_f32(s + 3 * lds));
    vst1q_f32(d, vcombine_f32(vget_low_f32(ab.val[0]), vget_low_f32(cd.val[0])));
    vst1q_f32(d + ldd, vcombine_f32(vget_low_f32(ab.val[1]), vget_low_f32(cd.val[1])));
    vst1q_f32(d + 2 * ldd, vcombine_f32(vget_high_f32(ab.val[0]), vget_high_f32(cd.val[0])));
    vst1q_f32(d + 3 * ldd, vcombine_f32(vget_high_f32(ab.val[1]), vget_high_f32(cd.val[1])));
#else
    int i, j;
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++) d[i * ldd + j] = s[j * lds + i];
#endif
}
static RL__TGT void RL__KF(transpose)(const float *src, int64_t lds, int64_t rows, int64_t kc, float *dst, int64_t ldd) {
    int64_t r, k;
    for (k = 0; k + 4 <= kc; k += 4)
        for (r = 0; r + 4 <= rows; r += 4) RL__KF(tr4)(src + r * lds + k, lds, dst + k * ldd + r, ldd);
    for (r = rows & ~(int64_t)3; r < rows; r++) /* the last rows, then the last k (as bits: the bf16 packs move pairs) */
        for (k = 0; k < (kc & ~(int64_t)3); k++) memcpy(dst + k * ldd + r, src + r * lds + k, sizeof(float));
    for (k = kc & ~(int64_t)3; k < kc; k++)
        for (r = 0; r < rows; r++) memcpy(dst + k * ldd + r, src + r * lds + k, sizeof(float));
}

static RL__TGT void RL__KF(pack_a)(const rl__gemm_args *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, void *Apv) {
    float *Ap = (float *)Apv;
    int64_t ip, k, r;
    for (ip = 0; ip < mc; ip += RL__MR) {
        int64_t mr = RL__MIN(RL__MR, mc - ip);
        float *dst = Ap + ip * kc;
        const float *src = g->A + (i0 + ip) * g->a_rs + k0 * g->a_cs;
        if (mr == RL__MR && g->a_rs == 1) {
            for (k = 0; k < kc; k++) memcpy(dst + k * RL__MR, src + k * g->a_cs, RL__MR * sizeof(float));
        } else if (mr == RL__MR && g->a_cs == 1) {
            RL__KF(transpose)(src, g->a_rs, RL__MR, kc, dst, RL__MR);
        } else {
            for (k = 0; k < kc; k++)
                for (r = 0; r < RL__MR; r++) dst[k * RL__MR + r] = r < mr ? src[r * g->a_rs + k * g->a_cs] : 0.0f;
        }
    }
}

static RL__TGT void RL__KF(pack_b)(const rl__gemm_args *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, void *Bpv) {
    float *Bp = (float *)Bpv;
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
                else if (g->bt == RL_F16)
                    for (r = 0; r < RL__NRV; r++) rlv_store(dst + k * RL__NR + r * RLV_W, rlv_load_f16(Bh + o + r * RLV_W));
                else
                    memcpy(dst + k * RL__NR, Bf + o, RL__NR * sizeof(float));
            }
        } else if (nr == RL__NR && g->b_rs == 1 && g->bt == RL_F32) { /* columns of B contiguous (x·Wᵀ) */
            RL__KF(transpose)(Bf + base, g->b_cs, RL__NR, kc, dst, RL__NR);
        } else if (nr == RL__NR && g->b_rs == 1) { /* the same from F16/BF16: widened RL__TRW values at a time */
            float w[RL__NR * RL__TRW];
            for (k = 0; k < kc; k += RL__TRW) {
                int64_t kw = RL__MIN(RL__TRW, kc - k), i;
                for (r = 0; r < RL__NR; r++) {
                    const uint16_t *h = Bh + base + r * g->b_cs + k;
                    for (i = 0; i + RLV_W <= kw; i += RLV_W)
                        rlv_store(w + r * RL__TRW + i, g->bt == RL_BF16 ? rlv_load_bf16(h + i) : rlv_load_f16(h + i));
                    for (; i < kw; i++) w[r * RL__TRW + i] = g->bt == RL_BF16 ? rl_bf16_to_f32(h[i]) : rl_f16_to_f32(h[i]);
                }
                RL__KF(transpose)(w, RL__TRW, RL__NR, kw, dst + k * RL__NR, RL__NR);
            }
        } else {
            for (k = 0; k < kc; k++)
                for (r = 0; r < RL__NR; r++)
                    dst[k * RL__NR + r] = r < nr ? rl__load_b(g->B, g->bt, base + k * g->b_rs + r * g->b_cs) : 0.0f;
        }
    }
}

/* c[MR×NR] (+)= a-panel · b-panel over kc steps */
static RL__TGT void RL__KF(ukernel)(int64_t kc, const void *av, const void *bv_, float *c, int64_t ldc, int beta) {
    const float *a = (const float *)av, *b = (const float *)bv_;
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

/* this ISA's panels for the shared blocked loops */
static const rl__gemm_impl RL__KF(gemm_impl) = {RL__MR, RL__NR, RL__MC, RL__KC, RL__NC, 1, RL__KF(pack_a), RL__KF(pack_b), RL__KF(ukernel)};

static const rl__kern RL__KF(table) = {
    RL__KSTR(RL__SFX),
    RL__MR, RL__NR, RL__MC, RL__KC, RL__NC,
    &RL__KF(gemm_impl), RL__KF(dot), RL__KF(dot_bf16), RL__KF(dot_f16),
#if RL__KPASS == 3 /* quantized rows (section 12): AVX-512 code for Q4_0/Q4_1/Q8_0, AVX2 code, else portable C */
    RL__DQ_ROW_AVX512,
#elif RL__KPASS == 2
    RL__DQ_ROW(avx2),
#else
    RL__DQ_ROW(c),
#endif
    RL__KF(axpy), RL__KF(add), RL__KF(sub), RL__KF(mul),
    RL__KF(scale), RL__KF(sum), RL__KF(max), RL__KF(exp), RL__KF(sigmoid), RL__KF(tanh), RL__KF(silu),
    RL__KF(softplus), RL__KF(swiglu), RL__KF(rmsnorm), RL__KF(layernorm), RL__KF(softmax),
    RL__KF(logsoftmax), RL__KF(l2norm), RL__KF(rope), RL__KF(adamw)};

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
#undef rlv_load_f16
#undef rlv_add
#undef rlv_sub
#undef rlv_mul
#undef rlv_div
#undef rlv_fma
#undef rlv_sqrt
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

RL__INTERN const rl__kern rl__naive_table = {
    "naive", 1, 1, 1, 1, 1, NULL, rl__naive_dot, rl__naive_dot_bf16, rl__naive_dot_f16, RL__DQ_ROW(naive), rl__naive_axpy, rl__naive_add,
    rl__naive_sub, rl__naive_mul, rl__naive_scale, rl__naive_sum, rl__naive_max, rl__naive_exp,
    rl__naive_sigmoid, rl__naive_tanh, rl__naive_silu, rl__naive_softplus, rl__naive_swiglu,
    rl__naive_rmsnorm, rl__naive_layernorm, rl__naive_softmax, rl__naive_logsoftmax, rl__naive_l2norm,
    rl__naive_rope, rl__naive_adamw};

RLDEF const char *rl_isa_name(rl_isa isa) {
    switch (isa) {
    case RL_ISA_SCALAR: return "scalar";
    case RL_ISA_AVX2: return "avx2";
    case RL_ISA_AVX512: return "avx512";
    case RL_ISA_NEON: return "neon";
    }
    return "?";
}

RL__INTERN int rl__isa_supported(rl_isa isa) {
    switch (isa) {
    case RL_ISA_SCALAR: return 1;
#ifdef RL__X86
    case RL_ISA_AVX2:
    case RL_ISA_AVX512: { /* both also need F16C: CPUID 1, ECX bit 29 (clang 14's __builtin_cpu_supports lacks it) */
        unsigned a, b, c = 0, d;
        __builtin_cpu_init();
        if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 29) & 1u) || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
        return isa == RL_ISA_AVX2 || __builtin_cpu_supports("avx512f");
    }
#endif
#ifdef RL__ARM
    case RL_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

RL__INTERN const rl__kern *rl__isa_table(rl_isa isa) {
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

RLDEF rl_isa rl_isa_best(void) {
    if (rl__isa_supported(RL_ISA_AVX512)) return RL_ISA_AVX512;
    if (rl__isa_supported(RL_ISA_AVX2)) return RL_ISA_AVX2;
    if (rl__isa_supported(RL_ISA_NEON)) return RL_ISA_NEON;
    return RL_ISA_SCALAR;
}

/* The active kernels, chosen once, on first use, thread-safely without a lock: threads
   racing through the first use all compute the same choice, and the atomic stores (isa
   first, then the table with release order; readers load the table with acquire order)
   make the race harmless. rl_isa_set is meant for start-up, before any work. */
static const rl__kern *rl__K;
static int rl__K_isa;

RLDEF rl_status rl_isa_set(rl_isa isa) {
    if ((int)isa < 0 || isa > RL_ISA_NEON || !rl__isa_supported(isa))
        return rl__fail(RL_ERR_UNSUPPORTED, "kernel path '%s' is not available on this CPU/build (best: %s)",
                        rl_isa_name(isa), rl_isa_name(rl_isa_best()));
    __atomic_store_n(&rl__K_isa, (int)isa, __ATOMIC_RELAXED);
    __atomic_store_n(&rl__K, rl__isa_table(isa), __ATOMIC_RELEASE);
    return RL_OK;
}

/* The active table: RADLADS_ISA if set and available, else the best. */
static const rl__kern *rl__kern_get(void) {
    const rl__kern *k = __atomic_load_n(&rl__K, __ATOMIC_ACQUIRE);
    if (!k) {
        const char *e = getenv("RADLADS_ISA");
        rl_isa want = rl_isa_best();
        int i;
        if (e)
            for (i = 0; i <= RL_ISA_NEON; i++)
                if (!strcmp(e, rl_isa_name((rl_isa)i)) && rl__isa_supported((rl_isa)i)) want = (rl_isa)i;
        k = rl__isa_table(want);
        __atomic_store_n(&rl__K_isa, (int)want, __ATOMIC_RELAXED);
        __atomic_store_n(&rl__K, k, __ATOMIC_RELEASE);
    }
    return k;
}

RLDEF rl_isa rl_isa_active(void) {
    rl__kern_get();
    return (rl_isa)__atomic_load_n(&rl__K_isa, __ATOMIC_RELAXED);
}

/* ---- bf16 products (AVX512-BF16) ----
   With rl_ctx.bf16_dot, a product's operands are rounded to bf16 (to nearest even; BF16
   weights are taken as they are) and run on vdpbf16ps: a 32-bit lane holds two bf16
   neighbours along K, and one instruction adds both products of all 16 lanes to fp32
   accumulators, twice the work of an fp32 FMA. The blocking is the AVX-512 fp32 GEMM's with
   pairs in place of floats (an odd K ends in a zero pair half): panels of MR rows × KC pairs
   of A, KC pairs × NR columns of B, the same buffers and thread driver. Any layout; only on
   CPUs with AVX512-BF16; twin: rl__naive_gemm_bf16. */
#if defined(RL__X86) && (defined(__clang__) ? __clang_major__ >= 9 : __GNUC__ >= 10)
#define RL__HAVE_BF16_DOT 1
#define RL__TGT_BF16 __attribute__((target("avx512f,avx512bf16")))
#define RL__BMR 12
#define RL__BNR 32
#define RL__BTW 64 /* pairs per row rounded at a time before a transposing pack */

static uint32_t rl__bf16_pair(float lo, float hi) { return rl_f32_to_bf16(lo) | (uint32_t)rl_f32_to_bf16(hi) << 16; }

/* rl_f32_to_bf16 of 16 floats (bit for bit: the same rounding and NaN), in the low halves */
static RL__TGT_BF16 inline __m512i rl__bf16_round16(__m512i u) {
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))), 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC0));
}
/* w[p] = pair(a[2p], a[2p+1]) for p < n / 2 (+ pair(a[n-1], 0) when n is odd): K-neighbours */
static RL__TGT_BF16 void rl__bf16_pairs(const float *a, int64_t n, uint32_t *w) {
    int64_t p = 0;
    for (; 2 * p + 16 <= n; p += 8)
        _mm256_storeu_si256((__m256i *)(void *)(w + p), _mm512_cvtepi32_epi16(rl__bf16_round16(_mm512_castps_si512(_mm512_loadu_ps(a + 2 * p)))));
    for (; 2 * p + 1 < n; p++) w[p] = rl__bf16_pair(a[2 * p], a[2 * p + 1]);
    if (n % 2) w[p] = rl__bf16_pair(a[2 * p], 0.0f);
}
/* w[i] = pair(lo[i], hi[i]) for i < n, hi NULL: zeros (two K-rows, contiguous along M or N) */
static RL__TGT_BF16 void rl__bf16_rows2(const float *lo, const float *hi, int64_t n, uint32_t *w) {
    int64_t i;
    for (i = 0; i < n; i += 16) {
        __mmask16 m = (__mmask16)(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1);
        __m512i l = rl__bf16_round16(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, lo + i)));
        __m512i h = hi ? rl__bf16_round16(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, hi + i))) : _mm512_setzero_si512();
        _mm512_mask_storeu_epi32(w + i, m, _mm512_or_si512(l, _mm512_slli_epi32(h, 16)));
    }
}

/* rows i0 .. i0+mc of A, elements k0 .. k0+kc, rounded: panels of RL__BMR rows, Ap[kp·BMR + r].
   K contiguous (x·Wᵀ, dy·W): each row's pairs, then transposed; rows contiguous (dyᵀ·x):
   two K-rows make a panel's row of pairs. */
static RL__TGT_BF16 void rl__bf16_pack_a(const rl__gemm_args *g, int64_t i0, int64_t mc, int64_t k0, int64_t kc, void *Apv) {
    uint32_t *Ap = (uint32_t *)Apv, t[RL__BMR * RL__BTW];
    int64_t ip, kp, r, kpc = (kc + 1) / 2, s = g->a_cs;
    for (ip = 0; ip < mc; ip += RL__BMR) {
        int64_t mr = RL__MIN(RL__BMR, mc - ip);
        const float *a0 = g->A + (i0 + ip) * g->a_rs + k0 * s;
        if (s == 1) {
            for (kp = 0; kp < kpc; kp += RL__BTW) { /* RL__BTW pairs at a time */
                int64_t pw = RL__MIN(RL__BTW, kpc - kp);
                for (r = 0; r < RL__BMR; r++)
                    if (r < mr) rl__bf16_pairs(a0 + r * g->a_rs + 2 * kp, RL__MIN(2 * RL__BTW, kc - 2 * kp), t + r * pw);
                    else memset(t + r * pw, 0, sizeof(uint32_t) * (size_t)pw);
                rl__k_transpose_avx512((const float *)(const void *)t, pw, RL__BMR, pw, (float *)(void *)(Ap + ip * kpc + kp * RL__BMR), RL__BMR);
            }
        } else if (g->a_rs == 1) {
            for (kp = 0; kp < kpc; kp++) {
                uint32_t *d = Ap + ip * kpc + kp * RL__BMR;
                rl__bf16_rows2(a0 + 2 * kp * s, 2 * kp + 1 < kc ? a0 + (2 * kp + 1) * s : NULL, mr, d);
                for (r = mr; r < RL__BMR; r++) d[r] = 0;
            }
        } else {
            for (r = 0; r < RL__BMR; r++) {
                const float *a = a0 + r * g->a_rs;
                uint32_t *d = Ap + ip * kpc + r;
                for (kp = 0; kp < kpc; kp++)
                    d[kp * RL__BMR] = r >= mr ? 0 : rl__bf16_pair(a[2 * kp * s], 2 * kp + 1 < kc ? a[(2 * kp + 1) * s] : 0.0f);
            }
        }
    }
}

/* B(k, j) as bf16 bits: BF16 as stored, F32 rounded */
static uint32_t rl__bf16_b(const rl__gemm_args *g, int64_t k, int64_t j) {
    int64_t o = k * g->b_rs + j * g->b_cs;
    return g->bt == RL_BF16 ? ((const uint16_t *)g->B)[o] : rl_f32_to_bf16(((const float *)g->B)[o]);
}
/* columns j0 .. j0+nc of B, elements k0 .. k0+kc: panels of RL__BNR columns, Bp[kp·BNR + c]. A
   BF16 B with contiguous columns (the rows of W in x·Wᵀ) holds its pairs already: they are
   transposed as 32-bit words; an F32 one is paired first; an F32 B with contiguous rows
   (dy·W, dyᵀ·x) pairs two K-rows. */
static RL__TGT_BF16 void rl__bf16_pack_b(const rl__gemm_args *g, int64_t k0, int64_t kc, int64_t j0, int64_t nc, void *Bpv) {
    uint32_t *Bp = (uint32_t *)Bpv, t[RL__BNR * RL__BTW];
    int64_t jp, kp, c, kpc = (kc + 1) / 2;
    for (jp = 0; jp < nc; jp += RL__BNR) {
        int64_t nr = RL__MIN(RL__BNR, nc - jp), j = j0 + jp;
        uint32_t *d0 = Bp + jp * kpc;
        if (nr == RL__BNR && g->b_rs == 1 && g->bt == RL_BF16 && g->b_cs % 2 == 0 && kc % 2 == 0) {
            rl__k_transpose_avx512((const float *)(const void *)((const uint16_t *)g->B + j * g->b_cs + k0), g->b_cs / 2, RL__BNR, kpc,
                                   (float *)(void *)d0, RL__BNR);
        } else if (nr == RL__BNR && g->b_rs == 1 && g->bt == RL_F32) {
            for (kp = 0; kp < kpc; kp += RL__BTW) {
                int64_t pw = RL__MIN(RL__BTW, kpc - kp);
                for (c = 0; c < RL__BNR; c++)
                    rl__bf16_pairs((const float *)g->B + (j + c) * g->b_cs + k0 + 2 * kp, RL__MIN(2 * RL__BTW, kc - 2 * kp), t + c * pw);
                rl__k_transpose_avx512((const float *)(const void *)t, pw, RL__BNR, pw, (float *)(void *)(d0 + kp * RL__BNR), RL__BNR);
            }
        } else if (g->b_cs == 1 && g->bt == RL_F32) {
            const float *b0 = (const float *)g->B + k0 * g->b_rs + j;
            for (kp = 0; kp < kpc; kp++) {
                uint32_t *d = d0 + kp * RL__BNR;
                rl__bf16_rows2(b0 + 2 * kp * g->b_rs, 2 * kp + 1 < kc ? b0 + (2 * kp + 1) * g->b_rs : NULL, nr, d);
                for (c = nr; c < RL__BNR; c++) d[c] = 0;
            }
        } else {
            for (c = 0; c < RL__BNR; c++)
                for (kp = 0; kp < kpc; kp++)
                    d0[kp * RL__BNR + c] = c >= nr ? 0
                                         : rl__bf16_b(g, k0 + 2 * kp, j + c) | (2 * kp + 1 < kc ? rl__bf16_b(g, k0 + 2 * kp + 1, j + c) << 16 : 0);
        }
    }
}

/* c[BMR×BNR] (+)= a-panel · b-panel over kpc pairs */
static RL__TGT_BF16 void rl__bf16_ukernel(int64_t kpc, const void *av, const void *bv, float *c, int64_t ldc, int beta) {
    const uint32_t *a = (const uint32_t *)av, *b = (const uint32_t *)bv;
    __m512 acc[RL__BMR][2];
    int64_t k;
    int i;
    for (i = 0; i < RL__BMR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (k = 0; k < kpc; k++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + k * RL__BNR), b1 = (__m512bh)_mm512_loadu_si512(b + k * RL__BNR + 16);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
        for (i = 0; i < RL__BMR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[k * RL__BMR + i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    for (i = 0; i < RL__BMR; i++) {
        float *p = c + i * ldc;
        _mm512_storeu_ps(p, beta ? _mm512_add_ps(_mm512_loadu_ps(p), acc[i][0]) : acc[i][0]);
        _mm512_storeu_ps(p + 16, beta ? _mm512_add_ps(_mm512_loadu_ps(p + 16), acc[i][1]) : acc[i][1]);
    }
}

/* bf16 panels for the shared blocked loops (the AVX-512 fp32 GEMM's tile sizes, so its
   buffers serve: ap_cap ≥ MC·KC words, Bp KC·NC words) */
static const rl__gemm_impl rl__bf16_impl = {RL__BMR, RL__BNR, 144, 256, 1024, 2, rl__bf16_pack_a, rl__bf16_pack_b, rl__bf16_ukernel};

/* 1 if products may take the bf16 path: the AVX-512 kernels are active and the CPU has
   AVX512-BF16 */
RLDEF int rl_bf16_dot_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && rl__kern_get() == &rl__k_table_avx512;
}
#else
RLDEF int rl_bf16_dot_available(void) { return 0; }
#endif

/* ---- threaded GEMM driver ---- */

typedef struct {
    const rl__gemm_args *g;
    const rl__gemm_impl *im;
    int64_t tm, tn;       /* thread grid */
    float *scratch;       /* per task: ap_cap + KC*NC floats */
    size_t per_task, ap_cap;
} rl__gemm_job;

static void rl__gemm_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemm_job *j = (rl__gemm_job *)ctx;
    const rl__gemm_args *g = j->g;
    int64_t t, mr = j->im->mr, nr = j->im->nr;
    RL__UNUSED(tid);
    for (t = b; t < e; t++) {
        /* split rows and columns in multiples of the micro-tile */
        int64_t ti = t / j->tn, tj = t % j->tn;
        int64_t mu = (g->M + mr - 1) / mr, nu = (g->N + nr - 1) / nr;
        int64_t m0 = RL__MIN(g->M, (mu * ti / j->tm) * mr), m1 = RL__MIN(g->M, (mu * (ti + 1) / j->tm) * mr);
        int64_t n0 = RL__MIN(g->N, (nu * tj / j->tn) * nr), n1 = RL__MIN(g->N, (nu * (tj + 1) / j->tn) * nr);
        float *Ap = j->scratch + (size_t)t * j->per_task;
        if (m0 < m1 && n0 < n1) rl__gemm_blocked(j->im, g, m0, m1, n0, n1, Ap, (int64_t)j->ap_cap, Ap + j->ap_cap);
    }
}

/* Small-M products with contiguous rows of B's transpose (x·Wᵀ while decoding, a short
   prompt): one dot product per output, no packing; each row of W, read from memory once,
   serves every row of x from the cache. */
typedef struct { const rl__gemm_args *g; const rl__kern *k; } rl__gemv_job;
static void rl__gemv_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemv_job *j = (rl__gemv_job *)ctx;
    const rl__gemm_args *g = j->g;
    int64_t i, n;
    RL__UNUSED(tid);
    for (n = b; n < e; n++)
        for (i = 0; i < g->M; i++) {
            const float *a = g->A + i * g->a_rs;
            const uint16_t *h = (const uint16_t *)g->B + n * g->b_cs;
            float s = g->bt == RL_BF16 ? j->k->dot_bf16(a, h, g->K)
                      : g->bt == RL_F16 ? j->k->dot_f16(a, h, g->K) : j->k->dot(a, (const float *)g->B + n * g->b_cs, g->K);
            float *c = g->C + i * g->ldc + n;
            *c = g->accumulate ? *c + s : s;
        }
}

#if !defined(RADLADS_NO_GGUF) /* quantized weights exist only in GGUF files (section 12) */
static int rl__ggml_row_bytes(int type, int64_t k, int64_t *bytes);
static rl_status rl__gemm_ggml(rl_pool *pool, const rl__gemm_args *g, const rl__kern *k);
#endif

/* rl_gemm with its status: RL_OK, or (ggml block types only; C is then zero) an error.
   bf16: take the bf16 path where there is one (A and an F32 B rounded; see rl_ctx.bf16_dot) */
static rl_status rl__gemm(rl_pool *pool, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs,
                          const void *B, rl_dtype b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate,
                          int bf16) {
    rl__gemm_args g;
    const rl__kern *k = rl__kern_get();
    int nt = rl_pool_size(pool);
    if (M <= 0 || N <= 0) return RL_OK;
    g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = a_rs; g.a_cs = a_cs; g.B = B; g.bt = b_type;
    g.b_rs = b_rs; g.b_cs = b_cs; g.C = C; g.ldc = ldc; g.accumulate = accumulate;
#if !defined(RADLADS_NO_GGUF)
    if (RL_DTYPE_IS_GGML(b_type)) return rl__gemm_ggml(pool, &g, k);
#endif
    if (M <= (b_type == RL_F32 ? 8 : 16) && a_cs == 1 && b_rs == 1 && K > 0) { /* (measured: BENCHMARKS.md; F16/BF16 W:
        packing widens every element, worth it only for more rows) */
        rl__gemv_job j;
        j.g = &g;
        j.k = k;
        rl_pool_for(pool, N, 64, rl__gemv_task, &j);
        return RL_OK;
    }
    if (M <= 4 && b_cs == 1 && b_type == RL_F32 && N * K <= 1 << 20) { /* x·A with rows of A contiguous and small (the
        LoRAs while decoding): rows of A scaled and added, no packing, no threads */
        int64_t i, kk;
        for (i = 0; i < M; i++) {
            float *c = C + i * ldc;
            if (!accumulate) memset(c, 0, sizeof(float) * (size_t)N);
            for (kk = 0; kk < K; kk++) k->axpy(c, A[i * a_rs + kk * a_cs], (const float *)B + kk * b_rs, N);
        }
        return RL_OK;
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
        j.im = k->gemm;
#ifdef RL__HAVE_BF16_DOT
        if (bf16 && (b_type == RL_BF16 || b_type == RL_F32) && rl_bf16_dot_available()) j.im = &rl__bf16_impl;
#else
        RL__UNUSED(bf16);
#endif
        /* A packed once per task when its rows × K fit in 4 MiB (else MC×KC blocks) */
        {
            size_t rows = (size_t)((mu + j.tm - 1) / j.tm) * (size_t)k->mr, once = rows * (size_t)K;
            j.ap_cap = RL__MAX((size_t)k->mc * k->kc, once <= ((size_t)1 << 20) ? once : 0);
        }
        j.per_task = j.ap_cap + (size_t)k->kc * k->nc;
        j.scratch = (float *)rl__aligned_alloc(j.per_task * sizeof(float) * (size_t)nt);
        if (!j.scratch) { /* out of memory: the reference loop, which needs none */
            rl__naive_gemm(&g);
            return RL_OK;
        }
        rl_pool_for(pool, j.tm * j.tn, 1, rl__gemm_task, &j);
        rl__aligned_free(j.scratch);
    }
    return RL_OK;
}

RLDEF void rl_gemm(rl_pool *pool, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs,
             const void *B, rl_dtype b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate) {
    (void)rl__gemm(pool, M, N, K, A, a_rs, a_cs, B, b_type, b_rs, b_cs, C, ldc, accumulate, 0);
}

/* One product inside a task, single thread: C[M×N] (+)= A[M×K]·B[K×N], A(i,k) = A[i·ars + k·acs],
   B(k,j) = B[k·brs + j·bcs], C row-major (ldc), by the active micro-kernel with the task's own
   pack buffers (A panels, then one KC×NC B panel: rl__mmbuf_floats). Scans and attention use it. */
static int64_t rl__mmbuf_floats(int64_t ap_cap) { return ap_cap + (int64_t)rl__kern_get()->kc * rl__kern_get()->nc; }
static void rl__mm(const rl__mmbuf *b, int64_t M, int64_t N, int64_t K, const float *A, int64_t ars, int64_t acs,
                   const float *B, int64_t brs, int64_t bcs, float *C, int64_t ldc, int acc) {
    rl__gemm_args g;
    if (M <= 0 || N <= 0) return;
    g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = ars; g.a_cs = acs; g.B = B; g.bt = RL_F32;
    g.b_rs = brs; g.b_cs = bcs; g.C = C; g.ldc = ldc; g.accumulate = acc;
    if (b->K->gemm) rl__gemm_blocked(b->K->gemm, &g, 0, M, 0, N, b->pk, b->ap_cap, b->pk + b->ap_cap);
    else rl__naive_gemm(&g);
}

/* rl_matmul_nt with rl__gemm's status */
static rl_status rl__matmul_nt(rl_pool *pool, float *y, const float *x, const void *W, rl_dtype wt, const float *bias,
                               int64_t M, int64_t N, int64_t K, int bf16) {
    int64_t i;
    rl_status st = rl__gemm(pool, M, N, K, x, K, 1, W, wt, 1, K, y, N, 0, bf16);
    if (bias && st == RL_OK)
        for (i = 0; i < M; i++) rl__kern_get()->add(y + i * N, y + i * N, bias, N);
    return st;
}
RLDEF void rl_matmul_nt(rl_pool *pool, float *y, const float *x, const void *W, rl_dtype wt, const float *bias,
                  int64_t M, int64_t N, int64_t K) {
    (void)rl__matmul_nt(pool, y, x, W, wt, bias, M, N, K, 0);
}

RLDEF void rl_matmul_nn(rl_pool *pool, float *dx, const float *dy, const void *W, rl_dtype wt, int64_t M, int64_t N,
                  int64_t K, int accumulate) {
    rl_gemm(pool, M, K, N, dy, N, 1, W, wt, K, 1, dx, K, accumulate);
}

RLDEF void rl_matmul_tn(rl_pool *pool, float *dW, const float *dy, const float *x, int64_t M, int64_t N, int64_t K,
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

RLDEF int64_t rl_rows(const rl_tensor *t) { return t->shape[t->ndim - 1] ? t->n / t->shape[t->ndim - 1] : 0; }
RLDEF int64_t rl_cols(const rl_tensor *t) { return t->shape[t->ndim - 1]; }
RLDEF float *rl_f32(const rl_tensor *t) { return t->dtype == RL_F32 ? (float *)t->data : NULL; }

/* per-op timing (implemented after the scans, section 4a) */
static void *rl__prof_new(void);
static void rl__prof_free(rl_ctx *c);
static void rl__prof_op(rl_ctx *c, void (*bwd)(rl_ctx *, rl__node *)); /* an op's node was made */
static void rl__prof_boundary(rl_ctx *c);                              /* an op may start here */
static void rl__prof_pause(rl_ctx *c);                                 /* no op runs from here */
RL__BWD void rl__prof_bwd(rl_ctx *c, rl__node *n, double seconds);

RLDEF void rl_ctx_init(rl_ctx *c, rl_pool *pool) {
    const char *e = getenv("RADLADS_PROFILE");
    memset(c, 0, sizeof *c);
    c->pool = pool;
    rl_arena_init(&c->arena, (size_t)16 << 20);
    if (e && *e && strcmp(e, "0")) c->prof = rl__prof_new();
}

RLDEF void rl_ctx_free(rl_ctx *c) {
    if (c->prof) {
        rl_profile_report(c);
        rl__prof_free(c);
    }
    rl_arena_free(&c->arena);
    rl_arena_free(&c->dev_arena);
    RL_FREE((void *)c->tape);
    memset(c, 0, sizeof *c);
}

RLDEF void rl_ctx_reset(rl_ctx *c) {
    rl_arena_mark_t zero;
    memset(&zero, 0, sizeof zero);
    rl_arena_reset(&c->arena, zero);
    rl_arena_reset(&c->dev_arena, zero);
    c->n_tape = 0;
    c->err = RL_OK;
    if (c->prof) rl__prof_pause(c);
}

RLDEF void rl_no_grad_push(rl_ctx *c) { c->no_grad++; }
RLDEF void rl_no_grad_pop(rl_ctx *c) { c->no_grad--; }

RLDEF rl_tensor rl_wrap(void *data, rl_dtype dt, int ndim, const int64_t *shape, int requires_grad) {
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

/* ---- the device seam ----
   Where a tensor lives (t->dev) picks the code its ops run: on the host, the CPU code
   rl__cpu_<entry> (just before the ops; called directly, so that a program links only
   the ops it uses); on a device, the entry of that device's table (its twins, see
   rl_device_cuda). An op checks that its inputs share one place (rl__bad_on) and runs each
   piece of arithmetic as RL__ON(c, place, what, entry, arguments...). */
/* After an error the entry is not called (a gradient buffer may be missing): RL__SKIP */
#define RL__SKIP 1
#ifdef RADLADS_CUDA
#define RL__ON(c, d, what, entry, ...)                                                                                    \
    rl__on_done((c), (d), (what),                                                                                        \
                (c)->err ? RL__SKIP : (d) ? (d)->ops->entry((d)->q, __VA_ARGS__) : rl__cpu_##entry((void *)(c)->pool, __VA_ARGS__))
#else /* no device can exist (rl_device_cuda() is NULL): the host's code alone */
#define RL__ON(c, d, what, entry, ...) rl__on_done((c), (d), (what), (c)->err ? RL__SKIP : rl__cpu_##entry((void *)(c)->pool, __VA_ARGS__))
#endif
static int rl__on_done(rl_ctx *c, const rl_device *d, const char *what, int rc) {
    if (rc == RL__SKIP) return 0;
    if (rc) { /* the host's entries return an rl_status; a device's -1 for bad arguments */
        char why[1024];
        snprintf(why, sizeof why, "%s", d ? d->ops->last_error() : rl_last_error());
        if (d) rl__op_fail(c, rc == -1 ? RL_ERR_ARG : RL_ERR_STATE, "%s on %s: %s", what, d->ops->name, why);
        else rl__op_fail(c, rc < 0 && rc >= RL_ERR_INTERRUPTED ? (rl_status)rc : RL_ERR_STATE, "%s: %s", what, why);
    }
    return rc == 0;
}
RLDEF const char *rl_device_name(const rl_device *d) { return d ? d->ops->name : "cpu"; }
RLDEF rl_status rl_device_info(const rl_device *d, const char **what, size_t *free_b, size_t *total_b) {
    *what = d ? d->ops->describe() : "cpu";
    *free_b = *total_b = 0;
    if (d && d->ops->mem_info(free_b, total_b)) return rl__fail(RL_ERR_STATE, "%s: %s", d->ops->name, d->ops->last_error());
    return RL_OK;
}

/* The arena for memory on d: the context's own for the host; for a device, the context's
   device arena, bound to the first device it serves (one device per context). */
static rl_arena *rl__arena_on(rl_ctx *c, rl_device *d) {
    if (!d) return &c->arena;
    if (!c->dev_arena.dev) {
        rl_arena_init(&c->dev_arena, (size_t)64 << 20);
        c->dev_arena.dev = d;
    }
    if (c->dev_arena.dev != d) {
        rl__op_fail(c, RL_ERR_ARG, "this context already holds tensors on another device (%s); use one context per device",
                    rl_device_name(c->dev_arena.dev));
        return NULL;
    }
    return &c->dev_arena;
}
/* copy bytes from src on place sd to dst on place dd (the host, or the context's one device) */
static int rl__copy(rl_ctx *c, void *dst, const rl_device *dd, const void *src, const rl_device *sd, size_t bytes) {
    const rl_device *d = dd ? dd : sd;
    if (dd && sd && dd != sd) {
        rl__op_fail(c, RL_ERR_UNSUPPORTED, "copy from %s to %s: one device per context", rl_device_name(sd), rl_device_name(dd));
        return 0;
    }
    if (!d) {
        memcpy(dst, src, bytes);
        return 1;
    }
    return rl__on_done(c, d, "copy", d->ops->copy(dst, src, bytes, !sd ? 1 : !dd ? 2 : 3));
}
/* memory on d from the context, zero-filled (zero) or not (what an op writes whole: its row
   statistics, kept states, tables), or NULL after failing the op */
static void *rl__alloc_on(rl_ctx *c, rl_device *d, size_t bytes, int zero) {
    rl_arena *a = rl__arena_on(c, d);
    void *p = !a ? NULL : zero ? rl_arena_zalloc(a, bytes) : rl_arena_alloc(a, bytes);
    if (a && !p) rl__op_fail(c, RL_ERR_NOMEM, "activations%s%s: out of memory for %zu bytes", d ? " on " : "", d ? rl_device_name(d) : "", bytes);
    return p;
}
static void *rl__zalloc_on(rl_ctx *c, rl_device *d, size_t bytes) { return rl__alloc_on(c, d, bytes, 1); }

/* t's values on the host: its own, or a copy from its device in the context's arena (NULL
   after failing the context); rl__item: the first one (a loss), NaN on failure */
RL__INTERN const float *rl__host_f32(rl_ctx *c, const rl_tensor *t) {
    float *h;
    if (!t || !t->dev) return t ? rl_f32(t) : NULL;
    h = (float *)rl__alloc_on(c, NULL, sizeof(float) * (size_t)t->n, 0);
    return h && rl__copy(c, h, NULL, t->data, t->dev, sizeof(float) * (size_t)t->n) ? h : NULL;
}
RL__INTERN float rl__item(rl_ctx *c, const rl_tensor *t) {
    const float *h = rl__host_f32(c, t);
    return h ? h[0] : NAN;
}
/* memory of its own (not an arena's) on d: the host's malloc, or the device's */
RL__INTERN void *rl__dev_alloc(rl_device *d, size_t bytes) { return d ? d->ops->alloc(bytes) : RL_MALLOC(bytes); }
RL__INTERN void rl__dev_free(rl_device *d, void *p) {
    if (d && p) d->ops->free(p);
    else RL_FREE(p);
}
RL__INTERN void rl__dev_zero(rl_device *d, void *p, size_t bytes) {
    if (d) (void)d->ops->zero(p, bytes);
    else memset(p, 0, bytes);
}

/* A tensor of the context (zeroed) on d */
static rl_tensor *rl__new_on(rl_ctx *c, rl_device *d, int ndim, const int64_t *shape) {
    rl_tensor *t = (rl_tensor *)rl_arena_alloc(&c->arena, sizeof *t);
    int64_t n = 1;
    int i;
    if (ndim < 1 || ndim > RL_MAX_DIMS) return rl__op_fail(c, RL_ERR_ARG, "tensor: %d dimensions (1..%d allowed)", ndim, RL_MAX_DIMS);
    for (i = 0; i < ndim; i++) n *= shape[i];
    if (!t) return rl__op_fail(c, RL_ERR_NOMEM, "activations: out of memory");
    *t = rl_wrap(NULL, RL_F32, ndim, shape, 0);
    t->dev = d;
    if (!(t->data = rl__zalloc_on(c, d, (size_t)n * sizeof(float)))) return rl__op_fail(c, RL_ERR_NOMEM, "activations: out of memory for %lld floats", (long long)n);
    return t;
}
RLDEF rl_tensor *rl_new(rl_ctx *c, int ndim, const int64_t *shape) { return rl__new_on(c, NULL, ndim, shape); }

RLDEF rl_tensor *rl_new2(rl_ctx *c, int64_t rows, int64_t cols) {
    int64_t s[2];
    s[0] = rows;
    s[1] = cols;
    return rl_new(c, 2, s);
}

static rl_tensor *rl__like(rl_ctx *c, const rl_tensor *x) { return rl__new_on(c, x->dev, x->ndim, x->shape); }

static rl_tensor *rl__scalar(rl_ctx *c) {
    int64_t one = 1;
    return rl_new(c, 1, &one);
}

/* Gradient buffer of t, allocated (zeroed) in the arena on first use. */
static float *rl__grad(rl_ctx *c, rl_tensor *t) {
    if (!t->grad) {
        t->grad = (float *)rl__zalloc_on(c, t->dev, (size_t)t->n * sizeof(float));
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
    if (c->prof) rl__prof_op(c, bwd);
    for (i = 0; i < n_in; i++) {
        n->in[i] = in[i];
        need |= in[i] && in[i]->requires_grad;
    }
    if (need && !c->no_grad && bwd) {
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
#if defined(RADLADS_NO_TRAINING)
/* No backward pass: nodes carry no backward function, so none is referenced (RL__BWD marks
   them unused and the compiler drops them), and nothing is put on the tape. */
#define rl__node_new(c, bwd, out, a, b, d, e) rl__node_new(c, NULL, out, a, b, d, e)
#define rl__node_newv(c, bwd, out, n_in, in) rl__node_newv(c, NULL, out, n_in, in)
#endif

static int rl__wants(const rl_tensor *t) { return t && t->requires_grad; }

#if !defined(RADLADS_NO_TRAINING)
RLDEF rl_status rl_backward(rl_ctx *c, rl_tensor *loss) {
    int i;
    if (c->err) return c->err;
    if (!loss || loss->n != 1) return rl__fail(RL_ERR_ARG, "rl_backward: the loss must be a scalar tensor");
    if (!loss->requires_grad) return rl__fail(RL_ERR_STATE, "rl_backward: the loss does not depend on anything that requires a gradient");
    if (!rl__grad(c, loss)) return c->err;
    if (!loss->dev) loss->grad[0] += 1.0f;
    else { /* a loss on a device: its seed goes there */
        float g = 0;
        if (!rl__copy(c, &g, NULL, loss->grad, loss->dev, sizeof g)) return c->err;
        g += 1.0f;
        if (!rl__copy(c, loss->grad, loss->dev, &g, NULL, sizeof g)) return c->err;
    }
    if (c->prof) rl__prof_pause(c);
    for (i = c->n_tape - 1; i >= 0; i--) {
        rl__node *n = c->tape[i];
        if (n->out->grad || (n->out2 && n->out2->grad)) {
            double t0 = c->prof ? rl__now() : 0;
            n->backward(c, n);
            if (c->prof) rl__prof_bwd(c, n, rl__now() - t0);
        }
        if (c->err) return c->err;
    }
    return RL_OK;
}
#endif

/* Checks shared by the ops. */
/* rl__bad for the ops with a device twin: a must live on d, the place of the op's first input */
static int rl__bad_on(rl_ctx *c, const rl_tensor *a, const rl_device *d) {
    if (c->prof) rl__prof_boundary(c);
    if (a && a->dev != d && !c->err)
        rl__op_fail(c, RL_ERR_ARG, "%s is on %s, the op's other inputs on %s: move it with rl_to", a->name ? a->name : "a tensor",
                    rl_device_name(a->dev), rl_device_name(d));
    return !a || c->err || (a->dtype != RL_F32 && (rl__op_fail(c, RL_ERR_ARG, "%s: activation must be F32", a->name ? a->name : "tensor"), 1));
}
/* the input checks of an op that runs on the host only */
static int rl__bad(rl_ctx *c, const rl_tensor *a) {
    if (a && a->dev && !c->err)
        rl__op_fail(c, RL_ERR_UNSUPPORTED, "%s is on %s, and this op runs on the CPU only so far (radlads_cuda.cu has no twin of it yet): move the tensor with rl_to(ctx, t, NULL)",
                    a->name ? a->name : "a tensor", rl_device_name(a->dev));
    return rl__bad_on(c, a, NULL);
}
static int rl__same(rl_ctx *c, const char *op, const rl_tensor *a, const rl_tensor *b) {
    if (a->n != b->n || rl_cols(a) != rl_cols(b)) {
        rl__op_fail(c, RL_ERR_ARG, "%s: shapes differ (%lld elements vs %lld)", op, (long long)a->n, (long long)b->n);
        return 0;
    }
    return 1;
}

/* rows per task of a row-parallel op: chunks of at least ~16k elements */
static int64_t rl__rows_grain(int64_t cols) { return RL__MAX(1, 16384 / RL__MAX(cols, 1)); }

/* ---- the CPU code of the ops below: rl__cpu_<entry>, the host's side of each entry of rl__ops ----
   (attention's and the scans' are with their kernels: rl__cpu_attention in this section,
   rl__cpu_scan in section 4a; rl_kl_head's are with it, before section 4c) */
static int rl__cpu_attention(void *q, float *y, float *lse, const float *Q, const float *K, const float *V, int64_t B, int64_t T,
                             int H, int KVH, int d);
RL__BWD int rl__cpu_attention_bwd(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q, const float *K,
                                  const float *V, const float *y, const float *lse, int64_t B, int64_t T, int H, int KVH, int d);
static int rl__cpu_scan(rl_ctx *c, rl__node *n, int bwd);


enum { RL__F_EXP, RL__F_SIGMOID, RL__F_TANH, RL__F_SOFTPLUS, RL__F_SILU, RL__F_LOGDECAY };

static int rl__cpu_add(void *q, float *y, const float *a, float s, const float *b, int64_t n) {
    RL__UNUSED(q);
    if (s == 1.0f) rl__kern_get()->add(y, a, b, n);
    else if (s == -1.0f) rl__kern_get()->sub(y, a, b, n);
    else {
        if (y != a) memmove(y, a, sizeof(float) * (size_t)n);
        rl__kern_get()->axpy(y, s, b, n);
    }
    return 0;
}
static int rl__cpu_axpy(void *q, float *y, float s, const float *x, int64_t n) {
    RL__UNUSED(q);
    rl__kern_get()->axpy(y, s, x, n);
    return 0;
}
static int rl__cpu_mul(void *q, float *y, const float *a, const float *b, int64_t n, int acc) {
    int64_t i;
    RL__UNUSED(q);
    if (!acc) rl__kern_get()->mul(y, a, b, n);
    else
        for (i = 0; i < n; i++) y[i] += a[i] * b[i];
    return 0;
}
static int rl__cpu_rowvec(void *q, float *y, const float *x, const float *v, int64_t R, int64_t C, int mode) {
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        if (mode == 0) rl__kern_get()->add(y + r * C, x + r * C, v, C);
        else if (mode == 1) rl__kern_get()->mul(y + r * C, x + r * C, v, C);
        else
            for (j = 0; j < C; j++) y[r * C + j] += x[r * C + j] * v[j];
    }
    return 0;
}
RL__BWD int rl__cpu_colsum(void *q, float *gv, const float *g, const float *x, const float *s, int64_t R, int64_t C) {
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        if (!x && !s) rl__kern_get()->axpy(gv, 1.0f, g + r * C, C);
        else
            for (j = 0; j < C; j++) gv[j] += g[r * C + j] * (x ? x[r * C + j] : 1.0f) * (s ? s[r] : 1.0f);
    }
    return 0;
}
static int rl__cpu_gemm(void *q, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B,
                        int b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int acc, int bf16) {
    return (int)rl__gemm((rl_pool *)q, M, N, K, A, a_rs, a_cs, B, (rl_dtype)b_type, b_rs, b_cs, C, ldc, acc, bf16);
}

/* the arguments of the row-parallel CPU entries */
typedef struct rl__rows_arg {
    float *y, *s;
    const float *x, *w, *g, *b;
    int64_t C;
    float eps;
    int fn; /* the function (unary; -1 swiglu), log-space (softmax) or the groups (groupnorm) */
} rl__rows_arg;
static void rl__rmsnorm_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__rows_arg *a = (const rl__rows_arg *)ctx;
    int64_t r;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) a->s[r] = rl__kern_get()->rmsnorm(a->y + r * a->C, a->x + r * a->C, a->w, a->C, a->eps);
}
static int rl__cpu_rmsnorm(void *q, float *y, float *rstd, const float *x, const float *w, int64_t R, int64_t C, float eps) {
    rl__rows_arg a;
    memset(&a, 0, sizeof a);
    a.y = y; a.s = rstd; a.x = x; a.w = w; a.C = C; a.eps = eps;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(C), rl__rmsnorm_rows, &a);
    return 0;
}
/* gx += rstd·(g ⊙ w − x·rstd²·mean(g ⊙ w ⊙ x)) */
RL__BWD void rl__rmsnorm_bwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__rows_arg *a = (const rl__rows_arg *)ctx;
    int64_t C = a->C, r, j;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        const float *x = a->x + r * C, *g = a->g + r * C;
        float rs = a->s[r], *gx = a->y + r * C;
        double dot = 0;
        for (j = 0; j < C; j++) dot += (double)g[j] * (a->w ? a->w[j] : 1.0f) * x[j];
        for (j = 0; j < C; j++) gx[j] += rs * (g[j] * (a->w ? a->w[j] : 1.0f) - x[j] * rs * rs * (float)(dot / (double)C));
    }
}
RL__BWD int rl__cpu_rmsnorm_bwd(void *q, float *gx, const float *g, const float *x, const float *w, const float *rstd, int64_t R, int64_t C) {
    rl__rows_arg a;
    memset(&a, 0, sizeof a);
    a.y = gx; a.g = g; a.x = x; a.w = w; a.s = (float *)rstd; a.C = C;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(C), rl__rmsnorm_bwd_rows, &a);
    return 0;
}
static void rl__unary_part(void *ctx, int64_t i0, int64_t i1, int tid) {
    const rl__rows_arg *a = (const rl__rows_arg *)ctx;
    const rl__kern *K = rl__kern_get();
    RL__UNUSED(tid);
    switch (a->fn) {
    case RL__F_EXP: K->exp(a->y + i0, a->x + i0, i1 - i0); break;
    case RL__F_SIGMOID: K->sigmoid(a->y + i0, a->x + i0, i1 - i0); break;
    case RL__F_TANH: K->tanh(a->y + i0, a->x + i0, i1 - i0); break;
    case RL__F_SOFTPLUS: K->softplus(a->y + i0, a->x + i0, i1 - i0); break;
    case RL__F_SILU: K->silu(a->y + i0, a->x + i0, i1 - i0); break;
    case RL__F_LOGDECAY:
        for (; i0 < i1; i0++) a->y[i0] = RL__MAX(-expf(a->x[i0]), -5.0f);
        break;
    default: K->swiglu(a->y + i0, a->x + i0, a->b + i0, i1 - i0); break; /* fn -1 */
    }
}
static int rl__cpu_unary(void *q, int fn, float *y, const float *x, int64_t n) {
    rl__rows_arg a;
    memset(&a, 0, sizeof a);
    a.fn = fn; a.y = y; a.x = x;
    rl_pool_for((rl_pool *)q, n, 16384, rl__unary_part, &a);
    return 0;
}
RL__BWD int rl__cpu_unary_bwd(void *q, int fn, float *gx, const float *g, const float *x, const float *y, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) {
        float d, s;
        switch (fn) {
        case RL__F_EXP: d = y[i]; break;
        case RL__F_SIGMOID: d = y[i] * (1.0f - y[i]); break;
        case RL__F_TANH: d = 1.0f - y[i] * y[i]; break;
        case RL__F_SOFTPLUS: d = 1.0f / (1.0f + expf(-x[i])); break;
        case RL__F_LOGDECAY: /* d/dx of −exp(x) where not clamped; nothing where clamped */
            if (!(y[i] > -5.0f)) continue;
            d = y[i];
            break;
        default: s = 1.0f / (1.0f + expf(-x[i])); d = s * (1.0f + x[i] * (1.0f - s)); break;
        }
        gx[i] += g[i] * d;
    }
    return 0;
}
static int rl__cpu_swiglu(void *q, float *y, const float *a, const float *b, int64_t n) {
    rl__rows_arg r;
    memset(&r, 0, sizeof r);
    r.fn = -1; r.y = y; r.x = a; r.b = b;
    rl_pool_for((rl_pool *)q, n, 16384, rl__unary_part, &r);
    return 0;
}
RL__BWD int rl__cpu_swiglu_bwd(void *q, float *ga, float *gb, const float *g, const float *a, const float *b, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-a[i]));
        if (ga) ga[i] += g[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
        if (gb) gb[i] += g[i] * a[i] * s;
    }
    return 0;
}
static int rl__cpu_sum(void *q, float *y, const float *x, int64_t n) {
    double s = 0;
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) s += x[i];
    y[0] = (float)s;
    return 0;
}
RL__BWD int rl__cpu_sum_bwd(void *q, float *gx, const float *g, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) gx[i] += g[0];
    return 0;
}
static int rl__cpu_affine(void *q, float *y, const float *x, float a, float b, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) y[i] = a * x[i] + b;
    return 0;
}
static int rl__cpu_copy3d(void *q, float *y, int64_t ysb, int64_t ysr, const float *x, int64_t xsb, int64_t xsr, int64_t B,
                          int64_t R, int64_t C, int acc) {
    int64_t b, r;
    RL__UNUSED(q);
    for (b = 0; b < B; b++)
        for (r = 0; r < R; r++) {
            float *dst = y + b * ysb + r * ysr;
            const float *src = x + b * xsb + r * xsr;
            if (acc) rl__kern_get()->axpy(dst, 1.0f, src, C);
            else memcpy(dst, src, sizeof(float) * (size_t)C);
        }
    return 0;
}
/* n values stored as dt as floats: F32 copied, F16/BF16 widened, ggml blocks (a GGUF model's
   matrices; n a whole number of blocks) dequantized. Rows of an embedding table; the F32
   values of a frozen matrix (rl__param_f32). */
static rl_status rl__to_f32(const void *data, rl_dtype dt, float *dst, int64_t n) {
    int64_t i;
    if (dt == RL_F32) memcpy(dst, data, sizeof(float) * (size_t)n);
    else if (dt == RL_BF16)
        for (i = 0; i < n; i++) dst[i] = rl_bf16_to_f32(((const uint16_t *)data)[i]);
    else if (dt == RL_F16)
        for (i = 0; i < n; i++) dst[i] = rl_f16_to_f32(((const uint16_t *)data)[i]);
#if !defined(RADLADS_NO_GGUF)
    else if (RL_DTYPE_IS_GGML(dt)) return rl_ggml_dequantize((int)dt - RL_DTYPE_GGML0, data, dst, n);
#endif
    else return rl__fail(RL_ERR_UNSUPPORTED, "values of type %d have no F32 form", (int)dt);
    return RL_OK;
}
static int rl__cpu_embedding(void *q, float *y, const void *E, int e_type, const int32_t *ids, int64_t n, int64_t C) {
    int64_t r, rb = C * (e_type == RL_F32 ? 4 : 2); /* bytes per row */
    int ok = 1;
    RL__UNUSED(q);
#if !defined(RADLADS_NO_GGUF)
    if (RL_DTYPE_IS_GGML(e_type)) ok = rl__ggml_row_bytes(e_type - RL_DTYPE_GGML0, C, &rb);
#endif
    for (r = 0; r < n; r++)
        if (!ok || rl__to_f32((const unsigned char *)E + (int64_t)ids[r] * rb, (rl_dtype)e_type, y + r * C, C) != RL_OK) {
#if !defined(RADLADS_NO_GGUF)
            return (int)rl__fail(RL_ERR_ARG, "cannot read row %d of a %s table", ids[r], rl_ggml_type_name(e_type - RL_DTYPE_GGML0));
#endif
        }
    return 0;
}
RL__BWD int rl__cpu_embedding_bwd(void *q, float *gE, const float *g, const int32_t *ids, int64_t n, int64_t C) {
    int64_t r;
    RL__UNUSED(q);
    for (r = 0; r < n; r++) rl__kern_get()->axpy(gE + (int64_t)ids[r] * C, 1.0f, g + r * C, C);
    return 0;
}
static int rl__cpu_rope(void *q, float *y, const float *x, const float *tab, int64_t R, int64_t T, int64_t C, int d, int inverse, int acc) {
    int64_t half = d / 2, r, h, j;
    const rl__kern *K = rl__kern_get();
    float *tmp = NULL;
    RL__UNUSED(q);
    if (acc && !(tmp = (float *)RL_MALLOC(sizeof(float) * (size_t)d))) return (int)rl__fail(RL_ERR_NOMEM, "out of memory");
    for (r = 0; r < R; r++) {
        const float *cs = tab + (r % T) * d, *sn = inverse ? tab + T * d + (r % T) * half : cs + half;
        for (h = 0; h < C / d; h++) {
            float *dst = y + r * C + h * d;
            if (!acc) K->rope(dst, x + r * C + h * d, cs, sn, half);
            else {
                K->rope(tmp, x + r * C + h * d, cs, sn, half);
                for (j = 0; j < d; j++) dst[j] += tmp[j];
            }
        }
    }
    RL_FREE(tmp);
    return 0;
}
static int rl__cpu_l2norm(void *q, float *y, float *rinv, const float *x, int64_t S, int d, float eps) {
    int64_t h;
    RL__UNUSED(q);
    for (h = 0; h < S; h++) rinv[h] = rl__kern_get()->l2norm(y + h * d, x + h * d, d, eps);
    return 0;
}
RL__BWD int rl__cpu_l2norm_bwd(void *q, float *gx, const float *g, const float *y, const float *rinv, int64_t S, int d, float eps) {
    int64_t h, j;
    RL__UNUSED(q);
    for (h = 0; h < S; h++) {
        const float *yh = y + h * d, *gh = g + h * d;
        float r = rinv[h];
        double dot = 0;
        if (r < 1.0f / eps) /* else the norm is below eps: y = x/eps, linear */
            for (j = 0; j < d; j++) dot += (double)gh[j] * yh[j];
        for (j = 0; j < d; j++) gx[h * d + j] += r * (gh[j] - yh[j] * (float)dot);
    }
    return 0;
}
static void rl__groupnorm_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__rows_arg *a = (const rl__rows_arg *)ctx;
    int64_t C = a->C, G = a->fn, d = C / G, r, gi;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++)
        for (gi = 0; gi < G; gi++) {
            int64_t o = r * C + gi * d;
            rl__kern_get()->layernorm(a->y + o, a->x + o, a->w ? a->w + gi * d : NULL, a->b ? a->b + gi * d : NULL, d, a->eps,
                                      &a->s[2 * (r * G + gi)], &a->s[2 * (r * G + gi) + 1]);
        }
}
static int rl__cpu_groupnorm(void *q, float *y, float *stats, const float *x, const float *w, const float *b, int64_t R, int64_t C,
                             int G, float eps) {
    rl__rows_arg a;
    memset(&a, 0, sizeof a);
    a.y = y; a.s = stats; a.x = x; a.w = w; a.b = b; a.C = C; a.fn = G; a.eps = eps;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(C), rl__groupnorm_rows, &a);
    return 0;
}
RL__BWD int rl__cpu_groupnorm_bwd(void *q, float *gx, float *gw, float *gb, const float *g, const float *x, const float *w,
                                 const float *stats, int64_t R, int64_t C, int G) {
    int64_t d = C / G, r, gi, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++)
        for (gi = 0; gi < G; gi++) {
            int64_t o = r * C + gi * d;
            const float *xr = x + o, *gr = g + o;
            float mean = stats[2 * (r * G + gi)], rs = stats[2 * (r * G + gi) + 1];
            double s1 = 0, s2 = 0;
            for (j = 0; j < d; j++) {
                float xh = (xr[j] - mean) * rs, dxh = gr[j] * (w ? w[gi * d + j] : 1.0f);
                s1 += dxh;
                s2 += (double)dxh * xh;
                if (gw) gw[gi * d + j] += gr[j] * xh;
                if (gb) gb[gi * d + j] += gr[j];
            }
            if (gx)
                for (j = 0; j < d; j++) {
                    float xh = (xr[j] - mean) * rs, dxh = gr[j] * (w ? w[gi * d + j] : 1.0f);
                    gx[o + j] += rs * (dxh - (float)(s1 / (double)d) - xh * (float)(s2 / (double)d));
                }
        }
    return 0;
}
static void rl__softmax_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__rows_arg *a = (const rl__rows_arg *)ctx;
    int64_t C = a->C, r;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        if (a->fn) rl__kern_get()->logsoftmax(a->y + r * C, a->x + r * C, C);
        else rl__kern_get()->softmax(a->y + r * C, a->x + r * C, C);
    }
}
static int rl__cpu_softmax(void *q, float *y, const float *x, int64_t R, int64_t C, int logspace) {
    rl__rows_arg a;
    memset(&a, 0, sizeof a);
    a.y = y; a.x = x; a.C = C; a.fn = logspace;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(C), rl__softmax_rows, &a);
    return 0;
}
RL__BWD int rl__cpu_softmax_bwd(void *q, float *gx, const float *g, const float *y, int64_t R, int64_t C, int logspace) {
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        const float *yr = y + r * C, *gr = g + r * C;
        double s = 0;
        if (logspace) { /* log-softmax: gx = g - softmax · Σg */
            for (j = 0; j < C; j++) s += gr[j];
            for (j = 0; j < C; j++) gx[r * C + j] += gr[j] - expf(yr[j]) * (float)s;
        } else { /* softmax: gx = y ⊙ (g - Σ g⊙y) */
            for (j = 0; j < C; j++) s += (double)gr[j] * yr[j];
            for (j = 0; j < C; j++) gx[r * C + j] += yr[j] * (gr[j] - (float)s);
        }
    }
    return 0;
}
static int rl__cpu_cross_entropy(void *q, float *loss, float *lse, const float *x, const int32_t *tg, int64_t R, int64_t V, float inv_count) {
    float *tmp = (float *)RL_MALLOC(sizeof(float) * (size_t)(V ? V : 1));
    double s = 0;
    int64_t r;
    RL__UNUSED(q);
    if (!tmp) return (int)rl__fail(RL_ERR_NOMEM, "out of memory");
    for (r = 0; r < R; r++) {
        lse[r] = rl__kern_get()->logsoftmax(tmp, x + r * V, V);
        if (tg[r] >= 0) s += (double)lse[r] - x[r * V + tg[r]];
    }
    RL_FREE(tmp);
    loss[0] = (float)(s * inv_count);
    return 0;
}
RL__BWD int rl__cpu_cross_entropy_bwd(void *q, float *gx, const float *gloss, const float *x, const float *lse, const int32_t *tg,
                                     int64_t R, int64_t V, float inv_count) {
    float g = gloss[0] * inv_count;
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        if (tg[r] < 0) continue;
        for (j = 0; j < V; j++) gx[r * V + j] += g * expf(x[r * V + j] - lse[r]);
        gx[r * V + tg[r]] -= g;
    }
    return 0;
}
/* KL(T‖S) by rows on the pool q, each thread with 3 rows of scratch (rl__scratch) for the
   kernel table's logsoftmax and exp; each row's sum in double, the rows' added in row order */
typedef struct { rl__scratch sc; float *aux; double *kl; float *gs, *gt; const float *s, *t; float g; int64_t V; } rl__kl_job;
static void rl__kl_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    rl__kl_job *J = (rl__kl_job *)ctx;
    const rl__kern *K = rl__kern_get();
    int64_t V = J->V, r, j;
    float *ls = rl__scratch_at(&J->sc, tid), *lt = ls + V, *pt = lt + V;
    for (r = r0; r < r1; r++) {
        double kl = 0;
        J->aux[3 * r] = K->logsoftmax(ls, J->s + r * V, V);
        J->aux[3 * r + 1] = K->logsoftmax(lt, J->t + r * V, V);
        K->exp(pt, lt, V);
        for (j = 0; j < V; j++) kl += (double)pt[j] * (lt[j] - ls[j]);
        J->aux[3 * r + 2] = (float)kl;
        J->kl[r] = kl;
    }
}
static void rl__kl_bwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) { /* the log-probabilities again, from the saved log-partitions */
    rl__kl_job *J = (rl__kl_job *)ctx;
    const rl__kern *K = rl__kern_get();
    int64_t V = J->V, r, j;
    float *ls = rl__scratch_at(&J->sc, tid), *lt = ls + V, *pt = lt + V;
    for (r = r0; r < r1; r++) {
        const float *sr = J->s + r * V, *tr = J->t + r * V;
        float lss = J->aux[3 * r], lst = J->aux[3 * r + 1], k = J->aux[3 * r + 2];
        for (j = 0; j < V; j++) ls[j] = sr[j] - lss, lt[j] = tr[j] - lst;
        K->exp(pt, lt, V);
        if (J->gt)
            for (j = 0; j < V; j++) J->gt[r * V + j] += J->g * pt[j] * (lt[j] - ls[j] - k);
        if (J->gs) {
            K->exp(ls, ls, V);
            for (j = 0; j < V; j++) J->gs[r * V + j] += J->g * (ls[j] - pt[j]);
        }
    }
}
static int rl__kl_run(void *q, rl__kl_job *J, int64_t R, rl_task_fn fn) {
    if (!rl__scratch_alloc(&J->sc, (rl_pool *)q, (size_t)(3 * J->V))) return (int)rl__fail(RL_ERR_NOMEM, "kl_div: out of memory");
    rl_pool_for((rl_pool *)q, R, 1, fn, J);
    rl__scratch_free(&J->sc);
    return 0;
}
static int rl__cpu_kl_div(void *q, float *loss, float *aux, const float *s, const float *t, int64_t R, int64_t V) {
    rl__kl_job J;
    double total = 0;
    int64_t r;
    int st;
    memset(&J, 0, sizeof J);
    if (!(J.kl = (double *)RL_MALLOC(sizeof(double) * (size_t)(R ? R : 1)))) return (int)rl__fail(RL_ERR_NOMEM, "kl_div: out of memory");
    J.aux = aux; J.s = s; J.t = t; J.V = V;
    if (!(st = rl__kl_run(q, &J, R, rl__kl_rows)))
        for (r = 0; r < R; r++) total += J.kl[r];
    RL_FREE(J.kl);
    if (!st) loss[0] = (float)(total / (double)R);
    return st;
}
RL__BWD int rl__cpu_kl_div_bwd(void *q, float *gs, float *gt, const float *gloss, const float *s, const float *t, const float *aux,
                              int64_t R, int64_t V) {
    rl__kl_job J;
    memset(&J, 0, sizeof J);
    J.aux = (float *)(uintptr_t)aux; J.gs = gs; J.gt = gt; J.s = s; J.t = t; J.V = V; J.g = gloss[0] / (float)R;
    return rl__kl_run(q, &J, R, rl__kl_bwd_rows);
}
static int rl__cpu_l2_dist(void *q, float *loss, float *norms, const float *y, const float *t, int64_t R, int64_t C) {
    double total = 0;
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        double ss = 0;
        for (j = 0; j < C; j++) {
            double d = (double)y[r * C + j] - t[r * C + j];
            ss += d * d;
        }
        norms[r] = (float)sqrt(ss);
        total += sqrt(ss);
    }
    loss[0] = (float)(total / ((double)R * sqrt((double)C)));
    return 0;
}
RL__BWD int rl__cpu_l2_dist_bwd(void *q, float *gy, float *gt, const float *gloss, const float *y, const float *t, const float *norms,
                               int64_t R, int64_t C) {
    float g = gloss[0] / ((float)R * sqrtf((float)C));
    int64_t r, j;
    RL__UNUSED(q);
    for (r = 0; r < R; r++) {
        float inv = norms[r] > 0 ? g / norms[r] : 0.0f; /* the norm's gradient at 0 is taken as 0 */
        for (j = 0; j < C; j++) {
            float d = (y[r * C + j] - t[r * C + j]) * inv;
            if (gy) gy[r * C + j] += d;
            if (gt) gt[r * C + j] -= d;
        }
    }
    return 0;
}
/* The optimizer's passes over every parameter, on the pool q in chunks of RL__OPT_CHUNK: the
   squared norm as per-chunk double sums added in chunk order (the same for any thread count),
   the update by the kernel table's adamw. */
#define RL__OPT_CHUNK ((int64_t)1 << 15)
typedef struct { int64_t n; const float *x; double *part; float *p, *g, *m, *v; const float *h; } rl__opt_job;
static double rl__sumsq_chunk(const float *x, int64_t n) {
    double a[4] = {0, 0, 0, 0};
    int64_t j;
    for (j = 0; j < n; j++) a[j & 3] += (double)x[j] * x[j];
    return (a[0] + a[1]) + (a[2] + a[3]);
}
static void rl__sumsq_task(void *ctx, int64_t b, int64_t e, int tid) {
    const rl__opt_job *J = (const rl__opt_job *)ctx;
    RL__UNUSED(tid);
    for (; b < e; b++) J->part[b] = rl__sumsq_chunk(J->x + b * RL__OPT_CHUNK, RL__MIN(RL__OPT_CHUNK, J->n - b * RL__OPT_CHUNK));
}
RL__BWD int rl__cpu_sumsq(void *q, double *ss, const float *x, int64_t n) {
    int64_t nc = (n + RL__OPT_CHUNK - 1) / RL__OPT_CHUNK, c;
    double stack[64], *part = nc <= 64 ? stack : (double *)RL_MALLOC(sizeof(double) * (size_t)nc);
    rl__opt_job J;
    J.n = n;
    J.x = x;
    J.part = part;
    if (part) rl_pool_for((rl_pool *)q, nc, 1, rl__sumsq_task, &J);
    for (c = 0; c < nc; c++) /* (out of memory for the partial sums: chunk by chunk on this thread) */
        *ss += part ? part[c] : rl__sumsq_chunk(x + c * RL__OPT_CHUNK, RL__MIN(RL__OPT_CHUNK, n - c * RL__OPT_CHUNK));
    if (part != stack) RL_FREE(part);
    return 0;
}
static void rl__adamw_task(void *ctx, int64_t b, int64_t e, int tid) {
    const rl__opt_job *J = (const rl__opt_job *)ctx;
    int64_t o = b * RL__OPT_CHUNK;
    RL__UNUSED(tid);
    rl__kern_get()->adamw(J->p + o, J->g + o, J->m + o, J->v + o, RL__MIN(e * RL__OPT_CHUNK, J->n) - o, J->h);
}
RL__BWD int rl__cpu_adamw(void *q, float *p, float *g, float *m, float *v, int64_t n, const rl__adam_hp *hp) {
    float h[8];
    rl__opt_job J;
    h[0] = hp->scale; h[1] = hp->beta1; h[2] = hp->beta2; h[3] = hp->eps; h[4] = hp->wd; h[5] = hp->lr;
    h[6] = (float)(1.0 / hp->b1c); h[7] = (float)(1.0 / hp->b2c);
    J.n = n; J.p = p; J.g = g; J.m = m; J.v = v; J.h = h;
    rl_pool_for((rl_pool *)q, (n + RL__OPT_CHUNK - 1) / RL__OPT_CHUNK, 1, rl__adamw_task, &J);
    return 0;
}
/* ---- add, sub, mul, scale ---- */

RL__BWD void rl__add_bwd(rl_ctx *c, rl__node *n) {
    rl_device *d = n->out->dev;
    float s = n->f[0]; /* +1 for add, -1 for sub */
    if (rl__wants(n->in[0])) RL__ON(c, d, "add backward", axpy, rl__grad(c, n->in[0]), 1.0f, n->out->grad, n->out->n);
    if (rl__wants(n->in[1])) RL__ON(c, d, "add backward", axpy, rl__grad(c, n->in[1]), s, n->out->grad, n->out->n);
}
static rl_tensor *rl__addsub(rl_ctx *c, rl_tensor *a, rl_tensor *b, float sign) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, a, a ? a->dev : NULL) || rl__bad_on(c, b, a->dev) || !rl__same(c, sign > 0 ? "add" : "sub", a, b)) return NULL;
    if (!(y = rl__like(c, a)) || !RL__ON(c, a->dev, sign > 0 ? "add" : "sub", add, rl_f32(y), rl_f32(a), sign, rl_f32(b), a->n)) return NULL;
    if ((n = rl__node_new(c, rl__add_bwd, y, a, b, NULL, NULL))) n->f[0] = sign;
    return y;
}
RLDEF rl_tensor *rl_add(rl_ctx *c, rl_tensor *a, rl_tensor *b) { return rl__addsub(c, a, b, 1.0f); }
RLDEF rl_tensor *rl_sub(rl_ctx *c, rl_tensor *a, rl_tensor *b) { return rl__addsub(c, a, b, -1.0f); }

RL__BWD void rl__mul_bwd(rl_ctx *c, rl__node *n) {
    rl_device *d = n->out->dev;
    if (rl__wants(n->in[0])) RL__ON(c, d, "mul backward", mul, rl__grad(c, n->in[0]), n->out->grad, rl_f32(n->in[1]), n->out->n, 1);
    if (rl__wants(n->in[1])) RL__ON(c, d, "mul backward", mul, rl__grad(c, n->in[1]), n->out->grad, rl_f32(n->in[0]), n->out->n, 1);
}
RLDEF rl_tensor *rl_mul(rl_ctx *c, rl_tensor *a, rl_tensor *b) {
    rl_tensor *y;
    if (rl__bad_on(c, a, a ? a->dev : NULL) || rl__bad_on(c, b, a->dev) || !rl__same(c, "mul", a, b)) return NULL;
    if (!(y = rl__like(c, a)) || !RL__ON(c, a->dev, "mul", mul, rl_f32(y), rl_f32(a), rl_f32(b), a->n, 0)) return NULL;
    rl__node_new(c, rl__mul_bwd, y, a, b, NULL, NULL);
    return y;
}

RL__BWD void rl__scale_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "scale backward", axpy, rl__grad(c, n->in[0]), n->f[0], n->out->grad, n->out->n);
}
RLDEF rl_tensor *rl_scale(rl_ctx *c, rl_tensor *x, float s) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !(y = rl__like(c, x))) return NULL;
    if (!RL__ON(c, x->dev, "scale", axpy, rl_f32(y), s, rl_f32(x), x->n)) return NULL; /* y is zero: y = s·x */
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

/* x + v (mul 0) or x ⊙ v (mul 1) */
RL__BWD void rl__rowvec_bwd(rl_ctx *c, rl__node *n) {
    rl_device *d = n->out->dev;
    int64_t R = rl_rows(n->out), C = rl_cols(n->out);
    const float *g = n->out->grad, *x = rl_f32(n->in[0]), *v = rl_f32(n->in[1]);
    if (rl__wants(n->in[0])) {
        if (n->i[0]) RL__ON(c, d, "mul_row backward", rowvec, rl__grad(c, n->in[0]), g, v, R, C, 2);
        else RL__ON(c, d, "add_row backward", axpy, rl__grad(c, n->in[0]), 1.0f, g, n->out->n);
    }
    if (rl__wants(n->in[1])) RL__ON(c, d, "row broadcast backward", colsum, rl__grad(c, n->in[1]), g, n->i[0] ? x : NULL, NULL, R, C);
}
static rl_tensor *rl__rowvec(rl_ctx *c, rl_tensor *x, rl_tensor *v, int mul) {
    const char *op = mul ? "mul_row" : "add_row";
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || rl__bad_on(c, v, x->dev) || !rl__row_vec(c, op, x, v) || !(y = rl__like(c, x)))
        return NULL;
    if (!RL__ON(c, x->dev, op, rowvec, rl_f32(y), rl_f32(x), rl_f32(v), rl_rows(x), rl_cols(x), mul)) return NULL;
    if ((n = rl__node_new(c, rl__rowvec_bwd, y, x, v, NULL, NULL))) n->i[0] = mul;
    return y;
}
RLDEF rl_tensor *rl_add_row(rl_ctx *c, rl_tensor *x, rl_tensor *b) { return rl__rowvec(c, x, b, 0); }
RLDEF rl_tensor *rl_mul_row(rl_ctx *c, rl_tensor *x, rl_tensor *w) { return rl__rowvec(c, x, w, 1); }

/* ---- linear x·Wᵀ + b and matmul x·A ---- */

/* the products of an op on bf16 kernels? (rl_ctx.bf16_dot: 1 those with BF16 weights, 2 all) */
static int rl__bf16_on(const rl_ctx *c, rl_dtype wt) { return c->bf16_dot >= 2 || (c->bf16_dot == 1 && wt == RL_BF16); }

/* C (+)= A·B on the op's place, failing the op with `what` and W's name */
static int rl__gemm_on(rl_ctx *c, rl_device *d, const char *what, const rl_tensor *W, int64_t M, int64_t N, int64_t K,
                       const float *A, int64_t a_rs, int64_t a_cs, const void *B, rl_dtype bt, int64_t b_rs, int64_t b_cs,
                       float *C, int64_t ldc, int acc, int bf16) {
    char op[160];
    snprintf(op, sizeof op, "%s %s", what, W->name ? W->name : "");
    return RL__ON(c, d, op, gemm, M, N, K, A, a_rs, a_cs, B, (int)bt, b_rs, b_cs, C, ldc, acc, bf16);
}

RL__BWD void rl__linear_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *x = n->in[0], *W = n->in[1], *b = n->in[2];
    rl_device *d = x->dev;
    int64_t M = rl_rows(x), K = rl_cols(x), N = W->shape[0];
    const float *g = n->out->grad;
    int bf16 = c->bf16_dot >= 2;
    if (rl__wants(x) && !rl__gemm_on(c, d, "linear backward", W, M, K, N, g, N, 1, W->data, W->dtype, K, 1, rl__grad(c, x), K, 1, bf16))
        return; /* gx += g·W */
    if (rl__wants(W) && !rl__gemm_on(c, d, "linear backward", W, N, K, M, g, 1, N, rl_f32(x), RL_F32, K, 1, rl__grad(c, W), K, 1, bf16))
        return; /* gW += gᵀ·x */
    if (rl__wants(b)) RL__ON(c, d, "linear bias backward", colsum, rl__grad(c, b), g, NULL, NULL, M, N);
}
RLDEF rl_tensor *rl_linear(rl_ctx *c, rl_tensor *x, rl_tensor *W, rl_tensor *b) {
    rl_tensor *y;
    int64_t shape[RL_MAX_DIMS], M, K, N;
    int i;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !W || c->err) return NULL;
    M = rl_rows(x);
    K = rl_cols(x);
    if (W->ndim != 2 || W->shape[1] != K)
        return rl__op_fail(c, RL_ERR_ARG, "linear %s: weight is [%lld, %lld], input rows have %lld values",
                           W->name ? W->name : "", (long long)W->shape[0], (long long)(W->ndim > 1 ? W->shape[1] : 0), (long long)K);
    N = W->shape[0];
    if (W->dtype != RL_F32 && ((W->dtype != RL_BF16 && W->dtype != RL_F16 && !RL_DTYPE_IS_GGML(W->dtype)) || W->requires_grad))
        return rl__op_fail(c, RL_ERR_ARG, "linear %s: weights must be F32 (or BF16/F16/GGUF blocks when frozen)", W->name ? W->name : "");
    if (W->dev != x->dev || (W->dev && W->dtype != RL_F32 && W->dtype != RL_BF16))
        return rl__op_fail(c, RL_ERR_ARG, "linear %s: the weight is %s on %s, the input on %s (on a device: F32 or BF16, moved with rl_to)",
                           W->name ? W->name : "", W->dtype == RL_F32 ? "F32" : "not F32", rl_device_name(W->dev), rl_device_name(x->dev));
    if (b && (rl__bad_on(c, b, x->dev) || b->n != N)) return rl__op_fail(c, RL_ERR_ARG, "linear: bias must have %lld F32 values", (long long)N);
    for (i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = N;
    if (!(y = rl__new_on(c, x->dev, x->ndim, shape)) ||
        !rl__gemm_on(c, x->dev, "linear", W, M, N, K, rl_f32(x), K, 1, W->data, W->dtype, 1, K, rl_f32(y), N, 0, rl__bf16_on(c, W->dtype)) ||
        (b && !RL__ON(c, x->dev, "linear bias", rowvec, rl_f32(y), rl_f32(y), rl_f32(b), M, N, 0)))
        return NULL;
    rl__node_new(c, rl__linear_bwd, y, x, W, b, NULL);
    return y;
}

RL__BWD void rl__matmul_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *x = n->in[0], *A = n->in[1];
    int64_t M = rl_rows(x), K = rl_cols(x), N = A->shape[1];
    const float *g = n->out->grad;
    int bf16 = c->bf16_dot >= 2;
    if (rl__wants(x) && !rl__gemm_on(c, x->dev, "matmul backward", A, M, K, N, g, N, 1, A->data, A->dtype, 1, N, rl__grad(c, x), K, 1, bf16))
        return;
    if (rl__wants(A)) rl__gemm_on(c, x->dev, "matmul backward", A, K, N, M, rl_f32(x), 1, K, g, RL_F32, N, 1, rl__grad(c, A), N, 1, bf16);
}
RLDEF rl_tensor *rl_matmul(rl_ctx *c, rl_tensor *x, rl_tensor *A) {
    rl_tensor *y;
    int64_t shape[RL_MAX_DIMS], M, K, N;
    int i;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !A) return NULL;
    if (A->dtype != RL_F32 && ((A->dtype != RL_BF16 && A->dtype != RL_F16) || A->requires_grad))
        return rl__op_fail(c, RL_ERR_ARG, "matmul %s: matrix must be F32 (or BF16/F16 when frozen)", A->name ? A->name : "");
    if (A->dev != x->dev || (A->dev && A->dtype == RL_F16))
        return rl__op_fail(c, RL_ERR_ARG, "matmul %s: the matrix is on %s, the input on %s (on a device: F32 or BF16, moved with rl_to)",
                           A->name ? A->name : "", rl_device_name(A->dev), rl_device_name(x->dev));
    M = rl_rows(x);
    K = rl_cols(x);
    if (A->ndim != 2 || A->shape[0] != K)
        return rl__op_fail(c, RL_ERR_ARG, "matmul %s: matrix is [%lld, %lld], input rows have %lld values",
                           A->name ? A->name : "", (long long)A->shape[0], (long long)A->shape[1], (long long)K);
    N = A->shape[1];
    for (i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = N;
    if (!(y = rl__new_on(c, x->dev, x->ndim, shape)) ||
        !rl__gemm_on(c, x->dev, "matmul", A, M, N, K, rl_f32(x), K, 1, A->data, A->dtype, N, 1, rl_f32(y), N, 0, rl__bf16_on(c, A->dtype)))
        return NULL;
    rl__node_new(c, rl__matmul_bwd, y, x, A, NULL, NULL);
    return y;
}

/* ---- RMSNorm: y = x / sqrt(mean(x²) + eps) ⊙ w ---- */

RL__BWD void rl__rmsnorm_bwd(rl_ctx *c, rl__node *n) {
    rl_device *d = n->out->dev;
    int64_t R = rl_rows(n->out), C = rl_cols(n->out);
    const float *x = rl_f32(n->in[0]), *w = n->in[1] ? rl_f32(n->in[1]) : NULL, *g = n->out->grad;
    if (rl__wants(n->in[0])) RL__ON(c, d, "rmsnorm backward", rmsnorm_bwd, rl__grad(c, n->in[0]), g, x, w, n->aux, R, C);
    if (rl__wants(n->in[1])) RL__ON(c, d, "rmsnorm backward", colsum, rl__grad(c, n->in[1]), g, x, n->aux, R, C);
}
RLDEF rl_tensor *rl_rmsnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, float eps) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || (w && (rl__bad_on(c, w, x->dev) || !rl__row_vec(c, "rmsnorm", x, w))) || !(y = rl__like(c, x)))
        return NULL;
    if (!(n = rl__node_new(c, rl__rmsnorm_bwd, y, x, w, NULL, NULL))) return NULL;
    if (!(n->aux = (float *)rl__alloc_on(c, x->dev, sizeof(float) * (size_t)rl_rows(x), 0))) return NULL;
    if (!RL__ON(c, x->dev, "rmsnorm", rmsnorm, rl_f32(y), n->aux, rl_f32(x), w ? rl_f32(w) : NULL, rl_rows(x), rl_cols(x), eps)) return NULL;
    return y;
}

/* ---- GroupNorm over `groups` equal slices of each row, affine per channel ---- */

RL__BWD void rl__groupnorm_bwd(rl_ctx *c, rl__node *n) {
    float *gx = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gw = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    float *gb = rl__wants(n->in[2]) ? rl__grad(c, n->in[2]) : NULL;
    RL__ON(c, n->out->dev, "groupnorm backward", groupnorm_bwd, gx, gw, gb, n->out->grad, rl_f32(n->in[0]),
           n->in[1] ? rl_f32(n->in[1]) : NULL, n->aux, rl_rows(n->out), rl_cols(n->out), (int)n->i[0]);
}
RLDEF rl_tensor *rl_groupnorm(rl_ctx *c, rl_tensor *x, rl_tensor *w, rl_tensor *b, int groups, float eps) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || (w && (rl__bad_on(c, w, x->dev) || !rl__row_vec(c, "groupnorm", x, w))) ||
        (b && (rl__bad_on(c, b, x->dev) || !rl__row_vec(c, "groupnorm", x, b))))
        return NULL;
    if (groups < 1 || rl_cols(x) % groups)
        return rl__op_fail(c, RL_ERR_ARG, "groupnorm: %lld channels do not split into %d groups", (long long)rl_cols(x), groups);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__groupnorm_bwd, y, x, w, b, NULL))) return NULL;
    n->i[0] = groups;
    if (!(n->aux = (float *)rl__alloc_on(c, x->dev, sizeof(float) * 2 * (size_t)(rl_rows(x) * groups), 0)) ||
        !RL__ON(c, x->dev, "groupnorm", groupnorm, rl_f32(y), n->aux, rl_f32(x), w ? rl_f32(w) : NULL, b ? rl_f32(b) : NULL, rl_rows(x),
                rl_cols(x), groups, eps))
        return NULL;
    return y;
}

/* ---- softmax and log-softmax over rows ---- */

RL__BWD void rl__softmax_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "softmax backward", softmax_bwd, rl__grad(c, n->in[0]), n->out->grad, rl_f32(n->out), rl_rows(n->out),
           rl_cols(n->out), (int)n->i[0]);
}
static rl_tensor *rl__softmax_op(rl_ctx *c, rl_tensor *x, int logspace) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !(y = rl__like(c, x)) ||
        !RL__ON(c, x->dev, "softmax", softmax, rl_f32(y), rl_f32(x), rl_rows(x), rl_cols(x), logspace) ||
        !(n = rl__node_new(c, rl__softmax_bwd, y, x, NULL, NULL, NULL)))
        return NULL;
    n->i[0] = logspace;
    return y;
}
RLDEF rl_tensor *rl_softmax(rl_ctx *c, rl_tensor *x) { return rl__softmax_op(c, x, 0); }
RLDEF rl_tensor *rl_logsoftmax(rl_ctx *c, rl_tensor *x) { return rl__softmax_op(c, x, 1); }

/* ---- elementwise functions: forward by kernel, backward from x and y ---- */


RL__BWD void rl__unary_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "elementwise function backward", unary_bwd, (int)n->i[0], rl__grad(c, n->in[0]), n->out->grad,
           rl_f32(n->in[0]), rl_f32(n->out), n->out->n);
}
static rl_tensor *rl__unary(rl_ctx *c, rl_tensor *x, int fn) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !(y = rl__like(c, x)) || !RL__ON(c, x->dev, "elementwise function", unary, fn, rl_f32(y), rl_f32(x), x->n) ||
        !(n = rl__node_new(c, rl__unary_bwd, y, x, NULL, NULL, NULL)))
        return NULL;
    n->i[0] = fn;
    return y;
}
RLDEF rl_tensor *rl_exp(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_EXP); }
RLDEF rl_tensor *rl_sigmoid(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SIGMOID); }
RLDEF rl_tensor *rl_tanh(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_TANH); }
RLDEF rl_tensor *rl_softplus(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SOFTPLUS); }
RLDEF rl_tensor *rl_silu(rl_ctx *c, rl_tensor *x) { return rl__unary(c, x, RL__F_SILU); }

RL__BWD void rl__swiglu_bwd(rl_ctx *c, rl__node *n) {
    float *ga = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gb = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    RL__ON(c, n->out->dev, "swiglu backward", swiglu_bwd, ga, gb, n->out->grad, rl_f32(n->in[0]), rl_f32(n->in[1]), n->out->n);
}
RLDEF rl_tensor *rl_swiglu(rl_ctx *c, rl_tensor *gate, rl_tensor *up) {
    rl_tensor *y;
    if (rl__bad_on(c, gate, gate ? gate->dev : NULL) || rl__bad_on(c, up, gate->dev) || !rl__same(c, "swiglu", gate, up) ||
        !(y = rl__like(c, gate)) || !RL__ON(c, gate->dev, "swiglu", swiglu, rl_f32(y), rl_f32(gate), rl_f32(up), gate->n))
        return NULL;
    rl__node_new(c, rl__swiglu_bwd, y, gate, up, NULL, NULL);
    return y;
}

/* ---- per-head L2 normalisation: y = x / max(‖x‖, eps) over each head_dim slice ---- */

RL__BWD void rl__l2norm_bwd(rl_ctx *c, rl__node *n) {
    int64_t d = n->i[0];
    RL__ON(c, n->out->dev, "l2norm backward", l2norm_bwd, rl__grad(c, n->in[0]), n->out->grad, rl_f32(n->out), n->aux, n->out->n / d,
           (int)d, n->f[0]);
}
RLDEF rl_tensor *rl_l2norm(rl_ctx *c, rl_tensor *x, int head_dim, float eps) {
    rl_tensor *y;
    rl__node *n;
    if (rl__bad_on(c, x, x ? x->dev : NULL)) return NULL;
    if (head_dim < 1 || rl_cols(x) % head_dim)
        return rl__op_fail(c, RL_ERR_ARG, "l2norm: rows of %lld do not split into heads of %d", (long long)rl_cols(x), head_dim);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__l2norm_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = head_dim;
    n->f[0] = eps;
    if (!(n->aux = (float *)rl__alloc_on(c, x->dev, sizeof(float) * (size_t)(x->n / head_dim), 0)) ||
        !RL__ON(c, x->dev, "l2norm", l2norm, rl_f32(y), n->aux, rl_f32(x), x->n / head_dim, head_dim, eps))
        return NULL;
    return y;
}

/* ---- RoPE (rotate-half) ----
   n->aux: [T][cos(half) sin(half)], then [T][−sin(half)] for the inverse (the transpose of a
   rotation is the rotation by −angle); the backward rotates the gradient back */

RL__BWD void rl__rope_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "rope backward", rope, rl__grad(c, n->in[0]), n->out->grad, n->aux, rl_rows(n->out), n->i[0],
           rl_cols(n->out), (int)n->i[1], 1, 1);
}
RLDEF rl_tensor *rl_rope(rl_ctx *c, rl_tensor *x, int64_t T, int head_dim, const float *inv_freq, int64_t pos0) {
    rl_tensor *y;
    rl__node *n;
    int64_t t, j, half = head_dim / 2;
    size_t bytes = sizeof(float) * (size_t)(T * (head_dim + half));
    float *tab;
    if (rl__bad_on(c, x, x ? x->dev : NULL)) return NULL;
    if (head_dim < 2 || head_dim % 2 || rl_cols(x) % head_dim || T < 1 || rl_rows(x) % T)
        return rl__op_fail(c, RL_ERR_ARG, "rope: rows of %lld values, head_dim %d, T %lld do not fit", (long long)rl_cols(x), head_dim, (long long)T);
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__rope_bwd, y, x, NULL, NULL, NULL))) return NULL;
    n->i[0] = T;
    n->i[1] = head_dim;
    /* the table per position, angles in double, made on the host (and copied to a device) */
    if (!(tab = (float *)rl_arena_alloc(&c->arena, bytes))) return rl__op_fail(c, RL_ERR_NOMEM, "rope: out of memory");
    for (t = 0; t < T; t++)
        for (j = 0; j < half; j++) {
            double a = (double)(pos0 + t) * inv_freq[j];
            tab[t * head_dim + j] = (float)cos(a);
            tab[t * head_dim + half + j] = (float)sin(a);
            tab[T * head_dim + t * half + j] = -(float)sin(a);
        }
    n->aux = tab;
    if (x->dev && (!(n->aux = (float *)rl__alloc_on(c, x->dev, bytes, 0)) || !rl__copy(c, n->aux, x->dev, tab, NULL, bytes))) return NULL;
    if (!RL__ON(c, x->dev, "rope", rope, rl_f32(y), rl_f32(x), n->aux, rl_rows(x), T, rl_cols(x), head_dim, 0, 0)) return NULL;
    return y;
}

/* ---- causal softmax attention with GQA ----
   Per (sequence b, head h): s_tj = q_t·k_j / √d for j ≤ t, p = softmax(s), o_t = Σ p_tj v_j.
   The forward keeps only the log-partition per row; the backward recomputes p. A head (an
   rl__attn_head; pos0 > 0: the decoding cache) runs in blocks of RL__ATT_BQ query rows, as
   products by the micro-kernel (rl__mm): S = q·kᵀ, row softmax, o = P·v; backward dP = dO·vᵀ,
   dS = P ⊙ (dP − rowsum(dO ⊙ o)) / √d, dq += dS·k, dk += dSᵀ·q, dv += Pᵀ·dO. A block holds
   whole rows of S, so memory stays linear in the context. Blocks under RL__ATT_MIN rows
   (decoding) take one dot and one axpy per pair (rl__attn_fwd_rows). Twin: float64 in tests. */
RL__INTERN void rl__attn_fwd_rows(const rl__attn_head *a, int64_t t0, int64_t t1, float *p) { /* p: pos0+T floats */
    const rl__kern *K = rl__kern_get();
    float scale = 1.0f / sqrtf((float)a->d);
    int64_t t, s, d = a->d;
    for (t = t0; t < t1; t++) {
        int64_t n = a->pos0 + t + 1;
        float *o = a->o + t * a->qs, l;
        for (s = 0; s < n; s++) p[s] = K->dot(a->q + t * a->qs, a->k + s * a->ks, d) * scale;
        l = K->softmax(p, p, n);
        if (a->lse) a->lse[t] = l;
        memset(o, 0, sizeof(float) * (size_t)d);
        for (s = 0; s < n; s++) K->axpy(o, p[s], a->v + s * a->ks, d);
    }
}

static void rl__attn_transpose(const float *x, int64_t ks, int64_t L, int64_t d, float *xt) { /* then packing xᵀ is a copy */
    int64_t s, j;
    for (j = 0; j < d; j++)
        for (s = 0; s < L; s++) xt[j * L + s] = x[s * ks + j];
}

/* p: pos0 + T floats when T < RL__ATT_MIN, else (RL__ATT_BQ + d) × (pos0 + T) */
RL__INTERN void rl__attn_fwd_blocks(const rl__attn_head *a, const rl__mmbuf *mb, float *p) {
    const rl__kern *K = mb->K;
    int64_t t0, i, d = a->d, Lt = a->pos0 + a->T;
    float scale = 1.0f / sqrtf((float)d), *kt = a->T >= RL__ATT_MIN ? p + RL__ATT_BQ * Lt : NULL;
    if (kt) rl__attn_transpose(a->k, a->ks, Lt, d, kt);
    for (t0 = 0; t0 < a->T; t0 += RL__ATT_BQ) {
        int64_t bq = RL__MIN(RL__ATT_BQ, a->T - t0), L = a->pos0 + t0 + bq; /* the block's last row sees L keys */
        if (bq < RL__ATT_MIN) {
            rl__attn_fwd_rows(a, t0, t0 + bq, p);
            continue;
        }
        rl__mm(mb, bq, L, d, a->q + t0 * a->qs, a->qs, 1, kt, Lt, 1, p, L, 0); /* S = q·kᵀ */
        for (i = 0; i < bq; i++) {
            float *pr = p + i * L, l;
            int64_t n = a->pos0 + t0 + i + 1;
            K->scale(pr, pr, scale, n);
            l = K->softmax(pr, pr, n);
            if (a->lse) a->lse[t0 + i] = l;
            memset(pr + n, 0, sizeof(float) * (size_t)(L - n));
        }
        rl__mm(mb, bq, d, L, p, L, 1, a->v, a->ks, 1, a->o + t0 * a->qs, a->qs, 0); /* o = P·v */
    }
}

/* p: 2 (RL__ATT_BQ + d) × (pos0 + T) floats */
RL__INTERN void rl__attn_bwd_blocks(const rl__attn_head *a, const rl__mmbuf *mb, float *p) {
    const rl__kern *K = mb->K;
    int64_t t0, i, s, d = a->d, Lt = a->pos0 + a->T;
    float scale = 1.0f / sqrtf((float)d), *dp = p + RL__ATT_BQ * Lt, *kt = dp + RL__ATT_BQ * Lt, *vt = kt + d * Lt;
    rl__attn_transpose(a->k, a->ks, Lt, d, kt);
    rl__attn_transpose(a->v, a->ks, Lt, d, vt);
    for (t0 = 0; t0 < a->T; t0 += RL__ATT_BQ) {
        int64_t bq = RL__MIN(RL__ATT_BQ, a->T - t0), L = a->pos0 + t0 + bq;
        const float *q = a->q + t0 * a->qs, *go = a->go + t0 * a->qs;
        rl__mm(mb, bq, L, d, q, a->qs, 1, kt, Lt, 1, p, L, 0);   /* S = q·kᵀ */
        rl__mm(mb, bq, L, d, go, a->qs, 1, vt, Lt, 1, dp, L, 0); /* dP = dO·vᵀ */
        for (i = 0; i < bq; i++) {
            float *pr = p + i * L, *dr = dp + i * L, l = a->lse[t0 + i];
            float D = K->dot(go + i * a->qs, a->o + (t0 + i) * a->qs, d);
            int64_t n = a->pos0 + t0 + i + 1;
            for (s = 0; s < n; s++) pr[s] = pr[s] * scale - l;
            K->exp(pr, pr, n); /* P, recomputed */
            for (s = 0; s < n; s++) dr[s] = pr[s] * (dr[s] - D) * scale; /* dS */
            memset(pr + n, 0, sizeof(float) * (size_t)(L - n));
            memset(dr + n, 0, sizeof(float) * (size_t)(L - n));
        }
        if (a->gq) rl__mm(mb, bq, d, L, dp, L, 1, a->k, a->ks, 1, a->gq + t0 * a->qs, a->qs, 1); /* dq += dS·k */
        if (a->gk) rl__mm(mb, L, d, bq, dp, 1, L, q, a->qs, 1, a->gk, a->ks, 1);                 /* dk += dSᵀ·q */
        if (a->gv) rl__mm(mb, L, d, bq, p, 1, L, go, a->qs, 1, a->gv, a->ks, 1);                 /* dv += Pᵀ·dO */
    }
}

/* B sequences × H heads: q, o, go, gq [B*T, H*d]; k, v, gk, gv [B, krows, KVH*d] with
   krows = pos0+T, or the decoding cache's capacity; lse [B][H][T]. Per thread: pk floats of
   pack buffers, then p. */
typedef struct {
    const float *q, *k, *v, *go;
    float *o, *lse, *gq, *gk, *gv;
    int64_t B, T, pos0, krows, H, KVH, d, ap, pk, bwd;
    rl__scratch sc;
} rl__attn_job;

static rl__attn_head rl__attn_head_at(const rl__attn_job *j, int64_t b, int64_t h) {
    rl__attn_head a;
    int64_t Cq = j->H * j->d, Ck = j->KVH * j->d, qo = b * j->T * Cq + h * j->d;
    int64_t ko = b * (j->krows ? j->krows : j->pos0 + j->T) * Ck + h / (j->H / j->KVH) * j->d;
    a.q = j->q + qo; a.o = j->o + qo;
    a.go = j->go ? j->go + qo : NULL; a.gq = j->gq ? j->gq + qo : NULL;
    a.k = j->k + ko; a.v = j->v + ko;
    a.gk = j->gk ? j->gk + ko : NULL; a.gv = j->gv ? j->gv + ko : NULL;
    a.lse = j->lse ? j->lse + (b * j->H + h) * j->T : NULL;
    a.qs = Cq; a.ks = Ck; a.T = j->T; a.pos0 = j->pos0; a.d = j->d;
    return a;
}

/* Forward: one task per (b, head). Backward: one per (b, kv head), which owns dk and dv of
   that kv head, so no races. */
static void rl__attn_task(void *ctx, int64_t b0, int64_t b1, int tid) {
    rl__attn_job *j = (rl__attn_job *)ctx;
    float *mem = rl__scratch_at(&j->sc, tid);
    rl__mmbuf mb = {rl__kern_get(), mem, j->ap};
    int64_t task, G = j->H / j->KVH, hh;
    for (task = b0; task < b1; task++)
        for (hh = 0; hh < (j->bwd ? G : 1); hh++) {
            rl__attn_head a = j->bwd ? rl__attn_head_at(j, task / j->KVH, task % j->KVH * G + hh) : rl__attn_head_at(j, task / j->H, task % j->H);
            if (j->bwd) rl__attn_bwd_blocks(&a, &mb, mem + j->pk);
            else rl__attn_fwd_blocks(&a, &mb, mem + j->pk);
        }
}

/* Runs the forward (bwd = 0) or the backward of job j over the pool; 0 = out of memory */
static int rl__attn_run(rl_pool *pool, rl__attn_job *j, int bwd) {
    const rl__kern *K = rl__kern_get();
    int blocks = bwd || j->T >= RL__ATT_MIN; /* else (decoding) one query row at a time, no pack buffers */
    j->bwd = bwd; j->ap = (int64_t)K->mc * K->kc; j->pk = blocks ? rl__mmbuf_floats(j->ap) : 0;
    if (!rl__scratch_alloc(&j->sc, pool, (size_t)(j->pk + (bwd ? 2 : 1) * (blocks ? RL__ATT_BQ + j->d : 1) * (j->pos0 + j->T)))) return 0;
    rl_pool_for(pool, j->B * (bwd ? j->KVH : j->H), 1, rl__attn_task, j);
    rl__scratch_free(&j->sc);
    return 1;
}

/* the host's entries (rl__ops.attention, attention_bwd): the job over the pool */
static int rl__cpu_attention_run(void *q, float *y, float *lse, const float *Q, const float *K, const float *V, int64_t B,
                                 int64_t T, int H, int KVH, int d, const float *gy, float *gq, float *gk, float *gv) {
    rl__attn_job j;
    memset(&j, 0, sizeof j);
    j.q = Q; j.k = K; j.v = V; j.o = y; j.lse = lse;
    j.B = B; j.T = T; j.H = H; j.KVH = KVH; j.d = d;
    j.go = gy; j.gq = gq; j.gk = gk; j.gv = gv;
    if (!rl__attn_run((rl_pool *)q, &j, gy != NULL)) return (int)rl__fail(RL_ERR_NOMEM, "out of memory for scratch");
    return 0;
}
static int rl__cpu_attention(void *q, float *y, float *lse, const float *Q, const float *K, const float *V, int64_t B, int64_t T,
                             int H, int KVH, int d) {
    return rl__cpu_attention_run(q, y, lse, Q, K, V, B, T, H, KVH, d, NULL, NULL, NULL, NULL);
}
RL__BWD int rl__cpu_attention_bwd(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q, const float *K,
                                 const float *V, const float *y, const float *lse, int64_t B, int64_t T, int H, int KVH, int d) {
    return rl__cpu_attention_run(q, (float *)y, (float *)lse, Q, K, V, B, T, H, KVH, d, gy, gq, gk, gv);
}
static int rl__cpu_attention_cache(void *q, float *y, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int64_t pos0,
                                   int64_t cap, int H, int KVH, int d) {
    rl__attn_job j;
    memset(&j, 0, sizeof j);
    j.q = Q; j.k = K; j.v = V; j.o = y;
    j.B = B; j.T = T; j.pos0 = pos0; j.krows = cap; j.H = H; j.KVH = KVH; j.d = d;
    if (!rl__attn_run((rl_pool *)q, &j, 0)) return (int)rl__fail(RL_ERR_NOMEM, "out of memory for scratch");
    return 0;
}

RL__BWD void rl__attention_bwd(rl_ctx *c, rl__node *n) {
    int64_t T = n->i[0], H = n->i[1];
    float *g[3];
    int i;
    for (i = 0; i < 3; i++)
        if ((g[i] = rl__wants(n->in[i]) ? rl__grad(c, n->in[i]) : NULL) == NULL && rl__wants(n->in[i])) return;
    RL__ON(c, n->out->dev, "attention backward", attention_bwd, g[0], g[1], g[2], n->out->grad, rl_f32(n->in[0]), rl_f32(n->in[1]),
           rl_f32(n->in[2]), rl_f32(n->out), n->aux, rl_rows(n->out) / T, T, (int)H, (int)n->i[2], (int)(rl_cols(n->out) / H));
}

RLDEF rl_tensor *rl_attention(rl_ctx *c, rl_tensor *q, rl_tensor *k, rl_tensor *v, int64_t T, int n_heads, int n_kv_heads) {
    rl_tensor *y;
    rl__node *n;
    int64_t d;
    if (rl__bad_on(c, q, q ? q->dev : NULL) || rl__bad_on(c, k, q->dev) || rl__bad_on(c, v, q->dev)) return NULL;
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
    if (!(n->aux = (float *)rl__alloc_on(c, q->dev, sizeof(float) * (size_t)(rl_rows(q) * n_heads), 0)) ||
        !RL__ON(c, q->dev, "attention", attention, rl_f32(y), n->aux, rl_f32(q), rl_f32(k), rl_f32(v), rl_rows(q) / T, T, n_heads, n_kv_heads, (int)d))
        return NULL;
    return y;
}

/* ---- embedding lookup ---- */

RL__BWD void rl__embedding_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "embedding backward", embedding_bwd, rl__grad(c, n->in[0]), n->out->grad, (const int32_t *)n->cp,
           rl_rows(n->out), rl_cols(n->out));
}
/* ids (host memory) where the op runs: themselves on the host, a copy on a device */
static const int32_t *rl__ids_on(rl_ctx *c, rl_device *d, const int32_t *ids, int64_t n) {
    int32_t *p;
    if (!d) return ids;
    p = (int32_t *)rl__alloc_on(c, d, sizeof(int32_t) * (size_t)(n ? n : 1), 0);
    return p && rl__copy(c, p, d, ids, NULL, sizeof(int32_t) * (size_t)n) ? p : NULL;
}
RLDEF rl_tensor *rl_embedding(rl_ctx *c, const int32_t *ids, int64_t n_ids, rl_tensor *E) {
    rl_tensor *y;
    rl__node *n;
    int64_t r, shape[2];
    const int32_t *dids;
    if (c->prof) rl__prof_boundary(c);
    if (!E || c->err) return NULL;
    if (E->ndim != 2 || (E->dtype != RL_F32 && E->dtype != RL_BF16 && E->dtype != RL_F16 && !RL_DTYPE_IS_GGML(E->dtype)))
        return rl__op_fail(c, RL_ERR_ARG, "embedding: table must be a 2-D F32, BF16, F16 or GGUF block tensor");
    if (E->dev && E->dtype != RL_F32 && E->dtype != RL_BF16)
        return rl__op_fail(c, RL_ERR_ARG, "embedding: a table on %s must be F32 or BF16", rl_device_name(E->dev));
    for (r = 0; r < n_ids; r++)
        if (ids[r] < 0 || ids[r] >= E->shape[0])
            return rl__op_fail(c, RL_ERR_ARG, "embedding: token id %d at position %lld is outside the vocabulary [0, %lld)", ids[r], (long long)r, (long long)E->shape[0]);
    shape[0] = n_ids;
    shape[1] = E->shape[1];
    if (!(y = rl__new_on(c, E->dev, 2, shape)) || !(dids = rl__ids_on(c, E->dev, ids, n_ids)) ||
        !RL__ON(c, E->dev, "embedding", embedding, rl_f32(y), E->data, (int)E->dtype, dids, n_ids, shape[1]))
        return NULL;
    if ((n = rl__node_new(c, rl__embedding_bwd, y, E, NULL, NULL, NULL))) n->cp = dids;
    return y;
}

/* ---- losses ---- */

/* cross entropy, mean over rows whose target is >= 0 (negative = ignored) */
RL__BWD void rl__ce_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "cross_entropy backward", cross_entropy_bwd, rl__grad(c, n->in[0]), n->out->grad, rl_f32(n->in[0]), n->aux,
           (const int32_t *)n->cp, rl_rows(n->in[0]), rl_cols(n->in[0]), n->f[0]);
}
RLDEF rl_tensor *rl_cross_entropy(rl_ctx *c, rl_tensor *logits, const int32_t *targets) {
    rl_tensor *y;
    rl__node *n;
    int64_t V, R, r, cnt = 0, one = 1;
    const int32_t *dtg;
    if (rl__bad_on(c, logits, logits ? logits->dev : NULL)) return NULL;
    V = rl_cols(logits);
    R = rl_rows(logits);
    for (r = 0; r < R; r++) {
        if (targets[r] >= V) return rl__op_fail(c, RL_ERR_ARG, "cross_entropy: target %d at row %lld is outside [0, %lld)", targets[r], (long long)r, (long long)V);
        cnt += targets[r] >= 0;
    }
    if (!(y = rl__new_on(c, logits->dev, 1, &one)) || !(n = rl__node_new(c, rl__ce_bwd, y, logits, NULL, NULL, NULL)) ||
        !(n->cp = dtg = rl__ids_on(c, logits->dev, targets, R)) || !(n->aux = (float *)rl__alloc_on(c, logits->dev, sizeof(float) * (size_t)R, 0)))
        return NULL;
    n->f[0] = cnt ? 1.0f / (float)cnt : 0.0f;
    if (!RL__ON(c, logits->dev, "cross_entropy", cross_entropy, rl_f32(y), n->aux, rl_f32(logits), dtg, R, V, n->f[0])) return NULL;
    return y;
}

/* KL(teacher ‖ student) = mean over rows of Σ_v p_t (log p_t − log p_s), temperature 1;
   aux per row: log-partitions of the student and the teacher, the row's KL */
RL__BWD void rl__kl_bwd(rl_ctx *c, rl__node *n) {
    float *gs = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gt = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    RL__ON(c, n->out->dev, "kl_div backward", kl_div_bwd, gs, gt, n->out->grad, rl_f32(n->in[0]), rl_f32(n->in[1]), n->aux,
           rl_rows(n->in[0]), rl_cols(n->in[0]));
}
RLDEF rl_tensor *rl_kl_div(rl_ctx *c, rl_tensor *student_logits, rl_tensor *teacher_logits) {
    rl_tensor *y, *s = student_logits, *t = teacher_logits;
    rl__node *n;
    int64_t one = 1;
    if (rl__bad_on(c, s, s ? s->dev : NULL) || rl__bad_on(c, t, s->dev) || !rl__same(c, "kl_div", s, t)) return NULL;
    if (!(y = rl__new_on(c, s->dev, 1, &one)) || !(n = rl__node_new(c, rl__kl_bwd, y, s, t, NULL, NULL)) ||
        !(n->aux = (float *)rl__alloc_on(c, s->dev, sizeof(float) * 3 * (size_t)rl_rows(s), 0)) ||
        !RL__ON(c, s->dev, "kl_div", kl_div, rl_f32(y), n->aux, rl_f32(s), rl_f32(t), rl_rows(s), rl_cols(s)))
        return NULL;
    return y;
}

/* RADLADS step-1 loss: mean over rows of ‖y − t‖₂ / √cols; aux: the rows' norms */
RL__BWD void rl__l2_dist_bwd(rl_ctx *c, rl__node *n) {
    float *gy = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL;
    float *gt = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    RL__ON(c, n->out->dev, "l2_dist backward", l2_dist_bwd, gy, gt, n->out->grad, rl_f32(n->in[0]), rl_f32(n->in[1]), n->aux,
           rl_rows(n->in[0]), rl_cols(n->in[0]));
}
RLDEF rl_tensor *rl_l2_dist(rl_ctx *c, rl_tensor *y, rl_tensor *target) {
    rl_tensor *out;
    rl__node *n;
    int64_t one = 1;
    if (rl__bad_on(c, y, y ? y->dev : NULL) || rl__bad_on(c, target, y->dev) || !rl__same(c, "l2_dist", y, target)) return NULL;
    if (!(out = rl__new_on(c, y->dev, 1, &one)) || !(n = rl__node_new(c, rl__l2_dist_bwd, out, y, target, NULL, NULL)) ||
        !(n->aux = (float *)rl__alloc_on(c, y->dev, sizeof(float) * (size_t)rl_rows(y), 0)) ||
        !RL__ON(c, y->dev, "l2_dist", l2_dist, rl_f32(out), n->aux, rl_f32(y), rl_f32(target), rl_rows(y), rl_cols(y)))
        return NULL;
    return out;
}

RL__BWD void rl__sum_bwd(rl_ctx *c, rl__node *n) {
    int64_t i;
    float *gx = rl__grad(c, n->in[0]);
    const float *w = (const float *)n->cp;
    if (!w) {
        RL__ON(c, n->out->dev, "sum backward", sum_bwd, gx, n->out->grad, n->in[0]->n);
        return;
    }
    for (i = 0; i < n->in[0]->n; i++) gx[i] += n->out->grad[0] * w[i];
}
RLDEF rl_tensor *rl_dot_const(rl_ctx *c, rl_tensor *x, const float *w) {
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
RLDEF rl_tensor *rl_sum(rl_ctx *c, rl_tensor *x) {
    int64_t one = 1;
    rl_tensor *y;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !(y = rl__new_on(c, x->dev, 1, &one)) || !RL__ON(c, x->dev, "sum", sum, rl_f32(y), rl_f32(x), x->n))
        return NULL;
    rl__node_new(c, rl__sum_bwd, y, x, NULL, NULL, NULL);
    return y;
}

/* ---- x + s ---- */

RL__BWD void rl__add_scalar_bwd(rl_ctx *c, rl__node *n) {
    RL__ON(c, n->out->dev, "add_scalar backward", axpy, rl__grad(c, n->in[0]), 1.0f, n->out->grad, n->out->n);
}
RLDEF rl_tensor *rl_add_scalar(rl_ctx *c, rl_tensor *x, float s) {
    rl_tensor *y;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || !(y = rl__like(c, x)) || !RL__ON(c, x->dev, "add_scalar", affine, rl_f32(y), rl_f32(x), 1.0f, s, x->n))
        return NULL;
    rl__node_new(c, rl__add_scalar_bwd, y, x, NULL, NULL, NULL);
    return y;
}

/* ---- moves of rows and column blocks: slice, GQA head expansion, token shift, last rows ----
   Each is one or a few strided copies (copy3d) forward, and the same added back backward. */

RL__BWD void rl__slice_cols_bwd(rl_ctx *c, rl__node *n) {
    int64_t R = rl_rows(n->out), L = rl_cols(n->out), C = rl_cols(n->in[0]);
    RL__ON(c, n->out->dev, "slice_cols backward", copy3d, rl__grad(c, n->in[0]) + n->i[0], 0, C, n->out->grad, 0, L, 1, R, L, 1);
}
RLDEF rl_tensor *rl_slice_cols(rl_ctx *c, rl_tensor *x, int64_t start, int64_t len) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, C, shape[2];
    if (rl__bad_on(c, x, x ? x->dev : NULL)) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    if (start < 0 || len < 1 || start + len > C)
        return rl__op_fail(c, RL_ERR_ARG, "slice_cols: [%lld, %lld) is outside rows of %lld", (long long)start, (long long)(start + len), (long long)C);
    shape[0] = R;
    shape[1] = len;
    if (!(y = rl__new_on(c, x->dev, 2, shape)) || !RL__ON(c, x->dev, "slice_cols", copy3d, rl_f32(y), 0, len, rl_f32(x) + start, 0, C, 1, R, len, 0) ||
        !(n = rl__node_new(c, rl__slice_cols_bwd, y, x, NULL, NULL, NULL)))
        return NULL;
    n->i[0] = start;
    return y;
}

/* query head h of every row from kv head h / (H/KVH): one strided copy per query head */
static int rl__repeat_kv_run(rl_ctx *c, rl_device *d, float *y, const float *x, int64_t R, int64_t H, int64_t KVH, int64_t hd, int bwd) {
    int64_t h;
    for (h = 0; h < H; h++) {
        float *yh = y + h * hd, *xh = (float *)x + (h / (H / KVH)) * hd;
        if (!(bwd ? RL__ON(c, d, "repeat_kv backward", copy3d, xh, 0, KVH * hd, yh, 0, H * hd, 1, R, hd, 1)
                  : RL__ON(c, d, "repeat_kv", copy3d, yh, 0, H * hd, xh, 0, KVH * hd, 1, R, hd, 0)))
            return 0;
    }
    return 1;
}
RL__BWD void rl__repeat_kv_bwd(rl_ctx *c, rl__node *n) {
    int64_t H = n->i[0], KVH = n->i[1];
    float *gx = rl__grad(c, n->in[0]);
    if (gx) rl__repeat_kv_run(c, n->out->dev, n->out->grad, gx, rl_rows(n->out), H, KVH, rl_cols(n->out) / H, 1);
}
RLDEF rl_tensor *rl_repeat_kv(rl_ctx *c, rl_tensor *x, int heads, int kv_heads) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, d, shape[2];
    if (rl__bad_on(c, x, x ? x->dev : NULL)) return NULL;
    if (kv_heads < 1 || heads % kv_heads || rl_cols(x) % kv_heads)
        return rl__op_fail(c, RL_ERR_ARG, "repeat_kv: %d heads from %d kv heads over rows of %lld", heads, kv_heads, (long long)rl_cols(x));
    R = rl_rows(x);
    d = rl_cols(x) / kv_heads;
    shape[0] = R;
    shape[1] = heads * d;
    if (!(y = rl__new_on(c, x->dev, 2, shape)) || !rl__repeat_kv_run(c, x->dev, rl_f32(y), rl_f32(x), R, heads, kv_heads, d, 0) ||
        !(n = rl__node_new(c, rl__repeat_kv_bwd, y, x, NULL, NULL, NULL)))
        return NULL;
    n->i[0] = heads;
    n->i[1] = kv_heads;
    return y;
}

/* ---- token shift ---- */

RL__BWD void rl__token_shift_bwd(rl_ctx *c, rl__node *n) {
    int64_t T = n->i[0], C = rl_cols(n->out), B = rl_rows(n->out) / T;
    const float *g = n->out->grad;
    if (rl__wants(n->in[0]) && T > 1) /* row t of x feeds row t + 1 of y */
        RL__ON(c, n->out->dev, "token_shift backward", copy3d, rl__grad(c, n->in[0]), T * C, C, g + C, T * C, C, B, T - 1, C, 1);
    if (rl__wants(n->in[1])) RL__ON(c, n->out->dev, "token_shift backward", copy3d, rl__grad(c, n->in[1]), C, C, g, T * C, C, B, 1, C, 1);
}
RLDEF rl_tensor *rl_token_shift(rl_ctx *c, rl_tensor *x, int64_t T, rl_tensor *shift_in) {
    rl_tensor *y;
    rl__node *n;
    int64_t R, C, B;
    if (rl__bad_on(c, x, x ? x->dev : NULL) || (shift_in && rl__bad_on(c, shift_in, x->dev))) return NULL;
    R = rl_rows(x);
    C = rl_cols(x);
    if (T < 1 || R % T || (shift_in && shift_in->n != (R / T) * C))
        return rl__op_fail(c, RL_ERR_ARG, "token_shift: %lld rows are not whole sequences of %lld, or shift state is not [%lld, %lld]",
                           (long long)R, (long long)T, (long long)(R / (T > 0 ? T : 1)), (long long)C);
    B = R / T;
    if (!(y = rl__like(c, x)) || !(n = rl__node_new(c, rl__token_shift_bwd, y, x, shift_in, NULL, NULL))) return NULL;
    n->i[0] = T;
    if (T > 1 && !RL__ON(c, x->dev, "token_shift", copy3d, rl_f32(y) + C, T * C, C, rl_f32(x), T * C, C, B, T - 1, C, 0)) return NULL;
    if (shift_in && !RL__ON(c, x->dev, "token_shift", copy3d, rl_f32(y), T * C, C, rl_f32(shift_in), C, C, B, 1, C, 0)) return NULL;
    return y;
}

/* ---- rl_to: a tensor to another place; backward, its gradient back ---- */

RL__BWD void rl__to_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *x = n->in[0], *y = n->out;
    size_t bytes = sizeof(float) * (size_t)y->n;
    float *gx = rl__grad(c, x), *back = gx ? (float *)rl__zalloc_on(c, x->dev, bytes) : NULL;
    if (back && rl__copy(c, back, x->dev, y->grad, y->dev, bytes)) RL__ON(c, x->dev, "rl_to backward", axpy, gx, 1.0f, back, x->n);
}
RLDEF rl_tensor *rl_to(rl_ctx *c, rl_tensor *x, rl_device *d) {
    rl_tensor *y;
    size_t elem;
    if (c->prof) rl__prof_boundary(c);
    if (!x || c->err) return NULL;
    if (x->dtype != RL_F32 && (x->dtype != RL_BF16 || x->requires_grad))
        return rl__op_fail(c, RL_ERR_ARG, "rl_to %s: only F32 tensors, and frozen BF16 ones, move", x->name ? x->name : "");
    elem = x->dtype == RL_F32 ? sizeof(float) : sizeof(uint16_t);
    if (!(y = rl__new_on(c, d, x->ndim, x->shape))) return NULL;
    y->dtype = x->dtype;
    y->name = x->name;
    if (!rl__copy(c, y->data, d, x->data, x->dev, elem * (size_t)x->n)) return NULL;
    rl__node_new(c, rl__to_bwd, y, x, NULL, NULL, NULL);
    return y;
}



/* ---- a CUDA device's table: radlads_cuda.cu's twins ---- */
#ifdef RADLADS_CUDA
static int rl__cuda_gemm(void *q, int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B,
                         int b_type, int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int acc, int bf16) {
    RL__UNUSED(q);
    return rl_cuda_gemm(M, N, K, A, a_rs, a_cs, B, b_type == RL_BF16, b_rs, b_cs, C, ldc, acc, bf16 ? 2 : 0);
}
static int rl__cuda_scan(rl_ctx *c, rl__node *n, int bwd); /* section 4a */
static int rl__cuda_adamw(void *q, float *p, float *g, float *m, float *v, int64_t n, const rl__adam_hp *hp) {
    return rl_cuda_adamw(q, p, g, m, v, n, hp->lr, hp->beta1, hp->beta2, hp->eps, hp->wd, hp->scale, hp->b1c, hp->b2c);
}
static int rl__cuda_embedding(void *q, float *y, const void *E, int e_type, const int32_t *ids, int64_t n, int64_t C) {
    return rl_cuda_embedding(q, y, E, e_type == RL_BF16, ids, n, C); /* rl_embedding lets F32 and BF16 tables onto a device */
}
static const rl__ops rl__cuda_ops = {
    "cuda", rl_cuda_last_error, rl_cuda_malloc, rl_cuda_free, rl_cuda_zero, rl_cuda_copy, rl_cuda_device_name, rl_cuda_mem_info,
    rl_cuda_add, rl_cuda_axpy, rl_cuda_mul, rl_cuda_rowvec, rl_cuda_colsum, rl__cuda_gemm,
    rl_cuda_rmsnorm, rl_cuda_rmsnorm_bwd, rl_cuda_unary, rl_cuda_unary_bwd, rl_cuda_swiglu, rl_cuda_swiglu_bwd, rl_cuda_unbalance, rl_cuda_unbalance_bwd,
    rl_cuda_sum, rl_cuda_sum_bwd, rl_cuda_affine, rl_cuda_copy3d, rl__cuda_embedding, rl_cuda_embedding_bwd, rl_cuda_rope,
    rl_cuda_l2norm, rl_cuda_l2norm_bwd, rl_cuda_groupnorm, rl_cuda_groupnorm_bwd, rl_cuda_softmax, rl_cuda_softmax_bwd,
    rl_cuda_cross_entropy, rl_cuda_cross_entropy_bwd, rl_cuda_kl_div, rl_cuda_kl_div_bwd, rl_cuda_kl_chunk, rl_cuda_kl_chunk_bwd, rl_cuda_l2_dist, rl_cuda_l2_dist_bwd,
    rl_cuda_attention, rl_cuda_attention_bwd, rl_cuda_attention_cache, rl__cuda_scan, rl_cuda_sumsq, rl__cuda_adamw,
};
static rl_device rl__cuda_device = {&rl__cuda_ops, NULL};
RLDEF rl_device *rl_device_cuda(void) {
    if (!rl_cuda_available()) {
        rl__fail(RL_ERR_UNSUPPORTED, "no usable CUDA device: %s", rl_cuda_last_error());
        return NULL;
    }
    return &rl__cuda_device;
}
#else
RLDEF rl_device *rl_device_cuda(void) {
    rl__fail(RL_ERR_UNSUPPORTED, "this program was built without RADLADS_CUDA (radlads_cuda.cu)");
    return NULL;
}
#endif


/* ==== 4. models ============================================================ */

/* ---- 4a. the RWKV scans as autodiff ops ----
   Each scan has two exact forms, picked by rl_ctx.scan_chunk:
   * recurrent: the token-by-token recurrence, fp32, the naive twin (decoding is T = 1);
   * chunked: chunks of L tokens in closed form, whose work is small matrix products run
     by the GEMM micro-kernel of 2b (the default for training; see RL__SCAN_L).
   One task per (sequence, head). When a gradient will be needed the forward keeps the
   state at the start of every chunk (every L tokens); the backward walks the chunks
   backwards from those states, recomputing what it needs, so it never divides by the
   decay and is exact whatever it is.
   Node inputs: RWKV6 in[] = r, k, v, logw, state; RWKV7 in[] = r, w, k, v, a, b, state.
   out2 is the final state. */
#define RL__SCAN_CK 16     /* kept-state spacing of the GPU scans (radlads_cuda.cu RL_CK) */
#define RL__SCAN_L 16      /* default chunk length (measured: BENCHMARKS.md, make bench-scan) */
#define RL__SCAN_LIM 60.0f /* largest |Σ log w| inside a chunk that the chunked form takes */

typedef struct {
    rl__node *n;
    int64_t B, T, H, KVH, N, L, n_ck; /* L: chunk length = kept-state spacing */
    int chunked;                      /* 1: chunked form, 0: recurrent */
    float *ck; /* kept states: [B*H][n_ck][N*N], NULL when no gradient is needed */
    float *sa; /* RWKV7 on a device: S_{t-1}·a_t [B*T, H*N] for its backward (else NULL) */
    rl__scratch sc; /* per thread: an rl__scan_ws (while the tasks run) */
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

/* ---- the recurrent backward of one stretch of tokens [s0, s1) ----
   Sb: (s1−s0+1)·N² floats of scratch; Gm = dL/dS at s1 on entry, at s0 on return. */

/* RWKV6, query head h of kv head kvh.  G = dL/dS_t:  G_t += scale·r_tᵀdy_t;  then
   dr = scale·S_t·dy, dk' = G·v, dv += k'·G, dw = Σ_i S_{t−1}⊙G, G_{t−1} = diag(w_t)·G_t. */
static void rl__wkv6_rec_bwd(const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t s1, const float *S0,
                             float *Gm, float *Sb) {
    rl__node *n = j->n;
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, C = H * N, Ck = KVH * N, kvh = h / (H / KVH), t, i, jj;
    size_t NN = (size_t)(N * N);
    float scale = 1.0f / sqrtf((float)N);
    const float *R = rl_f32(n->in[0]), *K = rl_f32(n->in[1]), *V = rl_f32(n->in[2]), *LW = rl_f32(n->in[3]);
    const float *dY = n->out->grad;
    float *dR = rl__wants(n->in[0]) ? n->in[0]->grad : NULL, *dK = rl__wants(n->in[1]) ? n->in[1]->grad : NULL;
    float *dV = rl__wants(n->in[2]) ? n->in[2]->grad : NULL, *dLW = rl__wants(n->in[3]) ? n->in[3]->grad : NULL;
    memcpy(Sb, S0, sizeof(float) * NN);
    for (t = s0; t < s1; t++) {
        int64_t row = b * T + t;
        memcpy(Sb + (t - s0 + 1) * NN, Sb + (t - s0) * NN, sizeof(float) * NN);
        rl__wkv6_step(Sb + (t - s0 + 1) * NN, NULL, K + row * Ck + kvh * N, V + row * Ck + kvh * N, LW + row * C + h * N,
                      NULL, N, scale);
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

/* RWKV7 (S[i][j]): G_t += dy_t·r_tᵀ; dr = S_tᵀdy, dk = Gᵀv, dv = G·k, sa = S_{t−1}·a,
   db = Gᵀsa, dw = Σ_i G⊙S_{t−1}, gb = G·b, da = S_{t−1}ᵀgb, G_{t−1} = G·diag(w) + gb·aᵀ.
   Sb: (s1−s0+1)·N² + 2N floats. */
static void rl__wkv7_rec_bwd(const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t s1, const float *S0,
                             float *Gm, float *Sb) {
    rl__node *n = j->n;
    int64_t N = j->N, T = j->T, C = j->H * N, t, i, jj, q;
    size_t NN = (size_t)(N * N);
    float *sa = Sb + (s1 - s0 + 1) * NN, *gb = sa + N, *d[6];
    for (q = 0; q < 6; q++) d[q] = rl__wants(n->in[q]) ? n->in[q]->grad : NULL;
    memcpy(Sb, S0, sizeof(float) * NN);
    for (t = s0; t < s1; t++) {
        int64_t o = (b * T + t) * C + h * N;
        memcpy(Sb + (t - s0 + 1) * NN, Sb + (t - s0) * NN, sizeof(float) * NN);
        rl__wkv7_step(Sb + (t - s0 + 1) * NN, NULL, rl_f32(n->in[1]) + o, rl_f32(n->in[2]) + o, rl_f32(n->in[3]) + o,
                      rl_f32(n->in[4]) + o, rl_f32(n->in[5]) + o, NULL, N);
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

/* ---- chunked forms ----
   Inside a chunk of `len` tokens that starts from state S0, with c_t = Σ_{u≤t} log w_u (per
   key channel, t counted from the chunk start, c_{−1} = 0) every decay product is
   Π_{s<u≤t} w_u = e^{c_t}·e^{−c_s}. Both factors are formed separately, relative to the
   chunk start, so only |c| ≤ RL__SCAN_LIM (e^60 ≈ 1e26) is needed to stay in fp32's normal
   range. RAD-RWKV7 decays (w > 0.545) give |c| ≤ 39 over 64 tokens; RAD-RWKV6's clamped ones
   (log w ≥ −5) stay inside over a chunk of 16 unless some channel averages below −3.75. A
   chunk that exceeds the limit (or has w ≤ 0 or a non-finite value) runs token by token
   instead, so the result is exact for any input.
   Rows are tokens; every product below is one call of the packed micro-kernel (rl__mm). */

typedef struct { /* per-task scratch of the chunked forms (floats) */
    rl__mmbuf mb; /* the active kernels and the pack buffers */
    float *cl, *EP, *EM, *eL, *dgL, *Gm, *tmp, *QA, *KB, *BKb, *SAV, *X, *P, *dP, *dX, *dQA, *dKB, *dBKb, *dSAV, *Sb;
    float *mem;
} rl__scan_ws;

/* The floats a task's scratch takes; with mem, ws is laid out over mem (allocated by the
   caller before the parallel loop, rl__scratch). */
static int64_t rl__scan_ws_init(rl__scan_ws *ws, float *mem, int64_t L, int64_t N) {
    const rl__kern *K = rl__kern_get();
    int64_t D = RL__MAX(2 * L, N) + 32, LN = 2 * L * N, NN = N * N, tot, q;
    float **f[13];
    ws->mb.K = K;
    ws->mb.ap_cap = RL__MAX((int64_t)K->mc * K->kc, (D + 32) * D);
    /* pack buffers; cl, EP, EM; 12 matrices of 2L×N (or the L×L/N×N ones they alias); P, dP;
       recurrent fallback: (L+1)·N² + 2N; eL, dgL */
    tot = ws->mb.ap_cap + D * (D + 64) + 3 * L * N + 10 * LN + 2 * 4 * L * L + (L + 1) * NN + NN + 6 * N + 64;
    ws->mem = mem;
    if (!mem) return tot;
    ws->mb.pk = ws->mem;
    ws->cl = ws->mb.pk + ws->mb.ap_cap + D * (D + 64);
    ws->EP = ws->cl + L * N;
    ws->EM = ws->EP + L * N;
    f[0] = &ws->QA; f[1] = &ws->KB; f[2] = &ws->BKb; f[3] = &ws->SAV; f[4] = &ws->X;
    f[5] = &ws->dX; f[6] = &ws->dQA; f[7] = &ws->dKB; f[8] = &ws->dBKb; f[9] = &ws->dSAV;
    for (q = 0; q < 10; q++) *f[q] = ws->EM + L * N + q * LN;
    ws->P = ws->EM + L * N + 10 * LN;
    ws->dP = ws->P + 4 * L * L;
    ws->Sb = ws->dP + 4 * L * L;
    ws->eL = ws->Sb + (L + 1) * NN + 2 * N;
    ws->dgL = ws->eL + N;
    ws->Gm = ws->dgL + N;
    ws->tmp = ws->Gm + NN;
    return tot;
}


/* cl[t] = c_t = Σ_{u≤t} log w_u for t < len (rows of x, stride rs; x holds log w when is_log,
   else w), then EP = e^{c}, EM = e^{−c}, eL = e^{c_{len−1}}. 0 = outside the limit. */
static int rl__scan_decays(rl__scan_ws *ws, const float *x, int64_t rs, int64_t len, int64_t N, int is_log) {
    float *cl = ws->cl;
    int64_t t, q;
    int ok = 1;
    for (t = 0; t < len; t++)
        for (q = 0; q < N; q++) {
            float c = (t ? cl[(t - 1) * N + q] : 0.0f) + (is_log ? x[t * rs + q] : logf(x[t * rs + q]));
            cl[t * N + q] = c;
            ok &= c >= -RL__SCAN_LIM && c <= RL__SCAN_LIM; /* false for NaN */
        }
    if (!ok) return 0;
    ws->mb.K->exp(ws->EP, cl, len * N);
    for (q = 0; q < len * N; q++) ws->EM[q] = -cl[q];
    ws->mb.K->exp(ws->EM, ws->EM, len * N);
    memcpy(ws->eL, ws->EP + (len - 1) * N, sizeof(float) * (size_t)N);
    return 1;
}

/* ---- RWKV7 chunk (S[i][j], value i, key j) ----
   Unrolling S_t = S_{t−1}(diag(w_t) + a_t b_tᵀ) + v_t k_tᵀ from S0, with sa_t = S_{t−1}a_t:
     S_t  = [S0 + Σ_{s≤t} (sa_s B̂_sᵀ + v_s K̂_sᵀ)] diag(e^{c_t})
     sa_t = S0 Â_t + Σ_{s<t} (Â_t·B̂_s) sa_s + Σ_{s<t} (Â_t·K̂_s) v_s
     y_t  = S0 R̂_t + Σ_{s≤t} (R̂_t·B̂_s) sa_s + Σ_{s≤t} (R̂_t·K̂_s) v_s
   with Â_t = a_t⊙e^{c_{t−1}}, R̂_t = r_t⊙e^{c_t}, B̂_s = b_s⊙e^{−c_s}, K̂_s = k_s⊙e^{−c_s}.
   As matrices over the chunk (rows = tokens), QA = [Â;R̂], KB = [B̂;K̂] (2len×N), SAV = [SA;V]:
     P  = QA·KBᵀ = [M_ab M_ak; M_rb M_rk]   (M_a· strictly lower, M_r· lower triangular)
     X  = QA·S0ᵀ;  U = X_top + M_ak·V;  SA = (I − M_ab)⁻¹ U   (forward substitution)
     Y  = X_bot + [M_rb M_rk]·SAV
     S_L = S0 diag(e^{c_L}) + SAVᵀ·BKb,  BKb = [B̂;K̂]⊙e^{c_L}  (= b, k ⊙ e^{c_L − c_s})
   rl__wkv7_chunk_prep computes everything up to SA; it needs |c| ≤ RL__SCAN_LIM. */
static int rl__wkv7_chunk_prep(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len,
                               const float *S0) {
    rl__node *n = j->n;
    const rl__kern *K = ws->mb.K;
    int64_t N = j->N, C = j->H * N, o0 = (b * j->T + s0) * C + h * N, L2 = 2 * len, t, s;
    const float *R = rl_f32(n->in[0]) + o0, *W = rl_f32(n->in[1]) + o0, *Kk = rl_f32(n->in[2]) + o0;
    const float *V = rl_f32(n->in[3]) + o0, *A = rl_f32(n->in[4]) + o0, *Bb = rl_f32(n->in[5]) + o0;
    float *QA = ws->QA, *KB = ws->KB, *BKb = ws->BKb, *SAV = ws->SAV, *X = ws->X, *P = ws->P;
    if (!rl__scan_decays(ws, W, C, len, N, 0)) return 0;
    for (t = 0; t < len; t++) {
        const float *ep = ws->EP + t * N, *em = ws->EM + t * N;
        if (t) K->mul(QA + t * N, A + t * C, ep - N, N);  /* Â_t = a_t⊙e^{c_{t−1}} */
        else memcpy(QA, A, sizeof(float) * (size_t)N);
        K->mul(QA + (len + t) * N, R + t * C, ep, N);      /* R̂_t = r_t⊙e^{c_t} */
        K->mul(KB + t * N, Bb + t * C, em, N);             /* B̂_t = b_t⊙e^{−c_t} */
        K->mul(KB + (len + t) * N, Kk + t * C, em, N);     /* K̂_t = k_t⊙e^{−c_t} */
        K->mul(BKb + t * N, KB + t * N, ws->eL, N);        /* B̄_t = b_t⊙e^{c_L−c_t} */
        K->mul(BKb + (len + t) * N, KB + (len + t) * N, ws->eL, N);
        memcpy(SAV + (len + t) * N, V + t * C, sizeof(float) * (size_t)N);
    }
    rl__mm(&ws->mb, L2, L2, N, QA, N, 1, KB, 1, N, P, L2, 0); /* P = QA·KBᵀ */
    for (t = 0; t < len; t++)
        for (s = 0; s < len; s++) {
            if (s >= t) P[t * L2 + s] = P[t * L2 + len + s] = 0.0f;                   /* M_ab, M_ak: s < t */
            if (s > t) P[(len + t) * L2 + s] = P[(len + t) * L2 + len + s] = 0.0f;   /* M_rb, M_rk: s ≤ t */
        }
    rl__mm(&ws->mb, L2, N, N, QA, N, 1, S0, 1, N, X, N, 0);                       /* X = QA·S0ᵀ */
    rl__mm(&ws->mb, len, N, len, P + len, L2, 1, SAV + len * N, N, 1, X, N, 1); /* U = X_top + M_ak·V */
    for (t = 0; t < len; t++) { /* SA_t = U_t + Σ_{s<t} M_ab[t][s]·SA_s */
        memcpy(SAV + t * N, X + t * N, sizeof(float) * (size_t)N);
        for (s = 0; s < t; s++) K->axpy(SAV + t * N, P[t * L2 + s], SAV + s * N, N);
    }
    return 1;
}

/* forward of one chunk: y rows, S (= S0 on entry) ← S_L. 0 = not taken (run token by token) */
static int rl__wkv7_chunk_fwd(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len,
                              float *S) {
    int64_t N = j->N, C = j->H * N, L2 = 2 * len, t, i;
    float *Y = rl_f32(j->n->out) + (b * j->T + s0) * C + h * N;
    if (!rl__wkv7_chunk_prep(ws, j, b, h, s0, len, S)) return 0;
    rl__mm(&ws->mb, len, N, L2, ws->P + len * L2, L2, 1, ws->SAV, N, 1, ws->X + len * N, N, 1); /* Y = X_bot + [M_rb M_rk]·SAV */
    for (t = 0; t < len; t++) memcpy(Y + t * C, ws->X + (len + t) * N, sizeof(float) * (size_t)N);
    for (i = 0; i < N; i++) ws->mb.K->mul(S + i * N, S + i * N, ws->eL, N);    /* S0·diag(e^{c_L}) */
    rl__mm(&ws->mb, N, N, L2, ws->SAV, 1, N, ws->BKb, N, 1, S, N, 1);            /* + SAVᵀ·BKb */
    return 1;
}

/* backward of one chunk. G = dL/dS_L on entry, dL/dS0 on return; gradients added.
   Reverse of the forward above, step by step (d = dL/d·):
     dSAV = BKb·Gᵀ,  dBKb = SAV·G,  dc_L += (Σ_i S0⊙G)⊙e^{c_L},  G0 = G·diag(e^{c_L})
     dP_bot = dY·SAVᵀ (masked),  dSAV += [M_rb M_rk]ᵀ·dY
     dU = (I − M_ab)⁻ᵀ dSA (back substitution),  dP_top = dU·SAVᵀ (masked),  dV += M_akᵀ·dU
     dQA = [dU;dY]·S0 + dP·KB,  dKB = dPᵀ·QA,  G0 += [dU;dY]ᵀ·QA
   then through Â, R̂, B̂, K̂, BKb to a, r, b, k and to c (dX⊙X for X = x⊙e^{±c}), and
   d log w_u = Σ_{t≥u} dc_t, dw = d log w / w. */
static int rl__wkv7_chunk_bwd(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len,
                              const float *S0, float *G) {
    rl__node *n = j->n;
    const rl__kern *K = ws->mb.K;
    int64_t N = j->N, C = j->H * N, o0 = (b * j->T + s0) * C + h * N, L2 = 2 * len, t, s, q, i;
    float *QA = ws->QA, *KB = ws->KB, *BKb = ws->BKb, *SAV = ws->SAV, *P = ws->P, *dP = ws->dP, *dX = ws->dX;
    float *dQA = ws->dQA, *dKB = ws->dKB, *dBKb = ws->dBKb, *dSAV = ws->dSAV, *dc = ws->cl, *d[6];
    const float *dY = n->out->grad ? n->out->grad + o0 : NULL, *W = rl_f32(n->in[1]) + o0;
    if (!rl__wkv7_chunk_prep(ws, j, b, h, s0, len, S0)) return 0;
    for (q = 0; q < 6; q++) d[q] = rl__wants(n->in[q]) ? n->in[q]->grad + o0 : NULL;
    /* through S_L = S0 diag(e^{c_L}) + SAVᵀ·BKb */
    rl__mm(&ws->mb, L2, N, N, BKb, N, 1, G, 1, N, dSAV, N, 0);
    rl__mm(&ws->mb, L2, N, N, SAV, N, 1, G, N, 1, dBKb, N, 0);
    memset(ws->dgL, 0, sizeof(float) * (size_t)N); /* Σ_i S0⊙G */
    for (i = 0; i < N; i++) {
        K->mul(ws->tmp, S0 + i * N, G + i * N, N);
        K->add(ws->dgL, ws->dgL, ws->tmp, N);
    }
    for (i = 0; i < N; i++) K->mul(G + i * N, G + i * N, ws->eL, N);
    /* through Y = X_bot + [M_rb M_rk]·SAV */
    memset(dP, 0, sizeof(float) * (size_t)(L2 * L2));
    if (dY) {
        for (t = 0; t < len; t++) memcpy(dX + (len + t) * N, dY + t * C, sizeof(float) * (size_t)N);
        rl__mm(&ws->mb, len, L2, N, dX + len * N, N, 1, SAV, 1, N, dP + len * L2, L2, 0);
        for (t = 0; t < len; t++)
            for (s = t + 1; s < len; s++) dP[(len + t) * L2 + s] = dP[(len + t) * L2 + len + s] = 0.0f;
        rl__mm(&ws->mb, L2, N, len, P + len * L2, 1, L2, dX + len * N, N, 1, dSAV, N, 1);
    } else {
        memset(dX + len * N, 0, sizeof(float) * (size_t)(len * N));
    }
    /* through SA = (I − M_ab)⁻¹ U:  dU_s = dSA_s + Σ_{t>s} M_ab[t][s]·dU_t */
    for (s = len - 1; s >= 0; s--) {
        memcpy(dX + s * N, dSAV + s * N, sizeof(float) * (size_t)N);
        for (t = s + 1; t < len; t++) K->axpy(dX + s * N, P[t * L2 + s], dX + t * N, N);
    }
    rl__mm(&ws->mb, len, L2, N, dX, N, 1, SAV, 1, N, dP, L2, 0); /* [dM_ab dM_ak] = dU·SAVᵀ, strictly lower */
    for (t = 0; t < len; t++)
        for (s = t; s < len; s++) dP[t * L2 + s] = dP[t * L2 + len + s] = 0.0f;
    rl__mm(&ws->mb, len, N, len, P + len, 1, L2, dX, N, 1, dSAV + len * N, N, 1); /* dV += M_akᵀ·dU */
    /* through X = QA·S0ᵀ and P = QA·KBᵀ */
    rl__mm(&ws->mb, L2, N, N, dX, N, 1, S0, N, 1, dQA, N, 0);
    rl__mm(&ws->mb, N, N, L2, dX, 1, N, QA, N, 1, G, N, 1);
    rl__mm(&ws->mb, L2, N, L2, dP, L2, 1, KB, N, 1, dQA, N, 1);
    rl__mm(&ws->mb, L2, N, L2, dP, 1, L2, QA, N, 1, dKB, N, 0);
    /* to the inputs (x̂ = x⊙e^{±c} gives dx = dx̂⊙e^{±c}), and dc per key channel (dx̂⊙x̂, with
       the sign of the exponent); dgL collects dc_L = (Σ_i S0⊙G)⊙e^{c_L} + Σ_t dB̄⊙B̄ + dK̄⊙K̄ */
    K->mul(ws->dgL, ws->dgL, ws->eL, N);
    for (t = 0; t < len; t++) {
        float *dct = dc + t * N, *tmp = ws->tmp;
        const float *ep = ws->EP + t * N, *em = ws->EM + t * N;
        int64_t u = t * N, v = (len + t) * N;
        if (d[4]) { /* da = dÂ⊙e^{c_{t−1}} */
            if (t) K->mul(tmp, dQA + u, ep - N, N);
            K->add(d[4] + t * C, d[4] + t * C, t ? tmp : dQA + u, N);
        }
        if (d[0]) { /* dr = dR̂⊙e^{c_t} */
            K->mul(tmp, dQA + v, ep, N);
            K->add(d[0] + t * C, d[0] + t * C, tmp, N);
        }
        if (d[3]) K->add(d[3] + t * C, d[3] + t * C, dSAV + v, N);
        /* dc_t = dR̂⊙R̂ − dB̂⊙B̂ − dK̂⊙K̂ − dB̄⊙B̄ − dK̄⊙K̄ + dÂ_{t+1}⊙Â_{t+1};  dc_L += dB̄⊙B̄ + dK̄⊙K̄ */
        K->mul(dct, dQA + v, QA + v, N);
        K->mul(tmp, dKB + u, KB + u, N);
        K->sub(dct, dct, tmp, N);
        K->mul(tmp, dKB + v, KB + v, N);
        K->sub(dct, dct, tmp, N);
        K->mul(tmp, dBKb + u, BKb + u, N);
        K->add(ws->dgL, ws->dgL, tmp, N);
        K->sub(dct, dct, tmp, N);
        K->mul(tmp, dBKb + v, BKb + v, N);
        K->add(ws->dgL, ws->dgL, tmp, N);
        K->sub(dct, dct, tmp, N);
        if (t + 1 < len) {
            K->mul(tmp, dQA + u + N, QA + u + N, N);
            K->add(dct, dct, tmp, N);
        }
        /* db = (dB̂ + dB̄⊙e^{c_L})⊙e^{−c_t}, dk likewise */
        K->mul(tmp, dBKb + u, ws->eL, N);
        K->add(tmp, tmp, dKB + u, N);
        K->mul(tmp, tmp, em, N);
        if (d[5]) K->add(d[5] + t * C, d[5] + t * C, tmp, N);
        K->mul(tmp, dBKb + v, ws->eL, N);
        K->add(tmp, tmp, dKB + v, N);
        K->mul(tmp, tmp, em, N);
        if (d[2]) K->add(d[2] + t * C, d[2] + t * C, tmp, N);
    }
    for (q = 0; q < N; q++) dc[(len - 1) * N + q] += ws->dgL[q];
    for (t = len - 1; t >= 0; t--) /* d log w_t = Σ_{u≥t} dc_u;  dw = d log w / w */
        for (q = 0; q < N; q++) {
            if (t < len - 1) dc[t * N + q] += dc[(t + 1) * N + q];
            if (d[1]) d[1][t * C + q] += dc[t * N + q] / W[t * C + q];
        }
    return 1;
}

/* ---- RWKV6 chunk (S[j][i], key j, value i; k' = k⊙(1−w); scale = N^-½) ----
   Unrolling S_t = diag(w_t) S_{t−1} + k'_tᵀ v_t from S0:
     S_t = diag(e^{c_t}) [S0 + Σ_{s≤t} K̂_sᵀ v_s],   o_t = R̂_t S0 + Σ_{s≤t} (R̂_t·K̂_s) v_s
   with R̂_t = scale·r_t⊙e^{c_t}, K̂_s = k'_s⊙e^{−c_s}. As matrices over the chunk:
     P = tril(R̂·K̂ᵀ),   O = R̂·S0 + P·V,   S_L = diag(e^{c_L}) S0 + K̄ᵀ·V,  K̄ = K̂⊙e^{c_L}.
   Buffers: R̂ → QA, K̂ → KB, K̄ → BKb, w → SAV (len×N each). */
static int rl__wkv6_chunk_prep(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len) {
    rl__node *n = j->n;
    int64_t N = j->N, C = j->H * N, Ck = j->KVH * N, kvh = h / (j->H / j->KVH), t, s;
    int64_t row0 = b * j->T + s0;
    const float *R = rl_f32(n->in[0]) + row0 * C + h * N, *Kk = rl_f32(n->in[1]) + row0 * Ck + kvh * N;
    const float *LW = rl_f32(n->in[3]) + row0 * C + h * N;
    float scale = 1.0f / sqrtf((float)N), *RH = ws->QA, *KH = ws->KB, *KBar = ws->BKb, *Wt = ws->SAV, *P = ws->P;
    if (!rl__scan_decays(ws, LW, C, len, N, 1)) return 0;
    for (t = 0; t < len; t++) ws->mb.K->exp(Wt + t * N, LW + t * C, N);
    for (t = 0; t < len; t++) {
        float *rh = RH + t * N, *kh = KH + t * N;
        ws->mb.K->mul(rh, R + t * C, ws->EP + t * N, N); /* R̂ = scale·r⊙e^{c} */
        ws->mb.K->scale(rh, rh, scale, N);
        ws->mb.K->mul(kh, Kk + t * Ck, ws->EM + t * N, N); /* K̂ = k⊙(1 − w)⊙e^{−c} */
        ws->mb.K->mul(ws->tmp, kh, Wt + t * N, N);
        ws->mb.K->sub(kh, kh, ws->tmp, N);
        ws->mb.K->mul(KBar + t * N, kh, ws->eL, N); /* K̄ = K̂⊙e^{c_L} */
    }
    rl__mm(&ws->mb, len, len, N, RH, N, 1, KH, 1, N, P, len, 0); /* P = tril(R̂·K̂ᵀ) */
    for (t = 0; t < len; t++)
        for (s = t + 1; s < len; s++) P[t * len + s] = 0.0f;
    return 1;
}

static int rl__wkv6_chunk_fwd(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len,
                              float *S) {
    int64_t N = j->N, C = j->H * N, Ck = j->KVH * N, kvh = h / (j->H / j->KVH), row0 = b * j->T + s0, q;
    const float *V = rl_f32(j->n->in[2]) + row0 * Ck + kvh * N;
    float *O = rl_f32(j->n->out) + row0 * C + h * N;
    if (!rl__wkv6_chunk_prep(ws, j, b, h, s0, len)) return 0;
    rl__mm(&ws->mb, len, N, N, ws->QA, N, 1, S, N, 1, O, C, 0);     /* O = R̂·S0 */
    rl__mm(&ws->mb, len, N, len, ws->P, len, 1, V, Ck, 1, O, C, 1); /*   + P·V */
    for (q = 0; q < N; q++) ws->mb.K->scale(S + q * N, S + q * N, ws->eL[q], N); /* S_L = diag(e^{c_L}) S0 */
    rl__mm(&ws->mb, N, N, len, ws->BKb, 1, N, V, Ck, 1, S, N, 1);                   /*       + K̄ᵀ·V */
    return 1;
}

/* backward of one chunk (query head h). G = dL/dS_L on entry, dL/dS0 on return.
     dR̂ = dO·S0ᵀ + dP·K̂,  dP = tril(dO·Vᵀ),  dK̂ = dPᵀ·R̂,  dV = Pᵀ·dO + K̄·G,  dK̄ = V·Gᵀ,
     dc_L += (Σ_i S0⊙G)⊙e^{c_L},  dS0 = diag(e^{c_L})·G + R̂ᵀ·dO,
   then dr = dR̂⊙scale·e^{c}, dk' = dK̂⊙e^{−c} + dK̄⊙e^{c_L−c}, dc = dR̂⊙R̂ − dK̂⊙K̂ − dK̄⊙K̄,
   d log w_u = Σ_{t≥u} dc_t − dk'_u⊙k_u⊙w_u (through k' = k(1−w)), dk = dk'⊙(1−w). */
static int rl__wkv6_chunk_bwd(rl__scan_ws *ws, const rl__scan_job *j, int64_t b, int64_t h, int64_t s0, int64_t len,
                              const float *S0, float *G) {
    rl__node *n = j->n;
    const rl__kern *K = ws->mb.K;
    int64_t N = j->N, C = j->H * N, Ck = j->KVH * N, kvh = h / (j->H / j->KVH), row0 = b * j->T + s0, t, s, q;
    const float *Kk = rl_f32(n->in[1]) + row0 * Ck + kvh * N, *V = rl_f32(n->in[2]) + row0 * Ck + kvh * N;
    const float *dO = n->out->grad ? n->out->grad + row0 * C + h * N : NULL;
    float *RH = ws->QA, *KH = ws->KB, *KBar = ws->BKb, *Wt = ws->SAV, *P = ws->P, *dP = ws->dP, *dc = ws->cl;
    float *dRH = ws->dQA, *dKH = ws->dKB, *dKBar = ws->dBKb, *dVb = ws->dSAV;
    float *dR = rl__wants(n->in[0]) ? n->in[0]->grad + row0 * C + h * N : NULL;
    float *dK = rl__wants(n->in[1]) ? n->in[1]->grad + row0 * Ck + kvh * N : NULL;
    float *dV = rl__wants(n->in[2]) ? n->in[2]->grad + row0 * Ck + kvh * N : NULL;
    float *dLW = rl__wants(n->in[3]) ? n->in[3]->grad + row0 * C + h * N : NULL;
    float scale = 1.0f / sqrtf((float)N);
    if (!rl__wkv6_chunk_prep(ws, j, b, h, s0, len)) return 0;
    if (dO) {
        rl__mm(&ws->mb, len, N, N, dO, C, 1, S0, 1, N, dRH, N, 0);   /* dR̂ = dO·S0ᵀ */
        rl__mm(&ws->mb, len, len, N, dO, C, 1, V, 1, Ck, dP, len, 0); /* dP = tril(dO·Vᵀ) */
        for (t = 0; t < len; t++)
            for (s = t + 1; s < len; s++) dP[t * len + s] = 0.0f;
        rl__mm(&ws->mb, len, N, len, P, 1, len, dO, C, 1, dVb, N, 0); /* dV = Pᵀ·dO */
        rl__mm(&ws->mb, len, N, len, dP, len, 1, KH, N, 1, dRH, N, 1); /* dR̂ += dP·K̂ */
        rl__mm(&ws->mb, len, N, len, dP, 1, len, RH, N, 1, dKH, N, 0); /* dK̂ = dPᵀ·R̂ */
    } else {
        memset(dRH, 0, sizeof(float) * (size_t)(len * N));
        memset(dKH, 0, sizeof(float) * (size_t)(len * N));
        memset(dVb, 0, sizeof(float) * (size_t)(len * N));
    }
    rl__mm(&ws->mb, len, N, N, KBar, N, 1, G, N, 1, dVb, N, 1);   /* dV += K̄·G */
    rl__mm(&ws->mb, len, N, N, V, Ck, 1, G, 1, N, dKBar, N, 0);   /* dK̄ = V·Gᵀ */
    for (q = 0; q < N; q++) {
        ws->dgL[q] = K->dot(S0 + q * N, G + q * N, N) * ws->eL[q];
        K->scale(G + q * N, G + q * N, ws->eL[q], N);      /* dS0 = diag(e^{c_L})·G */
    }
    if (dO) rl__mm(&ws->mb, N, N, len, RH, 1, N, dO, C, 1, G, N, 1); /*     + R̂ᵀ·dO */
    for (t = 0; t < len; t++) {
        int64_t u = t * N;
        float *tmp = ws->tmp;
        if (dR) { /* dr = dR̂⊙scale·e^{c} */
            K->mul(tmp, dRH + u, ws->EP + u, N);
            K->scale(tmp, tmp, scale, N);
            K->add(dR + t * C, dR + t * C, tmp, N);
        }
        if (dV) K->add(dV + t * Ck, dV + t * Ck, dVb + u, N);
        /* dc = dR̂⊙R̂ − dK̂⊙K̂ − dK̄⊙K̄;  dc_L += dK̄⊙K̄ */
        K->mul(dc + u, dRH + u, RH + u, N);
        K->mul(tmp, dKH + u, KH + u, N);
        K->sub(dc + u, dc + u, tmp, N);
        K->mul(tmp, dKBar + u, KBar + u, N);
        K->sub(dc + u, dc + u, tmp, N);
        K->add(ws->dgL, ws->dgL, tmp, N);
        /* dk' = (dK̂ + dK̄⊙e^{c_L})⊙e^{−c} (into dKH); dk = dk' − dk'⊙w; d log w gets −dk'⊙w⊙k (into dKBar) */
        K->mul(tmp, dKBar + u, ws->eL, N);
        K->add(dKH + u, dKH + u, tmp, N);
        K->mul(dKH + u, dKH + u, ws->EM + u, N);
        K->mul(tmp, dKH + u, Wt + u, N);
        K->mul(dKBar + u, tmp, Kk + t * Ck, N);
        K->scale(dKBar + u, dKBar + u, -1.0f, N);
        if (dK) {
            K->sub(tmp, dKH + u, tmp, N);
            K->add(dK + t * Ck, dK + t * Ck, tmp, N);
        }
    }
    for (q = 0; q < N; q++) dc[(len - 1) * N + q] += ws->dgL[q];
    for (t = len - 1; t >= 0; t--)
        for (q = 0; q < N; q++) {
            if (t < len - 1) dc[t * N + q] += dc[(t + 1) * N + q];
            if (dLW) dLW[t * C + q] += dc[t * N + q] + dKBar[t * N + q];
        }
    return 1;
}

/* ---- tasks: forward per (sequence, head); backward per (sequence, head) for RWKV7 and
   per (sequence, kv head) for RWKV6, whose kv heads are shared by H/KVH query heads ---- */

static void rl__scan_fwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int kind = (int)n->i[0];
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, L = j->L, C = H * N, Ck = KVH * N, task, s0, t;
    float scale = 1.0f / sqrtf((float)N);
    rl__scan_ws ws;
    if (j->chunked) rl__scan_ws_init(&ws, rl__scratch_at(&j->sc, tid), L, N);
    for (task = t0; task < t1; task++) {
        int64_t b = task / H, h = task % H, kvh = h / (H / KVH);
        float *S = rl_f32(n->out2) + task * N * N;
        rl__scan_load_state(n, kind == 6 ? 4 : 6, task, N, S);
        for (s0 = 0; s0 < T; s0 += L) {
            int64_t len = RL__MIN(L, T - s0);
            if (j->ck) memcpy(j->ck + (task * j->n_ck + s0 / L) * N * N, S, sizeof(float) * (size_t)(N * N));
            if (j->chunked && (kind == 6 ? rl__wkv6_chunk_fwd(&ws, j, b, h, s0, len, S) : rl__wkv7_chunk_fwd(&ws, j, b, h, s0, len, S)))
                continue;
            for (t = s0; t < s0 + len; t++) {
                int64_t row = b * T + t, o = row * C + h * N;
                if (kind == 6)
                    rl__wkv6_step(S, rl_f32(n->in[0]) + o, rl_f32(n->in[1]) + row * Ck + kvh * N,
                                  rl_f32(n->in[2]) + row * Ck + kvh * N, rl_f32(n->in[3]) + o, rl_f32(n->out) + o, N, scale);
                else
                    rl__wkv7_step(S, rl_f32(n->in[0]) + o, rl_f32(n->in[1]) + o, rl_f32(n->in[2]) + o, rl_f32(n->in[3]) + o,
                                  rl_f32(n->in[4]) + o, rl_f32(n->in[5]) + o, rl_f32(n->out) + o, N);
            }
        }
    }
}

RL__BWD void rl__scan_bwd_task(void *ctx, int64_t t0, int64_t t1, int tid) {
    rl__scan_job *j = (rl__scan_job *)ctx;
    rl__node *n = j->n;
    int kind = (int)n->i[0];
    int64_t N = j->N, H = j->H, KVH = j->KVH, T = j->T, L = j->L, G = kind == 6 ? H / KVH : 1, task, hh, seg;
    size_t NN = (size_t)(N * N);
    float *dS_in = rl__wants(n->in[kind == 6 ? 4 : 6]) ? n->in[kind == 6 ? 4 : 6]->grad : NULL;
    const float *dS_out = n->out2->grad;
    rl__scan_ws ws;
    rl__scan_ws_init(&ws, rl__scratch_at(&j->sc, tid), L, N); /* the recurrent fallback's scratch lives there too */
    for (task = t0; task < t1; task++) {
        int64_t b = task / (kind == 6 ? KVH : H);
        for (hh = 0; hh < G; hh++) {
            int64_t h = kind == 6 ? (task % KVH) * G + hh : task % H, bh = b * H + h;
            if (dS_out) memcpy(ws.Gm, dS_out + bh * NN, sizeof(float) * NN); /* G = dL/dS, chunk by chunk back */
            else memset(ws.Gm, 0, sizeof(float) * NN);
            for (seg = j->n_ck - 1; seg >= 0; seg--) {
                int64_t s0 = seg * L, len = RL__MIN(L, T - s0);
                const float *S0 = j->ck + (bh * j->n_ck + seg) * NN;
                if (j->chunked && (kind == 6 ? rl__wkv6_chunk_bwd(&ws, j, b, h, s0, len, S0, ws.Gm)
                                             : rl__wkv7_chunk_bwd(&ws, j, b, h, s0, len, S0, ws.Gm)))
                    continue;
                if (kind == 6) rl__wkv6_rec_bwd(j, b, h, s0, s0 + len, S0, ws.Gm, ws.Sb);
                else rl__wkv7_rec_bwd(j, b, h, s0, s0 + len, S0, ws.Gm, ws.Sb);
            }
            if (dS_in) ws.mb.K->axpy(dS_in + bh * NN, 1.0f, ws.Gm, N * N);
        }
    }
}

static rl_tensor *rl__state_like(rl_ctx *c, rl_device *d, int64_t B, int64_t H, int64_t N) {
    int64_t s[4];
    s[0] = B; s[1] = H; s[2] = N; s[3] = N;
    return rl__new_on(c, d, 4, s);
}

#ifdef RADLADS_CUDA
/* node n's inputs x[0..5] (NULL past them) and the gradients d[0..6] wanted (else NULL);
   returns its initial state (NULL: zeros) */
static const float *rl__scan_ptrs(const rl__node *n, const float **x, float **d) {
    int q, nin = n->i[0] == 6 ? 5 : 7;
    for (q = 0; q < 7; q++) {
        if (q < 6) x[q] = q < nin - 1 ? rl_f32(n->in[q]) : NULL;
        d[q] = q < nin && rl__wants(n->in[q]) ? n->in[q]->grad : NULL;
    }
    return n->in[nin - 1] ? rl_f32(n->in[nin - 1]) : NULL;
}
/* The scan on the GPU (radlads_cuda.cu). Forward: y, the final state and, when a gradient
   will be needed, the kept states into j->ck (so that a CPU backward can still follow).
   Backward: gradients accumulated like the CPU tasks'. 1 = done; 0 = not done, nothing
   written, run the CPU tasks. A failure while copying gradients back (-3: partly written)
   is an error of the op instead, as falling back would add them twice. */
static int rl__scan_cuda(rl_ctx *c, rl__node *n, rl__scan_job *j, int bwd) {
    const int kind = n->i[0], H = (int)j->H, KVH = (int)j->KVH, N = (int)j->N;
    const float *x[6], *st;
    float *d[7];
    int rc;
    if (!c->use_cuda || !rl_cuda_available()) return 0;
    st = rl__scan_ptrs(n, x, d);
    if (!bwd && kind == 6)
        rc = rl_cuda_wkv6_forward_host(j->B, j->T, H, KVH, N, x[0], x[1], x[2], x[3], st, rl_f32(n->out), rl_f32(n->out2), j->ck);
    else if (!bwd)
        rc = rl_cuda_wkv7_forward_host(j->B, j->T, H, N, x[0], x[1], x[2], x[3], x[4], x[5], st, rl_f32(n->out),
                                       rl_f32(n->out2), j->ck);
    else if (kind == 6)
        rc = rl_cuda_wkv6_backward_host(j->B, j->T, H, KVH, N, x[0], x[1], x[2], x[3], st, n->out->grad, n->out2->grad,
                                        d[0], d[1], d[2], d[3], d[4]);
    else
        rc = rl_cuda_wkv7_backward_host(j->B, j->T, H, N, x[0], x[1], x[2], x[3], x[4], x[5], st, n->out->grad,
                                        n->out2->grad, d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
    if (rc == -3) {
        rl__op_fail(c, RL_ERR_IO, "wkv%d backward on the GPU: %s", kind, rl_cuda_last_error());
        return 1;
    }
    if (rc) rl_log(RL_LOG_WARN, "wkv%d %s on the GPU failed, using the CPU: %s", kind, bwd ? "backward" : "forward", rl_cuda_last_error());
    return rc == 0;
}

/* The device's entry (rl__ops.scan): inputs, outputs, kept states (and RWKV7's sa) all in
   device memory; gradients accumulated like the CPU tasks' */
static int rl__cuda_scan(rl_ctx *c, rl__node *n, int bwd) {
    const rl__scan_job *j = (const rl__scan_job *)(void *)n->aux;
    const int kind = (int)n->i[0], H = (int)j->H, N = (int)j->N;
    const float *x[6], *st;
    float *d[7];
    RL__UNUSED(c);
    st = rl__scan_ptrs(n, x, d);
    if (!bwd && kind == 6)
        return rl_cuda_wkv6_forward(j->B, j->T, H, (int)j->KVH, N, x[0], x[1], x[2], x[3], st, rl_f32(n->out), rl_f32(n->out2), j->ck);
    if (!bwd)
        return rl_cuda_wkv7_forward(j->B, j->T, H, N, x[0], x[1], x[2], x[3], x[4], x[5], st, rl_f32(n->out), rl_f32(n->out2), j->ck, j->sa);
    if (kind == 6)
        return rl_cuda_wkv6_backward(j->B, j->T, H, (int)j->KVH, N, x[0], x[1], x[2], x[3], j->ck, n->out->grad, n->out2->grad, d[0],
                                     d[1], d[2], d[3], d[4]);
    return rl_cuda_wkv7_backward(j->B, j->T, H, N, x[0], x[1], x[2], x[3], x[4], x[5], j->ck, j->sa, n->out->grad, n->out2->grad,
                                 d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
}
#endif

/* The host's side of rl__ops.scan: the forward or backward tasks of node n over the pool */
static int rl__cpu_scan(rl_ctx *c, rl__node *n, int bwd) {
    rl__scan_job *j = (rl__scan_job *)(void *)n->aux;
    j->n = n;
#ifdef RADLADS_CUDA
    if (rl__scan_cuda(c, n, j, bwd)) return 0;
#endif
    if (bwd || j->chunked) {
        rl__scan_ws ws;
        if (!rl__scratch_alloc(&j->sc, c->pool, (size_t)rl__scan_ws_init(&ws, NULL, j->L, j->N)))
            return (int)rl__fail(RL_ERR_NOMEM, "out of memory for scratch");
    }
#if !defined(RADLADS_NO_TRAINING)
    if (bwd) rl_pool_for(c->pool, j->B * (n->i[0] == 6 ? j->KVH : j->H), 1, rl__scan_bwd_task, j);
    else
#endif
        rl_pool_for(c->pool, j->B * j->H, 1, rl__scan_fwd_task, j);
    rl__scratch_free(&j->sc);
    return 0;
}

RL__BWD void rl__scan_bwd(rl_ctx *c, rl__node *n) {
    int q, nin = n->i[0] == 6 ? 5 : 7;
    for (q = 0; q < nin; q++)
        if (rl__wants(n->in[q]) && !rl__grad(c, n->in[q])) return;
    rl_device *d = n->out->dev;
    rl__on_done(c, d, n->i[0] == 6 ? "wkv6 backward" : "wkv7 backward", d ? d->ops->scan(c, n, 1) : rl__cpu_scan(c, n, 1));
}

/* Which form scan_chunk = 0 picks (measured with make bench-scan, BENCHMARKS.md): the
   chunked one for training (2.6-3.5x the recurrent fwd+bwd at heads of 64) and for
   forward passes of at least one chunk (2-4x); token by token for decoding steps. */
static int rl__scan_default_chunked(int grad, int64_t T, int64_t N) {
    RL__UNUSED(N);
    return grad ? T >= 2 : T >= RL__SCAN_L;
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
    rl_device *d = r ? r->dev : NULL;
    int gpu;
    for (q = 0; q < n_in - 1; q++)
        if (rl__bad_on(c, in[q], d)) return NULL;
    if (state && rl__bad_on(c, state, d)) return NULL;
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
    if (!(y = rl__like(c, r)) || !(S = rl__state_like(c, d, B, H, N)) || !(n = rl__node_newv(c, rl__scan_bwd, y, n_in, in)))
        return NULL;
    n->out2 = S;
    n->i[0] = kind;
    S->requires_grad = y->requires_grad;
    j = (rl__scan_job *)rl_arena_zalloc(&c->arena, sizeof *j);
    if (!j) return rl__op_fail(c, RL_ERR_NOMEM, "wkv: out of memory");
    n->aux = (float *)(void *)j;
    j->n = n;
    j->B = B; j->T = T; j->H = H; j->KVH = KVH; j->N = N;
    /* the form: scan_chunk < 0 token by token, > 0 chunks of that length, 0 the default */
    j->L = c->scan_chunk > 0 ? c->scan_chunk : c->scan_chunk < 0 ? RL__SCAN_CK : RL__SCAN_L;
    j->chunked = c->scan_chunk > 0 || (c->scan_chunk == 0 && rl__scan_default_chunked(y->requires_grad, T, N));
    gpu = d != NULL; /* a GPU keeps states every RL__SCAN_CK tokens */
#ifdef RADLADS_CUDA
    gpu |= c->use_cuda && rl_cuda_available();
#endif
    if (gpu) {
        j->L = RL__SCAN_CK;
        j->chunked = 0;
    }
    j->n_ck = (T + j->L - 1) / j->L;
    if (y->requires_grad && (!(j->ck = (float *)rl__alloc_on(c, d, sizeof(float) * (size_t)(B * H * j->n_ck * N * N), 0)) ||
                             (d && kind == 7 && !(j->sa = (float *)rl__alloc_on(c, d, sizeof(float) * (size_t)r->n, 0)))))
        return rl__op_fail(c, RL_ERR_NOMEM, "wkv: out of memory for kept states");
    if (!rl__on_done(c, d, kind == 6 ? "wkv6" : "wkv7", d ? d->ops->scan(c, n, 0) : rl__cpu_scan(c, n, 0))) return NULL;
    if (state_out) *state_out = S;
    return y;
}

RLDEF rl_tensor *rl_wkv6(rl_ctx *c, rl_tensor *r, rl_tensor *k, rl_tensor *v, rl_tensor *logw, int64_t T, int H, int KVH,
                   rl_tensor *state, rl_tensor **state_out) {
    rl_tensor *in[5];
    in[0] = r; in[1] = k; in[2] = v; in[3] = logw; in[4] = state;
    return rl__scan(c, 6, in, 5, T, H, KVH, state_out);
}

RLDEF rl_tensor *rl_wkv7(rl_ctx *c, rl_tensor *r, rl_tensor *w, rl_tensor *k, rl_tensor *v, rl_tensor *a, rl_tensor *b,
                   int64_t T, int H, rl_tensor *state, rl_tensor **state_out) {
    rl_tensor *in[7];
    in[0] = r; in[1] = w; in[2] = k; in[3] = v; in[4] = a; in[5] = b; in[6] = state;
    return rl__scan(c, 7, in, 7, T, H, H, state_out);
}

/* ---- 4b. sequence mixers ---- */

/* ---- small ops the mixers need ---- */

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
    v->dev = p->dev;
    return v;
}

RLDEF rl_tensor *rl_rwkv6_logdecay(rl_ctx *c, rl_tensor *d) { return rl__unary(c, d, RL__F_LOGDECAY); }

RL__BWD void rl__seq_last_bwd(rl_ctx *c, rl__node *n) {
    int64_t T = n->i[0], C = rl_cols(n->out);
    RL__ON(c, n->out->dev, "seq_last backward", copy3d, rl__grad(c, n->in[0]) + (T - 1) * C, 0, T * C, n->out->grad, 0, C, 1, rl_rows(n->out), C, 1);
}
RLDEF rl_tensor *rl_seq_last(rl_ctx *c, rl_tensor *x, int64_t T) {
    rl_tensor *y;
    rl__node *n;
    int64_t C, shape[2];
    if (rl__bad_on(c, x, x ? x->dev : NULL)) return NULL;
    if (T < 1 || rl_rows(x) % T) return rl__op_fail(c, RL_ERR_ARG, "seq_last: %lld rows are not sequences of %lld", (long long)rl_rows(x), (long long)T);
    C = rl_cols(x);
    shape[0] = rl_rows(x) / T;
    shape[1] = C;
    if (!(y = rl__new_on(c, x->dev, 2, shape)) ||
        !RL__ON(c, x->dev, "seq_last", copy3d, rl_f32(y), 0, C, rl_f32(x) + (T - 1) * C, 0, T * C, 1, shape[0], C, 0) ||
        !(n = rl__node_new(c, rl__seq_last_bwd, y, x, NULL, NULL, NULL)))
        return NULL;
    n->i[0] = T;
    return y;
}


RLDEF int rl_lora_rank(int64_t C, double e, double m) {
    double v = floor(pow((double)C, e) * m / 32.0 + 0.5);
    return (int)(v < 1 ? 1 : v) * 32;
}

typedef struct { const char *name; size_t off; int kinds; } rl__pdesc;
#define RL__PD(name, field, kinds) { name, offsetof(rl_mixer, field), kinds }
/* kinds: the mixers that have the parameter; RL__KD marks the decay parameters, the only ones
   the RL_TRAIN_DECAY stage trains */
enum { RL__KA = 1, RL__K6 = 2, RL__K7 = 4, RL__KALL = 7, RL__KD = 8 };
static const rl__pdesc rl__mixer_pdesc[] = {
    RL__PD("q_proj.weight", q_w, RL__KALL), RL__PD("q_proj.bias", q_b, RL__KALL),
    RL__PD("k_proj.weight", k_w, RL__KALL), RL__PD("k_proj.bias", k_b, RL__KALL),
    RL__PD("v_proj.weight", v_w, RL__KALL), RL__PD("v_proj.bias", v_b, RL__KALL),
    RL__PD("o_proj.weight", o_w, RL__KALL),
    RL__PD("time_maa_x", maa_x, RL__K6), RL__PD("time_maa_r", maa_r, RL__K6), RL__PD("time_maa_k", maa_k, RL__K6),
    RL__PD("time_maa_v", maa_v, RL__K6), RL__PD("time_maa_w", maa_w, RL__K6 | RL__KD), RL__PD("time_maa_g", maa_g, RL__K6),
    RL__PD("time_maa_w1", maa_w1, RL__K6 | RL__KD), RL__PD("time_maa_w2", maa_w2, RL__K6 | RL__KD),
    RL__PD("time_decay", decay, RL__K6 | RL__KD), RL__PD("time_decay_w1", decay_w1, RL__K6 | RL__KD),
    RL__PD("time_decay_w2", decay_w2, RL__K6 | RL__KD), RL__PD("gate.weight", gate_w, RL__K6 | RL__K7),
    RL__PD("w0", w0, RL__K7 | RL__KD), RL__PD("w1", w1, RL__K7 | RL__KD), RL__PD("w2", w2, RL__K7 | RL__KD),
    RL__PD("a0", a0, RL__K7), RL__PD("a1", a1, RL__K7), RL__PD("a2", a2, RL__K7),
    RL__PD("v0", v0, RL__K7), RL__PD("v1", v1, RL__K7), RL__PD("v2", v2, RL__K7),
    RL__PD("g1", g1, RL__K6 | RL__K7), RL__PD("g2", g2, RL__K6 | RL__K7), RL__PD("k_k", k_k, RL__K7), RL__PD("k_a", k_a, RL__K7),
    RL__PD("r_k", r_k, RL__K7), RL__PD("ln_x.weight", lnx_w, RL__K6 | RL__K7), RL__PD("ln_x.bias", lnx_b, RL__K6 | RL__K7)};
#undef RL__PD

static int rl__mixer_kindbit(rl_mixer_kind k) { return k == RL_MIXER_RWKV6 ? RL__K6 : k == RL_MIXER_RWKV7 ? RL__K7 : RL__KA; }

/* The gate as config.json's gate_rank_type: 0 none, 1 Linear, 2 LoRA */
static int rl__gate_type(const rl_mixer_cfg *g) {
    if (g->gate == RL_GATE_DEFAULT) return g->kind == RL_MIXER_RWKV6 ? 1 : g->kind == RL_MIXER_RWKV7 ? 2 : 0;
    return g->gate == RL_GATE_NONE ? 0 : g->gate;
}

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
    if (!strncmp(name, "time_maa_", 9) && name[9] && !name[10]) { s[2] = C; return g->use_tokenshift ? 3 : 0; }
    if (RL__IS("time_maa_w1")) { s[0] = C; s[1] = 5 * g->r_ts; return g->use_tokenshift ? 2 : 0; }
    if (RL__IS("time_maa_w2")) { s[0] = 5; s[1] = g->r_ts; s[2] = C; return g->use_tokenshift ? 3 : 0; }
    if (RL__IS("time_decay")) { s[2] = C; return 3; }
    if (RL__IS("time_decay_w1")) { s[0] = C; s[1] = g->r_d; return 2; }
    if (RL__IS("time_decay_w2")) { s[0] = g->r_d; s[1] = C; return 2; }
    if (RL__IS("gate.weight")) { s[0] = C; s[1] = C; return rl__gate_type(g) == 1 ? 2 : 0; }
    if (RL__IS("w0") || RL__IS("a0") || RL__IS("v0") || RL__IS("k_k") || RL__IS("k_a")) { s[2] = C; return 3; }
    if ((RL__IS("g1") || RL__IS("g2")) && rl__gate_type(g) != 2) return 0;
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

RLDEF void rl_mixer_params(rl_mixer *m, rl_param_fn fn, void *user) {
    size_t i;
    int bit = rl__mixer_kindbit(m->cfg.kind);
    for (i = 0; i < sizeof rl__mixer_pdesc / sizeof rl__mixer_pdesc[0]; i++) {
        rl_tensor *t = (rl_tensor *)(void *)((char *)m + rl__mixer_pdesc[i].off);
        if ((rl__mixer_pdesc[i].kinds & bit) && t->n > 0) fn(user, rl__mixer_pdesc[i].name, t);
    }
}

RLDEF rl_status rl_mixer_alloc(rl_mixer *m, const rl_mixer_cfg *cfg, rl_arena *params, rl_arena *grads) {
    size_t i;
    int bit = rl__mixer_kindbit(cfg->kind);
    if (cfg->C < 1 || cfg->H < 1 || cfg->KVH < 1 || cfg->N < 2 || cfg->H % cfg->KVH || cfg->N % 2)
        return rl__fail(RL_ERR_ARG, "mixer: C=%lld H=%lld KVH=%lld N=%lld do not fit (H must be a multiple of KVH, N even)",
                        (long long)cfg->C, (long long)cfg->H, (long long)cfg->KVH, (long long)cfg->N);
    if (cfg->kind == RL_MIXER_RWKV6 && ((cfg->use_tokenshift && cfg->r_ts < 1) || cfg->r_d < 1 || (rl__gate_type(cfg) == 2 && cfg->r_g < 1)))
        return rl__fail(RL_ERR_ARG, "RAD-RWKV6 mixer: LoRA ranks must be positive (token shift %d, decay %d, gate %d)", cfg->r_ts, cfg->r_d, cfg->r_g);
    if (cfg->gate < 0 || cfg->gate > RL_GATE_NONE || (cfg->kind == RL_MIXER_RWKV7 && rl__gate_type(cfg) == 0))
        return rl__fail(RL_ERR_ARG, "mixer: gate %d is not supported for this mixer", cfg->gate);
    if (cfg->kind == RL_MIXER_RWKV7 && (cfg->r_w < 1 || cfg->r_a < 1 || cfg->r_v < 1 || (rl__gate_type(cfg) == 2 && cfg->r_g < 1)))
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

/* y = k / (1 − exp(logw)), with 1 − exp(logw) computed as the RWKV6 scan computes it, so
   that the scan's k·(1−w) gives back k to within 2 ulp (RAD-RWKV6 with balance_state off).
   Where w rounds to 1 in fp32 (logw > −6e-8, i.e. d < −16.6) the divisor is kept at
   FLT_MIN: the scan then adds k·FLT_MIN·v ≈ 0 where the official kernel adds k·v. */
static int rl__cpu_unbalance(void *q, float *y, const float *k, const float *lw, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) {
        float d = 1.0f - expf(lw[i]);
        y[i] = k[i] / (d < FLT_MIN ? FLT_MIN : d);
    }
    return 0;
}
RL__BWD int rl__cpu_unbalance_bwd(void *q, float *gk, float *gl, const float *g, const float *k, const float *lw, int64_t n) {
    int64_t i;
    RL__UNUSED(q);
    for (i = 0; i < n; i++) {
        float w = expf(lw[i]), d = 1.0f - w;
        if (d < FLT_MIN) continue;
        if (gk) gk[i] += g[i] / d;
        if (gl) gl[i] += g[i] * k[i] * w / (d * d); /* d/dlogw of k/(1−e^logw) */
    }
    return 0;
}
RL__BWD void rl__unbalance_bwd(rl_ctx *c, rl__node *n) {
    float *gk = rl__wants(n->in[0]) ? rl__grad(c, n->in[0]) : NULL, *gl = rl__wants(n->in[1]) ? rl__grad(c, n->in[1]) : NULL;
    RL__ON(c, n->out->dev, "RAD-RWKV6 unbalance backward", unbalance_bwd, gk, gl, n->out->grad, rl_f32(n->in[0]), rl_f32(n->in[1]),
           n->out->n);
}
static rl_tensor *rl__rwkv6_unbalance(rl_ctx *c, rl_tensor *k, rl_tensor *logw) {
    rl_tensor *y;
    if (rl__bad_on(c, k, k ? k->dev : NULL) || rl__bad_on(c, logw, k->dev)) return NULL;
    if (k->n != logw->n) return rl__op_fail(c, RL_ERR_ARG, "RAD-RWKV6: k and the decay differ in size");
    if (!(y = rl__like(c, k)) || !RL__ON(c, k->dev, "RAD-RWKV6 unbalance", unbalance, rl_f32(y), rl_f32(k), rl_f32(logw), k->n)) return NULL;
    rl__node_new(c, rl__unbalance_bwd, y, k, logw, NULL, NULL);
    return y;
}

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
    switch (rl__gate_type(g)) {
    case 1: gate = rl_sigmoid(c, rl_linear(c, xs[4], &m->gate_w, NULL)); break;        /* σ(x_g·Wᵀ) */
    case 2: gate = rl_matmul(c, rl_sigmoid(c, rl_matmul(c, xs[4], &m->g1)), &m->g2); break; /* σ(x_g·g1)·g2 */
    default: gate = NULL; /* gate_rank_type 0 */
    }
    if (g->use_rope) {
        r = rl_rope(c, r, T, (int)g->N, g->inv_freq, pos0);
        k = rl_rope(c, k, T, (int)g->N, g->inv_freq, pos0);
    }
    if (!g->balance_state) {
        /* the official code without balance_state adds k·vᵀ, not k·(1−w)·vᵀ: the scan always
           scales k by (1−w), so it gets k/(1−w) per query head (k, v expanded for GQA) */
        if (g->KVH != g->H) {
            k = rl_repeat_kv(c, k, (int)g->H, (int)g->KVH);
            v = rl_repeat_kv(c, v, (int)g->H, (int)g->KVH);
        }
        k = rl__rwkv6_unbalance(c, k, logw);
        p = rl_wkv6(c, r, k, v, logw, T, (int)g->H, (int)g->H, io ? io->state_in : NULL, io ? &io->state_out : NULL);
    } else {
        p = rl_wkv6(c, r, k, v, logw, T, (int)g->H, (int)g->KVH, io ? io->state_in : NULL, io ? &io->state_out : NULL);
    }
    if (g->groupnorm_att) p = rl_groupnorm(c, p, &m->lnx_w, &m->lnx_b, (int)g->H, g->ln_eps);
    return rl_linear(c, gate ? rl_mul(c, gate, p) : p, &m->o_w, NULL);
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
    gate = rl__gate_type(g) == 1 ? rl_sigmoid(c, rl_linear(c, x, &m->gate_w, NULL))    /* gate_rank_type 1 */
                                 : rl_matmul(c, rl_sigmoid(c, rl_matmul(c, x, &m->g1)), &m->g2);
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
        /* decoding: the T new rows of k and v of each sequence b go to its cache at pos0 (where
           the model is); its query t attends to rows 0 .. pos0+t */
        int64_t Ck = g->KVH * g->N, B = rl_rows(x) / T, cap = io->cache_cap;
        if (rl_rows(x) % T || pos0 + T > cap)
            return rl__op_fail(c, RL_ERR_ARG, "attention cache: %lld rows are not whole sequences of %lld tokens, or %lld tokens at %lld exceed %lld",
                               (long long)rl_rows(x), (long long)T, (long long)T, (long long)pos0, (long long)cap);
        if (!RL__ON(c, k->dev, "attention cache", copy3d, io->kcache + pos0 * Ck, cap * Ck, Ck, rl_f32(k), T * Ck, Ck, B, T, Ck, 0) ||
            !RL__ON(c, v->dev, "attention cache", copy3d, io->vcache + pos0 * Ck, cap * Ck, Ck, rl_f32(v), T * Ck, Ck, B, T, Ck, 0) ||
            !(y = rl__like(c, q)) || !RL__ON(c, q->dev, "attention cache", attention_cache, rl_f32(y), rl_f32(q), io->kcache, io->vcache, B, T,
                                             pos0, cap, (int)g->H, (int)g->KVH, (int)g->N))
            return NULL;
    }
    return rl_linear(c, y, &m->o_w, NULL);
}

RLDEF rl_tensor *rl_mixer_forward(rl_ctx *c, rl_mixer *m, rl_tensor *x, int64_t T, int64_t pos0, rl_mixer_io *io) {
    if (!x || c->err) return NULL;
    switch (m->cfg.kind) {
    case RL_MIXER_RWKV6: return rl__rwkv6_forward(c, m, x, T, pos0, io);
    case RL_MIXER_RWKV7: return rl__rwkv7_forward(c, m, x, T, pos0, io);
    default: return rl__attention_forward(c, m, x, T, pos0, io);
    }
}

/* ---- step 2's loss on the heads: the KL in vocabulary chunks (rl_kl_head) ----
   An op of section 3 (declared there), defined here so that the scans stay early in the
   file: the CPU code of its entries (kl_chunk, kl_chunk_bwd), then the op. */

/* Row r's statistics st[5r..5r+4] while the chunks go by: the largest s (ms), Σ e^(s−ms),
   the largest t (mt), Σ e^(t−mt), Σ e^(t−mt)·(t − s); a larger maximum rescales the sums.
   At the end: log Σ e^s, –, log Σ e^t, –, the row's KL = Σ p_t (t − s) − log Σe^t + log Σe^s. */
typedef struct { double *st; float *gs; const float *s, *t; int64_t n; float g; int first, last; } rl__klc_arg;
static void rl__kl_chunk_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__klc_arg *k = (const rl__klc_arg *)ctx;
    int64_t r, j, n = k->n;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        double *a = k->st + 5 * r;
        const float *sr = k->s + r * n, *tr = k->t + r * n;
        float ms = -INFINITY, mt = -INFINITY;
        for (j = 0; j < n; j++) {
            ms = sr[j] > ms ? sr[j] : ms;
            mt = tr[j] > mt ? tr[j] : mt;
        }
        if (k->first) {
            a[0] = ms; a[2] = mt;
            a[1] = a[3] = a[4] = 0;
        }
        if (ms > a[0]) {
            a[1] *= exp(a[0] - ms);
            a[0] = ms;
        }
        if (mt > a[2]) {
            double f = exp(a[2] - mt);
            a[3] *= f;
            a[4] *= f;
            a[2] = mt;
        }
        for (j = 0; j < n; j++) {
            double e = expf(tr[j] - (float)a[2]);
            a[1] += expf(sr[j] - (float)a[0]);
            a[3] += e;
            a[4] += e * ((double)tr[j] - sr[j]);
        }
        if (k->last) {
            double ls = a[0] + log(a[1]), lt = a[2] + log(a[3]);
            a[4] = a[4] / a[3] - lt + ls;
            a[0] = ls;
            a[2] = lt;
        }
    }
}
static int rl__cpu_kl_chunk(void *q, double *st, float *loss, const float *s, const float *t, int64_t R, int64_t n, int first, int last) {
    rl__klc_arg k;
    double total = 0;
    int64_t r;
    memset(&k, 0, sizeof k);
    k.st = st; k.s = s; k.t = t; k.n = n; k.first = first; k.last = last;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(n), rl__kl_chunk_rows, &k);
    for (r = 0; last && r < R; r++) total += st[5 * r + 4]; /* in row order: the same sum for any number of threads */
    if (last) loss[0] = (float)(total / (double)R);
    return 0;
}
static void rl__kl_chunk_bwd_rows(void *ctx, int64_t r0, int64_t r1, int tid) {
    const rl__klc_arg *k = (const rl__klc_arg *)ctx;
    int64_t r, j, n = k->n;
    RL__UNUSED(tid);
    for (r = r0; r < r1; r++) {
        float ls = (float)k->st[5 * r], lt = (float)k->st[5 * r + 2];
        for (j = 0; j < n; j++) k->gs[r * n + j] = k->g * (expf(k->s[r * n + j] - ls) - expf(k->t[r * n + j] - lt));
    }
}
RL__BWD int rl__cpu_kl_chunk_bwd(void *q, float *gs, const float *gloss, const float *s, const float *t, const double *st, int64_t R, int64_t n) {
    rl__klc_arg k;
    memset(&k, 0, sizeof k);
    k.st = (double *)(uintptr_t)st; k.gs = gs; k.s = s; k.t = t; k.n = n; k.g = gloss[0] / (float)R;
    rl_pool_for((rl_pool *)q, R, rl__rows_grain(n), rl__kl_chunk_bwd_rows, &k);
    return 0;
}
/* rl_kl_head: n->in[] = hs, Ws, ht, Wt; n->aux: the rows' statistics (doubles); i[0]: chunk */
#define RL__KL_CHUNK 8192 /* stage 2's vocabulary chunk on a device (rl_stage_opts.kl_chunk 0) */
static const void *rl__head_rows(const rl_tensor *W, int64_t j0) { /* row j0 of a head as stored */
    int64_t K = W->shape[1], rb = W->dtype == RL_F32 ? 4 * K : 2 * K;
#if !defined(RADLADS_NO_GGUF)
    if (RL_DTYPE_IS_GGML(W->dtype) && !rl__ggml_row_bytes(W->dtype - RL_DTYPE_GGML0, K, &rb)) return NULL;
#endif
    return (const char *)W->data + j0 * rb;
}
/* the student's and the teacher's logits of columns j0 .. j0+nc into s and t [R, nc] (the
   backward's are the forward's: the same products) */
static int rl__kl_head_logits(rl_ctx *c, rl__node *n, int64_t j0, int64_t nc, float *s, float *t) {
    rl_tensor *hs = n->in[0], *Ws = n->in[1], *ht = n->in[2], *Wt = n->in[3];
    int64_t R = rl_rows(hs), Cs = rl_cols(hs), Ct = rl_cols(ht);
    return rl__gemm_on(c, hs->dev, "kl_head", Ws, R, nc, Cs, rl_f32(hs), Cs, 1, rl__head_rows(Ws, j0), Ws->dtype, 1, Cs, s, nc, 0,
                       rl__bf16_on(c, Ws->dtype)) &&
           rl__gemm_on(c, hs->dev, "kl_head", Wt, R, nc, Ct, rl_f32(ht), Ct, 1, rl__head_rows(Wt, j0), Wt->dtype, 1, Ct, t, nc, 0,
                       rl__bf16_on(c, Wt->dtype));
}
RL__BWD void rl__kl_head_bwd(rl_ctx *c, rl__node *n) {
    rl_tensor *hs = n->in[0], *Ws = n->in[1];
    rl_device *d = hs->dev;
    int64_t R = rl_rows(hs), Cs = rl_cols(hs), V = Ws->shape[0], ck = n->i[0], j0;
    float *s = (float *)rl__alloc_on(c, d, sizeof(float) * 3 * (size_t)(R * ck), 0), *t, *gs;
    int bf16 = c->bf16_dot >= 2;
    if (!s) return;
    t = s + R * ck;
    gs = t + R * ck;
    for (j0 = 0; j0 < V; j0 += ck) {
        int64_t nc = RL__MIN(ck, V - j0);
        if (!rl__kl_head_logits(c, n, j0, nc, s, t) ||
            !RL__ON(c, d, "kl_head backward", kl_chunk_bwd, gs, n->out->grad, s, t, (const double *)(void *)n->aux, R, nc) ||
            (rl__wants(hs) && !rl__gemm_on(c, d, "kl_head backward", Ws, R, Cs, nc, gs, nc, 1, rl__head_rows(Ws, j0), Ws->dtype, Cs, 1,
                                           rl__grad(c, hs), Cs, 1, bf16)) || /* ghs += gs·Ws[chunk] */
            (rl__wants(Ws) && !rl__gemm_on(c, d, "kl_head backward", Ws, nc, Cs, R, gs, 1, nc, rl_f32(hs), RL_F32, Cs, 1,
                                           rl__grad(c, Ws) + j0 * Cs, Cs, 1, bf16))) /* gWs[chunk] += gsᵀ·hs */
            return;
    }
}
RLDEF rl_tensor *rl_kl_head(rl_ctx *c, rl_tensor *hs, rl_tensor *Ws, rl_tensor *ht, rl_tensor *Wt, int64_t chunk) {
    rl_tensor *y;
    rl__node *n;
    rl_device *d;
    int64_t one = 1, R, V, j0;
    float *s, *t;
    if (rl__bad_on(c, hs, hs ? hs->dev : NULL) || rl__bad_on(c, ht, hs->dev) || !Ws || !Wt) return c->err ? NULL : rl__op_fail(c, RL_ERR_ARG, "kl_head: NULL head");
    d = hs->dev;
    R = rl_rows(hs);
    V = Ws->ndim == 2 ? Ws->shape[0] : 0;
    if (Ws->ndim != 2 || Wt->ndim != 2 || Ws->shape[1] != rl_cols(hs) || Wt->shape[1] != rl_cols(ht) || Wt->shape[0] != V || rl_rows(ht) != R ||
        chunk < 1 || Ws->dev != d || Wt->dev != d || (Ws->dtype != RL_F32 && Ws->requires_grad))
        return rl__op_fail(c, RL_ERR_ARG, "kl_head: hs [%lld, %lld] with a head [%lld, %lld] against ht [%lld, %lld] with [%lld, %lld] on %s, "
                           "chunk %lld: the rows, the widths and the vocabularies must agree, all in one place", (long long)R,
                           (long long)rl_cols(hs), (long long)V, (long long)(Ws->ndim == 2 ? Ws->shape[1] : 0), (long long)rl_rows(ht),
                           (long long)rl_cols(ht), (long long)(Wt->ndim == 2 ? Wt->shape[0] : 0), (long long)(Wt->ndim == 2 ? Wt->shape[1] : 0),
                           rl_device_name(d), (long long)chunk);
    if (ht->requires_grad || Wt->requires_grad) return rl__op_fail(c, RL_ERR_ARG, "kl_head: the teacher side (ht, Wt) takes no gradient");
    chunk = RL__MIN(chunk, V);
    if (!(y = rl__new_on(c, d, 1, &one)) || !(n = rl__node_new(c, rl__kl_head_bwd, y, hs, Ws, ht, Wt)) ||
        !(n->aux = (float *)rl__alloc_on(c, d, sizeof(double) * 5 * (size_t)R, 0)) ||
        !(s = (float *)rl__alloc_on(c, d, sizeof(float) * 2 * (size_t)(R * chunk), 0)))
        return NULL;
    n->i[0] = chunk;
    t = s + R * chunk;
    for (j0 = 0; j0 < V; j0 += chunk) {
        int64_t nc = RL__MIN(chunk, V - j0);
        if (!rl__kl_head_logits(c, n, j0, nc, s, t) ||
            !RL__ON(c, d, "kl_head", kl_chunk, (double *)(void *)n->aux, rl_f32(y), s, t, R, nc, j0 == 0, j0 + nc == V))
            return NULL;
    }
    return y;
}

/* ---- 4c. the model: teacher transformer or student ---- */

RLDEF void rl_student_opts_default(rl_student_opts *o, rl_mixer_kind kind) {
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

RLDEF void rl_model_params(rl_model *m, rl_param_fn fn, void *user) {
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
RLDEF int64_t rl_model_n_params(rl_model *m) {
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
   from the tensor shapes (released checkpoints differ from the formula). */
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
    o->gate = c->gate_rank_type == 0 ? RL_GATE_NONE : c->gate_rank_type;
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
    if (o->kind == RL_MIXER_RWKV6) { /* RWKV6Qwen2Config's defaults for null ranks */
        if (!o->r_ts) o->r_ts = c->hidden_size < 4096 ? 32 : 64;
        if (!o->r_d) o->r_d = c->hidden_size < 4096 ? 64 : 128;
    }
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
            mc.gate = so->gate;
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
    f = rl_st_find(lc->m->weights, name);
    if (!f && !strcmp(name, "lm_head.weight")) { /* untied config without a head: the embeddings */
        rl_log(RL_LOG_WARN, "%s: no lm_head.weight although tie_word_embeddings is false; using the embeddings", lc->dir);
        src = "model.embed_tokens.weight";
        f = rl_st_find(lc->m->weights, src);
    }
    if (!f) {
        if (lc->m->cfg.student)
            lc->st = rl__fail(RL_ERR_FORMAT, "%s: tensor %s is missing from the checkpoint, but config.json asks for it "
                              "(num_hidden_layers, num_attention_layers, use_tokenshift, gate_rank_type, groupnorm_att, "
                              "attention_bias)", lc->dir, name);
        else
            lc->st = rl__fail(RL_ERR_FORMAT, "%s: tensor %s is missing from the checkpoint", lc->dir, name);
        return;
    }
    if (!lc->m->trainable && t->ndim == 2 && f->supported && f->aligned && (f->dtype == RL_BF16 || f->dtype == RL_F16 || f->dtype == RL_F32) &&
        f->ndim == 2 && f->shape[0] == t->shape[0] && f->shape[1] == t->shape[1]) {
        t->data = (void *)(uintptr_t)f->data; /* read-only mapping: frozen weights are never written */
        t->dtype = f->dtype;
        return;
    }
    ac.m = lc->m;
    ac.st = RL_OK;
    rl__alloc_fn(&ac, name, t);
    if ((lc->st = ac.st) != RL_OK) return;
    lc->st = rl_st_read_f32(lc->m->weights, src, (float *)t->data, t->ndim, t->shape);
}

/* config.json and the checkpoint must agree on the layer count: a tensor of a layer past
   num_hidden_layers means the config describes a different model (loading only its first
   layers would give a different model silently). */
static rl_status rl__check_layer_count(const rl_model *m, const char *dir) {
    int i;
    for (i = 0; i < rl_st_count(m->weights); i++) {
        const char *nm = rl_st_at(m->weights, i)->name;
        char *end;
        long long l;
        if (strncmp(nm, "model.layers.", 13) || nm[13] < '0' || nm[13] > '9') continue;
        l = strtoll(nm + 13, &end, 10);
        if (*end == '.' && l >= m->cfg.n_layers)
            return rl__fail(RL_ERR_FORMAT, "%s/config.json: num_hidden_layers is %lld but the checkpoint has tensor %.120s (layer %lld); "
                            "config.json and the weights describe different models", dir, (long long)m->cfg.n_layers, nm, l);
    }
    return RL_OK;
}

/* A student's config.json and its tensors must describe the same model: every tensor in
   the checkpoint is one the config asks for (layer count, which layers are attention, the
   optional parts of the mixers); missing ones are reported by the load itself. */
typedef struct { const char **names; int n, cap; rl_arena *a; } rl__name_set;
static void rl__name_add(void *u, const char *name, rl_tensor *t) {
    rl__name_set *ns = (rl__name_set *)u;
    char *c;
    RL__UNUSED(t);
    if (ns->n == ns->cap) return;
    if ((c = (char *)rl_arena_alloc(ns->a, strlen(name) + 1)) != NULL) {
        memcpy(c, name, strlen(name) + 1);
        ns->names[ns->n++] = c;
    }
}
static int rl__name_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }
static rl_status rl__student_check_tensors(rl_model *m, const char *dir) {
    rl__name_set ns;
    rl_arena a;
    rl_status st = RL_OK;
    int i, n = rl_st_count(m->weights);
    int64_t L = m->cfg.n_layers;
    rl_arena_init(&a, 1 << 16);
    ns.a = &a;
    ns.n = 0;
    ns.cap = (int)(64 * L + 16);
    ns.names = (const char **)rl_arena_alloc(&a, sizeof(char *) * (size_t)ns.cap);
    if (!ns.names) {
        rl_arena_free(&a);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", dir);
    }
    rl_model_params(m, rl__name_add, &ns);
    qsort(ns.names, (size_t)ns.n, sizeof(char *), rl__name_cmp);
    for (i = 0; i < n && st == RL_OK; i++) {
        const char *nm = rl_st_at(m->weights, i)->name, *key = nm;
        long long l = -1;
        int used = 0;
        if (bsearch(&key, ns.names, (size_t)ns.n, sizeof(char *), rl__name_cmp)) continue;
        if (!strcmp(nm, "lm_head.weight") && m->cfg.tie_embeddings) continue; /* tied, stored anyway */
        if (sscanf(nm, "model.layers.%lld.%n", &l, &used) == 1 && used > 0) {
            if (l >= L)
                st = rl__fail(RL_ERR_FORMAT, "%s/config.json: num_hidden_layers is %lld, but the checkpoint has tensor %s (layer %lld)",
                              dir, (long long)L, nm, l);
            else if (l >= 0 && m->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION && !strncmp(nm + used, "self_attn.", 10))
                st = rl__fail(RL_ERR_FORMAT, "%s/config.json: num_attention_layers %d makes layer %lld softmax attention, but the "
                              "checkpoint has the RAD-RWKV tensor %s there", dir, m->cfg.n_attention_layers, l, nm);
        }
        if (st == RL_OK)
            st = rl__fail(RL_ERR_FORMAT, "%s/config.json does not describe tensor %s of the checkpoint (use_tokenshift %s, "
                          "gate_rank_type %d, groupnorm_att %s, attention_bias %s)", dir, nm, m->cfg.use_tokenshift ? "true" : "false",
                          m->cfg.gate_rank_type, m->cfg.groupnorm_att ? "true" : "false", m->cfg.attn_bias ? "true" : "false");
    }
    /* a layer the config makes RAD-RWKV but that has only q/k/v/o in the file */
    for (i = 0; i < L && st == RL_OK; i++) {
        char nm[96];
        snprintf(nm, sizeof nm, "model.layers.%d.input_layernorm.weight", i);
        if (!rl_st_find(m->weights, nm)) {
            st = rl__fail(RL_ERR_FORMAT, "%s/config.json: num_hidden_layers is %lld, but the checkpoint has no tensors of layer %d "
                          "(no %s)", dir, (long long)L, i, nm);
            break;
        }
        if (m->blocks[i].mix.cfg.kind == RL_MIXER_ATTENTION) continue;
        snprintf(nm, sizeof nm, "model.layers.%d.self_attn.%s", i, m->blocks[i].mix.cfg.kind == RL_MIXER_RWKV6 ? "time_decay" : "w0");
        if (!rl_st_find(m->weights, nm))
            st = rl__fail(RL_ERR_FORMAT, "%s/config.json: num_attention_layers %d makes layer %d RAD-RWKV%d, but the checkpoint has no "
                          "%s (the layer looks like softmax attention)", dir, m->cfg.n_attention_layers, i, (int)m->blocks[i].mix.cfg.kind, nm);
    }
    rl_arena_free(&a);
    return st;
}

static void rl__tie_head(rl_model *m) {
    if (m->cfg.tie_embeddings) {
        m->head = m->embed; /* same storage and gradient */
        m->head.name = "lm_head.weight";
    }
}

/* The model of an open checkpoint w, which m owns from here on (closed on failure); `where`
   names the folder (or the memory image) in messages. */
static rl_status rl__model_from_st(rl_model *m, const rl_config *cfg, rl_st *w, int trainable, const char *where) {
    rl_status st;
    rl__load_ctx lc;
    memset(m, 0, sizeof *m);
    if (!(m->weights = (rl_st *)RL_MALLOC(sizeof *m->weights))) {
        rl_st_close(w);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", where);
    }
    *m->weights = *w;
    if (cfg->student) { /* a RADLADS student written by rl_model_save or the reference code */
        rl_student_opts so;
        rl__student_opts_from_config(&so, cfg, m->weights);
        st = rl__model_shape(m, cfg, &so);
    } else {
        st = rl__model_shape(m, cfg, NULL);
    }
    m->trainable = trainable;
    if (st == RL_OK && cfg->student) st = rl__student_check_tensors(m, where);
    lc.m = m;
    lc.dir = where;
    lc.st = st;
    if (lc.st == RL_OK && (lc.st = rl__check_layer_count(m, where)) == RL_OK) rl_model_params(m, rl__load_fn, &lc);
    if (lc.st != RL_OK) {
        rl_model_free(m);
        return lc.st;
    }
    rl__tie_head(m);
    return RL_OK;
}

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_model_load(rl_model *m, const char *dir, int trainable) {
    rl_config cfg;
    rl_st w;
    char path[4096];
    rl_status st;
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((st = rl_config_load(&cfg, path)) != RL_OK || (st = rl_st_open_dir(&w, dir)) != RL_OK) return st;
    return rl__model_from_st(m, &cfg, &w, trainable, dir);
}
#endif

RLDEF rl_status rl_model_from_memory(rl_model *m, const void *safetensors, size_t safetensors_len, const char *config_json,
                               size_t config_len, int trainable, const char *source) {
    rl_config cfg;
    rl_st w;
    char name[512];
    rl_status st;
    if (!source) source = "(memory)";
    snprintf(name, sizeof name, "%s/config.json", source);
    memset(m, 0, sizeof *m);
    if (!safetensors || !config_json) return rl__fail(RL_ERR_ARG, "rl_model_from_memory: NULL buffer");
    if ((st = rl_config_parse(&cfg, config_json, config_len, name)) != RL_OK) return st;
    snprintf(name, sizeof name, "%s/model.safetensors", source);
    if ((st = rl_st_open_memory(&w, safetensors, safetensors_len, name)) != RL_OK) return st;
    return rl__model_from_st(m, &cfg, &w, trainable, source);
}

/* The first n values of a host parameter as floats (rl__to_f32): for what needs F32 values of
   a frozen matrix: the student made from it, a device without kernels for its type, the run's
   identity. */
static rl_status rl__param_f32(const rl_tensor *t, float *dst, int64_t n) { return rl__to_f32(t->data, t->dtype, dst, n); }

/* ---- the parameters on a device ---- */

typedef struct {
    rl_model *m;
    int64_t i, saved; /* parameters visited; host views saved in m->host */
    int mode;         /* 0 to the device, 1 back to the host, 2 undo (restore the saved views) */
    rl_status st;
} rl__move;
static void rl__count_params(void *u, const char *name, rl_tensor *t) {
    RL__UNUSED(name);
    RL__UNUSED(t);
    ++*(int64_t *)u;
}
static void rl__move_fn(void *u, const char *name, rl_tensor *t) {
    rl__move *mv = (rl__move *)u;
    rl_model *m = mv->m;
    rl_tensor *h = &m->host[mv->i++];
    size_t bytes = (size_t)t->n * (t->dtype == RL_F32 ? sizeof(float) : sizeof(uint16_t)), gbytes = sizeof(float) * (size_t)t->n;
    void *src = t->data;
    if (mv->mode == 2) {
        if (mv->i <= mv->saved) *t = *h;
        return;
    }
    if (mv->mode == 1) { /* the device's values of trainable ones into the host buffers (frozen ones did not
                            change, and may be read-only file maps), then the host view */
        if (mv->st == RL_OK && t->grad && (t->dev->ops->copy(h->data, t->data, bytes, 2) || t->dev->ops->copy(h->grad, t->grad, gbytes, 2)))
            mv->st = rl__fail(RL_ERR_STATE, "%s: copying back from %s: %s", name, rl_device_name(t->dev), t->dev->ops->last_error());
        *t = *h;
        return;
    }
    if (mv->st != RL_OK) return;
    if (t->dtype != RL_F32 && t->dtype != RL_BF16 && t->grad) {
        mv->st = rl__fail(RL_ERR_UNSUPPORTED, "%s: only F32 and BF16 trainable parameters move to %s (this one is stored as type %d)", name,
                          rl_device_name(m->dev), (int)t->dtype);
        return;
    }
    *h = *t;
    mv->saved = mv->i;
    if (t->dtype != RL_F32 && t->dtype != RL_BF16) { /* frozen F16 or ggml blocks (a GGUF teacher): the device has no kernels
                                                         for them and gets their F32 values; the host keeps its own */
        if (!(src = RL_MALLOC(gbytes))) {
            mv->st = rl__fail(RL_ERR_NOMEM, "%s: out of memory widening it for %s", name, rl_device_name(m->dev));
            return;
        }
        if ((mv->st = rl__param_f32(h, (float *)src, h->n)) != RL_OK) {
            RL_FREE(src);
            return;
        }
        t->dtype = RL_F32;
        bytes = gbytes;
    }
    if (!(t->data = rl_arena_alloc(&m->dev_mem, bytes)) || (h->grad && !(t->grad = (float *)rl_arena_zalloc(&m->dev_mem, gbytes)))) {
        mv->st = rl__fail(RL_ERR_NOMEM, "%s: out of memory on %s (%zu bytes)", name, rl_device_name(m->dev), bytes + (h->grad ? gbytes : 0));
    } else {
        t->dev = m->dev;
        if (m->dev->ops->copy(t->data, src, bytes, 1) || (h->grad && m->dev->ops->copy(t->grad, h->grad, gbytes, 1)))
            mv->st = rl__fail(RL_ERR_STATE, "%s: copying to %s: %s", name, rl_device_name(m->dev), m->dev->ops->last_error());
    }
    if (src != h->data) RL_FREE(src);
}
RLDEF rl_status rl_model_to(rl_model *m, rl_device *d) {
    rl__move mv;
    int64_t n = 0;
    if (d == m->dev) return RL_OK;
    if (d && m->dev) return rl__fail(RL_ERR_ARG, "rl_model_to: the model is on %s; bring it back to the host first", rl_device_name(m->dev));
    memset(&mv, 0, sizeof mv);
    mv.m = m;
    mv.mode = d ? 0 : 1;
    if (d) {
        rl_model_params(m, rl__count_params, &n);
        if (!(m->host = (rl_tensor *)RL_MALLOC(sizeof(rl_tensor) * (size_t)(n ? n : 1)))) return rl__fail(RL_ERR_NOMEM, "rl_model_to: out of memory");
        rl_arena_init(&m->dev_mem, (size_t)64 << 20);
        m->dev_mem.dev = d;
    }
    m->dev = d;
    rl_model_params(m, rl__move_fn, &mv);
    if (mv.st != RL_OK && d) { /* the model stays on the host as it was */
        char why[1024];
        snprintf(why, sizeof why, "%s", rl_last_error());
        mv.mode = 2;
        mv.i = 0;
        rl_model_params(m, rl__move_fn, &mv);
        m->dev = NULL;
        rl__fail(mv.st, "%s", why);
    }
    if (!m->dev) {
        rl_arena_free(&m->dev_mem);
        RL_FREE(m->host);
        m->host = NULL;
    }
    rl__tie_head(m);
    return mv.st;
}

/* The host views of a model on a device: rl_model_to keeps each parameter's host tensor in
   m->host (in rl_model_params' order), so what reads or writes values on the host
   (checkpoints, save) works on those views; rl__model_sync first brings the trainable ones
   (those with a gradient; frozen ones never change) down from the device (kind 2) or, after
   they were written on the host, up to it (kind 1). On the host both are the model itself. */
typedef struct { rl_model *m; int64_t i; int kind; void (*fn)(void *, const char *, rl_tensor *); void *u; rl_status st; } rl__hview;
RL__INTERN void rl__hview_fn(void *u, const char *name, rl_tensor *t) {
    rl__hview *h = (rl__hview *)u;
    rl_tensor *v = h->m->dev ? &h->m->host[h->i++] : t;
    size_t bytes = (size_t)t->n * (t->dtype == RL_F32 ? sizeof(float) : sizeof(uint16_t));
    if (h->fn) h->fn(h->u, name, v);
    else if (h->st == RL_OK && t->dev && t->grad && t->dev->ops->copy(h->kind == 1 ? t->data : v->data, h->kind == 1 ? v->data : t->data, bytes, h->kind))
        h->st = rl__fail(RL_ERR_STATE, "%s: copying %s %s: %s", name, h->kind == 1 ? "to" : "from", rl_device_name(t->dev), t->dev->ops->last_error());
}
RL__INTERN void rl__params_host(rl_model *m, void (*fn)(void *, const char *, rl_tensor *), void *u) {
    rl__hview h;
    memset(&h, 0, sizeof h);
    h.m = m;
    h.fn = fn;
    h.u = u;
    rl_model_params(m, rl__hview_fn, &h);
}
RL__INTERN rl_status rl__model_sync(rl_model *m, int kind) {
    rl__hview h;
    memset(&h, 0, sizeof h);
    h.m = m;
    h.kind = kind;
    if (m->dev) rl_model_params(m, rl__hview_fn, &h);
    return h.st;
}

/* 1 (after setting the error) if m is on a device: for what runs on the host only so far */
static int rl__on_device(const rl_model *m, const char *what) {
    if (!m || !m->dev) return 0;
    rl__fail(RL_ERR_UNSUPPORTED, "%s: the model is on %s, and this runs on the host only so far: bring it back with rl_model_to(m, NULL)",
             what, rl_device_name(m->dev));
    return 1;
}

RLDEF void rl_model_free(rl_model *m) {
    rl_arena_free(&m->dev_mem); /* a model on a device: its values there go too */
    RL_FREE(m->host);
    rl_arena_free(&m->params);
    rl_arena_free(&m->grads);
    if (m->weights) {
        rl_st_close(m->weights);
        RL_FREE(m->weights);
    }
#if !defined(RADLADS_NO_GGUF)
    if (m->gguf) {
        rl_gguf_close(m->gguf);
        RL_FREE(m->gguf);
    }
#endif
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
        rl_tensor *h = rl_rmsnorm(c, x, &b->ln1, eps), *a;
        rl_mixer_io io;
        memset(&io, 0, sizeof io);
        io.v_first = v_first;
        if (s && b->mix.cfg.kind == RL_MIXER_ATTENTION) {
            io.kcache = s->k[l];
            io.vcache = s->v[l];
            io.cache_cap = s->max_ctx;
        } else if (s) {
            /* the nodes keep pointers to these until backward: they live in the arena */
            rl_tensor *st2 = (rl_tensor *)rl_arena_alloc(&c->arena, 2 * sizeof(rl_tensor));
            int64_t ss[4];
            if (!st2) return rl__op_fail(c, RL_ERR_NOMEM, "forward: out of memory");
            ss[0] = B; ss[1] = H; ss[2] = N; ss[3] = N;
            st2[0] = rl_wrap(s->S[l], RL_F32, 4, ss, 0);
            io.state_in = &st2[0];
            ss[1] = C;
            st2[1] = rl_wrap(s->shift[l], RL_F32, 2, ss, 0);
            io.shift_in = &st2[1];
            st2[0].dev = st2[1].dev = s->dev;
        }
        a = rl_mixer_forward(c, &b->mix, h, o->T, o->pos0, &io);
        if (b->mix.cfg.kind == RL_MIXER_RWKV7 && b->mix.cfg.layer == 0) v_first = io.v_first;
        if (s && io.state_out) rl__copy(c, s->S[l], s->dev, io.state_out->data, io.state_out->dev, sizeof(float) * (size_t)(B * H * N * N));
        if (s && io.shift_out) rl__copy(c, s->shift[l], s->dev, io.shift_out->data, io.shift_out->dev, sizeof(float) * (size_t)(B * C));
        if (o->attn_in) o->attn_in[l] = h;
        if (o->attn_out) o->attn_out[l] = a;
        x = rl_add(c, x, a);
        x = rl_add(c, x, rl__mlp(c, b, rl_rmsnorm(c, x, &b->ln2, eps)));
    }
    x = rl_rmsnorm(c, x, &m->norm, eps);
    return o->no_head ? x : rl_linear(c, x, &m->head, NULL);
}

RLDEF rl_tensor *rl_model_forward(rl_ctx *c, rl_model *m, const int32_t *ids, const rl_forward_opts *o) {
    if (o->B < 1 || o->T < 1) return rl__op_fail(c, RL_ERR_ARG, "model forward: B and T must be positive");
    return rl__forward(c, m, ids, o, NULL);
}


/* ---- per-op timing (RADLADS_PROFILE=1; declared in section 3) ----
   Ops are told apart by their backward function. Forward: an op "starts" at the first
   input check (rl__bad) after the previous op made its node and runs until the next op
   starts; backward: each node's backward call is timed. */
#define RL__PROF_MAX 48
typedef struct {
    void (*fn)(rl_ctx *, rl__node *);
    double fwd, bwd;
    int64_t calls, bwd_calls;
} rl__prof_row;
typedef struct {
    rl__prof_row row[RL__PROF_MAX];
    int n, cur, head; /* cur: row of the op whose forward runs (-1 none); head: an op has started */
    double mark;      /* when it started */
} rl__prof;

static const struct { void (*fn)(rl_ctx *, rl__node *); const char *name; } rl__prof_names[] = {
#if defined(RADLADS_NO_TRAINING) /* ops are told apart by their backward functions: none here */
    {NULL, "all ops"}};
#else
    {rl__add_bwd, "add/sub"}, {rl__mul_bwd, "mul"}, {rl__scale_bwd, "scale"}, {rl__rowvec_bwd, "add_row/mul_row"},
    {rl__to_bwd, "rl_to"}, {rl__linear_bwd, "linear"}, {rl__matmul_bwd, "matmul"},
    {rl__rmsnorm_bwd, "rmsnorm"}, {rl__groupnorm_bwd, "groupnorm"}, {rl__softmax_bwd, "(log)softmax"},
    {rl__unary_bwd, "exp/sigmoid/tanh/softplus/silu/rwkv6_logdecay"}, {rl__swiglu_bwd, "swiglu"}, {rl__l2norm_bwd, "l2norm"},
    {rl__rope_bwd, "rope"}, {rl__attention_bwd, "attention"}, {rl__embedding_bwd, "embedding"},
    {rl__ce_bwd, "cross_entropy"}, {rl__kl_bwd, "kl_div"}, {rl__l2_dist_bwd, "l2_dist"}, {rl__sum_bwd, "sum/dot_const"},
    {rl__add_scalar_bwd, "add_scalar"}, {rl__slice_cols_bwd, "slice_cols"}, {rl__repeat_kv_bwd, "repeat_kv"},
    {rl__token_shift_bwd, "token_shift"}, {rl__scan_bwd, "wkv6/wkv7 scan"}, 
    {rl__seq_last_bwd, "seq_last"}};
#endif

static void *rl__prof_new(void) {
    rl__prof *p = (rl__prof *)RL_MALLOC(sizeof *p);
    if (p) {
        memset(p, 0, sizeof *p);
        p->cur = -1;
    }
    return p;
}
static void rl__prof_free(rl_ctx *c) {
    RL_FREE(c->prof);
    c->prof = NULL;
}
static int rl__prof_row_of(rl__prof *p, void (*fn)(rl_ctx *, rl__node *)) {
    int i;
    for (i = 0; i < p->n; i++)
        if (p->row[i].fn == fn) return i;
    if (p->n == RL__PROF_MAX) return -1;
    p->row[p->n].fn = fn;
    return p->n++;
}
static void rl__prof_close(rl__prof *p, double t) {
    if (p->cur >= 0) p->row[p->cur].fwd += t - p->mark;
    p->cur = -1;
}
static void rl__prof_op(rl_ctx *c, void (*bwd)(rl_ctx *, rl__node *)) {
    rl__prof *p = (rl__prof *)c->prof;
    double t = rl__now();
    if (p->cur >= 0) { /* a second node without a new input check: a new op from here */
        rl__prof_close(p, t);
        p->mark = t;
    } else if (!p->head) {
        p->mark = t;
    }
    p->cur = rl__prof_row_of(p, bwd);
    if (p->cur >= 0) p->row[p->cur].calls++;
    p->head = 1;
}
static void rl__prof_boundary(rl_ctx *c) {
    rl__prof *p = (rl__prof *)c->prof;
    if (p->cur >= 0 || !p->head) { /* the previous op ended: the next one starts now */
        double t = rl__now();
        rl__prof_close(p, t);
        p->mark = t;
        p->head = 1;
    }
}
static void rl__prof_pause(rl_ctx *c) {
    rl__prof *p = (rl__prof *)c->prof;
    rl__prof_close(p, rl__now());
    p->head = 0;
}
static void rl__prof_bwd(rl_ctx *c, rl__node *n, double seconds) {
    rl__prof *p = (rl__prof *)c->prof;
    int r = rl__prof_row_of(p, n->backward);
    if (r < 0) return;
    p->row[r].bwd += seconds;
    p->row[r].bwd_calls++;
}

RLDEF void rl_profile_report(rl_ctx *c) {
    rl__prof *p = (rl__prof *)c->prof;
    double total = 0;
    int i, k, order[RL__PROF_MAX];
    if (!p) return;
    rl__prof_pause(c);
    for (i = 0; i < p->n; i++) {
        total += p->row[i].fwd + p->row[i].bwd;
        order[i] = i;
    }
    for (i = 1; i < p->n; i++) /* largest first */
        for (k = i; k > 0 && p->row[order[k]].fwd + p->row[order[k]].bwd > p->row[order[k - 1]].fwd + p->row[order[k - 1]].bwd; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    rl_log(RL_LOG_INFO, "profile: %-30s %9s %10s %10s %10s %6s", "op", "calls", "fwd ms", "bwd ms", "total ms", "share");
    for (i = 0; i < p->n; i++) {
        const rl__prof_row *r = &p->row[order[i]];
        const char *name = "?";
        size_t q;
        for (q = 0; q < sizeof rl__prof_names / sizeof rl__prof_names[0]; q++)
            if (rl__prof_names[q].fn == r->fn) name = rl__prof_names[q].name;
        rl_log(RL_LOG_INFO, "profile: %-30s %9lld %10.1f %10.1f %10.1f %5.1f%%", name, (long long)r->calls, 1e3 * r->fwd,
               1e3 * r->bwd, 1e3 * (r->fwd + r->bwd), total > 0 ? 100 * (r->fwd + r->bwd) / total : 0.0);
    }
    rl_log(RL_LOG_INFO, "profile: %-30s %9s %10s %10s %10.1f", "all ops", "", "", "", 1e3 * total);
    memset(p, 0, sizeof *p);
    p->cur = -1;
}


/* ==== 5. conversion ======================================================== */
/* ---- 5a. initial values of the new student parameters (paper §4.1; RADLADS code) ---- */

/* Orthogonal init with gain (PyTorch orthogonal_): rows of a Gaussian matrix made
   orthonormal by modified Gram-Schmidt in double (columns when rows > cols), times gain
   (times sqrt(rows/cols) when rows > cols, as the RADLADS code's ortho_init()). 0: out of memory. */
static int rl__ortho(float *w, int64_t rows, int64_t cols, double gain, rl_rng *rng) {
    int64_t big = RL__MAX(rows, cols), small = RL__MIN(rows, cols), i, j, p;
    double *q = (double *)RL_MALLOC(sizeof(double) * (size_t)(big * small));
    if (!q) return 0;
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
    return 1;
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
   U(−1/√C, 1/√C) (σ ≈ 0.5 either way). 0: out of memory. */
static int rl__mixer_init_new(rl_mixer *m, rl_rng *rng) {
    const rl_mixer_cfg *g = &m->cfg;
    double r01 = g->n_layers > 1 ? (double)g->layer / (double)(g->n_layers - 1) : 0.0;
    int64_t n, C = g->C;
    int ok = 1;
    if (g->kind == RL_MIXER_RWKV6) {
        rl__fill(&m->maa_x, 1.0f);
        rl__fill(&m->maa_r, 0); rl__fill(&m->maa_k, 0); rl__fill(&m->maa_v, 0); rl__fill(&m->maa_w, 0); rl__fill(&m->maa_g, 0);
        rl__fill(&m->maa_w1, 0);
        rl__fill_uniform(&m->maa_w2, -0.01f, 0.01f, rng);
        for (n = 0; n < C; n++) rl_f32(&m->decay)[n] = (float)(-6.0 + 5.0 * pow((double)n / (double)(C > 1 ? C - 1 : 1), 0.7 + 1.3 * r01));
        rl__fill(&m->decay_w1, 0);
        rl__fill_uniform(&m->decay_w2, -0.01f, 0.01f, rng);
        rl__fill_uniform(&m->gate_w, (float)(-1.0 / sqrt((double)C)), (float)(1.0 / sqrt((double)C)), rng);
        if (m->g2.n) { /* gate_rank_type 2 (official: g1 zero, g2 orthogonal × 0.1) */
            rl__fill(&m->g1, 0);
            ok &= rl__ortho(rl_f32(&m->g2), m->g2.shape[0], m->g2.shape[1], 0.1, rng);
        }
        if (m->lnx_w.n) {
            rl__fill(&m->lnx_w, 1.0f);
            rl__fill(&m->lnx_b, 0.0f);
        }
    } else if (g->kind == RL_MIXER_RWKV7) {
        for (n = 0; n < C; n++)
            rl_f32(&m->w0)[n] = (float)(-7.0 + 5.0 * pow((double)n / (double)(C > 1 ? C - 1 : 1), 0.85 + sqrt(r01)) + 0.5);
        rl__fill(&m->w1, 0);
        ok &= rl__ortho(rl_f32(&m->w2), m->w2.shape[0], m->w2.shape[1], 0.1, rng);
        rl__fill(&m->a0, 0);
        rl__fill(&m->a1, 0);
        ok &= rl__ortho(rl_f32(&m->a2), m->a2.shape[0], m->a2.shape[1], 0.1, rng);
        rl__fill(&m->v0, g->layer > 0 ? 1.0f : 0.0f); /* unused at layer 0 (torch.empty there) */
        rl__fill(&m->v1, 0);
        ok &= rl__ortho(rl_f32(&m->v2), m->v2.shape[0], m->v2.shape[1], 0.1, rng);
        if (m->g2.n) {
            rl__fill(&m->g1, 0);
            ok &= rl__ortho(rl_f32(&m->g2), m->g2.shape[0], m->g2.shape[1], 0.1, rng);
        }
        if (m->gate_w.n) rl__fill_uniform(&m->gate_w, (float)(-1.0 / sqrt((double)C)), (float)(1.0 / sqrt((double)C)), rng);
        rl__fill(&m->k_k, 0.85f);
        rl__fill(&m->k_a, 1.0f);
        rl__fill(&m->r_k, 0);
        if (m->lnx_w.n) {
            rl__fill(&m->lnx_w, 1.0f);
            rl__fill(&m->lnx_b, 0.0f);
        }
    }
    return ok;
}


/* ---- 5b. the student from the teacher ---- */

typedef struct { rl_model *src; const char *want; rl_tensor *found; } rl__find_ctx;
static void rl__find_fn(void *u, const char *name, rl_tensor *t) {
    rl__find_ctx *f = (rl__find_ctx *)u;
    if (!f->found && !strcmp(name, f->want)) f->found = t;
}
typedef struct { rl_model *teacher; rl_status st; int64_t copied; } rl__copy_ctx;
static void rl__copy_fn(void *u, const char *name, rl_tensor *t) {
    rl__copy_ctx *cc = (rl__copy_ctx *)u;
    rl__find_ctx f;
    f.src = cc->teacher;
    f.want = name;
    f.found = NULL;
    rl_model_params(cc->teacher, rl__find_fn, &f);
    if (!f.found) return; /* a new parameter */
    if (f.found->n != t->n) {
        cc->st = rl__fail(RL_ERR_ARG, "student %s: %lld values, teacher has %lld", name, (long long)t->n, (long long)f.found->n);
        return;
    }
    if ((cc->st = rl__param_f32(f.found, rl_f32(t), t->n)) != RL_OK) return;
    cc->copied++;
}

RLDEF rl_status rl_student_from_teacher(rl_model *s, const rl_model *teacher, const rl_student_opts *o) {
    rl_student_opts so;
    rl__alloc_ctx ac;
    rl__copy_ctx cc;
    rl_rng rng;
    rl_status st;
    int64_t l;
    if (rl__on_device(teacher, "student")) return RL_ERR_UNSUPPORTED;
    if (!o) rl_student_opts_default(&so, RL_MIXER_RWKV7);
    else so = *o;
    if (so.kind != RL_MIXER_RWKV6 && so.kind != RL_MIXER_RWKV7)
        return rl__fail(RL_ERR_ARG, "student: kind must be RL_MIXER_RWKV6 or RL_MIXER_RWKV7");
    if (so.keep_attention < 0 || so.keep_attention > teacher->cfg.n_layers)
        return rl__fail(RL_ERR_ARG, "student: keep_attention %d is outside [0, %lld]", so.keep_attention, (long long)teacher->cfg.n_layers);
    if (so.kind == RL_MIXER_RWKV7 && (so.gate == RL_GATE_NONE || so.gate < 0 || so.gate > RL_GATE_NONE))
        return rl__fail(RL_ERR_UNSUPPORTED, "student: RAD-RWKV7 needs a gate (Linear or LoRA): the official RWKV7Qwen2 code has no gate-less form");
    if (so.kind == RL_MIXER_RWKV7 && so.keep_attention > 0 && !so.use_rope)
        return rl__fail(RL_ERR_UNSUPPORTED, "student: a RAD-RWKV7 hybrid needs use_rope: the official RWKV7Qwen2 code gives its attention "
                        "layers RoPE angles only then");
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
    for (l = 0; l < s->cfg.n_layers; l++)
        if (!rl__mixer_init_new(&s->blocks[l].mix, &rng)) {
            rl_model_free(s);
            return rl__fail(RL_ERR_NOMEM, "student: out of memory initialising layer %lld", (long long)l);
        }
    return RL_OK;
}



/* ==== 6. training ========================================================== */

RLDEF void rl_tokens_free(rl_tokens *t) {
    RL_FREE(t->ids);
    t->ids = NULL;
    t->n = 0;
}

#if !defined(RADLADS_NO_STDIO)
static uint64_t rl__le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    int i;
    for (i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* binidx: the .idx header says the dtype (code 8 = uint16, 4 = int32, 5 = int64 ...);
   the .bin is the raw token array. Documents are used back to back. */
RLDEF rl_status rl_tokens_load_binidx(rl_tokens *t, const char *prefix) {
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

RLDEF rl_status rl_tokens_load_llmc(rl_tokens *t, const char *path) {
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
#endif

RL__UTIL const char *rl__memmem(const char *h, size_t hn, const char *nd, size_t nn) {
    size_t i;
    for (i = 0; nn <= hn && i <= hn - nn; i++)
        if (h[i] == nd[0] && !memcmp(h + i, nd, nn)) return h + i;
    return NULL;
}

#if !defined(RADLADS_NO_TOKENIZER) && !defined(RADLADS_NO_STDIO)
/* Tokenize a text file (one document) or a .jsonl file ({"text": ...} per line, one
   document each); every document is followed by eos when eos >= 0. */
RLDEF rl_status rl_tokens_from_text(rl_tokens *t, const rl_tokenizer *tok, const char *path, int32_t eos) {
    char *text = NULL;
    size_t len, n = strlen(path);
    rl_status st;
    int jsonl = n > 6 && !strcmp(path + n - 6, ".jsonl"), split;
    size_t pos = 0, cap = 0;
    int64_t line = 0;
    memset(t, 0, sizeof *t);
    if ((st = rl__read_file(path, (size_t)1 << 40, &text, &len)) != RL_OK) return st;
    split = !jsonl && rl_tokenizer_id(tok, "<|endoftext|>") < 0 && rl__memmem(text, len, "<|endoftext|>", 13);
    while (pos < len || (!jsonl && !split && pos == 0)) {
        const char *doc = text + pos;
        size_t dlen;
        int32_t *ids = NULL;
        int64_t n_ids = 0;
        rl_json_doc jd;
        int have_doc = 0;
        if (jsonl) {
            const char *nl = (const char *)memchr(doc, '\n', len - pos);
            size_t l = nl ? (size_t)(nl - doc) : len - pos;
            const rl_json *v;
            pos += l + 1;
            line++;
            if (l == 0) continue;
            memset(&jd, 0, sizeof jd);
            if ((st = rl_json_parse(&jd, doc, l, path)) != RL_OK) goto fail;
            v = rl_json_get(&jd.root, "text");
            if (!v || v->type != RL_JSON_STR) {
                rl_json_free(&jd);
                st = rl__fail(RL_ERR_FORMAT, "%s: line %lld: expected an object with a string field \"text\"", path, (long long)line);
                goto fail;
            }
            st = rl_tokenizer_encode(tok, v->str, (size_t)v->n, 0, &ids, &n_ids);
            rl_json_free(&jd);
            have_doc = 1;
        } else if (split) { /* TinyStories' convention: documents separated by <|endoftext|> */
            const char *end = rl__memmem(doc, len - pos, "<|endoftext|>", 13);
            size_t l = end ? (size_t)(end - doc) : len - pos;
            pos += l + (end ? 13 : 1);
            while (l && strchr(" \t\n\r\v\f", doc[0])) doc++, l--; /* stripped, as llama2.c's pretokenizer */
            while (l && strchr(" \t\n\r\v\f", doc[l - 1])) l--;
            if (!l) continue;
            st = rl_tokenizer_encode(tok, doc, l, 0, &ids, &n_ids);
            have_doc = 1;
        } else {
            dlen = len;
            pos = len + 1;
            st = rl_tokenizer_encode(tok, doc, dlen, 0, &ids, &n_ids);
            have_doc = 1;
        }
        if (st != RL_OK) goto fail;
        if (have_doc) {
            size_t need = (size_t)(t->n + n_ids + 1);
            if (need > cap) {
                int32_t *ni;
                cap = RL__MAX(need, 2 * cap);
                ni = (int32_t *)RL_REALLOC(t->ids, sizeof(int32_t) * cap);
                if (!ni) {
                    RL_FREE(ids);
                    st = rl__fail(RL_ERR_NOMEM, "%s: out of memory for the tokens", path);
                    goto fail;
                }
                t->ids = ni;
            }
            memcpy(t->ids + t->n, ids, sizeof(int32_t) * (size_t)n_ids);
            t->n += n_ids;
            if (eos >= 0) t->ids[t->n++] = eos;
        }
        RL_FREE(ids);
    }
    RL_FREE(text);
    return RL_OK;
fail:
    RL_FREE(text);
    rl_tokens_free(t);
    return st;
}
#endif

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 rl__u128; /* __extension__: no -pedantic warning */
#endif
static uint64_t rl__mulmod(uint64_t a, uint64_t b, uint64_t m) {
#if defined(__SIZEOF_INT128__)
    return (uint64_t)((rl__u128)a * b % m);
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

RLDEF rl_status rl_loader_init(rl_loader *L, const rl_tokens *data, int64_t T, double heldout) {
    int64_t slots;
    memset(L, 0, sizeof *L);
    if (T < 1) return rl__fail(RL_ERR_ARG, "loader: context length must be positive");
    if (!(heldout >= 0 && heldout < 1)) return rl__fail(RL_ERR_ARG, "loader: held-out fraction %g is outside [0, 1)", heldout);
    slots = (data->n - 1) / T; /* a window needs T+1 tokens */
    L->data = data;
    L->T = T;
    L->n_heldout = (int64_t)((double)slots * heldout);
    if (heldout > 0 && L->n_heldout < 1 && slots > 1) L->n_heldout = 1;
    L->n_train = slots - L->n_heldout;
    if (L->n_train < 2)
        return rl__fail(RL_ERR_ARG, "loader: %lld tokens give %lld training windows of %lld (need at least 2); use more text or a shorter context",
                        (long long)data->n, (long long)L->n_train, (long long)T);
    L->heldout_begin = L->n_train * T;
    L->heldout_end = L->n_heldout > 0 ? data->n : L->heldout_begin; /* the whole rest, tail included */
    L->n_heldout = L->n_heldout > 0 ? (L->heldout_end - L->heldout_begin - 1 + T - 1) / T : 0;
    for (L->p = (uint64_t)L->n_train; L->p > 2; L->p--)
        if (L->p % 3 == 2 && rl__is_prime(L->p)) break;
    L->mult = (uint64_t)floor((double)L->p * (sqrt(5.0) - 1.0) / 2.0);
    return RL_OK;
}

RLDEF const int32_t *rl_loader_train(const rl_loader *L, uint64_t k) {
    uint64_t ii = (1 + k) % L->p, slot = rl__mulmod(L->mult, rl__mulmod(ii, rl__mulmod(ii, ii, L->p), L->p), L->p);
    return L->data->ids + (int64_t)slot * L->T;
}

RLDEF const int32_t *rl_loader_heldout(const rl_loader *L, int64_t i) { return L->data->ids + L->heldout_begin + i * L->T; }

RLDEF int64_t rl_loader_heldout_len(const rl_loader *L, int64_t i) {
    int64_t left = L->heldout_end - 1 - (L->heldout_begin + i * L->T);
    return i < 0 || i >= L->n_heldout ? 0 : RL__MIN(L->T, left);
}

RLDEF rl_status rl_loader_heldout_docs(rl_loader *L, int32_t sep) {
    int64_t j;
    if (L->n_heldout < 1) return rl__fail(RL_ERR_ARG, "loader: no held-out split to align to documents");
    for (j = L->n_train * L->T; j < L->heldout_end - 1; j++)
        if (L->data->ids[j] == sep) break;
    if (j >= L->heldout_end - 1)
        return rl__fail(RL_ERR_ARG, "loader: the held-out split (tokens %lld..%lld) holds no document separator (token %d); use a larger held-out fraction",
                        (long long)L->heldout_begin, (long long)L->heldout_end, (int)sep);
    L->heldout_begin = j;
    L->n_heldout = (L->heldout_end - L->heldout_begin - 1 + L->T - 1) / L->T;
    return RL_OK;
}

#if !defined(RADLADS_NO_TRAINING) /* token data and windows above stay: evaluation reads them */
RLDEF void rl_lr_at(const rl_lr_sched *s, int64_t step, double *lr_main, double *lr_mixer) {
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

typedef struct { rl_adamw *o; rl_model *m; int which, pass, layer; rl_status st; } rl__adam_ctx;
/* 1 if `name` (a full parameter name) is a decay parameter of a mixer */
static int rl__is_decay_param(const char *name) {
    const char *leaf = strstr(name, ".self_attn.");
    size_t i;
    if (!leaf) return 0;
    leaf += strlen(".self_attn.");
    for (i = 0; i < sizeof rl__mixer_pdesc / sizeof rl__mixer_pdesc[0]; i++)
        if (!strcmp(leaf, rl__mixer_pdesc[i].name)) return (rl__mixer_pdesc[i].kinds & RL__KD) != 0;
    return 0;
}
static void rl__adam_fn(void *u, const char *name, rl_tensor *t) {
    rl__adam_ctx *a = (rl__adam_ctx *)u;
    rl_adamw *o = a->o;
    const char *sa = strstr(name, ".self_attn.");
    int mixer = sa != NULL;
    if (a->st || !t->grad) return;
    if (mixer && a->which != RL_TRAIN_ALL) { /* kept softmax-attention layers of a hybrid are not "mixers to distil" */
        long l = strtol(name + sizeof "model.layers." - 1, NULL, 10);
        if (l >= 0 && l < a->m->cfg.n_layers && a->m->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION) return;
        if (a->layer >= 0 && l != a->layer) return;
    }
    if ((a->which == RL_TRAIN_MIXERS && !mixer) || (a->which == RL_TRAIN_DECAY && !(mixer && rl__is_decay_param(name)))) return;
    if (a->pass == 0) {
        o->n++;
        return;
    }
    o->p[o->n] = t;
    o->mixer[o->n] = (unsigned char)mixer;
    o->names[o->n] = (const char *)rl_arena_alloc(&o->mem, strlen(name) + 1);
    if (t->dev && !o->dev_mem.dev) { /* the moments live where their parameters do */
        rl_arena_init(&o->dev_mem, (size_t)64 << 20);
        o->dev_mem.dev = t->dev;
    }
    o->m[o->n] = (float *)rl_arena_zalloc(t->dev ? &o->dev_mem : &o->mem, sizeof(float) * (size_t)t->n);
    o->v[o->n] = (float *)rl_arena_zalloc(t->dev ? &o->dev_mem : &o->mem, sizeof(float) * (size_t)t->n);
    if (!o->names[o->n] || !o->m[o->n] || !o->v[o->n]) {
        a->st = rl__fail(RL_ERR_NOMEM, "optimizer: out of memory for %s", name);
        return;
    }
    strcpy((char *)(uintptr_t)o->names[o->n], name);
    o->n++;
}

static rl_status rl__adamw_init_layer(rl_adamw *o, rl_model *m, int which, int layer);
RLDEF rl_status rl_adamw_init(rl_adamw *o, rl_model *m, int which) { return rl__adamw_init_layer(o, m, which, -1); }

/* layer >= 0 with RL_TRAIN_MIXERS: only that layer's mixer */
static rl_status rl__adamw_init_layer(rl_adamw *o, rl_model *m, int which, int layer) {
    rl__adam_ctx a;
    memset(o, 0, sizeof *o);
    o->beta1 = 0.9f;
    o->beta2 = 0.95f;
    o->eps = 1e-8f;
    o->clip = 1.0f;
    rl_arena_init(&o->mem, (size_t)64 << 20);
    if (!m->trainable) return rl__fail(RL_ERR_ARG, "optimizer: the model was not created trainable");
    a.o = o;
    a.m = m;
    a.which = which;
    a.layer = layer;
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

RLDEF void rl_adamw_zero_grad(rl_adamw *o) {
    int i;
    for (i = 0; i < o->n; i++) rl__dev_zero(o->p[i]->dev, o->p[i]->grad, sizeof(float) * (size_t)o->p[i]->n);
}

/* Each parameter's update runs where it lives (rl__ops.sumsq, adamw); the norm's partial
   sums come back to the host (one scalar per parameter). A device failure returns −2. */
RLDEF double rl_adamw_step(rl_adamw *o, double lr_main, double lr_mixer) {
    rl__adam_hp hp;
    double ss = 0, norm;
    int i;
    for (i = 0; i < o->n; i++)
        if (o->p[i]->dev != o->dev_mem.dev) {
            rl__fail(RL_ERR_STATE, "optimizer: %s is on %s, its moments on %s: create the optimizer after rl_model_to", o->names[i],
                     rl_device_name(o->p[i]->dev), rl_device_name(o->dev_mem.dev));
            return -2.0;
        }
    for (i = 0; i < o->n; i++)
        if (o->p[i]->dev ? o->p[i]->dev->ops->sumsq(o->p[i]->dev->q, &ss, o->p[i]->grad, o->p[i]->n) : rl__cpu_sumsq(o->pool, &ss, o->p[i]->grad, o->p[i]->n))
            return -2.0;
    norm = sqrt(ss);
    if (!(norm < INFINITY)) { /* NaN or Inf: skip the update, keep the weights */
        rl_adamw_zero_grad(o);
        return -1.0;
    }
    hp.scale = o->clip > 0 && norm > o->clip ? (float)(o->clip / (norm + 1e-6)) : 1.0f;
    o->step++;
    hp.beta1 = o->beta1; hp.beta2 = o->beta2; hp.eps = o->eps; hp.wd = o->weight_decay;
    hp.b1c = 1.0 - pow(o->beta1, (double)o->step);
    hp.b2c = 1.0 - pow(o->beta2, (double)o->step);
    for (i = 0; i < o->n; i++) {
        hp.lr = (float)(o->mixer[i] ? lr_mixer : lr_main);
        rl_device *d = o->p[i]->dev;
        float *p = rl_f32(o->p[i]), *g = o->p[i]->grad;
        if (d ? d->ops->adamw(d->q, p, g, o->m[i], o->v[i], o->p[i]->n, &hp) : rl__cpu_adamw(o->pool, p, g, o->m[i], o->v[i], o->p[i]->n, &hp))
            return -2.0;
    }
    return norm;
}

RLDEF void rl_adamw_free(rl_adamw *o) {
    rl_arena_free(&o->dev_mem);
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
static void rl__zero_grad_fn(void *u, const char *name, rl_tensor *t) {
    RL__UNUSED(u);
    RL__UNUSED(name);
    if (t->grad) rl__dev_zero(t->dev, t->grad, sizeof(float) * (size_t)t->n);
}
static void rl__ck_param(void *u, const char *name, rl_tensor *t) { rl__ck_add((rl__ck_ctx *)u, name, t, t->data); }
/* n floats of an optimizer's moments, on the host: where they are, or a copy from its device */
static const float *rl__moment_host(rl__ck_ctx *k, const rl_adamw *o, const float *x, int64_t n) {
    rl_device *d = o->dev_mem.dev;
    float *h;
    if (!d || k->st) return x;
    if (!(h = (float *)rl_arena_alloc(k->names, sizeof(float) * (size_t)n))) k->st = rl__fail(RL_ERR_NOMEM, "checkpoint: out of memory");
    else if (d->ops->copy(h, x, sizeof(float) * (size_t)n, 2)) k->st = rl__fail(RL_ERR_STATE, "checkpoint: moments from %s: %s", rl_device_name(d), d->ops->last_error());
    return h;
}

/* ---- hardening: finite weights, the run's identity, stale temporary files, the csv log ---- */

/* The first parameter holding a NaN or Inf (F32 parameters; frozen BF16 ones are the teacher's);
   of a model on a device, in its host views (after rl__model_sync). */
typedef struct { const char *bad; char name[160]; } rl__finite_ctx;
static void rl__finite_fn(void *u, const char *name, rl_tensor *t) {
    rl__finite_ctx *f = (rl__finite_ctx *)u;
    const float *d = rl_f32(t);
    int64_t i;
    if (f->bad || !d) return;
    for (i = 0; i < t->n; i++)
        if (!(d[i] - d[i] == 0)) {
            snprintf(f->name, sizeof f->name, "%s", name);
            f->bad = f->name;
            return;
        }
}
static const char *rl__nonfinite_param(rl_model *m, char *out, size_t n) {
    rl__finite_ctx f;
    memset(&f, 0, sizeof f);
    rl__params_host(m, rl__finite_fn, &f);
    if (!f.bad) return NULL;
    snprintf(out, n, "%s", f.name);
    return out;
}

/* What must not change between a run and its resumption, kept in the checkpoint's metadata
   as radlads.id.<key> = value: the teacher (shape and a hash of its first embedding rows),
   the token stream (length and a hash of its first MiB), ctx, batch, the student's
   architecture and seed, and whatever the caller adds (rl_stage_opts.identity). */
#define RL__ID_MAX 24
typedef struct {
    int n;
    char key[RL__ID_MAX][64];
    char val[RL__ID_MAX][160];
} rl__run_id;
RL__PRINTF(3, 4)
static void rl__id_add(rl__run_id *id, const char *key, const char *fmt, ...) {
    va_list ap;
    if (id->n >= RL__ID_MAX) return;
    snprintf(id->key[id->n], sizeof id->key[0], "radlads.id.%s", key);
    va_start(ap, fmt);
    vsnprintf(id->val[id->n], sizeof id->val[0], fmt, ap);
    va_end(ap);
    id->n++;
}
static void rl__run_identity(rl__run_id *id, rl_model *s, rl_model *t, const rl_tokens *data, const rl_stage_opts *o) {
    int64_t l, n_attn = 0;
    memset(id, 0, sizeof *id);
    rl__id_add(id, "ctx", "%lld", (long long)o->ctx);
    rl__id_add(id, "batch", "%lld", (long long)o->batch);
    for (l = 0; l < s->cfg.n_layers; l++) n_attn += s->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION;
    rl__id_add(id, "arch", "%s, %lld layers (%lld attention), d_model %lld, rope %d, tokenshift %d, balance_state %d, groupnorm_att %d",
               s->student.kind == RL_MIXER_RWKV6 ? "RAD-RWKV6" : s->student.kind == RL_MIXER_RWKV7 ? "RAD-RWKV7" : "transformer",
               (long long)s->cfg.n_layers, (long long)n_attn, (long long)s->cfg.hidden_size, s->student.use_rope, s->student.use_tokenshift,
               s->student.balance_state, s->student.groupnorm_att);
    rl__id_add(id, "seed", "%llu", (unsigned long long)s->student.seed);
    if (t && t->embed.data) { /* the first 2^18 values: F32 and BF16 as stored; F16 and ggml blocks (a GGUF teacher's, read
                                 in place) as their F32 values, the hash they had when such teachers were read as F32 */
        int64_t k = RL__MIN((int64_t)1 << 18, t->embed.n);
        float *w = NULL;
        const void *p = t->embed.data;
        if (t->embed.dtype != RL_F32 && t->embed.dtype != RL_BF16) {
            if (!(w = (float *)RL_MALLOC(sizeof(float) * (size_t)k)) || rl__param_f32(&t->embed, w, k) != RL_OK) k = 0;
            p = w;
        }
        rl__id_add(id, "teacher", "%s, %lld layers, d_model %lld, vocab %lld, embeddings fnv1a64 %016llx", t->cfg.model_type,
                   (long long)t->cfg.n_layers, (long long)t->cfg.hidden_size, (long long)t->cfg.vocab_size,
                   (unsigned long long)rl__fnv1a(RL__FNV_BASIS, p, (size_t)k * (t->embed.dtype == RL_BF16 ? 2 : 4)));
        RL_FREE(w);
    }
    rl__id_add(id, "data", "%lld tokens, first MiB fnv1a64 %016llx", (long long)data->n,
               (unsigned long long)rl__fnv1a(RL__FNV_BASIS, data->ids, sizeof(int32_t) * (size_t)RL__MIN(data->n, (int64_t)1 << 18)));
    if (o->identity) {
        int i;
        for (i = 0; o->identity[i] && o->identity[i + 1]; i += 2) rl__id_add(id, o->identity[i], "%s", o->identity[i + 1]);
    }
}
/* meta = fixed key/value pairs (NULL-terminated) followed by the identity */
static void rl__meta_with_id(const char **meta, int cap, const char *const *fixed, const rl__run_id *id) {
    int n = 0, i;
    for (i = 0; fixed[i] && n + 2 < cap; i += 2) {
        meta[n++] = fixed[i];
        meta[n++] = fixed[i + 1];
    }
    for (i = 0; id && i < id->n && n + 2 < cap; i++) {
        meta[n++] = id->key[i];
        meta[n++] = id->val[i];
    }
    meta[n] = NULL;
}

/* Before resuming: the checkpoint must come from this run (else RL_ERR_STATE naming the
   field, unless force) and its counters must be numbers that fit it. */
static rl_status rl__check_run_id(const char *path, int stage, const rl__run_id *id, int force, int64_t steps) {
    rl_st st;
    rl_status s;
    int i, missing = 0;
    char what[600], want[8];
    int64_t step = 0;
    const char *v;
    if ((s = rl_st_open(&st, path)) != RL_OK) return s;
    snprintf(want, sizeof want, "%d", stage);
    if (!(v = rl_st_meta(&st, "radlads.stage")) || strcmp(v, want)) { /* not this stage's: rl__load_checkpoint says so */
        rl_st_close(&st);
        return RL_OK;
    }
    for (i = 0; i < id->n; i++) {
        char have[160];
        if (!(v = rl_st_meta(&st, id->key[i]))) {
            missing++;
            continue;
        }
        snprintf(have, sizeof have, "%s", v);
        if (strcmp(have, id->val[i])) {
            if (force) {
                rl_log(RL_LOG_WARN, "%s: resuming anyway (forced) although %s differs: '%s' in the checkpoint, '%s' now", path, id->key[i] + 11,
                       have, id->val[i]);
                continue;
            }
            rl_st_close(&st);
            return rl__fail(RL_ERR_STATE, "%s: this checkpoint is from a different run: %s is '%s' there but '%s' now; start without resume, "
                            "or force it (radlads convert --resume-force)", path, id->key[i] + 11, have, id->val[i]);
        }
    }
    if (missing && missing == id->n) rl_log(RL_LOG_WARN, "%s: the checkpoint records no run identity (an older one); not checked", path);
    snprintf(what, sizeof what, "%s: metadata radlads.step", path);
    v = rl_st_meta(&st, "radlads.step");
    s = v && rl_parse_i64(v, what, 0, INT64_MAX / 2, 0, &step) != RL_OK ? RL_ERR_FORMAT : RL_OK;
    if (s == RL_OK && step > steps && !force)
        s = rl__fail(RL_ERR_STATE, "%s: the checkpoint is at step %lld but this stage has %lld steps; start without resume, or force it "
                     "(radlads convert --resume-force)", path, (long long)step, (long long)steps);
    rl_st_close(&st);
    return s;
}

/* The csv log when a stage (re)starts at step `from`: rows of this stage after `from` are of
   steps about to be redone, so they go; every other row stays. */
static rl_status rl__csv_trim(const char *path, int stage, int64_t from) {
    char *text = NULL, *out, *p, *end;
    size_t len = 0, n = 0;
    rl_status st;
    FILE *f = fopen(path, "rb");
    if (!f) return RL_OK; /* no log yet */
    fclose(f);
    if ((st = rl__read_file(path, (size_t)1 << 32, &text, &len)) != RL_OK) return st;
    if (!(out = (char *)RL_MALLOC(len + 1))) {
        RL_FREE(text);
        return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    }
    for (p = text; p < text + len; p = end) {
        long long sg = -1, sp = -1;
        char *nl = (char *)memchr(p, '\n', (size_t)(text + len - p));
        end = nl ? nl + 1 : text + len;
        if (sscanf(p, "%lld,%lld,", &sg, &sp) == 2 && sg == stage && sp > from) continue;
        memcpy(out + n, p, (size_t)(end - p));
        n += (size_t)(end - p);
    }
    st = n == len ? RL_OK : rl__write_atomic(path, out, n);
    RL_FREE(out);
    RL_FREE(text);
    return st;
}

/* The checkpoint after `step` steps: every parameter, the Adam moments of o (none when o is
   NULL: radlads.adam_step 0), the counters, the key/value pairs of `extra` (NULL-terminated,
   may be NULL) and the run's identity. */
static rl_status rl__write_checkpoint(const char *path, rl_model *m, const rl_adamw *o, int stage, int64_t step, int64_t tokens,
                                      const char *const *extra, const rl__run_id *id) {
    rl__ck_ctx k;
    rl_arena names;
    char buf[4][32], nm[300];
    const char *meta[15], *all[2 * RL__ID_MAX + 16];
    rl_status st;
    int i, n_meta;
    if ((st = rl__model_sync(m, 2)) != RL_OK) return st; /* a model on a device: its values come down first */
    if (rl__nonfinite_param(m, nm, sizeof nm)) /* never replace a good checkpoint with a broken one */
        return rl__fail(RL_ERR_STATE, "%s: not written: parameter %s holds NaN or Inf", path, nm);
    memset(&k, 0, sizeof k);
    rl_arena_init(&names, 1 << 20); /* the names, and the moments of a device staged on the host */
    k.names = &names;
    rl__params_host(m, rl__ck_param, &k);
    for (i = 0; o && i < o->n && !k.st; i++) {
        snprintf(nm, sizeof nm, "optim.m.%s", o->names[i]);
        rl__ck_add(&k, nm, o->p[i], rl__moment_host(&k, o, o->m[i], o->p[i]->n));
        snprintf(nm, sizeof nm, "optim.v.%s", o->names[i]);
        rl__ck_add(&k, nm, o->p[i], rl__moment_host(&k, o, o->v[i], o->p[i]->n));
    }
    snprintf(buf[0], sizeof buf[0], "%d", stage);
    snprintf(buf[1], sizeof buf[1], "%lld", (long long)step);
    snprintf(buf[2], sizeof buf[2], "%lld", (long long)(o ? o->step : 0));
    snprintf(buf[3], sizeof buf[3], "%lld", (long long)tokens);
    meta[0] = "radlads.stage"; meta[1] = buf[0];
    meta[2] = "radlads.step"; meta[3] = buf[1];
    meta[4] = "radlads.adam_step"; meta[5] = buf[2];
    meta[6] = "radlads.tokens"; meta[7] = buf[3];
    meta[8] = "radlads.kind"; meta[9] = "checkpoint";
    n_meta = 10;
    for (i = 0; extra && extra[i] && extra[i + 1] && n_meta + 2 < (int)(sizeof meta / sizeof meta[0]); i += 2) {
        meta[n_meta++] = extra[i];
        meta[n_meta++] = extra[i + 1];
    }
    meta[n_meta] = NULL;
    rl__meta_with_id(all, (int)(sizeof all / sizeof all[0]), meta, id);
    st = k.st ? k.st : rl_st_write(path, k.e, k.n, all, 0);
    RL_FREE(k.e);
    rl_arena_free(&names);
    return st;
}
static rl_status rl__save_checkpoint(const char *path, rl_model *m, rl_adamw *o, int stage, int64_t step, int64_t tokens, const rl__run_id *id) {
    return rl__write_checkpoint(path, m, o, stage, step, tokens, NULL, id);
}

typedef struct { const rl_st *st; rl_status s; } rl__ld_ctx;
static void rl__ck_load_param(void *u, const char *name, rl_tensor *t) {
    rl__ld_ctx *l = (rl__ld_ctx *)u;
    if (l->s == RL_OK) l->s = rl_st_read_f32(l->st, name, rl_f32(t), t->ndim, t->shape);
}

/* an optimizer's moment (like parameter p) from a checkpoint into x: on the host, or through a
   host copy onto the optimizer's device */
static rl_status rl__read_moment(const rl_st *st, const char *name, const rl_adamw *o, float *x, const rl_tensor *p) {
    rl_device *d = o->dev_mem.dev;
    float *h = d ? (float *)RL_MALLOC(sizeof(float) * (size_t)p->n) : x;
    rl_status s;
    if (!h) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", name);
    s = rl_st_read_f32(st, name, h, p->ndim, p->shape);
    if (s == RL_OK && d && d->ops->copy(x, h, sizeof(float) * (size_t)p->n, 1))
        s = rl__fail(RL_ERR_STATE, "%s: copying to %s: %s", name, rl_device_name(d), d->ops->last_error());
    if (d) RL_FREE(h);
    return s;
}

static rl_status rl__load_checkpoint(const char *path, rl_model *m, rl_adamw *o, int stage, int64_t *step) {
    rl_st st;
    rl__ld_ctx l;
    const char *v;
    char nm[300], got[48], what[600];
    int i;
    int64_t k_stage = 0, k_step = 0, k_adam = 0;
    rl_status s;
    if ((s = rl_st_open(&st, path)) != RL_OK) return s;
    v = rl_st_meta(&st, "radlads.stage");
    snprintf(got, sizeof got, "%.40s", v ? v : "missing"); /* v lives in the file's header: copy before closing */
    if (!v || rl_parse_i64(v, "radlads.stage", 1, 3, 0, &k_stage) != RL_OK || k_stage != stage || !rl_st_meta(&st, "radlads.step") ||
        !rl_st_meta(&st, "radlads.adam_step")) {
        rl_st_close(&st);
        return rl__fail(RL_ERR_FORMAT, "%s: not a checkpoint of stage %d (metadata radlads.stage is %s); start this stage without --resume",
                        path, stage, got);
    }
    snprintf(what, sizeof what, "%s: metadata radlads.step", path);
    if ((s = rl_parse_i64(rl_st_meta(&st, "radlads.step"), what, 0, INT64_MAX / 2, 0, &k_step)) == RL_OK) {
        snprintf(what, sizeof what, "%s: metadata radlads.adam_step", path);
        s = rl_parse_i64(rl_st_meta(&st, "radlads.adam_step"), what, 0, k_step, 0, &k_adam);
    }
    if (s != RL_OK) {
        rl_st_close(&st);
        return RL_ERR_FORMAT;
    }
    *step = k_step;
    o->step = k_adam;
    l.st = &st;
    l.s = RL_OK;
    rl__params_host(m, rl__ck_load_param, &l);
    if (l.s == RL_OK) l.s = rl__model_sync(m, 1); /* a model on a device: the values go up */
    for (i = 0; i < o->n && l.s == RL_OK; i++) {
        snprintf(nm, sizeof nm, "optim.m.%s", o->names[i]);
        l.s = rl__read_moment(&st, nm, o, o->m[i], o->p[i]);
        snprintf(nm, sizeof nm, "optim.v.%s", o->names[i]);
        if (l.s == RL_OK) l.s = rl__read_moment(&st, nm, o, o->v[i], o->p[i]);
    }
    rl_st_close(&st);
    return l.s;
}

/* ---- stages ---- */

RLDEF void rl_stage_opts_default(rl_stage_opts *o, int stage) {
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
    o->chunk = 512;
    o->heldout = 0.05;
    o->ckpt_every = 100;
}

typedef struct { rl_plan *p; int which; int64_t bytes; } rl__plan_ctx;
static void rl__plan_fn(void *u, const char *name, rl_tensor *t) {
    rl__plan_ctx *c = (rl__plan_ctx *)u;
    int mixer = strstr(name, ".self_attn.") != NULL;
    int trained = c->which == RL_TRAIN_ALL || (mixer && (c->which == RL_TRAIN_MIXERS || rl__is_decay_param(name)));
    c->p->params += t->n;
    c->bytes += t->n * (t->dtype == RL_BF16 || t->dtype == RL_F16 ? 2 : 4);
    if (trained) c->p->trained += t->n;
}
static void rl__bytes_fn(void *u, const char *name, rl_tensor *t) {
    RL__UNUSED(name);
    *(int64_t *)u += t->n * (t->dtype == RL_BF16 || t->dtype == RL_F16 ? 2 : 4);
}

/* stage 2's vocabulary chunk for the option kl_chunk (rl_stage_opts), 0: the whole vocabulary */
static int64_t rl__kl_chunk_of(int64_t kl_chunk, const rl_model *s) { return kl_chunk > 0 ? kl_chunk : kl_chunk == 0 && s->dev ? RL__KL_CHUNK : 0; }

RLDEF rl_status rl_stage_plan(rl_model *student, rl_model *teacher, const rl_stage_opts *o, rl_plan *p) {
    rl__plan_ctx pc;
    int64_t tb = 0, T = o->ctx, mb = o->micro_batch > 0 ? o->micro_batch : 1, C = student->cfg.hidden_size, F = student->cfg.intermediate_size;
    int64_t V = student->cfg.vocab_size, L = student->cfg.n_layers, H = student->cfg.n_heads, N = student->cfg.head_dim, l, n_attn = 0, ck;
    double per_tok_floats, dense_s, dense_t;
    memset(p, 0, sizeof *p);
    pc.p = p;
    pc.which = o->stage == 1 ? RL_TRAIN_MIXERS : o->train;
    pc.bytes = 0;
    rl_model_params(student, rl__plan_fn, &pc);
    if (teacher && o->stage < 3) rl_model_params(teacher, rl__bytes_fn, &tb);
    for (l = 0; l < L; l++) n_attn += student->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION;
    p->weights_bytes = (double)(pc.bytes + tb);
    p->grads_bytes = 4.0 * (double)p->params;
    p->optim_bytes = 8.0 * (double)p->trained;
    /* floats per token kept on the tape, forward values and gradients (x2): a RAD-RWKV
       layer records ~40 vectors of C and 3 of F; the head V (KL/CE need ~4 of them) */
    ck = o->stage == 2 ? RL__MIN(rl__kl_chunk_of(o->kl_chunk, student), V) : 0; /* stage 2 in vocabulary chunks: [tokens, chunk] x 3 */
    per_tok_floats = 2.0 * (double)(L * (40 * C + 3 * F)) + (o->stage == 1 ? (double)(L * 12 * C) : ck ? 3.0 * (double)ck : 4.0 * (double)V);
    p->act_bytes = 4.0 * per_tok_floats * (double)(T * mb);
    if (o->stage == 3 && o->carry_state && o->chunk > 0 && o->chunk < T) p->act_bytes *= (double)o->chunk / (double)T;
    dense_s = (double)(p->params - (student->cfg.tie_embeddings ? 0 : V * C)); /* the embedding lookup costs nothing */
    dense_t = (double)(tb / 2 > 0 ? teacher ? rl_model_n_params(teacher) - V * C : 0 : 0);
    if (o->stage == 1) /* teacher forward + forward/backward of the mixers only */
        p->flops_per_token = 2.0 * dense_t + 6.0 * (double)p->trained + 4.0 * (double)(L * T * C) / 2 + 12.0 * (double)(L * H * N * N);
    else
        p->flops_per_token = (o->stage == 2 ? 2.0 * dense_t + 4.0 * (double)(L * T * C) / 2 : 0.0) + 6.0 * dense_s +
                             12.0 * (double)((L - n_attn) * H * N * N) + 12.0 * (double)(n_attn * T * C) / 2;
    if (ck) p->flops_per_token += 4.0 * (double)(V * C); /* the chunks' logits made again backward, the student's and the teacher's */
    p->flops_total = p->flops_per_token * (double)o->tokens;
    return RL_OK;
}

/* Loss of one micro-batch of B windows (ids: B×(T+1), row-major); kl_chunk: stage 2's
   vocabulary chunks (rl_stage_opts.kl_chunk). */
RL__INTERN rl_tensor *rl__stage_loss(rl_ctx *c, rl_model *s, rl_model *t, int stage, const int32_t *win, int64_t B, int64_t T,
                                     int32_t *x, int32_t *y, rl_state *carry, int64_t kl_chunk) {
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
        int64_t ck = rl__kl_chunk_of(kl_chunk, s);
        fo.no_head = ck > 0; /* chunks: the final hidden states, the heads applied chunk by chunk */
        rl_no_grad_push(c);
        tl = rl_model_forward(c, t, x, &fo);
        rl_no_grad_pop(c);
        sl = rl_model_forward(c, s, x, &fo);
        return ck ? rl_kl_head(c, sl, &s->head, tl, &t->head, ck) : rl_kl_div(c, sl, tl);
    }
    if (carry) { /* one chunk of one sequence, continuing from the carried state */
        fo.pos0 = carry->pos;
        carry->pos += T;
        return rl_cross_entropy(c, rl__forward(c, s, x, &fo, carry), y);
    }
    return rl_cross_entropy(c, rl_model_forward(c, s, x, &fo), y);
}

/* ---- step 1, one layer at a time ---- */

/* The teacher's mixer input and output at layer l (and the input of layer 0), computed
   without keeping the earlier layers: the residual stream lives in xbuf and the arenas are
   rewound after every layer. Results are copied to in_l, out_l, in_0 ([B*T, C] each). The
   buffers are where the teacher is. */
RL__INTERN rl_status rl__teacher_layer_io(rl_ctx *c, rl_model *t, const int32_t *ids, int64_t R, int64_t T, int64_t l, float *xbuf,
                                          float *in_l, float *out_l, float *in_0) {
    int64_t C = t->cfg.hidden_size, j, s2[2];
    size_t bytes = sizeof(float) * (size_t)(R * C);
    rl_device *d = t->dev;
    rl_arena_mark_t mk, dmk;
    rl_tensor *x;
    s2[0] = R;
    s2[1] = C;
    rl_no_grad_push(c);
    mk = rl_arena_mark(&c->arena);
    dmk = rl_arena_mark(&c->dev_arena);
    if (!(x = rl_embedding(c, ids, R, &t->embed)) || !rl__copy(c, xbuf, d, x->data, d, bytes)) goto fail;
    for (j = 0; j <= l; j++) {
        rl_block *b = &t->blocks[j];
        rl_tensor xt = rl_wrap(xbuf, RL_F32, 2, s2, 0), *h, *a, *y;
        xt.dev = d;
        rl_arena_reset(&c->arena, mk);
        rl_arena_reset(&c->dev_arena, dmk);
        h = rl_rmsnorm(c, &xt, &b->ln1, t->cfg.rms_eps);
        a = rl_mixer_forward(c, &b->mix, h, T, 0, NULL);
        if (!a) goto fail;
        if (j == 0 && in_0 && !rl__copy(c, in_0, d, h->data, d, bytes)) goto fail;
        if (j == l) {
            if (!rl__copy(c, in_l, d, h->data, d, bytes) || !rl__copy(c, out_l, d, a->data, d, bytes)) goto fail;
            break;
        }
        y = rl_add(c, &xt, a);
        y = rl_add(c, y, rl__mlp(c, b, rl_rmsnorm(c, y, &b->ln2, t->cfg.rms_eps)));
        if (!y || !rl__copy(c, xbuf, d, y->data, d, bytes)) goto fail;
    }
    rl_arena_reset(&c->arena, mk);
    rl_arena_reset(&c->dev_arena, dmk);
    rl_no_grad_pop(c);
    return RL_OK;
fail:
    rl_no_grad_pop(c);
    return c->err ? c->err : RL_ERR_STATE;
}

/* ---- the stage loop ----
   Every stage runs one loop (rl__stage_run): the learning-rate schedule, micro-batches, the
   NaN guard, checkpoints, the progress callback, the csv row, max_steps, stop and resume.
   What differs between stages is an rl__stage_kind, the functions the loop calls:
     whole stage      one phase; the loss of rl__stage_loss (stage 3 with carry_state: one
                      sequence at a time, in chunks with the state carried);
     layer by layer   step 1 with rl_stage_opts.layerwise: one phase per layer, each with
                      its own optimizer (that layer's mixer) and the whole schedule; the
                      loss of one layer on the teacher's streamed inputs and outputs.
   Steps are counted over all phases: step g is step g % steps of phase g / steps (the
   numbers of the progress callback and the csv log). A phase that trains nothing (a kept
   attention layer) is passed over. Checkpoints are written every ckpt_every steps, at the
   end of every phase, on stop and at max_steps; one of the layer-by-layer step 1 also says
   which layers are done (radlads.layer_done) and counts radlads.step inside the next one
   (0 at a layer's end: no Adam moments, the next layer starts afresh). */
typedef struct rl__run rl__run;
typedef struct rl__stage_kind {
    rl_status (*setup)(rl__run *r);                                   /* phases, buffers (after the identity) */
    int (*phase)(rl__run *r, int64_t ph, int *which, int *layer);     /* what phase ph trains; 0: nothing */
    rl_status (*resume)(rl__run *r, int64_t *g);                      /* read the checkpoint; the step to continue from */
    rl_status (*micro)(rl__run *r, int64_t s, int64_t k, double *loss); /* samples k.. of step s of the phase: forward,
                                                                           backward, the loss (a share of the batch mean) added */
    rl_status (*save)(rl__run *r, int64_t g);                         /* the checkpoint after g steps */
    void (*cleanup)(rl__run *r);
} rl__stage_kind;

struct rl__run {
    const struct rl__stage_kind *kind;
    rl_ctx *c;
    rl_model *s, *t;
    const rl_tokens *data;
    const rl_stage_opts *o;
    rl_loader L;
    rl_lr_sched lr;
    rl__run_id id;
    int64_t steps, phases, tps; /* steps per phase; phases; tokens per step */
    int64_t mb, per_call;       /* micro-batch; samples per call of micro */
    rl_adamw opt;
    int64_t opt_phase;          /* the phase opt is for; -1: none */
    int32_t *win, *x, *y;       /* token buffers */
    float *buf;                 /* layer by layer: the teacher's streamed layer */
    rl_state cstate, *carry;    /* stage 3 with carry_state */
};

/* the optimizer of phase ph (the previous one freed); *skip: the phase trains nothing */
static rl_status rl__run_phase(rl__run *r, int64_t ph, int *skip) {
    int which = RL_TRAIN_ALL, layer = -1;
    rl_status st;
    const rl_stage_opts *o = r->o;
    *skip = !r->kind->phase(r, ph, &which, &layer);
    if (r->opt_phase >= 0) rl_adamw_free(&r->opt);
    r->opt_phase = -1;
    if (*skip) return RL_OK;
    if ((st = rl__adamw_init_layer(&r->opt, r->s, which, layer)) != RL_OK) {
        rl_adamw_free(&r->opt);
        return st;
    }
    r->opt.pool = r->c->pool;
    r->opt.beta1 = o->beta1;
    r->opt.beta2 = o->beta2;
    r->opt.eps = o->eps;
    r->opt.weight_decay = o->weight_decay;
    r->opt.clip = o->clip;
    r->opt_phase = ph;
    return RL_OK;
}

/* ---- the whole stage ---- */

static int rl__whole_phase(rl__run *r, int64_t ph, int *which, int *layer) {
    RL__UNUSED(ph);
    *which = r->o->stage == 1 ? RL_TRAIN_MIXERS : r->o->train;
    *layer = -1;
    return 1;
}
static rl_status rl__whole_setup(rl__run *r) {
    const rl_stage_opts *o = r->o;
    int64_t l;
    int skip;
    rl_status st;
    r->phases = 1;
    r->per_call = r->mb;
    if (o->stage == 3 && o->carry_state && o->chunk > 0 && o->chunk < o->ctx) {
        for (l = 0; l < r->s->cfg.n_layers; l++)
            if (r->s->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION)
                return rl__fail(RL_ERR_UNSUPPORTED, "stage 3: carry_state needs a student without attention layers (layer %lld is attention); "
                                "train hybrids with whole windows (carry_state 0)", (long long)l);
        if ((st = rl_state_init_batch(&r->cstate, r->s, o->ctx, r->mb)) != RL_OK) return st;
        r->carry = &r->cstate;
    }
    if ((st = rl__run_phase(r, 0, &skip)) != RL_OK) return st; /* the optimizer first: its errors before any file is touched */
    if (!(r->win = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)(r->mb * (3 * o->ctx + 1)))))
        return rl__fail(RL_ERR_NOMEM, "train: out of memory");
    r->x = r->win + r->mb * (o->ctx + 1);
    r->y = r->x + r->mb * o->ctx;
    return RL_OK;
}
static rl_status rl__whole_resume(rl__run *r, int64_t *g) {
    rl_status st;
    if ((st = rl__check_run_id(r->o->checkpoint, r->o->stage, &r->id, r->o->resume_force, r->steps)) != RL_OK) return st;
    return rl__load_checkpoint(r->o->checkpoint, r->s, &r->opt, r->o->stage, g);
}
static rl_status rl__whole_micro(rl__run *r, int64_t s, int64_t k, double *loss_sum) {
    rl_ctx *c = r->c;
    const rl_stage_opts *o = r->o;
    rl_tensor *loss;
    rl_status st = RL_OK;
    int64_t b, c0;
    if (r->carry) { /* stage 3: the micro-batch's sequences in chunks, the state carried across them */
        rl_state_reset(r->carry);
        for (c0 = 0; c0 < o->ctx; c0 += o->chunk) {
            int64_t len = RL__MIN(o->chunk, o->ctx - c0);
            for (b = 0; b < r->mb; b++)
                memcpy(r->win + b * (len + 1), rl_loader_train(&r->L, (uint64_t)(s * o->batch + k + b)) + c0, sizeof(int32_t) * (size_t)(len + 1));
            rl_ctx_reset(c);
            loss = rl__stage_loss(c, r->s, NULL, 3, r->win, r->mb, len, r->x, r->y, r->carry, 0);
            if (loss) loss = rl_scale(c, loss, (float)(len * r->mb) / (float)(o->ctx * o->batch));
            if (!loss || (st = rl_backward(c, loss)) != RL_OK) return c->err ? c->err : st ? st : RL_ERR_STATE;
            *loss_sum += rl__item(c, loss);
        }
        return c->err;
    }
    for (b = 0; b < r->mb; b++)
        memcpy(r->win + b * (o->ctx + 1), rl_loader_train(&r->L, (uint64_t)(s * o->batch + k + b)), sizeof(int32_t) * (size_t)(o->ctx + 1));
    rl_ctx_reset(c);
    loss = rl__stage_loss(c, r->s, r->t, o->stage, r->win, r->mb, o->ctx, r->x, r->y, NULL, o->kl_chunk);
    if (loss) loss = rl_scale(c, loss, (float)r->mb / (float)o->batch); /* mean over the batch */
    if (!loss || (st = rl_backward(c, loss)) != RL_OK) return c->err ? c->err : st ? st : RL_ERR_STATE;
    *loss_sum += rl__item(c, loss);
    return c->err;
}
static rl_status rl__whole_save(rl__run *r, int64_t g) {
    return rl__save_checkpoint(r->o->checkpoint, r->s, &r->opt, r->o->stage, g, g * r->tps, &r->id);
}
static void rl__whole_cleanup(rl__run *r) {
    RL_FREE(r->win);
    if (r->carry) rl_state_free(r->carry);
}
static const rl__stage_kind rl__stage_whole = {rl__whole_setup, rl__whole_phase, rl__whole_resume, rl__whole_micro, rl__whole_save,
                                                rl__whole_cleanup};

/* ---- step 1, one layer at a time (paper §4.2) ---- */

static int rl__lw_phase(rl__run *r, int64_t ph, int *which, int *layer) {
    *which = RL_TRAIN_MIXERS;
    *layer = (int)ph;
    return r->s->blocks[ph].mix.cfg.kind != RL_MIXER_ATTENTION; /* kept attention: identical to the teacher */
}
static rl_status rl__lw_setup(rl__run *r) {
    int64_t R = r->mb * r->o->ctx, C = r->s->cfg.hidden_size;
    r->phases = r->s->cfg.n_layers;
    r->per_call = r->mb;
    rl__id_add(&r->id, "layerwise", "1");
    r->buf = (float *)rl__dev_alloc(r->s->dev, sizeof(float) * (size_t)(4 * R * C)); /* where the models are */
    r->x = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)R);
    return r->buf && r->x ? RL_OK : rl__fail(RL_ERR_NOMEM, "stage 1 layerwise: out of memory%s%s", r->s->dev ? " on " : "",
                                             r->s->dev ? rl_device_name(r->s->dev) : "");
}
/* the layers done (radlads.layer_done; none in a checkpoint of a whole step 1) and the step
   inside the next one, with that layer's optimizer when it is under way */
static rl_status rl__lw_resume(rl__run *r, int64_t *g) {
    const char *path = r->o->checkpoint, *v;
    int64_t first = 0, within = 0, ignored;
    char what[600];
    rl_st ck;
    rl_status st;
    int skip = 1;
    if ((st = rl__check_run_id(path, 1, &r->id, r->o->resume_force, r->steps)) != RL_OK) return st;
    if ((st = rl_st_open(&ck, path)) != RL_OK) return st;
    snprintf(what, sizeof what, "%s: metadata radlads.layer_done", path);
    if ((v = rl_st_meta(&ck, "radlads.layer_done")) != NULL) {
        if (rl_parse_i64(v, what, -1, r->phases - 1, 0, &first) != RL_OK) st = RL_ERR_FORMAT;
        first++;
        snprintf(what, sizeof what, "%s: metadata radlads.step", path);
        if (!st && (v = rl_st_meta(&ck, "radlads.step")) != NULL && rl_parse_i64(v, what, 0, INT64_MAX / 2, 0, &within) != RL_OK)
            st = RL_ERR_FORMAT;
    }
    rl_st_close(&ck);
    if (st) return st;
    if (within > 0 && first < r->phases && (st = rl__run_phase(r, first, &skip)) != RL_OK) return st;
    if (skip) { /* at the start of a layer: the weights only */
        rl_adamw none;
        memset(&none, 0, sizeof none);
        within = 0;
        st = rl__load_checkpoint(path, r->s, &none, 1, &ignored);
    } else {
        st = rl__load_checkpoint(path, r->s, &r->opt, 1, &within);
    }
    *g = first * r->steps + RL__MIN(within, r->steps);
    return st;
}
static rl_status rl__lw_micro(rl__run *r, int64_t s, int64_t k, double *loss_sum) {
    rl_ctx *c = r->c;
    const rl_stage_opts *o = r->o;
    int64_t l = r->opt_phase, T = o->ctx, R = r->mb * T, C = r->s->cfg.hidden_size, b, s2[2];
    rl_mixer *m = &r->s->blocks[l].mix;
    float *buf = r->buf;
    rl_tensor hin, tout, h0, *ys, *loss;
    rl_mixer_io io;
    rl_status st;
    for (b = 0; b < r->mb; b++) memcpy(r->x + b * T, rl_loader_train(&r->L, (uint64_t)(s * o->batch + k + b)), sizeof(int32_t) * (size_t)T);
    rl_ctx_reset(c);
    if ((st = rl__teacher_layer_io(c, r->t, r->x, R, T, l, buf, buf + R * C, buf + 2 * R * C, buf + 3 * R * C)) != RL_OK) return st;
    s2[0] = R;
    s2[1] = C;
    hin = rl_wrap(buf + R * C, RL_F32, 2, s2, 0);
    tout = rl_wrap(buf + 2 * R * C, RL_F32, 2, s2, 0);
    h0 = rl_wrap(buf + 3 * R * C, RL_F32, 2, s2, 0);
    hin.dev = tout.dev = h0.dev = r->s->dev;
    memset(&io, 0, sizeof io);
    if (m->cfg.kind == RL_MIXER_RWKV7 && l > 0) { /* v_first from the student's layer 0, no gradient */
        rl_mixer_io io0;
        memset(&io0, 0, sizeof io0);
        rl_no_grad_push(c);
        rl_mixer_forward(c, &r->s->blocks[0].mix, &h0, T, 0, &io0);
        rl_no_grad_pop(c);
        io.v_first = io0.v_first;
    }
    ys = rl_mixer_forward(c, m, &hin, T, 0, &io);
    loss = rl_scale(c, rl_l2_dist(c, ys, &tout), (float)r->mb / (float)o->batch);
    if (!loss || (st = rl_backward(c, loss)) != RL_OK) return c->err ? c->err : st ? st : RL_ERR_STATE;
    *loss_sum += rl__item(c, loss);
    return c->err;
}
static rl_status rl__lw_save(rl__run *r, int64_t g) {
    int64_t within = g % r->steps;
    char done[32];
    const char *extra[3];
    snprintf(done, sizeof done, "%lld", (long long)(g / r->steps - 1));
    extra[0] = "radlads.layer_done";
    extra[1] = done;
    extra[2] = NULL;
    return rl__write_checkpoint(r->o->checkpoint, r->s, within && r->opt_phase >= 0 ? &r->opt : NULL, 1, within, g * r->tps, extra, &r->id);
}
static void rl__lw_cleanup(rl__run *r) {
    rl__dev_free(r->s->dev, r->buf);
    RL_FREE(r->x);
}
static const rl__stage_kind rl__stage_layerwise = {rl__lw_setup, rl__lw_phase, rl__lw_resume, rl__lw_micro, rl__lw_save, rl__lw_cleanup};

/* ---- the loop ---- */

/* After step g: the NaN guard's count, the progress callback and the csv row. */
static void rl__run_report(rl__run *r, FILE *csv, int64_t g, int64_t done_here, double t0, double loss, double lr, double gn,
                           int n_bad, int64_t n_nonfinite, const char *where) {
    const rl_stage_opts *o = r->o;
    int64_t total = r->phases * r->steps;
    rl_progress p;
    memset(&p, 0, sizeof p);
    p.stage = o->stage;
    p.step = g + 1;
    p.steps = total;
    p.tokens = (g + 1) * r->tps;
    p.tokens_total = total * r->tps;
    p.loss = loss;
    p.lr = lr;
    p.grad_norm = gn;
    p.nonfinite = n_nonfinite;
    p.tok_per_s = (double)(done_here * r->tps) / RL__MAX(rl__now() - t0, 1e-9);
    p.eta_s = (double)(total - g - 1) * r->tps / RL__MAX(p.tok_per_s, 1e-9);
    if (gn < 0)
        rl_log(RL_LOG_WARN, "%s step %lld: loss or gradient is not finite; update skipped (%d in a row, %lld in all)", where,
               (long long)(g % r->steps + 1), n_bad, (long long)n_nonfinite);
    if (csv) {
        fprintf(csv, "%d,%lld,%lld,%.6f,%.3e,%.4f,%.1f\n", o->stage, (long long)p.step, (long long)p.tokens, p.loss, p.lr, gn, p.tok_per_s);
        fflush(csv);
    }
    if (o->progress) o->progress(o->user, &p);
}

static rl_status rl__stage_run(rl__run *r) {
    const rl__stage_kind *kind = r->kind;
    const rl_stage_opts *o = r->o;
    int64_t g = 0, total, done_here = 0, n_nonfinite = 0;
    int max_bad = o->max_nonfinite > 0 ? o->max_nonfinite : 3, n_bad = 0;
    FILE *csv = NULL;
    double t0;
    char where[64];
    rl_status st;
    r->opt_phase = -1;
    if ((st = rl_loader_init(&r->L, r->data, o->ctx, o->heldout)) != RL_OK) return st;
    r->tps = o->batch * o->ctx;
    r->steps = (o->tokens + r->tps - 1) / r->tps;
    r->lr = o->lr;
    r->lr.tokens_per_step = r->tps;
    r->lr.exit_tokens = r->steps * r->tps;
    rl__run_identity(&r->id, r->s, r->t, r->data, o);
    if ((st = kind->setup(r)) != RL_OK) goto out;
    total = r->phases * r->steps;
    if (o->checkpoint) rl__remove_stale_tmp(o->checkpoint);
    if (o->csv) rl__remove_stale_tmp(o->csv);
    if (o->resume && !o->checkpoint) {
        st = rl__fail(RL_ERR_ARG, "train: resume needs a checkpoint path");
        goto out;
    }
    if (o->resume && (st = kind->resume(r, &g)) != RL_OK) goto out;
    if (o->csv && (st = rl__csv_trim(o->csv, o->stage, g)) != RL_OK) goto out;
    if (o->csv && !(csv = fopen(o->csv, "ab"))) { /* binary: "\n" on every system, as rl__csv_trim writes */
        st = rl__fail(RL_ERR_IO, "%s: cannot open the log: %s", o->csv, strerror(errno));
        goto out;
    }
    t0 = rl__now();
    for (; g < total; g++) {
        int64_t ph = g / r->steps, s = g % r->steps, k;
        double loss_sum = 0, gn, lr_m = 0, lr_x = 0;
        int stop;
        if (r->opt_phase != ph) {
            int skip;
            if ((st = rl__run_phase(r, ph, &skip)) != RL_OK) goto out;
            if (skip) {
                g = (ph + 1) * r->steps - 1;
                continue;
            }
        }
        if (r->phases > 1) snprintf(where, sizeof where, "stage %d layer %lld", o->stage, (long long)ph);
        else snprintf(where, sizeof where, "stage %d", o->stage);
        for (k = 0; k < o->batch; k += r->per_call)
            if ((st = kind->micro(r, s, k, &loss_sum)) != RL_OK) goto out;
        rl_lr_at(&r->lr, s, &lr_m, &lr_x);
        if (loss_sum - loss_sum == 0) {
            gn = rl_adamw_step(&r->opt, lr_m, lr_x);
        } else { /* a non-finite loss: no update */
            rl_adamw_zero_grad(&r->opt);
            gn = -1;
        }
        if (o->stage != 1 && o->train != RL_TRAIN_ALL) rl_model_params(r->s, rl__zero_grad_fn, NULL);
        if (gn < 0) n_bad++, n_nonfinite++;
        else n_bad = 0;
        done_here++;
        rl__run_report(r, csv, g, done_here, t0, loss_sum, o->stage == 1 ? lr_x : lr_m, gn, n_bad, n_nonfinite, where);
        if (n_bad > max_bad) {
            st = rl__fail(RL_ERR_STATE, "%s: %d steps in a row (to step %lld) had a non-finite loss or gradient (limit %d); stopped, checkpoint "
                          "%s left as it was; lower the learning rate or check the data", where, n_bad, (long long)(s + 1), max_bad,
                          o->checkpoint ? o->checkpoint : "(none)");
            goto out;
        }
        stop = o->stop && *o->stop;
        if (o->checkpoint && ((o->ckpt_every > 0 && (g + 1) % o->ckpt_every == 0) || s + 1 == r->steps || stop ||
                              (o->max_steps && done_here >= o->max_steps))) {
            if ((st = kind->save(r, g + 1)) != RL_OK) goto out;
        }
        if (stop) {
            st = rl__fail(RL_ERR_INTERRUPTED, "%s stopped at step %lld of %lld; checkpoint %s", where, (long long)(s + 1), (long long)r->steps,
                          o->checkpoint ? o->checkpoint : "(none)");
            goto out;
        }
        if (o->max_steps && done_here >= o->max_steps) break;
    }
    st = RL_OK;
out:
    if (csv) fclose(csv);
    if (r->opt_phase >= 0) rl_adamw_free(&r->opt);
    kind->cleanup(r);
    return st;
}

RLDEF rl_status rl_train_stage(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_tokens *data, const rl_stage_opts *o) {
    rl__run r;
    int64_t mb = o->micro_batch > 0 ? o->micro_batch : 1;
    if (o->stage < 1 || o->stage > 3) return rl__fail(RL_ERR_ARG, "train: stage must be 1, 2 or 3");
    if (o->stage < 3 && !teacher) return rl__fail(RL_ERR_ARG, "train: stage %d needs the teacher", o->stage);
    if (o->stage < 3 && teacher->dev != student->dev)
        return rl__fail(RL_ERR_ARG, "train: stage %d: the student is on %s but the teacher on %s: move both with rl_model_to", o->stage,
                        rl_device_name(student->dev), rl_device_name(teacher->dev));
    if (o->ctx < 1 || o->batch < 1 || o->micro_batch < 0 || o->tokens < 0 || o->ckpt_every < 0 || o->chunk < 0 || o->max_steps < 0)
        return rl__fail(RL_ERR_ARG, "train: stage %d: ctx %lld and batch %lld must be at least 1; micro_batch %lld, tokens %lld, ckpt_every %lld, "
                        "chunk %lld and max_steps %lld must not be negative", o->stage, (long long)o->ctx, (long long)o->batch,
                        (long long)o->micro_batch, (long long)o->tokens, (long long)o->ckpt_every, (long long)o->chunk, (long long)o->max_steps);
    if (!(o->lr.lr_init >= 0 && o->lr.lr_init < 1e6 && o->lr.lr_final >= 0 && o->lr.lr_final < 1e6) ||
        (o->lr.lr2_init >= 0 && !(o->lr.lr2_init < 1e6)) || (o->lr.lr2_final >= 0 && !(o->lr.lr2_final < 1e6)) ||
        o->lr.lr2_init != o->lr.lr2_init || o->lr.lr2_final != o->lr.lr2_final || o->lr.warmup_steps < 0)
        return rl__fail(RL_ERR_ARG, "train: stage %d: learning rates must be finite and not negative (lr_init %g, lr_final %g, lr2 %g/%g), "
                        "warmup_steps not negative", o->stage, o->lr.lr_init, o->lr.lr_final, o->lr.lr2_init, o->lr.lr2_final);
    if (!(o->clip >= 0 && o->clip < HUGE_VALF) || !(o->weight_decay >= 0 && o->weight_decay < HUGE_VALF) || !(o->eps > 0 && o->eps < 1) ||
        !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return rl__fail(RL_ERR_ARG, "train: stage %d: AdamW settings out of range (clip %g, weight_decay %g, eps %g, beta1 %g, beta2 %g)", o->stage,
                        (double)o->clip, (double)o->weight_decay, (double)o->eps, (double)o->beta1, (double)o->beta2);
    if (o->batch % mb) return rl__fail(RL_ERR_ARG, "train: batch %lld is not a multiple of the micro-batch %lld", (long long)o->batch, (long long)mb);
    memset(&r, 0, sizeof r);
    r.c = c;
    r.s = student;
    r.t = teacher;
    r.data = data;
    r.o = o;
    r.mb = mb;
    r.kind = o->layerwise && o->stage == 1 ? &rl__stage_layerwise : &rl__stage_whole;
    return rl__stage_run(&r);
}

/* A Hugging Face folder: config.json (Qwen2 keys + those of RADLADS' RWKV6/7Qwen2Config),
   model.safetensors (F32) and the tokenizer files copied from tok_dir. */
RLDEF rl_status rl_model_save(rl_model *m, const char *dir, const char *tok_dir) {
    rl__ck_ctx k;
    rl_arena names;
    char path[4200], cfg[4096];
    const rl_config *c = &m->cfg;
    rl_mixer_cfg mc;
    int64_t l;
    int n = 0, i, hyb6;
    rl_status st;
    if ((st = rl__model_sync(m, 2)) != RL_OK) return st; /* a model on a device: its values come down first */
    if (rl__nonfinite_param(m, path, sizeof path)) /* a broken model is never written as a result */
        return rl__fail(RL_ERR_STATE, "%s: model not written: parameter %s holds NaN or Inf", dir, path);
    if ((st = rl__make_dir(dir)) != RL_OK) return st;
    memset(&mc, 0, sizeof mc);
    for (l = 0; l < c->n_layers; l++)
        if (m->blocks[l].mix.cfg.kind != RL_MIXER_ATTENTION) {
            mc = m->blocks[l].mix.cfg;
            break;
        }
    /* a RAD-RWKV6 hybrid is not written as rwkv6qwen2: the official code would build RWKV6
       layers in place of its attention layers (README.md, Hybrids) */
    hyb6 = m->student.kind == RL_MIXER_RWKV6 && m->student.keep_attention > 0;
    n += snprintf(cfg + n, sizeof cfg - (size_t)n, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n",
                  hyb6 ? RL_RWKV6_HYBRID_ARCH
                  : m->student.kind == RL_MIXER_RWKV6 ? "RWKV6Qwen2ForCausalLM" : m->student.kind == RL_MIXER_RWKV7 ? "RWKV7Qwen2ForCausalLM"
                  : c->arch == RL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM",
                  hyb6 ? RL_RWKV6_HYBRID_TYPE
                  : m->student.kind == RL_MIXER_RWKV6 ? "rwkv6qwen2" : m->student.kind == RL_MIXER_RWKV7 ? "rwkv7qwen2"
                  : c->arch == RL_ARCH_QWEN2 ? "qwen2" : "llama");
    if (m->student.kind != RL_MIXER_ATTENTION && !hyb6) { /* as the released RADLADS checkpoints */
        int d = m->student.kind == RL_MIXER_RWKV6 ? 6 : 7;
        n += snprintf(cfg + n, sizeof cfg - (size_t)n,
                      "  \"auto_map\": {\n    \"AutoConfig\": \"configuration_rwkv%dqwen2.RWKV%dQwen2Config\",\n"
                      "    \"AutoModelForCausalLM\": \"modeling_rwkv%dqwen2.RWKV%dQwen2ForCausalLM\"\n  },\n", d, d, d, d);
    }
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
                      mc.r_ts, m->student.kind == RL_MIXER_RWKV6 ? mc.r_d : mc.r_w, mc.r_a, mc.r_v, mc.r_g, rl__gate_type(&mc),
                      mc.balance_state ? "true" : "false", mc.groupnorm_att ? "true" : "false", mc.use_tokenshift ? "true" : "false",
                      mc.use_rope ? "true" : "false", m->student.keep_attention, c->arch == RL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    n += snprintf(cfg + n, sizeof cfg - (size_t)n, "  \"radlads_version\": \"%s\"\n}\n", RADLADS_VERSION);
    if (n >= (int)sizeof cfg) return rl__fail(RL_ERR_STATE, "config.json: too long");
    memset(&k, 0, sizeof k);
    rl_arena_init(&names, 1 << 20);
    k.names = &names;
    rl__params_host(m, rl__ck_param, &k);
    for (i = 0; i < k.n && !k.st; i++)
        if (k.e[i].data == NULL) k.st = rl__fail(RL_ERR_STATE, "save: %s has no data", k.e[i].name);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rl__remove_stale_tmp(path); /* of an earlier save that was killed */
    st = k.st ? k.st : rl_st_write(path, k.e, k.n, NULL, 0);
    RL_FREE(k.e);
    rl_arena_free(&names);
    if (st != RL_OK) return st;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((st = rl__write_atomic(path, cfg, (size_t)n)) != RL_OK) return st;
    if (tok_dir) {
        static const char *const files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json", "tokenizer.bin"};
        char from[4200];
        size_t f;
        for (f = 0; f < 4; f++) {
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

/* ---- training curves as SVG ---- */

static void rl__sb_xml(rl__sbuf *b, const char *s) { /* text with & < > escaped */
    for (; *s; s++)
        if (*s == '&' || *s == '<' || *s == '>') rl__sb_str(b, *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : "&gt;");
        else rl__sb_put(b, s, 1);
}

typedef struct rl__plotpt { int stage; double tokens, v[4]; } rl__plotpt; /* train: loss, lr; eval: ppl, kl, top1 */
typedef struct rl__plotdat { rl__plotpt *p; int n, cap; } rl__plotdat;

static int rl__plot_push(rl__plotdat *d, const rl__plotpt *pt) {
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 256;
        rl__plotpt *np = (rl__plotpt *)RL_REALLOC(d->p, sizeof(rl__plotpt) * (size_t)cap);
        if (!np) return -1;
        d->p = np;
        d->cap = cap;
    }
    d->p[d->n++] = *pt;
    return 0;
}

/* train.csv: stage,step,tokens,loss,lr,grad_norm,tok_per_s; eval.csv: stage,tokens,label,ppl,kl,top1
   (lines that do not parse, e.g. a header, are skipped) */
static rl_status rl__plot_read(const char *path, int eval, rl__plotdat *d, int optional) {
    char *text = NULL, *line, *end;
    size_t len;
    rl_status st = rl__read_file(path, (size_t)1 << 30, &text, &len);
    if (st) {
        if (optional) {
            rl_clear_error();
            return RL_OK;
        }
        return st;
    }
    for (line = text; line < text + len; line = end + 1) {
        rl__plotpt pt;
        long long step, tok;
        double a, b, c;
        char label[64];
        end = (char *)memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        *end = 0;
        memset(&pt, 0, sizeof pt);
        if (!eval && sscanf(line, "%d,%lld,%lld,%lf,%lf", &pt.stage, &step, &tok, &a, &b) == 5) {
            pt.tokens = (double)tok;
            pt.v[0] = a;
            pt.v[1] = b;
        } else if (eval && sscanf(line, "%d,%lld,%63[^,],%lf,%lf,%lf", &pt.stage, &tok, label, &a, &b, &c) == 6) {
            pt.tokens = (double)tok;
            pt.v[0] = a;
            pt.v[1] = b;
            pt.v[2] = c;
            pt.v[3] = !strcmp(label, "teacher");
        } else
            continue;
        if (pt.stage < 0 || pt.stage > 3 || !(pt.tokens >= 0)) continue;
        if (rl__plot_push(d, &pt)) {
            RL_FREE(text);
            return rl__fail(RL_ERR_NOMEM, "plot: out of memory");
        }
    }
    RL_FREE(text);
    return RL_OK;
}

/* a "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks over span */
static double rl__nice_step(double span, int n) {
    double raw = span / n, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void rl__fmt_num(char *buf, size_t n, double v) {
    double a = fabs(v);
    if (a >= 1e9) snprintf(buf, n, "%gG", v / 1e9);
    else if (a >= 1e6) snprintf(buf, n, "%gM", v / 1e6);
    else if (a >= 1e3) snprintf(buf, n, "%gk", v / 1e3);
    else snprintf(buf, n, "%g", v);
}

/* one panel: series y against x, box at (x0, y0) of w x h; logy: logarithmic y axis */
typedef struct rl__panel {
    double x0, y0, w, h, xmin, xmax, ymin, ymax;
    int logy;
} rl__panel;

static double rl__px(const rl__panel *p, double x) { return p->x0 + (x - p->xmin) / (p->xmax - p->xmin) * p->w; }
static double rl__py(const rl__panel *p, double y) {
    double a = p->logy ? log10(p->ymin) : p->ymin, b = p->logy ? log10(p->ymax) : p->ymax, v = p->logy ? log10(y) : y;
    return p->y0 + p->h - (v - a) / (b - a) * p->h;
}

static void rl__panel_axes(rl__sbuf *b, rl__panel *p, const char *title) {
    double t, step;
    char s[32];
    if (!(p->xmax > p->xmin)) p->xmax = p->xmin + 1;
    if (p->logy) {
        if (!(p->ymin > 0)) p->ymin = 1e-3;
        if (!(p->ymax > p->ymin)) p->ymax = p->ymin * 10;
        p->ymin = pow(10.0, floor(log10(p->ymin) * 4) / 4); /* quarter decades */
        p->ymax = pow(10.0, ceil(log10(p->ymax) * 4) / 4);
    } else {
        if (!(p->ymax > p->ymin)) p->ymax = p->ymin + (p->ymin != 0 ? fabs(p->ymin) * 0.1 : 1);
        step = rl__nice_step(p->ymax - p->ymin, 4);
        p->ymin = floor(p->ymin / step) * step;
        p->ymax = ceil(p->ymax / step) * step;
    }
    rl__sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" stroke=\"#888\"/>\n", p->x0, p->y0, p->w, p->h);
    rl__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" font-weight=\"bold\">%s</text>\n", p->x0, p->y0 - 6, title);
    step = rl__nice_step(p->xmax - p->xmin, 4);
    for (t = ceil(p->xmin / step) * step; t <= p->xmax + 1e-9 * step; t += step) {
        double x = rl__px(p, t);
        rl__fmt_num(s, sizeof s, t);
        rl__sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, p->y0, x, p->y0 + p->h);
        rl__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n", x, p->y0 + p->h + 12, s);
    }
    if (p->logy) {
        double d;
        for (d = floor(log10(p->ymin)); d <= ceil(log10(p->ymax)); d++) {
            int k;
            for (k = 1; k < 10; k++) {
                double v = (double)k * pow(10.0, d), y;
                if (v < p->ymin * 0.999 || v > p->ymax * 1.001) continue;
                y = rl__py(p, v);
                rl__sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", p->x0, y, p->x0 + p->w, y,
                              k == 1 ? "#ddd" : "#f3f3f3");
                if (k == 1 || k == 2 || k == 5 || p->ymax / p->ymin < 12) {
                    rl__fmt_num(s, sizeof s, v);
                    rl__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n", p->x0 - 4, y + 3, s);
                }
            }
        }
    } else {
        step = rl__nice_step(p->ymax - p->ymin, 4);
        for (t = p->ymin; t <= p->ymax + 1e-9 * step; t += step) {
            double y = rl__py(p, t);
            snprintf(s, sizeof s, "%.3g", fabs(t) < 1e-12 * step ? 0.0 : t);
            rl__sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", p->x0, y, p->x0 + p->w, y);
            rl__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n", p->x0 - 4, y + 3, s);
        }
    }
}

static const char *const rl__plot_color[4] = {"#666", "#1f77b4", "#d62728", "#2ca02c"}; /* by stage */

/* The ranges of stage s's panel in row `row` (0 loss, 1 held-out perplexity, 2 learning rate): x over the
   stage's tokens, y over its values (held-out: also the previous stage's and the teacher's); a loss
   spanning more than 20x gets a log axis. Returns whether any student held-out point is in it. */
static int rl__plot_range(rl__panel *p, const rl__plotdat *tr, const rl__plotdat *ev, int s, int row, double teacher_ppl) {
    int i, any = 0;
    p->xmin = 0;
    p->ymin = HUGE_VAL;
    p->ymax = -HUGE_VAL;
    p->logy = row == 1;
    for (i = 0; i < tr->n; i++)
        if (tr->p[i].stage == s) p->xmax = RL__MAX(p->xmax, tr->p[i].tokens);
    if (row == 1) { /* held-out points: this stage's, plus where the stage started */
        for (i = 0; i < ev->n; i++)
            if (!ev->p[i].v[3] && (ev->p[i].stage == s || (ev->p[i].stage < s && ev->p[i].stage >= s - 1)) && ev->p[i].v[0] > 0) {
                p->ymin = RL__MIN(p->ymin, ev->p[i].v[0]);
                p->ymax = RL__MAX(p->ymax, ev->p[i].v[0]);
                any = 1;
            }
        if (teacher_ppl > 0) {
            p->ymin = RL__MIN(p->ymin, teacher_ppl);
            p->ymax = RL__MAX(p->ymax, teacher_ppl);
        }
    } else
        for (i = 0; i < tr->n; i++)
            if (tr->p[i].stage == s && tr->p[i].v[row ? 1 : 0] == tr->p[i].v[row ? 1 : 0]) {
                p->ymin = RL__MIN(p->ymin, tr->p[i].v[row ? 1 : 0]);
                p->ymax = RL__MAX(p->ymax, tr->p[i].v[row ? 1 : 0]);
            }
    if (row != 1 && row == 0 && p->ymin > 0 && p->ymax / p->ymin > 20) p->logy = 1;
    return any;
}

/* Stage s's held-out perplexity: the teacher's dashed, the student's line from the previous stage's
   last point (at x = 0), dots on this stage's points. */
static void rl__plot_heldout(rl__sbuf *b, const rl__panel *p, const rl__plotdat *ev, int s, double teacher_ppl) {
    int i;
    if (teacher_ppl > 0)
        rl__sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-dasharray=\"5,4\"/>\n", p->x0,
                      rl__py(p, teacher_ppl), p->x0 + p->w, rl__py(p, teacher_ppl));
    rl__sb_str(b, "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"");
    rl__sb_str(b, rl__plot_color[s]);
    rl__sb_str(b, "\" points=\"");
    for (i = 0; i < ev->n; i++) { /* the previous stage's last point at x = 0 */
        const rl__plotpt *q = &ev->p[i];
        int last_prev = 1, j;
        if (q->v[3] || !(q->v[0] > 0)) continue;
        if (q->stage != s) {
            if (q->stage != s - 1) continue;
            for (j = i + 1; j < ev->n; j++)
                if (!ev->p[j].v[3] && ev->p[j].stage == s - 1) last_prev = 0;
            if (!last_prev) continue;
        }
        rl__sb_printf(b, "%.1f,%.1f ", rl__px(p, q->stage == s ? q->tokens : 0), rl__py(p, q->v[0]));
    }
    rl__sb_str(b, "\"/>\n");
    for (i = 0; i < ev->n; i++) {
        const rl__plotpt *q = &ev->p[i];
        if (q->v[3] || q->stage != s || !(q->v[0] > 0)) continue;
        rl__sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%.4g</title></circle>\n", rl__px(p, q->tokens),
                      rl__py(p, q->v[0]), rl__plot_color[s], q->v[0]);
    }
}

/* Stage s's training series against tokens: the loss (row 0) or the learning rate. */
static void rl__plot_train_line(rl__sbuf *b, const rl__panel *p, const rl__plotdat *tr, int s, int row) {
    int i, first = 1;
    for (i = 0; i < tr->n; i++) {
        double v = tr->p[i].v[row ? 1 : 0];
        if (tr->p[i].stage != s || v != v || (p->logy && !(v > 0))) continue;
        if (first) {
            rl__sb_printf(b, "<polyline fill=\"none\" stroke-width=\"1.2\" stroke=\"%s\" points=\"", rl__plot_color[s]);
            first = 0;
        }
        rl__sb_printf(b, "%.1f,%.1f ", rl__px(p, tr->p[i].tokens), rl__py(p, v));
    }
    if (!first) rl__sb_str(b, "\"/>\n");
}

/* Stage s's panel in row `row` (0 loss, 1 held-out perplexity, 2 learning rate), in the box p. */
static void rl__plot_panel(rl__sbuf *b, rl__panel *p, const rl__plotdat *tr, const rl__plotdat *ev, int s, int row, double teacher_ppl) {
    static const char *const loss_name[4] = {"", "step 1: loss (L2, attention alignment)", "step 2: loss (KL to the teacher)", "step 3: loss (cross entropy)"};
    char ttl[96];
    int any = rl__plot_range(p, tr, ev, s, row, teacher_ppl);
    snprintf(ttl, sizeof ttl, "%s", row == 0 ? loss_name[s] : row == 1 ? "held-out perplexity (student; dashed: teacher)" : "learning rate");
    if (row == 1 && !any && teacher_ppl <= 0) snprintf(ttl, sizeof ttl, "held-out perplexity (none recorded)");
    if (!(p->ymin <= p->ymax)) p->ymin = 0, p->ymax = 1;
    rl__panel_axes(b, p, ttl);
    if (row == 1) rl__plot_heldout(b, p, ev, s, teacher_ppl);
    else rl__plot_train_line(b, p, tr, s, row);
}

RLDEF rl_status rl_plot_train_svg(const char *train_csv, const char *eval_csv, const char *svg_path, const char *title) {
    rl__plotdat tr, ev;
    rl__sbuf b;
    rl_status st;
    int stages[3], ns = 0, s, i, k, row;
    double teacher_ppl = -1, W = 330, H = 150, ML = 60, MT = 50, GX = 40, GY = 50;
    memset(&tr, 0, sizeof tr);
    memset(&ev, 0, sizeof ev);
    memset(&b, 0, sizeof b);
    if (!train_csv || !svg_path) return rl__fail(RL_ERR_ARG, "rl_plot_train_svg: NULL argument");
    if ((st = rl__plot_read(train_csv, 0, &tr, 0)) || (eval_csv && (st = rl__plot_read(eval_csv, 1, &ev, 1)))) goto out;
    for (s = 1; s <= 3; s++)
        for (i = 0; i < tr.n; i++)
            if (tr.p[i].stage == s) {
                stages[ns++] = s;
                break;
            }
    if (!ns) {
        st = rl__fail(RL_ERR_FORMAT, "%s: no training steps to plot", train_csv);
        goto out;
    }
    for (i = 0; i < ev.n; i++)
        if (ev.p[i].v[3]) teacher_ppl = ev.p[i].v[0];
    rl__sb_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\">\n", ML + ns * (W + GX),
                  MT + 3 * (H + GY));
    rl__sb_printf(&b, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n");
    rl__sb_str(&b, "<text x=\"10\" y=\"20\" font-size=\"14\">");
    rl__sb_xml(&b, title ? title : "radlads convert");
    rl__sb_str(&b, "</text>\n");
    for (k = 0; k < ns; k++) {
        s = stages[k];
        for (row = 0; row < 3; row++) { /* loss, held-out perplexity, learning rate against tokens of this stage */
            rl__panel p;
            memset(&p, 0, sizeof p);
            p.x0 = ML + k * (W + GX);
            p.y0 = MT + row * (H + GY);
            p.w = W;
            p.h = H;
            rl__plot_panel(&b, &p, &tr, &ev, s, row, teacher_ppl);
        }
        rl__sb_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">tokens (step %d)</text>\n", ML + k * (W + GX) + W / 2,
                      MT + 3 * (H + GY) - GY + 28, s);
    }
    rl__sb_str(&b, "</svg>\n");
    st = b.oom ? rl__fail(RL_ERR_NOMEM, "%s: out of memory", svg_path) : rl__write_atomic(svg_path, b.p, b.n);
out:
    RL_FREE(tr.p);
    RL_FREE(ev.p);
    RL_FREE(b.p);
    return st;
}

#endif /* training */

/* ==== 7. inference and evaluation ========================================== */

/* ---- 7a. inference: state, prefill and decode, sampling ---- */

RLDEF rl_status rl_state_init(rl_state *s, const rl_model *m, int64_t max_ctx) { return rl_state_init_batch(s, m, max_ctx, 1); }

RLDEF rl_status rl_state_init_batch(rl_state *s, const rl_model *m, int64_t max_ctx, int64_t batch) {
    int64_t l, H = m->cfg.n_heads, N = m->cfg.head_dim, KV = m->cfg.n_kv_heads * N, C = m->cfg.hidden_size, B = batch;
    memset(s, 0, sizeof *s);
    if (max_ctx < 1 || B < 1 || B > ((int64_t)1 << 40) / max_ctx)
        return rl__fail(RL_ERR_ARG, "state: a context of %lld tokens for %lld sequences (both must be at least 1)", (long long)max_ctx, (long long)B);
    s->n_layers = (int)m->cfg.n_layers;
    s->max_ctx = max_ctx;
    s->batch = B;
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
            s->k[l] = (float *)rl__dev_alloc(m->dev, sizeof(float) * (size_t)(B * max_ctx * KV));
            s->v[l] = (float *)rl__dev_alloc(m->dev, sizeof(float) * (size_t)(B * max_ctx * KV));
            if (!s->k[l] || !s->v[l]) break;
        } else {
            s->S[l] = (float *)rl__dev_alloc(m->dev, sizeof(float) * (size_t)(B * H * N * N));
            s->shift[l] = (float *)rl__dev_alloc(m->dev, sizeof(float) * (size_t)(B * C));
            if (!s->S[l] || !s->shift[l]) break;
        }
    }
    s->dev = m->dev;
    if (l < s->n_layers) {
        rl_state_free(s);
        return rl__fail(RL_ERR_NOMEM, "state: out of memory on %s for a context of %lld tokens, %lld sequences", rl_device_name(m->dev),
                        (long long)max_ctx, (long long)B);
    }
    rl_state_reset(s);
    return RL_OK;
}

RLDEF void rl_state_reset(rl_state *s) {
    int l;
    s->pos = 0;
    for (l = 0; l < s->n_layers; l++) {
        if (s->S[l]) rl__dev_zero(s->dev, s->S[l], sizeof(float) * (size_t)(s->batch * s->s_n));
        if (s->shift[l]) rl__dev_zero(s->dev, s->shift[l], sizeof(float) * (size_t)(s->batch * s->shift_n));
    }
}

RLDEF void rl_state_free(rl_state *s) {
    int l;
    if (!s->k) return;
    for (l = 0; l < 4 * s->n_layers; l++) rl__dev_free(s->dev, s->k[l]);
    RL_FREE(s->k);
    memset(s, 0, sizeof *s);
}

RLDEF rl_status rl_model_step(rl_ctx *c, rl_model *m, rl_state *s, const int32_t *ids, int64_t n, float *logits) {
    rl_forward_opts o;
    rl_tensor *y;
    int64_t V = m->cfg.vocab_size;
    if (n < 1) return rl__fail(RL_ERR_ARG, "model step: no tokens");
    if (s->dev != m->dev)
        return rl__fail(RL_ERR_ARG, "model step: the model is on %s, its state on %s: make the state after rl_model_to", rl_device_name(m->dev),
                        rl_device_name(s->dev));
    if (s->pos + n > s->max_ctx)
        return rl__fail(RL_ERR_ARG, "model step: %lld tokens at position %lld exceed the context of %lld tokens",
                        (long long)n, (long long)s->pos, (long long)s->max_ctx);
    memset(&o, 0, sizeof o);
    o.B = s->batch;
    o.T = n;
    o.pos0 = s->pos;
    rl_ctx_reset(c);
    rl_no_grad_push(c);
    y = rl_seq_last(c, rl__forward(c, m, ids, &o, s), n); /* the last row of each sequence */
    rl_no_grad_pop(c);
    if (!y || !rl__copy(c, logits, NULL, rl_f32(y), y->dev, sizeof(float) * (size_t)(s->batch * V))) return c->err ? c->err : RL_ERR_STATE;
    s->pos += n;
    return RL_OK;
}

/* ---- sampling ---- */

typedef struct { float v; int32_t i; } rl__cand;
static int rl__cand_desc(const void *a, const void *b) {
    float x = ((const rl__cand *)a)->v, y = ((const rl__cand *)b)->v;
    return x < y ? 1 : x > y ? -1 : (((const rl__cand *)a)->i > ((const rl__cand *)b)->i) - (((const rl__cand *)a)->i < ((const rl__cand *)b)->i);
}

RLDEF int32_t rl_sample(const float *logits, int64_t n, const rl_sampler *s, rl_rng *rng) {
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


/* ---- 7b. evaluation ---- */

RLDEF rl_status rl_eval_windows(const rl_loader *L, int64_t max_windows, int64_t **idx, int64_t *n) {
    int64_t i, j, N = L->n_heldout, k = max_windows > 0 ? RL__MIN(max_windows, N) : N, *a;
    rl_rng rng;
    *idx = NULL;
    *n = 0;
    if (N < 1) return rl__fail(RL_ERR_ARG, "eval: no held-out windows (use a larger held-out fraction or more text)");
    a = (int64_t *)RL_MALLOC(sizeof(int64_t) * (size_t)N);
    if (!a) return rl__fail(RL_ERR_NOMEM, "eval: out of memory");
    for (i = 0; i < N; i++) a[i] = i;
    if (k < N) { /* partial Fisher-Yates with a fixed seed, then ascending order */
        rl_rng_seed(&rng, 0x68656c646f7574ull);
        for (i = 0; i < k; i++) {
            int64_t t;
            j = i + (int64_t)(rl_rng_u64(&rng) % (uint64_t)(N - i));
            t = a[i], a[i] = a[j], a[j] = t;
        }
        for (i = 1; i < k; i++) /* insertion sort: k is small */
            for (j = i; j > 0 && a[j - 1] > a[j]; j--) {
                int64_t t = a[j];
                a[j] = a[j - 1], a[j - 1] = t;
            }
    }
    *idx = a;
    *n = k;
    return RL_OK;
}

RLDEF rl_status rl_eval_ppl(rl_ctx *c, rl_model *m, const rl_loader *L, int64_t max_windows, double *nll) {
    int64_t i, n, *idx, scored = 0;
    double sum = 0;
    rl_forward_opts fo;
    rl_status st = rl_eval_windows(L, max_windows, &idx, &n);
    if (st) return st;
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    for (i = 0; i < n; i++) {
        const int32_t *w = rl_loader_heldout(L, idx[i]);
        rl_tensor *lg, *ce;
        fo.T = rl_loader_heldout_len(L, idx[i]);
        rl_ctx_reset(c);
        rl_no_grad_push(c);
        lg = rl_model_forward(c, m, w, &fo);
        ce = rl_cross_entropy(c, lg, w + 1);
        rl_no_grad_pop(c);
        sum += (double)rl__item(c, ce) * (double)fo.T;
        if (!ce || c->err) {
            RL_FREE(idx);
            return c->err ? c->err : RL_ERR_STATE;
        }
        scored += fo.T;
    }
    RL_FREE(idx);
    *nll = sum / (double)scored;
    return RL_OK;
}

RLDEF rl_status rl_eval_compare(rl_ctx *c, rl_model *student, rl_model *teacher, const rl_loader *L, int64_t max_windows,
                          double *kl, double *top1) {
    int64_t i, t, v, n, *idx, V = student->cfg.vocab_size, agree = 0, scored = 0;
    double sum = 0;
    rl_forward_opts fo;
    rl_status st = student->dev != teacher->dev ? rl__fail(RL_ERR_ARG, "eval: the student is on %s, the teacher on %s: move both with rl_model_to",
                                                           rl_device_name(student->dev), rl_device_name(teacher->dev))
                                                : rl_eval_windows(L, max_windows, &idx, &n);
    if (st) return st;
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    for (i = 0; i < n; i++) {
        const int32_t *w = rl_loader_heldout(L, idx[i]);
        rl_tensor *a, *b, *k;
        const float *ha, *hb;
        fo.T = rl_loader_heldout_len(L, idx[i]);
        rl_ctx_reset(c);
        rl_no_grad_push(c);
        a = rl_model_forward(c, teacher, w, &fo);
        b = rl_model_forward(c, student, w, &fo);
        k = rl_kl_div(c, b, a);
        rl_no_grad_pop(c);
        sum += (double)rl__item(c, k) * (double)fo.T;
        if (!k || !(ha = rl__host_f32(c, a)) || !(hb = rl__host_f32(c, b))) { /* the logits, for top-1 */
            RL_FREE(idx);
            return c->err ? c->err : RL_ERR_STATE;
        }
        for (t = 0; t < fo.T; t++) {
            const float *pa = ha + t * V, *pb = hb + t * V;
            int64_t ia = 0, ib = 0;
            for (v = 1; v < V; v++) {
                if (pa[v] > pa[ia]) ia = v;
                if (pb[v] > pb[ib]) ib = v;
            }
            agree += ia == ib;
        }
        scored += fo.T;
    }
    RL_FREE(idx);
    *kl = sum / (double)scored;
    *top1 = (double)agree / (double)scored;
    return RL_OK;
}


#ifdef __cplusplus
}
#endif
#endif /* RADLADS_IMPLEMENTATION, Part I */

/* =========================================================================== */
/*     PART II API, continued: sections 14-16, which Part I does not use        */
/* =========================================================================== */
#if !defined(RADLADS_H2) && !defined(RL__KPASS)
#define RADLADS_H2
#ifdef __cplusplus
extern "C" {
#endif

/* ==== 14. llama2.c checkpoints (declarations) ============================== */
/*
   A llama2.c .bin (legacy v0 fp32, or export.py's versioned v1 fp32 / v2 int8 Q8_0 with a
   256-byte "ak42" header; shared or unshared classifier) becomes a frozen Llama teacher
   (F32; v2 dequantized): dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
   -> hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
   num_key_value_heads, vocab_size, max_position_embeddings; rms_norm_eps 1e-5, rope_theta
   10000 (llama2.c's model.py); Q/K rows moved from Meta's interleaved RoPE pairs to Hugging
   Face's rotate-half order; bos 1; eos [1, 2] (llama2.c separates documents with BOS and
   run.c stops generating at it). The file size must match the header exactly; errors name
   the file and the header field. */
#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_model_load_llama2c(rl_model *m, const char *path);
#endif
RLDEF rl_status rl_model_from_llama2c_mem(rl_model *m, const void *data, size_t len, const char *source);
#if !defined(RADLADS_NO_TRAINING) && !defined(RADLADS_NO_TOKENIZER) /* saves with rl_model_save */
/* `radlads import --llama2c`: model.bin + its tokenizer.bin -> a Hugging Face Llama folder:
   config.json, model.safetensors (F32), generation_config.json and tokenizer.bin (the
   llama2.c vocabulary, checked against the model's vocab_size; rl_tokenizer_load reads it
   from the folder). */
RLDEF rl_status rl_import_llama2c(const char *model_path, const char *tok_path, const char *out_dir);
#endif



#if !defined(RADLADS_NO_LMEVAL)
/* ==== 15. lm-evaluation-harness scoring (declarations) ===================== */
/*
   Scores a model on the multiple-choice and cloze tasks of EleutherAI's lm-evaluation-harness
   (HellaSwag, PIQA, ARC-Easy/Challenge, WinoGrande, LAMBADA) exactly as its Hugging Face
   backend (HFLM) does, zero-shot, so that numbers can be compared with published ones.
   tools/ref/make_lmeval_ref.py runs the harness itself (0.4.13) on the fixtures for the tests.

   One request = (context, continuation); its score is
       ll = Σ log softmax(logits)[token] over the continuation's tokens,
       is_greedy = every continuation token is the argmax at its position (ties: lowest id).
   How a request becomes tokens (as TemplateLM._encode_pair): top of section 15's implementation.

   Special tokens: the harness (since late 2025, PR #3347) encodes with the tokenizer's default,
   add_special_tokens=True: Llama-3 prepends <|begin_of_text|> to both encodings, Qwen2 adds
   nothing; a string that already starts with the prefix token's text is encoded without
   special tokens. Older harness versions passed add_special_tokens=False (no BOS);
   rl_lmeval_opts.add_special = 0 gives that convention. Say which one a reported number used.

   Tasks and metrics: there too.

   Files are jsonl, one document per line in the Hugging Face dataset's field layout (blank
   lines skipped). Errors name the file, the line and the field, e.g.
   "piqa.jsonl: line 3: sol2: missing (expected a string)". */

/* What the callback gets for each scored document (pointers valid during the call). */
typedef struct rl_mc_doc {
    const char *task;         /* canonical task name ("hellaswag", "arc", "lambada_openai", ...) */
    int64_t index, line;      /* document number (from 0) and its line in the file (from 1) */
    int n_choices;            /* LAMBADA: 1 (the target) */
    const double *lls;        /* log-likelihood of each choice's request */
    const int *is_greedy;     /* each request's continuation is the greedy one */
    const int64_t *n_tokens;  /* continuation tokens scored per request */
    int gold, pred, pred_norm;/* LAMBADA: all 0 */
    int acc, acc_norm;        /* 0/1; LAMBADA: acc = is_greedy[0], acc_norm = 0 */
} rl_mc_doc;

typedef struct rl_lmeval_opts {
    int add_special;          /* -1 (default): the tokenizer's default, as the harness now (BOS for
                                 Llama-3); 0: no special tokens (harness before PR #3347);
                                 1: always (add_bos_token=True). A string that starts with the
                                 prefix token's text never gets special tokens unless 0. */
    int32_t prefix_token;     /* context of an empty context; -1 (default): the tokenizer's BOS,
                                 else the config's first eos_token_id, else its bos_token_id
                                 (HF: tokenizer.bos_token_id, else eos_token_id; set it where the
                                 model's tokenizer_config.json says otherwise) */
    int64_t max_length;       /* 0 (default): config max_position_embeddings (2048 if absent) */
    void (*on_doc)(void *user, const rl_mc_doc *d); /* after each document (may be NULL) */
    void *user;
    volatile int *stop;       /* polled between documents: non-zero returns RL_ERR_INTERRUPTED */
} rl_lmeval_opts;
RLDEF void rl_lmeval_opts_default(rl_lmeval_opts *o);

/* The token ids the harness builds for one request (o may be NULL = defaults). *ctx_ids and
   *cont_ids are the caller's (release with rl_free). */
RLDEF rl_status rl_lmeval_encode_pair(const rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o,
                                const char *context, const char *continuation, int32_t **ctx_ids, int64_t *n_ctx,
                                int32_t **cont_ids, int64_t *n_cont);
/* Score given token ids: sum of the continuation tokens' log-probabilities after left
   truncation to max_length (<= 0: as rl_lmeval_opts), and whether each was the argmax.
   is_greedy may be NULL. Runs one forward pass (rl_ctx_reset(c) first). */
RLDEF rl_status rl_loglikelihood_tokens(rl_ctx *c, rl_model *m, const int32_t *ctx, int64_t n_ctx, const int32_t *cont,
                                  int64_t n_cont, int64_t max_length, double *ll, int *is_greedy);
/* log P(continuation | context) summed over the continuation's tokens, whether every one of
   them is the greedy token, and how many there are (is_greedy, n_tokens may be NULL). */
RLDEF rl_status rl_loglikelihood(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *context,
                           const char *continuation, double *ll, int *is_greedy, int64_t *n_tokens);
RLDEF rl_status rl_loglikelihood_ex(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o,
                              const char *context, const char *continuation, double *ll, int *is_greedy,
                              int64_t *n_tokens);

/* One multiple-choice document. Ordinary tasks: requests (context, " " + choices[i]).
   Multiple-input tasks (WinoGrande; target != NULL): the choices are contexts and the requests
   are (choices[i], " " + target). acc_norm divides by the characters of choices[i] either way.
   gold is the caller's (not used by rl_mc_score). */
typedef struct rl_mc_item {
    const char *context;      /* ignored when target != NULL */
    int n_choices;
    const char **choices;
    int gold;
    const char *target;       /* NULL, or the shared continuation of a multiple-input task */
} rl_mc_item;
/* lls[n_choices] (and is_greedy[n_choices] unless NULL) per request; *pred = argmax ll,
   *pred_norm = argmax ll / characters (either may be NULL). */
RLDEF rl_status rl_mc_score(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o, const rl_mc_item *it,
                      double *lls, int *is_greedy, int *pred, int *pred_norm);

typedef struct rl_mc_result {
    int64_t n;                      /* documents scored */
    double acc, acc_norm;           /* means; acc_norm NAN for LAMBADA */
    double ppl;                     /* LAMBADA perplexity exp(−mean ll); NAN for the others */
    double acc_stderr, acc_norm_stderr;
} rl_mc_result;
#if !defined(RADLADS_NO_STDIO)
/* Read a task's jsonl file and score its first `limit` documents (limit <= 0: all). task is one
   of the names above, or NULL/"auto" to tell it from the first document's fields (endings ->
   hellaswag, sol1 -> piqa, answerKey -> arc, option1 -> winogrande, text -> lambada_openai). */
RLDEF rl_status rl_eval_task(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *jsonl_path, const char *task,
                       int64_t limit, rl_mc_result *out);
RLDEF rl_status rl_eval_task_ex(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *jsonl_path, const char *task,
                          int64_t limit, const rl_lmeval_opts *o, rl_mc_result *out);
#endif

#endif /* lm-eval */

#if !defined(RADLADS_NO_GGUF) && !defined(RADLADS_NO_TOKENIZER)
/* ==== 16. llama.cpp interop (declarations) ================================ */
/* ---- import: GGUF (llama.cpp) teachers --------------------------------------------------
   A Llama or Qwen2 GGUF (general.architecture "llama" / "qwen2") becomes a
   frozen teacher: hyper-parameters -> rl_config, Q/K rows of "llama" files put back in
   Hugging Face's rotate-half order. The result computes what rl_model_load makes of the same
   model's Hugging Face folder, up to the quantization the GGUF applied.
   rl_model_load_gguf keeps the file mapped and its matrices (embedding, projections, MLP,
   head) in their stored type, read in place by the products (F32, F16, BF16 and the block
   types rl_ggml_can_dequantize takes: a Q4_1 model stays in its Q4_1 memory); norms and
   biases become F32. Making a student from it, or moving it to a device, widens them.
   rl_model_from_gguf dequantizes every tensor to F32 (the import path).

   The configuration's mapping from GGUF keys: see the top of section 16a's implementation.
   Errors name the file, the tensor or key, and the problem, e.g.
   "m.gguf: tensor 'blk.3.ffn_up.weight' (model.layers.3.mlp.up_proj.weight) is missing". */
#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_model_load_gguf(rl_model *m, const char *path);
#endif
/* The same, every tensor dequantized to F32, from a GGUF already open (g stays open and is not
   referenced afterwards). */
RLDEF rl_status rl_model_from_gguf(rl_model *m, const rl_gguf *g);
/* Only the configuration (no tensor data is read, except rope_freqs.weight). */
RLDEF rl_status rl_config_from_gguf(rl_config *cfg, const rl_gguf *g);

/* The tokenizer of a GGUF: tokenizer.ggml.model must be "gpt2" (byte-level BPE);
   tokenizer.ggml.pre selects the pre-tokenizer: "smollm" -> RL_PRETOK_SMOLLM, "qwen2" and
   "deepseek-r1-qwen" -> RL_PRETOK_QWEN2, "llama-bpe", "llama3", "llama-v3" ->
   RL_PRETOK_LLAMA3, "gpt-2" and "gpt2" -> RL_PRETOK_GPT2; any other value, or none (llama.cpp's
   "default", which matches no Hugging Face tokenizer), is RL_ERR_UNSUPPORTED naming it.
   Control / user-defined token types become special / non-special added tokens, unused ones
   holes; BOS is prepended by encode(add_special) when tokenizer.ggml.add_bos_token is true
   (absent: true for the Llama-3 pre-tokenizer, as llama.cpp, false otherwise). */
RLDEF rl_status rl_tokenizer_from_gguf(rl_tokenizer **tok, const rl_gguf *g);

#if !defined(RADLADS_NO_STDIO)
/* Write tok as a Hugging Face tokenizer.json that rl_tokenizer_load and HF
   `tokenizers` read back to the same tokenizer: model BPE (model.vocab in id order, merges
   as [a, b] pairs, ignore_merges / fuse_unk / unk_token as tok has them), added_tokens sorted
   by id with their flags, and normalizer / pre_tokenizer / post_processor / decoder as the
   real files of the preset write them (presets: Qwen2, Llama-3, SmolLM2, GPT-2); a
   tokenizer that matches no preset gets its own pipeline spelled out. A Template post-
   processor is written when encode(add_special) adds tokens (e.g. Llama-3's BOS). Tokens
   must be valid UTF-8 (JSON holds nothing else). Written to a temporary file and renamed. */
RLDEF rl_status rl_tokenizer_save_json(const rl_tokenizer *tok, const char *path);
#endif

#if !defined(RADLADS_NO_TRAINING) /* writes the folder with rl_model_save */
/* `radlads import`: a GGUF teacher -> a Hugging Face folder out_dir (created if needed):
   config.json + model.safetensors (F32) through rl_model_save, tokenizer.json,
   tokenizer_config.json (tokenizer_class PreTrainedTokenizerFast, bos/eos/unk/pad token
   strings, chat_template, model_max_length) and generation_config.json (bos/eos ids).
   transformers' AutoModelForCausalLM / AutoTokenizer and rl_model_load read it. */
RLDEF rl_status rl_import_gguf(const char *gguf_path, const char *out_dir);
#endif


#endif /* GGUF import */
#if !defined(RADLADS_NO_EXPORT)
/*
   rl_export_gguf_rwkv6qwen2() writes a RAD-RWKV6 student as the GGUF file that llama.cpp
   loads with its architecture "rwkv6qwen2" -- the file llama.cpp's convert_hf_to_gguf.py makes
   of the same student's Hugging Face folder:

   File layout (metadata keys and tensors with the converter's transforms): see the top of
   section 16b's implementation.

   A student without token shift (use_tokenshift 0) is written exactly: lerp_x, lerp_fused
   and time_mix_w1/w2 are zeros, so llama.cpp's token shift adds nothing.
   Refused with RL_ERR_UNSUPPORTED and the reason (nothing is written): a teacher, a RAD-RWKV7
   student (llama.cpp has no architecture that computes it: arwkv7 lacks the q/k/v biases,
   GQA, RoPE and RADLADS' key update), a hybrid keeping softmax-attention
   layers, RAD-RWKV6 with RoPE, with balance_state off or with a GroupNorm after the scan,
   LoRA ranks that differ between layers, a tokenizer whose pre-tokenizer is none of
   llama.cpp's presets (unless opts->pre names one), a weight that F16 cannot hold (use BF16).
   RL_ERR_ARG: a tokenizer with ids beyond the embedding rows, token strings that repeat
   (llama.cpp aborts on them), NaN or infinite weights, another wtype.

   Known difference: the student (like the RADLADS reference code) clamps the log-decay at
   -5; llama.cpp does not. When a layer's decay can go past it (max over channels of
   time_decay + Σ|time_decay_w2| > ln 5) a warning is logged; outputs then differ where the
   clamp acts.

   The file is written to "<path>.tmp.<random>" and renamed over path, so a reader sees the old file or
   the complete new one. Tensors are converted while they are written: no second copy of the
   model is held in memory. */
typedef struct rl_export_opts {
    const char *name;          /* general.name; NULL: not written */
    const char *chat_template; /* tokenizer.chat_template; NULL: not written */
    const char *pre;           /* tokenizer.ggml.pre; NULL: from the tokenizer's pre-tokenizer */
    int32_t bos_id;            /* -1: the tokenizer's BOS (post-processor), else config bos_token_id */
    int32_t eos_id;            /* -1: the config's first eos_token_id */
    int32_t pad_id, eot_id;    /* tokenizer.ggml.padding_token_id / eot_token_id; -1: not written */
} rl_export_opts;
RLDEF void rl_export_opts_default(rl_export_opts *o);

/* Whether m can be exported for llama.cpp's rwkv6qwen2 (RL_OK), else the refusal above. */
RLDEF rl_status rl_export_check_rwkv6qwen2(const rl_model *m);
RLDEF rl_status rl_export_gguf_rwkv6qwen2(const rl_model *m, const rl_tokenizer *tok, const char *path, rl_ggml_type wtype);
RLDEF rl_status rl_export_gguf_rwkv6qwen2_ex(const rl_model *m, const rl_tokenizer *tok, const char *path, rl_ggml_type wtype,
                                       const rl_export_opts *opts);

#endif /* export */

#ifdef __cplusplus
}
#endif
#endif /* RADLADS_H2 */

/* =========================================================================== */
/*            INTERNAL DECLARATIONS, PART II (for white-box tests)             */
/* =========================================================================== */
#if (defined(RADLADS_INTERNAL) || defined(RADLADS_IMPLEMENTATION)) && !defined(RL__KPASS) && !defined(RADLADS_INTERNAL2_H)
#define RADLADS_INTERNAL2_H
#ifdef __cplusplus
extern "C" {
#endif
typedef struct rl__enc {
    const rl_tokenizer *t;
    int32_t *ids;
    size_t n_ids, cap_ids;
    unsigned char *mbuf, *nbuf;        /* ByteLevel-mapped word; normalized text */
    size_t mcap, ncap;
    uint32_t *u32;                     /* NFC scratch */
    size_t ucap;
    int32_t *sym;                      /* BPE symbols: 4 int32 each (id, prev, next, alive) */
    size_t scap;
    int32_t *heap;                     /* BPE merge candidates: 3 int32 each (rank, pos, id) */
    size_t hcap;
    /* word cache of this call (as HF's BPE cache): pre-token bytes -> ids */
    uint32_t *cslot;                   /* 0 = empty, else 1 + entry index */
    uint32_t cmask, n_cache;
    uint32_t *centry;                  /* 4 per entry: key offset, key length, ids offset, ids count */
    size_t cecap;
    unsigned char *ckey;
    size_t cklen, ckcap;
    int32_t *cids;
    size_t cilen, cicap;
} rl__enc;

/* A document as requests: request i = (ctx[i], cont[i]); norm[i] is the string whose length in
   characters divides ll for acc_norm. */
typedef struct rl__lm_doc {
    int n, gold;
    const char **ctx, **cont, **norm;
    size_t *nctx, *ncont, *nnorm;
} rl__lm_doc;

#ifdef RADLADS_INTERNAL
/* 1. base */
rl_status rl__fail(rl_status s, const char *fmt, ...) RL__PRINTF(2, 3);
double rl__now(void);
/* 2. kernels */
void rl__naive_gemm(const rl__gemm_args *g);
void rl__naive_gemm_bf16(const rl__gemm_args *g);
extern const rl__kern rl__naive_table;
int rl__isa_supported(rl_isa isa);
const rl__kern *rl__isa_table(rl_isa isa);
/* 3. autodiff */
void rl__attn_fwd_rows(const rl__attn_head *a, int64_t t0, int64_t t1, float *p);
void rl__attn_fwd_blocks(const rl__attn_head *a, const rl__mmbuf *mb, float *p);
void rl__attn_bwd_blocks(const rl__attn_head *a, const rl__mmbuf *mb, float *p);
/* 6. training */
rl_tensor *rl__stage_loss(rl_ctx *c, rl_model *s, rl_model *t, int stage, const int32_t *win, int64_t B, int64_t T, int32_t *x,
                          int32_t *y, rl_state *carry, int64_t kl_chunk);
rl_status rl__teacher_layer_io(rl_ctx *c, rl_model *t, const int32_t *ids, int64_t R, int64_t T, int64_t l, float *xbuf,
                               float *in_l, float *out_l, float *in_0);
/* 8. files and text */
rl_status rl__read_file(const char *path, size_t max_bytes, char **out, size_t *out_len);
/* 13. tokenizer */
unsigned rl__uprop(uint32_t cp);
unsigned rl__uccc_of(uint32_t cp);
uint32_t rl__ucompose(uint32_t a, uint32_t b);
const char *rl__unicode_tables(const uint32_t **runs, size_t *n_runs, const uint32_t **decomp, size_t *n_decomp);
int32_t rl__vocab_find(const rl_tokenizer *t, const char *s, size_t n);
rl_status rl__nfc(rl__enc *e, const unsigned char *s, size_t n, const unsigned char **out, size_t *out_n);
void rl__enc_free(rl__enc *e);
size_t rl__pretok_split(const rl_tokenizer *t, int stage, const unsigned char *s, size_t n, size_t i);
/* 15. lm-eval */
int rl__lm_space(uint32_t c);
int64_t rl__lm_nchars(const char *s, size_t n);
size_t rl__lm_rspace(const char *s, size_t n);
void rl__sb_put(rl__sbuf *b, const char *s, size_t n);
void rl__lm_capitalize(rl__sbuf *b, const char *s, size_t n);
void rl__lm_hs_pre(rl__sbuf *b, const char *s, size_t n);
int rl__lm_argmax(const double *x, int n);
int rl__lm_task_id(const char *t);
rl_status rl__lm_make_doc(int task, const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d);
/* 16. llama.cpp interop */
void rl__gguf_name_of(const char *hf, char *out, size_t cap);
#endif /* RADLADS_INTERNAL */
#ifdef __cplusplus
}
#endif
#endif /* RADLADS_INTERNAL2_H */

#if defined(RADLADS_IMPLEMENTATION) && !defined(RL__KPASS) && !defined(RL__IMPL2_DONE)
#define RL__IMPL2_DONE
#ifdef __cplusplus
extern "C" {
#endif

/* ==================== PART II: THE OUTSIDE WORLD ========================= */

/* ==== 8. files and text ==================================================== */

/* ---- platform: files, memory maps, clocks, threads ----
   Every call into the operating system is made here: POSIX, or on Windows (MinGW-w64)
   Win32 and the C runtime's _commit/_getpid/_mkdir; threads are pthreads on both (MinGW-w64
   ships winpthreads). The rest of the library is ISO C. RADLADS_NO_THREADS leaves the pool
   without workers (no pthreads); RADLADS_NO_STDIO leaves out files and maps. */

/* Monotonic seconds (throughput, RADLADS_PROFILE). */
RL__INTERN double rl__now(void) {
#if defined(_WIN32)
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
#elif defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

RLDEF int rl_cpu_count(void) {
#if defined(_WIN32)
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
#elif defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#else
    return 1;
#endif
}

/* ---- thread pool ---- */
#if defined(RADLADS_NO_THREADS)
/* no workers: every job runs on the caller, as tid 0 */
struct rl_pool {
    int n;
};
RLDEF rl_pool *rl_pool_create(int n_threads) {
    rl_pool *p = (rl_pool *)RL_MALLOC(sizeof *p);
    RL__UNUSED(n_threads);
    if (p) p->n = 1;
    return p;
}
RLDEF void rl_pool_free(rl_pool *p) {
    if (p) RL_FREE(p);
}
RLDEF int rl_pool_size(const rl_pool *p) {
    RL__UNUSED(p);
    return 1;
}
RLDEF void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_task_fn fn, void *ctx) {
    RL__UNUSED(p);
    RL__UNUSED(grain);
    if (n > 0) fn(ctx, 0, n, 0);
}
#else
/* rl_pool_for publishes a job (bumps `generation`); the workers, spinning or asleep on
   `wake`, join in, and everybody (caller included) takes chunks from an atomic counter.
   The caller spins, then sleeps on `done`, until every worker has left the job. A job
   already running (`active`) makes a nested or concurrent call run inline. */

#ifndef RL_POOL_SPIN
#define RL_POOL_SPIN 20000
#endif
#if defined(__x86_64__) || defined(__i386__)
#define rl__cpu_pause() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define rl__cpu_pause() __asm__ __volatile__("yield")
#else
#define rl__cpu_pause() ((void)0)
#endif
/* one turn of a spin-wait: a pause, and every 64th turn a yield, so that on an
   oversubscribed machine the thread we wait for gets the core */
static void rl__spin(int i) {
    if (i % 64 == 63) sched_yield();
    else rl__cpu_pause();
}

struct rl_pool {
    int n;                   /* threads including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;     /* bumped per job (atomic; written under mu) */
    int busy;                /* workers still inside the current job (atomic) */
    int quit;                /* atomic */
    int active;              /* a job is running (atomic) */
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
    uint64_t seen = 0, g;
    RL_FREE(arg);
    for (;;) {
        int spins = 0;
        while ((g = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE)) == seen && !__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE) &&
               spins < RL_POOL_SPIN)
            rl__spin(spins++);
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
            g = p->generation;
            pthread_mutex_unlock(&p->mu);
        }
        if (__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) return NULL;
        seen = g;
        rl__pool_drain(p, wa.tid);
        if (__atomic_sub_fetch(&p->busy, 1, __ATOMIC_ACQ_REL) == 0) { /* the caller may be asleep on `done` */
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

RLDEF rl_pool *rl_pool_create(int n_threads) {
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
        p->n = 1;
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

RLDEF void rl_pool_free(rl_pool *p) {
    int i;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->quit, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (i = 1; i < p->n && p->threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    RL_FREE(p->threads);
    RL_FREE(p);
}

RLDEF int rl_pool_size(const rl_pool *p) { return p ? p->n : 1; }

RLDEF void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_task_fn fn, void *ctx) {
    int64_t chunk;
    int spins = 0;
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!p || p->n == 1 || n <= grain) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* nested or concurrent: run here. tid 0 is safe: per-call scratch indexed by tid
       belongs to this call, and only this thread runs it. */
    if (__atomic_exchange_n(&p->active, 1, __ATOMIC_ACQUIRE)) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* about 4 chunks per thread for balance, never below the grain */
    chunk = RL__MAX(grain, (n + 4 * p->n - 1) / (4 * p->n));
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n;
    p->chunk = chunk;
    p->next = 0;
    __atomic_store_n(&p->busy, p->n - 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&p->mu);
    __atomic_add_fetch(&p->generation, 1, __ATOMIC_RELEASE); /* publishes the fields above */
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    rl__pool_drain(p, 0);
    while (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) > 0 && spins < RL_POOL_SPIN) rl__spin(spins++);
    if (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) > 0) {
        pthread_mutex_lock(&p->mu);
        while (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    __atomic_store_n(&p->active, 0, __ATOMIC_RELEASE);
}
#endif /* RADLADS_NO_THREADS */

/* Release what rl__map_file made (kind 0: nothing; every build has it: a GGUF or
   safetensors image in memory is closed with it too). */
static void rl__unmap(const unsigned char *base, size_t size, int kind) {
    RL__UNUSED(size);
#if defined(_WIN32) && !defined(RADLADS_NO_STDIO)
    if (kind == 1) UnmapViewOfFile(base);
#elif !defined(RADLADS_NO_STDIO)
    if (kind == 1) munmap((void *)(uintptr_t)base, size);
#endif
    if (kind == 2) RL_FREE((void *)(uintptr_t)base);
}

#if !defined(RADLADS_NO_STDIO)
/* ---- files: whole-file reads, memory maps, file tests, folders ---- */

#if defined(_WIN32)
typedef struct _stat64 rl__stat_t;
#define rl__stat(p, s) _stat64(p, s)
#define rl__fstat(fd, s) _fstat64(fd, s)
#define RL__O_BINARY O_BINARY
#define rl__fsync(fd) _commit(fd)
#define rl__getpid() _getpid()
#define rl__mkdir(dir) _mkdir(dir)
#define RL__IS_DIR(m) (((m) & _S_IFMT) == _S_IFDIR)
#define RL__IS_REG(m) (((m) & _S_IFMT) == _S_IFREG)
#else
typedef struct stat rl__stat_t;
#define rl__stat(p, s) stat(p, s)
#define rl__fstat(fd, s) fstat(fd, s)
#define RL__O_BINARY 0
#define rl__fsync(fd) fsync(fd)
#define rl__getpid() getpid()
#define rl__mkdir(dir) mkdir(dir, 0777)
#define RL__IS_DIR(m) S_ISDIR(m)
#define RL__IS_REG(m) S_ISREG(m)
#endif

static int rl__is_dir(const char *path) {
    rl__stat_t sb;
    return rl__stat(path, &sb) == 0 && RL__IS_DIR(sb.st_mode);
}
static int rl__is_file(const char *path) {
    rl__stat_t sb;
    return rl__stat(path, &sb) == 0 && RL__IS_REG(sb.st_mode);
}
/* Create a folder; one that exists already is fine. */
RL__UTIL rl_status rl__make_dir(const char *dir) {
    if (rl__mkdir(dir) != 0 && errno != EEXIST) return rl__fail(RL_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    return RL_OK;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated); errors name the path. */
RL__INTERN rl_status rl__read_file(const char *path, size_t max_bytes, char **out, size_t *out_len) {
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
/* A whole file, read-only, memory-mapped (POSIX mmap; Windows CreateFileMapping and
   MapViewOfFile), or read into memory where it cannot be mapped. *kind: 0 nothing to free
   (an empty file), 1 mapped, 2 malloc'd; rl__unmap releases it. An empty file is fine here
   (callers decide). */
static rl_status rl__map_file(const char *path, const unsigned char **base, size_t *size, int *kind) {
    rl__stat_t sb;
    void *p = NULL;
    int fd = open(path, O_RDONLY | RL__O_BINARY);
    *base = (const unsigned char *)"";
    *size = 0;
    *kind = 0;
    if (fd < 0) return rl__fail(RL_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    if (rl__fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return rl__fail(RL_ERR_IO, "%s: cannot stat (%s)", path, strerror(e));
    }
    if (!RL__IS_REG(sb.st_mode)) {
        close(fd);
        return rl__fail(RL_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: file too large for this address space", path);
    }
    *size = (size_t)sb.st_size;
    if (*size == 0) {
        close(fd);
        return RL_OK;
    }
#if defined(_WIN32)
    {
        HANDLE m = CreateFileMappingA((HANDLE)_get_osfhandle(fd), NULL, PAGE_READONLY, 0, 0, NULL);
        if (m) {
            p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
            CloseHandle(m); /* the view keeps the mapping */
        }
    }
#else
    p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) p = NULL;
#endif
    if (p) {
        *base = (const unsigned char *)p;
        *kind = 1;
    } else { /* a file system without maps: read it */
        unsigned char *buf = (unsigned char *)RL_MALLOC(*size);
        size_t got = 0;
        if (!buf) {
            close(fd);
            return rl__fail(RL_ERR_NOMEM, "%s: cannot map or allocate %zu bytes", path, *size);
        }
        while (got < *size) {
            size_t want = *size - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : *size - got;
            long r = (long)read(fd, buf + got, (unsigned)want);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                int e = errno;
                RL_FREE(buf);
                close(fd);
                return rl__fail(RL_ERR_IO, "%s: read error (%s)", path, r < 0 ? strerror(e) : "file shrank while reading");
            }
            got += (size_t)r;
        }
        *base = buf;
        *kind = 2;
    }
    close(fd);
    return RL_OK;
}

/* ---- atomic writes ----
   A file is written as "<path>.tmp.<8 hex>" next to path (created exclusively), flushed to
   disk and renamed over path, then the folder is flushed (POSIX; Windows: _commit,
   MoveFileEx with MOVEFILE_REPLACE_EXISTING, no folder flush). A reader sees the old file or
   the complete new one; a failure removes the temporary file and leaves the old one. Windows
   refuses to replace a file that is open or mapped (an rl_st or a model reading it): that is
   an error there, while POSIX readers keep the old file's bytes. */
typedef struct rl__wfile {
    const char *path;
    char *tmp;
    int fd, err; /* err: errno of the first failed write (later writes do nothing) */
} rl__wfile;

static rl_status rl__wopen(rl__wfile *w, const char *path) {
    static unsigned counter;
    size_t len = strlen(path) + 16;
    int tries;
    uint64_t x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)rl__getpid() << 20 ^ (uint64_t)(uintptr_t)&tries;
    w->path = path;
    w->fd = -1;
    w->err = 0;
    if (!(w->tmp = (char *)RL_MALLOC(len))) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    for (tries = 0; tries < 100; tries++) {
        x = (x + ++counter) * 0x9E3779B97F4A7C15ull;
        x ^= x >> 29;
        snprintf(w->tmp, len, "%s.tmp.%08x", path, (unsigned)(x >> 32));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | RL__O_BINARY, 0666);
        if (w->fd >= 0 || errno != EEXIST) break;
    }
    if (w->fd < 0) {
        int e = errno;
        RL_FREE(w->tmp);
        w->tmp = NULL;
        return rl__fail(RL_ERR_IO, "%s: cannot create a temporary file next to it (%s)", path, strerror(e));
    }
    return RL_OK;
}

static void rl__wput(rl__wfile *w, const void *data, uint64_t n) {
    const unsigned char *p = (const unsigned char *)data;
    while (n && !w->err) {
        size_t chunk = n > ((uint64_t)1 << 30) ? ((size_t)1 << 30) : (size_t)n;
        long k = (long)write(w->fd, p, (unsigned)chunk);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) w->err = k < 0 && errno ? errno : EIO;
        else {
            p += k;
            n -= (uint64_t)k;
        }
    }
}

/* fsync the folder holding path, so the rename itself is durable (best effort; POSIX). */
static void rl__sync_dir(const char *path) {
#if defined(_WIN32)
    RL__UNUSED(path);
#else
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
#endif
}

/* Finish a write: st == RL_OK puts the file in place; otherwise (the caller failed) the
   temporary file goes and st is returned. */
static rl_status rl__wclose(rl__wfile *w, rl_status st) {
    int e = w->err;
    if (st == RL_OK && !e && rl__fsync(w->fd) != 0) e = errno ? errno : EIO;
    if (close(w->fd) != 0 && !e) e = errno ? errno : EIO;
    if (st == RL_OK && e) st = rl__fail(RL_ERR_IO, "%s: write failed (%s); the old file, if any, is unchanged", w->path, strerror(e));
#if defined(_WIN32)
    if (st == RL_OK && !MoveFileExA(w->tmp, w->path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        DWORD we = GetLastError(); /* Windows keeps a file that is open or mapped (a model loaded from it) */
        int busy = we == ERROR_ACCESS_DENIED || we == ERROR_SHARING_VIOLATION || we == ERROR_USER_MAPPED_FILE;
        st = rl__fail(RL_ERR_IO, "%s: cannot rename the temporary file into place (Windows error %lu%s)", w->path, (unsigned long)we,
                      busy ? ": the file is open or mapped, e.g. by a model or rl_st still open on it" : "");
    }
#else
    if (st == RL_OK && rename(w->tmp, w->path) != 0)
        st = rl__fail(RL_ERR_IO, "%s: cannot rename the temporary file into place (%s)", w->path, strerror(errno));
#endif
    if (st != RL_OK) remove(w->tmp);
    else rl__sync_dir(w->path);
    RL_FREE(w->tmp);
    w->tmp = NULL;
    return st;
}

/* Write a small file in one go. */
static rl_status rl__write_atomic(const char *path, const char *data, size_t len) {
    rl__wfile w;
    rl_status st = rl__wopen(&w, path);
    if (st != RL_OK) return st;
    rl__wput(&w, data, len);
    return rl__wclose(&w, RL_OK);
}

static rl_status rl__copy_file(const char *from, const char *to) {
    char *d = NULL;
    size_t n;
    rl_status st = rl__read_file(from, (size_t)1 << 32, &d, &n);
    if (st == RL_OK) st = rl__write_atomic(to, d, n);
    RL_FREE(d);
    return st;
}

/* "<path>.tmp.<8 hex>" files are ours (rl__wopen): a run killed while writing leaves one;
   the next start in that folder removes them. */
RL__UTIL void rl__remove_stale_tmp(const char *path) {
    const char *slash = strrchr(path, '/'), *base;
    char dir[4096], full[8192];
    size_t nb;
    DIR *d;
    struct dirent *e;
#if defined(_WIN32)
    if (strrchr(path, '\\') > slash) slash = strrchr(path, '\\');
#endif
    base = slash ? slash + 1 : path;
    nb = strlen(base);
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    if (!(d = opendir(dir))) return;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t k;
        int ok = strlen(n) == nb + 13 && !strncmp(n, base, nb) && !strncmp(n + nb, ".tmp.", 5);
        for (k = nb + 5; ok && k < nb + 13; k++) ok = (n[k] >= '0' && n[k] <= '9') || (n[k] >= 'a' && n[k] <= 'f');
        if (!ok) continue;
        snprintf(full, sizeof full, "%s/%s", dir, n);
        if (remove(full) == 0) rl_log(RL_LOG_INFO, "%s: removed a stale temporary file of an interrupted write", full);
    }
    closedir(d);
}
#endif /* !RADLADS_NO_STDIO */

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



RL__INTERN void rl__sb_put(rl__sbuf *b, const char *s, size_t n) {
    char *np;
    if (b->oom) return;
    np = (char *)rl__grow(b->p, &b->cap, b->n + n + 1, 1);
    if (!np) {
        b->oom = 1;
        return;
    }
    b->p = np;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void rl__sb_str(rl__sbuf *b, const char *s) { rl__sb_put(b, s, strlen(s)); }
static void rl__sb_u64(rl__sbuf *b, uint64_t v) {
    char t[32];
    rl__sb_put(b, t, (size_t)snprintf(t, sizeof t, "%llu", (unsigned long long)v));
}
static void rl__sb_printf(rl__sbuf *b, const char *fmt, ...) {
    char t[512];
    int n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof t) {
        b->oom = 1; /* never happens with the short formats used here */
        return;
    }
    rl__sb_put(b, t, (size_t)n);
}

/* ---- strict numbers from text ---- */

/* The limits in messages: integers as integers, others with %g. */
static void rl__num_fmt(char *b, size_t n, double v, int as_int) {
    if (as_int && fabs(v) < 9.2e18) snprintf(b, n, "%lld", (long long)v);
    else snprintf(b, n, "%g", v);
}

RLDEF rl_status rl_parse_num(const char *s, const char *what, double lo, double hi, int flags, double *out) {
    const char *p = s;
    char *end = NULL, a[40], b[40];
    double v, mul = 1;
    size_t n, i;
    int digits = 0, as_int = (flags & RL_NUM_INT) != 0;
    what = what ? what : "number";
    if (!s || !*s) return rl__fail(RL_ERR_ARG, "%s: empty value (expected a number)", what);
    n = strlen(s);
    if ((flags & RL_NUM_SUFFIX) && n > 1) {
        char c = s[n - 1];
        mul = c == 'k' || c == 'K' ? 1e3 : c == 'M' || c == 'm' ? 1e6 : c == 'G' || c == 'g' ? 1e9 : 1;
        if (mul != 1) n--;
    }
    /* only [sign] digits [. digits] [e [sign] digits]: no blanks, hex, nan or inf */
    for (i = 0; i < n; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9') digits++;
        else if (!(c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && (i == 0 || p[i - 1] == 'e' || p[i - 1] == 'E'))))
            break;
    }
    if (i != n || !digits || n > 300)
        return rl__fail(RL_ERR_ARG, "%s: '%.60s' is not a number%s", what, s, flags & RL_NUM_SUFFIX ? " (digits, optionally with a k/M/G suffix)" : "");
    {
        const struct lconv *lc = localeconv();
        char buf[320], dp = lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point[0] : '.';
        memcpy(buf, s, n);
        buf[n] = 0;
        if (dp && dp != '.') { /* strtod follows the locale's decimal point; ours is always '.' */
            for (i = 0; i < n; i++)
                if (buf[i] == '.') buf[i] = dp;
        }
        errno = 0;
        v = strtod(buf, &end);
        if (end != buf + n) return rl__fail(RL_ERR_ARG, "%s: '%.60s' is not a number", what, s);
    }
    v *= mul;
    rl__num_fmt(a, sizeof a, lo, as_int);
    rl__num_fmt(b, sizeof b, hi, as_int);
    if (!(v > -HUGE_VAL && v < HUGE_VAL)) return rl__fail(RL_ERR_ARG, "%s: '%.60s' is not finite (expected a value in [%s, %s])", what, s, a, b);
    if (as_int && v != floor(v)) return rl__fail(RL_ERR_ARG, "%s: '%.60s' is not a whole number (expected an integer in [%s, %s])", what, s, a, b);
    if (!(v >= lo && v <= hi)) return rl__fail(RL_ERR_ARG, "%s: %.60s is outside [%s, %s]", what, s, a, b);
    *out = v;
    return RL_OK;
}

RLDEF rl_status rl_parse_i64(const char *s, const char *what, int64_t lo, int64_t hi, int flags, int64_t *out) {
    double v;
    rl_status st;
    size_t i, n = s ? strlen(s) : 0;
    int plain = n > 0 && n < 19;
    for (i = 0; i < n && plain; i++) plain = (s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-' && n > 1);
    if (plain) { /* exact for every 64-bit value, not only those a double holds */
        long long x = strtoll(s, NULL, 10);
        if (x < lo || x > hi) return rl__fail(RL_ERR_ARG, "%s: %s is outside [%lld, %lld]", what ? what : "number", s, (long long)lo, (long long)hi);
        *out = (int64_t)x;
        return RL_OK;
    }
    if ((st = rl_parse_num(s, what, (double)lo, (double)hi, flags | RL_NUM_INT, &v)) != RL_OK) return st;
    *out = v >= 9.2233720368547758e18 ? INT64_MAX : (int64_t)v;
    if (*out < lo) *out = lo; /* (double)lo rounded */
    if (*out > hi) *out = hi;
    return RL_OK;
}


/* ---- little-endian loads/stores (any host, any alignment) ---- */
RL__UTIL uint16_t rl__le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
RL__UTIL uint32_t rl__le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
RL__UTIL uint64_t rl__le64(const unsigned char *p) { return (uint64_t)rl__le32(p) | ((uint64_t)rl__le32(p + 4) << 32); }
RL__UTIL float rl__lef32(const unsigned char *p) {
    uint32_t u = rl__le32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
RL__UTIL double rl__lef64(const unsigned char *p) {
    uint64_t u = rl__le64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}
RL__UTIL int rl__little_endian(void) {
    uint16_t x = 1;
    unsigned char c;
    memcpy(&c, &x, 1);
    return c == 1;
}
RL__UTIL void rl__st_le(unsigned char *b, uint64_t v, int n) {
    int i;
    for (i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* ---- UTF-8 ---- */
#define RL__CP_BAD 0x110000u /* a byte that is not valid UTF-8 (a character of class "other") */

/* Decode the character at s (n >= 1 bytes left); returns its length. Anything that is not
   well-formed UTF-8 (overlong, surrogate, > U+10FFFF, truncated) is one byte of RL__CP_BAD. */
static size_t rl__utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
            return 2;
        }
    } else if (c >= 0xE0 && c <= 0xEF) {
        if (n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
            uint32_t v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
                *cp = v;
                return 3;
            }
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        if (n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
            uint32_t v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                         ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            if (v >= 0x10000 && v <= 0x10FFFF) {
                *cp = v;
                return 4;
            }
        }
    }
    *cp = RL__CP_BAD;
    return 1;
}

/* Encode cp (at most U+10FFFF) at o; returns its length (1..4). */
static size_t rl__utf8_put(unsigned char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* 1 if the n bytes at s are well-formed UTF-8 */
RL__UTIL int rl__utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        i += rl__utf8_next(p + i, n - i, &cp);
        if (cp == RL__CP_BAD) return 0;
    }
    return 1;
}

/* ==== 9. JSON ============================================================== */

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

RL__PRINTF(3, 4)
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

static const unsigned char *rl__jws(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
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
            o += rl__utf8_put(o, cp);
        } else if (c < 0x20) {
            return rl__jerr(jp, p, "control character 0x%02x in string (must be escaped)", c);
        } else if (c < 0x80) {
            *o++ = (unsigned char)c;
            p++;
        } else {
            uint32_t cp;
            size_t n = rl__utf8_next(p, (size_t)(q - p), &cp);
            if (cp == RL__CP_BAD) return rl__jerr(jp, p, "invalid UTF-8 (byte 0x%02x) in string", c);
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
                size_t h = (size_t)rl__fnv1a(RL__FNV_BASIS, ks[j].k, (size_t)ks[j].len) & mask;
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

RLDEF rl_status rl_json_parse(rl_json_doc *doc, const char *text, size_t len, const char *source) {
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


#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_json_parse_file(rl_json_doc *doc, const char *path, size_t max_bytes) {
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
#endif

RLDEF void rl_json_free(rl_json_doc *doc) {
    if (!doc) return;
    rl_arena_free(&doc->arena);
    memset(doc, 0, sizeof *doc);
}

RLDEF int rl_json_has_dup(const rl_json_doc *doc) { return doc && doc->n_dup > 0; }

RLDEF const rl_json *rl_json_get(const rl_json *obj, const char *key) {
    int64_t k, n;
    if (!obj || obj->type != RL_JSON_OBJ || !key) return NULL;
    n = (int64_t)strlen(key);
    for (k = 0; k < obj->n; k++)
        if (obj->klen[k] == n && !memcmp(obj->keys[k], key, (size_t)n)) return &obj->kids[k];
    return NULL;
}

RLDEF const char *rl_json_type_name(rl_json_type t) {
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

RLDEF rl_status rl_json_expect(const rl_json *v, rl_json_type t, const char *source, const char *field) {
    if (v && v->type == t) return RL_OK;
    return rl__jwant(v, source, field, rl_json_type_name(t));
}

RLDEF rl_status rl_json_as_int(const rl_json *v, const char *source, const char *field, int64_t *out) {
    if (v && v->type == RL_JSON_NUM && v->is_int) {
        *out = v->i;
        return RL_OK;
    }
    if (v && v->type == RL_JSON_NUM)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: expected an integer, got %.17g", source ? source : "json", field ? field : "value", v->num);
    return rl__jwant(v, source, field, "an integer");
}

RLDEF rl_status rl_json_as_num(const rl_json *v, const char *source, const char *field, double *out) {
    if (v && v->type == RL_JSON_NUM) {
        *out = v->num;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a number");
}

RLDEF rl_status rl_json_as_bool(const rl_json *v, const char *source, const char *field, int *out) {
    if (v && v->type == RL_JSON_BOOL) {
        *out = v->num != 0;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a boolean");
}

RLDEF rl_status rl_json_as_str(const rl_json *v, const char *source, const char *field, const char **out) {
    if (v && v->type == RL_JSON_STR) {
        *out = v->str;
        return RL_OK;
    }
    return rl__jwant(v, source, field, "a string");
}

RLDEF rl_status rl_json_get_int(const rl_json *obj, const char *key, const char *source, int64_t *out) {
    return rl_json_as_int(rl_json_get(obj, key), source, key, out);
}
RLDEF rl_status rl_json_get_num(const rl_json *obj, const char *key, const char *source, double *out) {
    return rl_json_as_num(rl_json_get(obj, key), source, key, out);
}
RLDEF rl_status rl_json_get_bool(const rl_json *obj, const char *key, const char *source, int *out) {
    return rl_json_as_bool(rl_json_get(obj, key), source, key, out);
}
RLDEF rl_status rl_json_get_str(const rl_json *obj, const char *key, const char *source, const char **out) {
    return rl_json_as_str(rl_json_get(obj, key), source, key, out);
}

static int rl__jabsent(const rl_json *v) { return !v || v->type == RL_JSON_NULL; }

RLDEF rl_status rl_json_get_int_or(const rl_json *obj, const char *key, const char *source, int64_t dflt, int64_t *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_int(v, source, key, out);
}
RLDEF rl_status rl_json_get_num_or(const rl_json *obj, const char *key, const char *source, double dflt, double *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_num(v, source, key, out);
}
RLDEF rl_status rl_json_get_bool_or(const rl_json *obj, const char *key, const char *source, int dflt, int *out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_bool(v, source, key, out);
}
RLDEF rl_status rl_json_get_str_or(const rl_json *obj, const char *key, const char *source, const char *dflt, const char **out) {
    const rl_json *v = rl_json_get(obj, key);
    if (rl__jabsent(v)) {
        *out = dflt;
        return RL_OK;
    }
    return rl_json_as_str(v, source, key, out);
}

/* ---- JSON strings out (the writers of safetensors headers and tokenizer.json) ---- */
/* Append the n bytes at s as a JSON string, as serde_json writes one: ", \ and control
   characters escaped, UTF-8 as is. Returns 0, or -1 if s is not valid UTF-8. */
RL__UTIL int rl__sb_json_str(rl__sbuf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    rl__sb_put(b, "\"", 1);
    while (p < end) {
        const unsigned char *q = p;
        int l;
        while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') q++;
        if (q > p) rl__sb_put(b, (const char *)p, (size_t)(q - p));
        p = q;
        if (p == end) break;
        if (*p >= 0x80) {
            uint32_t cp;
            l = (int)rl__utf8_next(p, (size_t)(end - p), &cp);
            if (cp == RL__CP_BAD) return -1;
            rl__sb_put(b, (const char *)p, (size_t)l);
            p += l;
            continue;
        }
        switch (*p) {
        case '"': rl__sb_put(b, "\\\"", 2); break;
        case '\\': rl__sb_put(b, "\\\\", 2); break;
        case '\b': rl__sb_put(b, "\\b", 2); break;
        case '\f': rl__sb_put(b, "\\f", 2); break;
        case '\n': rl__sb_put(b, "\\n", 2); break;
        case '\r': rl__sb_put(b, "\\r", 2); break;
        case '\t': rl__sb_put(b, "\\t", 2); break;
        default: {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", *p);
            rl__sb_put(b, e, 6);
        }
        }
        p++;
    }
    rl__sb_put(b, "\"", 1);
    return 0;
}

/* ==== 10. safetensors ====================================================== */

/* What rl_st_open checks (API: section 10's declarations):
   header length <= 100 MB and inside the file; the header a JSON object (whitespace around it
   allowed); every tensor {"dtype", "shape": [non-negative ints], "data_offsets": [b, e]}
   with a known dtype; sorted by offsets the tensors tile the data section exactly from 0 (no
   gap, no overlap, no alias); e - b == bytes of dtype × shape; the file ends exactly at the
   last tensor (no trailing bytes); __metadata__ (optional) maps strings to strings. Stricter
   than Rust: duplicate keys anywhere in the header and a tensor named "__metadata__" are
   refused, and so is a tensor with more than RL_ST_MAX_DIMS dimensions. Unknown fields inside
   a tensor entry are ignored, as Rust does. Errors are RL_ERR_FORMAT naming the file, the
   tensor and the problem. Little-endian hosts only (RL_ERR_UNSUPPORTED otherwise). */



static const char *const rl__st_names[RL_ST_NDTYPES] = {
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"};
static const unsigned char rl__st_bits[RL_ST_NDTYPES] = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8,
                                                         16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};

RLDEF const char *rl_st_dtype_name(rl_st_dtype t) { return (unsigned)t < RL_ST_NDTYPES ? rl__st_names[t] : "?"; }
RLDEF int rl_st_dtype_bits(rl_st_dtype t) { return (unsigned)t < RL_ST_NDTYPES ? rl__st_bits[t] : 0; }

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

/* The 8-byte length and the JSON header of file f: an object without duplicate keys
   (on RL_OK the caller frees doc). */
static rl_status rl__st_read_json(const rl__st_file *f, uint64_t *hlen_out, rl_json_doc *doc) {
    const char *fn = f->path;
    const unsigned char *p = f->base;
    uint64_t hlen = 0;
    char *src;
    rl_status s;
    int k;
    if (f->size < 8)
        return rl__fail(RL_ERR_FORMAT, "%s: file is %zu bytes, too small for a safetensors header (8-byte length + JSON)", fn, f->size);
    for (k = 7; k >= 0; k--) hlen = (hlen << 8) | p[k];
    if (hlen > RL_ST_MAX_HEADER)
        return rl__fail(RL_ERR_FORMAT, "%s: header length %llu is larger than the %d-byte limit (corrupt, or not a safetensors file)",
                        fn, (unsigned long long)hlen, RL_ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return rl__fail(RL_ERR_FORMAT, "%s: header length %llu runs past end of file (size %zu)", fn, (unsigned long long)hlen, f->size);
    src = (char *)RL_MALLOC(strlen(fn) + 16);
    if (!src) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
    sprintf(src, "%s: header", fn);
    s = rl_json_parse(doc, (const char *)p + 8, (size_t)hlen, src);
    RL_FREE(src);
    if (s != RL_OK) return s;
    if (doc->root.type != RL_JSON_OBJ)
        s = rl__fail(RL_ERR_FORMAT, "%s: header is %s, expected a JSON object", fn, rl_json_type_name(doc->root.type));
    else if (rl_json_has_dup(doc))
        s = rl__fail(RL_ERR_FORMAT, "%s: header: duplicate key \"%.200s\" (at %d:%d)", fn, doc->dup_key, doc->dup_line, doc->dup_col);
    if (s != RL_OK) {
        rl_json_free(doc);
        return s;
    }
    *hlen_out = hlen;
    return RL_OK;
}

/* The __metadata__ entry: an object of strings, kept (in st's arena) from the first file only. */
static rl_status rl__st_read_meta(rl_st *st, const char *fn, int file, const rl_json *v) {
    int64_t m;
    if (v->type == RL_JSON_OBJ && (rl_json_get(v, "dtype") || rl_json_get(v, "data_offsets")))
        return rl__fail(RL_ERR_FORMAT, "%s: a tensor may not be named \"__metadata__\" (reserved for metadata)", fn);
    if (v->type != RL_JSON_OBJ)
        return rl__fail(RL_ERR_FORMAT, "%s: __metadata__ must be an object of strings, got %s", fn, rl_json_type_name(v->type));
    for (m = 0; m < v->n; m++)
        if (v->kids[m].type != RL_JSON_STR)
            return rl__fail(RL_ERR_FORMAT, "%s: __metadata__: value of \"%.100s\" must be a string, got %s", fn, v->keys[m],
                            rl_json_type_name(v->kids[m].type));
    if (file != 0 || !v->n) return RL_OK;
    st->n_meta = (int)v->n;
    st->meta_keys = (const char **)rl_arena_alloc(&st->arena, (size_t)v->n * sizeof(char *));
    st->meta_vals = (const char **)rl_arena_alloc(&st->arena, (size_t)v->n * sizeof(char *));
    if (!st->meta_keys || !st->meta_vals) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
    for (m = 0; m < v->n; m++) {
        st->meta_keys[m] = rl__st_strdup(&st->arena, v->keys[m], (size_t)v->klen[m]);
        st->meta_vals[m] = rl__st_strdup(&st->arena, v->kids[m].str, (size_t)v->kids[m].n);
        if (!st->meta_keys[m] || !st->meta_vals[m]) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
    }
    return RL_OK;
}

/* One tensor entry: checked, named in st's arena and appended to the list; its data offsets go to span. */
static rl_status rl__st_add_tensor(rl_st *st, const char *fn, const char *key, const rl_json *v, const unsigned char *data,
                                   uint64_t data_len, int file, rl__st_list *list, rl__st_span *span) {
    rl_st_tensor t;
    uint64_t b = 0, e = 0;
    rl_st_tensor *nl;
    rl_status s;
    if ((s = rl__st_entry(st, fn, key, v, data, data_len, file, &t, &b, &e)) != RL_OK) return s;
    t.name = rl__st_strdup(&st->arena, key, strlen(key));
    nl = (rl_st_tensor *)rl__grow(list->t, &list->cap, list->n + 1, sizeof(rl_st_tensor));
    if (!t.name || !nl) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", fn);
    list->t = nl;
    span->b = b;
    span->e = e;
    span->idx = list->n;
    list->t[list->n++] = t;
    return RL_OK;
}

/* The tensors must tile the data section of f: sorted by offsets, each starts where the last ended,
   and the last ends where the file does. */
static rl_status rl__st_check_tiling(const rl__st_file *f, uint64_t hlen, const rl__st_list *list, rl__st_span *spans, size_t ns) {
    const char *fn = f->path;
    uint64_t data_len = f->size - 8 - hlen, end = 0;
    size_t i;
    qsort(spans, ns, sizeof *spans, rl__st_span_cmp);
    for (i = 0; i < ns; i++) {
        const char *name = list->t[spans[i].idx].name;
        if (spans[i].b > end) {
            if (i == 0)
                return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu]: the first tensor must start at 0 (gap of %llu bytes)",
                                fn, name, (unsigned long long)spans[i].b, (unsigned long long)spans[i].e, (unsigned long long)spans[i].b);
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] leave a gap of %llu bytes after tensor %s (ends at %llu)",
                            fn, name, (unsigned long long)spans[i].b, (unsigned long long)spans[i].e,
                            (unsigned long long)(spans[i].b - end), list->t[spans[i - 1].idx].name, (unsigned long long)end);
        }
        if (spans[i].b < end)
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] overlap tensor %s [%llu, %llu]", fn, name,
                            (unsigned long long)spans[i].b, (unsigned long long)spans[i].e, list->t[spans[i - 1].idx].name,
                            (unsigned long long)spans[i - 1].b, (unsigned long long)spans[i - 1].e);
        end = spans[i].e;
    }
    if (end != data_len)
        return rl__fail(RL_ERR_FORMAT, "%s: %llu trailing bytes after the last tensor's data (the data section ends at byte %llu of %zu)", fn,
                        (unsigned long long)(data_len - end), (unsigned long long)(8 + hlen + end), f->size);
    return RL_OK;
}

/* Validate file `file` of st and append its tensors to the list. */
static rl_status rl__st_parse(rl_st *st, int file, rl__st_list *list) {
    rl__st_file *f = &st->files[file];
    const char *fn = f->path;
    uint64_t hlen = 0, data_len;
    rl_json_doc doc;
    rl__st_span *spans = NULL;
    size_t first = list->n, ns = 0, i;
    rl_status s = RL_OK;
    if ((s = rl__st_read_json(f, &hlen, &doc)) != RL_OK) return s;
    data_len = f->size - 8 - hlen;
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
        if (!strcmp(key, "__metadata__")) s = rl__st_read_meta(st, fn, file, v);
        else if ((s = rl__st_add_tensor(st, fn, key, v, f->base + 8 + hlen, data_len, file, list, &spans[ns])) == RL_OK) ns++;
        if (s != RL_OK) goto done;
    }
    s = rl__st_check_tiling(f, hlen, list, spans, ns);
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

RLDEF rl_status rl_st_open_memory(rl_st *st, const void *data, size_t len, const char *name) {
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

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_st_open(rl_st *st, const char *path) {
    rl__st_list list = {NULL, 0, 0};
    rl_status s;
    if (rl__is_dir(path)) return rl_st_open_dir(st, path);
    if ((s = rl__st_begin(st, path, 1)) == RL_OK) {
        rl__st_file *f = &st->files[0];
        st->n_files = 1;
        f->path = st->path;
        if ((s = rl__map_file(path, &f->base, &f->size, &f->kind)) == RL_OK && (s = rl__st_parse(st, 0, &list)) == RL_OK)
            s = rl__st_finish(st, &list);
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

/* The distinct shard names of the weight_map, sorted: a shard's file index is its position.
   Each map entry gets its shard's file index; map is then sorted by tensor name. */
static rl_status rl__st_number_shards(const char *index, const rl_json *wm, rl__st_wm *map, const char **shards, int nm, int *n_shards) {
    int i, n = 0;
    if (nm) qsort(shards, (size_t)nm, sizeof *shards, rl__str_cmp);
    for (i = 0; i < nm; i++)
        if (!n || strcmp(shards[n - 1], shards[i])) shards[n++] = shards[i];
    if (!n) return rl__fail(RL_ERR_FORMAT, "%s: weight_map is empty", index);
    for (i = 0; i < nm; i++) {
        const char *sh = wm->kids[i].str;
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (strcmp(shards[mid], sh) < 0) lo = mid + 1;
            else hi = mid;
        }
        map[i].file = lo;
    }
    if (nm) qsort(map, (size_t)nm, sizeof *map, rl__st_wm_cmp);
    *n_shards = n;
    return RL_OK;
}

/* The index file: its weight_map as (tensor name, file) pairs and the distinct shard names.
   doc, *map and *shards are the caller's to free, also on failure; map and shards point into doc. */
static rl_status rl__st_read_index(const char *index, rl_json_doc *doc, rl__st_wm **map_out, const char ***shards_out, int *nm_out,
                                   int *n_shards) {
    const rl_json *wm;
    rl__st_wm *map;
    const char **shards;
    int nm, i;
    rl_status s;
    if ((s = rl_json_parse_file(doc, index, (size_t)64 << 20)) != RL_OK) return s;
    if (rl_json_has_dup(doc))
        return rl__fail(RL_ERR_FORMAT, "%s: duplicate key \"%.200s\" (at %d:%d)", index, doc->dup_key, doc->dup_line, doc->dup_col);
    wm = rl_json_get(&doc->root, "weight_map");
    if ((s = rl_json_expect(wm, RL_JSON_OBJ, index, "weight_map")) != RL_OK) return s;
    if (wm->n > 10000000) return rl__fail(RL_ERR_UNSUPPORTED, "%s: weight_map has too many entries", index);
    nm = *nm_out = (int)wm->n;
    map = *map_out = (rl__st_wm *)RL_MALLOC((size_t)(nm ? nm : 1) * sizeof *map);
    shards = *shards_out = (const char **)RL_MALLOC((size_t)(nm ? nm : 1) * sizeof *shards);
    if (!map || !shards) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", index);
    for (i = 0; i < nm; i++) {
        const rl_json *v = &wm->kids[i];
        if (v->type != RL_JSON_STR || (size_t)v->n != strlen(v->str) || !rl__st_shard_name_ok(v->str))
            return rl__fail(RL_ERR_FORMAT, "%s: weight_map: \"%.200s\" must map to a shard file name in the same folder", index, wm->keys[i]);
        map[i].name = wm->keys[i];
        shards[i] = v->str;
    }
    return rl__st_number_shards(index, wm, map, shards, nm, n_shards);
}

/* Shard file i of st (name in dir): present, mapped, its tensors appended to the list. */
static rl_status rl__st_open_shard(rl_st *st, int i, const char *dir, const char *index, const char *name, rl__st_list *list) {
    char *path = rl__path_join(&st->arena, dir, name);
    rl_status s;
    if (!path) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", dir);
    st->files[i].path = path;
    if (!rl__is_file(path))
        return rl__fail(RL_ERR_IO, "%s: names shard %s, which is missing (%s)", index, name, strerror(errno ? errno : ENOENT));
    if ((s = rl__map_file(path, &st->files[i].base, &st->files[i].size, &st->files[i].kind)) != RL_OK) return s;
    return rl__st_parse(st, i, list);
}

/* Resolve names found in several shards through the index (the list keeps one entry per name);
   then every name of the index must be in its shard. */
static rl_status rl__st_resolve(rl__st_list *list, const rl__st_wm *map, int nm, const char *const *shards, const char *index,
                                const char *dir) {
    size_t r, w = 0, g;
    int j;
    if (list->n > 1) qsort(list->t, list->n, sizeof(rl_st_tensor), rl__st_name_cmp);
    for (r = 0; r < list->n; r = g) {
        rl__st_wm key;
        const rl__st_wm *hit;
        size_t keep = r;
        for (g = r + 1; g < list->n && !strcmp(list->t[g].name, list->t[r].name); g++) {}
        key.name = list->t[r].name;
        hit = nm ? (const rl__st_wm *)bsearch(&key, map, (size_t)nm, sizeof *map, rl__st_wm_cmp) : NULL;
        if (hit) {
            for (keep = r; keep < g && list->t[keep].file != hit->file; keep++) {}
            if (keep == g)
                return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: the index says it is in %s, but it is in %s", index, key.name,
                                shards[hit->file], shards[list->t[r].file]);
        } else if (g - r > 1) {
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s is in two shards (%s and %s) and the index does not say which one owns it", dir,
                            key.name, shards[list->t[r].file], shards[list->t[r + 1].file]);
        }
        list->t[w++] = list->t[keep];
    }
    list->n = w;
    for (j = 0; j < nm; j++) {
        rl_st_tensor key;
        key.name = map[j].name;
        key.file = map[j].file;
        if (!list->n || !bsearch(&key, list->t, list->n, sizeof(rl_st_tensor), rl__st_name_cmp))
            return rl__fail(RL_ERR_FORMAT, "%s: tensor %s: not found in shard %s", index, map[j].name, shards[map[j].file]);
    }
    return RL_OK;
}

RLDEF rl_status rl_st_open_dir(rl_st *st, const char *dir) {
    rl_arena tmp;
    char *single, *index;
    rl_json_doc doc;
    rl__st_wm *map = NULL;
    const char **shards = NULL;
    rl__st_list list = {NULL, 0, 0};
    int n_shards = 0, nm = 0, i;
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
    if ((s = rl__st_read_index(index, &doc, &map, &shards, &nm, &n_shards)) != RL_OK) goto fail0;
    if ((s = rl__st_begin(st, dir, n_shards)) != RL_OK) goto fail;
    st->n_files = n_shards;
    for (i = 0; i < n_shards; i++)
        if ((s = rl__st_open_shard(st, i, dir, index, shards[i], &list)) != RL_OK) goto fail;
    if ((s = rl__st_resolve(&list, map, nm, shards, index, dir)) != RL_OK) goto fail;
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

#endif

RLDEF void rl_st_close(rl_st *st) {
    int i;
    if (!st) return;
    for (i = 0; st->files && i < st->n_files; i++) {
        rl__st_file *f = &st->files[i];
        rl__unmap(f->base, f->size, f->kind);
    }
    RL_FREE(st->files);
    rl_arena_free(&st->arena);
    memset(st, 0, sizeof *st);
}

RLDEF const rl_st_tensor *rl_st_find(const rl_st *st, const char *name) {
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

RLDEF int rl_st_count(const rl_st *st) { return st ? st->n_tensors : 0; }
RLDEF const rl_st_tensor *rl_st_at(const rl_st *st, int i) { return st && i >= 0 && i < st->n_tensors ? &st->tensors[i] : NULL; }
RLDEF const char *rl_st_file_path(const rl_st *st, int file) { return st && file >= 0 && file < st->n_files ? st->files[file].path : NULL; }

RLDEF const char *rl_st_meta(const rl_st *st, const char *key) {
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

RLDEF rl_status rl_st_read_f32(const rl_st *st, const char *name, float *dst, int ndim, const int64_t *shape) {
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

RLDEF rl_status rl_st_read_i32(const rl_st *st, const char *name, int32_t *dst, int ndim, const int64_t *shape) {
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

static rl_st_dtype rl__st_from_dtype(rl_dtype d) {
    switch (d) {
    case RL_F32: return RL_ST_F32;
    case RL_BF16: return RL_ST_BF16;
    case RL_F16: return RL_ST_F16;
    case RL_I32: return RL_ST_I32;
    default: break; /* ggml block types have no safetensors dtype */
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

/* Tensor i of a list to write: a name, a dtype, a shape the format can hold, data; w gets its dtype and byte size. */
static rl_status rl__st_check_entry(const char *what, int i, const rl_st_entry *e, rl__st_word *w) {
    uint64_t numel = 1;
    int k;
    w->e = e;
    w->dt = rl__st_from_dtype(e->dtype);
    if (!e->name || !rl__utf8_valid(e->name, strlen(e->name)) || !strcmp(e->name, "__metadata__"))
        return rl__fail(RL_ERR_ARG, "%s: tensor %d: name %s", what, i, !e->name ? "missing" : "is not valid UTF-8 or is reserved");
    if (w->dt == RL_ST_NDTYPES) return rl__fail(RL_ERR_ARG, "%s: tensor %s: unknown dtype %d", what, e->name, (int)e->dtype);
    if (e->ndim < 0 || e->ndim > RL_ST_MAX_DIMS)
        return rl__fail(RL_ERR_ARG, "%s: tensor %s: ndim %d (0..%d)", what, e->name, e->ndim, RL_ST_MAX_DIMS);
    for (k = 0; k < e->ndim; k++) {
        if (e->shape[k] < 0) return rl__fail(RL_ERR_ARG, "%s: tensor %s: negative dimension in shape", what, e->name);
        if (e->shape[k] == 0) numel = 0;
    }
    for (k = 0; numel && k < e->ndim; k++) { /* as the reader: any dims when one is 0 */
        if (numel > ((uint64_t)1 << 60) / (uint64_t)e->shape[k])
            return rl__fail(RL_ERR_ARG, "%s: tensor %s: shape too large", what, e->name);
        numel *= (uint64_t)e->shape[k];
    }
    w->nbytes = numel * (rl__st_bits[w->dt] / 8);
    if (w->nbytes && !e->data) return rl__fail(RL_ERR_ARG, "%s: tensor %s: no data", what, e->name);
    return RL_OK;
}

/* Insertion sort of the k (key, value) pairs in mk by key. */
static void rl__st_sort_pairs(const char **mk, int k) {
    int i, j;
    for (i = 1; i < k; i++)
        for (j = i; j > 0 && strcmp(mk[2 * j - 2], mk[2 * j]) > 0; j--) {
            const char *t0 = mk[2 * j - 2], *t1 = mk[2 * j - 1];
            mk[2 * j - 2] = mk[2 * j];
            mk[2 * j - 1] = mk[2 * j + 1];
            mk[2 * j] = t0;
            mk[2 * j + 1] = t1;
        }
}

/* The metadata to write: format=pt plus the caller's pairs (meta: key, value, ..., NULL), sorted by key.
   *mk_out holds the *k_out pairs; it is the caller's to free, also on failure. */
static rl_status rl__st_meta_pairs(const char *what, const char *const *meta, unsigned flags, const char ***mk_out, int *k_out) {
    const char **mk;
    int nmeta = 0, i, j, k;
    for (i = 0; meta && meta[i]; i += 2) {
        if (!meta[i + 1]) return rl__fail(RL_ERR_ARG, "%s: metadata key %s has no value", what, meta[i]);
        nmeta++;
    }
    mk = *mk_out = (const char **)RL_MALLOC((size_t)(2 * nmeta + 2) * sizeof *mk);
    if (!mk) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", what);
    k = 0;
    if (!(flags & RL_ST_WRITE_NO_FORMAT)) {
        mk[0] = "format";
        mk[1] = "pt";
        k = 1;
    }
    for (i = 0; i < nmeta; i++) {
        const char *key = meta[2 * i], *val = meta[2 * i + 1];
        if (!rl__utf8_valid(key, strlen(key)) || !rl__utf8_valid(val, strlen(val))) return rl__fail(RL_ERR_ARG, "%s: metadata %s: not valid UTF-8", what, key);
        for (j = 0; j < k; j++)
            if (!strcmp(mk[2 * j], key)) break;
        if (j < k) {
            if (!strcmp(key, "format") && !(flags & RL_ST_WRITE_NO_FORMAT) && j == 0) {
                if (strcmp(val, "pt"))
                    return rl__fail(RL_ERR_ARG, "%s: metadata format must be \"pt\" (transformers refuses \"%s\")", what, val);
                continue;
            }
            return rl__fail(RL_ERR_ARG, "%s: metadata key %s given twice", what, key);
        }
        mk[2 * k] = key;
        mk[2 * k + 1] = val;
        k++;
    }
    rl__st_sort_pairs(mk, k);
    *k_out = k;
    return RL_OK;
}

/* The header's JSON: __metadata__ (k pairs in mk), then the n tensors of ord, their data back to back. */
static void rl__st_header_json(rl__sbuf *hb, const char *const *mk, int k, const rl__st_word *ord, int n) {
    uint64_t off = 0;
    int i, j;
    rl__sb_str(hb, "{");
    if (k) {
        rl__sb_str(hb, "\"__metadata__\":{");
        for (i = 0; i < k; i++) {
            if (i) rl__sb_str(hb, ",");
            rl__sb_json_str(hb, mk[2 * i], strlen(mk[2 * i]));
            rl__sb_str(hb, ":");
            rl__sb_json_str(hb, mk[2 * i + 1], strlen(mk[2 * i + 1]));
        }
        rl__sb_str(hb, "}");
    }
    for (i = 0; i < n; i++) {
        const rl_st_entry *e = ord[i].e;
        if (i || k) rl__sb_str(hb, ",");
        rl__sb_json_str(hb, e->name, strlen(e->name));
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
}

/* Validate, order and build the header (padded). ord: n items in file order. */
static rl_status rl__st_header(const char *what, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags,
                               rl__st_word **ord_out, rl__sbuf *hb) {
    rl__st_word *ord;
    const char **mk = NULL;
    int k = 0, i;
    rl_status s = RL_OK;
    *ord_out = NULL;
    memset(hb, 0, sizeof *hb);
    if (n < 0 || (n && !tensors)) return rl__fail(RL_ERR_ARG, "%s: bad tensor list", what);
    ord = (rl__st_word *)RL_MALLOC((size_t)(n ? n : 1) * sizeof *ord);
    if (!ord) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", what);
    for (i = 0; i < n; i++)
        if ((s = rl__st_check_entry(what, i, &tensors[i], &ord[i])) != RL_OK) goto fail;
    if (n > 1) {
        qsort(ord, (size_t)n, sizeof *ord, rl__st_wname_cmp);
        for (i = 1; i < n; i++)
            if (!strcmp(ord[i].e->name, ord[i - 1].e->name)) {
                s = rl__fail(RL_ERR_ARG, "%s: tensor name %s given twice", what, ord[i].e->name);
                goto fail;
            }
        qsort(ord, (size_t)n, sizeof *ord, rl__st_word_cmp);
    }
    if ((s = rl__st_meta_pairs(what, meta, flags, &mk, &k)) != RL_OK) goto fail;
    rl__st_header_json(hb, mk, k, ord, n);
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

RLDEF rl_status rl_st_serialize(const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags, unsigned char **out,
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


#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_st_write(const char *path, const rl_st_entry *tensors, int n, const char *const *meta, unsigned flags) {
    rl__st_word *ord;
    rl__sbuf hb;
    rl__wfile w;
    unsigned char len8[8];
    int i;
    rl_status s;
    if (!path) return rl__fail(RL_ERR_ARG, "rl_st_write: no path");
    if (!rl__st_host_le()) return rl__fail(RL_ERR_UNSUPPORTED, "%s: safetensors writing needs a little-endian host", path);
    if ((s = rl__st_header(path, tensors, n, meta, flags, &ord, &hb)) != RL_OK) return s;
    if ((s = rl__wopen(&w, path)) == RL_OK) {
        rl__st_le64(len8, hb.n);
        rl__wput(&w, len8, 8);
        rl__wput(&w, hb.p, hb.n);
        for (i = 0; i < n; i++) rl__wput(&w, ord[i].e->data, ord[i].nbytes);
        s = rl__wclose(&w, RL_OK);
    }
    RL_FREE(ord);
    RL_FREE(hb.p);
    return s;
}
#endif

/* ==== 11. config.json ====================================================== */


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
        } else if (!strcmp(a, RL_RWKV6_HYBRID_ARCH)) { /* our RAD-RWKV6 hybrids (README: why not rwkv6qwen2) */
            from_a = RL_ARCH_QWEN2;
            cfg->student = 6;
            cfg->rwkv6_hybrid = 1;
        } else
            return rl__fail(RL_ERR_UNSUPPORTED,
                            "%s: architectures: \"%.100s\" is not supported (supported: Qwen2ForCausalLM, LlamaForCausalLM, "
                            "RWKV6Qwen2ForCausalLM, RWKV7Qwen2ForCausalLM, " RL_RWKV6_HYBRID_ARCH ")", src, a);
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
            if (cfg->rwkv6_hybrid) return rl__fail(RL_ERR_FORMAT, "%s: architectures says %s but model_type says %s", src, a, m);
        } else if (!strcmp(m, RL_RWKV6_HYBRID_TYPE)) {
            from_m = RL_ARCH_QWEN2;
            if ((cfg->student && !cfg->rwkv6_hybrid))
                return rl__fail(RL_ERR_FORMAT, "%s: architectures says %s but model_type says %s", src, a, m);
            cfg->student = 6;
            cfg->rwkv6_hybrid = 1;
        } else
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: model_type \"%.100s\" is not supported (supported: qwen2, llama, rwkv6qwen2, rwkv7qwen2, "
                            RL_RWKV6_HYBRID_TYPE ")", src, m);
    }
    if (!from_a && !from_m)
        return rl__fail(RL_ERR_FORMAT, "%s: no architectures or model_type key says what model this is (supported: Qwen2ForCausalLM, LlamaForCausalLM)", src);
    if (from_a && from_m && from_a != from_m)
        return rl__fail(RL_ERR_FORMAT, "%s: architectures says %s but model_type says %s", src, a, m);
    cfg->arch = (rl_arch)(from_a ? from_a : from_m);
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s",
             cfg->rwkv6_hybrid ? RL_RWKV6_HYBRID_TYPE : cfg->student == 6 ? "rwkv6qwen2" : cfg->student == 7 ? "rwkv7qwen2" : cfg->arch == RL_ARCH_QWEN2 ? "qwen2" : "llama");
    return RL_OK;
}

/* The RADLADS keys of a student's config.json, with the HF config classes' defaults
   (RWKV6: gate_rank_type 1, token shift on, RoPE off; RWKV7: gate_rank_type 2, token shift
   off, RoPE off unless use_rope says so; both: balance_state true, groupnorm_att false).
   Accepted is what the official modeling code (rwkv6qwen2/, rwkv7qwen2/ of the RADLADS
   repository) runs: RWKV6 every gate_rank_type (0 none, 1 Linear, 2 LoRA), balance_state,
   groupnorm_att, use_tokenshift and use_rope; RWKV7 gate_rank_type 1 or 2 (0 leaves its gate
   undefined), every balance_state/groupnorm_att/use_rope, use_tokenshift read and ignored as
   that code does. Hybrids: RWKV7 with use_rope only (its attention layers take their RoPE
   angles from the model's use_rope path); RWKV6 only under our own model_type, since the
   official rwkv6qwen2 code ignores num_attention_layers. */
static rl_status rl__cfg_student(rl_config *cfg, const rl_json *root, const char *src) {
    rl_status s;
    int64_t v;
    int six = cfg->student == 6, ob = 0;
    struct { const char *key; int *dst; } ranks[5];
    int i;
    ranks[0].key = "lora_rank_tokenshift"; ranks[0].dst = &cfg->lora_tokenshift;
    ranks[1].key = "lora_rank_decay"; ranks[1].dst = &cfg->lora_decay;
    ranks[2].key = "lora_rank_iclr"; ranks[2].dst = &cfg->lora_iclr;
    ranks[3].key = "lora_rank_value_residual_mix"; ranks[3].dst = &cfg->lora_value_residual;
    ranks[4].key = "lora_rank_gate"; ranks[4].dst = &cfg->lora_gate;
    for (i = 0; i < 5; i++) { /* null or absent: 0, i.e. the official default (or the tensors' shape) */
        if ((s = rl_json_get_int_or(root, ranks[i].key, src, 0, &v)) != RL_OK) return s;
        if (v < 0 || v > 1 << 20) return rl__fail(RL_ERR_FORMAT, "%s: %s: %lld is not a LoRA rank", src, ranks[i].key, (long long)v);
        *ranks[i].dst = (int)v;
    }
    if ((s = rl_json_get_int_or(root, "gate_rank_type", src, six ? 1 : 2, &v)) != RL_OK) return s;
    if (v < 0 || v > 2)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: gate_rank_type %lld is not one of 0 (none), 1 (Linear), 2 (LoRA)", src, (long long)v);
    cfg->gate_rank_type = (int)v;
    if (!six && v == 0)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: gate_rank_type 0 is not supported for RAD-RWKV7: the official RWKV7Qwen2 code "
                        "then has no gate and fails on it (use 1 or 2)", src);
    if ((s = rl_json_get_bool_or(root, "balance_state", src, 1, &cfg->balance_state)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "groupnorm_att", src, 0, &cfg->groupnorm_att)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "use_tokenshift", src, six, &cfg->use_tokenshift)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "use_rope", src, 0, &cfg->use_rope)) != RL_OK) return s;
    if ((s = rl_json_get_bool_or(root, "attention_output_bias", src, 0, &ob)) != RL_OK) return s;
    if (ob) return rl__fail(RL_ERR_UNSUPPORTED, "%s: attention_output_bias true (a bias on o_proj) is not supported", src);
    if (!six) cfg->use_tokenshift = 0; /* RWKV7Qwen2 has no token shift; the key only configures training */
    if ((s = rl_json_get_int_or(root, "num_attention_layers", src, 0, &v)) != RL_OK) return s;
    if (v < 0 || v > cfg->n_layers)
        return rl__fail(RL_ERR_FORMAT, "%s: num_attention_layers %lld is outside [0, %lld]", src, (long long)v, (long long)cfg->n_layers);
    cfg->n_attention_layers = (int)v;
    if (v > 0 && six && !cfg->rwkv6_hybrid)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: num_attention_layers %lld with model_type rwkv6qwen2: the official RWKV6Qwen2 code "
                        "ignores this key and builds RAD-RWKV6 layers everywhere, so this file cannot mean what it says; "
                        "our RAD-RWKV6 hybrids are model_type \"" RL_RWKV6_HYBRID_TYPE "\" (README.md, Hybrids)", src, (long long)v);
    if (v > 0 && !six && !cfg->use_rope)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: num_attention_layers %lld with use_rope false: the official RWKV7Qwen2 code "
                        "gives its attention layers RoPE angles only when use_rope is true and fails otherwise", src, (long long)v);
    return RL_OK;
}

static rl_status rl__cfg_token_id(const rl_json *v, const char *src, const char *field, int64_t vocab, int32_t *out) {
    int64_t x = 0;
    rl_status s = rl_json_as_int(v, src, field, &x);
    if (s != RL_OK) return s;
    if (x < 0 || x >= vocab || x > INT32_MAX)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: token id %lld out of range [0, %lld) (vocab_size %lld)", src, field, (long long)x, (long long)vocab,
                        (long long)vocab);
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

/* The five sizes every config gives, each within what the code can hold. */
static rl_status rl__cfg_sizes(rl_config *cfg, const rl_json *root, const char *src) {
    static const char *const names[] = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"};
    static const int64_t lims[] = {INT32_MAX, 1 << 20, 1 << 22, 1 << 16, 1 << 16};
    rl_status s;
    int k;
    if ((s = rl_json_get_int(root, "vocab_size", src, &cfg->vocab_size)) != RL_OK) return s;
    if ((s = rl_json_get_int(root, "hidden_size", src, &cfg->hidden_size)) != RL_OK) return s;
    if ((s = rl_json_get_int(root, "intermediate_size", src, &cfg->intermediate_size)) != RL_OK) return s;
    if ((s = rl_json_get_int(root, "num_hidden_layers", src, &cfg->n_layers)) != RL_OK) return s;
    if ((s = rl_json_get_int(root, "num_attention_heads", src, &cfg->n_heads)) != RL_OK) return s;
    {
        const int64_t vals[] = {cfg->vocab_size, cfg->hidden_size, cfg->intermediate_size, cfg->n_layers, cfg->n_heads};
        for (k = 0; k < 5; k++)
            if (vals[k] <= 0 || vals[k] > lims[k])
                return rl__fail(RL_ERR_FORMAT, "%s: %s = %lld, expected 1..%lld", src, names[k], (long long)vals[k], (long long)lims[k]);
    }
    return RL_OK;
}

/* num_key_value_heads, which must divide the heads, and head_dim (hidden_size / heads when not given). */
static rl_status rl__cfg_heads(rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *v;
    rl_status s;
    if ((s = rl_json_get_int_or(root, "num_key_value_heads", src, cfg->n_heads, &cfg->n_kv_heads)) != RL_OK) return s;
    if (cfg->n_kv_heads <= 0 || cfg->n_heads % cfg->n_kv_heads)
        return rl__fail(RL_ERR_FORMAT, "%s: num_key_value_heads (%lld) must be positive and divide num_attention_heads (%lld)", src,
                        (long long)cfg->n_kv_heads, (long long)cfg->n_heads);
    v = rl_json_get(root, "head_dim");
    if (v && v->type != RL_JSON_NULL) {
        if ((s = rl_json_as_int(v, src, "head_dim", &cfg->head_dim)) != RL_OK) return s;
    } else {
        if (cfg->hidden_size % cfg->n_heads)
            return rl__fail(RL_ERR_FORMAT, "%s: num_attention_heads (%lld) must divide hidden_size (%lld) when head_dim is not given", src,
                            (long long)cfg->n_heads, (long long)cfg->hidden_size);
        cfg->head_dim = cfg->hidden_size / cfg->n_heads;
    }
    if (cfg->head_dim <= 0 || cfg->head_dim > 65536 || cfg->head_dim % 2)
        return rl__fail(RL_ERR_FORMAT, "%s: head_dim %lld must be positive and even (RoPE rotates pairs)", src, (long long)cfg->head_dim);
    return RL_OK;
}

/* Which projections have biases: a student's config says; Qwen2 has them on q/k/v only; Llama's attention_bias covers
   q/k/v and o_proj, its mlp_bias the MLP. */
static rl_status rl__cfg_biases(rl_config *cfg, const rl_json *root, const char *src) {
    rl_status s;
    int b;
    if (cfg->student) {
        if ((s = rl_json_get_bool_or(root, "attention_bias", src, 1, &cfg->attn_bias)) != RL_OK) return s;
        return rl_json_get_bool_or(root, "attention_output_bias", src, 0, &cfg->o_bias);
    }
    if (cfg->arch == RL_ARCH_QWEN2) {
        cfg->attn_bias = 1; /* hard-coded in Qwen2Attention: q/k/v bias, no o bias */
        return RL_OK;
    }
    if ((s = rl_json_get_bool_or(root, "attention_bias", src, 0, &b)) != RL_OK) return s;
    cfg->attn_bias = cfg->o_bias = b;
    return rl_json_get_bool_or(root, "mlp_bias", src, 0, &cfg->mlp_bias);
}

/* bos_token_id and eos_token_id (one id or a list), ids of the vocabulary; absent from a Llama config: 1 and 2. */
static rl_status rl__cfg_token_ids(rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *v;
    rl_status s;
    cfg->bos_id = -1;
    v = rl_json_get(root, "bos_token_id");
    if (!v && cfg->arch == RL_ARCH_LLAMA) cfg->bos_id = 1;
    else if (v && v->type != RL_JSON_NULL) {
        if ((s = rl__cfg_token_id(v, src, "bos_token_id", cfg->vocab_size, &cfg->bos_id)) != RL_OK) return s;
    }
    v = rl_json_get(root, "eos_token_id");
    if (!v && cfg->arch == RL_ARCH_LLAMA) {
        cfg->eos_ids[0] = 2;
        cfg->n_eos = 1;
    } else if (v && v->type == RL_JSON_ARR) {
        int64_t k;
        if (v->n > RL_CONFIG_MAX_EOS)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: eos_token_id lists %lld ids (at most %d supported)", src, (long long)v->n, RL_CONFIG_MAX_EOS);
        for (k = 0; k < v->n; k++) {
            char field[48];
            snprintf(field, sizeof field, "eos_token_id[%lld]", (long long)k);
            if ((s = rl__cfg_token_id(&v->kids[k], src, field, cfg->vocab_size, &cfg->eos_ids[k])) != RL_OK) return s;
        }
        cfg->n_eos = (int)v->n;
    } else if (v && v->type != RL_JSON_NULL) {
        if ((s = rl__cfg_token_id(v, src, "eos_token_id", cfg->vocab_size, &cfg->eos_ids[0])) != RL_OK) return s;
        cfg->n_eos = 1;
    }
    return RL_OK;
}

/* dtype (informational; the weights say what they are) */
static rl_status rl__cfg_dtype(rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *v;
    const char *str = NULL;
    rl_status s;
    cfg->dtype = RL_F32;
    v = rl_json_get(root, "dtype");
    if (!v || v->type == RL_JSON_NULL) v = rl_json_get(root, "torch_dtype");
    if (v && v->type != RL_JSON_NULL) {
        if ((s = rl_json_as_str(v, src, "dtype", &str)) != RL_OK) return s;
        if (!strcmp(str, "bfloat16")) cfg->dtype = RL_BF16;
        else if (!strcmp(str, "float16")) cfg->dtype = RL_F16;
        else if (strcmp(str, "float32")) rl_log(RL_LOG_WARN, "%s: dtype \"%.40s\" not recognised, assuming float32", src, str);
    }
    return RL_OK;
}

/* Sliding-window attention (Qwen2): unsupported wherever a layer would use it. */
static rl_status rl__cfg_sliding_window(const rl_config *cfg, const rl_json *root, const char *src) {
    const rl_json *v = rl_json_get(root, "layer_types");
    const char *str = NULL;
    int64_t x;
    int b;
    rl_status s;
    if (v && v->type == RL_JSON_ARR) {
        int64_t k;
        for (k = 0; k < v->n; k++) {
            char field[48];
            snprintf(field, sizeof field, "layer_types[%lld]", (long long)k);
            if ((s = rl_json_as_str(&v->kids[k], src, field, &str)) != RL_OK) return s;
            if (strcmp(str, "full_attention"))
                return rl__fail(RL_ERR_UNSUPPORTED, "%s: layer_types[%lld] is \"%.40s\" (only full_attention is supported)", src, (long long)k, str);
        }
    }
    if ((s = rl_json_get_bool_or(root, "use_sliding_window", src, 0, &b)) != RL_OK) return s;
    if (b) {
        v = rl_json_get(root, "sliding_window");
        if ((s = rl_json_get_int_or(root, "max_window_layers", src, 28, &x)) != RL_OK) return s;
        if (v && v->type != RL_JSON_NULL && x < cfg->n_layers)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: use_sliding_window is true (layers %lld and up would use sliding-window attention, "
                            "which is not supported)", src, (long long)x);
    }
    return RL_OK;
}

RLDEF rl_status rl_config_parse(rl_config *cfg, const char *text, size_t len, const char *source) {
    rl_json_doc doc;
    const rl_json *root;
    const char *src = source ? source : "config.json", *str = NULL;
    double d = 0;
    rl_status s;
    memset(cfg, 0, sizeof *cfg);
    if ((s = rl_json_parse(&doc, text, len, src)) != RL_OK) return s;
    root = &doc.root;
    if (root->type != RL_JSON_OBJ) {
        s = rl__fail(RL_ERR_FORMAT, "%s: expected a JSON object, got %s", src, rl_json_type_name(root->type));
        goto done;
    }
    RL__TRY(rl__cfg_arch(cfg, root, src));
    RL__TRY(rl__cfg_sizes(cfg, root, src));
    RL__TRY(rl__cfg_heads(cfg, root, src));
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
    RL__TRY(rl__cfg_biases(cfg, root, src));
    RL__TRY(rl__cfg_token_ids(cfg, root, src));
    RL__TRY(rl__cfg_dtype(cfg, root, src));
    RL__TRY(rl__cfg_rope(cfg, root, src));
    if (cfg->student) RL__TRY(rl__cfg_student(cfg, root, src));
    RL__TRY(rl__cfg_sliding_window(cfg, root, src));
done:
    rl_json_free(&doc);
    if (s != RL_OK) memset(cfg, 0, sizeof *cfg);
    return s;
}

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_config_load(rl_config *cfg, const char *path) {
    char *text;
    size_t len;
    rl_status s;
    memset(cfg, 0, sizeof *cfg);
    if ((s = rl__read_file(path, (size_t)16 << 20, &text, &len)) != RL_OK) return s;
    s = rl_config_parse(cfg, text, len, path);
    RL_FREE(text);
    return s;
}
#endif

RLDEF void rl_rope_inv_freq(const rl_config *cfg, float *inv_freq) {
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

#if !defined(RADLADS_NO_GGUF)
/* ==== 12. GGUF ============================================================= */

#define RL__GGUF_MAGIC "GGUF"
#define RL__GGUF_MAX_DEPTH 8    /* nesting of arrays in arrays */
#define RL__GGUF_MAX_NAME 64    /* tensor names are shorter (llama.cpp GGML_MAX_NAME) */

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

RLDEF const char *rl_ggml_type_name(int type) {
    const rl__ggml_info *t = rl__ggml_find(type);
    return t ? t->name : "unknown";
}

RLDEF int rl_ggml_type_size(int type, int64_t *block_size, int64_t *type_size) {
    const rl__ggml_info *t = rl__ggml_find(type);
    if (!t) return 0;
    if (block_size) *block_size = t->block;
    if (type_size) *type_size = t->size;
    return 1;
}

RLDEF const char *rl_gguf_type_name(rl_gguf_type t) {
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
   nibbles and sub-block 2p+1 in their high nibbles. Value (d·sc)·q - dmin·m.
   Q5_K, 176 bytes: the same with 32 bytes of fifth bits between the scales and the
   nibbles: bit s of byte l is the fifth bit of element l of sub-block s. */
static void rl__deq_q45_k(const unsigned char *b, float *y, int five) {
    float d = rl__h2f(b), dmin = rl__h2f(b + 2);
    const unsigned char *sc = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
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
            int q0 = qs[32 * p + l] & 15, q1 = qs[32 * p + l] >> 4;
            float t;
            if (five) {
                q0 |= ((qh[l] >> (2 * p)) & 1) << 4;
                q1 |= ((qh[l] >> (2 * p + 1)) & 1) << 4;
            }
            t = d0 * (float)q0;
            y[64 * p + l] = t - mm0;
            t = d1 * (float)q1;
            y[64 * p + 32 + l] = t - mm1;
        }
    }
}
static void rl__deq_q4_k(const unsigned char *b, float *y) { rl__deq_q45_k(b, y, 0); }
static void rl__deq_q5_k(const unsigned char *b, float *y) { rl__deq_q45_k(b, y, 1); }
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

RLDEF int rl_ggml_can_dequantize(int type) {
    switch (type) {
    case RL_GGML_F32: case RL_GGML_F16: case RL_GGML_BF16: case RL_GGML_F64:
    case RL_GGML_Q4_0: case RL_GGML_Q4_1: case RL_GGML_Q5_0: case RL_GGML_Q5_1: case RL_GGML_Q8_0:
    case RL_GGML_Q4_K: case RL_GGML_Q5_K: case RL_GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

RLDEF rl_status rl_ggml_dequantize(int type, const void *src, float *dst, int64_t n) {
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

/* the 24-byte header: magic, version, and the two counts, which must fit in the file */
static rl_status rl__gguf_read_header(rl__gguf_rd *r) {
    rl_gguf *g = r->g;
    rl__gguf_ctx c;
    rl_status s;
    uint64_t n_tensors, n_kv, left;
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
    if ((s = rl__gguf_need(r, 24, &c, "the 24-byte header"))) return s;
    g->version = rl__le32(g->base + 4);
    if (g->version != 2 && g->version != 3) {
        if (g->version >= 0x10000 && (g->version & 0xffff) == 0)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: GGUF version field 0x%08x looks byte-swapped: big-endian GGUF files are not supported",
                            g->path, g->version);
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (this reader handles versions 2 and 3)", g->path, g->version);
    }
    n_tensors = rl__le64(g->base + 8);
    n_kv = rl__le64(g->base + 16);
    r->pos = 24;
    left = g->size - 24;
    /* a key-value pair takes at least 13 bytes (8 key length + 1 key byte + 4 type),
       a tensor info at least 25 (8 + 1 name byte + 4 n_dims + 4 type + 8 offset) */
    if (n_kv > left / 13 || n_tensors > left / 25 || n_kv * 13 + n_tensors * 25 > left)
        return rl__fail(RL_ERR_FORMAT, "%s: header counts %llu metadata entries and %llu tensors, which cannot fit in a file of %llu bytes",
                        g->path, (unsigned long long)n_kv, (unsigned long long)n_tensors, (unsigned long long)g->size);
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    return RL_OK;
}

/* metadata entry i: key, value type, value */
static rl_status rl__gguf_read_kv(rl__gguf_rd *r, int64_t i) {
    rl_gguf *g = r->g;
    rl__gguf_ctx c;
    rl_status s;
    rl_gguf_str key;
    uint32_t type;
    c.what = "metadata entry";
    c.name = NULL;
    c.index = i;
    if ((s = rl__gguf_read_str(r, &key, &c, "key"))) return s;
    if (key.len == 0) return rl__fail(RL_ERR_FORMAT, "%s: metadata entry #%lld has an empty key", g->path, (long long)i);
    if (strlen(key.s) != key.len) return rl__fail(RL_ERR_FORMAT, "%s: metadata entry #%lld: key contains a NUL byte", g->path, (long long)i);
    g->kv[i].key = key.s;
    c.what = "key";
    c.name = key.s;
    if ((s = rl__gguf_need(r, 4, &c, "value type"))) return s;
    type = rl__le32(g->base + r->pos);
    r->pos += 4;
    return rl__gguf_read_value(r, &g->kv[i].val, type, 0, &c);
}

/* general.alignment, if present: a UINT32 power of two (32 otherwise) */
static rl_status rl__gguf_read_alignment(rl_gguf *g) {
    const rl_gguf_kv *al;
    g->alignment = 32;
    if ((al = rl_gguf_find(g, "general.alignment"))) {
        if (al->val.type != RL_GGUF_UINT32)
            return rl__fail(RL_ERR_FORMAT, "%s: key 'general.alignment' has type %s, expected UINT32", g->path, rl_gguf_type_name(al->val.type));
        if (al->val.u == 0 || (al->val.u & (al->val.u - 1)) != 0)
            return rl__fail(RL_ERR_FORMAT, "%s: key 'general.alignment' is %llu, which is not a power of two", g->path, (unsigned long long)al->val.u);
        g->alignment = (uint32_t)al->val.u;
    }
    return RL_OK;
}

/* tensor info i: name, dims, ggml type, data offset; the element count and byte size without overflow */
static rl_status rl__gguf_read_tensor_info(rl__gguf_rd *r, int64_t i) {
    rl_gguf *g = r->g;
    rl_gguf_tensor *t = &g->tensors[i];
    rl__gguf_ctx c;
    rl_status s;
    rl_gguf_str name;
    uint32_t nd, type;
    const rl__ggml_info *ti;
    int d;
    int64_t n = 1;
    c.what = "tensor info";
    c.name = NULL;
    c.index = i;
    if ((s = rl__gguf_read_str(r, &name, &c, "name"))) return s;
    if (name.len == 0) return rl__fail(RL_ERR_FORMAT, "%s: tensor #%lld has an empty name", g->path, (long long)i);
    if (strlen(name.s) != name.len) return rl__fail(RL_ERR_FORMAT, "%s: tensor #%lld: name contains a NUL byte", g->path, (long long)i);
    if (name.len >= RL__GGUF_MAX_NAME)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor '%.40s...': name is %llu bytes, the limit is %d", g->path, name.s,
                        (unsigned long long)name.len, RL__GGUF_MAX_NAME - 1);
    t->name = name.s;
    c.what = "tensor";
    c.name = name.s;
    if ((s = rl__gguf_need(r, 4, &c, "n_dims"))) return s;
    nd = rl__le32(g->base + r->pos);
    r->pos += 4;
    if (nd > 4) return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': %u dimensions, at most 4 are allowed", g->path, name.s, nd);
    t->n_dims = (int)nd;
    if ((s = rl__gguf_need(r, 8 * (uint64_t)nd + 12, &c, "dims, type and offset"))) return s;
    for (d = 0; d < 4; d++) t->ne[d] = 1;
    for (d = 0; d < (int)nd; d++) {
        uint64_t e = rl__le64(g->base + r->pos + 8 * (uint64_t)d);
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
    r->pos += 8 * (uint64_t)nd;
    type = rl__le32(g->base + r->pos);
    t->offset = rl__le64(g->base + r->pos + 4);
    r->pos += 12;
    ti = rl__ggml_find((int)type);
    if (!ti) return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': unknown ggml type %u", g->path, name.s, type);
    t->type = (rl_ggml_type)type;
    if (t->ne[0] % ti->block)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': row length ne[0] = %lld is not a multiple of the %s block size %d", g->path,
                        name.s, (long long)t->ne[0], ti->name, ti->block);
    if ((uint64_t)(n / ti->block) > UINT64_MAX / (uint64_t)ti->size)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s': byte size overflows", g->path, name.s);
    t->nbytes = (uint64_t)(n / ti->block) * (uint64_t)ti->size;
    return RL_OK;
}

/* each tensor's data: aligned, inside the data section (which starts at the next multiple of the alignment after pos) */
static rl_status rl__gguf_place_data(rl_gguf *g, uint64_t pos) {
    uint64_t avail;
    int64_t i;
    g->data_offset = pos + (g->alignment - pos % g->alignment) % g->alignment;
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
    return RL_OK;
}

/* no two tensors' data overlap: sort by offset, compare each tensor with the previous one holding data
   (idx, tmp: scratch of n_tensors) */
static rl_status rl__gguf_check_overlaps(rl_gguf *g, int64_t *idx, int64_t *tmp) {
    int64_t i, prev = -1;
    for (i = 0; i < g->n_tensors; i++) idx[i] = i;
    rl__gguf_sort(g, idx, tmp, g->n_tensors, rl__gguf_cmp_off);
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

static rl_status rl__gguf_parse(rl_gguf *g) {
    rl__gguf_rd r;
    rl_status s;
    uint64_t n_tensors, n_kv;
    int64_t i, *tmp, *idx;
    r.g = g;
    r.pos = 0;
    if ((s = rl__gguf_read_header(&r))) return s;
    n_kv = (uint64_t)g->n_kv;
    n_tensors = (uint64_t)g->n_tensors;
    g->kv = (rl_gguf_kv *)rl__gguf_alloc(g, n_kv + 1, sizeof(rl_gguf_kv));
    g->tensors = (rl_gguf_tensor *)rl__gguf_alloc(g, n_tensors + 1, sizeof(rl_gguf_tensor));
    g->kv_order_ = (int64_t *)rl__gguf_alloc(g, n_kv + 1, sizeof(int64_t));
    g->t_order_ = (int64_t *)rl__gguf_alloc(g, n_tensors + 1, sizeof(int64_t));
    tmp = (int64_t *)rl__gguf_alloc(g, RL__MAX(n_kv, n_tensors) + 1, sizeof(int64_t));
    idx = (int64_t *)rl__gguf_alloc(g, n_tensors + 1, sizeof(int64_t));
    if (!g->kv || !g->tensors || !g->kv_order_ || !g->t_order_ || !tmp || !idx) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", g->path);

    /* metadata */
    for (i = 0; i < g->n_kv; i++)
        if ((s = rl__gguf_read_kv(&r, i))) return s;
    for (i = 0; i < g->n_kv; i++) g->kv_order_[i] = i;
    rl__gguf_sort(g, g->kv_order_, tmp, g->n_kv, rl__gguf_cmp_key);
    for (i = 1; i < g->n_kv; i++)
        if (!strcmp(g->kv[g->kv_order_[i]].key, g->kv[g->kv_order_[i - 1]].key))
            return rl__fail(RL_ERR_FORMAT, "%s: key '%s' appears twice", g->path, g->kv[g->kv_order_[i]].key);
    if ((s = rl__gguf_read_alignment(g))) return s;

    /* tensor infos */
    for (i = 0; i < g->n_tensors; i++)
        if ((s = rl__gguf_read_tensor_info(&r, i))) return s;
    for (i = 0; i < g->n_tensors; i++) g->t_order_[i] = i;
    rl__gguf_sort(g, g->t_order_, tmp, g->n_tensors, rl__gguf_cmp_name);
    for (i = 1; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[g->t_order_[i]].name, g->tensors[g->t_order_[i - 1]].name))
            return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' appears twice", g->path, g->tensors[g->t_order_[i]].name);

    /* data section */
    if ((s = rl__gguf_place_data(g, r.pos))) return s;
    return rl__gguf_check_overlaps(g, idx, tmp);
}

static rl_status rl__gguf_start(rl_gguf *g, const char *name) {
    size_t len = strlen(name);
    rl_arena_init(&g->arena_, 1 << 16);
    g->path = (char *)rl_arena_alloc(&g->arena_, len + 1);
    if (!g->path) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", name);
    memcpy(g->path, name, len + 1);
    return RL_OK;
}

RLDEF rl_status rl_gguf_open_memory(rl_gguf *g, const void *data, size_t size, const char *name) {
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

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_gguf_open(rl_gguf *g, const char *path) {
    rl_status s;
    memset(g, 0, sizeof *g);
    if (!path) return rl__fail(RL_ERR_ARG, "rl_gguf_open: path is NULL");
    if ((s = rl__gguf_start(g, path))) return s;
    {
        size_t size;
        int kind;
        if ((s = rl__map_file(path, &g->base, &size, &kind)) != RL_OK) {
            rl_gguf_close(g);
            return s;
        }
        g->size = (uint64_t)size;
        g->map_kind_ = kind;
        if (!size) {
            rl_gguf_close(g);
            return rl__fail(RL_ERR_FORMAT, "%s: empty file, not a GGUF file", path);
        }
    }
    if ((s = rl__gguf_parse(g))) rl_gguf_close(g);
    return s;
}
#endif

RLDEF void rl_gguf_close(rl_gguf *g) {
    if (!g) return;
    if (g->base) rl__unmap(g->base, (size_t)g->size, g->map_kind_);
    rl_arena_free(&g->arena_);
    memset(g, 0, sizeof *g);
}

RLDEF const rl_gguf_kv *rl_gguf_find(const rl_gguf *g, const char *key) {
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

RLDEF const rl_gguf_tensor *rl_gguf_find_tensor(const rl_gguf *g, const char *name) {
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

RLDEF rl_status rl_gguf_get_int(const rl_gguf *g, const char *key, int64_t *out) {
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

RLDEF rl_status rl_gguf_get_float(const rl_gguf *g, const char *key, double *out) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_FLOAT32 && kv->val.type != RL_GGUF_FLOAT64)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected FLOAT32 or FLOAT64", g->path, key, rl_gguf_type_name(kv->val.type));
    *out = kv->val.f;
    return RL_OK;
}

RLDEF rl_status rl_gguf_get_bool(const rl_gguf *g, const char *key, int *out) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_BOOL)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected BOOL", g->path, key, rl_gguf_type_name(kv->val.type));
    *out = kv->val.u != 0;
    return RL_OK;
}

RLDEF rl_status rl_gguf_get_str(const rl_gguf *g, const char *key, const char **str, uint64_t *len) {
    const rl_gguf_kv *kv;
    rl_status s = rl__gguf_get(g, key, &kv);
    if (s) return s;
    if (kv->val.type != RL_GGUF_STRING)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' has type %s, expected STRING", g->path, key, rl_gguf_type_name(kv->val.type));
    *str = kv->val.str.s;
    if (len) *len = kv->val.str.len;
    return RL_OK;
}

RLDEF rl_status rl_gguf_get_array(const rl_gguf *g, const char *key, rl_gguf_type elem_type, const rl_gguf_value **arr) {
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

RLDEF rl_status rl_gguf_arr_int(const rl_gguf_value *a, uint64_t i, int64_t *out) {
    rl_gguf_value e;
    rl_status s = rl__gguf_arr_elem(a, i, &e);
    if (s) return s;
    if (e.type == RL_GGUF_FLOAT32 || e.type == RL_GGUF_FLOAT64) return rl__fail(RL_ERR_ARG, "gguf: array of %s read as integers", rl_gguf_type_name(e.type));
    *out = e.i;
    return RL_OK;
}

RLDEF rl_status rl_gguf_arr_float(const rl_gguf_value *a, uint64_t i, double *out) {
    rl_gguf_value e;
    rl_status s = rl__gguf_arr_elem(a, i, &e);
    if (s) return s;
    *out = e.f;
    return RL_OK;
}

RLDEF rl_status rl_gguf_tensor_f32(const rl_gguf *g, const rl_gguf_tensor *t, float *dst) {
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

RLDEF int rl_gguf_tensor_shape(const rl_gguf_tensor *t, int64_t shape[4]) {
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

RLDEF rl_status rl_gguf_llama_hparams_read(const rl_gguf *g, rl_gguf_llama_hparams *hp) {
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

RLDEF rl_status rl_gguf_hf_name(const char *gname, char *out, size_t cap) {
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

RLDEF rl_status rl_gguf_permute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads) { return rl__gguf_permute(w, rows, cols, n_heads, 0); }
RLDEF rl_status rl_gguf_unpermute_qk(float *w, int64_t rows, int64_t cols, int64_t n_heads) { return rl__gguf_permute(w, rows, cols, n_heads, 1); }

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

/* rl_gguf_llama_tensors, where in_place(user, hf name) = 1 passes data NULL for that tensor
   instead of reading it (a matrix the caller uses in place; its shape is still checked) */
static rl_status rl__gguf_llama_tensors(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_gguf_tensor_fn fn, void *user,
                                       int (*in_place)(void *user, const char *hf)) {
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
        if (mapped && in_place && in_place(user, hf)) {
            s = fn(user, hf, t, nd, shape, NULL);
            continue;
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
RLDEF rl_status rl_gguf_llama_tensors(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_gguf_tensor_fn fn, void *user) {
    return rl__gguf_llama_tensors(g, hp, fn, user, NULL);
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

RLDEF rl_status rl_gguf_vocab_read(const rl_gguf *g, rl_gguf_vocab *v) {
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

RLDEF void rl_gguf_vocab_free(rl_gguf_vocab *v) {
    if (!v) return;
    RL_FREE((void *)(uintptr_t)v->tokens);
    RL_FREE((void *)(uintptr_t)v->token_len);
    RL_FREE(v->token_type);
    RL_FREE(v->scores);
    RL_FREE((void *)(uintptr_t)v->merges);
    memset(v, 0, sizeof *v);
}

/* ---- writer ---- */
#if !defined(RADLADS_NO_STDIO)

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

RLDEF rl_gguf_writer *rl_gguf_writer_new(void) {
    rl_gguf_writer *w = (rl_gguf_writer *)RL_MALLOC(sizeof *w);
    if (!w) {
        rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory");
        return NULL;
    }
    memset(w, 0, sizeof *w);
    w->alignment = 32;
    return w;
}

RLDEF void rl_gguf_writer_free(rl_gguf_writer *w) {
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

RLDEF rl_status rl_gguf_add_scalar(rl_gguf_writer *w, const char *key, rl_gguf_type type, const void *value) {
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

RLDEF rl_status rl_gguf_add_u32(rl_gguf_writer *w, const char *key, uint32_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_UINT32, &v); }
RLDEF rl_status rl_gguf_add_i32(rl_gguf_writer *w, const char *key, int32_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_INT32, &v); }
RLDEF rl_status rl_gguf_add_u64(rl_gguf_writer *w, const char *key, uint64_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_UINT64, &v); }
RLDEF rl_status rl_gguf_add_i64(rl_gguf_writer *w, const char *key, int64_t v) { return rl_gguf_add_scalar(w, key, RL_GGUF_INT64, &v); }
RLDEF rl_status rl_gguf_add_f32(rl_gguf_writer *w, const char *key, float v) { return rl_gguf_add_scalar(w, key, RL_GGUF_FLOAT32, &v); }
RLDEF rl_status rl_gguf_add_f64(rl_gguf_writer *w, const char *key, double v) { return rl_gguf_add_scalar(w, key, RL_GGUF_FLOAT64, &v); }
RLDEF rl_status rl_gguf_add_bool(rl_gguf_writer *w, const char *key, int v) {
    char b = v ? 1 : 0;
    return rl_gguf_add_scalar(w, key, RL_GGUF_BOOL, &b);
}
RLDEF rl_status rl_gguf_add_str(rl_gguf_writer *w, const char *key, const char *s) { return rl_gguf_add_scalar(w, key, RL_GGUF_STRING, &s); }

RLDEF rl_status rl_gguf_add_array(rl_gguf_writer *w, const char *key, rl_gguf_type et, const void *elems, uint64_t n) {
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

RLDEF rl_status rl_gguf_add_value(rl_gguf_writer *w, const char *key, const rl_gguf_value *v) {
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

RLDEF rl_status rl_gguf_add_tensor(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims, const int64_t *ne, const void *data) {
    return rl__gw_tensor(w, name, type, n_dims, ne, data, NULL, NULL);
}
RLDEF rl_status rl_gguf_add_tensor_fn(rl_gguf_writer *w, const char *name, rl_ggml_type type, int n_dims, const int64_t *ne, rl_gguf_fill_fn fill,
                                void *user) {
    if (!fill) return rl__gw_fail(w, rl__fail(RL_ERR_ARG, "gguf writer: tensor '%s': NULL fill function", name ? name : ""));
    return rl__gw_tensor(w, name, type, n_dims, ne, NULL, fill, user);
}

/* buffered output to the temporary file of an atomic write (rl__wopen) */
typedef struct rl__gw_out {
    rl__wfile f;
    unsigned char buf[1 << 16];
    size_t n;
} rl__gw_out;

static void rl__gw_flush(rl__gw_out *o) {
    rl__wput(&o->f, o->buf, o->n);
    o->n = 0;
}

static void rl__gw_write(rl__gw_out *o, const void *p, uint64_t n) {
    const unsigned char *c = (const unsigned char *)p;
    while (n && !o->f.err) {
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

RLDEF rl_status rl_gguf_write(rl_gguf_writer *w, const char *path) {
    rl__gw_out *o;
    uint64_t pos, off = 0;
    int64_t i;
    int d;
    rl_status s = RL_OK;
    void *buf = NULL;
    uint64_t buf_cap = 0;
    if (!w) return rl__fail(RL_ERR_ARG, "gguf writer is NULL");
    if (w->err) return rl__fail(w->err, "gguf writer: an earlier add failed (%s); nothing written", rl_status_name(w->err));
    if (!path || !*path) return rl__fail(RL_ERR_ARG, "gguf writer: no output path");
    if (!(o = (rl__gw_out *)RL_MALLOC(sizeof *o))) return rl__fail(RL_ERR_NOMEM, "gguf writer: out of memory");
    o->n = 0;
    if ((s = rl__wopen(&o->f, path)) != RL_OK) {
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
    for (i = 0; !o->f.err && i < w->n_t; i++) {
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
    s = rl__wclose(&o->f, s);
    RL_FREE(o);
    return s;
}
#endif /* GGUF writer */

/* ---- quantized weights in matrix products (rl_gemm) ---- */

/* Dot products of x (k floats) with one row of W stored as ggml blocks (k values, whole
   blocks), read in place: the kernel table's dot_q (section 2), by type. Each equals "the
   reference dequantizer above, then the dot product" up to float rounding: a block's (or
   sub-block's) scale multiplies its partial sum Σ x·q, and its minimum multiplies Σ x
   (Q4_1, Q5_1, Q4_K, Q5_K). The naive twins are that definition (the dequantized block,
   summed in double); tests/test_kernels.c compares every path with them. */
static float rl__dq_naive(const float *x, const void *row, int64_t k, void (*deq)(const unsigned char *, float *), int bs, int ts) {
    const unsigned char *b = (const unsigned char *)row;
    float w[256];
    double s = 0;
    int64_t i;
    int j;
    for (i = 0; i < k; i += bs, b += ts) {
        deq(b, w);
        for (j = 0; j < bs; j++) s += (double)x[i + j] * w[j];
    }
    return (float)s;
}
#define RL__DQ_NAIVE(t, bs, ts) \
    static float rl__dq_##t##_naive(const float *x, const void *row, int64_t k) { return rl__dq_naive(x, row, k, rl__deq_##t, bs, ts); }
RL__DQ_NAIVE(q4_0, 32, 18)
RL__DQ_NAIVE(q4_1, 32, 20)
RL__DQ_NAIVE(q5_0, 32, 22)
RL__DQ_NAIVE(q5_1, 32, 24)
RL__DQ_NAIVE(q8_0, 32, 34)
RL__DQ_NAIVE(q4_k, 256, 144)
RL__DQ_NAIVE(q5_k, 256, 176)
RL__DQ_NAIVE(q6_k, 256, 210)
#undef RL__DQ_NAIVE

/* Portable C (the scalar and NEON tables): the block layouts as the dequantizers above
   read them. q5: the fifth bits of a Q5_0/Q5_1 block (element j has bit j of qh). */
#define RL__Q5(j, nib) ((nib) | (int)(((qh >> (j)) & 1u) << 4))
static float rl__dq_q8_0_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t;
    int j;
    for (; k > 0; k -= 32, x += 32, b += 34) {
        for (t = 0, j = 0; j < 32; j++) t += x[j] * (float)(int8_t)b[2 + j];
        s += t * rl__h2f(b);
    }
    return s;
}
static float rl__dq_q4_0_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t;
    int j;
    for (; k > 0; k -= 32, x += 32, b += 18) {
        for (t = 0, j = 0; j < 16; j++) t += x[j] * (float)((b[2 + j] & 15) - 8) + x[j + 16] * (float)((b[2 + j] >> 4) - 8);
        s += t * rl__h2f(b);
    }
    return s;
}
static float rl__dq_q4_1_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t, u;
    int j;
    for (; k > 0; k -= 32, x += 32, b += 20) {
        for (t = u = 0, j = 0; j < 16; j++) {
            t += x[j] * (float)(b[4 + j] & 15) + x[j + 16] * (float)(b[4 + j] >> 4);
            u += x[j] + x[j + 16];
        }
        s += t * rl__h2f(b) + u * rl__h2f(b + 2);
    }
    return s;
}
static float rl__dq_q5_0_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t;
    int j;
    for (; k > 0; k -= 32, x += 32, b += 22) {
        uint32_t qh = rl__le32(b + 2);
        for (t = 0, j = 0; j < 16; j++)
            t += x[j] * (float)(RL__Q5(j, b[6 + j] & 15) - 16) + x[j + 16] * (float)(RL__Q5(j + 16, b[6 + j] >> 4) - 16);
        s += t * rl__h2f(b);
    }
    return s;
}
static float rl__dq_q5_1_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t, u;
    int j;
    for (; k > 0; k -= 32, x += 32, b += 24) {
        uint32_t qh = rl__le32(b + 4);
        for (t = u = 0, j = 0; j < 16; j++) {
            t += x[j] * (float)RL__Q5(j, b[8 + j] & 15) + x[j + 16] * (float)RL__Q5(j + 16, b[8 + j] >> 4);
            u += x[j] + x[j + 16];
        }
        s += t * rl__h2f(b) + u * rl__h2f(b + 2);
    }
    return s;
}
#undef RL__Q5
/* Q4_K/Q5_K: sub-block p (32 values) has scale d·sc_p and minimum dmin·m_p */
static float rl__dq_q45_k_c(const float *x, const unsigned char *b, int64_t k, int five) {
    float s = 0, t, u;
    int p, l, sc, mn;
    for (; k > 0; k -= 256, b += five ? 176 : 144) {
        float d = rl__h2f(b), dmin = rl__h2f(b + 2);
        const unsigned char *qh = b + 16, *qs = b + (five ? 48 : 16);
        for (p = 0; p < 8; p++, x += 32) {
            rl__kq_scale_min(b + 4, p, &sc, &mn);
            for (t = u = 0, l = 0; l < 32; l++) {
                int q = (p & 1) ? qs[32 * (p >> 1) + l] >> 4 : qs[32 * (p >> 1) + l] & 15;
                if (five) q |= ((qh[l] >> p) & 1) << 4;
                t += x[l] * (float)q;
                u += x[l];
            }
            s += t * (d * (float)sc) - u * (dmin * (float)mn);
        }
    }
    return s;
}
static float rl__dq_q4_k_c(const float *x, const void *row, int64_t k) { return rl__dq_q45_k_c(x, (const unsigned char *)row, k, 0); }
static float rl__dq_q5_k_c(const float *x, const void *row, int64_t k) { return rl__dq_q45_k_c(x, (const unsigned char *)row, k, 1); }
/* Q6_K: 16 groups of 16 values, each with its int8 scale (layout: rl__deq_q6_k) */
static float rl__dq_q6_k_c(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    float s = 0, t;
    int h, q, l;
    for (; k > 0; k -= 256, b += 210) {
        const signed char *sc = (const signed char *)(b + 192);
        float d = rl__h2f(b + 208);
        for (h = 0; h < 2; h++)
            for (q = 0; q < 8; q++, x += 16) { /* group q: 16 values of quarter q / 2 */
                const unsigned char *ql = b + 64 * h + 32 * ((q >> 1) & 1) + 16 * (q & 1), *qh = b + 128 + 32 * h + 16 * (q & 1);
                int shift = (q >> 2) * 4, hs = 2 * (q >> 1);
                for (t = 0, l = 0; l < 16; l++) t += x[l] * (float)((((ql[l] >> shift) & 15) | (((qh[l] >> hs) & 3) << 4)) - 32);
                s += t * (d * (float)sc[8 * h + q]);
            }
    }
    return s;
}

#ifdef RL__X86
/* AVX2 + FMA + F16C (the AVX2 and AVX-512 tables): 8 bytes of quants widened to 8 int32,
   converted to float, multiplied into 8 values of x. The fifth bits of Q5_0/Q5_1 come from
   their 32-bit word by a variable shift per lane. */
#define RL__QTGT __attribute__((target("avx2,fma,f16c")))
#define RL__QINL inline __attribute__((always_inline)) /* the shared bodies, specialised per type */
#define RL__QX(i) _mm256_loadu_ps(x + (i))
#define RL__QF(v) _mm256_cvtepi32_ps(v)
static RL__QTGT inline __m256i rl__q_u8(const unsigned char *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p)); }
static RL__QTGT inline __m256 rl__q_h(const unsigned char *p) { return _mm256_set1_ps(_cvtsh_ss(rl__le16(p))); }
static RL__QTGT inline float rl__q_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static RL__QTGT float rl__dq_q8_0_avx2(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    __m256 s = _mm256_setzero_ps();
    for (; k > 0; k -= 32, x += 32, b += 34) {
        __m256 t0 = _mm256_mul_ps(RL__QX(0), RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 2)))));
        __m256 t1 = _mm256_mul_ps(RL__QX(8), RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 10)))));
        t0 = _mm256_fmadd_ps(RL__QX(16), RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 18)))), t0);
        t1 = _mm256_fmadd_ps(RL__QX(24), RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 26)))), t1);
        s = _mm256_fmadd_ps(_mm256_add_ps(t0, t1), rl__q_h(b), s);
    }
    return rl__q_hsum(s);
}
/* Q4_0/Q4_1/Q5_0/Q5_1 share one body: qs at b + off, fifth bits at b + off - 4 (five),
   q - bias, and a minimum at b + 2 (mins) multiplying Σ x */
static RL__QTGT RL__QINL float rl__dq_q45_avx2(const float *x, const unsigned char *b, int64_t k, int size, int off, int five, int bias, int mins) {
    const __m256i m4 = _mm256_set1_epi32(15), b16 = _mm256_set1_epi32(16), vb = _mm256_set1_epi32(bias);
    const __m256i sh0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), sh8 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    __m256 s = _mm256_setzero_ps(), sm = _mm256_setzero_ps();
    for (; k > 0; k -= 32, x += 32, b += size) {
        __m256i v0 = rl__q_u8(b + off), v1 = rl__q_u8(b + off + 8);
        __m256i l0 = _mm256_and_si256(v0, m4), l1 = _mm256_and_si256(v1, m4), h0 = _mm256_srli_epi32(v0, 4), h1 = _mm256_srli_epi32(v1, 4);
        __m256 t0, t1;
        if (five) { /* bit j of qh, moved to bit 4 */
            uint32_t qh = rl__le32(b + off - 4);
            __m256i lo = _mm256_set1_epi32((int)((qh & 0xffffu) << 4)), hi = _mm256_set1_epi32((int)((qh >> 16) << 4));
            l0 = _mm256_or_si256(l0, _mm256_and_si256(_mm256_srlv_epi32(lo, sh0), b16));
            l1 = _mm256_or_si256(l1, _mm256_and_si256(_mm256_srlv_epi32(lo, sh8), b16));
            h0 = _mm256_or_si256(h0, _mm256_and_si256(_mm256_srlv_epi32(hi, sh0), b16));
            h1 = _mm256_or_si256(h1, _mm256_and_si256(_mm256_srlv_epi32(hi, sh8), b16));
        }
        t0 = _mm256_mul_ps(RL__QX(0), RL__QF(_mm256_sub_epi32(l0, vb)));
        t1 = _mm256_mul_ps(RL__QX(8), RL__QF(_mm256_sub_epi32(l1, vb)));
        t0 = _mm256_fmadd_ps(RL__QX(16), RL__QF(_mm256_sub_epi32(h0, vb)), t0);
        t1 = _mm256_fmadd_ps(RL__QX(24), RL__QF(_mm256_sub_epi32(h1, vb)), t1);
        s = _mm256_fmadd_ps(_mm256_add_ps(t0, t1), rl__q_h(b), s);
        if (mins) sm = _mm256_fmadd_ps(_mm256_add_ps(_mm256_add_ps(RL__QX(0), RL__QX(8)), _mm256_add_ps(RL__QX(16), RL__QX(24))), rl__q_h(b + 2), sm);
    }
    return rl__q_hsum(_mm256_add_ps(s, sm));
}
static RL__QTGT float rl__dq_q4_0_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_avx2(x, (const unsigned char *)row, k, 18, 2, 0, 8, 0); }
static RL__QTGT float rl__dq_q4_1_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_avx2(x, (const unsigned char *)row, k, 20, 4, 0, 0, 1); }
static RL__QTGT float rl__dq_q5_0_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_avx2(x, (const unsigned char *)row, k, 22, 6, 1, 16, 0); }
static RL__QTGT float rl__dq_q5_1_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_avx2(x, (const unsigned char *)row, k, 24, 8, 1, 0, 1); }
/* Q4_K/Q5_K: per pair p of sub-blocks, 32 bytes of nibbles (low: sub-block 2p, high: 2p+1);
   Q5_K's fifth bits: bits 2p and 2p+1 of its 32 qh bytes */
static RL__QTGT RL__QINL float rl__dq_q45_k_avx2(const float *x, const unsigned char *b, int64_t k, int five) {
    const __m256i m4 = _mm256_set1_epi32(15), b16 = _mm256_set1_epi32(16);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, m0 = s0, m1 = s0;
    float dsc[8], dmn[8];
    int p, l;
    for (; k > 0; k -= 256, b += five ? 176 : 144) {
        const unsigned char *qs = b + (five ? 48 : 16);
        /* the 8 scales and mins (rl__kq_scale_min) at once: bytes 0-7 and 4-11 of the 12 as lanes */
        __m256i P = rl__q_u8(b + 4), Q = rl__q_u8(b + 8), P0 = _mm256_permute2x128_si256(P, P, 0), m63 = _mm256_set1_epi32(63);
        __m256i sc = _mm256_blend_epi32(_mm256_and_si256(P0, m63), _mm256_or_si256(_mm256_and_si256(Q, m4), _mm256_slli_epi32(_mm256_srli_epi32(P0, 6), 4)), 0xF0);
        __m256i mn = _mm256_blend_epi32(_mm256_and_si256(Q, m63), _mm256_or_si256(_mm256_srli_epi32(Q, 4), _mm256_slli_epi32(_mm256_srli_epi32(P, 6), 4)), 0xF0);
        _mm256_storeu_ps(dsc, _mm256_mul_ps(RL__QF(sc), rl__q_h(b)));
        _mm256_storeu_ps(dmn, _mm256_mul_ps(RL__QF(mn), rl__q_h(b + 2)));
        for (p = 0; p < 4; p++, x += 64, qs += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, u0 = a0, u1 = a0;
            for (l = 0; l < 32; l += 8) {
                __m256i v = rl__q_u8(qs + l), lo = _mm256_and_si256(v, m4), hi = _mm256_srli_epi32(v, 4);
                __m256 x0 = RL__QX(l), x1 = RL__QX(32 + l);
                if (five) {
                    __m256i h = _mm256_srl_epi32(rl__q_u8(b + 16 + l), _mm_cvtsi32_si128(2 * p));
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi32(h, 4), b16));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi32(h, 3), b16));
                }
                a0 = _mm256_fmadd_ps(x0, RL__QF(lo), a0);
                a1 = _mm256_fmadd_ps(x1, RL__QF(hi), a1);
                u0 = _mm256_add_ps(u0, x0);
                u1 = _mm256_add_ps(u1, x1);
            }
            s0 = _mm256_fmadd_ps(a0, _mm256_set1_ps(dsc[2 * p]), s0);
            s1 = _mm256_fmadd_ps(a1, _mm256_set1_ps(dsc[2 * p + 1]), s1);
            m0 = _mm256_fmadd_ps(u0, _mm256_set1_ps(dmn[2 * p]), m0);
            m1 = _mm256_fmadd_ps(u1, _mm256_set1_ps(dmn[2 * p + 1]), m1);
        }
    }
    return rl__q_hsum(_mm256_sub_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(m0, m1)));
}
static RL__QTGT float rl__dq_q4_k_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_k_avx2(x, (const unsigned char *)row, k, 0); }
static RL__QTGT float rl__dq_q5_k_avx2(const float *x, const void *row, int64_t k) { return rl__dq_q45_k_avx2(x, (const unsigned char *)row, k, 1); }
/* Q6_K: per half h and 8 values l, one byte of each quarter's low nibbles (quarters 0/2
   and 1/3 share a byte) and one byte of their 2-bit high parts; scales per 16 values */
static RL__QTGT float rl__dq_q6_k_avx2(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    const __m256i m4 = _mm256_set1_epi32(15), m48 = _mm256_set1_epi32(48), o32 = _mm256_set1_epi32(32);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    float sc[16]; /* d·scale of the 16 groups */
    int h, g, l;
    for (; k > 0; k -= 256, b += 210) {
        __m256 d = rl__q_h(b + 208);
        _mm256_storeu_ps(sc, _mm256_mul_ps(d, RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 192))))));
        _mm256_storeu_ps(sc + 8, _mm256_mul_ps(d, RL__QF(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(b + 200))))));
        for (h = 0; h < 2; h++, x += 128)
            for (g = 0; g < 2; g++) { /* values 16g..16g+15 of each quarter */
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                for (l = 16 * g; l < 16 * g + 16; l += 8) {
                    __m256i va = rl__q_u8(b + 64 * h + l), vb = rl__q_u8(b + 64 * h + 32 + l), vh = rl__q_u8(b + 128 + 32 * h + l);
                    __m256i q0 = _mm256_or_si256(_mm256_and_si256(va, m4), _mm256_and_si256(_mm256_slli_epi32(vh, 4), m48));
                    __m256i q1 = _mm256_or_si256(_mm256_and_si256(vb, m4), _mm256_and_si256(_mm256_slli_epi32(vh, 2), m48));
                    __m256i q2 = _mm256_or_si256(_mm256_srli_epi32(va, 4), _mm256_and_si256(vh, m48));
                    __m256i q3 = _mm256_or_si256(_mm256_srli_epi32(vb, 4), _mm256_and_si256(_mm256_srli_epi32(vh, 2), m48));
                    a0 = _mm256_fmadd_ps(RL__QX(l), RL__QF(_mm256_sub_epi32(q0, o32)), a0);
                    a1 = _mm256_fmadd_ps(RL__QX(32 + l), RL__QF(_mm256_sub_epi32(q1, o32)), a1);
                    a2 = _mm256_fmadd_ps(RL__QX(64 + l), RL__QF(_mm256_sub_epi32(q2, o32)), a2);
                    a3 = _mm256_fmadd_ps(RL__QX(96 + l), RL__QF(_mm256_sub_epi32(q3, o32)), a3);
                }
                s0 = _mm256_fmadd_ps(a0, _mm256_set1_ps(sc[8 * h + g]), s0);
                s1 = _mm256_fmadd_ps(a1, _mm256_set1_ps(sc[8 * h + 2 + g]), s1);
                s2 = _mm256_fmadd_ps(a2, _mm256_set1_ps(sc[8 * h + 4 + g]), s2);
                s3 = _mm256_fmadd_ps(a3, _mm256_set1_ps(sc[8 * h + 6 + g]), s3);
            }
    }
    return rl__q_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}
/* AVX-512F (the AVX-512 table) for the commonest types: a block's 32 values in two vectors
   of 16 (element j and j + 16 share byte j in Q4_0/Q4_1), half the instructions of AVX2 */
#define RL__QTGT5 __attribute__((target("avx512f,avx2,fma,f16c")))
static RL__QTGT5 inline __m512 rl__q_h5(const unsigned char *p) { return _mm512_set1_ps(_cvtsh_ss(rl__le16(p))); }
static RL__QTGT5 inline __m512 rl__q_i8(const unsigned char *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)p)));
}
static RL__QTGT5 float rl__dq_q8_0_avx512(const float *x, const void *row, int64_t k) {
    const unsigned char *b = (const unsigned char *)row;
    __m512 s = _mm512_setzero_ps();
    for (; k > 0; k -= 32, x += 32, b += 34)
        s = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_loadu_ps(x + 16), rl__q_i8(b + 18), _mm512_mul_ps(_mm512_loadu_ps(x), rl__q_i8(b + 2))),
                            rl__q_h5(b), s);
    return _mm512_reduce_add_ps(s);
}
/* Q4_0 (bias 8) and Q4_1 (a minimum at b + 2 multiplying Σ x) */
static RL__QTGT5 RL__QINL float rl__dq_q4_avx512(const float *x, const unsigned char *b, int64_t k, int size, int off, int bias, int mins) {
    const __m512i m4 = _mm512_set1_epi32(15), vb = _mm512_set1_epi32(bias);
    __m512 s = _mm512_setzero_ps(), sm = _mm512_setzero_ps();
    for (; k > 0; k -= 32, x += 32, b += size) {
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(b + off)));
        __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        __m512 t = _mm512_fmadd_ps(x1, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(v, 4), vb)),
                                   _mm512_mul_ps(x0, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(v, m4), vb))));
        s = _mm512_fmadd_ps(t, rl__q_h5(b), s);
        if (mins) sm = _mm512_fmadd_ps(_mm512_add_ps(x0, x1), rl__q_h5(b + 2), sm);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s, sm));
}
static RL__QTGT5 float rl__dq_q4_0_avx512(const float *x, const void *row, int64_t k) { return rl__dq_q4_avx512(x, (const unsigned char *)row, k, 18, 2, 8, 0); }
static RL__QTGT5 float rl__dq_q4_1_avx512(const float *x, const void *row, int64_t k) { return rl__dq_q4_avx512(x, (const unsigned char *)row, k, 20, 4, 0, 1); }
#undef RL__QTGT5
#undef RL__QTGT
#undef RL__QINL
#undef RL__QX
#undef RL__QF
#endif /* RL__X86 */

/* Products with a quantized (ggml block type) B = Wᵀ, W's rows read in place, in one of
   three ways. RL__GGML_FUSED_M, the switch, is measured (tools/bench/bench_matvec.c
   --rows M on an AVX-512 EPYC): the fused dot products are the faster up to M of about 12
   (Q4_K, Q5_K) to 32 (Q8_0, Q4_0), since the panels' dequantization dominates below that.
   - few rows of A (decoding): each task takes rows n of W and, for every row i of A, the
     kernel table's fused dot product for the type (dot_q), on the row as stored;
   - many rows (prefill): each task dequantizes a panel of 64 to 256 rows of W (the
     reference dequantizer) into F32 and runs the packed GEMM of A with it;
   - a type without dot_q, few rows: each row of W dequantized once, then the F32 dot
     product with every row of A. */
#define RL__GGML_FUSED_M 16
static int rl__ggml_row_bytes(int type, int64_t k, int64_t *bytes) { /* bytes of a row of k values */
    int64_t bs, ts;
    if (!rl_ggml_can_dequantize(type) || !rl_ggml_type_size(type, &bs, &ts) || bs < 1 || k % bs) return 0;
    *bytes = k / bs * ts;
    return 1;
}
typedef struct {
    const rl__gemm_args *g;
    const rl__kern *k;
    rl__dotq_fn *dot;         /* the fused path, or NULL */
    int64_t row_bytes, panel, ap_cap; /* the panel path: rows of W per panel, floats of packed A */
    rl__scratch sc;           /* per thread: a dequantized row; or panel, packed A, packed B */
} rl__gemm_ggml_job;
static void rl__gemm_ggml_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemm_ggml_job *j = (rl__gemm_ggml_job *)ctx;
    const rl__gemm_args *g = j->g;
    float *row = j->dot ? NULL : rl__scratch_at(&j->sc, tid); /* a dequantized row of W: K floats */
    int64_t n, i;
    for (n = b; n < e; n++) {
        const unsigned char *w = (const unsigned char *)g->B + n * j->row_bytes;
        if (row && rl_ggml_dequantize((int)g->bt - RL_DTYPE_GGML0, w, row, g->K) != RL_OK) memset(row, 0, sizeof(float) * (size_t)g->K);
        for (i = 0; i < g->M; i++) {
            const float *a = g->A + i * g->a_rs;
            float s = row ? j->k->dot(a, row, g->K) : j->dot(a, w, g->K), *c = g->C + i * g->ldc + n;
            *c = g->accumulate ? *c + s : s;
        }
    }
}
static void rl__gemm_ggml_panel_task(void *ctx, int64_t b, int64_t e, int tid) {
    rl__gemm_ggml_job *j = (rl__gemm_ggml_job *)ctx;
    float *W = rl__scratch_at(&j->sc, tid), *Ap = W + j->panel * j->g->K;
    int64_t p, r;
    for (p = b; p < e; p++) {
        rl__gemm_args s = *j->g; /* columns n0.. of C: A · (the panel)ᵀ */
        int64_t n0 = p * j->panel;
        s.N = RL__MIN(j->panel, j->g->N - n0);
        for (r = 0; r < s.N; r++)
            if (rl_ggml_dequantize((int)s.bt - RL_DTYPE_GGML0, (const unsigned char *)s.B + (n0 + r) * j->row_bytes, W + r * s.K, s.K) != RL_OK)
                memset(W + r * s.K, 0, sizeof(float) * (size_t)s.K);
        s.B = W;
        s.bt = RL_F32;
        s.b_cs = s.K;
        s.C += n0;
        rl__gemm_blocked(j->k->gemm, &s, 0, s.M, 0, s.N, Ap, j->ap_cap, Ap + j->ap_cap);
    }
}
static rl_status rl__gemm_ggml(rl_pool *pool, const rl__gemm_args *g, const rl__kern *k) {
    rl__gemm_ggml_job j;
    int type = (int)g->bt - RL_DTYPE_GGML0, panel = g->M > RL__GGML_FUSED_M && k->gemm;
    size_t per;
    /* only y = x·Wᵀ (rows of W contiguous, A rows contiguous): the forward of rl_linear */
    if (g->b_rs != 1 || g->a_cs != 1 || !rl__ggml_row_bytes(type, g->K, &j.row_bytes) || g->b_cs != g->K) {
        int64_t i;
        for (i = 0; i < g->M; i++) memset(g->C + i * g->ldc, 0, sizeof(float) * (size_t)g->N);
        return rl__fail(RL_ERR_UNSUPPORTED, "matrix product: a %s matrix is only read as Wᵀ with whole rows (y = x·Wᵀ), not in this layout",
                        rl_ggml_type_name(type));
    }
    j.g = g;
    j.k = k;
    j.dot = !panel && type < RL__NQ ? k->dot_q[type] : NULL;
    j.ap_cap = (int64_t)k->mc * k->kc;
    j.panel = 64 * RL__MAX(1, RL__MIN(4, g->N / (128 * rl_pool_size(pool)))); /* a multiple of every NR; 2 panels a thread */
    per = panel ? (size_t)(j.panel * (g->K + k->kc) + j.ap_cap) : j.dot ? 0 : (size_t)g->K;
    j.sc.mem = NULL;
    if (per && !rl__scratch_alloc(&j.sc, pool, per)) {
        int64_t i;
        for (i = 0; i < g->M; i++) memset(g->C + i * g->ldc, 0, sizeof(float) * (size_t)g->N);
        return rl__fail(RL_ERR_NOMEM, "matrix product: out of memory for the dequantized rows of a %s matrix", rl_ggml_type_name(type));
    }
    if (panel) rl_pool_for(pool, (g->N + j.panel - 1) / j.panel, 1, rl__gemm_ggml_panel_task, &j);
    else rl_pool_for(pool, g->N, 16, rl__gemm_ggml_task, &j);
    rl__scratch_free(&j.sc);
    return RL_OK;
}

#endif /* GGUF */

#if !defined(RADLADS_NO_TOKENIZER)
/* ==== 13. tokenizer ======================================================== */

/* What the tokenizer does, step by step (API: section 13's declarations).
   Encoding: added tokens (special or not) are found first, leftmost-longest, with their
   single_word / lstrip / rstrip / normalized flags; the other pieces go through the normalizer
   (none or NFC), the pre-tokenizer (a Sequence of Split with the Qwen2, Llama-3 or GPT-2 regex
   and behavior Isolated, Digits, ByteLevel), then BPE (merges in either JSON form,
   ignore_merges, unk_token/fuse_unk). The regexes are matched by hand-written code with
   Oniguruma's exact semantics (ordered alternation, (?i:) contractions, \s+(?!\S) backtracking).
   Anything else in tokenizer.json is refused with RL_ERR_UNSUPPORTED naming the field, e.g.
   "tokenizer.json: pre_tokenizer.pretokenizers[0].type: 'Metaspace' is not supported
   (supported: ByteLevel, Split, Digits, Sequence)".

   Unicode: the regex classes (\p{L}, \p{N}, \s) are Unicode 16.0 as HF's Oniguruma; NFC uses
   Unicode 9.0 data as HF's normalizer does (tools/gen_unicode.py makes and checks the tables).
   Input text need not be valid UTF-8: a stray byte counts as one "other" character and is
   encoded as its byte token, so the tokens' bytes are the input's bytes (after NFC, if the
   tokenizer normalizes) and decode(encode(s)) == s for valid UTF-8; decode turns the stray
   bytes into U+FFFD. (HF itself only ever sees valid UTF-8.) Decoding is that of HF
   `tokenizers`; transformers' optional clean_up_tokenization_spaces is not applied. */

/* ---- BEGIN GENERATED UNICODE PROPERTIES (tools/gen_unicode.py) ---- */
/* Unicode data for the tokenizer, generated by tools/gen_unicode.py from unicodedata2 16.0.0
   (Unicode 16.0.0) and checked against Hugging Face tokenizers 0.23.3 code point by code point.
   Regex classes \p{L} \p{N} \s: Unicode 16.0 (Oniguruma 6.9.10). NFC: Unicode 9.0 (HF's
   unicode-normalization-alignments 0.1.12) = 16.0 data restricted to what 9.0 had.
   Digits (is_numeric) and single_word (\w): as Rust in HF's build. Do not edit by hand. */
#define RL__UNICODE_VERSION "16.0.0 (classes), 9.0.0 (NFC, as HF tokenizers)"
/* property bits of a code point */
#define RL__U_CLASS 3u   /* 0 other, 1 \p{L}, 2 \p{N}, 3 \s (White_Space) */
#define RL__U_NUM 4u     /* Rust char::is_numeric (HF Digits pre-tokenizer) */
#define RL__U_WORD 8u    /* regex-crate \w (HF single_word added tokens) */
#define RL__U_NFC 16u    /* NFC must look closer: ccc != 0 or NFC_Quick_Check != Yes */
/* ---- END GENERATED UNICODE PROPERTIES ---- */

/* Lookups in the generated Unicode tables, which close this section */
RL__INTERN unsigned rl__uprop(uint32_t cp);     /* RL__U_* property bits */
RL__INTERN unsigned rl__uccc_of(uint32_t cp);   /* canonical combining class */
static int rl__udecomp_find(uint32_t cp, uint32_t *first, uint32_t *second); /* 1: cp decomposes */
RL__INTERN uint32_t rl__ucompose(uint32_t a, uint32_t b); /* primary composite of a, b, or 0 */


/* Properties (RL__U_*) of the character at s[i], with its code point and length. */
static unsigned rl__char_at(const unsigned char *s, size_t n, size_t i, uint32_t *cp, size_t *len) {
    if (s[i] < 0x80) {
        *cp = s[i];
        *len = 1;
        return rl__uprop(s[i]);
    }
    *len = rl__utf8_next(s + i, n - i, cp);
    return rl__uprop(*cp);
}

/* ---- tokenizer: UTF-8 repair (Rust's String::from_utf8_lossy) ----
   Appends to out what bytes decode to: valid characters as they are, U+FFFD for each maximal
   invalid subpart. Returns how many bytes were consumed: with final == 0 an incomplete but
   so far valid character at the end is left unconsumed (the caller keeps it for later).
   out must have room for 3 * n bytes (one U+FFFD per invalid byte at worst). */
static size_t rl__utf8_lossy(const unsigned char *s, size_t n, int final, unsigned char *out, size_t *out_len) {
    size_t i = 0, o = *out_len;
    while (i < n) {
        unsigned c = s[i];
        size_t need, k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            out[o++] = (unsigned char)c;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            need = 0; /* never a lead byte */
        }
        k = 0; /* continuation bytes that fit */
        if (need) {
            while (k < need && i + 1 + k < n) {
                unsigned b = s[i + 1 + k];
                if (k == 0 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) break;
                k++;
            }
            if (k == need) {
                memcpy(out + o, s + i, need + 1);
                o += need + 1;
                i += need + 1;
                continue;
            }
            if (i + 1 + k == n && !final) break; /* incomplete: wait for more bytes */
        }
        out[o++] = 0xEF; /* U+FFFD */
        out[o++] = 0xBF;
        out[o++] = 0xBD;
        i += 1 + k;
    }
    *out_len = o;
    return i;
}

/* ---- tokenizer: data structures ---- */

enum { RL__PT_SPLIT_LLAMA = 1, RL__PT_SPLIT_GPT2 = 2, RL__PT_DIGITS = 3 };
#define RL__TOK_MAX_STAGES 8
#define RL__TOK_MAX_ID (1 << 28)
#define RL__TOK_SKIP 0x80 /* id_type bit: dropped by decode with skip_special */

typedef struct rl__vent { const char *s; uint32_t len; int32_t id; } rl__vent;
typedef struct rl__added {
    const char *s, *norm; /* content; content after the normalizer (normalized tokens) */
    uint32_t len, norm_len;
    int32_t id;
    unsigned char single_word, lstrip, rstrip, normalized, special;
} rl__added;
typedef struct rl__mslot { uint64_t key; int32_t rank, id; } rl__mslot;
typedef struct rl__tnode { int32_t child, sibling, pat; unsigned char byte; } rl__tnode;
typedef struct rl__trie { rl__tnode *node; int32_t n, cap, n_pat; int32_t root[256]; } rl__trie;
typedef struct rl__sblk { struct rl__sblk *next; size_t used, cap; } rl__sblk;

struct rl_tokenizer {
    const char *source;
    rl__sblk *strings;                 /* every string the tokenizer keeps */
    /* model vocabulary (HF model.vocab) */
    rl__vent *vent;
    int32_t n_vent, cap_vent;
    int32_t *vslot;                    /* open addressing over vent, -1 = empty */
    uint32_t vmask;
    /* merges */
    int32_t *merge;                    /* a, b, a+b: 3 token ids per merge, rank order */
    int32_t n_merges, cap_merges;
    rl__mslot *mslot;
    uint32_t mmask;
    /* added tokens (HF added_tokens) */
    rl__added *added;
    int32_t n_added, cap_added;
    rl__trie trie[2];                  /* [0] normalized: false (raw text), [1] normalized: true */
    /* per id, n_ids = 1 + largest id */
    int32_t n_ids;
    const char **id_str;
    uint32_t *id_len;
    unsigned char *id_type;            /* RL_TOKEN_*, | RL__TOK_SKIP */
    uint32_t *dec_off, *dec_len;       /* bytes the ByteLevel decoder makes of each token */
    unsigned char *dec;
    /* pipeline */
    int nfc, n_stages, ignore_merges, fuse_unk;
    unsigned char stage_kind[RL__TOK_MAX_STAGES], stage_arg[RL__TOK_MAX_STAGES];
    int32_t unk;
    int32_t byte_id[256];              /* id of each byte's ByteLevel character, -1 if none */
    unsigned char bchr[256][2], bchr_len[256];
    int32_t *prefix, *suffix;          /* post-processor template */
    int32_t n_prefix, n_suffix;
    rl_pretok pretok;
    char src_buf[256];
    int sp;                            /* 1: a llama2.c SentencePiece vocabulary (rl_tokenizer_load_llama2c) */
    float *sp_score;                   /* its piece scores, per id */
};

/* A copy of n bytes (NUL-terminated) that lives as long as the tokenizer. */
static const char *rl__tok_strdup(rl_tokenizer *t, const char *s, size_t n) {
    rl__sblk *b = t->strings;
    char *p;
    if (n > ((size_t)1 << 30)) return NULL;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > ((size_t)1 << 18) ? n + 1 : ((size_t)1 << 18);
        b = (rl__sblk *)RL_MALLOC(sizeof(rl__sblk) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = t->strings;
        t->strings = b;
    }
    p = (char *)(b + 1) + b->used;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    b->used += n + 1;
    return p;
}

/* Grow *p (elements of size sz) to hold at least need; 0 or -1 when out of memory. */
static int rl__tk_grow(void *pp, size_t *cap, size_t need, size_t sz) {
    void **p = (void **)pp;
    size_t c = *cap;
    void *q;
    if (need <= c) return 0;
    if (need > SIZE_MAX / sz / 2) return -1;
    c = c ? c : 16;
    while (c < need) c *= 2;
    q = RL_REALLOC(*p, c * sz);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* the vocabulary tables' hash: FNV-1a with its high bits folded into the low ones they index by */
static uint64_t rl__tk_hash(const char *s, size_t n) {
    uint64_t h = rl__fnv1a(RL__FNV_BASIS, s, n);
    return h ^ (h >> 31);
}

RL__INTERN int32_t rl__vocab_find(const rl_tokenizer *t, const char *s, size_t n) {
    uint32_t h;
    if (!t->vslot) return -1;
    h = (uint32_t)rl__tk_hash(s, n) & t->vmask;
    for (;; h = (h + 1) & t->vmask) {
        int32_t k = t->vslot[h];
        if (k < 0) return -1;
        if (t->vent[k].len == n && !memcmp(t->vent[k].s, s, n)) return t->vent[k].id;
    }
}

static uint32_t rl__pair_hash(int32_t a, int32_t b) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32);
}

static int rl__merge_find(const rl_tokenizer *t, int32_t a, int32_t b, int32_t *rank, int32_t *id) {
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    uint32_t h;
    if (!t->mslot) return 0;
    for (h = rl__pair_hash(a, b) & t->mmask;; h = (h + 1) & t->mmask) {
        const rl__mslot *m = &t->mslot[h];
        if (m->key == UINT64_MAX) return 0;
        if (m->key == key) {
            *rank = m->rank;
            *id = m->id;
            return 1;
        }
    }
}

/* ---- tokenizer: NFC (Unicode 9.0 data, as HF's normalizer) ---- */

#define RL__HS 0xAC00u
#define RL__HL 0x1100u
#define RL__HV 0x1161u
#define RL__HT 0x11A7u

/* rl__enc, an encoding's scratch: in the internal declarations (before the implementation). */
static rl_status rl__enc_nomem(void) { return rl__fail(RL_ERR_NOMEM, "tokenizer: out of memory"); }

#define RL__CACHE_MAX_WORD 48u         /* longer pre-tokens are not cached */
#define RL__CACHE_MAX_ENTRIES (1u << 15)

/* Look a pre-token up in the word cache; on a hit its ids are appended and 1 returned. */
static int rl__cache_get(rl__enc *e, const unsigned char *s, size_t n, uint32_t h, rl_status *st) {
    uint32_t k;
    *st = RL_OK;
    if (!e->cslot) return 0;
    for (k = h & e->cmask; e->cslot[k]; k = (k + 1) & e->cmask) {
        const uint32_t *c = &e->centry[4 * (e->cslot[k] - 1)];
        if (c[1] == n && !memcmp(e->ckey + c[0], s, n)) {
            if (e->n_ids + c[3] > e->cap_ids && rl__tk_grow(&e->ids, &e->cap_ids, e->n_ids + c[3], sizeof(int32_t))) {
                *st = rl__enc_nomem();
                return 1;
            }
            memcpy(e->ids + e->n_ids, e->cids + c[2], c[3] * sizeof(int32_t));
            e->n_ids += c[3];
            return 1;
        }
    }
    return 0;
}

/* Remember that s[0..n) gave the ids e->ids[from..]. Out of memory only drops the entry. */
static void rl__cache_put(rl__enc *e, const unsigned char *s, size_t n, uint32_t h, size_t from) {
    uint32_t k, m = (uint32_t)(e->n_ids - from), i;
    if (e->n_cache >= RL__CACHE_MAX_ENTRIES || m > RL__CACHE_MAX_WORD) return;
    if (2 * (e->n_cache + 1) > e->cmask + 1 || !e->cslot) { /* grow the slot table */
        uint32_t size = e->cslot ? 2 * (e->cmask + 1) : 1024u;
        uint32_t *ns = (uint32_t *)RL_MALLOC(size * sizeof(uint32_t));
        if (!ns) return;
        memset(ns, 0, size * sizeof(uint32_t));
        for (i = 0; i < e->n_cache; i++) {
            const uint32_t *c = &e->centry[4 * i];
            for (k = (uint32_t)rl__tk_hash((const char *)e->ckey + c[0], c[1]) & (size - 1); ns[k]; k = (k + 1) & (size - 1)) {}
            ns[k] = i + 1;
        }
        RL_FREE(e->cslot);
        e->cslot = ns;
        e->cmask = size - 1;
    }
    if (rl__tk_grow(&e->centry, &e->cecap, 4 * ((size_t)e->n_cache + 1), sizeof(uint32_t)) ||
        rl__tk_grow(&e->ckey, &e->ckcap, e->cklen + n, 1) || rl__tk_grow(&e->cids, &e->cicap, e->cilen + m, sizeof(int32_t)))
        return;
    e->centry[4 * e->n_cache] = (uint32_t)e->cklen;
    e->centry[4 * e->n_cache + 1] = (uint32_t)n;
    e->centry[4 * e->n_cache + 2] = (uint32_t)e->cilen;
    e->centry[4 * e->n_cache + 3] = m;
    memcpy(e->ckey + e->cklen, s, n);
    memcpy(e->cids + e->cilen, e->ids + from, m * sizeof(int32_t));
    e->cklen += n;
    e->cilen += m;
    for (k = h & e->cmask; e->cslot[k]; k = (k + 1) & e->cmask) {}
    e->cslot[k] = ++e->n_cache;
}


/* Full canonical decomposition of cp appended at e->u32[*n]. */
static rl_status rl__nfc_decompose(rl__enc *e, uint32_t cp, size_t *n, int depth) {
    uint32_t d0, d1;
    if (rl__tk_grow(&e->u32, &e->ucap, *n + 4, sizeof(uint32_t))) return rl__enc_nomem();
    if (cp - RL__HS < 11172) {
        uint32_t s = cp - RL__HS;
        e->u32[(*n)++] = RL__HL + s / 588;
        e->u32[(*n)++] = RL__HV + (s % 588) / 28;
        if (s % 28) e->u32[(*n)++] = RL__HT + s % 28;
        return RL_OK;
    }
    if (!(cp >= 0xC0 && cp < 0x110000 && depth < 8 && rl__udecomp_find(cp, &d0, &d1))) {
        e->u32[(*n)++] = cp;
        return RL_OK;
    }
    if (rl__nfc_decompose(e, d0, n, depth + 1)) return RL_ERR_NOMEM;
    if (d1) return rl__nfc_decompose(e, d1, n, depth + 1);
    return RL_OK;
}

#define RL__BADBYTE 0x80000000u /* a stray byte kept through NFC: 0x80000000 | byte */

/* NFC of one segment (it starts where NFC may cut and holds characters that need the full
   algorithm), appended to e->nbuf at *o. */
static rl_status rl__nfc_segment(rl__enc *e, const unsigned char *s, size_t n, size_t *o) {
    size_t i, l, m = 0, k;
    uint32_t cp;
    rl_status st;
    for (i = 0; i < n; i += l) { /* 1. decompose */
        l = rl__utf8_next(s + i, n - i, &cp);
        if (cp == RL__CP_BAD) {
            if (rl__tk_grow(&e->u32, &e->ucap, m + 1, sizeof(uint32_t))) return rl__enc_nomem();
            e->u32[m++] = RL__BADBYTE | s[i];
        } else if ((st = rl__nfc_decompose(e, cp, &m, 0)) != RL_OK) {
            return st;
        }
    }
    for (i = 1; i < m; i++) { /* 2. canonical order: stable insertion sort of non-starters */
        uint32_t c = e->u32[i];
        unsigned cc = c & RL__BADBYTE ? 0 : rl__uccc_of(c);
        if (!cc) continue;
        for (k = i; k > 0; k--) {
            uint32_t p = e->u32[k - 1];
            unsigned pc = p & RL__BADBYTE ? 0 : rl__uccc_of(p);
            if (pc <= cc) break;
            e->u32[k] = p;
        }
        e->u32[k] = c;
    }
    { /* 3. compose: each character with the last starter unless blocked */
        size_t starter = 0, w = 0;
        int have = 0;
        unsigned last = 0;
        for (i = 0; i < m; i++) {
            uint32_t c = e->u32[i], comp;
            unsigned cc = c & RL__BADBYTE ? 0 : rl__uccc_of(c);
            if (have && !(c & RL__BADBYTE) && !(e->u32[starter] & RL__BADBYTE) && (last < cc || last == 0) &&
                (comp = rl__ucompose(e->u32[starter], c)) != 0) {
                e->u32[starter] = comp;
                continue;
            }
            if (cc == 0) {
                starter = w;
                have = 1;
            }
            last = cc;
            e->u32[w++] = c;
        }
        m = w;
    }
    if (rl__tk_grow(&e->nbuf, &e->ncap, *o + 4 * m + 1, 1)) return rl__enc_nomem();
    for (i = 0; i < m; i++) { /* 4. back to UTF-8 */
        uint32_t c = e->u32[i];
        if (c & RL__BADBYTE) e->nbuf[(*o)++] = (unsigned char)(c & 0xFF);
        else *o += rl__utf8_put(e->nbuf + *o, c);
    }
    return RL_OK;
}

/* NFC of s[0..n). *out is s itself when nothing changes (the common case), else e->nbuf.
   NFC never reorders or composes across the point before a starter whose NFC_Quick_Check
   is Yes (property bit RL__U_NFC clear; every character below U+0300 is one), so the text is
   copied as it is except for the segments that hold flagged characters. */
RL__INTERN rl_status rl__nfc(rl__enc *e, const unsigned char *s, size_t n, const unsigned char **out, size_t *out_n) {
    size_t i, l, seg = 0, done = 0, o = 0;
    int dirty = 0, any = 0;
    uint32_t cp;
    rl_status st;
    *out = s;
    *out_n = n;
    for (i = 0; i <= n; i += l) {
        l = 1;
        if (i < n && s[i] >= 0x80) {
            l = rl__utf8_next(s + i, n - i, &cp);
            if (cp >= 0x300 && cp != RL__CP_BAD && (rl__uprop(cp) & RL__U_NFC)) {
                dirty = any = 1;
                continue;
            }
        }
        if (dirty) { /* the point before s[i] ends a segment that needs the full algorithm */
            if (rl__tk_grow(&e->nbuf, &e->ncap, o + (seg - done) + 1, 1)) return rl__enc_nomem();
            memcpy(e->nbuf + o, s + done, seg - done);
            o += seg - done;
            if ((st = rl__nfc_segment(e, s + seg, i - seg, &o)) != RL_OK) return st;
            done = i;
            dirty = 0;
        }
        seg = i;
    }
    if (!any) return RL_OK;
    if (rl__tk_grow(&e->nbuf, &e->ncap, o + (n - done) + 1, 1)) return rl__enc_nomem();
    memcpy(e->nbuf + o, s + done, n - done);
    *out = e->nbuf;
    *out_n = o + (n - done);
    return RL_OK;
}

/* ---- tokenizer: pre-tokenizer regexes, hand-matched ----
   Each matcher returns the end of the match that starts at s[i] (i < n); the patterns cover
   every character, so a match always starts where the previous one ended (Split Isolated
   keeps them all). */

/* Length of a contraction 's 't 're 've 'm 'll 'd at s[i] == '\'' (0 if none). ci: the
   (?i:) group of Qwen2/Llama-3, where Oniguruma's case folding also lets 's match U+017F. */
static size_t rl__contraction(const unsigned char *s, size_t n, size_t i, int ci) {
    unsigned a, b;
    if (i + 1 >= n) return 0;
    a = s[i + 1];
    if (ci && a >= 'A' && a <= 'Z') a += 32;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (ci && a == 0xC5 && i + 2 < n && s[i + 2] == 0xBF) return 3; /* U+017F LATIN SMALL LETTER LONG S */
    if (i + 2 >= n) return 0;
    b = s[i + 2];
    if (ci && b >= 'A' && b <= 'Z') b += 32;
    if ((a == 'r' || a == 'v') && b == 'e') return 3;
    if (a == 'l' && b == 'l') return 3;
    return 0;
}

/* End of the run of class cls starting at i, at most max characters (0 = no limit). */
static size_t rl__scan_class(const unsigned char *s, size_t n, size_t i, unsigned cls, int max) {
    int cnt = 0;
    while (i < n && (!max || cnt < max)) {
        uint32_t cp;
        size_t l;
        if ((rl__char_at(s, n, i, &cp, &l) & RL__U_CLASS) != cls) break;
        i += l;
        cnt++;
    }
    return i;
}

/* Whitespace at s[i]: [\s*[\r\n]+ if newline_alt] | \s+(?!\S) | \s+ */
static size_t rl__space_run(const unsigned char *s, size_t n, size_t i, int newline_alt) {
    size_t j = i, last = i, nl = 0;
    int cnt = 0;
    while (j < n) {
        uint32_t cp;
        size_t l;
        if ((rl__char_at(s, n, j, &cp, &l) & RL__U_CLASS) != 3) break;
        if (cp == '\r' || cp == '\n') nl = j + l;
        last = j;
        j += l;
        cnt++;
    }
    if (newline_alt && nl) return nl; /* \s* backtracks to the last newline of the run */
    if (j == n || cnt < 2) return j;  /* at the end (?!\S) holds; a single space: \s+ */
    return last;                      /* leave the last space for the next word */
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxdig}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
   (Qwen2: maxdig 1, Llama-3: maxdig 3) */
static size_t rl__re_llama(const unsigned char *s, size_t n, size_t i, int maxdig) {
    uint32_t c0, c1;
    size_t l0, l1, j;
    unsigned k0 = rl__char_at(s, n, i, &c0, &l0) & RL__U_CLASS;
    if (c0 == '\'' && (j = rl__contraction(s, n, i, 1)) != 0) return i + j;
    if (k0 == 1) return rl__scan_class(s, n, i, 1, 0);
    if (k0 != 2 && c0 != '\r' && c0 != '\n' && i + l0 < n &&
        (rl__char_at(s, n, i + l0, &c1, &l1) & RL__U_CLASS) == 1)
        return rl__scan_class(s, n, i + l0, 1, 0);
    if (k0 == 2) return rl__scan_class(s, n, i, 2, maxdig);
    j = i;
    if (c0 == ' ' && i + 1 < n && (rl__char_at(s, n, i + 1, &c1, &l1) & RL__U_CLASS) == 0) j = i + 1;
    if (j != i || k0 == 0) {
        j = rl__scan_class(s, n, j, 0, 0);
        while (j < n && (s[j] == '\r' || s[j] == '\n')) j++;
        return j;
    }
    return rl__space_run(s, n, i, 1);
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (GPT-2, case-sensitive) */
static size_t rl__re_gpt2(const unsigned char *s, size_t n, size_t i) {
    uint32_t c0, c1;
    size_t l0, l1, j;
    unsigned k0 = rl__char_at(s, n, i, &c0, &l0) & RL__U_CLASS, k1;
    if (c0 == '\'' && (j = rl__contraction(s, n, i, 0)) != 0) return i + j;
    if (c0 == ' ' && i + 1 < n && (k1 = rl__char_at(s, n, i + 1, &c1, &l1) & RL__U_CLASS) != 3)
        return rl__scan_class(s, n, i + 1, k1, 0);
    if (k0 != 3) return rl__scan_class(s, n, i, k0, 0);
    return rl__space_run(s, n, i, 0);
}

/* ---- tokenizer: BPE ---- */

static rl_status rl__enc_push(rl__enc *e, int32_t id) {
    if (e->n_ids == e->cap_ids && rl__tk_grow(&e->ids, &e->cap_ids, e->n_ids + 1, sizeof(int32_t)))
        return rl__enc_nomem();
    e->ids[e->n_ids++] = id;
    return RL_OK;
}

static int rl__heap_less(const int32_t *a, const int32_t *b) { /* rank, then position */
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

static void rl__heap_push(int32_t *h, size_t *n, int32_t rank, int32_t pos, int32_t id) {
    size_t i = (*n)++;
    h[3 * i] = rank;
    h[3 * i + 1] = pos;
    h[3 * i + 2] = id;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        int32_t tmp[3];
        if (!rl__heap_less(&h[3 * i], &h[3 * p])) break;
        memcpy(tmp, &h[3 * i], sizeof tmp);
        memcpy(&h[3 * i], &h[3 * p], sizeof tmp);
        memcpy(&h[3 * p], tmp, sizeof tmp);
        i = p;
    }
}

static void rl__heap_pop(int32_t *h, size_t *n, int32_t *top) {
    size_t i = 0, m = --(*n);
    memcpy(top, h, 3 * sizeof(int32_t));
    memcpy(h, &h[3 * m], 3 * sizeof(int32_t));
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, b = i;
        int32_t tmp[3];
        if (l < m && rl__heap_less(&h[3 * l], &h[3 * b])) b = l;
        if (r < m && rl__heap_less(&h[3 * r], &h[3 * b])) b = r;
        if (b == i) break;
        memcpy(tmp, &h[3 * i], sizeof tmp);
        memcpy(&h[3 * i], &h[3 * b], sizeof tmp);
        memcpy(&h[3 * b], tmp, sizeof tmp);
        i = b;
    }
}

/* One pre-token (raw bytes) through the ByteLevel alphabet and BPE, as HF's BPE::tokenize:
   ignore_merges looks the whole word up first; then the lowest-rank merge applies first,
   ties to the leftmost pair. */
static rl_status rl__bpe(rl__enc *e, const unsigned char *s, size_t n) {
    const rl_tokenizer *t = e->t;
    int32_t *sym, rank, nid, p;
    size_t i, ns = 0, nh = 0, from = e->n_ids;
    int prev_unk = 0;
    uint32_t h = 0;
    rl_status st;
    if (n == 0) return RL_OK;
    if (t->ignore_merges || n == 1) {
        size_t k = 0;
        int32_t id;
        if (rl__tk_grow(&e->mbuf, &e->mcap, 2 * n, 1)) return rl__enc_nomem();
        for (i = 0; i < n; i++) {
            memcpy(e->mbuf + k, t->bchr[s[i]], t->bchr_len[s[i]]);
            k += t->bchr_len[s[i]];
        }
        id = rl__vocab_find(t, (const char *)e->mbuf, k);
        if (id >= 0) return rl__enc_push(e, id);
    }
    if (n <= RL__CACHE_MAX_WORD) {
        h = (uint32_t)rl__tk_hash((const char *)s, n);
        if (rl__cache_get(e, s, n, h, &st)) return st;
    }
    if (rl__tk_grow(&e->sym, &e->scap, 4 * n, sizeof(int32_t)) || rl__tk_grow(&e->heap, &e->hcap, 9 * n, sizeof(int32_t)))
        return rl__enc_nomem();
    sym = e->sym;
    for (i = 0; i < n; i++) { /* one symbol per byte; unknown ones become unk (or vanish) */
        int32_t id = t->byte_id[s[i]];
        if (id < 0) {
            if (t->unk < 0 || (t->fuse_unk && prev_unk)) continue;
            id = t->unk;
            prev_unk = 1;
        } else {
            prev_unk = 0;
        }
        sym[4 * ns] = id;
        sym[4 * ns + 1] = (int32_t)ns - 1;
        sym[4 * ns + 2] = (int32_t)ns + 1;
        sym[4 * ns + 3] = 1;
        ns++;
    }
    if (ns == 0) return RL_OK;
    sym[4 * (ns - 1) + 2] = -1;
    for (i = 0; i + 1 < ns; i++)
        if (rl__merge_find(t, sym[4 * i], sym[4 * i + 4], &rank, &nid)) rl__heap_push(e->heap, &nh, rank, (int32_t)i, nid);
    while (nh) {
        int32_t top[3], q, r;
        rl__heap_pop(e->heap, &nh, top);
        p = top[1];
        if (!sym[4 * p + 3] || (q = sym[4 * p + 2]) < 0) continue;
        if (!rl__merge_find(t, sym[4 * p], sym[4 * q], &rank, &nid) || nid != top[2]) continue;
        sym[4 * p] = nid; /* the left symbol absorbs the right one */
        sym[4 * q + 3] = 0;
        r = sym[4 * p + 2] = sym[4 * q + 2];
        if (r >= 0) sym[4 * r + 1] = p;
        if (sym[4 * p + 1] >= 0 && rl__merge_find(t, sym[4 * sym[4 * p + 1]], nid, &rank, &nid))
            rl__heap_push(e->heap, &nh, rank, sym[4 * p + 1], nid);
        if (r >= 0 && rl__merge_find(t, sym[4 * p], sym[4 * r], &rank, &nid)) rl__heap_push(e->heap, &nh, rank, p, nid);
    }
    for (p = 0; p >= 0; p = sym[4 * p + 2])
        if ((st = rl__enc_push(e, sym[4 * p])) != RL_OK) return st;
    if (n <= RL__CACHE_MAX_WORD) rl__cache_put(e, s, n, h, from);
    return RL_OK;
}

/* ---- tokenizer: the pre-tokenizer sequence ---- */

/* Where the piece of pre-tokenizer stage `stage` that starts at s[i] (i < n) ends; 0 when t has
   no such stage (stage == t->n_stages: the pieces go to BPE). */
RL__INTERN size_t rl__pretok_split(const rl_tokenizer *t, int stage, const unsigned char *s, size_t n, size_t i) {
    size_t j, l;
    uint32_t cp;
    unsigned num;
    if (stage >= t->n_stages) return 0;
    switch (t->stage_kind[stage]) {
    case RL__PT_SPLIT_LLAMA: return rl__re_llama(s, n, i, t->stage_arg[stage]);
    case RL__PT_SPLIT_GPT2: return rl__re_gpt2(s, n, i);
    default: /* Digits: numeric characters alone (individual) or in runs */
        num = rl__char_at(s, n, i, &cp, &l) & RL__U_NUM;
        j = i + l;
        if (!(num && t->stage_arg[stage]))
            while (j < n && (rl__char_at(s, n, j, &cp, &l) & RL__U_NUM) == num) j += l;
        return j;
    }
}

static rl_status rl__pretok_run(rl__enc *e, int stage, const unsigned char *s, size_t n) {
    size_t i = 0, j;
    rl_status st;
    if (stage == e->t->n_stages) return rl__bpe(e, s, n);
    while (i < n) {
        j = rl__pretok_split(e->t, stage, s, n, i);
        if ((st = rl__pretok_run(e, stage + 1, s + i, j - i)) != RL_OK) return st;
        i = j;
    }
    return RL_OK;
}

/* ---- tokenizer: added tokens ---- */

/* The added token that starts at s[i] and is longest (trie walk), or -1; *end past it. */
static int32_t rl__trie_match(const rl__trie *tr, const unsigned char *s, size_t n, size_t i, size_t *end) {
    int32_t node = tr->root[s[i]], best = -1;
    size_t j = i + 1;
    while (node >= 0) {
        const rl__tnode *nd = &tr->node[node];
        int32_t c;
        if (nd->pat >= 0) {
            best = nd->pat;
            *end = j;
        }
        if (j == n) break;
        for (c = nd->child; c >= 0 && tr->node[c].byte != s[j]; c = tr->node[c].sibling) {}
        node = c;
        j++;
    }
    return best;
}

/* Start of the character that ends at s[i] (i > 0). */
static size_t rl__utf8_prev(const unsigned char *s, size_t i) {
    size_t k = i - 1, lim = i >= 4 ? i - 4 : 0;
    uint32_t cp;
    while (k > lim && (s[k] & 0xC0) == 0x80) k--;
    if (rl__utf8_next(s + k, i - k, &cp) == i - k) return k;
    return i - 1;
}

static rl_status rl__encode_normalized(rl__enc *e, const unsigned char *s, size_t n);

/* HF AddedVocabulary::find_matches on one piece, then each gap goes on. pass 0 is the raw
   text (normalized: false tokens), pass 1 a normalized piece (normalized: true tokens). */
static rl_status rl__split_added(rl__enc *e, int pass, const unsigned char *s, size_t n) {
    const rl_tokenizer *t = e->t;
    const rl__trie *tr = &t->trie[pass];
    size_t i = 0, off = 0;
    rl_status st;
    uint32_t cp;
    size_t l;
    while (tr->n_pat && i < n) {
        size_t end = 0, a, b;
        int32_t k = tr->root[s[i]] >= 0 ? rl__trie_match(tr, s, n, i, &end) : -1;
        const rl__added *at;
        if (k < 0) {
            i++;
            continue;
        }
        at = &t->added[k];
        a = i;
        b = end;
        i = end; /* the search goes on after the match even if it is dropped */
        if (at->single_word) {
            if (a > 0 && (rl__char_at(s, n, rl__utf8_prev(s, a), &cp, &l) & RL__U_WORD)) continue;
            if (b < n && (rl__char_at(s, n, b, &cp, &l) & RL__U_WORD)) continue;
        }
        if (at->lstrip) {
            while (a > off) {
                size_t p = rl__utf8_prev(s, a);
                if ((rl__char_at(s, n, p, &cp, &l) & RL__U_CLASS) != 3) break;
                a = p;
            }
        }
        if (at->rstrip)
            while (b < n && (rl__char_at(s, n, b, &cp, &l) & RL__U_CLASS) == 3) b += l;
        if (a < off) a = off;
        if (off < a) {
            st = pass ? rl__pretok_run(e, 0, s + off, a - off) : rl__encode_normalized(e, s + off, a - off);
            if (st) return st;
        }
        if ((st = rl__enc_push(e, at->id)) != RL_OK) return st;
        if (b > off) off = b;
    }
    if (off < n) return pass ? rl__pretok_run(e, 0, s + off, n - off) : rl__encode_normalized(e, s + off, n - off);
    return RL_OK;
}

static rl_status rl__encode_normalized(rl__enc *e, const unsigned char *s, size_t n) {
    if (e->t->nfc) {
        rl_status st = rl__nfc(e, s, n, &s, &n);
        if (st) return st;
    }
    return rl__split_added(e, 1, s, n);
}

RL__INTERN void rl__enc_free(rl__enc *e) {
    RL_FREE(e->cslot);
    RL_FREE(e->centry);
    RL_FREE(e->ckey);
    RL_FREE(e->cids);
    RL_FREE(e->mbuf);
    RL_FREE(e->nbuf);
    RL_FREE(e->u32);
    RL_FREE(e->sym);
    RL_FREE(e->heap);
}

static rl_status rl__sp_encode(const rl_tokenizer *t, const char *text, size_t len, int add_special, int32_t **ids, int64_t *n_ids);

RLDEF rl_status rl_tokenizer_encode(const rl_tokenizer *tok, const char *text, size_t len, int add_special,
                              int32_t **ids, int64_t *n_ids) {
    rl__enc e;
    rl_status st = RL_OK;
    int32_t i;
    if (ids) *ids = NULL;
    if (n_ids) *n_ids = 0;
    if (!tok || !ids || !n_ids || (!text && len)) return rl__fail(RL_ERR_ARG, "rl_tokenizer_encode: NULL argument");
    if (tok->sp) return rl__sp_encode(tok, text, len, add_special, ids, n_ids);
    memset(&e, 0, sizeof e);
    e.t = tok;
    if (rl__tk_grow(&e.ids, &e.cap_ids, len / 3 + 16, sizeof(int32_t))) return rl__enc_nomem();
    if (add_special)
        for (i = 0; i < tok->n_prefix && !st; i++) st = rl__enc_push(&e, tok->prefix[i]);
    if (!st && len) st = rl__split_added(&e, 0, (const unsigned char *)text, len);
    if (add_special)
        for (i = 0; i < tok->n_suffix && !st; i++) st = rl__enc_push(&e, tok->suffix[i]);
    rl__enc_free(&e);
    if (st) {
        RL_FREE(e.ids);
        return st;
    }
    *ids = e.ids;
    *n_ids = (int64_t)e.n_ids;
    return RL_OK;
}

/* ---- tokenizer: decoding ---- */

static int rl__tok_skipped(const rl_tokenizer *t, int32_t id, int skip_special) {
    return id < 0 || id >= t->n_ids || !t->id_str[id] || (skip_special && (t->id_type[id] & RL__TOK_SKIP));
}

/* llama2.c decode: a piece right after BOS loses one leading space (1 byte to skip) */
static size_t rl__sp_lead_space(const rl_tokenizer *t, int32_t prev, int32_t id) {
    return t->sp && prev == 1 && t->dec_len[id] > 0 && t->dec[t->dec_off[id]] == ' ';
}

RLDEF rl_status rl_tokenizer_decode(const rl_tokenizer *tok, const int32_t *ids, int64_t n, int skip_special,
                              char **text, size_t *len) {
    size_t total = 0, o = 0;
    unsigned char *raw, *out;
    int64_t i;
    if (text) *text = NULL;
    if (len) *len = 0;
    if (!tok || !text || n < 0 || (!ids && n)) return rl__fail(RL_ERR_ARG, "rl_tokenizer_decode: bad argument");
    for (i = 0; i < n; i++)
        if (!rl__tok_skipped(tok, ids[i], skip_special)) total += tok->dec_len[ids[i]];
    if (total > SIZE_MAX / 4 - 4) return rl__enc_nomem();
    raw = (unsigned char *)RL_MALLOC(total + 1);
    out = (unsigned char *)RL_MALLOC(3 * total + 1);
    if (!raw || !out) {
        RL_FREE(raw);
        RL_FREE(out);
        return rl__enc_nomem();
    }
    for (i = 0; i < n; i++) {
        size_t sk;
        if (rl__tok_skipped(tok, ids[i], skip_special)) continue;
        sk = rl__sp_lead_space(tok, i ? ids[i - 1] : -1, ids[i]);
        memcpy(raw + o, tok->dec + tok->dec_off[ids[i]] + sk, tok->dec_len[ids[i]] - sk);
        o += tok->dec_len[ids[i]] - sk;
    }
    total = o;
    o = 0;
    rl__utf8_lossy(raw, total, 1, out, &o);
    RL_FREE(raw);
    out[o] = 0;
    *text = (char *)out;
    if (len) *len = o;
    return RL_OK;
}

RLDEF void rl_detok_init(rl_detok *d, int skip_special) {
    memset(d, 0, sizeof *d);
    d->skip_special = skip_special;
}

RLDEF void rl_detok_free(rl_detok *d) {
    RL_FREE(d->buf);
    memset(d, 0, sizeof *d);
}

RLDEF rl_status rl_detok_push(const rl_tokenizer *tok, rl_detok *d, int32_t id, const char **text, size_t *len) {
    unsigned char tmp[8];
    size_t n, o = 0, used, sk;
    const unsigned char *src;
    *text = "";
    *len = 0;
    if (!tok || !d) return rl__fail(RL_ERR_ARG, "rl_detok_push: NULL argument");
    sk = rl__tok_skipped(tok, id, d->skip_special) ? 0 : rl__sp_lead_space(tok, d->prev, id);
    d->prev = id;
    if (rl__tok_skipped(tok, id, d->skip_special)) return RL_OK;
    n = (size_t)d->n_pend + tok->dec_len[id] - sk;
    if (rl__tk_grow(&d->buf, &d->cap, 4 * n + 8, 1)) return rl__enc_nomem();
    /* pending bytes + the token, placed at the end of buf; output written from its start */
    src = (const unsigned char *)d->buf + 3 * n + 8 - n;
    memcpy((unsigned char *)src, d->pend, (size_t)d->n_pend);
    memcpy((unsigned char *)src + d->n_pend, tok->dec + tok->dec_off[id] + sk, tok->dec_len[id] - sk);
    used = rl__utf8_lossy(src, n, 0, (unsigned char *)d->buf, &o);
    d->n_pend = (int)(n - used); /* at most 3 bytes of a character still incomplete */
    memcpy(tmp, src + used, (size_t)d->n_pend);
    memcpy(d->pend, tmp, (size_t)d->n_pend);
    *text = d->buf;
    *len = o;
    return RL_OK;
}

RLDEF rl_status rl_detok_flush(rl_detok *d, const char **text, size_t *len) {
    size_t o = 0;
    *text = "";
    *len = 0;
    if (!d->n_pend) return RL_OK;
    if (rl__tk_grow(&d->buf, &d->cap, 16, 1)) return rl__enc_nomem();
    rl__utf8_lossy(d->pend, (size_t)d->n_pend, 1, (unsigned char *)d->buf, &o);
    d->n_pend = 0;
    *text = d->buf;
    *len = o;
    return RL_OK;
}

/* ---- tokenizer: queries ---- */

RLDEF int rl_tokenizer_vocab_size(const rl_tokenizer *tok) { return tok ? tok->n_ids : 0; }

RLDEF const char *rl_tokenizer_token(const rl_tokenizer *tok, int32_t id) {
    return tok && id >= 0 && id < tok->n_ids ? tok->id_str[id] : NULL;
}

RLDEF int32_t rl_tokenizer_id(const rl_tokenizer *tok, const char *token) {
    size_t n;
    int32_t i;
    if (!tok || !token) return -1;
    n = strlen(token);
    for (i = 0; i < tok->n_added; i++)
        if (tok->added[i].len == n && !memcmp(tok->added[i].s, token, n)) return tok->added[i].id;
    return rl__vocab_find(tok, token, n);
}

RLDEF int rl_tokenizer_token_type(const rl_tokenizer *tok, int32_t id) {
    return tok && id >= 0 && id < tok->n_ids ? tok->id_type[id] & ~RL__TOK_SKIP : 0;
}

RLDEF int rl_tokenizer_n_merges(const rl_tokenizer *tok) { return tok ? tok->n_merges : 0; }

RLDEF rl_status rl_tokenizer_merge(const rl_tokenizer *tok, int i, const char **a, const char **b) {
    if (!tok || i < 0 || i >= tok->n_merges)
        return rl__fail(RL_ERR_ARG, "rl_tokenizer_merge: merge %d out of range (%d merges)", i, tok ? tok->n_merges : 0);
    *a = tok->id_str[tok->merge[3 * i]];
    *b = tok->id_str[tok->merge[3 * i + 1]];
    return RL_OK;
}

RLDEF rl_pretok rl_tokenizer_pretok(const rl_tokenizer *tok) { return tok ? tok->pretok : RL_PRETOK_CUSTOM; }

RLDEF const char *rl_pretok_name(rl_pretok kind) {
    switch (kind) {
    case RL_PRETOK_GPT2: return "gpt2";
    case RL_PRETOK_LLAMA3: return "llama-bpe";
    case RL_PRETOK_QWEN2: return "qwen2";
    case RL_PRETOK_SMOLLM: return "smollm";
    default: return NULL;
    }
}

RLDEF rl_pretok rl_pretok_from_name(const char *name) {
    if (!name) return RL_PRETOK_CUSTOM;
    if (!strcmp(name, "gpt2") || !strcmp(name, "gpt-2")) return RL_PRETOK_GPT2; /* llama.cpp writes gpt-2 */
    if (!strcmp(name, "llama-bpe") || !strcmp(name, "llama3") || !strcmp(name, "llama-v3")) return RL_PRETOK_LLAMA3;
    if (!strcmp(name, "qwen2") || !strcmp(name, "deepseek-r1-qwen")) return RL_PRETOK_QWEN2;
    if (!strcmp(name, "smollm")) return RL_PRETOK_SMOLLM;
    return RL_PRETOK_CUSTOM;
}

RLDEF int32_t rl_tokenizer_bos(const rl_tokenizer *tok) { return tok && tok->n_prefix ? tok->prefix[0] : -1; }

/* ---- tokenizer: building ---- */

RLDEF void rl_tokenizer_free(rl_tokenizer *t) {
    int k;
    if (!t) return;
    while (t->strings) {
        rl__sblk *b = t->strings->next;
        RL_FREE(t->strings);
        t->strings = b;
    }
    RL_FREE(t->vent);
    RL_FREE(t->vslot);
    RL_FREE(t->merge);
    RL_FREE(t->mslot);
    RL_FREE(t->added);
    for (k = 0; k < 2; k++) RL_FREE(t->trie[k].node);
    RL_FREE(t->id_str);
    RL_FREE(t->id_len);
    RL_FREE(t->id_type);
    RL_FREE(t->dec_off);
    RL_FREE(t->dec_len);
    RL_FREE(t->dec);
    RL_FREE(t->prefix);
    RL_FREE(t->suffix);
    RL_FREE(t->sp_score);
    RL_FREE(t);
}

static rl_tokenizer *rl__tok_new(const char *source) {
    rl_tokenizer *t = (rl_tokenizer *)RL_MALLOC(sizeof *t);
    int b, k, n = 0;
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    snprintf(t->src_buf, sizeof t->src_buf, "%s", source ? source : "tokenizer.json");
    t->source = t->src_buf;
    t->unk = -1;
    t->pretok = RL_PRETOK_CUSTOM;
    for (k = 0; k < 2; k++)
        for (b = 0; b < 256; b++) t->trie[k].root[b] = -1;
    /* ByteLevel alphabet (GPT-2's bytes_to_unicode): printable bytes map to themselves, the
       other 68 to U+0100.. in byte order */
    for (b = 0; b < 256; b++) {
        uint32_t cp = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE ? (uint32_t)b : 0x100u + (uint32_t)n++;
        t->bchr_len[b] = (unsigned char)rl__utf8_put(t->bchr[b], cp);
        t->byte_id[b] = -1;
    }
    return t;
}

/* Add token s (n bytes) with id to model.vocab. 1 if the token was already there. */
static rl_status rl__tok_add_vocab(rl_tokenizer *t, const char *s, size_t n, int64_t id, const char *field) {
    size_t cap = (size_t)t->cap_vent;
    if (id < 0 || id >= RL__TOK_MAX_ID)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: id %lld out of range (0..%d)", t->source, field, (long long)id, RL__TOK_MAX_ID - 1);
    if (rl__tk_grow(&t->vent, &cap, (size_t)t->n_vent + 1, sizeof(rl__vent))) return rl__enc_nomem();
    t->cap_vent = (int32_t)cap;
    t->vent[t->n_vent].s = rl__tok_strdup(t, s, n);
    if (!t->vent[t->n_vent].s) return rl__enc_nomem();
    t->vent[t->n_vent].len = (uint32_t)n;
    t->vent[t->n_vent].id = (int32_t)id;
    t->n_vent++;
    return RL_OK;
}

/* Hash the vocabulary; duplicate ids are an error (HF's id_to_token would be ambiguous). */
static rl_status rl__tok_index_vocab(rl_tokenizer *t, const char *field) {
    uint32_t size = 16, i;
    int32_t max_id = -1, *owner;
    while (size < 2u * (uint32_t)t->n_vent + 2) size *= 2;
    t->vslot = (int32_t *)RL_MALLOC(size * sizeof(int32_t));
    if (!t->vslot) return rl__enc_nomem();
    memset(t->vslot, 0xFF, size * sizeof(int32_t));
    t->vmask = size - 1;
    for (i = 0; i < (uint32_t)t->n_vent; i++) {
        const rl__vent *v = &t->vent[i];
        uint32_t h = (uint32_t)rl__tk_hash(v->s, v->len) & t->vmask;
        for (;; h = (h + 1) & t->vmask) {
            int32_t k = t->vslot[h];
            if (k < 0) {
                t->vslot[h] = (int32_t)i;
                break;
            }
            if (t->vent[k].len == v->len && !memcmp(t->vent[k].s, v->s, v->len))
                return rl__fail(RL_ERR_FORMAT, "%s: %s: token '%.60s' appears twice", t->source, field, v->s);
        }
        if (v->id > max_id) max_id = v->id;
    }
    if ((int64_t)max_id >= 2 * (int64_t)t->n_vent + 65536)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: ids are too sparse (largest %d for %d tokens)", t->source, field, max_id,
                        t->n_vent);
    owner = (int32_t *)RL_MALLOC(((size_t)max_id + 1) * sizeof(int32_t));
    if (!owner) return rl__enc_nomem();
    memset(owner, 0xFF, ((size_t)max_id + 1) * sizeof(int32_t));
    for (i = 0; i < (uint32_t)t->n_vent; i++) {
        int32_t id = t->vent[i].id;
        if (owner[id] >= 0) {
            rl_status st = rl__fail(RL_ERR_FORMAT, "%s: %s: tokens '%.40s' and '%.40s' both have id %d", t->source, field,
                                    t->vent[owner[id]].s, t->vent[i].s, id);
            RL_FREE(owner);
            return st;
        }
        owner[id] = (int32_t)i;
    }
    RL_FREE(owner);
    return RL_OK;
}

/* Merge a + b (HF: a, b and a+b must all be in model.vocab). */
static rl_status rl__tok_add_merge(rl_tokenizer *t, const char *a, size_t na, const char *b, size_t nb, const char *field) {
    int32_t ia = rl__vocab_find(t, a, na), ib = rl__vocab_find(t, b, nb), ic;
    size_t cap = (size_t)t->cap_merges;
    char buf[512], *ab = buf;
    if (ia < 0 || ib < 0)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: token '%.60s' is not in model.vocab", t->source, field, ia < 0 ? a : b);
    if (na + nb > sizeof buf && !(ab = (char *)RL_MALLOC(na + nb))) return rl__enc_nomem();
    memcpy(ab, a, na);
    memcpy(ab + na, b, nb);
    ic = rl__vocab_find(t, ab, na + nb);
    if (ab != buf) RL_FREE(ab);
    if (ic < 0)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: the merged token '%.60s%.60s' is not in model.vocab", t->source, field, a, b);
    if (rl__tk_grow(&t->merge, &cap, 3 * ((size_t)t->n_merges + 1), sizeof(int32_t))) return rl__enc_nomem();
    t->cap_merges = (int32_t)cap;
    t->merge[3 * t->n_merges] = ia;
    t->merge[3 * t->n_merges + 1] = ib;
    t->merge[3 * t->n_merges + 2] = ic;
    t->n_merges++;
    return RL_OK;
}

static rl_status rl__tok_index_merges(rl_tokenizer *t) {
    uint32_t size = 16;
    int32_t i;
    while (size < 2u * (uint32_t)t->n_merges + 2) size *= 2;
    t->mslot = (rl__mslot *)RL_MALLOC(size * sizeof(rl__mslot));
    if (!t->mslot) return rl__enc_nomem();
    memset(t->mslot, 0xFF, size * sizeof(rl__mslot));
    t->mmask = size - 1;
    for (i = 0; i < t->n_merges; i++) {
        int32_t a = t->merge[3 * i], b = t->merge[3 * i + 1];
        uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        uint32_t h = rl__pair_hash(a, b) & t->mmask;
        while (t->mslot[h].key != UINT64_MAX && t->mslot[h].key != key) h = (h + 1) & t->mmask;
        t->mslot[h].key = key; /* a repeated pair: the later rank wins, as in HF's HashMap */
        t->mslot[h].rank = i;
        t->mslot[h].id = t->merge[3 * i + 2];
    }
    return RL_OK;
}

/* Add an added token as HF's AddedVocabulary::add_tokens does: the JSON id is not used (HF
   only warns when it differs); a token already in model.vocab keeps its vocab id, a new one
   gets the next id after model.vocab's size and the added tokens so far. */
static rl_status rl__tok_add_added(rl_tokenizer *t, const char *s, size_t n, int single_word, int lstrip, int rstrip,
                                   int normalized, int special) {
    int32_t i, id = -1, max = -1;
    size_t cap = (size_t)t->cap_added;
    rl__added *a;
    if (n == 0) return RL_OK; /* HF ignores empty tokens */
    for (i = 0; i < t->n_added; i++) {
        a = &t->added[i];
        if (a->len == n && !memcmp(a->s, s, n)) { /* re-added: new flags, same id, special sticks */
            a->single_word = (unsigned char)single_word;
            a->lstrip = (unsigned char)lstrip;
            a->rstrip = (unsigned char)rstrip;
            a->special = (unsigned char)(a->special || special);
            return RL_OK;
        }
        if (a->id > max) max = a->id;
    }
    id = rl__vocab_find(t, s, n);
    if (id < 0) {
        if (t->n_added == 0) id = t->n_vent;
        else id = max >= t->n_vent || t->n_vent == 0 ? max + 1 : t->n_vent;
    }
    if (id >= RL__TOK_MAX_ID) return rl__fail(RL_ERR_FORMAT, "%s: added_tokens: too many tokens", t->source);
    if (rl__tk_grow(&t->added, &cap, (size_t)t->n_added + 1, sizeof(rl__added))) return rl__enc_nomem();
    t->cap_added = (int32_t)cap;
    a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    if (!(a->s = rl__tok_strdup(t, s, n))) return rl__enc_nomem();
    a->len = (uint32_t)n;
    a->id = id;
    a->single_word = (unsigned char)single_word;
    a->lstrip = (unsigned char)lstrip;
    a->rstrip = (unsigned char)rstrip;
    a->normalized = (unsigned char)normalized;
    a->special = (unsigned char)special;
    t->n_added++;
    return RL_OK;
}

static rl_status rl__trie_add(rl__trie *tr, const unsigned char *s, size_t n, int32_t pat) {
    size_t i, cap = (size_t)tr->cap;
    int32_t node = -1, *link;
    for (i = 0; i < n; i++) {
        /* room for one more node first, so that `link` cannot move */
        if (tr->n >= RL__TOK_MAX_ID || rl__tk_grow(&tr->node, &cap, (size_t)tr->n + 1, sizeof(rl__tnode))) return rl__enc_nomem();
        tr->cap = (int32_t)cap;
        link = node < 0 ? &tr->root[s[i]] : &tr->node[node].child;
        while (*link >= 0 && tr->node[*link].byte != s[i]) link = &tr->node[*link].sibling;
        if (*link < 0) {
            rl__tnode *nd = &tr->node[tr->n];
            nd->child = nd->sibling = nd->pat = -1;
            nd->byte = s[i];
            *link = tr->n++;
        }
        node = *link;
    }
    if (node >= 0 && tr->node[node].pat < 0) tr->node[node].pat = pat; /* the first of equal patterns */
    tr->n_pat++;
    return RL_OK;
}

/* Everything that follows from the vocabulary: per-id tables, byte symbols, decoder bytes,
   added-token tries, the merge index. */
static rl_status rl__tok_finish(rl_tokenizer *t) {
    int32_t i, max_id = -1;
    int b, pass;
    size_t total = 0, o = 0;
    int16_t inv[0x144];
    rl_status st;
    rl__enc e;
    /* normalized added tokens are matched, and decoded (as HF's id_to_token gives them), in
       their normalized form */
    memset(&e, 0, sizeof e);
    e.t = t;
    for (i = 0; i < t->n_added; i++) {
        rl__added *a = &t->added[i];
        const unsigned char *s = (const unsigned char *)a->s;
        size_t n = a->len;
        a->norm = a->s;
        a->norm_len = a->len;
        if (!a->normalized || !t->nfc) continue;
        if ((st = rl__nfc(&e, s, n, &s, &n)) != RL_OK || !(a->norm = rl__tok_strdup(t, (const char *)s, n))) {
            rl__enc_free(&e);
            return st ? st : rl__enc_nomem();
        }
        a->norm_len = (uint32_t)n;
    }
    rl__enc_free(&e);
    for (i = 0; i < t->n_vent; i++) max_id = RL__MAX(max_id, t->vent[i].id);
    for (i = 0; i < t->n_added; i++) max_id = RL__MAX(max_id, t->added[i].id);
    t->n_ids = max_id + 1;
    for (i = 0; i < t->n_prefix + t->n_suffix; i++) {
        int32_t id = i < t->n_prefix ? t->prefix[i] : t->suffix[i - t->n_prefix];
        if (id < 0 || id >= t->n_ids)
            return rl__fail(RL_ERR_FORMAT, "%s: post_processor: template id %d is not a token (vocabulary has %d ids)",
                            t->source, id, t->n_ids);
    }
    t->id_str = (const char **)RL_MALLOC(((size_t)t->n_ids + 1) * sizeof(char *));
    t->id_len = (uint32_t *)RL_MALLOC(((size_t)t->n_ids + 1) * sizeof(uint32_t));
    t->id_type = (unsigned char *)RL_MALLOC((size_t)t->n_ids + 1);
    t->dec_off = (uint32_t *)RL_MALLOC(((size_t)t->n_ids + 1) * sizeof(uint32_t));
    t->dec_len = (uint32_t *)RL_MALLOC(((size_t)t->n_ids + 1) * sizeof(uint32_t));
    if (!t->id_str || !t->id_len || !t->id_type || !t->dec_off || !t->dec_len) return rl__enc_nomem();
    for (i = 0; i < t->n_ids; i++) {
        t->id_str[i] = NULL;
        t->id_len[i] = 0;
        t->id_type[i] = RL_TOKEN_UNUSED;
    }
    for (i = 0; i < t->n_vent; i++) {
        t->id_str[t->vent[i].id] = t->vent[i].s;
        t->id_len[t->vent[i].id] = t->vent[i].len;
        t->id_type[t->vent[i].id] = t->vent[i].id == t->unk ? RL_TOKEN_UNKNOWN : RL_TOKEN_NORMAL;
    }
    for (i = 0; i < t->n_added; i++) { /* HF's id_to_token looks at added tokens first */
        const rl__added *a = &t->added[i];
        t->id_str[a->id] = a->norm;
        t->id_len[a->id] = a->norm_len;
        t->id_type[a->id] = a->special ? RL_TOKEN_CONTROL : RL_TOKEN_USER_DEFINED;
        /* decode(skip_special) drops a token whose string is a special token's content (HF
           compares the normalized string with the original content) */
        if (a->special && a->norm_len == a->len && !memcmp(a->norm, a->s, a->len)) t->id_type[a->id] |= RL__TOK_SKIP;
    }
    for (b = 0; b < 256; b++) t->byte_id[b] = rl__vocab_find(t, (const char *)t->bchr[b], t->bchr_len[b]);
    /* ByteLevel decoder: each character of a token back to its byte; a token with any other
       character is passed through as its UTF-8 bytes */
    for (i = 0; i < 0x144; i++) inv[i] = -1;
    for (b = 0; b < 256; b++) {
        uint32_t cp;
        rl__utf8_next(t->bchr[b], t->bchr_len[b], &cp);
        inv[cp] = (int16_t)b;
    }
    for (i = 0; i < t->n_ids; i++) total += t->id_len[i];
    if (total >= 0xFFFFFFFFu) return rl__fail(RL_ERR_FORMAT, "%s: vocabulary too large", t->source);
    if (!(t->dec = (unsigned char *)RL_MALLOC(total + 1))) return rl__enc_nomem();
    for (i = 0; i < t->n_ids; i++) {
        const unsigned char *s = (const unsigned char *)t->id_str[i];
        size_t n = t->id_len[i], k, l, start = o;
        uint32_t cp;
        int ok = 1;
        t->dec_off[i] = (uint32_t)o;
        for (k = 0; k < n && ok; k += l) {
            l = rl__utf8_next(s + k, n - k, &cp);
            if (cp < 0x144 && inv[cp] >= 0) t->dec[o++] = (unsigned char)inv[cp];
            else ok = 0;
        }
        if (!ok) {
            o = start;
            memcpy(t->dec + o, s, n);
            o += n;
        }
        t->dec_len[i] = (uint32_t)(o - start);
    }
    /* added-token tries */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < t->n_added; i++) {
            const rl__added *a = &t->added[i];
            if (a->normalized == pass && a->norm_len &&
                (st = rl__trie_add(&t->trie[pass], (const unsigned char *)a->norm, a->norm_len, i)) != RL_OK)
                return st;
        }
    return rl__tok_index_merges(t);
}

/* The preset a pipeline matches, for GGUF's tokenizer.ggml.pre. */
static rl_pretok rl__tok_detect(const rl_tokenizer *t) {
    if (t->n_stages == 1 && t->stage_kind[0] == RL__PT_SPLIT_LLAMA)
        return t->stage_arg[0] == 1 && t->nfc ? RL_PRETOK_QWEN2 : t->stage_arg[0] == 3 && !t->nfc ? RL_PRETOK_LLAMA3 : RL_PRETOK_CUSTOM;
    if (t->nfc) return RL_PRETOK_CUSTOM;
    if (t->n_stages == 1 && t->stage_kind[0] == RL__PT_SPLIT_GPT2) return RL_PRETOK_GPT2;
    if (t->n_stages == 2 && t->stage_kind[0] == RL__PT_DIGITS && t->stage_arg[0] == 1 && t->stage_kind[1] == RL__PT_SPLIT_GPT2)
        return RL_PRETOK_SMOLLM;
    return RL_PRETOK_CUSTOM;
}

static rl_status rl__tok_add_stage(rl_tokenizer *t, int kind, int arg, const char *path) {
    if (t->n_stages == RL__TOK_MAX_STAGES)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: more than %d pre-tokenizers", t->source, path, RL__TOK_MAX_STAGES);
    t->stage_kind[t->n_stages] = (unsigned char)kind;
    t->stage_arg[t->n_stages] = (unsigned char)arg;
    t->n_stages++;
    return RL_OK;
}

/* ---- tokenizer: tokenizer.json ---- */

static const char rl__re_qwen2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char rl__re_llama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char rl__re_gpt2s[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* obj["type"] as a string ("" if absent), or an error naming path.type. */
static rl_status rl__tok_type(const rl_tokenizer *t, const rl_json *obj, const char *path, const char **type) {
    char f[320];
    const rl_json *v;
    snprintf(f, sizeof f, "%s", path);
    if (rl_json_expect(obj, RL_JSON_OBJ, t->source, f)) return RL_ERR_FORMAT;
    v = rl_json_get(obj, "type");
    *type = "";
    if (!v) return RL_OK;
    snprintf(f, sizeof f, "%s.type", path);
    return rl_json_as_str(v, t->source, f, type);
}

static int rl__json_is_null(const rl_json *v) { return !v || v->type == RL_JSON_NULL; }

/* A boolean member (dflt when absent or null). */
static rl_status rl__tok_bool(const rl_tokenizer *t, const rl_json *obj, const char *path, const char *key, int dflt, int *out) {
    char f[320];
    const rl_json *v = rl_json_get(obj, key);
    *out = dflt;
    if (rl__json_is_null(v)) return RL_OK;
    snprintf(f, sizeof f, "%s.%s", path, key);
    return rl_json_as_bool(v, t->source, f, out);
}

static rl_status rl__tok_normalizer(rl_tokenizer *t, const rl_json *n, const char *path) {
    const char *type;
    char f[320];
    int64_t i;
    if (rl__json_is_null(n)) return RL_OK;
    if (rl__tok_type(t, n, path, &type)) return RL_ERR_FORMAT;
    if (!strcmp(type, "NFC")) {
        t->nfc = 1;
        return RL_OK;
    }
    if (!strcmp(type, "Sequence")) {
        const rl_json *list = rl_json_get(n, "normalizers");
        snprintf(f, sizeof f, "%s.normalizers", path);
        if (rl_json_expect(list, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
        for (i = 0; i < list->n; i++) {
            rl_status st;
            snprintf(f, sizeof f, "%s.normalizers[%lld]", path, (long long)i);
            if ((st = rl__tok_normalizer(t, &list->kids[i], f)) != RL_OK) return st;
        }
        return RL_OK;
    }
    return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.type: '%.40s' is not supported (supported: NFC, Sequence)", t->source, path, type);
}

static rl_status rl__tok_pretokenizer(rl_tokenizer *t, const rl_json *p, const char *path, int *byte_level) {
    const char *type;
    char f[320];
    int64_t i;
    int flag;
    if (rl__tok_type(t, p, path, &type)) return RL_ERR_FORMAT;
    if (!strcmp(type, "Sequence")) {
        const rl_json *list = rl_json_get(p, "pretokenizers");
        snprintf(f, sizeof f, "%s.pretokenizers", path);
        if (rl_json_expect(list, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
        for (i = 0; i < list->n; i++) {
            rl_status st;
            snprintf(f, sizeof f, "%s.pretokenizers[%lld]", path, (long long)i);
            if ((st = rl__tok_pretokenizer(t, &list->kids[i], f, byte_level)) != RL_OK) return st;
        }
        return RL_OK;
    }
    if (*byte_level && (!strcmp(type, "Split") || !strcmp(type, "Digits") || !strcmp(type, "ByteLevel")))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: a pre-tokenizer after ByteLevel is not supported", t->source, path);
    if (!strcmp(type, "ByteLevel")) {
        if (rl__tok_bool(t, p, path, "add_prefix_space", 0, &flag)) return RL_ERR_FORMAT;
        if (flag)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.add_prefix_space: true is not supported", t->source, path);
        if (rl__tok_bool(t, p, path, "use_regex", 1, &flag)) return RL_ERR_FORMAT;
        *byte_level = 1;
        return flag ? rl__tok_add_stage(t, RL__PT_SPLIT_GPT2, 0, path) : RL_OK;
    }
    if (!strcmp(type, "Digits")) {
        if (rl__tok_bool(t, p, path, "individual_digits", 0, &flag)) return RL_ERR_FORMAT;
        return rl__tok_add_stage(t, RL__PT_DIGITS, flag, path);
    }
    if (!strcmp(type, "Split")) {
        const rl_json *pat = rl_json_get(p, "pattern"), *re;
        const char *beh = "", *rs = "";
        snprintf(f, sizeof f, "%s.pattern", path);
        if (rl_json_expect(pat, RL_JSON_OBJ, t->source, f)) return RL_ERR_FORMAT;
        re = rl_json_get(pat, "Regex");
        if (!re)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.pattern: only a \"Regex\" pattern is supported", t->source, path);
        snprintf(f, sizeof f, "%s.pattern.Regex", path);
        if (rl_json_as_str(re, t->source, f, &rs)) return RL_ERR_FORMAT;
        snprintf(f, sizeof f, "%s.behavior", path);
        if (rl_json_as_str(rl_json_get(p, "behavior"), t->source, f, &beh)) return RL_ERR_FORMAT;
        if (strcmp(beh, "Isolated"))
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.behavior: '%.40s' is not supported (supported: Isolated)", t->source,
                            path, beh);
        if (rl__tok_bool(t, p, path, "invert", 0, &flag)) return RL_ERR_FORMAT;
        if (flag) return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.invert: true is not supported", t->source, path);
        if ((size_t)re->n == strlen(rl__re_qwen2) && !strcmp(rs, rl__re_qwen2)) return rl__tok_add_stage(t, RL__PT_SPLIT_LLAMA, 1, path);
        if ((size_t)re->n == strlen(rl__re_llama3) && !strcmp(rs, rl__re_llama3)) return rl__tok_add_stage(t, RL__PT_SPLIT_LLAMA, 3, path);
        if ((size_t)re->n == strlen(rl__re_gpt2s) && !strcmp(rs, rl__re_gpt2s)) return rl__tok_add_stage(t, RL__PT_SPLIT_GPT2, 0, path);
        return rl__fail(RL_ERR_UNSUPPORTED,
                        "%s: %s.pattern.Regex: '%.80s' is not supported (supported: the Qwen2, Llama-3 and GPT-2 patterns)",
                        t->source, path, rs);
    }
    return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.type: '%.40s' is not supported (supported: ByteLevel, Split, Digits, Sequence)",
                    t->source, path, type);
}

static rl_status rl__tok_push_ids(int32_t **arr, int32_t *n, const int32_t *ids, int64_t k) {
    size_t cap = (size_t)*n;
    int64_t i;
    if (*n + k > 4096) return rl__fail(RL_ERR_UNSUPPORTED, "tokenizer: post-processor template too long");
    if (rl__tk_grow(arr, &cap, (size_t)(*n + k) + 1, sizeof(int32_t))) return rl__enc_nomem();
    for (i = 0; i < k; i++) (*arr)[(*n)++] = ids[i];
    return RL_OK;
}

static rl_status rl__tok_postproc(rl_tokenizer *t, const rl_json *p, const char *path) {
    const char *type;
    char f[320];
    int64_t i, j;
    rl_status st;
    if (rl__json_is_null(p)) return RL_OK;
    if (rl__tok_type(t, p, path, &type)) return RL_ERR_FORMAT;
    if (!strcmp(type, "ByteLevel")) return RL_OK; /* offsets only */
    if (!strcmp(type, "Sequence")) {
        const rl_json *list = rl_json_get(p, "processors");
        snprintf(f, sizeof f, "%s.processors", path);
        if (rl_json_expect(list, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
        for (i = 0; i < list->n; i++) {
            snprintf(f, sizeof f, "%s.processors[%lld]", path, (long long)i);
            if ((st = rl__tok_postproc(t, &list->kids[i], f)) != RL_OK) return st;
        }
        return RL_OK;
    }
    if (!strcmp(type, "TemplateProcessing")) {
        const rl_json *single = rl_json_get(p, "single"), *specials = rl_json_get(p, "special_tokens");
        int seen_a = 0;
        if (t->n_prefix || t->n_suffix)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: a second TemplateProcessing is not supported", t->source, path);
        snprintf(f, sizeof f, "%s.single", path);
        if (rl_json_expect(single, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
        for (i = 0; i < single->n; i++) {
            const rl_json *it = &single->kids[i], *sp, *seq, *def, *ids;
            const char *name = "";
            int32_t buf[64];
            snprintf(f, sizeof f, "%s.single[%lld]", path, (long long)i);
            if (rl_json_expect(it, RL_JSON_OBJ, t->source, f)) return RL_ERR_FORMAT;
            sp = rl_json_get(it, "SpecialToken");
            seq = rl_json_get(it, "Sequence");
            if (seq) {
                snprintf(f, sizeof f, "%s.single[%lld].Sequence", path, (long long)i);
                if (rl_json_expect(seq, RL_JSON_OBJ, t->source, f) || rl_json_get_str(seq, "id", t->source, &name))
                    return RL_ERR_FORMAT;
                if (strcmp(name, "A") || seen_a)
                    return rl__fail(RL_ERR_FORMAT, "%s: %s: the single template takes sequence A once", t->source, f);
                seen_a = 1;
                continue;
            }
            if (!sp) return rl__fail(RL_ERR_FORMAT, "%s: %s: expected SpecialToken or Sequence", t->source, f);
            snprintf(f, sizeof f, "%s.single[%lld].SpecialToken", path, (long long)i);
            if (rl_json_expect(sp, RL_JSON_OBJ, t->source, f) || rl_json_get_str(sp, "id", t->source, &name))
                return RL_ERR_FORMAT;
            def = rl__json_is_null(specials) ? NULL : rl_json_get(specials, name);
            if (!def)
                return rl__fail(RL_ERR_FORMAT, "%s: %s.special_tokens: '%.60s' (used by single[%lld]) is missing", t->source,
                                path, name, (long long)i);
            ids = rl_json_get(def, "ids");
            snprintf(f, sizeof f, "%s.special_tokens.%.60s.ids", path, name);
            if (rl_json_expect(ids, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
            if (ids->n > 64) return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: more than 64 ids", t->source, f);
            for (j = 0; j < ids->n; j++) {
                int64_t v;
                if (rl_json_as_int(&ids->kids[j], t->source, f, &v)) return RL_ERR_FORMAT;
                if (v < 0 || v >= RL__TOK_MAX_ID) return rl__fail(RL_ERR_FORMAT, "%s: %s: id %lld out of range", t->source, f, (long long)v);
                buf[j] = (int32_t)v;
            }
            st = seen_a ? rl__tok_push_ids(&t->suffix, &t->n_suffix, buf, ids->n) : rl__tok_push_ids(&t->prefix, &t->n_prefix, buf, ids->n);
            if (st) return st;
        }
        if (!seen_a) return rl__fail(RL_ERR_FORMAT, "%s: %s.single: no Sequence A", t->source, path);
        return RL_OK;
    }
    return rl__fail(RL_ERR_UNSUPPORTED,
                    "%s: %s.type: '%.40s' is not supported (supported: ByteLevel, TemplateProcessing, Sequence)", t->source,
                    path, type);
}

static rl_status rl__tok_decoder(rl_tokenizer *t, const rl_json *d, const char *path) {
    const char *type;
    char f[320];
    if (rl__json_is_null(d))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: null is not supported (supported: ByteLevel)", t->source, path);
    if (rl__tok_type(t, d, path, &type)) return RL_ERR_FORMAT;
    if (!strcmp(type, "ByteLevel")) return RL_OK;
    if (!strcmp(type, "Sequence")) {
        const rl_json *list = rl_json_get(d, "decoders");
        snprintf(f, sizeof f, "%s.decoders", path);
        if (rl_json_expect(list, RL_JSON_ARR, t->source, f)) return RL_ERR_FORMAT;
        if (list->n != 1)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s: only a single ByteLevel decoder is supported", t->source, f);
        snprintf(f, sizeof f, "%s.decoders[0]", path);
        return rl__tok_decoder(t, &list->kids[0], f);
    }
    return rl__fail(RL_ERR_UNSUPPORTED, "%s: %s.type: '%.40s' is not supported (supported: ByteLevel)", t->source, path, type);
}

static rl_status rl__tok_model(rl_tokenizer *t, const rl_json *m) {
    const char *type, *s = "";
    const rl_json *vocab, *merges, *v;
    char f[320];
    int64_t i;
    int flag;
    rl_status st;
    if (!m) return rl__fail(RL_ERR_FORMAT, "%s: model: missing (expected an object)", t->source);
    if (rl__tok_type(t, m, "model", &type)) return RL_ERR_FORMAT;
    if (*type && strcmp(type, "BPE"))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: model.type: '%.40s' is not supported (supported: BPE)", t->source, type);
    v = rl_json_get(m, "dropout");
    if (!rl__json_is_null(v) && !(v->type == RL_JSON_NUM && v->num == 0))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: model.dropout: BPE dropout is not supported (expected null)", t->source);
    if (rl__tok_bool(t, m, "model", "byte_fallback", 0, &flag)) return RL_ERR_FORMAT;
    if (flag) return rl__fail(RL_ERR_UNSUPPORTED, "%s: model.byte_fallback: true is not supported (byte-level BPE only)", t->source);
    if (rl__tok_bool(t, m, "model", "fuse_unk", 0, &t->fuse_unk) ||
        rl__tok_bool(t, m, "model", "ignore_merges", 0, &t->ignore_merges))
        return RL_ERR_FORMAT;
    if (rl_json_get_str_or(m, "continuing_subword_prefix", t->source, "", &s)) return RL_ERR_FORMAT;
    if (*s) return rl__fail(RL_ERR_UNSUPPORTED, "%s: model.continuing_subword_prefix: '%.40s' is not supported", t->source, s);
    if (rl_json_get_str_or(m, "end_of_word_suffix", t->source, "", &s)) return RL_ERR_FORMAT;
    if (*s) return rl__fail(RL_ERR_UNSUPPORTED, "%s: model.end_of_word_suffix: '%.40s' is not supported", t->source, s);
    vocab = rl_json_get(m, "vocab");
    if (rl_json_expect(vocab, RL_JSON_OBJ, t->source, "model.vocab")) return RL_ERR_FORMAT;
    for (i = 0; i < vocab->n; i++) {
        const rl_json *v = &vocab->kids[i];
        if (v->type != RL_JSON_NUM || !v->is_int || v->i < 0 || v->i >= RL__TOK_MAX_ID) {
            int64_t id;
            snprintf(f, sizeof f, "model.vocab[\"%.60s\"]", vocab->keys[i]);
            if (rl_json_as_int(v, t->source, f, &id)) return RL_ERR_FORMAT;
            return rl__fail(RL_ERR_FORMAT, "%s: %s: id %lld out of range (0..%d)", t->source, f, (long long)id, RL__TOK_MAX_ID - 1);
        }
        if ((st = rl__tok_add_vocab(t, vocab->keys[i], (size_t)vocab->klen[i], v->i, "model.vocab")) != RL_OK) return st;
    }
    if ((st = rl__tok_index_vocab(t, "model.vocab")) != RL_OK) return st;
    v = rl_json_get(m, "unk_token");
    if (!rl__json_is_null(v)) {
        if (rl_json_as_str(v, t->source, "model.unk_token", &s)) return RL_ERR_FORMAT;
        t->unk = rl__vocab_find(t, s, (size_t)v->n); /* absent: unknown bytes vanish (HF errors only if one occurs) */
    }
    merges = rl_json_get(m, "merges");
    if (rl_json_expect(merges, RL_JSON_ARR, t->source, "model.merges")) return RL_ERR_FORMAT;
    for (i = 0; i < merges->n; i++) {
        const rl_json *it = &merges->kids[i];
        snprintf(f, sizeof f, "model.merges[%lld]", (long long)i);
        if (it->type == RL_JSON_STR) { /* legacy "a b" */
            const char *sp = (const char *)memchr(it->str, ' ', (size_t)it->n);
            if (it->n >= 8 && !memcmp(it->str, "#version", 8)) continue;
            if (!sp || memchr(sp + 1, ' ', (size_t)(it->str + it->n - sp - 1)))
                return rl__fail(RL_ERR_FORMAT, "%s: %s: '%.60s' is not two tokens separated by one space", t->source, f, it->str);
            st = rl__tok_add_merge(t, it->str, (size_t)(sp - it->str), sp + 1, (size_t)(it->str + it->n - sp - 1), f);
        } else if (it->type == RL_JSON_ARR && it->n == 2 && it->kids[0].type == RL_JSON_STR && it->kids[1].type == RL_JSON_STR) {
            st = rl__tok_add_merge(t, it->kids[0].str, (size_t)it->kids[0].n, it->kids[1].str, (size_t)it->kids[1].n, f);
        } else {
            return rl__fail(RL_ERR_FORMAT, "%s: %s: expected \"a b\" or [\"a\", \"b\"], got %s", t->source, f,
                            rl_json_type_name(it->type));
        }
        if (st) return st;
    }
    return RL_OK;
}

static rl_status rl__tok_from_json(rl_tokenizer *t, const rl_json *root) {
    const rl_json *v, *added;
    const char *s = "";
    char f[320];
    int64_t i;
    int byte_level = 0;
    rl_status st;
    if (root->type != RL_JSON_OBJ)
        return rl__fail(RL_ERR_FORMAT, "%s: expected a JSON object at the top, got %s", t->source, rl_json_type_name(root->type));
    v = rl_json_get(root, "version");
    if (v) {
        if (rl_json_as_str(v, t->source, "version", &s)) return RL_ERR_FORMAT;
        if (strcmp(s, "1.0")) return rl__fail(RL_ERR_UNSUPPORTED, "%s: version: '%.20s' is not supported (expected \"1.0\")", t->source, s);
    }
    if ((st = rl__tok_model(t, rl_json_get(root, "model"))) != RL_OK) return st;
    added = rl_json_get(root, "added_tokens");
    if (!rl__json_is_null(added)) {
        if (rl_json_expect(added, RL_JSON_ARR, t->source, "added_tokens")) return RL_ERR_FORMAT;
        for (i = 0; i < added->n; i++) {
            const rl_json *a = &added->kids[i], *c;
            int sw, ls, rs, norm, sp;
            int64_t id;
            snprintf(f, sizeof f, "added_tokens[%lld]", (long long)i);
            if (rl_json_expect(a, RL_JSON_OBJ, t->source, f)) return RL_ERR_FORMAT;
            c = rl_json_get(a, "content");
            snprintf(f, sizeof f, "added_tokens[%lld].content", (long long)i);
            if (rl_json_as_str(c, t->source, f, &s)) return RL_ERR_FORMAT;
            snprintf(f, sizeof f, "added_tokens[%lld]", (long long)i);
            if (rl_json_get_int(a, "id", t->source, &id) || rl__tok_bool(t, a, f, "single_word", 0, &sw) ||
                rl__tok_bool(t, a, f, "lstrip", 0, &ls) || rl__tok_bool(t, a, f, "rstrip", 0, &rs) ||
                rl__tok_bool(t, a, f, "normalized", 1, &norm) || rl__tok_bool(t, a, f, "special", 0, &sp))
                return RL_ERR_FORMAT;
            if ((st = rl__tok_add_added(t, s, (size_t)c->n, sw, ls, rs, norm, sp)) != RL_OK) return st;
        }
    }
    if ((st = rl__tok_normalizer(t, rl_json_get(root, "normalizer"), "normalizer")) != RL_OK) return st;
    v = rl_json_get(root, "pre_tokenizer");
    if (rl__json_is_null(v))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: pre_tokenizer: null is not supported (byte-level BPE needs a ByteLevel pre-tokenizer)",
                        t->source);
    if ((st = rl__tok_pretokenizer(t, v, "pre_tokenizer", &byte_level)) != RL_OK) return st;
    if (!byte_level)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: pre_tokenizer: no ByteLevel pre-tokenizer (only byte-level BPE is supported)",
                        t->source);
    if ((st = rl__tok_postproc(t, rl_json_get(root, "post_processor"), "post_processor")) != RL_OK) return st;
    if ((st = rl__tok_decoder(t, rl_json_get(root, "decoder"), "decoder")) != RL_OK) return st;
    if ((st = rl__tok_finish(t)) != RL_OK) return st;
    t->pretok = rl__tok_detect(t);
    return RL_OK;
}

RLDEF rl_status rl_tokenizer_load_mem(rl_tokenizer **tok, const char *json, size_t len, const char *source) {
    rl_json_doc doc;
    rl_tokenizer *t;
    rl_status st;
    if (!tok) return rl__fail(RL_ERR_ARG, "rl_tokenizer_load_mem: NULL argument");
    *tok = NULL;
    if (!json && len) return rl__fail(RL_ERR_ARG, "rl_tokenizer_load_mem: NULL text");
    if (!source) source = "tokenizer.json";
    if ((st = rl_json_parse(&doc, json ? json : "", len, source)) != RL_OK) return st;
    t = rl__tok_new(source);
    st = t ? rl__tok_from_json(t, &doc.root) : rl__enc_nomem();
    rl_json_free(&doc);
    if (st) {
        rl_tokenizer_free(t);
        return st;
    }
    *tok = t;
    return RL_OK;
}

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_tokenizer_load(rl_tokenizer **tok, const char *path) {
    rl_json_doc doc;
    rl_tokenizer *t;
    rl_status st;
    char buf[4096];
    FILE *f;
    if (!tok || !path) return rl__fail(RL_ERR_ARG, "rl_tokenizer_load: NULL argument");
    *tok = NULL;
    snprintf(buf, sizeof buf, "%s/tokenizer.json", path); /* a model folder? */
    if ((f = fopen(buf, "rb")) != NULL) fclose(f);
    else {
        snprintf(buf, sizeof buf, "%s/tokenizer.bin", path); /* a folder imported from llama2.c */
        if ((f = fopen(buf, "rb")) != NULL) {
            fclose(f);
            return rl_tokenizer_load_llama2c(tok, buf, 0);
        }
        snprintf(buf, sizeof buf, "%s", path);
    }
    if ((st = rl_json_parse_file(&doc, buf, 0)) != RL_OK) return st;
    t = rl__tok_new(buf);
    st = t ? rl__tok_from_json(t, &doc.root) : rl__enc_nomem();
    rl_json_free(&doc);
    if (st) {
        rl_tokenizer_free(t);
        return st;
    }
    *tok = t;
    return RL_OK;
}
#endif

RLDEF rl_status rl_tokenizer_from_vocab(rl_tokenizer **tok, int n_vocab, const char *const *tokens,
                                  const int32_t *token_types, int n_merges, const char *const *merges,
                                  rl_pretok kind, int32_t bos_id, int add_bos) {
    rl_tokenizer *t;
    rl_status st = RL_OK;
    char f[64];
    int i;
    if (!tok) return rl__fail(RL_ERR_ARG, "rl_tokenizer_from_vocab: NULL argument");
    *tok = NULL;
    if (n_vocab <= 0 || !tokens || n_merges < 0 || (n_merges && !merges))
        return rl__fail(RL_ERR_ARG, "rl_tokenizer_from_vocab: need tokens (n_vocab %d) and merges (n_merges %d)", n_vocab, n_merges);
    if (kind < RL_PRETOK_GPT2 || kind > RL_PRETOK_SMOLLM)
        return rl__fail(RL_ERR_ARG, "rl_tokenizer_from_vocab: unknown pre-tokenizer preset %d", (int)kind);
    if (!(t = rl__tok_new("vocabulary"))) return rl__enc_nomem();
    for (i = 0; i < n_vocab && !st; i++) {
        snprintf(f, sizeof f, "tokens[%d]", i);
        if (!tokens[i]) st = rl__fail(RL_ERR_ARG, "vocabulary: %s is NULL", f);
        else if (!token_types || token_types[i] != RL_TOKEN_UNUSED) st = rl__tok_add_vocab(t, tokens[i], strlen(tokens[i]), i, f);
    }
    if (!st) st = rl__tok_index_vocab(t, "tokens");
    for (i = 0; i < n_merges && !st; i++) {
        const char *m = merges[i], *sp = m ? strchr(m, ' ') : NULL;
        snprintf(f, sizeof f, "merges[%d]", i);
        if (!sp || strchr(sp + 1, ' '))
            st = rl__fail(RL_ERR_FORMAT, "vocabulary: %s: '%.60s' is not two tokens separated by one space", f, m ? m : "(null)");
        else
            st = rl__tok_add_merge(t, m, (size_t)(sp - m), sp + 1, strlen(sp + 1), f);
    }
    for (i = 0; i < n_vocab && !st && token_types; i++)
        if (token_types[i] == RL_TOKEN_CONTROL || token_types[i] == RL_TOKEN_USER_DEFINED)
            st = rl__tok_add_added(t, tokens[i], strlen(tokens[i]), 0, 0, 0, 0, token_types[i] == RL_TOKEN_CONTROL);
    if (!st) {
        t->nfc = kind == RL_PRETOK_QWEN2;
        t->ignore_merges = kind == RL_PRETOK_LLAMA3;
        if (kind == RL_PRETOK_SMOLLM) st = rl__tok_add_stage(t, RL__PT_DIGITS, 1, "pre");
        if (!st)
            st = kind == RL_PRETOK_GPT2 || kind == RL_PRETOK_SMOLLM ? rl__tok_add_stage(t, RL__PT_SPLIT_GPT2, 0, "pre")
                 : rl__tok_add_stage(t, RL__PT_SPLIT_LLAMA, kind == RL_PRETOK_QWEN2 ? 1 : 3, "pre");
    }
    if (!st && add_bos && bos_id >= 0) st = rl__tok_push_ids(&t->prefix, &t->n_prefix, &bos_id, 1);
    if (!st) st = rl__tok_finish(t);
    if (st) {
        rl_tokenizer_free(t);
        return st;
    }
    t->pretok = kind;
    *tok = t;
    return RL_OK;
}

/* ---- tokenizer: llama2.c vocabularies (SentencePiece BPE with byte fallback) ----
   tokenizer.bin of karpathy/llama2.c (tokenizer.py export): int32 max_token_length, then per
   token float32 score, int32 length, that many bytes (SentencePiece's ▁ stored as a space;
   BOS and EOS as "\n<s>\n" and "\n</s>\n"). Encoding is run.c's encode(): BOS (id 1) when
   add_special; a space token first when the text is not empty (the dummy prefix); every UTF-8
   character (a lead byte and up to 3 continuation bytes, not validated) becomes its piece or,
   failing that, its bytes as byte tokens (byte b -> id b + 3); then, while some adjacent pair
   concatenates to a piece, the pair whose piece has the highest score (the leftmost among
   equal scores, scores above -1e10 only) is merged. run.c rescans the whole sequence after
   every merge (quadratic); here a heap ordered by (score, position) makes the same merges in
   n log n. Decoding: a byte token <0xXX> is its byte; a piece that follows BOS loses one
   leading space; BOS/EOS are special (dropped with skip_special). */

static int rl__hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

RLDEF rl_status rl_tokenizer_load_llama2c_mem(rl_tokenizer **tok, const void *data, size_t len, int32_t vocab_size, const char *source) {
    const unsigned char *b = (const unsigned char *)data;
    const char *src = source ? source : "tokenizer.bin";
    rl_tokenizer *t;
    rl_status st = RL_OK;
    size_t o = 4, total = 0;
    int32_t n = 0, i, maxlen;
    if (!tok || (!data && len)) return rl__fail(RL_ERR_ARG, "rl_tokenizer_load_llama2c: NULL argument");
    *tok = NULL;
    if (len < 4) return rl__fail(RL_ERR_FORMAT, "%s: %zu bytes is too short for a llama2.c tokenizer (max_token_length, then tokens)", src, len);
    maxlen = (int32_t)rl__le32(b);
    if (maxlen < 1 || maxlen > 65536) return rl__fail(RL_ERR_FORMAT, "%s: max_token_length %d is not in 1..65536", src, (int)maxlen);
    /* count and check the records first */
    while (o < len && (vocab_size <= 0 || n < vocab_size)) {
        int32_t l;
        float sc;
        uint32_t u;
        if (len - o < 8) return rl__fail(RL_ERR_FORMAT, "%s: token %d: score and length cut off by the end of the file (byte %zu)", src, (int)n, o);
        u = rl__le32(b + o);
        memcpy(&sc, &u, 4);
        l = (int32_t)rl__le32(b + o + 4);
        if (sc != sc || sc > 3.4e38f || sc < -3.4e38f) return rl__fail(RL_ERR_FORMAT, "%s: token %d: score is not a finite number (byte %zu)", src, (int)n, o);
        if (l < 1 || l > maxlen)
            return rl__fail(RL_ERR_FORMAT, "%s: token %d: length %d is not in 1..max_token_length (%d)", src, (int)n, (int)l, (int)maxlen);
        if (len - o - 8 < (size_t)l) return rl__fail(RL_ERR_FORMAT, "%s: token %d: its %d bytes are cut off by the end of the file", src, (int)n, (int)l);
        o += 8 + (size_t)l;
        total += (size_t)l;
        if (++n >= RL__TOK_MAX_ID) return rl__fail(RL_ERR_FORMAT, "%s: more than %d tokens", src, RL__TOK_MAX_ID);
    }
    if (vocab_size > 0 && n < vocab_size)
        return rl__fail(RL_ERR_FORMAT, "%s: holds %d tokens, the model's vocab_size is %d", src, (int)n, (int)vocab_size);
    if (o != len)
        return rl__fail(RL_ERR_FORMAT, "%s: %zu bytes after the last of the %d tokens (the model's vocab_size is %d)", src, len - o, (int)n, (int)vocab_size);
    if (n < 259)
        return rl__fail(RL_ERR_FORMAT, "%s: %d tokens; a llama2.c vocabulary starts with <unk>, BOS, EOS and the 256 byte tokens (259 at least)", src, (int)n);
    if (!(t = rl__tok_new(src))) return rl__enc_nomem();
    t->sp = 1;
    t->unk = 0;
    t->n_ids = n;
    t->sp_score = (float *)RL_MALLOC(sizeof(float) * (size_t)n);
    t->id_str = (const char **)RL_MALLOC(((size_t)n + 1) * sizeof(char *));
    t->id_len = (uint32_t *)RL_MALLOC(((size_t)n + 1) * sizeof(uint32_t));
    t->id_type = (unsigned char *)RL_MALLOC((size_t)n + 1);
    t->dec_off = (uint32_t *)RL_MALLOC(((size_t)n + 1) * sizeof(uint32_t));
    t->dec_len = (uint32_t *)RL_MALLOC(((size_t)n + 1) * sizeof(uint32_t));
    t->dec = (unsigned char *)RL_MALLOC(total + 1);
    if (!t->sp_score || !t->id_str || !t->id_len || !t->id_type || !t->dec_off || !t->dec_len || !t->dec) st = rl__enc_nomem();
    for (i = 0, o = 4, total = 0; i < n && !st; i++) {
        uint32_t u = rl__le32(b + o), l = rl__le32(b + o + 4);
        const char *p = (const char *)b + o + 8;
        char want[8];
        memcpy(&t->sp_score[i], &u, 4);
        if ((st = rl__tok_add_vocab(t, p, l, i, "tokens")) != RL_OK) break;
        t->id_str[i] = t->vent[t->n_vent - 1].s;
        t->id_len[i] = l;
        t->id_type[i] = i == 0 ? RL_TOKEN_UNKNOWN : i <= 2 ? (RL_TOKEN_CONTROL | RL__TOK_SKIP) : RL_TOKEN_NORMAL;
        t->dec_off[i] = (uint32_t)total;
        if (i >= 3 && i < 259) { /* byte fallback pieces, in byte order */
            snprintf(want, sizeof want, "<0x%02X>", (unsigned)(i - 3));
            if (l != 6 || memcmp(p, want, 6)) {
                char m2[200];
                snprintf(m2, sizeof m2, "token %d is '%.*s', expected the byte-fallback piece '%s' (llama2.c maps byte b to id b+3)", i,
                         (int)RL__MIN(l, 40), p, want);
                st = rl__fail(RL_ERR_FORMAT, "%s: %s", src, m2);
                break;
            }
        }
        if (l == 6 && !memcmp(p, "<0x", 3) && p[5] == '>' && rl__hexval(p[3]) >= 0 && rl__hexval(p[4]) >= 0) {
            /* run.c's decode: "<0x%02hhX>" is that byte */
            t->dec[total] = (unsigned char)(rl__hexval(p[3]) * 16 + rl__hexval(p[4]));
            t->dec_len[i] = 1;
        } else {
            memcpy(t->dec + total, p, l);
            t->dec_len[i] = l;
        }
        total += t->dec_len[i];
        o += 8 + l;
    }
    if (!st) st = rl__tok_index_vocab(t, "tokens");
    if (!st) {
        int32_t bos = 1;
        st = rl__tok_push_ids(&t->prefix, &t->n_prefix, &bos, 1);
    }
    if (st) {
        rl_tokenizer_free(t);
        return st;
    }
    *tok = t;
    return RL_OK;
}

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_tokenizer_load_llama2c(rl_tokenizer **tok, const char *path, int32_t vocab_size) {
    char *data = NULL;
    size_t len = 0;
    rl_status st;
    if (!tok || !path) return rl__fail(RL_ERR_ARG, "rl_tokenizer_load_llama2c: NULL argument");
    *tok = NULL;
    if ((st = rl__read_file(path, (size_t)1 << 31, &data, &len)) != RL_OK) return st;
    st = rl_tokenizer_load_llama2c_mem(tok, data, len, vocab_size, path);
    RL_FREE(data);
    return st;
}
#endif

/* the merge heap: (score desc, left position asc), as run.c's scan picks the leftmost best */
typedef struct rl__spq { float score; int32_t left, right, lid, rid, mid; } rl__spq;
static int rl__spq_less(const rl__spq *a, const rl__spq *b) { return a->score > b->score || (a->score == b->score && a->left < b->left); }
static void rl__spq_up(rl__spq *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        rl__spq x;
        if (!rl__spq_less(&h[i], &h[p])) break;
        x = h[i], h[i] = h[p], h[p] = x;
        i = p;
    }
}
static void rl__spq_down(rl__spq *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        rl__spq x;
        if (l < n && rl__spq_less(&h[l], &h[m])) m = l;
        if (r < n && rl__spq_less(&h[r], &h[m])) m = r;
        if (m == i) break;
        x = h[i], h[i] = h[m], h[m] = x;
        i = m;
    }
}

typedef struct rl__sp_run {
    const rl_tokenizer *t;
    int32_t *id, *prev, *next;
    rl__spq *h;
    size_t nh, caph;
    char *cat;
    size_t capcat;
} rl__sp_run;

/* push the pair (a, next[a]) if its concatenation is a piece scoring above -1e10 */
static rl_status rl__sp_pair(rl__sp_run *r, int32_t a) {
    const rl_tokenizer *t = r->t;
    int32_t b = r->next[a], m;
    size_t la, lb;
    if (b < 0) return RL_OK;
    la = t->id_len[r->id[a]];
    lb = t->id_len[r->id[b]];
    if (rl__tk_grow(&r->cat, &r->capcat, la + lb + 1, 1)) return rl__enc_nomem();
    memcpy(r->cat, t->id_str[r->id[a]], la);
    memcpy(r->cat + la, t->id_str[r->id[b]], lb);
    m = rl__vocab_find(t, r->cat, la + lb);
    if (m < 0 || !(t->sp_score[m] > -1e10f)) return RL_OK;
    if (rl__tk_grow(&r->h, &r->caph, r->nh + 1, sizeof(rl__spq))) return rl__enc_nomem();
    r->h[r->nh].score = t->sp_score[m];
    r->h[r->nh].left = a;
    r->h[r->nh].right = b;
    r->h[r->nh].lid = r->id[a];
    r->h[r->nh].rid = r->id[b];
    r->h[r->nh].mid = m;
    rl__spq_up(r->h, r->nh++);
    return RL_OK;
}

static rl_status rl__sp_encode(const rl_tokenizer *t, const char *text, size_t len, int add_special, int32_t **ids, int64_t *n_ids) {
    rl__sp_run r;
    rl_status st = RL_OK;
    size_t i, cap = len + 3, n = 0, k = 0;
    int32_t *out = NULL, a;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.id = (int32_t *)RL_MALLOC(sizeof(int32_t) * cap);
    r.prev = (int32_t *)RL_MALLOC(sizeof(int32_t) * cap);
    r.next = (int32_t *)RL_MALLOC(sizeof(int32_t) * cap);
    if (!r.id || !r.prev || !r.next) st = rl__enc_nomem();
    if (!st && len) { /* the dummy prefix: the piece " " (run.c would push -1 without one; we use the byte) */
        int32_t sp = rl__vocab_find(t, " ", 1);
        r.id[n++] = sp >= 0 ? sp : ' ' + 3;
    }
    for (i = 0; i < len && !st;) { /* a lead byte and its continuation bytes, at most 4 */
        size_t l = 1, j;
        int32_t id;
        while (l < 4 && i + l < len && ((unsigned char)text[i + l] & 0xC0) == 0x80) l++;
        id = rl__vocab_find(t, text + i, l);
        if (id >= 0) r.id[n++] = id;
        else
            for (j = 0; j < l; j++) r.id[n++] = (unsigned char)text[i + j] + 3;
        i += l;
    }
    for (i = 0; i < n; i++) {
        r.prev[i] = (int32_t)i - 1;
        r.next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (i = 0; i + 1 < n && !st; i++) st = rl__sp_pair(&r, (int32_t)i);
    while (!st && r.nh) {
        rl__spq q = r.h[0];
        r.h[0] = r.h[--r.nh];
        rl__spq_down(r.h, r.nh, 0);
        /* stale: either side merged away or changed since the pair was pushed */
        if (r.id[q.left] != q.lid || r.next[q.left] != q.right || r.id[q.right] != q.rid) continue;
        r.id[q.left] = q.mid;
        r.id[q.right] = -1;
        r.next[q.left] = r.next[q.right];
        if (r.next[q.right] >= 0) r.prev[r.next[q.right]] = q.left;
        if (r.prev[q.left] >= 0) st = rl__sp_pair(&r, r.prev[q.left]);
        if (!st) st = rl__sp_pair(&r, q.left);
    }
    if (!st && !(out = (int32_t *)RL_MALLOC(sizeof(int32_t) * (n + 1)))) st = rl__enc_nomem();
    if (!st) {
        if (add_special) out[k++] = 1; /* BOS */
        for (a = n ? 0 : -1; a >= 0; a = r.next[a]) out[k++] = r.id[a];
    }
    RL_FREE(r.id);
    RL_FREE(r.prev);
    RL_FREE(r.next);
    RL_FREE(r.h);
    RL_FREE(r.cat);
    if (st) {
        RL_FREE(out);
        return st;
    }
    *ids = out;
    *n_ids = (int64_t)k;
    return RL_OK;
}

/* ---- tokenizer: the Unicode tables and their lookups ---- */

/* ---- BEGIN GENERATED UNICODE TABLES (tools/gen_unicode.py) ---- */
/* properties of U+0000..U+007F */
static const unsigned char rl__uprops_ascii[128] = {
    0,0,0,0,0,0,0,0,0,3,3,3,3,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,14,14,14,14,14,14,14,14,14,14,0,0,0,0,0,0,
    0,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,0,0,0,0,8,
    0,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,0,0,0,0,0,
};
/* runs: start << 8 | property bits, sorted; a run lasts until the next start */
static const uint32_t rl__uprops[2221] = {
    0x0,0x903,0xe00,0x2003,0x2100,0x300e,0x3a00,0x4109,0x5b00,0x5f08,
    0x6000,0x6109,0x7b00,0x8503,0x8600,0xa003,0xa100,0xaa09,0xab00,0xb206,
    0xb400,0xb509,0xb600,0xb906,0xba09,0xbb00,0xbc06,0xbf00,0xc009,0xd700,
    0xd809,0xf700,0xf809,0x2c200,0x2c609,0x2d200,0x2e009,0x2e500,0x2ec09,0x2ed00,
    0x2ee09,0x2ef00,0x30018,0x34f08,0x35018,0x37009,0x37419,0x37500,0x37609,0x37800,
    0x37a09,0x37e10,0x37f09,0x38000,0x38609,0x38710,0x38809,0x38b00,0x38c09,0x38d00,
    0x38e09,0x3a200,0x3a309,0x3f600,0x3f709,0x48200,0x48318,0x48808,0x48a09,0x53000,
    0x53109,0x55700,0x55909,0x55a00,0x56009,0x58900,0x59118,0x5be00,0x5bf18,0x5c000,
    0x5c118,0x5c300,0x5c418,0x5c600,0x5c718,0x5c800,0x5d009,0x5eb00,0x5ef09,0x5f300,
    0x61018,0x61b00,0x62009,0x64b18,0x6600e,0x66a00,0x66e09,0x67018,0x67109,0x6d400,
    0x6d509,0x6d618,0x6dd00,0x6df18,0x6e509,0x6e718,0x6e900,0x6ea18,0x6ee09,0x6f00e,
    0x6fa09,0x6fd00,0x6ff09,0x70000,0x71009,0x71118,0x71209,0x73018,0x74b00,0x74d09,
    0x7a608,0x7b109,0x7b200,0x7c00e,0x7ca09,0x7eb18,0x7f409,0x7f600,0x7fa09,0x7fb00,
    0x7fd08,0x7fe00,0x80009,0x81618,0x81a09,0x81b18,0x82409,0x82518,0x82809,0x82918,
    0x82e00,0x84009,0x85918,0x85c00,0x86009,0x86b00,0x87009,0x88800,0x88909,0x88f00,
    0x89708,0x8a009,0x8ca08,0x8d418,0x8e200,0x8e318,0x90008,0x90409,0x93a08,0x93c18,
    0x93d09,0x93e08,0x94d18,0x94e08,0x95009,0x95118,0x95508,0x95819,0x96009,0x96208,
    0x96400,0x9660e,0x97000,0x97109,0x98108,0x98400,0x98509,0x98d00,0x98f09,0x99100,
    0x99309,0x9a900,0x9aa09,0x9b100,0x9b209,0x9b300,0x9b609,0x9ba00,0x9bc18,0x9bd09,
    0x9be18,0x9bf08,0x9c500,0x9c708,0x9c900,0x9cb08,0x9cd18,0x9ce09,0x9cf00,0x9d718,
    0x9d800,0x9dc19,0x9de00,0x9df19,0x9e009,0x9e208,0x9e400,0x9e60e,0x9f009,0x9f200,
    0x9f406,0x9fa00,0x9fc09,0x9fd00,0x9fe08,0x9ff00,0xa0108,0xa0400,0xa0509,0xa0b00,
    0xa0f09,0xa1100,0xa1309,0xa2900,0xa2a09,0xa3100,0xa3209,0xa3319,0xa3400,0xa3509,
    0xa3619,0xa3700,0xa3809,0xa3a00,0xa3c18,0xa3d00,0xa3e08,0xa4300,0xa4708,0xa4900,
    0xa4b08,0xa4d18,0xa4e00,0xa5108,0xa5200,0xa5919,0xa5c09,0xa5d00,0xa5e19,0xa5f00,
    0xa660e,0xa7008,0xa7209,0xa7508,0xa7600,0xa8108,0xa8400,0xa8509,0xa8e00,0xa8f09,
    0xa9200,0xa9309,0xaa900,0xaaa09,0xab100,0xab209,0xab400,0xab509,0xaba00,0xabc18,
    0xabd09,0xabe08,0xac600,0xac708,0xaca00,0xacb08,0xacd18,0xace00,0xad009,0xad100,
    0xae009,0xae208,0xae400,0xae60e,0xaf000,0xaf909,0xafa08,0xb0000,0xb0108,0xb0400,
    0xb0509,0xb0d00,0xb0f09,0xb1100,0xb1309,0xb2900,0xb2a09,0xb3100,0xb3209,0xb3400,
    0xb3509,0xb3a00,0xb3c18,0xb3d09,0xb3e18,0xb3f08,0xb4500,0xb4708,0xb4900,0xb4b08,
    0xb4d18,0xb4e00,0xb5508,0xb5618,0xb5800,0xb5c19,0xb5e00,0xb5f09,0xb6208,0xb6400,
    0xb660e,0xb7000,0xb7109,0xb7206,0xb7800,0xb8208,0xb8309,0xb8400,0xb8509,0xb8b00,
    0xb8e09,0xb9100,0xb9209,0xb9600,0xb9909,0xb9b00,0xb9c09,0xb9d00,0xb9e09,0xba000,
    0xba309,0xba500,0xba809,0xbab00,0xbae09,0xbba00,0xbbe18,0xbbf08,0xbc300,0xbc608,
    0xbc900,0xbca08,0xbcd18,0xbce00,0xbd009,0xbd100,0xbd718,0xbd800,0xbe60e,0xbf006,
    0xbf300,0xc0008,0xc0509,0xc0d00,0xc0e09,0xc1100,0xc1209,0xc2900,0xc2a09,0xc3a00,
    0xc3c08,0xc3d09,0xc3e08,0xc4500,0xc4608,0xc4900,0xc4a08,0xc4d18,0xc4e00,0xc5518,
    0xc5700,0xc5809,0xc5b00,0xc5d09,0xc5e00,0xc6009,0xc6208,0xc6400,0xc660e,0xc7000,
    0xc7806,0xc7f00,0xc8009,0xc8108,0xc8400,0xc8509,0xc8d00,0xc8e09,0xc9100,0xc9209,
    0xca900,0xcaa09,0xcb400,0xcb509,0xcba00,0xcbc18,0xcbd09,0xcbe08,0xcc218,0xcc308,
    0xcc500,0xcc608,0xcc900,0xcca08,0xccd18,0xcce00,0xcd518,0xcd700,0xcdd09,0xcdf00,
    0xce009,0xce208,0xce400,0xce60e,0xcf000,0xcf109,0xcf308,0xcf400,0xd0008,0xd0409,
    0xd0d00,0xd0e09,0xd1100,0xd1209,0xd3b08,0xd3d09,0xd3e18,0xd3f08,0xd4500,0xd4608,
    0xd4900,0xd4a08,0xd4d18,0xd4e09,0xd4f00,0xd5409,0xd5718,0xd5806,0xd5f09,0xd6208,
    0xd6400,0xd660e,0xd7006,0xd7900,0xd7a09,0xd8000,0xd8108,0xd8400,0xd8509,0xd9700,
    0xd9a09,0xdb200,0xdb309,0xdbc00,0xdbd09,0xdbe00,0xdc009,0xdc700,0xdca18,0xdcb00,
    0xdcf18,0xdd008,0xdd500,0xdd608,0xdd700,0xdd808,0xddf18,0xde000,0xde60e,0xdf000,
    0xdf208,0xdf400,0xe0109,0xe3108,0xe3209,0xe3408,0xe3818,0xe3b00,0xe4009,0xe4708,
    0xe4818,0xe4c08,0xe4f00,0xe500e,0xe5a00,0xe8109,0xe8300,0xe8409,0xe8500,0xe8609,
    0xe8b00,0xe8c09,0xea400,0xea509,0xea600,0xea709,0xeb108,0xeb209,0xeb408,0xeb818,
    0xeba08,0xebd09,0xebe00,0xec009,0xec500,0xec609,0xec700,0xec818,0xecc08,0xecf00,
    0xed00e,0xeda00,0xedc09,0xee000,0xf0009,0xf0100,0xf1818,0xf1a00,0xf200e,0xf2a06,
    0xf3400,0xf3518,0xf3600,0xf3718,0xf3800,0xf3918,0xf3a00,0xf3e08,0xf4009,0xf4319,
    0xf4409,0xf4800,0xf4909,0xf4d19,0xf4e09,0xf5219,0xf5309,0xf5719,0xf5809,0xf5c19,
    0xf5d09,0xf6919,0xf6a09,0xf6d00,0xf7118,0xf7708,0xf7818,0xf7908,0xf7a18,0xf7e08,
    0xf8018,0xf8500,0xf8618,0xf8809,0xf8d08,0xf9318,0xf9408,0xf9800,0xf9908,0xf9d18,
    0xf9e08,0xfa218,0xfa308,0xfa718,0xfa808,0xfac18,0xfad08,0xfb918,0xfba08,0xfbd00,
    0xfc618,0xfc700,0x100009,0x102b08,0x102e18,0x102f08,0x103718,0x103808,0x103918,0x103b08,
    0x103f09,0x10400e,0x104a00,0x105009,0x105608,0x105a09,0x105e08,0x106109,0x106208,0x106509,
    0x106708,0x106e09,0x107108,0x107509,0x108208,0x108d18,0x108e09,0x108f08,0x10900e,0x109a08,
    0x109e00,0x10a009,0x10c600,0x10c709,0x10c800,0x10cd09,0x10ce00,0x10d009,0x10fb00,0x10fc09,
    0x116119,0x117609,0x11a819,0x11c309,0x124900,0x124a09,0x124e00,0x125009,0x125700,0x125809,
    0x125900,0x125a09,0x125e00,0x126009,0x128900,0x128a09,0x128e00,0x129009,0x12b100,0x12b209,
    0x12b600,0x12b809,0x12bf00,0x12c009,0x12c100,0x12c209,0x12c600,0x12c809,0x12d700,0x12d809,
    0x131100,0x131209,0x131600,0x131809,0x135b00,0x135d18,0x136000,0x136906,0x137d00,0x138009,
    0x139000,0x13a009,0x13f600,0x13f809,0x13fe00,0x140109,0x166d00,0x166f09,0x168003,0x168109,
    0x169b00,0x16a009,0x16eb00,0x16ee0e,0x16f109,0x16f900,0x170009,0x171208,0x171418,0x171508,
    0x171600,0x171f09,0x173208,0x173418,0x173500,0x174009,0x175208,0x175400,0x176009,0x176d00,
    0x176e09,0x177100,0x177208,0x177400,0x178009,0x17b408,0x17d218,0x17d308,0x17d400,0x17d709,
    0x17d800,0x17dc09,0x17dd18,0x17de00,0x17e00e,0x17ea00,0x17f006,0x17fa00,0x180b08,0x180e00,
    0x180f08,0x18100e,0x181a00,0x182009,0x187900,0x188009,0x188508,0x188709,0x18a918,0x18aa09,
    0x18ab00,0x18b009,0x18f600,0x190009,0x191f00,0x192008,0x192c00,0x193008,0x193918,0x193c00,
    0x19460e,0x195009,0x196e00,0x197009,0x197500,0x198009,0x19ac00,0x19b009,0x19ca00,0x19d00e,
    0x19da06,0x19db00,0x1a0009,0x1a1718,0x1a1908,0x1a1c00,0x1a2009,0x1a5508,0x1a5f00,0x1a6018,
    0x1a6108,0x1a7518,0x1a7d00,0x1a7f18,0x1a800e,0x1a8a00,0x1a900e,0x1a9a00,0x1aa709,0x1aa800,
    0x1ab018,0x1abe08,0x1acf00,0x1b0008,0x1b0509,0x1b3418,0x1b3608,0x1b4418,0x1b4509,0x1b4d00,
    0x1b500e,0x1b5a00,0x1b6b18,0x1b7400,0x1b8008,0x1b8309,0x1ba108,0x1baa18,0x1bac08,0x1bae09,
    0x1bb00e,0x1bba09,0x1be618,0x1be708,0x1bf218,0x1bf400,0x1c0009,0x1c2408,0x1c3718,0x1c3800,
    0x1c400e,0x1c4a00,0x1c4d09,0x1c500e,0x1c5a09,0x1c7e00,0x1c8009,0x1c8b00,0x1c9009,0x1cbb00,
    0x1cbd09,0x1cc000,0x1cd018,0x1cd300,0x1cd418,0x1ce108,0x1ce218,0x1ce909,0x1ced18,0x1cee09,
    0x1cf418,0x1cf509,0x1cf708,0x1cf818,0x1cfa09,0x1cfb00,0x1d0009,0x1dc018,0x1df608,0x1dfb18,
    0x1e0009,0x1f1600,0x1f1809,0x1f1e00,0x1f2009,0x1f4600,0x1f4809,0x1f4e00,0x1f5009,0x1f5800,
    0x1f5909,0x1f5a00,0x1f5b09,0x1f5c00,0x1f5d09,0x1f5e00,0x1f5f09,0x1f7119,0x1f7209,0x1f7319,
    0x1f7409,0x1f7519,0x1f7609,0x1f7719,0x1f7809,0x1f7919,0x1f7a09,0x1f7b19,0x1f7c09,0x1f7d19,
    0x1f7e00,0x1f8009,0x1fb500,0x1fb609,0x1fbb19,0x1fbc09,0x1fbd00,0x1fbe19,0x1fbf00,0x1fc209,
    0x1fc500,0x1fc609,0x1fc919,0x1fca09,0x1fcb19,0x1fcc09,0x1fcd00,0x1fd009,0x1fd319,0x1fd400,
    0x1fd609,0x1fdb19,0x1fdc00,0x1fe009,0x1fe319,0x1fe409,0x1feb19,0x1fec09,0x1fed00,0x1fee10,
    0x1ff000,0x1ff209,0x1ff500,0x1ff609,0x1ff919,0x1ffa09,0x1ffb19,0x1ffc09,0x1ffd10,0x1ffe00,
    0x200013,0x200203,0x200b00,0x200c08,0x200e00,0x202803,0x202a00,0x202f03,0x203000,0x203f08,
    0x204100,0x205408,0x205500,0x205f03,0x206000,0x207006,0x207109,0x207200,0x207406,0x207a00,
    0x207f09,0x208006,0x208a00,0x209009,0x209d00,0x20d018,0x20dd08,0x20e118,0x20e208,0x20e518,
    0x20f100,0x210209,0x210300,0x210709,0x210800,0x210a09,0x211400,0x211509,0x211600,0x211909,
    0x211e00,0x212409,0x212500,0x212619,0x212700,0x212809,0x212900,0x212a19,0x212c09,0x212e00,
    0x212f09,0x213a00,0x213c09,0x214000,0x214509,0x214a00,0x214e09,0x214f00,0x215006,0x21600e,
    0x218309,0x21850e,0x218906,0x218a00,0x232910,0x232b00,0x246006,0x249c00,0x24b608,0x24ea06,
    0x250000,0x277606,0x279400,0x2adc10,0x2add00,0x2c0009,0x2ce500,0x2ceb09,0x2cef18,0x2cf209,
    0x2cf400,0x2cfd06,0x2cfe00,0x2d0009,0x2d2600,0x2d2709,0x2d2800,0x2d2d09,0x2d2e00,0x2d3009,
    0x2d6800,0x2d6f09,0x2d7000,0x2d7f18,0x2d8009,0x2d9700,0x2da009,0x2da700,0x2da809,0x2daf00,
    0x2db009,0x2db700,0x2db809,0x2dbf00,0x2dc009,0x2dc700,0x2dc809,0x2dcf00,0x2dd009,0x2dd700,
    0x2dd809,0x2ddf00,0x2de018,0x2e0000,0x2e2f09,0x2e3000,0x300003,0x300100,0x300509,0x30070e,
    0x300800,0x30210e,0x302a18,0x303000,0x303109,0x303600,0x30380e,0x303b09,0x303d00,0x304109,
    0x309700,0x309918,0x309b00,0x309d09,0x30a000,0x30a109,0x30fb00,0x30fc09,0x310000,0x310509,
    0x313000,0x313109,0x318f00,0x319206,0x319600,0x31a009,0x31c000,0x31f009,0x320000,0x322006,
    0x322a00,0x324806,0x325000,0x325106,0x326000,0x328006,0x328a00,0x32b106,0x32c000,0x340009,
    0x4dc000,0x4e0009,0xa48d00,0xa4d009,0xa4fe00,0xa50009,0xa60d00,0xa61009,0xa6200e,0xa62a09,
    0xa62c00,0xa64009,0xa66f18,0xa67008,0xa67300,0xa67418,0xa67e00,0xa67f09,0xa69e18,0xa6a009,
    0xa6e60e,0xa6f018,0xa6f200,0xa71709,0xa72000,0xa72209,0xa78900,0xa78b09,0xa7ce00,0xa7d009,
    0xa7d200,0xa7d309,0xa7d400,0xa7d509,0xa7dd00,0xa7f209,0xa80208,0xa80309,0xa80618,0xa80709,
    0xa80b08,0xa80c09,0xa82308,0xa82800,0xa82c08,0xa82d00,0xa83006,0xa83600,0xa84009,0xa87400,
    0xa88008,0xa88209,0xa8b408,0xa8c418,0xa8c508,0xa8c600,0xa8d00e,0xa8da00,0xa8e018,0xa8f209,
    0xa8f800,0xa8fb09,0xa8fc00,0xa8fd09,0xa8ff08,0xa9000e,0xa90a09,0xa92608,0xa92b18,0xa92e00,
    0xa93009,0xa94708,0xa95318,0xa95400,0xa96009,0xa97d00,0xa98008,0xa98409,0xa9b318,0xa9b408,
    0xa9c018,0xa9c100,0xa9cf09,0xa9d00e,0xa9da00,0xa9e009,0xa9e508,0xa9e609,0xa9f00e,0xa9fa09,
    0xa9ff00,0xaa0009,0xaa2908,0xaa3700,0xaa4009,0xaa4308,0xaa4409,0xaa4c08,0xaa4e00,0xaa500e,
    0xaa5a00,0xaa6009,0xaa7700,0xaa7a09,0xaa7b08,0xaa7e09,0xaab018,0xaab109,0xaab218,0xaab509,
    0xaab718,0xaab909,0xaabe18,0xaac009,0xaac118,0xaac209,0xaac300,0xaadb09,0xaade00,0xaae009,
    0xaaeb08,0xaaf000,0xaaf209,0xaaf508,0xaaf618,0xaaf700,0xab0109,0xab0700,0xab0909,0xab0f00,
    0xab1109,0xab1700,0xab2009,0xab2700,0xab2809,0xab2f00,0xab3009,0xab5b00,0xab5c09,0xab6a00,
    0xab7009,0xabe308,0xabeb00,0xabec08,0xabed18,0xabee00,0xabf00e,0xabfa00,0xac0009,0xd7a400,
    0xd7b009,0xd7c700,0xd7cb09,0xd7fc00,0xf90019,0xfa0e09,0xfa1019,0xfa1109,0xfa1219,0xfa1309,
    0xfa1519,0xfa1f09,0xfa2019,0xfa2109,0xfa2219,0xfa2309,0xfa2519,0xfa2709,0xfa2a19,0xfa6e00,
    0xfa7019,0xfada00,0xfb0009,0xfb0700,0xfb1309,0xfb1800,0xfb1d19,0xfb1e18,0xfb1f19,0xfb2009,
    0xfb2900,0xfb2a19,0xfb3700,0xfb3819,0xfb3d00,0xfb3e19,0xfb3f00,0xfb4019,0xfb4200,0xfb4319,
    0xfb4500,0xfb4619,0xfb4f09,0xfbb200,0xfbd309,0xfd3e00,0xfd5009,0xfd9000,0xfd9209,0xfdc800,
    0xfdf009,0xfdfc00,0xfe0008,0xfe1000,0xfe2018,0xfe3000,0xfe3308,0xfe3500,0xfe4d08,0xfe5000,
    0xfe7009,0xfe7500,0xfe7609,0xfefd00,0xff100e,0xff1a00,0xff2109,0xff3b00,0xff3f08,0xff4000,
    0xff4109,0xff5b00,0xff6609,0xffbf00,0xffc209,0xffc800,0xffca09,0xffd000,0xffd209,0xffd800,
    0xffda09,0xffdd00,0x1000009,0x1000c00,0x1000d09,0x1002700,0x1002809,0x1003b00,0x1003c09,0x1003e00,
    0x1003f09,0x1004e00,0x1005009,0x1005e00,0x1008009,0x100fb00,0x1010706,0x1013400,0x101400e,0x1017506,
    0x1017900,0x1018a06,0x1018c00,0x101fd18,0x101fe00,0x1028009,0x1029d00,0x102a009,0x102d100,0x102e018,
    0x102e106,0x102fc00,0x1030009,0x1032006,0x1032400,0x1032d09,0x103410e,0x1034209,0x1034a0e,0x1034b00,
    0x1035009,0x1037618,0x1037b00,0x1038009,0x1039e00,0x103a009,0x103c400,0x103c809,0x103d000,0x103d10e,
    0x103d600,0x1040009,0x1049e00,0x104a00e,0x104aa00,0x104b009,0x104d400,0x104d809,0x104fc00,0x1050009,
    0x1052800,0x1053009,0x1056400,0x1057009,0x1057b00,0x1057c09,0x1058b00,0x1058c09,0x1059300,0x1059409,
    0x1059600,0x1059709,0x105a200,0x105a309,0x105b200,0x105b309,0x105ba00,0x105bb09,0x105bd00,0x105c009,
    0x105f400,0x1060009,0x1073700,0x1074009,0x1075600,0x1076009,0x1076800,0x1078009,0x1078600,0x1078709,
    0x107b100,0x107b209,0x107bb00,0x1080009,0x1080600,0x1080809,0x1080900,0x1080a09,0x1083600,0x1083709,
    0x1083900,0x1083c09,0x1083d00,0x1083f09,0x1085600,0x1085806,0x1086009,0x1087700,0x1087906,0x1088009,
    0x1089f00,0x108a706,0x108b000,0x108e009,0x108f300,0x108f409,0x108f600,0x108fb06,0x1090009,0x1091606,
    0x1091c00,0x1092009,0x1093a00,0x1098009,0x109b800,0x109bc06,0x109be09,0x109c006,0x109d000,0x109d206,
    0x10a0009,0x10a0108,0x10a0400,0x10a0508,0x10a0700,0x10a0c08,0x10a0d18,0x10a0e08,0x10a0f18,0x10a1009,
    0x10a1400,0x10a1509,0x10a1800,0x10a1909,0x10a3600,0x10a3818,0x10a3b00,0x10a3f18,0x10a4006,0x10a4900,
    0x10a6009,0x10a7d06,0x10a7f00,0x10a8009,0x10a9d06,0x10aa000,0x10ac009,0x10ac800,0x10ac909,0x10ae518,
    0x10ae700,0x10aeb06,0x10af000,0x10b0009,0x10b3600,0x10b4009,0x10b5600,0x10b5806,0x10b6009,0x10b7300,
    0x10b7806,0x10b8009,0x10b9200,0x10ba906,0x10bb000,0x10c0009,0x10c4900,0x10c8009,0x10cb300,0x10cc009,
    0x10cf300,0x10cfa06,0x10d0009,0x10d2408,0x10d2800,0x10d300e,0x10d3a00,0x10d400e,0x10d4a09,0x10d6600,
    0x10d6908,0x10d6e00,0x10d6f09,0x10d8600,0x10e6006,0x10e7f00,0x10e8009,0x10eaa00,0x10eab08,0x10ead00,
    0x10eb009,0x10eb200,0x10ec209,0x10ec500,0x10efc08,0x10f0009,0x10f1d06,0x10f2709,0x10f2800,0x10f3009,
    0x10f4608,0x10f5106,0x10f5500,0x10f7009,0x10f8208,0x10f8600,0x10fb009,0x10fc506,0x10fcc00,0x10fe009,
    0x10ff700,0x1100008,0x1100309,0x1103808,0x1104618,0x1104700,0x1105206,0x110660e,0x1107008,0x1107109,
    0x1107308,0x1107509,0x1107600,0x1107f18,0x1108008,0x1108309,0x110b008,0x110b918,0x110bb00,0x110c208,
    0x110c300,0x110d009,0x110e900,0x110f00e,0x110fa00,0x1110018,0x1110309,0x1112718,0x1112808,0x1113318,
    0x1113500,0x111360e,0x1114000,0x1114409,0x1114508,0x1114709,0x1114800,0x1115009,0x1117318,0x1117400,
    0x1117609,0x1117700,0x1118008,0x1118309,0x111b308,0x111c018,0x111c109,0x111c500,0x111c908,0x111ca18,
    0x111cb08,0x111cd00,0x111ce08,0x111d00e,0x111da09,0x111db00,0x111dc09,0x111dd00,0x111e106,0x111f500,
    0x1120009,0x1121200,0x1121309,0x1122c08,0x1123518,0x1123708,0x1123800,0x1123e08,0x1123f09,0x1124108,
    0x1124200,0x1128009,0x1128700,0x1128809,0x1128900,0x1128a09,0x1128e00,0x1128f09,0x1129e00,0x1129f09,
    0x112a900,0x112b009,0x112df08,0x112e918,0x112eb00,0x112f00e,0x112fa00,0x1130008,0x1130400,0x1130509,
    0x1130d00,0x1130f09,0x1131100,0x1131309,0x1132900,0x1132a09,0x1133100,0x1133209,0x1133400,0x1133509,
    0x1133a00,0x1133b08,0x1133c18,0x1133d09,0x1133e18,0x1133f08,0x1134500,0x1134708,0x1134900,0x1134b08,
    0x1134d18,0x1134e00,0x1135009,0x1135100,0x1135718,0x1135800,0x1135d09,0x1136208,0x1136400,0x1136618,
    0x1136d00,0x1137018,0x1137500,0x1138009,0x1138a00,0x1138b09,0x1138c00,0x1138e09,0x1138f00,0x1139009,
    0x113b600,0x113b709,0x113b808,0x113c100,0x113c208,0x113c300,0x113c508,0x113c600,0x113c708,0x113cb00,
    0x113cc08,0x113d109,0x113d208,0x113d309,0x113d400,0x113e108,0x113e300,0x1140009,0x1143508,0x1144218,
    0x1144308,0x1144618,0x1144709,0x1144b00,0x114500e,0x1145a00,0x1145e08,0x1145f09,0x1146200,0x1148009,
    0x114b018,0x114b108,0x114ba18,0x114bb08,0x114bd18,0x114be08,0x114c218,0x114c409,0x114c600,0x114c709,
    0x114c800,0x114d00e,0x114da00,0x1158009,0x115af18,0x115b008,0x115b600,0x115b808,0x115bf18,0x115c100,
    0x115d809,0x115dc08,0x115de00,0x1160009,0x1163008,0x1163f18,0x1164008,0x1164100,0x1164409,0x1164500,
    0x116500e,0x1165a00,0x1168009,0x116ab08,0x116b618,0x116b809,0x116b900,0x116c00e,0x116ca00,0x116d00e,
    0x116e400,0x1170009,0x1171b00,0x1171d08,0x1172b18,0x1172c00,0x117300e,0x1173a06,0x1173c00,0x1174009,
    0x1174700,0x1180009,0x1182c08,0x1183b00,0x118a009,0x118e00e,0x118ea06,0x118f300,0x118ff09,0x1190700,
    0x1190909,0x1190a00,0x1190c09,0x1191400,0x1191509,0x1191700,0x1191809,0x1193008,0x1193600,0x1193708,
    0x1193900,0x1193b08,0x1193f09,0x1194008,0x1194109,0x1194208,0x1194400,0x119500e,0x1195a00,0x119a009,
    0x119a800,0x119aa09,0x119d108,0x119d800,0x119da08,0x119e109,0x119e200,0x119e309,0x119e408,0x119e500,
    0x11a0009,0x11a0108,0x11a0b09,0x11a3308,0x11a3a09,0x11a3b08,0x11a3f00,0x11a4708,0x11a4800,0x11a5009,
    0x11a5108,0x11a5c09,0x11a8a08,0x11a9a00,0x11a9d09,0x11a9e00,0x11ab009,0x11af900,0x11bc009,0x11be100,
    0x11bf00e,0x11bfa00,0x11c0009,0x11c0900,0x11c0a09,0x11c2f08,0x11c3700,0x11c3808,0x11c3f18,0x11c4009,
    0x11c4100,0x11c500e,0x11c5a06,0x11c6d00,0x11c7209,0x11c9000,0x11c9208,0x11ca800,0x11ca908,0x11cb700,
    0x11d0009,0x11d0700,0x11d0809,0x11d0a00,0x11d0b09,0x11d3108,0x11d3700,0x11d3a08,0x11d3b00,0x11d3c08,
    0x11d3e00,0x11d3f08,0x11d4609,0x11d4708,0x11d4800,0x11d500e,0x11d5a00,0x11d6009,0x11d6600,0x11d6709,
    0x11d6900,0x11d6a09,0x11d8a08,0x11d8f00,0x11d9008,0x11d9200,0x11d9308,0x11d9809,0x11d9900,0x11da00e,
    0x11daa00,0x11de004,0x11dea00,0x11ee009,0x11ef308,0x11ef700,0x11f0008,0x11f0209,0x11f0308,0x11f0409,
    0x11f1100,0x11f1209,0x11f3408,0x11f3b00,0x11f3e08,0x11f4300,0x11f500e,0x11f5a08,0x11f5b00,0x11fb009,
    0x11fb100,0x11fc006,0x11fd500,0x1200009,0x1239a00,0x124000e,0x1246f00,0x1248009,0x1254400,0x12f9009,
    0x12ff100,0x1300009,0x1343000,0x1344008,0x1344109,0x1344708,0x1345600,0x1346009,0x143fb00,0x1440009,
    0x1464700,0x1610009,0x1611e08,0x161300e,0x1613a00,0x1680009,0x16a3900,0x16a4009,0x16a5f00,0x16a600e,
    0x16a6a00,0x16a7009,0x16abf00,0x16ac00e,0x16aca00,0x16ad009,0x16aee00,0x16af018,0x16af500,0x16b0009,
    0x16b3018,0x16b3700,0x16b4009,0x16b4400,0x16b500e,0x16b5a00,0x16b5b06,0x16b6200,0x16b6309,0x16b7800,
    0x16b7d09,0x16b9000,0x16d4009,0x16d6d00,0x16d700e,0x16d7a00,0x16e4009,0x16e8006,0x16e9700,0x16f0009,
    0x16f4b00,0x16f4f08,0x16f5009,0x16f5108,0x16f8800,0x16f8f08,0x16f9309,0x16fa000,0x16fe009,0x16fe200,
    0x16fe309,0x16fe408,0x16fe500,0x16ff008,0x16ff200,0x16ff404,0x16ff700,0x1700009,0x187f800,0x1880009,
    0x18cd600,0x18cff09,0x18d0900,0x1aff009,0x1aff400,0x1aff509,0x1affc00,0x1affd09,0x1afff00,0x1b00009,
    0x1b12300,0x1b13209,0x1b13300,0x1b15009,0x1b15300,0x1b15509,0x1b15600,0x1b16409,0x1b16800,0x1b17009,
    0x1b2fc00,0x1bc0009,0x1bc6b00,0x1bc7009,0x1bc7d00,0x1bc8009,0x1bc8900,0x1bc9009,0x1bc9a00,0x1bc9d08,
    0x1bc9e18,0x1bc9f00,0x1ccf00e,0x1ccfa00,0x1cf0008,0x1cf2e00,0x1cf3008,0x1cf4700,0x1d15e10,0x1d16518,
    0x1d16a00,0x1d16d18,0x1d17300,0x1d17b18,0x1d18300,0x1d18518,0x1d18c00,0x1d1aa18,0x1d1ae00,0x1d1bb10,
    0x1d1c100,0x1d24218,0x1d24500,0x1d2c006,0x1d2d400,0x1d2e006,0x1d2f400,0x1d36006,0x1d37900,0x1d40009,
    0x1d45500,0x1d45609,0x1d49d00,0x1d49e09,0x1d4a000,0x1d4a209,0x1d4a300,0x1d4a509,0x1d4a700,0x1d4a909,
    0x1d4ad00,0x1d4ae09,0x1d4ba00,0x1d4bb09,0x1d4bc00,0x1d4bd09,0x1d4c400,0x1d4c509,0x1d50600,0x1d50709,
    0x1d50b00,0x1d50d09,0x1d51500,0x1d51609,0x1d51d00,0x1d51e09,0x1d53a00,0x1d53b09,0x1d53f00,0x1d54009,
    0x1d54500,0x1d54609,0x1d54700,0x1d54a09,0x1d55100,0x1d55209,0x1d6a600,0x1d6a809,0x1d6c100,0x1d6c209,
    0x1d6db00,0x1d6dc09,0x1d6fb00,0x1d6fc09,0x1d71500,0x1d71609,0x1d73500,0x1d73609,0x1d74f00,0x1d75009,
    0x1d76f00,0x1d77009,0x1d78900,0x1d78a09,0x1d7a900,0x1d7aa09,0x1d7c300,0x1d7c409,0x1d7cc00,0x1d7ce0e,
    0x1d80000,0x1da0008,0x1da3700,0x1da3b08,0x1da6d00,0x1da7508,0x1da7600,0x1da8408,0x1da8500,0x1da9b08,
    0x1daa000,0x1daa108,0x1dab000,0x1df0009,0x1df1f00,0x1df2509,0x1df2b00,0x1e00018,0x1e00700,0x1e00818,
    0x1e01900,0x1e01b18,0x1e02200,0x1e02318,0x1e02500,0x1e02618,0x1e02b00,0x1e03009,0x1e06e00,0x1e08f08,
    0x1e09000,0x1e10009,0x1e12d00,0x1e13008,0x1e13709,0x1e13e00,0x1e1400e,0x1e14a00,0x1e14e09,0x1e14f00,
    0x1e29009,0x1e2ae08,0x1e2af00,0x1e2c009,0x1e2ec08,0x1e2f00e,0x1e2fa00,0x1e4d009,0x1e4ec08,0x1e4f00e,
    0x1e4fa00,0x1e5d009,0x1e5ee08,0x1e5f009,0x1e5f10e,0x1e5fb00,0x1e7e009,0x1e7e700,0x1e7e809,0x1e7ec00,
    0x1e7ed09,0x1e7ef00,0x1e7f009,0x1e7ff00,0x1e80009,0x1e8c500,0x1e8c706,0x1e8d018,0x1e8d700,0x1e90009,
    0x1e94418,0x1e94b09,0x1e94c00,0x1e9500e,0x1e95a00,0x1ec7106,0x1ecac00,0x1ecad06,0x1ecb000,0x1ecb106,
    0x1ecb500,0x1ed0106,0x1ed2e00,0x1ed2f06,0x1ed3e00,0x1ee0009,0x1ee0400,0x1ee0509,0x1ee2000,0x1ee2109,
    0x1ee2300,0x1ee2409,0x1ee2500,0x1ee2709,0x1ee2800,0x1ee2909,0x1ee3300,0x1ee3409,0x1ee3800,0x1ee3909,
    0x1ee3a00,0x1ee3b09,0x1ee3c00,0x1ee4209,0x1ee4300,0x1ee4709,0x1ee4800,0x1ee4909,0x1ee4a00,0x1ee4b09,
    0x1ee4c00,0x1ee4d09,0x1ee5000,0x1ee5109,0x1ee5300,0x1ee5409,0x1ee5500,0x1ee5709,0x1ee5800,0x1ee5909,
    0x1ee5a00,0x1ee5b09,0x1ee5c00,0x1ee5d09,0x1ee5e00,0x1ee5f09,0x1ee6000,0x1ee6109,0x1ee6300,0x1ee6409,
    0x1ee6500,0x1ee6709,0x1ee6b00,0x1ee6c09,0x1ee7300,0x1ee7409,0x1ee7800,0x1ee7909,0x1ee7d00,0x1ee7e09,
    0x1ee7f00,0x1ee8009,0x1ee8a00,0x1ee8b09,0x1ee9c00,0x1eea109,0x1eea400,0x1eea509,0x1eeaa00,0x1eeab09,
    0x1eebc00,0x1f10006,0x1f10d00,0x1f13008,0x1f14a00,0x1f15008,0x1f16a00,0x1f17008,0x1f18a00,0x1fbf00e,
    0x1fbfa00,0x2000009,0x2a6e000,0x2a70009,0x2b73a00,0x2b74009,0x2b81e00,0x2b82009,0x2cea200,0x2ceb009,
    0x2ebe100,0x2ebf009,0x2ee5e00,0x2f80019,0x2fa1e00,0x3000009,0x3134b00,0x3135009,0x323b000,0xe010008,
    0xe01f000,
};
/* canonical combining class runs: start << 8 | ccc */
static const uint32_t rl__uccc[496] = {
    0x0,0x300e6,0x315e8,0x316dc,0x31ae8,0x31bd8,0x31cdc,0x321ca,0x323dc,0x327ca,
    0x329dc,0x33401,0x339dc,0x33de6,0x345f0,0x346e6,0x347dc,0x34ae6,0x34ddc,0x34f00,
    0x350e6,0x353dc,0x357e6,0x358e8,0x359dc,0x35be6,0x35ce9,0x35dea,0x35fe9,0x360ea,
    0x362e9,0x363e6,0x37000,0x483e6,0x48800,0x591dc,0x592e6,0x596dc,0x597e6,0x59ade,
    0x59bdc,0x59ce6,0x5a2dc,0x5a8e6,0x5aadc,0x5abe6,0x5adde,0x5aee4,0x5afe6,0x5b00a,
    0x5b10b,0x5b20c,0x5b30d,0x5b40e,0x5b50f,0x5b610,0x5b711,0x5b812,0x5b913,0x5bb14,
    0x5bc15,0x5bd16,0x5be00,0x5bf17,0x5c000,0x5c118,0x5c219,0x5c300,0x5c4e6,0x5c5dc,
    0x5c600,0x5c712,0x5c800,0x610e6,0x6181e,0x6191f,0x61a20,0x61b00,0x64b1b,0x64c1c,
    0x64d1d,0x64e1e,0x64f1f,0x65020,0x65121,0x65222,0x653e6,0x655dc,0x657e6,0x65cdc,
    0x65de6,0x65fdc,0x66000,0x67023,0x67100,0x6d6e6,0x6dd00,0x6dfe6,0x6e3dc,0x6e4e6,
    0x6e500,0x6e7e6,0x6e900,0x6eadc,0x6ebe6,0x6eddc,0x6ee00,0x71124,0x71200,0x730e6,
    0x731dc,0x732e6,0x734dc,0x735e6,0x737dc,0x73ae6,0x73bdc,0x73de6,0x73edc,0x73fe6,
    0x742dc,0x743e6,0x744dc,0x745e6,0x746dc,0x747e6,0x748dc,0x749e6,0x74b00,0x7ebe6,
    0x7f2dc,0x7f3e6,0x7f400,0x816e6,0x81a00,0x81be6,0x82400,0x825e6,0x82800,0x829e6,
    0x82e00,0x859dc,0x85c00,0x8d4e6,0x8e200,0x8e3dc,0x8e4e6,0x8e6dc,0x8e7e6,0x8e9dc,
    0x8eae6,0x8eddc,0x8f01b,0x8f11c,0x8f21d,0x8f3e6,0x8f6dc,0x8f7e6,0x8f9dc,0x8fbe6,
    0x90000,0x93c07,0x93d00,0x94d09,0x94e00,0x951e6,0x952dc,0x953e6,0x95500,0x9bc07,
    0x9bd00,0x9cd09,0x9ce00,0xa3c07,0xa3d00,0xa4d09,0xa4e00,0xabc07,0xabd00,0xacd09,
    0xace00,0xb3c07,0xb3d00,0xb4d09,0xb4e00,0xbcd09,0xbce00,0xc4d09,0xc4e00,0xc5554,
    0xc565b,0xc5700,0xcbc07,0xcbd00,0xccd09,0xcce00,0xd4d09,0xd4e00,0xdca09,0xdcb00,
    0xe3867,0xe3a09,0xe3b00,0xe486b,0xe4c00,0xeb876,0xeba00,0xec87a,0xecc00,0xf18dc,
    0xf1a00,0xf35dc,0xf3600,0xf37dc,0xf3800,0xf39d8,0xf3a00,0xf7181,0xf7282,0xf7300,
    0xf7484,0xf7500,0xf7a82,0xf7e00,0xf8082,0xf8100,0xf82e6,0xf8409,0xf8500,0xf86e6,
    0xf8800,0xfc6dc,0xfc700,0x103707,0x103800,0x103909,0x103b00,0x108ddc,0x108e00,0x135de6,
    0x136000,0x171409,0x171500,0x173409,0x173500,0x17d209,0x17d300,0x17dde6,0x17de00,0x18a9e4,
    0x18aa00,0x1939de,0x193ae6,0x193bdc,0x193c00,0x1a17e6,0x1a18dc,0x1a1900,0x1a6009,0x1a6100,
    0x1a75e6,0x1a7d00,0x1a7fdc,0x1a8000,0x1ab0e6,0x1ab5dc,0x1abbe6,0x1abddc,0x1abe00,0x1b3407,
    0x1b3500,0x1b4409,0x1b4500,0x1b6be6,0x1b6cdc,0x1b6de6,0x1b7400,0x1baa09,0x1bac00,0x1be607,
    0x1be700,0x1bf209,0x1bf400,0x1c3707,0x1c3800,0x1cd0e6,0x1cd300,0x1cd401,0x1cd5dc,0x1cdae6,
    0x1cdcdc,0x1ce0e6,0x1ce100,0x1ce201,0x1ce900,0x1ceddc,0x1cee00,0x1cf4e6,0x1cf500,0x1cf8e6,
    0x1cfa00,0x1dc0e6,0x1dc2dc,0x1dc3e6,0x1dcadc,0x1dcbe6,0x1dcdea,0x1dced6,0x1dcfdc,0x1dd0ca,
    0x1dd1e6,0x1df600,0x1dfbe6,0x1dfce9,0x1dfddc,0x1dfee6,0x1dffdc,0x1e0000,0x20d0e6,0x20d201,
    0x20d4e6,0x20d801,0x20dbe6,0x20dd00,0x20e1e6,0x20e200,0x20e501,0x20e7e6,0x20e8dc,0x20e9e6,
    0x20ea01,0x20ecdc,0x20f0e6,0x20f100,0x2cefe6,0x2cf200,0x2d7f09,0x2d8000,0x2de0e6,0x2e0000,
    0x302ada,0x302be4,0x302ce8,0x302dde,0x302ee0,0x303000,0x309908,0x309b00,0xa66fe6,0xa67000,
    0xa674e6,0xa67e00,0xa69ee6,0xa6a000,0xa6f0e6,0xa6f200,0xa80609,0xa80700,0xa8c409,0xa8c500,
    0xa8e0e6,0xa8f200,0xa92bdc,0xa92e00,0xa95309,0xa95400,0xa9b307,0xa9b400,0xa9c009,0xa9c100,
    0xaab0e6,0xaab100,0xaab2e6,0xaab4dc,0xaab500,0xaab7e6,0xaab900,0xaabee6,0xaac000,0xaac1e6,
    0xaac200,0xaaf609,0xaaf700,0xabed09,0xabee00,0xfb1e1a,0xfb1f00,0xfe20e6,0xfe27dc,0xfe2ee6,
    0xfe3000,0x101fddc,0x101fe00,0x102e0dc,0x102e100,0x10376e6,0x1037b00,0x10a0ddc,0x10a0e00,0x10a0fe6,
    0x10a1000,0x10a38e6,0x10a3901,0x10a3adc,0x10a3b00,0x10a3f09,0x10a4000,0x10ae5e6,0x10ae6dc,0x10ae700,
    0x1104609,0x1104700,0x1107f09,0x1108000,0x110b909,0x110ba07,0x110bb00,0x11100e6,0x1110300,0x1113309,
    0x1113500,0x1117307,0x1117400,0x111c009,0x111c100,0x111ca07,0x111cb00,0x1123509,0x1123607,0x1123700,
    0x112e907,0x112ea09,0x112eb00,0x1133c07,0x1133d00,0x1134d09,0x1134e00,0x11366e6,0x1136d00,0x11370e6,
    0x1137500,0x1144209,0x1144300,0x1144607,0x1144700,0x114c209,0x114c307,0x114c400,0x115bf09,0x115c007,
    0x115c100,0x1163f09,0x1164000,0x116b609,0x116b707,0x116b800,0x1172b09,0x1172c00,0x11c3f09,0x11c4000,
    0x16af001,0x16af500,0x16b30e6,0x16b3700,0x1bc9e01,0x1bc9f00,0x1d165d8,0x1d16701,0x1d16a00,0x1d16de2,
    0x1d16ed8,0x1d17300,0x1d17bdc,0x1d18300,0x1d185e6,0x1d18adc,0x1d18c00,0x1d1aae6,0x1d1ae00,0x1d242e6,
    0x1d24500,0x1e000e6,0x1e00700,0x1e008e6,0x1e01900,0x1e01be6,0x1e02200,0x1e023e6,0x1e02500,0x1e026e6,
    0x1e02b00,0x1e8d0dc,0x1e8d700,0x1e944e6,0x1e94a07,0x1e94b00,
};
/* canonical decompositions (one level), sorted: code point | 1<<31 if excluded from composition, first, second (0: singleton); Hangul syllables are algorithmic */
static const uint32_t rl__udecomp[6180] = {
    0xc0,0x41,0x300,0xc1,0x41,0x301,0xc2,0x41,0x302,0xc3,0x41,0x303,0xc4,0x41,0x308,0xc5,0x41,0x30a,
    0xc7,0x43,0x327,0xc8,0x45,0x300,0xc9,0x45,0x301,0xca,0x45,0x302,0xcb,0x45,0x308,0xcc,0x49,0x300,
    0xcd,0x49,0x301,0xce,0x49,0x302,0xcf,0x49,0x308,0xd1,0x4e,0x303,0xd2,0x4f,0x300,0xd3,0x4f,0x301,
    0xd4,0x4f,0x302,0xd5,0x4f,0x303,0xd6,0x4f,0x308,0xd9,0x55,0x300,0xda,0x55,0x301,0xdb,0x55,0x302,
    0xdc,0x55,0x308,0xdd,0x59,0x301,0xe0,0x61,0x300,0xe1,0x61,0x301,0xe2,0x61,0x302,0xe3,0x61,0x303,
    0xe4,0x61,0x308,0xe5,0x61,0x30a,0xe7,0x63,0x327,0xe8,0x65,0x300,0xe9,0x65,0x301,0xea,0x65,0x302,
    0xeb,0x65,0x308,0xec,0x69,0x300,0xed,0x69,0x301,0xee,0x69,0x302,0xef,0x69,0x308,0xf1,0x6e,0x303,
    0xf2,0x6f,0x300,0xf3,0x6f,0x301,0xf4,0x6f,0x302,0xf5,0x6f,0x303,0xf6,0x6f,0x308,0xf9,0x75,0x300,
    0xfa,0x75,0x301,0xfb,0x75,0x302,0xfc,0x75,0x308,0xfd,0x79,0x301,0xff,0x79,0x308,0x100,0x41,0x304,
    0x101,0x61,0x304,0x102,0x41,0x306,0x103,0x61,0x306,0x104,0x41,0x328,0x105,0x61,0x328,0x106,0x43,0x301,
    0x107,0x63,0x301,0x108,0x43,0x302,0x109,0x63,0x302,0x10a,0x43,0x307,0x10b,0x63,0x307,0x10c,0x43,0x30c,
    0x10d,0x63,0x30c,0x10e,0x44,0x30c,0x10f,0x64,0x30c,0x112,0x45,0x304,0x113,0x65,0x304,0x114,0x45,0x306,
    0x115,0x65,0x306,0x116,0x45,0x307,0x117,0x65,0x307,0x118,0x45,0x328,0x119,0x65,0x328,0x11a,0x45,0x30c,
    0x11b,0x65,0x30c,0x11c,0x47,0x302,0x11d,0x67,0x302,0x11e,0x47,0x306,0x11f,0x67,0x306,0x120,0x47,0x307,
    0x121,0x67,0x307,0x122,0x47,0x327,0x123,0x67,0x327,0x124,0x48,0x302,0x125,0x68,0x302,0x128,0x49,0x303,
    0x129,0x69,0x303,0x12a,0x49,0x304,0x12b,0x69,0x304,0x12c,0x49,0x306,0x12d,0x69,0x306,0x12e,0x49,0x328,
    0x12f,0x69,0x328,0x130,0x49,0x307,0x134,0x4a,0x302,0x135,0x6a,0x302,0x136,0x4b,0x327,0x137,0x6b,0x327,
    0x139,0x4c,0x301,0x13a,0x6c,0x301,0x13b,0x4c,0x327,0x13c,0x6c,0x327,0x13d,0x4c,0x30c,0x13e,0x6c,0x30c,
    0x143,0x4e,0x301,0x144,0x6e,0x301,0x145,0x4e,0x327,0x146,0x6e,0x327,0x147,0x4e,0x30c,0x148,0x6e,0x30c,
    0x14c,0x4f,0x304,0x14d,0x6f,0x304,0x14e,0x4f,0x306,0x14f,0x6f,0x306,0x150,0x4f,0x30b,0x151,0x6f,0x30b,
    0x154,0x52,0x301,0x155,0x72,0x301,0x156,0x52,0x327,0x157,0x72,0x327,0x158,0x52,0x30c,0x159,0x72,0x30c,
    0x15a,0x53,0x301,0x15b,0x73,0x301,0x15c,0x53,0x302,0x15d,0x73,0x302,0x15e,0x53,0x327,0x15f,0x73,0x327,
    0x160,0x53,0x30c,0x161,0x73,0x30c,0x162,0x54,0x327,0x163,0x74,0x327,0x164,0x54,0x30c,0x165,0x74,0x30c,
    0x168,0x55,0x303,0x169,0x75,0x303,0x16a,0x55,0x304,0x16b,0x75,0x304,0x16c,0x55,0x306,0x16d,0x75,0x306,
    0x16e,0x55,0x30a,0x16f,0x75,0x30a,0x170,0x55,0x30b,0x171,0x75,0x30b,0x172,0x55,0x328,0x173,0x75,0x328,
    0x174,0x57,0x302,0x175,0x77,0x302,0x176,0x59,0x302,0x177,0x79,0x302,0x178,0x59,0x308,0x179,0x5a,0x301,
    0x17a,0x7a,0x301,0x17b,0x5a,0x307,0x17c,0x7a,0x307,0x17d,0x5a,0x30c,0x17e,0x7a,0x30c,0x1a0,0x4f,0x31b,
    0x1a1,0x6f,0x31b,0x1af,0x55,0x31b,0x1b0,0x75,0x31b,0x1cd,0x41,0x30c,0x1ce,0x61,0x30c,0x1cf,0x49,0x30c,
    0x1d0,0x69,0x30c,0x1d1,0x4f,0x30c,0x1d2,0x6f,0x30c,0x1d3,0x55,0x30c,0x1d4,0x75,0x30c,0x1d5,0xdc,0x304,
    0x1d6,0xfc,0x304,0x1d7,0xdc,0x301,0x1d8,0xfc,0x301,0x1d9,0xdc,0x30c,0x1da,0xfc,0x30c,0x1db,0xdc,0x300,
    0x1dc,0xfc,0x300,0x1de,0xc4,0x304,0x1df,0xe4,0x304,0x1e0,0x226,0x304,0x1e1,0x227,0x304,0x1e2,0xc6,0x304,
    0x1e3,0xe6,0x304,0x1e6,0x47,0x30c,0x1e7,0x67,0x30c,0x1e8,0x4b,0x30c,0x1e9,0x6b,0x30c,0x1ea,0x4f,0x328,
    0x1eb,0x6f,0x328,0x1ec,0x1ea,0x304,0x1ed,0x1eb,0x304,0x1ee,0x1b7,0x30c,0x1ef,0x292,0x30c,0x1f0,0x6a,0x30c,
    0x1f4,0x47,0x301,0x1f5,0x67,0x301,0x1f8,0x4e,0x300,0x1f9,0x6e,0x300,0x1fa,0xc5,0x301,0x1fb,0xe5,0x301,
    0x1fc,0xc6,0x301,0x1fd,0xe6,0x301,0x1fe,0xd8,0x301,0x1ff,0xf8,0x301,0x200,0x41,0x30f,0x201,0x61,0x30f,
    0x202,0x41,0x311,0x203,0x61,0x311,0x204,0x45,0x30f,0x205,0x65,0x30f,0x206,0x45,0x311,0x207,0x65,0x311,
    0x208,0x49,0x30f,0x209,0x69,0x30f,0x20a,0x49,0x311,0x20b,0x69,0x311,0x20c,0x4f,0x30f,0x20d,0x6f,0x30f,
    0x20e,0x4f,0x311,0x20f,0x6f,0x311,0x210,0x52,0x30f,0x211,0x72,0x30f,0x212,0x52,0x311,0x213,0x72,0x311,
    0x214,0x55,0x30f,0x215,0x75,0x30f,0x216,0x55,0x311,0x217,0x75,0x311,0x218,0x53,0x326,0x219,0x73,0x326,
    0x21a,0x54,0x326,0x21b,0x74,0x326,0x21e,0x48,0x30c,0x21f,0x68,0x30c,0x226,0x41,0x307,0x227,0x61,0x307,
    0x228,0x45,0x327,0x229,0x65,0x327,0x22a,0xd6,0x304,0x22b,0xf6,0x304,0x22c,0xd5,0x304,0x22d,0xf5,0x304,
    0x22e,0x4f,0x307,0x22f,0x6f,0x307,0x230,0x22e,0x304,0x231,0x22f,0x304,0x232,0x59,0x304,0x233,0x79,0x304,
    0x80000340,0x300,0x0,0x80000341,0x301,0x0,0x80000343,0x313,0x0,0x80000344,0x308,0x301,0x80000374,0x2b9,0x0,0x8000037e,0x3b,0x0,
    0x385,0xa8,0x301,0x386,0x391,0x301,0x80000387,0xb7,0x0,0x388,0x395,0x301,0x389,0x397,0x301,0x38a,0x399,0x301,
    0x38c,0x39f,0x301,0x38e,0x3a5,0x301,0x38f,0x3a9,0x301,0x390,0x3ca,0x301,0x3aa,0x399,0x308,0x3ab,0x3a5,0x308,
    0x3ac,0x3b1,0x301,0x3ad,0x3b5,0x301,0x3ae,0x3b7,0x301,0x3af,0x3b9,0x301,0x3b0,0x3cb,0x301,0x3ca,0x3b9,0x308,
    0x3cb,0x3c5,0x308,0x3cc,0x3bf,0x301,0x3cd,0x3c5,0x301,0x3ce,0x3c9,0x301,0x3d3,0x3d2,0x301,0x3d4,0x3d2,0x308,
    0x400,0x415,0x300,0x401,0x415,0x308,0x403,0x413,0x301,0x407,0x406,0x308,0x40c,0x41a,0x301,0x40d,0x418,0x300,
    0x40e,0x423,0x306,0x419,0x418,0x306,0x439,0x438,0x306,0x450,0x435,0x300,0x451,0x435,0x308,0x453,0x433,0x301,
    0x457,0x456,0x308,0x45c,0x43a,0x301,0x45d,0x438,0x300,0x45e,0x443,0x306,0x476,0x474,0x30f,0x477,0x475,0x30f,
    0x4c1,0x416,0x306,0x4c2,0x436,0x306,0x4d0,0x410,0x306,0x4d1,0x430,0x306,0x4d2,0x410,0x308,0x4d3,0x430,0x308,
    0x4d6,0x415,0x306,0x4d7,0x435,0x306,0x4da,0x4d8,0x308,0x4db,0x4d9,0x308,0x4dc,0x416,0x308,0x4dd,0x436,0x308,
    0x4de,0x417,0x308,0x4df,0x437,0x308,0x4e2,0x418,0x304,0x4e3,0x438,0x304,0x4e4,0x418,0x308,0x4e5,0x438,0x308,
    0x4e6,0x41e,0x308,0x4e7,0x43e,0x308,0x4ea,0x4e8,0x308,0x4eb,0x4e9,0x308,0x4ec,0x42d,0x308,0x4ed,0x44d,0x308,
    0x4ee,0x423,0x304,0x4ef,0x443,0x304,0x4f0,0x423,0x308,0x4f1,0x443,0x308,0x4f2,0x423,0x30b,0x4f3,0x443,0x30b,
    0x4f4,0x427,0x308,0x4f5,0x447,0x308,0x4f8,0x42b,0x308,0x4f9,0x44b,0x308,0x622,0x627,0x653,0x623,0x627,0x654,
    0x624,0x648,0x654,0x625,0x627,0x655,0x626,0x64a,0x654,0x6c0,0x6d5,0x654,0x6c2,0x6c1,0x654,0x6d3,0x6d2,0x654,
    0x929,0x928,0x93c,0x931,0x930,0x93c,0x934,0x933,0x93c,0x80000958,0x915,0x93c,0x80000959,0x916,0x93c,0x8000095a,0x917,0x93c,
    0x8000095b,0x91c,0x93c,0x8000095c,0x921,0x93c,0x8000095d,0x922,0x93c,0x8000095e,0x92b,0x93c,0x8000095f,0x92f,0x93c,0x9cb,0x9c7,0x9be,
    0x9cc,0x9c7,0x9d7,0x800009dc,0x9a1,0x9bc,0x800009dd,0x9a2,0x9bc,0x800009df,0x9af,0x9bc,0x80000a33,0xa32,0xa3c,0x80000a36,0xa38,0xa3c,
    0x80000a59,0xa16,0xa3c,0x80000a5a,0xa17,0xa3c,0x80000a5b,0xa1c,0xa3c,0x80000a5e,0xa2b,0xa3c,0xb48,0xb47,0xb56,0xb4b,0xb47,0xb3e,
    0xb4c,0xb47,0xb57,0x80000b5c,0xb21,0xb3c,0x80000b5d,0xb22,0xb3c,0xb94,0xb92,0xbd7,0xbca,0xbc6,0xbbe,0xbcb,0xbc7,0xbbe,
    0xbcc,0xbc6,0xbd7,0xc48,0xc46,0xc56,0xcc0,0xcbf,0xcd5,0xcc7,0xcc6,0xcd5,0xcc8,0xcc6,0xcd6,0xcca,0xcc6,0xcc2,
    0xccb,0xcca,0xcd5,0xd4a,0xd46,0xd3e,0xd4b,0xd47,0xd3e,0xd4c,0xd46,0xd57,0xdda,0xdd9,0xdca,0xddc,0xdd9,0xdcf,
    0xddd,0xddc,0xdca,0xdde,0xdd9,0xddf,0x80000f43,0xf42,0xfb7,0x80000f4d,0xf4c,0xfb7,0x80000f52,0xf51,0xfb7,0x80000f57,0xf56,0xfb7,
    0x80000f5c,0xf5b,0xfb7,0x80000f69,0xf40,0xfb5,0x80000f73,0xf71,0xf72,0x80000f75,0xf71,0xf74,0x80000f76,0xfb2,0xf80,0x80000f78,0xfb3,0xf80,
    0x80000f81,0xf71,0xf80,0x80000f93,0xf92,0xfb7,0x80000f9d,0xf9c,0xfb7,0x80000fa2,0xfa1,0xfb7,0x80000fa7,0xfa6,0xfb7,0x80000fac,0xfab,0xfb7,
    0x80000fb9,0xf90,0xfb5,0x1026,0x1025,0x102e,0x1b06,0x1b05,0x1b35,0x1b08,0x1b07,0x1b35,0x1b0a,0x1b09,0x1b35,0x1b0c,0x1b0b,0x1b35,
    0x1b0e,0x1b0d,0x1b35,0x1b12,0x1b11,0x1b35,0x1b3b,0x1b3a,0x1b35,0x1b3d,0x1b3c,0x1b35,0x1b40,0x1b3e,0x1b35,0x1b41,0x1b3f,0x1b35,
    0x1b43,0x1b42,0x1b35,0x1e00,0x41,0x325,0x1e01,0x61,0x325,0x1e02,0x42,0x307,0x1e03,0x62,0x307,0x1e04,0x42,0x323,
    0x1e05,0x62,0x323,0x1e06,0x42,0x331,0x1e07,0x62,0x331,0x1e08,0xc7,0x301,0x1e09,0xe7,0x301,0x1e0a,0x44,0x307,
    0x1e0b,0x64,0x307,0x1e0c,0x44,0x323,0x1e0d,0x64,0x323,0x1e0e,0x44,0x331,0x1e0f,0x64,0x331,0x1e10,0x44,0x327,
    0x1e11,0x64,0x327,0x1e12,0x44,0x32d,0x1e13,0x64,0x32d,0x1e14,0x112,0x300,0x1e15,0x113,0x300,0x1e16,0x112,0x301,
    0x1e17,0x113,0x301,0x1e18,0x45,0x32d,0x1e19,0x65,0x32d,0x1e1a,0x45,0x330,0x1e1b,0x65,0x330,0x1e1c,0x228,0x306,
    0x1e1d,0x229,0x306,0x1e1e,0x46,0x307,0x1e1f,0x66,0x307,0x1e20,0x47,0x304,0x1e21,0x67,0x304,0x1e22,0x48,0x307,
    0x1e23,0x68,0x307,0x1e24,0x48,0x323,0x1e25,0x68,0x323,0x1e26,0x48,0x308,0x1e27,0x68,0x308,0x1e28,0x48,0x327,
    0x1e29,0x68,0x327,0x1e2a,0x48,0x32e,0x1e2b,0x68,0x32e,0x1e2c,0x49,0x330,0x1e2d,0x69,0x330,0x1e2e,0xcf,0x301,
    0x1e2f,0xef,0x301,0x1e30,0x4b,0x301,0x1e31,0x6b,0x301,0x1e32,0x4b,0x323,0x1e33,0x6b,0x323,0x1e34,0x4b,0x331,
    0x1e35,0x6b,0x331,0x1e36,0x4c,0x323,0x1e37,0x6c,0x323,0x1e38,0x1e36,0x304,0x1e39,0x1e37,0x304,0x1e3a,0x4c,0x331,
    0x1e3b,0x6c,0x331,0x1e3c,0x4c,0x32d,0x1e3d,0x6c,0x32d,0x1e3e,0x4d,0x301,0x1e3f,0x6d,0x301,0x1e40,0x4d,0x307,
    0x1e41,0x6d,0x307,0x1e42,0x4d,0x323,0x1e43,0x6d,0x323,0x1e44,0x4e,0x307,0x1e45,0x6e,0x307,0x1e46,0x4e,0x323,
    0x1e47,0x6e,0x323,0x1e48,0x4e,0x331,0x1e49,0x6e,0x331,0x1e4a,0x4e,0x32d,0x1e4b,0x6e,0x32d,0x1e4c,0xd5,0x301,
    0x1e4d,0xf5,0x301,0x1e4e,0xd5,0x308,0x1e4f,0xf5,0x308,0x1e50,0x14c,0x300,0x1e51,0x14d,0x300,0x1e52,0x14c,0x301,
    0x1e53,0x14d,0x301,0x1e54,0x50,0x301,0x1e55,0x70,0x301,0x1e56,0x50,0x307,0x1e57,0x70,0x307,0x1e58,0x52,0x307,
    0x1e59,0x72,0x307,0x1e5a,0x52,0x323,0x1e5b,0x72,0x323,0x1e5c,0x1e5a,0x304,0x1e5d,0x1e5b,0x304,0x1e5e,0x52,0x331,
    0x1e5f,0x72,0x331,0x1e60,0x53,0x307,0x1e61,0x73,0x307,0x1e62,0x53,0x323,0x1e63,0x73,0x323,0x1e64,0x15a,0x307,
    0x1e65,0x15b,0x307,0x1e66,0x160,0x307,0x1e67,0x161,0x307,0x1e68,0x1e62,0x307,0x1e69,0x1e63,0x307,0x1e6a,0x54,0x307,
    0x1e6b,0x74,0x307,0x1e6c,0x54,0x323,0x1e6d,0x74,0x323,0x1e6e,0x54,0x331,0x1e6f,0x74,0x331,0x1e70,0x54,0x32d,
    0x1e71,0x74,0x32d,0x1e72,0x55,0x324,0x1e73,0x75,0x324,0x1e74,0x55,0x330,0x1e75,0x75,0x330,0x1e76,0x55,0x32d,
    0x1e77,0x75,0x32d,0x1e78,0x168,0x301,0x1e79,0x169,0x301,0x1e7a,0x16a,0x308,0x1e7b,0x16b,0x308,0x1e7c,0x56,0x303,
    0x1e7d,0x76,0x303,0x1e7e,0x56,0x323,0x1e7f,0x76,0x323,0x1e80,0x57,0x300,0x1e81,0x77,0x300,0x1e82,0x57,0x301,
    0x1e83,0x77,0x301,0x1e84,0x57,0x308,0x1e85,0x77,0x308,0x1e86,0x57,0x307,0x1e87,0x77,0x307,0x1e88,0x57,0x323,
    0x1e89,0x77,0x323,0x1e8a,0x58,0x307,0x1e8b,0x78,0x307,0x1e8c,0x58,0x308,0x1e8d,0x78,0x308,0x1e8e,0x59,0x307,
    0x1e8f,0x79,0x307,0x1e90,0x5a,0x302,0x1e91,0x7a,0x302,0x1e92,0x5a,0x323,0x1e93,0x7a,0x323,0x1e94,0x5a,0x331,
    0x1e95,0x7a,0x331,0x1e96,0x68,0x331,0x1e97,0x74,0x308,0x1e98,0x77,0x30a,0x1e99,0x79,0x30a,0x1e9b,0x17f,0x307,
    0x1ea0,0x41,0x323,0x1ea1,0x61,0x323,0x1ea2,0x41,0x309,0x1ea3,0x61,0x309,0x1ea4,0xc2,0x301,0x1ea5,0xe2,0x301,
    0x1ea6,0xc2,0x300,0x1ea7,0xe2,0x300,0x1ea8,0xc2,0x309,0x1ea9,0xe2,0x309,0x1eaa,0xc2,0x303,0x1eab,0xe2,0x303,
    0x1eac,0x1ea0,0x302,0x1ead,0x1ea1,0x302,0x1eae,0x102,0x301,0x1eaf,0x103,0x301,0x1eb0,0x102,0x300,0x1eb1,0x103,0x300,
    0x1eb2,0x102,0x309,0x1eb3,0x103,0x309,0x1eb4,0x102,0x303,0x1eb5,0x103,0x303,0x1eb6,0x1ea0,0x306,0x1eb7,0x1ea1,0x306,
    0x1eb8,0x45,0x323,0x1eb9,0x65,0x323,0x1eba,0x45,0x309,0x1ebb,0x65,0x309,0x1ebc,0x45,0x303,0x1ebd,0x65,0x303,
    0x1ebe,0xca,0x301,0x1ebf,0xea,0x301,0x1ec0,0xca,0x300,0x1ec1,0xea,0x300,0x1ec2,0xca,0x309,0x1ec3,0xea,0x309,
    0x1ec4,0xca,0x303,0x1ec5,0xea,0x303,0x1ec6,0x1eb8,0x302,0x1ec7,0x1eb9,0x302,0x1ec8,0x49,0x309,0x1ec9,0x69,0x309,
    0x1eca,0x49,0x323,0x1ecb,0x69,0x323,0x1ecc,0x4f,0x323,0x1ecd,0x6f,0x323,0x1ece,0x4f,0x309,0x1ecf,0x6f,0x309,
    0x1ed0,0xd4,0x301,0x1ed1,0xf4,0x301,0x1ed2,0xd4,0x300,0x1ed3,0xf4,0x300,0x1ed4,0xd4,0x309,0x1ed5,0xf4,0x309,
    0x1ed6,0xd4,0x303,0x1ed7,0xf4,0x303,0x1ed8,0x1ecc,0x302,0x1ed9,0x1ecd,0x302,0x1eda,0x1a0,0x301,0x1edb,0x1a1,0x301,
    0x1edc,0x1a0,0x300,0x1edd,0x1a1,0x300,0x1ede,0x1a0,0x309,0x1edf,0x1a1,0x309,0x1ee0,0x1a0,0x303,0x1ee1,0x1a1,0x303,
    0x1ee2,0x1a0,0x323,0x1ee3,0x1a1,0x323,0x1ee4,0x55,0x323,0x1ee5,0x75,0x323,0x1ee6,0x55,0x309,0x1ee7,0x75,0x309,
    0x1ee8,0x1af,0x301,0x1ee9,0x1b0,0x301,0x1eea,0x1af,0x300,0x1eeb,0x1b0,0x300,0x1eec,0x1af,0x309,0x1eed,0x1b0,0x309,
    0x1eee,0x1af,0x303,0x1eef,0x1b0,0x303,0x1ef0,0x1af,0x323,0x1ef1,0x1b0,0x323,0x1ef2,0x59,0x300,0x1ef3,0x79,0x300,
    0x1ef4,0x59,0x323,0x1ef5,0x79,0x323,0x1ef6,0x59,0x309,0x1ef7,0x79,0x309,0x1ef8,0x59,0x303,0x1ef9,0x79,0x303,
    0x1f00,0x3b1,0x313,0x1f01,0x3b1,0x314,0x1f02,0x1f00,0x300,0x1f03,0x1f01,0x300,0x1f04,0x1f00,0x301,0x1f05,0x1f01,0x301,
    0x1f06,0x1f00,0x342,0x1f07,0x1f01,0x342,0x1f08,0x391,0x313,0x1f09,0x391,0x314,0x1f0a,0x1f08,0x300,0x1f0b,0x1f09,0x300,
    0x1f0c,0x1f08,0x301,0x1f0d,0x1f09,0x301,0x1f0e,0x1f08,0x342,0x1f0f,0x1f09,0x342,0x1f10,0x3b5,0x313,0x1f11,0x3b5,0x314,
    0x1f12,0x1f10,0x300,0x1f13,0x1f11,0x300,0x1f14,0x1f10,0x301,0x1f15,0x1f11,0x301,0x1f18,0x395,0x313,0x1f19,0x395,0x314,
    0x1f1a,0x1f18,0x300,0x1f1b,0x1f19,0x300,0x1f1c,0x1f18,0x301,0x1f1d,0x1f19,0x301,0x1f20,0x3b7,0x313,0x1f21,0x3b7,0x314,
    0x1f22,0x1f20,0x300,0x1f23,0x1f21,0x300,0x1f24,0x1f20,0x301,0x1f25,0x1f21,0x301,0x1f26,0x1f20,0x342,0x1f27,0x1f21,0x342,
    0x1f28,0x397,0x313,0x1f29,0x397,0x314,0x1f2a,0x1f28,0x300,0x1f2b,0x1f29,0x300,0x1f2c,0x1f28,0x301,0x1f2d,0x1f29,0x301,
    0x1f2e,0x1f28,0x342,0x1f2f,0x1f29,0x342,0x1f30,0x3b9,0x313,0x1f31,0x3b9,0x314,0x1f32,0x1f30,0x300,0x1f33,0x1f31,0x300,
    0x1f34,0x1f30,0x301,0x1f35,0x1f31,0x301,0x1f36,0x1f30,0x342,0x1f37,0x1f31,0x342,0x1f38,0x399,0x313,0x1f39,0x399,0x314,
    0x1f3a,0x1f38,0x300,0x1f3b,0x1f39,0x300,0x1f3c,0x1f38,0x301,0x1f3d,0x1f39,0x301,0x1f3e,0x1f38,0x342,0x1f3f,0x1f39,0x342,
    0x1f40,0x3bf,0x313,0x1f41,0x3bf,0x314,0x1f42,0x1f40,0x300,0x1f43,0x1f41,0x300,0x1f44,0x1f40,0x301,0x1f45,0x1f41,0x301,
    0x1f48,0x39f,0x313,0x1f49,0x39f,0x314,0x1f4a,0x1f48,0x300,0x1f4b,0x1f49,0x300,0x1f4c,0x1f48,0x301,0x1f4d,0x1f49,0x301,
    0x1f50,0x3c5,0x313,0x1f51,0x3c5,0x314,0x1f52,0x1f50,0x300,0x1f53,0x1f51,0x300,0x1f54,0x1f50,0x301,0x1f55,0x1f51,0x301,
    0x1f56,0x1f50,0x342,0x1f57,0x1f51,0x342,0x1f59,0x3a5,0x314,0x1f5b,0x1f59,0x300,0x1f5d,0x1f59,0x301,0x1f5f,0x1f59,0x342,
    0x1f60,0x3c9,0x313,0x1f61,0x3c9,0x314,0x1f62,0x1f60,0x300,0x1f63,0x1f61,0x300,0x1f64,0x1f60,0x301,0x1f65,0x1f61,0x301,
    0x1f66,0x1f60,0x342,0x1f67,0x1f61,0x342,0x1f68,0x3a9,0x313,0x1f69,0x3a9,0x314,0x1f6a,0x1f68,0x300,0x1f6b,0x1f69,0x300,
    0x1f6c,0x1f68,0x301,0x1f6d,0x1f69,0x301,0x1f6e,0x1f68,0x342,0x1f6f,0x1f69,0x342,0x1f70,0x3b1,0x300,0x80001f71,0x3ac,0x0,
    0x1f72,0x3b5,0x300,0x80001f73,0x3ad,0x0,0x1f74,0x3b7,0x300,0x80001f75,0x3ae,0x0,0x1f76,0x3b9,0x300,0x80001f77,0x3af,0x0,
    0x1f78,0x3bf,0x300,0x80001f79,0x3cc,0x0,0x1f7a,0x3c5,0x300,0x80001f7b,0x3cd,0x0,0x1f7c,0x3c9,0x300,0x80001f7d,0x3ce,0x0,
    0x1f80,0x1f00,0x345,0x1f81,0x1f01,0x345,0x1f82,0x1f02,0x345,0x1f83,0x1f03,0x345,0x1f84,0x1f04,0x345,0x1f85,0x1f05,0x345,
    0x1f86,0x1f06,0x345,0x1f87,0x1f07,0x345,0x1f88,0x1f08,0x345,0x1f89,0x1f09,0x345,0x1f8a,0x1f0a,0x345,0x1f8b,0x1f0b,0x345,
    0x1f8c,0x1f0c,0x345,0x1f8d,0x1f0d,0x345,0x1f8e,0x1f0e,0x345,0x1f8f,0x1f0f,0x345,0x1f90,0x1f20,0x345,0x1f91,0x1f21,0x345,
    0x1f92,0x1f22,0x345,0x1f93,0x1f23,0x345,0x1f94,0x1f24,0x345,0x1f95,0x1f25,0x345,0x1f96,0x1f26,0x345,0x1f97,0x1f27,0x345,
    0x1f98,0x1f28,0x345,0x1f99,0x1f29,0x345,0x1f9a,0x1f2a,0x345,0x1f9b,0x1f2b,0x345,0x1f9c,0x1f2c,0x345,0x1f9d,0x1f2d,0x345,
    0x1f9e,0x1f2e,0x345,0x1f9f,0x1f2f,0x345,0x1fa0,0x1f60,0x345,0x1fa1,0x1f61,0x345,0x1fa2,0x1f62,0x345,0x1fa3,0x1f63,0x345,
    0x1fa4,0x1f64,0x345,0x1fa5,0x1f65,0x345,0x1fa6,0x1f66,0x345,0x1fa7,0x1f67,0x345,0x1fa8,0x1f68,0x345,0x1fa9,0x1f69,0x345,
    0x1faa,0x1f6a,0x345,0x1fab,0x1f6b,0x345,0x1fac,0x1f6c,0x345,0x1fad,0x1f6d,0x345,0x1fae,0x1f6e,0x345,0x1faf,0x1f6f,0x345,
    0x1fb0,0x3b1,0x306,0x1fb1,0x3b1,0x304,0x1fb2,0x1f70,0x345,0x1fb3,0x3b1,0x345,0x1fb4,0x3ac,0x345,0x1fb6,0x3b1,0x342,
    0x1fb7,0x1fb6,0x345,0x1fb8,0x391,0x306,0x1fb9,0x391,0x304,0x1fba,0x391,0x300,0x80001fbb,0x386,0x0,0x1fbc,0x391,0x345,
    0x80001fbe,0x3b9,0x0,0x1fc1,0xa8,0x342,0x1fc2,0x1f74,0x345,0x1fc3,0x3b7,0x345,0x1fc4,0x3ae,0x345,0x1fc6,0x3b7,0x342,
    0x1fc7,0x1fc6,0x345,0x1fc8,0x395,0x300,0x80001fc9,0x388,0x0,0x1fca,0x397,0x300,0x80001fcb,0x389,0x0,0x1fcc,0x397,0x345,
    0x1fcd,0x1fbf,0x300,0x1fce,0x1fbf,0x301,0x1fcf,0x1fbf,0x342,0x1fd0,0x3b9,0x306,0x1fd1,0x3b9,0x304,0x1fd2,0x3ca,0x300,
    0x80001fd3,0x390,0x0,0x1fd6,0x3b9,0x342,0x1fd7,0x3ca,0x342,0x1fd8,0x399,0x306,0x1fd9,0x399,0x304,0x1fda,0x399,0x300,
    0x80001fdb,0x38a,0x0,0x1fdd,0x1ffe,0x300,0x1fde,0x1ffe,0x301,0x1fdf,0x1ffe,0x342,0x1fe0,0x3c5,0x306,0x1fe1,0x3c5,0x304,
    0x1fe2,0x3cb,0x300,0x80001fe3,0x3b0,0x0,0x1fe4,0x3c1,0x313,0x1fe5,0x3c1,0x314,0x1fe6,0x3c5,0x342,0x1fe7,0x3cb,0x342,
    0x1fe8,0x3a5,0x306,0x1fe9,0x3a5,0x304,0x1fea,0x3a5,0x300,0x80001feb,0x38e,0x0,0x1fec,0x3a1,0x314,0x1fed,0xa8,0x300,
    0x80001fee,0x385,0x0,0x80001fef,0x60,0x0,0x1ff2,0x1f7c,0x345,0x1ff3,0x3c9,0x345,0x1ff4,0x3ce,0x345,0x1ff6,0x3c9,0x342,
    0x1ff7,0x1ff6,0x345,0x1ff8,0x39f,0x300,0x80001ff9,0x38c,0x0,0x1ffa,0x3a9,0x300,0x80001ffb,0x38f,0x0,0x1ffc,0x3a9,0x345,
    0x80001ffd,0xb4,0x0,0x80002000,0x2002,0x0,0x80002001,0x2003,0x0,0x80002126,0x3a9,0x0,0x8000212a,0x4b,0x0,0x8000212b,0xc5,0x0,
    0x219a,0x2190,0x338,0x219b,0x2192,0x338,0x21ae,0x2194,0x338,0x21cd,0x21d0,0x338,0x21ce,0x21d4,0x338,0x21cf,0x21d2,0x338,
    0x2204,0x2203,0x338,0x2209,0x2208,0x338,0x220c,0x220b,0x338,0x2224,0x2223,0x338,0x2226,0x2225,0x338,0x2241,0x223c,0x338,
    0x2244,0x2243,0x338,0x2247,0x2245,0x338,0x2249,0x2248,0x338,0x2260,0x3d,0x338,0x2262,0x2261,0x338,0x226d,0x224d,0x338,
    0x226e,0x3c,0x338,0x226f,0x3e,0x338,0x2270,0x2264,0x338,0x2271,0x2265,0x338,0x2274,0x2272,0x338,0x2275,0x2273,0x338,
    0x2278,0x2276,0x338,0x2279,0x2277,0x338,0x2280,0x227a,0x338,0x2281,0x227b,0x338,0x2284,0x2282,0x338,0x2285,0x2283,0x338,
    0x2288,0x2286,0x338,0x2289,0x2287,0x338,0x22ac,0x22a2,0x338,0x22ad,0x22a8,0x338,0x22ae,0x22a9,0x338,0x22af,0x22ab,0x338,
    0x22e0,0x227c,0x338,0x22e1,0x227d,0x338,0x22e2,0x2291,0x338,0x22e3,0x2292,0x338,0x22ea,0x22b2,0x338,0x22eb,0x22b3,0x338,
    0x22ec,0x22b4,0x338,0x22ed,0x22b5,0x338,0x80002329,0x3008,0x0,0x8000232a,0x3009,0x0,0x80002adc,0x2add,0x338,0x304c,0x304b,0x3099,
    0x304e,0x304d,0x3099,0x3050,0x304f,0x3099,0x3052,0x3051,0x3099,0x3054,0x3053,0x3099,0x3056,0x3055,0x3099,0x3058,0x3057,0x3099,
    0x305a,0x3059,0x3099,0x305c,0x305b,0x3099,0x305e,0x305d,0x3099,0x3060,0x305f,0x3099,0x3062,0x3061,0x3099,0x3065,0x3064,0x3099,
    0x3067,0x3066,0x3099,0x3069,0x3068,0x3099,0x3070,0x306f,0x3099,0x3071,0x306f,0x309a,0x3073,0x3072,0x3099,0x3074,0x3072,0x309a,
    0x3076,0x3075,0x3099,0x3077,0x3075,0x309a,0x3079,0x3078,0x3099,0x307a,0x3078,0x309a,0x307c,0x307b,0x3099,0x307d,0x307b,0x309a,
    0x3094,0x3046,0x3099,0x309e,0x309d,0x3099,0x30ac,0x30ab,0x3099,0x30ae,0x30ad,0x3099,0x30b0,0x30af,0x3099,0x30b2,0x30b1,0x3099,
    0x30b4,0x30b3,0x3099,0x30b6,0x30b5,0x3099,0x30b8,0x30b7,0x3099,0x30ba,0x30b9,0x3099,0x30bc,0x30bb,0x3099,0x30be,0x30bd,0x3099,
    0x30c0,0x30bf,0x3099,0x30c2,0x30c1,0x3099,0x30c5,0x30c4,0x3099,0x30c7,0x30c6,0x3099,0x30c9,0x30c8,0x3099,0x30d0,0x30cf,0x3099,
    0x30d1,0x30cf,0x309a,0x30d3,0x30d2,0x3099,0x30d4,0x30d2,0x309a,0x30d6,0x30d5,0x3099,0x30d7,0x30d5,0x309a,0x30d9,0x30d8,0x3099,
    0x30da,0x30d8,0x309a,0x30dc,0x30db,0x3099,0x30dd,0x30db,0x309a,0x30f4,0x30a6,0x3099,0x30f7,0x30ef,0x3099,0x30f8,0x30f0,0x3099,
    0x30f9,0x30f1,0x3099,0x30fa,0x30f2,0x3099,0x30fe,0x30fd,0x3099,0x8000f900,0x8c48,0x0,0x8000f901,0x66f4,0x0,0x8000f902,0x8eca,0x0,
    0x8000f903,0x8cc8,0x0,0x8000f904,0x6ed1,0x0,0x8000f905,0x4e32,0x0,0x8000f906,0x53e5,0x0,0x8000f907,0x9f9c,0x0,0x8000f908,0x9f9c,0x0,
    0x8000f909,0x5951,0x0,0x8000f90a,0x91d1,0x0,0x8000f90b,0x5587,0x0,0x8000f90c,0x5948,0x0,0x8000f90d,0x61f6,0x0,0x8000f90e,0x7669,0x0,
    0x8000f90f,0x7f85,0x0,0x8000f910,0x863f,0x0,0x8000f911,0x87ba,0x0,0x8000f912,0x88f8,0x0,0x8000f913,0x908f,0x0,0x8000f914,0x6a02,0x0,
    0x8000f915,0x6d1b,0x0,0x8000f916,0x70d9,0x0,0x8000f917,0x73de,0x0,0x8000f918,0x843d,0x0,0x8000f919,0x916a,0x0,0x8000f91a,0x99f1,0x0,
    0x8000f91b,0x4e82,0x0,0x8000f91c,0x5375,0x0,0x8000f91d,0x6b04,0x0,0x8000f91e,0x721b,0x0,0x8000f91f,0x862d,0x0,0x8000f920,0x9e1e,0x0,
    0x8000f921,0x5d50,0x0,0x8000f922,0x6feb,0x0,0x8000f923,0x85cd,0x0,0x8000f924,0x8964,0x0,0x8000f925,0x62c9,0x0,0x8000f926,0x81d8,0x0,
    0x8000f927,0x881f,0x0,0x8000f928,0x5eca,0x0,0x8000f929,0x6717,0x0,0x8000f92a,0x6d6a,0x0,0x8000f92b,0x72fc,0x0,0x8000f92c,0x90ce,0x0,
    0x8000f92d,0x4f86,0x0,0x8000f92e,0x51b7,0x0,0x8000f92f,0x52de,0x0,0x8000f930,0x64c4,0x0,0x8000f931,0x6ad3,0x0,0x8000f932,0x7210,0x0,
    0x8000f933,0x76e7,0x0,0x8000f934,0x8001,0x0,0x8000f935,0x8606,0x0,0x8000f936,0x865c,0x0,0x8000f937,0x8def,0x0,0x8000f938,0x9732,0x0,
    0x8000f939,0x9b6f,0x0,0x8000f93a,0x9dfa,0x0,0x8000f93b,0x788c,0x0,0x8000f93c,0x797f,0x0,0x8000f93d,0x7da0,0x0,0x8000f93e,0x83c9,0x0,
    0x8000f93f,0x9304,0x0,0x8000f940,0x9e7f,0x0,0x8000f941,0x8ad6,0x0,0x8000f942,0x58df,0x0,0x8000f943,0x5f04,0x0,0x8000f944,0x7c60,0x0,
    0x8000f945,0x807e,0x0,0x8000f946,0x7262,0x0,0x8000f947,0x78ca,0x0,0x8000f948,0x8cc2,0x0,0x8000f949,0x96f7,0x0,0x8000f94a,0x58d8,0x0,
    0x8000f94b,0x5c62,0x0,0x8000f94c,0x6a13,0x0,0x8000f94d,0x6dda,0x0,0x8000f94e,0x6f0f,0x0,0x8000f94f,0x7d2f,0x0,0x8000f950,0x7e37,0x0,
    0x8000f951,0x964b,0x0,0x8000f952,0x52d2,0x0,0x8000f953,0x808b,0x0,0x8000f954,0x51dc,0x0,0x8000f955,0x51cc,0x0,0x8000f956,0x7a1c,0x0,
    0x8000f957,0x7dbe,0x0,0x8000f958,0x83f1,0x0,0x8000f959,0x9675,0x0,0x8000f95a,0x8b80,0x0,0x8000f95b,0x62cf,0x0,0x8000f95c,0x6a02,0x0,
    0x8000f95d,0x8afe,0x0,0x8000f95e,0x4e39,0x0,0x8000f95f,0x5be7,0x0,0x8000f960,0x6012,0x0,0x8000f961,0x7387,0x0,0x8000f962,0x7570,0x0,
    0x8000f963,0x5317,0x0,0x8000f964,0x78fb,0x0,0x8000f965,0x4fbf,0x0,0x8000f966,0x5fa9,0x0,0x8000f967,0x4e0d,0x0,0x8000f968,0x6ccc,0x0,
    0x8000f969,0x6578,0x0,0x8000f96a,0x7d22,0x0,0x8000f96b,0x53c3,0x0,0x8000f96c,0x585e,0x0,0x8000f96d,0x7701,0x0,0x8000f96e,0x8449,0x0,
    0x8000f96f,0x8aaa,0x0,0x8000f970,0x6bba,0x0,0x8000f971,0x8fb0,0x0,0x8000f972,0x6c88,0x0,0x8000f973,0x62fe,0x0,0x8000f974,0x82e5,0x0,
    0x8000f975,0x63a0,0x0,0x8000f976,0x7565,0x0,0x8000f977,0x4eae,0x0,0x8000f978,0x5169,0x0,0x8000f979,0x51c9,0x0,0x8000f97a,0x6881,0x0,
    0x8000f97b,0x7ce7,0x0,0x8000f97c,0x826f,0x0,0x8000f97d,0x8ad2,0x0,0x8000f97e,0x91cf,0x0,0x8000f97f,0x52f5,0x0,0x8000f980,0x5442,0x0,
    0x8000f981,0x5973,0x0,0x8000f982,0x5eec,0x0,0x8000f983,0x65c5,0x0,0x8000f984,0x6ffe,0x0,0x8000f985,0x792a,0x0,0x8000f986,0x95ad,0x0,
    0x8000f987,0x9a6a,0x0,0x8000f988,0x9e97,0x0,0x8000f989,0x9ece,0x0,0x8000f98a,0x529b,0x0,0x8000f98b,0x66c6,0x0,0x8000f98c,0x6b77,0x0,
    0x8000f98d,0x8f62,0x0,0x8000f98e,0x5e74,0x0,0x8000f98f,0x6190,0x0,0x8000f990,0x6200,0x0,0x8000f991,0x649a,0x0,0x8000f992,0x6f23,0x0,
    0x8000f993,0x7149,0x0,0x8000f994,0x7489,0x0,0x8000f995,0x79ca,0x0,0x8000f996,0x7df4,0x0,0x8000f997,0x806f,0x0,0x8000f998,0x8f26,0x0,
    0x8000f999,0x84ee,0x0,0x8000f99a,0x9023,0x0,0x8000f99b,0x934a,0x0,0x8000f99c,0x5217,0x0,0x8000f99d,0x52a3,0x0,0x8000f99e,0x54bd,0x0,
    0x8000f99f,0x70c8,0x0,0x8000f9a0,0x88c2,0x0,0x8000f9a1,0x8aaa,0x0,0x8000f9a2,0x5ec9,0x0,0x8000f9a3,0x5ff5,0x0,0x8000f9a4,0x637b,0x0,
    0x8000f9a5,0x6bae,0x0,0x8000f9a6,0x7c3e,0x0,0x8000f9a7,0x7375,0x0,0x8000f9a8,0x4ee4,0x0,0x8000f9a9,0x56f9,0x0,0x8000f9aa,0x5be7,0x0,
    0x8000f9ab,0x5dba,0x0,0x8000f9ac,0x601c,0x0,0x8000f9ad,0x73b2,0x0,0x8000f9ae,0x7469,0x0,0x8000f9af,0x7f9a,0x0,0x8000f9b0,0x8046,0x0,
    0x8000f9b1,0x9234,0x0,0x8000f9b2,0x96f6,0x0,0x8000f9b3,0x9748,0x0,0x8000f9b4,0x9818,0x0,0x8000f9b5,0x4f8b,0x0,0x8000f9b6,0x79ae,0x0,
    0x8000f9b7,0x91b4,0x0,0x8000f9b8,0x96b8,0x0,0x8000f9b9,0x60e1,0x0,0x8000f9ba,0x4e86,0x0,0x8000f9bb,0x50da,0x0,0x8000f9bc,0x5bee,0x0,
    0x8000f9bd,0x5c3f,0x0,0x8000f9be,0x6599,0x0,0x8000f9bf,0x6a02,0x0,0x8000f9c0,0x71ce,0x0,0x8000f9c1,0x7642,0x0,0x8000f9c2,0x84fc,0x0,
    0x8000f9c3,0x907c,0x0,0x8000f9c4,0x9f8d,0x0,0x8000f9c5,0x6688,0x0,0x8000f9c6,0x962e,0x0,0x8000f9c7,0x5289,0x0,0x8000f9c8,0x677b,0x0,
    0x8000f9c9,0x67f3,0x0,0x8000f9ca,0x6d41,0x0,0x8000f9cb,0x6e9c,0x0,0x8000f9cc,0x7409,0x0,0x8000f9cd,0x7559,0x0,0x8000f9ce,0x786b,0x0,
    0x8000f9cf,0x7d10,0x0,0x8000f9d0,0x985e,0x0,0x8000f9d1,0x516d,0x0,0x8000f9d2,0x622e,0x0,0x8000f9d3,0x9678,0x0,0x8000f9d4,0x502b,0x0,
    0x8000f9d5,0x5d19,0x0,0x8000f9d6,0x6dea,0x0,0x8000f9d7,0x8f2a,0x0,0x8000f9d8,0x5f8b,0x0,0x8000f9d9,0x6144,0x0,0x8000f9da,0x6817,0x0,
    0x8000f9db,0x7387,0x0,0x8000f9dc,0x9686,0x0,0x8000f9dd,0x5229,0x0,0x8000f9de,0x540f,0x0,0x8000f9df,0x5c65,0x0,0x8000f9e0,0x6613,0x0,
    0x8000f9e1,0x674e,0x0,0x8000f9e2,0x68a8,0x0,0x8000f9e3,0x6ce5,0x0,0x8000f9e4,0x7406,0x0,0x8000f9e5,0x75e2,0x0,0x8000f9e6,0x7f79,0x0,
    0x8000f9e7,0x88cf,0x0,0x8000f9e8,0x88e1,0x0,0x8000f9e9,0x91cc,0x0,0x8000f9ea,0x96e2,0x0,0x8000f9eb,0x533f,0x0,0x8000f9ec,0x6eba,0x0,
    0x8000f9ed,0x541d,0x0,0x8000f9ee,0x71d0,0x0,0x8000f9ef,0x7498,0x0,0x8000f9f0,0x85fa,0x0,0x8000f9f1,0x96a3,0x0,0x8000f9f2,0x9c57,0x0,
    0x8000f9f3,0x9e9f,0x0,0x8000f9f4,0x6797,0x0,0x8000f9f5,0x6dcb,0x0,0x8000f9f6,0x81e8,0x0,0x8000f9f7,0x7acb,0x0,0x8000f9f8,0x7b20,0x0,
    0x8000f9f9,0x7c92,0x0,0x8000f9fa,0x72c0,0x0,0x8000f9fb,0x7099,0x0,0x8000f9fc,0x8b58,0x0,0x8000f9fd,0x4ec0,0x0,0x8000f9fe,0x8336,0x0,
    0x8000f9ff,0x523a,0x0,0x8000fa00,0x5207,0x0,0x8000fa01,0x5ea6,0x0,0x8000fa02,0x62d3,0x0,0x8000fa03,0x7cd6,0x0,0x8000fa04,0x5b85,0x0,
    0x8000fa05,0x6d1e,0x0,0x8000fa06,0x66b4,0x0,0x8000fa07,0x8f3b,0x0,0x8000fa08,0x884c,0x0,0x8000fa09,0x964d,0x0,0x8000fa0a,0x898b,0x0,
    0x8000fa0b,0x5ed3,0x0,0x8000fa0c,0x5140,0x0,0x8000fa0d,0x55c0,0x0,0x8000fa10,0x585a,0x0,0x8000fa12,0x6674,0x0,0x8000fa15,0x51de,0x0,
    0x8000fa16,0x732a,0x0,0x8000fa17,0x76ca,0x0,0x8000fa18,0x793c,0x0,0x8000fa19,0x795e,0x0,0x8000fa1a,0x7965,0x0,0x8000fa1b,0x798f,0x0,
    0x8000fa1c,0x9756,0x0,0x8000fa1d,0x7cbe,0x0,0x8000fa1e,0x7fbd,0x0,0x8000fa20,0x8612,0x0,0x8000fa22,0x8af8,0x0,0x8000fa25,0x9038,0x0,
    0x8000fa26,0x90fd,0x0,0x8000fa2a,0x98ef,0x0,0x8000fa2b,0x98fc,0x0,0x8000fa2c,0x9928,0x0,0x8000fa2d,0x9db4,0x0,0x8000fa2e,0x90de,0x0,
    0x8000fa2f,0x96b7,0x0,0x8000fa30,0x4fae,0x0,0x8000fa31,0x50e7,0x0,0x8000fa32,0x514d,0x0,0x8000fa33,0x52c9,0x0,0x8000fa34,0x52e4,0x0,
    0x8000fa35,0x5351,0x0,0x8000fa36,0x559d,0x0,0x8000fa37,0x5606,0x0,0x8000fa38,0x5668,0x0,0x8000fa39,0x5840,0x0,0x8000fa3a,0x58a8,0x0,
    0x8000fa3b,0x5c64,0x0,0x8000fa3c,0x5c6e,0x0,0x8000fa3d,0x6094,0x0,0x8000fa3e,0x6168,0x0,0x8000fa3f,0x618e,0x0,0x8000fa40,0x61f2,0x0,
    0x8000fa41,0x654f,0x0,0x8000fa42,0x65e2,0x0,0x8000fa43,0x6691,0x0,0x8000fa44,0x6885,0x0,0x8000fa45,0x6d77,0x0,0x8000fa46,0x6e1a,0x0,
    0x8000fa47,0x6f22,0x0,0x8000fa48,0x716e,0x0,0x8000fa49,0x722b,0x0,0x8000fa4a,0x7422,0x0,0x8000fa4b,0x7891,0x0,0x8000fa4c,0x793e,0x0,
    0x8000fa4d,0x7949,0x0,0x8000fa4e,0x7948,0x0,0x8000fa4f,0x7950,0x0,0x8000fa50,0x7956,0x0,0x8000fa51,0x795d,0x0,0x8000fa52,0x798d,0x0,
    0x8000fa53,0x798e,0x0,0x8000fa54,0x7a40,0x0,0x8000fa55,0x7a81,0x0,0x8000fa56,0x7bc0,0x0,0x8000fa57,0x7df4,0x0,0x8000fa58,0x7e09,0x0,
    0x8000fa59,0x7e41,0x0,0x8000fa5a,0x7f72,0x0,0x8000fa5b,0x8005,0x0,0x8000fa5c,0x81ed,0x0,0x8000fa5d,0x8279,0x0,0x8000fa5e,0x8279,0x0,
    0x8000fa5f,0x8457,0x0,0x8000fa60,0x8910,0x0,0x8000fa61,0x8996,0x0,0x8000fa62,0x8b01,0x0,0x8000fa63,0x8b39,0x0,0x8000fa64,0x8cd3,0x0,
    0x8000fa65,0x8d08,0x0,0x8000fa66,0x8fb6,0x0,0x8000fa67,0x9038,0x0,0x8000fa68,0x96e3,0x0,0x8000fa69,0x97ff,0x0,0x8000fa6a,0x983b,0x0,
    0x8000fa6b,0x6075,0x0,0x8000fa6c,0x242ee,0x0,0x8000fa6d,0x8218,0x0,0x8000fa70,0x4e26,0x0,0x8000fa71,0x51b5,0x0,0x8000fa72,0x5168,0x0,
    0x8000fa73,0x4f80,0x0,0x8000fa74,0x5145,0x0,0x8000fa75,0x5180,0x0,0x8000fa76,0x52c7,0x0,0x8000fa77,0x52fa,0x0,0x8000fa78,0x559d,0x0,
    0x8000fa79,0x5555,0x0,0x8000fa7a,0x5599,0x0,0x8000fa7b,0x55e2,0x0,0x8000fa7c,0x585a,0x0,0x8000fa7d,0x58b3,0x0,0x8000fa7e,0x5944,0x0,
    0x8000fa7f,0x5954,0x0,0x8000fa80,0x5a62,0x0,0x8000fa81,0x5b28,0x0,0x8000fa82,0x5ed2,0x0,0x8000fa83,0x5ed9,0x0,0x8000fa84,0x5f69,0x0,
    0x8000fa85,0x5fad,0x0,0x8000fa86,0x60d8,0x0,0x8000fa87,0x614e,0x0,0x8000fa88,0x6108,0x0,0x8000fa89,0x618e,0x0,0x8000fa8a,0x6160,0x0,
    0x8000fa8b,0x61f2,0x0,0x8000fa8c,0x6234,0x0,0x8000fa8d,0x63c4,0x0,0x8000fa8e,0x641c,0x0,0x8000fa8f,0x6452,0x0,0x8000fa90,0x6556,0x0,
    0x8000fa91,0x6674,0x0,0x8000fa92,0x6717,0x0,0x8000fa93,0x671b,0x0,0x8000fa94,0x6756,0x0,0x8000fa95,0x6b79,0x0,0x8000fa96,0x6bba,0x0,
    0x8000fa97,0x6d41,0x0,0x8000fa98,0x6edb,0x0,0x8000fa99,0x6ecb,0x0,0x8000fa9a,0x6f22,0x0,0x8000fa9b,0x701e,0x0,0x8000fa9c,0x716e,0x0,
    0x8000fa9d,0x77a7,0x0,0x8000fa9e,0x7235,0x0,0x8000fa9f,0x72af,0x0,0x8000faa0,0x732a,0x0,0x8000faa1,0x7471,0x0,0x8000faa2,0x7506,0x0,
    0x8000faa3,0x753b,0x0,0x8000faa4,0x761d,0x0,0x8000faa5,0x761f,0x0,0x8000faa6,0x76ca,0x0,0x8000faa7,0x76db,0x0,0x8000faa8,0x76f4,0x0,
    0x8000faa9,0x774a,0x0,0x8000faaa,0x7740,0x0,0x8000faab,0x78cc,0x0,0x8000faac,0x7ab1,0x0,0x8000faad,0x7bc0,0x0,0x8000faae,0x7c7b,0x0,
    0x8000faaf,0x7d5b,0x0,0x8000fab0,0x7df4,0x0,0x8000fab1,0x7f3e,0x0,0x8000fab2,0x8005,0x0,0x8000fab3,0x8352,0x0,0x8000fab4,0x83ef,0x0,
    0x8000fab5,0x8779,0x0,0x8000fab6,0x8941,0x0,0x8000fab7,0x8986,0x0,0x8000fab8,0x8996,0x0,0x8000fab9,0x8abf,0x0,0x8000faba,0x8af8,0x0,
    0x8000fabb,0x8acb,0x0,0x8000fabc,0x8b01,0x0,0x8000fabd,0x8afe,0x0,0x8000fabe,0x8aed,0x0,0x8000fabf,0x8b39,0x0,0x8000fac0,0x8b8a,0x0,
    0x8000fac1,0x8d08,0x0,0x8000fac2,0x8f38,0x0,0x8000fac3,0x9072,0x0,0x8000fac4,0x9199,0x0,0x8000fac5,0x9276,0x0,0x8000fac6,0x967c,0x0,
    0x8000fac7,0x96e3,0x0,0x8000fac8,0x9756,0x0,0x8000fac9,0x97db,0x0,0x8000faca,0x97ff,0x0,0x8000facb,0x980b,0x0,0x8000facc,0x983b,0x0,
    0x8000facd,0x9b12,0x0,0x8000face,0x9f9c,0x0,0x8000facf,0x2284a,0x0,0x8000fad0,0x22844,0x0,0x8000fad1,0x233d5,0x0,0x8000fad2,0x3b9d,0x0,
    0x8000fad3,0x4018,0x0,0x8000fad4,0x4039,0x0,0x8000fad5,0x25249,0x0,0x8000fad6,0x25cd0,0x0,0x8000fad7,0x27ed3,0x0,0x8000fad8,0x9f43,0x0,
    0x8000fad9,0x9f8e,0x0,0x8000fb1d,0x5d9,0x5b4,0x8000fb1f,0x5f2,0x5b7,0x8000fb2a,0x5e9,0x5c1,0x8000fb2b,0x5e9,0x5c2,0x8000fb2c,0xfb49,0x5c1,
    0x8000fb2d,0xfb49,0x5c2,0x8000fb2e,0x5d0,0x5b7,0x8000fb2f,0x5d0,0x5b8,0x8000fb30,0x5d0,0x5bc,0x8000fb31,0x5d1,0x5bc,0x8000fb32,0x5d2,0x5bc,
    0x8000fb33,0x5d3,0x5bc,0x8000fb34,0x5d4,0x5bc,0x8000fb35,0x5d5,0x5bc,0x8000fb36,0x5d6,0x5bc,0x8000fb38,0x5d8,0x5bc,0x8000fb39,0x5d9,0x5bc,
    0x8000fb3a,0x5da,0x5bc,0x8000fb3b,0x5db,0x5bc,0x8000fb3c,0x5dc,0x5bc,0x8000fb3e,0x5de,0x5bc,0x8000fb40,0x5e0,0x5bc,0x8000fb41,0x5e1,0x5bc,
    0x8000fb43,0x5e3,0x5bc,0x8000fb44,0x5e4,0x5bc,0x8000fb46,0x5e6,0x5bc,0x8000fb47,0x5e7,0x5bc,0x8000fb48,0x5e8,0x5bc,0x8000fb49,0x5e9,0x5bc,
    0x8000fb4a,0x5ea,0x5bc,0x8000fb4b,0x5d5,0x5b9,0x8000fb4c,0x5d1,0x5bf,0x8000fb4d,0x5db,0x5bf,0x8000fb4e,0x5e4,0x5bf,0x1109a,0x11099,0x110ba,
    0x1109c,0x1109b,0x110ba,0x110ab,0x110a5,0x110ba,0x1112e,0x11131,0x11127,0x1112f,0x11132,0x11127,0x1134b,0x11347,0x1133e,0x1134c,0x11347,0x11357,
    0x114bb,0x114b9,0x114ba,0x114bc,0x114b9,0x114b0,0x114be,0x114b9,0x114bd,0x115ba,0x115b8,0x115af,0x115bb,0x115b9,0x115af,0x8001d15e,0x1d157,0x1d165,
    0x8001d15f,0x1d158,0x1d165,0x8001d160,0x1d15f,0x1d16e,0x8001d161,0x1d15f,0x1d16f,0x8001d162,0x1d15f,0x1d170,0x8001d163,0x1d15f,0x1d171,0x8001d164,0x1d15f,0x1d172,
    0x8001d1bb,0x1d1b9,0x1d165,0x8001d1bc,0x1d1ba,0x1d165,0x8001d1bd,0x1d1bb,0x1d16e,0x8001d1be,0x1d1bc,0x1d16e,0x8001d1bf,0x1d1bb,0x1d16f,0x8001d1c0,0x1d1bc,0x1d16f,
    0x8002f800,0x4e3d,0x0,0x8002f801,0x4e38,0x0,0x8002f802,0x4e41,0x0,0x8002f803,0x20122,0x0,0x8002f804,0x4f60,0x0,0x8002f805,0x4fae,0x0,
    0x8002f806,0x4fbb,0x0,0x8002f807,0x5002,0x0,0x8002f808,0x507a,0x0,0x8002f809,0x5099,0x0,0x8002f80a,0x50e7,0x0,0x8002f80b,0x50cf,0x0,
    0x8002f80c,0x349e,0x0,0x8002f80d,0x2063a,0x0,0x8002f80e,0x514d,0x0,0x8002f80f,0x5154,0x0,0x8002f810,0x5164,0x0,0x8002f811,0x5177,0x0,
    0x8002f812,0x2051c,0x0,0x8002f813,0x34b9,0x0,0x8002f814,0x5167,0x0,0x8002f815,0x518d,0x0,0x8002f816,0x2054b,0x0,0x8002f817,0x5197,0x0,
    0x8002f818,0x51a4,0x0,0x8002f819,0x4ecc,0x0,0x8002f81a,0x51ac,0x0,0x8002f81b,0x51b5,0x0,0x8002f81c,0x291df,0x0,0x8002f81d,0x51f5,0x0,
    0x8002f81e,0x5203,0x0,0x8002f81f,0x34df,0x0,0x8002f820,0x523b,0x0,0x8002f821,0x5246,0x0,0x8002f822,0x5272,0x0,0x8002f823,0x5277,0x0,
    0x8002f824,0x3515,0x0,0x8002f825,0x52c7,0x0,0x8002f826,0x52c9,0x0,0x8002f827,0x52e4,0x0,0x8002f828,0x52fa,0x0,0x8002f829,0x5305,0x0,
    0x8002f82a,0x5306,0x0,0x8002f82b,0x5317,0x0,0x8002f82c,0x5349,0x0,0x8002f82d,0x5351,0x0,0x8002f82e,0x535a,0x0,0x8002f82f,0x5373,0x0,
    0x8002f830,0x537d,0x0,0x8002f831,0x537f,0x0,0x8002f832,0x537f,0x0,0x8002f833,0x537f,0x0,0x8002f834,0x20a2c,0x0,0x8002f835,0x7070,0x0,
    0x8002f836,0x53ca,0x0,0x8002f837,0x53df,0x0,0x8002f838,0x20b63,0x0,0x8002f839,0x53eb,0x0,0x8002f83a,0x53f1,0x0,0x8002f83b,0x5406,0x0,
    0x8002f83c,0x549e,0x0,0x8002f83d,0x5438,0x0,0x8002f83e,0x5448,0x0,0x8002f83f,0x5468,0x0,0x8002f840,0x54a2,0x0,0x8002f841,0x54f6,0x0,
    0x8002f842,0x5510,0x0,0x8002f843,0x5553,0x0,0x8002f844,0x5563,0x0,0x8002f845,0x5584,0x0,0x8002f846,0x5584,0x0,0x8002f847,0x5599,0x0,
    0x8002f848,0x55ab,0x0,0x8002f849,0x55b3,0x0,0x8002f84a,0x55c2,0x0,0x8002f84b,0x5716,0x0,0x8002f84c,0x5606,0x0,0x8002f84d,0x5717,0x0,
    0x8002f84e,0x5651,0x0,0x8002f84f,0x5674,0x0,0x8002f850,0x5207,0x0,0x8002f851,0x58ee,0x0,0x8002f852,0x57ce,0x0,0x8002f853,0x57f4,0x0,
    0x8002f854,0x580d,0x0,0x8002f855,0x578b,0x0,0x8002f856,0x5832,0x0,0x8002f857,0x5831,0x0,0x8002f858,0x58ac,0x0,0x8002f859,0x214e4,0x0,
    0x8002f85a,0x58f2,0x0,0x8002f85b,0x58f7,0x0,0x8002f85c,0x5906,0x0,0x8002f85d,0x591a,0x0,0x8002f85e,0x5922,0x0,0x8002f85f,0x5962,0x0,
    0x8002f860,0x216a8,0x0,0x8002f861,0x216ea,0x0,0x8002f862,0x59ec,0x0,0x8002f863,0x5a1b,0x0,0x8002f864,0x5a27,0x0,0x8002f865,0x59d8,0x0,
    0x8002f866,0x5a66,0x0,0x8002f867,0x36ee,0x0,0x8002f868,0x36fc,0x0,0x8002f869,0x5b08,0x0,0x8002f86a,0x5b3e,0x0,0x8002f86b,0x5b3e,0x0,
    0x8002f86c,0x219c8,0x0,0x8002f86d,0x5bc3,0x0,0x8002f86e,0x5bd8,0x0,0x8002f86f,0x5be7,0x0,0x8002f870,0x5bf3,0x0,0x8002f871,0x21b18,0x0,
    0x8002f872,0x5bff,0x0,0x8002f873,0x5c06,0x0,0x8002f874,0x5f53,0x0,0x8002f875,0x5c22,0x0,0x8002f876,0x3781,0x0,0x8002f877,0x5c60,0x0,
    0x8002f878,0x5c6e,0x0,0x8002f879,0x5cc0,0x0,0x8002f87a,0x5c8d,0x0,0x8002f87b,0x21de4,0x0,0x8002f87c,0x5d43,0x0,0x8002f87d,0x21de6,0x0,
    0x8002f87e,0x5d6e,0x0,0x8002f87f,0x5d6b,0x0,0x8002f880,0x5d7c,0x0,0x8002f881,0x5de1,0x0,0x8002f882,0x5de2,0x0,0x8002f883,0x382f,0x0,
    0x8002f884,0x5dfd,0x0,0x8002f885,0x5e28,0x0,0x8002f886,0x5e3d,0x0,0x8002f887,0x5e69,0x0,0x8002f888,0x3862,0x0,0x8002f889,0x22183,0x0,
    0x8002f88a,0x387c,0x0,0x8002f88b,0x5eb0,0x0,0x8002f88c,0x5eb3,0x0,0x8002f88d,0x5eb6,0x0,0x8002f88e,0x5eca,0x0,0x8002f88f,0x2a392,0x0,
    0x8002f890,0x5efe,0x0,0x8002f891,0x22331,0x0,0x8002f892,0x22331,0x0,0x8002f893,0x8201,0x0,0x8002f894,0x5f22,0x0,0x8002f895,0x5f22,0x0,
    0x8002f896,0x38c7,0x0,0x8002f897,0x232b8,0x0,0x8002f898,0x261da,0x0,0x8002f899,0x5f62,0x0,0x8002f89a,0x5f6b,0x0,0x8002f89b,0x38e3,0x0,
    0x8002f89c,0x5f9a,0x0,0x8002f89d,0x5fcd,0x0,0x8002f89e,0x5fd7,0x0,0x8002f89f,0x5ff9,0x0,0x8002f8a0,0x6081,0x0,0x8002f8a1,0x393a,0x0,
    0x8002f8a2,0x391c,0x0,0x8002f8a3,0x6094,0x0,0x8002f8a4,0x226d4,0x0,0x8002f8a5,0x60c7,0x0,0x8002f8a6,0x6148,0x0,0x8002f8a7,0x614c,0x0,
    0x8002f8a8,0x614e,0x0,0x8002f8a9,0x614c,0x0,0x8002f8aa,0x617a,0x0,0x8002f8ab,0x618e,0x0,0x8002f8ac,0x61b2,0x0,0x8002f8ad,0x61a4,0x0,
    0x8002f8ae,0x61af,0x0,0x8002f8af,0x61de,0x0,0x8002f8b0,0x61f2,0x0,0x8002f8b1,0x61f6,0x0,0x8002f8b2,0x6210,0x0,0x8002f8b3,0x621b,0x0,
    0x8002f8b4,0x625d,0x0,0x8002f8b5,0x62b1,0x0,0x8002f8b6,0x62d4,0x0,0x8002f8b7,0x6350,0x0,0x8002f8b8,0x22b0c,0x0,0x8002f8b9,0x633d,0x0,
    0x8002f8ba,0x62fc,0x0,0x8002f8bb,0x6368,0x0,0x8002f8bc,0x6383,0x0,0x8002f8bd,0x63e4,0x0,0x8002f8be,0x22bf1,0x0,0x8002f8bf,0x6422,0x0,
    0x8002f8c0,0x63c5,0x0,0x8002f8c1,0x63a9,0x0,0x8002f8c2,0x3a2e,0x0,0x8002f8c3,0x6469,0x0,0x8002f8c4,0x647e,0x0,0x8002f8c5,0x649d,0x0,
    0x8002f8c6,0x6477,0x0,0x8002f8c7,0x3a6c,0x0,0x8002f8c8,0x654f,0x0,0x8002f8c9,0x656c,0x0,0x8002f8ca,0x2300a,0x0,0x8002f8cb,0x65e3,0x0,
    0x8002f8cc,0x66f8,0x0,0x8002f8cd,0x6649,0x0,0x8002f8ce,0x3b19,0x0,0x8002f8cf,0x6691,0x0,0x8002f8d0,0x3b08,0x0,0x8002f8d1,0x3ae4,0x0,
    0x8002f8d2,0x5192,0x0,0x8002f8d3,0x5195,0x0,0x8002f8d4,0x6700,0x0,0x8002f8d5,0x669c,0x0,0x8002f8d6,0x80ad,0x0,0x8002f8d7,0x43d9,0x0,
    0x8002f8d8,0x6717,0x0,0x8002f8d9,0x671b,0x0,0x8002f8da,0x6721,0x0,0x8002f8db,0x675e,0x0,0x8002f8dc,0x6753,0x0,0x8002f8dd,0x233c3,0x0,
    0x8002f8de,0x3b49,0x0,0x8002f8df,0x67fa,0x0,0x8002f8e0,0x6785,0x0,0x8002f8e1,0x6852,0x0,0x8002f8e2,0x6885,0x0,0x8002f8e3,0x2346d,0x0,
    0x8002f8e4,0x688e,0x0,0x8002f8e5,0x681f,0x0,0x8002f8e6,0x6914,0x0,0x8002f8e7,0x3b9d,0x0,0x8002f8e8,0x6942,0x0,0x8002f8e9,0x69a3,0x0,
    0x8002f8ea,0x69ea,0x0,0x8002f8eb,0x6aa8,0x0,0x8002f8ec,0x236a3,0x0,0x8002f8ed,0x6adb,0x0,0x8002f8ee,0x3c18,0x0,0x8002f8ef,0x6b21,0x0,
    0x8002f8f0,0x238a7,0x0,0x8002f8f1,0x6b54,0x0,0x8002f8f2,0x3c4e,0x0,0x8002f8f3,0x6b72,0x0,0x8002f8f4,0x6b9f,0x0,0x8002f8f5,0x6bba,0x0,
    0x8002f8f6,0x6bbb,0x0,0x8002f8f7,0x23a8d,0x0,0x8002f8f8,0x21d0b,0x0,0x8002f8f9,0x23afa,0x0,0x8002f8fa,0x6c4e,0x0,0x8002f8fb,0x23cbc,0x0,
    0x8002f8fc,0x6cbf,0x0,0x8002f8fd,0x6ccd,0x0,0x8002f8fe,0x6c67,0x0,0x8002f8ff,0x6d16,0x0,0x8002f900,0x6d3e,0x0,0x8002f901,0x6d77,0x0,
    0x8002f902,0x6d41,0x0,0x8002f903,0x6d69,0x0,0x8002f904,0x6d78,0x0,0x8002f905,0x6d85,0x0,0x8002f906,0x23d1e,0x0,0x8002f907,0x6d34,0x0,
    0x8002f908,0x6e2f,0x0,0x8002f909,0x6e6e,0x0,0x8002f90a,0x3d33,0x0,0x8002f90b,0x6ecb,0x0,0x8002f90c,0x6ec7,0x0,0x8002f90d,0x23ed1,0x0,
    0x8002f90e,0x6df9,0x0,0x8002f90f,0x6f6e,0x0,0x8002f910,0x23f5e,0x0,0x8002f911,0x23f8e,0x0,0x8002f912,0x6fc6,0x0,0x8002f913,0x7039,0x0,
    0x8002f914,0x701e,0x0,0x8002f915,0x701b,0x0,0x8002f916,0x3d96,0x0,0x8002f917,0x704a,0x0,0x8002f918,0x707d,0x0,0x8002f919,0x7077,0x0,
    0x8002f91a,0x70ad,0x0,0x8002f91b,0x20525,0x0,0x8002f91c,0x7145,0x0,0x8002f91d,0x24263,0x0,0x8002f91e,0x719c,0x0,0x8002f91f,0x243ab,0x0,
    0x8002f920,0x7228,0x0,0x8002f921,0x7235,0x0,0x8002f922,0x7250,0x0,0x8002f923,0x24608,0x0,0x8002f924,0x7280,0x0,0x8002f925,0x7295,0x0,
    0x8002f926,0x24735,0x0,0x8002f927,0x24814,0x0,0x8002f928,0x737a,0x0,0x8002f929,0x738b,0x0,0x8002f92a,0x3eac,0x0,0x8002f92b,0x73a5,0x0,
    0x8002f92c,0x3eb8,0x0,0x8002f92d,0x3eb8,0x0,0x8002f92e,0x7447,0x0,0x8002f92f,0x745c,0x0,0x8002f930,0x7471,0x0,0x8002f931,0x7485,0x0,
    0x8002f932,0x74ca,0x0,0x8002f933,0x3f1b,0x0,0x8002f934,0x7524,0x0,0x8002f935,0x24c36,0x0,0x8002f936,0x753e,0x0,0x8002f937,0x24c92,0x0,
    0x8002f938,0x7570,0x0,0x8002f939,0x2219f,0x0,0x8002f93a,0x7610,0x0,0x8002f93b,0x24fa1,0x0,0x8002f93c,0x24fb8,0x0,0x8002f93d,0x25044,0x0,
    0x8002f93e,0x3ffc,0x0,0x8002f93f,0x4008,0x0,0x8002f940,0x76f4,0x0,0x8002f941,0x250f3,0x0,0x8002f942,0x250f2,0x0,0x8002f943,0x25119,0x0,
    0x8002f944,0x25133,0x0,0x8002f945,0x771e,0x0,0x8002f946,0x771f,0x0,0x8002f947,0x771f,0x0,0x8002f948,0x774a,0x0,0x8002f949,0x4039,0x0,
    0x8002f94a,0x778b,0x0,0x8002f94b,0x4046,0x0,0x8002f94c,0x4096,0x0,0x8002f94d,0x2541d,0x0,0x8002f94e,0x784e,0x0,0x8002f94f,0x788c,0x0,
    0x8002f950,0x78cc,0x0,0x8002f951,0x40e3,0x0,0x8002f952,0x25626,0x0,0x8002f953,0x7956,0x0,0x8002f954,0x2569a,0x0,0x8002f955,0x256c5,0x0,
    0x8002f956,0x798f,0x0,0x8002f957,0x79eb,0x0,0x8002f958,0x412f,0x0,0x8002f959,0x7a40,0x0,0x8002f95a,0x7a4a,0x0,0x8002f95b,0x7a4f,0x0,
    0x8002f95c,0x2597c,0x0,0x8002f95d,0x25aa7,0x0,0x8002f95e,0x25aa7,0x0,0x8002f95f,0x7aee,0x0,0x8002f960,0x4202,0x0,0x8002f961,0x25bab,0x0,
    0x8002f962,0x7bc6,0x0,0x8002f963,0x7bc9,0x0,0x8002f964,0x4227,0x0,0x8002f965,0x25c80,0x0,0x8002f966,0x7cd2,0x0,0x8002f967,0x42a0,0x0,
    0x8002f968,0x7ce8,0x0,0x8002f969,0x7ce3,0x0,0x8002f96a,0x7d00,0x0,0x8002f96b,0x25f86,0x0,0x8002f96c,0x7d63,0x0,0x8002f96d,0x4301,0x0,
    0x8002f96e,0x7dc7,0x0,0x8002f96f,0x7e02,0x0,0x8002f970,0x7e45,0x0,0x8002f971,0x4334,0x0,0x8002f972,0x26228,0x0,0x8002f973,0x26247,0x0,
    0x8002f974,0x4359,0x0,0x8002f975,0x262d9,0x0,0x8002f976,0x7f7a,0x0,0x8002f977,0x2633e,0x0,0x8002f978,0x7f95,0x0,0x8002f979,0x7ffa,0x0,
    0x8002f97a,0x8005,0x0,0x8002f97b,0x264da,0x0,0x8002f97c,0x26523,0x0,0x8002f97d,0x8060,0x0,0x8002f97e,0x265a8,0x0,0x8002f97f,0x8070,0x0,
    0x8002f980,0x2335f,0x0,0x8002f981,0x43d5,0x0,0x8002f982,0x80b2,0x0,0x8002f983,0x8103,0x0,0x8002f984,0x440b,0x0,0x8002f985,0x813e,0x0,
    0x8002f986,0x5ab5,0x0,0x8002f987,0x267a7,0x0,0x8002f988,0x267b5,0x0,0x8002f989,0x23393,0x0,0x8002f98a,0x2339c,0x0,0x8002f98b,0x8201,0x0,
    0x8002f98c,0x8204,0x0,0x8002f98d,0x8f9e,0x0,0x8002f98e,0x446b,0x0,0x8002f98f,0x8291,0x0,0x8002f990,0x828b,0x0,0x8002f991,0x829d,0x0,
    0x8002f992,0x52b3,0x0,0x8002f993,0x82b1,0x0,0x8002f994,0x82b3,0x0,0x8002f995,0x82bd,0x0,0x8002f996,0x82e6,0x0,0x8002f997,0x26b3c,0x0,
    0x8002f998,0x82e5,0x0,0x8002f999,0x831d,0x0,0x8002f99a,0x8363,0x0,0x8002f99b,0x83ad,0x0,0x8002f99c,0x8323,0x0,0x8002f99d,0x83bd,0x0,
    0x8002f99e,0x83e7,0x0,0x8002f99f,0x8457,0x0,0x8002f9a0,0x8353,0x0,0x8002f9a1,0x83ca,0x0,0x8002f9a2,0x83cc,0x0,0x8002f9a3,0x83dc,0x0,
    0x8002f9a4,0x26c36,0x0,0x8002f9a5,0x26d6b,0x0,0x8002f9a6,0x26cd5,0x0,0x8002f9a7,0x452b,0x0,0x8002f9a8,0x84f1,0x0,0x8002f9a9,0x84f3,0x0,
    0x8002f9aa,0x8516,0x0,0x8002f9ab,0x273ca,0x0,0x8002f9ac,0x8564,0x0,0x8002f9ad,0x26f2c,0x0,0x8002f9ae,0x455d,0x0,0x8002f9af,0x4561,0x0,
    0x8002f9b0,0x26fb1,0x0,0x8002f9b1,0x270d2,0x0,0x8002f9b2,0x456b,0x0,0x8002f9b3,0x8650,0x0,0x8002f9b4,0x865c,0x0,0x8002f9b5,0x8667,0x0,
    0x8002f9b6,0x8669,0x0,0x8002f9b7,0x86a9,0x0,0x8002f9b8,0x8688,0x0,0x8002f9b9,0x870e,0x0,0x8002f9ba,0x86e2,0x0,0x8002f9bb,0x8779,0x0,
    0x8002f9bc,0x8728,0x0,0x8002f9bd,0x876b,0x0,0x8002f9be,0x8786,0x0,0x8002f9bf,0x45d7,0x0,0x8002f9c0,0x87e1,0x0,0x8002f9c1,0x8801,0x0,
    0x8002f9c2,0x45f9,0x0,0x8002f9c3,0x8860,0x0,0x8002f9c4,0x8863,0x0,0x8002f9c5,0x27667,0x0,0x8002f9c6,0x88d7,0x0,0x8002f9c7,0x88de,0x0,
    0x8002f9c8,0x4635,0x0,0x8002f9c9,0x88fa,0x0,0x8002f9ca,0x34bb,0x0,0x8002f9cb,0x278ae,0x0,0x8002f9cc,0x27966,0x0,0x8002f9cd,0x46be,0x0,
    0x8002f9ce,0x46c7,0x0,0x8002f9cf,0x8aa0,0x0,0x8002f9d0,0x8aed,0x0,0x8002f9d1,0x8b8a,0x0,0x8002f9d2,0x8c55,0x0,0x8002f9d3,0x27ca8,0x0,
    0x8002f9d4,0x8cab,0x0,0x8002f9d5,0x8cc1,0x0,0x8002f9d6,0x8d1b,0x0,0x8002f9d7,0x8d77,0x0,0x8002f9d8,0x27f2f,0x0,0x8002f9d9,0x20804,0x0,
    0x8002f9da,0x8dcb,0x0,0x8002f9db,0x8dbc,0x0,0x8002f9dc,0x8df0,0x0,0x8002f9dd,0x208de,0x0,0x8002f9de,0x8ed4,0x0,0x8002f9df,0x8f38,0x0,
    0x8002f9e0,0x285d2,0x0,0x8002f9e1,0x285ed,0x0,0x8002f9e2,0x9094,0x0,0x8002f9e3,0x90f1,0x0,0x8002f9e4,0x9111,0x0,0x8002f9e5,0x2872e,0x0,
    0x8002f9e6,0x911b,0x0,0x8002f9e7,0x9238,0x0,0x8002f9e8,0x92d7,0x0,0x8002f9e9,0x92d8,0x0,0x8002f9ea,0x927c,0x0,0x8002f9eb,0x93f9,0x0,
    0x8002f9ec,0x9415,0x0,0x8002f9ed,0x28bfa,0x0,0x8002f9ee,0x958b,0x0,0x8002f9ef,0x4995,0x0,0x8002f9f0,0x95b7,0x0,0x8002f9f1,0x28d77,0x0,
    0x8002f9f2,0x49e6,0x0,0x8002f9f3,0x96c3,0x0,0x8002f9f4,0x5db2,0x0,0x8002f9f5,0x9723,0x0,0x8002f9f6,0x29145,0x0,0x8002f9f7,0x2921a,0x0,
    0x8002f9f8,0x4a6e,0x0,0x8002f9f9,0x4a76,0x0,0x8002f9fa,0x97e0,0x0,0x8002f9fb,0x2940a,0x0,0x8002f9fc,0x4ab2,0x0,0x8002f9fd,0x29496,0x0,
    0x8002f9fe,0x980b,0x0,0x8002f9ff,0x980b,0x0,0x8002fa00,0x9829,0x0,0x8002fa01,0x295b6,0x0,0x8002fa02,0x98e2,0x0,0x8002fa03,0x4b33,0x0,
    0x8002fa04,0x9929,0x0,0x8002fa05,0x99a7,0x0,0x8002fa06,0x99c2,0x0,0x8002fa07,0x99fe,0x0,0x8002fa08,0x4bce,0x0,0x8002fa09,0x29b30,0x0,
    0x8002fa0a,0x9b12,0x0,0x8002fa0b,0x9c40,0x0,0x8002fa0c,0x9cfd,0x0,0x8002fa0d,0x4cce,0x0,0x8002fa0e,0x4ced,0x0,0x8002fa0f,0x9d67,0x0,
    0x8002fa10,0x2a0ce,0x0,0x8002fa11,0x4cf8,0x0,0x8002fa12,0x2a105,0x0,0x8002fa13,0x2a20e,0x0,0x8002fa14,0x2a291,0x0,0x8002fa15,0x9ebb,0x0,
    0x8002fa16,0x4d56,0x0,0x8002fa17,0x9ef9,0x0,0x8002fa18,0x9efe,0x0,0x8002fa19,0x9f05,0x0,0x8002fa1a,0x9f0f,0x0,0x8002fa1b,0x9f16,0x0,
    0x8002fa1c,0x9f3b,0x0,0x8002fa1d,0x2a600,0x0,
};
/* primary composites as indices into rl__udecomp, sorted by (first, second) */
static const uint16_t rl__ucomp[940] = {
    912,909,913,0,1,2,3,53,55,238,4,572,5,165,208,210,570,415,57,417,
    419,421,59,61,63,65,6,425,67,427,431,433,429,7,8,9,598,69,71,73,
    10,596,77,212,214,594,240,75,439,441,445,198,79,447,81,83,187,85,87,449,
    453,236,451,455,457,11,12,13,89,91,93,97,14,610,167,216,218,612,95,459,
    98,463,189,465,100,467,102,106,469,104,475,473,477,479,481,200,108,15,483,112,
    485,110,489,487,16,17,18,19,114,116,246,20,616,118,169,220,222,161,614,191,
    499,501,120,503,124,224,226,505,122,509,126,128,511,132,513,232,130,521,136,523,
    234,134,527,525,21,22,23,138,140,142,24,640,144,146,171,228,230,163,638,529,
    148,533,531,539,541,543,545,150,549,547,551,553,555,652,25,152,658,250,557,154,
    656,654,155,559,157,159,561,563,26,27,28,29,54,56,239,30,573,31,166,209,
    211,571,416,58,418,420,422,60,62,64,66,32,426,68,428,432,434,430,33,34,
    35,599,70,72,74,36,597,78,213,215,595,241,76,440,442,446,199,80,448,82,
    84,188,86,88,450,454,237,452,456,458,565,37,38,39,90,92,94,40,611,168,
    217,219,613,96,460,99,197,464,190,466,101,468,103,107,470,105,476,474,478,480,
    482,201,109,41,484,113,486,111,490,488,42,43,44,45,115,117,247,46,617,119,
    170,221,223,162,615,192,500,502,121,504,125,225,227,506,123,510,127,129,512,133,
    514,233,131,522,566,137,524,235,135,528,526,47,48,49,139,141,143,50,641,145,
    147,172,229,231,164,639,530,149,534,532,540,542,544,546,151,550,548,567,552,554,
    556,653,51,153,659,251,558,52,657,568,655,156,560,158,160,562,564,875,258,835,
    576,574,580,578,181,202,204,185,423,602,600,606,604,461,620,618,624,622,491,244,
    493,242,206,179,175,173,177,577,575,581,579,182,203,205,186,424,603,601,607,605,
    462,621,619,625,623,492,245,494,243,207,180,176,174,178,586,584,590,588,587,585,
    591,589,435,437,436,438,495,497,496,498,515,516,517,518,535,536,537,538,569,630,
    628,634,632,636,631,629,635,633,637,644,642,648,646,650,645,643,649,647,651,195,
    193,194,183,184,443,444,248,249,196,831,259,830,829,668,669,833,841,261,682,683,
    843,262,696,697,845,857,263,856,855,268,712,713,883,264,726,727,874,872,265,871,
    870,269,740,885,266,752,753,887,826,838,760,270,823,822,660,661,827,825,762,271,
    676,677,764,272,688,689,839,837,766,273,850,849,275,704,705,853,768,277,720,721,
    866,867,770,278,863,862,276,732,733,868,772,279,744,745,881,879,851,267,854,864,
    274,869,880,280,281,285,302,304,284,282,306,283,300,310,312,287,314,289,316,286,
    318,324,288,326,328,330,332,322,303,305,293,291,307,292,301,311,313,296,315,290,
    317,295,319,325,297,327,329,331,333,323,294,298,299,308,309,320,321,334,335,337,
    336,338,340,341,339,342,343,344,353,354,365,364,366,369,370,372,371,373,374,377,
    375,376,378,379,381,380,382,383,385,384,403,404,405,406,407,408,409,410,411,412,
    413,414,471,472,507,508,519,520,582,592,583,593,608,609,626,627,662,664,666,774,
    663,665,667,775,776,777,778,779,780,781,670,672,674,782,671,673,675,783,784,785,
    786,787,788,789,678,680,679,681,684,686,685,687,690,692,694,790,691,693,695,791,
    792,793,794,795,796,797,698,700,702,798,699,701,703,799,800,801,802,803,804,805,
    706,708,710,707,709,711,714,716,718,715,717,719,722,724,723,725,728,730,729,731,
    734,736,738,735,737,739,741,742,743,746,748,750,806,747,749,751,807,808,809,810,
    811,812,813,754,756,758,814,755,757,759,815,816,817,818,819,820,821,824,836,878,
    828,846,847,848,840,882,859,860,861,894,895,896,897,899,898,900,901,902,903,904,
    905,906,907,908,911,910,914,915,916,917,918,919,920,921,930,931,922,923,924,925,
    932,933,926,927,928,929,934,935,936,937,966,941,942,943,944,945,946,947,948,949,
    950,951,952,953,954,955,956,957,958,959,960,961,962,963,964,965,967,993,968,969,
    970,971,972,973,974,975,976,977,978,979,980,981,982,983,984,985,986,987,988,989,
    990,991,992,994,995,996,997,998,1493,1494,1495,1496,1497,1498,1499,1501,1500,1502,1503,1504,
};
/* ---- END GENERATED UNICODE TABLES ---- */

RL__INTERN unsigned rl__uprop(uint32_t cp) {
    size_t lo = 0, hi = sizeof rl__uprops / sizeof rl__uprops[0];
    if (cp < 128) return rl__uprops_ascii[cp];
    if (cp >= 0x110000) return 0;
    while (hi - lo > 1) { /* the last run that starts at or before cp */
        size_t mid = (lo + hi) / 2;
        if ((rl__uprops[mid] >> 8) <= cp) lo = mid; else hi = mid;
    }
    return rl__uprops[lo] & 0xFF;
}

RL__INTERN unsigned rl__uccc_of(uint32_t cp) {
    size_t lo = 0, hi = sizeof rl__uccc / sizeof rl__uccc[0];
    if (cp < 0x300 || cp >= 0x110000) return 0;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if ((rl__uccc[mid] >> 8) <= cp) lo = mid; else hi = mid;
    }
    return rl__uccc[lo] & 0xFF;
}

#ifdef RADLADS_INTERNAL
/* The generated tables as they are, for tests/test_tokenizer.c: the property runs (rl__uprops)
   and the decompositions (rl__udecomp, 3 values each), with their numbers of values; returns
   RL__UNICODE_VERSION. */
RL__INTERN const char *rl__unicode_tables(const uint32_t **runs, size_t *n_runs, const uint32_t **decomp, size_t *n_decomp) {
    *runs = rl__uprops;
    *n_runs = sizeof rl__uprops / sizeof rl__uprops[0];
    *decomp = rl__udecomp;
    *n_decomp = sizeof rl__udecomp / sizeof rl__udecomp[0];
    return RL__UNICODE_VERSION;
}
#endif

static int rl__udecomp_find(uint32_t cp, uint32_t *first, uint32_t *second) {
    size_t lo = 0, hi = sizeof rl__udecomp / sizeof rl__udecomp[0] / 3;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t c = rl__udecomp[3 * mid] & 0x7FFFFFFFu;
        if (c == cp) {
            *first = rl__udecomp[3 * mid + 1];
            *second = rl__udecomp[3 * mid + 2];
            return 1;
        }
        if (c < cp) lo = mid + 1; else hi = mid;
    }
    return 0;
}

RL__INTERN uint32_t rl__ucompose(uint32_t a, uint32_t b) {
    size_t lo = 0, hi = sizeof rl__ucomp / sizeof rl__ucomp[0];
    if (a - RL__HL < 19 && b - RL__HV < 21) return RL__HS + ((a - RL__HL) * 21 + (b - RL__HV)) * 28;
    if (a - RL__HS < 11172 && (a - RL__HS) % 28 == 0 && b - RL__HT - 1 < 27) return a + (b - RL__HT);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uint32_t *d = &rl__udecomp[3 * (size_t)rl__ucomp[mid]];
        if (d[1] == a && d[2] == b) return d[0] & 0x7FFFFFFFu;
        if (d[1] < a || (d[1] == a && d[2] < b)) lo = mid + 1; else hi = mid;
    }
    return 0;
}

#endif /* tokenizer */

/* ==== 14. llama2.c checkpoints ============================================= */
/*
   karpathy/llama2.c's .bin files (export.py): legacy v0 (7 int32 then fp32 arrays; a
   negative vocab_size means an unshared classifier at the end), v1 (256-byte header with
   magic "ak42", version 1, the 7 int32, a shared-classifier byte; fp32) and v2 (the same with
   version 2 and an int32 group size; norms fp32, every matrix Q8_0: int8 values, then all
   the fp32 group scales). Rows are output features (y = W x) as in PyTorch; Q/K rows are in
   Meta's interleaved RoPE order and are put into Hugging Face's rotate-half order (the permute
   of transformers' convert_llama_weights_to_hf). RMSNorm eps 1e-5, RoPE theta 10000, SwiGLU:
   llama2.c's model.py. */

/* interleaved pairs (2j, 2j+1) -> rotate-half (j, j + hd/2), per head */
static rl_status rl__l2c_unpermute(float *w, int64_t rows, int64_t cols, int64_t n_heads) {
    int64_t hd = rows / n_heads, h, j;
    float *tmp = (float *)RL_MALLOC(sizeof(float) * (size_t)(hd * cols));
    if (!tmp) return rl__fail(RL_ERR_NOMEM, "llama2.c: out of memory");
    for (h = 0; h < n_heads; h++) {
        float *W = w + h * hd * cols;
        for (j = 0; j < hd / 2; j++) {
            memcpy(tmp + j * cols, W + (2 * j) * cols, sizeof(float) * (size_t)cols);
            memcpy(tmp + (hd / 2 + j) * cols, W + (2 * j + 1) * cols, sizeof(float) * (size_t)cols);
        }
        memcpy(W, tmp, sizeof(float) * (size_t)(hd * cols));
    }
    RL_FREE(tmp);
    return RL_OK;
}

typedef struct rl__l2c {
    const unsigned char *b;
    size_t len, off, soff; /* next value; v2: next scale */
    int version, gs;
    const char *src;
} rl__l2c;

/* read n values (one tensor) into dst; quantized: Q8_0 with the tensor's scales */
static void rl__l2c_read(rl__l2c *r, float *dst, int64_t n, int quant) {
    int64_t i;
    if (!quant || r->version < 2) {
        for (i = 0; i < n; i++) {
            uint32_t u = rl__le32(r->b + r->off + 4 * (size_t)i);
            memcpy(&dst[i], &u, 4);
        }
        r->off += 4 * (size_t)n;
        return;
    }
    for (i = 0; i < n; i++) {
        uint32_t u = rl__le32(r->b + r->soff + 4 * (size_t)(i / r->gs));
        float s;
        memcpy(&s, &u, 4);
        dst[i] = (float)(signed char)r->b[r->off + (size_t)i] * s;
    }
    r->off += (size_t)n;
    r->soff += 4 * (size_t)(n / r->gs);
}

/* The header: the version (0: legacy, no magic), the seven sizes in p (dim, hidden_dim, n_layers, n_heads,
   n_kv_heads, vocab_size, seq_len), whether the classifier is shared; r is left at the first tensor. */
static rl_status rl__l2c_header(rl__l2c *r, int32_t p[7], int *shared) {
    static const char *const names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
    const unsigned char *b = r->b;
    const char *src = r->src;
    size_t len = r->len;
    int version = 0, i;
    if (len < 28) return rl__fail(RL_ERR_FORMAT, "%s: %zu bytes is too short for a llama2.c checkpoint (a 28-byte header at least)", src, len);
    if (rl__le32(b) == 0x616b3432u) { /* "ak42": export.py v1/v2 */
        if (len < 256) return rl__fail(RL_ERR_FORMAT, "%s: %zu bytes is too short for the 256-byte header of a versioned llama2.c file", src, len);
        version = (int)(int32_t)rl__le32(b + 4);
        if (version != 1 && version != 2)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: header: version %d is not supported (llama2.c export.py writes 1: fp32, 2: int8 Q8_0)", src, version);
        for (i = 0; i < 7; i++) p[i] = (int32_t)rl__le32(b + 8 + 4 * i);
        if (b[36] > 1) return rl__fail(RL_ERR_FORMAT, "%s: header: shared_classifier is %d (0 or 1)", src, (int)b[36]);
        *shared = b[36];
        if (version == 2) r->gs = (int)(int32_t)rl__le32(b + 37);
        r->off = 256;
    } else {
        for (i = 0; i < 7; i++) p[i] = (int32_t)rl__le32(b + 4 * i);
        *shared = p[5] > 0; /* legacy: a negative vocab_size flags an unshared classifier */
        if (p[5] < 0 && p[5] != INT32_MIN) p[5] = -p[5];
        r->off = 28;
    }
    r->version = version;
    for (i = 0; i < 7; i++)
        if (p[i] <= 0 || p[i] > (i == 5 ? (1 << 24) : (1 << 20)))
            return rl__fail(RL_ERR_FORMAT, "%s: header: %s = %d is out of range (1..%d)%s", src, names[i], (int)p[i], i == 5 ? (1 << 24) : (1 << 20),
                            version == 0 ? " (read as a legacy v0 file: there is no \"ak42\" magic)" : "");
    if (p[2] > 4096) return rl__fail(RL_ERR_FORMAT, "%s: header: n_layers = %lld is out of range (1..4096)", src, (long long)p[2]);
    if (p[0] % p[3] || (p[0] / p[3]) % 2)
        return rl__fail(RL_ERR_FORMAT, "%s: header: dim %lld does not split into n_heads %lld heads of even size", src, (long long)p[0], (long long)p[3]);
    if (p[3] % p[4])
        return rl__fail(RL_ERR_FORMAT, "%s: header: n_heads %lld is not a multiple of n_kv_heads %lld", src, (long long)p[3], (long long)p[4]);
    return RL_OK;
}

/* The config of a llama2.c model: Llama with the header's sizes and model.py's constants. */
static void rl__l2c_config(rl_config *cfg, const int32_t p[7], int shared) {
    int64_t V = p[5];
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = RL_ARCH_LLAMA;
    snprintf(cfg->model_type, sizeof cfg->model_type, "llama");
    cfg->vocab_size = V;
    cfg->hidden_size = p[0];
    cfg->intermediate_size = p[1];
    cfg->n_layers = p[2];
    cfg->n_heads = p[3];
    cfg->n_kv_heads = p[4];
    cfg->head_dim = p[0] / p[3];
    cfg->max_pos = p[6];
    cfg->rms_eps = 1e-5f;
    cfg->rope_theta = 10000.0;
    cfg->rope_factor = 1.0;
    cfg->tie_embeddings = shared;
    cfg->bos_id = V > 1 ? 1 : -1;
    /* llama2.c trains on stories each preceded by BOS and run.c stops at BOS: BOS is what
       ends a document, so it is the first end-of-sequence id (EOS, 2, second) */
    cfg->eos_ids[0] = 1;
    cfg->eos_ids[1] = 2;
    cfg->n_eos = V > 2 ? 2 : V > 1 ? 1 : 0;
    cfg->dtype = RL_F32;
}

/* The file must be exactly as long as its header says; *nq: the number of matrix values. */
static rl_status rl__l2c_check_size(const rl__l2c *r, const rl_config *cfg, int64_t *nq_out) {
    int64_t dim = cfg->hidden_size, hid = cfg->intermediate_size, L = cfg->n_layers, H = cfg->n_heads, KVH = cfg->n_kv_heads;
    int64_t V = cfg->vocab_size, S = cfg->max_pos, hd = cfg->head_dim, kvd = KVH * hd, nq, nf;
    int shared = cfg->tie_embeddings, version = r->version, gs = r->gs;
    size_t hdr = r->off, need, len = r->len;
    const char *src = r->src;
    nq = V * dim + L * (2 * dim * dim + 2 * kvd * dim + 3 * hid * dim) + (shared ? 0 : V * dim); /* the matrices */
    nf = L * 2 * dim + dim;                                                                       /* the norms */
    if (version == 2) {
        if (gs <= 0 || dim % gs) /* export.py halves it until it divides dim, so it divides every matrix */
            return rl__fail(RL_ERR_FORMAT, "%s: header: group_size %d does not divide dim %lld", src, gs, (long long)dim);
        need = hdr + 4 * (size_t)nf + (size_t)nq + 4 * (size_t)(nq / gs);
    } else
        need = hdr + 4 * (size_t)(nf + nq) + (version == 0 ? 4 * (size_t)(S * hd) : 0); /* v0: freq_cis_real/imag [seq_len, hd/2] */
    if (need != len)
        return rl__fail(RL_ERR_FORMAT, "%s: %zu bytes, but a %s llama2.c file with this header (dim %lld, hidden_dim %lld, %lld layers, %lld/%lld heads, "
                        "vocab %lld, seq_len %lld, %s classifier) has %zu",
                        src, len, version == 0 ? "legacy v0" : version == 1 ? "v1 (fp32)" : "v2 (Q8_0)", (long long)dim, (long long)hid, (long long)L,
                        (long long)H, (long long)KVH, (long long)V, (long long)S, shared ? "shared" : "unshared", need);
    *nq_out = nq;
    return RL_OK;
}

/* Every tensor into m's (allocated) parameters, in the file's order: v0 as written by legacy
   export, v1/v2 norms first, then the matrices (v2: nq int8 values, then their scales). */
static void rl__l2c_read_weights(rl__l2c *r, rl_model *m, const rl_config *c, int64_t nq) {
    int64_t dim = c->hidden_size, hid = c->intermediate_size, L = c->n_layers, V = c->vocab_size, kvd = c->n_kv_heads * c->head_dim, l;
    int shared = c->tie_embeddings;
#define RL__L2C_LAYERS(field, n, q)                                                    \
    for (l = 0; l < L; l++) rl__l2c_read(r, (float *)m->blocks[l].field.data, n, q);
    if (r->version == 0) {
        rl__l2c_read(r, (float *)m->embed.data, V * dim, 0);
        RL__L2C_LAYERS(ln1, dim, 0)
        RL__L2C_LAYERS(mix.q_w, dim * dim, 0)
        RL__L2C_LAYERS(mix.k_w, kvd * dim, 0)
        RL__L2C_LAYERS(mix.v_w, kvd * dim, 0)
        RL__L2C_LAYERS(mix.o_w, dim * dim, 0)
        RL__L2C_LAYERS(ln2, dim, 0)
        RL__L2C_LAYERS(gate, hid * dim, 0)
        RL__L2C_LAYERS(down, dim * hid, 0)
        RL__L2C_LAYERS(up, hid * dim, 0)
        rl__l2c_read(r, (float *)m->norm.data, dim, 0);
        r->off += 4 * (size_t)(c->max_pos * c->head_dim); /* freq_cis_real, freq_cis_imag: unused */
        if (!shared) rl__l2c_read(r, (float *)m->head.data, V * dim, 0);
    } else {
        RL__L2C_LAYERS(ln1, dim, 0)
        RL__L2C_LAYERS(ln2, dim, 0)
        rl__l2c_read(r, (float *)m->norm.data, dim, 0);
        r->soff = r->off + (size_t)nq; /* v2: all int8 values first, then all scales */
        rl__l2c_read(r, (float *)m->embed.data, V * dim, 1);
        RL__L2C_LAYERS(mix.q_w, dim * dim, 1)
        RL__L2C_LAYERS(mix.k_w, kvd * dim, 1)
        RL__L2C_LAYERS(mix.v_w, kvd * dim, 1)
        RL__L2C_LAYERS(mix.o_w, dim * dim, 1)
        RL__L2C_LAYERS(gate, hid * dim, 1)
        RL__L2C_LAYERS(down, dim * hid, 1)
        RL__L2C_LAYERS(up, hid * dim, 1)
        if (!shared) rl__l2c_read(r, (float *)m->head.data, V * dim, 1);
    }
#undef RL__L2C_LAYERS
}

RLDEF rl_status rl_model_from_llama2c_mem(rl_model *m, const void *data, size_t len, const char *source) {
    int32_t p[7];
    int64_t nq = 0, dim, kvd, l;
    int shared = 0;
    rl__l2c r;
    rl_config cfg;
    rl__alloc_ctx ac;
    rl_status st;
    if (!m || (!data && len)) return rl__fail(RL_ERR_ARG, "rl_model_from_llama2c: NULL argument");
    memset(m, 0, sizeof *m);
    memset(&r, 0, sizeof r);
    r.b = (const unsigned char *)data;
    r.len = len;
    r.src = source ? source : "model.bin";
    if ((st = rl__l2c_header(&r, p, &shared)) != RL_OK) return st;
    rl__l2c_config(&cfg, p, shared);
    if ((st = rl__l2c_check_size(&r, &cfg, &nq)) != RL_OK) return st;
    if ((st = rl__model_shape(m, &cfg, NULL)) != RL_OK) {
        rl_model_free(m);
        return st;
    }
    m->trainable = 0;
    ac.m = m;
    ac.st = RL_OK;
    rl_model_params(m, rl__alloc_fn, &ac);
    if (ac.st) {
        rl_model_free(m);
        return ac.st;
    }
    rl__l2c_read_weights(&r, m, &cfg, nq);
    dim = cfg.hidden_size;
    kvd = cfg.n_kv_heads * cfg.head_dim;
    for (l = 0; l < cfg.n_layers; l++) {
        if ((st = rl__l2c_unpermute((float *)m->blocks[l].mix.q_w.data, dim, dim, cfg.n_heads)) != RL_OK ||
            (st = rl__l2c_unpermute((float *)m->blocks[l].mix.k_w.data, kvd, dim, cfg.n_kv_heads)) != RL_OK) {
            rl_model_free(m);
            return st;
        }
    }
    rl__tie_head(m);
    return RL_OK;
}

#if !defined(RADLADS_NO_STDIO)
RLDEF rl_status rl_model_load_llama2c(rl_model *m, const char *path) {
    char *data = NULL;
    size_t len = 0;
    rl_status st;
    if (!m || !path) return rl__fail(RL_ERR_ARG, "rl_model_load_llama2c: NULL argument");
    memset(m, 0, sizeof *m);
    if ((st = rl__read_file(path, (size_t)1 << 40, &data, &len)) != RL_OK) return st;
    st = rl_model_from_llama2c_mem(m, data, len, path);
    RL_FREE(data);
    return st;
}
#endif

#if !defined(RADLADS_NO_TRAINING) && !defined(RADLADS_NO_TOKENIZER)
RLDEF rl_status rl_import_llama2c(const char *model_path, const char *tok_path, const char *out_dir) {
    rl_model m;
    rl_tokenizer *tok = NULL;
    char *tb = NULL, path[4200], side[512];
    size_t tl = 0;
    rl_status st;
    int n;
    if (!model_path || !tok_path || !out_dir) return rl__fail(RL_ERR_ARG, "rl_import_llama2c: NULL argument");
    /* everything that can fail on the input happens before the first file is written */
    if ((st = rl_model_load_llama2c(&m, model_path)) != RL_OK) return st;
    if ((st = rl__read_file(tok_path, (size_t)1 << 31, &tb, &tl)) == RL_OK)
        st = rl_tokenizer_load_llama2c_mem(&tok, tb, tl, (int32_t)m.cfg.vocab_size, tok_path);
    if (!st) st = rl_model_save(&m, out_dir, NULL);
    if (!st) {
        snprintf(path, sizeof path, "%s/tokenizer.bin", out_dir);
        st = rl__write_atomic(path, tb, tl);
    }
    if (!st) {
        n = snprintf(side, sizeof side, "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": [1, 2]\n}\n");
        snprintf(path, sizeof path, "%s/generation_config.json", out_dir);
        st = rl__write_atomic(path, side, (size_t)n);
    }
    RL_FREE(tb);
    rl_tokenizer_free(tok);
    rl_model_free(&m);
    return st;
}
#endif

#if !defined(RADLADS_NO_LMEVAL)
/* ==== 15. lm-evaluation-harness scoring ==================================== */

/* How rl_eval_task scores (API: section 15's declarations).
   Tokens (TemplateLM._encode_pair): trailing whitespace of the context (every character
   Python's str.isspace() accepts) moves to the front of the continuation; then
   whole = encode(context + continuation), ctx = encode(context), cont = whole[len(ctx):], so
   BPE merges across the boundary count as the continuation's. An empty context becomes the
   prefix token alone (cont = encode(continuation) without special tokens; if that already
   starts with the prefix token, it serves as the context). The model sees
   (ctx + cont)[-(max_length+1):][:-1] (left truncation) and the last len(cont) positions
   are scored. A context that encodes to no tokens, a continuation that adds none, or one
   longer than max_length is RL_ERR_ARG (the harness asserts).

   Tasks (the harness's task YAMLs; target delimiter " "):
     hellaswag       context preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)),
                     choices preprocess(endings[i]), gold int(label) ("0".."3" or a number);
                     preprocess = strip, " [title]" -> ". ", drop every [...] (not across a
                     newline), "  " -> " ". capitalize = upper-case the first character and
                     lower-case the rest, as Python; the case tables here cover ASCII, Latin-1,
                     Latin Extended-A, Greek and Cyrillic (other letters stay as they are; no
                     final-sigma rule, 'İ' lower-cases to plain 'i').
     piqa            "Question: {goal}\nAnswer:", choices [sol1, sol2], gold label (0/1).
     arc_easy, arc_challenge (also "arc")
                     "Question: {question}\nAnswer:", choices choices.text, gold the index of
                     answerKey in choices.label. Also read: the original release's nested layout
                     question.stem / question.choices[{text, label}].
     winogrande      multiple inputs: i = first "_" in sentence; contexts sentence[:i] + option1
                     and sentence[:i] + option2, shared continuation " " + strip(sentence[i+1:]),
                     gold answer "1"/"2" (or 1/2).
     lambada_openai (also "lambada", "lambada_standard")
                     context = text up to its last ' ', continuation = the rest from that space
                     (text.split(' ')); one request, no delimiter added.
   Metrics per document: acc = (argmax_i ll_i == gold); acc_norm = (argmax_i ll_i / nchar_i ==
   gold) with nchar_i the length in characters (code points, not bytes) of choice i (WinoGrande:
   of context i; the harness reports acc only there); argmax takes the first of equal values.
   LAMBADA: acc = is_greedy (the whole target word), perplexity = exp(−mean over documents of
   ll) (per document, not per token). Task values are means over documents; the standard errors
   are the harness's: sample standard deviation (n−1) / √n (NAN for one document). */

RLDEF void rl_lmeval_opts_default(rl_lmeval_opts *o) {
    memset(o, 0, sizeof *o);
    o->add_special = -1;
    o->prefix_token = -1;
}

/* Python's str.isspace() */
RL__INTERN int rl__lm_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Characters (code points; a stray byte counts as one), as Python's len(). */
RL__INTERN int64_t rl__lm_nchars(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int64_t k = 0;
    uint32_t cp;
    while (i < n) {
        i += rl__utf8_next(p + i, n - i, &cp);
        k++;
    }
    return k;
}

/* bytes of leading / trailing whitespace */
static size_t rl__lm_lspace(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = rl__utf8_next(p + i, n - i, &cp);
        if (!rl__lm_space(cp)) break;
        i += l;
    }
    return i;
}
RL__INTERN size_t rl__lm_rspace(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = n;
    while (i > 0) {
        size_t k = rl__utf8_prev(p, i);
        uint32_t cp;
        if (rl__utf8_next(p + k, i - k, &cp) != i - k || !rl__lm_space(cp)) break;
        i = k;
    }
    return n - i;
}

/* Simple case mapping (Python str.lower / str.upper on single characters) for ASCII, Latin-1,
   Latin Extended-A, Greek and Cyrillic; anything else maps to itself. */
static uint32_t rl__lm_lower(uint32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    return c;
}
static uint32_t rl__lm_upper(uint32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
    if (c == 0xB5) return 0x39C;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c & ~(uint32_t)1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
    if (c == 0x3AC) return 0x386;
    if (c >= 0x3AD && c <= 0x3AF) return c - 37;
    if (c == 0x3CC) return 0x38C;
    if (c == 0x3CD || c == 0x3CE) return c - 63;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x3B1 && c <= 0x3CB) return c - 32;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

/* rl__lm_doc: in the internal declarations. */
static void rl__lm_putc(rl__sbuf *b, uint32_t cp) {
    unsigned char u[4];
    size_t l = rl__utf8_put(u, cp);
    rl__sb_put(b, (const char *)u, l);
}

/* Python str.capitalize(): first character upper-cased (ß -> "Ss"), the rest lower-cased. */
RL__INTERN void rl__lm_capitalize(rl__sbuf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int first = 1;
    while (i < n) {
        uint32_t cp;
        size_t l = rl__utf8_next(p + i, n - i, &cp);
        if (l == 1 && p[i] >= 0x80) rl__sb_put(b, s + i, 1); /* stray byte: as it is */
        else if (first && cp == 0xDF) rl__sb_str(b, "Ss");
        else rl__lm_putc(b, first ? rl__lm_upper(cp) : rl__lm_lower(cp));
        first = 0;
        i += l;
    }
}

/* HellaSwag preprocess (lm-eval hellaswag/utils.py) of s into b. */
RL__INTERN void rl__lm_hs_pre(rl__sbuf *b, const char *s, size_t n) {
    rl__sbuf t, u;
    size_t i, a = rl__lm_lspace(s, n), z;
    memset(&t, 0, sizeof t);
    memset(&u, 0, sizeof u);
    z = a < n ? n - rl__lm_rspace(s + a, n - a) : n;
    /* text.replace(" [title]", ". ") */
    for (i = a; i < z;) {
        if (z - i >= 8 && !memcmp(s + i, " [title]", 8)) {
            rl__sb_put(&t, ". ", 2);
            i += 8;
        } else
            rl__sb_put(&t, s + i++, 1);
    }
    rl__sb_put(&t, "", 0);
    /* re.sub("\\[.*?\\]", "", text): '.' does not match a newline */
    for (i = 0; i < t.n;) {
        if (t.p[i] == '[') {
            size_t j = i + 1;
            while (j < t.n && t.p[j] != ']' && t.p[j] != '\n') j++;
            if (j < t.n && t.p[j] == ']') {
                i = j + 1;
                continue;
            }
        }
        rl__sb_put(&u, t.p + i++, 1);
    }
    rl__sb_put(&u, "", 0);
    /* text.replace("  ", " ") (left to right, non-overlapping) */
    for (i = 0; i < u.n;) {
        if (u.n - i >= 2 && u.p[i] == ' ' && u.p[i + 1] == ' ') {
            rl__sb_put(b, " ", 1);
            i += 2;
        } else
            rl__sb_put(b, u.p + i++, 1);
    }
    rl__sb_put(b, "", 0);
    if (t.oom || u.oom) b->oom = 1;
    RL_FREE(t.p);
    RL_FREE(u.p);
}

/* ---- requests ---- */

typedef struct rl__lm_cfg {
    int add_special;
    int32_t prefix;
    char *prefix_text; /* the prefix token decoded (has_bos_prefix) */
    size_t prefix_len;
    int64_t max_length;
} rl__lm_cfg;

static void rl__lm_cfg_free(rl__lm_cfg *k) {
    RL_FREE(k->prefix_text);
    k->prefix_text = NULL;
}

static rl_status rl__lm_cfg_init(rl__lm_cfg *k, const rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o) {
    rl_lmeval_opts d;
    rl_status st;
    if (!o) {
        rl_lmeval_opts_default(&d);
        o = &d;
    }
    memset(k, 0, sizeof *k);
    if (o->add_special < -1 || o->add_special > 1)
        return rl__fail(RL_ERR_ARG, "lm-eval: add_special must be -1 (tokenizer default), 0 or 1, not %d", o->add_special);
    k->add_special = o->add_special;
    k->prefix = o->prefix_token;
    if (k->prefix < 0) k->prefix = rl_tokenizer_bos(tok);
    if (k->prefix < 0 && m->cfg.n_eos > 0) k->prefix = m->cfg.eos_ids[0];
    if (k->prefix < 0) k->prefix = m->cfg.bos_id;
    if (k->prefix < 0)
        return rl__fail(RL_ERR_ARG, "lm-eval: the tokenizer has no BOS and config.json no eos_token_id or bos_token_id: "
                                    "set rl_lmeval_opts.prefix_token");
    if (k->prefix >= m->cfg.vocab_size)
        return rl__fail(RL_ERR_ARG, "lm-eval: prefix token %d is outside the model's vocabulary of %lld", (int)k->prefix,
                        (long long)m->cfg.vocab_size);
    k->max_length = o->max_length > 0 ? o->max_length : m->cfg.max_pos > 0 ? m->cfg.max_pos : 2048;
    if ((st = rl_tokenizer_decode(tok, &k->prefix, 1, 0, &k->prefix_text, &k->prefix_len)) != RL_OK) return st;
    return RL_OK;
}

/* tok_encode: special = -1 applies the harness's rule, 0 forces add_special_tokens=False */
static rl_status rl__lm_enc(const rl_tokenizer *tok, const rl__lm_cfg *k, const char *s, size_t n, int special,
                            int32_t **ids, int64_t *n_ids) {
    int add = 0;
    if (special != 0 && k->add_special != 0) {
        add = 1;
        if (k->prefix_len && n >= k->prefix_len && !memcmp(s, k->prefix_text, k->prefix_len)) add = 0;
    }
    return rl_tokenizer_encode(tok, s, n, add, ids, n_ids);
}

static rl_status rl__lm_pair(const rl_tokenizer *tok, const rl__lm_cfg *k, const char *ctx, size_t nctx, const char *cont,
                             size_t ncont, int32_t **ctx_ids, int64_t *n_ctx, int32_t **cont_ids, int64_t *n_cont) {
    int32_t *w = NULL, *a = NULL;
    int64_t nw = 0, na = 0;
    rl_status st;
    *ctx_ids = *cont_ids = NULL;
    *n_ctx = *n_cont = 0;
    if (nctx == 0) {
        if ((st = rl__lm_enc(tok, k, cont, ncont, 0, &w, &nw)) != RL_OK) return st;
        if (nw == 0) {
            RL_FREE(w);
            return rl__fail(RL_ERR_ARG, "lm-eval: empty context and a continuation without tokens");
        }
        a = (int32_t *)RL_MALLOC(sizeof(int32_t));
        if (!a) {
            RL_FREE(w);
            return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
        }
        if (w[0] == k->prefix) { /* the continuation starts with the prefix token: it is the context */
            memmove(w, w + 1, sizeof(int32_t) * (size_t)(nw - 1));
            nw--;
        }
        a[0] = k->prefix;
        na = 1;
    } else {
        rl__sbuf whole;
        size_t sp = rl__lm_rspace(ctx, nctx);
        int64_t i;
        memset(&whole, 0, sizeof whole);
        rl__sb_put(&whole, ctx, nctx);
        rl__sb_put(&whole, cont, ncont);
        if (whole.oom) {
            RL_FREE(whole.p);
            return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
        }
        /* trailing whitespace of the context moves to the continuation: only the split changes */
        st = rl__lm_enc(tok, k, whole.p, whole.n, -1, &w, &nw);
        if (st == RL_OK) st = rl__lm_enc(tok, k, ctx, nctx - sp, -1, &a, &na);
        RL_FREE(whole.p);
        if (st != RL_OK) {
            RL_FREE(w);
            RL_FREE(a);
            return st;
        }
        i = RL__MIN(na, nw);
        memmove(w, w + i, sizeof(int32_t) * (size_t)(nw - i));
        nw -= i;
    }
    if (na == 0 || nw == 0) {
        RL_FREE(w);
        RL_FREE(a);
        return rl__fail(RL_ERR_ARG, "lm-eval: the %s has no tokens of its own (context %lld bytes, continuation %lld bytes)",
                        na == 0 ? "context" : "continuation", (long long)nctx, (long long)ncont);
    }
    *ctx_ids = a;
    *n_ctx = na;
    *cont_ids = w;
    *n_cont = nw;
    return RL_OK;
}

RLDEF rl_status rl_lmeval_encode_pair(const rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o,
                                const char *context, const char *continuation, int32_t **ctx_ids, int64_t *n_ctx,
                                int32_t **cont_ids, int64_t *n_cont) {
    rl__lm_cfg k;
    rl_status st;
    if (!m || !tok || !context || !continuation || !ctx_ids || !n_ctx || !cont_ids || !n_cont)
        return rl__fail(RL_ERR_ARG, "lm-eval: encode_pair: NULL argument");
    if ((st = rl__lm_cfg_init(&k, m, tok, o)) != RL_OK) return st;
    st = rl__lm_pair(tok, &k, context, strlen(context), continuation, strlen(continuation), ctx_ids, n_ctx, cont_ids, n_cont);
    rl__lm_cfg_free(&k);
    return st;
}

RLDEF rl_status rl_loglikelihood_tokens(rl_ctx *c, rl_model *m, const int32_t *ctx, int64_t n_ctx, const int32_t *cont,
                                  int64_t n_cont, int64_t max_length, double *ll, int *is_greedy) {
    int64_t V = m->cfg.vocab_size, total = n_ctx + n_cont, start, T, i, j;
    int32_t *seq;
    rl_forward_opts fo;
    rl_tensor *lg;
    const float *hl = NULL;
    double sum = 0;
    int greedy = 1;
    if (max_length <= 0) max_length = m->cfg.max_pos > 0 ? m->cfg.max_pos : 2048;
    if (n_ctx < 1 || n_cont < 1 || !ctx || !cont)
        return rl__fail(RL_ERR_ARG, "lm-eval: a request needs at least one context and one continuation token");
    if (n_cont > max_length)
        return rl__fail(RL_ERR_ARG, "lm-eval: continuation of %lld tokens is longer than the maximum length %lld",
                        (long long)n_cont, (long long)max_length);
    for (i = 0; i < total; i++) {
        int32_t t = i < n_ctx ? ctx[i] : cont[i - n_ctx];
        if (t < 0 || t >= V)
            return rl__fail(RL_ERR_ARG, "lm-eval: token id %d is outside the model's vocabulary of %lld", (int)t, (long long)V);
    }
    seq = (int32_t *)RL_MALLOC(sizeof(int32_t) * (size_t)total);
    if (!seq) return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    memcpy(seq, ctx, sizeof(int32_t) * (size_t)n_ctx);
    memcpy(seq + n_ctx, cont, sizeof(int32_t) * (size_t)n_cont);
    start = total > max_length + 1 ? total - (max_length + 1) : 0; /* (ctx+cont)[-(max_length+1):][:-1] */
    T = total - 1 - start;
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    fo.T = T;
    rl_ctx_reset(c);
    rl_no_grad_push(c);
    lg = rl_model_forward(c, m, seq + start, &fo);
    rl_no_grad_pop(c);
    if (!lg || !(hl = rl__host_f32(c, lg))) { /* the logits on the host (from a device: copied) */
        RL_FREE(seq);
        return c->err ? c->err : rl__fail(RL_ERR_STATE, "lm-eval: forward pass failed");
    }
    for (i = 0; i < n_cont; i++) {
        const float *x = hl + (T - n_cont + i) * V;
        int32_t t = cont[i];
        int64_t best = 0;
        double mx, s = 0;
        for (j = 1; j < V; j++)
            if (x[j] > x[best]) best = j;
        mx = x[best];
        for (j = 0; j < V; j++) s += exp((double)x[j] - mx);
        sum += (double)x[t] - mx - log(s);
        if (best != t) greedy = 0;
    }
    RL_FREE(seq);
    rl_ctx_reset(c);
    *ll = sum;
    if (is_greedy) *is_greedy = greedy;
    return RL_OK;
}

/* one request from strings (lengths given: JSON strings may hold \0) */
static rl_status rl__lm_request(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl__lm_cfg *k, const char *ctx,
                                size_t nctx, const char *cont, size_t ncont, double *ll, int *greedy, int64_t *ntok) {
    int32_t *a, *b;
    int64_t na, nb;
    rl_status st = rl__lm_pair(tok, k, ctx, nctx, cont, ncont, &a, &na, &b, &nb);
    if (st != RL_OK) return st;
    st = rl_loglikelihood_tokens(c, m, a, na, b, nb, k->max_length, ll, greedy);
    if (ntok) *ntok = nb;
    RL_FREE(a);
    RL_FREE(b);
    return st;
}

RLDEF rl_status rl_loglikelihood_ex(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o,
                              const char *context, const char *continuation, double *ll, int *is_greedy,
                              int64_t *n_tokens) {
    rl__lm_cfg k;
    rl_status st;
    int g = 0;
    int64_t n = 0;
    if (!c || !m || !tok || !context || !continuation || !ll) return rl__fail(RL_ERR_ARG, "lm-eval: loglikelihood: NULL argument");
    if ((st = rl__lm_cfg_init(&k, m, tok, o)) != RL_OK) return st;
    st = rl__lm_request(c, m, tok, &k, context, strlen(context), continuation, strlen(continuation), ll, &g, &n);
    rl__lm_cfg_free(&k);
    if (is_greedy) *is_greedy = g;
    if (n_tokens) *n_tokens = n;
    return st;
}

RLDEF rl_status rl_loglikelihood(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *context,
                           const char *continuation, double *ll, int *is_greedy, int64_t *n_tokens) {
    return rl_loglikelihood_ex(c, m, tok, NULL, context, continuation, ll, is_greedy, n_tokens);
}

/* numpy.argmax: the first maximum; a NaN wins at once */
RL__INTERN int rl__lm_argmax(const double *x, int n) {
    int i, best = 0;
    for (i = 0; i < n; i++) {
        if (x[i] != x[i]) return i;
        if (x[i] > x[best]) best = i;
    }
    return best;
}

/* Score the requests of a document; preds out. */
static rl_status rl__lm_score_doc(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl__lm_cfg *k, const rl__lm_doc *d,
                                  double *lls, int *greedy, int64_t *ntok, int *pred, int *pred_norm) {
    int i;
    rl_status st;
    double *nl = (double *)RL_MALLOC(sizeof(double) * (size_t)d->n);
    if (!nl) return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    for (i = 0; i < d->n; i++) {
        if ((st = rl__lm_request(c, m, tok, k, d->ctx[i], d->nctx[i], d->cont[i], d->ncont[i], &lls[i], &greedy[i], &ntok[i])) !=
            RL_OK) {
            RL_FREE(nl);
            return st;
        }
        nl[i] = lls[i] / (double)rl__lm_nchars(d->norm[i], d->nnorm[i]);
    }
    *pred = rl__lm_argmax(lls, d->n);
    *pred_norm = rl__lm_argmax(nl, d->n);
    RL_FREE(nl);
    return RL_OK;
}

/* arena copy of " " + s */
static char *rl__lm_delim(rl_arena *A, const char *s, size_t n, size_t *out_n) {
    char *p = (char *)rl_arena_alloc(A, n + 2);
    if (!p) return NULL;
    p[0] = ' ';
    memcpy(p + 1, s, n);
    p[n + 1] = 0;
    *out_n = n + 1;
    return p;
}

static rl_status rl__lm_doc_alloc(rl__lm_doc *d, rl_arena *A, int n) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->ctx = (const char **)rl_arena_zalloc(A, sizeof(char *) * 3 * (size_t)n);
    d->nctx = (size_t *)rl_arena_zalloc(A, sizeof(size_t) * 3 * (size_t)n);
    if (!d->ctx || !d->nctx) return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    d->cont = d->ctx + n;
    d->norm = d->ctx + 2 * n;
    d->ncont = d->nctx + n;
    d->nnorm = d->nctx + 2 * n;
    return RL_OK;
}

RLDEF rl_status rl_mc_score(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const rl_lmeval_opts *o, const rl_mc_item *it,
                      double *lls, int *is_greedy, int *pred, int *pred_norm) {
    rl__lm_cfg k;
    rl__lm_doc d;
    rl_arena A;
    rl_status st;
    int i, p = 0, pn = 0, *g = NULL;
    int64_t *nt = NULL;
    if (!c || !m || !tok || !it || !lls || it->n_choices < 1 || !it->choices || (!it->target && !it->context))
        return rl__fail(RL_ERR_ARG, "lm-eval: rl_mc_score needs a context (or target), at least one choice and lls");
    for (i = 0; i < it->n_choices; i++)
        if (!it->choices[i]) return rl__fail(RL_ERR_ARG, "lm-eval: choice %d is NULL", i);
    if ((st = rl__lm_cfg_init(&k, m, tok, o)) != RL_OK) return st;
    rl_arena_init(&A, 0);
    st = rl__lm_doc_alloc(&d, &A, it->n_choices);
    g = (int *)RL_MALLOC(sizeof(int) * (size_t)it->n_choices);
    nt = (int64_t *)RL_MALLOC(sizeof(int64_t) * (size_t)it->n_choices);
    if (st == RL_OK && (!g || !nt)) st = rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    for (i = 0; st == RL_OK && i < it->n_choices; i++) {
        const char *ch = it->choices[i];
        d.norm[i] = ch;
        d.nnorm[i] = strlen(ch);
        if (it->target) {
            d.ctx[i] = ch;
            d.nctx[i] = d.nnorm[i];
            d.cont[i] = rl__lm_delim(&A, it->target, strlen(it->target), &d.ncont[i]);
        } else {
            d.ctx[i] = it->context;
            d.nctx[i] = strlen(it->context);
            d.cont[i] = rl__lm_delim(&A, ch, d.nnorm[i], &d.ncont[i]);
        }
        if (!d.cont[i]) st = rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    }
    if (st == RL_OK) st = rl__lm_score_doc(c, m, tok, &k, &d, lls, g, nt, &p, &pn);
    if (st == RL_OK) {
        if (is_greedy) memcpy(is_greedy, g, sizeof(int) * (size_t)it->n_choices);
        if (pred) *pred = p;
        if (pred_norm) *pred_norm = pn;
    }
    RL_FREE(g);
    RL_FREE(nt);
    rl_arena_free(&A);
    rl__lm_cfg_free(&k);
    return st;
}

#if !defined(RADLADS_NO_STDIO)
/* ---- task files (jsonl; not with RADLADS_NO_STDIO) ---- */

enum { RL__LM_HELLASWAG, RL__LM_PIQA, RL__LM_ARC, RL__LM_WINOGRANDE, RL__LM_LAMBADA };
static const char *const rl__lm_task_names[] = {"hellaswag", "piqa", "arc", "winogrande", "lambada_openai"};

RL__INTERN int rl__lm_task_id(const char *t) {
    if (!strcmp(t, "hellaswag")) return RL__LM_HELLASWAG;
    if (!strcmp(t, "piqa")) return RL__LM_PIQA;
    if (!strcmp(t, "arc_easy") || !strcmp(t, "arc_challenge") || !strcmp(t, "arc")) return RL__LM_ARC;
    if (!strcmp(t, "winogrande")) return RL__LM_WINOGRANDE;
    if (!strcmp(t, "lambada_openai") || !strcmp(t, "lambada") || !strcmp(t, "lambada_standard")) return RL__LM_LAMBADA;
    return -1;
}

/* obj[key] as a string (with its byte length) */
static rl_status rl__lm_str(const rl_json *obj, const char *key, const char *src, const char **s, size_t *n) {
    const rl_json *v = rl_json_get(obj, key);
    rl_status st;
    *s = NULL; /* set on failure too: gcc's maybe-uninitialized cannot see that every caller then returns */
    *n = 0;
    st = rl_json_as_str(v, src, key, s);
    if (st == RL_OK) *n = (size_t)v->n;
    return st;
}

/* a gold index written as an integer or a string of digits: value - base, in [0, n) */
static rl_status rl__lm_index(const rl_json *v, const char *src, const char *field, int base, int n, int *out) {
    int64_t x = -1;
    if (v && v->type == RL_JSON_NUM && v->is_int) x = v->i;
    else if (v && v->type == RL_JSON_STR) {
        int64_t i;
        if (v->n == 0) return rl__fail(RL_ERR_FORMAT, "%s: %s: empty (an unlabeled split cannot be scored)", src, field);
        for (i = 0, x = 0; i < v->n; i++) {
            if (v->str[i] < '0' || v->str[i] > '9' || x > 1000000) {
                x = -2;
                break;
            }
            x = x * 10 + (v->str[i] - '0');
        }
        if (x == -2) return rl__fail(RL_ERR_FORMAT, "%s: %s: expected a number, got \"%.40s\"", src, field, v->str);
    } else
        return rl_json_as_int(v, src, field, &x); /* the error for a missing / wrong-typed value */
    if (x - base < 0 || x - base >= n)
        return rl__fail(RL_ERR_FORMAT, "%s: %s: %lld is out of range (%d choices%s)", src, field, (long long)x, n,
                        base ? ", numbered from 1" : ", numbered from 0");
    *out = (int)(x - base);
    return RL_OK;
}

/* the task readers below: the bytes gathered in b become a string in A, and b is emptied; out of memory
   returns from the reader */
#define RL__LM_COPY(dst, ndst)                                                   \
    do {                                                                         \
        char *q_ = b->oom ? NULL : (char *)rl_arena_alloc(A, b->n + 1);           \
        if (!q_) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", src);        \
        memcpy(q_, b->p ? b->p : "", b->n);                                      \
        q_[b->n] = 0;                                                            \
        (dst) = q_;                                                              \
        (ndst) = b->n;                                                           \
        b->n = 0;                                                                \
    } while (0)

/* HellaSwag: the preprocessed context, each ending after a space; gold is "label" */
static rl_status rl__lm_doc_hellaswag(const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d, rl__sbuf *b) {
    rl_status st;
    int i, n;
    const char *al, *ca, *cb, *q;
    size_t nal, nca, ncb, nq;
    const rl_json *e = rl_json_get(o, "endings");
    if ((st = rl__lm_str(o, "activity_label", src, &al, &nal)) != RL_OK) return st;
    if ((st = rl__lm_str(o, "ctx_a", src, &ca, &nca)) != RL_OK) return st;
    if ((st = rl__lm_str(o, "ctx_b", src, &cb, &ncb)) != RL_OK) return st;
    if ((st = rl_json_expect(e, RL_JSON_ARR, src, "endings")) != RL_OK) return st;
    if (e->n < 1 || e->n > 1000) return rl__fail(RL_ERR_FORMAT, "%s: endings: expected 1 to 1000 strings, got %lld", src, (long long)e->n);
    n = (int)e->n;
    if ((st = rl__lm_doc_alloc(d, A, n)) != RL_OK) return st;
    if ((st = rl__lm_index(rl_json_get(o, "label"), src, "label", 0, n, &d->gold)) != RL_OK) return st;
    {
        rl__sbuf raw;
        memset(&raw, 0, sizeof raw);
        rl__sb_put(&raw, al, nal);
        rl__sb_put(&raw, ": ", 2);
        rl__sb_put(&raw, ca, nca);
        rl__sb_put(&raw, " ", 1);
        rl__lm_capitalize(&raw, cb, ncb);
        rl__sb_put(&raw, "", 0);
        if (raw.oom) b->oom = 1;
        else rl__lm_hs_pre(b, raw.p, raw.n);
        RL_FREE(raw.p);
        RL__LM_COPY(q, nq);
    }
    for (i = 0; i < n; i++) {
        char field[32];
        const rl_json *v = &e->kids[i];
        snprintf(field, sizeof field, "endings[%d]", i);
        if ((st = rl_json_expect(v, RL_JSON_STR, src, field)) != RL_OK) break;
        rl__sb_put(b, " ", 1);
        rl__lm_hs_pre(b, v->str, (size_t)v->n);
        RL__LM_COPY(d->cont[i], d->ncont[i]);
        d->ctx[i] = q;
        d->nctx[i] = nq;
        d->norm[i] = d->cont[i] + 1;
        d->nnorm[i] = d->ncont[i] - 1;
    }
    return st;
}

/* PIQA: "Question: <goal>\nAnswer:" and the two solutions; gold is "label" */
static rl_status rl__lm_doc_piqa(const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d, rl__sbuf *b) {
    rl_status st;
    int i;
    const char *g, *s[2];
    size_t ng, ns[2];
    if ((st = rl__lm_str(o, "goal", src, &g, &ng)) != RL_OK) return st;
    if ((st = rl__lm_str(o, "sol1", src, &s[0], &ns[0])) != RL_OK) return st;
    if ((st = rl__lm_str(o, "sol2", src, &s[1], &ns[1])) != RL_OK) return st;
    if ((st = rl__lm_doc_alloc(d, A, 2)) != RL_OK) return st;
    if ((st = rl__lm_index(rl_json_get(o, "label"), src, "label", 0, 2, &d->gold)) != RL_OK) return st;
    rl__sb_str(b, "Question: ");
    rl__sb_put(b, g, ng);
    rl__sb_str(b, "\nAnswer:");
    RL__LM_COPY(d->ctx[0], d->nctx[0]);
    for (i = 0; i < 2; i++) {
        d->ctx[i] = d->ctx[0];
        d->nctx[i] = d->nctx[0];
        d->norm[i] = s[i];
        d->nnorm[i] = ns[i];
        if (!(d->cont[i] = rl__lm_delim(A, s[i], ns[i], &d->ncont[i]))) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", src);
    }
    return RL_OK;
}

/* ARC (both releases: question.choices[] or choices.text/label): gold is the choice labelled answerKey */
static rl_status rl__lm_doc_arc(const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d, rl__sbuf *b) {
    rl_status st;
    int i, n;
    const rl_json *qv = rl_json_get(o, "question"), *cv, *tv = NULL, *lv = NULL;
    const char *q, *key;
    size_t nq, nkey;
    int nested = qv && qv->type == RL_JSON_OBJ; /* original release: question.stem, question.choices[] */
    if (nested) {
        if ((st = rl__lm_str(qv, "stem", src, &q, &nq)) != RL_OK) return st;
        cv = rl_json_get(qv, "choices");
        if ((st = rl_json_expect(cv, RL_JSON_ARR, src, "question.choices")) != RL_OK) return st;
        n = (int)RL__MIN(cv->n, 1001);
    } else {
        if ((st = rl__lm_str(o, "question", src, &q, &nq)) != RL_OK) return st;
        cv = rl_json_get(o, "choices");
        if ((st = rl_json_expect(cv, RL_JSON_OBJ, src, "choices")) != RL_OK) return st;
        tv = rl_json_get(cv, "text");
        lv = rl_json_get(cv, "label");
        if ((st = rl_json_expect(tv, RL_JSON_ARR, src, "choices.text")) != RL_OK) return st;
        if ((st = rl_json_expect(lv, RL_JSON_ARR, src, "choices.label")) != RL_OK) return st;
        if (tv->n != lv->n)
            return rl__fail(RL_ERR_FORMAT, "%s: choices: %lld texts but %lld labels", src, (long long)tv->n, (long long)lv->n);
        n = (int)RL__MIN(tv->n, 1001);
    }
    if (n < 1 || n > 1000) return rl__fail(RL_ERR_FORMAT, "%s: choices: expected 1 to 1000 choices", src);
    if ((st = rl__lm_str(o, "answerKey", src, &key, &nkey)) != RL_OK) return st;
    if ((st = rl__lm_doc_alloc(d, A, n)) != RL_OK) return st;
    rl__sb_str(b, "Question: ");
    rl__sb_put(b, q, nq);
    rl__sb_str(b, "\nAnswer:");
    RL__LM_COPY(d->ctx[0], d->nctx[0]);
    d->gold = -1;
    for (i = 0; i < n; i++) {
        char ft[48], fl[48];
        const rl_json *t, *l;
        if (nested) {
            const rl_json *ch = &cv->kids[i];
            snprintf(ft, sizeof ft, "question.choices[%d]", i);
            if ((st = rl_json_expect(ch, RL_JSON_OBJ, src, ft)) != RL_OK) return st;
            snprintf(ft, sizeof ft, "question.choices[%d].text", i);
            snprintf(fl, sizeof fl, "question.choices[%d].label", i);
            t = rl_json_get(ch, "text");
            l = rl_json_get(ch, "label");
        } else {
            snprintf(ft, sizeof ft, "choices.text[%d]", i);
            snprintf(fl, sizeof fl, "choices.label[%d]", i);
            t = &tv->kids[i];
            l = &lv->kids[i];
        }
        if ((st = rl_json_expect(t, RL_JSON_STR, src, ft)) != RL_OK) return st;
        if ((st = rl_json_expect(l, RL_JSON_STR, src, fl)) != RL_OK) return st;
        d->ctx[i] = d->ctx[0];
        d->nctx[i] = d->nctx[0];
        d->norm[i] = t->str;
        d->nnorm[i] = (size_t)t->n;
        if (!(d->cont[i] = rl__lm_delim(A, t->str, (size_t)t->n, &d->ncont[i]))) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", src);
        if (d->gold < 0 && (size_t)l->n == nkey && !memcmp(l->str, key, nkey)) d->gold = i; /* list.index: the first */
    }
    if (d->gold < 0) return rl__fail(RL_ERR_FORMAT, "%s: answerKey: \"%.20s\" is not one of the choice labels", src, key);
    return RL_OK;
}

/* WinoGrande: each option filled in for "_" as the context, the rest of the sentence as the continuation */
static rl_status rl__lm_doc_winogrande(const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d, rl__sbuf *b) {
    rl_status st;
    int i;
    const char *s, *op[2], *us;
    size_t ns, nop[2], at, a, tl;
    if ((st = rl__lm_str(o, "sentence", src, &s, &ns)) != RL_OK) return st;
    if ((st = rl__lm_str(o, "option1", src, &op[0], &nop[0])) != RL_OK) return st;
    if ((st = rl__lm_str(o, "option2", src, &op[1], &nop[1])) != RL_OK) return st;
    if (!(us = (const char *)memchr(s, '_', ns)))
        return rl__fail(RL_ERR_FORMAT, "%s: sentence: has no \"_\" to fill in", src);
    if ((st = rl__lm_doc_alloc(d, A, 2)) != RL_OK) return st;
    if ((st = rl__lm_index(rl_json_get(o, "answer"), src, "answer", 1, 2, &d->gold)) != RL_OK) return st;
    at = (size_t)(us - s);
    a = rl__lm_lspace(s + at + 1, ns - at - 1);
    tl = ns - at - 1 - a;
    tl -= rl__lm_rspace(s + at + 1 + a, tl);
    rl__sb_put(b, " ", 1); /* target_delimiter + sentence[i+1:].strip() */
    rl__sb_put(b, s + at + 1 + a, tl);
    RL__LM_COPY(d->cont[0], d->ncont[0]);
    for (i = 0; i < 2; i++) {
        rl__sb_put(b, s, at);
        rl__sb_put(b, op[i], nop[i]);
        RL__LM_COPY(d->ctx[i], d->nctx[i]);
        d->cont[i] = d->cont[0];
        d->ncont[i] = d->ncont[0];
        d->norm[i] = d->ctx[i];
        d->nnorm[i] = d->nctx[i];
    }
    return RL_OK;
}

/* LAMBADA: the text up to its last word, and the last word after a space */
static rl_status rl__lm_doc_lambada(const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d) {
    rl_status st;
    const char *t;
    size_t nt, sp;
    if ((st = rl__lm_str(o, "text", src, &t, &nt)) != RL_OK) return st;
    if ((st = rl__lm_doc_alloc(d, A, 1)) != RL_OK) return st;
    for (sp = nt; sp > 0 && t[sp - 1] != ' '; sp--) {}
    if (sp > 0) { /* " ".join(w[:-1]), " " + w[-1] */
        d->ctx[0] = t;
        d->nctx[0] = sp - 1;
        d->cont[0] = t + sp - 1;
        d->ncont[0] = nt - sp + 1;
    } else {
        d->ctx[0] = "";
        d->nctx[0] = 0;
        if (!(d->cont[0] = rl__lm_delim(A, t, nt, &d->ncont[0]))) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", src);
    }
    d->norm[0] = d->cont[0];
    d->nnorm[0] = d->ncont[0];
    d->gold = 0;
    return RL_OK;
}
#undef RL__LM_COPY

/* The requests of one document (strings live in A; b is scratch space). */
static rl_status rl__lm_make_doc_b(int task, const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d, rl__sbuf *b) {
    if (o->type != RL_JSON_OBJ)
        return rl__fail(RL_ERR_FORMAT, "%s: expected a JSON object, got %s", src, rl_json_type_name(o->type));
    switch (task) {
    case RL__LM_HELLASWAG: return rl__lm_doc_hellaswag(o, src, A, d, b);
    case RL__LM_PIQA: return rl__lm_doc_piqa(o, src, A, d, b);
    case RL__LM_ARC: return rl__lm_doc_arc(o, src, A, d, b);
    case RL__LM_WINOGRANDE: return rl__lm_doc_winogrande(o, src, A, d, b);
    default: return rl__lm_doc_lambada(o, src, A, d);
    }
}

RL__INTERN rl_status rl__lm_make_doc(int task, const rl_json *o, const char *src, rl_arena *A, rl__lm_doc *d) {
    rl__sbuf b;
    rl_status st;
    memset(&b, 0, sizeof b);
    st = rl__lm_make_doc_b(task, o, src, A, d, &b);
    RL_FREE(b.p);
    return st;
}

/* rl_json's "jsonl:1:COL: what" for one line -> "path: line N, column COL: what" */
static rl_status rl__lm_json_err(rl_status st, const char *path, int64_t line) {
    char msg[1024];
    const char *e = rl_last_error(), *p;
    int col = 0;
    snprintf(msg, sizeof msg, "%s", e);
    if (!strncmp(msg, "jsonl:", 6) && (p = strchr(msg + 6, ':')) != NULL) {
        col = atoi(p + 1);
        if ((p = strchr(p + 1, ':')) != NULL) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", p[1] == ' ' ? p + 2 : p + 1);
            return rl__fail(st, "%s: line %lld, column %d: %s", path, (long long)line, col, rest);
        }
    }
    return rl__fail(st, "%s: line %lld: %s", path, (long long)line, msg);
}

static double rl__lm_stderr(double sum, double sumsq, int64_t n) {
    double mean, var;
    if (n < 2) return NAN;
    mean = sum / (double)n;
    var = (sumsq - (double)n * mean * mean) / (double)(n - 1);
    return sqrt(var > 0 ? var : 0) / sqrt((double)n);
}

/* What one rl_eval_task run carries from document to document. */
typedef struct rl__lm_run {
    rl_ctx *c;
    rl_model *m;
    const rl_tokenizer *tok;
    const rl_lmeval_opts *o;
    rl__lm_cfg k;
    int tid, cap;   /* the task (-1 until a document tells it); the choices the scratch below holds */
    double *lls;    /* scratch, per choice of the current document */
    int *greedy;
    int64_t *ntok;
    int64_t n;      /* documents scored */
    double s_acc, s_norm, s_ll;
} rl__lm_run;

/* The task a document's fields belong to (-1: none). */
static int rl__lm_detect_task(const rl_json *r) {
    return rl_json_get(r, "endings") ? RL__LM_HELLASWAG : rl_json_get(r, "sol1") ? RL__LM_PIQA
         : rl_json_get(r, "answerKey") ? RL__LM_ARC : rl_json_get(r, "option1") ? RL__LM_WINOGRANDE
         : rl_json_get(r, "text") ? RL__LM_LAMBADA : -1;
}

/* Scratch for a document of n choices (grown, never shrunk). */
static rl_status rl__lm_run_scratch(rl__lm_run *R, int n) {
    if (n <= R->cap) return RL_OK;
    R->cap = n;
    RL_FREE(R->lls);
    RL_FREE(R->greedy);
    RL_FREE(R->ntok);
    R->lls = (double *)RL_MALLOC(sizeof(double) * (size_t)R->cap);
    R->greedy = (int *)RL_MALLOC(sizeof(int) * (size_t)R->cap);
    R->ntok = (int64_t *)RL_MALLOC(sizeof(int64_t) * (size_t)R->cap);
    if (!R->lls || !R->greedy || !R->ntok) {
        R->cap = 0;
        return rl__fail(RL_ERR_NOMEM, "lm-eval: out of memory");
    }
    return RL_OK;
}

/* A scored document into the sums; the caller's on_doc sees it. */
static void rl__lm_run_count(rl__lm_run *R, const rl__lm_doc *d, int64_t line, int pred, int pred_norm) {
    rl_mc_doc r;
    memset(&r, 0, sizeof r);
    r.task = rl__lm_task_names[R->tid];
    r.index = R->n;
    r.line = line;
    r.n_choices = d->n;
    r.lls = R->lls;
    r.is_greedy = R->greedy;
    r.n_tokens = R->ntok;
    if (R->tid == RL__LM_LAMBADA) {
        r.acc = R->greedy[0];
        R->s_ll += R->lls[0];
    } else {
        r.gold = d->gold;
        r.pred = pred;
        r.pred_norm = pred_norm;
        r.acc = pred == d->gold;
        r.acc_norm = pred_norm == d->gold;
    }
    R->s_acc += r.acc;
    R->s_norm += r.acc_norm;
    R->n++;
    if (R->o && R->o->on_doc) R->o->on_doc(R->o->user, &r);
}

/* Line `line` of path (the l bytes at ln), one document: parsed, its task told if not yet known, scored
   and counted (its strings live in A). */
static rl_status rl__lm_eval_line(rl__lm_run *R, const char *path, int64_t line, const char *ln, size_t l, rl_arena *A) {
    char src[600];
    rl_json_doc jd;
    rl__lm_doc d;
    int pred = 0, pred_norm = 0;
    rl_status st;
    snprintf(src, sizeof src, "%s: line %lld", path, (long long)line);
    memset(&jd, 0, sizeof jd);
    if ((st = rl_json_parse(&jd, ln, l, "jsonl")) != RL_OK) {
        st = rl__lm_json_err(st, path, line);
        rl_json_free(&jd);
        return st;
    }
    if (R->tid < 0 && (R->tid = rl__lm_detect_task(&jd.root)) < 0) { /* auto */
        st = rl__fail(RL_ERR_FORMAT, "%s: cannot tell the task from the fields (expected one of endings, sol1, answerKey, "
                                     "option1, text); name the task", src);
        rl_json_free(&jd);
        return st;
    }
    st = rl__lm_make_doc(R->tid, &jd.root, src, A, &d);
    if (st == RL_OK) st = rl__lm_run_scratch(R, d.n);
    if (st == RL_OK) {
        st = rl__lm_score_doc(R->c, R->m, R->tok, &R->k, &d, R->lls, R->greedy, R->ntok, &pred, &pred_norm);
        if (st != RL_OK) { /* say which document */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", rl_last_error());
            st = rl__fail(st, "%s: %s", src, msg);
        }
    }
    rl_json_free(&jd);
    if (st != RL_OK) return st;
    rl__lm_run_count(R, &d, line, pred, pred_norm);
    return RL_OK;
}

/* The task's metrics from the sums over the R->n documents. */
static void rl__lm_run_result(const rl__lm_run *R, rl_mc_result *out) {
    int64_t n = R->n;
    out->n = n;
    out->acc = R->s_acc / (double)n;
    out->acc_stderr = rl__lm_stderr(R->s_acc, R->s_acc, n); /* 0/1 values: Σx² = Σx */
    if (R->tid == RL__LM_LAMBADA) {
        out->acc_norm = out->acc_norm_stderr = NAN;
        out->ppl = exp(-R->s_ll / (double)n);
    } else {
        out->acc_norm = R->s_norm / (double)n;
        out->acc_norm_stderr = rl__lm_stderr(R->s_norm, R->s_norm, n);
        out->ppl = NAN;
    }
}

RLDEF rl_status rl_eval_task_ex(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *jsonl_path, const char *task,
                          int64_t limit, const rl_lmeval_opts *o, rl_mc_result *out) {
    rl__lm_run R;
    rl_arena A;
    rl_status st;
    char *text = NULL;
    size_t len = 0, pos = 0;
    int64_t line = 0;
    int tid = -1;
    if (!c || !m || !tok || !jsonl_path || !out) return rl__fail(RL_ERR_ARG, "lm-eval: rl_eval_task: NULL argument");
    memset(out, 0, sizeof *out);
    if (task && *task && strcmp(task, "auto") && (tid = rl__lm_task_id(task)) < 0)
        return rl__fail(RL_ERR_ARG, "lm-eval: unknown task '%s' (known: hellaswag, piqa, arc_easy, arc_challenge, winogrande, "
                                    "lambada_openai, or auto)", task);
    memset(&R, 0, sizeof R);
    R.c = c;
    R.m = m;
    R.tok = tok;
    R.o = o;
    R.tid = tid;
    if ((st = rl__lm_cfg_init(&R.k, m, tok, o)) != RL_OK) return st;
    if ((st = rl__read_file(jsonl_path, (size_t)1 << 36, &text, &len)) != RL_OK) {
        rl__lm_cfg_free(&R.k);
        return st;
    }
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3; /* byte order mark */
    rl_arena_init(&A, 0);
    while (pos < len && (limit <= 0 || R.n < limit)) {
        const char *ln = text + pos, *nl = (const char *)memchr(ln, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - ln) : len - pos, b;
        rl_arena_mark_t mk = rl_arena_mark(&A);
        pos += l + 1;
        line++;
        for (b = 0; b < l && (ln[b] == ' ' || ln[b] == '\t' || ln[b] == '\r'); b++) {}
        if (b == l) continue; /* blank line */
        if (o && o->stop && *o->stop) {
            st = rl__fail(RL_ERR_INTERRUPTED, "lm-eval: %s: stopped after %lld documents", jsonl_path, (long long)R.n);
            break;
        }
        if ((st = rl__lm_eval_line(&R, jsonl_path, line, ln, l, &A)) != RL_OK) break;
        rl_arena_reset(&A, mk);
    }
    rl_arena_free(&A);
    RL_FREE(text);
    RL_FREE(R.lls);
    RL_FREE(R.greedy);
    RL_FREE(R.ntok);
    rl__lm_cfg_free(&R.k);
    if (st != RL_OK) return st;
    if (R.n == 0) return rl__fail(RL_ERR_FORMAT, "%s: no documents", jsonl_path);
    rl__lm_run_result(&R, out);
    return RL_OK;
}

RLDEF rl_status rl_eval_task(rl_ctx *c, rl_model *m, const rl_tokenizer *tok, const char *jsonl_path, const char *task,
                       int64_t limit, rl_mc_result *out) {
    return rl_eval_task_ex(c, m, tok, jsonl_path, task, limit, NULL, out);
}
#endif


#endif /* lm-eval */

#if !defined(RADLADS_NO_GGUF) && !defined(RADLADS_NO_TOKENIZER)
/* ==== 16. llama.cpp interop ================================================ */

/* The tensors of an rwkv6qwen2 block that llama.cpp keeps as Hugging Face has them, in the order
   llama.cpp writes them: the GGUF name (after "blk.N."), the Hugging Face name (after
   "model.layers.N."), where the tensor sits in an rl_block, and what it is. The token shift and
   decay, which llama.cpp reorders and transposes, are mapped by hand (rl__g6_block_shift,
   rl__ex_block_shift) where RL__G6_SHIFT stands. Import (16a) and export (16b) read this table. */
enum { RL__G6_NORM, RL__G6_MAT, RL__G6_BIAS, RL__G6_SHIFT };
typedef struct { const char *gguf, *hf; size_t off; int kind; } rl__g6_name;
#define RL__G6(g, h, f, k) {g, h, offsetof(rl_block, f), RL__G6_##k}
static const rl__g6_name rl__g6_names[] = {
    RL__G6("attn_norm.weight", "input_layernorm.weight", ln1, NORM),
    {NULL, NULL, 0, RL__G6_SHIFT},
    RL__G6("time_mix_receptance.weight", "self_attn.q_proj.weight", mix.q_w, MAT),
    RL__G6("time_mix_receptance.bias", "self_attn.q_proj.bias", mix.q_b, BIAS),
    RL__G6("time_mix_key.weight", "self_attn.k_proj.weight", mix.k_w, MAT),
    RL__G6("time_mix_key.bias", "self_attn.k_proj.bias", mix.k_b, BIAS),
    RL__G6("time_mix_value.weight", "self_attn.v_proj.weight", mix.v_w, MAT),
    RL__G6("time_mix_value.bias", "self_attn.v_proj.bias", mix.v_b, BIAS),
    RL__G6("time_mix_gate.weight", "self_attn.gate.weight", mix.gate_w, MAT),
    RL__G6("time_mix_output.weight", "self_attn.o_proj.weight", mix.o_w, MAT),
    RL__G6("ffn_norm.weight", "post_attention_layernorm.weight", ln2, NORM),
    RL__G6("ffn_gate.weight", "mlp.gate_proj.weight", gate, MAT),
    RL__G6("ffn_up.weight", "mlp.up_proj.weight", up, MAT),
    RL__G6("ffn_down.weight", "mlp.down_proj.weight", down, MAT)};
#undef RL__G6
#define RL__G6_N (sizeof rl__g6_names / sizeof rl__g6_names[0])

/* ---- 16a. teachers and students from GGUF ----
   How rl_config_from_gguf reads a Llama/Qwen2 GGUF (API: section 16's declarations):
   rl_config from the GGUF: arch and model_type from general.architecture; vocab_size = rows
   of token_embd.weight; hidden/intermediate sizes, layers, heads, kv heads, head_dim
   ({arch}.attention.key_length or hidden/heads); max_position_embeddings =
   {arch}.context_length (else 2048 llama / 32768 qwen2); rope_theta = {arch}.rope.freq_base;
   rms_norm_eps; tie_word_embeddings = no output.weight; attention_bias = blk.0.attn_q.bias
   present (always for qwen2); bos/eos from tokenizer.ggml.bos_token_id / eos_token_id (the
   eos list also takes eot_token_id and eom_token_id when they differ); dtype float32.
   RoPE scaling: {arch}.rope.scaling.type "linear" -> linear; a rope_freqs.weight tensor
   (how convert_hf_to_gguf stores Llama-3.1/3.2 "llama3" scaling) is accepted when its
   divisors are all 1 (no scaling) or exactly those of rope_type llama3 with low/high
   frequency factors 1/4 and original context {arch}.rope.scaling.original_context_length
   (default 8192) -- then rope_scaling is RL_ROPE_LLAMA3 -- and refused otherwise; other
   scaling types (yarn, ...) are RL_ERR_UNSUPPORTED. */

/* ---- import: configuration ---- */

/* HF parameter name -> GGUF tensor name (the inverse of rl_gguf_hf_name), for messages. */
RL__INTERN void rl__gguf_name_of(const char *hf, char *out, size_t cap) {
    size_t i;
    const char *p;
    long long layer = -1;
    int used = 0;
    if (!strcmp(hf, "model.embed_tokens.weight")) p = "token_embd.weight";
    else if (!strcmp(hf, "model.norm.weight")) p = "output_norm.weight";
    else if (!strcmp(hf, "lm_head.weight")) p = "output.weight";
    else p = NULL;
    if (p) {
        snprintf(out, cap, "%s", p);
        return;
    }
    if (sscanf(hf, "model.layers.%lld.%n", &layer, &used) == 1 && used > 0)
        for (i = 0; i < sizeof rl__gguf_layer_names / sizeof rl__gguf_layer_names[0]; i++)
            if (!strcmp(hf + used, rl__gguf_layer_names[i][1])) {
                snprintf(out, cap, "blk.%lld.%s", layer, rl__gguf_layer_names[i][0]);
                return;
            }
    snprintf(out, cap, "%s", hf);
}

/* an optional token-id key: -1 if absent; an error if present and not a valid id */
static rl_status rl__gguf_token_key(const rl_gguf *g, const char *key, int64_t vocab, int32_t *out) {
    int64_t v;
    rl_status s;
    *out = -1;
    if (!rl_gguf_find(g, key)) return RL_OK;
    if ((s = rl_gguf_get_int(g, key, &v))) return s;
    if (v < 0 || v >= vocab)
        return rl__fail(RL_ERR_FORMAT, "%s: key '%s' is %lld, outside the vocabulary of %lld tokens", g->path, key, (long long)v, (long long)vocab);
    *out = (int32_t)v;
    return RL_OK;
}

/* rope_freqs.weight (per-frequency divisors of the inverse frequencies, llama.cpp's
   freq_factors): no scaling, or exactly the llama3 rule; anything else is refused. */
static rl_status rl__gguf_rope_freqs(const rl_gguf *g, const rl_gguf_llama_hparams *hp, rl_config *cfg) {
    const rl_gguf_tensor *t = rl_gguf_find_tensor(g, "rope_freqs.weight");
    int64_t i, half = cfg->head_dim / 2;
    float *div, *base, *mine;
    double fmax = 0;
    int trivial = 1, ok = 1;
    rl_status s;
    if (t->n != half)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor 'rope_freqs.weight' has %lld values, expected head_dim/2 = %lld", g->path, (long long)t->n,
                        (long long)half);
    div = (float *)RL_MALLOC(sizeof(float) * (size_t)(3 * half + 3));
    if (!div) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", g->path);
    base = div + half + 1;
    mine = base + half + 1;
    if ((s = rl_gguf_tensor_f32(g, t, div))) {
        RL_FREE(div);
        return s;
    }
    for (i = 0; i < half; i++) {
        if (!(div[i] > 0) || !(div[i] < 1e30f)) {
            double bad = div[i];
            RL_FREE(div);
            return rl__fail(RL_ERR_FORMAT, "%s: tensor 'rope_freqs.weight': value %g at %lld is not a positive number", g->path, bad, (long long)i);
        }
        if (fabs(div[i] - 1.0) > 1e-6) trivial = 0;
        if (div[i] > fmax) fmax = div[i];
    }
    if (!trivial) {
        rl_config c = *cfg;
        rl_rope_inv_freq(&c, base); /* unscaled */
        c.rope_scaling = RL_ROPE_LLAMA3;
        c.rope_factor = fmax;
        c.rope_low_freq = 1.0;
        c.rope_high_freq = 4.0;
        c.rope_orig_max_pos = hp->rope_scaling_orig_ctx > 0 ? hp->rope_scaling_orig_ctx : 8192;
        rl_rope_inv_freq(&c, mine);
        for (i = 0; i < half && ok; i++) {
            double want = (double)base[i] / (double)div[i];
            if (fabs((double)mine[i] - want) > 1e-5 * fabs(want)) ok = 0;
        }
        if (!ok) {
            RL_FREE(div);
            return rl__fail(RL_ERR_UNSUPPORTED,
                            "%s: tensor 'rope_freqs.weight' holds RoPE frequency divisors that are not the llama3 rule (factor %g, low/high "
                            "frequency factors 1/4, original context %lld); this RoPE scaling is not supported",
                            g->path, fmax, (long long)c.rope_orig_max_pos);
        }
        cfg->rope_scaling = RL_ROPE_LLAMA3;
        cfg->rope_factor = c.rope_factor;
        cfg->rope_low_freq = c.rope_low_freq;
        cfg->rope_high_freq = c.rope_high_freq;
        cfg->rope_orig_max_pos = c.rope_orig_max_pos;
    }
    RL_FREE(div);
    return RL_OK;
}

static rl_status rl__config_from_hp(rl_config *cfg, const rl_gguf *g, const rl_gguf_llama_hparams *hp) {
    static const char *const eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"};
    const char *st = hp->rope_scaling_type;
    rl_status s;
    size_t k;
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = !strcmp(hp->arch, "qwen2") ? RL_ARCH_QWEN2 : RL_ARCH_LLAMA;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", cfg->arch == RL_ARCH_QWEN2 ? "qwen2" : "llama");
    cfg->vocab_size = hp->vocab_size; /* = rows of token_embd.weight (checked by rl_gguf_llama_hparams_read) */
    cfg->hidden_size = hp->hidden_size;
    cfg->intermediate_size = hp->intermediate_size;
    cfg->n_layers = hp->n_layers;
    cfg->n_heads = hp->n_heads;
    cfg->n_kv_heads = hp->n_kv_heads;
    cfg->head_dim = hp->head_dim;
    cfg->max_pos = hp->context_length > 0 ? hp->context_length : cfg->arch == RL_ARCH_QWEN2 ? 32768 : 2048;
    cfg->rms_eps = (float)hp->rms_norm_eps;
    cfg->rope_theta = hp->rope_theta;
    cfg->rope_factor = 1.0; /* as rl_config_parse without scaling */
    cfg->tie_embeddings = hp->tie_word_embeddings;
    cfg->attn_bias = cfg->arch == RL_ARCH_QWEN2 || hp->attn_bias;
    cfg->o_bias = hp->o_bias;
    cfg->dtype = RL_F32;
    if (cfg->vocab_size > INT32_MAX)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: vocabulary of %lld tokens is too large", g->path, (long long)cfg->vocab_size);
    if (hp->o_bias)
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor 'blk.0.attn_output.bias': a bias on the attention output projection is not supported", g->path);
    if (rl_gguf_find_tensor(g, "blk.0.ffn_up.bias") || rl_gguf_find_tensor(g, "blk.0.ffn_gate.bias") || rl_gguf_find_tensor(g, "blk.0.ffn_down.bias"))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: biases on the MLP (blk.0.ffn_*.bias) are not supported", g->path);
    if (*st && strcmp(st, "none")) {
        if (strcmp(st, "linear"))
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: key '%s.rope.scaling.type' is '%s'; only linear RoPE scaling (or llama3 through rope_freqs) is supported",
                            g->path, hp->arch, st);
        if (!(hp->rope_scaling_factor > 0))
            return rl__fail(RL_ERR_FORMAT, "%s: linear RoPE scaling needs a positive '%s.rope.scaling.factor' (got %g)", g->path, hp->arch,
                            hp->rope_scaling_factor);
        if (hp->has_rope_freqs)
            return rl__fail(RL_ERR_UNSUPPORTED, "%s: both linear RoPE scaling and a rope_freqs.weight tensor; not supported", g->path);
        cfg->rope_scaling = RL_ROPE_LINEAR;
        cfg->rope_factor = hp->rope_scaling_factor;
    }
    if (hp->has_rope_freqs && (s = rl__gguf_rope_freqs(g, hp, cfg))) return s;
    if ((s = rl__gguf_token_key(g, "tokenizer.ggml.bos_token_id", cfg->vocab_size, &cfg->bos_id))) return s;
    for (k = 0; k < sizeof eos_keys / sizeof eos_keys[0]; k++) {
        int32_t id;
        int i, dup = 0;
        if ((s = rl__gguf_token_key(g, eos_keys[k], cfg->vocab_size, &id))) return s;
        for (i = 0; i < cfg->n_eos; i++) dup |= cfg->eos_ids[i] == id;
        if (id >= 0 && !dup) cfg->eos_ids[cfg->n_eos++] = id;
    }
    return RL_OK;
}

RLDEF rl_status rl_config_from_gguf(rl_config *cfg, const rl_gguf *g) {
    rl_gguf_llama_hparams hp;
    rl_status s;
    if (!cfg || !g) return rl__fail(RL_ERR_ARG, "rl_config_from_gguf: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    if ((s = rl_gguf_llama_hparams_read(g, &hp))) return s;
    s = rl__config_from_hp(cfg, g, &hp);
    if (s) memset(cfg, 0, sizeof *cfg);
    return s;
}

/* ---- import: weights ---- */

typedef struct rl__gguf_slot {
    char name[96];
    rl_tensor *t;
    int done, in_place;
} rl__gguf_slot;

typedef struct rl__gguf_load {
    const rl_gguf *g;
    rl__gguf_slot *slot;
    int n, cap;
    rl_status st;
} rl__gguf_load;

/* The dtype a GGUF matrix of `cols` columns is used as in place: 1, or 0 if it cannot be (a
   block type we do not read, or data misaligned for its element) */
static int rl__gguf_inplace_dtype(const rl_gguf_tensor *t, int64_t cols, rl_dtype *dt) {
    uintptr_t a = (uintptr_t)t->data;
    int64_t rb;
    if (t->type == RL_GGML_F32) *dt = RL_F32;
    else if (t->type == RL_GGML_F16 || t->type == RL_GGML_BF16) *dt = t->type == RL_GGML_F16 ? RL_F16 : RL_BF16;
    else {
        *dt = RL_DTYPE_GGML(t->type);
        return rl__ggml_row_bytes((int)t->type, cols, &rb);
    }
    return a % (*dt == RL_F32 ? 4 : 2) == 0;
}

/* A teacher's matrix used in place (rl_model_load_gguf): t points at the file's data in its
   stored type, or, for the Q/K rows of a "llama" file, at a copy (same type) with the rows put
   back in Hugging Face's order. 0: not usable in place (the caller reads it as F32). */
static int rl__gguf_place(rl_model *m, const rl_gguf *g, const rl_gguf_llama_hparams *hp, const char *hf, rl_tensor *t) {
    char gname[128];
    const char *suf = "";
    const rl_gguf_tensor *gt;
    int64_t rows = t->shape[0], cols = t->shape[1], heads, rb, r;
    rl_dtype dt;
    rl__gguf_name_of(hf, gname, sizeof gname);
    if (t->ndim != 2 || !(gt = rl_gguf_find_tensor(g, gname)) || gt->n != t->n || !rl__gguf_inplace_dtype(gt, cols, &dt)) return 0;
    t->name = NULL;
    t->dtype = dt;
    t->requires_grad = 0;
    t->data = (void *)(uintptr_t)gt->data;
    heads = !hp->qk_permuted || rl__gguf_layer(gname, &suf) < 0 ? 0
            : !strcmp(suf, "attn_q.weight") ? hp->n_heads : !strcmp(suf, "attn_k.weight") ? hp->n_kv_heads : 0;
    if (heads) { /* row r of the result is row idx[r] of the file: the permutation applied to row numbers */
        float *idx = (float *)RL_MALLOC(sizeof(float) * (size_t)rows);
        unsigned char *dst;
        if (!RL_DTYPE_IS_GGML(dt)) rb = cols * (dt == RL_F32 ? 4 : 2);
        else rl__ggml_row_bytes((int)gt->type, cols, &rb);
        if (!idx || !(dst = (unsigned char *)rl_arena_alloc(&m->params, (size_t)(rows * rb)))) {
            RL_FREE(idx);
            return 0;
        }
        for (r = 0; r < rows; r++) idx[r] = (float)r;
        if (rl_gguf_unpermute_qk(idx, rows, 1, heads) != RL_OK) {
            RL_FREE(idx);
            return 0;
        }
        for (r = 0; r < rows; r++) memcpy(dst + r * rb, (const unsigned char *)gt->data + (int64_t)idx[r] * rb, (size_t)rb);
        RL_FREE(idx);
        t->data = dst;
    }
    return 1;
}

static void rl__gguf_collect_fn(void *u, const char *name, rl_tensor *t) {
    rl__gguf_load *L = (rl__gguf_load *)u;
    if (L->st) return;
    if (L->n == L->cap) {
        int cap = L->cap ? 2 * L->cap : 256;
        rl__gguf_slot *ns = (rl__gguf_slot *)RL_REALLOC(L->slot, sizeof(rl__gguf_slot) * (size_t)cap);
        if (!ns) {
            L->st = rl__fail(RL_ERR_NOMEM, "%s: out of memory", L->g->path);
            return;
        }
        L->slot = ns;
        L->cap = cap;
    }
    if (strlen(name) >= sizeof L->slot[0].name) {
        L->st = rl__fail(RL_ERR_STATE, "model: parameter name %s too long", name);
        return;
    }
    snprintf(L->slot[L->n].name, sizeof L->slot[0].name, "%s", name);
    L->slot[L->n].t = t;
    L->slot[L->n].done = 0;
    L->n++;
}

static rl_status rl__gguf_tensor_fn(void *u, const char *hf, const rl_gguf_tensor *gt, int ndim, const int64_t *shape, const float *data) {
    rl__gguf_load *L = (rl__gguf_load *)u;
    rl__gguf_slot *s = NULL;
    rl_tensor *t;
    int i;
    if (!hf) {
        if (!strcmp(gt->name, "rope_freqs.weight")) return RL_OK; /* read by rl_config_from_gguf */
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor '%s' is not part of a llama/qwen2 teacher (unknown tensor; refusing to drop it)", L->g->path,
                        gt->name);
    }
    for (i = 0; i < L->n; i++)
        if (!strcmp(L->slot[i].name, hf)) {
            s = &L->slot[i];
            break;
        }
    if (!s)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' (%s) does not belong to this model (its other tensors and keys imply no such parameter)",
                        L->g->path, gt->name, hf);
    if (s->done) return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' (%s) appears twice", L->g->path, gt->name, hf);
    t = s->t;
    if (ndim != t->ndim || shape[0] != t->shape[0] || (ndim > 1 && shape[1] != t->shape[1]))
        return rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' (%s) has shape [%lld, %lld], the model needs [%lld, %lld]", L->g->path, gt->name, hf,
                        (long long)shape[0], ndim > 1 ? (long long)shape[1] : 1LL, (long long)t->shape[0], t->ndim > 1 ? (long long)t->shape[1] : 1LL);
    if (!s->in_place) memcpy(t->data, data, sizeof(float) * (size_t)t->n);
    s->done = 1;
    return RL_OK;
}

static int rl__gguf_in_place_fn(void *u, const char *hf) {
    rl__gguf_load *L = (rl__gguf_load *)u;
    int i;
    for (i = 0; i < L->n; i++)
        if (!strcmp(L->slot[i].name, hf)) return L->slot[i].in_place;
    return 0;
}

/* in_place: the matrices stay in g's mapped data in their stored type (g must then outlive m) */
static rl_status rl__model_from_gguf(rl_model *m, const rl_gguf *g, int in_place) {
    rl_gguf_llama_hparams hp;
    rl_config cfg;
    rl__gguf_load L;
    rl__alloc_ctx ac;
    rl_status st;
    int i;
    if (!m || !g) return rl__fail(RL_ERR_ARG, "rl_model_from_gguf: NULL argument");
    memset(m, 0, sizeof *m);
    if ((st = rl_gguf_llama_hparams_read(g, &hp)) || (st = rl__config_from_hp(&cfg, g, &hp))) return st;
    if ((st = rl__model_shape(m, &cfg, NULL)) != RL_OK) {
        rl_model_free(m);
        return st;
    }
    m->trainable = 0;
    memset(&L, 0, sizeof L);
    L.g = g;
    rl_model_params(m, rl__gguf_collect_fn, &L);
    ac.m = m;
    ac.st = L.st;
    for (i = 0; i < L.n && !ac.st; i++) /* zeroed F32 storage for every parameter not used in place */
        if (!(L.slot[i].in_place = in_place && rl__gguf_place(m, g, &hp, L.slot[i].name, L.slot[i].t)))
            rl__alloc_fn(&ac, L.slot[i].name, L.slot[i].t);
    L.st = ac.st;
    st = L.st ? L.st : rl__gguf_llama_tensors(g, &hp, rl__gguf_tensor_fn, &L, rl__gguf_in_place_fn);
    for (i = 0; i < L.n && !st; i++)
        if (!L.slot[i].done) {
            char gname[128];
            rl__gguf_name_of(L.slot[i].name, gname, sizeof gname);
            st = rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' (%s) is missing", g->path, gname, L.slot[i].name);
        }
    RL_FREE(L.slot);
    if (st) {
        rl_model_free(m);
        return st;
    }
    rl__tie_head(m);
    return RL_OK;
}
RLDEF rl_status rl_model_from_gguf(rl_model *m, const rl_gguf *g) { return rl__model_from_gguf(m, g, 0); }

#if !defined(RADLADS_NO_STDIO)
/* ---- RAD-RWKV6 students from GGUF (llama.cpp arch rwkv6qwen2) ----
   The inverse of rl_export_gguf_rwkv6qwen2, and what llama.cpp's own converter writes for an
   RWKV6Qwen2ForCausalLM checkpoint. The large matrices (embedding, r/k/v/o, gate, MLP,
   output) stay in the file, read in place in their stored type: F32, F16, BF16 or a
   quantized block type (rl_gemm's rl__gemm_ggml reads the blocks in place); the small
   tensors (norms, token-shift and decay LoRAs, biases) are converted to F32 in llama.cpp's
   layout undone: w1/w2 transposed and their groups put back from w,k,v,r,g to r,k,v,w,g.
   The model computes RAD-RWKV6 with token shift, balance_state, the Linear gate and no RoPE
   or GroupNorm (all that rwkv6qwen2 expresses); it keeps the Hugging Face code's clamp of
   the log-decay at −5, which llama.cpp's graph does not apply. */
typedef struct { const rl_gguf *g; rl_model *m; rl_status st; } rl__g6_ctx;

static const rl_gguf_tensor *rl__g6_find(rl__g6_ctx *x, const char *name, int nd, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    const rl_gguf_tensor *t = rl_gguf_find_tensor(x->g, name);
    int64_t want[4];
    int i;
    want[0] = ne0; want[1] = ne1; want[2] = ne2; want[3] = ne3;
    if (x->st) return NULL;
    if (!t) {
        x->st = rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' is missing (llama.cpp rwkv6qwen2)", x->g->path, name);
        return NULL;
    }
    for (i = 0; i < 4; i++)
        if (t->ne[i] != (i < nd ? want[i] : 1)) {
            x->st = rl__fail(RL_ERR_FORMAT, "%s: tensor '%s' has ne [%lld, %lld, %lld, %lld], expected [%lld, %lld, %lld, %lld]", x->g->path, name,
                             (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], (long long)want[0],
                             (long long)(nd > 1 ? want[1] : 1), (long long)(nd > 2 ? want[2] : 1), (long long)(nd > 3 ? want[3] : 1));
            return NULL;
        }
    return t;
}

/* a matrix [rows, cols] (ne {cols, rows}) used in place */
static void rl__g6_inplace(rl__g6_ctx *x, rl_tensor *dst, const char *name) {
    const rl_gguf_tensor *t = rl__g6_find(x, name, 2, dst->shape[1], dst->shape[0], 1, 1);
    if (!t) return;
    dst->requires_grad = 0;
    dst->data = (void *)(uintptr_t)t->data;
    if (!rl__gguf_inplace_dtype(t, dst->shape[1], &dst->dtype))
        x->st = rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor '%s' of type %s cannot be used in place (unknown block type or misaligned)",
                         x->g->path, name, rl_ggml_type_name((int)t->type));
}

/* a small tensor as F32 into dst (already allocated), then rearranged by the caller */
static float *rl__g6_f32(rl__g6_ctx *x, const char *name, int nd, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3) {
    const rl_gguf_tensor *t = rl__g6_find(x, name, nd, ne0, ne1, ne2, ne3);
    float *buf;
    if (!t) return NULL;
    if (!(buf = (float *)RL_MALLOC(sizeof(float) * (size_t)t->n))) {
        x->st = rl__fail(RL_ERR_NOMEM, "%s: out of memory for '%s'", x->g->path, name);
        return NULL;
    }
    if ((x->st = rl_gguf_tensor_f32(x->g, t, buf)) != RL_OK) {
        RL_FREE(buf);
        return NULL;
    }
    return buf;
}
static void rl__g6_copy(rl__g6_ctx *x, rl_tensor *dst, const char *name) { /* same element order */
    float *b = rl__g6_f32(x, name, 1, dst->n, 1, 1, 1);
    if (!b) return;
    memcpy(dst->data, b, sizeof(float) * (size_t)dst->n);
    RL_FREE(b);
}
static rl_tensor rl__g6_f32_tensor(rl__g6_ctx *x, int nd, const int64_t *shape) {
    rl_tensor t = rl_wrap(NULL, RL_F32, nd, shape, 0);
    if (!x->st && !(t.data = rl_arena_zalloc(&x->m->params, sizeof(float) * (size_t)t.n)))
        x->st = rl__fail(RL_ERR_NOMEM, "%s: out of memory", x->g->path);
    return t;
}
/* a matrix [rows, cols] that llama.cpp stores transposed (ne {rows, cols}) */
static rl_tensor rl__g6_transposed(rl__g6_ctx *x, const char *name, int64_t rows, int64_t cols) {
    int64_t s[2], i, j;
    rl_tensor t;
    float *f;
    s[0] = rows;
    s[1] = cols;
    t = rl__g6_f32_tensor(x, 2, s);
    if ((f = rl__g6_f32(x, name, 2, rows, cols, 1, 1)) != NULL) {
        for (i = 0; i < rows; i++)
            for (j = 0; j < cols; j++) rl_f32(&t)[i * cols + j] = f[j * rows + i];
        RL_FREE(f);
    }
    return t;
}

/* The sizes of an rwkv6qwen2 file, from its keys and from the shapes of token_embd and the first
   key matrix (vocabulary, kv heads), checked. */
static rl_status rl__g6_sizes(const rl_gguf *g, rl_config *cfg) {
    const rl_gguf_tensor *te, *tk;
    int64_t C, L, F, N, V, KV, r, rd;
    double eps;
    rl_status st;
    if ((st = rl_gguf_get_int(g, "rwkv6qwen2.embedding_length", &C)) || (st = rl_gguf_get_int(g, "rwkv6qwen2.block_count", &L)) ||
        (st = rl_gguf_get_int(g, "rwkv6qwen2.feed_forward_length", &F)) || (st = rl_gguf_get_int(g, "rwkv6qwen2.wkv.head_size", &N)) ||
        (st = rl_gguf_get_int(g, "rwkv6qwen2.time_mix_extra_dim", &r)) || (st = rl_gguf_get_int(g, "rwkv6qwen2.time_decay_extra_dim", &rd)) ||
        (st = rl_gguf_get_float(g, "rwkv6qwen2.attention.layer_norm_rms_epsilon", &eps)))
        return st;
    if (C < 2 || C > (1 << 20) || L < 1 || L > 4096 || F < 1 || F > (1 << 24) || N < 2 || N % 2 || C % N || r < 1 || r > C || rd < 1 || rd > C)
        return rl__fail(RL_ERR_FORMAT, "%s: rwkv6qwen2 hyper-parameters out of range (embedding %lld, blocks %lld, ffn %lld, head size %lld, "
                        "ranks %lld/%lld)", g->path, (long long)C, (long long)L, (long long)F, (long long)N, (long long)r, (long long)rd);
    if (rl_gguf_find_tensor(g, "blk.0.time_mix_first.weight") || rl_gguf_find_tensor(g, "blk.0.time_mix_ln.weight"))
        return rl__fail(RL_ERR_UNSUPPORTED, "%s: time_mix_first / time_mix_ln tensors: that is the original RWKV6 graph, not RAD-RWKV6", g->path);
    if (!(te = rl_gguf_find_tensor(g, "token_embd.weight")) || te->ne[0] != C || te->ne[1] < 1 || te->ne[1] > INT32_MAX)
        return rl__fail(RL_ERR_FORMAT, "%s: tensor 'token_embd.weight' is missing or not [%lld, vocab]", g->path, (long long)C);
    V = te->ne[1];
    if (!(tk = rl_gguf_find_tensor(g, "blk.0.time_mix_key.weight")) || tk->ne[0] != C || tk->ne[1] < N || tk->ne[1] % N || (C / N) % (tk->ne[1] / N))
        return rl__fail(RL_ERR_FORMAT, "%s: tensor 'blk.0.time_mix_key.weight' is missing or its ne[1] is not a whole number of kv heads of %lld",
                        g->path, (long long)N);
    KV = tk->ne[1] / N;
    {
        int64_t kv2;
        if (rl_gguf_find(g, "rwkv6qwen2.attention.head_count_kv") && (st = rl_gguf_get_int(g, "rwkv6qwen2.attention.head_count_kv", &kv2)) == RL_OK &&
            kv2 != KV)
            return rl__fail(RL_ERR_FORMAT, "%s: key 'rwkv6qwen2.attention.head_count_kv' is %lld but 'blk.0.time_mix_key.weight' holds %lld heads",
                            g->path, (long long)kv2, (long long)KV);
    }
    cfg->vocab_size = V;
    cfg->hidden_size = C;
    cfg->intermediate_size = F;
    cfg->n_layers = L;
    cfg->n_heads = C / N;
    cfg->n_kv_heads = KV;
    cfg->head_dim = N;
    cfg->rms_eps = (float)eps;
    cfg->lora_tokenshift = (int)r;
    cfg->lora_decay = (int)rd;
    return RL_OK;
}

/* The config of an rwkv6qwen2 file: its sizes, what rwkv6qwen2 fixes, biases and tying as the tensors
   present say, the token ids. */
static rl_status rl__g6_config(const rl_gguf *g, rl_config *cfg) {
    static const char *const eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"};
    rl_status st;
    int i;
    memset(cfg, 0, sizeof *cfg);
    if ((st = rl__g6_sizes(g, cfg))) return st;
    cfg->arch = RL_ARCH_QWEN2;
    cfg->student = 6;
    snprintf(cfg->model_type, sizeof cfg->model_type, "rwkv6qwen2");
    cfg->max_pos = 1 << 20;
    cfg->rope_theta = 10000;
    cfg->rope_factor = 1.0;
    cfg->attn_bias = rl_gguf_find_tensor(g, "blk.0.time_mix_receptance.bias") != NULL;
    cfg->tie_embeddings = rl_gguf_find_tensor(g, "output.weight") == NULL;
    cfg->dtype = RL_F32;
    cfg->gate_rank_type = 1;
    cfg->balance_state = 1;
    cfg->use_tokenshift = 1;
    if ((st = rl__gguf_token_key(g, "tokenizer.ggml.bos_token_id", cfg->vocab_size, &cfg->bos_id))) return st;
    for (i = 0; i < 2; i++) {
        int32_t id;
        if ((st = rl__gguf_token_key(g, eos_keys[i], cfg->vocab_size, &id))) return st;
        if (id >= 0 && (!cfg->n_eos || cfg->eos_ids[0] != id)) cfg->eos_ids[cfg->n_eos++] = id;
    }
    return RL_OK;
}

#define RL__GN(s) (snprintf(nm, sizeof nm, "blk.%lld." s, (long long)l), nm)

/* Block l's norms, its matrices (in place) and r/k/v biases (rl__g6_names). */
static void rl__g6_block(rl__g6_ctx *x, int64_t l, const rl_config *cfg) {
    rl_block *bl = &x->m->blocks[l];
    char nm[96];
    size_t i;
    for (i = 0; i < RL__G6_N; i++) {
        const rl__g6_name *e = &rl__g6_names[i];
        rl_tensor *t = (rl_tensor *)(void *)((char *)bl + e->off);
        int64_t n = t->shape[0];
        if (e->kind == RL__G6_SHIFT || (e->kind == RL__G6_BIAS && !cfg->attn_bias)) continue;
        snprintf(nm, sizeof nm, "blk.%lld.%s", (long long)l, e->gguf);
        if (e->kind == RL__G6_MAT) {
            rl__g6_inplace(x, t, nm);
        } else {
            *t = rl__g6_f32_tensor(x, 1, &n);
            rl__g6_copy(x, t, nm);
        }
    }
}

/* Block l's token shift (the lerps and their LoRA) and decay (its base and LoRA), llama.cpp's layout
   undone: w1/w2 transposed, their groups put back from w,k,v,r,g to r,k,v,w,g. */
static void rl__g6_block_shift(rl__g6_ctx *x, int64_t l, const rl_config *cfg) {
    static const int grp[5] = {3, 1, 2, 0, 4}; /* our group (r,k,v,w,g) -> llama.cpp's (w,k,v,r,g) */
    rl_mixer *mx = &x->m->blocks[l].mix;
    int64_t C = cfg->hidden_size, r = cfg->lora_tokenshift, rd = cfg->lora_decay, i, j, b;
    rl_tensor *mu[5];
    float *f;
    int64_t s3[3], s2[2];
    char nm[96];
    s3[0] = 1; s3[1] = 1; s3[2] = C;
    mx->maa_x = rl__g6_f32_tensor(x, 3, s3);
    rl__g6_copy(x, &mx->maa_x, RL__GN("time_mix_lerp_x.weight"));
    mx->decay = rl__g6_f32_tensor(x, 3, s3);
    rl__g6_copy(x, &mx->decay, RL__GN("time_mix_decay.weight"));
    mu[0] = &mx->maa_r; mu[1] = &mx->maa_k; mu[2] = &mx->maa_v; mu[3] = &mx->maa_w; mu[4] = &mx->maa_g;
    for (b = 0; b < 5; b++) *mu[b] = rl__g6_f32_tensor(x, 3, s3);
    if ((f = rl__g6_f32(x, RL__GN("time_mix_lerp_fused.weight"), 4, C, 1, 1, 5)) != NULL) { /* [5][C], w,k,v,r,g */
        for (b = 0; b < 5; b++) memcpy(mu[b]->data, f + grp[b] * C, sizeof(float) * (size_t)C);
        RL_FREE(f);
    }
    s2[0] = C; s2[1] = 5 * r;
    mx->maa_w1 = rl__g6_f32_tensor(x, 2, s2);
    if ((f = rl__g6_f32(x, RL__GN("time_mix_w1.weight"), 2, C, 5 * r, 1, 1)) != NULL) { /* [5r][C] -> [C][5r] */
        for (b = 0; b < 5; b++)
            for (j = 0; j < r; j++)
                for (i = 0; i < C; i++) rl_f32(&mx->maa_w1)[i * 5 * r + b * r + j] = f[(grp[b] * r + j) * C + i];
        RL_FREE(f);
    }
    s3[0] = 5; s3[1] = r; s3[2] = C;
    mx->maa_w2 = rl__g6_f32_tensor(x, 3, s3);
    if ((f = rl__g6_f32(x, RL__GN("time_mix_w2.weight"), 3, r, C, 5, 1)) != NULL) { /* [5][C][r] -> [5][r][C] */
        for (b = 0; b < 5; b++)
            for (j = 0; j < r; j++)
                for (i = 0; i < C; i++) rl_f32(&mx->maa_w2)[(b * r + j) * C + i] = f[(grp[b] * C + i) * r + j];
        RL_FREE(f);
    }
    mx->decay_w1 = rl__g6_transposed(x, RL__GN("time_mix_decay_w1.weight"), C, rd);
    mx->decay_w2 = rl__g6_transposed(x, RL__GN("time_mix_decay_w2.weight"), rd, C);
}

#undef RL__GN

static rl_status rl__model_from_gguf_rwkv6(rl_model *m, rl_gguf *g) {
    rl__g6_ctx x;
    rl_config cfg;
    rl_student_opts so;
    int64_t C, L, l;
    rl_status st;
    if ((st = rl__g6_config(g, &cfg))) return st;
    C = cfg.hidden_size;
    L = cfg.n_layers;
    rl_student_opts_default(&so, RL_MIXER_RWKV6);
    so.use_rope = 0;
    so.r_ts = cfg.lora_tokenshift;
    so.r_d = cfg.lora_decay;
    if ((st = rl__model_shape(m, &cfg, &so)) != RL_OK) return st;
    m->trainable = 0;
    x.g = g;
    x.m = m;
    x.st = RL_OK;
    rl__g6_inplace(&x, &m->embed, "token_embd.weight");
    if (cfg.tie_embeddings) { /* llama.cpp's converter omits output.weight for a tied model */
        m->head = m->embed;
        m->head.name = "lm_head.weight";
    } else {
        rl__g6_inplace(&x, &m->head, "output.weight");
    }
    m->norm = rl__g6_f32_tensor(&x, 1, &C);
    rl__g6_copy(&x, &m->norm, "output_norm.weight");
    for (l = 0; l < L && !x.st; l++) {
        rl__g6_block(&x, l, &cfg);
        rl__g6_block_shift(&x, l, &cfg);
    }
    { /* every tensor of the file is one of the above (llama.cpp refuses extras too) */
        int64_t want = (cfg.tie_embeddings ? 2 : 3) + L * (17 + (cfg.attn_bias ? 3 : 0));
        if (!x.st && g->n_tensors != want)
            x.st = rl__fail(RL_ERR_FORMAT, "%s: %lld tensors, but an rwkv6qwen2 model of %lld blocks%s has %lld", g->path, (long long)g->n_tensors,
                            (long long)L, cfg.attn_bias ? " with r/k/v biases" : "", (long long)want);
    }
    return x.st;
}

RLDEF rl_status rl_model_load_gguf(rl_model *m, const char *path) {
    rl_gguf *g;
    rl_status st;
    const char *arch = NULL;
    uint64_t alen = 0;
    if (!m || !path) return rl__fail(RL_ERR_ARG, "rl_model_load_gguf: NULL argument");
    memset(m, 0, sizeof *m);
    if (!(g = (rl_gguf *)RL_MALLOC(sizeof *g))) return rl__fail(RL_ERR_NOMEM, "%s: out of memory", path);
    if ((st = rl_gguf_open(g, path))) {
        RL_FREE(g);
        return st;
    }
    if (rl_gguf_find(g, "general.architecture") && rl_gguf_get_str(g, "general.architecture", &arch, &alen) == RL_OK &&
        !strcmp(arch, "rwkv6qwen2")) {
        st = rl__model_from_gguf_rwkv6(m, g);
        m->gguf = g; /* owned from here: rl_model_free closes it */
        if (st != RL_OK) rl_model_free(m);
        return st;
    }
    if ((st = rl__model_from_gguf(m, g, 1)) == RL_OK) {
        m->gguf = g; /* the matrices are read in place: rl_model_free closes it */
        return RL_OK;
    }
    rl_gguf_close(g);
    RL_FREE(g);
    return st;
}
#endif

/* ---- import: tokenizer from GGUF arrays ---- */

RLDEF rl_status rl_tokenizer_from_gguf(rl_tokenizer **tok, const rl_gguf *g) {
    rl_gguf_vocab v;
    rl_pretok kind = RL_PRETOK_CUSTOM;
    rl_status st;
    int64_t i;
    int add_bos;
    if (!tok || !g) return rl__fail(RL_ERR_ARG, "rl_tokenizer_from_gguf: NULL argument");
    *tok = NULL;
    if ((st = rl_gguf_vocab_read(g, &v))) return st;
    if (strcmp(v.model, "gpt2")) {
        st = rl__fail(RL_ERR_UNSUPPORTED, "%s: key 'tokenizer.ggml.model' is '%s'; only 'gpt2' (byte-level BPE) tokenizers are supported", g->path,
                      *v.model ? v.model : "(missing)");
        goto out;
    }
    if (!v.pre) {
        st = rl__fail(RL_ERR_UNSUPPORTED,
                      "%s: key 'tokenizer.ggml.pre' is missing (llama.cpp would use its 'default' pre-tokenizer, which matches no Hugging Face "
                      "tokenizer; supported: smollm, qwen2, llama-bpe, gpt-2)",
                      g->path);
        goto out;
    }
    kind = rl_pretok_from_name(v.pre);
    if (kind == RL_PRETOK_CUSTOM) {
        st = rl__fail(RL_ERR_UNSUPPORTED, "%s: key 'tokenizer.ggml.pre' is '%.60s', a pre-tokenizer that is not supported (supported: smollm, qwen2, "
                      "deepseek-r1-qwen, llama-bpe, llama3, llama-v3, gpt-2)", g->path, v.pre);
        goto out;
    }
    if (v.n_tokens > INT32_MAX || v.n_merges > INT32_MAX) {
        st = rl__fail(RL_ERR_UNSUPPORTED, "%s: %lld tokens / %lld merges are too many", g->path, (long long)v.n_tokens, (long long)v.n_merges);
        goto out;
    }
    if (!v.merges) {
        st = rl__fail(RL_ERR_FORMAT, "%s: key 'tokenizer.ggml.merges' is missing (a gpt2 tokenizer needs its merges)", g->path);
        goto out;
    }
    for (i = 0; i < v.n_tokens; i++)
        if (v.token_len[i] != strlen(v.tokens[i])) {
            st = rl__fail(RL_ERR_UNSUPPORTED, "%s: key 'tokenizer.ggml.tokens': token %lld contains a NUL byte", g->path, (long long)i);
            goto out;
        }
    add_bos = v.add_bos >= 0 ? v.add_bos : kind == RL_PRETOK_LLAMA3;
    st = rl_tokenizer_from_vocab(tok, (int)v.n_tokens, v.tokens, v.token_type, (int)v.n_merges, v.merges, kind, (int32_t)v.bos_id,
                                 add_bos && v.bos_id >= 0);
    if (st) {
        char why[1024];
        snprintf(why, sizeof why, "%s", rl_last_error());
        st = rl__fail(st, "%s: tokenizer: %s", g->path, why);
    }
out:
    rl_gguf_vocab_free(&v);
    return st;
}

#if !defined(RADLADS_NO_STDIO)
/* ---- import: tokenizer.json writer (not with RADLADS_NO_STDIO) ---- */



static const char *rl__bl_json(int add_prefix_space, int trim_offsets, int use_regex) {
    static const char *const s[8] = {
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": true}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": false}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, \"use_regex\": true}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": false}",
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}",
    };
    return s[(add_prefix_space ? 4 : 0) | (trim_offsets ? 2 : 0) | (use_regex ? 1 : 0)];
}

static void rl__sb_split(rl__sbuf *b, const char *regex) {
    rl__sb_str(b, "{\"type\": \"Split\", \"pattern\": {\"Regex\": ");
    rl__sb_json_str(b, regex, strlen(regex));
    rl__sb_str(b, "}, \"behavior\": \"Isolated\", \"invert\": false}");
}

/* normalizer, pre_tokenizer: the preset's exact JSON, else the stages */
static void rl__tok_json_pipeline(rl__sbuf *b, const rl_tokenizer *t) {
    int i;
    rl__sb_str(b, "  \"normalizer\": ");
    rl__sb_str(b, t->nfc ? "{\"type\": \"NFC\"}" : "null");
    rl__sb_str(b, ",\n  \"pre_tokenizer\": ");
    switch (t->pretok) {
    case RL_PRETOK_QWEN2:
        rl__sb_str(b, "{\"type\": \"Sequence\", \"pretokenizers\": [");
        rl__sb_split(b, rl__re_qwen2);
        rl__sb_printf(b, ", %s]}", rl__bl_json(0, 0, 0));
        break;
    case RL_PRETOK_LLAMA3:
        rl__sb_str(b, "{\"type\": \"Sequence\", \"pretokenizers\": [");
        rl__sb_split(b, rl__re_llama3);
        rl__sb_printf(b, ", %s]}", rl__bl_json(0, 1, 0));
        break;
    case RL_PRETOK_SMOLLM:
        rl__sb_printf(b, "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": true}, %s]}", rl__bl_json(0, 1, 1));
        break;
    case RL_PRETOK_GPT2:
        rl__sb_str(b, rl__bl_json(0, 1, 1));
        break;
    default: /* spell the stages out; the last GPT-2 split is ByteLevel's own regex */
        rl__sb_str(b, "{\"type\": \"Sequence\", \"pretokenizers\": [");
        for (i = 0; i < t->n_stages; i++) {
            int last_gpt2 = i == t->n_stages - 1 && t->stage_kind[i] == RL__PT_SPLIT_GPT2;
            if (i) rl__sb_str(b, ", ");
            if (last_gpt2) rl__sb_str(b, rl__bl_json(0, 1, 1));
            else if (t->stage_kind[i] == RL__PT_SPLIT_GPT2) rl__sb_split(b, rl__re_gpt2s);
            else if (t->stage_kind[i] == RL__PT_SPLIT_LLAMA) rl__sb_split(b, t->stage_arg[i] == 1 ? rl__re_qwen2 : rl__re_llama3);
            else rl__sb_printf(b, "{\"type\": \"Digits\", \"individual_digits\": %s}", t->stage_arg[i] ? "true" : "false");
        }
        if (!t->n_stages || t->stage_kind[t->n_stages - 1] != RL__PT_SPLIT_GPT2)
            rl__sb_printf(b, "%s%s", t->n_stages ? ", " : "", rl__bl_json(0, 0, 0));
        rl__sb_str(b, "]}");
        break;
    }
    rl__sb_str(b, ",\n");
}

/* one template piece: {"SpecialToken": {"id": "<tok>", "type_id": n}} */
static rl_status rl__tok_json_special(rl__sbuf *b, const rl_tokenizer *t, int32_t id, int type_id) {
    const char *s = rl_tokenizer_token(t, id);
    rl__sb_str(b, "{\"SpecialToken\": {\"id\": ");
    if (!s || rl__sb_json_str(b, s, t->id_len[id]))
        return rl__fail(RL_ERR_UNSUPPORTED, "tokenizer.json: template token id %d has no valid UTF-8 string", id);
    rl__sb_printf(b, ", \"type_id\": %d}}", type_id);
    return RL_OK;
}

/* post_processor and decoder. A TemplateProcessing goes with the ByteLevel one when
   encode(add_special) adds tokens: single = P A S, pair = P A S P B S (type ids 0 / 1). */
static rl_status rl__tok_json_post(rl__sbuf *b, const rl_tokenizer *t) {
    const char *bl, *dec;
    int32_t i, j, k;
    int pass, r;
    rl_status st;
    switch (t->pretok) {
    case RL_PRETOK_QWEN2:
    case RL_PRETOK_CUSTOM: bl = dec = rl__bl_json(0, 0, 0); break;
    default: bl = rl__bl_json(1, 0, 1), dec = rl__bl_json(1, 1, 1); break; /* Llama-3, SmolLM2, GPT-2 */
    }
    rl__sb_str(b, "  \"post_processor\": ");
    if (!t->n_prefix && !t->n_suffix) {
        rl__sb_str(b, bl);
    } else {
        rl__sb_printf(b, "{\"type\": \"Sequence\", \"processors\": [%s, {\"type\": \"TemplateProcessing\"", bl);
        for (pass = 0; pass < 2; pass++) {
            rl__sb_str(b, pass ? ", \"pair\": [" : ", \"single\": [");
            for (r = 0; r <= pass; r++) {
                if (r) rl__sb_str(b, ", ");
                for (i = 0; i < t->n_prefix; i++) {
                    if ((st = rl__tok_json_special(b, t, t->prefix[i], r))) return st;
                    rl__sb_str(b, ", ");
                }
                rl__sb_printf(b, "{\"Sequence\": {\"id\": \"%s\", \"type_id\": %d}}", r ? "B" : "A", r);
                for (i = 0; i < t->n_suffix; i++) {
                    rl__sb_str(b, ", ");
                    if ((st = rl__tok_json_special(b, t, t->suffix[i], r))) return st;
                }
            }
            rl__sb_str(b, "]");
        }
        rl__sb_str(b, ", \"special_tokens\": {");
        for (k = 0, i = 0; i < t->n_prefix + t->n_suffix; i++) {
            int32_t id = i < t->n_prefix ? t->prefix[i] : t->suffix[i - t->n_prefix], seen = 0;
            const char *s = rl_tokenizer_token(t, id); /* valid: written above */
            for (j = 0; j < i; j++) seen |= (j < t->n_prefix ? t->prefix[j] : t->suffix[j - t->n_prefix]) == id;
            if (seen) continue;
            if (k++) rl__sb_str(b, ", ");
            rl__sb_json_str(b, s, t->id_len[id]);
            rl__sb_str(b, ": {\"id\": ");
            rl__sb_json_str(b, s, t->id_len[id]);
            rl__sb_printf(b, ", \"ids\": [%d], \"tokens\": [", id);
            rl__sb_json_str(b, s, t->id_len[id]);
            rl__sb_str(b, "]}");
        }
        rl__sb_str(b, "}}]}");
    }
    rl__sb_printf(b, ",\n  \"decoder\": %s,\n", dec);
    return RL_OK;
}

static int rl__added_by_id(const void *a, const void *b) {
    int32_t x = ((const rl__added *)a)->id, y = ((const rl__added *)b)->id;
    return (x > y) - (x < y);
}

static rl_status rl__tok_json(rl__sbuf *b, const rl_tokenizer *t) {
    rl__added *added = NULL;
    int32_t *order = NULL, i;
    rl_status st = RL_OK;
    if (t->sp) return rl__fail(RL_ERR_UNSUPPORTED, "%s: a llama2.c (SentencePiece) vocabulary cannot be written as tokenizer.json", t->source);
    rl__sb_str(b, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [");
    if (t->n_added) {
        added = (rl__added *)RL_MALLOC(sizeof(rl__added) * (size_t)t->n_added);
        if (!added) return rl__fail(RL_ERR_NOMEM, "tokenizer.json: out of memory");
        memcpy(added, t->added, sizeof(rl__added) * (size_t)t->n_added);
        qsort(added, (size_t)t->n_added, sizeof(rl__added), rl__added_by_id);
    }
    for (i = 0; i < t->n_added; i++) {
        const rl__added *a = &added[i];
        rl__sb_printf(b, "%s\n    {\"id\": %d, \"content\": ", i ? "," : "", a->id);
        if (rl__sb_json_str(b, a->s, a->len)) {
            st = rl__fail(RL_ERR_UNSUPPORTED, "tokenizer.json: added token id %d is not valid UTF-8 (JSON cannot hold it)", a->id);
            goto out;
        }
        rl__sb_printf(b, ", \"single_word\": %s, \"lstrip\": %s, \"rstrip\": %s, \"normalized\": %s, \"special\": %s}",
                      a->single_word ? "true" : "false", a->lstrip ? "true" : "false", a->rstrip ? "true" : "false",
                      a->normalized ? "true" : "false", a->special ? "true" : "false");
    }
    rl__sb_str(b, t->n_added ? "\n  ],\n" : "],\n");
    rl__tok_json_pipeline(b, t);
    if ((st = rl__tok_json_post(b, t))) goto out;
    rl__sb_str(b, "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": ");
    if (t->unk >= 0) {
        const rl__vent *u = NULL;
        for (i = 0; i < t->n_vent && !u; i++)
            if (t->vent[i].id == t->unk) u = &t->vent[i];
        if (!u || rl__sb_json_str(b, u->s, u->len)) {
            st = rl__fail(RL_ERR_UNSUPPORTED, "tokenizer.json: the unknown token (id %d) is not valid UTF-8", t->unk);
            goto out;
        }
    } else {
        rl__sb_str(b, "null");
    }
    rl__sb_printf(b, ",\n    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": %s,\n"
                     "    \"byte_fallback\": false,\n    \"ignore_merges\": %s,\n    \"vocab\": {",
                  t->fuse_unk ? "true" : "false", t->ignore_merges ? "true" : "false");
    /* model.vocab in id order (ids are unique: checked when the tokenizer was built) */
    order = (int32_t *)RL_MALLOC(sizeof(int32_t) * ((size_t)t->n_ids + 1));
    if (!order) {
        st = rl__fail(RL_ERR_NOMEM, "tokenizer.json: out of memory");
        goto out;
    }
    for (i = 0; i < t->n_ids; i++) order[i] = -1;
    for (i = 0; i < t->n_vent; i++) order[t->vent[i].id] = i;
    {
        int first = 1;
        for (i = 0; i < t->n_ids; i++) {
            const rl__vent *v;
            if (order[i] < 0) continue;
            v = &t->vent[order[i]];
            rl__sb_str(b, first ? "\n      " : ",\n      ");
            first = 0;
            if (rl__sb_json_str(b, v->s, v->len)) {
                st = rl__fail(RL_ERR_UNSUPPORTED, "tokenizer.json: token id %d is not valid UTF-8 (JSON cannot hold it)", v->id);
                goto out;
            }
            rl__sb_printf(b, ": %d", v->id);
        }
        rl__sb_str(b, first ? "},\n    \"merges\": [" : "\n    },\n    \"merges\": [");
    }
    for (i = 0; i < t->n_merges; i++) {
        int32_t a = t->merge[3 * i], c = t->merge[3 * i + 1];
        rl__sb_str(b, i ? ",\n      [" : "\n      [");
        rl__sb_json_str(b, t->id_str[a], t->id_len[a]); /* model.vocab strings: valid (checked above) */
        rl__sb_str(b, ", ");
        rl__sb_json_str(b, t->id_str[c], t->id_len[c]);
        rl__sb_str(b, "]");
    }
    rl__sb_str(b, t->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
    if (b->oom) st = rl__fail(RL_ERR_NOMEM, "tokenizer.json: out of memory");
out:
    RL_FREE(order);
    RL_FREE(added);
    return st;
}

RLDEF rl_status rl_tokenizer_save_json(const rl_tokenizer *tok, const char *path) {
    rl__sbuf b;
    rl_status st;
    if (!tok || !path) return rl__fail(RL_ERR_ARG, "rl_tokenizer_save_json: NULL argument");
    memset(&b, 0, sizeof b);
    st = rl__tok_json(&b, tok);
    if (st) {
        char why[1024];
        snprintf(why, sizeof why, "%s", rl_last_error());
        st = rl__fail(st, "%s: %s", path, why);
    } else {
        st = rl__write_atomic(path, b.p, b.n);
    }
    RL_FREE(b.p);
    return st;
}
#endif

/* ---- import: the whole folder ---- */

#if !defined(RADLADS_NO_TRAINING) /* for rl_import_gguf */
/* "key": "token string" (nothing if id < 0 or the string is not valid UTF-8) */
static void rl__sb_token_key(rl__sbuf *b, const char *key, const rl_tokenizer *tok, int64_t id) {
    const char *s = id >= 0 && id <= INT32_MAX ? rl_tokenizer_token(tok, (int32_t)id) : NULL;
    size_t mark = b->n;
    if (!s) return;
    rl__sb_printf(b, "  \"%s\": ", key);
    if (rl__sb_json_str(b, s, strlen(s))) {
        b->n = mark;
        if (b->p) b->p[mark] = 0;
        return;
    }
    rl__sb_str(b, ",\n");
}

static rl_status rl__import_side_files(const rl_gguf *g, const rl_tokenizer *tok, const rl_config *cfg, const char *dir) {
    rl_gguf_vocab v;
    rl__sbuf b;
    char path[4200];
    rl_status st;
    int i;
    if ((st = rl_gguf_vocab_read(g, &v))) return st;
    memset(&b, 0, sizeof b);
    rl__sb_str(&b, "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n");
    rl__sb_token_key(&b, "bos_token", tok, v.bos_id);
    rl__sb_token_key(&b, "eos_token", tok, v.eos_id);
    rl__sb_token_key(&b, "unk_token", tok, v.unk_id);
    rl__sb_token_key(&b, "pad_token", tok, v.pad_id);
    if (v.chat_template && rl__utf8_valid(v.chat_template, strlen(v.chat_template))) {
        rl__sb_str(&b, "  \"chat_template\": ");
        rl__sb_json_str(&b, v.chat_template, strlen(v.chat_template));
        rl__sb_str(&b, ",\n");
    }
    rl__sb_printf(&b, "  \"clean_up_tokenization_spaces\": false,\n  \"model_max_length\": %lld\n}\n", (long long)cfg->max_pos);
    rl_gguf_vocab_free(&v);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    st = b.oom ? rl__fail(RL_ERR_NOMEM, "%s: out of memory", path) : rl__write_atomic(path, b.p, b.n);
    b.n = 0;
    if (!st) {
        rl__sb_str(&b, "{");
        if (cfg->bos_id >= 0) rl__sb_printf(&b, "\n  \"bos_token_id\": %d%s", cfg->bos_id, cfg->n_eos ? "," : "");
        if (cfg->n_eos == 1) rl__sb_printf(&b, "\n  \"eos_token_id\": %d", cfg->eos_ids[0]);
        if (cfg->n_eos > 1) {
            rl__sb_str(&b, "\n  \"eos_token_id\": [");
            for (i = 0; i < cfg->n_eos; i++) rl__sb_printf(&b, "%s%d", i ? ", " : "", cfg->eos_ids[i]);
            rl__sb_str(&b, "]");
        }
        rl__sb_str(&b, "\n}\n");
        snprintf(path, sizeof path, "%s/generation_config.json", dir);
        st = b.oom ? rl__fail(RL_ERR_NOMEM, "%s: out of memory", path) : rl__write_atomic(path, b.p, b.n);
    }
    RL_FREE(b.p);
    return st;
}
#endif

#if !defined(RADLADS_NO_TRAINING)
RLDEF rl_status rl_import_gguf(const char *gguf_path, const char *out_dir) {
    rl_gguf g;
    rl_tokenizer *tok = NULL;
    rl_model m;
    rl__sbuf tj;
    rl_status st;
    char path[4200];
    if (!gguf_path || !out_dir) return rl__fail(RL_ERR_ARG, "rl_import_gguf: NULL argument");
    memset(&m, 0, sizeof m);
    memset(&tj, 0, sizeof tj);
    snprintf(path, sizeof path, "%s/tokenizer.json", out_dir);
    if ((st = rl_gguf_open(&g, gguf_path))) return st;
    /* everything that can fail on the input happens before the first file is written */
    if ((st = rl_tokenizer_from_gguf(&tok, &g)) == RL_OK && (st = rl_model_from_gguf(&m, &g)) == RL_OK) {
        if (rl_tokenizer_vocab_size(tok) > m.cfg.vocab_size)
            st = rl__fail(RL_ERR_FORMAT, "%s: the tokenizer has %d ids but token_embd.weight only %lld rows", gguf_path, rl_tokenizer_vocab_size(tok),
                          (long long)m.cfg.vocab_size);
        if (!st && (st = rl__tok_json(&tj, tok)) != RL_OK) {
            char why[1024];
            snprintf(why, sizeof why, "%s", rl_last_error());
            st = rl__fail(st, "%s: %s", gguf_path, why);
        }
        if (!st) st = rl_model_save(&m, out_dir, NULL);
        if (!st) st = rl__write_atomic(path, tj.p, tj.n);
        if (!st) st = rl__import_side_files(&g, tok, &m.cfg, out_dir);
        rl_model_free(&m);
    }
    RL_FREE(tj.p);
    rl_tokenizer_free(tok);
    rl_gguf_close(&g);
    return st;
}
#endif

#endif /* GGUF import */
#if !defined(RADLADS_NO_EXPORT)
/* ---- 16b. export to GGUF rwkv6qwen2 ----
   The file rl_export_gguf_rwkv6qwen2 writes (what is refused: section 16's declarations).

   metadata   general.architecture "rwkv6qwen2" (first), general.file_type (0 F32, 1 F16,
              32 BF16), general.quantization_version 2, general.name (optional);
              rwkv6qwen2.context_length 1048576, .embedding_length C, .block_count L,
              .feed_forward_length F, .wkv.head_size N, .time_mix_extra_dim (token-shift LoRA
              rank), .time_decay_extra_dim (decay LoRA rank), .token_shift_count 1,
              .attention.head_count_kv KV heads, .attention.head_count 0 (all UINT32) and
              .attention.layer_norm_rms_epsilon (FLOAT32);
              tokenizer.ggml.model "gpt2", .pre (the tokenizer's preset: "qwen2", "llama-bpe",
              "smollm" or "gpt-2"), .tokens (one per embedding row; ids the tokenizer lacks
              become "[PAD<id>]"), .token_type (INT32: 1 normal, 3 control = special added
              tokens and added tokens written like <|...|>, 4 user-defined = other added
              tokens, 5 unused = the fillers), .merges ("a b" in rank order), bos/eos (and
              optionally pad/eot) ids (UINT32), add_bos_token/add_eos_token (BOOL, from the
              tokenizer's post-processor), tokenizer.chat_template (optional).
   tensors    exactly the set llama.cpp's rwkv6qwen2 loader asks for (no extras):
              token_embd, output_norm, output (always; a copy of the embedding when tied) and
              per layer attn_norm, time_mix_{w1,w2,lerp_x,lerp_fused,decay,decay_w1,decay_w2,
              receptance,key,value,gate,output} (+ receptance/key/value biases when the
              student has them), ffn_norm, ffn_{gate,up,down}; with the converter's
              transforms: time_maa_w1 [C,5r] transposed and its five row groups reordered from
              RADLADS' r,k,v,w,g to llama.cpp's w,k,v,r,g; time_maa_w2 [5,r,C] permuted to
              [5,C,r] in the same order; time_maa_{w,k,v,r,g} stacked (in that order) into
              time_mix_lerp_fused [5,1,1,C]; time_decay_w1/w2 transposed; the [1,1,C] vectors
              squeezed. Key/value keep their KV·N rows (llama.cpp repeats the heads).
              2-D weight matrices are written as wtype (RL_GGML_F32, RL_GGML_F16 or
              RL_GGML_BF16, rounded to nearest even); norms, biases, vectors, the LoRA
              matrices and the fused lerp are always F32, as the converter writes them. */

RLDEF void rl_export_opts_default(rl_export_opts *o) {
    memset(o, 0, sizeof *o);
    o->bos_id = o->eos_id = o->pad_id = o->eot_id = -1;
}

RLDEF rl_status rl_export_check_rwkv6qwen2(const rl_model *m) {
    const rl_config *c;
    int64_t l, first_attn = -1, n_attn = 0;
    if (!m || !m->blocks) return rl__fail(RL_ERR_ARG, "export: no model");
    c = &m->cfg;
    if (m->student.kind == RL_MIXER_ATTENTION)
        return rl__fail(RL_ERR_UNSUPPORTED, "export: this is a transformer (teacher), not a RAD-RWKV6 student; llama.cpp runs "
                                            "transformers from their own Hugging Face folders (convert_hf_to_gguf.py)");
    if (m->student.kind == RL_MIXER_RWKV7)
        return rl__fail(RL_ERR_UNSUPPORTED, "export: RAD-RWKV7 students cannot be exported for llama.cpp: it has no architecture for "
                                            "RWKV7Qwen2, and its arwkv7 lacks the q/k/v biases, GQA, RoPE and RADLADS' key update "
                                            "that RAD-RWKV7 needs; distil a RAD-RWKV6 student to run in llama.cpp");
    if (m->student.kind != RL_MIXER_RWKV6) return rl__fail(RL_ERR_ARG, "export: unknown student kind %d", (int)m->student.kind);
    for (l = 0; l < c->n_layers; l++)
        if (m->blocks[l].mix.cfg.kind == RL_MIXER_ATTENTION) {
            if (first_attn < 0) first_attn = l;
            n_attn++;
        }
    if (n_attn)
        return rl__fail(RL_ERR_UNSUPPORTED, "export: hybrid student: %lld of its %lld layers (from layer %lld) keep softmax attention, "
                                            "which llama.cpp's rwkv6qwen2 architecture cannot hold (every layer must be RAD-RWKV6)",
                        (long long)n_attn, (long long)c->n_layers, (long long)first_attn);
    if (c->o_bias || c->mlp_bias)
        return rl__fail(RL_ERR_UNSUPPORTED, "export: o_proj or MLP biases: llama.cpp's rwkv6qwen2 has none");
    if (c->hidden_size < 1 || c->n_layers < 1 || c->intermediate_size < 1 || c->vocab_size < 1 || c->hidden_size > 0x7fffffff ||
        c->intermediate_size > 0x7fffffff || c->vocab_size > 0x7fffffff || c->n_layers > 100000)
        return rl__fail(RL_ERR_ARG, "export: model sizes out of range (hidden %lld, layers %lld, ffn %lld, vocab %lld)",
                        (long long)c->hidden_size, (long long)c->n_layers, (long long)c->intermediate_size, (long long)c->vocab_size);
    for (l = 0; l < c->n_layers; l++) {
        const rl_mixer_cfg *g = &m->blocks[l].mix.cfg;
        const rl_mixer_cfg *g0 = &m->blocks[0].mix.cfg;
        if (g->kind != RL_MIXER_RWKV6) return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld is not a RAD-RWKV6 mixer", (long long)l);
        if (g->use_rope)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: RAD-RWKV6 with RoPE on r and k (use_rope): llama.cpp's rwkv6qwen2 "
                                                "applies no RoPE", (long long)l);
        if (!g->balance_state)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: balance_state is off: llama.cpp's rwkv6qwen2 always scales k by "
                                                "(1 - w)", (long long)l);
        if (g->groupnorm_att)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: GroupNorm after the scan (groupnorm_att): llama.cpp's rwkv6qwen2 "
                                                "has none", (long long)l);
        if (g->C != c->hidden_size || g->H * g->N != g->C || g->KVH < 1 || g->H % g->KVH || g->N < 1)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: heads %lld x head size %lld must equal the width %lld, and the "
                                                "kv heads (%lld) divide the heads",
                            (long long)l, (long long)g->H, (long long)g->N, (long long)g->C, (long long)g->KVH);
        if (g->r_ts < 1 || g->r_d < 1 || g->r_ts != g0->r_ts || g->r_d != g0->r_d || g->KVH != g0->KVH || g->N != g0->N)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: LoRA ranks (token shift %d, decay %d) or heads differ from layer 0's "
                                                "(%d, %d): GGUF has one time_mix_extra_dim and time_decay_extra_dim",
                            (long long)l, g->r_ts, g->r_d, g0->r_ts, g0->r_d);
        if (!m->blocks[l].mix.gate_w.data)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: layer %lld: no gate.weight (gate_rank_type 1 is required by rwkv6qwen2)", (long long)l);
    }
    return RL_OK;
}

/* how a GGUF tensor is made from the model's tensors */
enum { RL__EX_COPY, RL__EX_T, RL__EX_W1, RL__EX_W2, RL__EX_LERP, RL__EX_ZERO };

typedef struct rl__ex_job {
    int kind;
    const rl_tensor *src[5];
    int64_t a, b;            /* T: source [a, b]; W1: C, r; W2: C, r */
    int64_t n;               /* elements written */
    rl_ggml_type type;
    char hf[96];             /* source name, for messages */
    const char *path;
} rl__ex_job;

static float rl__ex_get(const rl_tensor *t, int64_t i) {
    uint16_t h;
    switch (t->dtype) {
    case RL_BF16: memcpy(&h, (const uint16_t *)t->data + i, 2); return rl_bf16_to_f32(h);
    case RL_F16: memcpy(&h, (const uint16_t *)t->data + i, 2); return rl_f16_to_f32(h);
    default: return ((const float *)t->data)[i];
    }
}

/* llama.cpp's group g (w,k,v,r,g) is RADLADS' group rl__ex_group[g] (r,k,v,w,g) */
static const int rl__ex_group[5] = {3, 1, 2, 0, 4};

static rl_status rl__ex_fill(void *user, const char *name, void *dst, uint64_t nbytes) {
    const rl__ex_job *j = (const rl__ex_job *)user;
    int64_t i, a = j->a, b = j->b;
    int esz = j->type == RL_GGML_F32 ? 4 : 2;
    if (nbytes != (uint64_t)j->n * (uint64_t)esz)
        return rl__fail(RL_ERR_STATE, "%s: tensor %s: %llu bytes asked for, %lld elements to write", j->path, name,
                        (unsigned long long)nbytes, (long long)j->n);
    for (i = 0; i < j->n; i++) {
        float v = 0;
        int64_t p, q, g;
        switch (j->kind) {
        case RL__EX_COPY: v = rl__ex_get(j->src[0], i); break;
        case RL__EX_T: /* out [b, a] from src [a, b] */
            p = i / a;
            q = i % a;
            v = rl__ex_get(j->src[0], q * b + p);
            break;
        case RL__EX_W1: /* out [5, r, C] from src [C, 5r]: out[g][k][c] = src[c][G(g)·r + k] */
            p = i / a; /* g·r + k */
            q = i % a; /* c */
            g = p / b;
            v = rl__ex_get(j->src[0], q * 5 * b + rl__ex_group[g] * b + p % b);
            break;
        case RL__EX_W2: /* out [5, C, r] from src [5, r, C]: out[g][c][k] = src[G(g)][k][c] */
            p = i / b; /* g·C + c */
            q = i % b; /* k */
            g = p / a;
            v = rl__ex_get(j->src[0], (rl__ex_group[g] * b + q) * a + p % a);
            break;
        case RL__EX_LERP: v = rl__ex_get(j->src[i / a], i % a); break; /* out [5, C] */
        default: v = 0; break;
        }
        if (!isfinite(v))
            return rl__fail(RL_ERR_ARG, "%s: tensor %s (from %s): element %lld is %s; the model has diverged or is damaged", j->path, name,
                            j->hf, (long long)i, isnan(v) ? "NaN" : "infinite");
        if (j->type == RL_GGML_F32) {
            memcpy((unsigned char *)dst + 4 * i, &v, 4);
        } else {
            uint16_t h;
            if (j->type == RL_GGML_BF16) {
                h = rl_f32_to_bf16(v);
            } else {
                h = rl_f32_to_f16(v);
                if ((h & 0x7C00) == 0x7C00)
                    return rl__fail(RL_ERR_UNSUPPORTED, "%s: tensor %s (from %s): element %lld = %g does not fit F16 (largest 65504); "
                                                        "export with BF16 or F32", j->path, name, j->hf, (long long)i, (double)v);
            }
            ((unsigned char *)dst)[2 * i] = (unsigned char)(h & 0xFF);
            ((unsigned char *)dst)[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
    return RL_OK;
}

typedef struct rl__ex {
    rl_gguf_writer *w;
    rl__ex_job *jobs;
    int n_jobs, cap_jobs;
    const char *path;
} rl__ex;

/* one GGUF tensor; src[] checked to hold `want` elements each (want 0: not checked) */
static rl_status rl__ex_tensor(rl__ex *x, const char *gname, const char *hf, int kind, rl_ggml_type type, int nd, int64_t ne0, int64_t ne1,
                               int64_t ne2, int64_t ne3, const rl_tensor *const *src, int n_src, int64_t want, int64_t a, int64_t b) {
    rl__ex_job *j;
    int64_t ne[4];
    int i;
    ne[0] = ne0;
    ne[1] = ne1;
    ne[2] = ne2;
    ne[3] = ne3;
    if (x->n_jobs >= x->cap_jobs) return rl__fail(RL_ERR_STATE, "export: internal: too many tensors");
    for (i = 0; i < n_src; i++) {
        const rl_tensor *t = src[i];
        if (!t || !t->data || (t->dtype != RL_F32 && t->dtype != RL_BF16 && t->dtype != RL_F16))
            return rl__fail(RL_ERR_ARG, "export: model tensor %s%s has no F32/BF16/F16 data", hf, n_src > 1 ? " (one of its parts)" : "");
        if (want && t->n != want)
            return rl__fail(RL_ERR_ARG, "export: model tensor %s has %lld elements, expected %lld", hf, (long long)t->n, (long long)want);
    }
    j = &x->jobs[x->n_jobs++];
    memset(j, 0, sizeof *j);
    j->kind = kind;
    for (i = 0; i < n_src && i < 5; i++) j->src[i] = src[i];
    j->a = a;
    j->b = b;
    j->type = type;
    j->n = ne0 * ne1 * ne2 * ne3;
    j->path = x->path;
    snprintf(j->hf, sizeof j->hf, "%s", hf);
    return rl_gguf_add_tensor_fn(x->w, gname, type, nd, ne, rl__ex_fill, j);
}

/* added tokens that llama.cpp's converter marks CONTROL although they are not special
   (convert_hf_to_gguf.py does_token_look_special) */
static int rl__ex_looks_special(const char *s) {
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]")) return 1;
    if (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>")) return 1;
    if (n >= 8 && !strncmp(s, "<\xef\xbd\x9c", 4) && !strcmp(s + n - 4, "\xef\xbd\x9c>")) return 1; /* <｜ ... ｜> */
    if (n >= 8 && !strncmp(s, "<unused", 7) && s[n - 1] == '>') return 1;
    return 0;
}

typedef struct { const char *s; int32_t id; } rl__ex_tokref;
static int rl__ex_tokcmp(const void *a, const void *b) {
    const rl__ex_tokref *x = (const rl__ex_tokref *)a, *y = (const rl__ex_tokref *)b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* a merge part with spaces replaced by U+0120 'Ġ' (as the converter does for pair merges) */
static char *rl__ex_merge_part(char *dst, const char *s) {
    for (; *s; s++) {
        if (*s == ' ') {
            *dst++ = (char)0xC4;
            *dst++ = (char)0xA0;
        } else {
            *dst++ = *s;
        }
    }
    return dst;
}

static size_t rl__ex_spaces(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == ' ';
    return n;
}

static rl_status rl__ex_id(const char *what, int64_t id, int64_t V) {
    if (id >= V) return rl__fail(RL_ERR_ARG, "export: %s %lld is not below the vocabulary size %lld", what, (long long)id, (long long)V);
    return RL_OK;
}

/* tokenizer.ggml.* */
static rl_status rl__ex_vocab(rl_gguf_writer *w, const rl_model *m, const rl_tokenizer *tok, const rl_export_opts *o, rl_arena *ar) {
    int64_t V = m->cfg.vocab_size, i;
    int nt = rl_tokenizer_vocab_size(tok), nm = rl_tokenizer_n_merges(tok);
    const char **tokens, **merges;
    int32_t *types, bos, eos;
    rl__ex_tokref *refs;
    const char *pre = o->pre;
    rl_status st;
    if (nt > V)
        return rl__fail(RL_ERR_ARG, "export: the tokenizer has ids up to %d but the model's embedding has %lld rows; use the tokenizer the "
                                    "model was trained with", nt - 1, (long long)V);
    if (!pre) {
        pre = rl_tokenizer_pretok(tok) == RL_PRETOK_GPT2 ? "gpt-2" : rl_pretok_name(rl_tokenizer_pretok(tok)); /* llama.cpp spells it gpt-2 */
        if (!pre)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: the tokenizer's pre-tokenizer is none of llama.cpp's presets (qwen2, llama-bpe, "
                                                "smollm, gpt-2), so llama.cpp would split text differently; name one in opts->pre to "
                                                "export anyway");
    }
    tokens = (const char **)rl_arena_alloc(ar, sizeof(char *) * (size_t)V);
    types = (int32_t *)rl_arena_alloc(ar, sizeof(int32_t) * (size_t)V);
    refs = (rl__ex_tokref *)rl_arena_alloc(ar, sizeof(rl__ex_tokref) * (size_t)V);
    merges = (const char **)rl_arena_alloc(ar, sizeof(char *) * (size_t)(nm ? nm : 1));
    if (!tokens || !types || !refs || !merges) return rl__fail(RL_ERR_NOMEM, "export: out of memory for the vocabulary");
    for (i = 0; i < V; i++) {
        const char *s = i < nt ? rl_tokenizer_token(tok, (int32_t)i) : NULL;
        int ty = i < nt ? rl_tokenizer_token_type(tok, (int32_t)i) : RL_TOKEN_UNUSED;
        if (!s || ty == RL_TOKEN_UNUSED) {
            char *p = (char *)rl_arena_alloc(ar, 32);
            if (!p) return rl__fail(RL_ERR_NOMEM, "export: out of memory for the vocabulary");
            snprintf(p, 32, "[PAD%lld]", (long long)i);
            tokens[i] = p;
            types[i] = RL_TOKEN_UNUSED;
        } else {
            tokens[i] = s;
            types[i] = ty == RL_TOKEN_CONTROL ? RL_TOKEN_CONTROL
                     : ty == RL_TOKEN_USER_DEFINED ? (rl__ex_looks_special(s) ? RL_TOKEN_CONTROL : RL_TOKEN_USER_DEFINED)
                     : RL_TOKEN_NORMAL; /* the converter writes a vocabulary unk_token as NORMAL too */
        }
        refs[i].s = tokens[i];
        refs[i].id = (int32_t)i;
    }
    qsort(refs, (size_t)V, sizeof *refs, rl__ex_tokcmp);
    for (i = 1; i < V; i++)
        if (!strcmp(refs[i - 1].s, refs[i].s))
            return rl__fail(RL_ERR_ARG, "export: tokens %d and %d are both '%s'; llama.cpp needs every token string to be unique",
                            (int)refs[i - 1].id, (int)refs[i].id, refs[i].s);
    for (i = 0; i < nm; i++) {
        const char *a, *b;
        char *p, *q;
        if ((st = rl_tokenizer_merge(tok, (int)i, &a, &b)) != RL_OK) return st;
        p = (char *)rl_arena_alloc(ar, strlen(a) + strlen(b) + 2 * (rl__ex_spaces(a) + rl__ex_spaces(b)) + 2);
        if (!p) return rl__fail(RL_ERR_NOMEM, "export: out of memory for the merges");
        q = rl__ex_merge_part(p, a);
        *q++ = ' ';
        q = rl__ex_merge_part(q, b);
        *q = 0;
        merges[i] = p;
    }
    bos = o->bos_id >= 0 ? o->bos_id : rl_tokenizer_bos(tok) >= 0 ? rl_tokenizer_bos(tok) : m->cfg.bos_id;
    eos = o->eos_id >= 0 ? o->eos_id : m->cfg.n_eos > 0 ? m->cfg.eos_ids[0] : -1;
    if ((st = rl__ex_id("bos_token_id", bos, V)) || (st = rl__ex_id("eos_token_id", eos, V)) || (st = rl__ex_id("pad_id", o->pad_id, V)) ||
        (st = rl__ex_id("eot_id", o->eot_id, V)))
        return st;
    rl_gguf_add_str(w, "tokenizer.ggml.model", "gpt2");
    rl_gguf_add_str(w, "tokenizer.ggml.pre", pre);
    rl_gguf_add_array(w, "tokenizer.ggml.tokens", RL_GGUF_STRING, tokens, (uint64_t)V);
    rl_gguf_add_array(w, "tokenizer.ggml.token_type", RL_GGUF_INT32, types, (uint64_t)V);
    rl_gguf_add_array(w, "tokenizer.ggml.merges", RL_GGUF_STRING, merges, (uint64_t)nm);
    if (bos >= 0) rl_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (eos >= 0) rl_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    if (o->pad_id >= 0) rl_gguf_add_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)o->pad_id);
    if (o->eot_id >= 0) rl_gguf_add_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)o->eot_id);
    rl_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", rl_tokenizer_bos(tok) >= 0);
    rl_gguf_add_bool(w, "tokenizer.ggml.add_eos_token", tok->n_suffix > 0);
    if (o->chat_template) rl_gguf_add_str(w, "tokenizer.chat_template", o->chat_template);
    return RL_OK; /* writer errors are sticky: checked by the caller */
}

/* warn where the student's log-decay clamp at -5 can act (llama.cpp has none) */
static void rl__ex_clamp_warn(const rl_model *m) {
    int64_t l, c, k, n_warn = 0;
    double worst = -1e300;
    int64_t worst_l = -1;
    for (l = 0; l < m->cfg.n_layers; l++) {
        const rl_mixer *x = &m->blocks[l].mix;
        int64_t C = x->cfg.C, R = x->cfg.r_d;
        double lmax = -1e300;
        for (c = 0; c < C; c++) {
            double d = rl__ex_get(&x->decay, c);
            for (k = 0; k < R; k++) d += fabs(rl__ex_get(&x->decay_w2, k * C + c));
            if (d > lmax) lmax = d;
        }
        if (lmax > 1.6094379124341003) { /* ln 5: exp(d) > 5 means log w < -5 */
            n_warn++;
            if (lmax > worst) {
                worst = lmax;
                worst_l = l;
            }
        }
    }
    if (n_warn)
        rl_log(RL_LOG_WARN, "export: in %lld of %lld layers (most in layer %lld: %.4g) time_decay + sum|time_decay_w2| exceeds ln 5: "
                            "the student clamps the log-decay at -5 there and llama.cpp's rwkv6qwen2 does not, so their outputs "
                            "can differ slightly",
               (long long)n_warn, (long long)m->cfg.n_layers, (long long)worst_l, worst);
}

/* The model's keys: general.architecture first, then the sizes llama.cpp's rwkv6qwen2 reads
   (writer errors are sticky: checked by the caller). */
static void rl__ex_meta(rl_gguf_writer *w, const rl_model *m, rl_ggml_type wtype, const rl_export_opts *o) {
    const rl_mixer_cfg *mc = &m->blocks[0].mix.cfg;
    rl_gguf_add_str(w, "general.architecture", "rwkv6qwen2");
    if (o->name) rl_gguf_add_str(w, "general.name", o->name);
    rl_gguf_add_u32(w, "general.file_type", wtype == RL_GGML_F32 ? 0u : wtype == RL_GGML_F16 ? 1u : 32u);
    rl_gguf_add_u32(w, "general.quantization_version", 2);
    rl_gguf_add_u32(w, "rwkv6qwen2.context_length", 1048576u);
    rl_gguf_add_u32(w, "rwkv6qwen2.embedding_length", (uint32_t)m->cfg.hidden_size);
    rl_gguf_add_u32(w, "rwkv6qwen2.block_count", (uint32_t)m->cfg.n_layers);
    rl_gguf_add_u32(w, "rwkv6qwen2.feed_forward_length", (uint32_t)m->cfg.intermediate_size);
    rl_gguf_add_u32(w, "rwkv6qwen2.wkv.head_size", (uint32_t)mc->N);
    rl_gguf_add_u32(w, "rwkv6qwen2.time_mix_extra_dim", (uint32_t)mc->r_ts);
    rl_gguf_add_u32(w, "rwkv6qwen2.time_decay_extra_dim", (uint32_t)mc->r_d);
    rl_gguf_add_f32(w, "rwkv6qwen2.attention.layer_norm_rms_epsilon", m->cfg.rms_eps);
    rl_gguf_add_u32(w, "rwkv6qwen2.token_shift_count", 1);
    rl_gguf_add_u32(w, "rwkv6qwen2.attention.head_count_kv", (uint32_t)mc->KVH);
    rl_gguf_add_u32(w, "rwkv6qwen2.attention.head_count", 0); /* required by llama.cpp, unused */
}

/* one tensor from one model tensor (src: the caller's scratch) */
#define RL__EX_T1(gname_, hfname_, kind_, type_, nd_, e0, e1, e2, e3, t_, want_, a_, b_) \
    (src[0] = (t_), rl__ex_tensor(x, gname_, hfname_, kind_, type_, nd_, e0, e1, e2, e3, src, 1, want_, a_, b_))
#define RL__EX_NAMES(g_, h_) (snprintf(gn, sizeof gn, "blk.%lld." g_, (long long)l), snprintf(hf, sizeof hf, "model.layers.%lld." h_, (long long)l))

/* Block l's token shift (its LoRA w1/w2 and the lerps; zeros when the student has none) and decay. */
static rl_status rl__ex_block_shift(rl__ex *x, const rl_model *m, int64_t l, int zero) {
    const rl_mixer *mx = &m->blocks[l].mix;
    int64_t C = m->cfg.hidden_size, R = m->blocks[0].mix.cfg.r_ts, RD = m->blocks[0].mix.cfg.r_d;
    char gn[64], hf[96];
    const rl_tensor *src[5];
    rl_status st;
    RL__EX_NAMES("time_mix_w1.weight", "self_attn.time_maa_w1");
    if ((st = RL__EX_T1(gn, hf, zero ? RL__EX_ZERO : RL__EX_W1, RL_GGML_F32, 2, C, 5 * R, 1, 1, &mx->maa_w1, C * 5 * R, C, R))) return st;
    RL__EX_NAMES("time_mix_w2.weight", "self_attn.time_maa_w2");
    if ((st = RL__EX_T1(gn, hf, zero ? RL__EX_ZERO : RL__EX_W2, RL_GGML_F32, 3, R, C, 5, 1, &mx->maa_w2, 5 * R * C, C, R))) return st;
    RL__EX_NAMES("time_mix_lerp_x.weight", "self_attn.time_maa_x");
    if ((st = RL__EX_T1(gn, hf, zero ? RL__EX_ZERO : RL__EX_COPY, RL_GGML_F32, 1, C, 1, 1, 1, &mx->maa_x, C, 0, 0))) return st;
    RL__EX_NAMES("time_mix_lerp_fused.weight", "self_attn.time_maa_{w,k,v,r,g}");
    src[0] = &mx->maa_w;
    src[1] = &mx->maa_k;
    src[2] = &mx->maa_v;
    src[3] = &mx->maa_r;
    src[4] = &mx->maa_g;
    if ((st = rl__ex_tensor(x, gn, hf, zero ? RL__EX_ZERO : RL__EX_LERP, RL_GGML_F32, 4, C, 1, 1, 5, src, 5, C, C, 0))) return st;
    RL__EX_NAMES("time_mix_decay.weight", "self_attn.time_decay");
    if ((st = RL__EX_T1(gn, hf, RL__EX_COPY, RL_GGML_F32, 1, C, 1, 1, 1, &mx->decay, C, 0, 0))) return st;
    RL__EX_NAMES("time_mix_decay_w1.weight", "self_attn.time_decay_w1"); /* [C, rd] -> ne {C, rd} = [rd, C] */
    if ((st = RL__EX_T1(gn, hf, RL__EX_T, RL_GGML_F32, 2, C, RD, 1, 1, &mx->decay_w1, C * RD, C, RD))) return st;
    RL__EX_NAMES("time_mix_decay_w2.weight", "self_attn.time_decay_w2"); /* [rd, C] -> ne {rd, C} = [C, rd] */
    return RL__EX_T1(gn, hf, RL__EX_T, RL_GGML_F32, 2, RD, C, 1, 1, &mx->decay_w2, RD * C, RD, C);
}

/* Block l's tensors in llama.cpp's order (rl__g6_names): the attention norm, the token shift and
   decay, r/k/v (and their biases), gate, output, then the MLP. */
static rl_status rl__ex_block(rl__ex *x, const rl_model *m, int64_t l, rl_ggml_type wtype, int zero) {
    const rl_block *b = &m->blocks[l];
    char gn[64], hf[96];
    const rl_tensor *src[5];
    size_t i;
    rl_status st;
    for (i = 0; i < RL__G6_N; i++) {
        const rl__g6_name *e = &rl__g6_names[i];
        const rl_tensor *t = (const rl_tensor *)(const void *)((const char *)b + e->off);
        if (e->kind == RL__G6_SHIFT) {
            if ((st = rl__ex_block_shift(x, m, l, zero))) return st;
            continue;
        }
        if (e->kind == RL__G6_BIAS && !t->n) continue;
        snprintf(gn, sizeof gn, "blk.%lld.%s", (long long)l, e->gguf);
        snprintf(hf, sizeof hf, "model.layers.%lld.%s", (long long)l, e->hf);
        if (e->kind == RL__G6_MAT) st = RL__EX_T1(gn, hf, RL__EX_COPY, wtype, 2, t->shape[1], t->shape[0], 1, 1, t, t->n, 0, 0);
        else st = RL__EX_T1(gn, hf, RL__EX_COPY, RL_GGML_F32, 1, t->n, 1, 1, 1, t, t->n, 0, 0);
        if (st) return st;
    }
    return RL_OK;
}
#undef RL__EX_NAMES

/* Every tensor: the embedding, the blocks, the final norm and the output matrix (shift 0: the
   student has no token shift). */
static rl_status rl__ex_tensors(rl__ex *x, const rl_model *m, rl_ggml_type wtype, int shift) {
    const rl_config *c = &m->cfg;
    int64_t C = c->hidden_size, V = c->vocab_size, l;
    const rl_tensor *src[5];
    rl_status st;
    if ((st = RL__EX_T1("token_embd.weight", "model.embed_tokens.weight", RL__EX_COPY, wtype, 2, C, V, 1, 1, &m->embed, V * C, 0, 0)))
        return st;
    for (l = 0; l < c->n_layers; l++)
        if ((st = rl__ex_block(x, m, l, wtype, !shift))) return st;
    if ((st = RL__EX_T1("output_norm.weight", "model.norm.weight", RL__EX_COPY, RL_GGML_F32, 1, C, 1, 1, 1, &m->norm, C, 0, 0))) return st;
    /* always written: llama.cpp's rwkv6qwen2 has no tied-embedding fallback */
    return RL__EX_T1("output.weight", c->tie_embeddings ? "model.embed_tokens.weight (tied lm_head)" : "lm_head.weight", RL__EX_COPY, wtype,
                     2, C, V, 1, 1, c->tie_embeddings ? &m->embed : &m->head, V * C, 0, 0);
}
#undef RL__EX_T1

RLDEF rl_status rl_export_gguf_rwkv6qwen2_ex(const rl_model *m, const rl_tokenizer *tok, const char *path, rl_ggml_type wtype,
                                       const rl_export_opts *opts) {
    rl_export_opts dflt;
    const rl_export_opts *o = opts;
    rl__ex x;
    rl_arena ar;
    rl_status st;
    int64_t L, l;
    int shift;
    if (rl__on_device(m, path)) return RL_ERR_UNSUPPORTED;
    if (!o) {
        rl_export_opts_default(&dflt);
        o = &dflt;
    }
    if (!path || !*path) return rl__fail(RL_ERR_ARG, "export: no output path");
    if (!tok) return rl__fail(RL_ERR_ARG, "export: %s: a tokenizer is required (llama.cpp reads the vocabulary from the GGUF)", path);
    if (tok->sp) return rl__fail(RL_ERR_UNSUPPORTED, "export: %s: llama2.c (SentencePiece) vocabularies are not exported to GGUF yet", path);
    if (wtype != RL_GGML_F32 && wtype != RL_GGML_F16 && wtype != RL_GGML_BF16)
        return rl__fail(RL_ERR_ARG, "export: %s: weight type %s: choose F32, F16 or BF16 (quantize afterwards with llama-quantize)", path,
                        rl_ggml_type_name((int)wtype));
    if ((st = rl_export_check_rwkv6qwen2(m)) != RL_OK) return st;
    L = m->cfg.n_layers;
    shift = m->blocks[0].mix.cfg.use_tokenshift;
    for (l = 1; l < L; l++)
        if (m->blocks[l].mix.cfg.use_tokenshift != shift)
            return rl__fail(RL_ERR_UNSUPPORTED, "export: token shift is on in some layers and off in others");

    memset(&x, 0, sizeof x);
    x.path = path;
    x.cap_jobs = (int)(3 + 21 * L);
    rl_arena_init(&ar, (size_t)1 << 20);
    x.jobs = (rl__ex_job *)rl_arena_alloc(&ar, sizeof(rl__ex_job) * (size_t)x.cap_jobs);
    x.w = rl_gguf_writer_new();
    if (!x.jobs || !x.w) {
        rl_gguf_writer_free(x.w);
        rl_arena_free(&ar);
        return rl__fail(RL_ERR_NOMEM, "export: out of memory");
    }
    rl__ex_meta(x.w, m, wtype, o);
    if ((st = rl__ex_vocab(x.w, m, tok, o, &ar)) != RL_OK) goto done;
    if ((st = rl__ex_tensors(&x, m, wtype, shift)) != RL_OK) goto done;
    rl__ex_clamp_warn(m); /* after the checks above: every tensor it reads has data */
    st = rl_gguf_write(x.w, path);
done:
    rl_gguf_writer_free(x.w);
    rl_arena_free(&ar);
    return st;
}

RLDEF rl_status rl_export_gguf_rwkv6qwen2(const rl_model *m, const rl_tokenizer *tok, const char *path, rl_ggml_type wtype) {
    return rl_export_gguf_rwkv6qwen2_ex(m, tok, path, wtype, NULL);
}

#endif /* export */

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
