import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './series';

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5];
const OBSERVED: Array<[{ route: string; provider: string }, number]> = [
  [{ route: 'chat', provider: 'openai' }, 0],
  [{ route: 'chat', provider: 'openai' }, 0.05],
  [{ route: 'chat', provider: 'openai' }, 0.07],
  [{ route: 'chat', provider: 'openai' }, 2.5],
  [{ route: 'chat', provider: 'openai' }, 90],
  [{ route: 'embeddings', provider: 'other' }, 0.3],
  [{ provider: 'openai', route: 'chat' }, 1],
];

describe('SeriesHistogram', () => {
  it('is exposed exactly as a prom-client histogram given the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const histogram = new SeriesHistogram({
      name: 'h_seconds',
      help: 'A histogram',
      labelNames: ['route', 'provider'],
      buckets: BUCKETS,
      registry: ours,
    });
    const reference = new Histogram({
      name: 'h_seconds',
      help: 'A histogram',
      labelNames: ['route', 'provider'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [labels, value] of OBSERVED) {
      histogram.observe(labels, value);
      reference.observe(labels, value);
    }

    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.05",route="chat",provider="openai"} 2');
    expect(text).toContain('h_seconds_bucket{le="+Inf",route="chat",provider="openai"} 6');
    expect(text).toContain('h_seconds_sum{route="embeddings",provider="other"} 0.3');
    // The same values as JSON too (prom-client adds an empty exemplar to each).
    const withoutExemplars = (json: unknown) =>
      JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
    expect(await ours.getMetricsAsJSON()).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('ignores a value that is not a finite number, and forgets everything on reset', async () => {
    const registry = new Registry();
    const histogram = new SeriesHistogram({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1], registry });
    histogram.observe({ a: 'x' }, Number.NaN);
    histogram.observe({ a: 'x' }, Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).not.toContain('h_count');
    histogram.observe({ a: 'x' }, 0.5);
    expect(await registry.metrics()).toContain('h_count{a="x"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('h_count');
  });
});

describe('SeriesCounter', () => {
  it('reads as a prom-client counter given the same increments, at every read', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counter = new SeriesCounter({
      name: 'c_total',
      help: 'A counter',
      labelNames: ['provider', 'type'],
      registry: ours,
    });
    const reference = new Counter({
      name: 'c_total',
      help: 'A counter',
      labelNames: ['provider', 'type'],
      registers: [theirs],
    });
    const increments: Array<[{ provider: string; type: string }, number]> = [
      [{ provider: 'openai', type: 'prompt' }, 12],
      [{ provider: 'openai', type: 'completion' }, 7],
      [{ type: 'prompt', provider: 'openai' }, 3],
      [{ provider: 'anthropic', type: 'prompt' }, 0.5],
    ];
    for (const [labels, value] of increments) {
      counter.inc(labels, value);
      reference.inc(labels, value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('c_total{provider="openai",type="prompt"} 15');

    // Increments after a read are added to what was read, not lost or counted twice.
    counter.inc({ provider: 'openai', type: 'prompt' });
    reference.inc({ provider: 'openai', type: 'prompt' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('c_total{provider="openai",type="prompt"} 16');
  });

  it('ignores increments that are not positive finite numbers', async () => {
    const registry = new Registry();
    const counter = new SeriesCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registry });
    counter.inc({ a: 'x' }, 0);
    counter.inc({ a: 'x' }, -1);
    counter.inc({ a: 'x' }, Number.NaN);
    expect(await registry.metrics()).not.toMatch(/c_total\{/);
    counter.inc({ a: 'x' }, 2);
    expect(await registry.metrics()).toContain('c_total{a="x"} 2');
  });
});
