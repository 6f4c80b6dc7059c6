// amazon-cognito-identity-js (6.x) pointed at chatserver by `new CognitoUserPool({UserPoolId, ClientId, endpoint})`.
//
// argv[2]: {"endpoint": "http://127.0.0.1:PORT/", "userPoolId": "local_chatserver", "clientId": "chatserver"}
// Commands on stdin (see common.mjs); each op is one call of the library's public API, as an app would make it.
// No shims: Node 20's global fetch serves the SDK, and without `window.localStorage` the SDK keeps its session in
// its own in-memory storage.
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from 'amazon-cognito-identity-js';

import { promised, scenario, serveCommands } from './common.mjs';

const config = scenario();
const pool = new CognitoUserPool({
  UserPoolId: config.userPoolId,
  ClientId: config.clientId,
  endpoint: config.endpoint,
});

let signedIn = null; // the CognitoUser of the last successful authenticateUser

function userOf(username) {
  return new CognitoUser({ Username: username, Pool: pool });
}

function tokensOf(session) {
  return {
    accessToken: session.getAccessToken().getJwtToken(),
    idToken: session.getIdToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
    idTokenPayload: session.getIdToken().decodePayload(),
    valid: session.isValid(),
  };
}

/** Node-style callback (err, result) to a promise. */
function settle(resolve, reject) {
  return (error, result) => (error ? reject(error) : resolve(result));
}

function signedInUser() {
  if (signedIn === null) {
    throw Object.assign(new Error('no signed-in user in the driver'), { name: 'DriverError' });
  }
  return signedIn;
}

serveCommands({
  signUp: ({ username, password, attributes }) =>
    promised((resolve, reject) => {
      const list = Object.entries(attributes).map(
        ([Name, Value]) => new CognitoUserAttribute({ Name, Value }),
      );
      pool.signUp(username, password, list, null, (error, result) =>
        error
          ? reject(error)
          : resolve({
              userSub: result.userSub,
              userConfirmed: result.userConfirmed,
              codeDeliveryDetails: result.codeDeliveryDetails,
              username: result.user.getUsername(),
            }),
      );
    }),

  confirmRegistration: ({ username, code }) =>
    promised((resolve, reject) => userOf(username).confirmRegistration(code, true, settle(resolve, reject))),

  authenticateUser: ({ username, password, authFlow }) =>
    promised((resolve, reject) => {
      const user = userOf(username);
      if (authFlow) {
        user.setAuthenticationFlowType(authFlow);
      }
      const details = new AuthenticationDetails({ Username: username, Password: password });
      user.authenticateUser(details, {
        onSuccess: (session) => {
          signedIn = user;
          resolve({ username: user.getUsername(), ...tokensOf(session) });
        },
        onFailure: reject,
        newPasswordRequired: () => reject(Object.assign(new Error('NEW_PASSWORD_REQUIRED'), { name: 'Challenge' })),
      });
    }),

  refreshSession: () =>
    promised((resolve, reject) => {
      const user = signedInUser();
      user.refreshSession(user.getSignInUserSession().getRefreshToken(), (error, session) =>
        error ? reject(error) : resolve(tokensOf(session)),
      );
    }),

  getUserAttributes: () =>
    promised((resolve, reject) =>
      signedInUser().getUserAttributes((error, attributes) =>
        error ? reject(error) : resolve(attributes.map((a) => ({ Name: a.getName(), Value: a.getValue() }))),
      ),
    ),

  changePassword: ({ oldPassword, newPassword }) =>
    promised((resolve, reject) => signedInUser().changePassword(oldPassword, newPassword, settle(resolve, reject))),

  forgotPassword: ({ username }) =>
    promised((resolve, reject) =>
      userOf(username).forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }),
    ),

  confirmPassword: ({ username, code, newPassword }) =>
    promised((resolve, reject) =>
      userOf(username).confirmPassword(code, newPassword, { onSuccess: resolve, onFailure: reject }),
    ),

  globalSignOut: () =>
    promised((resolve, reject) => signedInUser().globalSignOut({ onSuccess: resolve, onFailure: reject })),
});
