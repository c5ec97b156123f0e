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
#endif
#endif
