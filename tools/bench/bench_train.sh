#!/bin/sh
# make bench-train: one optimizer step of RADLADS stages 1 and 2, radlads (build/bench_train)
# against the same step in PyTorch (tools/bench/train_ref.py), same model, shapes, windows and
# threads, ROUNDS interleaved rounds; prints each round and the ratio of the medians.
#
#   TEACHER=DIR|FILE.gguf   a teacher (default: SmolLM2-135M-Instruct from tools/fetch_smollm2.sh,
#                           imported to an HF folder in the cache; without it, random weights of
#                           the SmolLM2-135M shape)
#   CTX=512 BATCH=4 MICRO=1 STEPS=4 THREADS=2 ROUNDS=3 ARCH=rwkv7
#                           (MICRO: sequences per forward/backward; radlads needs ~5 GiB per
#                           sequence of 512 with the SmolLM2-135M teacher in stage 2)
#   PYTHON=python3          needs torch, safetensors, numpy (pip install torch safetensors numpy)
#   BF16=1                  mixed precision on both sides: radlads --bf16-dot 2 (every product
#                           with bf16 inputs: AMX tiles or vdpbf16ps), PyTorch's forward under
#                           torch.autocast(cpu, bfloat16)
#
# The first step of each run is not timed; the step's loss is printed by both sides for the
# first step of the same windows from the same initial student, so a line where they differ
# means the two do not compute the same step.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$here/build}
CTX=${CTX:-512}; BATCH=${BATCH:-4}; MICRO=${MICRO:-1}; STEPS=${STEPS:-4}; THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}; ARCH=${ARCH:-rwkv7}; PYTHON=${PYTHON:-python3}; BF16=${BF16:-0}
ours_bf16=; theirs_bf16=
[ "$BF16" = 1 ] && ours_bf16="--bf16-dot 2" && theirs_bf16="--bf16"
cache=${RADLADS_CACHE:-$HOME/.cache/radlads}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! $PYTHON -c 'import torch, safetensors, numpy' 2>/dev/null; then
    echo "bench-train: $PYTHON lacks torch/safetensors/numpy (pip install torch safetensors numpy; or PYTHON=...)" >&2
    exit 1
fi
if [ "$ARCH" != rwkv7 ]; then
    echo "bench-train: the PyTorch reference implements the RAD-RWKV7 student only (ARCH=rwkv7)" >&2
    exit 1
fi

src=
if [ -n "${TEACHER:-}" ]; then
    case "$TEACHER" in
    *.gguf) "$B/radlads" import --gguf "$TEACHER" --out "$work/teacher-hf" >&2; src="--teacher $work/teacher-hf" ;;
    *) src="--teacher $TEACHER" ;;
    esac
elif gguf=$(sh "$here/tools/fetch_smollm2.sh" 2>/dev/null) && [ -f "$gguf" ]; then
    hf=$cache/smollm2/hf
    [ -f "$hf/model.safetensors" ] || "$B/radlads" import --gguf "$gguf" --out "$hf" >&2
    src="--teacher $hf"
else
    src="--random smollm2"
fi
teacher_dir=
case "$src" in --teacher*) teacher_dir=${src#--teacher } ;; esac

common="--ctx $CTX --batch $BATCH --micro-batch $MICRO --steps $STEPS --threads $THREADS"
echo "# bench-train: $src, arch $ARCH, ctx $CTX, batch $BATCH (micro $MICRO), $STEPS steps (first untimed), $THREADS threads, $ROUNDS rounds, bf16 $BF16"
"$B/bench_train" $src --arch "$ARCH" $common --stage 12 --out "$work" > "$work/setup.txt"
cat "$work/setup.txt"
: > "$work/all.txt"
r=1
while [ $r -le "$ROUNDS" ]; do
    "$B/bench_train" $src --arch "$ARCH" $common --stage 12 $ours_bf16 | tee -a "$work/all.txt"
    if [ -n "$teacher_dir" ]; then
        $PYTHON "$here/tools/bench/train_ref.py" --dir "$work" --teacher "$teacher_dir" $common --stage 12 $theirs_bf16 | tee -a "$work/all.txt"
    else
        $PYTHON "$here/tools/bench/train_ref.py" --dir "$work" $common --stage 12 $theirs_bf16 | tee -a "$work/all.txt"
    fi
    r=$((r + 1))
done
echo
echo "| stage | radlads tok/s (median) | PyTorch tok/s (median) | radlads / PyTorch |"
echo "|---|---|---|---|"
for s in 1 2; do
    ours=$(grep "^radlads stage $s:" "$work/all.txt" | sed 's/.*tok\/s \([0-9.]*\).*/\1/' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    theirs=$(grep "^pytorch stage $s:" "$work/all.txt" | sed 's/.*tok\/s \([0-9.]*\).*/\1/' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "| $s | $ours | $theirs | $(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}') |"
done
