/* What every benchmark program here starts with: the implementation, compiled into it, and a
   monotonic clock. Include it first. */
#ifndef RL_BENCH_H
#define RL_BENCH_H
#ifndef AB_H /* (in an ab_*.c side, ab.h has included that side's radlads.h, and has now()) */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#ifndef AB_H
static __attribute__((unused)) double now(void) { /* seconds */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif
/* The shape of a random Llama-architecture teacher (tied head) for the step benchmarks */
typedef struct {
    const char *name;
    int d, ff, heads, kv_heads, head_dim, vocab, layers;
} bench_shape;
static __attribute__((unused)) const bench_shape bench_smollm2 = {"SmolLM2-135M", 576, 1536, 9, 3, 64, 49152, 30};
static __attribute__((unused)) const bench_shape bench_qwen05 = {"Qwen2.5-0.5B", 896, 4864, 14, 2, 64, 151936, 24};

/* write config.json + model.safetensors of a random teacher of shape s with `layers` layers
   (BF16 weights N(0, 0.02), norms 1) */
static __attribute__((unused)) int bench_write_teacher(const char *dir, const bench_shape *s, int layers) {
    const int D = s->d, FF = s->ff, NH = s->heads, NKV = s->kv_heads, HD = s->head_dim, VOCAB = s->vocab;
    char path[512], *hdr = (char *)malloc(1 << 20);
    size_t hl = 0, off = 0;
    int64_t shapes[16][2];
    const char *names[16];
    int per = 0, l, q;
    FILE *f;
    rl_rng g;
    uint64_t n8;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(f = fopen(path, "w"))) return 0;
    fprintf(f, "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": %d, "
               "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d, "
               "\"num_key_value_heads\": %d, \"head_dim\": %d, \"vocab_size\": %d, \"rms_norm_eps\": 1e-05, "
               "\"rope_theta\": 100000.0, \"max_position_embeddings\": 8192, \"tie_word_embeddings\": true, "
               "\"hidden_act\": \"silu\", \"attention_bias\": false, \"bos_token_id\": 1, \"eos_token_id\": 2, "
               "\"torch_dtype\": \"bfloat16\"}\n", D, FF, layers, NH, NKV, HD, VOCAB);
    fclose(f);
    /* per-layer tensors */
    names[per] = "input_layernorm.weight"; shapes[per][0] = D; shapes[per++][1] = 0;
    names[per] = "self_attn.q_proj.weight"; shapes[per][0] = NH * HD; shapes[per++][1] = D;
    names[per] = "self_attn.k_proj.weight"; shapes[per][0] = NKV * HD; shapes[per++][1] = D;
    names[per] = "self_attn.v_proj.weight"; shapes[per][0] = NKV * HD; shapes[per++][1] = D;
    names[per] = "self_attn.o_proj.weight"; shapes[per][0] = D; shapes[per++][1] = NH * HD;
    names[per] = "post_attention_layernorm.weight"; shapes[per][0] = D; shapes[per++][1] = 0;
    names[per] = "mlp.gate_proj.weight"; shapes[per][0] = FF; shapes[per++][1] = D;
    names[per] = "mlp.up_proj.weight"; shapes[per][0] = FF; shapes[per++][1] = D;
    names[per] = "mlp.down_proj.weight"; shapes[per][0] = D; shapes[per++][1] = FF;
    hl += (size_t)sprintf(hdr + hl, "{\"model.embed_tokens.weight\": {\"dtype\": \"BF16\", \"shape\": [%d, %d], \"data_offsets\": [0, %zu]}",
                          VOCAB, D, (size_t)VOCAB * D * 2);
    off = (size_t)VOCAB * D * 2;
    for (l = 0; l < layers; l++)
        for (q = 0; q < per; q++) {
            size_t n = (size_t)shapes[q][0] * (size_t)(shapes[q][1] ? shapes[q][1] : 1) * 2;
            if (shapes[q][1])
                hl += (size_t)sprintf(hdr + hl, ", \"model.layers.%d.%s\": {\"dtype\": \"BF16\", \"shape\": [%lld, %lld], \"data_offsets\": [%zu, %zu]}",
                                      l, names[q], (long long)shapes[q][0], (long long)shapes[q][1], off, off + n);
            else
                hl += (size_t)sprintf(hdr + hl, ", \"model.layers.%d.%s\": {\"dtype\": \"BF16\", \"shape\": [%lld], \"data_offsets\": [%zu, %zu]}",
                                      l, names[q], (long long)shapes[q][0], off, off + n);
            off += n;
        }
    hl += (size_t)sprintf(hdr + hl, ", \"model.norm.weight\": {\"dtype\": \"BF16\", \"shape\": [%d], \"data_offsets\": [%zu, %zu]}}",
                          D, off, off + (size_t)D * 2);
    while (hl % 8) hdr[hl++] = ' ';
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!(f = fopen(path, "wb"))) return 0;
    n8 = hl;
    fwrite(&n8, 8, 1, f);
    fwrite(hdr, 1, hl, f);
    rl_rng_seed(&g, 5);
    {
        uint16_t *buf = (uint16_t *)malloc(sizeof(uint16_t) * (size_t)VOCAB * D);
        size_t i, n;
        for (i = 0; i < (size_t)VOCAB * D; i++) buf[i] = rl_f32_to_bf16(0.02f * rl_rng_normal(&g));
        fwrite(buf, 2, (size_t)VOCAB * D, f);
        for (l = 0; l < layers; l++)
            for (q = 0; q < per; q++) {
                n = (size_t)shapes[q][0] * (size_t)(shapes[q][1] ? shapes[q][1] : 1);
                for (i = 0; i < n; i++) buf[i] = rl_f32_to_bf16(shapes[q][1] ? 0.02f * rl_rng_normal(&g) : 1.0f);
                fwrite(buf, 2, n, f);
            }
        for (i = 0; i < (size_t)D; i++) buf[i] = rl_f32_to_bf16(1.0f);
        fwrite(buf, 2, D, f);
        free(buf);
    }
    free(hdr);
    return fclose(f) == 0;
}
/* remove what bench_write_teacher wrote */
/* the step benchmarks' stage: ctx 512, `batch` sequences a step, one step per call */
static __attribute__((unused)) void bench_stage_opts(rl_stage_opts *o, int stage, int batch) {
    rl_stage_opts_default(o, stage);
    o->ctx = 512;
    o->batch = o->micro_batch = batch;
    o->tokens = (int64_t)100 * batch * 512;
    o->heldout = 0.01;
    o->max_steps = 1;
}
/* their data: 200 windows of random tokens (seed 3); 0 when out of memory */
static __attribute__((unused)) int bench_tokens(rl_tokens *d, int vocab) {
    rl_rng g;
    int64_t i;
    d->n = (int64_t)513 * 200;
    if (!(d->ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)d->n))) return 0;
    rl_rng_seed(&g, 3);
    for (i = 0; i < d->n; i++) d->ids[i] = (int32_t)(rl_rng_u64(&g) % (uint64_t)vocab);
    return 1;
}

static __attribute__((unused)) void bench_remove_teacher(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    remove(path);
    rmdir(dir);
}
#endif
