"""granian as the live supervisor starts it: `python -m cutover.granian_main GRANIAN-ARGS...`.

The same guard as gunicorn's `on_starting` (`cutover.gunicorn_conf`): under the supervisor, Linux
sends this server SIGTERM when the supervisor dies, however it dies. Then granian's own command line.
"""

from __future__ import annotations

from granian.cli import entrypoint

from cutover.gunicorn_conf import on_starting


def main() -> None:
    on_starting(None)
    entrypoint()


if __name__ == "__main__":
    main()
