"""CycleGAN parts: ResNet generator, unpaired data, image pool, a short training run."""
import dataclasses
import random

import torch
from PIL import Image, ImageColor

from core.checkpoint import load_checkpoint
from core.data.unpaired import UnpairedDataset, split_files
from core.nets import PatchGANConfig, ResnetConfig, ResnetGenerator
from core.registry import get_spec
from core.train import TrainConfig, train
from core.train.events import read_events
from core.train.tasks import cyclegan as cyclegan_task
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
    # Plain colours stay exactly themselves through any crop, resize and flip: red A, blue B in [-1, 1].
    red, blue = torch.tensor([1.0, -1.0, -1.0]), torch.tensor([-1.0, -1.0, 1.0])
    assert torch.allclose(item["A"], red[:, None, None].expand(3, 64, 64), atol=1e-5)
    assert torch.allclose(item["B"], blue[:, None, None].expand(3, 64, 64), atol=1e-5)
    files = sorted(a.iterdir())
    train, val = split_files(files, "train", 0.3), split_files(files, "val", 0.3)
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(files)


def test_image_pool_mixes_old_fakes(monkeypatch):
    monkeypatch.setattr(cyclegan_task, "random", random.Random(0))  # the pool's coin flips, fixed
    pool = ImagePool(size=2)
    fake = lambda v: torch.full((1, 3, 4, 4), float(v))  # fake number v, told apart by its value
    first = pool.query(torch.cat([fake(-2), fake(-1)]))
    assert torch.equal(first, torch.cat([fake(-2), fake(-1)]))  # filling up: the new fakes pass through
    shown = [float(pool.query(fake(k))[0, 0, 0, 0]) for k in range(1, 41)]
    held = [float(img[0, 0, 0]) for img in pool.images]
    # Every fake is either shown once or still held: a stored fake leaves the pool when it is shown.
    assert len(held) == 2 and sorted(shown + held) == [-2, -1, *range(1, 41)]
    old = [k for k, v in zip(range(1, 41), shown) if v != k]  # steps that showed a stored fake instead
    assert all(shown[k - 1] < k for k in old)  # ... always an older one
    assert {-2.0, -1.0} & set(shown)  # the first fakes come back later
    assert 10 <= len(old) <= 30  # about half the time (p = 0.5): 20 +- 3 sd for 40 queries


def tiny_cyclegan(tmp_path):
    """(a 1-block CycleGAN spec, a data root of 4 brown and 4 white 80 px pictures): for training tests."""
    root = tmp_path / "data"
    _folder(root / "trainA", 4, (80, 80), "brown")
    _folder(root / "trainB", 4, (80, 80), "white")
    g, d = ResnetConfig(base_channels=8, num_blocks=1), PatchGANConfig(in_channels=3, base_channels=8, norm="instance")
    return dataclasses.replace(get_spec("horse2zebra"), nets={"G_A": g, "G_B": g, "D_A": d, "D_B": d}), root


def test_two_cyclegan_steps_write_both_generators(tmp_path):
    spec, root = tiny_cyclegan(tmp_path)
    config = TrainConfig(steps=2, batch_size=1, image_size=64, log_every=1, sample_every=2, checkpoint_every=2,
                         data_root=str(root))
    run = train(spec, config, run_dir=tmp_path / "run")
    steps = [e for e in read_events(run / "events.jsonl") if e["event"] == "step"]
    assert {"loss_G_A_gan", "loss_cycle_A", "loss_idt_B", "loss_D_A"} <= set(steps[-1]["losses"])
    nets, meta = load_checkpoint(run / "checkpoint")
    assert set(nets) == {"G_A", "G_B", "D_A", "D_B"} and meta["step"] == 2  # the Ds ship for the tab's verdicts


def test_pipeline_and_eval_cli_on_a_synthetic_test_folder(tmp_path, capsys):
    import json

    from core.checkpoint import save_checkpoint
    from core.eval.__main__ import main as eval_main
    from core.nets import build_net
    from core.pipelines.horse2zebra import HorseZebraPipeline

    g = ResnetConfig(base_channels=8, num_blocks=1)
    nets = {"G_A": build_net(g), "G_B": build_net(g)}
    with torch.no_grad():  # a last conv of zeros: each generator paints every pixel tanh(0) = 0, mid grey
        for net in nets.values():
            last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            last.weight.zero_(), last.bias.zero_()
    save_checkpoint(tmp_path / "ckpt", nets, meta={"image_size": 64})
    pipe = HorseZebraPipeline.from_checkpoint(tmp_path / "ckpt")
    big = Image.new("RGB", (1030, 700), "brown")
    t = pipe(big)
    assert t.output.size == t.input.size == t.reconstruction.size == (512, 344)  # aspect kept, sides multiples of 4
    assert "downscaled from 1030x700" in t.note
    level = t.output.getextrema()[0][0]  # 0 in [-1, 1] is 127.5: one grey level, the same in R, G and B
    assert level in (127, 128) and t.output.getextrema() == t.reconstruction.getextrema() == ((level, level),) * 3
    brown = torch.tensor(ImageColor.getrgb("brown")) / 255.0
    grey_vs_brown = float(10 * torch.log10(1 / ((brown - 0.5) ** 2).mean()))  # PSNR of mid grey against brown, dB
    assert abs(t.cycle_psnr - grey_vs_brown) < 0.05
    _folder(tmp_path / "data" / "testA", 3, (90, 70), "brown")
    _folder(tmp_path / "data" / "testB", 3, (70, 90), "white")
    assert eval_main(["horse2zebra", "--data", str(tmp_path / "data"), "--checkpoint", str(tmp_path / "ckpt")]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["n_A"] == m["n_B"] == 3
    assert abs(m["cycle_psnr"] - grey_vs_brown) < 0.05  # A -> grey -> grey, against the brown horses
    # Both directions made the same grey picture: the classifier calls it a zebra (zebra_rate 1) or a
    # horse (horse_rate 1), never both or neither.
    assert m["zebra_rate"] in (0, 1) and m["zebra_rate"] + m["horse_rate"] == 1
