// The memory picture of a plan: device bytes over the steps (replayed by the simulator),
// the budget line, and marks where a node is recomputed or swapped.
import type { IndexedGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import { SVG_MAX_COLUMNS } from '../solver/limits.js';
import { simulate } from '../solver/schedule/simulate.js';
import { formatBytes } from './format.js';

const WIDTH = 960;
const HEIGHT = 360;
const LEFT = 90;
const RIGHT = 20;
const TOP = 40;
const BOTTOM = 60;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char]!);
}

function frame(title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

/** Renders a plan's device memory over its steps as SVG. */
export function memorySvg(graph: IndexedGraph, plan: Plan): string {
  const title = `memplan ${plan.id ?? ''} · ${plan.strategy} · ${plan.status}`;
  if (plan.schedule.length === 0) {
    return frame(title, `<text x="${LEFT}" y="${HEIGHT / 2}">No schedule: ${escapeXml(plan.message ?? 'the plan is empty')}</text>`);
  }
  const replay = simulate(graph, plan.schedule, { transfer: plan.transfer, timeline: true });
  if (!replay.ok || !replay.timeline) {
    return frame(
      title,
      `<text x="${LEFT}" y="${HEIGHT / 2}">The schedule does not replay: ` +
        `${escapeXml(replay.ok ? 'no timeline' : replay.error.message)}</text>`,
    );
  }
  const rows = replay.timeline;
  const steps = rows.length;
  const columns = Math.min(steps, SVG_MAX_COLUMNS);
  const perColumn = steps / columns;
  const heights = new Array<number>(columns).fill(0);
  const recompute = new Set<number>();
  const swapOut = new Set<number>();
  const swapIn = new Set<number>();
  const seen = new Uint8Array(graph.size);
  rows.forEach((row, step) => {
    const column = Math.min(columns - 1, Math.floor(step / perColumn));
    heights[column] = Math.max(heights[column], row.bytes);
    const node = graph.index.get(row.node)!;
    if (row.op === 'compute') {
      if (seen[node]) recompute.add(column);
      seen[node] = 1;
    } else if (row.op === 'swapOut') swapOut.add(column);
    else if (row.op === 'swapIn') swapIn.add(column);
  });
  const top = Math.max(plan.budgetBytes, ...heights, 1) * 1.08;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (column: number) => LEFT + (column / columns) * plotWidth;
  const y = (bytes: number) => TOP + plotHeight - (bytes / top) * plotHeight;
  let path = `M ${x(0).toFixed(1)} ${y(0).toFixed(1)}`;
  heights.forEach((bytes, column) => {
    path += ` L ${x(column).toFixed(1)} ${y(bytes).toFixed(1)} L ${x(column + 1).toFixed(1)} ${y(bytes).toFixed(1)}`;
  });
  path += ` L ${x(columns).toFixed(1)} ${y(0).toFixed(1)} Z`;
  const marks: string[] = [];
  const markY = TOP + plotHeight + 8;
  for (const column of recompute)
    marks.push(
      `<rect class="recompute" x="${x(column).toFixed(1)}" y="${markY}" width="2" height="8" ` +
        `fill="#d62728"><title>recompute</title></rect>`,
    );
  for (const column of swapOut)
    marks.push(
      `<rect class="swap-out" x="${x(column).toFixed(1)}" y="${markY + 10}" width="2" height="8" ` +
        `fill="#1f77b4"><title>swap out</title></rect>`,
    );
  for (const column of swapIn)
    marks.push(
      `<rect class="swap-in" x="${x(column).toFixed(1)}" y="${markY + 10}" width="2" height="8" ` +
        `fill="#2ca02c"><title>swap in</title></rect>`,
    );
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => {
    const bytes = top * fraction;
    return (
      `<line x1="${LEFT - 4}" x2="${LEFT}" y1="${y(bytes).toFixed(1)}" y2="${y(bytes).toFixed(1)}" stroke="#555"/><text ` +
      `x="${LEFT - 6}" y="${(y(bytes) + 4).toFixed(1)}" text-anchor="end">${formatBytes(Math.round(bytes), 1)}</text>`
    );
  });
  const figures = replay.figures;
  const body = [
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + plotHeight}" stroke="#555"/>`,
    `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}" stroke="#555"/>`,
    ...ticks,
    `<path class="memory" d="${path}" fill="#9ecae1" stroke="#3182bd" stroke-width="1"/>`,
    `<line class="budget" x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${y(plan.budgetBytes).toFixed(1)}" ` +
      `y2="${y(plan.budgetBytes).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 4"/>`,
    `<text x="${LEFT + plotWidth - 4}" y="${(y(plan.budgetBytes) - 4).toFixed(1)}" text-anchor="end" fill="#d62728">budget ` +
      `${formatBytes(plan.budgetBytes, 1)}</text>`,
    ...marks,
    `<text x="${LEFT}" y="${HEIGHT - 8}">${steps} steps · peak ${formatBytes(figures.peakBytes, 1)} · makespan ${figures.makespan} ` +
      `(×${figures.overheadRatio.toFixed(3)}) · red: recompute, blue/green: swap out/in</text>`,
  ].join('\n');
  return frame(title, body);
}
