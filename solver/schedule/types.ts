// Step, Schedule and Transfer contract types (../shared/DESIGN.md, "Schedule").
import { z } from 'zod';

export const STEP_OPS = ['compute', 'free', 'swapOut', 'swapIn'] as const;

/** One step of a schedule, replayed from an empty device and host. */
export const StepSchema = z
  .object({
    op: z.enum(STEP_OPS),
    node: z.string().min(1).max(512),
  })
  .meta({ id: 'Step' });

export const ScheduleSchema = z.array(StepSchema).max(10_000_000).meta({ id: 'Schedule' });

/** The host link: a swap of b bytes takes latency + b / bandwidth cost units. */
export const TransferSchema = z
  .object({
    bandwidth: z.number().positive().describe('Bytes per cost unit'),
    latency: z.number().nonnegative().default(0).describe('Cost units per copy'),
  })
  .meta({ id: 'Transfer' });

export type Step = z.infer<typeof StepSchema>;
export type StepOp = Step['op'];
export type Schedule = Step[];
export type Transfer = { bandwidth: number; latency: number };
