"""Build the three byte-level BPE tokenizer fixtures and the encode/decode cases.

Writes tests/fixtures/tok/{qwen2,llama3,gpt2}.json and tests/fixtures/tok/cases.json.
The tokenizers are trained (HF `tokenizers`, BpeTrainer) on the small mixed corpus below,
then their JSON is rebuilt by hand so that every field matches the layout of the real
Qwen2 / Llama-3 / SmolLM2 files (formats.md §3). The ids in cases.json are produced by
loading the *written* files back with `Tokenizer.from_file`, so they are exactly what
HF tokenizers does with these files.

Run through `python3 tools/ref/make_fixtures.py` (or alone: `python3 tools/ref/make_tokenizers.py`).
"""
import json
import os
import sys
import unicodedata

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX, write_json  # noqa: E402

TOK_DIR = os.path.join(FIX, "tok")
BPE_VOCAB = 600  # base BPE vocabulary (256 byte symbols + merges [+ specials for gpt2])

QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
            r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
             r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# Training corpus: a few KB of mixed text written for this purpose (prose, code, numbers,
# whitespace runs, CJK, emoji, accents). Repetition is deliberate so that merges form.
CORPUS = r"""
The quick brown fox jumps over the lazy dog. The dog did not care; it was asleep in the sun.
It's a truth universally acknowledged that a model in possession of good weights must be in want
of a tokenizer. We'll see what they've done, and I'm sure you'd agree that they're right.
DON'T PANIC. I'M NOT SHOUTING, YOU'RE SHOUTING! She said: "Hello, world!" and he replied 'hi'.
Attention is replaced by a recurrent state; the state is updated once per token, and the
student learns to copy the teacher's attention output. The teacher is frozen; the student is not.
In the beginning there was the word, and the word was split into pieces, and the pieces were
merged again by rank. Rank zero merges first; ties go to the leftmost pair.
def forward(self, x, state=None):
    # token shift: mix the previous token into the current one
    if state is None:
        state = torch.zeros_like(x[:, 0])
    for t in range(x.shape[1]):
        y[:, t] = self.step(x[:, t], state)
    return y, state

static int rl_add(const float *a, const float *b, float *out, int n) {
	for (int i = 0; i < n; i++) {
		out[i] = a[i] + b[i];
	}
	return 0;
}

#include <stdio.h>
int main(void) { printf("%d\n", rl_add(NULL, NULL, NULL, 0)); return 0; }
{"model": "tiny", "layers": 2, "heads": 4, "lr": 1e-3, "betas": [0.9, 0.95], "ok": true}
Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 42 100 256 1024 2048 4096 65536 1234567 3.14159 2.71828
Prices rose 12.5% in 2023, from $1,299.99 to $1,462.49; 2024 and 2025 were flat at 1,500.
Phone: +1 (555) 010-9999. Date: 2025-05-07T12:34:56Z. Version 4.45.0, build 20250507.
    Indented with four spaces.
		Indented with two tabs.
Trailing spaces here.    

Whitespace   runs     of      various       lengths.
你好，世界！这是一个测试。我们正在训练一个很小的分词器。你好，世界！
今天天气很好。我们去公园散步吧。这是一个测试，这是另一个测试。
日本語のテキストも少し入れておきます。こんにちは、世界。ありがとうございます。
한국어 텍스트도 조금 있습니다. 안녕하세요, 세계.
Emoji: 😀 😃 😄 😁 👍 👍🏽 ❤️ 🎉 🚀 👨‍👩‍👧‍👦 🏳️‍🌈 😀😀😀 🚀🚀
Accents: café, naïve, résumé, façade, jalapeño, Zürich, Ångström, São Paulo, Việt Nam, Łódź.
Ελληνικά γράμματα: α β γ δ. Кириллица: привет, мир. العربية: مرحبا بالعالم.
The end. The end. The end of the text is near; the end is here.
the the the the of of of and and and to to to in in in is is is that that that
"""


def bytes_to_unicode():
    """GPT-2 byte -> printable char table (formats.md §3.3)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
B2U_INV = {c: b for b, c in B2U.items()}


def bl(s):
    """Map a text string into the ByteLevel alphabet."""
    return "".join(B2U[b] for b in s.encode("utf-8"))


CRLF_TEXT = "Windows line endings\r\nare different\r\n\r\nfrom Unix ones.\r\n"


def corpus_lines():
    return ([ln + "\n" for ln in CORPUS.strip("\n").split("\n")] + [CRLF_TEXT]) * 3


def train(pre_tok, normalizer, specials, vocab_size):
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tok
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=specials)
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    return json.loads(tok.to_str())


def added(id_, content, special=True):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": special}


def bpe_model(trained, ignore_merges, affix, extra_vocab=()):
    m = trained["model"]
    vocab = dict(m["vocab"])
    for s in extra_vocab:
        assert s not in vocab
        vocab[s] = len(vocab)
    return {"type": "BPE", "dropout": None, "unk_token": None,
            "continuing_subword_prefix": affix, "end_of_word_suffix": affix,
            "fuse_unk": False, "byte_fallback": False, "ignore_merges": ignore_merges,
            "vocab": vocab, "merges": [list(p) if isinstance(p, list) else p.split(" ")
                                       for p in m["merges"]]}


def bytelevel(aps, trim, regex):
    return {"type": "ByteLevel", "add_prefix_space": aps, "trim_offsets": trim, "use_regex": regex}


def build_qwen2():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_RE), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tr = train(pre, normalizers.NFC(), [], BPE_VOCAB)
    model = bpe_model(tr, ignore_merges=False, affix="")  # Qwen2 files carry ""
    n = len(model["vocab"])
    # Like Qwen2.5: specials after the BPE ids; two non-special added tokens.
    added_tokens = [added(n, "<|endoftext|>"), added(n + 1, "<|im_start|>"), added(n + 2, "<|im_end|>"),
                    added(n + 3, "<tool_call>", special=False), added(n + 4, "</tool_call>", special=False)]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_tokens,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_RE}, "behavior": "Isolated", "invert": False},
            bytelevel(False, False, False)]},
        "post_processor": bytelevel(False, False, False),
        "decoder": bytelevel(False, False, False),
        "model": model,
    }


def bpe_pieces(model_json, word):
    """Plain BPE (merges only) on one pre-token already in ByteLevel alphabet."""
    ranks = {tuple(p.split(" ") if isinstance(p, str) else p): i
             for i, p in enumerate(model_json["merges"])}
    parts = list(word)
    while True:
        best = None
        for i in range(len(parts) - 1):
            r = ranks.get((parts[i], parts[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            return parts
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]


# Whole-word vocab entries with no merge path (like Llama-3's " Việt"): only reachable
# because of ignore_merges.
LLAMA3_EXTRA_WORDS = [" quokka", " Việt", " Zürich"]


def build_llama3():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_RE), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tr = train(pre, None, [], BPE_VOCAB)
    extra = [bl(w) for w in LLAMA3_EXTRA_WORDS if bl(w) not in tr["model"]["vocab"]]
    model = bpe_model(tr, ignore_merges=True, affix=None, extra_vocab=extra)
    n = len(model["vocab"])
    bos, eos = "<|begin_of_text|>", "<|end_of_text|>"
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(n, bos), added(n + 1, eos)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_RE}, "behavior": "Isolated", "invert": False},
            bytelevel(False, True, False)]},
        "post_processor": {"type": "Sequence", "processors": [
            bytelevel(True, False, True),
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {bos: {"id": bos, "ids": [n], "tokens": [bos]}}}]},
        "decoder": bytelevel(True, True, True),
        "model": model,
    }


def build_gpt2():
    # SmolLM2 layout (formats.md §3.4): Digits(individual) then ByteLevel with the GPT-2 regex.
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tr = train(pre, None, specials, BPE_VOCAB)
    model = bpe_model(tr, ignore_merges=False, affix=None)
    for i, s in enumerate(specials):  # trainer puts specials first, as in SmolLM2 (ids 0,1,2)
        assert model["vocab"][s] == i
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, s) for i, s in enumerate(specials)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            bytelevel(False, True, True)]},
        "post_processor": bytelevel(True, False, True),
        "decoder": bytelevel(False, True, True),
        "model": model,
    }


def cases_texts():
    nfc = "café naïve résumé Ångström São Paulo Việt"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    return [
        "",
        "Hello world",
        "Hello, world! How are you today?",
        "The quick brown fox jumps over the lazy dog. The dog did not care.",
        "It's a truth universally acknowledged; we'll see what they've done, I'm sure you'd agree they're right.",
        "DON'T PANIC. I'M NOT SHOUTING, YOU'RE SHOUTING! WE'LL SEE. HE'D GO. THEY'VE GONE. IT'S 'S",
        "don't Don'T i'M it'S we'Ll",
        "def forward(self, x, state=None):\n    if state is None:\n        state = 0\n    return x * 2, state\n",
        "static int rl_add(const float *a, float *out, int n) {\n\tfor (int i = 0; i < n; i++) out[i] += a[i];\n\treturn 0;\n}\n",
        "#include <stdio.h>\nint main(void){printf(\"%d\\n\",42);return 0;}",
        "1234567",
        "12345678901234567890",
        "3.14159 and 2,718,281 and -42 and 1e-3 and 0x1F",
        "a1b22c333d4444e55555",
        "Prices rose 12.5% in 2023, from $1,299.99 to $1,462.49.",
        "٣٤٥ Ⅻ ½ ² ³ ① 𝟘",
        "a  b   c    d     e",
        "\t\tindented\ttabs\t",
        "line1\r\nline2\r\n\r\nline4\n\n\nline7",
        "trailing spaces   ",
        "   leading spaces",
        " ",
        "    ",
        "\n",
        "\n\n\n",
        "  \n  \n  x",
        "x \n y \t\n z",
        "nbsp\u00a0here\u00a0\u00a0and\u2003em\u3000ideographic\u2028sep",
        "soft\u00adhyphen and zero\u200bwidth",
        "ctrl\x00\x01\x07\x1b[0m\x7f end",
        "你好，世界！这是一个测试。",
        "日本語のテキスト、こんにちは。",
        "한국어 텍스트 안녕하세요",
        "Ελληνικά α β γ, Кириллица привет, العربية مرحبا",
        "Emoji: 😀 😃 👍 👍🏽 ❤️ 🎉 🚀",
        "family 👨‍👩‍👧‍👦 flag 🏳️‍🌈 kiss 👩‍❤️‍💋‍👨 keycap 1️⃣ 🇯🇵",
        "😀😀😀🚀🚀🚀",
        nfc,
        nfd,
        "e\u0301 vs \u00e9, A\u030a vs \u00c5, \u1e9b\u0323",
        "ﬁ ligature, Ⅻ, ｆｕｌｌｗｉｄｔｈ, ㍿",
        "naïve façade — “curly quotes” ‘single’ … ellipsis • bullet",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "================================",
        "!!!???...,,,;;;:::",
        "'s 't 're 've 'm 'll 'd",
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        "a<|endoftext|>b",
        "<|endoftext|><|endoftext|>",
        " <|endoftext|> ",
        "<|im_start",
        "<|im_start|<|im_end|>>",
        "<|begin_of_text|>Hello<|end_of_text|>",
        "<tool_call>{\"x\": 1}</tool_call>",
        "I saw a quokka in Việt Nam and Zürich; quokka, Quokka, quokkas.",
        "The end. The end of the text is near; the end is here.",
    ]


def ignore_merges_words(tokj):
    """Vocab entries that plain BPE would split but ignore_merges emits whole."""
    out = []
    for s in sorted(tokj["model"]["vocab"], key=lambda s: tokj["model"]["vocab"][s]):
        if len(s) > 1 and len(bpe_pieces(tokj["model"], s)) > 1:
            out.append(s)
    return out


def main():
    os.makedirs(TOK_DIR, exist_ok=True)
    toks = {"qwen2": build_qwen2(), "llama3": build_llama3(), "gpt2": build_gpt2()}
    # Merges: the current list-of-pairs form in qwen2.json and gpt2.json, the legacy
    # "a b" string form in llama3.json (the C parser must accept both).
    toks["llama3"]["model"]["merges"] = [" ".join(p) for p in toks["llama3"]["model"]["merges"]]
    for name, j in toks.items():
        write_json(os.path.join(TOK_DIR, name + ".json"), j, ensure_ascii=False, indent=1)

    loaded = {name: Tokenizer.from_file(os.path.join(TOK_DIR, name + ".json")) for name in toks}
    for name, t in loaded.items():
        nv = len(toks[name]["model"]["vocab"]) + sum(
            1 for a in toks[name]["added_tokens"] if a["content"] not in toks[name]["model"]["vocab"])
        assert t.get_vocab_size(with_added_tokens=True) == nv, (name, nv)

    # ignore_merges must matter in llama3.json: find vocab entries that plain BPE splits.
    imw = ignore_merges_words(toks["llama3"])
    im_texts = []
    for s in imw:
        text = bytes(B2U_INV[c] for c in s).decode("utf-8", errors="replace")
        if "\ufffd" not in text and text.strip() and "\n" not in text:
            im_texts.append(text)
    texts = cases_texts()
    if im_texts:
        texts.append("ignore_merges words:" + "|".join(im_texts[:8]))

    cases = []
    n_im_diff = 0
    plain_llama3 = json.loads(json.dumps(toks["llama3"]))
    plain_llama3["model"]["ignore_merges"] = False
    plain = Tokenizer.from_str(json.dumps(plain_llama3))
    for text in texts:
        c = {"text": text}
        for name, t in loaded.items():
            ids = t.encode(text, add_special_tokens=False).ids
            c[name] = ids
            c[name + "_decoded"] = t.decode(ids, skip_special_tokens=False)
            c[name + "_decoded_skip_special"] = t.decode(ids, skip_special_tokens=True)
        c["llama3_with_bos"] = loaded["llama3"].encode(text, add_special_tokens=True).ids
        if plain.encode(text, add_special_tokens=False).ids != c["llama3"]:
            n_im_diff += 1
        cases.append(c)
    assert n_im_diff >= 2, "ignore_merges never changes the llama3 encoding of a case"

    # Decoding of id sequences that are not valid UTF-8 on their own (C must buffer or
    # replace exactly like String::from_utf8_lossy).
    decode_cases = []
    for name, t in loaded.items():
        v = toks[name]["model"]["vocab"]
        seqs = [
            [v[B2U[0xF0]], v[B2U[0x9F]]],                      # truncated 4-byte sequence
            [v[B2U[0xE4]]],                                     # lone lead byte
            [v[B2U[0x80]], v[B2U[ord("a")]]],                  # stray continuation byte
            [v[B2U[0xC3]], v[B2U[0xA9]], v[B2U[0xFF]]],        # é then invalid 0xFF
            [v[B2U[0xED]], v[B2U[0xA0]], v[B2U[0x80]]],        # encoded surrogate (invalid)
        ]
        for ids in seqs:
            decode_cases.append({"tokenizer": name, "ids": ids,
                                 "decoded": t.decode(ids, skip_special_tokens=False)})

    # ensure_ascii=True on purpose: non-ASCII text appears as \uXXXX escapes with surrogate
    # pairs, so the C JSON parser's escape handling is exercised (tokenizer.json files use raw UTF-8).
    write_json(os.path.join(TOK_DIR, "cases.json"),
               {"tokenizers": list(toks), "cases": cases, "decode_cases": decode_cases},
               ensure_ascii=True, indent=None)
    info = {name: {"vocab": len(toks[name]["model"]["vocab"]),
                   "size_with_added": loaded[name].get_vocab_size(with_added_tokens=True)}
            for name in toks}
    print("tokenizers:", info, "cases:", len(cases), "ignore_merges diffs:", n_im_diff,
          "natural ignore_merges words:", len(imw))
    return info


if __name__ == "__main__":
    main()
