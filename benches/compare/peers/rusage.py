"""Runs a command and writes its wall time, CPU time and peak RSS as JSON.

    python3 -S rusage.py OUT.json COMMAND [ARG...]

Standard input, output and error are the command's. The figures come from
wait4(2) on the command's process. This launcher exists because Linux counts
the memory of the process image a child is forked from into the child's peak
RSS (exec keeps the high-water mark of the replaced image), so a command
forked straight from compare.py, which holds the parsed warninglists and
DuckDB, would report compare.py's size. Forked from this small launcher
instead, the floor is the launcher's own size (about 8 MiB, stated in
BENCHMARKS.md). The exit status is the command's.
"""

import os
import sys
import time


def main() -> int:
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    # posix_spawn, and nothing imported that is not needed before the child
    # ends: the child's peak RSS starts at this process's size.
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    import json

    with open(out, "w", encoding="utf-8") as f:
        json.dump({"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
                   "max_rss_mib": usage.ru_maxrss / 1024, "status": code}, f)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
