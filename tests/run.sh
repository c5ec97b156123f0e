#!/bin/sh
# Run test programs (and test scripts, *.sh, run with sh), echo their PASS/FAIL/SKIP lines, and end with the summary line
# "N passed, N failed[, N skipped]". Exit status 1 if anything failed.
# The first group checks that radlads.h compiles warning-free as C99 and C++.
pass=0; fail=0; skip=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
programs="$*"
runner=${RL_RUNNER:-}   # e.g. qemu-aarch64 for cross-compiled tests

count() { # classify the lines of a program's output
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
        PASS*) pass=$((pass + 1)) ;;
        FAIL*) fail=$((fail + 1)) ;;
        SKIP*) skip=$((skip + 1)) ;;
        esac
    done < "$1"
}

# header hygiene: gcc/clang, C99/C++, -pedantic -Wall -Wextra -Werror, each also with
# RADLADS_INTERNAL (the internal declarations, internal functions with external linkage);
# the compilers run side by side, their lines are counted in this order
printf '#define RADLADS_IMPLEMENTATION\n#include "radlads.h"\nint main(void){return 0;}\n' > "$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
k=0
[ -n "$runner" ] || for cc in "gcc -std=c99" "clang -std=c99" "g++ -std=c++11" "clang++ -std=c++11" \
    "gcc -std=c99 -DRADLADS_INTERNAL" "clang -std=c99 -DRADLADS_INTERNAL" "g++ -std=c++11 -DRADLADS_INTERNAL" \
    "clang++ -std=c++11 -DRADLADS_INTERNAL"; do
    k=$((k + 1))
    bin=${cc%% *}
    src="$tmp/h.c"; case "$bin" in *++) src="$tmp/h.cpp" ;; esac
    if ! command -v "$bin" >/dev/null 2>&1; then
        echo "SKIP header compiles with $cc: $bin not installed" > "$tmp/h$k.out"
    else
        (if $cc -pedantic -Wall -Wextra -Werror -I"$here" -c "$src" -o "$tmp/h$k.o" 2> "$tmp/h$k.err"; then
            echo "PASS header compiles warning-free with $cc -pedantic"
        else
            echo "FAIL header compiles warning-free with $cc: $(head -c 300 "$tmp/h$k.err" | tr '\n' ' ')"
        fi > "$tmp/h$k.out") &
    fi
done
wait
i=0
while [ $i -lt $k ]; do
    i=$((i + 1))
    count "$tmp/h$i.out"
done

# every compile-time switch alone, and the embedded set, compiles warning-free (C99; the set also as C++);
# what NO_THREADS and NO_STDIO remove is gone from the object: no call to pthreads, to files
# (open, FILE, maps, folders) or to printf-family output
printf '#define RADLADS_IMPLEMENTATION\n#include "radlads.h"\n' > "$tmp/sw.c"
cp "$tmp/sw.c" "$tmp/sw.cpp"
embedded="-DRADLADS_NO_TRAINING -DRADLADS_NO_GGUF -DRADLADS_NO_TOKENIZER -DRADLADS_NO_LMEVAL -DRADLADS_NO_EXPORT -DRADLADS_NO_STDIO"
no_io='^_*(f?open(64)?|fdopen|fclose|fread|fwrite|fseeko?(64)?|ftello?(64)?|fgets|fputs|fputc|puts|putchar|f?printf|vf?printf|perror|read|write|close|l?stat(64)?|fstat(64)?|mmap(64)?|munmap|opendir|readdir(64)?|closedir|rename|remove|unlink|mkdir|fsync)(_chk)?$'
[ -n "$runner" ] || for sw in -DRADLADS_STATIC -DRADLADS_NO_TRAINING -DRADLADS_NO_GGUF -DRADLADS_NO_TOKENIZER -DRADLADS_NO_LMEVAL \
    -DRADLADS_NO_EXPORT -DRADLADS_NO_THREADS -DRADLADS_NO_STDIO "$embedded" "c++ $embedded" "c++ -DRADLADS_NO_THREADS"; do
    case "$sw" in "c++ "*) cc="g++ -std=c++11"; src="$tmp/sw.cpp"; sw=${sw#c++ } ;; *) cc="gcc -std=c99"; src="$tmp/sw.c" ;; esac
    if $cc -pedantic -Wall -Wextra -Werror -I"$here" $sw -c -o "$tmp/sw.o" "$src" 2> "$tmp/err"; then
        calls=""
        case "$sw" in *NO_STDIO*) calls=$(nm -u "$tmp/sw.o" | awk '{print $2}' | grep -E "$no_io" | tr '\n' ' ') ;; esac
        case "$sw" in *NO_THREADS*) calls="$calls$(nm -u "$tmp/sw.o" | awk '{print $2}' | grep -E '^_*(pthread_|sched_yield)' | tr '\n' ' ')" ;; esac
        if [ -n "$calls" ]; then
            echo "FAIL switches $cc $sw: the object still calls $calls" > "$tmp/out"
        else
            echo "PASS switches compile warning-free: $cc $sw" > "$tmp/out"
        fi
    else
        echo "FAIL switches $cc $sw: $(head -c 300 "$tmp/err" | tr '\n' ' ')" > "$tmp/out"
    fi
    count "$tmp/out"
done

# the reading order the header promises: the scans inside the first 6,400 lines, and no
# citation of a document the repository does not ship
[ -n "$runner" ] || {
    end=$(grep -n '^/\* ---- 4b\. sequence mixers' "$here/radlads.h" | cut -d: -f1)
    cites=$(grep -c 'spec §\|formats\.md\|anchors\.md' "$here/radlads.h")
    if [ -n "$end" ] && [ "$end" -le 6400 ] && [ "$cites" -eq 0 ]; then
        echo "PASS layout: base, kernels, autodiff and the scans end at line $end; no citations of unshipped notes" > "$tmp/out"
    else
        echo "FAIL layout: the scans end at line ${end:-?} (must be <= 6400); $cites citations of unshipped notes" > "$tmp/out"
    fi
    count "$tmp/out"
}

for t in $programs; do
    case "$t" in
    *.sh) sh "$t" > "$tmp/out" 2> "$tmp/err" ;; # test scripts (tests/test_cli.sh) count like programs
    *) $runner "$t" > "$tmp/out" 2> "$tmp/err" ;;
    esac
    rc=$?
    count "$tmp/out"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$tmp/out"; then
        echo "FAIL $(basename "$t"): exited with status $rc: $(tail -c 600 "$tmp/err" | tr '\n' ' ')"
        fail=$((fail + 1))
    elif [ -s "$tmp/err" ] && grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$tmp/err"; then
        echo "FAIL $(basename "$t"): sanitizer report: $(grep -m1 -E 'ERROR|runtime error' "$tmp/err")"
        fail=$((fail + 1))
    fi
done
if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
