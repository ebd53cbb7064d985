import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text.sentences import split_sentences

_WS = re.compile(r"\s+")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Dr. Smith met Mr. Jones.", ["Dr. Smith met Mr. Jones."]),
        ("See e.g. the index. Then stop.", ["See e.g. the index.", "Then stop."]),
        ("J. R. R. Tolkien wrote it. Really.", ["J. R. R. Tolkien wrote it.", "Really."]),
        ('He said "Go." She went.', ['He said "Go."', "She went."]),
        ("Prices rose 3.5 percent in 2019. Then fell.", ["Prices rose 3.5 percent in 2019.", "Then fell."]),
        ("Wait… what? Yes.", ["Wait… what?", "Yes."]),  # lower case goes on the sentence
        ("你好。再见。", ["你好。", "再见。"]),
        ("  \n ", []),
        ("No terminator at all", ["No terminator at all"]),
    ],
)
def test_examples(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@given(st.text(max_size=400))
def test_nothing_is_lost_and_nothing_is_blank(text: str) -> None:
    sentences = split_sentences(text)
    assert _WS.sub("", "".join(sentences)) == _WS.sub("", text)
    assert all(s and s == s.strip() for s in sentences)
    assert split_sentences(text) == sentences
