"""Latent vector arithmetic on generated faces (Radford et al. 2016, fig. 7), judged by our own
attribute classifier: exemplar pools, presets, attribute directions and the success rate."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoint import is_checkpoint, read_config
from ..registry import get_spec
from . import shipped_pool
from .disk_cache import lookup, store, weights_digest
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
# Per faces model: (confident, latent_margin). v2's latent space is whitened and its probes are sharper: a
# margin of 4 logits beat 2 on tuning draws (seed 1, never the eval's): 0.99 / 0.68 against 0.93 / 0.47 at
# p >= 0.95 (smiling man / woman with glasses; docs/RESULTS.md, "Faces v2").
EXEMPLAR_RULES = {"faces": (CONFIDENT, LATENT_MARGIN), "faces_v2": (0.95, 4.0)}
MIN_TYPICAL = 3  # fewer latent-typical members than this: fall back to the classifier's rule alone
POOL_CACHE_VERSION = 1  # bump when the pool's labels change meaning (decoding, preprocessing, ...)
DERIVED_CACHE_VERSION = 1  # bump when the latent probes or the presets' records change meaning
RECORD_DRAWS = 100  # exemplar draws behind a preset's success rate (as in the eval)
LABEL_CHUNK = 256  # pool faces labelled per step (~1-2 s on 2 CPU cores): the unit of progress and of sharing
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
    key: str = ""  # what the labels depend on (FaceArithmetic._start): keys the disk cache of what is derived
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


class Labelling:
    """The pool's labels, computed a chunk of LABEL_CHUNK faces at a time by whichever threads
    help: a background warm-up at the lowest priority and, once a person waits for the pool, that
    request's own thread at normal priority. At most `max_workers` chunks are labelled at once (two
    cores); a chunk whose worker fails goes back to the queue for the next helper, and a chunk whose
    worker is stalled (the warm-up thread gets no CPU while the machine is busy) is labelled again
    by a helper after `patience` (at least `min_patience_s`, and 3x the mean time of a chunk)."""

    def __init__(self, z: torch.Tensor, judge, key: str, chunk: int | None = None, max_workers: int = 2,
                 min_patience_s: float = 2.0):
        chunk = chunk or LABEL_CHUNK
        self.z, self.key, self._judge, self.chunk, self.max_workers = z, key, judge, chunk, max_workers
        self.min_patience_s = min_patience_s
        self._starts = list(range(0, len(z), chunk))
        self._todo = list(reversed(range(len(self._starts))))  # chunk indices still to label, next last
        self._done: dict[int, torch.Tensor] = {}
        self._claimed: dict[int, float] = {}  # chunk -> when its (first) worker took it
        self._retaken: set[int] = set()
        self._working = 0
        self._busy_s = 0.0  # compute time of the finished chunks
        self._cond = threading.Condition()
        self.started = time.monotonic()
        self.labelled = 0

    @property
    def finished(self) -> bool:
        with self._cond:
            return len(self._done) == len(self._starts)

    def progress(self) -> tuple[int, int, float]:
        """(faces labelled, pool size, seconds since the labelling started)."""
        with self._cond:
            return self.labelled, len(self.z), time.monotonic() - self.started

    def _next(self) -> int | None:
        """Under the lock: the chunk to label next, or None."""
        while self._todo and self._working < self.max_workers:
            i = self._todo.pop()
            if i not in self._done:
                self._claimed.setdefault(i, time.monotonic())
                return i
        patience = max(self.min_patience_s, 3 * self._busy_s / max(1, len(self._done)))
        now = time.monotonic()
        for i, since in self._claimed.items():
            if i not in self._done and i not in self._retaken and now - since > patience:
                self._retaken.add(i)
                return i
        return None

    def step(self) -> bool:
        """Label the next chunk (or take over a stalled one); False when there is none to take."""
        with self._cond:
            i = self._next()
            if i is None:
                return False
            self._working += 1
        t = time.monotonic()
        try:
            start = self._starts[i]
            probs = self._judge(self.z[start:start + self.chunk])
        except BaseException:
            with self._cond:
                self._working -= 1
                if i not in self._done and i not in self._todo:
                    self._claimed.pop(i, None)
                    self._retaken.discard(i)
                    self._todo.append(i)
                self._cond.notify_all()
            raise
        with self._cond:
            self._working -= 1
            if i not in self._done:  # a stalled chunk's first worker may finish after all
                self._done[i] = probs
                self.labelled += len(probs)
                self._busy_s += time.monotonic() - t
            self._cond.notify_all()
        return True

    def wait(self, seconds: float) -> None:
        """Sleep until another thread finishes a chunk (or `seconds` pass)."""
        with self._cond:
            if len(self._done) < len(self._starts):
                self._cond.wait(seconds)

    def run(self) -> torch.Tensor:
        """Help until every chunk is labelled, then all the labels [N, A]."""
        while not self.finished:
            if not self.step():
                self.wait(0.5)
        with self._cond:
            return torch.cat([self._done[i] for i in range(len(self._starts))])


class FaceArithmetic:
    def __init__(self, faces: FacesPipeline, classifier: AttributeClassifier, pool_size: int | None = None,
                 confident: float = CONFIDENT, latent_margin: float = LATENT_MARGIN, shipped: Path | None = None):
        """`shipped`: the file of labels shipped with a faces model (core.pipelines.shipped_pool) to read
        when the disk cache has none and its key matches; by default, whichever checkpoint folder's
        file matches (shipped_pool.find)."""
        self.faces, self.classifier, self.pool_size = faces, classifier, pool_size or POOL_SIZE
        self.shipped = shipped
        self.confident, self.latent_margin = confident, latent_margin
        self._pool: Pool | None = None
        # _lock: the pool; _probe_lock, _record_lock: the latent probes and the presets' records (only
        # ever held for a lookup or a store, never while computing: see latent_logits)
        self._lock, self._probe_lock, self._record_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._records: dict[tuple[Preset, int], tuple[float, float]] = {}
        self._labelling: Labelling | None = None

    # --- the labelled pool --------------------------------------------------------------
    def _pool_valid(self, stored: dict[str, torch.Tensor]) -> bool:
        return tuple(stored["probs"].shape) == (self.pool_size, len(self.classifier.names))

    def _start(self) -> Labelling | None:
        """None once the pool exists (read from the disk cache, or from the labels shipped with the
        weights, if they are there), else the one labelling job every caller shares. The key and the
        disk reads are computed outside the lock (a thread holding it must never be one the scheduler
        keeps waiting: the warm-up's)."""
        with self._lock:
            if self._pool is not None or self._labelling is not None:
                return None if self._pool is not None else self._labelling
        gen = torch.Generator().manual_seed(POOL_SEED)
        z = torch.randn(self.pool_size, self.faces.z_dim, generator=gen)
        # Everything the labels depend on: the latents themselves, the nets' weights (and
        # dtypes), what the outputs mean, where they ran, and this code's version of it.
        decoder = [self.faces.G] + ([self.faces.P] if self.faces.P is not None else [])  # v2: G and its code Gaussian
        key = (f"v{POOL_CACHE_VERSION}/{weights_digest(z, *decoder, self.classifier.net)}/"
               f"{','.join(self.classifier.names)}/{self.faces.device}/{self.classifier.device}")
        stored = lookup("face_pool", key, self._pool_valid)
        probs = stored["probs"] if stored is not None else (
            shipped_pool.read(self.shipped, key, self._pool_valid) if self.shipped is not None
            else shipped_pool.find(key, self._pool_valid))
        with self._lock:
            if self._pool is None and probs is not None:
                self._pool = Pool(z, probs.float(), key)
            elif self._pool is None and self._labelling is None:
                self._labelling = Labelling(z, self.judge, key)
            return None if self._pool is not None else self._labelling

    def _finish(self, job: Labelling) -> Pool:
        probs = job.run()
        with self._lock:
            first = self._pool is None
        if first:
            store("face_pool", job.key, {"probs": probs})  # outside the lock (a file write)
        with self._lock:
            if self._pool is None:
                self._pool, self._labelling = Pool(job.z, probs.float(), job.key), None
            return self._pool

    def prepare_pool(self) -> bool:
        """Everything before the labelling (the pool's key; the disk cache read): True when the
        pool is ready. Cheap; the app's warm-up does it at normal priority before it labels at the
        lowest."""
        return self._start() is None

    @property
    def pool(self) -> Pool:
        """Labelled once per machine (1.5-3.5 min on 2 CPU cores: docs/RESULTS.md), then read from
        the disk cache in milliseconds; shared by every request. A caller while it is being
        labelled helps with it (see Labelling) and returns when it is done."""
        job = self._start()
        return self._pool if job is None else self._finish(job)

    @property
    def pool_ready(self) -> bool:
        """True once the labelled pool exists (the first time on a machine it takes a while on a CPU)."""
        return self._pool is not None

    def labelling_step(self, wait_s: float = 0.5) -> tuple[int, int, float] | None:
        """One step towards the pool, for a caller that shows progress while it waits: read it from
        the disk cache, or label one chunk, or (when others are at every chunk left) wait up to
        `wait_s` for one of theirs. Returns None once the pool is ready, else (faces labelled,
        pool size, seconds since the labelling started)."""
        job = self._start()
        if job is None:
            return None
        if not job.step():
            job.wait(wait_s)
        if job.finished:
            self._finish(job)
            return None
        return job.progress()

    def labelling_progress(self) -> tuple[int, int, float] | None:
        """(faces labelled, pool size, seconds so far) while the pool is being labelled, else None."""
        job = self._labelling
        return None if job is None or self._pool is not None else job.progress()

    def judge(self, z: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """Latents [N, D] -> the classifier's probabilities for their faces [N, A] (decoded a chunk at
        a time: 12,000 faces at once would hold 0.6 GB of images)."""
        return torch.cat([self.classifier.probabilities(self.faces.decode(c)) for c in z.split(chunk)])

    def latent_logits(self, name: str) -> torch.Tensor | None:
        """[N]: a linear probe's logit for `name` at each pool latent (fitted on the pool's labels), or
        None when the pool has (almost) no faces with, or without, the attribute."""
        pool = self.pool
        with self._probe_lock:
            if name in pool._latent_logits:
                return pool._latent_logits[name]
        # Fitted outside the lock: a thread must never wait for another one's fit (the warm-up
        # thread runs at the lowest priority and may get no CPU for a while); two threads that
        # fit at once get the same (deterministic) probe, and the first one's is kept. Kept on disk
        # beside the pool (an empty tensor: no probe possible).
        key = f"v{DERIVED_CACHE_VERSION}/{pool.key}/{name}"
        stored = lookup("face_probe", key, lambda t: t["logits"].numel() in (0, len(pool.z))) if pool.key else None
        if stored is not None:
            logits = stored["logits"] if stored["logits"].numel() else None
        else:
            y = (pool.probs[:, self.classifier.index(name)] > 0.5).float()
            if min(y.sum(), len(y) - y.sum()) < 10:
                logits = None
            else:
                w, b = fit_linear_probe(pool.z, y)
                logits = pool.z @ w + b
            if pool.key:
                store("face_probe", key, {"logits": torch.zeros(0) if logits is None else logits})
        with self._probe_lock:
            return pool._latent_logits.setdefault(name, logits)

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
            if (preset, draws) in self._records:
                return self._records[preset, draws]
        # Computed outside the lock, as latent_logits' probes: no request waits for the warm-up
        # thread; kept on disk beside the pool (it depends on the exemplar rules too).
        pool = self.pool
        key = (f"v{DERIVED_CACHE_VERSION}/{pool.key}/{preset!r}/{draws}/{self.confident}/{self.latent_margin}/"
               f"{MIN_TYPICAL}")
        stored = lookup("face_record", key, lambda t: tuple(t["record"].shape) == (2,)) if pool.key else None
        if stored is not None:
            record = tuple(float(v) for v in stored["record"])
        else:
            record = (self.success_rate(preset, draws), self.base_rate(preset))
            if pool.key:
                store("face_record", key, {"record": torch.tensor(record, dtype=torch.float64)})
        with self._record_lock:
            return self._records.setdefault((preset, draws), record)

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


# The faces models the arithmetic, the latent walk and the text edit work on: the paper's DCGAN, and
# faces v2 (a VAE-GAN whose encoder gives a real photo its latent, issue 17). Each has its own pool.
FACES_MODELS = ("faces", "faces_v2")
_ARITH: dict[tuple[str, int, int], FaceArithmetic] = {}
_ARITH_LOCK = threading.Lock()


def _faces_model(name: str) -> str:
    if name not in FACES_MODELS:
        raise ValueError(f"unknown faces model {name!r}; one of {FACES_MODELS}")
    return name


def load(faces: str = "faces") -> FaceArithmetic:
    """The shared FaceArithmetic for a shipped faces model (FACES_MODELS) and the classifier
    (rebuilt, pool and all, when either is re-promoted). Raises NotTrainedError when one is missing."""
    pipe, classifier = load_faces(_faces_model(faces)), load_classifier()
    key = (faces, id(pipe), id(classifier))
    with _ARITH_LOCK:
        if key not in _ARITH:
            for old in [k for k in _ARITH if k[0] == faces]:  # a re-promoted model: drop the old one
                del _ARITH[old]
            _ARITH[key] = FaceArithmetic(pipe, classifier, **exemplar_rules(faces))
        return _ARITH[key]


def exemplar_rules(faces: str) -> dict[str, float]:
    """FaceArithmetic's exemplar keywords (confident, latent_margin) for a faces model (EXEMPLAR_RULES)."""
    confident, latent_margin = EXEMPLAR_RULES.get(faces, (CONFIDENT, LATENT_MARGIN))
    return {"confident": confident, "latent_margin": latent_margin}


def has_checkpoints(faces: str = "faces") -> bool:
    return all(is_checkpoint(get_spec(n).checkpoint_dir) for n in (_faces_model(faces), "face_attributes"))


def shipped_faces_models() -> list[str]:
    """The faces models (FACES_MODELS order) that are shipped together with the classifier."""
    return [name for name in FACES_MODELS if has_checkpoints(name)]


def direction_names() -> list[str]:
    """The attribute directions the shipped classifier offers (the ones it is reported on and
    knows), read from its config.json: no weights are loaded (a tab lists them when it is built)."""
    meta = read_config(get_spec("face_attributes").checkpoint_dir).get("meta") or {}
    return [n for n in DIRECTION_ATTRIBUTES if n in (meta.get("attributes") or [])]
