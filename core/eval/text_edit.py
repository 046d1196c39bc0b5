"""Evaluate the text-guided edit (issue 16: direction and text-score modes) on generated faces.

No data needed: the shipped faces GAN, attribute classifier (and, for --mode score, face-text model).

    python -m core.eval.text_edit [--faces 100] [--json FILE] [--grid docs/img/text_edit_grid.jpg] [--compare]
    python -m core.eval.text_edit --mode score [--faces 100] [--json FILE] [--grid FILE]

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
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from ..data.images import tensor_to_pil
from ..device import setup_threads
from ..pipelines.text_edit import (CONDITIONS, MODES, EditSettings, ScoreSettings, TextEditor, judge_with_features,
                                   load, load_scorer)
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
            apply=None) -> dict:
    """The metrics of `editor` on latents z [N, D] for `prompts`; before = (probs, features) of z.
    apply(z, prompt, parsed) -> edited z [N, D] (default: the direction mode's editor.apply(z, parsed));
    `editor` gives the parse (what was asked), the classifier, the faces and the attribute list (a
    TextEditor, or a TextScorer for the text-score mode)."""
    names = editor.attributes
    cols = [editor.classifier.index(n) for n in names]
    p0, f0 = before[0][:, cols], before[1]
    per_prompt, totals = [], {"target": [], "flip": [], "kept": [], "identity": [], "step": []}
    flips = {n: [] for n in names}  # how often each attribute changed when it was not asked for
    for prompt, _ in prompts:
        parsed = parse_or_none(editor, prompt)
        if parsed is None:
            target = torch.zeros(len(z), dtype=torch.bool)
            already = target.clone()
            kept, identity, step = torch.ones(len(z)), torch.ones(len(z)), torch.zeros(len(z))
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
        per_prompt.append(row)
        totals["target"].append(target.float())
        totals["flip"].append(target[~already].float())
        totals["kept"].append(kept)
        totals["identity"].append(identity)
        totals["step"].append(step)
    mean = {k: float(torch.cat(v).mean()) if sum(len(t) for t in v) else None for k, v in totals.items()}
    return {"target_success": mean["target"], "target_flip": mean["flip"], "others_kept": mean["kept"],
            "identity_cosine": mean["identity"], "latent_step": mean["step"],
            "others_changed": {n: round(float(torch.cat(v).mean()), 4) for n, v in flips.items() if v},
            "per_prompt": per_prompt}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def grid(editor, out: Path, prompts=GRID_PROMPTS, seeds=GRID_SEEDS, size: int = 128, apply=None) -> Path:
    """A figure: one row per prompt, its text (and parse) and then before | after for each seed.
    apply(z, prompt, parsed) -> edited z (default: the direction mode's, as in `measure`)."""
    z = editor.faces.zs(seeds)
    label_w, gap, font, small = 360, 6, _font(18), _font(14)
    rows = []
    for prompt in prompts:
        parsed = editor.parse(prompt)
        z1 = editor.apply(z, parsed) if apply is None else apply(z, prompt, parsed)
        images = editor.faces.decode(torch.cat([z, z1]))
        rows.append((prompt, str(parsed) if parsed is not None else "",
                     [tensor_to_pil(x).resize((size, size), Image.LANCZOS) for x in images]))
    n = len(seeds)
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
    before = judge_with_features(scorer.classifier, scorer.faces.decode(z))
    made: dict[str, torch.Tensor] = {}

    def apply(z, prompt, parsed):
        try:
            made[prompt] = scorer.apply(z, prompt, strength)
        except ValueError:  # a prompt the mode refuses (none of PROMPTS is): the face stays as it is
            return z
        return made[prompt]

    t0 = time.perf_counter()
    main = measure(scorer, z, before, prompts, apply=apply)
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
    return {"faces": faces, "first_seed": first_seed, "prompts": len(prompts), "mode": "score",
            "settings": {**scorer.settings.__dict__, "strength": strength, "precision": str(scorer.dtype)},
            **{k: main[k] for k in SCORE_KEYS},
            "text_score_before": sum(a for a, _ in rise.values()) / max(1, len(rise)),
            "text_score_after": sum(b for _, b in rise.values()) / max(1, len(rise)),
            "batched_seconds_per_face": seconds / max(1, len(made) * faces),  # optimised 100 at a time
            "others_changed": main["others_changed"], "per_prompt": main["per_prompt"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.eval.text_edit", description=__doc__.splitlines()[0])
    p.add_argument("--faces", type=int, default=100, help="seeded faces (seeds 0..N-1)")
    p.add_argument("--json", type=Path, help="also write the metrics here")
    p.add_argument("--grid", type=Path, help="write the prompt | before | after figure here")
    p.add_argument("--compare", action="store_true", help="also every mode x conditioning set")
    p.add_argument("--mode", choices=[*MODES, "score"], default=EditSettings.mode,
                   help="the direction mode's reach or step, or score: the text-score mode")
    p.add_argument("--condition", choices=list(CONDITIONS), default=EditSettings.condition)
    p.add_argument("--margin", type=float, default=EditSettings.margin)
    p.add_argument("--step", type=float, default=EditSettings.step)
    p.add_argument("--first-seed", type=int, default=0, help="faces are seeds FIRST .. FIRST + faces - 1")
    p.add_argument("--strength", type=float, default=1.0, help="--mode score: the strength (text weight)")
    p.add_argument("--score-steps", type=int, default=ScoreSettings.steps, help="--mode score: Adam steps")
    p.add_argument("--identity", type=float, default=ScoreSettings.identity, help="--mode score: identity weight")
    p.add_argument("--latent", type=float, default=ScoreSettings.latent, help="--mode score: latent L2 weight")
    args = p.parse_args(argv)
    if args.faces < 1:
        p.error("--faces must be at least 1")
    setup_threads()
    t0 = time.time()
    if args.mode == "score":
        if args.compare:
            p.error("--compare is for the direction mode")
        scorer = load_scorer(ScoreSettings(args.score_steps, ScoreSettings.lr, args.identity, args.latent))
        metrics = evaluate_score(args.faces, scorer, args.strength, args.first_seed)
        if args.grid:
            grid(scorer, args.grid, apply=lambda z, prompt, parsed: scorer.apply(z, prompt, args.strength))
            metrics["grid"] = str(args.grid)
        metrics["seconds"] = round(time.time() - t0, 1)
        report(metrics, args.json)
        return 0
    if args.first_seed:
        p.error("--first-seed is for --mode score (the direction mode's figures are on seeds 0..N-1)")
    editor = load(EditSettings(args.mode, args.condition, args.margin, args.step))
    metrics = evaluate(args.faces, args.compare, editor)
    if args.grid:
        grid(editor, args.grid)
        metrics["grid"] = str(args.grid)
    metrics["seconds"] = round(time.time() - t0, 1)
    report(metrics, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
