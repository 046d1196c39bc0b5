"""Training jobs in their own processes: start, refuse a second, stop, resume, kill -9, promote."""
from __future__ import annotations

import json
import math
import os
import signal
import time
from pathlib import Path

import pytest
import torch

import core.registry
from core.checkpoint import is_checkpoint, load_checkpoint
from core.train.config import TrainConfig
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


@pytest.mark.slow
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


@pytest.mark.slow
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
    # Steps logged after the last save were cut on resume, not repeated.
    steps = [e["step"] for e in runner.events(run_id) if e["event"] == "step"]
    assert steps == sorted(set(steps))


@pytest.mark.slow
def test_promote_swaps_the_served_checkpoint(runner, paired_folder_photo_left, tmp_path, monkeypatch):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path / "checkpoints")
    run_id = runner.start("sketch2photo", {**FAST, "steps": 2}, str(paired_folder_photo_left))
    with pytest.raises(RunnerError):
        runner.promote("no-such-run")
    _wait(lambda: runner.state(run_id) == "finished", what="finished")
    target = runner.promote(run_id)
    assert target == tmp_path / "checkpoints" / "sketch2photo" and is_checkpoint(target)
    assert f"promoted from run `{run_id}`" in (target / "MODEL_CARD.md").read_text()
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
    for knob in ("data_root", "init_from"):  # paths only through the checked dataset field
        with pytest.raises(RunnerError, match=knob):
            runner.start("sketch2photo", {knob: "/etc"})
    assert runner.runs_list() == []


def _proc_state(pid: int) -> str | None:
    """The process state letter from /proc (None once the process is gone, i.e. reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.mark.slow
def test_a_finished_job_is_reaped_without_a_request(runner, paired_folder_photo_left):
    run_id = runner.start("sketch2photo", {**FAST, "steps": 1}, str(paired_folder_photo_left))
    pid = int((runner.runs / run_id / "pid").read_text())
    # No runner call from here on: nothing may poll the child, yet it must not stay a zombie.
    _wait(lambda: _proc_state(pid) in (None, "Z"), what="the job to exit")
    deadline = time.time() + 5
    while _proc_state(pid) == "Z" and time.time() < deadline:
        time.sleep(0.05)
    assert _proc_state(pid) is None, f"job {pid} left a zombie"
    assert runner.state(run_id) == "finished"


def test_data_choices_offer_only_what_check_data_accepts(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "outside"
    for folder in (root / "good", root / "set" / "train", outside / "secret"):
        folder.mkdir(parents=True)
        (folder / "a.png").write_bytes(b"")
    (root / "empty").mkdir()
    (root / "link_out").symlink_to(outside / "secret")  # lies inside, points outside
    (root / "set" / "link_out").symlink_to(outside)  # one level deeper: link_out/secret
    (root / "link_in").symlink_to(root / "good")  # points inside: fine under its own path
    (root / "loop").symlink_to(root / "loop")
    runner = Runner(runs=tmp_path / "runs", allowed_data=(root,))
    choices = runner.data_choices()
    assert sorted(choices) == sorted(str(root / p) for p in ("good", "link_in", "set/train"))
    for choice in choices:
        assert runner.check_data(choice).is_relative_to(root)
    assert runner.check_data(str(root / "link_in")) == root / "good"
    for refused in ("link_out", "set/link_out/secret", "loop", "empty"):
        with pytest.raises(RunnerError):
            runner.check_data(str(root / refused))
    with pytest.raises(RunnerError):
        runner.start("sketch2photo", {}, str(root / "link_out"))
    with pytest.raises(RunnerError):
        runner.start("sketch2photo", {}, str(root / "good") + "\0")


HUGE = 10**5000  # past Python's 4,300-digit int-to-str limit: even formatting it raises


def _short_id(value) -> str:
    try:
        return repr(value)[:24]
    except ValueError:  # HUGE
        return "huge"


BAD_RUN_IDS = ["x" * 10_000, "a" * 129, "réglage", "run\0id", "..", "../runs", "a..b", "a/b", ".hidden",
               "-flag", "", " ", "run\n", None, 12]


@pytest.mark.parametrize("run_id", BAD_RUN_IDS, ids=_short_id)
def test_malformed_run_ids_are_no_such_run(runner, run_id):
    # Refused before any file-system call: no OSError (File name too long), no ValueError (NUL).
    for call in (runner.stop, runner.resume, runner.promote, runner.summary, runner.state, runner.events,
                 runner.log_tail):
        with pytest.raises(RunnerError, match="no such run"):
            call(run_id)


def _fake_resumable_run(runner) -> str:
    """A run folder that resume() accepts up to the spawn (run.json + a state.pt), no training."""
    run_id = "20240101-000000-sketch2photo"
    run_dir = runner.runs / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps(
        {"id": run_id, "model": "sketch2photo", "config": TrainConfig(steps=4).to_dict(), "nproc": 1}))
    (run_dir / "state.pt").write_bytes(b"")
    return run_id


@pytest.mark.parametrize("steps", [-5, 0, 0.5, 2.5, math.nan, math.inf, -math.inf, 10**400, HUGE, "abc", "10",
                                   True, [10]], ids=_short_id)
def test_resume_refuses_bad_step_counts(runner, steps):
    run_id = _fake_resumable_run(runner)
    run_json = (runner.runs / run_id / "run.json").read_text()
    with pytest.raises(RunnerError, match="steps"):
        runner.resume(run_id, steps)
    assert (runner.runs / run_id / "run.json").read_text() == run_json
    assert not (runner.runs / run_id / "pid").exists()  # nothing was started


@pytest.mark.parametrize("params", [
    {"steps": math.nan}, {"steps": math.inf}, {"steps": "inf"}, {"steps": "abc"}, {"steps": -3}, {"steps": 2.5},
    {"lr_G": math.nan}, {"lr_G": math.inf}, {"lr_G": "nan"}, {"lr_G": -1e-4}, {"batch_size": 10**400},
    {"seed": -1}, {"seed": HUGE}, {"device": math.nan},
], ids=_short_id)
def test_start_refuses_non_finite_and_junk_params(runner, params):
    with pytest.raises(RunnerError, match="invalid hyper-parameters"):
        runner.start("sketch2photo", params)
    assert runner.runs_list() == []


@pytest.mark.parametrize("nproc", [math.nan, math.inf, "abc", "2", 0, 17, 1.5, True, None, HUGE], ids=_short_id)
def test_start_refuses_bad_process_counts(runner, nproc):
    with pytest.raises(RunnerError, match="processes"):
        runner.start("sketch2photo", {"steps": 2}, nproc=nproc)
    assert runner.runs_list() == []


def test_multi_process_training_is_refused_where_a_task_has_none(tmp_path):
    """Only pix2pix wraps its step for DDP: asking another model for 2 processes is refused up
    front, with the reason, instead of a run that fails inside torchrun."""
    from core.train.tasks import TASKS

    runner = Runner(tmp_path / "runs", ())
    assert [name for name, task in TASKS.items() if task.supports_distributed] == ["pix2pix"]
    for model in ("horse2zebra", "faces", "face_attributes"):
        with pytest.raises(RunnerError, match="one process only"):
            runner.start(model, {"steps": 2}, None, 2)
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
