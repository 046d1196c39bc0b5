"""Transposed-conv U-Nets turned into resize-conv ones (core.nets.unet, core.train.resize_upsampling)."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from core.checkpoint import load_checkpoint, save_checkpoint
from core.nets.patchgan import PatchGANDiscriminator
from core.nets.unet import (UNetConfig, UNetGenerator, as_resize, as_transposed, resize_from_transpose,
                            transpose_from_resize)
from core.registry import SHARED_DATA

PHASES = torch.tensor([[1.0, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1]])
TAPS = [3, 1, 2, 0]


def transpose_equivalent(w: torch.Tensor) -> torch.Tensor:
    """A resize-conv weight [out, in, 3, 3] -> the transposed-conv weight [in, out, 4, 4] that computes
    exactly the same (each output phase's coefficients are sums of the 3x3 taps), written out tap
    by tap as a check on the library's vectorised transpose_from_resize."""
    phase = torch.einsum("ia,jb,xyab->xyij", PHASES, PHASES, w)
    k = torch.empty_like(phase)
    for p_row, t_row in enumerate(TAPS):
        for p_col, t_col in enumerate(TAPS):
            k[..., t_row, t_col] = phase[..., p_row, p_col]
    return k.transpose(0, 1)


def test_the_served_twin_of_a_resize_conv_is_its_exact_transposed_conv():
    torch.manual_seed(4)
    w, b, x = torch.randn(5, 6, 3, 3), torch.randn(5), torch.randn(2, 6, 8, 8)
    k = transpose_from_resize(w)
    assert torch.allclose(k, transpose_equivalent(w))
    assert torch.allclose(F.conv_transpose2d(x, k, b, stride=2, padding=1), resize_conv(x, w, b), atol=1e-4)
    assert torch.allclose(resize_from_transpose(k), w, atol=1e-5)  # and back


def test_a_resize_unet_is_served_as_its_transposed_twin_with_the_same_outputs(tmp_path):
    from core.pipelines.sketch2photo import Sketch2PhotoPipeline

    torch.manual_seed(5)
    config = UNetConfig(in_channels=1, out_channels=3, base_channels=8, max_channels=16, num_downs=4, upsample="resize")
    R = UNetGenerator(config).eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    state = torch.random.get_rng_state()
    T = as_transposed(R)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is untouched
    assert T.config.upsample == "transpose" and not T.training
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in T.modules())
    with torch.no_grad():
        assert torch.allclose(T(x), R(x), atol=1e-4)
    assert as_transposed(T) is T
    save_checkpoint(tmp_path / "ck", {"G": R}, meta={"image_size": 32})
    pipe = Sketch2PhotoPipeline.from_checkpoint(tmp_path / "ck", precision="fp32")
    assert isinstance(pipe.G.ups[0][1], torch.nn.ConvTranspose2d)
    with torch.no_grad():
        assert torch.allclose(pipe.G(x.contiguous(memory_format=torch.channels_last)), R(x), atol=1e-4)


def resize_conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, b, padding=1)


def test_a_transposed_conv_without_checkerboard_converts_exactly():
    torch.manual_seed(0)
    w, b, x = torch.randn(5, 6, 3, 3), torch.randn(5), torch.randn(2, 6, 8, 8)
    k = transpose_equivalent(w)
    assert torch.allclose(F.conv_transpose2d(x, k, b, stride=2, padding=1), resize_conv(x, w, b), atol=1e-4)
    assert torch.allclose(resize_from_transpose(k), w, atol=1e-5)


def test_the_conversion_removes_the_checkerboard_of_a_flat_input():
    torch.manual_seed(1)
    k = torch.randn(4, 3, 4, 4)  # a trained kernel's phases differ: a flat input comes out as a checkerboard
    flat = torch.ones(1, 4, 8, 8)
    before = F.conv_transpose2d(flat, k, stride=2, padding=1)[..., 2:-2, 2:-2]  # away from the borders
    after = resize_conv(flat, resize_from_transpose(k), None)[..., 2:-2, 2:-2]
    assert before.std(dim=(2, 3)).min() > 0.1  # the period-2 pattern
    assert after.std(dim=(2, 3)).max() < 1e-5  # flat in, flat out
    # ... and it is the least-squares fit: the flat level is the mean of the four phases' levels.
    assert torch.allclose(after.mean(dim=(2, 3)), before.mean(dim=(2, 3)), atol=1e-4)


def test_a_whole_unet_converts_and_keeps_what_it_computes_without_checkerboards():
    torch.manual_seed(2)
    config = UNetConfig(in_channels=2, out_channels=3, base_channels=8, max_channels=16, num_downs=4,
                        upsample="transpose")
    G = UNetGenerator(config).eval()
    for up in G.ups:  # make every level's kernel one a resize-conv can copy exactly
        conv = up[1]
        conv.weight.data = transpose_equivalent(torch.randn(conv.out_channels, conv.in_channels, 3, 3) * 0.1)
    R = as_resize(G)
    assert R.config == replace(config, upsample="resize") and not R.training
    x = torch.rand(2, 2, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(G(x), R(x), atol=1e-4)


@pytest.mark.skipif(not (SHARED_DATA / "edges2shoes_handbags" / "train").is_dir(), reason="needs ../shared/data")
def test_the_cli_converts_a_checkpoint_and_recomputes_the_statistics(tmp_path):
    from core.registry import get_spec
    from core.train.resize_upsampling import convert, to_resize

    spec = get_spec("sketch2photo")
    torch.manual_seed(3)
    G = UNetGenerator(replace(spec.nets["G"], upsample="transpose")).eval()
    D = PatchGANDiscriminator(spec.nets["D"]).eval()
    src = save_checkpoint(tmp_path / "src", {"G": G, "D": D}, meta={"model": "sketch2photo", "image_size": 128})
    out = convert(src, tmp_path / "out", batches=2)
    nets, meta = load_checkpoint(out)
    source, _ = load_checkpoint(src)
    assert nets["G"].config.upsample == "resize" and meta["converted_from"] == str(src)
    expected = to_resize(source["G"]).state_dict()
    got = nets["G"].state_dict()
    for key, value in got.items():
        if "running" in key or "num_batches" in key:  # the statistics are the new net's: they moved
            continue
        assert torch.equal(value, expected[key].to(value.dtype)), key
    moved = [k for k in got if k.endswith("running_var") and not torch.allclose(got[k], expected[k])]
    assert moved, "the standing statistics were not recomputed"
    assert all(torch.equal(v, source["D"].state_dict()[k]) for k, v in nets["D"].state_dict().items())
    with pytest.raises(ValueError, match="already"):
        to_resize(nets["G"])


def bilinear_conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return F.conv2d(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), w, b, padding=1)


def test_the_bilinear_conversion_is_the_least_squares_fit_of_the_ops_themselves():
    """The fit is checked against torch's own ops, not the library's phase table: probe the transposed
    conv and bilinear + 3x3 with unit impulses, and solve the least squares over those responses."""
    torch.manual_seed(6)
    k = torch.randn(1, 1, 4, 4)
    impulses = torch.eye(64).reshape(64, 1, 8, 8)  # every input pixel alone
    target = F.conv_transpose2d(impulses, k, stride=2, padding=1)[..., 4:12, 4:12].reshape(64, -1)
    basis = torch.eye(9).reshape(9, 1, 1, 3, 3)  # the response of each 3x3 tap alone
    responses = torch.stack([bilinear_conv(impulses, t, None)[..., 4:12, 4:12].reshape(64, -1) for t in basis])
    solution = torch.linalg.lstsq(responses.reshape(9, -1).T.double(), target.reshape(-1, 1).double()).solution
    assert torch.allclose(resize_from_transpose(k, "bilinear").double().flatten(), solution.flatten(), atol=1e-5)


def test_a_unet_converts_to_bilinear_from_either_kind_and_is_not_given_a_transposed_twin(tmp_path):
    from core.pipelines.sketch2photo import Sketch2PhotoPipeline

    torch.manual_seed(7)
    config = UNetConfig(in_channels=1, out_channels=3, base_channels=8, max_channels=16, num_downs=4, upsample="resize")
    R = UNetGenerator(config).eval()
    B = as_resize(R, "bilinear")  # through R's exact transposed twin
    assert B.config == replace(config, upsample="bilinear")
    assert all(up[1][0].mode == "bilinear" for up in B.ups)
    assert torch.allclose(B.ups[0][1][1].weight, resize_from_transpose(transpose_from_resize(R.ups[0][1][1].weight),
                                                                      "bilinear"))
    w = B.ups[1][1][1].weight
    flat = torch.ones(1, w.shape[1], 8, 8)  # bilinear + 3x3 keeps a flat input flat too (away from the border)
    assert bilinear_conv(flat, w, None)[..., 2:-2, 2:-2].std(dim=(2, 3)).max() < 1e-5
    with pytest.raises(ValueError, match="no exact"):
        as_transposed(B)
    save_checkpoint(tmp_path / "ck", {"G": B}, meta={"image_size": 32})
    pipe = Sketch2PhotoPipeline.from_checkpoint(tmp_path / "ck", precision="fp32")
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():  # served as it is
        assert torch.allclose(pipe.G(x.contiguous(memory_format=torch.channels_last)), B(x), atol=1e-5)
