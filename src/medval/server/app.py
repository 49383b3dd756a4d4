"""The FastAPI application, built from settings (nothing is built at import time)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from medval import __version__
from medval.core import api
from medval.server.body_guard import BodyGuard
from medval.server.error_handlers import install_error_handlers
from medval.server.routes import (
    aggregators,
    associations,
    audit,
    auth,
    benchmarks,
    blobs,
    cubes,
    datasets,
    executions,
    health,
    membership,
    model_keys,
    participation,
    phases,
    preparation_reports,
    quotas,
    results,
    signing_keys,
    training_associations,
    trainings,
    users,
)
from medval.server.services.context import Clock, ServiceContext, utc_now
from medval.server.settings import ServerSettings
from medval.server.store.blobs import BlobStore
from medval.server.store.sql import SqlStore
from medval.server.web import committee, inbox, login, mine, pages
from medval.server.web.rendering import form_refused
from medval.server.web.session import FormRefused

ROUTERS = (
    health,
    auth,
    users,
    blobs,
    cubes,
    benchmarks,
    phases,
    membership,
    participation,
    datasets,
    associations,
    executions,
    results,
    quotas,
    audit,
    signing_keys,
    model_keys,
    preparation_reports,
    aggregators,
    trainings,
    training_associations,
)


def create_app(
    settings: ServerSettings, *, clock: Clock = utc_now, freeze_heap: bool = False
) -> FastAPI:
    """The app on an already migrated database (see ``upgrade_database``).

    ``clock`` is a seam for tests that need time to pass (token expiry). ``freeze_heap``:
    the process serving the app (``serve.AppFactory``) moves what start-up made out of
    the garbage collector's way; an app built inside a process that does other work (a
    test of the API, one of hundreds) does not, since each full collection of a test
    process's heap cost more than the rest of the app's start.
    """
    context = ServiceContext(
        store=SqlStore.from_url(settings.database_url),
        blobs=BlobStore(settings.blob_dir, settings.max_blob_bytes, settings.partial_upload_hours),
        settings=settings,
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What start-up made (modules, schemas, routes) is moved out of the garbage
        # collector's way, as pre-fork servers do: a full collection then walks only what
        # requests made. A request that makes many objects (pending work at 1,000
        # benchmarks: some 60,000 rows and records) set off full collections of the whole
        # heap: 135 ms -> 65 ms of CPU there (bench/pending_work.py).
        if freeze_heap:
            gc.collect()
            gc.freeze()
        yield
        context.store.close()
        if freeze_heap:
            gc.unfreeze()  # collectable again once the app is gone

    app = FastAPI(title="medval", version=__version__, lifespan=lifespan)
    app.state.context = context
    for module in ROUTERS:
        app.include_router(module.router, prefix=api.PREFIX)
    # The pages (server/web): the same services and permissions, rendered as HTML.
    for web in (pages, login, mine, inbox, committee):
        app.include_router(web.router)
    # The key of the pages' CSRF tokens, kept in the data folder and read on first use
    # (see server/web/session).
    app.state.form_secret = None
    app.state.form_key_folder = settings.data_dir
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    install_error_handlers(app)

    async def on_form_refused(request: Request, _exc: Exception) -> Response:
        return form_refused(request)

    app.add_exception_handler(FormRefused, on_form_refused)
    app.add_middleware(BodyGuard, context=context, routes=app.router.routes)
    return app
