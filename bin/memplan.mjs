#!/usr/bin/env node
// The memplan command (`npx memplan ...`): registers tsx so the TypeScript sources run
// without a build step, then hands argv to src/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
