// The finite check of every figure memplan answers with (../shared/DESIGN.md, "Numbers"):
// a plan, a replay's figures or a graph's statistics with a non-finite number is never
// stored or returned; a typed error names the field instead.
import { MemplanError } from './errors.js';

/** Keys whose values hold no figures (a schedule is ids and ops only): skipped for speed. */
const SKIPPED_KEYS = new Set(['schedule']);

/**
 * The path of the first number in `value` that is not finite (NaN, Infinity), or
 * undefined. Walks with an explicit stack, so depth costs no call stack.
 */
export function findNonFinite(value: unknown): { field: string; value: number } | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return { field: path || '(value)', value: current };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let position = current.length - 1; position >= 0; position--) {
        stack.push({ value: current[position], path: `${path}[${position}]` });
      }
      continue;
    }
    for (const [key, child] of Object.entries(current)) {
      if (SKIPPED_KEYS.has(key)) continue;
      stack.push({ value: child, path: path ? `${path}.${key}` : key });
    }
  }
  return undefined;
}

/** Throws MEMPLAN_ERR_NON_FINITE_FIGURE naming the first non-finite figure of `value` (a `what`). */
export function assertFinite<T>(what: string, value: T): T {
  const found = findNonFinite(value);
  if (found) throw new MemplanError('MEMPLAN_ERR_NON_FINITE_FIGURE', { what, field: found.field, value: String(found.value) });
  return value;
}
