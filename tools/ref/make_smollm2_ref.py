"""SmolLM2-135M-Instruct reference for tests/test_import.c (dev-only; torch + transformers).

Two steps (the GGUF is fetched outside the repository by tools/fetch_smollm2.sh):

    # 1. import the GGUF with the C library (rl_import_gguf) into a Hugging Face folder
    make build/tests/test_import
    RADLADS_IMPORT_KEEP=/tmp/smollm2-hf build/tests/test_import    # or: radlads import GGUF /tmp/smollm2-hf
    # 2. run transformers on that folder and write the reference
    python3 tools/ref/make_smollm2_ref.py /tmp/smollm2-hf

It loads the Hugging Face folder that *our* importer wrote (config.json, model.safetensors
in F32, tokenizer.json, tokenizer_config.json), runs transformers in fp32 (eager attention,
one thread) and writes tests/fixtures/smollm2/ref.safetensors (~270 KB):

  prompt.{i}.text        U8 [bytes]   the prompt's UTF-8 text
  prompt.{i}.ids         I32 [n]      Tokenizer.from_file(tokenizer.json).encode(text).ids
                                      (add_special_tokens=True; SmolLM2 adds nothing)
  prompt.{i}.logits      F32 [4, V/12] logits of the last 4 positions at vocabulary ids 0, 12, 24, ...
                                      (full rows would be 4 x 49152 floats = 768 KB per prompt)
  prompt.{i}.top_ids     I32 [4, 16]  the 16 largest logits of each of those rows (ids, descending)
  prompt.{i}.top_logits  F32 [4, 16]  and their values
  prompt.{i}.lse         F32 [4]      log-sum-exp of each full row (float64 sum)
  prompt.{i}.max_abs     F32 []       max |logit| over the 4 full rows (tolerance scale)
  logit_stride           I32 []       12
  greedy.prompt          I32 []       which prompt the continuation starts from
  greedy.ids             I32 [32]     32 greedy tokens (KV cache, no EOS stop)
  greedy.min_gap         F32 []       smallest top-1 minus top-2 logit along that path
  wiki.range             I32 [2]      byte range [start, end) of wikitext-2-raw/wiki.test.raw
  wiki.n_tokens          I32 []       number of tokens of those bytes (encode, no specials)
  wiki.windows           I32 [4, 513] window w = ids[512 w : 512 w + 513]; inputs the first 512,
                                      targets the last 512 (stride 512, no overlap of targets)
  wiki.nll               F32 []       mean next-token NLL over the 4 x 512 targets
  wiki.ppl               F32 []       exp(wiki.nll)

Checks before writing (assertions): transformers loads every tensor (nothing missing or
unexpected); AutoTokenizer on the folder gives the same ids as `tokenizers`; the cached
greedy loop equals a no-cache argmax loop; the perplexity is that of a working model (< 40).

    python3 tools/ref/make_smollm2_ref.py --check-tokenizers DIR
        DIR holds tokenizer.json files written by rl_tokenizer_save_json from the fixtures
        tests/fixtures/tok/{qwen2,llama3,gpt2,flags}.json (tests/test_import.c writes them when
        RADLADS_IMPORT_TOKJSON_OUT=DIR is set); HF tokenizers must load each and reproduce the
        ids of tests/fixtures/tok/cases.json (and corpus.json flag_cases for flags) exactly.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX, REPO, save_st, seed_all  # noqa: E402

OUT = os.path.join(FIX, "smollm2", "ref.safetensors")
STRIDE = 12   # vocabulary columns kept per logit row
TOP = 16
WIN, N_WIN = 512, 4

PROMPTS = [
    "The capital of France is",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n        return n\n    return",
    "In 1969, Apollo 11 landed on the Moon. \u0141\u00f3d\u017a, Z\u00fcrich and \u6771\u4eac are cities; "
    "\u03c0 \u2248 3.14159 and 2^10 = 1024.",
]
GREEDY_PROMPT = 1
N_GREEDY = 32


def data_dir():
    return os.environ.get("RADLADS_DATA") or os.path.join(REPO, "..", "shared", "data")


def check_tokenizers(d):
    from tokenizers import Tokenizer
    cases = json.load(open(os.path.join(FIX, "tok", "cases.json"), encoding="utf-8"))
    corpus = json.load(open(os.path.join(FIX, "tok", "corpus.json"), encoding="utf-8"))
    n = 0
    for name in ("qwen2", "llama3", "gpt2"):
        ours = Tokenizer.from_file(os.path.join(d, name + ".json"))
        orig = Tokenizer.from_file(os.path.join(FIX, "tok", name + ".json"))
        assert ours.get_vocab(with_added_tokens=True) == orig.get_vocab(with_added_tokens=True), name
        for c in cases["cases"]:
            ids = ours.encode(c["text"], add_special_tokens=False).ids
            assert ids == c[name], (name, c["text"], ids, c[name])
            assert ours.decode(ids, skip_special_tokens=False) == c[name + "_decoded"], (name, c["text"])
            assert ours.decode(ids, skip_special_tokens=True) == c[name + "_decoded_skip_special"], (name, c["text"])
            if name == "llama3":
                assert ours.encode(c["text"]).ids == c["llama3_with_bos"], c["text"]
            n += 1
    ours = Tokenizer.from_file(os.path.join(d, "flags.json"))
    for c in corpus["flag_cases"]:
        ids = ours.encode(c["text"], add_special_tokens=False).ids
        assert ids == c["ids"], ("flags", c["text"], ids, c["ids"])
        assert ours.decode(ids, skip_special_tokens=False) == c["decoded"], ("flags", c["text"])
        n += 1
    print(f"HF tokenizers reproduces cases.json / flag_cases with the re-written files: {n} encodes OK")


def main(folder):
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    seed_all(0)
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(folder)
    model, info = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager",
                                                       output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
    model.eval()
    V = model.config.vocab_size
    out = {"logit_stride": torch.tensor(STRIDE, dtype=torch.int32)}

    with torch.no_grad():
        for i, text in enumerate(PROMPTS):
            ids = tok.encode(text).ids
            assert ids == auto(text)["input_ids"], (text, ids)
            logits = model(torch.tensor([ids])).logits[0, -4:].float()          # [4, V]
            top = torch.topk(logits, TOP, dim=-1)
            out[f"prompt.{i}.text"] = torch.tensor(list(text.encode("utf-8")), dtype=torch.uint8)
            out[f"prompt.{i}.ids"] = torch.tensor(ids, dtype=torch.int32)
            out[f"prompt.{i}.logits"] = logits[:, ::STRIDE].contiguous()
            out[f"prompt.{i}.top_ids"] = top.indices.to(torch.int32)
            out[f"prompt.{i}.top_logits"] = top.values
            out[f"prompt.{i}.lse"] = torch.logsumexp(logits.double(), dim=-1)
            out[f"prompt.{i}.max_abs"] = logits.abs().max()
            print(f"prompt {i}: {len(ids)} tokens, max |logit| {logits.abs().max():.3f}, "
                  f"next {auto.decode([int(top.indices[-1, 0])])!r}")

        # greedy continuation with the KV cache, checked against a no-cache loop
        ids = tok.encode(PROMPTS[GREEDY_PROMPT]).ids
        res = model(torch.tensor([ids]), use_cache=True)
        past, lg = res.past_key_values, res.logits[0, -1]
        greedy, gaps = [], []
        for _ in range(N_GREEDY):
            t2 = torch.topk(lg, 2)
            gaps.append(float(t2.values[0] - t2.values[1]))
            nxt = int(t2.indices[0])
            greedy.append(nxt)
            res = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past, lg = res.past_key_values, res.logits[0, -1]
        seq = list(ids)
        for k in range(N_GREEDY):
            nxt = int(model(torch.tensor([seq])).logits[0, -1].argmax())
            assert nxt == greedy[k], ("cache vs no cache", k)
            seq.append(nxt)
        out["greedy.prompt"] = torch.tensor(GREEDY_PROMPT, dtype=torch.int32)
        out["greedy.ids"] = torch.tensor(greedy, dtype=torch.int32)
        out["greedy.min_gap"] = torch.tensor(min(gaps))
        print(f"greedy: {auto.decode(greedy)!r} (min top-1/top-2 gap {min(gaps):.4f})")

        # WikiText-2 test: the shortest prefix ending at a line end with >= 4*512+1 tokens
        raw = open(os.path.join(data_dir(), "wikitext-2-raw", "wiki.test.raw"), "rb").read()
        need, end = N_WIN * WIN + 1, 0
        while True:
            end = raw.index(b"\n", end + 1) + 1
            if len(tok.encode(raw[:end].decode("utf-8"), add_special_tokens=False).ids) >= need:
                break
        wids = tok.encode(raw[:end].decode("utf-8"), add_special_tokens=False).ids
        assert auto(raw[:end].decode("utf-8"), add_special_tokens=False)["input_ids"] == wids
        windows = torch.tensor([wids[WIN * w: WIN * w + WIN + 1] for w in range(N_WIN)], dtype=torch.int32)
        logits = model(windows[:, :WIN].long()).logits.double()                 # [4, 512, V]
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, V), windows[:, 1:].reshape(-1).long())
        nll = float(nll)
        out["wiki.range"] = torch.tensor([0, end], dtype=torch.int32)
        out["wiki.n_tokens"] = torch.tensor(len(wids), dtype=torch.int32)
        out["wiki.windows"] = windows
        out["wiki.nll"] = torch.tensor(nll)
        out["wiki.ppl"] = torch.tensor(math.exp(nll))
        print(f"wikitext-2 test bytes [0, {end}): {len(wids)} tokens, {N_WIN} windows of {WIN}: "
              f"nll {nll:.6f}, ppl {math.exp(nll):.4f}")
        assert math.exp(nll) < 40, "perplexity of a broken model"

    save_st(OUT, out)
    print(f"wrote {os.path.relpath(OUT, REPO)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check-tokenizers":
        check_tokenizers(sys.argv[2])
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        main(sys.argv[1])
    else:
        sys.exit(__doc__)
