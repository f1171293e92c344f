// The Graph contract (../shared/DESIGN.md, "Graph"): one zod schema gives validation,
// the TypeScript type and the OpenAPI document.
import { z } from 'zod';
import {
  MAX_GRAPH_NAME_LENGTH,
  MAX_NODE_ALTERNATIVES,
  MAX_NODE_BYTES,
  MAX_NODE_COST,
  MAX_NODE_ENCODINGS,
  MAX_NODE_ID_LENGTH,
  MAX_NODE_INPUTS,
  MAX_RESIDENT_BYTES,
} from '../limits.js';

export const NODE_KINDS = ['input', 'forward', 'loss', 'backward'] as const;

/** The name a compute step may use for a node's own cost and workspaceBytes; no alternative may take it. */
export const DEFAULT_IMPLEMENTATION = 'default';

/** Another implementation of a node's operator: same inputs and output, its own time and transient memory. */
export const AlternativeSchema = z
  .object({
    name: z.string().min(1).max(MAX_NODE_ID_LENGTH).describe('Unique among the node\'s alternatives; not "default"'),
    cost: z.number().min(0).max(MAX_NODE_COST).describe('Time to compute the node with this implementation, at most 1e15'),
    workspaceBytes: z.number().int().min(0).max(MAX_NODE_BYTES).optional().describe('Transient bytes while it computes, at most 2^50'),
  })
  .meta({ id: 'Alternative' });

/** A compact form v#e of a node's output (Gist, cDMA). */
export const EncodingSchema = z
  .object({
    name: z.string().min(1).max(MAX_NODE_ID_LENGTH).describe("Unique among the node's encodings"),
    bytes: z.number().int().min(0).max(MAX_NODE_BYTES).describe('Size of the encoded form on the device, at most 2^50'),
    encodeCost: z.number().min(0).max(MAX_NODE_COST).describe('Time to make the form from the value (compute stream)'),
    decodeCost: z
      .number()
      .min(0)
      .max(MAX_NODE_COST)
      .optional()
      .describe('Time to turn the form back into the value; absent: the form cannot be decoded'),
    readers: z
      .array(z.string().max(MAX_NODE_ID_LENGTH))
      .max(MAX_NODE_INPUTS)
      .optional()
      .describe('Users of the node whose computation reads this form instead of the value'),
  })
  .meta({ id: 'Encoding' });

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
    alternatives: z
      .array(AlternativeSchema)
      .max(MAX_NODE_ALTERNATIVES)
      .optional()
      .describe('Other implementations of the operator (its own cost and workspaceBytes are the implementation "default")'),
    encodings: z
      .array(EncodingSchema)
      .max(MAX_NODE_ENCODINGS)
      .optional()
      .describe('Compact forms of the output: encode / decode steps make them, readers read them instead of the value'),
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
export type Alternative = z.infer<typeof AlternativeSchema>;
export type Encoding = z.infer<typeof EncodingSchema>;
export type Graph = z.infer<typeof GraphSchema>;
export type NodeKind = (typeof NODE_KINDS)[number];
