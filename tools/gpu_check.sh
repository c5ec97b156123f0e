#!/bin/sh
# tools/gpu_check.sh - run this the moment a machine with an NVIDIA GPU (compute capability
# >= 8.0) is at hand; it needs nvcc and takes a few minutes:
#   1. the GPU and toolkit it found;
#   2. radlads_cuda.cu built with nvcc -Werror (make -f tools/cuda.mk cuda);
#   3. the CUDA tests on the GPU: every scan kernel, forward and backward, against the CPU
#      scans of radlads.h (tests/cuda/test_cuda_scans.c), the cuBLAS products against
#      radlads.h's reference products (tests/cuda/test_cuda_gemm.c), and every op of the
#      device seam plus one AdamW step of stages 1-3 against the CPU
#      (tests/cuda/test_cuda_ops.c), the training loop, checkpoints, evaluation and decoding
#      with the models on the GPU (tests/cuda/test_cuda_train.c), and the command line's
#      --device cuda against --device cpu (tests/cuda/test_cli_device.sh); fails on any
#      mismatch;
#   4. the GPU benchmarks: tokens/s of the CPU and GPU scans, batch 1 and 8; TFLOP/s of
#      rl_cuda_gemm (fp32, TF32, bf16) on a training step's products at the SmolLM2-135M and
#      Qwen2.5-0.5B shapes; and a whole stage-1 and stage-2 step resident on the GPU at both
#      shapes, fp32 and bf16 products (tools/bench/bench_cuda.c), as table rows to paste
#      into BENCHMARKS.md with the device line.
# Exit status: 0 when the build and the tests pass, else the failing step's.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:${CUDA_HOME:-/usr/local/cuda}/bin"
step() { echo; echo "== $*"; }

step "device"
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader || { echo "gpu_check: nvidia-smi failed: no NVIDIA GPU or driver here" >&2; exit 1; }
nvcc --version | tail -n 2
date -u +"date %Y-%m-%d %H:%M UTC"

step "build (nvcc -Werror)"
make -f tools/cuda.mk cuda

step "CUDA tests on the GPU"
timeout 300 build/cuda/test_cuda_scans
timeout 120 build/cuda/test_cuda_gemm
timeout 300 build/cuda/test_cuda_ops
timeout 300 build/cuda/test_cuda_train
make build/radlads
RADLADS=build/cuda/radlads timeout 300 sh tests/cuda/test_cli_device.sh

step "benchmark (rows for BENCHMARKS.md)"
for b in 1 8; do timeout 240 build/cuda/test_cuda_scans --bench --batch "$b"; done
timeout 120 build/cuda/test_cuda_gemm --bench
make -f tools/cuda.mk build/cuda/bench_cuda
timeout 240 build/cuda/bench_cuda
BF16=1 SHAPES=1 timeout 120 build/cuda/bench_cuda
