import copy
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalogue import (
    FILE_TRANSITIONS,
    Creator,
    FileStatus,
    Source,
    SourceFile,
    SourceType,
    User,
    check_url,
    normalize_isbn,
)
from domain.errors import IllegalTransition, InvalidValue
from domain.roles import CreatorMembers
from domain.shares import ShareSet
from domain.slug import Slug

F = FileStatus


def a_file(**kw: object) -> SourceFile:
    fields: dict = {
        "id": "f1",
        "owner_user_id": "u1",
        "file_name": "purple-cow.pdf",
        "mime_type": "application/pdf",
        "size_bytes": 1024,
        "storage_key": "blobs/f1",
        "source_id": "s1",
        "creator_id": "c1",
    }
    return SourceFile(**{**fields, **kw})


def test_user() -> None:
    u = User(id="u1", external_id="user_2abc", email="ana@example.com", first_name="Ana", last_name="Lee")
    assert u.display_name == "Ana Lee"
    assert User(id="u", external_id="x", email="bo@example.com", username="bo").display_name == "bo"
    assert User(id="u", external_id="x", email="cy@example.com").display_name == "cy"
    for bad in (
        {"email": "nope"},
        {"email": "a@b"},
        {"email": "a b@c.d"},
        {"external_id": " "},
        {"phone": ""},
    ):
        with pytest.raises(InvalidValue):
            User(**{"id": "u", "external_id": "x", "email": "ok@example.com", **bad})  # type: ignore[arg-type]


def test_creator() -> None:
    base = {"id": "c", "name": "N", "slug": Slug("nn"), "members": CreatorMembers.founded_by("u")}
    c = Creator(
        id="c1",
        name="Seth Godin",
        slug=Slug("seth-godin"),
        members=CreatorMembers.founded_by("u1"),
        avatar_url="https://example.com/a.png",
        social_links={"website": "https://seths.blog"},
    )
    assert c.social_links == {"website": "https://seths.blog"}
    assert copy.deepcopy(c) == c
    for bad in (
        {"name": ""},
        {"slug": "seth"},
        {"members": {"u1": "OWNER"}},
        {"avatar_url": "ftp://x"},
        {"social_links": {"x": "not a url"}},
        {"social_links": {"": "https://x.com"}},
    ):
        with pytest.raises(InvalidValue):
            Creator(**{**base, **bad})  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["https://example.com", "http://a.b/c?d=e"])
def test_good_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["example.com", "javascript:alert(1)", "https://", "https://a b.com", None])
def test_bad_urls(url: object) -> None:
    with pytest.raises(InvalidValue) as err:
        check_url(url)  # type: ignore[arg-type]
    assert err.value.code == "invalid-url"


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("978-0-306-40615-7", "9780306406157"),
        ("0-306-40615-2", "0306406152"),
        ("0-8044-2957-x", "080442957X"),
    ],
)
def test_isbn_checksums(text: str, normal: str) -> None:
    assert normalize_isbn(text) == normal


@pytest.mark.parametrize("text", ["978-0-306-40615-8", "0-306-40615-3", "12345", "", None, "979X123456789"])
def test_bad_isbns(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        normalize_isbn(text)  # type: ignore[arg-type]
    assert err.value.code == "invalid-isbn"


@given(st.lists(st.integers(0, 9), min_size=12, max_size=12))
def test_every_isbn13_with_the_right_check_digit_is_accepted(digits: list[int]) -> None:
    body = [9, 7, 8, *digits[3:]]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    isbn = "".join(map(str, [*body, check]))
    assert normalize_isbn(isbn) == isbn
    wrong = "".join(map(str, [*body, (check + 1) % 10]))
    with pytest.raises(InvalidValue):
        normalize_isbn(wrong)


def test_source() -> None:
    s = Source(
        id="s1",
        title="Purple Cow",
        type=SourceType.BOOK,
        created_by="u1",
        shares=ShareSet.sole("c1"),
        isbn="978 0 306 40615 7",
        url="https://example.com/purple-cow",
        publication_date=date(2003, 5, 1),
        metadata={"pages": 160},
    )
    assert s.isbn == "9780306406157"
    assert s.creator_ids == ("c1",)
    s.set_shares(ShareSet.of({"c1": "0.6", "c2": "0.4"}))
    assert s.creator_ids == ("c1", "c2")
    assert copy.deepcopy(s) == s
    with pytest.raises(InvalidValue):
        s.set_shares({"c1": 1})  # type: ignore[arg-type]
    base = {
        "id": "s",
        "title": "T",
        "type": SourceType.ARTICLE,
        "created_by": "u",
        "shares": ShareSet.sole("c"),
    }
    for bad in (
        {"title": ""},
        {"type": "BOOK"},
        {"shares": None},
        {"publication_date": "2003"},
        {"url": "x"},
        {"author": ""},
    ):
        with pytest.raises(InvalidValue):
            Source(**{**base, **bad})  # type: ignore[arg-type]


_ACTIONS = {
    F.PROCESSING: lambda f: f.start_processing(),
    F.READY: lambda f: f.mark_ready(),
    F.FAILED: lambda f: f.mark_failed("  unreadable PDF "),
    F.PENDING: lambda f: f.retry(),
}


@given(st.lists(st.sampled_from(list(FileStatus)), max_size=20))
def test_file_moves_only_along_legal_edges(targets: list[FileStatus]) -> None:
    f = a_file()
    for target in targets:
        before = f.status
        if target in FILE_TRANSITIONS[before]:
            _ACTIONS[target](f)
            assert f.status is target
        else:
            snapshot = copy.copy(f)
            with pytest.raises(IllegalTransition):
                _ACTIONS[target](f)
            assert f == snapshot
        assert (f.status is F.FAILED) == (f.failure_reason == "unreadable PDF")


def test_replacement_and_inactive_files() -> None:
    f = a_file()
    f.replace_with("f2")
    assert (f.is_active, f.replaced_by_file_id) == (False, "f2")
    with pytest.raises(IllegalTransition):
        f.replace_with("f3")
    with pytest.raises(IllegalTransition):
        f.start_processing()
    g = a_file(status=F.PROCESSING)
    g.deactivate()
    g.mark_ready()  # work already under way may finish
    with pytest.raises(IllegalTransition):
        g.retry()
    with pytest.raises(InvalidValue):
        a_file().replace_with("f1")
    with pytest.raises(InvalidValue):
        a_file().mark_failed(" ")


@pytest.mark.parametrize(
    "bad",
    [
        {"size_bytes": -1},
        {"size_bytes": 1.0},
        {"file_name": ""},
        {"status": "READY"},
        {"status": F.FAILED},
        {"failure_reason": "x"},
        {"replaced_by_file_id": "f2"},
        {"replaced_by_file_id": "f1", "is_active": False},
    ],
)
def test_file_reconstruction_checks(bad: dict) -> None:
    with pytest.raises(InvalidValue):
        a_file(**bad)
