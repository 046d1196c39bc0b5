"""DiffAugment: exact shifts, the right hole size, gradients flow, policies are checked."""
from __future__ import annotations

import pytest
import torch

from core.train.tasks.dcgan import DCGANParams
from core.train.diffaug import color, cutout, diff_augment, parse_policy, translation


def test_translation_moves_whole_pixels_and_fills_zeros():
    x = torch.arange(1.0, 65.0).view(1, 1, 8, 8).repeat(16, 2, 1, 1)
    torch.manual_seed(0)
    y = translation(x, ratio=0.25)
    for img, src in zip(y, x):
        kept = img[0][img[0] > 0]
        # every non-zero pixel is an original value, in the original order (a pure shift)
        assert torch.equal(kept, src[0][torch.isin(src[0], kept)])
        assert torch.equal(img[0], img[1])  # the same shift for every channel


def test_cutout_zeroes_a_quarter_and_gradients_flow():
    x = torch.ones(8, 3, 64, 64, requires_grad=True)
    y = cutout(x)
    assert torch.allclose((y == 0).float().mean((1, 2, 3)), torch.full((8,), 0.25))
    diff_augment(x, ("color", "translation", "cutout")).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert color(torch.zeros(2, 3, 4, 4)).shape == (2, 3, 4, 4)


def test_policies_are_checked():
    assert parse_policy(" color, cutout ") == ("color", "cutout") and parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        DCGANParams(diffaug="colour")
