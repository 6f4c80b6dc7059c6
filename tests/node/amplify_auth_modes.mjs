// aws-amplify v6 with authMode 'apiKey' or 'oidc' against a custom endpoint: a query, a subscription, a mutation.
//
// argv[2]: {"endpoint": "https://127.0.0.1:PORT/graphql", "mode": "apiKey" | "oidc", "apiKey": "da2-...",
//           "roomId": "...", "listQuery": "...", "subscription": "...", "mutation": "...", "mutationVariables": {...}}
// env CHATSERVER_TOKEN: for 'oidc', the external issuer's token, handed to Amplify by a custom token provider.
// Prints: query (the list result), ready (start_ack), data (one event), mutation (its data and errors), done.
import WebSocket from 'ws';

import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import { decodeJWT } from 'aws-amplify/auth';
import { Hub } from 'aws-amplify/utils';

import { emit, finish, scenario, startTimeLimit } from './common.mjs';

globalThis.WebSocket = WebSocket;

const config = scenario();
startTimeLimit();

const graphqlConfig = { endpoint: config.endpoint, region: 'us-east-1', defaultAuthMode: config.mode };
if (config.mode === 'apiKey') {
  graphqlConfig.apiKey = config.apiKey;
}
const libraryOptions =
  config.mode === 'oidc'
    ? { Auth: { tokenProvider: { getTokens: async () => ({ accessToken: decodeJWT(config.token) }) } } }
    : {};
Amplify.configure({ API: { GraphQL: graphqlConfig } }, libraryOptions);

const client = generateClient();

async function attempt(request) {
  try {
    const result = await client.graphql(request);
    return { data: result.data, errors: result.errors ?? null };
  } catch (error) {
    // Amplify throws the response when it carries errors (and for 401s)
    return { data: error?.data ?? null, errors: error?.errors ?? [{ message: String(error) }] };
  }
}

emit('query', await attempt({ query: config.listQuery }));

Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') {
    emit('ready');
  }
});

const subscription = client
  .graphql({ query: config.subscription, variables: { roomId: config.roomId } })
  .subscribe({
    next: async (message) => {
      emit('data', { payload: { data: message.data } });
      subscription.unsubscribe();
      emit('mutation', await attempt({ query: config.mutation, variables: config.mutationVariables }));
      emit('done');
      finish(0);
    },
    error: (error) => {
      emit('error', { errors: error?.errors, message: error?.message ?? String(error) });
      finish(1);
    },
  });
