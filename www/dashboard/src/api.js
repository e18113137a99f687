// The analyst API, with the site's token. Nothing is stored in cookies; the
// sign-in lives in sessionStorage for this tab only.

const KEY = 'palaute:dashboard';

/** The signed-in site and token, or null. */
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

export function signIn(site, token) {
  sessionStorage.setItem(KEY, JSON.stringify({ site, token }));
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** An API answer that was not 200. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET /api/v1/sites/{site}/{endpoint}?{params}, parsed. */
export async function get(endpoint, params = {}) {
  const { site, token } = session() || {};
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null));
  const response = await fetch(`/api/v1/sites/${encodeURIComponent(site)}/${endpoint}?${query}`, {
    headers: { authorization: `Bearer ${token}` },
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) throw new ApiError(response.status, (await response.text()).trim() || response.statusText);
  return response.json();
}
