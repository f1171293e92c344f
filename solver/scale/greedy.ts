// A budget-driven remat scheduler for any DAG that uses what an offline planner knows and
// DTR cannot: when each value is needed next. Nodes are first computed in execution order;
// a missing input is recomputed on demand (recursively); before a compute that would not
// fit, the resident value with the smallest
//   rematerialization cost / (bytes x (steps until its next need) ^ alpha)
// is evicted (Belady's farthest-next-use rule, weighted by what bringing it back costs).
// A value's next need is the first computation of a direct user still to come, or the next
// need of an evicted user that reads it (so inputs of evicted values stay until the value
// is recomputed, or are evicted in turn and counted in its cost). Values nothing needs any
// more are freed at once. The result is a compute sequence; sequence.ts gives its frees
// and exact peak.
import type { IndexedGraph } from '../graph/validate.js';
import { GREEDY_COMPUTE_ALLOWANCE, GREEDY_COMPUTES_PER_NODE, GREEDY_PREFER_FACTOR, GREEDY_SEED } from '../limits.js';
import { seededRandom } from '../util/random.js';

/** Options of the greedy scheduler. */
export interface GreedyOptions {
  /** Exponent of the distance to the next need in the eviction score (1 = plain Belady weighting). */
  alpha?: number;
  /**
   * Exponent of the recomputation cost in the eviction score (default 1). 0 ranks by bytes
   * and distance alone: the smallest-peak search, which does not mind what a plan costs.
   */
  costExponent?: number;
  /**
   * Nodes to evict first (their scores are scaled by GREEDY_PREFER_FACTOR): the recomputed
   * set of the closure bound's solution, which says what an optimal plan may recompute.
   */
  prefer?: ReadonlySet<number>;
  /** Nodes to evict last (their scores are divided by GREEDY_PREFER_FACTOR): a recomputation the search tries to do without. */
  avoid?: ReadonlySet<number>;
  /** Give up once the sequence grows past this many computes. */
  maxComputes?: number;
  /** Multiplies each eviction score by exp(noise x a standard normal draw): randomized restarts. */
  noise?: number;
  /** Seed of the noise. */
  seed?: number;
  /** The order of first computations (a topological order); default the graph's order. */
  order?: readonly number[];
  /** Give up (return null) once it aborts: the solve was stopped. */
  signal?: AbortSignal;
  /**
   * Give up (return null) after this Date.now(): one run grows with the square of the size,
   * and on a 4,000-node LSTM near its floor a single run took 11 s of a search given 6.
   */
  deadline?: number;
}

/** A greedy run: the compute sequence, and whether every compute fit the budget. */
export interface GreedyResult {
  sequence: number[];
  fits: boolean;
}

const NEVER = Number.POSITIVE_INFINITY;

/** Schedules the graph under `available` device bytes (residentBytes excluded); null when it gave up or was stopped. */
export function greedySequence(graph: IndexedGraph, available: number, options: GreedyOptions = {}): GreedyResult | null {
  const size = graph.size;
  const alpha = options.alpha ?? 1;
  const costExponent = options.costExponent ?? 1;
  const maxComputes = options.maxComputes ?? GREEDY_COMPUTES_PER_NODE * size + GREEDY_COMPUTE_ALLOWANCE;
  const deadline = options.deadline ?? Infinity;
  const stopped = () => options.signal?.aborted === true || Date.now() > deadline;
  // The resident values that may be evicted, in no order, with each one's slot: the eviction
  // scan looks at these only, not at every node (it took three quarters of a search's time
  // on a 650-node capture, most of it on values not on the device), nor at the resident
  // values it may never evict (kept gradients, values that cannot be recomputed: 87-97 % of
  // those it looked at in restarts on captured ResNet-50, GPT-2 and Inception-v3). A
  // resident value it may not evict has the slot UNLISTED; -1 means not resident.
  const evictable = new Uint8Array(size);
  for (let node = 0; node < size; node++) evictable[node] = !graph.keep[node] && graph.recomputable[node] && graph.bytes[node] > 0 ? 1 : 0;
  const UNLISTED = size;
  const residentList = new Int32Array(size);
  const residentSlot = new Int32Array(size).fill(-1);
  let residentCount = 0;
  const computed = new Uint8Array(size);
  const pinned = new Int32Array(size);
  const onStack = new Uint8Array(size);
  const need = new Float64Array(size);
  const sequence: number[] = [];
  const order = options.order ?? Array.from({ length: size }, (_, node) => node);
  const rank = new Int32Array(size);
  order.forEach((node, position) => {
    rank[node] = position;
  });
  let live = 0;
  let fits = true;
  let frontier = 0;
  const noise = options.noise ?? 0;
  const random = seededRandom(options.seed ?? GREEDY_SEED);
  // A fixed random factor per node and restart keeps the rule consistent within one run.
  const jitter = new Float64Array(size).fill(1);
  if (noise > 0) {
    for (let node = 0; node < size; node++) {
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      jitter[node] = Math.exp(noise * normal);
    }
  }

  // Values that may have become free to drop since the last sweep (computed, unpinned, or
  // their need changed): the sweep looks at these only. Each is listed once at most; a
  // sweep reads one buffer while touches fill the other.
  let dirty = new Int32Array(size);
  let spare = new Int32Array(size);
  let dirtyCount = 0;
  const isDirty = new Uint8Array(size);
  const touch = (node: number) => {
    if (isDirty[node]) return;
    isDirty[node] = 1;
    dirty[dirtyCount++] = node;
  };

  // Next need of a value (as a rank in `order`): the earliest of what its users say.
  const needOf = (node: number): number => {
    let when = onStack[node] ? frontier : NEVER;
    for (const user of graph.users[node]) {
      // A user being brought in now reads it now; one still to be first computed, at its
      // own position; an evicted user that is needed later, when it is recomputed.
      let at = NEVER;
      if (onStack[user]) at = frontier;
      else if (!computed[user]) at = rank[user];
      else if (residentSlot[user] < 0) at = need[user];
      if (at < when) when = at;
    }
    if (graph.keep[node] && size < when) when = size;
    return when;
  };
  // Every need, in reverse order (users come later): once at the start.
  for (let position = size - 1; position >= 0; position--) {
    need[order[position]] = needOf(order[position]);
    touch(order[position]);
  }
  // A value's state changed (computed, evicted, put on or taken off the stack): its own
  // need and its inputs' may change, and a changed need changes its inputs' in turn. In a
  // DAG this worklist ends at the same needs as a full pass in reverse order.
  const changed: number[] = [];
  const stateChanged = (start: number) => {
    changed.length = 0;
    changed.push(start);
    for (const input of graph.inputs[start]) changed.push(input);
    while (changed.length) {
      const node = changed.pop()!;
      const when = needOf(node);
      if (when === need[node]) continue;
      need[node] = when;
      touch(node);
      for (const input of graph.inputs[node]) changed.push(input);
    }
  };
  const release = (node: number) => {
    const at = residentSlot[node];
    if (at !== UNLISTED) {
      const last = residentList[--residentCount];
      residentList[at] = last;
      residentSlot[last] = at;
    }
    residentSlot[node] = -1;
    live -= graph.bytes[node];
    stateChanged(node);
  };
  // Whether each value is on the device or can be brought back (recomputable or not computed
  // yet, with every input on the device or recoverable in turn). Evicting a value only when
  // its inputs are recoverable keeps every value recoverable as it was, and so does freeing
  // a value that is recoverable itself; a computation only adds to what is on the device.
  // So a "yes" holds until a free of a value that cannot be brought back (a new
  // `generation`). A "no" holds for good: it comes down to a value that was computed, cannot
  // be recomputed and is gone, which a legal sequence never computes again, so neither is
  // any node whose recovery needs it. Each value is worked out when an eviction first asks
  // (inputs first). The recomputation cost below looks at most 64 missing inputs deep and
  // cannot tell alone.
  const recoverable = new Uint8Array(size);
  const recoverableGeneration = new Int32Array(size).fill(-1);
  let generation = 0;
  const known = (node: number) =>
    recoverableGeneration[node] === generation || (recoverableGeneration[node] >= 0 && recoverable[node] === 0);
  const pending: number[] = [];
  const isRecoverable = (root: number): boolean => {
    if (residentSlot[root] >= 0) return true;
    if (known(root)) return recoverable[root] === 1;
    pending.length = 0;
    pending.push(root);
    while (pending.length) {
      const node = pending[pending.length - 1];
      if (known(node)) {
        pending.pop();
        continue;
      }
      let waiting = false;
      for (const input of graph.inputs[node]) {
        if (residentSlot[input] < 0 && !known(input)) {
          pending.push(input);
          waiting = true;
        }
      }
      if (waiting) continue;
      // A value not computed yet may always be computed a first time.
      let ok = !computed[node] || graph.recomputable[node];
      for (const input of graph.inputs[node]) if (residentSlot[input] < 0 && !recoverable[input]) ok = false;
      recoverable[node] = ok ? 1 : 0;
      recoverableGeneration[node] = generation;
      pending.pop();
    }
    return recoverable[root] === 1;
  };
  const mayEvict = (node: number): boolean => {
    for (const input of graph.inputs[node]) if (!isRecoverable(input)) return false;
    return true;
  };
  // Whether a resident value could be brought back once freed (asked before the free).
  const recoverableOnceFreed = (node: number): boolean => graph.recomputable[node] && mayEvict(node);
  // Frees resident values nothing needs any more, in index order. Freeing a value changes
  // the needs of its inputs only, which come before it, so one pass frees exactly the values
  // free to drop when it starts: those touched since the last pass (what it frees touches
  // others, for the next pass).
  const sweep = () => {
    if (dirtyCount === 0) return;
    const candidates = dirty.subarray(0, dirtyCount).sort();
    [dirty, spare] = [spare, dirty];
    dirtyCount = 0;
    for (const node of candidates) isDirty[node] = 0;
    for (const node of candidates) {
      if (residentSlot[node] >= 0 && !pinned[node] && need[node] === NEVER) {
        const keepsVerdicts = recoverableOnceFreed(node);
        release(node);
        if (!keepsVerdicts) generation++;
      }
    }
  };
  // Cost of bringing a value back: its own cost plus that of its missing inputs, recursively.
  const remat = new Float64Array(size);
  const rematStamp = new Int32Array(size);
  let stamp = 0;
  const seenStamp = new Int32Array(size);
  let seenNow = 0;
  const dfs: number[] = [];
  const rematCost = (root: number): number => {
    if (rematStamp[root] === stamp) return remat[root];
    let total = graph.cost[root];
    let visited = 0;
    seenNow++;
    seenStamp[root] = seenNow;
    dfs.length = 0;
    dfs.push(root);
    while (dfs.length && visited < 64) {
      const node = dfs.pop()!;
      visited++;
      for (const input of graph.inputs[node]) {
        if (residentSlot[input] >= 0 || seenStamp[input] === seenNow) continue;
        // A value that is gone and cannot be recomputed makes its users unrecoverable.
        if (!graph.recomputable[input]) {
          total = NEVER;
          dfs.length = 0;
          break;
        }
        seenStamp[input] = seenNow;
        total += graph.cost[input];
        dfs.push(input);
      }
    }
    rematStamp[root] = stamp;
    remat[root] = total;
    return total;
  };
  // The eviction scan looks at every resident value it may evict, for each eviction (most
  // of a run's time): the factors that do not change during a run are worked out once
  // (prefer wins for a node also in avoid), and the distance weighting once per distance
  // (a distance is a whole number of steps).
  const preferred = new Float64Array(size).fill(1);
  for (const node of options.avoid ?? []) preferred[node] = 1 / GREEDY_PREFER_FACTOR;
  for (const node of options.prefer ?? []) preferred[node] = GREEDY_PREFER_FACTOR;
  const distanceWeight = new Float64Array(size + 2);
  for (let distance = 1; distance <= size + 1; distance++) distanceWeight[distance] = distance ** alpha;
  const weightOf = (distance: number) =>
    (distance | 0) === distance && distance >= 1 && distance <= size + 1 ? distanceWeight[distance] : distance ** alpha;
  const evictOne = (): boolean => {
    let victim = -1;
    let best = NEVER;
    for (let at = 0; at < residentCount; at++) {
      const node = residentList[at];
      if (pinned[node]) continue;
      const distance = need[node] - frontier + 1;
      const cost = rematCost(node);
      if (cost === NEVER) continue;
      const score =
        (preferred[node] * jitter[node] * (costExponent === 1 ? cost : cost ** costExponent)) / (graph.bytes[node] * weightOf(distance));
      // The smallest score, the lowest index on a tie: the choice does not depend on the
      // list's order. Whether its inputs stay recoverable is asked only of a value that would
      // win: the costliest check, and its answer does not change the others' scores.
      if (!(score < best || (score === best && node < victim)) || !mayEvict(node)) continue;
      best = score;
      victim = node;
    }
    if (victim < 0) return false;
    release(victim);
    return true;
  };
  const computeNow = (node: number) => {
    const needBytes = graph.bytes[node] + graph.workspace[node];
    // Recompute-cost estimates are cached through one eviction round (an approximation:
    // each eviction in the round changes the resident set a little).
    stamp++;
    while (live + needBytes > available) {
      if (!evictOne()) {
        fits = false;
        break;
      }
    }
    sequence.push(node);
    if (residentSlot[node] < 0) {
      residentSlot[node] = evictable[node] ? residentCount : UNLISTED;
      if (evictable[node]) residentList[residentCount++] = node;
    }
    computed[node] = 1;
    touch(node);
    live += graph.bytes[node];
    stateChanged(node);
  };
  // Brings `root` onto the device, recomputing missing inputs first (explicit stack). Each
  // frame pins each of its inputs once, from the moment the input is resident, so nothing
  // it reads can be evicted while a sibling input is being recomputed.
  let ticks = 0;
  const materialize = (root: number): boolean => {
    // `held[k]`: the frame pins its k-th input.
    const stack: { node: number; at: number; held: Uint8Array }[] = [];
    const open = (node: number) => {
      onStack[node] = 1;
      stateChanged(node);
      const inputs = graph.inputs[node];
      const held = new Uint8Array(inputs.length);
      for (let index = 0; index < inputs.length; index++) {
        if (residentSlot[inputs[index]] >= 0) {
          pinned[inputs[index]]++;
          held[index] = 1;
        }
      }
      stack.push({ node, at: 0, held });
    };
    open(root);
    while (stack.length) {
      // One node may recompute a long chain, each compute evicting: check the stop here too.
      if (sequence.length > maxComputes || ((++ticks & 15) === 0 && stopped())) return false;
      const frame = stack[stack.length - 1];
      const inputs = graph.inputs[frame.node];
      if (frame.at < inputs.length) {
        const input = inputs[frame.at];
        if (frame.held[frame.at]) {
          frame.at++;
        } else if (residentSlot[input] >= 0) {
          pinned[input]++;
          frame.held[frame.at] = 1;
          frame.at++;
        } else {
          open(input);
        }
        continue;
      }
      stack.pop();
      computeNow(frame.node);
      for (let index = 0; index < inputs.length; index++) if (frame.held[index] && --pinned[inputs[index]] === 0) touch(inputs[index]);
      onStack[frame.node] = 0;
      stateChanged(frame.node);
      const parent = stack[stack.length - 1];
      // The parent opened this node as its input at `parent.at`, which it holds from now on.
      if (parent) {
        pinned[frame.node]++;
        parent.held[parent.at] = 1;
      }
      sweep();
    }
    return true;
  };

  for (frontier = 0; frontier < size; frontier++) {
    // Each step costs O(size): checking the stop at every one is cheap.
    if (stopped()) return null;
    // Only values on the stack are needed "now": with the stack empty, no need moves with the frontier.
    if (!materialize(order[frontier])) return null;
    sweep();
  }
  return { sequence, fits };
}
