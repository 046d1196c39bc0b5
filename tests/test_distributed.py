"""The same training under torchrun with 2 CPU processes (gloo): one event log, rank 0 writes."""
import subprocess
import sys
from collections import Counter

import pytest

from core.checkpoint import load_checkpoint
from core.train.events import read_events
from tests.apprunner import ROOT, free_port


@pytest.mark.slow
def test_two_process_gloo_run_completes_and_rank0_alone_writes(tmp_path, paired_folder_photo_left):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           "-m", "core.train", "sketch2photo", "--steps", "3", "--batch-size", "2", "--data", str(paired_folder_photo_left), "--photo-left",
           "--run-dir", str(run), "--set", "log_every=1", "--set", "sample_every=2", "--set", "checkpoint_every=2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = read_events(run / "events.jsonl")
    kinds = Counter(e["event"] for e in events)
    assert kinds["start"] == 1 and kinds["end"] == 1  # a single log, not one per rank
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2, 3]
    assert events[0]["world_size"] == 2
    assert events[0]["data_options"]["photo_left"] is True  # --photo-left, as the eval's option says
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000002.png", "step_0000003.png"]
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "events.jsonl", "samples", "state.pt", "timelapse"]
    frames = sorted(p.name for p in (run / "timelapse").glob("step_*.png"))
    assert frames == ["step_0000002.png", "step_0000003.png"]  # rank 0 alone makes them
    assert load_checkpoint(run / "checkpoint")[1]["step"] == 3


@pytest.mark.slow
def test_ctrl_c_stops_the_cli_after_a_step_with_a_checkpoint(tmp_path, paired_folder_photo_left):
    """Ctrl-C in a terminal (SIGINT to the whole process group, data worker included) finishes the
    current step, saves and exits 130 (as shells expect); --resume continues from there."""
    import os
    import signal
    import time

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "core.train", "sketch2photo", "--steps", "100000", "--batch-size", "2",
           "--data", str(paired_folder_photo_left), "--photo-left", "--run-dir", str(run), "--set", "log_every=1",
           "--set", "checkpoint_every=100000", "--set", "sample_every=100000", "--set", "eval_every=100000"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not any(e["event"] == "step" for e in _events(run)):
        time.sleep(0.5)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    events = read_events(run / "events.jsonl")
    stopped = [e for e in events if e["event"] == "stopped"]
    assert len(stopped) == 1 and stopped[0]["step"] >= 1
    at = stopped[0]["step"]
    assert load_checkpoint(run / "checkpoint")[1]["step"] == at  # nothing lost
    resumed = subprocess.run([*cmd[:5], str(at + 1), *cmd[6:], "--resume"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = read_events(run / "events.jsonl")[len(events):]
    assert after[0]["event"] == "start" and after[0]["step"] == at and after[0]["resumed"]
    assert after[-1]["event"] == "end" and after[-1]["step"] == at + 1


def _events(run):
    try:
        return read_events(run / "events.jsonl")
    except (FileNotFoundError, ValueError):
        return []


def test_a_stop_file_stops_the_cli_and_a_stale_one_is_cleared(tmp_path):
    from core.train.__main__ import StopRequest

    (tmp_path / "STOP").write_text("left from an earlier run")
    stop = StopRequest(tmp_path)
    assert not stop() and not (tmp_path / "STOP").exists()
    (tmp_path / "STOP").write_text("now")
    assert stop()
