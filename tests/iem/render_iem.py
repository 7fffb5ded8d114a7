#!/usr/bin/env python3
"""Renders a WAV through one IEM plug-in, the research's own DSP, for side-by-side tests.

    python render_iem.py REFERENCE_DIR JOB_JSON IN_WAV OUT_WAV

JOB_JSON: {"plugin": "MultiEQ" | "OmniCompressor" | "FdnReverb", "channels": 1 or 2, ...}
  MultiEQ:        "peaks": [[freq_hz, gain_db, q], ...]  (at most 4; on bands 2..5, the rest off)
  OmniCompressor: "settings": {"Threshold": -20, "Ratio": 4, ...}  (names as the plug-in shows)
  FdnReverb:      "settings": {...}, "fdn_size": 16 | 32 | 64
The sample rate is the input file's; the output is 32-bit float.
"""
import json
import sys

import numpy as np
import soundfile as sf


def main(ref_dir, job_json, in_wav, out_wav):
    sys.path.insert(0, ref_dir)
    from iem_chain import _choose
    from iem_host import IEM, VST2Plugin

    job = json.loads(job_json)
    x, sr = sf.read(in_wav, always_2d=True, dtype="float32")
    x = x.T
    p = VST2Plugin(IEM.format(job["plugin"]), sr, 512, channels=job.get("channels", x.shape[0]))
    if job["plugin"] == "MultiEQ":
        for band in range(1, 7):
            p.set_normalized(p.index(f"Filter Enablement {band}"), 0)
        for band, (freq, gain, q) in zip(range(2, 6), job["peaks"]):
            p.set_normalized(p.index(f"Filter Enablement {band}"), 1)
            _choose(p, f"Filter Type {band}", "Peak")
            p.set_value(f"Filter Frequency {band}", freq)
            p.set_value(f"Filter Q {band}", q)
            p.set_value(f"Filter Gain {band}", gain)
    if "fdn_size" in job:
        _choose(p, "Fdn Size (internal)", str(int(job["fdn_size"])))
    for name, value in job.get("settings", {}).items():
        p.set_value(name, value)
    y = p.process(x)
    sf.write(out_wav, y.T, sr, subtype="FLOAT")


if __name__ == "__main__":
    main(*sys.argv[1:5])
