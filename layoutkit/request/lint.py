"""Advice on valid requests: settings the cloud accepts but that are probably unintended.

Everything here returns problems of severity ``"warning"``; nothing is rejected.
Paths are those of the body the model came from: ``clientRequest.recordingConfig...``
for a whole ``start`` body, ``recordingConfig...`` for a bare ``clientRequest``
(pass ``path`` to override, e.g. ``"clientRequest.startParameter"``).
"""

from __future__ import annotations

from ..errors import Problem
from . import limits as lim
from .model import AcquireRequest, StartRequest

__all__ = ["BITRATE_TOLERANCE", "lint", "lint_canvas_vs_sources", "lint_start"]

# Bitrates below 1/x or above x times the recommended one are reported.
BITRATE_TOLERANCE = 2.0


def _client_path(req: StartRequest, path: str | None) -> str:
    if path is not None:
        return path
    return "clientRequest" if req.cname or req.uid else ""


def _at(base: str, rest: str) -> str:
    return f"{base}.{rest}" if base else rest


def _warning(path: str, rule: str, value: object = Problem.MISSING,
             hint: str | None = None) -> Problem:
    return Problem(path, rule, value, hint, severity="warning")


def _lint_bitrate(req: StartRequest, transcoding_path: str) -> list[Problem]:
    config = req.recording_config
    if not config.records_video():
        return []
    tc = config.transcoding_config
    live = config.channel_type == lim.LIVE_CHANNEL
    recommended = lim.recommended_bitrate(tc.width, tc.height, tc.fps, live=live)
    if recommended / BITRATE_TOLERANCE <= tc.bitrate <= recommended * BITRATE_TOLERANCE:
        return []
    side = "below" if tc.bitrate < recommended else "above"
    channel = "live" if live else "communication"
    rule = (f"far {side} the recommended {recommended} Kbps for {tc.width}x{tc.height} "
            f"at {tc.fps} fps ({channel} channel)")
    low = max(1, round(recommended / BITRATE_TOLERANCE))
    high = min(lim.MAX_BITRATE, round(recommended * BITRATE_TOLERANCE))
    return [_warning(_at(transcoding_path, "bitrate"), rule, tc.bitrate,
                     f"use {low}..{high} Kbps")]


def _lint_unsubscribed_uids(req: StartRequest, transcoding_path: str) -> list[Problem]:
    """Layout uids whose video the recorder does not subscribe to: their regions stay empty."""
    config = req.recording_config
    if not config.records_video():
        return []
    layout = config.transcoding_config.layout
    bound = [("maxResolutionUid", layout.max_resolution_uid)]
    bound += [(f"layoutConfig[{i}].uid", r.uid) for i, r in enumerate(layout.layout_config)]
    rule = ("this uid's video is not subscribed (subscribe/unSubscribe lists); "
            "its region stays empty")
    return [_warning(_at(transcoding_path, key), rule, uid)
            for key, uid in bound if uid is not None and not config.subscribes_video(uid)]


def lint_start(req: StartRequest, *, path: str | None = None) -> list[Problem]:
    """Warnings for a valid ``start`` request.

    Checks that the bitrate is within a factor of :data:`BITRATE_TOLERANCE` of the
    recommended one (docs/cloud.md#cloud-transcoding, interpolated by area and scaled by fps;
    twice the
    base, capped at 6500 Kbps, in a live channel), and that every uid the layout names
    (``maxResolutionUid``, ``layoutConfig[].uid``) has its video subscribed.

    Parameters
    ----------
    req : StartRequest
        A parsed ``start`` request.
    path : str, optional
        JSON path of its ``clientRequest``; by default ``"clientRequest"`` for a whole
        body and ``""`` for a bare one.

    Returns
    -------
    list of Problem
        Warnings (severity ``"warning"``), possibly empty.
    """
    transcoding_path = _at(_client_path(req, path), "recordingConfig.transcodingConfig")
    return _lint_bitrate(req, transcoding_path) + _lint_unsubscribed_uids(req, transcoding_path)


def lint_canvas_vs_sources(req: StartRequest, source_sizes: list[tuple[int, int]], *,
                           path: str | None = None) -> list[Problem]:
    """Warn when the canvas has more pixels than all sources together.

    The manual advises that the canvas should not exceed the aggregate resolution of the
    sources; whether it does depends on the scenario, hence the sizes are given here.

    Parameters
    ----------
    req : StartRequest
        A parsed ``start`` request.
    source_sizes : list of (int, int)
        ``(width, height)`` of every video source expected on the canvas.
    path : str, optional
        JSON path of the ``clientRequest`` (see :func:`lint_start`).

    Returns
    -------
    list of Problem
        One warning on ``transcodingConfig`` or nothing (also nothing for no sources).
    """
    tc = req.transcoding
    total = sum(w * h for w, h in source_sizes)
    if not source_sizes or tc.width * tc.height <= total:
        return []
    rule = (f"canvas {tc.width}x{tc.height} has more pixels than all {len(source_sizes)} "
            f"source(s) together ({total}); the extra resolution adds bitrate, not detail")
    return [_warning(_at(_client_path(req, path), "recordingConfig.transcodingConfig"), rule)]


def lint(model: object) -> list[Problem]:
    """Lint any parsed request: ``start`` and an ``acquire`` with ``startParameter``.

    Parameters
    ----------
    model : object
        A model returned by :func:`layoutkit.request.parse.parse_request`.

    Returns
    -------
    list of Problem
        Warnings; empty for request kinds without lint rules.
    """
    if isinstance(model, StartRequest):
        return lint_start(model)
    if isinstance(model, AcquireRequest) and model.start_parameter is not None:
        base = "clientRequest.startParameter" if model.cname or model.uid else "startParameter"
        return lint_start(model.start_parameter, path=base)
    return []
