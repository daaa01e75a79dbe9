"""An HTTP-like service over socketpairs, with a CPU-heavy handler.

CLIENTS connections, each a socketpair: a client thread sends REQUESTS
requests (a request line and headers), waits for the reply, then thinks for
THINK_MS (time.sleep) before the next one. A handler thread per connection
reads a request, parses it, and renders the reply in pure Python (WORK loop
turns: the CPU-heavy part, holding the GIL), then sends it. The handlers
compete for the GIL with each other, and a client whose reply arrived waits
for it too (the convoy of convoy.py, in a service).

    python3 http_server.py [REQUESTS] [CLIENTS] [WORK] [THINK_MS]

The last line is what the program measured about itself: the median time
from sending a request to having read the whole reply (time.perf_counter,
in the client)."""
import json
import socket
import sys
import threading
import time


def read_until(sock, buf, end):
    """Reads from sock until buf holds `end`; returns (head, rest)."""
    while end not in buf:
        data = sock.recv(4096)
        if not data:
            return None, buf
        buf += data
    head, rest = buf.split(end, 1)
    return head, rest


def render(path, headers, work):
    """The handler's work: pure Python, no I/O, no C call that lets go."""
    rows = []
    acc = 0
    for i in range(work):
        acc = (acc * 31 + i) % 1000003
        if i % 500 == 0:
            rows.append("<li>%s %d %d</li>" % (path, i, acc))
    return ("<html><body><h1>%s</h1><p>%d headers</p><ul>%s</ul></body></html>"
            % (path, len(headers), "".join(rows))).encode()


def handler(sock, work):
    buf = b""
    while True:
        head, buf = read_until(sock, buf, b"\r\n\r\n")
        if head is None:
            return
        lines = head.decode().split("\r\n")
        _method, path, _version = lines[0].split(" ")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        body = render(path, headers, work)
        sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def client(sock, n, think_s, me, latencies):
    buf = b""
    for i in range(n):
        t = time.perf_counter()
        sock.sendall(("GET /item/%d/%d HTTP/1.0\r\nHost: example\r\nUser-Agent: gilsim\r\n"
                      "Accept: text/html\r\n\r\n" % (me, i)).encode())
        head, buf = read_until(sock, buf, b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        while len(buf) < length:
            buf += sock.recv(65536)
        buf = buf[length:]
        latencies.append(time.perf_counter() - t)
        time.sleep(think_s)
    sock.close()


def main(argv):
    requests = int(argv[0]) if argv else 60
    clients = int(argv[1]) if len(argv) > 1 else 2
    work = int(argv[2]) if len(argv) > 2 else 60000
    think_s = (float(argv[3]) if len(argv) > 3 else 1.0) / 1000
    latencies = []
    threads = []
    for c in range(clients):
        a, b = socket.socketpair()
        threads.append(threading.Thread(target=handler, args=(b, work), name="handler%d" % c))
        threads.append(threading.Thread(target=client, args=(a, requests, think_s, c, latencies),
                                        name="client%d" % c))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    print("gilsim-self-check " + json.dumps({
        "requests": len(latencies),
        "request_median_ns": int(latencies[len(latencies) // 2] * 1e9)}))


if __name__ == "__main__":
    main(sys.argv[1:])
