"""Work-arounds for Gradio behaviour that breaks under classroom load (applied by app.build_app).

Gradio saves each output image into its cache under a folder named by a hash of the image's
bytes, and rewrites the file every time (Path.write_bytes: truncate, then write). When two
visitors get the same image (a class clicking the same example at once), one request truncates
the file while another is still sending it, and that browser receives 0 bytes
(`bench/load.py` hit it once in 200 requests). Writing to a temporary name and renaming it into
place keeps every reader on a complete file: a reader holds the old inode, later ones get the
new, identical file.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from gradio import component_meta, processing_utils

GRADIO_SAVE = processing_utils.save_pil_to_cache  # Gradio's own, kept for the test that tells them apart


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """As Gradio's, but the file appears complete or not at all."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    _atomic_write(path, data)
    return str(path)


def atomic_cache_writes() -> None:
    """Make Gradio's image cache writes atomic (module attribute: every caller looks it up)."""
    processing_utils.save_pil_to_cache = save_pil_to_cache


@contextmanager
def no_type_stubs():
    """Define Component subclasses inside this block: Gradio otherwise writes a type-stub file
    (MODULE.pyi, for editors' hints) beside the module of every Component subclass each time the class
    is created, i.e. at every start of the app, into this repository."""
    write = component_meta.create_or_modify_pyi
    component_meta.create_or_modify_pyi = lambda *args, **kwargs: None
    try:
        yield
    finally:
        component_meta.create_or_modify_pyi = write
