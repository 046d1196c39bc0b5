"""Does the DCGAN need replacing, or only an encoder? (issue 17's design choice, on a small budget)

    python bench/faces_encoder_ablation.py [--steps 1500] [--json FILE]

The cheapest way to give a real photo a latent is an encoder trained afterwards for the shipped,
frozen DCGAN generator (the inversion encoder of Zhu et al. 2016, iGAN): E(G(z)) ~ z on generated
faces plus |G(E(x)) - x|_1 on real training faces. This trains one (the v2 encoder's layout, z 100)
and measures it with faces v2's held-out figures: reconstruction (PSNR, the classifier's attribute
agreement, encoder alone and with the tabs' latent optimisation) and the presets' arithmetic with
real exemplars. Faces v2 (the VAE-GAN, where E and G learn together) is compared on the same
faces by `python -m core.eval faces_v2`. Caveat, in the DCGAN's favour: it was trained on all
9,000 faces, the held-out 10 % included.
"""
from __future__ import annotations
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app runs (core/__init__.py); before torch loads

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import emit  # noqa: E402
from core.device import setup_threads  # noqa: E402
from core.eval import faces as faces_eval  # noqa: E402
from core.eval import faces_v2  # noqa: E402
from core.nets import FaceEncoderConfig, build_net  # noqa: E402
from core.pipelines.face_arithmetic import RECORD_DRAWS, FaceArithmetic  # noqa: E402
from core.pipelines.face_attributes import AttributeClassifier  # noqa: E402
from core.pipelines.faces import FacesPipeline  # noqa: E402
from core.registry import get_spec  # noqa: E402


def train_encoder(G: torch.nn.Module, data, steps: int, batch: int = 64, lambda_L1: float = 1.0,
                  log=print) -> torch.nn.Module:
    """E for the frozen G (eval mode): latent regression on G's samples + pixel L1 on real faces."""
    E = build_net(FaceEncoderConfig(z_dim=G.config.z_dim, base_channels=32)).train()
    opt = torch.optim.Adam(E.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = DataLoader(data, batch_size=batch, shuffle=True, drop_last=True, num_workers=0)
    it, t0 = iter(loader), time.time()
    for step in range(1, steps + 1):
        try:
            real = next(it)["image"]
        except StopIteration:
            it = iter(loader)
            real = next(it)["image"]
        z = torch.randn(batch, G.config.z_dim)
        with torch.no_grad():
            fake = G(z)
        loss_latent = (E(fake)[0] - z).square().mean()
        loss_rec = (G(E(real)[0]) - real).abs().mean()  # gradients reach E only (G's weights are frozen)
        loss = loss_latent + lambda_L1 * loss_rec
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps:
            log(f"step {step}: latent {loss_latent.item():.3f}, rec_L1 {loss_rec.item():.3f}, "
                f"{(time.time() - t0) / step:.2f} s/step")
    return E.eval()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--draws", type=int, default=RECORD_DRAWS)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    setup_threads()
    torch.manual_seed(0)
    dcgan = FacesPipeline.from_checkpoint(get_spec("faces").checkpoint_dir)
    G = dcgan.G.float().requires_grad_(False)
    spec = get_spec("faces_v2")  # its split: E trains on the 90 %, the figures come from the held-out 10 %
    opts = spec.data.options
    from core.data.faces import FaceDataset

    train_set = FaceDataset(spec.data.train, augment=True, crop_fraction=opts["crop_fraction"],
                            center_y=opts["center_y"], split="train", holdout=opts["holdout"])
    t0 = time.time()
    E = train_encoder(G, train_set, args.steps)
    train_s = time.time() - t0
    pipe = FacesPipeline(G, torch.device("cpu"), torch.float32, dcgan.meta, E, None)
    clf = AttributeClassifier.from_checkpoint(get_spec("face_attributes").checkpoint_dir)
    ds = faces_eval.eval_faces(spec, spec.data.train, "val")
    real = torch.stack([ds[i]["image"] for i in range(len(ds))])
    u = pipe.encode(real)
    out = {"steps": args.steps, "train_s": round(train_s, 1)}
    out.update(faces_v2.reconstruction(real, pipe.decode(u), clf))
    out.update(faces_v2.refined_reconstruction(pipe, real[:faces_v2.REFINED], clf))
    labels = faces_v2.folder_labels(ds, len(real), clf, real)
    arith = FaceArithmetic(pipe, clf)
    out.update({f"{k}_real": v for k, v in faces_v2.real_arithmetic(arith, u, labels, args.draws, 0).items()})
    emit(out, args.json)


if __name__ == "__main__":
    main()
