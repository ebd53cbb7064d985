"""HTML, Markdown, plain text, SRT and WebVTT."""

from types import ModuleType

import pytest

from adapters.extraction.registry import ExtractorRegistry
from application.ingestion.ports import ExtractionError
from domain.text.chunking import ChunkingPolicy, chunk_segments


def _rows(document: object) -> list[tuple[str, str | None, str | None, bool]]:
    return [(s.text, s.chapter, s.section, s.is_heading) for s in document.segments]  # type: ignore[attr-defined]


def test_html_headings_blocks_and_no_scripts(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.HTML.encode(), file_name="page.html", declared_mime="text/html")
    assert document.title == "On Fair Pay"
    assert _rows(document) == [
        ("An opening paragraph before any heading.", "On Fair Pay", None, False),
        ("Chapter One: Value", "Chapter One: Value", None, True),
        ("Creators make things worth paying for. Every word counts.", "Chapter One: Value", None, False),
        ("Measuring", "Chapter One: Value", "Measuring", True),
        ("Tokens are counted.", "Chapter One: Value", "Measuring", False),
        ("Sources are cited.", "Chapter One: Value", "Measuring", False),
        ("Plan Price", "Chapter One: Value", "Measuring", False),
        ("Basic $5", "Chapter One: Value", "Measuring", False),
        ("Edge cases", "Chapter One: Value", "Edge cases", True),
        ("Loose text in a div", "Chapter One: Value", "Edge cases", False),
        ("and a nested paragraph.", "Chapter One: Value", "Edge cases", False),
    ]
    text = " ".join(s.text for s in document.segments)
    for hidden in ("tracking", "color", "Home", "JavaScript", "comment"):
        assert hidden not in text


def test_html_in_a_declared_legacy_encoding(registry: ExtractorRegistry) -> None:
    page = (
        '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Café</title></head>'
        "<body><p>Crème brûlée.</p></body></html>"
    )
    document = registry.extract(page.encode("cp1252"), file_name="p.html", declared_mime=None)
    assert document.title == "Café"
    assert document.segments[0].text == "Crème brûlée."


def test_deeply_nested_html_does_not_exhaust_the_stack(registry: ExtractorRegistry) -> None:
    page = b"<html><body>" + b"<div><span>" * 5000 + b"deep" + b"</span></div>" * 5000 + b"</body></html>"
    document = registry.extract(page, file_name="p.html", declared_mime=None)
    assert [s.text for s in document.segments] == ["deep"]


def test_html_with_only_scripts_has_no_text(registry: ExtractorRegistry) -> None:
    with pytest.raises(ExtractionError) as caught:
        registry.extract(
            b"<html><body><script>x()</script></body></html>", file_name="p.html", declared_mime=None
        )
    assert caught.value.code == "no-extractable-text"


def test_markdown_headings_lists_code_and_front_matter(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.MARKDOWN.encode(), file_name="craft.md", declared_mime=None)
    assert document.media_type == "text/markdown"
    assert document.title == "Notes on Craft"
    assert _rows(document) == [
        ("Part One", "Part One", None, True),
        ("Drafting", "Part One", "Drafting", True),
        ("Write the first draft fast. Revise it slowly.", "Part One", "Drafting", False),
        ("Editing", "Part One", "Editing", True),
        ("Cut what does not serve.", "Part One", "Editing", False),
        ("Read it aloud.", "Part One", "Editing", False),
        ("# a comment inside code, not a heading", "Part One", "Editing", False),
        ("Closing Thoughts", "Part One", "Closing Thoughts", True),
        ("Keep going.", "Part One", "Closing Thoughts", False),
    ]


def test_markdown_chunks_never_mix_sections(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.MARKDOWN.encode(), file_name="craft.md", declared_mime=None)
    chunks = chunk_segments(document.segments, file_id="f", policy=ChunkingPolicy(target_tokens=400))
    assert [(c.chapter, c.section) for c in chunks] == [
        ("Part One", "Drafting"),
        ("Part One", "Editing"),
        ("Part One", "Closing Thoughts"),
    ]
    assert chunks[0].text.startswith("Part One\n\nDrafting\n\nWrite the first draft")


def test_plain_text_paragraphs_and_heading_lines(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.PLAIN.encode(), file_name="1984.txt", declared_mime="text/plain")
    assert _rows(document) == [
        ("CHAPTER I.", "CHAPTER I.", None, True),
        (
            "It was a bright cold day in April, and the clocks were striking thirteen.",
            "CHAPTER I.",
            None,
            False,
        ),
        ("THE MINISTRY", "CHAPTER I.", "THE MINISTRY", True),
        ("Winston made for the stairs.", "CHAPTER I.", "THE MINISTRY", False),
    ]


def test_plain_text_is_normalised(registry: ExtractorRegistry) -> None:
    data = "\ufeffCafe\u0301 au\u00a0lait,\r\nsoft\u00adhyphen and zero\u200bwidth.".encode()
    (segment,) = registry.extract(data, file_name="n.txt", declared_mime=None).segments
    assert segment.text == "Café au lait, softhyphen and zerowidth."


def test_utf16_text_is_read(registry: ExtractorRegistry) -> None:
    (segment,) = registry.extract(
        "Grüße aus Köln.".encode("utf-16"), file_name="n.txt", declared_mime=None
    ).segments
    assert segment.text == "Grüße aus Köln."


def test_srt_cues_merge_into_timed_passages(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.SRT.encode(), file_name="ep.srt", declared_mime=None)
    assert document.media_type == "application/x-subrip"
    assert document.duration_seconds == 24.5
    assert [(s.text, s.start_seconds, s.end_seconds, s.page) for s in document.segments] == [
        ("Welcome to the show. Today we talk about pricing your work.", 1.0, 6.0, None),
        ("After the break: why creators deserve fair pay.", 20.0, 24.5, None),  # a pause ends a passage
    ]


def test_vtt_speakers_rolling_captions_and_hours(registry: ExtractorRegistry, docs: ModuleType) -> None:
    document = registry.extract(docs.VTT.encode(), file_name="ep.vtt", declared_mime="text/vtt")
    assert [(s.text, s.start_seconds, s.end_seconds) for s in document.segments] == [
        ("Host: Hello and welcome back. Today a guest joins us.", 0.5, 4.0),
        ("Guest: Thanks for having me.", 4.5, 7.25),
        ("Host: An hour later, we wrap up.", 3600.0, 3603.0),
    ]


def test_transcript_chunks_carry_time_ranges(registry: ExtractorRegistry) -> None:
    cues = "\n".join(
        f"{i + 1}\n00:00:{i:02d},000 --> 00:00:{i:02d},900\nSentence {i} of the talk.\n" for i in range(60)
    )
    document = registry.extract(cues.encode(), file_name="talk.srt", declared_mime=None)
    chunks = chunk_segments(
        document.segments, file_id="f", policy=ChunkingPolicy(target_tokens=80, overlap_tokens=10)
    )
    assert len(chunks) > 3
    assert chunks[0].start_seconds == 0.0
    assert chunks[-1].end_seconds == 59.9
    for chunk in chunks:
        assert chunk.start_seconds is not None
        assert chunk.end_seconds is not None
        assert chunk.start_seconds < chunk.end_seconds


def test_malformed_cues_are_skipped_and_none_left_is_no_text(registry: ExtractorRegistry) -> None:
    data = (
        b"1\n00:00:01,000 --> 00:00:02,000\nGood cue.\n\n"
        b"2\n00:00:09,000 --> 00:00:03,000\nEnds before it starts.\n"
    )
    assert [s.text for s in registry.extract(data, file_name="a.srt", declared_mime=None).segments] == [
        "Good cue."
    ]
    with pytest.raises(ExtractionError) as caught:
        registry.extract(b"WEBVTT\n\nNOTE nothing but notes\n", file_name="a.vtt", declared_mime=None)
    assert caught.value.code == "no-extractable-text"
