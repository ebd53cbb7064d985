"""DefineCategory: add a discovery category (operators, from the command line)."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.discovery_ports import Category, CategoryType, ChatbotDiscovery
from application.errors import InvalidInput
from application.ports.uow import UnitOfWork
from domain.errors import InvalidValue
from domain.ids import new_id
from domain.slug import Slug


@dataclass(frozen=True, slots=True, kw_only=True)
class DefineCategoryCommand:
    type: str
    label: str
    slug: str | None = None
    icon: str | None = None
    color: str | None = None


class DefineCategory:
    """Adds a category of type ROLE, CHALLENGE or STAGE.

    - The taxonomy is the platform's: this runs from the operator's command line, which has
      no principal (there is no HTTP operation for it).
    - (type, slug) is unique (Conflict); the slug defaults to one from the label.
    """

    def __init__(self, discovery: ChatbotDiscovery, uow: UnitOfWork) -> None:
        self._discovery = discovery
        self._uow = uow

    async def __call__(self, command: DefineCategoryCommand) -> Category:
        errors: dict[str, str] = {}
        if command.type not in {t.value for t in CategoryType}:
            errors["type"] = f"must be one of {', '.join(t.value for t in CategoryType)}"
        label = command.label.strip()
        if not 1 <= len(label) <= 200:
            errors["label"] = "must be 1 to 200 characters"
        slug = None
        try:
            slug = Slug(command.slug) if command.slug else Slug.from_text(label or "x")
        except InvalidValue as exc:
            errors["slug"] = exc.message
        if errors or slug is None:
            raise InvalidInput("the category is not valid", errors=errors)
        category = Category(
            id=new_id(),
            type=CategoryType(command.type),
            label=label,
            slug=slug.value,
            icon=command.icon,
            color=command.color,
        )
        await self._discovery.add_category(category)
        await self._uow.commit()
        return category
