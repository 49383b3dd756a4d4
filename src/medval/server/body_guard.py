"""Request bodies are authorised before they are read, and read only up to a cap.

FastAPI reads and parses a JSON body before it resolves a route's dependencies, so the
bearer-token check in ``dependencies`` alone would let an anonymous caller make the server
read (and hold) any amount of JSON. This ASGI middleware runs first, for every request
that can carry a body (anything but GET, HEAD and OPTIONS):

- unless the route is open to anonymous callers (logging in), the bearer token is checked
  and a missing or bad one is answered 401 without reading a byte of the body;
- the pages' forms (``server/web``, outside the API's prefix) pass that check: they come
  with a session cookie or none (the login form), and answer a bad one with a page of
  their own; their bodies are held to the same cap as any other;
- a body larger than ``ServerSettings.max_json_bytes`` is answered 413: at once when its
  ``Content-Length`` says so, else (a chunked body) as soon as that many bytes have come;
- a request that matches no route passes on unread (to its 404 or 405);
- blob uploads stream to disk under their own cap (``routes.blobs``), so they pass on
  unread once authorised.

It may import the core, the services and the settings; it knows no route but by its path.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medval.core import api
from medval.core.errors import NotAuthenticated, TooLarge
from medval.server.error_handlers import error_response
from medval.server.services.accounts import authenticate
from medval.server.services.context import ServiceContext

_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
_ANONYMOUS = frozenset({("POST", api.PREFIX + api.TOKEN)})
_BLOBS = api.PREFIX + "/blobs/"
NOT_LOGGED_IN = "not logged in: send 'Authorization: Bearer <token>'"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


class BodyGuard:
    """The middleware described in the module's docstring."""

    def __init__(self, app: ASGIApp, context: ServiceContext, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.context = context
        self.routes = routes
        self.limit = context.settings.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        if not any(route.matches(scope)[0] is Match.FULL for route in self.routes):
            await self.app(scope, receive, send)  # a 404 or 405, answered without the body
            return
        method, path = scope["method"], scope["path"]
        if (method, path) not in _ANONYMOUS and path.startswith(api.PREFIX):
            refusal = await self._refuse_caller(scope)
            if refusal is not None:
                await error_response(401, NotAuthenticated.code, refusal)(scope, receive, send)
                return
        if method == "PUT" and path.startswith(_BLOBS):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the caller is gone: nobody to answer
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse_caller(self, scope: Scope) -> str | None:
        """Why the caller may not send a body here, or None if they may."""
        token = _bearer(scope)
        if token is None:
            return NOT_LOGGED_IN
        try:
            await run_in_threadpool(authenticate, self.context, token)
        except NotAuthenticated as exc:
            return exc.message
        return None

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than the server's limit of {_size(self.limit)}"
        await error_response(413, TooLarge.code, message)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then waits as before."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
