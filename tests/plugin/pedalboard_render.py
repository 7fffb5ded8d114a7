"""Loads the Vocal Automix VST3 bundle in pedalboard, sets parameters by name, renders a file.

usage: pedalboard_render.py BUNDLE IN.wav OUT.wav NAME=VALUE...
Values are text as the plug-in parses it ("-4 dB", "3.5:1") or numbers in the parameter's unit.
Prints the plug-in's parameter names and the values it ended with, one per line.
"""
import sys

import numpy as np
import pedalboard
import soundfile as sf

bundle, src, dst, *settings = sys.argv[1:]
plugin = pedalboard.load_plugin(bundle)
for setting in settings:
    name, value = setting.split("=", 1)
    if name not in plugin.parameters:
        sys.exit(f"no parameter {name}; the plug-in has {sorted(plugin.parameters)}")
    try:
        value = float(value)
    except ValueError:
        pass
    setattr(plugin, name, value)
audio, rate = sf.read(src, dtype="float32", always_2d=True)
out = plugin.process(audio.T.copy(), rate, buffer_size=512, reset=True)
sf.write(dst, np.asarray(out).T, rate, subtype="FLOAT")
for name in sorted(plugin.parameters):
    print(f"{name}\t{plugin.parameters[name].raw_value}")
