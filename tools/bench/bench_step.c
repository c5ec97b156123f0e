/* bench_step - where the time of a RADLADS training step goes, per op (RADLADS_PROFILE), with
   the recurrent scans (rl_ctx.scan_chunk = -1, the form before the chunked scans) against
   the default (chunked scans for training), in the same run.
   Model: a random SmolLM2-135M-shaped Llama teacher (d 576, 30 layers, 9 heads of 64, 3 kv
   heads, MLP 1536, vocab 49152, tied head; BF16 weights written to a temporary folder) and
   its RAD-RWKV7 student; random tokens; ctx 512. One warm-up step, then STEPS timed steps
   of stage 1 (attention alignment) and stage 2 (KL distillation).
   Build and run: make bench-step   (env LAYERS, BATCH, STEPS, THREADS override 30, 2, 1, 2;
   RECURRENT=0 skips the recurrent-scan cases, STAGES=1 or 2 runs one stage) */
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int envi(const char *k, int d) {
    const char *e = getenv(k);
    return e && *e ? atoi(e) : d;
}

static int quiet;
static void log_fn(void *u, int level, const char *msg) {
    (void)u;
    if (!quiet && level <= RL_LOG_INFO && !strncmp(msg, "profile:", 8)) printf("    %s\n", msg + 9);
}

enum { D = 576, FF = 1536, NH = 9, NKV = 3, HD = 64, VOCAB = 49152 };

/* write config.json + model.safetensors of a random teacher with `layers` layers */
static int write_teacher(const char *dir, int layers) {
    char path[512], *hdr = (char *)malloc(1 << 20), name[128];
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
        for (i = 0; i < D; i++) buf[i] = rl_f32_to_bf16(1.0f);
        fwrite(buf, 2, D, f);
        free(buf);
    }
    (void)name;
    free(hdr);
    return fclose(f) == 0;
}

int main(void) {
    int layers = envi("LAYERS", 30), batch = envi("BATCH", 2), steps = envi("STEPS", 1), threads = envi("THREADS", 2);
    int recurrent = envi("RECURRENT", 1), stages = envi("STAGES", 3); /* STAGES: 1, 2 or 3 = both */
    char dir[] = "/tmp/radlads_bench_stepXXXXXX", path[600];
    rl_model teacher, student;
    rl_student_opts so;
    rl_tokens data;
    rl_pool *pool = rl_pool_create(threads);
    int stage, form;
    int64_t i;
    rl_rng g;
    if (!mkdtemp(dir) || !write_teacher(dir, layers)) {
        fprintf(stderr, "cannot write the teacher to %s\n", dir);
        return 1;
    }
    setenv("RADLADS_PROFILE", "1", 1);
    rl_set_log(log_fn, NULL);
    if (rl_model_load(&teacher, dir, 0) != RL_OK) {
        fprintf(stderr, "load: %s\n", rl_last_error());
        return 1;
    }
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) {
        fprintf(stderr, "student: %s\n", rl_last_error());
        return 1;
    }
    data.n = (int64_t)513 * 200;
    data.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)data.n);
    rl_rng_seed(&g, 3);
    for (i = 0; i < data.n; i++) data.ids[i] = (int32_t)(rl_rng_u64(&g) % VOCAB);
    printf("# SmolLM2-135M-shaped random teacher (%d layers) -> RAD-RWKV7 student, ctx 512, batch %d, %d thread%s, isa %s\n",
           layers, batch, threads, threads > 1 ? "s" : "", rl_isa_name(rl_isa_active()));
    for (stage = 1; stage <= 2; stage++)
        for (form = 0; form < 2; form++) {
            rl_ctx c;
            rl_stage_opts o;
            double t0, dt;
            rl_status st;
            if ((form == 0 && !recurrent) || !(stages & stage)) continue;
            rl_stage_opts_default(&o, stage);
            o.ctx = 512;
            o.batch = o.micro_batch = batch;
            o.tokens = (int64_t)100 * batch * 512;
            o.heldout = 0.01;
            o.max_steps = 1;
            rl_ctx_init(&c, pool);
            c.scan_chunk = form == 0 ? -1 : 0;
            quiet = 1;
            st = rl_train_stage(&c, &student, stage == 1 ? &teacher : &teacher, &data, &o); /* warm-up step */
            rl_profile_report(&c); /* (cleared, not shown) */
            quiet = 0;
            o.max_steps = steps;
            t0 = now();
            if (st == RL_OK) st = rl_train_stage(&c, &student, &teacher, &data, &o);
            dt = now() - t0;
            if (st != RL_OK) {
                fprintf(stderr, "stage %d: %s\n", stage, rl_last_error());
                return 1;
            }
            printf("\n## stage %d, %s scans: %.1f s per step, %.0f tok/s\n\n    per-op times of %d step%s:\n", stage,
                   form == 0 ? "recurrent (before)" : "chunked (default, after)", dt / steps, (double)steps * batch * 512 / dt,
                   steps, steps > 1 ? "s" : "");
            rl_profile_report(&c);
            quiet = 1;
            rl_ctx_free(&c);
            quiet = 0;
            fflush(stdout);
        }
    rl_model_free(&student);
    rl_model_free(&teacher);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    remove(path);
    rmdir(dir);
    free(data.ids);
    rl_pool_free(pool);
    return 0;
}
