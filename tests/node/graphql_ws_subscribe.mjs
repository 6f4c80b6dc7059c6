// The `graphql-ws` npm client (graphql-transport-ws protocol) subscribing on <url>.
//
// argv[2]: {"url": "ws://127.0.0.1:PORT/graphql", "query": "...", "variables": {...}, "count": N}
// env CHATSERVER_TOKEN: sent as connectionParams.Authorization.
// Prints: connected, ready (after a query sent behind the subscribe has answered, so the subscription is
// registered), data (one per event, with the payload), then done; or error / closed {code, reason}.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { emit, finish, scenario, startTimeLimit } from './common.mjs';

const config = scenario();
startTimeLimit();

const client = createClient({
  url: config.url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: config.token },
  retryAttempts: 0,
  lazy: true,
  on: {
    connected: () => emit('connected'),
    closed: (event) => emit('closed', { code: event?.code, reason: event?.reason }),
  },
});

let received = 0;
const unsubscribe = client.subscribe(
  { query: config.query, variables: config.variables ?? {} },
  {
    next: (payload) => {
      received += 1;
      emit('data', { payload });
      if (received >= config.count) {
        emit('done', { received });
        unsubscribe();
        client.dispose();
        finish(0);
      }
    },
    error: (error) => {
      emit('error', {
        code: error?.code,
        reason: error?.reason,
        errors: Array.isArray(error) ? error : undefined,
        message: error instanceof Error ? error.message : undefined,
      });
      client.dispose();
      finish(1);
    },
    complete: () => emit('complete'),
  },
);

// Messages on one socket are handled in order: once this query answers, the subscription above is registered.
client.subscribe(
  { query: 'query Ready { __typename }' },
  {
    next: (payload) => emit('ready', { payload }),
    error: () => {},
    complete: () => {},
  },
);
