"""Core of the generative image lab: nets, data, training, checkpoints, pipelines, metrics.

This package never imports gradio (a test enforces it); `demos/` call `core.pipelines` only.
"""
