"""Writes the colorization tab's example photos, all made by this project's own models and code (no
dataset image is committed): faces from the faces GAN, a shoe and a handbag from sketch2photo (the
drawings made in code), and a meadow painted in code. Run from the repository root:

    python -m demos.assets.colorization.make_examples
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from core.data.scenes import paint_horse
from core.data.sketches import draw
from core.pipelines.faces import FacesPipeline
from core.pipelines.sketch2photo import Sketch2PhotoPipeline
from core.registry import get_spec

HERE = Path(__file__).resolve().parent
SIZE = 192


def main() -> None:
    faces = FacesPipeline.from_checkpoint(get_spec("faces").checkpoint_dir)
    for seed in (11, 105):
        faces.images(faces.z(seed)[None], size=SIZE)[0].save(HERE / f"face_{seed}.png")
    sketch = Sketch2PhotoPipeline.from_checkpoint(get_spec("sketch2photo").checkpoint_dir, precision="fp32")
    for i, name in ((1, "boot"), (2, "handbag")):
        with torch.inference_mode():
            y = (sketch.run(sketch.prepare(draw(name, seed=i))) * 0.5 + 0.5).clamp(0, 1)[0]
        im = Image.fromarray((y.permute(1, 2, 0) * 255).round().byte().numpy())
        im.resize((SIZE, SIZE), Image.BICUBIC).save(HERE / f"{name}.png")
    paint_horse((288, 192), seed=3).save(HERE / "meadow.png")


if __name__ == "__main__":
    main()
