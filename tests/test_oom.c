/* Allocation failures inside the parallel ops (attention, the scans, products with quantized
   weights, attention over a KV cache) are errors of the op, never a silent success with the
   output or the gradients missing. The library's RL_MALLOC hook is pointed at an allocator
   that fails while `fail_allocs` is set; each op is run once first so that the context's
   arena already holds its blocks, then again with every allocation failing: what is left to
   fail is the scratch of the op's tasks. And a sweep (`fail_at`): the student made from a
   teacher with each of its allocations failing in turn is an error every time, never a
   student with some parameters left uninitialised. */
#include <stdlib.h>
static int fail_allocs;       /* every allocation fails */
static long fail_at = -1;     /* >= 0: the allocation of this number (from 0) fails, the others do not */
static long n_allocs;         /* allocations so far */
static int oom_now(void) { return fail_allocs || n_allocs++ == fail_at; }
static void *oom_malloc(size_t n) { return oom_now() ? NULL : malloc(n); }
static void *oom_realloc(void *p, size_t n) { return oom_now() ? NULL : realloc(p, n); }
#define RL_MALLOC(sz) oom_malloc(sz)
#define RL_REALLOC(p, sz) oom_realloc(p, sz)
#define RL_FREE(p) free(p)
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
#include "rl_test.h"

static rl_pool *pool;
static rl_rng rng;

typedef struct { rl_tensor t[8]; int n; } inputs_t;
static rl_tensor *input(inputs_t *in, int64_t rows, int64_t cols, float lo, float hi) {
    int64_t s[2], i;
    rl_tensor *t = &in->t[in->n++];
    s[0] = rows;
    s[1] = cols;
    *t = rl_wrap(NULL, RL_F32, 2, s, 1);
    t->data = malloc(sizeof(float) * (size_t)t->n);
    t->grad = (float *)calloc((size_t)t->n, sizeof(float));
    for (i = 0; i < t->n; i++) rl_f32(t)[i] = lo + (hi - lo) * rl_rng_uniform(&rng);
    return t;
}
static void inputs_free(inputs_t *in) {
    int i;
    for (i = 0; i < in->n; i++) {
        free(in->t[i].data);
        free(in->t[i].grad);
    }
}

typedef rl_tensor *(*op_fn)(rl_ctx *c, inputs_t *in);
enum { B = 2, T = 37 /* more than one chunk of the scans, not a multiple of one */, H = 2, N = 8 };
static rl_tensor *op_attention(rl_ctx *c, inputs_t *in) { return rl_attention(c, &in->t[0], &in->t[1], &in->t[2], T, H, 1); }
static rl_tensor *op_wkv6(rl_ctx *c, inputs_t *in) { return rl_wkv6(c, &in->t[0], &in->t[1], &in->t[2], &in->t[3], T, H, 1, NULL, NULL); }
static rl_tensor *op_wkv7(rl_ctx *c, inputs_t *in) {
    return rl_wkv7(c, &in->t[0], &in->t[1], &in->t[2], &in->t[3], &in->t[4], &in->t[5], T, H, NULL, NULL);
}

/* forward and backward of op: 1 = both report an out-of-memory error while allocations fail
   (and succeed otherwise) */
static void check_op(const char *name, op_fn f, int n_in, const int *kv) {
    rl_ctx c;
    inputs_t in;
    rl_tensor *y;
    rl_status st;
    int i;
    memset(&in, 0, sizeof in);
    for (i = 0; i < n_in; i++) {
        int64_t cols = kv[i] ? N : H * N;
        if (n_in == 6 && i == 1) input(&in, B * T, cols, 0.6f, 0.99f);   /* wkv7 w: decays */
        else if (n_in == 4 && i == 3) input(&in, B * T, cols, -2, -0.1f); /* wkv6 log w */
        else if (n_in == 6 && (i == 4 || i == 5)) input(&in, B * T, cols, -0.1f, 0.1f);
        else input(&in, B * T, cols, -1, 1);
    }
    rl_ctx_init(&c, pool);
    c.scan_chunk = 16;
    /* once for the arena's blocks */
    y = f(&c, &in);
    RLT_CHECK(y && rl_backward(&c, rl_sum(&c, y)) == RL_OK, "%s: forward and backward: %s", name, rl_last_error());
    rl_ctx_reset(&c);
    fail_allocs = 1;
    y = f(&c, &in);
    fail_allocs = 0;
    RLT_CHECK(!y && c.err == RL_ERR_NOMEM && strstr(rl_last_error(), "out of memory"), "%s forward without memory: %s (status %d: %s)", name,
              y ? "an output" : "no output", (int)c.err, rl_last_error());
    rl_ctx_reset(&c);
    y = f(&c, &in);
    RLT_CHECK(y && c.err == RL_OK, "%s: the context works again after a reset: %s", name, rl_last_error());
    fail_allocs = 1;
    st = y ? rl_backward(&c, rl_sum(&c, y)) : RL_ERR_STATE;
    fail_allocs = 0;
    RLT_CHECK(st == RL_ERR_NOMEM && strstr(rl_last_error(), "out of memory"), "%s backward without memory: status %d: %s", name, (int)st, rl_last_error());
    rl_ctx_free(&c);
    inputs_free(&in);
}

int main(void) {
    static const int kv_none[6] = {0}, kv6[4] = {0, 1, 1, 0};
    pool = rl_pool_create(3); /* the parallel paths, more than one task */
    rl_rng_seed(&rng, 7);

    rlt_begin("oom: attention and the scans report out-of-memory instead of a silent result");
    {
        static const int kv_attn[3] = {0, 1, 1};
        check_op("attention", op_attention, 3, kv_attn);
        check_op("wkv6 (chunked)", op_wkv6, 4, kv6);
        check_op("wkv7 (chunked)", op_wkv7, 6, kv_none);
    }
    rlt_end();

    rlt_begin("oom: a linear layer with quantized (Q8_0) weights");
    {
        /* W [4, 32] in Q8_0: per row one block of an f16 scale and 32 int8 */
        unsigned char wq[4 * 34];
        int64_t ws[2] = {4, 32}, i;
        rl_tensor W, *x, *xm, *y;
        inputs_t in;
        float y0;
        rl_ctx c;
        memset(&in, 0, sizeof in);
        for (i = 0; i < 4; i++) {
            int k;
            wq[i * 34] = 0x00; /* scale 1/64 as f16: 0x2400 */
            wq[i * 34 + 1] = 0x24;
            for (k = 0; k < 32; k++) wq[i * 34 + 2 + k] = (unsigned char)(signed char)(k - 16 + (int)i);
        }
        W = rl_wrap(wq, RL_DTYPE_GGML(8), 2, ws, 0);
        x = input(&in, 3, 32, -1, 1);   /* few rows: the fused dot products, which need no scratch */
        xm = input(&in, 40, 32, -1, 1); /* many rows: panels of W dequantized into a scratch */
        rl_ctx_init(&c, pool);
        y = rl_linear(&c, x, &W, NULL);
        RLT_CHECK(y && c.err == RL_OK && fabsf(rl_f32(y)[0]) > 0, "Q8_0 linear works: %s", rl_last_error());
        y0 = y ? rl_f32(y)[0] : 0;
        y = rl_linear(&c, xm, &W, NULL);
        RLT_CHECK(y && c.err == RL_OK && fabsf(rl_f32(y)[0]) > 0, "Q8_0 linear, many rows, works: %s", rl_last_error());
        rl_ctx_reset(&c);
        fail_allocs = 1;
        y = rl_linear(&c, x, &W, NULL);
        RLT_CHECK(y && c.err == RL_OK && rl_f32(y)[0] == y0, "Q8_0 linear of few rows allocates nothing: %s", rl_last_error());
        y = rl_linear(&c, xm, &W, NULL);
        fail_allocs = 0;
        RLT_CHECK(!y && c.err == RL_ERR_NOMEM && strstr(rl_last_error(), "dequantized rows"), "Q8_0 linear without memory: %s", rl_last_error());
        rl_ctx_reset(&c);
        y = rl_linear(&c, x, &W, NULL);
        RLT_CHECK(y && rl_backward(&c, rl_sum(&c, y)) == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), "backward"),
                  "the input gradient through Q8_0 weights is refused, not left zero: %s", rl_last_error());
        rl_ctx_free(&c);
        inputs_free(&in);
    }
    rlt_end();

    rlt_begin("oom: a decoding step of a teacher (attention over the KV cache) and a student's training step");
    {
        rl_model teacher, student;
        rl_student_opts so;
        rl_state s;
        rl_ctx c;
        float *logits;
        int32_t ids[16];
        int i;
        rl_status st;
        if (rl_model_load(&teacher, "tests/fixtures/tiny-qwen2", 0) != RL_OK) {
            RLT_CHECK(0, "fixture teacher: %s", rl_last_error());
        } else {
            logits = (float *)malloc(sizeof(float) * (size_t)teacher.cfg.vocab_size);
            for (i = 0; i < 16; i++) ids[i] = 1 + i * 7;
            rl_ctx_init(&c, pool);
            rl_state_init(&s, &teacher, 32);
            st = rl_model_step(&c, &teacher, &s, ids, 4, logits);
            RLT_CHECK(st == RL_OK, "prefill: %s", rl_last_error());
            st = rl_model_step(&c, &teacher, &s, ids + 4, 1, logits);
            RLT_CHECK(st == RL_OK, "a step: %s", rl_last_error());
            fail_allocs = 1;
            st = rl_model_step(&c, &teacher, &s, ids + 5, 1, logits);
            fail_allocs = 0;
            RLT_CHECK(st == RL_ERR_NOMEM && strstr(rl_last_error(), "out of memory"), "a step without memory: status %d: %s", (int)st, rl_last_error());
            rl_state_free(&s);
            rl_ctx_free(&c);
            free(logits);
            /* a student's step: forward, cross entropy, backward */
            rl_student_opts_default(&so, RL_MIXER_RWKV7);
            if (rl_student_from_teacher(&student, &teacher, &so) == RL_OK) {
                rl_forward_opts fo;
                rl_tensor *loss;
                memset(&fo, 0, sizeof fo);
                fo.B = 1;
                fo.T = 15;
                rl_ctx_init(&c, pool);
                loss = rl_cross_entropy(&c, rl_model_forward(&c, &student, ids, &fo), ids + 1);
                RLT_CHECK(loss && rl_backward(&c, loss) == RL_OK, "student step: %s", rl_last_error());
                rl_ctx_reset(&c);
                fail_allocs = 1;
                loss = rl_cross_entropy(&c, rl_model_forward(&c, &student, ids, &fo), ids + 1);
                fail_allocs = 0;
                RLT_CHECK(!loss && c.err == RL_ERR_NOMEM, "student forward without memory: status %d: %s", (int)c.err, rl_last_error());
                rl_ctx_reset(&c);
                loss = rl_cross_entropy(&c, rl_model_forward(&c, &student, ids, &fo), ids + 1);
                fail_allocs = 1;
                st = loss ? rl_backward(&c, loss) : RL_ERR_STATE;
                fail_allocs = 0;
                RLT_CHECK(st == RL_ERR_NOMEM, "student backward without memory: status %d: %s", (int)st, rl_last_error());
                rl_ctx_free(&c);
                rl_model_free(&student);
            } else {
                RLT_CHECK(0, "student: %s", rl_last_error());
            }
            rl_model_free(&teacher);
        }
    }
    rlt_end();

    rlt_begin("oom: rl_student_from_teacher with each of its allocations failing in turn");
    {
        rl_model teacher, ref, s;
        rl_student_opts so;
        long total, k;
        int bad = 0;
        if (rl_model_load(&teacher, "tests/fixtures/tiny-qwen2", 0) != RL_OK) {
            RLT_CHECK(0, "fixture teacher: %s", rl_last_error());
        } else {
            rl_student_opts_default(&so, RL_MIXER_RWKV7);
            n_allocs = 0;
            RLT_CHECK(rl_student_from_teacher(&ref, &teacher, &so) == RL_OK, "student: %s", rl_last_error());
            total = n_allocs;
            for (k = 0; k < total && !bad; k++) {
                rl_status st;
                n_allocs = 0;
                fail_at = k;
                st = rl_student_from_teacher(&s, &teacher, &so);
                fail_at = -1;
                if (st == RL_OK) {
                    bad = memcmp(rl_f32(&s.blocks[1].mix.w2), rl_f32(&ref.blocks[1].mix.w2), sizeof(float) * (size_t)ref.blocks[1].mix.w2.n) != 0 ||
                          memcmp(rl_f32(&s.blocks[0].mix.a2), rl_f32(&ref.blocks[0].mix.a2), sizeof(float) * (size_t)ref.blocks[0].mix.a2.n) != 0;
                    RLT_CHECK(!bad, "allocation %ld of %ld failed, yet a student came back with other weights", k, total);
                    rl_model_free(&s);
                } else {
                    RLT_CHECK(st == RL_ERR_NOMEM, "allocation %ld of %ld failed: status %d: %s", k, total, (int)st, rl_last_error());
                }
            }
            rl_model_free(&ref);
            rl_model_free(&teacher);
        }
    }
    rlt_end();

    rl_pool_free(pool);
    return rlt_exit();
}
