/* bench_matvec - y = x·Wᵀ with few rows x (decoding: M = 1), W in F32, F16, BF16 or a ggml
   block type, on the SmolLM2-135M shapes (N x K: q/o 576x576, MLP up/gate 1536x576, MLP
   down 576x1536, head 49152x576): GB/s of weight bytes read per product, 1 and 2 threads.
     old      the path before the fused kernels: a quantized row dequantized (the reference
              dequantizer) into a scratch row, then the F32 dot product with each row of x;
              F16 converted 256 values at a time, then the F32 dot product
     fused    the kernel table's dot product on the row in place (dot_q / dot_f16)
     radlads  rl_matmul_nt, i.e. what rl_gemm chooses (fused for M <= RL__GGML_FUSED_M; for
              Q8_0, Q4_0, Q4_1 with x rounded to 8 bits, unless RADLADS_Q8_ACT=0)
     r8       the same with W's rows interleaved by eight (rl_pack_r8; Q4_0, Q4_1: what
              `radlads generate` reads unless --no-pack)
   ratio = old time / radlads time; r8 / radlads = radlads time / r8 time. The paths alternate
   call by call (interleaved), best time of each over the run. Weights: N(0, 0.05) values quantized by the simple quantizers
   below. Build and run: make bench-matvec
     build/bench_matvec [--rows M] [--threads T] [--secs S] [--type NAME] [--shape NxK]
     build/bench_matvec --requant TYPE IN.gguf OUT.gguf
   The second form rewrites a GGUF RAD-RWKV6 student (llama.cpp rwkv6qwen2, from `radlads
   export`): its matrices quantized to TYPE (q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k), the
   rest as stored (K-quants fall back as llama-quantize does where rows are not whole
   256-value blocks: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0); for decode speed with `radlads generate --model OUT.gguf`. */
#include "bench.h"
#include <ctype.h>

/* ---- quantizers: round to nearest with the block's range (not ggml's searched scales) ---- */
static void put_h(unsigned char *p, float v) {
    uint16_t h = rl_f32_to_f16(v);
    memcpy(p, &h, 2);
}
static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
static int nearest(float v) { return (int)floorf(v + 0.5f); }

/* Q4_0/Q5_0 (symmetric, the value of largest magnitude maps to -2^(bits-1)), Q4_1/Q5_1 (min..max) */
static void quant_q45(const float *x, unsigned char *b, int bits, int mins) {
    int j, L = (1 << bits) - 1, off = mins ? 4 : 2, hb = bits == 5 ? 4 : 0;
    float d, id, mn = x[0], mx = x[0], amax = 0, big = 0;
    uint32_t qh = 0;
    for (j = 0; j < 32; j++) {
        mn = x[j] < mn ? x[j] : mn;
        mx = x[j] > mx ? x[j] : mx;
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]), big = x[j];
    }
    d = mins ? (mx - mn) / (float)L : big / -(float)(1 << (bits - 1));
    id = d ? 1.0f / d : 0.0f;
    put_h(b, d);
    if (mins) put_h(b + 2, mn);
    for (j = 0; j < 16; j++) {
        int lo = clampi(nearest(mins ? (x[j] - mn) * id : x[j] * id + (float)(1 << (bits - 1))), 0, L);
        int hi = clampi(nearest(mins ? (x[j + 16] - mn) * id : x[j + 16] * id + (float)(1 << (bits - 1))), 0, L);
        b[off + hb + j] = (unsigned char)((lo & 15) | ((hi & 15) << 4));
        qh |= (uint32_t)((lo >> 4) & 1) << j | (uint32_t)((hi >> 4) & 1) << (j + 16);
    }
    if (hb) b[off] = (unsigned char)qh, b[off + 1] = (unsigned char)(qh >> 8), b[off + 2] = (unsigned char)(qh >> 16), b[off + 3] = (unsigned char)(qh >> 24);
}
static void quant_q8_0(const float *x, unsigned char *b) {
    int j;
    float amax = 0, d, id;
    for (j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
    d = amax / 127.0f;
    id = d ? 1.0f / d : 0.0f;
    put_h(b, d);
    for (j = 0; j < 32; j++) b[2 + j] = (unsigned char)(signed char)clampi(nearest(x[j] * id), -127, 127);
}
/* Q4_K/Q5_K: per sub-block of 32 a scale and a minimum (6 bits each, times d / dmin) */
static void quant_q45_k(const float *x, unsigned char *b, int five) {
    float sc[8], mn[8], d = 0, dmin = 0;
    int s, j, L = five ? 31 : 15, isc[8], imn[8];
    unsigned char *S = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
    memset(b + 4, 0, five ? 172 : 140);
    for (s = 0; s < 8; s++) {
        float lo = 0, hi = 0;
        for (j = 0; j < 32; j++) lo = x[32 * s + j] < lo ? x[32 * s + j] : lo, hi = x[32 * s + j] > hi ? x[32 * s + j] : hi;
        sc[s] = (hi - lo) / (float)L;
        mn[s] = -lo;
        d = sc[s] > d ? sc[s] : d;
        dmin = mn[s] > dmin ? mn[s] : dmin;
    }
    d /= 63.0f;
    dmin /= 63.0f;
    put_h(b, d);
    put_h(b + 2, dmin);
    d = rl_f16_to_f32(rl_f32_to_f16(d));
    dmin = rl_f16_to_f32(rl_f32_to_f16(dmin));
    for (s = 0; s < 8; s++) {
        isc[s] = d ? clampi(nearest(sc[s] / d), 0, 63) : 0;
        imn[s] = dmin ? clampi(nearest(mn[s] / dmin), 0, 63) : 0;
        if (s < 4) {
            S[s] = (unsigned char)isc[s];
            S[s + 4] = (unsigned char)imn[s];
        } else {
            S[s + 4] = (unsigned char)((isc[s] & 15) | ((imn[s] & 15) << 4));
            S[s - 4] |= (unsigned char)((isc[s] >> 4) << 6);
            S[s] |= (unsigned char)((imn[s] >> 4) << 6);
        }
    }
    for (s = 0; s < 8; s++) {
        float ds = d * (float)isc[s], m = dmin * (float)imn[s];
        for (j = 0; j < 32; j++) {
            int q = ds ? clampi(nearest((x[32 * s + j] + m) / ds), 0, L) : 0;
            qs[32 * (s / 2) + j] |= (unsigned char)((q & 15) << (s & 1 ? 4 : 0));
            if (five) qh[j] |= (unsigned char)(((q >> 4) & 1) << s);
        }
    }
}
/* Q6_K: per group of 16 an int8 scale (times d), values -32..31 */
static void quant_q6_k(const float *x, unsigned char *b) {
    float sc[16], d = 0;
    int g, l, isc[16];
    memset(b, 0, 210);
    for (g = 0; g < 16; g++) {
        float amax = 0;
        for (l = 0; l < 16; l++) amax = fabsf(x[16 * g + l]) > amax ? fabsf(x[16 * g + l]) : amax;
        sc[g] = amax / 31.0f;
        d = sc[g] > d ? sc[g] : d;
    }
    d /= 127.0f;
    put_h(b + 208, d);
    d = rl_f16_to_f32(rl_f32_to_f16(d));
    for (g = 0; g < 16; g++) b[192 + g] = (unsigned char)(signed char)(isc[g] = d ? clampi(nearest(sc[g] / d), 0, 127) : 0);
    for (g = 0; g < 16; g++) /* value 128h + 32k + l (l < 32) is in group 8h + 2k + l/16 */
        for (l = 0; l < 16; l++) {
            int i = 16 * g + l, h = i / 128, k = (i % 128) / 32, ll = i % 32;
            float ds = d * (float)isc[g];
            int q = (ds ? clampi(nearest(x[i] / ds), -32, 31) : 0) + 32;
            b[64 * h + ll + (k & 1 ? 32 : 0)] |= (unsigned char)((q & 15) << (k < 2 ? 0 : 4));
            b[128 + 32 * h + ll] |= (unsigned char)((q >> 4) << (2 * k));
        }
}
static void quantize(int type, const float *x, unsigned char *out, int64_t n) {
    int64_t bs = 1, ts = 0, i;
    rl_ggml_type_size(type, &bs, &ts);
    for (i = 0; i < n / bs; i++, x += bs, out += ts) switch (type) {
        case RL_GGML_Q8_0: quant_q8_0(x, out); break;
        case RL_GGML_Q4_0: quant_q45(x, out, 4, 0); break;
        case RL_GGML_Q4_1: quant_q45(x, out, 4, 1); break;
        case RL_GGML_Q5_0: quant_q45(x, out, 5, 0); break;
        case RL_GGML_Q5_1: quant_q45(x, out, 5, 1); break;
        case RL_GGML_Q4_K: quant_q45_k(x, out, 0); break;
        case RL_GGML_Q5_K: quant_q45_k(x, out, 1); break;
        case RL_GGML_Q6_K: quant_q6_k(x, out); break;
        }
}

static const struct { const char *name; int ggml; rl_dtype dt; } types[] = {
    {"F32", RL_GGML_F32, RL_F32},   {"F16", RL_GGML_F16, RL_F16},   {"BF16", RL_GGML_BF16, RL_BF16}, {"Q8_0", RL_GGML_Q8_0, RL_F32},
    {"Q4_0", RL_GGML_Q4_0, RL_F32}, {"Q4_1", RL_GGML_Q4_1, RL_F32}, {"Q5_0", RL_GGML_Q5_0, RL_F32}, {"Q5_1", RL_GGML_Q5_1, RL_F32},
    {"Q4_K", RL_GGML_Q4_K, RL_F32}, {"Q5_K", RL_GGML_Q5_K, RL_F32}, {"Q6_K", RL_GGML_Q6_K, RL_F32}};
#define NTYPES (int)(sizeof types / sizeof types[0])
static int is_block(int t) { return t >= 3; }

/* ---- --requant: the matrices of a rwkv6qwen2 GGUF (names as tests/test_gguf_student.c) ---- */
static int is_matrix(const char *name) {
    static const char *const sfx[] = {"time_mix_receptance.weight", "time_mix_key.weight", "time_mix_value.weight", "time_mix_gate.weight",
                                      "time_mix_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
    size_t i, n = strlen(name);
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "output.weight")) return 1;
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if (n > strlen(sfx[i]) && !strcmp(name + n - strlen(sfx[i]), sfx[i])) return 1;
    return 0;
}
static int requant(const char *tname, const char *in, const char *out) {
    rl_gguf g;
    rl_gguf_writer *w;
    void **keep;
    int64_t i, nk = 0, bs, ts;
    int t, type = -1, nq = 0, nfb = 0;
    double err = 0, ref = 0;
    for (t = 3; t < NTYPES; t++) {
        char lower[8];
        size_t c;
        for (c = 0; c <= strlen(types[t].name); c++) lower[c] = (char)tolower((unsigned char)types[t].name[c]);
        if (!strcmp(tname, lower) || !strcmp(tname, types[t].name)) type = types[t].ggml;
    }
    if (type < 0 || !rl_ggml_type_size(type, &bs, &ts)) {
        fprintf(stderr, "bench_matvec: --requant: unknown type %s\n", tname);
        return 2;
    }
    if (rl_gguf_open(&g, in) != RL_OK) {
        fprintf(stderr, "bench_matvec: %s\n", rl_last_error());
        return 1;
    }
    w = rl_gguf_writer_new();
    keep = (void **)calloc((size_t)g.n_tensors, sizeof(void *));
    for (i = 0; i < g.n_kv; i++) rl_gguf_add_value(w, g.kv[i].key, &g.kv[i].val);
    for (i = 0; i < g.n_tensors; i++) {
        const rl_gguf_tensor *tt = &g.tensors[i];
        int qt = type;
        if (is_matrix(tt->name) && tt->ne[0] % bs) /* as llama-quantize: K-quants fall back where rows are not whole blocks */
            qt = type == RL_GGML_Q4_K ? RL_GGML_Q5_0 : type == RL_GGML_Q5_K ? RL_GGML_Q5_1 : RL_GGML_Q8_0;
        if (is_matrix(tt->name) && qt != type) nfb++;
        if (is_matrix(tt->name)) {
            int64_t qbs = 1, qts = 0;
            float *f = (float *)malloc(sizeof(float) * (size_t)tt->n), *back = (float *)malloc(sizeof(float) * (size_t)tt->n);
            unsigned char *q;
            int64_t k;
            rl_ggml_type_size(qt, &qbs, &qts);
            q = (unsigned char *)malloc((size_t)(tt->n / qbs * qts));
            rl_gguf_tensor_f32(&g, tt, f);
            quantize(qt, f, q, tt->n);
            rl_ggml_dequantize(qt, q, back, tt->n);
            for (k = 0; k < tt->n; k++) err += ((double)back[k] - f[k]) * ((double)back[k] - f[k]), ref += (double)f[k] * f[k];
            rl_gguf_add_tensor(w, tt->name, qt, tt->n_dims, tt->ne, q);
            keep[nk++] = q;
            free(f);
            free(back);
            nq++;
        } else {
            rl_gguf_add_tensor(w, tt->name, tt->type, tt->n_dims, tt->ne, tt->data);
        }
    }
    if (rl_gguf_write(w, out) != RL_OK) {
        fprintf(stderr, "bench_matvec: %s\n", rl_last_error());
        return 1;
    }
    printf("%s -> %s: %d matrices as %s, %d of them as %s (rows not whole blocks); relative RMS error of the weights %.4f\n", in, out, nq,
           rl_ggml_type_name(type), nfb, nfb ? rl_ggml_type_name(type == RL_GGML_Q4_K ? RL_GGML_Q5_0 : type == RL_GGML_Q5_K ? RL_GGML_Q5_1 : RL_GGML_Q8_0) : "-",
           sqrt(err / ref));
    for (i = 0; i < nk; i++) free(keep[i]);
    free(keep);
    rl_gguf_writer_free(w);
    rl_gguf_close(&g);
    return 0;
}

/* ---- the paths ---- */
typedef struct {
    rl__gemm_args g;
    const rl__kern *k;
} old_f16_job;
/* the F16 branch of rl__gemv_task before dot_f16 */
static void old_f16_task(void *ctx, int64_t b, int64_t e, int tid) {
    old_f16_job *j = (old_f16_job *)ctx;
    const rl__gemm_args *g = &j->g;
    int64_t i, n;
    (void)tid;
    for (i = 0; i < g->M; i++)
        for (n = b; n < e; n++) {
            const uint16_t *w = (const uint16_t *)g->B + n * g->b_cs;
            float buf[256], s = 0;
            int64_t q0, q, c;
            for (q0 = 0; q0 < g->K; q0 += 256) {
                c = RL__MIN(256, g->K - q0);
                for (q = 0; q < c; q++) buf[q] = rl_f16_to_f32(w[q0 + q]);
                s += j->k->dot(g->A + i * g->a_rs + q0, buf, c);
            }
            g->C[i * g->ldc + n] = s;
        }
}

typedef struct {
    int t;
    long M, N, K;
    float *x, *y;
    void *W, *P; /* P: W's rows interleaved, or NULL */
    rl_pool *pool;
} job_t;

/* path 0 old, 1 fused, 2 radlads (rl_matmul_nt), 3 r8 */
static void run(const job_t *j, int path) {
    rl_dtype dt = is_block(j->t) ? RL_DTYPE_GGML(types[j->t].ggml) : types[j->t].dt;
    if (path == 3) {
        rl_matmul_nt(j->pool, j->y, j->x, j->P, RL_DTYPE_R8(types[j->t].ggml), NULL, j->M, j->N, j->K);
    } else if (path == 2) {
        rl_matmul_nt(j->pool, j->y, j->x, j->W, dt, NULL, j->M, j->N, j->K);
    } else if (is_block(j->t)) {
        rl__gemm_ggml_job q;
        rl__gemm_args g;
        memset(&q, 0, sizeof q); /* (dot8 NULL: x stays fp32 on these two paths) */
        g.M = j->M; g.N = j->N; g.K = j->K; g.A = j->x; g.a_rs = j->K; g.a_cs = 1; g.B = j->W; g.bt = dt;
        g.b_rs = 1; g.b_cs = j->K; g.C = j->y; g.ldc = j->N; g.accumulate = 0;
        q.g = &g;
        q.k = rl__kern_get();
        q.type = types[j->t].ggml;
        q.dot = path == 1 ? q.k->dot_q[types[j->t].ggml] : NULL;
        rl__ggml_row_bytes(types[j->t].ggml, j->K, &q.row_bytes);
        q.sc.mem = NULL;
        if (!q.dot && !rl__scratch_alloc(&q.sc, j->pool, (size_t)j->K)) exit(1);
        rl_pool_for(j->pool, j->N, 16, rl__gemm_ggml_task, &q);
        rl__scratch_free(&q.sc);
    } else if (types[j->t].dt == RL_F16 && path == 0) {
        old_f16_job o;
        o.g.M = j->M; o.g.N = j->N; o.g.K = j->K; o.g.A = j->x; o.g.a_rs = j->K; o.g.a_cs = 1; o.g.B = j->W; o.g.bt = RL_F16;
        o.g.b_rs = 1; o.g.b_cs = j->K; o.g.C = j->y; o.g.ldc = j->N; o.g.accumulate = 0;
        o.k = rl__kern_get();
        rl_pool_for(j->pool, j->N, 64, old_f16_task, &o);
    } else {
        rl_matmul_nt(j->pool, j->y, j->x, j->W, dt, NULL, j->M, j->N, j->K); /* F32, BF16: unchanged */
    }
}

int main(int argc, char **argv) {
    static const long shapes[][2] = {{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}};
    long M = 1, only_N = 0, only_K = 0;
    double secs = 0.3;
    int th, si, t, a, only_th = 0, only_t = -1;
    rl_rng rng;
    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--requant") && a + 3 < argc) return requant(argv[a + 1], argv[a + 2], argv[a + 3]);
        else if (!strcmp(argv[a], "--rows") && a + 1 < argc) M = atol(argv[++a]);
        else if (!strcmp(argv[a], "--threads") && a + 1 < argc) only_th = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--secs") && a + 1 < argc) secs = atof(argv[++a]);
        else if (!strcmp(argv[a], "--shape") && a + 1 < argc && sscanf(argv[a + 1], "%ldx%ld", &only_N, &only_K) == 2) a++;
        else if (!strcmp(argv[a], "--type") && a + 1 < argc) {
            for (t = 0; t < NTYPES; t++)
                if (!strcmp(argv[a + 1], types[t].name)) only_t = t;
            a++;
        } else {
            fprintf(stderr, "usage: bench_matvec [--rows M] [--threads T] [--secs S] [--type F32|F16|BF16|Q8_0|...] [--shape NxK]\n"
                            "       bench_matvec --requant TYPE IN.gguf OUT.gguf\n");
            return 2;
        }
    }
    rl_rng_seed(&rng, 1);
    printf("# y = x·Wᵀ, M = %ld rows of x; isa %s; GB/s of W's bytes per product (best of interleaved repeats, >= %.1f s each);\n"
           "# old: dequantize a row (F16: convert 256 values) + F32 dot; fused: dot_q/dot_f16 in place; radlads: rl_matmul_nt;"
           " ratio = old time / radlads time\n",
           M, rl_isa_name(rl_isa_active()), secs);
    printf("| threads | W | N x K | MB | old GB/s | fused GB/s | radlads GB/s | radlads GFLOP/s | ratio | r8 GB/s | r8 / radlads |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (th = 1; th <= 2; th++) {
        rl_pool *pool;
        if (only_th && th != only_th) continue;
        pool = rl_pool_create(th);
        for (si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si++)
            for (t = 0; t < NTYPES; t++) {
                long N = shapes[si][0], K = shapes[si][1], i;
                int64_t bs = 1, ts = 4, bytes;
                double best[4] = {1e30, 1e30, 1e30, 1e30}, start, tt;
                char r8[64] = " - | - ";
                float *f;
                job_t j;
                int p, paths = is_block(t) || types[t].dt == RL_F16 ? 3 : 1, last;
                if ((only_N && (N != only_N || K != only_K)) || (only_t >= 0 && t != only_t)) continue;
                rl_ggml_type_size(types[t].ggml, &bs, &ts);
                if (K % bs) { /* K-quants need rows of whole 256-value blocks */
                    printf("| %d | %s | %ld x %ld | - | rows of %ld values are not whole blocks of %ld ||||||\n", th, types[t].name, N, K, K, (long)bs);
                    continue;
                }
                bytes = N * K / bs * ts;
                j.t = t; j.M = M; j.N = N; j.K = K; j.pool = pool;
                j.x = (float *)malloc(sizeof(float) * M * K);
                j.y = (float *)malloc(sizeof(float) * M * N);
                j.W = malloc((size_t)bytes);
                f = (float *)malloc(sizeof(float) * N * K);
                for (i = 0; i < M * K; i++) j.x[i] = rl_rng_uniform(&rng) - 0.5f;
                for (i = 0; i < N * K; i++) f[i] = 0.05f * rl_rng_normal(&rng);
                if (is_block(t)) quantize(types[t].ggml, f, (unsigned char *)j.W, N * K);
                else if (types[t].dt == RL_F32) memcpy(j.W, f, sizeof(float) * N * K);
                else
                    for (i = 0; i < N * K; i++) ((uint16_t *)j.W)[i] = types[t].dt == RL_F16 ? rl_f32_to_f16(f[i]) : rl_f32_to_bf16(f[i]);
                free(f);
                j.P = NULL; /* the interleaved copy, for the types that have one */
                if (is_block(t) && (j.P = malloc((size_t)bytes)) && rl_pack_r8(types[t].ggml, j.W, N, K, j.P) != RL_OK) free(j.P), j.P = NULL;
                last = j.P ? 4 : 3;
                for (p = 0; p < last; p++) run(&j, p); /* warm-up */
                start = now();
                do
                    for (p = 3 - paths; p < last; p++) {
                        tt = now();
                        run(&j, p);
                        tt = now() - tt;
                        best[p] = tt < best[p] ? tt : best[p];
                    }
                while (now() - start < secs);
                if (j.P) snprintf(r8, sizeof r8, " %.2f | %.2f ", bytes / best[3] * 1e-9, best[2] / best[3]);
                if (paths == 3)
                    printf("| %d | %s | %ld x %ld | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |%s|\n", th, types[t].name, N, K, bytes * 1e-6,
                           bytes / best[0] * 1e-9, bytes / best[1] * 1e-9, bytes / best[2] * 1e-9, 2e-9 * M * N * K / best[2], best[0] / best[2], r8);
                else
                    printf("| %d | %s | %ld x %ld | %.2f | - | - | %.2f | %.2f | - |%s|\n", th, types[t].name, N, K, bytes * 1e-6, bytes / best[2] * 1e-9,
                           2e-9 * M * N * K / best[2], r8);
                fflush(stdout);
                free(j.x); free(j.y); free(j.W); free(j.P);
            }
        rl_pool_free(pool);
    }
    return 0;
}
