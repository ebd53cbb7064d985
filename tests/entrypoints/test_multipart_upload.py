"""Streaming multipart parsing for uploads: any chunking gives the same file; bad forms are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.errors import InvalidInput
from entrypoints.http.multipart_upload import first_file_part, is_multipart

BOUNDARY = "----canonBoundary7MA4YWxkTrZu0gW"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts: tuple[str, str | None, str | None, bytes]) -> bytes:
    """(field name, filename, content type, payload) parts, encoded as a browser would."""
    out = b""
    for name, filename, ctype, payload in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + payload + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def chunked(data: bytes, cuts: Sequence[int]) -> AsyncIterator[bytes]:
    last = 0
    for cut in sorted({c for c in cuts if 0 < c < len(data)}):
        yield data[last:cut]
        last = cut
    yield data[last:]


async def read(
    data: bytes, cuts: Sequence[int] = (), ctype: str = CTYPE
) -> tuple[str | None, str | None, bytes]:
    part = await first_file_part(chunked(data, cuts), ctype)
    content = b"".join([c async for c in part.content])
    return part.file_name, part.content_type, content


@settings(max_examples=150, deadline=None)
@given(
    payload=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=3500), max_size=12),
)
async def test_any_chunking_of_the_body_gives_the_same_file(payload: bytes, cuts: list[int]) -> None:
    # the payload may even contain CRLFs and dashes that look like a boundary's start
    body = form(("note", None, None, b"hello"), ("file", "book.md", "text/markdown", payload))
    assert await read(body, cuts) == ("book.md", "text/markdown", payload)


async def test_a_file_name_field_names_a_part_without_one_and_later_parts_are_not_read() -> None:
    body = form(
        ("file_name", None, None, b" notes.txt "),
        ("file", "", "text/plain", b"first"),
        ("file", "second.txt", "text/plain", b"second"),
    )
    assert await read(body) == ("notes.txt", "text/plain", b"first")
    assert is_multipart("Multipart/Form-Data; boundary=x")
    assert not is_multipart("text/plain")
    assert not is_multipart(None)


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (form(("file", "a.txt", "text/plain", b"x")), "multipart/form-data", "boundary"),
        (form(("note", None, None, b"no file here")), CTYPE, "no file part"),
        (form(("note", None, None, b"x" * 2000), ("file", "a.txt", None, b"x")), CTYPE, "longer than"),
        (b"this is not a form at all", CTYPE, "cannot be read"),
    ],
)
async def test_bad_forms_are_refused_clearly(body: bytes, ctype: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await read(body, ctype=ctype)
    assert refused.value.code == "invalid-multipart"
    assert message in refused.value.message


async def test_a_form_cut_off_inside_the_file_is_refused_while_streaming() -> None:
    body = form(("file", "a.txt", "text/plain", b"0123456789" * 100))
    part = await first_file_part(chunked(body[:500], [100, 300]), CTYPE)
    with pytest.raises(InvalidInput) as refused:
        async for _ in part.content:
            pass
    assert refused.value.code == "invalid-multipart"
