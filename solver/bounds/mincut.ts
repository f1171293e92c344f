// A minimum s-t cut (Dinic's maximum flow) on a small directed network, for the
// per-node closure problems of closure.ts. Capacities are non-negative numbers;
// Infinity marks an edge that no finite cut may cross. The arrays grow as needed and
// are kept across `reset()`: the closure bound solves thousands of these networks.

/** A flow network built edge by edge; node 0 is the source, node 1 the sink. */
export class FlowNetwork {
  static readonly SOURCE = 0;
  static readonly SINK = 1;
  private nodes = 2;
  private edges = 0;
  private head = new Int32Array(64).fill(-1);
  private next = new Int32Array(128);
  private to = new Int32Array(128);
  private capacity = new Float64Array(128);
  private residual = new Float64Array(128);
  private level = new Int32Array(64);
  private cursor = new Int32Array(64);
  private queue = new Int32Array(64);
  private stackNode = new Int32Array(64);
  private stackEdge = new Int32Array(64);
  private side = new Uint8Array(64);

  /** Empties the network (source and sink stay), keeping its buffers. */
  reset(): void {
    this.nodes = 2;
    this.edges = 0;
    this.head[0] = -1;
    this.head[1] = -1;
  }

  /** Adds a node and returns its index. */
  addNode(): number {
    if (this.nodes === this.head.length) {
      const grown = this.head.length * 2;
      this.head = grow(this.head, grown);
      this.level = new Int32Array(grown);
      this.cursor = new Int32Array(grown);
      this.queue = new Int32Array(grown);
      this.stackNode = new Int32Array(grown);
      this.stackEdge = new Int32Array(grown);
      this.side = new Uint8Array(grown);
    }
    this.head[this.nodes] = -1;
    return this.nodes++;
  }

  /** Number of nodes, source and sink included. */
  get size(): number {
    return this.nodes;
  }

  /** Adds an edge from `from` to `into` with `capacity` (and its residual twin); returns its index. */
  addEdge(from: number, into: number, capacity: number): number {
    if (!(capacity >= 0)) throw new Error(`FlowNetwork: capacity ${capacity} is not a non-negative number`);
    if (this.edges + 2 > this.to.length) {
      const grown = this.to.length * 2;
      this.next = grow(this.next, grown);
      this.to = grow(this.to, grown);
      this.capacity = grow(this.capacity, grown);
      this.residual = new Float64Array(grown);
    }
    const edge = this.edges;
    this.to[edge] = into;
    this.capacity[edge] = capacity;
    this.next[edge] = this.head[from];
    this.head[from] = edge;
    this.to[edge + 1] = from;
    this.capacity[edge + 1] = 0;
    this.next[edge + 1] = this.head[into];
    this.head[into] = edge + 1;
    this.edges += 2;
    return edge;
  }

  /**
   * The value of a minimum cut between the source and the sink (the maximum flow), which
   * nodes stay on the source side of it, and the maximum flow on each edge (by the index
   * addEdge returned). Infinity when every cut is infinite. The side and flows are valid
   * until the network changes.
   */
  minCut(): { value: number; sourceSide: Uint8Array; flow: (edge: number) => number } {
    const { head, next, to, level, cursor, queue, stackNode, stackEdge } = this;
    const size = this.nodes;
    const residual = this.residual;
    residual.set(this.capacity.subarray(0, this.edges));
    let total = 0;
    const buildLevels = (): boolean => {
      level.fill(-1, 0, size);
      level[FlowNetwork.SOURCE] = 0;
      let first = 0;
      let last = 0;
      queue[last++] = FlowNetwork.SOURCE;
      while (first < last) {
        const node = queue[first++];
        for (let edge = head[node]; edge >= 0; edge = next[edge]) {
          const into = to[edge];
          if (residual[edge] > 0 && level[into] < 0) {
            level[into] = level[node] + 1;
            queue[last++] = into;
          }
        }
      }
      return level[FlowNetwork.SINK] >= 0;
    };
    // Depth-first augmentation along the level graph, iterative to spare the call stack.
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
        while (edge >= 0 && !(residual[edge] > 0 && level[to[edge]] === level[node] + 1)) edge = next[edge];
        cursor[node] = edge;
        if (edge < 0) {
          // Dead end: retreat, and skip this node from now on in this phase.
          level[node] = -1;
          if (depth === 0) return 0;
          depth--;
          cursor[stackNode[depth]] = next[cursor[stackNode[depth]]];
          continue;
        }
        stackEdge[depth] = edge;
        stackNode[++depth] = to[edge];
      }
    };
    while (buildLevels()) {
      cursor.set(head.subarray(0, size));
      for (;;) {
        const pushed = augment();
        if (pushed === Infinity) return { value: Infinity, sourceSide: new Uint8Array(size), flow: () => Infinity };
        if (pushed === 0) break;
        total += pushed;
      }
    }
    // The source side: what the source still reaches in the residual network.
    const sourceSide = this.side;
    sourceSide.fill(0, 0, size);
    sourceSide[FlowNetwork.SOURCE] = 1;
    let first = 0;
    let last = 0;
    queue[last++] = FlowNetwork.SOURCE;
    while (first < last) {
      const node = queue[first++];
      for (let edge = head[node]; edge >= 0; edge = next[edge]) {
        const into = to[edge];
        if (residual[edge] > 0 && !sourceSide[into]) {
          sourceSide[into] = 1;
          queue[last++] = into;
        }
      }
    }
    return { value: total, sourceSide, flow: (edge) => residual[edge ^ 1] };
  }
}

/** A copy of `array` in a longer array of the same kind. */
function grow<T extends Int32Array | Float64Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(array);
  return grown;
}
