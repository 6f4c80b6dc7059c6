// The walkie-talkie seed's client stack: AWSAppSyncClient from aws-appsync 1.8.1 (Apollo 2 inside), configured as
// the seed's client/src/config/appsyncClient.ts is (AMAZON_COGNITO_USER_POOLS with the Cognito ID token,
// disableOffline), but pointed at chatserver. It runs GetRooms, subscribes with OnCreateAudioSegment (Apollo adds
// __typename; aws-appsync POSTs it as a handshake, then listens with its vendored Paho over MQTT 3.1 on WebSocket),
// prints each segment, and after `count` of them unsubscribes (Paho DISCONNECTs) and lingers, so the test can see
// the server drop the MQTT connection while this process still runs.
//
// argv[2]: {"url": "http://127.0.0.1:PORT/graphql", "roomId": "...", "count": N, "lingerMs": 15000}
// env CHATSERVER_TOKEN: the ID token.
// Prints: rooms, subscribed, connected (aws-appsync's CONNECTED control message), data (one per segment),
// unsubscribed, done; or error.
import { createRequire } from 'node:module';

import WebSocket from 'ws';

import { emit, finish, scenario, startTimeLimit } from '../node/common.mjs';

// Paho opens `new WebSocket(url, ["mqttv3.1"])` on the global object, as in a browser; Node 20 has none, so the
// `ws` package stands in. No fetch polyfill: apollo-link-http uses the global fetch, which Node 20 has.
globalThis.WebSocket = WebSocket;

const require = createRequire(import.meta.url);
const AWSAppSyncClient = require('aws-appsync').default;
const gql = require('graphql-tag');

const GET_ROOMS = gql`
  query GetRooms {
    rooms {
      id
    }
  }
`;

const ON_CREATE_AUDIO_SEGMENT = gql`
  subscription OnCreateAudioSegment($roomId: ID!) {
    onCreateAudioSegment(roomId: $roomId) {
      roomId
      data
      timestamp
      userId
    }
  }
`;

const config = scenario();
startTimeLimit();

const client = new AWSAppSyncClient({
  url: config.url,
  region: 'us-east-1',
  auth: {
    type: 'AMAZON_COGNITO_USER_POOLS',
    jwtToken: async () => config.token,
  },
  disableOffline: true,
});

try {
  const rooms = await client.query({ query: GET_ROOMS, fetchPolicy: 'network-only' });
  emit('rooms', { rooms: rooms.data.rooms });
} catch (error) {
  emit('error', { stage: 'rooms', message: String(error?.message ?? error) });
  finish(1);
}

let received = 0;
const subscription = client
  .subscribe({
    query: ON_CREATE_AUDIO_SEGMENT,
    // '@@controlEvents' is aws-appsync's own switch (stripped before the handshake): pass CONNECTED through.
    variables: { roomId: config.roomId, '@@controlEvents': true },
  })
  .subscribe({
    next: (message) => {
      if (message.extensions?.controlMsgType) {
        emit('connected', { control: message.extensions.controlMsgType });
        return;
      }
      received += 1;
      emit('data', { data: message.data });
      if (received >= config.count) {
        subscription.unsubscribe();
        emit('unsubscribed', { received });
        setTimeout(() => {
          emit('done', { received });
          finish(0);
        }, config.lingerMs ?? 15000);
      }
    },
    error: (error) => {
      emit('error', {
        stage: 'subscription',
        message: String(error?.message ?? error),
        errors: error?.graphQLErrors ?? error?.errors,
      });
      finish(1);
    },
  });
emit('subscribed');
