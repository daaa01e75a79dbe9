"""A producer and two consumers over a bounded queue.Queue.

The producer does a little Python work per item and puts it; consumers get
items and do more work each. Consumers wait on Queue.get when the queue is
empty, the producer on Queue.put when it is full.

    python3 producer_consumer.py [ITEMS] [MAXSIZE]"""
import json
import queue
import sys
import threading


def spin(n):
    x = 0
    for _ in range(n):
        x += 1
    return x


def main(argv):
    items = int(argv[0]) if argv else 2000
    q = queue.Queue(maxsize=int(argv[1]) if len(argv) > 1 else 8)
    done = []

    def producer():
        for i in range(items):
            spin(200)
            q.put(i)
        for _ in range(2):
            q.put(None)

    def consumer():
        n = 0
        while True:
            item = q.get()
            if item is None:
                break
            spin(600)
            n += 1
        done.append(n)

    threads = [threading.Thread(target=producer, name="producer")]
    threads += [threading.Thread(target=consumer, name="consumer%d" % i) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("gilsim-self-check " + json.dumps({"items": sum(done)}))


if __name__ == "__main__":
    main(sys.argv[1:])
