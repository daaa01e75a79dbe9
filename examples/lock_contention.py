"""Four threads contend for one threading.Lock, each holding it a while.

Inside the lock each thread runs Python (so it holds the GIL too) and
sometimes sleeps while holding the lock, so the others block in
Lock.acquire (the `with lock:` statement) without the GIL.

    python3 lock_contention.py [ROUNDS]"""
import json
import sys
import threading
import time


def main(argv):
    rounds = int(argv[0]) if argv else 200
    lock = threading.Lock()
    counter = [0]

    def worker():
        for i in range(rounds):
            with lock:
                x = 0
                for _ in range(2000):
                    x += 1
                counter[0] += 1
                if i % 10 == 0:
                    time.sleep(0.0005)

    threads = [threading.Thread(target=worker, name="worker%d" % i) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("gilsim-self-check " + json.dumps({"rounds": counter[0]}))


if __name__ == "__main__":
    main(sys.argv[1:])
