#!/bin/sh
# tests/fuzz/run_tokenizer.sh [SECONDS] - build the tokenizer libFuzzer target (clang, ASan +
# UBSan) and run it for SECONDS (default 20) on seeds made from tests/fixtures/tok (each
# tokenizer.json behind a 0x00 byte, each case text behind a 0x01 byte) plus hand-made inputs.
# New interesting inputs accumulate in build/fuzz/corpus_tokenizer across runs.
# Exit status: 0 if nothing was found; 1 on a crash, leak, UB, timeout or out-of-memory
# (reproducer: build/fuzz/crash_tokenizer-*; re-run with build/fuzz/fuzz_tokenizer FILE from the
# repository root); 2 if the build failed. (Same conventions as tests/fuzz/run.sh.)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-20}
FUZZ_CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
$FUZZ_CC $flags -o "$out/fuzz_tokenizer" tests/fuzz/fuzz_tokenizer.c -lm -lpthread || { echo "FAIL fuzz_tokenizer: build failed"; exit 2; }

S="$out/seed_tokenizer"
rm -rf "$S"
mkdir -p "$S" "$out/corpus_tokenizer"
for f in tests/fixtures/tok/qwen2.json tests/fixtures/tok/llama3.json tests/fixtures/tok/gpt2.json tests/fixtures/tok/flags.json; do
    { printf '\000'; cat "$f"; } > "$S/json_$(basename "$f")"
done
# a small tokenizer.json of each pre-tokenizer kind (quick for the mutator to work on)
mini() { # name pre_tokenizer normalizer post_processor
    { printf '\000'; printf '{"version":"1.0","added_tokens":[{"id":9,"content":"<s>","special":true,"normalized":false},{"id":10,"content":"x","single_word":true,"lstrip":true,"rstrip":true,"normalized":true}],"normalizer":%s,"pre_tokenizer":%s,"post_processor":%s,"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","unk_token":"u","fuse_unk":true,"ignore_merges":true,"vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"Ġab":4,"u":5,"aab":6,"c":7,"é":8},"merges":["a b","Ġ ab",["a","ab"]]}}' "$3" "$2" "$4"; } > "$S/mini_$1"
}
mini gpt2 '{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}' 'null' 'null'
mini smollm '{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}]}' 'null' '{"type":"ByteLevel"}'
mini qwen2 '{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'"'"'s|'"'"'t|'"'"'re|'"'"'ve|'"'"'m|'"'"'ll|'"'"'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}' '{"type":"NFC"}' 'null'
mini llama3 '{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'"'"'s|'"'"'t|'"'"'re|'"'"'ve|'"'"'m|'"'"'ll|'"'"'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}' 'null' '{"type":"Sequence","processors":[{"type":"ByteLevel"},{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[9],"tokens":["<s>"]}}}]}'
i=0
python3 - "$S" <<'PY' 2>/dev/null || true
import json, sys
cases = json.load(open("tests/fixtures/tok/cases.json"))["cases"]
for k, c in enumerate(cases):
    open(f"{sys.argv[1]}/text_{k}", "wb").write(b"\x01" + c["text"].encode("utf-8"))
PY
for s in "don't DON'T 'ſ 'LL" "a  b   c\n\n\n  d\r\n" "<|im_start|>user<|im_end|><|endoftext|>" "x\314\201\341\204\200\341\205\241 \357\274\241" "\377\376abc\300\200" "12345 ٣٤٥ ½"; do
    printf '\001%b' "$s" > "$S/hand_$i"
    i=$((i + 1))
done
cat > "$out/tokenizer.dict" <<'DICT'
"\"type\":"
"\"BPE\""
"\"ByteLevel\""
"\"Sequence\""
"\"Split\""
"\"Digits\""
"\"NFC\""
"\"TemplateProcessing\""
"\"SpecialToken\""
"\"special_tokens\""
"\"vocab\":"
"\"merges\":"
"\"added_tokens\":"
"\"content\":"
"\"special\":true"
"\"normalized\":true"
"\"lstrip\":true"
"\"rstrip\":true"
"\"single_word\":true"
"\"ignore_merges\":true"
"\"unk_token\":"
"\"use_regex\":true"
"<|im_start|>"
"<|endoftext|>"
"'s"
"'LL"
"\xcc\x81"
"\xc5\xbf"
"\xe1\x84\x80"
"\xe3\x80\x80"
"\xc2\xa0"
"\x0d\x0a"
DICT

echo "fuzz_tokenizer: ${secs}s"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_tokenizer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$out/tokenizer.dict" -artifact_prefix="$out/crash_tokenizer-" -print_final_stats=1 \
    "$out/corpus_tokenizer" "$S" > "$out/fuzz_tokenizer.log" 2>&1
rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$out/fuzz_tokenizer.log" | tr '\n' ' '
echo
if [ $rc -ne 0 ]; then
    echo "FAIL fuzz_tokenizer: exit status $rc; see $out/fuzz_tokenizer.log and $out/crash_tokenizer-*"
    grep -m3 -E 'ERROR|runtime error|SUMMARY' "$out/fuzz_tokenizer.log"
    exit 1
fi
echo "PASS fuzz_tokenizer: no crash in ${secs}s (corpus $(ls "$out/corpus_tokenizer" | wc -l) inputs)"
