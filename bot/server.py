"""The server: ``create_app`` builds the one aiohttp application (``app.py`` runs it).

One application serves Slack (``/slack/events`` and Socket Mode), Teams
(``/api/messages``) and the local web chat (``/``). Everything is built here, in a
factory, so tests can build as many independent apps as they like.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from bot import __version__, logs
from bot.adapters.teams import door as teams_adapter
from bot.adapters.web import chat as webchat
from bot.core import Bot, Services, workspace_pause
from bot.core.clock import Clock, SystemClock
from bot.core.features import FeatureHost, load_features
from bot.core.registry import Registry
from bot.http.errors import error_middleware, quiet_malformed_requests
from bot.http.front_doors import door_lines
from bot.http.host_guard import host_guard
from bot.http.store_pages import store_page_routes
from bot.http.webhooks import webhook_routes
from bot.leadership import Leadership
from bot.metrics import Metrics
from bot.metrics.core_sources import add_core_sources
from bot.metrics.http import http_metrics
from bot.metrics.turns import turn_metrics
from bot.metrics.web import METRICS, metrics_handler, start_metrics_site
from bot.reconcile import CardReconciler
from bot.settings import ConfigError, Settings, check_modes, load_settings, warn_unknown
from bot.storage import deliveries, schema
from bot.storage.checkpoints import EVERY_SECONDS as CHECKPOINT_SECONDS
from bot.storage.checkpoints import Checkpointer
from bot.storage.db import (
    BUSY_TIMEOUT_MS,
    describe_write_error,
    open_db,
    ping,
    prepare,
    write_problem,
)
from bot.storage.engine import DatabaseUnavailable, check
from bot.storage.retention import DAY_SECONDS, Retention
from bot.storage.sql import DB_ERRORS, Db
from bot.tasks import TaskSet
from bot.wakeups import Wakeups
from bot.workers import Worker
from content.library.loader import ContentLibrary, load_library
from content.library.problems import ContentError
from content.tips.metrics import add_tip_sources

log = logging.getLogger("secbot")

# The largest request body any front door reads; more is refused with a short 413.
MAX_BODY = 1024 * 1024

# /healthz answers within about this long even when the database does not.
HEALTH_PING_SECONDS = 1.0

SERVICES = web.AppKey("services", Services)
FRONT_DOORS = web.AppKey("front_doors", dict)


def load_content(settings: Settings) -> ContentLibrary:
    """The training content, built-in plus the organisation's packs, checked by lint."""
    return load_library(Path(settings.content_dir) if settings.content_dir else None)


def _open_db(settings: Settings) -> Db:
    """The database named by the settings (nothing connects yet), or a ConfigError."""
    try:
        return open_db(settings.database_url or settings.db_path)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{settings.database_shown} can't be opened as a database: {e}") from None


async def start_database(db: Db, settings: Settings) -> None:
    """Before anything else at start: the database answers, takes a write, and has the
    code's schema; otherwise one :class:`ConfigError` line. A database that can't be
    reached, or is read-only or full, would otherwise start and then fail every
    delivery; one from a newer secbot must not be used by older code."""
    shown = settings.database_shown
    await _answers(db, shown)
    try:
        await prepare(db)
    except DB_ERRORS as e:
        problem = describe_write_error(e)
        raise ConfigError(_unwritable(shown, problem)) from None
    fault = await write_problem(db, busy_ms=BUSY_TIMEOUT_MS)
    if fault is not None:
        raise ConfigError(_unwritable(shown, fault))
    try:
        await schema.upgrade(db)
    except schema.SchemaTooNew as e:
        raise ConfigError(f"{shown} can't be used: {e}") from None
    except DB_ERRORS as e:
        raise ConfigError(
            f"{shown} can't be brought up to date ({describe_write_error(e)})"
        ) from None


async def _answers(db: Db, shown: str) -> None:
    try:
        await check(db.engine)
    except DatabaseUnavailable as e:
        what = "be opened as a database" if db.dialect == "sqlite" else "be used"
        raise ConfigError(f"{shown} can't {what}: {e}") from None


async def check_database(settings: Settings) -> None:
    """Before anything else is built or said at start: a database that can't be reached
    (or opened) is one line, not a line after the others."""
    db = _open_db(settings)
    try:
        await _answers(db, settings.database_shown)
    finally:
        await db.close()


def _unwritable(shown: str, problem: str) -> str:
    return (
        f"{shown} can't be written ({problem}): check the file's permissions and the free"
        " disk space"
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    features: list[str] | None = None,
    content=None,
) -> web.Application:
    check_modes(settings)  # settings built by hand get the same rules as load_settings
    clock = clock or SystemClock()
    db = _open_db(settings)
    services = Services(settings=settings, db=db, clock=clock, registry=Registry())
    services.content = content if content is not None else load_content(settings)

    host = FeatureHost(services)
    # First of the background jobs: one instance leads the once-per-cluster jobs (the
    # tip scheduler); ``services.feature(Leadership).is_leader``.
    leadership = Leadership(db, owner=services.instance, clock=clock)
    services.provide(leadership)
    host.add_background(leadership.background)
    # On PostgreSQL, work one instance adds wakes the others' idle workers.
    wakeups = Wakeups(db)
    services.provide(wakeups)
    host.add_background(wakeups.background)
    # The daily prune (bot/storage/retention.py): the core's pruners here, the domains'
    # from their setup (services.find_feature(Retention)); one worker runs them all.
    retention = Retention(db, clock)
    services.provide(retention)
    retention.add(deliveries.pruner(db, settings.keep_delivery_ids))
    retention.add(webchat.pruner(webchat.WebChatStore(db), webchat.retention(services)))
    host.add_worker(Worker("retention", retention.step, every=DAY_SECONDS, clock=clock))
    # SQLite's write-ahead log is copied back into the file off the write path (a file's:
    # an in-memory database has no log).
    if db.dialect == "sqlite" and db.engine.url.database not in (None, "", ":memory:"):
        checkpointer = Checkpointer(db)
        services.provide(checkpointer)
        host.add_background(
            Worker("wal-checkpoint", checkpointer.step, every=CHECKPOINT_SECONDS).background
        )
    # Cards whose edit was lost in a crash are redrawn by whichever instance claims them.
    reconciler = CardReconciler(db, owner=services.instance, clock=clock)
    services.provide(reconciler)
    host.add_worker(reconciler.worker)
    # Metrics (bot/metrics) first, so features can add what they measure to them.
    metrics = Metrics()
    services.provide(metrics)
    load_features(host, features)
    warn_unknown(settings)  # after features, which claim the variables their files name

    bot = Bot(services)
    # Every delivery measured just inside its correlation id, every request by the HTTP
    # middleware below; the stores are read when Prometheus scrapes.
    bot.middleware.insert(1, turn_metrics(metrics))
    add_core_sources(metrics, db)
    add_tip_sources(metrics, db)
    handler_tasks = TaskSet()
    # Contexts that must start last and so stop first (the Slack consumer: it stops
    # taking kept deliveries before handlers drain and workers stop).
    last_ctx = []
    # The error middleware is first, so it is outermost: it also catches what any
    # middleware after it lets escape. Once there is a list of host names, every route
    # answers only to them (DNS rebinding).
    hosts = settings.host_allow_list
    middlewares = [error_middleware, http_metrics(metrics), *([host_guard(hosts)] if hosts else [])]
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    quiet_malformed_requests()
    app[SERVICES] = services
    app[METRICS] = metrics
    doors: dict[str, bool] = {
        "webchat": settings.webchat,
        "webchat_authenticated": settings.webchat and settings.webchat_authenticated,
        "slack_http": False,
        "slack_socket_mode": False,
        "teams": settings.teams_enabled,
        "teams_authenticated": settings.teams_authenticated,
        "development_mode": settings.dev_mode,
    }
    app[FRONT_DOORS] = doors

    # Web chat: with a users file each person signs in with their own secret; without
    # one it runs only in development mode, as `make run` does (see bot/settings/rules.py).
    web_store = webchat.WebChatStore(db)
    web_transport = webchat.WebTransport(web_store, clock, settings.webchat_users)
    services.transports["web"] = web_transport
    if settings.webchat:
        app.add_routes(webchat.webchat_routes(bot, web_store, web_transport, clock))
    app.add_routes(store_page_routes(settings))  # the privacy and terms pages
    # Signed calls from other services (PagerDuty's webhooks, paging callbacks): each
    # feature's receiver checks the signature (bot/http/webhooks.py).
    app.add_routes(webhook_routes(host.webhooks))

    # Teams: authenticated with an app id; without one, open to the Bot Framework Emulator
    # but only in development mode and only for loopback serviceUrls (Settings.teams_enabled).
    teams = teams_adapter.TeamsFrontDoor(settings, bot, db, clock)
    services.transports["teams"] = teams.transport
    if settings.teams_enabled:
        from bot.adapters.teams.intake import TEAMS_INTAKE
        from bot.adapters.teams.intake import intake_ctx as teams_intake_ctx

        app.router.add_post("/api/messages", teams.handle)
        # Message activities are kept, answered at once and replied to from the inbox.
        app[TEAMS_INTAKE] = teams.intake
        wakeups.on("teams", teams.intake.notify)  # another instance kept one
        teams.intake.announce = lambda: wakeups.announce("teams")
        last_ctx.append(teams_intake_ctx(teams.intake))
    if teams.keys is not None:
        app.cleanup_ctx.append(teams.keys.run)

    if settings.slack_enabled:
        from bot.adapters.slack.app import build_slack_app
        from bot.adapters.slack.client import session_ctx
        from bot.adapters.slack.door import SlackDoor, door_routes
        from bot.adapters.slack.intake import intake_ctx
        from bot.adapters.slack.socket_mode import socket_mode_ctx
        from bot.adapters.slack.transport import SlackTransport

        slack_app, intake = build_slack_app(settings, bot, handler_tasks)
        services.slack_intake = intake
        client = slack_app.client
        services.transports["slack"] = SlackTransport(client)
        wakeups.on("inbox", intake.notify)  # another instance kept a delivery

        def kept() -> None:
            intake.notify()
            wakeups.announce("inbox")

        door = SlackDoor(
            settings.slack_signing_secret or "",
            intake.inbox,
            clock,
            kept,
            answers=intake.dialogs.answers if intake.dialogs else None,
            answer_seconds=settings.slack_dialog_answer_seconds,
            pace=intake.pace,
        )
        app.add_routes(door_routes(door))
        app.cleanup_ctx.append(session_ctx(client))
        last_ctx.append(intake_ctx(intake))
        doors["slack_http"] = True
        if settings.socket_mode_enabled:
            app.cleanup_ctx.append(socket_mode_ctx(slack_app, settings, client))
            doors["slack_socket_mode"] = True

    # Every transport is registered by now: workspace-wide refusals pause a workspace.
    pauses = workspace_pause.guard_transports(services)

    async def load_pauses(app: web.Application) -> AsyncIterator[None]:
        await pauses.load()
        yield

    # First of all the start-up steps (they run in the order added): a worker or a door
    # may post as soon as it starts, and must find a paused workspace paused.
    app.cleanup_ctx.insert(0, load_pauses)

    async def database(app: web.Application) -> AsyncIterator[None]:
        await start_database(db, settings)
        yield

    app.cleanup_ctx.insert(0, database)  # before everything: nothing may use it sooner

    async def healthz(request: web.Request) -> web.Response:
        """Liveness: the process is up and answering. Always 200, so an orchestrator
        restarts secbot only when it is stuck, never because the database is (a restart
        would not mend a full disk); the database's state is in the body for people."""
        try:  # a database server that has gone may take its time to say so
            async with asyncio.timeout(HEALTH_PING_SECONDS):
                db_ok = await ping(db)
        except TimeoutError:
            db_ok = False
        paused = [
            {"platform": p.platform, "workspace": p.workspace, "reason": p.reason,
             "since": p.since.isoformat()}
            for p in pauses.all()
        ]  # fmt: skip
        return web.json_response(
            {
                "status": "ok",
                "version": __version__,
                "database": db_ok,
                "front_doors": doors,
                "paused_workspaces": paused,
                # Which instance answered, and whether it leads the once-per-cluster jobs.
                "instance": services.instance,
                "leader": leadership.is_leader,
                "leader_since": leadership.since.isoformat() if leadership.since else None,
            }
        )

    async def readyz(request: web.Request) -> web.Response:
        """Readiness: can secbot keep what it is sent? A tiny committed write says so;
        503 takes this instance out of a load balancer until the database mends."""
        problem = await write_problem(db)
        if problem is None:
            return web.json_response({"ready": True, "database": "writable"})
        log.warning("not ready: the database can't be written (%s)", problem)
        return web.json_response(
            {"ready": False, "database": f"can't be written: {problem}"},
            status=503,
            headers={"Retry-After": "5"},
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics_port is None:  # else serve() puts it on its own port
        app.router.add_get("/metrics", metrics_handler(metrics, clock, settings.metrics_token))

    async def log_doors(app: web.Application) -> None:
        for line in door_lines(settings, doors, host.webhooks):
            log.info("%s", line)
        if not any(doors.get(d) for d in ("slack_http", "slack_socket_mode", "teams", "webchat")):
            log.warning(
                "no front door is on, so nobody can reach secbot: configure Slack, Teams or "
                "the web chat's users, or use SECBOT_MODE=development (make run) to try it"
            )

    app.on_startup.append(log_doors)

    for task in host.background:
        app.cleanup_ctx.append(_background(task, services))

    async def drain_handlers(app: web.Application) -> AsyncIterator[None]:
        yield
        await handler_tasks.drain()

    # Last in, first out: handlers finish before workers stop and sessions close.
    app.cleanup_ctx.append(drain_handlers)
    app.cleanup_ctx.extend(last_ctx)

    async def close_db(app: web.Application) -> None:
        await db.close()

    app.on_cleanup.append(close_db)
    return app


def settle_memory() -> None:
    """Move everything built at start-up out of the garbage collector's way.

    The content library, the compiled routes and the imported SDKs are hundreds of
    thousands of long-lived objects. Left in the collector's oldest generation, each
    full collection walks all of them, a pause of tens of milliseconds in the middle
    of some request. Frozen, collections only walk what requests create.
    """
    gc.collect()
    gc.freeze()


def _background(task, services: Services):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        # No ``break``: resuming the worker at shutdown is what runs the code after its
        # ``yield`` (cancelling its task) before the database is closed.
        async for _ in task(services):
            yield

    return ctx


def _listen_error(settings: Settings, e: OSError) -> str:
    if isinstance(e, socket.gaierror):
        reason = e.strerror or str(e)
    else:  # asyncio wraps the bind error in a long message: the errno says it best
        reason = os.strerror(e.errno) if e.errno else (e.strerror or str(e))
    if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:
        return (
            f"HOST {settings.host!r} is not an address of this machine ({reason}): "
            "use 127.0.0.1, or 0.0.0.0 for every address"
        )
    return (
        f"PORT {settings.port} on HOST {settings.host} can't be used ({reason}): "
        "set PORT to a free port"
    )


async def serve(settings: Settings) -> None:
    await check_database(settings)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    try:
        await runner.setup()  # starts Socket Mode and the background workers
    except BaseException:
        await runner.cleanup()  # stop whatever had started, and close the database
        raise
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise ConfigError(_listen_error(settings, e)) from None
    metrics_runner = None
    if settings.metrics_port is not None:
        handler = metrics_handler(app[METRICS], app[SERVICES].clock, settings.metrics_token)
        try:
            metrics_runner = await start_metrics_site(handler, settings.host, settings.metrics_port)
        except ConfigError:
            await runner.cleanup()
            raise
    settle_memory()
    hosts = settings.host_allow_list
    if hosts:  # a name the host check lets through
        shown = hosts[0]
    else:
        shown = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0") else settings.host
    url = f"http://{shown}:{settings.port}/"
    if settings.webchat:
        log.info("secbot %s is running. Web chat: %s", __version__, url)
    else:
        log.info("secbot %s is running on %s (web chat off: SECBOT_WEBCHAT)", __version__, url)
    # SIGTERM (a deploy, systemd, a container stop) gets the same graceful stop as Ctrl-C:
    # handlers finish, tips already on the wire are recorded, the database closes cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("secbot is stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        if metrics_runner is not None:
            await metrics_runner.cleanup()
    log.info("secbot stopped")


def main(argv: list[str] | None = None) -> int:
    # Text until the settings say otherwise (bot/logs.py); every line says which request,
    # delivery or job it belongs to, by which front door, for which incident.
    logs.configure("text")
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        asyncio.run(serve(settings))
    except ConfigError as e:
        print(f"secbot can't start: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except ContentError as e:
        print(f"secbot can't start: the training content failed lint:\n{e.report}", file=sys.stderr)
        return 2
    return 0
