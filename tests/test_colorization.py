"""Colorization (issue #14): Lab and bins, rebalancing, hints, the net, the three training variants,
the pipeline on awkward inputs, the eval and the figure."""
from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.checkpoint import load_checkpoint
from core.data import colour
from core.data.colour_photos import PhotoDataset, load_photo, photo_files
from core.data.images import open_image
from core.data.synthetic import draw_pair
from core.nets import ColorizationNet, ColorizationNetConfig, PatchGANConfig, build_net
from core.pipelines.colorization import MAX_HINTS, ColorizationPipeline
from core.registry import get_spec
from core.train import config_for, train
from tests.conftest import shared

CPU = torch.device("cpu")
Q = len(colour.gamut_bins())
VARIANTS = ("colorization_l2", "colorization_cls", "colorization_cgan")


def tiny_net(head: str = "regression", **kw) -> ColorizationNetConfig:
    return ColorizationNetConfig(base_channels=8, max_channels=16, num_downs=2, dilated_blocks=1, head_channels=8,
                                 head=head, num_bins=Q if head == "classification" else 0, **kw)


def small_spec(name: str):
    """The registry entry with nets small enough for a CPU test."""
    spec = get_spec(name)
    nets = {"G": tiny_net(spec.nets["G"].head)}
    if "D" in spec.nets:
        nets["D"] = PatchGANConfig(in_channels=3, base_channels=8, num_layers=2)
    return dataclasses.replace(spec, nets=nets)


@pytest.fixture(scope="session")
def colour_folder(tmp_path_factory) -> Path:
    """10 small colour photos (coloured shapes on coloured ground), assorted sizes, some odd."""
    folder = tmp_path_factory.mktemp("colour_photos")
    rng = random.Random(0)
    for i, (w, h) in enumerate([(48, 40), (37, 53), (64, 64), (70, 45), (41, 41)] * 2):
        _, photo = draw_pair(rng, 64)
        ground = Image.new("RGB", (64, 64), tuple(rng.randint(0, 255) for _ in range(3)))
        mask = Image.eval(photo.convert("L"), lambda v: 255 if v < 250 else 0)
        ground.paste(photo, (0, 0), mask)
        ground.resize((w, h), Image.BICUBIC).save(folder / f"photo_{i}.{'png' if i % 2 else 'jpg'}")
    return folder


@pytest.fixture(scope="session")
def trained(colour_folder, tmp_path_factory) -> dict[str, Path]:
    """Each variant trained 2 steps on the folder: {name: run folder}."""
    runs = {}
    for name in VARIANTS:
        spec = small_spec(name)
        config = config_for(spec).with_(steps=2, batch_size=2, image_size=32, log_every=1, sample_every=1,
                                        checkpoint_every=2, eval_every=0, num_workers=0,
                                        data_root=str(colour_folder))
        runs[name] = train(spec, config, run_dir=tmp_path_factory.mktemp(name))
    return runs


def pipe_of(net: torch.nn.Module, size: int = 32) -> ColorizationPipeline:
    return ColorizationPipeline(net, size, CPU, torch.float32, {"temperature": 0.38})


def L_of(image) -> torch.Tensor:
    """L in Lab units [H, W] of any image as the app reads it (EXIF-upright RGB)."""
    from core.data.images import pil_to_tensor

    L, _ = colour.rgb_to_lab(pil_to_tensor(open_image(image))[None])
    return (L[0, 0] + 1) * 50


# ---- Lab -----------------------------------------------------------------------------------
def test_lab_round_trips_through_kornia():
    rgb = torch.rand(2, 3, 17, 23, generator=torch.Generator().manual_seed(0))
    L, ab = colour.rgb_to_lab(rgb)
    assert L.shape == (2, 1, 17, 23) and ab.shape == (2, 2, 17, 23)
    assert L.min() >= -1 and L.max() <= 1 and ab.abs().max() <= 1
    assert torch.allclose(colour.lab_to_rgb(L, ab), rgb, atol=1e-4)
    white, black = torch.ones(1, 3, 1, 1), torch.zeros(1, 3, 1, 1)
    assert colour.rgb_to_lab(white)[0].item() == pytest.approx(1, abs=1e-4)
    assert colour.rgb_to_lab(black)[0].item() == pytest.approx(-1, abs=1e-4)
    grey = colour.gray_rgb(L)
    assert (grey.max(1).values - grey.min(1).values).max() < 1e-3  # R = G = B


def test_out_of_gamut_colours_keep_their_lightness():
    """A vivid ab on a dark pixel does not fit sRGB: clipping per channel would change L; chroma is
    reduced instead, so L stays and some colour is left."""
    L = torch.tensor([-0.8, 0.0, 0.6]).view(1, 1, 1, 3)
    ab = torch.tensor([0.9, 0.8]).view(1, 2, 1, 1).expand(-1, -1, 1, 3)
    rgb = colour.lab_to_rgb(L, ab)
    L2, ab2 = colour.rgb_to_lab(rgb)
    assert (L2 - L).abs().max() * 50 < 0.05
    assert (ab2.norm(dim=1) > 0.05).all()  # reduced, not grey
    assert (ab2.norm(dim=1) < ab.norm(dim=1)).all()


# ---- bins ----------------------------------------------------------------------------------
def test_gamut_bins_match_the_registry_and_the_grid():
    centres = colour.gamut_bins()
    assert 200 < Q < 320 and (centres % colour.BIN_SIZE == 0).all()
    assert any((c == torch.tensor([0, 0])).all() for c in centres)
    for name in ("colorization", "colorization_cls"):
        assert get_spec(name).nets["G"].num_bins == Q


def test_lookup_and_soft_encoding_agree_with_brute_force():
    centres = colour.gamut_bins()
    lookup = colour.BinLookup(centres)
    _, ab = colour.rgb_to_lab(torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1)))
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    dist = torch.cdist(pts * colour.AB_SCALE, centres.float())
    assert torch.equal(lookup(pts * colour.AB_SCALE), dist.argmin(1))
    bins, weights = colour.soft_encode(pts, lookup)
    assert torch.equal(bins, dist.topk(5, largest=False).indices)
    assert torch.allclose(weights.sum(1), torch.ones(len(pts)))
    assert (weights[:, 0] >= weights[:, 1]).all()  # nearest first, heaviest
    on_centre = centres[:3].float() / colour.AB_SCALE
    bins, weights = colour.soft_encode(on_centre, lookup)
    assert torch.equal(bins[:, 0], torch.arange(3))


@pytest.mark.parametrize("temperature", [1.0, 0.38, 0.01])
def test_annealed_mean_of_a_one_hot_is_its_bin_centre(temperature):
    net = ColorizationNet(tiny_net("classification"))
    net.bin_centres.copy_(colour.gamut_bins().to(torch.int16))
    logits = torch.full((1, Q, 2, 2), -1e4)
    q = [5, 100, Q - 1, 0]
    for i, (y, x) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        logits[0, q[i], y, x] = 0.0
    ab = net.decode(logits, temperature)
    want = colour.gamut_bins()[q].float().T.reshape(2, 2, 2) / colour.AB_SCALE
    assert torch.allclose(ab[0], want, atol=1e-5)


def test_annealed_mean_goes_from_the_mean_to_the_mode():
    net = ColorizationNet(tiny_net("classification"))
    centres = colour.gamut_bins()
    net.bin_centres.copy_(centres.to(torch.int16))
    logits = torch.randn(1, Q, 3, 3, generator=torch.Generator().manual_seed(0)) * 2
    mode = centres[logits.argmax(1)].float().permute(0, 3, 1, 2) / colour.AB_SCALE
    mean = torch.einsum("bqhw,qc->bchw", logits.softmax(1), centres.float()) / colour.AB_SCALE
    assert torch.allclose(net.decode(logits, 1e-3), mode, atol=1e-4)
    assert torch.allclose(net.decode(logits, 1.0), mean, atol=1e-5)
    # Lower T: further from the mean (more saturated choices), towards the mode.
    far = [(net.decode(logits, t) - mean).abs().mean() for t in (1.0, 0.38, 0.01)]
    assert far[0] < far[1] < far[2]


def test_rebalancing_weights_mean_one_and_favour_rare_colours():
    centres = colour.gamut_bins()
    _, ab = colour.rgb_to_lab(torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 0.3 + 0.35)
    p = colour.bin_histogram(ab, centres)  # mostly greyish: a skewed distribution
    assert p.sum() == pytest.approx(1) and p.min() == 0
    smooth = colour.smooth_distribution(p, centres, 5.0)
    assert smooth.sum() == pytest.approx(1, abs=1e-5)
    w = colour.rebalance_weights(smooth, 0.5)
    assert float((smooth * w).sum()) == pytest.approx(1.0, abs=1e-5)  # expected weight 1
    common, rare = smooth.argmax(), smooth.argmin()
    assert w[rare] > 1 > w[common]
    assert ((w[1:] - w[:-1]) * (smooth[1:] - smooth[:-1]) <= 1e-6).all()  # weight falls as p rises
    assert torch.allclose(colour.rebalance_weights(smooth, 1.0), torch.ones(Q), atol=1e-5)  # lambda 1: none


# ---- hints -------------------------------------------------------------------------------
def test_hint_counts_follow_the_knobs():
    g = torch.Generator().manual_seed(0)
    counts = colour.hint_counts(20_000, p=1 / 8, free_share=0.5, max_hints=64, generator=g)
    assert (counts == 0).float().mean() == pytest.approx(0.5, abs=0.02)
    given = counts[counts > 0].float()
    assert given.min() >= 1 and given.max() <= 64
    assert given.mean() == pytest.approx(8, rel=0.08)  # 1 + Geometric(1/8): mean 8
    assert (colour.hint_counts(100, free_share=1.0) == 0).all()
    assert (colour.hint_counts(100, free_share=0.0) > 0).all()


def test_sampled_hints_show_the_true_mean_colour_and_a_mask():
    _, ab = colour.rgb_to_lab(torch.rand(3, 3, 24, 24, generator=torch.Generator().manual_seed(3)))
    g = torch.Generator().manual_seed(0)
    hints = colour.sample_hints(ab, torch.tensor([4, 0, 1]), max_size=1, generator=g)
    assert hints.shape == (3, 3, 24, 24)
    assert hints[:, 2].sum(dim=(1, 2)).tolist() == [4, 0, 1]
    mask = hints[:, 2:] > 0
    assert torch.equal(hints[:, :2][mask.expand(-1, 2, -1, -1)], ab[mask.expand(-1, 2, -1, -1)])
    assert (hints[:, :2][~mask.expand(-1, 2, -1, -1)] == 0).all()
    patch = colour.sample_hints(ab[:1], torch.tensor([1]), max_size=3, min_size=3,
                                generator=torch.Generator().manual_seed(1))
    m = patch[0, 2] > 0
    assert int(m.sum()) == 9
    assert torch.allclose(patch[0, :2, m], ab[0, :, m].mean(1, keepdim=True).expand(-1, 9), atol=1e-6)


# ---- net -----------------------------------------------------------------------------------
@pytest.mark.parametrize("head", ["regression", "classification"])
def test_net_shapes_for_each_head(head):
    net = ColorizationNet(tiny_net(head)).eval()
    x = torch.randn(2, 4, 64, 96)
    out = net(x)
    assert out.shape == (2, 2 if head == "regression" else Q, 32, 48)
    if head == "regression":
        assert out.abs().max() <= 1
    else:
        net.bin_centres.copy_(colour.gamut_bins().to(torch.int16))
    assert net.decode(out).shape == (2, 2, 32, 48)
    assert net.config.multiple == 8


def test_net_configs_are_validated():
    with pytest.raises(ValueError, match="num_bins"):
        ColorizationNetConfig(head="classification", num_bins=0)
    with pytest.raises(ValueError, match="num_bins"):
        ColorizationNetConfig(head="regression", num_bins=10)
    with pytest.raises(ValueError, match="head"):
        ColorizationNetConfig(head="mixture")


def test_backbone_net_shapes_and_a_start_that_ignores_hints():
    """The EfficientNet-Lite0 encoder: output at half the input, sides multiples of 32, and hints
    that reach the stem through a zero conv (the pretrained features start unchanged)."""
    cfg = ColorizationNetConfig(head="classification", num_bins=Q, max_channels=32, head_channels=8,
                                backbone="efficientnet_lite0")
    net = ColorizationNet(cfg).eval()
    assert cfg.multiple == 32 and net.encoder.channels == [16, 24, 40, 112, 320]
    L, hints = torch.rand(2, 1, 64, 96) * 2 - 1, torch.zeros(2, 3, 64, 96)
    hinted = hints.clone()
    hinted[:, :, 10:14, 20:24] = torch.tensor([0.4, -0.3, 1.0]).view(1, 3, 1, 1)
    with torch.no_grad():
        feats, feats_hinted = net.encoder(L, hints), net.encoder(L, hinted)
        out, out_hinted = net(torch.cat([L, hints], 1)), net(torch.cat([L, hinted], 1))
    assert [f.shape[-1] for f in feats] == [48, 24, 12, 6, 3]
    assert all(torch.equal(a, b) for a, b in zip(feats, feats_hinted))
    assert out.shape == (2, Q, 32, 48)
    assert not torch.equal(out, out_hinted)  # the decoder's last level sees the hint map
    with pytest.raises(ValueError, match="backbone"):
        ColorizationNetConfig(backbone="vgg16")


def test_hints_at_every_decoder_level_reach_far_from_the_hint():
    """hint_levels 4: a one-pixel hint changes the output well beyond the last level's 3x3 reach, and
    the pooled map keeps the hint's colour (mask-normalised); hint_levels 1 stays local."""
    base = dict(head="classification", num_bins=Q, max_channels=32, head_channels=8, backbone="efficientnet_lite0")
    L, hints = torch.rand(1, 1, 128, 128) * 2 - 1, torch.zeros(1, 3, 128, 128)
    hinted = hints.clone()
    hinted[:, :, 40, 40] = torch.tensor([0.4, -0.3, 1.0])
    far = (slice(None), slice(None), slice(24, 30), slice(24, 30))  # output pixels 4-10 away (stride 2)
    changes = {}
    for levels in (1, 4):
        torch.manual_seed(0)
        net = ColorizationNet(ColorizationNetConfig(**base, hint_levels=levels)).eval()
        with torch.no_grad():
            out, out_hinted = net(torch.cat([L, hints], 1)), net(torch.cat([L, hinted], 1))
        changes[levels] = (out_hinted - out)[far].abs().max().item()
        if levels == 4:
            pooled = net._pooled_hints(hinted, (8, 8))
            assert torch.allclose(pooled[0, :, 2, 2], torch.tensor([0.4, -0.3, 1.0]))
            assert pooled[0, 2].sum() == 1
    assert changes[1] == 0 and changes[4] > 0
    with pytest.raises(ValueError, match="hint_levels"):
        ColorizationNetConfig(hint_levels=5)


def test_hint_branch_spreads_a_hint_the_imagenet_body_never_sees():
    """hint_branch: a from-scratch encoder on (L, hints) whose features join the decoder at strides 2-16,
    so a one-pixel hint changes the output far from it while the ImageNet body's features stay unchanged."""
    base = dict(head="classification", num_bins=Q, max_channels=32, head_channels=8, backbone="efficientnet_lite0")
    L, hints = torch.rand(1, 1, 128, 128) * 2 - 1, torch.zeros(1, 3, 128, 128)
    hinted = hints.clone()
    hinted[:, :, 40, 40] = torch.tensor([0.4, -0.3, 1.0])
    torch.manual_seed(0)
    net = ColorizationNet(ColorizationNetConfig(**base, hint_branch=4)).eval()
    with torch.no_grad():
        out, out_hinted = net(torch.cat([L, hints], 1)), net(torch.cat([L, hinted], 1))
        feats, feats_hinted = net.encoder(L, hints), net.encoder(L, hinted)
        branch = net._branch_features(torch.cat([L, hinted], 1))
    assert [tuple(f.shape[1:]) for f in branch] == [(4, 64, 64), (8, 32, 32), (16, 16, 16), (16, 8, 8)]
    assert all(torch.equal(a, b) for a, b in zip(feats, feats_hinted))  # the hint stem starts at zero
    far = (slice(None), slice(None), slice(2, 8), slice(2, 8))  # output pixels 12-18 away (stride 2)
    assert (out_hinted - out)[far].abs().max() > 0
    with pytest.raises(ValueError, match="hint_branch"):
        ColorizationNetConfig(hint_branch=8)  # without a backbone the net's own encoder already sees hints


def test_backbone_starts_from_imagenet_and_fine_tunes_at_a_fraction_of_the_rate():
    from core.metrics.features import lite0_state
    from core.train.tasks import TASKS

    spec = get_spec("colorization_eff")
    spec = dataclasses.replace(spec, nets={"G": dataclasses.replace(spec.nets["G"], max_channels=32, head_channels=8)})
    task = TASKS["colorization"](spec, config_for(spec).with_(image_size=64), CPU)
    body, state = task.nets["G"].encoder.body.state_dict(), lite0_state()
    assert set(body) <= set(state) and all(torch.equal(body[k], state[k]) for k in body)
    task.set_lr(0)
    rates = sorted(g["lr"] for g in task.opts["G"].param_groups)
    assert rates == pytest.approx([0.1 * task.params.lr_G, task.params.lr_G])


@pytest.mark.parametrize("name", ["colorization", *VARIANTS, "colorization_eff", "colorization_eff_hints",
                                  "colorization_eff_branch"])
def test_registry_generators_fit_the_budget(name):
    net = build_net(get_spec(name).nets["G"])
    n = sum(p.numel() for p in net.parameters())
    assert n <= 6e6 and n * 2 <= 12e6, f"{name}: {n / 1e6:.2f} M params"


def test_registry_entries_and_the_one_line_choice():
    cls, ship = get_spec("colorization_cls"), get_spec("colorization")
    branch = get_spec("colorization_eff_branch")
    assert all(get_spec(n).task == "colorization" for n in VARIANTS)
    assert {n: get_spec(n).comparison_only for n in ("colorization", *VARIANTS, branch.name)} == {
        "colorization": False, "colorization_l2": False, "colorization_cls": True, "colorization_cgan": True,
        "colorization_eff_branch": True}
    # The shipped entry is the hint-encoder comparison entry under another name, nothing else changed.
    assert dataclasses.replace(branch, name=ship.name, title=ship.title, comparison_only=False) == ship
    assert ship.nets["G"].backbone == "efficientnet_lite0" and ship.nets["G"].hint_branch > 0
    assert {n: config_for(get_spec(n)).task.loss for n in VARIANTS} == {
        "colorization_l2": "l2", "colorization_cls": "classification", "colorization_cgan": "cgan"}
    assert set(get_spec("colorization_cgan").nets) == {"G", "D"} and set(cls.nets) == {"G"}


def test_the_loss_must_suit_the_head():
    from core.train.tasks import TASKS

    spec = dataclasses.replace(small_spec("colorization_l2"), task_params={"loss": "classification"})
    with pytest.raises(ValueError, match="head"):
        TASKS["colorization"](spec, config_for(spec).with_(image_size=32), CPU)


# ---- data ----------------------------------------------------------------------------------
def test_photo_files_split_and_left_halves(tmp_path):
    for i in range(40):
        Image.new("RGB", (8, 8)).save(tmp_path / f"{i}.png")
    pair = tmp_path / "pairs"
    pair.mkdir()
    im = Image.new("RGB", (20, 10), (255, 0, 0))
    im.paste((0, 0, 255), (10, 0, 20, 10))
    im.save(pair / "1_AB.png")
    train, val = (photo_files([tmp_path], split=s, holdout=0.25) for s in ("train", "val"))
    assert train and val and not {f.path for f in train} & {f.path for f in val}
    assert len(train) + len(val) == 40
    assert photo_files([tmp_path], split="val", holdout=0.25) == val  # deterministic
    half = load_photo(photo_files(left_halves=[pair])[0])
    assert half.size == (10, 10) and half.getpixel((5, 5)) == (255, 0, 0)


def test_photo_dataset_views(colour_folder):
    files = photo_files([colour_folder])
    for augment in (True, False):
        item = PhotoDataset(files, crop_size=32, augment=augment)[1]["image"]
        assert item.shape == (3, 32, 32) and item.min() >= -1 and item.max() <= 1
    fixed = PhotoDataset(files, crop_size=32, augment=False)
    assert torch.equal(fixed[3]["image"], fixed[3]["image"])


def test_painted_scenes_are_seeded_varied_and_held_out_from_training(tmp_path):
    from core.data.scenes import TRAIN_SEEDS, paint_scene, write_scenes
    a, b = paint_scene((96, 64), seed=5), paint_scene((96, 64), seed=5)
    assert a.size == (96, 64) and a.mode == "RGB" and np.array_equal(np.asarray(a), np.asarray(b))
    scenes = np.stack([np.asarray(paint_scene((64, 64), seed=s), float) for s in range(12)])
    assert scenes.std(0).mean() > 20  # different skies, grounds and things, not one picture
    top, bottom = scenes[:, :8].mean((0, 1, 2)), scenes[:, -8:].mean((0, 1, 2))
    assert top[2] > top[0] and bottom[1] > bottom[2]  # on average a bluish sky over greenish land
    paths = write_scenes(tmp_path / "painted", count=3, size=(48, 40))
    assert [p.name for p in paths] == ["scene_0000.png", "scene_0001.png", "scene_0002.png"]
    assert np.array_equal(np.asarray(Image.open(paths[1])), np.asarray(paint_scene((48, 40), seed=1)))
    with pytest.raises(ValueError):
        write_scenes(tmp_path / "too_many", count=TRAIN_SEEDS + 1)


def test_photo_dataset_mixes_in_painted_scenes_only_for_training(colour_folder):
    files = photo_files([colour_folder])
    photos = PhotoDataset(files, crop_size=32, augment=False)
    torch.manual_seed(0)
    painted = PhotoDataset(files, crop_size=32, augment=True, painted_share=1.0)
    items = torch.stack([painted[1]["image"] for _ in range(4)])
    assert items.shape == (4, 3, 32, 32) and items.min() >= -1 and items.max() <= 1
    assert (items[0] - items[1]).abs().mean() > 0.05  # a new scene each time, whatever the index
    assert all((items[i] - photos[1]["image"]).abs().mean() > 0.05 for i in range(4))  # not the photo
    with pytest.raises(ValueError, match="augment"):
        PhotoDataset(files, crop_size=32, augment=False, painted_share=0.1)



def test_painted_share_knob_reaches_the_training_set_only(colour_folder):
    from core.train.tasks import TASKS

    spec = small_spec("colorization_l2")
    task = TASKS["colorization"](spec, config_for(spec, painted_share=0.2).with_(image_size=32), CPU)
    assert task.make_dataset(colour_folder, augment=True).painted_share == 0.2
    assert task.eval_dataset(colour_folder).painted_share == 0.0

@pytest.mark.skipif(not shared("flowers102", "jpg").is_dir(), reason="../shared/data is not on this machine")
def test_registry_data_holds_out_a_fixed_share_of_every_folder():
    opts = get_spec("colorization").data.options
    folders = [*opts["photos"], *opts["left_halves"]]
    assert all(Path(f).is_dir() for f in folders)
    train = photo_files(opts["photos"], opts["left_halves"], "train", opts["holdout"])
    val = photo_files(opts["photos"], opts["left_halves"], "val", opts["holdout"])
    assert not {f.path for f in train} & {f.path for f in val}
    assert len(val) / (len(train) + len(val)) == pytest.approx(opts["holdout"], abs=0.01)
    assert {Path(f.path).parent for f in val} == {Path(f) for f in folders}  # every folder is tested
    assert all(f.left_half == (Path(f.path).parent == Path(opts["left_halves"][0])) for f in val)


# ---- training ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", VARIANTS)
def test_two_steps_write_a_checkpoint_the_pipeline_loads(name, trained, colour_folder):
    run = trained[name]
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "end"
    losses = next(e for e in events if e["event"] == "step")["losses"]
    want = {"colorization_l2": {"loss_G_L2"}, "colorization_cls": {"loss_G_cls"},
            "colorization_cgan": {"loss_G_L1", "loss_G_gan", "loss_D_real", "loss_D_fake"}}[name]
    assert set(losses) == want and all(np.isfinite(v) for v in losses.values())
    assert list((run / "samples").glob("*.png"))
    nets, meta = load_checkpoint(run / "checkpoint")
    assert set(nets) == {"G"} and meta["loss"] == config_for(get_spec(name)).task.loss
    if name == "colorization_cls":  # the colour distribution travels with the net
        G = nets["G"]
        assert torch.equal(G.bin_centres.long(), colour.gamut_bins())
        assert float(G.bin_prior.sum()) == pytest.approx(1, abs=1e-2) and G.bin_prior.max() < 1
    pipe = ColorizationPipeline.from_checkpoint(run / "checkpoint", precision="fp32")
    result = pipe(colour_folder / "photo_1.png")
    assert result.image.size == Image.open(colour_folder / "photo_1.png").size


def test_a_moving_average_ships_with_the_colour_bins_and_starts_at_a_warm_start(trained, colour_folder, tmp_path):
    spec = small_spec("colorization_cls")
    base = config_for(spec, ema_decay=0.9).with_(steps=3, batch_size=2, image_size=32, log_every=1, sample_every=100,
                                                 checkpoint_every=3, eval_every=0, num_workers=0,
                                                 data_root=str(colour_folder))
    run = train(spec, base, run_dir=tmp_path / "ema")
    state = torch.load(run / "state.pt", weights_only=False)["task"]["nets"]
    shipped = load_checkpoint(run / "checkpoint")[0]["G"].state_dict()
    weights = [k for k in state["G"] if k.endswith("weight") and state["G"][k].dim() > 1]
    assert any(not torch.allclose(state["G_ema"][k], state["G"][k]) for k in weights)  # an average, not G
    assert all(torch.allclose(shipped[k].float(), state["G_ema"][k], atol=2e-3) for k in weights)  # it ships
    assert torch.equal(shipped["bin_centres"].long(), colour.gamut_bins())  # with the bins and the prior
    assert float(shipped["bin_prior"].sum()) == pytest.approx(1, abs=1e-2)
    # A fine-tune of a shipped G (here the 2-step run's) starts its average at that G.
    start = load_checkpoint(trained["colorization_cls"] / "checkpoint")[0]["G"].state_dict()
    tune = dataclasses.replace(base.with_(steps=1, checkpoint_every=1, init_from=str(trained["colorization_cls"] / "checkpoint")),
                               task=config_for(spec, ema_decay=0.9, lr_G=1e-7).task)
    after = torch.load(train(spec, tune, run_dir=tmp_path / "ft") / "state.pt", weights_only=False)["task"]["nets"]
    assert all(torch.allclose(after["G_ema"][k], start[k].float(), atol=1e-3) for k in weights)


# ---- pipeline ----------------------------------------------------------------------------
def vivid_net() -> ColorizationNet:
    """An untrained regression net pushed to vivid colours (so many pixels leave the gamut)."""
    torch.manual_seed(0)
    net = ColorizationNet(tiny_net())
    with torch.no_grad():
        net.head.bias.copy_(torch.tensor([1.5, -1.0]))  # tanh -> ab ~ (0.9, -0.76): strong magenta-blue
        net.head.weight.normal_(0, 5.0)  # and varying with the input (the real init starts near grey)
    return net.eval()


def _exif_rotated(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the upright picture is the stored one turned
    im = Image.linear_gradient("L").resize((40, 24)).convert("RGB")
    im.save(path, exif=exif)
    return path


def _inputs(tmp_path) -> dict[str, object]:
    rng = np.random.default_rng(0)
    rgb = (rng.random((23, 37, 3)) * 255).astype(np.uint8)
    rgba = Image.fromarray(np.dstack([rgb, (rng.random((23, 37)) * 255).astype(np.uint8)]), "RGBA")
    return {"odd RGB": Image.fromarray(rgb), "grey L": Image.fromarray(rgb[..., 0]), "RGBA": rgba,
            "palette": Image.fromarray(rgb).convert("P"),
            "16 bit": Image.fromarray((rng.random((31, 17)) * 65535).astype(np.uint16)),
            "EXIF rotated": _exif_rotated(tmp_path / "rotated.jpg")}


def test_pipeline_keeps_the_size_and_the_lightness_of_any_input(tmp_path):
    pipe = pipe_of(vivid_net())
    for label, image in _inputs(tmp_path).items():
        upright = open_image(image)
        result = pipe(image)
        assert result.image.mode == "RGB" and result.image.size == upright.size, label
        diff = (L_of(result.image) - L_of(image)).abs()
        assert diff.max() < 1.0 and diff.mean() < 0.3, f"{label}: L moved by {diff.max():.2f}"
        assert np.asarray(result.image).std(axis=2).mean() > 5, f"{label}: no colour"
    assert pipe(_exif_rotated(tmp_path / "r.jpg")).image.size == (24, 40)  # turned upright


def test_pipeline_refuses_bad_hints_and_tiny_images():
    pipe, im = pipe_of(vivid_net()), Image.new("RGB", (40, 30), "gray")
    for hints in ([(40, 5, (1, 2, 3))], [(-1, 5, (1, 2, 3))], [(5, 5, (1, 2, 300))], [(5, 5)],
                  [(float("nan"), 5, (1, 2, 3))], [(1, 1, (0, 0, 0))] * (MAX_HINTS + 1)):
        with pytest.raises(ValueError):
            pipe(im, hints=hints)
    with pytest.raises(ValueError, match="too small"):
        pipe(Image.new("RGB", (8, 40)))


def test_the_hint_map_reaches_the_net_at_the_right_place():
    pipe = pipe_of(vivid_net())
    im = Image.new("RGB", (80, 40), "gray")  # model input 32 x 16: 2.5 uploaded px per model px
    prepared = pipe.prepare(im)
    assert prepared.L_model.shape[-2:] == (16, 32)
    hints = pipe.hint_map(prepared, [(70, 10, (0, 200, 0))])
    ys, xs = torch.nonzero(hints[0, 2], as_tuple=True)
    assert (float(ys.float().mean()), float(xs.float().mean())) == (4.0, 28.0)  # pixel centres mapped
    a, b = colour.ab_of_colour((0, 200, 0))
    assert torch.allclose(hints[0, :2, ys, xs], torch.tensor([[a], [b]]).expand(-1, len(ys)))
    plain, hinted = pipe.run(prepared.L_model), pipe.run(prepared.L_model, hints)
    assert not torch.allclose(plain, hinted)
    assert pipe.prepare(im.copy()) is prepared  # same pixels: the full-resolution work is cached


def test_colour_at_reads_the_output():
    net = vivid_net()
    with torch.no_grad():
        net.head.weight.zero_()  # one colour everywhere
    pipe = pipe_of(net)
    result = pipe(Image.new("RGB", (50, 30), (120, 120, 120)))
    assert result.colour_at(10, 10) == result.image.getpixel((10, 10))  # flat picture: flat output
    assert result.colour_at(1e6, -5) == result.image.getpixel((49, 0))  # clamped, never an error


def test_guess_is_the_output_colour_there_and_gray_is_the_lightness():
    net = vivid_net()
    with torch.no_grad():
        net.head.weight.zero_()  # one colour everywhere
    pipe = pipe_of(net)
    im = Image.new("RGB", (50, 30), (120, 120, 120))
    result = pipe(im)
    guess = pipe.guess(im, [], 10, 10)
    assert all(abs(g - c) <= 2 for g, c in zip(guess, result.image.getpixel((10, 10))))
    assert pipe.guess(im, [], 1e6, -5) == pipe.guess(im, [], 49, 0)  # clamped, never an error
    gray = pipe.gray(im)
    assert gray.size == im.size and len(set(gray.getpixel((3, 3)))) == 1
    assert abs(L_of(gray) - L_of(im)).max() < 1.0


def test_large_photos_are_capped_and_hints_stay_in_uploaded_pixels(monkeypatch):
    from core.pipelines import colorization

    monkeypatch.setattr(colorization, "MAX_SIDE", 100)
    pipe = pipe_of(vivid_net())
    result = pipe(Image.new("RGB", (200, 60), "gray"), hints=[(190, 50, (255, 0, 0))])
    assert result.image.size == (100, 30) and "downscaled from 200x60" in result.note
    assert result.scale == 0.5


def train_hint_follower(folder: Path) -> Path:
    """Flat photos of random colours, where L says nothing about the colour and only a hint does:
    a tiny net trained 400 steps on them (a few seconds) follows hints. Returns its checkpoint."""
    rng = np.random.default_rng(0)
    photos = folder / "photos"
    photos.mkdir(parents=True)
    for i in range(96):
        noise = rng.normal(0, 12, (40, 40, 1))
        Image.fromarray(np.clip(rng.integers(0, 256, 3) + noise, 0, 255).astype(np.uint8)).save(photos / f"{i}.png")
    spec = dataclasses.replace(small_spec("colorization_l2"), nets={"G": dataclasses.replace(
        tiny_net(), base_channels=16, max_channels=32, head_channels=16)})
    config = config_for(spec, hint_free_share=0.0, lr_G=2e-3).with_(
        steps=400, batch_size=8, image_size=32, beta1=0.9, decay_from=1.0, log_every=100, sample_every=10**6,
        checkpoint_every=10**6, eval_every=0, num_workers=0, data_root=str(photos))
    return train(spec, config, run_dir=folder / "run") / "checkpoint"


def test_hints_pull_the_colour_towards_them_after_a_little_training(tmp_path, monkeypatch):
    """After the little training, the colour at a hint is nearer the hint's colour than the colour
    another hint gives there (for every pair of red, blue, green)."""
    # One thread: this net's convolutions are tiny (4-32 px), and two threads spend most of each step
    # waiting on each other (61 s against 7 s, measured beside two training runs).
    monkeypatch.setenv("LAB_THREADS", "1")
    threads = torch.get_num_threads()
    try:
        pipe = ColorizationPipeline.from_checkpoint(train_hint_follower(tmp_path), precision="fp32")
    finally:
        torch.set_num_threads(threads)  # train() set one thread for the whole process
    grey = Image.new("RGB", (40, 40), (128, 128, 128))
    hints = [(220, 30, 30), (30, 30, 220), (30, 200, 30)]
    got = [torch.tensor(colour.ab_of_colour(pipe(grey, hints=[(20, 20, h)]).colour_at(20, 20))) for h in hints]
    want = [torch.tensor(colour.ab_of_colour(h)) for h in hints]
    for i in range(3):
        for j in range(3):
            if i != j:  # hint i's colour is nearer hint i's output than hint j's output
                assert (got[i] - want[i]).norm() < 0.9 * (got[j] - want[i]).norm(), (hints[i], hints[j], got)


# ---- eval ----------------------------------------------------------------------------------
KEYS = {"acc_gray", "acc_ours", "gap_recovered", "psnr_rgb", "psnr_ab", "colourfulness", "colourfulness_truth",
        "colourfulness_ratio", "hints_1", "hints_5", "hints_20", "by_folder", "n", "size", "temperature", "features_precision"}


def test_eval_cli_reports_every_figure(trained, colour_folder, tmp_path):
    from core.eval.__main__ import main as eval_main

    out = tmp_path / "m.json"
    assert eval_main(["colorization_cls", "--data", str(colour_folder), "--checkpoint",
                      str(trained["colorization_cls"] / "checkpoint"), "--json", str(out)]) == 0
    m = json.loads(out.read_text())
    assert KEYS <= set(m) and m["n"] == 10 and m["size"] == 32
    assert 0 <= m["acc_gray"] <= 1 and 0 <= m["acc_ours"] <= 1
    for k in (1, 5, 20):
        row = m[f"hints_{k}"]
        assert set(row) == {"acc_ours", "gap_recovered", "psnr_rgb", "psnr_ab", "colourfulness_ratio"}
        assert row["psnr_rgb"] > 5 and 0 <= row["acc_ours"] <= 1 and row["colourfulness_ratio"] > 0
        if m["acc_gray"] < 1:
            assert row["gap_recovered"] == pytest.approx((row["acc_ours"] - m["acc_gray"]) / (1 - m["acc_gray"]),
                                                         abs=1e-4)
    # One folder here: its breakdown is the whole set's.
    label = f"{colour_folder.parent.name}/{colour_folder.name}"
    assert list(m["by_folder"]) == [label]
    only = m["by_folder"][label]
    assert only["n"] == 10 and only["acc_ours"] == pytest.approx(m["acc_ours"], abs=1e-4)


def test_eval_is_deterministic_and_hints_are_seeded(trained, colour_folder):
    from core.eval.colorization import evaluate, seeded_hints

    _, ab = colour.rgb_to_lab(torch.rand(2, 3, 16, 16))
    assert torch.equal(seeded_hints(ab, 5, 3), seeded_hints(ab, 5, 3))
    assert int((seeded_hints(ab, 1, 0)[:, 2] > 0).sum()) == 2 * 9  # one 3 x 3 patch each
    ckpt = trained["colorization_l2"] / "checkpoint"
    a = evaluate(get_spec("colorization_l2"), colour_folder, ckpt, precision="fp32", limit=4)
    b = evaluate(get_spec("colorization_l2"), colour_folder, ckpt, precision="fp32", limit=4)
    assert a == b and a["n"] == 4


def test_figure_grid_renders(trained, colour_folder, tmp_path):
    from core.eval.figures import main as figures_main

    figures_main(["colorization_cls", "--checkpoint", str(trained["colorization_cls"] / "checkpoint"),
                  "--baseline", str(trained["colorization_l2"] / "checkpoint"), "--data", str(colour_folder),
                  "--out", str(tmp_path)])
    im = Image.open(tmp_path / "colorization_cls_val.png")
    assert im.width > 4 * 32  # grey | L2 | ours | truth


def test_paired_comparison_counts_discordant_photos_and_bootstraps_the_difference():
    from bench.colorization_paired import FIGURES, compare, mcnemar_p

    assert mcnemar_p(0, 10) == pytest.approx(2 / 2 ** 10) and mcnemar_p(5, 5) == 1.0 and mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(3, 17) == pytest.approx(2 * sum(math.comb(20, i) for i in range(4)) / 2 ** 20)
    g = torch.Generator().manual_seed(0)
    grey = torch.rand(300, generator=g) < 0.4
    a = {"hit": grey | (torch.rand(300, generator=g) < 0.3)}
    b = {"hit": a["hit"].clone()}
    b["hit"][torch.nonzero(~a["hit"])[:12, 0]] = True  # B keeps the verdict on 12 more photos, loses none
    for key in FIGURES:
        a[key] = torch.randn(300, generator=g) * 3 + 23
        b[key] = a[key] + torch.randn(300, generator=g) * 0.2 + (0.3 if key == "psnr_rgb" else 0.0)
    report = compare(grey, a, b, resamples=500)
    gap = report["gap_recovered"]
    assert (gap["photos_only_a_keeps"], gap["photos_only_b_keeps"]) == (0, 12) and gap["mcnemar_p"] < 0.001
    assert gap["b_minus_a"] == pytest.approx(12 / 300 / (1 - float(grey.float().mean())), abs=1e-4)
    assert gap["ci95"][0] > 0 and gap["share_b_better"] == 1.0
    assert report["psnr_rgb"]["ci95"][0] > 0.2 and report["psnr_rgb"]["share_b_better"] == 1.0
    assert report["psnr_rgb_hints_5"]["ci95"][0] < 0 < report["psnr_rgb_hints_5"]["ci95"][1]  # no difference there
