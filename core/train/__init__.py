"""Training: `train(spec, config, on_event, should_stop)` and its CLI (`python -m core.train`)."""
from .config import TrainConfig, config_for
from .loop import train

__all__ = ["TrainConfig", "config_for", "train"]
