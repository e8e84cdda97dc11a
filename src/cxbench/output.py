"""Safe output: text for a terminal, cells for a spreadsheet, secrets kept out of messages, files written whole.

Every renderer (terminal, CSV, the CLI's messages and files) goes through these, so data read from a source can
never act as terminal control codes, Rich markup or a spreadsheet formula, and a password never reaches a screen.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

# C0 and C1 control characters (ESC starts ANSI and OSC sequences; CR rewrites a line) and the bidirectional
# overrides that reorder what a terminal shows (the "Trojan Source" characters, CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# user:password@ in a URL. The user name holds no ":" or "@"; the password runs to the LAST "@" before the path
# (an unencoded "@" or space belongs to the password: postgres://u:p@ss@host/db masks "p@ss").
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)(?P<secret>[^/\n]*)(?P<tail>@)")
# NAME=value parameters of a URL query or a connection string whose name says it holds a secret: any name
# containing password, passwd, pwd, token, secret or credential (access_token, sslpassword, motherduck_token,
# aws_secret_access_key, credentials), and names ending in "key" or "key_id" (key, api_key, sslkey,
# aws_access_key_id) -- but not key_event and the like, which are settings. A quoted value is masked whole,
# spaces included (spaces around = allowed then); an unquoted one follows = directly and runs to & ; or a space.
_PARAM_PASSWORD = re.compile(
    r"(?P<head>(?<![\w.-])(?:[\w.-]*(?:password|passwd|pwd|token|secret|credential)[\w.-]*|[\w.-]*key(?:_id)?)"
    r"(?:\s*=\s*(?=['\"])|=))(?P<secret>'[^'\n]*'?|\"[^\"\n]*\"?|[^&;\s'\"]+)",
    re.IGNORECASE)
MASK = "***"

#: OWASP "CSV injection": a cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def terminal_text(value: object) -> str:
    """`value` as text that prints as itself: control characters are shown escaped (ESC as `\\x1b`), never sent
    to the terminal. Newlines are kept."""
    text = str(value)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def terminal_json(text: str) -> str:
    """JSON text safe for a terminal and still valid JSON: the control and reordering characters JSON leaves as
    they are (C1 controls, bidirectional overrides; it escapes C0 itself) written as \\uXXXX escapes, which can
    only occur inside strings."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def redact(text: str) -> str:
    """`text` with the password of every connection URL (`postgres://user:secret@host`) and the value of every
    secret-named parameter (`password=`, `access_token=`, `api_key=`...) replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    return _PARAM_PASSWORD.sub(lambda m: m["head"] + MASK, text)


def neutralise_cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one starting with = + - @ tab or CR gets a leading ' (OWASP)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_safe(table: pa.Table) -> pa.Table:
    """`table` with every text cell neutralised (`neutralise_cell`). Number columns are left as they are: a
    negative number is a number, and a spreadsheet reads it as one."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            starts = pc.starts_with(column, FORMULA_STARTS[0])
            for start in FORMULA_STARTS[1:]:
                starts = pc.or_(starts, pc.starts_with(column, start))
            column = pc.if_else(starts, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a temporary file in the same folder, then a rename over
    `path`, so a full disk or an interrupted run never leaves half a file (or a truncated earlier one).

    A `path` that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO; links followed) is written to
    directly: renaming over it would replace the device or pipe with a plain file."""
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600): give it the mode a plain open() would, or the one it replaces.
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


__all__ = ["FORMULA_STARTS", "MASK", "csv_safe", "neutralise_cell", "redact", "terminal_json", "terminal_text",
           "write_atomically"]
