// Shapes of jobs and plans as the API shows them: state, progress, result and links; and
// the checked read of a stored plan, the one way a plan leaves the store.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { MemplanError } from '../../solver/errors.js';
import { INLINE_CHECK_MAX_CHARS } from '../../solver/limits.js';
import { planProblem } from '../codec/tasks.js';
import { type JobRecord, unreadable } from '../jobs/job-store.js';
import { type Job, JobSchema } from '../schemas/index.js';

/** Links of a job for its replies. */
export function jobLinks(record: JobRecord): Job['links'] {
  const links: Job['links'] = { self: `/v1/jobs/${record.id}`, events: `/v1/jobs/${record.id}/events` };
  if (record.kind === 'sweep') {
    links.sweep = `/v1/sweeps/${record.id}`;
    if (record.state === 'done') links.paretoSvg = `/v1/sweeps/${record.id}/pareto.svg`;
  }
  if (record.planId) {
    links.plan = `/v1/plans/${record.planId}`;
    links.memorySvg = `/v1/plans/${record.planId}/memory.svg`;
  }
  return links;
}

const JobViewSchema = JobSchema.omit({ plan: true });

/**
 * A job record as the API shows it (without its plan). A record that still does not fit
 * the schema (a hand-edited row) is shown as failed, so a listing never fails.
 */
export function jobView(record: JobRecord): Omit<Job, 'plan'> {
  const iso = (time?: number) => (time === undefined || !Number.isFinite(time) ? undefined : new Date(time).toISOString());
  const view = {
    id: record.id,
    kind: record.kind ?? 'plan',
    state: record.state,
    createdAt: iso(record.createdAt) ?? new Date(0).toISOString(),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    strategy: record.strategy,
    progress: record.progress,
    error: record.error as Job['error'],
    links: jobLinks(record),
  };
  const checked = JobViewSchema.safeParse(view);
  if (checked.success) return view;
  const issue = checked.error.issues[0];
  return {
    id: record.id,
    kind: view.kind,
    state: 'failed',
    createdAt: view.createdAt,
    strategy: String(record.strategy).slice(0, 64),
    error: unreadable('job', record.id, `${issue.path.join('.')}: ${issue.message}`).toJSON(),
    links: { self: `/v1/jobs/${record.id}`, events: `/v1/jobs/${record.id}/events` },
  };
}

/** A job view as JSON text, with the plan's checked text spliced in when there is one. */
export function jobJson(view: Omit<Job, 'plan'>, planText?: string): string {
  const text = JSON.stringify(JobViewSchema.encode(view));
  return planText === undefined ? text : `${text.slice(0, -1)},"plan":${planText}}`;
}

/**
 * A stored plan's text, checked before it is served (on a codec thread when it is big): a
 * plan that cannot be read marks its job failed and answers MEMPLAN_ERR_STORED_RECORD_INVALID.
 * Undefined when this owner has no such plan.
 */
export async function readPlan(
  app: FastifyInstance,
  id: string,
  owner: string,
): Promise<{ text: string } | { error: MemplanError } | undefined> {
  const stored = await app.memplan.jobStore.getPlan(id, owner);
  if (!stored) return undefined;
  return checkPlanText(app, stored.id, owner, stored.planText);
}

/** Checks a stored plan's text; see readPlan. */
export async function checkPlanText(
  app: FastifyInstance,
  id: string,
  owner: string,
  planText: string,
): Promise<{ text: string } | { error: MemplanError }> {
  const { jobStore: store, codec } = app.memplan;
  const problem =
    planText.length > INLINE_CHECK_MAX_CHARS ? (await codec.run({ kind: 'checkPlan', planText })).problem : planProblem(planText);
  if (problem === undefined) return { text: planText };
  await store.markPlanUnreadable(id, owner, problem);
  return { error: unreadable('plan', id, problem) };
}

/** Sends JSON text as it is (already checked or serialized off the event loop). */
export function sendJsonText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return (reply as FastifyReply)
    .code(status)
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(text);
}

/** The plan a job read points at: an error when a done job's plan is unreadable. */
export function failedView(view: Omit<Job, 'plan'>, error: MemplanError): Omit<Job, 'plan'> {
  return { ...view, state: 'failed', error: error.toJSON(), links: { self: view.links.self, events: view.links.events } };
}
