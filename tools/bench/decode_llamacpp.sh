#!/bin/sh
# decode_llamacpp.sh - decoding tokens/s of radlads and of llama.cpp on the same GGUF files, at
# the same weight type, same threads (the llama.cpp columns of `make bench-decode`).
#
#   LLAMA_CPP_BIN=DIR sh tools/bench/decode_llamacpp.sh [FILE.gguf ...]
#
# DIR holds a llama.cpp build's llama-bench and llama-quantize (build it from the source in
# PyPI's llama-cpp-python sdist: see tools/ref/check_llamacpp.sh, step 1, and add the
# llama-bench target). Without files it makes its own, in $WORK (default
# ~/.cache/radlads/decode_llamacpp, kept between runs):
#   teacher-*.gguf  SmolLM2-135M-Instruct (tools/fetch_smollm2.sh, Q4_1 as published), and
#                   llama-quantize --allow-requantize of it to F32, F16, Q8_0;
#   student-*.gguf  its RAD-RWKV6 student at initialisation (radlads import + convert --arch
#                   rwkv6 with no training: speed does not depend on the weights' values),
#                   `radlads export --type f32`, llama-quantize'd to F16, Q8_0, Q4_1.
# Each file and thread count: ROUNDS rounds, the two programs alternating; each round decodes
# N tokens: `radlads generate -n N --temperature 0` after a 6-token prompt (its "generated"
# rate), `llama-bench -p 0 -n N -r 1` (its tg rate, from an empty context). The best round of
# each is printed, and radlads / llama.cpp.
# BEFORE=OTHER_BINARY adds a third program to each round (another radlads build, e.g. the
# previous commit's) and the columns "before" and after / before.
# (ROUNDS=3, N=64, THREADS="1 2"; RADLADS=build/radlads)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
: "${LLAMA_CPP_BIN:?set LLAMA_CPP_BIN to a folder with llama.cpp's llama-bench and llama-quantize}"
ROUNDS=${ROUNDS:-3}; N=${N:-64}; THREADS=${THREADS:-1 2}; RADLADS=${RADLADS:-build/radlads}; BEFORE=${BEFORE:-}
DATA=${RADLADS_DATA:-../shared/data}
work=${WORK:-${RADLADS_CACHE:-$HOME/.cache/radlads}/decode_llamacpp}
for b in llama-bench llama-quantize; do
    [ -x "$LLAMA_CPP_BIN/$b" ] || { echo "decode_llamacpp: no $LLAMA_CPP_BIN/$b (build llama.cpp with the $b target)" >&2; exit 2; }
done
[ -x "$RADLADS" ] || make -s "$RADLADS"
mkdir -p "$work"

quant() { # quant IN OUT TYPE: llama-quantize, kept when already made
    [ -f "$2" ] && return 0
    if ! "$LLAMA_CPP_BIN/llama-quantize" --allow-requantize "$1" "$2.tmp" "$3" >"$work/quantize.log" 2>&1; then
        echo "decode_llamacpp: llama-quantize $3 of $1 failed (see $work/quantize.log)" >&2
        exit 1
    fi
    mv "$2.tmp" "$2"
}
if [ $# -eq 0 ]; then
    gguf=$(sh tools/fetch_smollm2.sh)
    cp -n "$gguf" "$work/teacher-q4_1.gguf" 2>/dev/null || [ -f "$work/teacher-q4_1.gguf" ]
    for t in F32 F16 Q8_0; do quant "$work/teacher-q4_1.gguf" "$work/teacher-$(echo $t | tr A-Z a-z).gguf" $t; done
    if [ ! -f "$work/student-f32.gguf" ]; then
        "$RADLADS" import --gguf "$gguf" --out "$work/smollm2" >/dev/null
        "$RADLADS" convert --teacher "$work/smollm2" --data "$DATA/tinyshakespeare/input.txt" --out "$work/student" \
            --arch rwkv6 --ctx 128 --batch 4 --step1-tokens 0 --step2-tokens 0 --no-report >/dev/null
        "$RADLADS" export --model "$work/student/model" --out "$work/student-f32.gguf.tmp" --type f32 >/dev/null
        mv "$work/student-f32.gguf.tmp" "$work/student-f32.gguf"
    fi
    for t in F16 Q8_0 Q4_1; do quant "$work/student-f32.gguf" "$work/student-$(echo $t | tr A-Z a-z).gguf" $t; done
    set -- "$work"/teacher-f32.gguf "$work"/teacher-f16.gguf "$work"/teacher-q8_0.gguf "$work"/teacher-q4_1.gguf \
        "$work"/student-f32.gguf "$work"/student-f16.gguf "$work"/student-q8_0.gguf "$work"/student-q4_1.gguf
fi

ours() { # generated tokens/s of one `radlads generate` (RADLADS, or the binary given as $3)
    "${3:-$RADLADS}" generate --model "$1" --prompt "The meaning of life is" -n "$N" --temperature 0 --threads "$2" 2>&1 >/dev/null |
        sed -n 's/.*generated [0-9]* tokens: \([0-9.]*\) tok\/s.*/\1/p'
}
theirs() { # tg tokens/s of one llama-bench repetition (its CSV's avg_ts column)
    "$LLAMA_CPP_BIN/llama-bench" -m "$1" -p 0 -n "$N" -r 1 -t "$2" -o csv 2>/dev/null |
        tr -d '"' | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "avg_ts") c = i; next } c { printf "%.1f\n", $c }'
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0) ? b : a }'; }
isa=avx2; grep -q avx512f /proc/cpuinfo && isa=avx512
echo "# $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $isa, $(nproc) cores; $N decoded tokens, best of $ROUNDS rounds"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
if [ -n "$BEFORE" ]; then
    echo "| file | threads | before tok/s | radlads tok/s | llama.cpp tok/s | radlads / before | radlads / llama.cpp |"
    echo "|---|---|---|---|---|---|---|"
else
    echo "| file | threads | radlads tok/s | llama.cpp tok/s | radlads / llama.cpp |"
    echo "|---|---|---|---|---|"
fi
for f in "$@"; do
    for t in $THREADS; do
        bb=0; bo=0; bl=0; r=0
        while [ "$r" -lt "$ROUNDS" ]; do
            [ -z "$BEFORE" ] || bb=$(best "$bb" "$(ours "$f" "$t" "$BEFORE")")
            bo=$(best "$bo" "$(ours "$f" "$t")")
            bl=$(best "$bl" "$(theirs "$f" "$t")")
            r=$((r + 1))
        done
        if [ -n "$BEFORE" ]; then
            echo "| $(basename "$f") | $t | $bb | $bo | $bl | $(ratio "$bo" "$bb") | $(ratio "$bo" "$bl") |"
        else
            echo "| $(basename "$f") | $t | $bo | $bl | $(ratio "$bo" "$bl") |"
        fi
    done
done
