/* cuda_emu.h - just enough of CUDA to run radlads_cuda.cu's kernels on the CPU, for testing
   the kernels' logic (index math, layouts, barriers, the host code) where there is no GPU.
   Test-only: radlads_cuda.cu includes it when built with -DRL_CUDA_EMULATE as plain C++
   (tools/cuda.mk, target cuda-emu). It is not a model of GPU timing or of the memory model.

   - A launch runs its blocks one after another. Inside a block every thread is a fiber
     (ucontext) on one OS thread; __syncthreads() switches back to the scheduler, which
     resumes the fibers once all of them wait at the barrier. A block whose threads do not
     all reach the same number of barriers is reported (stderr) and aborts the program.
   - The order in which the fibers of a phase run is forward, reverse or shuffled
     (RL_EMU_ORDER = 0, 1, 2; default 2), so a missing barrier tends to show as a wrong
     result instead of passing by luck.
   - A block whose first thread finishes without a barrier runs its other threads as plain
     calls (forward, reverse, or rotated from a random start), not fibers: a fiber costs
     system calls, and most kernels have no barrier. One of them reaching a barrier aborts.
   - Dynamic shared memory is a fresh malloc of exactly the launch's size, filled with NaN;
     cudaMalloc'd memory is filled with NaN too, so reading what nobody wrote shows up, and
     AddressSanitizer (if enabled) sees reads past either.
   - The device reports RL_EMU_SMS (default 3) multiprocessors and one resident block per
     multiprocessor, so grid-stride loops over (sequence, head) get exercised. */
#ifndef RL_CUDA_EMU_H
#define RL_CUDA_EMU_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <functional>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __align__(n)

typedef enum cudaError_enum_emu { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2 } cudaError_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrComputeCapabilityMajor = 75 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

struct float4 { float x, y, z, w; };
static inline float4 make_float4(float x, float y, float z, float w) {
    float4 v;
    v.x = x; v.y = y; v.z = z; v.w = w;
    return v;
}
struct rl_emu_dim3 { unsigned x, y, z; };
static rl_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
static float *rl_emu_smem;

static inline const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ? "out of memory (emulated)" : "invalid value (emulated)";
}
static cudaError_t rl_emu_pending = cudaSuccess; /* a launch's error (RL_EMU_FAIL_KERNEL), reported once */
static inline cudaError_t cudaGetLastError(void) {
    cudaError_t e = rl_emu_pending;
    rl_emu_pending = cudaSuccess;
    return e;
}
static inline cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
static inline cudaError_t cudaGetDevice(int *d) { *d = 0; return cudaSuccess; }
static inline cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
static inline int rl_emu_sms(void) {
    const char *e = getenv("RL_EMU_SMS");
    return e && atoi(e) > 0 ? atoi(e) : 3;
}
struct cudaDeviceProp { char name[256]; int major, minor, multiProcessorCount; };
static inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int dev) {
    (void)dev;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation (tests/cuda/cuda_emu.h; timings mean nothing)");
    p->major = 9;
    p->multiProcessorCount = rl_emu_sms();
    return cudaSuccess;
}
/* memory: RL_EMU_MEM_MIB (default 16384) MiB, all of it free */
static inline cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b) {
    const char *e = getenv("RL_EMU_MEM_MIB");
    *free_b = *total_b = (size_t)(e && atoll(e) > 0 ? atoll(e) : 16384) << 20;
    return cudaSuccess;
}
static inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int dev) {
    (void)dev;
    *v = a == cudaDevAttrMultiProcessorCount ? rl_emu_sms() : 9;
    return cudaSuccess;
}
template <typename K> static inline cudaError_t cudaFuncSetAttribute(K, cudaFuncAttribute, int v) {
    return v >= 0 && v <= 227 * 1024 ? cudaSuccess : cudaErrorInvalidValue;
}
template <typename K> static inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *n, K, int, size_t) {
    *n = 1;
    return cudaSuccess;
}
static inline cudaError_t cudaMalloc(void **p, size_t n) {
    size_t i;
    *p = malloc(n ? n : 1);
    if (!*p) return cudaErrorMemoryAllocation;
    for (i = 0; i + sizeof(float) <= n; i += sizeof(float)) ((float *)*p)[i / sizeof(float)] = NAN;
    return cudaSuccess;
}
static inline cudaError_t cudaFree(void *p) { free(p); return cudaSuccess; }
static inline cudaError_t cudaMemset(void *p, int v, size_t n) { memset(p, v, n); return cudaSuccess; }
static inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind) { memcpy(d, s, n); return cudaSuccess; }

/* ---- fibers ----
   A fiber switch is ucontext's swapcontext, which saves the signal mask with a system call
   each time; on x86-64 (without a sanitizer, which must see stack switches through
   ucontext) a switch of the callee-saved registers and the stack pointer does the same
   without one, about 10x faster. RL_EMU_UCONTEXT=1 at build time forces ucontext. */
enum { RL_EMU_RUN = 0, RL_EMU_BARRIER = 1, RL_EMU_DONE = 2 };
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RL_EMU_UCONTEXT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RL_EMU_UCONTEXT 1
#endif
#endif
#if !defined(__x86_64__) && !defined(RL_EMU_UCONTEXT)
#define RL_EMU_UCONTEXT 1
#endif
#ifdef RL_EMU_UCONTEXT
struct rl_emu_fiber { ucontext_t ctx; int state, n_bar; };
static ucontext_t rl_emu_sched;
#else
/* rl_emu_swap(from, to): push rbp, rbx, r12-r15, keep the stack pointer in *from, take *to's
   and pop them back (System V: every other register is the caller's to save) */
extern "C" void rl_emu_swap(void **from, void *const *to);
__asm__(".text\n.globl rl_emu_swap\n.type rl_emu_swap,@function\nrl_emu_swap:\n"
        "pushq %rbp\npushq %rbx\npushq %r12\npushq %r13\npushq %r14\npushq %r15\n"
        "movq %rsp, (%rdi)\nmovq (%rsi), %rsp\n"
        "popq %r15\npopq %r14\npopq %r13\npopq %r12\npopq %rbx\npopq %rbp\nret\n"
        ".size rl_emu_swap, .-rl_emu_swap\n");
struct rl_emu_fiber { void *sp; int state, n_bar; };
static void *rl_emu_sched_sp;
#endif
static std::vector<rl_emu_fiber> rl_emu_fibers;
static struct rl_emu_stack_list {
    std::vector<char *> v;
    ~rl_emu_stack_list() {
        for (size_t i = 0; i < v.size(); i++) free(v[i]);
    }
} rl_emu_stacks_;
#define rl_emu_stacks rl_emu_stacks_.v
static const std::function<void()> *rl_emu_body;
static int rl_emu_cur, rl_emu_direct, rl_emu_first;
#define RL_EMU_STACK (256 * 1024)

/* the running fiber back to the scheduler */
static __attribute__((noinline)) void rl_emu_yield(rl_emu_fiber *f) {
#ifdef RL_EMU_UCONTEXT
    swapcontext(&f->ctx, &rl_emu_sched);
#else
    rl_emu_swap(&f->sp, &rl_emu_sched_sp);
#endif
}

static void rl_emu_entry(void) {
    (*rl_emu_body)();
    rl_emu_fibers[rl_emu_cur].state = RL_EMU_DONE;
#ifndef RL_EMU_UCONTEXT /* (ucontext: uc_link returns to the scheduler) */
    rl_emu_yield(&rl_emu_fibers[rl_emu_cur]); /* never resumed */
    abort();
#endif
}

static __attribute__((noinline, unused)) void __syncthreads(void) {
    rl_emu_fiber *f = &rl_emu_fibers[rl_emu_cur];
    if (rl_emu_direct) {
        fprintf(stderr, "cuda_emu: block %u: thread %d reached a barrier that thread %d finished without\n", blockIdx.x, rl_emu_cur, rl_emu_first);
        abort();
    }
    f->state = RL_EMU_BARRIER;
    f->n_bar++;
    rl_emu_yield(f);
}

/* getcontext/swapcontext return twice: keep them out of functions with live locals */
static __attribute__((noinline)) void rl_emu_make(rl_emu_fiber *f, char *stack) {
#ifdef RL_EMU_UCONTEXT
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = stack;
    f->ctx.uc_stack.ss_size = RL_EMU_STACK;
    f->ctx.uc_link = &rl_emu_sched;
    makecontext(&f->ctx, rl_emu_entry, 0);
#else
    /* the first switch pops six zero registers and "returns" into rl_emu_entry with the
       stack aligned as after a call (rsp % 16 == 8) */
    void **top = (void **)(((uintptr_t)(stack + RL_EMU_STACK)) & ~(uintptr_t)15);
    top[-1] = NULL;                         /* rl_emu_entry's return address: it never returns */
    top[-2] = (void *)(uintptr_t)rl_emu_entry;
    memset(top - 8, 0, 6 * sizeof(void *)); /* r15, r14, r13, r12, rbx, rbp */
    f->sp = (void *)(top - 8);
#endif
    f->state = RL_EMU_RUN;
    f->n_bar = 0;
}
static __attribute__((noinline)) void rl_emu_resume(int t) {
    rl_emu_cur = t;
    threadIdx.x = (unsigned)t; threadIdx.y = threadIdx.z = 0;
#ifdef RL_EMU_UCONTEXT
    swapcontext(&rl_emu_sched, &rl_emu_fibers[t].ctx);
#else
    rl_emu_swap(&rl_emu_sched_sp, &rl_emu_fibers[t].sp);
#endif
}

static inline unsigned rl_emu_rand(void) {
    static unsigned long long s = 0x9e3779b97f4a7c15ULL;
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return (unsigned)(s >> 11);
}

/* RL_EMU_FAIL_KERNEL=NAME in the environment: launches of the kernel NAME do nothing and leave
   an error for cudaGetLastError, as a failed launch on a GPU would (the callers' error paths) */
static inline void rl_emu_launch(unsigned grid, unsigned block, size_t smem, const std::function<void()> &body, const char *name) {
    const char *oe = getenv("RL_EMU_ORDER"), *fk = getenv("RL_EMU_FAIL_KERNEL");
    const int order = oe ? atoi(oe) : 2;
    std::vector<int> ord(block);
    unsigned b, t;
    if (fk && !strcmp(fk, name)) {
        rl_emu_pending = cudaErrorInvalidValue;
        return;
    }
    while (rl_emu_stacks.size() < block) rl_emu_stacks.push_back((char *)malloc(RL_EMU_STACK));
    rl_emu_fibers.resize(block);
    rl_emu_body = &body;
    gridDim.x = grid; gridDim.y = gridDim.z = 1;
    blockDim.x = block; blockDim.y = blockDim.z = 1;
    for (b = 0; b < grid; b++) {
        size_t i;
        rl_emu_smem = (float *)malloc(smem ? smem : 1);
        for (i = 0; i + sizeof(float) <= smem; i += sizeof(float)) rl_emu_smem[i / sizeof(float)] = NAN;
        blockIdx.x = b; blockIdx.y = blockIdx.z = 0;
        for (t = 0; t < block; t++) ord[t] = (int)t;
        /* the first thread (forward, reverse or a random one) alone: if it finishes without a
           barrier, the block has none (its threads must all pass the same ones), and the others
           run as plain calls in the same order, without the fibers' cost (a barrier there
           aborts) */
        rl_emu_first = order == 0 ? 0 : order == 1 ? (int)block - 1 : (int)(rl_emu_rand() % block);
        rl_emu_make(&rl_emu_fibers[rl_emu_first], rl_emu_stacks[rl_emu_first]);
        rl_emu_resume(rl_emu_first);
        if (rl_emu_fibers[rl_emu_first].state == RL_EMU_DONE && rl_emu_fibers[rl_emu_first].n_bar == 0) {
            rl_emu_direct = 1;
            for (t = 0; t < block; t++) {
                unsigned u = order == 1 ? block - 1 - t : order == 2 ? (t + (unsigned)rl_emu_first) % block : t;
                if ((int)u == rl_emu_first) continue;
                rl_emu_cur = (int)u;
                threadIdx.x = u;
                body();
            }
            rl_emu_direct = 0;
            free(rl_emu_smem);
            rl_emu_smem = NULL;
            continue;
        }
        for (t = 0; t < block; t++)
            if ((int)t != rl_emu_first) rl_emu_make(&rl_emu_fibers[t], rl_emu_stacks[t]);
        for (;;) {
            int n_run = 0, n_bar = 0, n_done = 0;
            if (order == 1)
                for (t = 0; t < block; t++) ord[t] = (int)(block - 1 - t);
            else if (order == 2)
                for (t = block; t > 1; t--) {
                    unsigned j = rl_emu_rand() % t;
                    int x = ord[t - 1];
                    ord[t - 1] = ord[j];
                    ord[j] = x;
                }
            for (t = 0; t < block; t++) {
                if (rl_emu_fibers[ord[t]].state == RL_EMU_RUN) rl_emu_resume(ord[t]);
            }
            for (t = 0; t < block; t++) {
                int s = rl_emu_fibers[t].state;
                n_run += s == RL_EMU_RUN;
                n_bar += s == RL_EMU_BARRIER;
                n_done += s == RL_EMU_DONE;
            }
            if (n_done == (int)block) break;
            if (n_run || (n_bar && n_done)) {
                fprintf(stderr, "cuda_emu: block %u: threads diverged at a barrier (%d waiting, %d finished)\n", b, n_bar, n_done);
                abort();
            }
            for (t = 0; t < block; t++) rl_emu_fibers[t].state = RL_EMU_RUN;
        }
        for (t = 1; t < block; t++)
            if (rl_emu_fibers[t].n_bar != rl_emu_fibers[0].n_bar) {
                fprintf(stderr, "cuda_emu: block %u: thread %u passed %d barriers, thread 0 %d\n", b, t,
                        rl_emu_fibers[t].n_bar, rl_emu_fibers[0].n_bar);
                abort();
            }
        free(rl_emu_smem);
        rl_emu_smem = NULL;
    }
}
#endif
