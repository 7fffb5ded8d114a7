"""The research's losses, on targets normalised to [0, 1] (Li & Lerch, §III-C, eq. 3)."""

from __future__ import annotations

import torch

# Reverb outputs in `automix dataset`'s order (REVERB_DRAWS): room size, time, fade-in, dry/wet,
# then the six shelf settings. Loss = 10·DW + 5·RT + 5·RS + the rest.
REVERB_WEIGHTS = {"reverb_dry_wet": 10.0, "reverb_time_s": 5.0, "reverb_room_size": 5.0}


def weights_for(task: str, names: list[str]) -> torch.Tensor:
    if task == "reverb":
        return torch.tensor([REVERB_WEIGHTS.get(n, 1.0) for n in names])
    return torch.ones(len(names))


def loss(task: str, pred: torch.Tensor, target: torch.Tensor, changed: torch.Tensor | None, weights: torch.Tensor):
    err = (pred - target) ** 2
    if task == "eq":
        # L2 over the bands the random EQ changed + 0.1 · L2 over the ones it left alone, so the
        # network cannot settle on predicting "unchanged" everywhere.
        c = changed.float()
        l_changed = (err * c).sum() / c.sum().clamp(min=1.0)
        l_unchanged = (err * (1 - c)).sum() / (1 - c).sum().clamp(min=1.0)
        return l_changed + 0.1 * l_unchanged
    return (err * weights).sum(dim=1).mean()
