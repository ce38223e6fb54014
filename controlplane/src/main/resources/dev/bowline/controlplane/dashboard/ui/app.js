// The dashboard page: polls the control plane every POLL_MS and redraws the graph, the selected
// node's or edge's details, and the recent traces.
import * as api from './api.js';
import { renderGraph } from './graph.js';
import { showNode, showEdge } from './details.js';
import { refreshTraces } from './traces.js';

const POLL_MS = 2000;
const state = { graph: null, selection: null };

const $ = (id) => document.getElementById(id);

function select(sel) {
  state.selection = sel;
  draw();
  details();
}

function draw() {
  const g = state.graph;
  if (!g) return;
  $('graph-empty').hidden = g.nodes.length > 0;
  renderGraph($('graph'), g, state.selection, select);
  $('graph-legend').textContent =
    `rates over the last ${g.windowSeconds} s, scraped every ${g.scrapeIntervalSeconds} s`;
}

async function details() {
  const sel = state.selection;
  const el = $('details-body');
  if (!sel) return;
  el.classList.remove('empty');
  if (sel.type === 'node') {
    await showNode(el, sel.id);
  } else {
    showEdge(el, state.graph.edges.find((e) => e.id === sel.id));
  }
}

function status(g, error) {
  const el = $('status');
  if (error) {
    el.textContent = 'control plane unreachable: ' + error;
    el.classList.add('stale');
    return;
  }
  const ok = g.targets.filter((t) => t.ok).length;
  el.textContent = `${ok}/${g.targets.length} proxies scraped · ${g.edges.length} edges · updated ${new Date().toLocaleTimeString()}`;
  el.classList.remove('stale');
}

async function tick() {
  try {
    const r = await api.graph();
    if (r.status !== 200 || !r.body) throw new Error('HTTP ' + r.status);
    state.graph = r.body;
    status(r.body, null);
    draw();
    await details();
  } catch (e) {
    status(null, e.message || String(e));
  }
  await refreshTraces($('traces'), $('waterfall'));
  setTimeout(tick, POLL_MS);
}

tick();
