// The playground: GraphiQL (vendored) with a sign-in panel that fills the Authorization header, and
// subscriptions over graphql-transport-ws with the same token in the connection_init payload.
"use strict";

(function main() {
  const status = document.getElementById("status");
  const missing = ["React", "ReactDOM", "GraphiQL", "graphqlWs"].filter((name) => !(name in window));
  if (missing.length || window.chatserverAssetFailures.length) {
    if (!window.chatserverAssetFailures.length) {
      failure("The playground could not start: " + missing.join(", ") + " did not load.");
    }
    return;
  }

  const httpUrl = window.location.origin + "/graphql";
  const wsUrl = httpUrl.replace(/^http/, "ws");
  const SESSION_KEY = "chatserver.playground.session";
  let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); // {username, accessToken}

  // --- GraphiQL -------------------------------------------------------------------------------------------

  const httpFetcher = GraphiQL.createFetcher({ url: httpUrl });
  const wsClients = new Map(); // one graphql-transport-ws client per token

  function wsClient(authorization) {
    if (!wsClients.has(authorization)) {
      const client = graphqlWs.createClient({ url: wsUrl, connectionParams: { Authorization: authorization } });
      wsClients.set(authorization, client);
    }
    return wsClients.get(authorization);
  }

  function isSubscription(params) {
    const text = (params.query || "").replace(/#[^\n]*/g, "");
    const name = params.operationName;
    const pattern = name ? new RegExp("\\bsubscription\\s+" + name + "\\b") : /^\s*subscription\b/;
    return pattern.test(text);
  }

  function makeFetcher(token) {
    return function fetcher(params, options) {
      const headers = { ...((options && options.headers) || {}) };
      const authorization = headers.Authorization || headers.authorization || token || "";
      if (!authorization && params.operationName === "IntrospectionQuery") {
        return Promise.resolve({ errors: [{ message: "Sign in (above) to load the schema and the docs." }] });
      }
      if (!isSubscription(params)) {
        return httpFetcher(params, { ...options, headers: { ...headers, Authorization: authorization } });
      }
      const client = wsClient(authorization);
      return {
        subscribe(observer) {
          const dispose = client.subscribe(params, {
            next: (value) => observer.next && observer.next(value),
            error: (err) => observer.error && observer.error(err),
            complete: () => observer.complete && observer.complete(),
          });
          return { unsubscribe: dispose };
        },
      };
    };
  }

  const defaultQuery = `# Welcome to chatserver.
# Sign in above (or make a New account): the panel
# fills the Authorization header (Headers, below)
# for every request and for subscriptions.
# Then press the run button and pick an operation.
# Subscribers get the fields the mutation selected.

query ListRooms {
  listRooms { items { id name createdAt } nextToken }
}

mutation CreateRoom {
  createRoom(input: { name: "general" }) { id name owner }
}

subscription OnCreateRoom {
  onCreateRoom { id name owner }
}
`;

  const headersFor = (s) => JSON.stringify({ Authorization: s ? s.accessToken : "" }, null, 2);
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  function render() {
    const token = session ? session.accessToken : "";
    // A new GraphiQL per session (the editors' text is kept in localStorage): it loads the schema with the token.
    root.render(
      React.createElement(GraphiQL, {
        key: token || "signed-out",
        fetcher: makeFetcher(token),
        defaultQuery,
        headers: headersFor(session),
        defaultEditorToolsVisibility: "headers",
        shouldPersistHeaders: false,
      }),
    );
  }

  // --- the sign-in panel ----------------------------------------------------------------------------------

  const form = document.getElementById("signin");
  form.hidden = false;
  let mode = session ? "signed-in" : "sign-in"; // sign-in | sign-up | confirm | signed-in
  let pending = null; // {username, password} between sign-up and confirm

  function field(label, name, type = "text", autocomplete = "off") {
    const wrapper = document.createElement("label");
    wrapper.className = "field";
    const input = document.createElement("input");
    Object.assign(input, { name, type, required: true, autocomplete });
    wrapper.append(label, input);
    return wrapper;
  }

  function button(label, onClick, kind = "button") {
    const b = document.createElement("button");
    b.type = kind;
    b.textContent = label;
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  function show(newMode) {
    mode = newMode;
    form.replaceChildren();
    if (mode === "signed-in") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = "Signed in as " + session.username;
      form.append(who, button("Sign out", signOut));
    } else if (mode === "sign-in") {
      form.append(
        field("Username", "username", "text", "username"),
        field("Password", "password", "password", "current-password"),
        button("Sign in", null, "submit"),
        button("New account", () => show("sign-up")),
      );
    } else if (mode === "sign-up") {
      form.append(
        field("Username", "username", "text", "username"),
        field("Password", "password", "password", "new-password"),
        field("Email", "email", "email", "email"),
        field("Given name", "givenName", "text", "given-name"),
        field("Family name", "familyName", "text", "family-name"),
        button("Sign up", null, "submit"),
        button("Cancel", () => show("sign-in")),
      );
    } else if (mode === "confirm") {
      const hint = document.createElement("span");
      hint.className = "who";
      hint.textContent = "Code for " + pending.username + " (in the server log):";
      form.append(hint, field("Code", "code", "text", "one-time-code"), button("Confirm", null, "submit"));
    }
    const first = form.querySelector("input");
    if (first) first.focus();
  }

  async function auth(path, body, authorization) {
    const headers = { "content-type": "application/json" };
    if (authorization) headers.Authorization = authorization;
    const response = await fetch("/auth/" + path, { method: "POST", headers, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((answer.__type ? answer.__type + ": " : "") + (answer.message || response.status));
    return answer;
  }

  async function signIn(username, password) {
    const tokens = await auth("signin", { username, password });
    session = { username, accessToken: tokens.accessToken };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    say("Signed in as " + username + ": the Authorization header is set for HTTP and WebSocket.");
    show("signed-in");
    render();
  }

  async function signOut() {
    const token = session && session.accessToken;
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
    for (const client of wsClients.values()) client.dispose();
    wsClients.clear();
    show("sign-in");
    render();
    try {
      if (token) await auth("signout", {}, token);
      say("Signed out (every token of that user is revoked).");
    } catch (error) {
      say("Sign-out: " + error.message, true);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    try {
      if (mode === "sign-in") {
        await signIn(values.username, values.password);
      } else if (mode === "sign-up") {
        const created = await auth("signup", values);
        pending = { username: values.username, password: values.password };
        if (created.userConfirmed) await signIn(pending.username, pending.password);
        else {
          say("Account created: enter the confirmation code from the server log.");
          show("confirm");
        }
      } else if (mode === "confirm") {
        await auth("confirm-signup", { username: pending.username, code: values.code });
        await signIn(pending.username, pending.password);
        pending = null;
      }
    } catch (error) {
      say(error.message, true);
    }
  });

  function say(text, isError = false) {
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function failure(text) {
    const main = document.getElementById("graphiql");
    const p = document.createElement("p");
    p.className = "failure";
    p.setAttribute("role", "alert");
    p.textContent = text;
    main.replaceChildren(p);
  }

  show(mode);
  render();
})();
