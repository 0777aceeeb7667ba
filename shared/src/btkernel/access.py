"""The service side of the policy table: every public route of a service refuses a role `btkernel.policy` does not
allow for it, before its handler runs — so a handler cannot forget the check, and the service and the gateway
cannot disagree on who may call what (docs/adr/0014-one-policy-table.md)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from btkernel import problems
from btkernel.context import Actor, RequestContext
from btkernel.policy import ALL_ROLES, POLICY, PUBLIC_PREFIX, Permission, Policy


def install(app: FastAPI, routers: Sequence[APIRouter], policy: Policy = POLICY) -> None:
    """Include `routers` in `app`, each route behind the role check of its policy entry. A public route (under
    `/api/`) the table does not name is refused here, when the app is built, not found out by a caller."""
    # Keyed by the route object the router matched (FastAPI puts it in the scope) and the method.
    permissions: dict[tuple[int, str], Permission] = {}

    async def check_role(request: Request) -> None:
        permission = permissions.get((id(request.scope.get("route")), request.method))
        if permission is not None:
            ctx: RequestContext = request.state.ctx
            refuse_unless_allowed(ctx.actor, permission)

    for router in routers:
        for route_context in iter_route_contexts(router.routes):
            route = route_context.original_route
            path = route_context.path or ""
            if not isinstance(route, APIRoute) or not path.startswith(PUBLIC_PREFIX):
                continue
            for method in sorted(route.methods or ()):
                permission = policy.find(method, path)
                if permission is None:
                    raise ValueError(
                        f"{method} {path} is not in the policy table (btkernel.policy): say there who may call it"
                    )
                permissions[(id(route), method)] = permission
        app.include_router(router, dependencies=[Depends(check_role)])


def refuse_unless_allowed(actor: Actor | None, permission: Permission) -> None:
    """401 without an identity (the gateway always sends one), 403 naming the allowed roles for a role the table
    leaves out. What every role may read (the catalogue) stays readable without one, as before the table."""
    if actor is None:
        if permission.roles == ALL_ROLES:
            return
        raise problems.Unauthorized("no authenticated actor: call this service through the gateway")
    if not permission.allows(actor.role):
        names = sorted(permission.roles)
        raise problems.Forbidden(
            f"role {actor.role or '(none)'} may not do this; needs one of: {', '.join(names)}",
            allowed_roles=names,
        )
