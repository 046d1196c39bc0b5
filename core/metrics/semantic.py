"""The semantic test of colorization (Zhang, Isola & Efros 2016): how much of what colour is worth to a
classifier a colorization gives back."""
from __future__ import annotations


def gap_recovered(acc_gray: float, acc_ours: float) -> float | None:
    """(acc_ours - acc_gray) / (1 - acc_gray): acc_* are how often the classifier keeps, on the grey
    version / on ours, the top-1 class it gives the colour photo (0..1). 1 = ours is as good as the
    colours themselves, 0 = no better than grey. None where the grey versions always agree (no gap)."""
    return (acc_ours - acc_gray) / (1 - acc_gray) if acc_gray < 1 else None
