/* libFuzzer target: the safetensors reader (in memory) on arbitrary bytes.
   Build and run through tests/fuzz/run.sh. When a file is accepted: every tensor's data lies
   inside the input, the tensors tile the data section, every tensor converts through
   rl_st_read_f32/rl_st_read_i32 where its dtype allows, and writing the accepted tensors
   back (rl_st_serialize) gives a file that reads back to the same tensors. */
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"

static void fz_check(int cond) {
    if (!cond) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rl_st st, back;
    rl_st_entry *es;
    unsigned char *img;
    size_t len;
    uint64_t total = 0;
    int i, n, all_supported = 1;
    rl_status s = rl_st_open_memory(&st, data, size, "fuzz.safetensors");
    if (s != RL_OK) {
        fz_check(s == RL_ERR_FORMAT || s == RL_ERR_UNSUPPORTED);
        fz_check(strstr(rl_last_error(), "fuzz.safetensors") != NULL);
        fz_check(st.n_tensors == 0 && st.files == NULL);
        rl_st_close(&st);
        return 0;
    }
    n = rl_st_count(&st);
    es = (rl_st_entry *)calloc((size_t)(n ? n : 1), sizeof *es);
    for (i = 0; i < n; i++) {
        const rl_st_tensor *t = rl_st_at(&st, i);
        const unsigned char *p = (const unsigned char *)t->data;
        fz_check(p >= data && p + t->nbytes <= data + size);
        fz_check(rl_st_find(&st, t->name) == t);
        total += t->nbytes;
        if (t->n <= (1 << 20)) {
            void *buf = malloc((size_t)t->n * 4 + 4);
            rl_st_read_f32(&st, t->name, (float *)buf, t->ndim, t->shape);
            rl_st_read_i32(&st, t->name, (int32_t *)buf, t->ndim, t->shape);
            free(buf);
        }
        es[i].name = t->name;
        es[i].dtype = t->dtype;
        es[i].ndim = t->ndim;
        memcpy(es[i].shape, t->shape, sizeof t->shape);
        es[i].data = t->data;
        all_supported &= t->supported;
    }
    fz_check(size >= 8 && total <= size - 8);
    if (all_supported) {
        s = rl_st_serialize(es, n, NULL, 0, &img, &len);
        fz_check(s == RL_OK); /* whatever the reader accepts, the writer can write */
        {
            fz_check(rl_st_open_memory(&back, img, len, "back") == RL_OK && rl_st_count(&back) == n);
            for (i = 0; i < n; i++) {
                const rl_st_tensor *a = rl_st_at(&st, i), *b = rl_st_at(&back, i);
                fz_check(!strcmp(a->name, b->name) && a->dtype == b->dtype && a->nbytes == b->nbytes && a->ndim == b->ndim);
                fz_check(!a->nbytes || !memcmp(a->data, b->data, (size_t)a->nbytes));
            }
            rl_st_close(&back);
            free(img);
        }
    }
    free(es);
    rl_st_close(&st);
    return 0;
}
