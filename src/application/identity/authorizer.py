"""The one authorizer: roles from a ``RoleResolver``, decisions from the matrix."""

from __future__ import annotations

from application.errors import NotAuthenticated, NotFound, PermissionDenied
from application.identity.permissions import (
    ACTION_RESOURCE,
    MATRIX,
    VIEW_ACTION,
    Action,
    ResourceKind,
    Role,
    is_allowed,
)
from application.identity.ports import AuthCode, RoleResolver
from application.identity.principal import Principal, PrincipalKind, Resource, conversation_roles


class MatrixAuthorizer:
    """Decides with ``permissions.MATRIX``; the ``RoleResolver`` only says who is what.

    - Checking an action against the wrong kind of resource is a programming error (ValueError):
      ``chatbot.delete`` is only ever asked about a chatbot.
    - A resource the caller may not see answers exactly like a missing one (``NotFound``), so ids
      cannot be probed.
    - An API key may only do what it carries AND what its creator's owner could do.
    - An anonymous visitor refused something any signed-in user could do is told to sign in
      (``NotAuthenticated``) rather than "forbidden".
    - ``operator`` comes from the principal, never from the resolver.
    """

    def __init__(self, resolver: RoleResolver) -> None:
        self._resolver = resolver

    async def roles(self, principal: Principal, resource: Resource) -> frozenset[Role] | None:
        """The caller's roles on ``resource`` (``None``: no such resource)."""
        if resource.kind is ResourceKind.PLATFORM:
            roles = _platform_roles(principal)
        elif resource.participants is not None:  # read by the caller already (see ``Resource``)
            roles = conversation_roles(principal, resource.participants)
        else:
            resolved = await self._resolver.roles_on(principal, resource)
            if resolved is None:
                return None
            roles = resolved - {Role.OPERATOR}
        if principal.is_operator:
            roles |= {Role.OPERATOR}
        return roles

    async def require(self, principal: Principal, action: Action, resource: Resource) -> None:
        expected = ACTION_RESOURCE[action]
        if resource.kind is not expected:
            raise ValueError(f"{action} is checked against a {expected}, not a {resource.kind}")
        roles = await self.roles(principal, resource)
        view = VIEW_ACTION.get(resource.kind)
        if roles is None or (view is not None and not is_allowed(view, roles)):
            raise NotFound(
                f"{resource.kind} not found", extra={"resource": resource.kind.value, "id": resource.id}
            )
        if principal.kind is PrincipalKind.API_KEY and action not in principal.api_key_actions:
            raise PermissionDenied(f"this API key may not {action}", code=AuthCode.API_KEY_SCOPE)
        if is_allowed(action, roles):
            return
        if principal.is_anonymous and Role.AUTHENTICATED in MATRIX[action]:
            raise NotAuthenticated(f"sign in to {action}", code=AuthCode.LOGIN_REQUIRED)
        raise PermissionDenied(f"not allowed to {action}", extra={"action": action.value})

    async def allows(self, principal: Principal, action: Action, resource: Resource) -> bool:
        try:
            await self.require(principal, action, resource)
        except (NotFound, PermissionDenied, NotAuthenticated):
            return False
        return True


def _platform_roles(principal: Principal) -> frozenset[Role]:
    if principal.kind is PrincipalKind.USER:
        return frozenset({Role.AUTHENTICATED})
    if principal.kind is PrincipalKind.ANONYMOUS:
        return frozenset({Role.ANONYMOUS})
    return frozenset()
