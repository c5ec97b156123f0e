/* ab_step - two versions of radlads.h in one process: a whole training step of each, in turn.
   Separate runs of two builds of bench_step differ by ±20% per step on a shared VM, more than
   most changes; steps taken in turn see the same machine (the method of ab_gemm.c, which says
   how the file is compiled: make bench-ab-step OLD=path/to/old/radlads.h).
   Each side loads the same random SmolLM2-135M-shaped teacher (BF16 weights, written once to
   a temporary folder), makes its own RAD-RWKV7 student (STUDENT=rwkv6: RAD-RWKV6) and runs rl_train_stage one step at a
   time on the same random tokens, ctx 512, from its own context; the first two steps of each
   side are not timed. Memory: two teachers, students and optimizer states (8.7 GB of RSS at
   30 layers).
   Run: ab_step [stage threads rounds] (1, 2, 5; env LAYERS=30 BATCH=1 STUDENT=rwkv7). A round is a step of
   each side, the order swapped every round. Prints both sides' median seconds per step, the
   ratio of the medians (old / new: > 1, the new header is faster) and the range of the
   per-round ratios; AB_VERBOSE=1 prints every round's two times. */
#include "ab.h"

#ifdef AB_SIDE
#include "bench.h" /* the random teacher (its radlads.h is the side's, included by ab.h) */

static rl_model teacher, student;
static rl_tokens data;
static rl_ctx ctx;

/* load the teacher from dir (written there first if write), make the student; 0 on failure */
int AB_CAT(ab_step_setup_, AB_SIDE)(const char *dir, int write, int layers) {
    rl_student_opts so;
    if (write && !bench_write_teacher(dir, &bench_smollm2, layers)) return 0;
    rl_student_opts_default(&so, getenv("STUDENT") && !strcmp(getenv("STUDENT"), "rwkv6") ? RL_MIXER_RWKV6 : RL_MIXER_RWKV7);
    if (rl_model_load(&teacher, dir, 0) != RL_OK || rl_student_from_teacher(&student, &teacher, &so) != RL_OK) {
        fprintf(stderr, "ab_step: %s\n", rl_last_error());
        return 0;
    }
    if (!bench_tokens(&data, bench_smollm2.vocab)) return 0;
    rl_ctx_init(&ctx, pool);
    return 1;
}

/* seconds of one step of the stage; < 0 on failure */
double AB_CAT(ab_step_, AB_SIDE)(int stage, int batch) {
    rl_stage_opts o;
    double t;
    bench_stage_opts(&o, stage, batch);
    t = now();
    if (rl_train_stage(&ctx, &student, &teacher, &data, &o) != RL_OK) {
        fprintf(stderr, "ab_step: stage %d: %s\n", stage, rl_last_error());
        return -1;
    }
    return now() - t;
}

void AB_CAT(ab_step_free_, AB_SIDE)(const char *dir) {
    rl_ctx_free(&ctx);
    rl_model_free(&student);
    rl_model_free(&teacher);
    free(data.ids);
    if (dir) bench_remove_teacher(dir);
}
#else
int ab_step_setup_a(const char *, int, int), ab_step_setup_b(const char *, int, int);
double ab_step_a(int, int), ab_step_b(int, int);
void ab_step_free_a(const char *), ab_step_free_b(const char *);

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
    int stage = argc > 1 ? atoi(argv[1]) : 1, threads = argc > 2 ? atoi(argv[2]) : 2, rounds = argc > 3 ? atoi(argv[3]) : 5;
    int layers = getenv("LAYERS") ? atoi(getenv("LAYERS")) : 30, batch = getenv("BATCH") ? atoi(getenv("BATCH")) : 1, r;
    char dir[] = "/tmp/radlads_ab_stepXXXXXX";
    double ta[64], tb[64], q, lo = 1e30, hi = 0, ma, mb;
    if ((stage != 1 && stage != 2) || threads < 1 || rounds < 1 || rounds > 64 || layers < 1 || batch < 1) {
        fprintf(stderr, "usage: ab_step [stage (1|2) threads rounds (<= 64)]   env LAYERS=30 BATCH=1 STUDENT=rwkv7|rwkv6\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ab_step: cannot make %s\n", dir);
        return 1;
    }
    ab_init_a(threads);
    ab_init_b(threads);
    if (!ab_step_setup_a(dir, 1, layers) || !ab_step_setup_b(dir, 0, layers))
        return 1;
    for (r = 0; r < 2; r++) /* two steps of each, not timed (the second still grew memory) */
        if (ab_step_a(stage, batch) < 0 || ab_step_b(stage, batch) < 0) return 1;
    for (r = 0; r < rounds; r++) {
        if (r % 2) tb[r] = ab_step_b(stage, batch), ta[r] = ab_step_a(stage, batch);
        else ta[r] = ab_step_a(stage, batch), tb[r] = ab_step_b(stage, batch);
        if (ta[r] < 0 || tb[r] < 0) return 1;
        q = ta[r] / tb[r];
        if (getenv("AB_VERBOSE")) fprintf(stderr, "round %d: %.3f %.3f\n", r, ta[r], tb[r]);
        if (q < lo) lo = q;
        if (q > hi) hi = q;
    }
    ma = median(ta, rounds), mb = median(tb, rounds);
    printf("| %s | %d | %d | %d | %d | %.2f | %.2f | %.3f | %.3f-%.3f |\n", getenv("STUDENT") ? getenv("STUDENT") : "rwkv7", stage, layers, batch,
           threads, ma, mb, ma / mb, lo, hi);
    ab_step_free_a(NULL);
    ab_step_free_b(dir);
    return 0;
}
#endif
