// The one error catalogue: every code memplan can answer with, its HTTP status and its
// message template. Codes are stable; messages may improve. The service maps a
// MemplanError to its status; the CLI prints code and message.

/** Each code with its HTTP status and a message template ({name} placeholders). */
export const ERROR_CATALOGUE = {
  // Graph validation (400).
  MEMPLAN_ERR_INVALID_GRAPH: { status: 400, message: 'The graph is malformed at {path}: {detail}' },
  MEMPLAN_ERR_EMPTY_GRAPH: { status: 400, message: 'The graph has no nodes' },
  MEMPLAN_ERR_DUPLICATE_ID: { status: 400, message: 'Node id "{node}" appears more than once (index {index})' },
  MEMPLAN_ERR_UNKNOWN_INPUT: { status: 400, message: 'Node "{node}" lists input "{input}", which is not a node of the graph' },
  MEMPLAN_ERR_FORWARD_REFERENCE: {
    status: 400,
    message: 'Node "{node}" lists input "{input}", which comes later in "nodes"; inputs must be listed earlier',
  },
  MEMPLAN_ERR_CYCLE: { status: 400, message: 'Node "{node}" is on a cycle ({cycle})' },
  MEMPLAN_ERR_INVALID_NUMBER: { status: 400, message: 'Node "{node}" has an invalid {field}: {detail}' },
  MEMPLAN_ERR_TOO_MANY_NODES: { status: 400, message: 'The graph has {count} nodes; the limit is {limit}' },
  MEMPLAN_ERR_NON_FINITE_FIGURE: {
    status: 422,
    message:
      "The {what}'s {field} is not a finite number ({value}): the graph's numbers are too far apart " +
      '(such as costs near zero beside a large transfer latency)',
  },
  MEMPLAN_ERR_INVALID_IMPORT: { status: 400, message: 'Cannot import the graph: {detail}' },
  // Requests (400).
  MEMPLAN_ERR_INVALID_BUDGET: { status: 400, message: 'Invalid budget: {detail}' },
  MEMPLAN_ERR_UNKNOWN_STRATEGY: { status: 400, message: 'Unknown strategy "{strategy}"; known: {known}' },
  MEMPLAN_ERR_INVALID_REQUEST: { status: 400, message: 'Invalid request at {path}: {detail}' },
  MEMPLAN_ERR_TRANSFER_REQUIRED: { status: 400, message: 'Step {step} ({op} "{node}") is a swap, but no transfer link was given' },
  // Schedule legality (422: the request is well formed but the schedule cannot run).
  MEMPLAN_ERR_STEP_UNKNOWN_NODE: { status: 422, message: 'Step {step} names node "{node}", which is not in the graph' },
  MEMPLAN_ERR_STEP_INPUT_MISSING: {
    status: 422,
    message: 'Step {step} computes "{node}", but its input "{input}" is not on the device',
  },
  MEMPLAN_ERR_STEP_ALREADY_RESIDENT: { status: 422, message: 'Step {step} ({op} "{node}"): the node is already on the device' },
  MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE: {
    status: 422,
    message: 'Step {step} computes "{node}" a second time, but it is not recomputable',
  },
  MEMPLAN_ERR_STEP_NOT_RESIDENT: { status: 422, message: 'Step {step} ({op} "{node}"): the node is not on the device' },
  MEMPLAN_ERR_STEP_ALREADY_ON_HOST: { status: 422, message: 'Step {step} swaps out "{node}", which is already on the host' },
  MEMPLAN_ERR_STEP_NOT_ON_HOST: { status: 422, message: 'Step {step} swaps in "{node}", which is not on the host' },
  MEMPLAN_ERR_SCHEDULE_INCOMPLETE: { status: 422, message: 'The schedule ends with node "{node}" {detail}' },
  // Service (other statuses).
  MEMPLAN_ERR_NOT_FOUND: { status: 404, message: '{what} "{id}" was not found' },
  MEMPLAN_ERR_STORED_RECORD_INVALID: {
    status: 410,
    message: 'The stored {what} "{id}" cannot be read ({detail}); delete it with DELETE /v1/plans/{id} and submit the request again',
  },
  MEMPLAN_ERR_URI_TOO_LONG: { status: 414, message: 'The URL part "{part}" is longer than {limit} characters' },
  MEMPLAN_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers exceed the size the server accepts' },
  MEMPLAN_ERR_REQUEST_TIMEOUT: { status: 408, message: 'The request was not received within {timeoutMs} ms' },
  MEMPLAN_ERR_QUOTA_EXCEEDED: { status: 429, message: 'This API key already has {count} queued or running jobs (the limit); retry later' },
  MEMPLAN_ERR_UNAUTHORIZED: { status: 401, message: 'A valid API key is required (header x-api-key or Authorization: Bearer)' },
  MEMPLAN_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body exceeds {limit} bytes' },
  MEMPLAN_ERR_QUEUE_FULL: { status: 429, message: 'The job queue is full ({size} jobs); retry later' },
  MEMPLAN_ERR_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; retry later' },
  MEMPLAN_ERR_SOLVER_FAILED: { status: 500, message: 'The solver failed: {detail}' },
  MEMPLAN_ERR_WORKER_CRASHED: { status: 500, message: 'The worker running the job stopped: {detail}' },
  MEMPLAN_ERR_CANCELLED: { status: 409, message: 'The job was cancelled' },
  MEMPLAN_ERR_INTERNAL: { status: 500, message: 'Internal error: {detail}' },
  MEMPLAN_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type {contentType}; send application/json' },
  MEMPLAN_ERR_INTERRUPTED: { status: 503, message: 'The job was interrupted before it finished ({detail}); submit it again' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Fills a message template with the given parameters. */
export function formatMessage(code: ErrorCode, params: Record<string, unknown>): string {
  return ERROR_CATALOGUE[code].message.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(params, key) ? String(params[key]) : whole,
  );
}

/** A typed, catalogued error; `details` names the culprit (node, field, step). */
export class MemplanError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, params: Record<string, unknown> = {}) {
    super(formatMessage(code, params));
    this.name = 'MemplanError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = params;
  }

  /** The JSON body the service answers with. */
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when the value is a MemplanError (also across module copies). */
export function isMemplanError(value: unknown): value is MemplanError {
  return (
    value instanceof MemplanError || (typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'MemplanError')
  );
}
