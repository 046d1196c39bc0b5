"""Gradio tabs, one per file; UI only: every tab calls `core.pipelines` and nothing deeper.

Importing this package gives the process one temp folder, removed at exit: the tabs' own files
(GIFs, example files: `common.scratch_file`) and, unless GRADIO_TEMP_DIR says otherwise, Gradio's
file cache (uploads, returned images), whose own clean-up at shutdown misses some files. A stopped
app leaves nothing behind. Gradio reads GRADIO_TEMP_DIR when it is imported, which is why this is
here (every tab imports Gradio).
"""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

PROCESS_TMP = Path(tempfile.mkdtemp(prefix="genlab-"))
atexit.register(shutil.rmtree, PROCESS_TMP, True)
if not os.environ.get("GRADIO_TEMP_DIR"):
    os.environ["GRADIO_TEMP_DIR"] = str(PROCESS_TMP / "gradio")
