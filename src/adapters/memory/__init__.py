"""In-memory adapters: the fakes use-case tests run on. They are adapters like any other and
pass the same contract suites as the SQL ones (``tests/contracts``)."""

from adapters.memory.catalogue import (
    InMemoryCreatorRepository,
    InMemorySourceRepository,
    InMemoryUserRepository,
)
from adapters.memory.chatbots import InMemoryChatbotRepository
from adapters.memory.conversations import InMemoryConversationRepository
from adapters.memory.store import InMemorySession, InMemoryStore, InMemoryUnitOfWork

__all__ = [
    "InMemoryChatbotRepository",
    "InMemoryConversationRepository",
    "InMemoryCreatorRepository",
    "InMemorySession",
    "InMemorySourceRepository",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryUserRepository",
]
