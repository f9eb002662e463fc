#!/usr/bin/env node
// `kubelet-sandbox NAME` inside a fleet host (issue 17): what kubelet's CNI code does when it creates a pod sandbox.
// The config is picked as libcni does (the lexicographically first .conf/.conflist/.json in the directory that loads;
// a .conf is a one-plugin list), a network namespace is created (`ip netns add`), and the chain runs with
// CNI_COMMAND=ADD per the CNI spec: each plugin gets its entry with the list's name and cniVersion injected, and the
// previous plugin's result as prevResult. Success prints and logs `sandbox NAME ready: ip A`; a plugin's error is
// printed and logged with its message, the namespace is removed, and the exit code is 1.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const CONF_DIR = process.env.CNI_CONF_DIR ?? '/etc/cni/net.d';
const BIN_DIR = process.env.CNI_BIN_DIR ?? '/opt/cni/bin';
const LOG = '/var/log/kubelet-sandbox.log';
const name = process.argv[2];
if (!name || !/^[a-z0-9][a-z0-9-]*$/.test(name)) { process.stderr.write('usage: kubelet-sandbox NAME\n'); process.exit(2); }

function log(line, code) {
  try { appendFileSync(LOG, `${new Date().toISOString()} ${line}\n`); } catch { /* ignore */ }
  (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  if (code !== undefined) process.exit(code);
}

function loadList() {
  let files = [];
  try { files = readdirSync(CONF_DIR).filter((f) => ['.conf', '.conflist', '.json'].includes(extname(f))).sort(); } catch { /* none */ }
  for (const f of files) {
    try {
      const v = JSON.parse(readFileSync(join(CONF_DIR, f), 'utf8'));
      if (extname(f) === '.conflist') {
        if (Array.isArray(v.plugins) && v.plugins.length) return { file: f, name: v.name, cniVersion: v.cniVersion, plugins: v.plugins };
      } else if (v.type) return { file: f, name: v.name, cniVersion: v.cniVersion, plugins: [v] };
    } catch { /* libcni skips files that do not load */ }
  }
  return undefined;
}

const list = loadList();
if (!list) log(`sandbox ${name} failed: no networks found in ${CONF_DIR}`, 1);
const netns = `/run/netns/${name}`;
spawnSync('mkdir', ['-p', '/run/netns']);
const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
if (add.status !== 0) log(`sandbox ${name} failed: ip netns add: ${add.stderr.trim()}`, 1);
let prev;
for (const plugin of list.plugins) {
  const conf = { ...plugin, name: list.name, cniVersion: list.cniVersion, ...(prev ? { prevResult: prev } : {}) };
  const r = spawnSync(join(BIN_DIR, plugin.type), [], {
    input: JSON.stringify(conf), encoding: 'utf8',
    env: { ...process.env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: name, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: BIN_DIR },
  });
  if (r.status !== 0) {
    let msg = (r.stdout || r.stderr || (r.error ? r.error.message : '')).trim();
    try { const e = JSON.parse(r.stdout); msg = e.msg + (e.details ? `: ${e.details}` : ''); } catch { /* plain text */ }
    spawnSync('ip', ['netns', 'del', name]);
    log(`sandbox ${name} failed (${list.file}): plugin ${plugin.type}: ${msg}`, 1);
  }
  try { prev = JSON.parse(r.stdout); } catch { log(`sandbox ${name} failed: plugin ${plugin.type} printed no JSON result`, 1); }
}
const ip = prev?.ips?.[0]?.address ?? prev?.ip4?.ip;
log(`sandbox ${name} ready (${list.file}): ip ${ip}`, 0);
