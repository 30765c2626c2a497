from __future__ import annotations

import json
import os
import tempfile
import unittest

import numpy as np
from PIL import Image

from cvtrain import data

from .assets import CLASSROOM, require


class AnnotationReaderTests(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.images = os.path.join(self.dir, "images")
        os.makedirs(self.images)
        Image.new("RGB", (200, 100)).save(os.path.join(self.images, "a.jpg"))

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def _write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_coco_keeps_the_class_and_reads_crowd_as_ignore(self) -> None:
        path = self._write("ann.json", json.dumps({
            "images": [{"id": 7, "file_name": "a.jpg", "width": 200, "height": 100}],
            "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "head"}],
            "annotations": [
                {"id": 1, "image_id": 7, "category_id": 2, "bbox": [10, 20, 30, 40]},
                {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 50, 90]},
                {"id": 3, "image_id": 7, "category_id": 2, "bbox": [100, 10, 40, 40], "iscrowd": 1},
            ]}))
        [s] = data.read(path, self.images)
        np.testing.assert_array_equal(s.boxes, [[10, 20, 40, 60]])
        np.testing.assert_array_equal(s.ignore, [[100, 10, 140, 50]])

    def test_coco_error_names_the_json_path(self) -> None:
        path = self._write("bad.json", json.dumps({
            "images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "head"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}]}))
        with self.assertRaisesRegex(data.AnnotationError, r"bad\.json: \$\.annotations\[0\]\.bbox"):
            data.read(path, self.images)

    def test_voc_reads_misspelt_heads_and_difficult_as_ignore(self) -> None:
        self._write("voc/Annotations/a.xml", """<annotation><filename>a.jpg</filename>
            <object><name>headdddddaaddwddd</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax><ymax>14</ymax></bndbox></object>
            <object><name>head</name><difficult>1</difficult><bndbox><xmin>50</xmin><ymin>5</ymin><xmax>60</xmax><ymax>15</ymax></bndbox></object>
            <object><name>person</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>90</xmax><ymax>90</ymax></bndbox></object>
            </annotation>""")
        [s] = data.read(os.path.join(self.dir, "voc"), self.images)
        np.testing.assert_array_equal(s.boxes, [[1, 2, 11, 14]])
        np.testing.assert_array_equal(s.ignore, [[50, 5, 60, 15]])

    def test_voc_error_names_the_file_and_object(self) -> None:
        self._write("voc/Annotations/a.xml", "<annotation><object><name>head</name><bndbox><xmin>x</xmin>"
                    "<ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>")
        with self.assertRaisesRegex(data.AnnotationError, r"a\.xml: object 1"):
            data.read(os.path.join(self.dir, "voc"), self.images)

    def test_yolo_folder_with_class_names(self) -> None:
        self._write("yolo/classes.txt", "person\nhead\n")
        self._write("yolo/labels/a.txt", "1 0.5 0.5 0.1 0.2\n0 0.5 0.5 1 1\n")
        [s] = data.read(os.path.join(self.dir, "yolo"), self.images, fmt="yolo")
        np.testing.assert_allclose(s.boxes, [[90, 40, 110, 60]])

    def test_missing_images_are_reported(self) -> None:
        path = self._write("ann.json", json.dumps({
            "images": [{"id": 1, "file_name": "nope.jpg"}], "categories": [{"id": 1, "name": "head"}], "annotations": []}))
        with self.assertRaisesRegex(data.AnnotationError, "nope.jpg"):
            data.read(path, self.images)

    def test_real_classroom_voc(self) -> None:
        root = require(CLASSROOM)
        ann = os.path.join(self.dir, "subset", "Annotations")
        os.makedirs(ann)
        for name in ("PartA_00000.xml", "PartA_01006.xml"):
            os.symlink(os.path.join(root, "Annotations", name), os.path.join(ann, name))
        samples = data.read(os.path.join(self.dir, "subset"), os.path.join(root, "JPEGImages"))
        self.assertEqual(len(samples), 2)
        self.assertEqual(len(samples[0].boxes), 81)
        self.assertEqual(len(samples[1].boxes), 6, "its six boxes, misspelt 'headddd...', are heads")
        image = data.load_bgr(samples[0].image)
        self.assertEqual(image.shape, (594, 1070, 3))
        cache = data.ImageCache(budget_mb=4)
        self.assertIs(cache.get(samples[0].image), cache.get(samples[0].image), "a cached frame is decoded once")


if __name__ == "__main__":
    unittest.main()
