"""Faces: DCGAN and attribute classifier parts on a synthetic CelebA-style folder."""
import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from core.checkpoint import load_checkpoint
from core.data.faces import FaceDataset, read_attributes
from core.nets import AttributeNetConfig, DCGANDiscriminatorConfig, DCGANGeneratorConfig, build_net
from core.registry import DataSpec, get_spec
from core.train import TrainConfig, config_for, train
from core.train.events import read_events


def _celeba(tmp_path, n=12, labelled=8):
    img = tmp_path / "img"
    img.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, n + 1):
        Image.fromarray(rng.integers(0, 255, (109, 89, 3), dtype=np.uint8)).save(img / f"{i:06d}.jpg")
    names = ["Smiling", "Male", "Eyeglasses"]
    rows = [f"{i:06d}.jpg " + " ".join(rng.choice(["1", "-1"], len(names))) for i in range(1, labelled + 1)]
    (tmp_path / "attrs.txt").write_text(f"{labelled}\n{' '.join(names)}\n" + "\n".join(rows) + "\n")
    return img, tmp_path / "attrs.txt"


def test_dcgan_shapes():
    G = build_net(DCGANGeneratorConfig(z_dim=16, base_channels=8))
    D = build_net(DCGANDiscriminatorConfig(base_channels=8))
    x = G(torch.randn(3, 16))
    assert x.shape == (3, 3, 64, 64) and x.abs().max() <= 1
    assert D(x).shape == (3,)


def test_face_dataset_and_attributes(tmp_path):
    img, attrs = _celeba(tmp_path)
    names, table = read_attributes(attrs)
    assert names == ["Smiling", "Male", "Eyeglasses"] and len(table) == 8
    ds = FaceDataset(img, attrs, labelled_only=True, split="train", holdout=0.25)
    assert len(ds) == 6 and ds[0]["image"].shape == (3, 64, 64) and set(ds[0]["attrs"].tolist()) <= {0.0, 1.0}
    unlabelled = FaceDataset(img, attrs)
    assert (unlabelled[11]["attrs"] == -1).all()
    # Rare attributes can be shown more often: every labelled image with glasses 3 times.
    glasses = sum(int(row[2]) for row in table.values())
    repeated = FaceDataset(img, attrs, repeat={"Eyeglasses": 3})
    assert len(repeated) == 12 + 2 * glasses
    assert FaceDataset(img, None, repeat={"Eyeglasses": 3}).files == unlabelled.files  # no list: no repeats


TINY = dict(steps=2, batch_size=4, image_size=64, log_every=1, sample_every=2, checkpoint_every=2, num_workers=0,
            eval_every=0)


def _config(spec, **changes) -> TrainConfig:
    """The tiny run's config for `spec` (EMA 0.9 for the GAN: the average moves within 2 steps)."""
    extra = {"ema_decay": 0.9, "diffaug": ""} if spec.task == "dcgan" else {}
    return config_for(spec, **{**TINY, **extra, **changes})


def _tiny_faces(img):
    """The faces spec with tiny nets, training on `img`."""
    return dataclasses.replace(get_spec("faces"), data=DataSpec(train=img),
                               nets={"G": DCGANGeneratorConfig(z_dim=8, base_channels=8),
                                     "D": DCGANDiscriminatorConfig(base_channels=8)})


def test_dcgan_and_classifier_train_and_ship(tmp_path):
    img, attrs = _celeba(tmp_path)
    faces = _tiny_faces(img)
    run = train(faces, _config(faces, diffaug="color,translation,cutout"), run_dir=tmp_path / "gan")
    nets, _ = load_checkpoint(run / "checkpoint")
    assert set(nets) == {"G"}  # the EMA generator, under the name the pipeline expects
    classifier = dataclasses.replace(get_spec("face_attributes"),
                                     data=DataSpec(train=img, options={"attributes": attrs, "holdout": 0.25}),
                                     nets={"C": AttributeNetConfig(num_outputs=3, base_channels=4)})
    # degrade: the classifier also sees faces shifted, blurred, colour-cast and noised like generated ones
    run = train(classifier, _config(classifier, eval_every=2, eval_images=2, degrade=0.5), run_dir=tmp_path / "clf")
    evals = [e for e in read_events(run / "events.jsonl") if e["event"] == "eval"]
    assert 0 <= evals[-1]["val_accuracy"] <= 1


def test_warm_start_fine_tunes_from_a_checkpoint_with_d_warmup(tmp_path):
    img, _ = _celeba(tmp_path)
    faces = _tiny_faces(img)
    cfg = _config(faces)
    first = train(faces, cfg, run_dir=tmp_path / "first") / "checkpoint"
    shipped = load_checkpoint(first)[0]["G"].state_dict()
    # D alone for the first 2 steps: the generator must come out exactly as it went in.
    events = []
    run = train(faces, cfg.with_(init_from=str(first), d_warmup=2), run_dir=tmp_path / "ft", on_event=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["warm_started"] == ["G"] and start["data_options"] == {}
    assert all(set(e["losses"]) == {"loss_D"} for e in events if e["event"] == "step")
    after = load_checkpoint(run / "checkpoint")[0]["G"].state_dict()
    weights = [k for k in shipped if "running" not in k and "num_batches" not in k]  # BN stats are recalibrated
    assert all(torch.equal(after[k], shipped[k]) for k in weights)
    # One joint step later G has moved.
    run = train(faces, cfg.with_(steps=3, init_from=str(first), d_warmup=2), run_dir=tmp_path / "ft2")
    moved = load_checkpoint(run / "checkpoint")[0]["G"].state_dict()
    assert any(not torch.equal(moved[k], shipped[k]) for k in weights)
    bad = tmp_path / "elsewhere"
    bad.mkdir()
    with pytest.raises((FileNotFoundError, ValueError)):  # a folder without a checkpoint starts no run
        train(faces, cfg.with_(init_from=str(bad)), run_dir=tmp_path / "bad")


def test_cli_data_options_replace_registry_options():
    from core.train.__main__ import with_data_options

    spec = with_data_options(get_spec("faces"), ['repeat={"Eyeglasses": 2}'])
    assert spec.data.options["repeat"] == {"Eyeglasses": 2}
    assert get_spec("faces").data.options["repeat"] == {"Eyeglasses": 4}  # the registry is untouched
    with pytest.raises(SystemExit):
        with_data_options(get_spec("faces"), ["no_such_option=1"])


def test_degradations_keep_shape_and_range_and_the_eval_ones_are_fixed():
    from core.eval.attributes import degraded, low_res
    from core.train.tasks.attributes import degradations

    x = torch.rand(4, 3, 64, 64) * 2 - 1
    for y in (degraded(x), low_res(x)):
        assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1 and not torch.equal(y, x)
    assert torch.equal(degraded(x, seed=3), degraded(x, seed=3))  # the eval's degradation is reproducible
    out = degradations(1.0)(x * 0.5 + 0.5)
    assert out.shape == x.shape and not torch.allclose(out, x * 0.5 + 0.5)
