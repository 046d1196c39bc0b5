"""Plain `nn.Module` networks, each built from a frozen dataclass config (no I/O, no devices)."""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from torch import nn

from .classifier import AttributeNet, AttributeNetConfig
from .colorization import ColorizationNet, ColorizationNetConfig
from .dcgan import DCGANDiscriminator, DCGANDiscriminatorConfig, DCGANGenerator, DCGANGeneratorConfig
from .encoder import FaceEncoder, FaceEncoderConfig, LatentGaussian, LatentGaussianConfig
from .face_text import FaceTextNet, FaceTextNetConfig
from .inpainting import InpaintingNet, InpaintingNetConfig
from .patchgan import PatchGANConfig, PatchGANDiscriminator
from .resnet import ResnetConfig, ResnetGenerator
from .unet import UNetConfig, UNetGenerator

# Net kind -> (config class, module class). Checkpoints name their kind; this table rebuilds it.
NET_KINDS: dict[str, tuple[type, type[nn.Module]]] = {
    "unet": (UNetConfig, UNetGenerator),
    "patchgan": (PatchGANConfig, PatchGANDiscriminator),
    "resnet": (ResnetConfig, ResnetGenerator),
    "dcgan_g": (DCGANGeneratorConfig, DCGANGenerator),
    "dcgan_d": (DCGANDiscriminatorConfig, DCGANDiscriminator),
    "attributes": (AttributeNetConfig, AttributeNet),
    "colorization": (ColorizationNetConfig, ColorizationNet),
    "inpainting": (InpaintingNetConfig, InpaintingNet),
    "face_encoder": (FaceEncoderConfig, FaceEncoder),
    "latent_gaussian": (LatentGaussianConfig, LatentGaussian),
    "face_text": (FaceTextNetConfig, FaceTextNet),
}


def kind_of(config: Any) -> str:
    for kind, (cfg_cls, _) in NET_KINDS.items():
        if type(config) is cfg_cls:
            return kind
    raise TypeError(f"no net kind for config type {type(config).__name__}")


def config_to_dict(config: Any) -> dict[str, Any]:
    return {"kind": kind_of(config), **asdict(config)}


def config_from_dict(data: dict[str, Any]) -> Any:
    """Rebuild a net config; unknown kinds or keys raise ValueError (no silent drift)."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in NET_KINDS:
        raise ValueError(f"unknown net kind {kind!r}; known: {sorted(NET_KINDS)}")
    cfg_cls = NET_KINDS[kind][0]
    known = {f.name for f in fields(cfg_cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {kind} config keys: {unknown}")
    return cfg_cls(**data)


def build_net(config: Any) -> nn.Module:
    return NET_KINDS[kind_of(config)][1](config)


__all__ = [
    "AttributeNet", "AttributeNetConfig", "ColorizationNet", "ColorizationNetConfig", "DCGANDiscriminator", "DCGANDiscriminatorConfig", "DCGANGenerator",
    "DCGANGeneratorConfig", "NET_KINDS", "PatchGANConfig", "PatchGANDiscriminator", "ResnetConfig", "ResnetGenerator", "UNetConfig",
    "UNetGenerator",
    "InpaintingNet", "InpaintingNetConfig", "FaceEncoder", "FaceEncoderConfig", "LatentGaussian", "LatentGaussianConfig",
    "FaceTextNet", "FaceTextNetConfig",
    "build_net", "config_from_dict", "config_to_dict", "kind_of",
]
