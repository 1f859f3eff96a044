"""``python -m sandbox [--host 127.0.0.1] [--port 8081] [--personas personas.yaml]``

Serves a local Telegram Bot API stand-in with a web page at ``/`` until Ctrl-C. Without
``--personas`` a few sample residents and staff are offered on the page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from sandbox.server import load_personas, serve_forever

SAMPLE_PERSONAS = [
    {"id": 10001, "name": "张阿姨", "username": "zhang_ayi", "role_label": "居民 · 3栋2单元"},
    {"id": 10002, "name": "李师傅", "username": "li_shifu", "role_label": "居民 · 5栋"},
    {"id": 20001, "name": "王网格员", "username": "wang_grid", "role_label": "专职网格员 · 第一网格"},
    {"id": 20002, "name": "赵网格长", "role_label": "网格长 · 第一网格"},
    {"id": 30001, "name": "陈书记", "role_label": "社区工作人员"},
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local Telegram Bot API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--personas", help="JSON or YAML file with a list of {id, name, username?, role_label?}"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    personas = load_personas(args.personas) if args.personas else SAMPLE_PERSONAS
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.host, args.port, personas))


if __name__ == "__main__":
    main()
