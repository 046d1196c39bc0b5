"""Text-guided edit of faces (issue 16, direction mode): a prompt in free English becomes attribute
edits (`prompt_edits`, with the MiniLM sentence encoder), and the face's latent moves across
InterFaceGAN-style boundaries fitted on the classifier-labelled pool of that faces model
(`attribute_directions`), with conditional manipulation so that "smile" does not also change gender or
age. The classifier judges the face before and after.

    editor = load()                      # the shipped faces GAN + attribute classifier; pool labelled once
    result = editor.edit(editor.faces.z(11), "make her smile", strength=1.0)
    str(result.parsed)                   # '+Smiling 1.0'
    result.probs_before["Smiling"], result.probs_after["Smiling"]

A real photo goes through faces v2 (a VAE-GAN with an encoder), whose editor has its own pool and
boundaries; the latent is the photo's inversion (the encoder's guess, then a short optimisation):

    face, square, note = faces.photo_face("portrait.jpg")      # cut as the training faces, 64 px
    u, figures = load_faces("faces_v2").invert(face)          # u [128]; figures: PSNR of the reconstructions
    result = load(faces="faces_v2").edit(u, "older, without the moustache")

How far a face moves (mode "reach", the default): for each asked attribute, to MARGIN × the prompt's
strength past its boundary, on the asked side ("slightly" 0.5, "very" 1.5); a face already that far
does not move (nothing to do: "remove the moustache" from a face without one). Mode "step" is the
plain InterFaceGAN edit z + strength × STEP × n, whatever the face. The tab's strength slider scales
the move (0: none; 2: twice as far). Both modes and the conditioning sets are compared in
docs/RESULTS.md ("Text-guided edit").

The text-score mode (`text_score`, StyleCLIP's latent optimisation against the `face_text` image-text
model trained here) is offered beside it: `load_scorer().edit(z, prompt, strength)`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import torch
from PIL import Image

from ..data.images import tensor_to_pil
from .attribute_directions import Boundaries, cached_boundaries, conditional_step
from .face_arithmetic import FaceArithmetic, direction_names, has_checkpoints  # noqa: F401 - the tab asks
from .face_arithmetic import load as load_arithmetic
from .face_attributes import AttributeClassifier
from .faces import load as load_faces  # noqa: F401 - the tab's faces before any edit
from .faces import upscale
from .prompt_edits import MAX_STRENGTH, ParsedEdit, PromptParser, clean_strength, verdicts  # noqa: F401 - MAX_STRENGTH: the tab
from .prompt_edits import parser as load_parser
from ..data.sentence_encoder import EncoderMissing  # noqa: F401 - for the tab
# The second mode (phase 3): the latent optimised against our own image-text model's score, as StyleCLIP does.
from .text_score import ScoreResult, ScoreSettings  # noqa: F401 - for the tab and the eval
from .text_score import has_checkpoint as has_score_model  # noqa: F401 - for the tab
from .text_score import load as load_scorer  # noqa: F401 - for the tab and the eval
from .text_score import loaded as scorer_loaded  # noqa: F401 - for the tab

MODES = ("reach", "step")
# Which boundaries an edit keeps its distance to (InterFaceGAN's conditional manipulation), besides the
# asked ones: none; IDENTITY (gender and age, the default); "common": every attribute the pool has on both
# sides (attribute_directions.MIN_SIDE faces); "others": every reported attribute. Compared in docs/RESULTS.md.
CONDITIONS = ("none", "identity", "common", "others")
IDENTITY = ("Male", "Young")
MARGIN = 1.25  # mode "reach": latent units past the boundary per unit of strength (tuned on faces the eval never
# uses: docs/RESULTS.md, "Text-guided edit")
STEP = 3.0  # mode "step": latent units along the (conditioned) normal per unit of strength
MAX_STEP = 12.0  # a longer move is shortened to this (|z| of a sample is ~10): it would leave the faces


@dataclass(frozen=True)
class EditSettings:
    mode: str = "reach"
    condition: str = "identity"
    margin: float = MARGIN
    step: float = STEP

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {tuple(CONDITIONS)}")


@dataclass
class EditResult:
    """One edited face: the parse, latents [D] and images before / after, the classifier's
    probabilities for the reported attributes before / after, and notes for the person."""

    parsed: ParsedEdit
    z_before: torch.Tensor
    z_after: torch.Tensor
    before: Image.Image
    after: Image.Image
    probs_before: dict[str, float]
    probs_after: dict[str, float]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def verdicts(self) -> list[tuple[str, float, float, bool]]:
        """For each asked attribute: (name, p before, p after, whether the classifier now sees it as asked)."""
        return verdicts(self.parsed, self.probs_before, self.probs_after)


@torch.inference_mode()
def judge_with_features(classifier: AttributeClassifier, images: torch.Tensor,
                        batch_size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """images [N, 3, 64, 64] in [-1, 1] -> (probabilities [N, A], the classifier's penultimate
    features [N, F]: after global pooling, before the last linear layer; the identity measure)."""
    net, probs, feats = classifier.net, [], []
    for x in images.split(batch_size):
        f = net.head[:-1](net.features(x.to(classifier.device).contiguous(memory_format=torch.channels_last)))
        probs.append(torch.sigmoid(net.head[-1](f).float()).cpu())
        feats.append(f.float().cpu())
    return torch.cat(probs), torch.cat(feats)


class TextEditor:
    """Prompt + latent -> edited latent, on the shared faces GAN, classifier and labelled pool."""

    def __init__(self, arith: FaceArithmetic, parser: PromptParser, boundaries: Boundaries,
                 settings: EditSettings = EditSettings()):
        self.arith, self.parser, self.boundaries, self.settings = arith, parser, boundaries, settings
        self.faces, self.classifier = arith.faces, arith.classifier
        self.attributes = list(parser.attributes)

    def with_settings(self, **changes) -> "TextEditor":
        """The same models with other settings (the eval's comparisons)."""
        from dataclasses import replace

        return TextEditor(self.arith, self.parser, self.boundaries, replace(self.settings, **changes))

    def parse(self, prompt) -> ParsedEdit:
        """See prompt_edits.PromptParser.parse (ValueError with a message for bad prompts)."""
        return self.parser.parse(prompt)

    def keep_for(self, asked) -> list[str]:
        """The attributes whose boundaries an edit of `asked` must not move across (settings.condition)."""
        condition = self.settings.condition
        keep = ([] if condition == "none" else list(IDENTITY) if condition == "identity" else
                [a for a in self.attributes if condition == "others" or self.boundaries.supported(a)])
        return [k for k in keep if k in self.attributes and k not in asked]

    def changes(self, z: torch.Tensor, parsed: ParsedEdit) -> torch.Tensor:
        """How far each face should move across each asked boundary: [N, len(parsed.edits)] (signed
        distances, in latent units)."""
        b = self.boundaries
        wanted = torch.tensor([v for _, v in parsed.edits], dtype=torch.float32)  # signed
        if self.settings.mode == "step":
            return (wanted * self.settings.step).expand(len(z), -1)
        sign = wanted.sign()
        d = b.distance(z)[:, [b.index(a) for a, _ in parsed.edits]]
        return sign * (wanted.abs() * self.settings.margin - sign * d).clamp_min(0)

    def apply(self, z: torch.Tensor, parsed: ParsedEdit, strength: float = 1.0) -> torch.Tensor:
        """Latents z [N, D] (or [D]) -> edited latents of the same shape. `strength` scales the move
        (the tab's slider: 0 = none, 1 = the prompt's own, 2 = twice as far)."""
        single = z.dim() == 1
        z = z[None].float() if single else z.float()
        asked = [a for a, _ in parsed.edits]
        step = conditional_step(self.boundaries, self.changes(z, parsed), asked, self.keep_for(asked))
        step = step * float(strength)
        norm = step.norm(dim=1, keepdim=True)
        step = step * (MAX_STEP / norm.clamp_min(MAX_STEP))  # longer moves are shortened to MAX_STEP
        out = z + step
        return out[0] if single else out

    def notes(self, parsed: ParsedEdit) -> list[str]:
        """What the person should know about this edit: rare attributes, words that were not used."""
        out = []
        b = self.boundaries
        for name, value in parsed.edits:
            n = int(b.counts[b.index(name)])
            label = name.replace("_", " ").lower()
            rare, common = n < 0.01 * b.pool_size, b.pool_size - n < 0.01 * b.pool_size
            counted = f"{n:,} of {b.pool_size:,} generated faces"
            if value > 0 and rare:
                out.append(f"the classifier sees {label} in only {counted}: this GAN may not be able to add it")
            elif value < 0 and rare:
                out.append(f"the classifier sees {label} in only {counted}: usually there is none to remove")
            elif value < 0 and common:
                out.append(f"the classifier sees {label} in {counted}: this GAN may not be able to remove it")
        if parsed.not_editable:
            out.append(f"not editable here: {', '.join(parsed.not_editable)}")
        elif parsed.ignored:
            out.append(f"not understood: {', '.join(parsed.ignored)}")
        return out

    def edit(self, z: torch.Tensor, prompt, strength: float = 1.0, size: int = 256) -> EditResult:
        """One face's latent z [D] and a prompt -> EditResult. ValueError (a message for the person)
        for a prompt that is not usable; strength is clamped to [0, MAX_STRENGTH]."""
        t0 = time.perf_counter()
        parsed = self.parse(prompt)
        strength = clean_strength(strength)
        z = torch.nan_to_num(z.float().flatten())
        z_after = self.apply(z, parsed, strength)
        images = self.faces.decode(torch.stack([z, z_after]))
        probs = self.classifier.probabilities(images)
        names = self.classifier.names
        before, after = ({a: float(p[names.index(a)]) for a in self.attributes} for p in probs)
        pictures = [upscale(tensor_to_pil(x), size) for x in images]
        notes = self.notes(parsed)
        if strength > 0 and float((z_after - z).norm()) < 1e-3:
            notes.insert(0, "this face is already well on the asked side of every asked boundary, so nothing moved "
                            "(\"very ...\" asks for more)")
        return EditResult(parsed, z, z_after, *pictures, before, after, notes, time.perf_counter() - t0)


_EDITORS: dict[tuple[str, int], TextEditor] = {}  # (faces model, id of its FaceArithmetic)
_LOCK = threading.Lock()


def load(settings: EditSettings = EditSettings(), faces: str = "faces") -> TextEditor:
    """The shared editor on a shipped faces model (face_arithmetic.FACES_MODELS) and the classifier
    (NotTrainedError when one is missing).
    Needs the labelled pool (face_arithmetic: minutes the first time on a machine, then read from the
    disk cache) and fits the boundaries once (seconds; then cached on disk too)."""
    arith = load_arithmetic(faces)
    with _LOCK:
        editor = _EDITORS.get((faces, id(arith)))
    if editor is None:
        names = [n for n in direction_names() if n in arith.classifier.names]
        parser = load_parser(names)
        pool = arith.pool
        probs = pool.probs[:, [arith.classifier.index(n) for n in names]]
        boundaries = cached_boundaries(pool.z, probs, names, pool.key)
        with _LOCK:
            for old in [k for k in _EDITORS if k[0] == faces and k[1] != id(arith)]:  # a re-promoted model
                del _EDITORS[old]
            editor = _EDITORS.setdefault((faces, id(arith)), TextEditor(arith, parser, boundaries))
    return editor if editor.settings == settings else editor.with_settings(**settings.__dict__)


def loaded(faces: str = "faces") -> bool:
    """Whether load(faces=...) would answer at once (the editor for the current models exists)."""
    try:
        arith = load_arithmetic(faces)
    except Exception:  # noqa: BLE001 - NotTrainedError, a broken checkpoint: load() reports it
        return False
    with _LOCK:
        return (faces, id(arith)) in _EDITORS
