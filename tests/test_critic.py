"""Discriminator verdicts (issue 18, part 2): the PatchGAN's per-patch map as "how real", drawn over
a picture with a legend; a D trained alone against a finished G (d_warmup) leaves that G exactly as
it was; the sketch canvas and the horse/zebra tab show the verdicts only when asked, and refuse bad
requests clearly."""
from __future__ import annotations

import base64
import dataclasses
import io

import numpy as np
import pytest
import torch
from PIL import Image

from core.checkpoint import load_checkpoint, save_checkpoint
from core.nets import PatchGANConfig, ResnetConfig, build_net
from core.pipelines import critic
from core.pipelines.horse2zebra import HorseZebraPipeline
from core.pipelines.sketch2photo import Sketch2PhotoPipeline
from core.pipelines.base import NotTrainedError
from core.train import config_for, train
from core.train.events import read_events
from tests.test_train import SMALL, _config


def test_realness_is_a_probability_for_bce_and_clipped_for_lsgan():
    logits = torch.tensor([[[[-50.0, 0.0], [50.0, 2.0]]]])
    assert np.allclose(critic.realness(logits, "bce"), [[0, 0.5], [1, 1 / (1 + np.exp(-2))]], atol=1e-6)
    assert np.allclose(critic.realness(torch.tensor([[[[-0.5, 0.3], [1.7, 1.0]]]]), "lsgan"), [[0, 0.3], [1, 1]])
    with pytest.raises(ValueError, match="bce"):
        critic.realness(logits, "hinge")


def test_the_overlay_colours_each_patch_and_adds_a_legend():
    picture = Image.new("RGB", (64, 48), (128, 128, 128))
    real = np.array([[1.0, 0.0]])  # left half judged real, right half fake
    out = critic.overlay(picture, real, "as a zebra:")
    assert out.size == (64, 48 + critic.LEGEND_H)
    a = np.asarray(out).astype(int)
    left, right = a[:48, :32].reshape(-1, 3).mean(0), a[:48, 32:].reshape(-1, 3).mean(0)
    assert left[1] > left[0] and left[1] > left[2], "real patches should be green"
    assert right[2] > right[1] and right[0] > right[1], "fake patches should be purple"
    legend = a[48:]
    assert (legend < 200).any(), "the legend strip has a colour bar and words"
    v = critic.verdict(picture, real)
    assert v.mean == 0.5 and v.real_share == 0.5 and v.overlay.size == out.size


def test_d_alone_against_a_finished_generator_leaves_it_untouched(tmp_path, paired_folder_photo_left):
    first = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "first")
    before = load_checkpoint(first / "checkpoint")[0]
    config = dataclasses.replace(_config(paired_folder_photo_left, 3).with_(init_from=str(first / "checkpoint")),
                                 task=config_for(SMALL, d_warmup=3).task)
    run = train(SMALL, config, run_dir=tmp_path / "D")
    steps = [e for e in read_events(run / "events.jsonl") if e["event"] == "step"]
    assert steps and all(set(e["losses"]) == {"loss_D_real", "loss_D_fake"} for e in steps)
    after = load_checkpoint(run / "checkpoint")[0]
    G0, G1 = before["G"].state_dict(), after["G"].state_dict()
    assert all(torch.equal(G0[k], G1[k]) for k in G0), "G (weights and BatchNorm statistics) must not move"
    D0, D1 = before["D"].state_dict(), after["D"].state_dict()
    assert any(not torch.equal(D0[k], D1[k]) for k in D0), "D must have trained"


def test_cyclegan_ds_alone_leave_both_generators_untouched(tmp_path):
    from tests.test_cyclegan import tiny_cyclegan

    spec, root = tiny_cyclegan(tmp_path)
    config = _config(root, 2).with_(batch_size=1)
    first = train(spec, config, run_dir=tmp_path / "first")
    before = load_checkpoint(first / "checkpoint")[0]
    config = dataclasses.replace(config.with_(init_from=str(first / "checkpoint")), task=config_for(spec, d_warmup=2).task)
    run = train(spec, config, run_dir=tmp_path / "Ds")
    steps = [e for e in read_events(run / "events.jsonl") if e["event"] == "step"]
    assert all(set(e["losses"]) == {"loss_D_A", "loss_D_B"} for e in steps)
    after = load_checkpoint(run / "checkpoint")[0]
    for name in ("G_A", "G_B"):
        assert all(torch.equal(v, after[name].state_dict()[k]) for k, v in before[name].state_dict().items())
    assert any(not torch.equal(v, after["D_A"].state_dict()[k]) for k, v in before["D_A"].state_dict().items())


def _sketch_pipe(with_D: bool) -> Sketch2PhotoPipeline:
    torch.manual_seed(0)
    G, D = build_net(SMALL.nets["G"]), build_net(SMALL.nets["D"])
    return Sketch2PhotoPipeline(G, 64, torch.device("cpu"), discriminator=D if with_D else None)


def test_the_sketch_pipeline_judges_a_pair_per_patch():
    pipe = _sketch_pipe(True)
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    real = pipe.judge(x, pipe.run(x))
    assert real.ndim == 2 and real.shape[0] > 1 and real.min() >= 0 and real.max() <= 1
    with pytest.raises(NotTrainedError, match="no discriminator"):
        _sketch_pipe(False).judge(x, pipe.run(x))


def test_the_horse_zebra_pipeline_judges_input_and_translation(tmp_path):
    g, d = ResnetConfig(base_channels=8, num_blocks=1), PatchGANConfig(in_channels=3, base_channels=8, norm="instance")
    nets = {"G_A": build_net(g), "G_B": build_net(g), "D_A": build_net(d), "D_B": build_net(d)}
    save_checkpoint(tmp_path / "ck", nets, {"image_size": 128})
    pipe = HorseZebraPipeline.from_checkpoint(tmp_path / "ck", device="cpu")
    assert pipe.has_critics
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (90, 130, 3), dtype=np.uint8))
    t = pipe(photo)
    v_in, v_out = pipe.verdicts(photo, "horse → zebra")
    assert v_in.overlay.size == (t.input.width, t.input.height + critic.LEGEND_H)
    assert v_out.overlay.size == (t.output.width, t.output.height + critic.LEGEND_H)
    with pytest.raises(ValueError, match="direction"):
        pipe.verdicts(photo, "cat → dog")
    with pytest.raises(ValueError, match="domain"):
        pipe.judge(torch.zeros(1, 3, 64, 64), "cat")
    no_ds = HorseZebraPipeline({k: v for k, v in nets.items() if k.startswith("G")}, torch.device("cpu"),
                               torch.float32, {})
    assert not no_ds.has_critics
    with pytest.raises(NotTrainedError):
        no_ds.verdicts(photo, "horse → zebra")


def _data_url(im: Image.Image) -> str:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_the_canvas_refuses_a_critic_flag_that_is_not_a_boolean(value):
    from demos.sketch2photo import translate_drawing

    drawing = Image.new("RGB", (64, 64), "white")
    answer = translate_drawing({"image": _data_url(drawing), "critic": value})
    assert answer["ok"] is False and '"critic" must be true or false' in answer["error"]


def test_the_canvas_shows_the_verdict_only_when_asked(monkeypatch):
    from demos import sketch2photo as tab

    pipe = _sketch_pipe(True)
    monkeypatch.setattr(tab.pipeline, "load", lambda name=None, precision="bf16": pipe)
    monkeypatch.setattr(tab, "available_losses", lambda: ["full"])
    drawing = Image.new("RGB", (256, 256), "white")
    drawing.paste((0, 0, 0), (60, 60, 200, 70))
    plain = tab.translate_drawing({"image": _data_url(drawing)})
    assert plain["ok"] and "critic" not in plain
    judged = tab.translate_drawing({"image": _data_url(drawing), "critic": True})
    assert judged["ok"] and judged["critic"].startswith("data:image/png;base64,")
    assert 0 <= judged["critic_mean"] <= 1 and "of patches look real" in judged["status"]
    shown = Image.open(io.BytesIO(base64.b64decode(judged["critic"].split(",", 1)[1])))
    assert shown.size == (tab.CRITIC_DISPLAY, tab.CRITIC_DISPLAY + critic.LEGEND_H)
    monkeypatch.setattr(tab.pipeline, "load", lambda name=None, precision="bf16": _sketch_pipe(False))
    none = tab.translate_drawing({"image": _data_url(drawing), "critic": True})
    assert none["ok"] and "critic" not in none and "kept no discriminator" in none["status"]


def test_attach_adds_a_run_s_discriminator_to_the_shipped_generator_only_if_that_is_unchanged(
        tmp_path, monkeypatch, paired_folder_photo_left):
    from core import registry
    from core.train.attach import attach

    monkeypatch.setattr(registry, "CHECKPOINTS", tmp_path / "checkpoints")
    first = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "first")
    nets, meta = load_checkpoint(first / "checkpoint", dtype=torch.float16)
    save_checkpoint(SMALL.checkpoint_dir, {"G": nets["G"]}, meta, card="# the shipped card\n")  # G only, as before
    config = dataclasses.replace(_config(paired_folder_photo_left, 2).with_(init_from=str(SMALL.checkpoint_dir)),
                                 task=config_for(SMALL, d_warmup=2).task)
    d_run = train(SMALL, config, run_dir=tmp_path / "D")
    folder = attach(SMALL, d_run, ["D"])
    got, got_meta = load_checkpoint(folder, dtype=torch.float16)
    assert set(got) == {"G", "D"} and (folder / "MODEL_CARD.md").read_text() == "# the shipped card\n"
    assert all(torch.equal(v, got["G"].state_dict()[k]) for k, v in nets["G"].state_dict().items())
    assert got_meta["step"] == meta["step"] and got_meta["attached"]["D"]["run"] == "D"
    # A run that trained G as well cannot be attached: the shipped figures would no longer hold.
    moved = train(SMALL, _config(paired_folder_photo_left, 1).with_(init_from=str(first / "checkpoint")),
                  run_dir=tmp_path / "moved")
    with pytest.raises(ValueError, match="changed G"):
        attach(SMALL, moved, ["D"])
    with pytest.raises(ValueError, match="no net"):
        attach(SMALL, d_run, ["E"])
