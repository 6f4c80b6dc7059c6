// The rooms list: load, create, and follow new rooms live; choosing one opens it (room.js).
import { field, h } from "./dom.js";
import * as ops from "./operations.js";
import { openRoom } from "./room.js";
import { failed, state, submit } from "./state.js";

const app = document.getElementById("app");

function choose(room) {
  openRoom(room); // sets state.room at once, then loads
  renderRooms();
}

export function showChat() {
  app.replaceChildren(
    h(
      "div",
      { class: "chat" },
      h(
        "aside",
        { class: "rooms" },
        h("h2", {}, "Rooms"),
        h(
          "form",
          { class: "create-room", onsubmit: (e) => submit(e, createRoom) },
          field("Room name", { name: "name", maxlength: 100, autocomplete: "off" }),
          h("button", { type: "submit" }, "Create room"),
        ),
        h("ul", { id: "room-list", "aria-label": "Rooms" }),
      ),
      h("section", { id: "room", class: "room" }, h("p", { class: "empty" }, "Pick a room, or create one.")),
    ),
  );
  renderRooms();
}

export async function loadRooms() {
  try {
    const data = await state.api.graphql(ops.LIST_ROOMS, { limit: 100 });
    for (const room of data.listRooms.items) addRoom(room, false);
    renderRooms();
    const wanted = decodeURIComponent(window.location.hash.replace(/^#\/rooms\//, ""));
    const room = state.rooms.find((r) => r.id === wanted);
    if (room) choose(room);
  } catch (error) {
    failed(error);
  }
}

export function addRoom(room, render = true) {
  if (!room || state.rooms.some((r) => r.id === room.id)) return;
  state.rooms.push(room);
  state.rooms.sort((a, b) => a.name.localeCompare(b.name));
  if (render) renderRooms();
}

async function createRoom(values) {
  const room = (await state.api.graphql(ops.CREATE_ROOM, { input: { name: values.name } })).createRoom;
  document.querySelector(".create-room")?.reset();
  addRoom(room);
  choose(room);
}

function renderRooms() {
  const list = document.getElementById("room-list");
  if (!list) return;
  list.replaceChildren(
    ...state.rooms.map((room) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "room-button", "aria-current": state.room?.id === room.id ? "true" : null, onclick: () => choose(room) },
          room.name,
        ),
      ),
    ),
  );
  if (!state.rooms.length) list.append(h("li", { class: "empty" }, "No rooms yet."));
}
