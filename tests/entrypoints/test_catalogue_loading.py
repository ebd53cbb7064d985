"""ingest_directory (what the demo loads Canon's own docs with) through the app's container on
a SQLite file: every file becomes a READY source of one creator, and running it again changes
only what changed."""

from __future__ import annotations

from pathlib import Path

from adapters.persistence.migrate import upgrade
from application.catalogue.ports import UserRepository
from application.identity.principal import Principal
from application.ports.uow import UnitOfWork
from domain.catalogue import FileStatus, User
from domain.ids import new_id
from entrypoints.catalogue_loading import ingest_directory
from entrypoints.di import build_container
from entrypoints.settings import load_settings


async def test_a_directory_becomes_one_creators_sources_idempotently(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("alpha", "beta", "gamma"):
        (docs / f"{name}.md").write_text(
            f"# {name}\n\n" + f"The {name} document explains one thing well. " * 40
        )
    (docs / "ignored.txt").write_text("not markdown")
    settings = load_settings({}, data_dir=tmp_path / "data", vector_backend="memory", log_format="console")
    settings.data_dir.mkdir(parents=True)
    await upgrade(settings.effective_database_url)
    container = build_container(settings)
    try:
        user = User(id=new_id(), external_id="local|demo@example.com", email="demo@example.com")
        async with container() as request:
            users: UserRepository = await request.get(UserRepository)
            await users.add(user)
            uow: UnitOfWork = await request.get(UnitOfWork)
            await uow.commit()
        me = Principal.user(user.id)

        first = await ingest_directory(container, principal=me, creator_name="Canon Docs", directory=docs)
        assert [f.path.name for f in first] == ["alpha.md", "beta.md", "gamma.md"]
        assert all(f.report is not None and f.report.status is FileStatus.READY for f in first)
        assert all(f.report.chunk_count > 0 for f in first if f.report)

        again = await ingest_directory(container, principal=me, creator_name="Canon Docs", directory=docs)
        assert [f.file_id for f in again] == [None, None, None]
        assert [f.source_id for f in again] == [f.source_id for f in first]

        (docs / "beta.md").write_text("# beta\n\n" + "The beta document, revised and clearer. " * 40)
        third = await ingest_directory(container, principal=me, creator_name="Canon Docs", directory=docs)
        changed = [f for f in third if f.file_id is not None]
        assert [f.path.name for f in changed] == ["beta.md"]
        assert changed[0].report is not None
        assert changed[0].report.retired_file_ids == [first[1].file_id]
    finally:
        await container.close()
