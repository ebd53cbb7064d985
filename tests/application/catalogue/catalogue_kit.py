"""Kit for the catalogue and ingestion use-case tests: one "request" (repositories, ingestion
store and every use case bound to one session) over the in-memory fakes or a SQL database, a
role resolver reading members from the repositories, and recording audit log and job queue.

(A plain module with a unique name: an installed SDK ships a top-level ``tests`` package.)
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters.blobs.memory import InMemoryBlobStore
from adapters.embedding.lexical import LexicalEmbedder
from adapters.memory.ingestion import InMemoryIngestionData, InMemoryIngestionStore
from adapters.persistence.repositories.ingestion import SqlAlchemyIngestionStore
from adapters.vectors.memory_index import InMemoryVectorIndex
from application.catalogue.blobs import BlobStore
from application.catalogue.change_source_shares import ChangeSourceShares
from application.catalogue.create_creator import CreateCreator
from application.catalogue.create_source import CreateSource
from application.catalogue.get_creator import GetCreator
from application.catalogue.get_source import GetSource
from application.catalogue.get_source_file import GetSourceFile
from application.catalogue.list_creator_sources import ListCreatorSources
from application.catalogue.list_my_creators import ListMyCreators
from application.catalogue.manage_creator_members import ManageCreatorMember
from application.catalogue.retry_source_file import RetrySourceFile
from application.catalogue.update_creator_profile import UpdateCreatorProfile
from application.catalogue.upload_source_file import UploadPolicy, UploadSourceFile
from application.identity.authorizer import MatrixAuthorizer
from application.identity.permissions import ResourceKind, Role
from application.identity.principal import Principal, PrincipalKind, Resource
from application.ingestion.ingest_file import IngestFile, IngestionPolicy
from application.ingestion.reading import DocumentReader
from application.ports.jobs import Job
from application.retrieval.ports import Embedder, VectorIndex
from domain.catalogue import User
from domain.ids import new_id

_MEMBER = {"OWNER": Role.CREATOR_OWNER, "ADMIN": Role.CREATOR_ADMIN, "MEMBER": Role.CREATOR_MEMBER}


def load_harness() -> ModuleType:
    name = "repository_harness"
    if name not in sys.modules:
        path = Path(__file__).parents[2] / "contracts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class CatalogueRoleResolver:
    """Creator and source roles from the repositories, as the SQL resolver derives them."""

    def __init__(self, repos: Any) -> None:
        self._r = repos

    async def _members(self, principal: Principal, creator_ids: Sequence[str]) -> set[Role]:
        if principal.kind is PrincipalKind.API_KEY:
            return {Role.CREATOR_OWNER} if principal.creator_id in creator_ids else set()
        if principal.kind is not PrincipalKind.USER:
            return set()
        roles: set[Role] = set()
        for creator_id in creator_ids:
            creator = await self._r.creators.get(creator_id)
            role = creator.members.role_of(principal.user_id) if creator else None
            if role is not None:
                roles.add(_MEMBER[role.value])
        return roles

    async def roles_on(self, principal: Principal, resource: Resource) -> frozenset[Role] | None:
        assert resource.id is not None
        people = {PrincipalKind.USER: {Role.AUTHENTICATED}, PrincipalKind.ANONYMOUS: {Role.ANONYMOUS}}
        if resource.kind is ResourceKind.CREATOR:
            if await self._r.creators.get(resource.id) is None:
                return None
            return frozenset(
                people.get(principal.kind, set()) | await self._members(principal, [resource.id])
            )
        if resource.kind is ResourceKind.SOURCE:
            source = await self._r.sources.get(resource.id)
            if source is None:
                return None
            return frozenset(await self._members(principal, source.creator_ids))
        return frozenset()


@dataclass
class RecordingAudit:
    entries: list[dict[str, Any]] = field(default_factory=list)

    async def record(
        self,
        actor: Principal,
        action: str,
        *,
        subject_type: str,
        subject_id: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self.entries.append(
            {"action": action, "subject": (subject_type, subject_id), "before": before, "after": after}
        )


@dataclass
class RecordingJobs:
    jobs: list[Job] = field(default_factory=list)

    async def enqueue(self, job: Job) -> None:
        self.jobs.append(job)


@dataclass
class SteppingClock:
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 1, tzinfo=UTC))

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@dataclass
class Unit:
    """One request: repositories, ingestion store and use cases on one session."""

    repos: Any
    records: Any
    world: World

    def __post_init__(self) -> None:
        r, w = self.repos, self.world
        auth = MatrixAuthorizer(CatalogueRoleResolver(r))
        self.create_creator = CreateCreator(auth, r.creators, w.audit, r.uow)
        self.get_creator = GetCreator(auth, r.creators)
        self.my_creators = ListMyCreators(r.creators)
        self.update_profile = UpdateCreatorProfile(auth, r.creators, r.uow)
        self.members = ManageCreatorMember(auth, r.creators, r.users, w.audit, r.uow)
        self.create_source = CreateSource(auth, r.sources, w.clock, r.uow)
        self.get_source = GetSource(auth, r.sources)
        self.list_sources = ListCreatorSources(auth, r.sources)
        self.change_shares = ChangeSourceShares(auth, r.sources, w.audit, w.clock, r.uow)
        self.upload = UploadSourceFile(auth, r.sources, self.records, w.blobs, w.jobs, r.uow, w.upload_policy)
        self.get_file = GetSourceFile(auth, r.sources, self.records)
        self.retry = RetrySourceFile(auth, r.sources, w.jobs, r.uow)
        self.ingest = IngestFile(
            r.sources, self.records, w.blobs, w.reader, w.embedder, w.index, w.clock, r.uow, w.policy
        )


@dataclass
class World:
    backend: Any
    reader: DocumentReader
    blobs: BlobStore = field(default_factory=InMemoryBlobStore)
    index: VectorIndex = field(default_factory=InMemoryVectorIndex)
    embedder: Embedder = field(default_factory=LexicalEmbedder)
    audit: RecordingAudit = field(default_factory=RecordingAudit)
    jobs: RecordingJobs = field(default_factory=RecordingJobs)
    clock: SteppingClock = field(default_factory=SteppingClock)
    upload_policy: UploadPolicy = field(default_factory=lambda: UploadPolicy(max_bytes=1_000_000))
    policy: IngestionPolicy = field(default_factory=IngestionPolicy)
    data: InMemoryIngestionData = field(default_factory=InMemoryIngestionData)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        async with self.backend.unit() as repos:
            session = getattr(repos.uow, "_session", None)
            if hasattr(self.backend, "store"):
                records: Any = InMemoryIngestionStore(session, self.data)  # type: ignore[arg-type]
            else:
                records = SqlAlchemyIngestionStore(session)  # type: ignore[arg-type]
            yield Unit(repos, records, self)

    async def add_user(self, name: str) -> Principal:
        user = User(id=new_id(), external_id=f"ext-{name}-{new_id()}", email=f"{name}@example.com")
        async with self.backend.unit() as repos:
            await repos.users.add(user)
            await repos.uow.commit()
        return Principal.user(user.id)


async def stream_of(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class ParagraphReader:
    """A stand-in reader for text files: one segment per paragraph (the real extractors have
    their own tests; these use cases only need a reader that behaves like one)."""

    def __init__(self) -> None:
        self.calls = 0

    async def read(self, data: bytes, *, media_type: str, file_name: str) -> Any:
        from application.ingestion.reading import UnreadableFile
        from domain.text.document import ExtractedDocument, Segment

        self.calls += 1
        if not media_type.startswith("text/"):
            raise UnreadableFile(f"This reader cannot read {media_type}.")
        text = data.decode("utf-8")
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        return ExtractedDocument(media_type=media_type, segments=tuple(Segment(text=p) for p in paragraphs))
