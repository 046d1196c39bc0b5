"""Free English -> attribute edits for the text-guided edit: "make her smile and remove the moustache"
-> +Smiling 1.0, -Mustache 1.0.

How: the prompt is cut into clauses ("and", commas, "but", "with", "without", ...); in each clause
the words that say *how* (negation and removal: "not", "no", "without", "remove", "less", "off";
intensity: "slightly", "a bit", "very", "much") are read off by rule and taken out, and so are
filler words ("make", "her", "the", ...); what is left is matched to short attribute phrases by
sentence-embedding similarity (all-MiniLM-L6-v2, `sentence_encoder`): every run of 1 to 3 words
and the whole rest of the clause are compared with each attribute's phrases ("smiling", "a grin",
"glasses", "spectacles", ... and opposites such as "serious", "a woman", "older"), and the best
matches above THRESHOLD that do not overlap are kept, so one clause can name several attributes
("a smiling man"). An attribute named by an opposite phrase is an edit of the other sign ("older" =
-Young); a removal cue flips the sign ("not smiling" = -Smiling; "less serious" = +Smiling).
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

import torch

from ..data import sentence_encoder

MAX_CHARS = 300  # a prompt is a sentence or two; longer ones are refused with a message, not truncated
MAX_CLAUSES = 12
MAX_NGRAM = 3
THRESHOLD = 0.6  # cosine of a prompt's words to an attribute phrase, set by hand on the eval's prompts and on
# nonsense (tests/test_text_edit.py): paraphrases score 0.7-1.0 ("grin" / "a grin" 0.84, "shades" / "sunglasses"
# 0.70); a related but wrong feature can score 0.8 ("red hair" / "blond hair"): hence NOT_EDITABLE below
LOW, HIGH, HIGHEST = 0.5, 1.5, 2.0  # strengths of "slightly", "very", "extremely"

# attribute -> (phrases meaning "has it", phrases meaning "does not have it"). Only the classifier's
# reported attributes (face_attributes.REPORTED_ATTRIBUTES) are editable.
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Smiling": (("smiling", "smile", "a smile", "grinning", "a grin", "laughing", "happy", "cheerful"),
                ("serious", "a neutral expression", "frowning", "sad", "a straight face", "stern", "unsmiling")),
    "Male": (("a man", "man", "male", "masculine", "a guy", "manly"),
             ("a woman", "woman", "female", "feminine", "a girl", "a lady", "womanly")),
    "Eyeglasses": (("glasses", "eyeglasses", "spectacles", "specs", "sunglasses", "bespectacled"), ()),
    "Young": (("young", "younger", "youthful", "a young person"),
              ("old", "older", "elderly", "aged", "an old person", "senior")),
    "Blond_Hair": (("blond hair", "blonde hair", "blond", "blonde", "golden hair", "fair hair"), ()),
    "Black_Hair": (("black hair", "dark hair", "black-haired", "dark-haired", "raven hair"), ()),
    "Mustache": (("a moustache", "a mustache", "moustache", "mustache"), ("clean-shaven",)),
    "Wearing_Hat": (("a hat", "hat", "a cap", "headwear"), ("bareheaded",)),
    "Bald": (("bald", "a bald head", "a shaved head", "hairless"), ()),
}
# Things people ask for that these models cannot edit (other hair colours, beards, make-up, the
# background ...). They compete with the phrases above: a span closer to one of these than to any
# attribute phrase is not an edit ("red hair" is not blond hair; "a beard" is not a moustache), and
# the message says so.
NOT_EDITABLE = ("red hair", "ginger hair", "brown hair", "brunette", "grey hair", "gray hair", "white hair",
                "curly hair", "wavy hair", "straight hair", "long hair", "short hair", "bangs", "a beard", "bearded",
                "a goatee", "sideburns", "stubble", "earrings", "a necklace", "a necktie", "lipstick", "make-up",
                "makeup", "a big nose", "big lips", "rosy cheeks", "pale skin", "tanned skin", "chubby",
                "a double chin",
                "bushy eyebrows", "blue eyes", "the background", "darker", "lighter", "brighter", "taller", "thinner",
                "a different colour", "an animal")
GENERIC = {"hair", "head", "expression", "look", "colour", "color", "eyes", "style", "haired"}  # never an edit alone

_INTENSITY = [  # the first group that occurs wins; within a group, longer phrases first ("a little bit")
    (r"a little bit|a tiny bit|a bit|a little|a tad|a touch|slightly|somewhat|mildly|kind of|sort of|a wee bit", LOW),
    (r"extremely|hugely|enormously|very very|super|totally", HIGHEST),
    (r"very|much|a lot|lots|really|way|far|strongly|heavily", HIGH),
]
_NEGATION = (r"\b(?:not|no|never|without|remove[sd]?|removing|less|lose|loses|losing|lost|drop|off|rid|"
             r"stop(?:s|ped|ping)?|minus|delete|erase|nor|none|neither)\b|n't\b")
_FILLER = set("""a an the make makes making made let lets look looks looking give gives giving add adds adding put
    puts putting on have has having had with wear wears wearing wore get gets getting got her him his she he they them
    their it its this that these those person face people someone somebody is are was were be been being to of in
    more please some me i you we want wants should would could can will may might into turn become becomes appear
    appears seem seems also just like now again bit and but so too take takes taking away keep one version who
    which do does did""".split())
_SPLIT = re.compile(r"\s*(?:[,;.!?:]|\band\b|\bbut\b|\bthen\b|\bplus\b|\balso\b|&|\+)\s*|\s+(?=\bwith(?:out)?\b)")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")  # words of letters (any script), inner ' and - kept
_REMOVAL_VERB = re.compile(r"^(?:remove|removing|take off|take away|get rid of|drop|lose|delete|erase)\b")
_DETERMINERS = {"a", "an", "the", "her", "his", "their", "its", "some", "my", "your"}


@dataclass(frozen=True)
class Match:
    """One attribute found in a clause: the words that named it, the phrase they matched, the similarity."""

    attribute: str | None  # None: a NOT_EDITABLE phrase
    sign: int  # +1 add, -1 remove
    strength: float
    words: str
    phrase: str
    similarity: float


@dataclass(frozen=True)
class ParsedEdit:
    """A prompt's edits: ((attribute, signed strength), ...) in the order the prompt names them."""

    edits: tuple[tuple[str, float], ...]
    matches: tuple[Match, ...] = ()
    ignored: tuple[str, ...] = ()  # clauses in which no editable attribute matched
    not_editable: tuple[str, ...] = ()  # words that named something these models cannot edit ("red hair")

    def __str__(self) -> str:
        return ", ".join(f"{'+' if s > 0 else '-'}{a} {abs(s):.1f}" for a, s in self.edits)

    def as_dict(self) -> dict[str, float]:
        return dict(self.edits)


def clean(prompt) -> str:
    """Any input -> lower-case text of letters, digits, spaces and punctuation, or ValueError with a
    message for a person (not text, empty, too long, nothing readable)."""
    if not isinstance(prompt, str):
        raise ValueError(f"the prompt must be text, not {type(prompt).__name__}")
    if len(prompt) > MAX_CHARS:
        raise ValueError(f"the prompt is {len(prompt):,} characters long; say what to change in at most "
                         f"{MAX_CHARS} (e.g. \"make her smile and add glasses\")")
    text = unicodedata.normalize("NFKC", prompt).replace("’", "'").replace("‘", "'")
    # Control and format characters (NUL, bidirectional overrides, zero-width joiners) go; so do symbols.
    text = "".join(c if (unicodedata.category(c)[0] in "LNZ" or c in ",;.!?:'&+-") else " " for c in text)
    text = " ".join(text.lower().split())
    if not text:
        raise ValueError("type what to change, e.g. \"make her smile\", \"add glasses\" or \"older, without the "
                         "moustache\"")
    if not _WORD.search(text):
        raise ValueError("the prompt has no English words in it; try e.g. \"make her smile\" or \"add glasses\"")
    return text


def clauses(text: str) -> list[str]:
    """Cleaned text -> its clauses (at most MAX_CLAUSES), e.g. "older, without the moustache" ->
    ["older", "without the moustache"]."""
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    return parts[:MAX_CLAUSES]


def read_clause(clause: str) -> tuple[int, float, list[str]]:
    """A clause -> (sign of its cues: -1 for an odd number of negations / removals, its intensity,
    the content words left)."""
    strength = 1.0
    for pattern, value in _INTENSITY:
        if re.search(rf"\b(?:{pattern})\b", clause):
            strength = value
            clause = re.sub(rf"\b(?:{pattern})\b", " ", clause)
            break
    negations = len(re.findall(_NEGATION, clause))
    clause = re.sub(_NEGATION, " ", clause)
    words = [w.strip("'-") for w in _WORD.findall(clause)]
    words = [w for w in words if w and w not in _FILLER]
    return (-1 if negations % 2 else 1), strength, words


class PromptParser:
    """Matches prompts against the phrases of `attributes` (a subset of PHRASES' keys); the phrase
    embeddings are computed once, and those of prompt words are kept (up to 20,000: ~30 MB)."""

    def __init__(self, attributes, threshold: float = THRESHOLD, encode=None):
        self.attributes = [a for a in attributes if a in PHRASES]
        if not self.attributes:
            raise ValueError("no editable attributes")
        self.threshold = threshold
        self._encode = encode or sentence_encoder.encode
        # (attribute or None for NOT_EDITABLE, polarity, phrase)
        self._phrases: list[tuple[str | None, int, str]] = [
            *[(a, sign, p) for a in self.attributes for sign, group in ((1, PHRASES[a][0]), (-1, PHRASES[a][1]))
              for p in group],
            *[(None, 1, p) for p in NOT_EDITABLE]]
        self._phrase_emb = self._encode([p for _, _, p in self._phrases])
        self._cache: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: list[str]) -> torch.Tensor:
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            emb = self._encode(todo)
            with self._lock:
                if len(self._cache) > 20_000:
                    self._cache.clear()
                self._cache.update(zip(todo, emb))
        with self._lock:
            return torch.stack([self._cache[t] for t in texts])

    def what_can_be_edited(self) -> str:
        return ", ".join(f"{a.replace('_', ' ').lower()} (\"{PHRASES[a][0][0]}\")" for a in self.attributes)

    def match_clause(self, clause: str) -> list[Match]:
        """The attributes one clause names (none, one or several), signs and strengths applied, and
        things it names that cannot be edited (attribute None)."""
        sign, strength, words = read_clause(clause)
        spans = {(i, j) for i in range(len(words)) for j in range(i + 1, min(len(words), i + MAX_NGRAM) + 1)}
        spans.add((0, len(words)))
        spans = sorted((i, j) for i, j in spans if not set(words[i:j]) <= GENERIC)
        if not spans:
            return []
        sims = self._embed([" ".join(words[i:j]) for i, j in spans]) @ self._phrase_emb.T  # [spans, phrases]
        best, where = sims.max(1)
        # Greedy: the most similar span first; spans that overlap a taken one, or name a taken attribute, are out.
        taken: set[int] = set()
        found: list[tuple[int, Match]] = []
        for k in best.argsort(descending=True).tolist():
            sim = float(best[k])
            if sim < self.threshold:
                break
            i, j = spans[k]
            attr, polarity, phrase = self._phrases[int(where[k])]
            if taken & set(range(i, j)) or (attr is not None and any(m.attribute == attr for _, m in found)):
                continue
            taken |= set(range(i, j))
            found.append((i, Match(attr, sign * polarity, strength, " ".join(words[i:j]), phrase, round(sim, 3))))
        return [m for _, m in sorted(found, key=lambda im: im[0])]

    def parse(self, prompt) -> ParsedEdit:
        """A prompt -> its edits. ValueError (a message for the person) when it is not usable text,
        names no attribute these models can edit, or asks for one both ways."""
        text = clean(prompt)
        edits: dict[str, float] = {}
        matches: list[Match] = []
        ignored: list[str] = []
        unknown: list[str] = []
        carried = False  # a removal verb carries over to bare noun phrases after it: "remove the glasses and hat"
        for clause in clauses(text):
            bare = all(w in _DETERMINERS or w not in _FILLER for w in _WORD.findall(clause)) and \
                not re.search(_NEGATION, clause)
            if _REMOVAL_VERB.match(clause):
                carried = True
            elif not bare:
                carried = False
            found = self.match_clause(("remove " if carried and bare else "") + clause)
            unknown += [m.words for m in found if m.attribute is None]
            found = [m for m in found if m.attribute is not None]
            if not found:
                ignored.append(clause)
            for m in found:
                value = m.sign * m.strength
                if m.attribute in edits and edits[m.attribute] * value < 0:
                    raise ValueError(f"the prompt asks for {m.attribute.replace('_', ' ').lower()} both ways; "
                                     "say it once")
                edits[m.attribute] = value if abs(value) > abs(edits.get(m.attribute, 0.0)) else edits[m.attribute]
                matches.append(m)
        if not edits:
            named = f" ({', '.join(dict.fromkeys(unknown))} cannot be edited here)" if unknown else ""
            raise ValueError(f"nothing in \"{text[:80]}\"{named} is something these models can edit. They can "
                             f"change: {self.what_can_be_edited()}; say it with \"add\", \"remove\", \"not\", "
                             "\"slightly\", \"very\"")
        order = list(dict.fromkeys(m.attribute for m in matches))
        return ParsedEdit(tuple((a, edits[a]) for a in order), tuple(matches), tuple(ignored),
                          tuple(dict.fromkeys(unknown)))


_PARSERS: dict[tuple[str, ...], PromptParser] = {}
_PARSERS_LOCK = threading.Lock()


def parser(attributes) -> PromptParser:
    """The shared parser for these attributes (built once: loads the sentence encoder)."""
    key = tuple(attributes)
    with _PARSERS_LOCK:
        if key not in _PARSERS:
            _PARSERS[key] = PromptParser(key)
        return _PARSERS[key]


MAX_STRENGTH = 3.0  # the edit modes' strength slider: 0 (no edit) to 3 x the parsed amounts


def clean_strength(value, default: float = 1.0) -> float:
    """Anything -> a strength in [0, MAX_STRENGTH] (None, NaN, text -> default)."""
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return default if v != v else min(max(v, 0.0), MAX_STRENGTH)


def verdicts(parsed: "ParsedEdit | None", probs_before: dict[str, float],
             probs_after: dict[str, float]) -> list[tuple[str, float, float, bool]]:
    """For each attribute the parse asked for: (name, p before, p after, whether the classifier now
    sees it as asked: p > 0.5 for an addition, < 0.5 for a removal); [] without a parse."""
    if parsed is None:
        return []
    out = []
    for name, value in parsed.edits:
        pb, pa = probs_before[name], probs_after[name]
        out.append((name, pb, pa, pa > 0.5 if value > 0 else pa < 0.5))
    return out
