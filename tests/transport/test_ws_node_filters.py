"""aws-amplify v6 with a codegen-style subscription and `filter` variables (tests/node/amplify_filtered_subscribe.mjs),
over wss:// on /graphql/realtime: only matching messages arrive, and a filter over AppSync's limits is refused."""

from __future__ import annotations

from typing import Any

from tests.helpers import CREATE_MESSAGE, CREATE_ROOM
from tests.node_clients import NodeScript, StartNode
from tests.transport.test_ws_node_clients import TlsWorld, _graphql, node_clients, run_node, tls

__all__ = ["node_clients", "run_node", "tls"]  # the fixtures, shared with the other Node client tests

SCRIPT = "amplify_filtered_subscribe.mjs"


def _start(world: TlsWorld, run_node: StartNode, variables: dict[str, Any], count: int) -> NodeScript:
    config = {"endpoint": f"{world.server.url}/graphql", "variables": variables, "count": count}
    return run_node(SCRIPT, config, world.access_token, NODE_EXTRA_CA_CERTS=str(world.certificate))


def test_ws_node_amplify_v6_filtered_subscription_gets_only_matches(
    tls: TlsWorld, run_node: StartNode
) -> None:
    room_id = _graphql(tls, tls.access_token, CREATE_ROOM, {"input": {"name": "amplify filters"}})[
        "createRoom"
    ]["id"]
    mentions = {
        "content": {"text": {"contains": "@amplify"}},
        "owner": {"ne": "nobody"},
        "or": [{"createdAt": {"beginsWith": "20"}}, {"updatedAt": {"beginsWith": "20"}}],
    }
    client = _start(tls, run_node, {"roomId": room_id, "filter": mentions}, count=2)
    client.expect("ready")

    def send(text: str) -> dict[str, Any]:
        variables = {"input": {"content": {"text": text}, "roomId": room_id}}
        return _graphql(tls, tls.access_token, CREATE_MESSAGE, variables)["createMessage"]

    send("no mention here")
    first = send("hi @amplify")
    send("still nothing")
    second = send("bye @amplify")

    got = [client.expect("data")["message"], client.expect("data")["message"]]
    assert [m["id"] for m in got] == [first["id"], second["id"]]
    assert got[0]["content"]["text"] == "hi @amplify" and got[0]["__typename"] == "Message"
    client.expect("done")
    assert client.wait() == 0


def test_ws_node_amplify_v6_filter_over_the_limit_is_refused(tls: TlsWorld, run_node: StartNode) -> None:
    too_many = {"owner": {"in": ["a", "b", "c", "d", "e", "f"]}}
    client = _start(tls, run_node, {"filter": too_many}, count=1)
    error = client.expect("error")
    assert "at most 5 values" in str(error), error
    assert not any(line["event"] in {"ready", "data"} for line in client.seen)
