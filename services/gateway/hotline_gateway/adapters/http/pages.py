"""The web pages the gateway serves: `/login/` (sign-in form over `POST /v1/session`),
`/desk/` (agent desktop), `/wallboard/` (supervisor wallboard), and their files under `/web/`
(one stylesheet, plain ES modules, the message catalogues `web/i18n/<locale>.json`).

No build step: the files in hotline_gateway/web/ are what the browser gets (hand-written ES
modules, no bundler, no framework, nothing fetched from elsewhere). The pages hold no data: they
read who is signed in (`GET /v1/session`), subscribe to the push stream (stream.py) and call the
REST API with the session cookie. Every page is public (it shows nothing before the session is
checked); a Content-Security-Policy allows only this origin's scripts, styles and connections.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent.parent / "web"
PAGES = {"/login/": "login.html", "/desk/": "desk.html", "/wallboard/": "wallboard.html"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def _page(name: str) -> FileResponse:
    return FileResponse(WEB / name, media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


async def login_page(request: Request) -> FileResponse:
    return _page(PAGES["/login/"])


async def desk_page(request: Request) -> FileResponse:
    return _page(PAGES["/desk/"])


async def wallboard_page(request: Request) -> FileResponse:
    return _page(PAGES["/wallboard/"])


async def home(request: Request) -> Response:
    return RedirectResponse("/login/", status_code=303)


def include(app: FastAPI) -> None:
    """Add the pages and their files to `app` (plain routes: not in the OpenAPI document)."""
    for path, endpoint in (("/login/", login_page), ("/desk/", desk_page),
                           ("/wallboard/", wallboard_page), ("/", home)):
        app.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
    app.mount("/web", StaticFiles(directory=WEB), name="web")
