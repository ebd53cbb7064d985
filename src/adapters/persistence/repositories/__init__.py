"""SQLAlchemy repositories: one module per aggregate, each mapping ORM rows to domain objects.

The domain never sees an ORM class. Each repository takes the request's ``AsyncSession`` and
nothing else, so the container binds them all to the same transaction.
"""

from adapters.persistence.repositories.chatbots import SqlAlchemyChatbotRepository
from adapters.persistence.repositories.conversations import SqlAlchemyConversationRepository
from adapters.persistence.repositories.creators import SqlAlchemyCreatorRepository
from adapters.persistence.repositories.sources import SqlAlchemySourceRepository
from adapters.persistence.repositories.users import SqlAlchemyUserRepository

__all__ = [
    "SqlAlchemyChatbotRepository",
    "SqlAlchemyConversationRepository",
    "SqlAlchemyCreatorRepository",
    "SqlAlchemySourceRepository",
    "SqlAlchemyUserRepository",
]
