#!/usr/bin/env node
// rig entry point: registers tsx so that the CLI and users' .ts playbooks load without a build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
