#!/bin/sh
# Decode tokens/s of `radlads generate` on GGUF files, two builds side by side (e.g. before and
# after a kernel change): for each file and thread count, the builds alternate ROUNDS times and
# the best rate of each is printed, with new / old.
#   sh tools/bench/decode_gguf.sh OLD_RADLADS NEW_RADLADS FILE.gguf...
# (ROUNDS=3, N=64 tokens, THREADS="1 2", PROMPT="The meaning of life is" by default;
#  RATE=prompt reports the prompt's (prefill's) tokens/s instead)
old=$1; new=$2; shift 2
ROUNDS=${ROUNDS:-3}; N=${N:-64}; THREADS=${THREADS:-1 2}; PROMPT=${PROMPT:-The meaning of life is}; RATE=${RATE:-generated}
rate() { # generated (or prompt) tokens/s of one run
    "$1" generate --model "$2" --prompt "$PROMPT" -n "$N" --threads "$3" 2>&1 >/dev/null |
        sed -n "s/.*$RATE [0-9]* tokens: \([0-9.]*\) tok\/s.*/\1/p"
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { m = (b + 0 > a + 0) ? b : a; print m }'; }
echo "| file | threads | old tok/s | new tok/s | new / old |"
echo "|---|---|---|---|---|"
for f in "$@"; do
    for t in $THREADS; do
        bo=0; bn=0; r=0
        while [ $r -lt "$ROUNDS" ]; do
            bo=$(best "$bo" "$(rate "$old" "$f" "$t")")
            bn=$(best "$bn" "$(rate "$new" "$f" "$t")")
            r=$((r + 1))
        done
        echo "| $(basename "$f") | $t | $bo | $bn | $(awk -v a="$bo" -v b="$bn" 'BEGIN { r = (a > 0) ? b / a : 0; printf "%.2f", r }') |"
    done
done
