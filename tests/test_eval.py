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
