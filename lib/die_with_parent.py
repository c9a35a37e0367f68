# dbt dies with its parent, the Node process that started it. A batch worker killed with SIGKILL
# cannot stop its child, and an orphaned dbt would go on building the marts without the warehouse
# lock (held by the dead worker's connection, gone with it) while the retried attempt runs a second
# dbt on the same schemas and target folder. On Linux the kernel kills dbt with its parent
# (PR_SET_PDEATHSIG); elsewhere, and for a parent that died before that was set, a thread checks the
# parent every half second. dbt's open transactions roll back.
# Imported by dbt_server.py; run as a script, it runs the script given as its first argument
# (`python die_with_parent.py <dbt> <args>`: one dbt process per command, lib/dbt.ts).
import os
import runpy
import signal
import sys
import threading
import time


def die_with_parent():
    parent = int(os.environ.get('LOGPIPE_DBT_PARENT_PID', '0')) or os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def watch():
        while True:
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == '__main__':
    die_with_parent()
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name='__main__')
