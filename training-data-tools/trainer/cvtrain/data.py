"""Labelled images: COCO JSON, a Pascal VOC folder or a YOLO folder, read into one shape.

Errors name the file (and the JSON path or XML element) so a data team can fix the export, not guess.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class AnnotationError(ValueError):
    """A malformed or unusable annotation file; the message names the file and the place."""


@dataclass
class Sample:
    """One labelled image: boxes of the trained class and ignore regions, both (N, 4) x1, y1, x2, y2 in pixels."""

    image: str
    boxes: np.ndarray
    ignore: np.ndarray


def label_matches(name: str, cls: str) -> bool:
    """Same rule as the product's label names: case-insensitive, and names that start with "head" are heads
    (real data sets carry typos such as "headdddd")."""
    n = name.strip().lower()
    return n == cls or (cls == "head" and n.startswith("head"))


def _boxes(rows: List[List[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32).reshape(-1, 4)


def read_coco(path: str, images_dir: str, cls: str) -> List[Sample]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise AnnotationError(f"{path}: not valid JSON (line {e.lineno}): {e.msg}") from e
    for key in ("images", "annotations", "categories"):
        if not isinstance(doc.get(key), list):
            raise AnnotationError(f"{path}: $.{key} is missing or not a list")
    categories = doc["categories"]
    wanted = {c["id"] for c in categories if label_matches(str(c.get("name", "")), cls)}
    if not wanted and len(categories) == 1:
        wanted = {categories[0]["id"]}  # a single-class export: its one category is the class
    if not wanted:
        raise AnnotationError(f"{path}: $.categories has no '{cls}' category (found {[c.get('name') for c in categories]})")
    files: Dict[object, str] = {}
    for i, im in enumerate(doc["images"]):
        if "id" not in im or "file_name" not in im:
            raise AnnotationError(f"{path}: $.images[{i}] needs id and file_name")
        files[im["id"]] = str(im["file_name"])
    boxes: Dict[object, List[List[float]]] = {k: [] for k in files}
    ignore: Dict[object, List[List[float]]] = {k: [] for k in files}
    for i, a in enumerate(doc["annotations"]):
        bbox = a.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise AnnotationError(f"{path}: $.annotations[{i}].bbox must be [x, y, width, height]")
        if a.get("image_id") not in files:
            raise AnnotationError(f"{path}: $.annotations[{i}].image_id {a.get('image_id')} is not in $.images")
        if a.get("category_id") not in wanted:
            continue
        x, y, w, h = (float(v) for v in bbox)
        row = [x, y, x + w, y + h]
        (ignore if a.get("iscrowd", 0) == 1 or a.get("ignore", 0) == 1 else boxes)[a["image_id"]].append(row)
    return [Sample(os.path.join(images_dir, files[k]), _boxes(boxes[k]), _boxes(ignore[k])) for k in files]


def read_voc(folder: str, images_dir: str, cls: str) -> List[Sample]:
    ann = os.path.join(folder, "Annotations") if os.path.isdir(os.path.join(folder, "Annotations")) else folder
    if not os.path.isdir(ann):
        raise AnnotationError(f"{folder}: VOC annotation folder does not exist")
    samples: List[Sample] = []
    for name in sorted(os.listdir(ann)):
        if not name.endswith(".xml"):
            continue
        path = os.path.join(ann, name)
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            raise AnnotationError(f"{path}: not well-formed XML (line {e.position[0]})") from e
        file_name = (root.findtext("filename") or "").strip() or os.path.splitext(name)[0] + ".jpg"
        boxes: List[List[float]] = []
        ignore: List[List[float]] = []
        for k, obj in enumerate(root.findall("object")):
            if not label_matches(obj.findtext("name") or "", cls):
                continue
            bb = obj.find("bndbox")
            if bb is None:
                raise AnnotationError(f"{path}: object {k + 1} has no <bndbox>")
            try:
                row = [float(bb.findtext(t) or "") for t in ("xmin", "ymin", "xmax", "ymax")]
            except ValueError as e:
                raise AnnotationError(f"{path}: object {k + 1}: <bndbox> has a value that is not a number") from e
            if row[2] < row[0] or row[3] < row[1]:
                raise AnnotationError(f"{path}: object {k + 1}: xmax < xmin or ymax < ymin")
            (ignore if (obj.findtext("difficult") or "0").strip() == "1" else boxes).append(row)
        samples.append(Sample(os.path.join(images_dir, file_name), _boxes(boxes), _boxes(ignore)))
    if not samples:
        raise AnnotationError(f"{ann}: no .xml annotation files")
    return samples


def read_yolo(folder: str, images_dir: str, cls: str, names: Optional[Sequence[str]] = None) -> List[Sample]:
    """A YOLO folder (labels/*.txt or *.txt beside classes.txt / data.yaml names); class ids are looked up by name."""
    labels = os.path.join(folder, "labels") if os.path.isdir(os.path.join(folder, "labels")) else folder
    if names is None:
        names = _yolo_names(folder)
    ids = {i for i, n in enumerate(names) if label_matches(n, cls)} if names else {0}
    if not ids:
        raise AnnotationError(f"{folder}: the class names {list(names)} have no '{cls}'")
    samples: List[Sample] = []
    for image in sorted(os.listdir(images_dir)):
        if not image.lower().endswith(IMAGE_EXTENSIONS):
            continue
        path = os.path.join(images_dir, image)
        txt = os.path.join(labels, os.path.splitext(image)[0] + ".txt")
        boxes: List[List[float]] = []
        if os.path.exists(txt):
            with Image.open(path) as im:
                width, height = im.size
            with open(txt, encoding="utf-8") as f:
                for line_no, line in enumerate(f, 1):
                    parts = line.split()
                    if not parts:
                        continue
                    if len(parts) < 5:
                        raise AnnotationError(f"{txt} line {line_no}: expected 'class cx cy w h'")
                    try:
                        c = int(parts[0])
                        cx, cy, w, h = (float(p) for p in parts[1:5])
                    except ValueError as e:
                        raise AnnotationError(f"{txt} line {line_no}: not numbers") from e
                    if c in ids:
                        boxes.append([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height])
        samples.append(Sample(path, _boxes(boxes), _boxes([])))
    return samples


def _yolo_names(folder: str) -> List[str]:
    for candidate in ("classes.txt", "obj.names"):
        p = os.path.join(folder, candidate)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return [line.strip() for line in f if line.strip()]
    p = os.path.join(folder, "data.yaml")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.strip().startswith("names:"):
                    value = line.split(":", 1)[1].strip()
                    if value.startswith("["):
                        return [n.strip().strip("'\"") for n in value.strip("[]").split(",") if n.strip()]
    return []


def read(path: str, images_dir: str, cls: str = "head", fmt: Optional[str] = None) -> List[Sample]:
    """Reads annotations by format (coco | voc | yolo), inferred from the path when not given."""
    if fmt is None:
        if os.path.isfile(path) and path.lower().endswith(".json"):
            fmt = "coco"
        elif os.path.isdir(path):
            has_xml = os.path.isdir(os.path.join(path, "Annotations")) or any(n.endswith(".xml") for n in os.listdir(path))
            fmt = "voc" if has_xml else "yolo"
        else:
            raise AnnotationError(f"{path}: not a COCO .json file, a VOC folder or a YOLO folder")
    if not os.path.isdir(images_dir):
        raise AnnotationError(f"{images_dir}: image folder does not exist")
    if fmt == "coco":
        samples = read_coco(path, images_dir, cls)
    elif fmt == "voc":
        samples = read_voc(path, images_dir, cls)
    elif fmt == "yolo":
        samples = read_yolo(path, images_dir, cls)
    else:
        raise AnnotationError(f"unknown annotation format '{fmt}' (coco, voc or yolo)")
    missing = [s.image for s in samples if not os.path.exists(s.image)]
    if missing:
        raise AnnotationError(f"{len(missing)} annotated images are not in {images_dir}, e.g. {missing[0]}")
    return samples


def fingerprint(samples: Sequence[Sample]) -> str:
    """A short hash of the image names and boxes: a checkpoint resumes only on the data it was trained on."""
    h = hashlib.sha256()
    for s in samples:
        h.update(os.path.basename(s.image).encode())
        h.update(np.round(s.boxes, 2).tobytes())
        h.update(np.round(s.ignore, 2).tobytes())
    return h.hexdigest()[:16]


def load_bgr(path: str) -> np.ndarray:
    """An (H, W, 3) uint8 BGR image: the channel order and range the ONNX graph takes."""
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


class ImageCache:
    """Decoded images kept in memory up to a byte budget (least recently used out): every epoch reads the same
    frames, and decoding them again costs as much as a third of a training step on two cores."""

    def __init__(self, budget_mb: float) -> None:
        self.budget = int(budget_mb * 1024 * 1024)
        self.used = 0
        self._items: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> np.ndarray:
        with self._lock:
            hit = self._items.get(path)
            if hit is not None:
                self._items.move_to_end(path)
                return hit
        image = load_bgr(path)
        with self._lock:
            if image.nbytes <= self.budget and path not in self._items:
                self._items[path] = image
                self.used += image.nbytes
                while self.used > self.budget:
                    _, old = self._items.popitem(last=False)
                    self.used -= old.nbytes
        return image
