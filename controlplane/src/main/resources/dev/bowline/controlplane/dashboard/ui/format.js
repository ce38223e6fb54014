// Number formatting shared by the panels.

/** Requests per second: "12.3 rps", "0.05 rps", "0 rps". */
export function rps(v) {
  if (v == null || v === 0) return '0 rps';
  return (v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(1)) + ' rps';
}

/** A 0..1 share as a percentage: "0%", "2.5%". */
export function pct(v) {
  if (v == null || v === 0) return '0%';
  const p = v * 100;
  return (p >= 10 ? p.toFixed(0) : p.toFixed(1)) + '%';
}

/** Milliseconds: "4.2 ms", "1.3 s", "–" when unknown. */
export function ms(v) {
  if (v == null) return '–';
  if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
  return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
}

/** Microseconds as a duration: "850 µs", "12.4 ms", "1.20 s". */
export function micros(v) {
  if (v == null) return '–';
  if (v < 1000) return Math.round(v) + ' µs';
  return ms(v / 1000);
}

/** A node's label: "forecast v2" ("latest" is not shown). */
export function nodeLabel(node) {
  return node.version && node.version !== 'latest' ? `${node.app} ${node.version}` : node.app;
}
