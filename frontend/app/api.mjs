// Talking to the OneMap server: JSON in, errors {"error", "detail"} turned
// into Error objects whose message a person can read.

/** An error answered by the server: status, message and the parameter it concerns. */
export class APIError extends Error {
  constructor(status, message, detail) {
    super(detail ? `${message} (${detail})` : message);
    this.status = status;
    this.detail = detail;
  }
}

async function check(res) {
  if (res.ok) return res;
  let body = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  throw new APIError(res.status, body.error || `HTTP ${res.status}`, body.detail);
}

/** GET url as JSON; throws APIError for an error status. */
export async function getJSON(url, {signal} = {}) {
  const res = await check(await fetch(url, {signal, headers: {Accept: 'application/json'}}));
  return res.json();
}

/** POST body as JSON to url; returns {status, body}. */
export async function postJSON(url, body, {signal} = {}) {
  const res = await check(await fetch(url, {
    method: 'POST', signal, headers: {'Content-Type': 'application/json', Accept: 'application/json'}, body: JSON.stringify(body),
  }));
  return {status: res.status, body: res.status === 204 ? null : await res.json()};
}

/** DELETE url; errors are ignored (cancelling something already finished is fine). */
export async function del(url) {
  try {
    await fetch(url, {method: 'DELETE'});
  } catch {
    // nothing to do
  }
}
