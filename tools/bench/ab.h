/* ab.h - what ab_gemm.c, ab_scan.c and ab_step.c share: each of those files is compiled three times,
   twice as a side (-DAB_SIDE=a or b, -DAB_HEADER='"path/radlads.h"': that header's whole
   library, every symbol static, with the side's entry points named ab_<what>_<side>) and
   once as the driver that calls both sides in turn. */
#ifndef AB_H
#define AB_H
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdtemp under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#ifdef AB_SIDE
#define RADLADS_STATIC
#define RADLADS_IMPLEMENTATION
#include AB_HEADER
#define AB_CAT2(a, b) a##b
#define AB_CAT(a, b) AB_CAT2(a, b)
static rl_pool *pool;
void AB_CAT(ab_init_, AB_SIDE)(int threads) { pool = rl_pool_create(threads); }
#else
void ab_init_a(int), ab_init_b(int);

/* n floats uniform in [-1, 1) from a 64-bit LCG (its state *x carried from call to call); NULL
   when out of memory */
static inline float *ab_uniform(long n, unsigned long long *x) {
    float *v = (float *)malloc(sizeof(float) * (size_t)n);
    long i;
    for (i = 0; v && i < n; i++) {
        *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (float)(*x >> 40) / 8388608.0f - 1.0f;
    }
    return v;
}
#endif
#endif
