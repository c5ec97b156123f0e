"""One optimizer step of RADLADS step 1 and step 2, in float64 PyTorch, for tests/test_train_parity.c.

Writes tests/fixtures/train/:
  student-rwkv7/   RAD-RWKV7 student (variant B: balance_state 1, groupnorm_att 0, use_rope 1)
  student-rwkv6/   RAD-RWKV6 student (token shift, balance_state 1, no RoPE, gate_rank_type 1)
      config.json + model.safetensors as radlads.h's rl_model_save writes them; every tensor the
      tiny-qwen2 teacher has is copied, every new mixer parameter is random (seeded, not the
      spec's init, so that every live gradient is non-trivial)
  ref-rwkv7.safetensors, ref-rwkv6.safetensors
      ids [2, 10] I32: B = 2 windows of T + 1 = 10 tokens (x = w[:, :9], y = w[:, 1:])
      s1.loss, s1.grad_norm, s1.gnorm.<name>, s1.<name>   step 1 (spec §3.1), mixer parameters
      s2.loss, s2.grad_norm, s2.gnorm.<name>, s2.<name>   step 2 (spec §3.2), every parameter
  where s*.<name> is the parameter after one Adam step (lr 1e-3, β 0.9/0.95, ε 1e-8, bias
  correction, weight decay 0, global-norm clip 1.0 with scale clip/(norm + 1e-6)), grad_norm
  the global gradient norm before clipping and gnorm.<name> each tensor's gradient norm.

The transformer block (RMSNorm, attention, SwiGLU MLP, residuals, final norm, head) is written
here in float64 and checked against Hugging Face's logits; the student mixers are
tools/ref/mixers.py. Both steps start from the stored student weights.

    python3 tools/ref/make_train_ref.py
"""
import json
import math
import os
import sys

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mixers  # noqa: E402
from common import FIX, save_st, seed_all  # noqa: E402

D = torch.float64
TEACHER = os.path.join(FIX, "tiny-qwen2")
OUT = os.path.join(FIX, "train")
B, T = 2, 9
LR, BETA1, BETA2, EPS, CLIP = 1e-3, 0.9, 0.95, 1e-8, 1.0
RADLADS_VERSION = "0.1.0"  # radlads.h RADLADS_VERSION, as rl_model_save writes it
RANKS7 = dict(r_w=8, r_a=6, r_v=4, r_g=5)
RANKS6 = dict(r_ts=4, r_d=6)


class Rand:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def n(self, *shape, std=1.0, mean=0.0):
        """Normal values rounded to float32 and widened: the stored F32 tensor is exactly the value used."""
        return (mean + std * torch.randn(*shape, generator=self.g, dtype=D)).float().double()

    def u(self, lo, hi, *shape):
        return (lo + (hi - lo) * torch.rand(*shape, generator=self.g, dtype=D)).float().double()


def load_teacher():
    from safetensors.torch import load_file
    cfg = json.load(open(os.path.join(TEACHER, "config.json")))
    sd = {k: v.double() for k, v in load_file(os.path.join(TEACHER, "model.safetensors")).items()}
    return cfg, sd


# ---------------------------------------------------------------------------------------------
# float64 Qwen2 model with a pluggable sequence mixer

class Shape:
    def __init__(self, cfg):
        self.L = cfg["num_hidden_layers"]
        self.C = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.KVH = cfg["num_key_value_heads"]
        self.N = cfg.get("head_dim", self.C // self.H)
        self.eps = cfg["rms_norm_eps"]
        self.theta = float(cfg["rope_theta"])
        self.V = cfg["vocab_size"]


def rms(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def lin(x, sd, name):
    y = x @ sd[name + ".weight"].T
    return y + sd[name + ".bias"] if name + ".bias" in sd else y


def attention(sd, l, x, s):
    """Qwen2 softmax attention (causal, RoPE rotate_half, GQA, scale N^-½), positions 0..T-1."""
    Bn, Tn, _ = x.shape
    H, KV, N = s.H, s.KVH, s.N
    p = f"model.layers.{l}.self_attn."
    inv = 1.0 / s.theta ** (torch.arange(0, N, 2, dtype=D) / N)
    ang = torch.arange(Tn, dtype=D)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)

    def rope(t):
        t1, t2 = t[..., : N // 2], t[..., N // 2:]
        return t * cos + torch.cat([-t2, t1], -1) * sin

    q = rope(lin(x, sd, p + "q_proj").view(Bn, Tn, H, N).transpose(1, 2))
    k = rope(lin(x, sd, p + "k_proj").view(Bn, Tn, KV, N).transpose(1, 2)).repeat_interleave(H // KV, 1)
    v = lin(x, sd, p + "v_proj").view(Bn, Tn, KV, N).transpose(1, 2).repeat_interleave(H // KV, 1)
    mask = torch.full((Tn, Tn), float("-inf"), dtype=D).triu(1)
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(N) + mask, -1) @ v
    return lin(a.transpose(1, 2).reshape(Bn, Tn, H * N), sd, p + "o_proj")


def forward(sd, ids, s, mixer):
    """Logits [B,T,V] and per layer the mixer input (RMSNorm₁ output) and output (after o_proj)."""
    h = sd["model.embed_tokens.weight"][ids]
    ins, outs = [], []
    for l in range(s.L):
        p = f"model.layers.{l}."
        x = rms(h, sd[p + "input_layernorm.weight"], s.eps)
        a = mixer(l, x)
        ins.append(x)
        outs.append(a)
        h = h + a
        x = rms(h, sd[p + "post_attention_layernorm.weight"], s.eps)
        h = h + lin(torch.nn.functional.silu(lin(x, sd, p + "mlp.gate_proj")) * lin(x, sd, p + "mlp.up_proj"), sd,
                    p + "mlp.down_proj")
    h = rms(h, sd["model.norm.weight"], s.eps)
    return h @ sd["lm_head.weight"].T, ins, outs


def mixer_params(sd, l):
    pre = f"model.layers.{l}.self_attn."
    return {k[len(pre):]: v for k, v in sd.items() if k.startswith(pre)}


class StudentMixer:
    """The student's sequence mixers with the RAD-RWKV7 v_first threaded from layer 0."""

    def __init__(self, kind, sd, s):
        self.kind, self.sd, self.s, self.v_first = kind, sd, s, None

    def __call__(self, l, x):
        s, p = self.s, mixer_params(self.sd, l)
        if self.kind == 6:
            y, _, _ = mixers.rwkv6(p, x, s.H, s.KVH, s.N)
            return y
        y, _, vf = mixers.rwkv7(p, x, s.H, s.KVH, s.N, l, "B", s.theta, pos0=0, v_first=self.v_first)
        if l == 0:
            self.v_first = vf
        return y


# ---------------------------------------------------------------------------------------------
# students

def new_params(kind, s, l, R):
    C, H, N = s.C, s.H, s.N
    p = {}
    if kind == 6:
        r_ts, r_d = RANKS6["r_ts"], RANKS6["r_d"]
        for c in "xrkvwg":
            p["time_maa_" + c] = R.u(-0.2, 1.2, 1, 1, C)
        p["time_maa_w1"] = R.n(C, 5 * r_ts, std=0.5 * C ** -0.5)
        p["time_maa_w2"] = R.n(5, r_ts, C, std=0.5 * r_ts ** -0.5)
        # a quarter of the channels well inside the −5 log-decay clamp (d > ln 5), the rest well
        # outside: float32 code must agree on every side (checked on the actual inputs below)
        clamped = R.u(0.0, 1.0, C) < 0.25
        p["time_decay"] = torch.where(clamped, R.u(2.3, 3.0, C), R.u(-4.0, 0.9, C)).view(1, 1, C)
        p["time_decay_w1"] = R.n(C, r_d, std=0.5 * C ** -0.5)
        p["time_decay_w2"] = R.n(r_d, C, std=0.1 * r_d ** -0.5)
        p["gate.weight"] = R.n(C, C, std=C ** -0.5)
    else:
        r_w, r_a, r_v, r_g = RANKS7["r_w"], RANKS7["r_a"], RANKS7["r_v"], RANKS7["r_g"]
        p["w0"] = R.n(1, 1, C, mean=-1.0, std=1.0)
        p["w1"] = R.n(C, r_w, std=0.5 * C ** -0.5)
        p["w2"] = R.n(r_w, C, std=0.5 * r_w ** -0.5)
        p["a0"] = R.n(1, 1, C)
        p["a1"] = R.n(C, r_a, std=0.5 * C ** -0.5)
        p["a2"] = R.n(r_a, C, std=0.5 * r_a ** -0.5)
        p["v0"] = R.n(1, 1, C)                       # layer 0: unused (zero gradient)
        p["v1"] = R.n(C, r_v, std=0.5 * C ** -0.5)
        p["v2"] = R.n(r_v, C, std=0.5 * r_v ** -0.5)
        p["g1"] = R.n(C, r_g, std=C ** -0.5)
        p["g2"] = R.n(r_g, C, std=r_g ** -0.5)
        p["k_k"] = R.u(0.5, 1.2, 1, 1, C)            # variant B: unused
        p["k_a"] = R.u(0.3, 1.2, 1, 1, C)            # variant B: unused
        p["r_k"] = R.n(H, N)                         # never used (bonus removed)
    return {f"model.layers.{l}.self_attn.{k}": v for k, v in p.items()}


def dead_params(kind, s):
    if kind == 6:
        return set()
    dead = set()
    for l in range(s.L):
        dead |= {f"model.layers.{l}.self_attn.{k}" for k in ("k_k", "k_a", "r_k")}
    dead |= {f"model.layers.0.self_attn.{k}" for k in ("v0", "v1", "v2")}
    return dead


def student_config(kind, tcfg, s):
    """config.json exactly as rl_model_save writes it (same keys, order and number formats).
    Ranks the mixer kind does not use are written as rl_model_save writes them: the paper's
    formula rl_lora_rank(C, e, m) = max(1, round(C^e·m/32))·32."""
    def rank(e, m):
        return max(1, math.floor(s.C ** e * m / 32.0 + 0.5)) * 32

    eps32 = float(torch.tensor(s.eps, dtype=torch.float32))
    eos = tcfg["eos_token_id"]
    eos = eos if isinstance(eos, list) else [eos]
    six = kind == 6
    lines = [
        ("architectures", '["RWKV6Qwen2ForCausalLM"]' if six else '["RWKV7Qwen2ForCausalLM"]'),
        ("model_type", '"rwkv6qwen2"' if six else '"rwkv7qwen2"'),
        ("vocab_size", tcfg["vocab_size"]), ("hidden_size", s.C), ("intermediate_size", tcfg["intermediate_size"]),
        ("num_hidden_layers", s.L), ("num_attention_heads", s.H), ("num_key_value_heads", s.KVH), ("head_dim", s.N),
        ("max_position_embeddings", tcfg["max_position_embeddings"]),
        ("rms_norm_eps", "%.9g" % eps32), ("rope_theta", "%.17g" % s.theta),
        ("tie_word_embeddings", "false"), ("attention_bias", "true"), ("attention_output_bias", "false"),
        ("hidden_act", '"silu"'), ("torch_dtype", '"float32"'),
        ("bos_token_id", tcfg["bos_token_id"]), ("eos_token_id", "[" + ", ".join(str(e) for e in eos) + "]"),
        ("lora_rank_tokenshift", RANKS6["r_ts"] if six else rank(0.5, 1.8)),
        ("lora_rank_decay", RANKS6["r_d"] if six else RANKS7["r_w"]),
        ("lora_rank_iclr", rank(0.5, 1.8) if six else RANKS7["r_a"]),
        ("lora_rank_value_residual_mix", rank(0.5, 1.3) if six else RANKS7["r_v"]),
        ("lora_rank_gate", rank(0.8, 0.6) if six else RANKS7["r_g"]),
        ("gate_rank_type", 1 if six else 2),
        ("balance_state", "true"), ("groupnorm_att", "false"),
        ("use_tokenshift", "true" if six else "false"), ("use_rope", "false" if six else "true"),
        ("num_attention_layers", 0), ("radlads_teacher_architecture", '"Qwen2ForCausalLM"'),
        ("radlads_version", '"%s"' % RADLADS_VERSION),
    ]
    text = "{\n" + ",\n".join(f'  "{k}": {v}' for k, v in lines) + "\n}\n"
    json.loads(text)  # valid JSON
    return text


def make_student(kind, tcfg, tsd, s, seed):
    R = Rand(seed)
    sd = dict(tsd)  # q/k/v/o, embeddings, norms, MLP, lm_head: the teacher's (spec §3.0)
    for l in range(s.L):
        sd.update(new_params(kind, s, l, R))
    d = os.path.join(OUT, f"student-rwkv{kind}")
    os.makedirs(d, exist_ok=True)
    save_st(os.path.join(d, "model.safetensors"), sd)
    with open(os.path.join(d, "config.json"), "w", newline="\n") as f:
        f.write(student_config(kind, tcfg, s))
    # read back: the float64 math below uses exactly the stored F32 values
    from safetensors.torch import load_file
    back = {k: v.double() for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
    assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd)
    return back


# ---------------------------------------------------------------------------------------------
# one Adam step (as rl_adamw_step applies it)

def adam_step(params, grads):
    """params, grads: dicts name -> tensor. Returns (new params, global grad norm before clipping)."""
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    scale = CLIP / (norm + 1e-6) if norm > CLIP else 1.0
    out = {}
    for k, p in params.items():
        g = grads[k] * scale
        m = (1 - BETA1) * g
        v = (1 - BETA2) * g * g
        mh, vh = m / (1 - BETA1), v / (1 - BETA2)
        out[k] = p - LR * (mh / (torch.sqrt(vh) + EPS))
    return out, norm


def grads_of(loss, leaves):
    names = list(leaves)
    gs = torch.autograd.grad(loss, [leaves[k] for k in names], allow_unused=True)
    return {k: (torch.zeros_like(leaves[k]) if g is None else g.detach()) for k, g in zip(names, gs)}


def check_grads(tag, grads, dead):
    for k, g in grads.items():
        if k in dead:
            assert g.abs().max() == 0, (tag, k)
        elif k != "model.embed_tokens.weight":  # embeddings: checked row by row below
            assert g.abs().max() > 1e-6, (tag, k, g.abs().max())


def check_clamp_margin(sd, s, ins, tag):
    """RWKV6: no −exp(d) within a factor e^±0.1 of the −5 clamp; some clamped, some not."""
    for l, x in enumerate(ins):
        p = mixer_params(sd, l)
        C, r_ts = s.C, p["time_maa_w2"].shape[1]
        with torch.no_grad():
            prev = torch.cat([x.new_zeros(x.shape[0], 1, C), x[:, :-1]], 1)
            dx = prev - x
            h = torch.tanh((x + dx * p["time_maa_x"].view(C)) @ p["time_maa_w1"]).view(*x.shape[:2], 5, r_ts)
            xw = x + dx * (p["time_maa_w"].view(C) + h[:, :, 3] @ p["time_maa_w2"][3])
            d = p["time_decay"].view(C) + torch.tanh(xw @ p["time_decay_w1"]) @ p["time_decay_w2"]
        margin = (d - math.log(5)).abs().min().item()
        assert margin > 0.1, (tag, l, margin)
        assert (d > math.log(5)).any() and (d < math.log(5)).any(), (tag, l)


def close(a, b, what, tol):
    err = (a - b).abs().max().item()
    assert err < tol, f"{what}: {err}"
    return err


def check_teacher(tsd, s, ids):
    """The float64 block above against Hugging Face (eager attention, run in float64; HF still
    takes RMSNorm and the RoPE tables through float32, hence ~5e-7)."""
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(TEACHER, dtype=torch.float32, attn_implementation="eager").double().eval()
    with torch.no_grad():
        ref = m(ids.long()).logits
        ours, _, _ = forward(tsd, ids.long(), s, lambda l, x: attention(tsd, l, x, s))
    return close(ours, ref, "float64 teacher vs HF logits", 1e-5)


def make(kind, tcfg, tsd, s, seed, ids):
    sd = make_student(kind, tcfg, tsd, s, seed)
    dead = dead_params(kind, s)
    x, y = ids[:, :T].long(), ids[:, 1:].long()
    mixer_names = [k for k in sd if ".self_attn." in k]
    f = {"ids": ids}

    # ---- step 1: student mixers on the teacher's normalized residual stream ----
    with torch.no_grad():
        t_logits, t_in, t_out = forward(tsd, x, s, lambda l, z: attention(tsd, l, z, s))
    leaves = {k: sd[k].clone().requires_grad_(True) for k in mixer_names}
    live = dict(sd)
    live.update(leaves)
    sm = StudentMixer(kind, live, s)
    per_layer = []
    for l in range(s.L):
        ys = sm(l, t_in[l])
        per_layer.append(((t_out[l] - ys).norm(dim=-1) / math.sqrt(s.C)).mean())
        if kind == 6 and l == 0:
            close(ys, mixers.rwkv6_parallel_check(mixer_params(live, l), t_in[l], s.H, s.KVH, s.N), "rwkv6 loop vs parallel", 1e-10)
        if kind == 7:
            close(ys, mixers.rwkv7_matrix_check(mixer_params(live, l), t_in[l], s.H, s.KVH, s.N, l, "B", s.theta, 0,
                                                None if l == 0 else sm.v_first), "rwkv7 loop vs matrix", 1e-10)
    loss1 = sum(per_layer) / s.L
    g1 = grads_of(loss1, leaves)
    check_grads("step 1", g1, dead)
    new1, gn1 = adam_step({k: sd[k] for k in mixer_names}, g1)
    f["s1.loss"] = loss1.detach()
    f["s1.grad_norm"] = torch.tensor(gn1, dtype=D)
    for k in mixer_names:
        f["s1." + k] = new1[k]
        f["s1.gnorm." + k] = g1[k].norm()
    if kind == 6:
        check_clamp_margin(sd, s, t_in, "step 1")

    # ---- step 2: KL(teacher ‖ student) over the whole vocabulary, every parameter trains ----
    leaves = {k: v.clone().requires_grad_(True) for k, v in sd.items()}
    s_logits, s_in, _ = forward(leaves, x, s, StudentMixer(kind, leaves, s))
    lt, ls = torch.log_softmax(t_logits, -1), torch.log_softmax(s_logits, -1)
    loss2 = (lt.exp() * (lt - ls)).sum(-1).mean()
    g2 = grads_of(loss2, leaves)
    check_grads("step 2", g2, dead)
    used = torch.zeros(s.V, dtype=torch.bool)
    used[x.flatten()] = True
    ge = g2["model.embed_tokens.weight"]
    assert (ge[~used] == 0).all() and (ge[used].abs().amax(-1) > 0).all()
    new2, gn2 = adam_step(sd, g2)
    f["s2.loss"] = loss2.detach()
    f["s2.grad_norm"] = torch.tensor(gn2, dtype=D)
    for k in sd:
        f["s2." + k] = new2[k]
        f["s2.gnorm." + k] = g2[k].norm()
    if kind == 6:
        check_clamp_margin(sd, s, [z.detach() for z in s_in], "step 2")
    # the cross-entropy of the same windows, for orientation only
    ce = torch.nn.functional.cross_entropy(t_logits.reshape(-1, s.V), y.reshape(-1)).item()
    print(f"  rwkv{kind}: step 1 loss {loss1.item():.6f} grad norm {gn1:.4f}; step 2 KL {loss2.item():.6f} "
          f"grad norm {gn2:.4f} (teacher CE {ce:.3f})")
    # how close each live gradient element comes to Adam's ε (where the update stops being ±lr)
    for tag, g, gn in (("step 1", g1, gn1), ("step 2", g2, gn2)):
        sc = CLIP / (gn + 1e-6) if gn > CLIP else 1.0
        nz = torch.cat([(v * sc).abs().flatten() for v in g.values()])
        nz = nz[nz > 0]
        print(f"    {tag}: {nz.numel()} non-zero gradient values, smallest |g·clip| {nz.min().item():.2e}, "
              f"{int((nz < 1e-6).sum())} below 1e-6")
    return f


def main():
    seed_all(20250505)
    tcfg, tsd = load_teacher()
    s = Shape(tcfg)
    assert (s.L, s.C, s.H, s.KVH, s.N, s.V) == (2, 64, 4, 2, 16, 640)
    g = torch.Generator().manual_seed(2505)
    ids = torch.randint(0, 605, (B, T + 1), generator=g, dtype=torch.int64).to(torch.int32)
    err = check_teacher(tsd, s, ids[:, :T])
    print(f"  float64 teacher block vs HF (float64) logits: max |diff| {err:.1e}")
    for kind, seed in ((7, 77), (6, 66)):
        f = make(kind, tcfg, tsd, s, seed, ids)
        save_st(os.path.join(OUT, f"ref-rwkv{kind}.safetensors"), f)
    for dp, _, fs in os.walk(OUT):
        for fn in fs:
            os.chmod(os.path.join(dp, fn), 0o644)
    print("train references written")


if __name__ == "__main__":
    main()
