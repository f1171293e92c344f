// A binary min-heap for the solver's searches: Kahn's order of the importer (ranks) and the
// last-arrival floor's Dijkstra (moves by bottleneck).

/** A binary min-heap of items, ordered by the key `keyOf` gives each. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly keyOf: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const { items, keyOf } = this;
    const key = keyOf(item);
    let at = items.length;
    items.push(item);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keyOf(items[parent]) <= key) break;
      items[at] = items[parent];
      at = parent;
    }
    items[at] = item;
  }

  /** The item of least key, removed; the heap must not be empty. */
  pop(): T {
    const { items, keyOf } = this;
    if (items.length === 0) throw new Error('MinHeap.pop: the heap is empty');
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      const key = keyOf(last);
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && keyOf(items[right]) < keyOf(items[left]) ? right : left;
        if (keyOf(items[child]) >= key) break;
        items[at] = items[child];
        at = child;
      }
      items[at] = last;
    }
    return top;
  }
}
