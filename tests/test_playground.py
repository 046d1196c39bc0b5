"""The GAN playground's core (core/playground): datasets, coverage, losses and presets, runs, the
manager's caps, idle expiry and CPU budget (with a fake clock), the compute thread, pictures; and
the tab's refusals of bad inputs."""
from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

from core.playground import losses
from core.playground.compute import ComputeThread
from core.playground.coverage import coverage
from core.playground.data import DATASETS, MAX_POINTS, VIEW, blob, check_points, clusters, make_dataset, ring
from core.playground.manager import MAX_STEPS, Full, RunManager
from core.playground.render import data_url, pad_image, pad_to_view, picture
from core.playground.session import COVERAGE_POINTS, HEAT_SIDE, SHOW_POINTS, History, PlaygroundRun
from core.playground.settings import PRESETS, Settings

RING = ring()


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """As on the app's compute thread (core.playground.compute): these nets run 10x slower with two
    intra-op threads on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
# The presets' figures on the ring (seed 0), measured by bench/gan_playground.py: the collapse
# preset settles on a few modes, WGAN-GP and hinge + spectral norm cover all 8 (bench: after 3,000
# steps on every seed). Hinge gets there later on some CPUs (rounding differs by vector unit and the
# run takes another path): 1,000-1,500 steps on an AMD EPYC, 1,750 on an Intel Xeon with AVX-512,
# where it covered 6 at 1,500; so it is asked at the bench's 3,000.
COLLAPSE_STEPS, COLLAPSE_MAX_MODES = 750, 3
COVER_STEPS = {"wgan_gp": 750, "hinge": 3000}


def _three_blobs(rng=None) -> np.ndarray:
    rng = rng or np.random.default_rng(0)
    return np.concatenate([blob(-1.5, 1.5, rng), blob(1.5, 1.5, rng), blob(0.0, -1.5, rng)])


# ---- data ------------------------------------------------------------------------------------------

def test_every_dataset_samples_seeded_points_inside_the_view():
    for name in DATASETS:
        data = make_dataset(name, _three_blobs() if name == "drawn" else None)
        a = data.sample(500, np.random.default_rng(3))
        b = data.sample(500, np.random.default_rng(3))
        assert a.shape == (500, 2) and a.dtype == np.float32 and np.array_equal(a, b), name
        assert np.abs(a).max() < VIEW, name
        assert math.isclose(data.mode_mass.sum(), 1.0) and data.labels.max() == data.n_modes - 1, name
    assert make_dataset("ring").n_modes == 8 and make_dataset("grid").n_modes == 25
    assert make_dataset("drawn", _three_blobs()).n_modes == 3


@pytest.mark.parametrize("points, reason", [
    ([[0, 0]] * 3, "between 8 and"),
    ([[0, 0]] * (MAX_POINTS + 1), "between 8 and"),
    ([[0, 0, 0]] * 10, "(N, 2)"),
    ([[0, math.nan]] * 10, "finite"),
    ([[0, math.inf]] * 10, "finite"),
    ([[0, 5.0]] * 10, "inside the view"),
    ([["a", "b"]] * 10, "number pairs"),
    ("abc", "number pairs"),
    (None, "(N, 2)"),
])
def test_drawn_points_are_checked(points, reason):
    with pytest.raises(ValueError, match=None) as e:
        check_points(points)
    assert reason in str(e.value)


def test_unknown_dataset_and_empty_drawing_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="choose one of ring"):
        make_dataset("../../etc/passwd")
    with pytest.raises(ValueError, match="no drawn points yet"):
        make_dataset("drawn", None)


def test_clusters_are_the_separate_blobs():
    pts = _three_blobs()
    labels = clusters(pts)
    assert sorted(set(labels)) == [0, 1, 2] and labels[0] == 0
    assert len(set(labels[:24])) == 1 and len(set(labels[24:48])) == 1


# ---- coverage ------------------------------------------------------------------------------------------

def test_the_data_itself_covers_every_mode_and_lies_within_three_sigma():
    for name in ("ring", "grid", "moons", "spiral"):
        data = make_dataset(name)
        cov = coverage(data.sample(4000, np.random.default_rng(0)), data)
        assert cov.covered == cov.n_modes, name
        assert cov.on_data > 0.97, (name, cov.on_data)  # 3 sigma holds 98.9 % of a 2D Gaussian


def test_a_collapsed_generator_covers_one_mode():
    centre = RING.reference[2]
    cov = coverage(centre + np.random.default_rng(0).normal(0, 0.02, (1000, 2)), RING)
    assert (cov.covered, round(cov.on_data, 2)) == (1, 1.0)
    assert cov.shares.argmax() == 2 and cov.line().startswith("1/8 modes covered, 100% of points within 3σ")


def test_a_mode_needs_a_quarter_of_its_share():
    rng = np.random.default_rng(0)
    # 97 % on mode 0, 3 % on mode 1: mode 1 gets 3 % < 1/4 of 12.5 %: not covered; 4 % is.
    for on_second, covered in ((30, 1), (40, 2)):
        pts = np.concatenate([RING.reference[0] + rng.normal(0, 0.02, (1000 - on_second, 2)),
                              RING.reference[1] + rng.normal(0, 0.02, (on_second, 2))])
        assert coverage(pts, RING).covered == covered


def test_points_off_the_data_and_broken_points_cover_nothing():
    assert coverage(np.zeros((500, 2)), RING).covered == 0  # the ring's centre
    cov = coverage(np.full((10, 2), np.nan), RING)
    assert (cov.covered, cov.on_data) == (0, 0.0)
    assert coverage(np.zeros((0, 2)), RING).covered == 0


def test_curves_have_parts_and_drawn_data_has_clusters():
    moons = make_dataset("moons")
    upper_only = moons.sample(4000, np.random.default_rng(0))[:0]  # none
    assert coverage(upper_only, moons).covered == 0
    half = moons.reference[moons.labels < 4]  # the upper moon's 4 parts
    cov = coverage(np.repeat(half, 3, axis=0), moons)
    assert (cov.covered, cov.n_modes, cov.mode_word) == (4, 8, "parts")
    drawn = make_dataset("drawn", _three_blobs())
    cov = coverage(drawn.points[:24], drawn)
    assert (cov.covered, cov.n_modes, cov.mode_word) == (1, 3, "clusters")


# ---- losses and settings ------------------------------------------------------------------------------

def test_losses_have_the_papers_values_at_known_scores():
    zero = torch.zeros(4)
    log2 = math.log(2)
    assert math.isclose(losses.loss_D("nonsaturating", zero, zero), 2 * log2, rel_tol=1e-6)
    assert math.isclose(losses.loss_G("minimax", zero), -log2, rel_tol=1e-6)
    assert math.isclose(losses.loss_G("nonsaturating", zero), log2, rel_tol=1e-6)
    assert math.isclose(losses.loss_D("lsgan", torch.ones(4), zero), 0.0)
    assert math.isclose(losses.loss_D("wgan", torch.full((4,), 2.0), torch.ones(4)), -1.0)
    assert math.isclose(losses.loss_D("hinge", torch.full((4,), 2.0), torch.full((4,), -2.0)), 0.0)
    assert math.isclose(losses.loss_G("hinge", torch.full((4,), 3.0)), -3.0)
    with pytest.raises(ValueError, match="unknown loss"):
        losses.loss_G("nope", zero)


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    class Slope(torch.nn.Module):
        def forward(self, x):
            return x[:, 0]

    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert float(losses.gradient_penalty(Slope(), real, fake)) < 1e-10


@pytest.mark.parametrize("changes, reason", [
    (dict(loss="nope"), "unknown loss"),
    (dict(lr_G=1.0), "lr_G must lie in"),
    (dict(lr_D=math.nan), "finite number"),
    (dict(d_steps=2.5), "whole number"),
    (dict(d_steps=0), "d_steps must lie in"),
    (dict(noise_dim=10**30), "noise_dim must lie in"),
    (dict(noise_dim=True), "whole number"),
    (dict(optimizer="sgd"), "optimizer"),
])
def test_settings_refuse_bad_values_with_the_field_name(changes, reason):
    with pytest.raises(ValueError) as e:
        Settings(**changes)
    assert reason in str(e.value)


# ---- runs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_trains_with_finite_losses_and_gives_a_full_snapshot(preset):
    run = PlaygroundRun(RING, PRESETS[preset][0], seed=0)
    run.step(20)
    snap = run.snapshot()
    assert snap.step == 20 and snap.history.shape == (20, 3) and np.isfinite(snap.history).all()
    assert snap.vae_history.shape == (20, 2) and np.isfinite(snap.vae_history).all()
    assert snap.real.shape == snap.fake.shape == snap.arrows.shape == snap.vae.shape == (SHOW_POINTS, 2)
    assert snap.heat.shape == (HEAT_SIDE, HEAT_SIDE) and 0 <= snap.heat.min() <= snap.heat.max() <= 1
    assert np.isfinite(snap.arrows).all() and np.abs(snap.arrows).sum() > 0
    assert snap.coverage.n_modes == 8 and snap.coverage_history.shape == (1, 3)


def test_runs_are_seeded_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = PlaygroundRun(RING, PRESETS["nonsaturating"][0], seed=5)
    b = PlaygroundRun(RING, PRESETS["nonsaturating"][0], seed=5)
    assert torch.equal(torch.rand(1), before)
    a.step(15)
    b.step(15)
    assert np.array_equal(a.fake_points(), b.fake_points())
    assert a.fake_points().shape == (COVERAGE_POINTS, 2)


def test_wgan_clipping_keeps_the_critic_weights_bounded():
    s = PRESETS["wgan"][0]
    run = PlaygroundRun(RING, s, seed=0, vae=False)
    run.step(5)
    assert max(float(p.detach().abs().max()) for p in run.D.parameters()) <= s.clip + 1e-9


def test_the_picture_before_play_makes_no_optimizer_and_the_first_step_makes_them_as_set():
    """The tab draws a run's step 0 while the app starts: torch's first optimizer would import
    torch._dynamo (2-4 s) on that path. The optimizers appear at the first step, with the run's
    settings (retuned ones included)."""
    run = PlaygroundRun(RING, PRESETS["nonsaturating"][0], seed=0)
    run.snapshot()
    assert not {"opt_G", "opt_D", "opt_vae"} & set(vars(run))
    run.retune(run.settings.changed(lr_G=3e-4))
    run.step(1)
    assert run.opt_G.param_groups[0]["lr"] == 3e-4 and run.opt_D.param_groups[0]["lr"] == run.settings.lr_D
    assert all(opt.state for opt in (run.opt_G, run.opt_D, run.opt_vae))  # each one has stepped


def test_retune_changes_learning_rates_and_d_steps_only():
    run = PlaygroundRun(RING, PRESETS["nonsaturating"][0], seed=0, vae=False)
    run.retune(run.settings.changed(lr_G=2e-4, lr_D=5e-4, d_steps=3))
    assert run.opt_G.param_groups[0]["lr"] == 2e-4 and run.opt_D.param_groups[0]["lr"] == 5e-4
    assert run.settings.d_steps == 3
    with pytest.raises(ValueError, match="start a new one"):
        run.retune(run.settings.changed(noise_dim=4))


def test_history_thins_but_spans_the_whole_run():
    h = History(2, limit=10)
    for i in range(1, 101):
        h.add(i, 0.0)
    rows = h.array()
    assert len(rows) < 10 and rows[0, 0] == 1 and rows[-1, 0] > 80


def test_the_collapse_preset_covers_few_modes_on_the_ring():
    run = PlaygroundRun(RING, PRESETS["nonsaturating"][0], seed=0, vae=False)
    run.step(COLLAPSE_STEPS)
    cov = run.coverage()
    assert cov.covered <= COLLAPSE_MAX_MODES, cov.line()
    assert cov.on_data > 0.5, cov.line()  # the points it makes are on the data: collapse, not failure


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(COVER_STEPS))
def test_wgan_gp_and_hinge_with_spectral_norm_cover_all_eight_modes(preset):
    run = PlaygroundRun(RING, PRESETS[preset][0], seed=0, vae=False)
    run.step(COVER_STEPS[preset])
    cov = run.coverage()
    assert cov.covered == 8, cov.line()


# ---- the manager: caps, idle expiry, budget --------------------------------------------------------------

class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _settings() -> Settings:
    return PRESETS["nonsaturating"][0]


def test_the_manager_caps_live_runs_and_frees_a_place_on_drop():
    m = RunManager(max_runs=2, clock=Clock())
    m.start("a", RING, _settings())
    m.start("b", RING, _settings())
    m.start("a", RING, _settings())  # a new run for a key that has one: no extra place
    with pytest.raises(Full, match="The playground is full: 2 runs"):
        m.start("c", RING, _settings())
    assert m.live() == 2 and m.drop("a") and not m.drop("a")
    m.start("c", RING, _settings())
    assert m.live() == 2 and m.has("c") and not m.has("a")


def test_idle_runs_expire_and_use_keeps_a_run_alive():
    clock = Clock()
    m = RunManager(max_runs=2, idle_s=60, clock=clock)
    m.start("a", RING, _settings())
    m.start("b", RING, _settings())
    for _ in range(4):  # a is used every 30 s, b never
        clock.t += 30
        assert m.tick("a", 50) is not None
    assert m.has("a") and not m.has("b") and m.live() == 1
    assert m.tick("b", 50) is None and m.step("b", 5) is None and m.snapshot("b") is None
    clock.t += 61
    assert m.live() == 0


def test_a_run_trains_no_faster_than_its_rate_however_often_it_ticks():
    clock = Clock()
    m = RunManager(clock=clock, share=100.0)  # a budget that never binds: the rate alone counts
    m.start("a", RING, _settings())
    total = 0
    for _ in range(20):  # 20 ticks of 0.1 s at 50 steps/s: 100 steps
        clock.t += 0.1
        total += m.tick("a", 50)[1]
    assert 95 <= total <= 100
    assert [m.tick("a", 50) for _ in range(10)] == [(None, 0)] * 10  # no time passed: no steps, no pictures
    clock.t += 100  # a long pause (shorter than idle_s) earns no more than MAX_GAP_S worth
    assert m.tick("a", 50)[1] <= 25


def test_ticking_runs_share_the_cpu_budget():
    clock = Clock()
    m = RunManager(clock=clock)
    assert m.interval() == m.tick_s
    for k in "abcdef":
        m.start(k, RING, _settings())
        m.tick(k, 1)
    assert m.ticking() == 6 and m.interval() == pytest.approx(3 * m.tick_s)
    entry = m._entry("a")
    assert m._budget_s(entry) == pytest.approx(max(0.004, m.share * m.interval() / 6 - entry.snapshot_s))
    assert m.timer_interval("a") == pytest.approx(3 * m.tick_s) and m.timer_interval("a") is None
    clock.t += 10  # nobody ticked for a while
    assert m.ticking() == 0 and m.interval() == m.tick_s


def test_a_tick_stops_at_its_time_budget():
    clock = Clock()
    m = RunManager(clock=clock, share=0.02, max_rate=200)  # 5 ms per tick
    m.start("a", RING, PRESETS["wgan_gp"][0])
    clock.t += 0.5
    t0 = time.perf_counter()
    _, done = m.tick("a", 200)
    assert 1 <= done < 100 and time.perf_counter() - t0 < 1.0


def test_a_run_stops_at_max_steps():
    clock = Clock()
    m = RunManager(clock=clock, share=100.0)
    m.start("a", RING, _settings())
    m.run("a").step_count = MAX_STEPS - 3
    clock.t += 0.5
    assert m.tick("a", 200)[1] == 3
    clock.t += 0.5
    assert m.tick("a", 200) == (None, 0) and m.step("a", 10) == (None, 0) and m.finished("a")


# ---- the compute thread ---------------------------------------------------------------------------------

def test_the_compute_thread_runs_one_torch_thread_and_leaves_the_others_theirs():
    torch.set_num_threads(2)  # as the app has it (this module's fixture runs the rest on 1)
    before = torch.get_num_threads()
    compute = ComputeThread("test-playground")
    try:
        assert compute.threads() == 1
        assert torch.get_num_threads() == before
        seen = []
        t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        t.start()
        t.join()
        assert seen == [before]  # threads started later copy the app's number, not 1
        m = RunManager(compute=compute)
        assert m.start("a", RING, _settings()).step == 0
        with pytest.raises(ZeroDivisionError):
            compute.call(lambda: 1 / 0)
    finally:
        compute.close()
        torch.set_num_threads(1)


# ---- pictures -------------------------------------------------------------------------------------------

def test_the_picture_and_the_pad():
    run = PlaygroundRun(RING, _settings(), seed=0)
    run.step(3)
    snap = run.snapshot()
    im = picture(snap)
    assert im.size[0] > 600 and im.size[1] > 500
    url = data_url(im)
    assert url.startswith("data:image/jpeg;base64,") and len(url) < 300_000
    assert pad_image(_three_blobs()).size == (240, 240)
    assert pad_to_view(0, 0) == (-VIEW, VIEW) and pad_to_view(120, 120) == (0.0, 0.0)


def test_the_picture_survives_nan_points():
    run = PlaygroundRun(RING, _settings(), seed=0)
    snap = run.snapshot()
    broken = type(snap)(**{**snap.__dict__, "fake": np.full_like(snap.fake, np.nan),
                           "arrows": np.full_like(snap.arrows, np.inf)})
    assert picture(broken).size == picture(snap).size


# ---- the tab's refusals ------------------------------------------------------------------------------------

class Request:
    def __init__(self, session_hash="test-session"):
        self.session_hash = session_hash


def test_the_tab_refuses_bad_inputs_with_clear_messages():
    import gradio as gr

    from demos import gan_playground as tab

    conf = dict(dataset="ring", preset="nonsaturating", lr_G="1e-3", lr_D="1e-3", d_steps=1, noise_dim=2,
                spectral=False, seed=0, points=None)
    bad = [(dict(dataset="../../etc/passwd"), "Data: choose one of"), (dict(preset=None), "Loss: choose one of"),
           (dict(lr_G="0.5"), "Learning rate of G"), (dict(lr_D=[1]), "Learning rate of D"),
           (dict(spectral="abc"), "Spectral norm")]
    for change, message in bad:
        with pytest.raises(gr.Error) as e:
            tab.restart(**{**conf, **change}, request=Request())
        assert message in e.value.message, (change, e.value.message)
    with pytest.raises(gr.Error, match="browser session"):
        tab.restart(**conf, request=None)
    views, readout, status = tab.restart(**{**conf, "dataset": "drawn"}, request=Request())  # a hint, not an error
    assert "nothing drawn yet" in status
    for index in (0, None, [1], [1, "a"], [1, math.nan], [-1, 5], [10**30, 0], [True, 3]):
        evt = type("Evt", (), {"index": index})()
        with pytest.raises(gr.Error, match="two pixel coordinates"):
            tab.add_points(evt, None, "drawn", Request())
    assert tab._lr(1e-3, "x") == 1e-3 and tab._lr("5e-5", "x") == 5e-5
