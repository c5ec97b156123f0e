/* Held-out scoring: the split covers every token after the training slots (the tail too),
   --heldout-docs moves its start to a document boundary, a limited evaluation draws its
   windows from the whole split with a fixed seed (never the first N), and rl_eval_ppl is the
   mean NLL per scored token over exactly those windows. */
#include "../radlads.h"
#include "rl_test.h"

static void test_split(void) {
    rl_tokens t;
    rl_loader L;
    int64_t i, *idx = NULL, *idx2 = NULL, n = 0, n2 = 0, sum = 0;
    int sorted = 1, distinct = 1, same = 1, first = 1;
    rlt_begin("held-out split: the whole rest of the stream, document starts, fixed-seed window draws");
    t.n = 10050; /* 100 slots of 100 (+1) and a tail */
    t.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)t.n);
    for (i = 0; i < t.n; i++) t.ids[i] = (int32_t)(i % 7 == 3 ? 7 : i % 5); /* 7: a document separator */
    RLT_CHECK(rl_loader_init(&L, &t, 100, 0.1) == RL_OK, "init");
    RLT_CHECK(L.n_train == 90 && L.heldout_begin == 9000 && L.heldout_end == 10050, "split [%lld, %lld)", (long long)L.heldout_begin,
              (long long)L.heldout_end);
    RLT_CHECK(L.n_heldout == 11, "windows over 1049 targets: %lld", (long long)L.n_heldout);
    for (i = 0; i < L.n_heldout; i++) sum += rl_loader_heldout_len(&L, i);
    RLT_CHECK(sum == 10050 - 9000 - 1, "every held-out target once: %lld", (long long)sum);
    RLT_CHECK(rl_loader_heldout_len(&L, 10) == 49 && rl_loader_heldout(&L, 10) == t.ids + 10000, "the tail window");
    RLT_CHECK(rl_loader_heldout_docs(&L, 7) == RL_OK && L.heldout_begin == 9005 && t.ids[L.heldout_begin] == 7 && L.n_heldout == 11,
              "starts at the first separator at or after the training slots: %lld", (long long)L.heldout_begin);
    RLT_CHECK(rl_loader_heldout_docs(&L, 99) == RL_ERR_ARG, "no separator: an error");
    RLT_CHECK(rl_loader_init(&L, &t, 100, 0) == RL_OK && L.n_heldout == 0 && L.n_train == 100, "no held-out fraction, no split");
    RLT_CHECK(rl_eval_windows(&L, 0, &idx, &n) == RL_ERR_ARG, "nothing to evaluate: an error");
    rl_free(idx);
    t.n = 100001;
    t.ids = (int32_t *)realloc(t.ids, sizeof(int32_t) * (size_t)t.n);
    for (i = 0; i < t.n; i++) t.ids[i] = (int32_t)i;
    rl_loader_init(&L, &t, 10, 0.5); /* 5000 held-out windows */
    RLT_CHECK(rl_eval_windows(&L, 0, &idx, &n) == RL_OK && n == L.n_heldout && idx[0] == 0 && idx[n - 1] == n - 1, "0: all windows");
    rl_free(idx);
    RLT_CHECK(rl_eval_windows(&L, 99999, &idx, &n) == RL_OK && n == L.n_heldout, "more than there are: all");
    rl_free(idx);
    RLT_CHECK(rl_eval_windows(&L, 16, &idx, &n) == RL_OK && n == 16, "16 windows");
    RLT_CHECK(rl_eval_windows(&L, 16, &idx2, &n2) == RL_OK && n2 == 16, "again");
    for (i = 0; i < 16; i++) {
        if (i) sorted &= idx[i - 1] < idx[i], distinct &= idx[i - 1] != idx[i];
        same &= idx[i] == idx2[i];
        first &= idx[i] == i;
        RLT_CHECK(idx[i] >= 0 && idx[i] < L.n_heldout, "in range");
    }
    RLT_CHECK(sorted && distinct && same && !first, "ascending, distinct, the same every time, not the first 16");
    RLT_CHECK(idx[15] > L.n_heldout / 2 && idx[0] < L.n_heldout / 2, "spread over the split (%lld..%lld of %lld)", (long long)idx[0],
              (long long)idx[15], (long long)L.n_heldout);
    rl_free(idx);
    rl_free(idx2);
    free(t.ids);
    rlt_end();
}

/* rl_eval_ppl = mean NLL per token over the chosen windows, computed here window by window */
static void test_ppl(void) {
    rl_model m;
    rl_tokens t;
    rl_loader L;
    rl_ctx c;
    int64_t i, *idx, n, tok = 0;
    double nll, kl, top1, sum = 0;
    rlt_begin("held-out perplexity: per scored token over the whole split (tail window included), or over the drawn windows");
    if (rl_model_load(&m, "tests/fixtures/tiny-llama", 0) != RL_OK) {
        RLT_CHECK(0, "tiny-llama: %s", rl_last_error());
        rlt_end();
        return;
    }
    t.n = 700;
    t.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)t.n);
    for (i = 0; i < t.n; i++) t.ids[i] = (int32_t)((i * 37 + i / 11) % m.cfg.vocab_size);
    rl_ctx_init(&c, NULL);
    rl_loader_init(&L, &t, 32, 0.3); /* 21 slots: 15 train, the rest (219 targets) held out */
    for (int pass = 0; pass < 2; pass++) {
        int64_t k = pass ? 3 : 0;
        sum = 0, tok = 0;
        rl_eval_windows(&L, k, &idx, &n);
        for (i = 0; i < n; i++) {
            rl_forward_opts fo;
            rl_tensor *lg, *ce;
            const int32_t *w = rl_loader_heldout(&L, idx[i]);
            memset(&fo, 0, sizeof fo);
            fo.B = 1;
            fo.T = rl_loader_heldout_len(&L, idx[i]);
            rl_ctx_reset(&c);
            rl_no_grad_push(&c);
            lg = rl_model_forward(&c, &m, w, &fo);
            ce = rl_cross_entropy(&c, lg, w + 1);
            rl_no_grad_pop(&c);
            sum += rl_f32(ce)[0] * (double)fo.T;
            tok += fo.T;
        }
        rl_free(idx);
        RLT_CHECK(rl_eval_ppl(&c, &m, &L, k, &nll) == RL_OK, "eval");
        RLT_CLOSE(nll, sum / (double)tok, 1e-9, 1e-6, "%s", pass ? "3 drawn windows" : "whole split");
        if (!pass) RLT_CHECK(tok == 700 - 15 * 32 - 1, "every held-out target scored: %lld", (long long)tok);
    }
    RLT_CHECK(rl_eval_compare(&c, &m, &m, &L, 0, &kl, &top1) == RL_OK && fabs(kl) < 1e-6 && top1 == 1.0, "a model against itself: KL 0, top-1 1");
    rl_ctx_free(&c);
    free(t.ids);
    rl_model_free(&m);
    rlt_end();
}

int main(void) {
    test_split();
    test_ppl();
    return rlt_exit();
}
