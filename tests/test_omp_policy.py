"""The app and the CLIs load torch with OpenMP threads that sleep while they wait (PASSIVE): with
libgomp's spinning default a 2-thread model call beside any other busy process took 40 times longer
(bench/omp_wait.py, docs/RESULTS.md). libgomp reads the policy once, when torch loads, so it must be
in the environment before the first import of torch; an explicit setting wins."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.apprunner import ROOT

PROBE = "import {module}, os, torch; print(os.environ.get('OMP_WAIT_POLICY'))"


def _policy(module: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    res = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, env={**base, **env},
                         capture_output=True, text=True, timeout=300, check=True)
    return res.stdout.strip().splitlines()[-1]


def test_core_and_the_app_make_openmp_threads_sleep_unless_told_otherwise():
    assert _policy("core.train") == "PASSIVE"  # the training and eval CLIs import core before torch
    assert _policy("app") == "PASSIVE"
    assert _policy("core.train", OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"


def test_the_policy_is_set_before_anything_imports_torch():
    """core/__init__ runs before any core module; app.py sets it above its imports."""
    first = "import sys; import {module}; print('torch' in sys.modules)"
    for module in ("core",):
        res = subprocess.run([sys.executable, "-c", first.format(module=module)], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, check=True)
        assert res.stdout.strip() == "False", f"importing {module} loads torch before the policy is set"
    text = (ROOT / "app.py").read_text()
    assert text.index('os.environ.setdefault("OMP_WAIT_POLICY"') < text.index("from demos import")


def test_every_benchmark_sets_the_policy_before_torch_loads():
    """Benchmarks are run as scripts (python bench/X.py): each sets the app's policy itself above its
    first import of torch or core (bench/common.py, checked here too, sets it for those that import it
    first), else its figures are those of spinning threads."""
    for path in sorted((ROOT / "bench").glob("*.py")):
        text = path.read_text()
        loads = [i for i in (text.find("\nimport torch"), text.find("\nfrom torch"), text.find("\nfrom core"),
                             text.find("\nimport core")) if i >= 0]
        common = text.find("\nfrom bench.common")
        if loads and 0 <= common < min(loads):
            continue
        if loads:
            policy = text.find('os.environ.setdefault("OMP_WAIT_POLICY"')
            assert 0 <= policy < min(loads), f"{path.name} loads torch before setting OMP_WAIT_POLICY"
