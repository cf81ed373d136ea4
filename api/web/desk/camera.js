// The camera input: frames of getUserMedia drawn to a canvas and handed to the engine's QR
// decoder a few times a second. The camera stops when the page hides.

const FRAMES_PER_SECOND = 5;
// The same code seen again within this time is the same person still holding it up.
const REPEAT_MS = 4000;

export class Camera {
  /** `decode(rgba, width, height)` → text or null; `found(text)` gets each new code. */
  constructor(video, canvas, decode, found) {
    this.video = video;
    this.canvas = canvas;
    this.decode = decode;
    this.found = found;
    this.stream = null;
    this.timer = null;
    this.last = { text: null, at: 0 };
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stop();
    });
    addEventListener("pagehide", () => this.stop());
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    this.timer = setInterval(() => this.frame(), 1000 / FRAMES_PER_SECOND);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
    }
    this.stream = null;
    this.video.srcObject = null;
  }

  frame() {
    const { videoWidth: width, videoHeight: height } = this.video;
    if (!width || !height) return;
    this.canvas.width = width;
    this.canvas.height = height;
    const context = this.canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(this.video, 0, 0, width, height);
    const image = context.getImageData(0, 0, width, height);
    let text = null;
    try {
      text = this.decode(image.data, width, height);
    } catch {
      return;
    }
    if (!text) return;
    const now = performance.now();
    if (text === this.last.text && now - this.last.at < REPEAT_MS) {
      this.last.at = now;
      return;
    }
    this.last = { text, at: now };
    this.found(text);
  }
}
