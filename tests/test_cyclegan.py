"""CycleGAN parts: ResNet generator, unpaired data, image pool, a short training run."""
import dataclasses

import torch
from PIL import Image

from core.checkpoint import load_checkpoint
from core.data.unpaired import UnpairedDataset, split_files
from core.nets import PatchGANConfig, ResnetConfig, ResnetGenerator
from core.registry import get_spec
from core.train import TrainConfig, train
from core.train.events import read_events
from core.train.tasks.cyclegan import ImagePool


def test_resnet_generator_is_fully_convolutional():
    g = ResnetGenerator(ResnetConfig(base_channels=8, num_blocks=2)).eval()
    for h, w in [(64, 64), (96, 160)]:
        y = g(torch.rand(1, 3, h, w) * 2 - 1)
        assert y.shape == (1, 3, h, w) and y.abs().max() <= 1


def _folder(path, n, size, colour):
    path.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", size, colour).save(path / f"{i}.png")
    return path


def test_unpaired_dataset_crops_any_size_and_holds_out(tmp_path):
    a = _folder(tmp_path / "A", 10, (300, 200), "red")
    b = _folder(tmp_path / "B", 3, (64, 80), "blue")
    ds = UnpairedDataset([a], [b], crop_size=64, seed=0)
    item = ds[0]
    assert item["A"].shape == item["B"].shape == (3, 64, 64)
    assert item["A"][0].mean() > 0.9 and item["B"][2].mean() > 0.9  # red A, blue B
    files = sorted(a.iterdir())
    train, val = split_files(files, "train", 0.3), split_files(files, "val", 0.3)
    assert set(train).isdisjoint(val) and len(train) + len(val) == len(files)


def test_image_pool_mixes_old_fakes():
    pool = ImagePool(size=2)
    first = pool.query(torch.zeros(2, 3, 4, 4))
    assert torch.equal(first, torch.zeros(2, 3, 4, 4))
    out = torch.cat([pool.query(torch.ones(1, 3, 4, 4)) for _ in range(40)])
    assert (out.amax(dim=(1, 2, 3)) == 0).any() or len(pool.images) == 2


def test_two_cyclegan_steps_write_both_generators(tmp_path):
    root = tmp_path / "data"
    _folder(root / "trainA", 4, (80, 80), "brown")
    _folder(root / "trainB", 4, (80, 80), "white")
    g, d = ResnetConfig(base_channels=8, num_blocks=1), PatchGANConfig(in_channels=3, base_channels=8, norm="instance")
    spec = dataclasses.replace(get_spec("horse2zebra"), nets={"G_A": g, "G_B": g, "D_A": d, "D_B": d})
    config = TrainConfig(steps=2, batch_size=1, image_size=64, log_every=1, sample_every=2, checkpoint_every=2,
                         data_root=str(root))
    run = train(spec, config, run_dir=tmp_path / "run")
    steps = [e for e in read_events(run / "events.jsonl") if e["event"] == "step"]
    assert {"loss_G_A_gan", "loss_cycle_A", "loss_idt_B", "loss_D_A"} <= set(steps[-1]["losses"])
    nets, meta = load_checkpoint(run / "checkpoint")
    assert set(nets) == {"G_A", "G_B"} and meta["step"] == 2


def test_pipeline_and_eval_cli_on_a_synthetic_test_folder(tmp_path, capsys):
    import json

    from core.checkpoint import save_checkpoint
    from core.eval.__main__ import main as eval_main
    from core.nets import build_net
    from core.pipelines.horse2zebra import HorseZebraPipeline

    g = ResnetConfig(base_channels=8, num_blocks=1)
    save_checkpoint(tmp_path / "ckpt", {"G_A": build_net(g), "G_B": build_net(g)}, meta={"image_size": 64})
    pipe = HorseZebraPipeline.from_checkpoint(tmp_path / "ckpt")
    big = Image.new("RGB", (1030, 700), "brown")
    t = pipe(big)
    assert t.output.size == t.input.size == t.reconstruction.size == (512, 344)  # aspect kept, sides multiples of 4
    assert "downscaled from 1030x700" in t.note
    _folder(tmp_path / "data" / "testA", 3, (90, 70), "brown")
    _folder(tmp_path / "data" / "testB", 3, (70, 90), "white")
    assert eval_main(["horse2zebra", "--data", str(tmp_path / "data"), "--checkpoint", str(tmp_path / "ckpt")]) == 0
    m = json.loads(capsys.readouterr().out)
    assert 0 <= m["zebra_rate"] <= 1 and 0 <= m["horse_rate"] <= 1 and m["cycle_psnr"] > 0 and m["n_A"] == 3
