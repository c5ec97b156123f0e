"""Build the three byte-level BPE tokenizer fixtures and the encode/decode cases.

Writes tests/fixtures/tok/{qwen2,llama3,gpt2}.json and tests/fixtures/tok/cases.json, then
tests/fixtures/tok/corpus.json (HF ids of real text sampled from ../shared/data, stored as byte
offsets into those files, plus random Unicode strings and added-token flag cases) and
tests/fixtures/tok/flags.json (qwen2.json with added tokens that use lstrip / rstrip /
single_word / normalized).
The tokenizers are trained (HF `tokenizers`, BpeTrainer) on the small mixed corpus below,
then their JSON is rebuilt by hand so that every field matches the layout of the real
Qwen2 / Llama-3 / SmolLM2 files (formats.md §3). The ids in cases.json are produced by
loading the *written* files back with `Tokenizer.from_file`, so they are exactly what
HF tokenizers does with these files.

Run through `python3 tools/ref/make_fixtures.py` (or alone: `python3 tools/ref/make_tokenizers.py`).
"""
import copy
import json
import os
import random
import sys
import unicodedata

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX, REPO, write_json  # noqa: E402

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


# ---- corpus.json: real text (by byte offsets into ../shared/data), Unicode strings, flags ----

DATA_FILES = {"wiki": "wikitext-2-raw/wiki.test.raw", "shakespeare": "tinyshakespeare/input.txt"}


def data_dir():
    return os.environ.get("RADLADS_DATA") or os.path.join(REPO, "..", "shared", "data")


def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def corpus_spans(blobs):
    """(file, start, end) byte spans: whole lines (with their newline) sampled at random,
    plus one contiguous block of each file."""
    rnd = random.Random(20250505)
    spans = []
    for key, n_pick, max_lines in (("wiki", 40, 1), ("shakespeare", 80, 3)):
        b = blobs[key]
        starts = [0] + [i + 1 for i, c in enumerate(b) if c == 0x0A][:-1]
        ends = starts[1:] + [len(b)]
        good = [i for i in range(len(starts)) if b[starts[i]:ends[i]].strip()]
        for i in sorted(rnd.sample(good, n_pick)):
            j = min(i + rnd.randint(1, max_lines), len(starts))
            spans.append((key, starts[i], ends[j - 1]))
        blk = starts[len(starts) // 3]
        spans.append((key, blk, ends[next(k for k in range(len(starts)) if ends[k] >= blk + 3000)]))
    return spans


def unicode_texts():
    """Random strings over code points where the Unicode data matters: letters new in
    Unicode 16 (Oniguruma) or unknown to Unicode 9 (HF's NFC), marks of many classes, Hangul
    jamo, decomposable letters, numerics of every kind, every White_Space character and the
    look-alikes that are not, long s in contractions, symbols that are \\w but not letters."""
    rnd = random.Random(777)
    pool = (list("aAzZ09 .,'!?_-") + [chr(c) for c in (
        0x17F, 0x1C89, 0xA7CB, 0xA7DC, 0x10D4A, 0x1E4D0, 0x0E01, 0x05D0, 0x0627, 0x4E00, 0x3042, 0xAC00, 0xD7A3,
        0x0300, 0x0301, 0x0308, 0x0316, 0x0323, 0x0345, 0x0591, 0x05B0, 0x0651, 0x093C, 0x0F71, 0x0F72, 0x0F80,
        0x1DFA, 0x302A, 0x1D165, 0x1D16E, 0x16FF0, 0x1E2EC, 0x113B8, 0x113C2, 0x113C9, 0x0B47, 0x0B3E, 0x0CC6,
        0x0CD5, 0x0DD9, 0x0DCF, 0x1100, 0x1112, 0x1161, 0x1175, 0x11A8, 0x11C2, 0x212B, 0x2126, 0x0340, 0x0344,
        0x0F73, 0x1E9B, 0xFB1D, 0x2ADC, 0xF900, 0x2F800, 0x105D2, 0x0307, 0x11382, 0x16121, 0x1611E,
        0x0660, 0x0669, 0x06F5, 0x00B2, 0x00BD, 0x2162, 0x2460, 0x3007, 0x1D7D8, 0x11DE0, 0x16FF4, 0x3250,
        0x1F100, 0x09F4, 0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x0085, 0x00A0, 0x1680, 0x2000, 0x2007, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0x180E, 0x200B, 0x200C, 0x200D, 0xFEFF, 0x001C, 0x001F,
        0x24B6, 0x24D0, 0x1F130, 0x2C2F, 0x203F, 0xFE33, 0x00AD, 0xFFFD, 0xE000, 0xFFFF, 0x10FFFD, 0x0000,
        0x1F600, 0x1F3FD, 0x1F1EF, 0x20E3, 0xFE0F, 0xE0100)])
    texts = []
    for _ in range(200):
        texts.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 10))))
    for c in pool:  # each code point alone and between letters, so every class decision shows
        texts.append("x" + c + "y " + c)
    texts += [  # contractions with long s (Oniguruma case-folds it to s), odd whitespace runs
        "it'\u017f x'\u017fy '\u017f\u017f 'Sa '\u017ft", "DON'T'\u017f'LL'Re'VE 'ſ1 ''\u017f", "x'Sa x'LLb x'REc x'Ve1 it'Sok I'Mx he'Dd x'Tt x'sa",
        "a\u3000\u3000b  c\u00a0\u00a0d \u2028\u2028y \u0085\u0085z\u3000", "1\u0660\u0661\u0662\u0663 \u00b2\u00b3x"]
    return texts


FLAG_TOKENS = [  # (content, single_word, lstrip, rstrip, normalized, special)
    ("<mask>", False, True, False, False, True),
    ("[R]", False, False, True, False, False),
    ("ab", True, False, False, False, False),
    ("\u00e9", False, False, False, True, False),       # é: matched after NFC (also in "e\u0301")
    ("\u2126", False, False, False, True, False),       # OHM SIGN: NFC makes it U+03A9
    ("<lr>", False, True, True, False, True),
    ("q\u0301", True, False, False, True, False),       # normalized, single_word, NFC-stable
    ("\u2126x", False, False, False, True, True),       # special + normalized: HF decodes it as "\u03a9x"
]                                                      # and then does not skip it (not special by that name)

FLAG_TEXTS = [
    "a <mask> b", "a   <mask>", "<mask>", "  <mask>  x", "x[R]   y", "[R]\n\nz", "[R]",
    "ab abc cab ab. (ab) _ab ab_ \u24d0ab ab\u24d0 ab1 1ab ab\u0301 \u00e9ab", "ab", " ab ", "abab ab",
    "caf\u00e9 cafe\u0301 e\u0301 \u00e9\u00e9", "\u2126 \u03a9 x\u2126y", "  <lr>  q", "<mask><mask>",
    "ab<lr>ab", "<mask> <lr> [R]", "q\u0301 xq\u0301 q\u0301", "<mask>\u3000<lr>\u3000end",
    "a\u2126x b \u03a9x <mask>",
]


def flags_tokenizer(qwen2):
    j = copy.deepcopy(qwen2)
    n = len(j["model"]["vocab"]) + len(j["added_tokens"])
    for k, (content, sw, ls, rs, norm, sp) in enumerate(FLAG_TOKENS):
        j["added_tokens"].append({"id": n + k, "content": content, "single_word": sw, "lstrip": ls,
                                  "rstrip": rs, "normalized": norm, "special": sp})
    return j


def make_corpus(toks, loaded):
    root = data_dir()
    blobs = {}
    for key, rel in DATA_FILES.items():
        path = os.path.join(root, rel)
        assert os.path.exists(path), f"{path} missing: set RADLADS_DATA to the shared data folder"
        with open(path, "rb") as f:
            blobs[key] = f.read()
    files = {key: {"path": rel, "size": len(blobs[key]), "fnv1a64": "%016x" % fnv1a64(blobs[key])}
             for key, rel in DATA_FILES.items()}
    samples = []
    n_bytes = 0
    for key, a, b in corpus_spans(blobs):
        text = blobs[key][a:b].decode("utf-8")
        c = {"file": key, "start": a, "end": b}
        for name, t in loaded.items():
            c[name] = t.encode(text, add_special_tokens=False).ids
            assert t.decode(c[name]) == (unicodedata.normalize("NFC", text) if name == "qwen2" else text)
        samples.append(c)
        n_bytes += b - a
    ucases = []
    nfc = normalizers.NFC()
    for text in unicode_texts():
        c = {"text": text}  # "nfc" and "<tok>_decoded" only where they differ from the text
        # the pre-tokenizer alone on the raw text: the byte offset where each piece ends
        for name, t in loaded.items():
            ends = []
            for _, (a, b) in t.pre_tokenizer.pre_tokenize_str(text):
                ends.append(len(text[:b].encode("utf-8")))
            c[name + "_pretok"] = ends
        if nfc.normalize_str(text) != text:
            c["nfc"] = nfc.normalize_str(text)
        for name, t in loaded.items():
            c[name] = t.encode(text, add_special_tokens=False).ids
            if t.decode(c[name]) != text:
                c[name + "_decoded"] = t.decode(c[name])
        ucases.append(c)
    fj = flags_tokenizer(toks["qwen2"])
    # HF ignores the ids written in added_tokens: a content already in model.vocab keeps its
    # vocab id ("\u00e9" is the ByteLevel symbol of byte 0xE9), the others are numbered on.
    # Write the ids HF assigns, as its own serializer would.
    ft = Tokenizer.from_str(json.dumps(fj))
    for a in fj["added_tokens"]:
        a["id"] = ft.token_to_id(a["content"])
    assert fj["added_tokens"][FLAG_TOKENS.index(("\u00e9", False, False, False, True, False)) + 5]["id"] < 600
    fj["added_tokens"].sort(key=lambda a: a["id"])
    write_json(os.path.join(TOK_DIR, "flags.json"), fj, ensure_ascii=False, indent=1)
    ft = Tokenizer.from_file(os.path.join(TOK_DIR, "flags.json"))
    for a in fj["added_tokens"]:
        assert ft.token_to_id(a["content"]) == a["id"], a
    fcases = []
    for text in FLAG_TEXTS:
        ids = ft.encode(text, add_special_tokens=False).ids
        fcases.append({"text": text, "ids": ids, "decoded": ft.decode(ids, skip_special_tokens=False),
                       "decoded_skip_special": ft.decode(ids, skip_special_tokens=True)})
    with open(os.path.join(TOK_DIR, "corpus.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"files": files, "samples": samples, "unicode_cases": ucases, "flag_cases": fcases}, f,
                  ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"corpus: {len(samples)} spans, {n_bytes} bytes of text (by offset), "
          f"{sum(len(c['qwen2']) for c in samples)} qwen2 ids; {len(ucases)} unicode cases; {len(fcases)} flag cases")


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
    make_corpus(toks, loaded)
    return info


if __name__ == "__main__":
    main()
