// Step, Schedule and Transfer contract types (../shared/DESIGN.md, "Schedule").
import { z } from 'zod';
import { MAX_BANDWIDTH, MAX_LATENCY, MAX_NODE_ID_LENGTH, MAX_SCHEDULE_STEPS, MIN_BANDWIDTH } from '../limits.js';

export const STEP_OPS = ['compute', 'free', 'swapOut', 'swapIn', 'encode', 'decode'] as const;

/** One step of a schedule, replayed from an empty device and host. */
export const StepSchema = z
  .object({
    op: z.enum(STEP_OPS),
    node: z.string().min(1).max(MAX_NODE_ID_LENGTH),
    alt: z
      .string()
      .min(1)
      .max(MAX_NODE_ID_LENGTH)
      .optional()
      .describe('compute only: the alternative whose cost and workspace apply ("default" or absent: the node\'s own)'),
    encoding: z
      .string()
      .min(1)
      .max(MAX_NODE_ID_LENGTH)
      .optional()
      .describe('encode and decode: the form made or read; free, swapOut and swapIn: act on that form v#e instead of the value'),
  })
  .meta({ id: 'Step' });

export const ScheduleSchema = z.array(StepSchema).max(MAX_SCHEDULE_STEPS).meta({ id: 'Schedule' });

/** The host link: a swap of b bytes takes latency + b / bandwidth cost units. */
export const TransferSchema = z
  .object({
    bandwidth: z.number().min(MIN_BANDWIDTH).max(MAX_BANDWIDTH).describe('Bytes per cost unit, in [1e-6, 1e12]'),
    latency: z.number().min(0).max(MAX_LATENCY).default(0).describe('Cost units per copy, in [0, 1e12]'),
  })
  .meta({ id: 'Transfer' });

export type Step = z.infer<typeof StepSchema>;
export type StepOp = Step['op'];
export type Schedule = Step[];
export type Transfer = { bandwidth: number; latency: number };
