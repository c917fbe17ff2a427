// The one way the app talks to the server: JSON over fetch, the CSRF header on
// every state-changing call (docs/api.md, "CSRF"), and every failure as an
// ApiError carrying the server's {"error": {code, message, details}} shape.

const BASE = "/api/v1";
const HEADER = "X-Huddle-CSRF";
let csrf = "";

export function setCsrf(token) {
  csrf = token || "";
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

async function request(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    // Without a session (sign-in, setup, invites) any non-empty value will do.
    init.headers[HEADER] = csrf || "none";
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(0, "offline", "Huddle's server cannot be reached: this device is offline or the server is down.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const found = data && data.error ? data.error : {};
    throw new ApiError(response.status, found.code || "bad_response",
      found.message || `the server answered ${response.status}`, found.details);
  }
  if (data === null || typeof data !== "object") {
    throw new ApiError(response.status, "bad_response", "the server's answer is not JSON");
  }
  return { data, response };
}

export async function api(method, path, body) {
  return (await request(method, path, body)).data;
}

// A GET and the audit head its answer carries (docs/api.md, "The audit head").
export async function getWithHead(path) {
  const { data, response } = await request("GET", path);
  return { data, head: response.headers.get("Huddle-Audit-Head") };
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const del = (path) => api("DELETE", path);
