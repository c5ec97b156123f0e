/* test_cublas_emu.cpp - tests/cuda/cublas_emu.h (the CPU stand-in for the part of cuBLAS that
   radlads_cuda.cu uses) against cuBLAS's documentation: NVIDIA's own examples where they print
   numbers, then hand-computed cases for each documented rule (layouts and leading dimensions,
   beta == 0, invalid arguments, the compute types' roundings, bf16 inputs, strided batches).
   Build and run (no GPU needed):
     g++ -std=c++14 -O1 -g -Wall -Wextra -Werror -I. tests/cuda/test_cublas_emu.cpp -o build/test_cublas_emu
     build/test_cublas_emu */
#include "tests/cuda/cuda_emu.h"
#include "tests/cuda/cublas_emu.h"
#include "tests/rl_test.h"
#include <string>

static const float QNAN = NAN;

/* append printf output to a string (the examples' printed matrices, compared as text) */
__attribute__((format(printf, 2, 3))) static void out(std::string *s, const char *fmt, ...) {
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    *s += b;
}
/* the samples' print_matrix (CUDALibrarySamples cuBLAS/utils/cublas_utils.h): row i of a
   column-major m×n matrix per line, "%0.2f " each */
static void print_matrix(std::string *s, int m, int n, const float *A, int lda) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) out(s, "%0.2f ", A[j * lda + i]);
        out(s, "\n");
    }
}
/* trailing blanks dropped from each line (the READMEs show the lines with and without them) */
static std::string trim_lines(const std::string &s) {
    std::string r, line;
    for (char c : s) {
        if (c == '\n') {
            while (!line.empty() && line.back() == ' ') line.pop_back();
            r += line + "\n";
            line.clear();
        } else {
            line += c;
        }
    }
    return r + line;
}
static uint32_t bits(float f) { return rlt_bits_of_f32(f); }
static uint16_t bf(float f) { return (uint16_t)(bits(f) >> 16); } /* only for values exact in bf16 */
static float *dev(size_t n) {                                        /* cudaMalloc'd: NaN-filled */
    void *p = NULL;
    if (cudaMalloc(&p, n * sizeof(float)) != cudaSuccess) abort();
    return (float *)p;
}

/* ---- NVIDIA's examples ---- */

/* CUDALibrarySamples cuBLAS/Level-3/gemm (cublas_gemm_example.cu, README "Sample example
   output"), with cublasSgemm for the sample's cublasDgemm; and cuBLAS/Extensions/GemmEx the same
   through cublasGemmEx */
static void t_sample_gemm(int use_ex) {
    rlt_begin(use_ex ? "docs sample cublasGemmEx (CUDALibrarySamples Extensions/GemmEx)" : "docs sample cublas<t>gemm (CUDALibrarySamples Level-3/gemm)");
    const int m = 2, n = 2, k = 2, lda = 2, ldb = 2, ldc = 2;
    const float A[] = {1.0f, 3.0f, 2.0f, 4.0f}, B[] = {5.0f, 7.0f, 6.0f, 8.0f};
    float C[4];
    const float alpha = 1.0f, beta = 0.0f;
    cublasHandle_t h = NULL;
    std::string s;
    out(&s, "A\n");
    print_matrix(&s, m, k, A, lda);
    out(&s, "=====\nB\n");
    print_matrix(&s, k, n, B, ldb);
    out(&s, "=====\n");
    RLT_CHECK(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS, "create");
    RLT_CHECK(cublasSetStream(h, (cudaStream_t)(uintptr_t)0x1234) == CUBLAS_STATUS_SUCCESS, "set stream");
    float *dA = dev(4), *dB = dev(4), *dC = dev(4);
    cudaMemcpy(dA, A, sizeof A, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, sizeof B, cudaMemcpyHostToDevice);
    cublasStatus_t st = use_ex ? cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dA, CUDA_R_32F, lda, dB, CUDA_R_32F, ldb,
                                              &beta, dC, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)
                               : cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "gemm: %s", cublasGetStatusString(st));
    cudaMemcpy(C, dC, sizeof C, cudaMemcpyDeviceToHost);
    out(&s, "C\n");
    print_matrix(&s, m, n, C, ldc);
    out(&s, "=====\n");
    const std::string want = "A\n1.00 2.00\n3.00 4.00\n=====\nB\n5.00 6.00\n7.00 8.00\n=====\nC\n19.00 22.00\n43.00 50.00\n=====\n";
    RLT_CHECK(trim_lines(s) == want, "printed:\n%s", s.c_str());
    RLT_CHECK(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS, "destroy");
    cudaFree(dA); cudaFree(dB); cudaFree(dC);
    rlt_end();
}

/* CUDALibrarySamples cuBLAS/Extensions/GemmStridedBatchedEx (README output), through
   cublasSgemmStridedBatched */
static void t_sample_strided() {
    rlt_begin("docs sample gemmStridedBatched (CUDALibrarySamples Extensions/GemmStridedBatchedEx)");
    const int m = 2, n = 2, k = 2, lda = 2, ldb = 2, ldc = 2, batch = 2;
    const long long sA = m * k, sB = k * n, sC = m * n;
    const float A[] = {1, 3, 2, 4, 5, 7, 6, 8}, B[] = {5, 7, 6, 8, 9, 11, 10, 12};
    float C[8];
    const float alpha = 1, beta = 0;
    cublasHandle_t h;
    cublasCreate(&h);
    float *dA = dev(8), *dB = dev(8), *dC = dev(8);
    cudaMemcpy(dA, A, sizeof A, cudaMemcpyHostToDevice);
    cudaMemcpy(dB, B, sizeof B, cudaMemcpyHostToDevice);
    cublasStatus_t st = cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dA, lda, sA, dB, ldb, sB, &beta, dC, ldc, sC, batch);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "%s", cublasGetStatusString(st));
    cudaMemcpy(C, dC, sizeof C, cudaMemcpyDeviceToHost);
    std::string s;
    out(&s, "C[0]\n");
    print_matrix(&s, m, n, C, ldc);
    out(&s, "=====\nC[1]\n");
    print_matrix(&s, m, n, C + m * n, ldc);
    out(&s, "=====\n");
    RLT_CHECK(trim_lines(s) == "C[0]\n19.00 22.00\n43.00 50.00\n=====\nC[1]\n111.00 122.00\n151.00 166.00\n=====\n", "printed:\n%s", s.c_str());
    cublasDestroy(h);
    cudaFree(dA); cudaFree(dB); cudaFree(dC);
    rlt_end();
}

/* The cuBLAS guide's "Example code" (1.3): Example 1 (IDX2F, 1-based) and Example 2 (IDX2C,
   0-based). Their modify() calls cublasSscal, which is not emulated; each scal x := s·x is done
   here as a gemm with alpha = 0, beta = s on x seen as a 1×len (stride ld) or len×1 matrix.
   The guide prints no output; the matrix below is worked out by hand from the code: a(i,j) =
   i·N + j + 1 (0-based), row 1 from column 2 on times 16, column 2 from row 1 on times 12,
   printed one column per line. */
#define IDX2F(i, j, ld) ((((j)-1) * (ld)) + ((i)-1))
#define IDX2C(i, j, ld) (((j) * (ld)) + (i))
static cublasStatus_t scal_by_gemm(cublasHandle_t h, int len, const float *s, float *x, int incx) {
    static const float zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const float a0 = 0.0f;
    if (incx == 1) /* len×1: C = 0·(len×1 zeros)(1×1) + s·C */
        return cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, len, 1, 1, &a0, zero, len, zero, 1, s, x, len);
    return cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, len, 1, &a0, zero, 1, zero, 1, s, x, incx); /* 1×len, ldc = incx */
}
static void t_doc_example(int one_based) {
    rlt_begin(one_based ? "docs Example 1 (IDX2F, 1-based), modify() as gemm" : "docs Example 2 (IDX2C, 0-based), modify() as gemm");
    enum { M = 6, N = 5 };
    float a[M * N], *devPtrA = dev(M * N);
    cublasHandle_t handle;
    int i, j;
    if (one_based) {
        for (j = 1; j <= N; j++)
            for (i = 1; i <= M; i++) a[IDX2F(i, j, M)] = (float)((i - 1) * N + j);
    } else {
        for (j = 0; j < N; j++)
            for (i = 0; i < M; i++) a[IDX2C(i, j, M)] = (float)(i * N + j + 1);
    }
    RLT_CHECK(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS, "create");
    cudaMemcpy(devPtrA, a, sizeof a, cudaMemcpyHostToDevice); /* cublasSetMatrix with ld M both sides */
    /* modify (handle, devPtrA, M, N, p, q, 16.0f, 12.0f) */
    const float alpha = 16.0f, beta = 12.0f;
    const int ldm = M, n = N;
    if (one_based) {
        const int p = 2, q = 3;
        RLT_CHECK(scal_by_gemm(handle, n - q + 1, &alpha, &devPtrA[IDX2F(p, q, ldm)], ldm) == CUBLAS_STATUS_SUCCESS, "scal 1");
        RLT_CHECK(scal_by_gemm(handle, ldm - p + 1, &beta, &devPtrA[IDX2F(p, q, ldm)], 1) == CUBLAS_STATUS_SUCCESS, "scal 2");
    } else {
        const int p = 1, q = 2;
        RLT_CHECK(scal_by_gemm(handle, n - q, &alpha, &devPtrA[IDX2C(p, q, ldm)], ldm) == CUBLAS_STATUS_SUCCESS, "scal 1");
        RLT_CHECK(scal_by_gemm(handle, ldm - p, &beta, &devPtrA[IDX2C(p, q, ldm)], 1) == CUBLAS_STATUS_SUCCESS, "scal 2");
    }
    cudaMemcpy(a, devPtrA, sizeof a, cudaMemcpyDeviceToHost);
    cudaFree(devPtrA);
    cublasDestroy(handle);
    std::string s;
    for (j = 0; j < N; j++) {
        for (i = 0; i < M; i++) out(&s, "%7.0f", a[IDX2C(i, j, M)]);
        out(&s, "\n");
    }
    const char *want = "      1      6     11     16     21     26\n"
                       "      2      7     12     17     22     27\n"
                       "      3   1536    156    216    276    336\n"
                       "      4    144     14     19     24     29\n"
                       "      5    160     15     20     25     30\n";
    RLT_CHECK(s == want, "printed:\n%s", s.c_str());
    rlt_end();
}

/* ---- hand-computed cases ---- */

/* op(A) 3×4, op(B) 4×2 and alpha·op(A)·op(B) for alpha = 2, worked out by hand */
static const float OPA[3][4] = {{1, 2, 0, -1}, {3, -1, 2, 0}, {0, 1, 1, 2}};
static const float OPB[4][2] = {{2, 1}, {0, -1}, {1, 3}, {4, 0}};
static const float AB[3][2] = {{-2, -1}, {8, 10}, {9, 2}}; /* op(A)·op(B) */

/* A (lda ≥ the minimum) holding op(A) for transa; everything else NaN */
static std::vector<float> store_a(int ta, int lda) {
    std::vector<float> A((size_t)lda * (ta ? 3 : 4), QNAN);
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < 4; p++) A[ta ? p + i * lda : i + p * lda] = OPA[i][p];
    return A;
}
static std::vector<float> store_b(int tb, int ldb) {
    std::vector<float> B((size_t)ldb * (tb ? 4 : 2), QNAN);
    for (int p = 0; p < 4; p++)
        for (int j = 0; j < 2; j++) B[tb ? j + p * ldb : p + j * ldb] = OPB[p][j];
    return B;
}

static void t_layouts() {
    rlt_begin("gemm: all (transa, transb), lda/ldb/ldc padded, padding untouched, NaN C with beta 0");
    const cublasOperation_t ops[3] = {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C};
    const float alpha = 2, beta = 0, PAD = -555.0f;
    const int ldc = 5;
    cublasHandle_t h;
    cublasCreate(&h);
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++) {
            const int ta = x > 0, tb = y > 0, lda = ta ? 7 : 4, ldb = tb ? 3 : 6; /* minimum: 4 or 3, 4 or 2 */
            std::vector<float> A = store_a(ta, lda), B = store_b(tb, ldb), C((size_t)ldc * 2, PAD);
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 3; i++) C[i + j * ldc] = QNAN;
            cublasStatus_t st = cublasSgemm(h, ops[x], ops[y], 3, 2, 4, &alpha, A.data(), lda, B.data(), ldb, &beta, C.data(), ldc);
            RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "op %d %d: %s", x, y, cublasGetStatusString(st));
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < ldc; i++) {
                    float want = i < 3 ? 2 * AB[i][j] : PAD;
                    RLT_CHECK(bits(C[i + j * ldc]) == bits(want), "op %d %d: C[%d + %d*ldc] = %g, want %g", x, y, i, j, C[i + j * ldc], want);
                }
        }
    /* a larger product of small integers (exact in fp32) against a plain loop, all four layouts */
    const int m = 7, n = 5, k = 9;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc2 = m + 3;
            std::vector<float> A((size_t)lda * (ta ? m : k), QNAN), B((size_t)ldb * (tb ? k : n), QNAN), C((size_t)ldc2 * n, PAD);
            float oa[7][9], ob[9][5];
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) A[ta ? p + i * lda : i + p * lda] = oa[i][p] = (float)((i * 7 + p * 3) % 11 - 5);
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) B[tb ? j + p * ldb : p + j * ldb] = ob[p][j] = (float)((p * 5 + j * 2) % 9 - 4);
            const float one = 1;
            cublasStatus_t st = cublasSgemm(h, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &one, A.data(), lda,
                                            B.data(), ldb, &beta, C.data(), ldc2);
            RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "7x5x9 %d %d", ta, tb);
            for (int j = 0; j < n; j++)
                for (int i = 0; i < ldc2; i++) {
                    float want = PAD;
                    if (i < m) {
                        want = 0;
                        for (int p = 0; p < k; p++) want += oa[i][p] * ob[p][j];
                    }
                    RLT_CHECK(bits(C[i + j * ldc2]) == bits(want), "7x5x9 %d %d: C(%d,%d) = %g, want %g", ta, tb, i, j, C[i + j * ldc2], want);
                }
        }
    cublasDestroy(h);
    rlt_end();
}

static void t_beta() {
    rlt_begin("beta: 0 never reads C (NaN from cudaMalloc), 1 accumulates, k = 0 scales C");
    cublasHandle_t h;
    cublasCreate(&h);
    std::vector<float> A = store_a(0, 3), B = store_b(0, 4);
    float *C = dev(6); /* NaN-filled */
    const float one = 1, zero = 0, two = 2, half = 0.5f, minus1 = -1;
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &zero, C, 3) == CUBLAS_STATUS_SUCCESS, "beta 0");
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 3; i++) RLT_CHECK(C[i + j * 3] == AB[i][j], "beta 0: C(%d,%d) = %g", i, j, C[i + j * 3]);
    /* C = 1·AB + 1·C twice: 3·AB; then 0.5·AB − C: −2.5·AB */
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3) == CUBLAS_STATUS_SUCCESS, "beta 1");
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3) == CUBLAS_STATUS_SUCCESS, "beta 1");
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 3; i++) RLT_CHECK(C[i + j * 3] == 3 * AB[i][j], "beta 1 twice: C(%d,%d) = %g", i, j, C[i + j * 3]);
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 4, &half, A.data(), 3, B.data(), 4, &minus1, C, 3) == CUBLAS_STATUS_SUCCESS, "beta -1");
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 3; i++) RLT_CHECK(C[i + j * 3] == -2.5f * AB[i][j], "beta -1: C(%d,%d) = %g", i, j, C[i + j * 3]);
    /* k = 0: C = beta·C (A and B not read: NULL is fine) */
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 0, &one, NULL, 3, NULL, 1, &two, C, 3) == CUBLAS_STATUS_SUCCESS, "k 0");
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 3; i++) RLT_CHECK(C[i + j * 3] == -5.0f * AB[i][j], "k 0 beta 2: C(%d,%d) = %g", i, j, C[i + j * 3]);
    float *C2 = dev(6);
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 0, &one, NULL, 3, NULL, 1, &zero, C2, 3) == CUBLAS_STATUS_SUCCESS, "k 0 beta 0");
    for (int i = 0; i < 6; i++) RLT_CHECK(bits(C2[i]) == 0, "k 0 beta 0: C[%d] = %g, want +0", i, C2[i]);
    /* a NaN in A still shows (only C is exempt) */
    A[0] = QNAN;
    RLT_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &zero, C2, 3) == CUBLAS_STATUS_SUCCESS, "nan A");
    RLT_CHECK(isnan(C2[0]) && isnan(C2[3]) && C2[1] == AB[1][0], "NaN in A(0,0) reaches row 0 only: %g %g %g", C2[0], C2[3], C2[1]);
    cudaFree(C); cudaFree(C2);
    cublasDestroy(h);
    rlt_end();
}

static void t_invalid() {
    rlt_begin("invalid arguments: INVALID_VALUE / NOT_INITIALIZED / NOT_SUPPORTED, C untouched");
    cublasHandle_t h;
    cublasCreate(&h);
    std::vector<float> A = store_a(0, 3), B = store_b(0, 4), At = store_a(1, 4), Bt = store_b(1, 2);
    float *C = dev(12), before[12];
    for (int i = 0; i < 12; i++) C[i] = (float)(100 + i);
    C[5] = QNAN;
    memcpy(before, C, sizeof before);
    const float one = 1, zero = 0;
    const cublasOperation_t N = CUBLAS_OP_N, T = CUBLAS_OP_T;
    struct Case { const char *what; cublasStatus_t st; };
    const Case cases[] = {
        {"m < 0", cublasSgemm(h, N, N, -1, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"n < 0", cublasSgemm(h, N, N, 3, -2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"k < 0", cublasSgemm(h, N, N, 3, 2, -4, &one, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"transa 3", cublasSgemm(h, (cublasOperation_t)3, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"transb -1", cublasSgemm(h, N, (cublasOperation_t)-1, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"lda < m (N)", cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 2, B.data(), 4, &one, C, 3)},
        {"lda < k (T), though >= m", cublasSgemm(h, T, N, 3, 2, 4, &one, At.data(), 3, B.data(), 4, &one, C, 3)},
        {"ldb < k (N)", cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 3, &one, C, 3)},
        {"ldb < n (T)", cublasSgemm(h, N, T, 3, 2, 4, &one, A.data(), 3, Bt.data(), 1, &one, C, 3)},
        {"ldc < m", cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &zero, C, 2)},
        {"lda 0 with m 0", cublasSgemm(h, N, N, 0, 2, 4, &one, A.data(), 0, B.data(), 4, &one, C, 1)},
        {"alpha NULL", cublasSgemm(h, N, N, 3, 2, 4, NULL, A.data(), 3, B.data(), 4, &one, C, 3)},
        {"beta NULL", cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, NULL, C, 3)},
        {"C NULL, beta 1", cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, NULL, 3)},
        {"A NULL", cublasSgemm(h, N, N, 3, 2, 4, &one, NULL, 3, B.data(), 4, &one, C, 3)},
        {"GemmEx lda < m", cublasGemmEx(h, N, N, 3, 2, 4, &one, A.data(), CUDA_R_32F, 2, B.data(), CUDA_R_32F, 4, &one, C, CUDA_R_32F, 3,
                                        CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT)},
        {"strided ldc < m", cublasSgemmStridedBatched(h, N, N, 3, 2, 4, &one, A.data(), 3, 0, B.data(), 4, 0, &one, C, 2, 6, 2)},
        {"strided batchCount < 0", cublasSgemmStridedBatched(h, N, N, 3, 2, 4, &one, A.data(), 3, 0, B.data(), 4, 0, &one, C, 3, 6, -1)},
    };
    for (const Case &c : cases) RLT_CHECK(c.st == CUBLAS_STATUS_INVALID_VALUE, "%s: %s", c.what, cublasGetStatusString(c.st));
    RLT_CHECK(cublasSgemm(NULL, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3) == CUBLAS_STATUS_NOT_INITIALIZED, "NULL handle");
    RLT_CHECK(cublasSetStream(NULL, NULL) == CUBLAS_STATUS_NOT_INITIALIZED, "set stream, NULL handle");
    RLT_CHECK(cublasDestroy(NULL) == CUBLAS_STATUS_NOT_INITIALIZED, "destroy NULL");
    /* GemmEx combinations outside its table (for fp32 C) and other algorithms */
    const uint16_t hb[12] = {0};
    struct ExCase { const char *what; cudaDataType_t at, bt, ct; int ctype; int algo; };
    const ExCase ex[] = {
        {"A fp32, B bf16", CUDA_R_32F, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT},
        {"A bf16, B fp32", CUDA_R_16BF, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT},
        {"C bf16", CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT},
        {"fp16 inputs", CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT},
        {"bf16 inputs, FAST_TF32 (not in the table)", CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT},
        {"bf16 inputs, FAST_16BF (not in the table)", CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_GEMM_DEFAULT},
        {"compute 16F (64)", CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, 64, CUBLAS_GEMM_DEFAULT},
        {"compute 64F (70)", CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, 70, CUBLAS_GEMM_DEFAULT},
        {"algo 5", CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 5},
    };
    for (const ExCase &e : ex) {
        const void *pa = e.at == CUDA_R_32F ? (const void *)A.data() : (const void *)hb, *pb = e.bt == CUDA_R_32F ? (const void *)B.data() : (const void *)hb;
        cublasStatus_t st = cublasGemmEx(h, N, N, 3, 2, 4, &one, pa, e.at, 3, pb, e.bt, 4, &one, C, e.ct, 3, (cublasComputeType_t)e.ctype,
                                         (cublasGemmAlgo_t)e.algo);
        RLT_CHECK(st == CUBLAS_STATUS_NOT_SUPPORTED, "GemmEx %s: %s", e.what, cublasGetStatusString(st));
    }
    /* overlapping C[i] in a strided batch (undefined in cuBLAS) */
    fprintf(stderr, "(the next line, about overlapping C matrices, is expected)\n");
    RLT_CHECK(cublasSgemmStridedBatched(h, N, N, 3, 2, 4, &one, A.data(), 3, 0, B.data(), 4, 0, &one, C, 3, 5, 2) == CUBLAS_STATUS_INVALID_VALUE,
              "overlapping C[i]");
    RLT_CHECK(memcmp(before, C, sizeof before) == 0, "C was touched");
    /* no-ops that succeed */
    RLT_CHECK(cublasSgemm(h, N, N, 0, 2, 4, &one, A.data(), 1, B.data(), 4, &one, C, 1) == CUBLAS_STATUS_SUCCESS, "m 0");
    RLT_CHECK(cublasSgemm(h, N, N, 3, 0, 4, &one, A.data(), 3, B.data(), 4, &one, C, 3) == CUBLAS_STATUS_SUCCESS, "n 0");
    RLT_CHECK(cublasSgemmStridedBatched(h, N, N, 3, 2, 4, &one, A.data(), 3, 0, B.data(), 4, 0, &one, C, 3, 6, 0) == CUBLAS_STATUS_SUCCESS, "batch 0");
    RLT_CHECK(cublasSgemm(h, N, N, 3, 2, 4, &one, A.data(), 3, B.data(), 4, &zero, NULL, 3) == CUBLAS_STATUS_INVALID_VALUE, "C NULL, beta 0, written");
    RLT_CHECK(memcmp(before, C, sizeof before) == 0, "C was touched by a no-op");
    RLT_CHECK(strstr(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE), "INVALID_VALUE") != NULL, "status string");
    RLT_CHECK(strstr(cublasGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED), "NOT_SUPPORTED") != NULL, "status string");
    cudaFree(C);
    cublasDestroy(h);
    rlt_end();
}

/* 1×1 products a·b through GemmEx with fp32 inputs */
static float ex11(cublasHandle_t h, float a, float b, int compute, int algo) {
    const float one = 1, zero = 0;
    float c = QNAN;
    cublasStatus_t st = cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, CUDA_R_32F, 1, &b, CUDA_R_32F, 1, &zero, &c, CUDA_R_32F, 1,
                                     (cublasComputeType_t)compute, (cublasGemmAlgo_t)algo);
    return st == CUBLAS_STATUS_SUCCESS ? c : -12345.0f;
}
static float sg11(cublasHandle_t h, float a, float b) {
    const float one = 1, zero = 0;
    float c = QNAN;
    return cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, 1, &b, 1, &zero, &c, 1) == CUBLAS_STATUS_SUCCESS ? c : -12345.0f;
}

static void t_rounding() {
    rlt_begin("compute types: TF32 and bf16 input rounding (nearest even), fp32 exact");
    cublasHandle_t h;
    cublasCreate(&h);
    const int F32 = CUBLAS_COMPUTE_32F, TF = CUBLAS_COMPUTE_32F_FAST_TF32, BF = CUBLAS_COMPUTE_32F_FAST_16BF, D = CUBLAS_GEMM_DEFAULT;
    const float e12 = ldexpf(1, -12), e11 = ldexpf(1, -11), e9 = ldexpf(1, -9), e8 = ldexpf(1, -8), e6 = ldexpf(1, -6);
    struct R { const char *what; float got, want; };
    const R r[] = {
        {"32F keeps 1+2^-12", ex11(h, 1 + e12, 1, F32, D), 1 + e12},
        {"Sgemm keeps 1+2^-12", sg11(h, 1 + e12, 1), 1 + e12},
        {"TF32: 1+2^-12 -> 1 (A)", ex11(h, 1 + e12, 1, TF, D), 1},
        {"TF32: 1+2^-12 -> 1 (B)", ex11(h, 1, 1 + e12, TF, D), 1},
        {"TF32: 1+2^-11 (a tie) -> 1 (even)", ex11(h, 1 + e11, 1, TF, D), 1},
        {"TF32: 1+3*2^-11 (a tie) -> 1+2^-9 (even)", ex11(h, 1 + 3 * e11, 1, TF, D), 1 + e9},
        {"TF32: -(1+3*2^-11) -> -(1+2^-9)", ex11(h, -(1 + 3 * e11), 1, TF, D), -(1 + e9)},
        {"TF32: 1+2^-11+2^-20 -> 1+2^-10 (above the tie)", ex11(h, 1 + e11 + ldexpf(1, -20), 1, TF, D), 1 + ldexpf(1, -10)},
        {"TF32 keeps 1+2^-9", ex11(h, 1 + e9, 1, TF, D), 1 + e9},
        {"TF32: both rounded, (1+2^-12)^2 -> 1", ex11(h, 1 + e12, 1 + e12, TF, D), 1},
        {"32F: (1+2^-12)^2 rounded once", ex11(h, 1 + e12, 1 + e12, F32, D), 1 + 2 * e12},
        {"bf16: 1+2^-9 -> 1", ex11(h, 1 + e9, 1, BF, D), 1},
        {"bf16: 1+2^-8 (a tie) -> 1 (even)", ex11(h, 1 + e8, 1, BF, D), 1},
        {"bf16: 1+3*2^-8 (a tie) -> 1+2^-6 (even)", ex11(h, 1 + 3 * e8, 1, BF, D), 1 + e6},
        {"bf16: 3.14159274 -> 3.140625", ex11(h, 3.14159274f, 1, BF, D), 3.140625f},
        {"TF32: 3.14159274 -> 3.140625", ex11(h, 3.14159274f, 1, TF, D), 3.140625f},
        {"TF32: 1+2^-9+2^-12 -> 1+2^-9", ex11(h, 1 + e9 + e12, 1, TF, D), 1 + e9},
        {"bf16: 1+2^-9+2^-12 -> 1", ex11(h, 1 + e9 + e12, 1, BF, D), 1},
        {"TF32 keeps 1e30 range: 2^100 * 2^20", ex11(h, ldexpf(1, 100), ldexpf(1, 20), TF, D), ldexpf(1, 120)},
        {"TF32: FLT_MAX rounds up to inf", ex11(h, 3.402823466e38f, 1, TF, D), INFINITY},
        {"TF32 keeps -inf", ex11(h, -INFINITY, 2, TF, D), -INFINITY},
    };
    for (const R &x : r) RLT_CHECK(bits(x.got) == bits(x.want), "%s: got %.9g (0x%08x), want %.9g", x.what, x.got, bits(x.got), x.want);
    RLT_CHECK(isnan(ex11(h, QNAN, 1, TF, D)) && isnan(ex11(h, 1, QNAN, BF, D)), "NaN inputs give NaN");
    /* a sweep of bit patterns (normal, subnormal, huge) against rounding done on the bits:
       add half an ulp less one plus the kept lowest bit, clear the dropped bits */
    {
        uint32_t s = 12345;
        int bad = 0;
        for (int t = 0; t < 20000 && bad < 3; t++) {
            s = s * 1664525u + 1013904223u;
            uint32_t u = s;
            if ((u & 0x7f800000u) == 0x7f800000u) continue; /* inf, NaN */
            float x = rlt_f32_of_bits(u);
            uint32_t t32 = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu, b16 = (u + 0x7fffu + ((u >> 16) & 1u)) & ~0xffffu;
            float gt = ex11(h, x, 1, TF, D), gb = ex11(h, x, 1, BF, D);
            if (bits(gt) != t32 || bits(gb) != b16) {
                bad++;
                RLT_CHECK(0, "0x%08x: TF32 0x%08x want 0x%08x, bf16 0x%08x want 0x%08x", u, bits(gt), t32, bits(gb), b16);
            }
        }
        RLT_CHECK(bad == 0, "sweep");
    }
    /* alpha and beta are not rounded: 1·1·(1+2^-12) + (1+2^-12)·C */
    {
        const float al = 1 + e12, be = 1 + e12, a = 1, b = 1;
        float c = 1;
        cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &al, &a, CUDA_R_32F, 1, &b, CUDA_R_32F, 1, &be, &c, CUDA_R_32F, 1,
                     CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT);
        RLT_CHECK(c == 2 + 2 * e12, "TF32 leaves alpha, beta and C alone: %.9g", c);
    }
    /* DEFAULT_TENSOR_OP with fp32 inputs: the documented FAST_16F allowance, as IEEE half */
    const int TOP = CUBLAS_GEMM_DEFAULT_TENSOR_OP;
    RLT_CHECK(ex11(h, 1 + e12, 1, F32, TOP) == 1, "TENSOR_OP: 1+2^-12 -> 1");
    RLT_CHECK(ex11(h, 65504, 1, F32, TOP) == 65504 && ex11(h, 65519, 1, F32, TOP) == 65504, "TENSOR_OP: half max");
    RLT_CHECK(isinf(ex11(h, 65520, 1, F32, TOP)) && isinf(ex11(h, 1e5f, 1, F32, TOP)), "TENSOR_OP: overflow to inf");
    RLT_CHECK(ex11(h, 1e-6f, 1, F32, TOP) == 17 * ldexpf(1, -24), "TENSOR_OP: 1e-6 -> 17*2^-24 (half subnormal): %.9g", ex11(h, 1e-6f, 1, F32, TOP));
    RLT_CHECK(ex11(h, 1e-6f, 1, F32, D) == 1e-6f, "DEFAULT keeps 1e-6");
    cublasDestroy(h);
    rlt_end();
}

static void t_bf16_inputs() {
    rlt_begin("GemmEx CUDA_R_16BF inputs, COMPUTE_32F: exact bf16 values, fp32 C");
    cublasHandle_t h;
    cublasCreate(&h);
    /* op(A) 2×3 (transa = T, lda 4), op(B) 3×2 (transb = N, ldb 3) as bf16 bit patterns */
    const float a[2][3] = {{1.5f, -2.0f, 0.375f}, {3.0f, 1.0078125f, -0.5f}};
    const float b[3][2] = {{2.0f, -1.0f}, {0.25f, 4.0f}, {1.0f, 8.0f}};
    /* by hand: row 0: 3 - 0.5 + 0.375 = 2.875; -1.5 - 8 + 3 = -6.5
                row 1: 6 + 0.251953125 - 0.5 = 5.751953125; -3 + 4.03125 - 4 = -2.96875 */
    const float want[2][2] = {{2.875f, -6.5f}, {5.751953125f, -2.96875f}};
    uint16_t A[4 * 2], B[3 * 2];
    for (int i = 0; i < 8; i++) A[i] = 0x7FC0; /* NaN padding */
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 3; p++) A[p + i * 4] = bf(a[i][p]);
    for (int p = 0; p < 3; p++)
        for (int j = 0; j < 2; j++) B[p + j * 3] = bf(b[p][j]);
    RLT_CHECK(A[1] == 0xC000 && A[4] == 0x4040 && A[5] == 0x3F81, "bf16 patterns: %04x %04x %04x", A[1], A[4], A[5]);
    float *C = dev(4);
    const float one = 1, zero = 0, two = 2;
    cublasStatus_t st = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, A, CUDA_R_16BF, 4, B, CUDA_R_16BF, 3, &zero, C, CUDA_R_32F, 2,
                                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "%s", cublasGetStatusString(st));
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) RLT_CHECK(C[i + j * 2] == want[i][j], "C(%d,%d) = %.9g, want %.9g", i, j, C[i + j * 2], want[i][j]);
    /* beta 2 onto that, and with CUBLAS_GEMM_DEFAULT_TENSOR_OP (bf16 inputs are not rounded again) */
    st = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, A, CUDA_R_16BF, 4, B, CUDA_R_16BF, 3, &two, C, CUDA_R_32F, 2,
                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT_TENSOR_OP);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "%s", cublasGetStatusString(st));
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) RLT_CHECK(C[i + j * 2] == 3 * want[i][j], "beta 2: C(%d,%d) = %.9g", i, j, C[i + j * 2]);
    /* the same numbers as fp32 through FAST_16BF agree (they are exact in bf16) */
    float Af[8], Bf[6];
    for (int i = 0; i < 8; i++) Af[i] = rl_emu_bf16_bits_to_f32(A[i]);
    for (int i = 0; i < 6; i++) Bf[i] = rl_emu_bf16_bits_to_f32(B[i]);
    st = cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, Af, CUDA_R_32F, 4, Bf, CUDA_R_32F, 3, &zero, C, CUDA_R_32F, 2,
                      CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_GEMM_DEFAULT);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "%s", cublasGetStatusString(st));
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) RLT_CHECK(C[i + j * 2] == want[i][j], "fp32 FAST_16BF: C(%d,%d) = %.9g", i, j, C[i + j * 2]);
    RLT_CHECK(sizeof(__nv_bfloat16) == 2, "__nv_bfloat16 is 16 bits");
    cudaFree(C);
    cublasDestroy(h);
    rlt_end();
}

static void t_strided() {
    rlt_begin("gemmStridedBatched: strides with gaps, transposes, beta, interleaved C, stride 0");
    cublasHandle_t h;
    cublasCreate(&h);
    const int m = 2, n = 3, k = 4, batch = 3, lda = 5, ldb = 4, ldc = 3; /* A transposed (k×m, lda ≥ 4), B plain (k×n) */
    const long long sA = lda * m + 7, sB = ldb * n + 2, sC = ldc * n + 4;
    const float PAD = -777.0f;
    std::vector<float> A(sA * batch, QNAN), B(sB * batch, QNAN), C(sC * batch, PAD);
    float oa[3][2][4], ob[3][4][3], c0[3][2][3];
    for (int b = 0; b < batch; b++) {
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) A[b * sA + p + i * lda] = oa[b][i][p] = (float)((b * 5 + i * 3 + p) % 7 - 3);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) B[b * sB + p + j * ldb] = ob[b][p][j] = (float)((b + 2 * p + 3 * j) % 5 - 2);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) C[b * sC + i + j * ldc] = c0[b][i][j] = (float)(b * 10 + i + j);
    }
    const float alpha = 2, beta = -1;
    cublasStatus_t st = cublasSgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, A.data(), lda, sA, B.data(), ldb, sB, &beta,
                                                  C.data(), ldc, sC, batch);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "%s", cublasGetStatusString(st));
    for (int b = 0; b < batch; b++)
        for (long long e = 0; e < sC; e++) {
            long long i = e % ldc, j = e / ldc;
            float want = PAD;
            if (i < m && j < n) {
                want = 0;
                for (int p = 0; p < k; p++) want += oa[b][i][p] * ob[b][p][j];
                want = alpha * want + beta * c0[b][i][j];
            }
            RLT_CHECK(bits(C[b * sC + e]) == bits(want), "batch %d element %lld: %g, want %g", b, e, C[b * sC + e], want);
        }
    /* heads side by side: C[b] at column offset b·m of a wider matrix (strideC = m, ldc = batch·m),
       A shared by every batch (strideA = 0), beta 0 over NaN */
    const int ldw = batch * m;
    const float zero = 0;
    float *W = dev((size_t)ldw * n);
    st = cublasSgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, A.data(), lda, 0, B.data(), ldb, sB, &zero,
                                   W, ldw, m, batch);
    RLT_CHECK(st == CUBLAS_STATUS_SUCCESS, "interleaved: %s", cublasGetStatusString(st));
    for (int b = 0; b < batch; b++)
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) {
                float want = 0;
                for (int p = 0; p < k; p++) want += oa[0][i][p] * ob[b][p][j];
                want *= alpha;
                RLT_CHECK(W[b * m + i + j * ldw] == want, "interleaved batch %d (%d,%d): %g, want %g", b, i, j, W[b * m + i + j * ldw], want);
            }
    cudaFree(W);
    cublasDestroy(h);
    rlt_end();
}

int main(void) {
    t_sample_gemm(0);
    t_sample_gemm(1);
    t_sample_strided();
    t_doc_example(1);
    t_doc_example(0);
    t_layouts();
    t_beta();
    t_invalid();
    t_rounding();
    t_bf16_inputs();
    t_strided();
    return rlt_exit();
}
