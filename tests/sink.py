#!/usr/bin/env python3
"""sink.py: a small SMTP sink for the mail-pool tests.

    sink.py PORT --log FILE [--rate N] [--hold FILE] [--reject ADDR]...
        [--dump DIR]

Accepts every message and appends "accepted MESSAGE-ID" to the log.  With
--rate, a MAIL command when N messages or more were accepted in the last
second is answered "421 4.7.0" and the connection closed ("421" in the
log), as a throttling mailbox platform does.  With --hold, while FILE
exists the reply to DATA waits ("held" in the log, once per message).
With --reject, RCPT TO that address is answered "550 5.1.1".  With
--dump, each message accepted is written to DIR/N.eml (N from 1), its
MAIL FROM path on a first line "X-Sink-From: <path>".
"""
import argparse
import asyncio
import collections
import os
import re
import time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--log", required=True)
ap.add_argument("--rate", type=float, default=0)
ap.add_argument("--hold")
ap.add_argument("--reject", action="append", default=[])
ap.add_argument("--dump")
a = ap.parse_args()
dumped = [0]
log = open(a.log, "a", buffering=1)
accepted = collections.deque()


async def reply(w, text):
    w.write(text.encode() + b"\r\n")
    await w.drain()


async def handle(r, w):
    mfrom = "?"
    try:
        await reply(w, "220 sink.test ESMTP")
        while True:
            line = await r.readline()
            if not line:
                break
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                await reply(w, "250 sink.test")
            elif cmd == b"MAIL":
                now = time.monotonic()
                while accepted and accepted[0] <= now - 1:
                    accepted.popleft()
                if a.rate and len(accepted) >= a.rate:
                    log.write("421\n")
                    await reply(w, "421 4.7.0 too fast, slow down")
                    break
                mfrom = re.search(rb"<([^>]*)>", line)
                mfrom = mfrom.group(1).decode() if mfrom else "?"
                await reply(w, "250 2.1.0 ok")
            elif cmd == b"RCPT":
                rto = re.search(rb"<([^>]*)>", line)
                if rto and rto.group(1).decode().lower() in a.reject:
                    await reply(w, "550 5.1.1 <%s>: no such user"
                                % rto.group(1).decode())
                else:
                    await reply(w, "250 2.1.5 ok")
            elif cmd == b"DATA":
                if a.hold and os.path.exists(a.hold):
                    log.write("held\n")
                    while os.path.exists(a.hold):
                        await asyncio.sleep(0.05)
                await reply(w, "354 go ahead")
                mid = "none"
                body = []
                while True:
                    d = await r.readline()
                    if not d or d == b".\r\n":
                        break
                    body.append(d)
                    m = re.match(rb"(?i)message-id:\s*(\S+)", d)
                    if m and mid == "none":
                        mid = m.group(1).decode("ascii", "replace")
                if not d:
                    break
                accepted.append(time.monotonic())
                if a.dump:
                    dumped[0] += 1
                    with open(os.path.join(a.dump, "%d.eml" % dumped[0]),
                              "wb") as f:
                        f.write(b"X-Sink-From: <%s>\r\n" % mfrom.encode())
                        f.write(b"".join(body))
                log.write("accepted %s\n" % mid)
                await reply(w, "250 2.0.0 queued as S%d" % len(accepted))
            elif cmd in (b"RSET", b"NOOP"):
                await reply(w, "250 2.0.0 ok")
            elif cmd == b"QUIT":
                await reply(w, "221 2.0.0 bye")
                break
            else:
                await reply(w, "502 5.5.1 no")
    except ConnectionError:
        pass
    w.close()


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", a.port)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
