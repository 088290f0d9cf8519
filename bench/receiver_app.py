"""A webhook receiver that answers 200 at once (or after --delay seconds, or drops the connection).
Run: python bench/receiver_app.py PORT [--delay S]"""

import argparse
import asyncio

import uvicorn

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--delay", type=float, default=0.0)
args = parser.parse_args()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if args.delay:
        await asyncio.sleep(args.delay)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", access_log=False,
            log_level="warning")
