"""A data file (JSON, CSV) too big for one Teams message, sent as numbered parts.

Teams carries a file in the message itself (a data URL, base64), and a message over about
26 KB is refused. A report has its text shown in the conversation as well; an export or
an audit log has no such fallback, so rather than drop it, it goes as several files, each
in a message that fits, cut at line ends, named so they sort and join in order.
"""

from __future__ import annotations

# Text per part: base64 makes 17,000 bytes 22,668, which leaves room for the message
# around it under the 26,000-byte limit (bot.render.teams.MAX_CARD_BYTES).
PART_BYTES = 17_000
DATA_FILES = (".json", ".csv")


def is_data_file(filename: str) -> bool:
    return filename.lower().endswith(DATA_FILES)


def parts(filename: str, content: str, limit: int = PART_BYTES) -> list[tuple[str, str]]:
    """``[(filename, content)]`` when it fits; else numbered parts whose text, joined in
    order, is ``content`` exactly."""
    if len(content.encode("utf-8")) <= limit:
        return [(filename, content)]
    chunks: list[str] = []
    current, size = "", 0
    for line in _pieces(content, limit):
        length = len(line.encode("utf-8"))
        if size + length > limit and current:
            chunks.append(current)
            current, size = "", 0
        current, size = current + line, size + length
    if current:
        chunks.append(current)
    stem, dot, ext = filename.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot else (filename, "")
    count = len(chunks)
    return [(f"{stem}.part{i}-of-{count}{ext}", c) for i, c in enumerate(chunks, 1)]


def _pieces(content: str, limit: int) -> list[str]:
    """Lines (with their ends), a line longer than ``limit`` bytes cut to fit."""
    pieces: list[str] = []
    for line in content.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:
            cut = limit // 4  # at most four bytes a character in UTF-8
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
    return pieces
