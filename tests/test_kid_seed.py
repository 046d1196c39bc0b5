"""KID's random subsets are seeded: the same features give the same figure in every run."""
from __future__ import annotations

import torch

from core.metrics.distribution import DistributionMetrics


class _Stub:
    """Stands in for the EfficientNet features (add_features takes features directly)."""
    num_features = 8
    precision = "fp32"


def _kid(real: torch.Tensor, fake: torch.Tensor) -> tuple[float, float]:
    m = DistributionMetrics(_Stub())
    m.add_features(real=real, fake=fake)
    out = m.compute()
    return out["kid_eff"], out["kid_eff_std"]


def test_kid_is_the_same_whatever_the_process_random_state_and_leaves_it_alone():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(150, 8, generator=g), torch.randn(150, 8, generator=g) + 0.3
    torch.manual_seed(1)
    first = _kid(real, fake)
    torch.manual_seed(2)
    state = torch.random.get_rng_state()
    second = _kid(real, fake)
    assert first == second
    assert torch.equal(torch.random.get_rng_state(), state)
    assert first[0] > 0.01  # the shifted set is told apart: the figure is a real one
