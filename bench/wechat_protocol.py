"""Micro-benchmark of the WeChat safe-mode message layer, ours beside wechatpy's.

One operation = what the callback does for one encrypted request, minus the view and database:
check signature and timestamp, check msg_signature and decrypt, parse the message, render a text
reply, encrypt and sign it. The same prebuilt requests (text, menu click, location, subscribe
with scene) go through both implementations; each is timed over several rounds and the best
round counts (the least disturbed by other processes on a shared machine). Rounds alternate
between the two implementations.

    python bench/wechat_protocol.py            # 20,000 operations × 5 rounds each
    python bench/wechat_protocol.py --smoke    # 200 × 2, a second or so

Prints one JSON document: {ours: {ops_per_second, us_per_op, cpu_us_per_op}, wechatpy: {…} or
null when it is not installed, ours_to_wechatpy (> 1: ours is faster; by CPU time), operations,
rounds, message_mix, versions}.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "powerdesk" / "channels" / "wechat" / "tests" / "fixtures"
MESSAGE_MIX = ["text.xml", "event_click.xml", "location.xml", "event_subscribe_qrscene.xml"]
TOKEN = "powerdesk"  # noqa: S105 (the demo account's published callback token)
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx5d3a1c0e9b7f2468"
TIMESTAMP = 1772330400
WINDOW_SECONDS = 300
REPLY = "您的户号 0000000001 本月电费 128.50 元，截至今日余额 36.20 元。"


def _requests(crypto) -> list[tuple[bytes, object]]:
    """Safe-mode requests as WeChat sends them: (body, query)."""
    from powerdesk.channels.wechat.crypto import signature_for
    from powerdesk.channels.wechat.protocol import CallbackQuery

    requests = []
    for index, name in enumerate(MESSAGE_MIX):
        nonce = f"{1320562132 + index}"
        encrypt, msg_signature = crypto.encrypt((FIXTURES / name).read_bytes(), nonce, TIMESTAMP)
        body = f"<xml><ToUserName><![CDATA[gh_3f2a9c1d7e5b]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        query = CallbackQuery(
            signature=signature_for(TOKEN, TIMESTAMP, nonce),
            timestamp=str(TIMESTAMP),
            nonce=nonce,
            encrypt_type="aes",
            msg_signature=msg_signature,
        )
        requests.append((body.encode(), query))
    return requests


def _ours(requests):
    from powerdesk.channels.wechat.protocol import (
        WeChatCrypto,
        read_callback,
        render_text_reply,
        wrap_encrypted_reply,
    )

    crypto = WeChatCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)
    now = datetime.fromtimestamp(TIMESTAMP, tz=UTC)

    def operation(body, query):
        message = read_callback(
            body, query, token=TOKEN, crypto=crypto, now=now, window_seconds=WINDOW_SECONDS
        ).message
        reply = render_text_reply(
            to_user=message.from_user, from_user=message.to_user, create_time=TIMESTAMP, content=REPLY
        )
        return wrap_encrypted_reply(crypto, reply, nonce=query.nonce, timestamp=TIMESTAMP)

    return operation


def _wechatpy(requests):
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

    crypto = WeChatCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)
    now = TIMESTAMP

    def operation(body, query):
        check_signature(TOKEN, query.signature, query.timestamp, query.nonce)
        if abs(now - int(query.timestamp)) > WINDOW_SECONDS:  # wechatpy has no window check
            raise ValueError("stale")
        plaintext = crypto.decrypt_message(body, query.msg_signature, query.timestamp, query.nonce)
        message = parse_message(plaintext)
        reply = TextReply(message=message, content=REPLY, time=TIMESTAMP).render()
        return crypto.encrypt_message(reply, query.nonce, TIMESTAMP)

    return operation


def _measure(operations_by_name: dict, requests, *, operations: int, rounds: int) -> dict:
    """Rounds alternate between the implementations (A B A B …) so that a noisy neighbour on a
    shared machine hurts both alike; the best round of each counts, by wall and by CPU time."""
    for operation in operations_by_name.values():
        for body, query in requests:  # warm up, and prove it works before timing it
            operation(body, query)
    best = {name: {"wall": float("inf"), "cpu": float("inf")} for name in operations_by_name}
    for _ in range(rounds):
        for name, operation in operations_by_name.items():
            wall_began, cpu_began = time.perf_counter(), time.process_time()
            for index in range(operations):
                body, query = requests[index % len(requests)]
                operation(body, query)
            best[name]["wall"] = min(best[name]["wall"], time.perf_counter() - wall_began)
            best[name]["cpu"] = min(best[name]["cpu"], time.process_time() - cpu_began)
    return {
        name: {
            "ops_per_second": round(operations / seconds["wall"]),
            "us_per_op": round(seconds["wall"] / operations * 1e6, 1),
            "cpu_us_per_op": round(seconds["cpu"] / operations * 1e6, 1),
        }
        for name, seconds in best.items()
    }


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def bench(*, smoke: bool = False, sizes: list[int] | None = None, **options) -> dict:
    sys.path.insert(0, str(ROOT))
    from powerdesk.channels.wechat.protocol import WeChatCrypto

    operations, rounds = (200, 2) if smoke else (20_000, 5)
    requests = _requests(WeChatCrypto(TOKEN, ENCODING_AES_KEY, APP_ID))
    implementations = {"ours": _ours(requests)}
    try:
        implementations["wechatpy"] = _wechatpy(requests)
    except ImportError:  # a test-only peer; the figure for ours still stands without it
        pass
    results = _measure(implementations, requests, operations=operations, rounds=rounds)
    ours, theirs = results["ours"], results.get("wechatpy")
    return {
        "operation": "signature + timestamp + msg_signature + decrypt + parse + render text reply + encrypt",
        "operations": operations,
        "rounds": rounds,
        "message_mix": MESSAGE_MIX,
        "ours": ours,
        "wechatpy": theirs,
        # Throughput ratio by CPU time (wall time on a shared machine measures the neighbours too).
        "ours_to_wechatpy": round(theirs["cpu_us_per_op"] / ours["cpu_us_per_op"], 2) if theirs else None,
        "versions": {
            "python": platform.python_version(),
            "cryptography": _version("cryptography"),
            "defusedxml": _version("defusedxml"),
            "wechatpy": _version("wechatpy"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="200 operations, 2 rounds")
    args = parser.parse_args(argv)
    print(json.dumps(bench(smoke=args.smoke), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
