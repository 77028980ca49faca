"""Two MRI tasks like the issue's held-out check, from the MNI ICBM152 2009a atlas (nilearn wheel).

    pip download --no-deps -d /tmp/nilearn nilearn && unzip -q /tmp/nilearn/*.whl -d /tmp/nilearn
    .venv/bin/python benchmarks/atlas_proxy.py /tmp/nilearn/nilearn/datasets/data -o /tmp/atlas
    .venv/bin/python benchmarks/autoconfig.py --tasks --extra /tmp/atlas/brain /tmp/atlas/gm \
        --minutes 8

The atlas's T1 template (1 mm, 197x233x189) gives 74 axial slices spread
over the brain; the labels are the atlas's own tissue maps, not a threshold of
the image: "brain" = grey + white matter probability > 0.5 with holes filled,
"gm" = grey matter probability > 0.5, "wm" = white matter probability > 0.5
(the fine-tune's choosing set: another label of the same slices, see
benchmarks/finetune_gain.py; the wheel holds no CSF map). Split by slice position as the check
does: lower half train, next tenth validates, upper 40 % tests. Caveats: the
template is an average of many subjects (smoother than one scan) and already
skull-stripped, so "brain" is easier than a real brain mask; "gm" is the closer
proxy. Only numpy and OpenCV are needed (the .nii.gz files are read here).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

SLICES = 74
ATLAS = "mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz"


def read_nifti_uint8(path: Path) -> np.ndarray:
    """A uint8 NIfTI-1 volume as (z, y, x) (the atlas files are uint8, no scaling)."""
    raw = gzip.decompress(path.read_bytes())
    dims = np.frombuffer(raw, dtype="<i2", count=8, offset=40)
    datatype = int(np.frombuffer(raw, dtype="<i2", count=1, offset=70)[0])
    offset = int(np.frombuffer(raw, dtype="<f4", count=1, offset=108)[0])
    if datatype != 2:
        raise ValueError(f"{path}: NIfTI datatype {datatype}, expected 2 (uint8).")
    x, y, z = (int(d) for d in dims[1:4])
    return np.frombuffer(raw, dtype=np.uint8, count=x * y * z, offset=offset).reshape(z, y, x)


def write_task(root: Path, t1: np.ndarray, label: np.ndarray, chosen: list[int]) -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    for z in chosen:
        name = f"mni_z{z:03d}.png"
        cv2.imwrite(str(root / "images" / name), np.flipud(t1[z]))
        cv2.imwrite(str(root / "masks" / name), np.flipud(label[z]).astype(np.uint8) * 255)
    train, val = len(chosen) // 2, max(1, len(chosen) // 10)
    ids = [f"mni_z{z:03d}" for z in chosen]
    splits = {"train": ids[:train], "val": ids[train : train + val], "test": ids[train + val :]}
    (root / "splits.json").write_text(json.dumps(splits), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", type=Path, help="nilearn/datasets/data from the nilearn wheel")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    t1, gm, wm = (read_nifti_uint8(args.atlas / ATLAS.format(n)) for n in ("t1", "gm", "wm"))
    brain = (gm.astype(int) + wm) > 127
    with_brain = [z for z in range(t1.shape[0]) if brain[z].sum() > 2000]
    positions = np.linspace(0, len(with_brain) - 1, SLICES).round().astype(int)
    chosen = [with_brain[i] for i in positions]
    filled = np.stack([ndimage.binary_fill_holes(s) for s in brain])
    write_task(args.output / "brain", t1, filled, chosen)
    write_task(args.output / "gm", t1, gm > 127, chosen)
    write_task(args.output / "wm", t1, wm > 127, chosen)
    print(f"{len(chosen)} slices of {t1.shape[1]}x{t1.shape[2]} -> {args.output}/brain, /gm, /wm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
