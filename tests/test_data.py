import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core.data import edges
from core.data.images import ImageError, open_image
from core.data.paired import PairedDataset
from core.data.sketches import DRAWINGS, draw


def _colourfulness(x):  # [3, H, W] in [-1, 1]
    return float(x.std(0).mean())


@pytest.mark.parametrize("photo_left", [False, True])
def test_paired_dataset_reads_both_orders(request, photo_left):
    folder = request.getfixturevalue("paired_folder_photo_left" if photo_left else "paired_folder")
    ds = PairedDataset(folder, crop_size=64, photo_left=photo_left, input_mode="edges", seed=0)
    assert len(ds) == 8
    item = ds[0]
    assert item["A"].shape == (1, 64, 64) and item["B"].shape == (3, 64, 64)
    for x in item.values():
        assert x.min() >= -1 and x.max() <= 1
    # A is the edge map (mostly white paper), B the colourful photo: the flag picked the right halves.
    assert (item["A"] > 0.9).float().mean() > 0.5
    assert _colourfulness(item["B"]) > 0.05


def test_both_orders_give_the_same_pairs(paired_folder, paired_folder_photo_left):
    """The two fixture folders hold the same drawn pairs (seed 0), halves swapped: read each with its
    flag, every item must come out identical, augmentation (same seed) included."""
    for augment in (False, True):
        official, reversed_ = (PairedDataset(f, crop_size=64, photo_left=pl, augment=augment, seed=0)
                               for f, pl in ((paired_folder, False), (paired_folder_photo_left, True)))
        for i in range(len(official)):
            a, b = official[i], reversed_[i]
            assert torch.equal(a["A"], b["A"]) and torch.equal(a["B"], b["B"]), (augment, i)


def test_wrong_order_flag_gives_edges_as_target(paired_folder):
    ds = PairedDataset(paired_folder, crop_size=64, photo_left=True, input_mode="rgb", augment=False)
    item = ds[0]
    assert _colourfulness(item["B"]) < _colourfulness(item["A"])


def test_augmentation_jitters_and_flips(paired_folder):
    fixed = PairedDataset(paired_folder, crop_size=64, input_mode="rgb", augment=False)
    plain = fixed[0]
    # Without augmentation an item is the file's halves as they are (A left, B right, in [-1, 1]),
    # up to the resampling to edges.WORK_SIZE and back (which blurs A's 1 px lines most: 0.027 here;
    # the other half is 0.16 away).
    ab = torch.from_numpy(np.array(Image.open(fixed.files[0]).convert("RGB"))).permute(2, 0, 1).float() / 127.5 - 1
    assert (plain["A"] - ab[:, :, :64]).abs().mean() < 0.06 and (plain["B"] - ab[:, :, 64:]).abs().mean() < 0.02
    # Flips alone (load_size = crop_size leaves no room to crop): each view is the plain item or its
    # mirror image, A and B flipped together, and both occur.
    flips = PairedDataset(paired_folder, crop_size=64, load_size=64, input_mode="rgb", seed=1)
    mirrored = []
    for _ in range(8):
        view = flips[0]
        flipped = torch.equal(view["B"], plain["B"].flip(-1))
        assert flipped or torch.equal(view["B"], plain["B"])
        assert torch.equal(view["A"], plain["A"].flip(-1) if flipped else plain["A"])
        mirrored.append(flipped)
    assert any(mirrored) and not all(mirrored)
    # Jitter: resized to 72 px and cropped at random, views differ from the plain item and its mirror.
    ds = PairedDataset(paired_folder, crop_size=64, input_mode="rgb", seed=1)
    assert ds.load_size == 72
    views = torch.stack([ds[0]["B"] for _ in range(8)])
    for v in views:
        assert min(float((v - plain["B"]).abs().mean()), float((v - plain["B"].flip(-1)).abs().mean())) > 0.01
    assert (views - views[0]).abs().amax(dim=(1, 2, 3)).max() > 0.1
    # The same seed gives the same views.
    again = PairedDataset(paired_folder, crop_size=64, input_mode="rgb", seed=1)
    assert torch.equal(torch.stack([again[0]["B"] for _ in range(8)]), views)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no images"):
        PairedDataset(tmp_path)


def _line_ink(width: int, size: int = 256) -> torch.Tensor:
    im = Image.new("L", (size, size), 0)
    ImageDraw.Draw(im).ellipse((40, 40, 216, 216), outline=255, width=width)
    return torch.from_numpy(np.asarray(im) / 255.0).float()[None, None]


def test_stroke_width_is_measured_and_normalised():
    for w in (1, 3, 8, 14):
        ink = _line_ink(w)
        # A 1px line is all boundary and reads as 2px; wider strokes are measured to ~25%.
        assert abs(edges.stroke_width(ink) - max(w, 2)) <= max(1.0, 0.25 * w)
        out = edges.normalise_width(ink)
        assert abs(edges.stroke_width(out) - edges.TARGET_WIDTH) <= 2.0


def test_thin_and_thick_drawings_reach_the_model_alike():
    thin, thick = draw("shoe", width=2), draw("shoe", width=16)
    to_x = lambda im: edges.sketch_to_input(torch.from_numpy(np.asarray(im) / 255.0).permute(2, 0, 1)[None].float(), 128)
    a, b = to_x(thin), to_x(thick)
    assert a.shape == (1, 1, 128, 128)
    ink_a, ink_b = (a < 0).float().mean(), (b < 0).float().mean()
    assert 0.5 < float(ink_a / ink_b) < 2.0


def test_empty_drawing_is_refused():
    with pytest.raises(ValueError, match="empty"):
        edges.sketch_to_input(torch.ones(1, 3, 64, 64), 128)


def test_examples_are_drawn_in_code():
    for name in DRAWINGS:
        a = np.asarray(draw(name, size=256))
        assert a.shape == (256, 256, 3)
        assert 0.01 < (a < 128).mean() < 0.3


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_open_image_handles_every_mode():
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    assert open_image(rgba).getpixel((0, 0)) == (255, 255, 255)  # transparent = white paper
    grey = open_image(Image.new("L", (20, 20), 7))
    assert grey.mode == "RGB" and grey.getpixel((0, 0)) == (7, 7, 7)
    g16 = Image.fromarray(np.full((20, 20), 65535, np.uint16))
    assert open_image(_png(g16)).getpixel((0, 0)) == (255, 255, 255)
    palette = Image.new("P", (20, 20), 3)
    palette.putpalette([0, 0, 0, 10, 20, 30, 40, 50, 60, 200, 100, 50])
    assert open_image(palette).mode == "RGB" and open_image(palette).getpixel((0, 0)) == (200, 100, 50)
    transparent = open_image(np.zeros((20, 20, 4), np.uint8))
    assert transparent.size == (20, 20) and transparent.getpixel((0, 0)) == (255, 255, 255)
    opaque = np.zeros((20, 20, 4), np.uint8)
    opaque[..., 0], opaque[..., 3] = 200, 255
    assert open_image(opaque).getpixel((0, 0)) == (200, 0, 0)


def test_open_image_refuses_corrupt_and_huge(monkeypatch):
    with pytest.raises(ImageError, match="corrupt"):
        open_image(b"\x89PNG\r\n\x1a\nnot really")
    monkeypatch.setattr("core.data.images.MAX_PIXELS", 100)
    with pytest.raises(ImageError, match="too large"):
        open_image(_png(Image.new("RGB", (20, 20))))
