"""How far is the preset arithmetic from what its method could give, and why?

    python bench/faces_arithmetic_ceiling.py [--draws 100] [--probe-samples 12000] [--json FILE]
    python bench/faces_arithmetic_ceiling.py --checkpoint runs/X/checkpoint   # a candidate generator

1. The shell (with the shipped exemplar rule): results and mean faces decoded as they are vs put on the prior's shell
   (`core.pipelines.faces.on_shell`), with 1 and 3 exemplars per concept.
2. Exemplar rules: the classifier's confidence alone (3,000- and 12,000-face pools) against the
   shipped rule that also asks for a latent margin (`face_arithmetic.LATENT_MARGIN`), and others.
3. A ceiling: the same method (3-exemplar means, A - B + C) on an *ideal* generator whose
   attributes are exactly linear in z (attribute k present iff w_k . z > t_k, the w_k orthonormal,
   t_k set so that each attribute is as common as in our generator's samples). Exemplars either
   any member, or at least `margin` (in z's units) beyond the boundary, like confident exemplars.
4. Our generator judged linearly: a logistic probe z -> the classifier's label, fitted on
   `probe_samples` generated faces, judges the same results as the classifier does. If the probe
   calls far more results right than the classifier, the generator bends the attribute away from
   the straight line the arithmetic walks.
All on tuning draws (seed 1) that the evaluation (seed 0) never uses, so a candidate generator can be
compared with the shipped one here (about 3 minutes) before the full evaluation. Needs the shipped
face_attributes checkpoint, and the shipped faces one unless --checkpoint names another.
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
from core.pipelines.face_arithmetic import PRESETS, FaceArithmetic, fit_linear_probe, load_classifier  # noqa: E402
from core.pipelines.faces import FacesPipeline, on_shell  # noqa: E402
from core.pipelines.faces import load as load_faces  # noqa: E402

TUNING_SEED = 1
SIGNS = (("A", 1.0), ("B", -1.0), ("C", 1.0))


def _key(preset) -> str:
    return preset.result_label.replace(" ", "_")


def plain_results(arith: FaceArithmetic, preset, draws: int, k: int) -> torch.Tensor:
    """[draws, D]: mean A - mean B + mean C of k exemplars each, *not* put on the shell."""
    out = []
    for i in range(draws):
        ex = arith.draw(preset, TUNING_SEED * 100_003 + i, k=k)
        out.append(sum(sign * ex[key].mean(0) for key, sign in SIGNS))
    return torch.stack(out)


def shell_report(arith: FaceArithmetic, draws: int) -> dict:
    out = {}
    for preset in PRESETS.values():
        try:
            arith.draw(preset, 0)
        except LookupError as e:  # an early or collapsed generator makes too few of some concept
            out[f"error_{_key(preset)}"] = str(e)
            continue
        for k in (1, 3):
            plain = plain_results(arith, preset, draws, k)
            for name, z in (("plain", plain), ("shell", on_shell(plain))):
                ok = arith.satisfied(arith.judge(z), preset.expect).float().mean()
                out[f"{_key(preset)}_k{k}_{name}"] = round(float(ok), 3)
            out[f"{_key(preset)}_k{k}_plain_norm"] = round(float(plain.norm(dim=1).mean()), 2)
        for key, concept in (("A", preset.A), ("B", preset.B), ("C", preset.C)):
            out[f"pool_members_{concept.label.replace(' ', '_')}"] = len(arith.members(concept))
            means = torch.stack([arith.draw(preset, TUNING_SEED * 100_003 + i)[key].mean(0) for i in range(draws)])
            for name, z in (("plain", means), ("shell", on_shell(means))):
                ok = arith.satisfied(arith.judge(z), concept.attrs).float().mean()
                out[f"mean_face_{concept.label.replace(' ', '_')}_{name}"] = round(float(ok), 3)
    return out


def ideal_linear(rates: dict[str, float], draws: int, margin: float, trials: int = 20, pool: int = 3000,
                 z_dim: int = 100) -> dict[str, float]:
    """Success of the presets on a generator whose attributes are exact half-spaces of z."""
    rng = np.random.default_rng(TUNING_SEED)
    names = list(rates)
    w = np.linalg.qr(rng.standard_normal((z_dim, len(names))))[0].T  # [A, D], orthonormal
    t = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor([1 - rates[n] for n in names])).numpy()
    out = {}
    for preset in PRESETS.values():
        wins = []
        for _ in range(trials):
            z = rng.standard_normal((pool, z_dim))
            margin_of = z @ w.T - t  # [pool, A]: signed distance past each boundary

            def members(attrs):
                keep = np.ones(pool, bool)
                for n, wanted in attrs:
                    m = margin_of[:, names.index(n)]
                    keep &= (m > margin) if wanted else (m < -margin)
                return np.flatnonzero(keep)

            idx = {key: members(c.attrs) for key, c in (("A", preset.A), ("B", preset.B), ("C", preset.C))}
            if min(len(i) for i in idx.values()) < 3:  # rates this extreme leave a concept (nearly) empty
                break
            res = np.stack([sum(sign * z[rng.choice(idx[key], 3, replace=False)].mean(0) for key, sign in SIGNS)
                            for _ in range(draws)])
            m = res @ w.T - t
            ok = np.ones(draws, bool)
            for n, wanted in preset.expect:
                ok &= (m[:, names.index(n)] > 0) if wanted else (m[:, names.index(n)] < 0)
            wins.append(ok.mean())
        out[_key(preset)] = round(float(np.mean(wins)), 3) if len(wins) == trials else None
    return out


def probe(z: torch.Tensor, y: torch.Tensor, fit: int, l2: float = 1e-4,
          max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The pipeline's linear probe z [N, D] -> y [N] fitted on the first `fit` rows; (w, b, held-out accuracy)."""
    w, b = fit_linear_probe(z[:fit], y[:fit], l2=l2, max_iter=max_iter)
    acc = float(((z[fit:] @ w + b > 0).float() == y[fit:]).float().mean())
    return w, b, acc


def linear_judge_report(arith: FaceArithmetic, draws: int, samples: int) -> dict:
    z = torch.randn(samples, arith.faces.z_dim, generator=torch.Generator().manual_seed(TUNING_SEED))
    probs = arith.judge(z)
    fit = int(0.8 * samples)
    names = sorted({n for p in PRESETS.values() for n, _ in p.expect})
    probes, out = {}, {}
    for n in names:
        y = (probs[:, arith.classifier.index(n)] > 0.5).float()
        w, b, acc = probe(z, y, fit)
        probes[n] = (w, b)
        share = float(y[fit:].mean())
        out[f"probe_{n}"] = {"accuracy": round(acc, 3), "majority_baseline": round(max(share, 1 - share), 3)}
    for preset in PRESETS.values():
        try:
            res = torch.stack([arith.combine(arith.draw(preset, TUNING_SEED * 100_003 + i)).result
                               for i in range(draws)])
        except LookupError as e:
            out[f"error_{_key(preset)}"] = str(e)
            continue
        ok = torch.ones(draws, dtype=torch.bool)
        for n, wanted in preset.expect:
            score = res @ probes[n][0] + probes[n][1]
            ok &= (score > 0) if wanted else (score < 0)
        out[f"{_key(preset)}_probe_judge"] = round(float(ok.float().mean()), 3)
        out[f"{_key(preset)}_classifier_judge"] = round(
            float(arith.satisfied(arith.judge(res), preset.expect).float().mean()), 3)
    return out


def exemplar_rules(faces: FacesPipeline, classifier, draws: int) -> dict:
    """Success on tuning draws of the exemplar rules tried: the classifier's confidence alone (pool of
    3,000 as first shipped, and 12,000), and with the latent margin (probe logits past the boundary)."""
    out = {}
    for pool_size, margin in ((3000, 0.0), (12_000, 0.0), (12_000, 1.0), (12_000, 2.0), (12_000, 3.0)):
        arith = FaceArithmetic(faces, classifier, pool_size=pool_size, latent_margin=margin)
        row = {}
        for preset in PRESETS.values():
            row[f"members_{_key(preset)}"] = [len(arith.members(c)) for c in (preset.A, preset.B, preset.C)]
            try:
                row[_key(preset)] = round(arith.success_rate(preset, draws, seed=TUNING_SEED), 3)
            except LookupError as e:
                row[_key(preset)] = None
                row[f"error_{_key(preset)}"] = str(e)
        out[f"pool_{pool_size}_margin_{margin:g}"] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--probe-samples", type=int, default=12_000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--checkpoint", type=Path, help="a faces generator checkpoint (default: the shipped one)")
    args = ap.parse_args()
    setup_threads()
    faces = FacesPipeline.from_checkpoint(args.checkpoint) if args.checkpoint else load_faces()
    arith = FaceArithmetic(faces, load_classifier())
    rates = {n: float((arith.pool.probs[:, arith.classifier.index(n)] > 0.5).float().mean())
             for n in ("Smiling", "Male", "Eyeglasses")}
    report = {"draws": args.draws, "seed": TUNING_SEED, "checkpoint": str(args.checkpoint or "shipped"),
              "step": faces.meta.get("step"), "generator_rates": {k: round(v, 3) for k, v in rates.items()},
              "exemplar_rules": exemplar_rules(faces, arith.classifier, args.draws),
              "shell": shell_report(arith, args.draws),
              "ideal_linear_any_member": ideal_linear(rates, args.draws, margin=0.0),
              "ideal_linear_margin_0.25": ideal_linear(rates, args.draws, margin=0.25),
              "ideal_linear_margin_0.5": ideal_linear(rates, args.draws, margin=0.5),
              "linear_judge": linear_judge_report(arith, args.draws, args.probe_samples)}
    emit(report, args.json)


if __name__ == "__main__":
    main()
