// Recent traces from the control plane's OTLP receiver (GET /api/traces): a list, and the
// waterfall of the one selected. Without that endpoint (404) the panel says so.
import * as api from './api.js';
import * as fmt from './format.js';
import { renderWaterfall } from './waterfall.js';

let selected = null;

/** Refreshes the list in listEl; the selected trace's waterfall goes to waterfallEl. */
export async function refreshTraces(listEl, waterfallEl) {
  let r;
  try {
    r = await api.traces(20);
  } catch (e) {
    listEl.innerHTML = '<p class="empty">Traces unavailable: ' + String(e) + '</p>';
    return;
  }
  if (r.status === 404 || !r.body || !Array.isArray(r.body.traces) || r.body.traces.length === 0) {
    listEl.innerHTML = '<p class="empty" id="no-traces">no traces yet</p>';
    if (r.status === 404) waterfallEl.replaceChildren();
    return;
  }
  const table = document.createElement('table');
  table.innerHTML = '<tr><th>started</th><th>root</th><th>spans</th><th class="num">duration</th><th></th></tr>';
  for (const t of r.body.traces) {
    const tr = document.createElement('tr');
    tr.className = 'trace-row' + (t.traceId === selected ? ' selected' : '');
    tr.dataset.traceId = t.traceId;
    const cells = [
      new Date(t.startEpochMicros / 1000).toLocaleTimeString(),
      `${t.rootService} ${t.rootName}`,
      String(t.spanCount),
      fmt.micros(t.durationMicros),
      t.error ? 'error' : '',
    ];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = c;
      if (i === 3) td.className = 'num';
      if (i === 4 && c) td.className = 'error-mark';
      tr.append(td);
    });
    tr.addEventListener('click', () => showTrace(t.traceId, listEl, waterfallEl));
    table.append(tr);
  }
  listEl.replaceChildren(table);
}

async function showTrace(id, listEl, waterfallEl) {
  selected = id;
  for (const tr of listEl.querySelectorAll('.trace-row')) {
    tr.classList.toggle('selected', tr.dataset.traceId === id);
  }
  const r = await api.trace(id);
  if (r.status !== 200 || !r.body) {
    waterfallEl.innerHTML = `<p class="empty">Trace ${id} is gone (HTTP ${r.status}).</p>`;
    return;
  }
  renderWaterfall(waterfallEl, r.body);
}
