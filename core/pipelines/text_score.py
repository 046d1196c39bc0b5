"""Text-guided edit, text-score mode (issue 16, phase 3): StyleCLIP's latent optimisation (Patashnik
et al. 2021, "StyleCLIP", section 4) without CLIP. The prompt is embedded by the MiniLM sentence
encoder, and the face's latent z is moved by Adam to raise the cosine between the prompt and the
face as our own image-text model sees it (`face_text`: a face encoder trained contrastively here
against MiniLM embeddings of captions built from the CelebA attributes), while keeping who the face
is and staying near where it started:

    loss(z) = strength * (1 - cos(E(G(z)), t))                     the text score
              + IDENTITY * (1 - cos(C_f(G(z)), C_f(G(z0))))        identity: the attribute classifier's
                                                                   penultimate features (StyleCLIP: ArcFace)
              + LATENT * |z - z0|^2 / D                            StyleCLIP's L2 term on the latent

after every step z is put back at its start's radius |z0| (the prior's shell, where N(0, I) keeps its
samples: `faces.on_shell`). At most STEPS steps; strength 0 moves nothing.

    scorer = load()
    result = scorer.edit(scorer.faces.z(11), "a smiling woman with blond hair", strength=1.0)
    result.score_before, result.score_after        # the text score, before and after

Only the faces pipeline's `decode`, `z_dim`, `z` and `zs` are used, and its generator net `G` (and the
whitening `P` of a model that has one) for the gradients, which reach z only (torch.autograd.grad): the
shared nets are never written.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from PIL import Image

from ..checkpoint import is_checkpoint, load_checkpoint
from ..data.face_captions import PROBES, VOCABULARY
from ..data.images import tensor_to_pil
from ..device import autocast, compute_dtype, pick_device
from ..registry import get_spec
from ..data import sentence_encoder
from .base import CACHE
from .face_arithmetic import direction_names
from .face_attributes import AttributeClassifier
from .face_attributes import load as load_classifier
from .faces import FacesPipeline, upscale
from .faces import load as load_faces
from .prompt_edits import ParsedEdit, clean_strength, verdicts
from .prompt_edits import clean as clean_prompt
from .prompt_edits import parser as load_parser

Progress = Callable[[int, int], None]  # (steps done, steps in all)
# The text term: "cosine" = 1 - cos(face, prompt) (StyleCLIP); "contrast" = the cross-entropy of the prompt
# among the prompt and the model's own caption phrases (ANCHORS and VOCABULARY, minus near-paraphrases of the
# prompt), at the model's learned temperature: CLIP's zero-shot classification as the score, so the face is also
# pushed *away* from what the prompt is not ("not smiling": away from "is smiling").
OBJECTIVES = ("cosine", "contrast")
NEAR = 0.8  # "contrast": caption phrases at least this close to the prompt are not counted against it

STEPS = 40  # Adam steps per edit: 2.5-3 s for one face on one busy core in bf16 (with the GAN, encoder and classifier)
LR = 0.05  # Adam's step on z (as the GAN prior's; z ~ N(0, I) has ~1 per coordinate)
# The regularisers' weights, chosen on faces the eval never uses (seeds 1000-1007, 12 of the eval's prompts;
# docs/RESULTS.md): 10x larger ones (1.0, 0.5) kept the face (identity 0.99) but moved it too little to change
# what was asked (target success 0.34 against 0.54); without the identity term (latent 0.2) identity fell to
# 0.81 for about the same success (0.55).
# Small, as StyleCLIP's (0.008 on the latent, 0.005 on identity, beside a text term of weight 1).
IDENTITY = 0.1  # weight of the identity term
LATENT = 0.05  # weight of the latent L2 term (per coordinate)
# A prompt whose embedding is this far from every sentence the model was trained on (its captions' phrases,
# ANCHORS) and in which the direction mode's parser reads no attribute names nothing it knows. Max cosines
# to the anchors: nonsense and off-topic prompts 0.09-0.42 ("banana" 0.32, "a car" 0.42, "the background" 0.39),
# face prompts that the parser does not read 0.51-0.80 ("red hair" 0.51, "a woman with bangs" 0.73); the parser
# takes the face prompts MiniLM places far ("get rid of the specs" 0.12, "more masculine" 0.44).
RELEVANCE = 0.45
ANCHORS = ("a man", "a woman", "a young man", "an old woman", "he is a man", "she is a woman")


@dataclass(frozen=True)
class ScoreSettings:
    """The optimisation's knobs (the eval compares them)."""

    steps: int = STEPS
    lr: float = LR
    identity: float = IDENTITY
    latent: float = LATENT
    objective: str = "cosine"  # or "contrast" (see OBJECTIVES)
    views: int = 0  # random augmented views of the face the text term averages over (0: the face itself)

    def __post_init__(self):
        if not 1 <= self.steps <= 500:
            raise ValueError("steps must be in [1, 500]")
        if min(self.lr, self.identity, self.latent) < 0:
            raise ValueError("lr, identity and latent must not be negative")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}")
        if not 0 <= self.views <= 16:
            raise ValueError("views must be in [0, 16]")


@dataclass
class ScoreResult:
    """One face edited by the text score: the prompt's parse when the direction parser reads it (for
    the classifier's verdict on what was asked; None otherwise), latents [D] and images before /
    after, the text score (cosine, -1..1) before / after, the classifier's probabilities of the
    reported attributes before / after, and notes."""

    prompt: str
    parsed: ParsedEdit | None
    z_before: torch.Tensor
    z_after: torch.Tensor
    before: Image.Image
    after: Image.Image
    score_before: float
    score_after: float
    probs_before: dict[str, float]
    probs_after: dict[str, float]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    def verdicts(self) -> list[tuple[str, float, float, bool]]:
        """For each asked attribute: (name, p before, p after, whether the classifier now sees it as asked)."""
        return verdicts(self.parsed, self.probs_before, self.probs_after)


class FaceTextModel:
    """The shipped face encoder (`face_text`): faces [N, 3, 64, 64] in [-1, 1] -> unit vectors
    [N, 384] in MiniLM's space; fp32, eval mode, differentiable with respect to the faces."""

    def __init__(self, net: torch.nn.Module, device: torch.device, meta: dict):
        self.net = net.to(device).to(memory_format=torch.channels_last).eval()
        self.device, self.meta = device, meta

    @classmethod
    def from_checkpoint(cls, folder: Path, device: str = "auto") -> "FaceTextModel":
        nets, meta = load_checkpoint(folder)
        return cls(nets["E"], pick_device(device), meta)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """images [N, 3, 64, 64] in [-1, 1] -> [N, 384] unit vectors (keeps the autograd graph)."""
        return self.net(images.to(self.device).contiguous(memory_format=torch.channels_last))

    @torch.inference_mode()
    def scores(self, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """images [N, 3, 64, 64], text [D] or [T, D] unit vectors -> cosines [N] or [N, T]."""
        return self.embed(images).cpu() @ (text.T if text.dim() == 2 else text)


def generate(faces: FacesPipeline, z: torch.Tensor) -> torch.Tensor:
    """Differentiable decode: z [N, z_dim] -> faces [N, 3, 64, 64] in [-1, 1] (float32, on G's device)
    with the autograd graph kept (FacesPipeline.decode runs under inference_mode). A faces model with a
    whitening P (faces v2) is decoded through it, as decode does."""
    prior = getattr(faces, "P", None)
    code = prior(z) if prior is not None else z
    return faces.G(code.to(faces.device, faces.dtype)).float()


def identity_features(classifier: AttributeClassifier, images: torch.Tensor) -> torch.Tensor:
    """images [N, 3, 64, 64] in [-1, 1] -> the classifier's penultimate features [N, F] (after global
    pooling, before the last linear layer; as text_edit.judge_with_features), differentiable."""
    net = classifier.net
    x = images.to(classifier.device).contiguous(memory_format=torch.channels_last)
    return net.head[:-1](net.features(x)).float()


def _views(images: torch.Tensor, count: int) -> torch.Tensor:
    """count random views of each face (small shifts, zooms and turns, blur), differentiable:
    images [N, 3, S, S] in [-1, 1] -> [count * N, 3, S, S]. Scoring the views instead of the face
    itself keeps the optimisation from fooling the encoder with pixel patterns no view shares (as
    CLIPDraw, Frans et al. 2021, augments before CLIP)."""
    import kornia.augmentation as K

    aug = K.AugmentationSequential(
        K.RandomAffine(degrees=5, translate=(0.06, 0.06), scale=(0.92, 1.08), padding_mode="border", p=1.0),
        K.RandomGaussianBlur((5, 5), (0.1, 1.0), p=0.5))
    return aug(images.repeat(count, 1, 1, 1) * 0.5 + 0.5) * 2 - 1


def optimise(faces: FacesPipeline, encoder: FaceTextModel, classifier: AttributeClassifier, text: torch.Tensor,
             z0: torch.Tensor, strength: float = 1.0, settings: ScoreSettings = ScoreSettings(),
             progress: Progress | None = None, dtype: torch.dtype = torch.float32,
             others: torch.Tensor | None = None) -> torch.Tensor:
    """StyleCLIP's latent optimisation with our encoder: z0 [N, z_dim] (float32), text [384] a unit
    vector (the prompt's embedding), strength >= 0 (the weight of the text score) -> z [N, z_dim] on
    the CPU, each at its start's radius. Only z gets gradients; strength 0 returns z0. dtype
    torch.bfloat16 runs the three nets under autocast (from compute_dtype: only where it is native;
    2.3x faster here, and the step is a direction, not a figure, so bf16's rounding does not matter).
    others [K, 384]: the caption phrases of the "contrast" objective (unit vectors)."""
    z0 = z0.detach().float().cpu()
    if strength <= 0:
        return z0.clone()
    device = faces.device
    radius = z0.norm(dim=1, keepdim=True).to(device)
    start = z0.to(device)
    t = text.float().flatten().to(encoder.device).clone()  # a normal tensor: encoders return inference tensors
    contrast = None
    if settings.objective == "contrast":
        if others is None:
            raise ValueError("the contrast objective needs the caption phrases (others)")
        rest = others.float().to(encoder.device).clone()
        contrast = torch.cat([t[None], rest[rest @ t < NEAR]])  # [1 + K', D]: the prompt first
        scale = float(encoder.net.scale().detach())
    with torch.no_grad(), autocast(device, dtype):
        f0 = identity_features(classifier, generate(faces, start))
    z = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=settings.lr)
    d = z0.shape[1]
    for step in range(1, settings.steps + 1):
        with autocast(device, dtype):
            images = generate(faces, z)
            if settings.views:
                seen = encoder.embed(_views(images, settings.views)).float().view(settings.views, len(z), -1)
                embedded = F.normalize(seen.mean(0), dim=-1)  # [N, D]: the views' mean direction
            else:
                embedded = encoder.embed(images).float()
            same = F.cosine_similarity(identity_features(classifier, images).float(), f0.float(), dim=1)
        if contrast is None:
            text_term = 1 - embedded @ t  # [N]
        else:
            logits = scale * embedded @ contrast.T  # [N, 1 + K']
            text_term = F.cross_entropy(logits, torch.zeros(len(z), dtype=torch.long, device=logits.device),
                                        reduction="none")
        loss = (strength * text_term + settings.identity * (1 - same).to(text_term.device)
                + settings.latent * ((z - start) ** 2).sum(1).to(text_term.device) / d)
        (grad,) = torch.autograd.grad(loss.sum(), z)
        z.grad = grad
        opt.step()
        with torch.no_grad():
            z.mul_(radius / z.norm(dim=1, keepdim=True).clamp_min(1e-8))  # back on the start's shell
        if progress is not None and (step % 5 == 0 or step == settings.steps):
            progress(step, settings.steps)
    return z.detach().cpu()


class TextScorer:
    """Prompt + latent -> edited latent by the text score, on the shared faces GAN, classifier and the
    face-text encoder; the direction mode's parser reads the prompt only to judge what was asked."""

    def __init__(self, faces: FacesPipeline, classifier: AttributeClassifier, encoder: FaceTextModel,
                 attributes: list[str], settings: ScoreSettings = ScoreSettings(), encode=None,
                 precision: str = "bf16"):
        self.faces, self.classifier, self.encoder, self.settings = faces, classifier, encoder, settings
        self.dtype = compute_dtype(faces.device, precision)  # bf16 only where the CPU computes it natively
        self.attributes = list(attributes)
        self._encode = encode or sentence_encoder.encode
        self._parser = None
        # What the model was trained on, as sentences: every phrase of the captions' vocabulary and the
        # probes. A prompt far from all of them names nothing it knows.
        anchors = [f"this person {v}" for pos, neg in VOCABULARY.values() for side in (pos, neg) if side
                   for v in side.verb] + [t for pair in PROBES.values() for t in pair] + list(ANCHORS)
        self._anchors = self._encode(anchors)

    def with_settings(self, **changes) -> "TextScorer":
        """The same models with other settings (the eval's comparisons)."""
        other = object.__new__(TextScorer)
        other.__dict__.update(self.__dict__)
        other.settings = replace(self.settings, **changes)
        return other

    def embed_prompt(self, prompt) -> tuple[str, torch.Tensor]:
        """A prompt -> (its cleaned text, unit embedding [384]). ValueError with a message for the
        person: not text, empty, too long, no words, or nothing this model was trained on (far from
        every anchor sentence, and no attribute the direction mode's parser reads)."""
        text = clean_prompt(prompt)
        emb = self._encode([text])[0]
        if float((self._anchors @ emb).max()) < RELEVANCE and self.parse(text) is None:
            raise ValueError(f"\"{text[:80]}\" is far from everything the image-text model was trained on "
                             "(captions of faces: smiling or serious, glasses, hat, age, hair colour and style, "
                             "beard and moustache, make-up); describe the face you want, e.g. \"a smiling woman "
                             "with blond hair\"")
        return text, emb

    def parse(self, text: str) -> ParsedEdit | None:
        """The direction parser's reading of the prompt (to judge what was asked), or None."""
        if self._parser is None:
            self._parser = load_parser(self.attributes)
        try:
            return self._parser.parse(text)
        except ValueError:
            return None

    def apply(self, z: torch.Tensor, prompt, strength: float = 1.0, progress: Progress | None = None) -> torch.Tensor:
        """Latents z [N, D] (or [D]) and a prompt -> edited latents of the same shape (ValueError for a
        prompt that is not usable)."""
        _, emb = self.embed_prompt(prompt)
        single = z.dim() == 1
        z = torch.nan_to_num(z[None] if single else z).float()
        out = optimise(self.faces, self.encoder, self.classifier, emb, z, clean_strength(strength), self.settings,
                       progress, self.dtype, self._anchors)
        return out[0] if single else out

    def edit(self, z: torch.Tensor, prompt, strength: float = 1.0, size: int = 256,
             progress: Progress | None = None) -> ScoreResult:
        """One face's latent z [D] and a prompt -> ScoreResult. ValueError (a message for the person) for
        a prompt that is not usable; strength is clamped to [0, MAX_STRENGTH] (NaN: 1)."""
        t0 = time.perf_counter()
        text, emb = self.embed_prompt(prompt)
        strength = clean_strength(strength)
        z = torch.nan_to_num(z.float().flatten())
        z_after = optimise(self.faces, self.encoder, self.classifier, emb, z[None], strength, self.settings,
                           progress, self.dtype, self._anchors)[0]
        images = self.faces.decode(torch.stack([z, z_after]))
        score = self.encoder.scores(images, emb)
        probs = self.classifier.probabilities(images)
        names = self.classifier.names
        before, after = ({a: float(p[names.index(a)]) for a in self.attributes} for p in probs)
        parsed = self.parse(text)
        notes = []
        if strength == 0:
            notes.append("strength 0: nothing moved")
        if parsed is None:
            notes.append("the classifier's verdict is shown for every attribute; the direction mode's parser did "
                         "not read an attribute it knows in this prompt")
        pictures = [upscale(tensor_to_pil(x), size) for x in images]
        return ScoreResult(text, parsed, z, z_after, *pictures, float(score[0]), float(score[1]), before, after,
                           notes, time.perf_counter() - t0, self.settings.steps if strength > 0 else 0)


def has_checkpoint() -> bool:
    """Whether the face-text encoder is shipped (else the tab's text-score mode says it is unavailable)."""
    return is_checkpoint(get_spec("face_text").checkpoint_dir)


def load_encoder() -> FaceTextModel:
    """The shipped face-text encoder, loaded once (NotTrainedError when it is missing)."""
    return CACHE.get(get_spec("face_text").checkpoint_dir, FaceTextModel.from_checkpoint)


_SCORERS: dict[tuple[str, int, int, int], TextScorer] = {}  # (faces model, ids of the three nets)
_LOCK = threading.Lock()


def load(settings: ScoreSettings = ScoreSettings(), faces: str = "faces") -> TextScorer:
    """The shared scorer on a shipped faces model, the classifier and the face-text encoder (NotTrainedError
    when one is missing; EncoderMissing without the sentence encoder's packages). Rebuilt when any of
    them is re-promoted."""
    pipe, classifier, encoder = load_faces(faces), load_classifier(), load_encoder()
    key = (faces, id(pipe), id(classifier), id(encoder))
    with _LOCK:
        scorer = _SCORERS.get(key)
        if scorer is None:
            names = [n for n in direction_names() if n in classifier.names]
            scorer = TextScorer(pipe, classifier, encoder, names)
            for old in [k for k in _SCORERS if k[0] == faces]:  # a re-promoted model: the old scorer goes
                del _SCORERS[old]
            _SCORERS[key] = scorer
    return scorer if scorer.settings == settings else scorer.with_settings(**settings.__dict__)


def loaded(faces: str = "faces") -> bool:
    """Whether load(faces=...) would answer at once."""
    try:
        key = (faces, id(load_faces(faces)), id(load_classifier()), id(load_encoder()))
    except Exception:  # noqa: BLE001 - NotTrainedError, a broken checkpoint: load() reports it
        return False
    with _LOCK:
        return key in _SCORERS
