#!/usr/bin/env node
// Stand-in for Galaxy's CNI plugin (TKE Stack) inside a fleet host (issue 17): a CNI plugin per the spec that supports
// cniVersion 0.1.0 and 0.2.0 (or the JSON list in /etc/galaxy-sdn/supported-versions), refuses any other version with
// Galaxy's error, and delegates ADD/DEL/CHECK to the real `bridge` plugin in CNI_PATH with the same config and env.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SUPPORTED_FILE = '/etc/galaxy-sdn/supported-versions';
const supported = existsSync(SUPPORTED_FILE) ? JSON.parse(readFileSync(SUPPORTED_FILE, 'utf8')) : ['0.1.0', '0.2.0'];
const command = process.env.CNI_COMMAND ?? '';
const input = (() => { try { return readFileSync(0); } catch { return Buffer.alloc(0); } })();

function fail(code, msg, version = '0.2.0') {
  process.stdout.write(`${JSON.stringify({ cniVersion: version, code, msg })}\n`);
  process.exit(1);
}

if (command === 'VERSION') {
  process.stdout.write(`${JSON.stringify({ cniVersion: supported[supported.length - 1], supportedVersions: supported })}\n`);
  process.exit(0);
}
let conf;
try { conf = JSON.parse(input.toString('utf8')); } catch (e) { fail(6, `failed to parse network configuration: ${e.message}`); }
const version = conf.cniVersion ?? '0.1.0';
if (!supported.includes(version)) fail(1, `plugin galaxy-sdn does not support config version ${JSON.stringify(version)}`);
if (!['ADD', 'DEL', 'CHECK'].includes(command)) fail(4, `unknown CNI_COMMAND ${JSON.stringify(command)}`, version);
const bridge = (process.env.CNI_PATH ?? '/opt/cni/bin').split(':').map((d) => join(d, 'bridge')).find((p) => existsSync(p));
if (!bridge) fail(7, 'galaxy-sdn: the bridge plugin is not in CNI_PATH', version);
const r = spawnSync(bridge, [], { input, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
process.stdout.write(r.stdout ?? '');
process.stderr.write(r.stderr ?? '');
process.exit(r.status ?? 1);
