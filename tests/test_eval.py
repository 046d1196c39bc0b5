import json
import math

import pytest

from core.checkpoint import save_checkpoint
from core.eval.__main__ import main as eval_main
from core.nets import UNetConfig, build_net


def test_eval_cli_on_a_synthetic_folder(tmp_path, paired_folder, capsys):
    G = build_net(UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6))
    save_checkpoint(tmp_path / "ckpt", {"G": G}, meta={"image_size": 64})
    out = tmp_path / "metrics.json"
    assert eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "ckpt"),
                      "--json", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(out.read_text())
    assert printed == written
    for key in ("fd_eff", "kid_eff", "ssim", "psnr", "l1"):
        assert math.isfinite(written[key]), key
    assert written["n"] == 8
    assert 0 <= written["ssim"] <= 1 and written["psnr"] > 0 and 0 <= written["l1"] <= 1


def test_eval_cli_explains_a_missing_checkpoint(tmp_path, paired_folder, capsys):
    with pytest.raises(SystemExit):
        eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "none")])
    assert "no checkpoint" in capsys.readouterr().err


def test_eval_cli_drawing_inputs_report_colourfulness(tmp_path, paired_folder, capsys):
    G = build_net(UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6))
    save_checkpoint(tmp_path / "ckpt", {"G": G}, meta={"image_size": 64})
    assert eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "ckpt"),
                      "--inputs", "drawing"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["inputs"] == "drawing" and m["n"] == 8
    assert m["colourfulness_ratio"] == pytest.approx(m["colourfulness"] / m["colourfulness_photos"], rel=1e-3)
    assert math.isfinite(m["code_drawings_colourfulness_ratio"]) and m["code_drawings_colourfulness_ratio"] >= 0


def test_eval_cli_refuses_inputs_for_other_models(tmp_path, capsys):
    with pytest.raises(SystemExit):
        eval_main(["faces", "--data", str(tmp_path), "--inputs", "drawing"])
    assert "--inputs is for sketch2photo" in capsys.readouterr().err


def test_paper_test_mode_runs_each_image_alone_with_dropout_and_leaves_G_untouched(tmp_path):
    """The pix2pix paper's test protocol (the reference recipe's): BatchNorm on each image's own
    statistics and dropout on, seeded by the item's index; the served eval mode stays as it was."""
    import torch

    from core.eval.pix2pix import paper_outputs
    from core.pipelines.sketch2photo import Sketch2PhotoPipeline

    torch.manual_seed(0)
    G = build_net(UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=4))
    with torch.no_grad():  # running statistics unlike any one image's, as after training
        for m in G.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.fill_(0.5)
                m.running_var.fill_(4.0)
    save_checkpoint(tmp_path / "ckpt", {"G": G}, meta={"image_size": 32})
    pipe = Sketch2PhotoPipeline.from_checkpoint(tmp_path / "ckpt", precision="fp32")
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    before = {k: v.clone() for k, v in pipe.G.state_dict().items()}
    served = pipe.run(x)
    with torch.inference_mode():
        paper = paper_outputs(pipe, x, first_index=10)
        again = paper_outputs(pipe, x, first_index=10)
    assert paper.shape == served.shape and torch.equal(paper, again)  # seeded: the same on every run
    assert (paper - served).abs().mean() > 0.01  # own statistics and dropout, not the running ones
    alone = paper_outputs(pipe, x[1:2], first_index=11)  # item 1 of a batch from 10 = item 0 from 11
    assert torch.equal(paper[1:2], alone)  # each image alone: its batch-mates change nothing
    with torch.inference_mode():
        draw1 = paper_outputs(pipe, x, first_index=10, draw=1)
        assert torch.equal(paper_outputs(pipe, x, first_index=10, draw=0), paper)  # draw 0: as before
    assert (draw1 - paper).abs().mean() > 1e-3  # another draw of the dropout
    assert torch.equal(draw1, paper_outputs(pipe, x, first_index=10, draw=1))
    assert not pipe.G.training and all(torch.equal(before[k], v) for k, v in pipe.G.state_dict().items())
    assert torch.equal(pipe.run(x), served)


def test_eval_cli_paper_test_is_recorded_and_only_for_sketch2photo(tmp_path, paired_folder, capsys):
    G = build_net(UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6))
    save_checkpoint(tmp_path / "ckpt", {"G": G}, meta={"image_size": 64})
    assert eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "ckpt"),
                      "--paper-test"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["test_mode"] == "paper" and math.isfinite(m["fd_eff"]) and m["n"] == 8 and m["dropout_seed"] == 0
    with pytest.raises(SystemExit):
        eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "ckpt"),
                   "--dropout-seed", "2"])
    assert "--dropout-seed goes with --paper-test" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        eval_main(["faces", "--data", str(tmp_path), "--paper-test"])
    assert "--paper-test is for sketch2photo" in capsys.readouterr().err


def test_eval_cli_features_precision_reaches_the_fd_features_and_only_where_they_are_chosen(
        tmp_path, paired_folder, capsys, monkeypatch):
    import core.eval.__main__ as cli

    asked = []

    class Recording(cli.EfficientNetFeatures):
        def __init__(self, precision="bf16", **kw):
            asked.append(precision)
            super().__init__(precision=precision, **kw)

    monkeypatch.setattr(cli, "EfficientNetFeatures", Recording)
    G = build_net(UNetConfig(in_channels=1, base_channels=8, max_channels=16, num_downs=6))
    save_checkpoint(tmp_path / "ckpt", {"G": G}, meta={"image_size": 64})
    assert eval_main(["sketch2photo", "--data", str(paired_folder), "--checkpoint", str(tmp_path / "ckpt"),
                      "--features-precision", "fp32"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert asked == ["fp32"] and m["features_precision"] == "fp32" and math.isfinite(m["fd_eff"])
    with pytest.raises(SystemExit):
        eval_main(["face_attributes", "--data", str(tmp_path), "--features-precision", "fp32"])
    assert "picks its own features" in capsys.readouterr().err
