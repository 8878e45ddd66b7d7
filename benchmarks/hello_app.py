"""The reference floor: a minimal Flask application served by waitress the way app.py serves the project.

`python benchmarks/hello_app.py --port 8081 [--threads 4]`. Every Flask check-in pays at least this much
per request; the load benchmark measures it in the same run as the project.
"""
from __future__ import annotations

import argparse
import logging

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "ok\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    # The same waitress settings as app.py, so the only difference is the application.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    import waitress

    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="hello",
                   clear_untrusted_proxy_headers=True)


if __name__ == "__main__":
    main()
