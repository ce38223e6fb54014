// The control plane's JSON API, same origin as the page.

/** GET url as JSON: {status, body}; body is null when the answer is not JSON. */
export async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  return { status: r.status, body };
}

export const graph = () => getJson('/api/graph');
export const workload = (id) => getJson('/api/workloads/' + id.split('/').map(encodeURIComponent).join('/'));
export const service = (namespace, name) =>
  getJson(`/api/services/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
export const traces = (limit) => getJson(`/api/traces?limit=${limit}`);
export const trace = (id) => getJson('/api/traces/' + encodeURIComponent(id));
