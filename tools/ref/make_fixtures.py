"""Regenerate every reference fixture under tests/fixtures/ (dev-only; needs torch,
transformers, tokenizers, safetensors, numpy; no network).

    python3 tools/ref/make_fixtures.py            # regenerate, print files and sizes
    python3 tools/ref/make_fixtures.py --verify   # regenerate and fail if any byte changed

Order matters: the tokenizers come first (the models copy them and size their vocab from them),
and the training-step references last (their students copy tiny-qwen2).
See tools/ref/README.md for what each fixture holds.
"""
import hashlib
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX  # noqa: E402

OWNED = ["tok", "tiny-qwen2", "tiny-qwen2-bf16", "tiny-llama", "tiny-llama-sharded", "mixers", "train"]


def listing():
    out = {}
    for d in OWNED:
        root = os.path.join(FIX, d)
        for dp, _, fs in os.walk(root):
            for f in fs:
                p = os.path.join(dp, f)
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, FIX)] = (os.path.getsize(p), hashlib.sha256(fh.read()).hexdigest())
    return out


def main():
    verify = "--verify" in sys.argv[1:]
    before = listing() if verify else None

    import make_tokenizers
    import make_models
    import make_mixers
    import make_train_ref
    make_tokenizers.main()
    make_models.main()
    make_mixers.main()
    make_train_ref.main()  # after make_models: the students copy tiny-qwen2

    after = listing()
    for rel in after:  # git keeps only the x bit, but keep the working tree tidy
        os.chmod(os.path.join(FIX, rel), 0o644)
    total = 0
    for rel, (size, digest) in sorted(after.items()):
        total += size
        print(f"{size:9d}  {digest[:16]}  tests/fixtures/{rel}")
    print(f"{total:9d}  total ({len(after)} files)")
    if verify:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            print("CHANGED:\n  " + "\n  ".join(changed))
            sys.exit(1)
        print("verify: all fixtures byte-identical")


if __name__ == "__main__":
    main()
