"""``METRICS_PORT``'s listener for ``salonbot serve``: its socket is bound before anything
starts, so a port in use is one line at start, not a half-started server."""

from __future__ import annotations

import os
import socket

import uvicorn
from fastapi import FastAPI

from salonbot.config import Settings


class MetricsPortTaken(Exception):
    """The metrics listener cannot be bound; the message names the setting and why."""


def metrics_socket(settings: Settings) -> socket.socket | None:
    """The listening socket of ``METRICS_HOST``:``METRICS_PORT``, or None when unset."""
    if settings.metrics_port is None:
        return None
    host, port = settings.metrics_host, settings.metrics_port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if isinstance(error, socket.gaierror):  # METRICS_HOST is no address of this machine
            reason = error.strerror or "unknown host"
        else:  # create_server adds the address to strerror; the line names it already
            reason = os.strerror(error.errno) if error.errno else type(error).__name__
        raise MetricsPortTaken(f"METRICS_PORT: cannot listen on {host}:{port}: {reason}") from None


def metrics_server_config(app: FastAPI) -> uvicorn.Config:
    """uvicorn's settings for the metrics listener (the socket is passed to ``serve``)."""
    return uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
