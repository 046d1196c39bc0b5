"""The generative image lab: one Gradio app, one tab per demo.

    python app.py [--host 127.0.0.1] [--port 7860]

Set LAB_ADMIN_PASSWORD to unlock the admin tab.
"""
from __future__ import annotations

import os
import threading

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see core/__init__.py

# demos first: importing it gives the process its own Gradio cache folder (before Gradio loads).
from demos import (admin, colorization, gan_playground, horse2zebra, inpainting, latent_walk, lecture, placeholder,
                   sketch2photo, text_edit, timelapse, vector_arithmetic)
from demos.common import share, shipped_faces
from demos.server import arguments, blocks, launch, prepare

import gradio as gr  # noqa: E402

from core.device import setup_threads  # noqa: E402

# The tabs shown once their models ship (each module's shipped()); until then a "coming" tab
# (demos/placeholder.py) stands in for each, at the end.
SHIPPABLE = {"colorization": ("Colorization", colorization), "text_edit": ("Text-guided edit", text_edit),
             "inpainting": ("Inpainting", inpainting)}
READY = {key for key, (_, module) in SHIPPABLE.items() if module.shipped()}

# Working tabs first; the ones whose models are still to come last, so clicking through the app
# never runs into a dead end between two demos.
TABS = [
    ("Sketch → photo", "sketch2photo", sketch2photo.build),
    ("Horse ↔ zebra", "horse2zebra", horse2zebra.build),
    ("Latent walk", "latent_walk", latent_walk.build),
    ("Vector arithmetic", "vector_arithmetic", vector_arithmetic.build),
    ("GAN playground", "gan_playground", gan_playground.build),
    *[(title, key, module.build) for key, (title, module) in SHIPPABLE.items() if key in READY],
    # After the models, a teaching view over them: each shipped model's training as a time-lapse. Always
    # there (it says how to make one when no model has any yet).
    ("How it learned", "timelapse", timelapse.build),
    ("Admin", "admin", admin.build),
    *[(f"{title} (coming)", key, lambda demo, key=key: placeholder.build(key, demo))
      for key, (title, _, _) in placeholder.COMING.items() if key not in READY],
]


# Tabs whose first work waits until a person opens them (the tab's select event), not for every page
# load: a page opens on the sketch tab, and these tabs' models would only compete with its first strokes.
OPENED_ON_SELECT = {"latent_walk", "vector_arithmetic", "inpainting"}


def build_app() -> gr.Blocks:
    with blocks("Generative image lab") as demo:
        gr.Markdown("# Generative image lab\nEvery model here was defined, trained and evaluated by this "
                    "project on a 2-core CPU. Pick a tab.")
        lecture.switch(demo)  # lecture mode: notes atop each working tab, large fonts (demos/lecture.py)
        with gr.Tabs() as tabs:
            share(demo, "tabs", tabs)  # e.g. the latent walk's "send to inpainting" switches to that tab
            for label, key, build in TABS:
                with gr.Tab(label, id=key) as tab:
                    coming = label.endswith("(coming)")
                    if not coming:
                        lecture.panel(key)
                    if key in OPENED_ON_SELECT and not coming:
                        build(demo, tab)
                    else:
                        build(demo)
    return prepare(demo)


# The warm-up thread's CPU priority (this thread only, and the threads it starts): Linux's SCHED_IDLE
# where it is there (it runs only when nothing else wants the cores, whatever the process's own nice
# level), else the lowest nice level (docs/RESULTS.md, "Cold start and warm-up").
WARM_UP_NICE = 19


def lower_this_threads_priority(nice: int = WARM_UP_NICE) -> bool:
    """Give the calling thread (and the threads it starts later, e.g. its OpenMP workers) the
    lowest CPU priority: nice `nice` and, where the kernel has it, SCHED_IDLE; other threads keep
    theirs. Linux only (elsewhere: False, nothing changes). True when the nice level was set."""
    tid, done = threading.get_native_id(), False
    try:
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        done = True
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    return done


def warm_up() -> None:
    """Label the arithmetic pool and measure each preset's success rate in the background, at the
    lowest CPU priority, so that the vector-arithmetic tab is ready when a person opens it without
    the labelling slowing any request down (the first time on a machine it takes minutes,
    docs/RESULTS.md; later starts read the labels from the disk cache in milliseconds). A person who
    opens the tab before it is done sees its progress there and helps at normal priority
    (demos.common.await_pool).

    The models load, and the pool's key is computed, at normal priority first: they hold locks every
    tab's first request takes too (the checkpoint cache's), and a thread at the lowest priority may
    get no CPU for a while on a busy machine. The labelling thread holds no lock while it computes.

    First, what torch's first optimizer imports (torch._dynamo, 2-4 s of CPU) and every optimizing
    request needs: the playground's Play, a photo's inversion, a text edit, the latent probes. No
    request waits for it while the page is built (the playground makes its optimizers on first use)."""
    import torch._dynamo  # noqa: F401

    from core.pipelines import face_arithmetic

    ariths = []
    for name in shipped_faces(with_classifier=True):  # the faces tabs' default model first
        try:
            arith = face_arithmetic.load(name)
            arith.prepare_pool()
            ariths.append(arith)
        except Exception as e:  # a broken checkpoint is reported by the tab itself, on use
            print(f"warm-up skipped for {name}: {e}")
    if not ariths:
        return

    def label() -> None:
        lower_this_threads_priority()  # before this thread's first parallel work: its OpenMP workers inherit it
        try:
            for arith in ariths:
                arith.pool  # noqa: B018 - labels it (or finds it read from the disk cache)
                for preset in face_arithmetic.PRESETS.values():  # the tab states each preset's record
                    arith.record(preset)
        except Exception as e:  # noqa: BLE001 - the tab reports what is wrong, on use
            print(f"warm-up stopped: {e}")

    threading.Thread(target=label, daemon=True, name="warm-up-labelling").start()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    setup_threads()
    start_warm_up = None
    if os.environ.get("LAB_WARMUP", "1") != "0":
        def start_warm_up():  # once the first page is served: nothing of it delays the start
            threading.Thread(target=warm_up, daemon=True, name="warm-up").start()
    launch(build_app(), args.host, args.port, when_serving=start_warm_up)


if __name__ == "__main__":
    main()
