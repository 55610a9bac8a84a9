// A minimal metrics registry (counters, gauges, histograms with labels) rendered in the Prometheus text format 0.0.4. No I/O.

type Labels = Readonly<Record<string, string>>;

/** Seconds: the MCP conventions' advice for every mcp.* duration (0.01 … 300), kept whole so series aggregate with other instrumentations. */
const MCP_ADVICE = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] as const;
/** The advice with finer steps below 10 ms (a proxy hop is sub-millisecond). */
export const DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, ...MCP_ADVICE] as const;
/** The advice, then on to a day: session lifetimes run from seconds to hours. */
export const SESSION_BUCKETS_SECONDS = [...MCP_ADVICE, 900, 1800, 3600, 7200, 14400, 28800, 86400] as const;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly buckets: readonly number[];
  readonly series: Map<string, { labels: Labels; value: number; counts: number[]; sum: number }>;
  /** Read at render time (gauges over live state). */
  readonly collect: (() => readonly (readonly [Labels, number])[]) | undefined;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** Holds every metric family; `render()` writes them in registration order. */
export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string): Counter {
    const family = this.add(name, help, "counter", [], undefined);
    return { inc: (labels = {}, by = 1) => (series(family, labels).value += by) };
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const family = this.add(name, help, "histogram", buckets, undefined);
    return {
      observe: (labels, value) => {
        const s = series(family, labels);
        s.sum += value;
        s.value += 1;
        // Counts per bucket are kept disjoint; render() makes them cumulative.
        const index = buckets.findIndex((bound) => value <= bound);
        if (index !== -1) s.counts[index] = (s.counts[index] as number) + 1;
      },
    };
  }

  /** A gauge (or counter, with `type`) whose samples are read from live state when rendered. */
  collected(
    name: string,
    help: string,
    type: "gauge" | "counter",
    collect: () => readonly (readonly [Labels, number])[],
  ): void {
    this.add(name, help, type, [], collect);
  }

  /** The Prometheus text exposition: HELP and TYPE lines, then samples; histograms with cumulative buckets. */
  render(): string {
    const out: string[] = [];
    for (const family of this.families) {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
      if (family.collect !== undefined) {
        for (const [labels, value] of family.collect())
          out.push(`${family.name}${renderLabels(labels)} ${formatNumber(value)}`);
        continue;
      }
      for (const s of family.series.values()) {
        if (family.type !== "histogram") {
          out.push(`${family.name}${renderLabels(s.labels)} ${formatNumber(s.value)}`);
          continue;
        }
        let cumulative = 0;
        family.buckets.forEach((bound, i) => {
          cumulative += s.counts[i] as number;
          out.push(`${family.name}_bucket${renderLabels({ ...s.labels, le: formatNumber(bound) })} ${cumulative}`);
        });
        out.push(`${family.name}_bucket${renderLabels({ ...s.labels, le: "+Inf" })} ${s.value}`);
        out.push(`${family.name}_sum${renderLabels(s.labels)} ${formatNumber(s.sum)}`);
        out.push(`${family.name}_count${renderLabels(s.labels)} ${s.value}`);
      }
    }
    return `${out.join("\n")}\n`;
  }

  private add(
    name: string,
    help: string,
    type: Family["type"],
    buckets: readonly number[],
    collect: Family["collect"],
  ): Family {
    const family: Family = { name, help, type, buckets, series: new Map(), collect };
    this.families.push(family);
    return family;
  }
}

function series(family: Family, labels: Labels) {
  // Keyed by names and values joined with NUL (cheap on the hot path); escaping happens only in render().
  let key = "";
  for (const name in labels) key += `${name}\u0000${labels[name]}\u0000`;
  let s = family.series.get(key);
  if (s === undefined) {
    s = { labels, value: 0, counts: family.buckets.map(() => 0), sum: 0 };
    family.series.set(key, s);
  }
  return s;
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
