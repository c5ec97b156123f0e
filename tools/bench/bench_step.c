/* bench_step - where the time of a RADLADS training step goes, per op (RADLADS_PROFILE), with
   the recurrent scans (rl_ctx.scan_chunk = -1, the form before the chunked scans) against
   the default (chunked scans for training), in the same run.
   Model: a random SmolLM2-135M-shaped Llama teacher (d 576, 30 layers, 9 heads of 64, 3 kv
   heads, MLP 1536, vocab 49152, tied head; BF16 weights written to a temporary folder) and
   its RAD-RWKV7 student (STUDENT=rwkv6: RAD-RWKV6); random tokens; ctx 512. One warm-up
   step, then STEPS timed steps of stage 1 (attention alignment) and stage 2 (KL distillation).
   Build and run: make bench-step   (env LAYERS, BATCH, STEPS, THREADS override 30, 2, 1, 2;
   RECURRENT=0 skips the recurrent-scan cases, STAGES=1 or 2 runs one stage) */
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int envi(const char *k, int d) {
    const char *e = getenv(k);
    return e && *e ? atoi(e) : d;
}

static int quiet;
static void log_fn(void *u, int level, const char *msg) {
    (void)u;
    if (!quiet && level <= RL_LOG_INFO && !strncmp(msg, "profile:", 8)) printf("    %s\n", msg + 9);
}

int main(void) {
    int layers = envi("LAYERS", 30), batch = envi("BATCH", 2), steps = envi("STEPS", 1), threads = envi("THREADS", 2);
    int recurrent = envi("RECURRENT", 1), stages = envi("STAGES", 3); /* STAGES: 1, 2 or 3 = both */
    char dir[] = "/tmp/radlads_bench_stepXXXXXX";
    rl_model teacher, student;
    rl_student_opts so;
    rl_tokens data;
    rl_pool *pool = rl_pool_create(threads);
    int stage, form;
    const char *kind = getenv("STUDENT") && !strcmp(getenv("STUDENT"), "rwkv6") ? "RWKV6" : "RWKV7";
    if (!mkdtemp(dir) || !bench_write_teacher(dir, &bench_smollm2, layers)) {
        fprintf(stderr, "cannot write the teacher to %s\n", dir);
        return 1;
    }
    setenv("RADLADS_PROFILE", "1", 1);
    rl_set_log(log_fn, NULL);
    if (rl_model_load(&teacher, dir, 0) != RL_OK) {
        fprintf(stderr, "load: %s\n", rl_last_error());
        return 1;
    }
    rl_student_opts_default(&so, kind[4] == '6' ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
    if (rl_student_from_teacher(&student, &teacher, &so) != RL_OK) {
        fprintf(stderr, "student: %s\n", rl_last_error());
        return 1;
    }
    if (!bench_tokens(&data, bench_smollm2.vocab)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("# SmolLM2-135M-shaped random teacher (%d layers) -> RAD-%s student, ctx 512, batch %d, %d thread%s, isa %s\n",
           layers, kind, batch, threads, threads > 1 ? "s" : "", rl_isa_name(rl_isa_active()));
    for (stage = 1; stage <= 2; stage++)
        for (form = 0; form < 2; form++) {
            rl_ctx c;
            rl_stage_opts o;
            double t0, dt;
            rl_status st;
            if ((form == 0 && !recurrent) || !(stages & stage)) continue;
            bench_stage_opts(&o, stage, batch);
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
    bench_remove_teacher(dir);
    free(data.ids);
    rl_pool_free(pool);
    return 0;
}
