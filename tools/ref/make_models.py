"""Tiny random-weight teacher models in Hugging Face format, with reference outputs.

Writes (under tests/fixtures/):
  tiny-qwen2/          Qwen2ForCausalLM, fp32, legacy (transformers v4 style) config.json
  tiny-qwen2-bf16/     same weights cast to bf16, config.json as transformers v5 writes it
  tiny-llama/          LlamaForCausalLM (tied, llama3 RoPE scaling), fp32, legacy config.json
  tiny-llama-sharded/  same weights as tiny-llama, 3 shards + model.safetensors.index.json, v5 config
each with tokenizer.json, tokenizer_config.json, ref.safetensors (and hidden.safetensors).
Needs tests/fixtures/tok/*.json (make_tokenizers.py) first. See tools/ref/README.md.
"""
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX, save_st, seed_all, write_json  # noqa: E402

from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig,  # noqa: E402
                          LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM)

B, T, NEW = 2, 11, 16
MODEL_VOCAB = 640  # > tokenizer sizes (605): the extra rows are padding rows, as in real models


def tok_info(name):
    j = json.load(open(os.path.join(FIX, "tok", name + ".json"), encoding="utf-8"))
    ids = {a["content"]: a["id"] for a in j["added_tokens"]}
    n = max(list(j["model"]["vocab"].values()) + list(ids.values())) + 1
    return n, ids


def randomize(model, seed, std=0.1):
    """Every parameter random (biases and norm weights too), independent of HF's init code."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


# ---------------------------------------------------------------------------------------------
# Independent float64 re-implementation of the teacher forward pass (formats.md §2), used only to
# check that the HF outputs stored in the fixtures follow the documented math.

def rope_inv_freq(cfg):
    rp = cfg.rope_parameters
    d = cfg.head_dim
    theta = float(rp["rope_theta"])
    inv = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    if rp.get("rope_type", "default") == "llama3":
        f, lo, hi, old = rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"], rp["original_max_position_embeddings"]
        low_wl, high_wl = old / lo, old / hi
        out = []
        for x in inv.tolist():
            wl = 2 * torch.pi / x
            if wl < high_wl:
                out.append(x)
            elif wl > low_wl:
                out.append(x / f)
            else:
                s = (old / wl - lo) / (hi - lo)
                out.append((1 - s) * x / f + s * x)
        inv = torch.tensor(out, dtype=torch.float64)
    return inv


def manual_forward(model, ids):
    cfg = model.config
    sd = {k: v.detach().double() for k, v in model.state_dict().items()}
    H, KV, D, eps = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.rms_norm_eps
    Bn, Tn = ids.shape

    def rms(x, w):
        return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))

    def lin(x, name):
        y = x @ sd[name + ".weight"].T
        return y + sd[name + ".bias"] if name + ".bias" in sd else y

    inv = rope_inv_freq(cfg)
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)

    def rope(x):  # [B, heads, T, D], rotate_half pairing (i, i + D/2)
        x1, x2 = x[..., : D // 2], x[..., D // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    h = sd["model.embed_tokens.weight"][ids]
    mask = torch.full((Tn, Tn), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(cfg.num_hidden_layers):
        p = f"model.layers.{l}."
        x = rms(h, sd[p + "input_layernorm.weight"])
        q = lin(x, p + "self_attn.q_proj").view(Bn, Tn, H, D).transpose(1, 2)
        k = lin(x, p + "self_attn.k_proj").view(Bn, Tn, KV, D).transpose(1, 2)
        v = lin(x, p + "self_attn.v_proj").view(Bn, Tn, KV, D).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        a = torch.softmax(q @ k.transpose(-1, -2) / D ** 0.5 + mask, -1) @ v
        h = h + lin(a.transpose(1, 2).reshape(Bn, Tn, H * D), p + "self_attn.o_proj")
        x = rms(h, sd[p + "post_attention_layernorm.weight"])
        m = torch.nn.functional.silu(lin(x, p + "mlp.gate_proj")) * lin(x, p + "mlp.up_proj")
        h = h + lin(m, p + "mlp.down_proj")
    h = rms(h, sd["model.norm.weight"])
    head = sd.get("lm_head.weight", sd["model.embed_tokens.weight"])
    return h @ head.T


# ---------------------------------------------------------------------------------------------

def reference_outputs(model, ids, want_attn):
    """logits [B,T,V], greedy [NEW], per-layer row-0 intermediates, optional attn in/out."""
    L = model.config.num_hidden_layers
    rec, hooks = {}, []

    def keep(name):
        def hook(mod, args, kwargs, out):
            rec[name] = (out[0] if isinstance(out, tuple) else out).detach().clone()
        return hook

    for l, layer in enumerate(model.model.layers):
        hooks.append(layer.input_layernorm.register_forward_hook(keep(f"attn_in.{l}"), with_kwargs=True))
        hooks.append(layer.self_attn.register_forward_hook(keep(f"attn_out.{l}"), with_kwargs=True))
        hooks.append(layer.post_attention_layernorm.register_forward_hook(keep(f"mlp_in.{l}"), with_kwargs=True))
        hooks.append(layer.mlp.register_forward_hook(keep(f"mlp_out.{l}"), with_kwargs=True))
        hooks.append(layer.register_forward_hook(keep(f"layer.{l}"), with_kwargs=True))
    hooks.append(model.model.embed_tokens.register_forward_hook(keep("embed"), with_kwargs=True))
    hooks.append(model.model.norm.register_forward_hook(keep("norm"), with_kwargs=True))
    pos = torch.arange(T)[None].expand(B, T)
    with torch.no_grad():
        out = model(input_ids=ids, position_ids=pos, output_hidden_states=True, use_cache=False)
    for h in hooks:
        h.remove()
    logits = out.logits.float()
    hs = out.hidden_states
    # hidden_states[0] is the embedding output, [l+1] the output of decoder layer l, except the
    # last entry which HF returns after the final norm.
    assert len(hs) == L + 1
    assert torch.equal(hs[0], rec["embed"])
    for l in range(L - 1):
        assert torch.equal(hs[l + 1], rec[f"layer.{l}"]), l
    assert torch.equal(hs[L], rec["norm"])

    # manual float64 forward agrees with HF
    ref64 = manual_forward(model, ids)
    err = (ref64 - logits.double()).abs().max().item()
    assert err < 1e-4, f"manual forward differs from HF by {err}"

    # greedy continuation of row 0 with the KV cache, no EOS stopping
    gc = GenerationConfig(do_sample=False, max_new_tokens=NEW, min_new_tokens=NEW, num_beams=1,
                          eos_token_id=None, pad_token_id=0, bos_token_id=None, use_cache=True)
    with torch.no_grad():
        gen = model.generate(ids[:1], generation_config=gc, attention_mask=torch.ones(1, T, dtype=torch.long))
    greedy = gen[0, T:]
    assert greedy.numel() == NEW
    # same thing without cache, by repeated full forwards (checks that min_new_tokens did not bite)
    seq = ids[:1]
    with torch.no_grad():
        for _ in range(NEW):
            nxt = model(input_ids=seq, use_cache=False).logits[0, -1].argmax()
            seq = torch.cat([seq, nxt.view(1, 1)], 1)
    assert torch.equal(seq[0, T:], greedy), (seq[0, T:], greedy)
    # seeds were picked so that the continuation is not degenerate and no argmax is a near tie
    with torch.no_grad():
        top = model(input_ids=seq, use_cache=False).logits[0, T - 1:-1].topk(2, dim=-1).values
    gap = (top[:, 0] - top[:, 1]).min().item()
    assert len(set(greedy.tolist())) >= 5 and gap > 5e-3, (greedy.tolist(), gap)

    ref = {"input_ids": ids.to(torch.int32), "logits": logits, "greedy": greedy.to(torch.int32)}
    if want_attn:
        for l in range(L):
            ref[f"attn_in.{l}"] = rec[f"attn_in.{l}"].float()
            ref[f"attn_out.{l}"] = rec[f"attn_out.{l}"].float()
    hidden = {"embed": rec["embed"][0].float(), "norm": rec["norm"][0].float()}
    for l in range(L):
        for k in ("attn_in", "attn_out", "mlp_in", "mlp_out", "layer"):
            hidden[f"{k}.{l}"] = rec[f"{k}.{l}"][0].float()
    return ref, hidden


def legacy_config(path, updates, drop):
    """Rewrite a v5 config.json into the transformers-v4 form real hub files use."""
    cfg = json.load(open(path))
    for k in drop:
        cfg.pop(k, None)
    cfg.update(updates)
    write_json(path, dict(sorted(cfg.items())), indent=2)


def same_logits(d, ids, logits):
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").float().eval()
    with torch.no_grad():
        lo = m(input_ids=ids, position_ids=torch.arange(T)[None].expand(B, T), use_cache=False).logits.float()
    assert torch.equal(lo, logits), f"{d}: reloaded model gives different logits"


def write_tokenizer(d, tokname, cfg_extra):
    shutil.copyfile(os.path.join(FIX, "tok", tokname + ".json"), os.path.join(d, "tokenizer.json"))
    write_json(os.path.join(d, "tokenizer_config.json"), cfg_extra, indent=2)


def clean(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def make_qwen2():
    ntok, added = tok_info("qwen2")
    eos = added["<|endoftext|>"]
    cfg = Qwen2Config(vocab_size=MODEL_VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=16, intermediate_size=128, rope_theta=1e6,
                      rms_norm_eps=1e-6, tie_word_embeddings=False, initializer_range=0.1,
                      max_position_embeddings=256, bos_token_id=eos, eos_token_id=eos,
                      use_sliding_window=False, attn_implementation="eager")
    seed_all(1003)
    model = Qwen2ForCausalLM(cfg).float().eval()
    randomize(model, 1003)
    model.generation_config = GenerationConfig(bos_token_id=eos, eos_token_id=eos)
    g = torch.Generator().manual_seed(2005)
    ids = torch.randint(0, ntok, (B, T), generator=g)

    tokcfg = {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|endoftext|>",
              "pad_token": "<|endoftext|>", "unk_token": None, "add_bos_token": False,
              "model_max_length": 256}
    d = os.path.join(FIX, "tiny-qwen2")
    clean(d)
    model.save_pretrained(d, safe_serialization=True)
    legacy_config(os.path.join(d, "config.json"),
                  {"rope_theta": 1000000.0, "torch_dtype": "float32", "sliding_window": 256,
                   "max_window_layers": 2, "use_sliding_window": False},
                  drop=["rope_parameters", "dtype", "layer_types"])
    write_tokenizer(d, "qwen2", tokcfg)
    ref, hidden = reference_outputs(model, ids, want_attn=True)
    save_st(os.path.join(d, "ref.safetensors"), ref)
    save_st(os.path.join(d, "hidden.safetensors"), hidden)
    same_logits(d, ids, ref["logits"])
    check_tokenizer(d, "qwen2")

    # bf16 copy: same weights rounded to bf16; reference = fp32 math on the bf16 weights
    db = os.path.join(FIX, "tiny-qwen2-bf16")
    clean(db)
    mb = Qwen2ForCausalLM(cfg).eval()
    mb.load_state_dict(model.state_dict())
    mb = mb.to(torch.bfloat16)
    mb.generation_config = model.generation_config
    mb.save_pretrained(db, safe_serialization=True)
    write_tokenizer(db, "qwen2", tokcfg)
    m32 = AutoModelForCausalLM.from_pretrained(db, dtype=torch.bfloat16, attn_implementation="eager").float().eval()
    assert all(p.dtype == torch.float32 for p in m32.parameters())
    refb, hiddenb = reference_outputs(m32, ids, want_attn=True)
    save_st(os.path.join(db, "ref.safetensors"), refb)
    save_st(os.path.join(db, "hidden.safetensors"), hiddenb)
    return model


def make_llama():
    ntok, added = tok_info("llama3")
    bos, eos = added["<|begin_of_text|>"], added["<|end_of_text|>"]
    rs = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}
    cfg = LlamaConfig(vocab_size=MODEL_VOCAB, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                      num_key_value_heads=1, head_dim=16, intermediate_size=96, rope_theta=10000.0,
                      rope_scaling=rs, max_position_embeddings=256, rms_norm_eps=1e-5,
                      tie_word_embeddings=True, attention_bias=False, mlp_bias=False,
                      initializer_range=0.1, bos_token_id=bos, eos_token_id=eos,
                      attn_implementation="eager")
    assert cfg.rope_parameters["rope_type"] == "llama3"
    seed_all(1007)
    model = LlamaForCausalLM(cfg).float().eval()
    randomize(model, 1007)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    model.generation_config = GenerationConfig(bos_token_id=bos, eos_token_id=eos)
    # the llama3 scaling must actually change some frequencies (and leave some alone)
    inv0 = 1.0 / 10000.0 ** (torch.arange(0, 16, 2, dtype=torch.float64) / 16)
    inv = rope_inv_freq(cfg)
    kept, scaled = (inv == inv0).sum().item(), (inv == inv0 / 8).sum().item()
    assert kept >= 1 and scaled >= 1 and kept + scaled < 8, (kept, scaled)
    g = torch.Generator().manual_seed(2011)
    ids = torch.randint(0, ntok, (B, T), generator=g)
    tokcfg = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
              "eos_token": "<|end_of_text|>", "add_bos_token": True, "model_max_length": 256}

    d = os.path.join(FIX, "tiny-llama")
    clean(d)
    model.save_pretrained(d, safe_serialization=True)
    # (LlamaConfig adds rope_theta into the dict it is given; the legacy file keeps it outside)
    rs_legacy = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                 "original_max_position_embeddings": 64, "rope_type": "llama3"}
    legacy_config(os.path.join(d, "config.json"),
                  {"rope_theta": 10000.0, "rope_scaling": rs_legacy, "torch_dtype": "float32"},
                  drop=["rope_parameters", "dtype"])
    write_tokenizer(d, "llama3", tokcfg)
    ref, hidden = reference_outputs(model, ids, want_attn=False)
    save_st(os.path.join(d, "ref.safetensors"), ref)
    save_st(os.path.join(d, "hidden.safetensors"), hidden)
    same_logits(d, ids, ref["logits"])
    check_tokenizer(d, "llama3")

    ds = os.path.join(FIX, "tiny-llama-sharded")
    clean(ds)
    model.save_pretrained(ds, safe_serialization=True, max_shard_size="200KB")
    write_tokenizer(ds, "llama3", tokcfg)
    shards = sorted(f for f in os.listdir(ds) if f.startswith("model-") and f.endswith(".safetensors"))
    assert 2 <= len(shards) <= 3 and os.path.exists(os.path.join(ds, "model.safetensors.index.json")), shards
    same_logits(ds, ids, ref["logits"])
    save_st(os.path.join(ds, "ref.safetensors"), ref)
    return model


def check_tokenizer(d, tokname):
    """The model folder's tokenizer loads through transformers and matches the cases."""
    cases = json.load(open(os.path.join(FIX, "tok", "cases.json")))["cases"]
    tk = AutoTokenizer.from_pretrained(d)
    for c in cases:
        assert tk.encode(c["text"], add_special_tokens=False) == c[tokname], (d, c["text"])


def main():
    torch.set_num_threads(1)
    make_qwen2()
    make_llama()
    print("models written")


if __name__ == "__main__":
    main()
