# radlads - build, test, benchmark.
#   make            build the tests, tools and examples
#   make test       run every test; ends with "N passed, N failed"
#   make test-asan  the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-neon  the kernel tests cross-compiled for AArch64, run under qemu
#   make test-windows  the tests cross-compiled with MinGW-w64, run under wine
#   make bench      benchmarks (tools/bench; needs libopenblas-dev)
#   make bench-ab OLD=path/radlads.h  rl_gemm of another version and of this one, in turn in one process
#   make bench-ab-scan OLD=path/radlads.h  the same for the chunked scans' forward + backward
#   make bench-ab-attn OLD=path/radlads.h  the same for causal attention's forward and backward
#   make bench-ab-step OLD=path/radlads.h  the same for whole training steps (stage 1 or 2, ~9 GB)
#   make bench-bf16 the bf16 products (rl_ctx.bf16_dot) against the fp32 kernel (vdpbf16ps and AMX tiles, where the CPU has them)
#   make bench-attn causal attention of one head: query blocks as matrix products vs one pair at a time
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Werror
LDLIBS  := -lm -lpthread
B       := build

TEST_NAMES := $(sort $(notdir $(basename $(wildcard tests/test_*.c))))
TESTS      := $(TEST_NAMES:%=$(B)/tests/%)
ASAN_TESTS := $(TEST_NAMES:%=$(B)/asan/%)
# every test links one object of the implementation (tests/rl_impl.c), compiled once; it is
# built with RADLADS_INTERNAL, so white-box tests (which define RADLADS_INTERNAL) reach the
# internal rl__ functions through it
# tests/test_oom.c compiles the implementation itself: it needs allocation hooks that fail
OWN_IMPL   := test_oom
impl_obj    = $(if $(filter $(basename $(notdir $@)),$(OWN_IMPL)),,$(1))
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DRADLADS_POISON


.PHONY: all demo embedded test test-asan test-neon test-windows bench bench-ab bench-ab-scan bench-ab-attn bench-ab-step bench-scan bench-step bench-decode bench-matvec bench-train bench-bf16 bench-attn fuzz clean
all: $(TESTS) $(B)/radlads $(B)/generate

# the command-line tool and the example program
$(B)/radlads: tools/radlads.c radlads.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

$(B)/generate: examples/generate.c radlads.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

# examples/generate.c as an embedded program would build it: only what inference needs
# (the switches), at -Os, unused functions dropped; prints its size (README.md records it)
EMBEDDED := -DRADLADS_NO_TRAINING -DRADLADS_NO_GGUF -DRADLADS_NO_TOKENIZER -DRADLADS_NO_LMEVAL -DRADLADS_NO_EXPORT -DRADLADS_NO_STDIO
EMB_CFLAGS := -Os -std=c99 -Wall -Wextra -Werror -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -Wl,--gc-sections
$(B)/generate-embedded: examples/generate.c radlads.h
	@mkdir -p $(B)
	$(CC) $(EMB_CFLAGS) $(EMBEDDED) -o $@ $< $(LDLIBS)
$(B)/generate-embedded-scalar: examples/generate.c radlads.h
	@mkdir -p $(B)
	$(CC) $(EMB_CFLAGS) $(EMBEDDED) -DRL_NO_SIMD -o $@ $< $(LDLIBS)
$(B)/generate-full-os: examples/generate.c radlads.h
	@mkdir -p $(B)
	$(CC) $(EMB_CFLAGS) -o $@ $< $(LDLIBS)
embedded: $(B)/generate-embedded $(B)/generate-embedded-scalar $(B)/generate-full-os
	@echo "text bytes of examples/generate.c at -Os with unused sections dropped:"
	@size $(B)/generate-full-os $(B)/generate-embedded $(B)/generate-embedded-scalar

# convert the demo teacher (examples/tiny-teacher) to RAD-RWKV7 on ../shared/data text
demo: $(B)/radlads
	sh tools/demo.sh

$(B)/radlads.o: tests/rl_impl.c radlads.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/asan/radlads.o: tests/rl_impl.c radlads.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN) -c -o $@ $<

$(B)/tests/%: tests/%.c radlads.h tests/rl_test.h $(B)/radlads.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(call impl_obj,$(B)/radlads.o) $(LDLIBS)

$(B)/asan/%: tests/%.c radlads.h tests/rl_test.h $(B)/asan/radlads.o
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN) -o $@ $< $(call impl_obj,$(B)/asan/radlads.o) $(LDLIBS)

# RADLADS_NO_THREADS: the kernel and autodiff tests built without pthreads (no -lpthread;
# tests/run.sh also checks that such an object calls no pthread_* function)
NOTHREADS := $(B)/nothreads/test_kernels $(B)/nothreads/test_grad
$(B)/nothreads/radlads.o: tests/rl_impl.c radlads.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -DRADLADS_NO_THREADS -c -o $@ $<
$(B)/nothreads/%: tests/%.c radlads.h tests/rl_test.h $(B)/nothreads/radlads.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -DRADLADS_NO_THREADS -o $@ $< $(call impl_obj,$(B)/nothreads/radlads.o) -lm

test: $(TESTS) $(NOTHREADS) $(B)/radlads $(B)/generate
	@sh tests/run.sh $(TESTS) $(NOTHREADS) tests/test_cli.sh

# the command-line tool under the sanitizers, leak detection on: tests/test_cli.sh runs it
$(B)/asan/radlads: tools/radlads.c radlads.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN) -o $@ $< $(LDLIBS)

test-asan: $(ASAN_TESTS) $(B)/asan/radlads
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 RADLADS=$(B)/asan/radlads sh tests/run.sh $(ASAN_TESTS) tests/test_cli.sh

# every benchmark program is one file of tools/bench (bench_gemm also links OpenBLAS)
$(B)/bench_%: tools/bench/bench_%.c radlads.h tools/bench/bench.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -Wall -Wextra -o $@ $< $(LDLIBS)

$(B)/bench_gemm: tools/bench/bench_gemm.c radlads.h tools/bench/bench.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -o $@ $< -lopenblas $(LDLIBS)

# make bench [BENCH_GEMM="--secs 2 --threads 1 ..."] (bench_gemm's options; OpenBLAS's workers told
# to stop spinning after ~0.3 ms, as ours do: tools/bench/bench_gemm.c)
bench: $(B)/bench_gemm
	OPENBLAS_THREAD_TIMEOUT=20 $(B)/bench_gemm $(BENCH_GEMM)

# rl_gemm of another radlads.h (OLD=path) and of this one, called in turn in one process
# (tools/bench/ab_gemm.c): make bench-ab OLD=/tmp/old/radlads.h [AB="N K threads layout bf16 secs"]
# the same for the chunked scans' forward + backward (tools/bench/ab_scan.c):
#   make bench-ab-scan OLD=/tmp/old/radlads.h [AB_SCAN="threads secs"]
# for causal attention's forward and forward + backward (tools/bench/ab_attn.c):
#   make bench-ab-attn OLD=/tmp/old/radlads.h [AB_ATTN="threads secs"]
# and for whole training steps (tools/bench/ab_step.c; ~9 GB):
#   make bench-ab-step OLD=/tmp/old/radlads.h [AB_STEP="stage threads rounds"] [LAYERS=30 BATCH=1]
AB ?= 576 576 1 nt
AB_SCAN ?= 1 4
AB_ATTN ?= 1 3
AB_STEP ?= 1 2 5
define ab_build
	@case "$(OLD)" in *radlads.h) test -f "$(OLD)";; *) false;; esac || { echo "$@: OLD=a file named radlads.h (it includes itself by name), e.g. git show REV:radlads.h > /tmp/old/radlads.h"; exit 2; }
	@mkdir -p $(B)/ab
	$(CC) -O2 -c -DAB_SIDE=a -DAB_HEADER='"$(abspath $(OLD))"' tools/bench/$(1).c -o $(B)/ab/$(1)_a.o
	$(CC) -O2 -c -DAB_SIDE=b -DAB_HEADER='"$(abspath radlads.h)"' tools/bench/$(1).c -o $(B)/ab/$(1)_b.o
	$(CC) -O2 -o $(B)/ab/$(1) tools/bench/$(1).c $(B)/ab/$(1)_a.o $(B)/ab/$(1)_b.o $(LDLIBS)
endef
bench-ab:
	$(call ab_build,ab_gemm)
	@echo "| threads | layout | N x K | old GFLOP/s | new GFLOP/s | old / new time | pairs |"
	@$(B)/ab/ab_gemm $(AB)
bench-ab-scan:
	$(call ab_build,ab_scan)
	@$(B)/ab/ab_scan $(AB_SCAN)
bench-ab-attn:
	$(call ab_build,ab_attn)
	@$(B)/ab/ab_attn $(AB_ATTN)
bench-ab-step:
	$(call ab_build,ab_step)
	@echo "| student | stage | layers | batch | threads | old s/step (median) | new s/step | old / new | per round |"
	@$(B)/ab/ab_step $(AB_STEP)

# libFuzzer targets (clang; apt-get install clang libclang-rt-14-dev), FUZZ_SECS each
FUZZ_SECS ?= 20
fuzz:
	sh tests/fuzz/run.sh $(FUZZ_SECS)
	sh tests/fuzz/run_gguf.sh $(FUZZ_SECS)
	sh tests/fuzz/run_tokenizer.sh $(FUZZ_SECS)
	sh tests/fuzz/run_llama2c.sh $(FUZZ_SECS)
	sh tests/fuzz/run_loaders.sh $(FUZZ_SECS)

clean:
	rm -rf $(B)

# NEON path: cross-compile the kernel tests for AArch64 and run them under qemu
# (apt-get install gcc-aarch64-linux-gnu qemu-user)
$(B)/arm/test_kernels: tests/test_kernels.c tests/rl_impl.c radlads.h tests/rl_test.h
	@mkdir -p $(dir $@)
	aarch64-linux-gnu-gcc -O2 -static $(WARN) -o $@ tests/test_kernels.c tests/rl_impl.c $(LDLIBS)

test-neon: $(B)/arm/test_kernels
	@RL_RUNNER=qemu-aarch64 sh tests/run.sh $(B)/arm/test_kernels

# Windows: every test program cross-compiled with MinGW-w64 (static .exe files, the
# implementation object compiled once, as above; the kernel and autodiff tests also with
# RADLADS_NO_THREADS) and run under wine with a private prefix in build/win/prefix;
# tests/win_switches.sh compiles the header with each switch. Same summary line as make test.
# (apt-get install gcc-mingw-w64-x86-64 wine64)
WIN_CC     ?= x86_64-w64-mingw32-gcc
WINE       ?= $(firstword $(wildcard /usr/lib/wine/wine64) wine)
WIN_TESTS  := $(TEST_NAMES:%=$(B)/win/%.exe) $(B)/win/nothreads/test_kernels.exe $(B)/win/nothreads/test_grad.exe
$(B)/win/radlads.o: tests/rl_impl.c radlads.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(CFLAGS) $(WARN) -c -o $@ $<
$(B)/win/%.exe: tests/%.c radlads.h tests/rl_test.h $(B)/win/radlads.o
	@mkdir -p $(dir $@)
	$(WIN_CC) $(CFLAGS) $(WARN) -static -o $@ $< $(call impl_obj,$(B)/win/radlads.o) $(LDLIBS)
$(B)/win/nothreads/radlads.o: tests/rl_impl.c radlads.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(CFLAGS) $(WARN) -DRADLADS_NO_THREADS -c -o $@ $<
$(B)/win/nothreads/%.exe: tests/%.c radlads.h tests/rl_test.h $(B)/win/nothreads/radlads.o
	@mkdir -p $(dir $@)
	$(WIN_CC) $(CFLAGS) $(WARN) -DRADLADS_NO_THREADS -static -o $@ $< $(B)/win/nothreads/radlads.o -lm

# wine hands programs no HOME: the SmolLM2 cache goes as RADLADS_CACHE
test-windows: $(WIN_TESTS)
	@export WINEPREFIX="$(abspath $(B)/win/prefix)" WINEDEBUG=-all; \
	if [ ! -d "$$WINEPREFIX" ]; then echo "making the wine prefix $$WINEPREFIX"; $(WINE) wineboot -i > /dev/null 2>&1; fi; \
	RADLADS_CACHE="$${RADLADS_CACHE:-$$HOME/.cache/radlads}" WIN_CC="$(WIN_CC)" RL_RUNNER="$(WINE)" \
	    sh tests/run.sh $(WIN_TESTS) tests/win_switches.sh

bench-attn: $(B)/bench_attn
	$(B)/bench_attn

bench-bf16: $(B)/bench_bf16
	$(B)/bench_bf16

bench-scan: $(B)/bench_scan
	$(B)/bench_scan

bench-step: $(B)/bench_step
	$(B)/bench_step

# LLAMA_CPP_BIN=DIR (a llama.cpp build's bin/ with llama-bench and llama-quantize) adds radlads
# vs llama.cpp on the same GGUF files (tools/bench/decode_llamacpp.sh)
bench-decode: $(B)/bench_decode $(B)/radlads
	$(B)/bench_decode
	@if [ -n "$(LLAMA_CPP_BIN)" ]; then LLAMA_CPP_BIN="$(LLAMA_CPP_BIN)" RADLADS=$(B)/radlads sh tools/bench/decode_llamacpp.sh; \
	else echo "(LLAMA_CPP_BIN=DIR adds llama.cpp on the same GGUF files: tools/bench/decode_llamacpp.sh)"; fi

# y = x·Wᵀ for one row x (decoding) with F32/F16/BF16/quantized W: GB/s, the fused kernels against the old path
bench-matvec: $(B)/bench_matvec
	$(B)/bench_matvec
include tools/cuda.mk

# one training step of stages 1 and 2: radlads and the same step in PyTorch (tools/bench/train_ref.py)
bench-train: $(B)/bench_train $(B)/radlads
	sh tools/bench/bench_train.sh
