/* Section 8d: GGUF export of RAD-RWKV6 students for llama.cpp (arch rwkv6qwen2).
   Exports the fixture student (tests/fixtures/train/student-rwkv6, tokenizer of tiny-qwen2)
   as F32, F16 and BF16 and checks every rule of formats.md §5.7 (one group per rule), the
   value round trip through the documented transforms, the llama.cpp loader's tensor list
   (src/models/rwkv6qwen2.cpp, re-enacted), the llama.cpp graph (rwkv6-base.cpp
   build_rwkv6_time_mix, re-implemented here over the GGUF tensors) against the student's own
   forward pass, and the refusals. RLT_EXPORT_OUT=dir keeps the exported files there (for
   tools/ref/check_gguf_export.py). */
#include "../radlads.h"
#include "rl_test.h"
#include <dirent.h>
#include <unistd.h>

#define STUDENT "tests/fixtures/train/student-rwkv6"
#define QWEN "tests/fixtures/tiny-qwen2"
#define LLAMA "tests/fixtures/tiny-llama"

static rl_pool *pool;

static const char *out_path(const char *name) {
    static char buf[8][512];
    static int k;
    const char *keep = getenv("RLT_EXPORT_OUT"), *dir = getenv("TMPDIR");
    char *b = buf[k++ & 7];
    if (keep && *keep) snprintf(b, 512, "%s/%s", keep, name);
    else snprintf(b, 512, "%s/rl_test_export_%d_%s", dir && *dir ? dir : "/tmp", (int)getpid(), name);
    return b;
}
static void drop(const char *path) {
    const char *keep = getenv("RLT_EXPORT_OUT");
    if (!(keep && *keep)) remove(path);
}
/* a temporary file of an atomic write ("<path>.tmp.<random>") left beside path */
static int tmp_left(const char *path) {
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char dir[512];
    DIR *d;
    struct dirent *e;
    int found = 0;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (!(d = opendir(dir))) return 0;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, base, strlen(base)) && !strncmp(e->d_name + strlen(base), ".tmp", 4)) found = 1;
    closedir(d);
    return found;
}

static float *tensor_f32(const rl_gguf *g, const char *name) {
    const rl_gguf_tensor *t = rl_gguf_find_tensor(g, name);
    float *d;
    if (!t) return NULL;
    d = (float *)malloc(sizeof(float) * (size_t)(t->n ? t->n : 1));
    if (d && rl_gguf_tensor_f32(g, t, d) != RL_OK) {
        free(d);
        return NULL;
    }
    return d;
}

static float el(const rl_tensor *t, int64_t i) {
    uint16_t h;
    if (t->dtype == RL_BF16) {
        memcpy(&h, (const uint16_t *)t->data + i, 2);
        return rl_bf16_to_f32(h);
    }
    if (t->dtype == RL_F16) {
        memcpy(&h, (const uint16_t *)t->data + i, 2);
        return rl_f16_to_f32(h);
    }
    return ((const float *)t->data)[i];
}
/* what a value becomes when stored as ggml type `type` and read back */
static float as_type(float v, int type) {
    if (type == RL_GGML_F16) return rl_f16_to_f32(rl_f32_to_f16(v));
    if (type == RL_GGML_BF16) return rl_bf16_to_f32(rl_f32_to_bf16(v));
    return v;
}
static int same_f(float a, float b) { return memcmp(&a, &b, 4) == 0 || (a == 0 && b == 0); }

/* ======================================================================= */
/* an independent walk over the file's bytes (not rl_gguf_open)            */

typedef struct {
    const unsigned char *p;
    size_t n, pos;
    int bad;
} rd;
static uint64_t rd_u(rd *r, int bytes) {
    uint64_t v = 0;
    int i;
    if (r->bad || r->pos + (size_t)bytes > r->n) {
        r->bad = 1;
        return 0;
    }
    for (i = 0; i < bytes; i++) v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += (size_t)bytes;
    return v;
}
static void rd_str(rd *r, char *out, size_t cap) {
    uint64_t len = rd_u(r, 8);
    if (r->bad || len > r->n - r->pos) {
        r->bad = 1;
        if (cap) out[0] = 0;
        return;
    }
    if (cap) {
        size_t k = len < cap - 1 ? (size_t)len : cap - 1;
        memcpy(out, r->p + r->pos, k);
        out[k] = 0;
    }
    r->pos += (size_t)len;
}
static void rd_value(rd *r, uint32_t type, int depth) {
    static const int size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
        rd_str(r, NULL, 0);
    } else if (type == 9 && depth < 3) {
        uint32_t et = (uint32_t)rd_u(r, 4);
        uint64_t n = rd_u(r, 8), i;
        if (et > 12 || (size[et] && n > r->n)) r->bad = 1;
        else if (size[et]) r->pos = n * (uint64_t)size[et] <= r->n - r->pos ? r->pos + (size_t)(n * (uint64_t)size[et]) : (r->bad = 1, r->pos);
        else
            for (i = 0; i < n && !r->bad; i++) rd_value(r, et, depth + 1);
    } else if (type <= 12 && size[type]) {
        rd_u(r, size[type]);
    } else {
        r->bad = 1;
    }
}

#define MAXT 128
typedef struct {
    uint32_t version;
    uint64_t n_tensors, n_kv;
    char first_key[64];
    char name[MAXT][64];
    uint32_t n_dims[MAXT], type[MAXT];
    uint64_t ne[MAXT][4], offset[MAXT], nbytes[MAXT];
    size_t info_end, data_start, size;
    int magic_ok, pad_zero, tail_zero, parsed;
} rawinfo;

static uint64_t type_bytes(uint32_t type, uint64_t n) { return type == 0 ? 4 * n : 2 * n; } /* F32, F16, BF16 only here */

static void raw_parse(const unsigned char *p, size_t n, rawinfo *ri) {
    rd r;
    uint64_t i, d;
    char key[256];
    memset(ri, 0, sizeof *ri);
    r.p = p;
    r.n = n;
    r.pos = 0;
    r.bad = 0;
    ri->size = n;
    ri->magic_ok = n >= 4 && !memcmp(p, "GGUF", 4);
    r.pos = 4;
    ri->version = (uint32_t)rd_u(&r, 4);
    ri->n_tensors = rd_u(&r, 8);
    ri->n_kv = rd_u(&r, 8);
    if (ri->n_tensors > MAXT) return;
    for (i = 0; i < ri->n_kv && !r.bad; i++) {
        rd_str(&r, key, sizeof key);
        if (i == 0) { size_t kl = strlen(key) < sizeof ri->first_key - 1 ? strlen(key) : sizeof ri->first_key - 1; memcpy(ri->first_key, key, kl); ri->first_key[kl] = 0; }
        rd_value(&r, (uint32_t)rd_u(&r, 4), 0);
    }
    for (i = 0; i < ri->n_tensors && !r.bad; i++) {
        uint64_t cnt = 1;
        rd_str(&r, ri->name[i], sizeof ri->name[i]);
        ri->n_dims[i] = (uint32_t)rd_u(&r, 4);
        if (ri->n_dims[i] > 4) r.bad = 1;
        for (d = 0; d < 4; d++) ri->ne[i][d] = 1;
        for (d = 0; d < ri->n_dims[i] && !r.bad; d++) cnt *= (ri->ne[i][d] = rd_u(&r, 8));
        ri->type[i] = (uint32_t)rd_u(&r, 4);
        ri->offset[i] = rd_u(&r, 8);
        ri->nbytes[i] = type_bytes(ri->type[i], cnt);
    }
    if (r.bad) return;
    ri->info_end = r.pos;
    ri->data_start = (r.pos + 31) / 32 * 32;
    ri->pad_zero = ri->data_start <= n;
    for (i = r.pos; i < ri->data_start && i < n; i++)
        if (p[i]) ri->pad_zero = 0;
    ri->tail_zero = 1;
    for (i = 0; i < ri->n_tensors; i++) {
        uint64_t end = ri->data_start + ri->offset[i] + ri->nbytes[i], padded = (end + 31) / 32 * 32, k;
        if (padded > n) {
            ri->tail_zero = 0;
            break;
        }
        for (k = end; k < padded; k++)
            if (p[k]) ri->tail_zero = 0;
    }
    ri->parsed = 1;
}

/* ======================================================================= */
/* the exports shared by the groups                                        */

typedef struct {
    char path[512];
    rl_ggml_type wtype;
    rl_gguf g;
    int open;
    unsigned char *bytes;
    size_t size;
    rawinfo ri;
} exported;

static rl_model student;    /* the fixture, frozen load */
static rl_tokenizer *qtok;  /* tiny-qwen2 tokenizer */
static exported ex[3];      /* F32, F16, BF16 */
static const char *wname(rl_ggml_type t) { return t == RL_GGML_F32 ? "F32" : t == RL_GGML_F16 ? "F16" : "BF16"; }

static rl_status do_export(exported *e, const rl_model *m, const rl_tokenizer *tok, const char *name, rl_ggml_type wtype) {
    rl_status st;
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", out_path(name));
    e->wtype = wtype;
    st = rl_export_gguf_rwkv6qwen2(m, tok, e->path, wtype);
    if (st != RL_OK) return st;
    if ((st = rl_gguf_open(&e->g, e->path)) != RL_OK) return st;
    e->open = 1;
    e->bytes = rlt_read_all(e->path, &e->size);
    if (e->bytes) raw_parse(e->bytes, e->size, &e->ri);
    return RL_OK;
}
static void close_export(exported *e) {
    if (e->open) rl_gguf_close(&e->g);
    free(e->bytes);
    if (e->path[0]) drop(e->path);
    memset(e, 0, sizeof *e);
}

/* the 2-D weight matrices that take the chosen wtype */
static int is_matrix(const char *name) {
    static const char *const sfx[] = {"time_mix_receptance.weight", "time_mix_key.weight", "time_mix_value.weight", "time_mix_gate.weight",
                                      "time_mix_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
    size_t i, n = strlen(name);
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "output.weight")) return 1;
    for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && !strcmp(name + n - k, sfx[i]) && name[n - k - 1] == '.') return 1;
    }
    return 0;
}

/* metadata value of an exact type */
static const rl_gguf_value *kv_typed(const rl_gguf *g, const char *key, rl_gguf_type type) {
    const rl_gguf_kv *k = rl_gguf_find(g, key);
    return k && k->val.type == type ? &k->val : NULL;
}

/* ======================================================================= */
/* §5.7 rule 1: header, general.architecture first, hparams with exact types */

static void rule1(void) {
    int i;
    rlt_begin("§5.7 rule 1: header (magic, version 3, counts), general.architecture first, hparams with exact GGUF types");
    for (i = 0; i < 3; i++) {
        exported *e = &ex[i];
        const rl_gguf *g = &e->g;
        const rl_mixer_cfg *mc = &student.blocks[0].mix.cfg;
        const rl_gguf_value *v;
        const char *s;
        int64_t k;
        struct { const char *key; uint64_t val; } u32s[] = {
            {"rwkv6qwen2.context_length", 1048576}, {"rwkv6qwen2.embedding_length", 64}, {"rwkv6qwen2.block_count", 2},
            {"rwkv6qwen2.feed_forward_length", 128}, {"rwkv6qwen2.wkv.head_size", 16}, {"rwkv6qwen2.time_mix_extra_dim", 4},
            {"rwkv6qwen2.time_decay_extra_dim", 6}, {"rwkv6qwen2.token_shift_count", 1}, {"rwkv6qwen2.attention.head_count_kv", 2},
            {"rwkv6qwen2.attention.head_count", 0}, {"general.quantization_version", 2}};
        size_t j;
        if (!e->open || !e->ri.parsed) {
            RLT_CHECK(0, "%s export not readable", wname(e->wtype));
            continue;
        }
        RLT_CHECK(e->ri.magic_ok && e->ri.version == 3, "%s: magic GGUF, version %u", wname(e->wtype), e->ri.version);
        RLT_CHECK(e->ri.n_kv == (uint64_t)g->n_kv && e->ri.n_tensors == (uint64_t)g->n_tensors && g->version == 3, "%s: counts", wname(e->wtype));
        RLT_CHECK(!strcmp(e->ri.first_key, "general.architecture") && !strcmp(g->kv[0].key, "general.architecture"), "architecture key first: %s",
                  e->ri.first_key);
        RLT_CHECK((v = kv_typed(g, "general.architecture", RL_GGUF_STRING)) && !strcmp(v->str.s, "rwkv6qwen2"), "general.architecture STRING rwkv6qwen2");
        for (j = 0; j < sizeof u32s / sizeof u32s[0]; j++)
            RLT_CHECK((v = kv_typed(g, u32s[j].key, RL_GGUF_UINT32)) && v->u == u32s[j].val, "%s: %s is UINT32 %llu", wname(e->wtype), u32s[j].key,
                      (unsigned long long)u32s[j].val);
        /* the same values from the model, not from the fixture's config.json */
        RLT_CHECK((v = kv_typed(g, "rwkv6qwen2.time_mix_extra_dim", RL_GGUF_UINT32)) && v->u == (uint64_t)mc->r_ts, "token-shift rank = the model's");
        RLT_CHECK((v = kv_typed(g, "rwkv6qwen2.time_decay_extra_dim", RL_GGUF_UINT32)) && v->u == (uint64_t)mc->r_d, "decay rank = the model's");
        RLT_CHECK((v = kv_typed(g, "rwkv6qwen2.wkv.head_size", RL_GGUF_UINT32)) && v->u == (uint64_t)(student.cfg.hidden_size / student.cfg.n_heads),
                  "head size C/H");
        RLT_CHECK((v = kv_typed(g, "rwkv6qwen2.attention.layer_norm_rms_epsilon", RL_GGUF_FLOAT32)) && (float)v->f == student.cfg.rms_eps,
                  "rms eps FLOAT32 %g", v ? v->f : -1.0);
        RLT_CHECK((v = kv_typed(g, "general.file_type", RL_GGUF_UINT32)) &&
                      v->u == (e->wtype == RL_GGML_F32 ? 0u : e->wtype == RL_GGML_F16 ? 1u : 32u),
                  "%s: general.file_type", wname(e->wtype));
        RLT_CHECK(!rl_gguf_find(g, "general.alignment") || ((v = kv_typed(g, "general.alignment", RL_GGUF_UINT32)) && v->u == 32),
                  "general.alignment absent or UINT32 32");
        for (k = 0; k < g->n_kv; k++) { /* every arch hparam: UINT32, except the FLOAT32 epsilon */
            const rl_gguf_kv *kv = &g->kv[k];
            if (strncmp(kv->key, "rwkv6qwen2.", 11)) continue;
            RLT_CHECK(kv->val.type == (strstr(kv->key, "epsilon") ? RL_GGUF_FLOAT32 : RL_GGUF_UINT32), "%s has type %s", kv->key,
                      rl_gguf_type_name(kv->val.type));
        }
        RLT_CHECK(rl_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL) == RL_OK && !strcmp(s, "gpt2"), "tokenizer.ggml.model gpt2");
        RLT_CHECK(!rl_gguf_find(g, "general.name"), "general.name only when asked for");
    }
    { /* options: name, chat template, pad/eot ids */
        exported e;
        rl_export_opts o;
        const char *p = out_path("opts.gguf"), *s;
        rl_gguf g;
        int64_t x;
        rl_export_opts_default(&o);
        o.name = "tiny RAD-RWKV6";
        o.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
        o.pad_id = 600;
        o.eot_id = 602;
        o.eos_id = 602;
        memset(&e, 0, sizeof e);
        RLT_CHECK(rl_export_gguf_rwkv6qwen2_ex(&student, qtok, p, RL_GGML_F32, &o) == RL_OK, "export with options: %s", rl_last_error());
        if (rl_gguf_open(&g, p) == RL_OK) {
            RLT_CHECK(rl_gguf_get_str(&g, "general.name", &s, NULL) == RL_OK && !strcmp(s, o.name), "general.name");
            RLT_CHECK(rl_gguf_get_str(&g, "tokenizer.chat_template", &s, NULL) == RL_OK && !strcmp(s, o.chat_template), "chat template");
            RLT_CHECK(kv_typed(&g, "tokenizer.ggml.padding_token_id", RL_GGUF_UINT32) && rl_gguf_get_int(&g, "tokenizer.ggml.padding_token_id", &x) == RL_OK && x == 600,
                      "padding_token_id UINT32");
            RLT_CHECK(kv_typed(&g, "tokenizer.ggml.eot_token_id", RL_GGUF_UINT32) && rl_gguf_get_int(&g, "tokenizer.ggml.eot_token_id", &x) == RL_OK && x == 602,
                      "eot_token_id UINT32");
            RLT_CHECK(rl_gguf_get_int(&g, "tokenizer.ggml.eos_token_id", &x) == RL_OK && x == 602, "eos override");
            rl_gguf_close(&g);
        } else {
            RLT_CHECK(0, "reopen: %s", rl_last_error());
        }
        drop(p);
        o.pad_id = 640;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2_ex(&student, qtok, p, RL_GGML_F32, &o) == RL_ERR_ARG && rlt_err_has("640") && !rlt_exists(p),
                  "pad id beyond the vocabulary refused: %s", rl_last_error());
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 2: tensor infos in data order, ne reversed, offsets, padding   */

/* the model tensor a COPY-exported GGUF tensor comes from (NULL: a transformed one) */
static const rl_tensor *copy_source(const rl_model *m, const char *name) {
    int l;
    char b[96];
    if (!strcmp(name, "token_embd.weight")) return &m->embed;
    if (!strcmp(name, "output_norm.weight")) return &m->norm;
    if (!strcmp(name, "output.weight")) return m->cfg.tie_embeddings ? &m->embed : &m->head;
    for (l = 0; l < m->cfg.n_layers; l++) {
        const rl_block *bk = &m->blocks[l];
        const rl_mixer *x = &bk->mix;
        struct { const char *s; const rl_tensor *t; } map[] = {
            {"attn_norm.weight", &bk->ln1},        {"ffn_norm.weight", &bk->ln2},        {"ffn_gate.weight", &bk->gate},
            {"ffn_up.weight", &bk->up},            {"ffn_down.weight", &bk->down},       {"time_mix_receptance.weight", &x->q_w},
            {"time_mix_receptance.bias", &x->q_b}, {"time_mix_key.weight", &x->k_w},     {"time_mix_key.bias", &x->k_b},
            {"time_mix_value.weight", &x->v_w},    {"time_mix_value.bias", &x->v_b},     {"time_mix_gate.weight", &x->gate_w},
            {"time_mix_output.weight", &x->o_w},   {"time_mix_decay.weight", &x->decay}, {"time_mix_lerp_x.weight", &x->maa_x}};
        size_t i;
        for (i = 0; i < sizeof map / sizeof map[0]; i++) {
            snprintf(b, sizeof b, "blk.%d.%s", l, map[i].s);
            if (!strcmp(b, name)) return map[i].t;
        }
    }
    return NULL;
}

static void rule2(void) {
    int i;
    rlt_begin("§5.7 rule 2: tensor infos in data order, ne = reversed row-major shape, offsets = running PAD(nbytes, 32), zero padding");
    for (i = 0; i < 3; i++) {
        exported *e = &ex[i];
        rawinfo *ri = &e->ri;
        uint64_t t, off = 0, bad_off = 0, bad_shape = 0, n_copy = 0;
        if (!e->open || !ri->parsed) {
            RLT_CHECK(0, "%s export not parsed", wname(e->wtype));
            continue;
        }
        for (t = 0; t < ri->n_tensors; t++) {
            const rl_tensor *src = copy_source(&student, ri->name[t]);
            if (ri->offset[t] != off) bad_off++;
            off += (ri->nbytes[t] + 31) / 32 * 32;
            if (src) { /* ne reversed = the model's row-major shape with [1,1,C] squeezed */
                int64_t rows = src->ndim == 2 ? src->shape[0] : 1, cols = src->shape[src->ndim - 1];
                n_copy++;
                if (src->ndim == 2 ? !(ri->n_dims[t] == 2 && ri->ne[t][0] == (uint64_t)cols && ri->ne[t][1] == (uint64_t)rows)
                                   : !(ri->n_dims[t] == 1 && ri->ne[t][0] == (uint64_t)src->n))
                    bad_shape++;
            }
        }
        RLT_CHECK(bad_off == 0, "%s: %llu offsets are not the running sum of padded sizes", wname(e->wtype), (unsigned long long)bad_off);
        RLT_CHECK(bad_shape == 0 && n_copy >= 3 + 12 * (uint64_t)student.cfg.n_layers, "%s: %llu of %llu copied tensors with ne not the reversed shape",
                  wname(e->wtype), (unsigned long long)bad_shape, (unsigned long long)n_copy);
        RLT_CHECK(ri->data_start % 32 == 0 && ri->data_start >= ri->info_end && ri->data_start - ri->info_end < 32 && ri->pad_zero,
                  "%s: data section at PAD(end of infos, 32), zero-filled gap", wname(e->wtype));
        RLT_CHECK(ri->tail_zero, "%s: every tensor zero-padded to 32", wname(e->wtype));
        RLT_CHECK(ri->size == ri->data_start + off, "%s: file ends after the last padded tensor (%zu vs %llu)", wname(e->wtype), ri->size,
                  (unsigned long long)(ri->data_start + off));
        RLT_CHECK((uint64_t)e->g.data_offset == ri->data_start, "%s: reader agrees on the data start", wname(e->wtype));
        { /* the transformed tensors' dims */
            const rl_gguf_tensor *a = rl_gguf_find_tensor(&e->g, "blk.0.time_mix_w2.weight"), *b = rl_gguf_find_tensor(&e->g, "blk.1.time_mix_lerp_fused.weight"),
                                 *c = rl_gguf_find_tensor(&e->g, "blk.0.time_mix_w1.weight"), *d = rl_gguf_find_tensor(&e->g, "blk.1.time_mix_decay_w1.weight"),
                                 *f = rl_gguf_find_tensor(&e->g, "blk.1.time_mix_decay_w2.weight");
            RLT_CHECK(a && a->n_dims == 3 && a->ne[0] == 4 && a->ne[1] == 64 && a->ne[2] == 5, "time_mix_w2 ne {r, C, 5}");
            RLT_CHECK(b && b->n_dims == 4 && b->ne[0] == 64 && b->ne[1] == 1 && b->ne[2] == 1 && b->ne[3] == 5, "lerp_fused ne {C, 1, 1, 5}");
            RLT_CHECK(c && c->n_dims == 2 && c->ne[0] == 64 && c->ne[1] == 20, "time_mix_w1 ne {C, 5r}");
            RLT_CHECK(d && d->n_dims == 2 && d->ne[0] == 64 && d->ne[1] == 6, "decay_w1 ne {C, rd}");
            RLT_CHECK(f && f->n_dims == 2 && f->ne[0] == 6 && f->ne[1] == 64, "decay_w2 ne {rd, C}");
        }
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 3: types                                                        */

static void check_types(const exported *e) {
    int64_t t;
    for (t = 0; t < e->g.n_tensors; t++) {
        const rl_gguf_tensor *x = &e->g.tensors[t];
        int want = is_matrix(x->name) ? (int)e->wtype : RL_GGML_F32;
        size_t n = strlen(x->name);
        RLT_CHECK((int)x->type == want, "%s: %s is %s, want %s", wname(e->wtype), x->name, rl_ggml_type_name(x->type), rl_ggml_type_name(want));
        if (x->n_dims == 1 || (n > 12 && !strcmp(x->name + n - 12, "_norm.weight")) || (n > 5 && !strcmp(x->name + n - 5, ".bias")) ||
            strstr(x->name, "time_mix_w1") || strstr(x->name, "time_mix_w2") || strstr(x->name, "decay_w") || strstr(x->name, "lerp"))
            RLT_CHECK(x->type == RL_GGML_F32, "%s: %s must be F32", wname(e->wtype), x->name);
    }
}

static void rule3(void) {
    int i;
    rlt_begin("§5.7 rule 3: F32 for 1-D tensors, norms, biases, time_mix_w1/w2, decay_w1/w2, lerp_fused; the chosen F32/F16/BF16 for matrices");
    for (i = 0; i < 3; i++) {
        if (!ex[i].open) {
            RLT_CHECK(0, "%s export missing", wname(ex[i].wtype));
            continue;
        }
        check_types(&ex[i]);
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 4: llama.cpp's rwkv6qwen2 loader, re-enacted                   */

static int get_u32_strict(const rl_gguf *g, const char *key, int64_t *out) {
    const rl_gguf_value *v = kv_typed(g, key, RL_GGUF_UINT32);
    if (!v) return 0;
    *out = (int64_t)v->u;
    return 1;
}

/* src/models/rwkv6qwen2.cpp load_arch_hparams + load_arch_tensors, and the model loader's
   "every tensor must be consumed" (done_getting_tensors). Returns the number of problems. */
static int loader_sim(const rl_gguf *g, const char *label) {
    int64_t n_embd = 0, n_layer = 0, n_ff = 0, hs = 0, tmx = 0, tdx = 0, nkv = 0, tsc = 2, nh = -1, n_vocab = 0, il, t, akv;
    const rl_gguf_value *toks = NULL;
    unsigned char *used = (unsigned char *)calloc((size_t)g->n_tensors + 1, 1);
    int bad = 0, n_used = 0;
    char nm[80];
    double eps = 0;
    const char *s;
    if (!used) return 1;
    RLT_CHECK(rl_gguf_get_str(g, "general.architecture", &s, NULL) == RL_OK && !strcmp(s, "rwkv6qwen2"), "%s: arch", label);
    bad += !get_u32_strict(g, "rwkv6qwen2.embedding_length", &n_embd) || !get_u32_strict(g, "rwkv6qwen2.block_count", &n_layer) ||
           !get_u32_strict(g, "rwkv6qwen2.feed_forward_length", &n_ff) || !get_u32_strict(g, "rwkv6qwen2.wkv.head_size", &hs) ||
           !get_u32_strict(g, "rwkv6qwen2.time_mix_extra_dim", &tmx) || !get_u32_strict(g, "rwkv6qwen2.time_decay_extra_dim", &tdx) ||
           !get_u32_strict(g, "rwkv6qwen2.context_length", &t);
    RLT_CHECK(!bad, "%s: required UINT32 hparams", label);
    RLT_CHECK(get_u32_strict(g, "rwkv6qwen2.token_shift_count", &tsc) && tsc == 1 && tsc * n_embd == n_embd,
              "%s: token_shift_count 1 (graph asserts n_embd == n_embd_r)", label);
    RLT_CHECK(get_u32_strict(g, "rwkv6qwen2.attention.head_count", &nh) && nh == 0, "%s: head_count 0", label);
    RLT_CHECK(get_u32_strict(g, "rwkv6qwen2.attention.head_count_kv", &nkv), "%s: head_count_kv UINT32", label);
    RLT_CHECK(kv_typed(g, "rwkv6qwen2.attention.layer_norm_rms_epsilon", RL_GGUF_FLOAT32) &&
                  rl_gguf_get_float(g, "rwkv6qwen2.attention.layer_norm_rms_epsilon", &eps) == RL_OK && eps > 0,
              "%s: rms eps FLOAT32", label);
    RLT_CHECK(rl_gguf_get_array(g, "tokenizer.ggml.tokens", RL_GGUF_STRING, &toks) == RL_OK, "%s: token list", label);
    n_vocab = toks ? (int64_t)toks->n : 0;
    if (hs < 1 || n_embd % hs) {
        RLT_CHECK(0, "%s: head size %lld does not divide %lld", label, (long long)hs, (long long)n_embd);
        free(used);
        return 1;
    }
    akv = nkv == 0 || n_embd / hs == nkv ? n_embd : nkv * hs;
#define WANT(req, e0, e1, e2, e3)                                                                                                   \
    do {                                                                                                                            \
        const rl_gguf_tensor *x_ = rl_gguf_find_tensor(g, nm);                                                                       \
        if (!x_) {                                                                                                                  \
            if (req) {                                                                                                              \
                bad++;                                                                                                              \
                RLT_CHECK(0, "%s: required tensor %s missing", label, nm);                                                          \
            }                                                                                                                       \
        } else {                                                                                                                    \
            int ok_ = x_->ne[0] == (e0) && x_->ne[1] == (e1) && x_->ne[2] == (e2) && x_->ne[3] == (e3);                              \
            if (!ok_) bad++;                                                                                                        \
            RLT_CHECK(ok_, "%s: %s has ne {%lld,%lld,%lld,%lld}, loader wants {%lld,%lld,%lld,%lld}", label, nm, (long long)x_->ne[0], \
                      (long long)x_->ne[1], (long long)x_->ne[2], (long long)x_->ne[3], (long long)(e0), (long long)(e1), (long long)(e2), \
                      (long long)(e3));                                                                                             \
            if (!used[x_ - g->tensors]) n_used++;                                                                                   \
            used[x_ - g->tensors] = 1;                                                                                              \
        }                                                                                                                           \
    } while (0)
#define NM(...) snprintf(nm, sizeof nm, __VA_ARGS__)
    NM("token_embd.weight"); WANT(1, n_embd, n_vocab, 1, 1);
    NM("output_norm.weight"); WANT(1, n_embd, 1, 1, 1);
    NM("output_norm.bias"); WANT(0, n_embd, 1, 1, 1);
    NM("output.weight"); WANT(1, n_embd, n_vocab, 1, 1);
    for (il = 0; il < n_layer; il++) {
        NM("blk.%lld.attn_norm.weight", (long long)il); WANT(1, n_embd, 1, 1, 1);
        NM("blk.%lld.time_mix_w1.weight", (long long)il); WANT(1, n_embd, tmx * 5, 1, 1);
        NM("blk.%lld.time_mix_w2.weight", (long long)il); WANT(1, tmx, n_embd, 5, 1);
        NM("blk.%lld.time_mix_lerp_x.weight", (long long)il); WANT(1, n_embd, 1, 1, 1);
        NM("blk.%lld.time_mix_lerp_fused.weight", (long long)il); WANT(1, n_embd, 1, 1, 5);
        NM("blk.%lld.time_mix_first.weight", (long long)il);
        RLT_CHECK(!rl_gguf_find_tensor(g, nm), "%s: %s would switch llama.cpp to plain RWKV6", label, nm);
        NM("blk.%lld.time_mix_decay.weight", (long long)il); WANT(1, n_embd, 1, 1, 1);
        NM("blk.%lld.time_mix_decay_w1.weight", (long long)il); WANT(1, n_embd, tdx, 1, 1);
        NM("blk.%lld.time_mix_decay_w2.weight", (long long)il); WANT(1, tdx, n_embd, 1, 1);
        NM("blk.%lld.time_mix_key.weight", (long long)il); WANT(1, n_embd, akv, 1, 1);
        NM("blk.%lld.time_mix_value.weight", (long long)il); WANT(1, n_embd, akv, 1, 1);
        NM("blk.%lld.time_mix_receptance.weight", (long long)il); WANT(1, n_embd, n_embd, 1, 1);
        NM("blk.%lld.time_mix_gate.weight", (long long)il); WANT(1, n_embd, n_embd, 1, 1);
        NM("blk.%lld.time_mix_key.bias", (long long)il); WANT(0, akv, 1, 1, 1);
        NM("blk.%lld.time_mix_value.bias", (long long)il); WANT(0, akv, 1, 1, 1);
        NM("blk.%lld.time_mix_receptance.bias", (long long)il); WANT(0, n_embd, 1, 1, 1);
        NM("blk.%lld.time_mix_output.weight", (long long)il); WANT(1, n_embd, n_embd, 1, 1);
        NM("blk.%lld.ffn_norm.weight", (long long)il); WANT(1, n_embd, 1, 1, 1);
        NM("blk.%lld.ffn_gate.weight", (long long)il); WANT(1, n_embd, n_ff, 1, 1);
        NM("blk.%lld.ffn_down.weight", (long long)il); WANT(1, n_ff, n_embd, 1, 1);
        NM("blk.%lld.ffn_up.weight", (long long)il); WANT(1, n_embd, n_ff, 1, 1);
    }
#undef WANT
#undef NM
    RLT_CHECK(n_used == g->n_tensors, "%s: wrong number of tensors; expected %d, got %lld (extras llama.cpp would refuse)", label, n_used,
              (long long)g->n_tensors);
    for (t = 0; t < g->n_tensors; t++)
        if (!used[t]) RLT_CHECK(0, "%s: tensor %s is not consumed by the loader", label, g->tensors[t].name);
    free(used);
    return bad + (n_used != g->n_tensors);
}

static void rule4(void) {
    int i;
    rlt_begin("§5.7 rule 4: exactly the tensor set llama.cpp's rwkv6qwen2 loader takes (required present with its ne, nothing extra, output.weight)");
    for (i = 0; i < 3; i++) {
        if (!ex[i].open) {
            RLT_CHECK(0, "%s export missing", wname(ex[i].wtype));
            continue;
        }
        loader_sim(&ex[i].g, wname(ex[i].wtype));
        RLT_CHECK(ex[i].g.n_tensors == 3 + 2 * (12 + 3 + 1 + 4), "%s: %lld tensors = 3 + L·(16 + 3 biases + ...)", wname(ex[i].wtype),
                  (long long)ex[i].g.n_tensors);
        RLT_CHECK(rl_gguf_find_tensor(&ex[i].g, "output.weight") && !rl_gguf_find_tensor(&ex[i].g, "blk.0.time_mix_ln.weight") &&
                      !rl_gguf_find_tensor(&ex[i].g, "blk.0.time_mix_output.bias") && !rl_gguf_find_tensor(&ex[i].g, "output_norm.bias"),
                  "output.weight present; no time_mix_ln, o bias, output_norm.bias");
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 5: layout transforms undone give back the model's values       */

/* compare every GGUF tensor of e with the model after undoing the documented transform;
   returns the number of elements that differ */
static int64_t roundtrip(const rl_gguf *g, const rl_model *m, rl_ggml_type wtype, int shift, const char *label) {
    static const int G[5] = {3, 1, 2, 0, 4}; /* llama.cpp group g = RADLADS group G[g] (r,k,v,w,g) */
    static const char *const lerp_of[5] = {"w", "k", "v", "r", "g"};
    int64_t bad = 0, t, l, i, C = m->cfg.hidden_size;
    for (t = 0; t < g->n_tensors; t++) { /* the copies */
        const rl_gguf_tensor *x = &g->tensors[t];
        const rl_tensor *src = copy_source(m, x->name);
        float *d;
        if (!src || (!shift && strstr(x->name, "lerp_x"))) continue;
        d = tensor_f32(g, x->name);
        if (!d || x->n != src->n) {
            bad++;
            RLT_CHECK(0, "%s: %s unreadable or wrong size", label, x->name);
            free(d);
            continue;
        }
        for (i = 0; i < x->n; i++)
            if (!same_f(d[i], as_type(el(src, i), is_matrix(x->name) ? (int)wtype : RL_GGML_F32))) bad++;
        free(d);
    }
    for (l = 0; l < m->cfg.n_layers; l++) {
        const rl_mixer *x = &m->blocks[l].mix;
        int64_t R = x->cfg.r_ts, RD = x->cfg.r_d, gi, c, k;
        char nm[80];
        float *w1, *w2, *lf, *dw1, *dw2, *lx;
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_w1.weight", (long long)l);
        w1 = tensor_f32(g, nm);
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_w2.weight", (long long)l);
        w2 = tensor_f32(g, nm);
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_lerp_fused.weight", (long long)l);
        lf = tensor_f32(g, nm);
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_decay_w1.weight", (long long)l);
        dw1 = tensor_f32(g, nm);
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_decay_w2.weight", (long long)l);
        dw2 = tensor_f32(g, nm);
        snprintf(nm, sizeof nm, "blk.%lld.time_mix_lerp_x.weight", (long long)l);
        lx = tensor_f32(g, nm);
        if (!w1 || !w2 || !lf || !dw1 || !dw2 || !lx) {
            RLT_CHECK(0, "%s: layer %lld: transformed tensors missing", label, (long long)l);
            bad++;
        } else {
            for (gi = 0; gi < 5; gi++) {
                const rl_tensor *mu = !strcmp(lerp_of[gi], "w") ? &x->maa_w : !strcmp(lerp_of[gi], "k") ? &x->maa_k : !strcmp(lerp_of[gi], "v") ? &x->maa_v
                                    : !strcmp(lerp_of[gi], "r") ? &x->maa_r : &x->maa_g;
                for (c = 0; c < C; c++) {
                    /* w1: GGUF [5r][C] row (g·r + k) = column (G[g]·r + k) of time_maa_w1 [C][5r] */
                    for (k = 0; k < R; k++) {
                        if (!same_f(w1[(gi * R + k) * C + c], shift ? el(&x->maa_w1, c * 5 * R + G[gi] * R + k) : 0.0f)) bad++;
                        /* w2: GGUF [5][C][r] = time_maa_w2 [5][r][C] permuted, group G[g] */
                        if (!same_f(w2[(gi * C + c) * R + k], shift ? el(&x->maa_w2, (G[gi] * R + k) * C + c) : 0.0f)) bad++;
                    }
                    /* lerp_fused [5][1][1][C] = time_maa_{w,k,v,r,g} */
                    if (!same_f(lf[gi * C + c], shift ? el(mu, c) : 0.0f)) bad++;
                }
            }
            for (c = 0; c < C; c++) {
                if (!same_f(lx[c], shift ? el(&x->maa_x, c) : 0.0f)) bad++;
                for (k = 0; k < RD; k++) {
                    if (!same_f(dw1[k * C + c], el(&x->decay_w1, c * RD + k))) bad++; /* [rd][C] = time_decay_w1 [C][rd] transposed */
                    if (!same_f(dw2[c * RD + k], el(&x->decay_w2, k * C + c))) bad++; /* [C][rd] = time_decay_w2 [rd][C] transposed */
                }
            }
        }
        free(w1);
        free(w2);
        free(lf);
        free(dw1);
        free(dw2);
        free(lx);
    }
    return bad;
}

static void rule5(void) {
    int i;
    rlt_begin("§5.7 rule 5: transforms undone give the model's values (w1/w2 transposes + r,k,v,w,g -> w,k,v,r,g, lerp_fused stack, "
              "decay LoRA transposes, squeezes, copies)");
    for (i = 0; i < 3; i++) {
        int64_t bad;
        if (!ex[i].open) {
            RLT_CHECK(0, "%s export missing", wname(ex[i].wtype));
            continue;
        }
        bad = roundtrip(&ex[i].g, &student, ex[i].wtype, 1, wname(ex[i].wtype));
        RLT_CHECK(bad == 0, "%s: %lld values differ from the model's (matrices: rounded to the type)", wname(ex[i].wtype), (long long)bad);
    }
    { /* the reorder is not the identity: group 0 of time_mix_w1 is RADLADS' w group (3), not r (0) */
        float *w1 = ex[0].open ? tensor_f32(&ex[0].g, "blk.0.time_mix_w1.weight") : NULL;
        const rl_tensor *s = &student.blocks[0].mix.maa_w1;
        int64_t R = student.blocks[0].mix.cfg.r_ts, k, same_r = 0;
        for (k = 0; w1 && k < R; k++) same_r += same_f(w1[k * 64 + 5], el(s, 5 * 5 * R + 0 * R + k));
        RLT_CHECK(w1 && same_r < R, "w1 group 0 is not RADLADS' r group");
        free(w1);
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 6: vocabulary                                                  */

static void check_vocab(const rl_gguf *g, const rl_model *m, const rl_tokenizer *tok, const char *want_pre, const char *label) {
    rl_gguf_vocab v;
    const rl_gguf_value *a;
    int64_t i, V = m->cfg.vocab_size, bad_tok = 0, bad_type = 0, bad_merge = 0, n_pad = 0;
    int nt = rl_tokenizer_vocab_size(tok);
    RLT_CHECK(rl_gguf_get_array(g, "tokenizer.ggml.tokens", RL_GGUF_STRING, &a) == RL_OK && (int64_t)a->n == V, "%s: tokens ARRAY of STRING, %lld = embedding rows",
              label, (long long)V);
    RLT_CHECK(rl_gguf_get_array(g, "tokenizer.ggml.token_type", RL_GGUF_INT32, &a) == RL_OK && (int64_t)a->n == V, "%s: token_type ARRAY of INT32", label);
    RLT_CHECK(rl_gguf_get_array(g, "tokenizer.ggml.merges", RL_GGUF_STRING, &a) == RL_OK && (int64_t)a->n == rl_tokenizer_n_merges(tok), "%s: merges ARRAY of STRING",
              label);
    RLT_CHECK(kv_typed(g, "tokenizer.ggml.model", RL_GGUF_STRING) && kv_typed(g, "tokenizer.ggml.pre", RL_GGUF_STRING), "%s: model/pre STRING", label);
    RLT_CHECK(kv_typed(g, "tokenizer.ggml.bos_token_id", RL_GGUF_UINT32) && kv_typed(g, "tokenizer.ggml.eos_token_id", RL_GGUF_UINT32), "%s: bos/eos UINT32", label);
    RLT_CHECK(kv_typed(g, "tokenizer.ggml.add_bos_token", RL_GGUF_BOOL) && kv_typed(g, "tokenizer.ggml.add_eos_token", RL_GGUF_BOOL), "%s: add_bos/add_eos BOOL", label);
    if (rl_gguf_vocab_read(g, &v) != RL_OK) {
        RLT_CHECK(0, "%s: vocab read: %s", label, rl_last_error());
        return;
    }
    RLT_CHECK(!strcmp(v.model, "gpt2") && v.pre && !strcmp(v.pre, want_pre), "%s: model gpt2, pre %s (got %s)", label, want_pre, v.pre ? v.pre : "(none)");
    RLT_CHECK(v.n_tokens == V && v.token_type, "%s: %lld tokens", label, (long long)v.n_tokens);
    for (i = 0; i < V && i < v.n_tokens; i++) {
        const char *s = i < nt ? rl_tokenizer_token(tok, (int32_t)i) : NULL;
        int ty = i < nt ? rl_tokenizer_token_type(tok, (int32_t)i) : RL_TOKEN_UNUSED, want;
        char pad[32];
        if (!s || ty == RL_TOKEN_UNUSED) {
            snprintf(pad, sizeof pad, "[PAD%lld]", (long long)i);
            s = pad;
            want = RL_TOKEN_UNUSED;
            n_pad++;
        } else if (ty == RL_TOKEN_USER_DEFINED) {
            size_t n = strlen(s);
            want = n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>") ? RL_TOKEN_CONTROL : RL_TOKEN_USER_DEFINED;
        } else {
            want = ty == RL_TOKEN_CONTROL ? RL_TOKEN_CONTROL : RL_TOKEN_NORMAL;
        }
        if (strcmp(v.tokens[i], s)) bad_tok++;
        if (v.token_type[i] != want) bad_type++;
    }
    RLT_CHECK(bad_tok == 0 && bad_type == 0, "%s: %lld tokens and %lld types differ from the tokenizer's", label, (long long)bad_tok, (long long)bad_type);
    RLT_CHECK(n_pad == V - nt, "%s: %lld [PAD] fillers for ids %d..%lld", label, (long long)n_pad, nt, (long long)V - 1);
    for (i = 0; i < v.n_merges; i++) {
        const char *x, *y;
        char buf[256];
        if (rl_tokenizer_merge(tok, (int)i, &x, &y) != RL_OK) {
            bad_merge++;
            continue;
        }
        snprintf(buf, sizeof buf, "%s %s", x, y);
        if (!v.merges || strcmp(v.merges[i], buf)) bad_merge++;
    }
    RLT_CHECK(v.n_merges == rl_tokenizer_n_merges(tok) && bad_merge == 0, "%s: merges 'a b' in rank order (%lld differ)", label, (long long)bad_merge);
    {
        int32_t want_bos = rl_tokenizer_bos(tok) >= 0 ? rl_tokenizer_bos(tok) : m->cfg.bos_id;
        RLT_CHECK(v.bos_id == want_bos && v.eos_id == m->cfg.eos_ids[0], "%s: bos %lld (want %d), eos %lld (want %d)", label, (long long)v.bos_id, want_bos,
                  (long long)v.eos_id, m->cfg.eos_ids[0]);
        RLT_CHECK(v.add_bos == (rl_tokenizer_bos(tok) >= 0) && v.add_eos == 0, "%s: add_bos %d add_eos %d", label, v.add_bos, v.add_eos);
        RLT_CHECK(v.pad_id == -1 && v.eot_id == -1 && !v.chat_template, "%s: no pad/eot/template unless asked for", label);
    }
    { /* the arrays make the same tokenizer: rebuild it from them and encode text with both */
        rl_tokenizer *back = NULL;
        static const char *const texts[] = {"Hello world, the quick brown fox.", "<|im_start|>user\nx = 12345;<|im_end|>", "  spaces\tand\nnewlines  ",
                                            "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 <tool_call>{}</tool_call>"};
        size_t k;
        rl_status st = rl_tokenizer_from_vocab(&back, (int)v.n_tokens, v.tokens, v.token_type, (int)v.n_merges, v.merges, rl_pretok_from_name(v.pre),
                                               (int32_t)v.bos_id, v.add_bos > 0);
        RLT_CHECK(st == RL_OK, "%s: tokenizer from the GGUF arrays: %s", label, rl_last_error());
        for (k = 0; back && k < sizeof texts / sizeof texts[0]; k++) {
            int32_t *a1 = NULL, *a2 = NULL;
            int64_t n1 = -1, n2 = -2, j;
            int same;
            rl_tokenizer_encode(tok, texts[k], strlen(texts[k]), 1, &a1, &n1);
            rl_tokenizer_encode(back, texts[k], strlen(texts[k]), 1, &a2, &n2);
            same = n1 == n2 && n1 > 0;
            for (j = 0; same && j < n1; j++) same = a1[j] == a2[j];
            RLT_CHECK(same, "%s: text %zu encodes the same through the exported vocabulary (%lld vs %lld ids)", label, k, (long long)n1, (long long)n2);
            free(a1);
            free(a2);
        }
        rl_tokenizer_free(back);
    }
    rl_gguf_vocab_free(&v);
}

static void rule6(void) {
    int i;
    rlt_begin("§5.7 rule 6: vocabulary (tokens = embedding rows with [PAD] fillers, token types, merges, pre, bos/eos, add_bos/add_eos)");
    for (i = 0; i < 3; i++) {
        if (!ex[i].open) {
            RLT_CHECK(0, "%s export missing", wname(ex[i].wtype));
            continue;
        }
        check_vocab(&ex[i].g, &student, qtok, "qwen2", wname(ex[i].wtype));
    }
    { /* pre names for the other presets: plain GPT-2 is "gpt-2" in llama.cpp; a tokenizer that is
         no preset (Qwen2 regex without NFC) is refused unless opts->pre names one */
        size_t n;
        char *txt = rlt_read_all("tests/fixtures/tok/gpt2.json", &n), *q;
        rl_tokenizer *t = NULL;
        rl_gguf g;
        const char *s, *p = out_path("pre.gguf");
        rl_export_opts o;
        if (txt && (q = strstr(txt, "{\n    \"type\": \"Digits\"")) && strstr(q, "},")) { /* drop the Digits stage */
            char *e = strstr(q, "},") + 2;
            memmove(q, e, strlen(e) + 1);
        }
        RLT_CHECK(txt && rl_tokenizer_load_mem(&t, txt, strlen(txt), "gpt2 variant") == RL_OK && rl_tokenizer_pretok(t) == RL_PRETOK_GPT2,
                  "plain GPT-2 tokenizer: %s", rl_last_error());
        if (t && rl_export_gguf_rwkv6qwen2(&student, t, p, RL_GGML_F32) == RL_OK && rl_gguf_open(&g, p) == RL_OK) {
            RLT_CHECK(rl_gguf_get_str(&g, "tokenizer.ggml.pre", &s, NULL) == RL_OK && !strcmp(s, "gpt-2"), "GPT-2 preset written as gpt-2");
            rl_gguf_close(&g);
        } else {
            RLT_CHECK(0, "gpt-2 export: %s", rl_last_error());
        }
        rl_tokenizer_free(t);
        t = NULL;
        free(txt);
        txt = rlt_read_all("tests/fixtures/tok/qwen2.json", &n);
        if (txt && (q = strstr(txt, "\"normalizer\": {")) && strchr(q, '}')) { /* normalizer: null */
            char *e = strchr(q, '}') + 1;
            memcpy(q, "\"normalizer\": null", 18);
            memmove(q + 18, e, strlen(e) + 1);
        }
        RLT_CHECK(txt && rl_tokenizer_load_mem(&t, txt, strlen(txt), "qwen2 without NFC") == RL_OK && rl_tokenizer_pretok(t) == RL_PRETOK_CUSTOM,
                  "custom tokenizer: %s", rl_last_error());
        remove(p);
        RLT_CHECK(t && rl_export_gguf_rwkv6qwen2(&student, t, p, RL_GGML_F32) == RL_ERR_UNSUPPORTED && rlt_err_has("presets") && !rlt_exists(p),
                  "no preset: refused (%s)", rl_last_error());
        rl_export_opts_default(&o);
        o.pre = "qwen2";
        RLT_CHECK(t && rl_export_gguf_rwkv6qwen2_ex(&student, t, p, RL_GGML_F32, &o) == RL_OK && rl_gguf_open(&g, p) == RL_OK, "opts.pre: %s",
                  rl_last_error());
        if (rlt_exists(p)) {
            RLT_CHECK(rl_gguf_get_str(&g, "tokenizer.ggml.pre", &s, NULL) == RL_OK && !strcmp(s, "qwen2"), "opts.pre written");
            rl_gguf_close(&g);
        }
        rl_tokenizer_free(t);
        free(txt);
        drop(p);
    }
    { /* the fixture's token types really cover control, user-defined, normal and unused */
        int32_t *tt = NULL;
        rl_gguf_vocab v;
        if (ex[0].open && rl_gguf_vocab_read(&ex[0].g, &v) == RL_OK) {
            tt = v.token_type;
            RLT_CHECK(tt[0] == 1 && tt[600] == 3 && tt[601] == 3 && tt[603] == 4 && tt[604] == 4 && tt[605] == 5 && tt[639] == 5 &&
                          !strcmp(v.tokens[639], "[PAD639]") && !strcmp(v.tokens[601], "<|im_start|>") && !strcmp(v.tokens[603], "<tool_call>"),
                      "types: normal 0, control 600/601, user-defined 603/604, unused 605..639");
            rl_gguf_vocab_free(&v);
        } else {
            RLT_CHECK(0, "vocab read");
        }
    }
    rlt_end();
}

/* ======================================================================= */
/* §5.7 rule 7: re-read with the §5.3 rules                                 */

static void reread(const exported *e, const char *label) {
    const rl_gguf *g = &e->g;
    int64_t i, j, dup = 0, long_names = 0, bad_off = 0;
    uint64_t off = 0;
    for (i = 0; i < g->n_tensors; i++) {
        if (strlen(g->tensors[i].name) >= 64) long_names++;
        for (j = 0; j < i; j++)
            if (!strcmp(g->tensors[i].name, g->tensors[j].name)) dup++;
        if (g->tensors[i].offset != off) bad_off++;
        off += (g->tensors[i].nbytes + g->alignment - 1) / g->alignment * g->alignment;
        if (g->tensors[i].n_dims > 4 || g->tensors[i].n_dims < 1) bad_off++;
    }
    for (i = 0; i < g->n_kv; i++)
        for (j = 0; j < i; j++)
            if (!strcmp(g->kv[i].key, g->kv[j].key)) dup++;
    RLT_CHECK(g->alignment == 32 && g->data_offset % 32 == 0, "%s: alignment 32", label);
    RLT_CHECK(long_names == 0 && dup == 0 && bad_off == 0, "%s: %lld names >= 64 bytes, %lld duplicates, %lld offsets out of sequence", label,
              (long long)long_names, (long long)dup, (long long)bad_off);
    RLT_CHECK(g->data_offset + off == g->size, "%s: data fills the file", label);
}

static void rule7(void) {
    int i;
    rlt_begin("§5.7 rule 7: re-read by rl_gguf_open with the §5.3 rules (names < 64 bytes, no duplicates, sequential offsets)");
    for (i = 0; i < 3; i++) {
        if (!ex[i].open) {
            RLT_CHECK(0, "%s export missing or refused by rl_gguf_open", wname(ex[i].wtype));
            continue;
        }
        reread(&ex[i], wname(ex[i].wtype));
    }
    /* and the file is all-or-nothing: no .tmp left beside it */
    RLT_CHECK(ex[0].path[0] && rlt_exists(ex[0].path) && !tmp_left(ex[0].path), "no temporary file left");
    rlt_end();
}

/* ======================================================================= */
/* llama.cpp's rwkv6qwen2 graph over the GGUF tensors                       */

typedef struct {
    const rl_gguf *g;
    int64_t C, L, F, N, H, KVH, R, RD, V;
    double eps;
} lgraph;

static float *need(const rl_gguf *g, const char *fmt, long long l) {
    char nm[96];
    snprintf(nm, sizeof nm, fmt, l);
    return tensor_f32(g, nm);
}
/* ggml_mul_mat(W, x) with W ne {K, N}: out[n] = Σ_k W[n·K + k]·x[k] */
static void mv(const float *W, const double *x, double *out, int64_t K, int64_t Nn) {
    int64_t n, k;
    for (n = 0; n < Nn; n++) {
        double s = 0;
        for (k = 0; k < K; k++) s += (double)W[n * K + k] * x[k];
        out[n] = s;
    }
}
static void rmsnorm(const double *x, const float *w, double *y, int64_t C, double eps) {
    double s = 0;
    int64_t c;
    for (c = 0; c < C; c++) s += x[c] * x[c];
    s = 1.0 / sqrt(s / (double)C + eps);
    for (c = 0; c < C; c++) y[c] = x[c] * s * w[c];
}

/* logits [T, V] of ids, from a zero state, as build_rwkv6_time_mix and the rwkv6qwen2 graph
   compute them (fused lerp, w2 reshaped to {r, C, 1, 5}, GQA repeat, w = exp(-exp(d)) with no
   clamp, k -= k·w, gated linear attention with scale head_size^-1/2, sigmoid gate, SwiGLU). */
static int llama_graph(const rl_gguf *g, const int32_t *ids, int64_t T, float *logits) {
    int64_t C, L, F, N, H, KVH, R, RD, V, kvs, l, t, c, i, j, h;
    double eps, *x, *xn, *sx, *xxx, *hh, *xs, *r, *k, *v, *gt, *d1, *d, *w, *o, *tmp, *f1, *f2, **S, **shift;
    float *emb = tensor_f32(g, "token_embd.weight"), *onorm = tensor_f32(g, "output_norm.weight"), *out = tensor_f32(g, "output.weight");
    int ok = emb && onorm && out;
    const rl_gguf_value *toks;
    if (!ok || rl_gguf_get_int(g, "rwkv6qwen2.embedding_length", &C) || rl_gguf_get_int(g, "rwkv6qwen2.block_count", &L) ||
        rl_gguf_get_int(g, "rwkv6qwen2.feed_forward_length", &F) || rl_gguf_get_int(g, "rwkv6qwen2.wkv.head_size", &N) ||
        rl_gguf_get_int(g, "rwkv6qwen2.attention.head_count_kv", &KVH) || rl_gguf_get_int(g, "rwkv6qwen2.time_mix_extra_dim", &R) ||
        rl_gguf_get_int(g, "rwkv6qwen2.time_decay_extra_dim", &RD) || rl_gguf_get_float(g, "rwkv6qwen2.attention.layer_norm_rms_epsilon", &eps) ||
        rl_gguf_get_array(g, "tokenizer.ggml.tokens", RL_GGUF_STRING, &toks)) {
        free(emb);
        free(onorm);
        free(out);
        return 0;
    }
    V = (int64_t)toks->n;
    H = C / N;
    kvs = KVH == 0 || H == KVH ? C : KVH * N;
    if (KVH == 0) KVH = H;
    x = (double *)calloc((size_t)(16 * C + 5 * R + 2 * F + RD + V + 8), sizeof(double));
    S = (double **)calloc((size_t)L, sizeof(double *));
    shift = (double **)calloc((size_t)L, sizeof(double *));
    xn = x + C;
    sx = xn + C;
    xxx = sx + C;
    xs = xxx + C;      /* 5 C */
    r = xs + 5 * C;
    k = r + C;
    v = k + C;
    gt = v + C;
    d = gt + C;
    w = d + C;
    o = w + C;
    tmp = o + C;
    hh = tmp + C;      /* 5 R */
    d1 = hh + 5 * R;   /* RD */
    f1 = d1 + RD;      /* F */
    f2 = f1 + F;       /* F, then V for the logits */
    for (l = 0; l < L; l++) {
        S[l] = (double *)calloc((size_t)(H * N * N), sizeof(double));
        shift[l] = (double *)calloc((size_t)C, sizeof(double));
    }
    for (t = 0; t < T && ok; t++) {
        for (c = 0; c < C; c++) x[c] = emb[(int64_t)ids[t] * C + c];
        for (l = 0; l < L && ok; l++) {
            float *an = need(g, "blk.%lld.attn_norm.weight", l), *w1 = need(g, "blk.%lld.time_mix_w1.weight", l), *w2 = need(g, "blk.%lld.time_mix_w2.weight", l),
                  *lx = need(g, "blk.%lld.time_mix_lerp_x.weight", l), *lf = need(g, "blk.%lld.time_mix_lerp_fused.weight", l),
                  *dc = need(g, "blk.%lld.time_mix_decay.weight", l), *dw1 = need(g, "blk.%lld.time_mix_decay_w1.weight", l),
                  *dw2 = need(g, "blk.%lld.time_mix_decay_w2.weight", l), *wr = need(g, "blk.%lld.time_mix_receptance.weight", l),
                  *br = need(g, "blk.%lld.time_mix_receptance.bias", l), *wk = need(g, "blk.%lld.time_mix_key.weight", l),
                  *bk = need(g, "blk.%lld.time_mix_key.bias", l), *wv = need(g, "blk.%lld.time_mix_value.weight", l),
                  *bv = need(g, "blk.%lld.time_mix_value.bias", l), *wg = need(g, "blk.%lld.time_mix_gate.weight", l),
                  *wo = need(g, "blk.%lld.time_mix_output.weight", l), *fn = need(g, "blk.%lld.ffn_norm.weight", l),
                  *fg = need(g, "blk.%lld.ffn_gate.weight", l), *fu = need(g, "blk.%lld.ffn_up.weight", l), *fd = need(g, "blk.%lld.ffn_down.weight", l);
            ok = an && w1 && w2 && lx && lf && dc && dw1 && dw2 && wr && wk && wv && wg && wo && fn && fg && fu && fd;
            if (ok) {
                int gi;
                rmsnorm(x, an, xn, C, eps);
                for (c = 0; c < C; c++) {
                    sx[c] = shift[l][c] - xn[c]; /* x_prev - x */
                    shift[l][c] = xn[c];
                    xxx[c] = xn[c] + sx[c] * lx[c];
                }
                mv(w1, xxx, hh, C, 5 * R);
                for (i = 0; i < 5 * R; i++) hh[i] = tanh(hh[i]);
                for (gi = 0; gi < 5; gi++) /* xxx (r,1,5,T) permuted to (r,1,T,5) times w2 viewed {r, C, 1, 5} */
                    for (c = 0; c < C; c++) {
                        double s = 0;
                        for (j = 0; j < R; j++) s += (double)w2[((int64_t)gi * C + c) * R + j] * hh[gi * R + j];
                        xs[gi * C + c] = xn[c] + sx[c] * ((double)lf[gi * C + c] + s); /* order w, k, v, r, g */
                    }
                mv(wr, xs + 3 * C, r, C, C);
                mv(wk, xs + 1 * C, k, C, kvs);
                mv(wv, xs + 2 * C, v, C, kvs);
                for (i = 0; br && i < C; i++) r[i] += br[i];
                for (i = 0; bk && i < kvs; i++) k[i] += bk[i];
                for (i = 0; bv && i < kvs; i++) v[i] += bv[i];
                mv(wg, xs + 4 * C, gt, C, C);
                for (c = 0; c < C; c++) gt[c] = 1.0 / (1.0 + exp(-gt[c]));
                mv(dw1, xs, d1, C, RD);
                for (i = 0; i < RD; i++) d1[i] = tanh(d1[i]);
                mv(dw2, d1, d, RD, C);
                for (c = 0; c < C; c++) w[c] = exp(-exp(d[c] + dc[c]));
                for (h = 0; h < H; h++) {
                    int64_t kvh = h / (H / KVH);
                    double *Sh = S[l] + h * N * N, scale = pow((double)N, -0.5);
                    for (j = 0; j < N; j++) o[h * N + j] = 0;
                    for (i = 0; i < N; i++) {
                        double kk = k[kvh * N + i] - k[kvh * N + i] * w[h * N + i], q = r[h * N + i] * scale;
                        for (j = 0; j < N; j++) {
                            double sv = v[kvh * N + j] * kk + Sh[i * N + j] * w[h * N + i];
                            o[h * N + j] += sv * q;
                            Sh[i * N + j] = sv;
                        }
                    }
                }
                for (c = 0; c < C; c++) o[c] *= gt[c];
                mv(wo, o, tmp, C, C);
                for (c = 0; c < C; c++) x[c] += tmp[c];
                rmsnorm(x, fn, xn, C, eps);
                mv(fg, xn, f1, C, F);
                mv(fu, xn, f2, C, F);
                for (i = 0; i < F; i++) f1[i] = f1[i] / (1.0 + exp(-f1[i])) * f2[i];
                mv(fd, f1, tmp, F, C);
                for (c = 0; c < C; c++) x[c] += tmp[c];
            }
            free(an), free(w1), free(w2), free(lx), free(lf), free(dc), free(dw1), free(dw2), free(wr), free(br);
            free(wk), free(bk), free(wv), free(bv), free(wg), free(wo), free(fn), free(fg), free(fu), free(fd);
        }
        if (!ok) break;
        rmsnorm(x, onorm, xn, C, eps);
        mv(out, xn, f2, C, V);
        for (i = 0; i < V; i++) logits[t * V + i] = (float)f2[i];
    }
    for (l = 0; l < L; l++) {
        free(S[l]);
        free(shift[l]);
    }
    free(S);
    free(shift);
    free(x);
    free(emb);
    free(onorm);
    free(out);
    return ok;
}


/* max |graph − model| / max |model| over T tokens */
static double graph_vs_model(rl_model *m, const char *path, const int32_t *ids, int64_t T) {
    rl_gguf g;
    float *a, *b = NULL;
    double e = -1, mx = 0, df = 0;
    int64_t i, n = T * m->cfg.vocab_size;
    if (rl_gguf_open(&g, path) != RL_OK) return -1;
    a = rlt_logits(pool, m, ids, T);
    b = (float *)malloc(sizeof(float) * (size_t)n);
    if (a && b && llama_graph(&g, ids, T, b)) {
        for (i = 0; i < n; i++) {
            mx = fmax(mx, fabs(a[i]));
            df = fmax(df, fabs((double)a[i] - b[i]));
        }
        e = df / (mx > 0 ? mx : 1);
    }
    free(a);
    free(b);
    rl_gguf_close(&g);
    return e;
}

static const int32_t seq[12] = {600, 5, 77, 3, 300, 12, 12, 599, 0, 41, 601, 250};

/* the trainable fixture with its decay lowered so the student's clamp (-5) never acts */
static int load_unclamped(rl_model *m) {
    int64_t l, c;
    if (rl_model_load(m, STUDENT, 1) != RL_OK) return 0;
    for (l = 0; l < m->cfg.n_layers; l++)
        for (c = 0; c < m->cfg.hidden_size; c++) rl_f32(&m->blocks[l].mix.decay)[c] -= 3.0f;
    return 1;
}

static void test_graph(void) {
    rl_model m;
    rlt_begin("llama.cpp's rwkv6qwen2 graph (re-implemented over the exported tensors) = the student's forward pass");
    if (!load_unclamped(&m)) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    {
        const char *p32 = out_path("graph32.gguf"), *p16 = out_path("graph16.gguf"), *pb = out_path("graphbf.gguf");
        double e32, e16, eb;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p32, RL_GGML_F32) == RL_OK, "export: %s", rl_last_error());
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p16, RL_GGML_F16) == RL_OK, "export: %s", rl_last_error());
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, pb, RL_GGML_BF16) == RL_OK, "export: %s", rl_last_error());
        e32 = graph_vs_model(&m, p32, seq, 12);
        e16 = graph_vs_model(&m, p16, seq, 12);
        eb = graph_vs_model(&m, pb, seq, 12);
        RLT_CHECK(e32 >= 0 && e32 < 2e-5, "F32: max |graph - model| / max |logit| = %g", e32);
        if (getenv("RLT_VERBOSE")) fprintf(stderr, "  graph vs model: F32 %g, F16 %g, BF16 %g\n", e32, e16, eb);
        RLT_CHECK(e16 >= 0 && e16 < 5e-3, "F16: %g", e16);
        RLT_CHECK(eb >= 0 && eb < 3e-2, "BF16: %g", eb);
        drop(p32);
        drop(p16);
        drop(pb);
    }
    { /* the same graph fed a file without the w1/w2 reorder would not match: the check can fail */
        const char *p = out_path("graph_bad.gguf");
        rl_model m2;
        double e;
        int64_t c;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F32) == RL_OK, "export");
        /* swap RADLADS' r and w token-shift mixes in the model: its logits change, the file's do not */
        if (load_unclamped(&m2)) {
            for (c = 0; c < m2.cfg.hidden_size; c++) {
                float tmp = rl_f32(&m2.blocks[0].mix.maa_r)[c];
                rl_f32(&m2.blocks[0].mix.maa_r)[c] = rl_f32(&m2.blocks[0].mix.maa_w)[c];
                rl_f32(&m2.blocks[0].mix.maa_w)[c] = tmp;
            }
            e = graph_vs_model(&m2, p, seq, 12);
            RLT_CHECK(e > 1e-3, "a wrong group order is detected (%g)", e);
            rl_model_free(&m2);
        }
        drop(p);
    }
    rl_model_free(&m);
    rlt_end();
}

/* ======================================================================= */
/* a RAD-RWKV6 student of the Llama fixture: tied head, no biases, GQA 4:1,  */
/* Llama-3 tokenizer                                                         */

static void test_llama_student(void) {
    rl_model teacher, st;
    rl_student_opts so;
    rl_tokenizer *ltok = NULL;
    exported e;
    rlt_begin("RAD-RWKV6 student of tiny-llama: output.weight = copy of the tied embedding, no biases, KV 1, llama-bpe with add_bos");
    if (rl_model_load(&teacher, LLAMA, 0) != RL_OK || rl_tokenizer_load(&ltok, LLAMA) != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    rl_student_opts_default(&so, RL_MIXER_RWKV6);
    so.r_ts = 8;
    so.r_d = 16;
    so.seed = 7;
    RLT_CHECK(rl_student_from_teacher(&st, &teacher, &so) == RL_OK, "student: %s", rl_last_error());
    { /* give the new parameters non-trivial values so that every transform shows */
        int64_t l, i;
        rl_rng rng;
        rl_rng_seed(&rng, 99);
        for (l = 0; l < st.cfg.n_layers; l++) {
            rl_mixer *x = &st.blocks[l].mix;
            rl_tensor *ts[9];
            int q;
            ts[0] = &x->maa_x, ts[1] = &x->maa_r, ts[2] = &x->maa_k, ts[3] = &x->maa_v, ts[4] = &x->maa_w, ts[5] = &x->maa_g;
            ts[6] = &x->maa_w1, ts[7] = &x->maa_w2, ts[8] = &x->decay_w1;
            for (q = 0; q < 9; q++)
                for (i = 0; i < ts[q]->n; i++) rl_f32(ts[q])[i] = 0.3f * rl_rng_normal(&rng);
            for (i = 0; i < x->decay.n; i++) rl_f32(&x->decay)[i] = -4.0f + 0.1f * rl_rng_normal(&rng);
        }
    }
    memset(&e, 0, sizeof e);
    RLT_CHECK(do_export(&e, &st, ltok, "llama6.gguf", RL_GGML_F16) == RL_OK, "export: %s", rl_last_error());
    if (e.open) {
        float *emb = tensor_f32(&e.g, "token_embd.weight"), *out = tensor_f32(&e.g, "output.weight");
        const rl_gguf_value *v;
        int64_t i, n = st.cfg.vocab_size * st.cfg.hidden_size, diff = 0;
        RLT_CHECK(st.cfg.tie_embeddings, "fixture is tied");
        for (i = 0; emb && out && i < n; i++) diff += !same_f(emb[i], out[i]);
        RLT_CHECK(emb && out && diff == 0, "output.weight equals token_embd.weight (%lld differ)", (long long)diff);
        RLT_CHECK(!rl_gguf_find_tensor(&e.g, "blk.0.time_mix_key.bias") && !rl_gguf_find_tensor(&e.g, "blk.0.time_mix_receptance.bias"), "no biases");
        RLT_CHECK((v = kv_typed(&e.g, "rwkv6qwen2.attention.head_count_kv", RL_GGUF_UINT32)) && v->u == 1, "head_count_kv 1");
        RLT_CHECK(loader_sim(&e.g, "llama student") == 0, "loader accepts it");
        RLT_CHECK(roundtrip(&e.g, &st, RL_GGML_F16, 1, "llama student") == 0, "values round-trip");
        check_types(&e);
        check_vocab(&e.g, &st, ltok, "llama-bpe", "llama student");
        RLT_CHECK(rl_tokenizer_bos(ltok) >= 0, "the Llama-3 tokenizer prepends BOS");
        free(emb);
        free(out);
    }
    close_export(&e);
    {
        const char *p = out_path("llama6_32.gguf");
        double err;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&st, ltok, p, RL_GGML_F32) == RL_OK, "export F32: %s", rl_last_error());
        err = graph_vs_model(&st, p, seq, 12);
        RLT_CHECK(err >= 0 && err < 2e-5, "graph = model with GQA 4:1 and no biases: %g", err);
        drop(p);
    }
    rl_model_free(&st);
    rl_model_free(&teacher);
    rl_tokenizer_free(ltok);
    rlt_end();
}

/* ======================================================================= */
/* no token shift: written exactly as zeros                                 */

static void test_no_shift(void) {
    rl_model m;
    int64_t l;
    rlt_begin("RAD-RWKV6 without token shift: lerp_x, lerp_fused, time_mix_w1/w2 written as zeros; graph = model");
    if (!load_unclamped(&m)) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    m.student.use_tokenshift = 0;
    for (l = 0; l < m.cfg.n_layers; l++) m.blocks[l].mix.cfg.use_tokenshift = 0;
    {
        exported e;
        double err;
        RLT_CHECK(do_export(&e, &m, qtok, "noshift.gguf", RL_GGML_F32) == RL_OK, "export: %s", rl_last_error());
        if (e.open) {
            RLT_CHECK(roundtrip(&e.g, &m, RL_GGML_F32, 0, "no shift") == 0, "zeros where the shift would be, the rest copied");
            RLT_CHECK(loader_sim(&e.g, "no shift") == 0, "loader accepts it");
            err = graph_vs_model(&m, e.path, seq, 12);
            RLT_CHECK(err >= 0 && err < 2e-5, "graph = model: %g", err);
        }
        close_export(&e);
    }
    m.blocks[1].mix.cfg.use_tokenshift = 1;
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, out_path("mixed.gguf"), RL_GGML_F32) == RL_ERR_UNSUPPORTED && rlt_err_has("token shift"),
              "token shift in some layers only: refused (%s)", rl_last_error());
    rl_model_free(&m);
    rlt_end();
}

/* ======================================================================= */
/* BF16/F16 source tensors and the rounding of F16/BF16 output              */

static void test_source_types(void) {
    rl_model m;
    rlt_begin("BF16/F16 model tensors exported exactly; F32 -> F16/BF16 round to nearest even");
    if (rl_model_load(&m, STUDENT, 1) != RL_OK) {
        RLT_CHECK(0, "load: %s", rl_last_error());
        rlt_end();
        return;
    }
    {
        rl_tensor *up = &m.blocks[1].up, *gw = &m.blocks[0].mix.gate_w;
        void *up_f = up->data, *gw_f = gw->data;
        uint16_t *ub = (uint16_t *)malloc(2 * (size_t)up->n), *gh = (uint16_t *)malloc(2 * (size_t)gw->n);
        int64_t i, bad = 0, bad16 = 0;
        rl_gguf g;
        const char *p = out_path("srctypes.gguf");
        for (i = 0; i < up->n; i++) ub[i] = rl_f32_to_bf16(rl_f32(up)[i] * 1.37f);
        for (i = 0; i < gw->n; i++) gh[i] = rl_f32_to_f16(rl_f32(gw)[i] * 0.77f);
        up->data = ub;
        up->dtype = RL_BF16;
        gw->data = gh;
        gw->dtype = RL_F16;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_BF16) == RL_OK, "export: %s", rl_last_error());
        if (rl_gguf_open(&g, p) == RL_OK) {
            const rl_gguf_tensor *t = rl_gguf_find_tensor(&g, "blk.1.ffn_up.weight"), *t2 = rl_gguf_find_tensor(&g, "blk.0.time_mix_gate.weight");
            bad = !t || t->type != RL_GGML_BF16 || memcmp(t->data, ub, 2 * (size_t)up->n) != 0; /* BF16 -> BF16 bit for bit */
            if (t2 && t2->type == RL_GGML_BF16)
                for (i = 0; i < gw->n; i++) {
                    uint16_t h;
                    memcpy(&h, (const unsigned char *)t2->data + 2 * i, 2);
                    bad16 += h != rl_f32_to_bf16(rl_f16_to_f32(gh[i]));
                }
            else
                bad16 = 1;
            rl_gguf_close(&g);
        } else {
            bad = 1;
        }
        RLT_CHECK(!bad, "BF16 source written as BF16 bit for bit");
        RLT_CHECK(!bad16, "F16 source written as BF16 = RNE of its value (%lld differ)", (long long)bad16);
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F32) == RL_OK && rl_gguf_open(&g, p) == RL_OK, "F32 export");
        {
            float *a = tensor_f32(&g, "blk.1.ffn_up.weight");
            int64_t d = 0;
            for (i = 0; a && i < up->n; i++) d += !same_f(a[i], rl_bf16_to_f32(ub[i]));
            RLT_CHECK(a && d == 0, "BF16 source widened exactly in an F32 export");
            free(a);
            rl_gguf_close(&g);
        }
        drop(p);
        up->data = up_f;
        up->dtype = RL_F32;
        gw->data = gw_f;
        gw->dtype = RL_F32;
        free(ub);
        free(gh);
    }
    { /* rounding: ties to even, checked on hand-picked values */
        RLT_CHECK(as_type(1.0f + 1.0f / 2048.0f, RL_GGML_F16) == 1.0f && as_type(1.0f + 3.0f / 2048.0f, RL_GGML_F16) == 1.0f + 2.0f / 1024.0f,
                  "F16 ties to even");
        RLT_CHECK(rl_f32_to_bf16(1.0f + 1.0f / 256.0f) == 0x3F80 && rl_f32_to_bf16(1.0f + 3.0f / 256.0f) == 0x3F82, "BF16 ties to even");
    }
    rl_model_free(&m);
    rlt_end();
}

/* ======================================================================= */
/* refusals                                                                  */

static int marker_kept(const char *p) {
    size_t n;
    unsigned char *b = rlt_read_all(p, &n);
    int ok = b && n == 3 && !memcmp(b, "old", 3);
    free(b);
    return ok && !tmp_left(p);
}

static void test_refusals(void) {
    rl_model teacher, s;
    rl_student_opts so;
    const char *p = out_path("refused.gguf");
    rlt_begin("refusals: RWKV7, hybrid, teacher, RoPE, balance_state 0, GroupNorm, bad wtype, tokenizer too large, F16 overflow, NaN; old file kept");
    remove(p);
    if (rl_model_load(&teacher, QWEN, 0) != RL_OK) {
        RLT_CHECK(0, "teacher: %s", rl_last_error());
        rlt_end();
        return;
    }
    rlt_write_all(p, "old", 3);
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&s, &teacher, &so) == RL_OK) {
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&s, qtok, p, RL_GGML_F16) == RL_ERR_UNSUPPORTED && rlt_err_has("RAD-RWKV7") && rlt_err_has("arwkv7"),
                  "RWKV7 student: %s", rl_last_error());
        RLT_CHECK(rl_export_check_rwkv6qwen2(&s) == RL_ERR_UNSUPPORTED, "check agrees");
        rl_model_free(&s);
    } else {
        RLT_CHECK(0, "RWKV7 student: %s", rl_last_error());
    }
    rl_student_opts_default(&so, RL_MIXER_RWKV6);
    so.keep_attention = 1;
    if (rl_student_from_teacher(&s, &teacher, &so) == RL_OK) {
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&s, qtok, p, RL_GGML_F16) == RL_ERR_UNSUPPORTED && rlt_err_has("hybrid") && rlt_err_has("softmax attention"),
                  "hybrid: %s", rl_last_error());
        rl_model_free(&s);
    } else {
        RLT_CHECK(0, "hybrid student: %s", rl_last_error());
    }
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(&teacher, qtok, p, RL_GGML_F16) == RL_ERR_UNSUPPORTED && rlt_err_has("teacher"), "teacher: %s", rl_last_error());
    {
        struct { int rope, balance; const char *word; } v[2] = {{1, 1, "RoPE"}, {0, 0, "balance_state"}};
        int i;
        for (i = 0; i < 2; i++) {
            rl_student_opts_default(&so, RL_MIXER_RWKV6);
            so.use_rope = v[i].rope;
            so.balance_state = v[i].balance;
            if (rl_student_from_teacher(&s, &teacher, &so) == RL_OK) {
                RLT_CHECK(rl_export_gguf_rwkv6qwen2(&s, qtok, p, RL_GGML_F32) == RL_ERR_UNSUPPORTED && rlt_err_has(v[i].word), "%s: %s", v[i].word, rl_last_error());
                rl_model_free(&s);
            } else {
                RLT_CHECK(0, "student: %s", rl_last_error());
            }
        }
    }
    { /* the library refuses RAD-RWKV6 with GroupNorm itself; a hand-set flag must be refused too */
        rl_model m;
        if (rl_model_load(&m, STUDENT, 0) == RL_OK) {
            m.blocks[1].mix.cfg.groupnorm_att = 1;
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F32) == RL_ERR_UNSUPPORTED && rlt_err_has("GroupNorm") && rlt_err_has("layer 1"),
                      "GroupNorm: %s", rl_last_error());
            m.blocks[1].mix.cfg.groupnorm_att = 0;
            m.blocks[1].mix.cfg.r_d = 7;
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F32) == RL_ERR_UNSUPPORTED && rlt_err_has("LoRA ranks"),
                      "ranks differing between layers: %s", rl_last_error());
            rl_model_free(&m);
        }
    }
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(&student, qtok, p, RL_GGML_Q8_0) == RL_ERR_ARG && rlt_err_has("Q8_0"), "Q8_0 wtype: %s", rl_last_error());
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(&student, NULL, p, RL_GGML_F32) == RL_ERR_ARG && rlt_err_has("tokenizer"), "no tokenizer: %s", rl_last_error());
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(NULL, qtok, p, RL_GGML_F32) == RL_ERR_ARG, "no model");
    { /* a tokenizer with more ids than the embedding has rows */
        const char **toks = (const char **)malloc(sizeof(char *) * 700);
        char (*buf)[16] = (char (*)[16])malloc(16 * 700);
        rl_tokenizer *big = NULL;
        int i;
        for (i = 0; i < 700; i++) {
            snprintf(buf[i], 16, "t%d", i);
            toks[i] = buf[i];
        }
        if (rl_tokenizer_from_vocab(&big, 700, toks, NULL, 0, NULL, RL_PRETOK_QWEN2, -1, 0) == RL_OK) {
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&student, big, p, RL_GGML_F32) == RL_ERR_ARG && rlt_err_has("699") && rlt_err_has("640"),
                      "tokenizer ids beyond the embedding: %s", rl_last_error());
            rl_tokenizer_free(big);
        } else {
            RLT_CHECK(0, "tokenizer from vocab: %s", rl_last_error());
        }
        free(toks);
        free(buf);
    }
    { /* a token spelled like the filler of a hole: llama.cpp aborts on repeated token strings */
        static const char *const toks[4] = {"[PAD3]", "a", "b", "unused"};
        static const int32_t types[4] = {RL_TOKEN_NORMAL, RL_TOKEN_NORMAL, RL_TOKEN_NORMAL, RL_TOKEN_UNUSED};
        rl_tokenizer *t = NULL;
        if (rl_tokenizer_from_vocab(&t, 4, toks, types, 0, NULL, RL_PRETOK_QWEN2, -1, 0) == RL_OK) {
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&student, t, p, RL_GGML_F32) == RL_ERR_ARG && rlt_err_has("tokens 0 and 3") && rlt_err_has("unique"),
                      "repeated token string: %s", rl_last_error());
            rl_tokenizer_free(t);
        } else {
            RLT_CHECK(0, "tokenizer from vocab: %s", rl_last_error());
        }
    }
    RLT_CHECK(marker_kept(p), "nothing written by the refusals above: the old file is untouched");
    { /* refusals found while writing: the old file stays, no .tmp is left */
        rl_model m;
        if (rl_model_load(&m, STUDENT, 1) == RL_OK) {
            float keep = rl_f32(&m.blocks[1].up)[77];
            rl_f32(&m.blocks[1].up)[77] = 1.0e6f;
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F16) == RL_ERR_UNSUPPORTED && rlt_err_has("blk.1.ffn_up.weight") && rlt_err_has("BF16"),
                      "F16 overflow: %s", rl_last_error());
            RLT_CHECK(marker_kept(p), "F16 overflow: old file kept, no .tmp");
            rl_f32(&m.blocks[1].up)[77] = keep;
            rl_f32(&m.blocks[0].mix.maa_w2)[5] = NAN;
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_BF16) == RL_ERR_ARG && rlt_err_has("NaN") && rlt_err_has("time_maa_w2"),
                      "NaN weight: %s", rl_last_error());
            RLT_CHECK(marker_kept(p), "NaN: old file kept, no .tmp");
            rl_f32(&m.blocks[0].mix.maa_w2)[5] = 0;
            RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_BF16) == RL_OK && !marker_kept(p), "a valid export replaces the old file");
            rl_model_free(&m);
        } else {
            RLT_CHECK(0, "load: %s", rl_last_error());
        }
    }
    remove(p);
    rl_model_free(&teacher);
    rlt_end();
}

/* ======================================================================= */
/* the clamp warning                                                         */

static char logged[2048];
static int n_warn;
static void log_cb(void *u, int level, const char *msg) {
    (void)u;
    if (level == RL_LOG_WARN) {
        n_warn++;
        snprintf(logged, sizeof logged, "%s", msg);
    }
}

static void test_clamp_warning(void) {
    rl_model m;
    const char *p = out_path("clamp.gguf");
    rlt_begin("warning where the student's log-decay clamp (-5) can act and llama.cpp's has none");
    rl_set_log(log_cb, NULL);
    n_warn = 0;
    RLT_CHECK(rl_export_gguf_rwkv6qwen2(&student, qtok, p, RL_GGML_F32) == RL_OK, "export");
    RLT_CHECK(n_warn == 1 && strstr(logged, "ln 5") && strstr(logged, "2 of 2 layers"), "warned once for the fixture: %s", logged);
    if (load_unclamped(&m)) {
        n_warn = 0;
        RLT_CHECK(rl_export_gguf_rwkv6qwen2(&m, qtok, p, RL_GGML_F32) == RL_OK && n_warn == 0, "no warning once the decay cannot reach it");
        rl_model_free(&m);
    }
    rl_set_log(NULL, NULL);
    drop(p);
    rlt_end();
}

int main(void) {
    int i;
    static const rl_ggml_type wt[3] = {RL_GGML_F32, RL_GGML_F16, RL_GGML_BF16};
    static const char *const names[3] = {"student_f32.gguf", "student_f16.gguf", "student_bf16.gguf"};
    pool = rl_pool_create(2);
    if (rl_model_load(&student, STUDENT, 0) != RL_OK || rl_tokenizer_load(&qtok, QWEN) != RL_OK) {
        printf("FAIL export: fixtures: %s\n", rl_last_error());
        return 1;
    }
    for (i = 0; i < 3; i++)
        if (do_export(&ex[i], &student, qtok, names[i], wt[i]) != RL_OK) printf("  export %s: %s\n", names[i], rl_last_error());
    rule1();
    rule2();
    rule3();
    rule4();
    rule5();
    rule6();
    rule7();
    test_graph();
    test_llama_student();
    test_no_shift();
    test_source_types();
    test_refusals();
    test_clamp_warning();
    for (i = 0; i < 3; i++) close_export(&ex[i]);
    rl_model_free(&student);
    rl_tokenizer_free(qtok);
    rl_pool_free(pool);
    return rlt_exit();
}
