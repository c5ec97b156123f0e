# tools/cuda.mk - the optional CUDA companion (radlads_cuda.cu) and its tests.
# Standalone:  make -f tools/cuda.mk cuda        or include it from the Makefile.
#
#   cuda            build/cuda/radlads_cuda.o (nvcc, sm_80 + sm_90 code, compute_80 PTX)
#                   and the tests build/cuda/test_cuda_scans (CPU scans vs GPU scans),
#                   build/cuda/test_cuda_gemm (rl_cuda_gemm through cuBLAS vs radlads.h) and
#                   build/cuda/test_cuda_ops (every op of the device seam, and one AdamW step
#                   of stages 1-3, on the GPU vs the CPU), build/cuda/test_cuda_train (the
#                   training loop, checkpoints, eval and decoding on the GPU vs the CPU), the
#                   step benchmark build/cuda/bench_cuda and the command-line tool with the GPU
#                   code, build/cuda/radlads (also: make -f tools/cuda.mk radlads-cuda)
#   test-cuda       run them, and tests/cuda/test_cli_device.sh (--device cuda vs cpu) (need a
#                   GPU with compute capability >= 8.0, else print SKIP)
#   bench-cuda      the scans' --bench mode: tokens/s CPU vs GPU (BENCH_BATCH=B sequences, default 1);
#                   TFLOP/s of rl_cuda_gemm; a whole stage-1 and stage-2 step on the GPU
#                   (tools/bench/bench_cuda.c: SmolLM2-135M and Qwen2.5-0.5B shapes)
#   cuda-emu        the same kernels built as plain C++ over tests/cuda/cuda_emu.h (one
#                   fiber per GPU thread, run on the CPU) and tests/cuda/cublas_emu.h (cuBLAS's
#                   documented semantics on the CPU), linked with the same tests:
#                   build/cuda-emu/test_cuda_*. Checks the kernels' logic without a GPU.
#   test-cuda-emu   run it (RL_EMU_ORDER=0/1/2 picks the thread order inside a block;
#                   RL_EMU_FAIL_KERNEL=NAME makes the launches of kernel NAME fail, which
#                   test_cuda_train sets itself to check the error path of an update)
#
# An object that links radlads.h with RADLADS_CUDA needs build/cuda/radlads_cuda.o and the
# CUDA runtime and cuBLAS: link with $(NVCC) ... -lcublas (static cudart), or with
# $(CC) ... -L$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++.

CUDA_HOME     ?= /usr/local/cuda
NVCC          ?= $(CUDA_HOME)/bin/nvcc
CUDA_CC       ?= cc
CUDA_CXX      ?= g++
RL_CUDA_B     ?= build/cuda
RL_CUDA_EMU_B ?= build/cuda-emu
# -gencode pairs = -arch=sm_80 (SASS + PTX for 8.x, so 8.6/8.9 run it too) plus SASS for sm_90
NVCC_ARCH     ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_80,code=compute_80 -gencode arch=compute_90,code=sm_90
NVCC_FLAGS    ?= -O3 -std=c++14 $(NVCC_ARCH) -Xptxas -warn-spills,-warn-lmem-usage --Werror all-warnings -Xcompiler -Wall,-Wextra,-Werror
CUDA_TEST_CFLAGS ?= -O2 -g -std=c99 -Wall -Wextra -Werror
# the emulation build; add -fsanitize=address,undefined here to run it under the sanitizers
EMU_FLAGS     ?= -O2 -g

.PHONY: cuda test-cuda bench-cuda cuda-emu test-cuda-emu radlads-cuda

RL_CUDA_TESTS := test_cuda_scans test_cuda_gemm test_cuda_ops test_cuda_train
.PRECIOUS: $(RL_CUDA_B)/test_cuda_%.o $(RL_CUDA_EMU_B)/test_cuda_%.o

cuda: $(RL_CUDA_B)/radlads_cuda.o $(addprefix $(RL_CUDA_B)/,$(RL_CUDA_TESTS)) $(RL_CUDA_B)/bench_cuda $(RL_CUDA_B)/radlads

# the command-line tool with the GPU code: radlads convert / eval / generate --device cuda
radlads-cuda: $(RL_CUDA_B)/radlads
$(RL_CUDA_B)/radlads: tools/radlads.c radlads.h $(RL_CUDA_B)/radlads_cuda.o
	$(CUDA_CC) -O2 -g -std=c99 -Wall -Wextra -Werror -DRADLADS_CUDA -c $< -o $(RL_CUDA_B)/radlads_cli.o
	$(NVCC) $(NVCC_ARCH) -o $@ $(RL_CUDA_B)/radlads_cli.o $(RL_CUDA_B)/radlads_cuda.o -lcublas -lm -lpthread
$(RL_CUDA_EMU_B)/radlads: tools/radlads.c radlads.h $(RL_CUDA_EMU_B)/radlads_cuda.o
	$(CUDA_CC) $(EMU_FLAGS) -std=c99 -Wall -Wextra -Werror -DRADLADS_CUDA -c $< -o $(RL_CUDA_EMU_B)/radlads_cli.o
	$(CUDA_CXX) $(EMU_FLAGS) -o $@ $(RL_CUDA_EMU_B)/radlads_cli.o $(RL_CUDA_EMU_B)/radlads_cuda.o -lm -lpthread

$(RL_CUDA_B)/radlads_cuda.o: radlads_cuda.cu
	@mkdir -p $(RL_CUDA_B)
	$(NVCC) $(NVCC_FLAGS) -c $< -o $@

$(RL_CUDA_B)/test_cuda_%.o: tests/cuda/test_cuda_%.c radlads.h tests/rl_test.h
	@mkdir -p $(RL_CUDA_B)
	$(CUDA_CC) $(CUDA_TEST_CFLAGS) -c $< -o $@

$(RL_CUDA_B)/test_cuda_%: $(RL_CUDA_B)/test_cuda_%.o $(RL_CUDA_B)/radlads_cuda.o
	$(NVCC) $(NVCC_ARCH) -o $@ $^ -lcublas -lm -lpthread

test-cuda: $(addprefix $(RL_CUDA_B)/,$(RL_CUDA_TESTS)) $(RL_CUDA_B)/radlads
	$(RL_CUDA_B)/test_cuda_scans
	$(RL_CUDA_B)/test_cuda_gemm
	$(RL_CUDA_B)/test_cuda_ops
	$(RL_CUDA_B)/test_cuda_train
	$(MAKE) -s build/radlads && RADLADS=$(RL_CUDA_B)/radlads sh tests/cuda/test_cli_device.sh

bench-cuda: $(RL_CUDA_B)/test_cuda_scans $(RL_CUDA_B)/test_cuda_gemm $(RL_CUDA_B)/bench_cuda
	$(RL_CUDA_B)/test_cuda_scans --bench --batch $(or $(BENCH_BATCH),1)
	$(RL_CUDA_B)/test_cuda_gemm --bench
	$(RL_CUDA_B)/bench_cuda

# the whole training step on the GPU (tools/bench/bench_cuda.c)
$(RL_CUDA_B)/bench_cuda: tools/bench/bench_cuda.c tools/bench/bench.h radlads.h $(RL_CUDA_B)/radlads_cuda.o
	$(CUDA_CC) $(CUDA_TEST_CFLAGS) -c $< -o $(RL_CUDA_B)/bench_cuda.o
	$(NVCC) $(NVCC_ARCH) -o $@ $(RL_CUDA_B)/bench_cuda.o $(RL_CUDA_B)/radlads_cuda.o -lcublas -lm -lpthread
$(RL_CUDA_EMU_B)/bench_cuda: tools/bench/bench_cuda.c tools/bench/bench.h radlads.h $(RL_CUDA_EMU_B)/radlads_cuda.o
	$(CUDA_CC) $(EMU_FLAGS) -std=c99 -Wall -Wextra -Werror -c $< -o $(RL_CUDA_EMU_B)/bench_cuda.o
	$(CUDA_CXX) $(EMU_FLAGS) -o $@ $(RL_CUDA_EMU_B)/bench_cuda.o $(RL_CUDA_EMU_B)/radlads_cuda.o -lm -lpthread

cuda-emu: $(RL_CUDA_EMU_B)/test_cublas_emu $(addprefix $(RL_CUDA_EMU_B)/,$(RL_CUDA_TESTS)) $(RL_CUDA_EMU_B)/bench_cuda $(RL_CUDA_EMU_B)/radlads

$(RL_CUDA_EMU_B)/radlads_cuda.o: radlads_cuda.cu tests/cuda/cuda_emu.h tests/cuda/cublas_emu.h
	@mkdir -p $(RL_CUDA_EMU_B)
	$(CUDA_CXX) $(EMU_FLAGS) -std=c++14 -Wall -Wextra -Werror -Wno-unknown-pragmas -DRL_CUDA_EMULATE -I. -x c++ -c $< -o $@

$(RL_CUDA_EMU_B)/test_cuda_%.o: tests/cuda/test_cuda_%.c radlads.h tests/rl_test.h
	@mkdir -p $(RL_CUDA_EMU_B)
	$(CUDA_CC) $(EMU_FLAGS) -std=c99 -Wall -Wextra -Werror -c $< -o $@

$(RL_CUDA_EMU_B)/test_cuda_%: $(RL_CUDA_EMU_B)/test_cuda_%.o $(RL_CUDA_EMU_B)/radlads_cuda.o
	$(CUDA_CXX) $(EMU_FLAGS) -o $@ $^ -lm -lpthread

# the cuBLAS stand-in itself, against cuBLAS's documented examples and rules
$(RL_CUDA_EMU_B)/test_cublas_emu: tests/cuda/test_cublas_emu.cpp tests/cuda/cuda_emu.h tests/cuda/cublas_emu.h
	@mkdir -p $(RL_CUDA_EMU_B)
	$(CUDA_CXX) $(EMU_FLAGS) -std=c++14 -Wall -Wextra -Werror -I. $< -o $@

test-cuda-emu: $(RL_CUDA_EMU_B)/test_cublas_emu $(addprefix $(RL_CUDA_EMU_B)/,$(RL_CUDA_TESTS)) $(RL_CUDA_EMU_B)/bench_cuda $(RL_CUDA_EMU_B)/radlads
	$(RL_CUDA_EMU_B)/test_cublas_emu
	$(RL_CUDA_EMU_B)/test_cuda_scans
	$(RL_CUDA_EMU_B)/test_cuda_gemm
	$(RL_CUDA_EMU_B)/test_cuda_ops
	$(RL_CUDA_EMU_B)/test_cuda_train
	$(MAKE) -s build/radlads && sh tests/cuda/test_cli_device.sh
	LAYERS=1 BATCH=1 CTX=8 STEPS=1 SHAPES=1 $(RL_CUDA_EMU_B)/bench_cuda # the benchmark's code path, tiny
