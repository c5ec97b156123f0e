"""Shared helpers for the reference-fixture generators (dev-only; needs torch)."""
import json
import os
import random

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(REPO, "tests", "fixtures")


def seed_all(seed):
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # fixed reduction order: bit-identical reruns


def save_st(path, tensors):
    """Write a safetensors file with {"format":"pt"} metadata.

    Tensors are made contiguous; float64 tensors are stored as F32 (the
    references are computed in float64 and stored as float32)."""
    import torch
    from safetensors.torch import save_file
    out = {}
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            v = torch.tensor(v)
        if v.dtype == torch.float64:
            v = v.to(torch.float32)
        out[k] = v.detach().contiguous().clone()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(out, path, metadata={"format": "pt"})


def write_json(path, obj, ensure_ascii=False, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=ensure_ascii, indent=indent)
        f.write("\n")
