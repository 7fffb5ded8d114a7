"""`vocal_automix.fleet` on a real Ray cluster on this machine: a head and a second node on the
loopback, 40 synthesised pairs and five bad rows, one worker killed mid-row, the job itself
killed halfway and run again; every row's audio equal to `automix mix` of it, the table whole."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import read, run_cli, write

PAIRS = 40
RATE = 44100


@pytest.fixture(scope="module")
def cluster():
    """A head and a second node process on the loopback, one CPU each, stopped at the end."""
    from vocal_automix import fleet

    with fleet.local_cluster(nodes=2, cpus_per_node=1) as c:
        yield c


def _pair(seed: int) -> tuple:
    """Three seconds of a sung-like line (harmonics, vibrato, syllables) and a backing (a chord and
    a beat), different for every seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(3 * RATE) / RATE
    f0 = 180 * 2 ** (rng.integers(0, 12) / 12) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t), 0, None) ** 0.5
    vocal = 0.2 * voice * syllables
    root = 110 * 2 ** (rng.integers(0, 7) / 12)
    chord = sum(np.sin(2 * np.pi * root * r * t) for r in (1, 1.26, 1.5, 2))
    beat = rng.standard_normal(t.size) * np.exp(-((t * 2) % 1) * 30)
    backing = 0.08 * chord + 0.1 * beat
    return vocal.astype(np.float32), np.stack([backing, np.roll(backing, 200)]).astype(np.float32)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    (d / "in").mkdir()
    lines = ["task,vocal,backing,out,vocal_out,suggestion_out"]
    for i in range(PAIRS):
        vocal, backing = _pair(i)
        write(d / "in" / f"{i:02}_vocal.wav", vocal, RATE)
        write(d / "in" / f"{i:02}_backing.wav", backing, RATE)
        lines.append(f"mix,in/{i:02}_vocal.wav,in/{i:02}_backing.wav,out/{i:02}.mix.wav,out/{i:02}.vocal.wav,out/{i:02}.json")
    vocal, backing = _pair(99)
    write(d / "in" / "silent.wav", np.zeros_like(vocal), RATE)
    write(d / "in" / "short.wav", vocal[: int(0.2 * RATE)], RATE)
    write(d / "in" / "b8k.wav", backing[:, ::6].copy(), 8000)
    (d / "in" / "text.wav").write_text("not audio")
    bad = {
        "missing": ("in/nowhere.wav", "in/00_backing.wav", "cannot open"),
        "unreadable": ("in/text.wav", "in/00_backing.wav", "is not an audio file"),
        "silent": ("in/silent.wav", "in/00_backing.wav", "the vocal is silent"),
        "short": ("in/short.wav", "in/00_backing.wav", "the analysis needs at least 0.4 s"),
        "8k": ("in/00_vocal.wav", "in/b8k.wav", "the backing is sampled at 8000 Hz"),
    }
    for name, (v, b, _) in bad.items():
        lines.append(f"mix,{v},{b},out/bad-{name}.mix.wav,,")
    (d / "manifest.csv").write_text("\n".join(lines) + "\n")
    return {"dir": d, "bad": {f"out/bad-{k}.mix.wav": v[2] for k, v in bad.items()}}


def _driver(cluster, d: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vocal_automix.fleet", str(d / "manifest.csv"),
                             "--table", str(d / "out" / "table.parquet"), "--address", cluster["address"], *args],
                            env=cluster["env"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _receipts(d: Path) -> int:
    rows = d / "out" / "table.parquet.rows"
    return len(list(rows.glob("*.json"))) if rows.exists() else 0


def _running_row_workers() -> list:
    """Ray names a worker's process after the task it runs."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "cmdline").read_bytes().startswith(b"ray::run_row"):
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def _wait(until, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = until()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_manifest_that_writes_one_file_twice_is_refused_before_any_work(cluster, tmp_path):
    (tmp_path / "m.csv").write_text("vocal,backing,out\na.wav,b.wav,out/x.wav\nc.wav,d.wav,out/./x.wav\n")
    p = subprocess.run([sys.executable, "-m", "vocal_automix.fleet", str(tmp_path / "m.csv"),
                        "--table", str(tmp_path / "t.parquet"), "--address", cluster["address"]],
                       env=cluster["env"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "rows 1 and 2 both write" in p.stderr, p.stderr
    assert not (tmp_path / "t.parquet").exists() and not (tmp_path / "t.parquet.rows").exists()


def test_the_job_survives_a_killed_worker_and_a_killed_driver(cluster, job, automix_bin):
    d = job["dir"]
    total = PAIRS + len(job["bad"])
    first = _driver(cluster, d)
    # a worker killed in the middle of a row
    _wait(lambda: _receipts(d) >= 6, 120, "the first rows")
    victim = _wait(_running_row_workers, 60, "a worker running a row")[0]
    os.kill(victim, signal.SIGKILL)
    # then the whole job, halfway
    _wait(lambda: _receipts(d) >= total // 2, 120, "half the rows")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    done_before = _receipts(d)
    assert done_before < total, "the job finished before it could be killed: make the rows longer"

    second = _driver(cluster, d)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 1, out  # the five bad rows failed, as they must
    assert f"{total} rows; " in out and "already done" in out, out
    skipped = int(out.split(f"{total} rows; ")[1].split(" already done")[0])
    assert skipped >= done_before - len(job["bad"]), out  # every row done before was skipped

    table = pq.read_table(d / "out" / "table.parquet").to_pylist()
    assert [r["row"] for r in table] == list(range(total))
    by_out = {r["outputs"].split(";")[0]: r for r in table}
    for rel, says in job["bad"].items():
        r = by_out[str(d / rel)]
        assert r["status"] == "error" and says in r["error"], r
        assert not (d / rel).exists()
    ok = [r for r in table if r["status"] == "ok"]
    assert len(ok) == PAIRS
    for r in ok:
        assert r["param.level_gain_db"] is not None and r["worker_peak_rss_mb"] > 0 and r["seconds"] > 0
    # the killed worker's row ran again, on another worker
    retried = [r for r in table if (r["attempts"] or 0) >= 2]
    assert retried, "no row records the killed worker's attempt"
    assert not list((d / "out").glob("*.part-*")), "a killed row left a partial file"

    def same_as_cli(i: int) -> None:
        o = d / "cli" / f"{i:02}"
        o.parent.mkdir(exist_ok=True)
        run_cli(automix_bin, "mix", "--vocal", d / "in" / f"{i:02}_vocal.wav", "--backing",
                d / "in" / f"{i:02}_backing.wav", "-o", f"{o}.mix.wav", "--vocal-out", f"{o}.vocal.wav")
        for kind in ("mix", "vocal"):
            np.testing.assert_array_equal(read(d / "out" / f"{i:02}.{kind}.wav")[0], read(f"{o}.{kind}.wav")[0])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(same_as_cli, range(PAIRS)))


def test_a_row_reads_and_writes_urls(tmp_path):
    """Inputs, outputs and receipts through fsspec (its in-memory filesystem, standing in for an
    object store): the row downloads, runs and uploads, in this process as a worker would."""
    import fsspec

    from vocal_automix import fleet

    fs = fsspec.filesystem("memory")
    vocal, backing = _pair(7)
    write(tmp_path / "v.wav", vocal, RATE)
    write(tmp_path / "b.wav", backing, RATE)
    fs.pipe_file("/bucket/in/v.wav", (tmp_path / "v.wav").read_bytes())
    fs.pipe_file("/bucket/in/b.wav", (tmp_path / "b.wav").read_bytes())
    fs.pipe_file("/bucket/manifest.csv", b"vocal,backing,out,suggestion_out\n"
                 b"memory://bucket/in/v.wav,memory://bucket/in/b.wav,memory://bucket/out/m.wav,memory://bucket/out/s.json\n")
    (row,) = fleet.read_manifest("memory://bucket/manifest.csv")
    receipt = fleet.run_row(row, "memory://bucket/out/table.parquet.rows")
    assert receipt["status"] == "ok", receipt
    (tmp_path / "m.wav").write_bytes(fs.cat_file("/bucket/out/m.wav"))
    local = fleet.run_row(fleet.Row(0, "mix", {"vocal": str(tmp_path / "v.wav"), "backing": str(tmp_path / "b.wav"),
                                                 "out": str(tmp_path / "local.wav")}), str(tmp_path / "rows"))
    assert local["status"] == "ok", local
    np.testing.assert_array_equal(read(tmp_path / "m.wav")[0], read(tmp_path / "local.wav")[0])
    assert fleet.read_receipts("memory://bucket/out/table.parquet.rows")[row.key]["status"] == "ok"
    assert fs.exists("/bucket/out/s.json")


def test_a_local_cluster_stops_its_own_processes_only():
    from vocal_automix import fleet

    def running(cluster: dict) -> bool:
        mark = cluster["folder"].encode()
        return any(mark in (p / "cmdline").read_bytes()
                   for p in Path("/proc").iterdir() if p.name.isdigit() and (p / "cmdline").exists())

    with fleet.local_cluster() as a:
        with fleet.local_cluster() as b:
            assert running(a) and running(b)
        assert running(a), "stopping one cluster stopped the other"
        assert not running(b)
    assert not running(a)
