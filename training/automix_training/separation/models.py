"""The networks: seed 003's U-Net (with seed 004's vocal-activity input as a second channel),
seed 004's three-layer feed-forward separator and its VAD CNN (made fully convolutional in time
so a whole song runs in one pass)."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from . import spectral


class UNet(nn.Module):
    """Seed 003: six 5×5 stride-2 convolutions (batch norm, leaky ReLU 0.2), six 5×5 stride-2
    deconvolutions (batch norm, ReLU, 50 % dropout on the first three), skip connections, a
    sigmoid mask. Input (batch, 2, 512, 128): the mixture's magnitude and, when `informed`, the
    vocal activity of each frame repeated over the bins (seed 004's side information); an
    uninformed net ignores channel 1, so both kinds ship with one signature. The magnitude is
    divided by its patch maximum inside, as seed 003 normalises to [0, 1]. Output: the vocal's
    soft mask, (batch, 1, 512, 128)."""

    def __init__(self, width: int = 16, informed: bool = True):
        super().__init__()
        self.informed = informed
        chans = [2 if informed else 1] + [width * 2**i for i in range(6)]
        self.down = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(chans[i], chans[i + 1], 5, stride=2, padding=2),
                nn.BatchNorm2d(chans[i + 1]),
                nn.LeakyReLU(0.2),
            )
            for i in range(6)
        )
        ups = []
        for i in range(6, 0, -1):
            cin = chans[i] if i == 6 else chans[i] * 2
            cout = chans[i - 1] if i > 1 else 1
            layers = [nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)]
            if i > 1:
                layers += [nn.BatchNorm2d(cout), nn.ReLU()]
                if i >= 4:
                    layers.append(nn.Dropout(0.5))
            ups.append(nn.Sequential(*layers))
        self.up = nn.ModuleList(ups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mag = x[:, :1]
        peak = mag.amax(dim=(2, 3), keepdim=True).clamp_min(1e-8)
        h = mag / peak
        if self.informed:
            h = torch.cat([h, x[:, 1:2]], dim=1)
        skips = []
        for layer in self.down:
            h = layer(h)
            skips.append(h)
        skips.pop()
        for i, layer in enumerate(self.up):
            if i > 0:
                h = torch.cat([h, skips.pop()], dim=1)
            h = layer(h)
        return torch.sigmoid(h)


class FeedForward(nn.Module):
    """Seed 004's separator: the mixture's 512-bin magnitude with one frame of context on either
    side (1536 inputs), three layers of 1024 ReLUs, two 512-wide outputs (vocal, accompaniment)
    joined into a soft mask (Huang et al.'s joint mask). Input magnitudes are divided by the
    clip's mean magnitude (`scale`) so loudness does not matter; returns the vocal mask."""

    def __init__(self, hidden: int = 1024):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(3 * spectral.BINS, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * spectral.BINS),
        )

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (batch, 3 × 512) → vocal mask (batch, 512)."""
        y = self.net(frames).abs()
        v, a = y[:, : spectral.BINS], y[:, spectral.BINS :]
        return v / (v + a + 1e-8)


def context3(mag: torch.Tensor) -> torch.Tensor:
    """(512, frames) → (frames, 1536): each frame with its neighbours (zeros past the ends)."""
    p = F.pad(mag, (1, 1))
    return torch.cat([p[:, :-2], p[:, 1:-1], p[:, 2:]], dim=0).T


class VadCnn(nn.Module):
    """Seed 004's VAD CNN (80 log-mel bands, ±20 frames of context, convolutions then dense
    layers, softmax over vocal/non-vocal), rebuilt to slide along time: the pooling is over
    frequency only and the time kernels are dilated (by default 1, 2, 4, 8 and 5 for the first
    dense layer) so each output frame sees exactly 2 × `context` + 1 frames (41 by default), and
    the dense layers become 1 × 1 convolutions. One pass over a song
    gives every frame's probability; a 41-frame window gives its centre's, as in the paper.
    Input: (batch, 1, 513, frames) power spectra (spectral.vad_power); the mel filters, the
    log and the standardisation are inside. Output: (batch, frames) vocal probability."""

    def __init__(self, width: int = 16, dilations: tuple[int, ...] = (1, 2, 4, 8), dense_dilation: int = 5):
        super().__init__()
        self.context = sum(dilations) + dense_dilation  # frames either side an answer depends on
        self.register_buffer("mel", torch.from_numpy(spectral.mel_matrix()))
        self.register_buffer("mean", torch.zeros(1))
        self.register_buffer("std", torch.ones(1))
        w = width

        def block(cin, cout, dil):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=(1, dil), dilation=(1, dil)),
                nn.BatchNorm2d(cout),
                nn.ReLU(),
                nn.MaxPool2d((2, 1)),
            )

        d1, d2, d3, d4 = dilations
        self.features = nn.Sequential(
            block(1, w, d1), block(w, w, d2), block(w, 2 * w, d3), block(2 * w, 2 * w, d4)
        )  # 80 → 5 bands
        self.dense = nn.Sequential(
            nn.Conv2d(2 * w, 8 * w, (5, 3), padding=(0, dense_dilation), dilation=(1, dense_dilation)),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Conv2d(8 * w, 4 * w, 1),
            nn.ReLU(),
            nn.Conv2d(4 * w, 1, 1),
        )

    def logmel(self, power: torch.Tensor) -> torch.Tensor:
        mel = torch.einsum("mk,bckt->bcmt", self.mel, power)
        return (torch.log10(mel + 1e-8) - self.mean) / self.std

    def logits(self, power: torch.Tensor) -> torch.Tensor:
        h = self.features(self.logmel(power))
        return self.dense(h)[:, 0, 0, :]

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(power))
