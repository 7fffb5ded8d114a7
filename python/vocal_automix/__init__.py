"""Vocal Automix's engine on NumPy arrays.

Every function takes audio as ``float32`` NumPy arrays, either mono ``(samples,)`` or
``(channels, samples)``, at a sample rate you give (1 kHz to 768 kHz; the chain renders at 22.05
to 192 kHz and converts anything outside). They run the same code as the ``automix`` command
line, so ``mix(vocal, backing, rate)`` gives the samples ``automix mix`` writes for the same
audio. The GIL is released while the engine works: threads calling these run in parallel.

What the engine refuses raises :class:`AutomixError` with the message ``automix`` would print;
what it only notes (a clipped input, a backing converted to the vocal's rate, ...) is issued as an
:class:`AutomixWarning` through :mod:`warnings`.

>>> import numpy as np, vocal_automix as va
>>> rate = 44100
>>> suggestion = va.analyze(vocal, backing, rate)          # doctest: +SKIP
>>> mixed = va.mix(vocal, backing, rate)                    # doctest: +SKIP
>>> mixed.mix.shape, mixed.suggestion["params"]["level_gain_db"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Iterable, Literal, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from . import _engine
from ._engine import AutomixError

__all__ = [
    "AutomixError",
    "AutomixWarning",
    "Mixed",
    "Rendered",
    "Separated",
    "Activity",
    "analyze",
    "render",
    "mix",
    "separate",
    "vad",
    "measure_reference",
    "params_table",
]
__version__: str = _engine.__version__

ArrayLike = npt.ArrayLike
Audio = npt.NDArray[np.float32]
PathLike = Union[str, "os.PathLike[str]"]
Engine = Literal["rules", "cnn", "auto"]
Gate = Literal["vad", "loudness"]


class AutomixWarning(UserWarning):
    """Something the engine noticed about an input and worked around (said, never fatal)."""


class Rendered(NamedTuple):
    """What :func:`render` makes."""

    vocal: Audio
    """The processed vocal, ``(2, samples)``: stereo, with the tail asked for."""
    mix: Optional[Audio]
    """The processed vocal plus the backing (``None`` without a backing)."""


class Mixed(NamedTuple):
    """What :func:`mix` makes."""

    mix: Audio
    """The processed vocal plus the backing, ``(2, samples)``, as long as the longer."""
    vocal: Audio
    """The processed vocal alone, ``(2, samples)``, with its reverb's tail."""
    suggestion: dict
    """The assistant's suggestion (the JSON of ``automix analyze --json``)."""


class Separated(NamedTuple):
    """What :func:`separate` makes: two arrays that sum back to the input."""

    vocal: Audio
    accompaniment: Audio
    sung_share: Optional[float]
    """The share of the song where the VAD hears singing (``None`` without a VAD)."""


class Activity(NamedTuple):
    """What :func:`vad` hears."""

    probability: npt.NDArray[np.float32]
    """Each frame's probability of singing."""
    threshold: float
    """A frame is sung at or above this probability."""
    hop_seconds: float
    window_seconds: float
    stretches: list
    """The sung stretches, ``[(start_s, end_s), ...]``."""


def _audio(x: ArrayLike, what: str) -> Audio:
    a = np.asarray(x)
    if a.dtype != np.float32:
        if not np.issubdtype(a.dtype, np.floating):
            raise AutomixError(f"{what}: samples of type {a.dtype}; give floats (float32, -1 to 1)")
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def _rate(rate: Any) -> int:
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise AutomixError(f"rate: {rate!r} is not a whole number of Hz")
    return int(rate)


def _warn(messages: Iterable[str]) -> None:
    for m in messages:
        warnings.warn(m, AutomixWarning, stacklevel=3)


def _options(engine: str, gate: str, tempo: Optional[float],
             reference: Union[None, PathLike, Sequence[PathLike]], profile: Optional[PathLike]) -> dict:
    """The assistant's options as the compiled module takes them."""
    if reference is None:
        references = []
    elif isinstance(reference, (str, os.PathLike)):
        references = [os.fspath(reference)]
    else:
        references = [os.fspath(r) for r in reference]
    return {"engine": engine, "gate": gate, "tempo": None if tempo is None else float(tempo),
            "references": references, "profile": None if profile is None else os.fspath(profile)}


def analyze(
    vocal: ArrayLike,
    backing: Optional[ArrayLike],
    rate: int,
    *,
    engine: Engine = "rules",
    gate: Gate = "vad",
    tempo: Optional[float] = None,
    reference: Union[None, PathLike, Sequence[PathLike]] = None,
    profile: Optional[PathLike] = None,
) -> dict:
    """The assistant's suggested mix for ``vocal`` over ``backing``, both at ``rate`` Hz.

    Returns the suggestion as ``automix analyze --json`` prints it: ``params`` (every parameter
    by key), each stage's reason, the measures and the warnings. Without a backing the EQ and
    level stay as they are. ``reference`` (one song's path or several) or ``profile`` (a file
    written by ``automix learn``) sets targets as ``--reference`` / ``--profile`` do; references
    are measured once and cached as the command line caches them.
    """
    text, notes = _engine.analyze_json(
        _audio(vocal, "vocal"),
        None if backing is None else _audio(backing, "backing"),
        _rate(rate),
        _options(engine, gate, tempo, reference, profile),
    )
    suggestion = json.loads(text)
    _warn([*notes, *(w["message"] for w in suggestion.get("warnings", []))])
    return suggestion


def render(
    vocal: ArrayLike,
    params: Union[Mapping[str, Any], str, "os.PathLike[str]"],
    rate: int,
    backing: Optional[ArrayLike] = None,
    *,
    tail: float = 0.0,
) -> Rendered:
    """``vocal`` through EQ → de-esser → compressor → reverb → level with ``params``.

    ``params`` is a mapping of parameter keys (:func:`params_table`; missing keys take their
    defaults), a suggestion (:func:`analyze`'s result), or the path of such a JSON file. With a
    ``backing`` the ride follows it and the mix is returned too. ``tail``: seconds of reverb to
    render after the vocal ends (0 to 60).
    """
    if isinstance(params, (str, os.PathLike)):
        with open(params, encoding="utf-8") as f:
            text = f.read()
    else:
        text = json.dumps(dict(params))
    vocal_out, mix_out, notes = _engine.render_arrays(
        _audio(vocal, "vocal"),
        text,
        _rate(rate),
        None if backing is None else _audio(backing, "backing"),
        float(tail),
    )
    _warn(notes)
    return Rendered(vocal_out, mix_out)


def mix(
    vocal: ArrayLike,
    backing: ArrayLike,
    rate: int,
    *,
    engine: Engine = "rules",
    gate: Gate = "vad",
    tempo: Optional[float] = None,
    reference: Union[None, PathLike, Sequence[PathLike]] = None,
    profile: Optional[PathLike] = None,
) -> Mixed:
    """``automix mix`` on arrays: analyze, then render the vocal and the mix with the suggestion.

    The options are :func:`analyze`'s. The backing is converted to the vocal's rate if the
    chain renders at another (a rate outside 22.05–192 kHz).
    """
    mixed, vocal_out, text, notes = _engine.mix_arrays(
        _audio(vocal, "vocal"),
        _audio(backing, "backing"),
        _rate(rate),
        _options(engine, gate, tempo, reference, profile),
    )
    _warn(notes)
    return Mixed(mixed, vocal_out, json.loads(text))


def separate(song: ArrayLike, rate: int) -> Separated:
    """A mixed song's vocal and accompaniment (the U-Net separator), at its rate and channel
    count; the two sum back to the song."""
    vocal_out, accompaniment, share, notes = _engine.separate_array(_audio(song, "song"), _rate(rate))
    _warn(notes)
    return Separated(vocal_out, accompaniment, share)


def vad(audio: ArrayLike, rate: int) -> Activity:
    """Where a voice sings in ``audio`` (a mixed song or a vocal): every 20 ms frame's
    probability and the sung stretches, as ``automix vad --json`` gives them."""
    p, threshold, hop, window, stretches = _engine.vad_array(_audio(audio, "audio"), _rate(rate))
    return Activity(p, threshold, hop, window, [tuple(s) for s in stretches])


def measure_reference(audio: ArrayLike, rate: int) -> dict:
    """What ``--reference`` reads from a finished song: the vocal's balance against the
    accompaniment, its loudness range, tone and reverb, each with a confidence (the song is
    separated first: seconds per minute of audio)."""
    text, notes = _engine.measure_reference_json(_audio(audio, "reference"), _rate(rate))
    _warn(notes)
    return json.loads(text)


def params_table() -> list:
    """Every parameter: key, name, range, unit and default (``automix params --json``)."""
    return json.loads(_engine.params_table_json())
