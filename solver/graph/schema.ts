// The Graph contract (../shared/DESIGN.md, "Graph"): one zod schema gives validation,
// the TypeScript type and the OpenAPI document.
import { z } from 'zod';

export const NODE_KINDS = ['input', 'forward', 'loss', 'backward'] as const;

/** One operator of the training step; its output is one tensor of `bytes`. */
export const NodeSchema = z
  .object({
    id: z.string().min(1).max(512).describe('Unique node id'),
    op: z.string().max(512).optional().describe('Free text, such as "convolution"'),
    kind: z.enum(NODE_KINDS).optional().describe('Default "forward"'),
    inputs: z.array(z.string()).max(100_000).optional().describe('Ids of nodes listed earlier in "nodes"'),
    bytes: z.number().int().nonnegative().describe('Size of the output on the device'),
    cost: z.number().nonnegative().describe('Time to compute it once, in one unit for all nodes'),
    workspaceBytes: z.number().int().nonnegative().optional().describe('Transient bytes while it computes'),
    recomputable: z.boolean().optional().describe('Default: kind != "input"'),
    keep: z.boolean().optional().describe('Must be on the device when the step ends'),
  })
  .meta({ id: 'Node' });

/** A computation graph; "nodes" is the framework's execution order. */
export const GraphSchema = z
  .object({
    name: z.string().max(1024).optional(),
    residentBytes: z.number().int().nonnegative().optional().describe('Always on the device: parameters, optimizer state'),
    nodes: z.array(NodeSchema).describe('Execution order; every input is listed earlier'),
  })
  .meta({ id: 'Graph' });

export type GraphNode = z.infer<typeof NodeSchema>;
export type Graph = z.infer<typeof GraphSchema>;
export type NodeKind = (typeof NODE_KINDS)[number];
