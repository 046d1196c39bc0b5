import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.morphology import skeletonize

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


# ---- every stroke of a person's drawing reaches the model (issue: thin strokes vanished) --------

def _strokes_drawing(strokes) -> tuple[torch.Tensor, list[np.ndarray]]:
    """strokes: [(kind, xy, pen px)] on a 512 canvas -> (RGB [1, 3, 512, 512] in [0, 1], one mask
    per stroke at 128 px: where that stroke alone covers at least half a model pixel)."""
    canvas = Image.new("L", (512, 512), 255)
    masks = []
    for kind, xy, pen in strokes:
        alone = Image.new("L", (512, 512), 0)
        for im, ink in ((canvas, 0), (alone, 255)):
            d = ImageDraw.Draw(im)
            if kind == "box":
                d.rectangle(xy, fill=ink)
            else:
                d.line(xy, fill=ink, width=pen, joint="curve")
        small = torch.nn.functional.interpolate(torch.from_numpy(np.asarray(alone) / 255.0).float()[None, None],
                                                size=(128, 128), mode="area")[0, 0].numpy()
        masks.append(small >= 0.25)
    rgb = torch.from_numpy(np.asarray(canvas.convert("RGB")) / 255.0).float().permute(2, 0, 1)[None]
    return rgb, masks


HATCHES = [("line", [(300 + 18 * i, 330), (320 + 18 * i, 370)], 4) for i in range(6)]
HAND_DRAWINGS = {
    # Two lines ~10 px apart and six hatch marks, beside one thick stroke.
    "lines+hatches+thick": [("line", [(60, 100), (450, 100)], 4), ("line", [(60, 110), (450, 110)], 4),
                            *HATCHES, ("line", [(80, 200), (250, 260)], 26)],
    # One line, hatch marks and a filled 60 px square.
    "line+hatches+square": [("line", [(60, 120), (460, 140)], 4), *HATCHES, ("box", (80, 300, 140, 360), 0)],
    # A sneaker: closed outline, sole line, three laces.
    "sneaker": [("line", [(60, 300), (70, 360), (440, 370), (460, 320), (430, 220), (330, 200), (250, 250),
                          (120, 260), (60, 300)], 5),
                ("line", [(70, 340), (450, 345)], 5),
                *[("line", [(230 + 25 * i, 240), (250 + 25 * i, 275)], 4) for i in range(3)]],
}


@pytest.mark.parametrize("name", list(HAND_DRAWINGS))
def test_every_stroke_survives_width_normalisation(name):
    rgb, masks = _strokes_drawing(HAND_DRAWINGS[name])
    x = edges.sketch_to_input(rgb, 128, fit=False)  # fit=False keeps the canvas -> model mapping
    ink = ((1.0 - x[0, 0]) / 2.0).numpy() > 0.5
    near_ink = torch.nn.functional.max_pool2d(torch.from_numpy(ink).float()[None, None], 3, 1, 1)[0, 0].numpy() > 0
    for (kind, _, pen), mask in zip(HAND_DRAWINGS[name], masks):
        if kind == "box":  # a filled area reaches the model as its outline, not as a blob
            border = mask & ~ndimage.binary_erosion(mask)
            assert near_ink[border].mean() > 0.8, f"{name}: the filled square's outline is missing"
            assert ink[ndimage.binary_erosion(mask, iterations=4)].mean() < 0.2, f"{name}: the square is a blob"
            continue
        centre = skeletonize(mask)  # the stroke's centre line at the model's size
        covered = near_ink[centre].mean()
        assert covered > 0.9, f"{name}: a {pen}px {kind} lost {1 - covered:.0%} of its length"


def test_close_parallel_lines_stay_two_lines():
    rgb, _ = _strokes_drawing([("line", [(60, 100), (450, 100)], 4), ("line", [(60, 112), (450, 112)], 4),
                               ("line", [(80, 300), (300, 360)], 30)])
    mask = edges.normalise_width((edges.ink_from_rgb(torch.nn.functional.interpolate(rgb, size=(256, 256), mode="area")) > 0.5).float())
    _, count = ndimage.label(mask[0, 0].numpy() > 0.5)
    assert count == 3


def test_redrawing_centre_lines_matches_dilate():
    rng = np.random.default_rng(1)
    centre = rng.random((64, 80)) > 0.97
    centre[0, 5] = centre[63, 10] = centre[30, 0] = centre[30, 79] = True  # the borders too
    for width in (1, 2, 3, 4, 5, 2.6):
        want = edges.dilate(torch.from_numpy(centre).float()[None, None], max(1, int(round(width))))
        assert torch.equal(edges._redraw(centre, width, torch.float32), want)


def test_strokes_only_drawings_skip_the_distance_transform_with_the_same_result(monkeypatch):
    """`normalise_width` skips the filled-area search when no pixel can be deep enough in the ink;
    the shortcut must give exactly what the full search gives, near its threshold too."""
    rng = np.random.default_rng(0)
    inks = [_line_ink(w) for w in (1, 3, 8, 14, 19, 20, 21, 24, 40)]
    for side in (12, 14, 15, 16, 20, 21, 30):  # filled squares around FILLED_MIN_WIDTH
        im = Image.new("L", (256, 256), 0)
        ImageDraw.Draw(im).rectangle((100, 100, 100 + side - 1, 100 + side - 1), fill=255)
        ImageDraw.Draw(im).line([(10, 200), (240, 210)], fill=255, width=3)
        inks.append(torch.from_numpy(np.asarray(im) / 255.0).float()[None, None])
    for _ in range(20):  # random pens, some wide enough to count as filled
        im = Image.new("L", (256, 256), 0)
        for _ in range(4):
            ImageDraw.Draw(im).line([tuple(int(v) for v in rng.integers(0, 256, 2)) for _ in range(3)],
                                    fill=255, width=int(rng.choice([2, 5, 12, 18, 26])))
        inks.append(torch.from_numpy(np.asarray(im) / 255.0).float()[None, None])
    fast = [edges.normalise_width(ink) for ink in inks]
    shortcuts = sum(not edges._may_hold_filled(ink[0, 0].numpy() > 0.5) for ink in inks)
    monkeypatch.setattr(edges, "_may_hold_filled", lambda mask: True)
    for ink, got in zip(inks, fast):
        assert torch.equal(got, edges.normalise_width(ink))
    assert 5 <= shortcuts <= len(inks) - 5  # both paths were taken, often


# ---- drawing-like inputs made from edge maps ---------------------------------------------------

def _object_on_white(texture: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A brown ellipse on white (photo [256, 256, 3] uint8) and its edge map [256, 256] bool: the
    outline, one long interior line and (texture) 40 short specks, like a detector's output."""
    photo = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(photo).ellipse((30, 70, 226, 190), fill=(120, 70, 30))
    edge = Image.new("L", (256, 256), 0)
    d = ImageDraw.Draw(edge)
    d.ellipse((30, 70, 226, 190), outline=255)
    d.line([(60, 150), (200, 150)], fill=255)
    if texture:
        rng = np.random.default_rng(0)
        for x, y in rng.integers([70, 100], [190, 140], size=(40, 2)):
            d.point((int(x), int(y)), fill=255)
    return np.asarray(photo), np.asarray(edge) > 0


def test_drawing_styles_are_seeded_and_sparser_than_the_edges():
    from core.data import drawing_style

    photo, edge = _object_on_white()
    for style in ("simplified", "outline"):
        a = drawing_style.drawing_like(edge, photo, style, np.random.default_rng(3))
        b = drawing_style.drawing_like(edge, photo, style, np.random.default_rng(3))
        assert np.array_equal(a, b), style
        specks = ndimage.label(a, structure=np.ones((3, 3)))[1]
        assert specks <= 4, f"{style}: {specks} pieces; the texture specks should be gone"
    assert np.array_equal(drawing_style.drawing_like(edge, photo, "dense", np.random.default_rng(0)), edge)
    with pytest.raises(ValueError):
        drawing_style.drawing_like(edge, photo, "watercolour", np.random.default_rng(0))


def test_outline_follows_the_object_silhouette():
    from core.data import drawing_style

    photo, edge = _object_on_white()
    mask = drawing_style.object_mask(edge, photo)
    truth = np.zeros((256, 256), bool)
    yy, xx = np.ogrid[:256, :256]
    truth[((xx - 128) / 98.0) ** 2 + ((yy - 130) / 60.0) ** 2 <= 1] = True
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9  # the edge line itself (dilated 2 px) adds a rim
    # Every outline pixel lies on the silhouette's border (give or take 3 px: the edge line's rim).
    out = drawing_style.outline(edge, photo, np.random.default_rng(1))
    border = truth & ~ndimage.binary_erosion(truth)
    near_border = ndimage.binary_dilation(border, iterations=3)
    near_line = np.zeros_like(truth)
    near_line[146:155, 50:210] = True
    assert (out & ~near_border & ~near_line).sum() == 0


def test_paired_dataset_mixes_drawings_and_gives_fixed_eval_drawings(paired_folder_photo_left):
    dense = PairedDataset(paired_folder_photo_left, crop_size=64, augment=False, photo_left=True, input_mode="edges")
    drawn = PairedDataset(paired_folder_photo_left, crop_size=64, augment=False, photo_left=True, input_mode="edges",
                          inputs="drawing")
    assert torch.equal(drawn[3]["A"], drawn[3]["A"])  # the eval's drawing of an item never changes
    assert torch.equal(drawn[3]["B"], dense[3]["B"])
    assert drawn[3]["A"].shape == dense[3]["A"].shape == (1, 64, 64)
    with pytest.raises(ValueError):
        PairedDataset(paired_folder_photo_left, inputs="paint")
