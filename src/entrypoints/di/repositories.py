"""The foundation repositories, each bound to the request's one AsyncSession."""

from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.persistence.repositories.chatbots import SqlAlchemyChatbotRepository
from adapters.persistence.repositories.conversations import SqlAlchemyConversationRepository
from adapters.persistence.repositories.creators import SqlAlchemyCreatorRepository
from adapters.persistence.repositories.sources import SqlAlchemySourceRepository
from adapters.persistence.repositories.users import SqlAlchemyUserRepository
from application.catalogue.ports import CreatorRepository, SourceRepository, UserRepository
from application.chatbots.ports import ChatbotRepository
from application.conversations.ports import ConversationRepository


class RepositoryProvider(Provider):
    scope = Scope.REQUEST
    users = provide(SqlAlchemyUserRepository, provides=UserRepository)
    creators = provide(SqlAlchemyCreatorRepository, provides=CreatorRepository)
    sources = provide(SqlAlchemySourceRepository, provides=SourceRepository)
    chatbots = provide(SqlAlchemyChatbotRepository, provides=ChatbotRepository)
    conversations = provide(SqlAlchemyConversationRepository, provides=ConversationRepository)
