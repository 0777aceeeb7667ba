"""Who may call each public route, enforced on the service side: every public route refuses a role its policy
table does not allow, before its handler runs — so a handler cannot forget the check, and the service and the
gateway cannot disagree on who may call what (docs/adr/0014-one-policy-table.md).

Generic: the table itself, and the roles, are the domain's (`civreg.policy`); the service's `main.py` passes it
in (ADR 0020), so the kernel names no role.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from btkernel import problems
from btkernel.context import Actor, RequestContext
from btkernel.permissions import PUBLIC_PREFIX, Permission, Policy


def install(app: FastAPI, routers: Sequence[APIRouter], policy: Policy) -> None:
    """Include `routers` in `app`, each route behind the role check of its policy entry. A public route (under
    `/api/`) the table does not name is refused here, when the app is built, not found out by a caller."""
    # Keyed by the route object the router matched (FastAPI puts it in the scope) and the method.
    permissions: dict[tuple[int, str], Permission] = {}

    async def check_role(request: Request) -> None:
        permission = permissions.get((id(request.scope.get("route")), request.method))
        if permission is not None:
            ctx: RequestContext = request.state.ctx
            refuse_unless_allowed(ctx.actor, permission, policy)

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
                        f"{method} {path} is not in the policy table (the service's, e.g. civreg.policy): say there who may call it"
                    )
                permissions[(id(route), method)] = permission
        app.include_router(router, dependencies=[Depends(check_role)])


def refuse_unless_allowed(actor: Actor | None, permission: Permission, policy: Policy) -> None:
    """401 without an identity (the gateway always sends one), 403 naming the allowed roles for a role the table
    leaves out. What every role may read (the catalogue) stays readable without one, as before the table."""
    if actor is None:
        if policy.open_to_all(permission):
            return
        raise problems.Unauthorized("no authenticated actor: call this service through the gateway")
    if not permission.allows(actor.role):
        names = sorted(permission.roles)
        raise problems.Forbidden(
            f"role {actor.role or '(none)'} may not do this; needs one of: {', '.join(names)}",
            allowed_roles=names,
        )
