import { renderSVG } from "uqr";
import type { Locale } from "../i18n/translate.js";
import type { DeviceInfo, DeviceLinkOffer, EmsgClient } from "./core-types.js";
import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";
import { formatLocale } from "./time-format.js";

export interface DeviceRow {
  deviceId: string;
  label: string;
  added: string;
  current: boolean;
}

/** A link code on screen: the text, its QR code, and when it stops working. */
export interface LinkOfferView {
  code: string;
  qrSvg: string;
  expires: number;
}

/** The link code as SVG QR; dark modules on white so any camera reads it, in any theme. */
export function linkQrSvg(code: string): string {
  return renderSVG(code, { border: 2, ecc: "L", whiteColor: "#ffffff", blackColor: "#111111" });
}

/** "m:ss" left until `expires`, never negative. */
export function countdown(expires: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((expires - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * What the device list asks of the core: the core itself in the PWA; in the extension, requests to
 * its background, which holds the keys (`thisDevice` is answered there from this device's certificate).
 */
export type DevicesClient = {
  devices(): Promise<DeviceInfo[]>;
  startDeviceLink(): Promise<DeviceLinkOffer>;
  removeDevice(deviceId: string): Promise<void>;
  thisDevice(): DeviceInfo | Promise<DeviceInfo>;
  readonly events: Pick<EmsgClient["events"], "on">;
};

export interface DevicesContext {
  readonly client: DevicesClient;
  readonly locale: Locale;
}

function rowOf(device: DeviceInfo, locale: string): DeviceRow {
  return {
    deviceId: device.deviceId,
    label: device.label || device.deviceId.slice(0, 8),
    added: new Date(device.created).toLocaleDateString(formatLocale(locale)),
    current: device.current,
  };
}

/**
 * The account's devices in Settings: the list from the server (each certificate checked by the
 * core), linking a new device with a code shown as text and QR, and removing a device.
 */
export class DevicesViewModel extends Observable {
  readonly #ctx: DevicesContext;
  rows: DeviceRow[] = [];
  offer: LinkOfferView | null = null;
  /** The label of the device that just joined through the offer shown, while it is on the account. */
  linked: string | null = null;
  #linkedId: string | null = null;
  removing: string | null = null;
  error: string | null = null;
  busy = false;

  constructor(ctx: DevicesContext) {
    super();
    this.#ctx = ctx;
    ctx.client.events.on("devices", ({ change, deviceId }) => void this.#onChange(change, deviceId));
  }

  /** Falls back to this device alone while the server cannot be asked. */
  async load(): Promise<void> {
    try {
      this.rows = (await this.#ctx.client.devices()).map((d) => rowOf(d, this.#ctx.locale));
      // A device linked a moment ago and removed since is no longer "now linked".
      if (this.#linkedId !== null && !this.rows.some((r) => r.deviceId === this.#linkedId)) this.linked = this.#linkedId = null;
    } catch (error) {
      if (this.rows.length === 0) {
        try {
          this.rows = [rowOf(await this.#ctx.client.thisDevice(), this.#ctx.locale)];
        } catch {
          // No account here any more: the sentence below is all there is to show.
        }
      }
      this.error = errorSentence(error);
    }
    this.changed();
  }

  async #onChange(change: "added" | "removed", deviceId: string): Promise<void> {
    await this.load();
    if (change === "added" && this.offer) {
      this.linked = this.rows.find((r) => r.deviceId === deviceId)?.label ?? deviceId.slice(0, 8);
      this.#linkedId = deviceId;
      this.offer = null;
      this.changed();
    }
  }

  async startLink(): Promise<void> {
    this.busy = true;
    this.error = null;
    this.linked = this.#linkedId = null;
    this.changed();
    try {
      const offer: DeviceLinkOffer = await this.#ctx.client.startDeviceLink();
      this.offer = { code: offer.code, qrSvg: linkQrSvg(offer.code), expires: offer.expires };
    } catch (error) {
      this.error = errorSentence(error);
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  closeLink(): void {
    this.offer = null;
    this.changed();
  }

  expired(now: number): boolean {
    return this.offer !== null && now >= this.offer.expires;
  }

  askRemove(deviceId: string | null): void {
    this.removing = deviceId;
    this.changed();
  }

  async remove(deviceId: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.changed();
    try {
      await this.#ctx.client.removeDevice(deviceId);
      this.removing = null;
      await this.load();
    } catch (error) {
      this.error = errorSentence(error);
    } finally {
      this.busy = false;
      this.changed();
    }
  }
}
