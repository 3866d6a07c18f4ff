"""Every render in a process of its own that can be stopped: a template is tenant code, and signup is
free.

Each process that renders (a worker) starts one *render server* (``python -m`` this module) that has
docxtpl imported and warmed. For each render the server forks a fresh child, a few milliseconds, that
reads one request, sets its limits before it touches the template, renders, answers and exits:

- CPU: ``RLIMIT_CPU`` of ``limits.seconds`` (SIGXCPU, then SIGKILL a second later, from the kernel);
- memory: ``RLIMIT_AS`` of the child's address space at fork plus ``limits.memory_mb`` (an allocation
  past it raises ``MemoryError``);
- wall clock: ``alarm(limits.seconds)`` in the child, and a SIGKILL from the caller a second later;
- priority: ``RENDER_NICENESS`` below the worker, so that renders never starve the converters.

So nothing one template does (memory, module state, caches) is seen by the next, and a worker killed
mid-render leaves a child that stops by itself. The server runs at most one child per CPU; requests
beyond that wait their turn (outside the budget). It exits when the worker closes the control socket or
dies; a server found dead is started again at the next render.

Outcomes of ``render``: the DOCX bytes; ``TemplateBroken`` for anything the template causes, limits
included ("rendering exceeded 10 s" / "rendering exceeded 200 MB"), which the caller fails for good;
``RenderCrashed`` when the child ended without an answer before its time was up (a signal nobody
meant), which the caller retries. Linux only (``/proc``, ``SOCK_SEQPACKET``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass
from typing import Any

from app.documents.rendering import TemplateBroken, render_docx

_LENGTH = struct.Struct("!I")
# Each render child runs this much nicer than its worker: with documents queued, the CPU goes to the
# LibreOffice converters (the bottleneck) first, and a render fills the time a conversion leaves.
RENDER_NICENESS = 5
_server: subprocess.Popen[bytes] | None = None
_control: socket.socket | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: int = 10
    memory_mb: int = 200


class RenderCrashed(Exception):
    """The render child ended without an answer and without running out of time."""


class _OutOfTime(BaseException):
    """Raised in the child by SIGALRM or SIGXCPU; a BaseException so that no handler in the rendering
    code takes it for the template's own error."""


def start() -> None:
    """Start this process's render server unless it runs (cheap to call before every render). Requests
    sent while it is still importing (~0.3 s) wait in its socket."""
    global _server, _control
    if _server is not None and _server.poll() is None:
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        _server = subprocess.Popen(  # noqa: S603 - this module, with our own interpreter
            [sys.executable, "-m", __name__, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
        )
    finally:
        theirs.close()
    if _control is not None:
        _control.close()
    _control = ours


def stop() -> None:
    """Stop the render server (renders under way finish by themselves, within their limits)."""
    global _server, _control
    if _control is not None:
        _control.close()
        _control = None
    if _server is not None:
        try:
            _server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _server.kill()
            _server.wait()
        _server = None


async def render(
    template: bytes, context: dict[str, Any], limits: Limits, images: dict[str, bytes] | None = None
) -> bytes:
    """Render ``template`` with ``context`` (JSON-serialisable) and ``images`` (pictures by variable
    path, ``rendering.render_docx``) in a fresh child under ``limits``."""
    pictures = images or {}
    mine, theirs = socket.socketpair()
    try:
        _send(theirs)
    finally:
        theirs.close()
    reader, writer = await asyncio.open_connection(sock=mine)
    pid, outcome = 0, b""
    try:
        try:
            pid = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))[0]  # it runs: so does the clock
        except (asyncio.IncompleteReadError, ConnectionError) as exc:  # the server died meanwhile
            raise RenderCrashed("the render server went away") from exc
        loop = asyncio.get_running_loop()
        started = loop.time()
        request = json.dumps(
            {"limits": asdict(limits), "context": context, "images": list(pictures)}, ensure_ascii=False
        ).encode()
        frames = [request, template, *pictures.values()]  # the pictures after the template, in order
        writer.write(b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames))
        await writer.drain()
        try:
            async with asyncio.timeout(limits.seconds + 1):
                outcome = await reader.readexactly(1)
                size = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))[0]
                payload = await reader.readexactly(size)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            outcome, payload = b"T", b""
        except (asyncio.IncompleteReadError, ConnectionError):
            ran_out = loop.time() - started >= limits.seconds - 0.5  # alarm or CPU limit, from the kernel
            outcome, payload = (b"T", b"") if ran_out else (b"?", b"")
    finally:
        writer.close()
        if pid and not outcome:  # the caller gave up (cancelled): so does the child
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if outcome == b"D":
        return payload
    if outcome == b"B":
        raise TemplateBroken(payload.decode("utf-8", "replace"))
    if outcome == b"M":
        raise TemplateBroken(f"rendering exceeded {limits.memory_mb} MB")
    if outcome == b"T":
        raise TemplateBroken(f"rendering exceeded {limits.seconds} s")
    raise RenderCrashed("the render process ended without an answer")


def _send(connection: socket.socket) -> None:
    """Hand one end of a fresh connection to the server (starting it again once if it died)."""
    for attempt in (1, 2):
        start()
        assert _control is not None
        try:
            socket.send_fds(_control, [b"r"], [connection.fileno()])
            return
        except OSError:
            if attempt == 2:
                raise
            stop()


# --- the server and its children (in the ``python -m`` process) ---------------------------------


def _serve(control: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the worker; we follow when it closes
    _warm()
    capacity = os.cpu_count() or 1
    running: set[int] = set()
    while True:
        _reap(running, capacity)
        message, fds, _, _ = socket.recv_fds(control, 1, 1)
        if not message:
            return  # the worker closed its end, or died
        if not fds:
            continue
        connection = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            control.close()
            code = 0
            try:
                _render_one(connection)
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        connection.close()
        running.add(pid)


def _reap(running: set[int], capacity: int) -> None:
    """Collect finished children; wait for one while ``capacity`` of them run."""
    while running:
        pid, _ = os.waitpid(-1, 0 if len(running) >= capacity else os.WNOHANG)
        if pid == 0:
            return
        running.discard(pid)


def _warm() -> None:
    """A render of every shipped template at start, so each child inherits warm caches (compiled
    regexes and the like) and the compiled code of the shipped templates
    (``rendering.compile_shipped``), then ``gc.freeze`` so that the children do not copy pages just to
    scan them."""
    from app.documents import kinds
    from app.documents.rendering import compile_shipped, default_template_path

    shipped = [
        (path.read_bytes(), kinds.sample(kind, locale))
        for kind in kinds.KINDS
        for locale in kinds.LOCALES
        if (path := default_template_path(kind, locale)).exists()
    ]
    with contextlib.suppress(Exception):
        compile_shipped(shipped)
    gc.freeze()


def _render_one(connection: socket.socket) -> None:
    connection.sendall(_LENGTH.pack(os.getpid()))
    request = json.loads(_receive(connection))
    template = _receive(connection)
    images = {path: _receive(connection) for path in request["images"]}
    limits = Limits(**request["limits"])
    os.nice(RENDER_NICENESS)
    _confine(limits)
    outcome, payload = b"D", b""
    try:
        payload = render_docx(template, request["context"], images)
    except TemplateBroken as exc:
        outcome, payload = b"B", str(exc).encode()
    except MemoryError:
        outcome, payload = b"M", b""
    except _OutOfTime:
        outcome, payload = b"T", b""
    signal.alarm(0)
    connection.sendall(outcome + _LENGTH.pack(len(payload)) + payload)


def _receive(connection: socket.socket) -> bytes:
    size = _LENGTH.unpack(_exactly(connection, _LENGTH.size))[0]
    return _exactly(connection, size)


def _exactly(connection: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = connection.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the caller went away")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _out_of_time(signum: int, frame: Any) -> None:
    raise _OutOfTime()


def _confine(limits: Limits) -> None:
    """No core file; ``limits.seconds`` of CPU and of wall clock; an address space of what the child
    maps now plus ``limits.memory_mb`` (the budget is the render's own, not the server's)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXCPU, _out_of_time)
    signal.signal(signal.SIGALRM, _out_of_time)
    resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 1))
    signal.alarm(limits.seconds)
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    budget = mapped + limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
