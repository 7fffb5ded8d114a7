#!/usr/bin/env python3
"""Times the IEM chain (../shared/reference/iem_chain.py) on the same job as engine/benches/chain_rtf.rs.

    python bench_iem_chain.py REFERENCE_DIR PARAMS_JSON SECONDS SAMPLE_RATE

Prints the best of three processing times in seconds (plug-in loading excluded) as its last line.
The input is stereo noise shaped like speech; the IEM plug-ins' CPU cost does not depend on content.
"""
import json
import sys
import time

import numpy as np


def main(ref_dir, params_json, seconds, sr):
    sys.path.insert(0, ref_dir)
    import iem_chain

    params = json.loads(params_json)
    n = int(float(seconds) * int(sr))
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal((2, n))).astype(np.float32)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        iem_chain.render(params, x, int(sr))
        best = min(best, time.perf_counter() - t)
    print(best)


if __name__ == "__main__":
    main(*sys.argv[1:5])
