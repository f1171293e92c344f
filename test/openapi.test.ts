// openapi/openapi.json is generated from the route schemas (npm run openapi): it must be
// current and a valid OpenAPI 3 document whose examples pass the request schemas.
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { AnalyzeRequestSchema, PlanRequestSchema, SimulateRequestSchema } from '../src/schemas/index.js';
import { SweepRequestSchema } from '../src/schemas/sweeps.js';
import { openapiDocument } from '../scripts/openapi.js';
import { build } from '../src/app.js';

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
      '/v1/sweeps',
      '/v1/sweeps/{id}',
      '/v1/sweeps/{id}/pareto.svg',
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
    expect(PlanRequestSchema.safeParse(schemas.PlanRequest.example).success).toBe(true);
    expect(AnalyzeRequestSchema.safeParse(schemas.AnalyzeRequest.example).success).toBe(true);
    expect(SimulateRequestSchema.safeParse(schemas.SimulateRequest.example).success).toBe(true);
    expect(SweepRequestSchema.safeParse(schemas.SweepRequest.example).success).toBe(true);
  });

  it('offers named request examples, one with node options, that the request schemas accept', () => {
    const paths = JSON.parse(committed).paths;
    const named = (path: string) => paths[path].post.requestBody.content['application/json'].examples;
    for (const [path, schema] of [
      ['/v1/plans', PlanRequestSchema],
      ['/v1/simulate', SimulateRequestSchema],
    ] as const) {
      const examples = named(path);
      expect(Object.keys(examples)).toEqual(['tiny-chain', 'node-options']);
      for (const example of Object.values(examples) as { value: unknown }[]) expect(schema.safeParse(example.value).success).toBe(true);
      const options = examples['node-options'].value.graph.nodes;
      expect(options.some((node: { encodings?: unknown[] }) => node.encodings?.length)).toBe(true);
      expect(options.some((node: { alternatives?: unknown[] }) => node.alternatives?.length)).toBe(true);
    }
    // The schedule example with options uses encode steps and alternatives.
    const schedule = named('/v1/simulate')['node-options'].value.schedule as { op: string; alt?: string }[];
    expect(schedule.some((step) => step.op === 'encode')).toBe(true);
    expect(schedule.some((step) => step.alt !== undefined)).toBe(true);
  });

  it('names each schema once: an Input variant only where the request form differs from the reply form', () => {
    const schemas: Record<string, unknown> = JSON.parse(committed).components.schemas;
    const variants = Object.keys(schemas).filter((name) => name.endsWith('Input'));
    // Transfer's latency has a default: optional in a request, always present in a plan.
    expect(variants).toEqual(['TransferInput']);
    expect(schemas.Transfer).not.toEqual(schemas.TransferInput);
    // Every component is used by some path.
    const text = JSON.stringify(JSON.parse(committed).paths) + JSON.stringify(schemas);
    for (const name of Object.keys(schemas)) expect(text, name).toContain(`"#/components/schemas/${name}"`);
  });

  it('describes every response, with JSON errors on every route (the SVG and the event stream included)', () => {
    const paths: Record<string, Record<string, Operation>> = JSON.parse(committed).paths;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.summary, `${method} ${path}`).not.toMatch(/`/);
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
          if (Number(status) >= 400)
            expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(['application/json']);
        }
      }
    }
    expect(Object.keys(paths['/v1/plans/{id}/memory.svg'].get.responses['200'].content ?? {})).toEqual(['image/svg+xml']);
    expect(Object.keys(paths['/v1/sweeps/{id}/pareto.svg'].get.responses['200'].content ?? {})).toEqual(['image/svg+xml']);
    expect(Object.keys(paths['/v1/jobs/{id}/events'].get.responses['200'].content ?? {})).toEqual(['text/event-stream']);
  });

  it('is served at /docs/json and /openapi.json', async () => {
    const app = await build({ dataDir: ':memory:', workers: 1, apiKeys: ['k'] });
    try {
      for (const url of ['/docs/json', '/openapi.json']) {
        const reply = await app.inject({ url });
        expect(reply.statusCode, url).toBe(200);
        expect(reply.headers['content-type']).toContain('application/json');
        expect(`${JSON.stringify(reply.json(), null, 2)}\n`).toBe(committed);
      }
    } finally {
      await app.close();
    }
  });
});

interface Operation {
  summary?: string;
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}
