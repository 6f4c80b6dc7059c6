// What the app knows right now, and the notice line every part reports to.
import { ApiError } from "./api.js";
import { ClipPlayer } from "./audio.js";

export const state = {
  session: null, // {username, sub, accessToken, refreshToken}
  api: null,
  realtime: null,
  rooms: [],
  room: null, // {id, name, ...}
  roomSubscriptions: [],
  messages: new Map(), // id -> message
  editing: null, // {id, draft}
  attachment: null, // File
  clips: [], // received: {from, at, url, ms}
  clipsSent: 0,
  recorder: null,
  player: new ClipPlayer(),
};

const notice = document.getElementById("notice");

export function say(text, isError = false) {
  notice.textContent = text;
  notice.classList.toggle("error", isError);
}

export function failed(error) {
  say(error instanceof ApiError ? `${error.message} (${error.type})` : String(error.message || error), true);
}

/** A form's submit handler: runs `action(values)` with the buttons disabled, reporting what goes wrong. */
export async function submit(event, action) {
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
