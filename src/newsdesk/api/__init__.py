"""The HTTP API (under /api) and the web reader, served by uvicorn."""

from newsdesk.api.app import create_app

__all__ = ["create_app"]
