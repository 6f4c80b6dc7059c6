// The demo app: accounts, rooms, messages (text, images, edits) and push-to-talk, on the public API only.
import { Api, ApiError, auth, sameOrigin, signIn, signOut, storedSession } from "./api.js";
import { ClipPlayer, CLIP_MS, Recorder } from "./audio.js";
import { clock, field, h } from "./dom.js";
import { fromDataUrl } from "./wav.js";
import * as ops from "./operations.js";
import { RealtimeClient } from "./realtime.js";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const KEPT_CLIPS = 20;

const app = document.getElementById("app");
const account = document.getElementById("account");
const notice = document.getElementById("notice");

const state = {
  session: null,
  api: null,
  realtime: null,
  rooms: [],
  room: null, // {id, name, ...}
  roomSubscriptions: [],
  messages: new Map(), // id -> message
  editing: null, // {id, draft}
  attachment: null, // File
  clips: [], // received: {from, at, url}
  clipsSent: 0,
  recorder: null,
  player: new ClipPlayer(),
  link: "offline",
};

function say(text, isError = false) {
  notice.textContent = text;
  notice.classList.toggle("error", isError);
}

function failed(error) {
  say(error instanceof ApiError ? `${error.message} (${error.type})` : String(error.message || error), true);
}

// --- accounts ---------------------------------------------------------------------------------------------

function showAuth(mode, pending = {}) {
  account.replaceChildren();
  const forms = {
    "sign-in": () =>
      h(
        "form",
        { class: "card", "aria-label": "Sign in", onsubmit: (e) => submit(e, (v) => enter(v.username, v.password)) },
        h("h1", {}, "Sign in"),
        field("Username", { name: "username", autocomplete: "username", value: pending.username || "" }),
        field("Password", { name: "password", type: "password", autocomplete: "current-password" }),
        h("button", { type: "submit", class: "primary" }, "Sign in"),
        h("p", { class: "switch" }, "New here? ", h("button", { type: "button", class: "link", onclick: () => showAuth("sign-up") }, "Create an account")),
      ),
    "sign-up": () =>
      h(
        "form",
        { class: "card", "aria-label": "Sign up", onsubmit: (e) => submit(e, createAccount) },
        h("h1", {}, "Create an account"),
        field("Username", { name: "username", autocomplete: "username" }),
        field("Password", { name: "password", type: "password", autocomplete: "new-password" }),
        h("p", { class: "hint" }, "At least 8 characters with upper and lower case, a digit and a symbol."),
        field("Email", { name: "email", type: "email", autocomplete: "email" }),
        field("Given name", { name: "givenName", autocomplete: "given-name" }),
        field("Family name", { name: "familyName", autocomplete: "family-name" }),
        h("button", { type: "submit", class: "primary" }, "Sign up"),
        h("p", { class: "switch" }, "Have an account? ", h("button", { type: "button", class: "link", onclick: () => showAuth("sign-in") }, "Sign in instead")),
      ),
    confirm: () =>
      h(
        "form",
        { class: "card", "aria-label": "Confirm", onsubmit: (e) => submit(e, (v) => confirmAccount(pending, v.code)) },
        h("h1", {}, "Confirm your account"),
        h("p", { class: "hint" }, `A code for ${pending.username} was sent (by default it is written to the server log).`),
        field("Code", { name: "code", inputmode: "numeric", autocomplete: "one-time-code" }),
        h("button", { type: "submit", class: "primary" }, "Confirm"),
        h("p", { class: "switch" }, "No code? ", h("button", { type: "button", class: "link", onclick: () => resendCode(pending.username) }, "Send a new code")),
      ),
  };
  app.replaceChildren(h("section", { class: "auth" }, forms[mode]()));
  app.querySelector("input:not([value]), input[value='']")?.focus();
}

async function submit(event, action) {
  event.preventDefault();
  const form = event.currentTarget;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action(Object.fromEntries(new FormData(form)));
  } catch (error) {
    failed(error);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function createAccount(values) {
  const created = await auth("signup", values);
  const pending = { username: values.username, password: values.password };
  if (created.userConfirmed) return enter(pending.username, pending.password); // auto-confirmed: no code asked
  say(`Account created. Enter the confirmation code for ${values.username}.`);
  showAuth("confirm", pending);
}

async function confirmAccount(pending, code) {
  await auth("confirm-signup", { username: pending.username, code });
  await enter(pending.username, pending.password);
}

async function resendCode(username) {
  try {
    await auth("resend-code", { username });
    say(`A new code for ${username} was sent.`);
  } catch (error) {
    failed(error);
  }
}

async function enter(username, password) {
  start(await signIn(username, password));
  say(`Signed in as ${username}.`);
}

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
  state.link = link;
  const badge = document.getElementById("link");
  if (!badge) return;
  badge.textContent = link === "live" ? "live" : link;
  badge.className = `link-state ${link}`;
}

// --- rooms ------------------------------------------------------------------------------------------------

function showChat() {
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

async function loadRooms() {
  try {
    const data = await state.api.graphql(ops.LIST_ROOMS, { limit: 100 });
    for (const room of data.listRooms.items) addRoom(room, false);
    renderRooms();
    const wanted = decodeURIComponent(window.location.hash.replace(/^#\/rooms\//, ""));
    const room = state.rooms.find((r) => r.id === wanted);
    if (room) openRoom(room);
  } catch (error) {
    failed(error);
  }
}

function addRoom(room, render = true) {
  if (!room || state.rooms.some((r) => r.id === room.id)) return;
  state.rooms.push(room);
  state.rooms.sort((a, b) => a.name.localeCompare(b.name));
  if (render) renderRooms();
}

async function createRoom(values) {
  const room = (await state.api.graphql(ops.CREATE_ROOM, { input: { name: values.name } })).createRoom;
  document.querySelector(".create-room")?.reset();
  addRoom(room);
  openRoom(room);
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
          { type: "button", class: "room-button", "aria-current": state.room?.id === room.id ? "true" : null, onclick: () => openRoom(room) },
          room.name,
        ),
      ),
    ),
  );
  if (!state.rooms.length) list.append(h("li", { class: "empty" }, "No rooms yet."));
}

// --- one room ---------------------------------------------------------------------------------------------

function closeRoom() {
  state.roomSubscriptions.forEach((stop) => stop());
  state.recorder?.stop();
  Object.assign(state, { room: null, roomSubscriptions: [], messages: new Map(), editing: null, attachment: null, clips: [], recorder: null });
}

async function openRoom(room) {
  state.player.unlock(); // opening a room is a click: from now on received clips may play
  if (state.room?.id === room.id) return;
  closeRoom();
  state.room = room;
  window.location.hash = `#/rooms/${encodeURIComponent(room.id)}`;
  renderRooms();
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
  const talk = h(
    "button",
    { type: "button", id: "talk", class: "talk", "aria-pressed": "false", title: "Hold to talk (mouse, touch, Space or Enter)" },
    "Push to talk",
  );
  talk.addEventListener("pointerdown", (e) => {
    talk.setPointerCapture(e.pointerId);
    startTalking();
  });
  for (const name of ["pointerup", "pointercancel"]) talk.addEventListener(name, () => stopTalking());
  talk.addEventListener("keydown", (e) => {
    if ((e.key === " " || e.key === "Enter") && !e.repeat) {
      e.preventDefault();
      startTalking();
    }
  });
  talk.addEventListener("keyup", (e) => (e.key === " " || e.key === "Enter") && stopTalking());
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

// --- push-to-talk -----------------------------------------------------------------------------------------

let sending = Promise.resolve(); // clips go one after another, so they arrive in the order they were recorded

function startTalking() {
  if (state.recorder || !state.room) return;
  const roomId = state.room.id;
  state.clipsSent = 0;
  state.recorder = new Recorder((data) => {
    sending = sending
      .then(() => state.api.graphql(ops.CREATE_AUDIO_SEGMENT, { roomId, data }))
      .then(() => talkStatus(`${++state.clipsSent} clips sent`))
      .catch(failed);
  });
  document.getElementById("talk")?.setAttribute("aria-pressed", "true");
  talkStatus("Talking…");
  state.recorder.start().catch((error) => {
    failed(new Error(`Microphone: ${error.message}`));
    stopTalking();
  });
}

async function stopTalking() {
  const recorder = state.recorder;
  if (!recorder) return;
  state.recorder = null;
  document.getElementById("talk")?.setAttribute("aria-pressed", "false");
  await recorder.stop().catch(failed);
}

function talkStatus(text) {
  const status = document.getElementById("talk-status");
  if (!status) return;
  status.textContent = state.recorder ? `Talking… ${text}` : text;
  status.dataset.clipsSent = String(state.clipsSent);
}

function heard(segment) {
  if (segment.userId === state.session.sub) return; // our own voice: not played back
  state.player.enqueue(segment.data);
  const clip = { from: "someone", at: Number(segment.timestamp), url: segment.data, ms: wavMillis(segment.data) };
  state.clips.unshift(clip);
  state.clips.length = Math.min(state.clips.length, KEPT_CLIPS);
  renderClips();
  talkerName(segment.userId).then((name) => {
    clip.from = name;
    renderClips();
  });
}

const talkers = new Map(); // user id (sub) -> Promise of the username

function talkerName(userId) {
  if (!talkers.has(userId)) {
    const lookup = state.api
      .graphql(ops.GET_USER, { id: userId })
      .then((data) => data.getUser?.username || "someone")
      .catch(() => "someone");
    talkers.set(userId, lookup);
  }
  return talkers.get(userId);
}

function wavMillis(url) {
  const header = fromDataUrl(url.slice(0, url.indexOf(",") + 61)); // the first 45 bytes: enough for the header
  const view = new DataView(header.buffer);
  return header.length >= 44 ? Math.round((view.getUint32(40, true) / view.getUint32(28, true)) * 1000) : 0;
}

function renderClips() {
  const list = document.getElementById("clips");
  if (!list) return;
  list.replaceChildren(
    ...state.clips.map((clip) =>
      h(
        "li",
        {},
        h("strong", {}, clip.from),
        " ",
        h("time", {}, new Date(clip.at).toLocaleTimeString()),
        h("a", { href: clip.url, download: `clip-${clip.at}.wav`, class: "clip" }, `${clip.ms || CLIP_MS} ms WAV`),
      ),
    ),
  );
  document.getElementById("no-clips").hidden = state.clips.length > 0;
}

// --- start ------------------------------------------------------------------------------------------------

const saved = storedSession();
if (saved) start(saved);
else showAuth("sign-in");
