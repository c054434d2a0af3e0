"""The web app: Starlette routes, sign-in, roles, CSRF and security headers.

Roles: `admin` (everything, and the admin pages), `marketing` (customers, segments, syncs),
`store_staff` (search and profiles of identified customers only). Every page but the sign-in
page needs a signed-in user; personal data is never sent to anyone else. Sessions are signed
cookies (HttpOnly, SameSite=Strict, Secure unless CDP_APP_INSECURE_COOKIES=1); the key comes
from CDP_APP_SECRET_KEY. Forms carry a CSRF token (asgi-csrf, double submit, signed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from app import accounts, queries
from app.search import search
from app.snapshot import SnapshotReader
from cdp.serving import NoSnapshot
from cdp.settings import Settings, get_settings, secret_from_env

HERE = Path(__file__).parent
SECRET_ENV = "CDP_APP_SECRET_KEY"
MIN_SECRET = 32
SESSION_HOURS = 8
SEE_MARKETING = ("admin", "marketing")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class ConfigurationError(RuntimeError):
    """The app cannot start safely (the message says what to set)."""


def secret_key() -> str:
    return secret_from_env(
        SECRET_ENV,
        MIN_SECRET,
        ConfigurationError,
        'e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`',
    )


def plotly_js() -> Path:
    """plotly.js as shipped inside the plotly wheel: the charts need no CDN."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(settings: Settings | None = None) -> Any:
    """The ASGI application (Starlette wrapped in the CSRF middleware)."""
    from asgi_csrf import asgi_csrf

    settings = settings or get_settings()
    key = secret_key()
    secure = os.environ.get("CDP_APP_INSECURE_COOKIES", "") != "1"
    snapshot = SnapshotReader(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["money"] = lambda v: "" if v is None else f"{float(v):,.2f}"

    def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.update(user=request.session.get("user"), role=request.session.get("role"))
        context["csrftoken"] = request.scope["csrftoken"]()
        return templates.TemplateResponse(request, template, context, status_code=status)

    def page(*roles: str) -> Callable:
        """Route decorator: signed-in users of `roles` only (all roles when none given)."""

        def wrap(handler: Callable) -> Callable:
            def endpoint(request: Request) -> Response:
                role = request.session.get("role")
                if role is None:
                    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                if roles and role not in roles:
                    return render(request, "error.html", 403, message="Not allowed for your role.")
                try:
                    cur = snapshot.cursor()
                except NoSnapshot:
                    return render(request, "error.html", 503, message=NO_SNAPSHOT)
                try:
                    return handler(request, cur)
                finally:
                    cur.close()

            return endpoint

        return wrap

    def login_form(request: Request) -> Response:
        return render(request, "login.html", next=_safe_next(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        role = accounts.authenticate(settings, username, password)
        if role is None:
            return render(request, "login.html", 401, error="Wrong user name or password.")
        request.session.clear()  # a new session on sign-in: no fixation
        request.session.update(user=username, role=role)
        return RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)

    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @page()
    def home(request: Request, cur) -> Response:
        text = request.query_params.get("q", "").strip()[:200]
        staff = request.session["role"] == "store_staff"
        results = search(cur, text, identified_only=staff) if text else []
        return render(request, "search.html", q=text, results=results)

    @page()
    def person(request: Request, cur) -> Response:
        person_id = request.path_params["person_id"]
        staff = request.session["role"] == "store_staff"
        profile = queries.profile(cur, person_id)
        if profile is None or (staff and not profile["is_identified"]):
            raise HTTPException(404)
        accounts.log_access(settings, request.session["user"], person_id, "profile")
        channel = request.query_params.get("channel") or None
        timeline = queries.timeline(cur, person_id, channel)
        return render(
            request,
            "person.html",
            p=profile,
            channel=channel,
            channels=timeline["channels"],
            timeline=timeline["events"],
            charts=queries.charts(cur, person_id),
            contact=queries.contact(cur, person_id),
            identity=queries.identity(cur, person_id),
            segments=queries.person_segments(cur, person_id),
            scores=profile["scores"],
        )

    @page(*SEE_MARKETING)
    def segments(request: Request, cur) -> Response:
        return render(request, "segments.html", segments=queries.segments(cur, settings))

    @page(*SEE_MARKETING)
    def segment(request: Request, cur) -> Response:
        found = queries.segment(cur, settings, request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        return render(request, "segment.html", s=found)

    @page(*SEE_MARKETING)
    def syncs(request: Request, cur) -> Response:
        return render(request, "syncs.html", syncs=queries.syncs(cur))

    @page(*SEE_MARKETING)
    def sync(request: Request, cur) -> Response:
        name = request.path_params["name"]
        return render(request, "sync.html", name=name, runs=queries.sync_runs(cur, name))

    @page(*SEE_MARKETING)
    def sync_run(request: Request, cur) -> Response:
        found = queries.sync_run(cur, request.path_params["run_id"])
        if found is None:
            raise HTTPException(404)
        return render(request, "sync_run.html", run=found)

    @page("admin")
    def admin(request: Request, cur) -> Response:
        return render(
            request,
            "admin.html",
            users=accounts.list_users(settings),
            log=accounts.access_log(settings),
            snapshot=snapshot.path,
        )

    async def not_found(request: Request, exc: HTTPException) -> Response:
        code = exc.status_code
        return render(request, "error.html", code, message="Not found." if code == 404 else "")

    app = Starlette(
        routes=[
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/", home),
            Route("/person/{person_id}", person),
            Route("/segments", segments),
            Route("/segments/{name}", segment),
            Route("/syncs", syncs),
            Route("/syncs/{name}", sync),
            Route("/runs/{run_id}", sync_run),
            Route("/admin", admin),
            Route("/static/plotly.min.js", lambda r: _file(plotly_js())),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[
            Middleware(_SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=key,
                session_cookie="cdp_session",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=secure,
            ),
        ],
        exception_handlers={HTTPException: not_found},
    )
    return asgi_csrf(
        app,
        signing_secret=key,
        cookie_secure=secure,
        cookie_samesite="Strict",
        always_protect={"/login", "/logout"},
    )


NO_SNAPSHOT = (
    "No serving snapshot yet: it is published after a successful pipeline run "
    "(`cdp run` or `cdp demo`)."
)


def _safe_next(target: str | None) -> str:
    """Only local paths: no open redirect to another site after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _file(path: Path) -> Response:
    from starlette.responses import FileResponse

    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


class _SecurityHeaders:
    """CSP (scripts only from the app itself), no framing, no caching of personal pages."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
