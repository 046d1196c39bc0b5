"""Core of the generative image lab: nets, data, training, checkpoints, pipelines, metrics.

This package never imports gradio (a test enforces it); `demos/` call `core.pipelines` only.
"""
import os

# OpenMP threads that wait for work sleep instead of spinning. With the default (spinning), a
# 2-thread model call on a machine where anything else runs (a training run, another request, the
# GAN playground) waits for a preempted thread at every barrier: the sketch model took 640 ms
# instead of 15 (docs/RESULTS.md, "OpenMP waiting"). libgomp reads this once, when torch loads, so
# it is set here, before any core module imports torch; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
