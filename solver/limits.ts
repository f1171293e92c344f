// Every size limit, numeric bound and service default, in one flat list. The graph and
// request schemas, the simulator's callers and the service read them from here; the
// README's settings section documents the ones an operator can change.
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

/** Default node limit of a graph (MEMPLAN_MAX_NODES on the service). */
export const DEFAULT_MAX_NODES = 20_000;

/** Longest node id, step node and op text, in characters. */
export const MAX_NODE_ID_LENGTH = 512;

/** Longest graph name, in characters. */
export const MAX_GRAPH_NAME_LENGTH = 1024;

/** Most inputs one node may list. */
export const MAX_NODE_INPUTS = 100_000;

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

/** Seconds beyond a job's own time limit before the watchdog stops it. */
export const DEFAULT_WATCHDOG_GRACE_SECONDS = 30;

/** How long shutdown lets running jobs finish, in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** Default codec threads (MEMPLAN_CODEC_WORKERS). */
export const DEFAULT_CODEC_WORKERS = 1;

/** A codec task (parse, validate, replay, draw) still running after this many ms is stopped. */
export const CODEC_TASK_TIMEOUT_MS = 60_000;

/** Columns of the memory SVG at most; a longer schedule is drawn with each column the max of its steps. */
export const SVG_MAX_COLUMNS = 1500;
