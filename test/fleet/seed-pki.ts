/**
 * The seed PKI of a kube-up.sh-era cluster, made with the real `openssl` CLI: a CA whose key stays on the controller
 * (`<dir>/seed-ca/ca.{crt,key}`, reused across ups), the apiserver's `server.{cert,key}` (SANs: master IP and name,
 * 127.0.0.1, the kubernetes service names) and the `kubecfg.{crt,key}` client pair. Everything is cached in the
 * seed-ca dir; the server pair is re-made only when the master address or name changes.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx';
import { FleetError } from '../../src/errors.ts';

export interface SeedPki {
  readonly caCrt: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly kubecfgCrt: string;
  readonly kubecfgKey: string;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  const r = await $({ cwd, quiet: true, nothrow: true })`openssl ${args}`;
  if (r.exitCode !== 0) {
    throw new FleetError(`openssl ${args[0]} failed: ${r.stderr.trim()}`, { file: cwd, hint: 'Install openssl (apt-get install -y openssl) or delete the seed-ca directory to regenerate it.' });
  }
}

async function issue(dir: string, base: string, subject: string, ext: string): Promise<void> {
  await writeFile(join(dir, `${base}.ext`), ext);
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-subj', subject, '-out', `${base}.csr`], dir);
  await openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-sha256',
    '-extfile', `${base}.ext`, '-out', `${base}.crt`], dir);
}

/** Create (once) and load the seed PKI for a master at `masterIp` named `masterName`. */
export async function ensureSeedPki(dir: string, masterIp: string, masterName: string): Promise<SeedPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'ca.key')) || !existsSync(join(dir, 'ca.crt'))) {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', `/CN=${masterIp}@rig-seed-ca`,
      '-days', '3650', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
  }
  const serverBase = `server-${masterName}-${masterIp}`;
  if (!existsSync(join(dir, `${serverBase}.crt`))) {
    await issue(dir, serverBase, `/CN=kubernetes-master`, [
      'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:${masterIp},IP:127.0.0.1,IP:192.168.3.1,DNS:${masterName},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
    ].join('\n') + '\n');
  }
  if (!existsSync(join(dir, 'kubecfg.crt'))) {
    await issue(dir, 'kubecfg', '/CN=kubecfg', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  }
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  return {
    caCrt: await read('ca.crt'), serverCert: await read(`${serverBase}.crt`), serverKey: await read(`${serverBase}.key`),
    kubecfgCrt: await read('kubecfg.crt'), kubecfgKey: await read('kubecfg.key'),
  };
}
