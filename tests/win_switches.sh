#!/bin/sh
# make test-windows: radlads.h compiles warning-free with MinGW-w64 (C99, -pedantic -Wall
# -Wextra -Werror) alone, with RADLADS_INTERNAL, with each compile-time switch and with the
# embedded set; what RADLADS_NO_THREADS and RADLADS_NO_STDIO remove is gone from the object
# (no pthreads; no files, maps or folders). One PASS/FAIL line each, counted by tests/run.sh.
# WIN_CC: the compiler (default x86_64-w64-mingw32-gcc; its nm is used beside it).
cc=${WIN_CC:-x86_64-w64-mingw32-gcc}
nm=${cc%gcc}nm
command -v "$nm" >/dev/null 2>&1 || nm=nm
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#define RADLADS_IMPLEMENTATION\n#include "radlads.h"\n' > "$tmp/sw.c"
embedded="-DRADLADS_NO_TRAINING -DRADLADS_NO_GGUF -DRADLADS_NO_TOKENIZER -DRADLADS_NO_LMEVAL -DRADLADS_NO_EXPORT -DRADLADS_NO_STDIO"
# calls into files, maps and folders: the C runtime's and Win32's (imports may carry __imp_)
no_io='^(__imp_)?_*(f?open|wopen|fdopen|fclose|fread|fwrite|fseeko?|fseeki64|ftello?|ftelli64|fgets|fputs|fputc|puts|putchar|(mingw_)?v?f?printf|perror|read|write|close|stat(64)?|fstat(64)?|opendir|readdir|closedir|rename|remove|unlink|mkdir|commit|get_osfhandle|CreateFile[AW]?|CreateFileMapping[AW]?|MapViewOfFile|UnmapViewOfFile|MoveFileEx[AW]?|DeleteFile[AW]?)$'
for sw in "" -DRADLADS_INTERNAL -DRADLADS_STATIC -DRADLADS_NO_TRAINING -DRADLADS_NO_GGUF -DRADLADS_NO_TOKENIZER \
    -DRADLADS_NO_LMEVAL -DRADLADS_NO_EXPORT -DRADLADS_NO_THREADS -DRADLADS_NO_STDIO -DRL_NO_SIMD "$embedded"; do
    if $cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$here" $sw -c -o "$tmp/sw.o" "$tmp/sw.c" 2> "$tmp/err"; then
        calls=""
        case "$sw" in *NO_STDIO*) calls=$("$nm" -u "$tmp/sw.o" | awk '{print $2}' | grep -E "$no_io" | tr '\n' ' ') ;; esac
        case "$sw" in *NO_THREADS*) calls="$calls$("$nm" -u "$tmp/sw.o" | awk '{print $2}' | grep -E '^(__imp_)?_*(pthread_|sched_yield|CreateThread|_beginthread)' | tr '\n' ' ')" ;; esac
        if [ -n "$calls" ]; then
            echo "FAIL [windows] switches $cc $sw: the object still calls $calls"
        else
            echo "PASS [windows] switches compile warning-free: $cc -std=c99 -pedantic ${sw:-(none)}"
        fi
    else
        echo "FAIL [windows] switches $cc $sw: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
    fi
done
