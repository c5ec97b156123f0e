/* radlads_cuda.cu - optional CUDA companion of radlads.h: the GPU twins of the ops of its
   device seam (radlads.h section 3: a tensor moved with rl_to, a model with rl_model_to,
   runs every op of a conversion step here). In this file: the RAD-RWKV6 and RAD-RWKV7
   recurrent scans (radlads.h section 4a, rl_wkv6 / rl_wkv7), forward and backward, with the
   same math, memory layouts and checkpoint-and-recompute backward as the CPU ops; matrix
   products through cuBLAS in radlads.h's rl_gemm convention (rl_cuda_gemm: fp32, TF32 or
   bf16 inputs, fp32 accumulation); the elementwise, row and loss ops, AdamW ("the ops of
   the device seam", parts 1 and 2), with the mixers' fused elementwise ops (RAD-RWKV7's scan
   inputs, the lerps); causal GQA softmax attention (flash-style tiles). They are
   correct-first plain fp32 kernels: the rest of the chains fused, chunked scans and tensor
   cores are still to come (issue 10).

   Build: nvcc -O3 -c radlads_cuda.cu (tools/cuda.mk does it: make -f tools/cuda.mk cuda);
   link with -lcublas. The library side enables it with RADLADS_CUDA. The CUDA runtime and
   cuBLAS are used; memory is cudaMalloc'd device memory (no managed memory); nothing here
   exits or prints.

   ---- the math (identical to radlads.h) ----
   RWKV6, per query head h reading kv head h/(H/KVH), state S[j][i] (key j, value i):
       w = exp(logw), k' = k⊙(1−w), S = diag(w)·S + k'ᵀv, y = N^-½ · r·S   (S after the update)
   RWKV7, per head, state S[i][j] (value i, key j):
       sa = S·a (S before the update), S = S·diag(w) + sa·bᵀ + v·kᵀ, y = S·r   (no scale)
   Backward: exact, no division by the decay. The forward keeps the state at every token
   t ≡ 0 (mod 16) (RL_CK, = RL__SCAN_CK of radlads.h, same buffer layout as the CPU's
   kept states); the backward recomputes each 16-token stretch from its kept state and walks
   it backwards.

   ---- how the work is laid out on the GPU ----
   One thread block per (sequence b, head h), NT = 32, 64 or 128 threads (the head size N
   rounded up; threads p >= N carry zeros and write nothing), one thread per state row held
   in registers. Inputs are staged 16 tokens at a time into shared memory (each thread
   loads its element p of every token of the stretch), then the 16 steps run with no
   synchronisation: the per-token vectors are read from shared memory as broadcasts.

   Forward ("value layout"): thread i owns everything of value i: RWKV6 S[0..N)[i],
   RWKV7 S[i][0..N). Every sum of a step then stays inside one thread.

   Backward: G = dL/dS. The sums of the backward run over the value index for some
   gradients and over the key index for others, so each scan's backward is two kernels,
   each laid out so that all of its sums stay inside a thread (no cross-thread reductions):
     RWKV6 A (value layout, thread i owns G[·][i]):  dv, dstate_in.   Needs no state.
     RWKV6 B (key layout, thread j owns S[j][·], G[j][·]):  dr, dk, dlogw.
     RWKV7 1 (value layout, thread i owns G[i][·]):  dv and gb = G·b (to a workspace).
     RWKV7 2 (key layout, thread j owns S[·][j], G[·][j]):  dr, dw, dk, da, db, dstate_in;
             it reads gb from kernel 1 and sa (= S_{t-1}·a) that the forward saved.
   The key-layout kernels recompute the 16 states of a stretch from the kept state and
   keep them in a per-block global scratch (coalesced: thread p owns column p), then walk
   the stretch backwards with G in registers; G is parked in the same scratch while the
   next stretch is recomputed, so S and G are never in registers together. RWKV6 GQA: the
   per-query-head dk, dv go to a workspace and a small kernel adds each group of H/KVH
   heads into dk, dv (deterministic, no atomics); with H == KVH they go straight there.
   Device memory a backward allocates: the scratch, 17·NT² floats per resident block
   (1.1 MB at N = 128; the key-layout kernels loop over (b, h) with only as many blocks as
   fit on the GPU at once), plus RWKV7's gb and RWKV6-GQA's dk/dv, [B*T, H*N] each.

   Test build: with RL_CUDA_EMULATE this file compiles as plain C++ against
   tests/cuda/cuda_emu.h, which runs the same kernels on the CPU (one fiber per thread,
   __syncthreads as a barrier), and tests/cuda/cublas_emu.h (the cuBLAS calls used here,
   with cuBLAS's documented semantics), so that tests/cuda/test_cuda_scans.c and
   test_cuda_gemm.c can check the kernels' logic on a machine without a GPU. */

#ifdef RL_CUDA_EMULATE
#include "tests/cuda/cuda_emu.h"
#include "tests/cuda/cublas_emu.h"
#define RL_LAUNCH(kern, grid, block, smem, ...) rl_emu_launch((grid), (block), (smem), [=]() { kern(__VA_ARGS__); }, #kern)
#define RL_SMEM rl_emu_smem
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#define RL_LAUNCH(kern, grid, block, smem, ...) kern<<<(grid), (block), (smem)>>>(__VA_ARGS__)
extern __shared__ __align__(16) float rl__cu_smem[];
#define RL_SMEM rl__cu_smem
#endif
#include <float.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RL_CK 16      /* kept state every RL_CK tokens: RL__SCAN_CK in radlads.h */
#define RL_TILE_LD 33 /* row stride of the 32-column transpose tile (no bank conflicts) */

/* ==== public API (C linkage) ==============================================
   Conventions of every function below:
   - All tensors are fp32, row-major, contiguous. B sequences of T tokens: token t of
     sequence b is row b*T + t. H heads of size N (1 <= N <= 128); RWKV6 has KVH kv heads,
     H % KVH == 0, query head h reads kv head h / (H/KVH).
   - Activations "[B*T, H*N]": element (row, h*N + i). RWKV6 k and v: [B*T, KVH*N].
   - States "[B, H, N, N]": RWKV6 S[j][i] at ((b*H + h)*N + j)*N + i (key j, value i);
     RWKV7 S[i][j] at ((b*H + h)*N + i)*N + j (value i, key j), as in radlads.h.
   - ck, the kept states: [B*H][ceil(T/16)][N*N] floats (rl_cuda_ck_floats), entry c of
     (b, h) = the state before token 16c, in the state layout above. It is the layout of
     the CPU ops' kept states (rl__scan_job.ck), so either side can use the other's.
   - "or NULL": an output that is NULL is not computed; an input that is NULL reads as
     zeros. Gradients are ACCUMULATED (+=) into the caller's buffers, as in radlads.h:
     zero them first to get plain gradients.
   - Return 0 on success, -1 on bad arguments (nothing is touched), -2 when CUDA fails (no
     device, out of memory, launch or execution error; the _host functions then leave the
     host outputs untouched), -3 when a _host function fails while copying its results
     back (host outputs partly written: do not retry or fall back on the same buffers).
     rl_cuda_last_error() says what (the message is per host thread).
   - The plain functions take DEVICE pointers and use the current device's default
     stream. Forwards return once their kernel is queued (an execution error shows at the
     next synchronising call, e.g. rl_cuda_sync); backwards cudaMalloc a workspace and
     synchronise before freeing it. The _host functions take HOST pointers: they allocate
     device memory, copy in, run, copy out and free; they are synchronous. */
extern "C" {
/* 1 when a CUDA device of compute capability >= 8.0 is usable, else 0 (and
   rl_cuda_last_error() says why: no driver, no device, too old). */
int rl_cuda_available(void);
/* The current device's name and compute capability (for benchmark reports), or "none". */
const char *rl_cuda_device_name(void);
/* The current device's free and total memory in bytes (cudaMemGetInfo); 0 = success. */
int rl_cuda_mem_info(size_t *free_b, size_t *total_b);
/* The message of the last failure on this host thread ("" if none). */
const char *rl_cuda_last_error(void);
/* Floats of the kept-state buffer ck: B*H*ceil(T/16)*N*N (0 for a bad shape). */
size_t rl_cuda_ck_floats(int64_t B, int64_t T, int H, int N);

/* RWKV6 forward (rl_wkv6): per query head h, kv head h/(H/KVH):
   w = exp(logw), S = diag(w)·S + (k⊙(1−w))ᵀv, y = N^-½ r·S.
     r, logw    [B*T, H*N]    required
     k, v       [B*T, KVH*N]  required
     state_in   [B, H, N, N]  or NULL (zeros)
     y          [B*T, H*N]    or NULL (out)
     state_out  [B, H, N, N]  or NULL (out): the state after token T−1
     ck         kept states   or NULL (out): needed by rl_cuda_wkv6_backward */
int rl_cuda_wkv6_forward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                         const float *logw, const float *state_in, float *y, float *state_out, float *ck);
/* RWKV6 backward. Inputs as in the forward plus
     ck          kept states from rl_cuda_wkv6_forward on the same inputs   required
     dy          [B*T, H*N]    dL/dy, or NULL (zeros)
     dstate_out  [B, H, N, N]  dL/dstate_out, or NULL (zeros)
   Gradients (+=, each or NULL): dr, dlogw [B*T, H*N]; dk, dv [B*T, KVH*N] (summed over
   the H/KVH query heads of each kv head); dstate_in [B, H, N, N]. */
int rl_cuda_wkv6_backward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                          const float *logw, const float *ck, const float *dy, const float *dstate_out, float *dr,
                          float *dk, float *dv, float *dlogw, float *dstate_in);
/* RWKV7 forward (rl_wkv7): per head sa = S·a, S = S·diag(w) + sa·bᵀ + v·kᵀ, y = S·r.
     r, w, k, v, a, b  [B*T, H*N]  required (w is the decay itself, not its log)
     state_in   [B, H, N, N]  or NULL (zeros)
     y          [B*T, H*N]    or NULL (out)
     state_out  [B, H, N, N]  or NULL (out)
     ck         kept states   or NULL (out)  \ both needed by
     sa         [B*T, H*N]    or NULL (out)  / rl_cuda_wkv7_backward: sa_t = S_{t−1}·a_t */
int rl_cuda_wkv7_forward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                         const float *v, const float *a, const float *b, const float *state_in, float *y,
                         float *state_out, float *ck, float *sa);
/* RWKV7 backward. Inputs as in the forward plus ck and sa from rl_cuda_wkv7_forward on
   the same inputs (required), dy [B*T, H*N] or NULL, dstate_out [B, H, N, N] or NULL.
   Gradients (+=, each or NULL): dr, dw, dk, dv, da, db [B*T, H*N]; dstate_in [B, H, N, N]. */
int rl_cuda_wkv7_backward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                          const float *v, const float *a, const float *b, const float *ck, const float *sa,
                          const float *dy, const float *dstate_out, float *dr, float *dw, float *dk, float *dv,
                          float *da, float *db, float *dstate_in);

/* Matrix product through cuBLAS, in radlads.h's rl_gemm convention (row-major, element
   strides): C[M×N] (+)= A[M×K]·B[K×N], A(i,k) = A[i·a_rs + k·a_cs], B(k,j) = B[k·b_rs + j·b_cs],
   C(i,j) = C[i·ldc + j]. One stride of A is 1 (A or Aᵀ has contiguous rows), and one of B:
   the layouts of rl_linear and rl_matmul, forward and backward. Device pointers.
     b_bf16     B holds bf16 values (uint16_t), else fp32
     precision  0: fp32 (CUBLAS_COMPUTE_32F); 1: TF32 tensor cores with fp32 accumulation
                (CUBLAS_COMPUTE_32F_FAST_TF32); 2: bf16 inputs with fp32 accumulation (A, and
                B when fp32, rounded to bf16 to nearest-even into a workspace first; as
                radlads.h's bf16_dot). With precision 0 or 1 a bf16 B is widened to fp32 first.
     accumulate 1: C += A·B; 0: C = A·B (C is not read)
   radlads.h's device seam calls it for rl_linear / rl_matmul on a CUDA device;
   tests/cuda/test_cuda_gemm.c checks it against radlads.h's reference products. */
int rl_cuda_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B, int b_bf16,
                 int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate, int precision);

/* Small helpers so that C code without the CUDA headers can hold device memory. */
void *rl_cuda_malloc(size_t bytes);                                   /* NULL on failure */
void rl_cuda_free(void *p);                                           /* NULL is fine */
int rl_cuda_copy(void *dst, const void *src, size_t bytes, int kind); /* 1 host->device, 2 device->host, 3 device->device */
int rl_cuda_sync(void); /* wait for the device; reports execution errors of queued kernels */

/* The ops of radlads.h's device seam (section 3, the table rl__ops): the same math as the
   CPU entries beside each op there, on device pointers. fp32, row-major, contiguous;
   "R, C": R rows of C values; gradients are added (+=). q: the stream (NULL, the default
   one, is all there is so far). Each returns once its kernel is queued: 0, or -1 for bad
   arguments, -2 when the launch fails. */
int rl_cuda_zero(void *p, size_t bytes);
int rl_cuda_add(void *q, float *y, const float *a, float s, const float *b, int64_t n);     /* y = a + s·b */
int rl_cuda_axpy(void *q, float *y, float s, const float *x, int64_t n);                   /* y += s·x */
int rl_cuda_mul(void *q, float *y, const float *a, const float *b, int64_t n, int acc);     /* y (+)= a ⊙ b */
/* y = x + v (mode 0), x ⊙ v (1), y += x ⊙ v (2); v [C] broadcast over the R rows */
int rl_cuda_rowvec(void *q, float *y, const float *x, const float *v, int64_t R, int64_t C, int mode);
/* gv[j] += Σ_r g[r,j]·x[r,j]·s[r] (x, s NULL: ones), rows summed in order (as the CPU) */
int rl_cuda_colsum(void *q, float *gv, const float *g, const float *x, const float *s, int64_t R, int64_t C);
/* RMSNorm rows: rstd[r] = (mean(x²) + eps)^-½, y = x·rstd ⊙ w (w NULL: ones); its x gradient
   gx += rstd·(g ⊙ w − x·rstd²·mean(g ⊙ w ⊙ x)) */
int rl_cuda_rmsnorm(void *q, float *y, float *rstd, const float *x, const float *w, int64_t R, int64_t C, float eps);
int rl_cuda_rmsnorm_bwd(void *q, float *gx, const float *g, const float *x, const float *w, const float *rstd, int64_t R, int64_t C);
/* y = f(x); gx += g·f'(x) from x and y. fn: 0 exp, 1 sigmoid, 2 tanh, 3 softplus, 4 silu,
   5 RAD-RWKV6 log-decay y = max(−exp(x), −5) (gradient g·y where y > −5, else 0) */
int rl_cuda_unary(void *q, int fn, float *y, const float *x, int64_t n);
int rl_cuda_unary_bwd(void *q, int fn, float *gx, const float *g, const float *x, const float *y, int64_t n);
/* y = silu(a) ⊙ b; ga, gb (either NULL): its gradients, added to where bit 0, 1 of acc (swiglu_bwd) is set, else written */
int rl_cuda_swiglu(void *q, float *y, const float *a, const float *b, int64_t n);
int rl_cuda_swiglu_bwd(void *q, float *ga, float *gb, int acc, const float *g, const float *a, const float *b, int64_t n);
/* RAD-RWKV6 students without balance_state: y = k / max(1 − e^lw, FLT_MIN); gk, gl (either
   NULL) += its gradients (none where the divisor is clamped) */
int rl_cuda_unbalance(void *q, float *y, const float *k, const float *lw, int64_t n);
int rl_cuda_unbalance_bwd(void *q, float *gk, float *gl, const float *g, const float *k, const float *lw, int64_t n);
/* RAD-RWKV7's scan inputs (radlads.h rl__rwkv7_prep): in[7] = k, zw, za [R, C], w0, a0, kk, ka
   [C] (kk, ka NULL: the balanced form); y [4][R][C] = w, k̃, −κ, κ ⊙ a, rinv [R·C/N] per head;
   backward: gi[7] (each NULL; += where bit q of acc is set or q >= 3, else =) from the planes'
   gradient g. One block per head of a row (its norm and gκ·κ are block sums); the
   per-channel gradients one thread per column walking the rows in order, from the heads' gκ·κ
   (a workspace of R·C/N floats) */
int rl_cuda_rwkv7_prep(void *q, float *y, float *rinv, const float *const *in, int64_t R, int64_t C, int N);
int rl_cuda_rwkv7_prep_bwd(void *q, float *const *gi, int acc, const float *g, const float *const *in, const float *rinv, int64_t R, int64_t C,
                           int N);
/* a lerp with a gate (radlads.h rl__lerp: token shift, value residual): y = a + (b − a) ⊙ f(z + c),
   in[4] = a, b, z [R, C] (z may be NULL), c [C], f = σ (sig) or the identity; backward: gi[4] as
   rl_cuda_rwkv7_prep_bwd's (bits 0-2 of acc); one thread per element, c's gradient one
   thread per column walking the rows in order */
int rl_cuda_lerp(void *q, float *y, const float *const *in, int64_t R, int64_t C, int sig);
int rl_cuda_lerp_bwd(void *q, float *const *gi, int acc, const float *g, const float *const *in, int64_t R, int64_t C, int sig);
/* y[0] = Σ x (one block, double accumulation, deterministic); gx += g[0] */
int rl_cuda_sum(void *q, float *y, const float *x, int64_t n);
int rl_cuda_sum_bwd(void *q, float *gx, const float *g, int64_t n);
/* Causal softmax attention with GQA (rl_attention). Q, Y [B*T, H*d]; K, V [B*T, KVH*d]; 1 <= d <= 128;
   query head h reads kv head h/(H/KVH). lse [B][H][T] (or NULL): log Σ_{j≤t} exp(s_tj), needed by the backward.
   Memory linear in T (flash-attention style tiles, online softmax). */
int rl_cuda_attention(void *q, float *Y, float *lse, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int H, int KVH, int d);
/* gq [B*T, H*d], gk, gv [B*T, KVH*d] (each or NULL) += the gradients given gy, from Y and lse of the forward.
   Two kernels, no workspace, no atomics (deterministic). */
int rl_cuda_attention_bwd(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q, const float *K, const float *V,
                          const float *Y, const float *lse, int64_t B, int64_t T, int H, int KVH, int d);
/* Attention over a decoding cache (rl_model_step): T new queries of each of B sequences at
   positions pos0 .. pos0+T−1, Q, Y [B*T, H*d], against rows 0 .. pos0+t of the sequence's
   cache in K, V [B, cap, KVH*d]; 1 <= d <= 256. No lse: nothing of decoding is differentiated. */
int rl_cuda_attention_cache(void *q, float *Y, const float *Q, const float *K, const float *V, int64_t B, int64_t T, int64_t pos0,
                            int64_t cap, int H, int KVH, int d);
/* AdamW (radlads.h rl_adamw_step): *ss (a HOST double) += Σ x² (synchronous: it waits for the
   sum); and one update: gs = g·scale, m = β1·m + (1−β1)·gs, v = β2·v + (1−β2)·gs²,
   p −= lr·((m/b1c) / (√(v/b2c) + eps) + wd·p), g = 0 */
int rl_cuda_sumsq(void *q, double *ss, const float *x, int64_t n);
int rl_cuda_adamw(void *q, float *p, float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps, float wd,
                  float scale, double b1c, double b2c);
/* y = a·x + b */
int rl_cuda_affine(void *q, float *y, const float *x, float a, float b, int64_t n);
/* y[b·ysb + r·ysr + j] (+)= x[b·xsb + r·xsr + j] for b < B, r < R, j < C; acc 0: =, 1: += */
int rl_cuda_copy3d(void *q, float *y, int64_t ysb, int64_t ysr, const float *x, int64_t xsb, int64_t xsr, int64_t B,
                   int64_t R, int64_t C, int acc);
/* y[i][:] = E[ids[i]][:] for i < n, rows of C; E fp32, or bf16 (uint16 bits, widened) when
   e_bf16; ids DEVICE int32 in [0, V) (not checked: the caller checks them) */
int rl_cuda_embedding(void *q, float *y, const void *E, int e_bf16, const int32_t *ids, int64_t n, int64_t C);
/* gE[ids[i]][:] += g[i][:] (atomicAdd: with repeated ids not deterministic in the last bit) */
int rl_cuda_embedding_bwd(void *q, float *gE, const float *g, const int32_t *ids, int64_t n, int64_t C);
/* RoPE (rotate-half) on R rows of C = heads·d values, row r at position t = r % T; tab as
   radlads.h's rl_rope: [T][cos(half) sin(half)] then [T][−sin(half)]. Per head, pairs
   (j, j + half): y_j = a·cs − b·sn, y_{j+half} = b·cs + a·sn (a = x_j, b = x_{j+half}) with
   cs = tab[t·d + j], sn = tab[t·d + half + j], or tab[T·d + t·half + j] when inverse (the
   transposed rotation: the backward). acc 0: y = that, 1: y += that. */
int rl_cuda_rope(void *q, float *y, const float *x, const float *tab, int64_t R, int64_t T, int64_t C, int d,
                 int inverse, int acc);
/* per slice s of d values (S slices, contiguous): rinv[s] = 1/max(‖x_s‖₂, eps), y = x·rinv
   (norm in double); gx += rinv·(g − y·(g·y)), the dot dropped where clamped (rinv >= 1/eps) */
int rl_cuda_l2norm(void *q, float *y, float *rinv, const float *x, int64_t S, int d, float eps);
int rl_cuda_l2norm_bwd(void *q, float *gx, const float *g, const float *y, const float *rinv, int64_t S, int d, float eps);
/* GroupNorm: R rows of C, G groups of d = C/G: mean, rstd = (var + eps)^-½ (biased, double),
   y = (x − mean)·rstd ⊙ w + b (w, b [C] or NULL: 1 / 0); stats[2(r·G + g)] = mean, [.. + 1] =
   rstd. Backward: gx += rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = g ⊙ w, x̂ = (x − mean)·rstd;
   gw += Σ_rows g ⊙ x̂, gb += Σ_rows g (rows in order, no atomics); gx, gw, gb each or NULL */
int rl_cuda_groupnorm(void *q, float *y, float *stats, const float *x, const float *w, const float *b, int64_t R,
                      int64_t C, int G, float eps);
int rl_cuda_groupnorm_bwd(void *q, float *gx, float *gw, float *gb, const float *g, const float *x, const float *w,
                          const float *stats, int64_t R, int64_t C, int G);
/* rows of C: y = softmax(x) (logspace 0) or log-softmax (1); backward from y:
   softmax gx += y ⊙ (g − Σ g⊙y), log-softmax gx += g − exp(y)·Σ g */
int rl_cuda_softmax(void *q, float *y, const float *x, int64_t R, int64_t C, int logspace);
int rl_cuda_softmax_bwd(void *q, float *gx, const float *g, const float *y, int64_t R, int64_t C, int logspace);
/* cross entropy over R rows of V logits: lse[r] = log Σ_j exp x[r][j] (every row), loss[0] =
   inv_count · Σ_{r: 0 <= tg[r] < V} (lse[r] − x[r][tg[r]]) (double, one block); tg DEVICE
   int32, negative = ignored (and >= V, which the caller refuses). Backward, g = gloss[0]
   (DEVICE) · inv_count: gx[r] += g·(softmax(x[r]) − onehot(tg[r])) for the rows counted */
int rl_cuda_cross_entropy(void *q, float *loss, float *lse, const float *x, const int32_t *tg, int64_t R, int64_t V,
                          float inv_count);
int rl_cuda_cross_entropy_bwd(void *q, float *gx, const float *gloss, const float *x, const float *lse,
                              const int32_t *tg, int64_t R, int64_t V, float inv_count);
/* KL(teacher ‖ student), rows of V: aux[3r] = lse of s[r], aux[3r+1] = lse of t[r], aux[3r+2]
   = kl_r = Σ_j p_t (lt − ls) (double); loss[0] = mean of kl_r (double). Backward, g =
   gloss[0] / R: gs += g·(p_s − p_t), gt += g·p_t·(lt − ls − kl_r); gs, gt each or NULL */
int rl_cuda_kl_div(void *q, float *loss, float *aux, const float *s, const float *t, int64_t R, int64_t V);
int rl_cuda_kl_div_bwd(void *q, float *gs, float *gt, const float *gloss, const float *s, const float *t,
                       const float *aux, int64_t R, int64_t V);
/* rl_kl_head's vocabulary chunks (radlads.h rl__cpu_kl_chunk): the rows' running statistics
   st [R][5] (doubles: max s, Σe^(s−max), max t, Σe^(t−max), Σe^(t−max)(t−s)) updated with
   the chunk s, t [R, n] (first: started); last: finished (log Σe^s, –, log Σe^t, –, the row's
   KL) and loss[0] = their mean. Backward: gs = gloss[0]/R · (e^(s − log Σe^s) − e^(t − log Σe^t)). */
int rl_cuda_kl_chunk(void *q, double *st, float *loss, const float *s, const float *t, int64_t R, int64_t n, int first, int last);
int rl_cuda_kl_chunk_bwd(void *q, float *gs, const float *gloss, const float *s, const float *t, const double *st, int64_t R, int64_t n);
/* RADLADS step-1 loss: norms[r] = ‖y_r − t_r‖₂ (double), loss[0] = Σ_r norms[r] / (R·√C)
   (double). Backward, g = gloss[0] / (R·√C): gy += g·(y − t)/norms[r], gt −= the same (0
   where the norm is 0); gy, gt each or NULL */
int rl_cuda_l2_dist(void *q, float *loss, float *norms, const float *y, const float *t, int64_t R, int64_t C);
int rl_cuda_l2_dist_bwd(void *q, float *gy, float *gt, const float *gloss, const float *y, const float *t,
                        const float *norms, int64_t R, int64_t C);

/* Host-pointer versions (what radlads.h calls). Same arguments and shapes as above, all
   in host memory. The forwards may hand back ck (host, or NULL), e.g. into the CPU op's
   kept-state buffer so that a CPU backward can follow. The backwards take state_in (or
   NULL) instead of ck/sa: they rerun the forward on the GPU to rebuild them. Gradients
   are accumulated into the host buffers. */
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
}

/* ==== errors ============================================================== */
static thread_local char rl__cu_errbuf[512];

static int rl__cu_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rl__cu_errbuf, sizeof rl__cu_errbuf, fmt, ap);
    va_end(ap);
    return code;
}

/* evaluate a CUDA runtime call (RL_CU) or a cuBLAS call (RL_CUBLAS); on failure record it,
   with the library's message for the status, and jump to `fail` with rc = -2 */
#define RL_CU_CALL(type, ok, message, call)                                                                   \
    do {                                                                                                      \
        type rl_e_ = (call);                                                                                  \
        if (rl_e_ != (ok)) {                                                                                  \
            rc = rl__cu_fail(-2, "%s: %s (%s, radlads_cuda.cu:%d)", rl__cu_what, message(rl_e_), #call, __LINE__); \
            goto fail;                                                                                        \
        }                                                                                                     \
    } while (0)
#define RL_CU(call) RL_CU_CALL(cudaError_t, cudaSuccess, cudaGetErrorString, call)
#define RL_CUBLAS(call) RL_CU_CALL(cublasStatus_t, CUBLAS_STATUS_SUCCESS, cublasGetStatusString, call)

extern "C" const char *rl_cuda_last_error(void) { return rl__cu_errbuf; }

extern "C" int rl_cuda_available(void) {
    int n = 0, dev = 0, major = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        if (e != cudaSuccess) (void)cudaGetLastError(); /* clear the sticky "no driver" error */
        rl__cu_fail(0, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 0;
    }
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        rl__cu_fail(0, "CUDA device %d: cannot read its compute capability", dev);
        return 0;
    }
    if (major < 8) {
        rl__cu_fail(0, "CUDA device %d has compute capability %d.x; radlads_cuda is built for 8.0 and newer", dev, major);
        return 0;
    }
    return 1;
}

extern "C" int rl_cuda_mem_info(size_t *free_b, size_t *total_b) {
    cudaError_t e = cudaMemGetInfo(free_b, total_b);
    if (e == cudaSuccess) return 0;
    (void)cudaGetLastError();
    return rl__cu_fail(-2, "cudaMemGetInfo: %s", cudaGetErrorString(e));
}

extern "C" const char *rl_cuda_device_name(void) {
    static thread_local char name[320];
    cudaDeviceProp pr;
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&pr, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        return "none";
    }
    snprintf(name, sizeof name, "%s (compute capability %d.%d, %d SMs)", pr.name, pr.major, pr.minor, pr.multiProcessorCount);
    return name;
}

extern "C" size_t rl_cuda_ck_floats(int64_t B, int64_t T, int H, int N) {
    if (B < 1 || T < 1 || H < 1 || N < 1) return 0;
    return (size_t)B * (size_t)H * (size_t)((T + RL_CK - 1) / RL_CK) * (size_t)N * (size_t)N;
}

extern "C" void *rl_cuda_malloc(size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        rl__cu_fail(-2, "rl_cuda_malloc(%zu bytes): %s", bytes, cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

extern "C" void rl_cuda_free(void *p) {
    if (p) (void)cudaFree(p);
}

extern "C" int rl_cuda_copy(void *dst, const void *src, size_t bytes, int kind) {
    cudaError_t e;
    if (kind < 1 || kind > 3 || (bytes && (!dst || !src))) return rl__cu_fail(-1, "rl_cuda_copy: bad arguments");
    if (!bytes) return 0;
    e = cudaMemcpy(dst, src, bytes, kind == 1 ? cudaMemcpyHostToDevice : kind == 2 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice);
    return e == cudaSuccess ? 0 : rl__cu_fail(-2, "rl_cuda_copy(%zu bytes): %s", bytes, cudaGetErrorString(e));
}

extern "C" int rl_cuda_zero(void *p, size_t bytes) {
    cudaError_t e = bytes ? cudaMemset(p, 0, bytes) : cudaSuccess;
    return e == cudaSuccess ? 0 : rl__cu_fail(-2, "rl_cuda_zero(%zu bytes): %s", bytes, cudaGetErrorString(e));
}

extern "C" int rl_cuda_sync(void) {
    cudaError_t e = cudaDeviceSynchronize();
    return e == cudaSuccess ? 0 : rl__cu_fail(-2, "rl_cuda_sync: %s", cudaGetErrorString(e));
}

/* ==== device helpers ====================================================== */

static __device__ __forceinline__ float4 rl__ld4(const float *p) {
#ifdef RL_CUDA_EMULATE
    return make_float4(p[0], p[1], p[2], p[3]);
#else
    return *reinterpret_cast<const float4 *>(p); /* shared memory, 16-byte aligned */
#endif
}
/* component q of a float4; q is a compile-time constant after unrolling */
static __device__ __forceinline__ float rl__at(const float4 &v, int q) {
    return q == 0 ? v.x : q == 1 ? v.y : q == 2 ? v.z : v.w;
}
static __device__ __forceinline__ int rl__imin(int a, int b) { return a < b ? a : b; }

/* Move an N×N row-major matrix M (global, leading dimension N) into per-thread rows:
   thread p gets x[q] = M[p][q] (zero outside N×N or when g is NULL). Coalesced through a
   shared tile of NT×33 floats, 32 columns at a time. Every thread of the block must call it. */
template <int NT>
static __device__ __forceinline__ void rl__rows_load(float (&x)[NT], const float *g, int N, float *tile) {
    const int p = threadIdx.x;
#pragma unroll
    for (int c = 0; c < NT / 32; c++) {
        __syncthreads(); /* the tile is free */
        for (int m = 0; m < 32; m++) {
            const int e = m * NT + p, row = e >> 5, col = e & 31, gc = c * 32 + col;
            tile[row * RL_TILE_LD + col] = (g && row < N && gc < N) ? g[(long long)row * N + gc] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int q = 0; q < 32; q++) x[c * 32 + q] = tile[p * RL_TILE_LD + q];
    }
}

/* The reverse: thread p's x[q] goes to M[p][q] for p, q < N. Every thread must call it. */
template <int NT>
static __device__ __forceinline__ void rl__rows_store(const float (&x)[NT], float *g, int N, float *tile) {
    const int p = threadIdx.x;
#pragma unroll
    for (int c = 0; c < NT / 32; c++) {
        __syncthreads();
#pragma unroll
        for (int q = 0; q < 32; q++) tile[p * RL_TILE_LD + q] = x[c * 32 + q];
        __syncthreads();
        for (int m = 0; m < 32; m++) {
            const int e = m * NT + p, row = e >> 5, col = e & 31, gc = c * 32 + col;
            if (row < N && gc < N) g[(long long)row * N + gc] = tile[row * RL_TILE_LD + col];
        }
    }
}

/* ==== RWKV6 kernels ======================================================= */

/* Forward, value layout: thread i holds S[j][i] for all j in S[].
   smem: s_r (r·N^-½), s_w (w), s_kp (k(1−w)), s_v: [RL_CK][NT] each. */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv6_fwd(int T, int H, int KVH, int N, float scale, const float *__restrict__ r,
                                                   const float *__restrict__ k, const float *__restrict__ v,
                                                   const float *__restrict__ logw, const float *__restrict__ s0,
                                                   float *__restrict__ y, float *__restrict__ sT, float *__restrict__ ck) {
    float *s_r = RL_SMEM, *s_w = s_r + RL_CK * NT, *s_kp = s_w + RL_CK * NT, *s_v = s_kp + RL_CK * NT;
    const int p = threadIdx.x, bh = blockIdx.x, b = bh / H, h = bh % H, kvh = h / (H / KVH);
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, Ck = (long long)KVH * N, NN = (long long)N * N;
    const long long qo = (long long)b * T * C + (long long)h * N + p;    /* (b, t=0, h, p) in r, logw, y */
    const long long ko = (long long)b * T * Ck + (long long)kvh * N + p; /* (b, t=0, kvh, p) in k, v */
    float S[NT];
#pragma unroll
    for (int j = 0; j < NT; j++) S[j] = (s0 && act && j < N) ? s0[bh * NN + (long long)j * N + p] : 0.0f;
    for (int c = 0; c < n_ck; c++) {
        const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
        if (ck && act) {
            float *d = ck + ((long long)bh * n_ck + c) * NN + p;
#pragma unroll
            for (int j = 0; j < NT; j++)
                if (j < N) d[(long long)j * N] = S[j];
        }
        __syncthreads(); /* everyone is done with the previous stretch */
        for (int m = 0; m < RL_CK; m++) {
            float xr = 0, xw = 0, xkp = 0, xv = 0; /* padding (p >= N or past T): w = 0 keeps S = 0 */
            if (act && m < len) {
                const long long t = t0 + m;
                const float w = expf(logw[qo + t * C]);
                xr = r[qo + t * C] * scale;
                xw = w;
                xkp = k[ko + t * Ck] * (1.0f - w);
                xv = v[ko + t * Ck];
            }
            s_r[m * NT + p] = xr;
            s_w[m * NT + p] = xw;
            s_kp[m * NT + p] = xkp;
            s_v[m * NT + p] = xv;
        }
        __syncthreads();
        for (int m = 0; m < len; m++) {
            const float *rs = s_r + m * NT, *ws = s_w + m * NT, *kps = s_kp + m * NT;
            const float vi = s_v[m * NT + p];
            float acc = 0;
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 w4 = rl__ld4(ws + j4), k4 = rl__ld4(kps + j4), r4 = rl__ld4(rs + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const int j = j4 + q;
                    S[j] = rl__at(w4, q) * S[j] + rl__at(k4, q) * vi; /* S[j][i] = w S + k' v */
                    acc += rl__at(r4, q) * S[j];                      /* y[i] += N^-½ r[j] S[j][i] (after) */
                }
            }
            if (y && act) y[qo + (long long)(t0 + m) * C] = acc;
        }
    }
    if (sT && act) {
#pragma unroll
        for (int j = 0; j < NT; j++)
            if (j < N) sT[bh * NN + (long long)j * N + p] = S[j];
    }
}

/* Backward A, value layout: thread i holds G[j][i] (G = dL/dS) for all j. Walking t down:
   G += N^-½ rᵀdy_t;  dv[i] += Σ_j k'[j] G[j][i];  G = diag(w) G. At the end dstate_in += G.
   dv goes to dvo[(b*T + t)*dv_ld + col + i] with col = h*N (per query head, a workspace)
   when dv_perq, else kvh*N (dv itself, H == KVH). smem: s_r, s_w, s_kp, s_dy. */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv6_bwd_v(int T, int H, int KVH, int N, float scale, const float *__restrict__ r,
                                                     const float *__restrict__ k, const float *__restrict__ logw,
                                                     const float *__restrict__ dy, const float *__restrict__ dsT,
                                                     float *__restrict__ dvo, long long dv_ld, int dv_perq,
                                                     float *__restrict__ ds0) {
    float *s_r = RL_SMEM, *s_w = s_r + RL_CK * NT, *s_kp = s_w + RL_CK * NT, *s_dy = s_kp + RL_CK * NT;
    const int p = threadIdx.x, bh = blockIdx.x, b = bh / H, h = bh % H, kvh = h / (H / KVH);
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, Ck = (long long)KVH * N, NN = (long long)N * N;
    const long long qo = (long long)b * T * C + (long long)h * N + p;
    const long long ko = (long long)b * T * Ck + (long long)kvh * N + p;
    const long long vo = (long long)b * T * dv_ld + (long long)(dv_perq ? h : kvh) * N + p;
    float G[NT];
#pragma unroll
    for (int j = 0; j < NT; j++) G[j] = (dsT && act && j < N) ? dsT[bh * NN + (long long)j * N + p] : 0.0f;
    for (int c = n_ck - 1; c >= 0; c--) {
        const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
        __syncthreads();
        for (int m = 0; m < RL_CK; m++) {
            float xr = 0, xw = 0, xkp = 0, xdy = 0;
            if (act && m < len) {
                const long long t = t0 + m;
                const float w = expf(logw[qo + t * C]);
                xr = r[qo + t * C] * scale;
                xw = w;
                xkp = k[ko + t * Ck] * (1.0f - w);
                xdy = dy ? dy[qo + t * C] : 0.0f;
            }
            s_r[m * NT + p] = xr;
            s_w[m * NT + p] = xw;
            s_kp[m * NT + p] = xkp;
            s_dy[m * NT + p] = xdy;
        }
        __syncthreads();
        for (int m = len - 1; m >= 0; m--) {
            const float *rs = s_r + m * NT, *ws = s_w + m * NT, *kps = s_kp + m * NT;
            const float dyi = s_dy[m * NT + p];
            float acc = 0;
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 w4 = rl__ld4(ws + j4), k4 = rl__ld4(kps + j4), r4 = rl__ld4(rs + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const int j = j4 + q;
                    const float g = G[j] + rl__at(r4, q) * dyi; /* G[j][i] += N^-½ r[j] dy[i] */
                    acc += rl__at(k4, q) * g;                   /* dv[i] += k'[j] G[j][i] */
                    G[j] = g * rl__at(w4, q);                   /* G[j][i] *= w[j] */
                }
            }
            if (dvo && act) dvo[vo + (long long)(t0 + m) * dv_ld] += acc;
        }
    }
    if (ds0 && act) {
#pragma unroll
        for (int j = 0; j < NT; j++)
            if (j < N) ds0[bh * NN + (long long)j * N + p] += G[j];
    }
}

/* Backward B, key layout: thread j holds row j of S and of G. Per stretch (last first):
   recompute S_{t0} .. S_{t0+len-1} (the states before each token) from the kept state into
   the block's scratch, with dr[j] = N^-½ Σ_i S_t[j][i] dy_t[i] on the way (S after the
   token); then with G (parked in scratch slot RL_CK between stretches), walking t down:
   G[j][·] += N^-½ r[j] dy;  dk'[j] = Σ_i G[j][i] v[i];  dw[j] = Σ_i S_{t−1}[j][i] G[j][i];
   dk[j] += dk'(1−w);  dlogw[j] += w (dw − dk' k[j]);  G[j][·] *= w[j].
   dk goes to dko like dv in kernel A. Blocks loop over (b, h) (grid may be smaller than
   B*H: scratch is per block). smem: s_v, s_dy (broadcast), s_r, s_lw, s_k (own), tile. */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv6_bwd_k(int BH, int T, int H, int KVH, int N, float scale,
                                                     const float *__restrict__ r, const float *__restrict__ k,
                                                     const float *__restrict__ v, const float *__restrict__ logw,
                                                     const float *__restrict__ ck, const float *__restrict__ dy,
                                                     const float *__restrict__ dsT, float *__restrict__ dr,
                                                     float *__restrict__ dko, long long dk_ld, int dk_perq,
                                                     float *__restrict__ dlw, float *__restrict__ scratch) {
    float *s_v = RL_SMEM, *s_dy = s_v + RL_CK * NT, *s_r = s_dy + RL_CK * NT, *s_lw = s_r + RL_CK * NT;
    float *s_k = s_lw + RL_CK * NT, *tile = s_k + RL_CK * NT;
    const int p = threadIdx.x;
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, Ck = (long long)KVH * N, NN = (long long)N * N;
    float *scr = scratch + (long long)blockIdx.x * (RL_CK + 1) * NT * NT + p; /* slot m, row i: [(m*NT + i)*NT] */
    for (int bh = blockIdx.x; bh < BH; bh += gridDim.x) {
        const int b = bh / H, h = bh % H, kvh = h / (H / KVH);
        const long long qo = (long long)b * T * C + (long long)h * N + p;
        const long long ko = (long long)b * T * Ck + (long long)kvh * N + p;
        const long long kdo = (long long)b * T * dk_ld + (long long)(dk_perq ? h : kvh) * N + p;
        for (int i = 0; i < NT; i++) /* G_T = dstate_out, row j (strided reads, once per (b, h)) */
            scr[((long long)RL_CK * NT + i) * NT] = (dsT && act && i < N) ? dsT[bh * NN + (long long)p * N + i] : 0.0f;
        for (int c = n_ck - 1; c >= 0; c--) {
            const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
            __syncthreads();
            for (int m = 0; m < RL_CK; m++) {
                float xv = 0, xdy = 0, xr = 0, xlw = 0, xk = 0;
                if (act && m < len) {
                    const long long t = t0 + m;
                    xv = v[ko + t * Ck];
                    xdy = dy ? dy[qo + t * C] : 0.0f;
                    xr = r[qo + t * C];
                    xlw = logw[qo + t * C];
                    xk = k[ko + t * Ck];
                }
                s_v[m * NT + p] = xv;
                s_dy[m * NT + p] = xdy;
                s_r[m * NT + p] = xr;
                s_lw[m * NT + p] = xlw;
                s_k[m * NT + p] = xk;
            }
            /* (rl__rows_load starts with a barrier: the staged values are visible after it) */
            {
                float S[NT];
                rl__rows_load<NT>(S, ck + ((long long)bh * n_ck + c) * NN, N, tile);
                for (int m = 0; m < len; m++) {
                    const float *vs = s_v + m * NT, *dys = s_dy + m * NT;
                    const float w = expf(s_lw[m * NT + p]), kp = s_k[m * NT + p] * (1.0f - w);
                    float acc = 0;
#pragma unroll
                    for (int i = 0; i < NT; i++) scr[((long long)m * NT + i) * NT] = S[i]; /* S before token t0+m */
#pragma unroll
                    for (int i4 = 0; i4 < NT; i4 += 4) {
                        const float4 v4 = rl__ld4(vs + i4), d4 = rl__ld4(dys + i4);
#pragma unroll
                        for (int q = 0; q < 4; q++) {
                            const int i = i4 + q;
                            S[i] = w * S[i] + kp * rl__at(v4, q); /* S[j][i] = w S + k' v */
                            acc += S[i] * rl__at(d4, q);          /* Σ_i S_t[j][i] dy[i] */
                        }
                    }
                    if (dr && act) dr[qo + (long long)(t0 + m) * C] += scale * acc;
                }
            }
            {
                float G[NT];
#pragma unroll
                for (int i = 0; i < NT; i++) G[i] = scr[((long long)RL_CK * NT + i) * NT];
                for (int m = len - 1; m >= 0; m--) {
                    const float *vs = s_v + m * NT, *dys = s_dy + m * NT;
                    const float w = expf(s_lw[m * NT + p]), kj = s_k[m * NT + p], srj = scale * s_r[m * NT + p];
                    float dk = 0, dw = 0;
#pragma unroll
                    for (int i4 = 0; i4 < NT; i4 += 4) {
                        const float4 v4 = rl__ld4(vs + i4), d4 = rl__ld4(dys + i4);
#pragma unroll
                        for (int q = 0; q < 4; q++) {
                            const int i = i4 + q;
                            const float g = G[i] + srj * rl__at(d4, q);      /* G[j][i] += N^-½ r[j] dy[i] */
                            dk += g * rl__at(v4, q);                          /* Σ_i G v */
                            dw += scr[((long long)m * NT + i) * NT] * g;      /* Σ_i S_{t−1} ⊙ G */
                            G[i] = g * w;
                        }
                    }
                    if (act) {
                        const long long t = t0 + m;
                        if (dko) dko[kdo + t * dk_ld] += dk * (1.0f - w);
                        if (dlw) dlw[qo + t * C] += w * (dw - dk * kj); /* via w and k' = k(1−w) */
                    }
                }
#pragma unroll
                for (int i = 0; i < NT; i++) scr[((long long)RL_CK * NT + i) * NT] = G[i];
            }
        }
    }
}

/* dst[row, kvh*N + q] += Σ_{hh<G} ws[row, (kvh*G + hh)*N + q]: the per-query-head dk or dv
   of a GQA group summed into its kv head. */
__global__ void rl__k_gqa_sum(long long rows, int H, int KVH, int N, const float *__restrict__ ws, float *__restrict__ dst) {
    const long long n = rows * KVH * N, KN = (long long)KVH * N;
    const int G = H / KVH;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
        const long long row = e / KN;
        const int rem = (int)(e - row * KN), kvh = rem / N, q = rem - kvh * N;
        const float *src = ws + row * H * N + (long long)kvh * G * N + q;
        float s = 0;
        for (int hh = 0; hh < G; hh++) s += src[(long long)hh * N];
        dst[e] += s;
    }
}

/* ==== RWKV7 kernels ======================================================= */

/* Forward, value layout: thread i holds row S[i][·].  sa = S·a (before), S = S·diag(w) +
   sa·bᵀ + v·kᵀ, y = S·r. sa is saved for the backward when sa_out is given.
   smem: s_r, s_w, s_k, s_a, s_b (broadcast), s_v (own), tile. */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv7_fwd(int T, int H, int N, const float *__restrict__ r,
                                                   const float *__restrict__ w, const float *__restrict__ k,
                                                   const float *__restrict__ v, const float *__restrict__ a,
                                                   const float *__restrict__ bb, const float *__restrict__ s0,
                                                   float *__restrict__ y, float *__restrict__ sT,
                                                   float *__restrict__ ck, float *__restrict__ sa_out) {
    float *s_r = RL_SMEM, *s_w = s_r + RL_CK * NT, *s_k = s_w + RL_CK * NT, *s_a = s_k + RL_CK * NT;
    float *s_b = s_a + RL_CK * NT, *s_v = s_b + RL_CK * NT, *tile = s_v + RL_CK * NT;
    const int p = threadIdx.x, bh = blockIdx.x, b = bh / H, h = bh % H;
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, NN = (long long)N * N;
    const long long qo = (long long)b * T * C + (long long)h * N + p;
    float S[NT];
    rl__rows_load<NT>(S, s0 ? s0 + bh * NN : NULL, N, tile);
    for (int c = 0; c < n_ck; c++) {
        const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
        if (ck) rl__rows_store<NT>(S, ck + ((long long)bh * n_ck + c) * NN, N, tile); /* uniform branch */
        __syncthreads();
        for (int m = 0; m < RL_CK; m++) {
            float xr = 0, xw = 0, xk = 0, xa = 0, xb = 0, xv = 0; /* padding: all zero keeps S = 0 there */
            if (act && m < len) {
                const long long o = qo + (long long)(t0 + m) * C;
                xr = r[o];
                xw = w[o];
                xk = k[o];
                xa = a[o];
                xb = bb[o];
                xv = v[o];
            }
            s_r[m * NT + p] = xr;
            s_w[m * NT + p] = xw;
            s_k[m * NT + p] = xk;
            s_a[m * NT + p] = xa;
            s_b[m * NT + p] = xb;
            s_v[m * NT + p] = xv;
        }
        __syncthreads();
        for (int m = 0; m < len; m++) {
            const float *rs = s_r + m * NT, *ws = s_w + m * NT, *ks = s_k + m * NT, *as = s_a + m * NT, *bs = s_b + m * NT;
            const float vi = s_v[m * NT + p];
            float sa = 0, acc = 0;
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 a4 = rl__ld4(as + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) sa += S[j4 + q] * rl__at(a4, q); /* sa[i] = Σ_j S[i][j] a[j], S before */
            }
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 w4 = rl__ld4(ws + j4), b4 = rl__ld4(bs + j4), k4 = rl__ld4(ks + j4), r4 = rl__ld4(rs + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const int j = j4 + q;
                    S[j] = S[j] * rl__at(w4, q) + sa * rl__at(b4, q) + vi * rl__at(k4, q);
                    acc += S[j] * rl__at(r4, q); /* y[i] = Σ_j S[i][j] r[j], S after */
                }
            }
            if (act) {
                const long long o = qo + (long long)(t0 + m) * C;
                if (y) y[o] = acc;
                if (sa_out) sa_out[o] = sa;
            }
        }
    }
    if (sT) rl__rows_store<NT>(S, sT + bh * NN, N, tile);
}

/* Backward 1, value layout: thread i holds row G[i][·]. Walking t down:
   G[i][·] += dy[i] r;  gb[i] = Σ_j G[i][j] b[j];  dv[i] += Σ_j G[i][j] k[j];
   G[i][·] = G[i][·] ⊙ w + gb[i] a.  gb is written for kernel 2 (gb_out, [B*T, H*N]).
   smem: s_r, s_w, s_k, s_a, s_b (broadcast), s_dy (own), tile. */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv7_bwd_v(int T, int H, int N, const float *__restrict__ r,
                                                     const float *__restrict__ w, const float *__restrict__ k,
                                                     const float *__restrict__ a, const float *__restrict__ bb,
                                                     const float *__restrict__ dy, const float *__restrict__ dsT,
                                                     float *__restrict__ dv, float *__restrict__ gb_out) {
    float *s_r = RL_SMEM, *s_w = s_r + RL_CK * NT, *s_k = s_w + RL_CK * NT, *s_a = s_k + RL_CK * NT;
    float *s_b = s_a + RL_CK * NT, *s_dy = s_b + RL_CK * NT, *tile = s_dy + RL_CK * NT;
    const int p = threadIdx.x, bh = blockIdx.x, b = bh / H, h = bh % H;
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, NN = (long long)N * N;
    const long long qo = (long long)b * T * C + (long long)h * N + p;
    float G[NT];
    rl__rows_load<NT>(G, dsT ? dsT + bh * NN : NULL, N, tile);
    for (int c = n_ck - 1; c >= 0; c--) {
        const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
        __syncthreads();
        for (int m = 0; m < RL_CK; m++) {
            float xr = 0, xw = 0, xk = 0, xa = 0, xb = 0, xdy = 0;
            if (act && m < len) {
                const long long o = qo + (long long)(t0 + m) * C;
                xr = r[o];
                xw = w[o];
                xk = k[o];
                xa = a[o];
                xb = bb[o];
                xdy = dy ? dy[o] : 0.0f;
            }
            s_r[m * NT + p] = xr;
            s_w[m * NT + p] = xw;
            s_k[m * NT + p] = xk;
            s_a[m * NT + p] = xa;
            s_b[m * NT + p] = xb;
            s_dy[m * NT + p] = xdy;
        }
        __syncthreads();
        for (int m = len - 1; m >= 0; m--) {
            const float *rs = s_r + m * NT, *ws = s_w + m * NT, *ks = s_k + m * NT, *as = s_a + m * NT, *bs = s_b + m * NT;
            const float dyi = s_dy[m * NT + p];
            float g = 0, dvi = 0;
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 r4 = rl__ld4(rs + j4), b4 = rl__ld4(bs + j4), k4 = rl__ld4(ks + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const int j = j4 + q;
                    G[j] += dyi * rl__at(r4, q); /* G[i][j] += dy[i] r[j] */
                    g += G[j] * rl__at(b4, q);
                    dvi += G[j] * rl__at(k4, q);
                }
            }
#pragma unroll
            for (int j4 = 0; j4 < NT; j4 += 4) {
                const float4 w4 = rl__ld4(ws + j4), a4 = rl__ld4(as + j4);
#pragma unroll
                for (int q = 0; q < 4; q++) G[j4 + q] = G[j4 + q] * rl__at(w4, q) + g * rl__at(a4, q);
            }
            if (act) {
                const long long o = qo + (long long)(t0 + m) * C;
                if (dv) dv[o] += dvi;
                gb_out[o] = g;
            }
        }
    }
}

/* Backward 2, key layout: thread j holds column j of S and of G (S[·][j], G[·][j]).
   Per stretch (last first): recompute the states before each token into the block's
   scratch, S[i][j] = S[i][j] w[j] + sa[i] b[j] + v[i] k[j] (sa saved by the forward), with
   dr[j] = Σ_i S_t[i][j] dy[i] on the way; then walking t down with G (parked in scratch
   slot RL_CK between stretches):
   G[·][j] += dy r[j];  dk[j] = Σ_i G v;  db[j] = Σ_i G sa;  dw[j] = Σ_i G ⊙ S_{t−1};
   da[j] = Σ_i S_{t−1}[i][j] gb[i];  G[i][j] = G[i][j] w[j] + gb[i] a[j].
   At the end dstate_in += G. smem: s_r, s_w, s_k, s_a, s_b (own), s_v, s_sa, s_dy, s_gb
   (broadcast). Blocks loop over (b, h). */
template <int NT>
__global__ void __launch_bounds__(NT) rl__k_wkv7_bwd_k(int BH, int T, int H, int N, const float *__restrict__ r,
                                                     const float *__restrict__ w, const float *__restrict__ k,
                                                     const float *__restrict__ v, const float *__restrict__ a,
                                                     const float *__restrict__ bb, const float *__restrict__ ck,
                                                     const float *__restrict__ sa, const float *__restrict__ gb,
                                                     const float *__restrict__ dy, const float *__restrict__ dsT,
                                                     float *__restrict__ dr, float *__restrict__ dw,
                                                     float *__restrict__ dk, float *__restrict__ da,
                                                     float *__restrict__ db, float *__restrict__ ds0,
                                                     float *__restrict__ scratch) {
    float *s_r = RL_SMEM, *s_w = s_r + RL_CK * NT, *s_k = s_w + RL_CK * NT, *s_a = s_k + RL_CK * NT;
    float *s_b = s_a + RL_CK * NT, *s_v = s_b + RL_CK * NT, *s_sa = s_v + RL_CK * NT, *s_dy = s_sa + RL_CK * NT;
    float *s_gb = s_dy + RL_CK * NT;
    const int p = threadIdx.x;
    const int n_ck = (T + RL_CK - 1) / RL_CK;
    const bool act = p < N;
    const long long C = (long long)H * N, NN = (long long)N * N;
    float *scr = scratch + (long long)blockIdx.x * (RL_CK + 1) * NT * NT + p;
    for (int bh = blockIdx.x; bh < BH; bh += gridDim.x) {
        const int b = bh / H, h = bh % H;
        const long long qo = (long long)b * T * C + (long long)h * N + p;
        for (int i = 0; i < NT; i++) /* G_T = dstate_out, column j (coalesced) */
            scr[((long long)RL_CK * NT + i) * NT] = (dsT && act && i < N) ? dsT[bh * NN + (long long)i * N + p] : 0.0f;
        for (int c = n_ck - 1; c >= 0; c--) {
            const int t0 = c * RL_CK, len = rl__imin(RL_CK, T - t0);
            __syncthreads();
            for (int m = 0; m < RL_CK; m++) {
                float xr = 0, xw = 0, xk = 0, xa = 0, xb = 0, xv = 0, xsa = 0, xdy = 0, xgb = 0;
                if (act && m < len) {
                    const long long o = qo + (long long)(t0 + m) * C;
                    xr = r[o];
                    xw = w[o];
                    xk = k[o];
                    xa = a[o];
                    xb = bb[o];
                    xv = v[o];
                    xsa = sa[o];
                    xdy = dy ? dy[o] : 0.0f;
                    xgb = gb[o];
                }
                s_r[m * NT + p] = xr;
                s_w[m * NT + p] = xw;
                s_k[m * NT + p] = xk;
                s_a[m * NT + p] = xa;
                s_b[m * NT + p] = xb;
                s_v[m * NT + p] = xv;
                s_sa[m * NT + p] = xsa;
                s_dy[m * NT + p] = xdy;
                s_gb[m * NT + p] = xgb;
            }
            __syncthreads();
            {
                float S[NT];
                const float *src = ck + ((long long)bh * n_ck + c) * NN + p;
#pragma unroll
                for (int i = 0; i < NT; i++) S[i] = (act && i < N) ? src[(long long)i * N] : 0.0f; /* column j */
                for (int m = 0; m < len; m++) {
                    const float *vs = s_v + m * NT, *sas = s_sa + m * NT, *dys = s_dy + m * NT;
                    const float wj = s_w[m * NT + p], bj = s_b[m * NT + p], kj = s_k[m * NT + p];
                    float acc = 0;
#pragma unroll
                    for (int i = 0; i < NT; i++) scr[((long long)m * NT + i) * NT] = S[i]; /* S before token t0+m */
#pragma unroll
                    for (int i4 = 0; i4 < NT; i4 += 4) {
                        const float4 v4 = rl__ld4(vs + i4), sa4 = rl__ld4(sas + i4), d4 = rl__ld4(dys + i4);
#pragma unroll
                        for (int q = 0; q < 4; q++) {
                            const int i = i4 + q;
                            S[i] = S[i] * wj + rl__at(sa4, q) * bj + rl__at(v4, q) * kj;
                            acc += S[i] * rl__at(d4, q); /* dr[j] = Σ_i S_t[i][j] dy[i] */
                        }
                    }
                    if (dr && act) dr[qo + (long long)(t0 + m) * C] += acc;
                }
            }
            {
                float G[NT];
#pragma unroll
                for (int i = 0; i < NT; i++) G[i] = scr[((long long)RL_CK * NT + i) * NT];
                for (int m = len - 1; m >= 0; m--) {
                    const float *vs = s_v + m * NT, *sas = s_sa + m * NT, *dys = s_dy + m * NT, *gbs = s_gb + m * NT;
                    const float rj = s_r[m * NT + p], wj = s_w[m * NT + p], aj = s_a[m * NT + p];
                    float sdk = 0, sdb = 0, sdw = 0, sda = 0;
#pragma unroll
                    for (int i4 = 0; i4 < NT; i4 += 4) {
                        const float4 v4 = rl__ld4(vs + i4), sa4 = rl__ld4(sas + i4), d4 = rl__ld4(dys + i4),
                                     g4 = rl__ld4(gbs + i4);
#pragma unroll
                        for (int q = 0; q < 4; q++) {
                            const int i = i4 + q;
                            const float sp = scr[((long long)m * NT + i) * NT]; /* S_{t−1}[i][j] */
                            const float g = G[i] + rl__at(d4, q) * rj;         /* G[i][j] += dy[i] r[j] */
                            sdk += g * rl__at(v4, q);
                            sdb += g * rl__at(sa4, q);
                            sdw += g * sp;
                            sda += sp * rl__at(g4, q);
                            G[i] = g * wj + rl__at(g4, q) * aj;
                        }
                    }
                    if (act) {
                        const long long o = qo + (long long)(t0 + m) * C;
                        if (dw) dw[o] += sdw;
                        if (dk) dk[o] += sdk;
                        if (da) da[o] += sda;
                        if (db) db[o] += sdb;
                    }
                }
#pragma unroll
                for (int i = 0; i < NT; i++) scr[((long long)RL_CK * NT + i) * NT] = G[i];
            }
        }
        if (ds0 && act)
            for (int i = 0; i < N; i++) ds0[bh * NN + (long long)i * N + p] += scr[((long long)RL_CK * NT + i) * NT];
    }
}

/* ==== host side =========================================================== */

static int rl__nt(int N) { return N <= 32 ? 32 : N <= 64 ? 64 : 128; }

/* shared-memory floats of each kernel */
static size_t rl__smem6f(int NT) { return sizeof(float) * 4 * RL_CK * (size_t)NT; }
static size_t rl__smem6b(int NT) { return sizeof(float) * (5 * RL_CK * (size_t)NT + (size_t)NT * RL_TILE_LD); }
static size_t rl__smem7f(int NT) { return sizeof(float) * (6 * RL_CK * (size_t)NT + (size_t)NT * RL_TILE_LD); }
static size_t rl__smem7k(int NT) { return sizeof(float) * 9 * RL_CK * (size_t)NT; }

static int rl__check(const char *what, int64_t B, int64_t T, int H, int KVH, int N) {
    if (B < 1 || T < 1 || H < 1 || KVH < 1 || N < 1 || N > 128 || H % KVH)
        return rl__cu_fail(-1, "%s: bad shape B %lld, T %lld, H %d, KVH %d, N %d (need B, T >= 1, 1 <= N <= 128, H %% KVH == 0)",
                           what, (long long)B, (long long)T, H, KVH, N);
    if (T > 0x7fffffffLL || B * (int64_t)H > 0x7fffffffLL || (int64_t)B * T * H * N < 0)
        return rl__cu_fail(-1, "%s: B %lld x T %lld x H %d is too large", what, (long long)B, (long long)T, H);
    return 0;
}

template <typename K>
static cudaError_t rl__smem_attr(K kern, size_t smem) {
    return cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
}

/* Blocks that can be resident at once (for the scratch-using kernels), at least 1, at most
   BH. Sets the kernel's dynamic shared memory limit first (the occupancy query needs it). */
template <typename K>
static int rl__resident(K kern, int NT, size_t smem, int BH, int *nblk) {
    const char *rl__cu_what = "radlads_cuda: occupancy";
    int rc = 0, dev = 0, sms = 0, per = 0;
    RL_CU(rl__smem_attr(kern, smem));
    RL_CU(cudaGetDevice(&dev));
    RL_CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    RL_CU(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per, kern, NT, smem));
    if (per < 1) return rl__cu_fail(-2, "radlads_cuda: a block of %d threads with %zu bytes of shared memory does not fit this GPU", NT, smem);
    *nblk = sms * per < BH ? sms * per : BH;
    return 0;
fail:
    return rc;
}

/* ---- RWKV6 ---- */

template <int NT>
static int rl__wkv6_fwd_nt(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                           const float *logw, const float *s0, float *y, float *sT, float *ck) {
    const char *rl__cu_what = "rl_cuda_wkv6_forward";
    const size_t sm = rl__smem6f(NT);
    int rc = 0;
    RL_CU(rl__smem_attr(rl__k_wkv6_fwd<NT>, sm));
    RL_LAUNCH(rl__k_wkv6_fwd<NT>, (unsigned)(B * H), NT, sm, (int)T, H, KVH, N, 1.0f / sqrtf((float)N), r, k, v, logw, s0,
              y, sT, ck);
    RL_CU(cudaGetLastError());
fail:
    return rc;
}

extern "C" int rl_cuda_wkv6_forward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                                    const float *v, const float *logw, const float *state_in, float *y,
                                    float *state_out, float *ck) {
    int rc = rl__check("rl_cuda_wkv6_forward", B, T, H, KVH, N);
    if (rc) return rc;
    if (!r || !k || !v || !logw) return rl__cu_fail(-1, "rl_cuda_wkv6_forward: r, k, v and logw are required");
    switch (rl__nt(N)) {
    case 32: return rl__wkv6_fwd_nt<32>(B, T, H, KVH, N, r, k, v, logw, state_in, y, state_out, ck);
    case 64: return rl__wkv6_fwd_nt<64>(B, T, H, KVH, N, r, k, v, logw, state_in, y, state_out, ck);
    default: return rl__wkv6_fwd_nt<128>(B, T, H, KVH, N, r, k, v, logw, state_in, y, state_out, ck);
    }
}

template <int NT>
static int rl__wkv6_bwd_nt(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k, const float *v,
                           const float *logw, const float *ck, const float *dy, const float *dsT, float *dr, float *dk,
                           float *dv, float *dlw, float *ds0) {
    const char *rl__cu_what = "rl_cuda_wkv6_backward";
    const int BH = (int)(B * H), G = H / KVH;
    const float scale = 1.0f / sqrtf((float)N);
    const long long rows = (long long)B * T, C = (long long)H * N, Ck = (long long)KVH * N;
    const int need_a = dv || ds0, need_b = dr || dk || dlw;
    const int perq = G > 1; /* GQA: per-query-head dk, dv into a workspace, then summed */
    size_t n_ws = 0, o_dk = 0, o_dv = 0, o_scr = 0;
    int nblk = 0, rc = 0;
    float *ws = NULL;
    if (need_b) {
        rc = rl__resident(rl__k_wkv6_bwd_k<NT>, NT, rl__smem6b(NT), BH, &nblk);
        if (rc) return rc;
    }
    if (perq && dk) { o_dk = n_ws; n_ws += (size_t)(rows * C); }
    if (perq && dv) { o_dv = n_ws; n_ws += (size_t)(rows * C); }
    if (need_b) { o_scr = n_ws; n_ws += (size_t)nblk * (RL_CK + 1) * NT * NT; }
    if (n_ws) RL_CU(cudaMalloc((void **)&ws, n_ws * sizeof(float)));
    if (perq && (dk || dv)) RL_CU(cudaMemset(ws, 0, (size_t)(rows * C) * (dk && dv ? 2 : 1) * sizeof(float)));
    if (need_a) {
        const size_t sm = rl__smem6f(NT);
        RL_CU(rl__smem_attr(rl__k_wkv6_bwd_v<NT>, sm));
        RL_LAUNCH(rl__k_wkv6_bwd_v<NT>, (unsigned)BH, NT, sm, (int)T, H, KVH, N, scale, r, k, logw, dy, dsT,
                  dv ? (perq ? ws + o_dv : dv) : (float *)NULL, perq ? C : Ck, perq, ds0);
        RL_CU(cudaGetLastError());
    }
    if (need_b) {
        const size_t sm = rl__smem6b(NT);
        RL_CU(rl__smem_attr(rl__k_wkv6_bwd_k<NT>, sm));
        RL_LAUNCH(rl__k_wkv6_bwd_k<NT>, (unsigned)nblk, NT, sm, BH, (int)T, H, KVH, N, scale, r, k, v, logw, ck, dy, dsT,
                  dr, dk ? (perq ? ws + o_dk : dk) : (float *)NULL, perq ? C : Ck, perq, dlw, ws + o_scr);
        RL_CU(cudaGetLastError());
    }
    if (perq && dk) {
        RL_LAUNCH(rl__k_gqa_sum, 1024u, 256, 0, rows, H, KVH, N, (const float *)(ws + o_dk), dk);
        RL_CU(cudaGetLastError());
    }
    if (perq && dv) {
        RL_LAUNCH(rl__k_gqa_sum, 1024u, 256, 0, rows, H, KVH, N, (const float *)(ws + o_dv), dv);
        RL_CU(cudaGetLastError());
    }
    RL_CU(cudaDeviceSynchronize());
fail:
    if (ws) cudaFree(ws);
    return rc;
}

extern "C" int rl_cuda_wkv6_backward(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                                     const float *v, const float *logw, const float *ck, const float *dy,
                                     const float *dstate_out, float *dr, float *dk, float *dv, float *dlogw,
                                     float *dstate_in) {
    int rc = rl__check("rl_cuda_wkv6_backward", B, T, H, KVH, N);
    if (rc) return rc;
    if (!r || !k || !v || !logw || !ck) return rl__cu_fail(-1, "rl_cuda_wkv6_backward: r, k, v, logw and ck are required");
    switch (rl__nt(N)) {
    case 32: return rl__wkv6_bwd_nt<32>(B, T, H, KVH, N, r, k, v, logw, ck, dy, dstate_out, dr, dk, dv, dlogw, dstate_in);
    case 64: return rl__wkv6_bwd_nt<64>(B, T, H, KVH, N, r, k, v, logw, ck, dy, dstate_out, dr, dk, dv, dlogw, dstate_in);
    default: return rl__wkv6_bwd_nt<128>(B, T, H, KVH, N, r, k, v, logw, ck, dy, dstate_out, dr, dk, dv, dlogw, dstate_in);
    }
}

/* ---- RWKV7 ---- */

template <int NT>
static int rl__wkv7_fwd_nt(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                           const float *v, const float *a, const float *b, const float *s0, float *y, float *sT,
                           float *ck, float *sa) {
    const char *rl__cu_what = "rl_cuda_wkv7_forward";
    const size_t sm = rl__smem7f(NT);
    int rc = 0;
    RL_CU(rl__smem_attr(rl__k_wkv7_fwd<NT>, sm));
    RL_LAUNCH(rl__k_wkv7_fwd<NT>, (unsigned)(B * H), NT, sm, (int)T, H, N, r, w, k, v, a, b, s0, y, sT, ck, sa);
    RL_CU(cudaGetLastError());
fail:
    return rc;
}

extern "C" int rl_cuda_wkv7_forward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                                    const float *v, const float *a, const float *b, const float *state_in, float *y,
                                    float *state_out, float *ck, float *sa) {
    int rc = rl__check("rl_cuda_wkv7_forward", B, T, H, H, N);
    if (rc) return rc;
    if (!r || !w || !k || !v || !a || !b) return rl__cu_fail(-1, "rl_cuda_wkv7_forward: r, w, k, v, a and b are required");
    switch (rl__nt(N)) {
    case 32: return rl__wkv7_fwd_nt<32>(B, T, H, N, r, w, k, v, a, b, state_in, y, state_out, ck, sa);
    case 64: return rl__wkv7_fwd_nt<64>(B, T, H, N, r, w, k, v, a, b, state_in, y, state_out, ck, sa);
    default: return rl__wkv7_fwd_nt<128>(B, T, H, N, r, w, k, v, a, b, state_in, y, state_out, ck, sa);
    }
}

template <int NT>
static int rl__wkv7_bwd_nt(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                           const float *v, const float *a, const float *b, const float *ck, const float *sa,
                           const float *dy, const float *dsT, float *dr, float *dw, float *dk, float *dv, float *da,
                           float *db, float *ds0) {
    const char *rl__cu_what = "rl_cuda_wkv7_backward";
    const int BH = (int)(B * H);
    const long long n_act = (long long)B * T * H * N;
    const int need_k = dr || dw || dk || da || db || ds0;
    size_t n_ws = 0;
    int nblk = 0, rc = 0;
    float *ws = NULL;
    if (!need_k && !dv) return 0;
    if (need_k) {
        rc = rl__resident(rl__k_wkv7_bwd_k<NT>, NT, rl__smem7k(NT), BH, &nblk);
        if (rc) return rc;
    }
    n_ws = (size_t)n_act + (size_t)nblk * (RL_CK + 1) * NT * NT; /* gb, then the scratch */
    RL_CU(cudaMalloc((void **)&ws, n_ws * sizeof(float)));
    {
        const size_t sm = rl__smem7f(NT);
        RL_CU(rl__smem_attr(rl__k_wkv7_bwd_v<NT>, sm));
        RL_LAUNCH(rl__k_wkv7_bwd_v<NT>, (unsigned)BH, NT, sm, (int)T, H, N, r, w, k, a, b, dy, dsT, dv, ws);
        RL_CU(cudaGetLastError());
    }
    if (need_k) {
        const size_t sm = rl__smem7k(NT);
        RL_CU(rl__smem_attr(rl__k_wkv7_bwd_k<NT>, sm));
        RL_LAUNCH(rl__k_wkv7_bwd_k<NT>, (unsigned)nblk, NT, sm, BH, (int)T, H, N, r, w, k, v, a, b, ck, sa,
                  (const float *)ws, dy, dsT, dr, dw, dk, da, db, ds0, ws + n_act);
        RL_CU(cudaGetLastError());
    }
    RL_CU(cudaDeviceSynchronize());
fail:
    if (ws) cudaFree(ws);
    return rc;
}

extern "C" int rl_cuda_wkv7_backward(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                                     const float *v, const float *a, const float *b, const float *ck, const float *sa,
                                     const float *dy, const float *dstate_out, float *dr, float *dw, float *dk,
                                     float *dv, float *da, float *db, float *dstate_in) {
    int rc = rl__check("rl_cuda_wkv7_backward", B, T, H, H, N);
    if (rc) return rc;
    if (!r || !w || !k || !v || !a || !b || !ck || !sa)
        return rl__cu_fail(-1, "rl_cuda_wkv7_backward: r, w, k, v, a, b, ck and sa are required");
    switch (rl__nt(N)) {
    case 32: return rl__wkv7_bwd_nt<32>(B, T, H, N, r, w, k, v, a, b, ck, sa, dy, dstate_out, dr, dw, dk, dv, da, db, dstate_in);
    case 64: return rl__wkv7_bwd_nt<64>(B, T, H, N, r, w, k, v, a, b, ck, sa, dy, dstate_out, dr, dw, dk, dv, da, db, dstate_in);
    default: return rl__wkv7_bwd_nt<128>(B, T, H, N, r, w, k, v, a, b, ck, sa, dy, dstate_out, dr, dw, dk, dv, da, db, dstate_in);
    }
}

/* ==== host-pointer helpers ================================================ */
/* One cudaMalloc holds every device copy; slots are laid out in order of rl__hbuf_add. */
typedef struct {
    const void *src; /* host data to copy in (NULL: none) */
    void *dst;       /* host buffer to copy out (NULL: none) */
    size_t n;        /* floats; 0 = slot unused */
    size_t off;
} rl__hslot;

typedef struct {
    rl__hslot s[24];
    int n;
    size_t total;
    float *dev;
} rl__hbuf;

/* Reserve n floats (when want); returns the slot index or -1. */
static int rl__hbuf_add(rl__hbuf *h, int want, size_t n, const void *src, void *dst) {
    rl__hslot *s;
    if (!want || !n) return -1;
    s = &h->s[h->n];
    s->src = src;
    s->dst = dst;
    s->n = n;
    s->off = h->total;
    h->total += (n + 63) & ~(size_t)63; /* 256-byte aligned slots */
    return h->n++;
}
static float *rl__hbuf_ptr(const rl__hbuf *h, int slot) { return slot < 0 ? NULL : h->dev + h->s[slot].off; }

static int rl__hbuf_alloc_in(rl__hbuf *h, const char *rl__cu_what) {
    int rc = 0, i;
    h->dev = NULL;
    if (!h->total) return 0;
    RL_CU(cudaMalloc((void **)&h->dev, h->total * sizeof(float)));
    for (i = 0; i < h->n; i++)
        if (h->s[i].src) RL_CU(cudaMemcpy(h->dev + h->s[i].off, h->s[i].src, h->s[i].n * sizeof(float), cudaMemcpyHostToDevice));
    return 0;
fail:
    return rc;
}

/* Copy the outputs back. A failure here may leave some host outputs written and others
   not: it returns -3, not -2, so that a caller does not fall back and add gradients twice. */
static int rl__hbuf_out(rl__hbuf *h, const char *rl__cu_what) {
    int rc = 0, i;
    for (i = 0; i < h->n; i++)
        if (h->s[i].dst) RL_CU(cudaMemcpy(h->s[i].dst, h->dev + h->s[i].off, h->s[i].n * sizeof(float), cudaMemcpyDeviceToHost));
    return 0;
fail:
    return rc ? -3 : 0;
}

static void rl__hbuf_free(rl__hbuf *h) {
    if (h->dev) cudaFree(h->dev);
    h->dev = NULL;
}

extern "C" int rl_cuda_wkv6_forward_host(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                                         const float *v, const float *logw, const float *state_in, float *y,
                                         float *state_out, float *ck) {
    rl__hbuf hb;
    int rc = rl__check("rl_cuda_wkv6_forward_host", B, T, H, KVH, N), ir, ik, iv, iw, is, iy, io, ic;
    const size_t nq = (size_t)(B * T * H * N), nk = (size_t)(B * T * KVH * N), ns = (size_t)(B * H * N * N);
    if (rc) return rc;
    if (!r || !k || !v || !logw) return rl__cu_fail(-1, "rl_cuda_wkv6_forward_host: r, k, v and logw are required");
    memset(&hb, 0, sizeof hb);
    ir = rl__hbuf_add(&hb, 1, nq, r, NULL);
    ik = rl__hbuf_add(&hb, 1, nk, k, NULL);
    iv = rl__hbuf_add(&hb, 1, nk, v, NULL);
    iw = rl__hbuf_add(&hb, 1, nq, logw, NULL);
    is = rl__hbuf_add(&hb, state_in != NULL, ns, state_in, NULL);
    iy = rl__hbuf_add(&hb, y != NULL, nq, NULL, y);
    io = rl__hbuf_add(&hb, state_out != NULL, ns, NULL, state_out);
    ic = rl__hbuf_add(&hb, ck != NULL, rl_cuda_ck_floats(B, T, H, N), NULL, ck);
    if (!(rc = rl__hbuf_alloc_in(&hb, "rl_cuda_wkv6_forward_host")) &&
        !(rc = rl_cuda_wkv6_forward(B, T, H, KVH, N, rl__hbuf_ptr(&hb, ir), rl__hbuf_ptr(&hb, ik), rl__hbuf_ptr(&hb, iv),
                                    rl__hbuf_ptr(&hb, iw), rl__hbuf_ptr(&hb, is), rl__hbuf_ptr(&hb, iy),
                                    rl__hbuf_ptr(&hb, io), rl__hbuf_ptr(&hb, ic))))
        rc = rl__hbuf_out(&hb, "rl_cuda_wkv6_forward_host");
    rl__hbuf_free(&hb);
    return rc;
}

extern "C" int rl_cuda_wkv6_backward_host(int64_t B, int64_t T, int H, int KVH, int N, const float *r, const float *k,
                                          const float *v, const float *logw, const float *state_in, const float *dy,
                                          const float *dstate_out, float *dr, float *dk, float *dv, float *dlogw,
                                          float *dstate_in) {
    rl__hbuf hb;
    int rc = rl__check("rl_cuda_wkv6_backward_host", B, T, H, KVH, N), ir, ik, iv, iw, is, ic, idy, ids, g0, g1, g2, g3, g4;
    const size_t nq = (size_t)(B * T * H * N), nk = (size_t)(B * T * KVH * N), ns = (size_t)(B * H * N * N);
    if (rc) return rc;
    if (!r || !k || !v || !logw) return rl__cu_fail(-1, "rl_cuda_wkv6_backward_host: r, k, v and logw are required");
    if (!dr && !dk && !dv && !dlogw && !dstate_in) return 0;
    memset(&hb, 0, sizeof hb);
    ir = rl__hbuf_add(&hb, 1, nq, r, NULL);
    ik = rl__hbuf_add(&hb, 1, nk, k, NULL);
    iv = rl__hbuf_add(&hb, 1, nk, v, NULL);
    iw = rl__hbuf_add(&hb, 1, nq, logw, NULL);
    is = rl__hbuf_add(&hb, state_in != NULL, ns, state_in, NULL);
    ic = rl__hbuf_add(&hb, 1, rl_cuda_ck_floats(B, T, H, N), NULL, NULL);
    idy = rl__hbuf_add(&hb, dy != NULL, nq, dy, NULL);
    ids = rl__hbuf_add(&hb, dstate_out != NULL, ns, dstate_out, NULL);
    /* gradients are accumulated: copy the caller's values in, add on the device, copy out */
    g0 = rl__hbuf_add(&hb, dr != NULL, nq, dr, dr);
    g1 = rl__hbuf_add(&hb, dk != NULL, nk, dk, dk);
    g2 = rl__hbuf_add(&hb, dv != NULL, nk, dv, dv);
    g3 = rl__hbuf_add(&hb, dlogw != NULL, nq, dlogw, dlogw);
    g4 = rl__hbuf_add(&hb, dstate_in != NULL, ns, dstate_in, dstate_in);
    if (!(rc = rl__hbuf_alloc_in(&hb, "rl_cuda_wkv6_backward_host")) &&
        !(rc = rl_cuda_wkv6_forward(B, T, H, KVH, N, rl__hbuf_ptr(&hb, ir), rl__hbuf_ptr(&hb, ik), rl__hbuf_ptr(&hb, iv),
                                    rl__hbuf_ptr(&hb, iw), rl__hbuf_ptr(&hb, is), NULL, NULL, rl__hbuf_ptr(&hb, ic))) &&
        !(rc = rl_cuda_wkv6_backward(B, T, H, KVH, N, rl__hbuf_ptr(&hb, ir), rl__hbuf_ptr(&hb, ik), rl__hbuf_ptr(&hb, iv),
                                     rl__hbuf_ptr(&hb, iw), rl__hbuf_ptr(&hb, ic), rl__hbuf_ptr(&hb, idy),
                                     rl__hbuf_ptr(&hb, ids), rl__hbuf_ptr(&hb, g0), rl__hbuf_ptr(&hb, g1),
                                     rl__hbuf_ptr(&hb, g2), rl__hbuf_ptr(&hb, g3), rl__hbuf_ptr(&hb, g4))))
        rc = rl__hbuf_out(&hb, "rl_cuda_wkv6_backward_host");
    rl__hbuf_free(&hb);
    return rc;
}

extern "C" int rl_cuda_wkv7_forward_host(int64_t B, int64_t T, int H, int N, const float *r, const float *w, const float *k,
                                         const float *v, const float *a, const float *b, const float *state_in, float *y,
                                         float *state_out, float *ck) {
    rl__hbuf hb;
    int rc = rl__check("rl_cuda_wkv7_forward_host", B, T, H, H, N), in[6], is, iy, io, ic, q;
    const size_t nq = (size_t)(B * T * H * N), ns = (size_t)(B * H * N * N);
    const float *src[6];
    if (rc) return rc;
    src[0] = r; src[1] = w; src[2] = k; src[3] = v; src[4] = a; src[5] = b;
    for (q = 0; q < 6; q++)
        if (!src[q]) return rl__cu_fail(-1, "rl_cuda_wkv7_forward_host: r, w, k, v, a and b are required");
    memset(&hb, 0, sizeof hb);
    for (q = 0; q < 6; q++) in[q] = rl__hbuf_add(&hb, 1, nq, src[q], NULL);
    is = rl__hbuf_add(&hb, state_in != NULL, ns, state_in, NULL);
    iy = rl__hbuf_add(&hb, y != NULL, nq, NULL, y);
    io = rl__hbuf_add(&hb, state_out != NULL, ns, NULL, state_out);
    ic = rl__hbuf_add(&hb, ck != NULL, rl_cuda_ck_floats(B, T, H, N), NULL, ck);
    if (!(rc = rl__hbuf_alloc_in(&hb, "rl_cuda_wkv7_forward_host")) &&
        !(rc = rl_cuda_wkv7_forward(B, T, H, N, rl__hbuf_ptr(&hb, in[0]), rl__hbuf_ptr(&hb, in[1]), rl__hbuf_ptr(&hb, in[2]),
                                    rl__hbuf_ptr(&hb, in[3]), rl__hbuf_ptr(&hb, in[4]), rl__hbuf_ptr(&hb, in[5]),
                                    rl__hbuf_ptr(&hb, is), rl__hbuf_ptr(&hb, iy), rl__hbuf_ptr(&hb, io),
                                    rl__hbuf_ptr(&hb, ic), NULL)))
        rc = rl__hbuf_out(&hb, "rl_cuda_wkv7_forward_host");
    rl__hbuf_free(&hb);
    return rc;
}

extern "C" int rl_cuda_wkv7_backward_host(int64_t B, int64_t T, int H, int N, const float *r, const float *w,
                                          const float *k, const float *v, const float *a, const float *b,
                                          const float *state_in, const float *dy, const float *dstate_out, float *dr,
                                          float *dw, float *dk, float *dv, float *da, float *db, float *dstate_in) {
    rl__hbuf hb;
    int rc = rl__check("rl_cuda_wkv7_backward_host", B, T, H, H, N), in[6], is, ic, isa, idy, ids, g[7], q;
    const size_t nq = (size_t)(B * T * H * N), ns = (size_t)(B * H * N * N);
    const float *src[6];
    float *gr[7];
    if (rc) return rc;
    src[0] = r; src[1] = w; src[2] = k; src[3] = v; src[4] = a; src[5] = b;
    gr[0] = dr; gr[1] = dw; gr[2] = dk; gr[3] = dv; gr[4] = da; gr[5] = db; gr[6] = dstate_in;
    for (q = 0; q < 6; q++)
        if (!src[q]) return rl__cu_fail(-1, "rl_cuda_wkv7_backward_host: r, w, k, v, a and b are required");
    for (q = 0; q < 7 && !gr[q]; q++) {}
    if (q == 7) return 0;
    memset(&hb, 0, sizeof hb);
    for (q = 0; q < 6; q++) in[q] = rl__hbuf_add(&hb, 1, nq, src[q], NULL);
    is = rl__hbuf_add(&hb, state_in != NULL, ns, state_in, NULL);
    ic = rl__hbuf_add(&hb, 1, rl_cuda_ck_floats(B, T, H, N), NULL, NULL);
    isa = rl__hbuf_add(&hb, 1, nq, NULL, NULL);
    idy = rl__hbuf_add(&hb, dy != NULL, nq, dy, NULL);
    ids = rl__hbuf_add(&hb, dstate_out != NULL, ns, dstate_out, NULL);
    for (q = 0; q < 7; q++) g[q] = rl__hbuf_add(&hb, gr[q] != NULL, q == 6 ? ns : nq, gr[q], gr[q]);
    if (!(rc = rl__hbuf_alloc_in(&hb, "rl_cuda_wkv7_backward_host")) &&
        !(rc = rl_cuda_wkv7_forward(B, T, H, N, rl__hbuf_ptr(&hb, in[0]), rl__hbuf_ptr(&hb, in[1]), rl__hbuf_ptr(&hb, in[2]),
                                    rl__hbuf_ptr(&hb, in[3]), rl__hbuf_ptr(&hb, in[4]), rl__hbuf_ptr(&hb, in[5]),
                                    rl__hbuf_ptr(&hb, is), NULL, NULL, rl__hbuf_ptr(&hb, ic), rl__hbuf_ptr(&hb, isa))) &&
        !(rc = rl_cuda_wkv7_backward(B, T, H, N, rl__hbuf_ptr(&hb, in[0]), rl__hbuf_ptr(&hb, in[1]), rl__hbuf_ptr(&hb, in[2]),
                                     rl__hbuf_ptr(&hb, in[3]), rl__hbuf_ptr(&hb, in[4]), rl__hbuf_ptr(&hb, in[5]),
                                     rl__hbuf_ptr(&hb, ic), rl__hbuf_ptr(&hb, isa), rl__hbuf_ptr(&hb, idy),
                                     rl__hbuf_ptr(&hb, ids), rl__hbuf_ptr(&hb, g[0]), rl__hbuf_ptr(&hb, g[1]),
                                     rl__hbuf_ptr(&hb, g[2]), rl__hbuf_ptr(&hb, g[3]), rl__hbuf_ptr(&hb, g[4]),
                                     rl__hbuf_ptr(&hb, g[5]), rl__hbuf_ptr(&hb, g[6]))))
        rc = rl__hbuf_out(&hb, "rl_cuda_wkv7_backward_host");
    rl__hbuf_free(&hb);
    return rc;
}

/* ==== matrix products (cuBLAS) =============================================
   radlads.h is row-major, cuBLAS column-major: a row-major C[M×N] with leading dimension
   ldc is the column-major Cᵀ[N×M], and Cᵀ = Bᵀ·Aᵀ. A row-major operand with contiguous rows
   (stride 1 along its columns) read column-major is its transpose, so it enters with
   CUBLAS_OP_N; one whose columns are contiguous (stride 1 along its rows) enters with
   CUBLAS_OP_T. The call is gemm(opB, opA, m = N, n = M, k = K, B, A, C). One cuBLAS handle
   per host thread, created at first use and kept (cuBLAS handles are per thread). */

static thread_local cublasHandle_t rl__cu_blas_handle;

/* to the nearest bf16, ties to even, NaN to 0x7FC0 (as radlads.h's rl_f32_to_bf16) */
static __device__ __forceinline__ uint16_t rl__to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7FC0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* dst (rows × cols, dense, row-major) from src with leading dimension ld: to bf16 (to16 = 1)
   from fp32, or to fp32 from bf16 (to16 = 0) */
static __global__ void rl__k_convert(int64_t rows, int64_t cols, const void *src, int64_t ld, void *dst, int to16) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, n = rows * cols;
    for (; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / cols, c = i % cols;
        if (to16) ((uint16_t *)dst)[i] = rl__to_bf16(((const float *)src)[r * ld + c]);
        else {
            uint32_t u = (uint32_t)((const uint16_t *)src)[r * ld + c] << 16;
            memcpy((float *)dst + i, &u, 4);
        }
    }
}

/* the cuBLAS view of one operand: op, leading dimension, and (for a workspace copy) the
   dense shape it is stored in: rows × cols row-major with leading dimension ld */
typedef struct {
    cublasOperation_t op;
    int64_t ld, rows, cols;
} rl__cu_operand;

/* a row-major R×Cn operand X(r, c) = X[r·rs + c·cs]; 0 when neither stride is 1 */
static int rl__cu_view(int64_t R, int64_t Cn, int64_t rs, int64_t cs, rl__cu_operand *o) {
    if (cs == 1 && rs >= (Cn > 1 ? Cn : 1)) { /* rows contiguous: read column-major, the transpose */
        o->op = CUBLAS_OP_N; o->ld = rs; o->rows = R; o->cols = Cn;
    } else if (rs == 1 && cs >= (R > 1 ? R : 1)) { /* columns contiguous: stored as Cn rows of R */
        o->op = CUBLAS_OP_T; o->ld = cs; o->rows = Cn; o->cols = R;
    } else {
        return 0;
    }
    return 1;
}

/* a dense copy of operand o (ld o.ld) converted to bf16 (to16) or from bf16, into ws; o.ld
   becomes the dense one */
static cudaError_t rl__cu_convert(const void *src, rl__cu_operand *o, void *ws, int to16) {
    int64_t n = o->rows * o->cols, blocks = (n + 255) / 256;
    RL_LAUNCH(rl__k_convert, (unsigned)(blocks < 4096 ? (blocks > 0 ? blocks : 1) : 4096), 256, 0, o->rows, o->cols, src, o->ld, ws, to16);
    o->ld = o->cols;
    return cudaGetLastError();
}

extern "C" int rl_cuda_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B, int b_bf16,
                            int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate, int precision) {
    const char *rl__cu_what = "rl_cuda_gemm";
    const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    rl__cu_operand oa, ob;
    const void *pa = A, *pb = B;
    void *ws = NULL;
    int rc = 0, bf = precision == 2;
    size_t na, nb;
    if (M < 0 || N < 0 || K < 0 || precision < 0 || precision > 2 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return rl__cu_fail(-1, "rl_cuda_gemm: bad sizes M %lld N %lld K %lld or precision %d", (long long)M, (long long)N, (long long)K, precision);
    if (!M || !N) return 0;
    if (!A || !B || !C || ldc < N || !rl__cu_view(M, K, a_rs, a_cs, &oa) || !rl__cu_view(K, N, b_rs, b_cs, &ob))
        return rl__cu_fail(-1, "rl_cuda_gemm: A, B and C must be device pointers with one unit stride each (a %lld/%lld, b %lld/%lld, ldc %lld)",
                           (long long)a_rs, (long long)a_cs, (long long)b_rs, (long long)b_cs, (long long)ldc);
    if (!rl__cu_blas_handle) RL_CUBLAS(cublasCreate(&rl__cu_blas_handle));
    /* workspace: A in bf16 (precision 2); B in bf16 (precision 2, fp32 B) or fp32 (a bf16 B otherwise) */
    na = bf ? (size_t)(M * K) * 2 : 0;
    nb = bf && !b_bf16 ? (size_t)(K * N) * 2 : !bf && b_bf16 ? (size_t)(K * N) * 4 : 0;
    if (na + nb) RL_CU(cudaMalloc(&ws, na + nb + 16));
    if (bf) {
        RL_CU(rl__cu_convert(A, &oa, ws, 1));
        pa = ws;
        if (!b_bf16) {
            RL_CU(rl__cu_convert(B, &ob, (char *)ws + na, 1));
            pb = (char *)ws + na;
        }
    } else if (b_bf16) {
        RL_CU(rl__cu_convert(B, &ob, ws, 0));
        pb = ws;
    }
    if (bf || precision == 1)
        RL_CUBLAS(cublasGemmEx(rl__cu_blas_handle, ob.op, oa.op, (int)N, (int)M, (int)K, &one, pb, bf ? CUDA_R_16BF : CUDA_R_32F,
                               (int)ob.ld, pa, bf ? CUDA_R_16BF : CUDA_R_32F, (int)oa.ld, &beta, C, CUDA_R_32F, (int)ldc,
                               bf ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    else
        RL_CUBLAS(cublasSgemm(rl__cu_blas_handle, ob.op, oa.op, (int)N, (int)M, (int)K, &one, (const float *)pb, (int)ob.ld,
                              (const float *)pa, (int)oa.ld, &beta, C, (int)ldc));
    if (ws) RL_CU(cudaDeviceSynchronize()); /* before the workspace goes */
fail:
    if (ws) cudaFree(ws);
    return rc;
}

/* ==== the ops of the device seam ===========================================
   Elementwise ops: one thread per element, grid-stride. Row ops (RMSNorm): one block of
   RL_ROWT threads per row, a tree sum in shared memory. Column sums: one thread per column
   walking the rows in order. Performance is not tuned yet (issue 10: fused chains, vector
   loads); these are the twins that make a step run where its tensors live. */

#define RL_ROWT 256 /* threads of a row block: a power of two */

static unsigned rl__grid(int64_t n) {
    int64_t b = (n + 255) / 256;
    return (unsigned)(b < 1 ? 1 : b > 4096 ? 4096 : b);
}
#define RL_EACH(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)
/* after a launch: 0, or -2 with the launch's error */
static int rl__launched(const char *what) {
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? 0 : rl__cu_fail(-2, "%s: %s", what, cudaGetErrorString(e));
}

/* the sum of v over the block (blockDim.x a power of two), in every thread; sh holds
   blockDim.x values of T */
template <typename T>
static __device__ __forceinline__ T rl__block_sum(T v, T *sh) {
    const int t = (int)threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int h = (int)blockDim.x / 2; h > 0; h >>= 1) {
        if (t < h) sh[t] += sh[t + h];
        __syncthreads();
    }
    v = sh[0];
    __syncthreads();
    return v;
}

static __global__ void rl__k_add(int64_t n, float *y, const float *a, float s, const float *b) {
    RL_EACH(i, n) y[i] = a[i] + s * b[i];
}
static __global__ void rl__k_axpy(int64_t n, float *y, float s, const float *x) {
    RL_EACH(i, n) y[i] += s * x[i];
}
static __global__ void rl__k_mul(int64_t n, float *y, const float *a, const float *b, int acc) {
    RL_EACH(i, n) y[i] = acc ? y[i] + a[i] * b[i] : a[i] * b[i];
}
static __global__ void rl__k_rowvec(int64_t R, int64_t C, float *y, const float *x, const float *v, int mode) {
    RL_EACH(i, R * C) {
        float u = v[i % C];
        y[i] = mode == 0 ? x[i] + u : mode == 1 ? x[i] * u : y[i] + x[i] * u;
    }
}
static __global__ void rl__k_colsum(int64_t R, int64_t C, float *gv, const float *g, const float *x, const float *s) {
    RL_EACH(j, C) {
        float acc = gv[j];
        for (int64_t r = 0; r < R; r++) acc += g[r * C + j] * (x ? x[r * C + j] : 1.0f) * (s ? s[r] : 1.0f);
        gv[j] = acc;
    }
}
static __global__ void rl__k_rmsnorm(int64_t R, int64_t C, float *y, float *rstd, const float *x, const float *w, float eps) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *xr = x + r * C;
        float ss = 0, rs;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) ss += xr[j] * xr[j];
        rs = 1.0f / sqrtf(rl__block_sum(ss, RL_SMEM) / (float)C + eps);
        if (threadIdx.x == 0) rstd[r] = rs;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) y[r * C + j] = xr[j] * rs * (w ? w[j] : 1.0f);
    }
}
static __global__ void rl__k_rmsnorm_bwd(int64_t R, int64_t C, float *gx, const float *g, const float *x, const float *w, const float *rstd) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *xr = x + r * C, *gr = g + r * C;
        float dot = 0, rs = rstd[r], m;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) dot += gr[j] * (w ? w[j] : 1.0f) * xr[j];
        m = rl__block_sum(dot, RL_SMEM) / (float)C;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) gx[r * C + j] += rs * (gr[j] * (w ? w[j] : 1.0f) - xr[j] * rs * rs * m);
    }
}
static __device__ __forceinline__ float rl__sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
static __global__ void rl__k_unary(int64_t n, int fn, float *y, const float *x) {
    RL_EACH(i, n) {
        float v = x[i];
        y[i] = fn == 0 ? expf(v) : fn == 1 ? rl__sigm(v) : fn == 2 ? tanhf(v) : fn == 3 ? (v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v)))
             : fn == 4 ? v * rl__sigm(v) : fmaxf(-expf(v), -5.0f); /* 5: RWKV6 log-decay, clamped at −5 */
    }
}
static __global__ void rl__k_unary_bwd(int64_t n, int fn, float *gx, const float *g, const float *x, const float *y) {
    RL_EACH(i, n) {
        float s = rl__sigm(x[i]);
        float d = fn == 0 ? y[i] : fn == 1 ? y[i] * (1.0f - y[i]) : fn == 2 ? 1.0f - y[i] * y[i] : fn == 3 ? s
                : fn == 4 ? s * (1.0f + x[i] * (1.0f - s)) : y[i]; /* 5: d(−exp x)/dx = y; nothing where clamped */
        if (fn != 5 || y[i] > -5.0f) gx[i] += g[i] * d;
    }
}
static __global__ void rl__k_swiglu(int64_t n, float *y, const float *a, const float *b) {
    RL_EACH(i, n) y[i] = a[i] * rl__sigm(a[i]) * b[i];
}
/* ga, gb (each or NULL): += where bit 0, 1 of acc is set, else = */
static __global__ void rl__k_swiglu_bwd(int64_t n, float *ga, float *gb, int acc, const float *g, const float *a, const float *b) {
    RL_EACH(i, n) {
        float s = rl__sigm(a[i]);
        if (ga) ga[i] = (acc & 1 ? ga[i] : 0.0f) + g[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
        if (gb) gb[i] = (acc & 2 ? gb[i] : 0.0f) + g[i] * a[i] * s;
    }
}
static __global__ void rl__k_unbalance(int64_t n, float *y, const float *k, const float *lw) {
    RL_EACH(i, n) {
        const float d = 1.0f - expf(lw[i]);
        y[i] = k[i] / (d < FLT_MIN ? FLT_MIN : d);
    }
}
static __global__ void rl__k_unbalance_bwd(int64_t n, float *gk, float *gl, const float *g, const float *k, const float *lw) {
    RL_EACH(i, n) {
        const float w = expf(lw[i]), d = 1.0f - w;
        if (d < FLT_MIN) continue;
        if (gk) gk[i] += g[i] / d;
        if (gl) gl[i] += g[i] * k[i] * w / (d * d);
    }
}
static __global__ void rl__k_sum(int64_t n, float *y, const float *x) {
    double acc = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += x[i];
    acc = rl__block_sum(acc, (double *)(void *)RL_SMEM);
    if (threadIdx.x == 0) y[0] = (float)acc;
}
static __global__ void rl__k_sum_bwd(int64_t n, float *gx, const float *g) {
    RL_EACH(i, n) gx[i] += g[0];
}

#define RL_ELEMENTWISE(what, n, kern, ...)                                  \
    do {                                                                    \
        (void)q;                                                            \
        if ((n) < 0) return rl__cu_fail(-1, "%s: %lld elements", what, (long long)(n)); \
        if ((n) == 0) return 0;                                             \
        RL_LAUNCH(kern, rl__grid(n), 256, 0, __VA_ARGS__);                  \
        return rl__launched(what);                                          \
    } while (0)

extern "C" int rl_cuda_add(void *q, float *y, const float *a, float s, const float *b, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_add", n, rl__k_add, n, y, a, s, b);
}
extern "C" int rl_cuda_axpy(void *q, float *y, float s, const float *x, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_axpy", n, rl__k_axpy, n, y, s, x);
}
extern "C" int rl_cuda_mul(void *q, float *y, const float *a, const float *b, int64_t n, int acc) {
    RL_ELEMENTWISE("rl_cuda_mul", n, rl__k_mul, n, y, a, b, acc);
}
extern "C" int rl_cuda_rowvec(void *q, float *y, const float *x, const float *v, int64_t R, int64_t C, int mode) {
    if (C < 1 || mode < 0 || mode > 2) return rl__cu_fail(-1, "rl_cuda_rowvec: %lld columns, mode %d", (long long)C, mode);
    RL_ELEMENTWISE("rl_cuda_rowvec", R * C, rl__k_rowvec, R, C, y, x, v, mode);
}
extern "C" int rl_cuda_colsum(void *q, float *gv, const float *g, const float *x, const float *s, int64_t R, int64_t C) {
    if (R < 0) return rl__cu_fail(-1, "rl_cuda_colsum: %lld rows", (long long)R);
    RL_ELEMENTWISE("rl_cuda_colsum", C, rl__k_colsum, R, C, gv, g, x, s);
}
extern "C" int rl_cuda_unary(void *q, int fn, float *y, const float *x, int64_t n) {
    if (fn < 0 || fn > 5) return rl__cu_fail(-1, "rl_cuda_unary: function %d", fn);
    RL_ELEMENTWISE("rl_cuda_unary", n, rl__k_unary, n, fn, y, x);
}
extern "C" int rl_cuda_unary_bwd(void *q, int fn, float *gx, const float *g, const float *x, const float *y, int64_t n) {
    if (fn < 0 || fn > 5) return rl__cu_fail(-1, "rl_cuda_unary_bwd: function %d", fn);
    RL_ELEMENTWISE("rl_cuda_unary_bwd", n, rl__k_unary_bwd, n, fn, gx, g, x, y);
}
extern "C" int rl_cuda_swiglu(void *q, float *y, const float *a, const float *b, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_swiglu", n, rl__k_swiglu, n, y, a, b);
}
extern "C" int rl_cuda_swiglu_bwd(void *q, float *ga, float *gb, int acc, const float *g, const float *a, const float *b, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_swiglu_bwd", n, rl__k_swiglu_bwd, n, ga, gb, acc, g, a, b);
}
extern "C" int rl_cuda_unbalance(void *q, float *y, const float *k, const float *lw, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_unbalance", n, rl__k_unbalance, n, y, k, lw);
}
extern "C" int rl_cuda_unbalance_bwd(void *q, float *gk, float *gl, const float *g, const float *k, const float *lw, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_unbalance_bwd", n, rl__k_unbalance_bwd, n, gk, gl, g, k, lw);
}
extern "C" int rl_cuda_sum_bwd(void *q, float *gx, const float *g, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_sum_bwd", n, rl__k_sum_bwd, n, gx, g);
}
extern "C" int rl_cuda_sum(void *q, float *y, const float *x, int64_t n) {
    (void)q;
    if (n < 0) return rl__cu_fail(-1, "rl_cuda_sum: %lld elements", (long long)n);
    RL_LAUNCH(rl__k_sum, 1, RL_ROWT, RL_ROWT * sizeof(double), n, y, x);
    return rl__launched("rl_cuda_sum");
}
/* out[block] = Σ x² (sq) or Σ x over the block's grid-stride share of x, in double */
template <typename T>
static __global__ void rl__k_sumsq(int64_t n, double *out, const T *x, int sq) {
    double acc = 0;
    RL_EACH(i, n) acc += sq ? (double)x[i] * x[i] : (double)x[i];
    acc = rl__block_sum(acc, (double *)(void *)RL_SMEM);
    if (threadIdx.x == 0) out[blockIdx.x] = acc;
}
static __global__ void rl__k_adamw(int64_t n, float *p, float *g, float *m, float *v, float lr, float beta1, float beta2, float eps,
                                   float wd, float scale, double b1c, double b2c) {
    RL_EACH(j, n) {
        float gj = g[j] * scale;
        m[j] = beta1 * m[j] + (1.0f - beta1) * gj;
        v[j] = beta2 * v[j] + (1.0f - beta2) * gj * gj;
        p[j] -= lr * ((float)(m[j] / b1c) / (sqrtf((float)(v[j] / b2c)) + eps) + wd * p[j]);
        g[j] = 0;
    }
}
extern "C" int rl_cuda_adamw(void *q, float *p, float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps,
                             float wd, float scale, double b1c, double b2c) {
    RL_ELEMENTWISE("rl_cuda_adamw", n, rl__k_adamw, n, p, g, m, v, lr, beta1, beta2, eps, wd, scale, b1c, b2c);
}
/* blocks of partial sums (a fixed grid: deterministic), then one block over the partials;
   the sum waits in a small device buffer of the calling thread (kept) and comes back with
   one copy */
#define RL_SUMSQ_PARTS 512
extern "C" int rl_cuda_sumsq(void *q, double *ss, const float *x, int64_t n) {
    const char *rl__cu_what = "rl_cuda_sumsq";
    static thread_local double *buf;
    double h = 0;
    int rc = 0;
    unsigned parts = rl__grid(n) < RL_SUMSQ_PARTS ? rl__grid(n) : RL_SUMSQ_PARTS;
    (void)q;
    if (n < 0 || !ss) return rl__cu_fail(-1, "rl_cuda_sumsq: %lld elements", (long long)n);
    if (!n) return 0;
    if (!buf) RL_CU(cudaMalloc((void **)&buf, sizeof(double) * (RL_SUMSQ_PARTS + 1)));
    RL_LAUNCH(rl__k_sumsq<float>, parts, RL_ROWT, RL_ROWT * sizeof(double), n, buf + 1, x, 1);
    RL_LAUNCH(rl__k_sumsq<double>, 1, RL_ROWT, RL_ROWT * sizeof(double), (int64_t)parts, buf, (const double *)(buf + 1), 0);
    RL_CU(cudaGetLastError());
    RL_CU(cudaMemcpy(&h, buf, sizeof h, cudaMemcpyDeviceToHost));
    *ss += h;
fail:
    return rc;
}
static unsigned rl__row_blocks(int64_t R) { return (unsigned)(R < 1 ? 1 : R > 65535 ? 65535 : R); }
extern "C" int rl_cuda_rmsnorm(void *q, float *y, float *rstd, const float *x, const float *w, int64_t R, int64_t C, float eps) {
    (void)q;
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_rmsnorm: %lld rows of %lld", (long long)R, (long long)C);
    if (!R) return 0;
    RL_LAUNCH(rl__k_rmsnorm, rl__row_blocks(R), RL_ROWT, RL_ROWT * sizeof(float), R, C, y, rstd, x, w, eps);
    return rl__launched("rl_cuda_rmsnorm");
}
extern "C" int rl_cuda_rmsnorm_bwd(void *q, float *gx, const float *g, const float *x, const float *w, const float *rstd, int64_t R, int64_t C) {
    (void)q;
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_rmsnorm_bwd: %lld rows of %lld", (long long)R, (long long)C);
    if (!R) return 0;
    RL_LAUNCH(rl__k_rmsnorm_bwd, rl__row_blocks(R), RL_ROWT, RL_ROWT * sizeof(float), R, C, gx, g, x, w, rstd);
    return rl__launched("rl_cuda_rmsnorm_bwd");
}

/* ==== the ops of the device seam, part 2 ===================================
   Elementwise and gather ops: one thread per element (RoPE: per rotated pair), grid-stride.
   Slice ops (L2 norm per head, GroupNorm per (row, group): d contiguous values each): one
   block per slice, the power of two >= d between 32 and RL_ROWT threads. Row ops over a
   vocabulary (softmax, the losses): one block of RL_ROWT threads per row, grid-stride over
   the rows, passes over the row for the max, the Σ exp (double) and the outputs. Sums are
   tree sums in shared memory (deterministic; double where radlads.h's CPU code uses
   double); a loss's sum over rows is a second, one-block kernel. Column sums (GroupNorm's
   gw, gb): one thread per column walking the rows in order. Only the embedding backward
   uses atomics. */

#define RL_DSMEM ((double *)(void *)RL_SMEM) /* the dynamic shared memory, as doubles */

/* the maximum of v over the block (blockDim.x a power of two), in every thread; sh holds
   blockDim.x floats */
static __device__ __forceinline__ float rl__block_max(float v, float *sh) {
    const int t = (int)threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int h = (int)blockDim.x / 2; h > 0; h >>= 1) {
        if (t < h) sh[t] = fmaxf(sh[t], sh[t + h]);
        __syncthreads();
    }
    v = sh[0];
    __syncthreads();
    return v;
}

/* *p += v, atomically (the emulation runs one fiber at a time: a plain add is atomic there) */
static __device__ __forceinline__ void rl__atomic_add(float *p, float v) {
#ifdef RL_CUDA_EMULATE
    *p += v;
#else
    atomicAdd(p, v);
#endif
}

/* threads of a slice block: the power of two >= d, 32 to RL_ROWT */
static int rl__slice_threads(int64_t d) {
    int t = 32;
    while (t < d && t < RL_ROWT) t *= 2;
    return t;
}

static __global__ void rl__k_affine(int64_t n, float *y, const float *x, float a, float b) {
    RL_EACH(i, n) y[i] = a * x[i] + b;
}
static __global__ void rl__k_copy3d(int64_t B, int64_t R, int64_t C, float *y, int64_t ysb, int64_t ysr, const float *x,
                                    int64_t xsb, int64_t xsr, int acc) {
    RL_EACH(i, B * R * C) {
        const int64_t j = i % C, r = (i / C) % R, b = i / (C * R);
        float *o = y + b * ysb + r * ysr + j;
        const float v = x[b * xsb + r * xsr + j];
        *o = acc ? *o + v : v;
    }
}
static __global__ void rl__k_embedding(int64_t n, int64_t C, float *y, const void *E, int e_bf16, const int32_t *ids) {
    RL_EACH(i, n * C) {
        const int64_t e = (int64_t)ids[i / C] * C + i % C;
        if (e_bf16) {
            uint32_t u = (uint32_t)((const uint16_t *)E)[e] << 16;
            memcpy(y + i, &u, 4);
        } else
            y[i] = ((const float *)E)[e];
    }
}
/* atomics: rows with the same id add in no fixed order (the result may differ in the last
   bit from run to run; the CPU adds in row order) */
static __global__ void rl__k_embedding_bwd(int64_t n, int64_t C, float *gE, const float *g, const int32_t *ids) {
    RL_EACH(i, n * C) rl__atomic_add(gE + (int64_t)ids[i / C] * C + i % C, g[i]);
}
/* one thread per pair (j, j + half) of a head: hc = C/2 pairs per row */
static __global__ void rl__k_rope(int64_t R, int64_t T, int64_t C, int d, float *y, const float *x, const float *tab,
                                  int inverse, int acc) {
    const int64_t half = d / 2, hc = C / 2;
    RL_EACH(i, R * hc) {
        const int64_t r = i / hc, p = i % hc, j = p % half, t = r % T, o = r * C + (p / half) * d + j;
        const float cs = tab[t * d + j], sn = inverse ? tab[T * d + t * half + j] : tab[t * d + half + j];
        const float a = x[o], b = x[o + half], u = a * cs - b * sn, v = b * cs + a * sn;
        if (acc) {
            y[o] += u;
            y[o + half] += v;
        } else {
            y[o] = u;
            y[o + half] = v;
        }
    }
}
static __global__ void rl__k_l2norm(int64_t S, int d, float *y, float *rinv, const float *x, float eps) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        const float *xs = x + s * d;
        double ss = 0, nrm;
        float r;
        for (int j = threadIdx.x; j < d; j += blockDim.x) ss += (double)xs[j] * xs[j];
        nrm = sqrt(rl__block_sum(ss, RL_DSMEM));
        r = (float)(1.0 / (nrm > (double)eps ? nrm : (double)eps));
        if (threadIdx.x == 0) rinv[s] = r;
        for (int j = threadIdx.x; j < d; j += blockDim.x) y[s * d + j] = xs[j] * r;
    }
}
static __global__ void rl__k_l2norm_bwd(int64_t S, int d, float *gx, const float *g, const float *y, const float *rinv, float eps) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        const float *gs = g + s * d, *ys = y + s * d, r = rinv[s];
        const int clamped = r >= 1.0f / eps; /* the norm was below eps: y = x/eps, linear */
        double dot = 0;
        float df;
        if (!clamped)
            for (int j = threadIdx.x; j < d; j += blockDim.x) dot += (double)gs[j] * ys[j];
        df = (float)rl__block_sum(dot, RL_DSMEM);
        for (int j = threadIdx.x; j < d; j += blockDim.x) gx[s * d + j] += r * (gs[j] - ys[j] * df);
    }
}
/* RAD-RWKV7's scan inputs: slice s = head s % H of row s / H holds elements s·N .. s·N + N − 1 */
#define RL_P7_C 0.60653065971263342f /* e^−½ */
#define RL_P7_EPS 1e-12f
struct rl__p7_in {
    const float *k, *zw, *za, *w0, *a0, *kk, *ka;
};
struct rl__p7_g {
    float k, zw, za, kk, ka;
};
/* element e (column col) of the backward, given its head's r = 1/max(‖u‖, eps) and gκ·κ (0 where clamped) */
static __device__ rl__p7_g rl__p7_elem(const rl__p7_in &in, const float *g, int64_t RC, int64_t e, int64_t col, float r, float df) {
    const float k = in.k[e], kk = in.kk ? in.kk[col] : 1.0f, kap = k * kk * r, ka = in.ka ? in.ka[col] : 1.0f;
    const float sw = rl__sigm(in.zw[e] + in.w0[col]), w = expf(-RL_P7_C * sw), a = rl__sigm(in.za[e] + in.a0[col]);
    const float gw = g[e], gkt = g[RC + e], gkap = g[3 * RC + e] * a - g[2 * RC + e], gu = r * (gkap - kap * df);
    const float ga = g[3 * RC + e] * kap + gkt * k * ka;
    rl__p7_g o;
    o.za = ga * a * (1.0f - a);
    o.zw = -RL_P7_C * (in.ka ? gw : gw - gkt * k) * w * sw * (1.0f - sw);
    o.k = (in.ka ? gkt * (1.0f + (a - 1.0f) * ka) : gkt * (1.0f - w + a)) + gu * kk;
    o.kk = gu * k;
    o.ka = in.ka ? gkt * k * (a - 1.0f) : 0.0f;
    return o;
}
static __global__ void rl__k_rwkv7_prep(int64_t S, int N, int64_t C, int64_t RC, float *y, float *rinv, rl__p7_in in) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        double ss = 0, nrm;
        float r;
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            const int64_t e = s * N + j;
            const float u = in.kk ? in.k[e] * in.kk[e % C] : in.k[e];
            ss += (double)u * u;
        }
        nrm = sqrt(rl__block_sum(ss, RL_DSMEM));
        r = (float)(1.0 / (nrm > (double)RL_P7_EPS ? nrm : (double)RL_P7_EPS));
        if (threadIdx.x == 0) rinv[s] = r;
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            const int64_t e = s * N + j, col = e % C;
            const float k = in.k[e], kap = (in.kk ? k * in.kk[col] : k) * r;
            const float w = expf(-RL_P7_C * rl__sigm(in.zw[e] + in.w0[col])), a = rl__sigm(in.za[e] + in.a0[col]);
            y[e] = w;
            y[RC + e] = in.ka ? k * (1.0f + (a - 1.0f) * in.ka[col]) : k * (1.0f - w + a);
            y[2 * RC + e] = -kap;
            y[3 * RC + e] = kap * a;
        }
    }
}
/* per head gκ·κ to df[s]; gk, gzw, gza (each or NULL): += where bit 0, 1, 2 of acc is set, else = */
static __global__ void rl__k_rwkv7_prep_bwd(int64_t S, int N, int64_t C, int64_t RC, float *gk, float *gzw, float *gza, int acc,
                                            float *df, const float *g, const float *rinv, rl__p7_in in) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        const float r = rinv[s];
        double dot = 0;
        float d;
        if (r < 1.0f / RL_P7_EPS) /* else the norm was below eps: κ = u/eps, linear */
            for (int j = threadIdx.x; j < N; j += blockDim.x) {
                const int64_t e = s * N + j, col = e % C;
                const float kap = (in.kk ? in.k[e] * in.kk[col] : in.k[e]) * r, a = rl__sigm(in.za[e] + in.a0[col]);
                dot += (double)(g[3 * RC + e] * a - g[2 * RC + e]) * kap;
            }
        d = (float)rl__block_sum(dot, RL_DSMEM);
        if (threadIdx.x == 0) df[s] = d;
        for (int j = threadIdx.x; j < N; j += blockDim.x) {
            const int64_t e = s * N + j;
            const rl__p7_g o = rl__p7_elem(in, g, RC, e, e % C, r, d);
            if (gk) gk[e] = (acc & 1 ? gk[e] : 0.0f) + o.k;
            if (gzw) gzw[e] = (acc & 2 ? gzw[e] : 0.0f) + o.zw;
            if (gza) gza[e] = (acc & 4 ? gza[e] : 0.0f) + o.za;
        }
    }
}
static __global__ void rl__k_rwkv7_prep_cols(int64_t R, int N, int64_t C, float *gw0, float *ga0, float *gkk, float *gka, const float *g,
                                             const float *rinv, const float *df, rl__p7_in in) {
    RL_EACH(col, C) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int64_t r = 0; r < R; r++) {
            const int64_t e = r * C + col;
            const rl__p7_g o = rl__p7_elem(in, g, R * C, e, col, rinv[e / N], df[e / N]);
            s0 += o.zw;
            s1 += o.za;
            s2 += o.kk;
            s3 += o.ka;
        }
        if (gw0) gw0[col] += s0;
        if (ga0) ga0[col] += s1;
        if (gkk) gkk[col] += s2;
        if (gka) gka[col] += s3;
    }
}
/* rl__lerp: the gate s = f(z + c) of element i (column i % C), and the gradient of z there (gs = g ⊙ s) */
struct rl__lp_in {
    const float *a, *b, *z, *c;
};
static __device__ __forceinline__ float rl__lp_gate(const rl__lp_in &in, int64_t i, int64_t C, int sig) {
    const float u = (in.z ? in.z[i] : 0.0f) + in.c[i % C];
    return sig ? rl__sigm(u) : u;
}
static __device__ __forceinline__ float rl__lp_gz(const rl__lp_in &in, int64_t i, float g, float s, int sig) {
    return (in.b[i] - in.a[i]) * (sig ? g * s * (1.0f - s) : g);
}
static __global__ void rl__k_lerp(int64_t R, int64_t C, float *y, rl__lp_in in, int sig) {
    RL_EACH(i, R * C) y[i] = in.a[i] + (in.b[i] - in.a[i]) * rl__lp_gate(in, i, C, sig);
}
static __global__ void rl__k_lerp_bwd(int64_t R, int64_t C, float *ga, float *gb, float *gz, int acc, const float *g, rl__lp_in in, int sig) {
    RL_EACH(i, R * C) {
        const float s = rl__lp_gate(in, i, C, sig), gs = g[i] * s;
        if (gb) gb[i] = (acc & 2 ? gb[i] : 0.0f) + gs;
        if (ga) ga[i] = (acc & 1 ? ga[i] : 0.0f) + (g[i] - gs);
        if (gz) gz[i] = (acc & 4 ? gz[i] : 0.0f) + rl__lp_gz(in, i, g[i], s, sig);
    }
}
static __global__ void rl__k_lerp_cols(int64_t R, int64_t C, float *gc, const float *g, rl__lp_in in, int sig) {
    RL_EACH(col, C) {
        float acc = 0;
        for (int64_t r = 0; r < R; r++) {
            const int64_t i = r * C + col;
            acc += rl__lp_gz(in, i, g[i], rl__lp_gate(in, i, C, sig), sig);
        }
        gc[col] += acc;
    }
}
/* slice s = (row, group) s / G, s % G: x + s·d; its channels start at (s % G)·d */
static __global__ void rl__k_groupnorm(int64_t S, int G, int d, float *y, float *stats, const float *x, const float *w,
                                       const float *b, float eps) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        const float *xs = x + s * d;
        const int64_t c0 = (s % G) * d;
        double m = 0, v = 0;
        float mf, r;
        for (int j = threadIdx.x; j < d; j += blockDim.x) m += xs[j];
        m = rl__block_sum(m, RL_DSMEM) / (double)d;
        for (int j = threadIdx.x; j < d; j += blockDim.x) v += (xs[j] - m) * (xs[j] - m);
        v = rl__block_sum(v, RL_DSMEM) / (double)d;
        mf = (float)m;
        r = (float)(1.0 / sqrt(v + eps));
        if (threadIdx.x == 0) {
            stats[2 * s] = mf;
            stats[2 * s + 1] = r;
        }
        for (int j = threadIdx.x; j < d; j += blockDim.x)
            y[s * d + j] = (xs[j] - mf) * r * (w ? w[c0 + j] : 1.0f) + (b ? b[c0 + j] : 0.0f);
    }
}
static __global__ void rl__k_groupnorm_bwd(int64_t S, int G, int d, float *gx, const float *g, const float *x, const float *w,
                                           const float *stats) {
    for (int64_t s = blockIdx.x; s < S; s += gridDim.x) {
        const float *xs = x + s * d, *gs = g + s * d, mean = stats[2 * s], rs = stats[2 * s + 1];
        const int64_t c0 = (s % G) * d;
        double s1 = 0, s2 = 0;
        float m1, m2;
        for (int j = threadIdx.x; j < d; j += blockDim.x) {
            const float xh = (xs[j] - mean) * rs, dxh = gs[j] * (w ? w[c0 + j] : 1.0f);
            s1 += dxh;
            s2 += (double)dxh * xh;
        }
        m1 = (float)(rl__block_sum(s1, RL_DSMEM) / (double)d);
        m2 = (float)(rl__block_sum(s2, RL_DSMEM) / (double)d);
        for (int j = threadIdx.x; j < d; j += blockDim.x) {
            const float xh = (xs[j] - mean) * rs, dxh = gs[j] * (w ? w[c0 + j] : 1.0f);
            gx[s * d + j] += rs * (dxh - m1 - xh * m2);
        }
    }
}
/* gw, gb (either NULL): one thread per column c walking the rows in order */
static __global__ void rl__k_groupnorm_bwd_wb(int64_t R, int64_t C, int G, float *gw, float *gb, const float *g, const float *x,
                                              const float *stats) {
    const int64_t d = C / G;
    RL_EACH(c, C) {
        const int64_t gi = c / d;
        float aw = gw ? gw[c] : 0.0f, ab = gb ? gb[c] : 0.0f;
        for (int64_t r = 0; r < R; r++) {
            const float *st = stats + 2 * (r * G + gi), gv = g[r * C + c];
            aw += gv * ((x[r * C + c] - st[0]) * st[1]);
            ab += gv;
        }
        if (gw) gw[c] = aw;
        if (gb) gb[c] = ab;
    }
}
/* over a row x[0..n) (every thread of the block calls it): m = its max; returns
   Σ exp(x − m) (double), in every thread */
static __device__ __forceinline__ double rl__row_sumexp(const float *x, int64_t n, float &m) {
    float mx = -INFINITY;
    double s = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) mx = fmaxf(mx, x[j]);
    mx = rl__block_max(mx, RL_SMEM);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += (double)expf(x[j] - mx);
    m = mx;
    return rl__block_sum(s, RL_DSMEM);
}
static __global__ void rl__k_softmax(int64_t R, int64_t C, float *y, const float *x, int logspace) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *xr = x + r * C;
        float m;
        const double s = rl__row_sumexp(xr, C, m);
        if (logspace) {
            const float lse = (float)((double)m + log(s));
            for (int64_t j = threadIdx.x; j < C; j += blockDim.x) y[r * C + j] = xr[j] - lse;
        } else {
            const float inv = (float)(1.0 / s);
            for (int64_t j = threadIdx.x; j < C; j += blockDim.x) y[r * C + j] = expf(xr[j] - m) * inv;
        }
    }
}
static __global__ void rl__k_softmax_bwd(int64_t R, int64_t C, float *gx, const float *g, const float *y, int logspace) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *gr = g + r * C, *yr = y + r * C;
        double s = 0;
        float sf;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) s += logspace ? (double)gr[j] : (double)gr[j] * yr[j];
        sf = (float)rl__block_sum(s, RL_DSMEM);
        if (logspace) /* gx = g − softmax · Σg */
            for (int64_t j = threadIdx.x; j < C; j += blockDim.x) gx[r * C + j] += gr[j] - expf(yr[j]) * sf;
        else /* gx = y ⊙ (g − Σ g⊙y) */
            for (int64_t j = threadIdx.x; j < C; j += blockDim.x) gx[r * C + j] += yr[j] * (gr[j] - sf);
    }
}
static __global__ void rl__k_lse(int64_t R, int64_t V, float *lse, const float *x) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        float m;
        const double s = rl__row_sumexp(x + r * V, V, m);
        if (threadIdx.x == 0) lse[r] = (float)((double)m + log(s));
    }
}
/* one block: loss[0] = (Σ_r v_r)·mul/div, in double; v_r = v[r·vs], or with tg v[r] −
   x[r·V + tg[r]] over the rows whose target is in [0, V) */
static __global__ void rl__k_loss(int64_t R, float *loss, const float *v, int64_t vs, const float *x, const int32_t *tg,
                                  int64_t V, double mul, double div) {
    double acc = 0;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) {
        if (!tg) acc += v[r * vs];
        else if (tg[r] >= 0 && tg[r] < V) acc += (double)v[r] - x[r * V + tg[r]];
    }
    acc = rl__block_sum(acc, RL_DSMEM);
    if (threadIdx.x == 0) loss[0] = (float)(acc * mul / div);
}
static __global__ void rl__k_ce_bwd(int64_t R, int64_t V, float *gx, const float *gloss, const float *x, const float *lse,
                                    const int32_t *tg, float inv_count) {
    const float g = gloss[0] * inv_count;
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const int64_t t = tg[r];
        const float l = lse[r];
        if (t < 0 || t >= V) continue; /* the whole block skips the row (no barriers here) */
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            float v = gx[r * V + j] + g * expf(x[r * V + j] - l);
            gx[r * V + j] = j == t ? v - g : v;
        }
    }
}
static __global__ void rl__k_kl(int64_t R, int64_t V, float *aux, const float *s, const float *t) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *sr = s + r * V, *tr = t + r * V;
        float ms = -INFINITY, mt = -INFINITY, lss, lst;
        double es = 0, et = 0, kl = 0;
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            ms = fmaxf(ms, sr[j]);
            mt = fmaxf(mt, tr[j]);
        }
        ms = rl__block_max(ms, RL_SMEM);
        mt = rl__block_max(mt, RL_SMEM);
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            es += (double)expf(sr[j] - ms);
            et += (double)expf(tr[j] - mt);
        }
        lss = (float)((double)ms + log(rl__block_sum(es, RL_DSMEM)));
        lst = (float)((double)mt + log(rl__block_sum(et, RL_DSMEM)));
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            const float ls = sr[j] - lss, lt = tr[j] - lst;
            kl += (double)expf(lt) * (double)(lt - ls);
        }
        kl = rl__block_sum(kl, RL_DSMEM);
        if (threadIdx.x == 0) {
            aux[3 * r] = lss;
            aux[3 * r + 1] = lst;
            aux[3 * r + 2] = (float)kl;
        }
    }
}
static __global__ void rl__k_kl_chunk(int64_t R, int64_t n, double *st, const float *s, const float *t, int first, int last) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float *sr = s + r * n, *tr = t + r * n;
        double *a = st + 5 * r;
        float ms = -INFINITY, mt = -INFINITY;
        double es = 0, et = 0, ea = 0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
            ms = fmaxf(ms, sr[j]);
            mt = fmaxf(mt, tr[j]);
        }
        ms = rl__block_max(ms, RL_SMEM); /* its barriers: every thread has read a[] before thread 0 writes it */
        mt = rl__block_max(mt, RL_SMEM);
        const double ms0 = first ? (double)ms : a[0], mt0 = first ? (double)mt : a[2];
        const float MS = (float)(ms0 > ms ? ms0 : ms), MT = (float)(mt0 > mt ? mt0 : mt);
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
            const double e = expf(tr[j] - MT);
            es += expf(sr[j] - MS);
            et += e;
            ea += e * ((double)tr[j] - sr[j]);
        }
        es = rl__block_sum(es, RL_DSMEM);
        et = rl__block_sum(et, RL_DSMEM);
        ea = rl__block_sum(ea, RL_DSMEM);
        if (threadIdx.x == 0) {
            const double fs = exp(ms0 - MS), ft = exp(mt0 - MT); /* the earlier chunks' sums rescaled (none: first) */
            a[0] = MS;
            a[1] = first ? es : a[1] * fs + es;
            a[2] = MT;
            a[3] = first ? et : a[3] * ft + et;
            a[4] = first ? ea : a[4] * ft + ea;
            if (last) {
                const double ls = a[0] + log(a[1]), lt = a[2] + log(a[3]);
                a[4] = a[4] / a[3] - lt + ls;
                a[0] = ls;
                a[2] = lt;
            }
        }
    }
}
/* one block: loss[0] = the mean over rows of st[5r + 4] (double) */
static __global__ void rl__k_kl_chunk_loss(int64_t R, float *loss, const double *st) {
    double acc = 0;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) acc += st[5 * r + 4];
    acc = rl__block_sum(acc, RL_DSMEM);
    if (threadIdx.x == 0) loss[0] = (float)(acc / (double)R);
}
static __global__ void rl__k_kl_chunk_bwd(int64_t R, int64_t n, float *gs, const float *gloss, const float *s, const float *t,
                                          const double *st) {
    const float g = gloss[0] / (float)R;
    RL_EACH(i, R * n) {
        const int64_t r = i / n;
        gs[i] = g * (expf(s[i] - (float)st[5 * r]) - expf(t[i] - (float)st[5 * r + 2]));
    }
}
static __global__ void rl__k_kl_bwd(int64_t R, int64_t V, float *gs, float *gt, const float *gloss, const float *s, const float *t,
                                    const float *aux) {
    const float g = gloss[0] / (float)R;
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float lss = aux[3 * r], lst = aux[3 * r + 1], kl = aux[3 * r + 2];
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            const float ls = s[r * V + j] - lss, lt = t[r * V + j] - lst, pt = expf(lt);
            if (gs) gs[r * V + j] += g * (expf(ls) - pt);
            if (gt) gt[r * V + j] += g * pt * (lt - ls - kl);
        }
    }
}
static __global__ void rl__k_l2_dist(int64_t R, int64_t C, float *norms, const float *y, const float *t) {
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        double ss = 0;
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
            const double e = (double)y[r * C + j] - t[r * C + j];
            ss += e * e;
        }
        ss = rl__block_sum(ss, RL_DSMEM);
        if (threadIdx.x == 0) norms[r] = (float)sqrt(ss);
    }
}
static __global__ void rl__k_l2_dist_bwd(int64_t R, int64_t C, float *gy, float *gt, const float *gloss, const float *y,
                                         const float *t, const float *norms) {
    const float g = gloss[0] / ((float)R * sqrtf((float)C));
    for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
        const float inv = norms[r] > 0 ? g / norms[r] : 0.0f; /* the norm's gradient at 0 is taken as 0 */
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
            const float e = (y[r * C + j] - t[r * C + j]) * inv;
            if (gy) gy[r * C + j] += e;
            if (gt) gt[r * C + j] -= e;
        }
    }
}

/* a row kernel: one block of RL_ROWT threads per row (grid-stride), shared memory for
   RL_ROWT doubles; nothing to do for no rows */
#define RL_ROWS(what, R, kern, ...)                                                \
    do {                                                                           \
        if ((R) > 0) {                                                             \
            RL_LAUNCH(kern, rl__row_blocks(R), RL_ROWT, RL_ROWT * sizeof(double), __VA_ARGS__); \
            if (rl__launched(what)) return -2;                                     \
        }                                                                          \
    } while (0)
/* a slice kernel: one block per slice of d values */
#define RL_SLICES(what, S, d, kern, ...)                                           \
    do {                                                                           \
        if ((S) > 0) {                                                             \
            const int rl_nt_ = rl__slice_threads(d);                               \
            RL_LAUNCH(kern, rl__row_blocks(S), rl_nt_, rl_nt_ * sizeof(double), __VA_ARGS__); \
            if (rl__launched(what)) return -2;                                     \
        }                                                                          \
    } while (0)

extern "C" int rl_cuda_affine(void *q, float *y, const float *x, float a, float b, int64_t n) {
    RL_ELEMENTWISE("rl_cuda_affine", n, rl__k_affine, n, y, x, a, b);
}
extern "C" int rl_cuda_copy3d(void *q, float *y, int64_t ysb, int64_t ysr, const float *x, int64_t xsb, int64_t xsr, int64_t B,
                              int64_t R, int64_t C, int acc) {
    if (B < 0 || R < 0 || C < 0 || acc < 0 || acc > 1)
        return rl__cu_fail(-1, "rl_cuda_copy3d: %lld × %lld × %lld, acc %d", (long long)B, (long long)R, (long long)C, acc);
    RL_ELEMENTWISE("rl_cuda_copy3d", B * R * C, rl__k_copy3d, B, R, C, y, ysb, ysr, x, xsb, xsr, acc);
}
extern "C" int rl_cuda_embedding(void *q, float *y, const void *E, int e_bf16, const int32_t *ids, int64_t n, int64_t C) {
    if (n < 0 || C < 0) return rl__cu_fail(-1, "rl_cuda_embedding: %lld ids, rows of %lld", (long long)n, (long long)C);
    RL_ELEMENTWISE("rl_cuda_embedding", n * C, rl__k_embedding, n, C, y, E, e_bf16, ids);
}
extern "C" int rl_cuda_embedding_bwd(void *q, float *gE, const float *g, const int32_t *ids, int64_t n, int64_t C) {
    if (n < 0 || C < 0) return rl__cu_fail(-1, "rl_cuda_embedding_bwd: %lld ids, rows of %lld", (long long)n, (long long)C);
    RL_ELEMENTWISE("rl_cuda_embedding_bwd", n * C, rl__k_embedding_bwd, n, C, gE, g, ids);
}
extern "C" int rl_cuda_rope(void *q, float *y, const float *x, const float *tab, int64_t R, int64_t T, int64_t C, int d,
                            int inverse, int acc) {
    if (R < 0 || T < 1 || d < 2 || d % 2 || C < d || C % d || inverse < 0 || inverse > 1 || acc < 0 || acc > 1)
        return rl__cu_fail(-1, "rl_cuda_rope: %lld rows of %lld, T %lld, head %d, inverse %d, acc %d", (long long)R,
                           (long long)C, (long long)T, d, inverse, acc);
    RL_ELEMENTWISE("rl_cuda_rope", R * (C / 2), rl__k_rope, R, T, C, d, y, x, tab, inverse, acc);
}
extern "C" int rl_cuda_l2norm(void *q, float *y, float *rinv, const float *x, int64_t S, int d, float eps) {
    (void)q;
    if (S < 0 || d < 1) return rl__cu_fail(-1, "rl_cuda_l2norm: %lld slices of %d", (long long)S, d);
    RL_SLICES("rl_cuda_l2norm", S, d, rl__k_l2norm, S, d, y, rinv, x, eps);
    return 0;
}
extern "C" int rl_cuda_l2norm_bwd(void *q, float *gx, const float *g, const float *y, const float *rinv, int64_t S, int d, float eps) {
    (void)q;
    if (S < 0 || d < 1) return rl__cu_fail(-1, "rl_cuda_l2norm_bwd: %lld slices of %d", (long long)S, d);
    RL_SLICES("rl_cuda_l2norm_bwd", S, d, rl__k_l2norm_bwd, S, d, gx, g, y, rinv, eps);
    return 0;
}
static rl__p7_in rl__p7_pack(const float *const *in) {
    rl__p7_in p;
    p.k = in[0]; p.zw = in[1]; p.za = in[2]; p.w0 = in[3]; p.a0 = in[4]; p.kk = in[5]; p.ka = in[6];
    return p;
}
extern "C" int rl_cuda_rwkv7_prep(void *q, float *y, float *rinv, const float *const *in, int64_t R, int64_t C, int N) {
    (void)q;
    if (R < 0 || N < 1 || C < N || C % N || !in[5] != !in[6])
        return rl__cu_fail(-1, "rl_cuda_rwkv7_prep: %lld rows of %lld in heads of %d (k_k and k_a: both or neither)", (long long)R, (long long)C, N);
    RL_SLICES("rl_cuda_rwkv7_prep", R * (C / N), N, rl__k_rwkv7_prep, R * (C / N), N, C, R * C, y, rinv, rl__p7_pack(in));
    return 0;
}
extern "C" int rl_cuda_rwkv7_prep_bwd(void *q, float *const *gi, int acc, const float *g, const float *const *in, const float *rinv,
                                      int64_t R, int64_t C, int N) {
    const char *rl__cu_what = "rl_cuda_rwkv7_prep_bwd";
    const int64_t S = R * (C / (N > 0 ? N : 1));
    float *df = NULL;
    int rc = 0;
    (void)q;
    if (R < 0 || N < 1 || C < N || C % N || !in[5] != !in[6])
        return rl__cu_fail(-1, "rl_cuda_rwkv7_prep_bwd: %lld rows of %lld in heads of %d (k_k and k_a: both or neither)", (long long)R, (long long)C, N);
    if (!S) return 0;
    RL_CU(cudaMalloc((void **)&df, (size_t)S * sizeof(float)));
    {
        const int nt = rl__slice_threads(N);
        RL_LAUNCH(rl__k_rwkv7_prep_bwd, rl__row_blocks(S), nt, nt * sizeof(double), S, N, C, R * C, gi[0], gi[1], gi[2], acc, df, g, rinv,
                  rl__p7_pack(in));
    }
    RL_CU(cudaGetLastError());
    if (gi[3] || gi[4] || gi[5] || gi[6]) {
        RL_LAUNCH(rl__k_rwkv7_prep_cols, rl__grid(C), 256, 0, R, N, C, gi[3], gi[4], gi[5], gi[6], g, rinv, df, rl__p7_pack(in));
        RL_CU(cudaGetLastError());
    }
    RL_CU(cudaDeviceSynchronize()); /* before the workspace goes */
fail:
    if (df) cudaFree(df);
    return rc;
}
static rl__lp_in rl__lp_pack(const float *const *in) {
    rl__lp_in p;
    p.a = in[0]; p.b = in[1]; p.z = in[2]; p.c = in[3];
    return p;
}
extern "C" int rl_cuda_lerp(void *q, float *y, const float *const *in, int64_t R, int64_t C, int sig) {
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_lerp: %lld rows of %lld", (long long)R, (long long)C);
    RL_ELEMENTWISE("rl_cuda_lerp", R * C, rl__k_lerp, R, C, y, rl__lp_pack(in), sig);
}
extern "C" int rl_cuda_lerp_bwd(void *q, float *const *gi, int acc, const float *g, const float *const *in, int64_t R, int64_t C, int sig) {
    (void)q;
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_lerp_bwd: %lld rows of %lld", (long long)R, (long long)C);
    if (!R) return 0;
    if (gi[0] || gi[1] || gi[2]) {
        RL_LAUNCH(rl__k_lerp_bwd, rl__grid(R * C), 256, 0, R, C, gi[0], gi[1], gi[2], acc, g, rl__lp_pack(in), sig);
        if (rl__launched("rl_cuda_lerp_bwd")) return -2;
    }
    if (gi[3]) {
        RL_LAUNCH(rl__k_lerp_cols, rl__grid(C), 256, 0, R, C, gi[3], g, rl__lp_pack(in), sig);
        if (rl__launched("rl_cuda_lerp_bwd")) return -2;
    }
    return 0;
}
extern "C" int rl_cuda_groupnorm(void *q, float *y, float *stats, const float *x, const float *w, const float *b, int64_t R,
                                 int64_t C, int G, float eps) {
    (void)q;
    if (R < 0 || C < 1 || G < 1 || C % G)
        return rl__cu_fail(-1, "rl_cuda_groupnorm: %lld rows of %lld in %d groups", (long long)R, (long long)C, G);
    RL_SLICES("rl_cuda_groupnorm", R * G, C / G, rl__k_groupnorm, R * G, G, (int)(C / G), y, stats, x, w, b, eps);
    return 0;
}
extern "C" int rl_cuda_groupnorm_bwd(void *q, float *gx, float *gw, float *gb, const float *g, const float *x, const float *w,
                                     const float *stats, int64_t R, int64_t C, int G) {
    (void)q;
    if (R < 0 || C < 1 || G < 1 || C % G)
        return rl__cu_fail(-1, "rl_cuda_groupnorm_bwd: %lld rows of %lld in %d groups", (long long)R, (long long)C, G);
    if (gx) RL_SLICES("rl_cuda_groupnorm_bwd", R * G, C / G, rl__k_groupnorm_bwd, R * G, G, (int)(C / G), gx, g, x, w, stats);
    if (gw || gb) {
        RL_LAUNCH(rl__k_groupnorm_bwd_wb, rl__grid(C), 256, 0, R, C, G, gw, gb, g, x, stats);
        return rl__launched("rl_cuda_groupnorm_bwd");
    }
    return 0;
}
extern "C" int rl_cuda_softmax(void *q, float *y, const float *x, int64_t R, int64_t C, int logspace) {
    (void)q;
    if (R < 0 || C < 1 || logspace < 0 || logspace > 1)
        return rl__cu_fail(-1, "rl_cuda_softmax: %lld rows of %lld, logspace %d", (long long)R, (long long)C, logspace);
    RL_ROWS("rl_cuda_softmax", R, rl__k_softmax, R, C, y, x, logspace);
    return 0;
}
extern "C" int rl_cuda_softmax_bwd(void *q, float *gx, const float *g, const float *y, int64_t R, int64_t C, int logspace) {
    (void)q;
    if (R < 0 || C < 1 || logspace < 0 || logspace > 1)
        return rl__cu_fail(-1, "rl_cuda_softmax_bwd: %lld rows of %lld, logspace %d", (long long)R, (long long)C, logspace);
    RL_ROWS("rl_cuda_softmax_bwd", R, rl__k_softmax_bwd, R, C, gx, g, y, logspace);
    return 0;
}
extern "C" int rl_cuda_cross_entropy(void *q, float *loss, float *lse, const float *x, const int32_t *tg, int64_t R, int64_t V,
                                     float inv_count) {
    (void)q;
    if (R < 0 || V < 1) return rl__cu_fail(-1, "rl_cuda_cross_entropy: %lld rows of %lld", (long long)R, (long long)V);
    RL_ROWS("rl_cuda_cross_entropy", R, rl__k_lse, R, V, lse, x);
    RL_LAUNCH(rl__k_loss, 1, RL_ROWT, RL_ROWT * sizeof(double), R, loss, lse, (int64_t)1, x, tg, V, (double)inv_count, 1.0);
    return rl__launched("rl_cuda_cross_entropy");
}
extern "C" int rl_cuda_cross_entropy_bwd(void *q, float *gx, const float *gloss, const float *x, const float *lse,
                                         const int32_t *tg, int64_t R, int64_t V, float inv_count) {
    (void)q;
    if (R < 0 || V < 1) return rl__cu_fail(-1, "rl_cuda_cross_entropy_bwd: %lld rows of %lld", (long long)R, (long long)V);
    if (!R) return 0;
    RL_LAUNCH(rl__k_ce_bwd, rl__row_blocks(R), RL_ROWT, 0, R, V, gx, gloss, x, lse, tg, inv_count);
    return rl__launched("rl_cuda_cross_entropy_bwd");
}
extern "C" int rl_cuda_kl_div(void *q, float *loss, float *aux, const float *s, const float *t, int64_t R, int64_t V) {
    (void)q;
    if (R < 0 || V < 1) return rl__cu_fail(-1, "rl_cuda_kl_div: %lld rows of %lld", (long long)R, (long long)V);
    RL_ROWS("rl_cuda_kl_div", R, rl__k_kl, R, V, aux, s, t);
    RL_LAUNCH(rl__k_loss, 1, RL_ROWT, RL_ROWT * sizeof(double), R, loss, aux + 2, (int64_t)3, (const float *)NULL,
              (const int32_t *)NULL, V, 1.0, (double)R);
    return rl__launched("rl_cuda_kl_div");
}
extern "C" int rl_cuda_kl_div_bwd(void *q, float *gs, float *gt, const float *gloss, const float *s, const float *t,
                                  const float *aux, int64_t R, int64_t V) {
    (void)q;
    if (R < 0 || V < 1) return rl__cu_fail(-1, "rl_cuda_kl_div_bwd: %lld rows of %lld", (long long)R, (long long)V);
    if (!R || (!gs && !gt)) return 0;
    RL_LAUNCH(rl__k_kl_bwd, rl__row_blocks(R), RL_ROWT, 0, R, V, gs, gt, gloss, s, t, aux);
    return rl__launched("rl_cuda_kl_div_bwd");
}
extern "C" int rl_cuda_kl_chunk(void *q, double *st, float *loss, const float *s, const float *t, int64_t R, int64_t n, int first, int last) {
    (void)q;
    if (R < 1 || n < 1) return rl__cu_fail(-1, "rl_cuda_kl_chunk: %lld rows of %lld", (long long)R, (long long)n);
    RL_ROWS("rl_cuda_kl_chunk", R, rl__k_kl_chunk, R, n, st, s, t, first, last);
    if (!last) return 0;
    RL_LAUNCH(rl__k_kl_chunk_loss, 1, RL_ROWT, RL_ROWT * sizeof(double), R, loss, (const double *)st);
    return rl__launched("rl_cuda_kl_chunk");
}
extern "C" int rl_cuda_kl_chunk_bwd(void *q, float *gs, const float *gloss, const float *s, const float *t, const double *st, int64_t R,
                                    int64_t n) {
    RL_ELEMENTWISE("rl_cuda_kl_chunk_bwd", R * n, rl__k_kl_chunk_bwd, R, n, gs, gloss, s, t, st);
}
extern "C" int rl_cuda_l2_dist(void *q, float *loss, float *norms, const float *y, const float *t, int64_t R, int64_t C) {
    (void)q;
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_l2_dist: %lld rows of %lld", (long long)R, (long long)C);
    RL_ROWS("rl_cuda_l2_dist", R, rl__k_l2_dist, R, C, norms, y, t);
    RL_LAUNCH(rl__k_loss, 1, RL_ROWT, RL_ROWT * sizeof(double), R, loss, norms, (int64_t)1, (const float *)NULL,
              (const int32_t *)NULL, C, 1.0, (double)R * sqrt((double)C));
    return rl__launched("rl_cuda_l2_dist");
}
extern "C" int rl_cuda_l2_dist_bwd(void *q, float *gy, float *gt, const float *gloss, const float *y, const float *t,
                                   const float *norms, int64_t R, int64_t C) {
    (void)q;
    if (R < 0 || C < 1) return rl__cu_fail(-1, "rl_cuda_l2_dist_bwd: %lld rows of %lld", (long long)R, (long long)C);
    if (!R || (!gy && !gt)) return 0;
    RL_LAUNCH(rl__k_l2_dist_bwd, rl__row_blocks(R), RL_ROWT, 0, R, C, gy, gt, gloss, y, t, norms);
    return rl__launched("rl_cuda_l2_dist_bwd");
}


/* ==== causal softmax attention (rl_attention) ==============================
   The math of radlads.h's rl_attention, per sequence b and query head h (kv head
   g = h / (H/KVH)): s_tj = q_t·k_j / √d for j ≤ t, P = softmax_j(s), y_t = Σ_j P_tj v_j,
   lse_t = log Σ_{j≤t} exp(s_tj) at lse[(b*H + h)*T + t]. Backward (P recomputed from lse):
   D_t = gy_t·y_t, dS_tj = P_tj (gy_t·v_j − D_t) / √d, gq_t += Σ_j dS_tj k_j,
   gk_j += Σ_t dS_tj q_t, gv_j += Σ_t P_tj gy_t (gk, gv summed over the query heads of g).

   Flash-attention layout, memory linear in T (no T×T matrix anywhere, no workspace):
   blocks of RL_ATT_NT = 256 threads seen as a 16×16 grid (tx = thread & 15, ty = thread >> 4);
   a tile of rows is staged in shared memory ([rows][DM + 1], zero past T and past d); each
   thread owns the rows ty + 16i and the columns tx + 16m of the tile products, in
   registers (compile-time indices). DM, the head size rounded up to 32, 64 or 128, is a
   template parameter; d <= DM at run time. Tiles (rl__att_tiles): BQ = 64 query rows,
   BK = 64 key rows (32 when DM = 128).
   - rl__k_att_fwd, one block per (b, h, query tile), heaviest (last) tiles first: walks the
     key tiles j0 <= the tile's last row with an online softmax. Per key tile: stage K, V;
     S = Q·Kᵀ·scale (masked -inf) in registers, row maxima through shared memory; P =
     exp(S − m) to shared memory; O = α·O + P·V and l = α·l + ΣP in registers (every thread
     of a row sums the same P in the same order). Y = O / l, lse = m + log l.
   - rl__k_att_bwd_q, one block per (b, h, query tile): D for its rows, then over the key
     tiles j0 <= its last row: S and dP = gY·Vᵀ in registers, dS to shared memory,
     gq += dS·K in registers; added to gq at the end.
   - rl__k_att_bwd_kv, one block per (b, kv head g, key tile), first tiles (the most work)
     first: stages its K, V once, then for each query head of g and each query tile from
     t0 = j0 on: stages Q, gY, lse and D (recomputed per tile, a row dot product; cheaper
     than a pass and a workspace), P and dS (transposed: key rows × query columns) to
     shared memory, gv += P·gY and gk += dS·Q in registers; added to gk, gv at the end.
   Every sum runs in a fixed order: results are deterministic (the same bits for any grid
   size or thread order), no atomics. Shared memory per block (rl__att_smem, opted in with
   rl__smem_attr): DM 32: fwd 50 KB, bwd_q 55 KB, bwd_kv 75 KB; DM 64: 75, 88, 108 KB;
   DM 128: 83, 112, 120 KB (all within sm_80's 163 KB). Registers (nvcc 13.0, sm_80 /
   sm_90): 86 to 168 per thread, no spills; the runtime loops over d and over the tile's
   rows unroll by 2 (full unrolling took ptxas to 255 registers and spills). */

#define RL_ATT_NT 256 /* threads of an attention block: a 16×16 grid */

template <int DM>
struct rl__att_tiles {
    enum { BQ = 64, BK = DM > 64 ? 32 : 64 };
};

/* rows [0, ROWS) of src (row stride ld, a head's columns) into dst [ROWS][DM + 1]: zero at
   rows >= n or columns >= d. Every thread calls it; coalesced (consecutive threads,
   consecutive columns). */
template <int DM, int ROWS>
static __device__ __forceinline__ void rl__att_stage(float *dst, const float *__restrict__ src, int64_t ld, int n, int d) {
#pragma unroll 4
    for (int k = 0; k < ROWS * DM / RL_ATT_NT; k++) {
        const int e = k * RL_ATT_NT + (int)threadIdx.x, r = e / DM, c = e % DM;
        dst[r * (DM + 1) + c] = (r < n && c < d) ? src[(int64_t)r * ld + c] : 0.0f;
    }
}

/* Ds[r] = gy_r·y_r for the ROWS rows of gy and y (row stride ld), 0 at rows >= n; red:
   ROWS × 17 floats of shared scratch, free on entry. Every thread calls it; one barrier
   inside; the caller synchronises before reading Ds or reusing red. */
/* the two tile products of the backward kernels: s[i][j] = Σ_e A(ty+16i, e)·C(tx+16j, e) and
   dp[i][j] = Σ_e B(ty+16i, e)·D(tx+16j, e) over e < d, tiles in shared memory with row stride LD */
template <int LD, int RI, int CJ>
static __device__ __forceinline__ void rl__att_dots2(float (&s)[RI][CJ], float (&dp)[RI][CJ], const float *A, const float *B,
                                                     const float *C, const float *D, int d) {
    const int tx = (int)threadIdx.x & 15, ty = (int)threadIdx.x >> 4;
#pragma unroll
    for (int i = 0; i < RI; i++)
#pragma unroll
        for (int jj = 0; jj < CJ; jj++) s[i][jj] = dp[i][jj] = 0;
    #pragma unroll 2
    for (int e = 0; e < d; e++) {
        float a[RI], b[RI], c[CJ], dd[CJ];
#pragma unroll
        for (int i = 0; i < RI; i++) {
            a[i] = A[(ty + 16 * i) * LD + e];
            b[i] = B[(ty + 16 * i) * LD + e];
        }
#pragma unroll
        for (int jj = 0; jj < CJ; jj++) {
            c[jj] = C[(tx + 16 * jj) * LD + e];
            dd[jj] = D[(tx + 16 * jj) * LD + e];
        }
#pragma unroll
        for (int i = 0; i < RI; i++)
#pragma unroll
            for (int jj = 0; jj < CJ; jj++) {
                s[i][jj] += a[i] * c[jj];
                dp[i][jj] += b[i] * dd[jj];
            }
    }
}

template <int DM, int ROWS>
static __device__ __forceinline__ void rl__att_rowdot(float *Ds, float *red, const float *__restrict__ gy,
                                                      const float *__restrict__ y, int64_t ld, int n, int d) {
    const int lane = (int)threadIdx.x & 15, g = (int)threadIdx.x >> 4;
#pragma unroll
    for (int i = 0; i < ROWS / 16; i++) {
        const int r = g + 16 * i;
        float s = 0;
#pragma unroll
        for (int m = 0; m < DM / 16; m++) {
            const int c = lane + 16 * m;
            if (r < n && c < d) s += gy[(int64_t)r * ld + c] * y[(int64_t)r * ld + c];
        }
        red[r * 17 + lane] = s;
    }
    __syncthreads();
    if ((int)threadIdx.x < ROWS) {
        float s = 0;
        for (int x = 0; x < 16; x++) s += red[(int)threadIdx.x * 17 + x];
        Ds[threadIdx.x] = s;
    }
}

/* Forward. smem: Qs [BQ][LD], Ks, Vs [BK][LD], Ps [BQ][BK+16], Rs [BQ][17] (row-max
   partials), Ms (running max), As (rescale factor) [BQ]. */
template <int DM>
__global__ void __launch_bounds__(RL_ATT_NT, 1) rl__k_att_fwd(int B, int T, int H, int KVH, int d, float scale,
                                                         const float *__restrict__ Q, const float *__restrict__ K,
                                                         const float *__restrict__ V, float *__restrict__ Y,
                                                         float *__restrict__ lse) {
    enum { BQ = rl__att_tiles<DM>::BQ, BK = rl__att_tiles<DM>::BK, LD = DM + 1, PLD = BK + 16 };
    enum { RI = BQ / 16, CJ = BK / 16, CM = DM / 16 };
    float *Qs = RL_SMEM, *Ks = Qs + BQ * LD, *Vs = Ks + BK * LD, *Ps = Vs + BK * LD, *Rs = Ps + BQ * PLD;
    float *Ms = Rs + BQ * 17, *As = Ms + BQ;
    const int tx = (int)threadIdx.x & 15, ty = (int)threadIdx.x >> 4, nqt = (T + BQ - 1) / BQ;
    const int64_t Cq = (int64_t)H * d, Ck = (int64_t)KVH * d, BH = (int64_t)B * H, ntask = BH * nqt;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        const int qt = nqt - 1 - (int)(task / BH), bh = (int)(task % BH), b = bh / H, h = bh % H, g = h / (H / KVH);
        const int t0 = qt * BQ, nq = rl__imin(BQ, T - t0);
        const float *kb = K + (int64_t)b * T * Ck + (int64_t)g * d, *vb = V + (int64_t)b * T * Ck + (int64_t)g * d;
        float acc[RI][CM], l[RI];
#pragma unroll
        for (int i = 0; i < RI; i++) {
            l[i] = 0;
#pragma unroll
            for (int m = 0; m < CM; m++) acc[i][m] = 0;
        }
        __syncthreads(); /* the previous task is done with the shared memory */
        rl__att_stage<DM, BQ>(Qs, Q + ((int64_t)b * T + t0) * Cq + (int64_t)h * d, Cq, nq, d);
        if ((int)threadIdx.x < BQ) Ms[threadIdx.x] = -INFINITY;
        for (int j0 = 0; j0 < t0 + nq; j0 += BK) {
            const int nk = rl__imin(BK, T - j0), jn = rl__imin(nk, t0 + nq - j0);
            float s[RI][CJ];
            __syncthreads(); /* Ks, Vs, Ps free */
            rl__att_stage<DM, BK>(Ks, kb + (int64_t)j0 * Ck, Ck, nk, d);
            rl__att_stage<DM, BK>(Vs, vb + (int64_t)j0 * Ck, Ck, nk, d);
            __syncthreads();
#pragma unroll
            for (int i = 0; i < RI; i++)
#pragma unroll
                for (int jj = 0; jj < CJ; jj++) s[i][jj] = 0;
            #pragma unroll 2
            for (int e = 0; e < d; e++) {
                float qa[RI], ka[CJ];
#pragma unroll
                for (int i = 0; i < RI; i++) qa[i] = Qs[(ty + 16 * i) * LD + e];
#pragma unroll
                for (int jj = 0; jj < CJ; jj++) ka[jj] = Ks[(tx + 16 * jj) * LD + e];
#pragma unroll
                for (int i = 0; i < RI; i++)
#pragma unroll
                    for (int jj = 0; jj < CJ; jj++) s[i][jj] += qa[i] * ka[jj];
            }
#pragma unroll
            for (int i = 0; i < RI; i++) {
                const int t = t0 + ty + 16 * i;
                float mx = -INFINITY;
#pragma unroll
                for (int jj = 0; jj < CJ; jj++) {
                    const int j = j0 + tx + 16 * jj;
                    s[i][jj] = (j <= t && j < T) ? s[i][jj] * scale : -INFINITY;
                    mx = fmaxf(mx, s[i][jj]);
                }
                Rs[(ty + 16 * i) * 17 + tx] = mx;
            }
            __syncthreads();
            if ((int)threadIdx.x < BQ) { /* the new running max and the rescale factor of row r */
                const int r = (int)threadIdx.x;
                const float old = Ms[r];
                float mx = old;
                for (int x = 0; x < 16; x++) mx = fmaxf(mx, Rs[r * 17 + x]);
                As[r] = mx == -INFINITY ? 1.0f : expf(old - mx);
                Ms[r] = mx;
            }
            __syncthreads();
#pragma unroll
            for (int i = 0; i < RI; i++) {
                const float m = Ms[ty + 16 * i];
#pragma unroll
                for (int jj = 0; jj < CJ; jj++)
                    Ps[(ty + 16 * i) * PLD + tx + 16 * jj] = s[i][jj] == -INFINITY ? 0.0f : expf(s[i][jj] - m);
            }
            __syncthreads();
#pragma unroll
            for (int i = 0; i < RI; i++) {
                const float a = As[ty + 16 * i];
                l[i] *= a;
#pragma unroll
                for (int m = 0; m < CM; m++) acc[i][m] *= a;
            }
            #pragma unroll 2
            for (int j = 0; j < jn; j++) {
                float p[RI], vv[CM];
#pragma unroll
                for (int i = 0; i < RI; i++) p[i] = Ps[(ty + 16 * i) * PLD + j];
#pragma unroll
                for (int m = 0; m < CM; m++) vv[m] = Vs[j * LD + tx + 16 * m];
#pragma unroll
                for (int i = 0; i < RI; i++) {
                    l[i] += p[i];
#pragma unroll
                    for (int m = 0; m < CM; m++) acc[i][m] += p[i] * vv[m];
                }
            }
        }
#pragma unroll
        for (int i = 0; i < RI; i++) {
            const int r = ty + 16 * i;
            if (r < nq) {
                float *yr = Y + ((int64_t)b * T + t0 + r) * Cq + (int64_t)h * d;
                const float inv = 1.0f / l[i];
#pragma unroll
                for (int m = 0; m < CM; m++)
                    if (tx + 16 * m < d) yr[tx + 16 * m] = acc[i][m] * inv;
                if (lse && tx == 0) lse[(int64_t)bh * T + t0 + r] = Ms[r] + logf(l[i]);
            }
        }
    }
}

/* Backward, query side: gq. smem: Qs, Gs (gy) [BQ][LD], Ks, Vs [BK][LD], Ss (dS; first
   the scratch of the row dots) [BQ][BK+16], Ls (lse), Ds [BQ]. */
template <int DM>
__global__ void __launch_bounds__(RL_ATT_NT, 1) rl__k_att_bwd_q(int B, int T, int H, int KVH, int d, float scale,
                                                           const float *__restrict__ gy, const float *__restrict__ Q,
                                                           const float *__restrict__ K, const float *__restrict__ V,
                                                           const float *__restrict__ Y, const float *__restrict__ lse,
                                                           float *__restrict__ gq) {
    enum { BQ = rl__att_tiles<DM>::BQ, BK = rl__att_tiles<DM>::BK, LD = DM + 1, PLD = BK + 16 };
    enum { RI = BQ / 16, CJ = BK / 16, CM = DM / 16 };
    float *Qs = RL_SMEM, *Gs = Qs + BQ * LD, *Ks = Gs + BQ * LD, *Vs = Ks + BK * LD, *Ss = Vs + BK * LD;
    float *Ls = Ss + BQ * PLD, *Ds = Ls + BQ;
    const int tx = (int)threadIdx.x & 15, ty = (int)threadIdx.x >> 4, nqt = (T + BQ - 1) / BQ;
    const int64_t Cq = (int64_t)H * d, Ck = (int64_t)KVH * d, BH = (int64_t)B * H, ntask = BH * nqt;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        const int qt = nqt - 1 - (int)(task / BH), bh = (int)(task % BH), b = bh / H, h = bh % H, g = h / (H / KVH);
        const int t0 = qt * BQ, nq = rl__imin(BQ, T - t0);
        const int64_t qo = ((int64_t)b * T + t0) * Cq + (int64_t)h * d;
        const float *kb = K + (int64_t)b * T * Ck + (int64_t)g * d, *vb = V + (int64_t)b * T * Ck + (int64_t)g * d;
        float acc[RI][CM];
#pragma unroll
        for (int i = 0; i < RI; i++)
#pragma unroll
            for (int m = 0; m < CM; m++) acc[i][m] = 0;
        __syncthreads(); /* the previous task is done with the shared memory */
        rl__att_stage<DM, BQ>(Qs, Q + qo, Cq, nq, d);
        rl__att_stage<DM, BQ>(Gs, gy + qo, Cq, nq, d);
        if ((int)threadIdx.x < BQ) Ls[threadIdx.x] = (int)threadIdx.x < nq ? lse[(int64_t)bh * T + t0 + (int)threadIdx.x] : 0.0f;
        rl__att_rowdot<DM, BQ>(Ds, Ss, gy + qo, Y + qo, Cq, nq, d);
        for (int j0 = 0; j0 < t0 + nq; j0 += BK) {
            const int nk = rl__imin(BK, T - j0), jn = rl__imin(nk, t0 + nq - j0);
            float s[RI][CJ], dp[RI][CJ];
            __syncthreads(); /* Ks, Vs, Ss free; Qs, Gs, Ls, Ds written */
            rl__att_stage<DM, BK>(Ks, kb + (int64_t)j0 * Ck, Ck, nk, d);
            rl__att_stage<DM, BK>(Vs, vb + (int64_t)j0 * Ck, Ck, nk, d);
            __syncthreads();
            rl__att_dots2<LD, RI, CJ>(s, dp, Qs, Gs, Ks, Vs, d); /* S = Q·Kᵀ, dP = gY·Vᵀ */
#pragma unroll
            for (int i = 0; i < RI; i++) {
                const int r = ty + 16 * i, t = t0 + r;
                const float L = Ls[r], D = Ds[r];
#pragma unroll
                for (int jj = 0; jj < CJ; jj++) {
                    const int j = j0 + tx + 16 * jj;
                    float ds = 0;
                    if (j <= t && t < T) {
                        const float p = expf(s[i][jj] * scale - L);
                        ds = p * (dp[i][jj] - D) * scale;
                    }
                    Ss[r * PLD + tx + 16 * jj] = ds;
                }
            }
            __syncthreads();
            #pragma unroll 2
            for (int j = 0; j < jn; j++) {
                float ds[RI], kv[CM];
#pragma unroll
                for (int i = 0; i < RI; i++) ds[i] = Ss[(ty + 16 * i) * PLD + j];
#pragma unroll
                for (int m = 0; m < CM; m++) kv[m] = Ks[j * LD + tx + 16 * m];
#pragma unroll
                for (int i = 0; i < RI; i++)
#pragma unroll
                    for (int m = 0; m < CM; m++) acc[i][m] += ds[i] * kv[m];
            }
        }
#pragma unroll
        for (int i = 0; i < RI; i++) {
            const int r = ty + 16 * i;
            if (r < nq) {
                float *gr = gq + qo + (int64_t)r * Cq;
#pragma unroll
                for (int m = 0; m < CM; m++)
                    if (tx + 16 * m < d) gr[tx + 16 * m] += acc[i][m];
            }
        }
    }
}

/* Backward, key side: gk, gv (either may be NULL, not both). The thread grid's rows are
   key rows (RI = BK/16 of them), its columns query rows. smem: Ks, Vs [BK][LD], Qs, Gs
   [BQ][LD], Ps (first the scratch of the row dots), Ss [BK][BQ+16], Ls, Ds [BQ]. */
template <int DM>
__global__ void __launch_bounds__(RL_ATT_NT, 1) rl__k_att_bwd_kv(int B, int T, int H, int KVH, int d, float scale,
                                                            const float *__restrict__ gy, const float *__restrict__ Q,
                                                            const float *__restrict__ K, const float *__restrict__ V,
                                                            const float *__restrict__ Y, const float *__restrict__ lse,
                                                            float *__restrict__ gk, float *__restrict__ gv) {
    enum { BQ = rl__att_tiles<DM>::BQ, BK = rl__att_tiles<DM>::BK, LD = DM + 1, PLD = BQ + 16 };
    enum { RI = BK / 16, CJ = BQ / 16, CM = DM / 16 };
    static_assert(BK * PLD >= BQ * 17, "the row-dot scratch fits in Ps");
    float *Ks = RL_SMEM, *Vs = Ks + BK * LD, *Qs = Vs + BK * LD, *Gs = Qs + BQ * LD, *Ps = Gs + BQ * LD;
    float *Ss = Ps + BK * PLD, *Ls = Ss + BK * PLD, *Ds = Ls + BQ;
    const int tx = (int)threadIdx.x & 15, ty = (int)threadIdx.x >> 4, nkt = (T + BK - 1) / BK, G = H / KVH;
    const int64_t Cq = (int64_t)H * d, Ck = (int64_t)KVH * d, BG = (int64_t)B * KVH, ntask = BG * nkt;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        const int kt = (int)(task / BG), bg = (int)(task % BG), b = bg / KVH, g = bg % KVH;
        const int j0 = kt * BK, nk = rl__imin(BK, T - j0);
        const int64_t ko = ((int64_t)b * T + j0) * Ck + (int64_t)g * d;
        float ak[RI][CM], av[RI][CM];
#pragma unroll
        for (int i = 0; i < RI; i++)
#pragma unroll
            for (int m = 0; m < CM; m++) ak[i][m] = av[i][m] = 0;
        __syncthreads(); /* cheap insurance: the last phase of a task reads no Ks, Vs */
        rl__att_stage<DM, BK>(Ks, K + ko, Ck, nk, d);
        rl__att_stage<DM, BK>(Vs, V + ko, Ck, nk, d);
        for (int hh = 0; hh < G; hh++) {
            const int h = g * G + hh;
            for (int t0 = j0; t0 < T; t0 += BQ) {
                const int nq = rl__imin(BQ, T - t0);
                const int64_t qo = ((int64_t)b * T + t0) * Cq + (int64_t)h * d;
                const float *lr = lse + ((int64_t)b * H + h) * T + t0;
                float s[RI][CJ], dp[RI][CJ];
                __syncthreads(); /* Qs, Gs, Ps, Ss, Ls, Ds free */
                rl__att_stage<DM, BQ>(Qs, Q + qo, Cq, nq, d);
                rl__att_stage<DM, BQ>(Gs, gy + qo, Cq, nq, d);
                if ((int)threadIdx.x < BQ) Ls[threadIdx.x] = (int)threadIdx.x < nq ? lr[threadIdx.x] : 0.0f;
                rl__att_rowdot<DM, BQ>(Ds, Ps, gy + qo, Y + qo, Cq, nq, d);
                __syncthreads(); /* Ds written, the scratch read: Ps free */
                rl__att_dots2<LD, RI, CJ>(s, dp, Ks, Vs, Qs, Gs, d); /* Sᵀ = K·Qᵀ, dPᵀ = V·gYᵀ */
#pragma unroll
                for (int i = 0; i < RI; i++) {
                    const int r = ty + 16 * i, j = j0 + r;
#pragma unroll
                    for (int jj = 0; jj < CJ; jj++) {
                        const int c = tx + 16 * jj, t = t0 + c;
                        float p = 0, ds = 0;
                        if (j <= t && t < T) {
                            p = expf(s[i][jj] * scale - Ls[c]);
                            ds = p * (dp[i][jj] - Ds[c]) * scale;
                        }
                        Ps[r * PLD + c] = p;
                        Ss[r * PLD + c] = ds;
                    }
                }
                __syncthreads();
                #pragma unroll 2
                for (int tq = 0; tq < nq; tq++) {
                    float p[RI], ds[RI], qv[CM], gv4[CM];
#pragma unroll
                    for (int i = 0; i < RI; i++) {
                        p[i] = Ps[(ty + 16 * i) * PLD + tq];
                        ds[i] = Ss[(ty + 16 * i) * PLD + tq];
                    }
#pragma unroll
                    for (int m = 0; m < CM; m++) {
                        qv[m] = Qs[tq * LD + tx + 16 * m];
                        gv4[m] = Gs[tq * LD + tx + 16 * m];
                    }
#pragma unroll
                    for (int i = 0; i < RI; i++)
#pragma unroll
                        for (int m = 0; m < CM; m++) {
                            av[i][m] += p[i] * gv4[m];
                            ak[i][m] += ds[i] * qv[m];
                        }
                }
            }
        }
#pragma unroll
        for (int i = 0; i < RI; i++) {
            const int r = ty + 16 * i;
            if (r < nk) {
                const int64_t o = ko + (int64_t)r * Ck;
#pragma unroll
                for (int m = 0; m < CM; m++)
                    if (tx + 16 * m < d) {
                        if (gk) gk[o + tx + 16 * m] += ak[i][m];
                        if (gv) gv[o + tx + 16 * m] += av[i][m];
                    }
            }
        }
    }
}

template <int DM>
static size_t rl__att_smem(int which) { /* 0 fwd, 1 bwd_q, 2 bwd_kv */
    typedef rl__att_tiles<DM> t;
    const size_t LD = DM + 1, BQ = t::BQ, BK = t::BK;
    const size_t f = which == 0   ? BQ * LD + 2 * BK * LD + BQ * (BK + 16) + BQ * 17 + 2 * BQ
                     : which == 1 ? 2 * BQ * LD + 2 * BK * LD + BQ * (BK + 16) + 2 * BQ
                                  : 2 * BK * LD + 2 * BQ * LD + 2 * BK * (BQ + 16) + 2 * BQ;
    return f * sizeof(float);
}

#ifndef RL_ATT_GRID_MAX
#define RL_ATT_GRID_MAX (1 << 20) /* blocks of a launch; they loop over the tasks (tests set it small) */
#endif
static unsigned rl__att_grid(int64_t tasks) { return (unsigned)(tasks < 1 ? 1 : tasks > RL_ATT_GRID_MAX ? RL_ATT_GRID_MAX : tasks); }

static int rl__att_args(const char *what, int64_t B, int64_t T, int H, int KVH, int d) {
    if (B < 1 || T < 1 || H < 1 || KVH < 1 || H % KVH || d < 1 || d > 128)
        return rl__cu_fail(-1, "%s: B %lld, T %lld, %d heads, %d kv heads, head size %d (1..128)", what, (long long)B,
                           (long long)T, H, KVH, d);
    if (B > 0x7fffffffLL || T > 0x7fffffffLL || B * (int64_t)H > 0x7fffffffLL || B * T > ((int64_t)1 << 62) / ((int64_t)H * d))
        return rl__cu_fail(-1, "%s: B %lld x T %lld x %d heads is too large", what, (long long)B, (long long)T, H);
    return 0;
}

template <int DM>
static int rl__att_fwd_dm(int64_t B, int64_t T, int H, int KVH, int d, float *Y, float *lse, const float *Q,
                          const float *K, const float *V) {
    const char *rl__cu_what = "rl_cuda_attention";
    const size_t sm = rl__att_smem<DM>(0);
    const int64_t tasks = B * H * ((T + rl__att_tiles<DM>::BQ - 1) / rl__att_tiles<DM>::BQ);
    int rc = 0;
    RL_CU(rl__smem_attr(rl__k_att_fwd<DM>, sm));
    RL_LAUNCH(rl__k_att_fwd<DM>, rl__att_grid(tasks), RL_ATT_NT, sm, (int)B, (int)T, H, KVH, d,
              1.0f / sqrtf((float)d), Q, K, V, Y, lse);
    return rl__launched(rl__cu_what);
fail:
    return rc;
}

template <int DM>
static int rl__att_bwd_dm(int64_t B, int64_t T, int H, int KVH, int d, float *gq, float *gk, float *gv, const float *gy,
                          const float *Q, const float *K, const float *V, const float *Y, const float *lse) {
    const char *rl__cu_what = "rl_cuda_attention_bwd";
    const size_t smq = rl__att_smem<DM>(1), smkv = rl__att_smem<DM>(2);
    const int64_t tq = B * H * ((T + rl__att_tiles<DM>::BQ - 1) / rl__att_tiles<DM>::BQ);
    const int64_t tkv = B * KVH * ((T + rl__att_tiles<DM>::BK - 1) / rl__att_tiles<DM>::BK);
    const float scale = 1.0f / sqrtf((float)d);
    int rc = 0;
    if (gq) {
        RL_CU(rl__smem_attr(rl__k_att_bwd_q<DM>, smq));
        RL_LAUNCH(rl__k_att_bwd_q<DM>, rl__att_grid(tq), RL_ATT_NT, smq, (int)B, (int)T, H, KVH, d, scale, gy, Q, K, V, Y,
                  lse, gq);
        if ((rc = rl__launched(rl__cu_what)) != 0) return rc;
    }
    if (gk || gv) {
        RL_CU(rl__smem_attr(rl__k_att_bwd_kv<DM>, smkv));
        RL_LAUNCH(rl__k_att_bwd_kv<DM>, rl__att_grid(tkv), RL_ATT_NT, smkv, (int)B, (int)T, H, KVH, d, scale, gy, Q, K,
                  V, Y, lse, gk, gv);
        if ((rc = rl__launched(rl__cu_what)) != 0) return rc;
    }
    return 0;
fail:
    return rc;
}

extern "C" int rl_cuda_attention(void *q, float *Y, float *lse, const float *Q, const float *K, const float *V,
                                 int64_t B, int64_t T, int H, int KVH, int d) {
    int rc;
    (void)q;
    if ((rc = rl__att_args("rl_cuda_attention", B, T, H, KVH, d)) != 0) return rc;
    if (!Y || !Q || !K || !V) return rl__cu_fail(-1, "rl_cuda_attention: Y, Q, K and V are required");
    return d <= 32 ? rl__att_fwd_dm<32>(B, T, H, KVH, d, Y, lse, Q, K, V)
           : d <= 64 ? rl__att_fwd_dm<64>(B, T, H, KVH, d, Y, lse, Q, K, V)
                     : rl__att_fwd_dm<128>(B, T, H, KVH, d, Y, lse, Q, K, V);
}

/* ==== attention over a decoding cache (rl_cuda_attention_cache) ====
   One block of RL_DEC_NT threads per (sequence, query, head). The keys go by in tiles of
   the block: thread i scores key k0+i, the block takes the tile's maximum and sum (online
   softmax: the running maximum m and sum l rescale what came before), and thread j
   accumulates the output columns j and j+RL_DEC_NT from the tile's probabilities (in
   shared memory) and the rows of V. A decoding step reads the whole cache once; no tensor
   cores needed. */
#define RL_DEC_NT 128
static __global__ void __launch_bounds__(RL_DEC_NT) rl__k_att_cache(int64_t B, int64_t T, int64_t pos0, int64_t cap, int H, int KVH, int d,
                                                                    float scale, float *Y, const float *Q, const float *K, const float *V) {
    float *sq = RL_SMEM, *sp = sq + d, *red = sp + RL_DEC_NT; /* q [d], tile probabilities, reduction scratch */
    const int tid = (int)threadIdx.x;
    const int64_t Cq = (int64_t)H * d, Ck = (int64_t)KVH * d;
    for (int64_t task = blockIdx.x; task < B * T * H; task += gridDim.x) {
        const int64_t bt = task / H, t = bt % T, nk = pos0 + t + 1; /* bt: the query's row, sequence bt / T */
        const int h = (int)(task % H), kh = h / (H / KVH);
        const float *Kb = K + bt / T * cap * Ck, *Vb = V + bt / T * cap * Ck;
        float m = -INFINITY, l = 0, acc[2] = {0, 0};
        for (int j = tid; j < d; j += RL_DEC_NT) sq[j] = Q[bt * Cq + (int64_t)h * d + j];
        __syncthreads();
        for (int64_t k0 = 0; k0 < nk; k0 += RL_DEC_NT) {
            const int64_t k = k0 + tid, kn = nk - k0 < RL_DEC_NT ? nk - k0 : RL_DEC_NT;
            float s = -INFINITY, mn, p, corr;
            if (k < nk) {
                const float *kr = Kb + k * Ck + (int64_t)kh * d;
                float dot = 0;
                for (int j = 0; j < d; j++) dot += sq[j] * kr[j];
                s = dot * scale;
            }
            mn = fmaxf(m, rl__block_max(s, red)); /* finite: the tile holds at least one key */
            p = k < nk ? expf(s - mn) : 0.0f;
            sp[tid] = p;
            corr = expf(m - mn);
            l = l * corr + rl__block_sum(p, red); /* its barriers also publish sp */
            for (int c = 0; c < 2; c++) {
                const int j = tid + c * RL_DEC_NT;
                if (j < d) {
                    const float *vc = Vb + k0 * Ck + (int64_t)kh * d + j;
                    float a = acc[c] * corr;
                    for (int64_t i = 0; i < kn; i++) a += sp[i] * vc[i * Ck];
                    acc[c] = a;
                }
            }
            m = mn;
            __syncthreads(); /* sp is rewritten by the next tile */
        }
        for (int c = 0; c < 2; c++) {
            const int j = tid + c * RL_DEC_NT;
            if (j < d) Y[bt * Cq + (int64_t)h * d + j] = acc[c] / l;
        }
        __syncthreads(); /* sq is rewritten by the next task */
    }
}

extern "C" int rl_cuda_attention_cache(void *q, float *Y, const float *Q, const float *K, const float *V, int64_t B, int64_t T,
                                       int64_t pos0, int64_t cap, int H, int KVH, int d) {
    const char *rl__cu_what = "rl_cuda_attention_cache";
    (void)q;
    if (B < 1 || T < 1 || pos0 < 0 || pos0 + T > cap || H < 1 || KVH < 1 || H % KVH || d < 1 || d > 2 * RL_DEC_NT ||
        B * T > ((int64_t)1 << 40) / H)
        return rl__cu_fail(-1, "%s: %lld sequences of %lld tokens at %lld in a cache of %lld, %d heads, %d kv heads, head size %d (1..%d)",
                           rl__cu_what, (long long)B, (long long)T, (long long)pos0, (long long)cap, H, KVH, d, 2 * RL_DEC_NT);
    if (!Y || !Q || !K || !V) return rl__cu_fail(-1, "%s: Y, Q, K and V are required", rl__cu_what);
    const int64_t tasks = B * T * H;
    RL_LAUNCH(rl__k_att_cache, (unsigned)(tasks < 65535 ? tasks : 65535), RL_DEC_NT, sizeof(float) * (size_t)(d + 2 * RL_DEC_NT), B, T,
              pos0, cap, H, KVH, d, 1.0f / sqrtf((float)d), Y, Q, K, V);
    return rl__launched(rl__cu_what);
}

extern "C" int rl_cuda_attention_bwd(void *q, float *gq, float *gk, float *gv, const float *gy, const float *Q,
                                     const float *K, const float *V, const float *Y, const float *lse, int64_t B,
                                     int64_t T, int H, int KVH, int d) {
    int rc;
    (void)q;
    if ((rc = rl__att_args("rl_cuda_attention_bwd", B, T, H, KVH, d)) != 0) return rc;
    if (!gy || !Q || !K || !V || !Y || !lse)
        return rl__cu_fail(-1, "rl_cuda_attention_bwd: gy, Q, K, V, Y and lse are required");
    if (!gq && !gk && !gv) return 0;
    return d <= 32 ? rl__att_bwd_dm<32>(B, T, H, KVH, d, gq, gk, gv, gy, Q, K, V, Y, lse)
           : d <= 64 ? rl__att_bwd_dm<64>(B, T, H, KVH, d, gq, gk, gv, gy, Q, K, V, Y, lse)
                     : rl__att_bwd_dm<128>(B, T, H, KVH, d, gq, gk, gv, gy, Q, K, V, Y, lse);
}
