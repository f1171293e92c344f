// The codec pool: worker threads that parse, validate, replay and serialize big request
// and reply bodies so the event loop stays free for /health and every other request.
// Threads start on first use, stay idle without holding the process open, and a thread
// that crashes or overruns its deadline is replaced; its task fails with a typed error.
import { Worker } from 'node:worker_threads';
import { MemplanError, type ErrorCode } from '../../solver/errors.js';
import { CODEC_TASK_TIMEOUT_MS, DEFAULT_CODEC_WORKERS } from '../../solver/limits.js';
import type { WireError } from '../jobs/protocol.js';
import type { CodecResults, CodecTask, FromCodec, ToCodec } from './protocol.js';

const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);

export interface CodecPoolOptions {
  /** Threads; default 1. */
  size?: number;
  /** A task still running after this many ms is stopped (its thread replaced). */
  taskTimeoutMs?: number;
}

interface Pending {
  id: number;
  task: CodecTask;
  transfer: ArrayBuffer[];
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current?: Pending;
  timer?: NodeJS.Timeout;
}

/** Runs codec tasks on worker threads; see the module comment. */
export class CodecPool {
  private readonly size: number;
  private readonly taskTimeoutMs: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: CodecPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? DEFAULT_CODEC_WORKERS);
    this.taskTimeoutMs = options.taskTimeoutMs ?? CODEC_TASK_TIMEOUT_MS;
  }

  /** Runs one task; rejects with a MemplanError (the task's own, or internal when a thread fails). */
  run<K extends CodecTask['kind']>(task: Extract<CodecTask, { kind: K }>): Promise<CodecResults[K]> {
    if (this.closed) return Promise.reject(new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN'));
    const transfer: ArrayBuffer[] = [];
    if ('body' in task) {
      const body = task.body;
      // A big body owns its whole ArrayBuffer: hand it over without a copy. A small one may
      // share Node's buffer pool: copy it into a buffer of its own first.
      const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      const own = owned ? body : Uint8Array.from(body);
      task.body = own;
      transfer.push(own.buffer as ArrayBuffer);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = [...this.slots].find((candidate) => !candidate.current);
      if (!slot && this.slots.size < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      slot.current = pending;
      slot.worker.ref();
      slot.timer = setTimeout(() => this.fail(slot!, `the task took longer than ${this.taskTimeoutMs} ms`), this.taskTimeoutMs);
      slot.timer.unref();
      slot.worker.postMessage({ id: pending.id, task: pending.task } satisfies ToCodec, pending.transfer);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { stdout: false, stderr: false });
    const slot: Slot = { worker };
    this.slots.add(slot);
    worker.on('message', (message: FromCodec) => this.receive(slot, message));
    worker.on('error', (error) => this.fail(slot, `${error.name}: ${error.message}`));
    worker.on('exit', (code) => this.fail(slot, `the codec thread exited with code ${code}`));
    worker.unref();
    return slot;
  }

  private receive(slot: Slot, message: FromCodec): void {
    const pending = slot.current;
    if (!pending || pending.id !== message.id) return;
    this.release(slot);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(fromWire(message.error));
    this.pump();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.current = undefined;
    // An idle thread must not keep the process alive.
    slot.worker.unref();
  }

  /** A thread failed or overran: its task fails, the thread is replaced on demand. */
  private fail(slot: Slot, detail: string): void {
    if (!this.slots.has(slot)) return;
    this.slots.delete(slot);
    const pending = slot.current;
    this.release(slot);
    void slot.worker.terminate();
    pending?.reject(new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: `codec: ${detail}` }));
    if (!this.closed) this.pump();
  }

  /** Stops every thread; queued and running tasks fail as shutting down. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN'));
    const exits = [...this.slots].map((slot) => {
      this.slots.delete(slot);
      slot.current?.reject(new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN'));
      this.release(slot);
      return slot.worker.terminate();
    });
    await Promise.allSettled(exits);
  }
}

/** A wire error back as a MemplanError with its catalogue code. */
function fromWire(error: WireError): MemplanError {
  return new MemplanError(error.code as ErrorCode, error.details);
}
