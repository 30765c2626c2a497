"""python3 -m cvtrain {train, infer, evaluate}: the trainer's command line (cvtools train drives `train`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import List, Optional, Sequence

import numpy as np
import onnx
import torch

from . import data as data_mod
from . import lffd
from .calibrate import calibrate
from .evaluate import evaluate_folder
from .export import export
from .onnx_net import OnnxNet, UnsupportedGraphError
from .train import TrainConfig, train


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m cvtrain", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune an LFFD ONNX model on labelled images and export it")
    t.add_argument("--base", required=True, help="base ONNX model (its graph and weights are the start)")
    t.add_argument("--data", required=True, help="annotations: COCO .json, VOC folder or YOLO folder")
    t.add_argument("--images", required=True, help="image folder")
    t.add_argument("--format", dest="fmt", choices=["coco", "voc", "yolo"], help="annotation format (default: inferred)")
    t.add_argument("--out", required=True, help="work folder: checkpoint.pt, model.onnx, result.json")
    t.add_argument("--class", dest="cls", default="head", help="class to learn (default head)")
    t.add_argument("--val", help="validation annotations (loss per epoch; the best epoch is exported)")
    t.add_argument("--val-images", help="validation image folder (default: --images)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--minutes", type=float, help="stop training after this many minutes (summed over resumes)")
    t.add_argument("--max-steps", type=int, help="stop after this many steps (smoke tests)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--crop", type=int, default=256, help="training crop edge in pixels")
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--warmup-steps", type=int, default=20)
    t.add_argument("--grad-clip", type=float, default=20.0, help="largest gradient norm applied")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=0, help="torch threads (default: every core)")
    t.add_argument("--tiles", action="store_true", help="the images are tiles: boxes cut at tile borders are ignored")
    t.add_argument("--smallest-head", type=float, default=10.0, help="smallest head (px) branch 0 learns")
    t.add_argument("--native-share", type=float, default=0.5, help="share of crops near native scale")
    t.add_argument("--val-crops", type=int, default=192, help="validation crops scored after each epoch")
    t.add_argument("--checkpoint-minutes", type=float, default=5.0)
    t.add_argument("--progress-seconds", type=float, default=10.0)
    t.add_argument("--operating-threshold", type=float,
                   help="the product's score threshold: with --val, the exported scores are calibrated so it gives the best F1")
    t.add_argument("--calibration-frames", type=int, default=50, help="validation frames used for the calibration")
    t.add_argument("--cache-mb", type=float, default=1024.0, help="memory for decoded images (MB)")
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")

    i = sub.add_parser("infer", help="run the PyTorch network on a raw float32 input (parity checks)")
    src = i.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="an ONNX model to mirror")
    src.add_argument("--checkpoint", help="a training checkpoint (needs --base)")
    i.add_argument("--base", help="the base ONNX model of the checkpoint")
    i.add_argument("--input", required=True, help="raw little-endian float32 tensor")
    i.add_argument("--shape", required=True, help="input shape, e.g. 1,3,240,320")
    i.add_argument("--out", required=True, help="folder for <output>.bin files and outputs.json")

    c = sub.add_parser("calibrate", help="shift an exported model's scores so the product's threshold gives the best F1")
    c.add_argument("--model", required=True, help="the ONNX model to calibrate")
    c.add_argument("--data", required=True, help="validation annotations (COCO .json, VOC folder or YOLO folder)")
    c.add_argument("--images", required=True)
    c.add_argument("--operating-threshold", type=float, required=True, help="the product's score threshold")
    c.add_argument("--frames", type=int, default=50, help="validation frames to use (evenly spaced)")
    c.add_argument("--out", required=True, help="the calibrated ONNX model (same inputs and outputs)")

    e = sub.add_parser("evaluate", help="development check: decode + NMS + centre match on labelled frames")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--images", required=True)
    e.add_argument("--list", help="file names to use, one a line (default: all)")
    e.add_argument("--threshold", type=float, default=0.5)
    e.add_argument("--upscale", type=float, default=1.0, help="resize frames by this factor before inference")
    e.add_argument("--max-side", type=float, help="drop detections larger than this (frame pixels)")
    e.add_argument("--limit", type=int)
    return p


def _infer(args: argparse.Namespace) -> int:
    if args.model:
        net = OnnxNet(onnx.load(args.model))
    else:
        if not args.base:
            raise SystemExit("infer --checkpoint needs --base")
        net = OnnxNet(onnx.load(args.base))
        saved = torch.load(args.checkpoint)
        # the weights that were exported when the run finished, else the latest ones
        net.load_state_dict(saved.get("exported") or saved["model"])
    shape = [int(v) for v in args.shape.split(",")]
    x = torch.from_numpy(np.fromfile(args.input, dtype="<f4").reshape(shape))
    net.eval()
    with torch.no_grad():
        outputs = net.run({net.inputs[0].name: x})
    os.makedirs(args.out, exist_ok=True)
    shapes = {}
    for name, value in outputs.items():
        value.numpy().astype("<f4").tofile(os.path.join(args.out, f"{name}.bin"))
        shapes[name] = list(value.shape)
    with open(os.path.join(args.out, "outputs.json"), "w", encoding="utf-8") as f:
        json.dump(shapes, f)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    torch.set_num_threads(os.cpu_count() or 1)
    base = onnx.load(args.model)
    net = OnnxNet(base)
    branch_list = lffd.branches(net)
    samples = data_mod.read(args.data, args.images)
    chosen = [samples[i] for i in np.linspace(0, len(samples) - 1, min(len(samples), args.frames)).round().astype(int)]
    c = calibrate(net, branch_list, chosen, data_mod.ImageCache(512), args.operating_threshold)
    metadata = {p.key: p.value for p in base.metadata_props}
    metadata["calibration"] = json.dumps(asdict(c))
    export(net, base, args.out, metadata)
    print(json.dumps(asdict(c), indent=2))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            values = {k: v for k, v in vars(args).items() if k != "command"}
            return train(TrainConfig(**values))
        if args.command == "infer":
            return _infer(args)
        if args.command == "calibrate":
            return _calibrate(args)
        names: Optional[List[str]] = None
        if args.list:
            with open(args.list, encoding="utf-8") as f:
                names = [line.strip() for line in f if line.strip()]
        report = evaluate_folder(args.model, args.data, args.images, names, args.threshold, args.upscale,
                                 args.max_side, args.limit)
        print(json.dumps(report, indent=2))
        return 0
    except (data_mod.AnnotationError, UnsupportedGraphError, FileNotFoundError) as e:
        print(f"cvtrain: {e}", file=sys.stderr)
        return 2
