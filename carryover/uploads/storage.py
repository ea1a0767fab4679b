"""A Django storage that keeps files in the database: the embedded default for uploads.

Every web process and worker that reaches the database reaches the files, on any
machine, with nothing on a local disk. A file is a `StoredBlob` and its bytes are
`BlobChunk` rows of at most `CHUNK_BYTES`, written in one transaction and read back one
chunk at a time (a 500 MB roster zip never sits in memory whole). There are no URLs and
no local paths: a file is opened through the storage, never by path.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.deconstruct import deconstructible

CHUNK_BYTES = 1024 * 1024


class ChunkReader(io.RawIOBase):
    """A read-only, seekable file over a blob's chunks: one query per chunk read."""

    def __init__(self, blob_id: int, size: int) -> None:
        super().__init__()
        self.blob_id = blob_id
        self.length = size
        self.position = 0
        self._index = -1
        self._chunk = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def _load(self, index: int) -> bytes:
        from carryover.uploads.models import BlobChunk

        if index != self._index:
            data = (
                BlobChunk.objects.filter(blob_id=self.blob_id, index=index)
                .values_list("data", flat=True)
                .first()
            )
            if data is None:
                raise OSError(f"blob {self.blob_id}: chunk {index} is missing")
            self._index, self._chunk = index, bytes(data)
        return self._chunk

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.length:
            return 0
        index, offset = divmod(self.position, CHUNK_BYTES)
        piece = self._load(index)[offset : offset + len(buffer)]
        buffer[: len(piece)] = piece
        self.position += len(piece)
        return len(piece)


@deconstructible
class DatabaseStorage(Storage):
    """Files as rows of the database (`uploads.StoredBlob`, `uploads.BlobChunk`)."""

    def _save(self, name: str, content: Any) -> str:
        from carryover.uploads.models import BlobChunk, StoredBlob

        if hasattr(content, "seek"):
            content.seek(0)
        with transaction.atomic():
            blob = StoredBlob.objects.create(name=name)
            size = 0
            batch: list[BlobChunk] = []
            for index, piece in enumerate(_pieces(content)):
                batch.append(BlobChunk(blob=blob, index=index, data=piece))
                size += len(piece)
                if len(batch) >= 8:  # at most 8 MiB in memory at once
                    BlobChunk.objects.bulk_create(batch)
                    batch = []
            BlobChunk.objects.bulk_create(batch)
            StoredBlob.objects.filter(pk=blob.pk).update(size=size)
        return name

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        from carryover.uploads.models import StoredBlob

        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("the database storage opens files for reading only")
        found = StoredBlob.objects.filter(name=name).values_list("pk", "size").first()
        if found is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        stream: IO[bytes] = io.BufferedReader(ChunkReader(*found), buffer_size=CHUNK_BYTES)
        return File(stream, name=name)

    def delete(self, name: str) -> None:
        from carryover.uploads.models import StoredBlob

        # The chunks go in one DELETE (a fast cascade: nothing points at a chunk).
        StoredBlob.objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        from carryover.uploads.models import StoredBlob

        return StoredBlob.objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        from carryover.uploads.models import StoredBlob

        found = StoredBlob.objects.filter(name=name).values_list("size", flat=True).first()
        if found is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return int(found)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        from carryover.uploads.models import StoredBlob

        prefix = f"{path.rstrip('/')}/" if path else ""
        names = StoredBlob.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        dirs: set[str] = set()
        files: list[str] = []
        for full in names:
            rest = full[len(prefix) :]
            head, _, tail = rest.partition("/")
            if tail:
                dirs.add(head)
            else:
                files.append(head)
        return sorted(dirs), sorted(files)


def _pieces(content: Any) -> Iterator[bytes]:
    """The content in pieces of exactly CHUNK_BYTES (the last one shorter), whatever
    sizes its own `chunks()` or `read()` give: a chunk's place is its offset."""
    if hasattr(content, "chunks"):
        source: Iterable[bytes] = content.chunks(CHUNK_BYTES)
    else:
        source = iter(lambda: content.read(CHUNK_BYTES), b"")
    pending = bytearray()
    for piece in source:
        pending += piece
        while len(pending) >= CHUNK_BYTES:
            yield bytes(pending[:CHUNK_BYTES])
            del pending[:CHUNK_BYTES]
    if pending:
        yield bytes(pending)
