"""The one call the benchmark scripts beside this file make: a timed, blocking /v1/completions request.
Standard library only (the GPU hosts have no extra packages)."""
import json
import time
import urllib.request


def post(url, body):
    """POSTs body as JSON to url's /v1/completions; returns (milliseconds taken, decoded response)."""
    req = urllib.request.Request(url + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as resp:
        out = json.loads(resp.read())
    return (time.perf_counter() - t0) * 1000.0, out
