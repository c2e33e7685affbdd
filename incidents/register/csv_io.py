"""The register as CSV: the documented header, reading a file people made in a
spreadsheet (any of UTF-8, UTF-8 with a BOM, UTF-16 with a BOM, Windows-1252/Latin-1;
CRLF or LF; commas, or the semicolons or tabs some spreadsheets save) row by row, and
writing one back.

Reading never stops at a bad row: each good row is parsed, each bad one is reported with
its line number and the reason, and nothing is written here at all (the caller decides
whether to apply the good rows, which is what makes a dry run change nothing). Only a
file that can't be a register at all (no ``platform`` or ``handle`` column, too big, not
text) is refused as a whole.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, so
the export writes such a cell with a leading ``'`` and the import takes it off again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from incidents.register import fields
from incidents.register.model import Account, Details, handle_key

HEADER: tuple[str, ...] = (
    "platform",
    "handle",
    "url",
    "owning_team",
    "business_owner",
    "people_with_access",
    "two_factor",
    "recovery_email",
    "recovery_phone",
    "recovery_controlled_by",
    "recovery_is_shared_mailbox",
    "verification",
    "connected_tools",
    "last_review",
)
REQUIRED = ("platform", "handle")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
_FORMULA = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Problem:
    line: int  # the line in the file, counting from 1
    reason: str


@dataclass
class Parsed:
    rows: list[tuple[int, Details]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused: str = ""  # the whole file can't be read: why
    ignored_columns: tuple[str, ...] = ()


def decode(data: bytes) -> str:
    """Text from a spreadsheet's bytes: a BOM says which Unicode; else UTF-8 if it is
    valid UTF-8, else Windows-1252 (what Excel on Windows writes), else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _unformula(cell: str) -> str:
    if cell.startswith("'") and cell[1:2] in _FORMULA:
        return cell[1:]
    return cell


def _column(name: str) -> str:
    return name.strip().strip("\ufeff").lower().replace(" ", "_")


_DELIMITERS = (",", ";", "\t")


def _known(line: str, delimiter: str) -> int:
    """How many of the register's column names ``line`` has, split at ``delimiter``."""
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return len({_column(c) for c in cells} & set(HEADER))


def delimiter_of(first_line: str) -> str:
    """A spreadsheet set to a language that writes decimal commas saves its "CSV" with
    semicolons, and some tools save tabs: the delimiter that finds the most of the
    register's column names in the header (a comma when none does better)."""
    return max(_DELIMITERS, key=lambda d: (_known(first_line, d), d == ","))


_SEP_LINE = re.compile(r"^sep=(.)$", re.IGNORECASE)


def preamble(text: str) -> tuple[int, str, str | None]:
    """Blank lines before the header, and the ``sep=;`` line Excel reads as "this file's
    delimiter", taken off: (how many lines that was, the rest, the delimiter it named)."""
    skipped, sep = 0, None
    lines = text.splitlines(keepends=True)
    for line in lines:
        found = _SEP_LINE.match(line.strip()) if sep is None and line.strip() else None
        if line.strip() and found is None:
            break
        if found is not None:
            sep = found.group(1)
        skipped += 1
    return skipped, "".join(lines[skipped:]), sep


def looks_like_register(data: bytes) -> bool:
    """The first line names at least two of the register's columns: meant as a register,
    so a file missing a required column is answered (with what is missing), not ignored."""
    _, text, sep = preamble(decode(data[:4096]))
    first = text.splitlines()[:1]
    if not first:
        return False
    return _known(first[0], sep or delimiter_of(first[0])) >= 2


def details_from(cells: dict[str, str], latest: date | None = None) -> Details:
    """One row's details; raises fields.Bad naming the first field that is wrong.
    ``latest`` is the last day a review date may be (tomorrow, for time zones)."""
    owner = None
    if cells.get("business_owner", "").strip():
        owner, _ = fields.person(cells["business_owner"], "the business owner")
    return Details(
        platform=fields.platform(cells.get("platform")),
        handle=fields.handle(cells.get("handle")),
        url=fields.url(cells.get("url")),
        team=fields.text(cells.get("owning_team"), "the owning team"),
        owner=owner,
        access=fields.people(cells.get("people_with_access")),
        two_factor=fields.two_factor(cells.get("two_factor")),
        recovery_email=fields.text(cells.get("recovery_email"), "the recovery email"),
        recovery_phone=fields.text(cells.get("recovery_phone"), "the recovery phone"),
        recovery_holder=fields.text(cells.get("recovery_controlled_by"), "the recovery holder"),
        recovery_shared=fields.yes_no(
            cells.get("recovery_is_shared_mailbox"), "recovery_is_shared_mailbox"
        ),
        verification=fields.verification(cells.get("verification")),
        tools=fields.tools(cells.get("connected_tools")),
        last_reviewed=fields.when(cells.get("last_review"), latest=latest),
    )


def parse(data: bytes, latest: date | None = None) -> Parsed:
    if len(data) > MAX_BYTES:
        return Parsed(refused=f"The file is over {MAX_BYTES // (1024 * 1024)} MB.")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Parsed(refused="That isn't a CSV file (it holds binary data).")
    skipped, text, sep = preamble(decode(data))
    first = text.splitlines()[:1]
    delimiter = sep or (delimiter_of(first[0]) if first else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_column(c) for c in next(reader)]
    except (StopIteration, csv.Error):
        return Parsed(refused="The file is empty.")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return Parsed(
            refused="The header has no "
            + " or ".join(missing)
            + " column. The first line must name the columns: "
            + ",".join(HEADER)
        )
    parsed = Parsed(ignored_columns=tuple(c for c in header if c and c not in HEADER))
    seen: dict[tuple[str, str], int] = {}
    while True:
        # A row starts on the line after the last one read: a cell with line breaks in
        # it (people with access, one a line) makes a row longer than one line.
        line = skipped + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.problems.append(Problem(line, f"can't read the row ({error})"))
            break
        if not any(c.strip() for c in row):
            continue  # a blank line
        if len(parsed.rows) + len(parsed.problems) >= MAX_ROWS:
            parsed.problems.append(Problem(line, f"more than {MAX_ROWS} rows: the rest skipped"))
            break
        if len(row) != len(header):
            last = skipped + reader.line_num
            reason = (
                f'a quote (") on this line is never closed, so lines {line} to {last} were'
                " read as one row"
                if last > line and any("\n" in c for c in row)
                else f"{len(row)} columns where the header has {len(header)}"
            )
            parsed.problems.append(Problem(line, reason))
            continue
        cells = {name: _unformula(cell) for name, cell in zip(header, row, strict=True)}
        try:
            details = details_from(cells, latest)
        except fields.Bad as bad:
            parsed.problems.append(Problem(line, str(bad)))
            continue
        key = (details.platform, handle_key(details.handle))
        if key in seen:
            parsed.problems.append(
                Problem(line, f"{details.title} is on line {seen[key]} already (a duplicate)")
            )
            continue
        seen[key] = line
        parsed.rows.append((line, details))
    return parsed


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA) else cell


def row_of(details: Details) -> list[str]:
    owner = fields.write_person(details.owner) if details.owner else ""
    cells = [
        details.platform_name,
        details.handle,
        details.url,
        details.team,
        owner,
        fields.write_people(details.access),
        details.two_factor,
        details.recovery_email,
        details.recovery_phone,
        details.recovery_holder,
        "yes" if details.recovery_shared else "no",
        details.verification,
        "; ".join(details.tools),
        details.last_reviewed.isoformat() if details.last_reviewed else "",
    ]
    return [_safe(c) for c in cells]


def export(accounts: Iterable[Account]) -> str:
    """The accounts as CSV text with the header (CRLF line ends, as RFC 4180 says)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for account in accounts:
        writer.writerow(row_of(account.details))
    return out.getvalue()
