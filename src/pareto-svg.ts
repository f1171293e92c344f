// The Pareto picture of a sweep: makespan / baseCost against the budget (as a share of the
// no-remat peak), the proven bound as a band under the plans, the floor and the no-remat
// peak marked, Pareto points filled, budgets without a plan crossed, and the knee annotated.
import type { SweepPoint, SweepResult } from '../solver/sweep/schema.js';
import { formatBytes } from './format.js';

const WIDTH = 860;
const HEIGHT = 460;
const LEFT = 80;
const RIGHT = 30;
const TOP = 50;
const BOTTOM = 70;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char]!);
}

/** Attributes as XML text, values escaped. */
function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}="${escapeXml(String(value))}"`)
    .join(' ');
}

/** An element with escaped attributes, and its text (escaped) or a title (a tooltip) when given. */
function element(tag: string, values: Record<string, string | number>, text?: string, title?: string): string {
  const inner = `${title === undefined ? '' : `<title>${escapeXml(title)}</title>`}${text === undefined ? '' : escapeXml(text)}`;
  return inner ? `<${tag} ${attributes(values)}>${inner}</${tag}>` : `<${tag} ${attributes(values)}/>`;
}

/** About `count` round tick values between low and high. */
function ticks(low: number, high: number, count: number): number[] {
  if (!(high > low)) return [low];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const values: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) values.push(Number(value.toPrecision(12)));
  return values;
}

/** Renders a sweep's result as SVG; see the module comment. */
export function paretoSvg(result: SweepResult, title = 'memplan sweep'): string {
  const peak = result.noRematPeakBytes;
  const percentOf = (bytes: number) => (100 * bytes) / peak;
  const planned = result.points.filter((point) => point.predicted);
  const xs = [...result.points.map((point) => percentOf(point.budgetBytes)), percentOf(result.floorBytes), 100];
  const ratios = planned.flatMap((point) => [point.predicted!.overheadRatio, (point.bound?.makespan ?? result.baseCost) / result.baseCost]);
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = ratios.length ? [Math.min(1, ...ratios), Math.max(...ratios)] : [1, 1.1];
  const xPad = (xMax - xMin) * 0.04 || 1;
  xMin -= xPad;
  xMax += xPad;
  const yPad = (yMax - yMin) * 0.08 || 0.01;
  yMin -= yPad;
  yMax += yPad;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const px = (percent: number) => LEFT + ((percent - xMin) / (xMax - xMin)) * plotWidth;
  const py = (ratio: number) => TOP + plotHeight - ((ratio - yMin) / (yMax - yMin)) * plotHeight;
  const parts: string[] = [
    `<svg ${attributes({ xmlns: 'http://www.w3.org/2000/svg', width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}` })} ` +
      'font-family="sans-serif" font-size="12">',
    element('rect', { width: WIDTH, height: HEIGHT, fill: '#ffffff' }),
    element('text', { x: LEFT, y: 24, 'font-size': 15, 'font-weight': 'bold' }, title),
    element(
      'text',
      { x: LEFT, y: 40, fill: '#555' },
      `${result.strategy} · ${result.points.length} budgets · ${result.wallSeconds.toFixed(1)} s · ` +
        `makespan / baseCost (baseCost ${result.baseCost.toPrecision(6)})`,
    ),
    element('rect', { x: LEFT, y: TOP, width: plotWidth, height: plotHeight, fill: 'none', stroke: '#333' }),
  ];
  for (const tick of ticks(xMin, xMax, 8)) {
    const x = px(tick).toFixed(1);
    parts.push(element('line', { x1: x, x2: x, y1: TOP, y2: TOP + plotHeight, stroke: '#eee' }));
    parts.push(element('text', { x, y: TOP + plotHeight + 16, 'text-anchor': 'middle' }, `${tick} %`));
  }
  for (const tick of ticks(yMin, yMax, 6)) {
    const y = py(tick).toFixed(1);
    parts.push(element('line', { x1: LEFT, x2: LEFT + plotWidth, y1: y, y2: y, stroke: '#eee' }));
    parts.push(element('text', { x: LEFT - 6, y: (py(tick) + 4).toFixed(1), 'text-anchor': 'end' }, String(tick)));
  }
  const middle = TOP + plotHeight / 2;
  parts.push(
    element(
      'text',
      { x: LEFT + plotWidth / 2, y: HEIGHT - 30, 'text-anchor': 'middle' },
      `budget, % of the no-remat peak (${formatBytes(peak, 1)})`,
    ),
    element('text', { x: 18, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 18 ${middle})` }, 'makespan / baseCost'),
  );
  // The bound band: from the proven bound up to the plan at each budget.
  if (planned.length > 0) {
    const at = (point: SweepPoint, ratio: number) => `${px(percentOf(point.budgetBytes)).toFixed(1)},${py(ratio).toFixed(1)}`;
    const top = planned.map((point) => at(point, point.predicted!.overheadRatio));
    const bottom = planned.map((point) => at(point, (point.bound?.makespan ?? result.baseCost) / result.baseCost));
    const band = { class: 'bound-band', points: [...top, ...bottom.slice().reverse()].join(' '), fill: '#fdd49e', 'fill-opacity': 0.6 };
    parts.push(`<polygon ${attributes(band)}><title>between the plans and the proven bound</title></polygon>`);
    parts.push(
      element('polyline', { class: 'bound', points: bottom.join(' '), fill: 'none', stroke: '#e6550d', 'stroke-dasharray': '5 3' }),
    );
    parts.push(element('polyline', { class: 'makespan', points: top.join(' '), fill: 'none', stroke: '#3182bd', 'stroke-width': 2 }));
  }
  // The floor and the no-remat peak.
  for (const [name, label, bytes, color] of [
    ['floor', 'floor', result.floorBytes, '#756bb1'],
    ['no-remat', 'no-remat peak', peak, '#31a354'],
  ] as const) {
    const x = px(percentOf(bytes)).toFixed(1);
    parts.push(element('line', { class: name, x1: x, x2: x, y1: TOP, y2: TOP + plotHeight, stroke: color, 'stroke-dasharray': '2 3' }));
    parts.push(element('text', { x, y: TOP - 4, 'text-anchor': 'middle', fill: color }, `${label} ${formatBytes(bytes, 1)}`));
  }
  const pareto = new Set(result.pareto);
  result.points.forEach((point, index) => {
    const x = px(percentOf(point.budgetBytes));
    const describe = `${percentOf(point.budgetBytes).toFixed(1)} % (${formatBytes(point.budgetBytes, 1)}): ${point.status}`;
    if (!point.predicted) {
      const y = TOP + plotHeight - 8;
      const cross = { class: 'no-plan', d: `M ${(x - 4).toFixed(1)} ${y - 4} l 8 8 m 0 -8 l -8 8`, stroke: '#d62728', 'stroke-width': 1.5 };
      parts.push(element('path', cross, undefined, describe));
      return;
    }
    const y = py(point.predicted.overheadRatio);
    const gap = point.bound ? `, gap ${(100 * point.bound.gap).toFixed(2)} %` : '';
    const onFront = pareto.has(index);
    const dot = { class: onFront ? 'pareto' : 'point', cx: x.toFixed(1), cy: y.toFixed(1), r: 4, fill: onFront ? '#3182bd' : '#ffffff' };
    parts.push(
      element('circle', { ...dot, stroke: '#3182bd' }, undefined, `${describe}, ${point.predicted.overheadRatio.toFixed(4)}x${gap}`),
    );
  });
  if (result.knee !== undefined) {
    const knee = result.points[result.knee];
    const x = px(percentOf(knee.budgetBytes));
    const y = py(knee.predicted!.overheadRatio);
    const anchor = x > LEFT + plotWidth * 0.7 ? 'end' : 'start';
    const dx = anchor === 'end' ? -10 : 10;
    parts.push(
      element('circle', { class: 'knee', cx: x.toFixed(1), cy: y.toFixed(1), r: 8, fill: 'none', stroke: '#d62728', 'stroke-width': 2 }),
      element(
        'text',
        { x: (x + dx).toFixed(1), y: (y - 12).toFixed(1), 'text-anchor': anchor, fill: '#d62728' },
        `knee: ${percentOf(knee.budgetBytes).toFixed(1)} %, ${knee.predicted!.overheadRatio.toFixed(4)}x`,
      ),
    );
  }
  parts.push(
    element(
      'text',
      { x: LEFT, y: HEIGHT - 10, fill: '#555' },
      'filled: Pareto points; band: between the plans and the proven bound; x: no plan; knee: beyond it more memory buys less than ' +
        `${(10 * result.kneeSlope).toPrecision(2)} % of baseCost per 10 % of budget`,
    ),
    '</svg>',
  );
  return parts.join('\n');
}
