"""The shipped models: size budget, model card figures, and quality on real data when present."""
from __future__ import annotations

import re

import pytest

from core.checkpoint import is_checkpoint, load_checkpoint
from core.data.paired import PairedDataset
from core.registry import CHECKPOINTS, REGISTRY, get_spec
from tests.conftest import needs_shared_data, shared

pytestmark = pytest.mark.shipped
SHIPPED = [name for name in REGISTRY if is_checkpoint(CHECKPOINTS / name)]


def test_checkpoints_fit_the_budget():
    total = sum(p.stat().st_size for p in CHECKPOINTS.rglob("*") if p.is_file())
    # The guide's ceiling is ~100 MB for all of checkpoints/ (git keeps every version); 93 leaves room below it:
    # 87.6 MB with faces v2, the discriminators the tabs show and every served model's training time-lapse
    # (issue 18; re-runs ship theirs at most 0.8 MB each: docs/DESIGN.md), 91.5 MB with the arithmetic pool's
    # labels beside both faces models (1.9 MB each, fp32: core/pipelines/shipped_pool.py says why not fp16).
    assert total <= 93e6, f"checkpoints/ holds {total / 1e6:.1f} MB"
    for name in SHIPPED:
        assert (CHECKPOINTS / name / "model.safetensors").stat().st_size <= 12.5e6


def test_every_served_model_ships_a_time_lapse():
    """Issue 18, part 4: the "How it learned" tab has every model a visitor can use."""
    from core.pipelines import timelapse as reader

    served = [n for n in SHIPPED if not get_spec(n).comparison_only]
    assert len(served) >= 11
    assert [n for n in served if n not in reader.available()] == []


@pytest.mark.parametrize("name", [n for n in SHIPPED if (CHECKPOINTS / n / "timelapse").is_dir()])
def test_a_shipped_time_lapse_reads_cleanly_within_its_cap(name):
    from core.pipelines import timelapse as reader
    from core.train import timelapse as tl

    lapse = reader.read(name)
    assert len(lapse) >= 12 and lapse.losses, "a time-lapse has a few dozen frames and the loss curves"
    assert tl.folder_bytes(CHECKPOINTS / name / "timelapse") <= tl.MAX_BYTES
    assert all(reader.view(name, i).frame.size[0] > 0 for i in (0, len(lapse) - 1))
    # The card says where the frames are and, for a re-run's frames, both runs' figures as the note does.
    card = (CHECKPOINTS / name / "MODEL_CARD.md").read_text()
    assert "`timelapse/`" in card
    if "re-run" in lapse.note:
        assert "re-run" in card and "docs/results/" in card.split("`timelapse/`", 1)[1]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_and_has_a_card_with_figures(name):
    nets, meta = load_checkpoint(CHECKPOINTS / name)
    assert set(nets) == set(get_spec(name).shipped)
    card = (CHECKPOINTS / name / "MODEL_CARD.md").read_text()
    figures = {"pix2pix": ("fd_eff", "ssim", "psnr"), "cyclegan": ("zebra_rate", "horse_rate", "cycle_psnr", "fd_eff"),
               "dcgan": ("fd_eff", "kid_eff", "arithmetic_success"), "attributes": ("accuracy", "baseline"),
               "vaegan": ("fd_eff", "kid_eff", "arithmetic_success", "attribute agreement", "midpoints"),
               "colorization": ("gap_recovered", "psnr", "colourfulness"),
               "inpainting": ("hole PSNR", "FD_eff", "biharmonic", "GAN prior"),
               "face_text": ("zero-shot", "retrieval", "target_success")}
    for key in (*figures[get_spec(name).task], "wall-clock", "licen"):
        assert re.search(key, card, re.IGNORECASE), f"model card lacks {key}"


@needs_shared_data
def test_the_shared_set_is_photo_left():
    ds = PairedDataset(shared("edges2shoes_handbags", "val"), photo_left=True, augment=False)
    item = ds[0]
    assert (item["A"] > 0.9).float().mean() > 0.7  # edges: mostly white paper
    assert item["B"].std() > 0.2  # a photo


@needs_shared_data
@pytest.mark.skipif("sketch2photo" not in SHIPPED, reason="sketch2photo not shipped")
def test_sketch2photo_quality_on_val():
    from core.eval.pix2pix import evaluate

    m = evaluate(get_spec("sketch2photo"), shared("edges2shoes_handbags", "val"), CHECKPOINTS / "sketch2photo",
                 photo_left=True, limit=48)
    # Thresholds well inside the figures in the model card (measured on all 300 val pairs).
    # (measured on these 48 at release: SSIM 0.709, PSNR 16.3 dB, L1 0.088)
    assert m["ssim"] > 0.65 and m["psnr"] > 15 and m["l1"] < 0.11, m


@needs_shared_data
@pytest.mark.skipif("horse2zebra" not in SHIPPED, reason="horse2zebra not shipped")
@pytest.mark.slow  # 26-50 s
def test_horse2zebra_quality_on_held_out_photos():
    from core.eval.cyclegan import evaluate

    m = evaluate(get_spec("horse2zebra"), None, CHECKPOINTS / "horse2zebra", limit=30)
    # First 30 held-out photos of each kind (at release: zebra rate 0.90, cycle PSNR 22.2 dB;
    # all 403 horses: 0.91 / 22.3 dB). Untouched horses are almost never called zebras.
    assert m["zebra_rate"] >= 0.75 and m["cycle_psnr"] >= 21 and m["zebra_rate_of_inputs"] <= 0.1, m


@needs_shared_data
@pytest.mark.skipif(not {"faces_v2", "face_attributes"} <= set(SHIPPED), reason="faces_v2 or the classifier not shipped")
def test_faces_v2_reconstructs_held_out_faces_the_classifier_still_recognises():
    import torch

    from core.eval.faces import eval_faces
    from core.eval.faces_v2 import reconstruction
    from core.pipelines.face_attributes import AttributeClassifier
    from core.pipelines.faces import FacesPipeline

    spec = get_spec("faces_v2")
    ds = eval_faces(spec, spec.data.train, "val")
    real = torch.stack([ds[i]["image"] for i in range(64)])
    pipe = FacesPipeline.from_checkpoint(CHECKPOINTS / "faces_v2")
    m = reconstruction(real, pipe.decode(pipe.encode(real)),
                       AttributeClassifier.from_checkpoint(CHECKPOINTS / "face_attributes"))
    # The first 64 of the 900 held-out faces (all 900 at release: agreement 0.927, 18.4 dB).
    assert m["rec_attribute_agreement"] >= 0.85 and m["rec_psnr"] >= 17, m


@needs_shared_data
@pytest.mark.skipif("face_attributes" not in SHIPPED, reason="face_attributes not shipped")
def test_face_attribute_accuracy_on_held_out_faces():
    from core.eval.attributes import evaluate

    m = evaluate(get_spec("face_attributes"), shared("celeba", "img"), CHECKPOINTS / "face_attributes")
    # 613 held-out faces (at release: 0.917 / 0.959 / 0.977; majority baselines 0.50 / 0.58 / 0.93).
    assert m["n"] > 500 and m["accuracy_Smiling"] > 0.88 and m["accuracy_Male"] > 0.92, m
    assert m["accuracy_Eyeglasses"] > m["majority_baseline_Eyeglasses"] + 0.02, m
    # It judges generated faces, which are blurrier: blurred + noised faces must not fool it (at
    # release 0.939 over the 9 reported attributes; a classifier trained on clean photos only: 0.844).
    assert m["accuracy_degraded_reported_mean"] > 0.9, m


@pytest.mark.skipif(not all(n in SHIPPED for n in ("faces", "face_attributes")), reason="faces models not shipped")
def test_faces_gan_covers_men_and_glasses():
    """Mode coverage by our classifier on 1,000 samples (at release: 51 % men, 5.3 % glasses over
    5,000 by the first classifier; see docs/results/faces_eval.json for the current one's). A GAN that drops a mode fails this (the first model: 5 %, 0 %)."""
    import torch

    from core.pipelines.face_arithmetic import AttributeClassifier
    from core.pipelines.faces import FacesPipeline

    pipe = FacesPipeline.from_checkpoint(CHECKPOINTS / "faces")
    clf = AttributeClassifier.from_checkpoint(CHECKPOINTS / "face_attributes")
    z = torch.randn(1000, pipe.z_dim, generator=torch.Generator().manual_seed(0))
    p = clf.probabilities(torch.cat([pipe.decode(c) for c in z.split(250)]))
    shares = clf.shares(p, ("Male", "Eyeglasses"))
    male, glasses = shares["Male"], shares["Eyeglasses"]
    assert 0.25 <= male <= 0.75 and 0.02 <= glasses <= 0.15, (male, glasses)


@pytest.mark.skipif(not all(n in SHIPPED for n in ("faces", "face_attributes")), reason="faces models not shipped")
def test_preset_arithmetic_beats_chance_and_mean_faces_show_their_concept():
    """The shipped pair, as the vector-arithmetic tab uses it: each preset's A - B + C has the intended
    attributes far more often than a random face (100 draws: 0.68 vs 0.18 and 0.38 vs 0.012;
    docs/results/faces_eval.json), and the mean faces shown for A, B and C look like what they stand
    for (on the prior's shell; decoded as plain means, 'neutral woman' did in 11 % of draws)."""
    import torch

    from core.pipelines.face_arithmetic import PRESETS, FaceArithmetic, load_classifier
    from core.pipelines.faces import load as load_faces

    arith = FaceArithmetic(load_faces(), load_classifier())  # the 12,000-face pool the tab uses
    for preset in PRESETS.values():
        results = [arith.combine(arith.draw(preset, seed)) for seed in range(30)]
        success = float(arith.satisfied(arith.judge(torch.stack([r.result for r in results])), preset.expect).float().mean())
        assert success >= max(2 * arith.base_rate(preset), 0.1), (preset.name, success)
        means = torch.stack([r.mean_faces() for r in results])  # [30, 3, D]
        for i, concept in enumerate((preset.A, preset.B, preset.C)):
            shown = float(arith.satisfied(arith.judge(means[:, i]), concept.attrs).float().mean())
            assert shown >= 0.85, (concept.label, shown)


@needs_shared_data
@pytest.mark.skipif("inpainting" not in SHIPPED, reason="inpainting not shipped")
@pytest.mark.slow  # 26-50 s
def test_inpainting_beats_the_classical_baseline_on_held_out_faces():
    from core.eval.inpainting import evaluate

    m = evaluate(get_spec("inpainting"), None, CHECKPOINTS / "inpainting", limit=60, run_prior=False)
    # 60 of the 900 held-out faces (all 900 at release: centre 19.67 vs 14.03 dB, FD_eff 9.5 vs 97.2;
    # free-form 20.44 vs 19.96 dB). The goal: at least 3 dB better on centre squares.
    centre, free = m["center"], m["free"]
    assert centre["hole_psnr"] >= centre["baseline_hole_psnr"] + 3, centre
    # Wall clock here is only a sanity bound: the suite may share the 2 cores with a training (a mean of 50+ ms
    # was seen then); the latency goal (< 50 ms) is the eval's figure on a quiet machine (docs/results/).
    assert centre["fd_eff"] < centre["baseline_fd_eff"] / 2 and centre["ms_per_fill"] < 200, centre
    assert free["hole_psnr"] > free["baseline_hole_psnr"], free
