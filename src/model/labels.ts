/** Label set of a series. Keys are label names; `vm`, `resource_group`, `source`, `tenant` are the standard ones. */
export type Labels = Readonly<Record<string, string>>;

/** A series is identified by its metric name plus its labels. */
export interface SeriesId {
  readonly metric: string;
  readonly labels: Labels;
}

/** Canonical text key of a series: `metric{a="1",b="2"}` with labels sorted by name, values escaped. */
export function seriesKey(metric: string, labels: Labels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return metric;
  const parts = names.map((n) => `${n}="${escapeLabelValue(labels[n]!)}"`);
  return `${metric}{${parts.join(',')}}`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabelValue(v: string): string {
  // Hot path (every ingested sample of a new labels object): most values need no escaping.
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label matcher as in Prometheus: regex matchers are fully anchored. A missing label matches as "". */
export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** Selects series: an optional metric name and label matchers, all of which must hold. */
export interface SeriesSelector {
  readonly metric?: string;
  readonly matchers?: readonly LabelMatcher[];
}

/** Compiles matchers once so hot paths do not rebuild regexes. */
export function compileMatchers(matchers: readonly LabelMatcher[] = []): (labels: Labels) => boolean {
  const tests = matchers.map((m) => {
    if (m.op === '=' || m.op === '!=') {
      const want = m.op === '=';
      return (l: Labels) => ((l[m.name] ?? '') === m.value) === want;
    }
    const re = new RegExp(`^(?:${m.value})$`);
    const want = m.op === '=~';
    return (l: Labels) => re.test(l[m.name] ?? '') === want;
  });
  return (labels) => tests.every((t) => t(labels));
}

/** Parses `name=value`, `name!=value`, `name=~re`, `name!~re` (as typed on a command line). */
export function parseMatcher(text: string): LabelMatcher {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(text);
  if (!m)
    throw new Error(`invalid label matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`);
  const op = m[2] as MatchOp;
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(m[3]!);
    } catch (e) {
      throw new Error(`invalid regex in matcher "${text}": ${(e as Error).message}`);
    }
  }
  return { name: m[1]!, op, value: m[3]! };
}
