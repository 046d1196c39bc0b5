"""The one registry of demo models: name -> task, net configs, data, checkpoint dir, defaults.

The app, the admin tab, the training and eval CLIs and the tests all read `REGISTRY`. A new
model is a new entry here (plus its net config, training step, pipeline and tab).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .nets import (AttributeNetConfig, ColorizationNetConfig, DCGANDiscriminatorConfig, DCGANGeneratorConfig, PatchGANConfig,
                   ResnetConfig, UNetConfig)
from .nets.encoder import FaceEncoderConfig, LatentGaussianConfig
from .nets.face_text import FaceTextNetConfig
from .nets.inpainting import InpaintingNetConfig

ROOT = Path(__file__).resolve().parent.parent
# LAB_CHECKPOINTS lets tests (and users with their own models) serve another folder.
CHECKPOINTS = Path(os.environ.get("LAB_CHECKPOINTS", ROOT / "checkpoints"))
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class DataSpec:
    """Where a model's training and validation data live and how to read them."""

    train: Path | None
    val: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    task: str  # key of core.train.tasks.TASKS
    nets: dict[str, Any]  # net name -> frozen net config (G, D, ...)
    shipped: tuple[str, ...]  # nets written to the shipped checkpoint
    data: DataSpec
    train_defaults: dict[str, Any] = field(default_factory=dict)  # the loop's (TrainConfig) overrides
    task_params: dict[str, Any] = field(default_factory=dict)  # overrides of the task's Params defaults
    comparison_only: bool = False  # trained for a measured comparison (docs/RESULTS.md), never shipped

    @property
    def checkpoint_dir(self) -> Path:
        return CHECKPOINTS / self.name


_SKETCH_DATA = DataSpec(
    train=SHARED_DATA / "edges2shoes_handbags" / "train",
    val=SHARED_DATA / "edges2shoes_handbags" / "val",
    options={"photo_left": True, "input_mode": "edges"},
)
_SKETCH_G = UNetConfig(in_channels=1, out_channels=3, base_channels=32, max_channels=160, num_downs=7,
                       upsample="transpose")
_SKETCH_D = PatchGANConfig(in_channels=1 + 3, base_channels=32, num_layers=3)

# Colour hints against the "pale ghosts" (issue #19): a sparse outline leaves the colour open and the model
# answers with the data's commonest shoe (white or grey); with a hint map (RGB + mask; washes of colour over
# the object or brush strokes of it, core/train/tasks/pix2pix.py) a person says the colour. G takes the sketch
# and the 4 hint channels; 30 % of the items come without hints, so "auto" still works. The shipped weights
# were made in three stages (its model card): 14,000 steps without hints (G with in_channels=1), then 3,000
# with them from those weights (hint weights starting at zero: Pix2PixTask.warm_start), lr_D 1e-4; both with
# transposed convolutions up. Stage 3 turns every decoder level into the closest resize-conv (bilinear 2x + 3x3,
# which cannot make a checkerboard; core/train/resize_upsampling.py) and trains on for 2,000 steps:
#   python -m core.train sketch2photo_stage1 --run-dir RUN_OF_STAGE_1
#   python -m core.train sketch2photo_stage2 --steps 3000 --set init_from=RUN_OF_STAGE_1 --set lr_D=1e-4 --run-dir RUN_OF_STAGE_2
#   python -m core.train.resize_upsampling RUN_OF_STAGE_2/checkpoint CONVERTED --upsample bilinear
#   python -m core.train sketch2photo --steps 2000 --precision fp32 --set init_from=CONVERTED --set lr_D=1e-4
SKETCH2PHOTO = ModelSpec(
    name="sketch2photo",
    title="Sketch to photo (pix2pix, with colour hints)",
    task="pix2pix",
    # Sized for the CPU (bench/train_precision.py, docs/RESULTS.md): 3.4 M params = 6.9 MB fp16.
    nets={"G": replace(_SKETCH_G, in_channels=1 + 4, upsample="bilinear"), "D": _SKETCH_D},
    shipped=("G", "D"),  # D (0.7 M params, 1.4 MB fp16) for the tab's per-patch verdicts (issue 18)
    data=_SKETCH_DATA,
    train_defaults={"image_size": 128, "batch_size": 8, "steps": 14_000, "num_workers": 1, "eval_every": 500},
    # Half the inputs look like a person's drawing (core/data/drawing_style.py), half are the dataset's maps.
    task_params={"drawing_share": 0.5, "hint_free_share": 0.3, "hint_wash_share": 0.7},
)

# Stage 1 of the shipped weights (above): the same nets and data without the hint channels. Never served itself.
SKETCH2PHOTO_STAGE1 = replace(SKETCH2PHOTO, name="sketch2photo_stage1",
                              title="Sketch to photo, stage 1 of the shipped model (no hints)",
                              nets={"G": _SKETCH_G, "D": _SKETCH_D}, task_params={"drawing_share": 0.5},
                              comparison_only=True)
# Stage 2: the hinted G, still with transposed convolutions (stage 3 converts it). Never served itself.
SKETCH2PHOTO_STAGE2 = replace(SKETCH2PHOTO, name="sketch2photo_stage2",
                              title="Sketch to photo, stage 2 of the shipped model (hints, transposed convs)",
                              nets={"G": replace(_SKETCH_G, in_channels=1 + 4), "D": _SKETCH_D}, comparison_only=True)

# Stage 3 as shipped from 2026-12-01 to 12-02: nearest instead of bilinear upsampling (nearest 2x + 3x3 conv),
# converted from stage 2 without --upsample, then trained on as above. Kept to measure the two against each other;
# its weights are checkpoints/sketch2photo at commit 8d7bef0 (pass them with --checkpoint).
SKETCH2PHOTO_NEAREST = replace(SKETCH2PHOTO, name="sketch2photo_nearest",
                               title="Sketch to photo, stage 3 with nearest upsampling (comparison)",
                               nets={"G": replace(_SKETCH_G, in_channels=1 + 4, upsample="resize"), "D": _SKETCH_D},
                               comparison_only=True)

# The lecture's ablation (pix2pix paper, fig. 4): the same nets and data with one loss term
# switched off. Shorter runs: the point (L1 alone is blurry and grey, the cGAN alone sharp but
# wrong) shows long before the full schedule. Without colour hints (they are not the point here).
def _sketch_ablation(name: str, title: str, **task_params: float) -> ModelSpec:
    return ModelSpec(
        name=name, title=title, task="pix2pix",
        nets={"G": _SKETCH_G, "D": _SKETCH_D},  # with lambda_gan = 0, D is built but never trained
        shipped=("G",), data=_SKETCH_DATA,
        train_defaults={"image_size": 128, "batch_size": 8, "steps": 4_000, "num_workers": 1, "eval_every": 500,
                        "sample_every": 125},  # 32 time-lapse frames
        task_params={"drawing_share": 0.5, **task_params},
    )


SKETCH2PHOTO_L1 = _sketch_ablation("sketch2photo_l1", "Sketch to photo, L1 loss only (ablation)", lambda_gan=0.0)
SKETCH2PHOTO_CGAN = _sketch_ablation("sketch2photo_cgan", "Sketch to photo, cGAN loss only (ablation)", lambda_L1=0.0)
# The reference recipe (junyanz/pytorch-CycleGAN-and-pix2pix defaults) in this project's code:
# U-Net 256 with 64 base filters, batch 1, fp32, Adam 2e-4 / beta1 0.5, lambda_L1 100, 70x70
# PatchGAN with 64 filters, 286 -> 256 jitter. Trained only for the equal-time comparison
# (docs/RESULTS.md); at 54 M parameters (109 MB in fp16) it is never shipped. `steps` is set per
# run to what fits the shipped model's wall-clock (bench/train_precision.py gives the rate).
SKETCH2PHOTO_REFERENCE = ModelSpec(
    name="sketch2photo_reference",
    title="Sketch to photo, reference pix2pix recipe (comparison only)",
    task="pix2pix",
    nets={"G": UNetConfig(in_channels=1, out_channels=3, base_channels=64, max_channels=512, num_downs=8,
                          upsample="transpose"),
          "D": PatchGANConfig(in_channels=1 + 3, base_channels=64, num_layers=3)},
    shipped=("G",),
    data=_SKETCH_DATA,
    train_defaults={"image_size": 256, "batch_size": 1, "steps": 5_000, "precision": "fp32", "num_workers": 1,
                    "eval_every": 1000, "sample_every": 500},
    task_params={"drawing_share": 0.5},
    comparison_only=True,
)

_CYCLE_G = ResnetConfig(in_channels=3, out_channels=3, base_channels=32, num_blocks=6)  # 2.0 M params each
_CYCLE_D = PatchGANConfig(in_channels=3, base_channels=32, num_layers=3, norm="instance")
HORSE2ZEBRA = ModelSpec(
    name="horse2zebra",
    title="Horse to zebra (CycleGAN)",
    task="cyclegan",
    nets={"G_A": _CYCLE_G, "G_B": _CYCLE_G, "D_A": _CYCLE_D, "D_B": _CYCLE_D},
    shipped=("G_A", "G_B", "D_A", "D_B"),  # the Ds for the tab's per-patch verdicts (issue 18)
    data=DataSpec(
        train=None,  # two unpaired collections, each several folders; 10% of each held out
        options={"A": [SHARED_DATA / "horses" / "hcaptcha", SHARED_DATA / "horses" / "weizmann"],
                 "B": [SHARED_DATA / "zebras" / "crops", SHARED_DATA / "zebras" / "photos",
                       SHARED_DATA / "zebras" / "imagenet"],
                 "holdout": 0.1},
    ),
    # Step rates and the wall-clock of 8k steps: docs/RESULTS.md (CycleGAN).
    train_defaults={"image_size": 128, "batch_size": 1, "steps": 8_000, "sample_every": 250, "eval_every": 1000,
                    "num_workers": 1},
)

_CELEBA = SHARED_DATA / "celeba"
# The face square the faces models are cut with (the GANs, the text encoder, inpainting; the classifier's task
# uses core.data.faces' defaults, the same square), so each can read or fill the others' faces.
_FACE_CROP = {"crop_fraction": 0.72, "center_y": 0.55}
FACES = ModelSpec(
    name="faces",
    title="Faces (DCGAN)",
    task="dcgan",
    nets={"G": DCGANGeneratorConfig(z_dim=100, base_channels=64),  # 3.6 M params
          "D": DCGANDiscriminatorConfig(base_channels=64, norm="none", spectral=True)},
    shipped=("G",),
    # Glasses wearers (labelled ones) are shown 4x: without it the GAN made almost no glasses (docs/RESULTS.md).
    data=DataSpec(train=_CELEBA / "img", options={**_FACE_CROP,
                                                  "attributes": _CELEBA / "list_attr_celeba.txt",
                                                  "repeat": {"Eyeglasses": 4}}),
    # DiffAugment: 9000 faces are few for a GAN; without it G dropped men and glasses (docs/RESULTS.md).
    train_defaults={"image_size": 64, "batch_size": 64, "steps": 10_000, "decay_from": 0.5, "sample_every": 250,
                    "eval_every": 1000, "eval_images": 256, "num_workers": 1},
    task_params={"diffaug": "color,translation,cutout"},
)
# Faces v2 (issue #17): a VAE-GAN (Larsen et al. 2016) so that a real photo has a latent; the DCGAN's G as its
# decoder, an encoder shaped like its D, and the code Gaussian fitted after the fact ("P", core/nets/encoder.py).
# 10 % of the faces (the last files) are held out for the eval.
FACES_V2 = ModelSpec(
    name="faces_v2",
    title="Faces v2 (VAE-GAN: encoder + generator)",
    task="vaegan",
    nets={"E": FaceEncoderConfig(z_dim=128, base_channels=32),  # 1.7 M params; with G 5.6 M = 11.1 MB fp16
          "G": DCGANGeneratorConfig(z_dim=128, base_channels=64),
          "D": DCGANDiscriminatorConfig(base_channels=64, norm="none", spectral=True),
          "P": LatentGaussianConfig(z_dim=128)},
    shipped=("E", "G", "P"),
    data=DataSpec(train=_CELEBA / "img", options={**FACES.data.options, "holdout": 0.1}),
    # 7,000 steps: the shipped run's (3 h 49 min on one to two busy cores; planned as 8,000 and shortened
    # before its learning-rate decay began, so the defaults reproduce it).
    train_defaults={"image_size": 64, "batch_size": 64, "steps": 7_000, "decay_from": 0.5, "sample_every": 250,
                    "eval_every": 500, "eval_images": 256, "num_workers": 1},
    task_params={"diffaug": "color,translation,cutout"},
)
FACE_ATTRIBUTES = ModelSpec(
    name="face_attributes",
    title="Face attribute classifier",
    task="attributes",
    nets={"C": AttributeNetConfig(num_outputs=40, base_channels=32)},
    shipped=("C",),
    data=DataSpec(train=_CELEBA / "img",
                  options={"attributes": _CELEBA / "list_attr_celeba.txt", "holdout": 0.1}),
    # degrade: it judges generated faces, which are blurrier than photos; without it, blurred and noised
    # faces lost a tenth of the held-out accuracy, with it almost none (docs/RESULTS.md).
    train_defaults={"image_size": 64, "batch_size": 64, "steps": 2000, "decay_from": 0.5, "sample_every": 50,
                    "eval_every": 500, "eval_images": 600},
    task_params={"degrade": 0.5},
)
# Text-score edit (issue 16, phase 3): a face encoder trained contrastively (CLIP's loss, the text side frozen:
# MiniLM embeddings of captions built from the CelebA attributes, core/data/face_captions.py) on the classifier's
# labelled faces, cut as the faces GAN's, with the same held-out 10 %. 1.5 M params (3.0 MB fp16).
FACE_TEXT = ModelSpec(
    name="face_text",
    title="Face-text encoder (contrastive, for the text-score edit)",
    task="face_text",
    nets={"E": FaceTextNetConfig(base_channels=32, embed_dim=384)},
    shipped=("E",),
    data=DataSpec(train=_CELEBA / "img",
                  options={"attributes": _CELEBA / "list_attr_celeba.txt", "holdout": 0.1, **_FACE_CROP}),
    # degrade (as the classifier): the edit scores generated faces, which are blurrier than photos. 2,200 steps:
    # 22 min on one thread of a busy 2-core machine (bf16, 1.5-2 steps/s).
    train_defaults={"image_size": 64, "batch_size": 64, "steps": 2200, "decay_from": 0.5, "beta1": 0.9,
                    "sample_every": 55, "eval_every": 220, "eval_images": 613, "num_workers": 1},
    task_params={"degrade": 0.5},
)

# Colorization (issue #14): one task, three losses on the same data; cls and cgan share the generator body and
# a wall-clock budget for the comparison. 5 % of every folder (by file-name hash) is never trained on.
_COLOUR_DATA = DataSpec(
    train=None,  # several folders of colour photos, and the photo half of the shoe/handbag pairs
    options={"photos": [SHARED_DATA / "flowers102" / "jpg", _CELEBA / "img", SHARED_DATA / "horses" / "hcaptcha",
                        SHARED_DATA / "horses" / "weizmann", SHARED_DATA / "zebras" / "imagenet",
                        SHARED_DATA / "zebras" / "crops"],
             "left_halves": [SHARED_DATA / "edges2shoes_handbags" / "train"],
             "holdout": 0.05},
)
# 4.0 M params (8.1 MB fp16) with either head; Q = 261 ab bins of the sRGB gamut (core.data.colour.gamut_bins).
_COLOUR_G = ColorizationNetConfig(in_channels=4, base_channels=32, max_channels=192, num_downs=4, dilated_blocks=2,
                                  head_channels=96)
# Step rates, batch 16 at 128 px, one thread on a busy 2-core machine (about half the idle rate): l2 (the small
# net) 4.7/s, classification 1.0/s, cgan 1.16/s; the steps give cls and cgan ~30-40 min each idle (equal budget).
_COLOUR_TRAIN = {"image_size": 128, "batch_size": 16, "steps": 4500, "num_workers": 1, "eval_every": 1000,
                 "eval_images": 200, "sample_every": 150}


def _colorization(name: str, title: str, loss: str, comparison_only: bool, G: dict[str, Any] | None = None,
                  **overrides: Any) -> ModelSpec:
    head = {"head": "classification", "num_bins": 261} if loss == "classification" else {}
    nets = {"G": replace(_COLOUR_G, **head, **(G or {}))}
    if loss == "cgan":
        nets["D"] = PatchGANConfig(in_channels=1 + 2, base_channels=32, num_layers=3)
    return ModelSpec(name=name, title=title, task="colorization", nets=nets, shipped=("G",), data=_COLOUR_DATA,
                     train_defaults={**_COLOUR_TRAIN, **overrides.pop("train", {})},
                     task_params={"loss": loss, **overrides}, comparison_only=comparison_only)


# The lecture's baseline: L2 regression averages the plausible colours into sepia, whatever the net's size.
# Shipped for the tab, so small: 1.0 M params (2.0 MB fp16); checkpoints/ as a whole must stay under 80 MB.
COLORIZATION_L2 = _colorization("colorization_l2", "Colorization, L2 regression (baseline)", "l2", False,
                                G={"base_channels": 16, "max_channels": 96, "head_channels": 32},
                                train={"beta1": 0.9, "steps": 6000})
COLORIZATION_CLS = _colorization("colorization_cls", "Colorization, classification + rebalancing (Zhang 2016)",
                                 "classification", True, train={"beta1": 0.9})
COLORIZATION_CGAN = _colorization("colorization_cgan", "Colorization, cGAN + L1 (pix2pix)", "cgan", True,
                                  train={"steps": 5000})
# Zhang's classification on an ImageNet encoder (EfficientNet-Lite0, fine-tuned at a tenth of the rate; Larsson et
# al. 2016): the object decides the colour, and 22,505 photos teach too few objects from scratch. 4.5 M params
# (9.0 MB fp16). NB the semantic test's classifier is the same network before fine-tuning (docs/RESULTS.md).
COLORIZATION_EFF = _colorization("colorization_eff", "Colorization, classification on an EfficientNet-Lite0 encoder",
                                 "classification", True,
                                 G={"backbone": "efficientnet_lite0", "max_channels": 256, "head_channels": 64},
                                 train={"beta1": 0.9, "steps": 3000})
# The same with the hint map read by every decoder level (mask-normalised pooling): colorization_eff left its hints
# nearly unused in 3,000 steps (docs/RESULTS.md). Equal steps, to isolate that change.
COLORIZATION_EFF_HINTS = _colorization("colorization_eff_hints", "Colorization, EfficientNet-Lite0 encoder, hints at "
                                       "every decoder level", "classification", True,
                                       G={"backbone": "efficientnet_lite0", "max_channels": 256, "head_channels": 64,
                                          "hint_levels": 4},
                                       train={"beta1": 0.9, "steps": 3000})
# The same body with a small encoder trained from scratch on (L, hints) beside it (hint_branch): both eff runs
# above kept their hints nearly unused, the from-scratch net (whose encoder sees the hints from its first
# layer) did not. Equal steps again. 5.2 M params (10.5 MB fp16).
COLORIZATION_EFF_BRANCH = _colorization("colorization_eff_branch", "Colorization, EfficientNet-Lite0 encoder and a "
                                        "hint encoder", "classification", True,
                                        G={"backbone": "efficientnet_lite0", "max_channels": 256, "head_channels": 64,
                                           "hint_branch": 24},
                                        # Samples every 100 steps: 30 time-lapse frames from one 3,000-step run
                                        # (the shipped runs used 150: their card's commands say so).
                                        train={"beta1": 0.9, "steps": 3000, "sample_every": 100})
# The shipped model (2026-12-01): the hint-encoder net, trained in two stages (this entry's 3,000 steps, then
# 3,000 more from them with hint_free_share 0.3; checkpoints/colorization/MODEL_CARD.md). It recovers more of the
# semantic gap than the from-scratch classification net (cls, shipped before: it beat the cGAN on colour) with
# hints as strong (python -m core.eval; docs/RESULTS.md).
COLORIZATION = replace(COLORIZATION_EFF_BRANCH, name="colorization",
                       title="Colorization (Zhang 2016 on an ImageNet encoder, with hints)", comparison_only=False)

REGISTRY: dict[str, ModelSpec] = {spec.name: spec for spec in [
    SKETCH2PHOTO, SKETCH2PHOTO_STAGE1, SKETCH2PHOTO_STAGE2, SKETCH2PHOTO_NEAREST, SKETCH2PHOTO_L1, SKETCH2PHOTO_CGAN, SKETCH2PHOTO_REFERENCE, HORSE2ZEBRA, FACES, FACES_V2, FACE_ATTRIBUTES,
    FACE_TEXT,
    COLORIZATION, COLORIZATION_L2, COLORIZATION_CLS, COLORIZATION_CGAN, COLORIZATION_EFF, COLORIZATION_EFF_HINTS,
    COLORIZATION_EFF_BRANCH]}


# Inpainting (issue #15): the faces, cut exactly as for the faces GAN (so its prior can fill the same holes), at
# 64 px (the crop is 64 px wide in the 89 x 109 CelebA photos: the largest square without upsampling). The last
# 10 % of the sorted files are never trained on (the eval's default set). 1.0 M params (2.0 MB fp16), about 6 ms
# per fill on one thread in bf16; D: SN-PatchGAN (Yu et al. 2019) on the completed face + the mask.
INPAINTING = ModelSpec(
    name="inpainting",
    title="Inpainting (context encoder + SN-PatchGAN)",
    task="inpainting",
    nets={"G": InpaintingNetConfig(in_channels=4, base_channels=32, max_channels=128, num_downs=2, dilated_layers=4),
          "D": PatchGANConfig(in_channels=3 + 1, base_channels=32, num_layers=3, norm="none", spectral=True)},
    shipped=("G",),
    data=DataSpec(train=_CELEBA / "img", options={**_FACE_CROP, "holdout": 0.1}),
    # 5,000 steps: 1 h 45 min on one thread beside other jobs (planned for 90 min; docs/DESIGN.md, "Inpainting").
    train_defaults={"image_size": 64, "batch_size": 32, "steps": 5000, "num_workers": 1, "sample_every": 125,
                    "checkpoint_every": 250, "eval_every": 500, "eval_images": 256},
)
REGISTRY[INPAINTING.name] = INPAINTING


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}") from None
