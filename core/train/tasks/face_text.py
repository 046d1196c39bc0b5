"""A small image-text model for faces (issue 16, phase 3): the image encoder learns to put a face
where the sentence embeddings of its captions are (CLIP, Radford et al. 2021, with the text tower
pretrained and frozen as in LiT, Zhai et al. 2022: here the MiniLM embeddings of captions built
from the CelebA attributes, `core/data/face_captions.py`).

Loss: CLIP's symmetric InfoNCE with a learned temperature. Attribute captions are short, so two faces
of a batch often fit each other's captions ("She is smiling." fits every smiling woman); counting
those pairs as negatives would teach the encoder to tell apart faces the text cannot, so with
`targets="claims"` every caption that holds for a face (all its claims agree with the face's
labels) is a positive of that face, as in UniCL (Yang et al. 2022), with the target spread evenly
over them; `targets="pairs"` is plain CLIP (one positive: the face's own caption).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...data import face_captions
from ...data.face_captions import PROBES, FaceCaptionDataset, caption_bank, holds
from ...data.faces import FaceDataset
from ...device import autocast
from ...nets import build_net
from ..config import TaskParams, knob
from .attributes import degradations
from .base import Task, TimelapseInputs, evaluating, face_verdict_frame, face_verdict_inputs


@dataclass(frozen=True)
class FaceTextParams(TaskParams):
    lr: float = knob(1e-3, 1e-7, 1e-1, help="learning rate (AdamW)")
    weight_decay: float = knob(1e-4, 0.0, 1.0, help="AdamW weight decay (weights only; not norms, biases, temperature)")
    degrade: float = knob(0.5, 0.0, 1.0, help="chance of each degradation (shift, blur, colour, noise) per face: "
                                              "generated faces are blurrier than photos")
    captions_per_face: int = knob(6, 1, 32, help="captions made (and embedded once) per face; one drawn per step")
    targets: str = knob("claims", choices=("claims", "pairs"),
                        help="claims: every caption that holds for a face is its positive (UniCL); pairs: plain CLIP")


def clip_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor,
              positives: torch.Tensor | None = None) -> torch.Tensor:
    """CLIP's symmetric InfoNCE.

    image [N, D], text [M, D]: unit vectors (M = N when positives is None: pair i is (image i,
    text i)); scale: exp(learned logit scale), a scalar; positives: bool [M, N], True where text m
    describes image n (must include every image's and text's own pair). The image -> text and
    text -> image cross-entropies, with the target spread evenly over each row's positives, averaged.
    Returns a scalar."""
    logits = scale * image.float() @ text.float().T  # [N, M]
    if positives is None:
        labels = torch.arange(len(image), device=image.device)
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    pos = positives.float()
    to_text = pos.T / pos.T.sum(1, keepdim=True)  # [N, M]: each image's positives
    to_image = pos / pos.sum(1, keepdim=True)  # [M, N]: each caption's faces
    return (F.cross_entropy(logits, to_text) + F.cross_entropy(logits.T, to_image)) / 2


def zero_shot(image: torch.Tensor, probes: torch.Tensor) -> torch.Tensor:
    """image [N, D] unit vectors, probes [P, 2, D] (a caption saying the face has attribute p, one
    saying it does not) -> bool [N, P]: the model's verdict, True where the first is nearer."""
    sims = torch.einsum("nd,pkd->npk", image.float(), probes.float())
    return sims[..., 0] > sims[..., 1]


def similarity_picture(sims: torch.Tensor, positives: torch.Tensor, cell: int = 12) -> torch.Tensor:
    """A picture of a similarity matrix (no face in it): sims [n, n] (rows: faces, columns: their
    captions) coloured from dark blue (lowest) to yellow (highest), positives bool [n, n] marked with
    a white dot. Returns [3, n * cell, n * cell] in [0, 1]."""
    s = sims.float()
    t = ((s - s.min()) / (s.max() - s.min()).clamp_min(1e-6))[None]
    low, high = torch.tensor([0.15, 0.1, 0.4])[:, None, None], torch.tensor([1.0, 0.9, 0.2])[:, None, None]
    picture = low + (high - low) * t  # [3, n, n]
    picture = picture.repeat_interleave(cell, 1).repeat_interleave(cell, 2)
    mark = torch.zeros(cell, cell, dtype=torch.bool)
    mark[cell // 2 - 1:cell // 2 + 2, cell // 2 - 1:cell // 2 + 2] = True
    dots = torch.kron(positives.int().contiguous(), mark.int()).bool()
    picture[:, dots] = 1.0
    return picture.clamp(0, 1)


class FaceTextTask(Task):
    Params = FaceTextParams
    live_metrics = ("zero_shot_balanced_accuracy", "retrieval_at_1")

    def __init__(self, spec, config, device):
        super().__init__(spec, config, device)
        self.nets = {"E": build_net(spec.nets["E"]).to(device).to(memory_format=torch.channels_last)}
        E = self.nets["E"]
        # CLIP: no weight decay on gains, biases and the temperature.
        decay = [p for p in E.parameters() if p.dim() >= 2]
        rest = [p for p in E.parameters() if p.dim() < 2]
        self.opts = {"E": torch.optim.AdamW([{"params": decay, "weight_decay": self.params.weight_decay},
                                             {"params": rest, "weight_decay": 0.0}], lr=self.params.lr,
                                            betas=(config.beta1, config.beta2))}
        self.degrade = degradations(self.params.degrade) if self.params.degrade > 0 else None
        self.names: list[str] = []  # the attribute list, in the claims' order (set by make_dataset)
        self.probe_names: list[str] = []
        self.probes: torch.Tensor | None = None  # [P, 2, 384] MiniLM embeddings of PROBES

    # ---- data ---------------------------------------------------------------------------------
    def make_dataset(self, root, augment: bool, split: str = "train") -> FaceCaptionDataset:
        opts = self.spec.data.options
        faces = FaceDataset(root or self.spec.data.train, attr_file=opts["attributes"],
                            image_size=self.config.image_size, crop_fraction=opts.get("crop_fraction", 0.72),
                            center_y=opts.get("center_y", 0.55), augment=augment, labelled_only=True, split=split,
                            holdout=opts.get("holdout", 0.1))
        self.names = faces.names
        keys = [f.name for f in faces.files]
        k = self.params.captions_per_face
        texts, claims = caption_bank([faces.table[key] for key in keys], keys, self.names, k, self.config.seed)
        flat = [t for per_face in texts for t in per_face]
        self.probe_names = [a for a in PROBES if a in self.names]
        probe_texts = [t for a in self.probe_names for t in PROBES[a]]
        print(f"face_text: embedding {len(set(flat)):,} distinct captions of {len(keys):,} faces ({split}) with "
              f"{face_captions.TEXT_ENCODER} (once; then read from {face_captions.cache_dir()})", file=sys.stderr)
        emb = face_captions.embed_texts(flat + probe_texts)
        dim = self.spec.nets["E"].embed_dim
        if emb.shape[1] != dim:
            raise ValueError(f"the sentence embeddings have {emb.shape[1]} values; the net makes {dim}")
        self.probes = emb[len(flat):].float().view(len(self.probe_names), 2, dim)
        text = emb[:len(flat)].view(len(keys), k, dim)
        return FaceCaptionDataset(faces, text, torch.from_numpy(claims), augment)

    def eval_dataset(self, train_root) -> FaceCaptionDataset:
        return self.make_dataset(train_root, augment=False, split="val")

    def learning_rates(self) -> dict[str, float]:
        return {"E": self.params.lr}

    def checkpoint_meta(self):
        return {"attributes": self.names, "text_encoder": face_captions.TEXT_ENCODER,
                "captions_per_face": self.params.captions_per_face, "targets": self.params.targets}

    # ---- steps ---------------------------------------------------------------------------------
    def positives(self, claims: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
        """The [captions, faces] positive pairs of a batch (None: plain CLIP, pair i only)."""
        if self.params.targets == "pairs":
            return None
        return holds(claims, labels) | torch.eye(len(labels), dtype=torch.bool, device=labels.device)

    def train_step(self, batch, step):
        E = self.nets["E"].train()
        self.set_lr(step)
        x = batch["image"].to(self.device)
        if self.degrade is not None:
            x = self.degrade(x * 0.5 + 0.5).clamp(0, 1) * 2 - 1
        x = x.contiguous(memory_format=torch.channels_last)
        text = batch["text"].to(self.device)
        positives = self.positives(batch["claims"].to(self.device), batch["attrs"].to(self.device))
        self.opts["E"].zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            image = E(x)
        scale = E.scale()
        loss = clip_loss(image, text, scale, positives)
        loss.backward()
        self.opts["E"].step()
        with torch.no_grad():
            top = (image @ text.T).argmax(1)  # each face's nearest caption in the batch
            hit = (positives[top, torch.arange(len(top))] if positives is not None
                   else top == torch.arange(len(top), device=top.device))
        return {"loss": loss.item(), "temperature": float(1 / scale.detach()),
                "train_retrieval": hit.float().mean().item()}

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
        """Faces [N, 3, S, S] in [-1, 1] -> embeddings [N, 384] (eval mode), on the CPU."""
        E = self.nets["E"].eval()
        out = []
        for x in images.split(batch_size):
            with autocast(self.device, self.amp_dtype):
                out.append(E(x.to(self.device).contiguous(memory_format=torch.channels_last)).float().cpu())
        return torch.cat(out)

    @torch.no_grad()
    def quick_eval(self, batch, make_metrics):
        """On the held-out faces: zero_shot_balanced_accuracy (PROBES' captions as a classifier,
        balanced accuracy, mean over the attributes; per attribute as zero_shot_NAME), retrieval_at_1
        (each face's nearest caption among the held-out faces' first captions holds for it) and its
        chance level (the share of those captions that hold)."""
        image = self.embed(batch["image"])
        labels = batch["attrs"]
        out = {}
        if self.probes is not None and self.probe_names:
            cols = [self.names.index(a) for a in self.probe_names]
            verdict = zero_shot(image, self.probes).long()
            truth = (labels[:, cols] > 0.5).long()
            # Balanced accuracy (the mean of the two classes' recalls): chance is 0.5 for every attribute,
            # however rare (plain accuracy would credit "nobody is bald" with 0.98).
            from torchmetrics.functional.classification import multiclass_accuracy  # 3.5 s to import: here

            accuracy = [float(multiclass_accuracy(verdict[:, j], truth[:, j], num_classes=2, average="macro"))
                        for j in range(len(cols))]
            out["zero_shot_balanced_accuracy"] = sum(accuracy) / len(accuracy)
            out.update({f"zero_shot_{a}": v for a, v in zip(self.probe_names, accuracy)})
        fits = holds(batch["claims"], labels)  # [captions, faces]
        top = (image @ batch["text"].float().T).argmax(1)
        out["retrieval_at_1"] = float(fits[top, torch.arange(len(top))].float().mean())
        out["retrieval_chance"] = float(fits.float().mean())
        return out

    @torch.no_grad()
    def sample_grid(self, batch):
        """The similarity of 16 held-out faces (rows) to their own first captions (columns), positives
        dotted: a bright diagonal and bright dots mean the model has learned; no face is drawn."""
        n = min(16, len(batch["image"]))
        image = self.embed(batch["image"][:n])
        sims = image @ batch["text"][:n].float().T
        return similarity_picture(sims, holds(batch["claims"][:n], batch["attrs"][:n]).T)

    # ---- training time-lapse ---------------------------------------------------------------------
    def timelapse_inputs(self) -> TimelapseInputs | None:
        """8 faces of the shipped faces GAN; the frames show E's zero-shot verdicts (PROBES' caption
        pairs) on five of the attributes. None before the probes are embedded."""
        if self.probes is None:
            return None
        return face_verdict_inputs(self.probe_names, self.config.image_size,
                                   "E's zero-shot probabilities (which of two captions fits)")

    @torch.no_grad()
    def timelapse_frame(self, inputs: TimelapseInputs) -> torch.Tensor:
        E = self.nets["E"]
        with evaluating(E):
            image = self.embed(inputs.tensors["image"])
            sims = torch.einsum("nd,pkd->npk", image.float(), self.probes.float())  # [8, P, 2]
            # The two captions as a two-way softmax at the learned temperature: P(first fits better).
            probs = torch.sigmoid(E.scale().float().cpu() * (sims[..., 0] - sims[..., 1]))
        return face_verdict_frame(inputs, probs, self.probe_names)


__all__ = ["FaceTextParams", "FaceTextTask", "clip_loss", "similarity_picture", "zero_shot"]
