"""create_app: the one place that wires settings, store, bus, domain and transports."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path
from typing import Any

from quart import Quart, Response
from quart_schema import QuartSchema

from parley.asgi import Receive, Scope, SendFn
from parley.blobs import open_blob_store
from parley.blobs.base import Presigning
from parley.bus.base import Bus
from parley.bus.local import LocalBus
from parley.config import Settings, with_secret_key
from parley.domain import audit, digests, files, previews, push, retention
from parley.domain.context import Context
from parley.domain.presence import LocalPresence, Presence
from parley.domain.push_sender import PushService
from parley.domain.ratelimit import RateLimits
from parley.metrics import Readings
from parley.realtime.asgi_transport import serve_socket
from parley.realtime.gateway import Gateway
from parley.realtime.transport import WS_PATH, ParleySocket
from parley.security_headers import SECURITY_HEADERS, content_security_policy
from parley.store import open_store
from parley.web import blueprints
from parley.web.deps import csrf_guard
from parley.web.errors import register_error_handlers
from parley.web.http_protocol import EdgeLimits
from parley.web.json import OrjsonProvider, ParleyRequest
from parley.web.params import StoreIntConverter
from parley.web.uploads import handle_upload, is_upload

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# JSON bodies are small; files go through the streaming upload route instead.
MAX_JSON_BODY = 1024 * 1024


class ParleyApp:
    """The ASGI application: ``/ws`` goes to the gateway, everything else to Quart."""

    def __init__(self, settings: Settings) -> None:
        self.settings = with_secret_key(settings)
        self.quart = _create_quart(self)
        # Read by the HTTP protocol (parley.web.http_protocol) for every connection.
        self.edge_limits = EdgeLimits(
            header_timeout_s=self.settings.header_timeout_s,
            per_address=self.settings.max_connections_per_address,
            ipv6_prefix=self.settings.ipv6_prefix,
        )
        self._ctx: Context | None = None
        self._gateway: Gateway | None = None
        self._cleanup: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None
        self._audit_cleanup: asyncio.Task[None] | None = None
        self._preview_cleanup: asyncio.Task[None] | None = None
        self._digests: asyncio.Task[None] | None = None
        self._push: PushService | None = None
        # The headers every Quart response gets; set again at start when file requests
        # may be redirected to a bucket (PARLEY_BLOB_PRESIGN).
        self.page_headers = dict(SECURITY_HEADERS)

    @property
    def ctx(self) -> Context:
        if self._ctx is None:
            raise RuntimeError("Parley has not started yet")
        return self._ctx

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("Parley has not started yet")
        return self._gateway

    def metrics_readings(self) -> Readings:
        """This process's numbers for ``/metrics``, read from each part."""
        hub = self.gateway.hub
        writer = self.ctx.store.messages.writer
        pushes = self._push
        push_counts = pushes.counts if pushes is not None else None
        return Readings(
            queued_per_connection=[conn.queued for conn in self.gateway.connections],
            messages_stored=writer.stored,
            store_batches=writer.batches,
            deliveries=hub.deliveries,
            gap_fills=hub.gap_fills,
            fanout_latency=hub.fanout_latency,
            bus=self.ctx.bus.readings(),
            messages_erased=self.ctx.lifecycle.erased,
            messages_expired=self.ctx.lifecycle.expired,
            files_removed=self.ctx.lifecycle.files_removed,
            push_sent=push_counts.sent if push_counts else 0,
            push_failed=push_counts.failed if push_counts else 0,
            push_dropped=push_counts.dropped if push_counts else 0,
            push_gone=push_counts.gone if push_counts else 0,
            push_retried=push_counts.retried if push_counts else 0,
            push_queued=pushes.queue_depth if pushes is not None else 0,
        )

    async def open_socket(self, socket: ParleySocket) -> None:
        """``/ws``: called by the fast transport directly, or by the ASGI one."""
        if self._gateway is None:
            socket.refuse(503, b'{"error":{"code":"unavailable","message":"Starting up."}}')
            return
        await self._gateway.open_socket(socket)

    async def __call__(self, scope: Scope, receive: Receive, send: SendFn) -> None:
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
            # Only on the ASGI transport: the fast one never hands /ws to ASGI.
            await serve_socket(scope, receive, send, self.open_socket)
            return
        if is_upload(scope) and self._ctx is not None:
            # Streamed outside Quart, which would buffer the body (see web/uploads.py).
            await handle_upload(self._ctx, scope, receive, send)
            return
        # Quart types ASGI with its own TypedDicts; Parley's are plain dicts.
        quart: Any = self.quart
        await quart(scope, receive, send)

    async def startup(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = await open_store(settings.effective_database_url)
        await store.messages.writer.prepare()
        bus, presence = await _fan_out(settings)
        blobs = open_blob_store(settings.blob_url, settings.uploads_dir)
        await asyncio.to_thread(blobs.prepare)
        if settings.blob_presign and isinstance(blobs, Presigning):
            origin = blobs.presigned_origin()
            self.page_headers["Content-Security-Policy"] = content_security_policy(origin)
        self._ctx = Context(
            settings=settings,
            store=store,
            bus=bus,
            presence=presence,
            limits=_limits(settings),
            blobs=blobs,
        )
        self._cleanup = asyncio.create_task(files.cleanup_forever(self._ctx), name="file-cleanup")
        self._retention = asyncio.create_task(
            retention.retention_forever(self._ctx), name="retention"
        )
        self._audit_cleanup = asyncio.create_task(
            audit.cleanup_forever(self._ctx), name="audit-cleanup"
        )
        self._preview_cleanup = asyncio.create_task(
            previews.cleanup_forever(self._ctx), name="preview-cleanup"
        )
        self._push = PushService(self._ctx, await push.load_keys(self._ctx))
        await self._push.start()
        self._ctx.push = self._push
        self._digests = asyncio.create_task(digests.digests_forever(self._ctx), name="digests")
        self._gateway = Gateway(self._ctx)
        await self._gateway.start()
        # Everything made so far (modules, the app, SQLAlchemy's caches) lives as long as
        # the process: moved out of the collector's sight, so that a full collection
        # scans only what connections and messages allocate.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        log.info("Parley ready (%s)", "SQLite" if settings.is_sqlite else "PostgreSQL")
        log.info("%s", proxy_trust_line(settings))

    async def drain(self) -> None:
        """Stop taking new work: close every WebSocket with 1001, store what is queued."""
        if self._gateway is not None:
            await self._gateway.shutdown()

    async def shutdown(self) -> None:
        await self.drain()
        for task in (
            self._cleanup,
            self._retention,
            self._audit_cleanup,
            self._preview_cleanup,
            self._digests,
        ):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._cleanup = self._retention = self._audit_cleanup = None
        self._preview_cleanup = self._digests = None
        if self._ctx is not None:
            # Link previews still fetching: dropped (the message went out without one).
            for preview in list(self._ctx.preview_tasks):
                preview.cancel()
            await asyncio.gather(*self._ctx.preview_tasks, return_exceptions=True)
            if self._push is not None:
                await self._push.close()
                self._push = None
            await self._ctx.store.close()
            await self._ctx.bus.close()
            await self._ctx.presence.close()
            await self._ctx.limits.close()
            if self._ctx.blobs is not None:
                self._ctx.blobs.close()
            self._ctx = None


def proxy_trust_line(settings: Settings) -> str:
    """Whose X-Forwarded-For is believed, said once at start so the operator can check."""
    if not settings.trust_proxy:
        return "X-Forwarded-For ignored (PARLEY_TRUST_PROXY is off): clients are their peers"
    networks = ", ".join(str(n) for n in settings.trusted_proxy_networks) or "none"
    return f"X-Forwarded-For trusted only from proxies at {networks} (PARLEY_TRUSTED_PROXIES)"


async def _fan_out(settings: Settings) -> tuple[Bus, Presence]:
    if settings.redis_url:
        from parley.bus.redis import open_redis_fan_out

        return await open_redis_fan_out(
            settings.redis_url, prefix=settings.redis_prefix, presence_ttl_s=settings.presence_ttl_s
        )
    return LocalBus(), LocalPresence()


def _limits(settings: Settings) -> RateLimits:
    """Limits shared through Redis when it is configured, else kept in this process."""
    if settings.redis_url:
        from parley.ratelimit_redis import open_redis_limits

        return open_redis_limits(
            settings.redis_url,
            settings.send_rate,
            settings.send_burst,
            prefix=settings.redis_prefix,
        )
    return RateLimits(settings.send_rate, settings.send_burst)


def _create_quart(parley: ParleyApp) -> Quart:
    app = Quart(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.json = OrjsonProvider(app)
    app.request_class = ParleyRequest
    app.config["MAX_CONTENT_LENGTH"] = MAX_JSON_BODY
    app.config["QUART_SCHEMA_CONVERSION_PREFERENCE"] = "pydantic"
    app.extensions["parley"] = parley
    QuartSchema(
        app,
        info={"title": "Parley", "version": "1"},
        openapi_path="/openapi.json",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
    )
    # Ids in URLs fit the store's INTEGER columns: a bigger number is "not found", never a driver
    # overflow (found by the schemathesis run); other scripts' digits do not match.
    app.url_map.converters["int"] = StoreIntConverter
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.before_request(csrf_guard)

    @app.before_serving
    async def start() -> None:
        await parley.startup()

    @app.after_serving
    async def stop() -> None:
        await parley.shutdown()

    @app.after_request
    async def security_headers(response: Response) -> Response:
        for name, value in parley.page_headers.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "application/json":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


def create_app(settings: Settings, **_: Any) -> ParleyApp:
    return ParleyApp(settings)


async def open_context(settings: Settings) -> Context:
    """A Context for a command acting beside the servers (``parley user
    reset-password``): the same database, and the same fan-out and limits when Redis
    is configured, so that what it does reaches every server process. Close it with
    :func:`close_context`."""
    store = await open_store(settings.effective_database_url)
    bus, presence = await _fan_out(settings)
    return Context(
        settings=settings, store=store, bus=bus, presence=presence, limits=_limits(settings)
    )


async def close_context(ctx: Context) -> None:
    await ctx.store.close()
    await ctx.bus.close()
    await ctx.presence.close()
    await ctx.limits.close()
