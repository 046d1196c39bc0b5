"""Inference pipelines: what the demo tabs call. Each loads its checkpoint once (cached)."""
from .base import CACHE, NotTrainedError, Superseded, check_stop, stop_when

__all__ = ["CACHE", "NotTrainedError", "Superseded", "check_stop", "stop_when"]
