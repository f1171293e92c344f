// The one CPLEX-LP writer. Names are made LP-safe (letters, digits, '_' and '.', never
// starting with a digit, a period or an exponent letter, never a keyword) and unique,
// deterministically: the same model always prints the same text. HiGHS's LP reader
// aborts on double-sided rows, so a ranged row is written as two rows, <name>_lo and
// <name>_hi.
import { LP_LINE_MAX_CHARS, LP_NAME_MAX_CHARS } from '../limits.js';
import type { Model } from './model.js';

const KEYWORDS = new Set([
  'min',
  'max',
  'minimize',
  'maximize',
  'minimum',
  'maximum',
  'st',
  's.t.',
  'st.',
  'subject',
  'such',
  'to',
  'that',
  'bound',
  'bounds',
  'free',
  'inf',
  'infinity',
  'bin',
  'bins',
  'binary',
  'binaries',
  'gen',
  'general',
  'generals',
  'semi',
  'semis',
  'semi-continuous',
  'end',
  'obj',
]);

/** Makes one name LP-safe; `prefix` is used when the name cannot start as it is. */
export function lpSafeName(name: string, prefix: string): string {
  let safe = name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, LP_NAME_MAX_CHARS);
  if (safe === '' || /^[0-9.eE]/.test(safe) || KEYWORDS.has(safe.toLowerCase())) safe = `${prefix}${safe}`;
  return safe;
}

/** Deterministic LP-safe unique names for a list of names, in order (later duplicates get _2, _3, ...). */
export function uniqueLpNames(names: readonly string[], prefix: string, taken: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (const name of names) {
    const base = lpSafeName(name, prefix);
    let candidate = base;
    for (let suffix = 2; taken.has(candidate.toLowerCase()); suffix++) candidate = `${base}_${suffix}`;
    taken.add(candidate.toLowerCase());
    out.push(candidate);
  }
  return out;
}

function formatNumber(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** Writes `sum terms` with signs, wrapped so no line grows much past LP_LINE_MAX_CHARS. */
function writeExpression(lines: string[], head: string, terms: readonly (readonly [number, number])[], names: readonly string[]): string {
  let line = head;
  if (terms.length === 0) return `${line} 0 ${names.length ? names[0] : ''}`.trimEnd();
  for (const [variable, coefficient] of terms) {
    const piece = `${coefficient < 0 ? '-' : '+'} ${formatNumber(Math.abs(coefficient))} ${names[variable]}`;
    if (line.length + piece.length > LP_LINE_MAX_CHARS) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${piece}`;
  }
  return line;
}

/** Prints a model in CPLEX LP format (minimization). */
export function writeLp(model: Model): string {
  const names = uniqueLpNames(model.varNames, 'v_');
  const lines: string[] = ['\\ written by memplan', 'Minimize'];
  const objectiveTerms: [number, number][] = [];
  for (let variable = 0; variable < model.variableCount; variable++) {
    const cost = model.variable(variable).cost;
    if (cost !== 0) objectiveTerms.push([variable, cost]);
  }
  let objective = objectiveTerms.length ? writeExpression(lines, ' obj:', objectiveTerms, names) : ` obj: 0 ${names[0] ?? ''}`.trimEnd();
  if (model.offset !== 0) objective += ` ${model.offset < 0 ? '-' : '+'} ${formatNumber(Math.abs(model.offset))}`;
  lines.push(objective);
  lines.push('Subject To');
  const rowNamesTaken = new Set<string>();
  const baseRowNames = uniqueLpNames(model.rowNames, 'r_', rowNamesTaken);
  for (let row = 0; row < model.rowCount; row++) {
    const { lb, ub, terms } = model.row(row);
    const name = baseRowNames[row];
    if (lb === -Infinity && ub === Infinity) continue;
    if (lb === ub) {
      lines.push(`${writeExpression(lines, ` ${name}:`, terms, names)} = ${formatNumber(lb)}`);
    } else if (lb === -Infinity) {
      lines.push(`${writeExpression(lines, ` ${name}:`, terms, names)} <= ${formatNumber(ub)}`);
    } else if (ub === Infinity) {
      lines.push(`${writeExpression(lines, ` ${name}:`, terms, names)} >= ${formatNumber(lb)}`);
    } else {
      const [low, high] = uniqueLpNames([`${name}_lo`, `${name}_hi`], 'r_', rowNamesTaken);
      lines.push(`${writeExpression(lines, ` ${low}:`, terms, names)} >= ${formatNumber(lb)}`);
      lines.push(`${writeExpression(lines, ` ${high}:`, terms, names)} <= ${formatNumber(ub)}`);
    }
  }
  lines.push('Bounds');
  const generals: string[] = [];
  for (let variable = 0; variable < model.variableCount; variable++) {
    const { lb, ub, integer } = model.variable(variable);
    const name = names[variable];
    if (integer) generals.push(name);
    if (lb === -Infinity && ub === Infinity) lines.push(` ${name} free`);
    else if (lb === ub) lines.push(` ${name} = ${formatNumber(lb)}`);
    else if (lb === 0 && ub === Infinity) continue;
    else lines.push(` ${formatNumber(lb)} <= ${name} <= ${formatNumber(ub)}`);
  }
  if (generals.length) {
    lines.push('Generals');
    for (let at = 0; at < generals.length; at += 10) lines.push(` ${generals.slice(at, at + 10).join(' ')}`);
  }
  lines.push('End', '');
  return lines.join('\n');
}
