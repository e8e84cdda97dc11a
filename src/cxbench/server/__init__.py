"""`cxbench serve`: the HTTP API and live dashboard over one source; `cxbench watch`: findings to a webhook.

`create_app(source)` is the FastAPI application; `serve(source, host=, port=, token=)` runs it on Uvicorn and
refuses an address beyond loopback without a token.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from typing import TYPE_CHECKING, Any

from cxbench.core.errors import UsageError

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["LOOPBACK_HOSTS", "create_app", "is_loopback", "serve"]

#: Host header names a loopback server answers to (anything else may be a DNS-rebinding page)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: shortest token accepted: guessing one must not be practical
MIN_TOKEN_LENGTH = 16


def _require_web() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"cxbench serve needs FastAPI and Uvicorn ({exc.name} is missing): "
                         "pip install 'cxbench[server]'") from None


def create_app(source: str | Path, **settings: Any) -> FastAPI:
    """The FastAPI application over `source` (`cxbench.server.app.create_app`: token, workers, timeout...)."""
    _require_web()
    from cxbench.server.app import create_app as make

    return make(source, **settings)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(source: str | Path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          benchmarks: str | Path | None = None, workers: int = 2, timeout: float = 120.0,
          metrics: tuple[str, ...] = (), access_log: bool = False, memory_limit: str | None = None) -> None:
    """Serve `source` until interrupted. Beyond loopback a token is required (`token` or `$CXBENCH_TOKEN`)."""
    _require_web()
    import uvicorn

    token = token or os.environ.get("CXBENCH_TOKEN") or None
    if not is_loopback(host) and not token:
        raise UsageError(f"--host {host} is reachable from other machines: give a token (--token or "
                         "CXBENCH_TOKEN), or keep the default --host 127.0.0.1")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"the token has {len(token)} characters: use at least {MIN_TOKEN_LENGTH}, e.g. "
                         "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`")
    text = str(source)
    if "://" not in text and not Path(text).exists():
        raise UsageError(f"{text}: no such folder or file; give the folder of CSV/Parquet/JSON files or a DuckDB file")
    trusted = None if token else LOOPBACK_HOSTS
    app = create_app(text, token=token, benchmarks=benchmarks, workers=workers, timeout=timeout, trusted_hosts=trusted,
                     metrics=metrics, memory_limit=memory_limit)
    # limit_concurrency: beyond that many open connections Uvicorn answers 503 at once instead of queueing
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False, limit_concurrency=512,
                timeout_keep_alive=5, access_log=access_log)
