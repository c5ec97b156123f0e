#!/bin/sh
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer targets (clang, ASan + UBSan) and run each
# for SECONDS (default 20) on a seed corpus made from tests/fixtures plus small hand-made
# inputs. New interesting inputs accumulate in build/fuzz/corpus_<target> across runs.
# Exit status: 0 if no target found anything; 1 if one crashed, leaked, hit UB, timed out
# or ran out of memory (the reproducer is build/fuzz/crash_<target>-*; re-run it with
# build/fuzz/fuzz_<target> FILE); 2 if the build failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-20}
FUZZ_CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
for t in json safetensors; do
    $FUZZ_CC $flags -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" -lm -lpthread || { echo "FAIL fuzz_$t: build failed"; exit 2; }
done

# ---- seeds ----
rm -rf "$out/seed_json" "$out/seed_safetensors"
mkdir -p "$out/seed_json" "$out/seed_safetensors" "$out/corpus_json" "$out/corpus_safetensors"
for f in tests/fixtures/*/*.json; do
    cp "$f" "$out/seed_json/$(echo "$f" | tr '/' '_')"
done
i=0
for s in '{}' '[]' '""' '0' '-0.5e-7' '[1,2.5,-3e+2,true,false,null]' '{"a":{"b":[{}]},"a":1}' \
    '"\u00e9\ud83d\ude00\n\t\\\/\"\u0000"' '[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]' '9223372036854775807' \
    '{"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":32,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":64},"eos_token_id":[1,2]}'; do
    printf '%s' "$s" > "$out/seed_json/hand_$i"
    i=$((i + 1))
done
cat > "$out/json.dict" <<'DICT'
"true"
"false"
"null"
"\\u"
"\\ud83d\\ude00"
"\":"
"[]"
"{}"
"e+"
"-0."
"\"architectures\""
"\"model_type\""
"\"rope_parameters\""
"\"rope_scaling\""
"\"rope_type\""
"\"llama3\""
"\"hidden_size\""
"\"num_attention_heads\""
"\"num_key_value_heads\""
"\"head_dim\""
"\"eos_token_id\""
DICT

# a safetensors image: 8-byte little-endian header length, header, N data bytes
mkst() { # file header n_data
    n=${#2}
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o\\000\\000\\000\\000' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))" > "$1"
    printf '%s' "$2" >> "$1"
    head -c "$3" /dev/urandom >> "$1"
}
S="$out/seed_safetensors"
mkst "$S/golden" '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ' 24
mkst "$S/empty" '{}      ' 0
mkst "$S/meta" '{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}' 12
mkst "$S/mixed" '  {"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"z":{"dtype":"F32","shape":[0,4],"data_offsets":[6,6]},"x":{"dtype":"F4","shape":[4],"data_offsets":[6,8]},"i":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"d":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},"u":{"dtype":"U8","shape":[2],"data_offsets":[24,26]}} ' 26
for f in tests/fixtures/*/*.safetensors; do # the small fixtures (big ones only slow the mutator down)
    [ "$(wc -c < "$f")" -le 120000 ] && cp "$f" "$S/$(echo "$f" | tr '/' '_')"
done
cat > "$out/safetensors.dict" <<'DICT'
"\"dtype\":"
"\"shape\":"
"\"data_offsets\":"
"\"__metadata__\""
"\"F32\""
"\"BF16\""
"\"F16\""
"\"I32\""
"\"I64\""
"\"F64\""
"\"BOOL\""
"\"F4\""
"\"U8\""
"[0,0]"
"[]"
DICT

# ---- run ----
fail=0
for t in json safetensors; do
    echo "fuzz_$t: ${secs}s"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
        -dict="$out/$t.dict" -artifact_prefix="$out/crash_$t-" -print_final_stats=1 \
        "$out/corpus_$t" "$out/seed_$t" > "$out/fuzz_$t.log" 2>&1
    rc=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$out/fuzz_$t.log" | tr '\n' ' '
    echo
    if [ $rc -ne 0 ]; then
        echo "FAIL fuzz_$t: exit status $rc; see $out/fuzz_$t.log and $out/crash_$t-*"
        grep -m3 -E 'ERROR|runtime error|SUMMARY' "$out/fuzz_$t.log"
        fail=1
    else
        echo "PASS fuzz_$t: no crash in ${secs}s (corpus $(ls "$out/corpus_$t" | wc -l) inputs)"
    fi
done
exit $fail
