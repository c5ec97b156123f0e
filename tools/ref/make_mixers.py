"""Reference outputs and gradients of the RAD-RWKV mixers (tools/ref/mixers.py).

Writes tests/fixtures/mixers/{rwkv6,rwkv7a,rwkv7b,rwkv7a_l0}.safetensors. Every parameter is
random (not the spec's init values) so that every gradient is non-trivial; all inputs are drawn
in float32 and widened, the math is float64, and everything is stored as F32. Tensor names and
layouts: tools/ref/README.md.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mixers  # noqa: E402
from common import FIX, save_st  # noqa: E402

D = torch.float64
H, KVH, N = 4, 2, 8
C = H * N
B, T, T2 = 2, 13, 7          # case 1 (zero state) length, case 2 (given state) length
OUT = os.path.join(FIX, "mixers")


class Rand:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def n(self, *shape, std=1.0, mean=0.0):
        """Normal values, rounded to float32 and widened: the stored F32 tensor is exactly the input."""
        return (mean + std * torch.randn(*shape, generator=self.g, dtype=D)).float().double()

    def u(self, lo, hi, *shape):
        return (lo + (hi - lo) * torch.rand(*shape, generator=self.g, dtype=D)).float().double()


def attn_params(R, p):
    p["q_proj.weight"] = R.n(H * N, C, std=C ** -0.5)
    p["q_proj.bias"] = R.n(H * N, std=0.3)
    p["k_proj.weight"] = R.n(KVH * N, C, std=C ** -0.5)
    p["k_proj.bias"] = R.n(KVH * N, std=0.3)
    p["v_proj.weight"] = R.n(KVH * N, C, std=C ** -0.5)
    p["v_proj.bias"] = R.n(KVH * N, std=0.3)
    p["o_proj.weight"] = R.n(C, H * N, std=(H * N) ** -0.5)


def rwkv6_params(R, r_ts=4, r_d=6):
    p = {}
    attn_params(R, p)
    for c in "xrkvwg":
        p["time_maa_" + c] = R.u(-0.2, 1.2, 1, 1, C)
    p["time_maa_w1"] = R.n(C, 5 * r_ts, std=0.5 * C ** -0.5)
    p["time_maa_w2"] = R.n(5, r_ts, C, std=0.5 * r_ts ** -0.5)
    # about a quarter of the channels sit well inside the log-decay clamp at −5 (d > ln 5 ≈ 1.61),
    # the rest well outside it, so float32 code agrees on which side every value falls
    clamped = R.u(0.0, 1.0, C) < 0.25
    p["time_decay"] = torch.where(clamped, R.u(2.3, 3.0, C), R.u(-4.0, 0.9, C)).view(1, 1, C)
    p["time_decay_w1"] = R.n(C, r_d, std=0.5 * C ** -0.5)
    p["time_decay_w2"] = R.n(r_d, C, std=0.15 * r_d ** -0.5)
    p["gate.weight"] = R.n(C, C, std=C ** -0.5)
    return p


def rwkv7_params(R, variant, layer, r_w=8, r_a=6, r_v=4, r_g=5):
    p = {}
    attn_params(R, p)
    p["w0"] = R.n(1, 1, C, mean=-1.0, std=1.0)
    p["w1"] = R.n(C, r_w, std=0.5 * C ** -0.5)
    p["w2"] = R.n(r_w, C, std=0.5 * r_w ** -0.5)
    p["a0"] = R.n(1, 1, C)
    p["a1"] = R.n(C, r_a, std=0.5 * C ** -0.5)
    p["a2"] = R.n(r_a, C, std=0.5 * r_a ** -0.5)
    # v0/v1/v2 exist on every layer; at layer 0 they are unused (gradient zero)
    p["v0"] = R.n(1, 1, C)
    p["v1"] = R.n(C, r_v, std=0.5 * C ** -0.5)
    p["v2"] = R.n(r_v, C, std=0.5 * r_v ** -0.5)
    p["g1"] = R.n(C, r_g, std=C ** -0.5)
    p["g2"] = R.n(r_g, C, std=r_g ** -0.5)
    # k_k/k_a are used only by variant A; stored for B too (gradient zero) as in released files
    p["k_k"] = R.u(0.5, 1.2, 1, 1, C)
    p["k_a"] = R.u(0.3, 1.2, 1, 1, C)
    p["r_k"] = R.n(H, N)  # dead parameter (bonus removed): gradient zero
    if variant == "A":
        p["ln_x.weight"] = R.n(C, mean=1.0, std=0.3)
        p["ln_x.bias"] = R.n(C, std=0.3)
    return p


def i32(v):
    return torch.tensor(v, dtype=torch.int32)


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


def grads(loss, p, extra):
    """Autograd gradients of loss w.r.t. every parameter and the named extra inputs."""
    names = list(p) + list(extra)
    leaves = [p[k] for k in p] + [extra[k] for k in extra]
    gs = torch.autograd.grad(loss, leaves, allow_unused=True)
    out = {}
    for n, leaf, g in zip(names, leaves, gs):
        out["grad." + n] = torch.zeros_like(leaf) if g is None else g
    return out


def close(a, b, what, tol=1e-10):
    err = (a - b).abs().max().item()
    assert err < tol, f"{what}: {err}"


def make_rwkv6(seed=31):
    R = Rand(seed)
    p = rwkv6_params(R)
    f = {"H": i32(H), "KVH": i32(KVH), "N": i32(N), "layer": i32(1), "use_tokenshift": i32(1),
         "balance_state": i32(1), "groupnorm_att": i32(0), "use_rope": i32(0), "gate_rank_type": i32(1)}
    f.update({k: v.float() for k, v in p.items()})
    for k in p:
        p[k].requires_grad_(True)

    # case 1: zero initial state, loss = Σ y·dy
    x = R.n(B, T, C).requires_grad_(True)
    dy = R.n(B, T, C)
    y, S, sh = mixers.rwkv6(p, x, H, KVH, N)
    loss = (y * dy).sum()
    g = grads(loss, p, {"x": x})
    close(y, mixers.rwkv6_parallel_check(p, x, H, KVH, N), "rwkv6 loop vs parallel")
    check_clamp_margin(p, x, None)
    f.update({"x": x, "dy": dy, "y": y, "state_out": S, "shift_out": sh, "loss": loss})
    f.update(g)

    # case 2: given state and shift, loss = Σ y·dy + Σ state_out·dstate_out + Σ shift_out·dshift_out
    x2 = R.n(B, T2, C).requires_grad_(True)
    s_in = R.n(B, H, N, N, std=0.5).requires_grad_(True)
    sh_in = R.n(B, C).requires_grad_(True)
    dy2, ds2, dsh2 = R.n(B, T2, C), R.n(B, H, N, N), R.n(B, C)
    y2, S2, sh2 = mixers.rwkv6(p, x2, H, KVH, N, state=s_in, shift=sh_in)
    loss2 = (y2 * dy2).sum() + (S2 * ds2).sum() + (sh2 * dsh2).sum()
    g2 = grads(loss2, p, {"x": x2, "state_in": s_in, "shift_in": sh_in})
    close(y2, mixers.rwkv6_parallel_check(p, x2, H, KVH, N, state=s_in, shift=sh_in), "rwkv6 case 2")
    check_clamp_margin(p, x2, sh_in)
    # chaining: case 1 then continuing from its state equals one run over the concatenation
    yc, Sc, _ = mixers.rwkv6(p, torch.cat([x, x2], 1), H, KVH, N)
    yb, Sb, _ = mixers.rwkv6(p, x2, H, KVH, N, state=S, shift=sh)
    close(yc[:, T:], yb, "rwkv6 chaining")
    s = {"x": x2, "state_in": s_in, "shift_in": sh_in, "dy": dy2, "dstate_out": ds2, "dshift_out": dsh2,
         "y": y2, "state_out": S2, "shift_out": sh2, "loss": loss2}
    s.update(g2)
    f.update({"s." + k: v for k, v in s.items()})
    return f, g


def check_clamp_margin(p, x, shift):
    """No value of −exp(d) lies within a factor e^±0.1 of the −5 clamp (float32 code must agree on
    which side), and some values are clamped and some are not."""
    B_, T_, _ = x.shape
    r_ts = p["time_maa_w2"].shape[1]
    with torch.no_grad():
        prev = torch.cat([(x.new_zeros(B_, 1, C) if shift is None else shift[:, None]), x[:, :-1]], 1)
        dx = prev - x
        h = torch.tanh((x + dx * p["time_maa_x"].view(C)) @ p["time_maa_w1"]).view(B_, T_, 5, r_ts)
        xw = x + dx * (p["time_maa_w"].view(C) + h[:, :, 3] @ p["time_maa_w2"][3])
        d = p["time_decay"].view(C) + torch.tanh(xw @ p["time_decay_w1"]) @ p["time_decay_w2"]
        e = torch.exp(d)
    assert (e.log() - math.log(5)).abs().min() > 0.1, (e.log() - math.log(5)).abs().min()
    assert (e > 5).any() and (e < 5).any()


def make_rwkv7(variant, layer, seed, rope_theta, pos0_2):
    R = Rand(seed)
    p = rwkv7_params(R, variant, layer)
    eps = N * 1e-5
    f = {"H": i32(H), "KVH": i32(KVH), "N": i32(N), "layer": i32(layer), "use_tokenshift": i32(0),
         "balance_state": i32(1 if variant == "B" else 0), "groupnorm_att": i32(1 if variant == "A" else 0),
         "use_rope": i32(1), "gate_rank_type": i32(2), "rope_theta": f32(rope_theta), "ln_x_eps": f32(eps),
         "pos0": i32(0)}
    f.update({k: v.float() for k, v in p.items()})
    for k in p:
        p[k].requires_grad_(True)

    def run(x, vf, state, pos0):
        return mixers.rwkv7(p, x, H, KVH, N, layer, variant, rope_theta, pos0=pos0, v_first=vf,
                            state=state, ln_eps=eps)

    # case 1: positions 0..T-1, zero state
    x = R.n(B, T, C).requires_grad_(True)
    vf = None if layer == 0 else R.n(B, T, C).requires_grad_(True)
    dy = R.n(B, T, C)
    y, S, vf_out = run(x, vf, None, 0)
    loss = (y * dy).sum()
    case = {"x": x, "dy": dy}
    extra = {"x": x}
    if layer == 0:  # v_first is an output of layer 0; later layers send a gradient back into it
        dvf = R.n(B, T, C)
        loss = loss + (vf_out * dvf).sum()
        case.update({"v_first_out": vf_out, "dv_first": dvf})
    else:
        case["v_first"] = vf
        extra["v_first"] = vf
    g = grads(loss, p, extra)
    close(y, mixers.rwkv7_matrix_check(p, x, H, KVH, N, layer, variant, rope_theta, 0, vf, None, eps),
          f"rwkv7{variant} loop vs matrix form")
    case.update({"y": y, "state_out": S, "loss": loss})
    case.update(g)
    f.update(case)

    # case 2: given state, positions pos0_2 .. pos0_2+T2-1
    x2 = R.n(B, T2, C).requires_grad_(True)
    vf2 = None if layer == 0 else R.n(B, T2, C).requires_grad_(True)
    s_in = R.n(B, H, N, N, std=0.5).requires_grad_(True)
    dy2, ds2 = R.n(B, T2, C), R.n(B, H, N, N)
    y2, S2, vf2_out = run(x2, vf2, s_in, pos0_2)
    loss2 = (y2 * dy2).sum() + (S2 * ds2).sum()
    s = {"x": x2, "state_in": s_in, "dy": dy2, "dstate_out": ds2, "pos0": i32(pos0_2)}
    extra2 = {"x": x2, "state_in": s_in}
    if layer == 0:
        dvf2 = R.n(B, T2, C)
        loss2 = loss2 + (vf2_out * dvf2).sum()
        s.update({"v_first_out": vf2_out, "dv_first": dvf2})
    else:
        s["v_first"] = vf2
        extra2["v_first"] = vf2
    g2 = grads(loss2, p, extra2)
    close(y2, mixers.rwkv7_matrix_check(p, x2, H, KVH, N, layer, variant, rope_theta, pos0_2, vf2, s_in, eps),
          f"rwkv7{variant} case 2")
    # chaining: zero-state run over x ++ x2 equals case-1 state continued at pos0 = T
    xc = torch.cat([x, x2], 1)
    vfc = None if layer == 0 else torch.cat([vf, vf2], 1)
    yc, _, _ = run(xc, vfc, None, 0)
    yb, _, _ = run(x2, vf2, S, T)
    close(yc[:, T:], yb, f"rwkv7{variant} chaining")
    s.update({"y": y2, "state_out": S2, "loss": loss2})
    s.update(g2)
    f.update({"s." + k: v for k, v in s.items()})
    return f, g


NON_PARAMS = {"x", "dy", "y", "state_out", "shift_out", "loss", "v_first", "dv_first", "v_first_out"}


def replay_fp32(f, prefix):
    """Re-run one case from the stored file contents alone, in float32, and return the largest
    error relative to each stored tensor's max |value| (outputs, final state, loss, gradients).
    This checks that the names/flags in the file suffice, and measures what an fp32 C
    implementation should expect."""
    fl = {k: v.detach().float() for k, v in f.items()}
    get = lambda k: fl[prefix + k] if prefix + k in fl else None  # noqa: E731
    p = {k: v.clone().requires_grad_(True) for k, v in fl.items()
         if not k.startswith(("grad.", "s.")) and k not in NON_PARAMS and v.dim() > 0}
    ins = {k: get(k).clone().requires_grad_(True) for k in ("x", "v_first", "state_in", "shift_in")
           if get(k) is not None}
    h, kvh, n = int(fl["H"]), int(fl["KVH"]), int(fl["N"])
    if "time_maa_w1" in p:
        y, S, sh = mixers.rwkv6(p, ins["x"], h, kvh, n, state=ins.get("state_in"), shift=ins.get("shift_in"))
        outs = {"y": y, "state_out": S, "shift_out": sh}
    else:
        variant = "A" if int(fl["groupnorm_att"]) else "B"
        y, S, vf = mixers.rwkv7(p, ins["x"], h, kvh, n, int(fl["layer"]), variant, float(fl["rope_theta"]),
                                pos0=int(get("pos0")), v_first=ins.get("v_first"), state=ins.get("state_in"),
                                ln_eps=float(fl["ln_x_eps"]))
        outs = {"y": y, "state_out": S}
        if int(fl["layer"]) == 0:
            outs["v_first_out"] = vf
    loss = (outs["y"] * get("dy")).sum()
    for k, dk in (("state_out", "dstate_out"), ("shift_out", "dshift_out"), ("v_first_out", "dv_first")):
        if get(dk) is not None:
            loss = loss + (outs[k] * get(dk)).sum()
    outs["loss"] = loss
    gs = grads(loss, p, ins)
    worst = 0.0
    for k, v in list(outs.items()) + list(gs.items()):
        ref = get(k)
        assert ref is not None and ref.shape == v.shape, (prefix, k)
        scale = ref.abs().max().item()
        if scale == 0:
            assert v.abs().max().item() == 0, (prefix, k)
            continue
        worst = max(worst, (v.detach() - ref).abs().max().item() / scale)
    return worst


def check_nontrivial(name, g, dead):
    for k, v in g.items():
        pname = k[len("grad."):]
        if pname in dead:
            assert v.abs().max() == 0, (name, k)
        else:
            assert v.abs().max() > 1e-6, (name, k, v.abs().max())


def check_fp32(name, f):
    errs = [replay_fp32(f, ""), replay_fp32(f, "s.")]
    print(f"  {name}: float32 replay vs stored, max error / tensor max: {max(errs):.1e}")
    assert max(errs) < 1e-5, (name, errs)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    f, g = make_rwkv6()
    check_nontrivial("rwkv6", g, dead=())
    check_fp32("rwkv6", f)
    save_st(os.path.join(OUT, "rwkv6.safetensors"), f)

    specs = [("rwkv7a", "A", 1, 71, 10000.0, 13),
             ("rwkv7b", "B", 1, 72, 1000000.0, 50),
             ("rwkv7a_l0", "A", 0, 73, 10000.0, 13)]
    for name, variant, layer, seed, theta, pos0_2 in specs:
        f, g = make_rwkv7(variant, layer, seed, theta, pos0_2)
        dead = {"r_k"}
        if variant == "B":
            dead |= {"k_k", "k_a"}
        if layer == 0:
            dead |= {"v0", "v1", "v2"}
        check_nontrivial(name, g, dead)
        check_fp32(name, f)
        save_st(os.path.join(OUT, name + ".safetensors"), f)
    print("mixers written")


if __name__ == "__main__":
    main()
