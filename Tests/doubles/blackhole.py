#!/usr/bin/env python3
"""Fault listeners for clearml-probe tests (stdlib only).

`blackhole`: accepts TCP connections, reads and discards whatever arrives, never answers
(the "accepts and never answers" fault: libcurl/hiredis/libmongoc end at their I/O timeout).
`syndrop` (with --syndrop): a listen(0) socket whose accept queue is filled at start, so new
SYNs are dropped (the "connect timeout" fault; loopback only: dropping SYNs needs no route to a real unreachable network).

Launch:  python3 blackhole.py [--port 0] [--syndrop] [--syndrop-port 0] [--no-stdin-watch]
Ready:   one stdout line  {"ready":true,"ports":{"blackhole":N}}  (+ "syndrop":M with --syndrop)
Exit:    when stdin reaches EOF (unless --no-stdin-watch) or on SIGTERM/SIGINT.
"""

import argparse
import socket
import threading

from double_support import listen, run_until_exit


def _drain(conn):
    with conn:
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass


def blackhole(port):
    srv = listen(port, 128)

    def loop():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=_drain, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def syndrop(port):
    """A listener that never accepts, with its accept queue full: further SYNs are dropped."""
    srv = listen(port, 0)
    addr = srv.getsockname()
    fillers = []
    for _ in range(16):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.2)
        try:
            c.connect(addr)
            fillers.append(c)
        except (socket.timeout, OSError):
            c.close()
            break  # the queue is full now
    return srv, fillers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--syndrop", action="store_true")
    ap.add_argument("--syndrop-port", type=int, default=0)
    ap.add_argument("--no-stdin-watch", action="store_true")
    a = ap.parse_args()

    keep = [blackhole(a.port)]
    ports = {"blackhole": keep[0].getsockname()[1]}
    if a.syndrop:
        srv, fillers = syndrop(a.syndrop_port)
        keep += [srv, *fillers]
        ports["syndrop"] = srv.getsockname()[1]
    run_until_exit(ports, not a.no_stdin_watch)


if __name__ == "__main__":
    main()
