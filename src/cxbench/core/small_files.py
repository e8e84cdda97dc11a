"""Reading a small input file named by an option (--holidays, --benchmarks) without reading without limit.

A device or a pipe (/dev/zero, /dev/urandom, a FIFO) never ends, and a huge file is not a settings file: both
are refused before reading, so a mistyped path stops with a message instead of filling the memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cxbench.core.errors import UsageError

#: the largest settings file read (holidays, benchmarks): far above any real one
MAX_BYTES = 10 * 1024 * 1024


def read_small_text(path: Path, option: str, encoding: str = "utf-8") -> str:
    """The text of `path`, a regular file of at most MAX_BYTES; a UsageError naming `option` otherwise.
    OSError (no such file, no permission) and UnicodeDecodeError propagate for the caller's own message."""
    if path.exists() and not stat.S_ISREG(os.stat(path).st_mode):
        raise UsageError(f"{option} {path}: is not a regular file (a device, pipe or folder); give a text file")
    with open(path, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # replaced between the check and the open
            raise UsageError(f"{option} {path}: is not a regular file (a device, pipe or folder); give a text file")
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UsageError(f"{option} {path}: is larger than {MAX_BYTES // (1024 * 1024)} MB, too large to be a "
                         "settings file; check the path")
    return data.decode(encoding)
