"""Tokenizer speed against Hugging Face `tokenizers` (dev-only: needs tokenizers; the data in
../shared/data or $RADLADS_DATA).

    python3 tools/bench/bench_tokenizer.py [MAX_BYTES]

Trains three 32k-vocabulary byte-level BPE tokenizers on WikiText-2 test + tinyshakespeare
(Qwen2, Llama-3 and SmolLM2 pre-tokenizers, as tests/fixtures/tok), then encodes the first
MAX_BYTES (default 1,000,000) of wiki.test.raw with HF (one thread, best of 3) and with
build/bench_tokenizer (best of 5), checks that the ids are identical, and prints a table.
"""
import os
import subprocess
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "ref"))
import make_tokenizers as mt  # noqa: E402

DATA = os.environ.get("RADLADS_DATA") or os.path.join(REPO, "..", "shared", "data")
OUT = os.path.join(REPO, "build", "bench_tok")


def build(kind, texts):
    tok = Tokenizer(models.BPE(ignore_merges=kind == "llama3"))
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
    if kind == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(mt.QWEN2_RE if kind == "qwen2" else mt.LLAMA3_RE), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=32000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(texts, trainer=tr)
    path = os.path.join(OUT, kind + ".json")
    tok.save(path)
    return tok, path


def fnv(ids):
    h = 0xcbf29ce484222325
    for x in ids:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def main():
    max_bytes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    os.makedirs(OUT, exist_ok=True)
    exe = os.path.join(REPO, "build", "bench_tokenizer")
    subprocess.run(["cc", "-O2", "-std=c99", "-o", exe, os.path.join(REPO, "tools", "bench", "bench_tokenizer.c"),
                    "-lm", "-lpthread"], check=True)
    wiki = os.path.join(DATA, "wikitext-2-raw", "wiki.test.raw")
    texts = [open(wiki, encoding="utf-8", newline="").read(),
             open(os.path.join(DATA, "tinyshakespeare", "input.txt"), encoding="utf-8", newline="").read()]
    raw = open(wiki, "rb").read()[:max_bytes]
    while True:  # the same cut as bench_tokenizer.c: drop an incomplete last character
        try:
            text = raw.decode("utf-8")
            break
        except UnicodeDecodeError:
            raw = raw[:-1]
    print(f"# {len(raw)} bytes of wiki.test.raw, 32k-vocabulary tokenizers, one thread")
    print("| pre-tokenizer | ids | HF tokenizers MB/s | radlads MB/s | radlads / HF | ids identical |")
    print("|---|---|---|---|---|---|")
    for kind in ("qwen2", "llama3", "smollm"):
        tok, path = build(kind, texts)
        best = 1e30
        for _ in range(3):
            t0 = time.perf_counter()
            ids = tok.encode(text, add_special_tokens=False).ids
            best = min(best, time.perf_counter() - t0)
        out = subprocess.run([exe, path, wiki, str(max_bytes), "5"], capture_output=True, text=True, check=True).stdout.split()
        c_s, c_n, c_h, rt = float(out[1]), int(out[4]), out[5], out[6]
        same = c_n == len(ids) and c_h == fnv(ids) and rt == "1"
        print(f"| {kind} | {len(ids)} | {len(raw) / best / 1e6:.2f} | {len(raw) / c_s / 1e6:.2f} | {best / c_s:.1f} | "
              f"{'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
