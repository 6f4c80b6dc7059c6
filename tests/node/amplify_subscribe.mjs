// aws-amplify v6 `generateClient().graphql({query}).subscribe(...)` against a custom endpoint.
//
// argv[2]: {"endpoint": "https://127.0.0.1:PORT/graphql", "query": "...", "variables": {...}, "count": N}
// env CHATSERVER_TOKEN: our access token, handed to Amplify by a custom token provider, so in 'userPool' mode Amplify
// sends it unchanged as `Authorization` (in the header- subprotocol and in each start's extensions.authorization).
// Amplify dials wss://127.0.0.1:PORT/graphql/realtime; trust the server's certificate with NODE_EXTRA_CA_CERTS.
// Prints: ready (Amplify's "Subscription ack" hub event, i.e. start_ack), data (one per event), done; or error.
import WebSocket from 'ws';

import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import { decodeJWT } from 'aws-amplify/auth';
import { Hub } from 'aws-amplify/utils';

import { emit, finish, scenario, startTimeLimit } from './common.mjs';

// Node 20 has no global WebSocket; Amplify uses the global one, as in a browser.
globalThis.WebSocket = WebSocket;

const config = scenario();
startTimeLimit();

Amplify.configure(
  {
    API: {
      GraphQL: { endpoint: config.endpoint, region: 'us-east-1', defaultAuthMode: 'userPool' },
    },
  },
  {
    Auth: {
      tokenProvider: {
        getTokens: async () => ({ accessToken: decodeJWT(config.token) }),
      },
    },
  },
);

Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') {
    emit('ready');
  } else if (payload.event === 'ConnectionStateChange') {
    emit('connection', { state: payload.data?.connectionState });
  }
});

const client = generateClient();
let received = 0;
const subscription = client
  .graphql({ query: config.query, variables: config.variables ?? {} })
  .subscribe({
    next: (message) => {
      received += 1;
      emit('data', { payload: { data: message.data, errors: message.errors } });
      if (received >= config.count) {
        emit('done', { received });
        subscription.unsubscribe();
        finish(0);
      }
    },
    error: (error) => {
      emit('error', { errors: error?.errors, message: error?.message ?? String(error) });
      finish(1);
    },
  });
