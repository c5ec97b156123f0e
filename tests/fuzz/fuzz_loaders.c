/* libFuzzer targets for the loaders that had none (issue 14), one per build:
     -DFZ_JSONL      rl_tokens_from_text on a .jsonl file ({"text": ...} per line)
     -DFZ_LLMC       rl_tokens_load_llmc (llm.c token file)
     -DFZ_BINIDX     rl_tokens_load_binidx (input = 2-byte little-endian .idx length, .idx, .bin)
     -DFZ_LMEVAL     rl_eval_task_ex: the lm-eval task reader (first byte picks the task), scored
                     with tiny-llama's tokenizer and a one-layer d_model-8 model (max_length 32,
                     3 documents)
     -DFZ_SHARDS     rl_st_open_dir on a folder whose model.safetensors.index.json is the input,
                     beside the three shards of tests/fixtures/tiny-llama-sharded
     -DFZ_CKPT       checkpoint metadata and contents: the resume checks and the checkpoint
                     loader of section 7 on a safetensors file, into a tiny RAD-RWKV7 student
     -DFZ_GGUF_TOK   rl_tokenizer_from_gguf on a GGUF file in memory, then encode/decode
   Properties: a refusal is a status of the kind the loader documents, with a message that
   names the file; an accepted input gives results within bounds (token ids < vocab, counts
   that match the file, counters in range). Run from the repository root (fixtures are read
   from tests/fixtures). Build and run: tests/fuzz/run_loaders.sh [SECONDS]. With
   RL_FUZZ_SEEDS=DIR set, the FZ_CKPT build writes seed checkpoints into DIR and exits. */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

static char fz_dir[256];
static void fz_tmpdir(void) {
    if (fz_dir[0]) return;
    snprintf(fz_dir, sizeof fz_dir, "%s/rl_fuzz.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    mkdir(fz_dir, 0700);
}
static __attribute__((unused)) void fz_write(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    fz_check(f != NULL);
    if (n) fz_check(fwrite(d, 1, n, f) == n);
    fclose(f);
}
static __attribute__((unused)) int fz_names(const char *path) { return strstr(rl_last_error(), path) != NULL; }

#if defined(FZ_JSONL) || defined(FZ_LMEVAL)
static rl_tokenizer *fz_tok;
#endif
#if defined(FZ_LMEVAL)
static rl_model fz_model;
static rl_ctx fz_ctx;
#endif

#if defined(FZ_CKPT) || defined(FZ_LMEVAL)
/* a tiny Llama teacher (d_model 8, one layer, `vocab` tokens) written to fz_dir/teacher and
   loaded into *m: fast enough to score thousands of inputs a second */
static void fz_tiny_teacher(rl_model *m, int vocab) {
    static const char *names[] = {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                                  "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
                                  "model.layers.0.self_attn.o_proj.weight", "model.layers.0.post_attention_layernorm.weight",
                                  "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
                                  "model.norm.weight"};
    int rows[11] = {0, 0, 8, 4, 4, 8, 0, 8, 8, 8, 0};
    float *w[11];
    rl_st_entry e[11];
    char path[400], cfg[600];
    int i, j;
    rl_rng g;
    rows[0] = vocab;
    rl_rng_seed(&g, 1);
    snprintf(path, sizeof path, "%s/teacher", fz_dir);
    mkdir(path, 0700);
    snprintf(cfg, sizeof cfg, "{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":%d,\"hidden_size\":8,\"intermediate_size\":8,"
             "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"tie_word_embeddings\":true,"
             "\"eos_token_id\":1,\"bos_token_id\":0,\"max_position_embeddings\":64}", vocab);
    snprintf(path, sizeof path, "%s/teacher/config.json", fz_dir);
    fz_write(path, (const uint8_t *)cfg, strlen(cfg));
    memset(e, 0, sizeof e);
    for (i = 0; i < 11; i++) {
        int n = (rows[i] ? rows[i] : 1) * 8;
        w[i] = (float *)malloc(sizeof(float) * (size_t)n);
        for (j = 0; j < n; j++) w[i][j] = rows[i] ? 0.3f * rl_rng_normal(&g) : 1.0f;
        e[i].name = names[i];
        e[i].dtype = RL_F32;
        e[i].ndim = rows[i] ? 2 : 1;
        e[i].shape[0] = rows[i] ? rows[i] : 8;
        e[i].shape[1] = 8;
        e[i].data = w[i];
    }
    snprintf(path, sizeof path, "%s/teacher/model.safetensors", fz_dir);
    fz_check(rl_st_write(path, e, 11, NULL, 0) == RL_OK);
    for (i = 0; i < 11; i++) free(w[i]);
    snprintf(path, sizeof path, "%s/teacher", fz_dir);
    fz_check(rl_model_load(m, path, 0) == RL_OK);
}
#endif

#if defined(FZ_CKPT)
static rl_model fz_teacher, fz_student;
static rl_adamw fz_opt[3];
static rl_tokens fz_data;
static rl_stage_opts fz_o;
static rl__run_id fz_id;
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_tmpdir();
#if defined(FZ_JSONL) || defined(FZ_LMEVAL)
    fz_check(rl_tokenizer_load(&fz_tok, "tests/fixtures/tiny-llama/tokenizer.json") == RL_OK);
#endif
#if defined(FZ_LMEVAL)
    fz_tiny_teacher(&fz_model, rl_tokenizer_vocab_size(fz_tok));
    rl_ctx_init(&fz_ctx, NULL);
#endif
#if defined(FZ_SHARDS)
    {
        int i;
        for (i = 1; i <= 3; i++) {
            char from[4400], to[400], cwd[4096];
            fz_check(getcwd(cwd, sizeof cwd) != NULL);
            snprintf(from, sizeof from, "%s/tests/fixtures/tiny-llama-sharded/model-0000%d-of-00003.safetensors", cwd, i);
            snprintf(to, sizeof to, "%s/model-0000%d-of-00003.safetensors", fz_dir, i);
            unlink(to);
            fz_check(symlink(from, to) == 0);
        }
    }
#endif
#if defined(FZ_CKPT)
    {
        int64_t i;
        const char *seeds = getenv("RL_FUZZ_SEEDS");
        rl_student_opts so;
        fz_tiny_teacher(&fz_teacher, 8);
        rl_student_opts_default(&so, RL_MIXER_RWKV7);
        fz_check(rl_student_from_teacher(&fz_student, &fz_teacher, &so) == RL_OK);
        fz_check(rl_adamw_init(&fz_opt[1], &fz_student, RL_TRAIN_MIXERS) == RL_OK);
        fz_check(rl_adamw_init(&fz_opt[2], &fz_student, RL_TRAIN_ALL) == RL_OK);
        fz_data.n = 200;
        fz_data.ids = (int32_t *)malloc(sizeof(int32_t) * 200);
        for (i = 0; i < 200; i++) fz_data.ids[i] = (int32_t)(i * 7 % 8);
        rl_stage_opts_default(&fz_o, 2);
        fz_o.ctx = 8;
        fz_o.batch = 2;
        rl__run_identity(&fz_id, &fz_student, &fz_teacher, &fz_data, &fz_o);
        if (seeds) { /* a checkpoint of each stage, as rl_train_stage writes them */
            char p[600];
            snprintf(p, sizeof p, "%s/stage1.safetensors", seeds);
            fz_check(rl__save_checkpoint(p, &fz_student, &fz_opt[1], 1, 3, 48, &fz_id) == RL_OK);
            snprintf(p, sizeof p, "%s/stage2.safetensors", seeds);
            fz_check(rl__save_checkpoint(p, &fz_student, &fz_opt[2], 2, 5, 80, &fz_id) == RL_OK);
            exit(0);
        }
    }
#endif
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[400];
    rl_status s;
#if defined(FZ_JSONL)
    rl_tokens t;
    int64_t i;
    snprintf(path, sizeof path, "%s/in.jsonl", fz_dir);
    fz_write(path, data, size);
    s = rl_tokens_from_text(&t, fz_tok, path, 1);
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED || s == RL_ERR_ARG);
        fz_check(fz_names(path) || strstr(rl_last_error(), "jsonl"));
        fz_check(t.ids == NULL && t.n == 0);
        return 0;
    }
    for (i = 0; i < t.n; i++) fz_check(t.ids[i] >= 0 && t.ids[i] < rl_tokenizer_vocab_size(fz_tok));
    rl_tokens_free(&t);
#elif defined(FZ_LLMC)
    rl_tokens t;
    snprintf(path, sizeof path, "%s/in.bin", fz_dir);
    fz_write(path, data, size);
    s = rl_tokens_load_llmc(&t, path);
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT && fz_names(path) && t.ids == NULL);
        return 0;
    }
    fz_check(size >= 1024 && (size_t)t.n * (data[4] == 1 ? 2 : 4) + 1024 == size);
    rl_tokens_free(&t);
#elif defined(FZ_BINIDX)
    rl_tokens t;
    size_t li;
    char prefix[400];
    if (size < 2) return 0;
    li = (size_t)(data[0] | data[1] << 8);
    if (li > size - 2) li = size - 2;
    snprintf(prefix, sizeof prefix, "%s/in", fz_dir);
    snprintf(path, sizeof path, "%s.idx", prefix);
    fz_write(path, data + 2, li);
    snprintf(path, sizeof path, "%s.bin", prefix);
    fz_write(path, data + 2 + li, size - 2 - li);
    s = rl_tokens_load_binidx(&t, prefix);
    if (s != RL_OK) {
        fz_check((s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED) && fz_names(prefix) && t.ids == NULL);
        return 0;
    }
    fz_check(t.n >= 0 && (size_t)t.n <= size);
    rl_tokens_free(&t);
#elif defined(FZ_LMEVAL)
    static const char *tasks[] = {"auto", "hellaswag", "piqa", "arc_easy", "winogrande", "lambada_openai"};
    rl_lmeval_opts o;
    rl_mc_result r;
    if (size < 1) return 0;
    snprintf(path, sizeof path, "%s/task.jsonl", fz_dir);
    fz_write(path, data + 1, size - 1);
    rl_lmeval_opts_default(&o);
    o.max_length = 32;
    s = rl_eval_task_ex(&fz_ctx, &fz_model, fz_tok, path, tasks[data[0] % 6], 3, &o, &r);
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_ARG || s == RL_ERR_UNSUPPORTED);
        fz_check(fz_names(path));
        return 0;
    }
    fz_check(r.n >= 1 && r.n <= 3 && r.acc >= 0 && r.acc <= 1);
#elif defined(FZ_SHARDS)
    rl_st st;
    int i;
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", fz_dir);
    fz_write(path, data, size);
    s = rl_st_open_dir(&st, fz_dir);
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED || s == RL_ERR_IO);
        fz_check(strstr(rl_last_error(), fz_dir) != NULL);
        return 0;
    }
    for (i = 0; i < rl_st_count(&st); i++) fz_check(rl_st_find(&st, rl_st_at(&st, i)->name) == rl_st_at(&st, i));
    rl_st_close(&st);
#elif defined(FZ_CKPT)
    int stage;
    snprintf(path, sizeof path, "%s/ckpt.safetensors", fz_dir);
    fz_write(path, data, size);
    for (stage = 1; stage <= 2; stage++) {
        int64_t step = -7;
        s = rl__check_run_id(path, stage, &fz_id, 0, 100);
        if (s != RL_OK) {
            fz_check((s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED || s == RL_ERR_STATE) && fz_names(path));
            continue;
        }
        s = rl__load_checkpoint(path, &fz_student, &fz_opt[stage], stage, &step);
        if (s != RL_OK) {
            fz_check((s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED) && strstr(rl_last_error(), "ckpt.safetensors"));
            continue;
        }
        fz_check(step >= 0 && step <= 100 && fz_opt[stage].step >= 0 && fz_opt[stage].step <= step);
    }
#elif defined(FZ_GGUF_TOK)
    rl_gguf g;
    rl_tokenizer *tok = NULL;
    (void)path;
    if (rl_gguf_open_memory(&g, data, size, "fuzz.gguf") != RL_OK) return 0;
    s = rl_tokenizer_from_gguf(&tok, &g);
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED);
        fz_check(strstr(rl_last_error(), "fuzz.gguf") != NULL || strstr(rl_last_error(), "tokenizer") != NULL);
        fz_check(tok == NULL);
    } else {
        int32_t *ids = NULL;
        int64_t n = 0, i;
        char *text = NULL;
        size_t len = 0;
        static const char sample[] = "Hello, world! 123 \xc3\xa9t\xc3\xa9 <|endoftext|>";
        if (rl_tokenizer_encode(tok, sample, sizeof sample - 1, 1, &ids, &n) == RL_OK) {
            for (i = 0; i < n; i++) fz_check(ids[i] >= 0 && ids[i] < rl_tokenizer_vocab_size(tok));
            if (rl_tokenizer_decode(tok, ids, n, 0, &text, &len) == RL_OK) RL_FREE(text);
            RL_FREE(ids);
        }
        rl_tokenizer_free(tok);
    }
    rl_gguf_close(&g);
#endif
    return 0;
}
