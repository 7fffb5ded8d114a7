"""How well `automix reference` reads a mix's vocal − accompaniment balance, and the calibration
of that reading: remixes of professional stems at balances we choose (the truth exact), each
measured as a reference, the separated reading against the stems' own.

    python -m automix_training.separation.balance_fit AUTOMIX --stems DIR [--held-out DIR ...]
        [--balances -8 -5 -3 -1 1] [--work DIR]

`--stems`: musdb-stems (each stem loudness-normalised on its own, so a vocal gain of g dB puts
the vocal g LU from its accompaniment). Each song's vocal is remixed over its own accompaniment
at every balance. `--held-out`: song folders with a real mixture (musdb-excerpts, musdb-preview),
measured as they are. Fits, on the stems' remixes only, `true = split + k·(split − resynthesised)
+ c` (the split and resynthesised readings of `engine::analysis::reference::Confidence`) and the
error's floor and growth with the readings' spread; prints each song's error before and after,
leave-one-song-out on the remixes and as fitted on the held-out songs, and JSON."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf


def remix(stems: Path, balances: list[float], work: Path) -> list[Path]:
    out = []
    for song in sorted(p for p in stems.iterdir() if p.is_dir()):
        vocal, rate = sf.read(str(song / "vocals.flac"), dtype="float32", always_2d=True)
        acc, _ = sf.read(str(song / "accompaniment.flac"), dtype="float32", always_2d=True)
        n = min(len(vocal), len(acc))
        for db in balances:
            d = work / f"{song.name} @ {db:+.0f}"
            d.mkdir(parents=True, exist_ok=True)
            v = vocal[:n] * np.float32(10 ** (db / 20))
            # headroom for the sum, the same for every stem, so the balance is untouched
            peak = max(float(np.abs(v + acc[:n]).max()), 1e-9)
            g = np.float32(min(1.0, 0.9 / peak))
            sf.write(str(d / "vocals.wav"), v * g, rate, subtype="FLOAT")
            sf.write(str(d / "accompaniment.wav"), acc[:n] * g, rate, subtype="FLOAT")
            sf.write(str(d / "mixture.wav"), (v + acc[:n]) * g, rate, subtype="FLOAT")
            out.append(d)
    return out


def accuracy(automix: Path, d: Path) -> list[dict]:
    r = subprocess.run([str(automix), "reference", "--accuracy", "--json", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        # a remix whose vocal the VAD misses (too quiet) is refused as a reference: said, not fitted
        print(f"{d.name}: not measured: {r.stderr.strip()}", flush=True)
        return []
    return json.loads(r.stdout)["songs"]


def measure(automix: Path, dirs: list[Path]) -> list[dict]:
    rows = []
    for x in (x for d in dirs for x in accuracy(automix, d)):
        c = x["separated"].get("confidence") or {}
        rows.append({
            "song": x["song"],
            "true": x["stems"]["vocal_minus_backing_lu"],
            "measured": x["separated"]["vocal_minus_backing_lu"],
            "split": c.get("split_balance_lu", x["separated"]["vocal_minus_backing_lu"]),
            "resynthesised": c.get("resynthesised_balance_lu", x["separated"]["vocal_minus_backing_lu"]),
            "sung_seconds": x["separated"]["sung_seconds"],
            "true_lra": x["stems"]["vocal_loudness_range_lu"],
            "measured_lra": x["separated"]["vocal_loudness_range_lu"],
        })
    return rows


def fit(rows: list[dict], terms: str = "both") -> tuple[float, float]:
    """Least squares of true − split on (split − resynthesised, 1), or on the offset alone."""
    y = np.array([r["true"] - r["split"] for r in rows])
    if terms == "offset":
        return 0.0, float(y.mean())
    a = np.array([[r["split"] - r["resynthesised"], 1.0] for r in rows])
    k, c = np.linalg.lstsq(a, y, rcond=None)[0]
    return float(k), float(c)


def apply(r: dict, k: float, c: float) -> float:
    return r["split"] + k * (r["split"] - r["resynthesised"]) + c


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("automix", type=Path)
    p.add_argument("--stems", type=Path, required=True)
    p.add_argument("--held-out", type=Path, nargs="*", default=[])
    p.add_argument("--balances", type=float, nargs="*", default=[-6.0, -4.0, -2.0, 0.0, 2.0])
    p.add_argument("--work", type=Path)
    p.add_argument("--unseen", default="Tom McKenzie - Directions", help="the stems song the separator did not train on")
    p.add_argument("--terms", choices=["both", "offset"], default="both")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or Path(tmp)
        remixes = measure(a.automix, remix(a.stems, a.balances, work))
    held = measure(a.automix, a.held_out) if a.held_out else []
    songs = sorted({r["song"].split(" @ ")[0] for r in remixes})
    loso = []
    for s in songs:
        k, c = fit([r for r in remixes if not r["song"].startswith(s + " @")], a.terms)
        loso += [(r, apply(r, k, c)) for r in remixes if r["song"].startswith(s + " @")]
    # the separator was fine-tuned on every stems song but --unseen: a calibration fitted on the
    # remixes of the songs it learnt says little about songs it did not. Fitted instead on the
    # songs it never heard: each held-out song scored by the calibration of the others (and of
    # the unseen stems song's remixes)
    unseen = [r for r in remixes if r["song"].startswith(a.unseen + " @")]
    held_loo = []
    for i, r in enumerate(held):
        k_i, c_i = fit([x for j, x in enumerate(held) if j != i] + unseen, a.terms)
        held_loo.append((r, apply(r, k_i, c_i)))
    k_u, c_u = fit(held + unseen, a.terms)
    print(f"fitted on the songs the separator never heard ({len(held)} held out, {len(unseen)} remixes of {a.unseen!r}): true = split + {k_u:.3f}·(split − resynthesised) + {c_u:+.3f}")
    for r, cal in held_loo:
        print(f"{r['song']:<52} {r['true']:6.2f} {r['measured']:6.2f} {r['measured'] - r['true']:+6.2f} {cal:10.2f} {cal - r['true']:+6.2f}  (held out, leave-one-song-out)")
    k, c = fit(remixes, a.terms)
    print(f"fitted on {len(remixes)} remixes of {len(songs)} songs: true = split + {k:.3f}·(split − resynthesised) + {c:+.3f}")
    print(f"{'song':<52} {'true':>6} {'read':>6} {'error':>6} {'calibrated':>10} {'error':>6}")
    for r, cal in loso:
        print(f"{r['song']:<52} {r['true']:6.2f} {r['measured']:6.2f} {r['measured'] - r['true']:+6.2f} {cal:10.2f} {cal - r['true']:+6.2f}  (leave-one-song-out)")
    for r in held:
        cal = apply(r, k, c)
        print(f"{r['song']:<52} {r['true']:6.2f} {r['measured']:6.2f} {r['measured'] - r['true']:+6.2f} {cal:10.2f} {cal - r['true']:+6.2f}  (held out)")
    mae = lambda xs: float(np.mean(np.abs(xs))) if len(xs) else float("nan")  # noqa: E731
    summary = {
        "k": round(k, 3),
        "c": round(c, 3),
        "remixes_mae_read": round(mae([r["measured"] - r["true"] for r in remixes]), 2),
        "remixes_mae_calibrated_loso": round(mae([cal - r["true"] for r, cal in loso]), 2),
        "remixes_residual_std": round(float(np.std([cal - r["true"] for r, cal in loso])), 2),
        "held_out_mae_read": round(mae([r["measured"] - r["true"] for r in held]), 2),
        "held_out_mae_calibrated": round(mae([apply(r, k, c) - r["true"] for r in held]), 2),
        "unseen_k": round(k_u, 3),
        "unseen_c": round(c_u, 3),
        "held_out_mae_calibrated_loso": round(mae([cal - r["true"] for r, cal in held_loo]), 2),
        "held_out_rms_calibrated_loso": round(float(np.sqrt(np.mean([(cal - r["true"]) ** 2 for r, cal in held_loo]))), 2),
        "held_out": held,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
