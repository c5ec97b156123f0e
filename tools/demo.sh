#!/bin/sh
# make demo: convert the bundled demo teacher (examples/tiny-teacher, a 4-layer Llama
# trained on Shakespeare) into a RAD-RWKV7 student with RADLADS steps 1 and 2, on
#   1. $RADLADS_DATA/tinyshakespeare/input.txt (or ../shared/data/...), else
#   2. the text file named as the first argument, else
#   3. text sampled from the teacher itself.
# It prints held-out perplexity, teacher-student KL and top-1 agreement (over the whole
# held-out split: the last 5% of the text) for the teacher,
# the student at init, after step 1 and after step 2, and a sample from each.
# Budget: well under 15 minutes on 2 cores. The student is written to build/demo/model.
set -eu
cd "$(dirname "$0")/.."
teacher=examples/tiny-teacher
data_dir=${RADLADS_DATA:-../shared/data}
data=$data_dir/tinyshakespeare/input.txt
if [ ! -f "$data" ]; then
    if [ $# -ge 1 ] && [ -f "$1" ]; then
        data=$1
    else
        echo "no ../shared/data and no text file given: sampling 60k tokens of text from the teacher"
        mkdir -p build/demo
        build/radlads generate --model "$teacher" --prompt "" -n 60000 --temperature 1 --seed 7 > build/demo/teacher-text.txt
        data=build/demo/teacher-text.txt
    fi
fi
echo "== teacher sample"
build/radlads generate --model "$teacher" --prompt "ROMEO:" -n 40
echo "== RADLADS conversion to RAD-RWKV7 (steps 1 and 2)"
build/radlads convert --teacher "$teacher" --data "$data" --out build/demo --arch rwkv7 \
    --ctx 256 --batch 8 --step1-tokens ${DEMO_STEP1_TOKENS:-400k} --step2-tokens ${DEMO_STEP2_TOKENS:-400k} \
    --lr1 2e-3 --lr1-final 1e-4 --lr2 3e-4 --lr2-final 3e-4 --warmup 20 --heldout 0.05 \
    --samples "ROMEO:" --ckpt-every 50 ${DEMO_ARGS:-}
echo "== student sample (recurrent decoding)"
build/radlads generate --model build/demo/model --prompt "ROMEO:" -n 40
