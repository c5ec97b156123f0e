#!/bin/sh
# tests/fuzz/run_loaders.sh [SECONDS] - build the loader libFuzzer targets of
# tests/fuzz/fuzz_loaders.c (clang, ASan + UBSan; one binary per -DFZ_<TARGET>) and run each
# for SECONDS (default 20) on its seed corpus:
#   jsonl     hand-made .jsonl lines (good, bad JSON, missing/non-string "text", blank lines)
#   llmc      llm.c token files (version 1 and 2, wrong magic/version/count), made here
#   binidx    .idx/.bin pairs (uint16, int32, uint8, bad magic/dtype/size), made here
#   lmeval    tests/fixtures/lmeval/*.jsonl (each task), behind a task-selector byte
#   shards    tests/fixtures/tiny-llama-sharded/model.safetensors.index.json and variants
#   ckpt      checkpoints of stage 1 and 2 written by the target itself (RL_FUZZ_SEEDS)
#   gguf_tok  tests/fixtures/gguf/*.gguf (small ones)
# New interesting inputs accumulate in build/fuzz/corpus_<target>. Exit status: 0 if nothing
# was found; 1 on a crash, leak, UB, timeout or out-of-memory (reproducer:
# build/fuzz/crash_<target>-*; re-run with build/fuzz/fuzz_<target> FILE from the repository
# root); 2 if a build failed. (Same conventions as tests/fuzz/run.sh.)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-20}
FUZZ_CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
targets="jsonl llmc binidx lmeval shards ckpt gguf_tok"
for t in $targets; do
    T=$(echo "$t" | tr a-z A-Z)
    $FUZZ_CC $flags -DFZ_$T -o "$out/fuzz_$t" tests/fuzz/fuzz_loaders.c -lm -lpthread || { echo "FAIL fuzz_$t: build failed"; exit 2; }
    rm -rf "$out/seed_$t"
    mkdir -p "$out/seed_$t" "$out/corpus_$t"
done

# ---- seeds ----
S=$out/seed_jsonl
i=0
for s in '{"text":"hello world"}' '{"text":"a"}\n\n{"text":"b c d"}\n' '{"text":""}' '{"text":"\\u00e9\\ud83d\\ude00 x"}' \
    '{"text":1}' '{"txt":"x"}' '[1,2]' '{"text":"unterminated' '{"text":"ok"}\r\n{"text":"crlf"}\r\n' 'not json at all'; do
    printf "$s" > "$S/hand_$i"
    i=$((i + 1))
done
# llm.c: 256 int32 header (magic 20240520, version, count) then uint16 (v1) / uint32 (v2) ids
hdr() { # magic version count -> 1024 bytes
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
    printf "$(printf '\\%03o\\000\\000\\000' "$2")"
    printf "$(printf '\\%03o\\%03o\\000\\000' $(($3 & 255)) $(($3 >> 8 & 255)))"
    head -c 1012 /dev/zero
}
S=$out/seed_llmc
{ hdr 20240520 1 4; printf '\001\000\002\000\003\000\377\377'; } > "$S/v1"
{ hdr 20240520 2 2; printf '\001\000\000\000\377\377\377\177'; } > "$S/v2"
{ hdr 20240520 1 5; printf '\001\000'; } > "$S/short"
{ hdr 20240519 1 0; } > "$S/magic"
{ hdr 20240520 3 0; } > "$S/version"
cp tests/fixtures/train/*.bin "$S/" 2>/dev/null || true
# binidx: 2-byte .idx length, .idx (magic "MMIDIDX\0\0", version, dtype code at byte 17), .bin
S=$out/seed_binidx
idx() { printf 'MMIDIDX\000\000\001\000\000\000\000\000\000\000'"$1"; head -c 16 /dev/zero; }
{ printf '\042\000'; idx '\010'; printf '\001\000\002\000\003\000'; } > "$S/u16"
{ printf '\042\000'; idx '\004'; printf '\001\000\000\000\002\000\000\200'; } > "$S/i32"
{ printf '\042\000'; idx '\001'; printf 'abc'; } > "$S/u8"
{ printf '\042\000'; idx '\005'; printf '\001\000\000\000\000\000\000\000'; } > "$S/i64"
{ printf '\042\000'; idx '\010'; printf '\001\000\002'; } > "$S/odd"
{ printf '\005\000'; printf 'MMIDX'; printf 'xx'; } > "$S/magic"
# lm-eval: each fixture task file, behind its selector byte (0 auto, 1 hellaswag, 2 piqa, 3 arc_easy, 4 winogrande, 5 lambada)
S=$out/seed_lmeval
for f in tests/fixtures/lmeval/*.jsonl; do
    b=$(basename "$f" .jsonl)
    case "$b" in hellaswag*) k=1 ;; piqa*) k=2 ;; arc*) k=3 ;; winogrande*) k=4 ;; lambada*) k=5 ;; *) k=0 ;; esac
    { printf "\\00$k"; head -n 3 "$f"; } > "$S/$b"
    { printf '\000'; head -n 2 "$f"; } > "$S/auto_$b"
done
# shards: the real index and small variants
S=$out/seed_shards
cp tests/fixtures/tiny-llama-sharded/model.safetensors.index.json "$S/index"
printf '{"metadata":{"total_size":1},"weight_map":{"model.norm.weight":"model-00003-of-00003.safetensors"}}' > "$S/one"
printf '{"weight_map":{"a":"../x.safetensors"}}' > "$S/escape"
printf '{"weight_map":{}}' > "$S/empty"
printf '{"weight_map":{"model.norm.weight":"model-00001-of-00003.safetensors"}}' > "$S/wrong_shard"
# checkpoints written by the target
RL_FUZZ_SEEDS="$out/seed_ckpt" "$out/fuzz_ckpt" -runs=0 > /dev/null 2>&1
# gguf files
for f in tests/fixtures/gguf/*.gguf; do
    [ "$(wc -c < "$f")" -le 131072 ] && cp "$f" "$out/seed_gguf_tok/$(basename "$f")"
done

cat > "$out/loaders.dict" <<'DICT'
"{\"text\":"
"\"text\""
"\"label\":"
"\"endings\":"
"\"ctx_a\":"
"\"ctx_b\":"
"\"activity_label\":"
"\"goal\":"
"\"sol1\":"
"\"sol2\":"
"\"answerKey\":"
"\"choices\":"
"\"question\":"
"\"sentence\":"
"\"option1\":"
"\"option2\":"
"\"answer\":"
"\"weight_map\":"
"\"metadata\":"
"model-00001-of-00003.safetensors"
"model.layers.0.self_attn.q_proj.weight"
"radlads.stage"
"radlads.step"
"radlads.adam_step"
"radlads.id.ctx"
"radlads.id.batch"
"\"__metadata__\":"
"MMIDIDX\x00\x00"
"\x98\x2e\x35\x01"
"tokenizer.ggml.tokens"
"tokenizer.ggml.merges"
"tokenizer.ggml.model"
"tokenizer.ggml.pre"
"gpt2"
"llama-bpe"
"qwen2"
"smollm"
DICT

# ---- run ----
fail=0
for t in $targets; do
    echo "fuzz_$t: ${secs}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -dict="$out/loaders.dict" -artifact_prefix="$out/crash_$t-" -print_final_stats=1 \
        "$out/corpus_$t" "$out/seed_$t" > "$out/fuzz_$t.log" 2>&1
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$out/fuzz_$t.log" | tr '\n' ' '
    echo
    if [ $rc -ne 0 ]; then
        echo "FAIL fuzz_$t: exit status $rc; see $out/fuzz_$t.log and $out/crash_$t-*"
        grep -m3 -E 'ERROR|runtime error|SUMMARY|deadly' "$out/fuzz_$t.log"
        fail=1
    else
        echo "PASS fuzz_$t: no crash in ${secs}s (corpus $(ls "$out/corpus_$t" | wc -l) inputs, seeds $(ls "$out/seed_$t" | wc -l))"
    fi
done
exit $fail
