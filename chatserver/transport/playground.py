"""The GraphiQL playground served at `GET /graphql` to browsers. It needs no token; its operations do."""

from __future__ import annotations

from functools import cache

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>chatserver playground</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading the playground&hellip;</div>
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphql-ws@5.16.0/umd/graphql-ws.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
  <script>
    // Paste `{"Authorization": "<token>"}` in the Headers tab: it goes with every HTTP request, and as the
    // graphql-transport-ws connection_init payload for subscriptions.
    const httpUrl = window.location.origin + window.location.pathname;
    const wsUrl = httpUrl.replace(/^http/, "ws");
    const httpFetcher = GraphiQL.createFetcher({ url: httpUrl });
    const clients = new Map();
    function wsClient(headers) {
      const auth = headers.Authorization || headers.authorization || "";
      if (!clients.has(auth)) {
        clients.set(auth, graphqlWs.createClient({ url: wsUrl, connectionParams: { Authorization: auth } }));
      }
      return clients.get(auth);
    }
    function isSubscription(params) {
      const text = (params.query || "").replace(/#[^\\n]*/g, "");
      const name = params.operationName;
      const pattern = name ? new RegExp("subscription\\\\s+" + name + "\\\\b") : /^\\s*subscription\\b/m;
      return pattern.test(text);
    }
    function fetcher(params, options) {
      const headers = (options && options.headers) || {};
      if (!isSubscription(params)) return httpFetcher(params, options);
      const client = wsClient(headers);
      return {
        subscribe(observer) {
          const sink = {
            next: (value) => observer.next && observer.next(value),
            error: (err) => observer.error && observer.error(err),
            complete: () => observer.complete && observer.complete(),
          };
          const dispose = client.subscribe(params, sink);
          return { unsubscribe: dispose };
        },
      };
    }
    const defaultQuery = `# Welcome to chatserver.
# 1. Get a token: POST /auth/signin (see the README), or run: chatserver token <username>
# 2. Open "Headers" below and paste: {"Authorization": "<token>"}
# 3. Run these operations one by one.

query ListRooms {
  listRooms { items { id name createdAt } nextToken }
}

mutation CreateRoom {
  createRoom(input: { name: "general" }) { id name }
}
`;
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultQuery,
        defaultHeaders: '{"Authorization": ""}',
        shouldPersistHeaders: true,
      })
    );
  </script>
</body>
</html>
"""


@cache
def playground_html() -> str:
    return _PAGE
