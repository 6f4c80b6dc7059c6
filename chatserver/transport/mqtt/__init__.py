"""AppSync's legacy subscriptions (aws-appsync 1.x): an HTTP handshake hands out MQTT-over-WebSocket URLs.

- `packets`: MQTT 3.1 / 3.1.1 packets as data; `codec`: their pure encode/decode functions and stream reader.
- `grants`: the signed, short-lived `/mqtt?token=...` URL and the topics it may subscribe to.
- `handshake`: a subscription POSTed to /graphql, answered with `extensions.subscription`.
- `session`: the MQTT protocol over the shared WebSocket session (one engine, one fan-out path).
- `endpoint`: the `/mqtt` WebSocket route.
"""
