"""Standing statistics (core.train.standing_stats, core.train.recalibrate): batch-norm statistics recomputed
for a net's weights."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from core.checkpoint import load_checkpoint, save_checkpoint
from core.nets.patchgan import PatchGANDiscriminator
from core.nets.unet import UNetGenerator
from core.registry import SHARED_DATA, get_spec
from core.train.standing_stats import standing_statistics


def test_statistics_are_the_plain_mean_over_the_batches_with_dropout_off():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(3, momentum=0.3))
    net[1].running_mean.fill_(9.0)  # stale statistics of other weights
    batches = [torch.randn(16, 3) + shift for shift in (0.0, 2.0, 4.0)]
    assert standing_statistics(net, iter(batches)) == 3
    expected_mean = torch.stack([b.mean(0) for b in batches]).mean(0)
    expected_var = torch.stack([b.var(0) for b in batches]).mean(0)  # unbiased per batch, as BatchNorm keeps it
    assert torch.allclose(net[1].running_mean, expected_mean, atol=1e-5)  # dropout would have scaled the inputs
    assert torch.allclose(net[1].running_var, expected_var, atol=1e-5)
    assert net[1].momentum == 0.3 and not net.training and not net[0].training


def test_a_failing_input_leaves_the_momentum_and_eval_mode_as_they_were():
    net = nn.Sequential(nn.BatchNorm1d(2, momentum=0.1))

    def inputs():
        yield torch.randn(4, 2)
        raise RuntimeError("data gone")

    try:
        standing_statistics(net, inputs())
    except RuntimeError:
        pass
    assert net[0].momentum == 0.1 and not net.training


def test_a_net_without_batch_norm_is_left_alone():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.2)).train()
    assert standing_statistics(net, iter([torch.randn(1, 2)])) == 0
    assert net.training


@pytest.mark.skipif(not (SHARED_DATA / "edges2shoes_handbags" / "train").is_dir(), reason="needs ../shared/data")
def test_the_cli_recalibrates_a_pix2pix_G_and_changes_nothing_else(tmp_path, capsys):
    from core.train.recalibrate import main, recalibrate_G

    spec = get_spec("sketch2photo")
    torch.manual_seed(4)
    G, D = UNetGenerator(spec.nets["G"]).eval(), PatchGANDiscriminator(spec.nets["D"]).eval()
    src = save_checkpoint(tmp_path / "src", {"G": G, "D": D}, meta={"model": "sketch2photo", "image_size": 128})
    main([str(src), str(tmp_path / "out"), "--batches", "2"])
    nets, meta = load_checkpoint(tmp_path / "out")
    source, _ = load_checkpoint(src)
    assert meta["recalibrated_from"] == str(src) and meta["standing_batches"] == 2
    before, after = source["G"].state_dict(), nets["G"].state_dict()
    stats = [k for k in after if "running" in k]
    assert stats and all(torch.equal(after[k], before[k]) for k in after if k not in stats and "num_batches" not in k)
    assert any(not torch.allclose(after[k], before[k]) for k in stats), "the statistics did not move"
    assert all(torch.equal(v, source["D"].state_dict()[k]) for k, v in nets["D"].state_dict().items())
    again = source["G"]  # seeded: the same source gives the same statistics (up to the fp16 the checkpoint stores)
    assert recalibrate_G(again, batches=2) == 2 and not again.training
    assert all(torch.equal(after[k], again.state_dict()[k].half().to(after[k].dtype)) for k in stats)
    elsewhere, missing = str(tmp_path / "x"), str(tmp_path / "none")
    for argv, said in (([str(src), str(src)], "must differ"), ([missing, elsewhere], "no checkpoint"),
                       ([str(src), elsewhere, "--batches", "1000"], "the data has")):
        with pytest.raises(SystemExit):
            main(argv)
        assert said in capsys.readouterr().err
