#!/bin/sh
# Entry point of the cutover image: run one role.
#
#   portal | payment | docaxis | ca   a mock on $PORT ($WORKERS processes x $THREADS threads) under the
#                                     server $CUTOVER_SERVER chooses: granian (the default) or gunicorn
#   provincial                        the reference provincial system, the same way
#   locust-master | locust-worker     Locust on loadtests/locustfile.py, distributed
#   health                            the container health probe for the running role (a headless Locust
#                                     master: its worker port; with the web UI: the UI)
#   cutover ...                       the CLI (certify, units, ...); anything else is exec'd as given
#
# Configuration is CUTOVER_* variables (docs/deployment.md): CUTOVER_DATABASE_URL,
# CUTOVER_ADMIN_TOKEN, CUTOVER_<SERVICE>_PUBLIC_URL, CUTOVER_SERVER, ... The WSGI roles run the one entry
# of each app (cutover.wsgi) under the server and settings `cutover serve` uses (cutover/container.py).
set -eu

ROLE_FILE="${TMPDIR:-/tmp}/cutover-role"

locustfile() {
  if [ -n "${LOCUSTFILE:-}" ]; then echo "$LOCUSTFILE"; return; fi
  python -c 'import loadtests, os; print(os.path.join(os.path.dirname(loadtests.__file__), "locustfile.py"))'
}

role="${1:-help}"
[ "$#" -gt 0 ] && shift

case "$role" in
  portal|payment|docaxis|ca|provincial)
    echo "$role" > "$ROLE_FILE"
    # The server CUTOVER_SERVER chooses (granian by default, or gunicorn), with the command line the
    # live supervisor uses for `cutover serve` (cutover/container.py); options after the role go to it.
    exec python -m cutover.container "$role" "$@"
    ;;
  locust-master)
    # The health probe follows the mode: a headless master serves no web UI, only its worker port.
    mode=web
    case " $* " in *" --headless "*) mode=headless ;; esac
    case "$(printf '%s' "${LOCUST_HEADLESS:-}" | tr 'A-Z' 'a-z')" in true|1|yes|on) mode=headless ;; esac
    echo "$role $mode" > "$ROLE_FILE"
    exec locust -f "$(locustfile)" --master --web-host 0.0.0.0 --web-port "${LOCUST_WEB_PORT:-8089}" \
      --master-bind-port "${LOCUST_MASTER_PORT:-5557}" "$@"
    ;;
  locust-worker)
    echo "$role" > "$ROLE_FILE"
    exec locust -f "$(locustfile)" --worker --master-host "${LOCUST_MASTER_HOST:-locust-master}" \
      --master-port "${LOCUST_MASTER_PORT:-5557}" "$@"
    ;;
  health)
    current="$(cat "$ROLE_FILE" 2>/dev/null || echo none)"
    case "$current" in
      "locust-master headless")
        exec python -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4).close()' \
          "${LOCUST_MASTER_PORT:-5557}" ;;
      "locust-master web") url="http://127.0.0.1:${LOCUST_WEB_PORT:-8089}/" ;;
      locust-worker|none) exit 0 ;;
      *) url="http://127.0.0.1:${PORT:-8000}/health" ;;
    esac
    exec python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4).read()' "$url"
    ;;
  cutover)
    exec cutover "$@"
    ;;
  help|-h|--help)
    sed -n '2,14p' "$0"
    exit 0
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
