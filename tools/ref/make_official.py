"""Parity fixtures from the OFFICIAL RADLADS modeling code (tests/fixtures/official/).

The official Hugging Face code of the RADLADS students (folders rwkv6qwen2/ and rwkv7qwen2/
of the RADLADS repository: GitHub recursal/RADLADS, also in its fork Codys12/NASQAR-paper)
is NOT part of this project. Get a copy and point this script at the folder that holds
those two sub-folders:

    git clone <the RADLADS repository> /tmp/radlads-code
    python3 tools/ref/make_official.py --code /tmp/radlads-code      # or RADLADS_CODE=/tmp/radlads-code

It needs torch (CPU is enough) and transformers 4.48 (the API that code was written for:
`pip install torch transformers==4.48.3 safetensors numpy`). The code imports fla
(flash-linear-attention, Triton GPU kernels); this script installs a pure-PyTorch stand-in
for the three fla functions it calls (fused_recurrent_gla, fused_recurrent_rwkv7,
chunk_rwkv7), written from fla's recurrent reference math, token by token, in float64.

For each configuration below it builds the official model from a config.json (with the
auto_map the released checkpoints carry), fills every parameter with seeded random values,
saves model.safetensors (F32, or BF16/F16 for the *_bf16 / *_f16 cases), reloads the folder
with AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True) (modeling files copied
next to the weights in a temporary folder, never into tests/), and stores the logits of a
fixed batch: ref.safetensors {input_ids I32 [2, T], logits F32 [2, T, V]}. BF16/F16 cases run
the official code in float32 on the rounded weights (torch_dtype=float32), as our library does.
tests/test_official.c compares our logits with these (1e-4 relative to max |logit|).
"""
import argparse, json, math, os, shutil, sys, tempfile, types

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "official")

# ---------------------------------------------------------------------------------------
# pure-PyTorch stand-ins for the fla kernels (float64, one token at a time)


def fused_recurrent_gla(q, k, v, gk=None, gv=None, scale=None, initial_state=None, output_final_state=False, **kw):
    """fla GLA, head-first [B, H, T, K]: S_t = diag(exp gk_t) S_{t-1} + k_tᵀ v_t, o_t = scale·q_t S_t."""
    assert gv is None
    B, H, T, K = q.shape
    V = v.shape[-1]
    if scale is None:
        scale = K ** -0.5
    dt = q.dtype
    q, k, v, gk = q.double(), k.double(), v.double(), gk.double()
    S = torch.zeros(B, H, K, V, dtype=torch.float64) if initial_state is None else initial_state.double().clone()
    o = torch.empty(B, H, T, V, dtype=torch.float64)
    for t in range(T):
        S = S * gk[:, :, t].exp()[..., None] + k[:, :, t, :, None] * v[:, :, t, None, :]
        o[:, :, t] = torch.einsum("bhk,bhkv->bhv", q[:, :, t] * scale, S)
    return o.to(dt), (S.float() if output_final_state else None)


def fused_recurrent_rwkv7(r, w, k, v, a, b, scale=1.0, initial_state=None, output_final_state=False, **kw):
    """fla RWKV-7, [B, T, H, N], w = log decay: S = S·diag(exp w) + (S·a) bᵀ + v kᵀ (S[value][key]), o = S·r."""
    B, T, H, N = r.shape
    dt = r.dtype
    r, w, k, v, a, b = (x.double() for x in (r, w, k, v, a, b))
    S = torch.zeros(B, H, N, N, dtype=torch.float64)
    if initial_state is not None:  # fla keeps [B, H, K, V]; the official callers pass zeros
        S = initial_state.double().transpose(-1, -2).clone()
    o = torch.empty(B, T, H, N, dtype=torch.float64)
    for t in range(T):
        sa = torch.einsum("bhij,bhj->bhi", S, a[:, t])
        S = S * w[:, t].exp()[:, :, None, :] + sa[..., None] * b[:, t, :, None, :] + v[:, t, :, :, None] * k[:, t, :, None, :]
        o[:, t] = torch.einsum("bhij,bhj->bhi", S, r[:, t]) * scale
    return o.to(dt), (S.transpose(-1, -2).float() if output_final_state else None)


def install_fla_standin():
    def mod(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m
    for n in ["fla", "fla.ops", "fla.ops.gla", "fla.ops.rwkv7"]:
        mod(n)
    mod("fla.ops.gla.fused_recurrent").fused_recurrent_gla = fused_recurrent_gla
    mod("fla.ops.gla.chunk").chunk_gla = fused_recurrent_gla
    mod("fla.ops.rwkv7.fused_recurrent").fused_recurrent_rwkv7 = fused_recurrent_rwkv7
    mod("fla.ops.rwkv7.chunk").chunk_rwkv7 = fused_recurrent_rwkv7


# ---------------------------------------------------------------------------------------
# configurations

BASE = dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=10000.0,
            tie_word_embeddings=False, attention_bias=True, attention_output_bias=False, hidden_act="silu",
            use_sliding_window=False, bos_token_id=None, eos_token_id=None, torch_dtype="float32")

R6 = dict(model_type="rwkv6qwen2", architectures=["RWKV6Qwen2ForCausalLM"])
R7 = dict(model_type="rwkv7qwen2", architectures=["RWKV7Qwen2ForCausalLM"])

CASES = {
    # RAD-RWKV6 ("qwerky6" preset: token shift, balance_state, Linear gate, no RoPE, no GroupNorm)
    "r6_default": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=1, balance_state=True,
                       groupnorm_att=False, use_tokenshift=True, use_rope=False),
    # the official GroupNorm ablation (configs/qwerky6_ablation_groupnorm.yaml): balance_state 0, groupnorm_att 1
    "r6_groupnorm": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=1, balance_state=False,
                         groupnorm_att=True, use_tokenshift=True, use_rope=False),
    "r6_no_tokenshift": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=1, balance_state=True,
                             groupnorm_att=False, use_tokenshift=False, use_rope=False),
    "r6_no_gate_unbalanced": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=0, balance_state=False,
                                  groupnorm_att=False, use_tokenshift=True, use_rope=False),
    # LoRA gate, RoPE, every rank null (RWKV6Qwen2Config defaults: 32, 64, and the gate formula)
    "r6_lora_gate_rope_nullranks": dict(R6, lora_rank_tokenshift=None, lora_rank_decay=None, lora_rank_gate=None,
                                        gate_rank_type=2, balance_state=True, groupnorm_att=True, use_tokenshift=True,
                                        use_rope=True),
    "r6_bf16": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=1, balance_state=True,
                    groupnorm_att=False, use_tokenshift=True, use_rope=False, torch_dtype="bfloat16"),
    # RAD-RWKV7: the config class defaults (LoRA gate, balance_state, no GroupNorm, no RoPE)
    "r7_default": dict(R7, lora_rank_decay=8, lora_rank_iclr=6, lora_rank_value_residual_mix=4, lora_rank_gate=5,
                       gate_rank_type=2, balance_state=True, groupnorm_att=False, use_rope=False, use_tokenshift=False),
    # the "qwerky7" preset: balance_state 0, groupnorm_att 1, RoPE; use_tokenshift true as training configs say
    # (the HF code ignores it); ranks null = the formulas
    "r7_qwerky7": dict(R7, lora_rank_decay=None, lora_rank_iclr=None, lora_rank_value_residual_mix=None,
                       lora_rank_gate=None, gate_rank_type=2, balance_state=False, groupnorm_att=True, use_rope=True,
                       use_tokenshift=True),
    "r7_linear_gate_unbalanced": dict(R7, lora_rank_decay=8, lora_rank_iclr=6, lora_rank_value_residual_mix=4,
                                      gate_rank_type=1, balance_state=False, groupnorm_att=False, use_rope=False),
    "r7_balanced_groupnorm": dict(R7, lora_rank_decay=8, lora_rank_iclr=6, lora_rank_value_residual_mix=4,
                                  lora_rank_gate=5, gate_rank_type=2, balance_state=True, groupnorm_att=True,
                                  use_rope=True),
    # hybrid: the last layer keeps Qwen2 attention (needs use_rope in the official code)
    "r7_hybrid": dict(R7, num_hidden_layers=3, num_attention_layers=1, lora_rank_decay=8, lora_rank_iclr=6,
                      lora_rank_value_residual_mix=4, lora_rank_gate=5, gate_rank_type=2, balance_state=False,
                      groupnorm_att=True, use_rope=True),
    "r7_bf16": dict(R7, lora_rank_decay=8, lora_rank_iclr=6, lora_rank_value_residual_mix=4, lora_rank_gate=5,
                    gate_rank_type=2, balance_state=False, groupnorm_att=True, use_rope=True, torch_dtype="bfloat16"),
    "r7_f16": dict(R7, lora_rank_decay=8, lora_rank_iclr=6, lora_rank_value_residual_mix=4, lora_rank_gate=5,
                   gate_rank_type=2, balance_state=True, groupnorm_att=False, use_rope=True, torch_dtype="float16"),
    "r6_f16": dict(R6, lora_rank_tokenshift=4, lora_rank_decay=6, gate_rank_type=2, lora_rank_gate=5, balance_state=False,
                   groupnorm_att=False, use_tokenshift=True, use_rope=True, torch_dtype="float16"),
}

AUTO_MAP = {6: {"AutoConfig": "configuration_rwkv6qwen2.RWKV6Qwen2Config",
                "AutoModelForCausalLM": "modeling_rwkv6qwen2.RWKV6Qwen2ForCausalLM"},
            7: {"AutoConfig": "configuration_rwkv7qwen2.RWKV7Qwen2Config",
                "AutoModelForCausalLM": "modeling_rwkv7qwen2.RWKV7Qwen2ForCausalLM"}}


def fill_params(model, seed):
    """Seeded random values for every parameter, in sorted-name order."""
    g = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    out = {}
    for name in sorted(sd):
        t = sd[name]
        base = name.rsplit(".", 1)[-1] if "." in name else name
        shape = t.shape
        rnd = torch.randn(shape, generator=g, dtype=torch.float64)
        uni = torch.rand(shape, generator=g, dtype=torch.float64)
        if "layernorm" in name or name == "model.norm.weight" or name.endswith("ln_x.weight"):
            v = 1 + 0.2 * rnd
        elif name.endswith("time_decay"):
            # log-decay −exp(d) on both sides of the −5 clamp, never within e^±0.15 of it
            v = -3.0 + 5.0 * uni
            v = torch.where((v - math.log(5)).abs() < 0.15, v - 0.4, v)
        elif base in ("time_maa_x", "time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"):
            v = uni
        elif base in ("w0",):
            v = -1.0 + 1.0 * rnd
        elif base in ("k_k", "k_a", "a0", "v0"):
            v = 0.5 * rnd + (0.8 if base == "k_k" else 0.0)
        elif name.endswith("embed_tokens.weight"):
            v = 0.5 * rnd
        elif name.endswith("bias"):
            v = 0.2 * rnd
        else:
            v = 0.1 * rnd
        out[name] = v.float()
    model.load_state_dict(out, strict=True)
    return out


def make_case(name, spec, code, seed):
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM
    cfg = dict(BASE)
    cfg.update(spec)
    kind = 6 if cfg["model_type"] == "rwkv6qwen2" else 7
    cfg["auto_map"] = AUTO_MAP[kind]
    store = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(cfg["torch_dtype"], torch.float32)
    cfg_written = {k: v for k, v in cfg.items()}
    out_dir = os.path.join(OUT, name)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pkg = "rwkv%dqwen2" % kind
        for f in os.listdir(os.path.join(code, pkg)):
            if f.endswith(".py"):
                shutil.copy(os.path.join(code, pkg, f), tmp)
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(cfg_written, f, indent=2)
        # build through the official classes, fill, save in the stored dtype
        from transformers import AutoConfig
        conf = AutoConfig.from_pretrained(tmp, trust_remote_code=True)
        torch.manual_seed(seed)
        m0 = AutoModelForCausalLM.from_config(conf, trust_remote_code=True, torch_dtype=torch.float32)
        params = fill_params(m0, seed)
        tensors = {k: v.to(store).contiguous() for k, v in params.items()}
        save_file(tensors, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
        # reload as a user would, fp32 math on the stored values
        model = AutoModelForCausalLM.from_pretrained(tmp, trust_remote_code=True, torch_dtype=torch.float32)
        model.eval()
        for k, v in model.state_dict().items():  # the load kept every stored value
            assert torch.equal(v, tensors[k].float()), k
        g = torch.Generator().manual_seed(seed + 1)
        ids = torch.randint(0, cfg["vocab_size"], (2, 12), generator=g)
        with torch.no_grad():
            logits = model(input_ids=ids, use_cache=False).logits.float()
        assert torch.isfinite(logits).all(), name
        shutil.copy(os.path.join(tmp, "config.json"), out_dir)
        shutil.copy(os.path.join(tmp, "model.safetensors"), out_dir)
    save_file({"input_ids": ids.to(torch.int32).contiguous(), "logits": logits.contiguous()},
              os.path.join(out_dir, "ref.safetensors"), metadata={"format": "pt"})
    print("%-30s |logit| max %.3f" % (name, logits.abs().max().item()))
    return logits


def check_folder(folder, code):
    """Load a student folder written by `radlads convert` with the official code (as
    AutoModelForCausalLM with trust_remote_code finds it through auto_map) and print the
    keys it did not expect or missed and the last-position logits of a fixed sequence."""
    from transformers import AutoModelForCausalLM
    cfg = json.load(open(os.path.join(folder, "config.json")))
    kind = 6 if cfg.get("model_type") == "rwkv6qwen2" else 7
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(folder):
            if os.path.isfile(os.path.join(folder, f)):
                shutil.copy(os.path.join(folder, f), tmp)
        pkg = os.path.join(code, "rwkv%dqwen2" % kind)
        for f in os.listdir(pkg):
            if f.endswith(".py") and not os.path.exists(os.path.join(tmp, f)):
                shutil.copy(os.path.join(pkg, f), tmp)
        m, info = AutoModelForCausalLM.from_pretrained(tmp, trust_remote_code=True, torch_dtype=torch.float32,
                                                       output_loading_info=True)
        ids = torch.tensor([[5, 77, 300, 12, 599, 4, 4, 90, 201]]) % cfg["vocab_size"]
        with torch.no_grad():
            lg = m(input_ids=ids, use_cache=False).logits
    print("%s: %s, missing %s, unexpected %s, logits[-1][:4] %s" % (folder, type(m).__name__, info["missing_keys"],
          sorted(info["unexpected_keys"]), ["%.6f" % v for v in lg[0, -1, :4].tolist()]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", default=os.environ.get("RADLADS_CODE"),
                    help="folder holding rwkv6qwen2/ and rwkv7qwen2/ of the RADLADS repository (or RADLADS_CODE)")
    ap.add_argument("--load", nargs="+", metavar="DIR",
                    help="instead: load these student folders (written by radlads convert) with the official code")
    ap.add_argument("cases", nargs="*", help="only these cases (default: all)")
    a = ap.parse_args()
    if not a.code or not os.path.isdir(os.path.join(a.code, "rwkv6qwen2")):
        ap.error("--code DIR (or RADLADS_CODE) must name a folder with rwkv6qwen2/ and rwkv7qwen2/ (see the top of this file)")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    install_fla_standin()
    if a.load:
        for d in a.load:
            check_folder(d, os.path.abspath(a.code))
        return
    for i, (name, spec) in enumerate(CASES.items()):
        if a.cases and name not in a.cases:
            continue
        make_case(name, spec, os.path.abspath(a.code), 1000 + i)


if __name__ == "__main__":
    main()
