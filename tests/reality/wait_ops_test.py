#!/usr/bin/env python3
"""wait_ops.py's self-test (`wait_ops.py --self-test` runs it): one client
and one handler, a recording, a model run and the fitted scenario made by
hand (fixture.py); each GIL wait's kind (the op it follows) and the
holders of the big ones."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from fixture import ModelRun, Recording, exit_status, same, workdir  # noqa: E402
import wait_ops as wo  # noqa: E402


def recording():
    rec = Recording()
    # the client: a send (asks inside it at 10 us, holds at 11 us), a recv
    # whose ask at 50 us waits to 400 us while the handler holds
    rec.thread("client").turn(0, 0, 5000, "call").ask(10000).hold(11000) \
        .call(4000, 11000, "socket.sendall", "io", obj=7) \
        .release(12000, "call").ask(50000).hold(400000) \
        .call(11500, 400000, "socket.recv", "io", obj=7).release(401000, "exit")
    # the handler: first ask at 20 us (before any release: "start"), holds
    # 20-390 us, a forced drop, asks again at 395 us
    rec.thread("handler").turn(20000, 20000, 390000, "forced") \
        .turn(395000, 402000, 403000, "exit")
    return rec


def model_run():
    send = "c: program[1].do[1] c_call 10us releasing the GIL"
    recv = "h: program[0].do[0] get socket client to handler"
    return ModelRun().gil("client", 0, 5000).gil("handler", 6000, 300000) \
        .gil("client", 300500, 301000) \
        .lane("client", "c_nogil", 5000, 15000, send) \
        .lane("client", "wait_gil", 15000, 299000, send) \
        .lane("client", "ready", 299000, 300500, send) \
        .lane("client", "python", 300500, 301000, "c: program[1].do[2] cpu 500ns") \
        .lane("handler", "wait_gil", 1000, 6000, recv) \
        .lane("handler", "python", 6000, 300000, "h: program[0].do[1] cpu 3ms") \
        .lane("other load", "wait_gil", 0, 9000, "o: program[0] cpu 1ms", process="other load")


# the fitted scenario: the client's c_call is followed by a put on the socket
FIT = {"threads": [{"name": "client", "program": [
    {"cpu": "1us"}, {"repeat": 2, "do": [{"cpu": "1us"},
                                         {"c_call": "10us", "releases_gil": True},
                                         {"put": "socket client to handler"}]}]}]}


def main():
    with workdir() as d:
        rp, cp, fp = d.put("r.rec.json", recording()), d.put("m.csv", model_run()), \
            d.put("f.json", FIT)
        r = wo.table(*wo.recording(rp), 200000)
        m = wo.table(*wo.model(cp, wo.op_kinds(fp)), 200000)
        m0 = wo.table(*wo.model(cp), 200000)
    same("real send", r.get(("client", "socket.sendall"))[:3], (1, 0, 1000))
    same("real recv", r.get(("client", "socket.recv"))[:3], (1, 1, 350000))
    same("real recv holder", dict(r[("client", "socket.recv")][3]), {"handler": 1})
    same("real start", r.get(("handler", "start"))[:3], (1, 0, 0))
    same("real forced", r.get(("handler", "forced"))[:3], (1, 0, 7000))
    same("model send", m.get(("client", "send"))[:3], (1, 1, 285500))
    same("model send holder", dict(m[("client", "send")][3]), {"handler": 1})
    same("model recv", m.get(("handler", "recv"))[:3], (1, 0, 5000))
    same("model c_call without --fit", sorted(k for k in m0), [("client", "c_call"),
                                                               ("handler", "recv")])
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
