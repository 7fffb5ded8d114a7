"""The package gives what `automix` gives for the same audio: the same suggestion, the same
samples, the same errors in the same words; and it lets other threads run while it works."""

import ast
import json
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import vocal_automix as va
from conftest import read, run_cli, write


@pytest.fixture(scope="module")
def pair(tmp_path_factory, shared):
    """12 s of a real vocal over 12 s of a real backing, as float WAVs and as arrays."""
    d = tmp_path_factory.mktemp("pair")
    vocal, rate = read(shared / "clips" / "vocadito_1_vocal.wav")
    backing, brate = read(shared / "backings" / "vibe_ace_instrumental.ogg")
    assert rate == brate == 44100
    vocal, backing = vocal[:, : 12 * rate], backing[:, : 12 * rate]
    write(d / "v.wav", vocal, rate)
    write(d / "b.wav", backing, rate)
    return {"dir": d, "vocal": vocal, "backing": backing, "rate": rate}


def test_analyze_gives_the_command_lines_suggestion(pair, automix_bin):
    d = pair["dir"]
    cli = json.loads(run_cli(automix_bin, "analyze", "--vocal", d / "v.wav", "--backing", d / "b.wav", "--json").stdout)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        ours = va.analyze(pair["vocal"], pair["backing"], pair["rate"])
    assert ours == cli
    # the suggestion's own warnings are issued too, as AutomixWarning
    for w in cli["warnings"]:
        assert any(w["message"] in str(s.message) and s.category is va.AutomixWarning for s in said), w
    cnn = va.analyze(pair["vocal"], pair["backing"], pair["rate"], engine="cnn", gate="loudness", tempo=100.0)
    cli_cnn = json.loads(run_cli(automix_bin, "analyze", "--vocal", d / "v.wav", "--backing", d / "b.wav", "--json",
                                 "--engine", "cnn", "--gate", "loudness", "--tempo", "100").stdout)
    assert cnn == cli_cnn
    assert cnn["engine"] == "cnn" and cnn != ours


def test_mix_gives_the_command_lines_samples(pair, automix_bin):
    d = pair["dir"]
    run_cli(automix_bin, "mix", "--vocal", d / "v.wav", "--backing", d / "b.wav", "-o", d / "m.wav",
            "--vocal-out", d / "mv.wav", "--suggestion-out", d / "s.json")
    got = va.mix(pair["vocal"], pair["backing"], pair["rate"])
    mix, rate = read(d / "m.wav")
    vocal, _ = read(d / "mv.wav")
    assert rate == pair["rate"]
    assert got.mix.dtype == np.float32 and got.mix.shape == mix.shape
    np.testing.assert_array_equal(got.mix, mix)
    np.testing.assert_array_equal(got.vocal, vocal)
    assert got.suggestion == json.loads((d / "s.json").read_text())


def test_render_gives_the_command_lines_samples(pair, automix_bin):
    d = pair["dir"]
    params = {"eq_1khz_gain_db": 4.0, "comp_threshold_db": -24.0, "reverb_dry_wet": 0.3, "level_gain_db": -3.0}
    (d / "p.json").write_text(json.dumps(params))
    run_cli(automix_bin, "render", "--vocal", d / "v.wav", "--params", d / "p.json", "-o", d / "r.wav",
            "--backing", d / "b.wav", "--mix-out", d / "rm.wav", "--tail", "1.5")
    got = va.render(pair["vocal"], params, pair["rate"], pair["backing"], tail=1.5)
    np.testing.assert_array_equal(got.vocal, read(d / "r.wav")[0])
    np.testing.assert_array_equal(got.mix, read(d / "rm.wav")[0])
    assert got.vocal.shape[1] == pair["vocal"].shape[1] + int(1.5 * pair["rate"])
    # a suggestion renders as its parameters; no backing, no mix
    s = va.analyze(pair["vocal"], pair["backing"], pair["rate"])
    alone = va.render(pair["vocal"][0], s, pair["rate"])
    assert alone.mix is None and alone.vocal.shape == (2, pair["vocal"].shape[1])
    assert not np.array_equal(alone.vocal[0], pair["vocal"][0])


def test_separate_and_vad_give_the_command_lines(shared, automix_bin, tmp_path):
    song, rate = read(shared / "musdb-preview" / "mixture.wav")
    song = song[:, : 5 * rate]
    write(tmp_path / "song.wav", song, rate)
    run_cli(automix_bin, "separate", tmp_path / "song.wav", "--vocal-out", tmp_path / "v.wav", "--backing-out", tmp_path / "a.wav")
    got = va.separate(song, rate)
    np.testing.assert_array_equal(got.vocal, read(tmp_path / "v.wav")[0])
    np.testing.assert_array_equal(got.accompaniment, read(tmp_path / "a.wav")[0])
    # the two sum back to the song
    assert np.max(np.abs(got.vocal + got.accompaniment - song)) < 1e-4
    cli = json.loads(run_cli(automix_bin, "vad", tmp_path / "song.wav", "--json").stdout)
    act = va.vad(song, rate)
    np.testing.assert_allclose(act.probability, np.array(cli["probability"], dtype=np.float32), rtol=0, atol=1e-7)
    assert act.threshold == pytest.approx(cli["threshold"]) and act.hop_seconds == cli["hop_seconds"]
    assert [list(s) for s in act.stretches] == [[s["start"], s["end"]] for s in cli["stretches"]]


def test_measure_reference_gives_the_command_lines(shared, automix_bin, tmp_path):
    song, rate = read(shared / "musdb-preview" / "mixture.wav")
    write(tmp_path / "ref.wav", song, rate)
    env_cache = {"VOCAL_AUTOMIX_CACHE": str(tmp_path / "cache")}
    import os
    import subprocess

    out = subprocess.run([automix_bin, "reference", "--json", str(tmp_path / "ref.wav")], capture_output=True, text=True,
                         env={**os.environ, **env_cache}, check=True).stdout
    cli = json.loads(out)[0]["measures"]
    ours = va.measure_reference(song, rate)
    assert ours == cli
    assert 0.0 < ours["confidence"]["balance"] <= 1.0


@pytest.mark.parametrize(
    "call, says",
    [
        (lambda v, b, r: va.analyze(np.zeros((2, 0), np.float32), b, r), "vocal: no audio"),
        (lambda v, b, r: va.analyze(np.zeros(r * 3, np.float32), b, r), "the vocal is silent"),
        (lambda v, b, r: va.analyze(v[:, : int(0.2 * r)], b, r), "the analysis needs at least 0.4 s"),
        (lambda v, b, r: va.mix(v, b[:, ::6], 8000), None),  # see below: rates must agree with the audio
        (lambda v, b, r: va.analyze(v.T, b, r), "pass it as (channels, samples)"),
        (lambda v, b, r: va.analyze((v * 32767).astype(np.int16), b, r), "give floats"),
        (lambda v, b, r: va.analyze(v, b, r, engine="magic"), "engine `magic`: choose one of rules, cnn, auto"),
        (lambda v, b, r: va.analyze(v, b, 0), "a rate of 0 Hz"),
        (lambda v, b, r: va.analyze(v, b, 44100.5), "not a whole number of Hz"),
        (lambda v, b, r: va.render(v, {"level_gain_db": "loud"}, r), "level_gain_db"),
        (lambda v, b, r: va.render(v, {}, r, tail=90), "the tail is 0 to 60 seconds"),
        (lambda v, b, r: va.analyze(v, b, r, reference="/nonexistent/song.wav"), "cannot open"),
    ],
)
def test_bad_input_raises_the_command_lines_message(pair, call, says):
    v, b, r = pair["vocal"], pair["backing"], pair["rate"]
    if says is None:
        # one rate for both arrays: a backing at 8 kHz means both are read as 8 kHz, and the
        # backing (the yardstick) is refused as band-limited
        says = "backing: the backing is sampled at 8000 Hz"
    with pytest.raises(va.AutomixError, match=None) as e:
        call(v, b, r)
    assert says in str(e.value), str(e.value)


def test_the_engine_lets_other_threads_run(pair):
    """The GIL is released while the engine works: a Python thread counts on meanwhile."""
    count = 0
    stop = threading.Event()

    def counter():
        nonlocal count
        while not stop.is_set():
            count += 1

    t = threading.Thread(target=counter)
    t.start()
    time.sleep(0.05)
    before = count
    started = time.perf_counter()
    va.separate(pair["backing"], pair["rate"])
    took = time.perf_counter() - started
    during = count - before
    stop.set()
    t.join()
    # holding the GIL, the counter would stand still for the whole call (seconds)
    assert took > 0.2 and during > 10_000, (took, during)


def test_the_stubs_name_what_the_module_has():
    stub = Path(va.__file__).with_name("_engine.pyi").read_text()
    declared = {n.name for n in ast.parse(stub).body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}
    present = {n for n in dir(va._engine) if not n.startswith("_")}
    assert declared == present, (declared ^ present)
    assert (Path(va.__file__).parent / "py.typed").exists()
    assert va.params_table()[0]["key"] and len(va.params_table()) > 40
