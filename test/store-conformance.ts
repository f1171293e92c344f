// The store conformance suite: what every JobStore (src/jobs/job-store.ts) must do, run
// against the SQLite store (test/store-sqlite.test.ts, in `npm test`) and PostgreSQL
// (test/scaleout/store-postgres.test.ts, in `npm run test:scaleout`). Each case gets a
// fresh, empty store from `open`.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord, JobStore, PlanWrite, SweepWrite } from '../src/jobs/job-store.js';

const OWNER = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

function job(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return { id, owner: OWNER, hash: `hash-${id}`, state: 'queued', strategy: 'auto', createdAt: 1_000, ...extra };
}

function plan(id: string, extra: Partial<PlanWrite> = {}): PlanWrite {
  return {
    id,
    owner: OWNER,
    hash: `hash-${id}`,
    planText: `{"id":"${id}","status":"feasible"}`,
    graphHash: 'graph-1',
    graphText: '{"nodes":[]}',
    createdAt: 2_000,
    ...extra,
  };
}

/** Registers the suite for one kind of store. */
export function storeConformance(name: string, open: () => Promise<JobStore>): void {
  describe(`${name} store conformance`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('keeps every field of a job, and shows it to its owner only', async () => {
      const full = job('j1', {
        state: 'running',
        startedAt: 1_500,
        finishedAt: 1_700,
        progress: { elapsedSeconds: 0.5, incumbent: 120, bound: 100, gap: 1 / 6, strategy: 'dtr', message: 'baselines' },
        error: { code: 'MEMPLAN_ERR_CANCELLED', message: 'The job was cancelled', details: { planId: 'j1' } },
        planId: 'j1',
        kind: 'plan',
      });
      await store.saveJob(full);
      expect(await store.getJob('j1', OWNER)).toEqual(full);
      expect(await store.getJob('j1', OTHER)).toBeUndefined();
      expect(await store.getJob('nope', OWNER)).toBeUndefined();
      // Saving again replaces.
      await store.saveJob({ ...full, state: 'done', progress: undefined, error: undefined });
      const again = await store.getJob('j1', OWNER);
      expect(again?.state).toBe('done');
      expect(again?.progress).toBeUndefined();
      expect(again?.error).toBeUndefined();
    });

    it('reads an impossible row as a failed job naming the problem', async () => {
      await store.saveJob(job('bad', { state: 'done' }));
      const read = await store.getJob('bad', OWNER);
      expect(read?.state).toBe('failed');
      expect(read?.error?.code).toBe('MEMPLAN_ERR_STORED_RECORD_INVALID');
      expect(read?.error?.message).toContain('a finished job without a plan');
    });

    it('lists newest first, by state and within the limit, counts by state and counts active jobs per owner', async () => {
      await store.saveJob(job('old', { createdAt: 1, state: 'done', planId: 'old' }));
      await store.saveJob(job('mid', { createdAt: 2, state: 'running' }));
      await store.saveJob(job('new', { createdAt: 3 }));
      await store.saveJob(job('theirs', { createdAt: 4, owner: OTHER }));
      expect((await store.listJobs(OWNER, 10)).map((record) => record.id)).toEqual(['new', 'mid', 'old']);
      expect((await store.listJobs(OWNER, 2)).map((record) => record.id)).toEqual(['new', 'mid']);
      expect((await store.listJobs(OWNER, 10, 'running')).map((record) => record.id)).toEqual(['mid']);
      expect(await store.countJobs()).toEqual({ done: 1, running: 1, queued: 2 });
      expect(await store.countActive(OWNER)).toBe(2);
      expect(await store.countActive(OTHER)).toBe(1);
    });

    it('moves a job on only from the states given', async () => {
      await store.saveJob(job('j'));
      expect(await store.updateJobIf(job('j', { state: 'running' }), ['queued'])).toBe(true);
      expect(await store.updateJobIf(job('j', { state: 'cancelled' }), ['queued'])).toBe(false);
      expect((await store.getJob('j', OWNER))?.state).toBe('running');
      expect(await store.updateJobIf(job('missing', { state: 'running' }), ['queued'])).toBe(false);
      expect(await store.getJob('missing', OWNER)).toBeUndefined();
    });

    it('finishes a job once: its plan and record together, never over an ended job', async () => {
      await store.saveJob(job('j', { state: 'running' }));
      const done = job('j', { state: 'done', planId: 'j', finishedAt: 3_000 });
      expect(await store.finishJob(done, plan('j'))).toBe(true);
      expect((await store.getJob('j', OWNER))?.state).toBe('done');
      expect((await store.getPlan('j', OWNER))?.planText).toBe(plan('j').planText);
      // A second worker's result for the same job changes nothing.
      expect(await store.finishJob({ ...done, finishedAt: 4_000 }, plan('j', { planText: '{"id":"j","status":"optimal"}' }))).toBe(false);
      expect((await store.getPlan('j', OWNER))?.planText).toBe(plan('j').planText);
      expect((await store.getJob('j', OWNER))?.finishedAt).toBe(3_000);
      // A cancelled job ends without a plan.
      await store.saveJob(job('c'));
      expect(
        await store.finishJob(job('c', { state: 'cancelled', error: { code: 'MEMPLAN_ERR_CANCELLED', message: 'x', details: {} } })),
      ).toBe(true);
      expect(await store.getPlan('c', OWNER)).toBeUndefined();
    });

    it('finishes a sweep once: its result, its plans and its record together, for its owner only, until retention', async () => {
      await store.saveJob(job('s', { state: 'running', kind: 'sweep' }));
      const sweep: SweepWrite = {
        id: 's',
        owner: OWNER,
        resultText: '{"points":[{"planId":"s-0"},{"planId":"s-1"}]}',
        createdAt: 2_000,
        plans: [plan('s-0', { hash: 'sweep:s-0' }), plan('s-1', { hash: 'sweep:s-1' })],
      };
      const done = job('s', { state: 'done', kind: 'sweep', finishedAt: 3_000 });
      expect(await store.finishJob(done, undefined, sweep)).toBe(true);
      // A finished sweep has no plan of its own and still reads as done.
      const read = await store.getJob('s', OWNER);
      expect(read?.state).toBe('done');
      expect(read?.kind).toBe('sweep');
      expect(await store.getSweep('s', OWNER)).toBe(sweep.resultText);
      expect(await store.getSweep('s', OTHER)).toBeUndefined();
      expect(await store.getSweep('nope', OWNER)).toBeUndefined();
      expect((await store.getPlan('s-1', OWNER))?.planText).toBe(plan('s-1').planText);
      expect(await store.getPlan('s-1', OTHER)).toBeUndefined();
      // A second result for the ended sweep changes nothing.
      expect(await store.finishJob({ ...done, finishedAt: 4_000 }, undefined, { ...sweep, resultText: '{"points":[]}' })).toBe(false);
      expect(await store.getSweep('s', OWNER)).toBe(sweep.resultText);
      // Retention takes the result with its plans and its job.
      await store.deleteOlderThan(10_000);
      expect(await store.getSweep('s', OWNER)).toBeUndefined();
      expect(await store.getPlan('s-0', OWNER)).toBeUndefined();
      expect(await store.counts()).toEqual({ jobs: 0, plans: 0, graphs: 0 });
    });

    it('stores one result when two workers finish the same job at once', async () => {
      await store.saveJob(job('race', { state: 'running' }));
      const finishes = await Promise.all(
        ['first', 'second', 'third'].map((worker) =>
          store.finishJob(job('race', { state: 'done', planId: 'race' }), plan('race', { planText: `{"id":"race","by":"${worker}"}` })),
        ),
      );
      expect(finishes.filter(Boolean)).toHaveLength(1);
      const winner = ['first', 'second', 'third'][finishes.indexOf(true)];
      expect((await store.getPlan('race', OWNER))?.planText).toBe(`{"id":"race","by":"${winner}"}`);
      expect((await store.counts()).plans).toBe(1);
    });

    it('answers an identical request from the newest plan of its owner, and keeps a graph once', async () => {
      await store.savePlan(plan('p1', { hash: 'same', createdAt: 10 }));
      await store.savePlan(plan('p2', { hash: 'same', createdAt: 20 }));
      await store.savePlan(plan('p3', { hash: 'same', createdAt: 30, owner: OTHER }));
      expect((await store.findPlanByHash('same', OWNER))?.id).toBe('p2');
      expect((await store.findPlanByHash('same', OTHER))?.id).toBe('p3');
      expect(await store.findPlanByHash('other', OWNER)).toBeUndefined();
      expect(await store.getPlan('p3', OWNER)).toBeUndefined();
      expect(await store.getGraph('graph-1')).toBe('{"nodes":[]}');
      expect(await store.counts()).toEqual({ jobs: 0, plans: 3, graphs: 1 });
    });

    it('keeps large texts exact', async () => {
      const big = `{"id":"big","schedule":"${'é∑'.repeat(300_000)}"}`;
      await store.savePlan(plan('big', { planText: big, graphHash: 'g-big', graphText: big }));
      expect((await store.getPlan('big', OWNER))?.planText).toBe(big);
      expect(await store.getGraph('g-big')).toBe(big);
    });

    it('marks an unreadable plan: its job reads failed and it leaves the cache', async () => {
      await store.saveJob(job('u', { state: 'done', planId: 'u' }));
      await store.savePlan(plan('u', { hash: 'h' }));
      await store.markPlanUnreadable('u', OWNER, 'bad text');
      expect(await store.findPlanByHash('h', OWNER)).toBeUndefined();
      const read = await store.getJob('u', OWNER);
      expect(read?.state).toBe('failed');
      expect(read?.error?.code).toBe('MEMPLAN_ERR_STORED_RECORD_INVALID');
      expect(read?.planId).toBeUndefined();
    });

    it('deletes a plan and its finished job for its owner only, and the graph nothing uses', async () => {
      await store.saveJob(job('d', { state: 'done', planId: 'd' }));
      await store.savePlan(plan('d', { graphHash: 'g-d' }));
      await store.saveJob(job('r', { state: 'running' }));
      expect(await store.deletePlan('d', OTHER)).toBe(false);
      expect(await store.deletePlan('d', OWNER)).toBe(true);
      expect(await store.getPlan('d', OWNER)).toBeUndefined();
      expect(await store.getJob('d', OWNER)).toBeUndefined();
      expect(await store.getGraph('g-d')).toBeUndefined();
      // A running job is left alone.
      expect(await store.deletePlan('r', OWNER)).toBe(false);
      expect((await store.getJob('r', OWNER))?.state).toBe('running');
    });

    it('expires finished jobs and plans older than the cutoff, never active jobs', async () => {
      await store.saveJob(job('old-done', { state: 'done', planId: 'old-done', createdAt: 1, finishedAt: 5 }));
      await store.savePlan(plan('old-done', { createdAt: 5, graphHash: 'g-old' }));
      await store.saveJob(job('old-running', { state: 'running', createdAt: 1 }));
      await store.saveJob(job('new-done', { state: 'done', planId: 'new-done', createdAt: 50, finishedAt: 60 }));
      await store.savePlan(plan('new-done', { createdAt: 60, graphHash: 'g-new' }));
      expect(await store.deleteOlderThan(10)).toEqual({ jobs: 1, plans: 1, graphs: 1 });
      expect(await store.counts()).toEqual({ jobs: 2, plans: 1, graphs: 1 });
      expect(await store.getJob('old-running', OWNER)).toBeDefined();
    });

    it('fails the jobs an earlier process left unfinished', async () => {
      await store.saveJob(job('q'));
      await store.saveJob(job('r', { state: 'running' }));
      await store.saveJob(job('d', { state: 'done', planId: 'd' }));
      expect(await store.failInterrupted()).toBe(2);
      for (const id of ['q', 'r']) {
        const read = await store.getJob(id, OWNER);
        expect(read?.state).toBe('failed');
        expect(read?.error?.code).toBe('MEMPLAN_ERR_INTERRUPTED');
      }
      expect((await store.getJob('d', OWNER))?.state).toBe('done');
    });
  });
}
