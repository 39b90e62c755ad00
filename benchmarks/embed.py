"""Embedding backends side by side: texts/s on headlines and ~300-word articles, load time, memory.

    python benchmarks/embed.py                   # every installed backend on CPU
    python benchmarks/embed.py --device cuda     # the transformer on the GPU (says so and exits 0 without one)
    python benchmarks/embed.py --backends static --n 20000

Each backend runs in a child process (clean peak memory). Texts are built from the shared
evaluation sets (googlenews-headlines for headlines, ecbplus articles cut to ~300 words);
without them, from the demo corpus. The cache is bypassed: every text is encoded. Items are read
as the story stage reads them (an article's title and lead, and its title alone where the
backend gives the title a share of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))


def corpus(n_head: int, n_art: int) -> tuple[list[str], list[str]]:
    """Returns (headlines, ~300-word articles), repeated up to the counts asked."""
    heads: list[str] = []
    arts: list[str] = []
    if DATA.is_dir():
        with open(DATA / "googlenews-headlines.jsonl", encoding="utf-8") as fh:
            recs = [json.loads(line) for line in fh]
            heads = [r["title"] or r["text"] or "" for r in recs]
        for name in ("ecbplus", "giveme5w1h"):
            with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
                words: list[str] = []
                for line in fh:  # articles run together and cut into 300-word pieces
                    rec = json.loads(line)
                    words += f"{rec.get('title') or ''}\n{rec.get('text') or ''}".split()
                    while len(words) >= 300:
                        arts.append(" ".join(words[:300]))
                        words = words[300:]
    else:
        from newsdesk import Desk
        from newsdesk.data import demo_path

        with Desk(":memory:", stages=[]) as desk:
            desk.ingest(demo_path())
            items = desk.store.items_by_ids([r["id"] for r in desk.store.search_items('"the"', limit=1000)])
        heads = [it.headline for it in items]
        arts = [" ".join(it.body.split(" ")[:300]) for it in items]
    heads = [h for h in heads if h.strip()]

    def grow(texts: list[str], n: int) -> list[str]:
        # Distinct texts (a counter appended) so that no cache can help.
        return [f"{texts[i % len(texts)]} {i // len(texts)}" if i >= len(texts) else texts[i] for i in range(n)]

    return grow(heads, n_head), grow(arts, n_art)


def child(backend: str, device: str, n_head: int, n_art: int) -> None:
    from newsdesk.nlp import embed

    heads, arts = corpus(n_head, n_art)
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if backend == "static":
        e = embed.load_static()
    elif backend.startswith("onnx"):  # onnx-400: only the first 400 characters (title and lead)
        from newsdesk.nlp.embed_onnx import load_onnx

        if "-" in backend:
            os.environ["NEWSDESK_ONNX_CHARS"] = backend.split("-", 1)[1]
        vocab = embed.static_vocab()
        start = time.perf_counter()
        e = load_onnx(vocab, build=False)
    else:
        e = embed.load_minilm(device)
    load_s = time.perf_counter() - start
    e.encode(heads[:64])  # warm-up (first batch pays one-off costs)
    out = {"backend": backend, "device": e.device, "dim": e.dim, "load_s": load_s}
    # Read as the story stage reads items (encode_items): an article's first ten words are its
    # title, which the static backend also encodes on its own (its title share).
    from newsdesk.model import Item

    def split(text: str) -> Item:
        words = text.split()
        return Item(title=" ".join(words[:10]), text=" ".join(words[10:]), language="en")

    # A bare backend (onnx) is read through the interface the desk wraps it in, with no cache.
    reader = e if hasattr(e, "encode_items") else embed.CachedEmbedder(e, size=0)

    def read(batch: list) -> None:
        reader.encode_items(batch)

    for kind, items in (("headlines", [Item(title=h, language="en") for h in heads]),
                        ("articles", [split(a) for a in arts])):
        start = time.perf_counter()
        for k in range(0, len(items), 1024):
            read(items[k:k + 1024])
        out[kind] = len(items) / (time.perf_counter() - start)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["model_mb"] = out["peak_mb"] - base_mb
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="*", default=["static", "onnx", "onnx-400", "minilm"],
                    help="static, onnx (int8 MiniLM), onnx-N (its first N characters only), minilm")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the transformer on a GPU")
    ap.add_argument("--n", type=int, default=0, help="headlines encoded (default: 20000 static, 2000 the transformers)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return
    backends = list(args.backends)
    if args.device.startswith("cuda"):
        try:
            import torch
        except ImportError:
            print("--device cuda: torch is not installed (the [embed] extra); nothing to measure")
            return
        if not torch.cuda.is_available():
            print("--device cuda: no GPU visible to torch on this machine; nothing to measure")
            return
        print(f"GPU: {torch.cuda.get_device_name(0)}")
        backends = [b for b in backends if b == "minilm"] or ["minilm"]
    print(f"cores available: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f} "
          "(a loaded machine depresses every figure)")
    print(f"{'backend':10} {'device':7} {'dim':>4} {'load s':>7} {'headlines/s':>12} {'articles/s':>11} "
          f"{'peak MB':>8} {'model MB':>9}")
    for b in backends:
        n_head = args.n or (2000 if b != "static" and not args.device.startswith("cuda") else 20000)
        n_art = max(200, n_head // 10)
        res = subprocess.run([sys.executable, __file__, "--child", b, args.device, str(n_head), str(n_art)],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            last = (res.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"{b:10} skipped: {last}")
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"{b:10} {r['device']:7} {r['dim']:>4} {r['load_s']:>7.2f} {r['headlines']:>12,.0f} "
              f"{r['articles']:>11,.0f} {r['peak_mb']:>8.0f} {r['model_mb']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
