import dataclasses

import pytest
import torch

from core.checkpoint import is_checkpoint, load_checkpoint
from core.device import resolve_precision
from core.nets import PatchGANConfig, UNetConfig
from core.registry import get_spec
from core.train import TrainConfig, config_for, train
from core.train.events import read_events

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
    assert set(nets) == {"G"} and meta["step"] == 2


def test_resume_continues_from_the_last_checkpoint(tmp_path, paired_folder_photo_left):
    run = train(SMALL, _config(paired_folder_photo_left, 2), run_dir=tmp_path / "run")
    train(SMALL, _config(paired_folder_photo_left, 4), run_dir=run, resume=True)
    events = read_events(run / "events.jsonl")
    starts = [e for e in events if e["event"] == "start"]
    assert starts[1]["step"] == 2 and starts[1]["resumed"] is True
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps == [1, 2, 3, 4]
    assert load_checkpoint(run / "checkpoint")[1]["step"] == 4


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


def test_image_size_must_suit_the_unet(tmp_path, paired_folder):
    with pytest.raises(ValueError, match="multiple"):
        train(SMALL, _config(paired_folder, 1).with_(image_size=48), run_dir=tmp_path / "run")
