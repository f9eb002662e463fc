/**
 * `npm run fleet -- up N [--id I] [--dir D] [--seed full|files|none]`, `down [--id I] [--dir D]`,
 * `status [--id I] [--dir D]`. Prints where the inventory and ssh_config are.
 */
import { isRigError } from '../../src/errors.ts';
import { join } from 'node:path';
import { downFleet, statusFleet, upFleet, type SeedMode } from './fleet-lib.ts';
import { writeFleetProjectFile } from './fleet-project-file.ts';
import { PROJECT_ROOT } from './fleet-layout.ts';

const USAGE = 'usage: npm run fleet -- up N [--id I] [--dir D] [--seed full|files|none] | down [--id I] [--dir D] | status [--id I] [--dir D]';

function parseArgs(argv: readonly string[]): { cmd: string; size?: number; id?: number; dir?: string; seed?: SeedMode } {
  const [cmd, ...rest] = argv;
  const out: { cmd: string; size?: number; id?: number; dir?: string; seed?: SeedMode } = { cmd: cmd ?? '' };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? rest[++i] ?? '';
    if (flag === '--id') out.id = Number(value());
    else if (flag === '--dir') out.dir = value();
    else if (flag === '--seed') out.seed = value() as SeedMode;
    else if (/^\d+$/.test(a) && out.size === undefined) out.size = Number(a);
    else throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const ref = { ...(args.id === undefined ? {} : { id: args.id }), ...(args.dir === undefined ? {} : { dir: args.dir }) };
  if (args.cmd === 'up') {
    if (args.size === undefined) throw new Error(`up needs a host count\n${USAGE}`);
    const t0 = Date.now();
    const fleet = await upFleet({ size: args.size, ...ref, ...(args.seed ? { seed: args.seed } : {}) });
    console.log(`fleet ${fleet.id} up: ${fleet.hosts.length} hosts in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${fleet.seed}), controller ${fleet.controllerIp} on ${fleet.bridge}`);
    for (const h of fleet.hosts) console.log(`  ${h.name.padEnd(10)} ${h.ip.padEnd(15)} ${h.role}`);
    console.log(`inventory:  ${fleet.inventoryPath}\nssh_config: ${fleet.sshConfigPath}\ntry:        ssh -F ${fleet.sshConfigPath} ${fleet.hosts[0]!.name} hostname`);
    // The project file points rig at this fleet: `npx rig plan playbooks/secure-cluster.ts` needs no other flag.
    const project = writeFleetProjectFile(PROJECT_ROOT, { inventoryPath: fleet.inventoryPath, sshConfigPath: fleet.sshConfigPath, stateDir: join(fleet.dir, 'rig-state'), pkiDir: join(fleet.dir, 'pki') });
    console.log(`rig.yaml:   ${project} now points at this fleet (try: npx rig plan playbooks/secure-cluster.ts)`);
    return 0;
  }
  if (args.cmd === 'down') {
    await downFleet(ref);
    console.log(`fleet ${args.id ?? 1} down`);
    return 0;
  }
  if (args.cmd === 'status') {
    const s = await statusFleet(ref);
    if (s.hosts.length === 0) { console.log(`fleet ${s.id}: not up (${s.dir})${s.bridge ? ', but its bridge exists: run down' : ''}`); return 1; }
    console.log(`fleet ${s.id} (${s.dir}), bridge rigbr${s.id} ${s.bridge ? 'present' : 'MISSING'}`);
    for (const h of s.hosts) console.log(`  ${h.name.padEnd(10)} ${h.ip.padEnd(15)} ${h.running ? 'running' : 'DOWN'}${h.running ? (h.ssh ? ', ssh ok' : ', ssh NOT answering') : ''}`);
    return s.hosts.every((h) => h.ssh) && s.bridge ? 0 : 1;
  }
  throw new Error(USAGE);
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  if (isRigError(e)) console.error(`error [${e.code}]: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
  else console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
