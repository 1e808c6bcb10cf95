"""Where the server's time goes: run `python -m app serve` under py-spy while one scenario runs.

    .venv/bin/pip install py-spy          # once
    .venv/bin/python bench/profile_server.py minimal      # start + complete A + complete B, one client
    .venv/bin/python bench/profile_server.py chapter      # chapter 2-1 completions, one client
    .venv/bin/python bench/profile_server.py inbox        # GET /api/tasks with 2,000 open cases
    .venv/bin/python bench/profile_server.py minimal --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

The setup (database, demo users, open cases for `inbox`) runs against a plain server first; then a
second server on the same database runs under `py-spy record` for the measured requests only. The
samples are grouped by the app/ function they are in (first match from the top of the list below)
and converted to milliseconds of server CPU per request with the CPU time /proc reports for the
server. Idle samples (event loop waiting, idle thread-pool workers) are left out. `--raw FILE` keeps
py-spy's collapsed stacks for flame graphs.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import lifecycle as L  # noqa: E402

# Samples are attributed to the innermost app/ function on the stack (so a query counts for the
# service function that issued it), except that all engine work is one group. Samples with no app/
# function below the route go to the framework groups.
ENGINE = ("app/engine/", "SpiffWorkflow/")
NOT_APP = ("app/__main__.py", "app/cli.py", "app/main.py", "app/api/app.py", "app/api/guard.py")
FRAMEWORK: list[tuple[str, tuple[str, ...]]] = [
    ("FastAPI serialize_response (response_model validation + JSON)", ("serialize_response (",)),
    ("FastAPI/Starlette/anyio: routing, dependencies, thread pool, middleware", ("fastapi/", "starlette/", "anyio/")),
    ("uvicorn + asyncio (HTTP, event loop)", ("uvicorn/", "asyncio/")),
]
IDLE_LEAVES = ("Condition.wait", "Runner.run", "select (", "EpollSelector.select")


def _norm(frame: str, site: str) -> str:
    frame = re.sub(r":\d+\)$", ")", frame)
    return frame.replace(site, "").replace(str(L.ROOT) + "/", "")


def classify(raw: Path) -> tuple[collections.Counter[str], int, float]:
    site = next((p for p in sys.path if p.endswith("site-packages")), "site-packages") + "/"
    buckets: collections.Counter[str] = collections.Counter()
    total = 0
    sqlalchemy = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = [_norm(f, site) for f in stack.split(";")]
        if frames[-1].startswith(IDLE_LEAVES) or any("_find_and_load" in f or "issue_token (" in f for f in frames):
            continue  # idle, imports at start-up, or logins (argon2, before the measured requests)
        text = ";".join(frames)
        count = int(n)
        total += count
        sqlalchemy += count if "sqlalchemy/" in text else 0
        app_frames = [f for f in frames if "(app/" in f and not any(x in f for x in NOT_APP)]
        if any(e in text for e in ENGINE):
            label = "engine: app/engine + SpiffWorkflow (restore, run, serialise)"
        elif app_frames:
            label = app_frames[-1]
        else:
            label = next((name for name, pats in FRAMEWORK if any(p in text for p in pats)), "other")
        buckets[label] += count
    return buckets, total, sqlalchemy / total if total else 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=["minimal", "chapter", "inbox"])
    p.add_argument("--database-url", help="as for lifecycle.py; default a temp SQLite file")
    p.add_argument("--count", type=int, default=0, help="lifecycles / requests (default 300 / 20 / 1000)")
    p.add_argument("--open-cases", type=int, default=2000, help="open cases for 'inbox' (default 2000)")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = p.parse_args()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not py_spy:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    count = args.count or {"minimal": 300, "chapter": 20, "inbox": 1000}[args.scenario]
    password = "bench-" + secrets.token_urlsafe(16)
    tmp = Path(tempfile.mkdtemp(prefix="kz-profile-"))
    raw = args.raw or tmp / "stacks.txt"
    try:
        with L.scratch_database(args.database_url) as url:
            env = {**os.environ, "DATABASE_URL": url, "DEMO_PASSWORD": password}
            L.run_cli(["migrate"], env)
            L.run_cli(["deploy", "bpmn", str(L.MINIMAL_BPMN.relative_to(L.ROOT))], env)
            L.run_cli(["seed-demo"], env)
            if args.scenario == "inbox":
                with L.server(env, 1, "warning", tmp / "setup.log") as (base, _pid):
                    L.run_threads(4, args.open_cases, base, password, lambda u, i: L.minimal_case(u, None, True))
            port = L.free_port()
            base = f"http://127.0.0.1:{port}"
            cmd = [
                py_spy,
                "record",
                "-r",
                str(args.rate),
                "-f",
                "raw",
                "-o",
                str(raw),
                "--",
                sys.executable,
                "-m",
                "app",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            with open(tmp / "server.log", "wb") as log:
                proc = subprocess.Popen(cmd, cwd=L.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the profiled server did not start: {(tmp / 'server.log').read_text()}")
                    time.sleep(0.1)
                server_pid = next(  # py-spy's child: the python running uvicorn
                    int(d.parent.name)
                    for d in Path("/proc").glob("[0-9]*/stat")
                    if d.read_text().rsplit(")", 1)[1].split()[1] == str(proc.pid)
                )
                logins = L.DEMO_USERS if args.scenario == "chapter" else ("mfa.officer",)
                # warm-up, not counted in the CPU figure (it is in the samples; keep it small)
                L.run_threads(1, 3, base, password, lambda u, i: L.minimal_case(u, None), logins)
                c0 = L.process_cpu_seconds(server_pid)
                if args.scenario == "minimal":
                    rec, secs, _ = L.run_threads(1, count, base, password, lambda u, i: L.minimal_case(u, "m"))
                elif args.scenario == "chapter":
                    rec, secs, _ = L.run_threads(
                        1, count, base, password, lambda u, i: L.chapter_case(u, i + 1), logins
                    )
                else:
                    u = L.UserThread(base, password, L.Recorder())
                    u.headers("mfa.officer")
                    for _ in range(count):
                        u.call("GET /api/tasks", "GET", "/api/tasks", "mfa.officer", params={"page_size": 50})
                    rec = u.rec
                    u.close()
                used = L.process_cpu_seconds(server_pid) - c0
            finally:
                proc.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
                proc.wait(timeout=120)
        requests = sum(len(v) for op, v in rec.samples.items() if not op.startswith(("login", "chapter: complete ")))
        requests += len(rec.samples.get("chapter: complete task", []))
        buckets, total, sqla = classify(raw)
        per_request = used / requests * 1000 if requests else float("nan")
        print(
            f"\n{args.scenario}: {requests} requests, server CPU {used:.1f} s = {per_request:.2f} ms per request "
            f"(under py-spy at {args.rate} Hz); {total} busy samples; {sqla * 100:.0f}% of them in SQLAlchemy"
        )
        for op, v in sorted(rec.samples.items()):
            if not op.startswith("login"):
                print(f"  {op:<60} p50 {L.percentile(v, 0.5):7.2f} ms  (inflated by the profiler)")
        print(f"\n{'share':>6} {'ms/req':>7}  where")
        ranked = buckets.most_common()
        for label, n in ranked[:20]:
            print(f"{n / total * 100:5.1f}% {n / total * per_request:7.2f}  {label}")
        rest = sum(n for _, n in ranked[20:])
        if rest:
            print(
                f"{rest / total * 100:5.1f}% {rest / total * per_request:7.2f}  ({len(ranked) - 20} more, each smaller)"
            )
        if args.raw:
            print(f"\ncollapsed stacks: {raw}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
