"""`python -m app ...`: one entry point for operators. The database is DATABASE_URL for every command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.clock import SystemClock
from app.config import get_settings


def _sessionmaker():  # type: ignore[no-untyped-def]
    from app.db.session import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(get_settings().database_url))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level=args.log_level,
    )
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from app.db.migrate import upgrade

    upgrade(get_settings().database_url)
    print("database is at the latest schema revision")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from app.services import definitions
    from app.services.errors import ServiceError

    factory = _sessionmaker()
    files: list[Path] = []
    for path in [Path(p) for p in args.paths] or [get_settings().bpmn_dir]:
        if not path.exists():
            print(f"{path}: no such file or folder", file=sys.stderr)
            return 2
        files.extend(sorted(path.glob("*.bpmn")) if path.is_dir() else [path])
    status = 0
    for path in files:
        try:
            with factory() as session:
                definition, created = definitions.deploy_file(session, path, args.actor, SystemClock())
                warnings = definitions.warnings(session, definition)
        except ServiceError as exc:
            print(f"{path}: not deployed", file=sys.stderr)
            for problem in exc.detail if isinstance(exc.detail, list) else [exc.detail]:
                print(f"  {problem}", file=sys.stderr)
            status = 1
            continue
        word = "deployed" if created else "unchanged"
        print(f"{word}: {definition.key} version {definition.version} ({path}, sha256 {definition.sha256[:12]})")
        for warning in warnings:
            print(f"  warning: {warning['element_id']} (line {warning['line']}): {warning['message']}")
    return status


def cmd_seed_demo(_: argparse.Namespace) -> int:

    from app.services.users import seed_demo

    with _sessionmaker()() as session:
        result = seed_demo(session, os.environ.get("DEMO_PASSWORD"), SystemClock())
    if result.created_users:
        print(f"created users: {', '.join(result.created_users)}")
    else:
        print("demo organisations and users exist already; nothing changed")
    if result.password:
        print(f"generated password for the new demo users (shown once): {result.password}")
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    import getpass

    from app.services.errors import ServiceError
    from app.services.users import create_user

    memberships = []
    for item in args.member:
        org, _, role = item.partition(":")
        if not org or not role:
            print(f"--member {item!r}: write ORG:ROLE, e.g. MVD:officer", file=sys.stderr)
            return 2
        memberships.append((org, role))
    password = os.environ.get(args.password_env) if args.password_env else None
    if password is None:
        password = getpass.getpass(f"password for {args.username}: ")
    try:
        with _sessionmaker()() as session:
            create_user(
                session, args.username, args.full_name or args.username, password, memberships, "cli", SystemClock()
            )
    except ServiceError as exc:
        print(f"not created: {exc.detail}", file=sys.stderr)
        return 1
    print(f"created user {args.username} with {', '.join(f'{o}:{r}' for o, r in memberships) or 'no memberships'}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from app.services.timers import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # one line per task state change is noise here
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"timer worker: polling every {args.poll} s (Ctrl-C stops)", flush=True)
    run_worker(_sessionmaker(), SystemClock(), poll_seconds=args.poll, stop=stop)
    return 0


def cmd_timers_fire_due(args: argparse.Namespace) -> int:
    from datetime import datetime

    from app.clock import FixedClock
    from app.services.timers import fire_due

    clock: Any = SystemClock()
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            print(
                f"--at {args.at!r}: write an ISO instant with its offset, e.g. 2024-03-29T19:00:00+00:00",
                file=sys.stderr,
            )
            return 2
        if at.tzinfo is None:
            print("--at needs an offset or Z (an instant, not a local time)", file=sys.stderr)
            return 2
        if at > SystemClock().now() and get_settings().is_production:
            print("--at in the future is refused in production (APP_ENV=production)", file=sys.stderr)
            return 2
        clock = FixedClock(at)
    report = fire_due(_sessionmaker(), clock)
    print(f"woke {report.cases_woken} case(s) with timers due at {clock.now().isoformat()}")
    for failure in report.failures:
        print(f"  failed: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


def cmd_timers_rearm(args: argparse.Namespace) -> int:
    from app.calendar import default_calendar
    from app.services.timers import rearm_cases

    count = rearm_cases(_sessionmaker(), SystemClock(), args.reason, args.case)
    print(f"recomputed the armed timers of {count} case(s) with calendar {default_calendar().version[:12]}")
    return 0


def cmd_traceability(args: argparse.Namespace) -> int:
    from app.traceability import CatalogueError, build_matrix, render

    try:
        matrix = build_matrix(args.bpmn_dir, args.tests_dir, args.norms)
    except CatalogueError as exc:
        print(f"norm catalogue: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if matrix.problems:
            print(f"traceability: {len(matrix.problems)} problem(s)", file=sys.stderr)
            for problem in matrix.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        tests = {t.id for row in matrix.norms for t in row.tests}
        print(
            f"traceability: {len(matrix.norms)} norms, {len(matrix.elements)} flow nodes, {len(tests)} tests: "
            "no problems"
        )
        return 0
    # UTF-8 whatever the locale: the output quotes the Russian text and is redirected into docs/.
    sys.stdout.buffer.write(render(matrix, args.format).encode("utf-8"))
    sys.stdout.flush()
    return 0


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (uvicorn)")

    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="default: $HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default: $PORT or 8000")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply the alembic migrations (upgrade to head)")
    migrate.set_defaults(func=cmd_migrate)

    deploy = sub.add_parser("deploy", help="deploy BPMN diagrams (files or folders; forms from their forms/ folder)")
    deploy.add_argument("paths", nargs="*", help=f"default: {settings.bpmn_dir}")
    deploy.add_argument("--actor", default="cli", help="name recorded as the deployer")
    deploy.set_defaults(func=cmd_deploy)

    seed = sub.add_parser("seed-demo", help="create the demo organisations and users (password: $DEMO_PASSWORD)")
    seed.set_defaults(func=cmd_seed_demo)

    worker = sub.add_parser("worker", help="fire due timers (deadlines) until stopped; run one or more beside serve")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between looks for due timers (default 1)")
    worker.set_defaults(func=cmd_worker)

    timers = sub.add_parser("timers", help="timer administration")
    timers_sub = timers.add_subparsers(dest="timers_command", required=True)
    fire = timers_sub.add_parser("fire-due", help="fire every timer due now (or at --at) and exit")
    fire.add_argument("--at", help="ISO instant to fire at, e.g. 2024-03-29T19:00:00Z (future: not in production)")
    fire.set_defaults(func=cmd_timers_fire_due)
    rearm = timers_sub.add_parser("rearm", help="recompute armed timers, e.g. after kz.toml changed")
    rearm.add_argument("--case", help="only this case")
    rearm.add_argument("--reason", default="calendar changed", help="recorded in the audit event")
    rearm.set_defaults(func=cmd_timers_rearm)

    users = sub.add_parser("users", help="user administration")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a user with memberships")
    create.add_argument("username")
    create.add_argument("--full-name")
    create.add_argument(
        "--member",
        action="append",
        default=[],
        metavar="ORG:ROLE",
        help="membership, e.g. MVD:officer (repeatable); roles: officer head analyst auditor admin",
    )
    create.add_argument(
        "--password-env", metavar="VAR", help="read the password from this environment variable instead of prompting"
    )
    create.set_defaults(func=cmd_users_create)

    trace = sub.add_parser(
        "traceability", help="the matrix norm -> diagram elements -> rules -> tests (docs/traceability.md)"
    )
    trace.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="default: text")
    trace.add_argument("--check", action="store_true", help="print only the problems; exit 1 when there are any")
    trace.add_argument("--bpmn-dir", type=Path, default=settings.bpmn_dir, help=f"default: {settings.bpmn_dir}")
    trace.add_argument("--tests-dir", type=Path, default=None, help="default: the project's tests/")
    trace.add_argument("--norms", type=Path, default=None, help="norm catalogue (default: app/traceability/norms.toml)")
    trace.set_defaults(func=cmd_traceability)

    from app.cli_audit import add_commands as add_audit_commands  # audit verify|anchor, replay, export

    add_audit_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        print(f"database error: {reason}", file=sys.stderr)
        if "no such table" in reason or "does not exist" in reason:
            print("the database is not migrated yet: run `python -m app migrate` first", file=sys.stderr)
        return 3
