/* test_cuda_gemm - rl_cuda_gemm (radlads_cuda.cu: matrix products through cuBLAS) against
   radlads.h's reference products: the three layouts of rl_linear / rl_matmul (x·Wᵀ, dy·W,
   dyᵀ·x) with leading dimensions above the minimum, odd sizes, C = A·B over a NaN-filled C
   and C += A·B, padding of C left untouched; fp32 (= rl__naive_gemm within 2e-5 of the
   largest output), TF32 (within 4e-3), bf16 inputs (= rl__naive_gemm_bf16, the CPU's bf16
   twin, within 2e-5) and bf16 weights; bad strides refused with C untouched.
   Prints SKIP when rl_cuda_available() is 0. Build: make -f tools/cuda.mk cuda (GPU; links
   cuBLAS) or cuda-emu (the CPU stand-ins tests/cuda/cuda_emu.h and cublas_emu.h).

   test_cuda_gemm --bench [--rows M]: TFLOP/s of rl_cuda_gemm in fp32, TF32 and bf16 on the
   products of a training step (y = x·Wᵀ, dx = dy·W, dW = dyᵀ·x) at the SmolLM2-135M and
   Qwen2.5-0.5B projection and vocabulary shapes, M = 4096 rows (8 sequences of 512) by
   default; best of 5 after a warm-up, synchronised with rl_cuda_sync. */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#include "../rl_test.h"

int rl_cuda_available(void);
const char *rl_cuda_last_error(void);
const char *rl_cuda_device_name(void);
void *rl_cuda_malloc(size_t bytes);
void rl_cuda_free(void *p);
int rl_cuda_copy(void *dst, const void *src, size_t bytes, int kind);
int rl_cuda_sync(void);
int rl_cuda_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t a_rs, int64_t a_cs, const void *B, int b_bf16,
                 int64_t b_rs, int64_t b_cs, float *C, int64_t ldc, int accumulate, int precision);

static rl_rng rng;

static void *to_dev(const void *h, size_t bytes) {
    void *d = rl_cuda_malloc(bytes);
    if (d && rl_cuda_copy(d, h, bytes, 1)) {
        rl_cuda_free(d);
        d = NULL;
    }
    return d;
}

/* layout 0: x·Wᵀ (A rows contiguous, B = W[N,K] read by columns); 1: dy·W (both rows
   contiguous); 2: dyᵀ·x (A = dy[K',M] read by columns, B rows contiguous). pad: extra
   leading-dimension entries. b16: B stored as bf16. */
static void gemm_case(int64_t M, int64_t N, int64_t K, int layout, int pad, int acc, int precision, int b16) {
    int64_t a_rs = layout == 2 ? 1 : K + pad, a_cs = layout == 2 ? M + pad : 1;
    int64_t b_rs = layout == 0 ? 1 : N + pad, b_cs = layout == 0 ? K + pad : 1, ldc = N + 3;
    int64_t na = layout == 2 ? K * (M + pad) : M * (K + pad), nb = layout == 0 ? N * (K + pad) : K * (N + pad), nc = M * ldc, i;
    float *A = (float *)malloc(sizeof(float) * (size_t)na), *Bf = (float *)malloc(sizeof(float) * (size_t)nb);
    float *C0 = (float *)malloc(sizeof(float) * (size_t)nc), *R = (float *)malloc(sizeof(float) * (size_t)nc);
    float *got = (float *)malloc(sizeof(float) * (size_t)nc);
    uint16_t *Bh = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)nb);
    void *dA, *dB, *dC;
    rl__gemm_args g;
    double worst = 0, scale = 1e-30, tol = precision == 1 ? 4e-3 : 2e-5;
    int rc, untouched = 1;
    for (i = 0; i < na; i++) A[i] = rl_rng_uniform(&rng) * 2 - 1;
    for (i = 0; i < nb; i++) {
        Bf[i] = rl_rng_uniform(&rng) * 2 - 1;
        Bh[i] = rl_f32_to_bf16(Bf[i]);
        if (b16) Bf[i] = rl_bf16_to_f32(Bh[i]); /* the values the device sees */
    }
    for (i = 0; i < nc; i++) C0[i] = i % ldc >= N ? 12345.0f : acc ? rl_rng_uniform(&rng) : NAN;
    memcpy(R, C0, sizeof(float) * (size_t)nc);
    g.M = M; g.N = N; g.K = K; g.A = A; g.a_rs = a_rs; g.a_cs = a_cs; g.B = Bf; g.bt = RL_F32;
    g.b_rs = b_rs; g.b_cs = b_cs; g.C = R; g.ldc = ldc; g.accumulate = acc;
    if (precision == 2) rl__naive_gemm_bf16(&g);
    else rl__naive_gemm(&g);
    dA = to_dev(A, sizeof(float) * (size_t)na);
    dB = b16 ? to_dev(Bh, sizeof(uint16_t) * (size_t)nb) : to_dev(Bf, sizeof(float) * (size_t)nb);
    dC = to_dev(C0, sizeof(float) * (size_t)nc);
    rc = dA && dB && dC ? rl_cuda_gemm(M, N, K, (const float *)dA, a_rs, a_cs, dB, b16, b_rs, b_cs, (float *)dC, ldc, acc, precision) : -9;
    if (!rc) rc = rl_cuda_copy(got, dC, sizeof(float) * (size_t)nc, 2);
    RLT_CHECK(rc == 0, "M %lld N %lld K %lld layout %d: rc %d: %s", (long long)M, (long long)N, (long long)K, layout, rc, rl_cuda_last_error());
    if (!rc) {
        for (i = 0; i < nc; i++) {
            if (i % ldc >= N) {
                untouched &= got[i] == 12345.0f;
                continue;
            }
            if (fabs(R[i]) > scale) scale = fabs(R[i]);
            if (!(fabs((double)got[i] - R[i]) <= worst)) worst = got[i] == got[i] ? fabs((double)got[i] - R[i]) : 1e30;
        }
        RLT_CHECK(worst / scale <= tol && untouched, "M %lld N %lld K %lld layout %d pad %d acc %d precision %d bf16 B %d: error %.3g (tol %.0e)%s",
                  (long long)M, (long long)N, (long long)K, layout, pad, acc, precision, b16, worst / scale, tol,
                  untouched ? "" : ", padding of C written");
    }
    rl_cuda_free(dA);
    rl_cuda_free(dB);
    rl_cuda_free(dC);
    free(A); free(Bf); free(Bh); free(C0); free(R); free(got);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* the three products of one linear layer W [N, K] over M rows, in rl_linear's layouts */
static void bench(int64_t M) {
    static const int64_t nk[][2] = {{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}, {896, 896}, {4864, 896}, {896, 4864}, {151936, 896}};
    int si, p, l, r;
    printf("# rl_cuda_gemm on %s, M = %lld rows; TFLOP/s (2 flops per multiply-add), best of 5\n", rl_cuda_device_name(), (long long)M);
    printf("| N x K | product | fp32 | tf32 | bf16 |\n|---|---|---|---|---|\n");
    for (si = 0; si < (int)(sizeof nk / sizeof nk[0]); si++) {
        int64_t N = nk[si][0], K = nk[si][1];
        size_t big = (size_t)(M > N ? M : N) * (size_t)(K > N ? K : N);
        float *x = (float *)rl_cuda_malloc(sizeof(float) * (size_t)(M * K)), *w = (float *)rl_cuda_malloc(sizeof(float) * (size_t)(N * K));
        float *y = (float *)rl_cuda_malloc(sizeof(float) * big);
        float *h = (float *)malloc(sizeof(float) * big);
        size_t i;
        if (!x || !w || !y || !h) {
            printf("| %lld x %lld | (out of device memory) | | | |\n", (long long)N, (long long)K);
            rl_cuda_free(x); rl_cuda_free(w); rl_cuda_free(y); free(h);
            continue;
        }
        for (i = 0; i < big; i++) h[i] = rl_rng_uniform(&rng) - 0.5f;
        rl_cuda_copy(x, h, sizeof(float) * (size_t)(M * K), 1);
        rl_cuda_copy(w, h, sizeof(float) * (size_t)(N * K), 1);
        for (l = 0; l < 3; l++) {
            double tf[3];
            for (p = 0; p < 3; p++) {
                double best = 1e30;
                for (r = 0; r < 6; r++) {
                    double t = now_s();
                    int rc = l == 0 ? rl_cuda_gemm(M, N, K, x, K, 1, w, 0, 1, K, y, N, 0, p)           /* y = x·Wᵀ */
                             : l == 1 ? rl_cuda_gemm(M, K, N, y, N, 1, w, 0, K, 1, x, K, 0, p)        /* dx = dy·W */
                                      : rl_cuda_gemm(N, K, M, y, 1, N, x, 0, K, 1, w, K, 1, p);       /* dW += dyᵀ·x */
                    if (rc || rl_cuda_sync()) {
                        printf("# rl_cuda_gemm failed: %s\n", rl_cuda_last_error());
                        best = 1e30;
                        break;
                    }
                    t = now_s() - t;
                    if (r && t < best) best = t;
                }
                tf[p] = 2.0 * (double)M * N * K / best * 1e-12;
            }
            printf("| %lld x %lld | %s | %.1f | %.1f | %.1f |\n", (long long)N, (long long)K, l == 0 ? "x·Wᵀ" : l == 1 ? "dy·W" : "dyᵀ·x",
                   tf[0], tf[1], tf[2]);
        }
        fflush(stdout);
        rl_cuda_free(x); rl_cuda_free(w); rl_cuda_free(y); free(h);
    }
}

int main(int argc, char **argv) {
    static const int64_t shapes[][3] = {{1, 1, 1}, {5, 7, 3}, {33, 65, 17}, {64, 48, 130}, {2, 300, 40}};
    int s, layout, precision, i, do_bench = 0;
    int64_t rows = 4096;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) do_bench = 1;
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = atoll(argv[++i]);
    }
    if (!rl_cuda_available()) {
        rlt_skip("cuda gemm (rl_cuda_gemm through cuBLAS vs radlads.h)", rl_cuda_last_error());
        return 0;
    }
    rl_rng_seed(&rng, 11);
    if (do_bench) {
        bench(rows < 1 ? 1 : rows);
        return 0;
    }
    printf("# device: %s\n", rl_cuda_device_name());
    for (precision = 0; precision <= 2; precision++) {
        char name[160];
        snprintf(name, sizeof name, "cuda gemm, %s: three layouts, padded leading dimensions, C = and C +=, fp32 and bf16 B",
                 precision == 0 ? "fp32 (= naive)" : precision == 1 ? "TF32 (naive within 4e-3)" : "bf16 inputs (= the bf16 twin)");
        rlt_begin(name);
        for (s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
            for (layout = 0; layout < 3; layout++) {
                gemm_case(shapes[s][0], shapes[s][1], shapes[s][2], layout, s % 2 ? 3 : 0, 0, precision, 0);
                gemm_case(shapes[s][0], shapes[s][1], shapes[s][2], layout, 1, 1, precision, 0);
                gemm_case(shapes[s][0], shapes[s][1], shapes[s][2], layout, 0, s % 2, precision, 1);
            }
        rlt_end();
    }
    rlt_begin("cuda gemm: bad arguments refused, C untouched");
    {
        float h[4] = {1, 2, 3, 4}, back[4];
        void *d = to_dev(h, sizeof h);
        RLT_CHECK(d && rl_cuda_gemm(2, 2, 2, (const float *)d, 2, 2, d, 0, 2, 1, (float *)d, 2, 0, 0) == -1 &&
                      strstr(rl_cuda_last_error(), "unit stride"), "no unit stride in A: %s", rl_cuda_last_error());
        RLT_CHECK(rl_cuda_gemm(2, 2, 2, (const float *)d, 2, 1, d, 0, 2, 1, (float *)d, 1, 0, 0) == -1, "ldc < N");
        RLT_CHECK(rl_cuda_gemm(2, 2, 2, (const float *)d, 2, 1, d, 0, 2, 1, (float *)d, 2, 0, 3) == -1, "precision 3");
        RLT_CHECK(d && rl_cuda_copy(back, d, sizeof back, 2) == 0 && !memcmp(back, h, sizeof h), "C untouched");
        rl_cuda_free(d);
    }
    rlt_end();
    return rlt_exit();
}
