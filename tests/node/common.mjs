// Shared by the scenario scripts: arguments, JSON-line output, a hard time limit.
//
// Every script prints one JSON object per line on stdout ({"event": ...}) and exits by itself: after its scenario
// completes, or with {"event":"timeout"} after TIME_LIMIT_MS.

export const TIME_LIMIT_MS = Number(process.env.NODE_CLIENT_TIME_LIMIT_MS ?? 30000);

export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

/** The scenario's configuration: a JSON object in argv[2] (url, query, variables, count) plus TOKEN from env. */
export function scenario() {
  const config = JSON.parse(process.argv[2] ?? '{}');
  config.token = process.env.CHATSERVER_TOKEN ?? config.token ?? '';
  config.count = config.count ?? 1;
  return config;
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
