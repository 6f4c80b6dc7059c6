// aws-amplify v6 with the subscription document `amplify codegen` generates for this schema
// (src/graphql/subscriptions.js: every field, `__typename`, and the `$filter: ModelSubscription…FilterInput`
// variable), subscribed with `filter` variables, as an Amplify Gen 1 app does.
//
// argv[2]: {"endpoint": "https://127.0.0.1:PORT/graphql", "variables": {"roomId": ..., "filter": {...}}, "count": N}
// env CHATSERVER_TOKEN: the access token (a custom token provider hands it to Amplify in 'userPool' mode).
// Prints: ready (start_ack), data (one per event), done; or error.
import WebSocket from 'ws';

import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import { decodeJWT } from 'aws-amplify/auth';
import { Hub } from 'aws-amplify/utils';

import { emit, finish, scenario, startTimeLimit } from './common.mjs';

globalThis.WebSocket = WebSocket;

// As codegen writes it.
export const onCreateMessageByRoomId = /* GraphQL */ `
  subscription OnCreateMessageByRoomId(
    $roomId: ID
    $filter: ModelSubscriptionMessageFilterInput
  ) {
    onCreateMessageByRoomId(roomId: $roomId, filter: $filter) {
      id
      content {
        text
        imageId
        imageUrl
        __typename
      }
      owner
      createdAt
      updatedAt
      roomId
      __typename
    }
  }
`;

const config = scenario();
startTimeLimit();

Amplify.configure(
  { API: { GraphQL: { endpoint: config.endpoint, region: 'us-east-1', defaultAuthMode: 'userPool' } } },
  { Auth: { tokenProvider: { getTokens: async () => ({ accessToken: decodeJWT(config.token) }) } } },
);

Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') {
    emit('ready');
  }
});

const client = generateClient();
let received = 0;
const subscription = client
  .graphql({ query: onCreateMessageByRoomId, variables: config.variables })
  .subscribe({
    next: ({ data }) => {
      received += 1;
      emit('data', { message: data.onCreateMessageByRoomId });
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
