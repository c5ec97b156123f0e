"""RAD-RWKV6 and RAD-RWKV7 sequence mixers written straight from ../shared/reference/radlads-spec.md.

Plain PyTorch, float64, one token at a time (spec §4.2 and §5.3), so that each line can be
read against the spec. Used by make_mixers.py to produce tests/fixtures/mixers/*.safetensors;
autograd of these functions gives the reference gradients.

Conventions (spec notation): C = H·N, x is the *normalized* mixer input (RMSNorm1 output),
Linear weights are [out, in] (x·Wᵀ + b), LoRA matrices [in, r] and [r, out] (x @ A @ B),
query head h uses kv head ⌊h / G⌋, G = H / KVH.

Parameter dicts use the spec's tensor names without the `model.layers.{l}.self_attn.` prefix.
"""
import math

import torch


def linear(x, p, name):
    y = x @ p[name + ".weight"].T
    if name + ".bias" in p:
        y = y + p[name + ".bias"]
    return y


def expand_kv(t, H, KVH, N):
    """[B, KVH·N] -> [B, H, N]; query head h gets kv head h // G (HF repeat_kv order)."""
    B = t.shape[0]
    return t.view(B, KVH, N).repeat_interleave(H // KVH, dim=1)


# ---------------------------------------------------------------------------------------------
# RAD-RWKV6 (spec §4.1, §4.2): ddlerp token shift, GLA recurrence with k·(1−w), N^-½ read-out,
# full-rank sigmoid gate. No bonus, no GroupNorm, no RoPE (qwerky6 preset).

def rwkv6(p, x, H, KVH, N, state=None, shift=None):
    """x [B,T,C]; state [B,H,N,N] with S[b,h,j,i] = (key j, value i); shift [B,C] = previous x.

    Returns y [B,T,C], final state [B,H,N,N], final shift [B,C]."""
    B, T, C = x.shape
    assert C == H * N
    r_ts = p["time_maa_w2"].shape[1]
    S = x.new_zeros(B, H, N, N) if state is None else state
    x_prev = x.new_zeros(B, C) if shift is None else shift
    mu = {c: p["time_maa_" + c].view(C) for c in "xrkvwg"}
    ys = []
    for t in range(T):
        xt = x[:, t]
        dx = x_prev - xt                                        # δ = x_prev − x
        x_prev = xt
        xxx = xt + dx * mu["x"]
        h = torch.tanh(xxx @ p["time_maa_w1"]).view(B, 5, r_ts)  # blocks r,k,v,w,g
        m = {c: h[:, i] @ p["time_maa_w2"][i] for i, c in enumerate("rkvwg")}
        xs = {c: xt + dx * (mu[c] + m[c]) for c in "rkvwg"}
        r = linear(xs["r"], p, "q_proj")                         # [B, H·N]
        k = linear(xs["k"], p, "k_proj")                         # [B, KVH·N]
        v = linear(xs["v"], p, "v_proj")
        d = p["time_decay"].view(C) + torch.tanh(xs["w"] @ p["time_decay_w1"]) @ p["time_decay_w2"]
        logw = torch.clamp(-torch.exp(d), min=-5.0)              # max(−exp(d), −5)
        w = torch.exp(logw)
        g = torch.sigmoid(linear(xs["g"], p, "gate"))
        rh, wh = r.view(B, H, N), w.view(B, H, N)
        kh, vh = expand_kv(k, H, KVH, N), expand_kv(v, H, KVH, N)
        kp = kh * (1 - wh)                                       # k' = k ⊙ (1 − w)
        # S[j][i] = w[j]·S[j][i] + k'[j]·v[i]
        S = wh[:, :, :, None] * S + kp[:, :, :, None] * vh[:, :, None, :]
        # p[i] = N^-½ Σ_j r[j]·S[j][i]
        o = torch.einsum("bhj,bhji->bhi", rh, S) / math.sqrt(N)
        ys.append(linear(g * o.reshape(B, C), p, "o_proj"))
    return torch.stack(ys, 1), S, x_prev


def rwkv6_parallel_check(p, x, H, KVH, N, state=None, shift=None):
    """Independent parallel form (spec §4.3) plus the initial-state term, for self-checking."""
    B, T, C = x.shape
    r_ts = p["time_maa_w2"].shape[1]
    prev = torch.cat([(x.new_zeros(B, 1, C) if shift is None else shift[:, None]), x[:, :-1]], 1)
    dx = prev - x
    mu = {c: p["time_maa_" + c].view(C) for c in "xrkvwg"}
    h = torch.tanh((x + dx * mu["x"]) @ p["time_maa_w1"]).view(B, T, 5, r_ts)
    xs = {c: x + dx * (mu[c] + h[:, :, i] @ p["time_maa_w2"][i]) for i, c in enumerate("rkvwg")}
    r = linear(xs["r"], p, "q_proj").view(B, T, H, N)
    k = linear(xs["k"], p, "k_proj").view(B, T, KVH, N).repeat_interleave(H // KVH, 2)
    v = linear(xs["v"], p, "v_proj").view(B, T, KVH, N).repeat_interleave(H // KVH, 2)
    d = p["time_decay"].view(C) + torch.tanh(xs["w"] @ p["time_decay_w1"]) @ p["time_decay_w2"]
    logw = torch.clamp(-torch.exp(d), min=-5.0).view(B, T, H, N)
    kp = k * (1 - logw.exp())
    b = logw.cumsum(1)                                            # b_t = Σ_{j≤t} log w_j
    # A[t,i] = Σ_c r_t[c] k'_i[c] exp(b_t[c] − b_i[c]) for i ≤ t
    diff = b[:, :, None] - b[:, None, :]                          # [B,t,i,H,N]
    mask = torch.ones(T, T, dtype=torch.bool).tril()[None, :, :, None, None]
    A = (r[:, :, None] * kp[:, None] * torch.where(mask, diff, torch.full_like(diff, -1e30)).exp()).sum(-1)
    o = torch.einsum("btih,bihn->bthn", A, v)
    if state is not None:                                         # r_t diag(exp b_t) S_0
        o = o + torch.einsum("bthj,bhji->bthi", r * b.exp(), state)
    o = o / math.sqrt(N)
    g = torch.sigmoid(linear(xs["g"], p, "gate"))
    return linear(g * o.reshape(B, T, C), p, "o_proj")


# ---------------------------------------------------------------------------------------------
# RAD-RWKV7 (spec §5.2, §5.3): no token shift, RoPE on r,k, RWKV-7 decay / ICLR / value
# residual / LoRA gate, generalized delta rule. Variant A = GroupNorm + k_k/k_a (release
# preset: balance_state 0, groupnorm_att 1); Variant B = state balancing k⊙(1−w+a), κ =
# normalize(k), output ·N^-½ (paper v4: balance_state 1, groupnorm_att 0).

def rope(t, pos, theta):
    """t [B, heads, N]; HF rotate_half pairing (i, i + N/2); angles in float64."""
    N = t.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, N, 2, dtype=torch.float64) / N)
    ang = pos * inv
    cos = torch.cat([ang.cos(), ang.cos()]).to(t.dtype)
    sin = torch.cat([ang.sin(), ang.sin()]).to(t.dtype)
    t1, t2 = t[..., : N // 2], t[..., N // 2:]
    return t * cos + torch.cat([-t2, t1], -1) * sin


def l2norm(t):
    return t / torch.clamp(t.norm(dim=-1, keepdim=True), min=1e-12)


def rwkv7(p, x, H, KVH, N, layer, variant, rope_theta, pos0=0, v_first=None, state=None,
          ln_eps=None):
    """x [B,T,C]; v_first [B,T,C] (needed for layer > 0); state [B,H,N,N] with
    S[b,h,i,j] = (value i, key j). variant 'A' or 'B'.

    Returns y [B,T,C], final state, and v_first (layer 0: the layer's expanded values;
    otherwise the input v_first)."""
    B, T, C = x.shape
    assert C == H * N and variant in ("A", "B")
    if ln_eps is None:
        ln_eps = N * 1e-5
    S = x.new_zeros(B, H, N, N) if state is None else state
    ys, vfs = [], []
    for t in range(T):
        xt = x[:, t]
        r = linear(xt, p, "q_proj")                               # [B, H·N]
        k = linear(xt, p, "k_proj")                               # [B, KVH·N]
        v = linear(xt, p, "v_proj")
        d = p["w0"].view(C) + torch.tanh(xt @ p["w1"]) @ p["w2"]
        w = torch.exp(-math.exp(-0.5) * torch.sigmoid(d))         # decay ∈ (0.5452, 1)
        a = torch.sigmoid(p["a0"].view(C) + (xt @ p["a1"]) @ p["a2"])
        g = torch.sigmoid(xt @ p["g1"]) @ p["g2"]
        pos = float(pos0 + t)
        rh = rope(r.view(B, H, N), pos, rope_theta)
        kh = rope(k.view(B, KVH, N), pos, rope_theta).repeat_interleave(H // KVH, dim=1)
        vh = expand_kv(v, H, KVH, N)
        wh, ah = w.view(B, H, N), a.view(B, H, N)
        if variant == "A":
            kappa = l2norm(kh * p["k_k"].view(H, N))
            ktil = kh * (1 + (ah - 1) * p["k_a"].view(H, N))
        else:
            kappa = l2norm(kh)
            ktil = kh * (1 - wh + ah)
        if layer == 0:
            vfs.append(vh.reshape(B, C))
        else:
            nu = torch.sigmoid(p["v0"].view(C) + (xt @ p["v1"]) @ p["v2"]).view(B, H, N)
            vh = vh + (v_first[:, t].view(B, H, N) - vh) * nu
        # sa[i] = Σ_j S[i][j]·(−κ[j]);  S[i][j] = S[i][j]·w[j] + sa[i]·κ[j]·a[j] + v[i]·k̃[j]
        sa = torch.einsum("bhij,bhj->bhi", S, -kappa)
        S = S * wh[:, :, None, :] + sa[:, :, :, None] * (kappa * ah)[:, :, None, :] \
            + vh[:, :, :, None] * ktil[:, :, None, :]
        y = torch.einsum("bhij,bhj->bhi", S, rh)                  # y[i] = Σ_j S[i][j]·r[j]
        if variant == "A":
            mean = y.mean(-1, keepdim=True)
            var = ((y - mean) ** 2).mean(-1, keepdim=True)        # biased variance
            y = ((y - mean) / torch.sqrt(var + ln_eps)).reshape(B, C)
            y = y * p["ln_x.weight"] + p["ln_x.bias"]
        else:
            y = y.reshape(B, C) / math.sqrt(N)
        ys.append(linear(y * g, p, "o_proj"))
    vf = torch.stack(vfs, 1) if layer == 0 else v_first
    return torch.stack(ys, 1), S, vf


def rwkv7_matrix_check(p, x, H, KVH, N, layer, variant, rope_theta, pos0=0, v_first=None,
                       state=None, ln_eps=None):
    """Same mixer in the matrix form S_t = S_{t−1}(diag(w) − κᵀ(a⊙κ)) + vᵀk̃, y = r S_tᵀ, with the
    code's decay form w = exp(−exp(−0.5 − softplus(−d))), one (b, h) at a time, for self-checking."""
    B, T, C = x.shape
    G = H // KVH
    ln_eps = N * 1e-5 if ln_eps is None else ln_eps
    out = torch.zeros(B, T, C, dtype=x.dtype)
    for b in range(B):
        Sb = [torch.zeros(N, N, dtype=x.dtype) if state is None else state[b, h] for h in range(H)]
        for t in range(T):
            xt = x[b, t]
            r = xt @ p["q_proj.weight"].T + p["q_proj.bias"]
            k = xt @ p["k_proj.weight"].T + p["k_proj.bias"]
            v = xt @ p["v_proj.weight"].T + p["v_proj.bias"]
            d = p["w0"].view(C) + torch.tanh(xt @ p["w1"]) @ p["w2"]
            w = torch.exp(-torch.exp(-0.5 - torch.nn.functional.softplus(-d)))
            a = torch.sigmoid(p["a0"].view(C) + xt @ p["a1"] @ p["a2"])
            g = torch.sigmoid(xt @ p["g1"]) @ p["g2"]
            ys = []
            for h in range(H):
                c = slice(h * N, (h + 1) * N)
                kv = slice((h // G) * N, (h // G + 1) * N)
                rr = rope(r[c][None], float(pos0 + t), rope_theta)[0]
                kk = rope(k[kv][None], float(pos0 + t), rope_theta)[0]
                vv = v[kv]
                if variant == "A":
                    kap = kk * p["k_k"].view(C)[c]
                    kap = kap / kap.norm()
                    kt = kk * (1 + (a[c] - 1) * p["k_a"].view(C)[c])
                else:
                    kap = kk / kk.norm()
                    kt = kk * (1 - w[c] + a[c])
                if layer > 0:
                    nu = torch.sigmoid(p["v0"].view(C) + xt @ p["v1"] @ p["v2"])[c]
                    vv = vv * (1 - nu) + v_first[b, t, c] * nu
                M = torch.diag(w[c]) - torch.outer(kap, a[c] * kap)
                Sb[h] = Sb[h] @ M + torch.outer(vv, kt)
                y = Sb[h] @ rr                                     # r S_tᵀ as a column
                if variant == "A":
                    y = (y - y.mean()) / torch.sqrt(y.var(unbiased=False) + ln_eps)
                    y = y * p["ln_x.weight"][c] + p["ln_x.bias"][c]
                else:
                    y = y / math.sqrt(N)
                ys.append(y)
            out[b, t] = (torch.cat(ys) * g) @ p["o_proj.weight"].T
    return out
