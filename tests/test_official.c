/* RADLADS students against the OFFICIAL RADLADS modeling code (tests/fixtures/official/,
   made by tools/ref/make_official.py from the rwkv6qwen2/ and rwkv7qwen2/ Hugging Face code
   run on CPU): one folder per combination of balance_state, use_tokenshift, groupnorm_att,
   gate_rank_type, use_rope, null/given LoRA ranks and hybrid layers that the official code
   runs, in F32, BF16 and F16. Our logits of the batched forward, and of prefill + token-by-
   token decoding, equal theirs within 1e-4 of the largest |logit|; BF16/F16 weights stay in
   that type (LoRA matrices too). Then configs the official code does not run are refused
   with the reason, and a config that contradicts its tensors is refused naming both. */
#define _POSIX_C_SOURCE 200809L
#include "../radlads.h"
#include "rl_test.h"

#include <sys/stat.h>
#include <unistd.h>

#define FIX "tests/fixtures/official/"

static rl_pool *pool;

static const char *const cases[] = {
    "r6_default", "r6_groupnorm", "r6_no_tokenshift", "r6_no_gate_unbalanced", "r6_lora_gate_rope_nullranks", "r6_bf16", "r6_f16",
    "r7_default", "r7_qwerky7", "r7_linear_gate_unbalanced", "r7_balanced_groupnorm", "r7_hybrid", "r7_bf16", "r7_f16"};

typedef struct { rl_dtype want; int n2d, bad; char first[128]; } dtype_ctx;
static void dtype_fn(void *u, const char *name, rl_tensor *t) {
    dtype_ctx *d = (dtype_ctx *)u;
    if (t->ndim != 2) return;
    d->n2d++;
    if (t->dtype != d->want && !d->bad++) snprintf(d->first, sizeof d->first, "%s", name);
}

static void check_case(const char *name) {
    char dir[256], path[300], gname[200];
    rl_model m;
    rl_st ref;
    rl_ctx c;
    int32_t ids[24];
    int64_t s2[2] = {2, 12}, V, i, t;
    float *logits = NULL, mx = 0, dmax = 0, dstep = 0;
    snprintf(dir, sizeof dir, FIX "%s", name);
    snprintf(gname, sizeof gname, "official parity %s", name);
    rlt_begin(gname);
    if (rl_model_load(&m, dir, 0) != RL_OK) {
        RLT_CHECK(0, "load %s: %s", dir, rl_last_error());
        rlt_end();
        return;
    }
    V = m.cfg.vocab_size;
    snprintf(path, sizeof path, "%s/ref.safetensors", dir);
    RLT_CHECK(rl_st_open(&ref, path) == RL_OK, "open %s: %s", path, rl_last_error());
    logits = (float *)malloc(sizeof(float) * (size_t)(24 * V));
    {
        int64_t s3[3];
        s3[0] = 2; s3[1] = 12; s3[2] = V;
        RLT_CHECK(rl_st_read_i32(&ref, "input_ids", ids, 2, s2) == RL_OK, "input_ids: %s", rl_last_error());
        RLT_CHECK(rl_st_read_f32(&ref, "logits", logits, 3, s3) == RL_OK, "logits: %s", rl_last_error());
    }
    for (i = 0; i < 24 * V; i++) mx = fabsf(logits[i]) > mx ? fabsf(logits[i]) : mx;
    { /* weights kept in the file's type: every 2-D parameter, LoRA matrices included */
        dtype_ctx d;
        memset(&d, 0, sizeof d);
        d.want = strstr(name, "bf16") ? RL_BF16 : strstr(name, "f16") ? RL_F16 : RL_F32;
        rl_model_params(&m, dtype_fn, &d);
        RLT_CHECK(d.n2d > 0 && !d.bad, "%d of %d matrices not kept in the file's type (first %s)", d.bad, d.n2d, d.first);
    }
    rl_ctx_init(&c, pool);
    { /* batched forward */
        rl_forward_opts o;
        rl_tensor *y;
        memset(&o, 0, sizeof o);
        o.B = 2;
        o.T = 12;
        y = rl_model_forward(&c, &m, ids, &o);
        RLT_CHECK(y && c.err == RL_OK && y->n == 24 * V, "forward: %s", rl_last_error());
        if (y && y->n == 24 * V)
            for (i = 0; i < 24 * V; i++) {
                float d = fabsf(rl_f32(y)[i] - logits[i]);
                dmax = d > dmax ? d : dmax;
            }
        RLT_CHECK(dmax <= 1e-4 * mx, "forward: max |dlogit| %g > 1e-4 x %g", dmax, mx);
    }
    { /* prefill the first 5 tokens of each row, then decode one token at a time */
        rl_state s;
        float *lg = (float *)malloc(sizeof(float) * (size_t)V);
        int64_t b;
        for (b = 0; b < 2; b++) {
            RLT_CHECK(rl_state_init(&s, &m, 32) == RL_OK, "state: %s", rl_last_error());
            rl_ctx_reset(&c);
            RLT_CHECK(rl_model_step(&c, &m, &s, ids + b * 12, 5, lg) == RL_OK, "prefill: %s", rl_last_error());
            for (t = 4; t < 12; t++) {
                if (t > 4) {
                    rl_ctx_reset(&c);
                    RLT_CHECK(rl_model_step(&c, &m, &s, ids + b * 12 + t, 1, lg) == RL_OK, "decode: %s", rl_last_error());
                }
                for (i = 0; i < V; i++) {
                    float d = fabsf(lg[i] - logits[(b * 12 + t) * V + i]);
                    dstep = d > dstep ? d : dstep;
                }
            }
            rl_state_free(&s);
        }
        RLT_CHECK(dstep <= 1e-4 * mx, "prefill/decode: max |dlogit| %g > 1e-4 x %g", dstep, mx);
        free(lg);
    }
    { /* both rows at once: a state of two sequences (rl_state_init_batch), the same logits */
        rl_state s;
        float *lg = (float *)malloc(sizeof(float) * (size_t)(2 * V));
        int32_t step[10];
        double dbat = 0;
        int64_t b;
        for (b = 0; b < 2; b++) memcpy(step + b * 5, ids + b * 12, sizeof(int32_t) * 5);
        RLT_CHECK(rl_state_init_batch(&s, &m, 32, 2) == RL_OK, "batched state: %s", rl_last_error());
        rl_ctx_reset(&c);
        RLT_CHECK(rl_model_step(&c, &m, &s, step, 5, lg) == RL_OK, "batched prefill: %s", rl_last_error());
        for (t = 4; t < 12; t++) {
            if (t > 4) {
                step[0] = ids[t];
                step[1] = ids[12 + t];
                rl_ctx_reset(&c);
                RLT_CHECK(rl_model_step(&c, &m, &s, step, 1, lg) == RL_OK, "batched decode: %s", rl_last_error());
            }
            for (b = 0; b < 2; b++)
                for (i = 0; i < V; i++) {
                    double d = fabs((double)lg[b * V + i] - logits[(b * 12 + t) * V + i]);
                    dbat = d > dbat ? d : dbat;
                }
        }
        RLT_CHECK(dbat <= 1e-4 * mx, "batched prefill/decode: max |dlogit| %g > 1e-4 x %g", dbat, mx);
        rl_state_free(&s);
        free(lg);
    }
    snprintf(gname, sizeof gname, "official parity %s: max |dlogit| %.2g forward, %.2g decode (max |logit| %.2f)", name, dmax, dstep, mx);
    rl_ctx_free(&c);
    rl_st_close(&ref);
    rl_model_free(&m);
    free(logits);
    rlt_end();
}

/* ---- refusals: a copy of r7_default / r6_default with one config.json edit ---- */

static char tmpdir[256];

/* config.json of `from` with `key`'s value replaced (or the key added when absent) */
static void make_variant(const char *from, const char *key, const char *value) {
    char path[400], *cfg = NULL, *out, *p;
    snprintf(path, sizeof path, FIX "%s/config.json", from);
    if (!(cfg = rlt_read_all(path, NULL))) return;
    out = (char *)malloc(strlen(cfg) + 512);
    {
        char pat[100];
        snprintf(pat, sizeof pat, "\"%s\":", key);
        p = strstr(cfg, pat);
        if (p) {
            char *e = p + strlen(pat);
            while (*e && *e != ',' && *e != '\n' && *e != '}') e++;
            sprintf(out, "%.*s\"%s\": %s%s", (int)(p - cfg), cfg, key, value, e);
        } else {
            sprintf(out, "{\"%s\": %s, %s", key, value, cfg + 1);
        }
    }
    snprintf(path, sizeof path, "%s/config.json", tmpdir);
    rlt_write_all(path, out, strlen(out));
    snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
    unlink(path);
    {
        char src[700];
#if defined(_WIN32) /* symbolic links need a privilege there: copy the weights in */
        size_t n;
        void *w;
        snprintf(src, sizeof src, FIX "%s/model.safetensors", from);
        if (!(w = rlt_read_all(src, &n)) || !rlt_write_all(path, w, n)) perror(src);
        free(w);
#else
        snprintf(src, sizeof src, "../../" FIX "%s/model.safetensors", from);
        /* tmpdir is tests/../build/tmp-official: link the weights in */
        if (symlink(src, path) != 0) {
            char abs[200];
            if (getcwd(abs, sizeof abs)) {
                snprintf(src, sizeof src, "%s/" FIX "%s/model.safetensors", abs, from);
                if (symlink(src, path) != 0) perror("symlink");
            }
        }
#endif
    }
    free(cfg);
    free(out);
}

static void expect_refusal(const char *from, const char *key, const char *value, const char *want1, const char *want2) {
    rl_model m;
    rl_status st;
    make_variant(from, key, value);
    st = rl_model_load(&m, tmpdir, 0);
    if (st == RL_OK) rl_model_free(&m);
    RLT_CHECK(st != RL_OK && strstr(rl_last_error(), want1) && (!want2 || strstr(rl_last_error(), want2)),
              "%s %s: %s: \"%s\"", key, value, st == RL_OK ? "loaded" : "refused", st == RL_OK ? "" : rl_last_error());
}

static void check_refusals(void) {
    char abs[200];
    rlt_begin("official: unsupported configs refused with the reason");
    if (!getcwd(abs, sizeof abs)) abs[0] = 0;
    /* the Windows build's own folder: under wine, Z: sees the POSIX build's symbolic link
       into the fixtures, and deleting it there deletes the fixture */
#if defined(_WIN32)
    snprintf(tmpdir, sizeof tmpdir, "%s/build/tmp-official-win", abs);
#else
    snprintf(tmpdir, sizeof tmpdir, "%s/build/tmp-official", abs);
#endif
    rlt_mkdir("build");
    rlt_mkdir(tmpdir);
    expect_refusal("r7_default", "gate_rank_type", "0", "gate_rank_type 0", "no gate");
    expect_refusal("r7_default", "gate_rank_type", "3", "gate_rank_type 3", NULL);
    expect_refusal("r6_default", "num_attention_layers", "1", "rwkv6qwen2", "ignores");
    expect_refusal("r7_hybrid", "use_rope", "false", "use_rope false", "RoPE");
    expect_refusal("r7_default", "attention_output_bias", "true", "o_proj", NULL);
    rlt_end();

    rlt_begin("official: config.json contradicting the tensors is refused naming both");
    expect_refusal("r6_default", "num_hidden_layers", "1", "config.json: num_hidden_layers is 1", "model.layers.1.");
    expect_refusal("r6_default", "use_tokenshift", "false", "config.json does not describe tensor", "time_maa");
    expect_refusal("r6_no_tokenshift", "use_tokenshift", "true", "time_maa", "missing");
    expect_refusal("r6_default", "gate_rank_type", "2", "gate", "config.json");
    expect_refusal("r6_default", "groupnorm_att", "true", "ln_x", "missing");
    expect_refusal("r6_groupnorm", "groupnorm_att", "false", "ln_x", "does not describe");
    expect_refusal("r7_default", "num_hidden_layers", "3", "config.json: num_hidden_layers is 3", "model.layers.2.");
    expect_refusal("r7_hybrid", "num_attention_layers", "2", "num_attention_layers 2 makes layer 1 softmax attention", "config.json");
    expect_refusal("r7_hybrid", "num_attention_layers", "0", "num_attention_layers 0 makes layer 2 RAD-RWKV7", "w0");
    rlt_end();
}

/* convert's output: auto_map as the released checkpoints; a RAD-RWKV6 hybrid not as rwkv6qwen2 */
static void check_saved(void) {
    rl_model t, st, back;
    rl_student_opts so;
    char dir[300], path[400], *cfg = NULL;
    int k;
    rlt_begin("saved students: auto_map for rwkv6qwen2/rwkv7qwen2, RAD-RWKV6 hybrids under their own model_type, read back equal");
    if (rl_model_load(&t, "tests/fixtures/tiny-qwen2", 0) != RL_OK) {
        RLT_CHECK(0, "teacher: %s", rl_last_error());
        rlt_end();
        return;
    }
    for (k = 0; k < 4; k++) {
        int six = k < 2, hyb = k % 2;
        rl_student_opts_default(&so, six ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
        so.keep_attention = hyb;
        if (six && !hyb) { /* the ablation parts: GroupNorm, LoRA gate, no balance */
            so.groupnorm_att = 1;
            so.gate = RL_GATE_LORA;
            so.balance_state = 0;
        }
        if (!six && !hyb) so.gate = RL_GATE_LINEAR;
        snprintf(dir, sizeof dir, "build/tmp-official-saved-%d", k);
        if (rl_student_from_teacher(&st, &t, &so) != RL_OK || rl_model_save(&st, dir, NULL) != RL_OK) {
            RLT_CHECK(0, "student %d: %s", k, rl_last_error());
            continue;
        }
        snprintf(path, sizeof path, "%s/config.json", dir);
        free(cfg);
        cfg = NULL;
        RLT_CHECK((cfg = rlt_read_all(path, NULL)) != NULL, "read %s", path);
        if (cfg && six && hyb)
            RLT_CHECK(strstr(cfg, "\"model_type\": \"" RL_RWKV6_HYBRID_TYPE "\"") && !strstr(cfg, "rwkv6qwen2") && !strstr(cfg, "auto_map"),
                      "RWKV6 hybrid config: %s", cfg);
        else if (cfg)
            RLT_CHECK(strstr(cfg, six ? "\"AutoModelForCausalLM\": \"modeling_rwkv6qwen2.RWKV6Qwen2ForCausalLM\""
                                      : "\"AutoModelForCausalLM\": \"modeling_rwkv7qwen2.RWKV7Qwen2ForCausalLM\"") &&
                          strstr(cfg, six ? "\"AutoConfig\": \"configuration_rwkv6qwen2.RWKV6Qwen2Config\""
                                          : "\"AutoConfig\": \"configuration_rwkv7qwen2.RWKV7Qwen2Config\""),
                      "auto_map: %s", cfg);
        if (cfg && six && !hyb) RLT_CHECK(strstr(cfg, "\"gate_rank_type\": 2") && strstr(cfg, "\"groupnorm_att\": true"), "gate 2 + groupnorm");
        if (cfg && !six && !hyb) RLT_CHECK(strstr(cfg, "\"gate_rank_type\": 1") != NULL, "RWKV7 Linear gate written as 1");
        if (rl_model_load(&back, dir, 0) == RL_OK) {
            rl_ctx c;
            rl_forward_opts o;
            int32_t ids[9] = {5, 77, 300, 12, 599, 4, 4, 90, 201};
            rl_tensor *a, *b;
            rl_ctx_init(&c, pool);
            memset(&o, 0, sizeof o);
            o.B = 1;
            o.T = 9;
            /* no gradient for either, so both run the same scan form (training picks the
               chunked one, a short forward-only pass the recurrent one) and must match exactly */
            rl_no_grad_push(&c);
            a = rl_model_forward(&c, &st, ids, &o);
            b = rl_model_forward(&c, &back, ids, &o);
            rl_no_grad_pop(&c);
            RLT_CHECK(a && b && a->n == b->n && !memcmp(a->data, b->data, sizeof(float) * (size_t)a->n), "student %d: logits after save/load differ", k);
            RLT_CHECK(back.cfg.n_attention_layers == hyb && back.cfg.rwkv6_hybrid == (six && hyb), "student %d: config read back", k);
            rl_ctx_free(&c);
            rl_model_free(&back);
        } else {
            RLT_CHECK(0, "load %s: %s", dir, rl_last_error());
        }
        rl_model_free(&st);
    }
    free(cfg);
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    so.keep_attention = 1;
    so.use_rope = 0;
    RLT_CHECK(rl_student_from_teacher(&st, &t, &so) == RL_ERR_UNSUPPORTED && strstr(rl_last_error(), "use_rope"), "RWKV7 hybrid without RoPE refused");
    rl_model_free(&t);
    rlt_end();
}

/* Gradients through the new optional parts (RWKV6 without balance_state, GroupNorm, LoRA
   gate, no gate; RWKV7 Linear gate): finite differences of a fixed linear function of the
   logits, in double precision around float weights (central, h = 1e-2 · max(1, |w|)). */
static double fd_loss(rl_model *m, const int32_t *ids, const float *wts) {
    rl_ctx c;
    rl_forward_opts o;
    rl_tensor *y;
    double s = 0;
    int64_t i;
    rl_ctx_init(&c, NULL);
    c.no_grad = 1;
    memset(&o, 0, sizeof o);
    o.B = 1;
    o.T = 7;
    y = rl_model_forward(&c, m, ids, &o);
    for (i = 0; y && i < y->n; i++) s += (double)rl_f32(y)[i] * wts[i];
    rl_ctx_free(&c);
    return s;
}
typedef struct { const char *want; rl_tensor *t; } find_ctx;
static void find_fn(void *u, const char *name, rl_tensor *t) {
    find_ctx *f = (find_ctx *)u;
    if (!f->t && strstr(name, f->want)) f->t = t;
}
static void check_grads(const char *fixture, const char *const *params, int np) {
    rl_model m;
    rl_ctx c;
    rl_forward_opts o;
    char dir[200], gname[200];
    int32_t ids[7] = {3, 17, 100, 42, 7, 250, 9};
    float *wts;
    int64_t i, V;
    int p;
    snprintf(gname, sizeof gname, "official: gradients through %s's optional parts = finite differences", fixture);
    rlt_begin(gname);
    snprintf(dir, sizeof dir, FIX "%s", fixture);
    if (rl_model_load(&m, dir, 1) != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    V = m.cfg.vocab_size;
    wts = (float *)malloc(sizeof(float) * (size_t)(7 * V));
    for (i = 0; i < 7 * V; i++) wts[i] = (float)sin(0.37 * (double)i) * 0.1f;
    rl_ctx_init(&c, NULL);
    memset(&o, 0, sizeof o);
    o.B = 1;
    o.T = 7;
    {
        rl_tensor *y = rl_model_forward(&c, &m, ids, &o), *loss = y ? rl_dot_const(&c, y, wts) : NULL;
        RLT_CHECK(loss && rl_backward(&c, loss) == RL_OK, "backward: %s", rl_last_error());
    }
    for (p = 0; p < np; p++) {
        find_ctx f;
        int k;
        f.want = params[p];
        f.t = NULL;
        rl_model_params(&m, find_fn, &f);
        RLT_CHECK(f.t && f.t->grad, "%s: no such parameter with a gradient", params[p]);
        if (!f.t || !f.t->grad) continue;
        for (k = 0; k < 3; k++) {
            int64_t at = (f.t->n * (2 * k + 1)) / 6;
            float *w = rl_f32(f.t), keep = w[at];
            double h = 1e-2 * (fabs(keep) > 1 ? fabs(keep) : 1), up, dn, fd;
            w[at] = (float)(keep + h);
            up = fd_loss(&m, ids, wts);
            w[at] = (float)(keep - h);
            dn = fd_loss(&m, ids, wts);
            w[at] = keep;
            fd = (up - dn) / (2 * h);
            RLT_CLOSE(f.t->grad[at], fd, 2e-4, 3e-2, "%s[%lld]", params[p], (long long)at);
        }
    }
    rl_ctx_free(&c);
    free(wts);
    rl_model_free(&m);
    rlt_end();
}

int main(void) {
    size_t i;
    pool = rl_pool_create(0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(cases[i]);
    check_refusals();
    check_saved();
    {
        static const char *const g6[] = {"layers.0.self_attn.time_decay", "layers.1.self_attn.time_maa_x", "layers.0.self_attn.ln_x.weight",
                                         "layers.1.self_attn.ln_x.bias", "layers.0.self_attn.k_proj.weight", "layers.1.self_attn.gate.weight"};
        static const char *const g6b[] = {"layers.0.self_attn.g1", "layers.1.self_attn.g2", "layers.0.self_attn.time_decay_w1"};
        static const char *const g6c[] = {"layers.0.self_attn.time_decay", "layers.1.self_attn.v_proj.weight", "layers.0.self_attn.time_maa_w1"};
        static const char *const g7[] = {"layers.0.self_attn.gate.weight", "layers.1.self_attn.k_k", "layers.1.self_attn.k_a", "layers.0.self_attn.w1"};
        check_grads("r6_groupnorm", g6, 6);
        check_grads("r6_lora_gate_rope_nullranks", g6b, 3);
        check_grads("r6_no_gate_unbalanced", g6c, 3);
        check_grads("r7_linear_gate_unbalanced", g7, 4);
    }
    rl_pool_free(pool);
    return rlt_exit();
}
