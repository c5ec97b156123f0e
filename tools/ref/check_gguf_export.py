#!/usr/bin/env python3
"""Dev-only check of radlads' GGUF export (rl_export_gguf_rwkv6qwen2, wip/export.h) with gguf-py.

Reads an exported file with gguf-py's GGUFReader (an implementation independent of radlads'
own reader) and checks every metadata key and tensor against formats.md §5.3-5.7:

  * header/metadata: general.architecture first and "rwkv6qwen2", every rwkv6qwen2.* hparam
    with the GGUF value type llama.cpp's loader demands (UINT32; FLOAT32 epsilon),
    token_shift_count 1, attention.head_count 0, tokenizer.ggml.* types and sizes;
  * tensors: the exact set llama.cpp's rwkv6qwen2 loader asks for (src/models/rwkv6qwen2.cpp,
    re-enacted: required ones present with their ne, nothing extra), types (F32 for vectors,
    norms, biases, time_mix_w1/w2, decay_w1/w2, lerp_fused), 32-byte sequential offsets;
  * gguf-py's own tables: every tensor name is one of MODEL_TENSORS[MODEL_ARCH.RWKV6QWEN2],
    and the HF names of a RAD-RWKV6 student, mapped through gguf-py's TensorNameMap for that
    arch (the mapping convert_hf_to_gguf.py uses), give exactly our tensor set (with
    time_maa_{w,k,v,r,g} fused into time_mix_lerp_fused, as the converter does);
  * with --student DIR: the values. The student's model.safetensors is put through
    convert_hf_to_gguf.py's Rwkv6Model/RWKV6Qwen2Model.modify_tensors transforms, written
    here in numpy step for step (transpose, permute, squeeze, stack, r,k,v,w,g -> w,k,v,r,g
    reorder), cast to the file's type (F16 by numpy, BF16 by gguf.quants, both round to
    nearest even), and compared with the file bit for bit;
  * with --tokenizer FILE: tokens/token types/merges rebuilt from tokenizer.json the way the
    converter does (_set_vocab_gpt2: [PAD<id>] fillers, CONTROL for special or <|...|> added
    tokens, USER_DEFINED for other added tokens) and compared.

Produce files to check with the C test, which keeps its exports when asked:
    mkdir -p /tmp/rlx && RLT_EXPORT_OUT=/tmp/rlx build/tests/test_export
    python3 tools/ref/check_gguf_export.py /tmp/rlx/student_f32.gguf /tmp/rlx/student_f16.gguf \
        /tmp/rlx/student_bf16.gguf --student tests/fixtures/train/student-rwkv6 \
        --tokenizer tests/fixtures/tiny-qwen2/tokenizer.json
Exit status 1 on any failure. Needs: gguf (gguf-py), numpy, safetensors (for --student).
"""
import argparse
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType as Q

ARCH = "rwkv6qwen2"
fails = 0


def check(cond, msg):
    global fails
    if not cond:
        fails += 1
        print("  FAIL", msg)
    return cond


def field(r, key):
    return r.fields.get(key)


def scalar(r, key, vtype):
    f = field(r, key)
    if f is None:
        check(False, f"{key}: missing")
        return None
    if not check(f.types == [vtype], f"{key}: type {[t.name for t in f.types]}, want {vtype.name}"):
        return None
    return f.contents()


def check_metadata(r):
    keys = list(r.fields.keys())
    # GGUF.version, GGUF.tensor_count, GGUF.kv_count come first in gguf-py's list
    user = [k for k in keys if not k.startswith("GGUF.")]
    check(user and user[0] == "general.architecture", f"first key is {user[0] if user else None}")
    check(scalar(r, "general.architecture", GGUFValueType.STRING) == ARCH, "architecture")
    check(field(r, "GGUF.version").contents() == 3, "version 3")
    u32 = ["context_length", "embedding_length", "block_count", "feed_forward_length", "wkv.head_size",
           "time_mix_extra_dim", "time_decay_extra_dim", "token_shift_count", "attention.head_count_kv",
           "attention.head_count"]
    hp = {k: scalar(r, f"{ARCH}.{k}", GGUFValueType.UINT32) for k in u32}
    hp["eps"] = scalar(r, f"{ARCH}.attention.layer_norm_rms_epsilon", GGUFValueType.FLOAT32)
    for k in keys:
        if k.startswith(ARCH + "."):
            want = GGUFValueType.FLOAT32 if "epsilon" in k else GGUFValueType.UINT32
            check(r.fields[k].types == [want], f"{k}: {[t.name for t in r.fields[k].types]}")
    check(hp["context_length"] == 1048576, "context_length 1048576")
    check(hp["token_shift_count"] == 1, "token_shift_count 1")
    check(hp["attention.head_count"] == 0, "head_count 0")
    if "general.alignment" in r.fields:
        check(scalar(r, "general.alignment", GGUFValueType.UINT32) == 32, "alignment")
    ft = scalar(r, "general.file_type", GGUFValueType.UINT32)
    check(ft in (0, 1, 32), f"file_type {ft}")
    check(scalar(r, "tokenizer.ggml.model", GGUFValueType.STRING) == "gpt2", "tokenizer model gpt2")
    check(scalar(r, "tokenizer.ggml.pre", GGUFValueType.STRING) in ("qwen2", "llama-bpe", "smollm", "gpt-2"), "pre")
    for k, et in (("tokenizer.ggml.tokens", GGUFValueType.STRING), ("tokenizer.ggml.token_type", GGUFValueType.INT32),
                  ("tokenizer.ggml.merges", GGUFValueType.STRING)):
        f = field(r, k)
        check(f is not None and f.types == [GGUFValueType.ARRAY, et], f"{k}: ARRAY of {et.name}")
    for k in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.eot_token_id"):
        if k in r.fields:
            check(r.fields[k].types == [GGUFValueType.UINT32], f"{k}: UINT32")
    for k in ("tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"):
        if k in r.fields:
            check(r.fields[k].types == [GGUFValueType.BOOL], f"{k}: BOOL")
    return hp, ft


MATRICES = ("time_mix_receptance.weight", "time_mix_key.weight", "time_mix_value.weight", "time_mix_gate.weight",
            "time_mix_output.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")


def check_tensors(r, hp, ft):
    ts = {t.name: t for t in r.tensors}
    check(len(ts) == len(r.tensors), "duplicate tensor names")
    C, L, F, N = hp["embedding_length"], hp["block_count"], hp["feed_forward_length"], hp["wkv.head_size"]
    R, RD, KV = hp["time_mix_extra_dim"], hp["time_decay_extra_dim"], hp["attention.head_count_kv"]
    V = len(field(r, "tokenizer.ggml.tokens").data)
    akv = C if KV == 0 or C // N == KV else KV * N
    want = {"token_embd.weight": ((C, V), 1), "output_norm.weight": ((C,), 1), "output_norm.bias": ((C,), 0),
            "output.weight": ((C, V), 1)}
    for i in range(L):
        b = f"blk.{i}."
        want.update({b + "attn_norm.weight": ((C,), 1), b + "time_mix_w1.weight": ((C, 5 * R), 1),
                     b + "time_mix_w2.weight": ((R, C, 5), 1), b + "time_mix_lerp_x.weight": ((C, 1, 1), 1),
                     b + "time_mix_lerp_fused.weight": ((C, 1, 1, 5), 1), b + "time_mix_decay.weight": ((C,), 1),
                     b + "time_mix_decay_w1.weight": ((C, RD), 1), b + "time_mix_decay_w2.weight": ((RD, C), 1),
                     b + "time_mix_key.weight": ((C, akv), 1), b + "time_mix_value.weight": ((C, akv), 1),
                     b + "time_mix_receptance.weight": ((C, C), 1), b + "time_mix_gate.weight": ((C, C), 1),
                     b + "time_mix_key.bias": ((akv,), 0), b + "time_mix_value.bias": ((akv,), 0),
                     b + "time_mix_receptance.bias": ((C,), 0), b + "time_mix_output.weight": ((C, C), 1),
                     b + "ffn_norm.weight": ((C,), 1), b + "ffn_gate.weight": ((C, F), 1),
                     b + "ffn_down.weight": ((F, C), 1), b + "ffn_up.weight": ((C, F), 1)})
        check(b + "time_mix_first.weight" not in ts, f"{b}time_mix_first.weight must not be written")

    def pad4(s):
        return tuple(list(s) + [1] * (4 - len(s)))
    for name, (ne, req) in want.items():
        if name not in ts:
            check(not req, f"required tensor {name} missing")
            continue
        check(pad4(ts[name].shape.tolist()) == pad4(ne), f"{name}: ne {ts[name].shape.tolist()}, loader wants {list(ne)}")
    for name in ts:
        check(name in want, f"{name}: not consumed by the rwkv6qwen2 loader")
        check(len(name.encode()) < 64, f"{name}: name too long")
    wtype = {0: Q.F32, 1: Q.F16, 32: Q.BF16}.get(ft, Q.F32)
    for name, t in ts.items():
        big = name in ("token_embd.weight", "output.weight") or name.split(".", 2)[-1] in MATRICES
        check(t.tensor_type == (wtype if big else Q.F32), f"{name}: {t.tensor_type.name}")
    # offsets: sequential, each padded to 32
    off = r.tensors[0].data_offset if r.tensors else 0
    check(off % 32 == 0, "data section aligned")
    for t in r.tensors:
        check(t.data_offset == off, f"{t.name}: offset {t.data_offset}, expected {off}")
        off += (t.n_bytes + 31) // 32 * 32
    return ts


def hf_names(L, biases):
    names = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"]
    per = ["input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
           "mlp.down_proj.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
           "self_attn.o_proj.weight", "self_attn.gate.weight", "self_attn.time_maa_x", "self_attn.time_maa_w",
           "self_attn.time_maa_k", "self_attn.time_maa_v", "self_attn.time_maa_r", "self_attn.time_maa_g",
           "self_attn.time_maa_w1", "self_attn.time_maa_w2", "self_attn.time_decay", "self_attn.time_decay_w1",
           "self_attn.time_decay_w2"]
    if biases:
        per += ["self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"]
    for i in range(L):
        names += [f"model.layers.{i}.{p}" for p in per]
    return names


def check_gguf_py_tables(ts, L):
    arch = gguf.MODEL_ARCH.RWKV6QWEN2
    check(gguf.MODEL_ARCH_NAMES[arch] == ARCH, "gguf-py arch name")
    allowed = set()
    for t in gguf.MODEL_TENSORS[arch]:
        base = gguf.TENSOR_NAMES[t]
        for i in range(L):
            allowed.add(base.format(bid=i))
    for name in ts:
        check(name.rsplit(".", 1)[0] in allowed, f"{name}: not in gguf-py's MODEL_TENSORS for RWKV6QWEN2")
    tmap = gguf.get_tensor_name_map(arch, L)
    mapped = set()
    biases = any(n.endswith(".bias") for n in ts)
    for hf in hf_names(L, biases):
        g = tmap.get_name(hf, try_suffixes=(".weight", ".bias"))
        if not check(g is not None, f"{hf}: gguf-py has no rwkv6qwen2 name for it"):
            continue
        if not (g.endswith(".weight") or g.endswith(".bias")):
            g += ".weight"
        if "time_mix_lerp" in g and "time_mix_lerp_x" not in g:  # the converter fuses these five
            g = g.rsplit(".", 2)[0] + ".time_mix_lerp_fused.weight"
        mapped.add(g)
    check(mapped == set(ts), f"gguf-py mapping of the HF names differs: extra {sorted(set(ts) - mapped)[:5]}, "
                             f"missing {sorted(mapped - set(ts))[:5]}")


def converter_tensors(student_dir, L):
    """convert_hf_to_gguf.py RWKV6Qwen2Model(Rwkv6Model).modify_tensors, in numpy."""
    from safetensors.numpy import load_file
    sd = load_file(os.path.join(student_dir, "model.safetensors"))
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.RWKV6QWEN2, L)
    out, lerp = {}, {}
    for name, data in sd.items():
        data = data.astype(np.float32)
        new = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            check(False, f"converter: cannot map {name}")
            continue
        if not (new.endswith(".weight") or new.endswith(".bias")):
            new += ".weight"
        if new.endswith(("time_mix_w1.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight")):
            data = data.transpose(1, 0)
        if new.endswith("time_mix_w2.weight"):
            data = data.transpose(0, 2, 1)
        if new.endswith("time_mix_decay.weight") or "lerp" in new:
            data = data.squeeze()
        bid = int(name.split(".")[2]) if name.startswith("model.layers.") else None
        if bid is not None and "time_mix_lerp" in new and "time_mix_lerp_x" not in new:
            lerp.setdefault(bid, {})[new] = data
            if all(f"blk.{bid}.time_mix_lerp_{i}.weight" in lerp[bid] for i in "wkvrg"):
                stack = np.stack([lerp[bid][f"blk.{bid}.time_mix_lerp_{i}.weight"][None] for i in "wkvrg"], axis=0)[:, None]
                out[f"blk.{bid}.time_mix_lerp_fused.weight"] = stack
            continue
        if "time_mix_w1" in new or "time_mix_w2" in new:  # RWKV6Qwen2Model: r,k,v,w,g -> w,k,v,r,g
            d = data.reshape(5, -1, data.shape[-1])
            d = np.stack([d[3], d[1], d[2], d[0], d[4]], axis=0).reshape(-1, d.shape[-1])
            if "w2" in new:
                d = d.reshape(5, -1, d.shape[-1])
            data = d
        out[new] = data
    return out


def as_file_type(a, ttype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if ttype == Q.F32:
        return a.view(np.uint8).reshape(-1)
    if ttype == Q.F16:
        return a.astype(np.float16).view(np.uint8).reshape(-1)
    return np.asarray(gguf.quants.quantize(a, Q.BF16)).view(np.uint8).reshape(-1)


def check_values(ts, student_dir, L):
    conv = converter_tensors(student_dir, L)
    check(set(conv) == set(ts), f"converter tensor set differs: {sorted(set(conv) ^ set(ts))[:6]}")
    for name, a in conv.items():
        t = ts.get(name)
        if t is None:
            continue
        check(tuple(reversed(t.shape.tolist())) == a.shape or tuple(reversed(t.shape.tolist())) == a.squeeze().shape,
              f"{name}: shape {a.shape} vs ne {t.shape.tolist()}")
        raw = np.asarray(t.data).view(np.uint8).reshape(-1)
        want = as_file_type(a, t.tensor_type)
        check(raw.shape == want.shape and np.array_equal(raw, want), f"{name}: values differ from the converter's")


def looks_special(s):
    return (s in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (s.startswith("<|") and s.endswith("|>"))
            or (s.startswith("<\uff5c") and s.endswith("\uff5c>")) or (s.startswith("<unused") and s.endswith(">")))


def check_tokenizer(r, tok_path):
    tj = json.load(open(tok_path, encoding="utf-8"))
    vocab = dict(tj["model"]["vocab"])
    added = {a["id"]: a for a in tj.get("added_tokens", [])}
    rev = {i: s for s, i in vocab.items()}
    for i, a in added.items():
        rev[i] = a["content"]
    toks = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    got_t = [toks.contents(i) for i in range(len(toks.data))]
    got_ty = [int(x) for x in types.contents()]
    V = len(got_t)
    check(max(rev) < V, "tokenizer ids fit the vocabulary")
    bad = 0
    for i in range(V):
        if i not in rev:
            want, wt = f"[PAD{i}]", 5
        elif i in added:
            want = rev[i]
            wt = 3 if added[i].get("special") or looks_special(want) else 4
        else:
            want, wt = rev[i], 1
        bad += got_t[i] != want or got_ty[i] != wt
    check(bad == 0, f"{bad} tokens/types differ from tokenizer.json")
    ms = tj["model"]["merges"]
    ms = [" ".join(p.replace(" ", "\u0120") for p in m) if isinstance(m, list) else m for m in ms]
    got_m = [merges.contents(i) for i in range(len(merges.data))]
    check(got_m == ms, f"merges differ ({len(got_m)} vs {len(ms)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--student", help="the student folder the files were exported from (values check)")
    ap.add_argument("--tokenizer", help="its tokenizer.json (vocabulary check)")
    a = ap.parse_args()
    for path in a.files:
        before = fails
        r = GGUFReader(path)
        hp, ft = check_metadata(r)
        ts = check_tensors(r, hp, ft)
        check_gguf_py_tables(ts, hp["block_count"])
        if a.student:
            check_values(ts, a.student, hp["block_count"])
        if a.tokenizer:
            check_tokenizer(r, a.tokenizer)
        print(("PASS" if fails == before else "FAIL"), path, f"({len(ts)} tensors, {len(r.fields)} keys, file_type {ft})")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
