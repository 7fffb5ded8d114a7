"""``automix`` jobs on a Ray cluster: a manifest of songs in, audio and one Parquet table out.

    python -m vocal_automix.fleet MANIFEST --table OUT.parquet [--address auto]

The manifest (CSV or Parquet, a local path or any fsspec URL) has one row per job and these
columns (paths are local or fsspec URLs; an empty cell is "not given"):

========  =====================================================================================
task      ``mix`` (the default), ``separate`` or ``render``
mix       ``vocal``, ``backing``, ``out`` (the mix); optional ``vocal_out`` (the processed vocal),
          ``suggestion_out`` (its JSON), ``reference`` (songs to mix like, ``;``-separated),
          ``profile`` (``automix learn``'s file), ``engine``, ``gate``, ``tempo``
separate  ``song``, ``vocal_out``, ``accompaniment_out``
render    ``vocal``, ``params`` (a parameter file or suggestion, or its JSON inline), ``out``;
          optional ``backing`` and ``mix_out``, ``tail`` (seconds)
========  =====================================================================================

Each row runs on a worker as ``automix`` itself would run it (the package's in-process
subcommands), writes its audio (a temporary file renamed into place, or one upload per object),
then a receipt beside the table (``OUT.parquet.rows/``). A row that fails records its error and
the job goes on; a worker killed mid-row is replaced and the row runs again (Ray retries the
task); the job run again skips every row whose receipt says it is done. At the end the receipts
become the table: one row per manifest row, its status and error, its time and the worker's peak
memory, and every number of its suggestion flattened into columns (``param.level_gain_db``,
``level.target_below_backing_lu``, ...) beside the suggestion's whole JSON.

Why Ray tasks and not Ray Data: a row is seconds of independent work with files in and out and
nothing handed to a next stage, so a task per row is the whole plan; tasks give the two
guarantees the job needs directly (a row's failure is its own; a worker's death re-runs only its
row), where Ray Data would stream batches through operators it can re-execute whole.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import io
import json
import os
import resource
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

# each task's input and output columns, and the columns a row of it must fill
TASKS = {
    "mix": {
        "inputs": ("vocal", "backing"),
        "outputs": ("out", "vocal_out", "suggestion_out"),
        "required": ("vocal", "backing", "out"),
    },
    "separate": {
        "inputs": ("song",),
        "outputs": ("vocal_out", "accompaniment_out"),
        "required": ("song", "vocal_out", "accompaniment_out"),
    },
    "render": {
        "inputs": ("vocal", "backing"),
        "outputs": ("out", "mix_out"),
        "required": ("vocal", "params", "out"),
    },
}
RECEIPT_VERSION = 1


class ManifestError(ValueError):
    """The manifest cannot be run as it is (said before any work starts)."""


@dataclass
class Row:
    index: int
    task: str
    cells: dict
    key: str = field(init=False)

    def __post_init__(self) -> None:
        spec = TASKS[self.task]
        first = next(self.cells[c] for c in spec["outputs"] if self.cells.get(c))
        self.key = hashlib.sha1(f"{self.task}\0{first}".encode()).hexdigest()[:20]

    def outputs(self) -> list:
        return [self.cells[c] for c in TASKS[self.task]["outputs"] if self.cells.get(c)]


# ---------------------------------------------------------------------------------------------
# the manifest


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


PATH_COLUMNS = (
    "vocal", "backing", "song", "out", "vocal_out", "suggestion_out", "accompaniment_out", "mix_out", "profile",
)


def _resolved(cells: dict, base: Optional[str]) -> dict:
    """Relative local paths made absolute against the manifest's folder (workers run elsewhere)."""
    if base is None:
        return cells
    out = dict(cells)
    for c in PATH_COLUMNS:
        v = out.get(c)
        if v and "://" not in v and not os.path.isabs(v):
            out[c] = os.path.normpath(os.path.join(base, v))
    refs = out.get("reference")
    if refs:
        out["reference"] = ";".join(
            r if "://" in r or os.path.isabs(r) else os.path.normpath(os.path.join(base, r))
            for r in (x.strip() for x in refs.split(";")) if r
        )
    params = out.get("params")
    if params and not params.lstrip().startswith("{") and "://" not in params and not os.path.isabs(params):
        out["params"] = os.path.normpath(os.path.join(base, params))
    return out


def read_manifest(url: str) -> list:
    """The manifest's rows, checked: every row's task known and its required columns given, no
    output path written by two rows (or twice by one). Relative local paths are read from the
    manifest's folder. Raises :class:`ManifestError` naming the rows at fault."""
    import fsspec
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with fsspec.open(url, "rb") as f:
        data = f.read()
    if url.lower().endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data))
    else:
        convert = pacsv.ConvertOptions(strings_can_be_null=True)
        table = pacsv.read_csv(io.BytesIO(data), convert_options=convert)
        # every column as text: a path column of numbers is still a path
        table = table.cast(pa.schema([(n, pa.string()) for n in table.column_names]))
    base = None if _is_url(url) else os.path.dirname(os.path.abspath(_local(url)))
    rows, errors = [], []
    for i, raw in enumerate(table.to_pylist()):
        cells = _resolved({k.strip(): (None if _blank(v) else str(v).strip()) for k, v in raw.items()}, base)
        task = (cells.get("task") or "mix").lower()
        if task not in TASKS:
            errors.append(f"row {i + 1}: task `{task}` (mix, separate or render)")
            continue
        missing = [c for c in TASKS[task]["required"] if not cells.get(c)]
        if missing:
            errors.append(f"row {i + 1} ({task}): no {', '.join(missing)}")
            continue
        rows.append(Row(i, task, cells))
    if not table.num_rows:
        errors.append("the manifest has no rows")
    seen: dict = {}
    for r in rows:
        for out in r.outputs():
            norm = os.path.normpath(out) if "://" not in out else out
            if norm in seen:
                errors.append(f"rows {seen[norm] + 1} and {r.index + 1} both write {out}")
            else:
                seen[norm] = r.index
            inputs = [r.cells[c] for c in TASKS[r.task]["inputs"] if r.cells.get(c)]
            if norm in {os.path.normpath(i) for i in inputs if "://" not in i}:
                errors.append(f"row {r.index + 1} writes its own input {out}")
    if errors:
        raise ManifestError(f"{url}: " + "; ".join(errors))
    return rows


# ---------------------------------------------------------------------------------------------
# files: local paths as they are, fsspec URLs through a local copy


def _is_url(p: str) -> bool:
    return "://" in p and not p.startswith("file://")


def _local(p: str) -> str:
    return p[len("file://"):] if p.startswith("file://") else p


def _inputs(paths: dict, work: str) -> dict:
    """Local paths for the row's inputs (URLs downloaded into `work`, which the row removes)."""
    import fsspec

    local = {}
    for name, p in paths.items():
        if p and _is_url(p):
            dst = os.path.join(work, f"in-{name}-{os.path.basename(p.split('?')[0]) or 'file'}")
            with fsspec.open(p, "rb") as src, open(dst, "wb") as out:
                out.write(src.read())
            local[name] = dst
        else:
            local[name] = _local(p) if p else None
    return local


def _staged(paths: dict, work: str) -> dict:
    """Where the row writes each output first: a temporary name beside a local output (renamed
    into place once the row is done), a file in `work` for a URL (uploaded then)."""
    staged = {}
    for name, p in paths.items():
        if not p:
            staged[name] = None
        elif _is_url(p):
            staged[name] = os.path.join(work, f"out-{name}-{os.path.basename(p)}")
        else:
            p = _local(p)
            os.makedirs(os.path.dirname(os.path.abspath(p)), exist_ok=True)
            # what a run killed mid-row left behind
            for stale in glob.glob(glob.escape(p) + ".part-*"):
                with contextlib.suppress(OSError):
                    os.remove(stale)
            staged[name] = f"{p}.part-{os.getpid()}{os.path.splitext(p)[1]}"
    return staged


def _publish(paths: dict, staged: dict) -> None:
    import fsspec

    for name, p in paths.items():
        if not p:
            continue
        if _is_url(p):
            fs, target = fsspec.core.url_to_fs(p)
            fs.put_file(staged[name], target)
        else:
            os.replace(staged[name], _local(p))


def _discard(staged: dict) -> None:
    for p in staged.values():
        if p and os.path.exists(p):
            with contextlib.suppress(OSError):
                os.remove(p)


# ---------------------------------------------------------------------------------------------
# one row


def _run_task(row: Row, local: dict, staged: dict) -> dict:
    from . import _engine

    c = row.cells
    if row.task == "mix":
        refs = [r.strip() for r in (c.get("reference") or "").split(";") if r.strip()]
        options = {"engine": c.get("engine") or "rules", "gate": c.get("gate") or "vad",
                   "tempo": float(c["tempo"]) if c.get("tempo") else None, "references": refs,
                   "profile": c.get("profile")}
        text, warnings = _engine.mix_files(
            local["vocal"], local["backing"], staged["out"], staged.get("vocal_out"), staged.get("suggestion_out"),
            options,
        )
        return {"warnings": warnings, "suggestion": json.loads(text)}
    if row.task == "separate":
        warnings = _engine.separate_files(local["song"], staged["vocal_out"], staged["accompaniment_out"])
        return {"warnings": warnings}
    params = c["params"]
    if not params.lstrip().startswith("{"):
        import fsspec

        with fsspec.open(params, "r", encoding="utf-8") as f:
            params = f.read()
    warnings = _engine.render_files(
        local["vocal"], params, staged["out"], local.get("backing"), staged.get("mix_out"),
        float(c.get("tail") or 0.0),
    )
    return {"warnings": warnings}


def run_row(row: Row, receipts: str) -> dict:
    """Runs one row and writes its receipt; never raises for the row's own failure."""
    started = time.perf_counter()
    spec = TASKS[row.task]
    outputs = {c: row.cells.get(c) for c in spec["outputs"]}
    receipt = {"version": RECEIPT_VERSION, "row": row.index, "key": row.key, "task": row.task,
               "attempts": _count_attempt(receipts, row), "node": socket.gethostname(), "pid": os.getpid(),
               "outputs": row.outputs()}
    with tempfile.TemporaryDirectory(prefix="automix-row-") as work:
        staged: dict = {}
        try:
            staged = _staged(outputs, work)
            inputs = {c: row.cells.get(c) for c in spec["inputs"]}
            result = _run_task(row, _inputs(inputs, work), staged)
            _publish(outputs, staged)
            receipt.update(status="ok", error=None, **result)
        except Exception as e:  # the row's own failure: recorded, the job goes on
            _discard(staged)
            receipt.update(status="error", error=str(e) or type(e).__name__, warnings=[])
    receipt["seconds"] = round(time.perf_counter() - started, 4)
    receipt["worker_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    _write_receipt(receipts, row.key, receipt)
    return receipt


def _count_attempt(receipts: str, row: Row) -> int:
    """How many times this row has started (a worker killed mid-row makes it start again)."""
    import fsspec

    fs, base = fsspec.core.url_to_fs(receipts)
    fs.makedirs(base, exist_ok=True)
    path = f"{base}/{row.key}.attempts"
    before = fs.cat_file(path).decode() if fs.exists(path) else ""
    text = before + f"{socket.gethostname()}:{os.getpid()}\n"
    fs.pipe_file(path, text.encode())
    return text.count("\n")


def _write_receipt(receipts: str, key: str, receipt: dict) -> None:
    import fsspec

    fs, base = fsspec.core.url_to_fs(receipts)
    fs.makedirs(base, exist_ok=True)
    data = json.dumps(receipt, indent=1).encode()
    if _is_url(receipts):
        fs.pipe_file(f"{base}/{key}.json", data)
    else:
        tmp = os.path.join(base, f".{key}.json.{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(base, f"{key}.json"))


def read_receipts(receipts: str) -> dict:
    """Every receipt beside the table, by row key."""
    import fsspec

    fs, base = fsspec.core.url_to_fs(receipts)
    if not fs.exists(base):
        return {}
    out = {}
    for p in fs.glob(f"{base}/*.json"):
        with contextlib.suppress(ValueError, OSError):
            r = json.loads(fs.cat_file(p))
            out[r["key"]] = r
    return out


# ---------------------------------------------------------------------------------------------
# the table


def _flatten(prefix: str, v: Any, out: dict) -> None:
    if isinstance(v, dict):
        for k, x in v.items():
            _flatten(f"{prefix}.{k}" if prefix else k, x, out)
    elif isinstance(v, bool) or v is None or isinstance(v, str):
        out[prefix] = v
    elif isinstance(v, (int, float)):
        out[prefix] = float(v)
    else:  # lists (bands, filters, warnings): their JSON
        out[prefix] = json.dumps(v)


def table_rows(rows: list, receipts: dict) -> list:
    out = []
    for row in rows:
        r = receipts.get(row.key)
        rec = {"row": row.index, "task": row.task, "key": row.key, "outputs": ";".join(row.outputs())}
        rec.update({f"in.{c}": row.cells.get(c) for c in TASKS[row.task]["inputs"]})
        if r is None:
            rec.update(status="not run", error=None)
        else:
            rec.update(status=r["status"], error=r.get("error"), seconds=r.get("seconds"), attempts=r.get("attempts"),
                       worker_peak_rss_mb=r.get("worker_peak_rss_mb"), node=r.get("node"),
                       warnings=json.dumps(r.get("warnings") or []))
            s = r.get("suggestion")
            if s:
                rec["suggestion_json"] = json.dumps(s)
                flat: dict = {}
                _flatten("", {k: v for k, v in s.items() if k not in ("format", "version", "warnings")}, flat)
                rec.update({("param." + k[len("params."):] if k.startswith("params.") else k): v for k, v in flat.items()})
        out.append(rec)
    return out


def write_table(url: str, records: list) -> None:
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    names: list = []
    for r in records:
        names += [k for k in r if k not in names]
    table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in records])
    buf = io.BytesIO()
    pq.write_table(table, buf)
    if _is_url(url):
        with fsspec.open(url, "wb") as f:
            f.write(buf.getvalue())
    else:
        url = _local(url)
        os.makedirs(os.path.dirname(os.path.abspath(url)), exist_ok=True)
        tmp = f"{url}.part-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, url)


# ---------------------------------------------------------------------------------------------
# the job


def run(manifest: str, table: str, *, address: Optional[str] = None, max_retries: int = 3,
        retry_failed: bool = True, say=print) -> dict:
    """Runs every row not yet done on the Ray cluster at `address` (``None``: a local one) and
    writes the table. Returns counts: done before, ran, ok, failed."""
    import ray

    import fsspec

    rows = read_manifest(manifest)
    if not _is_url(table):
        table = os.path.abspath(_local(table))
    receipts_url = table.rstrip("/") + ".rows"
    fs, base = fsspec.core.url_to_fs(receipts_url)
    fs.makedirs(base, exist_ok=True)
    done = read_receipts(receipts_url)
    todo = [r for r in rows if done.get(r.key, {}).get("status") != "ok" and (retry_failed or r.key not in done)]
    say(f"{len(rows)} rows; {len(rows) - len(todo)} already done; {len(todo)} to run")
    if todo:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        remote = ray.remote(num_cpus=1, max_retries=max_retries)(run_row)
        pending = {remote.remote(r, receipts_url): r for r in todo}
        finished = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                row = pending.pop(ref)
                try:
                    receipt = ray.get(ref)
                except ray.exceptions.RayError as e:
                    # the worker died more often than Ray retries (or the row broke our own code)
                    crashed = isinstance(e, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                                             ray.exceptions.OutOfMemoryError))
                    why = (f"the worker running it died {max_retries + 1} times ({type(e).__name__})" if crashed
                           else f"internal error (please report it): {str(e).strip().splitlines()[-1]}")
                    receipt = {"version": RECEIPT_VERSION, "row": row.index, "key": row.key, "task": row.task,
                               "status": "error", "error": why, "warnings": [], "outputs": row.outputs()}
                    _write_receipt(receipts_url, row.key, receipt)
                finished += 1
                say(f"[{finished}/{len(todo)}] row {row.index + 1} {row.task}: {receipt['status']}"
                    + (f" ({receipt['error']})" if receipt.get("error") else ""))
    receipts = read_receipts(receipts_url)
    records = table_rows(rows, receipts)
    write_table(table, records)
    ok = sum(1 for r in records if r["status"] == "ok")
    failed = sum(1 for r in records if r["status"] == "error")
    say(f"table → {table}: {ok} ok, {failed} failed")
    return {"rows": len(rows), "done_before": len(rows) - len(todo), "ran": len(todo), "ok": ok, "failed": failed}


# ---------------------------------------------------------------------------------------------
# a cluster on this machine (for trying the job, its tests and its benchmark)


@contextlib.contextmanager
def local_cluster(nodes: int = 1, cpus_per_node: int = 1, object_store_mb: int = 100) -> Iterator[dict]:
    """A Ray cluster on the loopback: a head and ``nodes - 1`` more node processes, each offering
    ``cpus_per_node`` CPUs, token-authenticated (a fresh token), stopped on exit. Yields
    ``{"address": "127.0.0.1:PORT", "env": {...}, "folder": ...}``: run the job's driver with that
    address and that environment; its processes name the folder. Stopping it stops its own processes only (``ray stop`` would stop every Ray
    on the machine)."""
    import secrets
    import subprocess

    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    port, dashboard = _free_ports(2)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus_per_node),
              "--object-store-memory", str(object_store_mb << 20), "--disable-usage-stats"]
    try:
        subprocess.run([ray, "start", "--head", "--port", str(port), "--include-dashboard", "false",
                        "--dashboard-port", str(dashboard), "--temp-dir", temp, *common], env=env, check=True,
                       capture_output=True, timeout=120)
        for _ in range(nodes - 1):
            subprocess.run([ray, "start", "--address", f"127.0.0.1:{port}", *common], env=env, check=True,
                           capture_output=True, timeout=120)
        yield {"address": f"127.0.0.1:{port}", "env": env, "folder": temp}
    finally:
        _stop_local_cluster(temp, port)


def _free_ports(n: int) -> list:
    """`n` ports free on the loopback now (held open together, so they differ)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _stop_local_cluster(temp: str, port: int) -> None:
    """Stops the processes whose command line names the cluster's folder or address; their
    workers exit with their raylets."""
    import signal

    marks = (temp.encode(), f"127.0.0.1:{port}".encode(), f"--gcs_server_port={port}".encode())

    def ours() -> list:
        pids = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if any(m in cmd for m in marks):
                    pids.append(int(entry.name))
        return pids

    # a short grace, then as `ray stop --force` does
    for sig, grace in ((signal.SIGTERM, 2), (signal.SIGKILL, 10)):
        for pid in ours():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + grace
        while ours() and time.monotonic() < end:
            time.sleep(0.05)


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vocal_automix.fleet", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest", help="CSV or Parquet: a local path or an fsspec URL")
    p.add_argument("--table", required=True, help="the Parquet table to write (its receipts go to TABLE.rows/)")
    p.add_argument("--address", default=None, help="the Ray cluster (`auto`, HOST:PORT); default: a local one")
    p.add_argument("--max-retries", type=int, default=3, help="times a row runs again after its worker dies")
    p.add_argument("--keep-failed", action="store_true", help="do not run again rows that failed before")
    a = p.parse_args(argv)
    try:
        counts = run(a.manifest, a.table, address=a.address, max_retries=a.max_retries, retry_failed=not a.keep_failed)
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
