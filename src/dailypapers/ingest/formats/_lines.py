"""Line-by-line reading of JSON-lines files, with resumable byte offsets, and the words for what a JSON
value is when it is not what a format expects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson


def iter_lines(
    stream: BinaryIO, *, start_offset: int = 0, start_line: int = 1
) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(line, line_number, byte_offset_after_line)`` for every non-blank line from ``start_offset``.

    The offset after each line is what a caller stores to resume a long ingest exactly there; blank lines
    are skipped but still counted, so line numbers match what an editor shows. A last line without a
    newline is yielded too.
    """
    if start_offset:
        stream.seek(start_offset)
    offset = start_offset
    number = start_line - 1
    for line in stream:
        number += 1
        offset += len(line)
        if line.isspace():
            continue
        yield line, number, offset


def json_error_reason(line: bytes, error: orjson.JSONDecodeError) -> str:
    """Say why a JSON line could not be read; invalid UTF-8 is named as such, with its byte offset."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as decode_error:
        return f"not valid UTF-8 at byte {decode_error.start} of the line"
    return f"invalid JSON at column {error.colno}: {error.msg}"


def json_type(value: Any) -> str:
    """JSON's name for the type of a decoded value, for messages ("expected an object, found an array")."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "number"
