#!/usr/bin/python3
"""Oracle for the Python-regexp translation test: Python's own `re` on bytes, as Ansible's lineinfile uses it.

Reads one JSON case per line on stdin: {"pattern": str, "subjects": [base64, ...]}. The pattern is compiled the way
lineinfile compiles it (re.compile(pattern.encode('utf-8'))) and searched in each subject. Writes one JSON line per
case: {"error": message} or {"results": [null | {"span": [start, end], "groups": [base64 | null, ...]}, ...]}.
"""
import base64
import json
import re
import sys
import warnings

warnings.simplefilter('ignore')


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def main():
    for raw in sys.stdin:
        if not raw.strip():
            continue
        case = json.loads(raw)
        try:
            rx = re.compile(case['pattern'].encode('utf-8'))
        except Exception as e:  # re.error, OverflowError, RecursionError: lineinfile fails the task
            sys.stdout.write(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}) + '\n')
            continue
        results = []
        for s in case['subjects']:
            m = rx.search(base64.b64decode(s))
            results.append(None if m is None else {'span': list(m.span()), 'groups': [b64(g) for g in m.groups()]})
        sys.stdout.write(json.dumps({'results': results}) + '\n')
    sys.stdout.flush()


if __name__ == '__main__':
    main()
