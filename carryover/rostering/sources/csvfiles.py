"""Reading a OneRoster CSV package (a zip or a folder): files, headers, rows with line numbers.

No OneRoster meaning here beyond column names; `oneroster_csv` maps rows to the snapshot.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from carryover.rostering.errors import SourceError

# A zip whose files unpack to more than this is refused (zip bombs).
MAX_UNPACKED_BYTES = 4 * 1024**3
ISO_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"
)


class Bundle:
    """The CSV files of one package, by file name (no folders: the spec has none)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and not child.name.startswith("."):
                    self._members[child.name] = str(child)
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceError(f"{path.name}: not a zip file ({exc})") from exc
            infos = [i for i in self._zip.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise SourceError(f"{path.name}: unpacks to more than 4 GiB; refused")
            prefix = _single_folder_prefix([i.filename for i in infos])
            for info in infos:
                name = info.filename[len(prefix) :]
                if "/" in name or name.startswith(".") or name.startswith("__MACOSX"):
                    continue
                self._members[name] = info.filename
        else:
            raise SourceError(f"{path}: no such file or folder")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def open_text(self, name: str) -> IO[str]:
        # utf-8-sig drops the byte-order mark Excel writes; newline="" lets csv see CRLF.
        return io.TextIOWrapper(self.open_binary(name), encoding="utf-8-sig", newline="")

    def open_binary(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(self._members[name])
        return open(self._members[name], "rb")

    def digest(self, name: str) -> str:
        sha = hashlib.sha256()
        if self._zip is not None:
            with self._zip.open(self._members[name]) as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(chunk)
        else:
            sha.update(Path(self._members[name]).read_bytes())
        return sha.hexdigest()


def _single_folder_prefix(names: list[str]) -> str:
    """A zip made by compressing a folder has every file under `folder/`; look inside it."""
    if any(n == "manifest.csv" for n in names):
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n and not n.startswith("__MACOSX")}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/manifest.csv" in names:
            return f"{top}/"
    return ""


def did_you_mean(word: str, choices: list[str] | set[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class FileSpec:
    """The columns of one OneRoster file: every known name, those the header must have,
    and those a row (other than a deletion) must fill."""

    name: str
    known: frozenset[str]
    header: frozenset[str]
    values: frozenset[str]


class BadText(ValueError):
    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is not UTF-8")
        self.line = line


def decoded_text(raw: IO[bytes]) -> str:
    """The whole file as text (one decode is far faster than one per line); a bad byte
    is reported on its own line number."""
    data = raw.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadText(data.count(b"\n", 0, exc.start) + 1) from exc
    return text[1:] if text.startswith("\ufeff") else text


class Table:
    """The rows of one CSV file, checked against its spec, with 1-based line numbers.

    Problems go to `problems` (shared with the caller) as "file line N: message".
    Iterating yields (line, row) for rows whose field count matches the header;
    `col` maps a column name to its index in the row.
    """

    def __init__(self, bundle: Bundle, spec: FileSpec, problems: list[str]) -> None:
        self.bundle = bundle
        self.spec = spec
        self.file = f"{spec.name}.csv"
        self.problems = problems
        self.col: dict[str, int] = {}
        self.usable = False

    def where(self, line: int) -> str:
        return f"{self.file} line {line}"

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.where(line)}: {message}")

    def _check_header(self, header: list[str]) -> bool:
        fatal = False
        for index, name in enumerate(header):
            name = name.strip()
            if not name:
                self.problem(1, f"column {index + 1} has no name")
                fatal = True
            elif name in self.col:
                self.problem(1, f"column {name!r} appears twice")
                fatal = True
            else:
                self.col[name] = index
                if name not in self.spec.known and not name.startswith("metadata."):
                    hint = did_you_mean(name, self.spec.known)
                    self.problem(1, f"unknown column {name!r}{hint}")
        for name in sorted(self.spec.header - set(self.col)):
            self.problem(1, f"required column {name!r} is missing")
            fatal = True
        return not fatal

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = 0
        with self.bundle.open_binary(self.file) as handle:
            try:
                text = decoded_text(handle)
            except BadText as exc:
                self.problem(exc.line, "not UTF-8 text")
                return
            reader = csv.reader(io.StringIO(text, newline=""), strict=True)
            del text
            line = 1
            try:
                header = next(reader, None)
                if header is None:
                    self.problem(1, "the file is empty (a header line is required)")
                    return
                width = len(header)
                self.usable = self._check_header(header)
                if not self.usable:
                    return
                next_line = reader.line_num + 1
                for row in reader:
                    line, next_line = next_line, reader.line_num + 1
                    if len(row) != width:
                        if not row or (len(row) == 1 and not row[0].strip()):
                            continue  # a blank line
                        self.problem(line, f"{len(row)} fields, but the header has {width} columns")
                        continue
                    yield line, row
            except csv.Error as exc:
                self.problem(reader.line_num or line, f"malformed CSV ({exc})")
