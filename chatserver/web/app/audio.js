// Push-to-talk: record the microphone into standalone ~250 ms WAV clips; play received clips in arrival order.
import { encodeWav, fromDataUrl, toDataUrl } from "./wav.js";

export const CLIP_MS = 250;
const START_DELAY_S = 0.15; // a little buffer when a burst of clips starts, so network jitter does not cut it

export class Recorder {
  #onClip;
  #starting = null;
  #parts = null; // {stream, context, tap}
  #chunks = [];
  #frames = 0;
  #clipFrames = 0;

  /** `onClip(dataUrl)` gets each clip as a `data:audio/wav;base64,...` URL. */
  constructor(onClip) {
    this.#onClip = onClip;
  }

  get recording() {
    return this.#starting !== null;
  }

  start() {
    if (!this.#starting) this.#starting = this.#open();
    return this.#starting;
  }

  async #open() {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
    const context = new AudioContext();
    await context.audioWorklet.addModule(new URL("./pcm-tap-worklet.js", import.meta.url));
    const source = context.createMediaStreamSource(stream);
    const tap = new AudioWorkletNode(context, "pcm-tap");
    const silent = context.createGain();
    silent.gain.value = 0; // the tap must be pulled by the destination to run; nobody should hear it
    source.connect(tap).connect(silent).connect(context.destination);
    this.#clipFrames = Math.round((context.sampleRate * CLIP_MS) / 1000);
    tap.port.onmessage = (event) => this.#collect(event.data, context.sampleRate);
    this.#parts = { stream, context, tap };
  }

  async stop() {
    if (!this.#starting) return;
    try {
      await this.#starting;
    } finally {
      this.#starting = null;
    }
    const { stream, context, tap } = this.#parts;
    tap.port.onmessage = null;
    if (this.#frames > 0) this.#emit(this.#frames, context.sampleRate); // the last, shorter clip
    stream.getTracks().forEach((track) => track.stop());
    await context.close();
    this.#parts = null;
  }

  #collect(samples, sampleRate) {
    this.#chunks.push(samples);
    this.#frames += samples.length;
    while (this.#frames >= this.#clipFrames) this.#emit(this.#clipFrames, sampleRate);
  }

  #emit(count, sampleRate) {
    const clip = new Float32Array(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, count - filled);
      clip.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#frames -= count;
    this.#onClip(toDataUrl(encodeWav(clip, sampleRate)));
  }
}

export class ClipPlayer {
  #context = null;
  #playAt = 0;
  #queue = Promise.resolve();

  /** Call from a user gesture (a click): browsers only let a page make sound after one. */
  unlock() {
    if (!this.#context) this.#context = new AudioContext();
    if (this.#context.state === "suspended") this.#context.resume().catch(() => {});
  }

  /** Play a clip after the ones before it, in the order they were given; `played()` runs when it has been heard. */
  enqueue(dataUrl, played = () => {}) {
    this.#queue = this.#queue.then(() => this.#play(dataUrl, played)).catch((error) => console.warn("clip not played:", error));
  }

  async #play(dataUrl, played) {
    if (!this.#context) return;
    const buffer = await this.#context.decodeAudioData(fromDataUrl(dataUrl).buffer);
    const source = this.#context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#context.destination);
    source.onended = played;
    const now = this.#context.currentTime;
    const at = this.#playAt > now ? this.#playAt : now + START_DELAY_S;
    source.start(at);
    this.#playAt = at + buffer.duration;
  }

  close() {
    if (this.#context) this.#context.close().catch(() => {});
    this.#context = null;
  }
}
