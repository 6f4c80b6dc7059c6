// Shared by the Cognito client drivers here and in tests/node (same pattern as tests/node/common.mjs).
//
// A driver script wraps one real client library. It prints {"event":"ready"} once, then reads one JSON command per
// line on stdin ({"op": "signIn", "args": {...}}), runs it with the library, and prints one reply per command:
//   {"event":"reply","op":...,"ok":true,"value":...,"calls":[...]}
//   {"event":"reply","op":...,"ok":false,"error":{"name","message"},"calls":[...]}
// `calls` lists the Cognito operations the library sent for that command (X-Amz-Target and AuthFlow), read by
// wrapping the global fetch, so a test can tell e.g. an SRP sign-in from a USER_PASSWORD_AUTH one.
// A driver exits when stdin closes, on {"op":"quit"}, or with {"event":"timeout"} after TIME_LIMIT_MS.
import { createInterface } from 'node:readline';

export const TIME_LIMIT_MS = Number(process.env.NODE_CLIENT_TIME_LIMIT_MS ?? 120000);

export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

/** The driver's configuration: a JSON object in argv[2] (endpoint, userPoolId, clientId, graphqlEndpoint). */
export function scenario() {
  return JSON.parse(process.argv[2] ?? '{}');
}

/** Exit with `code` once stdout is flushed. */
export function finish(code = 0) {
  process.stdout.write('', () => process.exit(code));
}

export function startTimeLimit() {
  const timer = setTimeout(() => {
    emit('timeout', { afterMs: TIME_LIMIT_MS });
    finish(2);
  }, TIME_LIMIT_MS);
  timer.unref();
}

process.on('unhandledRejection', (reason) => {
  emit('crash', { message: String(reason?.stack ?? reason) });
  finish(3);
});

let calls = [];

/** Record each Cognito request the library makes (observation only: the request goes out unchanged). */
function recordCognitoCalls() {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const target = headers.get('x-amz-target');
    if (target?.startsWith('AWSCognitoIdentityProviderService.')) {
      let authFlow;
      try {
        authFlow = JSON.parse(typeof init.body === 'string' ? init.body : '{}').AuthFlow;
      } catch {
        authFlow = undefined;
      }
      calls.push({ operation: target.split('.').pop(), ...(authFlow ? { authFlow } : {}) });
    }
    return realFetch(input, init);
  };
}

/** The client's error as a user sees it: Cognito's error name (`code` in the v4/v5 SDKs, `name` in v6). */
export function errorOf(error) {
  return {
    name: String(error?.code ?? error?.name ?? 'Error'),
    message: String(error?.message ?? error),
  };
}

/** Turn a Node-style callback API into a promise: `callback(resolve, reject)` gets both ends. */
export function promised(start) {
  return new Promise((resolve, reject) => start(resolve, reject));
}

/** Serve `operations` ({name: async (args) => value}) one stdin command at a time, as described above. */
export function serveCommands(operations) {
  recordCognitoCalls();
  startTimeLimit();
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(() => runCommand(operations, line));
  });
  lines.on('close', () => {
    queue.then(() => finish(0));
  });
  emit('ready');
}

async function runCommand(operations, line) {
  const { op, args = {} } = JSON.parse(line);
  if (op === 'quit') {
    emit('done');
    finish(0);
    return;
  }
  calls = [];
  const operation = operations[op];
  try {
    if (operation === undefined) {
      throw Object.assign(new Error(`the driver has no operation ${op}`), { name: 'DriverError' });
    }
    const value = await operation(args);
    emit('reply', { op, ok: true, value: value ?? null, calls });
  } catch (error) {
    emit('reply', { op, ok: false, error: errorOf(error), calls });
  }
}
