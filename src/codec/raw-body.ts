// A JSON request body kept as bytes: the codec routes parse and validate it on a codec
// thread (src/codec/tasks.ts) instead of on the event loop.

/** The raw bytes of a JSON body, as the content-type parser hands them to a route. */
export class RawBody {
  constructor(readonly bytes: Buffer) {}
}

/** The bytes of a body: a RawBody's own, or the JSON of anything else (tests may inject objects). */
export function bodyBytes(body: unknown): Uint8Array {
  if (body instanceof RawBody) return body.bytes;
  return Buffer.from(body === undefined ? '' : (JSON.stringify(body) ?? ''), 'utf8');
}
