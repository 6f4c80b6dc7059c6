// One open room: messages newest first with live new and edited ones, text and images, edits, and the voice panel.
import { sameOrigin } from "./api.js";
import { clock, field, h } from "./dom.js";
import * as ops from "./operations.js";
import { failed, say, state, submit } from "./state.js";
import { heard, renderClips, stopTalking, talkButton } from "./talk.js";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

export function closeRoom() {
  state.roomSubscriptions.forEach((stop) => stop());
  stopTalking();
  Object.assign(state, { room: null, roomSubscriptions: [], messages: new Map(), editing: null, attachment: null, clips: [], recorder: null });
}

export async function openRoom(room) {
  state.player.unlock(); // opening a room is a click: from now on received clips may play
  if (state.room?.id === room.id) return;
  closeRoom();
  state.room = room;
  window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  renderRoom();
  const roomId = room.id;
  const mine = (data) => data && data.roomId === roomId;
  const started = new Set();
  const live = (name) => ({
    started: () => started.add(name) && started.size === 3 && state.room?.id === roomId && showRoomLive("live"),
    error: (message) => failed(new Error(`${name}: ${message}`)),
  });
  state.roomSubscriptions = [
    state.realtime.subscribe(ops.ON_CREATE_MESSAGE, { roomId }, (d) => mine(d.onCreateMessageByRoomId) && received(d.onCreateMessageByRoomId), live("messages")),
    state.realtime.subscribe(ops.ON_UPDATE_MESSAGE, { roomId }, (d) => mine(d.onUpdateMessage) && received(d.onUpdateMessage), live("edits")),
    state.realtime.subscribe(ops.ON_CREATE_AUDIO_SEGMENT, { roomId }, (d) => mine(d.onCreateAudioSegment) && heard(d.onCreateAudioSegment), live("voice")),
  ];
  try {
    const data = await state.api.graphql(ops.LIST_MESSAGES, { roomId, sortDirection: "DESC", limit: 100 });
    if (state.room?.id !== roomId) return;
    for (const message of data.listMessagesForRoom.items) if (!state.messages.has(message.id)) state.messages.set(message.id, message);
    renderMessages();
  } catch (error) {
    failed(error);
  }
}

async function received(message) {
  // A sender that did not select imageUrl (the chat seed does not) leaves it null: read the message for it.
  if (message.content.imageId && !message.content.imageUrl) {
    try {
      message = (await state.api.graphql(ops.GET_MESSAGE, { id: message.id })).getMessage || message;
    } catch (error) {
      failed(error);
    }
  }
  if (state.room?.id !== message.roomId) return;
  state.messages.set(message.id, message);
  renderMessages();
}

function renderRoom() {
  const section = document.getElementById("room");
  const fileInput = h("input", { type: "file", accept: IMAGE_TYPES.join(","), hidden: true, id: "image-file", onchange: (e) => attach(e.target.files[0]) });
  const talk = talkButton();
  section.replaceChildren(
    h("div", { class: "room-head" }, h("h2", {}, state.room.name), h("span", { id: "room-live", class: "room-live", role: "status" }, "connecting…")),
    h(
      "form",
      { class: "composer", onsubmit: (e) => submit(e, send) },
      field("Message", { name: "text", autocomplete: "off", required: false, maxlength: 4096 }),
      fileInput,
      h("button", { type: "button", onclick: () => fileInput.click() }, "Attach image"),
      h("button", { type: "submit", class: "primary" }, "Send"),
    ),
    h("p", { id: "attachment", class: "attachment" }),
    h(
      "div",
      { class: "voice" },
      talk,
      h("span", { id: "talk-status", class: "talk-status", role: "status", "data-clips-sent": "0" }, window.isSecureContext ? "Hold to talk." : "Push to talk needs https or localhost."),
    ),
    h("ol", { id: "messages", class: "messages", "aria-label": "Messages" }),
    h("h3", {}, "Received clips"),
    h("p", { id: "no-clips", class: "empty" }, "Nothing heard yet. Clips from others play as they arrive."),
    h("ul", { id: "clips", class: "clips", "aria-label": "Received clips" }),
  );
  renderMessages();
  renderClips();
}

function showRoomLive(text) {
  const badge = document.getElementById("room-live");
  if (badge) {
    badge.textContent = text;
    badge.classList.toggle("on", text === "live");
  }
}

function attach(file) {
  const label = document.getElementById("attachment");
  if (file && !IMAGE_TYPES.includes(file.type)) {
    say(`${file.name}: only PNG, JPEG, GIF and WebP images can be sent.`, true);
    file = null;
  }
  state.attachment = file || null;
  label.replaceChildren();
  if (file) {
    label.append(
      `Attached: ${file.name} (${Math.ceil(file.size / 1024)} KB) `,
      h("button", { type: "button", class: "link", onclick: () => attach(null) }, "Remove"),
    );
  }
}

async function send(values) {
  const text = values.text.trim();
  if (!text && !state.attachment) return say("Write a message or attach an image.", true);
  const content = {};
  if (text) content.text = text;
  if (state.attachment) content.imageId = await state.api.uploadImage(state.attachment, ops.CREATE_UPLOAD_URL);
  const input = { roomId: state.room.id, content };
  const message = (await state.api.graphql(ops.CREATE_MESSAGE, { input })).createMessage;
  state.messages.set(message.id, message);
  document.querySelector(".composer").reset();
  attach(null);
  renderMessages();
}

function renderMessages() {
  const list = document.getElementById("messages");
  if (!list) return;
  const newestFirst = [...state.messages.values()].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
  );
  list.replaceChildren(...newestFirst.map(renderMessage));
  if (!newestFirst.length) list.append(h("li", { class: "empty" }, "No messages yet: say hello."));
  const editor = list.querySelector("input[name='edit']");
  if (editor) editor.focus();
}

function renderMessage(message) {
  const own = message.owner === state.session.username;
  const editing = state.editing?.id === message.id;
  const { text, imageUrl } = message.content;
  const body = editing
    ? h(
        "form",
        { class: "edit", onsubmit: (e) => submit(e, (v) => saveEdit(message, v.edit)) },
        field("Edit message", { name: "edit", value: state.editing.draft, oninput: (e) => (state.editing.draft = e.target.value) }),
        h("button", { type: "submit", class: "primary" }, "Save"),
        h("button", { type: "button", onclick: () => ((state.editing = null), renderMessages()) }, "Cancel"),
      )
    : text
      ? h("p", { class: "text" }, text)
      : null;
  return h(
    "li",
    { class: own ? "message own" : "message", "data-id": message.id },
    h(
      "div",
      { class: "meta" },
      h("strong", {}, message.owner),
      h("time", { datetime: message.createdAt }, clock(message.createdAt)),
      message.updatedAt !== message.createdAt ? h("span", { class: "edited" }, "edited") : null,
      own && !editing
        ? h("button", { type: "button", class: "link", "aria-label": "Edit message", onclick: () => ((state.editing = { id: message.id, draft: text || "" }), renderMessages()) }, "Edit")
        : null,
    ),
    body,
    imageUrl ? h("img", { src: sameOrigin(imageUrl), alt: `Image from ${message.owner}`, loading: "lazy" }) : null,
  );
}

async function saveEdit(message, text) {
  const content = { text };
  if (message.content.imageId) content.imageId = message.content.imageId; // keep the picture
  const input = { id: message.id, roomId: message.roomId, content };
  const updated = (await state.api.graphql(ops.UPDATE_MESSAGE, { input })).updateMessage;
  state.editing = null;
  state.messages.set(updated.id, updated);
  renderMessages();
}
