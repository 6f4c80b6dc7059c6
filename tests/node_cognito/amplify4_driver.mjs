// aws-amplify 4.3.27 (the chat seed's exact version): Auth pointed at chatserver by `Auth.configure({endpoint})`,
// and the seed's GraphQL calls made by Amplify's own API category with the signed-in user's access token.
//
// argv[2]: {"endpoint": "http://127.0.0.1:PORT/", "userPoolId": ..., "clientId": ..., "region": "local",
//           "graphqlEndpoint": "http://127.0.0.1:PORT/graphql"}
// Commands on stdin (see common.mjs). `subscribe` replies once the server acknowledged the subscription (Amplify's
// "Subscription ack" hub event, i.e. start_ack); each message then arrives as a {"event":"data"} line.
//
// One shim: Node 20 has no global WebSocket and Amplify's real-time provider uses the global one, as in a browser.
// Storage needs none: without `window.localStorage` Amplify 4 keeps its tokens in its in-memory storage.
import WebSocket from 'ws';

import { Amplify, API, Auth, Hub } from 'aws-amplify';

import { emit, scenario, serveCommands } from './common.mjs';

globalThis.WebSocket = WebSocket;

const config = scenario();

Auth.configure({
  region: config.region,
  userPoolId: config.userPoolId,
  userPoolWebClientId: config.clientId,
  endpoint: config.endpoint,
});
// The API settings as the seed's aws-exports passes them: through Amplify.configure, which also hands them to the
// real-time provider (API.configure alone does not).
Amplify.configure({
  aws_appsync_graphqlEndpoint: config.graphqlEndpoint,
  aws_appsync_region: config.region,
  aws_appsync_authenticationType: 'AMAZON_COGNITO_USER_POOLS',
  // Amplify 4 dials wss:// unless told the endpoint is plain HTTP (a loopback test server).
  aws_appsync_dangerously_connect_to_http_endpoint_for_testing: true,
});

let acknowledged = () => {};
Hub.listen('api', ({ payload }) => {
  if (payload.event === 'Subscription ack') {
    acknowledged();
  }
});

function tokensOf(session) {
  return {
    accessToken: session.getAccessToken().getJwtToken(),
    idToken: session.getIdToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
    idTokenPayload: session.getIdToken().decodePayload(),
  };
}

const subscriptions = [];

serveCommands({
  signUp: async ({ username, password, attributes }) => {
    const result = await Auth.signUp({ username, password, attributes });
    return {
      userSub: result.userSub,
      userConfirmed: result.userConfirmed,
      codeDeliveryDetails: result.codeDeliveryDetails,
    };
  },

  confirmSignUp: ({ username, code }) => Auth.confirmSignUp(username, code),

  signIn: async ({ username, password }) => {
    const user = await Auth.signIn(username, password);
    return { username: user.getUsername(), challengeName: user.challengeName ?? null, attributes: user.attributes };
  },

  currentSession: async () => tokensOf(await Auth.currentSession()),

  currentAuthenticatedUser: async () => {
    const user = await Auth.currentAuthenticatedUser({ bypassCache: true });
    return { username: user.getUsername(), attributes: user.attributes };
  },

  graphql: async ({ query, variables }) => {
    try {
      return await API.graphql({ query, variables, authMode: 'AMAZON_COGNITO_USER_POOLS' });
    } catch (failure) {
      // API.graphql rejects with the GraphQL response ({data, errors}) or with an Error: report either.
      if (failure?.errors) {
        throw Object.assign(new Error(JSON.stringify(failure.errors)), { name: 'GraphQLErrors' });
      }
      throw failure;
    }
  },

  subscribe: ({ query, variables }) =>
    new Promise((resolve, reject) => {
      acknowledged = () => resolve({ acknowledged: true });
      const observable = API.graphql({ query, variables, authMode: 'AMAZON_COGNITO_USER_POOLS' });
      subscriptions.push(
        observable.subscribe({
          next: ({ value }) => emit('data', { payload: { data: value.data, errors: value.errors ?? null } }),
          error: (failure) => {
            const errors = failure?.error?.errors ?? failure?.errors ?? null;
            emit('subscription-error', { errors, message: String(failure?.message ?? JSON.stringify(errors)) });
            reject(Object.assign(new Error(JSON.stringify(errors)), { name: 'SubscriptionError' }));
          },
        }),
      );
    }),

  unsubscribe: () => {
    for (const subscription of subscriptions.splice(0)) {
      subscription.unsubscribe();
    }
  },

  signOut: ({ options }) => Auth.signOut(options),
});
