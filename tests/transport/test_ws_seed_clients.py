"""Both seed apps' subscription documents, verbatim, over every protocol with gql's real transports."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from gql.transport.websockets import WebsocketsTransport

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("seeds")) / "data"
    with run_server(data, auto_confirm=True) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


def _transport(server: RunningServer, protocol: str, token: str) -> Any:
    if protocol == "appsync":
        auth = AppSyncJWTAuthentication(host=live.host_of(server), jwt=token)
        return AppSyncWebsocketsTransport(url=f"{server.ws_url}/graphql/realtime", auth=auth)
    subprotocols = (
        [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
        if protocol == "graphql-transport-ws"
        else [WebsocketsTransport.APOLLO_SUBPROTOCOL]
    )
    return WebsocketsTransport(
        url=f"{server.ws_url}/graphql",
        init_payload={"Authorization": token},
        subprotocols=subprotocols,
    )


@pytest.mark.parametrize("protocol", ["appsync", "graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("app", ["chat", "walkie-talkie", "walkie-talkie-apollo"])
async def test_ws_seed_clients_subscription_receives_the_mutation(
    server: RunningServer, tokens: dict[str, str], protocol: str, app: str
) -> None:
    access = tokens["accessToken"]
    room = await live.create_room(server, access, f"{app}-{protocol}")
    if app == "chat":
        token, document, variables = access, seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}
    else:
        token = tokens["idToken"]
        document = (
            seed.ON_CREATE_AUDIO_SEGMENT if app == "walkie-talkie" else seed.ON_CREATE_AUDIO_SEGMENT_APOLLO
        )
        variables = {"roomId": room}
    async with Client(transport=_transport(server, protocol, token)) as session:
        received: list[dict] = []

        async def listen() -> None:
            async for result in session.subscribe(gql(document), variable_values=variables):
                received.append(result)
                return

        before = live.services(server).realtime.metrics.subscriptions
        listener = asyncio.create_task(listen())
        await live.wait_for_subscriptions(server, before + 1)
        if app == "chat":
            result = await live.graphql(
                server,
                token,
                seed.CREATE_MESSAGE,
                {"input": {"roomId": room, "content": {"text": "hello"}}},
            )
            expected = {"onCreateMessageByRoomId": result["data"]["createMessage"]}
        else:
            result = await live.graphql(
                server,
                token,
                seed.CREATE_AUDIO_SEGMENT,
                {"roomId": room, "data": "data:audio/wav;base64,UklGRiQAAABXQVZF"},
            )
            segment = dict(result["data"]["createAudioSegment"])
            if app == "walkie-talkie-apollo":
                segment["__typename"] = "AudioSegment"
            expected = {"onCreateAudioSegment": segment}
        await asyncio.wait_for(listener, 15)
    assert received == [expected]
