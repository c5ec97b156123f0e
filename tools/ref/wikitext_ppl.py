"""Whole-file perplexity with transformers, the recipe `radlads eval --stride` implements.

    python3 tools/ref/wikitext_ppl.py MODEL_DIR [TEXT_FILE] [CTX] [STRIDE]

MODEL_DIR: a Hugging Face folder (e.g. the output of `radlads import --gguf SmolLM2.gguf`).
TEXT_FILE defaults to ../shared/data/wikitext-2-raw/wiki.test.raw, read as bytes and decoded
as UTF-8 exactly like the C side reads it (Python's text mode would turn \\r\\n into \\n and
change the tokens). Windows of CTX tokens every STRIDE tokens; a token is scored by the
first window that predicts it (Hugging Face's perplexity guide). Dev-only.
"""
import math
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_dir = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/wikitext-2-raw/wiki.test.raw"
ctx = int(sys.argv[3]) if len(sys.argv) > 3 else 512
stride = int(sys.argv[4]) if len(sys.argv) > 4 else 512
torch.set_num_threads(2)
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
text = open(path, "rb").read().decode("utf-8")
ids = tok(text, add_special_tokens=False, return_tensors="pt").input_ids
n = ids.size(1)
nll, cnt, prev, t0 = 0.0, 0, 0, time.time()
for b in range(0, n - 1, stride):
    e = min(b + ctx, n)
    inp = ids[:, b:e]
    lab = inp.clone()
    lab[:, : -(e - prev)] = -100
    with torch.no_grad():
        out = model(inp, labels=lab)
    k = int((lab[:, 1:] != -100).sum())
    nll += out.loss.item() * k
    cnt += k
    prev = e
    if e == n:
        break
print(f"transformers: perplexity {math.exp(nll / cnt):.4f} (nll {nll / cnt:.5f}) over {cnt} tokens of {path}, "
      f"context {ctx}, stride {stride} ({time.time() - t0:.0f} s)")
