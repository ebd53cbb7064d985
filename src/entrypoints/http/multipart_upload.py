"""Streaming ``multipart/form-data`` uploads (what a browser form or ``curl -F`` sends).

The upload route takes the file as the raw request body, or as the first file part of a form:
the body is parsed as it arrives with a push parser (``multipart.PushMultipartParser``), so a
form upload streams into the blob store exactly like a raw one, with the same size limit, and is
never held in memory or spooled to a temporary file first. Text fields before the file part are
skipped (a ``file_name`` field names the file when the part has no filename); parts after it
are not read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from application.errors import InvalidInput

MAX_TEXT_FIELD = 1024  # bytes of a text field read before the file part (e.g. ``file_name``)
MAX_PARTS = 16


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "multipart/form-data"


@dataclass(frozen=True, slots=True)
class FilePart:
    file_name: str | None
    content_type: str | None
    content: AsyncIterator[bytes]


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid-multipart", errors={"body": message})


async def first_file_part(body: AsyncIterator[bytes], content_type: str) -> FilePart:
    """Reads ``body`` up to the headers of its first file part and returns that part, whose
    ``content`` goes on streaming the part's bytes from ``body``. Malformed forms, a form without
    a file part, and oversized text fields are refused with 422 ``invalid-multipart``."""
    _, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if not boundary:
        raise _refuse("A multipart/form-data body needs a boundary in its Content-Type.")
    try:
        parser = PushMultipartParser(boundary, max_segment_count=MAX_PARTS)
    except MultipartError as exc:
        raise _refuse(f"The multipart body cannot be read: {exc}.") from exc
    events = _events(parser, body)
    fields: dict[str, bytearray] = {}
    current: MultipartSegment | None = None
    async for event in events:
        if isinstance(event, MultipartSegment):
            if event.filename is not None:
                named = bytes(fields.get("file_name", b"")).decode("utf-8", "replace").strip()
                return FilePart(
                    file_name=event.filename or named or None,
                    content_type=event.content_type,
                    content=_payload(events),
                )
            current = event
            fields[event.name or ""] = bytearray()
        elif event is None:
            current = None
        elif current is not None:
            field = fields[current.name or ""]
            field += event
            if len(field) > MAX_TEXT_FIELD:
                raise _refuse(f"The form field {current.name!r} is longer than {MAX_TEXT_FIELD} bytes.")
    raise _refuse("The form has no file part (send the file as a field with a filename).")


async def _payload(events: AsyncIterator[MultipartSegment | bytes | None]) -> AsyncIterator[bytes]:
    async for event in events:
        if event is None:  # the end of the file part: what follows is not read
            return
        if isinstance(event, MultipartSegment):  # cannot happen before the part's end
            raise _refuse("The multipart body cannot be read: a part started inside another.")
        yield bytes(event)
    raise _refuse("The multipart body ended inside the file part.")


async def _events(
    parser: PushMultipartParser, body: AsyncIterator[bytes]
) -> AsyncIterator[MultipartSegment | bytes | None]:
    try:
        async for chunk in body:
            if not chunk:
                continue
            for event in parser.parse(chunk):
                yield event
        for event in parser.parse(b""):  # end of input: an incomplete form is an error here
            yield event
    except MultipartError as exc:
        raise _refuse(f"The multipart body cannot be read: {exc}.") from exc
