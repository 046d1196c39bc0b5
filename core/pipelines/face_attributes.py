"""The face attribute classifier (registry model `face_attributes`): judges generated faces for
the vector-arithmetic tab and its eval, and labels the arithmetic pool."""
from __future__ import annotations

from pathlib import Path

import torch

from ..checkpoint import load_checkpoint
from ..device import pick_device
from ..registry import get_spec
from .base import CACHE

# The attributes the classifier is reported on (its eval) and the tabs offer (sliders, map axes).
REPORTED_ATTRIBUTES = ["Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair", "Black_Hair", "Mustache",
                       "Wearing_Hat", "Bald"]


class AttributeClassifier:
    """Our CelebA attribute net: images [N, 3, 64, 64] in [-1, 1] -> probabilities [N, 40]."""

    def __init__(self, net: torch.nn.Module, names: list[str], device: torch.device, meta: dict):
        # channels_last in batches of 64: faster than NCHW on the CPU (docs/RESULTS.md, faces latency)
        self.net = net.to(device).to(memory_format=torch.channels_last).eval()
        self.names, self.device, self.meta = list(names), device, meta

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto") -> "AttributeClassifier":
        nets, meta = load_checkpoint(folder)
        names = meta.get("attributes") or []
        if len(names) != nets["C"].config.num_outputs:
            raise ValueError(f"{folder}/config.json does not name the classifier's {nets['C'].config.num_outputs} "
                             "attributes (meta.attributes)")
        return cls(nets["C"], names, pick_device(device), meta)

    @torch.inference_mode()
    def probabilities(self, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        out = [torch.sigmoid(self.net(x.to(self.device).contiguous(memory_format=torch.channels_last)).float()).cpu()
               for x in images.split(batch_size)]
        return torch.cat(out)

    def shares(self, probs: torch.Tensor, names) -> dict[str, float]:
        """probs [N, A] (from probabilities) -> {name: share of the N faces judged to have it (p > 0.5)}.
        Names the classifier does not know are left out."""
        return {n: round(float((probs[:, self.index(n)] > 0.5).float().mean()), 4) for n in names if n in self.names}

    def index(self, name: str) -> int:
        if name not in self.names:
            raise KeyError(f"the classifier knows no attribute {name!r}")
        return self.names.index(name)


def load(name: str = "face_attributes") -> AttributeClassifier:
    """The shipped classifier, loaded once (reloaded when its checkpoint changes)."""
    return CACHE.get(get_spec(name).checkpoint_dir, AttributeClassifier.from_checkpoint)
