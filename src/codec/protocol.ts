// Messages between the main thread and a codec worker.
import type { WireError } from '../jobs/protocol.js';
import type { CodecSettings, PreparedPlan, PreparedSweep, TextReply } from './tasks.js';

/** A task and its input; bodies travel as bytes (transferred, not copied) or text. */
export type CodecTask =
  | { kind: 'preparePlan'; body: Uint8Array; settings: CodecSettings }
  | { kind: 'prepareSweep'; body: Uint8Array; settings: CodecSettings }
  | { kind: 'analyze'; body: Uint8Array; settings: CodecSettings }
  | { kind: 'simulate'; body: Uint8Array; settings: CodecSettings }
  | { kind: 'checkPlan'; planText: string }
  | { kind: 'renderSvg'; planText: string; graphText: string };

/** What each task answers with. */
export interface CodecResults {
  preparePlan: PreparedPlan;
  prepareSweep: PreparedSweep;
  analyze: TextReply;
  simulate: TextReply;
  checkPlan: { problem?: string };
  renderSvg: TextReply | { problem: string };
}

export type ToCodec = { id: number; task: CodecTask };

export type FromCodec = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WireError };
