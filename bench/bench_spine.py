"""How long from a phone's SMTP send to the photos on the client's timeline, against a bare SMTP delivery.

Run: .venv/bin/python bench/bench_spine.py [SAMPLE.eml] [--rounds N]
Baseline, measured in the same run: the same bytes delivered over SMTP to an aiosmtpd sink that only
keeps them. The ratio says what accepting durably, parsing, rendering and posting cost on top.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.handlers import Sink  # noqa: E402

from feed.db import migrate  # noqa: E402
from tests.processes import base_env, free_port, portal_session, running, workfeed  # noqa: E402
from workfeed.localredis import start_local_redis  # noqa: E402
from workfeed.sending import demo_update, send_raw  # noqa: E402

DEFAULT_SAMPLE = ROOT.parent / "shared" / "samples" / "01-iphone-three-photos-exif-rotated.eml"
STAFF = "dan.mercer@buildco.example"


def with_message_id(raw: bytes, n: int) -> bytes:
    """Give each round its own Message-ID so no round is mistaken for a resend."""
    return raw.replace(b"Message-ID: <", f"Message-ID: <bench{n}.".encode(), 1)


def bare_delivery(raw: bytes, to: str) -> float:
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        started = time.perf_counter()
        send_raw("127.0.0.1", controller.port, raw, to, STAFF)
        return time.perf_counter() - started
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", nargs="?", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workfeed-bench-") as folder:
        tmp = Path(folder)
        redis_process, redis_url = start_local_redis(tmp / "redis")
        database_url = f"sqlite:///{tmp / 'bench.db'}"
        migrate(database_url)
        env = base_env(tmp, database_url, redis_url)
        try:
            with running(env, "smtp", "web", "worker", logs=tmp / "logs"):
                created = json.loads(
                    workfeed(
                        env,
                        "project",
                        "create",
                        "Holloway Kitchen",
                        "--owner",
                        STAFF,
                        "--client",
                        "Jane <jane@example.com>",
                        "--json",
                    ).stdout
                )
                to = created["address"]
                raw = args.sample.read_bytes() if args.sample.is_file() else demo_update(STAFF, to)
                browser = portal_session(created["clients"][0]["link"])
                timeline = browser.get(created["clients"][0]["link"], timeout=10).url
                posted, bare = [], []
                for n in range(args.rounds):
                    message = with_message_id(raw, n)
                    bare.append(bare_delivery(message, to))
                    marker = "/media/"
                    before = browser.get(timeline, timeout=10).text.count(marker)
                    started = time.perf_counter()
                    send_raw(env["GATEWAY_HOST"], int(env["GATEWAY_PORT"]), message, to, STAFF)
                    while browser.get(timeline, timeout=10).text.count(marker) <= before:
                        if time.perf_counter() - started > 60:
                            raise SystemExit("the update did not appear within 60 s")
                        time.sleep(0.05)
                    posted.append(time.perf_counter() - started)
        finally:
            redis_process.terminate()
    base, total = statistics.median(bare), statistics.median(posted)
    print(
        f"sample: {args.sample.name if args.sample.is_file() else 'made-up update'} ({len(raw)} bytes), "
        f"{args.rounds} rounds"
    )
    print(f"baseline  bare SMTP delivery to a sink: median {base * 1000:.1f} ms")
    print(
        f"workfeed  SMTP send to visible on the client's timeline: median {total * 1000:.1f} ms "
        f"(max {max(posted) * 1000:.1f} ms)"
    )
    print(f"ratio     {total / base:.1f}x the bare delivery")


if __name__ == "__main__":
    main()
