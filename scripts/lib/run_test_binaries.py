#!/usr/bin/env python3
"""Runs the test binaries that `cargo test --no-run --message-format=json` built, two at a time.

`cargo test` runs one binary after another, and many of ours hold one long test (the reverb's
IEM comparison, the soak, the separation on real songs): on a two-core machine one core then
waits. Here every binary runs as cargo would run it (from its package's directory, with the
CARGO_* variables it sets), its output is kept and printed whole when it ends, and the longest
binaries of the last run (target/test-times.json) start first.

usage: run_test_binaries.py CARGO_JSON [-- ARGS FOR EVERY TEST BINARY]
Exits 1 when any binary failed, after running all of them (as `cargo test --no-fail-fast`).
"""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TIMES = Path("target/test-times.json")


def test_binaries(cargo_json):
    """(name, executable, package dir, package name) of every test binary cargo built."""
    found = []
    for line in Path(cargo_json).read_text().splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg["profile"]["test"]:
            continue
        manifest = Path(msg["manifest_path"])
        package = msg["package_id"]
        name = f"{manifest.parent.name}::{msg['target']['name']}:{Path(msg['target']['src_path']).name}"
        found.append((name, msg["executable"], str(manifest.parent), package))
    return found


def package_name(package_id):
    # "path+file:///…/cli#automix@0.1.0" or "automix 0.1.0 (path+file://…)"
    if "#" in package_id:
        tail = package_id.rsplit("#", 1)[1]
        return tail.split("@")[0] if "@" in tail else Path(package_id.split("#")[0]).name
    return package_id.split(" ")[0]


def run(binary, args):
    name, exe, cwd, package = binary
    env = dict(os.environ, CARGO_MANIFEST_DIR=cwd, CARGO_PKG_NAME=package_name(package))
    started = time.monotonic()
    done = subprocess.run(
        [exe, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    took = time.monotonic() - started
    # whole, so that two binaries' lines never interleave
    out = done.stdout.decode(errors="replace")
    sys.stdout.write(f"\n     Running {name} ({exe}) took {took:.1f} s\n{out}")
    sys.stdout.flush()
    return name, done.returncode, took


def main():
    argv = sys.argv[1:]
    args = argv[argv.index("--") + 1 :] if "--" in argv else []
    binaries = test_binaries(argv[0])
    if not binaries:
        sys.exit("no test binaries in the cargo output: did the build fail?")
    last = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    binaries.sort(key=lambda b: -last.get(b[0], 1e9))  # unknown ones first: they may be long
    jobs = max(2, os.cpu_count() or 2)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda b: run(b, args), binaries))
    took = time.monotonic() - started
    failed = [name for name, code, _ in results if code != 0]
    if not args:  # a filtered run's times say nothing about the next whole run
        TIMES.write_text(json.dumps({n: round(t, 1) for n, _, t in results}, indent=1))
    serial = sum(t for _, _, t in results)
    print(f"\n== {len(results)} test binaries in {took:.0f} s, {jobs} at a time ({serial:.0f} s one after another)")
    for name, _, t in sorted(results, key=lambda r: -r[2])[:8]:
        print(f"   {t:6.1f} s  {name}")
    if failed:
        print("\n== FAILED:\n" + "\n".join(f"   {n}" for n in failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
