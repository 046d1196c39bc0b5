"""What the admin tab may call: the training-job runner (jobs run in their own processes)."""
from ..registry import REGISTRY
from ..train.config import BOUNDS, TrainConfig
from ..train.runner import Runner, RunnerError, default_runner

__all__ = ["BOUNDS", "REGISTRY", "Runner", "RunnerError", "TrainConfig", "default_runner", "model_defaults"]


def model_defaults(name: str) -> dict:
    """The registry's training defaults for `name`, as a full TrainConfig dict."""
    from ..train.config import config_for

    return config_for(REGISTRY[name]).to_dict()
