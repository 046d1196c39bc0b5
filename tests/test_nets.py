import dataclasses

import pytest
import torch

from core.nets import (PatchGANConfig, PatchGANDiscriminator, UNetConfig, UNetGenerator, build_net,
                       config_from_dict, config_to_dict)
from core.nets.patchgan import receptive_field
from core.registry import REGISTRY


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_unet_shape_and_range(upsample):
    net = UNetGenerator(UNetConfig(in_channels=1, out_channels=3, base_channels=8, max_channels=32,
                                   num_downs=5, upsample=upsample)).eval()
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    y = net(x * 50)  # even absurd inputs stay in the tanh range
    assert y.shape == (2, 3, 64, 64)
    assert y.min() >= -1 and y.max() <= 1
    assert torch.isfinite(y).all()


def test_unet_uses_skip_connections():
    """Changing one input pixel must change the output near it (a bottleneck-only net would blur it)."""
    torch.manual_seed(0)
    net = UNetGenerator(UNetConfig(base_channels=8, max_channels=16, num_downs=4, dropout=0.0)).eval()
    x = torch.zeros(1, 1, 32, 32)
    x2 = x.clone()
    x2[0, 0, 5, 5] = 1
    diff = (net(x2) - net(x)).abs().sum(1)[0]
    assert diff[3:8, 3:8].sum() > 0


def test_patchgan_70px_receptive_field_and_shape():
    assert receptive_field(3) == 70
    d = PatchGANDiscriminator(PatchGANConfig(in_channels=4, base_channels=8, num_layers=3))
    out = d(torch.randn(2, 4, 128, 128))
    assert out.shape == (2, 1, 14, 14)


def test_configs_are_frozen_and_validated():
    cfg = UNetConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.base_channels = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        UNetConfig(norm="layer")
    with pytest.raises(ValueError):
        PatchGANConfig(num_layers=0)


def test_config_dict_round_trip_and_unknown_keys():
    cfg = PatchGANConfig(base_channels=16)
    assert config_from_dict(config_to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match="unknown"):
        config_from_dict({**config_to_dict(cfg), "bogus": 1})
    with pytest.raises(ValueError, match="unknown net kind"):
        config_from_dict({"kind": "transformer"})


def test_registry_nets_build_and_fit_the_size_budget():
    for spec in REGISTRY.values():
        if spec.comparison_only:  # trained for a measured comparison, never shipped
            continue
        total = 0
        for name in spec.shipped:
            net = build_net(spec.nets[name])
            total += sum(p.numel() for p in net.parameters()) * 2  # shipped as fp16
        assert total <= 12e6, f"{spec.name} would ship {total / 1e6:.1f} MB ({', '.join(spec.shipped)})"
