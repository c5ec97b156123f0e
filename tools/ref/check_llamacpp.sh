#!/bin/sh
# check_llamacpp.sh - our rwkv6qwen2 GGUF students against llama.cpp built from source
# (dev tool, not part of `make test`; its result is in BENCHMARKS.md).
#
#   sh tools/ref/check_llamacpp.sh
#
# 1. llama.cpp: the source that PyPI's llama-cpp-python sdist carries (vendor/llama.cpp),
#    `pip download --no-binary :all: --no-deps llama-cpp-python`, built with cmake -j1 into
#    $LLAMACPP_DIR (default ~/.cache/radlads/llama.cpp; kept, so reruns skip the build):
#    llama-perplexity, llama-completion, llama-quantize.
# 2. A small student: SmolLM2-135M-Instruct (tools/fetch_smollm2.sh, Q4_1 GGUF) imported
#    (`radlads import`), converted to RAD-RWKV6 (`radlads convert --arch rwkv6`, a short
#    step 1 of $STEP1 tokens on tinyshakespeare (default 0: the student at init, enough to compare two implementations)) - or $STUDENT, a RAD-RWKV6
#    Hugging Face folder of your own.
# 3. Exports: ours (`radlads export`, F16 and F32), quantized by llama-quantize (Q8_0, Q4_K),
#    and llama.cpp's own conversion (its convert_hf_to_gguf.py on the student folder, F16;
#    needs torch/transformers/numpy: set PYTHON to such an interpreter).
# 4. For each GGUF: llama-perplexity -c $CTX -b $CTX (one sequence per batch: llama.cpp's
#    multi-sequence batches drift for recurrent models) --chunks $CHUNKS on WikiText-2 test,
#    against build/llamacpp_ppl (tools/ref/llamacpp_ppl.c: the same chunks, the same scored
#    tokens, with this library on the same GGUF); then greedy text from one prompt:
#    llama-completion --temp 0 vs `radlads generate` on the same GGUF.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
cache=${RADLADS_CACHE:-$HOME/.cache/radlads}
LLAMACPP_DIR=${LLAMACPP_DIR:-$cache/llama.cpp}
PYTHON=${PYTHON:-python3}
CTX=${CTX:-512}
CHUNKS=${CHUNKS:-2}
STEP1=${STEP1:-0}
DATA=${RADLADS_DATA:-../shared/data}
WIKI=$DATA/wikitext-2-raw/wiki.test.raw
work=${WORK:-$cache/check_llamacpp}
mkdir -p "$work"

# ---- 1. llama.cpp from the PyPI sdist ----
if [ ! -x "$LLAMACPP_DIR/build/bin/llama-perplexity" ] || [ ! -x "$LLAMACPP_DIR/build/bin/llama-completion" ]; then
    if [ ! -f "$LLAMACPP_DIR/CMakeLists.txt" ]; then
        tmp=$(mktemp -d)
        (cd "$tmp" && $PYTHON -m pip download --no-binary :all: --no-deps llama-cpp-python >/dev/null)
        tar xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"
        mkdir -p "$(dirname "$LLAMACPP_DIR")"
        rm -rf "$LLAMACPP_DIR"
        mv "$tmp"/llama_cpp_python-*/vendor/llama.cpp "$LLAMACPP_DIR"
        ls "$tmp"/llama_cpp_python-*.tar.gz | sed 's/.*\///' > "$LLAMACPP_DIR/SDIST"
        rm -rf "$tmp"
    fi
    (cd "$LLAMACPP_DIR" && nice -n 10 cmake -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=ON >/dev/null &&
        nice -n 10 cmake --build build -j1 --target llama-perplexity llama-completion llama-quantize >/dev/null)
fi
bin=$LLAMACPP_DIR/build/bin
echo "llama.cpp: $(cat "$LLAMACPP_DIR/SDIST" 2>/dev/null || echo "$LLAMACPP_DIR")"

# ---- 2. the student ----
make -s build/radlads
cc -O2 -std=c99 -Wall -Wextra -o build/llamacpp_ppl tools/ref/llamacpp_ppl.c -lm -lpthread
if [ -z "${STUDENT:-}" ]; then
    STUDENT=$work/student/model
    if [ ! -f "$STUDENT/config.json" ]; then
        gguf=$(sh tools/fetch_smollm2.sh)
        build/radlads import --gguf "$gguf" --out "$work/smollm2" >/dev/null
        build/radlads convert --teacher "$work/smollm2" --data "$DATA/tinyshakespeare/input.txt" --out "$work/student" --arch rwkv6 \
            --ctx 128 --batch 4 --step1-tokens "$STEP1" --step2-tokens 0 --no-report >/dev/null
    fi
fi
echo "student: $STUDENT"

# ---- 3. the GGUF files ----
build/radlads export --model "$STUDENT" --out "$work/ours-f16.gguf" --type f16 >/dev/null 2>&1
build/radlads export --model "$STUDENT" --out "$work/ours-f32.gguf" --type f32 >/dev/null 2>&1
"$bin/llama-quantize" "$work/ours-f32.gguf" "$work/ours-q8_0.gguf" Q8_0 >/dev/null 2>&1
"$bin/llama-quantize" "$work/ours-f32.gguf" "$work/ours-q4_k.gguf" Q4_K_M >/dev/null 2>&1 || true
files="ours-f32 ours-f16 ours-q8_0"
[ -f "$work/ours-q4_k.gguf" ] && files="$files ours-q4_k"
if $PYTHON -c 'import torch, transformers, numpy' 2>/dev/null; then
    if PYTHONPATH="$LLAMACPP_DIR/gguf-py" $PYTHON "$LLAMACPP_DIR/convert_hf_to_gguf.py" "$STUDENT" --outtype f16 \
        --outfile "$work/llamacpp-f16.gguf" >"$work/convert.log" 2>&1; then
        files="$files llamacpp-f16"
    else
        echo "llama.cpp's convert_hf_to_gguf.py failed (see $work/convert.log)"
    fi
else
    echo "no torch/transformers for $PYTHON: skipping llama.cpp's own conversion"
fi

# ---- 4. perplexity and greedy text ----
prompt="The meaning of life is"
printf '\n%-14s %14s %14s %10s  %s\n' file llama.cpp radlads "rel diff" "greedy text (32 tokens)"
for f in $files; do
    g=$work/$f.gguf
    lp=$("$bin/llama-perplexity" -m "$g" -f "$WIKI" -c "$CTX" -b "$CTX" --chunks "$CHUNKS" -t 2 2>&1 |
        sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
    rp=$(build/llamacpp_ppl "$g" "$WIKI" "$CTX" "$CHUNKS" 2>/dev/null | sed -n 's/^ppl \([0-9.]*\) .*/\1/p')
    lt=$("$bin/llama-completion" -m "$g" -p "$prompt" -n 32 --temp 0 -no-cnv -t 2 --no-display-prompt 2>/dev/null | tr '\n' ' ')
    rt=$(build/radlads generate --model "$g" --prompt "$prompt" -n 32 2>/dev/null | tail -c +$((${#prompt} + 1)) | tr '\n' ' ')
    rel=$(awk -v a="$lp" -v b="$rp" 'BEGIN { if (a > 0) printf "%.2e", (b - a) / a; else print "n/a" }')
    lt=$(printf '%s' "$lt" | sed 's/[[:space:]]*$//'); rt=$(printf '%s' "$rt" | sed 's/[[:space:]]*$//') # the printers end differently
    same=$([ "$lt" = "$rt" ] && echo "same" || echo "DIFFERENT")
    printf '%-14s %14s %14s %10s  %s\n' "$f" "$lp" "$rp" "$rel" "$same"
    if [ "$same" != same ]; then
        printf '    llama.cpp: %s\n    radlads:   %s\n' "$lt" "$rt"
    else
        printf '    %s\n' "$rt"
    fi
done
