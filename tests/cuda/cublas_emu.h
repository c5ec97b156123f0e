/* cublas_emu.h - just enough of cuBLAS (the v2 API of <cublas_v2.h>) to run radlads_cuda.cu's
   matrix products on the CPU, for testing where there is no GPU. Test-only: radlads_cuda.cu
   includes it right after tests/cuda/cuda_emu.h when built with -DRL_CUDA_EMULATE (tools/cuda.mk,
   target cuda-emu); tests/cuda/test_cublas_emu.cpp checks it. Plain C++14, g++ -Wall -Wextra.

   Emulated: cublasCreate, cublasDestroy, cublasSetStream (any stream value; work is done at
   once, on the calling thread), cublasSgemm, cublasGemmEx, cublasSgemmStridedBatched,
   cublasGetStatusString; the enum values are those of cublas_api.h and library_types.h.
   Not emulated: every other function, device pointer mode (alpha and beta are read as host
   pointers, CUBLAS_POINTER_MODE_HOST), math modes, workspaces, asynchrony, timing.

   Rules implemented as documented in the cuBLAS API reference (docs.nvidia.com/cuda/cublas,
   sections cublas<t>gemm(), cublas<t>gemmStridedBatched(), cublasGemmEx(), cublasComputeType_t,
   cublasGemmAlgo_t):
   - C = alpha·op(A)·op(B) + beta·C, column-major; op(A) is m×k, op(B) k×n, C m×n; op(X) = X
     for CUBLAS_OP_N, Xᵀ for CUBLAS_OP_T and CUBLAS_OP_C (real types). op(A)(i,p) is
     A[i + p·lda] (N) or A[p + i·lda] (T); op(B)(p,j) is B[p + j·ldb] (N) or B[j + p·ldb] (T);
     C(i,j) is C[i + j·ldc]. Entries outside these (the padding of a larger leading
     dimension) are never read or written.
   - CUBLAS_STATUS_INVALID_VALUE, with nothing read or written, if m, n or k < 0; transa or
     transb not N, T or C; lda < max(1, m) when transa == N and lda < max(1, k) otherwise;
     ldb < max(1, k) when transb == N and ldb < max(1, n) otherwise; ldc < max(1, m); alpha or
     beta NULL; C NULL when beta != 0. Also (not in the docs' lists, where the real library
     would fault or is undefined): batchCount < 0; A or B NULL when they would be read; C NULL
     when it would be written; the C[i] of a strided batch overlapping (the docs: "undefined
     behavior is expected"), which is also reported on stderr. A NULL handle gives
     CUBLAS_STATUS_NOT_INITIALIZED. m, n or batchCount 0 is a successful no-op; k == 0 makes
     C = beta·C.
   - "If beta == 0, C does not have to be a valid input": with beta == 0, C is only written, so
     a NaN there (cuda_emu.h fills cudaMalloc'd memory with NaN) never shows. alpha == 0 is not
     special: A and B are still read (the docs do not say that they are not).
   - cublasGemmEx takes the combinations of its table with Ctype CUDA_R_32F and a float scale
     type: computeType CUBLAS_COMPUTE_32F (or _PEDANTIC) with Atype = Btype = CUDA_R_32F or
     CUDA_R_16BF; CUBLAS_COMPUTE_32F_FAST_TF32 or _FAST_16BF with Atype = Btype = CUDA_R_32F
     (the docs list no bf16 inputs with the FAST types). Anything else, and an algo other than
     CUBLAS_GEMM_DEFAULT or CUBLAS_GEMM_DEFAULT_TENSOR_OP, is CUBLAS_STATUS_NOT_SUPPORTED.
   - Strided batches: C + i·strideC = alpha·op(A + i·strideA)·op(B + i·strideB) + beta·(C +
     i·strideC) for i in [0, batchCount); strides in elements; a stride of 0 for A or B is
     accepted (the docs say strides "must not be zero" but list no error for it).

   Numerics (what a GPU may differ in: the order and precision of its sums):
   - each output's sum Σ_p op(A)(i,p)·op(B)(p,j) is accumulated in float64 (every product of
     two fp32 values is exact there), then r = alpha·Σ + beta·C(i,j) in float64, rounded once
     to fp32. cuBLAS sums in at least fp32, so compare with an fp32-sized tolerance.
   - CUBLAS_COMPUTE_32F_FAST_TF32: A and B (fp32) are first rounded to TF32, 10 explicit
     mantissa bits, to nearest even ("input conversions round to nearest even").
     CUBLAS_COMPUTE_32F_FAST_16BF: rounded to bf16 (7 bits) the same way.
   - CUDA_R_16BF inputs are bf16 bit patterns (uint16_t, __nv_bfloat16), used exactly.
   - CUBLAS_GEMM_DEFAULT_TENSOR_OP with fp32 A and B rounds them to IEEE half (10 bits, 5-bit
     exponent: overflow to ±inf, subnormals below 2^-14): the docs say that algo allows
     "reduced precision CUBLAS_COMPUTE_32F_FAST_16F kernels (for backward compatibility)",
     even with CUBLAS_COMPUTE_32F, so the emulation takes the worst case. Use
     CUBLAS_GEMM_DEFAULT (radlads_cuda.cu does).
   - NaN and ±inf inputs propagate as IEEE arithmetic makes them (the roundings keep them). */
#ifndef RL_CUBLAS_EMU_H
#define RL_CUBLAS_EMU_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <vector>

/* cuda_emu.h has no streams; a header that defines cudaStream_t should define this macro too
   (an identical typedef is harmless in C++) */
#ifndef RL_EMU_CUDA_STREAM_T
#define RL_EMU_CUDA_STREAM_T
typedef struct CUstream_st *cudaStream_t;
#endif
/* bf16 as cuda_bf16.h stores it: 16 bits, the top half of an fp32 */
#ifndef RL_EMU_NV_BFLOAT16
#define RL_EMU_NV_BFLOAT16
struct __nv_bfloat16 { unsigned short __x; };
#endif

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;
typedef enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType_t;
typedef cudaDataType_t cudaDataType;
typedef enum {
    CUBLAS_COMPUTE_32F = 68,
    CUBLAS_COMPUTE_32F_PEDANTIC = 69,
    CUBLAS_COMPUTE_32F_FAST_16F = 74,
    CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    CUBLAS_COMPUTE_32F_FAST_TF32 = 77
} cublasComputeType_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1, CUBLAS_GEMM_DEFAULT_TENSOR_OP = 99 } cublasGemmAlgo_t;

struct cublasContext { cudaStream_t stream; };
typedef struct cublasContext *cublasHandle_t;

static inline const char *cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS (emulated)";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED: the library was not initialized (emulated)";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED: resource allocation failed (emulated)";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE: an invalid value was used as an argument (emulated)";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH (emulated)";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR (emulated)";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED (emulated)";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR (emulated)";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED: the functionality requested is not supported (emulated)";
    }
    return "unknown cuBLAS status (emulated)";
}

static inline cublasStatus_t cublasCreate(cublasHandle_t *handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    *handle = (cublasHandle_t)calloc(1, sizeof(struct cublasContext));
    return *handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}
static inline cublasStatus_t cublasDestroy(cublasHandle_t handle) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    free(handle);
    return CUBLAS_STATUS_SUCCESS;
}
static inline cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

/* x rounded to nearest even with mbits explicit mantissa bits, normal exponents from emin up,
   ±inf above maxv (finite x only; NaN and ±inf come back as they are) */
static inline float rl_emu_round(float x, int mbits, int emin, double maxv) {
    int e;
    double q, r;
    if (!(fabsf(x) <= 3.402823466e38f)) return x;
    frexp((double)x, &e); /* |x| in [2^(e-1), 2^e) */
    if (e - 1 < emin) e = emin + 1; /* subnormal: the quantum of the smallest binade */
    q = ldexp(1.0, e - 1 - mbits);
    r = rint((double)x / q) * q; /* exact scaling; rint rounds ties to even */
    return fabs(r) > maxv ? (x < 0 ? -INFINITY : INFINITY) : (float)r;
}
static inline float rl_emu_tf32(float x) { return rl_emu_round(x, 10, -126, 3.402823466e38); }
static inline float rl_emu_bf16r(float x) { return rl_emu_round(x, 7, -126, 3.402823466e38); }
static inline float rl_emu_half(float x) { return rl_emu_round(x, 10, -14, 65504.0); }
static inline float rl_emu_bf16_bits_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

enum { RL_EMU_ROUND_NONE = 0, RL_EMU_ROUND_TF32 = 1, RL_EMU_ROUND_BF16 = 2, RL_EMU_ROUND_HALF = 3 };

/* element idx of an fp32 (bf16 = 0) or bf16 (bf16 = 1) array, rounded as asked */
static inline double rl_emu_load(const void *p, long long idx, int bf16, int rnd) {
    float x = bf16 ? rl_emu_bf16_bits_to_f32(((const uint16_t *)p)[idx]) : ((const float *)p)[idx];
    if (rnd == RL_EMU_ROUND_TF32) x = rl_emu_tf32(x);
    else if (rnd == RL_EMU_ROUND_BF16) x = rl_emu_bf16r(x);
    else if (rnd == RL_EMU_ROUND_HALF) x = rl_emu_half(x);
    return x;
}

/* the one gemm all entry points share: checks first (nothing touched on failure), then per
   batch op(A) and op(B) are copied to float64 (rounded as rnd says) and C is written */
static inline cublasStatus_t rl_emu_gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                                         int k, const float *alpha, const void *A, int lda, long long sA, const void *B, int ldb,
                                         long long sB, const float *beta, float *C, int ldc, long long sC, int batch, int bf16,
                                         int rnd) {
    int ta, tb, i, j, p, b;
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    if ((transa != CUBLAS_OP_N && transa != CUBLAS_OP_T && transa != CUBLAS_OP_C) ||
        (transb != CUBLAS_OP_N && transb != CUBLAS_OP_T && transb != CUBLAS_OP_C))
        return CUBLAS_STATUS_INVALID_VALUE;
    ta = transa != CUBLAS_OP_N;
    tb = transb != CUBLAS_OP_N;
    if (lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
    if (!alpha || !beta || (!C && *beta != 0.0f)) return CUBLAS_STATUS_INVALID_VALUE;
    if (!m || !n || !batch) return CUBLAS_STATUS_SUCCESS;
    if (!C || (k && (!A || !B))) return CUBLAS_STATUS_INVALID_VALUE;
    if (batch > 1) { /* the C[i] must not share an element */
        std::vector<long long> at;
        at.reserve((size_t)batch * m * n);
        for (b = 0; b < batch; b++)
            for (j = 0; j < n; j++)
                for (i = 0; i < m; i++) at.push_back(b * sC + (long long)j * ldc + i);
        std::sort(at.begin(), at.end());
        if (std::adjacent_find(at.begin(), at.end()) != at.end()) {
            fprintf(stderr, "cublas_emu: strided batch: the C matrices overlap (strideC %lld, ldc %d, m %d, n %d)\n", sC, ldc, m, n);
            return CUBLAS_STATUS_INVALID_VALUE;
        }
    }
    {
        const double al = *alpha, be = *beta;
        std::vector<double> a((size_t)m * k), bm((size_t)k * n); /* a[i·k + p] = op(A)(i,p), bm[j·k + p] = op(B)(p,j) */
        for (b = 0; b < batch; b++) {
            float *c = C + b * sC;
            for (i = 0; i < m; i++)
                for (p = 0; p < k; p++)
                    a[(size_t)i * k + p] = rl_emu_load(A, b * sA + (ta ? p + (long long)i * lda : i + (long long)p * lda), bf16, rnd);
            for (j = 0; j < n; j++)
                for (p = 0; p < k; p++)
                    bm[(size_t)j * k + p] = rl_emu_load(B, b * sB + (tb ? j + (long long)p * ldb : p + (long long)j * ldb), bf16, rnd);
            for (j = 0; j < n; j++)
                for (i = 0; i < m; i++) {
                    double s = 0, r;
                    for (p = 0; p < k; p++) s += a[(size_t)i * k + p] * bm[(size_t)j * k + p];
                    r = al * s;
                    if (be != 0) r += be * (double)c[i + (long long)j * ldc];
                    c[i + (long long)j * ldc] = (float)r;
                }
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}

static inline cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                                         int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
                                         const float *beta, float *C, int ldc) {
    return rl_emu_gemm(handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, 0, RL_EMU_ROUND_NONE);
}

static inline cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                                       int m, int n, int k, const float *alpha, const float *A, int lda,
                                                       long long int strideA, const float *B, int ldb, long long int strideB,
                                                       const float *beta, float *C, int ldc, long long int strideC, int batchCount) {
    return rl_emu_gemm(handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batchCount, 0,
                       RL_EMU_ROUND_NONE);
}

static inline cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                                          int k, const void *alpha, const void *A, cudaDataType_t Atype, int lda, const void *B,
                                          cudaDataType_t Btype, int ldb, const void *beta, void *C, cudaDataType_t Ctype, int ldc,
                                          cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
    int bf16, rnd = RL_EMU_ROUND_NONE;
    if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (Atype != Btype || (Atype != CUDA_R_32F && Atype != CUDA_R_16BF) || Ctype != CUDA_R_32F ||
        (algo != CUBLAS_GEMM_DEFAULT && algo != CUBLAS_GEMM_DEFAULT_TENSOR_OP))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    bf16 = Atype == CUDA_R_16BF;
    if (computeType == CUBLAS_COMPUTE_32F_FAST_TF32 && !bf16) rnd = RL_EMU_ROUND_TF32;
    else if (computeType == CUBLAS_COMPUTE_32F_FAST_16BF && !bf16) rnd = RL_EMU_ROUND_BF16;
    else if (computeType != CUBLAS_COMPUTE_32F && computeType != CUBLAS_COMPUTE_32F_PEDANTIC) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (algo == CUBLAS_GEMM_DEFAULT_TENSOR_OP && !bf16) rnd = RL_EMU_ROUND_HALF;
    return rl_emu_gemm(handle, transa, transb, m, n, k, (const float *)alpha, A, lda, 0, B, ldb, 0, (const float *)beta, (float *)C,
                       ldc, 0, 1, bf16, rnd);
}
#endif
