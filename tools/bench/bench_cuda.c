/* bench_cuda - tokens/s of a whole RADLADS training step on one GPU (the device seam:
   teacher and student resident on the device, rl_model_to; every op, the losses and AdamW
   there; per step only the loss and the gradient norm come back), for stage 1 (attention
   alignment) and stage 2 (KL distillation), against the same step on the CPU (THREADS
   threads) when CPU=1.
   Models: random Llama-architecture teachers of the SmolLM2-135M shape (d 576, 30 layers,
   vocab 49152) and of the Qwen2.5-0.5B shape (d 896, 24 layers, vocab 151936), BF16 weights
   written to a temporary folder, and their RAD-RWKV7 students; random tokens.
   Reported: tokens/s, and the step's arithmetic rate by rl_stage_plan's FLOP count
   (TFLOP/s; compare with the GPU's peak: fp32 products unless BF16=1, which runs every
   product on bf16 inputs with fp32 accumulation, ctx.bf16_dot = 2); the loss of the last
   step is a sanity check only (the runs follow one another, training the same student).
   Env: SHAPES (1 SmolLM2, 2 Qwen2.5-0.5B, 3 both; default 3), LAYERS (default: the real
   depth), BATCH (8), CTX (512), STEPS (3 timed after one warm-up), BF16 (0), CPU (0),
   THREADS (CPU threads, 16).
   Build and run: make -f tools/cuda.mk bench-cuda (nvcc; tools/gpu_check.sh runs it). Under
   the CPU emulation of CUDA (make -f tools/cuda.mk cuda-emu) it runs too, as a smoke test of
   the code path at tiny sizes; its timings mean nothing there. */
#define RADLADS_CUDA
#include "bench.h"

static int envi(const char *k, int d) {
    const char *e = getenv(k);
    return e && *e ? atoi(e) : d;
}

/* seconds per step (after one warm-up) of `stage` on dev (NULL: the CPU); 0 on failure */
static double time_step(rl_model *teacher, rl_model *student, rl_device *dev, rl_pool *pool, int stage, const rl_tokens *data,
                        int64_t B, int64_t T, int steps, int bf16, double *loss) {
    rl_adamw opt;
    rl_ctx c; /* one context: its arenas (host and device) are reused step after step */
    int32_t *x = (int32_t *)malloc(sizeof(int32_t) * (size_t)(2 * B * T));
    double t0 = 0, dt = 0, norm = 0;
    int s, ok = 1;
    if (!x || rl_adamw_init(&opt, student, stage == 1 ? RL_TRAIN_MIXERS : RL_TRAIN_ALL) != RL_OK) {
        fprintf(stderr, "bench_cuda: optimizer: %s\n", rl_last_error());
        free(x);
        return 0;
    }
    rl_ctx_init(&c, pool);
    c.bf16_dot = bf16 ? 2 : 0;
    for (s = 0; s <= steps && ok; s++) {
        rl_tensor *L;
        rl_ctx_reset(&c);
        if (s == 1) t0 = now();
        L = rl_to(&c, rl__stage_loss(&c, student, teacher, stage, data->ids + s * B * (T + 1), B, T, x, x + B * T, NULL, 0), NULL);
        ok = L && rl_backward(&c, L) == RL_OK && (norm = rl_adamw_step(&opt, 1e-5, 1e-5)) >= 0; /* the norm waits for the device */
        if (ok) *loss = rl_f32(L)[0];
        else fprintf(stderr, "bench_cuda: stage %d on %s: %s\n", stage, rl_device_name(dev), rl_last_error());
    }
    dt = now() - t0;
    rl_ctx_free(&c);
    rl_adamw_free(&opt);
    free(x);
    return ok ? dt / steps : 0;
}

static int bench_shape_run(const bench_shape *sh, rl_device *dev, rl_pool *pool) {
    int layers = envi("LAYERS", sh->layers), steps = envi("STEPS", 3), bf16 = envi("BF16", 0), cpu = envi("CPU", 0);
    int64_t B = envi("BATCH", 8), T = envi("CTX", 512), i;
    char dir[] = "/tmp/radlads_bench_cudaXXXXXX";
    rl_model teacher, student;
    rl_student_opts so;
    rl_tokens data;
    rl_rng g;
    int stage, side;
    if (!mkdtemp(dir) || !bench_write_teacher(dir, sh, layers)) {
        fprintf(stderr, "bench_cuda: cannot write the teacher to %s\n", dir);
        return 0;
    }
    if (rl_model_load(&teacher, dir, 0) != RL_OK) {
        fprintf(stderr, "bench_cuda: load: %s\n", rl_last_error());
        return 0;
    }
    rl_student_opts_default(&so, RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) {
        fprintf(stderr, "bench_cuda: student: %s\n", rl_last_error());
        return 0;
    }
    data.n = (int64_t)(steps + 1) * B * (T + 1);
    data.ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)data.n);
    rl_rng_seed(&g, 3);
    for (i = 0; i < data.n; i++) data.ids[i] = (int32_t)(rl_rng_u64(&g) % (uint64_t)sh->vocab);
    printf("\n# %s-shaped random teacher (%d layers) -> RAD-RWKV7 student, ctx %lld, batch %lld, %s products\n", sh->name, layers,
           (long long)T, (long long)B, bf16 ? "bf16-input" : "fp32");
    printf("| stage | where | s/step | tok/s | TFLOP/s | loss |\n|---|---|---|---|---|---|\n");
    for (stage = 1; stage <= 2; stage++)
        for (side = cpu ? 0 : 1; side <= 1; side++) {
            rl_device *d = side ? dev : NULL;
            rl_stage_opts o;
            rl_plan p;
            double loss = 0, dt;
            rl_stage_opts_default(&o, stage);
            o.ctx = T;
            o.batch = o.micro_batch = B;
            o.tokens = B * T;
            if (rl_stage_plan(&student, &teacher, &o, &p) != RL_OK) p.flops_per_token = 0;
            if (d && (rl_model_to(&teacher, d) != RL_OK || rl_model_to(&student, d) != RL_OK)) {
                fprintf(stderr, "bench_cuda: to %s: %s\n", rl_device_name(d), rl_last_error());
                return 0;
            }
            dt = time_step(&teacher, &student, d, pool, stage, &data, B, T, steps, bf16, &loss);
            rl_model_to(&student, NULL);
            rl_model_to(&teacher, NULL);
            if (dt <= 0) return 0;
            printf("| %d | %s | %.3f | %.0f | %.2f | %.4f |\n", stage, d ? "GPU" : "CPU", dt, (double)(B * T) / dt,
                   p.flops_per_token * (double)(B * T) / dt * 1e-12, loss);
            fflush(stdout);
        }
    rl_model_free(&student);
    rl_model_free(&teacher);
    bench_remove_teacher(dir);
    free(data.ids);
    return 1;
}

int main(void) {
    int shapes = envi("SHAPES", 3), ok = 1;
    rl_device *dev = rl_device_cuda();
    rl_pool *pool;
    if (!dev) {
        printf("SKIP bench_cuda: %s\n", rl_last_error());
        return 0;
    }
    pool = rl_pool_create(envi("THREADS", 16));
    printf("# device: %s\n", rl_cuda_device_name());
    if (shapes & 1) ok &= bench_shape_run(&bench_smollm2, dev, pool);
    if (ok && (shapes & 2)) ok &= bench_shape_run(&bench_qwen05, dev, pool);
    rl_pool_free(pool);
    return ok ? 0 : 1;
}
