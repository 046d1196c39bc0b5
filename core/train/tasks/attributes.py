"""A multi-label face attribute classifier (BCE over CelebA's 40 attributes)."""
from __future__ import annotations

from dataclasses import dataclass

import kornia.augmentation as K
import torch
import torch.nn.functional as F
from torch import nn

from ...data.faces import FaceDataset
from ...device import autocast
from ...nets import build_net
from ..config import TaskParams, knob
from .base import Task, TimelapseInputs, evaluating, face_verdict_frame, face_verdict_inputs, make_grid


@dataclass(frozen=True)
class AttributeParams(TaskParams):
    lr: float = knob(1e-3, 1e-7, 1e-1, help="learning rate (AdamW)")
    degrade: float = knob(0.0, 0.0, 1.0, help="chance of each degradation (shift, blur, colour, noise) per face")


def degradations(p: float) -> nn.Module:
    """Random versions of what sets a GAN's faces apart from CelebA photos (the classifier judges
    generated faces): small shifts and zooms, blur, colour casts, noise; each with chance p.
    Images [N, 3, H, W] in [0, 1]."""
    return K.AugmentationSequential(
        K.RandomAffine(degrees=5, translate=(0.05, 0.05), scale=(0.93, 1.07), padding_mode="border", p=p),
        K.RandomGaussianBlur((5, 5), (0.3, 1.5), p=p),
        K.ColorJitter(0.15, 0.2, 0.2, 0.02, p=p),
        K.RandomGaussianNoise(std=0.06, p=p))


class AttributeTask(Task):
    Params = AttributeParams
    live_metrics = ("val_accuracy",)

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        self.nets = {"C": build_net(spec.nets["C"]).to(device).to(memory_format=torch.channels_last)}
        self.opts = {"C": torch.optim.AdamW(self.nets["C"].parameters(), lr=self.params.lr, weight_decay=1e-4)}
        self.names: list[str] = []  # attribute names, in output order (set by make_dataset)
        self.degrade = degradations(self.params.degrade) if self.params.degrade > 0 else None

    def make_dataset(self, root, augment: bool, split: str = "train") -> FaceDataset:
        opts = self.spec.data.options
        ds = FaceDataset(root or self.spec.data.train, attr_file=opts["attributes"], image_size=self.config.image_size,
                         augment=augment, labelled_only=True, split=split, holdout=opts.get("holdout", 0.1))
        if len(ds.names) != self.spec.nets["C"].num_outputs:
            raise ValueError(f"{opts['attributes']} has {len(ds.names)} attributes; the net predicts "
                             f"{self.spec.nets['C'].num_outputs}")
        self.names = ds.names
        return ds

    def learning_rates(self) -> dict[str, float]:
        return {"C": self.params.lr}

    def checkpoint_meta(self):
        return {"attributes": self.names}

    def eval_dataset(self, train_root) -> FaceDataset:
        return self.make_dataset(train_root, augment=False, split="val")

    def train_step(self, batch, step):
        C = self.nets["C"].train()
        self.set_lr(step)
        x = batch["image"].to(self.device)
        if self.degrade is not None:
            x = (self.degrade(x * 0.5 + 0.5).clamp(0, 1) * 2 - 1)
        x = x.contiguous(memory_format=torch.channels_last)
        y = batch["attrs"].to(self.device)
        self.opts["C"].zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            logits = C(x).float()
        loss = F.binary_cross_entropy_with_logits(logits, y)
        loss.backward()
        self.opts["C"].step()
        acc = ((logits > 0).float() == y).float().mean()
        return {"loss_C": loss.item(), "train_accuracy": acc.item()}

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        C = self.nets["C"].eval()
        with autocast(self.device, self.amp_dtype):
            logits = C(batch["image"].to(self.device)).float().cpu()
        return {"val_accuracy": ((logits > 0).float() == batch["attrs"]).float().mean().item()}

    @torch.no_grad()
    def sample_grid(self, batch):
        return make_grid(batch["image"][:16] * 0.5 + 0.5, nrow=8).clamp(0, 1)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs | None:
        """8 faces of the shipped faces GAN; the frames show C's verdicts on five of the attributes."""
        return face_verdict_inputs(self.names, self.config.image_size, "C's probabilities")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        C = self.nets["C"]
        with evaluating(C), autocast(self.device, self.amp_dtype):
            logits = C(inputs.tensors["image"].to(self.device).contiguous(memory_format=torch.channels_last))
        return face_verdict_frame(inputs, torch.sigmoid(logits.float()), self.names)
