// A minimum s-t cut (Dinic's maximum flow) on a small directed network, for the
// per-node closure problems of closure.ts. Capacities are non-negative numbers;
// Infinity marks an edge that no finite cut may cross.

/** A flow network built edge by edge; node 0 is the source, node 1 the sink. */
export class FlowNetwork {
  static readonly SOURCE = 0;
  static readonly SINK = 1;
  private nodes = 2;
  private readonly head: number[] = [-1, -1];
  private readonly next: number[] = [];
  private readonly to: number[] = [];
  private readonly capacity: number[] = [];

  /** Adds a node and returns its index. */
  addNode(): number {
    this.head.push(-1);
    return this.nodes++;
  }

  /** Number of nodes, source and sink included. */
  get size(): number {
    return this.nodes;
  }

  /** Adds an edge from `from` to `into` with `capacity` (and its residual twin); returns its index. */
  addEdge(from: number, into: number, capacity: number): number {
    if (!(capacity >= 0)) throw new Error(`FlowNetwork: capacity ${capacity} is not a non-negative number`);
    this.to.push(into);
    this.capacity.push(capacity);
    this.next.push(this.head[from]);
    this.head[from] = this.to.length - 1;
    this.to.push(from);
    this.capacity.push(0);
    this.next.push(this.head[into]);
    this.head[into] = this.to.length - 1;
    return this.to.length - 2;
  }

  /**
   * The value of a minimum cut between the source and the sink (the maximum flow), which
   * nodes stay on the source side of it, and the maximum flow on each edge (by the index
   * addEdge returned). Infinity when every cut is infinite.
   */
  minCut(): { value: number; sourceSide: Uint8Array; flow: (edge: number) => number } {
    const size = this.nodes;
    const residual = Float64Array.from(this.capacity);
    const level = new Int32Array(size);
    const cursor = new Int32Array(size);
    const queue = new Int32Array(size);
    let total = 0;
    const buildLevels = (): boolean => {
      level.fill(-1);
      level[FlowNetwork.SOURCE] = 0;
      let first = 0;
      let last = 0;
      queue[last++] = FlowNetwork.SOURCE;
      while (first < last) {
        const node = queue[first++];
        for (let edge = this.head[node]; edge >= 0; edge = this.next[edge]) {
          const into = this.to[edge];
          if (residual[edge] > 0 && level[into] < 0) {
            level[into] = level[node] + 1;
            queue[last++] = into;
          }
        }
      }
      return level[FlowNetwork.SINK] >= 0;
    };
    // Depth-first augmentation along the level graph, iterative to spare the call stack.
    const stackNode = new Int32Array(size);
    const stackEdge = new Int32Array(size);
    const augment = (): number => {
      let depth = 0;
      stackNode[0] = FlowNetwork.SOURCE;
      for (;;) {
        const node = stackNode[depth];
        if (node === FlowNetwork.SINK) {
          let push = Infinity;
          for (let at = 0; at < depth; at++) push = Math.min(push, residual[stackEdge[at]]);
          if (push === Infinity) return Infinity;
          for (let at = 0; at < depth; at++) {
            residual[stackEdge[at]] -= push;
            residual[stackEdge[at] ^ 1] += push;
          }
          return push;
        }
        let edge = cursor[node];
        while (edge >= 0 && !(residual[edge] > 0 && level[this.to[edge]] === level[node] + 1)) edge = this.next[edge];
        cursor[node] = edge;
        if (edge < 0) {
          // Dead end: retreat, and skip this node from now on in this phase.
          level[node] = -1;
          if (depth === 0) return 0;
          depth--;
          cursor[stackNode[depth]] = this.next[cursor[stackNode[depth]]];
          continue;
        }
        stackEdge[depth] = edge;
        stackNode[++depth] = this.to[edge];
      }
    };
    while (buildLevels()) {
      for (let node = 0; node < size; node++) cursor[node] = this.head[node];
      for (;;) {
        const pushed = augment();
        if (pushed === Infinity) return { value: Infinity, sourceSide: new Uint8Array(size), flow: () => Infinity };
        if (pushed === 0) break;
        total += pushed;
      }
    }
    // The source side: what the source still reaches in the residual network.
    const sourceSide = new Uint8Array(size);
    sourceSide[FlowNetwork.SOURCE] = 1;
    let first = 0;
    let last = 0;
    queue[last++] = FlowNetwork.SOURCE;
    while (first < last) {
      const node = queue[first++];
      for (let edge = this.head[node]; edge >= 0; edge = this.next[edge]) {
        const into = this.to[edge];
        if (residual[edge] > 0 && !sourceSide[into]) {
          sourceSide[into] = 1;
          queue[last++] = into;
        }
      }
    }
    return { value: total, sourceSide, flow: (edge) => residual[edge ^ 1] };
  }
}
