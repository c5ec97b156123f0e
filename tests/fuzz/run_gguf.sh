#!/bin/sh
# tests/fuzz/run_gguf.sh [SECONDS] - build the GGUF libFuzzer target (clang, ASan + UBSan)
# and run it for SECONDS (default 20) on a seed corpus made from tests/fixtures/gguf.
# New interesting inputs accumulate in build/fuzz/corpus_gguf across runs.
# Exit status: 0 if nothing was found; 1 on a crash, leak, UB, timeout or out-of-memory
# (reproducer: build/fuzz/crash_gguf-*; re-run with build/fuzz/fuzz_gguf FILE); 2 if the
# build failed. (Same conventions as tests/fuzz/run.sh; the lead may fold it in there.)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-20}
FUZZ_CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
$FUZZ_CC $flags -o "$out/fuzz_gguf" tests/fuzz/fuzz_gguf.c -lm -lpthread || { echo "FAIL fuzz_gguf: build failed"; exit 2; }

rm -rf "$out/seed_gguf"
mkdir -p "$out/seed_gguf" "$out/corpus_gguf"
for f in tests/fixtures/gguf/*.gguf; do
    [ "$(wc -c < "$f")" -le 131072 ] && cp "$f" "$out/seed_gguf/$(basename "$f")"
done
cat > "$out/gguf.dict" <<'DICT'
"GGUF"
"\x03\x00\x00\x00"
"\x02\x00\x00\x00"
"\x09\x00\x00\x00"
"\x08\x00\x00\x00"
"general.alignment"
"general.architecture"
"llama"
"qwen2"
"llama.block_count"
"llama.embedding_length"
"llama.feed_forward_length"
"llama.attention.head_count"
"llama.attention.head_count_kv"
"llama.attention.layer_norm_rms_epsilon"
"llama.attention.key_length"
"tokenizer.ggml.tokens"
"tokenizer.ggml.merges"
"tokenizer.ggml.token_type"
"tokenizer.ggml.bos_token_id"
"token_embd.weight"
"output.weight"
"blk.0.attn_q.weight"
"blk.0.attn_k.weight"
DICT

echo "fuzz_gguf: ${secs}s"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_gguf" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
    -dict="$out/gguf.dict" -artifact_prefix="$out/crash_gguf-" -print_final_stats=1 \
    "$out/corpus_gguf" "$out/seed_gguf" > "$out/fuzz_gguf.log" 2>&1
rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$out/fuzz_gguf.log" | tr '\n' ' '
echo
if [ $rc -ne 0 ]; then
    echo "FAIL fuzz_gguf: exit status $rc; see $out/fuzz_gguf.log and $out/crash_gguf-*"
    grep -m3 -E 'ERROR|runtime error|SUMMARY' "$out/fuzz_gguf.log"
    exit 1
fi
echo "PASS fuzz_gguf: no crash in ${secs}s (corpus $(ls "$out/corpus_gguf" | wc -l) inputs)"
