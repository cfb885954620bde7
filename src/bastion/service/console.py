"""Serves the web console's built bundle at ``/console/``.

The bundle (``console/dist``, built by ``scripts/bootstrap.sh``) is a Vite build: an
``index.html`` and content-hashed files under ``assets/``. Files are served as they are;
any other path that looks like a page (no file extension) gets ``index.html`` so the
single-page app's own router decides (a reload on ``/console/abuse`` works). Every
response carries a strict Content-Security-Policy (same origin only: the console loads
nothing from elsewhere and works offline). Hashed assets are cached for a year,
``index.html`` is revalidated on every load. Without a bundle, ``/console/`` answers 503
with a page saying how to build it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

#: The checkout's bundle (``<repo>/console/dist``) when ``console_dir`` is not set.
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "console" / "dist"
PREFIX = "/console"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}

MISSING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bastion console: not built</title></head>
<body><h1>The bastion console is not built</h1>
<p>This server has no console bundle in <code>{where}</code>. Build it with
<code>scripts/bootstrap.sh</code> (or <code>cd console &amp;&amp; npm ci &amp;&amp; npm run
build</code>), or point the <code>console_dir</code> setting
(<code>BASTION_CONSOLE_DIR</code>) at a built bundle, then reload this page.
The API itself is unaffected.</p></body></html>
"""


def content_type(path: Path) -> str:
    """The Content-Type of a bundle file (``application/octet-stream`` when unknown)."""
    known = _TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def resolve(root: Path, rel: str) -> Path | None:
    """The file ``rel`` names inside ``root``; ``None`` when it is not a file there
    (missing, a directory, or outside ``root`` through ``..`` or a link)."""
    if "\x00" in rel or "\\" in rel:
        return None
    try:
        target = (root / rel).resolve()
        base = root.resolve()
    except (OSError, RuntimeError):
        return None
    if target != base and base not in target.parents:
        return None
    return target if target.is_file() else None


def build_router(directory: Path | None) -> APIRouter:
    """Routes serving the bundle in ``directory`` (``None``: :data:`DEFAULT_DIR`)."""
    root = directory if directory is not None else DEFAULT_DIR
    router = APIRouter(include_in_schema=False)

    def file(path: Path, cache: str, status: int = 200) -> Response:
        headers = {**SECURITY_HEADERS, "Cache-Control": cache}
        return FileResponse(path, status, headers, media_type=content_type(path))

    def missing() -> Response:
        body = MISSING_PAGE.format(where=str(root).replace("&", "&amp;").replace("<", "&lt;"))
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Retry-After": "60"}
        return HTMLResponse(body, 503, headers)

    @router.api_route(PREFIX, methods=["GET", "HEAD"])
    async def console_root() -> Response:
        return RedirectResponse(f"{PREFIX}/", 308)

    @router.api_route(PREFIX + "/{rel:path}", methods=["GET", "HEAD"])
    async def console_file(request: Request, rel: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return missing()
        if rel:
            found = resolve(root, rel)
            if found is not None:
                immutable = rel.startswith("assets/")
                return file(found, IMMUTABLE if immutable else REVALIDATE)
            last = rel.rsplit("/", 1)[-1]
            if rel.startswith("assets/") or "." in last:
                headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
                return Response(f"no console file {rel}\n", 404, headers, media_type="text/plain")
        return file(index, REVALIDATE)

    return router
