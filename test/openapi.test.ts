// openapi/openapi.json is generated from the route schemas (npm run openapi): it must be
// current and a valid OpenAPI 3 document whose examples pass the request schemas.
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { AnalyzeRequestSchema, PlanRequestSchema, SimulateRequestSchema } from '../src/schemas/index.js';
import { openapiDocument } from '../scripts/openapi.js';

const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8');

describe('openapi/openapi.json', () => {
  it('is up to date with the schemas (run `npm run openapi` when this fails)', async () => {
    expect(committed).toBe(await openapiDocument());
  });

  it('is a valid OpenAPI 3 document', async () => {
    const document = JSON.parse(committed);
    expect(document.openapi).toMatch(/^3\./);
    const api = await SwaggerParser.validate(document);
    const paths = Object.keys(api.paths ?? {});
    for (const path of [
      '/v1/plans',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/events',
      '/v1/analyze',
      '/v1/simulate',
      '/v1/strategies',
      '/v1/plans/{id}',
      '/v1/plans/{id}/memory.svg',
      '/health',
      '/metrics',
    ]) {
      expect(paths).toContain(path);
    }
    expect(Object.keys(api.paths!['/v1/jobs/{id}']!)).toEqual(expect.arrayContaining(['get', 'delete']));
  });

  it('carries examples that the request schemas accept', () => {
    const document = JSON.parse(committed);
    const schemas = document.components.schemas;
    expect(PlanRequestSchema.safeParse(schemas.PlanRequestInput.example).success).toBe(true);
    expect(AnalyzeRequestSchema.safeParse(schemas.AnalyzeRequestInput.example).success).toBe(true);
    expect(SimulateRequestSchema.safeParse(schemas.SimulateRequestInput.example).success).toBe(true);
  });
});
