#!/bin/sh
# tests/fuzz/run_llama2c.sh [SECONDS] - build the llama2.c libFuzzer target (clang, ASan +
# UBSan) and run it for SECONDS (default 20) on seeds: tiny llama2.c models in each format
# (v0 shared/unshared, v1, v2), made here with Python's struct module, and a small
# tokenizer.bin (plus ../shared/data/stories260K/tok512.bin when present).
# New interesting inputs accumulate in build/fuzz/corpus_llama2c across runs.
# Exit status: 0 if nothing was found; 1 on a crash, leak, UB, timeout or out-of-memory
# (reproducer: build/fuzz/crash_llama2c-*; re-run with build/fuzz/fuzz_llama2c FILE);
# 2 if the build failed. (Same conventions as tests/fuzz/run.sh.)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-20}
FUZZ_CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c99 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
$FUZZ_CC $flags -o "$out/fuzz_llama2c" tests/fuzz/fuzz_llama2c.c -lm -lpthread || { echo "FAIL fuzz_llama2c: build failed"; exit 2; }
S="$out/seed_llama2c"
rm -rf "$S"
mkdir -p "$S" "$out/corpus_llama2c"
python3 - "$S" <<'PY' || true
import struct, sys, random
r = random.Random(1)
d = sys.argv[1]
dim, hid, L, H, KVH, V, S = 8, 12, 1, 2, 1, 16, 8
hd = dim // H; kvd = KVH * hd
def f(n): return struct.pack(f"<{n}f", *[r.uniform(-1, 1) for _ in range(n)])
mats = [V*dim, L*dim*dim, L*kvd*dim, L*kvd*dim, L*dim*dim, L*hid*dim, L*dim*hid, L*hid*dim]
for shared in (1, 0):
    b = struct.pack("<7i", dim, hid, L, H, KVH, V if shared else -V, S)
    b += f(V*dim) + f(L*dim) + f(L*dim*dim) + f(2*L*kvd*dim) + f(L*dim*dim) + f(L*dim) + f(3*L*hid*dim) + f(dim) + f(S*hd)
    if not shared: b += f(V*dim)
    open(f"{d}/v0_{shared}", "wb").write(b"\x00" + b)
    h = struct.pack("<Ii7iB", 0x616b3432, 1, dim, hid, L, H, KVH, V, S, shared)
    b = h + b"\0" * (256 - len(h)) + f(2*L*dim + dim) + b"".join(f(n) for n in mats) + (b"" if shared else f(V*dim))
    open(f"{d}/v1_{shared}", "wb").write(b"\x00" + b)
    gs = 4
    h = struct.pack("<Ii7iBi", 0x616b3432, 2, dim, hid, L, H, KVH, V, S, shared, gs)
    ms = mats + ([] if shared else [V*dim])
    b = h + b"\0" * (256 - len(h)) + f(2*L*dim + dim) + b"".join(bytes(r.randrange(256) for _ in range(n)) for n in ms) + b"".join(f(n // gs) for n in ms)
    open(f"{d}/v2_{shared}", "wb").write(b"\x00" + b)
t = struct.pack("<i", 7)
for p in [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)] + [b" ", b"a", b"b", b"ab", b" a", b"\xc3\xa9"]:
    t += struct.pack("<fi", -r.randrange(10), len(p)) + p
open(f"{d}/tok_mini", "wb").write(b"\x01" + t + b" ab a\xc3\xa9 ba")
PY
data_dir=${RADLADS_DATA:-../shared/data}
[ -f "$data_dir/stories260K/tok512.bin" ] && { printf '\001'; cat "$data_dir/stories260K/tok512.bin"; printf 'Once upon a time'; } > "$S/tok512"
echo "fuzz_llama2c: ${secs}s"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_llama2c" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$out/crash_llama2c-" -print_final_stats=1 \
    "$out/corpus_llama2c" "$S" > "$out/fuzz_llama2c.log" 2>&1
rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' "$out/fuzz_llama2c.log" | tr '\n' ' '
echo
if [ $rc -ne 0 ]; then
    echo "FAIL fuzz_llama2c: exit status $rc; see $out/fuzz_llama2c.log and $out/crash_llama2c-*"
    grep -m3 -E 'ERROR|runtime error|SUMMARY' "$out/fuzz_llama2c.log"
    exit 1
fi
echo "PASS fuzz_llama2c: no crash in ${secs}s (corpus $(ls "$out/corpus_llama2c" | wc -l) inputs)"
