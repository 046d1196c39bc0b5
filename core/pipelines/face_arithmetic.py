"""Latent vector arithmetic on generated faces (Radford et al. 2016, fig. 7), judged by our own
attribute classifier: exemplar pools, presets, attribute directions and the success rate."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoint import is_checkpoint
from ..registry import get_spec
from .disk_cache import cached, weights_digest
from .faces import FacesPipeline, clean_seed, on_shell
from .faces import load as load_faces
from .face_attributes import REPORTED_ATTRIBUTES, AttributeClassifier
from .face_attributes import load as load_classifier

# Attributes offered as sliders / map axes: the ones the classifier is reported on.
DIRECTION_ATTRIBUTES = REPORTED_ATTRIBUTES
POOL_SIZE = 12_000  # generated faces the classifier labels once (cached on disk): exemplars and directions
# come from them. 12,000 rather than 3,000: confident *and* latent-typical "neutral women" are rare (5 here)
POOL_SEED = 20_161_119  # fixed, so presets draw from the same faces in every session
CONFIDENT = 0.9  # an exemplar must be judged this sure (p >= 0.9, or <= 0.1 for "without"): it beat
# 0.8 on tuning draws (bench/faces_arithmetic_ablation.py, docs/RESULTS.md)
LATENT_MARGIN = 2.0  # ... and its z must lie this far (in logits) on the concept's side of a linear
# probe z -> label fitted on the pool: the arithmetic walks straight lines in z, so exemplars should be
# typical of their concept along them: both presets succeed more often, on tuning and on eval draws
# (bench/faces_arithmetic_ceiling.py; figures in docs/RESULTS.md)
MIN_TYPICAL = 3  # fewer latent-typical members than this: fall back to the classifier's rule alone
POOL_CACHE_VERSION = 1  # bump when the pool's labels change meaning (decoding, preprocessing, ...)
RECORD_DRAWS = 100  # exemplar draws behind a preset's success rate (as in the eval)
NOISE_STD = 0.25  # the paper's 3x3 figure adds "uniform noise with scale +-0.25" to the result


@dataclass(frozen=True)
class Concept:
    """A set of faces described by attributes, e.g. smiling woman = {Smiling: yes, Male: no}."""

    label: str
    attrs: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Preset:
    """A - B + C should have `expect` (e.g. smiling woman - neutral woman + neutral man: smiling man)."""

    A: Concept
    B: Concept
    C: Concept
    expect: tuple[tuple[str, bool], ...]
    result_label: str

    @property
    def name(self) -> str:
        return f"{self.A.label} − {self.B.label} + {self.C.label}"


def _c(label: str, **attrs: bool) -> Concept:
    return Concept(label, tuple(attrs.items()))


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(_c("smiling woman", Smiling=True, Male=False), _c("neutral woman", Smiling=False, Male=False),
           _c("neutral man", Smiling=False, Male=True), (("Smiling", True), ("Male", True)), "smiling man"),
    Preset(_c("man with glasses", Eyeglasses=True, Male=True), _c("man without glasses", Eyeglasses=False, Male=True),
           _c("woman without glasses", Eyeglasses=False, Male=False), (("Eyeglasses", True), ("Male", False)),
           "woman with glasses"),
)}


def fit_linear_probe(z: torch.Tensor, y: torch.Tensor, l2: float = 1e-4,
                     max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Logistic regression latents z [N, D] -> labels y [N] in {0, 1}: (w [D], b [1]), logit = z @ w + b.
    Works under no_grad / inference_mode too (it needs autograd, so it switches both off locally)."""
    with torch.inference_mode(False), torch.enable_grad():
        z, y = z.float().clone(), y.float().clone()  # inference tensors cannot take part in autograd
        w, b = torch.zeros(z.shape[1], requires_grad=True), torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=max_iter)

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(z @ w + b, y) + l2 * w.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
    return w.detach(), b.detach()


@dataclass
class Pool:
    """POOL_SIZE generated faces: latents [N, D] and the classifier's probabilities [N, A]."""

    z: torch.Tensor
    probs: torch.Tensor
    _members: dict = field(default_factory=dict)
    _latent_logits: dict = field(default_factory=dict)  # attribute -> [N] or None (no probe possible)


@dataclass
class ArithmeticResult:
    exemplars: dict[str, torch.Tensor]  # "A"/"B"/"C" -> [k, D]
    means: dict[str, torch.Tensor]  # "A"/"B"/"C" -> [D], the plain means
    result: torch.Tensor  # [D]: mean A - mean B + mean C, on the prior's shell (faces.on_shell)
    grid: torch.Tensor  # [9, D]: 3x3, the result in the centre, 8 noisy neighbours around (paper fig. 7)

    def mean_faces(self) -> torch.Tensor:
        """[3, D]: the means of A, B, C on the prior's shell, i.e. the latents to decode to *show* a
        mean face. Decoded as they are, means of three 'neutral women' rarely looked like one to our
        classifier; on the shell they nearly always do (docs/RESULTS.md)."""
        return on_shell(torch.stack([self.means[k] for k in "ABC"]))


class FaceArithmetic:
    def __init__(self, faces: FacesPipeline, classifier: AttributeClassifier, pool_size: int | None = None,
                 confident: float = CONFIDENT, latent_margin: float = LATENT_MARGIN):
        self.faces, self.classifier, self.pool_size = faces, classifier, pool_size or POOL_SIZE
        self.confident, self.latent_margin = confident, latent_margin
        self._pool: Pool | None = None
        # _lock: the pool; _probe_lock: the latent probes (each fitted once, not by two threads at a time)
        self._lock, self._probe_lock, self._record_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._records: dict[tuple[Preset, int], tuple[float, float]] = {}

    # --- the labelled pool --------------------------------------------------------------
    @property
    def pool(self) -> Pool:
        """Built once (a few seconds on a CPU), then shared by every request."""
        with self._lock:
            if self._pool is None:
                gen = torch.Generator().manual_seed(POOL_SEED)
                z = torch.randn(self.pool_size, self.faces.z_dim, generator=gen)
                # Everything the labels depend on: the latents themselves, both nets' weights (and
                # dtypes), what the outputs mean, where they ran, and this code's version of it.
                key = (f"v{POOL_CACHE_VERSION}/{weights_digest(z, self.faces.G, self.classifier.net)}/"
                       f"{','.join(self.classifier.names)}/{self.faces.device}/{self.classifier.device}")
                shape = (self.pool_size, len(self.classifier.names))
                probs = cached("face_pool", key, lambda: {"probs": self.judge(z)},
                               valid=lambda t: tuple(t["probs"].shape) == shape)["probs"]
                self._pool = Pool(z, probs.float())
            return self._pool

    @property
    def pool_ready(self) -> bool:
        """True once the labelled pool exists (the first time on a machine it takes a while on a CPU)."""
        return self._pool is not None

    def judge(self, z: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """Latents [N, D] -> the classifier's probabilities for their faces [N, A] (decoded a chunk at
        a time: 12,000 faces at once would hold 0.6 GB of images)."""
        return torch.cat([self.classifier.probabilities(self.faces.decode(c)) for c in z.split(chunk)])

    def latent_logits(self, name: str) -> torch.Tensor | None:
        """[N]: a linear probe's logit for `name` at each pool latent (fitted on the pool's labels), or
        None when the pool has (almost) no faces with, or without, the attribute."""
        pool = self.pool
        with self._probe_lock:
            if name not in pool._latent_logits:
                y = (pool.probs[:, self.classifier.index(name)] > 0.5).float()
                if min(y.sum(), len(y) - y.sum()) < 10:
                    pool._latent_logits[name] = None
                else:
                    w, b = fit_linear_probe(pool.z, y)
                    pool._latent_logits[name] = pool.z @ w + b
            return pool._latent_logits[name]

    def members(self, concept: Concept) -> torch.Tensor:
        """Indices into the pool of faces that are clearly `concept`: the classifier is confident
        (p >= confident) and the latent lies `latent_margin` logits on the concept's side of a linear
        probe. When fewer than MIN_TYPICAL faces pass both, the classifier's rule alone."""
        pool = self.pool
        if concept not in pool._members:
            confident = torch.ones(len(pool.z), dtype=torch.bool)
            typical = confident.clone()
            for name, wanted in concept.attrs:
                p = pool.probs[:, self.classifier.index(name)]
                confident &= (p >= self.confident) if wanted else (p <= 1 - self.confident)
                logit = self.latent_logits(name) if self.latent_margin > 0 else None
                if logit is not None:
                    typical &= (logit >= self.latent_margin) if wanted else (logit <= -self.latent_margin)
            typical &= confident
            keep = typical if int(typical.sum()) >= MIN_TYPICAL else confident
            pool._members[concept] = keep.nonzero().flatten()
        return pool._members[concept]

    def draw(self, preset: Preset, seed, k: int = 3) -> dict[str, torch.Tensor]:
        """k random exemplars for each of A, B, C: {"A": [k, D], ...}. Raises LookupError when the
        pool holds fewer than k faces of some concept."""
        rng = np.random.default_rng(clean_seed(seed))
        out = {}
        for key, concept in (("A", preset.A), ("B", preset.B), ("C", preset.C)):
            idx = self.members(concept)
            if len(idx) < k:
                raise LookupError(f"only {len(idx)} generated faces look like a {concept.label}")
            out[key] = self.pool.z[idx[rng.choice(len(idx), size=k, replace=False)]]
        return out

    def combine(self, exemplars: dict[str, torch.Tensor], seed=0, noise: float = NOISE_STD) -> ArithmeticResult:
        """mean(A) - mean(B) + mean(C) put on the prior's shell, and 8 neighbours with uniform noise in
        [-noise, noise]. The shell matters most for few exemplars: with one face each the sum is far
        too long, and putting it on the shell raised the success rate several times; with three each
        it is about the right length already (docs/RESULTS.md)."""
        for key in "ABC":
            if key not in exemplars or len(exemplars[key]) == 0:
                raise ValueError(f"pick at least one face for {key}")
        means = {key: exemplars[key].float().mean(0) for key in "ABC"}
        result = on_shell(means["A"] - means["B"] + means["C"])
        gen = torch.Generator().manual_seed(clean_seed(seed) + 1)
        jitter = (torch.rand(8, result.numel(), generator=gen) * 2 - 1) * float(np.clip(noise, 0.0, 2.0))
        grid = torch.cat([result[None] + jitter[:4], result[None], result[None] + jitter[4:]])
        return ArithmeticResult(exemplars, means, result, grid)

    def satisfied(self, probs: torch.Tensor, expect) -> torch.Tensor:
        """probs [N, A] -> [N] bool: every expected attribute on the right side of 0.5."""
        ok = torch.ones(len(probs), dtype=torch.bool)
        for name, wanted in expect:
            p = probs[:, self.classifier.index(name)]
            ok &= (p > 0.5) if wanted else (p < 0.5)
        return ok

    def success_rate(self, preset: Preset, draws: int = 100, seed: int = 0) -> float:
        """Share of `draws` random exemplar triples whose A - B + C face the classifier judges to
        have the preset's intended attributes."""
        results = torch.stack([self.combine(self.draw(preset, seed * 100_003 + i)).result for i in range(draws)])
        return float(self.satisfied(self.judge(results), preset.expect).float().mean())

    def base_rate(self, preset: Preset) -> float:
        """Share of random pool faces that already have the preset's intended attributes."""
        return float(self.satisfied(self.pool.probs, preset.expect).float().mean())

    def record(self, preset: Preset, draws: int = RECORD_DRAWS) -> tuple[float, float]:
        """(success rate over `draws` random exemplar triples, base rate), as the eval measures
        them (seed 0); computed once per preset (~1 s) and kept, so a tab can say how often a
        preset works with the weights it serves."""
        with self._record_lock:  # not self._lock: the pool property takes that one
            if (preset, draws) not in self._records:
                self._records[preset, draws] = (self.success_rate(preset, draws), self.base_rate(preset))
            return self._records[preset, draws]

    # --- attribute directions -----------------------------------------------------------
    def direction(self, name: str) -> torch.Tensor:
        """Mean z of pool faces with the attribute minus mean z of those without: [D]. Adding it
        once moves an average face from 'without' to 'with'."""
        p = self.pool.probs[:, self.classifier.index(name)]
        with_, without = self.pool.z[p >= 0.5], self.pool.z[p < 0.5]
        if len(with_) < 3 or len(without) < 3:
            raise LookupError(f"too few generated faces with and without {name} to find a direction")
        return with_.mean(0) - without.mean(0)

    def available_directions(self) -> list[str]:
        return [n for n in DIRECTION_ATTRIBUTES if n in self.classifier.names]


_ARITH: dict[tuple[int, int], FaceArithmetic] = {}
_ARITH_LOCK = threading.Lock()


def load() -> FaceArithmetic:
    """The shared FaceArithmetic for the shipped faces GAN and classifier (rebuilt, pool and all,
    when either is re-promoted). Raises NotTrainedError when one is missing."""
    faces, classifier = load_faces(), load_classifier()
    key = (id(faces), id(classifier))
    with _ARITH_LOCK:
        if key not in _ARITH:
            _ARITH.clear()
            _ARITH[key] = FaceArithmetic(faces, classifier)
        return _ARITH[key]


def has_checkpoints() -> bool:
    return all(is_checkpoint(get_spec(n).checkpoint_dir) for n in ("faces", "face_attributes"))
