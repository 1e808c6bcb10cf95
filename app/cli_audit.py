"""The auditors' commands of `python -m app`: `audit verify|anchor`, `replay`, `export xes|history`.

They run as the operator who has the database's URL; each check or export is itself recorded in
the case-less audit chain (actor `--actor`, default `cli`), as the same act over HTTP would be.
Exit codes: 0 all good, 1 something is broken (a chain, an anchor, a replay), 2 bad arguments."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from app.clock import SystemClock
from app.config import get_settings


def _factory():  # type: ignore[no-untyped-def]
    from app.db.session import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(get_settings().database_url))


def _record(factory: Any, actor: str, type_: str, payload: dict[str, Any]) -> None:
    """Best effort: a read-only database (a replica) still lets the check run; say it was not recorded."""
    from app.services import auditing

    try:
        auditing.record_access(factory, actor, SystemClock(), type_, payload)
    except Exception as exc:  # whatever the database says, the check's result stands
        print(f"note: this access could not be recorded in the audit log ({exc.__class__.__name__})", file=sys.stderr)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from app.audit import verify
    from app.services import auditing

    factory = _factory()
    statement = None
    if args.anchor:
        try:
            statement = json.loads(Path(args.anchor).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"--anchor {args.anchor}: cannot read an anchor statement: {exc}", file=sys.stderr)
            return 2
    with factory() as session:
        report = verify.verify(session, args.case)
        anchor = verify.check_anchor(session, statement, auditing.anchor_key(get_settings())) if statement else None
    status = 0
    if report.chains and args.case and report.chains[0].events == 0:
        print(f"case {args.case}: no audit events (no such case?)", file=sys.stderr)
        status = 1
    print(f"checked {len(report.chains)} chain(s), {report.events} event(s)")
    for found in report.breaks:
        print(f"  BROKEN {found.describe()}")
        status = 1
    if report.ok:
        print("  every hash chain is intact")
    if anchor is not None:
        print(
            f"anchor {statement.get('root', '?')[:16]}… of {statement.get('generated_at')}: "
            f"{anchor.anchored_chains} chain head(s) anchored, {anchor.extended} extended since; "
            f"signature {anchor.signature}"
        )
        for problem in anchor.problems:
            print(f"  ANCHOR {problem}")
        for item in anchor.missing:
            print(
                f"  MISSING chain {item['chain']}: anchored head seq {item['seq']} is gone "
                f"(the chain now ends at seq {item['stored_head_seq']})"
            )
        for item in anchor.changed:
            print(
                f"  CHANGED chain {item['chain']} seq {item['seq']}: anchored {item['anchored_hash'][:16]}…, "
                f"stored {item['stored_hash'][:16]}…"
            )
        if anchor.ok:
            print("  the database still extends everything the anchor saw")
        else:
            status = 1
    payload = {"view": "audit_verify", "instance_id": args.case, "ok": status == 0, "events_checked": report.events}
    if statement:
        payload["anchor_root"] = statement.get("root")
    _record(factory, args.actor, "audit_viewed", payload)
    return status


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    from app.audit import verify
    from app.services import auditing

    factory = _factory()
    with factory() as session:
        statement = verify.make_anchor(session, SystemClock().now(), auditing.anchor_key(get_settings()))
    text = json.dumps(statement, ensure_ascii=False, indent=1, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"anchor of {len(statement['chains'])} case chain(s) written to {args.out}; root {statement['root']}")
    else:
        print(text)
    signed = statement["signature"] is not None
    _record(factory, args.actor, "exported", {"export": "anchor", "root": statement["root"], "signed": signed})
    return 0


def _progress(done: int, total: int, width: int = 30) -> None:
    filled = width * done // total if total else width
    sys.stdout.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
    sys.stdout.flush()


def cmd_replay(args: argparse.Namespace) -> int:
    from app.services import auditing
    from app.services.errors import NotFound

    if not args.case and not args.all:
        print("say which: --case ID or --all", file=sys.stderr)
        return 2
    factory = _factory()
    started = time.perf_counter()
    try:
        results = auditing.replay_database(factory, args.case, progress=None if args.quiet else _progress)
    except NotFound as exc:
        print(str(exc.detail), file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    if not args.quiet:
        sys.stdout.write("\n")
    diverged = [r for r in results if not r.identical]
    per_case = f", {1000 * seconds / len(results):.1f} ms per case" if results else ""
    print(
        f"replayed {len(results)} case(s): {len(results) - len(diverged)} identical, {len(diverged)} diverged "
        f"({seconds:.2f} s{per_case})"
    )
    for r in diverged:
        d = r.divergence
        assert d is not None
        where = f"seq {d.seq} ({d.event_type})" if d.seq is not None else "final state"
        print(f"  DIVERGED {r.instance_id} ({r.business_key}): first diverging event {where}: {d.reason}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.as_dict() for r in results], indent=1), encoding="utf-8")
    _record(
        factory,
        args.actor,
        "audit_viewed",
        {
            "view": "replay",
            "instance_id": args.case,
            "cases": len(results),
            "diverged": [r.instance_id for r in diverged],
        },
    )
    return 1 if diverged else 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: write a date as YYYY-MM-DD") from exc


def cmd_export_xes(args: argparse.Namespace) -> int:
    from app.services import exports
    from app.services.errors import ServiceError

    factory = _factory()
    try:
        with factory() as session:
            found = exports.xes_log(session, args.key, args.from_, args.to, SystemClock().now(), args.version)
    except ServiceError as exc:
        print(f"not exported: {exc.detail}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_bytes(found.content)
        print(f"{found.cases} case(s), {found.events} event(s) written to {args.out} (sha256 {found.sha256})")
    else:
        sys.stdout.buffer.write(found.content)
        sys.stdout.flush()
    _record(
        factory,
        args.actor,
        "exported",
        {
            "export": "xes",
            "definition_key": args.key,
            "version": args.version,
            "period": [args.from_.isoformat(), args.to.isoformat()],
            "cases": found.cases,
            "events": found.events,
            "sha256": found.sha256,
        },
    )
    return 0


def add_commands(sub: Any) -> None:
    """Register the commands on `python -m app`'s sub-command parser."""
    audit = sub.add_parser("audit", help="tamper evidence: verify the hash chains, issue anchors")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    check = audit_sub.add_parser("verify", help="recompute the hash chains; with --anchor, check an anchor too")
    check.add_argument("--case", help="only this case's chain (default: every chain and the case-less one)")
    check.add_argument("--anchor", metavar="FILE", help="an anchor statement (GET /api/audit/anchor) to check")
    check.add_argument("--actor", default="cli", help="name recorded for this check (default cli)")
    check.set_defaults(func=cmd_audit_verify)
    anchor = audit_sub.add_parser("anchor", help="write a statement of every chain's head (keep it outside)")
    anchor.add_argument("--out", metavar="FILE", help="write it here (default: print it)")
    anchor.add_argument("--actor", default="cli", help="name recorded for this export (default cli)")
    anchor.set_defaults(func=cmd_audit_anchor)

    replay = sub.add_parser("replay", help="rebuild cases from their audit events and compare with the stored state")
    which = replay.add_mutually_exclusive_group()
    which.add_argument("--case", help="one case")
    which.add_argument("--all", action="store_true", help="every case")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.add_argument("--json", metavar="FILE", help="also write every case's result as JSON")
    replay.add_argument("--actor", default="cli", help="name recorded for this check (default cli)")
    replay.set_defaults(func=cmd_replay)

    export = sub.add_parser("export", help="export event logs")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    xes = export_sub.add_parser("xes", help="a definition's cases started in a period, as XES (IEEE 1849)")
    xes.add_argument("--key", required=True, help="process definition key, e.g. communication")
    xes.add_argument("--from", dest="from_", required=True, type=_date, help="first day (Asia/Almaty), YYYY-MM-DD")
    xes.add_argument("--to", required=True, type=_date, help="last day, inclusive")
    xes.add_argument("--version", type=int, help="only cases of this definition version")
    xes.add_argument("--out", metavar="FILE", help="write it here (default: standard output)")
    xes.add_argument("--actor", default="cli", help="name recorded for this export (default cli)")
    xes.set_defaults(func=cmd_export_xes)
