#!/usr/bin/env python3
"""Abuse load for an HTTP port, while probing health endpoints.

Opens slow-header ("trickle"), idle and large-body ("poster") connections against one
server, and meanwhile GETs the probe paths on fresh connections, recording their latency.
The probes run in their own process so that the load generator's own CPU use does not
delay their timing. Standard library only.

Example:
  http_abuse.py --port 8080 --trickle 250 --idle 250 --warmup 3 --duration 20 \\
      --pid $(pidof okr-server) --assert-p99-ms 1000

Prints one JSON line on stdout and a human summary on stderr. With --assert-p99-ms the
exit status is 1 when the probe p99 is above the limit or any probe failed.
"""

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import resource
import sys
import time

PROBE_TIMEOUT_S = 5.0


def raise_nofile_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


async def read_response(reader):
    """Reads one HTTP/1.1 response; returns (status, keep_alive)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed before the status line")
    parts = status_line.split(None, 2)
    status = int(parts[1])
    length = None
    chunked = False
    close = False
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed in the response headers")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, not close


def close_writer(writer):
    try:
        writer.transport.abort()
    except Exception:  # noqa: BLE001 -- best effort on an already broken socket
        pass


class Load:
    """The abusive connections: trickle, idle and posters."""

    def __init__(self, args, stop):
        self.args = args
        self.stop = stop
        self.trickle_closes = 0
        self.idle_closes = 0
        self.connect_errors = 0
        self.post_status = collections.Counter()

    async def _connect(self):
        while not self.stop.is_set():
            try:
                return await asyncio.open_connection(self.args.host, self.args.port)
            except OSError:
                self.connect_errors += 1
                await asyncio.sleep(0.1)
        return None, None

    async def _wait_closed(self, reader, timeout):
        """True when the server closed (or answered) within timeout."""
        try:
            data = await asyncio.wait_for(reader.read(4096), timeout)
        except asyncio.TimeoutError:
            return False
        except OSError:
            return True
        if data:
            # The server answered (e.g. 408/400) and will close; drain to EOF.
            try:
                while await asyncio.wait_for(reader.read(4096), 5.0):
                    pass
            except (asyncio.TimeoutError, OSError):
                pass
        return True

    async def trickle(self, delay):
        await asyncio.sleep(delay)
        head = f"POST {self.args.trickle_path} HTTP/1.1\r\nHost: x\r\n".encode()
        while not self.stop.is_set():
            reader, writer = await self._connect()
            if writer is None:
                return
            try:
                writer.write(head)
                await writer.drain()
                while not self.stop.is_set():
                    if await self._wait_closed(reader, self.args.trickle_interval):
                        self.trickle_closes += 1
                        break
                    writer.write(b"X-a: b\r\n")
                    await writer.drain()
            except OSError:
                self.trickle_closes += 1
            finally:
                close_writer(writer)

    async def idle(self, delay):
        await asyncio.sleep(delay)
        while not self.stop.is_set():
            reader, writer = await self._connect()
            if writer is None:
                return
            try:
                while not self.stop.is_set():
                    if await self._wait_closed(reader, 1.0):
                        self.idle_closes += 1
                        break
            finally:
                close_writer(writer)

    async def poster(self, delay, body):
        await asyncio.sleep(delay)
        extra = "".join(f"{h}\r\n" for h in self.args.post_headers)
        head = (
            f"POST {self.args.post_path} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        ).encode()
        reader = writer = None
        while not self.stop.is_set():
            if writer is None:
                reader, writer = await self._connect()
                if writer is None:
                    return
            sender = None
            try:
                writer.write(head)
                sender = asyncio.ensure_future(self._send_body(writer, body))
                status, keep_alive = await asyncio.wait_for(read_response(reader), 60.0)
                self.post_status[str(status)] += 1
                if not sender.done():
                    # Answered before the whole body went out (413): the connection is
                    # unusable for another request.
                    keep_alive = False
                else:
                    sender.result()
                if not keep_alive:
                    close_writer(writer)
                    writer = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                    IndexError):
                if not self.stop.is_set():
                    self.post_status["error"] += 1
                close_writer(writer)
                writer = None
                await asyncio.sleep(0.05)
            finally:
                if sender is not None and not sender.done():
                    sender.cancel()
        if writer is not None:
            close_writer(writer)

    @staticmethod
    async def _send_body(writer, body):
        writer.write(body)
        await writer.drain()


async def run_load(args, stop_after):
    stop = asyncio.Event()
    load = Load(args, stop)
    tasks = []
    # Open the connections gradually over ~1 s so the opening is not the bottleneck.
    total = max(1, args.trickle + args.idle + args.posters)
    step = args.ramp / total
    i = 0
    for _ in range(args.trickle):
        tasks.append(asyncio.ensure_future(load.trickle(i * step)))
        i += 1
    for _ in range(args.idle):
        tasks.append(asyncio.ensure_future(load.idle(i * step)))
        i += 1
    body = b"x" * args.post_bytes
    for _ in range(args.posters):
        tasks.append(asyncio.ensure_future(load.poster(i * step, body)))
        i += 1
    await asyncio.sleep(stop_after)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return load


async def probe_once(host, port, path):
    """Returns (latency seconds, ok)."""
    t0 = time.monotonic()
    writer = None
    try:

        async def go():
            nonlocal writer
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status, _ = await read_response(reader)
            return status

        status = await asyncio.wait_for(go(), PROBE_TIMEOUT_S)
        return time.monotonic() - t0, status == 200
    except asyncio.TimeoutError:
        return PROBE_TIMEOUT_S, False
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError, ConnectionError):
        return time.monotonic() - t0, False
    finally:
        if writer is not None:
            close_writer(writer)


def probe_process(args, out_queue):
    raise_nofile_limit()

    async def main():
        latencies = []
        errors = 0
        error_kinds = collections.Counter()
        pending = set()
        start = time.monotonic()
        measure_from = start + args.warmup
        measure_to = measure_from + args.duration

        async def one(path, record):
            nonlocal errors
            lat, ok = await probe_once(args.host, args.port, path)
            if record:
                latencies.append(lat)
                if not ok:
                    errors += 1
                    error_kinds[path] += 1

        next_at = start
        while True:
            now = time.monotonic()
            if now >= measure_to:
                break
            record = now >= measure_from
            for path in args.probe_paths:
                t = asyncio.ensure_future(one(path, record))
                pending.add(t)
                t.add_done_callback(pending.discard)
            next_at += args.probe_interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return latencies, errors, dict(error_kinds)

    out_queue.put(asyncio.run(main()))


def read_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def sample_rss(pid, seconds, box):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rss = read_rss_kib(pid)
        if rss is not None:
            box[0] = max(box[0] or 0, rss)
        await asyncio.sleep(1.0)


async def run_all(args):
    total = args.warmup + args.duration
    rss_box = [None]
    coros = [run_load(args, total)]
    if args.pid:
        coros.append(sample_rss(args.pid, total, rss_box))
    results = await asyncio.gather(*coros)
    return results[0], rss_box[0]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--trickle", type=int, default=0, help="slow-header connections")
    p.add_argument("--trickle-path", default="/webhooks/x")
    p.add_argument("--trickle-interval", type=float, default=2.0)
    p.add_argument("--idle", type=int, default=0, help="connections that send nothing")
    p.add_argument("--posters", type=int, default=0, help="clients POSTing large bodies")
    p.add_argument("--post-path", default="/webhooks/x")
    p.add_argument("--post-bytes", type=int, default=1048576)
    p.add_argument("--post-headers", action="append", default=[], metavar="K: V")
    p.add_argument("--probe-paths", default="/healthz,/readyz")
    p.add_argument("--probe-interval", type=float, default=0.05)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--ramp", type=float, default=1.0, help="seconds to open the load")
    p.add_argument("--pid", type=int, default=0, help="sample VmRSS of this process")
    p.add_argument("--assert-p99-ms", type=float, default=None)
    args = p.parse_args(argv)
    args.probe_paths = [s for s in args.probe_paths.split(",") if s]
    return args


def main(argv):
    args = parse_args(argv)
    nofile = raise_nofile_limit()
    needed = args.trickle + args.idle + args.posters + 200
    if nofile < needed:
        print(f"http_abuse: RLIMIT_NOFILE is {nofile}, need ~{needed}", file=sys.stderr)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    prober = ctx.Process(target=probe_process, args=(args, queue), daemon=True)
    prober.start()
    t0 = time.monotonic()
    load, rss_max = asyncio.run(run_all(args))
    latencies, probe_errors, error_kinds = queue.get()
    prober.join()
    elapsed = time.monotonic() - t0
    lat = sorted(latencies)
    ms = lambda v: None if v is None else round(v * 1000.0, 2)  # noqa: E731
    result = {
        "probe_p50_ms": ms(percentile(lat, 50)),
        "probe_p99_ms": ms(percentile(lat, 99)),
        "probe_max_ms": ms(lat[-1] if lat else None),
        "probe_errors": probe_errors,
        "probes": len(lat),
        "trickle_closes": load.trickle_closes,
        "trickle_closes_per_s": round(load.trickle_closes / elapsed, 2),
        "idle_closes": load.idle_closes,
        "idle_closes_per_s": round(load.idle_closes / elapsed, 2),
        "connect_errors": load.connect_errors,
        "post_status_counts": dict(load.post_status),
        "rss_max_kib": rss_max,
    }
    print(json.dumps(result), flush=True)
    print(
        f"probes {len(lat)} errors {probe_errors} {error_kinds or ''} "
        f"p50 {result['probe_p50_ms']} ms p99 {result['probe_p99_ms']} ms "
        f"max {result['probe_max_ms']} ms | trickle closes {load.trickle_closes} "
        f"({result['trickle_closes_per_s']}/s) idle closes {load.idle_closes} "
        f"connect errors {load.connect_errors} | posts {dict(load.post_status)} | "
        f"rss max {rss_max} KiB",
        file=sys.stderr,
    )
    if args.assert_p99_ms is not None:
        p99 = result["probe_p99_ms"]
        if p99 is None or p99 > args.assert_p99_ms or probe_errors:
            print(f"http_abuse: FAIL p99 {p99} ms (limit {args.assert_p99_ms} ms), "
                  f"{probe_errors} probe errors", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
