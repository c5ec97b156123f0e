/* llamacpp_ppl - perplexity the way llama.cpp's llama-perplexity computes it, with this
   library (dev tool for tools/ref/check_llamacpp.sh; not part of make test).

     cc -O2 -o build/llamacpp_ppl tools/ref/llamacpp_ppl.c -lm -lpthread
     build/llamacpp_ppl MODEL TEXTFILE CTX CHUNKS

   MODEL: a .gguf file or a Hugging Face folder. The recipe (llama.cpp tools/perplexity,
   perplexity()): the whole file tokenized once with add_special (BOS in front when the
   vocabulary adds one); chunk i = tokens [i·CTX, (i+1)·CTX), its first token replaced by
   BOS when add_bos; states reset per chunk; the tokens after positions CTX/2 .. CTX−2 are
   scored (CTX/2 − 1 per chunk); ppl = exp(mean NLL). Prints the running ppl per chunk as
   llama-perplexity does ("[1]x,[2]y,...") and then "ppl P nll N count K". */
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#include <stdio.h>
#include <stdlib.h>

static int is_gguf(const char *p) {
    size_t n = strlen(p);
    return n > 5 && !strcmp(p + n - 5, ".gguf");
}

int main(int argc, char **argv) {
    rl_model m;
    rl_tokenizer *tok = NULL;
    rl_pool *pool;
    rl_ctx c;
    char *text;
    long len;
    FILE *f;
    int32_t *ids = NULL, *chunk;
    int64_t n_ids = 0, ctx, n_chunks, i, j, count = 0;
    double nll = 0;
    if (argc != 5) {
        fprintf(stderr, "usage: llamacpp_ppl MODEL TEXTFILE CTX CHUNKS\n");
        return 2;
    }
    ctx = atoll(argv[3]);
    n_chunks = atoll(argv[4]);
    if (ctx < 4 || n_chunks < 1) return 2;
    if ((is_gguf(argv[1]) ? rl_model_load_gguf(&m, argv[1]) : rl_model_load(&m, argv[1], 0)) != RL_OK) {
        fprintf(stderr, "%s\n", rl_last_error());
        return 1;
    }
    if (is_gguf(argv[1])) {
        rl_gguf g;
        if (rl_gguf_open(&g, argv[1]) != RL_OK || rl_tokenizer_from_gguf(&tok, &g) != RL_OK) {
            fprintf(stderr, "%s\n", rl_last_error());
            return 1;
        }
        rl_gguf_close(&g);
    } else if (rl_tokenizer_load(&tok, argv[1]) != RL_OK) {
        fprintf(stderr, "%s\n", rl_last_error());
        return 1;
    }
    if (!(f = fopen(argv[2], "rb"))) return 1;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = (char *)malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) return 1;
    fclose(f);
    if (rl_tokenizer_encode(tok, text, (size_t)len, 1, &ids, &n_ids) != RL_OK) {
        fprintf(stderr, "%s\n", rl_last_error());
        return 1;
    }
    if (n_chunks > n_ids / ctx) n_chunks = n_ids / ctx;
    pool = rl_pool_create(0);
    rl_ctx_init(&c, pool);
    c.no_grad = 1;
    chunk = (int32_t *)malloc(sizeof(int32_t) * (size_t)ctx);
    fprintf(stderr, "%lld tokens, %lld chunks of %lld, add_bos %d\n", (long long)n_ids, (long long)n_chunks, (long long)ctx,
            rl_tokenizer_bos(tok) >= 0 && n_ids > 0 && ids[0] == rl_tokenizer_bos(tok));
    for (i = 0; i < n_chunks; i++) {
        rl_forward_opts o;
        rl_tensor *y;
        int64_t V = m.cfg.vocab_size;
        memcpy(chunk, ids + i * ctx, sizeof(int32_t) * (size_t)ctx);
        if (rl_tokenizer_bos(tok) >= 0 && ids[0] == rl_tokenizer_bos(tok)) chunk[0] = rl_tokenizer_bos(tok);
        rl_ctx_reset(&c);
        memset(&o, 0, sizeof o);
        o.B = 1;
        o.T = ctx;
        if (!(y = rl_model_forward(&c, &m, chunk, &o))) {
            fprintf(stderr, "%s\n", rl_last_error());
            return 1;
        }
        for (j = ctx / 2; j < ctx - 1; j++) {
            const float *l = rl_f32(y) + j * V;
            double mx = l[0], s = 0;
            int64_t v;
            for (v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
            for (v = 0; v < V; v++) s += exp((double)l[v] - mx);
            nll += mx + log(s) - l[ids[i * ctx + j + 1]];
            count++;
        }
        printf("[%lld]%.4f,", (long long)(i + 1), exp(nll / (double)count));
        fflush(stdout);
    }
    printf("\nppl %.6f nll %.8f count %lld\n", exp(nll / (double)count), nll / (double)count, (long long)count);
    return 0;
}
