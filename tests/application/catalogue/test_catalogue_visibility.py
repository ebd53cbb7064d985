"""What readers see while a source's file is being replaced: only the current file's chunks,
never a half-ingested file and never both versions (the visibility filter over the in-memory
index and the in-memory ingestion store)."""

from __future__ import annotations

import pytest
from catalogue_kit import World, stream_of

from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.create_source import CreateSourceCommand
from application.catalogue.upload_source_file import UploadSourceFileCommand
from application.errors import InvalidInput
from application.ingestion.ingest_file import IngestFileCommand
from application.ingestion.visible_index import search_width, visible_hits
from application.retrieval.ports import MAX_TOP_K, IndexedChunk, SearchHit
from domain.catalogue import SourceType
from domain.text.chunking import chunk_id

OLD = "\n\n".join(f"The purple cow grazes in meadow {i} and is remarkable." for i in range(30)).encode()
NEW = OLD.replace(b"purple", b"violet")


async def test_readers_see_one_whole_version_at_every_moment(world: World) -> None:
    ana = await world.add_user("ana")
    async with world.unit() as u:
        creator = await u.create_creator(CreateCreatorCommand(principal=ana, name="Ana Author"))
        source = await u.create_source(
            CreateSourceCommand(principal=ana, creator_id=creator.id, title="Cow", type=SourceType.BOOK)
        )

    async def upload(data: bytes) -> str:
        async with world.unit() as u:
            uploaded = await u.upload(
                UploadSourceFileCommand(
                    principal=ana, source_id=source.id, file_name="cow.md", content=stream_of(data)
                )
            )
        return uploaded.file.id

    async def visible_files(question: str) -> set[str]:
        async with world.unit() as u:
            query = await world.embedder.embed_query(question)
            found = await world.index.search(query, source_ids=[source.id], top_k=search_width(8))
            searchable = await u.records.searchable_file_ids([source.id])
            return {hit.file_id for hit in visible_hits(found, searchable, 8)}

    old_id = await upload(OLD)
    async with world.unit() as u:
        await u.ingest(IngestFileCommand(file_id=old_id))
    assert await visible_files("cow meadow remarkable") == {old_id}

    # the new version's vectors are in the index, its file not READY yet (mid-ingestion)
    new_id = await upload(NEW)
    embedding = (await world.embedder.embed_documents(["The violet cow grazes in meadow 1."]))[0]
    await world.index.upsert(
        [
            IndexedChunk(
                chunk_id=chunk_id(new_id, 0),
                source_id=source.id,
                file_id=new_id,
                text="The violet cow grazes in meadow 1.",
                token_count=8,
                embedding=embedding,
            )
        ]
    )
    raw = await world.index.search(
        await world.embedder.embed_query("cow meadow"), source_ids=[source.id], top_k=50
    )
    assert {h.file_id for h in raw} == {old_id, new_id}  # the raw index holds both...
    assert await visible_files("violet cow meadow") == {old_id}  # ...readers see the current one only

    async with world.unit() as u:
        await u.ingest(IngestFileCommand(file_id=new_id))
    assert await visible_files("cow meadow remarkable") == {new_id}


def test_the_filter_over_fetches_and_keeps_rank_order() -> None:
    assert search_width(4) == 8
    assert search_width(MAX_TOP_K) == MAX_TOP_K  # never past what every index accepts
    with pytest.raises(InvalidInput):
        search_width(0)
    hits = [
        SearchHit(
            chunk_id=f"c{n}", source_id="s", file_id=file_id, text="t", token_count=1, score=1.0 - n / 10
        )
        for n, file_id in enumerate(["old", "new", "old", "new", "old"])
    ]
    assert [h.chunk_id for h in visible_hits(hits, {"new"}, 8)] == ["c1", "c3"]
    assert [h.chunk_id for h in visible_hits(hits, {"old", "new"}, 2)] == ["c0", "c1"]
    assert visible_hits(hits, set(), 8) == []
