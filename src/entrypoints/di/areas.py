"""Providers of the feature areas, in one list so each area adds exactly one line."""

from __future__ import annotations

from dishka import Provider


def area_providers() -> list[Provider]:
    from dishka.integrations.litestar import LitestarProvider

    from entrypoints.di.identity import IdentityProvider
    from entrypoints.di.repositories import RepositoryProvider

    providers: list[Provider] = [LitestarProvider(), RepositoryProvider(), IdentityProvider()]
    from entrypoints.di.chatbots import ChatbotsProvider

    providers.append(ChatbotsProvider())
    from entrypoints.di.catalogue import CatalogueProvider
    from entrypoints.di.retrieval import RetrievalProvider

    providers += [CatalogueProvider(), RetrievalProvider()]
    from entrypoints.di.chat import ChatProvider

    providers.append(ChatProvider())
    from entrypoints.di.money import MoneyProvider

    providers.append(MoneyProvider())
    return providers
