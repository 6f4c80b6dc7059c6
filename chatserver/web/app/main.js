// The demo app: accounts, rooms, messages (text, images, edits) and push-to-talk, on the public API only.
import { Api, signOut, storedSession } from "./api.js";
import { onSignedIn, showAuth } from "./accounts.js";
import { h } from "./dom.js";
import * as ops from "./operations.js";
import { RealtimeClient } from "./realtime.js";
import { closeRoom } from "./room.js";
import { addRoom, loadRooms, showChat } from "./rooms.js";
import { failed, say, state } from "./state.js";

const account = document.getElementById("account");

function start(session) {
  state.session = session;
  state.api = new Api(session, () => leave("Your session has ended: sign in again."));
  state.realtime = new RealtimeClient(
    () => state.api.session.accessToken,
    (link) => showLink(link),
    async () => (await state.api.refresh()) || (leave("Your session has ended (signed out elsewhere?): sign in again."), false),
  );
  account.replaceChildren(
    h("span", { id: "link", class: "link-state", title: "real-time link" }),
    h("span", { class: "who" }, session.username),
    h("button", { type: "button", onclick: () => leave("Signed out.", true) }, "Sign out"),
  );
  showLink("offline");
  showChat();
  state.realtime.subscribe(ops.ON_CREATE_ROOM, {}, (data) => addRoom(data.onCreateRoom));
  loadRooms();
}

async function leave(message, revoke = false) {
  const session = state.session;
  closeRoom();
  state.realtime?.close();
  Object.assign(state, { session: null, api: null, realtime: null, rooms: [] });
  account.replaceChildren();
  showAuth("sign-in");
  try {
    if (revoke && session) await signOut(session);
    say(message);
  } catch (error) {
    failed(error);
  }
}

function showLink(link) {
  const badge = document.getElementById("link");
  if (!badge) return;
  badge.textContent = link === "live" ? "live" : link;
  badge.className = `link-state ${link}`;
}

// Browsers let a page make sound only after a gesture: any click or key unlocks playback of received clips.
for (const gesture of ["pointerdown", "keydown"]) document.addEventListener(gesture, () => state.player.unlock(), true);

const saved = storedSession();
onSignedIn(start);
if (saved) start(saved);
else showAuth("sign-in");
