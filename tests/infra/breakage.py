"""A copy of infra/ with one deliberate breakage, for the offline checks to report."""

import shutil
from pathlib import Path

from devtools.infra_check import ROOT

INFRA = ROOT / "infra"


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """infra/ copied under tmp_path with the first `old` in `file` replaced by `new`."""
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    target = copy / file
    text = target.read_text()
    assert old in text, f"{file} no longer has {old!r}: update the breakage"
    target.write_text(text.replace(old, new, 1))
    return copy
