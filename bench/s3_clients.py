"""S3 client comparison behind docs/files.md: obstore vs aiobotocore, put/get of 10 KiB and 1 MiB
objects against moto's server on loopback. Needs `pip install obstore aiobotocore "moto[server]"`."""
import asyncio
import os
import socket
import subprocess
import sys
import time

import obstore
from aiobotocore.session import get_session
from obstore.store import S3Store


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

async def main():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        sess = get_session()
        async with sess.create_client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s") as c:
            for _ in range(100):
                try:
                    await c.create_bucket(Bucket="hearth-bench")
                    break
                except Exception as e:
                    last = e
                    await asyncio.sleep(0.1)
            else:
                raise last
            store = S3Store("hearth-bench", endpoint=url, region="us-east-1", access_key_id="k", secret_access_key="s", client_options={"allow_http": True})
            for size, n in ((10*1024, 200), (1024*1024, 30)):
                data = os.urandom(size)
                # warm
                await obstore.put_async(store, "w", data)
                await c.put_object(Bucket="hearth-bench", Key="w", Body=data)
                for name in ("obstore", "aiobotocore"):
                    t = time.perf_counter()
                    for i in range(n):
                        if name == "obstore":
                            await obstore.put_async(store, f"k{i}", data)
                        else:
                            await c.put_object(Bucket="hearth-bench", Key=f"k{i}", Body=data)
                    tput = (time.perf_counter() - t) / n * 1000
                    t = time.perf_counter()
                    for i in range(n):
                        if name == "obstore":
                            r = await obstore.get_async(store, f"k{i}")
                            got = b"".join([bytes(ch) async for ch in r.stream()])
                        else:
                            r = await c.get_object(Bucket="hearth-bench", Key=f"k{i}")
                            got = b"".join([ch async for ch in r["Body"].iter_chunks()])
                        assert got == data
                    tget = (time.perf_counter() - t) / n * 1000
                    print(f"{name:12s} {size//1024:5d} KiB put {tput:6.2f} ms  get {tget:6.2f} ms")
    finally:
        proc.kill()
asyncio.run(main())
