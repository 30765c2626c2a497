"""CinemaVision trainer: fine-tunes the detection models the edge runs, from their own ONNX graphs.

Run with Debian's Python (`/usr/bin/python3 -m cvtrain ...`): it needs python3-torch, python3-torchvision,
python3-onnx, python3-numpy and python3-pil. `cvtools train` prepares the data and drives it.
"""

__all__ = ["augment", "data", "export", "lffd", "onnx_net", "train"]
