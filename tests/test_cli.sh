#!/bin/sh
# tests/test_cli.sh - the radlads command-line tool on bad input (issue 14): every bad flag
# and number is refused with a message that states the limits, config.json and checkpoints
# that contradict the run are refused naming the file and field, Ctrl-C keeps a checkpoint.
# Runs $RADLADS (default build/radlads) on tests/fixtures/tiny-llama; prints one
# PASS/FAIL line per case, as the C tests do. Under `make test-asan` RADLADS is the
# ASan/UBSan/LSan build and any sanitizer report fails the case.
cd "$(dirname "$0")/.." || exit 1
B=${RADLADS:-build/radlads}
M=tests/fixtures/tiny-llama
T=$(mktemp -d "${TMPDIR:-/tmp}/rl_test_cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
failed=0

if [ ! -x "$B" ]; then
    echo "FAIL cli: $B not built (make $B)"
    exit 1
fi

# text for the data (the tiny teacher's tokenizer is byte-level BPE: any text works)
i=0
while [ $i -lt 300 ]; do
    echo "The quick brown fox $i jumps over the lazy dog; a stitch in time saves nine."
    i=$((i + 1))
done > "$T/d.txt"
sed 's/fox/cat/' "$T/d.txt" > "$T/d2.txt"

sanitizer() { grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error|SUMMARY: UndefinedBehaviorSanitizer' "$1"; }

# expect NAME STATUS PATTERN CMD...: CMD exits with STATUS and its output (stdout+stderr)
# matches the extended regex PATTERN; no sanitizer report; at most 60 s
expect() {
    name=$1 want=$2 pat=$3
    shift 3
    timeout 60 "$@" > "$T/out" 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then
        echo "FAIL cli: $name: timed out (hangs)"
        failed=$((failed + 1))
    elif sanitizer "$T/out"; then
        echo "FAIL cli: $name: sanitizer report: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$T/out")"
        failed=$((failed + 1))
    elif grep -q 'internal:' "$T/out"; then
        echo "FAIL cli: $name: $(grep -m1 'internal:' "$T/out")"
        failed=$((failed + 1))
    elif [ $rc -ne "$want" ]; then
        echo "FAIL cli: $name: exit status $rc, want $want: $(tail -c 300 "$T/out" | tr '\n' ' ')"
        failed=$((failed + 1))
    elif ! grep -q -E -e "$pat" "$T/out"; then
        echo "FAIL cli: $name: output lacks /$pat/: $(tail -c 300 "$T/out" | tr '\n' ' ')"
        failed=$((failed + 1))
    else
        echo "PASS cli: $name"
    fi
}
check() { # NAME CONDITION-EXIT-STATUS MESSAGE
    if [ "$2" -eq 0 ]; then echo "PASS cli: $1"; else echo "FAIL cli: $1: $3"; failed=$((failed + 1)); fi
}

C="convert --teacher $M --data $T/d.txt --no-report"

# ---- flags: unknown, repeated, missing values, bad choices ----
expect "unknown flag is refused, listing the command's flags" 2 "unknown flag '--bogus'.*|accepts: .*--model" $B generate --model $M --bogus 1
expect "a stray argument is refused" 2 "unexpected argument 'extra'" $B info --model $M extra
expect "repeated flag is refused" 2 "\-n is given twice" $B generate --model $M -n 5 -n 6
expect "flag without its value is refused" 2 "\-\-model needs a value" $B generate --model
expect "unknown command is refused" 2 "unknown command 'frobnicate'" $B frobnicate
expect "export --type q4 lists the valid types" 2 "\-\-type: 'q4' is not one of: f16, bf16, f32" $B export --model $M --out "$T/x.gguf" --type q4
expect "convert --arch foo lists the valid ones" 2 "\-\-arch: 'foo' is not one of: rwkv7, rwkv6" $B $C --out "$T/o" --arch foo
expect "eval --task-name bad lists the tasks" 2 "is not one of: auto, hellaswag" $B eval --model $M --task x.jsonl --task-name mmlu

# ---- numbers: whole string, range, NaN/Inf, limits in the message ----
expect "eval --stride -4 (was: heap overflow in rl_embedding)" 2 "\-\-stride: -4 is outside \[1, 16777216\]" $B eval --model $M --data "$T/d.txt" --ctx 32 --stride -4
expect "eval --stride -100000" 2 "\-\-stride: -100000 is outside" $B eval --model $M --data "$T/d.txt" --ctx 32 --stride -100000
expect "eval --stride 0 (was: hangs)" 2 "\-\-stride: 0 is outside \[1," $B eval --model $M --data "$T/d.txt" --ctx 32 --stride 0
expect "eval --stride larger than --ctx" 2 "\-\-stride 64 is larger than --ctx 32" $B eval --model $M --data "$T/d.txt" --ctx 32 --stride 64
expect "convert --batch 0 (was: SIGFPE)" 2 "\-\-batch: 0 is outside \[1, 1048576\]" $B $C --out "$T/o" --batch 0
expect "convert --step3-ctx 0 (was: SIGFPE)" 2 "\-\-step3-ctx: 0 is outside \[1," $B $C --out "$T/o" --step3-tokens 1k --step3-ctx 0
expect "eval --heldout nan (was: signed overflow)" 2 "\-\-heldout: 'nan' is not a number" $B eval --model $M --data "$T/d.txt" --heldout nan
expect "convert --heldout nan" 2 "\-\-heldout: 'nan' is not a number" $B $C --out "$T/o" --heldout nan
expect "convert --lr1 nan (was: a NaN student written)" 2 "\-\-lr1: 'nan' is not a number" $B $C --out "$T/o" --lr1 nan
expect "convert --lr1 1e999 (not finite)" 2 "\-\-lr1: '1e999' is not finite" $B $C --out "$T/o" --lr1 1e999
expect "convert --lr2 -1" 2 "\-\-lr2: -1 is outside \[0, 10\]" $B $C --out "$T/o" --lr2 -1
expect "generate -n -5" 2 "\-n: -5 is outside \[0, 1073741824\]" $B generate --model $M -n -5
expect "generate -n 3e9" 2 "\-n: 3e9 is outside \[0, 1073741824\]" $B generate --model $M -n 3e9
expect "generate --top-p 2" 2 "\-\-top-p: 2 is outside \[0, 1\]" $B generate --model $M --top-p 2
expect "eval --windows 0" 2 "\-\-windows: 0 is outside \[1," $B eval --model $M --data "$T/d.txt" --windows 0
expect "eval --windows -3" 2 "\-\-windows: -3 is outside \[1," $B eval --model $M --data "$T/d.txt" --windows -3
expect "convert --micro-batch 0" 2 "\-\-micro-batch: 0 is outside \[1," $B $C --out "$T/o" --micro-batch 0
expect "convert --batch 6 --micro-batch 4 (not a multiple)" 2 "batch 6 is not a multiple of --micro-batch 4" $B $C --out "$T/o" --batch 6 --micro-batch 4 --step1-tokens 1k --step2-tokens 0
expect "--ctx 12abc (trailing junk)" 2 "\-\-ctx: '12abc' is not a number" $B eval --model $M --data "$T/d.txt" --ctx 12abc
expect "--ctx 1.5 (not whole)" 2 "\-\-ctx: '1.5' is not a whole number" $B eval --model $M --data "$T/d.txt" --ctx 1.5
expect "--ctx ' 32' (blank)" 2 "\-\-ctx: ' 32' is not a number" $B eval --model $M --data "$T/d.txt" --ctx " 32"
expect "--threads 0x10 (hex)" 2 "\-\-threads: '0x10' is not a number" $B info --model $M --threads 0x10
expect "k/M/G suffixes still work (--ctx 0.032k)" 0 "perplexity" $B eval --model $M --data "$T/d.txt" --ctx 0.032k --windows 2

# ---- valid input: unchanged ----
expect "generate on the tiny teacher" 0 "generated 5 tokens" $B generate --model $M --prompt "The quick" -n 5
expect "info on the tiny teacher" 0 "transformer, .* 3 layers" $B info --model $M
expect "eval --stride on the tiny teacher" 0 "perplexity .* stride 16" $B eval --model $M --data "$T/d.txt" --ctx 32 --stride 16
expect "eval --bf16 runs (bf16 products where the CPU and the weights allow)" 0 "perplexity" $B eval --model $M --data "$T/d.txt" --ctx 32 --windows 2 --bf16 teacher
expect "eval --bf16 bad lists the choices" 2 "is not one of: teacher, all" $B eval --model $M --data "$T/d.txt" --ctx 32 --windows 2 --bf16 half

expect "convert --arch rwkv6 (no training): student written" 0 "student written to" $B $C --out "$T/r6" --arch rwkv6 --ctx 32 --batch 2 --step1-tokens 0 --step2-tokens 0
expect "export of a RAD-RWKV6 student (was: an internal error about --tokenizer)" 0 "rwkv6qwen2, f16 weights" $B export --model "$T/r6/model" --out "$T/r6.gguf"
expect "generate from the exported GGUF" 0 "generated 3 tokens" $B generate --model "$T/r6.gguf" --prompt "The quick" -n 3

# ---- config.json contradicting the checkpoint ----
cp -r $M "$T/m_eos"
sed 's/"eos_token_id": 604/"eos_token_id": 1000000000/' $M/config.json > "$T/m_eos/config.json"
expect "config.json eos_token_id 1e9 is refused naming config.json" 1 "config.json: eos_token_id: token id 1000000000 out of range \[0, 640\)" $B info --model "$T/m_eos"
cp -r $M "$T/m_layers"
sed 's/"num_hidden_layers": 3/"num_hidden_layers": 1/' $M/config.json > "$T/m_layers/config.json"
expect "config.json num_hidden_layers 1 on a 3-layer checkpoint" 1 "config.json: num_hidden_layers is 1 but the checkpoint has tensor model.layers.1" $B info --model "$T/m_layers"

# ---- a conversion, checkpoints, resume identity ----
O="$T/o"
touch "$O.keep" # (a file beside the output folder must survive)
mkdir -p "$O"
: > "$O/stage1.ckpt.safetensors.tmp.0123abcd" # a stale temporary file of a killed write
: > "$O/stage1.ckpt.safetensors.tmp.notours"  # not of our naming: stays
expect "convert (tiny): student written" 0 "student written to" $B $C --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --ckpt-every 2
[ ! -e "$O/stage1.ckpt.safetensors.tmp.0123abcd" ] && [ -e "$O/stage1.ckpt.safetensors.tmp.notours" ]
check "stale *.tmp.<8 hex> of a killed checkpoint write removed at the next start (others kept)" $? "$(ls "$O")"
[ "$(grep -c '^1,' "$O/train.csv")" -eq 10 ] && [ "$(grep -c '^2,' "$O/train.csv")" -eq 5 ]
check "train.csv: one row per step" $? "$(cut -d, -f1,2 "$O/train.csv" | tr '\n' ' ')"
expect "resume with a different --ctx is refused naming ctx" 1 "different run: ctx is '32' there but '16' now" $B $C --out "$O" --ctx 16 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume
expect "resume with a different --batch is refused naming batch" 1 "different run: batch is '2' there but '4' now" $B $C --out "$O" --ctx 32 --batch 4 --step1-tokens 640 --step2-tokens 320 --resume
expect "resume with a different data file is refused naming it" 1 "different run: data(_file)? is" $B convert --teacher $M --data "$T/d2.txt" --no-report --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume
expect "resume with a different --seed is refused naming seed" 1 "different run: seed is '1337' there but '7' now" $B $C --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume --seed 7
expect "resume with a different --arch is refused naming arch" 1 "different run: arch is 'RAD-RWKV7" $B $C --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume --arch rwkv6
expect "--resume-force resumes anyway, with a warning" 0 "resuming anyway \(forced\) although batch differs" $B $C --out "$O" --ctx 32 --batch 4 --step1-tokens 640 --step2-tokens 320 --resume-force
expect "resume with the same settings" 0 "student written to" $B $C --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume
cp "$O/stage2.ckpt.safetensors" "$O/stage1.ckpt.safetensors"
expect "a stage-2 checkpoint as stage 1 (was: use-after-free)" 1 "not a checkpoint of stage 1 \(metadata radlads.stage is 2\)" $B $C --out "$O" --ctx 32 --batch 2 --step1-tokens 640 --step2-tokens 320 --resume

# ---- signals ----
# run_bg OUT_DIR: a conversion whose steps take long enough to signal in the middle
run_bg() {
    rm -rf "$1"
    $B $C --out "$1" --ctx 128 --batch 128 --step1-tokens 0 --step2-tokens 10M --ckpt-every 1 > "$1.log" 2>&1 &
    pid=$!
    n=0
    while [ ! -s "$1/train.csv" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done
    sleep 0.3 # inside the next step (~1.5 s at 2 threads: batch 128 of 128 tokens), so that a second signal 50 ms later finds it running
}
run_bg "$T/s1"
kill -INT $pid
wait $pid
rc=$?
grep -q "finishing this step, then writing a checkpoint" "$T/s1.log" && grep -q "interrupted: stage 2 stopped at step" "$T/s1.log" && [ $rc -eq 130 ] &&
    [ -s "$T/s1/stage2.ckpt.safetensors" ] && ! sanitizer "$T/s1.log"
check "first SIGINT: finishes the step, writes a checkpoint, says so, exit 130" $? "status $rc: $(tail -c 300 "$T/s1.log" | tr '\n' ' ')"
run_bg "$T/s2"
kill -INT $pid
sleep 0.05
kill -INT $pid
wait $pid
rc=$?
grep -q "second interrupt: stopping now; the last checkpoint is left as it was" "$T/s2.log" && [ $rc -eq 130 ]
check "second SIGINT 50 ms later: stops at once and says so (was: killed by the signal)" $? "status $rc: $(tail -c 300 "$T/s2.log" | tr '\n' ' ')"
expect "after two SIGINTs the last checkpoint resumes" 0 "student written to" $B $C --out "$T/s2" --ctx 128 --batch 128 --step1-tokens 0 --step2-tokens 20k --resume-force
run_bg "$T/s3"
kill -TERM $pid
wait $pid
rc=$?
grep -q "finishing this step" "$T/s3.log" && [ $rc -eq 130 ] && [ -s "$T/s3/stage2.ckpt.safetensors" ]
check "SIGTERM: as the first SIGINT" $? "status $rc: $(tail -c 300 "$T/s3.log" | tr '\n' ' ')"

rm -f "$O.keep"
[ $failed -eq 0 ]
