/**
 * The metric names a PromQL expression reads, found by Prometheus's own grammar
 * (@prometheus-io/lezer-promql, the parser of Prometheus's web UI), never by a regular
 * expression; an expression that does not parse is an error.
 */
import { parser } from '@prometheus-io/lezer-promql';

/**
 * Every metric name in the vector selectors of `expr`.
 * @throws Error naming the expression and the offset of a syntax error.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let error: number | undefined;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError && error === undefined) error = node.from;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.add(expr.slice(node.from, node.to));
    },
  });
  if (error !== undefined) throw new Error(`PromQL does not parse at offset ${error}: ${expr}`);
  return [...names];
}

/** Names of the samples in a Prometheus text exposition (`foo_bucket`, `foo_count`, …). */
export function exposedSamples(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}
