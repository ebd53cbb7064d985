"""What readers see while a source's file is being replaced: only the current file's chunks,
never a half-ingested file and never both versions (SearchableFilesIndex over the in-memory
index and the in-memory ingestion store)."""

from __future__ import annotations

import pytest
from catalogue_kit import World, stream_of

from application.catalogue.create_creator import CreateCreatorCommand
from application.catalogue.create_source import CreateSourceCommand
from application.catalogue.upload_source_file import UploadSourceFileCommand
from application.errors import InvalidInput
from application.ingestion.ingest_file import IngestFileCommand
from application.ingestion.visible_index import SearchableFilesIndex
from application.retrieval.ports import IndexedChunk, VectorLayout
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
            index = SearchableFilesIndex(world.index, u.records)
            query = await world.embedder.embed_query(question)
            return {hit.file_id for hit in await index.search(query, source_ids=[source.id], top_k=8)}

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


async def test_the_wrapper_checks_its_arguments_and_passes_writes_through(world: World) -> None:
    async with world.unit() as u:
        index = SearchableFilesIndex(world.index, u.records)
        await index.ensure_collection(VectorLayout.of(world.embedder))
        query = await world.embedder.embed_query("anything")
        assert await index.search(query, source_ids=[], top_k=3) == []
        with pytest.raises(InvalidInput):
            await index.search(query, source_ids="abc", top_k=3)
        with pytest.raises(InvalidInput):
            await index.search(query, source_ids=["s"], top_k=0)
        embedding = (await world.embedder.embed_documents(["words here"]))[0]
        await index.upsert(
            [
                IndexedChunk(
                    chunk_id="c1",
                    source_id="s",
                    file_id="f",
                    text="words here",
                    token_count=2,
                    embedding=embedding,
                )
            ]
        )
        assert await index.count(file_id="f") == 1
        assert await index.search(query, source_ids=["s"], top_k=3) == []  # file "f" is not READY
        await index.delete_file("f")
        assert await index.count() == 0
