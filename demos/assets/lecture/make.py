"""Writes the lecture mode's pre-computed examples (demos/lecture.py shows them beside each tab, with
no request to the server): small WebP strips made by this project's own shipped models, from inputs
made by this project (drawings and scenes made in code, faces from fixed seeds of our GAN, the
colorization tab's example photos: our models' outputs and a meadow painted in code). No dataset
image is used. Every seed is fixed, so a lecturer can redo any strip live in its tab. The vector-
arithmetic strips need the labelled face pool (read from the disk cache, else labelled first: minutes
the first time on a machine). Run from the repository root:

    python -m demos.assets.lecture.make [--only KEY ...]

It writes the WebP files and examples.json (tab key -> [{"file", "caption"}]) beside this file;
a tab whose models are not shipped keeps its old files, or gets none.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "examples.json"
QUALITY = 82  # WebP
LABEL_PX = 15  # label font size
BAND = 2 * (LABEL_PX + 3) + 4  # a label band of two lines above each tile


# Labels use Greek letters, arrows and maths signs: DejaVu Sans has them (Debian's fonts-dejavu-core);
# without it, Pillow's bundled font and plain-ASCII spellings.
ASCII = str.maketrans({"λ": "lambda", "α": "a", "σ": "sigma", "→": "->", "−": "-", "×": "x", "≈": "~", "√": "sqrt",
                       "“": '"', "”": '"'})


def _font(size: int = LABEL_PX) -> tuple[ImageFont.ImageFont, bool]:
    """(font, whether it has the non-ASCII signs)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size=size), False


def strip(tiles: list[Image.Image], labels: list[str], tile: int | tuple[int, int], pad: int = 4) -> Image.Image:
    """Tiles side by side (each resized to `tile` px square, or (w, h)), each under a label of up to
    two lines."""
    w, h = (tile, tile) if isinstance(tile, int) else tile
    out = Image.new("RGB", (len(tiles) * (w + pad) - pad, BAND + h), "white")
    draw, (font, unicode) = ImageDraw.Draw(out), _font()
    for i, (im, label) in enumerate(zip(tiles, labels)):
        x = i * (w + pad)
        out.paste(im.convert("RGB").resize((w, h), Image.LANCZOS), (x, BAND))
        for j, line in enumerate(_wrap(label if unicode else label.translate(ASCII), font, w - 4)[:2]):
            draw.text((x + 2, 2 + j * (LABEL_PX + 3)), line, fill=(20, 20, 20), font=font)
    return out


def _wrap(text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    """Words into lines no wider than `width` px (a longer word stays whole on its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def save(im: Image.Image, name: str) -> str:
    im.save(HERE / name, "WEBP", quality=QUALITY, method=6)
    return name


# ---- one function per tab: -> [(file, caption)] -------------------------------------------------

def sketch2photo() -> list[tuple[str, str]]:
    """The paper's fig. 4 on the tab's own example drawings: L1 only | cGAN only | L1 + cGAN."""
    from core.pipelines import sketch2photo as pipeline
    from core.pipelines.images import tensor_to_pil

    models = [("sketch2photo_l1", "L1 only"), ("sketch2photo_cgan", "cGAN only"),
              ("sketch2photo", "L1 + cGAN (shipped)")]
    pipes = [(pipeline.load(name), label) for name, label in models]
    drawings = pipeline.examples(512)
    out = []
    for name in ("shoe", "handbag"):
        x = pipes[0][0].prepare(drawings[name], mode="sketch", fit=True)  # one model input for all three
        with torch.inference_mode():
            photos = [tensor_to_pil(pipe.run(x)[0]) for pipe, _ in pipes]
        im = strip([tensor_to_pil(x[0]), *photos], ["what the model sees", *(label for _, label in pipes)], 160)
        out.append((save(im, f"sketch2photo_{name}.webp"),
                    f"The tab's “{name}” example drawing through the three generators (the same input): L1 alone "
                    "(λ_gan = 0) is blurry and grey, the cGAN alone (λ_L1 = 0) sharp but loose, both together sharp "
                    "and faithful."))
    return out


def horse2zebra() -> list[tuple[str, str]]:
    from core.pipelines import horse2zebra as pipeline

    pipe, scenes = pipeline.load(), pipeline.examples()
    out = []
    for scene, direction, file in (("bay horse", "horse → zebra", "horse2zebra_horse.webp"),
                                   ("zebra", "zebra → horse", "horse2zebra_zebra.webp")):
        t = pipe(scenes[scene], direction)
        tiles = [t.input, t.output, t.reconstruction, t.difference, t.identity]
        labels = ["input (painted in code)", direction, f"back again: {t.cycle_psnr:.1f} dB", "what changed (×4)",
                  f"identity: {t.identity_psnr:.1f} dB"]
        h = 128
        w = round(h * t.input.width / t.input.height)
        im = strip(tiles, labels, (w, h))
        out.append((save(im, file), f"The tab's “{scene}” example, {direction}: the cycle brings the input back "
                                    f"({t.cycle_psnr:.1f} dB PSNR), though {100 * t.changed_share:.0f} % of the "
                                    "pixels changed on the way (the background too)."))
    return out


def latent_walk() -> list[tuple[str, str]]:
    from core.pipelines import faces

    pipe = faces.load()
    za, zb, steps = pipe.z(11), pipe.z(42), 8  # the tab's default faces A and B
    out = []
    for mode in ("slerp", "lerp"):
        z = pipe.walk(za, zb, steps, mode)
        ts = torch.linspace(0, 1, steps)
        labels = [f"t={t:.2f} |z|={n:.1f}" for t, n in zip(ts.tolist(), z.norm(dim=1).tolist())]
        im = strip(pipe.images(z, 112), labels, 112)
        mid = float(z[steps // 2].norm())
        out.append((save(im, f"latent_walk_{mode}.webp"),
                    f"Seed 11 → seed 42, {mode}, {steps} steps (the tab's defaults): |z| stays near "
                    f"√100 = 10 on the great circle" if mode == "slerp" else
                    f"Seed 11 → seed 42, lerp: the straight line's middle is short (|z| = {mid:.1f}), "
                    "a paler, more average face."))
    return out


def vector_arithmetic() -> list[tuple[str, str]]:
    from core.pipelines import face_arithmetic as fa

    arith = fa.load()
    arith.pool  # noqa: B018 - labelled (or read from the disk cache) first
    out = []
    for n, preset in enumerate(fa.PRESETS.values()):
        # The first exemplar draw (the tab's seed box) whose result the classifier accepts: a lecturer
        # types this seed in the tab to show it live.
        for seed in range(50):
            res = arith.combine(arith.draw(preset, seed), seed=seed)
            probs = arith.judge(res.result[None])
            if bool(arith.satisfied(probs, preset.expect)[0]):
                break
        faces = arith.faces.images(torch.cat([res.mean_faces(), res.result[None]]), 128)
        labels = [f"{preset.A.label} (mean of 3)", f"− {preset.B.label}", f"+ {preset.C.label}",
                  f"= {preset.result_label}?"]
        verdict = ", ".join(f"{name.replace('_', ' ').lower()} p = {float(probs[0, arith.classifier.index(name)]):.2f}"
                            for name, _ in preset.expect)
        rate, base = arith.record(preset)
        out.append((save(strip(faces, labels, 128), f"vector_arithmetic_{n}.webp"),
                    f"Preset “{preset.name}”, exemplar draw (seed) {seed}: the classifier says {verdict}. Over 100 "
                    f"draws this works {100 * rate:.0f} % of the time ({100 * base:.0f} % of random faces "
                    "qualify)."))
    z = arith.faces.z(11)
    d = arith.direction("Smiling")
    alphas = [-2.0, -1.0, 0.0, 1.0, 2.0]
    zs = torch.stack([z + a * d for a in alphas])
    probs = arith.judge(zs)[:, arith.classifier.index("Smiling")]
    labels = [f"α = {a:+.0f}: p(smiling) {float(p):.2f}" if a else f"α = 0: p(smiling) {float(p):.2f}"
              for a, p in zip(alphas, probs)]
    out.append((save(strip(arith.faces.images(zs, 128), labels, 128), "vector_arithmetic_smiling.webp"),
                "Seed 11 plus α times the “Smiling” direction (mean z of the faces the classifier calls smiling "
                "minus mean z of the others), as the tab's attribute sliders do."))
    return out


def gan_playground() -> list[tuple[str, str]]:
    from core.playground.data import make_dataset
    from core.playground.render import picture
    from core.playground.session import PlaygroundRun
    from core.playground.settings import PRESETS

    out, steps, every = [], 1500, 25
    for preset in ("nonsaturating", "wgan_gp"):
        run = PlaygroundRun(make_dataset("ring"), PRESETS[preset][0], seed=0)
        for _ in range(steps // every):  # a snapshot every `every` steps, as the tab's ticks: the coverage curve
            run.step(every)
            snap = run.snapshot()
        cov = snap.coverage
        im = picture(snap)
        im = im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.LANCZOS)
        out.append((save(im, f"gan_playground_{preset}.webp"),
                    f"Ring of 8 Gaussians, preset “{preset}”, seed 0, {steps:,} steps: {cov.covered}/{cov.n_modes} "
                    f"modes covered, {100 * cov.on_data:.0f} % of G's points within 3σ (the VAE beside it)."))
    return out


def colorization() -> list[tuple[str, str]]:
    from core.pipelines import colorization as pipeline

    pipe, l2 = pipeline.load("colorization"), pipeline.load("colorization_l2")
    source = HERE.parent / "colorization"
    out = []
    for name, what in (("meadow", "a meadow painted in code"), ("boot", "a boot from our pix2pix")):
        path = source / f"{name}.png"
        size = Image.open(path).size
        tiles = [pipe.gray(path), l2(path).image]
        labels = ["lightness only (input)", "L2 regression"]
        for t in (1.0, pipe.temperature, 0.05):
            tiles.append(pipe(path, [], t).image)
            labels.append(f"T = {t:g}" + (" (mean)" if t == 1.0 else " (shipped)" if t == pipe.temperature
                                            else " (≈ mode)"))
        tiles.append(Image.open(path))
        labels.append("original colours")
        h = 120
        out.append((save(strip(tiles, labels, (round(h * size[0] / size[1]), h)), f"colorization_{name}.webp"),
                    f"The tab's example photo of {what}: L2 averages to sepia; the annealed mean goes from the "
                    f"distribution's mean (T = 1) to its mode (T → 0); {pipe.temperature:g} is the paper's "
                    "compromise."))
    return out


def text_edit() -> list[tuple[str, str]]:
    """Faces of fixed seeds before and after the tab's example prompts, with the classifier's verdicts."""
    from core.pipelines import text_edit as pipeline

    editor = pipeline.load()  # the labelled pool first (read from the disk cache, else labelled: minutes)
    out = []
    for seed, prompts in ((1, ("make her smile", "add glasses", "older")),
                          (11, ("not smiling", "blond hair", "a man"))):
        z = editor.faces.z(seed)
        results = [editor.edit(z, prompt, size=144) for prompt in prompts]
        labels = ["before"] + [f"“{prompt}” " + ", ".join(f"p {pb:.2f}→{pa:.2f}" for _, pb, pa, _ in r.verdicts())
                               for prompt, r in zip(prompts, results)]  # one asked attribute each: two lines
        im = strip([results[0].before, *(r.after for r in results)], labels, 144)
        parses = "; ".join(f"“{prompt}” → {r.parsed}" for prompt, r in zip(prompts, results))
        out.append((save(im, f"text_edit_{seed}.webp"),
                    f"Seed {seed} and three prompts, strength 1 (the tab's default): {parses}. Above each face, the "
                    "classifier's probability of the asked attribute before → after."))
    return out


def inpainting() -> list[tuple[str, str]]:
    """Faces of fixed seeds with a hole (the centre square; brush strokes), filled the three ways."""
    from core.data.masks import eval_mask
    from core.pipelines import inpainting as pipeline

    pipe = pipeline.load()
    faces, side = pipe.faces, pipe.image_size
    out = []
    for seed, kind, what in ((7, "center", "the centre square"), (11, "free", "brush strokes")):
        face = faces.images(faces.z(seed), side)[0]
        hole = eval_mask(kind, side, seed)
        prepared = pipe.prepare(face, hole)
        fills = [pipe.fill(prepared), pipe.prior(prepared), pipe.baseline(prepared)]
        holed = np.asarray(face).copy()
        holed[hole] = 128
        labels = ["the hole (grey)", f"ours: {fills[0].seconds * 1000:.0f} ms",
                  f"GAN prior: {fills[1].seconds:.1f} s", f"biharmonic: {fills[2].seconds * 1000:.0f} ms",
                  "the GAN's face"]
        im = strip([Image.fromarray(holed), *(f.image for f in fills), face], labels, 128)
        out.append((save(im, f"inpainting_{kind}.webp"),
                    f"Seed {seed} of our faces GAN with {what} as the hole: our net (sharp, milliseconds), the faces "
                    "GAN's prior (a plausible face, not quite this one; seconds) and the biharmonic baseline (smooth "
                    "smear); times on this machine."))
    return out


MAKERS = {"sketch2photo": sketch2photo, "horse2zebra": horse2zebra, "latent_walk": latent_walk,
          "vector_arithmetic": vector_arithmetic, "gan_playground": gan_playground, "colorization": colorization,
          "text_edit": text_edit, "inpainting": inpainting}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", choices=list(MAKERS), help="remake only these tabs' examples")
    args = p.parse_args()
    torch.manual_seed(0)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    for key in args.only or MAKERS:
        try:
            manifest[key] = [{"file": f, "caption": c} for f, c in MAKERS[key]()]
        except Exception as e:  # noqa: BLE001 - e.g. a model not shipped in this checkout: keep the old files
            print(f"{key}: skipped ({type(e).__name__}: {e})")
            continue
        print(f"{key}: " + ", ".join(item["file"] for item in manifest[key]))
    MANIFEST.write_text(json.dumps({k: manifest[k] for k in MAKERS if k in manifest}, ensure_ascii=False, indent=1)
                        + "\n")
    total = sum(f.stat().st_size for f in HERE.glob("*.webp"))
    print(f"{total / 1024:.0f} KB of examples in {HERE}")


if __name__ == "__main__":
    main()
