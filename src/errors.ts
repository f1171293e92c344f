// The one error handler: every failure a request can meet (a MemplanError from the
// solver, a zod validation failure of the request, a fastify parsing error) becomes a
// catalogued {code, message, details} reply with the catalogue's status.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CATALOGUE, isMemplanError, MemplanError, type ErrorCode } from '../solver/errors.js';
import { parseGraph } from '../solver/graph/validate.js';
import { MAX_ID_LENGTH, RETRY_AFTER_SECONDS } from '../solver/limits.js';

/** Seconds a client should wait after a 429 or 503 (solver/limits.ts). */
export { RETRY_AFTER_SECONDS };

interface ValidationIssue {
  instancePath: string;
  message?: string;
}

function pathOf(issue: ValidationIssue): (string | number)[] {
  return issue.instancePath
    .split('/')
    .filter((part) => part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** Maps a failed request validation to the catalogue, naming the culprit. */
export function validationToError(context: string | undefined, issues: ValidationIssue[], body: unknown, maxNodes?: number): MemplanError {
  const issue = issues[0];
  const path = pathOf(issue);
  const where = [context ?? 'body', ...path].join('.');
  const detail = issue.message ?? 'invalid';
  if ((context ?? 'body') === 'body' && path[0] === 'graph') {
    // The solver's own validation names the node and field the same way for every caller.
    try {
      parseGraph((body as { graph?: unknown } | null)?.graph, { maxNodes });
    } catch (error) {
      if (isMemplanError(error)) return error;
    }
    return new MemplanError('MEMPLAN_ERR_INVALID_GRAPH', { path: path.join('.'), detail });
  }
  if ((context ?? 'body') === 'body' && path[0] === 'budget') {
    return new MemplanError('MEMPLAN_ERR_INVALID_BUDGET', { detail: `${path.join('.') || 'budget'}: ${detail}`, path: path.join('.') });
  }
  return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: where, detail });
}

/** Maps any thrown value to a catalogued error. */
export function toMemplanError(error: unknown, request?: FastifyRequest, maxNodes?: number): MemplanError {
  if (isMemplanError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const withContext = error as unknown as { validation: ValidationIssue[]; validationContext?: string };
    return validationToError(withContext.validationContext, withContext.validation, request?.body, maxNodes);
  }
  const fastifyError = error as Partial<FastifyError> & { statusCode?: number };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MemplanError('MEMPLAN_ERR_PAYLOAD_TOO_LARGE', { limit: request?.routeOptions.bodyLimit ?? 'the' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MemplanError('MEMPLAN_ERR_UNSUPPORTED_MEDIA_TYPE', {
        contentType: JSON.stringify(request?.headers['content-type'] ?? ''),
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: 'the body is empty' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: 'the content length does not match the body' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new MemplanError('MEMPLAN_ERR_URI_TOO_LONG', { part: shorten(longestSegment(request?.url ?? '')), limit: MAX_ID_LENGTH });
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'url', detail: `not a valid URL: ${shorten(request?.url ?? '')}` });
    case 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new MemplanError('MEMPLAN_ERR_UNSUPPORTED_MEDIA_TYPE', {
        contentType: JSON.stringify(request?.headers['content-type'] ?? ''),
      });
    case 'FST_ERR_ROUTE_MISSING_CONTENT':
      return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: 'the body is empty' });
    default:
      break;
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: `not valid JSON: ${(error as Error).message}` });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'request', detail: fastifyError.message ?? 'bad request' });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new MemplanError('MEMPLAN_ERR_INTERNAL', { detail });
}

/** The longest segment of a URL's path: the parameter the router found too long. */
function longestSegment(url: string): string {
  return url
    .split('?')[0]
    .split('/')
    .reduce((longest, segment) => (segment.length > longest.length ? segment : longest), '');
}

/** A client-supplied text cut to a length fit for an error message. */
function shorten(text: string, limit = 200): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}... (${text.length} characters)`;
}

/**
 * Fastify's clientErrorHandler: errors the HTTP parser meets before a request exists (a
 * request that took longer than requestTimeout, headers over the size limit, malformed
 * HTTP) answered with a catalogued body, then the socket is closed.
 */
export function clientError(requestTimeoutMs: number) {
  return function (this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    let mapped: MemplanError;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      mapped = new MemplanError('MEMPLAN_ERR_REQUEST_TIMEOUT', { timeoutMs: requestTimeoutMs });
    else if (error.code === 'HPE_HEADER_OVERFLOW') mapped = new MemplanError('MEMPLAN_ERR_HEADERS_TOO_LARGE');
    else
      mapped = new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'http', detail: `malformed HTTP (${error.code ?? error.message})` });
    if (socket.writable) {
      const body = JSON.stringify(mapped.toJSON());
      const reason = mapped.status === 408 ? 'Request Timeout' : mapped.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
      socket.write(
        `HTTP/1.1 ${mapped.status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

/** Sends a catalogued error, with Retry-After where the client should come back. */
export function sendError(reply: FastifyReply, error: MemplanError): FastifyReply {
  if (error.status === 429 || error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toJSON());
}

/** The catalogue as Markdown, for the OpenAPI description. */
export function catalogueMarkdown(): string {
  const rows = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).map(
    (code) => `| \`${code}\` | ${ERROR_CATALOGUE[code].status} | ${ERROR_CATALOGUE[code].message.replace(/\|/g, '\\|')} |`,
  );
  return ['| code | status | message |', '| --- | --- | --- |', ...rows].join('\n');
}
