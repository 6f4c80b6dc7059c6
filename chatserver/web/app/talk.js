// Push-to-talk: hold the button to send ~250 ms WAV clips with createAudioSegment; play what others send.
import { CLIP_MS, Recorder } from "./audio.js";
import { h } from "./dom.js";
import * as ops from "./operations.js";
import { failed, state } from "./state.js";
import { fromDataUrl } from "./wav.js";

const KEPT_CLIPS = 20;

/** The Push to talk button: pointer held (mouse, touch, pen) or Space/Enter held. */
export function talkButton() {
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
  return talk;
}

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

export async function stopTalking() {
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

export function heard(segment) {
  if (segment.userId === state.session.sub) return; // our own voice: not played back
  const clip = { from: "someone", at: Number(segment.timestamp), url: segment.data, ms: wavMillis(segment.data), played: false };
  state.player.enqueue(segment.data, () => {
    clip.played = true;
    renderClips();
  });
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

export function renderClips() {
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
        clip.played ? h("span", { class: "played" }, "played") : null,
      ),
    ),
  );
  document.getElementById("no-clips").hidden = state.clips.length > 0;
}
