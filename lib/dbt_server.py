# A long-lived dbt runner for the batch worker (lib/dbt-server.ts starts it with the pinned venv's
# python). Each `dbt build` in its own process paid ~3 s before its first node: Python importing
# dbt and the adapter, then reading the project's partial-parse state. This process imports dbt
# once and keeps the parsed manifest in memory, handing it to dbtRunner (dbt's programmatic
# entry point, which accepts a pre-built manifest) for every command.
#
# Protocol: one JSON object per line. Requests come on fd 3 ({"id", "args", "env"}), replies go
# to fd 4 ({"id", "exit_code", "parsed", "error"}). stdin is /dev/null and stdout/stderr carry
# dbt's own console log: dbt must never read the request channel.
#
# The manifest is reused only while nothing it was made from changed: the request's environment
# (minus the log folder, which does not reach the manifest) and every file of the project (path,
# size, mtime). Otherwise the request parses first.
import hashlib
import json
import os
import sys
import traceback

from die_with_parent import die_with_parent  # beside this file: on sys.path

IGNORED_DIRS = {'target', 'logs', 'dbt_packages', '__pycache__', '.user.yml'}


def project_fingerprint(project_dir, env):
    h = hashlib.sha256()
    for key in sorted(env):
        if key != 'DBT_LOG_PATH':
            h.update(f'{key}={env[key]}\0'.encode())
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            h.update(f'{path}\0{st.st_size}\0{st.st_mtime_ns}\0'.encode())
    return h.hexdigest()


def main():
    die_with_parent()
    requests = os.fdopen(3, 'r', encoding='utf-8')
    replies = os.fdopen(4, 'w', encoding='utf-8')
    base_env = dict(os.environ)
    from dbt.cli.main import dbtRunner  # the slow import, once

    def reply(obj):
        replies.write(json.dumps(obj) + '\n')
        replies.flush()

    reply({'id': None, 'ready': True})
    manifest = None
    fingerprint = None
    for line in requests:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            env = req.get('env') or {}
            os.environ.clear()
            os.environ.update(base_env)
            os.environ.update(env)
            os.chdir(env.get('DBT_PROJECT_DIR', os.getcwd()))
            current = project_fingerprint(os.getcwd(), env)
            parsed = False
            if manifest is None or current != fingerprint:
                manifest = None
                res = dbtRunner().invoke(['parse'])
                if not res.success or res.result is None:
                    reply({'id': req['id'], 'exit_code': 1 if res.exception is None else 2, 'parsed': True,
                           'error': f'dbt parse failed: {res.exception or "see dbt.log"}'})
                    continue
                manifest, fingerprint, parsed = res.result, current, True
            res = dbtRunner(manifest=manifest).invoke(list(req['args']))
            exit_code = 0 if res.success else (2 if res.exception is not None else 1)
            error = None if res.exception is None else f'{type(res.exception).__name__}: {res.exception}'
            reply({'id': req['id'], 'exit_code': exit_code, 'parsed': parsed, 'error': error})
        except Exception as err:  # noqa: BLE001 - the worker gets the message, the next request a fresh parse
            manifest = None
            traceback.print_exc()
            reply({'id': req.get('id'), 'exit_code': 2, 'parsed': False, 'error': f'{type(err).__name__}: {err}'})
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == '__main__':
    main()
