"""Faces pipelines: seeds, walks, maps, GIFs, and the vector arithmetic, on tiny nets."""
from __future__ import annotations

import io
import math
import time

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import core.registry
from core.checkpoint import save_checkpoint
from core.nets import AttributeNetConfig, DCGANGeneratorConfig, build_net
from core.pipelines import face_arithmetic, faces
from core.pipelines.face_arithmetic import PRESETS, AttributeClassifier, FaceArithmetic
from core.pipelines.faces import FacesPipeline

NAMES = ["Smiling", "Male", "Eyeglasses", "Young"]


def _features(x):
    """Four simple, roughly independent image statistics: [N, 4]."""
    x = x.float()
    return torch.stack([x[:, 0].mean((1, 2)) - x[:, 2].mean((1, 2)),  # red vs blue
                        x[:, :, :, :32].mean((1, 2, 3)) - x[:, :, :, 32:].mean((1, 2, 3)),  # left vs right
                        x[:, :, :32].mean((1, 2, 3)) - x[:, :, 32:].mean((1, 2, 3)),  # top vs bottom
                        x.mean((1, 2, 3))], 1)


class FeatureJudge(nn.Module):
    """A stand-in classifier with a known rule: each attribute's logit is one image statistic,
    standardised over the generator's own samples (a fixed affine map, so per image)."""

    def __init__(self, generator):
        super().__init__()
        with torch.no_grad():
            f = _features(generator(torch.randn(1000, generator.config.z_dim, generator=torch.Generator().manual_seed(9))))
        self.register_buffer("mean", f.mean(0))
        self.register_buffer("std", f.std(0))

    def forward(self, x):
        return (_features(x) - self.mean) / self.std * 3


@pytest.fixture(scope="module", autouse=True)
def own_disk_cache(tmp_path_factory):
    """The stub classifier's rule lives in code, not in its weights, so the weight-keyed disk cache
    could serve labels from an older version of it: these tests get a fresh cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_CACHE_DIR", str(tmp_path_factory.mktemp("genlab_cache")))
        yield


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return build_net(DCGANGeneratorConfig(z_dim=16, base_channels=8))


@pytest.fixture(scope="module")
def arith(generator):
    pipe = FacesPipeline(generator, torch.device("cpu"), torch.float32, {})
    return FaceArithmetic(pipe, AttributeClassifier(FeatureJudge(generator.eval()), NAMES, torch.device("cpu"), {}), pool_size=600)


@pytest.mark.parametrize("typed, expected", [(None, 0), (float("nan"), 0), ("abc", 0), (-5, 5), (7.9, 7),
                                             (float("inf"), 0), (2**31, 0), (2**31 + 5, 5), ("12", 12),
                                             (1e30, 0)])  # 1e30 as a float is a multiple of 2**31
def test_any_typed_seed_becomes_a_valid_one(typed, expected):
    assert faces.clean_seed(typed) == expected


def test_a_seed_always_gives_the_same_latent():
    assert torch.equal(faces.z_from_seed(3, 100), faces.z_from_seed(3, 100))
    assert not torch.equal(faces.z_from_seed(3, 100), faces.z_from_seed(4, 100))


def test_slerp_keeps_the_norm_and_lerp_does_not():
    z0, z1 = faces.z_from_seed(1, 100), faces.z_from_seed(2, 100)
    ts = torch.linspace(0, 1, 9)
    s, line = faces.slerp(z0, z1, ts), faces.lerp(z0, z1, ts)
    assert torch.allclose(s[0], z0, atol=1e-5) and torch.allclose(s[-1], z1, atol=1e-5)
    assert torch.allclose(line[4], (z0 + z1) / 2)
    ends = (z0.norm() + z1.norm()) / 2
    assert abs(s[4].norm() - ends) / ends < 0.05  # the great circle stays near |z|
    assert line[4].norm() < 0.8 * ends  # the straight line's middle is shorter (~1/sqrt 2)
    same = faces.slerp(z0, z0, 0.3)  # degenerate: identical ends
    assert torch.isfinite(same).all() and torch.allclose(same, z0)
    with pytest.raises(ValueError):
        faces.interpolate(z0, z1, 0.5, "cubic")


def test_on_shell_moves_latents_to_the_gaussian_radius():
    z = torch.randn(5, 100, generator=torch.Generator().manual_seed(0))
    means = z.reshape(5, 1, 100).expand(5, 3, 100).mean(1) * 0.3  # short, like means of several
    out = faces.on_shell(torch.cat([means, z * 3, torch.zeros(1, 100)]))
    assert torch.allclose(out[:10].norm(dim=1), torch.full((10,), 10.0))
    assert torch.allclose(torch.cosine_similarity(out[:5], means), torch.ones(5))
    assert torch.equal(out[10], torch.zeros(100))  # nothing to scale: no NaN


def test_map_grid_axes_are_orthogonal_even_for_correlated_directions():
    """Attribute directions are correlated (Smiling and Male: cos -0.76 in the shipped GAN): along the
    raw pair one corner of the map went twice as far as the others, into washed-out half-faces."""
    c = faces.z_from_seed(5, 16)
    dx = faces.z_from_seed(1, 16)
    dy = -0.8 * dx / dx.norm() + 0.6 * faces.orthogonal_directions(16, 3)[0]
    g = faces.map_grid(c, dx, dy, 3, 2.0)
    right, up = g[5] - g[4], g[1] - g[4]
    assert abs(float(right @ up)) < 1e-4 and float(right.norm()) == pytest.approx(2.0) == float(up.norm())
    assert float(up @ dy) > 0  # still towards +dy
    corners = [float((g[i] - c).norm()) for i in (0, 2, 6, 8)]
    assert max(corners) - min(corners) < 1e-4  # every corner equally far from face A


def test_map_grid_is_centred_on_the_face():
    c = faces.z_from_seed(5, 16)
    dx, dy = faces.orthogonal_directions(16, 0)
    assert abs(float(dx @ dy)) < 1e-5
    g = faces.map_grid(c, dx, dy * 3, 5, 2.0)
    assert g.shape == (25, 16) and torch.allclose(g[12], c)
    assert torch.allclose(g[13] - g[12], dx * 1.0, atol=1e-5)  # one column right = +span/2 along unit dx
    assert torch.allclose(g[7] - g[12], dy / dy.norm() * 1.0, atol=1e-5)  # one row up = +dy


def test_decode_survives_absurd_latents(generator):
    pipe = FacesPipeline(generator, torch.device("cpu"), torch.float32, {})
    z = torch.tensor([[float("nan")] * 16, [1e30] * 16, [-1e30] * 16])
    x = pipe.decode(z)
    assert x.shape == (3, 3, 64, 64) and torch.isfinite(x).all() and x.abs().max() <= 1
    with pytest.raises(ValueError):
        pipe.decode(torch.zeros(2, 5))
    assert pipe.images(pipe.z(1), 96)[0].size == (96, 96)
    assert faces.from_array([1.0] * 5, 16) is None and faces.from_array("x", 16) is None
    assert faces.from_array(faces.to_array(pipe.z(1)), 16) is not None


def test_gif_loops_there_and_back():
    frames = [Image.new("RGB", (32, 32), (i * 40, 0, 0)) for i in range(5)]
    gif = Image.open(io.BytesIO(faces.gif_bytes(frames, seconds=1.0)))
    assert gif.format == "GIF" and gif.n_frames == 8 and gif.info.get("loop") == 0  # 5 + 3 back
    # Smooth colourful frames come back close (a palette of their own each) and the way back repeats them.
    yy, xx = np.mgrid[0:48, 0:48]
    smooth = [Image.fromarray(np.stack([xx * 5, yy * 5, (xx + yy + 20 * i) % 256], -1).astype(np.uint8))
              for i in range(4)]
    gif = Image.open(io.BytesIO(faces.gif_bytes(smooth)))
    shown = []
    for k in range(gif.n_frames):
        gif.seek(k)
        shown.append(np.asarray(gif.convert("RGB"), dtype=np.float64))
    for frame, back in zip(smooth, shown):
        mse = ((np.asarray(frame, dtype=np.float64) - back) ** 2).mean()
        assert 10 * np.log10(255 ** 2 / max(mse, 1e-9)) >= 30
    assert len(shown) == 6 and np.array_equal(shown[1], shown[5]) and np.array_equal(shown[2], shown[4])
    strip = faces.strip(frames)
    assert strip.size == (5 * 34 - 2, 32)
    assert faces.tile(frames[:4], 2).size == (66, 66)


def test_presets_draw_confident_exemplars_and_combine_exactly(arith):
    preset = PRESETS[next(iter(PRESETS))]
    ex = arith.draw(preset, seed=1)
    assert {k: v.shape for k, v in ex.items()} == {k: (3, 16) for k in "ABC"}
    for key, concept in (("A", preset.A), ("B", preset.B), ("C", preset.C)):
        probs = arith.judge(ex[key])
        for name, wanted in concept.attrs:
            p = probs[:, NAMES.index(name)]
            c = arith.confident
            assert ((p >= c) if wanted else (p <= 1 - c)).all(), (key, name, p)
    assert torch.equal(arith.draw(preset, seed=1)["A"], ex["A"])  # a seed is a fixed draw
    res = arith.combine(ex, seed=0, noise=0.25)
    plain = ex["A"].mean(0) - ex["B"].mean(0) + ex["C"].mean(0)
    assert torch.allclose(res.result, plain * 4 / plain.norm())  # same direction, on the shell (sqrt(16))
    assert torch.allclose(res.mean_faces().norm(dim=1), torch.full((3,), 4.0))
    assert torch.allclose(torch.cosine_similarity(res.mean_faces()[0], ex["A"].mean(0), dim=0), torch.tensor(1.0))
    assert res.grid.shape == (9, 16) and torch.equal(res.grid[4], res.result)
    assert (res.grid - res.result).abs().max() <= 0.25 + 1e-6
    with pytest.raises(ValueError):
        arith.combine({"A": ex["A"], "B": ex["B"]})


def test_exemplars_are_also_typical_in_latent_space(arith):
    """Members pass the classifier *and* lie `latent_margin` logits on their side of a linear probe in
    z; the probe really separates the pool's labels; a margin nobody passes falls back to the
    classifier's rule alone."""
    concept = PRESETS[next(iter(PRESETS))].A
    loose = FaceArithmetic(arith.faces, arith.classifier, pool_size=arith.pool_size, latent_margin=0.0)
    confident = loose.members(concept)
    signed = torch.stack([arith.latent_logits(n) * (1 if wanted else -1) for n, wanted in concept.attrs]).amin(0)
    median = float(signed[confident].median())  # a margin half the confident members pass
    rule = FaceArithmetic(arith.faces, arith.classifier, pool_size=arith.pool_size, latent_margin=median)
    typical = rule.members(concept)
    assert face_arithmetic.MIN_TYPICAL <= len(typical) < len(confident)
    assert set(typical.tolist()) <= set(confident.tolist()) and (signed[typical] >= median).all()
    strict = FaceArithmetic(arith.faces, arith.classifier, pool_size=arith.pool_size, latent_margin=1e6)
    assert torch.equal(strict.members(concept), confident)  # nobody is that typical: the classifier's rule
    y = (arith.pool.probs[:, NAMES.index("Smiling")] > 0.5).float()
    accuracy = float(((arith.latent_logits("Smiling") > 0) == y).float().mean())
    assert accuracy > max(y.mean(), 1 - y.mean()) + 0.1  # a real probe: well above always saying the majority


def test_real_exemplars_are_typical_by_the_pools_probe_and_each_model_has_its_rules(arith):
    """The eval's real-exemplar rule: labelled members whose code lies `margin` logits on the concept's
    side of the pool's probe (refitted: the same as the pool's own); too strict a margin keeps them all."""
    from core.eval.faces_v2 import _typical

    concept = PRESETS[next(iter(PRESETS))].A
    everyone = torch.arange(len(arith.pool.z))
    signed = torch.stack([arith.latent_logits(n) * (1 if wanted else -1) for n, wanted in concept.attrs]).amin(0)
    median = float(signed.quantile(0.9))  # a margin a tenth of the pool passes
    assert median > 0
    kept = _typical(everyone, concept, arith.pool.z, arith, {}, median)
    inside = torch.zeros(len(everyone), dtype=torch.bool)
    inside[kept] = True
    assert (signed[inside] >= median - 1e-3).all() and inside[signed >= median + 1e-3].all(), (
        len(kept), int((signed >= median).sum()))
    assert torch.equal(_typical(everyone, concept, arith.pool.z, arith, {}, 1e6), everyone)
    assert face_arithmetic.exemplar_rules("faces") == {"confident": 0.9, "latent_margin": 2.0}
    assert face_arithmetic.exemplar_rules("faces_v2") == {"confident": 0.95, "latent_margin": 4.0}


def test_the_linear_probe_separates_a_half_space_even_under_inference_mode():
    with torch.inference_mode():  # inputs made here are inference tensors, which autograd refuses
        z = torch.randn(400, 8, generator=torch.Generator().manual_seed(0))
        y = (z[:, 0] - z[:, 1] > 0.3).float()
        w, b = face_arithmetic.fit_linear_probe(z, y)
    assert ((z @ w + b > 0).float() == y).float().mean() > 0.97
    assert w[0] > 0 > w[1] and w[0] > 5 * w[2:].abs().max()


def test_success_rate_and_directions(arith):
    for preset in PRESETS.values():
        rate = arith.success_rate(preset, draws=10)
        # The share of draws (seeds 0..9 at seed 0) whose A - B + C face has every intended attribute.
        hits = arith.judge(torch.stack([arith.combine(arith.draw(preset, i)).result for i in range(10)]))
        wanted = [all((p[NAMES.index(n)] > 0.5) == w for n, w in preset.expect) for p in hits]
        assert rate == pytest.approx(sum(wanted) / 10)
        # The base rate: the share of pool faces that already have them.
        base = [all((p[NAMES.index(n)] > 0.5) == w for n, w in preset.expect) for p in arith.pool.probs]
        assert arith.base_rate(preset) == pytest.approx(sum(base) / len(base))
        # The tab's record is the eval's figure (seed 0), computed once.
        record = arith.record(preset, draws=10)
        assert record == (rate, arith.base_rate(preset)) and arith.record(preset, draws=10) is record
    z = arith.pool.z[:200]
    for name in NAMES:  # a direction moves faces towards its attribute: adding it raises p, subtracting lowers it
        d, i = arith.direction(name), NAMES.index(name)
        assert d.shape == (16,)
        p_minus, p_plus = (float(arith.judge(z + s * d)[:, i].mean()) for s in (-1, 1))
        p = float(arith.pool.probs[:200, i].mean())
        assert p_minus < p < p_plus, (name, p_minus, p, p_plus)
    with pytest.raises(KeyError):
        arith.direction("Wings")
    assert arith.available_directions() == ["Smiling", "Male", "Eyeglasses", "Young"]


def test_probes_and_records_are_kept_on_disk_with_the_pool(arith, monkeypatch):
    """A later start reads the latent probes and the presets' records from the disk cache (the
    first vector-arithmetic draw computed them again at every start); other exemplar rules do not
    get the stored record."""
    preset = PRESETS[next(iter(PRESETS))]
    record, logits = arith.record(preset, draws=10), arith.latent_logits("Smiling")

    def boom(*a, **kw):
        raise AssertionError("recomputed")

    monkeypatch.setattr(face_arithmetic, "fit_linear_probe", boom)
    monkeypatch.setattr(FaceArithmetic, "success_rate", boom)
    later = FaceArithmetic(arith.faces, arith.classifier, pool_size=arith.pool_size)
    assert later.record(preset, draws=10) == record and torch.equal(later.latent_logits("Smiling"), logits)
    stricter = FaceArithmetic(arith.faces, arith.classifier, pool_size=arith.pool_size, latent_margin=3.0)
    with pytest.raises(AssertionError, match="recomputed"):
        stricter.record(preset, draws=10)


def test_impossible_concepts_say_so(arith):
    impossible = face_arithmetic.Concept("unicorn", (("Smiling", True), ("Smiling", False)))
    preset = face_arithmetic.Preset(impossible, impossible, impossible, (("Smiling", True),), "x")
    with pytest.raises(LookupError, match="unicorn"):
        arith.draw(preset, seed=0)


@pytest.fixture
def tiny_faces(monkeypatch, tmp_path):
    """Tiny faces GAN + classifier checkpoints where the registry looks for them."""
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "faces", {"G": build_net(DCGANGeneratorConfig(z_dim=16, base_channels=8))},
                    meta={"image_size": 64})
    save_checkpoint(tmp_path / "face_attributes",
                    {"C": build_net(AttributeNetConfig(num_outputs=len(NAMES), base_channels=4))},
                    meta={"image_size": 64, "attributes": NAMES})
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)
    monkeypatch.setattr(face_arithmetic, "POOL_SIZE", 300)
    return tmp_path


def test_classifier_checkpoint_must_name_its_outputs(tmp_path):
    save_checkpoint(tmp_path / "c", {"C": build_net(AttributeNetConfig(num_outputs=3, base_channels=4))}, meta={})
    with pytest.raises(ValueError, match="attributes"):
        AttributeClassifier.from_checkpoint(tmp_path / "c")


def test_latent_walk_tab_survives_any_value(tiny_faces):
    from demos import latent_walk as tab
    from demos.common import OK_MARK, WARN_MARK

    for a, b, mode, steps, t in [(1, 2, "slerp", 8, 0.5), (None, float("nan"), "lerp", -3, 7),
                                 (-1e20, 1e20, "bogus", 1000, None), ("x", 0, None, float("inf"), -1)]:
        face, strip, status = tab.walk(a, b, mode, steps, t)
        assert isinstance(face, Image.Image) and status.startswith(OK_MARK), status
        assert strip.width > strip.height
    assert tab.at_t(1, 2, "slerp", 2.0).size == (tab.BIG, tab.BIG)
    path, _, status = tab.make_gif(1, 2, "slerp", float("nan"))
    assert Image.open(path).n_frames > 10 and "GIF" in status
    items, start = tab.gallery(-7)
    assert len(items) == tab.GALLERY_SIZE and start == 7
    for size, span in [(5, 8), (100, -3), (None, float("nan")), (4, 1e9)]:
        grid, zs, status = tab.latent_map(3, "Smiling", "Smiling", size, span, 0)
        n = round(math.sqrt(len(zs)))
        assert n * n == len(zs) and n % 2 == 1 and 3 <= n <= 9
        # The map says when its outer faces lie far outside the prior's shell (washed-out faces there).
        far = max(float(torch.tensor(z).norm()) for z in zs) > tab.FAR * math.sqrt(len(zs[0]))
        assert status.startswith(WARN_MARK if far else OK_MARK) and "|z| on the map" in status, status
    # a map pick replaces face A
    face, _, _ = tab.walk(1, 2, "slerp", 4, 0.0, pick_a=zs[0])
    assert face is not None


def test_vector_arithmetic_tab_survives_any_value(tiny_faces, monkeypatch):
    from demos import common
    from demos import vector_arithmetic as tab

    told = []  # no toast: it showed on whatever tab was open (the sketch tab at page load); the wait is on the tab
    monkeypatch.setattr(tab.gr, "Info", lambda message, **kw: told.append(message))
    monkeypatch.setattr(tab.gr, "Warning", lambda message, **kw: told.append(message))
    out = tab.draw(next(iter(PRESETS)), float("nan"), 5.0)
    tab.draw(next(iter(PRESETS)), 1, 0.25)
    assert told == []
    # The untrained tiny classifier says p = 0.5 to every face: no face is a confident exemplar, and the
    # tab says so instead of drawing (test_vector_arithmetic_tab_draws_a_preset covers the drawing).
    assert face_arithmetic.load().pool.probs.sub(0.5).abs().max() < 0.01
    picks, status = out[0], out[-1]
    assert picks is None and status.startswith(common.WARN_MARK)
    assert "only 0 generated faces look like a smiling woman" in status
    assert tab.draw(tab.CUSTOM, 0, 0.25)[-1].startswith(common.WARN_MARK)
    assert tab.show({}, 0.25, 0, tab.CUSTOM)[-1].startswith(common.WARN_MARK)
    items, page = tab.pool_page(-99999)
    assert len(items) == tab.PAGE and 0 <= page
    img, status = tab.edit(None, *([float("nan"), 1e9, -1e9] * 3))
    assert isinstance(img, Image.Image) and status.startswith((common.OK_MARK, common.WARN_MARK)), status


def test_vector_arithmetic_tab_draws_a_preset(tiny_faces, monkeypatch):
    """With a classifier that tells faces apart (the FeatureJudge rule) a preset draws three
    confident exemplars per concept and shows the result with the classifier's verdict and the
    preset's record."""
    from demos import vector_arithmetic as tab
    from demos.common import OK_MARK, WARN_MARK

    judge = AttributeClassifier(FeatureJudge(faces.load().G), NAMES, torch.device("cpu"), {})
    monkeypatch.setattr(face_arithmetic, "load_classifier", lambda *a, **kw: judge)
    name = next(iter(PRESETS))
    preset = PRESETS[name]
    out = tab.draw(name, 1, 0.25)
    picks, status = out[0], out[-1]
    verdict = status.split("Classifier on the result:")[1].split("\n")[0]
    # The line's mark is the verdict's: a success mark only when every expected attribute is there.
    assert status.startswith(OK_MARK if "not met" not in verdict else WARN_MARK), status
    assert {k: len(v) for k, v in picks.items() if k in "ABC"} == {"A": 3, "B": 3, "C": 3}
    arith = face_arithmetic.load()
    for key, concept in (("A", preset.A), ("B", preset.B), ("C", preset.C)):
        p = arith.judge(torch.stack([faces.from_array(v, 16) for v in picks[key]]))
        for attr, wanted in concept.attrs:
            column = p[:, NAMES.index(attr)]
            assert ((column >= 0.9) if wanted else (column <= 0.1)).all(), (key, attr, column)
    assert all(len(gallery) == 3 for gallery in out[1:4])
    assert isinstance(out[5], Image.Image) and out[5].size == (tab.BIG, tab.BIG)  # the result
    success, base = arith.record(preset)
    assert preset.result_label in status and f"**{tab._pct(success)}**" in status and tab._pct(base) in status


def test_own_picks_switch_the_menu_and_say_what_is_mixed(tiny_faces, monkeypatch):
    """A pool face clicked after a preset joins the preset's exemplars: the menu then says "my own
    picks" (it went on naming the preset) and the status says which of the preset's faces are
    still in the mix, until the clicks have replaced them all."""
    from types import SimpleNamespace

    from demos import vector_arithmetic as tab
    from demos.common import OK_MARK

    judge = AttributeClassifier(FeatureJudge(faces.load().G), NAMES, torch.device("cpu"), {})
    monkeypatch.setattr(face_arithmetic, "load_classifier", lambda *a, **kw: judge)
    name = next(iter(PRESETS))
    picks = tab.draw(name, 1, 0.25)[0]
    out = tab.add_pick(SimpleNamespace(index=0), picks, "A", 0, 0.25, 1)
    picks, menu, status = out[0], out[1], out[-1]
    assert menu == tab.CUSTOM and status.startswith(OK_MARK)
    assert f"preset *{name}*" in status and "A: your 1 + 2 of the preset's; B: the preset's 3; C: the preset's 3" \
        in status, status
    assert faces.from_array(picks["A"][-1], 16).equal(face_arithmetic.load().pool.z[0])
    for group in "ABC":
        for i in range(3):
            out = tab.add_pick(SimpleNamespace(index=i + 1), out[0], group, 0, 0.25, 1)
    assert out[1] == tab.CUSTOM and "Mixed" not in out[-1] and "Your picks" in out[-1]  # none of the preset's left
    cleared = tab.clear_picks()
    assert cleared[0] == {} and cleared[1] == tab.CUSTOM and "cleared" in cleared[-1]


def test_an_attribute_push_the_classifier_does_not_see_says_so(tiny_faces, monkeypatch):
    """The Eyeglasses slider at +2.1 showed no glasses and a success mark: when the classifier does
    not confirm a pushed attribute, the status says so."""
    from demos import vector_arithmetic as tab
    from demos.common import OK_MARK, WARN_MARK

    judge = AttributeClassifier(FeatureJudge(faces.load().G), NAMES, torch.device("cpu"), {})
    monkeypatch.setattr(face_arithmetic, "load_classifier", lambda *a, **kw: judge)
    arith = face_arithmetic.load()
    glasses = NAMES.index("Eyeglasses")
    amounts = [0.0] * len(face_arithmetic.DIRECTION_ATTRIBUTES)
    at = face_arithmetic.DIRECTION_ATTRIBUTES.index("Eyeglasses")
    seed = next(s for s in range(200) if float(arith.judge(arith.faces.z(s)[None])[0, glasses]) < 0.3)
    amounts[at] = 0.1  # a push too small to get there
    _, status = tab.edit(seed, *amounts)
    assert status.startswith(WARN_MARK) and "Not confirmed: Eyeglasses" in status and "does not see it" in status
    amounts[at] = 4.0  # far enough for the stand-in classifier
    p = float(arith.judge((arith.faces.z(seed) + 4.0 * arith.direction("Eyeglasses"))[None])[0, glasses])
    _, status = tab.edit(seed, *amounts)
    assert status.startswith(OK_MARK if p > 0.5 else WARN_MARK) and ("Not confirmed" in status) == (p <= 0.5)


def test_the_pool_wait_shows_progress_on_its_tab_and_no_toast(tiny_faces, monkeypatch, tmp_path):
    """The first faces request on a machine waits for the labelled pool: it shows how far the
    labelling is in its own status line (no toast, which appeared on whatever tab was open), helps
    with it, and later requests pass at once."""
    from demos import common

    told = []
    monkeypatch.setattr(common.gr, "Info", lambda message, **kw: told.append(message))
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path / "empty"))  # the first start on a machine
    monkeypatch.setattr(face_arithmetic, "LABEL_CHUNK", 100)
    steps = list(common.await_pool())
    lines = [s for s in steps[:-1] if isinstance(s, str)]
    assert lines and all(s.startswith(common.WAIT_MARK) for s in lines)
    assert "100 of 300 done" in lines[0] and '<progress class="lab-progress" value="100" max="300">' in lines[0]
    assert steps[-1] == ""  # the last step clears the line
    assert face_arithmetic.load().pool_ready and told == []
    assert [s for s in common.await_pool() if isinstance(s, str)] == []  # ready: nothing to show


def test_pool_labelling_is_shared_and_survives_a_failing_helper():
    """Helpers label disjoint chunks; a chunk whose helper fails goes back for the next one; the
    labels come out in pool order."""
    import threading

    z = torch.arange(10, dtype=torch.float32)[:, None]
    calls, fail_once = [], [True]

    def judge(chunk):
        calls.append(int(chunk[0, 0]))
        if fail_once[0] and int(chunk[0, 0]) == 4:
            fail_once[0] = False
            raise RuntimeError("boom")
        return chunk * 2

    job = face_arithmetic.Labelling(z, judge, key="k", chunk=2, max_workers=2)
    with pytest.raises(RuntimeError):
        while True:
            job.step()
    assert job.progress()[0] == 4 and not job.finished
    threads = [threading.Thread(target=job.run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert job.finished and torch.equal(job.run(), z * 2) and sorted(calls) == [0, 2, 4, 4, 6, 8]


def test_a_stalled_labelling_chunk_is_taken_over():
    """The warm-up labels at the lowest priority and may get no CPU while the machine is busy: a
    person waiting for the pool must not wait for its chunk. A helper labels a chunk stalled for
    longer than the patience again; the stalled worker's late answer changes nothing."""
    import threading

    z = torch.arange(6, dtype=torch.float32)[:, None]
    release, stalled = threading.Event(), threading.Event()

    def judge(chunk):
        if int(chunk[0, 0]) == 0 and not stalled.is_set():  # the first worker's first chunk hangs
            stalled.set()
            release.wait(30)
        return chunk * 2

    job = face_arithmetic.Labelling(z, judge, key="k", chunk=2, max_workers=2, min_patience_s=0.3)
    slow = threading.Thread(target=job.step)
    slow.start()
    assert stalled.wait(10)
    t = time.monotonic()
    labels = job.run()  # a person waiting: labels chunks 1 and 2, then takes chunk 0 over
    assert torch.equal(labels, z * 2) and time.monotonic() - t < 10 and slow.is_alive()
    release.set()
    slow.join()
    assert torch.equal(job.run(), z * 2) and job.progress()[0] == 6  # counted once


def test_untrained_faces_tabs_explain(monkeypatch, tmp_path):
    monkeypatch.setattr(core.registry, "CHECKPOINTS", tmp_path)
    from demos import latent_walk, vector_arithmetic

    assert "not been trained" in latent_walk.walk(1, 2, "slerp", 8, 0.5)[2]
    assert "attribute classifier" in vector_arithmetic.draw(next(iter(PRESETS)), 0, 0.25)[-1]
    assert "attribute classifier" in vector_arithmetic.edit(1, 0)[1]


def test_faces_eval_reports_fd_and_arithmetic(tiny_faces, tmp_path):
    import numpy as np

    from core.eval.faces import evaluate
    from core.registry import get_spec

    folder = tmp_path / "real"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (109, 89, 3), dtype=np.uint8)).save(folder / f"{i}.jpg")
    # A classifier with a fixed verdict on every face: smiling, not male, glasses, not young.
    verdict = {"Smiling": True, "Male": False, "Eyeglasses": True, "Young": False}
    net = build_net(AttributeNetConfig(num_outputs=len(NAMES), base_channels=4))
    with torch.no_grad():
        net.head[-1].weight.zero_()
        net.head[-1].bias.copy_(torch.tensor([4.0 if verdict[n] else -4.0 for n in NAMES]))
    save_checkpoint(tmp_path / "fixed_judge", {"C": net}, meta={"image_size": 64, "attributes": NAMES})
    m = evaluate(get_spec("faces"), folder, tiny_faces / "faces", samples=6, batch_size=3, draws=4,
                 classifier=tmp_path / "fixed_judge")
    assert m["n_fake"] == 6 and m["n_real"] == 6 and math.isfinite(m["fd_eff"])
    assert m["arithmetic_draws"] == 4
    for name in NAMES:  # attribute coverage, real vs generated: every face has the fixed verdict
        assert m[f"rate_real_{name}"] == m[f"rate_fake_{name}"] == float(verdict[name]), name
    assert "rate_real_Blond_Hair" not in m  # an attribute the classifier does not know is left out
    # Every pool face is a confident smiling woman (p = 0.98), none a neutral woman or a man with
    # glasses: both presets lack exemplars and say which; their intended faces (smiling man, woman
    # with glasses) are 0 % and 100 % of random faces.
    smiling_man, woman_with_glasses = "smiling_man", "woman_with_glasses"
    assert m[f"success_{smiling_man}"] is None
    assert "0 generated faces look like a neutral woman" in m[f"error_{smiling_man}"]
    assert m[f"success_{woman_with_glasses}"] is None
    assert "0 generated faces look like a man with glasses" in m[f"error_{woman_with_glasses}"]
    assert m[f"base_rate_{smiling_man}"] == 0.0 and m[f"base_rate_{woman_with_glasses}"] == 1.0
    assert m["arithmetic_success"] is None


def test_arithmetic_figure_shows_exemplars_means_and_grid(arith, tmp_path):
    from core.eval import figures_faces

    out = figures_faces.arithmetic(arith, tmp_path / "arith.png", seeds=(0,))
    im = Image.open(out)
    T = figures_faces.T
    # per preset: a caption line, then exemplars above means + result (2 * T + 4) beside the 3x3 grid
    assert im.width > 13 * T and im.height >= len(PRESETS) * (2 * T + 4)


def test_a_failed_arithmetic_result_does_not_read_as_a_success():
    """The status mark follows the classifier's verdict on the result (a woman without glasses for
    'woman with glasses' was shown with the success mark)."""
    from types import SimpleNamespace

    from demos import vector_arithmetic as tab

    arith = SimpleNamespace(classifier=SimpleNamespace(names=["Eyeglasses", "Male"]))
    expect = (("Eyeglasses", True), ("Male", False))
    assert tab._satisfied(arith, torch.tensor([0.9, 0.1]), expect)
    assert not tab._satisfied(arith, torch.tensor([0.0, 0.1]), expect)  # no glasses
    assert not tab._satisfied(arith, torch.tensor([0.9, 0.8]), expect)  # a man
    assert "Eyeglasses: p = 0.00, wanted yes: **not met**" in tab._verdict(arith, torch.tensor([0.0, 0.1]), expect)
