"""Colour hints for sketch -> photo (issue 19's pale ghosts): the hint sampling, the hinted task
and its warm start from an unhinted model, and the pipeline's "make it this colour"."""
import dataclasses

import pytest
import torch

from core.data import colour
from core.data.sketches import draw, outline_interior
from core.nets import PatchGANConfig, UNetConfig, build_net
from core.pipelines.sketch2photo import Sketch2PhotoPipeline, colour_hints
from core.registry import get_spec
from core.train import TrainConfig, config_for, train
from core.train.tasks import TASKS

G_SMALL = UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6)
HINTED = dataclasses.replace(
    get_spec("sketch2photo"),
    nets={"G": dataclasses.replace(G_SMALL, in_channels=5), "D": PatchGANConfig(in_channels=4, base_channels=8)})


def test_hints_sit_on_the_object_with_its_mean_colour():
    photo = torch.ones(2, 3, 32, 32)  # white paper
    photo[0, :, 8:24, 8:24] = torch.tensor([0.5, -0.5, 0.0])[:, None, None]  # a flat red-ish square
    where = colour.on_object(photo)
    assert where[1].sum() == 0  # item 1: white paper only
    hints = colour.sample_hints(photo, torch.tensor([5, 5]), max_size=3, min_size=3, where=where,
                                generator=torch.Generator().manual_seed(0))
    assert hints.shape == (2, 4, 32, 32)
    mask = hints[:, 3] > 0
    assert mask[0].any() and not mask[1].any()  # no object, no hint
    grown = torch.nn.functional.max_pool2d(where[:, None].float(), 3, 1, 1)[:, 0] > 0
    assert not (mask & ~grown).any()  # centred on object pixels
    on = hints[0, :3, 10:22, 10:22][:, mask[0, 10:22, 10:22]]  # from patches wholly on the square
    assert on.shape[1] > 0
    assert torch.allclose(on, torch.tensor([0.5, -0.5, 0.0])[:, None], atol=1e-6)


def test_washes_paint_the_object_with_its_colours_and_nothing_else():
    photo = torch.ones(4, 3, 64, 64)  # white paper
    photo[:, :, 8:56, 8:32] = torch.tensor([0.8, -0.8, -0.8])[:, None, None]  # red left half ...
    photo[:, :, 8:56, 32:56] = torch.tensor([-0.8, -0.8, 0.8])[:, None, None]  # ... blue right half
    photo[3] = 1.0  # item 3: paper only
    where = colour.on_object(photo)
    g = torch.Generator().manual_seed(0)
    whole = colour.sample_washes(photo, where, g, whole_share=1.0, flat_share=0.0, cell=8)
    assert whole.shape == (4, 4, 64, 64)
    assert torch.equal(whole[:3, 3] > 0, where[:3]) and not whole[3].any()
    assert torch.allclose(whole[0, :3, 30, 12], torch.tensor([0.8, -0.8, -0.8]))  # the layout keeps red ...
    assert torch.allclose(whole[0, :3, 30, 44], torch.tensor([-0.8, -0.8, 0.8]))  # ... and blue apart
    flat = colour.sample_washes(photo, where, g, whole_share=1.0, flat_share=1.0)
    assert torch.allclose(flat[0, :3, 30, 12], torch.tensor([0.0, -0.8, 0.0]))  # one mean colour
    strokes = colour.sample_washes(photo, where, g, whole_share=0.0)
    mask = strokes[:3, 3] > 0
    assert mask.any(dim=(1, 2)).all() and not (mask & ~where[:3]).any()  # strokes on the object only
    assert (mask.flatten(1).sum(1) < where[:3].flatten(1).sum(1)).any()  # and not all of it


def test_an_unhinted_model_starts_the_hinted_one_exactly(tmp_path):
    task = TASKS["pix2pix"](HINTED, TrainConfig(steps=1, batch_size=2, image_size=64), torch.device("cpu"))
    assert task.hinted
    source = build_net(G_SMALL).eval()
    assert task.warm_start({"G": source.state_dict()}) == ["G"]
    G = task.nets["G"].eval()
    x, photo = torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        with_hints = G(task.G_input(x, photo, free_share=0.0))
        assert torch.allclose(with_hints, source(x), atol=1e-5)  # hint weights start at zero
    # With a moving average of G: a stage-1 run's G and G_ema both start theirs (padded alike).
    config = TrainConfig(steps=1, batch_size=2, image_size=64, task=config_for(HINTED, ema_decay=0.99).task)
    task = TASKS["pix2pix"](HINTED, config, torch.device("cpu"))
    other = build_net(G_SMALL).eval()
    assert task.warm_start({"G": source.state_dict(), "G_ema": other.state_dict()}) == ["G", "G_ema"]
    with torch.no_grad():
        assert torch.allclose(task.nets["G_ema"].eval()(task.G_input(x, photo, free_share=0.0)), other(x), atol=1e-5)
        assert torch.allclose(task.shipped_nets()["G"](task.G_input(x, photo, free_share=0.0)), other(x), atol=1e-5)


def test_a_g_that_fits_neither_input_is_refused():
    bad = dataclasses.replace(HINTED, nets={**HINTED.nets, "G": dataclasses.replace(G_SMALL, in_channels=3)})
    with pytest.raises(ValueError, match="colour hints"):
        TASKS["pix2pix"](bad, TrainConfig(steps=1, batch_size=2, image_size=64), torch.device("cpu"))


def test_the_hinted_model_trains_and_its_samples_show_the_hints(tmp_path, paired_folder_photo_left):
    config = TrainConfig(steps=2, batch_size=2, image_size=64, log_every=1, sample_every=2,
                         checkpoint_every=2, data_root=str(paired_folder_photo_left))
    run = train(HINTED, config, run_dir=tmp_path / "run")
    pipe = Sketch2PhotoPipeline.from_checkpoint(run / "checkpoint", precision="fp32")
    assert pipe.hinted
    x = pipe.prepare(draw("sneaker", width=4, seed=0)) if pipe.image_size == 128 else \
        torch.nn.functional.interpolate(pipe.prepare(draw("sneaker", width=4, seed=0), fit=True), size=64)
    assert pipe.run(x).shape == (1, 3, 64, 64)
    assert pipe.run(x, colour_hints(x, (200, 30, 40))).shape == (1, 3, 64, 64)


def test_make_it_red_washes_red_over_what_the_outline_encloses():
    pipe = Sketch2PhotoPipeline(build_net(G_SMALL), 128, torch.device("cpu"))
    x = pipe.prepare(draw("sneaker", width=4, seed=0))
    hints = colour_hints(x, (255, 0, 0))
    mask = hints[0, 3] > 0
    inside = outline_interior(x[:, 0] < 0)[0]
    assert torch.equal(mask, inside) and int(mask.sum()) > 2000  # the whole shoe, strokes included
    assert torch.equal(hints[0, :3][:, mask], torch.tensor([1.0, -1.0, -1.0])[:, None].expand(3, int(mask.sum())))
    assert not hints[0, :3][:, ~mask].any()
    scribble = torch.ones(1, 1, 128, 128)  # white paper ...
    scribble[0, 0, 60:63, 10:110] = -1.0  # ... and one open stroke: nothing enclosed
    beside = colour_hints(scribble, (0, 0, 255))[0, 3] > 0
    assert beside[54:69, 10:110].all() and not beside[:50].any() and not beside[75:].any()
    both = colour_hints(torch.cat([x, scribble]), (255, 0, 0))[:, 3] > 0  # a batch: each drawing its own region
    assert torch.equal(both[0], mask) and torch.equal(both[1], beside)
    with pytest.raises(ValueError, match="no colour hints"):
        pipe.run(x, hints)  # an unhinted model
