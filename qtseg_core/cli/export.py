"""``qtseg export WORKSPACE -o OUT --format generic|nifti|dicom-seg|nnunet|coco``.

Writes the workspace's accepted masks (and corrected ones with
--include-corrected) for other tools: the generic training layout, NIfTI label
volumes with the source affine, DICOM-SEG for DICOM volumes, the nnU-Net raw
layout with dataset.json, or COCO JSON (--coco-encoding compressed-rle, rle or
polygon). OUT must be new, empty or a previous export, which is replaced whole.
"""

from __future__ import annotations

import argparse
import sys

from qtseg_core.workspace import Workspace
from qtseg_core.workspace.coco import ENCODINGS
from qtseg_core.workspace.errors import WorkspaceError
from qtseg_core.workspace.export_formats import EXPORT_FORMATS, export_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export a workspace's reviewed masks (NIfTI, DICOM-SEG, nnU-Net, COCO)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", help="workspace folder")
    parser.add_argument("-o", "--output", required=True, help="export folder")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="generic")
    parser.add_argument("--include-corrected", action="store_true",
                        help="also export corrected masks not yet accepted")
    parser.add_argument("--coco-encoding", choices=ENCODINGS, default="compressed-rle")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        with Workspace.open(args.workspace, create=False, read_only=True) as ws:
            report = export_workspace(ws, args.output, args.format,
                                      include_corrected=args.include_corrected,
                                      coco_encoding=args.coco_encoding)
    except WorkspaceError as error:
        print(f"qtseg export: error: {error}", file=sys.stderr)
        return 2
    print(f"exported {len(report.written)} item(s) as {args.format} to {report.folder}")
    if report.empty_because:
        print(f"qtseg export: only statuses.csv and classes.json: {report.empty_because}.",
              file=sys.stderr)
    for name, reason in report.skipped.items():
        print(f"skipped {name}: {reason}")
    return 0
