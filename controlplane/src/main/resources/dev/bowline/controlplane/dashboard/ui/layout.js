// A small layered layout for the service graph: columns by call depth (callers left of callees),
// versions of one app stacked together, apps ordered by where their callers are.

export const NODE_W = 150;
export const NODE_H = 46;
const COL_GAP = 140;
const ROW_GAP = 18;
const APP_GAP = 26;
const MARGIN = 24;

/**
 * Positions for graph.nodes ({id, namespace, app, version}) given graph.edges ({source, target}).
 * Returns {positions: Map id -> {x, y}, groups: [{key, label, x, y, w, h}], width, height}.
 */
export function layout(nodes, edges) {
  const ids = new Set(nodes.map((n) => n.id));
  const live = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const rank = new Map(nodes.map((n) => [n.id, 0]));
  // Longest path from the callers, at most |nodes| rounds (a cycle stops growing there).
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of live) {
      const r = rank.get(e.source) + 1;
      if (r > rank.get(e.target) && r < nodes.length) {
        rank.set(e.target, r);
        changed = true;
      }
    }
    if (!changed) break;
  }
  // One column per app: the versions of an app sit together, in its leftmost version's column;
  // apps without any traffic go to a column after the others.
  const touched = new Set(live.flatMap((e) => [e.source, e.target]));
  const appKey = (n) => `${n.namespace}/${n.app}`;
  const apps = new Map();
  for (const n of nodes) {
    if (!apps.has(appKey(n))) apps.set(appKey(n), []);
    apps.get(appKey(n)).push(n);
  }
  const maxRank = Math.max(0, ...[...touched].map((id) => rank.get(id)));
  const appRank = new Map();
  for (const [key, members] of apps) {
    const ranks = members.filter((n) => touched.has(n.id)).map((n) => rank.get(n.id));
    appRank.set(key, ranks.length ? Math.min(...ranks) : touched.size ? maxRank + 1 : 0);
  }
  const columns = [];
  for (const [key, r] of appRank) {
    (columns[r] ||= []).push(key);
  }
  // Order apps in a column by the mean row of their callers (one pass, left to right).
  const row = new Map();
  const positions = new Map();
  const groups = [];
  let height = 0;
  const colsUsed = columns.filter(Boolean);
  colsUsed.forEach((col, c) => {
    const score = (key) => {
      const callers = live
        .filter((e) => apps.get(key).some((n) => n.id === e.target) && row.has(e.source))
        .map((e) => row.get(e.source));
      return callers.length ? callers.reduce((a, b) => a + b, 0) / callers.length : Infinity;
    };
    col.sort((a, b) => score(a) - score(b) || a.localeCompare(b));
    let y = MARGIN + 16;
    const x = MARGIN + c * (NODE_W + COL_GAP);
    for (const key of col) {
      const members = apps.get(key).slice().sort((a, b) => a.version.localeCompare(b.version));
      const top = y;
      for (const n of members) {
        positions.set(n.id, { x: x, y: y });
        row.set(n.id, y);
        y += NODE_H + ROW_GAP;
      }
      const first = members[0];
      if (members.length > 1 || first.kind !== 'unknown') {
        groups.push({
          key,
          label: first.kind === 'unknown' ? '' : `${first.app}.${first.namespace}`,
          x: x - 8,
          y: top - 16,
          w: NODE_W + 16,
          h: y - top - ROW_GAP + 24,
        });
      }
      y += APP_GAP;
    }
    height = Math.max(height, y);
  });
  const width = MARGIN * 2 + Math.max(1, colsUsed.length) * (NODE_W + COL_GAP) - COL_GAP;
  return { positions, groups, width, height: Math.max(height, 120) };
}
