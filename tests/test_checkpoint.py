import json

import pytest
import torch

import core.checkpoint as ckpt
from core.nets import PatchGANConfig, UNetConfig, build_net


def _net():
    torch.manual_seed(0)
    net = build_net(UNetConfig(base_channels=8, max_channels=32, num_downs=5)).eval()
    # Non-trivial BatchNorm running stats, so buffers are checked too.
    net.train()
    net(torch.randn(4, 1, 64, 64))
    return net.eval()


def test_round_trip_fp32_is_identical(tmp_path):
    net = _net()
    ckpt.save_checkpoint(tmp_path / "m", {"G": net}, meta={"image_size": 64}, dtype=torch.float32)
    nets, meta = ckpt.load_checkpoint(tmp_path / "m")
    x = torch.randn(2, 1, 64, 64)
    assert torch.equal(nets["G"](x), net(x))
    assert meta == {"image_size": 64}


def test_round_trip_fp16_is_stable_and_close(tmp_path):
    net = _net()
    ckpt.save_checkpoint(tmp_path / "a", {"G": net})
    a, _ = ckpt.load_checkpoint(tmp_path / "a")
    ckpt.save_checkpoint(tmp_path / "b", {"G": a["G"]})
    b, _ = ckpt.load_checkpoint(tmp_path / "b")
    x = torch.randn(2, 1, 64, 64)
    assert torch.equal(a["G"](x), b["G"](x))  # fp16 -> fp32 -> fp16 is lossless
    assert (a["G"](x) - net(x)).abs().max() < 2e-2


def test_several_nets_in_one_checkpoint(tmp_path):
    g, d = _net(), build_net(PatchGANConfig(in_channels=4, base_channels=8))
    ckpt.save_checkpoint(tmp_path / "m", {"G": g, "D": d})
    nets, _ = ckpt.load_checkpoint(tmp_path / "m")
    assert set(nets) == {"G", "D"}


def test_unknown_config_keys_are_rejected(tmp_path):
    ckpt.save_checkpoint(tmp_path / "m", {"G": _net()})
    path = tmp_path / "m" / "config.json"
    data = json.loads(path.read_text())
    data["nets"]["G"]["width_multiplier"] = 2
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="width_multiplier"):
        ckpt.load_checkpoint(tmp_path / "m")
    data["nets"]["G"].pop("width_multiplier")
    data["extra"] = 1
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="extra"):
        ckpt.load_checkpoint(tmp_path / "m")


def test_crash_during_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    net = _net()
    ckpt.save_checkpoint(tmp_path / "m", {"G": net}, card="# card\n")
    before = (tmp_path / "m" / "model.safetensors").read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "save_file", boom)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(tmp_path / "m", {"G": build_net(UNetConfig(base_channels=8, max_channels=32, num_downs=5))})
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == before
    assert (tmp_path / "m" / "MODEL_CARD.md").read_text() == "# card\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp folders left behind


def test_model_card_survives_a_resave(tmp_path):
    ckpt.save_checkpoint(tmp_path / "m", {"G": _net()}, card="# card\n")
    ckpt.save_checkpoint(tmp_path / "m", {"G": _net()})
    assert (tmp_path / "m" / "MODEL_CARD.md").read_text() == "# card\n"


def test_the_time_lapse_survives_a_resave_and_a_symlinked_one_is_not_followed(tmp_path):
    ckpt.save_checkpoint(tmp_path / "m", {"G": _net()}, card="# card\n")
    (tmp_path / "m" / "timelapse").mkdir()
    (tmp_path / "m" / "timelapse" / "timelapse.json").write_text("{}")
    ckpt.save_checkpoint(tmp_path / "m", {"G": _net()})  # e.g. a D attached to the shipped G
    assert (tmp_path / "m" / "timelapse" / "timelapse.json").read_text() == "{}"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    ckpt.save_checkpoint(tmp_path / "n", {"G": _net()})
    (tmp_path / "n" / "timelapse").symlink_to(outside)
    ckpt.save_checkpoint(tmp_path / "n", {"G": _net()})
    assert not (tmp_path / "n" / "timelapse").exists()
