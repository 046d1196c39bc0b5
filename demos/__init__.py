"""Gradio tabs, one per file; UI only: every tab calls `core.pipelines` and nothing deeper.

Importing this package gives the process its own folder for Gradio's file cache (uploads,
returned images and GIFs), removed at exit, unless GRADIO_TEMP_DIR says otherwise: Gradio's
own clean-up at shutdown misses some files, and a stopped app must leave nothing behind. It has
to happen before Gradio is imported, which is why it is here (every tab imports Gradio).
"""
import atexit
import os
import shutil
import tempfile

if not os.environ.get("GRADIO_TEMP_DIR"):
    _CACHE = tempfile.mkdtemp(prefix="genlab-gradio-")
    atexit.register(shutil.rmtree, _CACHE, True)
    os.environ["GRADIO_TEMP_DIR"] = _CACHE
