"""A trivial Flask endpoint, served the same way as the mocks, as the benchmark's yardstick."""

from flask import Flask, jsonify, request

app = Flask("trivial")


@app.post("/echo")
def echo():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True) or {}
    return jsonify({"error_code": 0, "n": len(body.get("data", []))})


@app.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})
