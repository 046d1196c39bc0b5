"""core.metrics: the one PSNR, the paired metrics, the fast feature path, precision resolved once."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from torchmetrics.image import PeakSignalNoiseRatio

from core import device
from core.metrics.features import EfficientNetFeatures
from core.metrics.paired import PairedMetrics
from core.metrics.pixels import psnr

CPU = torch.device("cpu")


def test_psnr_known_values_and_scales():
    a, b = torch.zeros(2, 3, 8, 8), torch.full((2, 3, 8, 8), 0.1)  # MSE 0.01 -> 20 dB
    assert torch.allclose(psnr(a, b), torch.tensor([20.0, 20.0]))
    assert torch.allclose(psnr(a * 2 - 1, b * 2 - 1, data_range=2.0), psnr(a, b))  # [-1, 1] = same figure
    assert float(psnr(a[0], b[0])) == pytest.approx(20.0)  # one image
    assert float(psnr(a[0], a[0])) == pytest.approx(100.0)  # identical: floored, not inf


def test_paired_psnr_is_torchmetrics_mean_of_per_image_psnr():
    g = torch.Generator().manual_seed(0)
    out, target = torch.rand(5, 3, 16, 16, generator=g), torch.rand(5, 3, 16, 16, generator=g)
    out[0] = target[0] * 0.9  # images far apart in quality, so a pooled MSE would differ
    ref = PeakSignalNoiseRatio(data_range=1.0, reduction="elementwise_mean", dim=(1, 2, 3))
    ref.update(out, target)
    m = PairedMetrics()
    m.add(out[:2], target[:2])
    m.add(out[2:], target[2:])
    got = m.compute()
    assert got["psnr"] == pytest.approx(float(ref.compute()), rel=1e-5)
    assert got["l1"] == pytest.approx(float((out - target).abs().mean()), rel=1e-5)


def test_feature_paths_agree():
    """channels_last changes no figure; bf16 autocast (where native) stays within a few % of fp32."""
    x = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    old = EfficientNetFeatures(precision="fp32", channels_last=False)(x)
    cl = EfficientNetFeatures(precision="fp32")(x)
    assert old.shape == (4, 1280) and old.dtype == torch.float32
    assert torch.allclose(cl, old, atol=1e-4, rtol=1e-4)
    new = EfficientNetFeatures()
    assert new.precision == device.resolve_precision(CPU, "bf16")
    assert float((new(x) - old).norm() / old.norm()) < 0.05


def test_autocast_takes_a_resolved_dtype():
    with device.autocast(CPU, torch.bfloat16):
        assert torch.nn.Linear(2, 2)(torch.ones(1, 2)).dtype == torch.bfloat16
    with device.autocast(CPU, torch.float32):
        assert torch.nn.Linear(2, 2)(torch.ones(1, 2)).dtype == torch.float32
    with pytest.raises(ValueError):
        device.autocast(CPU, "bf16")  # a precision name: resolve it once with compute_dtype


def test_a_task_resolves_precision_once_at_construction(monkeypatch):
    from core.nets import PatchGANConfig, UNetConfig
    from core.registry import get_spec
    from core.train import TrainConfig
    from core.train.tasks import TASKS

    calls = []
    real = device.resolve_precision
    monkeypatch.setattr(device, "resolve_precision", lambda *a: calls.append(a) or real(*a))
    spec = dataclasses.replace(get_spec("sketch2photo"),
                               nets={"G": UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=5),
                                     "D": PatchGANConfig(in_channels=4, base_channels=8)})
    task = TASKS[spec.task](spec, TrainConfig(steps=2, batch_size=2, image_size=32), CPU)
    assert calls and task.amp_dtype == device.compute_dtype(CPU, "bf16")
    calls.clear()
    batch = {"A": torch.rand(2, 1, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1}
    task.train_step(task.to_device(batch), 1)
    task.sample_grid(batch)
    assert not calls  # no step or sample resolves it again


def test_colourfulness_known_values():
    from core.metrics.pixels import colourfulness

    grey = torch.full((1, 3, 8, 8), 0.4)
    assert float(colourfulness(grey)[0]) == pytest.approx(0.0, abs=1e-4)
    # Half pure red, half pure green: rg = +-255 (std 255, mean 0); yb = 127.5 everywhere.
    x = torch.zeros(1, 3, 2, 2)
    x[0, 0, 0], x[0, 1, 1] = 1.0, 1.0
    assert float(colourfulness(x)[0]) == pytest.approx(255.0 + 0.3 * 127.5, rel=1e-4)
    # A pale version of the same picture scores lower.
    assert float(colourfulness(0.3 * x + 0.7)[0]) < float(colourfulness(x)[0])


def test_object_share_counts_what_is_not_paper():
    from core.metrics.pixels import object_share

    x = torch.ones(2, 3, 4, 4)
    x[0, :, :2] = 0.2  # half of the first image is a dark object
    x[1, 2, 0, 0] = 0.5  # one bluish-yellow pixel: any channel below the paper level counts
    assert object_share(x).tolist() == pytest.approx([0.5, 1 / 16])


def test_interior_fill_tells_a_solid_object_from_a_pale_ghost():
    """A closed outline (with a small gap, as people draw) encloses its inside; an output that fills
    it with colour scores filled 1 and its chroma, one that leaves it near-white scores low."""
    from core.data.sketches import outline_interior
    from core.metrics.pixels import interior_fill
    strokes = torch.zeros(2, 32, 32, dtype=torch.bool)
    strokes[:, 8, 8:24] = strokes[:, 23, 8:24] = strokes[:, 8:24, 8] = True
    strokes[:, 8:21, 23] = True  # the right side stops 2 px short of the bottom line
    strokes[1] = False
    strokes[1, 4, 2:30] = True  # an open line encloses nothing but itself
    inside = outline_interior(strokes)
    assert inside[0, 9:23, 9:23].all() and not inside[0, :7].any() and not inside[0, :, 25:].any()
    assert inside[1].sum() == strokes[1].sum()
    red = torch.zeros(3, 3, 32, 32)
    red[:, 0] = 0.8
    ghost = red.clone()
    ghost[:, :, 10:22, 10:22] = 0.95  # near-white inside, a dark rim on the outline
    ghost[:, :, 9:23, 9] = ghost[:, :, 9, 9:23] = 0.2
    paper = torch.ones(3, 3, 32, 32)
    filled, chroma = interior_fill(torch.stack([red[0], ghost[0], paper[0]]), inside[[0, 0, 0]])
    assert filled[0] == 1 and chroma[0] == pytest.approx(0.8 * 255)
    assert filled[1] < 0.5 and filled[2] == 0 and chroma[2] == 0
