"""Training hyper-parameters: one flat, frozen dataclass with sane bounds (the admin tab edits it)."""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .diffaug import parse_policy

# name -> (min, max) for numeric fields; enforced in __post_init__ so no UI or CLI can pass junk.
BOUNDS: dict[str, tuple[float, float]] = {
    "steps": (1, 10_000_000),
    "batch_size": (1, 1024),
    "image_size": (16, 1024),
    "lr_G": (1e-7, 1e-1),
    "lr_D": (1e-7, 1e-1),
    "beta1": (0.0, 0.999),
    "beta2": (0.0, 0.9999),
    "decay_from": (0.0, 1.0),
    "lambda_L1": (0.0, 1e4),
    "lambda_cycle": (0.0, 1e4),
    "lambda_identity": (0.0, 10.0),
    "ema_decay": (0.0, 0.99999),
    "log_every": (1, 100_000),
    "sample_every": (1, 1_000_000),
    "checkpoint_every": (1, 1_000_000),
    "eval_every": (0, 1_000_000),
    "eval_images": (2, 1000),
    "seed": (0, 2**31 - 1),
    "num_workers": (0, 64),
    "d_warmup": (0, 10_000_000),
    "degrade": (0.0, 1.0),
}


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 8
    image_size: int = 128
    lr_G: float = 2e-4
    lr_D: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_from: float = 0.5  # fraction of steps after which the LR decays linearly to 0
    lambda_L1: float = 100.0  # pix2pix
    lambda_cycle: float = 10.0  # CycleGAN
    lambda_identity: float = 0.5  # CycleGAN: identity weight as a fraction of lambda_cycle
    gan_loss: str = "hinge"  # DCGAN: "hinge" or "bce" (the original non-saturating loss)
    ema_decay: float = 0.999  # DCGAN: exponential moving average of G (shipped); 0 = off
    diffaug: str = ""  # DCGAN: DiffAugment ops for everything D sees, e.g. "color,translation,cutout"
    precision: str = "bf16"  # "bf16" autocast where it is native (AVX-512 BF16/AMX CPUs, recent GPUs), else fp32; or "fp32"
    device: str = "auto"
    log_every: int = 25
    sample_every: int = 500
    checkpoint_every: int = 500
    eval_every: int = 0  # FD_eff on a small fixed set every N steps (0 = never); for the live view
    eval_images: int = 64
    seed: int = 0
    num_workers: int = 0
    data_root: str = ""  # overrides the registry's training folder when set
    init_from: str = ""  # a checkpoint folder whose nets start the run (warm start / fine-tuning)
    d_warmup: int = 0  # DCGAN: the first N steps train D alone (a fresh D meeting a warm-started G)
    degrade: float = 0.0  # attributes: chance of each degradation (shift, blur, colour, noise) per face

    def __post_init__(self) -> None:
        for name, (lo, hi) in BOUNDS.items():
            value = getattr(self, name)
            # NaN and inf are out of bounds anyway (NaN fails every comparison); say so plainly.
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}={value} is not a finite number")
            if not lo <= value <= hi:
                raise ValueError(f"{name}={_show(value)} is outside [{lo:g}, {hi:g}]")
        if self.precision not in ("bf16", "fp32"):
            raise ValueError("precision must be 'bf16' or 'fp32'")
        if self.gan_loss not in ("hinge", "bce"):
            raise ValueError("gan_loss must be 'hinge' or 'bce'")
        parse_policy(self.diffaug)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training options: {unknown}")
        types = {f.name: f.type for f in fields(cls)}
        return cls(**{k: _coerce(k, types[k], v) for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)


def config_for(spec, **overrides: Any) -> TrainConfig:
    """The registry defaults of `spec` with `overrides` on top (None values are ignored)."""
    data = {**spec.train_defaults, **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig.from_dict(data)


def _coerce(name: str, kind: str, value: Any) -> Any:
    """`value` as the field's type, or ValueError. Numbers may come as strings ("7", "2e-4": CLI,
    JSON, forms); a whole number may come as a float (3.0); NaN, infinities, bools and fractions
    for int fields are refused here, where int() would raise OverflowError or silently truncate."""
    if kind == "str":
        if not isinstance(value, (str, os.PathLike)):  # a folder may come as a Path
            raise ValueError(f"{name} must be text, not {value!r}")
        return os.fspath(value)
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if kind == "int" and isinstance(value, numbers.Integral):
        return int(value)  # exact, even beyond float range (the bounds check comes next)
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {_show(value)!r}") from None
    except OverflowError:  # an int too big for a float
        raise ValueError(f"{name} is far out of range") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}={_show(value)} is not a finite number")
    if kind == "float":
        return number
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, not {_show(value)!r}")
    return int(number)


def _show(value: Any) -> str:
    """`value` shortened for a message (str() of an int past 4,300 digits raises ValueError)."""
    try:
        text = str(value)
        return text if len(text) <= 40 else text[:39] + "…"
    except ValueError:
        return "a huge number"
