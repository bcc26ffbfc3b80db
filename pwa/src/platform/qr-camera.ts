// Reads QR codes from the camera: frames of a <video> drawn to a canvas and decoded with jsQR,
// which loads only when a scan starts (it is not part of the first load).

export interface QrScan {
  stop(): void;
}

const FRAME_MS = 120;

/**
 * Shows the rear camera in `video` and calls `onCode` with the first QR text it reads, then stops.
 * Rejects with the browser's error when there is no camera or the user refused it.
 */
export async function scanQr(video: HTMLVideoElement, onCode: (text: string) => void): Promise<QrScan> {
  const { default: jsQR } = await import("jsqr");
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true })!;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  const look = () => {
    if (video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "attemptBoth" });
      if (code?.data) {
        stop();
        onCode(code.data);
        return;
      }
    }
    timer = setTimeout(look, FRAME_MS);
  };
  look();
  return { stop };
}
