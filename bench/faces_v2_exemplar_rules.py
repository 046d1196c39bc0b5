"""Which exemplar rule makes faces v2's vector arithmetic work: the sweeps behind EXEMPLAR_RULES and
REAL_LATENT_MARGIN (docs/RESULTS.md, "Faces v2").

    python bench/faces_v2_exemplar_rules.py [--checkpoint checkpoints/faces_v2] [--json FILE]

All on tuning draws (seed 1), which the recorded eval (seed 0) never uses; judge: the shipped
attribute classifier. Per preset (smiling man, woman with glasses), the success rate of 100 draws:
- pool: classifier confidence x latent margin (FaceArithmetic's own rule), and the number of
  members of A, B, C each rule keeps;
- top_k: the K confident faces most typical along the probes instead of a margin;
- real: exemplars from the held-out faces (folder labels, codes on their side of the pool's probes
  by a margin; core.eval.faces_v2._typical). Needs ../shared/data for this part.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval import faces  # noqa: E402
from core.eval.faces_v2 import EXEMPLARS, _members, _typical, folder_labels  # noqa: E402
from core.pipelines.face_arithmetic import PRESETS, FaceArithmetic, load_classifier  # noqa: E402
from core.pipelines.faces import FacesPipeline  # noqa: E402
from core.registry import get_spec  # noqa: E402

TUNING_SEED = 1
DRAWS = 100


def _pool_rates(arith: FaceArithmetic) -> dict[str, object]:
    """Success per preset over DRAWS tuning draws, drawn as the eval draws (FaceArithmetic.success_rate)
    from arith.members, and how many members A, B, C have."""
    out = {}
    for name, preset in PRESETS.items():
        members = [len(arith.members(c)) for c in (preset.A, preset.B, preset.C)]
        try:
            out[name] = {"success": arith.success_rate(preset, DRAWS, seed=TUNING_SEED), "members": members}
        except LookupError:
            out[name] = {"success": None, "members": members}
    return out


def _rates(arith: FaceArithmetic, members_of, codes: torch.Tensor) -> dict[str, object]:
    """Success per preset over DRAWS tuning draws with exemplars from members_of(concept), indices into
    `codes` [N, D] (real faces' codes)."""
    rng, out = np.random.default_rng(TUNING_SEED), {}
    for name, preset in PRESETS.items():
        members = [members_of(c) for c in (preset.A, preset.B, preset.C)]
        if min(len(m) for m in members) < EXEMPLARS:
            out[name] = {"success": None, "members": [len(m) for m in members]}
            continue
        results = torch.stack([arith.combine({k: codes[m[rng.choice(len(m), EXEMPLARS, replace=False)]]
                                              for k, m in zip("ABC", members)}).result for _ in range(DRAWS)])
        out[name] = {"success": float(arith.satisfied(arith.judge(results), preset.expect).float().mean()),
                     "members": [len(m) for m in members]}
    return out


def top_k(arith: FaceArithmetic, k: int):
    """members_of: the k confident members whose weakest attribute lies furthest along its probe."""
    def members_of(concept):
        pool = arith.pool
        confident = torch.ones(len(pool.z), dtype=torch.bool)
        margin = torch.full((len(pool.z),), float("inf"))
        for name, wanted in concept.attrs:
            p = pool.probs[:, arith.classifier.index(name)]
            confident &= (p >= arith.confident) if wanted else (p <= 1 - arith.confident)
            margin = torch.minimum(margin, arith.latent_logits(name) * (1 if wanted else -1))
        idx = confident.nonzero().flatten()
        return idx[margin[idx].argsort(descending=True)[:k]]
    return members_of


def real(pipe: FacesPipeline, clf, margins) -> dict[str, object]:
    """The presets with held-out faces as exemplars, per latent margin (as core.eval.faces_v2 does)."""
    spec = get_spec("faces_v2")
    ds = faces.eval_faces(spec, spec.data.train, "val")
    faces_ = torch.stack([ds[i]["image"] for i in range(len(ds))])
    u = pipe.encode(faces_)
    labels = folder_labels(ds, len(ds), clf, faces_)
    arith = FaceArithmetic(pipe, clf)
    probes: dict = {}  # the pool's probes, fitted once
    return {str(margin): _rates(arith, lambda c, m=margin: _typical(_members(c, labels), c, u, arith, probes, m), u)
            for margin in margins}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", type=Path, default=get_spec("faces_v2").checkpoint_dir)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    setup_threads()
    pipe, clf = FacesPipeline.from_checkpoint(args.checkpoint, precision="fp32"), load_classifier()
    out: dict[str, object] = {"pool": {}, "top_k": {}}
    for confident in (0.9, 0.95):
        for margin in (0.0, 2.0, 3.0, 4.0, 4.5, 5.0):
            arith = FaceArithmetic(pipe, clf, confident=confident, latent_margin=margin)
            out["pool"][f"{confident}/{margin}"] = _pool_rates(arith)
        for k in (10, 15, 25, 50, 100):
            arith = FaceArithmetic(pipe, clf, confident=confident)
            arith.members = top_k(arith, k)  # this instance draws from the top k instead
            out["top_k"][f"{confident}/{k}"] = _pool_rates(arith)
    if get_spec("faces_v2").data.train.is_dir():
        out["real"] = real(pipe, clf, (0.0, 1.0, 2.0, 3.0, 4.0))
    emit(out, args.json)


if __name__ == "__main__":
    main()
