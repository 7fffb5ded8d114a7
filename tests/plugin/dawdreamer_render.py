"""Renders a vocal through the Vocal Automix VST3 bundle in DawDreamer, the backing on its sidechain.

usage: dawdreamer_render.py BUNDLE VOCAL.wav BACKING.wav|- OUT.wav [NAME=NORMALIZED...]

DawDreamer plays the vocal into the plug-in's main input and the backing (or nothing, for "-")
into its second stereo input, the sidechain, and writes the plug-in's output to OUT.wav.
Parameters are set by their display names to normalised values (0..1), as a host's automation
does. Prints the plug-in's input channel count, then each parameter's name and displayed text.
"""
import sys

import dawdreamer as daw
import numpy as np
import soundfile as sf

bundle, vocal_file, backing_file, dst, *settings = sys.argv[1:]
vocal, rate = sf.read(vocal_file, dtype="float32", always_2d=True)
stereo = lambda x: np.ascontiguousarray((x if x.shape[1] == 2 else np.repeat(x[:, :1], 2, 1)).T)
vocal = stereo(vocal)
engine = daw.RenderEngine(rate, 512)
plugin = engine.make_plugin_processor("automix", bundle)
params = {plugin.get_parameter_name(i): i for i in range(plugin.get_plugin_parameter_size())}
for setting in settings:
    name, value = setting.split("=", 1)
    if name not in params:
        sys.exit(f"no parameter {name!r}; the plug-in has {sorted(params)}")
    plugin.set_parameter(params[name], float(value))

graph = [(engine.make_playback_processor("vocal", vocal), [])]
if backing_file != "-":
    backing, backing_rate = sf.read(backing_file, dtype="float32", always_2d=True)
    if backing_rate != rate:
        sys.exit(f"the vocal is at {rate} Hz and the backing at {backing_rate} Hz")
    graph.append((engine.make_playback_processor("backing", stereo(backing)), []))
graph.append((plugin, [name for name in ("vocal", "backing")[: len(graph)]]))
if not engine.load_graph(graph):
    sys.exit("DawDreamer could not load the graph")
if not engine.render(vocal.shape[1] / rate):
    sys.exit("DawDreamer could not render")
sf.write(dst, engine.get_audio().T, rate, subtype="FLOAT")
print(plugin.get_num_input_channels())
for name, i in params.items():
    print(f"{name}\t{plugin.get_parameter_text(i)}")
