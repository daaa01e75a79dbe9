import queue, threading
q1, q2 = queue.Queue(maxsize=2), queue.Queue()
N = 40
def spin(n):
    x = 0
    for _ in range(n):
        x += 1
def source():
    for i in range(N):
        spin(300)
        q1.put(i)
    q1.put(None)
def stage():
    while True:
        item = q1.get()
        spin(800)
        q2.put(item)
        if item is None:
            return
def sink():
    while q2.get() is not None:
        spin(200)
ts = [threading.Thread(target=f, name=f.__name__) for f in (source, stage, sink)]
[t.start() for t in ts]; [t.join() for t in ts]
