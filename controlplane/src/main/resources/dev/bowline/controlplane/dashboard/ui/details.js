// The details panel: a selected node (its workload, its services' versions and traffic, its
// edges, the Istio config that applies) or a selected edge.
import * as api from './api.js';
import * as fmt from './format.js';

/** h('td', {class: 'num'}, 'text', child...) */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) dl.append(h('dt', {}, k), h('dd', {}, v));
  return dl;
}

function trafficCells(t) {
  return [
    h('td', { class: 'num' }, fmt.rps(t.rps)),
    h('td', { class: 'num' }, fmt.pct(t.errorRate)),
    h('td', { class: 'num' }, fmt.ms(t.p50Ms)),
    h('td', { class: 'num' }, fmt.ms(t.p99Ms)),
  ];
}

function edgeTable(edges, nameOf, side) {
  if (!edges.length) return h('p', { class: 'empty' }, 'none in the window');
  const t = h('table', {}, h('tr', {},
    h('th', {}, side), h('th', {}, 'rps'), h('th', {}, 'err'), h('th', {}, 'p50'), h('th', {}, 'p99')));
  for (const e of edges) t.append(h('tr', {}, h('td', {}, nameOf(e)), ...trafficCells(e)));
  return t;
}

const short = (id) => id.replace(/\/latest$/, '').replace(/^([^/]+)\/(.+)$/, '$2.$1').replace('/', ' ');

/** Shows the node id (namespace/app/version) in el. */
export async function showNode(el, id) {
  if (id === 'unknown') {
    el.replaceChildren(h('h3', {}, 'unknown'),
      h('p', {}, 'Callers outside the mesh, or whose proxy did not exchange metadata (no sidecar).'));
    return;
  }
  const r = await api.workload(id);
  if (r.status !== 200) {
    el.replaceChildren(h('p', { class: 'empty' }, (r.body && r.body.error) || `HTTP ${r.status}`));
    return;
  }
  const w = r.body;
  const parts = [
    h('h3', {}, `${fmt.nodeLabel(w)} `, h('small', {}, `(${w.kind}, namespace ${w.namespace})`)),
    kv([
      ['workloads', w.workloads.join(', ') || '–'],
      ['instances', w.instances.join(', ') || '–'],
      ['endpoints', w.endpoints.join(', ') || '–'],
      ['labels', Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '–'],
    ]),
  ];
  if (w.proxyDetails.length) {
    parts.push(h('h3', {}, 'Proxies'));
    const ul = h('ul');
    for (const p of w.proxyDetails) {
      ul.append(h('li', {}, h('code', {}, p.id), ' ', h('a', { href: p.configDump, target: '_blank' }, 'xDS config dump')));
    }
    parts.push(ul);
  }
  for (const host of w.services) {
    const [name, namespace] = host.split('.');
    const s = await api.service(namespace, name);
    if (s.status !== 200) continue;
    parts.push(h('h3', {}, `Service ${host}`));
    const t = h('table', { class: 'versions', 'data-service': host }, h('tr', {},
      h('th', {}, 'version'), h('th', {}, 'endpoints'), h('th', {}, 'rps'), h('th', {}, 'err'),
      h('th', {}, 'p50'), h('th', {}, 'p99')));
    for (const v of s.body.versions) {
      t.append(h('tr', { 'data-version': v.version },
        h('td', {}, v.version), h('td', {}, v.endpoints.join(', ')), ...trafficCells(v.traffic)));
    }
    parts.push(t);
  }
  parts.push(h('h3', {}, 'Inbound'), edgeTable(w.inbound, (e) => 'from ' + short(e.source), 'caller'));
  parts.push(h('h3', {}, 'Outbound'), edgeTable(w.outbound, (e) => 'to ' + short(e.target), 'callee'));
  parts.push(h('h3', {}, 'Istio config that applies'));
  if (!w.config.length) {
    parts.push(h('p', { class: 'empty' }, 'none'));
  } else {
    const t = h('table', { class: 'config' }, h('tr', {}, h('th', {}, 'resource'), h('th', {}, 'why')));
    for (const c of w.config) {
      t.append(h('tr', {}, h('td', {}, `${c.kind} ${c.namespace}/${c.name}`), h('td', {}, c.why)));
    }
    parts.push(t);
  }
  el.replaceChildren(...parts);
}

/** Shows an edge of the graph (from the last /api/graph answer). */
export function showEdge(el, edge) {
  if (!edge) {
    el.replaceChildren(h('p', { class: 'empty' }, 'That edge has no traffic in the window any more.'));
    return;
  }
  el.replaceChildren(
    h('h3', {}, `${short(edge.source)} → ${short(edge.target)}`),
    kv([
      ['services', edge.services.join(', ') || '–'],
      ['protocols', edge.protocols.join(', ') || '–'],
      ['rate', fmt.rps(edge.rps)],
      ['errors', fmt.pct(edge.errorRate)],
      ['P50 / P99', `${fmt.ms(edge.p50Ms)} / ${fmt.ms(edge.p99Ms)}`],
      ['requests in window', String(edge.requests)],
      ['reported by', `the ${edge.reporter}'s proxy`],
    ]),
  );
}
