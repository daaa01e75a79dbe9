"""An I/O thread beside two CPU-bound threads: the convoy gets longer.

With two threads competing for the GIL, the I/O thread's wake-up is often
not the one the GIL's signal picks, so it waits one or several switch
intervals per I/O call. See convoy.py for the one-CPU-thread case.

    python3 io_two_cpu.py [OPS] [IO_MS]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convoy  # noqa: E402

if __name__ == "__main__":
    convoy.main(sys.argv[1:] + ["--cpu-threads", "2"])
