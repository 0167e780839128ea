"""Slow clients cannot starve a served app (issue 16, item 7).

Four connections send a request's headers and then trickle its body at one byte per second, more
connections than the server has Python threads. While they are all still trickling, `GET /health`
must be answered. Under granian the body is read by its Rust I/O before a Python thread takes the
request, so the threads stay free; gunicorn's threaded worker hands the connection to a thread
that then blocks reading the body, which is what the gunicorn case shows (it is expected to fail).

Bounded: each slow client sends at most `TRICKLE_BYTES` bytes, one a second, then closes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from cutover.supervisor import Supervisor, free_port_block

pytestmark = pytest.mark.serial  # starts servers and waits on the wall clock

SLOW_CLIENTS = 4
TRICKLE_BYTES = 25
HEALTH_TIMEOUT = 10.0
"""Far longer than /health takes on a loaded machine, far shorter than the slow clients' 25 s."""


@contextlib.contextmanager
def trickling(port: int, stop: threading.Event) -> Iterator[list[threading.Thread]]:
    """`SLOW_CLIENTS` connections, each posting a body one byte a second until `stop` or the bound."""
    def client() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"POST /api/auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
            for _ in range(TRICKLE_BYTES):
                if stop.wait(1.0):
                    return
                with contextlib.suppress(OSError):
                    sock.sendall(b" ")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(SLOW_CLIENTS)]
    for t in threads:
        t.start()
    try:
        yield threads
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)


@pytest.mark.parametrize("server", [
    "granian",
    pytest.param("gunicorn", marks=pytest.mark.xfail(strict=True, reason="gthread blocks a thread per slow body")),
])
def test_health_answers_while_slow_clients_trickle(server: str, tmp_path: object) -> None:
    port = free_port_block(1)
    with Supervisor(workers=1, threads=SLOW_CLIENTS, server=server) as sup:
        sup.start_mocks(["portal"], ports={"portal": port}, database_url=f"sqlite:///{tmp_path}/m.db",
                        admin_token="t")
        stop = threading.Event()
        with trickling(port, stop) as clients:
            time.sleep(2.0)  # every slow client has connected and sent its headers
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/health", timeout=HEALTH_TIMEOUT,
                                    headers={"Connection": "close"})
            except requests.Timeout:
                pytest.fail(f"/health was not answered within {HEALTH_TIMEOUT:.0f} s while "
                            f"{SLOW_CLIENTS} clients trickled their bodies ({server})")
            assert resp.status_code == 200
            assert all(t.is_alive() for t in clients), "the slow clients must still be trickling"
