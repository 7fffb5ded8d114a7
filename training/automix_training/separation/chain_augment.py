"""Our own augmentation: MIR-1K's dry amateur vocals sent through the product's chain (EQ →
compressor → FDN reverb, `automix render`) with random settings, so the separator meets wet,
produced vocals in training and not only dry ones. Writes `<clip>_<k>.wav` (16 kHz) per clip."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from . import spectral
from .data import Clip

BANDS = ("63hz", "125hz", "250hz", "500hz", "1khz", "2khz", "4khz", "8khz")


def random_params(rng: random.Random) -> dict:
    p = {f"eq_{b}_gain_db": round(rng.uniform(-6, 6), 2) for b in BANDS if rng.random() < 0.5}
    if rng.random() < 0.5:
        p.update({"eq_highpass_on": True, "eq_highpass_hz": round(rng.uniform(60, 200))})
    p.update(
        {
            "comp_threshold_db": round(rng.uniform(-32, -8), 1),
            "comp_ratio": round(rng.uniform(1.5, 8), 2),
            "comp_attack_ms": round(rng.uniform(1, 30), 1),
            "comp_release_ms": round(rng.uniform(40, 300)),
            "comp_knee_db": round(rng.uniform(0, 12), 1),
            "reverb_time_s": round(rng.uniform(0.4, 3.0), 2),
            "reverb_room_size": round(rng.uniform(4, 28), 1),
            "reverb_fade_in_s": round(rng.uniform(0.0, 0.8), 2),
            "reverb_dry_wet": round(rng.uniform(0.05, 0.4), 3),
        }
    )
    return p


def render_wet(automix: Path, clips: list[Clip], out: Path, per_clip: int = 2, seed: int = 3) -> int:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for c in clips:
            dry = tmp / "dry.wav"
            sf.write(str(dry), c.vocal, spectral.RATE, subtype="FLOAT")
            for k in range(per_clip):
                params = tmp / "params.json"
                params.write_text(json.dumps(random_params(rng)))
                wet = out / f"{c.name}_{k}.wav"
                subprocess.run(
                    [str(automix), "render", "--vocal", str(dry), "--params", str(params), "--out", str(wet)],
                    check=True,
                    capture_output=True,
                )
                audio, _ = sf.read(str(wet), dtype="float32", always_2d=True)
                # the chain's level is not a separation cue: back to the dry vocal's RMS
                mono = audio.mean(axis=1)
                gain = np.sqrt((c.vocal**2).mean() / max((mono**2).mean(), 1e-12))
                sf.write(str(wet), (mono * gain).astype(np.float32), spectral.RATE, subtype="FLOAT")
                n += 1
    return n
