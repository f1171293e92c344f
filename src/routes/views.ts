// Shapes of jobs as the API shows them: state, progress, result and links.
import type { Plan } from '../../solver/plan-schema.js';
import type { JobRecord } from '../jobs/store.js';
import type { Job } from '../schemas/index.js';

/** Links of a job for its replies. */
export function jobLinks(record: JobRecord): Job['links'] {
  const links: Job['links'] = { self: `/v1/jobs/${record.id}`, events: `/v1/jobs/${record.id}/events` };
  if (record.planId) {
    links.plan = `/v1/plans/${record.planId}`;
    links.memorySvg = `/v1/plans/${record.planId}/memory.svg`;
  }
  return links;
}

/** A job record as the API shows it. */
export function jobView(record: JobRecord, plan?: Plan): Job {
  const iso = (time?: number) => (time === undefined ? undefined : new Date(time).toISOString());
  return {
    id: record.id,
    state: record.state,
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    strategy: record.strategy,
    progress: record.progress,
    plan,
    error: record.error as Job['error'],
    links: jobLinks(record),
  };
}
