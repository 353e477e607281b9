"""The seam in front of the fast WebSocket transport: used when uvicorn fits it, else ASGI.

The stand-ins below are uvicorn's own class with one thing changed, as an upgrade of
uvicorn might change it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from parley.config import SettingsError, load_settings
from parley.realtime import ws_seam
from parley.realtime.fast_transport import ParleyWebSocketProtocol


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_seam, "_warned", set())


class WithoutFrames(WebSocketsSansIOProtocol):
    """A uvicorn that no longer keeps ``frames`` on the protocol."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.frames


class WithoutTheReceiveHook(WebSocketsSansIOProtocol):
    send_receive_event_to_app = None  # type: ignore[assignment]


class WithARenamedParameter(WebSocketsSansIOProtocol):
    def handle_connect(self, request: Any) -> None:  # type: ignore[override]
        super().handle_connect(request)


def test_the_installed_uvicorn_runs_the_fast_transport() -> None:
    assert ws_seam.missing() == []
    choice = ws_seam.choose("auto")
    assert choice.name == "fast"
    assert choice.protocol is ParleyWebSocketProtocol


def test_a_uvicorn_lacking_an_attribute_falls_back_to_asgi_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="parley.realtime.ws_seam"):
        first = ws_seam.choose("auto", base=WithoutFrames)
        second = ws_seam.choose("auto", base=WithoutFrames)
    assert first.name == second.name == "asgi"
    assert first.gaps == ("frames",)
    assert first.protocol is not ParleyWebSocketProtocol
    assert issubclass(first.protocol, WebSocketsSansIOProtocol)  # uvicorn's stock one
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "frames" in warnings[0] and "ASGI" in warnings[0]


@pytest.mark.parametrize(
    ("base", "gap"),
    [
        (WithoutTheReceiveHook, "send_receive_event_to_app()"),
        (WithARenamedParameter, "handle_connect(event), found (request)"),
    ],
)
def test_a_uvicorn_whose_hooks_changed_falls_back_to_asgi(base: type, gap: str) -> None:
    choice = ws_seam.choose("auto", base=base)
    assert choice.name == "asgi"
    assert choice.gaps == (gap,)


def test_a_uvicorn_without_the_sansio_module_falls_back_to_asgi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ws_seam, "_SANSIO_MODULE", "uvicorn.protocols.websockets.gone_impl")
    choice = ws_seam.choose("auto")
    assert choice.name == "asgi"
    assert "gone_impl" in choice.gaps[0]


def test_fast_refuses_to_start_on_a_uvicorn_that_does_not_fit() -> None:
    with pytest.raises(ws_seam.TransportUnavailable, match="frames"):
        ws_seam.choose("fast", base=WithoutFrames)
    assert ws_seam.choose("fast").protocol is ParleyWebSocketProtocol


def test_asgi_is_taken_without_looking_at_uvicorn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        choice = ws_seam.choose("asgi", base=WithoutFrames)
    assert choice.name == "asgi"
    assert choice.gaps == ()
    assert not caplog.records


def test_the_setting_takes_only_the_three_modes() -> None:
    assert load_settings(environ={}).ws_transport == "auto"
    assert load_settings(environ={"PARLEY_WS_TRANSPORT": "asgi"}).ws_transport == "asgi"
    with pytest.raises(SettingsError, match="PARLEY_WS_TRANSPORT"):
        load_settings(environ={"PARLEY_WS_TRANSPORT": "quick"})


def test_the_fast_protocol_keeps_every_attribute_of_uvicorns_in_a_slot() -> None:
    # An idle connection's protocol without a __dict__ entry: a uvicorn that sets a new
    # attribute still works (it lands in __dict__), and this says to add its slot.
    instance = ws_seam._instance_of(ParleyWebSocketProtocol)
    assert vars(instance) == {}
    assert instance.frames == []
    assert instance.close_timeout == 10.0
