"""Huddle's server footprint beside a bare Flask-SocketIO hello-world, in one run.

Both are installed into fresh virtual environments in a temporary folder, from
the pins and hashes of ``requirements/app.lock`` (pip's cache makes a second
run quick): Huddle's whole lock, and for the baseline only Flask, Flask-SocketIO,
simple-websocket and gunicorn with their dependencies. Huddle's own code runs
from this checkout (``PYTHONPATH``), on the fresh venv's packages only.

Each server is started ``--runs`` times under the production server (gunicorn,
one worker, threads) and under Werkzeug; for each run:

- start: from spawning the process to the first 200 from ``/healthz``, and the
  CPU seconds its processes used by then (less sensitive to a busy machine);
- idle RSS, two seconds after that answer: the worker's, the gunicorn master's,
  and the sum of both processes' PSS (shared pages counted once: what the
  machine really spends);
- the same after 1,000 API calls (``GET /api/v1/healthz``, which reads the
  database; ``/healthz`` for the baseline).

Installed size: the venv's site-packages without pip and setuptools (the venv's
own tools), plus Huddle's code and PWA.

Goals (issue 14): idle RSS <= 60 MB, start <= 0.6 s, size <= 80 MB.
Medians are printed side by side.

    python bench/footprint.py [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements" / "app.lock"
BARE = ["blinker", "click", "flask", "flask-socketio", "itsdangerous", "jinja2", "markupsafe", "werkzeug",
        "python-socketio", "python-engineio", "bidict", "simple-websocket", "wsproto", "h11", "gunicorn",
        "packaging", "typing-extensions"]
VENV_TOOLS = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence.pth")
GOALS = {"start_s": 0.6, "idle_rss_mb": 60, "size_mb": 80}
LOAD: list[float] = []  # the machine's 1-minute load average when the runs start and end
BARE_APP = '''
from flask import Flask
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(app, async_mode="threading")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


if __name__ == "__main__":
    import sys
    socketio.run(app, port=int(sys.argv[1]), allow_unsafe_werkzeug=True, log_output=False)
'''


def lock_blocks() -> dict[str, str]:
    """requirement name -> its block (the pin and its hashes) in app.lock."""
    blocks, name = {}, None
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==", line)
        if match:
            name = match.group(1).lower().replace("_", "-")
            blocks[name] = line + "\n"
        elif name and line.startswith("    --hash"):
            blocks[name] += line + "\n"
        elif not line.startswith(" "):
            name = None
    return blocks


def make_venv(folder: Path, requirements: str) -> Path:
    """A venv with exactly these requirements; one kept from an earlier run
    (``--keep``) is reused while its requirements are the same."""
    python, wanted = folder / "bin" / "python", folder / "requirements.txt"
    if python.exists() and wanted.exists() and wanted.read_text() == requirements:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    wanted.write_text(requirements)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "--require-hashes", "-r", str(wanted)], capture_output=True, text=True)
    if done.returncode:
        wanted.unlink()
        raise SystemExit(f"pip install into {folder} failed:\n{done.stderr[-2000:]}")
    return python


def tree_mb(path: Path, compiled: bool = True) -> float:
    """File sizes under ``path``; ``compiled=False`` leaves out ``__pycache__``
    (a checkout's, which depends on what ran there)."""
    files = [p for p in path.rglob("*") if p.is_file() and (compiled or "__pycache__" not in p.parts)]
    return sum(p.stat().st_size for p in files) / 1e6


def site_mb(python: Path) -> float:
    """site-packages as pip left it (bytecode included), without the venv's own tools."""
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    return sum(tree_mb(p) if p.is_dir() else p.stat().st_size / 1e6
               for p in site.iterdir() if not p.name.startswith(VENV_TOOLS))


def memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process, MB."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    rss, pss = (int(re.search(rf"^{key}:\s+(\d+)", text, re.M).group(1)) for key in ("Rss", "Pss"))
    return rss / 1024, pss / 1024


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in found.read_text().split()] if found.exists() else []


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def snapshot(pid: int) -> dict[str, float]:
    worker = children(pid)
    main_rss, main_pss = memory(pid)
    if not worker:  # Werkzeug: one process
        return {"rss": main_rss, "master_rss": 0.0, "pss": main_pss}
    rss, pss = memory(worker[0])
    return {"rss": rss, "master_rss": main_rss, "pss": pss + main_pss}


def one_run(argv: list[str], env: dict[str, str], port: int, api_path: str) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None or time.perf_counter() - started > 30:
                    raise SystemExit(f"{' '.join(argv)} did not start")
                time.sleep(0.005)
        figures = {"start_s": time.perf_counter() - started,
                   "start_cpu_s": sum(cpu_s(p) for p in [proc.pid, *children(proc.pid)])}
        time.sleep(2)
        figures.update({f"idle_{k}": v for k, v in snapshot(proc.pid).items()})
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(1000):
                client.get(api_path).raise_for_status()
        figures.update({f"busy_{k}": v for k, v in snapshot(proc.pid).items()})
        return figures
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def servers(huddle_py: Path, bare_py: Path, tmp: Path) -> dict[str, tuple]:
    """name -> (argv builder, env, API path)."""
    (tmp / "bare_app.py").write_text(BARE_APP)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUDDLE_", "PYTHON"))}
    huddle_env = {**base, "PYTHONPATH": str(REPO), "HUDDLE_DATA": str(tmp / "data"), "HUDDLE_NETWORK": "regtest"}
    bare_env = {**base, "PYTHONPATH": str(tmp)}
    huddle = [str(huddle_py), "-c", "from coordinator.cli import main; main()", "serve", "--port"]
    gunicorn = [str(bare_py), "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "64", "bare_app:app", "-b"]
    return {
        "huddle, gunicorn": (lambda p: [*huddle, str(p)], huddle_env, "/api/v1/healthz"),
        "bare, gunicorn": (lambda p: [*gunicorn, f"127.0.0.1:{p}"], bare_env, "/healthz"),
        "huddle, werkzeug": (lambda p: [*huddle, str(p), "--dev"], huddle_env, "/api/v1/healthz"),
        "bare, werkzeug": (lambda p: [str(bare_py), str(tmp / "bare_app.py"), str(p)], bare_env, "/healthz"),
    }


def measure(runs: int, tmp: Path, venvs: Path) -> tuple[dict, dict]:
    blocks = lock_blocks()
    missing = [n for n in BARE if n not in blocks]
    if missing:
        raise SystemExit(f"not in {LOCK.name}: {missing}")
    print(f"venvs from {LOCK.relative_to(REPO)} in {venvs} (installing what is not there yet) ...", file=sys.stderr)
    huddle_py = make_venv(venvs / "huddle-venv", LOCK.read_text())
    bare_py = make_venv(venvs / "bare-venv", "".join(blocks[n] for n in BARE))
    sizes = {"huddle": site_mb(huddle_py) + tree_mb(REPO / "coordinator", False) + tree_mb(REPO / "pwa", False),
             "bare": site_mb(bare_py)}
    table = servers(huddle_py, bare_py, tmp)
    # The database made and migrated once, so that each start is a restart.
    subprocess.run([str(huddle_py), "-c", "from coordinator.cli import main; main()", "wallet", "list"],
                   env=table["huddle, gunicorn"][1], stdout=subprocess.DEVNULL, check=True)
    results: dict[str, list[dict]] = {name: [] for name in table}
    LOAD.append(os.getloadavg()[0])
    for _ in range(runs):  # interleaved, so that machine load hits every server alike
        for name, (argv, env, api) in table.items():
            port = free_port()
            results[name].append(one_run(argv(port), env, port, api))
    LOAD.append(os.getloadavg()[0])
    return {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in results.items()}, sizes


def report(medians: dict, sizes: dict, runs: int) -> None:
    names = list(medians)
    rows = [("start to first answer, s", "start_s", "{:.3f}", GOALS["start_s"]),
            ("  CPU used by then, s", "start_cpu_s", "{:.2f}", None),
            ("idle RSS, serving process, MB", "idle_rss", "{:.1f}", GOALS["idle_rss_mb"]),
            ("idle RSS, gunicorn master, MB", "idle_master_rss", "{:.1f}", None),
            ("idle PSS, all processes, MB", "idle_pss", "{:.1f}", GOALS["idle_rss_mb"]),
            ("RSS after 1,000 API calls, MB", "busy_rss", "{:.1f}", None),
            ("PSS after 1,000 API calls, MB", "busy_pss", "{:.1f}", None)]
    width = max(len(n) for n in names) + 2
    print(f"medians of {runs} runs; load average {LOAD[0]:.2f} at the start, {LOAD[-1]:.2f} at the end "
          f"({os.cpu_count()} cores)")
    print(f"{'':32}" + "".join(f"{n:>{width}}" for n in names) + f"{'goal':>8}")
    for label, key, fmt, goal in rows:
        print(f"{label:32}" + "".join(f"{fmt.format(medians[n][key]):>{width}}" for n in names)
              + (f"{'<= ' + str(goal):>8}" if goal else ""))
    print(f"{'installed size, MB':32}{sizes['huddle']:>{width}.1f}{sizes['bare']:>{width}.1f}"
          f"{'':>{2 * width}}{'<= ' + str(GOALS['size_mb']):>8}")
    print("(size: site-packages without pip/setuptools; Huddle's adds its coordinator/ and pwa/ folders)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the two venvs in this folder and reuse them next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huddle-footprint-") as tmp:
        medians, sizes = measure(args.runs, Path(tmp), args.keep or Path(tmp))
    report(medians, sizes, args.runs)


if __name__ == "__main__":
    main()
