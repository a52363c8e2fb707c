#!/usr/bin/env python3
"""smtpchat: send raw bytes to an SMTP server and print its replies.

    smtpchat.py PORT [--wait SECONDS] [--step] [--early] < script

The script is sent as is (bytes). Without --step it is sent in one write
after the banner; with --step, line by line, each after the previous
reply or half a second without one (lines of a message get no reply).
--early sends without waiting for the banner. Replies are printed as they
come, CRLF turned into LF, until the server closes or --wait seconds pass
without a byte.
"""
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    wait = 2.0
    step = False
    early = False
    args = sys.argv[2:]
    while args:
        a = args.pop(0)
        if a == "--wait":
            wait = float(args.pop(0))
        elif a == "--step":
            step = True
        elif a == "--early":
            early = True
    data = sys.stdin.buffer.read()
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    out = sys.stdout.buffer

    def drain(until_quiet, timeout=None):
        got = b""
        s.settimeout(timeout or wait)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return got, True
                got += chunk
                out.write(chunk.replace(b"\r\n", b"\n"))
                out.flush()
                if not until_quiet and got.endswith(b"\r\n"):
                    # a complete last line without a continuation mark
                    last = got[:-2].split(b"\r\n")[-1]
                    if len(last) < 4 or last[3:4] != b"-":
                        return got, False
        except socket.timeout:
            return got, False
        except ConnectionResetError:
            return got, True

    if not early:
        _, closed = drain(False)
        if closed:
            return
    if step:
        for line in data.splitlines(keepends=True):
            try:
                s.sendall(line)
            except (BrokenPipeError, ConnectionResetError):
                return
            _, closed = drain(False, 0.5)
            if closed:
                return
    else:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
    drain(True)


main()
