"""The separation pipeline on a tiny generated MIR-1K: wet vocals through `automix render`, a few
training steps of every model, BSS Eval, ONNX export and the `separation` entry of models.json;
then the Rust inference (`automix models --run-separation`) against ONNX Runtime in Python, on
the exported models and on the shipped ones."""

import json
import subprocess
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import soundfile as sf

from automix_training.separation import __main__ as separation_main
from automix_training.separation import data, spectral

RATE = spectral.RATE
REPO = Path(__file__).resolve().parents[2]


def clip(seconds: float, seed: int):
    """Backing (noise bursts and a bass tone) left, a sung line right, and its 20 ms labels."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = 200 + 30 * seed + 50 * np.floor(t / 0.4 % 3) + 4 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    gate = ((t % 1.2) < 0.8).astype(float)
    vocal = 0.3 * gate * sum((0.5 / k) * np.sin(k * phase) for k in range(1, 10))
    backing = 0.15 * np.sin(2 * np.pi * 60 * t) + 0.05 * rng.standard_normal(n) * (np.sin(2 * np.pi * 2 * t) > 0)
    frames = spectral.vad_frames(n)
    centres = np.arange(frames) * spectral.VAD_HOP + spectral.VAD_HOP
    labels = ((centres / RATE) % 1.2 < 0.8).astype(int)
    return np.stack([backing, vocal], axis=1).astype(np.float32), labels


@pytest.fixture(scope="module")
def mir1k(tmp_path_factory):
    root = tmp_path_factory.mktemp("mir1k")
    (root / "flac").mkdir()
    (root / "labels").mkdir()
    names = [f"abjones_{s}_0{k}" for s in (1, 2) for k in (1, 2)] + [f"amy_{s}_01" for s in (1, 2, 3)] + ["geniusturtle_1_01", "geniusturtle_2_01"]
    for i, name in enumerate(names):
        audio, labels = clip(3.0 + 0.5 * (i % 3), i)
        sf.write(str(root / "flac" / f"{name}.flac"), audio, RATE, subtype="PCM_16")
        (root / "labels" / f"{name}.vocal").write_text("\n".join(str(v) for v in labels) + "\n")
    return root


def test_splits_are_by_song_and_by_singer(mir1k):
    train = data.load_mir1k(mir1k, "train")
    test = data.load_mir1k(mir1k, "test")
    assert {c.singer for c in train} == {"abjones", "amy"}
    assert {c.singer for c in test} == {"geniusturtle"}
    fit, val = data.split_validation(train)
    assert {c.song for c in fit}.isdisjoint({c.song for c in val})
    assert {c.singer for c in val} == {"abjones", "amy"}


def run_rust(automix, folder, which, x, scratch):
    tmp = Path(scratch) / f"{which}-in.f32"
    out = Path(scratch) / f"{which}-out.f32"
    x.astype("<f4").tofile(tmp)
    subprocess.run(
        [str(automix), "models", "--folder", str(folder), "--run-separation", which, "--input", str(tmp), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return np.fromfile(out, dtype="<f4")


def against_onnxruntime(automix, folder, scratch):
    rng = np.random.default_rng(3)
    sep = (rng.random((2, 2, spectral.BINS, spectral.PATCH)) * 0.05).astype(np.float32)
    sep[:, 1] = (rng.random((2, 1, spectral.PATCH)) > 0.5).astype(np.float32)
    vad = (rng.random((1, 1, spectral.VAD_BINS, 150)) ** 4 * 1e-3).astype(np.float32)
    diffs = {}
    for which, x, name in (("separator", sep, "separator.onnx"), ("vad", vad, "vad.onnx")):
        sess = onnxruntime.InferenceSession(str(Path(folder) / name), providers=["CPUExecutionProvider"])
        want = sess.run(None, {sess.get_inputs()[0].name: x})[0].ravel()
        got = run_rust(automix, folder, which, x, scratch)
        assert got.shape == want.shape
        assert np.all((got >= 0) & (got <= 1))
        diffs[which] = float(np.abs(got - want).max())
    return diffs


def test_the_pipeline_trains_evaluates_and_exports(mir1k, tmp_path, automix):
    out, work = tmp_path / "models", tmp_path / "work"
    code = separation_main.main(
        [
            "--mir1k", str(mir1k), "--out", str(out), "--work", str(work), "--automix", str(automix),
            "--minutes", '{"vad": 0.02, "ff": 0.02, "unet": 0.02}', "--steps-per-epoch", "2", "--width", "4", "--threads", "1",
        ]
    )
    assert code == 0
    assert len(list((work / "wet").glob("*.wav"))) == 2 * len(data.split_validation(data.load_mir1k(mir1k, "train"))[0])
    results = json.loads((work / "results.json").read_text())
    assert set(results["separation"]) == {"ff", "ff-da", "unet", "unet-informed-oracle", "unet-informed-vad"}
    for k, v in results["separation"].items():
        assert v["clips"] == 2 and np.isfinite(v["gnsdr_db"]), k
    assert results["vad"]["frames"] > 0
    manifest = json.loads((out / "models.json").read_text())
    entry = manifest["separation"]
    assert entry["separator"]["file"] == "separator.onnx" and entry["vad"]["file"] == "vad.onnx"
    diffs = against_onnxruntime(automix, out, tmp_path)
    print(f"Rust (tract) against ONNX Runtime, exported models: {diffs}")
    assert max(diffs.values()) < 1e-5, diffs


def test_the_shipped_models_run_in_rust_as_in_onnxruntime(automix, tmp_path):
    diffs = against_onnxruntime(automix, REPO / "models", tmp_path)
    print(f"Rust (tract) against ONNX Runtime, shipped models: {diffs}")
    assert max(diffs.values()) < 1e-5, diffs


@pytest.fixture(scope="module")
def stems(tmp_path_factory):
    """Three generated 'professional' songs: stems folders as musdb-stems has them (44.1 kHz)."""
    root = tmp_path_factory.mktemp("stems")
    for i, name in enumerate(["Song A", "Song B", "Tom McKenzie - Directions"]):
        audio, _ = clip(4.0, 10 + i)
        d = root / name
        d.mkdir()
        up = lambda x: np.repeat(x, 3)[: int(len(x) * 44_100 / RATE)]  # noqa: E731 (coarse, fine for a test)
        sf.write(str(d / "vocals.flac"), np.stack([up(audio[:, 1])] * 2, axis=1), 44_100, subtype="PCM_16")
        sf.write(str(d / "accompaniment.flac"), np.stack([up(audio[:, 0])] * 2, axis=1), 44_100, subtype="PCM_16")
    return root


def test_the_separator_fine_tunes_from_the_shipped_weights_and_resumes(stems, mir1k, tmp_path, automix):
    from automix_training.separation import export, pro

    shipped = REPO / "models" / "separator.onnx"
    net = pro.load_shipped(shipped)
    x = (np.random.default_rng(1).random((2, 2, spectral.BINS, spectral.PATCH)) * 0.1).astype(np.float32)
    # the weights read back from the ONNX file compute what the file does
    assert export.max_difference(net, shipped, x, export.SEPARATOR_IO) < 1e-5
    out, work = tmp_path / "models", tmp_path / "work"
    args = ["--stems", str(stems), "--mir1k", str(mir1k), "--work", str(work), "--out", str(out), "--base", str(REPO / "models"), "--minutes", "0.01", "--steps", "2", "--batch", "2", "--no-vocal", "0.2"]
    assert pro.main(args) == 0
    first = json.loads((out / "models.json").read_text())["separation"]["separator"]["training"]["epochs"]
    assert (work / "pro.pt").is_file() and first >= 1
    # a second run with a longer budget resumes from the checkpoint: its epochs count on
    args[args.index("--minutes") + 1] = "0.05"
    assert pro.main(args) == 0
    manifest = json.loads((out / "models.json").read_text())
    sep = manifest["separation"]["separator"]
    assert sep["training"]["epochs"] > first
    import hashlib

    assert sep["sha256"] == hashlib.sha256((out / "separator.onnx").read_bytes()).hexdigest()
    assert "musdb-stems" in sep["training"]["data"]
    diffs = against_onnxruntime(automix, out, tmp_path)
    assert max(diffs.values()) < 1e-5, diffs


def test_the_vad_trains_on_its_own_resumes_and_ships_its_context(stems, mir1k, tmp_path, automix):
    from automix_training.separation import vad_train

    out, work = tmp_path / "models", tmp_path / "work"
    args = ["--mir1k", str(mir1k), "--stems", str(stems), "--work", str(work), "--out", str(out), "--base", str(REPO / "models"), "--minutes", "0.01", "--steps", "2", "--batch", "2", "--width", "4", "--context", "wide", "--pro", "0.5"]
    assert vad_train.main(args) == 0
    first = json.loads((out / "models.json").read_text())["separation"]["vad"]["training"]["epochs"]
    assert (work / "vad.pt").is_file() and first >= 1
    # a second run with a longer budget goes on from the checkpoint
    args[args.index("--minutes") + 1] = "0.04"
    assert vad_train.main(args) == 0
    vad = json.loads((out / "models.json").read_text())["separation"]["vad"]
    assert vad["training"]["epochs"] > first
    assert vad["context_frames"] == 40 and 0.0 < vad["threshold"] < 1.0 and 0.0 < vad["gate_threshold"] < 1.0
    assert vad["held_out"]["frames"] > 0 and 0.0 <= vad["held_out"]["accuracy"] <= 1.0
    import hashlib

    assert vad["sha256"] == hashlib.sha256((out / "vad.onnx").read_bytes()).hexdigest()
    # the engine loads the folder (context and all) and computes what ONNX Runtime does
    diffs = against_onnxruntime(automix, out, tmp_path)
    assert max(diffs.values()) < 1e-5, diffs
