"""The on-disk tensor cache: computes once, reads back, survives corrupt entries and unwritable dirs."""
from __future__ import annotations

import torch

from core.pipelines import disk_cache


def test_builds_once_then_reads_back(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"x": torch.arange(6.0).reshape(2, 3)}

    first = disk_cache.cached("t", "key-1", build)
    again = disk_cache.cached("t", "key-1", build)
    other = disk_cache.cached("t", "key-2", build)
    assert len(calls) == 2 and torch.equal(first["x"], again["x"]) and torch.equal(first["x"], other["x"])
    assert len(list(tmp_path.glob("t-*.safetensors"))) == 2 and not list(tmp_path.glob("*.tmp"))


def test_a_corrupt_entry_is_recomputed(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    disk_cache.cached("t", "k", lambda: {"x": torch.ones(3)})
    (entry,) = tmp_path.glob("t-*.safetensors")
    entry.write_bytes(b"not a safetensors file")
    assert torch.equal(disk_cache.cached("t", "k", lambda: {"x": torch.zeros(3)})["x"], torch.zeros(3))
    assert torch.equal(disk_cache.cached("t", "k", lambda: {"x": torch.ones(3)})["x"], torch.zeros(3))


def test_an_unwritable_cache_only_costs_the_recomputation(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("LAB_CACHE_DIR", str(blocker / "cache"))
    assert torch.equal(disk_cache.cached("t", "k", lambda: {"x": torch.ones(2)})["x"], torch.ones(2))


def test_the_weights_digest_sees_every_value():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert disk_cache.weights_digest(a) == disk_cache.weights_digest(b)
    with torch.no_grad():
        b.bias[0] += 1e-3
    assert disk_cache.weights_digest(a) != disk_cache.weights_digest(b)


def test_a_failed_write_leaves_no_temp_file_and_still_returns(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))

    def full_disk(tensors, filename):
        open(filename, "wb").write(b"half")
        raise RuntimeError("No space left on device")  # safetensors raises its own (non-OSError) type

    monkeypatch.setattr(disk_cache, "save_file", full_disk)
    assert torch.equal(disk_cache.cached("t", "k", lambda: {"x": torch.ones(2)})["x"], torch.ones(2))
    assert not list(tmp_path.iterdir())


def test_an_entry_the_caller_rejects_is_rebuilt(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))
    disk_cache.cached("t", "k", lambda: {"x": torch.ones(3)})
    out = disk_cache.cached("t", "k", lambda: {"x": torch.zeros(4)}, valid=lambda t: t["x"].shape == (4,))
    assert out["x"].shape == (4,)
