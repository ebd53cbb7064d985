"""Catalogue and ingestion: blob store, ingestion store, document reader and the use cases."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession

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
from application.ingestion.ingest_file import IngestFile, IngestionPolicy
from application.ingestion.reading import DocumentReader
from application.ingestion.store import IngestionStore
from entrypoints.settings import Settings


class CatalogueProvider(Provider):
    @provide(scope=Scope.APP)
    def blob_store(self, settings: Settings) -> BlobStore:
        if settings.blob_backend == "s3":
            from adapters.blobs.s3 import S3BlobStore

            return S3BlobStore(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url or None,
                region=settings.s3_region or None,
            )
        from adapters.blobs.local import LocalBlobStore

        return LocalBlobStore(settings.data_dir / "blobs")

    @provide(scope=Scope.APP)
    def upload_policy(self, settings: Settings) -> UploadPolicy:
        return UploadPolicy(max_bytes=settings.max_upload_bytes)

    @provide(scope=Scope.APP)
    def ingestion_policy(self) -> IngestionPolicy:
        return IngestionPolicy()

    @provide(scope=Scope.APP)
    def document_reader(self) -> DocumentReader:
        from adapters.extraction.reader import ExtractingDocumentReader

        return ExtractingDocumentReader()

    @provide(scope=Scope.REQUEST)
    def ingestion_store(self, session: AsyncSession) -> IngestionStore:
        from adapters.persistence.repositories.ingestion import SqlAlchemyIngestionStore

        return SqlAlchemyIngestionStore(session)

    create_creator = provide(CreateCreator, scope=Scope.REQUEST)
    get_creator = provide(GetCreator, scope=Scope.REQUEST)
    list_my_creators = provide(ListMyCreators, scope=Scope.REQUEST)
    update_creator_profile = provide(UpdateCreatorProfile, scope=Scope.REQUEST)
    manage_creator_member = provide(ManageCreatorMember, scope=Scope.REQUEST)
    create_source = provide(CreateSource, scope=Scope.REQUEST)
    get_source = provide(GetSource, scope=Scope.REQUEST)
    list_creator_sources = provide(ListCreatorSources, scope=Scope.REQUEST)
    change_source_shares = provide(ChangeSourceShares, scope=Scope.REQUEST)
    upload_source_file = provide(UploadSourceFile, scope=Scope.REQUEST)
    get_source_file = provide(GetSourceFile, scope=Scope.REQUEST)
    retry_source_file = provide(RetrySourceFile, scope=Scope.REQUEST)
    ingest_file = provide(IngestFile, scope=Scope.REQUEST)
