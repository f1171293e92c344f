// A solver-neutral mixed-integer linear model: named variables with bounds and
// integrality, rows lb <= expr <= ub, and a linear objective to minimize. Formulations
// (checkmate.ts, swap.ts) build one; lp-writer.ts prints it and a backend solves it.
// Storage is flat (typed-array friendly) because models reach millions of nonzeros.

/** Options of a new variable. */
export interface VariableOptions {
  /** Lower bound; default 0. */
  lb?: number;
  /** Upper bound; default +Infinity (1 for binaries). */
  ub?: number;
  /** Integer variable (binary when its bounds are 0 and 1). */
  integer?: boolean;
  /** Objective coefficient; default 0. */
  cost?: number;
}

/** One linear term: coefficient times the variable with that index. */
export type Term = readonly [variable: number, coefficient: number];

/** The model's arrays in compressed sparse row form, as a backend consumes them. */
export interface ModelArrays {
  numCols: number;
  numRows: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  /** 1 for an integer column, 0 for a continuous one. */
  integrality: Int32Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  /** CSR: row r's terms are at rowStart[r] .. rowStart[r + 1] - 1. */
  rowStart: Int32Array;
  colIndex: Int32Array;
  value: Float64Array;
  /** Constant added to the objective. */
  offset: number;
}

/** A minimization model built incrementally. */
export class Model {
  readonly varNames: string[] = [];
  readonly rowNames: string[] = [];
  private readonly lower: number[] = [];
  private readonly upper: number[] = [];
  private readonly isInteger: number[] = [];
  private readonly cost: number[] = [];
  private readonly rowLb: number[] = [];
  private readonly rowUb: number[] = [];
  private readonly starts: number[] = [0];
  private readonly columns: number[] = [];
  private readonly coefficients: number[] = [];
  /** Constant term of the objective. */
  offset = 0;

  /** Number of variables. */
  get variableCount(): number {
    return this.varNames.length;
  }

  /** Number of rows. */
  get rowCount(): number {
    return this.rowNames.length;
  }

  /** Number of nonzero coefficients. */
  get nonzeroCount(): number {
    return this.columns.length;
  }

  /** Adds a variable and returns its index. */
  addVariable(name: string, options: VariableOptions = {}): number {
    const integer = options.integer ?? false;
    const lb = options.lb ?? 0;
    const ub = options.ub ?? Infinity;
    if (!(lb <= ub)) throw new Error(`variable ${name}: lower bound ${lb} exceeds upper bound ${ub}`);
    this.varNames.push(name);
    this.lower.push(lb);
    this.upper.push(ub);
    this.isInteger.push(integer ? 1 : 0);
    this.cost.push(options.cost ?? 0);
    return this.varNames.length - 1;
  }

  /** Adds a binary (0/1 integer) variable. */
  addBinary(name: string, cost = 0): number {
    return this.addVariable(name, { lb: 0, ub: 1, integer: true, cost });
  }

  /** Adds a row lb <= sum(terms) <= ub (either side may be infinite); returns its index. Repeated variables are merged. */
  addRow(name: string, terms: readonly Term[], lb: number, ub: number): number {
    if (!(lb <= ub)) throw new Error(`row ${name}: lower bound ${lb} exceeds upper bound ${ub}`);
    const merged = new Map<number, number>();
    for (const [variable, coefficient] of terms) {
      if (!(variable >= 0 && variable < this.varNames.length)) throw new Error(`row ${name}: unknown variable ${variable}`);
      if (!Number.isFinite(coefficient)) throw new Error(`row ${name}: non-finite coefficient`);
      merged.set(variable, (merged.get(variable) ?? 0) + coefficient);
    }
    for (const [variable, coefficient] of merged) {
      if (coefficient === 0) continue;
      this.columns.push(variable);
      this.coefficients.push(coefficient);
    }
    this.starts.push(this.columns.length);
    this.rowNames.push(name);
    this.rowLb.push(lb);
    this.rowUb.push(ub);
    return this.rowNames.length - 1;
  }

  /** Sets (replaces) a variable's objective coefficient. */
  setCost(variable: number, cost: number): void {
    this.cost[variable] = cost;
  }

  /** Bounds and integrality of a variable. */
  variable(index: number): { name: string; lb: number; ub: number; integer: boolean; cost: number } {
    return {
      name: this.varNames[index],
      lb: this.lower[index],
      ub: this.upper[index],
      integer: this.isInteger[index] === 1,
      cost: this.cost[index],
    };
  }

  /** A row's bounds and terms. */
  row(index: number): { name: string; lb: number; ub: number; terms: Term[] } {
    const terms: Term[] = [];
    for (let at = this.starts[index]; at < this.starts[index + 1]; at++) terms.push([this.columns[at], this.coefficients[at]]);
    return { name: this.rowNames[index], lb: this.rowLb[index], ub: this.rowUb[index], terms };
  }

  /** True when some variable is integer. */
  get hasIntegers(): boolean {
    return this.isInteger.some((flag) => flag === 1);
  }

  /** Objective value of a full assignment (offset included). */
  objectiveOf(values: ArrayLike<number>): number {
    let total = this.offset;
    for (let variable = 0; variable < this.cost.length; variable++) total += this.cost[variable] * values[variable];
    return total;
  }

  /** The largest violation of any bound, row or integrality by an assignment (0 when feasible). */
  violation(values: ArrayLike<number>): number {
    let worst = 0;
    for (let variable = 0; variable < this.varNames.length; variable++) {
      const value = values[variable];
      worst = Math.max(worst, this.lower[variable] - value, value - this.upper[variable]);
      if (this.isInteger[variable]) worst = Math.max(worst, Math.abs(value - Math.round(value)));
    }
    for (let row = 0; row < this.rowNames.length; row++) {
      let activity = 0;
      for (let at = this.starts[row]; at < this.starts[row + 1]; at++) activity += this.coefficients[at] * values[this.columns[at]];
      worst = Math.max(worst, this.rowLb[row] - activity, activity - this.rowUb[row]);
    }
    return worst;
  }

  /** The model as flat arrays (copies). */
  toArrays(): ModelArrays {
    return {
      numCols: this.varNames.length,
      numRows: this.rowNames.length,
      colCost: Float64Array.from(this.cost),
      colLower: Float64Array.from(this.lower),
      colUpper: Float64Array.from(this.upper),
      integrality: Int32Array.from(this.isInteger),
      rowLower: Float64Array.from(this.rowLb),
      rowUpper: Float64Array.from(this.rowUb),
      rowStart: Int32Array.from(this.starts),
      colIndex: Int32Array.from(this.columns),
      value: Float64Array.from(this.coefficients),
      offset: this.offset,
    };
  }
}
