// The service graph as SVG: one <g class="node"> per node, one <g class="edge"> per edge, each
// with data-* attributes naming it and its rate (what tests and tools read).
import { layout, NODE_W, NODE_H } from './layout.js';
import * as fmt from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

/** The point at t of a cubic Bézier curve, one coordinate. */
function bezier(t, p0, p1, p2, p3) {
  const u = 1 - t;
  return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
}

/** Edge health class from its error share. */
export function edgeClass(edge) {
  if (!(edge.rps > 0)) return 'idle';
  if (edge.errorRate >= 0.05) return 'bad';
  if (edge.errorRate >= 0.01) return 'warn';
  return 'ok';
}

/**
 * Draws graph ({nodes, edges}) into svg; selection = {type: 'node'|'edge', id}; onSelect(sel) is
 * called on clicks.
 */
export function renderGraph(svg, graph, selection, onSelect) {
  const { positions, groups, width, height } = layout(graph.nodes, graph.edges);
  svg.replaceChildren();
  // Natural size, shrunk (never blown up) to the panel by CSS max-width.
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  const defs = el('defs');
  for (const cls of ['ok', 'warn', 'bad', 'idle']) {
    const m = el('marker', {
      id: 'arrow-' + cls, viewBox: '0 0 10 10', refX: '10', refY: '5',
      markerWidth: '9', markerHeight: '9', markerUnits: 'userSpaceOnUse', orient: 'auto',
    });
    m.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-' + cls,
      fill: { ok: '#2f9e44', warn: '#e8890c', bad: '#d63a3a', idle: '#b8c0cc' }[cls] }));
    defs.append(m);
  }
  svg.append(defs);
  for (const g of groups) {
    svg.append(el('rect', { class: 'app-box', x: g.x, y: g.y, width: g.w, height: g.h }));
    svg.append(el('text', { class: 'app-box-label', x: g.x + 8, y: g.y + 12 }, g.label));
  }
  const maxRps = Math.max(1, ...graph.edges.map((e) => e.rps || 0));
  for (const e of graph.edges) {
    const a = positions.get(e.source);
    const b = positions.get(e.target);
    if (!a || !b) continue;
    const cls = edgeClass(e);
    const g = el('g', {
      class: `edge ${cls}` + (selection?.type === 'edge' && selection.id === e.id ? ' selected' : ''),
      'data-id': e.id, 'data-source': e.source, 'data-target': e.target,
      'data-rps': String(e.rps), 'data-error-rate': String(e.errorRate),
    });
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2;
    const x2 = b.x, y2 = b.y + NODE_H / 2;
    const back = x2 <= x1;
    const bend = back ? 90 : Math.max(40, (x2 - x1) / 2);
    const d = back
      ? `M ${x1} ${y1} C ${x1 + bend} ${y1 - 60}, ${x2 - bend} ${y2 - 60}, ${x2} ${y2}`
      : `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
    const w = 1.5 + 4.5 * Math.sqrt((e.rps || 0) / maxRps);
    g.append(el('path', { d, 'stroke-width': w.toFixed(2), 'marker-end': `url(#arrow-${cls})` }));
    g.append(el('path', { d, 'stroke-width': 12, stroke: 'transparent', class: 'hit' }));
    // The label sits two thirds along the curve, near its callee, so that the edges leaving one
    // node (which share their start) do not stack their labels.
    const c1x = x1 + bend, c1y = back ? y1 - 60 : y1;
    const c2x = x2 - bend, c2y = back ? y2 - 60 : y2;
    const mx = bezier(0.66, x1, c1x, c2x, x2), my = bezier(0.66, y1, c1y, c2y, y2) - 6;
    const label = el('text', { x: mx, y: my - 4, 'text-anchor': 'middle', class: 'edge-label' });
    label.append(el('tspan', { x: mx, dy: 0 }, `${fmt.rps(e.rps)} · ${fmt.pct(e.errorRate)} err`));
    label.append(el('tspan', { x: mx, dy: 13 }, `p50 ${fmt.ms(e.p50Ms)} · p99 ${fmt.ms(e.p99Ms)}`));
    g.append(label);
    g.addEventListener('click', () => onSelect({ type: 'edge', id: e.id }));
    svg.append(g);
  }
  for (const n of graph.nodes) {
    const p = positions.get(n.id);
    const g = el('g', {
      class: `node ${n.kind}` + (selection?.type === 'node' && selection.id === n.id ? ' selected' : ''),
      'data-id': n.id, 'data-app': n.app, 'data-version': n.version, 'data-kind': n.kind,
      transform: `translate(${p.x}, ${p.y})`,
    });
    g.append(el('rect', { width: NODE_W, height: NODE_H }));
    g.append(el('text', { x: 10, y: 17 }, (n.kind === 'gateway' ? '⇲ ' : '') + n.app));
    const v = n.version && n.version !== 'latest' ? n.version : '';
    g.append(el('text', { x: NODE_W - 10, y: 17, 'text-anchor': 'end', class: 'version' }, v));
    const inbound = n.inbound && n.inbound.rps > 0
      ? `in ${fmt.rps(n.inbound.rps)} · ${fmt.pct(n.inbound.errorRate)} err`
      : n.kind === 'unknown' ? 'outside the mesh' : 'no inbound traffic';
    g.append(el('text', { x: 10, y: 35, class: 'rate' }, inbound));
    g.addEventListener('click', () => onSelect({ type: 'node', id: n.id }));
    svg.append(g);
  }
}
