"""GGUF fixtures for tests/test_gguf.c (dev-only; needs numpy and the `gguf` package).

    pip install gguf numpy
    python3 tools/ref/make_gguf.py                 # rewrite tests/fixtures/gguf/*
    python3 tools/ref/make_gguf.py --verify        # same, exit 1 if any byte changed
    python3 tools/ref/make_gguf.py --check-c-writer FILE
        parse a GGUF written by the C writer (tests/test_gguf.c writes one when
        RADLADS_GGUF_WRITER_OUT=FILE is set) with gguf-py's GGUFReader and check every
        value against the content both sides define (writer_content() below).
    python3 tools/ref/make_gguf.py --smollm2 FILE  # print reference sums of a few real tensors

Files (all little-endian GGUF v3 written by gguf.GGUFWriter):
  meta.gguf        every metadata value type, nested arrays, a 0-dim and a 3-dim tensor
  quant.gguf       for each ggml type T: q.T (stored as T) and ref.T (F32 = gguf.quants.dequantize)
  tiny-llama.gguf  a 2-layer Llama as convert_hf_to_gguf writes it (Q/K permuted, mixed types,
                   tied embeddings, gpt2 tokenizer arrays)
  tiny-llama.ref.gguf  the same model's tensors in Hugging Face names and layout, F32
  writer_ref.gguf  what tests/test_gguf.c must reproduce byte for byte with rl_gguf_writer
"""
import hashlib
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT, GGUFValueType as VT

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "fixtures", "gguf")


def writer(path, arch):
    return gguf.GGUFWriter(path, arch)


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------------------------------
# meta.gguf
def make_meta(path):
    w = writer(path, "test")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 3.25)
    w.add_uint64("t.u64", 2**64 - 1)
    w.add_int64("t.i64", -(2**63))
    w.add_float64("t.f64", -1.0e300)
    w.add_bool("t.bool_t", True)
    w.add_bool("t.bool_f", False)
    w.add_string("t.str", "h\u00e9llo w\u00f6rld \u2713")
    w.add_key_value("t.str_empty", "", VT.STRING)  # add_string skips empty strings
    w.add_key_value("t.arr_u8", [0, 1, 255], VT.ARRAY, sub_type=VT.UINT8)
    w.add_key_value("t.arr_i16", [-1, 2, -32768], VT.ARRAY, sub_type=VT.INT16)
    w.add_key_value("t.arr_u32", [7, 4294967295], VT.ARRAY, sub_type=VT.UINT32)
    w.add_key_value("t.arr_i64", [-5, 2**62], VT.ARRAY, sub_type=VT.INT64)
    w.add_key_value("t.arr_u64", [2**64 - 2], VT.ARRAY, sub_type=VT.UINT64)
    w.add_key_value("t.arr_f32", [1.5, -0.0, float("inf")], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_key_value("t.arr_f64", [0.1, -2.5e-300], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_key_value("t.arr_bool", [True, False, True], VT.ARRAY, sub_type=VT.BOOL)
    w.add_array("t.arr_str", ["a", "", "\u00fc", "with space"])
    w.add_array("t.nested", [[1, 2, 3], [4]])                       # ARRAY of ARRAY of INT32
    w.add_array("t.nested_str", [["a", "bc"], ["d"]])               # ARRAY of ARRAY of STRING
    w.add_array("t.nested3", [[[1], [2, 3]], [[4]]])                # three levels
    w.add_tensor("w.f32", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add_tensor("w.f16", np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16))
    w.add_tensor("w.3d", np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5)
    w.add_tensor("w.scalar", np.array(7.0, dtype=np.float32))       # n_dims 0
    finish(w)


# ---------------------------------------------------------------------------------------
# quant.gguf
def f16_bits(rng, n, lo=-8.0, hi=4.0):
    """finite normal f16 values of random sign with |x| = 2^U(lo, hi)"""
    v = np.exp2(rng.uniform(lo, hi, n)) * rng.choice([-1.0, 1.0], n)
    return v.astype(np.float16).view(np.uint16)


def random_blocks(rng, qt, n_blocks):
    """random bytes for n_blocks blocks of qt, with the f16 scales made finite"""
    _, size = gguf.GGML_QUANT_SIZES[qt]
    b = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    if qt in (QT.Q4_0, QT.Q5_0, QT.Q8_0):
        b[:, 0:2] = f16_bits(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    elif qt in (QT.Q4_1, QT.Q5_1, QT.Q4_K, QT.Q5_K):
        b[:, 0:4] = f16_bits(rng, 2 * n_blocks).view(np.uint8).reshape(n_blocks, 4)
    elif qt == QT.Q6_K:
        b[:, 208:210] = f16_bits(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return b


def make_quant(path):
    rng = np.random.default_rng(1234)
    w = writer(path, "test")
    # F32 with special values
    x = rng.standard_normal((3, 64)).astype(np.float32)
    x.flat[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45]
    w.add_tensor("q.F32", x)
    w.add_tensor("ref.F32", gguf.quants.dequantize(x.view(np.uint8).reshape(3, 256), QT.F32).reshape(3, 64).copy())
    # F16 / BF16: every bit pattern class (random 16-bit words: normals, subnormals, inf, nan)
    for name, qt in (("F16", QT.F16), ("BF16", QT.BF16)):
        bits = rng.integers(0, 65536, (4, 256), dtype=np.uint16)
        bits.flat[:8] = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x7E00, 0x3C00] if qt == QT.F16 else \
                        [0x0000, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x007F, 0x7FC0, 0x3F80]
        if qt == QT.F16:
            w.add_tensor("q." + name, bits.view(np.float16))
            ref = gguf.quants.dequantize(bits.view(np.float16), QT.F16)
        else:
            w.add_tensor("q." + name, bits, raw_dtype=QT.BF16)
            ref = gguf.quants.dequantize(bits.view(np.uint8).reshape(4, 512), QT.BF16)
        w.add_tensor("ref." + name, np.ascontiguousarray(ref, dtype=np.float32))
    # block types: quantized from data (q.T) and random block bytes (qr.T)
    for qt in (QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0):
        x = (rng.standard_normal((3, 96)) * np.array([[0.01], [1.0], [30.0]])).astype(np.float32)
        raw = gguf.quants.quantize(x, qt)
        w.add_tensor("q." + qt.name, raw, raw_dtype=qt)
        w.add_tensor("ref." + qt.name, gguf.quants.dequantize(raw, qt).astype(np.float32))
    for qt in (QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0, QT.Q4_K, QT.Q5_K, QT.Q6_K):
        bs, size = gguf.GGML_QUANT_SIZES[qt]
        cols = 512 if bs == 256 else 64
        nb = 2 * cols // bs
        raw = random_blocks(rng, qt, nb).reshape(2, cols // bs * size)
        w.add_tensor("qr." + qt.name, raw, raw_dtype=qt)
        w.add_tensor("refr." + qt.name, gguf.quants.dequantize(raw, qt).astype(np.float32))
    finish(w)


# ---------------------------------------------------------------------------------------
# tiny-llama.gguf: a Llama as convert_hf_to_gguf.py (LlamaModel) writes it
C, L, H, KV, HD, F, V = 32, 2, 4, 2, 8, 64, 64


def permute(weights, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute, verbatim in effect"""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def tiny_vocab():
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    words = ["\u0120" + c for c in "abcdefghij"] + ["th", "he", "in", "er", "an", "\u0120t", "\u0120th", "\u0120the",
                                                   "on", "re", "at", "en", "nd", "ed", "es", "or", "ing", "\u010a",
                                                   "\u0120\u0120", "<0x00>", "caf\u00e9", "\u0120a\u0120b", "\u4f60\u597d", "\U0001F600", "x y"]
    toks = special + letters + words
    assert len(toks) >= V, len(toks)
    toks = toks[:V]
    types = [3, 3, 3] + [1] * (V - 3)
    types[V - 1] = 4
    merges = ["t h", "h e", "i n", "e r", "a n", "\u0120 t", "\u0120t h", "\u0120th e", "o n", "r e"]
    return toks, types, merges


def make_tiny_llama(path, ref_path):
    rng = np.random.default_rng(77)
    hf = {}  # HF name -> float32 array (row-major, HF layout)
    hf["model.embed_tokens.weight"] = rng.standard_normal((V, C)).astype(np.float32) * 0.5
    for l in range(L):
        p = f"model.layers.{l}."
        hf[p + "input_layernorm.weight"] = (1 + 0.2 * rng.standard_normal(C)).astype(np.float32)
        hf[p + "self_attn.q_proj.weight"] = (0.1 * rng.standard_normal((H * HD, C))).astype(np.float32)
        hf[p + "self_attn.k_proj.weight"] = (0.1 * rng.standard_normal((KV * HD, C))).astype(np.float32)
        hf[p + "self_attn.v_proj.weight"] = (0.1 * rng.standard_normal((KV * HD, C))).astype(np.float32)
        hf[p + "self_attn.o_proj.weight"] = (0.1 * rng.standard_normal((C, H * HD))).astype(np.float32)
        hf[p + "post_attention_layernorm.weight"] = (1 + 0.2 * rng.standard_normal(C)).astype(np.float32)
        hf[p + "mlp.gate_proj.weight"] = (0.1 * rng.standard_normal((F, C))).astype(np.float32)
        hf[p + "mlp.up_proj.weight"] = (0.1 * rng.standard_normal((F, C))).astype(np.float32)
        hf[p + "mlp.down_proj.weight"] = (0.1 * rng.standard_normal((C, F))).astype(np.float32)
    hf["model.norm.weight"] = (1 + 0.2 * rng.standard_normal(C)).astype(np.float32)

    # storage type per GGUF tensor (mixed, like a real quantized file)
    types = {"token_embd.weight": QT.Q8_0, "output_norm.weight": QT.F32,
             "blk.0.attn_q.weight": QT.F32, "blk.0.attn_k.weight": QT.F32, "blk.0.attn_v.weight": QT.F16,
             "blk.0.attn_output.weight": QT.BF16, "blk.0.ffn_gate.weight": QT.Q4_0, "blk.0.ffn_up.weight": QT.Q4_1,
             "blk.0.ffn_down.weight": QT.Q8_0,
             "blk.1.attn_q.weight": QT.Q8_0, "blk.1.attn_k.weight": QT.Q4_1, "blk.1.attn_v.weight": QT.F32,
             "blk.1.attn_output.weight": QT.F32, "blk.1.ffn_gate.weight": QT.F16, "blk.1.ffn_up.weight": QT.F16,
             "blk.1.ffn_down.weight": QT.Q5_0}
    gnames = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    for l in range(L):
        for a, b in (("input_layernorm.weight", "attn_norm.weight"), ("self_attn.q_proj.weight", "attn_q.weight"),
                     ("self_attn.k_proj.weight", "attn_k.weight"), ("self_attn.v_proj.weight", "attn_v.weight"),
                     ("self_attn.o_proj.weight", "attn_output.weight"), ("post_attention_layernorm.weight", "ffn_norm.weight"),
                     ("mlp.gate_proj.weight", "ffn_gate.weight"), ("mlp.up_proj.weight", "ffn_up.weight"),
                     ("mlp.down_proj.weight", "ffn_down.weight")):
            gnames[f"model.layers.{l}.{a}"] = f"blk.{l}.{b}"

    w = writer(path, "llama")
    w.add_name("tiny-llama")
    w.add_uint32("llama.block_count", L)
    w.add_uint32("llama.context_length", 128)
    w.add_uint32("llama.embedding_length", C)
    w.add_uint32("llama.feed_forward_length", F)
    w.add_uint32("llama.attention.head_count", H)
    w.add_uint32("llama.attention.head_count_kv", KV)
    w.add_float32("llama.rope.freq_base", 100000.0)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_uint32("general.file_type", 7)
    w.add_uint32("llama.vocab_size", V)
    w.add_uint32("llama.rope.dimension_count", HD)
    toks, ttypes, merges = tiny_vocab()
    w.add_bool("tokenizer.ggml.add_space_prefix", False)
    w.add_bool("tokenizer.ggml.add_bos_token", False)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "smollm")
    w.add_array("tokenizer.ggml.tokens", toks)
    w.add_key_value("tokenizer.ggml.token_type", ttypes, VT.ARRAY, sub_type=VT.INT32)
    w.add_array("tokenizer.ggml.merges", merges)
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    w.add_uint32("tokenizer.ggml.unknown_token_id", 0)
    w.add_uint32("tokenizer.ggml.padding_token_id", 2)
    w.add_string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}")
    w.add_uint32("general.quantization_version", 2)

    refs = {}
    for name, x in hf.items():
        g = gnames[name]
        y = x
        if name.endswith("q_proj.weight"):
            y = permute(x, H, H)
        elif name.endswith("k_proj.weight"):
            y = permute(x, H, KV)
        qt = types.get(g, QT.F32)
        if qt == QT.F32:
            w.add_tensor(g, np.ascontiguousarray(y))
            refs[name] = x
        elif qt == QT.F16:
            w.add_tensor(g, np.ascontiguousarray(y).astype(np.float16))
            refs[name] = x.astype(np.float16).astype(np.float32)
        else:
            raw = gguf.quants.quantize(np.ascontiguousarray(y), qt)
            w.add_tensor(g, raw, raw_dtype=qt)
            # these types quantize each row on its own, so quantizing then un-permuting rows
            # equals quantizing the HF rows: the reference needs no inverse permutation
            refs[name] = gguf.quants.dequantize(gguf.quants.quantize(x, qt), qt).astype(np.float32)
    finish(w)

    r = writer(ref_path, "ref")
    for name, x in refs.items():
        r.add_tensor(name, np.ascontiguousarray(x, dtype=np.float32))
    # the raw converter output of the Q/K weights too, F32 (what permute() produced)
    for l in range(L):
        p = f"model.layers.{l}.self_attn."
        r.add_tensor(f"gguf.{l}.q", permute(hf[p + "q_proj.weight"], H, H).copy())
        r.add_tensor(f"gguf.{l}.k", permute(hf[p + "k_proj.weight"], H, KV).copy())
        r.add_tensor(f"hf.{l}.q", hf[p + "q_proj.weight"])
        r.add_tensor(f"hf.{l}.k", hf[p + "k_proj.weight"])
    finish(r)


# ---------------------------------------------------------------------------------------
# writer_ref.gguf: the C test builds the same file with rl_gguf_writer
def writer_content():
    """(kind, key, value, subtype) in file order; mirrored in tests/test_gguf.c writer_build()"""
    return [
        ("string", "general.architecture", "llama", None),
        ("uint32", "general.alignment", 64, None),
        ("uint8", "w.u8", 250, None),
        ("int8", "w.i8", -7, None),
        ("uint16", "w.u16", 65535, None),
        ("int16", "w.i16", -2, None),
        ("uint32", "w.u32", 123456789, None),
        ("int32", "w.i32", -123456789, None),
        ("float32", "w.f32", 0.15625, None),
        ("uint64", "w.u64", 2**63 + 11, None),
        ("int64", "w.i64", -(2**40), None),
        ("float64", "w.f64", 2.0**-30, None),
        ("bool", "w.bool", True, None),
        ("string", "w.str", "na\u00efve \u2192 \U0001F600", None),
        ("array", "w.arr_i32", [1, -2, 3], VT.INT32),
        ("array", "w.arr_f32", [0.5, -1.25], VT.FLOAT32),
        ("array", "w.arr_u8", [9, 8], VT.UINT8),
        ("array", "w.arr_bool", [False, True], VT.BOOL),
        ("array", "w.arr_str", ["x", "", "y z"], VT.STRING),
        ("array", "w.nested", [[1, 2], [3]], None),
    ]


def writer_tensors():
    a = (np.arange(15, dtype=np.float32) - 7.0).reshape(3, 5) / 4
    b = np.array([1.0, -0.5, 2.0, 65504.0], dtype=np.float16)
    c = np.zeros((2, 34), dtype=np.uint8)  # two Q8_0 blocks
    c[0, :2] = np.array([0.5], dtype=np.float16).view(np.uint8)
    c[1, :2] = np.array([-0.25], dtype=np.float16).view(np.uint8)
    c[0, 2:] = np.arange(32, dtype=np.int8).view(np.uint8)
    c[1, 2:] = (-np.arange(32, dtype=np.int8)).view(np.uint8)
    d = np.array([0x3F80, 0xC000, 0x0000, 0x7F80, 0x4049, 0x0001], dtype=np.uint16)  # BF16 bits
    return [("a", a, None), ("b", b, None), ("c", c, QT.Q8_0), ("d", d, QT.BF16)]


def make_writer_ref(path):
    content = writer_content()
    w = writer(path, content[0][2])
    for kind, key, val, sub in content[1:]:
        if key == "general.alignment":
            w.add_custom_alignment(val)
        elif kind == "array":
            w.add_key_value(key, val, VT.ARRAY, sub_type=sub)
        else:
            getattr(w, "add_" + kind)(key, val)
    for name, x, qt in writer_tensors():
        w.add_tensor(name, x, raw_dtype=qt)
    finish(w)


def check_c_writer(path):
    """parse the C writer's file with gguf-py and compare with writer_content()"""
    r = gguf.GGUFReader(path)
    assert r.alignment == 64, r.alignment
    content = writer_content()
    fields = [f for f in r.fields.values() if not f.name.startswith("GGUF.")]
    assert [f.name for f in fields] == [c[1] for c in content], [f.name for f in fields]
    for (kind, key, val, sub), f in zip(content, fields):
        got = f.contents()
        if kind == "float32":
            assert np.float32(got) == np.float32(val), (key, got, val)
        elif kind == "array" and sub is None:  # nested: gguf-py's contents() flattens, so check types + values
            assert f.types[:2] == [VT.ARRAY, VT.ARRAY] and f.types[-1] == VT.INT32, (key, f.types)
            assert got == [x for inner in val for x in inner], (key, got)
        elif kind == "array" and sub == VT.FLOAT32:
            assert [np.float32(x) for x in got] == [np.float32(x) for x in val], (key, got)
        else:
            assert got == val, (key, got, val)
    want = writer_tensors()
    assert [t.name for t in r.tensors] == [x[0] for x in want]
    for t, (name, x, qt) in zip(r.tensors, want):
        data = np.asarray(t.data)
        assert data.tobytes() == np.ascontiguousarray(x).tobytes(), name
        if qt is None:
            assert list(reversed([int(s) for s in t.shape])) == list(x.shape), (name, t.shape)
    print(f"{path}: gguf-py GGUFReader reads {len(fields)} keys and {len(r.tensors)} tensors, all equal to the reference content")


def smollm2_sums(path):
    r = gguf.GGUFReader(path)
    for t in r.tensors:
        if t.name in ("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.29.ffn_down.weight", "output_norm.weight"):
            x = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            print(f'    {{"{t.name}", {float(x.sum())!r}, {float((x * x).sum())!r}, {float(x.flat[0])!r}, {float(x.flat[-1])!r}}},')


FILES = ["meta.gguf", "quant.gguf", "tiny-llama.gguf", "tiny-llama.ref.gguf", "writer_ref.gguf"]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check-c-writer":
        check_c_writer(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--smollm2":
        smollm2_sums(sys.argv[2])
        return
    verify = "--verify" in sys.argv
    old = {}
    for f in FILES:
        p = os.path.join(OUT, f)
        if os.path.exists(p):
            old[f] = open(p, "rb").read()
    os.makedirs(OUT, exist_ok=True)
    make_meta(os.path.join(OUT, "meta.gguf"))
    make_quant(os.path.join(OUT, "quant.gguf"))
    make_tiny_llama(os.path.join(OUT, "tiny-llama.gguf"), os.path.join(OUT, "tiny-llama.ref.gguf"))
    make_writer_ref(os.path.join(OUT, "writer_ref.gguf"))
    changed = 0
    total = 0
    for f in FILES:
        p = os.path.join(OUT, f)
        data = open(p, "rb").read()
        total += len(data)
        tag = "" if old.get(f) == data else "  (changed)"
        changed += old.get(f) != data
        # every file must parse with gguf-py's reader
        gguf.GGUFReader(p)
        print(f"{f:22s} {len(data):7d} bytes  sha256 {hashlib.sha256(data).hexdigest()[:16]}{tag}")
    print(f"total {total} bytes")
    if verify and changed:
        sys.exit(1)


if __name__ == "__main__":
    main()
