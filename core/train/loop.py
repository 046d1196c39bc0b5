"""The one training function used by the CLI, the admin runner and torchrun."""
from __future__ import annotations

import json
import random
import shutil
import signal
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from ..checkpoint import atomic_torch_save, is_checkpoint, load_checkpoint, read_config, recover_swap, save_checkpoint
from ..device import pick_device, resolve_precision, setup_threads
from ..registry import ROOT, ModelSpec
from . import distributed, timelapse
from .config import TrainConfig
from .events import EventLog, truncate_after
from .tasks import TASKS

EventFn = Callable[[dict[str, Any]], None]
STATE_FILE = "state.pt"  # optimizer/resume state (never committed)
EXPORT_DIR = "checkpoint"  # the run's shippable checkpoint (config.json + model.safetensors)
STOP_FILE = "STOP"  # created in a run folder = a request to stop after the current step (admin runner, CLI)
NUM_SAMPLES = 8


def default_run_dir(spec: ModelSpec) -> Path:
    return ROOT / "runs" / spec.name


def train(
    spec: ModelSpec,
    config: TrainConfig,
    on_event: EventFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_dir: Path | None = None,
    resume: bool = False,
) -> Path:
    """Train `spec` for `config.steps` steps; return the run folder.

    The run folder gets events.jsonl, samples/step_N.png, timelapse/step_N.png (the model's own
    outputs on fixed inputs made in code: core/train/timelapse/), state.pt (full resume state,
    atomic) and checkpoint/ (the shippable nets, atomic). With resume=True training continues from
    state.pt at its step (the new config may extend `steps`). `should_stop()` is polled once per
    step; when it returns True the step finishes, everything is saved and train returns.
    Without resume, a run folder that already holds a state.pt is refused (FileExistsError).
    Under torchrun every rank trains on its shard of each epoch; rank 0 alone writes.
    """
    run_dir = Path(run_dir or default_run_dir(spec))
    if not resume and (run_dir / STATE_FILE).exists():
        # Starting afresh here would overwrite a run's weights and state at its first save (hours of
        # training lost to a forgotten --resume).
        raise FileExistsError(f"{run_dir} already holds a run: resume it (--resume), or give another "
                              f"--run-dir (or delete {run_dir / STATE_FILE} to start that run over)")
    setup_threads()
    dist_info = distributed.setup(pick_device(config.device))
    device = distributed.device_for(dist_info, pick_device(config.device))
    if dist_info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        _remove_partial_writes(run_dir)
    emit = _emitter(EventLog(run_dir / "events.jsonl") if dist_info.is_main else None, on_event)
    _seed_everything(config.seed + dist_info.rank)
    torch.manual_seed(config.seed)  # identical initial weights on every rank
    task = TASKS[spec.task](spec, config, device)
    torch.manual_seed(config.seed + dist_info.rank)  # but different augmentation and dropout

    step, elapsed = 0, 0.0
    state_path = run_dir / STATE_FILE
    if resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=False)
        task.load_state_dict(state["task"])
        step, elapsed = int(state["step"]), float(state.get("elapsed", 0.0))
        if dist_info.is_main:
            _set_rng(state.get("rng"))
    if resume and dist_info.is_main:
        # Whatever was logged after the state we go on from (a kill -9 between saves) is about to
        # be done again: drop it so the log keeps one record per step. No state = from step 0.
        truncate_after(run_dir / "events.jsonl", step)
    warm = _warm_start(task, config) if not (resume and step > 0) else []
    task.distribute(dist_info)

    root = Path(config.data_root) if config.data_root else spec.data.train  # None: the task knows
    dataset = task.make_dataset(root, augment=True)
    fixed = _fixed_batch(task, root, NUM_SAMPLES) if dist_info.is_main else None
    lapse, lapse_error = _timelapse_inputs(task, run_dir) if dist_info.is_main else (None, None)
    eval_batch = _fixed_batch(task, root, config.eval_images) if dist_info.is_main and config.eval_every else None
    emit("start", step, model=spec.name, config=config.to_dict(), live_metrics=list(task.live_metrics),
         device=str(device),
         precision=resolve_precision(device, config.precision),  # what runs: bf16 only where it is native
         world_size=dist_info.world_size, resumed=bool(resume and step > 0), run_dir=str(run_dir),
         dataset=str(root or "registry folders"), n_images=len(dataset), warm_started=warm,
         data_options=json.loads(json.dumps(spec.data.options, default=str)),
         **({"timelapse_error": lapse_error} if lapse_error else {}))

    batches = _forever(dataset, config, dist_info, start_epoch=step)
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    n_sum, t_last, start_step = 0, time.perf_counter(), step
    metrics = _MetricsFactory(config.precision)
    try:
        while step < config.steps:
            t0 = time.perf_counter()
            losses = task.train_step(next(batches), step + 1)
            step += 1
            elapsed += time.perf_counter() - t0
            for k, v in losses.items():  # a term may be missing from some steps (DCGAN d_warmup)
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            n_sum += 1
            if not all(np.isfinite(v) for v in losses.values()):
                emit("error", step, message=f"non-finite loss {losses}; stopping (resume from the last checkpoint)")
                return run_dir
            last = step == config.steps
            stopped = distributed.broadcast_flag(bool(should_stop and dist_info.is_main and should_stop()), dist_info)
            if not dist_info.is_main:
                if stopped:
                    return run_dir
                continue
            if step % config.log_every == 0 or last or stopped:
                now = time.perf_counter()
                rate = n_sum / max(now - t_last, 1e-9)
                emit("step", step, losses={k: round(v / counts[k], 5) for k, v in sums.items()},
                     it_per_s=round(rate, 3), eta_s=round((config.steps - step) / max(rate, 1e-9), 1),
                     lr={k: round(v * task.lr_factor(step), 8) for k, v in task.learning_rates().items()})
                sums, counts, n_sum, t_last = {}, {}, 0, now
            if step % config.sample_every == 0 or last or stopped:
                path = run_dir / "samples" / f"step_{step:07d}.png"
                path.parent.mkdir(exist_ok=True)
                from torchvision.utils import save_image  # on first use (tasks.base.make_grid says why)

                save_image(task.sample_grid(fixed), path)
                emit("sample", step, path=str(path), **_timelapse_frame(task, lapse, run_dir, step))
            if eval_batch is not None and (step % config.eval_every == 0 or last):
                figures = task.quick_eval(eval_batch, metrics)
                emit("eval", step, n=len(next(iter(eval_batch.values()))),
                     **{k: round(v, 5) for k, v in figures.items()})
                t_last = time.perf_counter()  # keep the eval out of the steps/s figure
            if step % config.checkpoint_every == 0 or last or stopped:
                _save(task, spec, config, run_dir, step, elapsed, str(device))
                emit("checkpoint", step, path=str(run_dir / EXPORT_DIR), state=str(state_path))
            if stopped:
                emit("stopped", step, message="stopped on request; resume continues from here")
                return run_dir
        emit("end", step, wall_clock_s=round(elapsed, 1), steps_this_session=step - start_step)
    except Exception as e:  # the log says what went wrong; the last checkpoint stays intact
        emit("error", step, message=f"{type(e).__name__}: {e}")
        raise
    finally:
        distributed.teardown(dist_info)
    return run_dir


def _timelapse_inputs(task, run_dir: Path):
    """(The task's fixed time-lapse inputs or None: no frames, why not or None), made once per run, with
    their caption and picture written beside the frames. Made under a forked RNG: building a net to
    make them (the faces GAN) draws random initial weights, which must not change the run's own
    random stream (a run with frames trains exactly as one without)."""
    try:
        with torch.random.fork_rng(devices=[]):
            inputs = task.timelapse_inputs()
        if inputs is not None:
            timelapse.record_inputs(run_dir, inputs.caption, inputs.view)
    except Exception as e:  # noqa: BLE001 - a picture for the tab must never cost the run
        return None, f"{type(e).__name__}: {e}"
    return inputs, None


def _timelapse_frame(task, inputs, run_dir: Path, step: int) -> dict[str, Any]:
    """Save the time-lapse frame of `step` (the model's own outputs on the fixed inputs, no_grad, eval
    mode with every net's mode restored after); returns the sample event's extra fields: the frame's
    path and what it cost (ms)."""
    if inputs is None:
        return {}
    t0 = time.perf_counter()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            path = timelapse.record_frame(run_dir, step, task.timelapse_frame(inputs))
    except Exception as e:  # noqa: BLE001  a frame is a nicety: it must never end hours of training
        return {"timelapse_error": f"{type(e).__name__}: {e}"}
    return {"timelapse": str(path), "timelapse_ms": round((time.perf_counter() - t0) * 1000, 1)}


def _remove_partial_writes(run_dir: Path) -> None:
    """Temp files/folders left by a process killed mid-write (the real files are intact)."""
    recover_swap(run_dir / EXPORT_DIR)
    for p in run_dir.glob(".*"):
        if ".tmp" in p.name or ".old." in p.name:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    for p in (run_dir / timelapse.DIR).glob(".*.tmp"):  # a frame being written
        p.unlink(missing_ok=True)


class _MetricsFactory:
    """Fresh DistributionMetrics on demand; EfficientNet is loaded on first use only (tasks whose
    quick eval needs no features never pay for it) and then kept for the whole run."""

    def __init__(self, precision: str = "bf16"):
        self._features, self.precision = None, precision

    def __call__(self):
        from ..metrics.distribution import DistributionMetrics
        from ..metrics.features import EfficientNetFeatures

        if self._features is None:  # the run's precision: bf16 only where it is native
            self._features = EfficientNetFeatures(precision=self.precision)
        return DistributionMetrics(self._features)


def _emitter(log: EventLog | None, on_event: EventFn | None):
    def emit(event: str, step: int, **fields: Any) -> None:
        if log is None:
            return
        record = log.write(event, step, **fields)
        if on_event:
            on_event(record)
    return emit


def _save(task, spec, config, run_dir: Path, step: int, elapsed: float, device: str) -> None:
    state = {"step": step, "elapsed": elapsed, "config": config.to_dict(), "task": task.state_dict(),
             "rng": _get_rng()}
    atomic_torch_save(state, run_dir / STATE_FILE)
    meta = {"model": spec.name, "task": spec.task, "step": step, "image_size": config.image_size,
            "wall_clock_s": round(elapsed, 1), "device": device, "train_config": config.to_dict(),
            **task.checkpoint_meta()}
    save_checkpoint(run_dir / EXPORT_DIR, task.shipped_nets(), meta=meta)


def _fixed_batch(task, train_root: Path | None, n: int) -> dict[str, torch.Tensor]:
    """A fixed, un-augmented batch for samples and quick evals (see Task.eval_dataset)."""
    ds = task.eval_dataset(train_root)
    # Spread the picks over the folder (the shared set has shoes first, then handbags).
    idx = np.linspace(0, len(ds) - 1, min(n, len(ds))).round().astype(int).tolist()
    items = [ds[i] for i in idx]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _worker_ignores_ctrl_c(worker_id: int) -> None:
    """A terminal's Ctrl-C reaches the data workers too; they must not die of it while the main
    process finishes its step and saves (the CLI's graceful stop), so only the main decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _forever(dataset, config: TrainConfig, info: distributed.DistInfo, start_epoch: int = 0):
    per_rank = max(1, len(dataset) // info.world_size)
    bs = min(config.batch_size, per_rank)
    sampler = DistributedSampler(dataset, info.world_size, info.rank, shuffle=True, seed=config.seed,
                                 drop_last=True) if info.enabled else None
    loader = DataLoader(dataset, batch_size=bs, shuffle=sampler is None, sampler=sampler, drop_last=True,
                        num_workers=config.num_workers, persistent_workers=config.num_workers > 0,
                        worker_init_fn=_worker_ignores_ctrl_c if config.num_workers > 0 else None)
    epoch = start_epoch
    while True:
        if sampler is not None:
            sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def _warm_start(task, config: TrainConfig) -> list[str]:
    """Start from the nets of config.init_from, if set: a checkpoint folder (the shipped nets), or a
    run folder, whose state.pt also holds the nets that are not shipped (a GAN's discriminator, so
    that fine-tuning does not begin against an untrained critic). Optimiser state starts fresh."""
    if not config.init_from:
        return []
    folder = Path(config.init_from)
    if (folder / STATE_FILE).exists() and not is_checkpoint(folder):
        # A run folder from this machine's CLI (the admin runner refuses path knobs).
        if is_checkpoint(folder / EXPORT_DIR):  # its state.pt has no net configs; its export does
            _check_upsampling(read_config(folder / EXPORT_DIR)["nets"], task.nets, folder)
        states = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)["task"]["nets"]
    else:
        _check_upsampling(read_config(folder)["nets"], task.nets, folder)
        nets, _ = load_checkpoint(folder)  # fp32, whatever the file stores
        states = {name: net.state_dict() for name, net in nets.items()}
    copied = task.warm_start(states)
    if not copied:
        raise ValueError(f"{config.init_from} holds none of this task's nets ({', '.join(task.nets)})")
    return copied


def _check_upsampling(saved: dict, nets: dict, folder: Path) -> None:
    """U-Nets that upsample by nearest or bilinear + 3x3 have the same weights, so one would load into
    the other without complaint and silently compute something else: refuse (convert it instead).
    `saved`: the folder's net configs by name; `nets`: this task's nets."""
    for name, theirs in saved.items():
        ours = getattr(nets.get(name), "config", None)
        if hasattr(ours, "upsample") and hasattr(theirs, "upsample") and ours.upsample != theirs.upsample:
            raise ValueError(f"{folder}: its {name} upsamples by {theirs.upsample!r}, this model's by {ours.upsample!r}; "
                             "convert it first (python -m core.train.resize_upsampling)")


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _get_rng() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def _set_rng(rng: dict[str, Any] | None) -> None:
    if not rng:
        return
    torch.set_rng_state(rng["torch"])
    np.random.set_state(rng["numpy"])
    random.setstate(rng["python"])
