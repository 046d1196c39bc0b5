"""Inference pipelines: what the demo tabs call. Each loads its checkpoint once (cached)."""
from .base import CACHE, NotTrainedError

__all__ = ["CACHE", "NotTrainedError"]
