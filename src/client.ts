// A typed client of the HTTP API (fetch-based), used by the CLI's `plan --server URL` and `sweep --server URL`.
import type { z } from 'zod';
import type { Plan } from '../solver/plan-schema.js';
import type {
  GraphStatsSchema,
  Job,
  JobAcceptedSchema,
  PlanRequest,
  SimulateRequestSchema,
  SimulateResponseSchema,
  StrategiesResponseSchema,
} from './schemas/index.js';
import type { JobEvent } from './jobs/lifecycle.js';
import type { SweepRequest } from './schemas/sweeps.js';
import type { SweepResult } from '../solver/sweep/schema.js';

export type GraphStats = z.infer<typeof GraphStatsSchema>;
export type JobAccepted = z.infer<typeof JobAcceptedSchema>;
export type SimulateRequest = z.input<typeof SimulateRequestSchema>;
export type SimulateResponse = z.infer<typeof SimulateResponseSchema>;
export type StrategiesResponse = z.infer<typeof StrategiesResponseSchema>;

/** A catalogued error reply, thrown by the client. */
export class MemplanClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MemplanClientError';
  }
}

export interface ClientOptions {
  /** Base URL such as http://localhost:8080 */
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

/** The typed client; see the module comment. */
export class MemplanClient {
  private readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? fetch;
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    if (json) headers['content-type'] = 'application/json';
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    return headers;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; response: Response }> {
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && text ? JSON.parse(text) : text;
    if (!response.ok) {
      const error = parsed as { code?: string; message?: string; details?: Record<string, unknown> };
      throw new MemplanClientError(
        response.status,
        error.code ?? 'HTTP_ERROR',
        error.message ?? `${response.status} ${response.statusText}`,
        error.details,
      );
    }
    return { status: response.status, body: parsed as T, response };
  }

  /** POST /v1/plans: the Plan when done within `wait` seconds, else the accepted job. */
  async submitPlan(request: PlanRequest, wait = 5): Promise<{ plan: Plan } | { job: JobAccepted }> {
    const { status, body } = await this.request<Plan | JobAccepted>('POST', `/v1/plans?wait=${wait}`, request);
    return status === 200 ? { plan: body as Plan } : { job: body as JobAccepted };
  }

  /** Plans a graph and waits for the result, reporting progress events on the way. */
  async plan(
    request: PlanRequest,
    options: { onProgress?: (event: Extract<JobEvent, { event: 'progress' }>['data']) => void; wait?: number } = {},
  ): Promise<Plan> {
    const submitted = await this.submitPlan(request, options.wait ?? 1);
    if ('plan' in submitted) return submitted.plan;
    let result: Plan | undefined;
    await this.follow(submitted.job.jobId, options.onProgress, (event) => {
      if (event.event === 'plan') result = event.data;
    });
    if (result) return result;
    // The stream ended without a result (a proxy cut it): read the job instead.
    const job = await this.job(submitted.job.jobId);
    if (job.plan) return job.plan;
    throw new MemplanClientError(500, job.error?.code ?? 'MEMPLAN_ERR_INTERNAL', job.error?.message ?? `job ${job.id} is ${job.state}`);
  }

  /**
   * Follows a job's events until it ends: progress goes to `onProgress`, an error or a
   * cancel throws, and every other event goes to `take`.
   */
  private async follow(
    jobId: string,
    onProgress: ((event: Extract<JobEvent, { event: 'progress' }>['data']) => void) | undefined,
    take: (event: JobEvent) => void,
  ): Promise<void> {
    await this.events(jobId, (event) => {
      if (event.event === 'progress') onProgress?.(event.data);
      else if (event.event === 'error' || event.event === 'cancelled')
        throw new MemplanClientError(
          event.data.code === 'MEMPLAN_ERR_CANCELLED' ? 409 : 500,
          event.data.code,
          event.data.message,
          event.data.details,
        );
      else take(event);
    });
  }

  /** POST /v1/sweeps: the result when done within `wait` seconds, else the accepted job. */
  async submitSweep(request: SweepRequest, wait = 5): Promise<{ result: SweepResult } | { job: JobAccepted }> {
    const { status, body } = await this.request<SweepResult | JobAccepted>('POST', `/v1/sweeps?wait=${wait}`, request);
    return status === 200 ? { result: body as SweepResult } : { job: body as JobAccepted };
  }

  /**
   * Sweeps a graph over budgets and waits for the result, reporting each point done; the
   * request's maxOverhead and smallestFeasible ask the inverse questions too. Each point's
   * plan is getPlan(point.planId).
   */
  async sweep(
    request: SweepRequest,
    options: { onProgress?: (event: Extract<JobEvent, { event: 'progress' }>['data']) => void; wait?: number } = {},
  ): Promise<SweepResult> {
    const submitted = await this.submitSweep(request, options.wait ?? 0);
    if ('result' in submitted) return submitted.result;
    let result: SweepResult | undefined;
    await this.follow(submitted.job.jobId, options.onProgress, (event) => {
      if (event.event === 'sweep') result = event.data;
    });
    if (result) return result;
    // The stream ended without a result (a proxy cut it): read the sweep instead.
    const read = await this.getSweep(submitted.job.jobId);
    if ('result' in read) return read.result;
    throw new MemplanClientError(500, 'MEMPLAN_ERR_INTERNAL', `sweep ${submitted.job.jobId} is ${read.job.state}`);
  }

  /** The smallest budget whose plan stays within `maxOverhead` ("5%" or 0.05), bracketed: a sweep with that question only. */
  async smallestBudgetWithin(
    graph: SweepRequest['graph'],
    maxOverhead: string | number,
    options: Omit<SweepRequest, 'graph' | 'budgets' | 'maxOverhead'> = {},
  ): Promise<NonNullable<SweepResult['maxOverhead']>> {
    return (await this.sweep({ ...options, graph, budgets: [], maxOverhead })).maxOverhead!;
  }

  /** The smallest feasible budget, bracketed (proven floor, smallest found): a sweep with that question only. */
  async smallestFeasibleBudget(
    graph: SweepRequest['graph'],
    options: Omit<SweepRequest, 'graph' | 'budgets' | 'smallestFeasible'> = {},
  ): Promise<NonNullable<SweepResult['smallestFeasible']>> {
    return (await this.sweep({ ...options, graph, budgets: [], smallestFeasible: true })).smallestFeasible!;
  }

  /** GET /v1/sweeps/{id}: the result when done, else the job (queued or running). */
  async getSweep(id: string): Promise<{ result: SweepResult } | { job: Job }> {
    const { status, body } = await this.request<SweepResult | Job>('GET', `/v1/sweeps/${encodeURIComponent(id)}`);
    return status === 200 ? { result: body as SweepResult } : { job: body as Job };
  }

  /** GET /v1/sweeps/{id}/pareto.svg */
  async paretoSvg(id: string): Promise<string> {
    return (await this.request<string>('GET', `/v1/sweeps/${encodeURIComponent(id)}/pareto.svg`)).body;
  }

  /** GET /v1/jobs/{id} */
  async job(id: string): Promise<Job> {
    return (await this.request<Job>('GET', `/v1/jobs/${encodeURIComponent(id)}`)).body;
  }

  /** GET /v1/jobs */
  async jobs(): Promise<Omit<Job, 'plan'>[]> {
    return (await this.request<{ jobs: Omit<Job, 'plan'>[] }>('GET', '/v1/jobs')).body.jobs;
  }

  /** DELETE /v1/jobs/{id} */
  async cancel(id: string): Promise<Job> {
    return (await this.request<Job>('DELETE', `/v1/jobs/${encodeURIComponent(id)}`)).body;
  }

  /** GET /v1/jobs/{id}/events: calls `onEvent` for each event until the stream ends. */
  async events(id: string, onEvent: (event: JobEvent) => void, signal?: AbortSignal): Promise<void> {
    const response = await this.fetchImpl(`${this.baseUrl}/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: this.headers(false),
      signal,
    });
    if (!response.ok || !response.body) {
      const error = (await response.json().catch(() => ({}))) as { code?: string; message?: string; details?: Record<string, unknown> };
      throw new MemplanClientError(response.status, error.code ?? 'HTTP_ERROR', error.message ?? response.statusText, error.details);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let split = buffer.indexOf('\n\n'); split >= 0; split = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const parsed = parseSseFrame(frame);
        if (parsed) onEvent(parsed);
      }
    }
  }

  /** POST /v1/analyze */
  async analyze(graph: PlanRequest['graph']): Promise<GraphStats> {
    return (await this.request<GraphStats>('POST', '/v1/analyze', { graph })).body;
  }

  /** POST /v1/simulate */
  async simulate(request: SimulateRequest): Promise<SimulateResponse> {
    return (await this.request<SimulateResponse>('POST', '/v1/simulate', request)).body;
  }

  /** GET /v1/strategies */
  async strategies(): Promise<StrategiesResponse['strategies']> {
    return (await this.request<StrategiesResponse>('GET', '/v1/strategies')).body.strategies;
  }

  /** GET /v1/plans/{id} */
  async getPlan(id: string): Promise<Plan> {
    return (await this.request<Plan>('GET', `/v1/plans/${encodeURIComponent(id)}`)).body;
  }

  /** GET /v1/plans/{id}/memory.svg */
  async memorySvg(id: string): Promise<string> {
    return (await this.request<string>('GET', `/v1/plans/${encodeURIComponent(id)}/memory.svg`)).body;
  }

  /** GET /health */
  async health(): Promise<{ status: string; workers: number; busyWorkers: number; queued: number }> {
    return (await this.request<{ status: string; workers: number; busyWorkers: number; queued: number }>('GET', '/health')).body;
  }
}

/** Parses one SSE frame ("event: x\ndata: {...}"); comments and retry lines give null. */
export function parseSseFrame(frame: string): JobEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return null;
  return { event, data: JSON.parse(data.join('\n')) } as JobEvent;
}

/** One line of live progress: elapsed, incumbent makespan, gap. */
export function progressLine(elapsedSeconds: number, progress: { makespan?: number; gap?: number }): string {
  const incumbent = progress.makespan === undefined ? '-' : String(Math.round(progress.makespan * 1000) / 1000);
  const gap = progress.gap === undefined ? '-' : `${(100 * progress.gap).toFixed(2)} %`;
  return `elapsed ${elapsedSeconds.toFixed(1)} s · incumbent ${incumbent} · gap ${gap}`;
}

/**
 * Plans on a server and reports a progress line on every event and every half second
 * (`live` false: on events only, for logs); resolves with the Plan.
 */
export async function planWithProgress(
  client: MemplanClient,
  request: PlanRequest,
  write: (line: string) => void,
  live = true,
): Promise<Plan> {
  const started = Date.now();
  let latest: { makespan?: number; gap?: number } = {};
  const draw = () => write(progressLine((Date.now() - started) / 1000, latest));
  const ticker = live ? setInterval(draw, 500) : undefined;
  try {
    // wait=0: always follow the job's events, so every improvement shows on the line.
    return await client.plan(request, {
      wait: 0,
      onProgress: (event) => {
        latest = event;
        draw();
      },
    });
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
