#!/bin/sh
# tests/cuda/test_cli_device.sh - radlads convert / eval / generate --device (issue 10), with
# the tool built with the GPU code ($RADLADS, default build/cuda-emu/radlads: the CPU
# emulation of CUDA) against the same commands on the CPU, on tests/fixtures/tiny-llama:
#   - a conversion (steps 1, 2 and 3) on the device logs the CPU run's losses (train.csv,
#     1e-4 relative) and writes a student that scores as the CPU's (eval, 4 digits);
#   - eval (perplexity, KL and top-1 against the teacher; lm-evaluation-harness tasks) and
#     greedy generate on the device print what they print on the CPU;
#   - a stage that does not fit in the device's memory (RL_EMU_MEM_MIB) is refused before
#     anything runs, naming the sizes and --micro-batch;
#   - the tool built without the GPU code refuses --device cuda with the way out, and
#     --device auto runs on the CPU.
# One PASS/FAIL line per case.
cd "$(dirname "$0")/../.." || exit 1
B=${RADLADS:-build/cuda-emu/radlads}
H=${RADLADS_HOST:-build/radlads}
M=tests/fixtures/tiny-llama
T=$(mktemp -d "${TMPDIR:-/tmp}/rl_test_cli_device.XXXXXX")
trap 'rm -rf "$T"' EXIT
failed=0
for b in "$B" "$H"; do
    if [ ! -x "$b" ]; then
        echo "FAIL cli device: $b not built"
        exit 1
    fi
done
if ! "$B" info --model $M >/dev/null 2>&1; then
    echo "FAIL cli device: $B does not run"
    exit 1
fi
i=0
while [ $i -lt 300 ]; do
    echo "The quick brown fox $i jumps over the lazy dog; a stitch in time saves nine."
    i=$((i + 1))
done > "$T/d.txt"

pass() { echo "PASS cli device: $1"; }
fail() {
    echo "FAIL cli device: $1"
    [ -n "$2" ] && sed 's/^/    /' "$2" | tail -15
    failed=1
}

# the same conversion on the CPU and on the device
C="convert --teacher $M --data $T/d.txt --ctx 16 --batch 4 --micro-batch 2 --step1-tokens 192 --step2-tokens 192 --step3-tokens 128 --step3-chunk 8 --warmup 0 --lr2 1e-4 --lr3 1e-4 --eval-windows 2"
for dv in cpu cuda; do
    if "$B" $C --out "$T/$dv" --device $dv > "$T/$dv.log" 2>&1; then :; else fail "convert --device $dv exits with an error" "$T/$dv.log"; fi
done
# train.csv: stage,step,tokens,loss,lr,grad_norm,tok/s
if [ -s "$T/cpu/train.csv" ] && [ -s "$T/cuda/train.csv" ] &&
    paste -d, "$T/cpu/train.csv" "$T/cuda/train.csv" | awk -F, '
        { n++; for (k = 4; k <= 6; k += 2) { a = $k; b = $(k + 7); d = a - b; if (d < 0) d = -d; s = (a < 0 ? -a : a);
              if (d > 1e-4 * s + 1e-6) { print "row " n " column " k ": " a " vs " b; bad = 1 } } }
        END { exit !(n >= 8 && !bad) }' > "$T/diff.txt"; then
    pass "convert --device cuda logs the CPU run's losses and gradient norms (steps 1-3, $(wc -l < "$T/cpu/train.csv") steps, 1e-4)"
else
    fail "convert --device cuda: train.csv differs from the CPU run's" "$T/diff.txt"
fi
grep -q "memory on cuda" "$T/cuda.log" && grep -q "radlads convert: on cuda: .*GiB free" "$T/cuda.log" && grep -q "held-out ppl" "$T/cuda.log" &&
    pass "convert --device cuda names the device and its memory, plans on it, reports held-out scores" ||
    fail "convert --device cuda: no device line, plan on cuda or report" "$T/cuda.log"

# eval and generate of the students written by the two runs, on both places
for dv in cpu cuda; do
    "$B" eval --model "$T/$dv/model" --teacher $M --data "$T/d.txt" --ctx 16 --device $dv 2>/dev/null | sed 's/^[^:]*: //' > "$T/eval.$dv"
    "$B" generate --model "$T/cuda/model" --prompt "The quick brown" -n 12 --device $dv 2>/dev/null > "$T/gen.$dv"
done
# the same lines, numbers within 1e-4 relative (a GPU sums in another order)
same_numbers() {
    [ -s "$1" ] && [ -s "$2" ] && paste -d'\n' "$1" "$2" | awk '
        { gsub(/[^0-9.e+-]+/, " "); n = split($0, v, " "); if (NR % 2) { m = n; for (i = 1; i <= n; i++) u[i] = v[i]; next }
          if (n != m) bad = 1; for (i = 1; i <= n; i++) { d = u[i] - v[i]; if (d < 0) d = -d; s = u[i] < 0 ? -u[i] : u[i]; if (d > 1e-4 * s + 1e-6) bad = 1 } }
        END { exit bad }'
}
if same_numbers "$T/eval.cpu" "$T/eval.cuda"; then
    pass "eval --device cuda prints the CPU's perplexity, KL and top-1 ($(head -c 60 "$T/eval.cpu")...)"
else
    diff "$T/eval.cpu" "$T/eval.cuda" > "$T/diff.txt"
    fail "eval --device cuda differs from the CPU" "$T/diff.txt"
fi
"$B" eval --model "$T/cpu/model" --data "$T/d.txt" --ctx 16 --device cpu 2>/dev/null | sed 's/^[^:]*: //' > "$T/eval.cpu1"
"$B" eval --model "$T/cuda/model" --data "$T/d.txt" --ctx 16 --device cpu 2>/dev/null | sed 's/^[^:]*: //' > "$T/eval.cuda1"
if same_numbers "$T/eval.cpu1" "$T/eval.cuda1"; then
    pass "the student converted on the device scores as the CPU's ($(head -c 50 "$T/eval.cpu1")...)"
else
    diff "$T/eval.cpu1" "$T/eval.cuda1" > "$T/diff.txt"
    fail "the students converted on the device and on the CPU score differently" "$T/diff.txt"
fi
if [ -s "$T/gen.cpu" ] && cmp -s "$T/gen.cpu" "$T/gen.cuda"; then
    pass "generate --device cuda writes the CPU's greedy text"
else
    diff "$T/gen.cpu" "$T/gen.cuda" > "$T/diff.txt"
    fail "generate --device cuda differs from the CPU" "$T/diff.txt"
fi

# lm-evaluation-harness scoring on the device
for task in hellaswag lambada_openai; do
    for dv in cpu cuda; do
        "$B" eval --model $M --task tests/fixtures/lmeval/$task.jsonl --device $dv 2>/dev/null > "$T/task.$dv"
    done
    if same_numbers "$T/task.cpu" "$T/task.cuda"; then
        pass "eval --task $task --device cuda scores as the CPU ($(sed 's/^[^:]*: //' "$T/task.cpu"))"
    else
        diff "$T/task.cpu" "$T/task.cuda" > "$T/diff.txt"
        fail "eval --task $task --device cuda differs from the CPU" "$T/diff.txt"
    fi
done

# does not fit: refused before any step, with the sizes and the flags that help (the
# emulation's memory is RL_EMU_MEM_MIB; a real GPU's cannot be made that small)
if grep -q "CPU emulation" "$T/cuda.log"; then
    RL_EMU_MEM_MIB=1 "$B" $C --out "$T/small" --device cuda > "$T/small.log" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -q "does not fit on cuda" "$T/small.log" && grep -q "Lower --micro-batch (now 2), use --layerwise" "$T/small.log" &&
        grep -q "GiB are free of 0.00" "$T/small.log" && [ ! -e "$T/small/train.csv" ]; then
        pass "a stage too large for the device is refused before it starts, with its sizes and --micro-batch / --layerwise"
    else
        fail "a stage too large for the device (status $rc)" "$T/small.log"
    fi
else
    echo "SKIP cli device: a stage too large for the device (a real GPU: its memory cannot be made small)"
fi

# a build without the GPU code
"$H" generate --model $M -n 2 --device cuda > "$T/nocuda.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "built without RADLADS_CUDA" "$T/nocuda.log" && grep -q "make -f tools/cuda.mk radlads-cuda; or --device cpu" "$T/nocuda.log"; then
    pass "a build without the GPU code refuses --device cuda and says how to get it"
else
    fail "--device cuda without the GPU code (status $rc)" "$T/nocuda.log"
fi
"$H" generate --model $M -n 2 --device auto > "$T/auto.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "running on the CPU" "$T/auto.log"; then
    pass "--device auto without a GPU runs on the CPU and says so"
else
    fail "--device auto without a GPU (status $rc)" "$T/auto.log"
fi
exit $failed
