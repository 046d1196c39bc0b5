"""Training time-lapse (issue 18, part 4): a run saves frames of the model's own outputs on inputs made in
code (never dataset pixels), promote ships a thinned copy with the curves under a size cap in the same
atomic swap, the CLI builds one for a finished run, the reader refuses a manifest that points outside its
folder, and the "How it learned" tab, driven through gradio_client, shows another frame when the slider
moves. CPU only; the tiny training run takes a few seconds."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import core.registry
from core.checkpoint import is_checkpoint
from core.data.sketches import DRAWINGS, draw
from core.nets import (AttributeNetConfig, DCGANDiscriminatorConfig, DCGANGeneratorConfig, PatchGANConfig, ResnetConfig,
                       UNetConfig, build_net)
from core.pipelines import timelapse as reader
from core.pipelines.sketch2photo import Sketch2PhotoPipeline
from core.registry import get_spec
from core.train import TrainConfig, config_for, train
from core.train import timelapse as tl
from core.train.events import EventLog, read_events
from core.train.promote import promote
from core.train.tasks import TASKS
from core.train.tasks.base import attribute_tiles, gan_faces, resized_faces, timelapse_row
from core.train.tasks.cyclegan import toy_horses
from core.train.tasks.pix2pix import TIMELAPSE_STROKE

CPU = torch.device("cpu")
ATTRIBUTE_NAMES = json.loads((get_spec("face_attributes").checkpoint_dir / "config.json").read_text())["meta"]["attributes"] \
    if (get_spec("face_attributes").checkpoint_dir / "config.json").is_file() else \
    ["Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair"] + [f"attribute_{i}" for i in range(35)]
SMALL = dataclasses.replace(
    get_spec("sketch2photo"),
    nets={"G": UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6),
          "D": PatchGANConfig(in_channels=4, base_channels=8)})


def _config(folder, steps: int, **kw) -> TrainConfig:
    # fp32: the frames are compared with G run again outside the loop.
    return TrainConfig(steps=steps, batch_size=2, image_size=64, log_every=1, sample_every=2, checkpoint_every=steps,
                       precision="fp32", data_root=str(folder), **kw)


def tiles(frame: np.ndarray, n: int, size: int) -> np.ndarray:
    """The n tiles [n, size, size, 3] of a frame laid out by timelapse_row (2 px white gaps)."""
    return np.stack([frame[2:2 + size, 2 + i * (size + 2):2 + i * (size + 2) + size] for i in range(n)])


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


@pytest.fixture(scope="module")
def run(tmp_path_factory, paired_folder_photo_left) -> Path:
    """A tiny sketch2photo run: 4 steps, frames at steps 2 and 4."""
    return train(SMALL, _config(paired_folder_photo_left, 4), run_dir=tmp_path_factory.mktemp("lapse") / "run")


# ---- frames during training ------------------------------------------------------------------------------

def test_a_run_saves_a_frame_at_every_sample_step_with_its_cost(run):
    assert [s for s, _ in tl.run_frames(run)] == [2, 4]
    samples = [e for e in read_events(run / "events.jsonl") if e["event"] == "sample"]
    assert [e["step"] for e in samples] == [2, 4]
    assert all(Path(e["timelapse"]).is_file() and 0 < e["timelapse_ms"] < 5000 for e in samples)
    about = json.loads((run / "timelapse" / "about.json").read_text())
    assert "drawings made in code" in about["caption"]
    frame = Image.open(run / "timelapse" / "step_0000004.png")
    n = len(DRAWINGS)
    assert frame.size == (n * 66 + 2, 68) and n <= 8  # one row of the model's 64 px outputs


def test_a_failing_frame_is_logged_and_the_run_goes_on(tmp_path, paired_folder_photo_left, monkeypatch):
    def broken(self, inputs):
        raise RuntimeError("frame broke")

    monkeypatch.setattr(TASKS["pix2pix"], "timelapse_frame", broken)
    out = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    samples = [e for e in read_events(out / "events.jsonl") if e["event"] == "sample"]
    assert samples and all("frame broke" in e["timelapse_error"] for e in samples)
    assert is_checkpoint(out / "checkpoint")  # the run finished and saved


def test_failing_inputs_are_logged_at_the_start_and_the_run_goes_on(tmp_path, paired_folder_photo_left, monkeypatch):
    def broken(self):
        raise RuntimeError("inputs broke")

    monkeypatch.setattr(TASKS["pix2pix"], "timelapse_inputs", broken)
    out = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    start = next(e for e in read_events(out / "events.jsonl") if e["event"] == "start")
    assert "inputs broke" in start["timelapse_error"]
    assert tl.run_frames(out) == [] and is_checkpoint(out / "checkpoint")


def test_tiles_larger_than_a_frame_tile_are_shrunk_not_refused():
    """The reference pix2pix works at 256 px: its frames are made of 128 px tiles (its first
    resume with frames died on a refusal here)."""
    big = torch.zeros(6, 3, 256, 256)
    big[:, 0] = 1.0  # red
    row = timelapse_row(big)
    assert row.shape == (3, 128 + 4, 6 * 130 + 2)
    assert torch.allclose(row[:, 2:130, 2:130], big[0, :, :128, :128])
    with pytest.raises(ValueError):
        timelapse_row(torch.zeros(9, 3, 64, 64))


def test_the_frame_is_G_on_the_code_drawings_as_the_pipeline_prepares_them(run):
    """The last frame is exactly what the run's final G makes of the example drawings made in code,
    prepared by the app's own pipeline: no dataset pixel can be in it. (A frame of G's photos of the
    dataset's edge maps, or of anything else, fails.)"""
    G = build_net(SMALL.nets["G"])
    G.load_state_dict(torch.load(run / "state.pt", weights_only=False)["task"]["nets"]["G"])
    pipe = Sketch2PhotoPipeline(G, 64, CPU, torch.float32)
    x = torch.cat([pipe.prepare(draw(name, width=TIMELAPSE_STROKE, seed=i)) for i, name in enumerate(DRAWINGS)])
    expected = ((pipe.run(x) * 0.5 + 0.5).clamp(0, 1) * 255).permute(0, 2, 3, 1).numpy()
    got = tiles(_png(run / "timelapse" / "step_0000004.png"), len(DRAWINGS), 64)
    assert np.abs(got - expected).max() <= 1.0  # 8-bit rounding only
    inputs = tiles(_png(run / "timelapse" / "inputs.png"), len(DRAWINGS), 64)
    assert np.abs(inputs - ((x * 0.5 + 0.5) * 255).permute(0, 2, 3, 1).numpy()).max() <= 1.0
    # The earlier frame was made by the weights of step 2: it differs (the frames change with training).
    assert np.abs(tiles(_png(run / "timelapse" / "step_0000002.png"), len(DRAWINGS), 64) - got).max() > 0


def test_a_frame_restores_every_nets_mode_and_leaves_the_random_stream_alone():
    task = TASKS["pix2pix"](SMALL, config_for(SMALL, image_size=64, precision="fp32"), CPU)
    G = task.nets["G"].train()
    list(G.modules())[3].eval()  # a mixed state, to be restored as it was
    before = {name: m.training for name, m in G.named_modules()}
    inputs = task.timelapse_inputs()
    rng = torch.get_rng_state()
    frame = task.timelapse_frame(inputs)
    assert torch.equal(rng, torch.get_rng_state())
    assert {name: m.training for name, m in G.named_modules()} == before
    assert frame.shape[0] == 3 and 0 <= float(frame.min()) and float(frame.max()) <= 1


def test_a_hinted_generator_gets_no_hints_in_the_frame():
    hinted = dataclasses.replace(SMALL, nets={**SMALL.nets, "G": dataclasses.replace(SMALL.nets["G"], in_channels=5)})
    task = TASKS["pix2pix"](hinted, config_for(hinted, image_size=64, precision="fp32"), CPU)
    inputs = task.timelapse_inputs()
    frame = task.timelapse_frame(inputs)
    x = inputs.tensors["A"]
    with torch.no_grad():
        out = task.nets["G"].eval()(torch.cat([x, torch.zeros(len(x), 4, 64, 64)], 1))
    assert torch.allclose(frame[:, 2:66, 2:66], (out[0] * 0.5 + 0.5).clamp(0, 1), atol=1e-5)


def test_the_cyclegan_frame_is_G_A_on_horses_painted_in_code():
    g = ResnetConfig(base_channels=8, num_blocks=1)
    spec = dataclasses.replace(get_spec("horse2zebra"), nets={"G_A": g, "G_B": g, "D_A": PatchGANConfig(in_channels=3, base_channels=8),
                                                                 "D_B": PatchGANConfig(in_channels=3, base_channels=8)})
    task = TASKS["cyclegan"](spec, config_for(spec, image_size=64, precision="fp32"), CPU)
    frame = task.timelapse_frame(task.timelapse_inputs())
    painted = torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1).float() / 255 for im in toy_horses(64)])
    with torch.no_grad():
        out = (task.nets["G_A"].eval()(painted * 2 - 1) * 0.5 + 0.5).clamp(0, 1)
    assert len(painted) <= 8 and torch.allclose(frame[:, 2:66, 2 + 66:2 + 66 + 64], out[1], atol=1e-5)


def test_faces_frames_use_the_shipped_net_and_fixed_latents():
    spec = dataclasses.replace(get_spec("faces"), nets={"G": DCGANGeneratorConfig(z_dim=16, base_channels=8),
                                                        "D": DCGANDiscriminatorConfig(base_channels=8)})
    task = TASKS["dcgan"](spec, config_for(spec, precision="fp32"), CPU)
    inputs = task.timelapse_inputs()
    first = task.timelapse_frame(inputs)
    assert torch.equal(first, task.timelapse_frame(task.timelapse_inputs()))  # the same latents every time
    with torch.no_grad():
        expected = task.shipped_nets()["G"](inputs.tensors["z"])  # G_ema, its standing statistics
    assert torch.allclose(first[:, 2:66, 2:66], (expected[0] * 0.5 + 0.5).clamp(0, 1), atol=1e-5)


def test_standing_statistics_are_recomputed_only_when_the_weights_changed():
    spec = dataclasses.replace(get_spec("faces"), nets={"G": DCGANGeneratorConfig(z_dim=16, base_channels=8),
                                                        "D": DCGANDiscriminatorConfig(base_channels=8)})
    task = TASKS["dcgan"](spec, config_for(spec, precision="fp32"), CPU)
    calls = []
    task.nets["G_ema"].register_forward_hook(lambda *a: calls.append(1))
    task.shipped_nets()
    n = len(calls)
    assert n == 8  # the recalibration's batches
    task.shipped_nets()
    assert len(calls) == n  # unchanged weights: skipped
    task._update_ema(5)
    task.shipped_nets()
    assert len(calls) == 2 * n


def test_tasks_without_the_faces_gan_or_without_the_shown_attributes_make_no_frame(monkeypatch, tmp_path):
    spec = dataclasses.replace(get_spec("face_attributes"), nets={"C": AttributeNetConfig(num_outputs=40, base_channels=8)})
    task = TASKS["attributes"](spec, config_for(spec), CPU)
    task.names = [f"attribute_{i}" for i in range(40)]  # none of the shown ones
    assert task.timelapse_inputs() is None
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)  # no faces GAN there
    task.names = list(ATTRIBUTE_NAMES)
    assert task.timelapse_inputs() is None
    for name in ("inpainting", "colorization_l2"):
        spec = get_spec(name)
        assert TASKS[spec.task](spec, config_for(spec, image_size=64), CPU).timelapse_inputs() is None


def test_every_served_model_makes_a_few_dozen_frames_with_its_registry_defaults():
    from core.registry import REGISTRY
    from core.train.tasks.base import Task

    for spec in REGISTRY.values():
        if spec.comparison_only or TASKS[spec.task].timelapse_frame is Task.timelapse_frame:
            continue
        config = config_for(spec)
        assert config.steps // config.sample_every >= tl.MIN_FRAMES, spec.name


def test_a_classifier_tile_draws_each_bar_as_long_as_its_probability():
    probs = torch.tensor([[0.0, 0.25, 0.5, 0.75, 1.0], [1.0, 0.6, 0.4, 0.1, 0.0]])
    faces = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    pictures = attribute_tiles(faces, probs, ["a", "b", "c", "d", "e"])
    assert pictures.shape == (2, 3, 128, 128)
    span = 128 - 3 - 44  # a full bar's pixels (attribute_tiles: bars from x = 44 to 3 px before the edge)
    for i in range(2):
        rgb = (pictures[i] * 255).round().permute(1, 2, 0).numpy()
        for j, p in enumerate(probs[i].tolist()):
            y = 128 - 4 - 5 * 10 + 3 + j * 10 + 5  # the middle of row j
            line = rgb[y, 44:125]
            blue = (np.abs(line - [40, 110, 220]).sum(1) == 0).sum()
            grey = (np.abs(line - [150, 150, 150]).sum(1) == 0).sum()
            assert abs(blue + grey - p * span) <= 1, (i, j, p, blue, grey)
            assert (blue > 0) == (p >= 0.5 and p > 0) and (grey > 0) == (0 < p < 0.5)
    with pytest.raises(ValueError, match="at most 5"):
        attribute_tiles(faces, torch.rand(2, 6), list("abcdef"))


@pytest.mark.shipped
@pytest.mark.skipif(not is_checkpoint(get_spec("faces").checkpoint_dir), reason="needs the shipped faces GAN")
def test_classifier_frames_show_the_verdicts_of_the_net_being_trained_on_gan_faces():
    spec = dataclasses.replace(get_spec("face_attributes"), nets={"C": AttributeNetConfig(num_outputs=40, base_channels=8)})
    task = TASKS["attributes"](spec, config_for(spec, precision="fp32"), CPU)
    task.names = list(ATTRIBUTE_NAMES)
    inputs = task.timelapse_inputs()
    assert inputs.view.shape == (8, 3, 128, 128) and "smile" in inputs.caption
    native = gan_faces(range(8), None)  # the view is resampled once, from the GAN's own 64 px
    assert torch.equal(inputs.view, resized_faces(native, 128)) and torch.equal(inputs.tensors["faces"], native)
    C = task.nets["C"]
    with torch.no_grad():
        C.eval()
        probs = torch.sigmoid(C(inputs.tensors["image"]).float())
    C.train()
    columns = [ATTRIBUTE_NAMES.index(a) for a in ("Smiling", "Male", "Eyeglasses", "Young", "Blond_Hair")]
    expected = timelapse_row(attribute_tiles(inputs.tensors["faces"], probs[:, columns], ["smile", "male", "glasses",
                                                                                          "young", "blond"]))
    frame = task.timelapse_frame(inputs)
    assert torch.equal(frame, expected) and C.training  # the net's verdicts; its mode restored
    with torch.no_grad():
        C.head[-1].bias.add_(5.0)  # every verdict towards yes
    assert not torch.equal(task.timelapse_frame(inputs), frame)  # the frame follows the weights
    # The face-text encoder's frames: its zero-shot verdicts from PROBES' caption pairs.
    spec = get_spec("face_text")
    text = TASKS["face_text"](spec, config_for(spec, precision="fp32"), CPU)
    assert text.timelapse_inputs() is None  # before its probes are embedded
    text.probe_names = ["Smiling", "Male", "Eyeglasses"]
    text.probes = torch.nn.functional.normalize(torch.randn(3, 2, 384, generator=torch.Generator().manual_seed(1)), dim=-1)
    lapse = text.timelapse_inputs()
    assert "zero-shot" in lapse.caption and text.timelapse_frame(lapse).shape == expected.shape


@pytest.mark.shipped
@pytest.mark.skipif(not is_checkpoint(get_spec("faces").checkpoint_dir), reason="needs the shipped faces GAN")
def test_inpainting_frames_keep_the_gan_faces_outside_the_centre_hole():
    spec = get_spec("inpainting")
    task = TASKS["inpainting"](spec, config_for(spec, precision="fp32"), CPU)
    inputs = task.timelapse_inputs()
    frame = (task.timelapse_frame(inputs) * 255).round()
    faces = (inputs.tensors["image"] * 0.5 + 0.5) * 255
    known = inputs.tensors["mask"][0, 0] == 0
    for i in range(len(faces)):
        tile = frame[:, 2:66, 2 + i * 66:2 + i * 66 + 64]
        assert (tile - faces[i]).abs()[:, known].max() <= 1.0  # the GAN's face, not a photo
    assert 0 < float(inputs.tensors["mask"].mean()) < 0.5


# ---- the shipped copy ------------------------------------------------------------------------------------------

def _noisy_run(run: Path, tmp: Path, frames: int = 80, losses: int = 600, tiles: int = 8) -> Path:
    """The tiny run, copied, with many frames of noise (PNG cannot compress it: the cap must act), each
    `tiles` 66 px tiles wide, and a long log of step and eval events."""
    big = tmp / "big_run"
    shutil.copytree(run, big)
    gen = torch.Generator().manual_seed(0)
    for step in range(1, frames + 1):
        tl.record_frame(big, step * 10, torch.rand(3, 68, tiles * 66 + 2, generator=gen))
    log = EventLog(big / "events.jsonl")
    for step in range(5, 5 + losses):
        log.write("step", step, losses={"loss_G_L1": 50.0 / step, "loss_D_real": 0.7})
        if step % 50 == 0:
            log.write("eval", step, n=8, fd_eff=200.0 - step / 10)
    return big


def test_promote_ships_a_thinned_time_lapse_under_the_cap_in_the_same_swap(run, tmp_path, monkeypatch):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path / "checkpoints")
    big = _noisy_run(run, tmp_path)
    target = promote(SMALL, big)
    assert sorted(p.name for p in target.parent.iterdir()) == ["sketch2photo"]  # no temp folder left
    assert is_checkpoint(target) and (target / "MODEL_CARD.md").is_file()
    lapse = target / "timelapse"
    manifest = json.loads((lapse / "timelapse.json").read_text())
    steps = [f["step"] for f in manifest["frames"]]
    all_steps = [s for s, _ in tl.run_frames(big)]
    assert 2 <= len(steps) <= tl.MAX_FRAMES and steps[0] == all_steps[0] and steps[-1] == all_steps[-1] == 800
    assert steps == sorted(set(steps)) and set(steps) <= set(all_steps)
    assert tl.folder_bytes(lapse) <= tl.MAX_BYTES
    assert sorted(p.name for p in lapse.iterdir()) == sorted([*(tl.frame_name(s) for s in steps), "inputs.png",
                                                              "timelapse.json"])
    curve = manifest["losses"]["loss_G_L1"]
    assert len(curve["steps"]) <= tl.MAX_POINTS and curve["steps"][-1] == 604
    assert manifest["metrics"]["fd_eff"]["steps"][-1] == 600 and manifest["model"] == "sketch2photo"
    # ... and the tab's reader takes it.
    lapse_read = reader.read("sketch2photo")
    assert lapse_read.steps == tuple(steps) and lapse_read.frame(0).size[1] <= 68
    # A run without frames promotes without a time-lapse: the old one describes other weights.
    shutil.rmtree(big / "timelapse")
    assert not (promote(SMALL, big) / "timelapse").exists()


@pytest.mark.parametrize("cap", [125_000, 30_000])
def test_a_smaller_cap_is_kept_by_fewer_or_smaller_frames_first_and_last_kept(run, tmp_path, cap):
    big = _noisy_run(run, tmp_path, frames=40, losses=10, tiles=4)  # half-width frames, half the caps: faster
    manifest = tl.write_into(big, tmp_path / "out", max_bytes=cap)
    assert tl.folder_bytes(tmp_path / "out") <= cap
    steps = [f["step"] for f in manifest["frames"]]
    assert steps[0] == 2 and steps[-1] == 400 and (manifest["scale"] < 1 or len(steps) < 36)
    with pytest.raises(ValueError, match="do not fit"):
        tl.write_into(big, tmp_path / "none", max_bytes=5_000)


def test_a_plan_that_fits_at_its_fewest_frames_is_never_skipped_as_hopeless():
    """_fit skips a plan from a 3-frame sample only when it is far off: at a budget that holds the
    first plan's fewest frames exactly, that plan is the one chosen, not a smaller one."""
    rng = np.random.default_rng(0)
    images = [(s, Image.fromarray(rng.integers(0, 256, (24, 48, 3), dtype=np.uint8)))
              for s in range(1, 41)]
    scale, palette = tl.PLANS[0]
    fewest = [tl._encode(images[j][1], scale, palette) for j in tl.spread(len(images), tl.MIN_FRAMES)]
    frames, _, got_scale, got_palette = tl._fit(images, None, sum(map(len, fewest)), tl.MAX_FRAMES)
    assert (got_scale, got_palette) == (scale, palette) and len(frames) >= tl.MIN_FRAMES
    frames, _, got_scale, got_palette = tl._fit(images, None, sum(map(len, fewest)) // 3, tl.MAX_FRAMES)
    assert (got_scale, got_palette) != (scale, palette)  # a third of that: a later plan


def test_thinning_keeps_the_ends_and_the_level():
    assert tl.spread(100, 36)[0] == 0 and tl.spread(100, 36)[-1] == 99 and len(tl.spread(100, 36)) == 36
    assert tl.spread(5, 36) == [0, 1, 2, 3, 4] and tl.spread(0, 3) == []
    points = [(s, 1.0 + (s % 2)) for s in range(1, 1001)]
    thin = tl.thin_mean(points, 100)  # runs of 10: the noise (1, 2, 1, 2, ...) averages out, the level stays
    assert len(thin) == 100 and thin[-1][0] == 1000 and all(abs(v - 1.5) < 1e-9 for _, v in thin)
    assert len(tl.thin_mean(points)) == tl.MAX_POINTS and tl.thin_pick(points, 3) == [points[0], points[500], points[-1]]


def test_the_cli_builds_a_time_lapse_for_a_finished_run_without_touching_the_weights(run, tmp_path, capsys):
    out = tmp_path / "checkpoints" / "sketch2photo" / "timelapse"
    tl.main([str(run), "--out", str(out)])
    assert "2 of 2 frames" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["timelapse"]  # no weights, no temp folder
    tl.main([str(run), "--out", str(out), "--max-frames", "1"])  # rebuilt in place (swapped)
    assert [f["step"] for f in json.loads((out / "timelapse.json").read_text())["frames"]] == [4]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        tl.main([str(tmp_path / "empty"), "--out", str(tmp_path / "x")])


def _stage(run: Path, steps: range, colour: float, loss: float) -> Path:
    log = EventLog(run / "events.jsonl")
    log.write("start", 0, model="sketch2photo")
    for step in steps:
        tl.record_frame(run, step, timelapse_row(torch.full((6, 3, 64, 64), colour)))
        log.write("step", step, losses={"loss_G_L1": loss})
        log.write("eval", step, n=4, fd_eff=loss * 10)
    tl.record_inputs(run, f"stage at {colour}", torch.full((6, 3, 64, 64), 0.5))
    return run


def test_a_model_trained_in_stages_gets_one_time_lapse_with_the_later_stage_counted_on(tmp_path):
    first = _stage(tmp_path / "stage1", range(0, 1001, 250), 0.2, 3.0)  # frames at 0..1,000
    second = _stage(tmp_path / "stage2", range(0, 301, 100), 0.8, 1.0)  # a fine-tune from its weights (0: its start)
    out = tmp_path / "checkpoints" / "sketch2photo" / "timelapse"
    tl.main([str(second), "--out", str(out), "--earlier", str(first)])
    manifest = json.loads((out / "timelapse.json").read_text())
    assert [f["step"] for f in manifest["frames"]] == [0, 250, 500, 750, 1000, 1100, 1200, 1300]
    assert manifest["last_step"] == 1300 and manifest["frames_in_run"] == 8
    assert manifest["stages"] == [{"run": "stage1", "from_step": 0}, {"run": "stage2", "from_step": 1000}]
    assert manifest["run"] == "stage1 + stage2" and manifest["caption"] == "stage at 0.8"  # the last stage's
    curve = manifest["losses"]["loss_G_L1"]
    assert curve["steps"] == [0, 250, 500, 750, 1000, 1100, 1200, 1300] and curve["values"][-4:] == [1.0] * 4
    for step in (1000, 1100):  # step 1,000 is both stage 1's end and stage 2's start: the later stage's frame
        frame = np.asarray(Image.open(out / tl.frame_name(step)).convert("RGB"))
        assert abs(int(frame[frame.shape[0] // 2, 32, 0]) - round(0.8 * 255)) <= 2
    # The tab's reader: the stages, each frame's stage, and a grey line in the charts where stage 2 began.
    lapse = reader.read("sketch2photo", out)
    assert lapse.stages == (("stage1", 0), ("stage2", 1000))
    assert [lapse.stage_of(s) for s in (0, 999, 1000, 1300)] == [0, 0, 1, 1]
    plain, marked = (np.asarray(reader.chart(lapse.losses, 0, 1300, "t", b)) for b in ((), (1000,)))
    changed = np.argwhere((plain != marked).any(axis=2))
    grey = (marked == reader.STAGE).all(axis=2)
    x = reader.LEFT + (reader.CHART_W - reader.RIGHT - reader.LEFT) * 1000 / 1300
    assert grey.any(axis=0)[round(x) - 1:round(x) + 2].any() and abs(np.median(changed[:, 1]) - x) < 30
    from demos.timelapse import _status
    status = _status(lapse, reader.View(None, None, None, step=1100, index=5, total=8))
    assert "Step 1,100" in status and "stage 2 of 2 (`stage2`)" in status
    # Without --earlier, the same run alone: its own steps.
    tl.main([str(second), "--out", str(out)])
    manifest = json.loads((out / "timelapse.json").read_text())
    assert [f["step"] for f in manifest["frames"]] == [0, 100, 200, 300] and "stages" not in manifest



def test_a_shipped_time_lapse_can_be_the_earlier_stage_when_its_runs_are_gone(tmp_path, monkeypatch):
    """A model trained on from its shipped weights on another machine: the shipped (thinned,
    downscaled) time-lapse of stages 1-2 comes first, the new run counts on from its last step."""
    first = _stage(tmp_path / "stage1", range(0, 1001, 250), 0.2, 3.0)
    second = _stage(tmp_path / "stage2", range(0, 301, 100), 0.5, 2.0)
    shipped = tmp_path / "checkpoints" / "sketch2photo" / "timelapse"
    with monkeypatch.context() as m:
        m.setattr(tl, "PLANS", ((0.5, True),))  # shipped at half size, as a big run's frames are
        tl.main([str(second), "--out", str(shipped), "--earlier", str(first)])
    before = json.loads((shipped / "timelapse.json").read_text())
    assert before["scale"] == 0.5
    third = _stage(tmp_path / "stage3", range(0, 201, 100), 0.8, 1.0)
    out = tmp_path / "new" / "timelapse"
    tl.main([str(third), "--out", str(out), "--earlier", str(shipped)])
    manifest = json.loads((out / "timelapse.json").read_text())
    steps = [f["step"] for f in manifest["frames"]]
    assert steps[-2:] == [1400, 1500] and {f["step"] for f in before["frames"]} <= set(steps)
    assert manifest["stages"] == [{"run": "stage1", "from_step": 0}, {"run": "stage2", "from_step": 1000},
                                  {"run": "stage3", "from_step": 1300}]
    assert manifest["run"] == "stage1 + stage2 + stage3" and manifest["last_step"] == 1500
    curve = manifest["losses"]["loss_G_L1"]
    assert curve["values"][0] == 3.0 and curve["values"][-1] == 1.0 and curve["steps"][-1] == 1500
    assert manifest["metrics"]["fd_eff"]["steps"][-1] == 1500
    sizes = {Image.open(out / f["file"]).size for f in manifest["frames"]}
    assert len(sizes) == 1  # the shipped frames are brought back to the runs' size: one size throughout
    assert reader.read("sketch2photo", out).stages[-1] == ("stage3", 1300)

def test_the_cli_runs_as_a_module_without_being_imported_twice():
    # core.train imports the library; a plain module run as __main__ would execute a second copy of it.
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "core.train.timelapse", "--help"],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "--note" in done.stdout and "RuntimeWarning" not in done.stderr


def test_a_note_says_where_the_frames_come_from_and_an_over_long_one_is_refused(run, tmp_path, monkeypatch):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path / "checkpoints")
    out = tmp_path / "checkpoints" / "sketch2photo" / "timelapse"
    note = "A re-run of the shipped recipe: the shipped weights come from an earlier run without frames."
    tl.main([str(run), "--out", str(out), "--note", note])
    assert json.loads((out / "timelapse.json").read_text())["note"] == note
    assert reader.read("sketch2photo").note == note
    with pytest.raises(SystemExit):  # the writer refuses what the reader would refuse
        tl.main([str(run), "--out", str(out), "--note", "x" * (tl.MAX_NOTE + 1)])
    assert reader.read("sketch2photo").note == note  # the folder is untouched
    _edit(out, lambda d: d.update(note="x" * (tl.MAX_NOTE + 1)))
    with pytest.raises(reader.TimelapseError, match="note"):
        reader.read("sketch2photo")


# ---- the reader ------------------------------------------------------------------------------------------------

def _fake(checkpoints: Path, name: str = "faces", frames: int = 12) -> Path:
    """A time-lapse made by the project's writer from a fake run: frame k is 6 tiles of 64 px in a colour
    of its own (shaded across each tile), with a loss and a metric curve. Returns the time-lapse folder."""
    run = checkpoints.parent / f"fake_run_{name}"
    log = EventLog(run / "events.jsonl")
    log.write("start", 0, model=name)
    for k in range(frames):
        step = 100 * (k + 1)
        colour = torch.tensor([k / frames, 1 - k / frames, 0.5])[:, None, None]
        shade = torch.linspace(0.6, 1.0, 64)[None, None, :]  # across each tile
        tl.record_frame(run, step, timelapse_row((colour * shade).expand(6, 3, 64, 64)))
        log.write("step", step, losses={"loss_G": 1.0 / (k + 1), "loss_D": 0.5})
        log.write("eval", step, n=4, fd_eff=100.0 - k, kid_eff=0.2, kid_eff_std=0.0)
    tl.record_inputs(run, "fake frames for a test", torch.full((6, 3, 64, 64), 0.5))
    tl.build(run, checkpoints / name / "timelapse", model=name, note="a note on where the frames come from")
    return checkpoints / name / "timelapse"


fake_timelapse = _fake  # for the browser test


@pytest.fixture
def lapse_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path / "checkpoints")
    return _fake(tmp_path / "checkpoints")


def _edit(folder: Path, change) -> None:
    data = json.loads((folder / "timelapse.json").read_text())
    change(data)
    (folder / "timelapse.json").write_text(json.dumps(data))


def test_the_reader_reads_frames_curves_and_draws_the_marker(lapse_dir):
    assert reader.available() == ["faces"]
    lapse = reader.load("faces")
    assert len(lapse) == 12 and lapse.steps[0] == 100 and lapse.steps[-1] == 1200
    assert lapse.inputs_image() is not None and lapse.caption == "fake frames for a test"
    v0, v9 = reader.view("faces", 0), reader.view("faces", 9)
    assert v0.step == 100 and v9.step == 1000
    assert np.asarray(v0.frame).tolist() != np.asarray(v9.frame).tolist()
    assert np.asarray(v0.losses).tolist() != np.asarray(v9.losses).tolist()  # the marker moved
    assert lapse.metrics["fd_eff"].at(1000) == 91.0 and lapse.losses["loss_G"].at(50) is None
    assert set(lapse.metrics) == {"fd_eff", "kid_eff"}  # a *_std is an error bar, not a curve to chart
    with pytest.raises(IndexError):
        lapse.frame(12)
    with pytest.raises(KeyError):
        reader.load("no_such_model")


@pytest.mark.parametrize("attack", ["parent", "absolute", "symlink_frame", "symlink_folder", "not_png", "nan",
                                    "steps_back", "inputs_elsewhere", "bad_json", "stages_back", "stages_text"])
def test_the_reader_refuses_a_manifest_pointing_outside_or_malformed(lapse_dir, tmp_path, attack):
    outside = tmp_path / "secret.png"
    Image.new("RGB", (8, 8), "red").save(outside)
    first = json.loads((lapse_dir / "timelapse.json").read_text())["frames"][0]["file"]
    if attack == "parent":
        _edit(lapse_dir, lambda d: d["frames"][0].update(file="../../secret.png"))
    elif attack == "absolute":
        _edit(lapse_dir, lambda d: d["frames"][0].update(file=str(outside)))
    elif attack == "symlink_frame":
        (lapse_dir / first).unlink()
        os.symlink(outside, lapse_dir / first)
    elif attack == "symlink_folder":
        real = tmp_path / "elsewhere"
        shutil.move(str(lapse_dir), real)
        os.symlink(real, lapse_dir)
    elif attack == "not_png":
        Image.open(lapse_dir / first).convert("RGB").save(lapse_dir / first, format="JPEG")
    elif attack == "nan":
        _edit(lapse_dir, lambda d: d["losses"]["loss_G"]["values"].__setitem__(0, math.nan))
    elif attack == "steps_back":
        _edit(lapse_dir, lambda d: d["frames"].reverse())
    elif attack == "inputs_elsewhere":
        _edit(lapse_dir, lambda d: d.update(inputs="../../secret.png"))
    elif attack == "bad_json":
        (lapse_dir / "timelapse.json").write_text("{not json")
    elif attack == "stages_back":
        _edit(lapse_dir, lambda d: d.update(stages=[{"run": "a", "from_step": 0}, {"run": "b", "from_step": 0}]))
    elif attack == "stages_text":
        _edit(lapse_dir, lambda d: d.update(stages=[{"run": "a", "from_step": 0}, {"run": "x" * 500, "from_step": 9}]))
    with pytest.raises(reader.TimelapseError):
        reader.read("faces")


# ---- the tab, through the API of a launched app -------------------------------------------------------------

@pytest.mark.slow
def test_the_tab_shows_another_frame_when_the_slider_moves(tmp_path):

    from tests.apprunner import local_client, running_app
    from tests.rawclient import RawClient

    _fake(tmp_path / "checkpoints")
    with running_app({"LAB_CHECKPOINTS": str(tmp_path / "checkpoints")}, log=tmp_path / "app.log") as url:
        client = local_client(url)
        *_, status, _, caption = client.predict("faces", api_name="/timelapse_model")
        assert "Step 1,200" in status and "fake frames" in caption and "where the frames come from" in caption
        first = client.predict("faces", 0, api_name="/timelapse_frame")
        last = client.predict("faces", 11, api_name="/timelapse_frame")
        assert "Step 100" in first[3] and "Step 1,200" in last[3]
        a, b = (np.asarray(Image.open(r[0]["value"] if isinstance(r[0], dict) else r[0]).convert("RGB"))
                for r in (first, last))
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).max() > 100  # another colour
        # What the client library would not send, sent raw: each refused with a message, never a crash.
        with RawClient(url) as raw:
            index = raw.fn_index("/timelapse_frame")
            for model, value, words in (("faces", 12, "does not exist"), ("faces", 150, "does not exist"),
                                        ("faces", -3, "does not exist"), ("faces", float("nan"), "expected a number"),
                                        ("faces", "abc", "expected a number"), ("../faces", 0, "not in the list"),
                                        ("sketch2photo", 0, "not in the list"), (None, 0, "no model has a time-lapse")):
                answer = raw.call(index, [model, value])
                assert answer.kind == "refused" and words in answer.message.lower(), (model, value, answer)
            assert raw.call(index, ["faces", 5.2]).ok  # a slider value between two frames: the nearest
    # Refusals only: every traceback in the server log is a gr.Error's (Gradio prints those of its own checks).
    for block in (tmp_path / "app.log").read_text().split("Traceback (most recent call last):")[1:]:
        exception = next(ln for ln in block.splitlines()[1:] if ln and not ln[0].isspace())
        assert exception.startswith("gradio.exceptions.Error"), block[-800:]
