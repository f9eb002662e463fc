"""Oracle for rig's tag selection: Ansible's own Task.evaluate_tags. One process: reads a JSON list of cases on
stdin ({"taskTags": [...], "only": [...], "skip": [...]}), prints a JSON list of booleans."""
import json
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.task import Task

loader = DataLoader()
out = []
for case in json.load(sys.stdin):
    data = {'name': 'case', 'debug': {'msg': 'x'}}
    if case['taskTags']:
        data['tags'] = case['taskTags']
    task = Task.load(data, loader=loader)
    out.append(bool(task.evaluate_tags(case['only'], case['skip'], {})))
json.dump(out, sys.stdout)
