"""Standing statistics (core.train.standing_stats): batch-norm statistics recomputed for a net's weights."""
from __future__ import annotations

import torch
from torch import nn

from core.train.standing_stats import standing_statistics


def test_statistics_are_the_plain_mean_over_the_batches_with_dropout_off():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(3, momentum=0.3))
    net[1].running_mean.fill_(9.0)  # stale statistics of other weights
    batches = [torch.randn(16, 3) + shift for shift in (0.0, 2.0, 4.0)]
    assert standing_statistics(net, iter(batches)) == 3
    expected_mean = torch.stack([b.mean(0) for b in batches]).mean(0)
    expected_var = torch.stack([b.var(0) for b in batches]).mean(0)  # unbiased per batch, as BatchNorm keeps it
    assert torch.allclose(net[1].running_mean, expected_mean, atol=1e-5)  # dropout would have scaled the inputs
    assert torch.allclose(net[1].running_var, expected_var, atol=1e-5)
    assert net[1].momentum == 0.3 and not net.training and not net[0].training


def test_a_failing_input_leaves_the_momentum_and_eval_mode_as_they_were():
    net = nn.Sequential(nn.BatchNorm1d(2, momentum=0.1))

    def inputs():
        yield torch.randn(4, 2)
        raise RuntimeError("data gone")

    try:
        standing_statistics(net, inputs())
    except RuntimeError:
        pass
    assert net[0].momentum == 0.1 and not net.training


def test_a_net_without_batch_norm_is_left_alone():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.2)).train()
    assert standing_statistics(net, iter([torch.randn(1, 2)])) == 0
    assert net.training
