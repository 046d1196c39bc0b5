"""Evaluate the text-guided edit (issue 16: direction and text-score modes) on generated faces and on
real photos inverted through the faces v2 encoder.

No data needed for generated faces: the shipped faces GAN, attribute classifier (and, for --mode score,
face-text model).

    python -m core.eval.text_edit [--faces faces|faces_v2] [--count 100] [--json FILE] [--grid FILE] [--compare]
    python -m core.eval.text_edit --mode score [--faces faces|faces_v2] [--count 100] [--json FILE] [--grid FILE]
    python -m core.eval.text_edit --holdout [--limit 100] [--invert-steps 0,40] [--mode score] [--json FILE]
    python -m core.eval.text_edit --data DIR_OF_FACE_PHOTOS [--limit 100] ...

(`--faces 100`, a number, is still read as the count of seeded faces, as the figures recorded with it.)

A fixed prompt set (PROMPTS: each reported attribute added and removed, paraphrases, negations,
intensities, two-attribute prompts), each applied end to end (parse, then edit) to the same seeded
faces (seeds 0..N-1), judged by the attribute classifier:

- target_success: share of edits after which the classifier sees every asked attribute as asked
  (p > 0.5 for "add", p < 0.5 for "remove"); target_flip: the same over the edits whose face did
  not already look that way;
- others_kept: share of the other reported attributes whose verdict (p > 0.5) did not change;
- identity_cosine: cosine of the classifier's penultimate features before / after (1 = same face to it);
- parse_accuracy: share of PROMPTS parsed exactly as their table says; heldout_parse_accuracy: the
  same for HELD_OUT, paraphrases written after the phrase bank was settled and never tuned on.

Also the same edits without the conditional projection (`without_projection`), and with --compare
every mode x conditioning set. Prompts that do not parse count as failed edits (the face unchanged).

`--mode score` runs the text-score mode instead (`core/pipelines/text_score.py`: the latent optimised
against the face-text model's score of the prompt as typed) on the same prompts and faces, judged the
same way (what was asked is read from the prompt's parse, as for the direction mode), so the two modes
compare at equal counts; it adds the text score (cosine of face and prompt in the face-text model)
before and after, and its settings (steps, weights, strength).

Real photos (`--data DIR`, or `--holdout`: faces_v2's held-out 10 %; the first --limit usable ones, 100 by
default), cut as the tab cuts an upload (`faces.photo_face`), are inverted with faces v2
(`FacesPipeline.invert`: the encoder's guess, then a short latent optimisation) once per entry of
--invert-steps (default 0, the encoder alone, and INVERT_STEPS, the tab's: the top-level figures), and
the same prompts are applied to the inverted latents. Reported per entry: reconstruction PSNR
(encoder-only and refined), the classifier's attribute agreement between photo and reconstruction,
identity_photo_reconstruction (the identity cosine of photo and reconstruction), the direction mode's
keys (judged against the reconstruction: the face the edit starts from) and identity_to_photo (edited
face against the photo); with --mode score the text-score mode too, on INVERT_STEPS' latents. So the
steps' trade between PSNR and edit success is measured on the same photos.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from ..data.images import ImageError, label_font, list_images, tensor_to_pil
from ..device import setup_threads
from ..pipelines import faces as faces_pipeline  # INVERT_*: read when used (a sweep may set them)
from ..pipelines.face_arithmetic import FACES_MODELS
from ..metrics.pixels import psnr as pixel_psnr
from ..pipelines.faces import FacesPipeline, photo_face
from ..pipelines.text_edit import (CONDITIONS, MODES, EditSettings, ScoreSettings, TextEditor, judge_with_features,
                                   load, load_scorer)
from ..registry import get_spec
from .faces import eval_faces
from .faces_v2 import reconstruction
from .report import report

# (prompt, the parse it should give). Two prompts per attribute at least (add and remove), paraphrases,
# negations, intensities and two-attribute prompts.
PROMPTS = [
    ("make her smile", "+Smiling 1.0"),
    ("a big grin", "+Smiling 1.0"),
    ("not smiling", "-Smiling 1.0"),
    ("a serious face", "-Smiling 1.0"),
    ("more masculine", "+Male 1.0"),
    ("make him a man", "+Male 1.0"),
    ("turn into a woman", "-Male 1.0"),
    ("feminine", "-Male 1.0"),
    ("add glasses", "+Eyeglasses 1.0"),
    ("wearing spectacles", "+Eyeglasses 1.0"),
    ("take off the glasses", "-Eyeglasses 1.0"),
    ("without glasses", "-Eyeglasses 1.0"),
    ("younger", "+Young 1.0"),
    ("older", "-Young 1.0"),
    ("make him look elderly", "-Young 1.0"),
    ("blond hair", "+Blond_Hair 1.0"),
    ("not blonde", "-Blond_Hair 1.0"),
    ("dark hair", "+Black_Hair 1.0"),
    ("without the black hair", "-Black_Hair 1.0"),
    ("give him a moustache", "+Mustache 1.0"),
    ("remove the moustache", "-Mustache 1.0"),
    ("put on a hat", "+Wearing_Hat 1.0"),
    ("take the hat off", "-Wearing_Hat 1.0"),
    ("bald", "+Bald 1.0"),
    ("not bald", "-Bald 1.0"),
    ("a bit more smile", "+Smiling 0.5"),
    ("slightly older", "-Young 0.5"),
    ("very happy", "+Smiling 1.5"),
    ("she is smiling and wears glasses", "+Smiling 1.0, +Eyeglasses 1.0"),
    ("older, without the moustache", "-Young 1.0, -Mustache 1.0"),
    ("a smiling man", "+Smiling 1.0, +Male 1.0"),
    ("serious and younger", "-Smiling 1.0, +Young 1.0"),
    ("a woman with glasses", "-Male 1.0, +Eyeglasses 1.0"),
]
# Written after the phrase bank and the thresholds were settled; only parsed (never tuned on).
HELD_OUT = [
    ("could you make this person grin", "+Smiling 1.0"),
    ("give her a cheerful look", "+Smiling 1.0"),
    ("no smile please", "-Smiling 1.0"),
    ("wipe the smile off his face", "-Smiling 1.0"),
    ("make the person male", "+Male 1.0"),
    ("turn him into a lady", "-Male 1.0"),
    ("she needs reading glasses", "+Eyeglasses 1.0"),
    ("get rid of the specs", "-Eyeglasses 1.0"),
    ("a youthful face", "+Young 1.0"),
    ("add twenty years", "-Young 1.0"),
    ("much older", "-Young 1.5"),
    ("golden hair", "+Blond_Hair 1.0"),
    ("a blonde", "+Blond_Hair 1.0"),
    ("jet black hair", "+Black_Hair 1.0"),
    ("grow a mustache", "+Mustache 1.0"),
    ("shave off the moustache", "-Mustache 1.0"),
    ("a cap on his head", "+Wearing_Hat 1.0"),
    ("hatless", "-Wearing_Hat 1.0"),
    ("a shaved head", "+Bald 1.0"),
    ("give him his hair back", "-Bald 1.0"),
    ("slightly more cheerful", "+Smiling 0.5"),
    ("a little younger", "+Young 0.5"),
    ("an old man with glasses", "-Young 1.0, +Male 1.0, +Eyeglasses 1.0"),
    ("a frowning woman", "-Smiling 1.0, -Male 1.0"),
]
GRID_PROMPTS = ("make her smile", "not smiling", "add glasses", "older", "turn into a woman", "more masculine",
                "dark hair", "put on a hat", "she is smiling and wears glasses", "older, without the moustache")
GRID_SEEDS = (0, 1, 2)


def parse_or_none(editor: TextEditor, prompt: str):
    try:
        return editor.parse(prompt)
    except ValueError:
        return None


def parse_accuracy(editor: TextEditor, table) -> tuple[float, list[dict]]:
    rows = []
    for prompt, expected in table:
        parsed = parse_or_none(editor, prompt)
        got = "(no parse)" if parsed is None else str(parsed)
        rows.append({"prompt": prompt, "expected": expected, "parsed": got, "ok": got == expected})
    return sum(r["ok"] for r in rows) / len(rows), rows


def measure(editor, z: torch.Tensor, before: tuple[torch.Tensor, torch.Tensor], prompts=PROMPTS,
            apply=None, anchor: torch.Tensor | None = None) -> dict:
    """The metrics of `editor` on latents z [N, D] for `prompts`; before = (probs, features) of z.
    apply(z, prompt, parsed) -> edited z [N, D] (default: the direction mode's editor.apply(z, parsed));
    `editor` gives the parse (what was asked), the classifier, the faces and the attribute list (a
    TextEditor, or a TextScorer for the text-score mode). anchor: the classifier's features [N, F] of
    the photos z was inverted from; then also identity_to_photo (cosine of the edited face to the photo)."""
    names = editor.attributes
    cols = [editor.classifier.index(n) for n in names]
    p0, f0 = before[0][:, cols], before[1]
    per_prompt, totals = [], {"target": [], "flip": [], "kept": [], "identity": [], "step": [], "photo": []}
    flips = {n: [] for n in names}  # how often each attribute changed when it was not asked for
    for prompt, _ in prompts:
        parsed = parse_or_none(editor, prompt)
        if parsed is None:
            target = torch.zeros(len(z), dtype=torch.bool)
            already = target.clone()
            kept, identity, step = torch.ones(len(z)), torch.ones(len(z)), torch.zeros(len(z))
            f1 = f0
        else:
            z1 = editor.apply(z, parsed) if apply is None else apply(z, prompt, parsed)
            p1, f1 = judge_with_features(editor.classifier, editor.faces.decode(z1))
            p1 = p1[:, cols]
            asked = {names.index(a): v for a, v in parsed.edits}
            target = torch.ones(len(z), dtype=torch.bool)
            already = target.clone()
            for j, v in asked.items():
                target &= (p1[:, j] > 0.5) if v > 0 else (p1[:, j] < 0.5)
                already &= (p0[:, j] > 0.5) if v > 0 else (p0[:, j] < 0.5)
            others = [j for j in range(len(names)) if j not in asked]
            same = (p1[:, others] > 0.5) == (p0[:, others] > 0.5)
            kept = same.float().mean(1)
            for k, j in enumerate(others):
                flips[names[j]].append((~same[:, k]).float())
            identity = torch.nn.functional.cosine_similarity(f0, f1, dim=1)
            step = (z1 - z).norm(dim=1)
        row = {"prompt": prompt, "parsed": "(no parse)" if parsed is None else str(parsed),
               "target_success": float(target.float().mean()),
               "target_flip": float(target[~already].float().mean()) if (~already).any() else None,
               "already": float(already.float().mean()), "others_kept": float(kept.mean()),
               "identity_cosine": float(identity.mean()), "latent_step": float(step.mean())}
        if anchor is not None:
            photo = torch.nn.functional.cosine_similarity(anchor, f1, dim=1)
            row["identity_to_photo"] = float(photo.mean())
            totals["photo"].append(photo)
        per_prompt.append(row)
        totals["target"].append(target.float())
        totals["flip"].append(target[~already].float())
        totals["kept"].append(kept)
        totals["identity"].append(identity)
        totals["step"].append(step)
    mean = {k: float(torch.cat(v).mean()) if sum(len(t) for t in v) else None for k, v in totals.items()}
    out = {"target_success": mean["target"], "target_flip": mean["flip"], "others_kept": mean["kept"],
           "identity_cosine": mean["identity"], "latent_step": mean["step"],
           "others_changed": {n: round(float(torch.cat(v).mean()), 4) for n, v in flips.items() if v},
           "per_prompt": per_prompt}
    if anchor is not None:
        out["identity_to_photo"] = mean["photo"]
    return out



def grid(editor, out: Path, prompts=GRID_PROMPTS, seeds=GRID_SEEDS, size: int = 128, apply=None,
         z: torch.Tensor | None = None) -> Path:
    """A figure: one row per prompt, its text (and parse) and then before | after for each seed
    (or for each of the latents z [n, D], e.g. inverted photos: "before" is then the reconstruction).
    apply(z, prompt, parsed) -> edited z (default: the direction mode's, as in `measure`)."""
    z = editor.faces.zs(seeds) if z is None else z
    label_w, gap, font, small = 360, 6, label_font(18), label_font(14)
    rows = []
    for prompt in prompts:
        parsed = editor.parse(prompt)
        z1 = editor.apply(z, parsed) if apply is None else apply(z, prompt, parsed)
        images = editor.faces.decode(torch.cat([z, z1]))
        rows.append((prompt, str(parsed) if parsed is not None else "",
                     [tensor_to_pil(x).resize((size, size), Image.LANCZOS) for x in images]))
    n = len(z)
    width = label_w + n * (2 * size + gap) + n * 10
    head = 28
    canvas = Image.new("RGB", (width, head + len(rows) * (size + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for k in range(n):
        x = label_w + k * (2 * size + gap + 10)
        draw.text((x + 4, 6), "before", fill="black", font=small)
        draw.text((x + size + 4, 6), "after", fill="black", font=small)
    for r, (prompt, parsed, images) in enumerate(rows):
        y = head + r * (size + gap)
        draw.text((6, y + size // 2 - 22), f"\"{prompt}\"" if len(prompt) <= 34 else f"\"{prompt[:32]}…\"",
                  fill="black", font=font)
        draw.text((6, y + size // 2 + 4), parsed, fill=(90, 90, 90), font=small)
        for k in range(n):
            x = label_w + k * (2 * size + gap + 10)
            canvas.paste(images[k], (x, y))
            canvas.paste(images[n + k], (x + size, y))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out


def evaluate(faces: int = 100, compare: bool = False, editor: TextEditor | None = None) -> dict:
    """The metrics dict (see the module's docstring)."""
    editor = editor or load()
    z = editor.faces.zs(range(faces))
    before = judge_with_features(editor.classifier, editor.faces.decode(z))
    accuracy, parses = parse_accuracy(editor, PROMPTS)
    held_out, held_parses = parse_accuracy(editor, HELD_OUT)
    main = measure(editor, z, before)
    plain = measure(editor.with_settings(condition="none"), z, before)
    out = {"faces": faces, "prompts": len(PROMPTS), "settings": editor.settings.__dict__,
           **{k: main[k] for k in ("target_success", "target_flip", "others_kept", "identity_cosine", "latent_step")},
           "parse_accuracy": accuracy, "heldout_parse_accuracy": held_out,
           "without_projection": {k: plain[k] for k in ("target_success", "target_flip", "others_kept",
                                                        "identity_cosine", "latent_step")},
           "others_changed": main["others_changed"], "others_changed_without_projection": plain["others_changed"],
           "per_prompt": main["per_prompt"], "parses": parses, "heldout_parses": held_parses}
    if compare:
        out["compare"] = {}
        for mode in MODES:
            for condition in CONDITIONS:
                m = measure(editor.with_settings(mode=mode, condition=condition), z, before)
                out["compare"][f"{mode}/{condition}"] = {k: m[k] for k in ("target_success", "target_flip",
                                                                          "others_kept", "identity_cosine",
                                                                          "latent_step")}
    return out


SCORE_KEYS = ("target_success", "target_flip", "others_kept", "identity_cosine", "latent_step")


def evaluate_score(faces: int = 100, scorer=None, strength: float = 1.0, first_seed: int = 0,
                   prompts=PROMPTS) -> dict:
    """The text-score mode's metrics on the direction mode's prompts and faces (seeds first_seed ..
    first_seed + faces - 1): the same keys as `evaluate`, plus the text score before / after."""
    scorer = scorer or load_scorer()
    z = scorer.faces.zs(range(first_seed, first_seed + faces))
    return {"faces": faces, "first_seed": first_seed, **score_metrics(scorer, z, strength, prompts)}


def score_metrics(scorer, z: torch.Tensor, strength: float = 1.0, prompts=PROMPTS,
                  anchor: torch.Tensor | None = None) -> dict:
    """The text-score mode's metrics on latents z [N, D] (see `measure`; anchor: the photos' features)."""
    before = judge_with_features(scorer.classifier, scorer.faces.decode(z))
    made: dict[str, torch.Tensor] = {}

    def apply(z, prompt, parsed):
        try:
            made[prompt] = scorer.apply(z, prompt, strength)
        except ValueError:  # a prompt the mode refuses (none of PROMPTS is): the face stays as it is
            return z
        return made[prompt]

    t0 = time.perf_counter()
    main = measure(scorer, z, before, prompts, apply=apply, anchor=anchor)
    seconds = time.perf_counter() - t0
    rise = {}
    for prompt, z1 in made.items():
        _, emb = scorer.embed_prompt(prompt)
        s0 = scorer.encoder.scores(scorer.faces.decode(z), emb)
        s1 = scorer.encoder.scores(scorer.faces.decode(z1), emb)
        rise[prompt] = (float(s0.mean()), float(s1.mean()))
    for row in main["per_prompt"]:
        if row["prompt"] in rise:
            row["text_score_before"], row["text_score_after"] = (round(v, 4) for v in rise[row["prompt"]])
    keys = SCORE_KEYS + (("identity_to_photo",) if anchor is not None else ())
    return {"prompts": len(prompts), "mode": "score",
            "settings": {**scorer.settings.__dict__, "strength": strength, "precision": str(scorer.dtype)},
            **{k: main[k] for k in keys},
            "text_score_before": sum(a for a, _ in rise.values()) / max(1, len(rise)),
            "text_score_after": sum(b for _, b in rise.values()) / max(1, len(rise)),
            "batched_seconds_per_face": seconds / max(1, len(made) * len(z)),  # optimised N at a time
            "others_changed": main["others_changed"], "per_prompt": main["per_prompt"]}


# ---- real photos through the faces v2 encoder (issue 16: "100 held-out real faces through inversion") ----

PHOTOS = 100  # photos the real-face eval inverts unless --limit says otherwise
PHOTO_MODEL = "faces_v2"  # the faces model with an encoder (face_arithmetic.FACES_MODELS)
DIRECTION_KEYS = ("target_success", "target_flip", "others_kept", "identity_cosine", "identity_to_photo",
                  "latent_step")


def photo_files(folder: Path | None) -> list[Path]:
    """The photos to invert: the images of `folder` (sorted), or without it the faces v2 registry
    entry's held-out part of its training folder (the last 10 %, never trained on; core.eval.faces.eval_faces)."""
    if folder is not None:
        return list_images(folder)
    spec = get_spec(PHOTO_MODEL)
    return list(eval_faces(spec, spec.data.train, "val").files)


def read_photos(files, limit: int = PHOTOS) -> tuple[torch.Tensor, list[str], list[dict]]:
    """Photos -> (the first `limit` usable ones as faces [N, 3, 64, 64] in [-1, 1], cut exactly as the tab
    cuts an upload (faces.photo_face), their file names, the files skipped with why: [{"file", "why"}])."""
    faces, names, skipped = [], [], []
    for f in files:
        if len(faces) >= limit:
            break
        try:
            face, _, _ = photo_face(f)
        except (ImageError, OSError) as e:
            skipped.append({"file": Path(f).name, "why": str(e)})
            continue
        faces.append(face[0])
        names.append(Path(f).name)
    if not faces:
        raise ValueError(f"no usable face photo among {len(skipped)} file(s)" +
                         (f": {skipped[0]['file']}: {skipped[0]['why']}" if skipped else ""))
    return torch.stack(faces), names, skipped


def invert_all(pipe: FacesPipeline, faces: torch.Tensor, steps: int,
               log=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Faces [N, 3, 64, 64] -> (latents u [N, D], PSNR of the encoder's reconstruction [N], PSNR of the
    refined one [N]) through FacesPipeline.invert, one face at a time as the tab does (steps 0: the
    encoder alone, batched: the same latents). log(text) reports progress."""
    if steps == 0:
        u = pipe.encode(faces)
        rec = pipe.decode(u)
        p = pixel_psnr(rec, faces, data_range=2.0)
        return u, p, p.clone()
    us, enc, ref = [], [], []
    t0 = time.perf_counter()
    for i, face in enumerate(faces):
        u, figures = pipe.invert(face[None], steps=steps)
        us.append(u)
        enc.append(figures["psnr_encoder"])
        ref.append(figures["psnr_refined"])
        if log is not None and ((i + 1) % 20 == 0 or i + 1 == len(faces)):
            log(f"inverted {i + 1}/{len(faces)} photos ({steps} steps; {time.perf_counter() - t0:.0f} s)")
    return torch.stack(us), torch.tensor(enc), torch.tensor(ref)


def evaluate_photos(editor: TextEditor, photos: torch.Tensor, steps=None, scorer=None, prompts=PROMPTS,
                    strength: float = 1.0, log=None) -> tuple[dict, torch.Tensor]:
    """The edit on real photos (faces [N, 3, 64, 64] in [-1, 1]) inverted into `editor`'s faces model
    (which needs an encoder): for each number of inversion steps in `steps` (default 0 and
    faces.INVERT_STEPS), reconstruction PSNR (encoder-only and refined), the classifier's attribute
    agreement between photo and reconstruction, and the direction mode's metrics on the inverted
    latents ("before" is the reconstruction: the face the edit starts from); plus identity_to_photo.
    The top-level figures are those of the tab's INVERT_STEPS when `steps` holds it, else of its last
    entry; with `scorer`, the text-score mode too, on that entry's latents. Returns (the metrics, that
    entry's latents [N, D])."""
    pipe = editor.faces
    if not pipe.can_encode:
        raise ValueError("this faces model has no encoder: real photos need faces_v2")
    steps = list(steps) if steps is not None else [0, faces_pipeline.INVERT_STEPS]
    chosen = faces_pipeline.INVERT_STEPS if faces_pipeline.INVERT_STEPS in steps else steps[-1]
    photo_probs, photo_feats = judge_with_features(editor.classifier, photos)
    by_steps, main = {}, {}
    for s in steps:
        u, psnr_encoder, psnr_refined = invert_all(pipe, photos, s, log)
        rec = pipe.decode(u)
        before = judge_with_features(editor.classifier, rec)
        agree = reconstruction(photos, rec, editor.classifier)
        row = {"invert_steps": s, "rec_psnr_encoder": float(psnr_encoder.mean()),
               "rec_psnr_refined": float(psnr_refined.mean()),
               "rec_attribute_agreement": agree.get("rec_attribute_agreement"),
               "rec_agreement": {k[len("rec_agreement_"):]: round(v, 4) for k, v in agree.items()
                                 if k.startswith("rec_agreement_")},
               "identity_photo_reconstruction": float(F.cosine_similarity(photo_feats, before[1], dim=1).mean()),
               "latent_norm": float(u.norm(dim=1).mean())}
        m = measure(editor, u, before, prompts, anchor=photo_feats)
        row["direction"] = {k: m[k] for k in DIRECTION_KEYS}
        by_steps[str(s)] = row
        if s == chosen:
            main = {"row": row, "u": u, "measure": m}
        if log is not None:
            log(f"steps {s}: PSNR {row['rec_psnr_refined']:.2f} dB, target_success "
                f"{m['target_success']:.3f}, others_kept {m['others_kept']:.3f}")
    row, m = main["row"], main["measure"]
    out = {"photos": len(photos), "prompts": len(prompts),
           "invert": {"steps": row["invert_steps"], "lr": faces_pipeline.INVERT_LR,
                      "prior": faces_pipeline.INVERT_PRIOR},
           **{k: v for k, v in row.items() if k not in ("direction", "invert_steps")},
           "photo_attribute_rates": editor.classifier.shares(photo_probs, editor.attributes),
           "direction": {"settings": editor.settings.__dict__, **{k: m[k] for k in DIRECTION_KEYS},
                         "others_changed": m["others_changed"], "per_prompt": m["per_prompt"]},
           "by_invert_steps": by_steps}
    if scorer is not None:
        t0 = time.perf_counter()
        out["score"] = score_metrics(scorer, main["u"], strength, prompts, anchor=photo_feats)
        if log is not None:
            log(f"text-score mode: {time.perf_counter() - t0:.0f} s")
    return out, main["u"]


def _faces_arg(value: str):
    """--faces: a faces model's name, or (as the figures recorded before there were two models) a count."""
    if value in FACES_MODELS:
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a faces model ({', '.join(FACES_MODELS)}) or a number of faces, "
                                         f"not {value!r}") from None


def _steps_arg(value: str) -> list[int]:
    """--invert-steps "0,40" -> [0, 40] (each in [0, 1000])."""
    try:
        steps = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        steps = []
    if not steps or not all(0 <= v <= 1000 for v in steps):
        raise argparse.ArgumentTypeError(f"whole numbers in [0, 1000] separated by commas, not {value!r}")
    return steps


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.eval.text_edit", description=__doc__.splitlines()[0])
    p.add_argument("--faces", type=_faces_arg, default=None, metavar="MODEL",
                   help=f"the faces model ({', '.join(FACES_MODELS)}; default faces, the DCGAN, for seeded faces and "
                        f"{PHOTO_MODEL} for photos); a number here is the count of seeded faces (as --count)")
    p.add_argument("--count", type=int, default=None, help="seeded faces (seeds 0..N-1; default 100)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", type=Path, help="a folder of face photos: invert them (faces_v2) and edit those")
    where.add_argument("--holdout", action="store_true",
                       help=f"the photos are {PHOTO_MODEL}'s held-out 10%% of its training folder (never trained on)")
    p.add_argument("--limit", type=int, default=None, help=f"--data / --holdout: the first N usable photos "
                                                           f"(default {PHOTOS})")
    p.add_argument("--invert-steps", type=_steps_arg, default=None, metavar="S,S,...",
                   help="--data / --holdout: inversion steps to compare (default 0 and faces.INVERT_STEPS, which "
                        "gives the top-level figures and the text-score mode's latents; without it, the last one)")
    p.add_argument("--json", type=Path, help="also write the metrics here")
    p.add_argument("--grid", type=Path, help="write the prompt | before | after figure here")
    p.add_argument("--compare", action="store_true", help="also every mode x conditioning set")
    p.add_argument("--mode", choices=[*MODES, "score"], default=EditSettings.mode,
                   help="the direction mode's reach or step, or score: the text-score mode (with --data / "
                        "--holdout: beside the direction mode)")
    p.add_argument("--condition", choices=list(CONDITIONS), default=EditSettings.condition)
    p.add_argument("--margin", type=float, default=EditSettings.margin)
    p.add_argument("--step", type=float, default=EditSettings.step)
    p.add_argument("--first-seed", type=int, default=0, help="faces are seeds FIRST .. FIRST + faces - 1")
    p.add_argument("--strength", type=float, default=1.0, help="--mode score: the strength (text weight)")
    p.add_argument("--score-steps", type=int, default=ScoreSettings.steps, help="--mode score: Adam steps")
    p.add_argument("--identity", type=float, default=ScoreSettings.identity, help="--mode score: identity weight")
    p.add_argument("--latent", type=float, default=ScoreSettings.latent, help="--mode score: latent L2 weight")
    args = p.parse_args(argv)
    photos = args.data is not None or args.holdout
    model = args.faces if isinstance(args.faces, str) else (PHOTO_MODEL if photos else "faces")
    count = args.count if args.count is not None else args.faces if isinstance(args.faces, int) else 100
    if count < 1:
        p.error("--count (--faces N) must be at least 1")
    if photos:
        problem = _photo_options(args, model)
        if problem:
            p.error(problem)
    elif args.limit is not None or args.invert_steps is not None:
        p.error("--limit and --invert-steps are for real photos (--data DIR or --holdout)")
    setup_threads()
    t0 = time.time()
    score_settings = ScoreSettings(args.score_steps, ScoreSettings.lr, args.identity, args.latent)
    if photos:
        metrics = _photos_main(args, model, EditSettings(args.mode if args.mode != "score" else EditSettings.mode,
                                                        args.condition, args.margin, args.step), score_settings)
    elif args.mode == "score":
        if args.compare:
            p.error("--compare is for the direction mode")
        scorer = load_scorer(score_settings, faces=model)
        metrics = {"faces_model": model, **evaluate_score(count, scorer, args.strength, args.first_seed)}
        if args.grid:
            grid(scorer, args.grid, apply=lambda z, prompt, parsed: scorer.apply(z, prompt, args.strength))
            metrics["grid"] = str(args.grid)
    else:
        if args.first_seed:
            p.error("--first-seed is for --mode score (the direction mode's figures are on seeds 0..N-1)")
        editor = load(EditSettings(args.mode, args.condition, args.margin, args.step), faces=model)
        metrics = {"faces_model": model, **evaluate(count, args.compare, editor)}
        if args.grid:
            grid(editor, args.grid)
            metrics["grid"] = str(args.grid)
    metrics["seconds"] = round(time.time() - t0, 1)
    report(metrics, args.json)
    return 0


def _photo_options(args, model: str) -> str:
    """What is wrong with the options of a real-photo eval ("" when nothing)."""
    if model != PHOTO_MODEL:
        return f"real photos are inverted with an encoder: {model} has none; use --faces {PHOTO_MODEL}"
    if args.data is not None and not args.data.is_dir():
        return f"--data {args.data} is not a folder"
    if args.limit is not None and args.limit < 1:
        return "--limit must be at least 1"
    if args.compare or args.first_seed or args.count is not None or isinstance(args.faces, int):
        return "--compare, --first-seed and --count are for seeded faces; photos are counted by --limit"
    return ""


def _photos_main(args, model: str, settings: EditSettings, score_settings: ScoreSettings) -> dict:
    """The real-photo eval's run (see evaluate_photos)."""
    editor = load(settings, faces=model)
    files = photo_files(args.data)
    photos, names, skipped = read_photos(files, args.limit or PHOTOS)
    _log(f"{len(photos)} photos from {args.data or 'the held-out faces'} ({len(skipped)} skipped)")
    scorer = load_scorer(score_settings, faces=model) if args.mode == "score" else None
    metrics, u = evaluate_photos(editor, photos, args.invert_steps, scorer, strength=args.strength, log=_log)
    metrics = {"faces_model": model, "data": str(args.data) if args.data else f"{model} held-out",
               **metrics, "files": names, "skipped": skipped}
    if args.grid:
        shown = u[:len(GRID_SEEDS)]
        if scorer is not None:
            grid(scorer, args.grid, z=shown, apply=lambda z, prompt, parsed: scorer.apply(z, prompt, args.strength))
        else:
            grid(editor, args.grid, z=shown)
        metrics["grid"] = str(args.grid)
    return metrics


if __name__ == "__main__":
    sys.exit(main())
