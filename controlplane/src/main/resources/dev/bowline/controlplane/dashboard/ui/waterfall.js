// A trace's spans as a waterfall: rows in call-tree order (children under their parent, by start
// time), each bar placed by its start and length relative to the whole trace.
import * as fmt from './format.js';

/** Whether a span's status is an error (OTLP STATUS_CODE_ERROR = 2, or a name saying ERROR). */
export function isError(span) {
  const s = span.statusCode;
  return s === 2 || (typeof s === 'string' && s.toUpperCase().includes('ERROR'));
}

/**
 * The rows of trace ({spans: [...]}) in display order:
 * [{span, depth, offsetPct, widthPct, error}]. A span whose parent is not in the trace is a root.
 */
export function spanRows(trace) {
  const spans = trace.spans || [];
  if (!spans.length) return [];
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else {
      roots.push(s);
    }
  }
  const byStart = (a, b) => a.startEpochMicros - b.startEpochMicros || a.spanId.localeCompare(b.spanId);
  const start = Math.min(...spans.map((s) => s.startEpochMicros));
  const end = Math.max(...spans.map((s) => s.startEpochMicros + s.durationMicros));
  const total = Math.max(1, end - start);
  const rows = [];
  const seen = new Set();
  const visit = (s, depth) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    rows.push({
      span: s,
      depth,
      offsetPct: ((s.startEpochMicros - start) / total) * 100,
      widthPct: (s.durationMicros / total) * 100,
      error: isError(s),
    });
    for (const c of (children.get(s.spanId) || []).sort(byStart)) visit(c, depth + 1);
  };
  roots.sort(byStart).forEach((r) => visit(r, 0));
  return rows;
}

/** Renders trace into container (replacing what was there). */
export function renderWaterfall(container, trace) {
  container.replaceChildren();
  const wrap = document.createElement('div');
  wrap.className = 'waterfall';
  wrap.dataset.traceId = trace.traceId;
  const head = document.createElement('h3');
  head.textContent = `Trace ${trace.traceId}`;
  wrap.append(head);
  for (const r of spanRows(trace)) {
    const row = document.createElement('div');
    row.className = 'wf-row' + (r.error ? ' error' : '');
    row.dataset.spanId = r.span.spanId;
    row.dataset.depth = String(r.depth);
    const label = document.createElement('div');
    label.className = 'wf-label';
    label.style.paddingLeft = r.depth * 14 + 'px';
    const svc = document.createElement('span');
    svc.className = 'svc';
    svc.textContent = r.span.service + ' ';
    label.append(svc, document.createTextNode(r.span.name));
    label.title = `${r.span.service} ${r.span.name} (${r.span.kind || ''})`;
    const track = document.createElement('div');
    track.className = 'wf-track';
    const bar = document.createElement('div');
    bar.className = 'wf-bar';
    bar.style.left = r.offsetPct.toFixed(3) + '%';
    bar.style.width = r.widthPct.toFixed(3) + '%';
    track.append(bar);
    const dur = document.createElement('div');
    dur.className = 'wf-dur';
    dur.textContent = fmt.micros(r.span.durationMicros);
    row.append(label, track, dur);
    wrap.append(row);
  }
  container.append(wrap);
}
