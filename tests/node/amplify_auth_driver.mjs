// aws-amplify v6 (6.15.5) Auth pointed at chatserver by `Auth.Cognito.userPoolEndpoint`.
//
// argv[2]: {"endpoint": "http://127.0.0.1:PORT/", "userPoolId": "local_chatserver", "clientId": "chatserver"}
// Commands on stdin, one reply line each (the driver protocol of ../node_cognito/common.mjs, shared with the
// amazon-cognito-identity-js and aws-amplify 4 drivers there).
// No shims: Node 20's fetch serves Amplify, and without `window.localStorage` Amplify 6 keeps tokens in memory.
import { Amplify } from 'aws-amplify';
import {
  confirmSignUp,
  fetchAuthSession,
  fetchUserAttributes,
  getCurrentUser,
  signIn,
  signOut,
  signUp,
} from 'aws-amplify/auth';

import { scenario, serveCommands } from '../node_cognito/common.mjs';

const config = scenario();

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.clientId,
      userPoolEndpoint: config.endpoint,
    },
  },
});

serveCommands({
  signUp: ({ username, password, attributes }) =>
    signUp({ username, password, options: { userAttributes: attributes } }),

  confirmSignUp: ({ username, code }) => confirmSignUp({ username, confirmationCode: code }),

  signIn: ({ username, password, authFlowType }) =>
    signIn({ username, password, options: authFlowType ? { authFlowType } : {} }),

  fetchAuthSession: async ({ forceRefresh = false }) => {
    const { tokens } = await fetchAuthSession({ forceRefresh });
    if (tokens === undefined) {
      return { signedIn: false };
    }
    return {
      signedIn: true,
      accessToken: tokens.accessToken.toString(),
      idToken: tokens.idToken?.toString() ?? null,
      accessTokenPayload: tokens.accessToken.payload,
    };
  },

  getCurrentUser: () => getCurrentUser(),

  fetchUserAttributes: () => fetchUserAttributes(),

  signOut: ({ options }) => signOut(options),
});
