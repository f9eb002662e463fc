#!/usr/bin/python3
"""Oracle for the lineinfile differential test: Ansible's own lineinfile module (ansible-core, Debian's python3).

Reads one JSON case per line on stdin: {"content": base64 | null (file absent), "args": {lineinfile args, no path}}.
Writes one JSON result per line on stdout: {"failed", "changed", "msg", "content": base64 | null}.

The module is imported once; each case runs in a forked child (a module exits through SystemExit and may leave
state behind), with `_ANSIBLE_ARGS` set as Ansible's module wrapper sets it, stdout captured to a file.
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import traceback

import ansible.module_utils.basic as basic
from ansible.modules import lineinfile


def run_case(case, workdir):
    path = os.path.join(workdir, 'target')
    if os.path.lexists(path):
        os.unlink(path)
    if case.get('content') is not None:
        with open(path, 'wb') as f:
            f.write(base64.b64decode(case['content']))
    args = dict(case['args'])
    args['path'] = path
    args.update(_ansible_tmpdir=workdir, _ansible_no_log=True, _ansible_check_mode=False, _ansible_diff=False)
    out_path = os.path.join(workdir, 'out')
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
            lineinfile.main()
        except SystemExit:
            pass
        except BaseException as e:  # a traceback in the module (re.error, a bad backrefs template): the task fails
            sys.stdout.write(json.dumps({'failed': True, 'msg': 'exception: %s: %s' % (type(e).__name__, e), 'trace': traceback.format_exc()}))
        finally:
            sys.stdout.flush()
            os._exit(0)
    os.waitpid(pid, 0)
    with open(out_path, 'rb') as f:
        raw = f.read().decode('utf-8', 'replace').strip()
    try:
        res = json.loads(raw.splitlines()[-1]) if raw else {'failed': True, 'msg': 'no output'}
    except ValueError:
        res = {'failed': True, 'msg': 'unparsable output: ' + raw[-500:]}
    content = None
    if os.path.lexists(path):
        with open(path, 'rb') as f:
            content = base64.b64encode(f.read()).decode()
    return {'failed': bool(res.get('failed')), 'changed': bool(res.get('changed')), 'msg': res.get('msg', ''), 'content': content}


def main():
    workdir = tempfile.mkdtemp(prefix='rig-lineinfile-oracle.')
    try:
        for raw in sys.stdin:
            if raw.strip():
                sys.stdout.write(json.dumps(run_case(json.loads(raw), workdir)) + '\n')
        sys.stdout.flush()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
