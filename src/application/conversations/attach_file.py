"""AttachFile: a user gives one of their own files to a conversation as context."""

from __future__ import annotations

from dataclasses import dataclass

from application.conversations.chat_ports import ConversationFiles
from application.conversations.ports import ConversationRepository
from application.errors import Conflict, NotFound, PermissionDenied
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork
from domain.conversations import ConversationStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachFileCommand:
    principal: Principal
    conversation_id: str
    file_id: str


class AttachFile:
    """Attaches a user's own uploaded file to their conversation.

    - Only the conversation's owner (``conversation.send-message``), signed in: files belong to
      accounts (anonymous visitors get 403 ``login-required``).
    - Only a file the caller owns that is not a creator's source; the file is read directly into
      each turn's prompt and is never embedded into the shared index.
    - Only while the conversation is ACTIVE (409 ``conversation-<status>``); attaching twice is
      harmless.
    """

    def __init__(
        self,
        conversations: ConversationRepository,
        files: ConversationFiles,
        authorizer: Authorizer,
        uow: UnitOfWork,
    ) -> None:
        self._conversations = conversations
        self._files = files
        self._authorizer = authorizer
        self._uow = uow

    async def __call__(self, command: AttachFileCommand) -> None:
        resource = Resource.conversation(command.conversation_id)
        await self._authorizer.require(command.principal, Action.CONVERSATION_SEND_MESSAGE, resource)
        user_id = command.principal.user_id
        if user_id is None:
            raise PermissionDenied("sign in to attach files", code="login-required")
        conversation = await self._conversations.get(command.conversation_id)
        if conversation is None:
            raise NotFound("conversation not found", code="conversation-not-found")
        if conversation.status is not ConversationStatus.ACTIVE:
            status = conversation.status.value.lower()
            raise Conflict(f"this conversation is {status}", code=f"conversation-{status}")
        await self._files.attach(conversation.id, command.file_id, owner_user_id=user_id)
        await self._uow.commit()
