// The public API as a browser reaches it from the server's own origin: /auth/* for accounts, POST /graphql.
const SESSION_KEY = "chatserver.session";

export class ApiError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

export async function auth(path, body, authorization) {
  const headers = { "content-type": "application/json" };
  if (authorization) headers.Authorization = authorization;
  const response = await fetch(`/auth/${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(answer.__type || "Error", answer.message || `HTTP ${response.status}`);
  return answer;
}

function claims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
}

/** Sign in; the session (tokens, username, sub) lives in sessionStorage, so a reload keeps it. */
export async function signIn(username, password) {
  const tokens = await auth("signin", { username, password });
  return saveSession(tokens);
}

function saveSession(tokens, previous = {}) {
  const idClaims = claims(tokens.idToken);
  const session = {
    username: idClaims["cognito:username"],
    sub: idClaims.sub,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken || previous.refreshToken,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function storedSession() {
  return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
}

export async function signOut(session) {
  sessionStorage.removeItem(SESSION_KEY);
  await auth("signout", {}, session.accessToken); // global: every token of the user is revoked
}

export class Api {
  constructor(session, onExpired) {
    this.session = session;
    this.onExpired = onExpired;
  }

  /** New tokens from the refresh token; false when it is refused (signed out everywhere, or expired). */
  async refresh() {
    if (!this.session.refreshToken) return false;
    try {
      this.session = saveSession(await auth("refresh", { refreshToken: this.session.refreshToken }), this.session);
      return true;
    } catch {
      return false;
    }
  }

  /** `data` of one operation; the first GraphQL error is thrown as an ApiError. */
  async graphql(query, variables = {}) {
    let response = await this.#post(query, variables);
    if (response.status === 401 && (await this.refresh())) response = await this.#post(query, variables);
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) this.onExpired();
    const error = (body.errors || [])[0];
    if (error) throw new ApiError(error.errorType || "Error", error.message);
    return body.data;
  }

  #post(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", Authorization: this.session.accessToken },
      body: JSON.stringify({ query, variables }),
    });
  }

  /** Upload through a presigned PUT URL (createUploadUrl), then return the new image's id. */
  async uploadImage(file, createUploadUrl) {
    const input = { filename: file.name || "image", contentType: file.type, size: file.size };
    const target = (await this.graphql(createUploadUrl, { input })).createUploadUrl;
    const response = await fetch(sameOrigin(target.uploadUrl), {
      method: "PUT",
      headers: { "content-type": file.type },
      body: file,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = (body.errors || [])[0] || {};
      throw new ApiError(error.errorType || "UploadFailed", error.message || `Upload refused (HTTP ${response.status})`);
    }
    return target.imageId;
  }
}

/**
 * A signed /files/ URL of this server, made relative: the server signs path and expiry only, and its public URL
 * may name another host than the one this page was opened with (localhost vs 127.0.0.1).
 */
export function sameOrigin(url) {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname + parsed.search;
}
