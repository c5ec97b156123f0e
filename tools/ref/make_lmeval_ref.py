"""Reference for wip/lmeval.h (section 8c): zero-shot task scoring as lm-evaluation-harness does it.

    pip install lm-eval accelerate        # dev-only, beside tools/ref/requirements.txt
    python3 tools/ref/make_lmeval_ref.py  # writes tests/fixtures/lmeval/

Writes tiny task files (made-up documents from lmeval_items.py, public domain) in the field
layouts of the Hugging Face datasets the harness reads (formats.md §6.2):

    hellaswag.jsonl  piqa.jsonl  arc_easy.jsonl  winogrande.jsonl  lambada_openai.jsonl

and ref.json with what lm-evaluation-harness itself computes on tests/fixtures/tiny-llama
(random weights, float32, CPU, batch size 1): per document every choice's log-likelihood and
greedy flag, the task metrics (acc, acc_norm, their standard errors; lambada perplexity and
acc). The harness runs for real: `lm_eval.simple_evaluate` with model "hf" on the local model
folder and tasks that are the harness's own YAML configs (doc_to_text, doc_to_choice,
process_docs, ...) with only the dataset source replaced by the local jsonl files. No network.

Beside it the script re-implements the harness's request construction and scoring
(TemplateLM._encode_pair, the empty-context prefix token, has_bos_prefix, left truncation,
log-softmax sum and greedy check) on plain transformers and asserts that it reproduces every
harness number (the same float32 computation: differences are 0 or a few ulp). The
re-implementation supplies the token ids stored with each request (the harness does not log
them), so a C test can check its tokenization separately from its scores.

"requests" in ref.json are single (context, continuation) pairs scored with the harness's
HFLM.loglikelihood directly, for the corners the task files do not reach: empty context
(prefix token; also a continuation that starts with it), trailing whitespace of every kind
Python's str.rstrip() removes (moved to the continuation), a whitespace-only context, a context
starting with the BOS text, a continuation that is the model's greedy output, left truncation
(max_length 16), the older "no BOS" convention (add_bos_token=False), and a Qwen2-style model
without BOS (tiny-qwen2: the prefix is EOS).

Every choice whose argmax decides acc or acc_norm wins by more than 1e-3 (nats, or nats per
character), and every continuation token that decides a greedy flag is ahead of or behind the
argmax by more than 1e-3 in log-probability, so a float32 C implementation that agrees to ~1e-5
reproduces every metric exactly. The script asserts this.
"""
import json
import math
import os
import re
import shutil
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIX, write_json  # noqa: E402
import lmeval_items as items  # noqa: E402

OUT = os.path.join(FIX, "lmeval")
LLAMA = os.path.join(FIX, "tiny-llama")
QWEN = os.path.join(FIX, "tiny-qwen2")
MARGIN = 1e-3

TASKS = ["hellaswag", "piqa", "arc_easy", "winogrande", "lambada_openai"]


# ---------------------------------------------------------------------------------------------
# documents

def rotate(endings, gold):
    """The lists in lmeval_items put the right answer first; move it to index gold."""
    rest = list(endings[1:])
    return rest[:gold] + [endings[0]] + rest[gold:]


def build_docs(greedy_lambada):
    hs = []
    for d, g in zip(items.HELLASWAG, items.HELLASWAG_GOLD):
        d = dict(d)
        d["endings"] = rotate(d["endings"], g)
        d["label"] = str(g)
        d["ctx"] = d["ctx_a"] + " " + d["ctx_b"]  # as in the dataset (lm-eval does not read it)
        hs.append({k: d[k] for k in ["ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings",
                                     "source_id", "split", "split_type", "label"]})
    lam = [{"text": t} for t in items.LAMBADA] + [{"text": greedy_lambada}]
    return {
        "hellaswag": hs,
        "piqa": [dict(d) for d in items.PIQA],
        "arc_easy": [dict(d) for d in items.ARC_EASY],
        "winogrande": [dict(d) for d in items.WINOGRANDE],
        "lambada_openai": lam,
    }


def write_jsonl(path, docs):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# an independent re-implementation of the harness's loglikelihood on plain transformers

class Replica:
    def __init__(self, folder, max_length=None, add_bos_token=None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        self.max_length = max_length or self.model.config.max_position_embeddings
        self.add_bos_token = add_bos_token
        t = self.tok
        self.prefix = t.bos_token_id if t.bos_token_id is not None else t.eos_token_id

    def enc(self, s, add_special=None):
        kw = {}
        if add_special is not None:
            kw["add_special_tokens"] = add_special
        elif self.add_bos_token is not None:
            kw["add_special_tokens"] = self.add_bos_token
        if add_special is None and s.startswith(self.tok.decode(self.prefix)):
            kw["add_special_tokens"] = False
        return self.tok.encode(s, **kw)

    def encode_pair(self, context, continuation):
        if context == "":
            cont = self.enc(continuation, add_special=False)
            if cont[0] == self.prefix:
                return cont[:1], cont[1:]
            return [self.prefix], cont
        n = len(context) - len(context.rstrip())
        if n:
            continuation = context[-n:] + continuation
            context = context[:-n]
        whole = self.enc(context + continuation)
        ctx = self.enc(context)
        return ctx, whole[len(ctx):]

    def score(self, ctx, cont):
        """(ll, is_greedy, greedy margin): margin = min over continuation positions of
        |logp(cont token) - logp(best other token)| (how far each greedy decision is from flipping)."""
        torch = self.torch
        assert ctx and cont and len(cont) <= self.max_length
        inp = (ctx + cont)[-(self.max_length + 1):][:-1]
        with torch.no_grad():
            logits = self.model(torch.tensor([inp])).logits[0]
        lp = torch.log_softmax(logits, dim=-1)[-len(cont):]
        tgt = torch.tensor(cont)
        ll = float(lp.gather(1, tgt[:, None]).sum())
        greedy = bool((lp.argmax(-1) == tgt).all())
        margin = math.inf
        for i, t in enumerate(cont):
            row = lp[i].clone()
            mine = float(row[t])
            row[t] = -math.inf
            margin = min(margin, abs(mine - float(row.max())))
        return ll, greedy, margin


# ---------------------------------------------------------------------------------------------
# the harness's task definitions, re-expressed (for the replica and the token ids)

def hs_pre(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def requests_of(task, doc):
    """[(context, continuation)], gold, [choice strings for acc_norm]"""
    if task == "hellaswag":
        ctx = hs_pre(doc["activity_label"] + ": " + doc["ctx_a"] + " " + doc["ctx_b"].capitalize())
        ch = [hs_pre(e) for e in doc["endings"]]
        return [(ctx, " " + c) for c in ch], int(doc["label"]), ch
    if task == "piqa":
        ch = [doc["sol1"], doc["sol2"]]
        return [("Question: " + doc["goal"] + "\nAnswer:", " " + c) for c in ch], doc["label"], ch
    if task == "arc_easy":
        ch = doc["choices"]["text"]
        ctx = "Question: " + doc["question"] + "\nAnswer:"
        return [(ctx, " " + c) for c in ch], doc["choices"]["label"].index(doc["answerKey"]), ch
    if task == "winogrande":
        s = doc["sentence"]
        i = s.index("_")
        ch = [s[:i] + doc["option1"], s[:i] + doc["option2"]]
        return [(c, " " + s[i + 1:].strip()) for c in ch], {"1": 0, "2": 1}[doc["answer"]], ch
    if task == "lambada_openai":
        w = doc["text"].split(" ")
        return [(" ".join(w[:-1]), " " + w[-1])], 0, None
    raise ValueError(task)


def argmax(xs):
    best = 0
    for i, x in enumerate(xs):
        if x > xs[best]:
            best = i
    return best


def gap(xs, k):
    """how far xs[k] (the argmax) is ahead of the rest"""
    return min([xs[k] - x for i, x in enumerate(xs) if i != k] or [math.inf])


# ---------------------------------------------------------------------------------------------
# running the harness itself

def harness_tasks_dir(tmp, data):
    """Task YAMLs = the harness's own configs with the dataset source replaced by local jsonl."""
    import yaml
    import lm_eval
    tdir = os.path.join(os.path.dirname(lm_eval.__file__), "tasks")
    src = {
        "hellaswag": ("hellaswag/hellaswag.yaml", "validation", ["hellaswag/utils.py"]),
        "piqa": ("piqa/piqa.yaml", "validation", []),
        "arc_easy": ("arc/arc_easy.yaml", "test", []),
        "winogrande": ("winogrande/default.yaml", "validation", ["winogrande/preprocess_winogrande.py"]),
        "lambada_openai": ("lambada/lambada_openai.yaml", "test", []),
    }
    os.makedirs(tmp, exist_ok=True)
    names = {}
    for task, (yml, split, extra) in src.items():
        with open(os.path.join(tdir, yml)) as f:
            text = f.read()
        for e in extra:
            shutil.copy(os.path.join(tdir, e), tmp)
        # keep the config verbatim ("!function" tags included) but for the dataset source
        # the tag list ("tag:\n  - x") is dropped with its items
        body, skip = [], False
        for ln in text.splitlines():
            if re.match(r"^tag\s*:", ln):
                skip = True
                continue
            if skip and ln.startswith("  - "):
                continue
            skip = False
            if re.match(r"^(task|dataset_path|dataset_name|dataset_kwargs|training_split|"
                        r"validation_split|test_split|fewshot_split|include)\s*:", ln):
                continue
            body.append(ln)
        name = "rl_" + task
        head = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {split: data[task]}},
            "test_split" if split == "test" else "validation_split": split,
        }
        with open(os.path.join(tmp, name + ".yaml"), "w") as f:
            f.write(yaml.safe_dump(head, sort_keys=False))
            f.write("\n".join(body) + "\n")
        names[task] = name
    return names


def run_harness(data, tmp):
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    names = harness_tasks_dir(os.path.join(tmp, "tasks"), data)
    lm = HFLM(pretrained=LLAMA, device="cpu", batch_size=1, dtype="float32")
    tm = TaskManager(include_path=os.path.join(tmp, "tasks"))
    res = lm_eval.simple_evaluate(model=lm, tasks=[names[t] for t in TASKS], num_fewshot=0,
                                  log_samples=True, task_manager=tm, batch_size=1,
                                  random_seed=0, numpy_random_seed=0, torch_random_seed=0,
                                  fewshot_random_seed=0)
    out = {}
    for task in TASKS:
        n = names[task]
        samples = sorted(res["samples"][n], key=lambda s: s["doc_id"])
        docs = []
        for s in samples:
            # resps: one list per request, each [(ll, is_greedy)] (numbers may be logged as strings)
            lls = [float(r[0][0]) for r in s["resps"]]
            greedy = [r[0][1] in (True, "True") for r in s["resps"]]
            args = [tuple(a) if not isinstance(a, dict) else (a["arg_0"], a["arg_1"]) for a in s["arguments"]]
            docs.append({"doc_id": s["doc_id"], "lls": lls, "greedy": greedy, "args": args,
                         "metrics": {k: s[k] for k in ("acc", "acc_norm", "perplexity") if k in s}})
        out[task] = {"docs": docs, "metrics": res["results"][n]}
    return out, lm


# ---------------------------------------------------------------------------------------------

def pick_greedy_lambada(rep):
    """A passage whose last word is the model's greedy prediction (one token ' word')."""
    for c in items.LAMBADA_GREEDY_CANDIDATES:
        ctx = rep.enc(c)
        torch = rep.torch
        with torch.no_grad():
            lp = torch.log_softmax(rep.model(torch.tensor([ctx])).logits[0, -1], -1)
        top2 = torch.topk(lp, 2)
        t = int(top2.indices[0])
        s = rep.tok.decode([t])
        if not re.fullmatch(r" [A-Za-z]{2,}", s) or float(top2.values[0] - top2.values[1]) < MARGIN:
            continue
        if rep.enc(c + s) != ctx + [t]:
            continue
        return c + s
    raise SystemExit("no candidate passage has a one-token greedy last word; add candidates")


def main():
    import torch
    import lm_eval
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)

    rep = Replica(LLAMA)
    docs = build_docs(pick_greedy_lambada(rep))
    data = {}
    for t in TASKS:
        data[t] = os.path.join(OUT, t + ".jsonl")
        write_jsonl(data[t], docs[t])

    tmp = tempfile.mkdtemp(prefix="rl_lmeval_")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "cache")
    harness, _ = run_harness(data, tmp)

    ref = {
        "about": "tools/ref/make_lmeval_ref.py: lm-evaluation-harness %s (HFLM, float32, CPU, batch 1) on "
                 "tests/fixtures/tiny-llama; requests are (context, continuation) pairs scored by HFLM.loglikelihood"
                 % getattr(lm_eval, "__version__", "?"),
        "model": "tiny-llama",
        "add_bos": -1,
        "max_length": rep.max_length,
        "tasks": {},
        "requests": [],
    }
    worst = 0.0
    for task in TASKS:
        h = harness[task]
        assert len(h["docs"]) == len(docs[task]), task
        tdocs, accs, norms, lls_all, greedy_all = [], [], [], [], []
        for i, (doc, hd) in enumerate(zip(docs[task], h["docs"])):
            assert hd["doc_id"] == i
            reqs, gold, ch = requests_of(task, doc)
            assert [tuple(a) for a in hd["args"]] == reqs, (task, i, hd["args"], reqs)
            ctx_ids, cont_ids = [], []
            for k, (c, x) in enumerate(reqs):
                ci, xi = rep.encode_pair(c, x)
                ll, g, margin = rep.score(ci, xi)
                worst = max(worst, abs(ll - hd["lls"][k]))
                assert abs(ll - hd["lls"][k]) <= 1e-5 * max(1, abs(ll)), (task, i, k, ll, hd["lls"][k])
                assert g == hd["greedy"][k], (task, i, k)
                assert margin > MARGIN, ("greedy decision too close", task, i, k, margin)
                ctx_ids.append(ci)
                cont_ids.append(xi)
            lls = hd["lls"]
            entry = {"line": i + 1, "requests": [list(r) for r in reqs], "gold": gold, "lls": lls, "is_greedy": hd["greedy"],
                     "n_tokens": [len(x) for x in cont_ids], "ctx_ids": ctx_ids, "cont_ids": cont_ids}
            if task == "lambada_openai":
                entry["acc"] = int(hd["greedy"][0])
                assert hd["metrics"]["acc"] == entry["acc"]
                assert abs(hd["metrics"]["perplexity"] - lls[0]) < 1e-9
                greedy_all.append(entry["acc"])
                lls_all.append(lls[0])
            else:
                clen = [float(len(c)) for c in ch]
                norm = [l / n for l, n in zip(lls, clen)]
                p, pn = argmax(lls), argmax(norm)
                assert gap(lls, p) > MARGIN and gap(norm, pn) > MARGIN, ("near tie", task, i)
                entry.update({"pred": p, "pred_norm": pn, "acc": int(p == gold), "acc_norm": int(pn == gold),
                              "choice_chars": [len(c) for c in ch],
                              "choice_bytes": [len(c.encode("utf-8")) for c in ch]})
                if "acc_norm" in hd["metrics"]:
                    assert hd["metrics"]["acc_norm"] == entry["acc_norm"], (task, i)
                assert hd["metrics"]["acc"] == entry["acc"], (task, i)
                accs.append(entry["acc"])
                norms.append(entry["acc_norm"])
            tdocs.append(entry)
        m = h["metrics"]
        out = {"file": task + ".jsonl", "n": len(tdocs), "docs": tdocs}
        if task == "lambada_openai":
            out["acc"] = m["acc,none"]
            out["acc_stderr"] = m["acc_stderr,none"]
            out["perplexity"] = m["perplexity,none"]
            assert abs(out["perplexity"] - math.exp(-sum(lls_all) / len(lls_all))) < 1e-9 * out["perplexity"]
            assert abs(out["acc"] - sum(greedy_all) / len(greedy_all)) < 1e-12
            assert 0 < out["acc"] < 1, "want greedy hits and misses"
        else:
            out["acc"] = m["acc,none"]
            out["acc_stderr"] = m["acc_stderr,none"]
            assert abs(out["acc"] - sum(accs) / len(accs)) < 1e-12
            if "acc_norm,none" in m:
                out["acc_norm"] = m["acc_norm,none"]
                out["acc_norm_stderr"] = m["acc_norm_stderr,none"]
            else:  # winogrande reports acc only; acc_norm as the harness computes it per document
                out["acc_norm"] = sum(norms) / len(norms)
        ref["tasks"][task] = out

    # single requests through HFLM.loglikelihood
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM
    greedy_ctx = "The teacher wrote the answer on the board and asked"
    ids = rep.enc(greedy_ctx)
    with torch.no_grad():
        gen = rep.model.generate(torch.tensor([ids]), max_new_tokens=3, do_sample=False)[0, len(ids):].tolist()
    greedy_cont = rep.tok.decode(gen)
    assert rep.encode_pair(greedy_ctx, greedy_cont)[1] == gen, "greedy continuation does not re-tokenize"
    long_ctx = ("A quiet street at the edge of town had six houses, a bakery, a small library, and a park "
                "with a pond where ducks waited for bread every morning and")
    cases = [
        # (model folder, name, HFLM kwargs, replica kwargs, [(context, continuation)])
        (LLAMA, "tiny-llama", {}, {}, [
            ("The cat sat on", " the mat."),
            ("", "Hello world, this is a test."),
            ("", "<|begin_of_text|>Hello world"),
            ("Question: Where do fish live?\nAnswer:", " In the water."),
            ("The weather today is ", "sunny and warm."),
            ("Line one ends here.\n", "Line two starts here."),
            ("Tabs and spaces \t \n", "then text"),
            ("Caf\u00e9 prices rise\u00a0", "again this year."),
            ("Wide space\u3000", "after it."),
            ("Odd separators\x1c\x1f\u0085\u2028", "follow."),
            (" ", "Only a space before this."),
            ("<|begin_of_text|>Already has BOS,", " so no second one."),
            ("na\u00efve r\u00e9sum\u00e9 \u2014 ", "\u201cquoted\u201d text \U0001F600."),
            (greedy_ctx, greedy_cont),
        ]),
        (LLAMA, "tiny-llama", {"max_length": 16}, {"max_length": 16}, [
            (long_ctx, " quacked loudly."),
            ("Short context,", " short answer."),
            ("", "An empty context here"),
        ]),
        (LLAMA, "tiny-llama", {"add_bos_token": False}, {"add_bos_token": False}, [
            ("The cat sat on", " the mat."),
            ("", "Hello world, this is a test."),
            ("<|begin_of_text|>Text with BOS,", " and more."),
        ]),
        (QWEN, "tiny-qwen2", {}, {}, [
            ("The cat sat on", " the mat."),
            ("", "Hello world, this is a test."),
            ("", "<|endoftext|>After the prefix token."),
            ("Trailing space ", "moves."),
        ]),
    ]
    for folder, name, hk, rk, pairs in cases:
        hl = HFLM(pretrained=folder, device="cpu", batch_size=1, dtype="float32", **hk)
        r2 = rep if (folder == LLAMA and not rk) else Replica(folder, **rk)
        got = hl.loglikelihood([Instance(request_type="loglikelihood", doc={}, arguments=p, idx=0) for p in pairs],
                               disable_tqdm=True)
        for (c, x), (ll, g) in zip(pairs, got):
            ci, xi = r2.encode_pair(c, x)
            ll2, g2, margin = r2.score(ci, xi)
            worst = max(worst, abs(ll - ll2))
            assert abs(ll - ll2) <= 1e-5 * max(1, abs(ll)) and g == g2, (name, c, x, ll, ll2)
            assert margin > MARGIN, ("greedy decision too close", name, c, x, margin)
            ref["requests"].append({
                "model": name, "add_bos": -1 if hk.get("add_bos_token") is None else int(hk["add_bos_token"]),
                "max_length": r2.max_length, "context": c, "continuation": x,
                "ctx_ids": ci, "cont_ids": xi, "ll": ll, "is_greedy": bool(g)})
    assert any(r["is_greedy"] for r in ref["requests"]), "want a greedy request"
    flips = [(t, d["line"]) for t in TASKS for d in ref["tasks"][t]["docs"] if "choice_bytes" in d
             and argmax([l / b for l, b in zip(d["lls"], d["choice_bytes"])]) != d["pred_norm"]]
    assert flips, "want a document where dividing by bytes instead of characters changes acc_norm"
    assert any(len(r["ctx_ids"]) + len(r["cont_ids"]) > r["max_length"] + 1 for r in ref["requests"]), "want truncation"
    assert any(len(d["ctx_ids"][0]) + len(d["cont_ids"][0]) > ref["max_length"] + 1
               for d in ref["tasks"]["lambada_openai"]["docs"]), "want a truncated lambada passage"
    shutil.rmtree(tmp, ignore_errors=True)

    write_json(os.path.join(OUT, "ref.json"), ref, ensure_ascii=True, indent=None)
    print("replica vs harness: largest |ll difference| %.3g" % worst)
    for t in TASKS:
        o = ref["tasks"][t]
        print("%-15s n %2d  acc %.4f  acc_norm %s  ppl %s" % (
            t, o["n"], o["acc"], "%.4f" % o["acc_norm"] if "acc_norm" in o else "-",
            "%.4f" % o["perplexity"] if "perplexity" in o else "-"))
    for f in sorted(os.listdir(OUT)):
        print("%8d  tests/fixtures/lmeval/%s" % (os.path.getsize(os.path.join(OUT, f)), f))


if __name__ == "__main__":
    main()
