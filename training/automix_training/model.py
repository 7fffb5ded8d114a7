"""The research's network (Li & Lerch, §III-C), one per stage.

Four × [Conv 3×3, stride 1, no padding → BatchNorm → ReLU → MaxPool 2] with 2→8→16→32→64
channels, Dropout 0.3, flatten (64 × 6 × 2 = 768) → MLP. The paper gives the MLP's input size
only; its hidden layer here is 128 wide (one ReLU layer), the smallest that is not a bottleneck
for ten outputs.
"""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 128
FLAT = 768


class AutomixCnn(nn.Module):
    def __init__(self, outputs: int):
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout in [(2, 8), (8, 16), (16, 32), (32, 64)]:
            layers += [nn.Conv2d(cin, cout, 3), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Sequential(nn.Linear(FLAT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 2, 128, 64) → (batch, outputs), each normalised to [0, 1] over its range in
        models.json (exported so: in hertz, float32 could not hold 1e-4 agreement)."""
        x = self.body(x)
        return self.head(self.dropout(torch.flatten(x, 1)))
