"""The arithmetic pool's labels shipped beside the faces weights (core.pipelines.shipped_pool): a new
machine reads them instead of labelling 12,000 faces, they are what a labelling gives, and labels
written for other weights (or switched off) are never used."""
from __future__ import annotations

import time

import pytest
import torch

from core.pipelines import face_arithmetic, shipped_pool
from core.pipelines.face_arithmetic import FaceArithmetic, exemplar_rules, shipped_faces_models
from core.pipelines.face_attributes import load as load_classifier
from core.pipelines.faces import load as load_faces
from core.registry import get_spec


def _fresh(name: str, shipped) -> FaceArithmetic:
    """A FaceArithmetic of its own (face_arithmetic.load shares one, whose pool may be ready already)."""
    return FaceArithmetic(load_faces(name), load_classifier(), **exemplar_rules(name), shipped=shipped)


@pytest.mark.parametrize("name", shipped_faces_models())
def test_a_new_machine_reads_the_labels_shipped_with_the_weights(name, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "empty"))  # nothing labelled on this machine yet
    path = get_spec(name).checkpoint_dir / shipped_pool.POOL_FILE
    arith = _fresh(name, path)
    started = time.perf_counter()
    assert arith.prepare_pool(), (f"{path} was not written for the shipped weights: run "
                                  f"`python -m core.pipelines.shipped_pool {name}` after retraining")
    assert arith.pool_ready and time.perf_counter() - started < 5
    pool = arith.pool
    assert pool.probs.shape == (face_arithmetic.POOL_SIZE, len(arith.classifier.names))
    # ... and they are what labelling these faces gives here (fp32; another CPU moves them by ~1e-6)
    idx = torch.linspace(0, len(pool.z) - 1, 96).long()
    relabelled = arith.judge(pool.z[idx])
    assert torch.allclose(relabelled, pool.probs[idx], atol=1e-4), (relabelled - pool.probs[idx]).abs().max()
    # Whoever builds one on these weights (an eval, a benchmark) finds them without being told where.
    assert _fresh(name, None).prepare_pool()


def test_labels_for_other_weights_broken_or_switched_off_are_not_read(tmp_path, monkeypatch):
    probs = torch.rand(6, 4)
    path = shipped_pool.write(tmp_path / shipped_pool.POOL_FILE, "the key", probs)
    fits = lambda t: t["probs"].shape == (6, 4)  # noqa: E731
    assert torch.equal(shipped_pool.read(path, "the key", fits), probs)
    assert shipped_pool.read(path, "other weights", fits) is None
    assert shipped_pool.read(path, "the key", lambda t: False) is None
    assert shipped_pool.read(tmp_path / "missing.safetensors", "the key", fits) is None
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(path.read_bytes()[:100])
    assert shipped_pool.read(broken, "the key", fits) is None
    monkeypatch.setenv(shipped_pool.ENV_OFF, "0")
    assert shipped_pool.read(path, "the key", fits) is None


def test_labels_of_other_weights_leave_the_pool_to_be_labelled(tmp_path, monkeypatch):
    """E.g. a re-promoted classifier: the faces folder still holds labels made with the old one."""
    name = shipped_faces_models()[0]
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "empty"))
    stale = shipped_pool.write(tmp_path / shipped_pool.POOL_FILE, "v1/another digest",
                               torch.rand(face_arithmetic.POOL_SIZE, len(load_classifier().names)))
    arith = _fresh(name, stale)
    assert not arith.prepare_pool() and not arith.pool_ready
    done, total, _ = arith.labelling_progress()
    assert (done, total) == (0, face_arithmetic.POOL_SIZE)
