"""`cdp app` (the web app on the serving snapshot) and `cdp app user add|list` (its accounts).

Serve the web app. Needs CDP_APP_SECRET_KEY (a random secret, 32+ chars) and at least one
account (`cdp app user add NAME --role admin`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from cdp.commands import add_command, doc_description


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "app", _serve, description=doc_description(__doc__))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    sub = p.add_subparsers(dest="app_command", metavar="{user}")
    user = add_command(sub, "user", help="accounts of the app").add_subparsers(
        dest="user_command", required=True
    )
    add = add_command(user, "add", _user_add)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("admin", "marketing", "store_staff"))
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_command(user, "list", _user_list)


def free_port() -> int:
    """A free local TCP port, for a `cdp app` started by a test or a benchmark."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(port: int, proc: subprocess.Popen) -> None:
    """Wait until the `cdp app` process `proc` accepts connections on `port`."""
    import socket
    import time

    while True:
        assert proc.poll() is None, "cdp app exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)


def _serve(args: argparse.Namespace) -> int:
    """the single customer view web app (http://127.0.0.1:8000), on the serving snapshot"""
    import uvicorn

    from app.web import ConfigurationError, create_app

    try:
        application = create_app()
    except ConfigurationError as exc:
        print(f"cdp app: {exc}", file=sys.stderr)
        return 2
    print(f"Single customer view on http://{args.host}:{args.port}/ (Ctrl-C stops it)")
    uvicorn.run(application, host=args.host, port=args.port, log_level="warning")
    return 0


def _user_add(args: argparse.Namespace) -> int:
    """create an account (the password is asked twice)"""
    import getpass

    from app.accounts import AccountError, add_user
    from cdp.settings import get_settings

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("cdp app user add: the passwords differ", file=sys.stderr)
            return 2
    try:
        add_user(get_settings(), args.username, args.role, password)
    except AccountError as exc:
        print(f"cdp app user add: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.username} ({args.role}) created")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    """list the accounts"""
    from app.accounts import list_users
    from cdp.settings import get_settings

    for username, role, created in list_users(get_settings()):
        print(f"{username:<24} {role:<12} {created}")
    return 0
