# radlads - build, test, benchmark.
#   make            build the tests, tools and examples
#   make test       run every test; ends with "N passed, N failed"
#   make test-asan  the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (tools/bench; needs libopenblas-dev)
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
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all demo test test-asan test-neon bench bench-scan bench-step bench-decode bench-train fuzz clean
all: $(TESTS) $(B)/radlads $(B)/generate

# the command-line tool and the example program
$(B)/radlads: tools/radlads.c radlads.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

$(B)/generate: examples/generate.c radlads.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LDLIBS)

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
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(B)/radlads.o $(LDLIBS)

$(B)/asan/%: tests/%.c radlads.h tests/rl_test.h $(B)/asan/radlads.o
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN) -o $@ $< $(B)/asan/radlads.o $(LDLIBS)

test: $(TESTS) $(B)/radlads $(B)/generate
	@sh tests/run.sh $(TESTS) tests/test_cli.sh

# the command-line tool under the sanitizers, leak detection on: tests/test_cli.sh runs it
$(B)/asan/radlads: tools/radlads.c radlads.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) $(SAN) -o $@ $< $(LDLIBS)

test-asan: $(ASAN_TESTS) $(B)/asan/radlads
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 RADLADS=$(B)/asan/radlads sh tests/run.sh $(ASAN_TESTS) tests/test_cli.sh

$(B)/bench_gemm: tools/bench/bench_gemm.c radlads.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -o $@ $< -lopenblas $(LDLIBS)

bench: $(B)/bench_gemm
	$(B)/bench_gemm

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

$(B)/bench_scan: tools/bench/bench_scan.c radlads.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -o $@ $< $(LDLIBS)

bench-scan: $(B)/bench_scan
	$(B)/bench_scan

$(B)/bench_step: tools/bench/bench_step.c radlads.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -o $@ $< $(LDLIBS)

bench-step: $(B)/bench_step
	$(B)/bench_step

$(B)/bench_decode: tools/bench/bench_decode.c radlads.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -o $@ $< $(LDLIBS)

bench-decode: $(B)/bench_decode
	$(B)/bench_decode
include tools/cuda.mk

# one training step of stages 1 and 2: radlads and the same step in PyTorch (tools/bench/train_ref.py)
$(B)/bench_train: tools/bench/bench_train.c radlads.h
	@mkdir -p $(B)
	$(CC) -O2 -std=c99 -Wall -Wextra -o $@ $< $(LDLIBS)

bench-train: $(B)/bench_train $(B)/radlads
	sh tools/bench/bench_train.sh
