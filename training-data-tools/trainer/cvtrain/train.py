"""Fine-tuning loop: progress, both cores, checkpoints that resume, a time limit that the schedule respects.

Everything a run writes goes to its work folder: checkpoint.pt (model, optimiser, position, elapsed time, random
state), model.onnx (the export, only when training ends), result.json (what happened, for the model card).
A first SIGINT (Ctrl-C) stops after the current step and saves a checkpoint; running the same command again resumes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import random
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from torch import Tensor

from . import data as data_mod
from . import lffd
from .augment import AugmentConfig, Crop, make_crop
from .calibrate import calibrate
from .export import export
from .onnx_net import OnnxNet

EXIT_INTERRUPTED = 130
EXIT_DIVERGED = 3
MAX_BAD_STEPS = 5


@dataclass
class TrainConfig:
    base: str
    data: str
    images: str
    out: str
    fmt: Optional[str] = None
    cls: str = "head"
    val: Optional[str] = None
    val_images: Optional[str] = None
    epochs: Optional[int] = None  # default: 30, or unlimited when only minutes are given
    minutes: Optional[float] = None
    max_steps: Optional[int] = None  # for smoke tests
    batch: int = 16
    crop: int = 256
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-5
    warmup_steps: int = 20
    grad_clip: float = 20.0  # largest gradient norm applied (the base model's is about 10-50 per step)
    seed: int = 0
    threads: int = 0  # 0: every core
    checkpoint_minutes: float = 5.0
    tiles: bool = False  # the images are tiles: boxes cut at their borders are ignored, not taught
    smallest_head: float = 10.0
    native_share: float = 0.5
    fresh: bool = False
    progress_seconds: float = 10.0
    val_crops: int = 192
    cache_mb: float = 1024.0  # decoded images kept in memory
    operating_threshold: Optional[float] = None  # the product's score threshold: calibrated to on --val when given
    calibration_frames: int = 50


@dataclass
class RunState:
    epoch: int = 0
    step: int = 0  # step within the epoch
    global_step: int = 0
    elapsed: float = 0.0  # training seconds, summed over resumed runs
    epoch_seconds: List[float] = field(default_factory=list)
    epoch_losses: List[float] = field(default_factory=list)
    val_losses: List[float] = field(default_factory=list)
    losses: List[float] = field(default_factory=list)
    best_val: Optional[float] = None
    initial_val: Optional[float] = None
    best_epoch: Optional[int] = None
    tiles_seen: int = 0
    resumed_from: Optional[int] = None


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def _log(message: str) -> None:
    print(message, flush=True)


class _StopFlag:
    """First SIGINT/SIGTERM: stop after the current step. A second one, later than `debounce` seconds: the default
    handler (stop at once). The debounce matters because Ctrl-C in a terminal reaches this process twice when it runs
    under cvtools: once from the terminal (same process group) and once forwarded by cvtools.
    When started by a parent (CVTRAIN_PARENT_PID), the parent's exit also stops the run, so no trainer is orphaned."""

    def __init__(self, debounce: float = 2.0) -> None:
        self.first: Optional[float] = None
        self.debounce = debounce
        self._previous: Dict[int, Any] = {}
        parent = os.environ.get("CVTRAIN_PARENT_PID", "")
        self._parent = int(parent) if parent.isdigit() else None

    @property
    def requested(self) -> bool:
        if self.first is None and self._parent is not None and os.getppid() != self._parent:
            self.first = time.monotonic()
            _log("the parent process has exited: stopping")
        return self.first is not None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        now = time.monotonic()
        if self.first is not None:
            if now - self.first < self.debounce:
                return
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            raise KeyboardInterrupt
        self.first = now
        _log("stop requested: finishing the current step and saving a checkpoint (press Ctrl-C again to abort)")

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


Batch = Tuple[Tensor, lffd.BatchTargets, int]


class BatchMaker:
    """Builds batches (crops and LFFD targets) on a background thread, in a fixed order decided by (seed, epoch,
    step) so that a resumed run sees the same batches as an uninterrupted one."""

    def __init__(self, samples: Sequence[data_mod.Sample], branch_list: Sequence[lffd.Branch],
                 sizes: Sequence[Tuple[int, int]], augment: AugmentConfig, batch: int, seed: int, cache_mb: float = 0) -> None:
        self.samples = list(samples)
        self.branches = list(branch_list)
        self.sizes = list(sizes)
        self.augment = augment
        self.batch = batch
        self.seed = seed
        self.steps_per_epoch = max(1, math.ceil(len(self.samples) / batch))
        self.cache = data_mod.ImageCache(cache_mb)

    def make(self, epoch: int, step: int) -> Batch:
        order = list(range(len(self.samples)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        picks = [order[(step * self.batch + i) % len(order)] for i in range(self.batch)]
        rng = random.Random((self.seed * 1_000_003 + epoch) * 100_003 + step)
        crops = [self.crop(self.samples[p], rng) for p in picks]
        images = torch.from_numpy(np.stack([c.image for c in crops]).transpose(0, 3, 1, 2).astype(np.float32))
        targets = lffd.BatchTargets.stack([[lffd.assign(b, s, c.boxes, c.ignore) for b, s in zip(self.branches, self.sizes)]
                                           for c in crops])
        return images, targets, len(crops)

    def crop(self, sample: data_mod.Sample, rng: random.Random) -> Crop:
        return make_crop(self.cache.get(sample.image), sample.boxes, sample.ignore, self.branches, self.augment, rng)

    def stream(self, epoch: int, step: int, stop: threading.Event) -> Iterator[Batch]:
        """Batches from (epoch, step) on, prepared one ahead on a thread (PIL and numpy release the GIL)."""
        q: "queue.Queue[Any]" = queue.Queue(maxsize=2)

        def work() -> None:
            e, s = epoch, step
            try:
                while not stop.is_set():
                    item = self.make(e, s)
                    while not stop.is_set():
                        try:
                            q.put(item, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    s += 1
                    if s >= self.steps_per_epoch:
                        e, s = e + 1, 0
            except BaseException as ex:  # surfaced on the training thread
                q.put(ex)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        while True:
            item = q.get()
            if isinstance(item, BaseException):
                raise item
            yield item


def _lr(config: TrainConfig, progress: float, global_step: int) -> float:
    warm = min(1.0, (global_step + 1) / max(1, config.warmup_steps))
    return config.lr * warm * max(0.02, 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _save_atomic(obj: Any, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _write_json(obj: Any, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def validation_loss(net: OnnxNet, maker: BatchMaker, count: int, lffd_config: lffd.LffdConfig) -> float:
    """Mean loss over a fixed set of crops (same crops every epoch, no photometric changes)."""
    total, batches = 0.0, 0
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for step in range(max(1, math.ceil(count / maker.batch))):
            images, targets, _ = maker.make(10_000_000, step)
            outputs = net.run({net.inputs[0].name: images}, keep=[b.logits for b in maker.branches])
            total += float(lffd.loss(outputs, targets, maker.branches, lffd_config).total)
            batches += 1
    net.train(was_training)
    return total / max(1, batches)


def train(config: TrainConfig) -> int:
    """Runs (or resumes) a training; returns the process exit code."""
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    torch.manual_seed(config.seed)
    os.makedirs(config.out, exist_ok=True)
    checkpoint_path = os.path.join(config.out, "checkpoint.pt")
    base_proto = onnx.load(config.base)
    base_sha = sha256(config.base)
    net = OnnxNet(base_proto)
    lffd_config = lffd.LffdConfig().with_smallest(config.smallest_head)
    branch_list = lffd.branches(net, lffd_config)
    sizes = lffd.feature_sizes(net, branch_list, config.crop, config.crop)

    samples = data_mod.read(config.data, config.images, config.cls, config.fmt)
    if not samples:
        raise data_mod.AnnotationError(f"{config.data}: no images")
    n_boxes = int(sum(len(s.boxes) for s in samples))
    if n_boxes == 0:
        raise data_mod.AnnotationError(f"{config.data}: no '{config.cls}' boxes to learn from")
    fingerprint = data_mod.fingerprint(samples)
    augment = AugmentConfig(crop=config.crop, border_ignore=config.tiles, native_share=config.native_share)
    maker = BatchMaker(samples, branch_list, sizes, augment, config.batch, config.seed, config.cache_mb)
    val_maker: Optional[BatchMaker] = None
    if config.val:
        val_samples = data_mod.read(config.val, config.val_images or config.images, config.cls, None)
        quiet = AugmentConfig(crop=config.crop, border_ignore=config.tiles, native_share=config.native_share,
                              flip=False, photometric_share=0.0, infrared_share=0.0)
        val_maker = BatchMaker(val_samples, branch_list, sizes, quiet, config.batch, config.seed + 7, config.cache_mb / 4)

    epochs = config.epochs if config.epochs is not None else (100_000 if config.minutes else 30)
    budget = config.minutes * 60.0 if config.minutes else None
    # The schedule is planned over epochs (and minutes); --max-steps is a hard stop that does not change the plan,
    # so a run stopped early and resumed follows the same learning-rate curve as one that never stopped.
    total_steps = epochs * maker.steps_per_epoch

    optimizer = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    state = RunState()
    best_weights: Optional[Dict[str, Tensor]] = None
    if os.path.exists(checkpoint_path) and not config.fresh:
        saved = torch.load(checkpoint_path)
        if saved.get("base_sha256") != base_sha or saved.get("data") != fingerprint:
            _log(f"the checkpoint in {config.out} was made for other data or another base model: starting afresh")
        else:
            net.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            state = RunState(**saved["state"])
            state.resumed_from = state.global_step
            best_weights = saved.get("best_model")
            _log(f"resuming at epoch {state.epoch + 1}, step {state.step + 1} "
                 f"({_fmt_time(state.elapsed)} of training done)")

    _log(f"training {os.path.basename(config.base)} on {len(samples)} images ({n_boxes} '{config.cls}' boxes), "
         f"{maker.steps_per_epoch} steps of {config.batch} crops of {config.crop} px per epoch, "
         f"{'up to ' + str(epochs) + ' epochs' if config.epochs or not config.minutes else 'no epoch limit'}"
         f"{', at most ' + str(config.minutes) + ' minutes' if config.minutes else ''}, "
         f"{torch.get_num_threads()} threads")

    def save_checkpoint() -> None:
        _save_atomic({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "state": asdict(state),
                      "base_sha256": base_sha, "data": fingerprint, "config": asdict(config),
                      "best_model": best_weights}, checkpoint_path)

    if val_maker is not None and state.global_step == 0 and state.initial_val is None:
        state.initial_val = round(validation_loss(net, val_maker, config.val_crops, lffd_config), 5)
        _log(f"validation loss before training: {state.initial_val:.4f}")

    stop = _StopFlag()
    stop.install()
    halt = threading.Event()
    status = "completed"
    net.train()
    try:
        stream = maker.stream(state.epoch, state.step, halt)
        run_start = time.monotonic()
        elapsed_at_start = state.elapsed
        last_print = 0.0
        last_checkpoint = time.monotonic()
        epoch_start_elapsed = state.elapsed
        epoch_loss_sum, epoch_loss_count = 0.0, 0
        window: List[Tuple[float, float, float]] = []  # (total, score, box) since the last progress line
        window_tiles, window_start = 0, time.monotonic()
        rate = 0.0
        bad_steps = 0
        while state.epoch < epochs:
            if config.max_steps is not None and state.global_step >= config.max_steps:
                status = "step_limit"
                break
            if budget is not None and state.elapsed >= budget:
                status = "time_limit"
                break
            if stop.requested:
                status = "interrupted"
                break
            images, targets, count = next(stream)
            progress = state.global_step / max(1, total_steps)
            if budget is not None:
                progress = max(progress, state.elapsed / budget)
            for group in optimizer.param_groups:
                group["lr"] = _lr(config, progress, state.global_step)
            outputs = net.run({net.inputs[0].name: images}, keep=[b.logits for b in branch_list])
            parts = lffd.loss(outputs, targets, branch_list, lffd_config)
            optimizer.zero_grad(set_to_none=True)
            value = float(parts.total)
            if math.isfinite(value):
                bad_steps = 0
                parts.total.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                optimizer.step()
                state.losses.append(round(value, 5))
                window.append((value, parts.score, parts.bbox))
                epoch_loss_sum += value
                epoch_loss_count += 1
            else:
                # A non-finite loss is never applied (the batch still counts, so a resumed run stays in step);
                # a run that keeps producing them has diverged.
                bad_steps += 1
                _log(f"step {state.global_step + 1}: the loss is {value}; the step is skipped")
                if bad_steps >= MAX_BAD_STEPS:
                    status = "diverged"
                    break
            state.global_step += 1
            state.step += 1
            state.tiles_seen += count
            window_tiles += count
            now = time.monotonic()
            state.elapsed = elapsed_at_start + (now - run_start)
            if now - window_start > 0:
                rate = window_tiles / (now - window_start)
            if now - last_print >= config.progress_seconds or state.global_step == 1:
                steps_left = total_steps - state.global_step
                left = steps_left * config.batch / rate if rate > 0 else float("inf")
                if budget is not None:
                    left = min(left, budget - state.elapsed)
                mean = [sum(w[i] for w in window) / len(window) if window else float("nan") for i in range(3)]
                _log(f"epoch {state.epoch + 1}/{epochs if epochs < 100_000 else '-'} "
                     f"step {state.step}/{maker.steps_per_epoch}  loss {mean[0]:.4f} "
                     f"(score {mean[1]:.4f} box {mean[2]:.4f})  {rate:.1f} tiles/s  "
                     f"elapsed {_fmt_time(state.elapsed)}  left {_fmt_time(left) if math.isfinite(left) else '?'}")
                window.clear()
                window_tiles, window_start = 0, now
                last_print = now
            if state.step >= maker.steps_per_epoch:
                state.epoch_seconds.append(round(state.elapsed - epoch_start_elapsed, 2))
                state.epoch_losses.append(round(epoch_loss_sum / max(1, epoch_loss_count), 5))
                epoch_loss_sum, epoch_loss_count = 0.0, 0
                state.epoch += 1
                state.step = 0
                message = (f"epoch {state.epoch}/{epochs if epochs < 100_000 else '-'} done in "
                           f"{_fmt_time(state.epoch_seconds[-1])}: mean loss {state.epoch_losses[-1]:.4f}")
                if val_maker is not None:
                    v = validation_loss(net, val_maker, config.val_crops, lffd_config)
                    state.val_losses.append(round(v, 5))
                    message += f", validation loss {v:.4f}"
                    if state.best_val is None or v < state.best_val:
                        state.best_val, state.best_epoch = v, state.epoch
                        best_weights = {k: t.detach().clone() for k, t in net.state_dict().items()}
                        message += " (best)"
                    # validation time is not training time
                    run_start += time.monotonic() - now
                _log(message)
                epoch_start_elapsed = state.elapsed
                save_checkpoint()
                last_checkpoint = time.monotonic()
            if now - last_checkpoint >= config.checkpoint_minutes * 60:
                save_checkpoint()
                last_checkpoint = now
    finally:
        halt.set()
        stop.restore()

    save_checkpoint()
    result: Dict[str, Any] = {
        "status": status,
        "base_model": os.path.basename(config.base),
        "base_sha256": base_sha,
        "data": os.path.abspath(config.data),
        "images": os.path.abspath(config.images),
        "data_fingerprint": fingerprint,
        "images_count": len(samples),
        "boxes": n_boxes,
        "class": config.cls,
        "epochs_planned": epochs if epochs < 100_000 else None,
        "epochs_completed": state.epoch,
        "steps": state.global_step,
        "steps_per_epoch": maker.steps_per_epoch,
        "batch": config.batch,
        "crop": config.crop,
        "train_seconds": round(state.elapsed, 1),
        "seconds_per_epoch": state.epoch_seconds,
        "tiles_per_second": round(state.tiles_seen / state.elapsed, 2) if state.elapsed > 0 else None,
        "threads": torch.get_num_threads(),
        "epoch_losses": state.epoch_losses,
        "val_losses": state.val_losses,
        "initial_val_loss": state.initial_val,
        "best_epoch": state.best_epoch,
        "losses": state.losses,
        "resumed_from_step": state.resumed_from,
        "config": asdict(config),
        "model": None,
    }
    if status == "diverged":
        _log(f"training diverged: {MAX_BAD_STEPS} steps in a row gave a non-finite loss. Lower --lr (it was {config.lr}) "
             "or raise --batch, and start again with --fresh.")
        _write_json(result, os.path.join(config.out, "result.json"))
        return EXIT_DIVERGED
    if status == "interrupted":
        _log(f"stopped at epoch {state.epoch + 1}, step {state.step}; checkpoint saved in {checkpoint_path}. "
             "Run the same command again to resume.")
        _write_json(result, os.path.join(config.out, "result.json"))
        return EXIT_INTERRUPTED

    if val_maker is not None and state.step > 0:
        # Stopped within an epoch (time or step limit): the latest weights, which the schedule has annealed, compete too.
        final = validation_loss(net, val_maker, config.val_crops, lffd_config)
        _log(f"validation loss at the stop (epoch {state.epoch + 1}, step {state.step}): {final:.4f}")
        result["final_val_loss"] = round(final, 5)
        if state.best_val is None or final <= state.best_val:
            state.best_val, state.best_epoch, best_weights = final, None, None
    if best_weights is not None and state.best_epoch is not None and state.val_losses and state.best_epoch != state.epoch:
        _log(f"exporting the weights of epoch {state.best_epoch} (lowest validation loss)")
        net.load_state_dict(best_weights)
    result["best_epoch"] = state.best_epoch
    if val_maker is not None and config.operating_threshold is not None and config.calibration_frames > 0:
        pool = val_maker.samples
        chosen = [pool[i] for i in np.linspace(0, len(pool) - 1, min(len(pool), config.calibration_frames)).round().astype(int)]
        c = calibrate(net, branch_list, chosen, val_maker.cache, config.operating_threshold)
        result["calibration"] = asdict(c)
        _log(f"calibrated on {c.frames} validation frames: best F1 {c.f1:.3f} (precision {c.precision:.3f}, recall "
             f"{c.recall:.3f}) at threshold {c.best:.2f}; head logits shifted by {c.shift:+.3f} so that the product's "
             f"threshold {c.operating:.2f} sits there")
    model_path = os.path.join(config.out, "model.onnx")
    export(net, base_proto, model_path, {
        "base_model_sha256": base_sha,
        "data_fingerprint": fingerprint,
        "epochs": str(state.epoch),
        "steps": str(state.global_step),
    }, example_size=config.crop)
    # The checkpoint also keeps the exported weights, so the PyTorch network in exactly that state can be compared
    # with the ONNX file (parity tests: `python3 -m cvtrain infer --checkpoint`).
    saved = torch.load(checkpoint_path)
    saved["exported"] = {k: t.detach().clone() for k, t in net.state_dict().items()}
    _save_atomic(saved, checkpoint_path)
    result["model"] = model_path
    result["model_sha256"] = sha256(model_path)
    _write_json(result, os.path.join(config.out, "result.json"))
    reason = {"completed": "all epochs done", "time_limit": f"time limit of {config.minutes} minutes reached",
              "step_limit": f"step limit of {config.max_steps} reached"}[status]
    _log(f"finished ({reason}) after {state.epoch} epochs, {state.global_step} steps, "
         f"{_fmt_time(state.elapsed)}; model written to {model_path}")
    return 0

