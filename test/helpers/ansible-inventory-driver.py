"""
Run the real `ansible-inventory` many times from one Python process: import Ansible once, then for each request fork
and, in the child, run exactly what /usr/bin/ansible-inventory runs (`ansible.cli.inventory.main(argv)`) with stdout
and stderr redirected to files. The parent answers one JSON line per request: {"code", "stdout", "stderr"}.

Requests are JSON lines on stdin: {"argv": ["-i", PATH, "--list"], "cwd": DIR}. The environment (ANSIBLE_CONFIG,
ANSIBLE_INVENTORY_*) is set by the caller before this process starts, because Ansible reads its configuration when
it is imported. Used by test/unit/inventory-differential.test.ts.
"""
import json
import os
import sys
import tempfile

from ansible.cli.inventory import main as inventory_main
# Import what every run needs once, so each forked child starts warm.
import ansible.inventory.manager  # noqa: F401
import ansible.vars.manager  # noqa: F401
import ansible.plugins.inventory.ini  # noqa: F401
import ansible.plugins.inventory.yaml  # noqa: F401
import ansible.plugins.inventory.toml  # noqa: F401
import ansible.plugins.vars.host_group_vars  # noqa: F401
import ansible.parsing.ajson  # noqa: F401


def run_one(argv, cwd, scratch):
    out_path = os.path.join(scratch, 'stdout')
    err_path = os.path.join(scratch, 'stderr')
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.chdir(cwd)
            out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            sys.argv = ['ansible-inventory'] + argv
            try:
                inventory_main(sys.argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, 'rb') as f:
        stdout = f.read().decode('utf-8', 'surrogateescape')
    with open(err_path, 'rb') as f:
        stderr = f.read().decode('utf-8', 'surrogateescape')
    return {'code': code, 'stdout': stdout, 'stderr': stderr}


def serve():
    scratch = tempfile.mkdtemp(prefix='rig-ansible-driver-')
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        res = run_one(req['argv'], req.get('cwd', scratch), scratch)
        out.write(json.dumps(res, ensure_ascii=True) + '\n')
        out.flush()


if __name__ == '__main__':
    serve()
