"""The compiled engine (Rust, PyO3). Use the functions of ``vocal_automix`` instead: they take
any float array, name their results and issue the warnings."""

from typing import Optional, TypedDict

import numpy as np
import numpy.typing as npt

__version__: str

class AutomixError(Exception):
    """What the engine refused, in the words ``automix`` uses."""

_F32 = npt.NDArray[np.float32]

class _Options(TypedDict):
    """The assistant's options (`automix analyze`'s): engine, gate, tempo, references, profile."""

    engine: str
    gate: str
    tempo: Optional[float]
    references: list[str]
    profile: Optional[str]

def analyze_json(
    vocal: _F32,
    backing: Optional[_F32],
    rate: int,
    options: _Options,
) -> tuple[str, list[str]]: ...
def render_arrays(
    vocal: _F32, params_json: str, rate: int, backing: Optional[_F32], tail: float
) -> tuple[_F32, Optional[_F32], list[str]]: ...
def mix_arrays(
    vocal: _F32,
    backing: _F32,
    rate: int,
    options: _Options,
) -> tuple[_F32, _F32, str, list[str]]: ...
def separate_array(song: _F32, rate: int) -> tuple[_F32, _F32, Optional[float], list[str]]: ...
def vad_array(
    audio: _F32, rate: int
) -> tuple[_F32, float, float, float, list[tuple[float, float]]]: ...
def measure_reference_json(audio: _F32, rate: int) -> tuple[str, list[str]]: ...
def params_table_json() -> str: ...

# the command line's subcommands on files, in process (what a fleet worker runs for a row)
def mix_files(
    vocal: str,
    backing: str,
    out: str,
    vocal_out: Optional[str],
    suggestion_out: Optional[str],
    options: _Options,
) -> tuple[str, list[str]]: ...
def separate_files(song: str, vocal_out: str, backing_out: str) -> list[str]: ...
def render_files(
    vocal: str,
    params_json: str,
    out: str,
    backing: Optional[str],
    mix_out: Optional[str],
    tail: float,
) -> list[str]: ...
