// Every size limit, tolerance, time share and default seed of the solver, each with the
// reason for its value. Keep this a flat list of named, documented constants (add new ones
// to the end of their section) so that branches adding limits merge easily. Tables of
// algorithm variants (the greedy's weightings, the rounding budgets, the transfer presets)
// stay beside the algorithm they parameterise.

// ---- Graph sizes ------------------------------------------------------------------------

/** Largest graph accepted by default, in nodes (the service's MEMPLAN_MAX_NODES overrides it). */
export const DEFAULT_MAX_NODES = 20_000;

/** Block detection (graph/blocks.ts): an input nearer than this many forward nodes is wired by its distance, a farther one (a table every layer reads, such as rotary embeddings) by its kind. */
export const BLOCK_MAX_DISTANCE = 64;

/** Block detection tries periods up to this many forward nodes (a layer is far smaller). */
export const BLOCK_MAX_PERIOD = 2000;

/** A run counts as repeated blocks when it holds at least this many. */
export const BLOCK_MIN_REPEATS = 3;

/** Beyond this many nodes the recomputation bound's quadratic ancestor sets are not built. */
export const BOUND_MAX_NODES = 6000;

/**
 * Beyond this many nodes the exact MILPs are not tried: auto's checkmate-milp phase and
 * swap-milp. Both models grow with the square of the size, and on Checkmate's chain
 * graphs the remat MILP rarely closes beyond ~100 nodes (../shared/DESIGN.md, "Solver facts").
 */
export const MILP_MAX_NODES = 200;

/**
 * Beyond this many nodes auto does not run Checkmate's LP relaxation either. Measured on this
 * machine (2026-12-03): above 200 nodes it never finished within 50 s (captured unet 222 and
 * resnet18 226 at 70 %, random_layered_n250 at 80 %, resnet50_b256 353 at 57 %: 347,064
 * variables, 668,048 rows, 43.7 s of a 60 s solve for nothing), while the local search that
 * its time then goes to found the better plan (resnet50_b256 at 57.2 %: 1.01146 -> 1.01114).
 */
export const LP_MAX_NODES = 200;

// ---- Model sizes (the 2 GiB WebAssembly heap) ---------------------------------------------

/**
 * checkmate-lp and checkmate-milp refuse a formulation estimated past this many nonzeros:
 * the model alone would take most of the 2 GiB WASM heap (the LP relaxation aborts near
 * 500 chain nodes). This is the hard limit, for a request that asked for these strategies.
 */
export const MAX_FORMULATION_NONZEROS = 5_000_000;

/**
 * auto builds the formulation only up to this many nonzeros, half the hard limit above:
 * it re-solves the LP at shrunk budgets and then builds the MILP (and maybe a reordered
 * one) within one time limit, and it has the baselines and the scale search to fall back on.
 */
export const AUTO_MAX_NONZEROS = 2_500_000;

/** auto does not even build a formulation estimated past AUTO_MAX_NONZEROS times this (the estimate is within 15 %). */
export const NONZERO_ESTIMATE_SLACK = 1.2;

/** A HiGHS worker whose WASM heap grew past this many bytes is replaced (the heap never shrinks). */
export const RETIRE_HEAP_BYTES = 1024 * 1024 * 1024;

/** HiGHS workers kept idle for the next solve (each holds a WASM instance). */
export const MAX_IDLE_HIGHS_WORKERS = 2;

/** Bytes are divided by a scale that puts the budget at most at this value in the models. */
export const MODEL_BYTE_RANGE = 1e5;

/** Costs are divided by a scale that puts the largest node cost at most at this value in the models. */
export const MODEL_COST_RANGE = 1e3;

/** Names in CPLEX-LP text are cut to this many characters. */
export const LP_NAME_MAX_CHARS = 200;

/** Lines of CPLEX-LP text are wrapped before they grow past this many characters. */
export const LP_LINE_MAX_CHARS = 200;

// ---- Sweep and search sizes ---------------------------------------------------------------

/** Checkpoint sweeps stop once this many candidates in a row were given up as thrashing. */
export const GIVE_UP_RUN = 3;

/** A checkpoint candidate is given up past this many steps per node (plus CANDIDATE_STEP_ALLOWANCE): about five computes per node. */
export const CHECKPOINT_STEPS_PER_NODE = 10;

/** A DTR replay is given up past this many steps per node (plus CANDIDATE_STEP_ALLOWANCE): it recomputes every node a dozen times over. */
export const DTR_STEPS_PER_NODE = 12;

/** Steps every candidate may take beyond its per-node allowance, so small graphs are never cut short. */
export const CANDIDATE_STEP_ALLOWANCE = 1024;

/** The greedy scheduler gives up past this many computes per node (plus GREEDY_COMPUTE_ALLOWANCE). */
export const GREEDY_COMPUTES_PER_NODE = 20;

/** lateGradientsOrder's size thresholds: powers of LATE_GRADIENT_STEP from this many bytes up (smaller gradients stay where they are). */
export const LATE_GRADIENT_MIN_BYTES = 16_384;

/** Ratio between consecutive lateGradientsOrder thresholds. */
export const LATE_GRADIENT_STEP = 4;

/** The eviction weightings (alpha) the scale search runs the greedy with on each lateGradientsOrder. */
export const LATE_GRADIENT_ALPHAS: readonly number[] = [1, 2];

/** At most this many lateGradientsOrder thresholds are tried per search (the largest). */
export const LATE_GRADIENT_THRESHOLDS = 5;

/** cutLateOrders' prices, as powers of 2 of the graph's bytes per unit of cost, cheapest first: 2^-14 to 2^2 in thirds. */
export const LATE_CUT_PRICE_STEPS: readonly number[] = Array.from({ length: 49 }, (_, step) => -14 + step / 3);

/** At most this many orders from cutLateOrders (distinct sets of late gradients). */
export const LATE_CUT_MAX_ORDERS = 24;

/**
 * A greedy plan on a lateGradientsOrder goes to the local search only when its cost is within
 * this factor of the best plan's so far: on decoders those plans cost twice as much and the
 * local search spends seconds on each for nothing.
 */
export const LATE_GRADIENT_IMPROVE_SLACK = 1.25;

/** The greedy scheduler's eviction score of a preferred node (the closure bound's recomputed set) is scaled by this. */
export const GREEDY_PREFER_FACTOR = 0.05;

/** Computes the greedy scheduler may take beyond its per-node allowance. */
export const GREEDY_COMPUTE_ALLOWANCE = 1000;

/** Perturbed memory-aware orders the scale search tries (within a tenth of its time). */
export const ORDER_RESTARTS = 40;

/** The scale search hands the event loop back at least this often, in milliseconds (stop requests, the bound worker's messages). */
export const SEARCH_YIELD_MS = 50;

/** The scale search's randomized restarts stop after this many in a row found nothing better. */
export const STALL_RESTARTS = 400;

/**
 * On graphs too large for auto's MILP, the scale search then climbs over the best plan's
 * order of first computations (moves as the smallest-peak climb's) until its deadline, or
 * until this many orders in a row gave no cheaper plan.
 */
export const COST_CLIMB_PATIENCE = 2000;

/**
 * The exchange descent (scale/exchange.ts): the values live at the first position over the
 * budget that its repair tries, the most bytes per unit of cost first. Each try profiles the
 * whole sequence, so fewer tries are more moves in the time: from auto's 60 s plan of
 * resnet50 at 30 % (1.78086), 96 reach 1.75969 in 14 s (the pass ends at 43 s), 24 reach
 * 1.75659 in 5 s (ends at 15 s), 12 reach 1.76042; mobilenet_v2 and gpt2-12 at 30 % reach
 * the same plans with 24 as with 96, in half the time.
 */
export const EXCHANGE_CANDIDATES = 24;

/**
 * Ruin and recreate (scale/ruin.ts): each move removes a window of the plan's recomputations,
 * between these shares of them, drawn uniformly. From auto's 60 s plan of resnet50 at 30 %,
 * the accepted windows held 11 to 64 of its 453 recomputations. Over 20 s from auto's plans
 * of seven captures, windows of at most 32 % did best on three, at most 16 % on two, at most
 * 10 % on one, and none helped gpt2-12.
 */
export const RUIN_MIN_SHARE = 0.02;
export const RUIN_MAX_SHARE = 0.32;

/** Seed of ruin and recreate's window draws. */
export const RUIN_SEED = 31;

/**
 * The least time a search that runs ruin and recreate first (ruinFirst) must have for the
 * move to get most of it (TIME_SHARES.searchRestartsBeforeRuin, searchRuinFirst), and for
 * auto's search while it waits for the closure bound to run it first at all. The move needs
 * seconds to find its windows: a sweep's short solves (resnet50's points below 46 % get 13 s
 * each, their final searches a few) planned 4 of those 5 points dearer when the move had
 * most of their time, and as before with this limit.
 */
export const RUIN_FIRST_MIN_SECONDS = 5;

/** The exchange descent's repair: how many levels of inputs a split lifetime brings along (moved up or computed again). */
export const EXCHANGE_INPUT_DEPTH = 4;

/** The exchange descent's repair: lifetimes split at most per move before it gives up. */
export const EXCHANGE_REPAIR_STEPS = 12;
/**
 * The repair descent (scale/descent.ts): the first step, as a share of the listed order's
 * no-remat peak, and the smallest step it halves down to after failed repairs before it
 * stops.
 */
export const REPAIR_DESCENT_FIRST_STEP = 0.02;
export const REPAIR_DESCENT_MIN_STEP = 0.0025;

/** The repair descent: levels of inputs a split lifetime brings along (a chain back to a kept value, in practice). */
export const REPAIR_DESCENT_INPUT_DEPTH = 64;

/**
 * The repair descent: lifetimes split at most in a repair of the first step's size before
 * it gives up (a smaller step: in proportion to the square root of its size, at least
 * REPAIR_DESCENT_MIN_SPLITS, so a stuck descent fails sooner). The repairs of 2 % steps down
 * to the floors of captured Inception-v3, ResNet-50, DenseNet-121 and a 12-layer decoder took
 * 78 splits at most (6-13 for half of them). In direct proportion, the descent stopped higher
 * (ResNet-50 at 30.7 % of its no-remat peak against 29.4 %).
 */
export const REPAIR_DESCENT_SPLITS = 100;
export const REPAIR_DESCENT_MIN_SPLITS = 12;
export const COST_CLIMB_SEED = 5;
/** The greedy's eviction weightings (alpha) each exclusion move tries (the scale search's descent, multistart.ts), and each of its runs in a hint's order. */
export const EXCLUSION_ALPHAS: readonly number[] = [1, 0.5, 2];
/** The shares of the budget the scale search's greedy aims at in each hint's order, each with the EXCLUSION_ALPHAS weightings, with and without the hint's recomputed values first. */
export const HINT_MARGINS: readonly number[] = [1, 0.97];

/** While none of them fits the budget, they stop after this many: auto's smallest-peak search, which follows, reaches lower peaks. */
export const STALL_RESTARTS_WITHOUT_PLAN = 50;

/**
 * Closure rows (solver/bounds/closure-milp.ts) added per separation round at most, the most
 * violated first; each is a copy of one node's minimum-cut problem, so a few keep the MILP
 * small, and the other violated nodes get flow cuts (one covering row each) instead.
 */
export const CLOSURE_ROWS_PER_ROUND = 4;

/** The closure MILP starts from this many cover rows, the neediest; the others join when violated. */
export const CLOSURE_FIRST_COVER_ROWS = 200;

/** Closure rows and flow cuts added per separation round at most. */
export const CLOSURE_CUTS_PER_ROUND = 200;

/** Input steps a closure row follows from the nodes needed after its node (deeper is tighter but larger; measured: 4 loses nothing on the captured graphs). */
export const CLOSURE_DEPTH = 4;

/**
 * The smallest-peak search (scale/smallest-peak.ts) aims this share of the way from the
 * best peak so far down to the floor first, halves the step after a miss, and leaves an
 * order once a step of SMALLEST_PEAK_LAST_STEP misses too.
 */
export const SMALLEST_PEAK_FIRST_STEP = 0.5;
export const SMALLEST_PEAK_LAST_STEP = 1 / 32;

/**
 * After walking its orders down, the smallest-peak search climbs over orders of first
 * computations: it moves 1 to SMALLEST_PEAK_CLIMB_MOVES nodes of the best order within their
 * topological windows and aims the greedy SMALLEST_PEAK_CLIMB_AIM of the way from the best
 * peak to the floor; an order that peaks no higher is kept. It stops at its deadline, at
 * the floor, or after SMALLEST_PEAK_CLIMB_PATIENCE orders without a lower peak. Measured on
 * the captured graphs (shares of the no-remat peak, walk -> climb, on a loaded machine):
 * resnet18 63.4 -> 58.9 % (its closure floor) in 3 s; resnet50 32.9 -> 30.2 % in 60 s;
 * mobilenet_v2 28.1 -> 27.0 % and gpt2-12 30.1 -> 29.8 % in 30 s.
 */
export const SMALLEST_PEAK_CLIMB_MOVES = 3;
export const SMALLEST_PEAK_CLIMB_AIM = 0.01;
export const SMALLEST_PEAK_CLIMB_PATIENCE = 400;
export const SMALLEST_PEAK_CLIMB_SEED = 3;

/** The share of the climb's moves that take a node at the peak (a value held there or the node computing there) rather than any node. */
export const SMALLEST_PEAK_CLIMB_HOT = 0.8;

/** The greedy's eviction weightings the climb tries, one per order, in turn. */
export const SMALLEST_PEAK_CLIMB_EVICTIONS = [
  { alpha: 1, costExponent: 1 },
  { alpha: 1, costExponent: 0 },
] as const;

/**
 * The last-computation floor (bounds/last-computation.ts) tries sets of wide nodes up to this
 * size; each set costs a cut per node. Its best sets had 4 to 7 nodes on lstm-2 and vit-s,
 * 235 and 266 on llama-32 and gpt2-32 (0.01 and 0.22 % of the peak above the contract's
 * floor); past 300 nodes, sets reached at most the first-computation floor (swin_t,
 * convnext_tiny) and the scan took 18 s on llama-32 (1.3 s with this limit).
 */
export const LAST_FLOOR_MAX_SET = 300;

/**
 * Of the proven floor's time (scale/bracket.ts): the last-computation floor's share, before
 * the first-computation floor takes the rest. On lstm-2 it needs 0.8 s alone and gives the
 * floor (the first-computation floor then skips every node that cannot beat it); a quarter of
 * auto's 3.3 s at 30 s was too little on a loaded machine, which reported a floor 4 bytes lower.
 */
export const LAST_FLOOR_TIME_SHARE = 0.5;

/** A greedy run of the smallest-peak search gives up past this many times the computes of the best sequence so far (plus GREEDY_COMPUTE_ALLOWANCE). */
export const SMALLEST_PEAK_COMPUTES_FACTOR = 2;

/** The greedy's eviction weightings the smallest-peak search tries at each aim: with the recomputation cost, and by bytes and distance alone. */
export const SMALLEST_PEAK_EVICTIONS = [
  { alpha: 1, costExponent: 1 },
  { alpha: 0.5, costExponent: 1 },
  { alpha: 1, costExponent: 0 },
] as const;

/** A recomputation converted into a swap (scale/swap-convert.ts) has its swapIn tried this many computes earlier, to hide the copy. */
export const SWAP_CONVERT_EARLIER = [1, 2, 4, 8, 16] as const;

/**
 * Checkmate's large-neighbourhood search (milp/checkmate-lns.ts): stages per window to
 * start with, and the bounds its adaptation keeps to (a window grows 1.5 times after a
 * proof within a third of its slice, and shrinks as much after a time-out).
 */
export const LNS_START_WINDOW = 8;
export const LNS_MIN_WINDOW = 2;
export const LNS_MAX_WINDOW = 96;

/** Seconds one window's MILP may take at most. */
export const LNS_SLICE_SECONDS = 3;

/** kusumoto-dp is exact over every lower set of the forward part while there are at most this many. */
export const KUSUMOTO_MAX_LOWER_SETS = 1024;

/** Beyond KUSUMOTO_MAX_LOWER_SETS, kusumoto-dp's one-node family holds at most this many lower sets (evenly spaced nodes). */
export const KUSUMOTO_MAX_FAMILY = 256;

/** kusumoto-dp's approximate programme keeps at most this many Pareto labels per lower set (evenly thinned). */
export const KUSUMOTO_MAX_LABELS = 64;

/** kusumoto-dp tries this many model budgets plus one, evenly spaced from the largest forward value to all forward bytes. */
export const KUSUMOTO_BUDGET_STEPS = 24;

/** Binomial coefficients of Griewank's revolve are capped here (they only need to exceed the chain length). */
export const BETA_CAP = 1e15;

// ---- Tolerances ---------------------------------------------------------------------------

/**
 * HiGHS works to relative tolerances of about this: a solver bound is lowered by it so it
 * stays a bound, and a proven bound within it of a plan's cost is that cost.
 */
export const SOLVER_RELATIVE_TOLERANCE = 1e-9;

/** A MILP bound is reported as progress only when it rises by more than this (absolute, in model units). */
export const BOUND_PROGRESS_STEP = 1e-9;

/** A warm start is passed to HiGHS only when no row of the model is violated by more than this. */
export const FEASIBILITY_TOLERANCE = 1e-6;

/** LP values within this of 0 or 1 count as integral when rounding collects its thresholds. */
export const INTEGRALITY_TOLERANCE = 1e-6;

/** An LP value this close below a rounding threshold still passes it (float rounding). */
export const THRESHOLD_SLACK = 1e-9;

/** The recomputation bound is lowered by this relative amount, so float rounding of its sums never lifts it above the optimum. */
export const RECOMPUTE_BOUND_SHAVE = 1e-9;

/** The covering MILP's dual bound is lowered by this relative amount (MIP tolerances are coarser than LP ones). */
export const COVERING_BOUND_SHAVE = 1e-6;

/** A plan whose proven gap is at most this is optimal (float rounding of equal figures). */
export const OPTIMAL_GAP = 1e-12;

/**
 * Where every makespan is an integer (bounds/integral.ts), a bound is rounded up to the next
 * integer after taking off this much of it, so float error never rounds a bound that is an
 * integer up past it. The MILP bounds are shaved against MIP tolerances already
 * (COVERING_BOUND_SHAVE); this is a margin on top. vgg_unet's closure bound at 71.4 % is
 * 31,916.032: its fraction, 0.032, is ten times this much of it, 0.0032.
 */
export const INTEGRAL_BOUND_SLACK = 1e-7;

/** LP values are rounded to multiples of 1 / ROUNDING_GRID before rounding collects its thresholds. */
export const ROUNDING_GRID = 1e6;

/** The scale search stops at a plan within this relative gap of the recomputation bound at most (whatever gap was asked for). */
export const MAX_SEARCH_STOP_GAP = 0.5;

/** The smallest overhead Capuchin divides by when it ranks evictions by bytes saved per unit of overhead. */
export const MIN_EVICTION_OVERHEAD = 1e-9;

// ---- Time ---------------------------------------------------------------------------------

/**
 * A separation round of the closure MILP stops within this relative gap of its objective
 * (the extra compute cost, so 0.5 % of it is well under 0.1 % of the makespan): a round
 * needs a good recomputed set and a dual bound, not a proof.
 */
export const CLOSURE_ROUND_GAP = 0.005;

/** A separation round's MILP gets at least this many seconds (or CLOSURE_ROUND_SHARE of the time left, when more). */
export const CLOSURE_ROUND_SECONDS = 2;

/** On a graph with decodable encodings: the share of the closure bound's time its priced relaxation gets first (bounds/relaxation.ts). */
export const PRICED_BOUND_SHARE = 0.5;

/** A separation round's MILP gets at most this share of the closure bound's time left (or CLOSURE_ROUND_SECONDS). */
export const CLOSURE_ROUND_SHARE = 0.25;

/**
 * A closure bound on its own thread whose last round left nothing to separate but stopped at
 * its time slice solves that model once more with all its time left, when at least this many
 * seconds are left (a captured ResNet-50 at 30 %: 1.31894 at 25 s of 48, then 1.33229). The
 * bound computed before the search on a small graph does not: that time is the search's.
 */
export const CLOSURE_RESOLVE_MIN_SECONDS = 1;

/**
 * Split nodes of the closure bound on its own thread (bounds/interval-closure.ts): once the
 * plain rows are met, recomputations count per interval between their first computations,
 * so a value recomputed twice costs twice. Two: a captured ResNet-50 at 30 % (48 s) gives
 * 1.33229 plain (re-solved), 1.3732 with two, 1.3232 with one, and with three no interval
 * round beats the plain rows' 1.31894 in time: their MILPs are too slow to close.
 */
export const CLOSURE_SPLITS = 2;

/**
 * auto's closure bound on its own thread goes on with intervals only when it has at least
 * this many seconds (auto at 60 s gives it 48): their rounds need tens of seconds after the
 * plain ones (resnet50 at 30 %: plain rows met at 25 s, 1.373 at 48 s), a sweep's points
 * have a few seconds each, and the plain bound and the time left matter more there.
 */
export const CLOSURE_SPLIT_MIN_SECONDS = 30;

/**
 * The closure bound on its own thread, once it is done with its splits spread along the
 * backward pass and has time left: split nodes at these fractions of the backward pass
 * (bounds/bound-task.ts). At 30 % (the bound alone, 25 s):
 * gpt2-12 1.19777 (spread) -> 1.20512, mobilenet_v2 1.13791 -> 1.14013; 0.92/0.96 gave
 * 1.20496 and 1.13791, 0.94/0.98 1.19945 and 1.13846. On resnet50 at 30 % and the UNet at
 * floor x 1.1 the spread splits give more (1.37320 against 1.32326, 1.18273 against 1.17461).
 */
export const CLOSURE_TAIL_SPLITS: readonly number[] = [0.93, 0.97];

/** The least time left for which the closure bound on its own thread tries CLOSURE_TAIL_SPLITS. */
export const CLOSURE_TAIL_MIN_SECONDS = 5;

/**
 * The closure bound tries CLOSURE_TAIL_SPLITS only where its bound with spread splits is at
 * least this share of baseCost above it (near the floor: mobilenet_v2 and gpt2-12 at 30 %,
 * 13.8 % and 19.8 %); at 50-70 % (resnet18 at 70 %: 2 %) auto would wait for it for nothing.
 */
export const CLOSURE_TAIL_MIN_EXTRA = 0.1;

/** The closure bound with intervals stops after this many rounds in a row that raised it by less than CLOSURE_INTERVAL_MIN_GAIN. */
export const CLOSURE_INTERVAL_STALL_ROUNDS = 2;

/** A raise of the closure bound with intervals smaller than this share of baseCost is a stall. */
export const CLOSURE_INTERVAL_MIN_GAIN = 1e-3;

/** Below this many seconds left, auto skips a solver phase. */
export const MIN_PHASE_SECONDS = 1;

/** The shortest slice a solver is given when a strategy's time is nearly spent. */
export const MIN_SOLVE_SECONDS = 0.5;

/** The shortest time limit passed to HiGHS for one LP solve. */
export const MIN_LP_SECONDS = 0.1;

/** The swap MILP gets at least this many seconds, even when the request's time is spent. */
export const MIN_SWAP_MILP_SECONDS = 1;

/** auto's bracket of an infeasible answer gets at least this many seconds for its floor, even when the time is spent. */
export const MIN_BRACKET_SECONDS = 0.5;

/** analyze's bracket of the smallest feasible budget (CLI and POST /v1/analyze) takes at most this many seconds. */
export const ANALYZE_BRACKET_SECONDS = 2;

/**
 * Past this many nodes the synchronous bracket (analyze) skips its smallest-peak search: its
 * greedy runs stop at the deadline, but the orders it starts from are built in full first,
 * each in time that grows with the size.
 */
export const BRACKET_SEARCH_MAX_NODES = 5000;

/** A local-search phase shorter than this is not started. */
export const MIN_LOCAL_SEARCH_SECONDS = 0.1;

/**
 * auto's final search (a plan's own solve, not a sweep's point) goes on past a round that
 * found nothing cheaper while the proven gap is above this, and until FINAL_SEARCH_PATIENCE
 * rounds in a row found nothing. Measured on a wav2vec2 capture at 70 % (2026-12-07): the
 * search stopped at 38 s of 60 with 1.1999 (gap 9.6 %); its fourth round, after one that
 * found nothing, planned 1.1184 (gap 3.0 %).
 */
export const FINAL_SEARCH_OPEN_GAP = 0.01;

/** See FINAL_SEARCH_OPEN_GAP. */
export const FINAL_SEARCH_PATIENCE = 2;

/** auto's last local search stops this many seconds before the margin, for building the plan. */
export const FINAL_LOCAL_SEARCH_RESERVE_SECONDS = 0.5;

/** Seconds the covering MILP of the recomputation bound may take at most (it needs well under one on the benchmarks). */
export const COVERING_SECONDS = 5;

/**
 * A node the LP relaxation recomputes at least this much (a fraction of one recomputation,
 * summed over stages) is in the LP's recomputed set, which guides auto's search after the
 * LP. On random_layered_n100 at 33,862 B the sets at 0.005-0.02 led a 3 s search to
 * 1.020-1.037, those at 0.25 to 1.022-1.050.
 */
export const LP_GUIDE_MIN_EXTRA = 0.01;

/** Seconds auto's search guided by the LP's recomputed set takes at most (its share: TIME_SHARES.lpGuidedSearch). */
export const LP_GUIDED_SEARCH_SECONDS = 5;

/**
 * Seconds of one round of auto's guided search beside a single MILP (strategies/auto.ts,
 * searchBesideMilp), each from other seeds: on random_layered_n100 rounds of 2 s found the
 * 1.02 plans, rounds of 1 s did not.
 */
export const BESIDE_MILP_ROUND_SECONDS = 3;

/** The least time left for which auto starts another round of the search beside the MILP. */
export const BESIDE_MILP_MIN_ROUND_SECONDS = 1;

/** A round of the search beside the MILP that ends within this share of its time has run out of moves. */
export const BESIDE_MILP_EARLY_SHARE = 0.5;

/** Rounds in a row that run out of moves without a cheaper plan after which the search beside the MILP ends. */
export const BESIDE_MILP_IDLE_ROUNDS = 2;

/** Search rounds apart that auto's searches start in a caller's later attempt at a budget (StrategyContext.attempt). */
export const ATTEMPT_ROUND_STRIDE = 1000;

/** Seconds local-search (and auto's scale search after the baselines) spends at most, whatever the time limit. */
export const LOCAL_SEARCH_SECONDS = 10;

/** Seconds greedy-remat spends at most (one greedy pass and its local search). */
export const GREEDY_REMAT_SECONDS = 1;

/** auto keeps at most this many seconds of its time limit for what runs outside the solvers' own clocks. */
export const AUTO_MARGIN_SECONDS = 2;

/**
 * Named shares of a strategy's time, each a fraction of what its comment says. auto's
 * phases read them through its Clock (solver/util/clock.ts).
 */
export const TIME_SHARES = {
  /** Of the time limit, less margin: what auto keeps back (at most AUTO_MARGIN_SECONDS). */
  margin: 0.05,
  /** Of the time limit: the covering MILP of the recomputation bound (at most COVERING_SECONDS). */
  covering: 0.1,
  /** Of the time limit: the closure bound on its own thread (its covering MILP, then separation rounds); it stops earlier once no row is violated. */
  closure: 0.8,
  /** Of the time limit: the closure bound on a small graph, computed before the search. */
  closureInline: 0.35,
  /** Of the time limit: the last-computation floor before the search, which proves that nothing fits when it exceeds the budget (0.4 s on a 4,000-node LSTM). */
  lastFloor: 0.05,
  /** Of the time limit: auto's smallest-peak search when no plan fits after the scale search (it stops at a plan that fits). */
  smallestPeak: 0.2,
  /** Of the time limit: the same when the graph is too large for the MILP (the phases after it seldom find a first plan there; its climb uses the time). */
  smallestPeakWithoutMilp: 0.7,
  /** Of the time left before auto's final local search: how long it waits for the closure bound, whose recomputed set guides that search. */
  waitForBound: 0.3,
  /** Of the time limit: with a host link, what the final local search leaves for turning recomputations into swaps. */
  swapConvert: 0.1,
  /** Of the time limit: auto's scale search after the baselines ends by then, when the MILP will run (at most LOCAL_SEARCH_SECONDS). */
  scaleSearch: 0.2,
  /** Of the time limit: the same, when the graph is too large for the MILP. */
  scaleSearchWithoutMilp: 0.5,
  /** Of the time left: Checkmate's LP relaxation and its rounding (the MILP follows: LP_MAX_NODES is MILP_MAX_NODES). */
  lp: 0.4,
  /** Of the time left after the LP: the scale search guided by the LP's recomputed set (at most LP_GUIDED_SEARCH_SECONDS), before the MILP. */
  lpGuidedSearch: 0.3,
  /** Of the time left: the exact MILP with a host link (the rest goes to swap-milp). */
  milpWithLink: 0.5,
  /** Of the time left: swap-milp's exact remat MILP, before the swap model. */
  swapMilpRemat: 0.5,
  /** Of the smallest-peak search's time left after its walk (scale/smallest-peak.ts): the repair descent, where there is no budget to meet. */
  smallestPeakDescent: 0.25,
  /** Of the smallest-peak search's time left at its start: the repair descent, before the walk, where there is a budget to meet (auto). */
  smallestPeakDescentFirst: 0.5,
  /** Of the scale search's time left after its greedy's fixed variants when none fits: the repair descent (scale/descent.ts), when asked for. */
  searchRepairDescent: 0.5,
  /** Of the scale search's time: its perturbed memory-aware orders. */
  searchOrders: 0.1,
  /** Of the scale search's time left after its fixed starts: the randomized restarts, when the exclusion descent follows them (it takes the rest). */
  searchRestarts: 0.5,
  /**
   * Of the scale search's time left after its fixed starts: the randomized restarts, when ruin
   * and recreate follows them at once (ruinFirst). From a plan that earlier searches descended,
   * restarts seldom find a cheaper one and ruin and recreate often does (searchRuinFirst).
   */
  searchRestartsBeforeRuin: 0.1,
  /** Of the scale search's time left: the exclusion descent without a cheaper plan at most (a cheaper plan gives it this share of what is left again; it ends sooner when no exclusion helps). */
  searchDescent: 0.5,
  /** Of the scale search's time left after the exclusion descent: the exchange descent (exchange.ts), before the climb (which takes the rest, then hands what it leaves to another exchange descent). */
  searchExchange: 0.5,
  /** Of the scale search's time left after the first exchange descent: ruin and recreate (scale/ruin.ts) without a cheaper plan at most, before the climb (a cheaper plan gives it this share of what is left again). */
  searchRuin: 0.5,
  /**
   * Of the scale search's time left after its restarts: ruin and recreate without a cheaper
   * plan at most, when it comes before the descents (ruinFirst; a cheaper plan gives it this
   * share of what is left again). On a captured GoogLeNet at floor x 1.1, a window that turns
   * the plan from 1.55 to 1.42 x baseCost turned up after 0.3-6.8 s of moves in 6 of 11
   * seeds, and not in 15-20 s in the others; on ResNet-50 at 30 %, 60 s of the move from
   * auto's first plan (1.7626) kept finding cheaper ones to the end (1.6635).
   */
  searchRuinFirst: 0.7,
  /** Of the time limit: auto's phase for node options, on graphs that have them (at most LOCAL_SEARCH_SECONDS). */
  options: 0.2,
  /** Of auto's smallest-peak phase on a graph with node options: the search on the graph lowered to its encodings first. */
  smallestPeakLowered: 0.7,
  /**
   * Of auto's smallest-peak phase: the proven floor first, for the bracket of an infeasible
   * answer (on lstm-2 it takes 1.7 s of the phase's 44 s, its last-computation part 0.4 s;
   * the bracket at the end has what is left, often under a second, and reported the
   * contract's floor, 56.8 % of the no-remat peak against 66.6 %).
   */
  smallestPeakFloor: 0.15,
  /**
   * Of auto's smallest-peak phase, after the floor: the last-arrival floor again, for its
   * schedule, where it proved the floor and had no time for that (random_layered_n100 needs
   * about 4 s in all; at 60 s the phase has 12 s).
   */
  smallestPeakArrival: 0.4,
} as const;

/**
 * Up to this many nodes auto computes the closure bound on its own thread before the search
 * (a second or two: starting a worker thread would cost as much); beyond, on a worker
 * thread beside the search (solver/bounds/parallel.ts).
 */
export const CLOSURE_INLINE_MAX_NODES = 200;

/**
 * On a graph of at most CLOSURE_INLINE_MAX_NODES nodes, when the MILP starts, auto runs the
 * closure bound again on its own thread with intervals (bounds/interval-closure.ts), once per
 * set of split nodes here (at fractions of the backward pass), each with a share of the time
 * left; the strongest counts. The MILP's bounds hold for Checkmate's class only, and near the
 * floor the plain rows count once what plans recompute twice. Alone, against the plain bound
 * (s: the time each took): Checkmate's vgg_unet at 40 % 1.10740 -> 1.12467 (5.2 s) and
 * 1.11506 (1.5 s), at 45 % 1.08386 -> 1.09279 (3.5 s) and 1.09115 (1.7 s), at 50 % 1.06370
 * -> 1.06967 (1.9 s) and 1.06370, at 55 % 1.05306 -> 1.05552 (2.1 s) and 1.05306; segnet at
 * 42 % 1.42168 -> 1.43677 (1.9 s) and 1.44828 (1.4 s), auto's plan there. Two spread splits
 * gave less on each, eight spread splits and four at 0.6-0.97 were slower (vgg_unet at 40 %:
 * 1.11209 in 20 s, 1.12519 in 12.6 s).
 */
export const CLOSURE_SMALL_SPLITS: readonly (readonly number[])[] = [
  [0.8, 0.9, 0.97],
  [0.93, 0.97],
];

/**
 * The least time left at the MILP for which auto starts the bound of CLOSURE_SMALL_SPLITS
 * beside both MILPs (a third thread on two cores). Started before the search instead, it
 * slowed the search beside the LP's thread: auto at 5 s on vgg_unet gave 1.10869 at 45 % and
 * 1.08837 at 50 %, against 1.0945 and 1.0697 without it.
 */
export const CLOSURE_SMALL_SPLIT_MIN_SECONDS = 10;

/**
 * With less than CLOSURE_SMALL_SPLIT_MIN_SECONDS but at least this many left at the MILP, on a
 * training graph, the bound of CLOSURE_SMALL_SPLITS runs in place of the full MILP, beside
 * the forward-only one (two threads, as before).
 */
export const CLOSURE_SMALL_SPLIT_SHORT_SECONDS = 1;

/**
 * Seconds auto gives the closure bound with swaps (a host link) above CLOSURE_INLINE_MAX_NODES,
 * before its search: it runs there, beside the remat bound's thread (llama-32 at 30 % with
 * pcie4: 10.7 s for baseCost uncapped, gpt2-32 1.7 s, resnet50 0.2 s); when stopped it gives
 * its best dual bound, or none.
 */
export const SWAP_BOUND_INLINE_MAX_SECONDS = 2;

/** Seconds after a stop request after which the bound worker (solver/bounds/parallel.ts) is terminated. */
export const BOUND_WORKER_GRACE_SECONDS = 2;
/** Bound worker threads kept idle for the next closure bound (each holds its loader, its modules and an idle HiGHS thread). */
export const MAX_IDLE_BOUND_WORKERS = 1;

/** Seconds past its time limit after which a HiGHS worker is stopped (loading, presolve). */
export const HIGHS_GRACE_SECONDS = 2;

/** Seconds after a stop request after which a HiGHS worker that has not answered is terminated. */
export const HIGHS_STOP_GRACE_SECONDS = 0.8;

/**
 * Seconds a HiGHS worker whose caller cancelled may take to answer before it is terminated.
 * The caller does not wait for it (it returns the best incumbent streamed so far at once),
 * but HiGHS polls its interrupt callback only from the MIP search on: the root node of a
 * larger model (presolve, the root LP, cuts) can take seconds without a poll. A worker that
 * answers within this grace keeps its WASM instance for the next solve instead of being
 * replaced (about a CPU-second to start a new one).
 */
export const HIGHS_CANCEL_GRACE_SECONDS = 15;

/** The shortest time limit a HiGHS worker passes to the solver. */
export const MIN_HIGHS_SECONDS = 0.05;

/** HiGHS's own default of mip_pscost_minreliable: branchings seen before a pseudo-cost is trusted (strong branching until then). */
export const HIGHS_PSEUDOCOST_RELIABLE = 8;

/**
 * mip_pscost_minreliable of a solve kept for its bound (auto's full MILP beside the
 * forward-only one): less strong branching, more nodes. vgg_unet at 50 %, 60 s: proven in
 * 44-47 s in three runs, never with HiGHS's default; the same within noise at 41.6-80 % elsewhere.
 */
export const BOUND_SOLVE_PSEUDOCOST_RELIABLE = 2;

/** A HiGHS worker reports a better MILP bound at most this often, in seconds. */
export const BOUND_EVERY_SECONDS = 0.25;

// ---- Seeds --------------------------------------------------------------------------------

/** Seed of the scale search's perturbed memory-aware orders. */
export const ORDER_SEED = 777;

/** Seed of the scale search's randomized restarts. */
export const RESTART_SEED = 12345;

/**
 * A later round of the scale search (auto's final search, again while a round finds a
 * cheaper plan) draws its restarts and climb moves from seeds this far apart per round:
 * with the same best plan, round 0's seeds would repeat the moves an earlier round tried.
 */
export const SEARCH_ROUND_SEED_STRIDE = 7919;

/** Default seed of the greedy scheduler's eviction noise. */
export const GREEDY_SEED = 1;

// ---- Numbers a client sends and service defaults --------------------------------------------
// The graph and request schemas, the simulator's callers and the service read them from
// here; the README's settings section documents the ones an operator can change.
//
// Numbers a client sends (../shared/DESIGN.md, "Numbers"). With them every figure the
// simulator replays stays finite: the largest peak is about nodes x 2^51 bytes and the
// largest makespan about steps x 1e21 cost units, far below Number.MAX_VALUE. Only a
// ratio over a vanishing baseCost can still overflow, which the finite check catches.

/** Largest bytes and workspaceBytes of one node: 2^50 bytes (1 PiB). */
export const MAX_NODE_BYTES = 2 ** 50;

/** Largest residentBytes of a graph: 2^53 bytes. */
export const MAX_RESIDENT_BYTES = 2 ** 53;

/**
 * Largest cost of one node (any unit, one for all nodes). DESIGN.md says 1e12, but a public
 * benchmark graph (Checkmate's fcn_8_vgg_b32, costs as operation counts) has a node of cost
 * 1.62e12; the cap is the sum's, which alone keeps every figure finite.
 */
export const MAX_NODE_COST = 1e15;

/** Largest sum of the costs of a graph's nodes (each once). */
export const MAX_TOTAL_COST = 1e15;

/** Smallest host-link bandwidth, bytes per cost unit. */
export const MIN_BANDWIDTH = 1e-6;

/** Largest host-link bandwidth, bytes per cost unit. */
export const MAX_BANDWIDTH = 1e12;

/** Largest host-link latency, cost units per copy. */
export const MAX_LATENCY = 1e12;

/** Largest budget in bytes a request may name: 2^53 (a safe integer bound). */
export const MAX_BUDGET_BYTES = 2 ** 53;

/** Largest budget fraction of the no-remat peak. */
export const MAX_BUDGET_FRACTION = 100;

// Sizes of a request.

/* DEFAULT_MAX_NODES: see "Graph sizes" above. */

/** Longest node id, step node and op text, in characters. */
export const MAX_NODE_ID_LENGTH = 512;

/** Longest graph name, in characters. */
export const MAX_GRAPH_NAME_LENGTH = 1024;

/** Most inputs one node may list. */
export const MAX_NODE_INPUTS = 100_000;

/** Most alternatives (other implementations) one node may offer. */
export const MAX_NODE_ALTERNATIVES = 32;

/** Most encodings (compact forms of its output) one node may offer. */
export const MAX_NODE_ENCODINGS = 16;

/** Longest schedule a plan may carry (strategies and stored plans). */
export const MAX_SCHEDULE_STEPS = 10_000_000;

/** Longest schedule POST /v1/simulate replays. */
export const MAX_SIMULATE_STEPS = 1_000_000;

/** Most timeline rows one /v1/simulate reply carries (a page: timelineFrom, timelineLimit). */
export const MAX_TIMELINE_ROWS = 20_000;

/** Longest job or plan id in a URL, in characters (the router and the schema agree on it). */
export const MAX_ID_LENGTH = 128;

/** Longest strategy name. */
export const MAX_STRATEGY_NAME_LENGTH = 64;

/** Largest timeLimitSeconds the contract schema admits; a server may cap it lower. */
export const MAX_TIME_LIMIT_SECONDS = 3600;

/** Default timeLimitSeconds of a plan request. */
export const DEFAULT_TIME_LIMIT_SECONDS = 60;

// Service defaults (each has an environment variable, see the README's settings).

/** Default request body limit: 32 MiB (MEMPLAN_BODY_LIMIT). */
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Default cap on a request's timeLimitSeconds on the service (MEMPLAN_MAX_TIME_LIMIT). */
export const DEFAULT_SERVICE_MAX_TIME_LIMIT_SECONDS = 600;

/** Default jobs that may wait for a worker (MEMPLAN_MAX_QUEUE). */
export const DEFAULT_MAX_QUEUE = 64;

/** Default queued plus running jobs one API key may have at once (MEMPLAN_MAX_JOBS_PER_KEY). */
export const DEFAULT_MAX_JOBS_PER_KEY = 16;

/** Default time to receive a whole request, headers and body, in ms (MEMPLAN_REQUEST_TIMEOUT_MS). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Default time to receive the headers of a request, in ms (MEMPLAN_HEADERS_TIMEOUT_MS). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/**
 * Default idle time after which a socket is closed, in ms (MEMPLAN_CONNECTION_TIMEOUT_MS).
 * Above the longest `wait` of POST /v1/plans (60 s) so a waiting client is not cut off.
 */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 120_000;

/** Default keep-alive time between requests on one connection, in ms (MEMPLAN_KEEP_ALIVE_TIMEOUT_MS). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Default number of open connections the server accepts (MEMPLAN_MAX_CONNECTIONS). */
export const DEFAULT_MAX_CONNECTIONS = 1024;

/** How often the server checks requests against their timeouts, in ms. */
export const DEFAULT_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Default age after which finished jobs and their plans are deleted, in hours (MEMPLAN_RETENTION_HOURS; 0 keeps them). */
export const DEFAULT_RETENTION_HOURS = 24 * 30;

/** How often the retention sweep runs, in ms. */
export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** Longest wait of POST /v1/plans, in seconds. */
export const MAX_PLAN_WAIT_SECONDS = 60;

/** Most jobs one GET /v1/jobs lists. */
export const MAX_JOB_LIST = 500;

/** Plan text above this many characters is checked on a codec thread, not the event loop. */
export const INLINE_CHECK_MAX_CHARS = 256 * 1024;

/** Most ids an error message lists (a cycle's nodes); the rest are counted. */
export const MAX_ERROR_LIST_ITEMS = 20;

/** Longest id an error message's list shows in full; longer ones are cut. */
export const MAX_ERROR_ID_CHARS = 64;

// The service's internal timings and sizes.

/** Seconds a client is asked to wait (Retry-After) after a 429 or 503. */
export const RETRY_AFTER_SECONDS = 5;

/** How often a Server-Sent Events stream sends a comment to keep the connection alive, in ms. */
export const SSE_HEARTBEAT_MS = 15_000;

/** Events a live job keeps for late subscribers; past it the last one is overwritten. */
export const MAX_JOB_EVENTS = 500;

/** Seconds beyond a job's own time limit before the watchdog stops it (plan() itself stops at the limit). */
export const DEFAULT_WATCHDOG_GRACE_SECONDS = 30;

/**
 * Milliseconds a job asked to stop (cancel, watchdog) may take to answer before its thread
 * is terminated and replaced. Solvers stop within about 250 ms (the stop flag is read in
 * every long loop and by HiGHS's interrupt callbacks); the rest is headroom on a loaded machine.
 */
export const DEFAULT_CANCEL_GRACE_MS = 2000;

/** Milliseconds a cancel request waits beyond the grace for the job to end before it answers. */
export const CANCEL_REPLY_SLACK_MS = 500;

// Scaled out (MEMPLAN_REDIS_URL): BullMQ on Redis, `memplan worker` processes.

/** Times a job is started before it is given up (MEMPLAN_JOB_ATTEMPTS): a worker failing or handing it back uses one. */
export const DEFAULT_JOB_ATTEMPTS = 3;

/** Milliseconds before a job handed back or failed by its worker is retried, doubled at each attempt. */
export const JOB_RETRY_BACKOFF_MS = 1000;

/**
 * Milliseconds a worker's lock on its job lasts unless renewed (every half of it, by the
 * worker process's event loop, which solves never block). A job whose worker died is
 * found by the stalled-job check of another worker within this plus STALLED_CHECK_MS and
 * started again there.
 */
export const JOB_LOCK_MS = 10_000;

/** Milliseconds between a worker's checks for stalled jobs (those whose worker died). */
export const STALLED_CHECK_MS = 5_000;

/** Times a job may stall (its worker die) and be taken over before it fails. */
export const MAX_STALLED_COUNT = 2;

/** Milliseconds an API process waits for Redis before it answers 503 MEMPLAN_ERR_QUEUE_UNAVAILABLE. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/** Milliseconds between two writes of a running job's progress to the store (every improvement goes to Redis at once). */
export const PROGRESS_WRITE_INTERVAL_MS = 1_000;

/** Milliseconds between an API process's reads of a job it waits for or streams, besides Redis's events. */
export const JOB_POLL_MS = 1_000;

/** Milliseconds between a worker process's heartbeats; /health counts workers whose heartbeat is fresher than 5 of them. */
export const WORKER_HEARTBEAT_MS = 2_000;

/** Default milliseconds a `memplan worker` given SIGTERM lets its running jobs finish before it hands them back. */
export const DEFAULT_WORKER_SHUTDOWN_GRACE_MS = 60_000;

/** Seconds a job's events and cancel mark stay in Redis after they were written. */
export const JOB_REDIS_TTL_SECONDS = 24 * 3600;

/** How long shutdown lets running jobs finish, in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** Default codec threads (MEMPLAN_CODEC_WORKERS). */
export const DEFAULT_CODEC_WORKERS = 1;

/** A codec task (parse, validate, replay, draw) still running after this many ms is stopped. */
export const CODEC_TASK_TIMEOUT_MS = 60_000;

/** Columns of the memory SVG at most; a longer schedule is drawn with each column the max of its steps. */
export const SVG_MAX_COLUMNS = 1500;

// ---- Sweeps (a budget axis in one job) ------------------------------------------------------

/** Most budgets one sweep may ask for (a list or {from, to, points}). */
export const MAX_SWEEP_POINTS = 100;

/** Points of a {from, to} sweep that does not say how many. */
export const DEFAULT_SWEEP_POINTS = 10;

/** Plans of smaller budgets a sweep offers to the strategy at the next budget (the fastest first). */
export const SWEEP_MAX_SEEDS = 8;

/** Plans of larger budgets a sweep offers to the strategy at a budget as hints (the smallest peaks above it first). */
export const SWEEP_MAX_HINTS = 3;

/**
 * The default knee of a sweep: the first Pareto point after which more memory buys less than
 * this much time per unit of budget, both relative (time as a fraction of baseCost, budget as a
 * fraction of the no-remat peak): 0.1 is 1 % of time per 10 % of budget.
 */
export const DEFAULT_KNEE_SLOPE = 0.1;

/** Largest overhead cap (makespan / baseCost - 1) an inverse question may name: 100 is 10 000 %. */
export const MAX_OVERHEAD_CAP = 100;

/**
 * The inverse searches (the smallest budget within an overhead cap, the smallest feasible
 * budget) stop once their bracket is this narrow, as a fraction of the no-remat peak: the
 * answer B comes with a statement about B minus this much.
 */
export const INVERSE_RESOLUTION = 0.01;

/** Of a sweep's time limit: what its inverse questions get when it also has points (shared between them). */
export const INVERSE_TIME_SHARE = 0.4;

/** Of a sweep's time limit: kept back for finishing its plans (at most SWEEP_MARGIN_SECONDS). */
export const SWEEP_MARGIN_SHARE = 0.04;

/** A sweep keeps at most this many seconds of its time limit back for finishing its plans. */
export const SWEEP_MARGIN_SECONDS = 5;

/** The shortest time limit a sweep gives one evaluation, even when its time is spent: the baselines still run. */
export const MIN_SWEEP_EVALUATION_SECONDS = 0.2;

/** A sweep spends its time left on its open points only when each would get at least this many seconds. */
export const MIN_REFINE_SECONDS = 1;

/** An open point is solved again only with at least this many times the time limit it had (less is the same run again). */
export const REFINE_GROWTH = 1.5;

/**
 * When the time left, shared out, gives no open point REFINE_GROWTH times its time, all of it
 * goes to the point with the largest gap if that is at least this many times what it had: a
 * re-solve starts from the point's plan, and its MILP phases get their shares of a longer
 * limit (segnet's sweep at 41.6 %: 33 s found 1.4586, then 44 s more 1.4580).
 */
export const REFINE_LAST_GROWTH = 1.2;

/**
 * Rounds of solving open points again with the time left over, per budget of the sweep (a
 * round moves the frontier of feasibility down one budget at most).
 */
export const MAX_REFINE_ROUNDS = 3;

/** Of a sweep's time for its points: the first pass over them, in decreasing budget; the rest goes to the open points again. */
export const FIRST_PASS_SHARE = 0.6;

/**
 * When the open points are solved again, the frontier (the largest budget without a plan,
 * below every budget with one) gets this many shares.
 */
export const FRONTIER_WEIGHT = 3;

/**
 * The last-arrival floor (bounds/arrival.ts) first searches from this many nodes (those that
 * need the most at their own computation), taking at most ARRIVAL_FLOOR_FIRST_STATES sets
 * from its queue for each; only where that raised the floor does it search from every node,
 * with ARRIVAL_FLOOR_MAX_STATES sets each, before it settles for the bottleneck reached. On
 * random_layered_n100 that gives 54.1 % of the no-remat peak (43.2 % before) and, with the
 * schedule, 3.8 s in all; captured training graphs, where it never rose, take 20 s and more
 * for the 500 sets of every node.
 */
export const ARRIVAL_FLOOR_FIRST_STARTS = 32;
/**
 * Past this many nodes the last-arrival floor stops after its first round (unless asked for
 * its schedule): on random_layered_n1000 the search from every node and the schedule took
 * all of the 23 s auto's smallest-peak phase gave them at 60 s, built no schedule, and the
 * search after them reached 63.1 % of the no-remat peak instead of 55.7 %.
 */
export const ARRIVAL_FLOOR_FULL_MAX_NODES = 250;
export const ARRIVAL_FLOOR_FIRST_STATES = 500;
export const ARRIVAL_FLOOR_MAX_STATES = 20_000;
