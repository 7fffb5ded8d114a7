"""Throughput of the engine on one machine, the figures docs/scale.md plans a fleet with.

    target/fleet-venv/bin/python python/bench/throughput.py --automix target/release/automix

1. Songs per core-hour for `mix`, `separate` and `render` of 3-minute songs: each run of the
   `automix` binary pinned to one core (taskset), its CPU seconds and peak memory from the
   kernel's accounting of the child (median of three songs).
2. The fleet job's overhead against `automix batch` on the same pairs, both using every core of
   this machine: `vocal_automix.fleet` on a Ray cluster started beforehand (`ray start --head`,
   not timed: a fleet's cluster outlives its jobs), timed from the driver's start to its table,
   against `automix batch --jobs N` timed whole. The goal is at most 10 % more.
3. Peak memory per worker: the largest `worker_peak_rss_mb` in the job's table.

Install the package's release build first (`pip install ./python`, or `maturin build --release`),
so that the job and the binary are the same build. Real audio from ../shared/audio (vocadito over
Vibe Ace, looped to 3 minutes and offset per song).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "audio"


def make_songs(work: Path, n: int, seconds: float) -> list:
    vocal, rate = sf.read(SHARED / "clips" / "vocadito_1_vocal.wav", dtype="float32", always_2d=True)
    backing, brate = sf.read(SHARED / "backings" / "vibe_ace_instrumental.ogg", dtype="float32", always_2d=True)
    assert rate == brate
    frames = int(seconds * rate)
    pairs, songs = work / "pairs", work / "songs"
    pairs.mkdir(parents=True, exist_ok=True)
    songs.mkdir(exist_ok=True)
    names = []
    for i in range(n):
        v = np.roll(np.resize(vocal[:, 0], frames), int(i * 3.1 * rate)) * 10 ** (-(i % 4) / 20)
        b = np.roll(np.resize(backing.T, (2, frames)), int(i * 7.3 * rate), axis=1).T
        name = f"song{i:02}"
        sf.write(pairs / f"{name}_vocal.wav", v, rate, subtype="PCM_16")
        sf.write(pairs / f"{name}_backing.wav", b, rate, subtype="PCM_16")
        sf.write(songs / f"{name}.wav", np.clip(b + v[:, None] * 0.7, -1, 1), rate, subtype="PCM_16")
        names.append(name)
    return names


def timed_child(cmd: list) -> dict:
    """Wall and CPU seconds and peak memory of one child, from the kernel's accounting."""
    started = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - started
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{err}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def single_core(automix: str, work: Path, names: list) -> dict:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    out = work / "single"
    out.mkdir(exist_ok=True)
    pairs, songs = work / "pairs", work / "songs"
    runs: dict = {"mix": [], "separate": [], "render": []}
    for name in names[:3]:
        v, b = pairs / f"{name}_vocal.wav", pairs / f"{name}_backing.wav"
        runs["mix"].append(timed_child([*pin, automix, "mix", "--vocal", v, "--backing", b, "-o", out / f"{name}.mix.wav",
                                        "--suggestion-out", out / f"{name}.json"]))
        runs["separate"].append(timed_child([*pin, automix, "separate", songs / f"{name}.wav", "-o", out]))
        runs["render"].append(timed_child([*pin, automix, "render", "--vocal", v, "--params", out / f"{name}.json",
                                           "-o", out / f"{name}.render.wav", "--backing", b, "--mix-out",
                                           out / f"{name}.render-mix.wav"]))
    result = {}
    for task, rs in runs.items():
        cpu = statistics.median(r["cpu_s"] for r in rs)
        result[task] = {"cpu_s": round(cpu, 3), "wall_s": round(statistics.median(r["wall_s"] for r in rs), 3),
                        "peak_mb": round(max(r["peak_mb"] for r in rs), 1),
                        "songs_per_core_hour": round(3600 / cpu)}
    return result


def batch_against_fleet(automix: str, work: Path, names: list, cores: int) -> dict:
    pairs = work / "pairs"
    batch_out = work / "batch"
    shutil.rmtree(batch_out, ignore_errors=True)
    batch = timed_child([automix, "batch", pairs, "--out-dir", batch_out, "--jobs", str(cores)])

    fleet_out = work / "fleet"
    shutil.rmtree(fleet_out, ignore_errors=True)
    fleet_out.mkdir()
    lines = ["task,vocal,backing,out,vocal_out,suggestion_out"]
    for n in names:
        lines.append(f"mix,{pairs}/{n}_vocal.wav,{pairs}/{n}_backing.wav,{fleet_out}/{n}.mix.wav,"
                     f"{fleet_out}/{n}.vocal.wav,{fleet_out}/{n}.suggestion.json")
    (work / "manifest.csv").write_text("\n".join(lines) + "\n")
    from vocal_automix import fleet

    # the cluster's start is not timed: a fleet's cluster outlives its jobs
    with fleet.local_cluster(nodes=1, cpus_per_node=cores, object_store_mb=200) as cluster:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vocal_automix.fleet", str(work / "manifest.csv"), "--table",
                        str(fleet_out / "table.parquet"), "--address", cluster["address"]], env=cluster["env"],
                       check=True, capture_output=True)
        fleet_wall = time.perf_counter() - started
    import pyarrow.parquet as pq

    table = pq.read_table(fleet_out / "table.parquet").to_pylist()
    assert all(r["status"] == "ok" for r in table), [r["error"] for r in table]
    # the same audio as the batch wrote
    for n in names:
        a, _ = sf.read(batch_out / f"{n}.mix.wav", dtype="float32")
        b, _ = sf.read(fleet_out / f"{n}.mix.wav", dtype="float32")
        assert np.array_equal(a, b), n
    return {
        "songs": len(names),
        "cores": cores,
        "batch_wall_s": round(batch["wall_s"], 3),
        "fleet_wall_s": round(fleet_wall, 3),
        "overhead_percent": round(100 * (fleet_wall / batch["wall_s"] - 1), 1),
        "overhead_per_row_s": round((fleet_wall - batch["wall_s"]) / len(names), 3),
        "row_seconds_median": round(statistics.median(r["seconds"] for r in table), 3),
        "worker_peak_rss_mb": max(r["worker_peak_rss_mb"] for r in table),
        "batch_peak_mb": round(batch["peak_mb"], 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--automix", required=True, help="the release `automix` binary")
    p.add_argument("--songs", type=int, default=8)
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--cores", type=int, default=os.cpu_count())
    p.add_argument("--work", type=Path, default=ROOT / "target" / "fleet-bench")
    a = p.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    names = make_songs(a.work, a.songs, a.seconds)
    result = {"single_core": single_core(a.automix, a.work, names),
              "batch_against_fleet": batch_against_fleet(a.automix, a.work, names, a.cores)}
    (a.work / "results.json").write_text(json.dumps(result, indent=2))
    print(f"{a.seconds:.0f}-second songs, one core each (median of 3):")
    for task, r in result["single_core"].items():
        print(f"  {task:9} {r['cpu_s']:6.2f} CPU s  {r['songs_per_core_hour']:5} songs per core-hour  peak {r['peak_mb']:.0f} MB")
    f = result["batch_against_fleet"]
    print(f"{f['songs']} songs on {f['cores']} cores: automix batch {f['batch_wall_s']:.2f} s, the fleet job "
          f"{f['fleet_wall_s']:.2f} s: {f['overhead_percent']:+.1f} % ({f['overhead_per_row_s']:+.3f} s a row); "
          f"peak per worker {f['worker_peak_rss_mb']:.0f} MB")
    print(f"→ {a.work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
