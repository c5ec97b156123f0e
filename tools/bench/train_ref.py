"""The same RADLADS training step as build/bench_train, in PyTorch (CPU), for `make bench-train`.

An independent implementation of what radlads' stages 1 and 2 compute for a RAD-RWKV7
student (paper v4 variant: balance_state, no GroupNorm, RoPE on r and k), written the way a
PyTorch user would: the teacher with scaled_dot_product_attention, the RWKV-7 scan in the
chunked WY form (chunks of 16 tokens, each chunk a handful of small matrix products and one
unit-triangular solve, a Python loop over chunks), autograd for the backward,
torch.optim.AdamW and clip_grad_norm_.

  python3 tools/bench/train_ref.py --dir DIR [--stage 12] [--ctx 512] [--batch 4]
                                   [--micro-batch 4] [--steps 4] [--threads 2]
  python3 tools/bench/train_ref.py --selftest      (chunked scan == token-by-token scan)

DIR is what `bench_train --out DIR` wrote: DIR/teacher (else --teacher), DIR/student (the
student at initialisation) and DIR/windows.bin (the first step's windows, so the first
step's loss can be compared with radlads'). Later steps reuse those windows (speed does not
depend on the ids). Prints one line per stage:
  pytorch stage S: tok/s X (steps 2..n, best of per-step; mean Y), first-step loss L, threads T

The RWKV-7 recurrence (per head; S[i][j]: value i, key j; all vectors of the head size N):
  S_t = S_{t-1} (diag(w_t) + α_t β_tᵀ) + v_t k_tᵀ,  y_t = S_t r_t,
  α = −κ, β = κ⊙a, κ = k/‖k‖, k = k⊙(1 − w + a).
Chunked form (W_t = ∏_{s≤t} w_s within the chunk, S_0 the state entering it):
  sa_t = S_{t-1} α_t satisfies SA = Ã S_0ᵀ + (Ã B̂ᵀ)_{<} SA + (Ã K̂ᵀ)_{<} V, with Ã_t = α_t⊙W_{t-1},
  B̂_t = β_t/W_t, K̂_t = k_t/W_t, ( )_{<} the strictly lower triangle: one triangular solve;
  Y = R̃ S_0ᵀ + (R̃ B̂ᵀ)_{≤} SA + (R̃ K̂ᵀ)_{≤} V with R̃_t = r_t⊙W_t;
  S_L = S_0 diag(W_L) + SAᵀ(B̂⊙W_L) + Vᵀ(K̂⊙W_L).
w ≥ exp(−e^{−1/2}) ≈ 0.545 in RAD-RWKV7, so 1/W_t ≤ 0.545^{−16} ≈ 1.6e4 inside a chunk of 16:
no overflow in fp32.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

CHUNK = 16


def wkv7_chunked(r, w, k, v, alpha, beta, S=None):
    """All [B, H, T, N]; returns y [B, H, T, N] and the final state [B, H, N, N]."""
    Bn, H, T, N = r.shape
    if S is None:
        S = r.new_zeros(Bn, H, N, N)
    ys = []
    for c0 in range(0, T, CHUNK):
        sl = slice(c0, min(c0 + CHUNK, T))
        rc, wc, kc, vc, ac, bc = r[:, :, sl], w[:, :, sl], k[:, :, sl], v[:, :, sl], alpha[:, :, sl], beta[:, :, sl]
        L = rc.shape[2]
        logW = torch.cumsum(torch.log(wc), 2)
        Wi = torch.exp(logW)                       # W_t (inclusive)
        We = torch.exp(logW - torch.log(wc))       # W_{t-1}
        At, Rt = ac * We, rc * Wi
        Bh, Kh = bc / Wi, kc / Wi
        strict = torch.ones(L, L, dtype=torch.bool).tril(-1)
        incl = torch.ones(L, L, dtype=torch.bool).tril()
        Mab = (At @ Bh.transpose(-1, -2)).masked_fill(~strict, 0)
        Mak = (At @ Kh.transpose(-1, -2)).masked_fill(~strict, 0)
        eye = torch.eye(L, dtype=r.dtype)
        SA = torch.linalg.solve_triangular(eye - Mab, At @ S.transpose(-1, -2) + Mak @ vc, upper=False, unitriangular=True)
        y = Rt @ S.transpose(-1, -2) + (Rt @ Bh.transpose(-1, -2)).masked_fill(~incl, 0) @ SA \
            + (Rt @ Kh.transpose(-1, -2)).masked_fill(~incl, 0) @ vc
        WL = Wi[:, :, -1:, :]                      # [B, H, 1, N]
        S = S * WL + SA.transpose(-1, -2) @ (Bh * WL) + vc.transpose(-1, -2) @ (Kh * WL)
        ys.append(y)
    return torch.cat(ys, 2), S


def wkv7_naive(r, w, k, v, alpha, beta, S=None):
    Bn, H, T, N = r.shape
    if S is None:
        S = r.new_zeros(Bn, H, N, N)
    ys = []
    for t in range(T):
        sa = S @ alpha[:, :, t, :, None]                                   # [B,H,N,1]
        S = S * w[:, :, t, None, :] + sa * beta[:, :, t, None, :] + v[:, :, t, :, None] * k[:, :, t, None, :]
        ys.append((S @ r[:, :, t, :, None])[..., 0])
    return torch.stack(ys, 2), S


def selftest():
    torch.manual_seed(0)
    Bn, H, T, N = 2, 3, 37, 16
    D = torch.float64
    r, k, v = (torch.randn(Bn, H, T, N, dtype=D) for _ in range(3))
    w = torch.exp(-math.exp(-0.5) * torch.sigmoid(torch.randn(Bn, H, T, N, dtype=D)))
    kap = F.normalize(torch.randn(Bn, H, T, N, dtype=D), dim=-1)
    a = torch.sigmoid(torch.randn(Bn, H, T, N, dtype=D))
    S0 = torch.randn(Bn, H, N, N, dtype=D)
    y1, s1 = wkv7_chunked(r, w, k, v, -kap, kap * a, S0)
    y2, s2 = wkv7_naive(r, w, k, v, -kap, kap * a, S0)
    e = max((y1 - y2).abs().max().item() / y2.abs().max().item(), (s1 - s2).abs().max().item() / s2.abs().max().item())
    print(f"selftest: chunked vs token-by-token RWKV-7 scan, max relative error {e:.2e}")
    return 0 if e < 1e-10 else 1


# ---------------------------------------------------------------------------------------------

def rope_tables(T, N, theta, scaling=None):
    inv = 1.0 / theta ** (torch.arange(0, N, 2, dtype=torch.float64) / N)
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type"))
    if kind == "llama3":  # transformers' _compute_llama3_parameters
        f, lo, hi = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wl = 2 * math.pi / inv
        scaled = torch.where(wl > old / lo, inv / f, inv)
        smooth = (old / wl - lo) / (hi - lo)
        medium = (wl >= old / hi) & (wl <= old / lo)
        inv = torch.where(medium, (1 - smooth) * scaled / f + smooth * scaled, scaled)
    elif kind == "linear":
        inv = inv / scaling["factor"]
    elif kind not in (None, "default"):
        raise SystemExit(f"train_ref.py: rope_scaling {kind} is not implemented here")
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1).float()
    sin = torch.cat([ang.sin(), ang.sin()], -1).float()
    return cos, sin


def rope(t, cos, sin):  # t [B, heads, T, N]
    N = t.shape[-1]
    return t * cos + torch.cat([-t[..., N // 2:], t[..., : N // 2]], -1) * sin


def rms(x, w, eps):
    return w * (x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps))


def lin(x, p, name):
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if name + ".bias" in p else y


class Model:
    def __init__(self, d, cfg):
        self.p, self.cfg = d, cfg
        self.L, self.C = cfg["num_hidden_layers"], cfg["hidden_size"]
        self.H, self.KVH = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.N = cfg.get("head_dim") or self.C // self.H
        self.eps = cfg["rms_norm_eps"]
        self.theta = float(cfg.get("rope_theta", 10000.0))
        self.scaling = cfg.get("rope_scaling")

    def head(self):
        return self.p.get("lm_head.weight", self.p["model.embed_tokens.weight"])

    def attention(self, l, x, cos, sin):
        Bn, T, _ = x.shape
        H, KVH, N, pre = self.H, self.KVH, self.N, f"model.layers.{l}.self_attn."
        q = rope(lin(x, self.p, pre + "q_proj").view(Bn, T, H, N).transpose(1, 2), cos, sin)
        k = rope(lin(x, self.p, pre + "k_proj").view(Bn, T, KVH, N).transpose(1, 2), cos, sin)
        v = lin(x, self.p, pre + "v_proj").view(Bn, T, KVH, N).transpose(1, 2)
        k, v = k.repeat_interleave(H // KVH, 1), v.repeat_interleave(H // KVH, 1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return lin(o.transpose(1, 2).reshape(Bn, T, H * N), self.p, pre + "o_proj")

    def rwkv7(self, l, x, cos, sin, v_first):
        Bn, T, C = x.shape
        H, KVH, N, p, pre = self.H, self.KVH, self.N, self.p, f"model.layers.{l}.self_attn."
        r = lin(x, p, pre + "q_proj").view(Bn, T, H, N).transpose(1, 2)
        k = lin(x, p, pre + "k_proj").view(Bn, T, KVH, N).transpose(1, 2)
        v = lin(x, p, pre + "v_proj").view(Bn, T, KVH, N).transpose(1, 2)
        d = p[pre + "w0"].view(C) + torch.tanh(x @ p[pre + "w1"]) @ p[pre + "w2"]
        w = torch.exp(-math.exp(-0.5) * torch.sigmoid(d))
        a = torch.sigmoid(p[pre + "a0"].view(C) + (x @ p[pre + "a1"]) @ p[pre + "a2"])
        g = torch.sigmoid(x @ p[pre + "g1"]) @ p[pre + "g2"]
        heads = lambda t: t.view(Bn, T, H, N).transpose(1, 2)
        r, k = rope(r, cos, sin), rope(k, cos, sin).repeat_interleave(H // KVH, 1)
        v = v.repeat_interleave(H // KVH, 1)
        w, a = heads(w), heads(a)
        kappa = F.normalize(k, dim=-1, eps=1e-12)
        ktil = k * (1 - w + a)
        if l == 0:
            v_first = v
        else:
            nu = heads(torch.sigmoid(p[pre + "v0"].view(C) + (x @ p[pre + "v1"]) @ p[pre + "v2"]))
            v = v + (v_first - v) * nu
        y, _ = wkv7_chunked(r, w, ktil, v, -kappa, kappa * a)
        y = y.transpose(1, 2).reshape(Bn, T, C) / math.sqrt(N)
        return lin(y * g, p, pre + "o_proj"), v_first

    def mlp(self, l, x):
        pre = f"model.layers.{l}.mlp."
        return lin(F.silu(lin(x, self.p, pre + "gate_proj")) * lin(x, self.p, pre + "up_proj"), self.p, pre + "down_proj")

    def forward(self, ids, student=False, keep=False):
        """logits; keep: also each layer's mixer input and output (stage 1)."""
        T = ids.shape[1]
        cos, sin = rope_tables(T, self.N, self.theta, self.scaling)
        h = self.p["model.embed_tokens.weight"][ids]
        ins, outs, vf = [], [], None
        for l in range(self.L):
            pre = f"model.layers.{l}."
            x = rms(h, self.p[pre + "input_layernorm.weight"], self.eps)
            if student:
                a, vf = self.rwkv7(l, x, cos, sin, vf)
            else:
                a = self.attention(l, x, cos, sin)
            if keep:
                ins.append(x)
                outs.append(a)
            h = h + a
            h = h + self.mlp(l, rms(h, self.p[pre + "post_attention_layernorm.weight"], self.eps))
        if keep:
            return None, ins, outs
        return rms(h, self.p["model.norm.weight"], self.eps) @ self.head().T, ins, outs


def load(dirname, trainable):
    from safetensors.torch import load_file
    cfg = json.load(open(os.path.join(dirname, "config.json")))
    d = {k: v.float() for k, v in load_file(os.path.join(dirname, "model.safetensors")).items()}
    if trainable:
        for v in d.values():
            v.requires_grad_(True)
    return Model(d, cfg)


def stage_loss(stage, teacher, student, ids):
    if stage == 1:
        with torch.no_grad():
            _, ins, outs = teacher.forward(ids, keep=True)
        C, loss, vf = student.C, 0.0, None
        cos, sin = rope_tables(ids.shape[1], student.N, student.theta, student.scaling)
        for l in range(student.L):
            ys, vf = student.rwkv7(l, ins[l], cos, sin, vf)
            loss = loss + ((ys - outs[l]).norm(dim=-1) / math.sqrt(C)).mean()
        return loss / student.L
    with torch.no_grad():
        tl, _, _ = teacher.forward(ids)
        lt = F.log_softmax(tl, -1)
    sl, _, _ = student.forward(ids, student=True)
    return F.kl_div(F.log_softmax(sl, -1), lt, log_target=True, reduction="sum") / (ids.shape[0] * ids.shape[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--teacher")
    ap.add_argument("--stage", default="12")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="mixed precision: the forward under torch.autocast(cpu, bfloat16)")
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    torch.set_num_threads(a.threads)
    teacher = load(a.teacher or os.path.join(a.dir, "teacher"), False)
    win = torch.from_numpy(__import__("numpy").fromfile(os.path.join(a.dir, "windows.bin"), dtype="int32").astype("int64"))
    win = win.view(a.batch, a.ctx + 1)[:, : a.ctx]
    for st in a.stage:
        stage = int(st)
        student = load(os.path.join(a.dir, "student"), True)
        params = [v for k, v in student.p.items() if stage == 2 or ".self_attn." in k]
        for k, v in student.p.items():
            v.requires_grad_(stage == 2 or ".self_attn." in k)
        opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
        best, times, first = 1e30, [], None
        for step in range(a.steps):
            t0 = time.perf_counter()
            total = 0.0
            for m0 in range(0, a.batch, a.micro_batch):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                    loss = stage_loss(stage, teacher, student, win[m0:m0 + a.micro_batch]) * (a.micro_batch / a.batch)
                loss.backward()
                total += loss.item()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            if step == 0:
                first = total
            else:
                times.append(dt)
                best = min(best, dt)
        tps = a.batch * a.ctx
        print(f"pytorch stage {stage}: tok/s {tps / best:.1f} (steps 2..{a.steps}, best of per-step; mean {tps * len(times) / sum(times):.1f}), "
              f"first-step loss {first:.7f}, threads {a.threads}, torch {torch.__version__}{', bf16 autocast' if a.bf16 else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
