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
def shared_app() -> str:
    """The URL of one app as it ships (default settings, no start-up warm-up), shared by every test
    that only needs such an app: each launch costs 12-18 s of two cores (importing Gradio and torch,
    building the tabs). Tests that change its settings, or must see a fresh process, start their own
    (tests.apprunner.running_app)."""
    from tests.apprunner import running_app

    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def labelled_pool():
    """The arithmetic pool of every shipped faces model (the DCGAN's and, when shipped, faces v2's:
    the faces tabs start on v2), labelled once into the tests' disk cache (LAB_CACHE_DIR above), so
    that an app a test launches reads them in milliseconds instead of spending minutes of CPU on them
    while the test waits for the UI. Their labels are read from the files shipped beside the weights
    (core.pipelines.shipped_pool); the presets' records take ~1 s each the first time."""
    from core.pipelines import face_arithmetic

    for name in face_arithmetic.shipped_faces_models():
        arith = face_arithmetic.load(name)
        arith.pool  # noqa: B018
        for preset in face_arithmetic.PRESETS.values():  # the tabs state each preset's record (~1 s each)
            arith.record(preset)
