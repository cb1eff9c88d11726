#!/usr/bin/env python3
"""A TCP proxy that can stall: what a database looks like behind HAProxy, PgBouncer or a cloud proxy while
the server behind it is gone (its machine died, a failover is under way). The port keeps accepting, but
nothing answers.

    stall-proxy.py TARGET_PORT      # prints "listening PORT" once ready

SIGUSR1: stall. Bytes on open connections are held, new connections are accepted and never answered.
SIGUSR2: recover. Every connection open at that moment is closed (as HAProxy's `on-marked-down
shutdown-sessions` does), and new ones are forwarded again.
Used by Tests/EndToEndTests/RequestDeadlineTests.swift.
"""
import asyncio
import signal
import sys

# A parent may have blocked signals in the threads it spawns from (Foundation's Process does): unblock ours.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT})
TARGET = ("127.0.0.1", int(sys.argv[1]))
state = {"stalled": False}
open_writers = set()


async def held():
    while state["stalled"]:
        await asyncio.sleep(0.02)


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await held()
            if writer.is_closing():
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(client_reader, client_writer):
    open_writers.add(client_writer)
    await held()
    if client_writer.is_closing():
        return
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(*TARGET)
    except OSError:
        client_writer.close()
        return
    open_writers.add(upstream_writer)
    await asyncio.gather(pump(client_reader, upstream_writer), pump(upstream_reader, client_writer))
    open_writers.discard(client_writer)
    open_writers.discard(upstream_writer)


def stall():
    state["stalled"] = True


def recover():
    for writer in list(open_writers):
        writer.close()
    open_writers.clear()
    state["stalled"] = False


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, stall)
    loop.add_signal_handler(signal.SIGUSR2, recover)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
