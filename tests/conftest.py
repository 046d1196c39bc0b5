from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tests (and the apps they launch) keep their disk cache (e.g. the labelled arithmetic pool) beside the
# checkout, not in the user's ~/.cache: computed once per checkout, shared by every test process.
os.environ.setdefault("LAB_CACHE_DIR", str(ROOT / ".pytest_cache" / "genlab"))
torch.set_num_threads(2)

from core.data.synthetic import make_paired_folder  # noqa: E402
from core.registry import SHARED_DATA  # noqa: E402


@pytest.fixture(scope="session")
def paired_folder(tmp_path_factory) -> Path:
    """8 synthetic pairs in the official pix2pix order (edges | photo)."""
    return make_paired_folder(tmp_path_factory.mktemp("pairs"), n=8, size=64)


@pytest.fixture(scope="session")
def paired_folder_photo_left(tmp_path_factory) -> Path:
    """The same kind of pairs in the shared set's order (photo | edges)."""
    return make_paired_folder(tmp_path_factory.mktemp("pairs_pl"), n=8, size=64, photo_left=True)


def shared(*parts: str) -> Path:
    return SHARED_DATA.joinpath(*parts)


needs_shared_data = pytest.mark.skipif(
    not shared("edges2shoes_handbags", "val").is_dir(), reason="../shared/data is not on this machine")


@pytest.fixture(scope="session")
def labelled_pool():
    """The shipped faces models' arithmetic pool, labelled once into the tests' disk cache
    (LAB_CACHE_DIR above), so that an app a test launches reads it in milliseconds instead of
    spending a minute or two of CPU on it while the test waits for the UI."""
    from core.pipelines import face_arithmetic

    if face_arithmetic.has_checkpoints():
        face_arithmetic.load().pool  # noqa: B018
