"""Train the demo teacher that ships in examples/tiny-teacher/ (dev-only; needs torch, transformers).

    python3 tools/ref/make_tiny_teacher.py            # 7-17 min on 2 shared CPU cores; rewrites examples/tiny-teacher/
    python3 tools/ref/make_tiny_teacher.py --pilot    # hyper-parameter check: holds out 90-95% too, writes nothing

A small LlamaForCausalLM (GQA 8/2 heads, head_dim 32, hidden 256, SwiGLU 688, 4 layers, RMSNorm,
RoPE theta 1e4, untied embeddings, vocab 3072) with its own byte-level BPE tokenizer (SmolLM2
layout: Digits(individual) + ByteLevel with the GPT-2 regex, `<|endoftext|>` = id 0 = EOS,
no BOS), pretrained from scratch on tinyshakespeare/input.txt minus its last 5% (the held-out
split, which neither the tokenizer nor the model ever sees). Saved in bf16.

Data comes from ../shared/data (or $RADLADS_DATA); nothing is copied from there. Writes:

  examples/tiny-teacher/config.json, generation_config.json, model.safetensors (bf16),
  tokenizer.json, tokenizer_config.json, ref.safetensors, heldout.json, README.md

References (ref.safetensors, heldout.json, the README's numbers) are computed by transformers
from the *saved* checkpoint: bf16 weights loaded, upcast to fp32, eager attention, fp32 math.

Deterministic given SEED up to what torch on CPU allows: seeds are fixed and the data order
comes from a seeded generator; torch runs 2 threads (MKL/oneDNN reduction order with a fixed
thread count is stable on one machine, but another CPU or torch version changes low bits and
therefore the whole trajectory). A wall-clock guard (--max-minutes, default 19) stops training
early if the machine is much slower than expected; the README then says so.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time

# Under a shared CPU, OpenMP's default spin-waiting makes 2 threads 3-20x slower than 1;
# PASSIVE (set before torch loads OpenMP) keeps them usable.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, save_st, write_json  # noqa: E402

SEED = 20250505
OUT = os.path.join(REPO, "examples", "tiny-teacher")
EOS = "<|endoftext|>"

# tokenizer
VOCAB = 3072          # total, including <|endoftext|> (id 0) and the 256 byte symbols
# model
HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN = 256, 4, 8, 2, 32, 688
ROPE_THETA, RMS_EPS, MAX_POS = 10000.0, 1e-5, 1024
# training
SEQ, BATCH, STEPS, WARMUP = 256, 8, 1500, 100
LR, LR_MIN, WD, BETAS, CLIP = 2e-3, 2e-4, 0.1, (0.9, 0.95), 1.0
DROPOUT = 0.1         # training only, on the embedding output and on every attention/MLP branch output
THREADS = 2
# held-out / references
HELDOUT_FRAC, EVAL_CTX, REF_T, REF_NEW, SAMPLE_NEW = 0.05, 256, 32, 32, 64
SAMPLE_PROMPT = "ROMEO:"


def data_dir():
    d = os.environ.get("RADLADS_DATA") or os.path.join(REPO, "..", "shared", "data")
    return os.path.abspath(d)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def split_text(raw):
    """Held-out split = the last 5% of the file, moved forward to the next blank line so it
    starts at a speaker's name. Returns (train_text, heldout_text, byte_offset)."""
    assert raw.isascii()  # so byte offsets equal character offsets
    cut = int(len(raw) * (1 - HELDOUT_FRAC))
    j = raw.find("\n\n", cut)
    assert j >= 0
    off = j + 2
    return raw[:off], raw[off:], off


# ----------------------------------------------------------------------------------------------
# tokenizer


def bytelevel(aps, trim, regex):
    return {"type": "ByteLevel", "add_prefix_space": aps, "trim_offsets": trim, "use_regex": regex}


def train_tokenizer(train_text):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[EOS])
    # one "document" per play-scene-sized chunk is not needed: the pre-tokenizer splits anyway
    tok.train_from_iterator([train_text], trainer=trainer)
    m = json.loads(tok.to_str())["model"]
    assert m["vocab"][EOS] == 0 and len(m["vocab"]) == VOCAB, len(m["vocab"])
    merges = [list(p) if isinstance(p, list) else p.split(" ") for p in m["merges"]]
    # Rebuild field by field in the layout of SmolLM2's tokenizer.json (formats.md §3.4).
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": EOS, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            bytelevel(False, True, True)]},
        "post_processor": bytelevel(True, False, True),
        "decoder": bytelevel(False, True, True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": m["vocab"], "merges": merges},
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": None, "eos_token": EOS, "pad_token": EOS, "unk_token": None,
    "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
    "model_max_length": MAX_POS,
    "added_tokens_decoder": {"0": {"content": EOS, "lstrip": False, "normalized": False,
                                   "rstrip": False, "single_word": False, "special": True}},
}


# ----------------------------------------------------------------------------------------------
# model


def make_config():
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
        hidden_act="silu", max_position_embeddings=MAX_POS, rms_norm_eps=RMS_EPS,
        rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False, initializer_range=0.02,
        bos_token_id=None, eos_token_id=0, pad_token_id=0)


def lr_at(step):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    p = (step - WARMUP) / max(1, STEPS - WARMUP)
    return LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * p))


@torch.no_grad()
def heldout_ppl(model, ids, ctx=EVAL_CTX, bs=16):
    """Perplexity over `ids` cut into non-overlapping windows of `ctx` tokens (the last one
    shorter). Each window is an independent forward from position 0 (no carried context); every
    token but a window's first is predicted. Returns (ppl, n_predicted, mean_nll)."""
    wins = [ids[i:i + ctx] for i in range(0, len(ids), ctx)]
    nll, n = 0.0, 0
    for w in wins:
        if len(w) < 2:
            continue
        x = torch.tensor(w)[None]
        lo = model(input_ids=x, use_cache=False).logits[0, :-1].double()
        nll += torch.nn.functional.cross_entropy(lo, x[0, 1:], reduction="sum").item()
        n += len(w) - 1
    return math.exp(nll / n), n, nll / n


def add_dropout(model, p):
    """Residual dropout for training (LlamaForCausalLM has none): forward hooks on the embedding
    and on each layer's self_attn / mlp output. Returns the hook handles (remove before saving)."""
    drop = torch.nn.functional.dropout

    def branch(mod, inp, out):
        if isinstance(out, tuple):
            return (drop(out[0], p, mod.training),) + tuple(out[1:])
        return drop(out, p, mod.training)
    hs = [model.model.embed_tokens.register_forward_hook(branch)]
    for layer in model.model.layers:
        hs.append(layer.self_attn.register_forward_hook(branch))
        hs.append(layer.mlp.register_forward_hook(branch))
    return hs


def train(model, stream, log, max_minutes, val=None):
    g = torch.Generator().manual_seed(SEED + 1)
    hooks = add_dropout(model, DROPOUT) if DROPOUT > 0 else []
    data = torch.tensor(stream, dtype=torch.long)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=1e-8, fused=False, foreach=True)
    model.train()
    t0 = time.time()
    ema = None
    done = STEPS
    for step in range(STEPS):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step)
        starts = torch.randint(0, len(data) - SEQ - 1, (BATCH,), generator=g)
        xb = torch.stack([data[s:s + SEQ + 1] for s in starts.tolist()])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(input_ids=xb[:, :-1], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, VOCAB), xb[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        opt.zero_grad(set_to_none=True)
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        el = time.time() - t0
        if step % 100 == 0 or step == STEPS - 1 or (val is not None and step % 250 == 0):
            msg = f"step {step:5d}/{STEPS}  loss {loss.item():.3f} (ema {ema:.3f})  lr {lr_at(step):.2e}  {el:6.0f}s"
            if val is not None and (step % 250 == 0 or step == STEPS - 1):
                model.eval()
                ppl, _, nll = heldout_ppl(model, val)
                model.train()
                msg += f"  val ppl {ppl:.1f} (nll {nll:.3f})"
            log(msg)
        if el > max_minutes * 60 and step < STEPS - 1:
            done = step + 1
            log(f"wall-clock guard: stopping after {done} steps ({el:.0f}s)")
            break
    model.eval()
    for h in hooks:
        h.remove()
    return done, time.time() - t0, ema


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pilot", action="store_true",
                    help="train on 0-90%% only, report perplexity on 90-95%% every 250 steps, write nothing")
    ap.add_argument("--steps", type=int, default=STEPS, help="training steps (default %(default)s)")
    ap.add_argument("--max-minutes", type=float, default=19.0, help="wall-clock guard for training")
    args = ap.parse_args()
    globals()["STEPS"] = args.steps

    from tokenizers import Tokenizer
    import transformers
    import tokenizers
    import safetensors
    from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig,
                              LlamaForCausalLM)

    t_start = time.time()

    def log(s):
        print(f"[{time.time() - t_start:7.1f}s] {s}", flush=True)

    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    src = os.path.join(data_dir(), "tinyshakespeare", "input.txt")
    raw = open(src, "rb").read().decode("utf-8")
    train_text, held_text, off = split_text(raw)
    log(f"{src}: {len(raw)} bytes; train [0, {off}), held-out [{off}, {len(raw)})")
    val = None
    if args.pilot:
        # pilot: train on [0, ~90%), validate on [~90%, off)
        cut = train_text.find("\n\n", int(len(raw) * 0.90)) + 2
        train_text, val_text = train_text[:cut], train_text[cut:]
        log(f"pilot: train [0, {cut}), validation [{cut}, {off}); the held-out split is not used")

    tokj = train_tokenizer(train_text)
    tok = Tokenizer.from_str(json.dumps(tokj))
    stream = tok.encode(train_text, add_special_tokens=False).ids + [0]  # one document + EOS
    held = tok.encode(held_text, add_special_tokens=False).ids + [0]
    log(f"tokenizer: vocab {tok.get_vocab_size()}, {len(tokj['model']['merges'])} merges; "
        f"train {len(stream)} tokens ({len(train_text) / len(stream):.2f} bytes/token), held-out {len(held)}")
    if args.pilot:
        val = tok.encode(val_text, add_special_tokens=False).ids + [0]

    cfg = make_config()
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(cfg).float()
    nparam = sum(p.numel() for p in model.parameters())
    log(f"model: {nparam} parameters ({nparam / 1e6:.2f}M); {STEPS} steps x {BATCH} x {SEQ} tokens "
        f"= {STEPS * BATCH * SEQ / 1e6:.2f}M tokens ({STEPS * BATCH * SEQ / len(stream):.1f} epochs)")
    steps_done, train_s, final_loss = train(model, stream, log, args.max_minutes, val)
    log(f"trained {steps_done} steps in {train_s:.0f}s")
    if args.pilot:
        return

    ppl32, n32, _ = heldout_ppl(model, held)
    log(f"held-out ppl, fp32 training weights: {ppl32:.3f} over {n32} tokens")

    # ---- save (bf16) -----------------------------------------------------------------------
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    model.generation_config = GenerationConfig(bos_token_id=None, eos_token_id=0, pad_token_id=0)
    model.to(torch.bfloat16).save_pretrained(OUT, safe_serialization=True)
    write_json(os.path.join(OUT, "tokenizer.json"), tokj, ensure_ascii=False, indent=1)
    write_json(os.path.join(OUT, "tokenizer_config.json"), TOKENIZER_CONFIG, indent=2)
    del model

    # ---- references from the saved checkpoint ---------------------------------------------
    m = AutoModelForCausalLM.from_pretrained(OUT, dtype=torch.bfloat16, attn_implementation="eager")
    m = m.float().eval()
    assert all(p.dtype == torch.float32 for p in m.parameters())
    hf_tok = AutoTokenizer.from_pretrained(OUT)
    assert hf_tok.encode(held_text, add_special_tokens=False) == held[:-1]
    assert hf_tok.eos_token_id == 0 and hf_tok.bos_token_id is None

    ppl, n_tok, nll = heldout_ppl(m, held)
    log(f"held-out ppl, saved bf16 weights in fp32 math: {ppl:.3f} over {n_tok} predicted tokens")
    # The held-out text is the end of The Taming of the Shrew, then the start of The Tempest, a
    # play that never occurs in the training text. Per-part numbers (each part windowed alone).
    k = held_text.find("\n\nMaster:\nBoatswain!") + 2
    assert k > 2
    part_a = heldout_ppl(m, tok.encode(held_text[:k], add_special_tokens=False).ids)[0]
    part_b = heldout_ppl(m, tok.encode(held_text[k:], add_special_tokens=False).ids + [0])[0]
    parts = (k, part_a, part_b)
    log(f"  Shrew part [{off}, {off + k}): ppl {part_a:.2f}; Tempest part [{off + k}, end): ppl {part_b:.2f}")

    # ref: first REF_T held-out tokens
    ids = torch.tensor(held[:REF_T])[None]
    with torch.no_grad():
        logits = m(input_ids=ids, use_cache=False).logits.float()
    gc = GenerationConfig(do_sample=False, max_new_tokens=REF_NEW, min_new_tokens=REF_NEW, num_beams=1,
                          eos_token_id=None, pad_token_id=0, bos_token_id=None, use_cache=True)
    with torch.no_grad():
        gen = m.generate(ids, generation_config=gc, attention_mask=torch.ones_like(ids))
    greedy = gen[0, REF_T:]
    assert greedy.numel() == REF_NEW
    # the same without cache (full forwards), and the smallest top-1/top-2 gap on the path
    seq = ids
    gaps = []
    with torch.no_grad():
        for _ in range(REF_NEW):
            lo = m(input_ids=seq, use_cache=False).logits[0, -1]
            top = lo.topk(2).values
            gaps.append((top[0] - top[1]).item())
            seq = torch.cat([seq, lo.argmax().view(1, 1)], 1)
    assert torch.equal(seq[0, REF_T:], greedy), (seq[0, REF_T:], greedy)
    log(f"ref: greedy {greedy.tolist()}; smallest top-1/top-2 logit gap {min(gaps):.4f}")
    save_st(os.path.join(OUT, "ref.safetensors"),
            {"input_ids": ids.to(torch.int32), "logits": logits, "greedy": greedy.to(torch.int32)})

    # reload everything once more: bit-identical logits and same tokenizer output
    m2 = AutoModelForCausalLM.from_pretrained(OUT, dtype=torch.bfloat16, attn_implementation="eager").float().eval()
    from safetensors.torch import load_file
    ref = load_file(os.path.join(OUT, "ref.safetensors"))
    with torch.no_grad():
        lo2 = m2(input_ids=ref["input_ids"].long(), use_cache=False).logits.float()
    assert torch.equal(lo2, ref["logits"]), "reloaded checkpoint gives different logits"
    st = load_file(os.path.join(OUT, "model.safetensors"))
    assert all(t.dtype == torch.bfloat16 for t in st.values()) and "lm_head.weight" in st

    # sample generation for the README
    p_ids = hf_tok.encode(SAMPLE_PROMPT, add_special_tokens=False)
    gs = GenerationConfig(do_sample=False, max_new_tokens=SAMPLE_NEW, min_new_tokens=SAMPLE_NEW, num_beams=1,
                          eos_token_id=None, pad_token_id=0, bos_token_id=None, use_cache=True)
    with torch.no_grad():
        out = m.generate(torch.tensor([p_ids]), generation_config=gs, attention_mask=torch.ones(1, len(p_ids), dtype=torch.long))
    sample = hf_tok.decode(out[0].tolist(), skip_special_tokens=False)
    log("sample:\n" + sample)

    heldout = {"ctx": EVAL_CTX, "ppl": round(ppl, 6), "n_tokens": n_tok, "text_offset": off,
               "text_bytes": len(raw) - off, "eos_appended": True, "windows": math.ceil(len(held) / EVAL_CTX),
               "mean_nll": round(nll, 8), "source": "tinyshakespeare/input.txt",
               "source_sha256": sha256(src)}
    write_json(os.path.join(OUT, "heldout.json"), heldout, indent=1)

    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                "safetensors": safetensors.__version__}
    write_readme(nparam, len(stream), steps_done, train_s, final_loss, ppl32, ppl, n_tok, nll, off,
                 len(raw), len(held), sample, min(gaps), versions, args.max_minutes, parts)
    total = 0
    for f in sorted(os.listdir(OUT)):
        sz = os.path.getsize(os.path.join(OUT, f))
        total += sz
        log(f"  {f:26s} {sz:10d} bytes  sha256 {sha256(os.path.join(OUT, f))[:16]}")
    log(f"  total {total} bytes")
    assert os.path.getsize(os.path.join(OUT, "model.safetensors")) <= 12_000_000 and total <= 13_000_000


def write_readme(nparam, ntrain, steps, train_s, final_loss, ppl32, ppl, n_tok, nll, off, nraw, nheld,
                 sample, gap, versions, max_minutes, parts):
    ntok_seen = steps * BATCH * SEQ
    stopped = ("" if steps == STEPS else
               f"\n**Training was cut short by the wall-clock guard ({max_minutes} min) after {steps} of "
               f"{STEPS} steps, so this run is not reproducible step for step.**\n")
    nonembed = nparam - 2 * VOCAB * HIDDEN
    text = f"""# tiny-teacher — a small pretrained Llama to convert

A {nparam / 1e6:.2f}M-parameter `LlamaForCausalLM` trained from scratch on Shakespeare, with its own
byte-level BPE tokenizer. It is the demo teacher for radlads: small enough to convert, distill and
run on a laptop CPU in minutes, yet a real pretrained model (not random weights), so conversion
quality, perplexity and generated text mean something. Everything here was made by one command:

```sh
python3 tools/ref/make_tiny_teacher.py
```

(dev-only: needs torch, transformers, tokenizers, safetensors; reads
`../shared/data/tinyshakespeare/input.txt` or `$RADLADS_DATA/tinyshakespeare/input.txt`,
sha256 `{heldout_sha()}`).

Made with Python {versions['python']}, torch {versions['torch']}, transformers {versions['transformers']},
tokenizers {versions['tokenizers']}, safetensors {versions['safetensors']}, on 2 CPU threads
(`OMP_WAIT_POLICY=PASSIVE`). The script is deterministic given its seed ({SEED}) on one machine
and package set; another CPU or torch version changes low bits and so the whole training run
(the files here then differ, the numbers only slightly).
{stopped}
## Files

| file | what |
|---|---|
| `config.json` | `LlamaForCausalLM`, transformers-5 layout (`rope_parameters`, `dtype: bfloat16`) |
| `generation_config.json` | `eos_token_id` 0, `pad_token_id` 0, no BOS |
| `model.safetensors` | all weights in **BF16**, untied `lm_head.weight` included |
| `tokenizer.json`, `tokenizer_config.json` | byte-level BPE, SmolLM2 layout, merges as `[["a","b"], ...]` pairs |
| `ref.safetensors` | parity references for the C side (below) |
| `heldout.json` | held-out perplexity and how to recompute it |

## Model

| | |
|---|---|
| parameters | {nparam:,} ({nonembed:,} without the two {VOCAB}x{HIDDEN} embedding matrices) |
| layers | {LAYERS} |
| hidden / FFN (SwiGLU) | {HIDDEN} / {FFN} |
| attention | {HEADS} query heads, {KV_HEADS} KV heads (GQA), head_dim {HEAD_DIM}, no biases |
| RoPE | default (rotate-half), theta {ROPE_THETA:g} |
| RMSNorm eps | {RMS_EPS:g} |
| vocab | {VOCAB} (= tokenizer size; no padding rows) |
| embeddings | untied (`lm_head.weight` separate from `model.embed_tokens.weight`) |
| max_position_embeddings | {MAX_POS} (trained at {SEQ}) |

## Tokenizer

Trained with HF `tokenizers` (`BpeTrainer`, vocab {VOCAB}, min frequency 2, all 256 byte symbols in
the initial alphabet) on the training text only. Pre-tokenizer `Sequence[Digits(individual_digits),
ByteLevel(add_prefix_space=false, use_regex=true)]` (the GPT-2 regex, as in SmolLM2), ByteLevel
decoder, no normalizer. One special token, `<|endoftext|>` = id 0: end of document, EOS and pad;
no BOS is ever added. The training text is one document: `encode(text) + [0]`.

## Training

* Data: `tinyshakespeare/input.txt` bytes [0, {off}) — the file minus its last 5%
  (the cut at 95% is moved forward to the next blank line, so the held-out part starts at a speaker
  name). {ntrain:,} tokens ({(off) / (ntrain - 1):.2f} bytes/token). No other text.
* {steps} steps of {BATCH} random windows of {SEQ + 1} tokens (inputs {SEQ}, seeded sampling) =
  {ntok_seen / 1e6:.2f}M tokens ({ntok_seen / ntrain:.1f} passes over the data).
* AdamW (betas {BETAS}, eps 1e-8, weight decay {WD} on matrices only), lr {LR:g} with {WARMUP}
  warm-up steps then cosine to {LR_MIN:g}, gradient clipping {CLIP}; dropout {DROPOUT:g} on the
  embedding output and on every attention and MLP branch output (training only, forward hooks: the
  saved model has none); HF's default init (normal, std 0.02). Forward and backward under CPU
  autocast bf16, fp32 master weights.
* Step count and dropout were chosen with `--pilot`, which trains the same way on [0, 90%) and
  reports perplexity on [90%, 95%) (without dropout that split got worse after ~1000 steps: 52.8 at
  step 1000, 55.2 at 1500; with dropout 0.1 it reached 49.9 at 1500). The held-out split was used
  for no choice.
* Time: {train_s / 60:.1f} min of training on 2 threads of a shared 2-core machine. Final training
  loss (EMA) {final_loss:.3f}.

## Held-out perplexity

**{ppl:.2f}** per token on the held-out text (byte {off} to the end, {nraw - off:,} bytes,
{nheld:,} tokens including the final `<|endoftext|>`): mean NLL {nll:.4f} nats/token.

Exactly: tokenize `input.txt[{off}:]`, append id 0; cut the ids into non-overlapping windows of
256 (the last one shorter); run each window on its own from position 0 (no context carried over);
score every token but each window's first. {n_tok:,} predicted tokens; ppl = exp(sum NLL / {n_tok}).
Computed by transformers on the saved BF16 weights upcast to fp32 (eager attention, fp32 math).
(The fp32 training weights before rounding to bf16 gave {ppl32:.2f}.) `heldout.json` holds these
numbers.

The held-out text is the end of *The Taming of the Shrew* (bytes {off}..{off + parts[0]}, ppl
{parts[1]:.1f} scored alone) followed by the opening of *The Tempest* (the remaining
{nraw - off - parts[0]:,} bytes, ppl {parts[2]:.1f} alone), a play that does not occur in the
training text at all: new characters, a ship and an island. That is why the overall number is well
above the pilot's validation perplexity, whose split lies inside *The Shrew*.

## Sample

Greedy, {SAMPLE_NEW} new tokens, KV cache, prompt `{SAMPLE_PROMPT}` (no BOS), same fp32-on-bf16 model:

```
{sample}
```

## `ref.safetensors`

| name | dtype, shape | what |
|---|---|---|
| `input_ids` | I32 [1, {REF_T}] | the first {REF_T} held-out tokens |
| `logits` | F32 [1, {REF_T}, {VOCAB}] | transformers forward on the bf16 weights upcast to fp32, eager attention, positions 0..{REF_T - 1} |
| `greedy` | I32 [{REF_NEW}] | greedy continuation of `input_ids`, KV cache, no EOS stop (equals a no-cache argmax loop; smallest top-1/top-2 logit gap along the path {gap:.3f}) |

## License

The training text (Shakespeare, via karpathy/char-rnn's tinyshakespeare) is in the public domain.
The weights and tokenizer were made for this project and are distributed under the project's
license (MIT, see `LICENSE` at the top of the repository).
"""
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def heldout_sha():
    return sha256(os.path.join(data_dir(), "tinyshakespeare", "input.txt"))


if __name__ == "__main__":
    main()
