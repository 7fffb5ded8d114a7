"""What the package's tests share: the `automix` binary they compare with (AUTOMIX_BIN, set by
cli/tests/python_package.rs to the build under test) and ../shared/audio."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "audio"


def _missing(what: str, flag: str):
    msg = f"SKIPPED: {what}"
    print(msg)
    if os.environ.get(flag):
        pytest.fail(f"{flag} is set but {what}")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def automix_bin() -> str:
    b = os.environ.get("AUTOMIX_BIN")
    if not b or not Path(b).exists():
        _missing("no `automix` binary in AUTOMIX_BIN to compare with", "AUTOMIX_REQUIRE_FLEET")
    return b


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "clips" / "vocadito_1_vocal.wav").exists():
        _missing(f"{SHARED} is absent (real audio for these tests)", "AUTOMIX_REQUIRE_SHARED")
    return SHARED


def run_cli(automix_bin: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([automix_bin, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"automix {' '.join(map(str, args))} failed:\n{p.stderr}")
    return p


def read(path) -> tuple:
    """A WAV as the package takes it: (channels, samples) float32, and its rate."""
    a, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(a.T), rate


def write(path, audio: np.ndarray, rate: int) -> None:
    """32-bit float WAV: both decoders read back the very same samples."""
    a = audio if audio.ndim == 1 else audio.T
    sf.write(str(path), a, rate, subtype="FLOAT")
