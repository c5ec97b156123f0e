"""llama2.c's tokenizer (run.c: build_tokenizer, encode, decode), line by line in Python.

Dev-only fixture generator (nothing in `make test` runs it):

    python3 tools/ref/llama2c_tokenizer.py ../shared/data/stories260K/tok512.bin > tests/fixtures/llama2c_tok512.jsonl

writes one JSON object per test string: {"text": ..., "ids": encode(text, bos=1, eos=0),
"decoded": decode of ids[1:] with run.c's decode(prev, token) applied piece by piece}.
The encode loop is run.c's own quadratic one (rescan after every merge), so it is an
independent check of the heap-based encoder in radlads.h.
"""
import json
import struct
import sys


def load(path):
    b = open(path, "rb").read()
    (max_len,) = struct.unpack_from("<i", b, 0)
    o, vocab, scores = 4, [], []
    while o < len(b):
        score, n = struct.unpack_from("<fi", b, o)
        o += 8
        vocab.append(b[o:o + n])
        scores.append(score)
        o += n
    return vocab, scores


def encode(vocab, scores, text: bytes, bos=True, eos=False):
    lookup = {}
    for i, p in enumerate(vocab):
        lookup.setdefault(p, i)
    tokens = []
    if bos:
        tokens.append(1)
    if text:
        tokens.append(lookup[b" "])  # the dummy prefix
    buf = b""
    for i in range(len(text)):
        c = text[i:i + 1]
        if (c[0] & 0xC0) != 0x80:
            buf = b""
        buf += c
        if i + 1 < len(text) and (text[i + 1] & 0xC0) == 0x80 and len(buf) < 4:
            continue
        if buf in lookup:
            tokens.append(lookup[buf])
        else:
            tokens.extend(x + 3 for x in buf)
        buf = b""
    while True:
        best, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            m = lookup.get(vocab[tokens[i]] + vocab[tokens[i + 1]], -1)
            if m != -1 and scores[m] > best:
                best, best_id, best_idx = scores[m], m, i
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    if eos:
        tokens.append(2)
    return tokens


def decode_piece(vocab, prev, tok):
    piece = vocab[tok]
    if prev == 1 and piece[:1] == b" ":
        piece = piece[1:]
    if len(piece) == 6 and piece[:3] == b"<0x" and piece[5:] == b">":
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            pass
    return piece


STRINGS = [
    "",
    "a",
    " ",
    "Once upon a time, there was a little girl named Lily.",
    "Lily's mom said, \"Lily, let's go to the park.\"",
    "  two leading spaces and trailing  ",
    "line one\nline two\n\ttabbed",
    "naïve café — “quotes” and 😀 emoji, ✓ check",
    "日本語のテキスト",
    "<unk> <s> </s> <0x41> literal pieces",
    "x\x01\x7fy",
    "The quick brown fox jumps over the lazy dog 1234567890",
]


def main():
    vocab, scores = load(sys.argv[1])
    for s in STRINGS:
        b = s.encode("utf-8")
        ids = encode(vocab, scores, b)
        out, prev = b"", ids[0]
        for t in ids[1:]:
            out += decode_piece(vocab, prev, t)
            prev = t
        print(json.dumps({"text": s, "ids": ids, "decoded": out.decode("utf-8", "replace")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
