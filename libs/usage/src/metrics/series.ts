import { Counter, type MetricValueWithName, type Registry } from 'prom-client';

/**
 * Counters and histograms for the metrics every request updates, cheap on the
 * request path: an update finds its series by a map lookup per label value and
 * adds to plain numbers. prom-client's own `inc` and `observe` validate the
 * labels, build a string of them and (histograms) a closure on every call: the
 * gateway's eight updates per request cost ~44k instructions that way, 6% of a
 * streamed request's (docs/performance.md, round 6). Label values must be
 * bounded (MetricLabels sees to it). The exposition stays prom-client's: the
 * counters are prom-client counters, brought up to date by their `collect` hook
 * whenever the registry reads them, and the histograms hand the registry the
 * values a prom-client histogram would (unit test: the same text).
 */

type Labels<L extends string> = Record<L, string>;

interface SeriesConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

/**
 * The series of one metric, found label value by label value in nested maps:
 * label values are mostly the same few strings, whose hashes V8 keeps, so no key
 * string is built per update.
 */
class SeriesIndex<L extends string, S> {
  private readonly root = new Map<string, unknown>();
  readonly all: S[] = [];

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: (labels: Labels<L>) => S,
  ) {}

  of(labels: Labels<L>): S {
    const last = this.labelNames.length - 1;
    let node = this.root;
    for (let i = 0; i < last; i++) {
      const value = labels[this.labelNames[i]];
      let next = node.get(value) as Map<string, unknown> | undefined;
      if (!next) node.set(value, (next = new Map()));
      node = next;
    }
    const value = last < 0 ? '' : labels[this.labelNames[last]];
    let series = node.get(value) as S | undefined;
    if (!series) {
      const copy = {} as Labels<L>;
      for (const name of this.labelNames) copy[name] = labels[name];
      node.set(value, (series = this.create(copy)));
      this.all.push(series);
    }
    return series;
  }

  clear(): void {
    this.root.clear();
    this.all.length = 0;
  }
}

/** A prom-client counter whose increments are summed per series and handed to it when the registry reads it. */
export class SeriesCounter<L extends string> {
  private readonly pending: SeriesIndex<L, { labels: Labels<L>; value: number }>;

  constructor(config: SeriesConfig<L>) {
    const pending = (this.pending = new SeriesIndex(config.labelNames, (labels) => ({ labels, value: 0 })));
    new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect(this: Counter<L>) {
        for (const series of pending.all) {
          if (series.value === 0) continue;
          this.inc(series.labels, series.value);
          series.value = 0;
        }
      },
    });
  }

  inc(labels: Labels<L>, value = 1): void {
    if (!(value > 0) || !Number.isFinite(value)) return;
    this.pending.of(labels).value += value;
  }
}

interface HistogramSeriesState<L extends string> {
  labels: Labels<L>;
  /** Observations per bucket (not cumulative), the last for +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with prom-client's exposition (`_bucket` with `le`, `_sum`, `_count`), registered in its registry. */
export class SeriesHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly series: SeriesIndex<L, HistogramSeriesState<L>>;
  private readonly buckets: readonly number[];

  constructor(config: SeriesConfig<L> & { buckets: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.buckets = [...config.buckets].sort((a, b) => a - b);
    const width = this.buckets.length + 1;
    this.series = new SeriesIndex(config.labelNames, (labels) => ({
      labels,
      counts: new Float64Array(width),
      sum: 0,
      count: 0,
    }));
    config.registry.registerMetric(this as never);
  }

  observe(labels: Labels<L>, value: number): void {
    if (!Number.isFinite(value)) return;
    const state = this.series.of(labels);
    let bucket = 0;
    while (bucket < this.buckets.length && value > this.buckets[bucket]) bucket++;
    state.counts[bucket]++;
    state.sum += value;
    state.count++;
  }

  /** The registry's view, as prom-client's Histogram gives it. */
  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: Array<MetricValueWithName<string>>;
    aggregator: 'sum';
  }> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const { labels, counts, sum, count } of this.series.all) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += counts[i];
        const le = i < this.buckets.length ? this.buckets[i] : '+Inf';
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    this.series.clear();
  }
}
