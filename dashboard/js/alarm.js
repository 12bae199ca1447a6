// Critical alerts: a banner across the wall and a beep drawn with WebAudio (no audio file).
import { byId } from "./dom.js";
import { label, localized, t } from "./i18n.js";

const SOUND_KEY = "ioc.sound";

export class Alarm {
  constructor() {
    this.state = null;
    this.onOpen = () => {};
    this.banner = byId("banner");
    this.text = byId("banner-text");
    this.soundButton = byId("btn-sound");
    this.dismissed = new Set();
    this.audio = null;
    this.soundOn = localStorage.getItem(SOUND_KEY) !== "off";
    byId("banner-open").addEventListener("click", () => this.current() && this.onOpen(this.current().id));
    this.text.addEventListener("click", () => this.current() && this.onOpen(this.current().id));
    byId("banner-dismiss").addEventListener("click", () => this.dismiss());
    this.soundButton.addEventListener("click", () => this.toggleSound());
    this.renderSound();
  }

  attach(state) {
    this.state = state;
    state.on("alert", (change) => this.onAlert(change));
  }

  /** Browsers only let a page make sound after a user gesture: call this from one (login, a click). */
  unlock() {
    if (!this.audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      this.audio = new Ctx();
    }
    if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
  }

  onAlert({ alert, isNew, live }) {
    if (alert.severity !== "critical") return;
    if (isNew && live && alert.status === "new") this.beep();
    this.render();
  }

  /** The newest critical alert nobody has acknowledged or hidden yet. */
  current() {
    if (!this.state) return undefined;
    return this.state.sortedAlerts().find(
      (a) => a.severity === "critical" && a.status === "new" && !this.dismissed.has(a.id),
    );
  }

  render() {
    const alert = this.current();
    this.banner.hidden = !alert;
    if (!alert) delete this.banner.dataset.alertId;
    if (!alert) return;
    this.banner.dataset.alertId = alert.id;
    const camera = this.state.cameraName(alert.camera_id);
    const msg = localized(alert.message);
    this.text.textContent = `${label("rule", alert.rule_type)} — ${camera}${msg ? ` — ${msg}` : ""}`;
  }

  dismiss() {
    const alert = this.current();
    if (alert) this.dismissed.add(alert.id);
    this.render();
  }

  toggleSound() {
    this.soundOn = !this.soundOn;
    localStorage.setItem(SOUND_KEY, this.soundOn ? "on" : "off");
    this.unlock();
    this.renderSound();
  }

  renderSound() {
    this.soundButton.textContent = this.soundOn ? t("sound.on") : t("sound.off");
    this.soundButton.dataset.sound = this.soundOn ? "on" : "off";
  }

  /** Three short two-tone beeps. */
  beep() {
    if (!this.soundOn || !this.audio || this.audio.state !== "running") return;
    const ctx = this.audio;
    const start = ctx.currentTime + 0.02;
    for (let i = 0; i < 3; i += 1) {
      const at = start + i * 0.32;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.setValueAtTime(988, at);
      osc.frequency.setValueAtTime(784, at + 0.12);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.24);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.26);
    }
    this.beeps = (this.beeps ?? 0) + 1;
    document.body.dataset.beeps = String(this.beeps);
  }
}
