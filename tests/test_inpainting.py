"""Inpainting (issue #15): masks, the net, the training task, the pipeline (compositing, seams, the
baseline and the GAN prior) on awkward inputs, the eval and the figure. Untrained tiny nets: these
test shapes and pixel bookkeeping, not quality (the eval measures that)."""
from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core.checkpoint import load_checkpoint
from core.data.faces import FaceDataset
from core.data.masks import (CENTER_FRACTION, FREE_MAX_AREA, FREE_MIN_AREA, MaskedFaceDataset, center_mask, eval_mask,
                             free_form_mask)
from core.nets import DCGANGeneratorConfig, InpaintingNet, InpaintingNetConfig, PatchGANConfig, build_net
from core.pipelines import inpainting as inpainting_pipeline
from core.pipelines.faces import FacesPipeline
from core.pipelines.gan_prior import contextual_weights, prior_fill
from core.pipelines.inpainting import (FULL_MASK, NO_MASK, InpaintingPipeline, blend_fill, center_square, composite,
                                       read_mask)
from core.pipelines.seams import harmonic_fill
from core.registry import get_spec
from core.train import config_for, train
from tests.conftest import shared

CPU = torch.device("cpu")
TINY_G = InpaintingNetConfig(base_channels=8, max_channels=16, num_downs=2, dilated_layers=1)


def tiny_spec():
    spec = get_spec("inpainting")
    return dataclasses.replace(spec, nets={"G": TINY_G, "D": PatchGANConfig(in_channels=4, base_channels=8, num_layers=2,
                                                                           norm="none", spectral=True)})


def tiny_pipe(size: int = 64, **kw) -> InpaintingPipeline:
    torch.manual_seed(0)
    return InpaintingPipeline(InpaintingNet(TINY_G).eval(), size, CPU, torch.float32, **kw)


def tiny_faces() -> FacesPipeline:
    torch.manual_seed(0)
    return FacesPipeline(build_net(DCGANGeneratorConfig(z_dim=16, base_channels=4)), CPU, torch.float32, {})


@pytest.fixture(scope="session")
def face_folder(tmp_path_factory) -> Path:
    """12 face-like photos at CelebA's aligned size (89 x 109): a skin ellipse, eyes and a mouth."""
    folder = tmp_path_factory.mktemp("faces")
    rng = random.Random(0)
    for i in range(12):
        im = Image.new("RGB", (89, 109), tuple(rng.randint(0, 255) for _ in range(3)))
        d = ImageDraw.Draw(im)
        skin = (rng.randint(150, 255), rng.randint(100, 200), rng.randint(80, 160))
        d.ellipse([20, 25, 69, 95], fill=skin)
        for x in (33, 52):
            d.ellipse([x - 4, 50, x + 4, 56], fill=(30, 30, 30))
        d.line([36, 80, 53, 80], fill=(150, 40, 40), width=3)
        im.save(folder / f"{i + 1:06d}.jpg", quality=95)
    return folder


@pytest.fixture(scope="session")
def trained(face_folder, tmp_path_factory) -> Path:
    """The task with tiny nets, 2 steps (and its live eval) on the folder: the run folder."""
    config = config_for(tiny_spec()).with_(steps=2, batch_size=4, log_every=1, sample_every=1, checkpoint_every=2,
                                           eval_every=2, eval_images=4, num_workers=0, data_root=str(face_folder))
    return train(tiny_spec(), config, run_dir=tmp_path_factory.mktemp("inpaint_run"))


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def hole_box(w: int, h: int, box) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = True
    return m


# ---- masks ---------------------------------------------------------------------------------
def test_center_mask_is_the_centre_square():
    m = center_mask(64)
    assert m.shape == (64, 64) and m.sum() == 32 * 32 and m[16:48, 16:48].all()
    odd = center_mask(10, CENTER_FRACTION)
    assert odd.sum() == 25 and odd[2:7, 2:7].all()


def test_free_form_masks_are_seeded_strokes_within_the_area_bounds():
    masks = [free_form_mask(64, s) for s in range(40)]
    assert all(m.shape == (64, 64) and m.dtype == bool for m in masks)
    assert all(FREE_MIN_AREA <= m.mean() <= FREE_MAX_AREA for m in masks)
    assert np.array_equal(free_form_mask(64, 7), free_form_mask(64, 7))
    assert len({m.tobytes() for m in masks}) == 40
    assert np.array_equal(eval_mask("free", 64, 3), free_form_mask(64, 10_003))
    assert np.array_equal(eval_mask("center", 64, 3), center_mask(64))
    with pytest.raises(ValueError, match="mask kind"):
        eval_mask("blob", 64, 0)


def test_masked_faces_fixed_views_alternate_kinds(face_folder):
    faces = FaceDataset(face_folder, image_size=64, augment=False)
    fixed = MaskedFaceDataset(faces, augment=False)
    items = [fixed[i] for i in range(4)]
    assert [int(it["kind"]) for it in items] == [0, 1, 0, 1]
    assert items[0]["mask"].shape == (1, 64, 64) and torch.equal(items[0]["mask"][0].bool(), torch.from_numpy(center_mask(64)))
    assert torch.equal(fixed[1]["mask"], items[1]["mask"])  # the same mask every time
    random_ = MaskedFaceDataset(faces, augment=True, center_share=0.0)
    assert {int(random_[i]["kind"]) for i in range(6)} == {1}
    assert all(0 < float(random_[i]["mask"].mean()) < 0.5 for i in range(6))


# ---- net and registry ----------------------------------------------------------------------
def test_net_keeps_the_size_and_range():
    net = InpaintingNet(TINY_G).eval()
    for h, w in ((64, 64), (36, 92)):
        y = net(torch.randn(2, 4, h, w))
        assert y.shape == (2, 3, h, w) and y.abs().max() <= 1
    with pytest.raises(ValueError):
        InpaintingNetConfig(num_downs=0)
    assert InpaintingNetConfig(num_downs=3).multiple == 8


def test_registry_entry_shares_the_faces_crop_and_fits_the_budget():
    spec, faces = get_spec("inpainting"), get_spec("faces")
    assert spec.task == "inpainting" and spec.shipped == ("G",) and not spec.comparison_only
    for key in ("crop_fraction", "center_y"):
        assert spec.data.options[key] == faces.data.options[key]
    assert spec.data.train == faces.data.train
    n = sum(p.numel() for p in build_net(spec.nets["G"]).parameters())
    assert n * 2 <= 12e6, f"{n / 1e6:.2f} M params"
    assert config_for(spec).image_size == 64 == faces.train_defaults["image_size"]  # the prior's size


# ---- training --------------------------------------------------------------------------------
def test_two_steps_write_a_checkpoint_the_pipeline_loads(trained, face_folder):
    events = [json.loads(line) for line in (trained / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "end"
    losses = next(e for e in events if e["event"] == "step")["losses"]
    assert set(losses) == {"loss_G_L1_hole", "loss_G_L1_valid", "loss_G_gan", "loss_D_real", "loss_D_fake"}
    assert all(np.isfinite(v) for v in losses.values())
    live = next(e for e in events if e["event"] == "eval")
    assert {"hole_psnr_center", "hole_psnr_free", "fd_eff"} <= set(live)
    assert list((trained / "samples").glob("*.png"))
    nets, meta = load_checkpoint(trained / "checkpoint")
    assert set(nets) == {"G"} and meta["center_fraction"] == CENTER_FRACTION and meta["image_size"] == 64
    pipe = InpaintingPipeline.from_checkpoint(trained / "checkpoint", precision="fp32")
    im = Image.open(face_folder / "000001.jpg")
    assert pipe(im, center_square(*im.size)).image.size == (89, 89)


@pytest.mark.skipif(not shared("celeba", "img").is_dir(), reason="../shared/data is not on this machine")
def test_registry_holds_out_the_last_tenth_of_the_faces():
    from core.train.tasks import TASKS

    spec = get_spec("inpainting")
    task = TASKS["inpainting"](tiny_spec(), config_for(spec), CPU)
    train_set, val_set = task.make_dataset(None, augment=True), task.eval_dataset(None)
    train_files, val_files = set(train_set.faces.files), set(val_set.faces.files)
    assert not train_files & val_files
    assert len(val_files) / (len(train_files) + len(val_files)) == pytest.approx(0.1, abs=0.002)
    assert max(f.name for f in train_files) < min(f.name for f in val_files)


# ---- pipeline: inputs and compositing --------------------------------------------------------
@pytest.mark.parametrize("size", [(64, 64), (67, 93), (301, 203), (640, 480)])
def test_known_pixels_are_kept_exactly(size):
    """Any size (odd, non-square, larger than the model): the face square comes back at its own size,
    identical outside the hole, and each method changes the hole."""
    w, h = size
    pipe = tiny_pipe(faces=tiny_faces())
    im = photo(w, h)
    side = min(w, h)
    prepared = pipe.prepare(im, center_square(w, h))
    assert prepared.pixels.shape == (side, side, 3)
    crop = np.asarray(im)[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
    assert np.array_equal(prepared.pixels, crop)
    assert ("centre-cropped" in prepared.note) == (w != h)
    for fill in (pipe.fill(prepared), pipe.baseline(prepared), pipe.prior(prepared, steps=2, restarts=1)):
        out = np.asarray(fill.image)
        assert out.shape == crop.shape
        assert np.array_equal(out[~prepared.hole], crop[~prepared.hole])
        assert not np.array_equal(out[prepared.hole], crop[prepared.hole])
        assert fill.small.shape == (1, 3, 64, 64) and fill.seconds > 0


def test_empty_and_full_masks_are_refused_with_a_message():
    pipe, im = tiny_pipe(), photo(80, 60)
    for mask in (np.zeros((60, 80), bool), None, Image.new("L", (80, 60), 0), Image.new("RGBA", (80, 60), (0, 0, 0, 0)),
                 hole_box(80, 60, (0, 0, 9, 60))):  # the last one lies outside the centre square
        with pytest.raises(ValueError, match="the mask is empty"):
            pipe.prepare(im, mask)
    assert "paint over" in NO_MASK
    for mask in (np.ones((60, 80), bool), Image.new("L", (80, 60), 255), hole_box(80, 60, (10, 0, 70, 60))):
        with pytest.raises(ValueError, match="covers the whole picture"):
            pipe.prepare(im, mask)
    assert "leave some of the face" in FULL_MASK


def test_masks_come_as_painted_layers_pictures_or_arrays():
    size = (40, 30)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle([5, 5, 14, 9], fill=(20, 20, 20, 255))  # a dark brush, opaque
    assert read_mask(layer, size).sum() == 10 * 5
    white = Image.new("L", size, 0)
    white.paste(255, (5, 5, 15, 10))
    assert np.array_equal(read_mask(white, size), read_mask(layer, size))
    assert np.array_equal(read_mask(np.asarray(white) > 0, size), read_mask(white, size))
    assert np.array_equal(read_mask((np.asarray(white) > 0).astype(np.float32), size), read_mask(white, size))
    big = white.resize((80, 60), Image.NEAREST)  # a mask of another size is resized to the photo
    assert np.array_equal(read_mask(big, size), read_mask(white, size))
    with pytest.raises(ValueError):
        read_mask(np.zeros((2, 3, 4, 5)), size)
    with pytest.raises(ValueError):
        read_mask(b"not an image", size)


def test_tiny_and_huge_inputs(monkeypatch):
    pipe = tiny_pipe()
    with pytest.raises(ValueError, match="too small"):
        pipe.prepare(photo(10, 40), np.ones((40, 10), bool))
    monkeypatch.setattr(inpainting_pipeline, "MAX_SIDE", 100)
    prepared = pipe.prepare(photo(300, 200), center_square(300, 200))
    assert prepared.pixels.shape == (100, 100, 3) and "downscaled from 200x200 to 100x100" in prepared.note
    assert pipe.fill(prepared).image.size == (100, 100)


def test_center_square_matches_the_face_square():
    m = np.asarray(center_square(100, 60)) > 0
    assert m.sum() == 30 * 30 and m[15:45, 35:65].all()


# ---- seams and the baseline ------------------------------------------------------------------
def test_harmonic_fill_is_exact_on_ramps_and_never_overshoots():
    yy, xx = np.mgrid[0:20, 0:30].astype(float)
    ramp = np.stack([0.5 * xx - 0.2 * yy, xx * 0 + 3.0], -1)  # linear: harmonic, so rebuilt exactly
    hole = hole_box(30, 20, (5, 4, 25, 16))
    noisy = ramp.copy()
    noisy[hole] = 99.0  # ignored
    assert np.allclose(harmonic_fill(noisy, hole), ramp, atol=1e-9)
    rough = np.random.default_rng(0).random((20, 30, 1))
    filled = harmonic_fill(rough, hole)
    assert filled[hole].min() >= rough[~hole].min() and filled[hole].max() <= rough[~hole].max()
    edge = hole_box(30, 20, (0, 0, 30, 5))  # a hole along the border (a mirror there)
    assert np.isfinite(harmonic_fill(rough, edge)).all()
    with pytest.raises(ValueError):
        harmonic_fill(rough, np.ones((20, 30), bool))


def _edge_step(image: np.ndarray, hole: np.ndarray) -> float:
    """Mean |difference| between hole pixels and their known right/left neighbours."""
    a = image.astype(float)
    steps = []
    for shift in (1, -1):
        nb_known = np.roll(~hole, shift, axis=1) & hole
        steps.append(np.abs(a[nb_known] - np.roll(a, shift, axis=1)[nb_known]).mean())
    return float(np.mean(steps))


def test_an_upsampled_fill_is_blended_into_the_photo_without_a_seam():
    """A smooth photo and a fill that is the photo itself but 60 levels too bright: pasted as it is,
    the hole's edge is a 60-level step; blended, the step is gone and the inside keeps the fill's
    shape (the photo's gradient)."""
    side = 192
    yy, xx = np.mgrid[0:side, 0:side]
    rgb = np.stack([40 + xx * 0.6, 60 + yy * 0.5, 100 + (xx + yy) * 0.2], -1).round().astype(np.uint8)
    pipe = tiny_pipe()
    prepared = pipe.prepare(Image.fromarray(rgb), center_square(side, side))
    bright = (prepared.small + 60 / 255).clamp(0, 1)
    pasted = np.asarray(composite(prepared, bright))
    blended = np.asarray(composite(prepared, blend_fill(prepared, bright)))
    assert _edge_step(pasted, prepared.hole) > 40
    assert _edge_step(blended, prepared.hole) < 3
    assert np.abs(blended[prepared.hole].astype(float) - rgb[prepared.hole]).mean() < 3
    assert np.array_equal(blended[~prepared.hole], rgb[~prepared.hole])


def test_baseline_fills_a_flat_photo_flat():
    pipe = tiny_pipe()
    prepared = pipe.prepare(Image.new("RGB", (90, 90), (120, 80, 40)), center_square(90, 90))
    out = np.asarray(pipe.baseline(prepared).image)
    assert np.abs(out.astype(int) - (120, 80, 40)).max() <= 1


# ---- GAN prior -------------------------------------------------------------------------------
def test_contextual_weights_favour_the_hole_surroundings():
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 12:20, 12:20] = 1
    w = contextual_weights(hole)
    assert (w[hole > 0] == 0).all()
    assert float(w[0, 0, 11, 15]) > float(w[0, 0, 5, 15]) == pytest.approx(0.1)


def test_prior_fill_is_seeded_reports_progress_and_leaves_g_alone():
    faces = tiny_faces()
    image = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    hole = torch.zeros(2, 1, 48, 48)
    hole[..., 12:36, 12:36] = 1
    seen = []
    out = prior_fill(faces.G, faces.z_dim, image, hole, steps=12, restarts=2, progress=lambda i, n: seen.append((i, n)))
    assert out.shape == (2, 3, 48, 48) and 0 <= out.min() and out.max() <= 1
    assert seen == [(10, 12), (12, 12)]
    assert all(p.grad is None for p in faces.G.parameters())
    again = prior_fill(faces.G, faces.z_dim, image, hole, steps=12, restarts=2)
    assert torch.allclose(out, again)


def test_prior_lowers_the_contextual_loss():
    faces = tiny_faces()
    target = faces.decode(torch.randn(1, faces.z_dim, generator=torch.Generator().manual_seed(5))).clone() * 0.5 + 0.5
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    err = [float(((prior_fill(faces.G, faces.z_dim, target, hole, steps=s, restarts=1) - target).abs()
                  * (1 - hole)).mean()) for s in (1, 25)]
    assert err[1] < err[0]


# ---- eval and figure -------------------------------------------------------------------------
KIND_KEYS = {"hole_psnr", "hole_ssim", "fd_eff", "kid_eff", "baseline_hole_psnr", "baseline_hole_ssim", "baseline_fd_eff",
             "baseline_kid_eff", "prior_hole_psnr", "prior_hole_ssim", "prior_fd_eff", "prior_kid_eff", "n", "prior_n"}


def test_eval_cli_reports_both_mask_kinds(trained, face_folder, tmp_path, monkeypatch):
    from core.eval import inpainting as inpainting_eval
    from core.eval.__main__ import main as eval_main

    monkeypatch.setattr(inpainting_eval.faces_pipeline, "has_checkpoint", lambda *a: False)  # the prior: next test
    out = tmp_path / "m.json"
    assert eval_main(["inpainting", "--data", str(face_folder), "--checkpoint", str(trained / "checkpoint"),
                      "--limit", "6", "--json", str(out)]) == 0
    m = json.loads(out.read_text())
    for kind in ("center", "free"):
        assert KIND_KEYS <= set(m[kind]) and m[kind]["n"] == 6
        assert 5 < m[kind]["hole_psnr"] < 60 and m[kind]["prior_hole_psnr"] is None
    assert m["center"]["hole_share"] == 0.25 and 0 < m["free"]["hole_share"] < 0.5
    assert m["gain_center_db"] == pytest.approx(m["center"]["hole_psnr"] - m["center"]["baseline_hole_psnr"], abs=2e-3)


class ColourFeatures:
    """A stand-in for EfficientNet (FD on 12 numbers: fast): mean and spread of each channel in a 2 x 2 grid."""

    num_features, precision = 24, "fp32"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        cells = torch.nn.functional.adaptive_avg_pool2d(x.float(), 2).flatten(1)
        return torch.cat([cells, x.float().flatten(2).std(2).repeat(1, 4)], 1)


def test_eval_runs_the_prior_on_a_subset(trained, face_folder, monkeypatch):
    from core.eval.inpainting import evaluate

    monkeypatch.setattr("core.pipelines.faces.load", lambda *a, **k: tiny_faces())
    monkeypatch.setattr("core.pipelines.faces.has_checkpoint", lambda *a: True)
    m = evaluate(get_spec("inpainting"), face_folder, trained / "checkpoint", precision="fp32", limit=6, prior_limit=3,
                 prior_steps=2, prior_restarts=1, features=ColourFeatures())
    for kind in ("center", "free"):
        assert m[kind]["prior_n"] == 3 and m[kind]["prior_hole_psnr"] > 0
        assert "fd_eff_prior_subset" in m[kind] and "baseline_fd_eff_prior_subset" in m[kind]
    # Re-measuring a new net: the prior is left out, ours and the baseline still get the subset's figures
    # (same faces, same masks), to set beside an earlier run's prior figures.
    again = evaluate(get_spec("inpainting"), face_folder, trained / "checkpoint", precision="fp32", limit=6,
                     prior_limit=3, features=ColourFeatures(), run_prior=False)
    for kind in ("center", "free"):
        assert again[kind]["prior_n"] == 0 and again[kind]["prior_hole_psnr"] is None
        assert again[kind]["fd_eff_prior_subset"] == m[kind]["fd_eff_prior_subset"]
        assert again[kind]["hole_psnr"] == m[kind]["hole_psnr"]


def test_figure_grid_renders(trained, face_folder, tmp_path, monkeypatch):
    from core.eval import figures_inpainting

    monkeypatch.setattr(figures_inpainting.faces_pipeline, "has_checkpoint", lambda *a: False)
    figures_inpainting.main(["--checkpoint", str(trained / "checkpoint"), "--data", str(face_folder), "--n", "2",
                             "--out", str(tmp_path), "--precision", "fp32"])
    im = Image.open(tmp_path / "inpainting_val.png")
    assert im.width >= 5 * 64 * 2 and im.height >= 4 * 64 * 2  # 5 columns, 2 faces x 2 mask kinds


def test_figure_grid_on_the_gan_faces_shows_no_photo(trained, tmp_path, monkeypatch):
    from core.eval import figures_inpainting

    monkeypatch.setattr(figures_inpainting.faces_pipeline, "load", lambda *a, **k: tiny_faces())
    monkeypatch.setattr(figures_inpainting.faces_pipeline, "has_checkpoint", lambda *a: False)
    figures_inpainting.main(["--checkpoint", str(trained / "checkpoint"), "--gan-faces", "--n", "2",
                             "--out", str(tmp_path), "--precision", "fp32"])
    im = Image.open(tmp_path / "inpainting_gan_faces.png")
    assert im.width >= 5 * 64 * 2 and im.height >= 4 * 64 * 2
    assert not (tmp_path / "inpainting_val.png").exists()
