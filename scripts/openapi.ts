// Writes openapi/openapi.json from the zod schemas of the routes (npm run openapi).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from '../src/app.js';

/** The OpenAPI document of the service, as committed in openapi/openapi.json. */
export async function openapiDocument(): Promise<string> {
  const app = await build({ dataDir: ':memory:', workers: 1, apiKeys: [] });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));
  writeFileSync(target, await openapiDocument());
  console.log(`wrote ${target}`);
}
