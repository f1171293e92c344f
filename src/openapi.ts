// The components of the OpenAPI document. fastify-type-provider-zod emits every registered
// schema twice, as its input form ("NodeInput") and its output form ("Node"), whether a
// route uses it or not. This keeps the schemas the paths reach, names each once, and keeps
// an "...Input" variant only where a schema is both read and written and the two forms
// differ (a field with a default is optional in a request and always present in a reply).
// The output form's `additionalProperties: false` alone does not make two forms differ:
// the merged schema is the input form, which every reply also satisfies.
import { jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { REQUEST_EXAMPLES } from './schemas/index.js';

const PREFIX = '#/components/schemas/';
const INPUT = 'Input';

type Json = unknown;
type Document = { paths?: Json; components?: { schemas?: Record<string, Json> } } & Record<string, unknown>;

/** Every component name a value refers to ($ref), walking with an explicit stack. */
function refsOf(value: Json): Set<string> {
  const found = new Set<string>();
  const stack: Json[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key === '$ref' && typeof child === 'string' && child.startsWith(PREFIX)) found.add(child.slice(PREFIX.length));
        else stack.push(child);
      }
    }
  }
  return found;
}

/** A copy of a value with every component $ref renamed by `rename`. */
function renameRefs(value: Json, rename: (name: string) => string): Json {
  return JSON.parse(JSON.stringify(value), (key, child) =>
    key === '$ref' && typeof child === 'string' && child.startsWith(PREFIX) ? PREFIX + rename(child.slice(PREFIX.length)) : child,
  );
}

/** A schema's text for comparing its two forms: component refs renamed, `additionalProperties: false` left out. */
function comparable(value: Json, rename: (name: string) => string): string {
  return JSON.stringify(renameRefs(value, rename), (key, child) => (key === 'additionalProperties' && child === false ? undefined : child));
}

/** The names reachable from the paths through the components. */
function reachable(paths: Json, schemas: Record<string, Json>): Set<string> {
  const seen = new Set<string>();
  const stack = [...refsOf(paths)];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || !(name in schemas)) continue;
    seen.add(name);
    stack.push(...refsOf(schemas[name]));
  }
  return seen;
}

/** The swagger transformObject of the service: zod's components, used ones only, each named once. */
export function openapiComponents(input: Parameters<typeof jsonSchemaTransformObject>[0]): ReturnType<typeof jsonSchemaTransformObject> {
  const document = jsonSchemaTransformObject(input) as Document;
  const schemas = document.components?.schemas ?? {};
  const used = reachable(document.paths, schemas);
  // Input names that become their plain name: identical forms, or only the input form used.
  const merged = new Map<string, string>();
  const rename = (name: string) => merged.get(name) ?? name;
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of used) {
      if (!name.endsWith(INPUT) || merged.has(name)) continue;
      const plain = name.slice(0, -INPUT.length);
      const same = !used.has(plain) || (plain in schemas && comparable(schemas[name], rename) === comparable(schemas[plain], rename));
      if (same) {
        merged.set(name, plain);
        changed = true;
      }
    }
  }
  const kept: Record<string, Json> = {};
  for (const name of [...used].sort()) {
    const target = rename(name);
    // A merged pair keeps the input form's text (see the module comment).
    if (target !== name || !merged.has(`${name}${INPUT}`) || !used.has(`${name}${INPUT}`)) kept[target] = renameRefs(schemas[name], rename);
  }
  return {
    ...document,
    paths: withRequestExamples(renameRefs(document.paths, rename)),
    components: { ...document.components, schemas: kept },
  } as ReturnType<typeof jsonSchemaTransformObject>;
}

/** The paths with REQUEST_EXAMPLES as the named examples of their POST bodies (Swagger UI lists them; the first is the default). */
function withRequestExamples(paths: Json): Json {
  const byPath = paths as Record<string, { post?: { requestBody?: { content?: Record<string, Record<string, unknown>> } } }>;
  for (const [path, examples] of Object.entries(REQUEST_EXAMPLES)) {
    const media = byPath[path]?.post?.requestBody?.content?.['application/json'];
    if (media) media.examples = examples;
  }
  return paths;
}
