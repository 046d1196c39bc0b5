"""Hyper-parameters: the loop's (`TrainConfig`) and each task's own (`TaskParams` subclasses).

Both are frozen dataclasses whose fields carry their bounds and choices (`knob`), so the CLI's
`--set`, the admin form and validation read one definition. A task declares its knobs (loss
weights, learning rates, options) in its own module; the registry holds only a model's overrides.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any



def knob(default: Any, lo: float | None = None, hi: float | None = None, choices: tuple[str, ...] | None = None,
         help: str = "") -> Any:
    """A dataclass field with its bounds [lo, hi] (numbers) or `choices` (text) and a help line."""
    return field(default=default, metadata={"bounds": None if lo is None else (lo, hi), "choices": choices,
                                            "help": help})


@dataclass(frozen=True)
class Params:
    """Frozen, validated hyper-parameters; `from_dict` coerces CLI/JSON/form values."""

    def __post_init__(self) -> None:
        for f in knobs(type(self)):
            value, bounds, choices = getattr(self, f.name), f.metadata["bounds"], f.metadata["choices"]
            if bounds is not None:
                # NaN and inf are out of bounds anyway (NaN fails every comparison); say so plainly.
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{f.name}={value} is not a finite number")
                if not bounds[0] <= value <= bounds[1]:
                    raise ValueError(f"{f.name}={_show(value)} is outside [{bounds[0]:g}, {bounds[1]:g}]")
            if choices is not None and value not in choices:
                raise ValueError(f"{f.name} must be one of {', '.join(map(repr, choices))}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Params":
        types = {f.name: f.type for f in knobs(cls)}
        unknown = sorted(set(data) - set(types))
        if unknown:
            raise ValueError(f"unknown options {unknown}; valid: {', '.join(types)}")
        return cls(**{k: _coerce(k, types[k], v) for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def knobs(cls) -> list[Field]:
    """The hyper-parameter fields of a Params class (what a form or `--set` may change)."""
    return [f for f in fields(cls) if "bounds" in f.metadata]


@dataclass(frozen=True)
class TaskParams(Params):
    """Base of every task's parameters (subclass it in the task's module)."""


@dataclass(frozen=True)
class TrainConfig(Params):
    """What the loop needs, the same for every task; the task's own knobs ride along in `task`."""

    steps: int = knob(1000, 1, 10_000_000, help="optimisation steps in all")
    batch_size: int = knob(8, 1, 1024)
    image_size: int = knob(128, 16, 1024, help="training crops, pixels per side")
    beta1: float = knob(0.5, 0.0, 0.999, help="Adam")
    beta2: float = knob(0.999, 0.0, 0.9999, help="Adam")
    decay_from: float = knob(0.5, 0.0, 1.0, help="fraction of steps after which the LR decays linearly to 0")
    precision: str = knob("bf16", choices=("bf16", "fp32"),
                          help="bf16 autocast where it is native (AVX-512 BF16/AMX CPUs, recent GPUs), else fp32")
    device: str = knob("auto", help="auto, cpu, cuda or cuda:N")
    log_every: int = knob(25, 1, 100_000)
    sample_every: int = knob(500, 1, 1_000_000)
    checkpoint_every: int = knob(500, 1, 1_000_000)
    eval_every: int = knob(0, 0, 1_000_000, help="the task's live metrics on a small fixed set every N steps (0 = never)")
    eval_images: int = knob(64, 2, 1000)
    seed: int = knob(0, 0, 2**31 - 1)
    num_workers: int = knob(0, 0, 64, help="data-loading processes")
    data_root: str = knob("", help="overrides the registry's training folder when set")
    init_from: str = knob("", help="a checkpoint or run folder whose nets start the run (warm start / fine-tuning)")
    task: Any = None  # the task's TaskParams (None: the model's registry params)

    def with_(self, **changes: Any) -> "TrainConfig":
        """A copy with `changes`, each routed to the loop's fields or the task's."""
        loop = {f.name for f in knobs(TrainConfig)}
        task_changes = {k: v for k, v in changes.items() if k not in loop}
        if task_changes:
            if self.task is None:
                raise ValueError(f"unknown training options {sorted(task_changes)}; valid: {', '.join(loop)}")
            own = {f.name for f in knobs(type(self.task))}
            unknown = sorted(set(task_changes) - own)
            if unknown:
                raise ValueError(f"unknown options {unknown}; valid for the loop: {', '.join(sorted(loop))}; "
                                 f"for the task: {', '.join(sorted(own))}")
            changes = {**{k: v for k, v in changes.items() if k in loop}, "task": replace(self.task, **task_changes)}
        return replace(self, **changes)


# name -> (min, max) of the loop's numeric fields, read from their knobs.
BOUNDS: dict[str, tuple[float, float]] = {f.name: f.metadata["bounds"] for f in knobs(TrainConfig)
                                          if f.metadata["bounds"] is not None}


def params_class(spec) -> type[TaskParams]:
    from .tasks import TASKS  # the tasks import this module

    return TASKS[spec.task].Params


def config_for(spec, **overrides: Any) -> TrainConfig:
    """The loop's defaults with the registry's `train_defaults`, the task's defaults with the
    registry's `task_params`, and `overrides` on top, each key routed to the loop or the task
    (None values are ignored). An unknown key is refused with the list of valid ones."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    loop = {f.name for f in knobs(TrainConfig)}
    cls = params_class(spec)
    own = {f.name for f in knobs(cls)}
    unknown = sorted(set(overrides) - loop - own)
    if unknown:
        raise ValueError(f"unknown options {unknown} for {spec.name}; valid for the loop: {', '.join(sorted(loop))}; "
                         f"for the {spec.task} task: {', '.join(sorted(own))}")
    task = cls.from_dict({**spec.task_params, **{k: v for k, v in overrides.items() if k in own}})
    config = TrainConfig.from_dict({**spec.train_defaults, **{k: v for k, v in overrides.items() if k in loop}})
    return replace(config, task=task)


def config_from_dict(spec, data: dict[str, Any]) -> TrainConfig:
    """A TrainConfig saved by `to_dict` (run.json, a checkpoint's meta) back, for `spec`'s task."""
    data = dict(data)
    task = data.pop("task", None)
    config = TrainConfig.from_dict(data)
    return replace(config, task=params_class(spec).from_dict(task or spec.task_params))


def model_defaults(name: str) -> dict[str, Any]:
    """The registry's full training defaults for `name`: loop fields and the task's, flat."""
    from ..registry import get_spec

    config = config_for(get_spec(name))
    return {**{k: v for k, v in config.to_dict().items() if k != "task"}, **config.task.to_dict()}


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
