// The Graph contract (../shared/DESIGN.md, "Graph"): one zod schema gives validation,
// the TypeScript type and the OpenAPI document.
import { z } from 'zod';
import {
  MAX_GRAPH_NAME_LENGTH,
  MAX_NODE_BYTES,
  MAX_NODE_COST,
  MAX_NODE_ID_LENGTH,
  MAX_NODE_INPUTS,
  MAX_RESIDENT_BYTES,
} from '../limits.js';

export const NODE_KINDS = ['input', 'forward', 'loss', 'backward'] as const;

/** One operator of the training step; its output is one tensor of `bytes`. */
export const NodeSchema = z
  .object({
    id: z.string().min(1).max(MAX_NODE_ID_LENGTH).describe('Unique node id'),
    op: z.string().max(MAX_NODE_ID_LENGTH).optional().describe('Free text, such as "convolution"'),
    kind: z.enum(NODE_KINDS).optional().describe('Default "forward"'),
    inputs: z.array(z.string().max(MAX_NODE_ID_LENGTH)).max(MAX_NODE_INPUTS).optional().describe('Ids of nodes listed earlier in "nodes"'),
    bytes: z.number().int().min(0).max(MAX_NODE_BYTES).describe('Size of the output on the device, at most 2^50'),
    cost: z
      .number()
      .min(0)
      .max(MAX_NODE_COST)
      .describe('Time to compute it once, in one unit for all nodes; at most 1e15, also summed over the nodes'),
    workspaceBytes: z.number().int().min(0).max(MAX_NODE_BYTES).optional().describe('Transient bytes while it computes, at most 2^50'),
    recomputable: z.boolean().optional().describe('Default: kind != "input"'),
    keep: z.boolean().optional().describe('Must be on the device when the step ends'),
  })
  .meta({ id: 'Node' });

/** A computation graph; "nodes" is the framework's execution order. */
export const GraphSchema = z
  .object({
    name: z.string().max(MAX_GRAPH_NAME_LENGTH).optional(),
    residentBytes: z
      .number()
      .int()
      .min(0)
      .max(MAX_RESIDENT_BYTES)
      .optional()
      .describe('Always on the device: parameters, optimizer state; a safe integer below 2^53'),
    nodes: z.array(NodeSchema).describe('Execution order; every input is listed earlier'),
  })
  .meta({ id: 'Graph' });

export type GraphNode = z.infer<typeof NodeSchema>;
export type Graph = z.infer<typeof GraphSchema>;
export type NodeKind = (typeof NODE_KINDS)[number];
