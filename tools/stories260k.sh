#!/bin/sh
# tools/stories260k.sh [rwkv7|rwkv6] [extra convert options]: convert karpathy's stories260K
# (a real pretrained llama2.c model, ../shared/data/stories260K) into a RAD-RWKV student on
# ../shared/data/tinystories/TinyStories-train.first2MiB.txt, holding out whole stories
# (the last 5% of the token stream, from the next story boundary on) for evaluation.
# Writes build/stories260K (the imported teacher) and build/stories260K-<arch> (the run:
# train.csv, eval.csv, train.svg, the student in model/). README.md has the numbers.
# STEP1_TOKENS / STEP2_TOKENS set the budget (default 300k / 10M: ~50 min on one core).
set -eu
cd "$(dirname "$0")/.."
arch=${1:-rwkv7}
[ $# -ge 1 ] && shift
data_dir=${RADLADS_DATA:-../shared/data}
build/radlads import --llama2c "$data_dir/stories260K/stories260K.bin" --tokenizer "$data_dir/stories260K/tok512.bin" --out build/stories260K
build/radlads convert --teacher build/stories260K --data "$data_dir/tinystories/TinyStories-train.first2MiB.txt" \
    --out "build/stories260K-$arch" --arch "$arch" --ctx 512 --batch 8 \
    --step1-tokens ${STEP1_TOKENS:-300k} --step2-tokens ${STEP2_TOKENS:-10M} \
    --lr1 3e-3 --lr1-final 1e-3 --lr2 2e-3 --lr2-final 1e-4 --warmup 10 \
    --heldout 0.05 --heldout-docs --ckpt-every 100 --ckpt-eval --samples "Once upon a time" "$@"
