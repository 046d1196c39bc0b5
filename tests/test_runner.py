"""Training jobs in their own processes: start, refuse a second, stop, resume, kill -9, promote."""
from __future__ import annotations

import os
import signal
import time

import pytest
import torch

import core.registry
from core.checkpoint import is_checkpoint, load_checkpoint
from core.train.events import read_events
from core.train.runner import Runner, RunnerError

FAST = {"batch_size": 1, "log_every": 1, "sample_every": 2, "checkpoint_every": 2}


@pytest.fixture
def runner(tmp_path, paired_folder_photo_left):
    return Runner(runs=tmp_path / "runs", allowed_data=(paired_folder_photo_left.parent,))


def _wait(pred, timeout=240, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _checkpointed(runner, run_id, at_least=2):
    return any(e["event"] == "checkpoint" and e["step"] >= at_least for e in runner.events(run_id))


def test_start_refuse_stop_resume(runner, paired_folder_photo_left):
    run_id = runner.start("sketch2photo", {**FAST, "steps": 500}, str(paired_folder_photo_left))
    try:
        _wait(lambda: _checkpointed(runner, run_id), what="a first checkpoint")
        assert runner.state(run_id) == "running"
        with pytest.raises(RunnerError, match="already running"):
            runner.start("sketch2photo", {**FAST, "steps": 5}, str(paired_folder_photo_left))
        runner.stop(run_id)
        _wait(lambda: runner.state(run_id) == "stopped", what="stopped")
    finally:
        if runner.active():
            runner.stop(run_id)
    stopped_at = runner.summary(run_id)["step"]
    assert stopped_at < 500 and load_checkpoint(runner.runs / run_id / "checkpoint")[1]["step"] == stopped_at
    runner.resume(run_id, steps=stopped_at + 2)
    _wait(lambda: runner.state(run_id) == "finished", what="finished")
    events = runner.events(run_id)
    starts = [e for e in events if e["event"] == "start"]
    assert len(starts) == 2 and starts[1]["resumed"] and starts[1]["step"] == stopped_at
    assert runner.summary(run_id)["step"] == stopped_at + 2


def test_kill_9_leaves_complete_files_and_resume_continues(runner, paired_folder_photo_left):
    run_id = runner.start("sketch2photo", {**FAST, "steps": 500}, str(paired_folder_photo_left))
    run_dir = runner.runs / run_id
    _wait(lambda: _checkpointed(runner, run_id, 4), what="checkpoints")
    pid = int((run_dir / "pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    _wait(lambda: runner.state(run_id) == "killed", what="killed")
    # Every visible file is complete and readable.
    assert all(isinstance(e, dict) for e in read_events(run_dir / "events.jsonl"))
    state = torch.load(run_dir / "state.pt", weights_only=False)
    nets, meta = load_checkpoint(run_dir / "checkpoint")
    # state.pt is written first, then checkpoint/: a kill between the two leaves the shippable
    # checkpoint one save behind (never ahead), and resume goes on from the state.
    assert 4 <= meta["step"] <= state["step"]
    runner.resume(run_id, steps=state["step"] + 2)
    _wait(lambda: runner.state(run_id) == "finished", what="finished after resume")
    assert runner.summary(run_id)["step"] == state["step"] + 2
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


def test_promote_swaps_the_served_checkpoint(runner, paired_folder_photo_left, tmp_path, monkeypatch):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path / "checkpoints")
    run_id = runner.start("sketch2photo", {**FAST, "steps": 2}, str(paired_folder_photo_left))
    with pytest.raises(RunnerError):
        runner.promote("no-such-run")
    _wait(lambda: runner.state(run_id) == "finished", what="finished")
    target = runner.promote(run_id)
    assert target == tmp_path / "checkpoints" / "sketch2photo" and is_checkpoint(target)
    assert "promoted from admin run" in (target / "MODEL_CARD.md").read_text()
    assert sorted(p.name for p in target.parent.iterdir()) == ["sketch2photo"]


def test_bad_requests_are_refused(runner, tmp_path):
    with pytest.raises(RunnerError, match="outside"):
        runner.start("sketch2photo", {}, "/etc")
    with pytest.raises(RunnerError, match="invalid"):
        runner.start("sketch2photo", {"batch_size": 0})
    with pytest.raises(RunnerError, match="unknown model"):
        runner.start("nope")
    with pytest.raises(RunnerError):
        runner.stop("../../etc")
    assert runner.runs_list() == []
