"""Generate the compact Unicode tables of the tokenizer (dev-only; `make test` never runs it).

    pip install unicodedata2==16.0.0 tokenizers==0.23.3
    python3 tools/gen_unicode.py            # rewrite the generated block in place
    python3 tools/gen_unicode.py --check    # exit 1 if the block would change

Two blocks are generated, each between its marker lines in radlads.h:
    /* ---- BEGIN GENERATED UNICODE PROPERTIES (tools/gen_unicode.py) ---- */  (the property bits)
    /* ---- BEGIN GENERATED UNICODE TABLES (tools/gen_unicode.py) ---- */      (the tables)
each closed by its "END GENERATED ..." line.

What the tables must reproduce is Hugging Face `tokenizers` 0.23.3, which mixes Unicode versions:

  * the pre-tokenizer regexes run on Oniguruma (onig_sys 69.9 = Oniguruma 6.9.10, Unicode
    16.0): `\\p{L}` = general category L*, `\\p{N}` = N*, `\\s` = White_Space. Taken from
    unicodedata2 16.0.0 (Python's own unicodedata is older: 14.0 in Python 3.11).
  * the `NFC` normalizer is the crate unicode-normalization-alignments 0.1.12, whose tables are
    Unicode 9.0. Canonical decompositions and combining classes never change once assigned
    (Unicode stability policy), so Unicode 9.0 data = the 16.0 data restricted to the code
    points that 9.0 had. That restriction is read off HF itself: a 16.0 decomposition that HF's
    NFD leaves alone, or a combining class that HF's NFD does not reorder by, is dropped.
  * `Digits` uses Rust's `char::is_numeric` and added tokens with `single_word` use the regex
    crate's `\\w`, both from the Rust toolchain HF was built with (Unicode 16/17); those two sets
    are read off HF directly (Digits pre-tokenizer / a single_word added token on every code
    point) and printed against the Unicode 16.0 definitions they extend.

Every table is then checked against HF: each regex class on every code point, NFC on every
code point and on random strings of combining marks, Hangul jamo and composable letters
(through a Python port of the C algorithm that reads nothing but the generated tables).
"""
import os
import random
import re
import sys

try:
    import unicodedata2 as ud
except ImportError:
    sys.exit("gen_unicode.py needs unicodedata2 16.0.0: pip install unicodedata2==16.0.0")
from tokenizers import AddedToken, Regex, Tokenizer, normalizers, pre_tokenizers
import tokenizers

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# two generated blocks: the property bits (near the top of the tokenizer section, where the code
# that tests them reads them) and the tables (last in the section)
BLOCKS = [("/* ---- BEGIN GENERATED UNICODE PROPERTIES (tools/gen_unicode.py) ---- */",
           "/* ---- END GENERATED UNICODE PROPERTIES ---- */"),
          ("/* ---- BEGIN GENERATED UNICODE TABLES (tools/gen_unicode.py) ---- */",
           "/* ---- END GENERATED UNICODE TABLES ---- */")]
UCD_VERSION = "16.0.0"
HF_VERSION = "0.23.3"

CPS = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
ALL = "".join(chr(c) for c in CPS)
WHITE_SPACE = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680] + list(range(0x2000, 0x200B)) + \
              [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7


def hf_matched(pattern):
    """Code points matched by an HF (Oniguruma) regex, one code point at a time."""
    sp = pre_tokenizers.Split(Regex(pattern), behavior="removed")
    keep = set()
    for piece, _ in sp.pre_tokenize_str(ALL):
        keep.update(map(ord, piece))
    return set(CPS) - keep


def hf_numeric():
    """Rust char::is_numeric as HF's Digits pre-tokenizer sees it."""
    d = pre_tokenizers.Digits(individual_digits=True)
    out = set()
    for piece, _ in d.pre_tokenize_str(ALL):
        if len(piece) == 1:
            out.add(ord(piece))
    # a piece of one non-numeric char between two numerics would also have length 1: re-check
    return {c for c in out if len(d.pre_tokenize_str("a" + chr(c) + "a")) == 3}


def hf_word():
    """The regex crate's \\w as HF's single_word check sees it (ends_with_word)."""
    tok = Tokenizer.from_str('{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,'
                             '"post_processor":null,"decoder":null,"model":{"type":"BPE","vocab":{"Q":0},'
                             '"merges":[]}}')
    tok.add_tokens([AddedToken("QZQ", single_word=True, normalized=False)])
    qid = tok.token_to_id("QZQ")
    out = set()
    for i in range(0, len(CPS), 50000):
        chunk = CPS[i:i + 50000]
        for c, e in zip(chunk, tok.encode_batch([chr(c) + "QZQ" for c in chunk], add_special_tokens=False)):
            if qid not in e.ids:
                out.add(c)
    return out


def canon_decomp(c):
    d = ud.decomposition(chr(c))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def build():
    assert ud.unidata_version == UCD_VERSION, f"need unicodedata2 {UCD_VERSION}, have {ud.unidata_version}"
    if tokenizers.__version__ != HF_VERSION:
        print(f"warning: tokenizers {tokenizers.__version__} (tables were made against {HF_VERSION})")
    cat = {c: ud.category(chr(c)) for c in CPS}
    L = {c for c in CPS if cat[c][0] == "L"}
    N = {c for c in CPS if cat[c][0] == "N"}
    S = set(WHITE_SPACE)
    assert not (L & N) and not (L & S) and not (N & S)
    # the regex classes must be exactly Oniguruma's
    for name, mine, pat in (("L", L, r"\p{L}"), ("N", N, r"\p{N}"), ("s", S, r"\s")):
        hf = hf_matched(pat)
        assert hf == mine, f"\\{name}: HF differs on {sorted(hf ^ mine)[:10]}"
    D = hf_numeric()
    W = hf_word()
    print(f"is_numeric: {len(D)} code points, beyond \\p{{N}}: {[hex(c) for c in sorted(D - N)]}, "
          f"missing: {[hex(c) for c in sorted(N - D)]}")
    w16 = {c for c in CPS if cat[c][0] in "LM" or cat[c] in ("Nd", "Nl", "Pc")} | {0x200C, 0x200D}
    print(f"\\w: {len(W)} code points = L, M, Nd, Nl, Pc, ZWNJ/ZWJ ({len(w16)}) + {len(W - w16)} more "
          f"(Other_Alphabetic symbols), minus {len(w16 - W)}")

    # ---- NFC data as HF has it (Unicode 9.0) ----
    nfd = normalizers.NFD()
    nfc = normalizers.NFC()
    decomp = {}
    for c in CPS:
        if S_BASE <= c < S_BASE + 11172:
            continue  # Hangul syllables: algorithmic
        d = canon_decomp(c)
        if d is None:
            continue
        if nfd.normalize_str(chr(c)) == chr(c):
            continue  # unknown to HF (assigned after Unicode 9.0)
        assert nfd.normalize_str(chr(c)) == ud.normalize("NFD", chr(c)), hex(c)
        decomp[c] = d
    ccc = {}
    for c in CPS:
        k = ud.combining(chr(c))
        if not k:
            continue
        if c in decomp:  # known to HF (its own class never matters: NFD replaces it)
            ccc[c] = k
            continue
        # Known to HF iff its NFD reorders c against a mark of another class.
        if k < 240:  # U+0345 has class 240
            known = nfd.normalize_str("a\u0345" + chr(c)) == "a" + chr(c) + "\u0345"
        else:        # U+0301 has class 230
            known = nfd.normalize_str("a" + chr(c) + "\u0301") == "a\u0301" + chr(c)
        if known:
            ccc[c] = k
    excluded = {c for c in decomp if nfc.normalize_str(chr(c)) != chr(c)}
    pairs = {}
    for c, d in decomp.items():
        if c in excluded:
            continue
        assert len(d) == 2, hex(c)
        assert nfc.normalize_str(nfd.normalize_str(chr(c))) == chr(c), hex(c)
        pairs[(d[0], d[1])] = c
    trail = {b for (_, b) in pairs}
    nfc_flag = set(ccc) | excluded | trail | set(range(V_BASE, V_BASE + 21)) | set(range(T_BASE + 1, T_BASE + 28))
    # the C code skips everything below U+0300 (lead bytes < 0xCC) without a lookup
    assert min(nfc_flag) >= 0x300 and min(ccc) >= 0x300 and min(decomp) >= 0xC0
    n16 = sum(1 for c in CPS if canon_decomp(c) and not S_BASE <= c < S_BASE + 11172)
    c16 = sum(1 for c in CPS if ud.combining(chr(c)))
    print(f"NFC (HF, Unicode 9.0): {len(decomp)} canonical decompositions (16.0 has {n16}), "
          f"{len(ccc)} non-zero combining classes (16.0: {c16}), {len(pairs)} primary composites, "
          f"{len(excluded)} excluded; {len(nfc_flag)} code points need the slow path")
    return dict(L=L, N=N, S=S, D=D, W=W, decomp=decomp, ccc=ccc, excluded=excluded, pairs=pairs,
                nfc_flag=nfc_flag)


def props_of(t, c):
    v = 1 if c in t["L"] else 2 if c in t["N"] else 3 if c in t["S"] else 0
    if c in t["D"]:
        v |= 4
    if c in t["W"]:
        v |= 8
    if c in t["nfc_flag"]:
        v |= 16
    return v


def runs(f):
    out, prev = [], None
    for c in range(0x110000):
        v = f(c)
        if v != prev:
            out.append((c, v))
            prev = v
    return out


def tables(t):
    props = runs(lambda c: 0 if 0xD800 <= c < 0xE000 else props_of(t, c))
    ccc = runs(lambda c: t["ccc"].get(c, 0))
    dec = sorted(t["decomp"].items())
    idx = {c: i for i, (c, _) in enumerate(dec)}
    comp = sorted(t["pairs"].items())
    assert len(dec) < 65536
    return props, ccc, dec, [idx[c] for _, c in comp]


def fmt_list(ctype, name, vals, per_line, comment, width=1):
    lines = [f"/* {comment} */", f"static const {ctype} {name}[{len(vals) * width}] = {{"]
    for i in range(0, len(vals), per_line):
        lines.append("    " + ",".join(vals[i:i + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def render(t):
    props, ccc, dec, comp = tables(t)
    ascii_props = [props_of(t, c) for c in range(128)]
    head = [BLOCKS[0][0],
           f"/* Unicode data for the tokenizer, generated by tools/gen_unicode.py from unicodedata2 "
           f"{UCD_VERSION}\n"
           f"   (Unicode {UCD_VERSION}) and checked against Hugging Face tokenizers {HF_VERSION}"
           f" code point by code point.\n"
           f"   Regex classes \\p{{L}} \\p{{N}} \\s: Unicode 16.0 (Oniguruma 6.9.10). NFC: Unicode 9.0 (HF's\n"
           f"   unicode-normalization-alignments 0.1.12) = 16.0 data restricted to what 9.0 had.\n"
           f"   Digits (is_numeric) and single_word (\\w): as Rust in HF's build. Do not edit by hand. */",
           "#define RL__UNICODE_VERSION \"16.0.0 (classes), 9.0.0 (NFC, as HF tokenizers)\"",
           "/* property bits of a code point */",
           "#define RL__U_CLASS 3u   /* 0 other, 1 \\p{L}, 2 \\p{N}, 3 \\s (White_Space) */",
           "#define RL__U_NUM 4u     /* Rust char::is_numeric (HF Digits pre-tokenizer) */",
           "#define RL__U_WORD 8u    /* regex-crate \\w (HF single_word added tokens) */",
           "#define RL__U_NFC 16u    /* NFC must look closer: ccc != 0 or NFC_Quick_Check != Yes */",
           BLOCKS[0][1]]
    out = [BLOCKS[1][0],
           fmt_list("unsigned char", "rl__uprops_ascii", [str(v) for v in ascii_props], 32,
                    "properties of U+0000..U+007F"),
           fmt_list("uint32_t", "rl__uprops", [f"0x{c << 8 | v:x}" for c, v in props], 10,
                    "runs: start << 8 | property bits, sorted; a run lasts until the next start"),
           fmt_list("uint32_t", "rl__uccc", [f"0x{c << 8 | v:x}" for c, v in ccc], 10,
                    "canonical combining class runs: start << 8 | ccc"),
           fmt_list("uint32_t", "rl__udecomp",
                    [f"0x{c | (1 << 31 if c in t['excluded'] else 0):x},0x{d[0]:x},0x{d[1] if len(d) > 1 else 0:x}"
                     for c, d in dec], 6,
                    "canonical decompositions (one level), sorted: code point | 1<<31 if excluded from "
                    "composition, first, second (0: singleton); Hangul syllables are algorithmic", 3),
           fmt_list("uint16_t", "rl__ucomp", [str(i) for i in comp], 20,
                    "primary composites as indices into rl__udecomp, sorted by (first, second)"),
           BLOCKS[1][1]]
    return ["\n".join(head) + "\n", "\n".join(out) + "\n"], (props, ccc, dec, comp, ascii_props)


# ---- a Python port of the C lookups and NFC, reading only the generated tables ----

def check_port(t, tabs):
    props, ccc_runs, dec, comp = tabs[:4]
    import bisect
    pstarts = [c for c, _ in props]
    cstarts = [c for c, _ in ccc_runs]
    dmap = {c: (d, c in t["excluded"]) for c, d in dec}
    cmap = {(dec[i][1][0], dec[i][1][1]): dec[i][0] for i in comp}

    def prop(c):
        return props[bisect.bisect_right(pstarts, c) - 1][1]

    def cc(c):
        return ccc_runs[bisect.bisect_right(cstarts, c) - 1][1]

    def decompose(c, out):
        if S_BASE <= c < S_BASE + 11172:
            s = c - S_BASE
            out += [L_BASE + s // 588, V_BASE + (s % 588) // 28]
            if s % 28:
                out.append(T_BASE + s % 28)
        elif c in dmap:
            for x in dmap[c][0]:
                decompose(x, out)
        else:
            out.append(c)

    def compose(a, b):
        if L_BASE <= a < L_BASE + 19 and V_BASE <= b < V_BASE + 21:
            return S_BASE + ((a - L_BASE) * 21 + b - V_BASE) * 28
        if S_BASE <= a < S_BASE + 11172 and (a - S_BASE) % 28 == 0 and T_BASE < b < T_BASE + 28:
            return a + b - T_BASE
        return cmap.get((a, b))

    def nfc_port(s):
        cps = [ord(x) for x in s]
        if not any(prop(c) & 16 for c in cps):
            return s
        d = []
        for c in cps:
            decompose(c, d)
        i = 0  # canonical ordering: stable sort of each run of non-starters
        while i < len(d):
            if cc(d[i]) == 0:
                i += 1
                continue
            j = i
            while j < len(d) and cc(d[j]) != 0:
                j += 1
            d[i:j] = sorted(d[i:j], key=cc)
            i = j
        out, starter, last = [], -1, 0
        for c in d:
            k = cc(c)
            if starter >= 0 and (last < k or last == 0):  # not blocked (last == 0: adjacent)
                m = compose(out[starter], c)
                if m is not None:
                    out[starter] = m
                    continue
            if k == 0:
                starter = len(out)
            last = k
            out.append(c)
        return "".join(map(chr, out))

    for c in CPS:
        v = prop(c)
        assert (v & 3) == (1 if c in t["L"] else 2 if c in t["N"] else 3 if c in t["S"] else 0)
    nfc = normalizers.NFC()
    bad = [c for c in CPS if nfc_port(chr(c)) != nfc.normalize_str(chr(c))]
    assert not bad, [hex(c) for c in bad[:10]]
    rnd = random.Random(1234)
    marks = sorted(set(t["ccc"]) | {c for c in CPS if ud.category(chr(c)).startswith("M")})
    firsts = sorted({a for a, _ in t["pairs"]} | set(t["decomp"]))
    pool = marks + firsts + list(range(0x1100, 0x1113)) + list(range(0x1161, 0x1176)) + \
        list(range(0x11A7, 0x11C3)) + [0xAC00, 0xAC01, 0xD7A3, 0x41, 0x61, 0x20]
    n = 0
    for _ in range(300000):
        s = "".join(chr(rnd.choice(pool)) for _ in range(rnd.randint(1, 6)))
        assert nfc_port(s) == nfc.normalize_str(s), [hex(ord(x)) for x in s]
        n += 1
    print(f"checked: classes on all {len(CPS)} code points; NFC on every code point and {n} random strings")


def main():
    t = build()
    texts, tabs = render(t)
    check_port(t, tabs)
    path = os.path.join(REPO, "radlads.h")
    src = open(path, encoding="utf-8").read()
    new = src
    for (begin, end), text in zip(BLOCKS, texts):
        if begin not in new:
            sys.exit(f"radlads.h: no line '{begin}'")
        a = new.index(begin)
        b = new.index(end, a) + len(end) + 1
        new = new[:a] + text + new[b:]
    if "--check" in sys.argv[1:]:
        if new != src:
            sys.exit("radlads.h: generated Unicode tables are out of date (run tools/gen_unicode.py)")
        print("radlads.h: tables up to date")
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(new)
        print(f"radlads.h: wrote {sum(map(len, texts))} bytes of tables ({len(tabs[0])} property runs, "
              f"{len(tabs[1])} ccc runs, {len(tabs[2])} decompositions, {len(tabs[3])} composites)")


if __name__ == "__main__":
    main()
