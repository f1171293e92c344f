// Every strategy by name: plan(), the CLI, the service and the conformance suite all see
// this one list.
import { auto } from './auto.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { cdma } from './cdma.js';
import { checkmateLp } from './checkmate-lp.js';
import { checkmateMilp } from './checkmate-milp.js';
import { gist } from './gist.js';
import { kusumotoDp } from './kusumoto.js';
import { greedyRemat, localSearch } from './local-search.js';
import { swapMilp } from './swap-milp.js';
import { vdnnAll, vdnnConv } from './vdnn.js';
import type { Strategy } from './types.js';

/** Every strategy, baselines first. */
export const STRATEGIES: readonly Strategy[] = [
  ...BASELINES,
  gist,
  kusumotoDp,
  vdnnAll,
  vdnnConv,
  capuchin,
  cdma,
  greedyRemat,
  localSearch,
  checkmateLp,
  checkmateMilp,
  swapMilp,
  auto,
];

const byName = new Map<string, Strategy>(STRATEGIES.map((strategy) => [strategy.name, strategy]));

/** Looks a strategy up by name. */
export function getStrategy(name: string): Strategy | undefined {
  return byName.get(name);
}

/** The names of every strategy. */
export function strategyNames(): string[] {
  return STRATEGIES.map((strategy) => strategy.name);
}
