import os
import shutil
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
sys.path.insert(0, str(TRAINING))


def automix_binary() -> Path | None:
    """The `automix` the tests drive: $AUTOMIX_BIN, else the newer of the workspace's release and
    debug builds."""
    env = os.environ.get("AUTOMIX_BIN")
    if env:
        return Path(env)
    builds = [REPO / "target" / profile / "automix" for profile in ("release", "debug")]
    builds = [p for p in builds if p.is_file()]
    # the newer build: the one the code was last built into
    return max(builds, key=lambda p: p.stat().st_mtime) if builds else None


@pytest.fixture(scope="session")
def automix():
    p = automix_binary()
    if p is None or not p.is_file():
        msg = "SKIPPED LOUDLY: no automix binary (build it: cargo build --release -p automix, or set AUTOMIX_BIN)"
        if os.environ.get("AUTOMIX_REQUIRE_TRAINING"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p
