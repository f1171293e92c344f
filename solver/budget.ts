// The one budget parser of the CLI, the service and the plugin's forms: "60%", 0.6,
// "12GB", "800MiB", bytes, {fraction} or {bytes}. Every form resolves to {fraction} (of the
// no-remat peak) or {bytes} (residentBytes included) before a strategy sees it.
import { z } from 'zod';
import { MemplanError } from './errors.js';
import { MAX_BUDGET_BYTES, MAX_BUDGET_FRACTION } from './limits.js';

/** The accepted shapes, for error messages. */
export const BUDGET_SHAPES =
  'a percentage ("60%"), a fraction (0.6 or "0.6"), bytes (123456, "12GB", "800MiB"), {"fraction": 0.6} or {"bytes": 123456}';

/** Byte units: KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024. */
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A budget in its resolved form: a fraction of the no-remat peak, or bytes. */
export type ResolvedBudget = { bytes: number } | { fraction: number };

/** A problem with a budget form, as a sentence (no code): the caller wraps it. */
class BudgetFormError extends Error {}

function checkFraction(value: number): ResolvedBudget {
  if (!(value > 0)) throw new BudgetFormError('a fraction must be above 0');
  if (value > MAX_BUDGET_FRACTION) throw new BudgetFormError(`a fraction must be at most ${MAX_BUDGET_FRACTION}`);
  return { fraction: value };
}

function checkBytes(value: number): ResolvedBudget {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_BUDGET_BYTES) {
    throw new BudgetFormError('bytes must be a whole number in [0, 2^53)');
  }
  return { bytes: value };
}

/** A bare number: at most 1 or with a fraction part is a fraction, else bytes. */
function fromNumber(value: number): ResolvedBudget {
  if (!Number.isFinite(value)) throw new BudgetFormError('the number is not finite');
  return value <= 1 || !Number.isInteger(value) ? checkFraction(value) : checkBytes(value);
}

function fromText(text: string): ResolvedBudget {
  const trimmed = text.trim();
  const match = /^(\d+(?:\.\d*)?|\.\d+)(?:\s*(%|[a-z]+))?$/i.exec(trimmed);
  if (!match) throw new BudgetFormError(`expected ${BUDGET_SHAPES}`);
  const value = Number(match[1]);
  const unit = match[2]?.toLowerCase();
  if (unit === '%') {
    if (!(value > 0)) throw new BudgetFormError('a percentage must be above 0');
    return checkFraction(value / 100);
  }
  if (unit === undefined) {
    // "0.6" and "1" are fractions; "123456" is bytes, as for a bare number.
    return match[1].includes('.') || value <= 1 ? checkFraction(value) : checkBytes(value);
  }
  const scale = UNITS[unit];
  if (scale === undefined) throw new BudgetFormError(`unknown unit "${match[2]}" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`);
  return checkBytes(Math.floor(value * scale));
}

/** Resolves any accepted form, or says what is wrong with it in a sentence that quotes the value. */
function describeProblem(value: unknown): { budget?: ResolvedBudget; problem?: string } {
  try {
    if (typeof value === 'string') return { budget: fromText(value) };
    if (typeof value === 'number') return { budget: fromNumber(value) };
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const object = value as Record<string, unknown>;
      if (keys.length === 1 && keys[0] === 'fraction' && typeof object.fraction === 'number')
        return { budget: checkFraction(object.fraction) };
      if (keys.length === 1 && keys[0] === 'bytes' && typeof object.bytes === 'number') return { budget: checkBytes(object.bytes) };
    }
    throw new BudgetFormError(`expected ${BUDGET_SHAPES}`);
  } catch (error) {
    if (!(error instanceof BudgetFormError)) throw error;
    const shown = typeof value === 'string' ? `"${value.slice(0, 64)}"` : String(JSON.stringify(value) ?? value).slice(0, 64);
    return { problem: `${shown}: ${error.message}` };
  }
}

/** Resolves any accepted form; throws MEMPLAN_ERR_INVALID_BUDGET naming the accepted shapes. */
export function parseBudget(value: unknown): ResolvedBudget {
  const { budget, problem } = describeProblem(value);
  if (budget) return budget;
  throw new MemplanError('MEMPLAN_ERR_INVALID_BUDGET', { detail: problem, accepted: BUDGET_SHAPES });
}

/** The budget as a request carries it: any accepted form, resolved to {fraction} or {bytes} on parsing. */
export const BudgetSchema = z
  .union(
    [
      z.string().max(64),
      z.number(),
      z.object({ bytes: z.number().describe('Device budget in bytes, residentBytes included') }).strict(),
      z.object({ fraction: z.number().describe('Fraction of the no-remat peak, such as 0.6') }).strict(),
    ],
    { error: `expected ${BUDGET_SHAPES}` },
  )
  .transform((value, context) => {
    const { budget, problem } = describeProblem(value);
    if (budget) return budget;
    context.addIssue({ code: 'custom', message: problem ?? 'invalid', input: value });
    return z.NEVER;
  })
  .meta({
    id: 'Budget',
    description: `Device budget: ${BUDGET_SHAPES}. A fraction is of the no-remat peak; bytes include residentBytes.`,
    examples: ['60%', 0.6, '12GB', '800MiB', { fraction: 0.6 }, { bytes: 123456 }],
  });

/** Resolves a budget to bytes (a fraction is of the no-remat peak `peak`). */
export function budgetBytes(budget: ResolvedBudget, peak: number): number {
  if ('bytes' in budget) return budget.bytes;
  return Math.floor(budget.fraction * peak);
}
