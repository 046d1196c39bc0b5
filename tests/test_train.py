import dataclasses
import math

import pytest
import torch

from core.checkpoint import is_checkpoint, load_checkpoint
from core.device import resolve_precision
from core.nets import PatchGANConfig, UNetConfig
from core.registry import get_spec
from core.train import TrainConfig, config_for, train
from core.train.events import EventLog, read_events, truncate_after

SMALL = dataclasses.replace(
    get_spec("sketch2photo"),
    nets={"G": UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6),
          "D": PatchGANConfig(in_channels=4, base_channels=8)},
)


def _config(folder, steps):
    return TrainConfig(steps=steps, batch_size=2, image_size=64, log_every=1, sample_every=1,
                       checkpoint_every=2, data_root=str(folder))


def test_two_steps_write_events_samples_and_a_checkpoint(tmp_path, paired_folder_photo_left):
    seen = []
    run = train(SMALL, _config(paired_folder_photo_left, 2), on_event=seen.append, run_dir=tmp_path / "run")
    events = read_events(run / "events.jsonl")
    assert [e["event"] for e in events] == [e["event"] for e in seen]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    # The run records the precision that ran (bf16 only where the CPU has it natively).
    assert events[0]["precision"] == resolve_precision(torch.device("cpu"), events[0]["config"]["precision"])
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [1, 2]
    assert set(steps[0]["losses"]) == {"loss_G_gan", "loss_G_L1", "loss_D_real", "loss_D_fake"}
    samples = [e["path"] for e in events if e["event"] == "sample"]
    assert len(samples) == 2 and all((run / "samples").exists() for _ in samples)
    ckpt = [e for e in events if e["event"] == "checkpoint"][-1]
    assert is_checkpoint(ckpt["path"])
    nets, meta = load_checkpoint(ckpt["path"])
    assert set(nets) == {"G", "D"} and meta["step"] == 2  # sketch2photo ships its D (the tab shows its verdicts)


def test_resume_continues_from_the_last_checkpoint(tmp_path, paired_folder_photo_left):
    run = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    train(SMALL, _config(paired_folder_photo_left, 4), run_dir=run, resume=True)
    events = read_events(run / "events.jsonl")
    starts = [e for e in events if e["event"] == "start"]
    assert starts[1]["step"] == 2 and starts[1]["resumed"] is True
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps == [1, 2, 3, 4]
    assert load_checkpoint(run / "checkpoint")[1]["step"] == 4


def test_resume_drops_events_logged_after_the_checkpoint(tmp_path, paired_folder_photo_left):
    # What a kill -9 between saves leaves: steps, samples and an eval past state.pt's step 2,
    # then a torn line. Resume redoes steps 3-4, so the log must not keep the first copies.
    run = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    log = EventLog(run / "events.jsonl")
    for step in (3, 4):
        log.write("step", step, losses={}, it_per_s=1.0, eta_s=0.0)
        log.write("sample", step, path="gone.png")
    log.write("eval", 4, n=2, fd_eff=1.0)
    with open(run / "events.jsonl", "a") as f:
        f.write('{"event": "step", "st')
    train(SMALL, _config(paired_folder_photo_left, 4), run_dir=run, resume=True)
    events = read_events(run / "events.jsonl")
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps == [1, 2, 3, 4]
    assert [e["step"] for e in events if e["event"] == "sample"] == [1, 2, 3, 4]
    assert not [e for e in events if e["event"] == "eval"]
    starts = [e for e in events if e["event"] == "start"]
    assert [e["step"] for e in starts] == [0, 2] and starts[1]["resumed"]  # not glued to the torn line


def test_truncate_after_keeps_starts_and_drops_the_torn_tail(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.write("start", 0)
    for step in (1, 2, 3):
        log.write("step", step)
    log.write("start", 3, resumed=True)  # an earlier resume
    for step in (4, 5):
        log.write("step", step)
    log.write("checkpoint", 5)
    with open(path, "a") as f:
        f.write('{"event": "sam')
    assert truncate_after(path, 4) == 3  # step 5, checkpoint 5 and the torn line
    assert [(e["event"], e["step"]) for e in read_events(path)] == [
        ("start", 0), ("step", 1), ("step", 2), ("step", 3), ("start", 3), ("step", 4)]
    assert path.read_text().endswith("\n") and oct(path.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]  # no temp file left
    before = path.stat().st_mtime_ns
    assert truncate_after(path, 4) == 0 and path.stat().st_mtime_ns == before  # nothing to cut
    assert truncate_after(tmp_path / "missing.jsonl", 1) == 0


def test_should_stop_finishes_the_step_and_saves(tmp_path, paired_folder_photo_left):
    calls = []
    run = train(SMALL, _config(paired_folder_photo_left, 50), run_dir=tmp_path / "run",
                should_stop=lambda: calls.append(1) or len(calls) >= 3)
    events = read_events(run / "events.jsonl")
    assert events[-1]["event"] == "stopped" and events[-1]["step"] == 3
    assert load_checkpoint(run / "checkpoint")[1]["step"] == 3


def test_config_bounds_and_unknown_options():
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"stepz": 3})
    assert config_for(get_spec("sketch2photo"), steps="7").steps == 7
    with pytest.raises(ValueError, match="valid for the loop: .*steps.*for the pix2pix task: .*lambda_L1"):
        config_for(get_spec("sketch2photo"), lambda_cycle=3)  # another task's knob


def test_each_task_owns_its_knobs_and_the_registry_only_overrides():
    """Defaults live once, in the task's Params; the registry overrides what a model changes."""
    from core.train.config import model_defaults
    from core.train.tasks.attributes import AttributeParams
    from core.train.tasks.pix2pix import Pix2PixParams

    assert config_for(get_spec("sketch2photo")).task == Pix2PixParams(drawing_share=0.5)
    assert config_for(get_spec("sketch2photo"), lambda_L1="50").task.lambda_L1 == 50.0
    assert config_for(get_spec("face_attributes")).task == AttributeParams(degrade=0.5)
    assert "lambda_L1" not in model_defaults("horse2zebra") and model_defaults("horse2zebra")["lambda_cycle"] == 10.0
    config = config_for(get_spec("faces"))
    assert config.with_(ema_decay=0.5, steps=3).task.ema_decay == 0.5
    with pytest.raises(ValueError, match="for the task"):
        config.with_(lambda_L1=1.0)


HUGE = 10**5000  # past Python's 4,300-digit int-to-str limit: even formatting it raises


@pytest.mark.parametrize("field, value", [
    ("steps", math.nan), ("steps", math.inf), ("steps", "inf"), ("steps", 10**400), ("steps", HUGE),
    ("steps", "abc"), ("steps", 2.5), ("steps", True), ("steps", -1), ("batch_size", [8]),
    ("lr_G", math.nan), ("lr_G", -math.inf), ("lr_G", "nan"), ("lr_G", 10**400), ("device", math.nan),
], ids=lambda v: "huge" if v is HUGE else repr(v)[:20])
def test_config_refuses_non_finite_and_junk_values(field, value):
    # ValueError, never OverflowError (int(inf)) nor a silent truncation (int(2.5) == 2).
    from core.train.tasks.pix2pix import Pix2PixParams

    with pytest.raises(ValueError, match=field):
        config_for(get_spec("sketch2photo"), **{field: value})
    with pytest.raises(ValueError, match=field):
        (Pix2PixParams if field == "lr_G" else TrainConfig).from_dict({field: value})


def test_config_accepts_whole_floats_and_numeric_strings():
    from core.train.tasks.pix2pix import Pix2PixParams

    config = config_for(get_spec("sketch2photo"), steps=7.0, batch_size="4", lr_G="1e-4", seed=3)
    assert (config.steps, config.batch_size, config.task.lr_G, config.seed) == (7, 4, 1e-4, 3)
    assert isinstance(config.steps, int) and isinstance(config.task.lr_G, float)
    with pytest.raises(ValueError, match="finite"):
        Pix2PixParams(lr_G=math.nan)


def test_image_size_must_suit_the_unet(tmp_path, paired_folder):
    with pytest.raises(ValueError, match="multiple"):
        train(SMALL, _config(paired_folder, 1).with_(image_size=48), run_dir=tmp_path / "run")


def test_l1_only_ablation_never_trains_D(tmp_path, paired_folder_photo_left):
    """lambda_gan = 0 is the paper's "L1 only": no D step, no cGAN term, D keeps its weights."""
    config = dataclasses.replace(_config(paired_folder_photo_left, 2), task=config_for(SMALL, lambda_gan=0.0).task)
    from core.train.tasks import TASKS

    task = TASKS["pix2pix"](SMALL, config, torch.device("cpu"))
    D_before = {k: v.clone() for k, v in task.nets["D"].state_dict().items()}
    G_before = {k: v.clone() for k, v in task.nets["G"].state_dict().items()}
    dataset = task.make_dataset(paired_folder_photo_left, augment=True)
    batch = {k: torch.stack([dataset[i][k] for i in range(2)]) for k in ("A", "B")}
    losses = task.train_step(batch, 1)
    assert set(losses) == {"loss_G_L1"}
    assert all(torch.equal(v, task.nets["D"].state_dict()[k]) for k, v in D_before.items())
    assert any(not torch.equal(v, task.nets["G"].state_dict()[k]) for k, v in G_before.items())


def test_cgan_only_ablation_has_no_L1_term(tmp_path, paired_folder_photo_left):
    config = dataclasses.replace(_config(paired_folder_photo_left, 1), task=config_for(SMALL, lambda_L1=0.0).task)
    from core.train.tasks import TASKS

    task = TASKS["pix2pix"](SMALL, config, torch.device("cpu"))
    dataset = task.make_dataset(paired_folder_photo_left, augment=True)
    batch = {k: torch.stack([dataset[i][k] for i in range(2)]) for k in ("A", "B")}
    losses = task.train_step(batch, 1)
    assert losses["loss_G_L1"] == 0.0 and losses["loss_G_gan"] > 0


def test_feature_matching_pulls_D_activations_on_the_fake_towards_the_real_and_is_off_by_default(
        tmp_path, paired_folder_photo_left):
    """lambda_FM (pix2pixHD): one more G term, the mean L1 between D's hidden activations on the
    fake and on the real pair; zero when G already draws the real photo."""
    from core.nets import build_net
    from core.train.tasks import TASKS

    D = build_net(SMALL.nets["D"]).eval()
    x = torch.randn(2, 4, 64, 64)
    logits, features = D.forward_with_features(x)
    assert torch.equal(logits, D(x)) and len(features) == SMALL.nets["D"].num_layers + 1
    real_A, real_B = x[:, :1], x[:, 1:]
    fm = TASKS["pix2pix"]._feature_matching
    assert fm(D, real_A, real_B, D.forward_with_features(x)[1]).item() == 0.0
    assert fm(D, real_A, real_B, D.forward_with_features(torch.cat([real_A, -real_B], 1))[1]).item() > 0

    plain = TASKS["pix2pix"](SMALL, _config(paired_folder_photo_left, 1), torch.device("cpu"))
    config = dataclasses.replace(_config(paired_folder_photo_left, 1), task=config_for(SMALL, lambda_FM=10.0).task)
    task = TASKS["pix2pix"](SMALL, config, torch.device("cpu"))
    dataset = task.make_dataset(paired_folder_photo_left, augment=True)
    batch = {k: torch.stack([dataset[i][k] for i in range(2)]) for k in ("A", "B")}
    assert "loss_G_FM" not in plain.train_step(batch, 1)
    assert task.train_step(batch, 1)["loss_G_FM"] > 0


def test_warm_start_from_a_run_folder_brings_the_discriminator(tmp_path, paired_folder_photo_left):
    """Fine-tuning a GAN (e.g. with a new lambda_L1) from a run folder starts G *and* D from the run's
    state.pt; from a checkpoint folder only the shipped G comes, and D starts fresh."""
    first = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "first")
    saved = torch.load(first / "state.pt", weights_only=False)["task"]["nets"]
    seen = []
    # lr 1e-7: one Adam step moves each weight by about 1e-7, so D after it is the run's D
    config = dataclasses.replace(_config(paired_folder_photo_left, 1).with_(init_from=str(first)),
                                 task=config_for(SMALL, lr_G=1e-7, lr_D=1e-7).task)
    run = train(SMALL, config, on_event=seen.append, run_dir=tmp_path / "ft")
    assert next(e for e in seen if e["event"] == "start")["warm_started"] == ["G", "D"]
    after = torch.load(run / "state.pt", weights_only=False)["task"]["nets"]
    weights = [k for k in saved["D"] if "running" not in k and "num_batches" not in k]  # BN stats move
    assert all(torch.allclose(after["D"][k], saved["D"][k], atol=1e-5) for k in weights)
    seen.clear()
    # sketch2photo ships its D too (the tab shows its verdicts): a checkpoint folder brings both ...
    train(SMALL, config.with_(init_from=str(first / "checkpoint")), on_event=seen.append, run_dir=tmp_path / "ft2")
    assert next(e for e in seen if e["event"] == "start")["warm_started"] == ["G", "D"]
    # ... and one that kept only G brings G, and D starts fresh.
    g_only = train(dataclasses.replace(SMALL, shipped=("G",)), _config(paired_folder_photo_left, 1),
                   run_dir=tmp_path / "g_only")
    seen.clear()
    train(SMALL, config.with_(init_from=str(g_only / "checkpoint")), on_event=seen.append, run_dir=tmp_path / "ft3")
    assert next(e for e in seen if e["event"] == "start")["warm_started"] == ["G"]


def test_a_checkpoint_that_upsamples_otherwise_is_refused_not_loaded(tmp_path, paired_folder_photo_left):
    """Nearest and bilinear resize-conv U-Nets share their weight names: loading one into the other
    would silently compute something else, so a warm start refuses it with the conversion to use."""
    first = train(SMALL, _config(paired_folder_photo_left, 1), run_dir=tmp_path / "first")
    bilinear = dataclasses.replace(SMALL, nets={**SMALL.nets, "G": dataclasses.replace(SMALL.nets["G"], upsample="bilinear")})
    for source in (first / "checkpoint", first):  # a checkpoint folder, and the run folder (its state.pt)
        with pytest.raises(ValueError, match="upsamples by 'resize'.*resize_upsampling"):
            train(bilinear, _config(paired_folder_photo_left, 1).with_(init_from=str(source)), run_dir=tmp_path / "ft")


def test_a_run_folder_is_never_started_over_by_mistake(tmp_path, paired_folder_photo_left, monkeypatch, capsys):
    """A finished run once lost its weights to `--promote` without `--resume`: training started
    afresh in the same folder and overwrote them. Now train() refuses, and the CLI's --promote on a
    finished run promotes it without training."""
    from core.train import __main__ as cli

    run = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    weights = (run / "checkpoint" / "model.safetensors").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        train(SMALL, _config(paired_folder_photo_left, 2), run_dir=run)
    monkeypatch.setattr(cli, "get_spec", lambda name: SMALL)
    promoted = []
    monkeypatch.setattr(cli, "promote", lambda spec, run_dir: promoted.append(run_dir) or tmp_path / "shipped")
    args = ["sketch2photo", "--data", str(paired_folder_photo_left), "--photo-left", "--run-dir", str(run)]
    with pytest.raises(SystemExit):
        cli.main(args)  # no --resume, no --promote: a clear error
    assert "already holds a run" in capsys.readouterr().err
    assert cli.main(args + ["--promote"]) == 0 and promoted == [run]
    assert (run / "checkpoint" / "model.safetensors").read_bytes() == weights  # nothing trained
    (run / "events.jsonl").write_text((run / "events.jsonl").read_text().replace('"event": "end"', '"event": "stopped"'))
    with pytest.raises(SystemExit):
        cli.main(args + ["--promote"])  # an unfinished run is not promoted by accident either
    assert promoted == [run]


def test_ema_math_follows_the_net_early_and_copies_batch_norm_statistics():
    from core.train.ema import ema_decay_at, make_ema, update_ema

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    ema = make_ema(net)
    assert not any(p.requires_grad for p in ema.parameters()) and not ema.training
    assert ema_decay_at(0.999, 1) == pytest.approx(2 / 11) and ema_decay_at(0.999, 10**6) == 0.999
    before = ema[0].weight.clone()
    with torch.no_grad():
        net[0].weight.add_(1.0)
        net[1].running_mean.fill_(3.0)
    update_ema(ema, net, 0.999, 10**6)
    assert torch.allclose(ema[0].weight, before + 0.001, atol=1e-6)  # a thousandth of the way to the net
    assert torch.equal(ema[1].running_mean, net[1].running_mean)  # statistics copied, not averaged


def test_a_pix2pix_run_with_a_moving_average_ships_the_average_and_resumes_it(tmp_path, paired_folder_photo_left):
    task = config_for(SMALL, ema_decay=0.9).task
    run = train(SMALL, dataclasses.replace(_config(paired_folder_photo_left, 2), task=task), run_dir=tmp_path / "run")
    state = torch.load(run / "state.pt", weights_only=False)["task"]["nets"]
    shipped, _ = load_checkpoint(run / "checkpoint")
    ema, raw = state["G_ema"], state["G"]
    assert set(shipped) == {"G", "D"}  # the average ships under G's name
    weights = [k for k in raw if k.endswith("weight") and raw[k].dim() > 1]
    assert any(not torch.allclose(ema[k], raw[k]) for k in weights)  # an average, not G itself
    assert all(torch.allclose(shipped["G"].state_dict()[k].float(), ema[k], atol=2e-3) for k in weights)  # fp16 file
    # Resume keeps the average going (its state is in state.pt) ...
    train(SMALL, dataclasses.replace(_config(paired_folder_photo_left, 3), task=task), run_dir=run, resume=True)
    assert load_checkpoint(run / "checkpoint")[1]["step"] == 3
    # ... and a fine-tune from a shipped checkpoint starts the average at that G.
    seen = []
    config = dataclasses.replace(_config(paired_folder_photo_left, 1).with_(init_from=str(run / "checkpoint")),
                                 task=config_for(SMALL, ema_decay=0.9, lr_G=1e-7, lr_D=1e-7).task)
    ft = train(SMALL, config, on_event=seen.append, run_dir=tmp_path / "ft")
    assert next(e for e in seen if e["event"] == "start")["warm_started"] == ["G", "D"]
    after = torch.load(ft / "state.pt", weights_only=False)["task"]["nets"]
    start = load_checkpoint(run / "checkpoint")[0]["G"].state_dict()  # step 3's
    assert all(torch.allclose(after["G_ema"][k], start[k].float(), atol=1e-4) for k in weights)
