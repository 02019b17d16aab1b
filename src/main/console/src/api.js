// The admin API, called with the admin token as a bearer header and nothing else: no cookies (credentials: 'omit'),
// so no other site can make the browser send an authenticated request for it (CSRF). The token lives in this tab's
// sessionStorage only, until the operator logs out or closes the tab.
const TOKEN_KEY = 'gpubroker.console.adminToken';
const PREFIX = '/admin/v1';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  start: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  end: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal from the admin API: its RFC 9457 problem (title, detail, and the field it names, if any). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `the admin API answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${session.token() ?? ''}` };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(PREFIX + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: `the admin API answered ${response.status} without JSON` };
  }
  if (response.status === 401) {
    session.end();
    window.dispatchEvent(new Event('gpubroker:logged-out'));
  }
  if (!response.ok) {
    throw new ApiError(response.status, data);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);

/** Query strings built from values, each encoded. */
export function query(params) {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A path segment from an id: ids come from the API, but are encoded all the same. */
export const segment = (id) => encodeURIComponent(id);
