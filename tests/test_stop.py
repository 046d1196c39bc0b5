"""Cutting a forward pass short when a newer request replaced it (core.pipelines.base: stoppable,
stop_when, check_stop): the sketch canvas drops the older of two requests from the same page."""
from __future__ import annotations

import copy
import threading

import pytest
import torch

from core.nets import UNetConfig, build_net
from core.pipelines import Superseded, check_stop, stop_when
from core.pipelines.base import stoppable
from core.pipelines.sketch2photo import Sketch2PhotoPipeline

G_SMALL = UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=5)


def _convs(net: torch.nn.Module) -> int:
    return sum(isinstance(m, torch.nn.modules.conv._ConvNd) for m in net.modules())


def _counting(net: torch.nn.Module) -> list[int]:
    """A counter of the convolutions that actually ran (a hook after stoppable's own)."""
    ran = [0]
    for m in net.modules():
        if isinstance(m, torch.nn.modules.conv._ConvNd):
            m.register_forward_hook(lambda *_: ran.__setitem__(0, ran[0] + 1))
    return ran


class _AfterChecks:
    """stop() that turns true on its k-th call."""

    def __init__(self, k: int):
        self.k, self.calls = k, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.k


@torch.inference_mode()
def test_a_forward_stops_before_the_convolution_where_the_check_turns_true():
    net = stoppable(build_net(G_SMALL).eval())
    assert stoppable(net) is net  # idempotent: one check per convolution, not two
    ran, x = _counting(net), torch.zeros(1, 1, 64, 64)
    total = _convs(net)
    stop = _AfterChecks(5)
    with stop_when(stop), pytest.raises(Superseded):
        net(x)
    assert ran[0] == 4 and stop.calls == 5  # four convolutions ran; the fifth was never started
    ran[0] = 0
    with stop_when(lambda: False):
        out = net(x)
    assert ran[0] == total and out.shape == (1, 3, 64, 64)
    ran[0] = 0
    net(x)  # outside any stop_when: never stopped
    assert ran[0] == total


def test_the_check_belongs_to_one_thread_and_is_restored_after_the_block():
    net = stoppable(build_net(G_SMALL).eval())
    x = torch.zeros(1, 1, 64, 64)
    inside, other = threading.Event(), {}

    def elsewhere():  # runs the same net while this thread is told to stop
        inside.wait(10)
        with torch.inference_mode():
            other["shape"] = tuple(net(x).shape)

    t = threading.Thread(target=elsewhere)
    t.start()
    with stop_when(lambda: True):
        inside.set()
        t.join(30)
        with pytest.raises(Superseded):
            check_stop()
        with stop_when(None):  # nested: a block that never stops
            check_stop()
        with pytest.raises(Superseded):
            check_stop()  # the outer check is back
    check_stop()  # and none after the block
    assert other["shape"] == (1, 3, 64, 64)


@torch.inference_mode()
def test_the_sketch_pipeline_is_stoppable_and_answers_the_same_when_not_stopped():
    plain = build_net(G_SMALL).eval()
    pipe = Sketch2PhotoPipeline(copy.deepcopy(plain), 64, torch.device("cpu"))  # served as it is or as a twin
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    with stop_when(lambda: False):
        assert torch.allclose(pipe.run(x), plain(x), atol=1e-5)
    with stop_when(lambda: True), pytest.raises(Superseded):
        pipe.run(x)
