/* rl_test.h - the few helpers every test program shares.
   A test program is a list of groups; each group prints one line
       PASS name (n checks)      FAIL name: first failure      SKIP name: why
   and tests/run.sh adds the lines of all programs up into "N passed, N failed". */
#ifndef RL_TEST_H
#define RL_TEST_H
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__GNUC__)
#define RLT_MAYBE_UNUSED __attribute__((unused))
#else
#define RLT_MAYBE_UNUSED
#endif

static int rlt_checks, rlt_fails, rlt_groups_failed;

/* a build with a switch, or for another system, says so in each line it prints */
#if defined(RADLADS_NO_THREADS)
#define RLT_BUILD "[no threads] "
#elif defined(_WIN32)
#define RLT_BUILD "[windows] "
#else
#define RLT_BUILD ""
#endif

/* A path for a scratch file: "<$TMPDIR or /tmp>/rlt.<pid>.<name>", so that test programs
   (and several checkouts) running at once never share one. Up to 16 results live at once. */
RLT_MAYBE_UNUSED static const char *rlt_tmp(const char *name) {
    static char buf[16][512];
    static unsigned k;
    const char *d = getenv("TMPDIR");
    char *b = buf[k++ % 16];
    snprintf(b, 512, "%s/rlt.%d.%s", d && *d ? d : "/tmp", getpid(), name);
    return b;
}
static char rlt_first[512];
static const char *rlt_group;

RLT_MAYBE_UNUSED static void rlt_begin(const char *name) {
    rlt_group = name;
    rlt_checks = rlt_fails = 0;
    rlt_first[0] = 0;
}

#if defined(RL__PRINTF)
RL__PRINTF(3, 4)
#elif defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
RLT_MAYBE_UNUSED static void rlt_failf(const char *file, int line, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!rlt_fails++) snprintf(rlt_first, sizeof rlt_first, "%s:%d: %s", file, line, msg);
    if (getenv("RLT_VERBOSE")) fprintf(stderr, "  %s:%d: %s\n", file, line, msg);
}

#define RLT_CHECK(cond, ...)                                          \
    do {                                                              \
        rlt_checks++;                                                 \
        if (!(cond)) rlt_failf(__FILE__, __LINE__, __VA_ARGS__);      \
    } while (0)

/* |a - b| <= atol + rtol * |b|; the message (a format and its arguments) is printed
   after the two values */
#define RLT_CLOSE(a, b, atol, rtol, ...)                                                         \
    do {                                                                                         \
        double rlt_a_ = (a), rlt_b_ = (b);                                                       \
        rlt_checks++;                                                                            \
        if (!(fabs(rlt_a_ - rlt_b_) <= (atol) + (rtol) * fabs(rlt_b_))) {                        \
            char rlt_m_[300];                                                                    \
            snprintf(rlt_m_, sizeof rlt_m_, __VA_ARGS__);                                        \
            rlt_failf(__FILE__, __LINE__, "%.9g vs %.9g: %s", rlt_a_, rlt_b_, rlt_m_);           \
        }                                                                                        \
    } while (0)

RLT_MAYBE_UNUSED static void rlt_end(void) {
    if (rlt_fails) {
        printf("FAIL " RLT_BUILD "%s: %s (%d of %d checks failed)\n", rlt_group, rlt_first, rlt_fails, rlt_checks);
        rlt_groups_failed++;
    } else {
        printf("PASS " RLT_BUILD "%s (%d checks)\n", rlt_group, rlt_checks);
    }
    fflush(stdout);
}

RLT_MAYBE_UNUSED static void rlt_skip(const char *name, const char *why) {
    printf("SKIP " RLT_BUILD "%s: %s\n", name, why);
    fflush(stdout);
}

RLT_MAYBE_UNUSED static int rlt_exit(void) { return rlt_groups_failed ? 1 : 0; }

/* Largest |a-b| / (atol + rtol*|b|) over arrays: <= 1 means all close. */
RLT_MAYBE_UNUSED static double rlt_worst(const float *a, const float *b, long n, double atol, double rtol, long *at) {
    double w = 0;
    long i;
    if (at) *at = -1;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]), e = d == 0 ? 0 : d / (atol + rtol * fabs((double)b[i]));
        if (e > w || e != e) {
            w = e != e ? INFINITY : e;
            if (at) *at = i;
        }
    }
    return w;
}
/* A whole file, malloc'ed with a NUL after its *n bytes (text files are used as C strings);
   NULL if it cannot be read. n may be NULL. */
RLT_MAYBE_UNUSED static void *rlt_read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long sz;
    size_t dummy;
    if (!n) n = &dummy;
    *n = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = (unsigned char *)malloc((size_t)sz + 1)) != NULL) {
        if (fread(p, 1, (size_t)sz, f) == (size_t)sz) {
            *n = (size_t)sz;
            p[sz] = 0;
        } else {
            free(p);
            p = NULL;
        }
    }
    fclose(f);
    return p;
}
/* Whether path exists. */
RLT_MAYBE_UNUSED static int rlt_exists(const char *path) { return access(path, F_OK) == 0; }

/* What POSIX and the Windows C runtime (MinGW-w64, make test-windows) spell differently:
   rlt_mkdir(path) makes a folder; rlt_mkdtemp(template) is mkdtemp (POSIX: the test defines
   _POSIX_C_SOURCE 200809L); rlt_rename(from, to) replaces an existing `to` (Windows' rename
   refuses to: the old file is removed first, not atomically; tests only). */
#if defined(_WIN32)
#include <direct.h>
#include <io.h>
#define rlt_mkdir(path) _mkdir(path)
RLT_MAYBE_UNUSED static char *rlt_mkdtemp(char *tmpl) { return _mktemp(tmpl) && _mkdir(tmpl) == 0 ? tmpl : NULL; }
RLT_MAYBE_UNUSED static int rlt_rename(const char *from, const char *to) {
    remove(to);
    return rename(from, to);
}
#else
#include <sys/stat.h>
#define rlt_mkdir(path) mkdir(path, 0777)
#define rlt_mkdtemp(tmpl) mkdtemp(tmpl)
#define rlt_rename(from, to) rename(from, to)
#endif

/* Write n bytes to path (created or truncated); 1 on success. */
RLT_MAYBE_UNUSED static int rlt_write_all(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return 0;
    ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok;
}

/* A float from its bits and back. */
RLT_MAYBE_UNUSED static float rlt_f32_of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
RLT_MAYBE_UNUSED static uint32_t rlt_bits_of_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#ifdef RADLADS_H
/* Whether rl_last_error() contains each of the (1 to 3) strings given; NULL ones are skipped. */
#define rlt_err_has(...) rlt_err_has_(__VA_ARGS__, NULL, NULL)
RLT_MAYBE_UNUSED static int rlt_err_has_(const char *a, const char *b, const char *c, ...) {
    const char *e = rl_last_error();
    return (!a || strstr(e, a)) && (!b || strstr(e, b)) && (!c || strstr(e, c));
}

/* Decoding 9 tokens with the fused RAD-RWKV mixer steps (the default) and op by op
   (rl_ctx.op_by_op): the same kernels on the same values in the same order, so every token's
   logits and the final states must be equal bit for bit; and the fused steps must have run,
   which leaves less in the arena than the ops do. */
RLT_MAYBE_UNUSED static void rlt_fused_vs_ops(rl_model *m, rl_pool *pool, const char *what) {
    int32_t ids[9] = {5, 77, 3, 300, 12, 12, 599, 0, 41};
    int64_t V = m->cfg.vocab_size, l;
    rl_ctx c[2];
    rl_state s[2];
    float *lg[2];
    int t, k, same = 1, smaller = 1, ok = 1;
    for (k = 0; k < 2; k++) {
        rl_ctx_init(&c[k], pool);
        c[k].op_by_op = k;
        ok &= rl_state_init(&s[k], m, 16) == RL_OK;
        lg[k] = (float *)malloc(sizeof(float) * (size_t)V);
    }
    for (t = 0; t < 9 && ok; t++) {
        for (k = 0; k < 2; k++) ok &= rl_model_step(&c[k], m, &s[k], ids + t, 1, lg[k]) == RL_OK;
        same &= !memcmp(lg[0], lg[1], sizeof(float) * (size_t)V);
        smaller &= c[0].arena.used < c[1].arena.used;
    }
    for (l = 0; l < m->cfg.n_layers && ok; l++) {
        if (s[0].S[l]) same &= !memcmp(s[0].S[l], s[1].S[l], sizeof(float) * (size_t)s[0].s_n);
        if (s[0].shift[l]) same &= !memcmp(s[0].shift[l], s[1].shift[l], sizeof(float) * (size_t)s[0].shift_n);
    }
    RLT_CHECK(ok, "%s: decoding: %s", what, rl_last_error());
    RLT_CHECK(same, "%s: logits and states equal bit for bit over 9 tokens", what);
    RLT_CHECK(smaller, "%s: the fused steps ran (arena %zu vs %zu bytes)", what, c[0].arena.used, c[1].arena.used);
    for (k = 0; k < 2; k++) {
        rl_state_free(&s[k]);
        rl_ctx_free(&c[k]);
        free(lg[k]);
    }
}

/* Whether ids[0..n) are the integers of the JSON array want. */
RLT_MAYBE_UNUSED static int rlt_ids_equal(const int32_t *ids, int64_t n, const rl_json *want) {
    int64_t i;
    if (!want || want->type != RL_JSON_ARR || want->n != n) return 0;
    for (i = 0; i < n; i++)
        if (!want->kids[i].is_int || want->kids[i].i != ids[i]) return 0;
    return 1;
}

/* The logits of one sequence of T ids ([T, vocab], malloc'ed; NULL on failure), computed
   without a gradient. */
RLT_MAYBE_UNUSED static float *rlt_logits(rl_pool *pool, rl_model *m, const int32_t *ids, int64_t T) {
    rl_ctx c;
    rl_forward_opts fo;
    rl_tensor *y;
    float *r = NULL;
    rl_ctx_init(&c, pool);
    memset(&fo, 0, sizeof fo);
    fo.B = 1;
    fo.T = T;
    rl_no_grad_push(&c);
    y = rl_model_forward(&c, m, ids, &fo);
    if (y && (r = (float *)malloc(sizeof(float) * (size_t)y->n))) memcpy(r, y->data, sizeof(float) * (size_t)y->n);
    rl_ctx_free(&c);
    return r;
}
#endif
#endif
